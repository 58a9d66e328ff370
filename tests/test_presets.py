"""The shipped presets and the preset machinery: every shipped preset loads,
matches its checksums, re-measures its card's headline and fine-tunes a step;
presets are written, refused when tampered with, and started from.
The Hugging Face Hub round trip: test_preset_hub.py."""

import json
import shutil

import numpy as np
import pytest
import tensorflow as tf
from conftest import REPO, run_script
from families import FAMILIES

import tfgan_zoo
from tfgan_zoo import presets
from tfgan_zoo.presets import PresetError, making, quality
from tfgan_zoo.presets import __main__ as presets_command
from tfgan_zoo.runs.ownership import NotOurs

SHIPPED = list(presets.registry())
BUDGET_BYTES = 50 * 10**6
CARD_FACTS = ("## Quality", "## Data", "Licence:", "## How it was trained", "machine:", "wall time", "## Storage",
              "## Known limits", "| model.weights.h5 |")


def test_the_shipped_presets_fit_the_budget_and_each_has_weights_or_says_how_to_rebuild():
    assert SHIPPED, "no preset is shipped"
    total = sum(preset.size_bytes for preset in presets.available())
    assert total <= BUDGET_BYTES, f"the presets take {total / 1e6:.1f} MB, over the 50 MB budget"
    for preset in presets.available():
        assert preset.has_weights or "python" in preset.record["training"]["command"]


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_preset_loads_matches_its_checksums_and_has_a_full_card(name):
    preset = presets.locate(name)
    presets.verify(preset)
    model = tfgan_zoo.from_preset(name)
    assert type(model).__name__ == preset.family and model.preset.name == name
    assert model.compiled and model.g_optimizer is not model.d_optimizer
    card = preset.card()
    for fact in CARD_FACTS:
        assert fact in card, f"the card of {name} lacks {fact!r}"
    assert preset.headline in card
    # The card names the networks the model holds (an EMA copy only where there is one).
    assert preset.record["networks"] == making.network_names(model)
    assert all(f"`{network}`" in card for network in preset.record["networks"])
    assert ("ema_generator" in card) == (getattr(model, "ema_generator", None) is not None)
    assert "/work/" not in card and "/root/" not in json.dumps(preset.record), "a machine's path in the preset"


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_preset_reproduces_its_cards_headline_on_new_samples(name, data_dir):
    result = quality.reproduce(tfgan_zoo.from_preset(name), num_samples=500, data_dir=data_dir)
    assert abs(result["measured"] - result["card"]) <= result["tolerance"], result


@pytest.mark.parametrize("name", SHIPPED)
def test_fine_tuning_one_step_from_a_shipped_preset_trains_g_and_keeps_frozen_d_blocks(name):
    model = tfgan_zoo.from_preset(name, compile=False)
    model.compile(freeze_d_layers=1, run_eagerly=True)  # one step: tracing it would cost more
    discriminator = next(iter(model.discriminators.values()))
    frozen = [weight.numpy().copy() for weight in discriminator.non_trainable_weights]
    trained = [weight.numpy().copy() for weight in discriminator.trainable_weights]
    first_generator = next(iter(model.generators.values()))
    generator = [weight.numpy().copy() for weight in first_generator.trainable_weights]
    batch = _batch_like(model)
    model.fit(tf.data.Dataset.from_tensors(batch), epochs=1, verbose=0)
    assert all(np.array_equal(before, after.numpy()) for before, after in zip(frozen, discriminator.non_trainable_weights)
               if after.path.endswith(("kernel", "bias"))), "a frozen D block changed"
    assert any(not np.array_equal(before, after.numpy()) for before, after in zip(trained, discriminator.trainable_weights))
    assert any(not np.array_equal(before, after.numpy()) for before, after in zip(generator, first_generator.trainable_weights))


