"""What a run's content fingerprint of its data folder costs.

A run records a fingerprint of each data folder it reads (``RunSpec.with_sources``)
and checks it when it resumes. The fingerprint hashes every file's name, size
and bytes (``content``, BLAKE2b); runs recorded before it hashed names and
sizes only (``names-and-sizes``), which misses a picture edited in place. This
bench times both kinds on the anime faces folder and on the MNIST IDX folder,
``--repeats`` times each (the first pass may read from disk; later ones from
the page cache), and prints one line per folder and kind::

    anime_faces/images content: 3,191 files, 17.9 MB, first 0.080 s, best 0.070 s (255 MB/s)

    python bench/fingerprint_cost.py                      # $TFGAN_ZOO_DATA, 3 repeats
    python bench/fingerprint_cost.py --data-dir DIR --repeats 5 --decode

``--decode`` also times decoding the anime folder at 64 px (``load_image_folder``),
which a run does on every start: the fingerprint's cost set against it.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

FOLDERS = ("anime_faces/images", "mnist")


def timed(call, repeats: int) -> list[float]:
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=os.environ.get("TFGAN_ZOO_DATA"),
                        help="the shared data folder (default: $TFGAN_ZOO_DATA)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--decode", action="store_true", help="also time decoding the anime folder at 64 px")
    parser.add_argument("--results", type=Path, default=None, help="also write the figures to this JSON file")
    args = parser.parse_args()
    if args.data_dir is None:
        parser.error("pass --data-dir DIR (the shared data folder) or set TFGAN_ZOO_DATA")

    from tfgan_zoo.runs.identity import CONTENT, NAMES_AND_SIZES, _path_identity

    rows = []
    for name in FOLDERS:
        folder = args.data_dir / name
        if not folder.is_dir():
            raise SystemExit(f"{folder} does not exist: pass the shared data folder with --data-dir.")
        # What the fingerprint reads: every file but hidden ones.
        files = [path for path in folder.rglob("*")
                 if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)]
        size = sum(path.stat().st_size for path in files)
        for kind in (CONTENT, NAMES_AND_SIZES):
            seconds = timed(lambda: _path_identity(folder, kind), args.repeats)
            rows.append({"folder": name, "kind": kind, "files": len(files), "bytes": size,
                         "first_s": seconds[0], "best_s": min(seconds)})
            print(f"{name} {kind}: {len(files):,} files, {size / 1e6:.1f} MB, first {seconds[0]:.3f} s, "
                  f"best {min(seconds):.3f} s ({size / 1e6 / min(seconds):.0f} MB/s)", flush=True)
    if args.decode:
        from tfgan_zoo.data import load_image_folder

        folder = args.data_dir / FOLDERS[0]
        seconds = timed(lambda: load_image_folder(folder, 64), 1)
        rows.append({"folder": FOLDERS[0], "kind": "decode at 64 px", "first_s": seconds[0], "best_s": seconds[0]})
        print(f"{FOLDERS[0]} decoded at 64 px (load_image_folder): {seconds[0]:.2f} s")
    if args.results is not None:
        machine = {"cpu_count": os.cpu_count()}
        args.results.write_text(json.dumps({"rows": rows, "repeats": args.repeats, "machine": machine}, indent=1))
        print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
