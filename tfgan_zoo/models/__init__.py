"""GAN families: each a ``keras.Model`` trained by ``fit``."""

from tfgan_zoo.models.base import GAN
from tfgan_zoo.models.cgan import ConditionalGAN
from tfgan_zoo.models.dcgan import DCGAN, DCGANDiscriminator, DCGANGenerator

__all__ = ["GAN", "DCGAN", "ConditionalGAN", "DCGANGenerator", "DCGANDiscriminator"]
