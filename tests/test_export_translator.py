"""Export a pix2pix translator, reload it in a fresh process, check its signatures."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

import tfgan_zoo
from tfgan_zoo.export import save_translator, save_translators
from tfgan_zoo.models import UNetGenerator

RELOAD = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf
    model = tf.saved_model.load(sys.argv[1])
    images = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 1), dtype=np.uint8)
    translated = model.signatures["translate"](image=tf.constant(images))["image"]
    default = model.signatures["serving_default"](image=tf.constant(images))["image"]
    print(json.dumps({
        "signatures": sorted(model.signatures.keys()),
        "dtype": translated.dtype.name, "shape": translated.shape.as_list(),
        "same_as_default": bool(np.array_equal(translated, default)),
        "images": translated.numpy().tolist(),
    }))
    """
)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model = tfgan_zoo.Pix2Pix(image_size=32, input_channels=1, output_channels=3, g_filters=4, d_filters=4)
    return model, save_translator(model, tmp_path_factory.mktemp("export") / "translator")


def test_reload_in_fresh_process(exported):
    model, path = exported
    out = subprocess.run(
        [sys.executable, "-c", RELOAD, str(path)],
        capture_output=True, text=True, check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert {"translate", "serving_default"} <= set(result["signatures"])
    assert result["dtype"] == "uint8" and result["shape"] == [2, 32, 32, 3]
    assert result["same_as_default"]
    images = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 1), dtype=np.uint8)
    served = np.asarray(result["images"])
    assert np.abs(served - model.translate(images).astype(int)).max() <= 1
    metadata = json.loads((path / "tfgan_zoo.json").read_text())
    assert metadata["family"] == "Pix2Pix" and metadata["image_size"] == 32
    assert metadata["channels"] == {"translate": {"input": 1, "output": 3}}
    assert metadata["signatures"] == ["translate"]


def test_bad_inputs_get_clear_errors(exported):
    _, path = exported
    translate = tf.saved_model.load(str(path)).signatures["translate"]
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[batch, 32, 32, 1\]; resize images to 32x32"):
        translate(image=tf.zeros([1, 64, 64, 1], tf.uint8))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[batch, 32, 32, 1\]"):
        translate(image=tf.zeros([1, 32, 32, 3], tf.uint8))
    with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError), match="uint8"):
        translate(image=tf.zeros([1, 32, 32, 1], tf.float32))


def test_two_directions_in_one_archive(tmp_path):
    # The layout an unpaired (CycleGAN-style) model exports: one signature per direction.
    a_to_b = UNetGenerator(32, input_channels=1, output_channels=3, filters=4)
    b_to_a = UNetGenerator(32, input_channels=3, output_channels=1, filters=4)
    a_to_b.build_for_inputs()
    b_to_a.build_for_inputs()
    path = save_translators(tmp_path / "both", {"a_to_b": a_to_b, "b_to_a": b_to_a}, 32, family="Test")
    loaded = tf.saved_model.load(str(path))
    assert {"a_to_b", "b_to_a", "serving_default"} <= set(loaded.signatures)
    grey = tf.zeros([2, 32, 32, 1], tf.uint8)
    colour = loaded.signatures["a_to_b"](image=grey)["image"]
    assert colour.shape == (2, 32, 32, 3) and colour.dtype == tf.uint8
    assert loaded.signatures["b_to_a"](image=colour)["image"].shape == (2, 32, 32, 1)
    assert json.loads((path / "tfgan_zoo.json").read_text())["signatures"] == ["a_to_b", "b_to_a"]
    with pytest.raises(ValueError, match="empty"):
        save_translators(tmp_path / "none", {}, 32)
