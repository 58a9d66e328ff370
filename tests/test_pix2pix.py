"""pix2pix: U-Net and PatchGAN shapes, the PatchGAN's receptive field measured
by gradients, the loss terms, real training steps, XLA, mixed precision,
serialization and the translation-evaluation callback."""

import csv

import keras
import numpy as np
import pytest
import tensorflow as tf
from families import FAMILIES, without_dropout

import tfgan_zoo
from tfgan_zoo.augment import paired_random_jitter
from tfgan_zoo.callbacks import EvaluateTranslation
from tfgan_zoo.networks import (
    PatchDiscriminator,
    UNetGenerator,
    patch_output_size,
    patch_receptive_field,
)


def smooth_images(n, size=32, seed=0):
    """uint8 images of low-frequency colour blobs: learnable at tiny widths."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, (n, 4, 4, 3)).astype(np.float32)
    return tf.cast(tf.image.resize(coarse, [size, size], method="bilinear"), tf.uint8).numpy()


def paired(n=8, size=32, seed=0):
    """``(inputs, targets)`` where the target is the input's colour negative, channels reversed."""
    inputs = smooth_images(n, size, seed)
    return inputs, (255 - inputs)[..., ::-1].copy()


def dataset(inputs, targets, batch=4):
    return tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(batch)


def tiny_pix2pix(**options):
    """The registry's pix2pix at 32 px with 8 filters (two D layers), the options of a test on top."""
    return FAMILIES["pix2pix"].build(**{"image_size": 32, "g_filters": 8, "d_filters": 8, "d_layers": 2, **options})


# ------------------------------------------------------------------ networks
@pytest.mark.parametrize("size, depth, expected_depth", [(256, None, 8), (128, None, 7), (64, None, 6), (96, 5, 5)])
def test_unet_shapes_and_skip_connections(size, depth, expected_depth):
    generator = UNetGenerator(size, input_channels=1, output_channels=3, filters=4, depth=depth)
    images = generator(tf.zeros([1, size, size, 1]))
    assert images.shape == (1, size, size, 3)
    assert generator.depth == expected_depth
    joins = [layer for layer in generator._flatten_layers() if isinstance(layer, keras.layers.Concatenate)]
    assert len(joins) == expected_depth - 1


def test_unet_dropout_is_active_in_training_only():
    images = tf.random.uniform([2, 32, 32, 3], -1, 1, seed=1)
    generator = UNetGenerator(32, filters=4)
    assert np.array_equal(generator(images), generator(images))
    assert not np.allclose(generator(images, training=True), generator(images, training=True))
    # Without dropout blocks, training mode is deterministic too: the noise is the dropout.
    no_dropout = UNetGenerator(32, filters=4, dropout_blocks=0)
    assert np.array_equal(no_dropout(images, training=True), no_dropout(images, training=True))


def test_unet_rejects_sizes_it_cannot_halve():
    with pytest.raises(ValueError, match=r"not divisible by 2\*\*depth = 2\*\*5.*depth from 1 to 2"):
        UNetGenerator(100, depth=5)
    with pytest.raises(ValueError, match="image_size 33 is odd"):
        UNetGenerator(33)
    with pytest.raises(ValueError, match="norm must be"):
        UNetGenerator(32, norm="layer")


