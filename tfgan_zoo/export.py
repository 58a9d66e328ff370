"""Generators as TF SavedModels with named serving signatures.

Signatures written by :func:`save_generator` (the first is also ``serving_default``):

* ``generate``: ``noise float32 [None, latent_dim]`` (and ``labels int32 [None]``
  for a conditional model) -> ``images uint8 [None, H, W, C]``.
* ``sample``: ``num_samples int32 []``, ``seed int32 []`` (conditional models
  take ``labels int32 [None]`` instead of ``num_samples``) -> ``images``.

Signatures written by :func:`save_translators` (for pix2pix by
:func:`save_translator`, for CycleGAN by :func:`save_cycle_translators`; the
first is also ``serving_default``):

* one per translator, ``translate`` by default (CycleGAN: ``a_to_b`` and
  ``b_to_a``): ``image uint8 [None, H, W, C_in]`` -> ``image uint8 [None, H, W, C_out]``.

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
    (anything with ``generator``, ``latent_dim`` and ``num_classes``). A model
    that keeps an EMA generator exports that one.
    """
    path = Path(path)
    generator = getattr(gan, "sampling_generator", gan.generator)
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
        "weights": "ema" if generator is not gan.generator else "trained",
        "signatures": ["generate", "sample"],
    }
    (path / METADATA_FILE).write_text(json.dumps(metadata, indent=2))
    return path


def _translator_signature(generator, image_size: int, input_channels: int):
    @tf.function(
        input_signature=[tf.TensorSpec([None, image_size, image_size, input_channels], tf.uint8, name="image")]
    )
    def translate(image):
        # Signatures do not enforce static shapes at call time; say what is
        # wrong instead of failing deep inside a convolution.
        check = tf.debugging.assert_equal(
            tf.shape(image)[1:], tf.constant([image_size, image_size, input_channels]),
            message=(
                f"image must have shape [batch, {image_size}, {image_size}, {input_channels}]; "
                f"resize images to {image_size}x{image_size} first"
            ),
        )
        with tf.control_dependencies([check]):
            images = tf.cast(image, tf.float32) / 127.5 - 1.0
        return {"image": to_uint8(generator(images, training=False))}

    return translate


def save_translators(path: str | Path, translators: dict, image_size: int, family: str = "translator") -> Path:
    """Exports image-to-image generators as one SavedModel at ``path``, one
    signature per entry of ``translators`` (name -> generator), and returns the path.

    Each generator maps ``[B, image_size, image_size, input_channels]`` images
    in [-1, 1] to ``output_channels`` ones and has those two attributes (e.g.
    :class:`tfgan_zoo.models.UNetGenerator`). Two entries give both directions
    of an unpaired model in one archive, e.g. ``{"a_to_b": g, "b_to_a": f}``.
    """
    if not translators:
        raise ValueError("translators is empty; pass a mapping like {'translate': model.generator}.")
    path = Path(path)
    image_size = int(image_size)
    archive = keras.export.ExportArchive()
    channels = {}
    for name, generator in translators.items():
        archive.track(generator)
        archive.add_endpoint(name, _translator_signature(generator, image_size, int(generator.input_channels)))
        channels[name] = {"input": int(generator.input_channels), "output": int(generator.output_channels)}
    archive.write_out(str(path), verbose=False)
    metadata = {
        "family": family,
        "image_size": image_size,
        "channels": channels,
        "signatures": list(translators),
    }
    (path / METADATA_FILE).write_text(json.dumps(metadata, indent=2))
    return path


def save_translator(model, path: str | Path, signatures: dict | None = None) -> Path:
    """Exports a :class:`tfgan_zoo.Pix2Pix`'s generator as signature ``translate``
    (and ``serving_default``) at ``path``; returns the path.

    ``signatures``: name -> generator, to export other or several generators
    of ``model`` instead (see :func:`save_translators`).
    """
    translators = signatures if signatures is not None else {"translate": model.generator}
    return save_translators(path, translators, model.image_size, family=type(model).__name__)


def save_cycle_translators(model, path: str | Path) -> Path:
    """Exports both generators of a :class:`tfgan_zoo.CycleGAN` as one
    SavedModel at ``path`` with signatures ``a_to_b`` (also ``serving_default``)
    and ``b_to_a``; returns the path."""
    translators = {"a_to_b": model.generator_ab, "b_to_a": model.generator_ba}
    return save_translators(path, translators, model.image_size, family=type(model).__name__)
