"""Sample-quality measures: feature-space distances, precision/recall, label
accuracy and paired-translation errors.

Image convention: every function here takes **uint8 images [N, H, W, C]** in
[0, 255], or float images in **[-1, 1]** (the generator's tanh range, and what
:func:`tfgan_zoo.data.image_dataset` yields), which are converted to uint8 by
the same rounding the exported generator uses. Float images outside [-1, 1]
are rejected rather than guessed at.

Feature spaces:

* :class:`InceptionFeatures`: Keras' ImageNet InceptionV3, average-pooled
  (2048-d). Scores are "Inception-FID"/"Inception-KID". The Keras weights and
  resize differ from the TF1 graph of the original FID code, so the figures
  rank models but are not comparable to published FIDs.
* :class:`DomainFeatures`: the 128-d ``features`` layer of a small *domain
  classifier* trained on the real training split. Scores are "domain-FID" /
  "domain-KID": meaningful on any labelled dataset, never to be quoted as FID.

Distances (:func:`frechet_distance`, :func:`kernel_inception_distance`,
:func:`precision_recall`) take feature arrays; :class:`GANEvaluator` ties an
extractor, a real reference set and a held-out real split together.

Unpaired translation (CycleGAN): :func:`translation_classifier` trains a
domain A vs B classifier for colour images; :class:`TranslationEvaluator`
scores A->B and B->A translations (FID/KID on its features, the share read as
the target domain) and cycle reconstructions.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfgan_zoo.ranges import to_uint8

INCEPTION_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
INCEPTION_WEIGHTS_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/" + INCEPTION_WEIGHTS_FILE
)
INCEPTION_SIZE = 299


# ------------------------------------------------------------------ console
class Progress:
    """Shows how far a long pass (an evaluation, a feature extraction) has got.

    By ``verbose``, as Keras' ``fit`` does:

    * 1 (a terminal): one line rewritten in place, ``title: stage done/total (Ns)``,
      begun on a new line, since a Keras progress bar may hold the current one;
    * 2 (a log file): ``title...`` at the start and nothing until :meth:`end`;
    * 0: nothing.

    :meth:`end` closes the pass with ``title (Ns): result`` in modes 1 and 2.
    Functions that take a ``progress`` report their stages and batches to it;
    without one they are silent.
    """

    def __init__(self, title: str = "", verbose: int = 0):
        self.title, self.verbose = title, int(verbose)
        self.started = time.monotonic()
        self._width = 0
        if self.verbose:
            print("" if self.verbose == 1 else f"{title}...", flush=True)

    def seconds(self) -> float:
        """Seconds since the pass started."""
        return time.monotonic() - self.started

    def update(self, stage: str, done: int | None = None, total: int | None = None):
        """Shows the stage the pass is at (and ``done`` of ``total`` items), in mode 1."""
        if self.verbose == 1:
            counts = "" if total is None else f" {done}/{total}"
            self._show(f"{self.title}: {stage}{counts} ({self.seconds():.0f}s)", end="")

    def batches(self, stage: str, total: int, batch_size: int):
        """Yields the start of each ``batch_size`` slice of ``total`` items; a slice is
        reported done when the next start is asked for."""
        for start in range(0, total, batch_size):
            yield start
            self.update(stage, min(start + batch_size, total), total)

    def end(self, result: str = ""):
        """Prints the closing line: the title, the seconds taken and ``result``."""
        if self.verbose:
            self._show(f"{self.title} ({self.seconds():.0f}s)" + (f": {result}" if result else ""), end="\n")

    def _show(self, line: str, end: str):
        # The live line is padded to cover a longer one it replaces; a log file gets no carriage returns.
        prefix = "\r" if self.verbose == 1 else ""
        print(prefix + line.ljust(self._width), end=end, flush=True)
        self._width = len(line)


# ------------------------------------------------------------------ images in
def as_uint8_images(images) -> np.ndarray:
    """uint8 [N, H, W, C] from uint8 images or float images in [-1, 1]."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(
            f"images must be [N, H, W, C], got shape {images.shape}. "
            "Add a channel axis for greyscale (images[..., None])."
        )
    if images.dtype == np.uint8:
        return images
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"images must be uint8 in [0, 255] or float in [-1, 1], got {images.dtype}.")
    low, high = float(images.min()), float(images.max())
    # A small tolerance for float rounding; [0, 255] floats are a caller error.
    if low < -1.001 or high > 1.001:
        raise ValueError(
            f"float images must be in [-1, 1] (the generator's range), got [{low:.3g}, {high:.3g}]. "
            "Pass uint8 images for [0, 255] data."
        )
    return np.asarray(to_uint8(images))


def _split_element(element):
    if isinstance(element, (tuple, list)):
        labels = np.asarray(element[1]) if len(element) > 1 else None
        return np.asarray(element[0]), labels
    return np.asarray(element), None


