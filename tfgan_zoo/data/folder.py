"""Your own pictures: any folder of images (recursively), optionally labelled.

    folder = load_image_folder("my_pictures", image_size=64)                  # no labels
    folder = load_image_folder("pets", 64, labels="subfolders")               # pets/cat/*.jpg, pets/dog/*.png
    folder = load_image_folder("faces", 64, labels="tags.csv", label_column="hair")

Every image is centre-cropped to a square and resized to ``image_size``;
greyscale, palette and transparent images become RGB and EXIF orientation is
applied (see :func:`read_rgb`). Files that cannot be decoded, pictures over the
pixel cap (:data:`~tfgan_zoo.data.images.MAX_PIXELS`) and pictures of kinds
that are not decoded (HEIC, AVIF, ...: :data:`UNREAD_PICTURE_EXTENSIONS`) are
skipped and listed (``folder.skipped``, and a warning naming them), or, with
``strict=True``, stop the load with an error naming the file. Decoding runs on
a thread pool (OpenCV releases the GIL).

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
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from tfgan_zoo.data.idx import DataError, DataNotFoundError
from tfgan_zoo.data.images import (
    IMAGE_EXTENSIONS,
    UNREAD_PICTURE_EXTENSIONS,
    ImageReadError,
    list_images,
    read_rgb,
    resize_square,
    walk_files,
)

logger = logging.getLogger("tfgan_zoo.data")

SUBFOLDERS = "subfolders"


@dataclass
class ImageFolder:
    """What :func:`load_image_folder` read.

    ``images`` uint8 ``[N, S, S, 3]``; ``labels`` int32 ``[N]`` class ids
    (None without labels) naming ``class_names[id]``; ``files`` the source of
    each image; ``skipped`` ``(file, reason)`` for each unreadable file.

    ``class_names`` is sorted (numerically when every name is a number, by
    string otherwise) over the labels of the images that were read, so it
    depends only on those labels, never on file order or the process: record
    it with a run so its class ids can be read back (empty without labels).
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
    """Reads every image under ``directory`` (JPEG, PNG, BMP, WebP, GIF, TIFF; nested folders too).

    Args:
        image_size: side of the square images returned.
        labels: None (unlabelled), ``"subfolders"`` (the class of an image is
            the name of the top-level sub-folder it is in; images directly in
            ``directory`` are an error), or the path of a CSV file with one row
            per image: ``filename_column`` and ``label_column``. The file is
            UTF-8, with or without the byte-order mark Excel writes. A file
            name is a path relative to ``directory`` (``cats/x.jpg``) or a
            base name (``x.jpg``) when only one image has it; a base name
            several images share is an error listing them. Images not listed
            in the CSV are left out (a warning says how many). Errors, each
            naming the CSV lines: a listed file that does not exist, an empty
            file name or label, one image listed with two different labels
            (repeated identical rows are fine).
        label_column: the CSV column to condition on (e.g. ``hair``); required
            with a CSV. Values are stripped of spaces and numbers are written
            one way (``1``, ``01``, `` 1`` and ``1.0`` are all class ``"1"``;
            see :func:`normalize_label`). Class ids follow the sorted class
            names (numerically when all are numbers), so the same labels
            always give the same ids; ``ImageFolder.class_names`` lists them.
        strict: raise :class:`ImageReadError` on the first unreadable file (or
            picture of a kind that is not decoded) instead of skipping it.
        workers: decoding threads (default: the CPU count).
    """
    root = _image_folder(directory)
    if labels is None:
        files, names = list_images(root, recursive=True), None
    elif str(labels) == SUBFOLDERS:
        files, names = _from_subfolders(root)
    else:
        files, names = _from_csv(root, Path(labels), label_column, filename_column)
    unread = _unread_pictures(root, strict)
    if not files:
        found = f" It holds {len(unread)} picture(s) of kinds that are not decoded: {unread[0][1]}." if unread else ""
        raise DataNotFoundError(
            f"{root} holds no images (looked for {', '.join(IMAGE_EXTENSIONS)} in it and its sub-folders).{found}"
        )
    with ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:
        decoded = list(pool.map(lambda path: _read_square(path, image_size, strict), files))
    skipped = [(path, result) for path, result in zip(files, decoded) if isinstance(result, str)] + unread
    kept = [i for i, result in enumerate(decoded) if not isinstance(result, str)]
    if skipped:
        listing = "; ".join(f"{path} ({reason})" for path, reason in skipped[:20])
        more = f" and {len(skipped) - 20} more" if len(skipped) > 20 else ""
        logger.warning(
            "Skipped %d unreadable file(s) of %d under %s: %s%s. Pass strict=True (--strict) to stop on them instead.",
            len(skipped), len(files) + len(unread), root, listing, more,
        )
    if not kept:
        raise ImageReadError(
            f"None of the {len(files)} image files under {root} could be read: {skipped[0][0]} ({skipped[0][1]})"
            + (f" and {len(skipped) - 1} more" if len(skipped) > 1 else "") + "."
        )
    images = np.stack([decoded[i] for i in kept])
    class_labels = None
    class_names: list[str] = []
    if names is not None:
        class_names = _sorted_classes(names[i] for i in kept)
        ids = {name: index for index, name in enumerate(class_names)}
        class_labels = np.array([ids[names[i]] for i in kept], np.int32)
    return ImageFolder(images, class_labels, class_names, [files[i] for i in kept], skipped)


