"""Scores of an unpaired translator (CycleGAN) between two domains: :class:`TranslationEvaluator`."""

from __future__ import annotations

import keras
import numpy as np

from tfgan_zoo.metrics.classifiers import DOMAIN_A, DOMAIN_B, predict_classes
from tfgan_zoo.metrics.distances import frechet_distance, kernel_inception_distance
from tfgan_zoo.metrics.evaluation import Evaluation
from tfgan_zoo.metrics.features import DomainFeatures
from tfgan_zoo.metrics.images import as_uint8_images, gather_images
from tfgan_zoo.metrics.paired import l1
from tfgan_zoo.metrics.progress import Progress


def target_share(classifier: keras.Model, translations, target: str) -> float:
    """The share of ``translations`` (uint8 images) that ``classifier``, a domain
    classifier (A=0, B=1), reads as domain ``target`` (``"a"`` or ``"b"``)."""
    label = DOMAIN_B if target == "b" else DOMAIN_A
    return float(np.mean(predict_classes(classifier, translations) == label))


class TranslationEvaluator:
    """Scores an unpaired translator (e.g. CycleGAN) between domains A and B.

    The real images of each domain (the validation split) are translated to the
    other domain and the translations compared with the real images of that
    domain in the ``features`` space of a domain classifier
    (:func:`~tfgan_zoo.metrics.translation_classifier`, trained on the *train*
    split). Figures, all floats, for ``d`` in ``a_to_b`` and ``b_to_a``:

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
        held_out_a, held_out_b: other real images of each domain, for
            :meth:`floor`; best images the classifier never trained on (e.g.
            split the validation images in two: references and floor).
            Training images are read more confidently and sit apart in feature
            space, which inflates the floor's FID (horse2zebra, 128 px: ~5-6
            with training images vs ~1.3-2.3 with unseen ones).
        kid_subsets, kid_subset_size: KID averages the unbiased MMD² over
            ``kid_subsets`` random subsets of ``kid_subset_size`` images from each
            set (default and cap: the smaller set's size).
        seed: the seed of the KID subsets.
        batch_size: images per call of the translators and the classifier.
        network_key: the classifier's cache key, recorded in the protocol.
    """

    DIRECTIONS = ("a_to_b", "b_to_a")

    def __init__(
        self,
        classifier: keras.Model,
        real_a,
        real_b,
        held_out_a=None,
        held_out_b=None,
        kid_subsets: int = 10,
        kid_subset_size: int | None = None,
        seed: int = 0,
        batch_size: int = 50,
        network_key: str | None = None,
    ):
        self.classifier = classifier
        self.extractor = DomainFeatures(classifier, key="translation", batch_size=batch_size, network_key=network_key)
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
        if (held_out_a is None) != (held_out_b is None):
            raise ValueError("The floor needs held-out images of both domains: pass held_out_a and held_out_b.")
        self._held_out = None
        if held_out_a is not None:
            self._held_out = {
                domain: self._images(images, f"held_out_{domain}")
                for domain, images in (("a", held_out_a), ("b", held_out_b))
            }
        self._floors = {}
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
        """Names of the figures :meth:`evaluate` returns (without ``cycle``: those of translations only)."""
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
        return {
            f"{direction}_fid": frechet_distance(real, features),
            f"{direction}_kid": kid,
            f"{direction}_kid_std": kid_std,
            f"{direction}_target_share": target_share(self.classifier, fakes, target),
        }

    def _figures(self, fake_b=None, fake_a=None, reconstructed_a=None, reconstructed_b=None) -> dict:
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

    def evaluate_translations(
        self, fake_b=None, fake_a=None, reconstructed_a=None, reconstructed_b=None, progress: Progress | None = None
    ) -> Evaluation:
        """Scores ready-made arrays: ``fake_b`` = translations of the real A images
        (any count >= 2), ``fake_a`` of the real B images, and the reconstructions
        of the real images (same count and order as ``real_a`` / ``real_b``).
        Figures of arguments left out are left out."""
        figures = self._figures(fake_b, fake_a, reconstructed_a, reconstructed_b)
        # The protocol holds the floor; computed here first, its (one-off) stages show in this pass's progress.
        self.floor(progress=progress)
        return Evaluation(figures=figures, details={}, protocol=self.protocol())

    def _translate(self, translate, images: np.ndarray, progress: Progress, stage: str) -> np.ndarray:
        parts = []
        for start in progress.batches(stage, len(images), self.batch_size):
            batch = images[start : start + self.batch_size]
            translated = as_uint8_images(np.asarray(translate(batch)))
            if len(translated) != len(batch):
                raise ValueError(f"The translator returned {len(translated)} images for {len(batch)}.")
            parts.append(translated)
        return np.concatenate(parts)

    def evaluate(self, translate_ab, translate_ba, progress: Progress | None = None) -> Evaluation:
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
        return self.evaluate_translations(fake_b, fake_a, reconstructed_a, reconstructed_b, progress)

    def _floor_counts(self, num_samples: int | None) -> dict:
        """Stand-ins per direction: as many as the translations :meth:`evaluate` scores, capped."""
        cap = np.inf if num_samples is None else int(num_samples)
        return {
            "a_to_b": int(min(cap, len(self.real["a"]), len(self._held_out["b"]))),
            "b_to_a": int(min(cap, len(self.real["b"]), len(self._held_out["a"]))),
        }

    def floor(self, num_samples: int | None = None, progress: Progress | None = None) -> dict | None:
        """Figures of a perfect translator: held-out real images of each target
        domain stand in for the translations (at most ``num_samples`` per
        direction, and no more than :meth:`evaluate` translates). None without
        ``held_out_a`` and ``held_out_b``."""
        if self._held_out is None:
            return None
        counts = self._floor_counts(num_samples)
        key = tuple(counts.values())
        if key not in self._floors:
            (progress or Progress()).update("held-out floor")
            self._floors[key] = self._figures(
                fake_b=self._held_out["b"][: counts["a_to_b"]], fake_a=self._held_out["a"][: counts["b_to_a"]]
            )
        return dict(self._floors[key])

    def protocol(self, num_samples: int | None = None) -> dict:
        """How the figures are made; ``real_floor`` holds :meth:`floor` at ``num_samples``
        (None without held-out images)."""
        floor = self.floor(num_samples)
        return {
            "extractor": "translation",
            "score_names": {
                f"{direction}_{figure}": f"translation-{figure.upper()}"
                for direction in self.DIRECTIONS
                for figure in ("fid", "kid")
            },
            "extractor_description": "the 'features' layer of a domain classifier (A=0, B=1) "
            "trained on the train split",
            "network_key": self.extractor.network_key,
            "feature_dim": int(self.real_features["a"].shape[1]),
            "feature_scale": self.feature_scale,
            "num_real_a": len(self.real["a"]),
            "num_real_b": len(self.real["b"]),
            "image_shape": list(self.real["a"].shape[1:]),
            "kid_subsets": self.kid_subsets,
            "kid_subset_size": self.kid_subset_size or "smaller set's size",
            "kid_kernel": "(x.y/d+1)^3",
            "cycle_l1_scale": "[-1, 1]",
            "real_floor": None if floor is None else {"num_samples": self._floor_counts(num_samples), **floor},
        }
