"""TFLite models from the SavedModel exports of :mod:`tfgan_zoo.export`.

    python -m tfgan_zoo.tflite EXPORT_DIR [--signature NAME] [--quantization none|float16|dynamic-int8] [--out FILE]

converts one signature of an export (default: its first, ``generate``,
``translate`` or ``a_to_b``) to a ``.tflite`` file that uses TFLite builtin
ops only, then prints the file, its size and how far its images are from the
SavedModel's on a few seeded inputs.

Where it writes by default: version ``N`` of base path ``BASE`` (e.g.
``RUN/export/generator/3``) goes to ``BASE_tflite/N/<signature>_<quantization>.tflite``
(``RUN/export/generator_tflite/3/generate_none.tflite``), beside the base
path rather than in it, so a base path copied to a TF Serving host carries
no TFLite files; a SavedModel folder ``DIR`` outside that layout goes to
``DIR_tflite/``.

Quantization:

* ``"none"``: float32 weights and compute.
* ``"float16"``: float16 weights (half the size), dequantized to float32 when loaded.
* ``"dynamic-int8"``: int8 weights (a quarter of the size); activations are
  quantized on the fly where a kernel supports it. Its hybrid kernels ran
  40-50x slower than float32 on this project's x86 CPU (BENCHMARKS.md):
  measure on the target device before choosing it.

The file carries its export's metadata (family, sizes, class names and the
signature; :func:`read_tflite_metadata`) under the TFLite metadata name
``tfgan_zoo``: that marks it as the package's. ``convert`` replaces an
existing file only when it carries it, and stops before converting with an
error naming any other file (a model of yours, a link).

What the TFLite model does not keep from the SavedModel: the converter drops
the ``tf.debugging`` asserts, so the interpreter does not check inputs.
Out-of-range labels give images of no class, NaN noise white images, and
noise, labels or images of the wrong shape fail with an XNNPack "failed to
reshape" error; check inputs on the device. The ``sample`` signature does not
convert (TFLite builtins have no stateless random ops): convert ``generate``
and draw the noise on the device.

Calling the model: the signature keeps the SavedModel's input and output
names and its dynamic batch dimension, and the signature runner resizes the
inputs to each call's batch::

    from ai_edge_litert.interpreter import Interpreter
    generate = Interpreter(model_path="generate_none.tflite").get_signature_runner("generate")
    images = generate(noise=noise, labels=labels)["images"]   # noise float32 [B, latent], labels int32 [B]

``labels`` may also be one-hot rows, int32 ``[B, num_classes]``.

The lower-level tensor API (``set_tensor`` / ``invoke``) allocates batch 1:
call ``interpreter.resize_tensor_input(index, [B, ...])`` for every input,
then ``allocate_tensors()``, before feeding another batch size.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from tfgan_zoo.arguments import positive_int
from tfgan_zoo.commands import command_main
from tfgan_zoo.export import (
    METADATA_FILE, check_file_replaceable, file_metadata, latest_export, read_metadata, write_file,
)

QUANTIZATIONS = ("none", "float16", "dynamic-int8")
COMPARE_BATCH = 16  # bounds the memory of a comparison on 256 px translators
METADATA_NAME = "tfgan_zoo"  # of the TFLite metadata entry that holds the export's metadata
_TFLITE_IDENTIFIER = b"TFL3"  # at bytes 4-8 of every TFLite flatbuffer


# ------------------------------------------------------------------ export
def _export_metadata(version_dir: Path) -> dict:
    if not (version_dir / METADATA_FILE).is_file():
        raise FileNotFoundError(
            f"{version_dir} is a SavedModel but not a tfgan_zoo export (no {METADATA_FILE}): export it with "
            "tfgan_zoo.export.save, or convert it with tf.lite.TFLiteConverter."
        )
    return read_metadata(version_dir)


def _resolve_signature(metadata: dict, signature: str | None) -> str:
    available = metadata["signatures"]
    if signature is None:
        return available[0]
    if signature not in available:
        raise ValueError(f"The export has no signature {signature!r}; it has {', '.join(map(repr, available))}.")
    return signature


def default_output(version_dir: str | os.PathLike, signature: str, quantization: str) -> Path:
    """Where :func:`convert` writes ``signature`` of the SavedModel at ``version_dir`` by default."""
    version_dir = Path(version_dir)
    name = f"{signature}_{quantization}.tflite"
    if version_dir.name.isdigit():
        base = version_dir.parent
        return base.with_name(f"{base.name}_tflite") / version_dir.name / name
    return version_dir.with_name(f"{version_dir.name}_tflite") / name


def read_tflite_metadata(path: str | os.PathLike) -> dict | None:
    """The export metadata that :func:`convert` put in the ``.tflite`` file at ``path``;
    None when the file carries none (a model converted elsewhere, or not a TFLite file)."""
    from tensorflow.lite.python import schema_py_generated as schema

    data = Path(path).read_bytes()
    if data[4:8] != _TFLITE_IDENTIFIER:
        return None
    try:
        model = schema.Model.GetRootAs(data, 0)
        for index in range(model.MetadataLength()):
            entry = model.Metadata(index)
            if entry.Name() == METADATA_NAME.encode():
                return json.loads(model.Buffers(entry.Buffer()).DataAsNumpy().tobytes())
    except Exception:  # a damaged flatbuffer fails in any of flatbuffers' accessors
        return None
    return None


def check_output(output: Path, fix: str = "Choose another output file (--out), or delete or move this one "
                                          "yourself first.") -> None:
    """Stops a conversion before it starts when ``output`` is a folder, a link, or
    a file that the package did not write (:func:`read_tflite_metadata`)."""
    check_file_replaceable(output, lambda file: read_tflite_metadata(file) is not None, "a .tflite model", fix)


def _with_metadata(flatbuffer: bytes, metadata: dict) -> bytes:
    """``flatbuffer`` with ``metadata`` as its TFLite metadata entry ``tfgan_zoo``,
    as the converter adds its own conversion metadata."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(flatbuffer))
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(json.dumps(metadata).encode(), np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(model.buffers) - 1
    model.metadata = [*(model.metadata or []), entry]
    return flatbuffer_utils.convert_object_to_bytearray(model)


def folder_bytes(path: str | os.PathLike) -> int:
    """Total size of the files under ``path``."""
    return sum(file.stat().st_size for file in Path(path).rglob("*") if file.is_file())


# -------------------------------------------------------------- conversion
def _conversion_error(error: Exception, signature: str, metadata: dict) -> RuntimeError:
    ops = sorted({data.operator.name for data in getattr(error, "errors", []) if data.operator.name})
    failed = f"ops with no TFLite builtin kernel: {', '.join(ops)}" if ops else f"{type(error).__name__}: {error}"
    compute_dtype = metadata.get("compute_dtype")  # absent from exports older than the precision option
    if compute_dtype != "float32":
        fix = (
            f"The export computes in {compute_dtype or 'its training dtype'}, which these builtins do not take: "
            're-export with precision="float32" (the default of tfgan_zoo.export.save).'
        )
    elif signature == "sample":
        fix = "'sample' draws its noise with stateless random ops: convert 'generate' and draw the noise on the device."
    else:
        fix = "These ops need TensorFlow kernels (TF Select), which a builtins-only model cannot hold."
    return RuntimeError(f"Could not convert signature {signature!r} to TFLite builtins ({failed}). {fix}")


def convert(
    export_path: str | os.PathLike,
    signature: str | None = None,
    quantization: str = "none",
    output: str | os.PathLike | None = None,
) -> Path:
    """Converts ``signature`` of the export at ``export_path`` to a ``.tflite`` file; returns its path.

    Args:
        export_path: an export's base path (its newest version is converted) or version folder.
        signature: the signature to convert; default: the export's first
            (``generate``, ``translate`` or ``a_to_b``).
        quantization: ``"none"``, ``"float16"`` or ``"dynamic-int8"`` (see the module docstring).
        output: the file to write; default: :func:`default_output`. An existing
            file there is replaced only when this function wrote it.
    """
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {QUANTIZATIONS}, got {quantization!r}.")
    version_dir = latest_export(export_path)
    metadata = _export_metadata(version_dir)
    signature = _resolve_signature(metadata, signature)
    output = Path(output) if output is not None else default_output(version_dir, signature, quantization)
    check_output(output)  # before the conversion, which takes a while

    converter = tf.lite.TFLiteConverter.from_saved_model(str(version_dir), signature_keys=[signature])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantization != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "float16":
        converter.target_spec.supported_types = [tf.float16]
    try:
        flatbuffer = converter.convert()
    except Exception as error:  # the converter's error class is not public API
        raise _conversion_error(error, signature, metadata) from error

    write_file(output, _with_metadata(flatbuffer, file_metadata(metadata, signature)))
    return output


# -------------------------------------------------------------- comparison
def comparison_inputs(metadata: dict, signature: str, count: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded inputs of ``signature``: normal noise (and labels cycling over the
    classes) for a generator, random uint8 images for a translator."""
    rng = np.random.default_rng(seed)
    if "latent_dim" in metadata:
        inputs = {"noise": rng.standard_normal((count, metadata["latent_dim"]), dtype=np.float32)}
        if metadata["num_classes"]:
            inputs["labels"] = (np.arange(count) % metadata["num_classes"]).astype(np.int32)
        return inputs
    size, channels = metadata["image_size"], metadata["channels"][signature]["input"]
    return {"image": rng.integers(0, 256, (count, size, size, channels), dtype=np.uint8)}


def _interpreter(tflite_path: str | os.PathLike):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as error:
        raise ImportError("Running a .tflite model needs the LiteRT runtime: pip install ai-edge-litert") from error
    # All cores, as TensorFlow uses for the SavedModel: the timings compare like with like.
    return Interpreter(model_path=str(tflite_path), num_threads=os.cpu_count())


def compare(
    export_path: str | os.PathLike,
    tflite_path: str | os.PathLike,
    signature: str | None = None,
    samples: int = 16,
    seed: int = 0,
) -> dict:
    """Runs ``samples`` seeded inputs (:func:`comparison_inputs`) through the
    SavedModel and the TFLite model and measures the difference of their uint8 images.

    ``signature``: default: the TFLite model's only one. Returns
    ``{"samples", "max_diff", "mean_diff", "within_one", "saved_model_ms_per_image",
    "tflite_ms_per_image"}``: the largest and mean absolute difference in
    levels (0-255), the share of pixel values that differ by at most one
    level, and each model's time per image in batches of up to
    ``COMPARE_BATCH`` (after a warm-up call; a rough figure, not a benchmark).
    """
    if samples < 1:
        raise ValueError(f"samples must be at least 1, got {samples}.")
    interpreter = _interpreter(tflite_path)
    signature = signature or next(iter(interpreter.get_signature_list()))
    version_dir = latest_export(export_path)
    inputs = comparison_inputs(_export_metadata(version_dir), signature, samples, seed)
    lite = interpreter.get_signature_runner(signature)
    served = tf.saved_model.load(str(version_dir)).signatures[signature]

    def timed(function, batch):
        start = time.perf_counter()
        (images,) = function(**batch).values()
        return np.asarray(images), time.perf_counter() - start

    # The first calls trace the SavedModel function and allocate the interpreter's tensors.
    warmup = {name: value[:1] for name, value in inputs.items()}
    for function in (served, lite):
        timed(function, warmup)
    differences, served_seconds, lite_seconds = [], 0.0, 0.0
    for start in range(0, samples, COMPARE_BATCH):
        batch = {name: value[start:start + COMPARE_BATCH] for name, value in inputs.items()}
        expected, seconds = timed(served, batch)
        served_seconds += seconds
        actual, seconds = timed(lite, batch)
        lite_seconds += seconds
        differences.append(np.abs(actual.astype(np.int16) - expected.astype(np.int16)))
    difference = np.concatenate(differences)
    return {
        "samples": samples,
        "max_diff": int(difference.max()),
        "mean_diff": float(difference.mean()),
        "within_one": float(np.mean(difference <= 1)),
        "saved_model_ms_per_image": 1000 * served_seconds / samples,
        "tflite_ms_per_image": 1000 * lite_seconds / samples,
    }


# --------------------------------------------------------------------- CLI
@command_main
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tfgan_zoo.tflite",
        description="Converts a signature of a tfgan_zoo export to a .tflite file (TFLite builtin ops only) "
        "and checks its images against the SavedModel's."
    )
    parser.add_argument("export_dir", help="an export's base path (its newest version is used) or version folder")
    parser.add_argument("--signature", default=None, help="signature to convert (default: the export's first)")
    parser.add_argument("--quantization", choices=QUANTIZATIONS, default="none")
    parser.add_argument(
        "--out", default=None, help="file to write (default: BASE_tflite/N/SIGNATURE_QUANTIZATION.tflite); "
        "an existing file is replaced only when this command wrote it"
    )
    parser.add_argument(
        "--samples", type=positive_int, default=16, help="seeded inputs of the check against the SavedModel"
    )
    args = parser.parse_args(argv)
    # Resolved once: a version published meanwhile must not be the one compared.
    version_dir = latest_export(args.export_dir)
    path = convert(version_dir, args.signature, args.quantization, args.out)
    check = compare(version_dir, path, samples=args.samples)
    megabytes = 1 << 20
    print(path)
    print(
        f"size: {path.stat().st_size / megabytes:.2f} MB "
        f"(SavedModel: {folder_bytes(version_dir) / megabytes:.2f} MB)"
    )
    print(
        f"against the SavedModel on {check['samples']} inputs: max |diff| {check['max_diff']} levels, "
        f"mean {check['mean_diff']:.4f}, {check['within_one']:.2%} of pixel values within 1 level"
    )
    print(
        f"time per image: TFLite {check['tflite_ms_per_image']:.1f} ms, "
        f"SavedModel {check['saved_model_ms_per_image']:.1f} ms (batches of up to {COMPARE_BATCH})"
    )


if __name__ == "__main__":
    main()
