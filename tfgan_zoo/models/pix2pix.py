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

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from tfgan_zoo import losses as gan_losses
from tfgan_zoo.augment import RESIZE_METHODS, paired_random_jitter, step_seed
from tfgan_zoo.data.pipeline import to_uint8
from tfgan_zoo.layers import BlockOptions, dcgan_initializer, down_block, up_block
from tfgan_zoo.models.base import (
    AdversarialModel,
    _prepare_optimizer,
    paper_adam,
    replica_mean,
    split_image_pair,
    to_model_range,
)


def _check_norm(norm: str) -> str:
    if norm not in ("batch", "instance", "none"):
        raise ValueError(f"norm must be 'batch', 'instance' or 'none', got {norm!r}.")
    return norm


def unet_depth(image_size: int, depth: int | None = None) -> int:
    """Number of stride-2 levels of the U-Net: ``depth``, checked, or by
    default as many as ``image_size`` halves evenly (256 -> 8, down to 1x1;
    96 -> 5, down to 3x3)."""
    image_size = int(image_size)
    halvings, size = 0, image_size
    while size > 1 and size % 2 == 0:
        halvings, size = halvings + 1, size // 2
    if halvings == 0:
        raise ValueError(
            f"image_size {image_size} is odd, but each U-Net level halves the image; "
            "use a size like 256, 128 or 96."
        )
    depth = halvings if depth is None else int(depth)
    if not 1 <= depth <= halvings:
        raise ValueError(
            f"image_size {image_size} is not divisible by 2**depth = 2**{depth}: each U-Net level "
            f"halves the image. Use a depth from 1 to {halvings} for this size (96 goes down to "
            "depth 5), or another image size."
        )
    return depth


def translate_images(generator, images, image_size: int, batch_size: int = 16) -> np.ndarray:
    """Runs ``generator`` (in inference mode, with ``input_channels`` and
    ``output_channels`` attributes) on uint8 images, or float images in
    [-1, 1], ``[N, image_size, image_size, input_channels]``, ``batch_size`` at
    a time; returns uint8 translations."""
    images = np.asarray(images)
    expected = (image_size, image_size, generator.input_channels)
    if images.ndim != 4 or images.shape[1:] != expected:
        raise ValueError(
            f"translate expects images [N, {', '.join(map(str, expected))}], got shape {images.shape}; "
            "resize them to the model's image_size first."
        )
    if images.dtype != np.uint8 and images.size and (images.min() < -1.001 or images.max() > 1.001):
        raise ValueError("float images must be in [-1, 1]; pass uint8 images for [0, 255] data.")
    parts = [
        np.asarray(to_uint8(generator(to_model_range(images[start : start + batch_size]))))
        for start in range(0, len(images), batch_size)
    ]
    if not parts:
        return np.zeros((0, image_size, image_size, generator.output_channels), np.uint8)
    return np.concatenate(parts)


