"""Keras callbacks for GAN runs: sample sheets, non-finite stops and evaluation of
generated and translated images. The run directory's own callbacks (checkpoints,
CSV, TensorBoard, console) live in :mod:`tfgan_zoo.runs` and are re-exported here."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import keras
import numpy as np

from tfgan_zoo import metrics
from tfgan_zoo.ranges import to_uint8
from tfgan_zoo.export import save_generator
from tfgan_zoo.gallery import triptych_sheet
from tfgan_zoo.models.base import Sampling
from tfgan_zoo.runs import writes
from tfgan_zoo.runs.checkpoints import (
    BEST_RECORD_ATTR, TMP_MARK, CheckpointError, SafeBackupAndRestore, all_finite, remove_stale_temporaries,
    weights_bytes,
)
from tfgan_zoo.runs.logs import CSVLogger, ProgbarLogger, TensorBoard
from tfgan_zoo.visualize import sample_sheet, save_image

__all__ = [
    "SampleGrid", "StopOnNonFinite", "TrainingBudget", "EvaluateGAN", "EvaluateTranslation", "EvaluateCycleGAN",
    "TranslationSamples", "CycleSamples", "cycle_translations",
    "SafeBackupAndRestore", "CheckpointError", "CSVLogger", "ProgbarLogger", "TensorBoard",
]


def _figures_text(figures: dict) -> str:
    return ", ".join(f"{name}={figure:.4g}" for name, figure in figures.items())


def _evaluation_progress(verbose: int | str, params: dict | None, epoch: int) -> metrics.Progress:
    """The console progress of one epoch's evaluation; ``verbose`` "auto" follows
    ``fit``'s (1: a live line for a terminal, 2: a start and an end line for a log)."""
    if verbose == "auto":
        verbose = (params or {}).get("verbose", 0)
    # fit's own "auto" means 1, as in keras.callbacks.ProgbarLogger.
    return metrics.Progress(f"Epoch {epoch + 1} evaluation", 1 if verbose == "auto" else int(verbose))


class SampleGrid(keras.callbacks.Callback):
    """Writes ``directory/epoch_NNN.png`` from the same fixed noise every epoch.

    Unconditional models get a ``rows x columns`` sheet; conditional ones one
    row per class, each column sharing its noise across classes, so progress
    and the label's effect are both visible. :meth:`sheet` is the image; give
    it to :class:`TensorBoard` (``samples=grid.sheet``) to see it there too.
    """

    def __init__(self, directory, rows: int = 8, columns: int = 8, seed: int = 1234, scale: int = 2, every: int = 1):
        super().__init__()
        self.directory = Path(directory)
        self.rows, self.columns, self.seed, self.scale, self.every = rows, columns, seed, scale, every

    def sheet(self) -> np.ndarray:
        """The uint8 ``[H, W, C]`` sample sheet of the model as it is now."""
        return sample_sheet(self.model, self.rows, self.columns, self.seed)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        path = self.directory / f"epoch_{epoch + 1:03d}.png"
        with writes.writing(path):
            save_image(path, self.sheet(), scale=self.scale)


class StopOnNonFinite(keras.callbacks.Callback):
    """Stops training as soon as a logged value is NaN or infinite, saying which.

    ``keras.callbacks.TerminateOnNaN`` works too (``fit`` lets it read every
    figure, as a GAN logs no single ``loss``); this one names the figures."""

    def __init__(self):
        super().__init__()
        self.stopped_at = None

    def on_train_batch_end(self, batch, logs=None):
        if not all_finite(logs):
            bad = {k: float(v) for k, v in logs.items() if not math.isfinite(float(v))}
            self.stopped_at = batch
            self.model.stop_training = True
            print(
                f"\nNon-finite training values at batch {batch}: {bad}. Training stops; the last "
                "checkpoint with finite values is kept. Usual remedies: lower the learning rates, "
                "use label smoothing, or another loss (lsgan/hinge)."
            )


