"""TFRecord shards: an image folder written once, read by many workers.

    python -m tfgan_zoo.data.shards ~/pictures/faces shards/faces --size 64 --shards 16
    python -m tfgan_zoo.data.shards anime/images shards/anime --size 64 --labels anime/tags.csv --label-column hair

Each record holds one PNG-encoded image (lossless, already square and
resized) and, with labels, its class id; ``shards.json`` beside the shards
says how many records each holds, the image size and the class names. Reading
(:func:`shard_dataset`) interleaves the shards in parallel and, given a
``tf.distribute.InputContext``, gives each input pipeline (one per worker)
its own subset of the files, so every image is read by exactly one worker
per epoch. Write at least as many shards as there will be workers (a few
per worker balances them better).

Interrupted (Ctrl-C), the command leaves no half-written shard and no
``shards.json``: a folder without it is never read as a complete set.

The output folder is the package's (it carries a ``.tfgan_zoo`` marker,
:mod:`tfgan_zoo.runs.ownership`): the command writes only into a new or empty
folder or one it wrote before, and stops before writing anything, naming the
folder and what is in it, when it holds files of anyone else.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

import cv2
import numpy as np
import tensorflow as tf

from tfgan_zoo.arguments import positive_int
from tfgan_zoo.commands import command_main
from tfgan_zoo.data.folder import load_image_folder
from tfgan_zoo.data.idx import DataNotFoundError
from tfgan_zoo.data.pipeline import uint8_image_array
from tfgan_zoo.ranges import uint8_to_model_range
from tfgan_zoo.runs import ownership

METADATA_FILE = "shards.json"
FOLDER_KIND = "shard folder"  # of its ownership marker
# Every file the writer makes: shards, their staging files, the description and its staging file.
_WRITTEN = re.compile(r"images-\d{5}-of-\d{5}\.(tfrecord|tmp)|shards\.json|\.shards\.json\.tmp")


def _shard_name(index: int, count: int) -> str:
    return f"images-{index:05d}-of-{count:05d}.tfrecord"


def _written_before_markers(folder: Path) -> bool:
    """Whether ``folder`` holds only what this writer made before the markers existed.
    The names alone do not tell: a file of the user's may be called shards.json, so
    that one must also read as this writer's description."""
    if not all(entry.is_file() and not entry.is_symlink() and _WRITTEN.fullmatch(entry.name)
               for entry in folder.iterdir()):
        return False
    description = folder / METADATA_FILE
    if not description.exists():
        return True
    try:
        metadata = json.loads(description.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(metadata, dict) and {"shards", "counts", "num_images"} <= metadata.keys()


def _claim(out_dir: str | os.PathLike) -> Path:
    return ownership.claim(out_dir, FOLDER_KIND, "tfgan_zoo.data.shards",
                           written_before_markers=_written_before_markers)


def _example(image: np.ndarray, label: int | None) -> bytes:
    ok, png = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.shape[-1] == 3 else image)
    if not ok:
        raise ValueError("PNG encoding failed.")
    feature = {"image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[png.tobytes()]))}
    if label is not None:
        feature["label"] = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)]))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def write_shards(
    images: np.ndarray,
    out_dir: str | os.PathLike,
    num_shards: int = 16,
    labels: np.ndarray | None = None,
    class_names: list[str] | None = None,
) -> Path:
    """Writes uint8 ``images`` ``[N, S, S, C]`` (and int ``labels``) round-robin into
    ``num_shards`` TFRecord files in ``out_dir`` plus ``shards.json``; returns ``out_dir``.

    Raises:
        ownership.NotOurs: ``out_dir`` is a link or a file, or a folder holding files
            that this function did not write; nothing was written or deleted.
    """
    images = uint8_image_array("images", images, "tfgan_zoo.data.load_image_folder")
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"{len(images)} images but {len(labels)} labels.")
    num_shards = int(num_shards)
    if not 1 <= num_shards <= len(images):
        raise ValueError(f"num_shards must be between 1 and the {len(images)} images, got {num_shards}.")
    out_dir = _claim(out_dir)
    # A rewrite stopped half-way must not pass for a complete set: the old
    # description goes first, and the new one is written last.
    (out_dir / METADATA_FILE).unlink(missing_ok=True)
    counts = []
    for shard in range(num_shards):
        indices = range(shard, len(images), num_shards)
        path = out_dir / _shard_name(shard, num_shards)
        staging = path.with_suffix(".tmp")
        try:
            with tf.io.TFRecordWriter(str(staging)) as writer:
                for i in indices:
                    writer.write(_example(images[i], None if labels is None else labels[i]))
            os.replace(staging, path)  # a killed writer leaves no half shard under the real name
        except BaseException:  # Ctrl-C too: no staging file is left behind
            staging.unlink(missing_ok=True)
            raise
        counts.append(len(indices))
    metadata = {
        "shards": [_shard_name(i, num_shards) for i in range(num_shards)], "counts": counts,
        "num_images": len(images), "image_shape": list(images.shape[1:]),
        "labelled": labels is not None, "class_names": list(class_names or []),
    }
    staging = out_dir / f".{METADATA_FILE}.tmp"
    try:
        staging.write_text(json.dumps(metadata, indent=2))
        os.replace(staging, out_dir / METADATA_FILE)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    return out_dir


