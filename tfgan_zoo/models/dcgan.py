"""DCGAN (Radford et al. 2016): noise -> image.

Generator: dense projection to a small feature map, stride-2 transposed
convolutions with batch norm and ReLU, tanh output. Discriminator: stride-2
convolutions with LeakyReLU(0.2), batch norm after the first. Weights N(0, 0.02).
Both networks take ``num_classes``: with it they become the conditional GAN's
networks (see :mod:`tfgan_zoo.models.cgan`).
"""

from __future__ import annotations

import keras

from tfgan_zoo.models.base import GAN
from tfgan_zoo.networks.dcgan import DCGANDiscriminator, DCGANGenerator, validate_image_shape


@keras.saving.register_keras_serializable(package="tfgan_zoo")
class DCGAN(GAN):
    """Unconditional DCGAN. ``fit`` takes batches of images in [-1, 1]
    (or ``(images, anything)`` tuples, whose second part is ignored).

    Args:
        latent_dim: size of the noise vector.
        image_shape: ``(height, width, channels)``, e.g. (28, 28, 1), (64, 64, 3).
        g_filters, d_filters: width of the last G block and the first D block;
            deeper blocks double it (up to 8x).
        d_norm: ``"batch"`` (the paper), ``"layer"`` (for ``wgan-gp``) or ``"none"``.
        d_dropout: dropout after each D block.
        d_spectral_norm: spectral normalization of D's layers.
        diffaugment: DiffAugment policy applied to every image D sees, real
            and generated, e.g. ``"color,translation,cutout"``; ``""``: off.
        ema_decay: keep an exponential moving average of G's weights with
            this decay (e.g. 0.999) and sample and export from it; 0: off.
        seed: seed of the training noise stream.
    """

    num_classes = 0

    def __init__(
        self,
        latent_dim: int = 100,
        image_shape=(28, 28, 1),
        g_filters: int = 64,
        d_filters: int = 64,
        d_norm: str = "batch",
        d_dropout: float = 0.0,
        d_spectral_norm: bool = False,
        diffaugment: str = "",
        ema_decay: float = 0.0,
        seed: int = 0,
        **kwargs,
    ):
        super().__init__(seed=seed, diffaugment=diffaugment, **kwargs)
        self.latent_dim = int(latent_dim)
        self.image_shape = validate_image_shape(image_shape)
        self.g_filters = int(g_filters)
        self.d_filters = int(d_filters)
        self.d_norm = d_norm
        self.d_dropout = float(d_dropout)
        self.d_spectral_norm = bool(d_spectral_norm)
        self.generator = DCGANGenerator(
            self.latent_dim, self.image_shape, self.num_classes, self.g_filters, name="generator"
        )
        self.discriminator = DCGANDiscriminator(
            self.image_shape, self.num_classes, self.d_filters, d_norm, self.d_dropout,
            spectral_norm=self.d_spectral_norm, name="discriminator",
        )
        # Variables exist from construction on: inside a strategy scope they
        # are mirrored, and checkpoints can be restored before the first step.
        self.generator.build_for_inputs()
        self.discriminator.build_for_inputs()
        self._setup_ema(ema_decay)
        self.built = True

    def sample(self, num_samples: int, seed: int = 0):
        """``num_samples`` images in [-1, 1] from seeded noise."""
        noise = keras.random.normal((num_samples, self.latent_dim), seed=seed)
        return self.generate(noise)

    def get_config(self):
        return {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "image_shape": self.image_shape,
            "g_filters": self.g_filters,
            "d_filters": self.d_filters,
            "d_norm": self.d_norm,
            "d_dropout": self.d_dropout,
            "d_spectral_norm": self.d_spectral_norm,
            "diffaugment": ",".join(self.diffaugment),
            "ema_decay": self.ema_decay,
            "seed": self.seed,
        }
