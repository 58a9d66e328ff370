"""Your own pictures: any folder of images (recursively), optionally labelled.

    folder = load_image_folder("my_pictures", image_size=64)                  # no labels
    folder = load_image_folder("pets", 64, labels="subfolders")               # pets/cat/*.jpg, pets/dog/*.png
    folder = load_image_folder("faces", 64, labels="tags.csv", label_column="hair")

Every image is centre-cropped to a square and resized to ``image_size``;
greyscale, palette and transparent images become RGB (see :func:`read_rgb`).
Files that cannot be decoded are skipped and listed (``folder.skipped``, and a
warning naming them), or, with ``strict=True``, stop the load with an error
naming the file. Decoding runs on a thread pool (OpenCV releases the GIL).

TensorFlow Datasets' ``ImageFolder`` builder was considered: it needs a
``root/split/label/`` layout, has no unlabelled or CSV mode, and decodes
lazily, so a corrupt file stops training mid-epoch instead of being reported
up front. Folders here are small enough (a few thousand images) to hold in
memory as uint8; for larger sets write TFRecord shards.
"""

from __future__ import annotations

import csv
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tfgan_zoo.data.idx import DataNotFoundError
from tfgan_zoo.data.images import ImageReadError, list_images, read_rgb, resize_square

logger = logging.getLogger("tfgan_zoo.data")

SUBFOLDERS = "subfolders"


@dataclass
class ImageFolder:
    """What :func:`load_image_folder` read.

    ``images`` uint8 ``[N, S, S, 3]``; ``labels`` int32 ``[N]`` class ids
    (None without labels) naming ``class_names[id]``; ``files`` the source of
    each image; ``skipped`` ``(file, reason)`` for each unreadable file.
    """

    images: np.ndarray
    labels: np.ndarray | None
    class_names: list[str]
    files: list[Path]
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def subset(self, count: int, seed: int = 0) -> ImageFolder:
        """``count`` images drawn at random without replacement (all if fewer)."""
        if count >= len(self.images):
            return self
        keep = np.sort(np.random.default_rng(seed).choice(len(self.images), count, replace=False))
        return ImageFolder(
            self.images[keep], None if self.labels is None else self.labels[keep], self.class_names,
            [self.files[i] for i in keep], self.skipped,
        )


def load_image_folder(
    directory: str | os.PathLike,
    image_size: int = 64,
    labels: str | os.PathLike | None = None,
    label_column: str | None = None,
    filename_column: str = "filename",
    strict: bool = False,
    workers: int | None = None,
) -> ImageFolder:
    """Reads every image under ``directory`` (JPEG, PNG, BMP, WebP; nested folders too).

    Args:
        image_size: side of the square images returned.
        labels: None (unlabelled), ``"subfolders"`` (the class of an image is
            the name of the top-level sub-folder it is in; images directly in
            ``directory`` are an error), or the path of a CSV file with one row
            per image: ``filename_column`` (relative to ``directory``) and
            ``label_column``. Images not listed in the CSV are left out (a
            warning says how many); a listed file that does not exist is an error.
        label_column: the CSV column to condition on (e.g. ``hair``); required
            with a CSV. Class ids follow the sorted label values (numbers
            numerically).
        strict: raise :class:`ImageReadError` on the first unreadable file
            instead of skipping it.
        workers: decoding threads (default: the CPU count).
    """
    root = Path(directory)
    if not root.is_dir():
        raise DataNotFoundError(
            f"Image folder {root} does not exist. Pass the folder that holds your pictures "
            "(e.g. --images ~/pictures/faces)."
        )
    if labels is None:
        files, names = list_images(root, recursive=True), None
    elif str(labels) == SUBFOLDERS:
        files, names = _from_subfolders(root)
    else:
        files, names = _from_csv(root, Path(labels), label_column, filename_column)
    if not files:
        raise DataNotFoundError(
            f"{root} holds no images (looked for {', '.join(('.jpg', '.jpeg', '.png', '.bmp', '.webp'))} "
            "in it and its sub-folders)."
        )
    with ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:
        decoded = list(pool.map(lambda path: _read_square(path, image_size, strict), files))
    skipped = [(path, result) for path, result in zip(files, decoded) if isinstance(result, str)]
    kept = [i for i, result in enumerate(decoded) if not isinstance(result, str)]
    if skipped:
        listing = "; ".join(f"{path} ({reason})" for path, reason in skipped[:20])
        more = f" and {len(skipped) - 20} more" if len(skipped) > 20 else ""
        logger.warning(
            "Skipped %d unreadable file(s) of %d under %s: %s%s. Pass strict=True (--strict) to stop on them instead.",
            len(skipped), len(files), root, listing, more,
        )
    if not kept:
        raise ImageReadError(f"None of the {len(files)} image files under {root} could be read.")
    images = np.stack([decoded[i] for i in kept])
    class_labels = None
    class_names: list[str] = []
    if names is not None:
        class_names = _sorted_classes(names[i] for i in kept)
        ids = {name: index for index, name in enumerate(class_names)}
        class_labels = np.array([ids[names[i]] for i in kept], np.int32)
    return ImageFolder(images, class_labels, class_names, [files[i] for i in kept], skipped)


