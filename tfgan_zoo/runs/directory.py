"""The layout of a run directory, in one place::

    RUN/config.json              the run's identity and options (tfgan_zoo.runs.identity)
    RUN/.lock                    pid and host of the process training in RUN, while it runs
    RUN/checkpoints/             weights + both optimizer states + resume position
                                 (tfgan_zoo.runs.checkpoints)
    RUN/logs/training.csv        per-epoch losses, D scores, gradient norms, evaluation figures
    RUN/logs/health.jsonl        training-health warnings (tfgan_zoo.diagnostics)
    RUN/logs/tensorboard/        TensorBoard event files
    RUN/samples/epoch_NNN.png    the fixed sample sheet of each epoch
    RUN/best/                    the best evaluated epoch (noise-to-image runs)
    RUN/gallery/index.html       the validation split's translations (translation runs)
    RUN/evaluation.json          the final scores of the validation split and how they were
                                 measured (translation runs)
    RUN/export/<name>/N/         SavedModels, one numbered version per export (TF Serving layout)
    RUN/.workers/N/              what worker N of a multi-worker job writes for itself
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from tfgan_zoo import distribute
from tfgan_zoo.runs import lock as run_lock


class RunDirectory:
    """One run directory: where each of its parts lives, and its lock."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDirectory({str(self.path)!r})"

    def __fspath__(self) -> str:
        return str(self.path)

    @property
    def config(self) -> Path:
        return self.path / "config.json"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def logs(self) -> Path:
        return self.path / "logs"

    @property
    def training_log(self) -> Path:
        return self.logs / "training.csv"

    @property
    def health_log(self) -> Path:
        return self.logs / "health.jsonl"

    @property
    def tensorboard(self) -> Path:
        return self.logs / "tensorboard"

    @property
    def samples(self) -> Path:
        return self.path / "samples"

    @property
    def best(self) -> Path:
        return self.path / "best"

    @property
    def gallery(self) -> Path:
        return self.path / "gallery"

    @property
    def evaluation(self) -> Path:
        return self.path / "evaluation.json"

    def export(self, name: str) -> Path:
        """Where the numbered versions of the SavedModel ``name`` go."""
        return self.path / "export" / name

    def for_this_worker(self) -> RunDirectory:
        """Where this process writes: the run directory itself, or for a non-chief worker of a
        multi-worker job its own scratch folder ``RUN/.workers/N`` (the chief alone writes the run)."""
        if distribute.is_chief():
            return self
        return RunDirectory(self.path / ".workers" / str(distribute.task()[1]))

    @contextlib.contextmanager
    def lock(self, *, announce=print):
        """``with run_dir.lock(): ...``: holds ``RUN/.lock`` for the block (see :mod:`tfgan_zoo.runs.lock`)."""
        with run_lock.lock(self.path, announce=announce) as held:
            yield held
