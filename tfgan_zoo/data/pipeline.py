"""``tf.data`` pipelines from in-memory arrays."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfgan_zoo.data.idx import DataError
from tfgan_zoo.ranges import uint8_to_model_range


def uint8_image_array(name: str, images, loader: str) -> np.ndarray:
    """``images`` as a uint8 ``[N, H, W, C]`` array, or a ValueError naming ``name``
    and the ``loader`` that makes such arrays."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(
            f"{name} must be uint8 [N, H, W, C], got {images.dtype} {images.shape}. Load them with {loader}."
        )
    return images


def class_ids(labels) -> np.ndarray:
    """``labels`` as int32 class ids, or a ValueError naming the first value that is not one.

    Integers from 0 to 2**31 - 1 (and booleans) are taken, and so are floats that
    are whole numbers (``3.0``, one-hot rows); a fraction (``0.6``), NaN, a negative id or
    one beyond int32 would otherwise be cut or wrapped to another class.
    """
    labels = np.asarray(labels)
    floating = np.issubdtype(labels.dtype, np.floating)
    if not (floating or labels.dtype == bool or np.issubdtype(labels.dtype, np.integer)):
        raise ValueError(
            f"labels must be integer class ids (0, 1, 2, ...), got {labels.dtype} values. "
            "Map each class to its index first, e.g. with np.unique(labels, return_inverse=True)."
        )
    if labels.size == 0:
        return labels.astype(np.int32)
    problems = {
        "not a whole number": (~np.isfinite(labels) | (labels != np.round(labels))) if floating else None,
        "negative": labels < 0,
        "beyond int32 (2**31 - 1)": labels > np.iinfo(np.int32).max,
    }
    for problem, found in problems.items():
        if found is not None and np.any(found):
            where = tuple(int(axis[0]) for axis in np.nonzero(found))
            index = where[0] if len(where) == 1 else ", ".join(map(str, where))
            raise ValueError(
                f"labels must be class ids from 0 to 2**31 - 1, but labels[{index}] = {labels[where].item()!r} is "
                f"{problem}: it would be read as another class. Pass the integer class of each image."
            )
    return labels.astype(np.int32)


def image_dataset(
    images: np.ndarray,
    labels: np.ndarray | None = None,
    batch_size: int = 64,
    shuffle: bool = True,
    seed: int | None = None,
    drop_remainder: bool = True,
) -> tf.data.Dataset:
    """Batches of images in [-1, 1] (with their labels, if given).

    ``images`` are uint8 ``[N, H, W, C]``; ``labels`` are class ids (see
    :func:`class_ids`), yielded as int32. Shuffling reshuffles every epoch;
    ``drop_remainder`` keeps every batch the same size, which keeps XLA from
    recompiling and splits evenly across replicas.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(
            f"images must be uint8 [N, H, W, C], got {images.dtype} {images.shape}. "
            "Add a channel axis for greyscale (images[..., None])."
        )
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"{len(images)} images but {len(labels)} labels.")
    if batch_size > len(images) and drop_remainder:
        raise DataError(f"batch_size {batch_size} exceeds the {len(images)} images available.")
    tensors = images if labels is None else (images, class_ids(labels))
    dataset = tf.data.Dataset.from_tensor_slices(tensors)
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    if labels is None:
        dataset = dataset.map(uint8_to_model_range, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        dataset = dataset.map(
            lambda x, y: (uint8_to_model_range(x), y), num_parallel_calls=tf.data.AUTOTUNE
        )
    return dataset.prefetch(tf.data.AUTOTUNE)
