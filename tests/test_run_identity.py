"""A run's identity (family config, compile config with the learning rates, and
its data: resolved paths, counts, fingerprints, class names) is checked before
anything in the run directory changes; --force-resume continues on purpose.
And every experiment refuses impossible option values when it parses them."""

import csv
import json
import os
import shutil

import cv2
import keras
import numpy as np
import pytest
from conftest import REPO, run_script, script_parser, solid, write_image
from families import FAMILIES

import tfgan_zoo
from tfgan_zoo import experiment, options
from tfgan_zoo.experiment import ExperimentParser
from tfgan_zoo.runs import RunOptions, RunSpec, admit, run_config
from tfgan_zoo.runs.identity import CONTENT, NAMES_AND_SIZES, KeepLearningRates, _path_identity
from tfgan_zoo.data import image_dataset

SCRIPTS = ("cgan_mnist", "dcgan_mnist", "dcgan_folder", "cgan_anime", "pix2pix_facades", "pix2pix_lineart",
           "cyclegan_horse2zebra")
TINY_DCGAN = ["--image-size", "8", "--g-filters", "2", "--d-filters", "2", "--latent-dim", "2", "--eval-every", "0"]
def parse(script: str, *flags: str) -> RunSpec:
    return ExperimentParser.parse_spec(script_parser(script), list(flags))


def image_folder(root, count=4, classes=None):
    for index in range(count):
        name = f"{classes[index % len(classes)]}/{index}.png" if classes else f"{index}.png"
        write_image(root / name, solid(40 * index, size=8))
    return root


def folder_config(images: str, *flags: str, class_names=None) -> dict:
    """config.json of a tiny dcgan_folder run on ``images`` (``--images`` as typed)."""
    folder, spec = experiment.load_folder(parse("dcgan_folder", "--images", images, *TINY_DCGAN, *flags),
                                          labelled=False)
    model = experiment.build(tfgan_zoo.DCGAN, spec, image_shape=folder.images.shape[1:])
    return run_config(model, spec, class_names)


def check(run_dir, config) -> dict:
    """The admission check as a run makes it, forced when the config's run was."""
    return admit(run_dir, config, force=config["run"]["force_resume"])


def refusal(run_dir, config) -> str:
    with pytest.raises(SystemExit) as refused:
        check(run_dir, config)
    return str(refused.value)


def snapshot(run_dir) -> dict:
    return {path.relative_to(run_dir).as_posix(): path.read_bytes()
            for path in sorted(run_dir.rglob("*")) if path.is_file()}