def test_instance_norm_normalizes_each_image_and_channel():
    layer = tfgan_zoo.layers.normalization("instance")
    images = np.random.default_rng(0).normal(3.0, 5.0, (2, 6, 6, 4)).astype(np.float32)
    out = np.asarray(layer(images))
    np.testing.assert_allclose(out.mean(axis=(1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(1, 2)), 1.0, atol=1e-3)
    assert {w.name for w in layer.trainable_weights} == {"gamma", "beta"}


@pytest.mark.parametrize("num_layers, size, patches", [(3, 256, 30), (2, 32, 6), (3, 32, 2)])
def test_patch_discriminator_output_shape(num_layers, size, patches):
    discriminator = PatchDiscriminator(size, input_channels=1, output_channels=3, filters=4, num_layers=num_layers)
    logits = discriminator((tf.zeros([2, size, size, 1]), tf.zeros([2, size, size, 3])))
    assert logits.shape == (2, patches, patches, 1) and logits.dtype == tf.float32
    assert patch_output_size(size, num_layers) == patches


@pytest.mark.parametrize("num_layers, field", [(2, 34), (3, 70), (4, 142)])
def test_patch_receptive_field_measured_by_gradients(num_layers, field):
    assert patch_receptive_field(num_layers) == field
    size = 256  # centre patches stay clear of the zero padding at the borders
    discriminator = PatchDiscriminator(size, filters=2, num_layers=num_layers)
    conditions = tf.random.uniform([1, size, size, 3], -1, 1, seed=2)
    targets = tf.random.uniform([1, size, size, 3], -1, 1, seed=3)
    with tf.GradientTape() as tape:
        tape.watch(conditions)
        logits = discriminator((conditions, targets))
        centre = logits.shape[1] // 2
        logit = logits[0, centre, centre, 0]
    grads = np.abs(tape.gradient(logit, conditions).numpy()[0]).sum(axis=-1)
    for axis in (0, 1):
        touched = np.flatnonzero(grads.sum(axis=1 - axis))
        assert len(touched) == field and touched[-1] - touched[0] + 1 == field
        assert 0 < touched[0] and touched[-1] < size - 1


# -------------------------------------------------------------------- losses
@pytest.mark.parametrize("l1_weight, as_uint8, halve_d_loss", [
    (0.0, True, True), (100.0, True, True), (0.0, False, True), (100.0, False, True), (100.0, False, False),
])
def test_loss_terms(l1_weight, as_uint8, halve_d_loss):
    model = tiny_pix2pix(l1_weight=l1_weight, jitter=False, halve_d_loss=halve_d_loss)
    model.compile(g_optimizer=keras.optimizers.SGD(0.0), d_optimizer=keras.optimizers.SGD(0.0))
    # A zero output layer fixes G's output at tanh(0) = 0, whatever the dropout draws.
    for weight in model.generator.to_image.weights:
        weight.assign(tf.zeros_like(weight))
    inputs, targets = paired(4)
    scaled_inputs = inputs.astype(np.float32) / 127.5 - 1
    scaled_targets = targets.astype(np.float32) / 127.5 - 1
    batch = (inputs, targets) if as_uint8 else (scaled_inputs, scaled_targets)
    logs = {k: float(v) for k, v in model.train_step(batch).items()}

    zeros = tf.zeros_like(scaled_targets)
    fake_logits = model.discriminator((scaled_inputs, zeros), training=True)
    real_logits = model.discriminator((scaled_inputs, scaled_targets), training=True)
    assert logs["g_l1"] == pytest.approx(np.abs(scaled_targets).mean(), rel=1e-5)
    assert logs["g_gan"] == pytest.approx(float(tf.reduce_mean(tf.nn.softplus(-fake_logits))), rel=1e-5)
    assert logs["g_loss"] - logs["g_gan"] == pytest.approx(l1_weight * logs["g_l1"], rel=1e-5, abs=1e-6)
    # D's objective is halved, as in the paper, unless halve_d_loss=False (the TF tutorial's).
    d_loss = (0.5 if halve_d_loss else 1.0) * (
        tf.reduce_mean(tf.nn.softplus(-real_logits)) + tf.reduce_mean(tf.nn.softplus(fake_logits))
    )
    assert logs["d_loss"] == pytest.approx(float(d_loss), rel=1e-5)


def test_compile_checks():
    model = tiny_pix2pix()
    with pytest.raises(ValueError, match="gradient penalty"):
        model.compile(loss="wgan-gp")
    with pytest.raises(ValueError, match="d_every"):
        model.compile(d_every=0)
    model.compile()  # the paper's Adam(2e-4, beta_1=0.5) for both
    assert float(model.g_optimizer.learning_rate) == pytest.approx(2e-4) and model.d_optimizer.beta_1 == 0.5
    with pytest.raises(ValueError, match=r"\(inputs, targets\)"):
        model.fit(tf.data.Dataset.from_tensor_slices(paired(4)[0]).batch(2), verbose=0)


# ------------------------------------------------------------------ training
def test_training_learns_a_colour_mapping():
    inputs, targets = paired(16)
    model = tiny_pix2pix(seed=1)
    model.compile(g_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5))
    before = model.evaluate(*paired(8, seed=1), batch_size=8, verbose=0, return_dict=True)["g_l1"]
    history = model.fit(dataset(inputs, targets).repeat(), steps_per_epoch=32, epochs=1, verbose=0).history
    after = model.evaluate(*paired(8, seed=1), batch_size=8, verbose=0, return_dict=True)["g_l1"]
    assert all(np.isfinite(history[key][0]) for key in ("d_loss", "g_loss", "g_gan", "d_real", "d_fake"))
    assert after < 0.5 * before


