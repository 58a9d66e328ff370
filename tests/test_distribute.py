"""MirroredStrategy on 2 logical CPU devices (set up in conftest.py)."""

import numpy as np
import tensorflow as tf

import tfgan_zoo


def make_gan():
    return tfgan_zoo.ConditionalGAN(latent_dim=16, num_classes=10, g_filters=8, d_filters=8)


def one_batch(batch=16):
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (batch, 28, 28, 1)).astype(np.float32)
    labels = rng.integers(0, 10, batch).astype(np.int32)
    return tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch)


def test_replicas_get_different_noise_that_tiles_the_global_batch(mirrored):
    with mirrored.scope():
        gan = make_gan()
    per_replica = mirrored.run(lambda: gan.training_noise(4, 2, tf.constant(7, tf.int64)))
    first, second = (t.numpy() for t in mirrored.experimental_local_results(per_replica))
    assert not np.allclose(first, second)
    single = make_gan()
    single.seed = gan.seed
    np.testing.assert_allclose(
        np.concatenate([first, second]), single.training_noise(8, 2, tf.constant(7, tf.int64)).numpy()
    )


