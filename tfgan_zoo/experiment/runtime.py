"""Turning a :class:`~tfgan_zoo.runs.RunSpec` into a running set-up: the
strategy, seeds and dtype policy, the compiled model, the phases a Ctrl-C
names, and a script's ``main`` that ends every failure with one message."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import keras
import tensorflow as tf

from tfgan_zoo import commands, distribute
from tfgan_zoo.data import DataError, DataNotFoundError, ImageReadError
from tfgan_zoo.runs import CheckpointError, RunDirectory, RunSpec, describe_checkpoint
from tfgan_zoo.runs.ownership import NotOurs

# The package's errors about the user's data, run directory or folders: their
# whole message is for the user, the fix often on its later lines.
_EXPLAINED = (DataNotFoundError, DataError, ImageReadError, CheckpointError, NotOurs)


def main(script_main: Callable[[], object]) -> None:
    """Runs an experiment script's ``main`` (which parses ``sys.argv``) as every
    command of the package runs (:func:`tfgan_zoo.commands.command_main`): a
    failure ends with one message naming the file or option and the fix, exit
    status 1 (usage errors 2), no traceback (``TFGAN_ZOO_TRACEBACK=1`` shows
    it). A problem in the user's data or run directory (missing, unreadable or
    inconsistent files, a damaged checkpoint, a folder holding what tfgan_zoo
    did not write) is shown with its whole message. Ctrl-C names the
    :class:`Phase` it stopped, what was kept and that the same command resumes."""
    commands.command_main(lambda argv: script_main(), explained=_EXPLAINED)(None)


class Phase:
    """What an experiment is doing, named by the message of a Ctrl-C during it.

    ``with Phase(spec, "loading the data"): ...`` turns a KeyboardInterrupt in
    the block, once the ``finally`` blocks below it have removed what they were
    writing (export staging folders, half-written caches), into
    :class:`~tfgan_zoo.commands.Interrupted`: the phase, the checkpoint kept in
    the run directory and that the same command resumes. Phases nest; the
    innermost names the interrupt. ``doing`` may change while the block runs:
    :meth:`mark` makes the callbacks that follow the training's steps.
    """

    def __init__(self, spec: RunSpec, doing: str):
        self.spec, self.doing = spec, doing

    def __enter__(self) -> Phase:
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        if isinstance(error, KeyboardInterrupt) and not isinstance(error, commands.Interrupted):
            raise commands.Interrupted(interrupted(self.spec, self.doing)) from None
        return False

    def mark(self, at_epoch_end: str) -> keras.callbacks.Callback:
        """A callback setting :attr:`doing` to "training epoch N" as each epoch
        starts and to ``at_epoch_end`` (formatted with ``epoch``, from 1) at its
        place among the callbacks at the epoch's end: put it before those it names."""
        return _Mark(self, at_epoch_end)


class _Mark(keras.callbacks.Callback):
    def __init__(self, phase: Phase, at_epoch_end: str):
        super().__init__()
        self.phase, self.at_epoch_end = phase, at_epoch_end

    def on_epoch_begin(self, epoch, logs=None):
        self.phase.doing = f"training epoch {epoch + 1}"

    def on_epoch_end(self, epoch, logs=None):
        self.phase.doing = self.at_epoch_end.format(epoch=epoch + 1)


def loading(spec: RunSpec) -> Phase:
    """``with loading(spec): ...`` around a script's own reading of its data (see :class:`Phase`)."""
    return Phase(spec, "loading the data")


def interrupted(spec: RunSpec, doing: str) -> str:
    """The message of a Ctrl-C while ``doing``: what the run directory keeps, and how to go on."""
    checkpoints = RunDirectory(spec.run.out).checkpoints
    checkpoint = describe_checkpoint(checkpoints)
    kept = f"The checkpoint {checkpoint} is kept" if checkpoint else f"There is no checkpoint in {checkpoints} yet"
    # On a line of its own: Ctrl-C often lands in the middle of a progress line.
    return (f"\nInterrupted (Ctrl-C) while {doing}. {kept}, and nothing half-written is left. "
            "Run the same command again to resume.")


def _cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def default_precision() -> str:
    """The faster dtype policy for this machine (figures in BENCHMARKS.md).

    GPU: mixed_bfloat16 from compute capability 8.0 (Ampere) on, else
    mixed_float16. CPU: mixed_bfloat16 where the CPU has bf16 instructions
    (about 1.25x faster for DCGAN here), else float32 (float16 on CPU is
    several times slower).
    """
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability", (0, 0))
        return "mixed_bfloat16" if tuple(capability) >= (8, 0) else "mixed_float16"
    return "mixed_bfloat16" if _cpu_has_bf16() else "float32"


def configure(spec: RunSpec) -> tf.distribute.Strategy:
    """The spec's strategy (created first, as multi-worker needs), then seeds and
    the dtype policy. Build models inside its ``scope()``."""
    with Phase(spec, "setting up the devices"):
        strategy = distribute.make_strategy(spec.run.strategy)
        keras.utils.set_random_seed(spec.run.seed)
        precision = default_precision() if spec.run.precision == "auto" else spec.run.precision
        keras.mixed_precision.set_dtype_policy(precision)
    return strategy


def build(family: type, spec: RunSpec, *, learning_rate=None, **data_options):
    """A compiled ``family`` model from the spec: its constructor and compile
    options (``data_options`` for those the data sets, e.g. ``image_shape``),
    ``Adam(learning_rate, beta_1=0.5)`` for G and D (the spec's ``lr`` by
    default; a schedule works too) and the spec's ``jit_compile``."""
    with Phase(spec, "building the model"):
        model = family(**{**spec.model, **data_options})
        rate = spec.run.lr if learning_rate is None else learning_rate
        model.compile(
            g_optimizer=keras.optimizers.Adam(rate, beta_1=0.5), d_optimizer=keras.optimizers.Adam(rate, beta_1=0.5),
            jit_compile={"auto": "auto", "on": True, "off": False}[spec.run.jit_compile], **spec.compile,
        )
    return model


def linear_decay(spec: RunSpec, steps_per_epoch: int):
    """The CycleGAN paper's schedule: the spec's ``lr`` for the first ``epochs -
    decay_epochs`` epochs, then linearly down to 0 at the last step
    (``decay_epochs``, a script option: default half of the epochs)."""
    from tfgan_zoo.schedules import LinearDecay

    epochs = spec.run.epochs
    decay_epochs = spec.extra.get("decay_epochs")
    decay_epochs = max(1, epochs // 2) if decay_epochs is None else decay_epochs
    if not 0 < decay_epochs <= epochs:
        raise SystemExit(f"--decay-epochs must be between 1 and --epochs ({epochs}), got {decay_epochs}.")
    return LinearDecay.from_epochs(spec.run.lr, epochs - decay_epochs, decay_epochs, steps_per_epoch)


def verbosity(spec: RunSpec) -> int:
    """The spec's ``verbose``, else 1 on a terminal (live progress) and 2 otherwise (a line per epoch, for logs)."""
    return spec.run.verbose if spec.run.verbose is not None else (1 if sys.stdout.isatty() else 2)
