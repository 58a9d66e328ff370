"""The own-images experiments end to end on tiny settings: dcgan_folder.py on a
crafted folder, cgan_anime.py on a subset of the shared anime faces."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from conftest import REPO, shared_data_dir, write_image

from tfgan_zoo.export import latest_export, read_metadata

TINY = ["--image-size", "16", "--steps-per-epoch", "3", "--batch-size", "8", "--g-filters", "8",
        "--d-filters", "8", "--latent-dim", "8", "--precision", "float32", "--verbose", "2",
        "--eval-every", "2", "--eval-samples", "64", "--classifier-epochs", "1"]


def run_script(name, *args, timeout=420):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, str(REPO / "experiments" / name), *args],
                         env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return out


def test_dcgan_folder_trains_evaluates_and_exports(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(24):
        size = (20 + i, 30, 3) if i % 2 else (30, 20 + i)  # colour and grey, mixed sizes
        write_image(tmp_path / "pictures" / f"set{i % 3}" / f"{i}.png", rng.integers(0, 256, size, dtype=np.uint8))
    (tmp_path / "pictures" / "bad.jpg").write_bytes(b"garbage")
    run_dir = tmp_path / "run"
    out = run_script("dcgan_folder.py", "--images", str(tmp_path / "pictures"), "--out", str(run_dir),
                     "--epochs", "2", "--cache-dir", str(tmp_path / "cache"), *TINY)
    assert "Skipped 1 unreadable file(s)" in out.stdout and "bad.jpg" in out.stdout
    assert "24 images" in out.stdout
    for path in ("samples/epoch_002.png", "interpolation.png", "logs/training.csv", "best/best.json"):
        assert (run_dir / path).exists(), path
    best = json.loads((run_dir / "best" / "best.json").read_text())
    assert np.isfinite(best["figures"]["domain_fid"]) and "rotation" in best["protocol"]["reference_split"]
    exported = tf.saved_model.load(str(latest_export(run_dir / "export" / "generator")))
    images = exported.signatures["sample"](num_samples=tf.constant(3), seed=tf.constant(1))["images"]
    assert images.shape == (3, 16, 16, 3) and images.dtype == tf.uint8
    metadata = read_metadata(run_dir / "export" / "generator")
    assert metadata["weights"] == "ema"


def test_dcgan_folder_strict_stops_on_a_corrupt_file(tmp_path):
    write_image(tmp_path / "pictures" / "ok.png", np.zeros((16, 16, 3), np.uint8))
    (tmp_path / "pictures" / "bad.jpg").write_bytes(b"garbage")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, str(REPO / "experiments" / "dcgan_folder.py"), "--images",
                          str(tmp_path / "pictures"), "--strict", "--out", str(tmp_path / "run"), *TINY],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "bad.jpg" in out.stderr


def test_cgan_anime_on_a_subset(tmp_path):
    data = shared_data_dir()
    if data is None or not (data / "anime_faces" / "tags.csv").exists():
        pytest.skip("anime_faces not found: set TFGAN_ZOO_DATA to the shared data folder")
    run_dir = tmp_path / "run"
    out = run_script("cgan_anime.py", "--data-dir", str(data), "--subset", "240", "--out", str(run_dir),
                     "--epochs", "2", "--cache-dir", str(tmp_path / "cache"), *TINY)
    assert "240 images" in out.stdout and "12 classes" in out.stdout
    config = json.loads((run_dir / "config.json").read_text())
    assert config["class_names"][:3] == ["aqua", "black", "blonde"]
    assert read_metadata(run_dir / "export" / "generator")["class_names"] == config["class_names"]
    best = json.loads((run_dir / "best" / "best.json").read_text())
    assert 0.0 <= best["figures"]["label_accuracy"] <= 1.0
    exported = tf.saved_model.load(str(latest_export(run_dir / "export" / "generator")))
    images = exported.signatures["sample"](labels=tf.constant([0, 11]), seed=tf.constant(0))["images"]
    assert images.shape == (2, 16, 16, 3)
    assert (run_dir / "interpolation.png").exists()
