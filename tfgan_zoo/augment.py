"""On-device augmentation for image-to-image training: paired (pix2pix) and unpaired (CycleGAN).

Everything here uses stateless random ops and plain gathers, so it compiles with
XLA and runs inside a jit-compiled ``train_step``: the input pipeline only ships
uint8 batches, and the accelerator does the resizing.
"""

from __future__ import annotations

import tensorflow as tf

# pix2pix (Isola et al., 2017) jitters 256×256 images by resizing to 286×286 and cropping back.
_LOAD_RATIO = 286 / 256


def default_load_size(size: int) -> int:
    """The pix2pix resize target for ``size``: 286 for 256, scaled in proportion otherwise."""
    return round(size * _LOAD_RATIO)


def step_seed(seed: int, step) -> tf.Tensor:
    """A stateless-RNG seed (int ``[2]``) for training step ``step`` (e.g. ``optimizer.iterations``).

    A new jitter every step, the same sequence in every run with the same ``seed``,
    and a different one on each replica of a distribution strategy (so replicas do
    not crop their sub-batches alike).
    """
    context = tf.distribute.get_replica_context()
    replica = 0 if context is None else context.replica_id_in_sync_group
    base = tf.stack([tf.constant(seed, tf.int64), tf.cast(step, tf.int64)])
    return tf.random.experimental.stateless_fold_in(base, replica)


def _check_images(name: str, images: tf.Tensor) -> None:
    if images.shape.rank != 4 or not images.dtype.is_floating:
        raise ValueError(
            f"{name} must be a float tensor [B, H, W, C], got {images.dtype.name} {images.shape}. "
            "Scale uint8 batches first (tfgan_zoo.data.to_unit_range)."
        )
    height, width = images.shape[1], images.shape[2]
    if height is None or height != width:
        raise ValueError(
            f"{name} must have a static square size (H == W), got {images.shape}. "
            "Resize the images to a square when loading them (resize_square)."
        )


def paired_random_jitter(
    inputs: tf.Tensor,
    targets: tf.Tensor,
    seed: tf.Tensor,
    load_size: int | None = None,
    mirror: bool = True,
) -> tuple[tf.Tensor, tf.Tensor]:
    """pix2pix random jitter, applied identically to each input and its target.

    ``inputs`` ``[B, S, S, Ci]`` and ``targets`` ``[B, S, S, Ct]`` are float tensors
    (channel counts may differ). Both are resized bilinearly to ``load_size``²
    (default :func:`default_load_size`), cropped back to ``S``² at a random offset,
    and, with ``mirror``, flipped left-right with probability 1/2; offsets and flips
    are drawn per sample and shared by the pair. ``seed`` is an int32/int64 ``[2]``
    stateless seed (see :func:`step_seed`): the same seed gives the same jitter (XLA's
    random streams differ from TF's, so compiled and eager runs differ from each other).
    Returns tensors of the same shapes and dtypes. XLA-compilable.
    """
    inputs, targets = tf.convert_to_tensor(inputs), tf.convert_to_tensor(targets)
    _check_images("inputs", inputs)
    _check_images("targets", targets)
    size = inputs.shape[1]
    batches = {inputs.shape[0], targets.shape[0]} - {None}
    if targets.shape[1] != size or len(batches) > 1:
        raise ValueError(
            f"inputs {inputs.shape} and targets {targets.shape} must share batch size and "
            "image size; only the channel counts may differ."
        )
    load_size = _check_load_size(size, load_size)
    seed = _check_seed(seed)

    # One resize and one gather for the pair: the same op sequence guarantees the same jitter.
    channels = inputs.shape[-1]
    pair = tf.concat([tf.cast(inputs, tf.float32), tf.cast(targets, tf.float32)], axis=-1)
    pair = _resize_crop_mirror(pair, seed, load_size, mirror)
    return tf.cast(pair[..., :channels], inputs.dtype), tf.cast(pair[..., channels:], targets.dtype)


def random_jitter(
    images: tf.Tensor,
    seed: tf.Tensor,
    load_size: int | None = None,
    mirror: bool = True,
) -> tf.Tensor:
    """The pix2pix random jitter of :func:`paired_random_jitter` for one batch of
    unpaired images ``[B, S, S, C]`` (CycleGAN jitters each domain on its own):
    resize to ``load_size``², crop back at a random offset and, with ``mirror``,
    flip left-right with probability 1/2, drawn per sample. With the same ``seed``
    it crops and flips exactly as :func:`paired_random_jitter` does a pair.
    Returns a tensor of the same shape and dtype. XLA-compilable.
    """
    images = tf.convert_to_tensor(images)
    _check_images("images", images)
    load_size = _check_load_size(images.shape[1], load_size)
    seed = _check_seed(seed)
    return tf.cast(_resize_crop_mirror(tf.cast(images, tf.float32), seed, load_size, mirror), images.dtype)


def _check_load_size(size: int, load_size: int | None) -> int:
    load_size = default_load_size(size) if load_size is None else int(load_size)
    if load_size < size:
        raise ValueError(
            f"load_size {load_size} is smaller than the {size}×{size} images; it must be at "
            f"least {size} (pix2pix uses {default_load_size(size)})."
        )
    return load_size


def _check_seed(seed) -> tf.Tensor:
    seed = tf.convert_to_tensor(seed)
    if seed.shape.rank is not None and seed.shape != (2,):
        raise ValueError(f"seed must be an int tensor of shape [2], got shape {seed.shape}.")
    return seed


def _resize_crop_mirror(images: tf.Tensor, seed: tf.Tensor, load_size: int, mirror: bool) -> tf.Tensor:
    """The jitter itself, on checked float32 images ``[B, S, S, C]``."""
    size = images.shape[1]
    if load_size != size:
        images = tf.image.resize(images, [load_size, load_size], method="bilinear")

    offset_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    batch = tf.shape(images)[0]
    offsets = tf.random.stateless_uniform(
        [batch, 2], offset_seed, minval=0, maxval=load_size - size + 1, dtype=tf.int32
    )
    steps = tf.range(size)
    rows = offsets[:, :1] + steps
    cols = offsets[:, 1:] + steps
    if mirror:
        flip = tf.random.stateless_uniform([batch, 1], flip_seed) < 0.5
        cols = tf.where(flip, offsets[:, 1:] + (size - 1) - steps, cols)
    # Per-sample crop (and flip) as index gathers: XLA has no per-sample crop op.
    images = tf.gather(images, rows, axis=1, batch_dims=1)
    return tf.gather(images, cols, axis=2, batch_dims=1)
