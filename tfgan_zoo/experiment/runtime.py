"""Turning a :class:`~tfgan_zoo.runs.RunSpec` into a running set-up: the
strategy, seeds and dtype policy, the compiled model, and a script's ``main``
that ends a user-fixable problem with its message instead of a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import keras
import tensorflow as tf

from tfgan_zoo import distribute
from tfgan_zoo.data import DataError, DataNotFoundError, ImageReadError
from tfgan_zoo.runs import CheckpointError, RunSpec
from tfgan_zoo.runs.ownership import NotOurs


def main(script_main: Callable[[], object]) -> None:
    """Runs an experiment script's ``main``. A problem the user can fix in their data
    or run directory (missing, unreadable or inconsistent files, a damaged
    checkpoint) ends it with that one message, not a traceback: the message already
    names the files and the fix. So does a folder the run would write into that
    holds what tfgan_zoo did not write (a ``--pairs-dir`` of the user's pictures)."""
    try:
        script_main()
    except (DataNotFoundError, DataError, ImageReadError, CheckpointError, NotOurs) as error:
        raise SystemExit(f"error: {error}") from None


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
