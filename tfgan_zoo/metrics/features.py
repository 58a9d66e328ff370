"""Feature spaces that images are compared in.

* :class:`InceptionFeatures`: Keras' ImageNet InceptionV3, average-pooled
  (2048-d). Scores are "Inception-FID"/"Inception-KID". The Keras weights and
  resize differ from the TF1 graph of the original FID code, so the figures
  rank models but are not comparable to published FIDs.
* :class:`DomainFeatures`: the 128-d ``features`` layer of a small *domain
  classifier* trained on the real training split. Scores are "domain-FID" /
  "domain-KID": meaningful on any labelled dataset, never to be quoted as FID.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfgan_zoo.metrics.classifiers import domain_classifier
from tfgan_zoo.metrics.images import gather_images
from tfgan_zoo.metrics.progress import Progress

INCEPTION_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
INCEPTION_WEIGHTS_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/" + INCEPTION_WEIGHTS_FILE
)
INCEPTION_SIZE = 299


class FeatureExtractor:
    """Maps images (see :func:`~tfgan_zoo.metrics.gather_images`) to float32 features [N, D], in batches.

    Subclasses set ``key`` (the prefix of score names, e.g. ``"domain"`` gives
    ``domain_fid``), ``description`` and ``resize`` (protocol metadata) and
    implement :meth:`features_of_batch`. ``network_key`` names the trained
    network the features come from (a classifier's cache key, a weights file),
    so that an evaluation's protocol tells which network made its figures;
    None when the caller did not say.
    """

    key = "features"
    description = ""
    resize = "none (native size)"

    def __init__(self, batch_size: int = 200, network_key: str | None = None):
        self.batch_size = int(batch_size)
        self.network_key = network_key
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
    through :func:`inception_preprocess`. The weights file's name is the
    ``network_key``.
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
        super().__init__(batch_size, network_key=path.name)
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

    Args:
        classifier: a trained model with a ``features`` layer.
        key: the prefix of the score names (``domain`` gives ``domain_fid``).
        batch_size: images per call of the classifier.
        network_key: the classifier's cache key, recorded in the protocol.
    """

    key = "domain"
    description = "domain classifier's 'features' layer (Dense 128, ReLU), trained on the real training split"

    def __init__(
        self, classifier: keras.Model, key: str = "domain", batch_size: int = 500, network_key: str | None = None
    ):
        super().__init__(batch_size, network_key=network_key)
        self.key = key
        self.classifier = classifier
        self.model = keras.Model(classifier.inputs, classifier.get_layer("features").output)

    @classmethod
    def train(cls, train_images, train_labels, num_classes: int, key: str = "domain", **options) -> DomainFeatures:
        """Wraps :func:`~tfgan_zoo.metrics.domain_classifier` (``cache_path``, ``epochs``, ``seed`` go to it);
        the cache file's name is the ``network_key``."""
        cache_path = options.get("cache_path")
        classifier = domain_classifier(train_images, train_labels, num_classes, **options)
        return cls(classifier, key=key, network_key=None if cache_path is None else Path(cache_path).name)

    def features_of_batch(self, images):
        return self.model(images, training=False)
