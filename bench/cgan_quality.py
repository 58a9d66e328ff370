"""Label accuracy of a trained conditional GAN, read by an independent classifier.

    python bench/cgan_quality.py runs/cgan_mnist [--data-dir ../shared/data]
    python bench/cgan_quality.py cgan_mnist          # a preset (name, preset folder or hf://USER/NAME)

Trains (once, cached in bench/cache/) a small CNN on the MNIST train split,
reports its test accuracy, then generates 1,000 samples per class through the
run's exported SavedModel (the artifact users get; a preset is exported
first, as ``python -m tfgan_zoo.presets export`` does) and prints the share the
classifier reads as the requested label, per class too, and class coverage.
"""

import argparse
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from tfgan_zoo import export, from_preset, metrics
from tfgan_zoo.data import load_idx_dataset
from tfgan_zoo.export import latest_export


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="a run directory, or a preset (name, folder or hf://USER/NAME)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--dataset", default="mnist", choices=("mnist", "fashion_mnist"))
    parser.add_argument("--per-class", type=int, default=1000)
    parser.add_argument("--cache", default=str(Path(__file__).parent / "cache"))
    args = parser.parse_args()

    train_images, train_labels = load_idx_dataset(args.dataset, "train", args.data_dir)
    test_images, test_labels = load_idx_dataset(args.dataset, "test", args.data_dir)
    classifier = metrics.domain_classifier(
        train_images, train_labels, 10, cache_path=Path(args.cache) / f"{args.dataset}_classifier.keras"
    )
    test_accuracy = metrics.classifier_accuracy(classifier, test_images, test_labels)

    if (Path(args.source) / "export" / "generator").is_dir():
        served = tf.saved_model.load(str(latest_export(Path(args.source) / "export" / "generator")))
    else:
        scratch = tempfile.mkdtemp(prefix="cgan_quality_")
        served = tf.saved_model.load(str(export.save(from_preset(args.source), Path(scratch) / "generator")))
    served = served.signatures["sample"]
    labels = np.repeat(np.arange(10, dtype=np.int32), args.per_class)
    images = np.concatenate([
        served(labels=tf.constant(chunk), seed=tf.constant(i, tf.int64))["images"].numpy()
        for i, chunk in enumerate(np.array_split(labels, 10))
    ])
    result = metrics.label_accuracy(classifier, images, labels, 10)
    print(json.dumps({"classifier_test_accuracy": test_accuracy, **result}, indent=1))
    print(
        f"cgan_{args.dataset} label_accuracy={result['accuracy']:.4f} "
        f"min_class_accuracy={min(result['per_class_accuracy']):.4f} classes_present={result['classes_present']}/10 "
        f"classifier_test_accuracy={test_accuracy:.4f} samples={len(labels)} cores={os.cpu_count()}"
    )


if __name__ == "__main__":
    main()
