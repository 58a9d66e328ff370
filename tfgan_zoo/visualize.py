"""Image grids for sample sheets and galleries."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


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
    """Writes a uint8 ``[H, W, C]`` RGB or grey image as PNG, optionally upscaled (nearest)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if scale > 1:
        image = np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)
    if image.shape[-1] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    elif image.shape[-1] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA)
    if not cv2.imwrite(str(path), image):
        raise OSError(f"Could not write image {path}.")
    return path
