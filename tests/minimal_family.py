"""A family in one file, to prove the family contract (tfgan_zoo/models/base/,
docs/adding_a_family.md): a hinge-loss GAN of two small MLPs, written against
:class:`~tfgan_zoo.models.base.AdversarialModel` and the base's public helpers
alone. With one line in tests/families.py it passes the same contract suite as
the package's families."""

from __future__ import annotations

import math

import keras
import numpy as np

from tfgan_zoo import losses as gan_losses
from tfgan_zoo.models.base import AdversarialModel, Metric, check_image_shape, training_noise, unpack_batch
from tfgan_zoo.options import Count, Seed
from tfgan_zoo.ranges import to_model_range


@keras.saving.register_keras_serializable(package="tests")
class MLPGenerator(keras.Model):
    """noise ``[B, latent_dim]`` -> images ``[B, *image_shape]`` in [-1, 1]."""

    def __init__(self, latent_dim: int = 8, image_shape=(8, 8, 1), units: int = 32, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim, self.image_shape, self.units = int(latent_dim), tuple(image_shape), int(units)
        self.hidden = keras.layers.Dense(self.units, activation="relu")
        self.pixels = keras.layers.Dense(math.prod(self.image_shape))
        self.tanh = keras.layers.Activation("tanh", dtype="float32")
        self.to_image = keras.layers.Reshape(self.image_shape)

    def call(self, noise, training=False):
        return self.tanh(self.to_image(self.pixels(self.hidden(noise))))

    def build_for_inputs(self):
        self(keras.ops.zeros((1, self.latent_dim)))

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim, "image_shape": self.image_shape,
                "units": self.units}


@keras.saving.register_keras_serializable(package="tests")
class MLPDiscriminator(keras.Model):
    """images -> float32 logits ``[B, 1]``."""

    def __init__(self, image_shape=(8, 8, 1), units: int = 32, **kwargs):
        super().__init__(**kwargs)
        self.image_shape, self.units = tuple(image_shape), int(units)
        self.body = keras.Sequential([
            keras.layers.Flatten(), keras.layers.Dense(self.units), keras.layers.LeakyReLU(0.2),
            keras.layers.Dense(1, dtype="float32"),
        ])

    def call(self, images, training=False):
        return self.body(images, training=training)

    def build_for_inputs(self):
        self(keras.ops.zeros((1, *self.image_shape)))

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape, "units": self.units}


@keras.saving.register_keras_serializable(package="tests")
class MinimalGAN(AdversarialModel):
    """Noise -> image with MLPs.

    Args:
        latent_dim: size of the noise vector.
        image_shape: ``(height, width, channels)`` of the images.
        units: width of the hidden layer of G and of D.
        seed: seed of the training noise stream.
    """

    num_classes = 0

    def __init__(self, latent_dim: Count = 8, image_shape=(8, 8, 1), units: Count = 32, seed: Seed = 0, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim, self.image_shape = int(latent_dim), tuple(image_shape)
        self.units, self.seed = int(units), int(seed)
        self.generator = MLPGenerator(self.latent_dim, self.image_shape, self.units, name="generator")
        self.discriminator = MLPDiscriminator(self.image_shape, self.units, name="discriminator")
        self.build_training_state((
            Metric("d_loss", "minimized", role="d_loss"),
            Metric("g_loss", "minimized", role="g_adversarial_loss"),
        ))

    @property
    def sampling_generator(self):
        return self.generator

    def split_batch(self, data):
        images, _ = unpack_batch(data)
        return check_image_shape(to_model_range(images), self.image_shape)

    def sample_inputs(self, count, seed=0):
        return np.random.default_rng(seed).standard_normal((count, self.latent_dim)).astype("float32"), None

    def generate(self, noise, conditions=None, training=False, averaged=True):
        return self.generator(noise, training=training)

    def call(self, noise, training=False):
        return self.generator(noise, training=training)

    def noise(self, local_batch, salt: int, step):
        """This replica's share of the global batch's noise for one sub-step."""
        return training_noise(local_batch, self.latent_dim, self.seed, salt, step)

    def compile(self, *, g_optimizer=None, d_optimizer=None, loss: gan_losses.PenaltyFreeLossName = "hinge",
                **kwargs):
        """Configures training.

        Args:
            g_optimizer, d_optimizer: optimizers (instances or names); default
                ``Adam(2e-4, beta_1=0.5)`` each.
            loss: the GAN loss: hinge, bce or lsgan.
            **kwargs: passed to ``keras.Model.compile``.
        """
        self.gan_loss = gan_losses.get(loss)
        if self.gan_loss.uses_gradient_penalty:
            raise ValueError(f"MinimalGAN has no gradient penalty, which loss {self.gan_loss.name!r} needs.")
        self.attach_optimizers(g_optimizer, d_optimizer, **kwargs)

    def train_step(self, data):
        images = self.split_batch(data)
        batch = keras.ops.shape(images)[0]
        with self.update(self.d_optimizer, [self.discriminator]) as update:
            fake = self.generator(self.noise(batch, 1, self.d_optimizer.iterations), training=True)
            d_loss = self.gan_loss.discriminator_loss(self.discriminator(images), self.discriminator(fake))
            update.minimize(d_loss)
        with self.update(self.g_optimizer, [self.generator]) as update:
            fake = self.generator(self.noise(batch, 2, self.g_optimizer.iterations), training=True)
            g_loss = self.gan_loss.generator_loss(self.discriminator(fake))
            update.minimize(g_loss)
        self.record({"d_loss": d_loss, "g_loss": g_loss})
        return self.step_logs(self.trackers())

    def test_step(self, data):
        images = self.split_batch(data)
        fake = self.generator(self.noise(keras.ops.shape(images)[0], 3, self.g_optimizer.iterations))
        fake_logits = self.discriminator(fake)
        self.record({
            "d_loss": self.gan_loss.discriminator_loss(self.discriminator(images), fake_logits),
            "g_loss": self.gan_loss.generator_loss(fake_logits),
        })
        return self.step_logs(self.trackers()[:2])

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim, "image_shape": self.image_shape,
                "units": self.units, "seed": self.seed}
