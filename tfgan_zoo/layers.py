"""Building blocks shared by the networks, and the layers the families hold (:class:`ImagePool`)."""

from __future__ import annotations

import dataclasses
from typing import Literal

import keras
import tensorflow as tf
from keras import ops


def dcgan_initializer(seed=None):
    """N(0, 0.02), the DCGAN paper's weight init."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02, seed=seed)


NORMS = ("batch", "instance", "layer", "none")
# The normalizations a family's networks take, as command-line choices (see tfgan_zoo.options).
TranslationNorm = Literal["batch", "instance", "none"]
DiscriminatorNorm = Literal["batch", "layer", "none"]


def check_norm(norm: str) -> str:
    """``norm`` if it names a normalization :func:`normalization` makes, else a ValueError."""
    if norm not in ("batch", "instance", "none"):
        raise ValueError(f"norm must be 'batch', 'instance' or 'none', got {norm!r}.")
    return norm


def normalization(
    kind: str,
    name: str | None = None,
    *,
    momentum: float = 0.9,
    epsilon: float = 1e-5,
    synchronized: bool = True,
):
    """A normalization layer by name, or None for ``"none"``.

    Batch norm is synchronized by default: under ``tf.distribute`` its
    statistics cover the global batch, so a step on N replicas matches a step
    on one device. Even on one device it then computes the variance as
    E[x²] − E[x]², where plain batch norm (``synchronized=False``) computes
    E[(x − E[x])²]: equal up to rounding. ``momentum``, ``epsilon`` and
    ``synchronized`` apply to batch norm only. Instance norm normalizes each
    channel of each image over its pixels (with a learned scale and offset),
    so it behaves the same in training and inference and at any batch size.
    """
    if kind == "batch":
        return keras.layers.BatchNormalization(
            momentum=momentum, epsilon=epsilon, synchronized=synchronized, name=name
        )
    if kind == "instance":
        # One group per channel is instance normalization.
        return keras.layers.GroupNormalization(groups=-1, epsilon=1e-5, name=name)
    if kind == "layer":
        return keras.layers.LayerNormalization(axis=[-3, -2, -1], epsilon=1e-5, name=name)
    if kind == "none":
        return None
    raise ValueError(f"Unknown normalization {kind!r}; choose one of {NORMS}.")


@dataclasses.dataclass(frozen=True)
class BlockOptions:
    """Choices inside :func:`down_block` and :func:`up_block`. The defaults are
    the pix2pix paper's code; the TF pix2pix tutorial's are slope 0.3,
    epsilon 1e-3, momentum 0.99, plain batch norm and no encoder bias.

    Attributes:
        leaky_slope: negative slope of the encoder blocks' LeakyReLU.
        bn_epsilon, bn_momentum: batch norm's epsilon and moving-average momentum.
        synchronized_bn: synchronized batch norm (see :func:`normalization`).
        encoder_bias: a bias in encoder convolutions that no normalization
            follows (a normalization's offset makes it redundant in the others).
    """

    leaky_slope: float = 0.2
    bn_epsilon: float = 1e-5
    bn_momentum: float = 0.9
    synchronized_bn: bool = True
    encoder_bias: bool = True

    @classmethod
    def of(cls, value: BlockOptions | dict | None) -> BlockOptions:
        """``value`` as options: the defaults for None, a dict's entries (a saved config's) as fields."""
        if value is None:
            return cls()
        return value if isinstance(value, cls) else cls(**value)

    def normalization(self, kind: str):
        """:func:`normalization` with these batch-norm settings."""
        return normalization(
            kind, momentum=self.bn_momentum, epsilon=self.bn_epsilon, synchronized=self.synchronized_bn
        )


def down_block(
    filters: int,
    norm: str = "batch",
    strides: int = 2,
    padding: str = "same",
    name: str | None = None,
    options: BlockOptions = BlockOptions(),
) -> keras.Sequential:
    """pix2pix's ``Ck`` encoder block: 4x4 convolution, normalization, LeakyReLU
    (slope ``options.leaky_slope``).

    ``padding="pad1"`` pads one zero pixel on each side before a valid
    convolution, as the PatchGAN does: its stride-1 layers then shrink the
    map by one pixel, where ``"same"`` would pad unevenly.
    """
    if padding not in ("same", "pad1"):
        raise ValueError(f"padding must be 'same' or 'pad1', got {padding!r}.")
    layers = [keras.layers.ZeroPadding2D(1)] if padding == "pad1" else []
    layers += [
        keras.layers.Conv2D(
            filters, 4, strides=strides, padding="same" if padding == "same" else "valid",
            use_bias=options.encoder_bias and norm == "none", kernel_initializer=dcgan_initializer(),
        ),
    ]
    norm_layer = options.normalization(norm)
    if norm_layer is not None:
        layers.append(norm_layer)
    layers.append(keras.layers.LeakyReLU(negative_slope=options.leaky_slope))
    return keras.Sequential(layers, name=name)


def up_block(
    filters: int,
    norm: str = "batch",
    dropout: float = 0.0,
    name: str | None = None,
    options: BlockOptions = BlockOptions(),
) -> keras.Sequential:
    """pix2pix's ``CDk`` decoder block: 4x4 stride-2 transposed convolution,
    normalization, dropout (if ``dropout`` > 0), ReLU. Doubles height and width.
    Of ``options`` only the batch-norm settings apply."""
    layers = [
        keras.layers.Conv2DTranspose(
            filters, 4, strides=2, padding="same", use_bias=norm == "none",
            kernel_initializer=dcgan_initializer(),
        ),
    ]
    norm_layer = options.normalization(norm)
    if norm_layer is not None:
        layers.append(norm_layer)
    if dropout:
        layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.ReLU())
    return keras.Sequential(layers, name=name)


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


@keras.saving.register_keras_serializable(package="tfgan_zoo")
class ReflectionPadding2D(keras.layers.Layer):
    """Pads height and width by ``padding`` pixels on each side, mirroring the
    image at its border (without repeating the edge pixel), as CycleGAN's
    ResNet generator does before its convolutions; fewer border artifacts than
    zero padding. ``padding`` must be smaller than the height and width.
    ``[B, H, W, C] -> [B, H + 2p, W + 2p, C]``; XLA-compilable."""

    def __init__(self, padding: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.padding = int(padding)
        if self.padding < 0:
            raise ValueError(f"padding must be >= 0, got {padding}.")

    def call(self, inputs):
        p = self.padding
        return ops.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        height, width = (None if side is None else side + 2 * self.padding for side in input_shape[1:3])
        return (input_shape[0], height, width, input_shape[3])

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


class _SpectralNormalized(keras.layers.Layer):
    """A layer whose ``kernel`` is divided by its largest singular value
    (Miyato et al. 2018) at every call, estimated by one power iteration per
    training call from a persistent vector ``u``. Gradients flow through the
    division (``u`` and ``v`` are held constant), as in the paper.

    The kernel is viewed as a matrix ``[fan_in, units]``; ``u`` is replica-
    synchronized from the first replica, whose kernel equals the others'."""

    def _build_spectral(self, kernel_shape, units: int):
        self.kernel = self.add_weight(
            shape=kernel_shape, initializer=self.kernel_initializer, name="kernel"
        )
        self.bias = self.add_weight(shape=(units,), initializer="zeros", name="bias") if self.use_bias else None
        self.u = self.add_weight(
            shape=(1, units), initializer=keras.initializers.RandomNormal(seed=self.seed), trainable=False,
            aggregation="only_first_replica", name="u",
        )

    def normalized_kernel(self, training=False):
        kernel = self.kernel
        matrix = ops.cast(ops.reshape(kernel, (-1, kernel.shape[-1])), "float32")
        u = ops.cast(self.u, "float32")
        v = _l2_normalize(ops.matmul(u, ops.transpose(matrix)))
        u = _l2_normalize(ops.matmul(v, matrix))
        u, v = ops.stop_gradient(u), ops.stop_gradient(v)
        if training:
            self.u.assign(u)
        sigma = ops.sum(ops.matmul(v, matrix) * u)
        return ops.cast(ops.cast(kernel, "float32") / sigma, kernel.dtype)

    def _add_bias(self, outputs):
        return outputs if self.bias is None else outputs + self.bias