@keras.saving.register_keras_serializable(package="tfgan_zoo")
class UNetGenerator(keras.Model):
    """``images [B, S, S, input_channels]`` in [-1, 1] -> ``[B, S, S, output_channels]`` in [-1, 1].

    Encoder ``C64-C128-C256-C512-C512-...`` (filters double per level up to
    ``max_filters``), no normalization on the first block, nor on the
    innermost one unless ``innermost_norm`` (the TF tutorial's): normalizing
    a 1x1 bottleneck over a batch of one (or per instance) sets it to a
    constant. The decoder mirrors it with dropout 0.5 in its first
    ``dropout_blocks`` blocks, pix2pix's only source of noise; it is active
    in training only. ``leaky_slope`` to ``encoder_bias``: see
    :class:`tfgan_zoo.layers.BlockOptions`.
    """

    def __init__(
        self,
        image_size: int = 256,
        input_channels: int = 3,
        output_channels: int = 3,
        filters: int = 64,
        max_filters: int = 512,
        depth: int | None = None,
        dropout_blocks: int = 3,
        norm: str = "batch",
        leaky_slope: float = 0.2,
        bn_epsilon: float = 1e-5,
        bn_momentum: float = 0.9,
        synchronized_bn: bool = True,
        encoder_bias: bool = True,
        innermost_norm: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.image_size = int(image_size)
        self.depth = unet_depth(self.image_size, depth)
        self.input_channels = int(input_channels)
        self.output_channels = int(output_channels)
        self.filters = int(filters)
        self.max_filters = int(max_filters)
        self.dropout_blocks = int(dropout_blocks)
        self.norm = _check_norm(norm)
        self.block_options = BlockOptions(leaky_slope, bn_epsilon, bn_momentum, synchronized_bn, encoder_bias)
        self.innermost_norm = bool(innermost_norm)
        widths = [min(self.filters * 2**level, self.max_filters) for level in range(self.depth)]
        unnormalized = {0} if self.innermost_norm else {0, self.depth - 1}
        self.down = [
            down_block(
                width, "none" if level in unnormalized else norm, name=f"down_{level}", options=self.block_options
            )
            for level, width in enumerate(widths)
        ]
        # Decoder block i brings the bottleneck up to encoder level depth-2-i
        # and is joined to that level's output.
        up_levels = list(reversed(range(self.depth - 1)))
        self.up = [
            up_block(
                widths[level], norm, dropout=0.5 if i < self.dropout_blocks else 0.0, name=f"up_{level}",
                options=self.block_options,
            )
            for i, level in enumerate(up_levels)
        ]
        self.skips = [keras.layers.Concatenate(name=f"skip_{level}") for level in up_levels]
        self.to_image = keras.layers.Conv2DTranspose(
            self.output_channels, 4, strides=2, padding="same", kernel_initializer=dcgan_initializer(),
            name="to_image",
        )
        # tanh in float32: under mixed precision the images G hands to D and
        # to users keep full precision.
        self.tanh = keras.layers.Activation("tanh", dtype="float32", name="tanh")

    def call(self, inputs, training=False):
        x, features = inputs, []
        for block in self.down:
            x = block(x, training=training)
            features.append(x)
        for block, skip, encoded in zip(self.up, self.skips, reversed(features[:-1])):
            x = skip([block(x, training=training), encoded])
        return self.tanh(self.to_image(x))

    def build_for_inputs(self):
        """Creates the variables by one call on dummy inputs."""
        self(ops.zeros((1, self.image_size, self.image_size, self.input_channels)))

    def get_config(self):
        return {
            **super().get_config(),
            "image_size": self.image_size,
            "input_channels": self.input_channels,
            "output_channels": self.output_channels,
            "filters": self.filters,
            "max_filters": self.max_filters,
            "depth": self.depth,
            "dropout_blocks": self.dropout_blocks,
            "norm": self.norm,
            **dataclasses.asdict(self.block_options),
            "innermost_norm": self.innermost_norm,
        }


def _patch_strides(num_layers: int) -> list[int]:
    """Strides of the PatchGAN's 4x4 convolutions, the logits layer last."""
    return [2] * num_layers + [1, 1]


def patch_receptive_field(num_layers: int = 3) -> int:
    """Side in pixels of the input patch one PatchGAN logit sees (3 -> 70, 2 -> 34, 4 -> 142)."""
    field = 1
    for stride in reversed(_patch_strides(int(num_layers))):
        field = (field - 1) * stride + 4
    return field


def patch_output_size(image_size: int, num_layers: int = 3) -> int:
    """Side of the PatchGAN's logit map (256 -> 30 with 3 layers)."""
    size = int(image_size)
    for stride in _patch_strides(int(num_layers)):
        size = (size + 2 - 4) // stride + 1
    return size


@keras.saving.register_keras_serializable(package="tfgan_zoo")
class PatchDiscriminator(keras.Model):
    """``(inputs [B,H,W,Ci], images [B,H,W,Ct])`` -> float32 logits ``[B, h, w, 1]``, one per patch.

    ``C64-C128-C256`` (``num_layers`` stride-2 blocks, no normalization on
    the first), a stride-1 ``C512`` and a stride-1 1-channel convolution,
    all 4x4 with one pixel of zero padding: each logit sees a
    :func:`patch_receptive_field` square (70x70 by default).

    With ``input_channels=0`` it is unconditional (CycleGAN's): it takes the
    images ``[B,H,W,Ct]`` alone. ``leaky_slope`` to ``encoder_bias``: see
    :class:`tfgan_zoo.layers.BlockOptions`.
    """

    def __init__(
        self,
        image_size: int = 256,
        input_channels: int = 3,
        target_channels: int = 3,
        filters: int = 64,
        num_layers: int = 3,
        max_filters: int = 512,
        norm: str = "batch",
        leaky_slope: float = 0.2,
        bn_epsilon: float = 1e-5,
        bn_momentum: float = 0.9,
        synchronized_bn: bool = True,
        encoder_bias: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.image_size = int(image_size)
        self.input_channels = int(input_channels)
        self.target_channels = int(target_channels)
        self.filters = int(filters)
        self.num_layers = int(num_layers)
        self.max_filters = int(max_filters)
        self.norm = _check_norm(norm)
        self.block_options = BlockOptions(leaky_slope, bn_epsilon, bn_momentum, synchronized_bn, encoder_bias)
        if self.num_layers < 1 or patch_output_size(self.image_size, self.num_layers) < 1:
            raise ValueError(
                f"A PatchGAN with num_layers={num_layers} leaves no output on {image_size}x{image_size} "
                "images; use fewer layers (d_layers) or larger images."
            )
        strides = _patch_strides(self.num_layers)
        if self.input_channels < 0:
            raise ValueError(f"input_channels must be >= 0 (0: unconditional), got {input_channels}.")
        self.pair = keras.layers.Concatenate(name="pair") if self.input_channels else None
        body = [
            down_block(
                min(self.filters * 2**level, self.max_filters), "none" if level == 0 else norm,
                strides=stride, padding="pad1", name=f"block_{level}", options=self.block_options,
            )
            for level, stride in enumerate(strides[:-1])
        ]
        body += [
            keras.layers.ZeroPadding2D(1),
            keras.layers.Conv2D(1, 4, kernel_initializer=dcgan_initializer(), dtype="float32", name="logits"),
        ]
        self.body = keras.Sequential(body, name="body")

    def call(self, inputs, training=False):
        if self.pair is None:
            return self.body(inputs, training=training)
        conditions, images = inputs
        return self.body(self.pair([conditions, images]), training=training)

    def build_for_inputs(self):
        size = self.image_size
        images = ops.zeros((1, size, size, self.target_channels))
        self(images if self.pair is None else (ops.zeros((1, size, size, self.input_channels)), images))

    def get_config(self):
        return {
            **super().get_config(),
            "image_size": self.image_size,
            "input_channels": self.input_channels,
            "target_channels": self.target_channels,
            "filters": self.filters,
            "num_layers": self.num_layers,
            "max_filters": self.max_filters,
            "norm": self.norm,
            **dataclasses.asdict(self.block_options),
        }


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
        leaky_slope, bn_epsilon, bn_momentum, synchronized_bn, encoder_bias:
            choices inside G's and D's blocks, see
            :class:`tfgan_zoo.layers.BlockOptions`; the defaults are the
            paper's code, ``BlockOptions``' docstring names the TF tutorial's.
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
        image_size: int = 256,
        input_channels: int = 3,
        output_channels: int = 3,
        g_filters: int = 64,
        d_filters: int = 64,
        d_layers: int = 3,
        g_depth: int | None = None,
        norm: str = "batch",
        l1_weight: float = 100.0,
        jitter: bool = True,
        load_size: int | None = None,
        jitter_resize: str = "bilinear",
        seed: int = 0,
        leaky_slope: float = 0.2,
        bn_epsilon: float = 1e-5,
        bn_momentum: float = 0.9,
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
        self.norm = _check_norm(norm)
        self.l1_weight = float(l1_weight)
        self.jitter = bool(jitter)
        self.load_size = None if load_size is None else int(load_size)
        self.seed = int(seed)
        self.block_options = BlockOptions(leaky_slope, bn_epsilon, bn_momentum, synchronized_bn, encoder_bias)
        self.innermost_norm = bool(innermost_norm)
        self.halve_d_loss = bool(halve_d_loss)
        self.generator = UNetGenerator(
            self.image_size, self.input_channels, self.output_channels, self.g_filters,
            depth=self.g_depth, norm=norm, innermost_norm=self.innermost_norm, name="generator",
            **dataclasses.asdict(self.block_options),
        )
        self.discriminator = PatchDiscriminator(
            self.image_size, self.input_channels, self.output_channels, self.d_filters,
            num_layers=self.d_layers, norm=norm, name="discriminator", **dataclasses.asdict(self.block_options),
        )
        self._build_with_trackers(
            (self.generator, self.discriminator), ("d_loss", "g_loss", "g_gan", "g_l1", "d_real", "d_fake")
        )

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def translate(self, images, batch_size: int = 16) -> np.ndarray:
        """uint8 images, or float images in [-1, 1], ``[N, S, S, input_channels]`` -> uint8 translations."""
        return translate_images(self.generator, images, self.image_size, batch_size)

    # ---------------------------------------------------------------- compile
    def compile(
        self,
        g_optimizer=None,
        d_optimizer=None,
        loss: str | gan_losses.GANLoss = "bce",
        d_every: int = 1,
        simultaneous: bool = False,
        **kwargs,
    ):
        """Configures training.

        Args:
            g_optimizer, d_optimizer: optimizers (instances or names); default
                ``Adam(2e-4, beta_1=0.5)`` each, the paper's. Wrapped in
                ``LossScaleOptimizer`` automatically under ``mixed_float16``.
            loss: ``"bce"`` (the paper), ``"lsgan"``, ``"hinge"`` or a
                :class:`tfgan_zoo.losses.GANLoss` without gradient penalty.
            d_every: update D on every ``d_every``-th step only (G every step);
                one device only, as replicas cannot synchronize inside the
                conditional update.
            simultaneous: take G's and D's gradients from one forward pass
                (the TF tutorial's step) instead of updating D first and then
                G against the updated D (the paper's code).
            **kwargs: passed to ``keras.Model.compile`` (``jit_compile``,
                ``steps_per_execution``, ...). ``jit_compile="auto"`` (the
                default) means XLA on GPU and off on CPU, where it is slower.
        """
        if int(d_every) < 1:
            raise ValueError(f"d_every must be >= 1, got {d_every}.")
        if "optimizer" in kwargs or "loss_weights" in kwargs:
            raise ValueError("Use g_optimizer= and d_optimizer=; pix2pix has no single optimizer.")
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
        self._attach_optimizers(
            _prepare_optimizer(g_optimizer, "g", default=paper_adam),
            _prepare_optimizer(d_optimizer, "d", default=paper_adam),
            self.generator.trainable_variables, self.discriminator.trainable_variables, **kwargs,
        )

    def _compile_options(self) -> dict:
        return {"loss": self.gan_loss.name, "d_every": self.d_every, "simultaneous": self.simultaneous}

    # ------------------------------------------------------------ train step
    def split_batch(self, data):
        return split_image_pair(
            data,
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
        with tf.GradientTape() as tape:
            fake = self.generator(inputs, training=True)
            with tape.stop_recording():
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
            scaled_loss = self.g_optimizer.scale_loss(replica_mean(losses["g_loss"]))
        variables = self.generator.trainable_variables
        grads = tape.gradient(scaled_loss, variables)
        self.g_optimizer.apply_gradients(zip(grads, variables))
        self._record(losses)
        return self.step_logs(self.trackers())

    def _simultaneous_step(self, inputs, targets):
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = self.generator(inputs, training=True)
            real_logits = self.discriminator((inputs, targets), training=True)
            fake_logits = self.discriminator((inputs, fake), training=True)
            g_losses = self._generator_losses(targets, fake, fake_logits)
            d_losses = self._discriminator_losses(real_logits, fake_logits)
            g_scaled = self.g_optimizer.scale_loss(replica_mean(g_losses["g_loss"]))
            d_scaled = self.d_optimizer.scale_loss(replica_mean(d_losses["d_loss"]))
        for tape, loss, network, optimizer in (
            (g_tape, g_scaled, self.generator, self.g_optimizer),
            (d_tape, d_scaled, self.discriminator, self.d_optimizer),
        ):
            variables = network.trainable_variables
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        self._record({**g_losses, **d_losses})
        return self.step_logs(self.trackers())

    def _train_discriminator(self, inputs, targets, fake):
        variables = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            real_logits = self.discriminator((inputs, targets), training=True)
            fake_logits = self.discriminator((inputs, fake), training=True)
            losses = self._discriminator_losses(real_logits, fake_logits)
            scaled_loss = self.d_optimizer.scale_loss(replica_mean(losses["d_loss"]))
        grads = tape.gradient(scaled_loss, variables)
        self.d_optimizer.apply_gradients(zip(grads, variables))
        self._record(losses)

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

    def _record(self, values: dict):
        """Adds each value's batch mean to the tracker of the same name."""
        for name, value in values.items():
            getattr(self, f"{name}_tracker").update_state(tf.reduce_mean(value))

    def test_step(self, data):
        """L1 of the translation (no jitter, no dropout): ``validation_data`` reports ``val_g_l1``."""
        inputs, targets = self.split_batch(data)
        self.g_l1_tracker.update_state(
            tf.reduce_mean(self._per_example_l1(targets, self.generator(inputs, training=False)))
        )
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
