"""Loading through tensorflow_datasets with no data folder: results and failure messages.

Nothing is downloaded: ``tfds.testing.mock_data`` generates examples from each
dataset's feature spec, and failures are raised from a patched ``tfds.load``.
"""

import importlib
import socket
import sys

import numpy as np
import pytest
import requests
import tensorflow_datasets as tfds

from tfgan_zoo import data
from tfgan_zoo.data.tfds_errors import MissingPackageError

COUNT = 3
SIZE = 8


@pytest.fixture(autouse=True)
def no_data_folder(monkeypatch):
    monkeypatch.delenv(data.DATA_ENV_VAR, raising=False)


def write_metadata(root, name, splits):
    """The metadata files of a prepared dataset (no examples), with ``COUNT`` per split.

    ``mock_data(policy=USE_FILES)`` reads the split sizes from them. ``batch_size=-1``
    batches by those sizes; without any (``USE_CODE``) tfds asks for a batch of
    sys.maxsize examples, which aborts the process.
    """
    builder = tfds.builder(name, data_dir=root)
    info_dir = root / name / str(builder.version)
    info_dir.mkdir(parents=True)
    builder.info.set_splits(
        tfds.core.SplitDict(
            [tfds.core.SplitInfo(name=split, shard_lengths=[COUNT], num_bytes=0) for split in splits]
        )
    )
    builder.info.write_to_directory(info_dir)


def mock_tfds(root):
    return tfds.testing.mock_data(num_examples=COUNT, policy=tfds.testing.MockPolicy.USE_FILES, data_dir=str(root))


def test_importlib_resources_is_installed():
    # tensorflow-datasets 4.9.10 imports it on its download path without depending on it.
    importlib.import_module("importlib_resources")


def test_mnist_without_data_folder_loads_through_tfds(tmp_path):
    write_metadata(tmp_path, "mnist", ["train", "test"])
    with mock_tfds(tmp_path):
        images, labels = data.load_idx_dataset("mnist", "train")
    assert images.dtype == np.uint8 and images.shape == (COUNT, 28, 28, 1)
    assert labels.dtype == np.int32 and labels.shape == (COUNT,)
    assert ((labels >= 0) & (labels < 10)).all()


@pytest.mark.parametrize("split, prefix", [("train", "train"), ("val", "test")])
def test_cycle_gan_loads_through_tfds(tmp_path, split, prefix):
    write_metadata(tmp_path, "cycle_gan/horse2zebra", ["trainA", "trainB", "testA", "testB"])
    with mock_tfds(tmp_path):
        images_a, images_b, names_a, names_b = data.load_tfds_cycle_gan("horse2zebra", size=SIZE, split=split)
    for images in (images_a, images_b):
        assert images.dtype == np.uint8 and images.shape == (COUNT, SIZE, SIZE, 3)
    assert names_a == [f"{prefix}A_{index}" for index in range(COUNT)]
    assert names_b == [f"{prefix}B_{index}" for index in range(COUNT)]


# Failures, as each loader reports them

LOADERS = {
    "mnist": lambda: data.load_idx_dataset("mnist", "train"),
    "cycle_gan": lambda: data.load_tfds_cycle_gan("horse2zebra", size=SIZE),
}


def failing_load(error_factory):
    def load(*args, **kwargs):
        raise error_factory()

    return load


def offline_error():
    """As tfds raised it here without network: requests' error, raised while handling DNS's.

    (urllib3's MaxRetryError and NameResolutionError, in between, are left out.)
    """
    dns_error = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    error = requests.exceptions.ConnectionError(
        "HTTPSConnectionPool(host='storage.googleapis.com', port=443): Max retries exceeded with url: "
        f"/cvdf-datasets/mnist/t10k-images-idx3-ubyte.gz (Caused by NameResolutionError({dns_error}))"
    )
    error.__context__ = dns_error
    return error


def wrapped_dns_error():
    """A network failure that only the cause chain reveals."""
    error = Exception("download thread failed")
    error.__cause__ = socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
    return error


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize(
    "error_factory, cause",
    [
        (offline_error, "ConnectionError: HTTPSConnectionPool"),
        (lambda: tfds.download.DownloadError("Failed to get url x. HTTP code: 404."), "HTTP code: 404"),
        (wrapped_dns_error, "Exception: download thread failed"),
    ],
)
def test_download_failure_says_so_and_how_to_pass_a_folder(monkeypatch, loader, error_factory, cause):
    monkeypatch.setattr(tfds, "load", failing_load(error_factory))
    with pytest.raises(data.DataNotFoundError) as raised:
        LOADERS[loader]()
    message = str(raised.value)
    assert message.startswith("Could not download ") and "through tensorflow_datasets" in message
    assert cause in message and "--data-dir DIR" in message and data.DATA_ENV_VAR in message


@pytest.mark.parametrize("loader", LOADERS)
def test_missing_package_is_named_with_its_install_command(monkeypatch, loader):
    missing = ModuleNotFoundError("No module named 'importlib_resources'", name="importlib_resources")
    monkeypatch.setattr(tfds, "load", failing_load(lambda: missing))
    with pytest.raises(MissingPackageError) as raised:
        LOADERS[loader]()
    message = str(raised.value)
    assert "'importlib_resources', which is not installed" in message
    assert "`pip install importlib_resources`" in message and "--data-dir DIR" in message
    assert "download" not in message.lower() and "offline" not in message.lower()
    assert isinstance(raised.value, ModuleNotFoundError) and raised.value.name == "importlib_resources"
    assert raised.value.__cause__ is missing


def test_outdated_package_is_named_with_its_upgrade_command(monkeypatch):
    def load(*args, **kwargs):
        try:
            raise ImportError("cannot import name 'files' from 'importlib_resources'", name="importlib_resources")
        except ImportError as error:
            raise RuntimeError("Failed to construct dataset mnist") from error

    monkeypatch.setattr(tfds, "load", load)
    with pytest.raises(MissingPackageError, match="cannot be imported.*`pip install --upgrade importlib_resources`"):
        LOADERS["mnist"]()


def test_missing_tensorflow_datasets_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)  # import fails
    with pytest.raises(MissingPackageError, match="`pip install tensorflow_datasets`"):
        LOADERS["mnist"]()


@pytest.mark.parametrize("loader", LOADERS)
def test_other_failure_shows_its_cause_without_blaming_the_network(monkeypatch, loader):
    full = OSError(28, "No space left on device")
    monkeypatch.setattr(tfds, "load", failing_load(lambda: full))
    with pytest.raises(RuntimeError) as raised:
        LOADERS[loader]()
    message = str(raised.value)
    assert "through tensorflow_datasets failed (OSError: [Errno 28] No space left on device)" in message
    assert "--data-dir DIR" in message
    assert "download" not in message.lower() and "offline" not in message.lower()
    assert not isinstance(raised.value, (data.DataNotFoundError, MissingPackageError))
    assert raised.value.__cause__ is full
