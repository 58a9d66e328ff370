"""Re-measuring a preset's headline figure on a small sample, with the evaluation network it ships.

A preset made from a run keeps the network that judged the run
(``evaluator.keras``: the domain classifier whose reading gave the label
accuracy), so its card's figure can be checked anywhere, offline, in seconds.
"""

from __future__ import annotations

import math

import numpy as np

EVALUATOR_FILE = "evaluator.keras"
# How far a re-measured share may fall from the card's: this many binomial
# standard errors of the card's value at the sample size, and at least one point.
STANDARD_ERRORS = 3.0
MIN_TOLERANCE = 0.01


def evaluator(model):
    """The evaluation network shipped with ``model``'s preset (None when it ships none)."""
    import keras

    path = model.preset.folder / EVALUATOR_FILE
    if EVALUATOR_FILE not in model.preset.checksums:
        return None
    return keras.saving.load_model(path, compile=False)


def label_accuracy(model, judge, num_samples: int, seed: int) -> float:
    """The share of ``num_samples`` samples (classes in turn) that ``judge`` reads as their class."""
    from tfgan_zoo.metrics import predict_classes

    noise, labels = model.sample_inputs(num_samples, seed=seed)
    images = np.concatenate([np.asarray(model.generate(noise[start:start + 250], labels[start:start + 250]))
                             for start in range(0, num_samples, 250)])
    return float(np.mean(predict_classes(judge, images) == labels))


def tolerance(share: float, num_samples: int) -> float:
    return max(MIN_TOLERANCE, STANDARD_ERRORS * math.sqrt(share * (1 - share) / num_samples))


def reproduce(model, num_samples: int = 500, seed: int = 1) -> dict:
    """``{"figure", "card", "measured", "tolerance", "num_samples"}``: the card's headline figure
    measured again on ``num_samples`` new samples (seeds other than the card's)."""
    from tfgan_zoo.presets import PresetError

    figures = model.preset.record["quality"]["figures"]
    judge = evaluator(model)
    if judge is None or figures.get("label_accuracy") is None:
        raise PresetError(f"Preset {model.preset.name!r} ships no evaluation network for its headline figure, "
                          "so it cannot be re-measured offline; its card says how it was measured.")
    card = float(figures["label_accuracy"])
    return {"figure": "label_accuracy", "card": card, "measured": label_accuracy(model, judge, num_samples, seed),
            "tolerance": tolerance(card, num_samples), "num_samples": num_samples}
