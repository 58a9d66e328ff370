"""The networks the families are built from, each a ``keras.Model`` with ``get_config``
and ``build_for_inputs``. A family module imports networks from here, never
from another family."""

from tfgan_zoo.networks.acgan import ACGANDiscriminator
from tfgan_zoo.networks.dcgan import DCGANDiscriminator, DCGANGenerator, upsampling_plan
from tfgan_zoo.networks.patchgan import PatchDiscriminator, patch_output_size, patch_receptive_field
from tfgan_zoo.networks.resnet import ResnetGenerator, default_num_blocks
from tfgan_zoo.networks.translator import ImageTranslator
from tfgan_zoo.networks.unet import UNetGenerator, unet_depth

__all__ = [
    "ACGANDiscriminator", "DCGANDiscriminator", "DCGANGenerator", "ImageTranslator", "PatchDiscriminator", "ResnetGenerator", "UNetGenerator",
    "default_num_blocks", "patch_output_size", "patch_receptive_field", "unet_depth", "upsampling_plan",
]
