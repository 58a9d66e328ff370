"""Trained models that come with the package: ``tfgan_zoo.from_preset(name_or_path)``.

A preset is a folder in Keras's own model format (``config.json``,
``metadata.json``, ``model.weights.h5``: ``keras.saving.load_model`` reads it,
and Keras saves and loads it on the Hugging Face Hub as ``hf://user/name``),
plus two files of ours:

* ``README.md``, the model card: the data and its licence, the exact command
  that trained it, the machine and wall time, the quality measured by the
  package's own evaluators, known limits, file sizes;
* ``preset.json``, the same facts for programs, and the sha256 of every other
  file of the folder.

The weights are stored in float16 (the card gives the measured output
difference) and without optimizer state: fine-tuning starts its optimizers
afresh, with the recorded compile config. Loading checks every file's sha256
(the shipped presets' against ``registry.json``, which lives apart from the
folders) and stops with an error naming the file on a mismatch.

A name is looked up among the shipped presets (``python -m tfgan_zoo.presets
list``); ``hf://user/name`` is fetched with huggingface_hub (offline from its
cache with ``HF_HUB_OFFLINE=1``); anything else is a preset folder's path.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

PRESETS_DIR = Path(__file__).resolve().parent
REGISTRY_FILE = PRESETS_DIR / "registry.json"
RECORD_FILE = "preset.json"
CARD_FILE = "README.md"
KERAS_FILES = ("config.json", "metadata.json", "model.weights.h5")
HUB_PREFIX = "hf://"
# The marker kind (tfgan_zoo.runs.ownership) of a folder that `make` writes.
FOLDER_KIND = "preset"


class PresetError(ValueError):
    """A preset that cannot be found, read or trusted; the message names it and the fix."""


@dataclass(frozen=True)
class Preset:
    """A preset folder and its record (``preset.json``)."""

    name: str
    folder: Path
    record: dict
    checksums: dict  # file name -> sha256 that the file must have
    shipped: bool = False
    # Fetched from the Hub: huggingface_hub's cache keeps each file once, in this folder, and links the
    # snapshot folder's files there; links into it are the preset's files, as are plain files.
    blobs: Path | None = None

    @property
    def family(self) -> str:
        return self.record["family"]

    @property
    def data(self) -> str:
        return self.record.get("data", {}).get("name", "?")

    @property
    def size_bytes(self) -> int:
        return sum((self.folder / name).stat().st_size for name in self.checksums if (self.folder / name).is_file())

    @property
    def has_weights(self) -> bool:
        return "model.weights.h5" in self.checksums

    @property
    def headline(self) -> str:
        return self.record.get("quality", {}).get("headline", "not measured")

    def card(self) -> str:
        try:
            return (self.folder / CARD_FILE).read_text(encoding="utf-8")
        except OSError as error:
            raise PresetError(f"The card of preset {self.name!r} ({self.folder / CARD_FILE}) cannot be read "
                              f"({error.strerror}).") from error


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_json(path: Path, what: str) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PresetError(f"{path} ({what}) cannot be read: {error.strerror}.") from error
    except ValueError as error:
        raise PresetError(f"{path} ({what}) is not valid JSON ({error}): the file is damaged; "
                          "reinstall the package or fetch the preset again.") from error
    if not isinstance(value, dict):
        raise PresetError(f"{path} ({what}) does not hold a JSON object: the file is damaged.")
    return value


def registry() -> dict:
    """The shipped presets: name -> ``{"folder", "files": {name: sha256}}``."""
    if not REGISTRY_FILE.exists():
        return {}
    return _read_json(REGISTRY_FILE, "the registry of shipped presets")


def available() -> list[Preset]:
    """Every shipped preset, in the registry's order."""
    return [locate(name) for name in registry()]


def _fetch_from_hub(path: str) -> Path:
    repo_id = path[len(HUB_PREFIX):].strip("/")
    if repo_id.count("/") != 1:
        raise PresetError(f"{path!r} is not a Hugging Face Hub preset address: write hf://USER/NAME.")
    try:
        import huggingface_hub
    except ImportError as error:
        raise PresetError("Loading a preset from the Hugging Face Hub needs huggingface_hub: "
                          "pip install huggingface_hub") from error
    try:
        return Path(huggingface_hub.snapshot_download(repo_id=repo_id, library_name="tfgan_zoo"))
    except Exception as error:  # the hub's errors have no common base across versions
        raise PresetError(
            f"{path} could not be fetched from the Hugging Face Hub ({type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else ''}). Check the name and the network; offline, "
            "HF_HUB_OFFLINE=1 reads a copy fetched before from huggingface_hub's cache."
        ) from error


