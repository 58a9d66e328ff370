"""Real training steps on tiny models: weights move, losses stay finite,
update ratios hold, XLA compiles each family's step, mixed precision works;
what the noise-to-image base is called and how families declare their figures."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import adam
from families import mnist_sized

import tfgan_zoo
from tfgan_zoo.data import image_dataset
from tfgan_zoo.models.base import Metric


def tiny_data(conditional, n=64, batch=16, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28, 1), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.int32) if conditional else None
    return image_dataset(images, labels, batch_size=batch, seed=seed)


# Tests of a few steps run them eagerly: a trace costs more than eight steps of these
# models (the contract suite, tests/test_family_contract.py, trains each family compiled).

@pytest.mark.parametrize("conditional", [False, True])
@pytest.mark.parametrize("loss", ["bce", "lsgan", "hinge"])
def test_fit_updates_both_networks(conditional, loss):
    gan = mnist_sized(conditional)
    gan.compile(d_optimizer=adam(), g_optimizer=adam(), loss=loss, run_eagerly=True)
    g_before = [w.numpy().copy() for w in gan.generator.trainable_weights]
    d_before = [w.numpy().copy() for w in gan.discriminator.trainable_weights]
    history = gan.fit(tiny_data(conditional), epochs=1, verbose=0)
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert np.all(np.isfinite(history.history[key])), key
    assert any(not np.allclose(a, w.numpy()) for a, w in zip(g_before, gan.generator.trainable_weights))
    assert any(not np.allclose(a, w.numpy()) for a, w in zip(d_before, gan.discriminator.trainable_weights))
    if loss == "bce":
        assert all(0.0 <= v <= 1.0 for v in history.history["d_real"] + history.history["d_fake"])


def test_discriminator_learns_to_separate_real_from_fake():
    gan = mnist_sized()
    gan.compile(d_optimizer=keras.optimizers.Adam(2e-3), g_optimizer=keras.optimizers.Adam(1e-6))
    history = gan.fit(tiny_data(False, n=128), epochs=4, verbose=0).history
    assert history["d_loss"][-1] < history["d_loss"][0]
    assert history["d_real"][-1] - history["d_fake"][-1] > history["d_real"][0] - history["d_fake"][0]


@pytest.mark.parametrize("d_steps, g_steps", [(1, 2), (3, 1)])
def test_update_ratio(d_steps, g_steps):
    gan = mnist_sized(True)
    gan.compile(d_optimizer=adam(), g_optimizer=adam(), d_steps=d_steps, g_steps=g_steps, run_eagerly=True)
    gan.fit(tiny_data(True, n=48), epochs=1, verbose=0)  # 3 batches
    assert int(gan.d_optimizer.iterations) == 3 * d_steps
    assert int(gan.g_optimizer.iterations) == 3 * g_steps


def test_wgan_gp_needs_layer_norm_and_trains_with_it():
    with pytest.raises(ValueError, match="d_norm='layer'"):
        mnist_sized().compile(d_optimizer=adam(), g_optimizer=adam(), loss="wgan-gp")
    gan = mnist_sized(False, d_norm="layer")
    gan.compile(d_optimizer=adam(), g_optimizer=adam(), loss="wgan-gp", d_steps=2, run_eagerly=True)
    history = gan.fit(tiny_data(False), epochs=1, verbose=0).history
    assert np.isfinite(history["gp"][0]) and history["gp"][0] > 0


def test_mixed_float16_wraps_optimizers_and_keeps_outputs_float32():
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    gan = mnist_sized(True)
    gan.compile(d_optimizer=adam(), g_optimizer=adam(), run_eagerly=True)
    assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
    assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
    images = gan.generate(tf.random.normal([2, 16]), tf.constant([1, 2]))
    assert images.dtype == tf.float32
    assert gan.discriminator((images, tf.constant([1, 2]))).dtype == tf.float32
    history = gan.fit(tiny_data(True), epochs=1, verbose=0).history
    assert np.isfinite(history["d_loss"][0]) and np.isfinite(history["g_loss"][0])


def test_conditional_gan_rejects_unlabelled_batches():
    gan = mnist_sized(True)
    gan.compile(d_optimizer=adam(), g_optimizer=adam())
    with pytest.raises(ValueError, match=r"\(images, labels\)"):
        gan.fit(tiny_data(False), epochs=1, verbose=0)


def test_backup_torn_between_weights_and_metadata_resumes_after_the_saved_weights(tmp_path):
    # A kill after the new weights are renamed into place but before the
    # metadata is: the weights already hold epoch 3, the metadata says 2.
    gan = mnist_sized()
    gan.compile(d_optimizer=adam(), g_optimizer=adam(), run_eagerly=True)
    gan.fit(tiny_data(False, n=32), epochs=2, verbose=0,
            callbacks=[tfgan_zoo.callbacks.SafeBackupAndRestore(tmp_path)])
    metadata = (tmp_path / "training_metadata.json").read_text()
    gan.fit(tiny_data(False, n=32), epochs=1, verbose=0)
    gan.save_weights(tmp_path / "latest.weights.h5")
    (tmp_path / "training_metadata.json").write_text(metadata)

    resumed = mnist_sized()
    resumed.compile(d_optimizer=adam(), g_optimizer=adam())
    backup = tfgan_zoo.callbacks.SafeBackupAndRestore(tmp_path)
    backup.set_model(resumed)
    backup.on_train_begin()
    assert resumed._initial_epoch == 3
    assert int(resumed.g_optimizer.iterations) == 3 * 2


def test_the_noise_to_image_base_keeps_its_old_name():
    assert tfgan_zoo.GAN is tfgan_zoo.NoiseToImageGAN is tfgan_zoo.models.GAN
    assert isinstance(mnist_sized(True), tfgan_zoo.GAN)


def test_metric_declarations_are_checked():
    gan = mnist_sized()
    with pytest.raises(TypeError, match=r"Metric\(name, direction, role=None\)"):
        gan.build_training_state(("d_loss", "g_loss"))
    with pytest.raises(ValueError, match="direction must be one of"):
        gan.build_training_state((Metric("d_loss", "down"),))
    with pytest.raises(ValueError, match="role must be one of"):
        gan.build_training_state((Metric("d_loss", "minimized", role="d_real"),))
    with pytest.raises(ValueError, match=r"\['d_loss'\] are declared more than once"):
        gan.build_training_state((Metric("d_loss", "minimized"), Metric("d_loss", "neither")))


def test_training_budget_counts_steps_only_and_stops_after_the_last_budget(monkeypatch):
    from tfgan_zoo import callbacks

    now = [0.0]
    monkeypatch.setattr(callbacks.time, "perf_counter", lambda: now[0])
    reached = []

    def at_budget(budget, seconds):
        reached.append((budget, seconds))
        now[0] += 100.0  # scoring: must not count

    budget = callbacks.TrainingBudget([2.0, 3.0, 3.5], at_budget)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.stop_training = False  # as fit sets it
    budget.set_model(model)
    for step in range(5):
        now[0] += 7.0  # between steps (other callbacks, epoch ends): must not count
        budget.on_train_batch_begin(step)
        now[0] += 1.5
        budget.on_train_batch_end(step)
        if model.stop_training:
            break
    # Step 2 ends at 3.0 s, passing two budgets at once; step 3 passes the last and stops fit.
    assert reached == [(2.0, 3.0), (3.0, 3.0), (3.5, 4.5)] and step == 2 and budget.seconds == 4.5
    with pytest.raises(ValueError, match="increasing order"):
        callbacks.TrainingBudget([5.0, 2.0])


def test_training_budget_stops_fit_on_endless_data():
    from tfgan_zoo.callbacks import TrainingBudget

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    data = tf.data.Dataset.from_tensors((tf.ones((4, 1)), tf.ones((4, 1)))).repeat()
    budget = TrainingBudget([0.2])
    model.fit(data, epochs=1, callbacks=[budget], verbose=0, shuffle=False)
    assert budget.reached == 1 and budget.seconds >= 0.2
