"""The exports as TF Serving takes them: numbered versions written atomically,
a warmup request per signature that the signature answers, float32 graphs
from mixed-precision models, and clear errors for bad requests."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import adam

import tfgan_zoo
from tfgan_zoo import export
from tfgan_zoo.ranges import to_uint8


def tiny_models():
    """One tiny model per family, each with the export function that serves it."""
    return {
        "dcgan": (tfgan_zoo.DCGAN(latent_dim=16, g_filters=4, d_filters=4), export.save_generator),
        "cgan": (tfgan_zoo.ConditionalGAN(latent_dim=16, num_classes=10, g_filters=4, d_filters=4),
                 export.save_generator),
        "pix2pix": (tfgan_zoo.Pix2Pix(image_size=32, g_filters=4, d_filters=4), export.save_translator),
        "cyclegan": (tfgan_zoo.CycleGAN(image_size=32, filters=4, num_blocks=1), export.save_cycle_translators),
    }


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """``{family: (model, base path)}``, each exported once."""
    root = tmp_path_factory.mktemp("exports")
    return {name: (model, save(model, root / name) and root / name) for name, (model, save) in tiny_models().items()}


def direct_outputs(model, signature: str, inputs: dict) -> np.ndarray:
    """What the Keras model gives for a signature's inputs, as uint8."""
    if signature in ("generate", "serving_default") and "noise" in inputs:
        return np.asarray(to_uint8(model.generate(inputs["noise"], inputs.get("labels"))))
    if signature == "sample":
        count = len(inputs["labels"]) if "labels" in inputs else int(inputs["num_samples"])
        noise = tf.random.stateless_normal([count, model.latent_dim], seed=[int(inputs["seed"]), 0])
        return np.asarray(to_uint8(model.generate(noise, inputs.get("labels"))))
    if isinstance(model, tfgan_zoo.CycleGAN):
        return model.translate(inputs["image"], "b_to_a" if signature == "b_to_a" else "a_to_b")
    return model.translate(inputs["image"])


@pytest.mark.parametrize("family", ["dcgan", "cgan", "pix2pix", "cyclegan"])
def test_warmup_requests_cover_every_signature_and_give_the_models_images(exports, family):
    model, base = exports[family]
    version = export.latest_export(base)
    assert version == base / "1"
    loaded = tf.saved_model.load(str(version))
    requests = export.read_warmup_requests(base)
    assert set(requests) == set(loaded.signatures)  # serving_default included
    for signature, inputs in requests.items():
        (served,) = loaded.signatures[signature](**{k: tf.constant(v) for k, v in inputs.items()}).values()
        assert served.dtype == tf.uint8
        expected = direct_outputs(model, signature, inputs)
        assert served.shape == expected.shape
        assert np.abs(served.numpy().astype(int) - expected.astype(int)).max() <= 1


def test_versions_count_up_prune_to_keep_and_latest_wins(tmp_path):
    gan = tfgan_zoo.DCGAN(latent_dim=8, g_filters=4, d_filters=4)
    paths = [export.save_generator(gan, tmp_path / "g", keep=2) for _ in range(3)]
    assert [path.name for path in paths] == ["1", "2", "3"]
    assert [path.name for path in export.version_dirs(tmp_path / "g")] == ["2", "3"]
    assert export.latest_export(tmp_path / "g") == tmp_path / "g" / "3"
    assert export.latest_export(tmp_path / "g" / "2") == tmp_path / "g" / "2"  # a version folder itself
    with pytest.raises(FileNotFoundError, match="numbered version folders"):
        export.latest_export(tmp_path / "nothing")


