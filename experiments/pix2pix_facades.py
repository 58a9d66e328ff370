"""pix2pix on CMP Facades: architectural label map -> photo.

    python experiments/pix2pix_facades.py [--epochs 200] [--data-dir ../shared/data] [--out runs/pix2pix_facades]

The paper's recipe: 256x256, batch 1, U-Net G, 70x70 PatchGAN D, bce + 100 L1,
Adam(2e-4, 0.5), random jitter (286 -> 256 crop, mirror) done inside the
compiled step. The facades files hold photo|label side by side, so label ->
photo is --direction BtoA. Every epoch: triptychs of fixed validation pairs
and the validation split's L1/PSNR/SSIM; at the end an HTML gallery of the
validation split and the translator SavedModel. Re-run to resume.
"""

from tfgan_zoo import Pix2Pix, experiment
from tfgan_zoo.data import load_side_by_side, paired_dataset, resolve_paired_dir


def main():
    parser = experiment.family_parser(__doc__, Pix2Pix, exclude=("input_channels", "output_channels"),
                                      epochs=200, batch_size=1, eval_every=1, out="runs/pix2pix_facades")
    experiment.data_arguments(parser).add_argument(
        "--direction", choices=("AtoB", "BtoA"), default="BtoA", help="BtoA: label map (right half) -> photo (left half)"
    )
    spec = parser.parse_spec()
    strategy = experiment.configure(spec)

    with experiment.loading(spec):
        root = resolve_paired_dir("facades", spec.run.data_dir)
        direction, size = spec.data["direction"], spec.model["image_size"]
        train_inputs, train_targets, _ = load_side_by_side(root / "train", direction, size)
        validation = load_side_by_side(root / "val", direction, size)
        spec = spec.with_sources(source=root, train_count=len(train_inputs), val_count=len(validation[0]))
    dataset = paired_dataset(train_inputs, train_targets, batch_size=spec.data["batch_size"], seed=spec.run.seed)
    with strategy.scope():
        model = experiment.build(Pix2Pix, spec, input_channels=train_inputs.shape[-1],
                                 output_channels=train_targets.shape[-1])
    experiment.run(model, dataset, spec, experiment.PairedTranslation(validation))


if __name__ == "__main__":
    experiment.main(main)