def read_metadata(shard_dir: str | os.PathLike) -> dict:
    path = Path(shard_dir) / METADATA_FILE
    if not path.is_file():
        raise DataNotFoundError(
            f"{path} not found: {shard_dir} is not a shard folder. Write one with "
            "python -m tfgan_zoo.data.shards IMAGE_DIR OUT_DIR."
        )
    return json.loads(path.read_text())


def steps_per_epoch(shard_dir: str | os.PathLike, global_batch_size: int, num_workers: int = 1) -> int:
    """Steps that every one of ``num_workers`` workers can take per epoch with full
    batches (each reads its own files; the one with the fewest records decides).
    Pass it to ``fit(steps_per_epoch=...)`` with a repeated dataset: a dataset
    made by ``distribute_datasets_from_function`` has no length Keras can see,
    and workers that ran out at different steps would wait on each other forever."""
    counts = read_metadata(shard_dir)["counts"]
    if global_batch_size % num_workers:
        raise ValueError(f"global batch {global_batch_size} does not split evenly over {num_workers} workers.")
    per_worker = global_batch_size // num_workers
    steps = min(sum(counts[worker::num_workers]) // per_worker for worker in range(num_workers))
    if steps < 1:
        raise ValueError(f"{shard_dir} holds too few images for one global batch of {global_batch_size}.")
    return steps


def shard_dataset(
    shard_dir: str | os.PathLike,
    batch_size: int = 64,
    shuffle: bool = True,
    seed: int | None = None,
    input_context: tf.distribute.InputContext | None = None,
    drop_remainder: bool = True,
) -> tf.data.Dataset:
    """Batches of images in [-1, 1] (with int32 labels if the shards have them).

    ``batch_size`` is per input pipeline: with an ``input_context`` (from
    ``strategy.distribute_datasets_from_function``) pass
    ``input_context.get_per_replica_batch_size(global_batch)``; that pipeline
    then reads only the shard files ``i`` with ``i % num_input_pipelines ==
    input_pipeline_id``. Shards are interleaved in parallel and the records
    shuffled within a buffer of one shard's worth (or more).
    """
    metadata = read_metadata(shard_dir)
    files = [str(Path(shard_dir) / name) for name in metadata["shards"]]
    missing = [path for path in files if not Path(path).is_file()]
    if missing:
        raise DataNotFoundError(f"Shard files missing: {', '.join(missing[:5])}. Rewrite the shard folder.")
    pipelines, pipeline_id = 1, 0
    if input_context is not None:
        pipelines, pipeline_id = input_context.num_input_pipelines, input_context.input_pipeline_id
        if pipelines > len(files):
            raise ValueError(
                f"{pipelines} input pipelines but only {len(files)} shards: some workers would get no data. "
                f"Write at least {pipelines} shards (--shards)."
            )
    dataset = tf.data.Dataset.from_tensor_slices(files).shard(pipelines, pipeline_id)
    if shuffle:
        dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.interleave(
        tf.data.TFRecordDataset, cycle_length=min(len(files), 8), num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=not shuffle,
    )
    labelled, channels = metadata["labelled"], metadata["image_shape"][-1]
    spec = {"image": tf.io.FixedLenFeature([], tf.string)}
    if labelled:
        spec["label"] = tf.io.FixedLenFeature([], tf.int64)

    def parse(record):
        example = tf.io.parse_single_example(record, spec)
        image = tf.ensure_shape(tf.io.decode_png(example["image"], channels=channels), metadata["image_shape"])
        return (image, tf.cast(example["label"], tf.int32)) if labelled else image

    dataset = dataset.map(parse, num_parallel_calls=tf.data.AUTOTUNE)
    if shuffle:
        dataset = dataset.shuffle(max(max(metadata["counts"]), 4 * batch_size), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    # The record count is known from shards.json: telling tf.data lets Keras
    # size epochs up front (with an unknown length, fit ran one step more
    # than there were batches here).
    records = sum(metadata["counts"][pipeline_id::pipelines])
    batches = records // batch_size if drop_remainder else -(-records // batch_size)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    scale = (lambda x, y: (uint8_to_model_range(x), y)) if labelled else uint8_to_model_range
    dataset = dataset.map(scale, num_parallel_calls=tf.data.AUTOTUNE)
    # Sharding is done here by file; tf.distribute must not shard a second time.
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)


@command_main
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tfgan_zoo.data.shards", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("images", help="folder of images (searched recursively)")
    parser.add_argument("out", help="folder to write the shards and shards.json into")
    parser.add_argument("--size", type=positive_int, default=64, help="side of the square images stored")
    parser.add_argument(
        "--shards", type=positive_int, default=16, help="number of shard files (at least one per worker)"
    )
    parser.add_argument("--labels", default=None, help="'subfolders' or a labels CSV")
    parser.add_argument("--label-column", default=None)
    parser.add_argument("--strict", action="store_true", help="stop on an unreadable image instead of skipping it")
    args = parser.parse_args(argv)
    out_dir = Path(args.out)
    if out_dir.exists() or out_dir.is_symlink():  # refused before the images load, which may take minutes
        _claim(out_dir)
    folder = load_image_folder(args.images, args.size, labels=args.labels, label_column=args.label_column,
                               strict=args.strict)
    num_shards = min(args.shards, len(folder.images))
    out = write_shards(folder.images, args.out, num_shards, folder.labels, folder.class_names)
    skipped = f", skipped {len(folder.skipped)} unreadable" if folder.skipped else ""
    print(f"wrote {len(folder.images)} images{skipped} into {num_shards} shards in {out}")


if __name__ == "__main__":
    main()
