"""Reading images to score: uint8 ``[N, H, W, C]`` from arrays, pairs or datasets.

Every scoring function takes **uint8 images** in [0, 255] or **float images in
[-1, 1]** (the generator's tanh range, and what
:func:`tfgan_zoo.data.image_dataset` yields), converted to uint8 by the same
rounding the exported generator uses. Float images outside [-1, 1] are
rejected rather than guessed at.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfgan_zoo.ranges import to_uint8


def as_uint8_images(images) -> np.ndarray:
    """uint8 [N, H, W, C] from uint8 images or float images in [-1, 1]."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(
            f"images must be [N, H, W, C], got shape {images.shape}. "
            "Add a channel axis for greyscale (images[..., None])."
        )
    if images.dtype == np.uint8:
        return images
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"images must be uint8 in [0, 255] or float in [-1, 1], got {images.dtype}.")
    low, high = float(images.min()), float(images.max())
    # A small tolerance for float rounding; [0, 255] floats are a caller error.
    if low < -1.001 or high > 1.001:
        raise ValueError(
            f"float images must be in [-1, 1] (the generator's range), got [{low:.3g}, {high:.3g}]. "
            "Pass uint8 images for [0, 255] data."
        )
    return np.asarray(to_uint8(images))


def _split_element(element):
    if isinstance(element, (tuple, list)):
        labels = np.asarray(element[1]) if len(element) > 1 else None
        return np.asarray(element[0]), labels
    return np.asarray(element), None


def gather_images(source, max_images: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """``(uint8 images [N, H, W, C], int32 labels or None)`` from any image source.

    ``source`` is an array or tensor of images, an ``(images, labels)`` pair,
    or a ``tf.data.Dataset`` of batches (or single images) of either kind.
    Reads at most ``max_images`` (all when None); a dataset is only iterated
    that far, so an infinite (repeated) dataset needs ``max_images``.
    """
    if isinstance(source, tf.data.Dataset):
        image_parts, label_parts, count = [], [], 0
        for element in source.as_numpy_iterator():
            images, labels = _split_element(element)
            if images.ndim == 3:  # an unbatched dataset yields single images
                images = images[None]
                labels = None if labels is None else labels.reshape(1)
            image_parts.append(images)
            label_parts.append(labels)
            count += len(images)
            if max_images is not None and count >= max_images:
                break
        if not image_parts:
            raise ValueError("The dataset yielded no images.")
        images = np.concatenate(image_parts)
        labels = None if label_parts[0] is None else np.concatenate(label_parts)
    else:
        images, labels = _split_element(source)
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"{len(images)} images but {len(labels)} labels.")
    images = as_uint8_images(images[:max_images])
    return images, None if labels is None else np.asarray(labels[:max_images], np.int32)