def _l2_normalize(x, epsilon: float = 1e-12):
    return x / ops.sqrt(ops.sum(ops.square(x)) + epsilon)


@keras.saving.register_keras_serializable(package="tfgan_zoo")
class SpectralConv2D(_SpectralNormalized):
    """Spectrally normalized ``Conv2D`` (no activation; square kernel, ``same`` or ``valid`` padding)."""

    def __init__(
        self, filters: int, kernel_size: int, strides: int = 1, padding: str = "same", use_bias: bool = True,
        kernel_initializer="glorot_uniform", seed: int | None = None, **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.strides = int(filters), int(kernel_size), int(strides)
        self.padding, self.use_bias, self.seed = padding, bool(use_bias), seed
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        self._build_spectral((self.kernel_size, self.kernel_size, input_shape[-1], self.filters), self.filters)

    def call(self, inputs, training=False):
        kernel = self.normalized_kernel(training)
        return self._add_bias(ops.conv(inputs, kernel, strides=self.strides, padding=self.padding))

    def compute_output_shape(self, input_shape):
        height, width = input_shape[1:3]

        def side(size):
            if size is None:
                return None
            if self.padding == "same":
                return -(-size // self.strides)
            return (size - self.kernel_size) // self.strides + 1

        return (input_shape[0], side(height), side(width), self.filters)

    def get_config(self):
        return {
            **super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
            "strides": self.strides, "padding": self.padding, "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer), "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package="tfgan_zoo")
class SpectralDense(_SpectralNormalized):
    """Spectrally normalized ``Dense`` on ``[B, features]`` inputs (no activation)."""

    def __init__(self, units: int, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.use_bias, self.seed = int(units), bool(use_bias), seed
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        self._build_spectral((input_shape[-1], self.units), self.units)

    def call(self, inputs, training=False):
        return self._add_bias(ops.matmul(inputs, self.normalized_kernel(training)))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {
            **super().get_config(), "units": self.units, "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer), "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package="tfgan_zoo")
class ImagePool(keras.layers.Layer):
    """A history of up to ``pool_size`` generated images ``image_shape``, for D's fakes.

    ``pool(images, seed)`` treats the images of the batch one after the other,
    as the reference implementation does: while the pool is not full, an image
    is stored and returned; once it is full, with probability 1/2 a randomly
    chosen stored image is returned and the new one takes its place, otherwise
    the new image is returned (and not stored). ``pool_size=0`` returns the
    images unchanged. ``seed`` is an int ``[2]`` stateless seed, e.g.
    :func:`tfgan_zoo.augment.step_seed`; the draws are stateless, so the pool
    works in a compiled (XLA) step. Returns float32 images, without gradient.

    The pool lives in non-trainable variables (the images and a fill count):
    checkpoints and ``.keras`` files keep it. They are sync-on-read: under a
    ``tf.distribute`` strategy each replica updates its own pool with its own
    sub-batch, and a checkpoint holds replica 0's.
    """

    def __init__(self, pool_size: int = 50, image_shape=(256, 256, 3), **kwargs):
        # The pool stores float32 whatever the mixed-precision policy.
        kwargs["dtype"] = "float32"
        kwargs["trainable"] = False
        super().__init__(**kwargs)
        self.pool_size = int(pool_size)
        if self.pool_size < 0:
            raise ValueError(f"pool_size must be >= 0 (0 disables the pool), got {pool_size}.")
        self.image_shape = tuple(int(side) for side in image_shape)
        self.build()

    def build(self, input_shape=None):
        if self.pool_size == 0:
            return
        sync = {
            "trainable": False, "autocast": False, "synchronization": "on_read", "aggregation": "only_first_replica",
        }
        self.images = keras.Variable(
            keras.initializers.Zeros(), shape=(self.pool_size, *self.image_shape), dtype="float32",
            name="images", **sync,
        )
        self.count = keras.Variable(0, dtype="int32", name="count", **sync)

    def call(self, images, seed):
        images = tf.stop_gradient(tf.cast(images, tf.float32))
        if self.pool_size == 0:
            return images
        if tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(f"ImagePool holds images {self.image_shape}, got a batch {images.shape}.")
        pool_size = self.pool_size
        seed = tf.convert_to_tensor(seed)

        def query(index, count, pool, returned):
            swap_seed, slot_seed = tf.unstack(
                tf.random.experimental.stateless_split(tf.random.experimental.stateless_fold_in(seed, index), 2)
            )
            filling = count < pool_size
            swap = tf.logical_and(
                tf.logical_not(filling), tf.random.stateless_uniform([], swap_seed) > 0.5
            )
            slot = tf.where(
                filling, count, tf.random.stateless_uniform([], slot_seed, maxval=pool_size, dtype=tf.int32)
            )
            image, stored = tf.gather(images, index), tf.gather(pool, slot)
            kept = tf.where(tf.logical_or(filling, swap), image, stored)
            pool = tf.tensor_scatter_nd_update(pool, [[slot]], kept[None])
            returned = tf.tensor_scatter_nd_update(returned, [[index]], tf.where(swap, stored, image)[None])
            return index + 1, count + tf.cast(filling, tf.int32), pool, returned

        _, count, pool, returned = tf.while_loop(
            lambda index, *_: index < tf.shape(images)[0],
            query,
            (tf.constant(0), tf.convert_to_tensor(self.count.value), tf.convert_to_tensor(self.images.value),
             tf.zeros_like(images)),
        )
        self.images.assign(pool)
        self.count.assign(count)
        return returned

    def compute_output_shape(self, input_shape, seed_shape=None):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "image_shape": list(self.image_shape)}
