"""The contract every family passes (tfgan_zoo/models/base/): registered in
tests/families.py, each declares what it logs, trains under XLA and mixed_bfloat16, takes the same
step on two replicas as on one device, survives a .keras file, an export and a
resume exactly, holds to the input contract and evaluates."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from families import FAMILIES

from tfgan_zoo.callbacks import SafeBackupAndRestore
from tfgan_zoo.models.base import Sampling, Translating
from tfgan_zoo.ranges import to_model_range, to_uint8

pytestmark = pytest.mark.parametrize("name", FAMILIES)


def dataset(name, count=4, batch=2):
    return tf.data.Dataset.from_tensor_slices(FAMILIES[name].batch(count)).batch(batch)


def compiled(name, model=None, **options):
    model = model if model is not None else FAMILIES[name].build()
    model.compile(**options)
    return model


def weights_of(networks):
    return [keras.ops.convert_to_numpy(weight) for network in networks for weight in network.weights]


_FITTED = {}


def fitted(name):
    """A model of the family trained for an epoch under XLA, with ``fit``'s history
    (validation included) and its networks' weights before it, shared by the tests
    that only read it: one compile per family. (The replica and mixed-precision
    tests train compiled without XLA.)"""
    if name not in _FITTED:
        model = compiled(name, jit_compile=True)
        before = [weights_of(networks) for networks in (model.generators.values(), model.discriminators.values())]
        history = model.fit(dataset(name), validation_data=dataset(name), epochs=1, verbose=0).history
        _FITTED[name] = model, history, before
    return _FITTED[name]


def outputs(model, name) -> dict:
    """Float outputs of each generator, through the family's protocol."""
    if isinstance(model, Sampling):
        noise, labels = model.sample_inputs(3, seed=5)
        return {"generate": np.asarray(model.generate(noise, labels))}
    images = to_model_range(FAMILIES[name].batch(3)[0])
    return {signature: np.asarray(network(images, training=False)) for signature, network in model.translators.items()}


def test_follows_one_protocol_and_names_its_networks(name):
    model = FAMILIES[name].build()
    assert isinstance(model, Sampling) != isinstance(model, Translating)
    assert model.generators and model.discriminators
    assert not {id(n) for n in model.generators.values()} & {id(n) for n in model.discriminators.values()}


def test_logged_figures_are_declared_with_directions_and_roles(name):
    model = FAMILIES[name].build()
    declared = {metric.name: metric for metric in model.logged_metrics()}
    assert [tracker.name for tracker in model.trackers()] == list(declared)
    keras_direction = {"minimized": "down", "maximized": "up", "neither": None}
    for tracker in model.trackers():
        assert getattr(tracker, "_direction", None) == keras_direction[declared[tracker.name].direction]
    assert all(metric.direction == "minimized" for metric in declared.values() if metric.name.endswith("loss"))
    # What the health monitor reads: one gradient norm per generator, and D's two scores once each (if logged).
    assert len(model.names_in_role("g_gradient_norm")) == len(model.generators)
    assert len(model.names_in_role("d_real_score")) == len(model.names_in_role("d_fake_score")) <= 1
    assert model.names_in_role("g_adversarial_loss") and model.names_in_role("d_loss")


def test_compile_is_keyword_only_and_defaults_to_the_papers_adam(name):
    model = FAMILIES[name].build()
    with pytest.raises(TypeError):
        model.compile(keras.optimizers.Adam(), keras.optimizers.Adam())
    model.compile()
    for optimizer in (model.g_optimizer, model.d_optimizer):
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert float(optimizer.learning_rate) == pytest.approx(2e-4) and optimizer.beta_1 == 0.5
    assert model.g_optimizer is not model.d_optimizer and model.optimizer is model.g_optimizer


@pytest.mark.gpu
def test_xla_step_trains_every_network_and_logs_each_generators_gradient_norm(name):
    model, history, (generators, discriminators) = fitted(name)
    assert model.jit_compile
    assert all(np.isfinite(values[-1]) for values in history.values())
    norms = [key for key in history if key.endswith("_grad_norm")]
    assert len(norms) == len(model.generators) and all(history[key][-1] > 0 for key in norms)
    for before, after in ((generators, weights_of(model.generators.values())),
                          (discriminators, weights_of(model.discriminators.values()))):
        assert any(not np.array_equal(b, a) for b, a in zip(before, after))


