"""Beyond the contract suite (test_family_contract.py): what Keras users meet
with each family. ``model(x)``/``predict`` use the EMA G, learning-rate callbacks
move both optimizers, loss metrics tell monitor callbacks their direction, and
the input contract's details (ids, one-hot or TFDS-dict labels; named errors)."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from families import FAMILIES, uint8_images

# The tests that train take one to four steps, which cost less than a trace: they run
# eagerly (the contract suite trains every family compiled, and under XLA).


def compiled(family, **compile_options):
    model = FAMILIES[family].build()
    model.compile(**compile_options)
    return model


def dataset(family, count=4, batch=2):
    return tf.data.Dataset.from_tensor_slices(FAMILIES[family].batch(count)).batch(batch)


def test_call_and_predict_use_the_ema_generator():
    gan = FAMILIES["dcgan"].build(ema_decay=0.9)
    gan.compile(g_optimizer="adam", d_optimizer="adam", run_eagerly=True)
    gan.fit(dataset("dcgan"), epochs=1, verbose=0)
    noise = np.random.default_rng(0).standard_normal((3, 8)).astype("float32")
    predicted = gan.predict(noise, verbose=0)
    np.testing.assert_allclose(predicted, gan.ema_generator(noise, training=False), atol=1e-6)
    assert not np.allclose(predicted, gan.generator(noise, training=False), atol=1e-4)


@pytest.mark.parametrize("family", ["cgan", "pix2pix"])
def test_learning_rate_callbacks_move_both_optimizers_keeping_their_ratio(family):
    model = FAMILIES[family].build()
    model.compile(g_optimizer=keras.optimizers.Adam(1e-4), d_optimizer=keras.optimizers.Adam(4e-4), run_eagerly=True)
    halve = keras.callbacks.LearningRateScheduler(lambda epoch, rate: rate * 0.5)
    model.fit(dataset(family), epochs=2, verbose=0, callbacks=[halve])
    assert float(model.g_optimizer.learning_rate) == pytest.approx(2.5e-5)
    assert float(model.d_optimizer.learning_rate) == pytest.approx(1e-4)


# ------------------------------------------------------------- input contract
def test_uint8_and_minus_one_to_one_floats_train_the_same():
    images = uint8_images(8, 16, 1)
    steps = []
    for batch in (images, images.astype("float32") / 127.5 - 1.0):
        keras.utils.set_random_seed(0)  # the same initial weights
        gan = compiled("dcgan", g_optimizer="adam", d_optimizer="adam", run_eagerly=True)
        steps.append(gan.fit(tf.data.Dataset.from_tensor_slices(batch).batch(4), epochs=1, verbose=0).history)
    assert steps[0]["d_loss"] == pytest.approx(steps[1]["d_loss"], rel=1e-4)


def test_labels_as_ids_one_hot_or_tfds_dicts():
    images, labels = FAMILIES["cgan"].batch(8)
    batches = {
        "ids": (images, labels),
        "int64 ids [N, 1]": (images, labels.astype("int64")[:, None]),
        "one-hot": (images, np.eye(3, dtype="float32")[labels]),
        "dict": {"image": images, "label": labels},
    }
    losses = {}
    for name, batch in batches.items():
        keras.utils.set_random_seed(0)  # the same initial weights
        gan = compiled("cgan", run_eagerly=True)
        losses[name] = gan.fit(tf.data.Dataset.from_tensor_slices(batch).batch(4), epochs=1, verbose=0).history
    for name in batches:
        assert losses[name]["d_loss"] == pytest.approx(losses["ids"]["d_loss"], rel=1e-4), name


def test_bad_labels_and_shapes_are_named():
    images, labels = FAMILIES["cgan"].batch(8)
    gan = compiled("cgan")
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"(?s)class ids in \[0, 2\]; found.*3.*to.*5"):
        gan.fit(tf.data.Dataset.from_tensor_slices((images, labels + 3)).batch(4), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"needs \(images, labels\) batches"):
        gan.fit(tf.data.Dataset.from_tensor_slices(images).batch(4), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"image_shape \(16, 16, 1\).*Found shape \[2, 32, 32, 1\]"):
        gan.fit(tf.data.Dataset.from_tensor_slices((uint8_images(4, 32, 1), labels[:4])).batch(2),
                epochs=1, verbose=0)
    with pytest.raises(TypeError, match="integer class ids"):
        gan.fit(tf.data.Dataset.from_tensor_slices((images, labels.astype("float32"))).batch(4),
                epochs=1, verbose=0)


def test_a_wrong_image_shape_is_named_before_the_first_step():
    gan = compiled("cgan")
    with pytest.raises(ValueError, match=r"image_shape \(16, 16, 1\).*Found shape \[2, 32, 32, 1\]"):
        gan.fit(tf.data.Dataset.from_tensor_slices((uint8_images(4, 32, 1), np.arange(4) % 3)).batch(2),
                epochs=1, verbose=0)


def test_an_xla_step_checks_the_first_batch_eagerly():
    """XLA drops the in-step assertions; fit checks the first batch before compiling
    (every form of input: test_keras_user.py)."""
    gan = compiled("dcgan", jit_compile=True)
    floats = uint8_images(4, 16, 1).astype("float32")
    with pytest.raises(tf.errors.InvalidArgumentError, match="found floats from"):
        gan.fit(tf.data.Dataset.from_tensor_slices(floats).batch(2), epochs=1, verbose=0)


@pytest.mark.parametrize("family,monitor", [("dcgan", "g_loss"), ("cgan", "val_d_loss"), ("pix2pix", "val_g_l1")])
def test_loss_metrics_tell_monitor_callbacks_to_minimize(family, monitor, tmp_path):
    model = compiled(family, run_eagerly=True)
    stopping = keras.callbacks.EarlyStopping(monitor=monitor, patience=5)  # mode="auto"
    checkpoint = keras.callbacks.ModelCheckpoint(str(tmp_path / "best.weights.h5"), monitor=monitor,
                                                 save_best_only=True, save_weights_only=True)
    model.fit(dataset(family), validation_data=dataset(family), epochs=1, verbose=0,
              callbacks=[stopping, checkpoint])
    assert stopping.monitor_op is keras.ops.less and checkpoint.monitor_op is keras.ops.less
    assert (tmp_path / "best.weights.h5").exists()
    with pytest.raises(ValueError, match="automatically determine"):  # D's score has no better direction
        model.fit(dataset(family), epochs=1, verbose=0, callbacks=[keras.callbacks.EarlyStopping(monitor="d_real")])


@pytest.mark.parametrize("family", FAMILIES)
def test_keras_monitors_follow_each_declared_direction(family):
    """EarlyStopping(mode="auto") on any declared figure minimizes a minimized one
    and maximizes a maximized one (ACGAN's D class accuracy), whatever its name."""
    model = FAMILIES[family].build()
    model.compile()
    for metric in model.logged_metrics():
        if metric.direction == "neither":
            continue
        stopper = keras.callbacks.EarlyStopping(monitor=metric.name)
        stopper.set_model(model)
        stopper._set_monitor_op()
        expected = keras.ops.less if metric.direction == "minimized" else keras.ops.greater
        assert stopper.monitor_op is expected, metric.name
