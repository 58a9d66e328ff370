"""Do the small-data aids help? DCGAN on anime faces, 64x64, with and without
DiffAugment, EMA and spectral normalization, on a 2,000-image subset and the full set.

    python bench/small_data_quality.py --data-dir ../shared/data [--steps 3000] [--eval-every 500]

Every setting trains in its own process for the same number of G steps
(batch 64, Adam 2e-4/0.5, the experiments' precision default) and is scored
every ``--eval-every`` steps. Each score uses ``--samples`` generated images
against all 3,191 real faces in the features of one hair-colour classifier
trained on the full set (cached in ``bench/cache/``): FID and KID (x1000) in
those features, from G itself (``g_``) and from its EMA (``ema_``); an EMA is
kept in every run, so "without EMA" and "with EMA" come from the same training.
Prints a table and writes ``bench/results/small_data_quality.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from timing import run_in_child  # noqa: E402

SETTINGS = {
    "2k": {"subset": 2000, "diffaugment": "", "spectral_norm": False},
    "2k+diffaugment": {"subset": 2000, "diffaugment": "color,translation,cutout", "spectral_norm": False},
    "2k+diffaugment+sn": {"subset": 2000, "diffaugment": "color,translation,cutout", "spectral_norm": True},
    "full": {"subset": None, "diffaugment": "", "spectral_norm": False},
    "full+diffaugment": {"subset": None, "diffaugment": "color,translation,cutout", "spectral_norm": False},
}


def _load(data_dir):
    from tfgan_zoo.data import load_image_folder, resolve_paired_dir

    anime = resolve_paired_dir("anime_faces", data_dir)
    return load_image_folder(anime / "images", 64, labels=anime / "tags.csv", label_column="hair")


def _scorer(folder):
    """(score(images) -> {fid, kid_x1000}, classifier validation accuracy): hair-colour
    features, all faces as the reference."""
    import numpy as np

    from tfgan_zoo import metrics

    order = np.random.default_rng(0).permutation(len(folder.images))
    images, labels = folder.images[order], folder.labels[order]
    classifier = metrics.domain_classifier(
        images, labels, folder.num_classes, cache_path=HERE / "cache" / "anime_hair_64px_classifier.keras",
        epochs=30, builder=metrics.build_colour_classifier, validation_split=0.1,
    )
    split = int(0.9 * len(images))
    accuracy = metrics.classifier_accuracy(classifier, images[split:], labels[split:])
    evaluator = metrics.GANEvaluator(
        metrics.DomainFeatures(classifier), folder.images, max_reference=None, measures=("fid", "kid"),
        kid_subsets=50, kid_subset_size=1000,
    )

    def score(fakes):
        figures = evaluator.evaluate(fakes).figures
        return {"fid": figures["domain_fid"], "kid_x1000": 1000 * figures["domain_kid"]}

    return score, accuracy


def child(setting: dict) -> dict:
    import keras
    import numpy as np

    import tfgan_zoo
    from tfgan_zoo import experiment
    from tfgan_zoo.data import image_dataset, to_uint8
    from tfgan_zoo.models.base import paper_adam

    folder = _load(setting["data_dir"])
    score, accuracy = _scorer(folder)
    train = folder.subset(setting["subset"], seed=0) if setting["subset"] else folder
    precision = experiment.default_precision()
    keras.mixed_precision.set_dtype_policy(precision)
    keras.utils.set_random_seed(0)
    gan = tfgan_zoo.DCGAN(
        latent_dim=100, image_shape=(64, 64, 3), g_filters=setting["filters"], d_filters=setting["filters"],
        d_norm="none" if setting["spectral_norm"] else "batch", d_spectral_norm=setting["spectral_norm"],
        diffaugment=setting["diffaugment"], ema_decay=0.999, seed=0,
    )
    gan.compile(d_optimizer=paper_adam(), g_optimizer=paper_adam(), jit_compile=False)
    dataset = image_dataset(train.images, batch_size=64, seed=0).repeat()
    noise = np.random.default_rng(1).standard_normal((setting["samples"], 100)).astype("float32")

    def images(averaged):
        return np.concatenate([np.asarray(to_uint8(gan.generate(noise[i : i + 500], averaged=averaged)))
                               for i in range(0, len(noise), 500)])

    curve, seconds = [], 0.0
    for _ in range(setting["steps"] // setting["eval_every"]):
        start = time.perf_counter()
        gan.fit(dataset, epochs=1, steps_per_epoch=setting["eval_every"], verbose=0)
        seconds += time.perf_counter() - start
        g, ema = score(images(False)), score(images(True))
        curve.append({"step": int(gan.g_optimizer.iterations), "seconds": round(seconds, 1),
                      **{f"g_{k}": v for k, v in g.items()}, **{f"ema_{k}": v for k, v in ema.items()}})
        print(json.dumps(curve[-1]), file=sys.stderr, flush=True)
    return {"train_images": len(train.images), "precision": precision, "classifier_val_accuracy": accuracy,
            "curve": curve}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="shared data root or the anime_faces folder")
    parser.add_argument("--steps", type=int, default=3000, help="G steps of every setting (batch 64)")
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--samples", type=int, default=2000, help="generated images per score")
    parser.add_argument("--filters", type=int, default=64, help="width of G's last and D's first layer")
    parser.add_argument("--settings", default=",".join(SETTINGS), help=f"comma-separated, from {list(SETTINGS)}")
    parser.add_argument("--results", type=Path, default=HERE / "results" / "small_data_quality.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return

    _scorer(_load(args.data_dir))  # trains and caches the classifier once
    results = {}
    for name in args.settings.split(","):
        setting = {**SETTINGS[name], "steps": args.steps, "eval_every": args.eval_every,
                   "samples": args.samples, "filters": args.filters}
        # The data folder is this machine's business, not part of the recorded setting.
        results[name] = {**setting, **run_in_child(__file__, {**setting, "data_dir": args.data_dir})}
        last = results[name]["curve"][-1]
        best = {k: min(point[k] for point in results[name]["curve"]) for k in ("g_fid", "ema_fid")}
        print(f"{name:20s} images={results[name]['train_images']} step={last['step']} "
              f"G: fid={last['g_fid']:.2f} kid={last['g_kid_x1000']:.2f} | "
              f"EMA: fid={last['ema_fid']:.2f} kid={last['ema_kid_x1000']:.2f} | "
              f"best fid G {best['g_fid']:.2f} EMA {best['ema_fid']:.2f} | {last['seconds']:.0f}s", flush=True)
    record = {"settings": results, "classifier_val_accuracy": next(iter(results.values()))["classifier_val_accuracy"],
              "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()}}
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(record, indent=1))
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
