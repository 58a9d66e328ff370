"""pix2pix (Isola et al. 2017): paired image-to-image translation.

Generator: a U-Net, stride-2 4x4 convolutions down to a bottleneck and
transposed convolutions back up, each decoder block concatenated with the
encoder block of the same resolution. Discriminator: a PatchGAN that sees the
input image concatenated with a real or generated target and classifies each
70x70 patch (default depth). G minimises the GAN loss plus ``l1_weight``
times the L1 distance to the target. Weights N(0, 0.02).

``fit`` takes ``(inputs, targets)`` batches, uint8 in [0, 255] or float in
[-1, 1]; random jitter (resize up, crop back, mirror) is applied to both
images alike inside the training step.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import keras
import numpy as np
import tensorflow as tf

from tfgan_zoo import losses as gan_losses
from tfgan_zoo.augment import RESIZE_METHODS, paired_random_jitter, step_seed
from tfgan_zoo.layers import BlockOptions, TranslationNorm, check_norm
from tfgan_zoo.models.base import AdversarialModel, Metric, split_image_pair, translate_images
from tfgan_zoo.options import Count, Fraction, NonNegative, NonNegativeInt, Positive, Seed
from tfgan_zoo.networks.patchgan import PatchDiscriminator
from tfgan_zoo.networks.unet import UNetGenerator


# G's loss is g_gan + l1_weight * g_l1: the health monitor judges its adversarial part.
_METRICS = (
    Metric("d_loss", "minimized", role="d_loss"),
    Metric("g_loss", "minimized"),
    Metric("g_gan", "minimized", role="g_adversarial_loss"),
    Metric("g_l1", "minimized"),
    Metric("d_real", "neither", role="d_real_score"),
    Metric("d_fake", "neither", role="d_fake_score"),
)


@keras.saving.register_keras_serializable(package="tfgan_zoo")
class Pix2Pix(AdversarialModel):
    """Paired translation: ``fit`` takes ``(inputs, targets)`` batches of
    ``[B, S, S, C]`` images, uint8 or float in [-1, 1]; ``model(inputs)``
    translates float [-1, 1] images, :meth:`translate` any images to uint8.

    Args:
        image_size: side ``S`` of the square images.
        input_channels, output_channels: channels of inputs and targets.
        g_filters, d_filters: width of the first G and D block; deeper blocks
            double it, up to 512.
        d_layers: stride-2 layers of the PatchGAN (3: 70x70 patches).
        g_depth: U-Net levels; default: as many as ``image_size`` halves evenly.
        norm: ``"batch"`` (the paper), ``"instance"`` or ``"none"``, in G and D.
        l1_weight: weight of the L1 term of G's loss (the paper's lambda).
        jitter: resize to ``load_size`` and randomly crop back, and randomly
            mirror, inputs and targets alike at each training step.
        load_size: resize side for the jitter (default ``round(S * 286 / 256)``).
        jitter_resize: interpolation of the jitter's resize: ``"bilinear"``,
            ``"nearest"`` (the TF tutorial's; keeps label-map colours exact) or
            ``"bicubic"`` (the paper's code).
        seed: seed of the jitter stream.
        leaky_slope: negative slope of the LeakyReLU in the encoder and PatchGAN
            blocks (the TF tutorial keeps Keras' 0.3).
        bn_epsilon, bn_momentum: batch norm's epsilon and moving-average
            momentum (the tutorial: Keras' 1e-3 and 0.99).
        synchronized_bn: synchronized batch norm (the tutorial: plain).
        encoder_bias: a bias in the encoder convolutions that no normalization
            follows (the tutorial: none). These four are the
            tfgan_zoo.layers.BlockOptions of G's and D's blocks.
        innermost_norm: normalize the U-Net's 1x1 innermost block too, as the
            TF tutorial does; at batch 1 it is then a constant in training,
            and its moving statistics spoil inference-mode translations.
        halve_d_loss: halve D's loss, as the paper does (the tutorial does not).

    Translations run G in inference mode (no dropout, batch norm with its
    moving statistics). The paper instead keeps dropout and batch statistics
    at test time; ``model(images, training=True)`` does that.
    """

    def __init__(
        self,
        image_size: Count = 256,
        input_channels: Count = 3,
        output_channels: Count = 3,
        g_filters: Count = 64,
        d_filters: Count = 64,
        d_layers: Count = 3,
        g_depth: Count | None = None,
        norm: TranslationNorm = "batch",
        l1_weight: NonNegative = 100.0,
        jitter: bool = True,
        load_size: Count | None = None,
        jitter_resize: Literal["bilinear", "nearest", "bicubic"] = "bilinear",
        seed: Seed = 0,
        leaky_slope: NonNegative = 0.2,
        bn_epsilon: Positive = 1e-5,
        bn_momentum: Fraction = 0.9,
        synchronized_bn: bool = True,
        encoder_bias: bool = True,
        innermost_norm: bool = False,
        halve_d_loss: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if jitter_resize not in RESIZE_METHODS:
            raise ValueError(f"jitter_resize must be one of {RESIZE_METHODS}, got {jitter_resize!r}.")
        self.jitter_resize = jitter_resize
        self.image_size = int(image_size)
        self.input_channels = int(input_channels)
        self.output_channels = int(output_channels)
        self.g_filters = int(g_filters)
        self.d_filters = int(d_filters)
        self.d_layers = int(d_layers)
        self.g_depth = None if g_depth is None else int(g_depth)
        self.norm = check_norm(norm)
        self.l1_weight = float(l1_weight)
        self.jitter = bool(jitter)
        self.load_size = None if load_size is None else int(load_size)
        self.seed = int(seed)
        self.block_options = BlockOptions(leaky_slope, bn_epsilon, bn_momentum, synchronized_bn, encoder_bias)
        self.innermost_norm = bool(innermost_norm)
        self.halve_d_loss = bool(halve_d_loss)
        self.generator = UNetGenerator(
            self.image_size, self.input_channels, self.output_channels, self.g_filters,
            depth=self.g_depth, norm=norm, innermost_norm=self.innermost_norm, block_options=self.block_options,
            name="generator",
        )
        self.discriminator = PatchDiscriminator(
            self.image_size, self.input_channels, self.output_channels, self.d_filters,
            num_layers=self.d_layers, norm=norm, block_options=self.block_options, name="discriminator",
        )
        self.build_training_state(_METRICS)

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def translate(self, images, batch_size: int = 16) -> np.ndarray:
        """uint8 images, or float images in [-1, 1], ``[N, S, S, input_channels]`` -> uint8 translations."""
        return translate_images(self.generator, images, self.image_size, batch_size)

    # ---------------------------------------------------------------- compile
    def compile(
        self,
        *,
        g_optimizer=None,
        d_optimizer=None,
        loss: gan_losses.PenaltyFreeLossName | gan_losses.GANLoss = "bce",
        d_every: Count = 1,
        simultaneous: bool = False,
        freeze_d_layers: NonNegativeInt = 0,
        **kwargs,
    ):
        """Configures training.

        Args:
            g_optimizer, d_optimizer: optimizers (instances or names); default
                ``Adam(2e-4, beta_1=0.5)`` each, the paper's. Wrapped in
                ``LossScaleOptimizer`` automatically under ``mixed_float16``.
            loss: the GAN loss: bce (the paper), lsgan or hinge (or a
                :class:`tfgan_zoo.losses.GANLoss` without gradient penalty).
            d_every: update D on every d_every-th step only, G every step (k > 1
                when D overpowers G); one device only, as replicas cannot
                synchronize inside the conditional update.
            simultaneous: take G's and D's gradients from one forward pass
                (the TF tutorial's step) instead of updating D first and then
                G against the updated D (the paper's code).
            freeze_d_layers: FreezeD (Mo et al. 2020) for fine-tuning from a
                preset: the first N blocks of the discriminator stop training.
            **kwargs: passed to ``keras.Model.compile`` (``jit_compile``,
                ``steps_per_execution``, ...). ``jit_compile="auto"`` (the
                default) means XLA on GPU and off on CPU, where it is slower.
        """
        self.gan_loss = gan_losses.get(loss)
        if self.gan_loss.uses_gradient_penalty:
            raise ValueError(
                f"Pix2Pix has no gradient penalty, which loss {self.gan_loss.name!r} needs; "
                "use 'bce' (the paper), 'lsgan' or 'hinge'."
            )
        self.d_every = int(d_every)
        self.simultaneous = bool(simultaneous)
        if self.simultaneous and self.d_every != 1:
            raise ValueError("simultaneous updates need d_every=1.")
        self.attach_optimizers(g_optimizer, d_optimizer, freeze_d_layers=freeze_d_layers, **kwargs)

    def compile_options(self) -> dict:
        return {"loss": self.gan_loss.name, "d_every": self.d_every, "simultaneous": self.simultaneous}

    # ------------------------------------------------------------ train step
    def split_batch(self, data):
        size = self.image_size
        return split_image_pair(
            data, ((size, size, self.input_channels), (size, size, self.output_channels)),
            "Pix2Pix.fit expects (inputs, targets) batches of paired images, e.g. "
            "tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(1).",
        )

    @staticmethod
    def _per_example_l1(targets, images):
        return gan_losses.per_example_l1(targets, images)

    def train_step(self, data):
        inputs, targets = self.split_batch(data)
        if self.jitter:
            inputs, targets = paired_random_jitter(
                inputs, targets, step_seed(self.seed, self.g_optimizer.iterations),
                load_size=self.load_size, method=self.jitter_resize,
            )
        if self.simultaneous:
            return self._simultaneous_step(inputs, targets)
        with self.update(self.g_optimizer, [self.generator]) as update:
            fake = self.generator(inputs, training=True)
            with update.tape.stop_recording():
                if self.d_every == 1:
                    self._train_discriminator(inputs, targets, fake)
                else:
                    if tf.distribute.has_strategy():
                        raise ValueError(
                            "d_every > 1 is not supported under a tf.distribute strategy: D's update "
                            "sits in a tf.cond, and replicas cannot synchronize (gradients, batch-norm "
                            "statistics) inside one. Compile with d_every=1, or train on one device."
                        )
                    # A cond rather than a Python branch: the step is one
                    # graph (and one XLA cluster) for every iteration.
                    tf.cond(
                        tf.equal(self.g_optimizer.iterations % self.d_every, 0),
                        lambda: self._train_discriminator(inputs, targets, fake),
                        lambda: None,
                    )
            fake_logits = self.discriminator((inputs, fake), training=True)
            losses = self._generator_losses(targets, fake, fake_logits)
            update.minimize(losses["g_loss"])
        self.record(losses)
        return self.step_logs(self.trackers())

    def _simultaneous_step(self, inputs, targets):
        # Both tapes see one forward pass. G's step is applied when the inner
        # block ends, then D's: D's gradients come from the values of that pass.
        with self.update(self.d_optimizer, [self.discriminator]) as d_update:
            with self.update(self.g_optimizer, [self.generator]) as g_update:
                fake = self.generator(inputs, training=True)
                real_logits = self.discriminator((inputs, targets), training=True)
                fake_logits = self.discriminator((inputs, fake), training=True)
                g_losses = self._generator_losses(targets, fake, fake_logits)
                d_losses = self._discriminator_losses(real_logits, fake_logits)
                g_update.minimize(g_losses["g_loss"])
                d_update.minimize(d_losses["d_loss"])
        self.record({**g_losses, **d_losses})
        return self.step_logs(self.trackers())

    def _train_discriminator(self, inputs, targets, fake):
        with self.update(self.d_optimizer, [self.discriminator]) as update:
            real_logits = self.discriminator((inputs, targets), training=True)
            fake_logits = self.discriminator((inputs, fake), training=True)
            losses = self._discriminator_losses(real_logits, fake_logits)
            update.minimize(losses["d_loss"])
        self.record(losses)

    def _generator_losses(self, targets, fake, fake_logits) -> dict:
        """Per-example ``g_loss`` (GAN + ``l1_weight`` * L1) and its two terms."""
        g_gan = self.gan_loss.generator_loss(fake_logits)
        g_l1 = self._per_example_l1(targets, fake)
        return {"g_loss": g_gan + self.l1_weight * g_l1, "g_gan": g_gan, "g_l1": g_l1}

    def _discriminator_losses(self, real_logits, fake_logits) -> dict:
        """Per-example ``d_loss`` and D's scores on real and generated images."""
        # The paper halves D's objective so that D learns more slowly than
        # G. Adam is nearly invariant to the scale of the loss, so with
        # the default optimizers this mostly halves the logged d_loss.
        d_loss = self.gan_loss.discriminator_loss(real_logits, fake_logits)
        return {
            "d_loss": 0.5 * d_loss if self.halve_d_loss else d_loss,
            "d_real": self.gan_loss.score(real_logits),
            "d_fake": self.gan_loss.score(fake_logits),
        }

    def test_step(self, data):
        """L1 of the translation (no jitter, no dropout): ``validation_data`` reports ``val_g_l1``."""
        inputs, targets = self.split_batch(data)
        self.record({"g_l1": self._per_example_l1(targets, self.generator(inputs, training=False))})
        return self.step_logs([self.g_l1_tracker])

    def get_config(self):
        return {
            **super().get_config(),
            "image_size": self.image_size,
            "input_channels": self.input_channels,
            "output_channels": self.output_channels,
            "g_filters": self.g_filters,
            "d_filters": self.d_filters,
            "d_layers": self.d_layers,
            "g_depth": self.g_depth,
            "norm": self.norm,
            **dataclasses.asdict(self.block_options),
            "innermost_norm": self.innermost_norm,
            "halve_d_loss": self.halve_d_loss,
            "l1_weight": self.l1_weight,
            "jitter": self.jitter,
            "load_size": self.load_size,
            "jitter_resize": self.jitter_resize,
            "seed": self.seed,
        }

    @property
    def translators(self) -> dict:
        """The networks an export serves, by signature name."""
        return {"translate": self.generator}
