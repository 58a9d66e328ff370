"""GAN families: each a ``keras.Model`` trained by ``fit``."""

from tfgan_zoo.models.acgan import ACGAN
from tfgan_zoo.models.base import GAN, NoiseToImageGAN
from tfgan_zoo.models.cyclegan import CycleGAN, ImagePool
from tfgan_zoo.models.dcgan import DCGAN, ConditionalGAN
from tfgan_zoo.models.pix2pix import Pix2Pix
from tfgan_zoo.networks import (
    ACGANDiscriminator, DCGANDiscriminator, DCGANGenerator, PatchDiscriminator, ResnetGenerator, UNetGenerator,
)

__all__ = [
    "NoiseToImageGAN", "GAN", "DCGAN", "ConditionalGAN", "ACGAN", "Pix2Pix", "CycleGAN",
    "DCGANGenerator", "DCGANDiscriminator", "ACGANDiscriminator", "UNetGenerator", "PatchDiscriminator",
    "ResnetGenerator", "ImagePool",
]
