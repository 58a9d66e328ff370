"""Scores of generated images against real ones: :class:`GANEvaluator`."""

from __future__ import annotations

import keras
import numpy as np

from tfgan_zoo.metrics.classifiers import label_accuracy
from tfgan_zoo.metrics.distances import frechet_distance, kernel_inception_distance, precision_recall, reference_radii
from tfgan_zoo.metrics.evaluation import Evaluation
from tfgan_zoo.metrics.features import FeatureExtractor
from tfgan_zoo.metrics.images import gather_images
from tfgan_zoo.metrics.progress import Progress


class GANEvaluator:
    """Scores generated images against real ones in one feature space.

    Real reference features are computed once. ``held_out`` is a real split
    disjoint from ``reference`` (e.g. test vs train): its scores against the
    reference at the same sample count are the *floor* a perfect generator
    would get, computed once per sample count and reported in the protocol.

    Args:
        extractor: a :class:`~tfgan_zoo.metrics.FeatureExtractor`; its ``key``
            prefixes the figure names (``domain_fid``, ``domain_kid``,
            ``domain_kid_std``, ``domain_precision``, ``domain_recall``) and its
            ``network_key`` goes into the protocol.
        reference, held_out: real images, anything :func:`~tfgan_zoo.metrics.gather_images` reads.
        reference_split, held_out_split: names of those splits, for the protocol.
        max_reference: cap on reference images read.
        measures: any of ``"fid"``, ``"kid"``, ``"precision_recall"``.
        classifier, num_classes: with both, :meth:`evaluate` given labels also
            reports ``label_accuracy``, ``min_class_accuracy``,
            ``classes_present`` and ``min_class_coverage`` (the least
            predicted class's share times ``num_classes``: 1 when balanced).
        kid_subsets, kid_subset_size, k, seed: see the distance functions.
        progress: a :class:`~tfgan_zoo.metrics.Progress` to report the reference features to.
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
        """Names of the figures :meth:`evaluate` returns (``with_labels``: of labelled samples)."""
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

    def _floor_count(self, num_samples: int | None) -> int:
        return len(self._held_out) if num_samples is None else min(int(num_samples), len(self._held_out))

    def floor(self, num_samples: int | None = None, progress: Progress | None = None) -> dict | None:
        """The distribution figures of ``num_samples`` held-out real images (all of
        them when None), against the reference; None without ``held_out``."""
        if self._held_out is None:
            return None
        count = self._floor_count(num_samples)
        if count not in self._floors:
            progress = progress or Progress()
            features = self.extractor(self._held_out[:count], progress, "held-out features")
            self._floors[count] = self._distribution_figures(features, progress, "held-out ")
        return dict(self._floors[count])

    def protocol(self, num_samples: int | None = None) -> dict:
        """How figures of ``num_samples`` generated images are made; ``real_floor``
        holds :meth:`floor` at that count (None without ``held_out``)."""
        key = self.extractor.key
        floor = self.floor(num_samples)
        return {
            "extractor": key,
            # Scores outside Inception space must never be quoted as plain FID/KID.
            "score_names": {f"{key}_fid": f"{key}-FID", f"{key}_kid": f"{key}-KID"},
            "extractor_description": self.extractor.description,
            "resize": self.extractor.resize,
            "network_key": self.extractor.network_key,
            "feature_dim": int(self.reference_features.shape[1]),
            "num_samples": None if num_samples is None else int(num_samples),
            "num_reference": len(self.reference_features),
            "reference_split": self.reference_split,
            "held_out_split": self.held_out_split if self._held_out is not None else None,
            "kid_subsets": self.kid_subsets,
            "kid_subset_size": self.kid_subset_size,
            "kid_kernel": "(x.y/d+1)^3",
            "precision_recall_k": self.k,
            "real_floor": None if floor is None else {"num_samples": self._floor_count(num_samples), **floor},
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