def _batch_like(model):
    rng = np.random.default_rng(0)
    if hasattr(model, "image_shape"):
        images = rng.integers(0, 256, (4, *model.image_shape), dtype=np.uint8)
        return (images, np.arange(4) % model.num_classes) if model.num_classes else images
    size = model.image_size
    shapes = ((model.input_channels, model.output_channels) if hasattr(model, "input_channels")
              else (model.channels, model.channels))
    return tuple(rng.integers(0, 256, (1, size, size, channels), dtype=np.uint8) for channels in shapes)


# ---------------------------------------------------------- making presets
@pytest.fixture(scope="module")
def tiny_preset(tmp_path_factory):
    model = FAMILIES["cgan"].build()
    folder = tmp_path_factory.mktemp("presets") / "tiny"
    record = {"name": "tiny", "family": type(model).__name__, "class_names": None, "model_config": {},
              "data": {"name": "none", "description": "no data", "licence": "none"},
              "training": {"command": "python -c pass", "epochs": 0, "weights_from": "initialisation",
                           "machine": "test", "wall_seconds": None, "precision": "float32"},
              "quality": {"figures": {}, "headline": "not measured", "epoch": None}, "limits": []}
    return model, making.write(model, folder, record)


def test_a_written_preset_loads_as_the_same_model_within_float16_rounding(tiny_preset):
    model, preset = tiny_preset
    loaded = tfgan_zoo.ConditionalGAN.from_preset(preset.folder)
    noise, labels = model.sample_inputs(8, seed=3)
    before, after = (np.asarray(gan.generate(noise, labels)) for gan in (model, loaded))
    assert np.abs(before - after).max() <= 2 / 255  # float16 weights: at most a level or so
    difference = preset.record["storage"]["output_difference"]
    assert difference["max_levels"] <= 2 and preset.record["storage"]["weights_dtype"] == "float16"
    assert set(preset.checksums) >= {"config.json", "metadata.json", "model.weights.h5", "README.md"}
    assert preset.record["networks"] == ["generator", "discriminator"]


def test_rewriting_a_shipped_card_keeps_the_weights_and_the_checksums_right(tmp_path, monkeypatch, capsys):
    name = "cgan_mnist"
    shipped = presets.locate(name)
    shutil.copytree(shipped.folder, tmp_path / name)
    record = json.loads((tmp_path / name / "preset.json").read_text())
    del record["networks"]  # as recorded before cards named the networks
    (tmp_path / name / "preset.json").write_text(json.dumps(record))
    (tmp_path / "registry.json").write_text(json.dumps({name: presets.registry()[name]}))
    for module in (presets, making):
        monkeypatch.setattr(module, "REGISTRY_FILE", tmp_path / "registry.json")
    monkeypatch.setattr(presets, "PRESETS_DIR", tmp_path)
    presets_command.main(["rewrite-card", name])
    assert "README.md" in capsys.readouterr().out
    rewritten = presets.locate(name)
    presets.verify(rewritten)  # the registry holds the new card's checksum
    assert rewritten.record["networks"] == ["generator", "discriminator"]
    assert "its networks `generator` and `discriminator`" in rewritten.card()
    assert rewritten.checksums["model.weights.h5"] == shipped.checksums["model.weights.h5"]
    assert (tmp_path / name / "README.md").read_text() == shipped.card()  # the shipped card is today's
    with pytest.raises(SystemExit, match="not a shipped preset"):
        presets_command.main(["rewrite-card", "no_such_preset"])


def test_a_preset_of_another_family_is_refused_by_name(tiny_preset):
    with pytest.raises(PresetError, match="holds a ConditionalGAN, not a Pix2Pix"):
        tfgan_zoo.Pix2Pix.from_preset(tiny_preset[1].folder)


def test_a_changed_file_is_refused_naming_it(tiny_preset, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_preset[1].folder, copy)
    with open(copy / "model.weights.h5", "r+b") as handle:
        handle.seek(-16, 2)
        handle.write(b"\x00" * 16)
    with pytest.raises(PresetError, match=r"model\.weights\.h5 does not match the checksum"):
        tfgan_zoo.from_preset(copy)


