"""Test set-up: quiet TF, two logical CPU devices for MirroredStrategy tests."""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

# Must run before TensorFlow initialises its devices (i.e. before any op).
_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    _cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    """The development data folder: $TFGAN_ZOO_DATA, else ../shared/data beside the repo."""
    for candidate in (os.environ.get("TFGAN_ZOO_DATA"), REPO.parent / "shared" / "data"):
        if candidate and (Path(candidate) / "mnist").is_dir():
            return Path(candidate)
    return None


@pytest.fixture
def data_dir():
    path = shared_data_dir()
    if path is None:
        pytest.skip("MNIST IDX files not found: set TFGAN_ZOO_DATA to the shared data folder")
    return path


@pytest.fixture(autouse=True)
def float32_policy():
    keras.mixed_precision.set_dtype_policy("float32")
    yield
    keras.mixed_precision.set_dtype_policy("float32")


def adam():
    return keras.optimizers.Adam(2e-4, beta_1=0.5)
