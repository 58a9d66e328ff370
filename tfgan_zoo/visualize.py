"""Image grids for sample sheets and galleries."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tfgan_zoo.models.base import Sampling


def make_grid(images: np.ndarray, rows: int, padding: int = 2, pad_value: int = 255) -> np.ndarray:
    """Tiles uint8 ``[N, H, W, C]`` images into a ``rows``-row grid (row-major)."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(f"make_grid expects uint8 [N, H, W, C], got {images.dtype} {images.shape}.")
    count, height, width, channels = images.shape
    cols = -(-count // rows)
    grid = np.full(
        (rows * (height + padding) + padding, cols * (width + padding) + padding, channels),
        pad_value,
        np.uint8,
    )
    for index, image in enumerate(images):
        r, c = divmod(index, cols)
        top, left = padding + r * (height + padding), padding + c * (width + padding)
        grid[top : top + height, left : left + width] = image
    return grid


def save_image(path: str | Path, image: np.ndarray, scale: int = 1) -> Path:
    """Writes a uint8 ``[H, W, C]`` RGB, RGBA or grey image, or a ``[H, W]`` grey one, as PNG,
    optionally upscaled (nearest)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if scale > 1:
        image = np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)
    channels = image.shape[-1] if image.ndim == 3 else 1  # a [H, 3] grey image is not RGB
    if channels == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    elif channels == 4:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA)
    if not cv2.imwrite(str(path), image):
        raise OSError(f"Could not write image {path}.")
    return path


def slerp(start: np.ndarray, end: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """Spherical interpolation between noise vectors ``[D]`` at ``fractions`` ``[T]`` -> ``[T, D]``.

    Gaussian noise lives near a sphere; a straight line between two samples
    passes through the low-norm interior G never saw in training.
    """
    start, end = np.asarray(start, np.float64), np.asarray(end, np.float64)
    cosine = np.dot(start, end) / (np.linalg.norm(start) * np.linalg.norm(end))
    angle = np.arccos(np.clip(cosine, -1.0, 1.0))
    fractions = np.asarray(fractions, np.float64)[:, None]
    if angle < 1e-6:
        return ((1 - fractions) * start + fractions * end).astype(np.float32)
    return ((np.sin((1 - fractions) * angle) * start + np.sin(fractions * angle) * end) / np.sin(angle)).astype(np.float32)


def interpolation_strip(gan: Sampling, path: str | Path, rows: int = 4, steps: int = 10, seed: int = 0, scale: int = 2) -> Path:
    """Writes ``rows`` latent walks of ``steps`` images each (slerp between two
    noise vectors) to ``path``. A conditional ``gan`` keeps one class per row
    (row ``i``: class ``i mod num_classes``). Smooth rows mean G learned a
    continuous latent space; abrupt jumps or repeats hint at memorization or collapse."""
    from tfgan_zoo.ranges import to_uint8

    ends, _ = gan.sample_inputs(2 * rows, seed)
    noise = np.concatenate([slerp(a, b, np.linspace(0.0, 1.0, steps)) for a, b in ends.reshape(rows, 2, -1)])
    labels = np.repeat(np.arange(rows) % gan.num_classes, steps).astype("int32") if gan.num_classes else None
    images = np.asarray(to_uint8(gan.generate(noise, labels)))
    return save_image(path, make_grid(images, rows=rows), scale=scale)


def sample_sheet(gan: Sampling, rows: int = 8, columns: int = 8, seed: int = 1234) -> np.ndarray:
    """A uint8 ``[H, W, C]`` grid of ``gan``'s samples from fixed noise (``seed``):
    ``rows x columns`` of them, or for a conditional ``gan`` one row per class,
    each column sharing its noise across classes, so that progress and the
    label's effect are both visible."""
    from tfgan_zoo.ranges import to_uint8

    if gan.num_classes:
        column_noise, _ = gan.sample_inputs(columns, seed)
        noise = np.tile(column_noise, (gan.num_classes, 1))
        labels = np.repeat(np.arange(gan.num_classes, dtype="int32"), columns)
        rows = gan.num_classes
    else:
        noise, labels = gan.sample_inputs(rows * columns, seed)
    return make_grid(np.asarray(to_uint8(gan.generate(noise, labels))), rows=rows)
