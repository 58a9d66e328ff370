"""Generators as TF SavedModels with named serving signatures.

Signatures written by :func:`save_generator` (the first is also ``serving_default``):

* ``generate``: ``noise float32 [None, latent_dim]`` (and ``labels int32 [None]``
  for a conditional model) -> ``images uint8 [None, H, W, C]``.
* ``sample``: ``num_samples int32 []``, ``seed int32 []`` (conditional models
  take ``labels int32 [None]`` instead of ``num_samples``) -> ``images``.

Load with ``tf.saved_model.load(path).signatures["generate"](noise=...)``; no
tfgan_zoo import is needed on the serving side.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import tensorflow as tf

from tfgan_zoo.data.pipeline import to_uint8

METADATA_FILE = "tfgan_zoo.json"


def _check_labels(labels, num_classes):
    return [
        tf.debugging.assert_non_negative(
            labels, message=f"labels must be class ids in [0, {num_classes - 1}]"
        ),
        tf.debugging.assert_less(
            labels, tf.constant(num_classes, tf.int32),
            message=f"labels must be class ids in [0, {num_classes - 1}]",
        ),
    ]


def _generator_signatures(generator, latent_dim: int, num_classes: int):
    noise_spec = tf.TensorSpec([None, latent_dim], tf.float32, name="noise")
    seed_spec = tf.TensorSpec([], tf.int32, name="seed")
    labels_spec = tf.TensorSpec([None], tf.int32, name="labels")

    def run(noise, labels=None):
        # Signatures do not enforce static shapes at call time; say what is wrong
        # instead of failing deep inside a matmul.
        check = tf.debugging.assert_equal(
            tf.shape(noise)[-1], latent_dim, message=f"noise must have shape [batch, {latent_dim}]"
        )
        with tf.control_dependencies([check]):
            inputs = noise if labels is None else (noise, labels)
            return {"images": to_uint8(generator(inputs, training=False))}

    def seeded_noise(count, seed):
        return tf.random.stateless_normal(
            tf.stack([count, latent_dim]), seed=tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])
        )

    if num_classes:

        @tf.function(input_signature=[noise_spec, labels_spec])
        def generate(noise, labels):
            checks = _check_labels(labels, num_classes) + [
                tf.debugging.assert_equal(
                    tf.shape(noise)[0], tf.shape(labels)[0],
                    message="noise and labels must have the same batch size",
                )
            ]
            with tf.control_dependencies(checks):
                return run(noise, labels)

        @tf.function(input_signature=[labels_spec, seed_spec])
        def sample(labels, seed):
            with tf.control_dependencies(_check_labels(labels, num_classes)):
                return run(seeded_noise(tf.shape(labels)[0], seed), labels)

    else:

        @tf.function(input_signature=[noise_spec])
        def generate(noise):
            return run(noise)

        @tf.function(input_signature=[tf.TensorSpec([], tf.int32, name="num_samples"), seed_spec])
        def sample(num_samples, seed):
            check = tf.debugging.assert_non_negative(num_samples, message="num_samples must be >= 0")
            with tf.control_dependencies([check]):
                return run(seeded_noise(num_samples, seed))

    return {"generate": generate, "sample": sample}


def save_generator(gan, path: str | Path) -> Path:
    """Exports ``gan``'s generator as a SavedModel at ``path`` and returns the path.

    ``gan`` is a :class:`tfgan_zoo.DCGAN` or :class:`tfgan_zoo.ConditionalGAN`
    (anything with ``generator``, ``latent_dim`` and ``num_classes``).
    """
    path = Path(path)
    generator = gan.generator
    num_classes = int(getattr(gan, "num_classes", 0) or 0)
    latent_dim = int(gan.latent_dim)
    archive = keras.export.ExportArchive()
    archive.track(generator)
    for name, fn in _generator_signatures(generator, latent_dim, num_classes).items():
        archive.add_endpoint(name, fn)
    archive.write_out(str(path), verbose=False)
    metadata = {
        "family": type(gan).__name__,
        "latent_dim": latent_dim,
        "num_classes": num_classes,
        "image_shape": list(generator.image_shape),
        "signatures": ["generate", "sample"],
    }
    (path / METADATA_FILE).write_text(json.dumps(metadata, indent=2))
    return path
