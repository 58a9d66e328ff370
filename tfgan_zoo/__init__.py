"""tfgan-zoo: GANs for Keras 3 / TensorFlow 2, trained with ``model.fit``."""

import os


def _check_keras_backend():
    """Stops the import at once under another Keras backend: the families' steps,
    datasets and exports are TensorFlow code, and would fail later, deep in a
    library. The environment is read first: importing Keras under another
    backend would import that backend's library (or fail without it)."""
    fix = "Set KERAS_BACKEND=tensorflow (or \"backend\": \"tensorflow\" in ~/.keras/keras.json)."
    chosen = os.environ.get("KERAS_BACKEND")
    if chosen is not None and chosen != "tensorflow":
        raise ImportError(f"tfgan_zoo runs on the TensorFlow backend only; KERAS_BACKEND is {chosen!r}. {fix}")
    import keras

    if keras.backend.backend() != "tensorflow":
        raise ImportError(
            f"tfgan_zoo runs on the TensorFlow backend only; Keras is set to {keras.backend.backend()!r}. {fix}"
        )


_check_keras_backend()

from tfgan_zoo import callbacks, data, diagnostics, export, losses, metrics, schedules  # noqa: E402
from tfgan_zoo.models import ACGAN, GAN, ConditionalGAN, CycleGAN, DCGAN, NoiseToImageGAN, Pix2Pix  # noqa: E402
from tfgan_zoo import presets  # noqa: E402
from tfgan_zoo.presets import from_preset  # noqa: E402

__version__ = "0.1.0"
__all__ = [
    "NoiseToImageGAN", "GAN", "DCGAN", "ConditionalGAN", "ACGAN", "Pix2Pix", "CycleGAN",
    "callbacks", "data", "diagnostics", "export", "losses", "metrics", "schedules", "presets", "from_preset",
]
