"""Generator/discriminator shapes, value ranges, init and conditioning."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfgan_zoo
from tfgan_zoo.layers import ConcatLabelMaps
from tfgan_zoo.networks import upsampling_plan


@pytest.mark.parametrize(
    "image_shape, plan", [((28, 28, 1), (7, 7, 2)), ((64, 64, 3), (4, 4, 4)), ((32, 32, 3), (4, 4, 3))]
)
def test_dcgan_shapes_and_ranges(image_shape, plan):
    assert upsampling_plan(image_shape) == plan
    gan = tfgan_zoo.DCGAN(latent_dim=16, image_shape=image_shape, g_filters=8, d_filters=8)
    images = gan.generate(tf.random.normal([5, 16]) * 3.0).numpy()
    assert images.shape == (5, *image_shape)
    assert images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    logits = gan.discriminator(images)
    assert logits.shape == (5, 1) and logits.dtype == tf.float32


def test_cgan_shapes_and_label_effect():
    gan = tfgan_zoo.ConditionalGAN(latent_dim=16, num_classes=10, image_shape=(28, 28, 1), g_filters=8, d_filters=8)
    noise = tf.random.normal([10, 16])
    images = gan.generate(noise, tf.range(10)).numpy()
    assert images.shape == (10, 28, 28, 1)
    same_noise = tf.repeat(noise[:1], 2, axis=0)
    pair = gan.generate(same_noise, tf.constant([0, 1])).numpy()
    assert not np.allclose(pair[0], pair[1]), "the label must change G's output"
    assert gan.discriminator((images, tf.range(10))).shape == (10, 1)


def test_weights_start_from_dcgan_init():
    gan = tfgan_zoo.DCGAN(latent_dim=32, image_shape=(28, 28, 1))
    kernels = [w.numpy() for w in gan.generator.trainable_weights if "kernel" in w.path]
    stds = [k.std() for k in kernels]
    assert all(0.015 < s < 0.025 for s in stds), stds


def test_label_maps_are_constant_one_hot_channels():
    images = tf.zeros([2, 4, 4, 1])
    out = ConcatLabelMaps(3)(images, tf.constant([2, 0])).numpy()
    assert out.shape == (2, 4, 4, 4)
    np.testing.assert_array_equal(out[0, :, :, 1:], np.broadcast_to([0, 0, 1], (4, 4, 3)))
    np.testing.assert_array_equal(out[1, :, :, 1:], np.broadcast_to([1, 0, 0], (4, 4, 3)))


def test_bad_shapes_are_explained():
    with pytest.raises(ValueError, match="channels"):
        tfgan_zoo.DCGAN(image_shape=(28, 28))
    with pytest.raises(ValueError, match="even sides of at least 8"):
        tfgan_zoo.DCGAN(image_shape=(27, 27, 1))
    with pytest.raises(ValueError, match="num_classes"):
        tfgan_zoo.ConditionalGAN(num_classes=1)


def test_keras_file_round_trip(tmp_path):
    gan = tfgan_zoo.ConditionalGAN(latent_dim=8, num_classes=3, image_shape=(28, 28, 1), g_filters=4, d_filters=4)
    path = tmp_path / "cgan.keras"
    gan.save(path)
    restored = keras.saving.load_model(path)
    noise, labels = tf.random.normal([3, 8]), tf.constant([0, 1, 2])
    np.testing.assert_allclose(restored.generate(noise, labels), gan.generate(noise, labels), atol=1e-6)
    assert restored.get_config()["num_classes"] == 3
