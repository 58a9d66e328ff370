"""pix2pix line-art colorization on the anime faces: line art -> colour.

    python experiments/pix2pix_lineart.py [--epochs 20] [--data-dir ../shared/data] [--out runs/pix2pix_lineart]

Line art is made once from the colour images with OpenCV (greyscale, dilate,
difference, invert; see tfgan_zoo.data.lineart) into --pairs-dir, then read
as two folders with matching names. The last --val-count pairs (by file
name) are the validation split. 96x96 images, so the U-Net goes down 5 times
(to 3x3). Writes triptychs, validation L1/PSNR/SSIM, logs, checkpoints, an
HTML gallery and the translator SavedModel. Re-run to resume.
"""

from pathlib import Path

from tfgan_zoo import Pix2Pix, experiment, options
from tfgan_zoo.data import load_folder_pairs, make_lineart_pairs, paired_dataset, resolve_paired_dir


def main():
    parser = experiment.family_parser(__doc__, Pix2Pix, exclude=("input_channels", "output_channels"),
                                      epochs=20, batch_size=4, eval_every=1, image_size=96, g_depth=5,
                                      out="runs/pix2pix_lineart")
    data = experiment.data_arguments(parser)
    positive = experiment.ranged(options.Count)
    data.add_argument("--val-count", type=positive, default=191, help="pairs held out for validation")
    data.add_argument("--kernel-size", type=positive, default=3, help="dilation kernel of the line-art maker")
    parser.add_argument("--pairs-dir", default=None,
                        help="where the (lineart, color) pairs are written (default: CACHE_DIR/anime_faces_lineart)")
    spec = parser.parse_spec()
    strategy = experiment.configure(spec)

    with experiment.loading(spec):
        source = resolve_paired_dir("anime_faces", spec.run.data_dir) / "images"
        pairs = Path(spec.extra["pairs_dir"] or spec.run.cache_dir / "anime_faces_lineart")
        print(f"line-art pairs in {pairs}: {make_lineart_pairs(source, pairs, kernel_size=spec.data['kernel_size'])}")
        inputs, targets, names = load_folder_pairs(pairs / "lineart", pairs / "color", spec.model["image_size"])
        # The pairs are made from the source images: those (and --kernel-size) are the data.
        spec = spec.with_sources(source=source, pair_count=len(inputs))
    split = len(inputs) - spec.data["val_count"]
    dataset = paired_dataset(inputs[:split], targets[:split], batch_size=spec.data["batch_size"], seed=spec.run.seed)
    with strategy.scope():
        model = experiment.build(Pix2Pix, spec, input_channels=inputs.shape[-1], output_channels=targets.shape[-1])
    validation = (inputs[split:], targets[split:], names[split:])
    experiment.run(model, dataset, spec, experiment.PairedTranslation(validation))

if __name__ == "__main__":
    experiment.main(main)
