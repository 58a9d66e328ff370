"""Writing presets: from a model (:func:`write`) or from a finished run directory (:func:`make`).

The folder is written as a staging folder beside the target, checked by
loading it back, then renamed into place; an existing target is replaced
only when it is a preset folder that tfgan_zoo made (its ``.tfgan_zoo``
marker), never a folder of the user's.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import time
from pathlib import Path

import h5py
import keras
import numpy as np

from tfgan_zoo.presets import (
    CARD_FILE, FOLDER_KIND, KERAS_FILES, PRESETS_DIR, RECORD_FILE, REGISTRY_FILE, Preset, PresetError, file_sha256,
    load, locate, registry,
)
from tfgan_zoo.presets.cards import headline, render_card
from tfgan_zoo.presets.quality import EVALUATOR_FILE
from tfgan_zoo.runs import ownership, replace_durably

FORMAT_VERSION = 1
WRITER = "tfgan_zoo.presets"
# Compared outputs: generated from these seeds (noise-to-image) or translated
# from these random images (image-to-image), on the 0-255 scale.
COMPARED_SAMPLES = 64
# What the stored dtype must keep: float16 holds the weights of these networks
# to 3 decimal digits and up to 65504; an array that would overflow stays float32.
FLOAT16_MAX = float(np.finfo(np.float16).max)


def _compact_weights(source: Path, target: Path) -> dict:
    """Copies Keras's ``model.weights.h5`` without optimizer state, float32 arrays as float16.

    Returns counts of the arrays and bytes kept. Keras loads float16 arrays into
    its float32 variables (assignment casts); the optimizer groups are left out,
    as fine-tuning starts Adam's moments afresh (Keras warns that it skips them).
    """
    kept = {"float16": 0, "float32": 0, "other": 0}

    def copy(name, item):
        if not isinstance(item, h5py.Dataset):
            return
        if name.split("/", 1)[0].endswith("optimizer"):
            return
        value = item[()]
        if value.dtype == np.float32 and np.all(np.abs(value) <= FLOAT16_MAX):
            value = value.astype(np.float16)
            kept["float16"] += 1
        else:
            kept["float32" if value.dtype == np.float32 else "other"] += 1
        destination.create_dataset(name, data=value)

    with h5py.File(source, "r") as origin, h5py.File(target, "w") as destination:
        origin.visititems(copy)
    return kept


def _uint8(images) -> np.ndarray:
    images = np.asarray(images, dtype=np.float32)
    return np.clip(np.round((images + 1.0) * 127.5), 0, 255).astype(np.int16)


def _outputs(model, seed: int = 0) -> dict[str, np.ndarray]:
    """The model's images for a fixed set of inputs, by output name, on the 0-255 scale."""
    if hasattr(model, "sample_inputs"):
        noise, labels = model.sample_inputs(COMPARED_SAMPLES, seed=seed)
        return {"generate": _uint8(model.generate(noise, labels))}
    size = model.image_size
    translators = model.translators
    outputs = {}
    # Pix2Pix maps input_channels to output_channels; CycleGAN's two domains share channels.
    channels = getattr(model, "input_channels", None) or model.channels
    for name, network in translators.items():
        images = np.random.default_rng(seed).uniform(-1, 1, (16, size, size, channels)).astype(np.float32)
        outputs[name] = _uint8(network(images, training=False))
    return outputs


def output_difference(original, stored) -> dict:
    """How far the stored model's images are from the original's (0-255 levels)."""
    before, after = _outputs(original), _outputs(stored)
    differences = np.concatenate([np.abs(before[name] - after[name]).ravel() for name in before])
    return {
        "max_levels": int(differences.max()),
        "mean_levels": round(float(differences.mean()), 4),
        "share_over_1_level": round(float(np.mean(differences > 1)), 6),
        "compared": "64 generated samples (seeds 0..63)" if "generate" in before
        else "16 random images per direction",
    }


