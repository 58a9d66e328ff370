"""Unpaired (CycleGAN) data: folder resolution, loading, the held-out split, batches, TFDS errors."""

import shutil
import sys
import types

import numpy as np
import pytest
import tensorflow as tf
from conftest import solid, write_image

from tfgan_zoo import data
from tfgan_zoo.data import unpaired

S = 8
write = write_image


def domain_folder(folder, count, channel, prefix="img"):
    """``count`` PNGs ``<prefix>_<i>.png`` whose ``channel`` holds ``i`` (distinct pictures)."""
    for i in range(count):
        colour = [0, 0, 0]
        colour[channel] = i
        write(folder / f"{prefix}_{i}.png", solid(colour))
    return folder


def dataset_folder(root, count_a=6, count_b=4):
    domain_folder(root / "trainA", count_a, 0, "a")
    domain_folder(root / "trainB", count_b, 1, "b")
    return root


# resolve_unpaired_dir


def test_resolve_accepts_folder_parent_and_environment(tmp_path, monkeypatch):
    folder = dataset_folder(tmp_path / "horse2zebra")
    assert data.resolve_unpaired_dir("horse2zebra", tmp_path) == folder
    assert data.resolve_unpaired_dir("horse2zebra", folder) == folder
    monkeypatch.setenv(data.DATA_ENV_VAR, str(tmp_path))
    assert data.resolve_unpaired_dir("horse2zebra") == folder


def test_resolve_errors_name_the_layout_and_how_to_pass_it(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_ENV_VAR, raising=False)
    with pytest.raises(data.DataNotFoundError, match="--data-dir.*trainA"):
        data.resolve_unpaired_dir("horse2zebra")
    domain_folder(tmp_path / "horse2zebra" / "trainA", 2, 0)
    with pytest.raises(data.DataNotFoundError) as error:
        data.resolve_unpaired_dir("horse2zebra", tmp_path)
    message = str(error.value)
    assert "lacks trainB/" in message and "<dir>/trainA/ and <dir>/trainB/" in message
    assert data.DATA_ENV_VAR in message


# load_unpaired


def test_load_converts_grey_and_rgba_and_squares_every_size(tmp_path):
    write(tmp_path / "trainA" / "rgb.png", solid((200, 100, 50), 2 * S))
    write(tmp_path / "trainA" / "grey.png", np.full((S, S), 77, np.uint8))
    rgba = np.zeros((S, S, 4), np.uint8)
    rgba[..., 2] = 255  # blue, fully transparent: composited on white
    write(tmp_path / "trainB" / "rgba.png", rgba)
    wide = np.zeros((S, 3 * S, 3), np.uint8)
    wide[:, S : 2 * S] = 90  # the centre square is grey, the sides black
    write(tmp_path / "trainB" / "wide.png", wide)
    images_a, images_b, names_a, names_b = data.load_unpaired(tmp_path, size=4, val_count=0)
    assert images_a.shape == images_b.shape == (2, 4, 4, 3)
    assert images_a.dtype == images_b.dtype == np.uint8
    assert names_a == ["grey", "rgb"] and names_b == ["rgba", "wide"]
    assert (images_a[0] == 77).all() and (images_a[1] == [200, 100, 50]).all()
    assert (images_b[0] == 255).all() and (images_b[1] == 90).all()


