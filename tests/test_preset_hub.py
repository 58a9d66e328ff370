"""Sharing presets through the Hugging Face Hub, without the internet: the shipped
``cgan_mnist`` pushed by ``python -m tfgan_zoo.presets push`` (its main, in this
process) to a local stand-in for the Hub (tests/hub_endpoint.py), then fetched back
by ``tfgan_zoo.from_preset("hf://...")`` and by Keras's own ``load_model``;
huggingface_hub's offline mode over the cache that download filled; a fetched file
changed or linked elsewhere afterwards, refused; a run directory pushed as a preset. huggingface_hub's cache and token
live in tmp_path.
"""

import keras
import numpy as np
import pytest
from conftest import REPO, run_script
from hub_endpoint import FIRST_FILES, serve, use

import tfgan_zoo
from tfgan_zoo.presets import PresetError, locate, making
from tfgan_zoo.presets.__main__ import main as presets_main

pytest.importorskip("huggingface_hub", reason="the hub extra is not installed: pip install -e '.[hub]'")

SHIPPED = "cgan_mnist"
ADDRESS = "hf://someone/cgan_mnist"
REPO_ID = "someone/cgan_mnist"


@pytest.fixture
def hub(monkeypatch, tmp_path):
    with serve() as hub:
        use(monkeypatch, hub.url, tmp_path / "hf")
        yield hub


def generated(model) -> np.ndarray:
    noise, labels = model.sample_inputs(20, seed=3)
    return np.asarray(model.generate(noise, labels))


def push(hub, capsys) -> None:
    presets_main(["push", SHIPPED, ADDRESS])
    assert f"Pushed to {ADDRESS}" in capsys.readouterr().out
    # The preset's files and record, beside what the Hub made: not the folder's ownership marker.
    assert set(hub.files(REPO_ID)) == {*locate(SHIPPED).checksums, "preset.json", *FIRST_FILES}


def test_a_pushed_preset_loads_back_with_identical_outputs_and_card(hub, capsys):
    push(hub, capsys)
    original = tfgan_zoo.from_preset(SHIPPED, compile=False)
    fetched = tfgan_zoo.from_preset(ADDRESS)
    assert type(fetched) is type(original)
    assert np.array_equal(generated(fetched), generated(original))
    assert fetched.preset.card() == original.preset.card()
    assert fetched.preset.record == original.preset.record
    # Keras's own hf:// support reads the same folder: the model without our card and checks
    # (uncompiled: the preset keeps no optimizer state, which Keras would warn about).
    assert np.array_equal(generated(keras.saving.load_model(ADDRESS, compile=False)), generated(original))


def test_offline_mode_loads_from_the_cache_the_first_download_filled(hub, capsys, monkeypatch, tmp_path):
    push(hub, capsys)
    locate(ADDRESS)  # fetches into the cache without building the model
    hub.stop()
    use(monkeypatch, hub.url, tmp_path / "hf", offline=True)
    offline = tfgan_zoo.from_preset(ADDRESS, compile=False)
    assert np.array_equal(generated(offline), generated(tfgan_zoo.from_preset(SHIPPED, compile=False)))
    with pytest.raises(PresetError, match="HF_HUB_OFFLINE=1 reads a copy fetched before"):
        locate("hf://someone/never_fetched")


def test_a_fetched_file_changed_afterwards_is_refused_naming_it(hub, capsys):
    push(hub, capsys)
    weights = locate(ADDRESS).folder / "model.weights.h5"
    with open(weights, "r+b") as handle:  # through huggingface_hub's link: the cached copy itself
        handle.seek(-1, 2)
        last = handle.read(1)
        handle.seek(-1, 2)
        handle.write(bytes([last[0] ^ 1]))
    with pytest.raises(PresetError, match=r"model\.weights\.h5 does not match the checksum"):
        tfgan_zoo.from_preset(ADDRESS)


def test_a_fetched_file_linked_outside_the_cache_is_refused_even_with_its_content(hub, capsys, tmp_path):
    """The links followed are huggingface_hub's own, into the repository's blobs."""
    push(hub, capsys)
    config = locate(ADDRESS).folder / "config.json"
    elsewhere = tmp_path / "config.json"
    elsewhere.write_bytes(config.read_bytes())
    config.unlink()
    config.symlink_to(elsewhere)
    with pytest.raises(PresetError, match=r"config\.json, a file of preset 'cgan_mnist', is missing or not a regular"):
        tfgan_zoo.from_preset(ADDRESS)


def test_pushing_without_a_token_says_how_to_log_in(monkeypatch, tmp_path):
    with serve() as hub:
        use(monkeypatch, hub.url, tmp_path / "hf", token=None)
        with pytest.raises(SystemExit, match="hf auth login") as refusal:
            presets_main(["push", SHIPPED, ADDRESS])
    assert str(refusal.value).startswith(f"error: Uploading to {ADDRESS} failed")
    assert hub.repos == {}


def test_a_run_directory_is_made_into_a_preset_and_pushed(hub, capsys, tmp_path, data_dir):
    run = tmp_path / "run"
    run_script(REPO / "experiments" / "dcgan_mnist.py", "--out", run, "--data-dir", data_dir, "--epochs", "1",
               "--steps-per-epoch", "1", "--batch-size", "8", "--g-filters", "4", "--d-filters", "4",
               "--latent-dim", "8", "--eval-every", "0", "--precision", "float32", "--verbose", "0")
    capsys.readouterr()
    presets_main(["push", str(run), "hf://someone/tiny_run"])
    assert "Pushed to hf://someone/tiny_run" in capsys.readouterr().out
    fetched = tfgan_zoo.from_preset("hf://someone/tiny_run")
    assert fetched.preset.family == "DCGAN" and fetched.preset.record["data"]["name"] == "mnist"
    # The same preset as `make` writes from the run here: float16 weights of its checkpoint.
    local = making.make(run, "tiny_run", tmp_path / "local")
    assert np.array_equal(generated(fetched), generated(tfgan_zoo.from_preset(local.folder)))
