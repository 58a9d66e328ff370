"""A run's logs: the CSV of epoch figures, TensorBoard events and the console bar,
each showing every epoch once across kills and resumes, and epochs without an
evaluation as they are (no figures), not as NaN."""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

from collections.abc import Callable

import keras
import numpy as np

from tfgan_zoo.runs import writes
from tfgan_zoo.models.base import Sampling
from tfgan_zoo.runs.checkpoints import TMP_MARK, remove_quietly
from tfgan_zoo.visualize import sample_sheet


def is_nan(value) -> bool:
    return isinstance(value, (float, np.floating)) and math.isnan(value)


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
        shown = {key: value for key, value in (logs or {}).items() if key in self._batch_keys or not is_nan(value)}
        super().on_epoch_end(epoch, shown)


class TensorBoard(keras.callbacks.TensorBoard):
    """Keras' TensorBoard callback with sample images, whose logs show each epoch
    once across resumes.

    Each epoch's sample sheet is written as the image ``samples`` (the Images
    tab), at the epoch's step: ``samples`` is a callable returning it, uint8
    ``[H, W, C]`` (the ``sheet`` method of a :class:`~tfgan_zoo.callbacks.SampleGrid`,
    :class:`~tfgan_zoo.callbacks.TranslationSamples` or
    :class:`~tfgan_zoo.callbacks.CycleSamples` in the same ``fit``). Without
    it, a noise-to-image model's own sheet from fixed noise
    (:func:`tfgan_zoo.visualize.sample_sheet`) is written; a translator, which
    has no images of its own to translate, then writes none.

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

    def __init__(self, log_dir="logs", samples: Callable[[], np.ndarray] | None = None, **kwargs):
        super().__init__(log_dir=str(log_dir), **kwargs)
        self.samples = samples
        self._earlier_files: list[Path] = []

    def on_train_begin(self, logs=None):
        for stale in Path(self.log_dir).rglob("*" + self._PURGE_SUFFIX):
            remove_quietly(stale)
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
        sheet = self._sample_sheet()
        if sheet is not None:
            with self._train_writer.as_default():
                self.summary.image("samples", sheet[None], step=epoch)
        # On disk before the checkpoint says the epoch is done: the writers' own
        # flush (every 2 minutes) would let a kill lose epochs that are not redone.
        for writer in getattr(self, "_writers", {}).values():
            writer.flush()

    def _sample_sheet(self) -> np.ndarray | None:
        if self.samples is not None:
            return self.samples()
        if isinstance(self.model, Sampling):
            return sample_sheet(self.model)
        return None


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
        with writes.writing(path):
            with tf.io.TFRecordWriter(str(staging)) as writer:
                for record in kept:
                    writer.write(record)
        os.replace(staging, path)
    except BaseException:
        remove_quietly(staging)
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
        remove_quietly(self._staging)

    @property
    def _staging(self) -> Path:
        return self.path.with_name(self.path.name + TMP_MARK)

    def on_epoch_begin(self, epoch, logs=None):
        if self.columns is None:
            self._prepare_file(epoch, {"epoch": epoch})

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch, **{key: "" if is_nan(value) else value for key, value in (logs or {}).items()}}
        if self.columns is None or not row.keys() <= set(self.columns):
            self._prepare_file(epoch, row)
        with writes.writing(self.path), self.path.open("a", newline="", encoding="utf-8") as handle:
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
            with writes.writing(self.path), staging.open("w", newline="", encoding="utf-8") as handle:
                writer = self._writer(handle)
                writer.writeheader()
                writer.writerows(kept)
            os.replace(staging, self.path)
        except BaseException:
            remove_quietly(staging)
            raise
