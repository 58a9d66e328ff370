"""The experiment scripts end to end: evaluation, best epoch and report; the
pix2pix and CycleGAN runs with gallery and export; a missing data folder.
(Kills at random moments and their resumes: test_run_safety.py; a resumed
CycleGAN run: test_multiworker.py.)"""

import json

import pytest
import tensorflow as tf
from conftest import REPO, run_script

import tfgan_zoo
from tfgan_zoo import metrics
from tfgan_zoo.data import load_idx_dataset
from tfgan_zoo.experiment.evaluators import domain_network_key, translation_network_key
from tfgan_zoo.export import latest_export
from tfgan_zoo.presets import making, quality
from tfgan_zoo.report import build_report

TINY = ["--steps-per-epoch", "4", "--batch-size", "16", "--g-filters", "8", "--d-filters", "8",
        "--latent-dim", "16", "--precision", "float32", "--verbose", "2", "--eval-every", "0"]


def test_missing_data_dir_fails_with_instructions(tmp_path):
    with pytest.raises(SystemExit) as stop:
        run_script(REPO / "experiments" / "cgan_mnist.py", "--out", tmp_path / "r",
                   "--data-dir", tmp_path / "missing", *TINY)
    message = str(stop.value.code)
    assert message.startswith("error: ") and "train-images-idx3-ubyte.gz" in message and "--data-dir" in message


def test_evaluation_keeps_best_epoch_and_report_shows_it(tmp_path, data_dir):
    # A quickly trained classifier in the cache stands in for the real one
    # (which takes a minute or two): this test is about the wiring.
    images, labels = load_idx_dataset("mnist", "train", data_dir)
    key = domain_network_key("mnist", images, labels)  # what the run will look for
    quick = metrics.domain_classifier(images[:2000], labels[:2000], 10, epochs=1)
    metrics.keep_classifier(quick, tmp_path / "cache" / f"{key}.keras", key)
    run_dir = tmp_path / "run"
    flags = [*TINY[:-2], "--eval-every", "1", "--eval-samples", "200", "--cache-dir", str(tmp_path / "cache")]
    run_script(REPO / "experiments" / "cgan_mnist.py", "--out", run_dir, "--data-dir", data_dir, "--epochs", "2", *flags)
    header = (run_dir / "logs" / "training.csv").read_text().splitlines()[0].split(",")
    for column in ("domain_fid", "domain_kid", "domain_precision", "label_accuracy", "g_grad_norm", "sample_diversity"):
        assert column in header
    best = json.loads((run_dir / "best" / "best.json").read_text())
    assert best["epoch"] in (1, 2) and best["monitor"] == "domain_fid"
    assert best["protocol"]["num_samples"] == 200 and best["protocol"]["real_floor"]["domain_fid"] < best["value"]
    served = tf.saved_model.load(str(latest_export(run_dir / "export" / "best_generator"))).signatures["sample"]
    assert served(labels=tf.range(3), seed=tf.constant(0, tf.int64))["images"].shape == (3, 28, 28, 1)

    build_report(run_dir)  # its command line: test_report.py
    page = (run_dir / "report.html").read_text()
    assert "domain_fid" in page and "label_accuracy" in page and "data:image/png;base64," in page


def facades_dir(data_dir):
    if not (data_dir / "facades" / "val").is_dir():
        pytest.skip("facades not found in the shared data folder")
    return data_dir


def run_experiment(script, run_dir, data_dir, flags, epochs=1):
    run_script(REPO / "experiments" / script, "--out", run_dir, "--data-dir", data_dir, "--epochs", epochs,
               "--precision", "float32", "--verbose", "2", *flags)


