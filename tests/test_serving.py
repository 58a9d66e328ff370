"""The exports as TF Serving takes them, for every family of the registry
(tests/families.py): numbered versions written atomically, a warmup request
per signature that the signature answers, metadata that describes the model,
float32 graphs from mixed-precision models, and clear errors for bad requests."""

import json
import re
import shutil
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from families import FAMILIES, expected_images, signature_inputs, signature_names

from tfgan_zoo import export
from tfgan_zoo.models.base import Sampling, Translating
from tfgan_zoo.ranges import to_model_range, to_uint8


def class_names(model) -> list[str] | None:
    """A name for each class of a conditional generator (None for other models)."""
    classes = int(model.num_classes) if isinstance(model, Sampling) else 0
    return [f"class {index}" for index in range(classes)] or None


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """``{family: (model, base path, its signatures loaded)}``: each registry family
    exported once through :func:`export.save`, shared by the module's tests."""
    root = tmp_path_factory.mktemp("exports")
    exported = {}
    for name, family in FAMILIES.items():
        model = family.build()
        version = export.save(model, root / name, class_names=class_names(model))
        exported[name] = (model, root / name, tf.saved_model.load(str(version)).signatures)
    return exported


def call(signature, inputs: dict) -> np.ndarray:
    """The one output of a loaded ``signature`` on numpy ``inputs``."""
    (output,) = signature(**{name: tf.constant(value) for name, value in inputs.items()}).values()
    return output.numpy()


@pytest.mark.parametrize("name", FAMILIES)
def test_warmup_requests_cover_every_signature_and_give_the_models_images(exports, name):
    model, base, signatures = exports[name]
    assert export.latest_export(base) == base / "1"
    requests = export.read_warmup_requests(base)
    assert set(requests) == set(signatures) == {*signature_names(model), "serving_default"}
    assert requests["serving_default"].keys() == requests[signature_names(model)[0]].keys()
    for signature, inputs in requests.items():
        served = call(signatures[signature], inputs)
        assert served.dtype == np.uint8
        as_model = signature_names(model)[0] if signature == "serving_default" else signature
        expected = expected_images(model, as_model, inputs)
        assert served.shape == expected.shape
        assert np.abs(served.astype(int) - expected.astype(int)).max() <= 1


@pytest.mark.parametrize("name", FAMILIES)
def test_metadata_describes_the_model(exports, name):
    model, base, _ = exports[name]
    metadata = export.read_metadata(base)
    assert metadata["family"] == type(model).__name__
    assert metadata["signatures"] == signature_names(model)
    assert metadata["compute_dtype"] == "float32"
    if isinstance(model, Translating):
        assert metadata["image_size"] == model.image_size
        assert metadata["channels"] == {
            signature: {"input": network.input_channels, "output": network.output_channels}
            for signature, network in model.translators.items()
        }
    else:
        assert metadata["latent_dim"] == model.latent_dim and metadata["num_classes"] == model.num_classes
        assert metadata["class_names"] == class_names(model)
        assert metadata["image_shape"] == list(model.sampling_generator.image_shape)
        assert metadata["weights"] == "trained"


def test_the_old_writers_are_save(monkeypatch):
    calls = []
    monkeypatch.setattr(export, "save", lambda model, base, **options: calls.append((model, base, options)))
    networks = {"a_to_b": "g", "b_to_a": "f"}
    export.save_generator("gan", "g", class_names=["cat"], keep=2)
    export.save_translator("pix2pix", "t", {"translate": "g"}, precision="training")
    export.save_cycle_translators("cyclegan", "c")
    export.save_translators("s", networks, 16, family="Test", keep=3)
    assert calls[:3] == [("gan", "g", {"class_names": ["cat"], "keep": 2}),
                         ("pix2pix", "t", {"translators": {"translate": "g"}, "precision": "training"}),
                         ("cyclegan", "c", {})]
    bare, base, options = calls[3]
    assert (bare.translators, bare.image_size, bare.family, base, options) == (networks, 16, "Test", "s", {"keep": 3})
    assert isinstance(bare, Translating)


