"""Unpaired image-to-image datasets (CycleGAN): two folders of images, one per domain.

Folder layout (the CycleGAN / TFDS ``cycle_gan`` layout)::

    <dir>/trainA/   images of domain A (e.g. horses)
    <dir>/trainB/   images of domain B (e.g. zebras)
    <dir>/testA/    optional, held-out images of domain A
    <dir>/testB/    optional, held-out images of domain B

Splits (:func:`load_unpaired`):

* with ``testA/`` and ``testB/``: ``"train"`` is all of trainA/trainB and
  ``"val"`` (alias ``"test"``) is testA/testB;
* without them: ``"val"`` is a fixed, held-out part of trainA/trainB
  (``val_count`` pictures per domain) and ``"train"`` is the rest.

The held-out part is chosen from the file names alone (a hash of each name, so it
does not depend on listing order, image size or which other files exist) and is
the same on every machine. Byte-identical files (the same picture under two
names; horse2zebra has 8 such pairs in trainA and 16 in trainB) always land in
the same split, and by default only the first copy (natural name order) is kept,
so no picture is counted twice. Near-duplicates (re-encoded, re-cropped or
recoloured copies) are not detected.

Loaders return uint8 arrays ``[N, size, size, 3]`` and the file stems;
:func:`unpaired_dataset` batches the two domains side by side. Scaling to
[-1, 1] and jitter happen on the device, in the model.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import tensorflow as tf

from tfgan_zoo.data.idx import DATA_ENV_VAR, DataError, DataNotFoundError
from tfgan_zoo.data.images import IMAGE_EXTENSIONS, read_rgb, require_images, resize_square
from tfgan_zoo.data.pipeline import uint8_image_array
from tfgan_zoo.data.tfds_errors import tfds_load_error

DOMAINS = ("A", "B")
SPLITS = ("train", "val", "test")
DEFAULT_VAL_COUNT = 100
# Bumped whenever decoding changes what a file gives (2: EXIF orientation of PNG and WebP).
_CACHE_VERSION = 2


def _layout(name: str = "<dir>") -> str:
    return (
        f"{name}/trainA/ and {name}/trainB/ (images of domains A and B; "
        f"{', '.join(IMAGE_EXTENSIONS)}), optionally {name}/testA/ and {name}/testB/"
    )


def _fix(name: str) -> str:
    return (
        f"Pass --data-dir DIR (or data_dir=DIR, or set {DATA_ENV_VAR}=DIR), where DIR is the "
        f"'{name}' folder or its parent. Expected layout: {_layout()}."
    )


def _is_unpaired_folder(folder: Path) -> bool:
    return all((folder / f"train{domain}").is_dir() for domain in DOMAINS)


def resolve_unpaired_dir(name: str = "horse2zebra", data_dir: str | os.PathLike | None = None) -> Path:
    """The folder of unpaired dataset ``name`` from ``data_dir``, else ``$TFGAN_ZOO_DATA``.

    Either path may be the dataset folder itself or its parent (holding ``name/``).
    The dataset folder must hold ``trainA/`` and ``trainB/``. Raises
    :class:`DataNotFoundError` when no path is given or neither form fits.
    """
    root = data_dir if data_dir is not None else os.environ.get(DATA_ENV_VAR)
    if not root:
        raise DataNotFoundError(f"No data folder given for {name}. {_fix(name)}")
    root = Path(root).expanduser()
    for folder in (root / name, root):
        if _is_unpaired_folder(folder):
            return folder
    source = "--data-dir" if data_dir is not None else f"${DATA_ENV_VAR}"
    likely = root / name if (root / name).is_dir() else root
    missing = [f"train{domain}/" for domain in DOMAINS if not (likely / f"train{domain}").is_dir()]
    problem = f"{likely} lacks {' and '.join(missing)}" if likely.is_dir() else f"{likely} does not exist"
    raise DataNotFoundError(f"{name} not found from {source}={root}: {problem}. {_fix(name)}")


def _domain_files(directory: Path, folder: str) -> list[Path]:
    return require_images(directory / folder, f"An unpaired dataset folder holds {_layout(str(directory))}.")


def _name_rank(path: Path) -> str:
    """Position of a file in the held-out order: a hash of its name, stable across machines."""
    return hashlib.sha1(path.name.encode("utf-8")).hexdigest()


def _duplicate_groups(files: list[Path]) -> list[list[Path]]:
    """``files`` grouped by identical bytes, each group and the groups in natural order."""
    groups: dict[str, list[Path]] = {}
    for path in files:
        digest = hashlib.sha1(path.read_bytes()).hexdigest()
        groups.setdefault(digest, []).append(path)
    return list(groups.values())  # files are in natural order, so are groups and members


def split_files(
    files: list[Path], val_count: int, dedupe: bool = True
) -> tuple[list[Path], list[Path]]:
    """``(train, val)`` files of one domain: ``val_count`` pictures held out by name hash.

    Byte-identical files form one group that goes to one side as a whole, ranked by
    its first file's name; with ``dedupe`` only that first file is kept. Both lists
    come back in natural name order.
    """
    groups = _duplicate_groups(files)
    if not 0 <= val_count < len(groups):
        raise DataError(
            f"val_count must be from 0 to {len(groups) - 1} (the domain has {len(groups)} distinct "
            f"pictures in {files[0].parent}), got {val_count}."
        )
    ranked = sorted(groups, key=lambda group: _name_rank(group[0]))
    held_out = {id(group) for group in ranked[:val_count]}
    train, val = [], []
    for group in groups:
        members = group[:1] if dedupe else group
        (val if id(group) in held_out else train).extend(members)
    return train, val


def _dedupe(files: list[Path]) -> list[Path]:
    return [group[0] for group in _duplicate_groups(files)]


def _split_selection(
    directory: Path, split: str, val_count: int, dedupe: bool
) -> dict[str, list[Path]]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
    has_test = all((directory / f"test{domain}").is_dir() for domain in DOMAINS)
    if split == "test" and not has_test:
        raise DataNotFoundError(
            f"{directory} has no testA/ and testB/, so there is no test split; use split='val', "
            f"a part of trainA/trainB held out by name (val_count={val_count} per domain)."
        )
    # Every folder is checked before any is split, so a missing one is reported first.
    files = {domain: _domain_files(directory, f"train{domain}") for domain in DOMAINS}
    if has_test:
        if split != "train":
            files = {domain: _domain_files(directory, f"test{domain}") for domain in DOMAINS}
        return {domain: _dedupe(paths) if dedupe else paths for domain, paths in files.items()}
    if split == "val" and val_count == 0:
        raise DataError(
            f"{directory} has no testA/ and testB/, so split='val' needs val_count > 0 "
            "images per domain held out of trainA/trainB."
        )
    selection = {}
    for domain, paths in files.items():
        train, val = split_files(paths, val_count, dedupe)
        selection[domain] = train if split == "train" else val
    return selection


def _read_images(files: list[Path], size: int, workers: int) -> np.ndarray:
    images = np.empty((len(files), size, size, 3), np.uint8)

    def load(index: int) -> None:
        images[index] = resize_square(read_rgb(files[index]), size)

    if workers > 1 and len(files) > 1:
        # OpenCV releases the GIL while decoding and resizing, so threads run in parallel.
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(load, range(len(files))))
    else:
        for index in range(len(files)):
            load(index)
    return images


def _cache_file(cache_dir: Path, directory: Path, selection: dict, settings: dict) -> Path:
    """The cache of ``selection`` decoded with ``settings``, named by a hash of what
    it is built from: each file's name and bytes (an edit in place, even one that
    keeps the size and the modification time, is another cache), the settings and
    the decoder's version (:data:`_CACHE_VERSION`)."""
    digest = hashlib.blake2b(digest_size=8)
    digest.update(json.dumps({"version": _CACHE_VERSION, **settings}, sort_keys=True).encode())
    for domain, files in sorted(selection.items()):
        for path in files:
            digest.update(json.dumps([domain, path.name]).encode())
            digest.update(hashlib.blake2b(path.read_bytes(), digest_size=16).digest())
    return cache_dir / f"unpaired_{directory.name}_{settings['split']}_{settings['size']}px_{digest.hexdigest()}.npz"


