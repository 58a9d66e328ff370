"""Generators as TF SavedModels with named serving signatures, in the layout TF Serving reads.

Every export is a new numbered version folder under a model's base path
(``RUN/export/generator/1/``, ``2/``, … highest = newest; the last
``keep`` are kept), so ``tensorflow_model_server --model_base_path=RUN/export/generator``
serves the newest and picks up the next one when it appears. A version is
written into a hidden staging folder and renamed into place in one step: a
kill at any moment leaves the earlier versions intact and never a half-written
one under a number. The base path and each version carry a ``.tfgan_zoo``
marker (:mod:`tfgan_zoo.runs.ownership`): an export never writes into, prunes
or replaces a folder that it did not make, and stops with an error naming it.

:func:`save` writes the signatures that the model's protocol
(:mod:`tfgan_zoo.models.base`) calls for; the first is also ``serving_default``.
A :class:`~tfgan_zoo.models.base.Sampling` model (DCGAN, ConditionalGAN):

* ``generate``: ``noise float32 [None, latent_dim]`` (and ``labels int32``
  for a conditional model: class ids ``[None]`` or one-hot rows
  ``[None, num_classes]``) -> ``images uint8 [None, H, W, C]``.
* ``sample``: ``num_samples int32 []``, ``seed int64 []`` (conditional models
  take ``labels`` instead of ``num_samples``) -> ``images``.

Every signature refuses a request for more than ``max_batch`` images (default
``MAX_BATCH``, set at export) with an error that says so.

A :class:`~tfgan_zoo.models.base.Translating` model (pix2pix, CycleGAN): one
signature per entry of its ``translators`` in one SavedModel (pix2pix:
``translate``; CycleGAN: ``a_to_b`` and ``b_to_a``), each
``image uint8 [None, H, W, C_in]`` -> ``image uint8 [None, H, W, C_out]``.

The earlier writers remain as aliases of :func:`save`: ``save_generator``,
``save_translator``, ``save_cycle_translators``, and ``save_translators`` for
image-to-image networks that no model holds.

The exported graph computes in float32 whatever the training precision
(``precision="training"`` keeps the training dtype policy). Each version
carries ``assets.extra/tf_serving_warmup_requests``, one ``PredictRequest`` per
signature, which TF Serving replays before it serves the version, and
``tfgan_zoo.json`` describing the model.

Load with ``tf.saved_model.load(latest_export(path)).signatures["generate"](noise=...)``;
no tfgan_zoo import is needed on the serving side. Request formats for REST
and gRPC: docs/serving.md.

``model.export(path, format=...)`` (:func:`export_model`) writes one of
:data:`FORMATS`: the SavedModel above (:func:`write_saved_model`), or one
signature as a ``.tflite`` file of TFLite builtin ops (``"litert"``, through
:mod:`tfgan_zoo.tflite`) or as an ``.onnx`` file (:func:`write_onnx`). A file
it writes carries the export's metadata, which marks it as the package's: it
replaces no file but its own.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from google.protobuf.message import DecodeError
from tensorflow.core.protobuf.saved_model_pb2 import SavedModel

from tfgan_zoo.models.base import Sampling, Translating, translate_images
from tfgan_zoo.ranges import to_uint8, uint8_to_model_range
from tfgan_zoo.runs import ownership

METADATA_FILE = "tfgan_zoo.json"
WARMUP_FILE = Path("assets.extra") / "tf_serving_warmup_requests"
VERSIONS_KEPT = 5
MAX_BATCH = 1024
PRECISIONS = ("float32", "training")
# Marker kinds (tfgan_zoo.runs.ownership): a base path of numbered versions, and one SavedModel.
BASE_KIND, SAVED_MODEL_KIND = "export base path", "SavedModel"
_STAGING_PREFIX = ".staging-"  # TF Serving only looks at all-digit folder names
_RETIRED_PREFIX = ".retired-"

logger = logging.getLogger("tfgan_zoo.export")


# ----------------------------------------------------------------- layout
def _is_version_name(name: str) -> bool:
    # ASCII digits only: "²" is a digit to str.isdigit but not to int() (nor to TF Serving).
    return name.isascii() and name.isdigit()


def version_dirs(base: str | os.PathLike) -> list[Path]:
    """The numbered version folders under ``base``, oldest first (damaged ones included)."""
    base = Path(base)
    if not base.is_dir():
        return []
    numbered = [child for child in base.iterdir() if child.is_dir() and _is_version_name(child.name)]
    return sorted(numbered, key=lambda child: (int(child.name), child.name))


def why_damaged(folder: str | os.PathLike) -> str | None:
    """What makes the SavedModel at ``folder`` unloadable, or None when it looks whole:
    its ``saved_model.pb`` must parse, and its variables index and ``tfgan_zoo.json`` be there."""
    folder = Path(folder)
    try:
        SavedModel.FromString((folder / "saved_model.pb").read_bytes())
    except OSError:
        return "it has no readable saved_model.pb"
    except DecodeError:
        return "its saved_model.pb is truncated or not a SavedModel"
    if not (folder / "variables" / "variables.index").is_file():
        return "it has no variables/variables.index"
    try:
        json.loads((folder / METADATA_FILE).read_text())
    except (OSError, ValueError):
        return f"it has no readable {METADATA_FILE}"
    return None


def latest_export(path: str | os.PathLike) -> Path:
    """The SavedModel folder to load for ``path``: its newest whole version when
    ``path`` is a base path (damaged ones are skipped with a warning that names
    them), or ``path`` itself when it is one SavedModel."""
    path = Path(path).expanduser()
    if (path / "saved_model.pb").is_file():
        return path
    versions = version_dirs(path)
    for version in reversed(versions):
        problem = why_damaged(version)
        if problem is None:
            return version
        logger.warning("Skipping export version %s: %s.", version, problem)
    if versions:
        raise FileNotFoundError(
            f"No whole export at {path}: every version folder is damaged (see the warnings). "
            "Export again with tfgan_zoo.export.save(model, path), or delete the damaged versions."
        )
    raise FileNotFoundError(
        f"No export at {path}: expected numbered version folders (1/, 2/, ...) holding a "
        "saved_model.pb, or a SavedModel folder. Train the run to its end (it exports last), "
        "or call tfgan_zoo.export.save(model, path)."
    )


def read_metadata(path: str | os.PathLike) -> dict:
    """The ``tfgan_zoo.json`` description of the export at ``path`` (see :func:`latest_export`)."""
    return json.loads((latest_export(path) / METADATA_FILE).read_text())


# -------------------------------------------------------------- ownership
_SAVED_MODEL_ENTRIES = {"saved_model.pb", "fingerprint.pb", "variables", "assets", "assets.extra", METADATA_FILE}


def _saved_model_before_markers(folder: Path) -> bool:
    """Whether ``folder`` is a SavedModel that this module wrote before the markers existed."""
    return (not folder.is_symlink() and folder.is_dir() and (folder / METADATA_FILE).is_file()
            and (folder / "saved_model.pb").is_file()
            and {entry.name for entry in folder.iterdir()} <= _SAVED_MODEL_ENTRIES)


def _is_our_saved_model(folder: Path) -> bool:
    return ownership.is_ours(folder, SAVED_MODEL_KIND) or _saved_model_before_markers(folder)


def _base_before_markers(base: Path) -> bool:
    """Whether ``base`` holds only versions (and staging leftovers) that this module
    wrote before the markers existed."""
    return all(
        (_is_version_name(entry.name) and _saved_model_before_markers(entry))
        or (entry.name.startswith((_STAGING_PREFIX, _RETIRED_PREFIX)) and entry.is_dir())
        for entry in base.iterdir()
    )


def _remove_leftovers(parent: Path, prefixes: tuple[str, ...]) -> None:
    """Deletes the staging and retired folders that a killed export left in ``parent``
    (marked ones only: a folder of that name without the marker is not ours)."""
    for leftover in sorted(parent.iterdir()):
        if leftover.name.startswith(prefixes):
            if ownership.is_ours(leftover, SAVED_MODEL_KIND):
                shutil.rmtree(leftover, ignore_errors=True)
            elif ownership.holds_nothing(leftover):  # killed as it was being marked
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                logger.warning("Leaving %s alone: it looks like an export's leftover but carries no %s "
                               "marker. Delete it yourself if it is one.", leftover, ownership.MARKER)


def check_file_replaceable(path: Path, written_by_us: Callable[[Path], bool], what: str, fix: str) -> None:
    """Stops, before any work, a write of the file ``path`` that would replace
    what the package did not write: a link, or an existing file for which
    ``written_by_us`` does not hold (``what`` names the file kind, ``fix`` the way out)."""
    if path.is_dir() and not path.is_symlink():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    if path.is_symlink():
        raise ownership.NotOurs(path, "is a link", fix)
    if path.exists() and not written_by_us(path):
        raise ownership.NotOurs(path, f"exists and is not {what} that tfgan_zoo wrote", fix)


def write_file(path: Path, data: bytes) -> None:
    """Writes ``data`` at ``path`` through a temporary file and a rename: a reader
    (or a device sync) never sees a half-written model, and a kill leaves none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A plain write rather than mkstemp: the file gets the umask's permissions, not owner-only ones.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _write_staged(parent: Path, prefix: str, write: Callable[[Path], None]) -> Path:
    """Writes a SavedModel through ``write(folder)`` into a new marked staging folder
    under ``parent``; returns it. A failure (or Ctrl-C) deletes the staging folder."""
    staging = ownership.new_folder(parent, prefix, SAVED_MODEL_KIND, "tfgan_zoo.export")
    try:
        write(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _retire(folder: Path, prefix: str, replacement: Path | None = None) -> None:
    """Deletes the package's SavedModel ``folder`` (and puts ``replacement`` in its place),
    renamed out of its name first: a kill during the deletion must not leave a
    half-deleted folder under a served name, nor no model at all."""
    retired = folder.with_name(f"{prefix}{uuid.uuid4().hex[:12]}")
    os.replace(folder, retired)
    if replacement is not None:
        os.replace(replacement, folder)
    shutil.rmtree(retired, ignore_errors=True)


def _publish(base: Path, write: Callable[[Path], None], keep: int) -> Path:
    """Writes a new version under ``base`` through ``write(staging_dir)`` and an
    atomic rename; prunes to the newest ``keep`` versions that the package
    wrote; returns the version folder."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1 (the version just written), got {keep}.")
    ownership.claim(base, BASE_KIND, "tfgan_zoo.export.save", written_before_markers=_base_before_markers)
    _remove_leftovers(base, (_STAGING_PREFIX, _RETIRED_PREFIX))
    existing = version_dirs(base)
    version = int(existing[-1].name) + 1 if existing else 1
    staging = _write_staged(base, f"{_STAGING_PREFIX}{version}-", write)
    target = base / str(version)
    os.replace(staging, target)
    for old in version_dirs(base)[:-keep]:
        if _is_our_saved_model(old):
            _retire(old, f"{_RETIRED_PREFIX}{old.name}-")
        else:
            logger.warning("Not pruning %s: tfgan_zoo did not write it (it has no %s marker).",
                           old, ownership.MARKER)
    return target


# -------------------------------------------------------------- precision
def inference_network(network: keras.Model, precision: str = "float32") -> keras.Model:
    """``network`` to export: a float32 copy with the same weights when it was
    built under a mixed dtype policy (``precision="float32"``), else itself.

    A bf16 graph cannot be converted to TFLite builtins and loses precision on
    devices without bf16 units; the variables are float32 under mixed
    policies already, so the copy costs no accuracy.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}.")
    if precision == "training" or network.dtype_policy.compute_dtype == "float32":
        return network
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        copy = type(network).from_config({**network.get_config(), "dtype": "float32"})
    finally:
        keras.config.set_dtype_policy(previous)
    copy.build_for_inputs()
    copy.set_weights(network.get_weights())
    return copy


