"""One resumable training run into a run directory (layout: :mod:`tfgan_zoo.runs.directory`).

Running the same spec again resumes at the last finished epoch (read from
the checkpoint's own content, so a copied run directory resumes too); a run
directory holding a run of another identity is refused before anything in it
changes, naming every difference (the spec's ``force_resume`` continues
anyway and records the change). One process per run directory: a second one
stops, naming the holder. A failed write (full disk) ends the run with one
message naming the file and the last good checkpoint. docs/run_safety.md
lists the failure cases checked.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import tensorflow as tf

from tfgan_zoo import callbacks as gan_callbacks
from tfgan_zoo import distribute, options
from tfgan_zoo.diagnostics import HealthMonitor
from tfgan_zoo.experiment.hooks import Hooks
from tfgan_zoo.experiment.runtime import Phase, verbosity
from tfgan_zoo.presets import finetune
from tfgan_zoo.runs import RunDirectory, RunOptions, RunSpec, admit, describe_checkpoint, is_write_failure, run_config, write_failure
from tfgan_zoo.runs.identity import resume_callbacks


def run(model, dataset, spec: RunSpec, hooks: Hooks, callbacks=()) -> Path:
    """Trains ``model`` on ``dataset`` as ``spec`` says, into its run directory
    (resuming), then writes the artefacts of ``hooks``; returns the directory.
    ``callbacks`` are added to the run's own.

    The run directory is locked for the whole call (``RUN/.lock``): a second
    process on it stops at once, naming the first. A write that fails (full
    disk) ends the run with one message naming the file and the last good
    checkpoint (``SystemExit``); so does Ctrl-C, naming what the run was doing
    (the preparation, an epoch's training, evaluation or saving, the final
    artefacts, the export; see :class:`~tfgan_zoo.experiment.Phase`), with the lock released."""
    shared = RunDirectory(spec.run.out)
    # A non-chief worker writes (and locks) its own RUN/.workers/N, never the chief's RUN.
    here = shared.for_this_worker()
    with Phase(spec, "preparing the run"), here.lock():
        preset = finetune.starting_point(spec.run.from_preset) if spec.run.from_preset else None
        if preset is not None:
            # Before the run directory records anything: weights that do not fit stop the run there.
            # A resumed run's checkpoint replaces them when fit starts.
            finetune.start_from(model, preset)
        config = run_config(model, spec, hooks.class_names, changed=changed_settings(model, spec),
                            from_preset=finetune.identity(preset) if preset else None)
        changed = admit(here.path, config, force=spec.run.force_resume)
        callbacks = [*callbacks, *resume_callbacks(model, changed)]
        health = hooks.health(model, dataset, here)
        training = Phase(spec, "training")
        # The marks around the scorers name the evaluation, then the epoch's samples, logs and checkpoint.
        scoring = [training.mark("evaluating epoch {epoch}"), *hooks.scorers(model, spec, here),
                   training.mark("saving epoch {epoch} (samples, logs, checkpoint)")]
        samples = hooks.samples(model, spec, here)
        fit(model, dataset, spec, [*_run_callbacks(shared, here, health, scoring, samples), *callbacks], health,
            phase=training)
        try:
            with Phase(spec, "writing the final artefacts"):
                lines = hooks.finish(model, spec, here)
        except Exception as error:
            if not is_write_failure(error):
                raise
            raise write_failure(error, here.path, checkpoint=describe_checkpoint(shared.checkpoints)) from None
    print("\n  ".join([f"Run directory: {here.path}", f"samples: {here.samples}", *lines]))
    return here.path


def changed_settings(model, spec: RunSpec) -> dict:
    """``{name: [default, value]}`` for each option this run sets otherwise than its
    default: the front end's (``spec.defaults``: a command's recipe), else the
    family's as its signatures declare it, else the run options' own."""
    configured = {**model.get_config(), **model.get_compile_config()}
    family = {option.name: option.default for option in options.family_options(type(model))}
    values = {**spec.run.as_dict(), **spec.extra, **spec.data,
              **{name: configured[name] for name in family if name in configured}}
    defaults = {**{field.name: field.default for field in dataclasses.fields(RunOptions)
                   if field.default is not dataclasses.MISSING}, **family, **spec.defaults}
    return {name: [defaults[name], value] for name, value in sorted(values.items())
            if name in defaults and name not in _MACHINE_SETTINGS and value != defaults[name]}


# Where this machine keeps things, and how chatty the console is: not how the run trains.
_MACHINE_SETTINGS = ("out", "cache_dir", "data_dir", "verbose")


def fit(model, dataset, spec: RunSpec, callbacks: list, health: HealthMonitor, phase: Phase | None = None):
    """``model.fit`` for the spec's epochs and steps, turning a failed write and a
    diverged run into one message each, and Ctrl-C into
    :class:`~tfgan_zoo.commands.Interrupted` naming what it stopped: ``phase``,
    whose marks are among the callbacks (default: one naming the training alone)."""
    shared = RunDirectory(spec.run.out)
    shared.for_this_worker().logs.mkdir(parents=True, exist_ok=True)
    steps = spec.run.steps_per_epoch
    if steps and dataset.cardinality() != tf.data.INFINITE_CARDINALITY:
        # fit keeps one iterator across epochs when steps_per_epoch is given: a finite one would run dry.
        dataset = dataset.repeat()
    try:
        with phase or Phase(spec, "training"):
            model.fit(dataset, epochs=spec.run.epochs, steps_per_epoch=steps, callbacks=callbacks,
                      verbose=verbosity(spec), shuffle=False)  # the dataset shuffles
    except Exception as error:
        if not is_write_failure(error):
            raise
        # One message instead of a traceback: which file, and where training can resume from.
        raise write_failure(error, shared.path, checkpoint=describe_checkpoint(shared.checkpoints)) from None
    if health.stopped_at is not None:
        raise SystemExit(f"Training diverged (non-finite loss); the last good checkpoint is in {shared.checkpoints}.")


def _run_callbacks(shared: RunDirectory, here: RunDirectory, health: HealthMonitor, scoring: list, samples) -> list:
    """What every run logs and keeps, in the order that matters: health and
    scores first (they add to the epoch logs), then samples and loggers, and
    the backup last: once a checkpoint says an epoch is done, its samples and
    log rows are on disk (a kill just before the backup redoes that epoch).
    The progress bar is this package's, which Keras then does not add: it
    leaves out the figures of epochs without an evaluation (NaN in the logs)."""
    return [
        health,
        *scoring,
        samples,
        gan_callbacks.CSVLogger(here.training_log),
        # Drops the events of epochs being redone after a kill: each step shows once.
        gan_callbacks.TensorBoard(here.tensorboard, write_graph=False, samples=samples.sheet),
        gan_callbacks.ProgbarLogger(),
        # Every worker resumes from the chief's backup; only the chief writes it.
        gan_callbacks.SafeBackupAndRestore(shared.checkpoints, read_only=not distribute.is_chief()),
    ]