def _read_cache(cache: Path) -> tuple | None:
    """The arrays and names kept in ``cache``, or None (saying so) when it cannot be read."""
    try:
        with np.load(cache) as stored:
            return (stored["images_a"], stored["images_b"], stored["names_a"].tolist(), stored["names_b"].tolist())
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        print(f"The decoded-image cache {cache} cannot be read ({type(error).__name__}: {error}); "
              "decoding the images again and rewriting it.", file=sys.stderr)
        return None


def _write_cache(cache: Path, images: dict, names: dict) -> None:
    """Keeps the decoded arrays in ``cache``, whole or not at all; a cache that cannot
    be written is said and skipped, since the images are in hand."""
    partial = cache.with_name(f"{cache.name}.{os.getpid()}.partial")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with open(partial, "wb") as handle:
            np.savez(
                handle,
                images_a=images["A"],
                images_b=images["B"],
                names_a=np.array(names["A"], dtype=str),
                names_b=np.array(names["B"], dtype=str),
            )
        os.replace(partial, cache)  # readers never see a half-written cache
    except OSError as error:
        print(f"The decoded images cannot be kept in {cache} ({error.strerror or error}); continuing without "
              "the cache. Pass a writable --cache-dir to keep them.", file=sys.stderr)
    finally:
        partial.unlink(missing_ok=True)


