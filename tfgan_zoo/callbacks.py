"""Keras callbacks for GAN runs: sample sheets, safe checkpoints, non-finite stops,
evaluation of generated and translated images, and console and CSV loggers that
show epochs without an evaluation as they are (no figures), not as NaN."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path

import keras
import numpy as np

from tfgan_zoo import metrics
from tfgan_zoo.ranges import to_uint8
from tfgan_zoo.export import save_generator
from tfgan_zoo.gallery import triptych_sheet
from tfgan_zoo.models.base import Sampling
from tfgan_zoo.visualize import make_grid, save_image


def _all_finite(logs) -> bool:
    return all(
        math.isfinite(float(value))
        for value in (logs or {}).values()
        if isinstance(value, (int, float, np.floating, np.integer))
    )


def _is_nan(value) -> bool:
    return isinstance(value, (float, np.floating)) and math.isnan(value)


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
    and the label's effect are both visible.
    """

    def __init__(self, directory, rows: int = 8, columns: int = 8, seed: int = 1234, scale: int = 2, every: int = 1):
        super().__init__()
        self.directory = Path(directory)
        self.rows, self.columns, self.seed, self.scale, self.every = rows, columns, seed, scale, every

    def sample_images(self) -> np.ndarray:
        gan: Sampling = self.model
        if gan.num_classes:
            column_noise, _ = gan.sample_inputs(self.columns, self.seed)
            noise = np.tile(column_noise, (gan.num_classes, 1))
            labels = np.repeat(np.arange(gan.num_classes, dtype="int32"), self.columns)
            images = gan.generate(noise, labels)
        else:
            noise, _ = gan.sample_inputs(self.rows * self.columns, self.seed)
            images = gan.generate(noise)
        return np.asarray(to_uint8(images))

    def grid_rows(self) -> int:
        return self.model.num_classes or self.rows

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        grid = make_grid(self.sample_images(), rows=self.grid_rows())
        save_image(self.directory / f"epoch_{epoch + 1:03d}.png", grid, scale=self.scale)


class StopOnNonFinite(keras.callbacks.Callback):
    """Stops training as soon as a logged value is NaN or infinite, saying why."""

    def __init__(self):
        super().__init__()
        self.stopped_at = None

    def on_train_batch_end(self, batch, logs=None):
        if not _all_finite(logs):
            bad = {k: float(v) for k, v in logs.items() if not math.isfinite(float(v))}
            self.stopped_at = batch
            self.model.stop_training = True
            print(
                f"\nNon-finite training values at batch {batch}: {bad}. Training stops; the last "
                "checkpoint with finite values is kept. Usual remedies: lower the learning rates, "
                "use label smoothing, or another loss (lsgan/hinge)."
            )


