"""Line-art / colour pairs for colorization (pix2pix), made from colour images.

Line art here is the morphological gradient of the greyscale image, inverted:
dark lines where the brightness changes, white elsewhere. Usage::

    python -m tfgan_zoo.data.lineart SOURCE OUT [--size N] [--kernel-size 3] [--threshold T]

writes ``OUT/lineart/<name>.png`` (greyscale) and ``OUT/color/<name>.png`` (RGB),
which ``load_folder_pairs(OUT / "lineart", OUT / "color")`` reads back, and
``OUT/lineart_pairs.json``, the settings they were made with and the pairs
written: a re-run with other settings remakes them instead of reusing pairs
drawn another way. It never deletes or overwrites a picture it did not write.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
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
from tfgan_zoo.runs.ownership import NotOurs

LINEART_DIR, COLOR_DIR = "lineart", "color"
MANIFEST = "lineart_pairs.json"
# Bump when line_art() or the pair layout changes, so that old pairs are remade.
METHOD_VERSION = 1
_MANIFEST_EVERY = 256

logger = logging.getLogger("tfgan_zoo.data")


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
    _check_settings(kernel_size, threshold)
    grey = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2GRAY)
    dilated = cv2.dilate(grey, np.ones((kernel_size, kernel_size), np.uint8))
    art = 255 - cv2.absdiff(dilated, grey)
    if threshold is not None:
        art = np.where(art < threshold, 0, 255).astype(np.uint8)
    return art


def _check_settings(kernel_size: int, threshold: int | None, size: int | None = None) -> None:
    if kernel_size < 3 or kernel_size % 2 == 0:
        raise ValueError(
            f"kernel_size must be odd and at least 3 (an even kernel shifts the lines), got {kernel_size}."
        )
    if threshold is not None and not 0 < threshold <= 255:
        raise ValueError(f"threshold must lie in 1..255 (or be None for grey lines), got {threshold}.")
    if size is not None and size < 1:
        raise ValueError(f"size must be a positive number of pixels (or None to keep each image's size), got {size}.")


def _write_png(path: Path, image: np.ndarray) -> None:
    """Writes atomically, so an interrupted run never leaves a half file that counts as done."""
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise OSError(f"OpenCV could not encode {path} as PNG.")
    _replace_whole(path, path.with_name(path.name + ".partial"), encoded.tofile)


def _replace_whole(path: Path, partial: Path, write) -> None:
    """``write(partial)``, then renamed over ``path``; a failure or Ctrl-C leaves no ``partial``."""
    try:
        write(partial)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _source_entry(path: Path, source_dir: Path) -> dict:
    """What identifies one source file's content without reading it: a changed
    file (re-exported, replaced) changes its size or modification time."""
    stat = path.stat()
    return {"source": path.relative_to(source_dir).as_posix(), "bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _fingerprint(entries: dict) -> str:
    listing = json.dumps(sorted(entries.items()), sort_keys=True).encode("utf-8")
    return hashlib.sha256(listing).hexdigest()[:16]


def read_manifest(out_dir: str | os.PathLike) -> dict | None:
    """The settings a pairs folder was made with (see :func:`make_lineart_pairs`), or None
    when it has no readable manifest."""
    try:
        manifest = json.loads((Path(out_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and isinstance(manifest.get("files"), dict) else None


def _own_manifest(out_dir: Path) -> dict | None:
    """The manifest of an earlier run into ``out_dir`` (None when there is none). A file
    of that name that is no readable manifest is not replaced: it stops the run."""
    if not (out_dir / MANIFEST).exists():
        return None
    manifest = read_manifest(out_dir)
    if manifest is None:
        raise NotOurs(
            out_dir / MANIFEST, "is not a line-art manifest that this command can read",
            f"If it is a damaged one, delete it together with {LINEART_DIR}/ and {COLOR_DIR}/ to remake the "
            "pairs; otherwise choose another output folder.",
        )
    return manifest


def _written_stems(manifest: dict | None) -> set[str]:
    """The names of the pairs this command wrote into the folder, by its manifest
    (manifests from before ``"written"`` list the pairs in ``"files"``)."""
    if manifest is None:
        return set()
    return set(manifest.get("written", manifest["files"]))


def _refuse_foreign_pictures(out_dir: Path, written: set[str]) -> None:
    """Stops before anything is written when ``lineart/`` or ``color/`` holds a picture
    that this command did not write: it would be overwritten, or read as a pair."""
    foreign = [
        path
        for folder in (out_dir / LINEART_DIR, out_dir / COLOR_DIR) if folder.is_dir()
        for path in list_images(folder)
        if not (path.suffix == ".png" and path.stem in written)
    ]
    if foreign:
        more = f" ({len(foreign)} such pictures)" if len(foreign) > 1 else ""
        raise NotOurs(
            foreign[0], f"is not a pair that this command made (its {MANIFEST} does not list it){more}",
            f"Move your pictures out of {LINEART_DIR}/ and {COLOR_DIR}/, or choose a new or empty output folder.",
        )


def _write_manifest(out_dir: Path, settings: dict, files: dict, written: set[str]) -> None:
    manifest = {**settings, "count": len(files), "fingerprint": _fingerprint(files), "files": files,
                "written": sorted(written)}
    text = json.dumps(manifest, indent=1, sort_keys=True)
    _replace_whole(out_dir / MANIFEST, out_dir / (MANIFEST + ".partial"),
                   lambda partial: partial.write_text(text, encoding="utf-8"))


def _changed_settings(old: dict | None, new: dict) -> str | None:
    """Why the pairs in the folder cannot be reused as they are (None when they can)."""
    if old is None:
        return None
    changes = [f"{key} {old.get(key)!r} -> {new[key]!r}" for key in new if old.get(key) != new[key]]
    return f"they were made with other settings ({', '.join(changes)})" if changes else None


def _remove_pairs(out_dir: Path, stems: set[str]) -> int:
    """Deletes the pairs named ``stems`` (and their half-written files); returns the pictures deleted."""
    removed = 0
    for stem in sorted(stems):
        for folder in (out_dir / LINEART_DIR, out_dir / COLOR_DIR):
            for path in (folder / f"{stem}.png", folder / f"{stem}.png.partial"):
                if path.is_file():
                    path.unlink()
                    removed += path.suffix == ".png"
    return removed


def make_lineart_pairs(
    source_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    size: int | None = None,
    kernel_size: int = 3,
    threshold: int | None = None,
) -> dict:
    """Writes a line-art / colour pair for every image under ``source_dir`` (recursively).

    Outputs are ``out_dir/lineart/<stem>.png`` and ``out_dir/color/<stem>.png``,
    squared to ``size`` first when given (:func:`resize_square`), and
    ``out_dir/lineart_pairs.json``, the manifest: the method version, the
    settings (``size``, ``kernel_size``, ``threshold``), the resolved source
    folder, each pair's source file with its size and modification time
    (plus their count and fingerprint, for a run to record), and the name of
    every pair this function wrote there (``written``).

    A re-run reuses a pair only when the manifest says it was made with the
    same settings from the same, unchanged source file; so re-runs only do new
    or changed files, and other settings (or another source folder) remake
    every pair. Pairs it wrote whose source is gone (deleted, now unreadable)
    are removed, so the folder holds exactly the pairs of ``source_dir``.
    Unreadable images are skipped and listed.

    It never deletes or overwrites a file it did not write: a picture in
    ``lineart/`` or ``color/`` that the manifest does not list (or a
    ``lineart_pairs.json`` that is no manifest) stops it with
    :class:`~tfgan_zoo.runs.ownership.NotOurs` naming the file, before it writes anything.

    Returns ``{"written": int, "existing": int, "removed": int, "skipped": [paths],
    "rebuilt": None or why every pair was remade}``.
    """
    _check_settings(kernel_size, threshold, size)
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
    old = _own_manifest(out_dir)
    written = _written_stems(old)
    _refuse_foreign_pictures(out_dir, written)
    lineart_dir, color_dir = out_dir / LINEART_DIR, out_dir / COLOR_DIR
    lineart_dir.mkdir(parents=True, exist_ok=True)
    color_dir.mkdir(parents=True, exist_ok=True)

    settings = {
        "method": METHOD_VERSION, "size": size, "kernel_size": kernel_size, "threshold": threshold,
        "source": str(source_dir.resolve()),
    }
    rebuilt = _changed_settings(old, settings)
    done: dict = {} if rebuilt or old is None else old["files"]
    if rebuilt:
        logger.warning("Remaking the line-art pairs in %s: %s.", out_dir, rebuilt)
    made = dict(done)  # pairs known good, for the manifest saved along the way

    counts = {"written": 0, "existing": 0, "removed": 0, "skipped": [], "rebuilt": rebuilt}
    current: dict = {}
    todo = []
    for path in files:
        entry = _source_entry(path, source_dir)
        if done.get(path.stem) == entry and (lineart_dir / f"{path.stem}.png").is_file() \
                and (color_dir / f"{path.stem}.png").is_file():
            counts["existing"] += 1
            current[path.stem] = entry
        else:
            todo.append((path, entry))
    for start in range(0, len(todo), _MANIFEST_EVERY):
        chunk = todo[start : start + _MANIFEST_EVERY]
        # Recorded before any pair of the chunk is written: the new settings, so that an
        # interrupted remake is never taken for pairs made with the old ones, and the
        # chunk's names, so that a killed run leaves no file the manifest does not claim.
        written |= {path.stem for path, _ in chunk}
        _write_manifest(out_dir, settings, made, written)
        for path, entry in chunk:
            made.pop(path.stem, None)
            try:
                image = read_rgb(path)
            except ImageReadError:
                counts["skipped"].append(path.relative_to(source_dir).as_posix())
                continue
            if size is not None:
                image = resize_square(image, size)
            _write_png(lineart_dir / f"{path.stem}.png", line_art(image, kernel_size, threshold))
            _write_png(color_dir / f"{path.stem}.png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            current[path.stem] = made[path.stem] = entry
            counts["written"] += 1
    counts["removed"] = _remove_pairs(out_dir, written - current.keys())
    _write_manifest(out_dir, settings, current, written & current.keys())
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
        _check_settings(args.kernel_size, args.threshold, args.size)
    except ValueError as error:
        parser.error(str(error))
    try:
        counts = make_lineart_pairs(args.source, args.out, args.size, args.kernel_size, args.threshold)
    except (OSError, ValueError) as error:  # the message names the file or folder and the fix
        parser.exit(1, f"error: {error}\n")
    skipped = counts["skipped"]
    out = Path(args.out)
    if counts["rebuilt"]:
        print(f"Remade every pair in {out}: {counts['rebuilt']}.")
    print(
        f"{counts['written']} pairs written, {counts['existing']} already present, "
        f"{len(skipped)} unreadable files skipped -> {out / LINEART_DIR}, {out / COLOR_DIR}"
        + (f" ({counts['removed']} stale files removed)" if counts["removed"] else "")
    )
    if skipped:
        more = f" and {len(skipped) - 10} more" if len(skipped) > 10 else ""
        print(f"Skipped (remove or re-export them): {', '.join(skipped[:10])}{more}")


if __name__ == "__main__":
    main()
