"""Both optimizers of a family: the papers' Adam by default, float16 loss scaling,
and D's learning rate following G's under Keras' learning-rate callbacks."""

from __future__ import annotations

import keras


def uses_float16() -> bool:
    return keras.mixed_precision.dtype_policy().name == "mixed_float16"


def paper_adam() -> keras.optimizers.Optimizer:
    """``Adam(2e-4, beta_1=0.5)``: the optimizer of the DCGAN, pix2pix and CycleGAN papers."""
    return keras.optimizers.Adam(2e-4, beta_1=0.5)


def prepare_optimizer(optimizer):
    """``optimizer`` (an instance or a name; :func:`paper_adam` when None) ready for
    training: wrapped in ``LossScaleOptimizer`` under ``mixed_float16``."""
    optimizer = keras.optimizers.get(paper_adam() if optimizer is None else optimizer)
    if uses_float16() and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        # float16 gradients underflow without dynamic loss scaling.
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


class DLearningRateFollowsG(keras.callbacks.Callback):
    """Moves D's learning rate by the factor G's moved since the last look.

    ``LearningRateScheduler`` and ``ReduceLROnPlateau`` change ``model.optimizer``,
    which is G's; running after them (``fit`` appends this callback last), this
    applies the same change to D, keeping the two rates' ratio. Optimizers
    driven by a schedule are left alone (those callbacks refuse them anyway).
    """

    @staticmethod
    def _adjustable(optimizer) -> bool:
        inner = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer
        return not isinstance(inner._learning_rate, keras.optimizers.schedules.LearningRateSchedule)

    def on_train_begin(self, logs=None):
        optimizers = (self.model.g_optimizer, self.model.d_optimizer)
        self._active = all(self._adjustable(optimizer) for optimizer in optimizers)
        self._g_rate = self._rate(self.model.g_optimizer) if self._active else None

    @staticmethod
    def _rate(optimizer) -> float:
        # A MirroredVariable under tf.distribute: read it through a tensor.
        return float(keras.ops.convert_to_numpy(optimizer.learning_rate))

    def _follow(self):
        if not self._active:
            return
        g_rate = self._rate(self.model.g_optimizer)
        if g_rate != self._g_rate and self._g_rate:
            d_optimizer = self.model.d_optimizer
            d_optimizer.learning_rate = self._rate(d_optimizer) * g_rate / self._g_rate
        self._g_rate = g_rate

    def on_epoch_begin(self, epoch, logs=None):
        self._follow()

    def on_epoch_end(self, epoch, logs=None):
        self._follow()
