"""DCGAN on MNIST (or Fashion-MNIST with --dataset fashion_mnist).

    python experiments/dcgan_mnist.py [--epochs 15] [--data-dir ../shared/data] [--out runs/dcgan_mnist]

Writes per-epoch sample sheets, CSV/TensorBoard logs, resumable checkpoints
and the generator SavedModel into the run directory, and every 5 epochs scores
samples (domain-FID/KID, precision/recall), keeping the best epoch.
"""

from tfgan_zoo import DCGAN, experiment
from tfgan_zoo.data import image_dataset, load_idx_dataset, resolve_idx_dir


def main():
    parser = experiment.family_parser(__doc__, DCGAN, epochs=15, batch_size=64)
    experiment.data_arguments(parser).add_argument("--dataset", choices=("mnist", "fashion_mnist"), default="mnist")
    args = parser.parse_args()
    args.out = args.out or f"runs/dcgan_{args.dataset}"
    strategy = experiment.configure(args)

    images, labels = load_idx_dataset(args.dataset, "train", args.data_dir)
    test_images, _ = load_idx_dataset(args.dataset, "test", args.data_dir)
    source = resolve_idx_dir(args.dataset, args.data_dir) or f"tensorflow_datasets:{args.dataset}"
    experiment.record_data(args, source=source, train=(images, labels))
    evaluator = experiment.domain_evaluator(args, images, labels, test_images, conditional=False)
    dataset = image_dataset(images, batch_size=args.batch_size, seed=args.seed)
    with strategy.scope():
        gan = experiment.build(DCGAN, args, image_shape=images.shape[1:])
    experiment.run(gan, dataset, args, experiment.Generation(evaluator), parser)


if __name__ == "__main__":
    experiment.main(main)