# ------------------------------------------------------------ input checks
def _check_noise(noise, latent_dim: int):
    """Signatures do not enforce static shapes at call time: say what is wrong
    instead of failing deep inside a matmul, or drawing black images from NaN."""
    shape_message = f"noise must be float32 [batch, {latent_dim}]"
    return [
        tf.debugging.assert_rank(noise, 2, message=shape_message),
        tf.debugging.assert_equal(tf.shape(noise)[-1], latent_dim, message=shape_message),
        # Assert (unlike CheckNumerics) is dropped by the TFLite converter, so
        # the signature still converts with builtin ops only.
        tf.debugging.Assert(
            tf.reduce_all(tf.math.is_finite(noise)), ["noise must be finite: it holds NaN or Inf values"]
        ),
    ]


def _class_ids(labels, num_classes: int):
    """int32 class ids ``[batch]`` of the ``labels`` a client sent: class ids ``[batch]``
    or ``[batch, 1]``, or one-hot rows ``[batch, num_classes]`` (numpy callers' float rows
    arrive cast to int32), each form checked. Without branches, so that the
    signature converts to TFLite builtins and to ONNX."""
    forms = f"labels must be class ids [batch] or one-hot rows [batch, {num_classes}]"
    with tf.control_dependencies([tf.debugging.assert_rank_in(labels, [1, 2], message=forms)]):
        shape = tf.shape(labels)
    width = tf.reduce_prod(shape[1:])  # 1 for ids [batch], and for an empty batch too
    rows = tf.reshape(labels, tf.stack([shape[0], width]))
    # With one class, a row [batch, 1] is a class id and a one-hot row alike: either is 0.
    one_hot = tf.logical_and(tf.equal(width, num_classes), num_classes > 1)
    is_one_hot = tf.reduce_all(tf.logical_and(
        tf.reduce_all(tf.logical_or(tf.equal(rows, 0), tf.equal(rows, 1)), axis=1),
        tf.equal(tf.reduce_sum(rows, axis=1), 1),
    ))
    ids = tf.where(one_hot, tf.argmax(rows, axis=1, output_type=tf.int32), rows[:, 0])
    range_message = f"labels must be class ids in [0, {num_classes - 1}]"
    checks = [
        tf.debugging.Assert(tf.logical_or(tf.equal(width, 1), one_hot), [forms]),
        tf.debugging.Assert(tf.logical_or(tf.logical_not(one_hot), is_one_hot),
                            [f"one-hot labels must hold a single 1 per row, the rest 0 ({forms})"]),
        tf.debugging.assert_non_negative(ids, message=range_message),
        tf.debugging.assert_less(ids, tf.constant(num_classes, tf.int32), message=range_message),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(ids)


# -------------------------------------------------------------- signatures
def _check_batch(count, max_batch: int):
    """A request over the export's batch cap fails before anything is allocated for it."""
    return tf.debugging.assert_less_equal(
        tf.cast(count, tf.int64), tf.constant(max_batch, tf.int64),
        # No apostrophe: TF prints the message with it escaped.
        message=(f"a request may ask for at most {max_batch} images (the max_batch of this export): split it "
                 "into smaller ones, or export again with tfgan_zoo.export.save(model, path, max_batch=N)"),
    )


def _generator_signatures(generator, latent_dim: int, num_classes: int, max_batch: int) -> dict:
    """``{name: (tf.function, warmup inputs)}`` of a noise -> image generator."""
    noise_spec = tf.TensorSpec([None, latent_dim], tf.float32, name="noise")
    # int64: a client's int64 seed is taken whole; an int32 input would make it wrap (2**32 -> 0) on the way in.
    seed_spec = tf.TensorSpec([], tf.int64, name="seed")
    # Any rank: class ids [batch] or one-hot rows [batch, num_classes] (_class_ids).
    labels_spec = tf.TensorSpec(None, tf.int32, name="labels")

    def run(noise, labels=None):
        with tf.control_dependencies([*_check_noise(noise, latent_dim), _check_batch(tf.shape(noise)[0], max_batch)]):
            noise = tf.identity(noise)
        inputs = noise if labels is None else (noise, labels)
        return {"images": to_uint8(generator(inputs, training=False))}

    def seeded_noise(count, seed):
        with tf.control_dependencies([_check_batch(count, max_batch)]):
            shape = tf.stack([count, latent_dim])
        return tf.random.stateless_normal(shape, seed=tf.stack([seed, tf.constant(0, tf.int64)]))

    warm_noise = np.zeros([1, latent_dim], np.float32)
    warm_seed = np.array(0, np.int64)
    if num_classes:

        @tf.function(input_signature=[noise_spec, labels_spec])
        def generate(noise, labels):
            ids = _class_ids(labels, num_classes)
            check = tf.debugging.assert_equal(
                tf.shape(noise)[0], tf.shape(ids)[0], message="noise and labels must have the same batch size",
            )
            with tf.control_dependencies([check]):
                return run(noise, ids)

        @tf.function(input_signature=[labels_spec, seed_spec])
        def sample(labels, seed):
            ids = _class_ids(labels, num_classes)
            return run(seeded_noise(tf.shape(ids)[0], seed), ids)

        warm_labels = np.zeros([1], np.int32)
        return {
            "generate": (generate, {"noise": warm_noise, "labels": warm_labels}),
            "sample": (sample, {"labels": warm_labels, "seed": warm_seed}),
        }

    @tf.function(input_signature=[noise_spec])
    def generate(noise):
        return run(noise)

    @tf.function(input_signature=[tf.TensorSpec([], tf.int32, name="num_samples"), seed_spec])
    def sample(num_samples, seed):
        check = tf.debugging.assert_non_negative(num_samples, message="num_samples must be >= 0")
        with tf.control_dependencies([check]):
            return run(seeded_noise(num_samples, seed))

    return {
        "generate": (generate, {"noise": warm_noise}),
        "sample": (sample, {"num_samples": np.array(1, np.int32), "seed": warm_seed}),
    }


def _translator_signature(generator, image_size: int, max_batch: int):
    """``(tf.function, warmup inputs)`` of a uint8 -> uint8 image translator."""
    input_shape = [image_size, image_size, int(generator.input_channels)]

    @tf.function(input_signature=[tf.TensorSpec([None, *input_shape], tf.uint8, name="image")])
    def translate(image):
        check = tf.debugging.assert_equal(
            tf.shape(image)[1:], tf.constant(input_shape),
            message=(
                f"image must be uint8 [batch, {', '.join(map(str, input_shape))}]; "
                f"resize images to {image_size}x{image_size} first"
            ),
        )
        count = tf.shape(image)[0]
        with tf.control_dependencies([check, _check_batch(count, max_batch)]):
            images = uint8_to_model_range(image)
        # Convolutions and reflection padding fail on an empty batch on CPU: an
        # empty request runs one blank image and answers with none of it, as the
        # generators answer. Padding rather than a tf.cond, which tf2onnx cannot
        # convert (the weights read inside a branch are not frozen).
        blank = tf.zeros(tf.concat([[1 - tf.minimum(count, 1)], input_shape], 0), images.dtype)
        translated = generator(tf.concat([images, blank], 0), training=False)[:count]
        return {"image": to_uint8(translated)}

    return translate, {"image": np.zeros([1, *input_shape], np.uint8)}


# ------------------------------------------------------------------ writing
def _write_warmup(saved_model_dir: Path, requests: dict, model_name: str):
    """``assets.extra/tf_serving_warmup_requests``: one PredictRequest per signature,
    as TF Serving reads it (a TFRecord of PredictionLog)."""
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    path = saved_model_dir / WARMUP_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for signature, inputs in requests.items():
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature)
            )
            for name, value in inputs.items():
                request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())


