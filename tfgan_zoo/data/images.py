"""Reading image files into uint8 RGB arrays, and squaring them to a training size."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from tfgan_zoo.data.idx import DATA_ENV_VAR, DataError, DataNotFoundError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
_JPEG_MAGIC = b"\xff\xd8"


class ImageReadError(ValueError):
    """Raised for an image file that cannot be decoded; the message names the file,
    ``reason`` says what is wrong with it."""

    def __init__(self, message: str, reason: str = ""):
        super().__init__(message)
        self.reason = reason or message


def require_images(directory: str | os.PathLike, expected: str) -> list[Path]:
    """The images directly in ``directory``, or :class:`DataNotFoundError` saying what
    is wrong, what was ``expected`` there and how to pass the dataset folder."""
    directory = Path(directory)
    if not directory.is_dir():
        problem = "does not exist"
    else:
        files = list_images(directory)
        if files:
            return files
        problem = "holds no images"
    raise DataNotFoundError(
        f"{directory} {problem}. {expected}\n"
        f"Pass the dataset folder with --data-dir DIR (or data_dir=DIR, or set {DATA_ENV_VAR}=DIR)."
    )


def is_image_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` has one of :data:`IMAGE_EXTENSIONS` (any letter case)."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def natural_key(name: str) -> list:
    """Sort key putting ``2.jpg`` before ``10.jpg``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def walk_files(directory: str | os.PathLike) -> Iterator[Path]:
    """Every file under ``directory``, following links to folders but entering each
    real folder once: a link back up the tree (``ln -s .. again``) would otherwise
    be walked until the path is too long."""
    entered = set()
    for folder, subfolders, files in os.walk(directory, followlinks=True):
        real = os.path.realpath(folder)
        if real in entered:
            subfolders[:] = []
            continue
        entered.add(real)
        subfolders.sort()
        yield from (Path(folder) / name for name in sorted(files))


def list_images(directory: str | os.PathLike, recursive: bool = False) -> list[Path]:
    """Image files in ``directory`` (see :data:`IMAGE_EXTENSIONS`), in natural order;
    with ``recursive``, in its sub-folders too (see :func:`walk_files`)."""
    directory = Path(directory)
    candidates = walk_files(directory) if recursive else directory.iterdir()
    files = [path for path in candidates if path.is_file() and is_image_file(path)]
    return sorted(files, key=lambda path: natural_key(path.relative_to(directory).as_posix()))


def index_by_stem(files: list[Path], root: str | os.PathLike) -> dict[str, Path]:
    """``{name without extension: path}`` for files under ``root``; clashing names raise DataError."""
    by_stem: dict[str, list[Path]] = {}
    for path in files:
        by_stem.setdefault(path.stem, []).append(path)
    clashes = [
        " vs ".join(path.relative_to(root).as_posix() for path in paths)
        for paths in by_stem.values()
        if len(paths) > 1
    ]
    if clashes:
        more = f" and {len(clashes) - 10} more" if len(clashes) > 10 else ""
        raise DataError(
            f"Images under {root} share a name once the extension is dropped: "
            f"{'; '.join(clashes[:10])}{more}. Files are matched by that name, so rename or "
            "remove the duplicates."
        )
    return {stem: paths[0] for stem, paths in by_stem.items()}


def _unreadable(path: Path, reason: str) -> ImageReadError:
    return ImageReadError(
        f"Cannot read image {path}: {reason}. Remove the file from the dataset folder "
        "or re-export it as an ordinary JPEG/PNG.",
        reason,
    )


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """One image file as uint8 RGB ``[H, W, 3]``.

    Greyscale and palette images become RGB, 16-bit images are scaled to 8 bits,
    and transparent images (RGBA, grey + alpha) are composited on white, the usual
    background of line art and cut-outs. JPEG EXIF orientation is applied.
    Raises :class:`ImageReadError` for empty, unreadable or undecodable files.
    """
    path = Path(path)
    try:
        # np.fromfile + imdecode, unlike cv2.imread, copes with non-ASCII paths on every OS.
        raw = np.fromfile(path, dtype=np.uint8)
    except OSError as error:
        raise _unreadable(path, str(error)) from error
    if raw.size == 0:
        raise _unreadable(path, "the file is empty")
    # JPEG has no alpha and no 16-bit form, so decode it as colour, which also applies EXIF
    # orientation; other formats are read unchanged to keep their alpha and bit depth.
    flags = cv2.IMREAD_COLOR if raw[:2].tobytes() == _JPEG_MAGIC else cv2.IMREAD_UNCHANGED
    try:
        image = cv2.imdecode(raw, flags)
    except cv2.error as error:
        raise _unreadable(path, f"OpenCV failed to decode it ({error})") from error
    if image is None or image.size == 0:
        raise _unreadable(path, "it is corrupt or not in a supported image format")
    return _to_rgb8(image, path)


def _to_rgb8(image: np.ndarray, path: Path) -> np.ndarray:
    """OpenCV's decoded array (BGR order, 1-4 channels, 8 or 16 bits) -> uint8 RGB."""
    if image.dtype == np.uint16:
        image = ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise _unreadable(path, f"its {image.dtype} pixels are neither 8- nor 16-bit")
    if image.ndim == 2:
        image = image[..., None]
    channels = image.shape[-1]
    if channels in (2, 4):
        colour = image[..., :-1].astype(np.float32)
        alpha = image[..., -1:].astype(np.float32) / 255.0
        image = np.round(colour * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
        channels -= 1
    if channels == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def resize_square(image: np.ndarray, size: int) -> np.ndarray:
    """``image`` ``[H, W(, C)]`` as ``size``×``size``: centre-cropped to a square, then resized.

    Downscaling uses area averaging (antialiased), upscaling bicubic interpolation.
    An image already ``size``×``size`` is returned as is.
    """
    if size < 1:
        raise ValueError(f"size must be a positive number of pixels, got {size}.")
    height, width = image.shape[:2]
    if (height, width) == (size, size):
        return image
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = image[top : top + side, left : left + side]
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    resized = cv2.resize(square, (size, size), interpolation=interpolation)
    # cv2.resize drops a trailing single-channel axis; keep the caller's layout.
    return resized.reshape((size, size) + image.shape[2:])
