"""DCGAN on MNIST (or Fashion-MNIST with --dataset fashion_mnist).

    python experiments/dcgan_mnist.py [--epochs 15] [--data-dir ../shared/data] [--out runs/dcgan_mnist]

Writes per-epoch sample sheets, CSV/TensorBoard logs, resumable checkpoints
and the generator SavedModel into the run directory, and every 5 epochs scores
samples (domain-FID/KID, precision/recall), keeping the best epoch.
"""

from tfgan_zoo import DCGAN, experiment
from tfgan_zoo.data import image_dataset


def main():
    parser = experiment.family_parser(__doc__, DCGAN, epochs=15, batch_size=64, out="runs/dcgan_{dataset}")
    experiment.data_arguments(parser).add_argument("--dataset", choices=("mnist", "fashion_mnist"), default="mnist")
    spec = parser.parse_spec()
    strategy = experiment.configure(spec)

    images, labels, test_images, spec = experiment.load_idx(spec)
    evaluator = experiment.domain_evaluator(spec, images, labels, test_images, conditional=False)
    dataset = image_dataset(images, batch_size=spec.data["batch_size"], seed=spec.run.seed)
    with strategy.scope():
        gan = experiment.build(DCGAN, spec, image_shape=images.shape[1:])
    experiment.run(gan, dataset, spec, experiment.Generation(evaluator))


if __name__ == "__main__":
    experiment.main(main)