def test_pix2pix_facades_run_writes_gallery_scores_and_export(tmp_path, data_dir):
    # Resuming is the same code for every script: test_run_safety.py kills and resumes
    # DCGAN runs, and test_multiworker.py a CycleGAN run.
    data_dir = facades_dir(data_dir)
    run_dir = tmp_path / "run"

    run_experiment("pix2pix_facades.py", run_dir, data_dir, [
        "--image-size", "32", "--g-filters", "4", "--d-filters", "4", "--steps-per-epoch", "3",
        "--eval-samples", "8"])

    rows = (run_dir / "logs" / "training.csv").read_text().splitlines()
    header = rows[0].split(",")
    assert len(rows) == 2 and {"val_l1", "val_psnr", "val_ssim", "g_l1"} <= set(header)
    val_l1 = [float(row.split(",")[header.index("val_l1")]) for row in rows[1:]]
    assert all(0.0 < value < 2.0 for value in val_l1)
    assert (run_dir / "samples" / "epoch_001.png").exists()
    page = (run_dir / "gallery" / "index.html").read_text()
    assert page.count("<img") >= 100  # every validation pair of facades/val
    served = tf.saved_model.load(str(latest_export(run_dir / "export" / "translator"))).signatures["translate"]
    photos = served(image=tf.zeros([2, 32, 32, 3], tf.uint8))["image"]
    assert photos.shape == (2, 32, 32, 3) and photos.dtype == tf.uint8


def test_cyclegan_horse2zebra_run_scores_writes_gallery_and_export(tmp_path, data_dir):
    if not (data_dir / "horse2zebra" / "trainB").is_dir():
        pytest.skip("horse2zebra not found in the shared data folder")
    # A classifier trained for one epoch in the cache stands in for the real one: this is about the wiring.
    cache = tmp_path / "cache"
    train_a, train_b, _, _ = tfgan_zoo.data.load_unpaired(data_dir / "horse2zebra", 32, "train", 20,
                                                          cache_dir=cache / "decoded")  # as the run reads it
    key = translation_network_key("horse2zebra", (train_a, train_b), seed=0)
    quick = metrics.translation_classifier(train_a[:64], train_b[:64], epochs=1)
    metrics.keep_classifier(quick, cache / f"{key}.keras", key)
    run_dir = tmp_path / "run"

    run_experiment("cyclegan_horse2zebra.py", run_dir, data_dir, [
        "--image-size", "32", "--filters", "4", "--num-blocks", "1", "--steps-per-epoch", "2",
        "--eval-every", "1", "--eval-samples", "12", "--val-count", "20", "--cache-dir", str(cache)])

    rows = (run_dir / "logs" / "training.csv").read_text().splitlines()
    header = rows[0].split(",")
    assert len(rows) == 2
    for column in ("cycle", "identity", "d_a_loss", "a_to_b_fid", "b_to_a_target_share", "cycle_l1_a"):
        assert column in header
    share = float(rows[-1].split(",")[header.index("a_to_b_target_share")])
    assert 0.0 <= share <= 1.0
    assert (run_dir / "samples" / "epoch_001.png").exists()
    page = (run_dir / "gallery" / "index.html").read_text()
    assert "A → B → A" in page and page.count("<img") == 40  # 20 held-out pictures per domain
    served = tf.saved_model.load(str(latest_export(run_dir / "export" / "translators")))
    for name in ("a_to_b", "b_to_a"):
        out = served.signatures[name](image=tf.zeros([1, 32, 32, 3], tf.uint8))["image"]
        assert out.shape == (1, 32, 32, 3) and out.dtype == tf.uint8

    # The final scores and the network that measured them are recorded: a preset made of the run
    # (its learning-rate schedule recorded by kind and initial rate only) ships that network and
    # measures its card's share again on the same validation pictures.
    final = json.loads((run_dir / "evaluation.json").read_text())
    assert final["figures"]["a_to_b_target_share"] == share and final["protocol"]["network_key"] == key
    preset = making.make(run_dir, "tiny_horse2zebra", tmp_path / "preset")
    assert "evaluator.keras" in preset.checksums and "LinearDecay schedule" in preset.card()
    result = quality.reproduce(tfgan_zoo.from_preset(tmp_path / "preset"), data_dir=data_dir)
    assert result["num_samples"] == 12 and abs(result["measured"] - share) <= result["tolerance"], result
