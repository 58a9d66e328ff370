"""The input contract's helpers: how batches split into checked parts in the
model's ranges, the inputs of samples, and translations of user images."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfgan_zoo.ranges import to_model_range, to_uint8


def check_image_shape(images, image_shape, what: str = "images"):
    """``images``, checked to be ``[batch, *image_shape]``: a ValueError naming both
    shapes when the static shape tells, else an assertion in the step (a
    retraced step may know only ``[None, None, None, C]``)."""
    expected = [int(size) for size in image_shape]
    found = images.shape.as_list()
    message = (
        f"{what} do not match this model's image_shape {tuple(expected)} (batches [batch, "
        f"{', '.join(map(str, expected))}]). Resize the images, or build the model with the images' shape."
    )
    if len(found) != len(expected) + 1 or any(
        size is not None and size != want for size, want in zip(found[1:], expected)
    ):
        raise ValueError(f"{message} Found shape {found}.")
    check = tf.debugging.assert_equal(tf.shape(images)[1:], tf.constant(expected), message=message)
    with tf.control_dependencies([check]):
        return tf.identity(images)


def class_ids(labels, num_classes: int):
    """int32 class ids ``[batch]`` from class ids (any integer type, ``[batch]`` or
    ``[batch, 1]``, a Python list) or one-hot rows ``[batch, num_classes]``; ids outside
    ``[0, num_classes)`` fail in the step (they would train on an all-zero one-hot)."""
    labels = tf.convert_to_tensor(labels)
    rank, last = labels.shape.rank, labels.shape[-1] if labels.shape.rank else None
    if rank == 2 and last == num_classes and num_classes > 1:
        labels = tf.argmax(labels, axis=-1)
    elif rank == 2 and last == 1:
        labels = labels[:, 0]
    elif rank != 1:
        raise ValueError(
            f"labels must be class ids [batch] or one-hot rows [batch, {num_classes}], got shape "
            f"{labels.shape.as_list()}."
        )
    elif labels.dtype.is_floating:
        raise TypeError(f"labels must be integer class ids (or one-hot rows), got {labels.dtype.name} ids.")
    labels = tf.cast(labels, tf.int32)
    check = tf.debugging.Assert(
        tf.reduce_all(tf.logical_and(labels >= 0, labels < num_classes)),
        [f"labels must be class ids in [0, {num_classes - 1}]; found", tf.reduce_min(labels), "to",
         tf.reduce_max(labels), ". Map your label values to 0..num_classes-1, or build the model "
         "with more classes."],
    )
    with tf.control_dependencies([check]):
        return tf.identity(labels)


def noise_and_labels(inputs, family: str):
    """``(noise, labels)`` of a conditional generator's inputs, given as a tuple or list
    (what ``model(...)`` and ``predict`` take); Python lists become arrays, as
    ``predict`` slices arrays only."""
    if not isinstance(inputs, (tuple, list)) or len(inputs) != 2:
        raise ValueError(
            f"{family} generates from (noise, labels): noise [N, latent_dim] and labels as class ids [N] "
            f"or one-hot rows [N, num_classes]; got {type(inputs).__name__}."
        )
    noise, labels = inputs
    return (np.asarray(noise, np.float32) if isinstance(noise, list) else noise,
            np.asarray(labels) if isinstance(labels, list) else labels)


def unwrap_batch(data):
    """``data`` without the one-element tuple Keras packs a structured ``x`` in:
    ``fit(x=(images, labels))`` hands the step ``((images, labels),)``."""
    while isinstance(data, (tuple, list)) and len(data) == 1 and isinstance(data[0], (tuple, list, dict)):
        data = data[0]
    return data


def unpack_batch(data):
    """``(images, labels or None)`` of a batch given as images, ``(images,)``,
    ``(images, labels)`` or a TFDS-style dict ``{"image": ..., "label": ...}``
    (also inside the one-element tuple of ``fit(x=(images, labels))``)."""
    data = unwrap_batch(data)
    if isinstance(data, dict):
        image_key = next((key for key in ("image", "images") if key in data), None)
        if image_key is None:
            raise ValueError(
                f"A dict batch needs an 'image' entry (TFDS style), got keys {sorted(data)}."
            )
        label_key = next((key for key in ("label", "labels") if key in data), None)
        return data[image_key], None if label_key is None else data[label_key]
    if isinstance(data, (tuple, list)):
        return data[0], data[1] if len(data) > 1 else None
    return data, None


def split_labelled_images(data, image_shape, num_classes: int, family: str):
    """``(real_images, class ids or None)`` of a noise-to-image family's batch.

    Batches are images, ``(images, labels)`` or ``{"image", "label"}`` dicts
    (TFDS). Images are uint8 or floats in [-1, 1] of ``image_shape``; labels
    are class ids or one-hot rows, needed when ``num_classes`` (else ignored).
    Anything else is an error that names what was found and the fix.
    """
    images, labels = unpack_batch(data)
    images = check_image_shape(to_model_range(images), image_shape)
    if not num_classes:
        return images, None
    if labels is None:
        raise ValueError(
            f"{family} needs (images, labels) batches; got images only. Build the "
            "dataset with labels, e.g. tfgan_zoo.data.image_dataset(images, labels, ...)."
        )
    return images, class_ids(labels, num_classes)


def sampling_inputs(count: int, latent_dim: int, num_classes: int, seed: int = 0):
    """``(noise, labels)`` for ``count`` samples: noise float32 ``[count, latent_dim]``
    from ``seed``, and class ids cycling 0, 1, ..., num_classes - 1 (None
    without classes): every class equally often, the same for the same seed."""
    noise = np.random.default_rng(seed).standard_normal((count, latent_dim)).astype("float32")
    labels = np.arange(count, dtype="int32") % num_classes if num_classes else None
    return noise, labels


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


def split_image_pair(data, shapes: tuple, usage: str):
    """``(first, second)`` images of a two-part batch in [-1, 1], checked to have the
    image ``shapes`` ``(first_shape, second_shape)``; ``usage`` is the error message
    when the batch has not two parts."""
    data = unwrap_batch(data)
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError(usage)
    return tuple(
        check_image_shape(to_model_range(images, f"{which} images of a batch"), shape, f"{which} images")
        for images, shape, which in zip(data, shapes, ("first", "second"))
    )
