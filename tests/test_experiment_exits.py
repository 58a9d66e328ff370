"""The experiments' one clean exit (experiment.main through tfgan_zoo/commands.py).

Ctrl-C in each phase (data loading, the evaluation classifier, an evaluation,
the export) ends with one message naming the phase, the checkpoint kept and
that the same command resumes; it leaves no staging folder, no half-written
cache file and no lock. Option combinations the networks, the evaluators or
the labels cannot take are usage errors before any data loads.

The Ctrl-C cases run dcgan_folder.py in this process on 16 tiny pictures, from
a copy of one finished 1-epoch run (module fixture), with the step that
Ctrl-C interrupts patched to raise KeyboardInterrupt.
"""

import shutil
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import REPO, run_script, script_parser, write_image

import tfgan_zoo.data
from tfgan_zoo import export, metrics
from tfgan_zoo.experiment import ExperimentParser
from tfgan_zoo.runs import lock

SCRIPT = REPO / "experiments" / "dcgan_folder.py"
TINY = ["--image-size", "16", "--steps-per-epoch", "1", "--batch-size", "4", "--g-filters", "4",
        "--d-filters", "4", "--latent-dim", "4", "--precision", "float32", "--verbose", "2",
        "--classifier-epochs", "1", "--eval-every", "0"]


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pictures")
    rng = np.random.default_rng(0)
    for index in range(16):
        write_image(folder / ("cat" if index % 2 else "dog") / f"{index}.png",
                    rng.integers(0, 256, (20, 20, 3), dtype=np.uint8))
    return folder


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, pictures):
    """A dcgan_folder run of 1 epoch: its checkpoint and export version 1."""
    run_dir = tmp_path_factory.mktemp("finished") / "run"
    run_script(SCRIPT, "--images", pictures, "--out", run_dir, "--epochs", "1", *TINY)
    return run_dir


@pytest.fixture
def run_dir(finished_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(finished_run, copy)
    return copy


def files(folder: Path) -> dict:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file()}


def interrupted(pictures, run_dir, *flags) -> str:
    with pytest.raises(SystemExit) as stop:
        run_script(SCRIPT, "--images", pictures, "--out", run_dir, *TINY, *flags)
    message = str(stop.value.code)
    assert stop.value.code != 0 and "Traceback" not in message and len(message.strip().splitlines()) == 1
    return message.strip()


def assert_left_clean(run_dir: Path, *folders: Path):
    """No staging folder nor half-written file anywhere, and the lock free for a second run."""
    for folder in (run_dir, *folders):
        leftovers = [path for path in folder.rglob("*") if path.name.startswith(".staging-")
                     or ".partial" in path.name or ".tmp" in path.name]
        assert leftovers == [], leftovers
    assert not (run_dir / lock.LOCK_FILE).exists()
    lock.acquire(run_dir).release()


def kept_checkpoint(message: str, run_dir: Path):
    checkpoint = run_dir / "checkpoints" / "latest.weights.h5"
    assert f"The checkpoint {checkpoint} (after epoch 1) is kept" in message, message
    assert message.endswith("Run the same command again to resume.")


def test_ctrl_c_while_loading_the_data(pictures, run_dir, monkeypatch):
    checkpoints = files(run_dir / "checkpoints")

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tfgan_zoo.data, "load_image_folder", interrupt)
    message = interrupted(pictures, run_dir, "--epochs", "2")
    assert message.startswith("Interrupted (Ctrl-C) while loading the data. ")
    kept_checkpoint(message, run_dir)
    assert files(run_dir / "checkpoints") == checkpoints
    assert_left_clean(run_dir)


def test_ctrl_c_while_keeping_the_evaluation_classifier(pictures, run_dir, tmp_path, monkeypatch):
    checkpoints, cache = files(run_dir / "checkpoints"), tmp_path / "cache"

    def half_written(model, path, *args, **kwargs):
        Path(path).write_bytes(b"the first bytes of a classifier")
        raise KeyboardInterrupt

    monkeypatch.setattr(keras.Model, "save", half_written)
    message = interrupted(pictures, run_dir, "--epochs", "2", "--eval-every", "1", "--eval-samples", "4",
                          "--cache-dir", cache)
    assert message.startswith("Interrupted (Ctrl-C) while training (or loading) the evaluation classifier. ")
    kept_checkpoint(message, run_dir)
    assert files(cache) == {}  # neither the half-written classifier nor a key for it
    assert files(run_dir / "checkpoints") == checkpoints
    assert_left_clean(run_dir, cache)


def test_ctrl_c_while_evaluating(pictures, run_dir, tmp_path, monkeypatch):
    checkpoints, cache = files(run_dir / "checkpoints"), tmp_path / "cache"

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(metrics.GANEvaluator, "evaluate", interrupt)
    message = interrupted(pictures, run_dir, "--epochs", "2", "--eval-every", "1", "--eval-samples", "4",
                          "--cache-dir", cache)
    assert message.startswith("Interrupted (Ctrl-C) while evaluating epoch 2. ")
    kept_checkpoint(message, run_dir)  # epoch 2 is saved only after its evaluation
    assert files(run_dir / "checkpoints") == checkpoints
    assert sorted(path.suffix for path in cache.iterdir()) == [".json", ".keras"]  # the classifier and its key
    assert_left_clean(run_dir, cache)


