"""What the package caches (evaluation classifiers, decoded images) is keyed by the
content it was built from: other data or another setting is another cache, the
same ones reuse it, and a damaged cache file is named and rebuilt."""

import os
import shutil

import numpy as np
import pytest
from conftest import solid, write_image

from tfgan_zoo import data, experiment, metrics
from tfgan_zoo.runs import RunOptions, RunSpec

TRAINING = "Training the evaluation classifier"


def digits(seed: int, count: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """Tiny 'MNIST': 16x16 grey images whose brightness is their class (0-3)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % 4
    noise = rng.integers(0, 40, (count, 16, 16, 1), dtype=np.uint8)
    return noise + (labels * 50).astype(np.uint8)[:, None, None, None], labels


def mnist_spec(cache_dir) -> RunSpec:
    options = RunOptions(out=cache_dir.parent / "run", cache_dir=cache_dir, eval_every=1, eval_samples=16)
    return RunSpec("DCGAN", options, data={"dataset": "mnist"})


def evaluator(spec, images, labels):
    return experiment.domain_evaluator(spec, images, labels, images[:16], conditional=False)


def trained(capsys) -> int:
    """How many evaluation classifiers were trained since the last call."""
    return capsys.readouterr().out.count(TRAINING)


def test_the_evaluation_classifier_is_keyed_by_its_data(tmp_path, capsys):
    cache = tmp_path / "cache"
    images, labels = digits(0)
    first = evaluator(mnist_spec(cache), images, labels)
    assert trained(capsys) == 1
    key = first.extractor.network_key
    assert key.startswith("mnist_classifier_") and (cache / f"{key}.keras").is_file()
    assert first.evaluate(images[:16]).protocol["network_key"] == key  # the key reaches the results

    again = evaluator(mnist_spec(cache), images, labels)  # the same data: reused
    assert trained(capsys) == 0 and again.extractor.network_key == key

    # Another --data-dir holding other digits under the same dataset name: another classifier.
    other_images, other_labels = digits(1)
    other = evaluator(mnist_spec(cache), other_images, other_labels)
    assert trained(capsys) == 1 and other.extractor.network_key != key
    relabelled = evaluator(mnist_spec(cache), images, (labels + 1) % 4)
    assert trained(capsys) == 1 and relabelled.extractor.network_key not in (key, other.extractor.network_key)
    assert len(list(cache.glob("*.keras"))) == 3  # each kept beside the others


def test_the_folder_classifier_is_keyed_by_its_epochs_and_seed(tmp_path, capsys):
    images = np.stack([solid(30 * index, size=16) for index in range(8)])
    folder = data.ImageFolder(images, None, [], [tmp_path / f"{index}.png" for index in range(8)])

    def folder_spec(epochs: int, seed: int = 0) -> RunSpec:
        options = RunOptions(out=tmp_path / "run", cache_dir=tmp_path / "cache", eval_every=1, eval_samples=8,
                             seed=seed)
        return RunSpec("DCGAN", options, data={"images": str(tmp_path)}, extra={"classifier_epochs": epochs})

    keys = [experiment.folder_evaluator(folder_spec(*settings), folder, conditional=False).extractor.network_key
            for settings in ((1,), (1,), (2,), (1, 7))]
    assert trained(capsys) == 3  # --classifier-epochs 2 and another seed do not reuse the 1-epoch classifier
    assert keys[0] == keys[1] and len(set(keys)) == 3


def test_a_classifier_kept_under_another_key_is_trained_again(tmp_path, capsys):
    images, labels = digits(0)
    path = tmp_path / "classifier.keras"
    metrics.domain_classifier(images, labels, 4, cache_path=path, epochs=1)
    metrics.domain_classifier(images, labels, 4, cache_path=path, epochs=1)
    assert trained(capsys) == 1
    metrics.domain_classifier(images, labels, 4, cache_path=path, epochs=2)  # the same file, more epochs
    printed = capsys.readouterr()
    assert printed.out.count(TRAINING) == 1
    assert f"{path} was trained on other data or with other settings" in printed.err


@pytest.fixture(scope="module")
def whole_cache(tmp_path_factory):
    """A cache folder holding the evaluation classifier of ``digits(0)`` and its key: each
    damage test copies it (a training each) instead of training its own."""
    cache = tmp_path_factory.mktemp("whole") / "cache"
    images, labels = digits(0)
    return cache, evaluator(mnist_spec(cache), images, labels).extractor.network_key


@pytest.mark.parametrize("damage", ["truncated", "garbage", "key lost"])
def test_a_damaged_classifier_cache_is_named_and_rebuilt(whole_cache, tmp_path, capsys, damage):
    cache = tmp_path / "cache"
    shutil.copytree(whole_cache[0], cache)
    images, labels = digits(0)
    key = whole_cache[1]
    path = cache / f"{key}.keras"
    expected = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(expected[: len(expected) // 2])
    elif damage == "garbage":
        path.write_text("not a model")
    else:  # killed between writing the classifier and its key
        (cache / f"{key}.keras.json").unlink()
    capsys.readouterr()
    rebuilt = evaluator(mnist_spec(cache), images, labels)
    printed = capsys.readouterr()
    assert printed.out.count(TRAINING) == 1 and str(path) in printed.err and "training it again" in printed.err
    assert rebuilt.extractor.network_key == key
    evaluator(mnist_spec(cache), images, labels)
    assert trained(capsys) == 0  # the rebuilt cache is whole again


def test_unpaired_decoded_images_are_keyed_by_content_and_a_damaged_cache_is_rebuilt(tmp_path, capsys):
    # BMP: a file's size depends on the picture's shape only.
    for domain in "AB":
        for index in range(3):
            write_image(tmp_path / "data" / f"train{domain}" / f"{index}.bmp", solid(20 * index + 5, size=8))
    cache = tmp_path / "cache"
    first = data.load_unpaired(tmp_path / "data", size=8, val_count=1, cache_dir=cache)
    (stored,) = cache.glob("*.npz")

    # A picture edited in place, keeping its size and modification time.
    edited = tmp_path / "data" / "trainA" / f"{first[2][0]}.bmp"
    before, original = edited.stat(), edited.read_bytes()
    write_image(edited, solid(250, size=8))
    os.utime(edited, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert edited.stat().st_size == before.st_size and edited.read_bytes() != original
    second = data.load_unpaired(tmp_path / "data", size=8, val_count=1, cache_dir=cache)
    assert np.all(second[0][0] == 250) and len(list(cache.glob("*.npz"))) == 2

    edited.write_bytes(original)
    stored.write_bytes(stored.read_bytes()[:100])  # the first cache, truncated
    capsys.readouterr()
    again = data.load_unpaired(tmp_path / "data", size=8, val_count=1, cache_dir=cache)
    assert f"The decoded-image cache {stored} cannot be read" in capsys.readouterr().err
    np.testing.assert_array_equal(again[0], first[0])
    with np.load(stored) as rewritten:
        np.testing.assert_array_equal(rewritten["images_a"], first[0])


def test_a_cache_folder_that_cannot_be_made_is_said_and_training_goes_on(tmp_path, capsys):
    """Under a HOME that is a file the cache's folder cannot be made: the classifier is
    not kept, said once, and cleaning up the partial files it never wrote raises nothing."""
    (tmp_path / "home").write_text("not a folder")
    cache_path = tmp_path / "home" / ".cache" / "tfgan_zoo" / "classifier.keras"
    metrics.classifiers.keep_classifier(None, cache_path, "key")  # fails at the folder, before the model is saved
    assert f"The evaluation classifier cannot be kept in {cache_path}" in capsys.readouterr().err
