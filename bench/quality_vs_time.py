"""Sample quality against training time for the MNIST experiments.

    python bench/quality_vs_time.py cgan [--data-dir ../shared/data] [--every 3]
    python bench/quality_vs_time.py dcgan [--data-dir ../shared/data]

Trains the model with the defaults of ``experiments/{cgan,dcgan}_mnist.py``
(same flags) and, every ``--every`` epochs and at the last, scores
``--num-samples`` generated images in the domain classifier's feature space
against 10,000 training images: domain-FID, domain-KID (100 subsets of
1,000, with std), precision/recall (k=3) and, for cgan, label accuracy. The
clock counts training only: evaluation time is excluded. Prints a markdown
table (paste into BENCHMARKS.md) and the real-vs-real floor (as many MNIST
test images as samples, against the same reference); writes the rows to
``bench/results/quality_vs_time_<model>.json``.
"""

import json
import math
import os
import time
from pathlib import Path

import keras

import tfgan_zoo
from tfgan_zoo import experiment, metrics
from tfgan_zoo.callbacks import EvaluateGAN, ProgbarLogger
from tfgan_zoo.data import image_dataset, load_idx_dataset

HERE = Path(__file__).parent


class TrainingClock(keras.callbacks.Callback):
    """Adds ``train_minutes`` (training time so far, callbacks after it excluded) to the logs."""

    def on_train_begin(self, logs=None):
        self.elapsed = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.elapsed += time.perf_counter() - self.started
        logs["train_minutes"] = self.elapsed / 60


def main():
    parser = experiment.family_parser(__doc__, tfgan_zoo.ConditionalGAN, exclude=("num_classes",), epochs=15)
    parser.add_argument("model", choices=("cgan", "dcgan"))
    parser.add_argument("--dataset", choices=("mnist", "fashion_mnist"), default="mnist")
    parser.add_argument("--every", type=int, default=3, help="evaluate every N epochs (and at the last)")
    parser.add_argument("--num-samples", type=int, default=10000)
    parser.add_argument("--cache", default=str(HERE / "cache"), help="where the domain classifier is cached")
    spec = parser.parse_spec()
    bench = spec.extra  # this bench's own options

    train_images, train_labels = load_idx_dataset(bench["dataset"], "train", spec.run.data_dir)
    test_images, _ = load_idx_dataset(bench["dataset"], "test", spec.run.data_dir)
    # Built before configure() sets the GAN's dtype policy: the classifier stays float32.
    classifier = metrics.domain_classifier(
        train_images, train_labels, 10, cache_path=Path(bench['cache']) / f"{bench['dataset']}_classifier.keras"
    )
    experiment.configure(spec)
    conditional = bench["model"] == "cgan"
    evaluator = metrics.GANEvaluator(
        metrics.DomainFeatures(classifier), train_images, held_out=test_images[: bench["num_samples"]],
        classifier=classifier if conditional else None, num_classes=10 if conditional else 0,
    )

    dataset = image_dataset(train_images, train_labels if conditional else None, spec.data["batch_size"], seed=spec.run.seed)
    if conditional:
        gan = experiment.build(tfgan_zoo.ConditionalGAN, spec, num_classes=10, image_shape=train_images.shape[1:])
    else:
        gan = experiment.build(tfgan_zoo.DCGAN, spec, image_shape=train_images.shape[1:])
    scorer = EvaluateGAN(evaluator, num_samples=bench["num_samples"], every=bench["every"], verbose=False)
    history = gan.fit(
        dataset, epochs=spec.run.epochs, steps_per_epoch=spec.run.steps_per_epoch,
        callbacks=[TrainingClock(), scorer, ProgbarLogger()], verbose=2, shuffle=False,
    ).history

    names = scorer.figure_names
    rows = [
        {"epoch": epoch + 1, "train_minutes": history["train_minutes"][epoch],
         **{name: history[name][epoch] for name in names}}
        for epoch in range(len(history["train_minutes"]))
        if math.isfinite(history[names[0]][epoch])
    ]
    protocol = evaluator.protocol(bench["num_samples"])
    result = {"model": f"{bench['model']}_{bench['dataset']}", "precision": gan.dtype_policy.name,
              "cores": os.cpu_count(), "rows": rows, "protocol": protocol}
    out = HERE / "results" / f"quality_vs_time_{bench['model']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))

    print(f"\n{bench['model']}_{bench['dataset']}, {gan.dtype_policy.name}, {os.cpu_count()} cores; protocol: "
          f"{bench['num_samples']} samples vs {protocol['num_reference']} {protocol['reference_split']} images")
    print("| epoch | train min | " + " | ".join(names) + " |")
    print("|" + " --- |" * (len(names) + 2))
    for row in rows:
        print(f"| {row['epoch']} | {row['train_minutes']:.1f} | " + " | ".join(f"{row[n]:.4g}" for n in names) + " |")
    floor = protocol["real_floor"]
    print("| real test split (floor) | – | " + " | ".join(
        f"{floor[n]:.4g}" if n in floor else "–" for n in names) + " |")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
