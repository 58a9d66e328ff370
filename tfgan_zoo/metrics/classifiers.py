"""Classifiers of real images and what they read in generated ones.

Trained on the real *training* split (never on the images scores are computed
on), cached on disk, always float32: their ``features`` layer is the feature
space of :class:`~tfgan_zoo.metrics.DomainFeatures` and of the translation
scores, and their predictions give conditional models' label accuracy and
translators' target-domain share.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import sys
from pathlib import Path

import keras
import numpy as np

from tfgan_zoo.metrics.images import as_uint8_images

DOMAIN_A, DOMAIN_B = 0, 1  # the translation classifier's labels


def build_domain_classifier(image_shape, num_classes: int) -> keras.Model:
    """Two conv blocks and a dense head: >= 99% on MNIST test after 3 epochs."""
    return keras.Sequential(
        [
            keras.Input(image_shape),
            keras.layers.Rescaling(1.0 / 255.0),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(128, activation="relu", name="features"),
            keras.layers.Dense(num_classes, dtype="float32", name="logits"),
        ],
        name="domain_classifier",
    )


def build_colour_classifier(image_shape, num_classes: int) -> keras.Model:
    """Four stride-2 conv layers, global pooling and a 128-d ``features`` layer:
    the feature network for colour images of 32 px and up (e.g. 64x64 faces).
    No batch norm: on a few thousand images its inference statistics made
    validation accuracy collapse (40% vs 63% without, anime hair colours)."""
    layers = [keras.Input(image_shape), keras.layers.Rescaling(1.0 / 127.5, offset=-1.0)]
    for filters in (32, 64, 128, 128):
        layers.append(keras.layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu"))
    layers += [
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(128, activation="relu", name="features"),
        keras.layers.Dense(num_classes, dtype="float32", name="logits"),
    ]
    return keras.Sequential(layers, name="colour_classifier")


def rotation_task(images: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Self-supervised labels for a folder without any: every image turned by 0,
    90, 180 and 270 degrees, labelled 0-3, shuffled (Gidaris et al. 2018). A
    network that tells the rotations apart has to recognise what is upright
    in the domain (faces, eyes, horizons), so its features describe it."""
    images = as_uint8_images(images)
    if images.shape[1] != images.shape[2]:
        raise ValueError(f"rotation_task needs square images, got {images.shape[1:3]}.")
    rotated = np.concatenate([np.rot90(images, k, axes=(1, 2)) for k in range(4)])
    labels = np.repeat(np.arange(4, dtype=np.int32), len(images))
    order = np.random.default_rng(seed).permutation(len(rotated))
    return rotated[order], labels[order]


# Part of every cache key: bumped when a builder, a default or the training
# changes what a cached classifier is, so that caches made before are not reused.
CLASSIFIER_VERSION = 2


def network_key(name: str, **built_from) -> str:
    """``{name}_{16 hex digits}``: the key of a cached network, a hash of everything
    it is built from (training images and labels, epochs, seed, builder, ...) and
    :data:`CLASSIFIER_VERSION`. Arrays count by dtype, shape and bytes, lists,
    tuples and dicts by their items, plain values as written, other objects (a
    callback) by their class. Other data or another setting gives another key."""
    described = json.dumps(_describe({"version": CLASSIFIER_VERSION, **built_from}), sort_keys=True)
    return f"{name}_{hashlib.blake2b(described.encode(), digest_size=8).hexdigest()}"