def locate(name_or_path: str | os.PathLike) -> Preset:
    """The :class:`Preset` a name, ``hf://`` address or folder path refers to (files not yet checked)."""
    text = os.fspath(name_or_path)
    shipped = registry()
    if text in shipped:
        entry = shipped[text]
        folder = PRESETS_DIR / entry["folder"]
        record = _read_json(folder / RECORD_FILE, f"the record of preset {text!r}")
        return Preset(text, folder, record, dict(entry["files"]), shipped=True)
    blobs = None
    if text.startswith(HUB_PREFIX):
        folder = _fetch_from_hub(text)
        blobs = folder.parent.parent / "blobs"  # the cache's REPO/snapshots/COMMIT beside REPO/blobs
    else:
        folder = Path(text)
        if not folder.is_dir():
            known = ", ".join(shipped) or "none"
            raise PresetError(
                f"{text!r} is neither a shipped preset (those are: {known}; python -m tfgan_zoo.presets list) "
                "nor a preset folder. Give a name from the list, a folder made by "
                "`python -m tfgan_zoo.presets make RUN NAME`, or hf://USER/NAME."
            )
        if (folder / "config.json").is_file() and (folder / "checkpoints").is_dir():
            raise PresetError(
                f"{folder} is a run directory, not a preset. Make one from it first: "
                f"python -m tfgan_zoo.presets make {folder} NAME"
            )
    record = _read_json(folder / RECORD_FILE, "the preset's record")
    return Preset(record.get("name", folder.name), folder, record, dict(record.get("files", {})), blobs=blobs)


def verify(preset: Preset) -> None:
    """Checks that every file of ``preset`` is a regular file in its folder with its recorded sha256."""
    if not preset.checksums:
        raise PresetError(f"Preset {preset.name!r} ({preset.folder}) lists no files and checksums in "
                          f"{RECORD_FILE}: it is damaged, or was not made by tfgan_zoo.")
    folder = preset.folder.resolve()
    linked_home = preset.blobs.resolve() if preset.blobs is not None else None
    for name, expected in preset.checksums.items():
        path = preset.folder / name
        home = linked_home if path.is_symlink() else folder
        if home is None or not path.is_file() or path.resolve().parent != home:
            raise PresetError(f"{path}, a file of preset {preset.name!r}, is missing or not a regular file "
                              "inside the preset's folder. Reinstall the package or fetch the preset again.")
        actual = file_sha256(path)
        if actual != expected:
            raise PresetError(
                f"{path} does not match the checksum recorded for preset {preset.name!r} (sha256 {actual[:16]}..., "
                f"expected {expected[:16]}...): the file was changed or damaged. Reinstall the package "
                "(git checkout the file) or fetch the preset again; never load weights that fail their check."
            )


def load(preset: Preset, compile: bool = True):
    """The family model held by ``preset`` (checked first), with its compile config when ``compile``."""
    import keras

    import tfgan_zoo.models  # noqa: F401  registers the families with Keras

    verify(preset)
    if not preset.has_weights:
        raise PresetError(
            f"Preset {preset.name!r} ships its card but no weights (they did not fit the size budget). "
            f"Rebuild it with the command in its card: python -m tfgan_zoo.presets show {preset.name}"
        )
    with warnings.catch_warnings():
        # Presets keep no optimizer moments (fine-tuning starts them afresh), which Keras reports.
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        model = keras.saving.load_model(preset.folder, compile=compile)
    model.preset = preset
    return model


def from_preset(name_or_path: str | os.PathLike, compile: bool = True):
    """A shipped preset by name, a preset folder, or ``hf://user/name``, as its full family model.

    The model holds every network (generators, discriminators, the EMA copy)
    and, when ``compile``, is compiled with its recorded compile config: ready
    to ``generate``/``translate``, to ``fit`` further, or to ``export``. Its
    ``preset`` attribute is the :class:`Preset` (``model.preset.card()``).
    """
    return load(locate(name_or_path), compile=compile)


__all__ = ["Preset", "PresetError", "available", "from_preset", "locate", "verify", "load", "registry"]
