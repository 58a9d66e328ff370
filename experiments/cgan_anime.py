"""Conditional GAN on anime faces: one hair (or eye) colour per label, 64x64 colour.

    python experiments/cgan_anime.py [--label-column hair|eye] [--epochs 40] [--data-dir ../shared/data]

Reads ``anime_faces/images`` and ``anime_faces/tags.csv`` through the image-
folder loader (any folder with a labels CSV works the same way: pass
``--images DIR --labels FILE.csv``). G gets the colour's one-hot vector with
the noise, D as constant maps beside the image. DiffAugment and the EMA
generator are on by default. Writes one sample row per colour each epoch,
logs, resumable checkpoints, latent walks at fixed colours
(``interpolation.png``) and the SavedModel (``generate``/``sample`` take
class ids: the colour names, in order, are in ``RUN/config.json`` and the
export's ``tfgan_zoo.json``); every
``--eval-every`` epochs, FID/KID in the features of a hair-colour classifier
trained on the set, and the label accuracy of the samples.
"""

from tfgan_zoo import ConditionalGAN, experiment
from tfgan_zoo.data import image_dataset, resolve_paired_dir

SMALL_DATA_RECIPE = {"diffaugment": "color,translation,cutout", "ema_decay": 0.999}


def main():
    parser = experiment.family_parser(__doc__, ConditionalGAN, exclude=("num_classes",), epochs=40, batch_size=64,
                                      eval_every=10, out="runs/cgan_anime_{label_column}", **SMALL_DATA_RECIPE)
    parser = experiment.add_image_folder_arguments(parser)
    parser.set_defaults(label_column="hair")
    spec = parser.parse_spec(complete=anime_faces)
    strategy = experiment.configure(spec)

    folder, spec = experiment.load_folder(spec, labelled=True)
    evaluator = experiment.folder_evaluator(spec, folder, conditional=True)
    dataset = image_dataset(folder.images, folder.labels, batch_size=spec.data["batch_size"], seed=spec.run.seed)
    with strategy.scope():
        gan = experiment.build(ConditionalGAN, spec, num_classes=folder.num_classes,
                               image_shape=folder.images.shape[1:])
    experiment.run(gan, dataset, spec, experiment.Generation(evaluator, folder.class_names))


def anime_faces(spec):
    """The spec on the shared anime faces and their tags, unless --images names another folder."""
    if spec.data["images"]:
        return spec
    anime = resolve_paired_dir("anime_faces", spec.run.data_dir)
    return spec.with_data(images=str(anime / "images"), labels=spec.data["labels"] or str(anime / "tags.csv"))


if __name__ == "__main__":
    experiment.main(main)
