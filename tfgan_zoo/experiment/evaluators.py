"""The data and evaluators the experiment scripts share: MNIST-format sets, a
folder of your own images, and the scorers of samples and translations, each built from a
:class:`~tfgan_zoo.runs.RunSpec` (None when its ``eval_every`` is 0)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tfgan_zoo import metrics
from tfgan_zoo.experiment.runtime import Phase, loading, verbosity
from tfgan_zoo.runs import RunSpec

CLASSIFIER_PHASE = "training (or loading) the evaluation classifier"
REFERENCE_PHASE = "computing the evaluation's reference features"
# The neighbours of the samples' precision/recall: each set scored needs more samples than this.
NEIGHBOURS = 3


def load_idx(spec: RunSpec):
    """``(train_images, train_labels, test_images, spec)`` of the spec's ``dataset``
    (MNIST or Fashion-MNIST, from its ``data_dir``, else TFDS), the spec recording the
    folder (or TFDS name) and the training split's fingerprint as its sources."""
    from tfgan_zoo.data import load_idx_dataset, resolve_idx_dir

    name, data_dir = spec.data["dataset"], spec.run.data_dir
    with loading(spec):
        images, labels = load_idx_dataset(name, "train", data_dir)
        test_images, _ = load_idx_dataset(name, "test", data_dir)
        spec = spec.with_sources(source=resolve_idx_dir(name, data_dir) or f"tensorflow_datasets:{name}",
                                 train=(images, labels))
    return images, labels, test_images, spec


def load_folder(spec: RunSpec, labelled: bool):
    """``(folder, spec)``: the :class:`~tfgan_zoo.data.ImageFolder` of the spec's
    ``images`` (its ``subset``), reporting skipped files, and the spec with the
    folder recorded.

    ``images`` and a ``labels`` CSV become absolute paths (``./faces`` and
    ``faces`` are one folder; the same relative path from another directory is
    another), and the folder, the CSV and the image count join the run's
    sources. An unconditional run (``labelled=False``) has no labels option:
    a CSV given to it only picks the images, and is recorded as a source."""
    images, labels = spec.data.get("images"), spec.data.get("labels")
    if not images:
        raise SystemExit("Pass the folder of images to train on: --images DIR.")
    if labelled and not labels:
        raise SystemExit("A conditional GAN needs labels: --labels subfolders, or --labels FILE.csv --label-column NAME.")
    with loading(spec):
        return _load_folder(spec, images, labels, labelled)


def _load_folder(spec: RunSpec, images: str, labels: str | None, labelled: bool):
    from tfgan_zoo.data import load_image_folder
    from tfgan_zoo.data.folder import SUBFOLDERS

    images = str(Path(images).expanduser().resolve())
    csv_labels = labels not in (None, SUBFOLDERS)
    if csv_labels:
        # As the loader reads it: from the working directory, else relative to the image folder.
        given = Path(labels).expanduser()
        labels = str((given if given.exists() or given.is_absolute() else Path(images) / given).resolve())
    image_size = spec.data["image_size"]
    folder = load_image_folder(images, image_size, labels=labels, label_column=spec.data.get("label_column"),
                               strict=bool(spec.extra.get("strict")))
    if folder.skipped:
        more = f" and {len(folder.skipped) - 10} more" if len(folder.skipped) > 10 else ""
        print(f"Skipped {len(folder.skipped)} unreadable file(s): "
              + "; ".join(f"{path} ({reason})" for path, reason in folder.skipped[:10]) + more)
    if spec.data.get("subset"):
        folder = folder.subset(spec.data["subset"], seed=spec.run.seed)
    spec = spec.with_data(images=images, labels=labels if labelled else None).with_sources(
        images=Path(images), labels=Path(labels) if csv_labels else None, image_count=len(folder.images),
    )
    print(f"{len(folder.images)} images of {images} at {image_size}x{image_size}"
          + (f", {folder.num_classes} classes" if folder.labels is not None else ""))
    return folder, spec


def folder_evaluator(spec: RunSpec, folder, conditional: bool):
    """A :class:`~tfgan_zoo.metrics.GANEvaluator` of ``folder``'s images, or None when evaluation is off.

    Features come from :func:`folder_classifier` of the folder, trained for the
    spec's ``classifier_epochs`` with its seed and cached in its ``cache_dir``;
    its key is the protocol's ``network_key``.
    """
    if spec.run.eval_every <= 0:
        return None
    with Phase(spec, CLASSIFIER_PHASE):
        classifier, key = folder_classifier(folder, spec.extra["classifier_epochs"], spec.run.seed,
                                            spec.run.cache_dir)
    task = "labels" if folder.labels is not None else "rotation"
    return _gan_evaluator(
        spec, metrics.DomainFeatures(classifier, key="domain", network_key=key), folder.images,
        reference_split=f"{spec.data['images']} ({task})",
        classifier=classifier if conditional else None, num_classes=folder.num_classes if conditional else 0,
    )


