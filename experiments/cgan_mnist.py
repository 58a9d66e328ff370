"""Conditional GAN on MNIST (or Fashion-MNIST with --dataset fashion_mnist).

    python experiments/cgan_mnist.py [--epochs 15] [--data-dir ../shared/data] [--out runs/cgan_mnist]

Writes per-epoch sample sheets (one row per class), CSV/TensorBoard logs,
resumable checkpoints and the generator SavedModel into the run directory, and every
5 epochs scores samples (domain-FID/KID, precision/recall, label accuracy), keeping the best epoch.
"""

from tfgan_zoo import ConditionalGAN, experiment
from tfgan_zoo.data import image_dataset, load_idx_dataset, resolve_idx_dir
from tfgan_zoo.data.idx import CLASS_NAMES


def main():
    parser = experiment.family_parser(__doc__, ConditionalGAN, exclude=("num_classes",), epochs=15, batch_size=64)
    experiment.data_arguments(parser).add_argument("--dataset", choices=("mnist", "fashion_mnist"), default="mnist")
    args = parser.parse_args()
    args.out = args.out or f"runs/cgan_{args.dataset}"
    strategy = experiment.configure(args)

    images, labels = load_idx_dataset(args.dataset, "train", args.data_dir)
    test_images, _ = load_idx_dataset(args.dataset, "test", args.data_dir)
    source = resolve_idx_dir(args.dataset, args.data_dir) or f"tensorflow_datasets:{args.dataset}"
    experiment.record_data(args, source=source, train=(images, labels))
    evaluator = experiment.domain_evaluator(args, images, labels, test_images, conditional=True)
    dataset = image_dataset(images, labels, batch_size=args.batch_size, seed=args.seed)
    with strategy.scope():
        gan = experiment.build(ConditionalGAN, args, num_classes=10, image_shape=images.shape[1:])
    experiment.run(gan, dataset, args, experiment.Generation(evaluator, CLASS_NAMES[args.dataset]), parser)


if __name__ == "__main__":
    experiment.main(main)
