"""The base of the DCGAN family's noise-to-image models: D/G step ratios, the
GAN losses with their gradient penalty, DiffAugment and an EMA generator."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfgan_zoo import losses as gan_losses
from tfgan_zoo.augment import DiffAugment
from tfgan_zoo.models.base.components import ExponentialMovingAverage, GradientPenalty, has_batch_norm
from tfgan_zoo.models.base.contract import AdversarialModel
from tfgan_zoo.models.base.inputs import noise_and_labels, sampling_inputs, split_labelled_images
from tfgan_zoo.models.base.tracking import Metric
from tfgan_zoo.models.base.update import training_noise
from tfgan_zoo.options import Count, NonNegative, NonNegativeInt

# Salts that keep the random streams of the different sub-steps apart.
_D_NOISE, _G_NOISE, _GP_EPSILON, _AUGMENT_REAL, _AUGMENT_FAKE, _AUGMENT_G, _EVAL_NOISE = 1, 2, 3, 4, 5, 6, 7


class NoiseToImageGAN(AdversarialModel):
    """The base of the noise-to-image families: ``fit`` trains D ``d_steps``
    times, then G ``g_steps`` times per batch, with optional DiffAugment and an
    EMA generator.

    Subclasses set ``self.generator``, ``self.discriminator``, ``latent_dim``,
    ``num_classes`` and ``image_shape``, call ``self.build_training_state()``
    and then ``self.keep_average(ema_decay)``, and may override
    :meth:`generator_inputs` and :meth:`discriminate`.
    """

    # gp is logged only under a gradient-penalty loss (see logged_metrics()).
    METRICS = (
        Metric("d_loss", "minimized", role="d_loss"),
        Metric("g_loss", "minimized", role="g_adversarial_loss"),
        Metric("d_real", "neither", role="d_real_score"),
        Metric("d_fake", "neither", role="d_fake_score"),
        GradientPenalty.metric,
    )

    def __init__(self, seed: int = 0, diffaugment: str = "", **kwargs):
        super().__init__(**kwargs)
        self.seed = int(seed)
        self.augment = DiffAugment(diffaugment, self.seed)
        self.average, self.ema_generator = None, None

    @property
    def diffaugment(self) -> tuple[str, ...]:
        """The DiffAugment policy's op names (empty: off)."""
        return self.augment.policy

    @property
    def ema_decay(self) -> float:
        """The EMA generator's decay (0: no EMA generator)."""
        return self.average.decay if self.average is not None else 0.0

    def build_training_state(self, metrics=METRICS):
        super().build_training_state(metrics)

    def keep_average(self, decay: float):
        """Keeps ``ema_generator``, an :class:`ExponentialMovingAverage` of the built
        ``generator`` with ``decay`` (0: none), which samples and exports then use."""
        if float(decay):
            self.average = ExponentialMovingAverage(self.generator, decay)
            self.ema_generator = self.average.network

    def training_noise(self, local_batch, salt: int, counter):
        """Noise ``[local_batch, latent_dim]``: this replica's share of one draw for
        the global batch (see :func:`~tfgan_zoo.models.base.training_noise`)."""
        return training_noise(local_batch, self.latent_dim, self.seed, salt, counter)

    def sample_inputs(self, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
        """``(noise, labels)`` for ``count`` samples (see :func:`~tfgan_zoo.models.base.sampling_inputs`)."""
        return sampling_inputs(count, self.latent_dim, self.num_classes, seed)

    # ------------------------------------------------------------------ hooks
    def split_batch(self, data):
        """``(real_images, labels)`` of a batch (see :func:`~tfgan_zoo.models.base.split_labelled_images`)."""
        return split_labelled_images(data, self.image_shape, self.num_classes, type(self).__name__)

    def generator_inputs(self, noise, conditions):
        return noise

    def discriminate(self, images, conditions, training=True):
        return self.discriminator(images, training=training)

    def generate(self, noise, conditions=None, training=False, averaged=True):
        """G's images for ``noise``; outside training (and with ``averaged``) from the
        EMA generator when there is one."""
        generator = self.sampling_generator if averaged and not training else self.generator
        return generator(self.generator_inputs(noise, conditions), training=training)

    @property
    def sampling_generator(self):
        """The generator that samples, evaluations and exports use: the EMA one if kept."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    def call(self, inputs, training=False):
        """G on its inputs (noise, or ``(noise, labels)`` with labels as ``generate``
        takes them): outside training the EMA generator when there is one, as
        ``generate``, samples and exports use."""
        noise, conditions = noise_and_labels(inputs, type(self).__name__) if self.num_classes else (inputs, None)
        return self.generate(noise, conditions, training=training)

    # ---------------------------------------------------------------- compile
    def compile(
        self,
        *,
        g_optimizer=None,
        d_optimizer=None,
        loss: gan_losses.LossName | gan_losses.GANLoss = "bce",
        label_smoothing: gan_losses.LabelSmoothing = 0.0,
        d_steps: Count = 1,
        g_steps: Count = 1,
        gp_weight: NonNegative = 10.0,
        freeze_d_layers: NonNegativeInt = 0,
        **kwargs,
    ):
        """Configures adversarial training.

        Args:
            g_optimizer, d_optimizer: optimizers (instances or names); default
                ``Adam(2e-4, beta_1=0.5)`` each, the DCGAN paper's. Wrapped in
                ``LossScaleOptimizer`` automatically under ``mixed_float16``.
            loss: the GAN loss: bce (non-saturating), lsgan, hinge or wgan-gp
                (or a :class:`tfgan_zoo.losses.GANLoss`).
            label_smoothing: one-sided smoothing of D's real target (bce, lsgan).
            d_steps: D updates per batch (5: the WGAN-GP recipe).
            g_steps: G updates per batch (2: the classic remedy when D overpowers G).
            gp_weight: weight of the gradient penalty (wgan-gp only).
            freeze_d_layers: FreezeD (Mo et al. 2020) for fine-tuning from a
                preset: the first N blocks of the discriminator stop training.
            **kwargs: passed to ``keras.Model.compile`` (``jit_compile``,
                ``steps_per_execution``, ...). ``jit_compile="auto"`` (the
                default) means XLA on GPU and off on CPU, where it is slower.
        """
        self.gan_loss = gan_losses.get(loss, label_smoothing)
        if self.gan_loss.uses_gradient_penalty and has_batch_norm(self.discriminator):
            raise ValueError(
                "The wgan-gp gradient penalty is per example, but this discriminator uses "
                "batch normalization, which mixes examples. Build the model with "
                "d_norm='layer' (or 'none') to use loss='wgan-gp'."
            )
        self.d_steps = int(d_steps)
        self.g_steps = int(g_steps)
        self.penalty = GradientPenalty(gp_weight, self.seed, _GP_EPSILON)
        self.attach_optimizers(g_optimizer, d_optimizer, freeze_d_layers=freeze_d_layers, **kwargs)

    @property
    def gp_weight(self) -> float:
        return self.penalty.weight

    def compile_options(self) -> dict:
        return {
            "loss": self.gan_loss.name,
            "label_smoothing": self.gan_loss.label_smoothing,
            "d_steps": self.d_steps,
            "g_steps": self.g_steps,
            "gp_weight": self.gp_weight,
        }

    def logged_metrics(self) -> tuple[Metric, ...]:
        penalized = getattr(self, "gan_loss", None) is not None and self.gan_loss.uses_gradient_penalty
        return tuple(m for m in super().logged_metrics() if penalized or m != GradientPenalty.metric)

    # ------------------------------------------------------------ train step
    def test_step(self, data):
        """D's and G's losses and D's scores on held-out real images, without
        updates: ``evaluate`` and ``fit(validation_data=...)``. The trained G
        (not the EMA) is scored, as D was trained against it; its noise is drawn
        from the model seed and the optimizer step, so the same model state
        gives the same figures."""
        real_images, conditions = self.split_batch(data)
        noise = self.training_noise(tf.shape(real_images)[0], _EVAL_NOISE, self.g_optimizer.iterations)
        fake_images = tf.cast(self.generate(noise, conditions, averaged=False), tf.float32)
        real_logits = self.discriminate(real_images, conditions, training=False)
        fake_logits = self.discriminate(fake_images, conditions, training=False)
        self.record({
            "d_loss": self.gan_loss.discriminator_loss(real_logits, fake_logits),
            "g_loss": self.gan_loss.generator_loss(fake_logits),
            "d_real": self.gan_loss.score(real_logits),
            "d_fake": self.gan_loss.score(fake_logits),
        })
        return self.step_logs([self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker, self.d_fake_tracker])

    def train_step(self, data):
        real_images, conditions = self.split_batch(data)
        local_batch = tf.shape(real_images)[0]
        for _ in range(self.d_steps):
            self._train_discriminator(real_images, conditions, local_batch)
        for _ in range(self.g_steps):
            self._train_generator(conditions, local_batch)
        return self.step_logs(self.trackers())

    def _train_discriminator(self, real_images, conditions, local_batch):
        step = self.d_optimizer.iterations
        noise = self.training_noise(local_batch, _D_NOISE, step)
        fake_images = tf.cast(self.generate(noise, conditions, training=True), tf.float32)
        with self.update(self.d_optimizer, [self.discriminator]) as update:
            real_seen = self.augment(real_images, _AUGMENT_REAL, step)
            fake_seen = self.augment(fake_images, _AUGMENT_FAKE, step)
            real_logits = self.discriminate(real_seen, conditions, training=True)
            fake_logits = self.discriminate(fake_seen, conditions, training=True)
            per_example = self.gan_loss.discriminator_loss(real_logits, fake_logits)
            if self.gan_loss.uses_gradient_penalty:
                penalty = self.penalty(
                    lambda images: self.discriminate(images, conditions, training=True), real_seen, fake_seen, step
                )
                self.record({"gp": penalty})
                per_example = per_example + self.penalty.weight * penalty
            update.minimize(per_example)
        self.record({
            "d_loss": per_example,
            "d_real": self.gan_loss.score(real_logits),
            "d_fake": self.gan_loss.score(fake_logits),
        })

    def _train_generator(self, conditions, local_batch):
        step = self.g_optimizer.iterations
        noise = self.training_noise(local_batch, _G_NOISE, step)
        with self.update(self.g_optimizer, [self.generator]) as update:
            fake_images = self.generate(noise, conditions, training=True)
            fake_seen = self.augment(fake_images, _AUGMENT_G, step)
            fake_logits = self.discriminate(fake_seen, conditions, training=True)
            per_example = self.gan_loss.generator_loss(fake_logits)
            update.minimize(per_example)
        if self.average is not None:
            self.average.update(self.g_optimizer.iterations, self.generator_inputs(noise, conditions))
        self.record({"g_loss": per_example})