def folder_class_names(
    directory: str | os.PathLike, labels: str | os.PathLike, label_column: str | None = None,
    filename_column: str = "filename",
) -> list[str]:
    """The sorted class names :func:`load_image_folder` finds with these ``labels``
    when every listed image is readable, without decoding one: from the CSV
    (checked as the loader checks it) or the sub-folders that hold images."""
    root = _image_folder(directory)
    if str(labels) == SUBFOLDERS:
        _, names = _from_subfolders(root)
    else:
        _, names = _from_csv(root, Path(labels), label_column, filename_column)
    return _sorted_classes(names)


def _image_folder(directory: str | os.PathLike) -> Path:
    root = Path(directory)
    if not root.is_dir():
        raise DataNotFoundError(
            f"Image folder {root} does not exist. Pass the folder that holds your pictures "
            "(e.g. --images ~/pictures/faces)."
        )
    return root


def _unread_pictures(root: Path, strict: bool) -> list[tuple[Path, str]]:
    """``(file, reason)`` for each picture under ``root`` of a kind that is not decoded
    (:data:`UNREAD_PICTURE_EXTENSIONS`), or, with ``strict``, an error naming the first."""
    unread = [
        (path, f"{path.suffix[1:].upper()} pictures are not decoded; convert it to JPEG or PNG")
        for path in walk_files(root)
        if path.suffix.lower() in UNREAD_PICTURE_EXTENSIONS
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
    ]
    if unread and strict:
        path, reason = unread[0]
        raise ImageReadError(f"Cannot read image {path}: {reason}.", reason)
    return unread


def _read_square(path: Path, size: int, strict: bool):
    """The image as uint8 ``[size, size, 3]``, or (unless ``strict``) the reason it cannot be read."""
    try:
        return resize_square(read_rgb(path), size)
    except ImageReadError as error:
        if strict:
            raise
        return error.reason