def gather_images(source, max_images: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """``(uint8 images [N, H, W, C], int32 labels or None)`` from any image source.

    ``source`` is an array or tensor of images, an ``(images, labels)`` pair,
    or a ``tf.data.Dataset`` of batches (or single images) of either kind.
    Reads at most ``max_images`` (all when None); a dataset is only iterated
    that far, so an infinite (repeated) dataset needs ``max_images``.
    """
    if isinstance(source, tf.data.Dataset):
        image_parts, label_parts, count = [], [], 0
        for element in source.as_numpy_iterator():
            images, labels = _split_element(element)
            if images.ndim == 3:  # an unbatched dataset yields single images
                images = images[None]
                labels = None if labels is None else labels.reshape(1)
            image_parts.append(images)
            label_parts.append(labels)
            count += len(images)
            if max_images is not None and count >= max_images:
                break
        if not image_parts:
            raise ValueError("The dataset yielded no images.")
        images = np.concatenate(image_parts)
        labels = None if label_parts[0] is None else np.concatenate(label_parts)
    else:
        images, labels = _split_element(source)
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"{len(images)} images but {len(labels)} labels.")
    images = as_uint8_images(images[:max_images])
    return images, None if labels is None else np.asarray(labels[:max_images], np.int32)


# ---------------------------------------------------------- feature spaces
class FeatureExtractor:
    """Maps images (see :func:`gather_images`) to float32 features [N, D], in batches.

    Subclasses set ``key`` (the prefix of score names, e.g. ``"domain"`` gives
    ``domain_fid``), ``description`` and ``resize`` (protocol metadata) and
    implement :meth:`features_of_batch`.
    """

    key = "features"
    description = ""
    resize = "none (native size)"

    def __init__(self, batch_size: int = 200):
        self.batch_size = int(batch_size)
        self._batch_fn = None

    def features_of_batch(self, images: tf.Tensor) -> tf.Tensor:
        """uint8 [B, H, W, C] -> float [B, D]."""
        raise NotImplementedError

    def __call__(self, images, progress: Progress | None = None, stage: str = "features") -> np.ndarray:
        """Features of ``images``; each batch is reported to ``progress`` as ``stage``."""
        images, _ = gather_images(images)
        progress = progress or Progress()
        if self._batch_fn is None:
            # One graph per batch shape (the last batch may be smaller).
            self._batch_fn = tf.function(self.features_of_batch, reduce_retracing=True)
        parts = [
            np.asarray(self._batch_fn(tf.constant(images[start : start + self.batch_size])), np.float32)
            for start in progress.batches(stage, len(images), self.batch_size)
        ]
        return np.concatenate(parts)


def inception_preprocess(images: tf.Tensor, size: int = INCEPTION_SIZE) -> tf.Tensor:
    """uint8 [B, H, W, C] -> float32 [B, size, size, 3] in [-1, 1], InceptionV3's input.

    Greyscale is repeated to 3 channels (an alpha channel is dropped), the
    image is resized bilinearly with antialiasing (which only matters when
    shrinking larger images) and scaled as
    ``keras.applications.inception_v3.preprocess_input`` does: x / 127.5 - 1.
    """
    images = tf.cast(images, tf.float32)
    if images.shape[-1] == 1:
        images = tf.repeat(images, 3, axis=-1)
    images = images[..., :3]
    images = tf.image.resize(images, (size, size), method="bilinear", antialias=True)
    return keras.applications.inception_v3.preprocess_input(images)


class InceptionFeatures(FeatureExtractor):
    """2048-d average-pooled features of Keras' ImageNet InceptionV3 ("Inception-FID").

    ``weights_path`` is a local copy of ``inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5``
    (Keras applications release); nothing is ever downloaded. Inputs go
    through :func:`inception_preprocess`.
    """

    key = "inception"
    description = (
        "Keras applications InceptionV3, ImageNet weights, global average pool (2048-d); "
        "not the TF1 graph of the original FID code, so not comparable to published FIDs"
    )
    resize = "grey->RGB, bilinear antialiased resize to 299x299, x/127.5-1"

    def __init__(self, weights_path: str | Path, batch_size: int = 50):
        path = Path(weights_path) if weights_path else None
        if path is None or not path.is_file():
            raise FileNotFoundError(
                f"InceptionV3 weights not found at {weights_path!r}. tfgan_zoo never downloads "
                f"them: fetch {INCEPTION_WEIGHTS_FILE} from the Keras applications release "
                f"({INCEPTION_WEIGHTS_URL}) and pass its local path."
            )
        super().__init__(batch_size)
        self.model = self._build(str(path))

    @classmethod
    def _untrained(cls, batch_size: int = 2) -> InceptionFeatures:
        """Random weights, to test the resize and forward pass; never for scores."""
        extractor = cls.__new__(cls)
        FeatureExtractor.__init__(extractor, batch_size)
        extractor.model = cls._build(None)
        return extractor

    @staticmethod
    def _build(weights: str | None) -> keras.Model:
        return keras.applications.InceptionV3(
            include_top=False, weights=weights, input_shape=(INCEPTION_SIZE, INCEPTION_SIZE, 3), pooling="avg"
        )

    def features_of_batch(self, images):
        return self.model(inception_preprocess(images), training=False)


