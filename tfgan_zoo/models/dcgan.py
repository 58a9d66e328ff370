"""The DCGAN family: DCGAN (Radford et al. 2016), noise -> image, and the
conditional GAN (Mirza & Osindero 2014) on the same networks.

Generator: dense projection to a small feature map, stride-2 transposed
convolutions with batch norm and ReLU, tanh output. Discriminator: stride-2
convolutions with LeakyReLU(0.2), batch norm after the first. Weights N(0, 0.02).
The conditional G sees ``concat(noise, one_hot(label))``; its D sees the
image with the one-hot label broadcast to constant maps concatenated to its
channels; ``fit`` takes ``(images, labels)`` batches.
"""

from __future__ import annotations

import keras

from tfgan_zoo.layers import DiscriminatorNorm
from tfgan_zoo.options import Classes, Count, Fraction, Seed
from tfgan_zoo.models.base import NoiseToImageGAN, class_ids
from tfgan_zoo.networks.dcgan import DCGANDiscriminator, DCGANGenerator, validate_image_shape


@keras.saving.register_keras_serializable(package="tfgan_zoo")
class DCGAN(NoiseToImageGAN):
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
        latent_dim: Count = 100,
        image_shape=(28, 28, 1),
        g_filters: Count = 64,
        d_filters: Count = 64,
        d_norm: DiscriminatorNorm = "batch",
        d_dropout: Fraction = 0.0,
        d_spectral_norm: bool = False,
        diffaugment: str = "",
        ema_decay: Fraction = 0.0,
        seed: Seed = 0,
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
        self.build_training_state()
        self.keep_average(ema_decay)

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


@keras.saving.register_keras_serializable(package="tfgan_zoo")
class ConditionalGAN(DCGAN):
    """DCGAN conditioned on a class label; the same arguments plus ``num_classes``.

    Labels, wherever they go in (``fit``, ``generate``, ``model((noise,
    labels))``, ``predict``), are class ids ``[N]`` or ``[N, 1]`` (any integer
    type, or a Python list) or one-hot rows ``[N, num_classes]``.

    Args:
        num_classes: number of classes (labels are ids 0..num_classes-1).
    """

    def __init__(self, latent_dim: Count = 100, num_classes: Classes = 10, image_shape=(28, 28, 1),
                 **kwargs):
        # Read by DCGAN.__init__ when it builds the networks.
        self.num_classes = int(num_classes)
        super().__init__(latent_dim=latent_dim, image_shape=image_shape, **kwargs)

    def generator_inputs(self, noise, conditions):
        # Labels as any input takes them (ids, [N, 1], one-hot rows, a list), checked to be classes.
        return (noise, class_ids(conditions, self.num_classes))

    def discriminate(self, images, conditions, training=True):
        return self.discriminator((images, conditions), training=training)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}
