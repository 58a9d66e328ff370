"""DCGAN on any folder of your own images (64x64 colour by default).

    python experiments/dcgan_folder.py --images ~/pictures/faces [--epochs 50] [--out runs/my_faces]

The DCGAN paper's networks at 64x64, with the small-data aids on by default:
DiffAugment (colour, translation, cutout) on every image D sees, and samples
and exports from an exponential moving average of G (``--ema-decay 0`` and
``--diffaugment ''`` turn them off; ``--d-spectral-norm --d-norm none`` adds
spectral normalization in D). Unreadable files are skipped and listed
(``--strict`` stops on them). Writes per-epoch sample sheets, logs,
resumable checkpoints, latent walks (``interpolation.png``) and the generator
SavedModel; every ``--eval-every`` epochs, FID/KID in the features of a network
trained on the folder itself (rotation prediction, as there are no labels).
"""

from tfgan_zoo import DCGAN, experiment
from tfgan_zoo.data import image_dataset

# The small-data aids, on by default for your own images.
SMALL_DATA_RECIPE = {"diffaugment": "color,translation,cutout", "ema_decay": 0.999}


def main():
    parser = experiment.family_parser(__doc__, DCGAN, epochs=50, batch_size=64, eval_every=10,
                                      out="runs/dcgan_folder", **SMALL_DATA_RECIPE)
    spec = experiment.add_image_folder_arguments(parser).parse_spec()
    strategy = experiment.configure(spec)

    folder, spec = experiment.load_folder(spec, labelled=False)
    evaluator = experiment.folder_evaluator(spec, folder, conditional=False)
    dataset = image_dataset(folder.images, batch_size=spec.data["batch_size"], seed=spec.run.seed)
    with strategy.scope():
        gan = experiment.build(DCGAN, spec, image_shape=folder.images.shape[1:])
    experiment.run(gan, dataset, spec, experiment.Generation(evaluator))


if __name__ == "__main__":
    experiment.main(main)
