"""DCGAN (Radford et al. 2016) networks: noise -> image generator and image -> logit
discriminator; with ``num_classes`` the conditional GAN's networks. Weights N(0, 0.02)."""

from __future__ import annotations

import keras
from keras import ops

from tfgan_zoo.glossary import accepts_old_spellings
from tfgan_zoo.layers import ConcatLabelMaps, SpectralConv2D, SpectralDense, dcgan_initializer, normalization


def upsampling_plan(image_shape) -> tuple[int, int, int]:
    """``(start_height, start_width, num_stride2_blocks)`` to reach ``image_shape``.

    Halve both sides while they stay even and at least 4: 28 -> 7 in 2 blocks,
    64 -> 4 in 4 blocks, 96 -> 6 in 4 blocks.
    """
    height, width = int(image_shape[0]), int(image_shape[1])
    blocks = 0
    while height % 2 == 0 and width % 2 == 0 and height // 2 >= 4 and width // 2 >= 4:
        height, width, blocks = height // 2, width // 2, blocks + 1
    if blocks == 0:
        raise ValueError(
            f"Image shape {tuple(image_shape)} cannot be reached by stride-2 upsampling; "
            "use even sides of at least 8 (e.g. 28, 32, 64, 128)."
        )
    return height, width, blocks


def validate_image_shape(image_shape):
    image_shape = tuple(int(s) for s in image_shape)
    if len(image_shape) != 3 or image_shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"image_shape must be (height, width, channels) with 1, 3 or 4 channels, got {image_shape}."
        )
    return image_shape


def _filters(filters, level, max_multiplier=8):
    return filters * min(2**level, max_multiplier)


@keras.saving.register_keras_serializable(package="tfgan_zoo")
@accepts_old_spellings
class DCGANGenerator(keras.Model):
    """``noise [B, latent_dim]`` (and ``labels [B]`` if conditional) -> images in [-1, 1].

    ``filters``: width of its last upsampling block; earlier blocks double it (up to 8x).
    """

    def __init__(
        self,
        latent_dim: int = 100,
        image_shape=(28, 28, 1),
        num_classes: int = 0,
        filters: int = 64,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.latent_dim = int(latent_dim)
        self.image_shape = validate_image_shape(image_shape)
        self.num_classes = int(num_classes)
        self.filters = int(filters)
        start_h, start_w, blocks = upsampling_plan(self.image_shape)
        init = dcgan_initializer()
        start_filters = _filters(self.filters, blocks - 1)
        body = [
            keras.layers.Dense(start_h * start_w * start_filters, use_bias=False, kernel_initializer=init),
            normalization("batch"),
            keras.layers.ReLU(),
            keras.layers.Reshape((start_h, start_w, start_filters)),
        ]
        for level in reversed(range(blocks - 1)):
            body += [
                keras.layers.Conv2DTranspose(
                    _filters(self.filters, level), 4, strides=2, padding="same",
                    use_bias=False, kernel_initializer=init,
                ),
                normalization("batch"),
                keras.layers.ReLU(),
            ]
        body += [
            keras.layers.Conv2DTranspose(
                self.image_shape[-1], 4, strides=2, padding="same", kernel_initializer=init
            ),
            # tanh in float32: under mixed precision the images G hands to D
            # and to users keep full precision.
            keras.layers.Activation("tanh", dtype="float32"),
        ]
        self.body = keras.Sequential(body, name="body")

    def call(self, inputs, training=False):
        if self.num_classes:
            noise, labels = inputs
            one_hot = ops.one_hot(ops.cast(labels, "int32"), self.num_classes, dtype=noise.dtype)
            inputs = ops.concatenate([noise, one_hot], axis=-1)
        return self.body(inputs, training=training)

    def build_for_inputs(self):
        """Creates the variables by one call on dummy inputs."""
        noise = ops.zeros((1, self.latent_dim))
        self(( noise, ops.zeros((1,), "int32")) if self.num_classes else noise)

    def get_config(self):
        return {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "image_shape": self.image_shape,
            "num_classes": self.num_classes,
            "filters": self.filters,
        }


@keras.saving.register_keras_serializable(package="tfgan_zoo")
@accepts_old_spellings
class DCGANDiscriminator(keras.Model):
    """``images [B,H,W,C]`` (and ``labels [B]`` if conditional) -> one float32 logit each.

    With ``spectral_norm``, every convolution and the logit layer are
    spectrally normalized (Miyato et al. 2018), which bounds D's Lipschitz
    constant; usually combined with ``norm="none"``. ``filters``: width of its
    first block; deeper blocks double it (up to 8x).
    """

    def __init__(
        self,
        image_shape=(28, 28, 1),
        num_classes: int = 0,
        filters: int = 64,
        norm: str = "batch",
        dropout: float = 0.0,
        spectral_norm: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.image_shape = validate_image_shape(image_shape)
        self.num_classes = int(num_classes)
        self.filters = int(filters)
        self.norm = norm
        self.dropout = float(dropout)
        self.spectral_norm = bool(spectral_norm)
        conv = SpectralConv2D if self.spectral_norm else keras.layers.Conv2D
        dense = SpectralDense if self.spectral_norm else keras.layers.Dense
        _, _, blocks = upsampling_plan(self.image_shape)
        init = dcgan_initializer()
        self.label_maps = ConcatLabelMaps(self.num_classes) if self.num_classes else None
        body = []
        for level in range(blocks):
            body.append(
                conv(
                    _filters(self.filters, level), 4, strides=2, padding="same",
                    use_bias=level == 0 or norm == "none", kernel_initializer=init,
                )
            )
            norm_layer = normalization(norm) if level > 0 else None
            if norm_layer is not None:
                body.append(norm_layer)
            body.append(keras.layers.LeakyReLU(negative_slope=0.2))
            if self.dropout:
                body.append(keras.layers.Dropout(self.dropout))
        body += [
            keras.layers.Flatten(),
            dense(1, kernel_initializer=init, dtype="float32"),
        ]
        self.body = keras.Sequential(body, name="body")

    def call(self, inputs, training=False):
        if self.num_classes:
            images, labels = inputs
            inputs = self.label_maps(images, labels)
        return self.body(inputs, training=training)

    def build_for_inputs(self):
        images = ops.zeros((1, *self.image_shape))
        self((images, ops.zeros((1,), "int32")) if self.num_classes else images)

    def get_config(self):
        return {
            **super().get_config(),
            "image_shape": self.image_shape,
            "num_classes": self.num_classes,
            "filters": self.filters,
            "norm": self.norm,
            "dropout": self.dropout,
            "spectral_norm": self.spectral_norm,
        }
