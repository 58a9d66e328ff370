"""Building blocks shared by the networks."""

from __future__ import annotations

import keras
from keras import ops


def dcgan_initializer(seed=None):
    """N(0, 0.02), the DCGAN paper's weight init."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02, seed=seed)


NORMS = ("batch", "layer", "none")


def normalization(kind: str, name: str | None = None):
    """A normalization layer by name, or None for ``"none"``.

    Batch norm is synchronized: on one device it is plain batch norm, under
    ``tf.distribute`` its statistics cover the global batch, so a step on N
    replicas matches a step on one device.
    """
    if kind == "batch":
        return keras.layers.BatchNormalization(
            momentum=0.9, epsilon=1e-5, synchronized=True, name=name
        )
    if kind == "layer":
        return keras.layers.LayerNormalization(axis=[-3, -2, -1], epsilon=1e-5, name=name)
    if kind == "none":
        return None
    raise ValueError(f"Unknown normalization {kind!r}; choose one of {NORMS}.")


@keras.saving.register_keras_serializable(package="tfgan_zoo")
class ConcatLabelMaps(keras.layers.Layer):
    """Concatenates one-hot labels to an image as constant feature maps.

    ``(images [B,H,W,C], labels int [B]) -> [B,H,W,C+num_classes]``: the
    conditional-GAN discriminator input.
    """

    def __init__(self, num_classes: int, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)

    def call(self, images, labels):
        one_hot = ops.one_hot(ops.cast(labels, "int32"), self.num_classes, dtype=images.dtype)
        shape = ops.shape(images)
        maps = ops.broadcast_to(
            ops.reshape(one_hot, (-1, 1, 1, self.num_classes)),
            (shape[0], shape[1], shape[2], self.num_classes),
        )
        return ops.concatenate([images, maps], axis=-1)

    def compute_output_shape(self, images_shape, labels_shape=None):
        return (*images_shape[:-1], images_shape[-1] + self.num_classes)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}
