"""Input pipelines: dataset files to batches (unconditional and paired image-to-image)."""

import importlib

from tfgan_zoo.data.folder import ImageFolder, load_image_folder
from tfgan_zoo.data.idx import (
    DATA_ENV_VAR,
    DataError,
    DataNotFoundError,
    load_idx_dataset,
    load_idx_split,
    read_idx,
    resolve_idx_dir,
)
from tfgan_zoo.data.images import IMAGE_EXTENSIONS, ImageReadError, list_images, read_rgb, resize_square
from tfgan_zoo.data.paired import (
    load_folder_pairs,
    load_side_by_side,
    paired_dataset,
    resolve_paired_dir,
)
from tfgan_zoo.data.pipeline import image_dataset
from tfgan_zoo.data.unpaired import (
    load_tfds_cycle_gan,
    load_unpaired,
    resolve_unpaired_dir,
    unpaired_dataset,
)
from tfgan_zoo.ranges import to_uint8, to_unit_range, uint8_to_model_range

__all__ = [
    "DATA_ENV_VAR",
    "DataError",
    "DataNotFoundError",
    "IMAGE_EXTENSIONS",
    "ImageFolder",
    "ImageReadError",
    "image_dataset",
    "line_art",
    "list_images",
    "load_folder_pairs",
    "load_image_folder",
    "load_idx_dataset",
    "load_idx_split",
    "load_side_by_side",
    "load_tfds_cycle_gan",
    "load_unpaired",
    "make_lineart_pairs",
    "paired_dataset",
    "read_idx",
    "read_rgb",
    "resize_square",
    "resolve_idx_dir",
    "resolve_paired_dir",
    "resolve_unpaired_dir",
    "to_uint8",
    "to_unit_range",
    "uint8_to_model_range",
    "unpaired_dataset",
]

_LAZY = {"line_art": "tfgan_zoo.data.lineart", "make_lineart_pairs": "tfgan_zoo.data.lineart"}


def __getattr__(name):
    # Imported on first use: importing tfgan_zoo.data.lineart along with the package would
    # make `python -m tfgan_zoo.data.lineart` warn that its module was already loaded.
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
