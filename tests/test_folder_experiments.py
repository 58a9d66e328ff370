"""The own-images experiments end to end on tiny settings: dcgan_folder.py on a
crafted folder, cgan_anime.py on a subset of the shared anime faces."""

import json

import numpy as np
import pytest
import tensorflow as tf
from conftest import REPO, run_script, shared_data_dir, write_image

from tfgan_zoo.export import latest_export, read_metadata

TINY = ["--image-size", "16", "--steps-per-epoch", "3", "--batch-size", "8", "--g-filters", "8",
        "--d-filters", "8", "--latent-dim", "8", "--precision", "float32", "--verbose", "2",
        "--eval-every", "2", "--eval-samples", "64", "--classifier-epochs", "1"]


def script_output(capsys, name, *args) -> str:
    """What ``python experiments/NAME ARGS`` prints, run in this process."""
    run_script(REPO / "experiments" / name, *args)
    return capsys.readouterr().out


def test_dcgan_folder_trains_evaluates_and_exports(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for i in range(24):
        size = (20 + i, 30, 3) if i % 2 else (30, 20 + i)  # colour and grey, mixed sizes
        write_image(tmp_path / "pictures" / f"set{i % 3}" / f"{i}.png", rng.integers(0, 256, size, dtype=np.uint8))
    (tmp_path / "pictures" / "bad.jpg").write_bytes(b"garbage")
    run_dir = tmp_path / "run"
    out = script_output(capsys, "dcgan_folder.py", "--images", tmp_path / "pictures", "--out", run_dir,
                        "--epochs", "2", "--cache-dir", tmp_path / "cache", *TINY)
    assert "Skipped 1 unreadable file(s)" in out and "bad.jpg" in out
    assert "24 images" in out
    for path in ("samples/epoch_002.png", "interpolation.png", "logs/training.csv", "best/best.json"):
        assert (run_dir / path).exists(), path
    best = json.loads((run_dir / "best" / "best.json").read_text())
    assert np.isfinite(best["figures"]["domain_fid"]) and "rotation" in best["protocol"]["reference_split"]
    exported = tf.saved_model.load(str(latest_export(run_dir / "export" / "generator")))
    images = exported.signatures["sample"](num_samples=tf.constant(3), seed=tf.constant(1, tf.int64))["images"]
    assert images.shape == (3, 16, 16, 3) and images.dtype == tf.uint8
    metadata = read_metadata(run_dir / "export" / "generator")
    assert metadata["weights"] == "ema"


def test_dcgan_folder_strict_stops_on_a_corrupt_file(tmp_path):
    write_image(tmp_path / "pictures" / "ok.png", np.zeros((16, 16, 3), np.uint8))
    (tmp_path / "pictures" / "bad.jpg").write_bytes(b"garbage")
    with pytest.raises(SystemExit) as stop:
        run_script(REPO / "experiments" / "dcgan_folder.py", "--images", tmp_path / "pictures", "--strict",
                   "--out", tmp_path / "run", *TINY)
    assert str(stop.value.code).startswith("error: ") and "bad.jpg" in str(stop.value.code)


def test_cgan_anime_on_a_subset(tmp_path, capsys):
    data = shared_data_dir()
    if data is None or not (data / "anime_faces" / "tags.csv").exists():
        pytest.skip("anime_faces not found: set TFGAN_ZOO_DATA to the shared data folder")
    run_dir = tmp_path / "run"
    out = script_output(capsys, "cgan_anime.py", "--data-dir", data, "--subset", "240", "--out", run_dir,
                        "--epochs", "2", "--cache-dir", tmp_path / "cache", *TINY)
    assert "240 images" in out and "12 classes" in out
    config = json.loads((run_dir / "config.json").read_text())
    assert config["class_names"][:3] == ["aqua", "black", "blonde"]
    assert read_metadata(run_dir / "export" / "generator")["class_names"] == config["class_names"]
    best = json.loads((run_dir / "best" / "best.json").read_text())
    assert 0.0 <= best["figures"]["label_accuracy"] <= 1.0
    exported = tf.saved_model.load(str(latest_export(run_dir / "export" / "generator")))
    images = exported.signatures["sample"](labels=tf.constant([0, 11]), seed=tf.constant(0, tf.int64))["images"]
    assert images.shape == (2, 16, 16, 3)
    assert (run_dir / "interpolation.png").exists()
