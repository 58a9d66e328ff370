"""GAN families: each a ``keras.Model`` trained by ``fit``."""

from tfgan_zoo.models.base import GAN
from tfgan_zoo.models.cgan import ConditionalGAN
from tfgan_zoo.models.cyclegan import CycleGAN, ImagePool, ResnetGenerator
from tfgan_zoo.models.dcgan import DCGAN, DCGANDiscriminator, DCGANGenerator
from tfgan_zoo.models.pix2pix import PatchDiscriminator, Pix2Pix, UNetGenerator

__all__ = [
    "GAN", "DCGAN", "ConditionalGAN", "Pix2Pix", "CycleGAN",
    "DCGANGenerator", "DCGANDiscriminator", "UNetGenerator", "PatchDiscriminator",
    "ResnetGenerator", "ImagePool",
]