def _read_square(path: Path, size: int, strict: bool):
    """The image as uint8 ``[size, size, 3]``, or (unless ``strict``) the reason it cannot be read."""
    try:
        return resize_square(read_rgb(path), size)
    except ImageReadError as error:
        if strict:
            raise
        return error.reason


def _sorted_classes(values) -> list[str]:
    unique = set(values)
    if all(value.lstrip("-").isdigit() for value in unique):
        return sorted(unique, key=int)
    return sorted(unique)


def _from_subfolders(root: Path) -> tuple[list[Path], list[str]]:
    files = list_images(root, recursive=True)
    loose = [path for path in files if path.parent == root]
    if loose:
        raise ValueError(
            f"labels='subfolders' takes each image's class from its sub-folder of {root}, but "
            f"{len(loose)} image(s) sit directly in it (e.g. {loose[0].name}). Move them into a class "
            "folder, or load without labels."
        )
    return files, [path.relative_to(root).parts[0] for path in files]


def _from_csv(root: Path, csv_path: Path, label_column: str | None, filename_column: str):
    if not csv_path.is_absolute() and not csv_path.exists():
        csv_path = root / csv_path
    if not csv_path.is_file():
        raise DataNotFoundError(f"Labels file {csv_path} does not exist.")
    with open(csv_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    columns = list(rows[0]) if rows else []
    if label_column is None or label_column not in columns or filename_column not in columns:
        raise ValueError(
            f"{csv_path} has columns {columns}; it needs a file-name column {filename_column!r} and the "
            f"label column to use ({'none given' if label_column is None else repr(label_column)}). "
            "Pass label_column= (--label-column) and filename_column= if the names differ."
        )
    by_name = {row[filename_column]: row[label_column] for row in rows}
    images = {path.relative_to(root).as_posix(): path for path in list_images(root, recursive=True)}
    # Names are matched relative to the folder, or by bare name for files in sub-folders.
    by_basename = {}
    for relative, path in images.items():
        by_basename.setdefault(Path(relative).name, []).append(path)

    def find(name: str) -> Path | None:
        matches = by_basename.get(name, [])
        return images.get(name) or (matches[0] if len(matches) == 1 else None)

    files, names, missing = [], [], []
    for name, label in by_name.items():
        path = find(name)
        if path is None:
            missing.append(name)
        else:
            files.append(path)
            names.append(label.strip())
    if missing:
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise DataNotFoundError(
            f"{csv_path} lists {len(missing)} file(s) not found under {root}: {', '.join(missing[:10])}{more}. "
            "Remove their rows or restore the files."
        )
    if not all(names):
        raise ValueError(f"{csv_path} has rows with an empty {label_column!r} value; give every image a label.")
    unlisted = len(images) - len(files)
    if unlisted:
        logger.warning("%d image(s) under %s have no row in %s and are left out.", unlisted, root, csv_path)
    return files, names
