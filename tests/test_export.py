"""Export the generator, reload it in a fresh process, check its signatures."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

import tfgan_zoo

RELOAD = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf
    for path, conditional in zip(sys.argv[1::2], (flag == "1" for flag in sys.argv[2::2])):
        model = tf.saved_model.load(path)
        noise = tf.random.normal([3, 16])
        kwargs = {"noise": noise}
        if conditional:
            kwargs["labels"] = tf.constant([0, 1, 2], tf.int32)
        images = model.signatures["generate"](**kwargs)["images"]
        sample_kwargs = {"seed": tf.constant(5)}
        if conditional:
            sample_kwargs["labels"] = tf.constant([2, 2], tf.int32)
        else:
            sample_kwargs["num_samples"] = tf.constant(2)
        sampled = model.signatures["sample"](**sample_kwargs)["images"]
        print(json.dumps({
            "signatures": sorted(model.signatures.keys()),
            "dtype": images.dtype.name, "shape": images.shape.as_list(),
            "min": int(tf.reduce_min(images)), "max": int(tf.reduce_max(images)),
            "sample_shape": sampled.shape.as_list(),
        }))
    """
)


def export_tiny(tmp_path, conditional):
    if conditional:
        gan = tfgan_zoo.ConditionalGAN(latent_dim=16, num_classes=3, g_filters=4, d_filters=4)
    else:
        gan = tfgan_zoo.DCGAN(latent_dim=16, g_filters=4, d_filters=4)
    return gan, tfgan_zoo.export.save_generator(gan, tmp_path / "generator")


def test_reload_in_fresh_process(tmp_path):
    """Both kinds of export load and serve in a process that never imported tfgan_zoo
    (one process for both: a TensorFlow start costs more than the checks)."""
    paths = {conditional: export_tiny(tmp_path / f"conditional_{conditional}", conditional)[1]
             for conditional in (False, True)}
    argv = [part for conditional, path in paths.items() for part in (str(path), "1" if conditional else "0")]
    out = subprocess.run([sys.executable, "-c", RELOAD, *argv], capture_output=True, text=True, check=True,
                         env={"TF_CPP_MIN_LOG_LEVEL": "3", **os.environ})
    results = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert len(results) == 2
    for result, path in zip(results, paths.values()):
        assert {"generate", "sample", "serving_default"} <= set(result["signatures"])
        assert result["dtype"] == "uint8" and result["shape"] == [3, 28, 28, 1]
        assert result["sample_shape"] == [2, 28, 28, 1]
        assert 0 <= result["min"] <= result["max"] <= 255
        assert json.loads((path / "tfgan_zoo.json").read_text())["latent_dim"] == 16


def test_exported_images_match_the_keras_generator(tmp_path):
    gan, path = export_tiny(tmp_path, True)
    loaded = tf.saved_model.load(str(path))
    noise, labels = tf.random.normal([4, 16]), tf.constant([0, 1, 2, 0])
    served = loaded.signatures["generate"](noise=noise, labels=labels)["images"].numpy()
    direct = np.round((gan.generate(noise, labels).numpy() + 1) * 127.5)
    assert np.abs(served.astype(int) - direct.astype(int)).max() <= 1


def test_bad_inputs_get_clear_errors(tmp_path):
    _, path = export_tiny(tmp_path, True)
    generate = tf.saved_model.load(str(path)).signatures["generate"]
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"class ids in \[0, 2\]"):
        generate(noise=tf.zeros([2, 16]), labels=tf.constant([0, 3]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="same batch size"):
        generate(noise=tf.zeros([2, 16]), labels=tf.constant([0]))
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError), match="16|shape"):
        generate(noise=tf.zeros([2, 15]), labels=tf.constant([0, 1]))
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError), match="int32|dtype"):
        generate(noise=tf.zeros([2, 16]), labels=tf.constant([0.0, 1.0]))