def test_d_every_2_leaves_d_unchanged_on_odd_steps():
    model = tiny_pix2pix()
    model.compile(d_every=2)
    snapshots = []

    def snapshot(batch=None, logs=None):
        snapshots.append([w.numpy().copy() for w in model.discriminator.trainable_weights])

    snapshot()
    recorder = keras.callbacks.LambdaCallback(on_train_batch_end=snapshot)
    model.fit(dataset(*paired(16)), epochs=1, verbose=0, callbacks=[recorder])
    moved = [
        any(not np.array_equal(a, b) for a, b in zip(earlier, later))
        for earlier, later in zip(snapshots, snapshots[1:])
    ]
    assert moved == [True, False, True, False]
    assert int(model.d_optimizer.iterations) == 2 and int(model.g_optimizer.iterations) == 4


def test_d_every_is_refused_under_a_strategy(mirrored):
    # The contract suite (test_family_contract.py) checks that two replicas take the one-device step.
    with mirrored.scope():
        skipping = tiny_pix2pix(jitter=False)
        skipping.compile(d_every=2)
    with pytest.raises(ValueError, match="d_every > 1 is not supported under a tf.distribute"):
        skipping.fit(dataset(*paired(8), batch=8), epochs=1, verbose=0)


@pytest.mark.gpu
def test_train_step_compiles_under_xla():
    model = tiny_pix2pix(g_depth=3, d_layers=1, g_filters=4, d_filters=4)
    model.compile(d_every=2, jit_compile=True)
    assert model.jit_compile is True
    batch = next(iter(dataset(*paired(4))))
    # Lowering to HLO fails if any op of the step (jitter, cond) has no XLA kernel.
    hlo = tf.function(model.train_step, jit_compile=True).experimental_get_compiler_ir(batch)(stage="hlo")
    assert "HloModule" in hlo


def test_mixed_bfloat16_keeps_images_and_logits_float32():
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    model = tiny_pix2pix()
    model.compile()
    assert model.generator.down[1].layers[0].compute_dtype == "bfloat16"
    images = model(tf.zeros([1, 32, 32, 3]))
    assert images.dtype == tf.float32
    assert model.discriminator((images, images)).dtype == tf.float32


# ------------------------------------------------------- serialization, API
def test_config_and_saved_model_round_trip(tmp_path):
    model = tiny_pix2pix(norm="instance", l1_weight=50.0, g_depth=3, load_size=40, seed=7)
    model.compile(loss="lsgan", d_every=3)
    clone = tfgan_zoo.Pix2Pix.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert clone.generator.depth == 3
    inputs, _ = paired(2)
    model.save(tmp_path / "pix2pix.keras")
    restored = keras.saving.load_model(tmp_path / "pix2pix.keras")
    np.testing.assert_array_equal(restored.translate(inputs), model.translate(inputs))
    assert restored.gan_loss.name == "lsgan" and restored.d_every == 3


