"""tfgan-zoo: GANs for Keras 3 / TensorFlow 2, trained with ``model.fit``."""

from tfgan_zoo import callbacks, data, diagnostics, export, losses, metrics
from tfgan_zoo.models import GAN, ConditionalGAN, DCGAN

__version__ = "0.1.0"
__all__ = ["GAN", "DCGAN", "ConditionalGAN", "callbacks", "data", "diagnostics", "export", "losses", "metrics"]