def test_save_refuses_a_model_of_no_protocol_and_options_of_the_other_protocol(tmp_path):
    with pytest.raises(TypeError, match=r"Cannot export a Dense: .*Sampling.*Translating"):
        export.save(keras.layers.Dense(2), tmp_path / "x")
    with pytest.raises(ValueError, match="translators chooses the networks of an image-to-image model"):
        export.save(FAMILIES["dcgan"].build(), tmp_path / "x", translators={})
    assert not (tmp_path / "x").exists()


def test_versions_count_up_prune_to_keep_and_latest_wins(tmp_path):
    gan = FAMILIES["dcgan"].build()
    paths = [export.save(gan, tmp_path / "g", keep=2) for _ in range(3)]
    assert [path.name for path in paths] == ["1", "2", "3"]
    assert [path.name for path in export.version_dirs(tmp_path / "g")] == ["2", "3"]
    assert export.latest_export(tmp_path / "g") == tmp_path / "g" / "3"
    assert export.latest_export(tmp_path / "g" / "2") == tmp_path / "g" / "2"  # a version folder itself
    with pytest.raises(FileNotFoundError, match="numbered version folders"):
        export.latest_export(tmp_path / "nothing")


def test_a_failed_export_leaves_the_previous_version_and_no_half_written_one(tmp_path, monkeypatch):
    gan = FAMILIES["dcgan"].build()
    base = tmp_path / "g"
    export.save(gan, base)

    def crash(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(export, "_write_warmup", crash)  # fails after the SavedModel is written
    with pytest.raises(OSError, match="simulated"):
        export.save(gan, base)
    assert [path.name for path in export.version_dirs(base)] == ["1"]
    tf.saved_model.load(str(export.latest_export(base)))
    monkeypatch.undo()
    assert export.save(gan, base).name == "2"
    assert sorted(path.name for path in base.iterdir()) == [".tfgan_zoo", "1", "2"]  # no staging leftover


def float32_images(model, signature: str, inputs: dict) -> np.ndarray:
    """What the float32 copy of ``model``'s network (:func:`export.inference_network`) gives for ``inputs``."""
    if isinstance(model, Translating):
        network = export.inference_network(model.translators[signature])
        return np.asarray(to_uint8(network(to_model_range(inputs["image"]), training=False)))
    network = export.inference_network(model.sampling_generator)
    generator_inputs = inputs["noise"] if "labels" not in inputs else (inputs["noise"], inputs["labels"])
    return np.asarray(to_uint8(network(generator_inputs, training=False)))


@pytest.mark.parametrize("name", FAMILIES)
def test_a_bfloat16_model_exports_in_float32_unless_asked_within_a_few_levels(tmp_path, name):
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        model = FAMILIES[name].build()
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    assert export.inference_network(next(iter(model.generators.values()))).dtype_policy.compute_dtype == "float32"
    signature = signature_names(model)[0]
    # One translator is enough to compare, and each costs seconds to trace.
    one = {"translators": {signature: model.translators[signature]}} if isinstance(model, Translating) else {}
    version = export.save(model, tmp_path / "bf16", precision="training", **one)
    assert export.read_metadata(version)["compute_dtype"] == "bfloat16"
    as_trained = tf.saved_model.load(str(version)).signatures
    inputs = signature_inputs(model, signature, count=8, seed=1)
    difference = np.abs(call(as_trained[signature], inputs).astype(int)
                        - float32_images(model, signature, inputs).astype(int))
    assert difference.max() <= 6 and difference.mean() < 1.0
    with pytest.raises(ValueError, match="precision"):
        export.save(model, tmp_path / "x", precision="float16")


@pytest.mark.parametrize("name", FAMILIES)
def test_bad_requests_are_clear_errors_and_an_empty_batch_an_empty_answer(exports, name):
    model, _, signatures = exports[name]
    if isinstance(model, Translating):
        size = model.image_size
        for signature, network in model.translators.items():
            shape = (size, size, network.input_channels)
            empty = call(signatures[signature], {"image": np.zeros((0, *shape), np.uint8)})
            assert empty.shape == (0, size, size, network.output_channels)
            with pytest.raises(tf.errors.InvalidArgumentError,
                               match=re.escape(f"image must be uint8 [batch, {', '.join(map(str, shape))}]")):
                call(signatures[signature], {"image": np.zeros((1, size // 2, size // 2, shape[-1]), np.uint8)})
        return
    inputs = signature_inputs(model, "generate", count=2)
    for bad in (np.nan, np.inf):
        noise = inputs["noise"].copy()
        noise[1, 3] = bad
        with pytest.raises(tf.errors.InvalidArgumentError, match="noise must be finite"):
            call(signatures["generate"], {**inputs, "noise": noise})
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=re.escape(f"noise must be float32 [batch, {model.latent_dim}]")):
        call(signatures["generate"], {**inputs, "noise": inputs["noise"][..., None]})
    empty = signature_inputs(model, "generate", count=0)
    assert call(signatures["generate"], empty).shape == (0, *model.sampling_generator.image_shape)


@pytest.mark.parametrize("name", FAMILIES)
def test_class_names_must_name_each_class_of_a_generator(exports, tmp_path, name):
    model = exports[name][0]
    if isinstance(model, Translating):
        with pytest.raises(ValueError, match="class_names names the classes of a noise-to-image model"):
            export.save(model, tmp_path / "x", class_names=["cat"])
    else:
        with pytest.raises(ValueError, match=f"has {model.num_classes} classes"):
            export.save(model, tmp_path / "x", class_names=["cat"] * (model.num_classes + 1))
    assert not (tmp_path / "x").exists()


def test_saved_model_cli_lists_the_signatures_of_a_version(exports, fork_server):
    if shutil.which("saved_model_cli") is None:
        pytest.skip("saved_model_cli not on PATH")
    # One family: the one with the most signatures. The command's module (what the saved_model_cli
    # script runs) through the fork server: a TensorFlow start less.
    model, base, _ = max(exports.values(), key=lambda exported: len(signature_names(exported[0])))
    version = export.latest_export(base)
    out = fork_server.run([sys.executable, "-m", "tensorflow.python.tools.saved_model_cli", "show", "--dir", version,
                           "--all"], timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    for signature in (*signature_names(model), "serving_default"):
        assert f"signature_def['{signature}']" in out.stdout
    assert "DT_UINT8" in out.stdout


def decode_columnar_json(body: dict, signature) -> dict:
    """The input tensors TF Serving makes of a columnar REST body: each value in
    the dtype the signature declares for that input."""
    specs = signature.structured_input_signature[1]
    return {name: tf.constant(np.asarray(value, specs[name].dtype.as_numpy_dtype))
            for name, value in body["inputs"].items()}


def test_the_documented_rest_bodies_run_through_the_signatures(exports):
    text = (Path(__file__).resolve().parents[1] / "docs" / "serving.md").read_text()
    bodies = [json.loads(block) for block in re.findall(r"```json\n(.*?)\n```", text, re.S)]
    assert len(bodies) == 2
    for body in bodies:
        served = 0
        for model, _, signatures in exports.values():
            signature = signatures.get(body["signature_name"])
            if signature is None or set(signature.structured_input_signature[1]) != set(body["inputs"]):
                continue  # another kind of model's body
            (images,) = signature(**decode_columnar_json(body, signature)).values()
            count = len(body["inputs"]["labels"]) if "labels" in body["inputs"] else body["inputs"]["num_samples"]
            response = json.loads(json.dumps({"outputs": images.numpy().tolist()}))
            assert np.asarray(response["outputs"]).shape == (count, *model.sampling_generator.image_shape)
            served += 1
        assert served, f"no family's export takes {body}"