def _sorted_classes(values) -> list[str]:
    """Class names in id order: numerically when every name is a number, else by string.

    The tie-break on the string keeps the order fixed when two names have one
    value (sub-folders ``1`` and ``01``): a set's order changes from one process
    to the next, and class ids recorded with a run must not.
    """
    unique = set(values)
    numbers = {value: _number(value) for value in unique}
    if all(number is not None for number in numbers.values()):
        return sorted(unique, key=lambda value: (numbers[value], value))
    return sorted(unique)


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _number(value: str) -> Decimal | None:
    """``value`` as a number when it is written as one (no ``nan``, ``inf`` or ``1_000``)."""
    if not _NUMBER.fullmatch(value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def normalize_label(value: str) -> str:
    """The class a CSV label value names: whitespace stripped, numbers in one spelling.

    Spreadsheets write one id as ``1``, ``01``, `` 1`` or ``1.0``; all become
    ``"1"`` (and ``0.50`` becomes ``"0.5"``), so they are one class, not four.
    Other text is only stripped: ``Red`` and ``red`` stay two classes.
    """
    value = value.strip()
    number = _number(value)
    if number is None:
        return value
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def _lines(entries, limit: int = 10) -> str:
    more = f"; and {len(entries) - limit} more" if len(entries) > limit else ""
    return "; ".join(entries[:limit]) + more


def _from_subfolders(root: Path) -> tuple[list[Path], list[str]]:
    files = list_images(root, recursive=True)
    loose = [path for path in files if path.parent == root]
    if loose:
        raise DataError(
            f"labels='subfolders' takes each image's class from its sub-folder of {root}, but "
            f"{len(loose)} image(s) sit directly in it (e.g. {loose[0].name}). Move them into a class "
            "folder, or load without labels."
        )
    return files, [path.relative_to(root).parts[0] for path in files]


def _read_csv(csv_path: Path) -> tuple[list[str], list[tuple[int, dict]]]:
    """``(columns, [(line number, row)])``; header names are stripped of spaces."""
    try:
        # utf-8-sig: Excel's "CSV UTF-8" starts with a byte-order mark, which would
        # otherwise glue itself to the first column's name.
        with open(csv_path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            reader.fieldnames = [name.strip() for name in reader.fieldnames or []]
            rows = [(reader.line_num, row) for row in reader]
    except UnicodeDecodeError as error:
        raise DataError(
            f"{csv_path} is not UTF-8 text ({error.reason} at byte {error.start}). Save it as UTF-8 "
            "(in Excel: Save As > 'CSV UTF-8 (Comma delimited)')."
        ) from error
    except csv.Error as error:  # e.g. NUL bytes: a spreadsheet's binary file passed as the CSV
        raise DataError(
            f"{csv_path} is not a readable CSV file (line {reader.line_num}: {error}). Fix that line, or export "
            "the sheet as 'CSV UTF-8'."
        ) from error
    return list(reader.fieldnames), rows


def _from_csv(root: Path, csv_path: Path, label_column: str | None, filename_column: str):
    if not csv_path.is_absolute() and not csv_path.exists():
        csv_path = root / csv_path
    if not csv_path.is_file():
        raise DataNotFoundError(f"Labels file {csv_path} does not exist.")
    columns, rows = _read_csv(csv_path)
    if label_column is None or label_column not in columns or filename_column not in columns:
        raise DataError(
            f"{csv_path} has columns {columns}; it needs a file-name column {filename_column!r} and the "
            f"label column to use ({'none given' if label_column is None else repr(label_column)}). "
            f"Pass label_column= (--label-column NAME), and name the file-name column {filename_column!r} "
            "in the CSV's header row (or pass filename_column= from Python)."
        )
    repeated = sorted({name for name in (label_column, filename_column) if columns.count(name) > 1})
    if repeated:
        raise DataError(
            f"{csv_path} has more than one column named {', '.join(map(repr, repeated))}; rename all but one "
            "in its header row, so that it is clear which one holds the labels."
        )
    if not rows:
        raise DataError(f"{csv_path} has a header row but no data rows; add one row per image.")
    # A short row leaves its missing cells None.
    blank = [
        f"line {line}" for line, row in rows
        if not (row[filename_column] or "").strip() or not (row[label_column] or "").strip()
    ]
    if blank:
        raise DataError(
            f"{csv_path} has rows with an empty {filename_column!r} or {label_column!r} value: {_lines(blank)}. "
            "Give every row a file name and a label, or delete the row."
        )

    images = {path.relative_to(root).as_posix(): path for path in list_images(root, recursive=True)}
    by_basename: dict[str, list[str]] = {}
    for relative in images:
        by_basename.setdefault(relative.rsplit("/", 1)[-1], []).append(relative)

    # Names are matched relative to the folder, or by base name when only one file has it.
    listed: dict[Path, list[tuple[int, str, str]]] = {}
    missing, ambiguous = [], []
    for line, row in rows:
        name, label = row[filename_column], normalize_label(row[label_column])
        relative = name if name in images else name.strip().replace("\\", "/").removeprefix("./")
        matches = [relative] if relative in images else by_basename.get(relative, [])
        if len(matches) == 1:
            listed.setdefault(images[matches[0]], []).append((line, name, label))
        elif matches:
            ambiguous.append((f"{name!r} (line {line}) matches {', '.join(sorted(matches))}", sorted(matches)[0]))
        else:
            missing.append(f"{name!r} (line {line})")
    if ambiguous:
        also = f" Also, {len(missing)} listed file(s) are not found: {_lines(missing, 5)}." if missing else ""
        raise DataError(
            f"{csv_path} names files by a base name that several images under {root} share: "
            f"{_lines([entry for entry, _ in ambiguous])}. Write the path relative to {root} in the "
            f"{filename_column!r} column instead (e.g. {ambiguous[0][1]}).{also}"
        )
    if missing:
        raise DataNotFoundError(
            f"{csv_path} lists {len(missing)} file(s) not found under {root}: {_lines(missing)}. "
            "Remove their rows or restore the files."
        )
    conflicts = [
        f"{path.relative_to(root).as_posix()}: "
        + ", ".join(f"line {line} {name!r} -> {label!r}" for line, name, label in entries)
        for path, entries in listed.items()
        if len({label for _, _, label in entries}) > 1
    ]
    if conflicts:
        raise DataError(
            f"{csv_path} gives {len(conflicts)} image(s) more than one {label_column!r} label: "
            f"{_lines(conflicts)}. Keep one row per image (rows that repeat the same label are fine)."
        )
    unlisted = len(images) - len(listed)
    if unlisted:
        logger.warning("%d image(s) under %s have no row in %s and are left out.", unlisted, root, csv_path)
    return list(listed), [entries[0][2] for entries in listed.values()]
