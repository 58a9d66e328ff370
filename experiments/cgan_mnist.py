"""Conditional GAN on MNIST (or Fashion-MNIST with --dataset fashion_mnist).

    python experiments/cgan_mnist.py [--epochs 15] [--data-dir ../shared/data] [--out runs/cgan_mnist]

Writes per-epoch sample sheets (one row per class), CSV/TensorBoard logs,
resumable checkpoints and the generator SavedModel into the run directory, and every
5 epochs scores samples (domain-FID/KID, precision/recall, label accuracy), keeping the best epoch.
"""

from tfgan_zoo import ConditionalGAN, experiment
from tfgan_zoo.data import image_dataset
from tfgan_zoo.data.idx import CLASS_NAMES


def main():
    parser = experiment.family_parser(__doc__, ConditionalGAN, exclude=("num_classes",), epochs=15, batch_size=64,
                                      out="runs/cgan_{dataset}")
    experiment.data_arguments(parser).add_argument("--dataset", choices=("mnist", "fashion_mnist"), default="mnist")
    spec = parser.parse_spec()
    strategy = experiment.configure(spec)

    images, labels, test_images, spec = experiment.load_idx(spec)
    evaluator = experiment.domain_evaluator(spec, images, labels, test_images, conditional=True)
    dataset = image_dataset(images, labels, batch_size=spec.data["batch_size"], seed=spec.run.seed)
    with strategy.scope():
        gan = experiment.build(ConditionalGAN, spec, num_classes=10, image_shape=images.shape[1:])
    experiment.run(gan, dataset, spec, experiment.Generation(evaluator, CLASS_NAMES[spec.data['dataset']]))


if __name__ == "__main__":
    experiment.main(main)
