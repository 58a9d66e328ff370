"""IDX loading, data-path resolution and its errors, batch pipeline ranges."""

import gzip

import numpy as np
import pytest

from tfgan_zoo import data
from tfgan_zoo.data.idx import idx_file_names


def write_idx(path, array, gz=True):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    if gz:
        with gzip.open(path, "wb") as handle:
            handle.write(payload)
    else:
        path.write_bytes(payload)


def make_idx_folder(folder, n=12, gz=True):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        images_stem, labels_stem = idx_file_names(split)
        suffix = ".gz" if gz else ""
        write_idx(folder / (images_stem + suffix), rng.integers(0, 256, (n, 28, 28)), gz)
        write_idx(folder / (labels_stem + suffix), np.arange(n) % 10, gz)
    return folder


@pytest.mark.parametrize("gz", [True, False])
def test_reads_crafted_idx_files(tmp_path, gz):
    make_idx_folder(tmp_path / "mnist", gz=gz)
    images, labels = data.load_idx_dataset("mnist", "train", data_dir=tmp_path)  # parent form
    assert images.shape == (12, 28, 28, 1) and images.dtype == np.uint8
    np.testing.assert_array_equal(labels, np.arange(12) % 10)
    images2, _ = data.load_idx_dataset("mnist", "test", data_dir=tmp_path / "mnist")  # folder form
    assert images2.shape == (12, 28, 28, 1)


def test_environment_variable_is_used(tmp_path, monkeypatch):
    make_idx_folder(tmp_path / "fashion_mnist")
    monkeypatch.setenv(data.DATA_ENV_VAR, str(tmp_path))
    images, _ = data.load_idx_dataset("fashion_mnist", "train")
    assert len(images) == 12


def test_missing_directory_error_lists_files_and_fix(tmp_path):
    with pytest.raises(data.DataNotFoundError) as error:
        data.load_idx_dataset("mnist", "train", data_dir=tmp_path / "nowhere")
    message = str(error.value)
    for name in ("train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "--data-dir", data.DATA_ENV_VAR):
        assert name in message


def test_incomplete_directory_names_missing_file(tmp_path):
    folder = make_idx_folder(tmp_path / "mnist")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data.DataNotFoundError, match="lacks t10k-labels-idx1-ubyte.gz"):
        data.load_idx_dataset("mnist", "train", data_dir=tmp_path)


def test_truncated_file_is_reported(tmp_path):
    folder = make_idx_folder(tmp_path / "mnist", gz=False)
    path = folder / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        data.load_idx_dataset("mnist", "train", data_dir=tmp_path)


def test_shared_mnist_loads(data_dir):
    images, labels = data.load_idx_dataset("mnist", "test", data_dir=data_dir)
    assert images.shape == (10000, 28, 28, 1)
    assert labels[:4].tolist() == [7, 2, 1, 0]
    assert set(np.unique(labels)) == set(range(10))


def test_pipeline_batches_in_unit_range():
    images = np.array([np.zeros((4, 4, 1)), np.full((4, 4, 1), 255)] * 4, np.uint8)
    batches = list(data.image_dataset(images, np.arange(8), batch_size=3, seed=0))
    assert len(batches) == 2  # remainder dropped: fixed shapes for XLA and replicas
    x, y = batches[0]
    assert x.dtype.name == "float32" and set(np.unique(x.numpy())) <= {-1.0, 1.0}
    assert y.dtype.name == "int32"


def test_pipeline_rejects_float_images():
    with pytest.raises(ValueError, match="uint8"):
        data.image_dataset(np.zeros((4, 28, 28, 1), np.float32))


@pytest.mark.parametrize("labels, found", [
    (np.array([0, 1, 0.6, 1]), r"labels\[2\] = 0.6 is not a whole number"),
    (np.array([0, 1, np.nan, 1]), r"labels\[2\] = nan is not a whole number"),
    (np.array([0, 2**32, 1, 1], np.int64), r"labels\[1\] = 4294967296 is beyond int32"),
    (np.array([0, 1, 1, -1]), r"labels\[3\] = -1 is negative"),
    (np.array(["cat", "dog", "cat", "dog"]), "integer class ids"),
], ids=["fraction", "nan", "beyond int32", "negative", "text"])
def test_pipeline_refuses_labels_that_are_not_class_ids(labels, found):
    images = np.zeros((4, 4, 4, 1), np.uint8)
    with pytest.raises(ValueError, match=found):
        data.image_dataset(images, labels, batch_size=2)


def test_pipeline_takes_whole_float_labels_and_one_hot_rows_as_they_are():
    images = np.zeros((4, 4, 4, 1), np.uint8)
    (_, labels), = data.image_dataset(images, np.array([3.0, 0.0, 2**31 - 1, 1.0]), batch_size=4, shuffle=False)
    assert labels.numpy().tolist() == [3, 0, 2**31 - 1, 1]
    (_, one_hot), = data.image_dataset(images, np.eye(4, dtype=np.float32), batch_size=4, shuffle=False)
    assert one_hot.numpy().tolist() == np.eye(4, dtype=int).tolist()
