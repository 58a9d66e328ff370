"""Reading image files into uint8 RGB arrays, and squaring them to a training size."""

from __future__ import annotations

import io
import os
import re
import struct
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from tfgan_zoo.data.idx import DATA_ENV_VAR, DataError, DataNotFoundError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff")
# Pictures of kinds OpenCV does not decode: a folder's loader names them rather than dropping them unseen.
UNREAD_PICTURE_EXTENSIONS = (".heic", ".heif", ".avif", ".jxl", ".psd", ".svg")
# 8192x8192: a 50-megapixel camera picture fits; a 20000x20000 PNG (a 1.2 MB file)
# would take 1.2 GB decoded, on every decoding thread at once.
MAX_PIXELS = 8192 * 8192
_JPEG_MAGIC = b"\xff\xd8"
_EXIF_ORIENTATION = 0x0112
# Pillow warns of large pictures as it opens them; the warning filter that silences
# that is process-wide state, so decoding threads set it one at a time.
_HEADER_LOCK = threading.Lock()


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


def read_rgb(path: str | os.PathLike, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """One image file as uint8 RGB ``[H, W, 3]``.

    Greyscale and palette images become RGB, 16-bit images are scaled to 8 bits,
    and transparent images (RGBA, grey + alpha) are composited on white, the usual
    background of line art and cut-outs. EXIF orientation (JPEG, PNG, WebP; TIFF's
    own) is applied, so a phone picture stands upright. An animated GIF gives its
    first frame.

    Raises :class:`ImageReadError` for empty, unreadable or undecodable files, and
    for pictures of more than ``max_pixels`` pixels, found from the file's header
    before anything is decoded.
    """
    path = Path(path)
    try:
        # Bytes then imdecode, unlike cv2.imread, copes with non-ASCII paths on every OS.
        data = path.read_bytes()
    except OSError as error:
        raise _unreadable(path, error.strerror or str(error)) from error
    if not data:
        raise _unreadable(path, "the file is empty")
    _check_pixel_count(data, path, max_pixels)
    raw = np.frombuffer(data, np.uint8)
    try:
        if data.startswith(_JPEG_MAGIC):
            # JPEG has no alpha and no 16-bit form: decoded as colour, which applies EXIF orientation.
            image = cv2.imdecode(raw, cv2.IMREAD_COLOR)
        else:
            # Read unchanged to keep alpha and bit depth, which also skips EXIF orientation: applied here.
            image = cv2.imdecode(raw, cv2.IMREAD_UNCHANGED)
            if image is not None and image.size:
                image = _oriented(image, _exif_orientation(_exif_block(data)))
    except cv2.error as error:
        raise _unreadable(path, f"OpenCV failed to decode it ({error})") from error
    if image is None or image.size == 0:
        raise _unreadable(path, "it is corrupt or not in a supported image format")
    return _to_rgb8(image, path)


def _check_pixel_count(data: bytes, path: Path, max_pixels: int) -> None:
    """Refuses a picture larger than ``max_pixels`` from its header alone (Pillow reads
    only the header until asked for pixels). A header Pillow cannot read is left to
    OpenCV, whose error then names the file."""
    try:
        with _HEADER_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as header:
                width, height = header.size
                size = f"{width}x{height} pixels ({width * height / 1e6:.3g} megapixels)"
                if width * height <= max_pixels:
                    return
    except Image.DecompressionBombError as error:  # beyond Pillow's own limit, which says the pixel count
        counted = re.search(r"\((\d+) pixels\)", str(error))
        size = f"{int(counted[1]) / 1e6:.3g} megapixels" if counted else "beyond Pillow's limit"
    except Exception:  # Pillow raises many kinds (OSError, SyntaxError, ...) for headers it cannot parse
        return
    raise ImageReadError(
        f"Image {path} is {size}, over the {max_pixels / 1e6:.3g}-megapixel cap on training pictures (every "
        "decoding thread holds a picture whole in memory). Shrink it (training uses a few hundred pixels a side) "
        "or remove it.",
        f"{size}, over the {max_pixels / 1e6:.3g}-megapixel cap",
    )


def _exif_block(data: bytes) -> bytes:
    """The EXIF block of a PNG (its ``eXIf`` chunk) or WebP (its ``EXIF`` chunk), found by
    stepping over the chunks' headers without decoding; empty when there is none.
    (TIFF's decoder applies its own orientation; JPEG is decoded by OpenCV's.)"""
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            offset = 8
            while offset + 8 <= len(data):
                length, kind = struct.unpack_from(">I4s", data, offset)
                if kind == b"eXIf":
                    return data[offset + 8 : offset + 8 + length]
                if kind == b"IEND":
                    break
                offset += 12 + length  # length, type, data, CRC
        elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            offset = 12
            while offset + 8 <= len(data):
                kind, length = struct.unpack_from("<4sI", data, offset)
                if kind == b"EXIF":
                    return data[offset + 8 : offset + 8 + length]
                offset += 8 + length + (length & 1)  # chunks are padded to an even size
    except struct.error:  # a truncated header: no orientation to trust
        pass
    return b""


def _exif_orientation(exif: bytes) -> int:
    """The orientation (1-8; 1 is upright) an EXIF block (TIFF layout) records, else 1."""
    exif = exif.removeprefix(b"Exif\x00\x00")
    order = {b"II*\x00": "<", b"MM\x00*": ">"}.get(exif[:4])
    if order is None:
        return 1
    try:
        (first_directory,) = struct.unpack_from(order + "I", exif, 4)
        (entries,) = struct.unpack_from(order + "H", exif, first_directory)
        for index in range(entries):
            # An entry is tag, type, count, value; a SHORT value sits first in its 4 bytes.
            tag, _, _, value = struct.unpack_from(order + "HHIH", exif, first_directory + 2 + 12 * index)
            if tag == _EXIF_ORIENTATION:
                return value if 1 <= value <= 8 else 1
    except struct.error:  # a truncated EXIF block: no orientation to trust
        return 1
    return 1


def _oriented(image: np.ndarray, orientation: int) -> np.ndarray:
    """``image`` turned upright for its EXIF ``orientation``, as OpenCV turns JPEGs."""
    if orientation >= 5:  # 5-8 swap rows and columns first
        image = image.swapaxes(0, 1)
    flips = {2: (1,), 3: (0, 1), 4: (0,), 6: (1,), 7: (0, 1), 8: (0,)}.get(orientation, ())
    return np.ascontiguousarray(np.flip(image, flips) if flips else image)


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
