"""Result galleries for image-to-image models: triptychs and an HTML page.

A triptych is one row ``input | output | target``. :func:`triptych_sheet`
stacks a few into one image (the per-epoch sample sheets);
:func:`write_gallery` writes one PNG per example and an ``index.html`` that
lists them with their per-image L1 and PSNR, worst first, so the failures are
what a reader sees first. :func:`write_cycle_gallery` does the same for both
directions of an unpaired translator, rows ``real | translated | translated back``.
Each example gets its own PNG, named after it (:func:`image_file_names`).

The gallery folder is the package's: it carries a ``.tfgan_zoo`` marker
(:mod:`tfgan_zoo.runs.ownership`), and a folder that holds anything else
(a page of the user's, say) is refused with an error naming it, before
anything in it is overwritten.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np

from tfgan_zoo.runs import ownership
from tfgan_zoo.visualize import make_grid, save_image

GALLERY_KIND = "gallery"
_IMAGE_FOLDER = re.compile(r"images(_\d+)?")


def _rgb(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(f"gallery images must be uint8 [N, H, W, C], got {images.dtype} {images.shape}.")
    if images.shape[-1] == 1:
        return np.repeat(images, 3, axis=-1)
    if images.shape[-1] != 3:
        raise ValueError(f"gallery images must have 1 or 3 channels, got {images.shape[-1]}.")
    return images


def triptych_sheet(inputs: np.ndarray, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """One row ``input | output | target`` per example, as a uint8 RGB image."""
    inputs, outputs, targets = _rgb(inputs), _rgb(outputs), _rgb(targets)
    if not inputs.shape == outputs.shape == targets.shape:
        raise ValueError(
            f"inputs {inputs.shape}, outputs {outputs.shape} and targets {targets.shape} must match."
        )
    rows = np.stack([inputs, outputs, targets], axis=1).reshape(-1, *inputs.shape[1:])
    return make_grid(rows, rows=len(inputs))


def per_image_scores(outputs: np.ndarray, targets: np.ndarray) -> dict[str, np.ndarray]:
    """Per-image L1 (on [-1, 1], the loss's scale) and PSNR (dB), as :mod:`tfgan_zoo.metrics` computes them."""
    difference = (_rgb(outputs).astype(np.float64) - _rgb(targets).astype(np.float64)) / 255.0
    l1 = 2.0 * np.abs(difference).mean(axis=(1, 2, 3))
    mse = (difference ** 2).mean(axis=(1, 2, 3))
    psnr = 10.0 * np.log10(1.0 / np.maximum(mse, 1e-10))
    return {"l1": l1, "psnr": psnr}


_UNSAFE = re.compile(r"[^\w.-]+")


def image_file_names(names: list[str]) -> list[str]:
    """One distinct PNG file name per example, readable as its name.

    The whole name is kept (``1.jpg`` -> ``1.jpg.png``, ``1.png`` stays), path
    separators and other unsafe characters become ``_``, long names are cut to
    50 characters, and a name already taken (compared without case, as macOS
    and Windows do) gets ``~<index>``: loaders name examples by file stem, so
    ``1.jpg`` and ``1.png`` arrive as two ``"1"`` and must not overwrite one
    another.
    """
    taken, files = set(), []
    for index, name in enumerate(names):
        # 50 characters of up to 4 UTF-8 bytes, plus the suffixes, stay under
        # the 255-byte file-name limit.
        base = _UNSAFE.sub("_", str(name)).lstrip(".")[:50] or f"{index:04d}"
        if base.lower().endswith(".png"):
            base = base[:-4]
        file, attempt = f"{base}.png", 0
        while file.lower() in taken:
            attempt += 1
            file = f"{base}~{index}.png" if attempt == 1 else f"{base}~{index}~{attempt}.png"
        taken.add(file.lower())
        files.append(file)
    return files


def _table_rows(directory: Path, folder: str, triples: tuple, names: list[str], scores: dict) -> list[str]:
    """One HTML row per example, worst L1 first, each with its triptych PNG written to ``folder``."""
    first, second, third = triples
    files = image_file_names(names)
    rows = []
    for index in np.argsort(-scores["l1"], kind="stable"):
        file = f"{folder}/{files[index]}"
        save_image(directory / file, triptych_sheet(first[index : index + 1], second[index : index + 1],
                                                    third[index : index + 1]))
        rows.append(
            f"<tr><td>{html.escape(names[index])}</td><td class=num>{scores['l1'][index]:.4f}</td>"
            f"<td class=num>{scores['psnr'][index]:.2f}</td>"
            f"<td><img src='{html.escape(file)}' loading=lazy></td></tr>"
        )
    return rows


def _names(names, count: int) -> list[str]:
    names = list(names) if names is not None else [f"{i:04d}" for i in range(count)]
    if len(names) != count:
        raise ValueError(f"{count} examples but {len(names)} names.")
    return names


def _gallery_before_markers(directory: Path) -> bool:
    """Whether ``directory`` is a gallery that this module wrote before the markers
    existed: its page (recognised by its text) and the folders of its pictures."""
    try:
        page = (directory / "index.html").read_text(encoding="utf-8")
    except (OSError, ValueError):
        return False
    return ("worst L1 first" in page or "worst cycle L1 first" in page) and all(
        entry.name == "index.html" or (_IMAGE_FOLDER.fullmatch(entry.name) and entry.is_dir())
        for entry in directory.iterdir()
    )


def _claim(directory) -> Path:
    return ownership.claim(directory, GALLERY_KIND, "tfgan_zoo.gallery",
                           written_before_markers=_gallery_before_markers)


def _write_page(directory: Path, title: str, summary: dict | None, sections: list[str]) -> Path:
    summary_html = ""
    if summary:
        cells = "".join(
            f"<tr><th>{html.escape(str(k))}</th><td class=num>{v:.4g}</td></tr>" if isinstance(v, float)
            else f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
            for k, v in summary.items()
        )
        summary_html = f"<table>{cells}</table>"
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: 0.2em 0.6em; }}
th {{ background: #f3f3f3; text-align: left; }} td.num {{ text-align: right; font-family: monospace; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
{summary_html}
{chr(10).join(sections)}
</body></html>
"""
    index_path = directory / "index.html"
    index_path.write_text(page)
    return index_path


def write_gallery(
    directory: str | Path,
    inputs: np.ndarray,
    outputs: np.ndarray,
    targets: np.ndarray,
    names: list[str] | None = None,
    title: str = "Validation gallery",
    summary: dict | None = None,
) -> Path:
    """Writes ``directory/index.html`` and one triptych PNG per example; returns the page's path.

    ``summary`` (e.g. the split's mean L1/PSNR/SSIM) is shown above the table.
    ``directory`` must be new, empty or a gallery written before (see the module docstring).
    """
    names = _names(names, len(inputs))
    directory = _claim(directory)
    rows = _table_rows(directory, "images", (inputs, outputs, targets), names, per_image_scores(outputs, targets))
    section = f"""<p>{len(names)} examples, each <b>input | output | target</b>, worst L1 first. L1 on the [-1, 1] pixel
scale of the training loss; PSNR in dB.</p>
<table><tr><th>file</th><th>L1</th><th>PSNR</th><th>input | output | target</th></tr>
{chr(10).join(rows)}
</table>"""
    return _write_page(directory, title, summary, [section])


def write_cycle_gallery(
    directory: str | Path,
    directions: dict,
    title: str = "Validation gallery",
    summary: dict | None = None,
) -> Path:
    """Writes ``directory/index.html`` for an unpaired translator (CycleGAN); returns its path.

    ``directions`` maps a heading (e.g. ``"A → B"``) to ``(reals, translations,
    reconstructions, names)``, uint8 arrays of the same shape. Each example is a
    row ``real | translated | translated back``, worst cycle L1 (real vs
    reconstruction) first: with no target to compare to, the reconstruction is
    the per-image check there is.
    """
    directory = _claim(directory)
    sections = []
    for number, (heading, (reals, translations, reconstructions, names)) in enumerate(directions.items()):
        names = _names(names, len(reals))
        scores = per_image_scores(reconstructions, reals)
        rows = _table_rows(directory, f"images_{number}", (reals, translations, reconstructions), names, scores)
        sections.append(f"""<h2>{html.escape(heading)}</h2>
<p>{len(names)} examples, each <b>real | translated | translated back</b>, worst cycle L1 first
(L1 on the [-1, 1] pixel scale of the training loss; PSNR of the reconstruction in dB).</p>
<table><tr><th>file</th><th>cycle L1</th><th>PSNR</th><th>real | translated | translated back</th></tr>
{chr(10).join(rows)}
</table>""")
    return _write_page(directory, title, summary, sections)
