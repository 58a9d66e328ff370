"""Training-health monitor: names the classic GAN failures while they happen.

:class:`HealthMonitor` is a Keras callback. It recovers per-batch values of
the model's metrics from the running epoch means Keras logs, averages them
over windows of ``check_every`` batches and checks each window for the
conditions below. It finds its figures by the roles a family declares for
them (:class:`tfgan_zoo.models.base.Metric`; in brackets), not by name:

``d_overpowering``
    D's mean score on real images (``d_real_score``) above ``d_real_above``
    and on generated images (``d_fake_score``) below ``d_fake_below``
    (per-loss defaults: probabilities 0.9/0.1 for bce, targets 0.9/0.1 for
    lsgan, margins 1/-1 for hinge; not checked for wgan-gp, whose critic has
    no fixed scale).
``vanishing_g_gradients``
    a generator's gradient norm (``g_gradient_norm``: ``g_grad_norm``;
    CycleGAN's ``g_ab_grad_norm`` and ``g_ba_grad_norm``) below
    ``vanishing_ratio`` times the median of its earlier windows: that G has
    stopped receiving a learning signal.
``divergence``
    a generator's gradient norm above ``explosion_ratio`` times that median,
    or D's loss (``d_loss``) or the adversarial part of G's loss
    (``g_adversarial_loss``: DCGAN's ``g_loss``; the translation families'
    ``g_gan``, without their weighted L1 terms) of a magnitude above ``loss_limit``.
``mode_collapse``
    (each epoch end, given real ``reference_images``) the mean pairwise
    distance between samples made for the same condition falls below
    ``diversity_ratio`` times that of real images; with a ``classifier``,
    also a class receiving less than ``coverage_floor / num_classes`` of the
    predictions.
``non_finite``
    any NaN/inf logged value: training stops at once, and the checkpoint
    callbacks keep the last good state.

A condition is reported after holding for ``patience`` consecutive windows
(once, until it clears), printed with the usual remedies, kept in
:attr:`HealthMonitor.events` and appended to ``log_path`` as JSON lines.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
from pathlib import Path

import numpy as np

from tfgan_zoo.callbacks import StopOnNonFinite
from tfgan_zoo.models.base import Sampling
from tfgan_zoo.ranges import to_uint8

_SCORE_LIMITS = {"bce": (0.9, 0.1), "lsgan": (0.9, 0.1), "hinge": (1.0, -1.0)}

REMEDIES = {
    "d_overpowering": (
        "G gets little useful signal. Try: g_steps=2 (more G updates), a lower D learning rate "
        "(e.g. half of G's), label_smoothing=0.1, dropout in D (d_dropout), or loss='lsgan'/'hinge'."
    ),
    "vanishing_g_gradients": (
        "G has stopped learning. Try: the non-saturating loss ('bce') or 'lsgan'/'wgan-gp', "
        "weakening D (lower D learning rate, label_smoothing=0.1), or g_steps=2."
    ),
    "divergence": (
        "Training is blowing up. Try: lower learning rates, Adam(beta_1=0.5), loss='wgan-gp' "
        "with d_norm='layer', or resume from an earlier checkpoint."
    ),
    "mode_collapse": (
        "G produces few distinct images. Try: lower learning rates, label_smoothing=0.1, "
        "loss='wgan-gp' with d_norm='layer', fewer D updates, or an earlier checkpoint "
        "(keep the best by a metric)."
    ),
    "non_finite": (
        "Training stopped; the last checkpoint with finite values is kept. Try: lower learning "
        "rates, label_smoothing=0.1, or loss='lsgan'/'hinge'."
    ),
}


@dataclasses.dataclass
class HealthThresholds:
    """When the monitor speaks up. ``None`` score limits take the loss's defaults."""

    check_every: int = 50
    warmup_batches: int = 100
    patience: int = 3
    d_real_above: float | None = None
    d_fake_below: float | None = None
    vanishing_ratio: float = 0.01
    explosion_ratio: float = 100.0
    loss_limit: float = 100.0
    diversity_ratio: float = 0.25
    coverage_floor: float = 0.2


