"""AC-GAN (Odena et al. 2017, "Conditional Image Synthesis with Auxiliary
Classifier GANs"): a class-conditional G, and a D that does not see the label
but predicts it.

G is the conditional DCGAN generator (``concat(noise, one_hot(label))``). D
has two heads on one body (:class:`~tfgan_zoo.networks.ACGANDiscriminator`):
real or fake, and the class. With ``aux_weight`` lambda and class
cross-entropy CE:

* D's loss: the GAN loss + lambda * (CE(D's class of real, label) +
  CE(D's class of fake, label it was made for));
* G's loss: the GAN loss + lambda * CE(D's class of fake, label it was made for).

``fit`` takes ``(images, labels)`` batches (or ``{"image", "label"}`` dicts);
each fake is made for the label of the real image beside it in the batch, so
G's classes follow the data's. Built from the package's public components:
DiffAugment, an EMA generator and the WGAN-GP gradient penalty.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfgan_zoo import losses as gan_losses
from tfgan_zoo.augment import DiffAugment
from tfgan_zoo.layers import DiscriminatorNorm
from tfgan_zoo.models.base import (
    AdversarialModel, ExponentialMovingAverage, GradientPenalty, Metric, class_ids, has_batch_norm,
    noise_and_labels, sampling_inputs, split_labelled_images, training_noise,
)
from tfgan_zoo.networks.acgan import ACGANDiscriminator
from tfgan_zoo.networks.dcgan import DCGANGenerator, validate_image_shape
from tfgan_zoo.options import Classes, Count, Fraction, NonNegative, NonNegativeInt, Seed

# Salts that keep the random streams of the different sub-steps apart.
_D_NOISE, _G_NOISE, _GP_EPSILON, _AUGMENT_REAL, _AUGMENT_FAKE, _AUGMENT_G, _EVAL_NOISE = 1, 2, 3, 4, 5, 6, 7

_METRICS = (
    Metric("d_loss", "minimized", role="d_loss"),
    Metric("g_loss", "minimized"),
    Metric("g_gan", "minimized", role="g_adversarial_loss"),
    Metric("d_aux", "minimized"),
    Metric("g_aux", "minimized"),
    Metric("d_class_accuracy", "maximized"),
    Metric("d_real", "neither", role="d_real_score"),
    Metric("d_fake", "neither", role="d_fake_score"),
    GradientPenalty.metric,
)
_EVALUATED = ("d_loss", "g_loss", "g_gan", "d_aux", "g_aux", "d_class_accuracy", "d_real", "d_fake")


def _class_loss(class_logits, labels):
    """Per-example cross-entropy of D's class logits against the class ids."""
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels, tf.cast(class_logits, tf.float32))


def _accuracy(class_logits, labels):
    """Per example: 1 where D's most likely class is the label, else 0."""
    return tf.cast(tf.equal(tf.argmax(class_logits, axis=-1, output_type=tf.int32), labels), tf.float32)