@pytest.mark.gpu
def test_mixed_bfloat16_trains_and_outputs_float32(name):
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    model = compiled(name)
    history = model.fit(dataset(name), epochs=1, verbose=0).history
    assert all(np.isfinite(values[-1]) for values in history.values())
    assert all(values.dtype == np.float32 for values in outputs(model, name).values())


@pytest.mark.gpu
def test_mixed_float16_scales_the_loss_and_takes_the_float32_step(name):
    # The same first step in float32 and in mixed_float16: with the loss scaled up
    # into float16's range and the gradients scaled back down, G's gradient norm agrees.
    # (The default initial scale, 2**15, overflows on the first steps of these tiny
    # models, which then skip them while it halves: a smaller one takes this step.)
    family = FAMILIES[name]

    def first_step(precision, wrap=lambda optimizer: optimizer, **options):
        keras.mixed_precision.set_dtype_policy(precision)
        keras.utils.set_random_seed(0)  # the same initial weights
        g_optimizer, d_optimizer = (wrap(keras.optimizers.Adam(2e-4, beta_1=0.5)) for _ in range(2))
        model = compiled(name, family.comparable(), g_optimizer=g_optimizer, d_optimizer=d_optimizer, **options)
        return model, model.fit(dataset(name, count=2), epochs=1, verbose=0).history

    _, expected = first_step("float32", run_eagerly=True)  # a trace costs more than this step
    # Compiled where float16 is used: on a GPU (bench/device_check.py runs this test there).
    # On CPU, where nobody trains in float16, eagerly: the same step without its trace
    # (CycleGAN's: 8.8 s compiled, 3.1 s eager).
    model, history = first_step(
        "mixed_float16", lambda optimizer: keras.optimizers.LossScaleOptimizer(optimizer, initial_scale=2.0**8),
        run_eagerly=not tf.config.list_physical_devices("GPU"))
    for optimizer in (model.g_optimizer, model.d_optimizer):
        assert float(optimizer.dynamic_scale) == 2.0**8  # the step's gradients were finite: not skipped
    norms = [key for key in history if key.endswith("_grad_norm")]
    # Unscaled twice or not at all, the norm would be 256 times off; float16 moves it a few percent.
    assert norms and all(history[key][0] == pytest.approx(expected[key][0], rel=0.1) for key in norms)
    assert all(values.dtype == np.float32 for values in outputs(model, name).values())


@pytest.mark.gpu
def test_two_replicas_take_the_one_device_step(name, mirrored):
    # Plain SGD makes the update proportional to the gradient: a wrong
    # per-replica loss scaling (e.g. a plain mean) would double it.
    family = FAMILIES[name]
    sgd = lambda: keras.optimizers.SGD(0.1)  # noqa: E731
    # The reference steps eagerly: one trace less to wait for.
    reference = compiled(name, family.comparable(), g_optimizer=sgd(), d_optimizer=sgd(), run_eagerly=True)
    with mirrored.scope():
        replicated = family.comparable()
        replicated.set_weights(reference.get_weights())
        compiled(name, replicated, g_optimizer=sgd(), d_optimizer=sgd())
    # State each replica keeps for itself (CycleGAN's image pools) is not compared.
    shared = [index for index, weight in enumerate(reference.weights) if weight.synchronization != "on_read"]

    def state(model):
        weights = model.get_weights()
        return [weights[index] for index in shared]

    start = state(reference)
    history_ref = reference.fit(dataset(name, batch=4), epochs=1, verbose=0).history
    history_rep = replicated.fit(dataset(name, batch=4), epochs=1, verbose=0).history
    moved = 0
    for before, after_ref, after_rep in zip(start, state(reference), state(replicated)):
        np.testing.assert_allclose(after_rep - before, after_ref - before, rtol=2e-3, atol=2e-6)
        moved += not np.allclose(after_ref, before)
    assert moved > 2
    # Losses are reduced over both replicas, not replica 0's. (A gradient norm is
    # each replica's own gradient's: the global one would cost an all-reduce.)
    for key in (key for key in history_ref if not key.endswith("_grad_norm")):
        assert history_rep[key][0] == pytest.approx(history_ref[key][0], rel=1e-3, abs=1e-6), key