class TrainingBudget(keras.callbacks.Callback):
    """Stops ``fit`` once its training steps have taken ``budgets[-1]`` seconds,
    calling ``at_budget(budget, seconds)`` as the clock passes each of ``budgets``.

    The clock (``seconds``) adds up each step, from this callback's batch begin
    to its batch end, so the batch-end work of callbacks listed before it
    counts: put it first (few callbacks do anything as a batch begins). It
    stands still between steps: ``fit``'s set-up, epoch ends, and whatever
    ``at_budget`` does (scoring samples: compare runs at equal training time,
    not at equal time spent evaluating them). The first step's tracing
    counts, as it does for anyone training. A budget is reached at the end of
    the step that passes it, so ``seconds`` there exceeds it by less than one
    step; a budget that a ``fit`` ending first never reaches is not called.
    The clock runs on over several ``fit`` calls.
    """

    def __init__(self, budgets, at_budget=None):
        super().__init__()
        self.budgets = [float(budget) for budget in budgets]
        if not self.budgets or self.budgets != sorted(self.budgets) or self.budgets[0] <= 0:
            raise ValueError(f"budgets must be positive seconds in increasing order, got {list(budgets)}.")
        self.at_budget = at_budget
        self.seconds = 0.0
        self.reached = 0  # how many budgets the clock has passed
        self._step_started = None

    def on_train_batch_begin(self, batch, logs=None):
        self._step_started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        # Keras turns the step's logs into numbers before the batch-end hooks of a callback that is not
        # async_safe (as this one): the step is done, not only dispatched.
        self.seconds += time.perf_counter() - self._step_started
        while self.reached < len(self.budgets) and self.seconds >= self.budgets[self.reached]:
            if self.at_budget is not None:
                self.at_budget(self.budgets[self.reached], self.seconds)
            self.reached += 1
        if self.reached == len(self.budgets):
            self.model.stop_training = True


class _PeriodicScores(keras.callbacks.Callback):
    """Evaluates every ``every`` epochs and at the last, adding the figures of
    ``self.evaluate(progress)`` (a :class:`tfgan_zoo.metrics.Evaluation`) to the
    epoch logs; NaN for each of ``figure_names`` in between, which keeps
    History lists aligned (:class:`CSVLogger` writes empty cells,
    :class:`ProgbarLogger` leaves them out). Keras hands one ``logs`` dict to
    the callbacks in list order, so put it *before* ``CSVLogger``,
    ``TensorBoard`` or ``EarlyStopping``. ``verbose`` as :class:`EvaluateGAN`'s.
    Each evaluation then goes to :meth:`after_evaluation`, whose note ends the
    console line of the figures."""

    figure_names: list[str]
    every: int
    verbose: int | str

    def evaluate(self, progress: metrics.Progress | None = None) -> metrics.Evaluation:
        raise NotImplementedError

    def after_evaluation(self, epoch: int, evaluation: metrics.Evaluation, progress: metrics.Progress) -> str:
        """Acts on ``epoch``'s evaluation once its figures are logged; returns a note for the console line."""
        return ""

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        if (epoch + 1) % self.every and epoch + 1 != self.params.get("epochs"):
            logs.update(dict.fromkeys(self.figure_names, math.nan))
            return
        progress = _evaluation_progress(self.verbose, self.params, epoch)
        evaluation = self.evaluate(progress)
        logs.update(evaluation.figures)
        note = self.after_evaluation(epoch, evaluation, progress)
        progress.end(_figures_text(evaluation.figures) + note)


