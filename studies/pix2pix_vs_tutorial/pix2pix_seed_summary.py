"""Summarises `pix2pix_vs_reference.py` runs over seeds: is a gap more than seed noise?

    python studies/pix2pix_vs_tutorial/pix2pix_seed_summary.py \
        studies/pix2pix_vs_tutorial/results/pix2pix_vs_reference*.json [--steps 400]

One pix2pix run on 400 facades is one draw: the init, the sample order, the
jitter and the dropout masks all move the val scores (the sample order alone
moved ours by 0.04 SSIM at 400 steps). This groups the runs' final scores by
configuration (model, its options and precision, and the settings its
ablations changed: the file's ``settings``) and prints, per group and eval
mode, the number of seeds, mean, standard deviation and range of SSIM, PSNR
and L1; then, for each group against the reference and each metric and
mode, the difference of the means with a 95% bootstrap interval and an
exact two-sided permutation p-value (every split of the pooled runs into
the two group sizes; random splits past 200,000).
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import defaultdict
from math import comb
from pathlib import Path

import numpy as np

REFERENCE = "reference (TF tutorial)"
METRICS = ("ssim", "psnr", "l1")


def load_runs(paths, steps: int | None) -> dict:
    """``{group: [result, ...]}`` from result files, keeping runs of ``steps`` steps (all when None)."""
    groups = defaultdict(list)
    for path in paths:
        record = json.loads(Path(path).read_text())
        if steps is not None and record["steps"] != steps:
            continue
        settings = " ".join(f"{key}={value}" for key, value in sorted(record.get("settings", {}).items()))
        for result in record["results"]:
            key = result["name"] if result["name"] == REFERENCE else " ".join(
                part for part in (result["name"], result.get("options", ""), result["precision"], settings) if part)
            groups[key].append({"seed": record["seed"], "steps": record["steps"], "scores": result["scores"]})
    return groups


def permutation_p_value(a, b, max_splits: int = 200_000, seed: int = 0) -> float:
    """Two-sided p-value of ``mean(a) - mean(b)`` under exchangeable labels."""
    pooled = np.asarray(list(a) + list(b), float)
    observed = abs(np.mean(a) - np.mean(b))
    n, k = len(pooled), len(a)
    if comb(n, k) <= max_splits:
        splits = (np.fromiter(chosen, int, k) for chosen in itertools.combinations(range(n), k))
    else:
        rng = np.random.default_rng(seed)
        splits = (rng.choice(n, k, replace=False) for _ in range(max_splits))
    hits = total = 0
    for chosen in splits:
        mask = np.zeros(n, bool)
        mask[chosen] = True
        hits += abs(pooled[mask].mean() - pooled[~mask].mean()) >= observed - 1e-12
        total += 1
    return hits / total


def bootstrap_interval(a, b, resamples: int = 10_000, seed: int = 0) -> tuple[float, float]:
    """95% percentile-bootstrap interval of ``mean(a) - mean(b)`` (each group resampled on its own)."""
    rng = np.random.default_rng(seed)
    a, b = np.asarray(a, float), np.asarray(b, float)
    differences = (rng.choice(a, (resamples, len(a))).mean(axis=1) - rng.choice(b, (resamples, len(b))).mean(axis=1))
    return float(np.percentile(differences, 2.5)), float(np.percentile(differences, 97.5))


def summarise(groups: dict) -> list[str]:
    lines = []
    for key, runs in sorted(groups.items()):
        seeds = sorted(run["seed"] for run in runs)
        lines.append(f"{key}: {len(runs)} runs, seeds {seeds}")
        for run in sorted(runs, key=lambda run: run["seed"]):
            lines.append(f"  seed {run['seed']:3d}: " + " | ".join(
                f"{mode} " + " ".join(f"{metric} {run['scores'][mode][metric]:.4f}" for metric in METRICS)
                for mode in ("paper", "inference")))
        for mode in ("paper", "inference"):
            cells = []
            for metric in METRICS:
                values = np.array([run["scores"][mode][metric] for run in runs])
                spread = values.std(ddof=1) if len(values) > 1 else float("nan")
                cells.append(f"{metric} {values.mean():.4f} ± {spread:.4f} [{values.min():.4f}, {values.max():.4f}]")
            lines.append(f"  {mode:9s} " + " | ".join(cells))
    if REFERENCE in groups:
        for key, runs in sorted(groups.items()):
            if key == REFERENCE:
                continue
            lines.append(f"{key} minus reference (n = {len(runs)} vs {len(groups[REFERENCE])}):")
            for mode in ("paper", "inference"):
                cells = []
                for metric in METRICS:
                    ours = [run["scores"][mode][metric] for run in runs]
                    theirs = [run["scores"][mode][metric] for run in groups[REFERENCE]]
                    low, high = bootstrap_interval(ours, theirs)
                    cells.append(f"{metric} {np.mean(ours) - np.mean(theirs):+.4f} "
                                 f"[95% {low:+.4f}, {high:+.4f}] p = {permutation_p_value(ours, theirs):.3f}")
                lines.append(f"  {mode:9s} " + " | ".join(cells))
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", type=Path, help="pix2pix_vs_reference.py result JSON files")
    parser.add_argument("--steps", type=int, default=None, help="only runs of this many steps")
    args = parser.parse_args()
    groups = load_runs(args.results, args.steps)
    if not groups:
        parser.exit(1, "no runs found (wrong --steps?)\n")
    print("\n".join(summarise(groups)))


if __name__ == "__main__":
    main()
