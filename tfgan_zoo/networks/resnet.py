"""The CycleGAN ResNet generator (Johnson et al. 2016): a 7x7 stem, two stride-2
down-samplings, residual blocks, two up-samplings and a 7x7 tanh output."""

from __future__ import annotations

import keras

from tfgan_zoo.layers import ReflectionPadding2D, check_norm, dcgan_initializer, normalization
from tfgan_zoo.networks.translator import ImageTranslator


def default_num_blocks(image_size: int) -> int:
    """The paper's residual-block count: 9 for 256x256 images and larger, 6 below."""
    return 9 if int(image_size) >= 256 else 6


def check_image_size(image_size: int) -> None:
    """A ValueError unless the generator's two stride-2 levels, down and back up, keep ``image_size``."""
    if image_size < 8 or image_size % 4:
        raise ValueError(
            f"image_size must be a multiple of 4 and at least 8 (two stride-2 levels), got {image_size}."
        )


def _norm_relu(norm: str, relu: bool = True) -> list:
    layers = [layer for layer in [normalization(norm)] if layer is not None]
    return layers + [keras.layers.ReLU()] if relu else layers


def _conv_block(layers, norm: str, relu: bool = True, name: str | None = None) -> keras.Sequential:
    """``layers`` (padding, a convolution), then normalization and ReLU."""
    return keras.Sequential([*layers, *_norm_relu(norm, relu)], name=name)


def _conv(filters: int, size: int, norm: str, strides: int = 1):
    # A normalization right after the convolution makes a bias redundant: its
    # learned offset plays that part.
    return keras.layers.Conv2D(
        filters, size, strides=strides, padding="valid", use_bias=norm == "none",
        kernel_initializer=dcgan_initializer(),
    )


@keras.saving.register_keras_serializable(package="tfgan_zoo")
class ResnetGenerator(ImageTranslator):
    """``images [B, S, S, input_channels]`` in [-1, 1] -> ``[B, S, S, output_channels]`` in [-1, 1].

    The paper's ``c7s1-64, d128, d256, R256 x num_blocks, u128, u64, c7s1-3``:

    * ``c7s1-k``: reflection padding 3, 7x7 convolution, normalization, ReLU;
    * ``dk``: 3x3 convolution with stride 2 (one pixel of zero padding),
      normalization, ReLU;
    * ``Rk``: residual block, ``x + (pad, 3x3 conv, norm, ReLU, pad, 3x3 conv,
      norm)(x)`` with reflection padding 1 and, as in the reference
      implementation, no ReLU after the second normalization or the sum;
    * ``uk``: 3x3 transposed convolution with stride 2, normalization, ReLU;
    * the output: reflection padding 3, 7x7 convolution to ``output_channels``,
      tanh in float32 (under mixed precision too).

    ``filters`` is the width of the first block (64 in the paper). ``image_size``
    must be a multiple of 4, at least 8. Weights N(0, 0.02).
    """

    def __init__(
        self,
        image_size: int = 256,
        input_channels: int = 3,
        output_channels: int = 3,
        filters: int = 64,
        num_blocks: int | None = None,
        norm: str = "instance",
        **kwargs,
    ):
        super().__init__(image_size, input_channels, output_channels, filters, **kwargs)
        check_image_size(self.image_size)
        self.num_blocks = default_num_blocks(self.image_size) if num_blocks is None else int(num_blocks)
        if self.num_blocks < 0:
            raise ValueError(f"num_blocks must be >= 0, got {num_blocks}.")
        self.norm = check_norm(norm)
        width = self.filters
        self.stem = _conv_block([ReflectionPadding2D(3), _conv(width, 7, norm)], norm, name="c7s1")
        self.down = [
            _conv_block(
                [keras.layers.ZeroPadding2D(1), _conv(width * 2**level, 3, norm, strides=2)], norm,
                name=f"down_{level}",
            )
            for level in (1, 2)
        ]
        self.residual = [
            _conv_block(
                [
                    ReflectionPadding2D(1), _conv(width * 4, 3, norm),
                    *_norm_relu(norm),
                    ReflectionPadding2D(1), _conv(width * 4, 3, norm),
                ],
                norm, relu=False, name=f"residual_{index}",
            )
            for index in range(self.num_blocks)
        ]
        self.residual_sums = [keras.layers.Add(name=f"residual_sum_{index}") for index in range(self.num_blocks)]
        self.up = [
            _conv_block(
                [
                    keras.layers.Conv2DTranspose(
                        width * 2**level, 3, strides=2, padding="same", use_bias=norm == "none",
                        kernel_initializer=dcgan_initializer(),
                    )
                ],
                norm, name=f"up_{level}",
            )
            for level in (1, 0)
        ]
        self.to_image = keras.Sequential(
            [
                ReflectionPadding2D(3),
                keras.layers.Conv2D(self.output_channels, 7, kernel_initializer=dcgan_initializer()),
            ],
            name="to_image",
        )
        # tanh in float32: under mixed precision the images G hands to D, to
        # the cycle loss and to users keep full precision.
        self.tanh = keras.layers.Activation("tanh", dtype="float32", name="tanh")

    def call(self, inputs, training=False):
        x = self.stem(inputs, training=training)
        for block in self.down:
            x = block(x, training=training)
        for block, add in zip(self.residual, self.residual_sums):
            x = add([x, block(x, training=training)])
        for block in self.up:
            x = block(x, training=training)
        return self.tanh(self.to_image(x, training=training))

    def get_config(self):
        return {
            **super().get_config(),
            "num_blocks": self.num_blocks,
            "norm": self.norm,
        }