@keras.saving.register_keras_serializable(package="tfgan_zoo")
class ACGAN(AdversarialModel):
    """Class-conditional noise -> image with an auxiliary classifier D.

    Metrics: ``d_loss`` and ``g_loss`` (each network's whole objective),
    ``g_gan`` (G's adversarial part), ``d_aux`` (D's class cross-entropy on
    real plus on generated images), ``g_aux`` (on generated images),
    ``d_class_accuracy`` (D's class accuracy on real images: higher is
    better), ``d_real``/``d_fake`` (D's scores), ``gp`` under wgan-gp.

    Args:
        latent_dim: size of the noise vector.
        num_classes: number of classes (labels are ids 0..num_classes-1).
        image_shape: ``(height, width, channels)``, e.g. (28, 28, 1), (64, 64, 3).
        g_filters, d_filters: width of the last G block and the first D block;
            deeper blocks double it (up to 8x).
        d_norm: ``"batch"``, ``"layer"`` (for ``wgan-gp``) or ``"none"``.
        d_dropout: dropout after each D block.
        d_spectral_norm: spectral normalization of D's layers.
        aux_weight: weight of the class cross-entropy in D's and G's losses
            (the paper's: 1).
        diffaugment: DiffAugment policy applied to every image D sees, e.g.
            ``"color,translation,cutout"``; ``""``: off.
        ema_decay: keep an exponential moving average of G's weights with
            this decay (e.g. 0.999) and sample and export from it; 0: off.
        seed: seed of the training noise stream.
    """

    def __init__(
        self,
        latent_dim: Count = 100,
        num_classes: Classes = 10,
        image_shape=(28, 28, 1),
        g_filters: Count = 64,
        d_filters: Count = 64,
        d_norm: DiscriminatorNorm = "batch",
        d_dropout: Fraction = 0.0,
        d_spectral_norm: bool = False,
        aux_weight: NonNegative = 1.0,
        diffaugment: str = "",
        ema_decay: Fraction = 0.0,
        seed: Seed = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.latent_dim, self.num_classes = int(latent_dim), int(num_classes)
        self.image_shape = validate_image_shape(image_shape)
        self.g_filters, self.d_filters, self.d_norm = int(g_filters), int(d_filters), d_norm
        self.d_dropout, self.d_spectral_norm = float(d_dropout), bool(d_spectral_norm)
        self.aux_weight, self.seed = float(aux_weight), int(seed)
        self.augment = DiffAugment(diffaugment, self.seed)
        self.generator = DCGANGenerator(
            self.latent_dim, self.image_shape, self.num_classes, self.g_filters, name="generator"
        )
        self.discriminator = ACGANDiscriminator(
            self.image_shape, self.num_classes, self.d_filters, d_norm, self.d_dropout,
            spectral_norm=self.d_spectral_norm, name="discriminator",
        )
        self.build_training_state(_METRICS)
        self.average = ExponentialMovingAverage(self.generator, ema_decay) if float(ema_decay) else None
        self.ema_generator = self.average.network if self.average is not None else None

    # ------------------------------------------------------------ sampling
    def sample_inputs(self, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """``(noise, labels)`` for ``count`` samples, every class equally often."""
        return sampling_inputs(count, self.latent_dim, self.num_classes, seed)

    @property
    def sampling_generator(self):
        """The generator that samples, evaluations and exports use: the EMA one if kept."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    def generate(self, noise, conditions=None, training=False, averaged=True):
        """G's images for ``noise`` and labels ``conditions`` (class ids ``[N]`` or
        ``[N, 1]``, a Python list, or one-hot rows); outside training (and with
        ``averaged``) from the EMA generator when there is one."""
        generator = self.sampling_generator if averaged and not training else self.generator
        return generator((noise, class_ids(conditions, self.num_classes)), training=training)

    def call(self, inputs, training=False):
        """G on ``(noise, labels)``, labels as :meth:`generate` takes them: outside
        training the EMA generator when there is one."""
        return self.generate(*noise_and_labels(inputs, type(self).__name__), training=training)

    # ------------------------------------------------------------- compile
    def compile(
        self,
        *,
        g_optimizer=None,
        d_optimizer=None,
        loss: gan_losses.LossName | gan_losses.GANLoss = "bce",
        label_smoothing: gan_losses.LabelSmoothing = 0.0,
        gp_weight: NonNegative = 10.0,
        freeze_d_layers: NonNegativeInt = 0,
        **kwargs,
    ):
        """Configures training.

        Args:
            g_optimizer, d_optimizer: optimizers (instances or names); default
                ``Adam(2e-4, beta_1=0.5)`` each, the paper's. Wrapped in
                ``LossScaleOptimizer`` automatically under ``mixed_float16``.
            loss: the GAN loss of the real/fake head: bce (the paper), lsgan,
                hinge or wgan-gp (or a :class:`tfgan_zoo.losses.GANLoss`).
            label_smoothing: one-sided smoothing of D's real target (bce, lsgan).
            gp_weight: weight of the gradient penalty (wgan-gp only).
            freeze_d_layers: FreezeD (Mo et al. 2020) for fine-tuning from a
                preset: the first N blocks of the discriminator stop training.
            **kwargs: passed to ``keras.Model.compile`` (``jit_compile``,
                ``steps_per_execution``, ...).
        """
        self.gan_loss = gan_losses.get(loss, label_smoothing)
        if self.gan_loss.uses_gradient_penalty and has_batch_norm(self.discriminator):
            raise ValueError(
                "The wgan-gp gradient penalty is per example, but this discriminator uses batch "
                "normalization, which mixes examples. Build the model with d_norm='layer' (or 'none')."
            )
        self.penalty = GradientPenalty(gp_weight, self.seed, _GP_EPSILON)
        self.attach_optimizers(g_optimizer, d_optimizer, freeze_d_layers=freeze_d_layers, **kwargs)

    def compile_options(self) -> dict:
        return {"loss": self.gan_loss.name, "label_smoothing": self.gan_loss.label_smoothing,
                "gp_weight": self.penalty.weight}

    def logged_metrics(self) -> tuple[Metric, ...]:
        penalized = getattr(self, "gan_loss", None) is not None and self.gan_loss.uses_gradient_penalty
        return tuple(m for m in super().logged_metrics() if penalized or m != GradientPenalty.metric)

    # ---------------------------------------------------------- train step
    def split_batch(self, data):
        """``(real_images, class ids)``: images uint8 or in [-1, 1], labels ids or one-hot rows."""
        return split_labelled_images(data, self.image_shape, self.num_classes, type(self).__name__)

    def _discriminator_figures(self, real_outputs, fake_outputs, labels) -> dict:
        """Per-example ``d_loss`` (GAN + aux_weight * d_aux) and D's other figures."""
        (real_logits, real_classes), (fake_logits, fake_classes) = real_outputs, fake_outputs
        d_aux = _class_loss(real_classes, labels) + _class_loss(fake_classes, labels)
        return {
            "d_loss": self.gan_loss.discriminator_loss(real_logits, fake_logits) + self.aux_weight * d_aux,
            "d_aux": d_aux,
            "d_class_accuracy": _accuracy(real_classes, labels),
            "d_real": self.gan_loss.score(real_logits),
            "d_fake": self.gan_loss.score(fake_logits),
        }

    def _generator_figures(self, fake_outputs, labels) -> dict:
        """Per-example ``g_loss`` (GAN + aux_weight * g_aux) and its two terms."""
        fake_logits, fake_classes = fake_outputs
        g_gan, g_aux = self.gan_loss.generator_loss(fake_logits), _class_loss(fake_classes, labels)
        return {"g_loss": g_gan + self.aux_weight * g_aux, "g_gan": g_gan, "g_aux": g_aux}

    def train_step(self, data):
        real_images, labels = self.split_batch(data)
        local_batch = tf.shape(real_images)[0]
        self._train_discriminator(real_images, labels, local_batch)
        self._train_generator(labels, local_batch)
        return self.step_logs(self.trackers())

    def _train_discriminator(self, real_images, labels, local_batch):
        step = self.d_optimizer.iterations
        noise = training_noise(local_batch, self.latent_dim, self.seed, _D_NOISE, step)
        fake_images = tf.cast(self.generate(noise, labels, training=True), tf.float32)
        with self.update(self.d_optimizer, [self.discriminator]) as update:
            real_seen = self.augment(real_images, _AUGMENT_REAL, step)
            fake_seen = self.augment(fake_images, _AUGMENT_FAKE, step)
            figures = self._discriminator_figures(
                self.discriminator(real_seen, training=True), self.discriminator(fake_seen, training=True), labels
            )
            if self.gan_loss.uses_gradient_penalty:
                figures["gp"] = self.penalty(
                    lambda images: self.discriminator(images, training=True)[0], real_seen, fake_seen, step
                )
                figures["d_loss"] = figures["d_loss"] + self.penalty.weight * figures["gp"]
            update.minimize(figures["d_loss"])
        self.record(figures)

    def _train_generator(self, labels, local_batch):
        step = self.g_optimizer.iterations
        noise = training_noise(local_batch, self.latent_dim, self.seed, _G_NOISE, step)
        with self.update(self.g_optimizer, [self.generator]) as update:
            fake_seen = self.augment(self.generate(noise, labels, training=True), _AUGMENT_G, step)
            figures = self._generator_figures(self.discriminator(fake_seen, training=True), labels)
            update.minimize(figures["g_loss"])
        if self.average is not None:
            self.average.update(self.g_optimizer.iterations, (noise, labels))
        self.record(figures)

    def test_step(self, data):
        """The losses, D's scores and D's class accuracy on held-out images, without
        updates: ``evaluate`` and ``fit(validation_data=...)`` (``val_d_class_accuracy``).
        The trained G (not the EMA) makes the fakes, from noise of the model
        seed and the optimizer step."""
        real_images, labels = self.split_batch(data)
        noise = training_noise(tf.shape(real_images)[0], self.latent_dim, self.seed, _EVAL_NOISE,
                               self.g_optimizer.iterations)
        fake_images = tf.cast(self.generate(noise, labels, averaged=False), tf.float32)
        fake_outputs = self.discriminator(fake_images, training=False)
        self.record({
            **self._discriminator_figures(self.discriminator(real_images, training=False), fake_outputs, labels),
            **self._generator_figures(fake_outputs, labels),
        })
        return self.step_logs([getattr(self, f"{name}_tracker") for name in _EVALUATED])

    def get_config(self):
        return {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "num_classes": self.num_classes,
            "image_shape": self.image_shape,
            "g_filters": self.g_filters,
            "d_filters": self.d_filters,
            "d_norm": self.d_norm,
            "d_dropout": self.d_dropout,
            "d_spectral_norm": self.d_spectral_norm,
            "aux_weight": self.aux_weight,
            "diffaugment": ",".join(self.augment.policy),
            "ema_decay": self.average.decay if self.average is not None else 0.0,
            "seed": self.seed,
        }