def read_warmup_requests(path: str | os.PathLike) -> dict:
    """``{signature_name: {input_name: np.ndarray}}`` from the warmup file of the export at ``path``."""
    from tensorflow_serving.apis import prediction_log_pb2

    requests = {}
    for record in tf.data.TFRecordDataset(str(latest_export(path) / WARMUP_FILE)):
        log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
        request = log.predict_log.request
        requests[request.model_spec.signature_name] = {
            name: tf.make_ndarray(tensor) for name, tensor in request.inputs.items()
        }
    return requests


def _write_archive(target: Path, networks: list, signatures: dict, metadata: dict, model_name: str):
    """Writes one SavedModel at ``target`` with ``signatures`` (name -> (fn, warmup
    inputs); the first is also ``serving_default``), its warmup file and metadata."""
    archive = keras.export.ExportArchive()
    for network in networks:
        archive.track(network)
    for name, (function, _) in signatures.items():
        archive.add_endpoint(name, function)
    archive.write_out(str(target), verbose=False)
    first_inputs = next(iter(signatures.values()))[1]
    requests = {name: inputs for name, (_, inputs) in signatures.items()}
    _write_warmup(target, {**requests, "serving_default": first_inputs}, model_name=model_name)
    (target / METADATA_FILE).write_text(json.dumps(metadata, indent=2))