def _staging_sibling(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    return ownership.new_folder(target.parent, f".staging-{target.name}-", FOLDER_KIND, WRITER)


def network_names(model) -> list[str]:
    """The names of the networks ``model`` holds (its layers that are models: generators,
    discriminators, an EMA copy; not an image pool), in the order the family tracks them."""
    return [layer.name for layer in model.layers if isinstance(layer, keras.Model)]


def rewrite_card(name: str) -> Preset:
    """Renders the card of the shipped preset ``name`` again from its record, with today's card
    (for maintainers changing the card): the weights stay; the record gains what the card
    reads from the loaded model, and the card's new checksum goes into ``registry.json``."""
    entries = registry()
    if name not in entries:
        raise PresetError(f"{name!r} is not a shipped preset; the shipped ones: {', '.join(entries)}.")
    preset = locate(name)
    record = dict(preset.record)
    if preset.has_weights:  # a card-only preset keeps what its record says
        record["networks"] = network_names(load(preset, compile=False))
    _replace(preset.folder / CARD_FILE, render_card(record, preset.folder))
    record["files"] = {**record["files"], CARD_FILE: file_sha256(preset.folder / CARD_FILE)}
    _replace(preset.folder / RECORD_FILE, json.dumps(record, indent=1, sort_keys=True) + "\n")
    entries[name]["files"][CARD_FILE] = record["files"][CARD_FILE]  # entries: read afresh above
    _write_registry(entries)
    return Preset(name, preset.folder, record, entries[name]["files"])


def _replace(path: Path, text: str) -> None:
    replace_durably(path, text.encode("utf-8"), path.with_name(f".{path.name}.tmp"))


def _write_registry(entries: dict) -> None:
    _replace(REGISTRY_FILE, json.dumps(entries, indent=1) + "\n")


def write(model, folder: str | os.PathLike, record: dict, judge: Path | None = None) -> Preset:
    """Writes ``model`` as a preset folder with ``record`` (see :func:`make`) and its card.

    Measures the float16 output difference, fills ``record["storage"]`` and
    ``record["files"]``, renders the card, and renames the checked folder into place.
    ``judge``: the evaluation network that measured the card's figures, shipped
    as ``evaluator.keras`` (without optimizer state) so that they can be re-measured.
    """
    folder = Path(folder)
    if folder.exists() or folder.is_symlink():
        ownership.claim(folder, FOLDER_KIND, WRITER)  # refuses, naming it, a folder that is not ours
    staging = _staging_sibling(folder)
    try:
        full = staging / "full"
        keras.saving.save_model(model, full, zipped=False)
        for name in KERAS_FILES[:2]:
            shutil.copyfile(full / name, staging / name)
        counts = _compact_weights(full / "model.weights.h5", staging / "model.weights.h5")
        shutil.rmtree(full)
        names = list(KERAS_FILES)
        if judge is not None:
            keras.saving.load_model(judge, compile=False).save(staging / EVALUATOR_FILE)
            names.append(EVALUATOR_FILE)
        record = dict(record, format=FORMAT_VERSION)
        record["files"] = {name: file_sha256(staging / name) for name in names}
        stored = load(Preset(record["name"], staging, record, dict(record["files"])))
        record["storage"] = {
            "weights_dtype": "float16", "arrays": counts, "optimizer_state": False,
            "output_difference": output_difference(model, stored),
        }
        record["networks"] = network_names(model)
        (staging / CARD_FILE).write_text(render_card(record, staging), encoding="utf-8")
        record["files"][CARD_FILE] = file_sha256(staging / CARD_FILE)
        (staging / RECORD_FILE).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        if folder.exists():
            ownership.remove_ours(folder, FOLDER_KIND)  # claimed above: a preset folder of ours
        staging.rename(folder)
    except BaseException:
        if staging.exists():
            ownership.remove_ours(staging, FOLDER_KIND)
        raise
    return Preset(record["name"], folder, record, dict(record["files"]))


# ------------------------------------------------------------- from a run
def _run_figures(run: Path) -> tuple[dict, dict, int | None]:
    """``(figures, protocol, epoch)`` of the run's best evaluation (noise-to-image runs), else its
    final one (translation runs), else its last logged one."""
    for recorded in (run / "best" / "best.json", run / "evaluation.json"):
        if recorded.is_file():
            record = json.loads(recorded.read_text(encoding="utf-8"))
            return record.get("figures", {}), record.get("protocol", {}), record.get("epoch")
    log = run / "logs" / "training.csv"
    if log.is_file():
        with open(log, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        for row in reversed(rows):
            # Translation runs log their validation scores as val_l1, val_psnr, val_ssim.
            figures = {key.removeprefix("val_"): float(value) for key, value in row.items()
                       if value and key != "epoch" and ("fid" in key or "accuracy" in key or "share" in key
                                                        or key.removeprefix("val_") in ("l1", "psnr", "ssim"))}
            if figures:
                return figures, {}, int(row["epoch"]) + 1
    return {}, {}, None


def _weights_of_run(run: Path) -> tuple[Path, str]:
    best = run / "best" / "best.weights.h5"
    if best.is_file():
        return best, "the best evaluated epoch (RUN/best)"
    latest = run / "checkpoints" / "latest.weights.h5"
    if latest.is_file():
        return latest, "the last finished epoch (RUN/checkpoints)"
    raise PresetError(f"{run} holds no weights (neither best/best.weights.h5 nor checkpoints/latest.weights.h5): "
                      "train the run first.")


def model_of_run(run: str | os.PathLike):
    """The run's family model in float32, compiled as recorded, with the run's chosen weights."""
    import tfgan_zoo.models  # noqa: F401  registers the families with Keras

    run = Path(run)
    config_file = run / "config.json"
    if not config_file.is_file():
        raise PresetError(f"{run} is not a run directory (no config.json): give the --out folder of a "
                          "finished experiment.")
    config = json.loads(config_file.read_text(encoding="utf-8"))
    family = keras.saving.get_registered_object(f"tfgan_zoo>{config['model']}")
    if family is None:
        raise PresetError(f"{run}: its family {config['model']!r} is not registered with Keras; import the "
                          "module that defines it first.")
    model = family.from_config({**config["model_config"], "dtype": "float32"})
    if config.get("compile_config"):
        model.compile_from_config(restorable_compile_config(config["compile_config"])[0])
    weights, chosen = _weights_of_run(run)
    model.load_weights(weights)
    return model, config, chosen


def restorable_compile_config(recorded: dict) -> tuple[dict, list[str]]:
    """``(compile config, notes)``: the run's recorded compile config made one Keras can
    compile from. A run records a learning-rate schedule by its kind and initial rate
    only (its step counts follow ``--epochs``: tfgan_zoo.runs.identity), so each such
    schedule becomes its initial rate, constant, and a note for the card says so."""
    config, replaced = json.loads(json.dumps(recorded)), {}
    for key, optimizer in config.items():
        settings = optimizer.get("config") if isinstance(optimizer, dict) else None
        rate = settings.get("learning_rate") if isinstance(settings, dict) else None
        if isinstance(rate, dict) and "config" not in rate and "initial_learning_rate" in rate:
            settings["learning_rate"] = float(rate["initial_learning_rate"])
            replaced.setdefault((rate.get("class_name") or "learning-rate", settings["learning_rate"]), []).append(key)
    notes = [f"the run's {kind} schedule of {' and '.join(keys)} is not kept: the preset starts at its initial "
             f"rate, {initial:g}, constant, and a fine-tuning run sets its own" for (kind, initial), keys in replaced.items()]
    return config, notes


def _judge_of_run(config: dict, protocol: dict) -> Path | None:
    """The cached evaluation network that measured the run's figures, when it is still in the cache."""
    key, cache = protocol.get("network_key"), (config.get("run") or {}).get("cache_dir")
    if not key or not cache:
        return None
    # Keys are recorded with the file's suffix by older versions, without it since caches are keyed by content.
    for path in (Path(cache) / key, Path(cache) / f"{key}.keras"):
        if path.is_file():
            return path
    return None


_KNOWN_DATA = {
    "mnist": ("MNIST handwritten digits (LeCun, Cortes, Burges), 60,000 training images",
              "CC BY-SA 3.0 (as distributed by its authors)"),
    "fashion_mnist": ("Fashion-MNIST (Xiao, Rasul, Vollgraf 2017), 60,000 training images",
                      "MIT, Copyright 2017 Zalando SE"),
    "anime_faces": ("anime faces of the MLDS 2017 HW3 set (96x96 crops, hair/eye colour tags), as in "
                    "shared/data/anime_faces", "none stated in the source; artwork copyright stays with its "
                    "owners: research and testing only"),
    "horse2zebra": ("horse2zebra (ImageNet photos of horses and zebras, the CycleGAN layout)",
                    "ImageNet's terms: non-commercial research only"),
    "facades": ("CMP Facade Database pairs (pix2pix layout)", "published by its authors for research"),
}


def _data_name(data: dict) -> str:
    if data.get("dataset"):
        return str(data["dataset"])
    for key in ("images", "pairs_dir", "data_dir"):
        if data.get(key):
            parts = Path(str(data[key])).parts
            for part in reversed(parts):
                if part in _KNOWN_DATA:
                    return part
            return parts[-1]
    for source in (data.get("sources") or {}).values():
        if isinstance(source, dict) and source.get("path"):
            for part in reversed(Path(source["path"]).parts):
                if part in _KNOWN_DATA:
                    return part
    return "the run's own data"


def _without_paths(value):
    """The record without this machine's absolute paths (they name nothing on another machine)."""
    if isinstance(value, dict):
        return {key: _without_paths(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_paths(item) for item in value]
    if isinstance(value, str) and os.path.isabs(value):
        return f".../{Path(value).name}"
    return value


def make(run: str | os.PathLike, name: str, out: str | os.PathLike | None = None, *, command: str | None = None,
         wall_seconds: float | None = None, machine: str | None = None, limits: tuple[str, ...] = (),
         data_licence: str | None = None, register: bool = False) -> Preset:
    """Turns the finished run directory ``run`` into the preset ``name`` in ``out``.

    The card is filled from the run's config.json (family, options, data and
    its sources), its best evaluation (``RUN/best/best.json``), else its final
    one (``RUN/evaluation.json``), else the last evaluated epoch of its log) and what is given here: the training
    ``command``, its ``wall_seconds`` and ``machine``, known ``limits``.
    With ``register`` the preset is written into the package's presets folder
    and added to ``registry.json`` (for maintainers shipping it).
    """
    if not name or not name.replace("_", "").replace("-", "").isalnum() or not name.isascii():
        raise PresetError(f"{name!r} is not a preset name: use letters, digits, '_' and '-'.")
    run = Path(run)
    model, config, chosen = model_of_run(run)
    figures, protocol, epoch = _run_figures(run)
    data = config.get("data", {})
    data_name = _data_name(data)
    description, licence = _KNOWN_DATA.get(data_name, (f"{data_name} (the run's own data)", "not stated"))
    family = type(model).__name__
    record = {
        "name": name,
        "family": family,
        "class_names": config.get("class_names") or None,
        "model_config": _without_paths(config["model_config"]),
        "data": {"name": data_name, "description": description, "licence": data_licence or licence,
                 "options": _without_paths({key: value for key, value in data.items() if key != "sources"}),
                 "sources": _without_paths(data.get("sources", {}))},
        "training": {
            "command": command or "not recorded (the run's options are in the card's configuration)",
            "epochs": (config.get("run") or {}).get("epochs"),
            "weights_from": chosen,
            "machine": machine or "not recorded",
            "wall_seconds": wall_seconds,
            "precision": (config.get("runtime") or {}).get("precision"),
            "optimizer_notes": restorable_compile_config(config.get("compile_config") or {})[1],
            "made": time.strftime("%Y-%m-%d", time.gmtime()),
        },
        "quality": {"figures": figures, "epoch": epoch, "headline": headline(family, figures, protocol),
                    "protocol": _without_paths(protocol)},
        "limits": list(limits),
    }
    if register:
        out = PRESETS_DIR / name
    elif out is None:
        out = Path("presets") / name
    preset = write(model, out, record, judge=_judge_of_run(config, protocol))
    if register:
        entries = registry()
        entries[name] = {"folder": name, "files": preset.checksums}
        _write_registry(entries)
    return preset
