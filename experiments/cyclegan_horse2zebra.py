"""CycleGAN on horse2zebra: unpaired horse <-> zebra translation.

    python experiments/cyclegan_horse2zebra.py [--epochs 200] [--image-size 128] [--data-dir ../shared/data]

The paper's recipe: ResNet generators (6 residual blocks at 128 px, 9 at 256),
70x70 PatchGAN discriminators, LSGAN loss, cycle loss 10, identity loss 5,
history pools of 50 generated images, Adam(2e-4, 0.5) with the learning rate
constant for the first half of the epochs and falling linearly to 0 over the
second, batch 1, random jitter (286/256 resize, crop, mirror) inside the
compiled step. 128 px by default: 256 px costs about 4x more per step on a CPU.

horse2zebra as shared here has no test split: 100 pictures per domain are held
out of trainA/trainB (by a hash of the file name; duplicates removed) as the
validation split. Every epoch: sample rows A | A->B | A->B->A and B | B->A |
B->A->B; every --eval-every epochs the validation split's FID/KID against the
target domain and the share a horse-vs-zebra classifier (trained on the train
split, cached) reads as the target domain, and the cycle L1. At the end: an
HTML gallery of the validation split and one SavedModel with signatures a_to_b
and b_to_a. Re-run the same command to resume.
"""

from tfgan_zoo import CycleGAN, experiment, options
from tfgan_zoo.data import load_unpaired, resolve_unpaired_dir, unpaired_dataset


def main():
    parser = experiment.family_parser(__doc__, CycleGAN, exclude=("channels",), epochs=200, batch_size=1,
                                      eval_every=5, image_size=128, out="runs/cyclegan_horse2zebra_{image_size}")
    experiment.data_arguments(parser).add_argument(
        "--val-count", type=experiment.ranged(options.Count), default=100,
        help="pictures per domain held out for validation",
    )
    spec = experiment.add_linear_decay_arguments(parser).parse_spec()
    strategy = experiment.configure(spec)

    with experiment.loading(spec):
        root = resolve_unpaired_dir("horse2zebra", spec.run.data_dir)
        cache, size, val_count = spec.run.cache_dir / "decoded", spec.model["image_size"], spec.data["val_count"]
        train_a, train_b, _, _ = load_unpaired(root, size, "train", val_count, cache_dir=cache)
        validation = load_unpaired(root, size, "val", val_count, cache_dir=cache)
        spec = spec.with_sources(source=root, train_count=[len(train_a), len(train_b)])
    batch_size = spec.data["batch_size"]
    dataset = unpaired_dataset(train_a, train_b, batch_size=batch_size, seed=spec.run.seed)
    # An epoch covers the larger domain once (the schedule counts in those epochs).
    spec = spec.with_run(steps_per_epoch=spec.run.steps_per_epoch or max(len(train_a), len(train_b)) // batch_size)
    with strategy.scope():
        model = experiment.build(CycleGAN, spec, learning_rate=experiment.linear_decay(spec, spec.run.steps_per_epoch),
                                 channels=train_a.shape[-1])
    evaluator = experiment.translation_evaluator(spec, (train_a, train_b), validation[:2], "horse2zebra")
    experiment.run(model, dataset, spec, experiment.UnpairedTranslation(validation, evaluator))

if __name__ == "__main__":
    experiment.main(main)
