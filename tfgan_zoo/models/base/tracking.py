"""What a family logs, declared: each figure's name, which way is better, and the
role (if any) in which the health monitor reads it."""

from __future__ import annotations

from typing import Literal, NamedTuple

import keras

# Keras' monitor callbacks read metric directions only inside this container type.
from keras.src.trainers.compile_utils import MetricsList

Direction = Literal["minimized", "maximized", "neither"]

# The roles tfgan_zoo.diagnostics.HealthMonitor reads a model's figures in:
#   d_real_score, d_fake_score: D's mean score on real and on generated images (one figure each);
#   d_loss: D's whole loss; g_adversarial_loss: the adversarial part of G's loss (checked for blow-ups);
#   g_gradient_norm: the gradient norm of a generator (one per generator; the base declares these).
Role = Literal["d_real_score", "d_fake_score", "d_loss", "g_adversarial_loss", "g_gradient_norm"]

# What EarlyStopping/ModelCheckpoint/ReduceLROnPlateau read from a metric's ``_direction`` for mode="auto".
_KERAS_DIRECTIONS = {"minimized": "down", "maximized": "up", "neither": None}


class Metric(NamedTuple):
    """A figure a family's steps log (``self.record({name: values})``).

    Args:
        name: the log key (``val_`` + name in validation logs).
        direction: ``"minimized"`` (a loss or loss term), ``"maximized"`` (e.g.
            an accuracy) or ``"neither"`` (e.g. D's scores): what Keras'
            monitor callbacks infer ``mode="auto"`` from.
        role: what the health monitor reads it as (see :data:`Role`), if anything.
    """

    name: str
    direction: Direction
    role: Role | None = None


def check_metrics(metrics) -> tuple[Metric, ...]:
    """``metrics`` as a tuple of :class:`Metric`, each name once and each direction and role known."""
    metrics = tuple(metrics)
    for metric in metrics:
        if not isinstance(metric, Metric):
            raise TypeError(
                f"Declare each logged figure as a Metric(name, direction, role=None), got {metric!r}, "
                "e.g. Metric('d_loss', 'minimized', role='d_loss')."
            )
        if metric.direction not in _KERAS_DIRECTIONS:
            raise ValueError(f"{metric.name}: direction must be one of {tuple(_KERAS_DIRECTIONS)}, "
                             f"got {metric.direction!r}.")
        if metric.role is not None and metric.role not in Role.__args__:
            raise ValueError(f"{metric.name}: role must be one of {Role.__args__} or None, got {metric.role!r}.")
    names = [metric.name for metric in metrics]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"Metrics {repeated} are declared more than once.")
    return metrics


class Tracker(keras.metrics.Mean):
    """The running mean of one declared metric; a minimized or maximized one carries
    the ``_direction`` ("down"/"up") from which ``EarlyStopping`` and
    ``ModelCheckpoint`` infer ``mode="auto"``."""

    def __init__(self, metric: Metric):
        super().__init__(name=metric.name)
        direction = _KERAS_DIRECTIONS[metric.direction]
        if direction is not None:
            self._direction = direction


class Trackers(MetricsList):
    """A model's trackers as one metrics container: Keras' monitor callbacks
    look for directions only inside such containers (keras/src/callbacks/monitor_callback.py)."""

    def result(self):
        return {tracker.name: tracker.result() for tracker in self.metrics}
