"""Trains the shipped presets with the package's own experiment commands.

    python bench/train_presets.py [NAME ...] [--work bench/work/presets]

Runs each preset's command (below) one after the other, each into
``WORK/NAME``, and appends to ``WORK/timings.json`` the command, the machine
and the wall time, which ``python -m tfgan_zoo.presets make`` copies into the
preset's card. A run that was stopped resumes when the script is run again.
Never run in CI: this is hours of CPU.

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
        "--g-filters", "32", "--d-filters", "32", "--epochs", "30", "--eval-samples", "2000",
    ],
    "cgan_anime": [
        "experiments/cgan_anime.py", "--g-filters", "32", "--d-filters", "32", "--epochs", "30",
        "--eval-samples", "2400",
    ],
    "pix2pix_lineart": [
        "experiments/pix2pix_lineart.py", "--image-size", "64", "--g-filters", "32", "--d-filters", "32",
        "--epochs", "8", "--eval-every", "4",
    ],
    "cyclegan_horse2zebra": [
        "experiments/cyclegan_horse2zebra.py", "--image-size", "64", "--g-filters", "32", "--d-filters", "32",
        "--epochs", "6", "--eval-every", "3",
    ],
}


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
    args = parser.parse_args()
    unknown = [name for name in args.names if name not in COMMANDS]
    if unknown:
        parser.error(f"unknown preset {unknown[0]!r}; choose from {', '.join(COMMANDS)}")
    args.work.mkdir(parents=True, exist_ok=True)
    timings_file = args.work / "timings.json"
    timings = json.loads(timings_file.read_text()) if timings_file.exists() else {}
    for name in args.names:
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
        timings.setdefault(name, {"command": shown, "runs": []})
        timings[name]["command"] = shown
        timings[name]["runs"].append({
            "wall_seconds": round(seconds, 1), "exit_status": status, "machine": machine(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started)),
        })
        timings_file.write_text(json.dumps(timings, indent=2) + "\n")
        print(f"   exit {status} after {seconds / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
