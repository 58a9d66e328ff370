"""ACGAN against the conditional GAN on MNIST, at the same epochs and training time.

    python bench/acgan_vs_cgan.py [--epochs 15] [--data-dir DATA] [--work DIR]

Runs ``experiments/cgan_mnist.py`` and ``experiments/acgan_mnist.py`` one after
the other with their defaults (batch 64, evaluation every 5 epochs on 10,000
samples: domain-FID and label accuracy in the features of the package's MNIST
classifier), each in a fresh run directory under ``--work``. From each run's
console it takes the seconds of every epoch, less the evaluation's own seconds
(the progress line of an epoch includes the callbacks that run before it), and
from its ``logs/training.csv`` the figures of the evaluated epochs. Then it reads
1,000 samples per class of each final export with the independent classifier of
``bench/cgan_quality.py`` (a CNN trained on the train split, cached in
bench/cache/). Writes ``bench/results/acgan_vs_cgan.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
EPOCH = re.compile(r"^Epoch (\d+)/\d+$")
PROGRESS = re.compile(r"^\d+/\d+ - (\d+)s - ")
EVALUATION = re.compile(r"^Epoch (\d+) evaluation \((\d+)s\): ")
FIGURES = ("domain_fid", "domain_kid", "label_accuracy", "min_class_accuracy", "domain_precision", "domain_recall")


def train(script: str, run_dir: Path, epochs: int, data_dir: str | None) -> float:
    """Runs ``experiments/<script>.py`` into ``run_dir``, keeping its console in
    ``run_dir/console.log``; returns the wall minutes."""
    command = [sys.executable, str(REPO / "experiments" / f"{script}.py"), "--epochs", str(epochs),
               "--out", str(run_dir), "--verbose", "2"] + (["--data-dir", data_dir] if data_dir else [])
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    wall = time.perf_counter() - started
    # The command as recorded: the run directory as RUN, so that results carry no machine's paths.
    recorded = " ".join(command[1:]).replace(str(run_dir), "RUN").replace(str(REPO) + "/", "")
    (run_dir / "console.log").write_text(recorded + "\n" + completed.stdout)
    if completed.returncode:
        (run_dir / "console.log").write_text(completed.stdout + completed.stderr)
        raise SystemExit(f"{script} failed (exit {completed.returncode}); see {run_dir / 'console.log'}")
    return round(wall / 60, 1)


def read_run(run_dir: Path) -> dict:
    """A finished run's per-epoch training seconds (from its console) and evaluated figures (from its CSV)."""
    command, *lines = (run_dir / "console.log").read_text().splitlines()
    epoch_seconds, evaluation_seconds, epoch = {}, {}, None
    for line in lines:
        if match := EPOCH.match(line.strip()):
            epoch = int(match.group(1))
        elif (match := PROGRESS.match(line.strip())) and epoch is not None:
            epoch_seconds[epoch] = int(match.group(1))
        elif match := EVALUATION.match(line.strip()):
            evaluation_seconds[int(match.group(1))] = int(match.group(2))
    rows = list(csv.DictReader((run_dir / "logs" / "training.csv").open()))
    elapsed, table = 0.0, []
    for row in rows:
        number = int(row["epoch"]) + 1
        elapsed += epoch_seconds[number] - evaluation_seconds.get(number, 0)
        if row.get("domain_fid"):
            table.append({"epoch": number, "train_minutes": round(elapsed / 60, 2),
                          **{name: float(row[name]) for name in FIGURES if row.get(name)}})
    return {"command": command, "train_minutes": round(elapsed / 60, 2), "evaluated_epochs": table}


def independent_accuracy(run_dir: Path, data_dir: str | None) -> dict:
    """bench/cgan_quality.py's reading of the run's export: 1,000 samples per class."""
    command = [sys.executable, str(HERE / "cgan_quality.py"), str(run_dir)] + (["--data-dir", data_dir] if data_dir else [])
    output = subprocess.run(command, capture_output=True, text=True, check=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}).stdout
    result = json.loads(output[output.index("{\n") : output.rindex("}") + 1])
    return {"accuracy": result["accuracy"], "min_class_accuracy": min(result["per_class_accuracy"]),
            "classes_present": result["classes_present"], "classifier_test_accuracy": result["classifier_test_accuracy"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--work", default=str(HERE / "work" / "acgan_vs_cgan"),
                        help="where the two run directories go; a finished one there is read, not trained again")
    parser.add_argument("--out", default=str(HERE / "results" / "acgan_vs_cgan.json"))
    args = parser.parse_args()

    work = Path(args.work)
    results = {"machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}", "runs": {}}
    for script in ("cgan_mnist", "acgan_mnist"):
        run_dir = work / script
        wall = None
        if (run_dir / "console.log").exists() and (run_dir / "export" / "generator").is_dir():
            print(f"{script}: reading the finished run in {run_dir}", flush=True)
        elif run_dir.exists():
            raise SystemExit(f"{run_dir} holds an unfinished run: delete it (or pass another --work) to train afresh.")
        else:
            run_dir.mkdir(parents=True)
            print(f"training {script} ...", flush=True)
            wall = train(script, run_dir, args.epochs, args.data_dir)
        results["runs"][script] = {**read_run(run_dir), "wall_minutes": wall,
                                   "independent_label_accuracy": independent_accuracy(run_dir, args.data_dir)}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))

    print(f"\n{results['machine']}")
    print("| run | epoch | train min | domain-FID | label accuracy (domain classifier) |")
    print("| --- | --- | --- | --- | --- |")
    for script, run in results["runs"].items():
        for row in run["evaluated_epochs"]:
            print(f"| {script} | {row['epoch']} | {row['train_minutes']:.1f} | {row['domain_fid']:.2f} | "
                  f"{row.get('label_accuracy', float('nan')):.4f} |")
    for script, run in results["runs"].items():
        independent = run["independent_label_accuracy"]
        print(f"{script}: independent label accuracy {independent['accuracy']:.4f} (min class "
              f"{independent['min_class_accuracy']:.4f}), {run['train_minutes']:.1f} min training"
              + (f", {run['wall_minutes']:.1f} min wall" if run["wall_minutes"] else ""))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