def test_a_failed_export_leaves_the_previous_version_and_no_half_written_one(tmp_path, monkeypatch):
    gan = tfgan_zoo.DCGAN(latent_dim=8, g_filters=4, d_filters=4)
    base = tmp_path / "g"
    export.save_generator(gan, base)

    def crash(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(export, "_write_warmup", crash)  # fails after the SavedModel is written
    with pytest.raises(OSError, match="simulated"):
        export.save_generator(gan, base)
    assert [path.name for path in export.version_dirs(base)] == ["1"]
    tf.saved_model.load(str(export.latest_export(base)))
    monkeypatch.undo()
    assert export.save_generator(gan, base).name == "2"
    assert sorted(path.name for path in base.iterdir()) == ["1", "2"]  # the staging leftover is gone


def test_float32_export_of_a_bfloat16_generator_stays_within_a_few_levels(tmp_path):
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    gan = tfgan_zoo.ConditionalGAN(latent_dim=16, num_classes=3, g_filters=8, d_filters=8)
    keras.mixed_precision.set_dtype_policy("float32")
    gan.compile(d_optimizer=adam(), g_optimizer=adam())
    real = np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 1)).astype("float32")
    gan.fit(tf.data.Dataset.from_tensor_slices((real, np.arange(16) % 3)).batch(8), epochs=1, verbose=0)

    float32_dir = export.save_generator(gan, tmp_path / "f32")
    training_dir = export.save_generator(gan, tmp_path / "bf16", precision="training")
    assert export.read_metadata(float32_dir)["compute_dtype"] == "float32"
    assert export.read_metadata(training_dir)["compute_dtype"] == "bfloat16"
    inputs = {"noise": tf.random.normal([32, 16], seed=1), "labels": tf.constant(np.arange(32) % 3, tf.int32)}
    as_float32 = tf.saved_model.load(str(float32_dir)).signatures["generate"](**inputs)["images"].numpy()
    as_trained = tf.saved_model.load(str(training_dir)).signatures["generate"](**inputs)["images"].numpy()
    difference = np.abs(as_float32.astype(int) - as_trained.astype(int))
    assert difference.max() <= 6 and difference.mean() < 1.0
    with pytest.raises(ValueError, match="precision"):
        export.save_generator(gan, tmp_path / "x", precision="float16")


def test_bad_noise_is_a_clear_error(exports):
    generate = tf.saved_model.load(str(export.latest_export(exports["cgan"][1]))).signatures["generate"]
    labels = tf.constant([0, 1])
    for bad in (np.nan, np.inf):
        noise = tf.tensor_scatter_nd_update(tf.zeros([2, 16]), [[1, 3]], [bad])
        with pytest.raises(tf.errors.InvalidArgumentError, match="noise must be finite"):
            generate(noise=noise, labels=labels)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"noise must be float32 \[batch, 16\]"):
        generate(noise=tf.zeros([2, 16, 1]), labels=labels)
    empty = generate(noise=tf.zeros([0, 16]), labels=tf.zeros([0], tf.int32))["images"]
    assert empty.shape == (0, 28, 28, 1)


@pytest.mark.parametrize("family,signature", [("pix2pix", "translate"), ("cyclegan", "b_to_a")])
def test_translators_answer_an_empty_batch_with_an_empty_batch(exports, family, signature):
    translate = tf.saved_model.load(str(export.latest_export(exports[family][1]))).signatures[signature]
    assert translate(image=tf.zeros([0, 32, 32, 3], tf.uint8))["image"].shape == (0, 32, 32, 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"image must be uint8 \[batch, 32, 32, 3\]"):
        translate(image=tf.zeros([1, 16, 16, 3], tf.uint8))


def test_metadata_records_class_names(tmp_path):
    gan = tfgan_zoo.ConditionalGAN(latent_dim=8, num_classes=2, g_filters=4, d_filters=4)
    version = export.save_generator(gan, tmp_path / "g", class_names=["cat", "dog"])
    assert json.loads((version / export.METADATA_FILE).read_text())["class_names"] == ["cat", "dog"]
    with pytest.raises(ValueError, match="2 classes"):
        export.save_generator(gan, tmp_path / "g", class_names=["cat"])


def test_saved_model_cli_lists_the_signatures_of_a_version(exports):
    cli = shutil.which("saved_model_cli")
    if cli is None:
        pytest.skip("saved_model_cli not on PATH")
    version = export.latest_export(exports["cyclegan"][1])
    out = subprocess.run([cli, "show", "--dir", str(version), "--all"], capture_output=True, text=True, check=True)
    for signature in ("a_to_b", "b_to_a", "serving_default"):
        assert f"signature_def['{signature}']" in out.stdout
    assert "DT_UINT8" in out.stdout and "(-1, 32, 32, 3)" in out.stdout


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
        family = "cgan" if "labels" in body["inputs"] else "dcgan"
        signature = tf.saved_model.load(str(export.latest_export(exports[family][1]))).signatures[
            body["signature_name"]]
        (images,) = signature(**decode_columnar_json(body, signature)).values()
        count = len(body["inputs"]["labels"]) if family == "cgan" else body["inputs"]["num_samples"]
        response = json.loads(json.dumps({"outputs": images.numpy().tolist()}))
        assert np.asarray(response["outputs"]).shape == (count, 28, 28, 1)