@pytest.fixture
def good(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    image_folder(tmp_path / "good")
    return tmp_path / "good"


# ----------------------------------------------------------------- identity
def test_a_changed_learning_rate_is_refused(good, tmp_path):
    run_dir = tmp_path / "run"
    check(run_dir, folder_config("good"))
    message = refusal(run_dir, folder_config("good", "--lr", "1e-3"))
    # The checkpoint's optimizer state holds the rate: resuming would silently keep the old one.
    assert "compile_config.g_optimizer.config.learning_rate: 0.0002 -> 0.001" in message
    assert "compile_config.d_optimizer.config.learning_rate: 0.0002 -> 0.001" in message
    assert "another --out" in message and "--force-resume" in message


def test_a_changed_initial_rate_of_a_schedule_is_refused_but_not_more_epochs(tmp_path):
    parser = experiment.add_linear_decay_arguments(experiment.family_parser("", tfgan_zoo.CycleGAN))
    tiny = ["--image-size", "8", "--filters", "2", "--num-blocks", "0", "--disc-layers", "1", "--pool-size", "0"]

    def config(*flags):
        spec = parser.parse_spec([*tiny, *flags])
        model = experiment.build(tfgan_zoo.CycleGAN, spec, learning_rate=experiment.linear_decay(spec, 10))
        return run_config(model, spec)

    check(tmp_path, config("--epochs", "4"))
    check(tmp_path, config("--epochs", "8"))  # extending a run is a resume
    message = refusal(tmp_path, config("--epochs", "8", "--lr", "1e-3"))
    assert "g_optimizer.config.learning_rate.initial_learning_rate: 0.0002 -> 0.001" in message


@pytest.mark.parametrize("flags, key", [
    (["--g-filters", "3"], "model_config.g_filters: 2 -> 3"),
    (["--ema-decay", "0.5"], "model_config.ema_decay: 0.999 -> 0.5"),
    (["--loss", "lsgan"], "compile_config.loss: 'bce' -> 'lsgan'"),
    (["--d-steps", "2"], "compile_config.d_steps: 1 -> 2"),
    (["--batch-size", "4"], "data.batch_size: 64 -> 4"),
    (["--subset", "2"], "data.subset: None -> 2"),
], ids=lambda value: value[0] if isinstance(value, list) else None)
def test_each_changed_model_compile_or_data_option_is_refused(good, tmp_path, flags, key):
    run_dir = tmp_path / "run"
    check(run_dir, folder_config("good"))
    assert f"\n  {key}\n" in refusal(run_dir, folder_config("good", *flags)) + "\n"


def test_one_message_lists_every_difference_and_the_ways_out(good, tmp_path):
    run_dir = tmp_path / "run"
    check(run_dir, folder_config("good"))
    image_folder(tmp_path / "other", count=3)
    message = refusal(run_dir, folder_config("other", "--lr", "1e-3", "--g-filters", "3", "--batch-size", "4"))
    listed = [line.split(":")[0].strip() for line in message.splitlines() if line.startswith("  ")]
    assert {"compile_config.g_optimizer.config.learning_rate", "model_config.g_filters", "data.batch_size",
            "data.images", "data.sources.images.path", "data.sources.images.files",
            "data.sources.images.fingerprint", "data.sources.image_count"} <= set(listed)
    assert message.count("other settings") == 1
    assert f"pass another --out, or delete {run_dir}" in message and "add --force-resume" in message


def test_another_folder_with_the_same_images_is_other_data(good, tmp_path):
    run_dir = tmp_path / "run"
    check(run_dir, folder_config("good"))
    image_folder(tmp_path / "copy")
    message = refusal(run_dir, folder_config("copy"))
    assert f"data.sources.images.path: '{good}' -> '{tmp_path / 'copy'}'" in message
    assert "fingerprint" not in message  # same names and sizes: only the place differs


def test_an_added_file_changes_the_data(good, tmp_path):
    run_dir = tmp_path / "run"
    check(run_dir, folder_config("good"))
    write_image(good / "more" / "extra.png", solid(7, size=8))
    message = refusal(run_dir, folder_config("good"))
    assert "data.sources.images.files: 4 -> 5" in message and "data.sources.image_count: 4 -> 5" in message
    assert "data.sources.images.fingerprint" in message and "data.sources.images.path" not in message


def test_a_replaced_image_of_another_size_changes_the_fingerprint(good, tmp_path):
    run_dir = tmp_path / "run"
    check(run_dir, folder_config("good"))
    write_image(good / "0.png", np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype=np.uint8))
    message = refusal(run_dir, folder_config("good"))
    assert "data.sources.images.fingerprint" in message and "files" not in message


def uncompressed_png(path, value: int) -> None:
    """A PNG whose size depends on its shape only."""
    ok, encoded = cv2.imencode(".png", solid(value, size=8), [cv2.IMWRITE_PNG_COMPRESSION, 0])
    assert ok
    path.write_bytes(encoded.tobytes())