def load_unpaired(
    directory: str | os.PathLike,
    size: int = 256,
    split: str = "train",
    val_count: int = DEFAULT_VAL_COUNT,
    dedupe: bool = True,
    limit: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    workers: int = 2,
) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """``(images_a, images_b, names_a, names_b)`` of one split of an unpaired dataset.

    Args:
        directory: the dataset folder, holding ``trainA/`` and ``trainB/`` (and
            optionally ``testA/``, ``testB/``); see :func:`resolve_unpaired_dir`.
        size: images are squared to ``size``×``size`` (:func:`resize_square`: centre
            crop, area averaging when shrinking). Greyscale, palette and
            transparent files become RGB (:func:`read_rgb`); an undecodable file
            raises :class:`ImageReadError` naming it.
        split: ``"train"`` or ``"val"`` (``"test"`` only with testA/testB); see the
            module docstring for how the validation split is held out.
        val_count: pictures per domain held out of trainA/trainB for ``"val"``
            when there is no testA/testB (ignored when there is).
        dedupe: keep only the first of byte-identical files.
        limit: read at most the first ``limit`` files of each domain (natural name
            order) of the split, for quick looks and tests; the split itself does
            not change.
        cache_dir: if given, the decoded arrays are kept there as ``.npz`` and
            reused while the files (names and bytes) and the arguments are
            unchanged; a cache that cannot be read is named and rewritten.
        workers: decoding threads.

    Returns uint8 ``[N, size, size, 3]`` and ``[M, size, size, 3]`` arrays and the
    file stems, each domain in natural name order.
    """
    directory = Path(directory)
    if size < 1:
        raise ValueError(f"size must be a positive number of pixels, got {size}.")
    if not directory.is_dir():
        raise DataNotFoundError(f"{directory} does not exist. {_fix(directory.name)}")
    selection = _split_selection(directory, split, val_count, dedupe)
    if limit is not None:
        selection = {domain: files[:limit] for domain, files in selection.items()}
    cache = None
    if cache_dir is not None:
        settings = {"split": split, "size": size, "val_count": val_count, "dedupe": dedupe}
        cache = _cache_file(Path(cache_dir), directory, selection, settings)
        cached = _read_cache(cache) if cache.is_file() else None
        if cached is not None:
            return cached
    images = {domain: _read_images(files, size, workers) for domain, files in selection.items()}
    names = {domain: [path.stem for path in files] for domain, files in selection.items()}
    if cache is not None:
        _write_cache(cache, images, names)
    return images["A"], images["B"], names["A"], names["B"]