def mean_pairwise_distance(images: np.ndarray) -> float:
    """Mean L2 distance between distinct pairs of images (any numeric dtype)."""
    flat = np.asarray(images, np.float64).reshape(len(images), -1)
    if len(flat) < 2:
        return 0.0
    squared = np.sum(flat**2, axis=1)
    distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2.0 * flat @ flat.T, 0.0))
    return float(distances[np.triu_indices(len(flat), k=1)].mean())


class HealthMonitor(StopOnNonFinite):
    """Warns about D overpowering G, vanishing G gradients, divergence and mode collapse.

    Args:
        thresholds: a :class:`HealthThresholds` (documented defaults).
        reference_images: real images (uint8, or floats in [-1, 1]) for the
            diversity check; without them mode collapse is judged only by
            ``classifier`` coverage, if given.
        classifier: optional model mapping uint8 images to class logits
            (e.g. :func:`tfgan_zoo.metrics.domain_classifier`) for coverage.
        num_samples: images generated per epoch for the collapse check.
        log_path: optional JSON-lines file receiving every event.

    Put it before ``CSVLogger``/``TensorBoard`` in the callback list so the
    ``sample_diversity`` it adds to the epoch logs is recorded.
    """

    def __init__(
        self,
        thresholds: HealthThresholds | None = None,
        reference_images=None,
        classifier=None,
        num_samples: int = 64,
        log_path: str | Path | None = None,
        seed: int = 4321,
    ):
        super().__init__()
        self.thresholds = thresholds or HealthThresholds()
        self.reference_diversity = None
        if reference_images is not None:
            reference = np.asarray(reference_images)
            if reference.dtype != np.uint8:
                reference = np.asarray(to_uint8(reference))
            self.reference_diversity = mean_pairwise_distance(reference)
        self.classifier = classifier
        self.num_samples = int(num_samples)
        self.log_path = Path(log_path) if log_path is not None else None
        self.seed = int(seed)
        self.events: list[dict] = []
        self._active: dict[str, int] = {}
        self._grad_history: dict[str, list[float]] = {}
        self._batches_seen = 0
        self._epoch = 0

    # ----------------------------------------------------------- recording
    def _report(self, condition: str, message: str, **values):
        event = {"epoch": self._epoch + 1, "batch": self._batches_seen, "condition": condition,
                 "message": message, **values}
        self.events.append(event)
        print(f"\n[tfgan_zoo health] epoch {event['epoch']}: {condition}: {message} {REMEDIES[condition]}",
              flush=True)
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "a") as handle:
                handle.write(json.dumps(event) + "\n")

    def _observe(self, condition: str, holds: bool, message: str = "", check: str | None = None,
                 patience: int | None = None, **values):
        """Reports ``condition`` once ``check`` (default: the condition) held ``patience`` times in a row."""
        check = check or condition
        if not holds:
            self._active.pop(check, None)
            return
        self._active[check] = self._active.get(check, 0) + 1
        if self._active[check] == (patience or self.thresholds.patience):
            self._report(condition, message, **values)

    # ------------------------------------------------------ batch windows
    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._previous_sums = {}
        self._previous_count = 0
        self._window_sums = {}
        self._window_count = 0

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, logs)
        if self.stopped_at is not None:
            if not any(e["condition"] == "non_finite" for e in self.events):
                self._report("non_finite", f"non-finite values at batch {batch}.")
            return
        # Keras logs running epoch means; count * mean differences give the
        # sum over the batches since the previous call.
        count = batch + 1
        steps = count - self._previous_count
        for key, value in (logs or {}).items():
            total = count * float(value)
            self._window_sums[key] = self._window_sums.get(key, 0.0) + total - self._previous_sums.get(key, 0.0)
            self._previous_sums[key] = total
        self._previous_count = count
        self._window_count += steps
        self._batches_seen += steps
        if self._window_count >= self.thresholds.check_every:
            window = {key: value / self._window_count for key, value in self._window_sums.items()}
            self._window_sums, self._window_count = {}, 0
            if self._batches_seen > self.thresholds.warmup_batches:
                self.check_window(window)

    def check_window(self, window: dict):
        """Checks one window of per-batch means (keys as in the progress bar)."""
        limits = self.thresholds
        loss_name = getattr(getattr(self.model, "gan_loss", None), "name", "bce")
        real_above, fake_below = _SCORE_LIMITS.get(loss_name, (None, None))
        real_above = limits.d_real_above if limits.d_real_above is not None else real_above
        fake_below = limits.d_fake_below if limits.d_fake_below is not None else fake_below
        scores = [self._logged(window, role) for role in ("d_real_score", "d_fake_score")]
        g_losses = self._logged(window, "g_adversarial_loss")
        if real_above is not None and all(len(names) == 1 for names in scores):
            (real,), (fake,) = scores
            g_figures = "".join(f", {name} {window[name]:.3f}" for name in g_losses)
            self._observe(
                "d_overpowering",
                window[real] > real_above and window[fake] < fake_below,
                f"D scores real images {window[real]:.3f} and generated ones {window[fake]:.3f} "
                f"(limits {real_above}/{fake_below}){g_figures}.",
                **{real: window[real], fake: window[fake]},
            )
        exploding = {key: window[key] for key in (*self._logged(window, "d_loss"), *g_losses)
                     if abs(window[key]) > limits.loss_limit}
        for key in sorted(self._logged(window, "g_gradient_norm")):
            grad, history = window[key], self._grad_history.setdefault(key, [])
            typical = statistics.median(history) if history else None
            if typical:
                self._observe(
                    "vanishing_g_gradients", grad < limits.vanishing_ratio * typical,
                    f"{key} fell to {grad:.3g}, below {limits.vanishing_ratio} x its typical {typical:.3g}.",
                    check=f"vanishing_{key}", **{key: grad},
                )
                if grad > limits.explosion_ratio * typical:
                    exploding[key] = grad
            history.append(grad)
        self._observe(
            "divergence", bool(exploding),
            f"exploding values {', '.join(f'{k}={v:.3g}' for k, v in exploding.items())}.",
        )

    def _logged(self, window: dict, role: str) -> list[str]:
        """The names of the model's figures in ``role`` that this window holds."""
        names_in_role = getattr(self.model, "names_in_role", None)
        return [name for name in (names_in_role(role) if names_in_role else ()) if name in window]

    # -------------------------------------------------------- epoch checks
    def on_epoch_end(self, epoch, logs=None):
        if self.stopped_at is not None or (self.reference_diversity is None and self.classifier is None):
            return
        images, labels = self._samples()
        if self.reference_diversity is not None:
            diversity = self.sample_diversity(images, labels) / max(self.reference_diversity, 1e-12)
            if logs is not None:
                logs["sample_diversity"] = diversity
            # Epoch-level checks: one collapsed epoch is enough to say so.
            self._observe(
                "mode_collapse", diversity < self.thresholds.diversity_ratio,
                f"samples made for the same condition differ {diversity:.2f}x as much as real images "
                f"(limit {self.thresholds.diversity_ratio}).",
                check="low_diversity", patience=1, sample_diversity=diversity,
            )
        if self.classifier is not None:
            logits = np.asarray(self.classifier.predict(images, verbose=0))
            num_classes = self.model.num_classes or logits.shape[-1]
            coverage = np.bincount(logits.argmax(-1), minlength=num_classes) / len(logits)
            missing = [int(c) for c in np.flatnonzero(coverage < self.thresholds.coverage_floor / num_classes)]
            self._observe(
                "mode_collapse", bool(missing), f"classes {missing} are (nearly) absent from the samples.",
                check="missing_classes", patience=1, missing_classes=missing,
            )

    def _samples(self):
        gan: Sampling = self.model
        noise, labels = gan.sample_inputs(self.num_samples, self.seed)
        # The trained G itself, not its moving average (which lags it): the
        # health of training is what is checked here.
        return np.asarray(to_uint8(gan.generate(noise, labels, averaged=False))), labels

    @staticmethod
    def sample_diversity(images: np.ndarray, labels=None) -> float:
        """Mean pairwise distance among samples sharing a label (all samples if unlabelled)."""
        if labels is None:
            return mean_pairwise_distance(images)
        groups = [images[labels == label] for label in np.unique(labels)]
        return float(np.mean([mean_pairwise_distance(group) for group in groups if len(group) > 1]))