def test_an_image_edited_in_place_changes_the_fingerprint(good, tmp_path):
    uncompressed_png(good / "0.png", 0)
    run_dir = tmp_path / "run"
    check(run_dir, folder_config("good"))
    before = (good / "0.png").stat()
    uncompressed_png(good / "0.png", 99)
    os.utime(good / "0.png", ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (good / "0.png").stat().st_size == before.st_size  # names, sizes and times as recorded
    message = refusal(run_dir, folder_config("good"))
    assert "data.sources.images.fingerprint" in message and "files" not in message


def names_and_sizes_record(run_dir, folder) -> None:
    """Rewrites ``run_dir``'s record of ``folder`` as the package recorded folders before
    fingerprints covered contents: no kind, names and sizes only."""
    path = run_dir / "config.json"
    config = json.loads(path.read_text())
    config["data"]["sources"]["images"] = _path_identity(folder, NAMES_AND_SIZES)
    assert "fingerprint_kind" not in config["data"]["sources"]["images"]
    path.write_text(json.dumps(config))


def test_a_run_recorded_by_names_and_sizes_resumes_on_its_data_and_records_the_content(good, tmp_path):
    run_dir = tmp_path / "run"
    check(run_dir, folder_config("good"))
    names_and_sizes_record(run_dir, good)
    assert check(run_dir, folder_config("good")) == {}  # unchanged data: resumes without a word
    recorded = json.loads((run_dir / "config.json").read_text())["data"]["sources"]["images"]
    assert recorded == _path_identity(good) and recorded["fingerprint_kind"] == CONTENT
    names_and_sizes_record(run_dir, good)
    write_image(good / "more.png", solid(7, size=8))
    message = refusal(run_dir, folder_config("good"))  # changed data: compared by the recorded kind
    assert "data.sources.images.files: 4 -> 5" in message and "fingerprint_kind" not in message


def test_the_names_and_sizes_fingerprint_is_made_as_before(data_dir):
    # As recorded in tests/fixtures/recorded_runs/cyclegan_2026-12-07/config.json.
    assert _path_identity(data_dir / "horse2zebra", NAMES_AND_SIZES)["fingerprint"] == "26c7562f5d718e0f"


def test_spellings_of_one_folder_are_one_run(good, tmp_path):
    run_dir = tmp_path / "run"
    check(run_dir, folder_config("good"))
    for spelling in ("./good", "good/", str(good), "../" + tmp_path.name + "/good"):
        check(run_dir, folder_config(spelling))
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["data"]["images"] == str(good) and saved["data"]["sources"]["images"]["path"] == str(good)
    assert saved["data"]["sources"]["image_count"] == 4 and saved["data"]["sources"]["images"]["files"] == 4


def test_the_same_relative_path_from_another_directory_is_other_data(tmp_path, monkeypatch):
    for place in ("a", "b"):
        image_folder(tmp_path / place / "good")  # identical content, another place
    run_dir = tmp_path / "run"
    monkeypatch.chdir(tmp_path / "a")
    check(run_dir, folder_config("good"))
    monkeypatch.chdir(tmp_path / "b")
    message = refusal(run_dir, folder_config("good"))
    assert f"data.images: '{tmp_path / 'a' / 'good'}' -> '{tmp_path / 'b' / 'good'}'" in message


def test_class_names_are_part_of_the_data(good, tmp_path):
    run_dir = tmp_path / "run"
    check(run_dir, folder_config("good", class_names=["cat", "dog"]))
    check(run_dir, folder_config("good", class_names=["cat", "dog"]))
    message = refusal(run_dir, folder_config("good", class_names=["cat", "fox"]))
    assert "data.classes: ['cat', 'dog'] -> ['cat', 'fox']" in message
    assert json.loads((run_dir / "config.json").read_text())["class_names"] == ["cat", "dog"]


def test_labels_from_subfolders_and_csv_are_part_of_the_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    image_folder(tmp_path / "pets", classes=["cat", "dog"])
    (tmp_path / "labels.csv").write_text("filename,kind\ncat/0.png,a\ndog/1.png,b\ncat/2.png,a\n")
    run_dir = tmp_path / "run"
    check(run_dir, folder_config("pets", "--labels", "labels.csv", "--label-column", "kind"))
    saved = json.loads((run_dir / "config.json").read_text())["data"]
    # An unconditional run has no labels option: the CSV only picks the images, a source.
    assert saved["labels"] is None and saved["sources"]["labels"]["path"] == str(tmp_path / "labels.csv")
    assert saved["sources"]["image_count"] == 3
    (tmp_path / "labels.csv").write_text("filename,kind\ncat/0.png,a\ndog/1.png,b\ncat/2.png,b\n")
    message = refusal(run_dir, folder_config("pets", "--labels", "labels.csv", "--label-column", "kind"))
    assert "data.sources.labels.fingerprint" in message


def test_in_memory_arrays_are_fingerprinted():
    spec = RunSpec("DCGAN", RunOptions(out="run"))
    images = np.zeros((5, 4, 4, 1), np.uint8)
    first = spec.with_sources(source="tensorflow_datasets:mnist", train=(images, np.arange(5)))
    images[2, 1, 1] = 1
    second = first.with_sources(train=(images, np.arange(5)))
    assert first.sources["train"]["count"] == 5
    assert second.sources["train"]["fingerprint"] != first.sources["train"]["fingerprint"]
    assert second.sources["source"] == "tensorflow_datasets:mnist"  # earlier records stay
    assert "train" not in spec.sources  # a spec never changes: each record is a new one
    with pytest.raises(TypeError, match="sources are paths"):
        spec.with_sources(train=object())


def test_the_dataset_folder_of_an_experiment_is_recorded(data_dir, tmp_path):
    spec = parse("dcgan_mnist", "--data-dir", str(data_dir))
    from tfgan_zoo.data import resolve_idx_dir

    recorded = spec.with_sources(source=resolve_idx_dir(spec.data["dataset"], spec.run.data_dir)).sources["source"]
    assert recorded["path"] == str((data_dir / "mnist").resolve()) and recorded["files"] >= 4


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_family_option_is_part_of_the_identity(name, tmp_path):
    """For each registered family: the same model is admitted again, and a model
    differing in one constructor option is refused, naming that option."""
    model = FAMILIES[name].build()
    model.compile()
    spec = RunSpec(type(model).__name__, RunOptions(out=tmp_path), data={"batch_size": 2})
    check(tmp_path, run_config(model, spec))
    check(tmp_path, run_config(model, spec))
    config = model.get_config()
    integers = [option for option in options.family_options(type(model))
                if option.kind is int and isinstance(config.get(option.name), int)]
    # The seed changes no shape, so any family builds with it changed.
    option = next((option for option in integers if option.name == "seed"), integers[0])
    other = type(model).from_config({**config, option.name: config[option.name] + 1})
    other.compile()
    message = refusal(tmp_path, run_config(other, spec))
    assert f"model_config.{option.name}: {config[option.name]} -> {config[option.name] + 1}" in message


# A run directory that the code of 2026-12-07 (commit 703bf4c) wrote, under the
# option spellings of then (--filters, --disc-layers): see tests/fixtures/recorded_runs/.
RECORDED_RUN = REPO / "tests" / "fixtures" / "recorded_runs" / "cyclegan_2026-12-07"
RECORDED_FLAGS = ["--image-size", "32", "--num-blocks", "1", "--steps-per-epoch", "2", "--eval-every", "0",
                  "--val-count", "2", "--precision", "float32", "--verbose", "2"]


def test_a_run_recorded_under_older_option_spellings_resumes_unchanged(data_dir, tmp_path, capsys):
    run_dir = tmp_path / "run"
    shutil.copytree(RECORDED_RUN, run_dir)
    recorded = run_dir / "config.json"
    # The record holds a placeholder for the data folder; here it is wherever the tests find it.
    recorded.write_text(recorded.read_text().replace(
        '"/recorded/shared/data/horse2zebra"', json.dumps(str((data_dir / "horse2zebra").resolve()))))
    script = REPO / "experiments" / "cyclegan_horse2zebra.py"
    # Weights are not committed outside the presets: epoch 1's checkpoint is made here by today's code, in a run
    # of its own (today's spellings; the networks' weight names did not change), then put beside the record.
    made = tmp_path / "made"
    run_script(script, *RECORDED_FLAGS, "--out", made, "--data-dir", data_dir, "--cache-dir", tmp_path / "cache",
               "--g-filters", "4", "--d-filters", "4", "--d-layers", "1", "--epochs", "1")
    shutil.copytree(made / "checkpoints", run_dir / "checkpoints")
    common = [*RECORDED_FLAGS, "--out", run_dir, "--data-dir", data_dir, "--cache-dir", tmp_path / "cache"]
    # The command of then, one epoch more; today's spellings parse to the same options (tests/test_glossary.py).
    run_script(script, *common, "--filters", "4", "--disc-layers", "1", "--epochs", "2")
    printed = capsys.readouterr()
    assert "other settings" not in printed.out + printed.err and "--force-resume" not in printed.err
    rows = list(csv.DictReader((run_dir / "logs" / "training.csv").open()))
    assert [row["epoch"] for row in rows] == ["0", "1"]  # epoch 1 as recorded, then the resumed one
    saved = json.loads(recorded.read_text())
    assert saved["model_config"]["d_layers"] == 1 and "disc_layers" not in saved["model_config"]
    assert saved["model_config"]["g_filters"] == saved["model_config"]["d_filters"] == 4
    assert "forced_resumes" not in saved


# ------------------------------------------------------------- force, writes
def test_force_resume_continues_prints_and_records_the_new_settings(good, tmp_path, capsys):
    run_dir = tmp_path / "run"
    check(run_dir, folder_config("good"))
    changed = check(run_dir, folder_config("good", "--lr", "1e-3", "--force-resume"))
    assert changed["compile_config.g_optimizer.config.learning_rate"] == (0.0002, 0.001)
    printed = capsys.readouterr().err
    assert "--force-resume" in printed and "learning_rate: 0.0002 -> 0.001" in printed
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["compile_config"]["g_optimizer"]["config"]["learning_rate"] == 0.001
    assert saved["forced_resumes"] == [{key: list(values) for key, values in changed.items()}]
    # The new settings are now the run's: the same command resumes without forcing, the history stays.
    check(run_dir, folder_config("good", "--lr", "1e-3"))
    assert len(json.loads((run_dir / "config.json").read_text())["forced_resumes"]) == 1
    refusal(run_dir, folder_config("good"))


def test_a_forced_learning_rate_wins_over_the_checkpoint(tmp_path):
    def model(rate):
        gan = tfgan_zoo.DCGAN(latent_dim=2, image_shape=(8, 8, 3), g_filters=2, d_filters=2)
        gan.compile(g_optimizer=keras.optimizers.Adam(rate), d_optimizer=keras.optimizers.Adam(rate))
        return gan

    model(1e-3).save_weights(tmp_path / "latest.weights.h5")
    resumed = model(5e-2)
    keep = KeepLearningRates(resumed)
    resumed.load_weights(tmp_path / "latest.weights.h5")  # what the backup's restore does
    assert float(resumed.g_optimizer.learning_rate) == pytest.approx(1e-3)
    keep.set_model(resumed)
    keep.on_train_batch_begin(0)
    assert float(resumed.g_optimizer.learning_rate) == pytest.approx(5e-2)
    assert float(resumed.d_optimizer.learning_rate) == pytest.approx(5e-2)


def test_a_refused_run_changes_nothing_in_the_run_directory(good, tmp_path):
    run_dir = tmp_path / "run"
    folder, spec = experiment.load_folder(parse("dcgan_folder", "--images", "good", "--out", str(run_dir), *TINY_DCGAN),
                                          labelled=False)
    model = experiment.build(tfgan_zoo.DCGAN, spec, image_shape=folder.images.shape[1:])
    check(run_dir, run_config(model, spec))
    (run_dir / "checkpoints").mkdir()
    (run_dir / "checkpoints" / "latest.weights.h5").write_bytes(b"weights")
    before = snapshot(run_dir)

    spec = parse("dcgan_folder", "--images", "good", "--out", str(run_dir), *TINY_DCGAN, "--lr", "1e-3")
    folder, spec = experiment.load_folder(spec, labelled=False)
    model = experiment.build(tfgan_zoo.DCGAN, spec, image_shape=folder.images.shape[1:])
    dataset = image_dataset(folder.images, batch_size=2, seed=0)
    with pytest.raises(SystemExit, match="other settings"):
        experiment.run(model, dataset, spec, experiment.Generation())
    assert snapshot(run_dir) == before  # config.json byte for byte, and no new file


def test_checkpoints_without_a_config_are_refused_unless_forced(good, tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints").mkdir(parents=True)
    (run_dir / "checkpoints" / "latest.weights.h5").write_bytes(b"weights")
    assert "no config.json" in refusal(run_dir, folder_config("good"))
    assert not (run_dir / "config.json").exists()
    check(run_dir, folder_config("good", "--force-resume"))
    assert json.loads((run_dir / "config.json").read_text())["model"] == "DCGAN"


def test_an_unreadable_config_is_refused_unless_forced(good, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.json").write_text('{"model": "DCG')
    assert "cannot be read" in refusal(run_dir, folder_config("good"))
    assert (run_dir / "config.json").read_text() == '{"model": "DCG'
    check(run_dir, folder_config("good", "--force-resume"))
    assert json.loads((run_dir / "config.json").read_text())["model"] == "DCGAN"


# ------------------------------------------------------------ option errors
OPTION_ERRORS = [
    # (script, flags, what the message says)
    ("dcgan_mnist", ["--batch-size", "0"], "argument --batch-size: must be >= 1, got 0."),
    ("cyclegan_horse2zebra", ["--batch-size", "-2"], "argument --batch-size: must be >= 1, got -2."),
    ("dcgan_mnist", ["--latent-dim", "0"], "argument --latent-dim: must be >= 1, got 0."),
    ("cgan_mnist", ["--g-filters", "0"], "argument --g-filters: must be >= 1, got 0."),
    ("pix2pix_facades", ["--d-filters", "-1"], "argument --d-filters: must be >= 1, got -1."),
    ("cyclegan_horse2zebra", ["--filters", "0"], "argument --filters: must be >= 1, got 0."),
    ("dcgan_folder", ["--subset", "0"], "argument --subset: must be >= 1, got 0."),
    ("cgan_anime", ["--image-size", "4"], "argument --image-size: must be >= 8, got 4."),
    ("dcgan_folder", ["--classifier-epochs", "0"], "argument --classifier-epochs: must be >= 1, got 0."),
    ("cgan_mnist", ["--eval-samples", "0"], "--eval-samples must be >= 4 while evaluation is on (--eval-every 5)"),
    ("pix2pix_lineart", ["--steps-per-epoch", "0"], "argument --steps-per-epoch: must be >= 1, got 0."),
    ("dcgan_mnist", ["--epochs", "0"], "argument --epochs: must be >= 1, got 0. It is the total number of epochs"),
    ("pix2pix_facades", ["--eval-every", "-1"], "argument --eval-every: must be >= 0, got -1."),
    ("dcgan_folder", ["--lr", "0"], "argument --lr: must be > 0, got 0.0."),
    ("cgan_anime", ["--lr", "-0.0001"], "argument --lr: must be > 0, got -0.0001."),
    ("dcgan_mnist", ["--lr", "nan"], "argument --lr: must be > 0, got nan."),
    ("dcgan_mnist", ["--seed", "-1"], "argument --seed: must be in [0, 4294967295], got -1."),
    ("dcgan_mnist", ["--verbose", "3"], "argument --verbose: invalid choice: 3"),
    ("dcgan_mnist", ["--ema-decay", "1"], "argument --ema-decay: must be in [0, 1), got 1.0."),
    ("cgan_anime", ["--d-dropout", "-0.1"], "argument --d-dropout: must be in [0, 1), got -0.1."),
    ("cgan_mnist", ["--label-smoothing", "1.5"], "argument --label-smoothing: must be in [0, 0.5), got 1.5."),
    ("dcgan_mnist", ["--d-steps", "0"], "argument --d-steps: must be >= 1, got 0."),
    ("dcgan_mnist", ["--g-steps", "0"], "argument --g-steps: must be >= 1, got 0."),
    ("dcgan_mnist", ["--gp-weight", "-1"], "argument --gp-weight: must be >= 0, got -1.0."),
    ("pix2pix_facades", ["--d-layers", "0"], "argument --d-layers: must be >= 1, got 0."),
    ("pix2pix_lineart", ["--g-depth", "0"], "argument --g-depth: must be >= 1, got 0."),
    ("pix2pix_facades", ["--l1-weight", "-1"], "argument --l1-weight: must be >= 0, got -1.0."),
    ("pix2pix_facades", ["--bn-epsilon", "0"], "argument --bn-epsilon: must be > 0, got 0.0."),
    ("pix2pix_facades", ["--bn-momentum", "1"], "argument --bn-momentum: must be in [0, 1), got 1.0."),
    ("pix2pix_facades", ["--leaky-slope", "-0.2"], "argument --leaky-slope: must be >= 0, got -0.2."),
    ("pix2pix_facades", ["--d-every", "0"], "argument --d-every: must be >= 1, got 0."),
    ("pix2pix_facades", ["--load-size", "0"], "argument --load-size: must be >= 1, got 0."),
    ("pix2pix_facades", ["--image-size", "0"], "argument --image-size: must be >= 1, got 0."),
    ("cyclegan_horse2zebra", ["--num-blocks", "-1"], "argument --num-blocks: must be >= 0, got -1."),
    ("cyclegan_horse2zebra", ["--disc-layers", "0"], "argument --disc-layers: must be >= 1, got 0."),
    ("cyclegan_horse2zebra", ["--pool-size", "-1"], "argument --pool-size: must be >= 0, got -1."),
    ("cyclegan_horse2zebra", ["--cycle-weight", "-1"], "argument --cycle-weight: must be >= 0, got -1.0."),
    ("cyclegan_horse2zebra", ["--identity-weight", "-0.5"], "argument --identity-weight: must be >= 0, got -0.5."),
    ("cyclegan_horse2zebra", ["--val-count", "0"], "argument --val-count: must be >= 1, got 0."),
    ("cyclegan_horse2zebra", ["--decay-epochs", "0"], "argument --decay-epochs: must be >= 1, got 0."),
    ("cyclegan_horse2zebra", ["--epochs", "10", "--decay-epochs", "11"],
     "--decay-epochs must be between 1 and --epochs (10), got 11."),
    ("pix2pix_lineart", ["--val-count", "0"], "argument --val-count: must be >= 1, got 0."),
    ("pix2pix_lineart", ["--kernel-size", "0"], "argument --kernel-size: must be >= 1, got 0."),
    ("dcgan_mnist", ["--g-filters", "many"], "argument --g-filters: invalid int value: 'many'"),
]


@pytest.mark.parametrize("script, flags, message", OPTION_ERRORS,
                         ids=[f"{script}{''.join(flags)}" for script, flags, _ in OPTION_ERRORS])
def test_impossible_values_are_usage_errors_naming_the_flag_and_range(script, flags, message, capsys):
    with pytest.raises(SystemExit) as stopped:
        parse(script, *flags)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_the_epochs_error_says_how_to_rewrite_a_finished_run(capsys):
    with pytest.raises(SystemExit):
        parse("dcgan_folder", "--epochs", "0")
    assert "re-run it with --epochs equal to the epochs it has done" in capsys.readouterr().err


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_accepts_its_defaults_and_the_edges_of_the_ranges(script):
    spec = parse(script)
    assert spec.run.force_resume is False and spec.run.epochs >= 1
    edges = parse(script, "--eval-every", "0", "--eval-samples", "0", "--batch-size", "1", "--epochs", "1",
                  "--seed", "0", "--force-resume")
    assert edges.run.eval_every == 0 and edges.run.force_resume is True
