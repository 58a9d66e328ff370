"""DCGAN on any folder of your own images (64x64 colour by default).

    python experiments/dcgan_folder.py --images ~/pictures/faces [--epochs 50] [--out runs/my_faces]

The DCGAN paper's networks at 64x64, with the small-data aids on by default:
DiffAugment (colour, translation, cutout) on every image D sees, and samples
and exports from an exponential moving average of G (``--ema-decay 0`` and
``--diffaugment ''`` turn them off; ``--spectral-norm --d-norm none`` adds
spectral normalization in D). Unreadable files are skipped and listed
(``--strict`` stops on them). Writes per-epoch sample sheets, logs,
resumable checkpoints, latent walks (``interpolation.png``) and the generator
SavedModel; every ``--eval-every`` epochs, FID/KID in the features of a network
trained on the folder itself (rotation prediction, as there are no labels).
"""

from tfgan_zoo import experiment
from tfgan_zoo.data import image_dataset


def main():
    parser = experiment.base_parser(__doc__, epochs=50, batch_size=64, eval_every=10)
    args = experiment.add_image_gan_arguments(parser).parse_args()
    args.out = args.out or "runs/dcgan_folder"
    strategy, runtime = experiment.configure(args)

    folder = experiment.load_folder(args, labelled=False)
    args.labels = None  # unconditional: labels, if given, only pick the images
    evaluator = experiment.folder_evaluator(args, folder, conditional=False)
    dataset = image_dataset(folder.images, batch_size=args.batch_size, seed=args.seed)
    with strategy.scope():
        gan = experiment.build_image_gan(args, folder, conditional=False)
        experiment.compile_gan(gan, args, runtime)
    experiment.run(gan, dataset, args, {**vars(args), **runtime, "model": "DCGAN"}, evaluator)


if __name__ == "__main__":
    main()
