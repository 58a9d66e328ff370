"""The Keras edges a user working from code hits (issue 26): each test here
failed before its fix. Tiny models from the contract registry (families.py)."""

import argparse
import math
import os
import re
import subprocess
import sys

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import REPO
from families import FAMILIES, signature_inputs, uint8_images

import tfgan_zoo
from tfgan_zoo import callbacks as gan_callbacks
from tfgan_zoo import export, tflite
from tfgan_zoo.experiment.flags import add_family_arguments
from tfgan_zoo.options import family_options
from tfgan_zoo.runs import ownership


def compiled(family, **compile_options):
    model = FAMILIES[family].build()
    model.compile(**compile_options)
    return model


def dataset(family, count=4, batch=2):
    return tf.data.Dataset.from_tensor_slices(FAMILIES[family].batch(count)).batch(batch)


# ------------------------------------------------ 1. every input fit takes is checked
class Batches(keras.utils.PyDataset):
    def __init__(self, images):
        super().__init__()
        self.images = images

    def __len__(self):
        return 2

    def __getitem__(self, index):
        return self.images[2 * index : 2 * index + 2]


# Every form of an image input that fit takes: (input of 4 images, fit's batch_size).
INPUTS = {
    "numpy": lambda images: (images, 2),
    "tuple": lambda images: ((images,), 2),
    "list": lambda images: ([images], 2),
    "dict": lambda images: ({"image": images}, 2),
    "tensor": lambda images: (tf.constant(images), 2),
    "tf.data": lambda images: (tf.data.Dataset.from_tensor_slices(images).batch(2), None),
    "PyDataset": lambda images: (Batches(images), None),
    "generator": lambda images: ((images[start : start + 2] for start in (0, 2)), None),
}