class DomainFeatures(FeatureExtractor):
    """The ``features`` layer (Dense 128, ReLU) of a domain classifier ("domain-FID").

    Build from a trained classifier, or with :meth:`train`. Works at the
    classifier's own image size and channels: no resize.
    """

    key = "domain"
    description = "domain classifier's 'features' layer (Dense 128, ReLU), trained on the real training split"

    def __init__(self, classifier: keras.Model, key: str = "domain", batch_size: int = 500):
        super().__init__(batch_size)
        self.key = key
        self.classifier = classifier
        self.model = keras.Model(classifier.inputs, classifier.get_layer("features").output)

    @classmethod
    def train(cls, train_images, train_labels, num_classes: int, key: str = "domain", **options) -> DomainFeatures:
        """Wraps :func:`domain_classifier` (``cache_path``, ``epochs``, ``seed`` go to it)."""
        return cls(domain_classifier(train_images, train_labels, num_classes, **options), key=key)

    def features_of_batch(self, images):
        return self.model(images, training=False)


# ----------------------------------------------------------------- distances
def _as_features(features) -> np.ndarray:
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"features must be [N >= 2, D], got shape {features.shape}.")
    return features


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(matrix)
    # Sample covariances are PSD up to rounding; tiny negative eigenvalues are noise.
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(real_features, fake_features) -> float:
    """Fréchet distance of Gaussians fitted to two feature sets (Heusel et al. 2017).

    ``|mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))``, with the trace of the
    root computed as that of ``(S1^(1/2) S2 S1^(1/2))^(1/2)``, a symmetric PSD
    matrix, by eigen-decomposition: stable for singular covariances.
    """
    real, fake = _as_features(real_features), _as_features(fake_features)
    mean_real, mean_fake = real.mean(axis=0), fake.mean(axis=0)
    cov_real, cov_fake = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    root_real = _psd_sqrt(cov_real)
    product = root_real @ cov_fake @ root_real
    eigenvalues = np.linalg.eigvalsh((product + product.T) / 2.0)
    trace_root = np.sqrt(np.clip(eigenvalues, 0.0, None)).sum()
    mean_term = np.sum((mean_real - mean_fake) ** 2)
    return float(mean_term + np.trace(cov_real) + np.trace(cov_fake) - 2.0 * trace_root)


def _polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    base = x @ y.T
    base /= x.shape[1]
    base += 1.0
    # In place and by products: several times faster than ** 3 on big matrices.
    return base * base * base


def _unbiased_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    m, n = len(x), len(y)
    k_xx, k_yy = _polynomial_kernel(x, x), _polynomial_kernel(y, y)
    # Dropping the diagonals (k(x_i, x_i)) is what makes the estimate unbiased.
    within_x = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    within_y = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(within_x + within_y - 2.0 * _polynomial_kernel(x, y).mean())


