"""What an export's readers and signatures do with what they were not made for:
folder names that only look like versions, damaged versions, seeds beyond
int32 and requests over the batch cap."""

import logging
import re
import shutil

import numpy as np
import pytest
import tensorflow as tf
from families import FAMILIES, expected_images

from tfgan_zoo import export

MAX_BATCH = 4


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """``{family: (model, base path, signatures)}``: a generator, a conditional one and a
    translator, each exported once with ``max_batch=MAX_BATCH``."""
    root = tmp_path_factory.mktemp("limits")
    exported = {}
    for name in ("dcgan", "cgan", "pix2pix"):
        model = FAMILIES[name].build()
        version = export.save(model, root / name, max_batch=MAX_BATCH)
        exported[name] = (model, root / name, tf.saved_model.load(str(version)).signatures)
    return exported


def test_folders_that_only_look_numbered_are_not_versions(exports, tmp_path):
    base = tmp_path / "base"
    shutil.copytree(exports["dcgan"][1], base)
    for name in ("²", "٣", "1.5", "-2"):  # "²" and "٣" are digits to str.isdigit, not to int()
        (base / name).mkdir()
    assert [path.name for path in export.version_dirs(base)] == ["1"]
    assert export.latest_export(base) == base / "1"


def test_damaged_versions_are_skipped_with_a_warning_naming_them(exports, tmp_path, caplog):
    base = tmp_path / "base"
    shutil.copytree(exports["dcgan"][1], base)
    (base / "7").mkdir()  # no saved_model.pb
    shutil.copytree(base / "1", base / "8")
    pb = base / "8" / "saved_model.pb"
    pb.write_bytes(pb.read_bytes()[: pb.stat().st_size // 2])  # truncated
    shutil.copytree(base / "1", base / "9")
    (base / "9" / export.METADATA_FILE).unlink()
    with caplog.at_level(logging.WARNING, logger="tfgan_zoo.export"):
        assert export.latest_export(base) == base / "1"
        assert export.read_metadata(base)["family"] == "DCGAN"
    problems = {"9": "no readable tfgan_zoo.json", "8": "truncated", "7": "no readable saved_model.pb"}
    for version, problem in problems.items():
        assert f"Skipping export version {base / version}: it" in caplog.text and problem in caplog.text
    shutil.rmtree(base / "1")
    with pytest.raises(FileNotFoundError, match=f"No whole export at {re.escape(str(base))}: every version"):
        export.latest_export(base)


def test_seeds_beyond_int32_give_their_own_images(exports):
    model, _, signatures = exports["dcgan"]
    seed_spec = signatures["sample"].structured_input_signature[1]["seed"]
    assert seed_spec.dtype == tf.int64
    images = {seed: signatures["sample"](num_samples=tf.constant(2), seed=tf.constant(seed, tf.int64))["images"].numpy()
              for seed in (0, 2**32, 2**40 + 3)}
    assert not np.array_equal(images[0], images[2**32])  # an int32 seed made these the same
    inputs = {"num_samples": np.int32(2), "seed": np.int64(2**40 + 3)}
    assert np.abs(images[2**40 + 3].astype(int) - expected_images(model, "sample", inputs).astype(int)).max() <= 1


def over_the_cap(name, model, count):
    """``{signature: inputs}`` asking ``name``'s export for ``count`` images through each of its signatures."""
    if name == "pix2pix":
        return {"translate": {"image": np.zeros((count, model.image_size, model.image_size, 3), np.uint8)}}
    noise = np.zeros((count, model.latent_dim), np.float32)
    if name == "cgan":
        labels = np.zeros(count, np.int32)
        return {"generate": {"noise": noise, "labels": labels}, "sample": {"labels": labels, "seed": np.int64(0)}}
    return {"generate": {"noise": noise}, "sample": {"num_samples": np.int32(count), "seed": np.int64(0)}}


@pytest.mark.parametrize("name", ["dcgan", "cgan", "pix2pix"])
def test_requests_over_the_batch_cap_are_refused_with_the_cap_and_the_fix(exports, name):
    model, base, signatures = exports[name]
    assert export.read_metadata(base)["max_batch"] == MAX_BATCH
    for signature, inputs in over_the_cap(name, model, MAX_BATCH).items():
        (images,) = signatures[signature](**{key: tf.constant(value) for key, value in inputs.items()}).values()
        assert images.shape[0] == MAX_BATCH
    for signature, inputs in over_the_cap(name, model, MAX_BATCH + 1).items():
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=rf"at most {MAX_BATCH} images \(the max_batch of this export\).*max_batch=N"):
            signatures[signature](**{key: tf.constant(value) for key, value in inputs.items()})


def test_a_huge_sample_request_is_refused_before_anything_is_allocated(exports):
    _, _, signatures = exports["dcgan"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="at most 4 images"):
        signatures["sample"](num_samples=tf.constant(2**31 - 1), seed=tf.constant(0, tf.int64))


@pytest.mark.parametrize("max_batch", [0, -1, 2.5, True, "8"])
def test_max_batch_must_be_a_positive_whole_number(tmp_path, max_batch):
    with pytest.raises(ValueError, match="max_batch must be a whole number of images, at least 1"):
        export.save(FAMILIES["dcgan"].build(), tmp_path / "x", max_batch=max_batch)
    assert not (tmp_path / "x").exists()
