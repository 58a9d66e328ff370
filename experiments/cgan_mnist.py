"""Conditional GAN on MNIST (or Fashion-MNIST with --dataset fashion_mnist).

    python experiments/cgan_mnist.py [--epochs 15] [--data-dir ../shared/data] [--out runs/cgan_mnist]

Writes per-epoch sample sheets (one row per class), CSV/TensorBoard logs,
resumable checkpoints and the generator SavedModel into the run directory.
"""

import keras

import tfgan_zoo
from tfgan_zoo import experiment
from tfgan_zoo.data import image_dataset, load_idx_dataset


def main():
    parser = experiment.base_parser(__doc__, epochs=15, batch_size=64, out="runs/cgan_mnist")
    parser.add_argument("--dataset", choices=("mnist", "fashion_mnist"), default="mnist")
    parser.add_argument("--latent-dim", type=int, default=100)
    parser.add_argument("--g-filters", type=int, default=64)
    parser.add_argument("--d-filters", type=int, default=64)
    parser.add_argument("--loss", default="bce", choices=("bce", "lsgan", "hinge"))
    parser.add_argument("--g-steps", type=int, default=1, help="G updates per D update")
    parser.add_argument("--lr", type=float, default=2e-4)
    args = parser.parse_args()
    if args.out == "runs/cgan_mnist" and args.dataset != "mnist":
        args.out = f"runs/cgan_{args.dataset}"
    runtime = experiment.configure(args)

    images, labels = load_idx_dataset(args.dataset, "train", args.data_dir)
    dataset = image_dataset(images, labels, batch_size=args.batch_size, seed=args.seed)

    gan = tfgan_zoo.ConditionalGAN(
        latent_dim=args.latent_dim, num_classes=10, image_shape=images.shape[1:],
        g_filters=args.g_filters, d_filters=args.d_filters, seed=args.seed,
    )
    gan.compile(
        d_optimizer=keras.optimizers.Adam(args.lr, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(args.lr, beta_1=0.5),
        loss=args.loss, g_steps=args.g_steps, jit_compile=runtime["jit_compile"],
    )
    config = {**vars(args), **runtime, "model": "ConditionalGAN"}
    experiment.run(gan, dataset, args, config)


if __name__ == "__main__":
    main()