def test_ctrl_c_while_exporting(pictures, run_dir, monkeypatch):
    exported, base = files(run_dir / "export"), run_dir / "export" / "generator"

    def half_written(folder, *args, **kwargs):
        (Path(folder) / "saved_model.pb").write_bytes(b"the first bytes of a SavedModel")
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "_write_archive", half_written)
    message = interrupted(pictures, run_dir, "--epochs", "1")  # the run is done: the same command exports again
    assert message.startswith(f"Interrupted (Ctrl-C) while exporting the generator to {base}. ")
    kept_checkpoint(message, run_dir)
    assert files(run_dir / "export") == exported and export.latest_export(base) == base / "1"
    assert_left_clean(run_dir)


# ------------------------------------------------ usage errors before any data loads
@pytest.fixture
def loaders_must_not_run(monkeypatch):
    """Every loader the scripts call, failing the test if called."""
    def never(*args, **kwargs):
        pytest.fail("the data loader ran before the options were checked")

    for name in ("load_image_folder", "load_idx_dataset", "load_unpaired", "load_side_by_side", "load_folder_pairs",
                 "make_lineart_pairs", "resolve_paired_dir", "resolve_unpaired_dir"):
        monkeypatch.setattr(tfgan_zoo.data, name, never)


def usage_error(capsys, script: str, *argv) -> str:
    with pytest.raises(SystemExit) as stop:
        run_script(REPO / "experiments" / f"{script}.py", *argv)
    error = capsys.readouterr().err
    assert stop.value.code == 2, error
    return error


@pytest.mark.parametrize("script, flags, expected", [
    ("dcgan_folder", ["--image-size", "9"],
     "argument --image-size: DCGAN's networks cannot take 9x9 images (Image shape (9, 9, 3) cannot be reached by "
     "stride-2 upsampling; use even sides of at least 8 (e.g. 28, 32, 64, 128)). The nearest sizes they take: 8 and 10."),
    ("cgan_anime", ["--image-size", "15"], "ConditionalGAN's networks cannot take 15x15 images"),
    ("pix2pix_lineart", ["--image-size", "100"],
     "Pix2Pix's networks cannot take 100x100 images with --g-depth 5, --d-layers 3 (image_size 100 is not divisible "
     "by 2**depth = 2**5"),
    ("pix2pix_lineart", ["--image-size", "100"], "The nearest sizes they take: 96 and 128."),
    ("cyclegan_horse2zebra", ["--image-size", "10"],
     "CycleGAN's networks cannot take 10x10 images with --d-layers 3 (image_size must be a multiple of 4"),
    ("cyclegan_horse2zebra", ["--image-size", "14", "--d-layers", "2"], "The nearest sizes they take: 12 and 16."),
    ("dcgan_folder", ["--eval-every", "1", "--eval-samples", "1"],
     "--eval-samples must be >= 4 while evaluation is on (--eval-every 1), got 1: FID needs 2, and "
     "precision/recall more than its 3 nearest neighbours. Pass --eval-every 0 to turn evaluation off."),
    ("cgan_mnist", ["--eval-samples", "3"], "--eval-samples must be >= 4 while evaluation is on (--eval-every 5), got 3"),
    ("cyclegan_horse2zebra", ["--eval-samples", "1"],
     "--eval-samples must be >= 2 while evaluation is on (--eval-every 5), got 1: FID and KID of each domain need 2."),
])
def test_options_the_networks_or_evaluators_cannot_take_stop_before_the_data(
        script, flags, expected, tmp_path, capsys, loaders_must_not_run):
    images = ["--images", tmp_path] if script in ("dcgan_folder", "cgan_anime") else []
    error = usage_error(capsys, script, *images, "--out", tmp_path / "run", *flags)
    assert expected in " ".join(error.split()), error


def test_what_the_paired_scores_take_is_no_usage_error():
    spec = ExperimentParser.parse_spec(script_parser("pix2pix_facades"), ["--eval-samples", "1", "--image-size", "24"])
    assert spec.run.eval_samples == 1 and spec.model["image_size"] == 24


@pytest.mark.parametrize("labels", ["csv", "subfolders"])
def test_a_conditional_run_on_one_class_stops_before_the_images_load(labels, tmp_path, capsys, loaders_must_not_run):
    for index in range(3):
        write_image(tmp_path / "pictures" / "cat" / f"{index}.png", np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "kinds.csv").write_text("filename,kind\n0.png,cat\n1.png,cat\n2.png, cat \n")
    flags = ["--labels", tmp_path / "kinds.csv", "--label-column", "kind"] if labels == "csv" else ["--labels", "subfolders"]
    error = usage_error(capsys, "cgan_anime", "--images", tmp_path / "pictures", "--out", tmp_path / "run", *flags)
    source = (f"--labels {tmp_path / 'kinds.csv'} --label-column kind" if labels == "csv"
              else f"--labels subfolders (the sub-folders of {tmp_path / 'pictures'})")
    assert (f"{source} gives 1 class(es) (cat), but ConditionalGAN needs num_classes >= 2. Label the images with "
            "more classes, or train without labels (experiments/dcgan_folder.py).") in " ".join(error.split())
