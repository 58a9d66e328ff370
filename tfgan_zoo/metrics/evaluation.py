"""What every evaluator returns.

The evaluators (:class:`~tfgan_zoo.metrics.GANEvaluator`,
:class:`~tfgan_zoo.metrics.TranslationEvaluator`) share one shape:

* ``evaluate(...)`` scores a model's output and returns an :class:`Evaluation`;
* ``figure_names(...)`` lists the names of its figures, before any evaluation;
* ``floor(num_samples=None, progress=None)`` gives the figures of real images
  that are not among the references, standing in for a perfect model's output
  (the best figures reachable at that sample count), or None when the
  evaluator was given no such images;
* ``protocol(num_samples=None)`` says how the figures are made: feature
  space, sample counts, estimator settings, the floor (``real_floor``) and
  ``network_key``, which names the trained network the features come from.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class Evaluation:
    """One evaluation's results.

    Attributes:
        figures: named floats, fit for Keras logs.
        details: what does not fit in a float (e.g. per-class lists); may be empty.
        protocol: how the figures were made (see the evaluators' ``protocol``).
    """

    figures: dict
    details: dict
    protocol: dict

    def as_dict(self) -> dict:
        """``{"figures", "details", "protocol"}``, for a JSON record."""
        return dataclasses.asdict(self)
