"""The registry of families that tests/test_family_contract.py checks: each a
tiny model and the batches it trains on. A new family is one line here."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import keras
import numpy as np
from minimal_family import MinimalGAN

import tfgan_zoo


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


def _pair(size):
    return lambda count: (uint8_images(count, size, 3), uint8_images(count, size, 3, seed=1))


FAMILIES = {
    "dcgan": Family(lambda **o: tfgan_zoo.DCGAN(latent_dim=8, image_shape=(16, 16, 1), g_filters=4, d_filters=4, **o),
                    lambda count: (uint8_images(count, 16, 1),)),
    "cgan": Family(lambda **o: tfgan_zoo.ConditionalGAN(latent_dim=8, num_classes=3, image_shape=(16, 16, 1),
                                                         g_filters=4, d_filters=4, **o),
                   lambda count: (uint8_images(count, 16, 1), np.arange(count) % 3)),
    "pix2pix": Family(lambda **o: tfgan_zoo.Pix2Pix(image_size=16, g_filters=4, d_filters=4, d_layers=1, **o),
                      _pair(16), {"jitter": False}, lambda model: without_dropout(model.generator)),
    # No identity term: two generator passes fewer to trace (test_cyclegan.py checks it).
    "cyclegan": Family(lambda **o: tfgan_zoo.CycleGAN(image_size=16, filters=4, num_blocks=1, disc_layers=1,
                                                       identity_weight=0.0, **o),
                       _pair(16), {"jitter": False}),
    "minimal": Family(lambda **o: MinimalGAN(**o), lambda count: (uint8_images(count, 8, 1),)),
}
