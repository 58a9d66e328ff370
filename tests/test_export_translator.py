"""Image-to-image exports' options: chosen networks, other channel counts and
bare networks export as their signatures. (Every family's export, translators
included, is checked in tests/test_export.py and tests/test_serving.py.)"""

import json

import numpy as np
import pytest
import tensorflow as tf
from families import FAMILIES

from tfgan_zoo.export import save, save_translators
from tfgan_zoo.models import UNetGenerator


def test_chosen_networks_of_other_channels_export_under_their_names(tmp_path):
    model = FAMILIES["pix2pix"].build(input_channels=1, output_channels=3)
    path = save(model, tmp_path / "colourise", translators={"colourise": model.generator})
    loaded = tf.saved_model.load(str(path))
    assert set(loaded.signatures) == {"colourise", "serving_default"}
    images = np.random.default_rng(0).integers(0, 256, (2, 16, 16, 1), dtype=np.uint8)
    served = loaded.signatures["colourise"](image=tf.constant(images))["image"].numpy()
    assert np.array_equal(served, loaded.signatures["serving_default"](image=tf.constant(images))["image"])
    assert served.shape == (2, 16, 16, 3)
    assert np.abs(served.astype(int) - model.translate(images).astype(int)).max() <= 1
    metadata = json.loads((path / "tfgan_zoo.json").read_text())
    assert metadata["family"] == "Pix2Pix" and metadata["image_size"] == 16
    assert metadata["channels"] == {"colourise": {"input": 1, "output": 3}}
    assert metadata["signatures"] == ["colourise"]


def test_bare_networks_in_one_archive(tmp_path):
    # Networks that no model holds, one signature each (the layout of an unpaired model's export).
    a_to_b = UNetGenerator(16, input_channels=1, output_channels=3, filters=4)
    b_to_a = UNetGenerator(16, input_channels=3, output_channels=1, filters=4)
    a_to_b.build_for_inputs()
    b_to_a.build_for_inputs()
    path = save_translators(tmp_path / "both", {"a_to_b": a_to_b, "b_to_a": b_to_a}, 16, family="Test")
    loaded = tf.saved_model.load(str(path))
    assert {"a_to_b", "b_to_a", "serving_default"} <= set(loaded.signatures)
    grey = tf.zeros([2, 16, 16, 1], tf.uint8)
    colour = loaded.signatures["a_to_b"](image=grey)["image"]
    assert colour.shape == (2, 16, 16, 3) and colour.dtype == tf.uint8
    assert loaded.signatures["b_to_a"](image=colour)["image"].shape == (2, 16, 16, 1)
    metadata = json.loads((path / "tfgan_zoo.json").read_text())
    assert metadata["signatures"] == ["a_to_b", "b_to_a"] and metadata["family"] == "Test"
    with pytest.raises(ValueError, match="empty"):
        save_translators(tmp_path / "none", {}, 16)
