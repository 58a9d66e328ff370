"""Is tfgan_zoo's Pix2Pix, set up like the TF tutorial, the tutorial's pix2pix?

    python studies/pix2pix_vs_tutorial/pix2pix_tutorial_equivalence.py [--ablation all_tutorial_choices]

Two checks, no data needed (random images), about two minutes on 2 CPU cores:

1. **Networks.** Builds our U-Net and PatchGAN and the tutorial's
   (`pix2pix_reference.py`), copies the tutorial's weights into ours
   and compares the outputs, in training and inference mode. With ours'
   defaults, the weight lists differ (ours has no batch norm on the 1x1
   bottleneck, and biases where no norm follows); with
   ``--ablation all_tutorial_choices`` they must be the same networks:
   identical outputs.
2. **Training step.** Puts the tutorial's own networks into a `Pix2Pix`
   (simultaneous step, float32, no jitter, dropout off in both copies) and
   runs `--steps` Adam steps of `fit` and of the tutorial's `train_step` on
   the same batches, from the same weights. For scale, the tutorial's step is
   also run from weights perturbed by float32 rounding noise (relative 1e-7):
   Adam amplifies such noise in parameters whose gradient is ~0, so two
   correct implementations drift apart by that much and no more.

``--ablation`` applies to both checks. Prints the figures and writes
``results/pix2pix_tutorial_equivalence.json`` (``--results`` for another file).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import ablations  # noqa: E402  (the script's folder is on sys.path)
import pix2pix_reference as reference  # noqa: E402
from tfgan_zoo.models import pix2pix  # noqa: E402

HERE = Path(__file__).resolve().parent


def _without_dropout(network):
    for layer in network._flatten_layers():
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0
    return network


def compare_networks(rng, model_options: dict) -> dict:
    """Tutorial weights in the networks of ``Pix2Pix(**model_options)``: same outputs?
    (Outputs are compared only where the weight lists match.)"""
    x, y = (rng.uniform(-1, 1, (2, 256, 256, 3)).astype("float32") for _ in range(2))
    model = pix2pix.Pix2Pix(256, **model_options)
    pairs = {
        "generator": (reference.build_generator(), model.generator, (x,)),
        "discriminator": (reference.build_discriminator(), model.discriminator, (x, y)),
    }
    report = {}
    for name, (theirs, ours, inputs) in pairs.items():
        ours.build_for_inputs()
        shapes = [w.shape for w in theirs.get_weights()], [w.shape for w in ours.get_weights()]
        entry = {"tutorial_weights": len(shapes[0]), "our_weights": len(shapes[1]), "same_weight_shapes": shapes[0] == shapes[1]}
        if entry["same_weight_shapes"]:
            ours.set_weights(theirs.get_weights())
            _without_dropout(theirs), _without_dropout(ours)
            for training in (True, False):
                a = theirs(list(inputs) if len(inputs) == 2 else inputs[0], training=training)
                b = ours(inputs if len(inputs) == 2 else inputs[0], training=training)
                entry[f"max_output_difference_training_{training}"] = float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
        report[name] = entry
    return report


def compare_steps(rng, steps: int, model_options: dict) -> dict:
    """Weights and outputs after ``steps`` steps: the fit of ``Pix2Pix(**model_options)``
    (its loss settings; the networks are the tutorial's) vs the tutorial's step vs perturbed start."""
    builds = {key: (reference.build_generator(), reference.build_discriminator()) for key in ("tutorial", "ours", "perturbed")}
    g0, d0 = builds["tutorial"]
    for key in ("ours", "perturbed"):
        weights = g0.get_weights()
        if key == "perturbed":
            weights = [w * (1 + 1e-7 * rng.standard_normal(w.shape)).astype("float32") for w in weights]
        builds[key][0].set_weights(weights)
        builds[key][1].set_weights(d0.get_weights())
    for generator, _ in builds.values():
        _without_dropout(generator)

    # Pix2Pix builds its own networks; hand it the tutorial's instead.
    g_ours, d_ours = builds["ours"]
    for network in (g_ours, d_ours):
        network.build_for_inputs = lambda: None
    own = pix2pix.UNetGenerator, pix2pix.PatchDiscriminator
    pix2pix.UNetGenerator, pix2pix.PatchDiscriminator = (lambda *a, **k: g_ours), (lambda *a, **k: d_ours)
    try:
        model = pix2pix.Pix2Pix(jitter=False, **model_options)
    finally:
        pix2pix.UNetGenerator, pix2pix.PatchDiscriminator = own
    model.compile(simultaneous=True, jit_compile=False)

    data = rng.uniform(-1, 1, (steps + 1, 2, 1, 256, 256, 3)).astype("float32")
    for key in ("tutorial", "perturbed"):
        train_step = reference.make_train_step(*builds[key], reference.make_optimizer(), reference.make_optimizer())
        for i in range(steps):
            train_step(tf.constant(data[i, 0]), tf.constant(data[i, 1]), tf.constant(i, tf.int64))
    model.fit(tf.data.Dataset.from_tensor_slices((data[:steps, 0, 0], data[:steps, 1, 0])).batch(1), verbose=0)

    probe = data[steps, 0]
    outputs = {key: np.asarray(builds[key][0](probe, training=False)) for key in builds}
    report = {"steps": steps}
    for key in ("ours", "perturbed"):
        gaps = [np.abs(a - b) for a, b in zip(g0.get_weights(), builds[key][0].get_weights())]
        report[key] = {
            "max_weight_difference": float(max(gap.max() for gap in gaps)),
            "fraction_of_weights_differing_by_over_1e-5": float(sum((gap > 1e-5).sum() for gap in gaps) / sum(gap.size for gap in gaps)),
            "max_output_difference": float(np.abs(outputs[key] - outputs["tutorial"]).max()),
        }
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--results", type=Path, default=HERE / "results" / "pix2pix_tutorial_equivalence.json")
    ablations.add_argument(parser, " (their model settings: the checks run on random images)")
    args = parser.parse_args()
    model_options, _ = ablations.split(ablations.resolve(args.ablations))
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    record = {
        "networks": compare_networks(rng, model_options),
        "training_step": compare_steps(rng, args.steps, model_options),
        "ablations": args.ablations,
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "tensorflow": tf.__version__},
    }
    print(json.dumps(record, indent=1))
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
