"""The PatchGAN discriminator (Isola et al. 2017): classifies each receptive-field patch
of an image (70x70 with 3 strided layers) as real or generated."""

from __future__ import annotations

import dataclasses

import keras
from keras import ops

from tfgan_zoo.glossary import accepts_old_spellings
from tfgan_zoo.layers import BlockOptions, check_norm, dcgan_initializer, down_block


def _patch_strides(num_layers: int) -> list[int]:
    """Strides of the PatchGAN's 4x4 convolutions, the logits layer last."""
    return [2] * num_layers + [1, 1]


def patch_receptive_field(num_layers: int = 3) -> int:
    """Side in pixels of the input patch one PatchGAN logit sees (3 -> 70, 2 -> 34, 4 -> 142)."""
    field = 1
    for stride in reversed(_patch_strides(int(num_layers))):
        field = (field - 1) * stride + 4
    return field


def patch_output_size(image_size: int, num_layers: int = 3) -> int:
    """Side of the PatchGAN's logit map (256 -> 30 with 3 layers)."""
    size = int(image_size)
    for stride in _patch_strides(int(num_layers)):
        size = (size + 2 - 4) // stride + 1
    return size


def check_patch_layers(image_size: int, num_layers: int) -> None:
    """A ValueError unless ``num_layers`` stride-2 layers leave a logit map on ``image_size`` images."""
    if num_layers < 1 or patch_output_size(image_size, num_layers) < 1:
        raise ValueError(
            f"A PatchGAN with num_layers={num_layers} leaves no output on {image_size}x{image_size} "
            "images; use fewer layers (d_layers) or larger images."
        )


@keras.saving.register_keras_serializable(package="tfgan_zoo")
@accepts_old_spellings
class PatchDiscriminator(keras.Model):
    """``(conditions [B,H,W,input_channels], images [B,H,W,output_channels])`` -> float32
    logits ``[B, h, w, 1]``, one per patch: ``images`` are a translation's outputs (real
    targets or generated), ``conditions`` its inputs.

    ``C64-C128-C256`` (``num_layers`` stride-2 blocks, no normalization on
    the first), a stride-1 ``C512`` and a stride-1 1-channel convolution,
    all 4x4 with one pixel of zero padding: each logit sees a
    :func:`patch_receptive_field` square (70x70 by default).

    With ``input_channels=0`` it is unconditional (CycleGAN's): it takes the
    images ``[B,H,W,output_channels]`` alone. ``block_options``: the
    :class:`tfgan_zoo.layers.BlockOptions` of its blocks.
    """

    def __init__(
        self,
        image_size: int = 256,
        input_channels: int = 3,
        output_channels: int = 3,
        filters: int = 64,
        num_layers: int = 3,
        max_filters: int = 512,
        norm: str = "batch",
        block_options: BlockOptions | dict | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.image_size = int(image_size)
        self.input_channels = int(input_channels)
        self.output_channels = int(output_channels)
        self.filters = int(filters)
        self.num_layers = int(num_layers)
        self.max_filters = int(max_filters)
        self.norm = check_norm(norm)
        self.block_options = BlockOptions.of(block_options)
        check_patch_layers(self.image_size, self.num_layers)
        strides = _patch_strides(self.num_layers)
        if self.input_channels < 0:
            raise ValueError(f"input_channels must be >= 0 (0: unconditional), got {input_channels}.")
        self.pair = keras.layers.Concatenate(name="pair") if self.input_channels else None
        body = [
            down_block(
                min(self.filters * 2**level, self.max_filters), "none" if level == 0 else norm,
                strides=stride, padding="pad1", name=f"block_{level}", options=self.block_options,
            )
            for level, stride in enumerate(strides[:-1])
        ]
        body += [
            keras.layers.ZeroPadding2D(1),
            keras.layers.Conv2D(1, 4, kernel_initializer=dcgan_initializer(), dtype="float32", name="logits"),
        ]
        self.body = keras.Sequential(body, name="body")

    def call(self, inputs, training=False):
        if self.pair is None:
            return self.body(inputs, training=training)
        conditions, images = inputs
        return self.body(self.pair([conditions, images]), training=training)

    def build_for_inputs(self):
        size = self.image_size
        images = ops.zeros((1, size, size, self.output_channels))
        self(images if self.pair is None else (ops.zeros((1, size, size, self.input_channels)), images))

    def get_config(self):
        return {
            **super().get_config(),
            "image_size": self.image_size,
            "input_channels": self.input_channels,
            "output_channels": self.output_channels,
            "filters": self.filters,
            "num_layers": self.num_layers,
            "max_filters": self.max_filters,
            "norm": self.norm,
            "block_options": dataclasses.asdict(self.block_options),
        }
