"""TFLite conversion of trained exports: size, conversion time and image differences per quantization.

    python bench/tflite_export.py --export RUN/export/generator [--export RUN2/export/translator ...]
    python bench/tflite_export.py            # trains the two runs below first (~4 min on 2 cores), then measures

Without ``--export`` it measures the exports of two short runs on real data,
trained into ``--work-dir`` unless their export is already there::

    python experiments/cgan_mnist.py --epochs 1 --eval-every 0 --out WORK/cgan_mnist
    python experiments/pix2pix_facades.py --epochs 1 --steps-per-epoch 40 --eval-every 0 --out WORK/pix2pix_facades

(one MNIST epoch of the conditional GAN; 40 steps of the paper's 256 px
pix2pix, 54 M generator weights: few steps, but the size and the numerics of
the conversion do not depend on how long it trained). The data come from
``$TFGAN_ZOO_DATA`` (or ``--data-dir``).

For every export and quantization (:data:`tfgan_zoo.tflite.QUANTIZATIONS`)
it converts the export's first signature with :func:`tfgan_zoo.tflite.convert`
into a temporary folder and compares ``--samples`` seeded inputs with the
SavedModel (:func:`tfgan_zoo.tflite.compare`): the largest and mean absolute
difference of the uint8 images in levels, the share of pixel values within
one level, and each model's time per image (batches of up to 16, all cores).
Prints a markdown table and writes ``bench/results/tflite_export.json``
(``--results`` for another file). On 2 cores the measurements take ~15
minutes, most of it the dynamic-int8 pix2pix model (~13 s per 256 px image).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# (experiment script, its options, export base path inside the run)
DEFAULT_RUNS = {
    "cgan_mnist": ("cgan_mnist.py", ["--epochs", "1", "--eval-every", "0"], "export/generator"),
    "pix2pix_facades": (
        "pix2pix_facades.py", ["--epochs", "1", "--steps-per-epoch", "40", "--eval-every", "0"], "export/translator",
    ),
}
MEGABYTE = 1 << 20


def default_exports(work_dir: Path, data_dir: str | None) -> list[Path]:
    """The export base paths of :data:`DEFAULT_RUNS`, training the runs that lack one."""
    exports = []
    for name, (script, options, export_dir) in DEFAULT_RUNS.items():
        run_dir = work_dir / name
        if not (run_dir / export_dir).is_dir():
            # A finished run that is re-run resumes and exports again; only train runs without an export.
            data = ["--data-dir", data_dir] if data_dir else []
            command = [sys.executable, str(REPO / "experiments" / script), *options, "--out", str(run_dir), *data]
            print("$", " ".join(command), flush=True)
            subprocess.run(command, check=True, cwd=REPO)
        exports.append(run_dir / export_dir)
    return exports


def measure(export_path: Path, samples: int) -> list[dict]:
    """One row per quantization for the first signature of the export at ``export_path``."""
    from tfgan_zoo import tflite
    from tfgan_zoo.export import latest_export, read_metadata

    version_dir = latest_export(export_path)
    metadata = read_metadata(version_dir)
    signature = metadata["signatures"][0]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for quantization in tflite.QUANTIZATIONS:
            start = time.perf_counter()
            path = tflite.convert(version_dir, signature, quantization, Path(scratch) / f"{quantization}.tflite")
            seconds = time.perf_counter() - start
            rows.append({
                # RUN/export/<base>/<version>, not this machine's absolute path.
                "export": str(Path(*version_dir.parts[-4:])),
                "family": metadata["family"],
                "signature": signature,
                "quantization": quantization,
                "tflite_mb": path.stat().st_size / MEGABYTE,
                "saved_model_mb": tflite.folder_bytes(version_dir) / MEGABYTE,
                "conversion_s": seconds,
                **tflite.compare(version_dir, path, signature, samples),
            })
            print(f"{metadata['family']} {signature} {quantization}: {rows[-1]}", flush=True)
    return rows


def markdown_table(rows: list[dict]) -> str:
    """The rows as a markdown table; shares are floored, so 100.00% means every pixel value."""
    lines = [
        "| model | signature | quantization | .tflite MB | SavedModel MB | conversion s | max diff | mean diff "
        "| within 1 level | TFLite ms/image | SavedModel ms/image |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['family']} | {row['signature']} | {row['quantization']} | {row['tflite_mb']:.2f} "
            f"| {row['saved_model_mb']:.2f} | {row['conversion_s']:.1f} | {row['max_diff']} "
            f"| {row['mean_diff']:.3f} | {math.floor(row['within_one'] * 1e4) / 100:.2f}% "
            f"| {row['tflite_ms_per_image']:.1f} | {row['saved_model_ms_per_image']:.1f} |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--export", type=Path, action="append", default=[],
                        help="an export base path or version folder (repeatable); default: train the runs above")
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "tfgan_zoo_tflite_bench",
                        help="where the default runs are trained")
    parser.add_argument("--data-dir", default=None, help="shared data root (default: $TFGAN_ZOO_DATA)")
    parser.add_argument("--samples", type=int, default=64, help="seeded inputs compared per model")
    parser.add_argument("--results", type=Path, default=HERE / "results" / "tflite_export.json")
    args = parser.parse_args()

    exports = args.export or default_exports(args.work_dir, args.data_dir)

    import tensorflow as tf
    from ai_edge_litert import __version__ as litert_version

    rows = [row for export_path in exports for row in measure(export_path, args.samples)]
    record = {
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()},
        "tensorflow": tf.__version__,
        "ai_edge_litert": litert_version,
        "samples": args.samples,
        "rows": rows,
    }
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(record, indent=1))
    print(markdown_table(rows))
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