def _generator_parts(gan: Sampling, precision: str, class_names: list[str] | None, max_batch: int):
    """``(networks, signatures, metadata)`` of a noise-to-image model's export."""
    trained = gan.sampling_generator
    generator = inference_network(trained, precision)
    num_classes, latent_dim = int(gan.num_classes), int(gan.latent_dim)
    if class_names is not None and len(class_names) != num_classes:
        raise ValueError(
            f"class_names has {len(class_names)} entries but the model has {num_classes} classes."
        )
    signatures = _generator_signatures(generator, latent_dim, num_classes, max_batch)
    metadata = {
        "family": type(gan).__name__,
        "latent_dim": latent_dim,
        "num_classes": num_classes,
        "class_names": None if class_names is None else [str(name) for name in class_names],
        "image_shape": list(generator.image_shape),
        "weights": "trained" if any(trained is network for network in gan.generators.values()) else "ema",
        "compute_dtype": generator.dtype_policy.compute_dtype,
        "signatures": list(signatures),
        "max_batch": max_batch,
    }
    return [generator], signatures, metadata


def _translator_parts(translators: dict, image_size: int, family: str, precision: str, max_batch: int):
    """``(networks, signatures, metadata)`` of image-to-image generators' export."""
    if not translators:
        raise ValueError("translators is empty; pass a mapping like {'translate': model.generator}.")
    image_size = int(image_size)
    networks = {name: inference_network(generator, precision) for name, generator in translators.items()}
    signatures = {name: _translator_signature(network, image_size, max_batch) for name, network in networks.items()}
    metadata = {
        "family": family,
        "image_size": image_size,
        "channels": {
            name: {"input": int(network.input_channels), "output": int(network.output_channels)}
            for name, network in networks.items()
        },
        "compute_dtype": next(iter(networks.values())).dtype_policy.compute_dtype,
        "signatures": list(translators),
        "max_batch": max_batch,
    }
    return list(networks.values()), signatures, metadata


