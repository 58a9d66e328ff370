"""EvaluateGAN: figures reach History and CSVLogger, the best epoch by the
monitored figure is kept on disk (and exported), resumed runs keep a better best."""

import csv
import json
import math

import keras
import numpy as np
import pytest
from conftest import adam
from families import mnist_sized

from tfgan_zoo import metrics
from tfgan_zoo.callbacks import EvaluateGAN
from tfgan_zoo.data import image_dataset
from tfgan_zoo.export import METADATA_FILE, version_dirs


class PooledPixels(metrics.FeatureExtractor):
    """4x4 average-pooled pixels: a cheap stand-in for a trained feature space."""

    key = "pixels"

    def features_of_batch(self, images):
        images = keras.ops.cast(images, "float32") / 255.0
        return keras.ops.reshape(keras.ops.average_pool(images, 4, 4), (keras.ops.shape(images)[0], -1))


def real_images(n=256, seed=0):
    """Blobs at random places: some structure for the distances to see."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28, 1), np.uint8)
    for image, (row, col) in zip(images, rng.integers(0, 20, (n, 2))):
        image[row : row + 8, col : col + 8] = 255
    return images


def evaluator(**kwargs):
    return metrics.GANEvaluator(
        PooledPixels(), reference=real_images(), held_out=real_images(seed=1),
        kid_subsets=5, kid_subset_size=50, **kwargs,
    )


class ScriptedEvaluator:
    """Returns preset figures in turn, to drive the best-epoch logic by hand."""

    def __init__(self, values):
        self.values = iter(values)

    def figure_names(self, with_labels=False):
        return ["score"]

    def evaluate(self, images, labels=None, progress=None):
        return metrics.Evaluation(figures={"score": next(self.values)}, details={}, protocol={})


# The tests that train take one to four steps, which cost less than a trace: they run eagerly
# (the callback works between epochs, whatever runs the steps).


def drive(callback, gan, values):
    callback.set_model(gan)
    callback.set_params({"epochs": len(values)})
    callback.on_train_begin()
    logged = []
    for epoch in range(len(values)):
        logs = {}
        callback.on_epoch_end(epoch, logs)
        logged.append(logs["score"])
    return logged


def test_figures_reach_history_and_csv_and_the_best_epoch_is_kept(tmp_path):
    gan = mnist_sized()
    gan.compile(d_optimizer=adam(), g_optimizer=adam(), run_eagerly=True)
    data = image_dataset(real_images(), batch_size=32, seed=0)
    callback = EvaluateGAN(evaluator(), num_samples=64, directory=tmp_path / "best", verbose=False)
    csv_path = tmp_path / "training.csv"
    history = gan.fit(
        data, epochs=2, steps_per_epoch=2, verbose=0,
        callbacks=[callback, keras.callbacks.CSVLogger(str(csv_path))],
    ).history
    names = ["pixels_fid", "pixels_kid", "pixels_kid_std", "pixels_precision", "pixels_recall"]
    for name in names:
        assert len(history[name]) == 2 and all(np.isfinite(history[name])), name
    with open(csv_path) as handle:
        rows = list(csv.DictReader(handle))
    assert [float(row["pixels_fid"]) for row in rows] == pytest.approx(history["pixels_fid"])

    best_epoch = int(np.argmin(history["pixels_fid"])) + 1
    record = json.loads((tmp_path / "best" / "best.json").read_text())
    assert record["epoch"] == best_epoch and record["monitor"] == "pixels_fid"
    assert record["value"] == pytest.approx(min(history["pixels_fid"]))
    assert record["protocol"]["num_samples"] == 64 and record["protocol"]["real_floor"]["num_samples"] == 64
    assert not list((tmp_path / "best").glob("*tmp*"))
    restored = mnist_sized()
    restored.load_weights(tmp_path / "best" / "best.weights.h5")
    if best_epoch == 2:  # the weights at the end of training
        for saved, trained in zip(restored.generator.weights, gan.generator.weights):
            assert np.allclose(saved.numpy(), trained.numpy())


def test_off_epochs_log_nan_and_the_last_epoch_is_always_evaluated():
    gan = mnist_sized()
    gan.compile(d_optimizer=adam(), g_optimizer=adam(), run_eagerly=True)
    callback = EvaluateGAN(evaluator(measures=("fid",)), num_samples=32, every=5, verbose=False)
    data = image_dataset(real_images(), batch_size=32)
    history = gan.fit(data, epochs=2, steps_per_epoch=1, verbose=0, callbacks=[callback]).history
    assert math.isnan(history["pixels_fid"][0]) and np.isfinite(history["pixels_fid"][1])


def test_conditional_model_gets_balanced_labels_and_label_figures():
    gan = mnist_sized(True)
    gan.compile(d_optimizer=adam(), g_optimizer=adam(), run_eagerly=True)
    classifier = metrics.build_domain_classifier((28, 28, 1), 10)  # untrained: plumbing only
    scorer = evaluator(classifier=classifier, num_classes=10)
    seen = []
    evaluate = scorer.evaluate
    scorer.evaluate = lambda images, labels=None, **options: seen.append(labels) or evaluate(images, labels, **options)
    callback = EvaluateGAN(scorer, num_samples=50, batch_size=16, verbose=False)
    data = image_dataset(real_images(), np.arange(256) % 10, batch_size=32)
    history = gan.fit(data, epochs=1, steps_per_epoch=1, verbose=0, callbacks=[callback]).history
    assert np.array_equal(np.bincount(seen[0]), [5] * 10)
    label_figures = ("label_accuracy", "min_class_accuracy", "classes_present", "min_class_coverage")
    for name in (*label_figures, "pixels_fid"):
        assert np.isfinite(history[name][0]), name
    images, labels = callback.generate()
    assert images.dtype == np.uint8 and images.shape == (50, 28, 28, 1)
    assert np.array_equal(callback.generate()[0], images)  # the same noise every time


@pytest.mark.parametrize(
    "mode, values, best_epoch", [("min", [3.0, 1.0, 2.0, math.nan], 2), ("max", [3.0, 1.0, 4.0, math.nan], 3)]
)
def test_best_epoch_follows_mode_and_ignores_nan(tmp_path, mode, values, best_epoch):
    gan = mnist_sized()
    callback = EvaluateGAN(
        ScriptedEvaluator(values), num_samples=4, mode=mode, directory=tmp_path, verbose=False
    )
    assert drive(callback, gan, values)[:3] == values[:3]
    assert callback.best_epoch == best_epoch and callback.best == values[best_epoch - 1]
    assert json.loads((tmp_path / "best.json").read_text())["epoch"] == best_epoch


def test_resumed_run_keeps_a_better_best_and_exports_improvements(tmp_path):
    gan = mnist_sized()
    export_dir = tmp_path / "export" / "best_generator"
    options = dict(num_samples=4, directory=tmp_path, export_dir=export_dir, verbose=False)
    first = EvaluateGAN(ScriptedEvaluator([1.0]), **options)
    drive(first, gan, [1.0])
    assert json.loads((export_dir / "1" / METADATA_FILE).read_text())["latent_dim"] == 16

    resumed = EvaluateGAN(ScriptedEvaluator([2.0, 0.5]), **options)
    resumed.set_model(gan)
    resumed.set_params({"epochs": 2})
    resumed.on_train_begin()
    assert resumed.best == 1.0
    resumed.on_epoch_end(0, {})  # 2.0: worse than the saved best
    assert json.loads((tmp_path / "best.json").read_text())["value"] == 1.0
    assert [path.name for path in version_dirs(export_dir)] == ["1"]
    resumed.on_epoch_end(1, {})  # 0.5: better
    assert json.loads((tmp_path / "best.json").read_text())["epoch"] == 2
    assert [path.name for path in version_dirs(export_dir)] == ["1", "2"]
    assert sorted(path.name for path in export_dir.iterdir()) == [".tfgan_zoo", "1", "2"]  # no staging folder left


def test_unknown_monitor_and_mode_are_rejected():
    with pytest.raises(ValueError, match="mode"):
        EvaluateGAN(ScriptedEvaluator([]), mode="lowest")
    callback = EvaluateGAN(ScriptedEvaluator([]), monitor="fid")
    callback.set_model(mnist_sized())
    with pytest.raises(ValueError, match="not among the figures"):
        callback.on_train_begin()


def test_console_lines_mark_the_best_and_skipped_epochs_stay_silent(capsys):
    gan = mnist_sized()
    callback = EvaluateGAN(ScriptedEvaluator([2.0, 3.0]), num_samples=4, every=2, verbose=2)
    callback.set_model(gan)
    callback.set_params({"epochs": 3})
    callback.on_train_begin()
    logged = []
    for epoch in range(3):
        logs = {}
        callback.on_epoch_end(epoch, logs)
        logged.append(logs["score"])
    assert math.isnan(logged[0]) and logged[1:] == [2.0, 3.0]  # every 2nd epoch and the last
    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    assert lines[0] == "Epoch 2 evaluation..." and lines[1].endswith(": score=2 (best so far)")
    assert lines[2] == "Epoch 3 evaluation..." and lines[3].endswith(": score=3")
    assert len(lines) == 4
