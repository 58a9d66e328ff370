"""Input pipelines: dataset files to batches in [-1, 1]."""

from tfgan_zoo.data.idx import (
    DATA_ENV_VAR,
    DataNotFoundError,
    load_idx_dataset,
    load_idx_split,
    read_idx,
    resolve_idx_dir,
)
from tfgan_zoo.data.pipeline import image_dataset, to_uint8, to_unit_range

__all__ = [
    "DATA_ENV_VAR",
    "DataNotFoundError",
    "image_dataset",
    "load_idx_dataset",
    "load_idx_split",
    "read_idx",
    "resolve_idx_dir",
    "to_uint8",
    "to_unit_range",
]