@pytest.mark.parametrize("form", INPUTS)
def test_an_xla_step_checks_the_first_batch_of_every_input(form):
    """XLA drops in-step assertions: 0-255 floats trained silently unless the input was tf.data."""
    gan = compiled("dcgan", jit_compile=True)
    x, batch_size = INPUTS[form](uint8_images(4, 16, 1).astype("float32"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="found floats from"):
        gan.fit(x, batch_size=batch_size, epochs=1, verbose=0)
    assert int(gan.g_optimizer.iterations) == 0


def test_fit_takes_tuples_and_lists_of_images_and_labels():
    images, labels = FAMILIES["cgan"].batch(4)
    for x in ((images, labels), [images, labels]):
        gan = compiled("cgan", run_eagerly=True)  # a trace costs more than these steps
        gan.fit(x, batch_size=2, epochs=1, verbose=0)
        assert int(gan.g_optimizer.iterations) == 2


# ------------------------------------------------------- 2. [0, 1] floats are refused
def test_unit_range_floats_are_refused_with_the_fix():
    """x / 255 lies inside [-1, 1]: it trained silently, samples washed out."""
    unit = uint8_images(4, 16, 1).astype("float32") / 255.0
    for jit_compile in (False, True):
        gan = compiled("dcgan", jit_compile=jit_compile)
        with pytest.raises(ValueError, match=r"look like floats in \[0, 1\].*Scale them by 2 \* x - 1, or pass uint8"):
            gan.fit(unit, batch_size=2, epochs=1, verbose=0)
        with pytest.raises(ValueError, match=r"look like floats in \[0, 1\]"):
            gan.evaluate(tf.data.Dataset.from_tensor_slices(unit).batch(2), verbose=0)
    gan = compiled("dcgan")
    gan.fit(unit * 2.0 - 1.0, batch_size=2, epochs=1, verbose=0)  # the fix trains
    assert int(gan.g_optimizer.iterations) == 2
    translator = FAMILIES["pix2pix"].build()
    with pytest.raises(ValueError, match=r"look like floats in \[0, 1\]"):
        translator.translate(uint8_images(2, 16, 3).astype("float32") / 255.0)


# --------------------------------------------------- 3. TerminateOnNaN stops a NaN run
class NaNGeneratorLoss(tfgan_zoo.losses.NonSaturatingLoss):
    name = "nan-bce"

    def generator_loss(self, fake_logits):
        return super().generator_loss(fake_logits) * math.nan


def test_terminate_on_nan_stops_a_gan():
    # Eager steps: a trace costs more than these steps.
    gan = compiled("dcgan", loss=NaNGeneratorLoss(), run_eagerly=True)
    history = gan.fit(dataset("dcgan", count=8), epochs=3, verbose=0, callbacks=[keras.callbacks.TerminateOnNaN()])
    assert int(gan.g_optimizer.iterations) == 1 and len(history.history["g_loss"]) == 1
    gan = compiled("dcgan", loss=NaNGeneratorLoss(), run_eagerly=True)
    with pytest.raises(RuntimeError, match="NaN or Inf loss"):
        gan.fit(dataset("dcgan"), epochs=1, verbose=0, callbacks=[keras.callbacks.TerminateOnNaN(raise_error=True)])
    gan = compiled("dcgan", run_eagerly=True)  # finite figures: no stop
    gan.fit(dataset("dcgan"), epochs=2, verbose=0, callbacks=[keras.callbacks.TerminateOnNaN()])
    assert int(gan.g_optimizer.iterations) == 4


# ---------------------------------------- 4. arguments a GAN would ignore are refused
def test_ignored_keras_arguments_are_refused():
    images = uint8_images(4, 16, 1)
    gan = compiled("dcgan")
    with pytest.raises(ValueError, match=r"fit\(sample_weight=...\) is not supported"):
        gan.fit(images, sample_weight=np.ones(4), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"fit\(class_weight=...\) is not supported.*resample"):
        gan.fit(images, class_weight={0: 1.0}, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"evaluate\(sample_weight=...\) is not supported"):
        gan.evaluate(images, sample_weight=np.ones(4), verbose=0)
    with pytest.raises(ValueError, match=r"validation_data=\(x, y, sample_weight\) is not supported"):
        gan.fit(images, validation_data=(images, None, np.ones(4)), epochs=1, verbose=0)
    for family in FAMILIES:
        with pytest.raises(ValueError, match=r"compile\(metrics=...\) is not supported.*logged_metrics"):
            FAMILIES[family].build().compile(metrics=["accuracy"])
    assert int(gan.g_optimizer.iterations) == 0


# --------------------------------------------------- 5. labels wherever they go in
@pytest.mark.parametrize("family", ["cgan", "acgan"])
def test_labels_as_ids_one_hot_or_lists_wherever_labels_go_in(family):
    gan = compiled(family)
    noise, ids = gan.sample_inputs(3)
    expected = np.asarray(gan.generate(noise, ids))
    forms = {"one-hot": np.eye(3, dtype="float32")[ids], "list": ids.tolist(), "[N, 1]": ids[:, None].astype("int64")}
    for name, labels in forms.items():
        np.testing.assert_allclose(gan.generate(noise, labels), expected, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(gan((noise, labels)), expected, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(gan.predict((noise, labels), verbose=0), expected, atol=1e-6, err_msg=name)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"class ids in \[0, 2\]"):
        gan.generate(noise, [0, 1, 7])


def test_the_exported_signatures_take_labels_as_ids_one_hot_or_lists(tmp_path):
    """The SavedModel's generate and sample took int32 ids [N] only: one-hot rows failed."""
    gan = compiled("cgan")
    signatures = tf.saved_model.load(str(gan.export(tmp_path / "cgan"))).signatures
    noise, ids = gan.sample_inputs(3)
    ids = ids.astype("int32")
    expected = {name: signatures[name](**inputs)["images"].numpy() for name, inputs in
                (("generate", {"noise": noise, "labels": ids}), ("sample", {"labels": ids, "seed": np.int64(4)}))}
    forms = {"list": ids.tolist(), "[N, 1]": ids[:, None], "one-hot": np.eye(3, dtype="float32")[ids],
             "one-hot int32": np.eye(3, dtype="int32")[ids]}
    for name, labels in forms.items():
        generated = signatures["generate"](noise=noise, labels=labels)["images"].numpy()
        np.testing.assert_array_equal(generated, expected["generate"], err_msg=name)
        sampled = signatures["sample"](labels=labels, seed=np.int64(4))["images"].numpy()
        np.testing.assert_array_equal(sampled, expected["sample"], err_msg=name)
    wrong = {
        r"a single 1 per row": np.array([[1, 1, 0], [0, 1, 0], [0, 0, 1]]),
        # Soft labels: numpy's cast to int32 makes their rows all 0, which is refused rather than read as class 0.
        r"a single 1 per row.*\[batch, 3\]": np.full((3, 3), 1 / 3),
        r"class ids \[batch\] or one-hot rows \[batch, 3\]": np.zeros((3, 2)),
        r"class ids \[batch\] or one-hot rows": np.zeros((3, 1, 3)),
        r"class ids in \[0, 2\]": np.array([0, 1, 3]),
    }
    for message, labels in wrong.items():
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            signatures["generate"](noise=noise, labels=labels)


# ------------------------------------------- 6. the EMA copy is not trained; summary
def test_the_ema_generator_is_not_trainable_and_checkpoints_keep_their_paths(tmp_path):
    gan = FAMILIES["dcgan"].build(ema_decay=0.9)
    trained = {id(w) for network in (gan.generator, gan.discriminator) for w in network.trainable_weights}
    assert {id(w) for w in gan.trainable_weights} == trained
    assert gan.ema_generator.weights and not gan.ema_generator.trainable_weights
    # As before the fix (every EMA weight trainable), a weights file has the same entries and loads both ways.
    old = FAMILIES["dcgan"].build(ema_decay=0.9, seed=1)
    for weight in old.ema_generator.weights:
        weight.trainable = True
    gan.save_weights(tmp_path / "new.weights.h5")
    old.save_weights(tmp_path / "old.weights.h5")

    def entries(path):
        with h5py.File(path, "r") as handle:
            names = []
            handle.visit(names.append)
            return names

    assert entries(tmp_path / "new.weights.h5") == entries(tmp_path / "old.weights.h5")
    gan.load_weights(tmp_path / "old.weights.h5")
    for mine, theirs in zip(gan.weights, old.weights):
        np.testing.assert_array_equal(mine, theirs)
    old.load_weights(tmp_path / "new.weights.h5")
    # Training still moves the average (its update pairs it with G's trainable weights).
    before = [w.numpy().copy() for w in gan.ema_generator.weights]
    gan.compile(run_eagerly=True)
    gan.fit(dataset("dcgan"), epochs=1, verbose=0)
    assert any(not np.allclose(a, w) for a, w in zip(before, gan.ema_generator.weights))


def test_summary_shows_each_network_layer_by_layer():
    gan = FAMILIES["dcgan"].build(ema_decay=0.9)
    lines = []
    gan.summary(print_fn=lambda line, **_: lines.append(line))
    text = "\n".join(lines)
    g_trainable = sum(int(np.prod(w.shape)) for w in gan.generator.trainable_weights)
    d_trainable = sum(int(np.prod(w.shape)) for w in gan.discriminator.trainable_weights)
    assert "conv2d_transpose" in text and re.search(r"\(\w+, 16, 16, 1\)", text)  # G's layers and its output shape
    assert "?" not in text
    assert "ema_generator" in text and "not trained" in text
    assert f"Trainable params: {g_trainable + d_trainable:,}" in text


# -------------------------------------------------- 7. sample images in TensorBoard
def image_tags(log_dir) -> dict:
    """``{tag: [steps]}`` of the image summaries under ``log_dir``."""
    found = {}
    for path in sorted(log_dir.rglob("*tfevents*")):
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "images":
                    found.setdefault(value.tag, []).append(event.step)
    return found


def test_tensorboard_shows_sample_sheets(tmp_path):
    gan = compiled("dcgan", run_eagerly=True)  # a trace costs more than these steps
    gan.fit(dataset("dcgan"), epochs=2, verbose=0, callbacks=[gan_callbacks.TensorBoard(tmp_path / "noise")])
    assert image_tags(tmp_path / "noise") == {"samples": [0, 1]}
    translator = compiled("pix2pix", run_eagerly=True)
    images = uint8_images(2, 16, 3)
    sheets = gan_callbacks.TranslationSamples(images, images, tmp_path / "samples")
    board = gan_callbacks.TensorBoard(tmp_path / "translation", samples=sheets.sheet)
    translator.fit(dataset("pix2pix"), epochs=1, verbose=0, callbacks=[sheets, board])
    assert image_tags(tmp_path / "translation") == {"samples": [0]}


def test_every_experiment_gives_its_sample_sheets_to_tensorboard(tmp_path):
    from tfgan_zoo.diagnostics import HealthMonitor
    from tfgan_zoo.experiment.runner import _run_callbacks
    from tfgan_zoo.runs import RunDirectory

    run_dir = RunDirectory(tmp_path)
    samples = gan_callbacks.CycleSamples(uint8_images(1, 16, 3), uint8_images(1, 16, 3), run_dir.samples)
    boards = [c for c in _run_callbacks(run_dir, run_dir, HealthMonitor(), [], samples)
              if isinstance(c, gan_callbacks.TensorBoard)]
    assert [board.samples for board in boards] == [samples.sheet]


# ----------------------------------------------------- 8. TensorFlow backend only
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_another_keras_backend_fails_at_import_with_the_fix(backend):
    environment = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", "import tfgan_zoo"], env=environment, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode != 0
    assert "TensorFlow backend only" in result.stderr and "KERAS_BACKEND=tensorflow" in result.stderr
    assert "Traceback" in result.stderr and result.stderr.count("File ") <= 3, "fails at once, not deep in a library"


# ----------------------------------------- 9. the serving formats Keras offers
def spread(model):
    """``model`` with its kernels drawn at a trained network's scale: an untrained tiny
    generator's images stay within a level or two of mid-grey, where any two converters
    agree; these spread over 0-255 (a standard deviation of 80-90 levels)."""
    rng = np.random.default_rng(0)
    for weight in model.weights:
        if weight.path.endswith("kernel"):
            fan_in = np.prod(weight.shape[:-1])
            weight.assign(rng.normal(0, 2 / np.sqrt(fan_in), weight.shape).astype("float32"))
    return model


def within_one_level(actual, expected) -> float:
    return float(np.mean(np.abs(np.asarray(actual, int) - np.asarray(expected, int)) <= 1))


@pytest.mark.parametrize("family, signature", [("cgan", "generate"), ("pix2pix", "translate")])
def test_onnx_export_gives_the_saved_models_images_in_onnxruntime(tmp_path, family, signature):
    onnxruntime = pytest.importorskip("onnxruntime", reason="the ONNX check needs onnxruntime (the 'test' extra)")
    model = spread(FAMILIES[family].build())
    served = tf.saved_model.load(str(model.export(tmp_path / "saved_model"))).signatures[signature]
    path = model.export(tmp_path / "model.onnx", format="onnx")
    assert export.read_onnx_metadata(path)["signature"] == signature  # the first, by default
    inputs = signature_inputs(model, signature, count=16)
    if "labels" in inputs:
        inputs["labels"] = inputs["labels"].astype("int32")
    (expected,) = served(**inputs).values()
    assert np.std(expected) > 40  # spread: not a comparison of mid-grey images
    (images,) = onnxruntime.InferenceSession(str(path)).run(["images"], inputs)
    assert images.dtype == np.uint8 and images.shape == expected.shape
    assert within_one_level(images, expected) >= 0.99


def test_onnx_export_replaces_only_its_own_file_and_names_what_does_not_convert(tmp_path):
    onnx = pytest.importorskip("onnx", reason="ONNX export needs tf2onnx and onnx (the 'test' extra)")
    model = FAMILIES["dcgan"].build()
    path = model.export(tmp_path / "model.onnx", format="onnx")
    model.export(path, format="onnx")  # its own file: replaced
    foreign = onnx.load(str(path))
    del foreign.metadata_props[:]  # a valid ONNX model, converted elsewhere
    mine = tmp_path / "mine.onnx"
    onnx.save(foreign, str(mine))
    with pytest.raises(ownership.NotOurs, match=f"{mine} exists and is not an ONNX model that tfgan_zoo wrote"):
        model.export(mine, format="onnx")
    assert onnx.load(str(mine)) == foreign
    with pytest.raises(RuntimeError, match=r"no ONNX ops for StatelessRandom.*signature='generate'"):
        model.export(tmp_path / "sample.onnx", format="onnx", signature="sample")
    with pytest.raises(ValueError, match=r"DCGAN has no signature 'translate'; it has 'generate', 'sample'"):
        model.export(tmp_path / "translate.onnx", format="onnx", signature="translate")
    assert sorted(file.name for file in tmp_path.iterdir()) == ["mine.onnx", "model.onnx"]


@pytest.mark.usefixtures("tflite_conversions_without_full_collections")
def test_litert_export_is_the_packages_builtins_only_tflite_conversion(tmp_path):
    pytest.importorskip("ai_edge_litert", reason="running .tflite models needs ai-edge-litert (the 'test' extra)")
    model = spread(FAMILIES["cgan"].build())
    saved_model = model.export(tmp_path / "saved_model")
    path = model.export(tmp_path / "model.tflite", format="litert", class_names=["a", "b", "c"])
    assert tflite.read_tflite_metadata(path)["class_names"] == ["a", "b", "c"]
    assert tflite.compare(saved_model, path, samples=16)["within_one"] >= 0.99
    assert sorted(file.name for file in tmp_path.iterdir()) == ["model.tflite", "saved_model"]  # no scratch left


def test_other_formats_and_options_are_refused_naming_the_supported_ones(tmp_path):
    model = FAMILIES["dcgan"].build()
    supported = "model.export writes 'tf_saved_model', 'litert', 'onnx'"
    with pytest.raises(ValueError, match=f"format='h5' is not supported: {supported}"):
        model.export(tmp_path / "model", format="h5")
    with pytest.raises(ValueError, match=f"format='openvino' is not supported: {supported}. OpenVINO reads ONNX"):
        model.export(tmp_path / "model", format="openvino")
    with pytest.raises(ValueError, match="takes no option max_batch; its options are signature, opset_version"):
        model.export(tmp_path / "model.onnx", format="onnx", max_batch=4)
    assert not list(tmp_path.iterdir())


def test_an_export_serves_inside_a_new_keras_model_as_a_tfsm_layer(tmp_path):
    """docs/serving.md, *Inside a Keras model*: a signature of several inputs takes
    the first positionally and the others by name."""
    gan = FAMILIES["cgan"].build()
    path = gan.export(tmp_path / "cgan")
    noise = keras.Input((gan.latent_dim,), name="noise")
    labels = keras.Input((), dtype="int32", name="labels")
    generate = keras.layers.TFSMLayer(path, call_endpoint="generate", trainable=False)
    wrapped = keras.Model([noise, labels], generate(noise, labels=labels)["images"])
    inputs = {"noise": gan.sample_inputs(4)[0], "labels": np.array([0, 2, 1, 2], "int32")}
    served = tf.saved_model.load(str(path)).signatures["generate"](**inputs)["images"]
    np.testing.assert_array_equal(wrapped.predict([inputs["noise"], inputs["labels"]], verbose=0), served)


# ------------------------------------- 10. one declaration: help, flag and code agree
def _edges(allowed, kind):
    """``(inside, outside)`` values at each finite bound of ``allowed``."""
    inside, outside = [], []
    step = (lambda value, direction: value + direction) if kind is int else \
        (lambda value, direction: math.nextafter(value, value + direction))
    for bound, is_open, direction in ((allowed.low, allowed.low_open, 1), (allowed.high, allowed.high_open, -1)):
        if bound is None:
            continue
        bound = kind(bound)
        inside.append(step(bound, direction) if is_open else bound)
        outside.append(bound if is_open else step(bound, -direction))
    return inside, outside


@pytest.mark.parametrize("family", FAMILIES)
def test_every_option_range_is_the_one_its_help_shows_and_its_code_checks(family):
    """An option's range is declared once (its annotation): the flag's help shows it,
    the constructor or compile refuses each value just outside it naming that range,
    and accepts each value just inside it (label smoothing said [0, 1) and checked
    [0, 0.5)). Inside values of integer model options (sizes, counts) are left out:
    their low edges meet the networks' structural checks (a 1-pixel image)."""
    model = FAMILIES[family].build()
    parser = argparse.ArgumentParser()
    add_family_arguments(parser, type(model))
    checked = 0
    for option in family_options(type(model)):
        if option.range is None:
            continue
        assert parser._option_string_actions[option.flag].help.endswith(f"({option.range})"), option.name

        def apply(value):
            if option.stage == "model":
                return FAMILIES[family].build(**{option.name: value})
            return model.compile(**{option.name: value})

        inside, outside = _edges(option.range, option.kind)
        for value in outside:
            with pytest.raises(ValueError, match=re.escape(f"{option.name} must be {option.range}, got")):
                apply(value)
        for value in inside if option.stage == "compile" or option.kind is float else ():
            apply(value)
        checked += len(inside) + len(outside)
    assert checked


def test_label_smoothing_help_says_what_the_loss_checks():
    options = {option.name: option for option in family_options(tfgan_zoo.DCGAN)}
    assert str(options["label_smoothing"].range) == "in [0, 0.5)"
    compiled("dcgan", label_smoothing=0.49)
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 0.5\), got 0.5"):
        compiled("dcgan", label_smoothing=0.5)
