"""What every image-to-image generator shares: its image size and channels,
which exports and ``translate`` read, its build on dummy inputs and config."""

from __future__ import annotations

import keras
from keras import ops


class ImageTranslator(keras.Model):
    """``images [B, S, S, input_channels]`` in [-1, 1] -> ``[B, S, S, output_channels]``;
    ``filters``: the width of the first block."""

    def __init__(self, image_size: int = 256, input_channels: int = 3, output_channels: int = 3,
                 filters: int = 64, **kwargs):
        super().__init__(**kwargs)
        self.image_size = int(image_size)
        self.input_channels = int(input_channels)
        self.output_channels = int(output_channels)
        self.filters = int(filters)

    def build_for_inputs(self):
        """Creates the variables by one call on dummy inputs."""
        self(ops.zeros((1, self.image_size, self.image_size, self.input_channels)))

    def get_config(self):
        return {
            **super().get_config(),
            "image_size": self.image_size,
            "input_channels": self.input_channels,
            "output_channels": self.output_channels,
            "filters": self.filters,
        }
