"""MirroredStrategy on 2 logical CPU devices (set up in conftest.py)."""

import keras
import numpy as np
import pytest
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


def test_two_replica_step_matches_one_device_step(mirrored):
    # Plain SGD makes the update proportional to the gradient: a wrong
    # per-replica loss scaling (e.g. a plain mean) would double it.
    reference = make_gan()
    reference.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1))
    with mirrored.scope():
        replicated = make_gan()
        replicated.set_weights(reference.get_weights())
        replicated.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1))
    start = [w.copy() for w in reference.get_weights()]
    history_ref = reference.fit(one_batch(), epochs=1, verbose=0).history
    history_rep = replicated.fit(one_batch(), epochs=1, verbose=0).history
    moved = 0
    for before, after_ref, after_rep in zip(start, reference.get_weights(), replicated.get_weights()):
        np.testing.assert_allclose(after_rep - before, after_ref - before, rtol=2e-3, atol=2e-6)
        moved += not np.allclose(after_ref, before)
    assert moved > 4
    # Metrics are reduced over both replicas, not taken from replica 0.
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert history_rep[key][0] == pytest.approx(history_ref[key][0], rel=1e-3)
