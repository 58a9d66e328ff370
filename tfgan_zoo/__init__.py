"""tfgan-zoo: GANs for Keras 3 / TensorFlow 2, trained with ``model.fit``."""

from tfgan_zoo import callbacks, data, diagnostics, export, losses, metrics, schedules
from tfgan_zoo.models import ACGAN, GAN, ConditionalGAN, CycleGAN, DCGAN, NoiseToImageGAN, Pix2Pix

__version__ = "0.1.0"
__all__ = [
    "NoiseToImageGAN", "GAN", "DCGAN", "ConditionalGAN", "ACGAN", "Pix2Pix", "CycleGAN",
    "callbacks", "data", "diagnostics", "export", "losses", "metrics", "schedules",
]
