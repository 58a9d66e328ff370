"""TFLite conversion of the exports: builtin ops only, same images as the SavedModel, clear errors."""

import shutil

import keras
import numpy as np
import pytest

pytest.importorskip("ai_edge_litert", reason="running .tflite models needs ai-edge-litert (in the 'test' extra)")
pytestmark = pytest.mark.usefixtures("tflite_conversions_without_full_collections")

from command_exits import assert_one_line_failure, exit_of, interrupt, permission_denied  # noqa: E402
from families import FAMILIES, signature_names  # noqa: E402

import tfgan_zoo  # noqa: E402
from tfgan_zoo import commands, export, tflite  # noqa: E402


@pytest.fixture(scope="module")
def bf16_cgan():
    """A ConditionalGAN built under mixed_bfloat16, as ``--precision auto`` trains on CPUs with BF16."""
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        return FAMILIES["cgan"].build()
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


@pytest.mark.parametrize("name", FAMILIES)
def test_float32_model_matches_the_saved_model(family_exports, name):
    # Builtins only: convert() allows no other op set, and a Flex op would not load in this plain interpreter.
    model, version = family_exports[name]
    # Every signature but sample, whose random ops have no builtin (a test below).
    convertible = [signature for signature in signature_names(model) if signature != "sample"]
    for signature in convertible:
        # The first through the default (the export's first signature), on its base path.
        path = tflite.convert(version.parent, None if signature == convertible[0] else signature)
        assert path == version.parent.with_name(f"{name}_tflite") / version.name / f"{signature}_none.tflite"
        check = tflite.compare(version, path, samples=4)
        assert check["within_one"] >= 0.99, (signature, check)
    assert not list(version.parent.glob(".*.tmp")) and not list(path.parent.glob(".*.tmp"))