class SafeBackupAndRestore(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` that never overwrites a good backup with a non-finite epoch.

    Backs up at each epoch end (weights, both optimizers' states, epoch), so a
    run interrupted by Ctrl-C or kill -9 resumes at the last finished epoch.
    Files are written under temporary names and renamed into place: a kill
    during a save leaves the previous backup intact instead of a torn file.

    With ``read_only`` it restores but never writes: the non-chief workers of a
    multi-worker job resume from the chief's backup.
    """

    def __init__(self, backup_dir, read_only: bool = False, **kwargs):
        kwargs.setdefault("delete_checkpoint", False)
        super().__init__(str(backup_dir), **kwargs)
        self.read_only = read_only

    def on_epoch_end(self, epoch, logs=None):
        # An epoch whose running means are non-finite had a NaN/inf step.
        if _all_finite(logs):
            super().on_epoch_end(epoch, logs)

    def _save_model(self):
        if self.read_only:
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        weights_tmp = self._weights_path.replace(".weights.h5", ".tmp.weights.h5")
        metadata_tmp = self._training_metadata_path + ".tmp"
        self.model.save_weights(weights_tmp, overwrite=True)
        metadata = {"epoch": self._current_epoch, "batch": self._last_batch_seen,
                    "weights_mtime_ns": os.stat(weights_tmp).st_mtime_ns}
        with open(metadata_tmp, "w") as handle:
            json.dump(metadata, handle)
        # Weights first. A kill between the two renames leaves the new weights
        # with the old metadata; _load_model spots that by the weights' mtime.
        os.replace(weights_tmp, self._weights_path)
        os.replace(metadata_tmp, self._training_metadata_path)

    def _load_model(self):
        super()._load_model()
        try:
            with open(self._training_metadata_path) as handle:
                metadata = json.load(handle)
            mtime = os.stat(self._weights_path).st_mtime_ns
        except (OSError, ValueError):
            return
        if metadata.get("weights_mtime_ns") not in (None, mtime):
            # The weights are the next epoch's, saved just before the kill.
            self.model._initial_epoch = metadata["epoch"] + 1


class EvaluateGAN(keras.callbacks.Callback):
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
        record = None if self.directory is None else self.directory / "best.json"
        if record is not None and record.exists():
            saved = json.loads(record.read_text())
            if (saved.get("monitor"), saved.get("mode")) == (self.monitor, self.mode):
                self.best, self.best_epoch = saved["value"], saved["epoch"]

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

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        if (epoch + 1) % self.every and epoch + 1 != self.params.get("epochs"):
            logs.update(dict.fromkeys(self.figure_names, math.nan))
            return
        progress = _evaluation_progress(self.verbose, self.params, epoch)
        images, labels = self.generate(progress)
        evaluation = self.evaluator.evaluate(images, labels, progress=progress)
        logs.update(evaluation.figures)
        value = evaluation.figures[self.monitor]
        is_best = self.improved(value)
        if is_best:
            self.best, self.best_epoch = value, epoch + 1
            progress.update("saving the best epoch")
            if self.directory is not None:
                self._save_best(evaluation)
            if self.export_dir is not None:
                self._export()
        progress.end(_figures_text(evaluation.figures) + (" (best so far)" if is_best else ""))

    def _save_best(self, evaluation):
        self.directory.mkdir(parents=True, exist_ok=True)
        weights, weights_tmp = self.directory / "best.weights.h5", self.directory / "best.tmp.weights.h5"
        record, record_tmp = self.directory / "best.json", self.directory / "best.json.tmp"
        self.model.save_weights(str(weights_tmp), overwrite=True)
        record_tmp.write_text(
            json.dumps(
                {"epoch": self.best_epoch, "monitor": self.monitor, "mode": self.mode, "value": self.best,
                 **evaluation.as_dict()},
                indent=2,
            )
        )
        # Weights first: a kill between the renames leaves better weights
        # under an older record, never a record naming weights not on disk.
        os.replace(weights_tmp, weights)
        os.replace(record_tmp, record)

    def _export(self):
        save_generator(self.model, self.export_dir, class_names=self.class_names)


class _PeriodicScores(keras.callbacks.Callback):
    """Adds ``self.evaluate(progress)``'s figures to the epoch logs every ``every``
    epochs and at the last; NaN for each of ``figure_names`` in between, which
    keeps History lists aligned (:class:`CSVLogger` writes empty cells,
    :class:`ProgbarLogger` leaves them out). Keras hands one ``logs`` dict to
    the callbacks in list order, so put it *before* ``CSVLogger``,
    ``TensorBoard`` or ``EarlyStopping``. ``verbose`` as :class:`EvaluateGAN`'s."""

    figure_names: list[str]
    every: int
    verbose: int | str

    def evaluate(self, progress: metrics.Progress | None = None) -> dict:
        raise NotImplementedError

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        if (epoch + 1) % self.every and epoch + 1 != self.params.get("epochs"):
            logs.update(dict.fromkeys(self.figure_names, math.nan))
            return
        progress = _evaluation_progress(self.verbose, self.params, epoch)
        figures = self.evaluate(progress)
        logs.update(figures)
        progress.end(_figures_text(figures))


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

    def evaluate(self, progress: metrics.Progress | None = None) -> dict:
        """The figures of the model's current translations; each batch is reported to ``progress``."""
        progress = progress or metrics.Progress()
        translations = np.concatenate([
            self.model.translate(self.inputs[start : start + self.batch_size], batch_size=self.batch_size)
            for start in progress.batches("translating", len(self.inputs), self.batch_size)
        ])
        progress.update("scoring")
        scores = metrics.paired_scores(translations, self.targets)
        return {f"{self.prefix}{name}": value for name, value in scores.items()}


class TranslationSamples(keras.callbacks.Callback):
    """Writes ``directory/epoch_NNN.png``: ``input | output | target`` rows for fixed examples.

    The same validation examples every epoch, translated without jitter, so
    progress is visible; the file names match :class:`SampleGrid`'s, so
    ``python -m tfgan_zoo.report`` shows them over epochs.
    """

    def __init__(self, inputs, targets, directory, every: int = 1, scale: int = 1):
        super().__init__()
        self.inputs, self.targets = np.asarray(inputs), np.asarray(targets)
        self.directory = Path(directory)
        self.every, self.scale = int(every), int(scale)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        sheet = triptych_sheet(self.inputs, self.model.translate(self.inputs), self.targets)
        save_image(self.directory / f"epoch_{epoch + 1:03d}.png", sheet, scale=self.scale)


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
    fixed validation images of A, then ``B | B→A | B→A→B`` of B."""

    def __init__(self, images_a, images_b, directory, every: int = 1):
        super().__init__()
        self.images_a, self.images_b = np.asarray(images_a), np.asarray(images_b)
        self.directory, self.every = Path(directory), int(every)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        rows = cycle_translations(self.model, self.images_a, self.images_b)
        sheet = np.concatenate([triptych_sheet(*rows["a"]), triptych_sheet(*rows["b"])], axis=0)
        save_image(self.directory / f"epoch_{epoch + 1:03d}.png", sheet)


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

    def evaluate(self, progress: metrics.Progress | None = None) -> dict:
        return self.evaluator.evaluate(
            lambda images: self.model.translate(images, "a_to_b", self.batch_size),
            lambda images: self.model.translate(images, "b_to_a", self.batch_size),
            progress=progress,
        )


class ProgbarLogger(keras.callbacks.ProgbarLogger):
    """Keras' progress bar without the figures an epoch did not measure.

    The periodic scorers (:class:`EvaluateGAN`, :class:`EvaluateTranslation`,
    :class:`EvaluateCycleGAN`) log NaN for their figures on epochs without an
    evaluation; printed, those would read as broken values (``domain_fid: nan``).
    This bar leaves out NaN values of keys the training batches did not log, so
    a NaN loss still shows. Put it in ``fit``'s callbacks after the scorers:
    Keras then adds no bar of its own, and this one follows ``fit``'s ``verbose``.
    """

    def __init__(self):
        super().__init__()
        self._batch_keys = set()

    def on_train_batch_end(self, batch, logs=None):
        self._batch_keys = set(logs or ())
        super().on_train_batch_end(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        shown = {key: value for key, value in (logs or {}).items() if key in self._batch_keys or not _is_nan(value)}
        super().on_epoch_end(epoch, shown)


class CSVLogger(keras.callbacks.Callback):
    """Streams the epoch logs to a CSV file: ``epoch`` (0-based, as Keras counts
    it), then the logged keys, sorted.

    Unlike ``keras.callbacks.CSVLogger``:

    * the columns are the logged keys only, with no empty ``val_`` twin of each
      key when the first epoch logs no validation figures;
    * NaN, which the periodic scorers log on epochs without an evaluation, is
      written as an empty cell, as is a key that an epoch did not log;
    * it always appends, under the file's header. Rows of the epochs a run
      starts by (re)doing are dropped first (a run killed between logging an
      epoch and checkpointing it redoes that epoch), as is a row cut short by a
      kill. A key the header lacks (e.g. a resumed run that now evaluates)
      rewrites the file with the widened header, earlier rows getting empty
      cells. Rewrites go through a temporary file: a kill leaves the old file
      or the new one, whole.

    Each row is on disk once its epoch ends (the file is closed after it).

    Args:
        filename: the CSV file; its folder is created if needed.
    """

    def __init__(self, filename: str | os.PathLike):
        super().__init__()
        self.path = Path(filename)
        self.columns: list[str] | None = None

    def on_train_begin(self, logs=None):
        # Read from the file at each fit's first row, when the epoch it resumes at is known.
        self.columns = None

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch, **{key: "" if _is_nan(value) else value for key, value in (logs or {}).items()}}
        if self.columns is None or not row.keys() <= set(self.columns):
            self._prepare_file(epoch, row)
        with self.path.open("a", newline="", encoding="utf-8") as handle:
            self._writer(handle).writerow(row)

    def _writer(self, handle) -> csv.DictWriter:
        return csv.DictWriter(handle, self.columns, restval="", lineterminator="\n")

    def _prepare_file(self, epoch: int, row: dict):
        """Sets the columns to the file's and ``row``'s keys, and rewrites the file
        unless it holds exactly those, whole rows only and none of ``epoch`` or later."""
        text = self.path.read_text(encoding="utf-8") if self.path.exists() else ""
        complete = text[: text.rfind("\n") + 1]
        header, *body = list(csv.reader(io.StringIO(complete))) or [[]]
        records = [dict(zip(header, values)) for values in body if values]
        kept = [record for record in records
                if not (record.get("epoch", "").isdigit() and int(record["epoch"]) >= epoch)]
        self.columns = ["epoch", *sorted((set(header) | row.keys()) - {"epoch"})]
        if (header, kept, complete) == (self.columns, records, text):
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        staging = self.path.with_name(self.path.name + ".tmp")
        with staging.open("w", newline="", encoding="utf-8") as handle:
            writer = self._writer(handle)
            writer.writeheader()
            writer.writerows(kept)
        os.replace(staging, self.path)
