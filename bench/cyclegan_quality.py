"""Scores a finished CycleGAN run against doing nothing and against real images.

    python bench/cyclegan_quality.py runs/cyclegan_h2z_64 --data-dir ../shared/data

Reads the run's options (``config.json``), its exported translators
(the newest version in ``export/translators``, the ``a_to_b`` and ``b_to_a`` signatures) and the
domain classifier the run was scored with (cached in the run's
``--cache-dir``, trained on the train split). On the held-out validation
split it prints, per direction, FID/KID against the real target domain in the
classifier's feature space and the share of translations the classifier reads
as the target domain, plus the cycle L1, for three translators:

* ``run``: the exported model;
* ``identity``: returns its input (the score of doing nothing);
* ``real targets``: real train-split images of the target domain in place of
  translations (the best a translator can get with this protocol; the
  classifier has seen them, so its features flatter them a little).

Writes ``bench/results/cyclegan_quality.json`` (``--results`` for another file).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="run directory of experiments/cyclegan_horse2zebra.py")
    parser.add_argument("--data-dir", default=None, help="shared data root or the horse2zebra folder")
    parser.add_argument("--results", type=Path, default=HERE / "results" / "cyclegan_quality.json")
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    from tfgan_zoo import metrics
    from tfgan_zoo.data import load_unpaired, resolve_unpaired_dir
    from tfgan_zoo.experiment.evaluators import translation_network_key
    from tfgan_zoo.export import latest_export

    config = json.loads((args.run / "config.json").read_text())
    size, cache, val_count = config["model_config"]["image_size"], Path(config["run"]["cache_dir"]), config["data"]["val_count"]
    root = resolve_unpaired_dir("horse2zebra", args.data_dir)
    train_a, train_b, _, _ = load_unpaired(root, size, "train", val_count, cache_dir=cache / "decoded")
    val_a, val_b, _, _ = load_unpaired(root, size, "val", val_count, cache_dir=cache / "decoded")
    key = translation_network_key("horse2zebra", (train_a, train_b), config["run"]["seed"])
    classifier_path = cache / f"{key}.keras"
    classifier = metrics.cached_classifier(classifier_path, key)
    if classifier is None:
        raise SystemExit(f"No classifier of this run's data in {classifier_path}: run the experiment with "
                         "--eval-every > 0 first.")
    # Real targets the classifier trained on stand in for a perfect translator's output: the floor.
    evaluator = metrics.TranslationEvaluator(
        classifier, val_a, val_b, held_out_a=train_a, held_out_b=train_b, seed=config["run"]["seed"],
        network_key=key,
    )
    accuracy = metrics.classifier_accuracy(
        classifier, np.concatenate([val_a, val_b]), np.repeat([0, 1], [len(val_a), len(val_b)])
    )

    served = tf.saved_model.load(str(latest_export(args.run / "export" / "translators")))

    def signature(name):
        return lambda images: served.signatures[name](image=tf.constant(images))["image"].numpy()

    rows = {
        "run": evaluator.evaluate(signature("a_to_b"), signature("b_to_a")).figures,
        "identity": evaluator.evaluate(lambda images: images, lambda images: images).figures,
        "real targets": evaluator.floor(),
    }
    print(f"{args.run} ({config['epochs']} epochs, {size} px); classifier accuracy on val {accuracy:.3f}")
    for name, figures in rows.items():
        line = " ".join(f"{key}={value:.4g}" for key, value in figures.items() if not key.endswith("kid_std"))
        print(f"{name}: {line}")
    # Where this machine keeps its cache is not part of the run's settings.
    settings = {key: value for key, value in config.items() if key != "cache_dir"}
    record = {
        "run": str(args.run), "config": settings, "classifier_val_accuracy": accuracy, "rows": rows,
        "protocol": evaluator.protocol(), "val_images": [len(val_a), len(val_b)],
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()},
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(record, indent=1, default=float))
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
