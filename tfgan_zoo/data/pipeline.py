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


def image_dataset(
    images: np.ndarray,
    labels: np.ndarray | None = None,
    batch_size: int = 64,
    shuffle: bool = True,
    seed: int | None = None,
    drop_remainder: bool = True,
) -> tf.data.Dataset:
    """Batches of images in [-1, 1] (with their labels, if given).

    ``images`` are uint8 ``[N, H, W, C]``. Shuffling reshuffles every epoch;
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
    tensors = images if labels is None else (images, np.asarray(labels, np.int32))
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