def load_tfds_cycle_gan(
    name: str = "horse2zebra", size: int = 256, split: str = "train"
) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """:func:`load_unpaired`'s result from TFDS ``cycle_gan/<name>`` (downloads: online users).

    ``split``: ``"train"`` (TFDS ``trainA``/``trainB``) or ``"val"``/``"test"``
    (``testA``/``testB``). TFDS gives no file names; names are ``<split><domain>_<index>``.
    Needs ``pip install tensorflow-datasets``. A failed load raises what
    :func:`~tfgan_zoo.data.tfds_errors.tfds_load_error` returns: :class:`DataNotFoundError`
    when the download failed, ``MissingPackageError`` or ``RuntimeError`` otherwise.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
    try:
        import tensorflow_datasets as tfds
    except ImportError as error:
        raise DataNotFoundError(
            f"Loading cycle_gan/{name} online needs tensorflow_datasets (pip install "
            f"tensorflow-datasets), which is not installed. Or download the {name} folder "
            f"({_layout(name)}) and use load_unpaired. {_fix(name)}"
        ) from error
    prefix = "train" if split == "train" else "test"
    images, names = [], []
    for domain in DOMAINS:
        tfds_split = f"{prefix}{domain}"
        try:
            data = tfds.load(f"cycle_gan/{name}", split=tfds_split, as_supervised=True, batch_size=-1)
        except Exception as error:  # offline, a package missing, or else: tfds_load_error tells which
            raise tfds_load_error(
                error, f"cycle_gan/{name} split {tfds_split}", f"Use a local copy instead. {_fix(name)}"
            ) from error
        pictures = np.asarray(tfds.as_numpy(data)[0])
        if pictures.ndim == 3:
            pictures = pictures[..., None]
        if pictures.shape[-1] == 1:
            pictures = np.repeat(pictures, 3, axis=-1)
        resized = np.empty((len(pictures), size, size, 3), np.uint8)
        for index, picture in enumerate(pictures):
            resized[index] = resize_square(picture[..., :3].astype(np.uint8), size)
        images.append(resized)
        names.append([f"{tfds_split}_{index}" for index in range(len(pictures))])
    return images[0], images[1], names[0], names[1]


def unpaired_dataset(
    images_a: np.ndarray,
    images_b: np.ndarray,
    batch_size: int = 1,
    seed: int | None = None,
    shuffle: bool = True,
) -> tf.data.Dataset:
    """One epoch of ``(batch_a, batch_b)`` batches, both uint8 ``[batch_size, H, W, C]``.

    An epoch is ``max(N, M) // batch_size`` batches: it covers the larger domain
    once, while the smaller one is repeated (continuing into a fresh shuffle) to
    keep up. The remainder of the larger domain is dropped so every batch has the
    same static shape (XLA, even splits across replicas); with shuffling, a
    different remainder each epoch. Each domain is shuffled on its own (seeds
    ``seed`` and ``seed + 1``) and reshuffled every epoch, so pairs are random.
    Iterate the dataset again (or ``.repeat()``) for more epochs. No float
    conversion here: the model scales to [-1, 1] on the device.
    """
    images_a = uint8_image_array("images_a", images_a, "load_unpaired")
    images_b = uint8_image_array("images_b", images_b, "load_unpaired")
    for name, images in (("images_a", images_a), ("images_b", images_b)):
        if len(images) == 0:
            raise DataError(f"{name} is empty: there are no images to batch.")
    if images_a.shape[1:] != images_b.shape[1:]:
        raise ValueError(
            f"images_a {images_a.shape} and images_b {images_b.shape} must have the same height, "
            "width and channels; load both domains at one size."
        )
    if not 1 <= batch_size <= max(len(images_a), len(images_b)):
        raise ValueError(
            f"batch_size must be from 1 to {max(len(images_a), len(images_b))} (the larger domain), "
            f"got {batch_size}."
        )

    def stream(images: np.ndarray, offset: int) -> tf.data.Dataset:
        dataset = tf.data.Dataset.from_tensor_slices(images)
        if shuffle:
            domain_seed = None if seed is None else seed + offset
            dataset = dataset.shuffle(len(images), seed=domain_seed, reshuffle_each_iteration=True)
        return dataset.repeat()

    steps = max(len(images_a), len(images_b)) // batch_size
    dataset = tf.data.Dataset.zip((stream(images_a, 0), stream(images_b, 1)))
    dataset = dataset.take(steps * batch_size).batch(batch_size, drop_remainder=True)
    return dataset.prefetch(tf.data.AUTOTUNE)
