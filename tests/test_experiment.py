"""The experiment script end to end: run, kill -9, re-run resumes."""

import json
import os
import signal
import subprocess
import sys
import time

import keras
import pytest
import tensorflow as tf
from conftest import REPO

import tfgan_zoo
from tfgan_zoo import metrics
from tfgan_zoo.data import load_idx_dataset
from tfgan_zoo.export import latest_export

TINY = ["--steps-per-epoch", "4", "--batch-size", "16", "--g-filters", "8", "--d-filters", "8",
        "--latent-dim", "16", "--precision", "float32", "--verbose", "2", "--eval-every", "0"]


def command(run_dir, data_dir, epochs):
    return [sys.executable, str(REPO / "experiments" / "cgan_mnist.py"), "--out", str(run_dir),
            "--data-dir", str(data_dir), "--epochs", str(epochs), *TINY]


def saved_epoch(run_dir):
    path = run_dir / "checkpoints" / "training_metadata.json"
    try:
        return json.loads(path.read_text())["epoch"]
    except (OSError, ValueError, KeyError):
        return 0


def test_kill_and_resume(tmp_path, data_dir):
    run_dir = tmp_path / "run"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(command(run_dir, data_dir, 1000), env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 240
        while saved_epoch(run_dir) < 2 and time.time() < deadline and process.poll() is None:
            time.sleep(0.2)
        assert saved_epoch(run_dir) >= 2, "no checkpoint written in time"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    done = saved_epoch(run_dir)
    target = done + 1
    out = subprocess.run(command(run_dir, data_dir, target), env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"Epoch {target}/{target}" in out.stdout
    assert "Epoch 1/" not in out.stdout, "the re-run started over instead of resuming"
    assert saved_epoch(run_dir) == target

    # Optimizer state came back: its step counter covers every epoch.
    gan = tfgan_zoo.ConditionalGAN(latent_dim=16, num_classes=10, g_filters=8, d_filters=8)
    gan.compile(d_optimizer=keras.optimizers.Adam(), g_optimizer=keras.optimizers.Adam())
    gan.load_weights(run_dir / "checkpoints" / "latest.weights.h5")
    assert int(gan.d_optimizer.iterations) == 4 * target
    assert int(gan.g_optimizer.iterations) == 4 * target

    assert (run_dir / "samples" / f"epoch_{target:03d}.png").exists()
    assert (run_dir / "logs" / "training.csv").read_text().count("\n") >= target + 1
    served = tf.saved_model.load(str(latest_export(run_dir / "export" / "generator"))).signatures["sample"]
    images = served(labels=tf.range(10), seed=tf.constant(0))["images"]
    assert images.shape == (10, 28, 28, 1) and images.dtype == tf.uint8


def test_other_settings_in_same_run_dir_are_refused(tmp_path, data_dir):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps({"model": "ConditionalGAN", "g_filters": 64}))
    out = subprocess.run(command(run_dir, data_dir, 1), capture_output=True, text=True, timeout=300,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert out.returncode != 0
    assert "other settings" in out.stderr and "g_filters" in out.stderr


def test_missing_data_dir_fails_with_instructions(tmp_path):
    out = subprocess.run(
        [sys.executable, str(REPO / "experiments" / "cgan_mnist.py"), "--out", str(tmp_path / "r"),
         "--data-dir", str(tmp_path / "missing"), *TINY],
        capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert out.returncode != 0
    assert "train-images-idx3-ubyte.gz" in out.stderr and "--data-dir" in out.stderr


def test_evaluation_keeps_best_epoch_and_report_shows_it(tmp_path, data_dir):
    # A quickly trained classifier in the cache stands in for the real one
    # (which takes a minute or two): this test is about the wiring.
    images, labels = load_idx_dataset("mnist", "train", data_dir)
    metrics.domain_classifier(images[:2000], labels[:2000], 10, cache_path=tmp_path / "cache" / "mnist_classifier.keras",
                              epochs=1)
    run_dir = tmp_path / "run"
    flags = [*TINY[:-2], "--eval-every", "1", "--eval-samples", "200", "--cache-dir", str(tmp_path / "cache")]
    out = subprocess.run(
        [sys.executable, str(REPO / "experiments" / "cgan_mnist.py"), "--out", str(run_dir),
         "--data-dir", str(data_dir), "--epochs", "2", *flags],
        capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    header = (run_dir / "logs" / "training.csv").read_text().splitlines()[0].split(",")
    for column in ("domain_fid", "domain_kid", "domain_precision", "label_accuracy", "g_grad_norm", "sample_diversity"):
        assert column in header
    best = json.loads((run_dir / "best" / "best.json").read_text())
    assert best["epoch"] in (1, 2) and best["monitor"] == "domain_fid"
    assert best["protocol"]["num_samples"] == 200 and best["protocol"]["real_floor"]["domain_fid"] < best["value"]
    served = tf.saved_model.load(str(latest_export(run_dir / "export" / "best_generator"))).signatures["sample"]
    assert served(labels=tf.range(3), seed=tf.constant(0))["images"].shape == (3, 28, 28, 1)

    report = subprocess.run([sys.executable, "-m", "tfgan_zoo.report", str(run_dir)], capture_output=True,
                            text=True, timeout=120, cwd=REPO)
    assert report.returncode == 0, report.stderr[-2000:]
    page = (run_dir / "report.html").read_text()
    assert "domain_fid" in page and "label_accuracy" in page and "data:image/png;base64," in page


def run_twice_resuming(script, run_dir, data_dir, flags):
    """Runs an experiment for 1 epoch, then again for 2: the second run must resume at epoch 2."""
    for epochs in (1, 2):
        out = subprocess.run(
            [sys.executable, str(REPO / "experiments" / script), "--out", str(run_dir), "--data-dir", str(data_dir),
             "--epochs", str(epochs), "--precision", "float32", "--verbose", "2", *flags],
            capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
        assert out.returncode == 0, out.stderr[-3000:]
    assert "Epoch 2/2" in out.stdout and "Epoch 1/" not in out.stdout, "the re-run did not resume"


def facades_dir(data_dir):
    if not (data_dir / "facades" / "val").is_dir():
        pytest.skip("facades not found in the shared data folder")
    return data_dir


def test_pix2pix_facades_run_writes_gallery_scores_export_and_resumes(tmp_path, data_dir):
    data_dir = facades_dir(data_dir)
    run_dir = tmp_path / "run"

    run_twice_resuming("pix2pix_facades.py", run_dir, data_dir, [
        "--image-size", "32", "--g-filters", "4", "--d-filters", "4", "--steps-per-epoch", "3",
        "--eval-samples", "8"])

    rows = (run_dir / "logs" / "training.csv").read_text().splitlines()
    header = rows[0].split(",")
    assert len(rows) == 3 and {"val_l1", "val_psnr", "val_ssim", "g_l1"} <= set(header)
    val_l1 = [float(row.split(",")[header.index("val_l1")]) for row in rows[1:]]
    assert all(0.0 < value < 2.0 for value in val_l1)
    assert (run_dir / "samples" / "epoch_002.png").exists()
    page = (run_dir / "gallery" / "index.html").read_text()
    assert page.count("<img") >= 100  # every validation pair of facades/val
    served = tf.saved_model.load(str(latest_export(run_dir / "export" / "translator"))).signatures["translate"]
    photos = served(image=tf.zeros([2, 32, 32, 3], tf.uint8))["image"]
    assert photos.shape == (2, 32, 32, 3) and photos.dtype == tf.uint8


def test_cyclegan_horse2zebra_run_scores_writes_gallery_export_and_resumes(tmp_path, data_dir):
    if not (data_dir / "horse2zebra" / "trainB").is_dir():
        pytest.skip("horse2zebra not found in the shared data folder")
    # A classifier trained for one epoch in the cache stands in for the real one: this is about the wiring.
    cache = tmp_path / "cache"
    few_a, few_b, _, _ = tfgan_zoo.data.load_unpaired(data_dir / "horse2zebra", 32, "train", limit=64)
    metrics.translation_classifier(few_a, few_b, cache_path=cache / "horse2zebra_32px_classifier.keras", epochs=1)
    run_dir = tmp_path / "run"

    run_twice_resuming("cyclegan_horse2zebra.py", run_dir, data_dir, [
        "--image-size", "32", "--filters", "4", "--num-blocks", "1", "--steps-per-epoch", "2",
        "--eval-every", "1", "--eval-samples", "12", "--cache-dir", str(cache)])

    rows = (run_dir / "logs" / "training.csv").read_text().splitlines()
    header = rows[0].split(",")
    assert len(rows) == 3
    for column in ("cycle", "identity", "d_a_loss", "a_to_b_fid", "b_to_a_target_share", "cycle_l1_a"):
        assert column in header
    share = float(rows[-1].split(",")[header.index("a_to_b_target_share")])
    assert 0.0 <= share <= 1.0
    assert (run_dir / "samples" / "epoch_002.png").exists()
    page = (run_dir / "gallery" / "index.html").read_text()
    assert "A → B → A" in page and page.count("<img") == 200  # 100 held-out pictures per domain
    served = tf.saved_model.load(str(latest_export(run_dir / "export" / "translators")))
    for name in ("a_to_b", "b_to_a"):
        out = served.signatures[name](image=tf.zeros([1, 32, 32, 3], tf.uint8))["image"]
        assert out.shape == (1, 32, 32, 3) and out.dtype == tf.uint8
