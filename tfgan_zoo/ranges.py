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


def to_model_range(images, what: str = "images"):
    """uint8 [0, 255] -> float32 [-1, 1]; float images must already be in [-1, 1].

    The range check runs in the step (the TFLite converter and XLA drop it;
    :meth:`tfgan_zoo.models.base.AdversarialModel.fit` then checks the first batch eagerly): 0-255
    or 0-1 floats would otherwise train silently against G's tanh outputs.
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