class EvaluateGAN(_PeriodicScores):
    """Scores generated samples every ``every`` epochs and at the last; keeps the best.

    Generates ``num_samples`` images from the same seeded noise each time
    (conditional models: balanced labels, cycling through the classes),
    scores them with ``evaluator`` (a :class:`tfgan_zoo.metrics.GANEvaluator`)
    and writes its figures into ``logs``. Keras hands one ``logs`` dict to the
    callbacks in list order, so put this one *before* ``CSVLogger``,
    ``TensorBoard``, ``EarlyStopping`` or anything else that should see the
    figures (``History`` always runs last). Epochs without an evaluation log
    NaN for each figure, which keeps History lists aligned; this module's
    :class:`CSVLogger` writes empty cells for them and its
    :class:`ProgbarLogger` leaves them out.

    ``verbose``: 0 silent; 1 a live line of the evaluation's progress (for a
    terminal); 2 a line as it starts (for a log file); both end with a line of
    the figures and the seconds taken. "auto" (default) follows ``fit``'s.

    When ``monitor`` (default: the evaluator's first figure, its FID when
    measured) improves in ``mode`` ("min" or "max"), writes
    ``directory/best.weights.h5`` and ``directory/best.json`` (epoch,
    figures, details, protocol) through temporary files, and exports the
    generator as the next version under ``export_dir`` if given (with
    ``class_names`` in its metadata). A resumed run reads ``best.json``
    and only replaces a better best.
    """

    def __init__(
        self,
        evaluator,
        num_samples: int = 10000,
        every: int = 1,
        monitor: str | None = None,
        mode: str = "min",
        directory=None,
        export_dir=None,
        class_names: list[str] | None = None,
        seed: int = 4321,
        batch_size: int = 500,
        verbose: int | str = "auto",
    ):
        super().__init__()
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}.")
        self.evaluator = evaluator
        self.num_samples, self.every, self.seed, self.batch_size = num_samples, every, seed, batch_size
        self.monitor = monitor or evaluator.figure_names()[0]
        self.mode = mode
        self.directory = None if directory is None else Path(directory)
        self.export_dir = None if export_dir is None else Path(export_dir)
        self.class_names = class_names
        self.verbose = verbose
        self.best = self.best_epoch = None

    def on_train_begin(self, logs=None):
        self.figure_names = self.evaluator.figure_names(with_labels=bool(self.model.num_classes))
        if self.monitor not in self.figure_names:
            raise ValueError(f"monitor {self.monitor!r} is not among the figures {self.figure_names}.")
        saved = None if self.directory is None else self._saved_best()
        if saved is not None and (saved.get("monitor"), saved.get("mode")) == (self.monitor, self.mode):
            self.best, self.best_epoch = saved["value"], saved["epoch"]

    def _saved_best(self) -> dict | None:
        """The record of the best weights on disk. The weights file carries its own
        record, which wins over ``best.json``: a kill between their renames leaves
        the newer weights beside the older ``best.json``, which is then rewritten."""
        remove_stale_temporaries(self.directory)
        record = self.directory / "best.json"
        saved = json.loads(record.read_text()) if record.exists() else None
        weights = self.directory / "best.weights.h5"
        if weights.exists():
            import h5py

            with h5py.File(weights, "r") as handle:
                embedded = handle.attrs.get(BEST_RECORD_ATTR)
            embedded = json.loads(embedded) if embedded is not None else None
            if embedded is not None and embedded != saved:
                self._write_record(embedded)
                saved = embedded
        return saved

    def _write_record(self, record: dict):
        writes.replace_durably(self.directory / "best.json", json.dumps(record, indent=2).encode(),
                               self.directory / f"best.json{TMP_MARK}")

    def generate(self, progress: metrics.Progress | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """uint8 images (and their labels, for a conditional model) from fixed noise;
        each batch is reported to ``progress``."""
        gan: Sampling = self.model
        noise, labels = gan.sample_inputs(self.num_samples, self.seed)
        parts = []
        for start in (progress or metrics.Progress()).batches("generating", self.num_samples, self.batch_size):
            chunk = noise[start : start + self.batch_size]
            conditions = None if labels is None else labels[start : start + self.batch_size]
            parts.append(np.asarray(to_uint8(gan.generate(chunk, conditions))))
        return np.concatenate(parts), labels

    def improved(self, value: float) -> bool:
        """Whether ``value`` beats the best so far; NaN and inf never do."""
        if not math.isfinite(value):
            return False
        if self.best is None:
            return True
        return value < self.best if self.mode == "min" else value > self.best

    def evaluate(self, progress: metrics.Progress | None = None) -> metrics.Evaluation:
        """The evaluator's scores of images generated from the fixed noise; each stage is reported to ``progress``."""
        images, labels = self.generate(progress)
        return self.evaluator.evaluate(images, labels, progress=progress)

    def after_evaluation(self, epoch: int, evaluation: metrics.Evaluation, progress: metrics.Progress) -> str:
        """Keeps (and exports) the generator when the monitored figure improved."""
        value = evaluation.figures[self.monitor]
        if not self.improved(value):
            return ""
        self.best, self.best_epoch = value, epoch + 1
        progress.update("saving the best epoch")
        if self.directory is not None:
            self._save_best(evaluation)
        if self.export_dir is not None:
            self._export()
        return " (best so far)"

    def _save_best(self, evaluation: metrics.Evaluation):
        self.directory.mkdir(parents=True, exist_ok=True)
        weights, weights_tmp = self.directory / "best.weights.h5", self.directory / f"best{TMP_MARK}.weights.h5"
        record = {"epoch": self.best_epoch, "monitor": self.monitor, "mode": self.mode, "value": self.best,
                  **evaluation.as_dict()}
        record = json.loads(json.dumps(record))  # as read back, so that records compare equal
        # The weights' rename is the commit: they carry their record, and
        # best.json (for people and tools) follows; see _saved_best.
        writes.replace_durably(weights, weights_bytes(self.model, {BEST_RECORD_ATTR: json.dumps(record)}), weights_tmp)
        self._write_record(record)

    def _export(self):
        save_generator(self.model, self.export_dir, class_names=self.class_names)


class EvaluateTranslation(_PeriodicScores):
    """Adds ``val_l1``, ``val_psnr`` and ``val_ssim`` of the model's translations to the epoch logs.

    ``inputs`` and ``targets`` are the validation pairs, uint8 ``[N, S, S, C]``.
    Every ``every`` epochs and at the last, all inputs are translated by
    ``model.translate(images, batch_size)`` (a :class:`tfgan_zoo.Pix2Pix`'s:
    inference mode, no jitter, no dropout) in batches of
    ``batch_size`` and compared to the targets with
    :func:`tfgan_zoo.metrics.l1` (on the [-1, 1] scale of the training L1),
    :func:`~tfgan_zoo.metrics.psnr` and :func:`~tfgan_zoo.metrics.ssim`.
    Put it before the loggers; other epochs log NaN for each figure.
    ``verbose`` as :class:`EvaluateGAN`'s.
    """

    def __init__(
        self, inputs, targets, every: int = 1, batch_size: int = 16, prefix: str = "val_",
        verbose: int | str = "auto",
    ):
        super().__init__()
        self.inputs, self.targets = np.asarray(inputs), np.asarray(targets)
        if self.inputs.dtype != np.uint8 or self.targets.dtype != np.uint8:
            raise ValueError(
                f"inputs and targets must be uint8 images, got {self.inputs.dtype} and {self.targets.dtype}."
            )
        if len(self.inputs) != len(self.targets) or not len(self.inputs):
            raise ValueError(
                f"Need the same, non-zero number of inputs and targets, got {len(self.inputs)} and {len(self.targets)}."
            )
        self.every, self.batch_size, self.prefix, self.verbose = every, batch_size, prefix, verbose
        self.figure_names = [f"{prefix}l1", f"{prefix}psnr", f"{prefix}ssim"]

    def evaluate(self, progress: metrics.Progress | None = None) -> metrics.Evaluation:
        """The scores of the model's current translations; each batch is reported to ``progress``."""
        progress = progress or metrics.Progress()
        translations = np.concatenate([
            self.model.translate(self.inputs[start : start + self.batch_size], batch_size=self.batch_size)
            for start in progress.batches("translating", len(self.inputs), self.batch_size)
        ])
        progress.update("scoring")
        scores = metrics.paired_scores(translations, self.targets)
        return metrics.Evaluation(
            figures={f"{self.prefix}{name}": value for name, value in scores.items()},
            details={},
            protocol={"num_pairs": len(self.inputs), "l1_scale": "[-1, 1]", "psnr_ssim_scale": "[0, 1], max_val=1"},
        )


class TranslationSamples(keras.callbacks.Callback):
    """Writes ``directory/epoch_NNN.png``: ``input | output | target`` rows for fixed examples.

    The same validation examples every epoch, translated without jitter, so
    progress is visible; the file names match :class:`SampleGrid`'s, so
    ``python -m tfgan_zoo.report`` shows them over epochs. :meth:`sheet` is
    the image (for :class:`TensorBoard`'s ``samples``).
    """

    def __init__(self, inputs, targets, directory, every: int = 1, scale: int = 1):
        super().__init__()
        self.inputs, self.targets = np.asarray(inputs), np.asarray(targets)
        self.directory = Path(directory)
        self.every, self.scale = int(every), int(scale)

    def sheet(self) -> np.ndarray:
        """The uint8 ``input | output | target`` sheet of the model as it is now."""
        return triptych_sheet(self.inputs, self.model.translate(self.inputs), self.targets)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        path = self.directory / f"epoch_{epoch + 1:03d}.png"
        with writes.writing(path):
            save_image(path, self.sheet(), scale=self.scale)


def cycle_translations(model, images_a, images_b, batch_size: int = 16) -> dict:
    """``{"a": (reals, A→B, A→B→A), "b": (reals, B→A, B→A→B)}`` of a CycleGAN, uint8, in inference mode."""
    fake_b = model.translate(images_a, "a_to_b", batch_size)
    fake_a = model.translate(images_b, "b_to_a", batch_size)
    return {
        "a": (images_a, fake_b, model.translate(fake_b, "b_to_a", batch_size)),
        "b": (images_b, fake_a, model.translate(fake_a, "a_to_b", batch_size)),
    }


class CycleSamples(keras.callbacks.Callback):
    """Writes ``directory/epoch_NNN.png`` for a CycleGAN: rows ``A | A→B | A→B→A`` of
    fixed validation images of A, then ``B | B→A | B→A→B`` of B. :meth:`sheet`
    is the image (for :class:`TensorBoard`'s ``samples``)."""

    def __init__(self, images_a, images_b, directory, every: int = 1):
        super().__init__()
        self.images_a, self.images_b = np.asarray(images_a), np.asarray(images_b)
        self.directory, self.every = Path(directory), int(every)

    def sheet(self) -> np.ndarray:
        """The uint8 sheet of both domains' cycles through the model as it is now."""
        rows = cycle_translations(self.model, self.images_a, self.images_b)
        return np.concatenate([triptych_sheet(*rows["a"]), triptych_sheet(*rows["b"])], axis=0)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        path = self.directory / f"epoch_{epoch + 1:03d}.png"
        with writes.writing(path):
            save_image(path, self.sheet())


class EvaluateCycleGAN(_PeriodicScores):
    """Adds a :class:`tfgan_zoo.metrics.TranslationEvaluator`'s figures of the model's
    translations (FID/KID against the target domain, share read as the target
    domain, cycle L1) to the epoch logs, every ``every`` epochs and at the last;
    NaN in between (see :class:`_PeriodicScores`). Put it before the loggers.
    ``verbose`` as :class:`EvaluateGAN`'s.
    """

    def __init__(
        self, evaluator: metrics.TranslationEvaluator, every: int = 1, batch_size: int = 16,
        verbose: int | str = "auto",
    ):
        super().__init__()
        self.evaluator, self.every, self.batch_size, self.verbose = evaluator, int(every), int(batch_size), verbose
        self.figure_names = evaluator.figure_names()

    def evaluate(self, progress: metrics.Progress | None = None) -> metrics.Evaluation:
        """The evaluator's scores of the model's translations, in inference mode."""
        return self.evaluator.evaluate(
            lambda images: self.model.translate(images, "a_to_b", self.batch_size),
            lambda images: self.model.translate(images, "b_to_a", self.batch_size),
            progress=progress,
        )