def test_a_shipped_preset_is_checked_against_the_registry_not_its_own_record(monkeypatch):
    name = SHIPPED[0]
    entries = presets.registry()
    entries[name] = {**entries[name], "files": {**entries[name]["files"], "config.json": "0" * 64}}
    monkeypatch.setattr(presets, "registry", lambda: entries)
    with pytest.raises(PresetError, match=r"config\.json does not match"):
        tfgan_zoo.from_preset(name)


def test_unknown_names_and_run_directories_are_explained(tmp_path):
    with pytest.raises(PresetError, match="neither a shipped preset"):
        tfgan_zoo.from_preset("no_such_preset")
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text("{}")
    with pytest.raises(PresetError, match="is a run directory, not a preset"):
        tfgan_zoo.from_preset(run)


def test_writing_a_preset_never_replaces_a_folder_of_the_users(tiny_preset, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(NotOurs):
        making.write(tiny_preset[0], folder, dict(tiny_preset[1].record))
    assert (folder / "notes.txt").read_text() == "mine" and sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".staging")]


# ---------------------------------------------- fine-tuning from a preset
def test_an_experiment_fine_tunes_from_a_preset_records_it_and_makes_a_preset(tmp_path, data_dir):
    run = tmp_path / "run"
    run_script(REPO / "experiments" / "cgan_mnist.py", "--out", run, "--data-dir", data_dir, "--epochs", 1,
               "--steps-per-epoch", 2, "--eval-every", 0, "--precision", "float32", "--verbose", 0,
               "--from-preset", "cgan_mnist", "--freeze-d-layers", 2)
    config = json.loads((run / "config.json").read_text())
    shipped = presets.registry()["cgan_mnist"]["files"]["model.weights.h5"]
    assert config["from_preset"] == {"name": "cgan_mnist", "weights_sha256": shipped}
    assert config["compile_config"]["freeze_d_layers"] == 2

    presets_command.main(["make", str(run), "tuned", "--out", str(tmp_path / "tuned")])
    tuned = tfgan_zoo.from_preset(tmp_path / "tuned")
    original = tfgan_zoo.from_preset("cgan_mnist")
    noise, labels = original.sample_inputs(16, seed=0)
    difference = np.abs(np.asarray(tuned.generate(noise, labels)) - np.asarray(original.generate(noise, labels)))
    # Two steps from the preset: close to it, yet trained (a scratch start would be noise).
    assert 0 < difference.mean() < 0.2


def test_a_preset_whose_weights_do_not_fit_names_the_option(tmp_path, data_dir):
    run = tmp_path / "run"
    with pytest.raises(SystemExit, match="--g-filters is 32 here but 64 in the preset"):
        run_script(REPO / "experiments" / "cgan_mnist.py", "--out", run, "--data-dir", data_dir, "--epochs", 1,
                   "--steps-per-epoch", 1, "--eval-every", 0, "--from-preset", "cgan_mnist", "--g-filters", 32)
    assert not (run / "config.json").exists(), "the refused run recorded an identity"


# ------------------------------------------------------------ the command
def test_the_command_lists_shows_and_exports(capsys, tmp_path):
    presets_command.main(["list"])
    listed = capsys.readouterr().out
    for name in SHIPPED:
        assert name in listed
    presets_command.main(["show", SHIPPED[0]])
    assert "## Quality" in capsys.readouterr().out
    presets_command.main(["export", "cgan_mnist", str(tmp_path / "export")])
    served = tf.saved_model.load(str(tmp_path / "export" / "1")).signatures["generate"]
    model = tfgan_zoo.from_preset("cgan_mnist")
    noise, labels = model.sample_inputs(4, seed=1)
    images = served(noise=tf.constant(noise), labels=tf.constant(labels, tf.int32))["images"].numpy()
    expected = np.clip(np.round((np.asarray(model.generate(noise, labels)) + 1) * 127.5), 0, 255)
    assert np.abs(images.astype(int) - expected).max() <= 1


def test_the_command_ends_a_missing_preset_in_one_line(capsys):
    with pytest.raises(SystemExit, match="neither a shipped preset"):
        presets_command.main(["show", "no_such_preset"])
