"""Keras callbacks for GAN runs: sample sheets, safe checkpoints, non-finite stops."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import keras
import numpy as np

from tfgan_zoo.data.pipeline import to_uint8
from tfgan_zoo.visualize import make_grid, save_image


def _all_finite(logs) -> bool:
    return all(
        math.isfinite(float(value))
        for value in (logs or {}).values()
        if isinstance(value, (int, float, np.floating, np.integer))
    )


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
        gan = self.model
        rng = np.random.default_rng(self.seed)
        num_classes = int(getattr(gan, "num_classes", 0) or 0)
        if num_classes:
            column_noise = rng.standard_normal((self.columns, gan.latent_dim)).astype("float32")
            noise = np.tile(column_noise, (num_classes, 1))
            labels = np.repeat(np.arange(num_classes, dtype="int32"), self.columns)
            images = gan.generate(noise, labels)
        else:
            noise = rng.standard_normal((self.rows * self.columns, gan.latent_dim)).astype("float32")
            images = gan.generate(noise)
        return np.asarray(to_uint8(images))

    def grid_rows(self) -> int:
        return int(getattr(self.model, "num_classes", 0) or 0) or self.rows

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
    """

    def __init__(self, backup_dir, **kwargs):
        kwargs.setdefault("delete_checkpoint", False)
        super().__init__(str(backup_dir), **kwargs)

    def on_epoch_end(self, epoch, logs=None):
        # An epoch whose running means are non-finite had a NaN/inf step.
        if _all_finite(logs):
            super().on_epoch_end(epoch, logs)

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        weights_tmp = self._weights_path.replace(".weights.h5", ".tmp.weights.h5")
        metadata_tmp = self._training_metadata_path + ".tmp"
        self.model.save_weights(weights_tmp, overwrite=True)
        with open(metadata_tmp, "w") as handle:
            json.dump({"epoch": self._current_epoch, "batch": self._last_batch_seen}, handle)
        # Weights first: a kill between the two renames repeats one epoch at worst.
        os.replace(weights_tmp, self._weights_path)
        os.replace(metadata_tmp, self._training_metadata_path)
