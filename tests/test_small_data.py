"""Small-data aids: DiffAugment, the EMA generator, spectral normalization."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import adam
from families import FAMILIES

import tfgan_zoo
from tfgan_zoo.augment import diff_augment, parse_policy
from tfgan_zoo.layers import SpectralConv2D, SpectralDense

SEED = tf.constant([7, 11], tf.int64)


def images(batch=6, size=16, seed=0):
    return tf.random.stateless_uniform([batch, size, size, 3], [seed, 1], minval=-1.0, maxval=1.0)


@pytest.mark.parametrize("policy", ["color", "translation", "cutout", "color,translation,cutout"])
def test_diffaugment_keeps_shape_and_range(policy):
    out = diff_augment(images(), SEED, policy)
    assert out.shape == (6, 16, 16, 3)
    assert float(tf.reduce_min(out)) >= -1.0 and float(tf.reduce_max(out)) <= 1.0
    assert not np.allclose(out, images())


def test_translation_and_cutout_zero_regions_of_real_and_fake_alike():
    """The same op family hits both batches: each gets zero-filled pixels, at its own places."""
    real, fake = images(seed=1) + 2.0, images(seed=2) + 2.0  # no zeros before augmenting
    for policy in ("translation", "cutout"):
        real_out = diff_augment(real, SEED, policy).numpy()
        fake_out = diff_augment(fake, SEED + 1, policy).numpy()
        for out in (real_out, fake_out):
            zeroed = np.all(out == 0, axis=-1)
            assert zeroed.any(axis=(1, 2)).mean() > 0.5, policy
        assert not np.array_equal(np.all(real_out == 0, -1), np.all(fake_out == 0, -1))


def test_cutout_square_has_the_given_size():
    out = diff_augment(tf.ones([32, 16, 16, 1]), SEED, "cutout", cutout_ratio=0.5).numpy()
    zeroed = (out[..., 0] == 0).sum(axis=(1, 2))
    assert zeroed.max() == 64 and zeroed.min() >= 16  # 8x8, clipped by the border at most to 4x4


def test_diffaugment_is_differentiable_and_compiles():
    x = images()
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(diff_augment(x, SEED))
    grad = tape.gradient(loss, x)
    assert grad is not None and float(tf.reduce_sum(tf.abs(grad))) > 0
    compiled = tf.function(lambda batch: diff_augment(batch, SEED), jit_compile=True)
    assert compiled(x).shape == x.shape


def test_unknown_policy_is_an_error():
    assert parse_policy("") == ()
    with pytest.raises(ValueError, match="zoom"):
        parse_policy("color,zoom")


def compiled_gan(run_eagerly=True, **options):
    """The registry's DCGAN at 16x16 colour, G learning fast (1e-2) so that EMA and G differ after a step.
    Eager by default: the EMA tests take one to four steps, which cost less than a trace; the XLA
    and replica tests below run the aids compiled."""
    gan = FAMILIES["dcgan"].build(image_shape=(16, 16, 3), g_filters=8, d_filters=8, **options)
    gan.compile(d_optimizer=adam(), g_optimizer=keras.optimizers.Adam(1e-2), run_eagerly=run_eagerly)
    return gan


def fit_steps(gan, steps=1, batch=8):
    data = tf.data.Dataset.from_tensor_slices(np.asarray(images(batch * steps))).batch(batch)
    gan.fit(data, epochs=1, verbose=0)


def test_ema_moves_towards_g_at_the_given_rate():
    gan = compiled_gan(ema_decay=0.5)
    before = [np.array(v) for v in gan.ema_generator.weights]
    assert all(np.array_equal(a, np.array(b)) for a, b in zip(before, gan.generator.weights))
    fit_steps(gan, steps=1)
    # After G's first update (t = 1) the decay is min(0.5, 2 / 11).
    decay = min(0.5, 2 / 11)
    for average, old, weight in zip(gan.ema_generator.weights, before, gan.generator.weights):
        if weight.trainable:
            np.testing.assert_allclose(np.array(average), decay * old + (1 - decay) * np.array(weight), atol=1e-6)
        else:  # batch-norm statistics: re-estimated by a forward pass of the averaged weights
            assert not np.allclose(np.array(average), old)
    moved = [np.abs(np.array(w) - o).max() for w, o in zip(gan.generator.weights, before)]
    assert max(moved) > 1e-3


def test_ema_decay_caps_the_warm_up():
    gan = compiled_gan(ema_decay=0.5)
    fit_steps(gan, steps=3)  # t = 3: (1 + 3) / (10 + 3) < 0.5, t large: 0.5
    gan.g_optimizer.iterations.assign(100)
    before = [np.array(v) for v in gan.ema_generator.weights]
    fit_steps(gan, steps=1)
    for average, old, weight in zip(gan.ema_generator.weights, before, gan.generator.weights):
        if weight.trainable:
            np.testing.assert_allclose(np.array(average), 0.5 * old + 0.5 * np.array(weight), atol=1e-6)


def test_samples_and_export_use_the_ema_generator(tmp_path):
    gan = compiled_gan(ema_decay=0.9)
    fit_steps(gan, steps=2)
    noise = np.random.default_rng(0).standard_normal((4, 8)).astype("float32")
    ema_images = np.asarray(gan.ema_generator(noise))
    np.testing.assert_allclose(np.asarray(gan.generate(noise)), ema_images, atol=1e-6)
    assert not np.allclose(np.asarray(gan.generate(noise, averaged=False)), ema_images, atol=1e-4)
    exported = tf.saved_model.load(str(tfgan_zoo.export.save_generator(gan, tmp_path / "g")))
    served = exported.signatures["generate"](noise=tf.constant(noise))["images"].numpy()
    expected = np.asarray(tfgan_zoo.data.to_uint8(ema_images))
    assert np.abs(served.astype(int) - expected.astype(int)).max() <= 1


def test_ema_weights_survive_a_checkpoint(tmp_path):
    gan = compiled_gan(ema_decay=0.9)
    fit_steps(gan, steps=2)
    gan.save_weights(tmp_path / "w.weights.h5")
    again = compiled_gan(ema_decay=0.9)
    again.load_weights(tmp_path / "w.weights.h5")
    for a, b in zip(gan.ema_generator.weights, again.ema_generator.weights):
        np.testing.assert_array_equal(np.array(a), np.array(b))


@pytest.mark.parametrize("layer,inputs", [
    (SpectralConv2D(6, 4, strides=2, kernel_initializer=keras.initializers.RandomNormal(stddev=1.0, seed=0), seed=1),
     np.ones((2, 8, 8, 3), "float32")),
    (SpectralDense(5, kernel_initializer=keras.initializers.RandomNormal(stddev=1.0, seed=0), seed=1),
     np.ones((2, 7), "float32")),
])
def test_spectral_norm_keeps_the_top_singular_value_near_one(layer, inputs):
    # Seeded kernels: the result must not depend on which tests ran before. Power
    # iteration converges as (s2/s1)^n; 40 calls suffice for random Gaussian kernels of
    # these shapes (15 left 1 in 20 draws, with s2/s1 = 0.93, outside 0.02).
    for _ in range(40):
        layer(inputs, training=True)
    raw = np.array(layer.kernel).reshape(-1, layer.kernel.shape[-1])
    normalized = np.array(layer.normalized_kernel()).reshape(raw.shape)
    assert np.linalg.svd(raw, compute_uv=False)[0] > 2.0
    assert np.linalg.svd(normalized, compute_uv=False)[0] == pytest.approx(1.0, abs=0.02)


@pytest.mark.gpu
def test_all_aids_train_under_xla():
    gan = tfgan_zoo.DCGAN(latent_dim=8, image_shape=(16, 16, 3), g_filters=8, d_filters=8, ema_decay=0.9,
                          d_spectral_norm=True, d_norm="none", diffaugment="color,translation,cutout")
    gan.compile(d_optimizer=adam(), g_optimizer=adam(), jit_compile=True)
    data = tf.data.Dataset.from_tensor_slices(np.asarray(images(16))).batch(8)
    history = gan.fit(data, epochs=2, verbose=0).history
    assert all(np.isfinite(history["d_loss"])) and all(np.isfinite(history["g_loss"]))
    config = gan.get_config()
    assert config["d_spectral_norm"] and config["diffaugment"] == "color,translation,cutout"
    assert config["ema_decay"] == 0.9
    rebuilt = tfgan_zoo.DCGAN.from_config(config)
    assert rebuilt.discriminator.spectral_norm and rebuilt.diffaugment == ("color", "translation", "cutout")


def test_diffaugment_and_ema_under_two_replicas(mirrored):
    with mirrored.scope():
        gan = compiled_gan(run_eagerly=False, ema_decay=0.9, diffaugment="translation,cutout")
    fit_steps(gan, steps=2)
    assert all(np.all(np.isfinite(np.array(v))) for v in gan.ema_generator.weights)
    assert not all(np.array_equal(np.array(a), np.array(b))
                   for a, b in zip(gan.ema_generator.weights, gan.generator.weights))
