"""Paired image scores (pix2pix): translations against their targets, image by image."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfgan_zoo.metrics.images import as_uint8_images


def unit_interval(images) -> tf.Tensor:
    """uint8 or [-1, 1] float images -> float32 in [0, 1]."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return tf.constant(images, tf.float32) / 255.0
    as_uint8_images(images)  # validates the [-1, 1] range
    return (tf.constant(images, tf.float32) + 1.0) / 2.0


def _pair(images, targets) -> tuple[tf.Tensor, tf.Tensor]:
    images, targets = unit_interval(images), unit_interval(targets)
    if images.shape != targets.shape:
        raise ValueError(f"images {images.shape} and targets {targets.shape} differ in shape.")
    return images, targets


def l1(images, targets) -> float:
    """Mean absolute error on the [-1, 1] scale, the scale of the pix2pix L1 loss."""
    images, targets = _pair(images, targets)
    return float(2.0 * tf.reduce_mean(tf.abs(images - targets)))


def psnr(images, targets) -> float:
    """Mean per-image PSNR in dB (``inf`` if any pair is identical).

    Computed on [0, 1] with ``max_val=1``: the same figure as uint8 with 255.
    """
    images, targets = _pair(images, targets)
    return float(tf.reduce_mean(tf.image.psnr(images, targets, max_val=1.0)))


def ssim(images, targets) -> float:
    """Mean per-image SSIM (11x11 Gaussian window) on [0, 1] with ``max_val=1``.

    Images need sides of at least 11 pixels.
    """
    images, targets = _pair(images, targets)
    return float(tf.reduce_mean(tf.image.ssim(images, targets, max_val=1.0)))


def paired_scores(images, targets) -> dict:
    """``{"l1", "psnr", "ssim"}`` of translations against their targets (see each function)."""
    return {"l1": l1(images, targets), "psnr": psnr(images, targets), "ssim": ssim(images, targets)}