def test_translate_accepts_uint8_and_float():
    model = tiny_pix2pix()
    inputs, _ = paired(5)
    translated = model.translate(inputs, batch_size=2)
    assert translated.dtype == np.uint8 and translated.shape == (5, 32, 32, 3)
    np.testing.assert_array_equal(model.translate(inputs.astype(np.float32) / 127.5 - 1), translated)
    with pytest.raises(ValueError, match=r"\[N, 32, 32, 3\]"):
        model.translate(inputs[:, :16])
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        model.translate(inputs.astype(np.float32))


def test_evaluate_translation_logs_before_csv_logger(tmp_path):
    model = tiny_pix2pix()
    model.compile(run_eagerly=True)  # three steps: tracing them would cost more
    inputs, targets = paired(4)
    log = tmp_path / "training.csv"
    callbacks = [EvaluateTranslation(inputs, targets, every=2), keras.callbacks.CSVLogger(str(log))]
    history = model.fit(dataset(inputs, targets), epochs=3, verbose=0, callbacks=callbacks).history
    # Evaluated at epoch 2 (every 2) and 3 (the last); NaN at epoch 1.
    assert np.isnan(history["val_l1"][0]) and np.isnan(history["val_ssim"][0])
    assert 0 < history["val_l1"][1] < 2 and 0 < history["val_psnr"][2] and -1 <= history["val_ssim"][2] <= 1
    expected = tfgan_zoo.metrics.l1(model.translate(inputs), targets)
    assert history["val_l1"][2] == pytest.approx(expected)
    with log.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3 and {"val_l1", "val_psnr", "val_ssim"} <= set(rows[0])


def test_simultaneous_updates_take_both_gradients_from_one_forward_pass():
    """With D's learning rate 0, simultaneous and D-first steps must give G the same
    update (D does not change); with it, they differ (G sees the updated D)."""
    inputs, targets = paired(4)
    results = {}
    for simultaneous, d_rate in ((True, 0.0), (False, 0.0), (True, 0.5), (False, 0.5)):
        keras.utils.set_random_seed(3)  # same init and dropout draws
        model = tiny_pix2pix(jitter=False)
        model.compile(g_optimizer=keras.optimizers.SGD(0.1), d_optimizer=keras.optimizers.SGD(d_rate),
                      simultaneous=simultaneous, run_eagerly=True)  # one step: tracing it would cost more
        model.fit(dataset(inputs, targets), epochs=1, verbose=0)
        results[simultaneous, d_rate] = [np.array(w) for w in model.generator.weights]
    for a, b in zip(results[True, 0.0], results[False, 0.0]):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert any(not np.allclose(a, b, atol=1e-5) for a, b in zip(results[True, 0.5], results[False, 0.5]))
    with pytest.raises(ValueError, match="d_every"):
        tiny_pix2pix().compile(simultaneous=True, d_every=2)


def _hand_written_step(generator, discriminator, inputs, targets, simultaneous, rate, l1_weight=100.0):
    """One pix2pix step written out from the paper with plain SGD: D first, then G
    against the updated D (the paper's code), or both gradients from one forward
    pass (the TF tutorial's). Returns G's loss."""
    x, y = (tf.cast(images, tf.float32) / 127.5 - 1.0 for images in (inputs, targets))

    def d_loss(real_logits, fake_logits):  # halved, as in the paper
        return 0.5 * (tf.reduce_mean(tf.nn.softplus(-real_logits)) + tf.reduce_mean(tf.nn.softplus(fake_logits)))

    def descend(tape, loss, network):
        grads = tape.gradient(loss, network.trainable_variables)
        for variable, grad in zip(network.trainable_variables, grads):
            variable.assign_sub(rate * grad)

    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        fake = generator(x, training=True)
        if simultaneous:
            real_logits = discriminator((x, y), training=True)
            fake_logits = discriminator((x, fake), training=True)
            d_value = d_loss(real_logits, fake_logits)
        else:
            with g_tape.stop_recording():
                d_value = d_loss(discriminator((x, y), training=True), discriminator((x, fake), training=True))
            descend(d_tape, d_value, discriminator)
            fake_logits = discriminator((x, fake), training=True)
        g_value = tf.reduce_mean(tf.nn.softplus(-fake_logits)) + l1_weight * tf.reduce_mean(tf.abs(y - fake))
    if simultaneous:
        descend(d_tape, d_value, discriminator)
    descend(g_tape, g_value, generator)
    return float(g_value)