def test_keras_file_round_trip(name, tmp_path):
    model, _, _ = fitted(name)
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    assert type(restored) is type(model)
    assert restored.get_config() == model.get_config()
    assert restored.get_compile_config() == model.get_compile_config()
    for signature, images in outputs(model, name).items():
        np.testing.assert_allclose(outputs(restored, name)[signature], images, atol=1e-6)
    assert int(restored.g_optimizer.iterations) == int(model.g_optimizer.iterations) > 0


@pytest.mark.gpu
def test_export_round_trip(name, tmp_path):
    model, _, _ = fitted(name)
    served = tf.saved_model.load(str(model.export(tmp_path / "saved")))
    if isinstance(model, Sampling):
        noise, labels = model.sample_inputs(3, seed=5)
        inputs = {"noise": noise} if labels is None else {"noise": noise, "labels": labels}
        expected = {"generate": (inputs, to_uint8(model.generate(noise, labels)))}
        assert set(served.signatures) == {"generate", "sample", "serving_default"}
    else:
        images = FAMILIES[name].batch(3)[0]
        expected = {signature: ({"image": images}, to_uint8(network(to_model_range(images), training=False)))
                    for signature, network in model.translators.items()}
        assert set(served.signatures) == {*model.translators, "serving_default"}
    for signature, (inputs, images) in expected.items():
        result = served.signatures[signature](**{key: tf.constant(value) for key, value in inputs.items()})
        answer = next(iter(result.values())).numpy()
        assert answer.dtype == np.uint8
        assert np.abs(answer.astype(int) - np.asarray(images).astype(int)).max() <= 1


def test_resume_continues_exactly_where_it_stopped(name, tmp_path):
    family = FAMILIES[name]

    def model():
        keras.utils.set_random_seed(0)  # the same initial weights
        return compiled(name, family.comparable(), run_eagerly=True)  # a trace costs more than these steps

    # One model trains an epoch, saving a backup, and goes on with a second; a
    # new one given the backup must train only the second, to the same weights.
    # An epoch of one step each: the backup is taken between epochs.
    uninterrupted = model()
    uninterrupted.fit(dataset(name, count=2), epochs=1, verbose=0, callbacks=[SafeBackupAndRestore(tmp_path)])
    uninterrupted.fit(dataset(name, count=2), epochs=1, verbose=0)
    resumed = model()
    history = resumed.fit(dataset(name, count=2), epochs=2, verbose=0,
                          callbacks=[SafeBackupAndRestore(tmp_path)]).history
    assert len(next(iter(history.values()))) == 1, "the second run should have trained the second epoch only"
    for expected, found in zip(uninterrupted.weights, resumed.weights):
        np.testing.assert_allclose(np.asarray(found), np.asarray(expected), rtol=1e-5, atol=1e-6,
                                   err_msg=expected.path)


def test_input_contract(name):
    model, _, _ = fitted(name)
    batch = FAMILIES[name].batch(2)
    model.split_batch(tuple(batch))  # uint8
    floats = tuple(part.astype("float32") if part.dtype == np.uint8 else part for part in batch)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"(?s)found floats from.*x / 127.5 - 1"):
        model.split_batch(floats)
    unit = tuple(part.astype("float32") / 255 if part.dtype == np.uint8 else part for part in batch)
    with pytest.raises(ValueError, match=r"look like floats in \[0, 1\].*2 \* x - 1"):
        model.split_batch(unit)  # eagerly, as fit checks a first batch
    cropped = tuple(part[:, 1:] if part.dtype == np.uint8 else part for part in batch)
    with pytest.raises(ValueError, match=r"do not match this model's image_shape.*Found shape \[2, "):
        model.split_batch(cropped)


def test_evaluate_and_validation_data(name):
    model, history, _ = fitted(name)
    validation = {key: values for key, values in history.items() if key.startswith("val_")}
    assert validation and all(np.isfinite(values).all() for values in validation.values())
    scores = model.evaluate(dataset(name), verbose=0, return_dict=True)
    assert scores and all(np.isfinite(value) for value in scores.values())
    assert {key.removeprefix("val_") for key in validation} == set(scores)