def kernel_inception_distance(
    real_features, fake_features, num_subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """``(mean, std)`` of the unbiased MMD² over random subsets (Bińkowski et al. 2018).

    Kernel ``k(x, y) = (x.y / d + 1)^3``. Each subset draws ``subset_size``
    samples (capped at each set's size) without replacement from each set;
    std is over subsets. Unbiased: near 0, possibly negative, for one
    distribution. Named after Inception, but valid in any feature space.
    """
    if subset_size < 2:
        raise ValueError(f"subset_size must be >= 2 for the unbiased estimate, got {subset_size}.")
    real, fake = _as_features(real_features), _as_features(fake_features)
    rng = np.random.default_rng(seed)
    size_real, size_fake = min(subset_size, len(real)), min(subset_size, len(fake))
    estimates = [
        _unbiased_mmd2(
            real[rng.choice(len(real), size_real, replace=False)],
            fake[rng.choice(len(fake), size_fake, replace=False)],
        )
        for _ in range(num_subsets)
    ]
    return float(np.mean(estimates)), float(np.std(estimates))


def _squared_distances(a: np.ndarray, b: np.ndarray, b_norms: np.ndarray) -> np.ndarray:
    return np.maximum(np.sum(a**2, axis=1)[:, None] + b_norms[None, :] - 2.0 * a @ b.T, 0.0)


def _kth_neighbour_radii(features: np.ndarray, k: int, batch_size: int) -> np.ndarray:
    """Squared distance of each point to its k-th nearest other point."""
    norms = np.sum(features**2, axis=1)
    radii = np.empty(len(features))
    for start in range(0, len(features), batch_size):
        distances = _squared_distances(features[start : start + batch_size], features, norms)
        # Column k of the sorted row: index 0 is the point itself.
        radii[start : start + batch_size] = np.partition(distances, k, axis=1)[:, k]
    return radii


def reference_radii(real_features, k: int = 3, batch_size: int = 1000) -> np.ndarray:
    """Squared distance of each real sample to its k-th nearest other one: the real
    manifold of :func:`precision_recall`, to compute once for many fake sets
    (for 10k samples about 2 s on 2 CPU cores)."""
    return _kth_neighbour_radii(_as_features(real_features), k, batch_size)


def _share_inside(queries: np.ndarray, manifold: np.ndarray, radii: np.ndarray, batch_size: int) -> float:
    """Share of ``queries`` within the k-NN ball of at least one manifold point."""
    norms = np.sum(manifold**2, axis=1)
    inside = 0
    for start in range(0, len(queries), batch_size):
        distances = _squared_distances(queries[start : start + batch_size], manifold, norms)
        inside += int(np.sum(np.any(distances <= radii[None, :], axis=1)))
    return inside / len(queries)


def precision_recall(real_features, fake_features, k: int = 3, batch_size: int = 1000,
                     real_radii: np.ndarray | None = None) -> dict:
    """Improved precision and recall (Kynkäänniemi et al. 2019).

    Each set's manifold is the union of balls reaching every point's k-th
    nearest neighbour. Precision: share of fake samples inside the real
    manifold (fidelity); recall: share of real samples inside the fake
    manifold (diversity). Distances go ``batch_size`` rows at a time, so
    10k x 10k sets need ~``batch_size * 10k * 8`` bytes at once.
    ``real_radii``: :func:`reference_radii` of ``real_features`` with the same
    ``k``, when a caller scores many fake sets against one real set.
    """
    real, fake = _as_features(real_features), _as_features(fake_features)
    if min(len(real), len(fake)) <= k:
        raise ValueError(f"precision_recall needs more than k={k} samples in each set.")
    if real_radii is None:
        real_radii = _kth_neighbour_radii(real, k, batch_size)
    elif len(real_radii) != len(real):
        raise ValueError(f"real_radii holds {len(real_radii)} radii for {len(real)} real samples.")
    fake_radii = _kth_neighbour_radii(fake, k, batch_size)
    return {
        "precision": _share_inside(fake, real, real_radii, batch_size),
        "recall": _share_inside(real, fake, fake_radii, batch_size),
    }


# ------------------------------------------------------------ label accuracy
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


def images_digest(images: np.ndarray) -> str:
    """A short content hash of an image array, to key cached feature networks."""
    import hashlib

    images = np.ascontiguousarray(images)
    digest = hashlib.sha1(str(images.shape).encode())
    digest.update(images.tobytes())
    return digest.hexdigest()[:12]


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
    **fit_options,
) -> keras.Model:
    """Trains the classifier on uint8 images, or loads it from ``cache_path``.

    ``builder(image_shape, num_classes)`` makes the model (default
    :func:`build_domain_classifier`); it needs a ``features`` and a ``logits``
    layer. ``verbose`` is ``model.fit``'s, and when not 0 a line first says
    what is being trained; other ``fit_options`` (e.g. ``validation_data``,
    ``class_weight``) go to ``model.fit`` too.
    """
    if cache_path is not None and Path(cache_path).exists():
        return keras.saving.load_model(cache_path)
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
        Path(cache_path).parent.mkdir(parents=True, exist_ok=True)
        model.save(cache_path)
    return model


def _predict_classes(model: keras.Model, images) -> np.ndarray:
    return np.argmax(model.predict(as_uint8_images(images), batch_size=500, verbose=0), axis=-1)


def classifier_accuracy(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(_predict_classes(model, images) == labels))


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
    return label_scores(_predict_classes(model, images), labels, num_classes)