def test_corrupt_file_raises_naming_it(tmp_path):
    dataset_folder(tmp_path)
    (tmp_path / "trainB" / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    with pytest.raises(data.ImageReadError, match=r"broken\.jpg"):
        data.load_unpaired(tmp_path, size=S, val_count=0)


def test_missing_folder_says_how_to_pass_it(tmp_path):
    with pytest.raises(data.DataNotFoundError, match=r"horse2zebra does not exist.*--data-dir.*trainB"):
        data.load_unpaired(tmp_path / "horse2zebra")


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_missing_domain_says_layout_and_how_to_pass_it(tmp_path, make):
    domain_folder(tmp_path / "trainA", 3, 0)
    if make == "empty":
        (tmp_path / "trainB").mkdir()
    with pytest.raises(data.DataNotFoundError) as error:
        data.load_unpaired(tmp_path, size=S)
    message = str(error.value)
    assert str(tmp_path / "trainB") in message and f"{tmp_path}/trainA/" in message
    assert "--data-dir" in message and data.DATA_ENV_VAR in message


def test_val_split_is_held_out_by_name_and_keeps_duplicates_on_one_side(tmp_path):
    dataset_folder(tmp_path, count_a=30, count_b=20)
    # Byte-identical copies under other names, as horse2zebra has.
    for i in range(0, 30, 3):
        shutil.copy(tmp_path / "trainA" / f"a_{i}.png", tmp_path / "trainA" / f"copy_{i}.png")
    train = data.load_unpaired(tmp_path, size=S, split="train", val_count=5)
    val = data.load_unpaired(tmp_path, size=S, split="val", val_count=5)
    assert len(val[2]) == len(val[3]) == 5 and len(train[2]) == 25 and len(train[3]) == 15
    for domain in (2, 3):
        assert not set(train[domain]) & set(val[domain])
    assert not any(name.startswith("copy") for name in train[2] + val[2])  # first copy kept
    assert set(train[2]) | set(val[2]) == {f"a_{i}" for i in range(30)}
    assert data.load_unpaired(tmp_path, size=S, split="val", val_count=5)[2] == val[2]  # deterministic
    assert (val[0][:, 0, 0, 0] == [int(name[2:]) for name in val[2]]).all()  # images follow names

    kept_train = data.load_unpaired(tmp_path, size=S, split="train", val_count=5, dedupe=False)[2]
    kept_val = data.load_unpaired(tmp_path, size=S, split="val", val_count=5, dedupe=False)[2]
    assert len(kept_train) + len(kept_val) == 40
    for i in range(0, 30, 3):
        side = kept_val if f"a_{i}" in kept_val else kept_train
        assert f"copy_{i}" in side


def test_test_folders_are_the_val_split_when_present(tmp_path):
    dataset_folder(tmp_path)
    with pytest.raises(data.DataNotFoundError, match="no testA/ and testB/.*split='val'"):
        data.load_unpaired(tmp_path, size=S, split="test")
    with pytest.raises(ValueError, match="val_count"):
        data.load_unpaired(tmp_path, size=S, split="val", val_count=6)
    domain_folder(tmp_path / "testA", 2, 2, "ta")
    domain_folder(tmp_path / "testB", 3, 2, "tb")
    train = data.load_unpaired(tmp_path, size=S, split="train", val_count=1)
    assert len(train[2]) == 6 and len(train[3]) == 4  # nothing held out of train
    for split in ("val", "test"):
        _, _, names_a, names_b = data.load_unpaired(tmp_path, size=S, split=split)
        assert names_a == ["ta_0", "ta_1"] and names_b == ["tb_0", "tb_1", "tb_2"]


def test_limit_and_cache(tmp_path, monkeypatch):
    dataset_folder(tmp_path / "data")
    cache = tmp_path / "cache"
    first = data.load_unpaired(tmp_path / "data", size=S, val_count=1, limit=2, cache_dir=cache)
    assert first[0].shape == first[1].shape == (2, S, S, 3)
    assert len(list(cache.glob("*.npz"))) == 1

    def fail(path):
        raise AssertionError(f"{path} decoded again instead of read from the cache")

    monkeypatch.setattr(unpaired, "read_rgb", fail)
    again = data.load_unpaired(tmp_path / "data", size=S, val_count=1, limit=2, cache_dir=cache)
    np.testing.assert_array_equal(again[0], first[0])
    np.testing.assert_array_equal(again[1], first[1])
    assert again[2:] == first[2:]
    with pytest.raises(AssertionError, match="decoded again"):  # other arguments, other cache
        data.load_unpaired(tmp_path / "data", size=S, val_count=2, limit=2, cache_dir=cache)


# unpaired_dataset


def indexed(count, value_channel):
    images = np.zeros((count, S, S, 3), np.uint8)
    images[:, :, :, value_channel] = np.arange(count, dtype=np.uint8)[:, None, None]
    return images


def test_dataset_covers_the_larger_domain_and_repeats_the_smaller():
    images_a, images_b = indexed(3, 0), indexed(7, 1)
    dataset = data.unpaired_dataset(images_a, images_b, batch_size=2, seed=1)
    assert dataset.element_spec[0].shape == dataset.element_spec[1].shape == (2, S, S, 3)
    assert dataset.element_spec[0].dtype == tf.uint8
    assert int(dataset.cardinality()) == 3  # 7 // 2: the remainder is dropped
    epochs = []
    for _ in range(2):
        batches = list(dataset.as_numpy_iterator())
        a = np.concatenate([batch_a[:, 0, 0, 0] for batch_a, _ in batches])
        b = np.concatenate([batch_b[:, 0, 0, 1] for _, batch_b in batches])
        assert len(set(b.tolist())) == 6  # six different zebras...
        assert sorted(a[:3].tolist()) == [0, 1, 2] and set(a[3:]) <= {0, 1, 2}  # ...horses repeat
        epochs.append((a.tolist(), b.tolist()))
    assert epochs[0] != epochs[1]  # reshuffled every epoch
    fresh = data.unpaired_dataset(images_a, images_b, batch_size=2, seed=1)
    first = [(x[:, 0, 0, 0].tolist(), y[:, 0, 0, 1].tolist()) for x, y in fresh.as_numpy_iterator()]
    assert [a for pair in first for a in pair[0]] == epochs[0][0]  # same seed, same order


def test_dataset_rejects_bad_inputs():
    with pytest.raises(ValueError, match="uint8"):
        data.unpaired_dataset(np.zeros((2, S, S, 3), np.float32), indexed(2, 0))
    with pytest.raises(ValueError, match="same height"):
        data.unpaired_dataset(indexed(2, 0), np.zeros((2, 4, 4, 3), np.uint8))
    for batch_size in (0, 4):
        with pytest.raises(ValueError, match="batch_size must be from 1 to 3"):
            data.unpaired_dataset(indexed(2, 0), indexed(3, 0), batch_size=batch_size)


# TFDS (never downloads in tests)


def test_tfds_without_the_package_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)  # import fails
    with pytest.raises(data.DataNotFoundError, match="pip install tensorflow-datasets"):
        data.load_tfds_cycle_gan("horse2zebra", size=S)


