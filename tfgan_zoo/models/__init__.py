"""GAN families: each a ``keras.Model`` trained by ``fit``."""

from tfgan_zoo.models.base import GAN
from tfgan_zoo.models.cyclegan import CycleGAN, ImagePool
from tfgan_zoo.models.dcgan import DCGAN, ConditionalGAN
from tfgan_zoo.models.pix2pix import Pix2Pix
from tfgan_zoo.networks import DCGANDiscriminator, DCGANGenerator, PatchDiscriminator, ResnetGenerator, UNetGenerator

__all__ = [
    "GAN", "DCGAN", "ConditionalGAN", "Pix2Pix", "CycleGAN",
    "DCGANGenerator", "DCGANDiscriminator", "UNetGenerator", "PatchDiscriminator",
    "ResnetGenerator", "ImagePool",
]
