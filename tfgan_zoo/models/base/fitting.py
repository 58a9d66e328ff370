"""What ``fit`` and ``evaluate`` add for a GAN: the first batch of any input checked
eagerly against the input contract, Keras arguments a GAN has no use for
refused by name, and ``keras.callbacks.TerminateOnNaN`` reading every figure."""

from __future__ import annotations

import itertools
import math
import types

import keras
import numpy as np
import tensorflow as tf

# Keras' own dispatch on what fit accepts: the first batch taken here is the one train_step gets.
from keras.src.trainers.data_adapters import data_adapter_utils, get_data_adapter

# Keras arguments that a GAN would silently ignore, and why (with what to do instead).
UNUSED_FIT_ARGUMENTS = {
    "sample_weight": "a GAN's losses weigh every example alike; repeat or drop examples in the data instead",
    "class_weight": "a GAN's losses weigh every example alike; resample the classes in the data instead "
                    "(e.g. tf.data.Dataset.sample_from_datasets)",
}
UNUSED_COMPILE_ARGUMENTS = {
    "metrics": "a GAN logs the figures its family declares (model.logged_metrics()); score samples with "
               "tfgan_zoo.callbacks.EvaluateGAN or EvaluateTranslation",
    "weighted_metrics": "a GAN logs the figures its family declares (model.logged_metrics())",
    "loss_weights": "weigh a family's loss terms with its own options (e.g. l1_weight, cycle_weight)",
    "optimizer": "use g_optimizer= and d_optimizer=: a GAN has one optimizer per player",
}


def refuse_unused(arguments: dict, unused: dict, method: str, family: str):
    """A ValueError naming the first of ``arguments`` (given, not None) that ``unused`` lists, with its reason."""
    for name, reason in unused.items():
        if arguments.get(name) is not None:
            raise ValueError(f"{family}.{method}({name}=...) is not supported: {reason}.")


def first_batch(x, y=None, batch_size: int | None = None, strategy: tf.distribute.Strategy | None = None):
    """``(batch, x)``: the first batch that ``fit``/``evaluate`` hands the step for
    the input ``x`` (and ``y``) — None for an empty input — and ``x`` to pass on
    (a generator's first item is read and put back in front). Of a distributed
    dataset, the first replica's part (``strategy``: the model's)."""
    if isinstance(x, tf.data.Dataset):
        return next(iter(x.take(1)), None), x
    if isinstance(x, tf.distribute.DistributedDataset):
        batch = next(iter(x), None)
        if batch is None:
            return None, x
        return tf.nest.map_structure(lambda value: strategy.experimental_local_results(value)[0], batch), x
    if isinstance(x, keras.utils.PyDataset):
        return x[0], x
    if isinstance(x, types.GeneratorType):
        first = next(x, None)
        if first is None:
            return None, x
        return first, (item for item in itertools.chain([first], x))
    adapter = get_data_adapter(x, y, batch_size=batch_size, shuffle=False)
    return next(iter(adapter.get_numpy_iterator()), None), x


def validation_parts(validation_data):
    """``(x, y)`` of ``fit``'s ``validation_data`` as Keras reads it (sample weights refused)."""
    if isinstance(validation_data, tuple):
        x, y, sample_weight = data_adapter_utils.unpack_x_y_sample_weight(validation_data)
        if sample_weight is not None:
            raise ValueError(
                f"validation_data=(x, y, sample_weight) is not supported: "
                f"{UNUSED_FIT_ARGUMENTS['sample_weight']}."
            )
        return x, y
    return validation_data, None


class TerminateOnNaNReadsEveryFigure(keras.callbacks.Callback):
    """Lets a ``keras.callbacks.TerminateOnNaN`` stop a GAN whose figures turn non-finite.

    TerminateOnNaN reads only ``logs["loss"]``, which a GAN does not log: it has
    no single loss. Logging one (say G's, or a sum of both players') would be
    read by EarlyStopping, ModelCheckpoint and ReduceLROnPlateau too, whose
    default monitor is ``val_loss``, and make them act on a figure that means
    nothing for a GAN. So ``fit`` puts this wrapper in its place: at each batch
    end the wrapped callback sees ``loss`` as the first non-finite figure (else
    a finite one) and stops (or raises, with ``raise_error``) as it does for
    any Keras model. :class:`tfgan_zoo.callbacks.StopOnNonFinite` does the same
    and names the figures.
    """

    def __init__(self, terminate: keras.callbacks.TerminateOnNaN):
        super().__init__()
        self.terminate = terminate

    def set_model(self, model):
        super().set_model(model)
        self.terminate.set_model(model)

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        values = [float(np.mean(value)) for value in logs.values()]
        worst = next((value for value in values if not math.isfinite(value)), 0.0)
        self.terminate.on_batch_end(batch, {**logs, "loss": worst})


def for_a_gan(callbacks) -> list:
    """``fit``'s callbacks, each ``TerminateOnNaN`` wrapped to read every figure."""
    return [
        TerminateOnNaNReadsEveryFigure(callback) if isinstance(callback, keras.callbacks.TerminateOnNaN) else callback
        for callback in (callbacks or [])
    ]
