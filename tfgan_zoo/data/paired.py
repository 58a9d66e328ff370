"""Paired image-to-image datasets (pix2pix): side-by-side files or two matching folders.

Loaders return uint8 arrays ``[N, size, size, 3]`` of inputs and targets plus the
pair names; :func:`paired_dataset` batches them. Scaling to [-1, 1] and random
jitter happen on the device, in the model (:mod:`tfgan_zoo.augment`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from tfgan_zoo.data.idx import DATA_ENV_VAR, DataError, DataNotFoundError
from tfgan_zoo.data.images import (
    IMAGE_EXTENSIONS,
    index_by_stem,
    is_image_file,
    natural_key,
    read_rgb,
    require_images,
    resize_square,
)
from tfgan_zoo.data.pipeline import uint8_image_array


DIRECTIONS = ("AtoB", "BtoA")
_MAX_LISTED = 10


def _require_images(directory: Path, what: str) -> list[Path]:
    return require_images(directory, f"Expected a folder of {what} ({', '.join(IMAGE_EXTENSIONS)}).")


def _list_more(items: list[str]) -> str:
    listed = ", ".join(items[:_MAX_LISTED])
    return listed + (f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else "")


def _holds_images(folder: Path) -> bool:
    return any(
        is_image_file(path) or (path.is_dir() and any(is_image_file(child) for child in path.iterdir()))
        for path in folder.iterdir()
    )


def resolve_paired_dir(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """The folder of dataset ``name`` from ``data_dir``, else ``$TFGAN_ZOO_DATA``.

    Either path may be the dataset folder itself or its parent (holding ``name/``).
    A dataset folder holds images, directly or in split folders (``train/``, ``val/``).
    Raises :class:`DataNotFoundError` when no path is given or neither form fits.
    """
    root = data_dir if data_dir is not None else os.environ.get(DATA_ENV_VAR)
    fix = (
        f"Pass --data-dir DIR (or data_dir=DIR, or set {DATA_ENV_VAR}=DIR), where DIR is the "
        f"'{name}' folder or its parent; the folder holds images directly or in split folders "
        "such as train/ and val/."
    )
    if not root:
        raise DataNotFoundError(f"No data folder given for {name}. {fix}")
    root = Path(root).expanduser()
    for folder in (root / name, root):
        if folder.is_dir() and _holds_images(folder):
            return folder
    source = "--data-dir" if data_dir is not None else f"${DATA_ENV_VAR}"
    raise DataNotFoundError(
        f"{name} not found from {source}={root}: neither it nor {root / name} holds images. {fix}"
    )


def load_side_by_side(
    directory: str | os.PathLike, direction: str = "AtoB", size: int = 256
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``(inputs, targets, names)`` from files holding an A|B pair side by side.

    Each file is ``2H`` wide and ``H`` tall: A is the left half, B the right.
    ``AtoB`` maps A to B (input = left half); ``BtoA`` maps B to A (input = right half).
    For pix2pix facades (left = photo, right = label map) label map -> photo is
    ``BtoA``. Halves that are not ``size``×``size`` are resized (:func:`resize_square`).
    Files are read in natural order (``2.jpg`` before ``10.jpg``); ``names`` are file stems.
    Returns uint8 ``[N, size, size, 3]`` inputs and targets.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}.")
    files = _require_images(Path(directory), "side-by-side A|B pair images")
    inputs = np.empty((len(files), size, size, 3), np.uint8)
    targets = np.empty_like(inputs)
    for i, path in enumerate(files):
        image = read_rgb(path)
        height, width = image.shape[:2]
        if width != 2 * height:
            raise DataError(
                f"{path} is {width}×{height} (width × height), but a side-by-side pair must be "
                "exactly twice as wide as tall (A left, B right). Remove or re-export it, or keep "
                "inputs and targets in two folders (load_folder_pairs)."
            )
        left, right = image[:, :height], image[:, height:]
        if direction == "BtoA":
            left, right = right, left
        inputs[i], targets[i] = resize_square(left, size), resize_square(right, size)
    return inputs, targets, [path.stem for path in files]


def load_folder_pairs(
    input_dir: str | os.PathLike, target_dir: str | os.PathLike, size: int = 256
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``(inputs, targets, names)`` from two folders of images with matching names.

    Files pair up on their name without extension (``a.png`` with ``a.jpg``); every
    file needs a partner. The two images of a pair must have the same size, which
    is then squared to ``size``×``size`` (:func:`resize_square`). Returns uint8
    ``[N, size, size, 3]`` arrays (greyscale images become 3 equal channels) in
    natural name order.
    """
    input_dir, target_dir = Path(input_dir), Path(target_dir)
    input_files = index_by_stem(_require_images(input_dir, "input images"), input_dir)
    target_files = index_by_stem(_require_images(target_dir, "target images"), target_dir)
    only_inputs = sorted(input_files.keys() - target_files.keys(), key=natural_key)
    only_targets = sorted(target_files.keys() - input_files.keys(), key=natural_key)
    if only_inputs or only_targets:
        no_target = _list_more([input_files[stem].name for stem in only_inputs]) or "none"
        no_input = _list_more([target_files[stem].name for stem in only_targets]) or "none"
        raise DataError(
            "Input and target images must pair up by name (extension ignored). "
            f"Without a target in {target_dir}: {no_target}. Without an input in {input_dir}: "
            f"{no_input}. Add the missing partners or remove the unpaired files."
        )
    names = sorted(input_files, key=natural_key)
    inputs = np.empty((len(names), size, size, 3), np.uint8)
    targets = np.empty_like(inputs)
    for i, name in enumerate(names):
        input_image, target_image = read_rgb(input_files[name]), read_rgb(target_files[name])
        if input_image.shape != target_image.shape:
            raise DataError(
                f"{input_files[name]} is {input_image.shape[1]}×{input_image.shape[0]} but its "
                f"target {target_files[name]} is {target_image.shape[1]}×{target_image.shape[0]}; "
                "a pair must be pixel-aligned, so re-export them at the same size."
            )
        inputs[i], targets[i] = resize_square(input_image, size), resize_square(target_image, size)
    return inputs, targets, names


def paired_dataset(
    inputs: np.ndarray,
    targets: np.ndarray,
    batch_size: int = 1,
    shuffle: bool = True,
    seed: int | None = None,
    drop_remainder: bool = True,
) -> tf.data.Dataset:
    """Batches of ``(inputs, targets)``, both still uint8 ``[B, H, W, C]``.

    No float conversion and no jitter here: the model scales to [-1, 1] and
    jitters on the device (:func:`tfgan_zoo.augment.paired_random_jitter`), which
    keeps the CPU pipeline out of the way and the transfer 4× smaller. Shuffling
    reshuffles every epoch; ``drop_remainder`` keeps batch shapes static for XLA.
    """
    loader = "load_side_by_side or load_folder_pairs"
    inputs, targets = uint8_image_array("inputs", inputs, loader), uint8_image_array("targets", targets, loader)
    if len(inputs) != len(targets) or inputs.shape[1:3] != targets.shape[1:3]:
        raise ValueError(
            f"inputs {inputs.shape} and targets {targets.shape} must hold the same number of "
            "images of the same height and width; only the channel counts may differ."
        )
    if len(inputs) == 0:
        raise DataError("inputs and targets are empty: there are no pairs to batch.")
    if drop_remainder and batch_size > len(inputs):
        raise DataError(f"batch_size {batch_size} exceeds the {len(inputs)} pairs available.")
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if shuffle:
        dataset = dataset.shuffle(len(inputs), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)
