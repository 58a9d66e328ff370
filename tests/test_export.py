"""Every registry family's export (tests/families.py) reloads and serves in a
fresh process, and its signatures refuse bad inputs clearly (tests/test_export_translator.py:
the options of image-to-image exports)."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from families import FAMILIES, expected_images, signature_inputs, signature_names

from tfgan_zoo.models.base import Translating

RELOAD = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf
    for path in sys.argv[1:]:
        model = tf.saved_model.load(path)
        with np.load(f"{path}.inputs.npz") as inputs:
            outputs = {}
            for key in inputs.files:  # "signature/input name"
                signature, name = key.split("/")
                outputs.setdefault(signature, {})[name] = tf.constant(inputs[key])
        served = {signature: next(iter(model.signatures[signature](**args).values())).numpy()
                  for signature, args in outputs.items()}
        np.savez(f"{path}.outputs.npz", **served)
        print(json.dumps(sorted(model.signatures.keys())))
    """
)


def test_every_family_reloads_and_serves_its_images_in_a_fresh_process(family_exports):
    """One process for all families, that never imported tfgan_zoo (a TensorFlow
    start costs more than the checks)."""
    requests = {}
    for name, (model, version) in family_exports.items():
        requests[name] = {signature: signature_inputs(model, signature, count=3, seed=5)
                          for signature in signature_names(model)}
        np.savez(f"{version}.inputs.npz", **{f"{signature}/{input_name}": value
                                             for signature, inputs in requests[name].items()
                                             for input_name, value in inputs.items()})
    paths = [str(version) for _, version in family_exports.values()]
    out = subprocess.run([sys.executable, "-c", RELOAD, *paths], capture_output=True, text=True, check=True,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    listed = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("[")]
    assert len(listed) == len(family_exports)
    for (name, (model, version)), signatures in zip(family_exports.items(), listed):
        assert signatures == sorted({*signature_names(model), "serving_default"}), name
        with np.load(f"{version}.outputs.npz") as served:
            for signature, inputs in requests[name].items():
                expected = expected_images(model, signature, inputs)
                assert served[signature].dtype == np.uint8 and served[signature].shape == expected.shape
                assert np.abs(served[signature].astype(int) - expected.astype(int)).max() <= 1, (name, signature)


def check_bad_images(model, signatures):
    size = model.image_size
    for signature, network in model.translators.items():
        translate, channels = signatures[signature], network.input_channels
        shape = rf"\[batch, {size}, {size}, {channels}\]"
        with pytest.raises(tf.errors.InvalidArgumentError, match=rf"{shape}; resize images to {size}x{size}"):
            translate(image=tf.zeros([1, 2 * size, 2 * size, channels], tf.uint8))
        with pytest.raises(tf.errors.InvalidArgumentError, match=shape):
            translate(image=tf.zeros([1, size, size, channels + 1], tf.uint8))
        with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError), match="uint8"):
            translate(image=tf.zeros([1, size, size, channels], tf.float32))


@pytest.mark.parametrize("name", FAMILIES)
def test_bad_inputs_get_clear_errors(family_exports, name):
    model, version = family_exports[name]
    signatures = tf.saved_model.load(str(version)).signatures
    if isinstance(model, Translating):
        check_bad_images(model, signatures)
        return
    generate = signatures["generate"]
    inputs = {key: tf.constant(value) for key, value in signature_inputs(model, "generate", count=2).items()}
    latent_dim = model.latent_dim
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError), match=f"{latent_dim}|shape"):
        generate(**{**inputs, "noise": tf.zeros([2, latent_dim - 1])})
    if not model.num_classes:
        return
    with pytest.raises(tf.errors.InvalidArgumentError, match=rf"class ids in \[0, {model.num_classes - 1}\]"):
        generate(**{**inputs, "labels": tf.constant([0, model.num_classes])})
    with pytest.raises(tf.errors.InvalidArgumentError, match="same batch size"):
        generate(**{**inputs, "labels": tf.constant([0])})
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError), match="int32|dtype"):
        generate(**{**inputs, "labels": tf.constant([0.0, 1.0])})
