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

from tfgan_zoo import metrics, rundir
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
        path = self.directory / f"epoch_{epoch + 1:03d}.png"
        with rundir.writing(path):
            save_image(path, grid, scale=self.scale)


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


# Where a checkpoint says which epoch it holds: inside the weights file itself, so
# that a copy of the run directory (cp -r, rsync, tar: new file times) resumes
# exactly where the original would. training_metadata.json mirrors it for people.
EPOCH_ATTR = "tfgan_zoo_epoch"
BATCH_ATTR = "tfgan_zoo_batch"
STEPS_ATTR = "tfgan_zoo_steps"
_TMP_MARK = ".tmp"
BEST_RECORD_ATTR = "tfgan_zoo_best"


def weights_bytes(model, attrs: dict) -> bytes:
    """``model.save_weights``'s ``.weights.h5`` content, with ``attrs`` on its root, built in memory.

    h5py writing a file that the disk cannot hold fails inside its deallocators:
    a flood of ignored tracebacks, then a segfault. Built in memory, the file
    reaches the disk through one plain write, whose failure is an ``OSError``."""
    import h5py

    try:
        from keras.src.saving import saving_lib

        buffer = io.BytesIO()
        store = saving_lib.H5IOStore(buffer, mode="w")
        saving_lib._save_state(model, weights_store=store, assets_store=None, inner_path="", visited_saveables=set())
        store.close()
    except (ImportError, AttributeError, TypeError):
        # A Keras without these internals: its public save through a scratch file in memory-backed /dev/shm.
        import tempfile

        with tempfile.TemporaryDirectory(dir="/dev/shm" if os.path.isdir("/dev/shm") else None) as scratch:
            path = os.path.join(scratch, "model.weights.h5")
            model.save_weights(path)
            with open(path, "rb") as handle:
                buffer = io.BytesIO(handle.read())
    with h5py.File(buffer, "r+") as handle:
        for key, value in attrs.items():
            handle.attrs[key] = value
    return buffer.getvalue()


def _remove_quietly(*paths) -> None:
    for path in paths:
        try:
            os.remove(path)
        except OSError:
            pass


def remove_stale_temporaries(directory, pattern: str = "*" + _TMP_MARK + "*") -> list[Path]:
    """Deletes the temporary files a killed write left in ``directory`` (never
    renamed into place, so never read); returns them."""
    directory = Path(directory)
    stale = [path for path in directory.glob(pattern) if path.is_file()] if directory.is_dir() else []
    _remove_quietly(*stale)
    return stale


def _optimizer_steps(model) -> dict:
    """``{"g_optimizer": iterations, "d_optimizer": iterations}`` (or ``{"optimizer": ...}``)."""
    names = [name for name in ("g_optimizer", "d_optimizer") if getattr(model, name, None) is not None]
    steps = {}
    for name in names or ["optimizer"]:
        optimizer = getattr(model, name, None)
        if optimizer is not None and hasattr(optimizer, "iterations"):
            steps[name] = int(keras.ops.convert_to_numpy(optimizer.iterations))
    return steps


def read_checkpoint(backup_dir) -> dict | None:
    """What the checkpoint in ``backup_dir`` holds, read from the weights file:
    ``{"path", "epoch" (epochs finished), "batch", "steps" (optimizer iterations)}``;
    None without a checkpoint, ``epoch`` None for one written before this
    information was stored in the file."""
    path = Path(backup_dir) / "latest.weights.h5"
    if not path.is_file():
        return None
    import h5py

    with h5py.File(path, "r") as handle:
        attrs = dict(handle.attrs)
    steps = attrs.get(STEPS_ATTR)
    return {
        "path": str(path),
        "epoch": int(attrs[EPOCH_ATTR]) if EPOCH_ATTR in attrs else None,
        "batch": int(attrs.get(BATCH_ATTR, 0)),
        "steps": json.loads(steps) if steps is not None else None,
    }


def describe_checkpoint(backup_dir) -> str | None:
    """``"PATH (N epochs finished)"`` of the checkpoint in ``backup_dir``, or None."""
    try:
        state = read_checkpoint(backup_dir)
    except Exception:  # an unreadable file is no good checkpoint to point at
        return None
    if state is None:
        return None
    return state["path"] + ("" if state["epoch"] is None else f" (after epoch {state['epoch']})")


class CheckpointError(RuntimeError):
    """A run's checkpoint exists but cannot be read; the message says how to go on."""


