"""The pix2pix U-Net generator (Isola et al. 2017): stride-2 4x4 convolutions down to a
bottleneck, transposed convolutions back up, each decoder block concatenated with
the encoder block of the same resolution."""

from __future__ import annotations

import dataclasses

import keras

from tfgan_zoo.layers import BlockOptions, check_norm, dcgan_initializer, down_block, up_block
from tfgan_zoo.networks.translator import ImageTranslator


def unet_depth(image_size: int, depth: int | None = None) -> int:
    """Number of stride-2 levels of the U-Net: ``depth``, checked, or by
    default as many as ``image_size`` halves evenly (256 -> 8, down to 1x1;
    96 -> 5, down to 3x3)."""
    image_size = int(image_size)
    halvings, size = 0, image_size
    while size > 1 and size % 2 == 0:
        halvings, size = halvings + 1, size // 2
    if halvings == 0:
        raise ValueError(
            f"image_size {image_size} is odd, but each U-Net level halves the image; "
            "use a size like 256, 128 or 96."
        )
    depth = halvings if depth is None else int(depth)
    if not 1 <= depth <= halvings:
        raise ValueError(
            f"image_size {image_size} is not divisible by 2**depth = 2**{depth}: each U-Net level "
            f"halves the image. Use a depth from 1 to {halvings} for this size (96 goes down to "
            "depth 5), or another image size."
        )
    return depth


@keras.saving.register_keras_serializable(package="tfgan_zoo")
class UNetGenerator(ImageTranslator):
    """``images [B, S, S, input_channels]`` in [-1, 1] -> ``[B, S, S, output_channels]`` in [-1, 1].

    Encoder ``C64-C128-C256-C512-C512-...`` (filters double per level up to
    ``max_filters``), no normalization on the first block, nor on the
    innermost one unless ``innermost_norm`` (the TF tutorial's): normalizing
    a 1x1 bottleneck over a batch of one (or per instance) sets it to a
    constant. The decoder mirrors it with dropout 0.5 in its first
    ``dropout_blocks`` blocks, pix2pix's only source of noise; it is active
    in training only. ``block_options``: the
    :class:`tfgan_zoo.layers.BlockOptions` of its blocks.
    """

    def __init__(
        self,
        image_size: int = 256,
        input_channels: int = 3,
        output_channels: int = 3,
        filters: int = 64,
        max_filters: int = 512,
        depth: int | None = None,
        dropout_blocks: int = 3,
        norm: str = "batch",
        block_options: BlockOptions | dict | None = None,
        innermost_norm: bool = False,
        **kwargs,
    ):
        super().__init__(image_size, input_channels, output_channels, filters, **kwargs)
        self.depth = unet_depth(self.image_size, depth)
        self.max_filters = int(max_filters)
        self.dropout_blocks = int(dropout_blocks)
        self.norm = check_norm(norm)
        self.block_options = BlockOptions.of(block_options)
        self.innermost_norm = bool(innermost_norm)
        widths = [min(self.filters * 2**level, self.max_filters) for level in range(self.depth)]
        unnormalized = {0} if self.innermost_norm else {0, self.depth - 1}
        self.down = [
            down_block(
                width, "none" if level in unnormalized else norm, name=f"down_{level}", options=self.block_options
            )
            for level, width in enumerate(widths)
        ]
        # Decoder block i brings the bottleneck up to encoder level depth-2-i
        # and is joined to that level's output.
        up_levels = list(reversed(range(self.depth - 1)))
        self.up = [
            up_block(
                widths[level], norm, dropout=0.5 if i < self.dropout_blocks else 0.0, name=f"up_{level}",
                options=self.block_options,
            )
            for i, level in enumerate(up_levels)
        ]
        self.skips = [keras.layers.Concatenate(name=f"skip_{level}") for level in up_levels]
        self.to_image = keras.layers.Conv2DTranspose(
            self.output_channels, 4, strides=2, padding="same", kernel_initializer=dcgan_initializer(),
            name="to_image",
        )
        # tanh in float32: under mixed precision the images G hands to D and
        # to users keep full precision.
        self.tanh = keras.layers.Activation("tanh", dtype="float32", name="tanh")

    def call(self, inputs, training=False):
        x, features = inputs, []
        for block in self.down:
            x = block(x, training=training)
            features.append(x)
        for block, skip, encoded in zip(self.up, self.skips, reversed(features[:-1])):
            x = skip([block(x, training=training), encoded])
        return self.tanh(self.to_image(x))

    def get_config(self):
        return {
            **super().get_config(),
            "max_filters": self.max_filters,
            "depth": self.depth,
            "dropout_blocks": self.dropout_blocks,
            "norm": self.norm,
            "block_options": dataclasses.asdict(self.block_options),
            "innermost_norm": self.innermost_norm,
        }
