"""The HTML run report: content, embedded images, partial runs, the CLI and how it ends.

Its refusal of files linked from outside the run: test_safe_reading.py.
"""

import base64
import json
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest
from command_exits import assert_one_line_failure, exit_of, interrupt, permission_denied
from conftest import REPO

from tfgan_zoo import commands, report
from tfgan_zoo.visualize import save_image

CSV = """epoch,d_fake,d_loss,d_real,domain_kid,domain_kid_std,g_loss,val_d_loss
0,0.40,0.70,0.60,0.30,0.02,1.10,NA
1,0.30,0.60,0.70,NA,NA,1.30,NA
1,0.20,0.50,0.80,NA,NA,1.50,NA
2,0.15,0.45,0.85,0.20,0.01,1.70,NA
3,0.10,0.40,0.90,NA,NA,1.90,NA
4,0.1
"""
WARNING = {"epoch": 3, "condition": "d_overpowers_g", "message": "D wins <easily> & G stalls"}
IMAGE_URI = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]*)">')


def write_samples(run_dir, epochs):
    rng = np.random.default_rng(0)
    for epoch in epochs:
        save_image(run_dir / "samples" / f"epoch_{epoch:03d}.png", rng.integers(0, 256, (8, 8, 1), np.uint8))


@pytest.fixture
def run_dir(tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / "logs").mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps({"model": "DCGAN", "lr": 0.00012345, "note": "<b>&"}))
    (run_dir / "logs" / "training.csv").write_text(CSV)
    (run_dir / "logs" / "health.jsonl").write_text(json.dumps(WARNING) + "\nnot json <at all>\n")
    write_samples(run_dir, range(1, 5))
    return run_dir


def images(page):
    """``{alt: png bytes}`` of the page's images, each checked to decode as a PNG."""
    found = {}
    for data, alt in IMAGE_URI.findall(page):
        png = base64.b64decode(data)
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED) is not None
        found[alt] = png
    assert len(found) == page.count("<img"), "every image is an embedded PNG"
    return found


def test_read_log_keeps_last_row_per_epoch_and_skips_torn_lines(run_dir):
    epochs, columns, skipped = report.read_log(run_dir / "logs" / "training.csv")
    np.testing.assert_array_equal(epochs, [1, 2, 3, 4])  # Keras' 0-based epochs, shifted
    np.testing.assert_allclose(columns["d_loss"], [0.70, 0.50, 0.45, 0.40])  # the re-run's row of epoch 2
    assert skipped == 1
    assert "val_d_loss" not in columns  # only NA


def test_report_page(run_dir):
    out = report.build_report(run_dir)
    assert out == run_dir / "report.html"
    page = out.read_text(encoding="utf-8")
    assert "DCGAN" in page and str(run_dir.resolve()) in page
    assert "0.00012345" in page and "&lt;b&gt;&amp;" in page and "<b>&" not in page
    assert "D wins &lt;easily&gt; &amp; G stalls" in page and "d_overpowers_g" in page
    assert "not json &lt;at all&gt;" in page
    assert "domain_kid" in page and "n/a (latest 0.2 at epoch 3)" in page

    shown = images(page)
    # Losses, D scores, and domain_kid (its _std drawn as a band, not a plot of its own).
    assert {"Losses", "D scores", "domain_kid"} <= set(shown) and "domain_kid_std" not in shown
    for epoch in range(1, 5):
        assert shown[f"samples at epoch {epoch}"] == (run_dir / "samples" / f"epoch_{epoch:03d}.png").read_bytes()
        assert f"<figcaption>epoch {epoch}</figcaption>" in page
    assert len(shown) == 3 + 4


def test_many_epochs_show_an_even_subset_with_the_last(tmp_path):
    write_samples(tmp_path, range(1, 31))
    sheets, total = report.sample_sheets(tmp_path)
    epochs = [epoch for epoch, _ in sheets]
    assert total == 30 and len(epochs) == 12 and epochs[0] == 1 and epochs[-1] == 30
    assert epochs == sorted(set(epochs))


def test_run_without_logs_or_samples(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model": "ConditionalGAN"}))
    page = report.build_report(tmp_path, tmp_path / "sub" / "r.html").read_text(encoding="utf-8")
    assert "ConditionalGAN" in page and "No logs yet" in page and "No sample sheets" in page
    assert "<img" not in page
    # A run that has not finished its first epoch: CSVLogger wrote the header only.
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "training.csv").write_text("epoch,d_fake,d_loss,d_real,g_loss\n")
    page = report.build_report(tmp_path).read_text(encoding="utf-8")
    assert "no finished epoch yet" in page and "<img" not in page


def test_not_a_run_dir(tmp_path):
    with pytest.raises(report.NotARunDirectory, match="config.json"):
        report.build_report(tmp_path)
    with pytest.raises(report.NotARunDirectory, match="not a directory"):
        report.build_report(tmp_path / "missing")


