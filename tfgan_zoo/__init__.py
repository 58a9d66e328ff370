"""tfgan-zoo: GANs for Keras 3 / TensorFlow 2, trained with ``model.fit``."""

from tfgan_zoo import callbacks, data, diagnostics, export, losses, metrics, schedules
from tfgan_zoo.models import GAN, ConditionalGAN, CycleGAN, DCGAN, Pix2Pix

__version__ = "0.1.0"
__all__ = [
    "GAN", "DCGAN", "ConditionalGAN", "Pix2Pix", "CycleGAN",
    "callbacks", "data", "diagnostics", "export", "losses", "metrics", "schedules",
]