class _BareTranslators:
    """Image-to-image networks that no model holds, as a :class:`Translating`
    model, so that :func:`save_translators` exports them through :func:`save`."""

    def __init__(self, translators: dict, image_size: int, family: str):
        self.translators, self.image_size, self.family = dict(translators), int(image_size), family

    def translate(self, images, direction: str, batch_size: int = 16) -> np.ndarray:
        return translate_images(self.translators[direction], images, self.image_size, batch_size)


def _model_parts(
    model, precision: str, class_names: list[str] | None = None, translators: dict | None = None,
    max_batch: int = MAX_BATCH,
):
    """``(networks, signatures, metadata)`` of ``model``'s export, chosen by its protocol."""
    if isinstance(max_batch, bool) or not isinstance(max_batch, (int, np.integer)) or max_batch < 1:
        raise ValueError(f"max_batch must be a whole number of images, at least 1, got {max_batch!r}.")
    max_batch = int(max_batch)
    family = model.family if isinstance(model, _BareTranslators) else type(model).__name__
    if isinstance(model, Translating):
        if class_names is not None:
            raise ValueError(f"class_names names the classes of a noise-to-image model; {family} translates images.")
        chosen = model.translators if translators is None else translators
        return _translator_parts(chosen, model.image_size, family, precision, max_batch)
    if isinstance(model, Sampling):
        if translators is not None:
            raise ValueError(f"translators chooses the networks of an image-to-image model; {family} samples noise.")
        return _generator_parts(model, precision, class_names, max_batch)
    raise TypeError(
        f"Cannot export a {family}: it is neither a noise-to-image model (tfgan_zoo.models.base.Sampling: "
        "latent_dim, num_classes, sampling_generator, sample_inputs, generate) nor an image-to-image one "
        "(Translating: image_size, translators, translate). Give the family one of these protocols "
        "(docs/adding_a_family.md)."
    )


