"""Sample-quality measures: feature-space distances, precision/recall, label
accuracy and paired and unpaired translation scores.

Image convention: every function here takes **uint8 images [N, H, W, C]** in
[0, 255], or float images in **[-1, 1]** (the generator's tanh range), see
:mod:`tfgan_zoo.metrics.images`.

Modules, by job:

* :mod:`~tfgan_zoo.metrics.images`: reading images from arrays, pairs and datasets;
* :mod:`~tfgan_zoo.metrics.features`: feature spaces (:class:`InceptionFeatures`,
  :class:`DomainFeatures`);
* :mod:`~tfgan_zoo.metrics.classifiers`: the classifiers behind domain features,
  label accuracy and translation scores, trained on real images and cached;
* :mod:`~tfgan_zoo.metrics.distances`: FID, KID and precision/recall of feature sets;
* :mod:`~tfgan_zoo.metrics.paired`: L1, PSNR and SSIM of translations against targets;
* :mod:`~tfgan_zoo.metrics.evaluation`, :mod:`~tfgan_zoo.metrics.gan`,
  :mod:`~tfgan_zoo.metrics.translation`: the evaluators, which share one shape
  (``evaluate`` returns an :class:`Evaluation`; ``floor`` and ``protocol``
  take ``num_samples``): :class:`GANEvaluator` for generated images and
  :class:`TranslationEvaluator` for unpaired translators;
* :mod:`~tfgan_zoo.metrics.progress`: the console progress of long passes.

Everything public is importable from ``tfgan_zoo.metrics`` itself.
"""

from tfgan_zoo.metrics.classifiers import (
    DOMAIN_A,
    DOMAIN_B,
    build_colour_classifier,
    build_domain_classifier,
    build_translation_classifier,
    cached_classifier,
    classifier_accuracy,
    domain_classifier,
    keep_classifier,
    label_accuracy,
    label_scores,
    labelled_domains,
    network_key,
    predict_classes,
    rotation_task,
    translation_classifier,
)
from tfgan_zoo.metrics.distances import frechet_distance, kernel_inception_distance, precision_recall, reference_radii
from tfgan_zoo.metrics.evaluation import Evaluation
from tfgan_zoo.metrics.features import (
    INCEPTION_SIZE,
    INCEPTION_WEIGHTS_FILE,
    INCEPTION_WEIGHTS_URL,
    DomainFeatures,
    FeatureExtractor,
    InceptionFeatures,
    inception_preprocess,
)
from tfgan_zoo.metrics.gan import GANEvaluator
from tfgan_zoo.metrics.images import as_uint8_images, gather_images
from tfgan_zoo.metrics.paired import l1, paired_scores, psnr, ssim, unit_interval
from tfgan_zoo.metrics.progress import Progress
from tfgan_zoo.metrics.translation import TranslationEvaluator

__all__ = [
    "DOMAIN_A",
    "DOMAIN_B",
    "INCEPTION_SIZE",
    "INCEPTION_WEIGHTS_FILE",
    "INCEPTION_WEIGHTS_URL",
    "DomainFeatures",
    "Evaluation",
    "FeatureExtractor",
    "GANEvaluator",
    "InceptionFeatures",
    "Progress",
    "TranslationEvaluator",
    "as_uint8_images",
    "build_colour_classifier",
    "build_domain_classifier",
    "build_translation_classifier",
    "cached_classifier",
    "classifier_accuracy",
    "domain_classifier",
    "frechet_distance",
    "gather_images",
    "inception_preprocess",
    "keep_classifier",
    "kernel_inception_distance",
    "l1",
    "label_accuracy",
    "label_scores",
    "labelled_domains",
    "network_key",
    "paired_scores",
    "precision_recall",
    "predict_classes",
    "psnr",
    "reference_radii",
    "rotation_task",
    "ssim",
    "translation_classifier",
    "unit_interval",
]