def _describe(value):
    """``value`` as JSON that changes when what it holds changes (see :func:`network_key`)."""
    if isinstance(value, np.ndarray):
        contents = hashlib.blake2b(np.ascontiguousarray(value).data, digest_size=16).hexdigest()
        return {"dtype": value.dtype.str, "shape": list(value.shape), "contents": contents}
    if isinstance(value, (list, tuple)):
        return [_describe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _describe(item) for key, item in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if callable(value) and hasattr(value, "__qualname__"):  # a builder function
        return f"{value.__module__}.{value.__qualname__}"
    return type(value).__qualname__  # an object's kind: its repr would hold a per-process address


def domain_classifier(
    train_images: np.ndarray,
    train_labels: np.ndarray,
    num_classes: int,
    cache_path: str | Path | None = None,
    epochs: int = 3,
    seed: int = 0,
    builder=None,
    batch_size: int = 128,
    verbose: int = 2,
    cache_key: str | None = None,
    **fit_options,
) -> keras.Model:
    """Trains the classifier on uint8 images, or loads it from ``cache_path``.

    ``builder(image_shape, num_classes)`` makes the model (default
    :func:`build_domain_classifier`); it needs a ``features`` and a ``logits``
    layer. ``verbose`` is ``model.fit``'s, and when not 0 a line first says
    what is being trained; other ``fit_options`` (e.g. ``validation_data``,
    ``class_weight``) go to ``model.fit`` too.

    ``cache_key`` names what the cached file is built from (default: the
    :func:`network_key` of the images, labels and every argument here); it is kept
    beside the file (``cache_path`` + ``.json``), and a file kept for another key
    (other data, another setting, or made before keys were kept) is trained
    again and replaced, saying so, as is a file that cannot be read. Only a
    cache a caller names by its key (as the experiments do) lets several coexist.
    """
    if cache_path is not None:
        cache_path = Path(cache_path)
        if cache_key is None:
            cache_key = network_key(
                "classifier", images=train_images, labels=train_labels, num_classes=num_classes, epochs=epochs,
                seed=seed, builder=builder or build_domain_classifier, batch_size=batch_size, fit_options=fit_options,
            )
        cached = cached_classifier(cache_path, cache_key)
        if cached is not None:
            return cached
    if verbose:
        cached = f", then kept in {cache_path}" if cache_path is not None else ""
        print(f"Training the evaluation classifier on {len(train_images)} images for {epochs} epoch(s){cached}.",
              flush=True)
    keras.utils.set_random_seed(seed)
    # float32 whatever the caller's policy: scores must not depend on the GAN's precision.
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        model = (builder or build_domain_classifier)(train_images.shape[1:], num_classes)
    finally:
        keras.config.set_dtype_policy(policy)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(train_images, train_labels, batch_size=batch_size, epochs=epochs, verbose=verbose, **fit_options)
    if cache_path is not None:
        keep_classifier(model, cache_path, cache_key)
    return model


def _key_file(cache_path: Path) -> Path:
    return cache_path.with_name(cache_path.name + ".json")


def cached_classifier(cache_path: str | Path, key: str) -> keras.Model | None:
    """The classifier kept at ``cache_path`` for ``key`` (see :func:`keep_classifier`), or
    None: when there is none, and, saying why, when the file there was kept for
    another key or cannot be read (it is then to be trained again and replaced)."""
    cache_path = Path(cache_path)
    if not cache_path.exists():
        return None
    try:
        kept_for = json.loads(_key_file(cache_path).read_text()).get("cache_key")
    except (OSError, ValueError, AttributeError):
        kept_for = None
    if kept_for is None:
        print(f"The cached classifier {cache_path} has no readable record of what it was trained on "
              f"({_key_file(cache_path).name}; made before caches were keyed, or its writing was cut short): "
              "training it again.", file=sys.stderr)
        return None
    if kept_for != key:
        print(f"The cached classifier {cache_path} was trained on other data or with other settings "
              f"(kept for {kept_for}, needed {key}): training it again.", file=sys.stderr)
        return None
    try:
        return keras.saving.load_model(cache_path)
    except Exception as error:  # a truncated or damaged file fails in many ways (zip, h5, JSON, Keras)
        print(f"The cached classifier {cache_path} cannot be read ({type(error).__name__}: {error}): "
              "training it again.", file=sys.stderr)
        return None


def keep_classifier(model: keras.Model, cache_path: str | Path, key: str) -> None:
    """Saves ``model`` at ``cache_path`` with ``key`` beside it (``cache_path`` + ``.json``).

    The old key goes first and the new one last, each file whole or not at all: a
    kill in between leaves a file without a key, trained again next time, never
    one under another file's key. A cache that cannot be written is said and
    skipped: the classifier is in hand."""
    cache_path = Path(cache_path)
    key_file = _key_file(cache_path)
    partial = cache_path.with_name(f".{cache_path.stem}.{os.getpid()}.partial.keras")
    key_partial = key_file.with_name(f".{key_file.name}.{os.getpid()}.partial")
    try:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        key_file.unlink(missing_ok=True)
        model.save(partial)
        os.replace(partial, cache_path)
        key_partial.write_text(json.dumps({"cache_key": key}))
        os.replace(key_partial, key_file)
    except OSError as error:
        print(f"The evaluation classifier cannot be kept in {cache_path} ({error.strerror or error}); continuing "
              "without the cache. Pass a writable --cache-dir to keep it.", file=sys.stderr)
    finally:
        for leftover in (partial, key_partial):
            # NotADirectoryError: the cache's folder could not be made (a file in its
            # path, as under a HOME that is a file), so nothing was written there.
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                leftover.unlink()


def predict_classes(model: keras.Model, images) -> np.ndarray:
    """The class ``model`` reads in each image (uint8, or floats in [-1, 1])."""
    return np.argmax(model.predict(as_uint8_images(images), batch_size=500, verbose=0), axis=-1)


def classifier_accuracy(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> float:
    """Share of ``images`` that ``model`` reads as their ``labels``."""
    return float(np.mean(predict_classes(model, images) == labels))


def label_scores(predictions: np.ndarray, labels: np.ndarray, num_classes: int) -> dict:
    """Label accuracy of predicted classes against the labels samples were made for.

    Returns overall accuracy, per-class accuracy (NaN for a class with no
    samples), class coverage (the share of predictions that fall in each
    class: 1/num_classes each when balanced) and ``classes_present``: how
    many classes are read correctly for most of the samples made for them.
    """
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    per_class = [
        float(np.mean(predictions[labels == c] == c)) if np.any(labels == c) else math.nan
        for c in range(num_classes)
    ]
    coverage = np.bincount(predictions, minlength=num_classes) / len(predictions)
    return {
        "accuracy": float(np.mean(predictions == labels)),
        "per_class_accuracy": per_class,
        "coverage": coverage.tolist(),
        "classes_present": int(sum(accuracy > 0.5 for accuracy in per_class)),
    }


def label_accuracy(model: keras.Model, images: np.ndarray, labels: np.ndarray, num_classes: int) -> dict:
    """:func:`label_scores` of ``model``'s reading of generated ``images`` made for ``labels``."""
    return label_scores(predict_classes(model, images), labels, num_classes)


def build_translation_classifier(image_shape, num_classes: int = 2, width: int = 24, blocks: int = 5) -> keras.Model:
    """A domain classifier for colour images of 32-256 px (e.g. horses vs zebras).

    Random horizontal flips (training only), a stride-2 3x3 convolution of
    ``width`` filters, then ``blocks - 1`` blocks of a stride-2 and a stride-1
    3x3 convolution (filters doubling per block up to ``4 * width``), each
    convolution batch-normalised and ReLU'd: ``2**blocks`` times smaller (128 px
    -> 4x4 by default). Then global average pooling (the ``features`` layer,
    ``4 * width``-d for ``blocks`` >= 3) and dropout before the ``logits``.
    Flips are the only augmentation: adding random shifts and zooms (reflected
    borders) did not help on horse2zebra (69-88% held-out accuracy in two tries,
    vs ~91% with flips alone).
    """

    def conv(filters: int, strides: int) -> list:
        return [
            keras.layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
        ]

    layers = [
        keras.Input(image_shape),
        keras.layers.Rescaling(1.0 / 127.5, offset=-1.0),
        keras.layers.RandomFlip("horizontal"),
        *conv(width, 2),
    ]
    filters = width
    for _ in range(blocks - 1):
        filters = min(2 * filters, 4 * width)
        layers += conv(filters, 2) + conv(filters, 1)
    layers += [
        keras.layers.GlobalAveragePooling2D(name="features"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(num_classes, dtype="float32", name="logits"),
    ]
    return keras.Sequential(layers, name="translation_classifier")


def translation_classifier(
    images_a: np.ndarray,
    images_b: np.ndarray,
    cache_path: str | Path | None = None,
    epochs: int = 12,
    seed: int = 0,
    width: int = 24,
    blocks: int = 5,
    batch_size: int = 32,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    cache_key: str | None = None,
) -> keras.Model:
    """Trains (or loads from ``cache_path``) a classifier of domain A (label 0) vs B (label 1).

    ``images_a``, ``images_b``: uint8 ``[N, S, S, 3]`` training images of each
    domain (the *train* split: never the images scores are computed on). Classes
    are weighted to count equally whatever the domain sizes; the learning rate
    (Adam, 1e-3) decays to 0 along a cosine over the ``epochs``. ``validation``:
    optional ``(val_a, val_b)``, reported per epoch. Goes through
    :func:`domain_classifier` (float32, seeded, cached) with
    :func:`build_translation_classifier`; ``cache_key`` defaults to the
    :func:`network_key` of both domains' images and the settings here. horse2zebra at 128 px with the defaults
    (959 + 1218 images): ~91% on 200 held-out images, 3-5 minutes on 2 CPU cores.
    """
    images_a, images_b = as_uint8_images(images_a), as_uint8_images(images_b)
    if images_a.shape[1:] != images_b.shape[1:]:
        raise ValueError(f"images_a {images_a.shape} and images_b {images_b.shape} differ in image shape.")
    images, labels = labelled_domains(images_a, images_b)
    counts = np.array([len(images_a), len(images_b)], np.float64)
    class_weight = {label: float(counts.sum() / (2 * count)) for label, count in enumerate(counts)}

    def cosine(epoch: int) -> float:
        return 1e-3 * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))

    options = {
        "class_weight": class_weight,
        "callbacks": [keras.callbacks.LearningRateScheduler(cosine)],
    }
    if validation is not None:
        options["validation_data"] = labelled_domains(*(as_uint8_images(part) for part in validation))

    def builder(image_shape, num_classes):
        return build_translation_classifier(image_shape, num_classes, width=width, blocks=blocks)

    if cache_key is None:
        cache_key = network_key("translation_classifier", images_a=images_a, images_b=images_b, epochs=epochs,
                                seed=seed, width=width, blocks=blocks, batch_size=batch_size)
    return domain_classifier(
        images, labels, 2, cache_path, epochs, seed, builder=builder, batch_size=batch_size, cache_key=cache_key,
        **options,
    )


def labelled_domains(images_a: np.ndarray, images_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)``: A's images labelled :data:`DOMAIN_A`, then B's labelled :data:`DOMAIN_B`."""
    labels = np.concatenate(
        [np.full(len(images_a), DOMAIN_A, np.int32), np.full(len(images_b), DOMAIN_B, np.int32)]
    )
    return np.concatenate([images_a, images_b]), labels

