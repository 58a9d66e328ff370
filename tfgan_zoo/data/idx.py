"""MNIST-style IDX files (MNIST, Fashion-MNIST): local files first, TFDS otherwise.

A dataset folder holds the four standard files, gzipped or not::

    train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz
    t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz

The folder is found from ``data_dir`` (the folder itself, or a parent holding
``mnist/`` or ``fashion_mnist/``) or from the ``TFGAN_ZOO_DATA`` environment
variable (same two forms). With neither, ``tensorflow_datasets`` downloads the
dataset (online users only).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

DATA_ENV_VAR = "TFGAN_ZOO_DATA"
IDX_DATASETS = ("mnist", "fashion_mnist")
CLASS_NAMES = {
    "mnist": [str(digit) for digit in range(10)],
    "fashion_mnist": [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ],
}
_SPLIT_PREFIX = {"train": "train", "test": "t10k"}
_IMAGES_MAGIC, _LABELS_MAGIC = 2051, 2049
NUM_CLASSES = 10


class DataNotFoundError(FileNotFoundError):
    """Raised when a dataset's files are missing; the message says how to fix it."""


class DataError(ValueError):
    """Raised when the user's data files cannot be used as they are (unreadable,
    inconsistent, too few); the message names the files and how to fix them.
    The experiment scripts print it as one line, without a traceback."""


def idx_file_names(split: str) -> tuple[str, str]:
    prefix = _SPLIT_PREFIX[split]
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def _find_file(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def _expected_files() -> str:
    return ", ".join(stem + ".gz" for split in _SPLIT_PREFIX for stem in idx_file_names(split))


def _missing_files(folder: Path) -> list[str]:
    return [
        stem + ".gz"
        for split in _SPLIT_PREFIX
        for stem in idx_file_names(split)
        if _find_file(folder, stem) is None
    ]


def resolve_idx_dir(name: str, data_dir: str | os.PathLike | None = None) -> Path | None:
    """The folder holding ``name``'s IDX files, or None when no path was given at all.

    Raises :class:`DataNotFoundError` when a path was given (argument or
    environment variable) but neither it nor ``path/name`` holds all four files.
    """
    if name not in IDX_DATASETS:
        raise ValueError(f"Unknown IDX dataset {name!r}; choose one of {IDX_DATASETS}.")
    root = data_dir if data_dir is not None else os.environ.get(DATA_ENV_VAR)
    if not root:
        return None
    root = Path(root).expanduser()
    candidates = [root / name, root]
    for folder in candidates:
        if folder.is_dir() and not _missing_files(folder):
            return folder
    looked = [folder for folder in candidates if folder.is_dir()] or candidates
    details = "; ".join(
        f"{folder} lacks {', '.join(_missing_files(folder))}" if folder.is_dir() else f"{folder} does not exist"
        for folder in looked
    )
    source = "--data-dir" if data_dir is not None else f"${DATA_ENV_VAR}"
    raise DataNotFoundError(
        f"{name} IDX files not found from {source}={root}: {details}.\n"
        f"Expected the four standard files (.gz or uncompressed): "
        f"{_expected_files()}.\n"
        f"Pass --data-dir DIR (or data_dir=DIR, or set {DATA_ENV_VAR}=DIR), where DIR holds "
        f"those files or a '{name}/' folder with them. Without any path, the dataset is "
        "downloaded through tensorflow_datasets."
    )


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Reads one IDX file (gzipped or not) into a uint8 array, checking its header."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as error:
        raise DataError(f"Cannot read IDX file {path}: {error}. Re-download the file.") from error
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path} is not an unsigned-byte IDX file (bad magic number). Re-download it.")
    rank = raw[3]
    header_size = 4 + 4 * rank
    if len(raw) < header_size:
        raise DataError(f"{path} is truncated inside its header. Re-download it.")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank))
    expected = int(np.prod(shape)) + header_size
    if len(raw) != expected:
        raise DataError(
            f"{path} holds {len(raw)} bytes but its header {shape} implies {expected}: "
            "the file is truncated or corrupt. Re-download it."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)


def load_idx_split(folder: str | os.PathLike, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """``(images uint8 [N,H,W,1], labels int32 [N])`` from an IDX folder.

    Labels outside 0-9 are a ValueError naming the file and the values.
    """
    if split not in _SPLIT_PREFIX:
        raise ValueError(f"split must be one of {tuple(_SPLIT_PREFIX)}, got {split!r}.")
    folder = Path(folder)
    images_stem, labels_stem = idx_file_names(split)
    images_path, labels_path = _find_file(folder, images_stem), _find_file(folder, labels_stem)
    if images_path is None or labels_path is None:
        raise DataNotFoundError(f"{folder} lacks {images_stem}(.gz) or {labels_stem}(.gz).")
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(
            f"{images_path} ({images.shape}) and {labels_path} ({labels.shape}) do not form "
            "an image set: expected [N, H, W] images and N labels."
        )
    _check_labels(labels_path, labels)
    return images[..., None], labels.astype(np.int32)


def _check_labels(path: Path, labels: np.ndarray) -> None:
    """Both datasets have ten classes: a larger id would train silently as a class
    the models were not built for (or index past the one-hot), so stop here."""
    bad = labels >= NUM_CLASSES
    if not bad.any():
        return
    values, counts = np.unique(labels[bad], return_counts=True)
    positions = np.flatnonzero(bad)
    listing = ", ".join(f"{value} ({count}x)" for value, count in zip(values.tolist(), counts.tolist()))
    raise DataError(
        f"{path} holds {int(bad.sum())} label(s) outside 0-{NUM_CLASSES - 1}: {listing}, first at "
        f"position(s) {', '.join(map(str, positions[:5].tolist()))}. MNIST and Fashion-MNIST labels are "
        "0-9; the file is corrupt or from another dataset. Re-download it."
    )


def _load_tfds(name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    from tfgan_zoo.data.tfds_errors import tfds_load_error  # it imports this module

    try:
        import tensorflow_datasets as tfds

        # Offline, tfds retries for minutes (215 s measured) behind a progress bar
        # that does not move: say up front what is happening and the way out.
        print(f"Loading {name} through tensorflow_datasets (downloaded on first use; offline, "
              f"interrupt and pass --data-dir DIR or set {DATA_ENV_VAR}=DIR to read local IDX files).")
        data = tfds.load(name, split=split, as_supervised=True, batch_size=-1)
    except Exception as error:  # offline, a package missing, or else: tfds_load_error tells which
        raise tfds_load_error(
            error,
            name,
            f"Pass --data-dir DIR (or set {DATA_ENV_VAR}=DIR), where DIR holds the {name} IDX files "
            f"({_expected_files()}) or a '{name}/' folder with them.",
        ) from error
    images, labels = tfds.as_numpy(data)
    return images.astype(np.uint8), labels.astype(np.int32)


def load_idx_dataset(name: str = "mnist", split: str = "train", data_dir=None):
    """``(images uint8 [N,28,28,1], labels int32 [N])`` of MNIST or Fashion-MNIST.

    Local IDX files when ``data_dir`` or ``$TFGAN_ZOO_DATA`` is given, TFDS otherwise. A
    failed TFDS load raises what :func:`~tfgan_zoo.data.tfds_errors.tfds_load_error`
    returns: :class:`DataNotFoundError` when the download failed, ``MissingPackageError``
    or ``RuntimeError`` otherwise.
    """
    folder = resolve_idx_dir(name, data_dir)
    if folder is None:
        return _load_tfds(name, split)
    return load_idx_split(folder, split)