def write_saved_model(
    model,
    path: str | os.PathLike,
    *,
    precision: str = "float32",
    class_names: list[str] | None = None,
    max_batch: int = MAX_BATCH,
) -> Path:
    """Writes ``model``'s serving SavedModel at exactly ``path`` (what ``model.export(path)``
    does); returns ``path``. Any family: a generator's ``generate``/``sample`` or a
    translator's signatures, as the versioned exports; options as :func:`save`'s.

    An earlier SavedModel that this function wrote at ``path`` is replaced;
    anything else there (a run directory, a folder of the user's) is left
    alone and :class:`~tfgan_zoo.runs.ownership.NotOurs` raised before
    anything is written.
    """
    path = Path(path)
    parts = _model_parts(model, precision, class_names, max_batch=max_batch)
    replaceable = _is_our_saved_model(path) or ownership.holds_nothing(path)
    if path.is_symlink() or (path.exists() and not replaceable):
        raise ownership.NotOurs(
            path, "exists and is not a SavedModel that tfgan_zoo exported",
            "Export into a new folder, or move this one away first.",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    staging_prefix, retired_prefix = f"{_STAGING_PREFIX}{path.name}-", f"{_RETIRED_PREFIX}{path.name}-"
    _remove_leftovers(path.parent, (staging_prefix, retired_prefix))
    staging = _write_staged(
        path.parent, staging_prefix, lambda folder: _write_archive(folder, *parts, model_name=path.name)
    )
    if path.exists():
        _retire(path, retired_prefix, replacement=staging)
    else:
        os.replace(staging, path)
    return path


def save(
    model,
    base: str | os.PathLike,
    *,
    translators: dict | None = None,
    precision: str = "float32",
    class_names: list[str] | None = None,
    keep: int = VERSIONS_KEPT,
    max_batch: int = MAX_BATCH,
) -> Path:
    """Exports ``model`` as the next version under base path ``base``; returns
    the version folder (``base/N``).

    What is exported follows the model's protocol: a ``Sampling`` model's
    ``sampling_generator`` (the EMA generator when the model keeps one) as
    ``generate`` and ``sample``; a ``Translating`` model's ``translators`` as one
    signature each, in one SavedModel (see the module docstring).

    Args:
        model: a family model: :class:`~tfgan_zoo.models.base.Sampling` (DCGAN,
            ConditionalGAN) or :class:`~tfgan_zoo.models.base.Translating`
            (Pix2Pix, CycleGAN).
        base: the base path that TF Serving watches (``--model_base_path``).
        translators: name -> image-to-image network, to export other or several
            networks of a ``Translating`` model instead of its ``translators``.
        precision: ``"float32"`` (default) or ``"training"`` (the training dtype
            policy, e.g. bf16).
        class_names: the label of each class id of a ``Sampling`` model,
            recorded in the metadata for clients (the demo page shows them).
        keep: versions kept under ``base``, the newest. Only versions that
            tfgan_zoo wrote are pruned.
        max_batch: the most images one request to a signature may ask for
            (noise rows, labels, ``num_samples`` or images); a larger request
            fails with an error that says so, before anything is allocated.

    ``base`` is created with a ``.tfgan_zoo`` marker; an existing folder
    without one (a run directory, a folder of the user's) is refused with
    :class:`~tfgan_zoo.runs.ownership.NotOurs` before anything is written.
    """
    base = Path(base)
    parts = _model_parts(model, precision, class_names, translators, max_batch)
    return _publish(base, lambda staging: _write_archive(staging, *parts, model_name=base.name), keep)


def save_generator(gan, path: str | os.PathLike, **options) -> Path:
    """:func:`save` of a noise-to-image model (the name from before :func:`save`)."""
    return save(gan, path, **options)


def save_translator(model, path: str | os.PathLike, signatures: dict | None = None, **options) -> Path:
    """:func:`save` of an image-to-image model; ``signatures``: :func:`save`'s ``translators``."""
    return save(model, path, translators=signatures, **options)


def save_cycle_translators(model, path: str | os.PathLike, **options) -> Path:
    """:func:`save` of a :class:`tfgan_zoo.CycleGAN` (signatures ``a_to_b`` and ``b_to_a``)."""
    return save(model, path, **options)


def save_translators(
    path: str | os.PathLike, translators: dict, image_size: int, family: str = "translator", **options
) -> Path:
    """:func:`save` of image-to-image networks that no model holds: one signature
    per entry of ``translators`` (name -> network mapping ``[B, image_size,
    image_size, input_channels]`` images in [-1, 1] to ``output_channels`` ones,
    as every :class:`tfgan_zoo.networks.ImageTranslator` does), metadata family
    ``family``. ``options``: ``precision``, ``keep``."""
    return save(_BareTranslators(translators, image_size, family), path, **options)


# ---------------------------------------------------------- other formats
FORMATS = ("tf_saved_model", "litert", "onnx")
# What each format's writer takes besides the model and the path.
FORMAT_OPTIONS = {
    "tf_saved_model": ("precision", "class_names", "max_batch"),
    "litert": ("signature", "quantization", "class_names"),
    "onnx": ("signature", "opset_version", "class_names"),
}
# Keras formats that model.export does not write, and the way to get them.
_OTHER_FORMATS = {
    "openvino": "OpenVINO reads ONNX: export format='onnx', then openvino.convert_model(path).",
    "torch": "format='torch' is for Keras' PyTorch backend; tfgan_zoo runs on TensorFlow.",
}
ONNX_METADATA_KEY = "tfgan_zoo"
TF2ONNX_MINIMUM = (1, 17)


def export_model(model, filepath: str | os.PathLike, format: str = "tf_saved_model", **options) -> Path:
    """What ``model.export(filepath, format=..., **options)`` does for every family;
    returns the path written.

    * ``"tf_saved_model"`` (default): the serving SavedModel at ``filepath``
      (:func:`write_saved_model`; options ``precision``, ``class_names``, ``max_batch``).
    * ``"litert"``: one signature as a ``.tflite`` file of TFLite builtin ops,
      converted from that SavedModel by :func:`tfgan_zoo.tflite.convert`
      (options ``signature``, ``quantization``, ``class_names``).
    * ``"onnx"``: one signature as an ``.onnx`` file (:func:`write_onnx`; options
      ``signature``, ``opset_version``, ``class_names``).
    """
    if format not in FORMATS:
        hint = _OTHER_FORMATS.get(format, "")
        raise ValueError(f"format={format!r} is not supported: model.export writes "
                         f"{', '.join(map(repr, FORMATS))}. {hint}".rstrip())
    unknown = sorted(set(options) - set(FORMAT_OPTIONS[format]))
    if unknown:
        raise ValueError(f"model.export(format={format!r}) takes no option {', '.join(unknown)}; its options are "
                         f"{', '.join(FORMAT_OPTIONS[format])}.")
    if format == "tf_saved_model":
        return write_saved_model(model, filepath, **options)
    if format == "litert":
        return write_litert(model, filepath, **options)
    return write_onnx(model, filepath, **options)


def file_metadata(metadata: dict, signature: str) -> dict:
    """What a one-signature file (``.tflite``, ``.onnx``) carries of its export's
    ``metadata``: all but the SavedModel's signature list and batch cap (its
    converters drop the check), and the signature it holds."""
    kept = {key: value for key, value in metadata.items() if key not in ("signatures", "max_batch")}
    return {**kept, "signature": signature}


def write_litert(
    model, path: str | os.PathLike, *, signature: str | None = None, quantization: str = "none",
    class_names: list[str] | None = None,
) -> Path:
    """Writes ``signature`` of ``model``'s export (default: the first) as a ``.tflite``
    file at ``path``: the SavedModel is written to a temporary folder and converted
    with TFLite builtins only (:func:`tfgan_zoo.tflite.convert`, which replaces no
    file but one it wrote); returns ``path``."""
    from tfgan_zoo import tflite  # tflite imports this module

    path = Path(path)
    tflite.check_output(path, fix="Export to another path, or delete or move this file yourself first.")
    with tempfile.TemporaryDirectory(prefix="tfgan_zoo-litert-") as scratch:
        saved_model = write_saved_model(model, Path(scratch) / "saved_model", class_names=class_names)
        return tflite.convert(saved_model, signature, quantization, output=path)


def _onnx_converter():
    """``(tf2onnx, onnx)``, or an ImportError that says what to install."""
    install = "pip install 'tf2onnx>=1.17' onnx"
    try:
        import onnx
        import tf2onnx
    except ImportError as error:
        raise ImportError(f"Exporting to ONNX needs tf2onnx and onnx ({error}): {install}") from error
    version = tuple(int(part) for part in tf2onnx.__version__.split(".")[:2] if part.isdigit())
    if version < TF2ONNX_MINIMUM:
        raise ImportError(
            f"tf2onnx {tf2onnx.__version__} cannot convert for this TensorFlow: before 1.17 it requires "
            f"protobuf 3 and calls numpy functions that numpy 2 removed. {install} --upgrade"
        )
    return tf2onnx, onnx


def read_onnx_metadata(path: str | os.PathLike) -> dict | None:
    """The export metadata that :func:`write_onnx` put in the ``.onnx`` file at ``path``
    (its ``tfgan_zoo.json`` and ``"signature"``); None when the file carries none."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # onnx raises protobuf's DecodeError and its own errors on files of other kinds
        return None
    for prop in model.metadata_props:
        if prop.key == ONNX_METADATA_KEY:
            with contextlib.suppress(ValueError):
                return json.loads(prop.value)
    return None


@contextlib.contextmanager
def _quiet(logger_name: str):
    # Every failure of the conversion is raised with its cause; the converter's own
    # log lines (tracebacks of the nodes it could not convert) only repeat it.
    converter_logger = logging.getLogger(logger_name)
    level = converter_logger.level
    converter_logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        converter_logger.setLevel(level)


def write_onnx(
    model, path: str | os.PathLike, *, signature: str | None = None, opset_version: int | None = None,
    class_names: list[str] | None = None,
) -> Path:
    """Writes ``signature`` of ``model``'s export (default: the first) as an ONNX
    model at ``path``, converted by tf2onnx as Keras converts (``opset_version``:
    tf2onnx's default when None); returns ``path``.

    The graph is the signature's, in float32, with the signature's input names
    (``noise``, ``labels``, ``image``) and one output, ``images`` uint8. A
    conditional model's ``labels`` are class ids ``[batch]`` only: an ONNX input
    has one rank (take ``argmax`` of one-hot rows). As in TFLite, the signature's
    input checks are dropped. ``sample`` does not convert (ONNX has no seeded
    random ops): draw the noise on the client and call ``generate``. The file
    carries the export's metadata (:func:`read_onnx_metadata`); an existing
    file at ``path`` is replaced only when it carries it.
    """
    tf2onnx, onnx = _onnx_converter()
    path = Path(path)
    check_file_replaceable(path, lambda file: read_onnx_metadata(file) is not None, "an ONNX model",
                           "Export to another path, or delete or move this file yourself first.")
    _, signatures, metadata = _model_parts(model, "float32", class_names)
    name = signature or next(iter(signatures))
    if name not in signatures:
        raise ValueError(f"{metadata['family']} has no signature {name!r}; it has {', '.join(map(repr, signatures))}.")
    function, _ = signatures[name]
    specs = [tf.TensorSpec([None], spec.dtype, spec.name) if spec.shape.rank is None else spec
             for spec in function.input_signature]

    # "images" for every family: a translator's output name, "image", is its input's, and
    # tf2onnx cannot convert a graph whose output and input share a name.
    @tf.function(input_signature=specs)
    def graph(*inputs):
        (images,) = function(*inputs).values()
        return {"images": images}

    fix = ("Export format='tf_saved_model' and serve it with TensorFlow, or format='litert'."
           if name != "sample" else
           "ONNX has no seeded random ops: export signature='generate' and draw the noise on the client.")
    try:
        with _quiet("tf2onnx"):
            proto, _ = tf2onnx.convert.from_function(graph, input_signature=specs, opset=opset_version)
    except Exception as error:  # tf2onnx raises whatever its op handlers raise
        raise RuntimeError(f"tf2onnx {tf2onnx.__version__} could not convert signature {name!r} to ONNX "
                           f"({type(error).__name__}: {error}). {fix}") from error
    # tf2onnx leaves the TensorFlow ops that it cannot map in the graph, and a runtime would refuse the file.
    unmapped = sorted({node.op_type for node in proto.graph.node if not onnx.defs.has(node.op_type, node.domain)})
    if unmapped:
        raise RuntimeError(f"Could not convert signature {name!r} to ONNX: tf2onnx {tf2onnx.__version__} has no ONNX "
                           f"ops for {', '.join(unmapped)}. {fix}")
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as error:
        raise RuntimeError(f"tf2onnx {tf2onnx.__version__} wrote an invalid ONNX model of signature {name!r} "
                           f"({error}). {fix}") from error
    onnx.helper.set_model_props(proto, {ONNX_METADATA_KEY: json.dumps(file_metadata(metadata, name))})
    write_file(path, proto.SerializeToString())
    return path
