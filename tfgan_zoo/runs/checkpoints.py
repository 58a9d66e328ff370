"""The checkpoint format of a run directory, and the callback that writes and restores it.

``RUN/checkpoints/latest.weights.h5`` holds the weights and both optimizers'
states, and carries its own resume position as HDF5 attributes
(:data:`EPOCH_ATTR`, :data:`BATCH_ATTR`, :data:`STEPS_ATTR`), so that a copy of
the run directory resumes exactly; ``training_metadata.json`` repeats them for
people. Files reach the disk through temporary names (``*.tmp*``) renamed into
place (:func:`tfgan_zoo.runs.writes.replace_durably`).
"""

from __future__ import annotations

import io
import json
import math
import os
from pathlib import Path

import keras
import numpy as np

from tfgan_zoo.runs import writes


def all_finite(logs) -> bool:
    """Whether every number in ``logs`` is finite (an epoch with a NaN/inf step is not)."""
    return all(
        math.isfinite(float(value))
        for value in (logs or {}).values()
        if isinstance(value, (int, float, np.floating, np.integer))
    )


# Where a checkpoint says which epoch it holds: inside the weights file itself, so
# that a copy of the run directory (cp -r, rsync, tar: new file times) resumes
# exactly where the original would. training_metadata.json mirrors it for people.
EPOCH_ATTR = "tfgan_zoo_epoch"
BATCH_ATTR = "tfgan_zoo_batch"
STEPS_ATTR = "tfgan_zoo_steps"
TMP_MARK = ".tmp"
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


def remove_quietly(*paths) -> None:
    for path in paths:
        try:
            os.remove(path)
        except OSError:
            pass


def remove_stale_temporaries(directory, pattern: str = "*" + TMP_MARK + "*") -> list[Path]:
    """Deletes the temporary files a killed write left in ``directory`` (never
    renamed into place, so never read); returns them."""
    directory = Path(directory)
    stale = [path for path in directory.glob(pattern) if path.is_file()] if directory.is_dir() else []
    remove_quietly(*stale)
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

    A failed write (full disk) raises :class:`tfgan_zoo.writes.WriteFailed`
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
        if all_finite(logs):
            super().on_epoch_end(epoch, logs)

    def _metadata(self, epoch: int, batch: int, steps: dict) -> dict:
        return {"epoch": epoch, "batch": batch, "steps": steps}

    def _write_metadata(self, metadata: dict) -> None:
        writes.replace_durably(self._training_metadata_path, json.dumps(metadata).encode(),
                               self._training_metadata_path + TMP_MARK)

    def _save_model(self):
        if self.read_only:
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        weights_tmp = self._weights_path.replace(".weights.h5", TMP_MARK + ".weights.h5")
        steps = _optimizer_steps(self.model)
        data = weights_bytes(self.model, {EPOCH_ATTR: self._current_epoch, BATCH_ATTR: self._last_batch_seen,
                                          STEPS_ATTR: json.dumps(steps)})
        writes.replace_durably(self._weights_path, data, weights_tmp)
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