def folder_classifier(folder, epochs: int, seed: int, cache_dir: Path):
    """``(classifier, key)``: the feature network of an :class:`~tfgan_zoo.data.ImageFolder`, for domain-FID.

    Trained on its labels when it has them, else on the auxiliary task of
    telling which of four rotations an image was turned by (see
    :func:`tfgan_zoo.metrics.rotation_task`). Cached in ``cache_dir`` under its
    :func:`~tfgan_zoo.metrics.network_key`: the images, their labels, the task,
    ``epochs`` and ``seed``; another caller with the same images and settings
    (bench/finetune_preset.py) reads the same network.
    """
    images, labels = folder.images, folder.labels
    task = "labels" if labels is not None else "rotation"
    num_classes = folder.num_classes if labels is not None else 4
    validation_split = 0.1
    key = metrics.network_key(
        f"folder_{task}_classifier", images=images, labels=labels, task=task, epochs=epochs, seed=seed,
        builder=metrics.build_colour_classifier, validation_split=validation_split,
    )
    cache = Path(cache_dir) / f"{key}.keras"
    # A cached classifier is only loaded: the training set (four turns of every image) is made only to train.
    classifier = metrics.cached_classifier(cache, key)
    if classifier is None:
        if task == "labels":
            # Shuffled: Keras holds out the *last* 10%, which for class sub-folders would be one class.
            order = np.random.default_rng(seed).permutation(len(images))
            train_images, train_labels = images[order], labels[order]
        else:
            train_images, train_labels = metrics.rotation_task(images, seed=seed)
        classifier = metrics.domain_classifier(
            train_images, train_labels, num_classes, epochs=epochs, seed=seed, builder=metrics.build_colour_classifier,
            validation_split=validation_split,
        )
        metrics.keep_classifier(classifier, cache, key)
    _name_network(key, cache)
    return classifier, key


def domain_evaluator(spec: RunSpec, train_images, train_labels, test_images, conditional: bool):
    """A :class:`~tfgan_zoo.metrics.GANEvaluator` in a domain classifier's feature space, or None.

    The classifier is trained on the training split once (a minute or two on
    CPU) and cached in the spec's ``cache_dir`` under its
    :func:`~tfgan_zoo.metrics.network_key` (the training images and labels,
    whatever folder they came from); the test split gives the real-vs-real
    floor. None when evaluation is off.
    """
    if spec.run.eval_every <= 0:
        return None
    num_classes = int(train_labels.max()) + 1
    key = domain_network_key(spec.data["dataset"], train_images, train_labels)
    cache = spec.run.cache_dir / f"{key}.keras"
    with Phase(spec, CLASSIFIER_PHASE):
        classifier = metrics.domain_classifier(train_images, train_labels, num_classes, cache_path=cache,
                                               cache_key=key)
    _name_network(key, cache)
    return _gan_evaluator(
        spec, metrics.DomainFeatures(classifier, network_key=key), train_images,
        held_out=test_images[: spec.run.eval_samples],
        classifier=classifier if conditional else None, num_classes=num_classes if conditional else 0,
    )


def translation_evaluator(spec: RunSpec, train: tuple, validation: tuple, name: str):
    """A :class:`~tfgan_zoo.metrics.TranslationEvaluator` of the validation split, or None when evaluation is off.

    ``train`` and ``validation`` are ``(images_a, images_b)``. The domain
    classifier is trained on the train split once and cached in the spec's
    ``cache_dir`` under its :func:`~tfgan_zoo.metrics.network_key` (both
    domains' training images and the seed), ``{name}_{size}px_classifier_{hash}.keras``.
    """
    if spec.run.eval_every <= 0:
        return None
    val_a, val_b = (images[: spec.run.eval_samples] for images in validation)
    key = translation_network_key(name, train, spec.run.seed)
    cache = spec.run.cache_dir / f"{key}.keras"
    with Phase(spec, CLASSIFIER_PHASE):
        classifier = metrics.translation_classifier(*train, cache_path=cache, validation=(val_a, val_b),
                                                    seed=spec.run.seed, cache_key=key)
    _name_network(key, cache)
    with Phase(spec, REFERENCE_PHASE):
        return metrics.TranslationEvaluator(classifier, val_a, val_b, seed=spec.run.seed, network_key=key)


def domain_network_key(dataset: str, train_images, train_labels) -> str:
    """The :func:`~tfgan_zoo.metrics.network_key` of the classifier :func:`domain_evaluator`
    trains on ``dataset``'s training split; its cache is ``KEY.keras`` in the cache folder."""
    num_classes = int(train_labels.max()) + 1
    return metrics.network_key(f"{dataset}_classifier", images=train_images, labels=train_labels,
                               num_classes=num_classes)


def translation_network_key(name: str, train: tuple, seed: int) -> str:
    """The :func:`~tfgan_zoo.metrics.network_key` of the domain classifier
    :func:`translation_evaluator` trains on ``train`` (``(images_a, images_b)``)
    with ``seed``; its cache is ``KEY.keras`` in the cache folder."""
    return metrics.network_key(f"{name}_{train[0].shape[1]}px_classifier", images_a=train[0], images_b=train[1],
                               seed=seed)


def _name_network(key: str, cache: Path) -> None:
    """Says which classifier the scores come from: the key the protocols record."""
    print(f"Evaluation features: classifier {key}" + (f" ({cache})" if cache.exists() else ""))


def _gan_evaluator(spec: RunSpec, extractor, reference, **options):
    """A :class:`~tfgan_zoo.metrics.GANEvaluator`, showing the extraction of its
    reference features (thousands of images) on the console as ``fit`` would."""
    progress = metrics.Progress("Evaluation reference", verbosity(spec))
    with Phase(spec, REFERENCE_PHASE):
        evaluator = metrics.GANEvaluator(extractor, reference, k=NEIGHBOURS, progress=progress, **options)
    progress.end(f"features of {len(evaluator.reference_features)} real images")
    return evaluator
