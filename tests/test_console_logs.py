"""Console and logs: --help shows defaults, epochs without an evaluation print
no NaN, logs/training.csv holds only logged columns, evaluations show progress."""

import csv
import math
import re

import keras
import numpy as np
import pytest
from conftest import REPO, load_script, run_script, write_image
from test_folder_experiments import TINY

from tfgan_zoo import metrics, report
from tfgan_zoo.callbacks import CSVLogger, ProgbarLogger

SCRIPTS = sorted(path.name for path in (REPO / "experiments").glob("*.py"))
NAN = re.compile(r"\bnan\b", re.IGNORECASE)


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_help_of_a_script_shows_defaults_and_the_docstring_as_written(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")  # argparse's width when the output is not a terminal
    with pytest.raises(SystemExit) as exit_info:
        run_script(REPO / "experiments" / "dcgan_mnist.py", "--help")
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "(default: 5)" in out  # --eval-every, whose help is a sentence
    assert re.search(r"--epochs EPOCHS +default: 15\n", out)  # an option without help text
    assert "\n    python experiments/dcgan_mnist.py [--epochs 15]" in out  # the usage line stays a line
    assert "default: None" not in out and "default: False" not in out


@pytest.mark.parametrize("name", SCRIPTS)
def test_help_of_every_script(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_script(REPO / "experiments" / name, "--help")
    assert exit_info.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert any("(default: " in line or re.search(r" default: \S", line) for line in lines)
    for line in load_script(REPO / "experiments" / name).__doc__.strip().splitlines():
        assert line.rstrip() in lines, f"{line!r} is not a line of its own in --help"
    assert not any("default: None" in line or "default: False" in line for line in lines)


class ScoreOnEvenEpochs(keras.callbacks.Callback):
    """Logs ``fid`` as the periodic scorers do: NaN on epochs without an evaluation."""

    def on_epoch_end(self, epoch, logs=None):
        logs["fid"] = 1.5 if epoch % 2 else math.nan


def tiny_fit(verbose, targets, callbacks):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    return model.fit(np.ones((8, 2)), targets, epochs=2, batch_size=4, verbose=verbose, callbacks=callbacks).history


@pytest.mark.parametrize("verbose", [1, 2])
def test_progress_bar_leaves_out_unmeasured_figures_but_not_a_nan_loss(verbose, capsys):
    history = tiny_fit(verbose, np.ones((8, 1)), [ScoreOnEvenEpochs(), ProgbarLogger()])
    printed = capsys.readouterr().out
    assert math.isnan(history["fid"][0]) and history["fid"][1] == 1.5  # History stays aligned
    assert not NAN.search(printed) and "fid: 1.5" in printed and "Epoch 2/2" in printed

    tiny_fit(verbose, np.full((8, 1), np.nan), [ProgbarLogger()])
    assert "loss: nan" in capsys.readouterr().out


def test_csv_logger_appends_on_resume_replaces_redone_epochs_and_widens_its_header(tmp_path):
    path = tmp_path / "logs" / "training.csv"

    def log(epochs_and_logs):
        logger = CSVLogger(path)  # a fresh one per run, as each process of a resumed run has
        logger.on_train_begin()
        for epoch, logs in epochs_and_logs:
            logger.on_epoch_end(epoch, logs)

    log([(0, {"loss": 1.0, "fid": math.nan}), (1, {"loss": 0.5, "fid": 2.0})])
    with path.open("a") as handle:
        handle.write("2,")  # a row cut short by a kill
    log([(2, {"loss": 0.4, "fid": math.nan})])  # resumed at epoch 3
    log([(2, {"loss": 0.3, "fid": math.nan}), (3, {"loss": 0.2, "fid": 1.0, "diversity": 0.9})])  # epoch 3 redone

    text = path.read_text()
    assert text.startswith("epoch,diversity,fid,loss\n") and text.count("epoch") == 1
    rows = read_rows(path)
    assert [row["epoch"] for row in rows] == ["0", "1", "2", "3"]
    assert [row["fid"] for row in rows] == ["", "2.0", "", "1.0"]
    assert [row["loss"] for row in rows] == ["1.0", "0.5", "0.3", "0.2"]
    assert [row["diversity"] for row in rows] == ["", "", "", "0.9"]  # a new key widens the header
    assert sorted(p.name for p in path.parent.iterdir()) == ["training.csv"]

    epochs, columns, skipped = report.read_log(path)
    np.testing.assert_array_equal(epochs, [1, 2, 3, 4])
    np.testing.assert_array_equal(columns["fid"], [np.nan, 2.0, np.nan, 1.0])
    assert skipped == 0


@pytest.mark.parametrize("verbose", [0, 1, 2])
def test_progress_lines_per_verbose(verbose, capsys):
    progress = metrics.Progress("Scoring", verbose)
    for _ in progress.batches("features", 5, 2):
        pass
    progress.update("KID")
    progress.end("fid=1")
    printed = capsys.readouterr().out
    if verbose == 0:
        assert printed == ""
    elif verbose == 1:  # one line rewritten in place, begun on a line of its own
        shown = printed.split("\r")
        assert shown[0] == "\n" and [line.split(" (")[0] for line in shown[1:-1]] == [
            "Scoring: features 2/5", "Scoring: features 4/5", "Scoring: features 5/5", "Scoring: KID"]
        assert re.fullmatch(r"Scoring \(\ds\): fid=1 *\n", shown[-1])
    else:  # a log file: where it starts and how it ended
        assert re.fullmatch(r"Scoring\.\.\.\nScoring \(\ds\): fid=1\n", printed)


def test_experiment_console_and_training_csv(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for i in range(24):
        write_image(tmp_path / "pictures" / f"{i}.png", rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
    run_dir = tmp_path / "run"
    run_script(REPO / "experiments" / "dcgan_folder.py", "--images", tmp_path / "pictures", "--out", run_dir,
               "--epochs", "3", "--cache-dir", tmp_path / "cache", *TINY)
    printed = capsys.readouterr().out
    assert not NAN.search(printed), printed
    # --verbose 2 (a log file): a line as each evaluation starts, one with the seconds and figures at its end.
    for epoch in (2, 3):
        assert f"Epoch {epoch} evaluation...\n" in printed
        assert re.search(rf"Epoch {epoch} evaluation \(\d+s\): domain_fid=", printed)
    assert "Epoch 1 evaluation" not in printed

    rows = read_rows(run_dir / "logs" / "training.csv")
    assert [row["epoch"] for row in rows] == ["0", "1", "2"]
    assert not any(column.startswith("val_") for column in rows[0])
    assert all(any(row[column] for row in rows) for column in rows[0]), "a column without any value"
    figures = [column for column in rows[0] if column.startswith("domain_")]
    assert "domain_fid" in figures
    for column in figures:
        assert [bool(row[column]) for row in rows] == [False, True, True], column
