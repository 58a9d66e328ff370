"""Line-art / colour pairs for colorization (pix2pix), made from colour images.

Line art here is the morphological gradient of the greyscale image, inverted:
dark lines where the brightness changes, white elsewhere. Usage::

    python -m tfgan_zoo.data.lineart SOURCE OUT [--size N] [--kernel-size 3] [--threshold T]

writes ``OUT/lineart/<name>.png`` (greyscale) and ``OUT/color/<name>.png`` (RGB),
which ``load_folder_pairs(OUT / "lineart", OUT / "color")`` reads back.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import cv2
import numpy as np

from tfgan_zoo.data.images import (
    IMAGE_EXTENSIONS,
    ImageReadError,
    index_by_stem,
    list_images,
    read_rgb,
    resize_square,
)

LINEART_DIR, COLOR_DIR = "lineart", "color"


def line_art(image_rgb: np.ndarray, kernel_size: int = 3, threshold: int | None = None) -> np.ndarray:
    """uint8 ``[H, W]`` line art of a uint8 RGB ``[H, W, 3]`` image: dark lines on white.

    ``255 - (dilate(grey) - grey)``: flat regions stay 255 and edges darken by their
    contrast; a larger ``kernel_size`` (odd) draws thicker lines. With ``threshold``,
    the result is binary: 0 where it is below ``threshold``, 255 elsewhere.
    """
    image_rgb = np.asarray(image_rgb)
    if image_rgb.dtype != np.uint8 or image_rgb.ndim != 3 or image_rgb.shape[-1] != 3:
        raise ValueError(
            f"image_rgb must be uint8 [H, W, 3], got {image_rgb.dtype} {image_rgb.shape}. "
            "Read files with tfgan_zoo.data.images.read_rgb."
        )
    if kernel_size < 3 or kernel_size % 2 == 0:
        raise ValueError(
            f"kernel_size must be odd and at least 3 (an even kernel shifts the lines), got {kernel_size}."
        )
    if threshold is not None and not 0 < threshold <= 255:
        raise ValueError(f"threshold must lie in 1..255 (or be None for grey lines), got {threshold}.")
    grey = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2GRAY)
    dilated = cv2.dilate(grey, np.ones((kernel_size, kernel_size), np.uint8))
    art = 255 - cv2.absdiff(dilated, grey)
    if threshold is not None:
        art = np.where(art < threshold, 0, 255).astype(np.uint8)
    return art


def _write_png(path: Path, image: np.ndarray) -> None:
    """Writes atomically, so an interrupted run never leaves a half file that counts as done."""
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise OSError(f"OpenCV could not encode {path} as PNG.")
    partial = path.with_name(path.name + ".partial")
    encoded.tofile(partial)
    os.replace(partial, path)


def make_lineart_pairs(
    source_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    size: int | None = None,
    kernel_size: int = 3,
    threshold: int | None = None,
) -> dict:
    """Writes a line-art / colour pair for every image under ``source_dir`` (recursively).

    Outputs are ``out_dir/lineart/<stem>.png`` and ``out_dir/color/<stem>.png``,
    squared to ``size`` first when given (:func:`resize_square`). Pairs already
    written are skipped, so re-runs only do new files (delete ``out_dir`` to remake
    them with other settings); unreadable images are skipped and listed. Returns ``{"written": int, "existing": int, "skipped": [paths]}``.
    """
    source_dir, out_dir = Path(source_dir), Path(out_dir)
    if not source_dir.is_dir():
        raise FileNotFoundError(f"Source folder {source_dir} does not exist; pass a folder of colour images.")
    # An output folder inside the source folder must not feed back into the source list.
    outputs = out_dir.resolve()
    files = [
        path
        for path in list_images(source_dir, recursive=True)
        if outputs not in path.resolve().parents
    ]
    if not files:
        raise FileNotFoundError(
            f"{source_dir} holds no images ({', '.join(IMAGE_EXTENSIONS)}), not even in subfolders."
        )
    # Outputs are named by stem, so two sources with one stem would overwrite each other.
    index_by_stem(files, source_dir)
    lineart_dir, color_dir = out_dir / LINEART_DIR, out_dir / COLOR_DIR
    lineart_dir.mkdir(parents=True, exist_ok=True)
    color_dir.mkdir(parents=True, exist_ok=True)
    counts = {"written": 0, "existing": 0, "skipped": []}
    for path in files:
        lineart_path, color_path = lineart_dir / f"{path.stem}.png", color_dir / f"{path.stem}.png"
        if lineart_path.is_file() and color_path.is_file():
            counts["existing"] += 1
            continue
        try:
            image = read_rgb(path)
        except ImageReadError:
            counts["skipped"].append(path.relative_to(source_dir).as_posix())
            continue
        if size is not None:
            image = resize_square(image, size)
        _write_png(lineart_path, line_art(image, kernel_size, threshold))
        _write_png(color_path, cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        counts["written"] += 1
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tfgan_zoo.data.lineart",
        description="Make line-art / colour training pairs from a folder of colour images.",
    )
    parser.add_argument("source", help="folder of colour images (searched recursively)")
    parser.add_argument("out", help="output folder; gets lineart/ and color/ subfolders")
    parser.add_argument("--size", type=int, default=None, help="square output size (default: keep)")
    parser.add_argument(
        "--kernel-size", type=int, default=3, help="odd dilation kernel size; larger draws thicker lines"
    )
    parser.add_argument(
        "--threshold", type=int, default=None, help="binarise: pixels below T become black"
    )
    args = parser.parse_args(argv)
    try:
        counts = make_lineart_pairs(args.source, args.out, args.size, args.kernel_size, args.threshold)
    except (FileNotFoundError, ValueError) as error:
        parser.exit(2, f"error: {error}\n")
    skipped = counts["skipped"]
    out = Path(args.out)
    print(
        f"{counts['written']} pairs written, {counts['existing']} already present, "
        f"{len(skipped)} unreadable files skipped -> {out / LINEART_DIR}, {out / COLOR_DIR}"
    )
    if skipped:
        more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        print(f"Skipped (remove or re-export them): {', '.join(skipped[:10])}{more}")


if __name__ == "__main__":
    main()
