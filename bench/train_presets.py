"""Trains the shipped presets with the package's own experiment commands.

    python bench/train_presets.py [NAME ...] [--work DIR] [--ship | --ship-only]

Runs each preset's command (below) one after the other, each into
``WORK/NAME`` (``--work``; default: ``presets`` in the ``work`` folder beside
this script), and appends to ``WORK/timings.json`` the command, the machine
and the wall time. ``--ship`` then makes each finished run a shipped preset
(``python -m tfgan_zoo.presets make RUN NAME --register`` with that command,
wall time, machine and the known limits below); ``--ship-only`` does only
that, for runs trained before. A run that was stopped resumes when the
script is run again. Never run in CI: this is hours of CPU.

Sizes are chosen for a 2-core CPU and the 50 MB budget of all presets
together (weights stored as float16): 32-filter networks at 64 px for the
colour families; MNIST-sized sets keep the experiments' defaults.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The anime DCGAN trains on 2,891 of the 3,191 faces (--subset, drawn with
# seed 0); bench/finetune_preset.py renders the other 300 as line art, the
# fine-tuning target the preset never saw.
COMMANDS: dict[str, list[str]] = {
    "cgan_mnist": ["experiments/cgan_mnist.py"],
    "cgan_fashion_mnist": ["experiments/cgan_mnist.py", "--dataset", "fashion_mnist", "--epochs", "10"],
    "dcgan_anime_64": [
        "experiments/dcgan_folder.py", "--images", "{data}/anime_faces/images", "--subset", "2891",
        "--g-filters", "32", "--d-filters", "32", "--epochs", "15", "--eval-every", "5", "--eval-samples", "2000",
    ],
    "cgan_anime": [
        "experiments/cgan_anime.py", "--g-filters", "32", "--d-filters", "32", "--epochs", "15",
        "--eval-samples", "2400",
    ],
    "pix2pix_lineart": [
        "experiments/pix2pix_lineart.py", "--image-size", "64", "--g-filters", "32", "--d-filters", "32",
        "--epochs", "8", "--eval-every", "4",
    ],
    "cyclegan_horse2zebra": [
        "experiments/cyclegan_horse2zebra.py", "--image-size", "64", "--g-filters", "32", "--d-filters", "32",
        "--epochs", "4", "--eval-every", "2",
    ],
}


# What each card says a user should know before relying on the preset.
LIMITS: dict[str, list[str]] = {
    "cgan_mnist": [
        "28x28 greyscale digits only: the ten MNIST classes.",
        "No EMA generator (the experiment's defaults); samples come from the trained generator itself.",
        "Label accuracy is read by the run's own evaluation classifier (shipped as evaluator.keras); "
        "bench/cgan_quality.py reads it with an independent CNN (BENCHMARKS.md).",
    ],
    "cgan_fashion_mnist": [
        "28x28 greyscale Fashion-MNIST articles only: the ten classes, in the dataset's order "
        "(0 T-shirt/top, 1 trouser, 2 pullover, 3 dress, 4 coat, 5 sandal, 6 shirt, 7 sneaker, 8 bag, 9 ankle boot).",
        "10 epochs on a CPU (the MNIST preset had 15). Its weakest class is the shirt (6): the evaluation "
        "classifier reads 56% of generated shirts as shirts (T-shirts, pullovers and coats look alike at 28 px).",
    ],
    "dcgan_anime_64": [
        "64x64 anime faces; 32-filter networks (half the DCGAN paper's width) to fit a 2-core CPU's training time.",
        "Trained on 2,891 of the 3,191 faces (--subset 2891, seed 0); the other 300 are held out for "
        "bench/finetune_preset.py.",
        "FID is measured in the features of a rotation-prediction network trained on the same faces, not Inception: "
        "compare it only with runs measured the same way.",
    ],
    "cgan_anime": [
        "64x64 anime faces conditioned on hair colour (12 classes); 32-filter networks and 15 epochs for a 2-core CPU.",
        "The evaluation classifier reads 67% of samples as the requested colour; 9 of the 12 colours appear, and "
        "the weakest requested colour is read right 29% of the time.",
        "Hair-colour tags were crawled: gray/white/aqua and dark colours are often debatable.",
    ],
    "pix2pix_lineart": [
        "64x64 line art rendered by tfgan_zoo.data.lineart from the anime faces; real pencil drawings differ.",
        "8 epochs with 32-filter networks on a CPU, far from the 96 px, 64-filter recipe of the experiment.",
    ],
    "cyclegan_horse2zebra": [
        "64x64, 32-filter networks and 4 epochs on a CPU: far below the paper's 256 px, 200 epochs. "
        "Stripes are partial and blotchy: the horse-vs-zebra classifier reads 54% of translated horses as zebras. "
        "Zebras turn brown more readily (78% read as horses), though some keep stripes.",
        "FID/KID are measured in that classifier's features on 100 validation pictures per domain, not Inception: "
        "its features separate horses from zebras and little else (the B->A figures sit near 0 although some "
        "translated zebras keep stripes). Read them with the target-domain shares and the samples.",
    ],
}


def ship(name: str, run: Path, timing: dict) -> None:
    """Makes the finished run ``run`` the shipped preset ``name`` (package folder and registry)."""
    from tfgan_zoo.presets import making

    last = timing["runs"][-1]
    seconds = sum(entry["wall_seconds"] for entry in timing["runs"] if entry["exit_status"] == 0) or None
    preset = making.make(run, name, command=timing["command"], wall_seconds=seconds, machine=last["machine"],
                         limits=tuple(LIMITS.get(name, ())), register=True)
    print(f"   shipped {name}: {preset.size_bytes / 1e6:.1f} MB, {preset.headline}", flush=True)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPU cores ({cpu}), no GPU" if os.cpu_count() else cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", default=list(COMMANDS), help="presets to train (default: all)")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "work" / "presets")
    parser.add_argument("--data-dir", default=os.environ.get("TFGAN_ZOO_DATA", str(ROOT.parent / "shared" / "data")))
    parser.add_argument("--ship", action="store_true", help="make each finished run a shipped preset")
    parser.add_argument("--ship-only", action="store_true", help="only ship runs trained before")
    args = parser.parse_args()
    unknown = [name for name in args.names if name not in COMMANDS]
    if unknown:
        parser.error(f"unknown preset {unknown[0]!r}; choose from {', '.join(COMMANDS)}")
    args.work.mkdir(parents=True, exist_ok=True)
    timings_file = args.work / "timings.json"
    timings = json.loads(timings_file.read_text()) if timings_file.exists() else {}
    for name in args.names:
        if args.ship_only:
            ship(name, args.work / name, timings[name])
            continue
        command = [part.replace("{data}", "$TFGAN_ZOO_DATA") for part in COMMANDS[name]]
        run = args.work / name
        shown = "python " + " ".join(command) + f" --out RUN"
        print(f"== {name}: {shown}", flush=True)
        started = time.time()
        env = dict(os.environ, TFGAN_ZOO_DATA=args.data_dir)
        argv = [sys.executable, *[part.replace("$TFGAN_ZOO_DATA", args.data_dir) for part in command],
                "--out", str(run), "--verbose", "2"]
        with open(args.work / f"{name}.log", "a") as log:
            status = subprocess.call(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        seconds = time.time() - started
        # Read again: another invocation may have recorded its own preset meanwhile.
        timings = json.loads(timings_file.read_text()) if timings_file.exists() else {}
        timings.setdefault(name, {"command": shown, "runs": []})
        timings[name]["command"] = shown
        timings[name]["runs"].append({
            "wall_seconds": round(seconds, 1), "exit_status": status, "machine": machine(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started)),
        })
        timings_file.write_text(json.dumps(timings, indent=2) + "\n")
        print(f"   exit {status} after {seconds / 60:.1f} min", flush=True)
        if args.ship and status == 0:
            ship(name, run, timings[name])
    return 0


if __name__ == "__main__":
    sys.exit(main())