class SafeBackupAndRestore(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` that never overwrites a good backup with a non-finite epoch.

    Backs up at each epoch end (weights, both optimizers' states, epoch), so a
    run interrupted by Ctrl-C or kill -9 resumes at the last finished epoch.
    The epoch (and the batch and optimizer steps) is stored inside the weights
    file (HDF5 attributes :data:`EPOCH_ATTR`, ...), so the resume position
    comes from the checkpoint's content alone: a copy of the run directory
    resumes exactly. ``training_metadata.json`` repeats it for people and tools.
    Files are written under temporary names (``*.tmp*``) and renamed into
    place, weights first: the rename of the weights is the moment an epoch
    counts as saved, and a kill at any point leaves a whole checkpoint.
    Restoring deletes the temporary files a killed save left behind.

    A failed write (full disk) raises :class:`tfgan_zoo.rundir.WriteFailed`
    naming the file; the previous checkpoint stays whole.

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

    def _metadata(self, epoch: int, batch: int, steps: dict) -> dict:
        return {"epoch": epoch, "batch": batch, "steps": steps}

    def _write_metadata(self, metadata: dict) -> None:
        rundir.replace_durably(self._training_metadata_path, json.dumps(metadata).encode(),
                               self._training_metadata_path + _TMP_MARK)

    def _save_model(self):
        if self.read_only:
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        weights_tmp = self._weights_path.replace(".weights.h5", _TMP_MARK + ".weights.h5")
        steps = _optimizer_steps(self.model)
        data = weights_bytes(self.model, {EPOCH_ATTR: self._current_epoch, BATCH_ATTR: self._last_batch_seen,
                                          STEPS_ATTR: json.dumps(steps)})
        rundir.replace_durably(self._weights_path, data, weights_tmp)
        self._write_metadata(self._metadata(self._current_epoch, self._last_batch_seen, steps))

    def _load_model(self):
        if not self.read_only:
            remove_stale_temporaries(self.backup_dir)
        try:
            super()._load_model()
        except OSError as error:  # h5py: a truncated, emptied or overwritten file
            raise CheckpointError(
                f"The checkpoint {self._weights_path} cannot be read ({error}). It was damaged outside "
                "training (checkpoints are written to a temporary file and renamed into place). Put back "
                "a good copy of it, or move the checkpoints folder away to start the run from its first epoch."
            ) from error
        try:
            state = read_checkpoint(self.backup_dir)
        except OSError:
            return
        if state is None:
            return
        try:
            with open(self._training_metadata_path) as handle:
                recorded = json.load(handle)
        except (OSError, ValueError):
            recorded = None
        if state["epoch"] is None:
            # Weights saved without their epoch (by hand, or by an older version):
            # their optimizer steps, compared with those the metadata recorded,
            # tell whether they are the next epoch's, saved just before a kill.
            if recorded and recorded.get("steps") not in (None, _optimizer_steps(self.model)):
                self.model._initial_epoch = recorded["epoch"] + 1
            return
        self.model._initial_epoch = state["epoch"]
        if self.read_only:
            return
        current = self._metadata(state["epoch"], state["batch"], _optimizer_steps(self.model))
        if recorded != current:
            # A kill between the two renames left the metadata one epoch behind.
            self._write_metadata(current)


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
        rundir.replace_durably(self.directory / "best.json", json.dumps(record, indent=2).encode(),
                               self.directory / f"best.json{_TMP_MARK}")

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
        weights, weights_tmp = self.directory / "best.weights.h5", self.directory / f"best{_TMP_MARK}.weights.h5"
        record = {"epoch": self.best_epoch, "monitor": self.monitor, "mode": self.mode, "value": self.best,
                  **evaluation.as_dict()}
        record = json.loads(json.dumps(record))  # as read back, so that records compare equal
        # The weights' rename is the commit: they carry their record, and
        # best.json (for people and tools) follows; see _saved_best.
        rundir.replace_durably(weights, weights_bytes(self.model, {BEST_RECORD_ATTR: json.dumps(record)}), weights_tmp)
        self._write_record(record)

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
        path = self.directory / f"epoch_{epoch + 1:03d}.png"
        with rundir.writing(path):
            save_image(path, sheet, scale=self.scale)


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
        path = self.directory / f"epoch_{epoch + 1:03d}.png"
        with rundir.writing(path):
            save_image(path, sheet)


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


class TensorBoard(keras.callbacks.TensorBoard):
    """Keras' TensorBoard callback whose logs show each epoch once across resumes.

    A run killed after logging an epoch but before checkpointing it redoes that
    epoch, which would log its step twice (TensorBoard then draws a loop back in
    the curve). As the first epoch of a ``fit`` begins, when
    :class:`SafeBackupAndRestore` has set where it resumes, the events of that
    step and later are removed from the event files already in ``log_dir`` (each
    file rewritten through a temporary file and renamed, while TensorBoard
    itself may be reading). This assumes summaries stepped by epoch (the
    default ``update_freq="epoch"``); batch-stepped ones are left as they are.
    Each epoch's events are flushed as it ends, before the checkpoint, so a
    kill loses none of a saved epoch.
    """

    _PURGE_SUFFIX = ".purge.tmp"  # no "tfevents" in it: TensorBoard must not read a half-written copy

    def __init__(self, log_dir="logs", **kwargs):
        super().__init__(log_dir=str(log_dir), **kwargs)
        self._earlier_files: list[Path] = []

    def on_train_begin(self, logs=None):
        for stale in Path(self.log_dir).rglob("*" + self._PURGE_SUFFIX):
            _remove_quietly(stale)
        # Listed before this fit opens its writers: their files must stay the ones they write to.
        self._earlier_files = sorted(
            path for path in Path(self.log_dir).rglob("*tfevents*") if not path.name.endswith(self._PURGE_SUFFIX)
        )
        super().on_train_begin(logs)

    def on_epoch_begin(self, epoch, logs=None):
        if self._earlier_files and self.update_freq == "epoch":
            for path in self._earlier_files:
                purge_events(path, epoch)
        self._earlier_files = []
        super().on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        # On disk before the checkpoint says the epoch is done: the writers' own
        # flush (every 2 minutes) would let a kill lose epochs that are not redone.
        for writer in getattr(self, "_writers", {}).values():
            writer.flush()


def purge_events(path, step: int) -> int:
    """Removes the summaries of ``step`` and later from the event file ``path``
    (a record cut short by a kill goes too); returns how many events went.
    Leaves the file untouched when there is nothing to remove, so the file a
    live writer appends to is never replaced."""
    import tensorflow as tf

    path = Path(path)
    if not path.is_file():
        return 0
    kept, dropped, torn = [], 0, False
    try:
        for record in tf.data.TFRecordDataset(str(path)).as_numpy_iterator():
            event = tf.compat.v1.Event.FromString(record)
            if event.HasField("summary") and event.step >= step:
                dropped += 1
            else:
                kept.append(record)
    except (tf.errors.DataLossError, tf.errors.OutOfRangeError):
        torn = True
    if not dropped and not torn:
        return 0
    staging = path.with_name(f".{os.getpid()}" + TensorBoard._PURGE_SUFFIX)
    try:
        with rundir.writing(path):
            with tf.io.TFRecordWriter(str(staging)) as writer:
                for record in kept:
                    writer.write(record)
        os.replace(staging, path)
    except BaseException:
        _remove_quietly(staging)
        raise
    return dropped


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

    Each row is on disk once its epoch ends (the file is closed after it). The
    rows of redone epochs go as the first epoch of a ``fit`` begins (once
    :class:`SafeBackupAndRestore` has set where it resumes), so the file holds
    each epoch once from then on; a stale ``.tmp`` of a killed rewrite is deleted.

    Args:
        filename: the CSV file; its folder is created if needed.
    """

    def __init__(self, filename: str | os.PathLike):
        super().__init__()
        self.path = Path(filename)
        self.columns: list[str] | None = None

    def on_train_begin(self, logs=None):
        # Read from the file at each fit's first epoch, when the epoch it resumes at is known.
        self.columns = None
        _remove_quietly(self._staging)

    @property
    def _staging(self) -> Path:
        return self.path.with_name(self.path.name + _TMP_MARK)

    def on_epoch_begin(self, epoch, logs=None):
        if self.columns is None:
            self._prepare_file(epoch, {"epoch": epoch})

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch, **{key: "" if _is_nan(value) else value for key, value in (logs or {}).items()}}
        if self.columns is None or not row.keys() <= set(self.columns):
            self._prepare_file(epoch, row)
        with rundir.writing(self.path), self.path.open("a", newline="", encoding="utf-8") as handle:
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
        staging = self._staging
        try:
            with rundir.writing(self.path), staging.open("w", newline="", encoding="utf-8") as handle:
                writer = self._writer(handle)
                writer.writeheader()
                writer.writerows(kept)
            os.replace(staging, self.path)
        except BaseException:
            _remove_quietly(staging)
            raise
