"""The AC-GAN discriminator (Odena et al. 2017): the DCGAN discriminator, whose
logit is the real/fake head, plus a class head on the same features."""

from __future__ import annotations

import keras
from keras import ops

from tfgan_zoo.layers import SpectralDense, dcgan_initializer
from tfgan_zoo.networks.dcgan import DCGANDiscriminator


@keras.saving.register_keras_serializable(package="tfgan_zoo")
class ACGANDiscriminator(keras.Model):
    """``images [B,H,W,C]`` -> ``(logits [B, 1], class_logits [B, num_classes])``, float32.

    It does not see the labels: the class head predicts them. The body is an
    unconditional :class:`~tfgan_zoo.networks.DCGANDiscriminator` (stride-2
    convolutions, LeakyReLU(0.2)); its flattened features feed both its own
    logit layer (real or fake) and a dense class head.

    Args:
        image_shape: ``(height, width, channels)`` of the images.
        num_classes: classes the class head scores.
        filters: width of the first block; deeper blocks double it (up to 8x).
        norm: ``"batch"``, ``"layer"`` or ``"none"`` after every block but the first.
        dropout: dropout after each block.
        spectral_norm: spectral normalization of every layer, the class head's too.
    """

    def __init__(
        self,
        image_shape=(28, 28, 1),
        num_classes: int = 10,
        filters: int = 64,
        norm: str = "batch",
        dropout: float = 0.0,
        spectral_norm: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)
        if self.num_classes < 2:
            raise ValueError(f"num_classes must be >= 2 for a class head, got {num_classes}.")
        # Positional: the unconditional DCGAN discriminator's (image_shape, num_classes=0, filters, norm, dropout).
        self.trunk = DCGANDiscriminator(image_shape, 0, filters, norm, dropout, spectral_norm=spectral_norm,
                                        name="trunk")
        self.image_shape, self.filters, self.norm = self.trunk.image_shape, int(filters), norm
        self.dropout, self.spectral_norm = float(dropout), bool(spectral_norm)
        dense = SpectralDense if self.spectral_norm else keras.layers.Dense
        self.class_head = dense(self.num_classes, kernel_initializer=dcgan_initializer(), dtype="float32",
                                name="class_head")

    def call(self, images, training=False):
        *feature_layers, logit_layer = self.trunk.body.layers
        features = images
        for layer in feature_layers:
            features = layer(features, training=training)
        return logit_layer(features), self.class_head(features)

    def build_for_inputs(self):
        self.trunk.build_for_inputs()  # the whole DCGAN discriminator, as its weights are saved
        self(ops.zeros((1, *self.image_shape)))

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