def test_module_needs_no_tensorflow():
    # The package's __init__ imports TensorFlow: the report and the package
    # modules it imports are loaded from a bare package, without that __init__.
    code = (
        "import sys, types\n"
        "package = types.ModuleType('tfgan_zoo')\n"
        f"package.__path__ = [{str(REPO / 'tfgan_zoo')!r}]\n"
        "sys.modules['tfgan_zoo'] = package\n"
        "import tfgan_zoo.report\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_cli(run_dir, tmp_path, capsys):
    report.main([str(run_dir), "--out", str(tmp_path / "r.html")])  # python -m tfgan_zoo.report
    assert capsys.readouterr().out.strip() == str(tmp_path / "r.html") and (tmp_path / "r.html").exists()
    (tmp_path / "empty").mkdir()
    assert_one_line_failure(report.main, [tmp_path / "empty"], "not a run directory")


def test_cli_ends_a_missing_run_directory_in_one_line(tmp_path):
    assert_one_line_failure(report.main, [tmp_path / "missing"], f"{tmp_path / 'missing'} is not a directory")


def test_cli_ends_a_folder_given_as_the_page_in_one_line(run_dir, tmp_path):
    assert_one_line_failure(report.main, [run_dir, "--out", tmp_path],
                            f"{tmp_path} is a folder where a file is expected")


def test_cli_ends_a_permission_error_in_one_line(run_dir, monkeypatch):
    monkeypatch.setattr(report.safe_files, "read_file_or_skip", permission_denied(run_dir / "config.json"))
    assert_one_line_failure(report.main, [run_dir], f"{run_dir / 'config.json'}: permission denied")


def test_ctrl_c_leaves_neither_a_page_nor_its_temporary_file(run_dir, monkeypatch):
    before = sorted(run_dir.iterdir())
    monkeypatch.setattr(report.os, "replace", interrupt)  # the page is written beside, not yet in place
    assert exit_of(report.main, [run_dir]) == (1, commands.INTERRUPTED)
    assert sorted(run_dir.iterdir()) == before


def test_a_link_at_the_page_is_replaced_not_written_through(run_dir, tmp_path):
    precious = tmp_path / "precious.html"
    precious.write_text("the user's own page")
    (run_dir / "report.html").symlink_to(precious)
    report.build_report(run_dir)
    assert precious.read_text() == "the user's own page"
    assert not (run_dir / "report.html").is_symlink() and "Run report" in (run_dir / "report.html").read_text()


def test_the_command_prints_one_line_without_a_traceback(tmp_path, fork_server):
    """What the process itself prints (the tests above call main in this process)."""
    missing = tmp_path / "missing"
    done = fork_server.run([sys.executable, "-m", "tfgan_zoo.report", str(missing)], cwd=REPO, timeout=300)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(f"error: {missing} is not a directory")


def test_the_configuration_reads_as_a_page_with_the_record_folded(tmp_path):
    """The section lists what the run trains and the options set otherwise than
    their defaults; the optimizer internals are only in the folded full record."""
    import tfgan_zoo
    from tfgan_zoo import experiment
    from tfgan_zoo.runs import RunOptions, RunSpec, run_config

    gan = tfgan_zoo.DCGAN(latent_dim=8, image_shape=(8, 8, 1), g_filters=4, d_filters=4, ema_decay=0.9)
    gan.compile(loss="lsgan")
    spec = RunSpec("DCGAN", RunOptions(out=tmp_path / "run", epochs=7), data={"batch_size": 16})
    spec = spec.with_sources(train=np.zeros((3, 8, 8, 1), np.uint8))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    config = run_config(gan, spec, changed=experiment.changed_settings(gan, spec))
    (run_dir / "config.json").write_text(json.dumps(config))
    page = report.build_report(run_dir).read_text(encoding="utf-8")
    section = page.split('<h2 id="config">')[1].split("<h2")[0]
    shown, folded = section.split("<details>")
    changed = {row[0] for row in re.findall(r"<tr><th>([\w.: ]+)</th><td>([^<]*)</td><td>([^<]*)</td></tr>", shown)}
    assert {"latent_dim", "g_filters", "d_filters", "ema_decay", "loss", "epochs"} <= changed
    assert "d_norm" not in changed and "label_smoothing" not in changed  # at their defaults
    assert "data: batch_size" in shown and "3 in memory" in shown
    assert "beta_1" not in shown and "beta_1" in folded


def test_a_run_recorded_before_changed_options_gets_a_note_and_its_record(run_dir):
    page = report.build_report(run_dir).read_text(encoding="utf-8")
    section = page.split('<h2 id="config">')[1].split("<h2")[0]
    assert "recorded before runs listed their changed options" in section and "<details>" in section
    assert "&lt;b&gt;&amp;" in section  # escaped, never markup