@pytest.mark.parametrize("simultaneous", [False, True])
def test_train_step_matches_a_hand_written_step(simultaneous):
    """fit's step gives G and D exactly the updates of the step written out by hand
    (and so of the TF tutorial's loop, with ``simultaneous``), from the same weights."""
    model = tiny_pix2pix(jitter=False)
    copies = []
    for network in (model.generator, model.discriminator):
        copy = type(network).from_config(network.get_config())
        copy.build_for_inputs()
        copy.set_weights(network.get_weights())
        copies.append(copy)
    for network in (model.generator, copies[0]):  # the two would draw other dropout masks
        without_dropout(network)
    # Plain SGD keeps the update proportional to the gradient (Adam would hide a scale error).
    # One step: tracing it would cost more (the contract suite trains pix2pix compiled).
    model.compile(g_optimizer=keras.optimizers.SGD(0.1), d_optimizer=keras.optimizers.SGD(0.1),
                  simultaneous=simultaneous, run_eagerly=True)
    inputs, targets = paired(4)
    start = [w.copy() for w in model.generator.get_weights() + model.discriminator.get_weights()]
    history = model.fit(dataset(inputs, targets), epochs=1, verbose=0).history
    g_value = _hand_written_step(*copies, inputs, targets, simultaneous, rate=0.1)

    assert history["g_loss"][0] == pytest.approx(g_value, rel=1e-5)
    fitted = model.generator.get_weights() + model.discriminator.get_weights()
    by_hand = copies[0].get_weights() + copies[1].get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(start, fitted))
    for before, ours, theirs in zip(start, fitted, by_hand):
        np.testing.assert_allclose(ours - before, theirs - before, rtol=1e-3, atol=1e-6)


def test_nearest_jitter_keeps_label_colours_exact():
    labels = np.zeros((2, 32, 32, 3), np.uint8)
    labels[:, :, 16:] = (255, 0, 0)
    inputs, targets = paired_random_jitter(
        tf.constant(labels, tf.float32), tf.constant(labels, tf.float32), tf.constant([1, 2]), method="nearest"
    )
    assert set(np.unique(inputs.numpy())) <= {0.0, 255.0}
    blurred, _ = paired_random_jitter(
        tf.constant(labels, tf.float32), tf.constant(labels, tf.float32), tf.constant([1, 2])
    )
    assert len(np.unique(blurred.numpy())) > 2
    assert tiny_pix2pix(jitter_resize="nearest").get_config()["jitter_resize"] == "nearest"
    with pytest.raises(ValueError, match="jitter_resize"):
        tiny_pix2pix(jitter_resize="area")


# ------------------------------------------------ the TF tutorial's choices
TUTORIAL_CHOICES = {
    "leaky_slope": 0.3, "bn_epsilon": 1e-3, "bn_momentum": 0.99, "synchronized_bn": False,
    "encoder_bias": False, "innermost_norm": True, "halve_d_loss": False,
}


def layers_of(network, kind):
    return [layer for layer in network._flatten_layers() if isinstance(layer, kind)]


def encoder_blocks(model):
    """The Ck blocks of G's encoder and of D, innermost U-Net block last among G's."""
    return list(model.generator.down) + [
        layer for layer in model.discriminator.body.layers if layer.name.startswith("block_")
    ]


