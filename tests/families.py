"""The registry of families that tests/test_family_contract.py checks: each a
tiny model and the batches it trains on. A new family is one line here."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf
from minimal_family import MinimalGAN

import tfgan_zoo
from tfgan_zoo.models.base import Translating
from tfgan_zoo.ranges import to_model_range, to_uint8


def uint8_images(count, size, channels, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (count, size, size, channels), dtype=np.uint8)


def without_dropout(network):
    """``network`` with its dropout rates set to 0 (replicas draw other masks than one device)."""
    for layer in network._flatten_layers():
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0
    return network


@dataclasses.dataclass(frozen=True)
class Family:
    """``build(**options)``: a tiny model; ``batch(count)``: the arrays of ``count``
    training examples (uint8 images first); ``deterministic``: options (or a
    change to a built model) that make one device and two replicas comparable."""

    build: Callable[..., keras.Model]
    batch: Callable[[int], tuple]
    deterministic: dict = dataclasses.field(default_factory=dict)
    prepare: Callable[[keras.Model], object] = lambda model: model

    def comparable(self):
        model = self.build(**self.deterministic)
        self.prepare(model)
        return model


def signature_names(model) -> list[str]:
    """The signatures of ``model``'s export besides ``serving_default`` (which
    repeats the first), from its protocol: a translator's names or a generator's."""
    return list(model.translators) if isinstance(model, Translating) else ["generate", "sample"]


def signature_inputs(model, signature: str, count: int = 2, seed: int = 0) -> dict:
    """Numpy inputs of ``count`` examples for ``signature`` of ``model``'s export."""
    if isinstance(model, Translating):
        channels = int(model.translators[signature].input_channels)
        return {"image": uint8_images(count, model.image_size, channels, seed)}
    noise, labels = model.sample_inputs(count, seed)
    classes = {} if labels is None else {"labels": labels}
    if signature == "generate":
        return {"noise": noise, **classes}
    return {**(classes or {"num_samples": np.int32(count)}), "seed": np.int64(seed)}


def expected_images(model, signature: str, inputs: dict) -> np.ndarray:
    """The uint8 images ``model`` itself gives for ``signature``'s ``inputs``: what its export must serve."""
    if isinstance(model, Translating):
        network = model.translators[signature]
        return np.asarray(to_uint8(network(to_model_range(inputs["image"]), training=False)))
    noise = inputs.get("noise")
    if signature == "sample":  # the export's noise: drawn from the seed, as its sample signature draws it
        count = len(inputs["labels"]) if "labels" in inputs else int(inputs["num_samples"])
        noise = tf.random.stateless_normal([count, model.latent_dim], seed=[int(inputs["seed"]), 0])
    return np.asarray(to_uint8(model.generate(noise, inputs.get("labels"))))


def _pair(size):
    return lambda count: (uint8_images(count, size, 3), uint8_images(count, size, 3, seed=1))


def _built(family: type, **tiny):
    """``build(**options)`` of a registry entry: ``family`` at the tiny ``tiny`` sizes,
    any of which ``options`` may replace (a test's own image size, filters, ...)."""
    return lambda **options: family(**{**tiny, **options})


FAMILIES = {
    "dcgan": Family(_built(tfgan_zoo.DCGAN, latent_dim=8, image_shape=(16, 16, 1), g_filters=4, d_filters=4),
                    lambda count: (uint8_images(count, 16, 1),)),
    "cgan": Family(_built(tfgan_zoo.ConditionalGAN, latent_dim=8, num_classes=3, image_shape=(16, 16, 1),
                          g_filters=4, d_filters=4),
                   lambda count: (uint8_images(count, 16, 1), np.arange(count) % 3)),
    "acgan": Family(_built(tfgan_zoo.ACGAN, latent_dim=8, num_classes=3, image_shape=(16, 16, 1),
                           g_filters=4, d_filters=4),
                    lambda count: (uint8_images(count, 16, 1), np.arange(count) % 3)),
    "pix2pix": Family(_built(tfgan_zoo.Pix2Pix, image_size=16, g_filters=4, d_filters=4, d_layers=1),
                      _pair(16), {"jitter": False}, lambda model: without_dropout(model.generator)),
    # No identity term: two generator passes fewer to trace (test_cyclegan.py checks it).
    "cyclegan": Family(_built(tfgan_zoo.CycleGAN, image_size=16, g_filters=4, d_filters=4, num_blocks=1, d_layers=1,
                              identity_weight=0.0),
                       _pair(16), {"jitter": False}),
    "minimal": Family(_built(MinimalGAN), lambda count: (uint8_images(count, 8, 1),)),
}


def mnist_sized(conditional: bool = False, **options):
    """The registry's DCGAN (or, ``conditional``, conditional GAN with 10 classes) at
    MNIST's 28x28x1 with 16-d noise and 8 filters: the model of the tests that train on
    MNIST-like batches."""
    sizes = {"latent_dim": 16, "image_shape": (28, 28, 1), "g_filters": 8, "d_filters": 8}
    if conditional:
        return FAMILIES["cgan"].build(**sizes, num_classes=10, **options)
    return FAMILIES["dcgan"].build(**sizes, **options)