def test_a_translator_answers_an_empty_batch_with_an_empty_one(family_exports, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    path = tflite.convert(family_exports["pix2pix"][1], output=tmp_path / "translate.tflite")
    translate = Interpreter(model_path=str(path)).get_signature_runner("translate")
    assert translate(image=np.zeros((0, 16, 16, 3), np.uint8))["image"].shape == (0, 16, 16, 3)


@pytest.fixture(scope="module")
def mnist_sized_cgan(tmp_path_factory):
    """The version folder of a ConditionalGAN of MNIST's image size: the registry's
    16 px models are so small that their .tflite files are mostly fixed overhead,
    which quantization does not shrink."""
    model = tfgan_zoo.ConditionalGAN(latent_dim=16, num_classes=3, g_filters=4, d_filters=4)
    return export.save(model, tmp_path_factory.mktemp("mnist_sized") / "cgan")


@pytest.fixture(scope="module")
def mnist_sized_float32_tflite(mnist_sized_cgan, tmp_path_factory):
    """Its unquantized conversion: the size the quantized ones are compared with."""
    return tflite.convert(mnist_sized_cgan, output=tmp_path_factory.mktemp("float32") / "model.tflite")


# Measured on this untrained CGAN (max / mean diff): float16 0 / 0, dynamic-int8 1 / 0.002. Its
# images stay near mid-grey; trained ones differ more under int8 (BENCHMARKS.md: max 19, mean 0.23).
@pytest.mark.parametrize("quantization, max_mean_diff", [("float16", 0.02), ("dynamic-int8", 0.1)])
def test_quantized_models_convert_and_run(mnist_sized_cgan, mnist_sized_float32_tflite, tmp_path, quantization,
                                         max_mean_diff):
    path = tflite.convert(mnist_sized_cgan, quantization=quantization, output=tmp_path / "model.tflite")
    assert path.stat().st_size < 0.75 * mnist_sized_float32_tflite.stat().st_size
    check = tflite.compare(mnist_sized_cgan, path, samples=8)
    assert check["mean_diff"] <= max_mean_diff and check["within_one"] >= 0.9, check


def test_bf16_model_converts_through_its_float32_export(bf16_cgan, tmp_path):
    version = export.save(bf16_cgan, tmp_path / "generator")
    check = tflite.compare(version, tflite.convert(version), samples=8)
    assert check["within_one"] >= 0.99, check


def test_bf16_export_fails_naming_the_ops_and_the_fix(bf16_cgan, tmp_path):
    version = export.save(bf16_cgan, tmp_path / "generator", precision="training")
    with pytest.raises(RuntimeError, match=r"tf\.MatMul.*precision=\"float32\""):
        tflite.convert(version)


def test_sample_signature_fails_pointing_to_generate(family_exports):
    with pytest.raises(RuntimeError, match=r"StatelessRandom.*convert 'generate'"):
        tflite.convert(family_exports["dcgan"][1], "sample")


def test_bad_arguments_get_clear_errors(family_exports, tmp_path):
    with pytest.raises(ValueError, match=r"no signature 'translate'; it has 'generate', 'sample'"):
        tflite.convert(family_exports["cgan"][1], "translate")
    with pytest.raises(ValueError, match=r"quantization must be one of \('none', 'float16', 'dynamic-int8'\)"):
        tflite.convert(family_exports["cgan"][1], quantization="int4")
    with pytest.raises(FileNotFoundError, match="No export at"):
        tflite.convert(tmp_path / "missing")
    foreign = shutil.copytree(family_exports["dcgan"][1], tmp_path / "foreign")
    (foreign / export.METADATA_FILE).unlink()
    with pytest.raises(FileNotFoundError, match="not a tfgan_zoo export"):
        tflite.convert(foreign)


def test_cli_converts_and_reports_the_check(family_exports, tmp_path, capsys):
    out = tmp_path / "a_to_b.tflite"
    tflite.main([str(family_exports["cyclegan"][1].parent), "--quantization", "float16", "--out", str(out), "--samples", "4"])
    path_line, size_line, check_line, time_line = capsys.readouterr().out.strip().splitlines()
    assert path_line == str(out) and out.is_file()
    assert size_line.startswith("size: ") and "(SavedModel: " in size_line
    assert check_line.startswith("against the SavedModel on 4 inputs: max |diff| ")
    assert "of pixel values within 1 level" in check_line
    assert time_line.startswith("time per image: TFLite ")


def test_cli_never_overwrites_a_file_it_did_not_write_and_rewrites_its_own(family_exports, tmp_path, monkeypatch):
    version = family_exports["dcgan"][1]
    out = tmp_path / "model.tflite"
    tflite.main([str(version), "--out", str(out), "--samples", "1"])
    assert tflite.read_tflite_metadata(out) == export.file_metadata(export.read_metadata(version), "generate")
    tflite.main([str(version), "--out", str(out), "--samples", "1"])  # its own output: rewritten
    assert not list(tmp_path.glob(".*.tmp"))
    mine = tmp_path / "mine.tflite"
    mine.write_bytes(out.read_bytes()[:8] + b"a model converted elsewhere")
    link = tmp_path / "link.tflite"
    link.symlink_to(out)
    # Found before the conversion, which must not be reached.
    monkeypatch.setattr(tflite.tf.lite.TFLiteConverter, "from_saved_model", interrupt)
    assert_one_line_failure(tflite.main, [version, "--out", mine],
                            f"{mine} exists and is not a .tflite model that tfgan_zoo wrote",
                            "Choose another output file (--out), or delete or move this one yourself first.")
    assert mine.read_bytes().endswith(b"a model converted elsewhere")
    assert_one_line_failure(tflite.main, [version, "--out", link], f"{link} is a link")
    assert link.is_symlink() and tflite.read_tflite_metadata(out) is not None


def test_cli_error_is_one_line(family_exports):
    assert_one_line_failure(tflite.main, [family_exports["pix2pix"][1], "--signature", "sample"], "no signature 'sample'")


def test_cli_ends_a_missing_export_in_one_line(tmp_path):
    assert_one_line_failure(tflite.main, [tmp_path / "missing"], f"No export at {tmp_path / 'missing'}")


def test_cli_ends_a_folder_given_as_the_file_in_one_line_before_converting(family_exports, tmp_path, monkeypatch):
    monkeypatch.setattr(tflite.tf.lite.TFLiteConverter, "from_saved_model", interrupt)  # must not be reached
    assert_one_line_failure(tflite.main, [family_exports["dcgan"][1], "--out", tmp_path],
                            f"{tmp_path} is a folder where a file is expected")


def test_cli_ends_a_permission_error_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(tflite, "latest_export", permission_denied(tmp_path / "export"))
    assert_one_line_failure(tflite.main, [tmp_path / "export"], f"{tmp_path / 'export'}: permission denied")


def test_ctrl_c_while_converting_ends_with_its_message(tmp_path, monkeypatch):
    monkeypatch.setattr(tflite, "latest_export", lambda path: path)
    monkeypatch.setattr(tflite, "convert", interrupt)
    assert exit_of(tflite.main, [tmp_path / "export"]) == (1, commands.INTERRUPTED)


def test_cli_refuses_a_check_on_no_inputs_as_a_usage_error(tmp_path):
    # Found before anything loads: a check on an empty batch would fail after the conversion.
    assert exit_of(tflite.main, [tmp_path / "export", "--samples", "0"])[0] == 2
