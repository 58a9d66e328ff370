"""Conditional GAN (Mirza & Osindero 2014) on the DCGAN networks.

G sees ``concat(noise, one_hot(label))``; D sees the image with the one-hot
label broadcast to constant maps concatenated to its channels. ``fit`` takes
``(images, labels)`` batches with integer labels.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tfgan_zoo.models.dcgan import DCGAN


@keras.saving.register_keras_serializable(package="tfgan_zoo")
class ConditionalGAN(DCGAN):
    """DCGAN conditioned on a class label; same arguments plus ``num_classes``."""

    def __init__(self, latent_dim: int = 100, num_classes: int = 10, image_shape=(28, 28, 1), **kwargs):
        if int(num_classes) < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}; use DCGAN for no labels.")
        # Read by DCGAN.__init__ when it builds the networks.
        self.num_classes = int(num_classes)
        super().__init__(latent_dim=latent_dim, image_shape=image_shape, **kwargs)

    def generator_inputs(self, noise, conditions):
        return (noise, conditions)

    def discriminate(self, images, conditions, training=True):
        return self.discriminator((images, conditions), training=training)

    def sample(self, labels, seed: int = 0):
        """One image in [-1, 1] per label, from seeded noise."""
        labels = tf.convert_to_tensor(labels, tf.int32)
        noise = keras.random.normal((int(labels.shape[0]), self.latent_dim), seed=seed)
        return self.generate(noise, labels)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}