# -------------------------------------------------------- paired translation
def _unit_interval(images) -> tf.Tensor:
    """uint8 or [-1, 1] float images -> float32 in [0, 1]."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return tf.constant(images, tf.float32) / 255.0
    as_uint8_images(images)  # validates the [-1, 1] range
    return (tf.constant(images, tf.float32) + 1.0) / 2.0


def _pair(images, targets) -> tuple[tf.Tensor, tf.Tensor]:
    images, targets = _unit_interval(images), _unit_interval(targets)
    if images.shape != targets.shape:
        raise ValueError(f"images {images.shape} and targets {targets.shape} differ in shape.")
    return images, targets


def l1(images, targets) -> float:
    """Mean absolute error on the [-1, 1] scale, the scale of the pix2pix L1 loss."""
    images, targets = _pair(images, targets)
    return float(2.0 * tf.reduce_mean(tf.abs(images - targets)))


def psnr(images, targets) -> float:
    """Mean per-image PSNR in dB (``inf`` if any pair is identical).

    Computed on [0, 1] with ``max_val=1``: the same figure as uint8 with 255.
    """
    images, targets = _pair(images, targets)
    return float(tf.reduce_mean(tf.image.psnr(images, targets, max_val=1.0)))


def ssim(images, targets) -> float:
    """Mean per-image SSIM (11x11 Gaussian window) on [0, 1] with ``max_val=1``.

    Images need sides of at least 11 pixels.
    """
    images, targets = _pair(images, targets)
    return float(tf.reduce_mean(tf.image.ssim(images, targets, max_val=1.0)))


def paired_scores(images, targets) -> dict:
    """``{"l1", "psnr", "ssim"}`` of translations against their targets (see each function)."""
    return {"l1": l1(images, targets), "psnr": psnr(images, targets), "ssim": ssim(images, targets)}


# ------------------------------------------------------------------ evaluator
@dataclasses.dataclass
class Evaluation:
    """``figures``: named floats (fit for Keras logs); ``details``: per-class
    lists; ``protocol``: how the figures were made."""

    figures: dict
    details: dict
    protocol: dict

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


class GANEvaluator:
    """Scores generated images against real ones in one feature space.

    Real reference features are computed once. ``held_out`` is a real split
    disjoint from ``reference`` (e.g. test vs train): its scores against the
    reference at the same sample count are the *floor* a perfect generator
    would get, computed once per sample count and reported in the protocol.

    Args:
        extractor: a :class:`FeatureExtractor`; its ``key`` prefixes the
            figure names (``domain_fid``, ``domain_kid``, ``domain_kid_std``,
            ``domain_precision``, ``domain_recall``).
        reference, held_out: real images, anything :func:`gather_images` reads.
        reference_split, held_out_split: names of those splits, for the protocol.
        max_reference: cap on reference images read.
        measures: any of ``"fid"``, ``"kid"``, ``"precision_recall"``.
        classifier, num_classes: with both, :meth:`evaluate` given labels also
            reports ``label_accuracy``, ``min_class_accuracy``,
            ``classes_present`` and ``min_class_coverage`` (the least
            predicted class's share times ``num_classes``: 1 when balanced).
        kid_subsets, kid_subset_size, k, seed: see the distance functions.
        progress: a :class:`Progress` to report the reference features to.
    """

    MEASURES = ("fid", "kid", "precision_recall")

    def __init__(
        self,
        extractor: FeatureExtractor,
        reference,
        held_out=None,
        reference_split: str = "train",
        held_out_split: str = "test",
        max_reference: int | None = 10000,
        measures=MEASURES,
        classifier: keras.Model | None = None,
        num_classes: int = 0,
        kid_subsets: int = 100,
        kid_subset_size: int = 1000,
        k: int = 3,
        seed: int = 0,
        progress: Progress | None = None,
    ):
        unknown = set(measures) - set(self.MEASURES)
        if unknown:
            raise ValueError(f"Unknown measures {sorted(unknown)}; choose from {self.MEASURES}.")
        if (classifier is None) != (num_classes == 0):
            raise ValueError("Label accuracy needs both classifier and num_classes.")
        self.extractor = extractor
        self.measures = tuple(measures)
        self.classifier, self.num_classes = classifier, int(num_classes)
        self.reference_split, self.held_out_split = reference_split, held_out_split
        self.kid_subsets, self.kid_subset_size, self.k, self.seed = kid_subsets, kid_subset_size, k, seed
        self.reference_features = extractor(gather_images(reference, max_reference)[0], progress, "reference features")
        self._held_out = None if held_out is None else gather_images(held_out)[0]
        self._floors = {}
        self._reference_radii = None

    def figure_names(self, with_labels: bool = False) -> list[str]:
        """Names of the figures :meth:`evaluate` returns."""
        key = self.extractor.key
        names = {
            "fid": [f"{key}_fid"],
            "kid": [f"{key}_kid", f"{key}_kid_std"],
            "precision_recall": [f"{key}_precision", f"{key}_recall"],
        }
        figures = [name for measure in self.measures for name in names[measure]]
        if with_labels and self.classifier is not None:
            figures += ["label_accuracy", "min_class_accuracy", "classes_present", "min_class_coverage"]
        return figures

    def _distribution_figures(self, features: np.ndarray, progress: Progress, what: str = "") -> dict:
        key, figures = self.extractor.key, {}
        if "fid" in self.measures:
            progress.update(f"{what}FID")
            figures[f"{key}_fid"] = frechet_distance(self.reference_features, features)
        if "kid" in self.measures:
            progress.update(f"{what}KID")
            mean, std = kernel_inception_distance(
                self.reference_features, features, self.kid_subsets, self.kid_subset_size, self.seed
            )
            figures[f"{key}_kid"], figures[f"{key}_kid_std"] = mean, std
        if "precision_recall" in self.measures:
            progress.update(f"{what}precision/recall")
            if self._reference_radii is None:  # the real manifold, the same for every scored set
                self._reference_radii = reference_radii(self.reference_features, self.k)
            scores = precision_recall(self.reference_features, features, self.k, real_radii=self._reference_radii)
            figures[f"{key}_precision"], figures[f"{key}_recall"] = scores["precision"], scores["recall"]
        return figures

    def floor(self, num_samples: int, progress: Progress | None = None) -> dict | None:
        """Figures of ``num_samples`` held-out real images (None without ``held_out``)."""
        if self._held_out is None:
            return None
        count = min(num_samples, len(self._held_out))
        if count not in self._floors:
            progress = progress or Progress()
            features = self.extractor(self._held_out[:count], progress, "held-out features")
            self._floors[count] = {"num_samples": count, **self._distribution_figures(features, progress, "held-out ")}
        return self._floors[count]

    def protocol(self, num_samples: int) -> dict:
        key = self.extractor.key
        return {
            "extractor": key,
            # Scores outside Inception space must never be quoted as plain FID/KID.
            "score_names": {f"{key}_fid": f"{key}-FID", f"{key}_kid": f"{key}-KID"},
            "extractor_description": self.extractor.description,
            "resize": self.extractor.resize,
            "feature_dim": int(self.reference_features.shape[1]),
            "num_samples": int(num_samples),
            "num_reference": len(self.reference_features),
            "reference_split": self.reference_split,
            "held_out_split": self.held_out_split if self._held_out is not None else None,
            "kid_subsets": self.kid_subsets,
            "kid_subset_size": self.kid_subset_size,
            "kid_kernel": "(x.y/d+1)^3",
            "precision_recall_k": self.k,
            "real_floor": self.floor(num_samples),
        }

    def evaluate(self, images, labels=None, progress: Progress | None = None) -> Evaluation:
        """Scores generated ``images`` (and, with a classifier, their intended ``labels``),
        reporting each stage to ``progress``."""
        images, source_labels = gather_images(images)
        labels = source_labels if labels is None else np.asarray(labels)
        progress = progress or Progress()
        figures = self._distribution_figures(self.extractor(images, progress), progress)
        details = {}
        if labels is not None and self.classifier is not None:
            progress.update("label accuracy")
            details = label_accuracy(self.classifier, images, labels, self.num_classes)
            figures.update(
                label_accuracy=details["accuracy"],
                min_class_accuracy=float(np.nanmin(details["per_class_accuracy"])),
                classes_present=float(details["classes_present"]),
                min_class_coverage=float(min(details["coverage"]) * self.num_classes),
            )
        # The protocol holds the floor; computed here first, its (one-off) stages show in this pass's progress.
        self.floor(len(images), progress)
        return Evaluation(figures=figures, details=details, protocol=self.protocol(len(images)))


# ------------------------------------------------------ unpaired translation
DOMAIN_A, DOMAIN_B = 0, 1  # the translation classifier's labels


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
) -> keras.Model:
    """Trains (or loads from ``cache_path``) a classifier of domain A (label 0) vs B (label 1).

    ``images_a``, ``images_b``: uint8 ``[N, S, S, 3]`` training images of each
    domain (the *train* split: never the images scores are computed on). Classes
    are weighted to count equally whatever the domain sizes; the learning rate
    (Adam, 1e-3) decays to 0 along a cosine over the ``epochs``. ``validation``:
    optional ``(val_a, val_b)``, reported per epoch. Goes through
    :func:`domain_classifier` (float32, seeded, cached) with
    :func:`build_translation_classifier`. horse2zebra at 128 px with the defaults
    (959 + 1218 images): ~91% on 200 held-out images, 3-5 minutes on 2 CPU cores.
    """
    images_a, images_b = as_uint8_images(images_a), as_uint8_images(images_b)
    if images_a.shape[1:] != images_b.shape[1:]:
        raise ValueError(f"images_a {images_a.shape} and images_b {images_b.shape} differ in image shape.")
    images, labels = _two_domains(images_a, images_b)
    counts = np.array([len(images_a), len(images_b)], np.float64)
    class_weight = {label: float(counts.sum() / (2 * count)) for label, count in enumerate(counts)}

    def cosine(epoch: int) -> float:
        return 1e-3 * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))

    options = {
        "class_weight": class_weight,
        "callbacks": [keras.callbacks.LearningRateScheduler(cosine)],
    }
    if validation is not None:
        options["validation_data"] = _two_domains(*(as_uint8_images(part) for part in validation))

    def builder(image_shape, num_classes):
        return build_translation_classifier(image_shape, num_classes, width=width, blocks=blocks)

    return domain_classifier(
        images, labels, 2, cache_path, epochs, seed, builder=builder, batch_size=batch_size, **options
    )


def _two_domains(images_a: np.ndarray, images_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.concatenate(
        [np.full(len(images_a), DOMAIN_A, np.int32), np.full(len(images_b), DOMAIN_B, np.int32)]
    )
    return np.concatenate([images_a, images_b]), labels


class TranslationEvaluator:
    """Scores an unpaired translator (e.g. CycleGAN) between domains A and B.

    The real images of each domain (the validation split) are translated to the
    other domain and the translations compared with the real images of that
    domain in the ``features`` space of a domain classifier
    (:func:`translation_classifier`, trained on the *train* split). Figures, all
    floats, for ``d`` in ``a_to_b`` and ``b_to_a``:

    * ``d_fid``, ``d_kid``, ``d_kid_std``: FID/KID of the translations against
      the real target-domain images, on the classifier's features divided by
      their RMS value over the real images (``feature_scale``). Figures of this
      feature space only: never to be quoted as plain FID/KID;
    * ``d_target_share``: share of translations the classifier reads as the
      target domain;
    * ``cycle_l1_a``, ``cycle_l1_b``: mean absolute error on the [-1, 1] scale
      of ``ba(ab(real_a))`` vs ``real_a`` (and ``ab(ba(real_b))`` vs ``real_b``).

    Baselines: :meth:`evaluate` of the identity (``lambda x: x``) gives the
    score of doing nothing (target share near 0, high FID); :meth:`floor`, real
    images of the target domain that are not in the reference, the score of a
    perfect translator (target share near 1, lowest FID at that sample count).
    The classifier's features are not a general image space: e.g. uniform noise
    is read as zebra-like (target share 1 for A->B, FID well below the
    identity's), so read the figures together and look at samples.

    Args:
        classifier: a 2-class model with a ``features`` layer, label 0 = A, 1 = B.
        real_a, real_b: real images of each domain, uint8 ``[N, S, S, C]`` (or
            floats in [-1, 1]) at the classifier's size; the sources of the
            translations and the references of the scores.
        kid_subsets, kid_subset_size: KID averages the unbiased MMD² over
            ``kid_subsets`` random subsets of ``kid_subset_size`` images from each
            set (default and cap: the smaller set's size).
        batch_size: images per call of the translators and the classifier.
    """

    DIRECTIONS = ("a_to_b", "b_to_a")

    def __init__(
        self,
        classifier: keras.Model,
        real_a,
        real_b,
        kid_subsets: int = 10,
        kid_subset_size: int | None = None,
        seed: int = 0,
        batch_size: int = 50,
    ):
        self.classifier = classifier
        self.extractor = DomainFeatures(classifier, key="translation", batch_size=batch_size)
        self.batch_size = int(batch_size)
        self.kid_subsets, self.kid_subset_size, self.seed = kid_subsets, kid_subset_size, seed
        self.real = {"a": gather_images(real_a)[0], "b": gather_images(real_b)[0]}
        shapes = {domain: images.shape[1:] for domain, images in self.real.items()}
        if shapes["a"] != shapes["b"]:
            raise ValueError(f"real_a {shapes['a']} and real_b {shapes['b']} images differ in shape.")
        expected = tuple(classifier.inputs[0].shape[1:])
        if tuple(shapes["a"]) != expected:
            raise ValueError(
                f"Real images are {tuple(shapes['a'])} but the classifier takes {expected}; "
                "load the images at the size the classifier was trained on."
            )
        for domain, images in self.real.items():
            if len(images) < 2:
                raise ValueError(f"real_{domain} needs at least 2 images, got {len(images)}.")
        features = {domain: self.extractor(images) for domain, images in self.real.items()}
        # One scalar for all features: the RMS feature value of the real images. FID is then
        # in units of the real features' spread, and the KID kernel (x.y/d + 1)^3 sees
        # x.y/d of order 1, as with Inception features, which keeps its estimate stable.
        stacked = np.concatenate(list(features.values()))
        self.feature_scale = float(np.sqrt(np.mean(np.square(stacked, dtype=np.float64)))) or 1.0
        self.real_features = {domain: part / self.feature_scale for domain, part in features.items()}

    def features(self, images) -> np.ndarray:
        """Scaled classifier features of uint8 images, as the scores use them."""
        return self.extractor(images) / self.feature_scale

    def figure_names(self, cycle: bool = True) -> list[str]:
        """Names of the figures :meth:`evaluate` returns (without ``cycle``: :meth:`score` without reconstructions)."""
        names = [
            f"{direction}_{figure}"
            for direction in self.DIRECTIONS
            for figure in ("fid", "kid", "kid_std", "target_share")
        ]
        return names + (["cycle_l1_a", "cycle_l1_b"] if cycle else [])

    def _images(self, images, what: str) -> np.ndarray:
        images = gather_images(images)[0]
        if images.shape[1:] != self.real["a"].shape[1:]:
            raise ValueError(
                f"{what} are {images.shape[1:]} images, but the real ones are {self.real['a'].shape[1:]}: "
                "a translation must keep the image size and channels."
            )
        if len(images) < 2:
            raise ValueError(f"{what}: FID and KID need at least 2 images, got {len(images)}.")
        return images

    def _direction_figures(self, direction: str, fakes) -> dict:
        target = direction[-1]
        fakes = self._images(fakes, f"{direction} translations")
        features, real = self.features(fakes), self.real_features[target]
        size = min(len(real), len(features))
        size = size if self.kid_subset_size is None else min(int(self.kid_subset_size), size)
        # Subsets as large as both sets are all the same set: one estimate is enough.
        subsets = 1 if size == len(real) == len(features) else self.kid_subsets
        kid, kid_std = kernel_inception_distance(real, features, subsets, size, self.seed)
        label = DOMAIN_B if target == "b" else DOMAIN_A
        return {
            f"{direction}_fid": frechet_distance(real, features),
            f"{direction}_kid": kid,
            f"{direction}_kid_std": kid_std,
            f"{direction}_target_share": float(np.mean(_predict_classes(self.classifier, fakes) == label)),
        }

    def score(self, fake_b=None, fake_a=None, reconstructed_a=None, reconstructed_b=None) -> dict:
        """Figures of ready-made arrays: ``fake_b`` = translations of the real A images
        (any count >= 2), ``fake_a`` of the real B images, and the reconstructions
        of the real images (same count and order as ``real_a`` / ``real_b``).
        Figures of arguments left out are left out."""
        figures = {}
        if fake_b is not None:
            figures.update(self._direction_figures("a_to_b", fake_b))
        if fake_a is not None:
            figures.update(self._direction_figures("b_to_a", fake_a))
        for domain, reconstructed in (("a", reconstructed_a), ("b", reconstructed_b)):
            if reconstructed is not None:
                reconstructed = gather_images(reconstructed)[0]
                if reconstructed.shape != self.real[domain].shape:
                    raise ValueError(
                        f"reconstructed_{domain} {reconstructed.shape} must match real_{domain} "
                        f"{self.real[domain].shape}: one reconstruction per real image, in order."
                    )
                figures[f"cycle_l1_{domain}"] = l1(reconstructed, self.real[domain])
        return figures

    def _translate(self, translate, images: np.ndarray, progress: Progress, stage: str) -> np.ndarray:
        parts = []
        for start in progress.batches(stage, len(images), self.batch_size):
            batch = images[start : start + self.batch_size]
            translated = as_uint8_images(np.asarray(translate(batch)))
            if len(translated) != len(batch):
                raise ValueError(f"The translator returned {len(translated)} images for {len(batch)}.")
            parts.append(translated)
        return np.concatenate(parts)

    def evaluate(self, translate_ab, translate_ba, progress: Progress | None = None) -> dict:
        """All figures of a translator pair.

        ``translate_ab`` maps uint8 A images ``[n, S, S, C]`` to B images of the same
        shape (uint8, or floats in [-1, 1]); ``translate_ba`` the other way. Each is
        called on at most ``batch_size`` images at a time. Either may be None to
        skip its direction (and the cycle figures, which need both). The
        translation batches and the scoring are reported to ``progress``.
        """
        progress = progress or Progress()
        fake_b = None if translate_ab is None else self._translate(translate_ab, self.real["a"], progress, "A->B")
        fake_a = None if translate_ba is None else self._translate(translate_ba, self.real["b"], progress, "B->A")
        reconstructed_a = reconstructed_b = None
        if translate_ab is not None and translate_ba is not None:
            reconstructed_a = self._translate(translate_ba, fake_b, progress, "A->B->A")
            reconstructed_b = self._translate(translate_ab, fake_a, progress, "B->A->B")
        progress.update("scoring")
        return self.score(fake_b, fake_a, reconstructed_a, reconstructed_b)

    def floor(self, other_a, other_b) -> dict:
        """Figures of a perfect translator: real target-domain images not among the
        references (``other_b`` stands in for the translations of the real A images,
        capped at their count, and ``other_a`` for those of the real B images).

        Best with images the classifier never trained on (e.g. split the validation
        images in two: references and floor). Training images are read more
        confidently and sit apart in feature space, which inflates the floor's FID
        (horse2zebra, 128 px: ~5-6 with training images vs ~1.3-2.3 with unseen ones).
        """
        other_a, other_b = gather_images(other_a)[0], gather_images(other_b)[0]
        return self.score(fake_b=other_b[: len(self.real["a"])], fake_a=other_a[: len(self.real["b"])])

    def protocol(self) -> dict:
        return {
            "extractor": "translation",
            "score_names": {
                f"{direction}_{figure}": f"translation-{figure.upper()}"
                for direction in self.DIRECTIONS
                for figure in ("fid", "kid")
            },
            "extractor_description": "the 'features' layer of a domain classifier (A=0, B=1) "
            "trained on the train split",
            "feature_dim": int(self.real_features["a"].shape[1]),
            "feature_scale": self.feature_scale,
            "num_real_a": len(self.real["a"]),
            "num_real_b": len(self.real["b"]),
            "image_shape": list(self.real["a"].shape[1:]),
            "kid_subsets": self.kid_subsets,
            "kid_subset_size": self.kid_subset_size or "smaller set's size",
            "kid_kernel": "(x.y/d+1)^3",
            "cycle_l1_scale": "[-1, 1]",
        }
