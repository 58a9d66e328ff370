"""The two image ranges and the conversions between them, in one place: the
uint8 range [0, 255] (files, datasets, served images) and the model range,
float [-1, 1] (G's tanh output, what the networks take). The metrics' third,
the unit interval [0, 1], is theirs (see :mod:`tfgan_zoo.glossary`)."""

from __future__ import annotations

import tensorflow as tf


def uint8_to_model_range(images):
    """uint8 [0, 255] -> float32 [-1, 1], the range of G's tanh output."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


# The old name, which read as [0, 1]; kept for code written against it.
to_unit_range = uint8_to_model_range


def to_uint8(images):
    """float [-1, 1] -> uint8 [0, 255], rounding and clipping."""
    images = tf.clip_by_value(tf.cast(images, tf.float32), -1.0, 1.0)
    return tf.cast(tf.round((images + 1.0) * 127.5), tf.uint8)


# Float images a little outside [-1, 1] (resizing overshoot, float rounding) are fine.
_RANGE_SLACK = 0.01


def looks_like_unit_range(images) -> bool:
    """Whether float ``images`` look like [0, 1] data (``x / 255``): every value in
    [0, 1] and not all equal. Images in [-1, 1] look so only when every pixel of
    the batch is at least mid-grey, which real batches of pictures are not."""
    images = tf.cast(tf.convert_to_tensor(images), tf.float32)
    if not tf.size(images):
        return False
    lowest, highest = float(tf.reduce_min(images)), float(tf.reduce_max(images))
    return 0.0 <= lowest < highest <= 1.0


def to_model_range(images, what: str = "images"):
    """uint8 [0, 255] -> float32 [-1, 1]; float images must already be in [-1, 1].

    0-255 floats (and anything else outside [-1, 1]) would train silently against
    G's tanh outputs: an assertion in the step refuses them (the TFLite converter
    and XLA drop it; :meth:`tfgan_zoo.models.base.AdversarialModel.fit` then checks
    the first batch eagerly). 0-1 floats, the usual ``x / 255``, lie inside [-1, 1]
    and would train washed-out samples: called eagerly (``fit``'s and
    ``evaluate``'s check of the first batch, ``translate``), float images that
    :func:`looks_like_unit_range` are refused too, with the fix. Inside the step
    that check is left out, so that a bright batch of [-1, 1] images never stops
    a run midway: an input is judged by its first batch, before training starts.
    """
    images = tf.convert_to_tensor(images)
    if images.dtype == tf.uint8:
        return uint8_to_model_range(images)
    if not images.dtype.is_floating:
        raise TypeError(
            f"{what} must be uint8 (0-255) or floats in [-1, 1], got {images.dtype.name}. "
            "Cast integer images to uint8."
        )
    images = tf.cast(images, tf.float32)
    if tf.executing_eagerly() and looks_like_unit_range(images):
        raise ValueError(
            f"{what} look like floats in [0, 1] (all values from {float(tf.reduce_min(images)):.3g} to "
            f"{float(tf.reduce_max(images)):.3g}), but the model takes uint8 (0-255) or floats in [-1, 1]. "
            "Scale them by 2 * x - 1, or pass uint8 images."
        )
    lowest, highest = tf.reduce_min(images), tf.reduce_max(images)
    in_range = tf.logical_or(
        tf.equal(tf.size(images), 0),
        tf.logical_and(lowest >= -1.0 - _RANGE_SLACK, highest <= 1.0 + _RANGE_SLACK),
    )
    check = tf.debugging.Assert(
        in_range,
        [f"{what} must be uint8 (0-255) or floats in [-1, 1]; found floats from", lowest, "to", highest,
         ". Pass uint8 images, or scale 0-255 floats by x / 127.5 - 1 and 0-1 floats by 2 * x - 1."],
    )
    with tf.control_dependencies([check]):
        return tf.identity(images)
