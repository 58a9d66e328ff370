"""Learning-rate schedules."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfgan_zoo")
class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Constant ``initial_learning_rate`` for ``constant_steps`` steps, then a
    linear decay to 0 over ``decay_steps`` more steps, 0 after that.

    CycleGAN (and pix2pix's longer runs) train 100 epochs at 2e-4 and 100
    decaying to 0: ``LinearDecay.from_epochs(2e-4, 100, 100, steps_per_epoch)``.
    The reference implementation decays once per epoch and stops at
    ``lr / (decay epochs + 1)``; this one decays every step and reaches 0 at
    ``constant_steps + decay_steps``.
    """

    def __init__(self, initial_learning_rate: float, constant_steps: int, decay_steps: int, name: str | None = None):
        if int(constant_steps) < 0 or int(decay_steps) < 1:
            raise ValueError(
                f"constant_steps must be >= 0 and decay_steps >= 1, got {constant_steps} and {decay_steps}."
            )
        self.initial_learning_rate = float(initial_learning_rate)
        self.constant_steps = int(constant_steps)
        self.decay_steps = int(decay_steps)
        self.name = name

    @classmethod
    def from_epochs(
        cls, initial_learning_rate: float, constant_epochs: int, decay_epochs: int, steps_per_epoch: int
    ) -> LinearDecay:
        """The schedule for ``constant_epochs`` + ``decay_epochs`` epochs of ``steps_per_epoch`` steps."""
        steps_per_epoch = int(steps_per_epoch)
        return cls(initial_learning_rate, constant_epochs * steps_per_epoch, decay_epochs * steps_per_epoch)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        decayed = (step - float(self.constant_steps)) / float(self.decay_steps)
        return self.initial_learning_rate * ops.clip(1.0 - decayed, 0.0, 1.0)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "constant_steps": self.constant_steps,
            "decay_steps": self.decay_steps,
            "name": self.name,
        }
