"""ACGAN (Odena et al. 2017): the losses of both networks with their class
terms, D's class head learning labels, G learning to make the class it was
asked for, and the input contract for labels."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from families import FAMILIES

import tfgan_zoo
from tfgan_zoo.models.base import training_noise

CLASSES = 3


def tiny(**options):
    return FAMILIES["acgan"].build(**options)


def brightness_classes(count=48, seed=0):
    """Images whose class is their brightness (dark, grey, bright), with a little noise: separable."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % CLASSES
    images = labels[:, None, None, None] * 110 + rng.integers(0, 30, (count, 16, 16, 1))
    return images.astype(np.uint8), labels


def dataset(images, labels, batch=8):
    return tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch)


def cross_entropy(class_logits, labels):
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels, class_logits).numpy()


@pytest.mark.parametrize("aux_weight", [0.0, 2.5])
def test_both_losses_add_the_weighted_class_cross_entropy(aux_weight):
    model = tiny(aux_weight=aux_weight)
    model.compile(run_eagerly=True)  # one batch: tracing it would cost more
    images, labels = brightness_classes(8)
    scores = model.evaluate(dataset(images, labels), verbose=0, return_dict=True)
    # The fakes test_step scores: the trained G's, from the evaluation noise stream (salt 7).
    noise = training_noise(8, model.latent_dim, model.seed, 7, model.g_optimizer.iterations)
    fake_logits, fake_classes = model.discriminator(model.generator((noise, labels)), training=False)
    real_logits, real_classes = model.discriminator(tf.cast(images, tf.float32) / 127.5 - 1.0, training=False)
    g_gan = np.mean(tf.nn.softplus(-fake_logits))
    g_aux = np.mean(cross_entropy(fake_classes, labels))
    d_aux = np.mean(cross_entropy(real_classes, labels) + cross_entropy(fake_classes, labels))
    d_gan = np.mean(tf.nn.softplus(-real_logits) + tf.nn.softplus(fake_logits))
    assert scores["g_gan"] == pytest.approx(g_gan, rel=1e-4)
    assert scores["g_aux"] == pytest.approx(g_aux, rel=1e-4)
    assert scores["g_loss"] == pytest.approx(g_gan + aux_weight * g_aux, rel=1e-4)
    assert scores["d_aux"] == pytest.approx(d_aux, rel=1e-4)
    assert scores["d_loss"] == pytest.approx(d_gan + aux_weight * d_aux, rel=1e-4)


def test_discriminators_class_head_learns_the_labels():
    keras.utils.set_random_seed(0)
    model = tiny()
    model.compile(d_optimizer=keras.optimizers.Adam(2e-3), g_optimizer=keras.optimizers.Adam(1e-6))
    held_out = dataset(*brightness_classes(seed=1))
    before = model.evaluate(held_out, verbose=0, return_dict=True)
    history = model.fit(dataset(*brightness_classes()), epochs=4, verbose=0).history
    # d_aux also holds the cross-entropy on G's (unchanging, classless) fakes: ln 3 at best.
    assert history["d_aux"][-1] < history["d_aux"][0] - 0.5
    assert before["d_class_accuracy"] < 0.7
    assert model.evaluate(held_out, verbose=0, return_dict=True)["d_class_accuracy"] > 0.9


def test_generator_learns_to_make_the_class_it_is_asked_for():
    # D frozen: G alone lowers the class cross-entropy D's (random) class head gives its fakes.
    keras.utils.set_random_seed(0)
    model = tiny(aux_weight=10.0)
    model.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(dataset(*brightness_classes()), epochs=4, verbose=0).history
    assert history["g_aux"][-1] < history["g_aux"][0] - 0.3


def test_class_accuracy_is_maximized_by_monitor_callbacks():
    model = tiny()
    model.compile(run_eagerly=True)  # one step and one validation batch: tracing them would cost more
    stopping = keras.callbacks.EarlyStopping(monitor="val_d_class_accuracy", patience=5)  # mode="auto"
    data = dataset(*brightness_classes(8))
    model.fit(data, validation_data=data, epochs=1, verbose=0, callbacks=[stopping])
    assert stopping.monitor_op is keras.ops.greater


def test_labels_are_required_and_checked():
    model = tiny()
    model.compile(run_eagerly=True)
    images, labels = brightness_classes(8)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"class ids in \[0, 2\]; found"):
        model.fit(dataset(images, labels + CLASSES), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"ACGAN needs \(images, labels\) batches"):
        model.fit(tf.data.Dataset.from_tensor_slices(images).batch(4), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="num_classes must be >= 2"):
        tfgan_zoo.ACGAN(num_classes=1)


def test_gradient_penalty_diffaugment_and_ema_components():
    model = tiny(d_norm="layer", diffaugment="translation,cutout", ema_decay=0.9)
    with pytest.raises(ValueError, match="d_norm='layer'"):
        tiny().compile(loss="wgan-gp")
    model.compile(loss="wgan-gp", gp_weight=5.0)
    history = model.fit(dataset(*brightness_classes(16)), epochs=1, verbose=0).history
    assert np.isfinite(history["gp"][0]) and history["gp"][0] > 0
    noise, labels = model.sample_inputs(4, seed=1)
    np.testing.assert_allclose(model.generate(noise, labels), model.ema_generator((noise, labels)), atol=1e-6)
    assert not np.allclose(model.generate(noise, labels), model.generate(noise, labels, averaged=False), atol=1e-5)
    config = tfgan_zoo.ACGAN.from_config(model.get_config()).get_config()
    assert config["diffaugment"] == "translation,cutout" and config["ema_decay"] == 0.9
    assert model.get_compile_config()["gp_weight"] == 5.0