def fake_tfds(load):
    module = types.ModuleType("tensorflow_datasets")
    module.load = load
    module.as_numpy = lambda value: value
    return module


def test_tfds_offline_error_and_loaded_splits(monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setitem(sys.modules, "tensorflow_datasets", fake_tfds(offline))
    with pytest.raises(data.DataNotFoundError, match="no network.*Offline.*--data-dir"):
        data.load_tfds_cycle_gan("horse2zebra", size=S)

    calls = []

    def load(name, split, **kwargs):
        calls.append((name, split))
        count = 2 if split.endswith("A") else 3
        return np.full((count, 2 * S, 2 * S, 3), 9, np.uint8), np.zeros(count)

    monkeypatch.setitem(sys.modules, "tensorflow_datasets", fake_tfds(load))
    images_a, images_b, names_a, names_b = data.load_tfds_cycle_gan("horse2zebra", size=S, split="val")
    assert calls == [("cycle_gan/horse2zebra", "testA"), ("cycle_gan/horse2zebra", "testB")]
    assert images_a.shape == (2, S, S, 3) and images_b.shape == (3, S, S, 3) and (images_b == 9).all()
    assert names_a == ["testA_0", "testA_1"] and len(names_b) == 3


# the real dataset (skipped without the shared data folder)


def test_real_horse2zebra_loads_a_few_images(data_dir):
    if not (data_dir / "horse2zebra" / "trainA").is_dir():
        pytest.skip("horse2zebra not in the shared data folder")
    folder = data.resolve_unpaired_dir("horse2zebra", data_dir)
    for split in ("train", "val"):
        images_a, images_b, names_a, names_b = data.load_unpaired(folder, size=64, split=split, limit=4)
        assert images_a.shape == images_b.shape == (4, 64, 64, 3) and images_a.dtype == np.uint8
        assert names_a[0].startswith("n02381460_") and names_b[0].startswith("n02391049_")
    # n02391049_226 is one of trainB's greyscale files, 77th by name.
    for split in ("train", "val"):
        _, images_b, _, names_b = data.load_unpaired(folder, size=64, split=split, limit=80)
        if "n02391049_226" in names_b:
            grey = images_b[names_b.index("n02391049_226")]
            assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()
            break
    else:
        pytest.fail("n02391049_226 is in neither split")
