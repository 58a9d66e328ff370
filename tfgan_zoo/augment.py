"""On-device augmentation: the pix2pix/CycleGAN random jitter, and DiffAugment for small datasets.

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
    method: str = "bilinear",
) -> tuple[tf.Tensor, tf.Tensor]:
    """pix2pix random jitter, applied identically to each input and its target.

    ``inputs`` ``[B, S, S, Ci]`` and ``targets`` ``[B, S, S, Ct]`` are float tensors
    (channel counts may differ). Both are resized to ``load_size``² (``method``:
    ``"bilinear"``, ``"nearest"`` keeps label-map colours exact, ``"bicubic"``)
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
    pair = _resize_crop_mirror(pair, seed, load_size, mirror, method)
    return tf.cast(pair[..., :channels], inputs.dtype), tf.cast(pair[..., channels:], targets.dtype)


def random_jitter(
    images: tf.Tensor,
    seed: tf.Tensor,
    load_size: int | None = None,
    mirror: bool = True,
    method: str = "bilinear",
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
    return tf.cast(_resize_crop_mirror(tf.cast(images, tf.float32), seed, load_size, mirror, method), images.dtype)


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


RESIZE_METHODS = ("bilinear", "nearest", "bicubic")


def _resize_crop_mirror(images: tf.Tensor, seed: tf.Tensor, load_size: int, mirror: bool, method: str) -> tf.Tensor:
    """The jitter itself, on checked float32 images ``[B, S, S, C]``."""
    if method not in RESIZE_METHODS:
        raise ValueError(f"jitter resize method must be one of {RESIZE_METHODS}, got {method!r}.")
    size = images.shape[1]
    if load_size != size:
        images = tf.image.resize(images, [load_size, load_size], method=method)

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


# ------------------------------------------------------------------ DiffAugment
DIFF_AUGMENT_OPS = ("color", "translation", "cutout")


def parse_policy(policy) -> tuple[str, ...]:
    """``"color,translation,cutout"`` (or a sequence, or ``""``/None for none) -> checked op names."""
    if not policy:
        return ()
    names = tuple(name.strip() for name in (policy.split(",") if isinstance(policy, str) else policy))
    unknown = [name for name in names if name not in DIFF_AUGMENT_OPS]
    if unknown:
        raise ValueError(f"Unknown DiffAugment op(s) {unknown}; choose from {DIFF_AUGMENT_OPS}.")
    return names


def diff_augment(
    images: tf.Tensor,
    seed: tf.Tensor,
    policy="color,translation,cutout",
    translation_ratio: float = 0.125,
    cutout_ratio: float = 0.5,
) -> tf.Tensor:
    """Differentiable augmentation (Zhao et al. 2020) of images ``[B, H, W, C]`` in [-1, 1].

    D sees real and generated images through the same random transforms
    family, so it cannot tell them apart by the augmentation, and G's
    gradient flows back through it. The ops, each drawn per sample:

    * ``color``: brightness shift in [-0.5, 0.5] (in the [0, 1] scale the paper
      uses: [-1, 1] here), saturation scaled by [0, 2], contrast by [0.5, 1.5];
    * ``translation``: shift by up to ``translation_ratio`` of each side, zero-filled;
    * ``cutout``: a zeroed square of ``cutout_ratio`` of the side at a random place.

    Zero is mid-grey in [-1, 1]. The result is clipped to [-1, 1]. ``seed`` is
    a stateless int ``[2]`` seed (see :func:`step_seed`). XLA-compilable.
    """
    ops = parse_policy(policy)
    images = tf.convert_to_tensor(images)
    if images.shape.rank != 4:
        raise ValueError(f"diff_augment expects images [B, H, W, C], got shape {images.shape}.")
    seeds = tf.unstack(tf.random.experimental.stateless_split(_check_seed(seed), len(DIFF_AUGMENT_OPS)))
    for name, op_seed in zip(DIFF_AUGMENT_OPS, seeds):
        if name in ops:
            images = _DIFF_AUGMENT[name](images, op_seed, translation_ratio, cutout_ratio)
    return tf.clip_by_value(images, -1.0, 1.0) if "color" in ops else images


class DiffAugment:
    """DiffAugment as a model's component: ``augment(images, salt, step)`` passes
    the images D sees through the ``policy``'s transforms, drawn anew at each
    ``step`` from the model's ``seed``; ``salt`` keeps apart the draws of one
    step's batches (real, generated for D, generated for G). Each replica
    draws its own transforms (see :func:`step_seed`). Without a policy the
    images pass unchanged.

    Args:
        policy: ``"color,translation,cutout"`` or a subset (or a sequence of
            names); ``""``: off.
        seed: the model's seed.
    """

    def __init__(self, policy="", seed: int = 0):
        self.policy, self.seed = parse_policy(policy), int(seed)

    def __call__(self, images, salt: int, step):
        if not self.policy:
            return images
        seed = step_seed(self.seed * 1_000_003 + int(salt), step)
        return tf.cast(diff_augment(tf.cast(images, tf.float32), seed, self.policy), images.dtype)


def _uniform(seed, batch, low, high):
    return tf.random.stateless_uniform([batch, 1, 1, 1], seed, minval=low, maxval=high)


def _color(images, seed, *_):
    dtype, batch = images.dtype, tf.shape(images)[0]
    brightness_seed, saturation_seed, contrast_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
    x = tf.cast(images, tf.float32)
    x = x + _uniform(brightness_seed, batch, -1.0, 1.0)
    mean = tf.reduce_mean(x, axis=-1, keepdims=True)
    x = (x - mean) * _uniform(saturation_seed, batch, 0.0, 2.0) + mean
    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    x = (x - mean) * _uniform(contrast_seed, batch, 0.5, 1.5) + mean
    return tf.cast(x, dtype)


def _shifted_indices(seed, batch, size, max_shift):
    """Per-sample source indices ``[B, size]`` of a shift in [-max_shift, max_shift], and which are inside."""
    shift = tf.random.stateless_uniform([batch, 1], seed, minval=-max_shift, maxval=max_shift + 1, dtype=tf.int32)
    source = tf.range(size)[None, :] - shift
    inside = (source >= 0) & (source < size)
    return tf.clip_by_value(source, 0, size - 1), inside


def _translation(images, seed, translation_ratio, _):
    batch, height, width = tf.shape(images)[0], images.shape[1], images.shape[2]
    row_seed, col_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    rows, rows_inside = _shifted_indices(row_seed, batch, height, int(height * translation_ratio + 0.5))
    cols, cols_inside = _shifted_indices(col_seed, batch, width, int(width * translation_ratio + 0.5))
    # Gathers, not a crop of a padded copy: per-sample offsets, differentiable, XLA-friendly.
    moved = tf.gather(tf.gather(images, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)
    inside = rows_inside[:, :, None, None] & cols_inside[:, None, :, None]
    return moved * tf.cast(inside, images.dtype)


def _cutout(images, seed, _, cutout_ratio):
    batch, height, width = tf.shape(images)[0], images.shape[1], images.shape[2]
    cut_h, cut_w = int(height * cutout_ratio + 0.5), int(width * cutout_ratio + 0.5)
    row_seed, col_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    # The square's top-left corner, allowed to hang over the edges as in the paper.
    top = tf.random.stateless_uniform([batch, 1], row_seed, minval=-(cut_h // 2), maxval=height - cut_h // 2 + 1, dtype=tf.int32)
    left = tf.random.stateless_uniform([batch, 1], col_seed, minval=-(cut_w // 2), maxval=width - cut_w // 2 + 1, dtype=tf.int32)
    rows, cols = tf.range(height)[None, :], tf.range(width)[None, :]
    in_rows = (rows >= top) & (rows < top + cut_h)
    in_cols = (cols >= left) & (cols < left + cut_w)
    cut = in_rows[:, :, None, None] & in_cols[:, None, :, None]
    return images * tf.cast(~cut, images.dtype)


_DIFF_AUGMENT = {"color": _color, "translation": _translation, "cutout": _cutout}
