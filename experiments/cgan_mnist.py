"""Conditional GAN on MNIST (or Fashion-MNIST with --dataset fashion_mnist).

    python experiments/cgan_mnist.py [--epochs 15] [--data-dir ../shared/data] [--out runs/cgan_mnist]

Writes per-epoch sample sheets (one row per class), CSV/TensorBoard logs,
resumable checkpoints and the generator SavedModel into the run directory, and every
5 epochs scores samples (domain-FID/KID, precision/recall, label accuracy), keeping the best epoch.
"""

import tfgan_zoo
from tfgan_zoo import experiment
from tfgan_zoo.data import image_dataset, load_idx_dataset
from tfgan_zoo.data.idx import CLASS_NAMES


def main():
    parser = experiment.base_parser(__doc__, epochs=15, batch_size=64)
    args = experiment.add_mnist_gan_arguments(parser).parse_args()
    args.out = args.out or f"runs/cgan_{args.dataset}"
    strategy, runtime = experiment.configure(args)

    images, labels = load_idx_dataset(args.dataset, "train", args.data_dir)
    test_images, _ = load_idx_dataset(args.dataset, "test", args.data_dir)
    evaluator = experiment.domain_evaluator(args, images, labels, test_images, conditional=True)
    dataset = image_dataset(images, labels, batch_size=args.batch_size, seed=args.seed)
    with strategy.scope():
        gan = tfgan_zoo.ConditionalGAN(
            latent_dim=args.latent_dim, num_classes=10, image_shape=images.shape[1:],
            g_filters=args.g_filters, d_filters=args.d_filters, seed=args.seed,
        )
        experiment.compile_gan(gan, args, runtime)
    config = {**vars(args), **runtime, "model": "ConditionalGAN", "class_names": CLASS_NAMES[args.dataset]}
    experiment.run(gan, dataset, args, config, evaluator)


if __name__ == "__main__":
    main()