def test_defaults_are_the_papers_code():
    model = tiny_pix2pix()
    config = model.get_config()
    assert {key: config[key] for key in TUTORIAL_CHOICES} == {
        "leaky_slope": 0.2, "bn_epsilon": 1e-5, "bn_momentum": 0.9, "synchronized_bn": True,
        "encoder_bias": True, "innermost_norm": False, "halve_d_loss": True,
    }
    # The weight lists of before the options existed: biases where no norm follows, none on the bottleneck.
    assert (len(model.generator.weights), len(model.discriminator.weights)) == (41, 14)
    for network in (model.generator, model.discriminator):
        assert all(layer.negative_slope == 0.2 for layer in layers_of(network, keras.layers.LeakyReLU))
        for layer in layers_of(network, keras.layers.BatchNormalization):
            assert (layer.epsilon, layer.momentum, layer.synchronized) == (1e-5, 0.9, True)


def test_tutorial_choices_round_trip_through_config_and_saving(tmp_path):
    model = tiny_pix2pix(**TUTORIAL_CHOICES)
    clone = tfgan_zoo.Pix2Pix.from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    for network in (model.generator, model.discriminator):
        network_config = network.get_config()
        assert all(network_config[key] == value for key, value in TUTORIAL_CHOICES.items() if key in network_config)
    inputs, _ = paired(2)
    model.save(tmp_path / "pix2pix.keras")
    restored = keras.saving.load_model(tmp_path / "pix2pix.keras")
    assert restored.get_config() == model.get_config()
    np.testing.assert_array_equal(restored.translate(inputs), model.translate(inputs))


def test_leaky_slope_sets_every_encoder_block():
    model = tiny_pix2pix(leaky_slope=0.3)
    slopes = [layer.negative_slope for block in encoder_blocks(model) for layer in layers_of(block, keras.layers.LeakyReLU)]
    assert len(slopes) == len(encoder_blocks(model)) and set(slopes) == {0.3}


@pytest.mark.parametrize("synchronized_bn", [True, False])
def test_batch_norm_settings_reach_every_batch_norm(synchronized_bn):
    model = tiny_pix2pix(bn_epsilon=1e-3, bn_momentum=0.99, synchronized_bn=synchronized_bn)
    norms = layers_of(model.generator, keras.layers.BatchNormalization) + layers_of(
        model.discriminator, keras.layers.BatchNormalization
    )
    assert len(norms) == 3 + 4 + 2  # G's inner encoder and decoder blocks, D's blocks after the first
    for layer in norms:
        assert (layer.epsilon, layer.momentum, layer.synchronized) == (1e-3, 0.99, synchronized_bn)


def test_innermost_norm_normalizes_the_bottleneck():
    innermost = {flag: tiny_pix2pix(innermost_norm=flag).generator.down[-1] for flag in (False, True)}
    assert not layers_of(innermost[False], keras.layers.BatchNormalization)
    assert len(layers_of(innermost[True], keras.layers.BatchNormalization)) == 1
    # Normalized over a 1x1 map at batch 1, the bottleneck is a constant in training.
    images = tf.random.uniform([2, 32, 32, 3], -1, 1, seed=2)
    bottleneck = keras.Sequential(tiny_pix2pix(innermost_norm=True).generator.down)
    codes = [bottleneck(images[i : i + 1], training=True) for i in range(2)]
    np.testing.assert_allclose(codes[0], codes[1], atol=1e-6)


def test_encoder_bias_false_drops_the_unnormalized_blocks_biases():
    def biased(model):
        return [block.name for block in encoder_blocks(model) if layers_of(block, keras.layers.Conv2D)[0].use_bias]

    assert biased(tiny_pix2pix()) == ["down_0", "down_4", "block_0"]
    assert biased(tiny_pix2pix(encoder_bias=False)) == []
    model = tiny_pix2pix(**TUTORIAL_CHOICES)
    assert model.discriminator.body.get_layer("logits").use_bias  # the logits keep theirs, as the tutorial's
    assert (len(model.generator.weights), len(model.discriminator.weights)) == (43, 13)
