"""A run's identity and its admission check.

``RUN/config.json`` records what defines a run (:data:`IDENTITY`): the family,
its ``get_config()``, its compile config and the data (data options, the
sources recorded by :meth:`RunSpec.with_sources`, the class names). Running
again into the same directory resumes only when these match: a difference
stops the run before anything in the directory changes, naming every
difference, unless the spec's ``force_resume`` is set, which continues with
the new settings and records the change. Option names recorded under an older
spelling are read through :func:`tfgan_zoo.glossary.canonical`, and folders
fingerprinted by an older kind (names and sizes, before contents) are compared
by that kind, so that a run recorded before either change resumes unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import keras
import numpy as np

from tfgan_zoo import glossary
from tfgan_zoo.data.images import walk_files
from tfgan_zoo.runs import writes
from tfgan_zoo.runs.spec import RunSpec

IDENTITY = ("model", "model_config", "compile_config", "data", "from_preset")


# ---------------------------------------------------------------- sources
def source_identity(value):
    """What :meth:`RunSpec.with_sources` records for one source (see there)."""
    if isinstance(value, os.PathLike):
        return _path_identity(Path(value))
    if isinstance(value, np.ndarray):
        value = (value,)
    if isinstance(value, (tuple, list)) and value and all(isinstance(item, np.ndarray) for item in value):
        digest = hashlib.sha256()
        for array in value:
            digest.update(f"{array.dtype.str}{array.shape}".encode())
            digest.update(np.ascontiguousarray(array).data)
        return {"count": len(value[0]), "fingerprint": digest.hexdigest()[:16]}
    if isinstance(value, (bool, int, float, str)) or (
        isinstance(value, (list, tuple)) and all(isinstance(item, (bool, int, float, str)) for item in value)
    ):
        return value
    raise TypeError(
        f"A run's sources are paths (pathlib.Path), numpy arrays (or tuples of them) and plain values; "
        f"got {type(value).__name__}. Pass the path the data was read from, or the arrays."
    )


# How a folder's fingerprint was made, recorded beside it. Records written before
# kinds were recorded hashed names and sizes only; they are compared with that
# fingerprint of the folder now, so that such a run resumes unchanged on unchanged data.
CONTENT = "content"
NAMES_AND_SIZES = "names-and-sizes"
_CHUNK = 1 << 20


def _path_identity(path: Path, kind: str = CONTENT) -> dict:
    """A file's size and content hash, or a folder's file count and fingerprint of ``kind``:
    :data:`CONTENT` (names, sizes and bytes of every file) or :data:`NAMES_AND_SIZES`.

    Hashing every byte costs about what reading the folder costs, a small part of
    decoding its images (see bench/fingerprint_cost.py), and unlike names and sizes
    it sees a picture edited in place."""
    path = path.expanduser().resolve()
    if path.is_file():
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(chunk)
        return {"path": str(path), "bytes": path.stat().st_size, "fingerprint": digest.hexdigest()[:16]}
    if not path.is_dir():
        return {"path": str(path), "exists": False}
    # Hidden files (.DS_Store) are not data.
    files = sorted(
        (file.relative_to(path).as_posix(), file) for file in walk_files(path)
        if not any(part.startswith(".") for part in file.relative_to(path).parts)
    )
    if kind == NAMES_AND_SIZES:
        digest = hashlib.sha256(json.dumps([(name, _size(file)) for name, file in files]).encode())
        return {"path": str(path), "files": len(files), "fingerprint": digest.hexdigest()[:16]}
    if kind != CONTENT:
        raise ValueError(f"Unknown fingerprint kind {kind!r}; known: {CONTENT!r}, {NAMES_AND_SIZES!r}.")
    digest = hashlib.blake2b(digest_size=16)
    for name, file in files:
        # Name and size first: they keep one file's bytes from running into the next's.
        digest.update(json.dumps([name, _size(file)]).encode())
        try:
            with open(file, "rb") as handle:
                for chunk in iter(lambda: handle.read(_CHUNK), b""):
                    digest.update(chunk)
        except OSError as error:  # unreadable, or a dangling link, beside the data: its name and error count
            digest.update(f"unreadable: {error.strerror}".encode())
    return {"path": str(path), "files": len(files), "fingerprint": digest.hexdigest()[:16], "fingerprint_kind": CONTENT}


def _size(file: Path) -> int | None:
    try:
        return file.stat().st_size
    except OSError:
        return None


def _as_recorded(previous: dict, config: dict) -> dict:
    """``config`` with each folder source fingerprinted the way ``previous`` recorded it,
    when that was another (known) kind: an old record is compared with an old-kind
    fingerprint of the folder as it is now."""
    recorded, now = _sources(previous), _sources(config)
    redone = {}
    for name, record in recorded.items():
        current = now.get(name)
        if not (isinstance(record, dict) and isinstance(current, dict) and "files" in record and "files" in current):
            continue
        kind = record.get("fingerprint_kind", NAMES_AND_SIZES)
        if kind != current.get("fingerprint_kind", NAMES_AND_SIZES) and kind in (CONTENT, NAMES_AND_SIZES):
            redone[name] = _path_identity(Path(current["path"]), kind)
    if not redone:
        return config
    return {**config, "data": {**config["data"], "sources": {**now, **redone}}}


def _sources(record: dict) -> dict:
    data = record.get("data")
    sources = data.get("sources") if isinstance(data, dict) else None
    return sources if isinstance(sources, dict) else {}


# ----------------------------------------------------------------- config
def run_config(model, spec: RunSpec, class_names: list[str] | None = None, changed: dict | None = None,
               from_preset: dict | None = None) -> dict:
    """config.json of a run: its identity (:data:`IDENTITY`) and, outside it, the run
    options (``run``), the runtime the model was built for (``runtime``), the class
    names and ``changed``: ``{option: [default, value]}`` of the settings that
    differ from the defaults, for people (the run report shows them first).
    ``from_preset``: the preset the run started from (its name and weights' sha256)."""
    data = {
        **spec.data,
        **({"sources": dict(spec.sources)} if spec.sources else {}),
        **({"classes": list(class_names)} if class_names is not None else {}),
    }
    return json.loads(json.dumps({
        "model": type(model).__name__,
        "model_config": {key: value for key, value in model.get_config().items() if key != "name"},
        "compile_config": {
            key: _optimizer_identity(value) if key.endswith("optimizer") else value
            for key, value in model.get_compile_config().items()
        },
        "data": data,
        "run": {**spec.run.as_dict(), **spec.extra},
        "runtime": {
            "precision": model.dtype_policy.name, "jit_compile": bool(model.jit_compile),
            "replicas": model.distribute_strategy.num_replicas_in_sync,
        },
        **({"class_names": list(class_names)} if class_names is not None else {}),
        **({"changed": changed} if changed is not None else {}),
        **({"from_preset": from_preset} if from_preset is not None else {}),
    }, default=str))


def _optimizer_identity(config):
    """The parts of a serialized optimizer that define a run: not its ``name``
    (Keras numbers names per process, "adam_1"), nor a learning-rate schedule's
    step counts, which follow ``--epochs`` and may change when a run is extended;
    the schedule's kind and initial rate stay. Numbers are the float32 values
    the optimizer holds, written as such (0.001, not 0.0010000000474974513)."""
    if isinstance(config, float):
        return _float32(config)
    if not isinstance(config, dict):
        return config
    identity = {key: _optimizer_identity(value) for key, value in config.items() if key != "name"}
    rate = config.get("config", {}).get("learning_rate") if isinstance(config.get("config"), dict) else None
    if isinstance(rate, dict) and "initial_learning_rate" in rate.get("config", {}):
        identity["config"]["learning_rate"] = {
            "class_name": rate.get("class_name"), "initial_learning_rate": rate["config"]["initial_learning_rate"],
        }
    return identity


def _float32(value: float) -> float:
    return float(f"{value:.7g}")


def _flatten(value, prefix: str = "") -> dict:
    if isinstance(value, dict):
        return {key: leaf for name, item in value.items() for key, leaf in _flatten(item, f"{prefix}{name}.").items()}
    return {prefix.rstrip("."): value}


def _canonical(recorded: dict) -> dict:
    """``recorded``'s identity with option names of older spellings written as today's."""
    model_config = recorded.get("model_config")
    if isinstance(model_config, dict):
        recorded = {**recorded, "model_config": glossary.canonical(recorded.get("model"), model_config)}
    return recorded


def identity_changes(previous: dict, config: dict) -> dict:
    """``{key: (recorded, now)}`` for each identity entry (flattened, ``data.sources.images.path``) that differs."""
    previous = _canonical(previous)
    config = _as_recorded(previous, config)
    # Rates in configs written before they were rounded (0.00019999999494757503) are the same rates.
    before = {key: _float32(value) if isinstance(value, float) and "optimizer" in key else value
              for key, value in _flatten({key: previous.get(key) for key in IDENTITY}).items()}
    now = _flatten({key: config.get(key) for key in IDENTITY})
    return {key: (before.get(key), now.get(key)) for key in sorted({*before, *now}) if before.get(key) != now.get(key)}


def _listing(changed: dict) -> str:
    return "\n".join(f"  {key}: {old!r} -> {new!r}" for key, (old, new) in changed.items())


# -------------------------------------------------------------- admission
def admit(run_dir: Path, config: dict, force: bool) -> dict:
    """Compares ``config``'s identity with ``run_dir``'s config.json, then writes
    ``config`` there; returns the differences (only ever non-empty when forced).

    A difference stops the run with one message listing all of them, before
    anything in ``run_dir`` is created or changed. ``force`` continues instead,
    printing them, and config.json then records the new settings and, under
    ``forced_resumes``, each forced change."""
    path = run_dir / "config.json"
    previous, changed = None, {}
    if not path.exists() and any((run_dir / "checkpoints").glob("*.weights.h5")) and not force:
        raise SystemExit(
            f"{run_dir} holds checkpoints but no config.json, so it is unknown which settings they were "
            "trained with. Pass another --out (or delete that directory) to start a new run, or add "
            "--force-resume to continue from them with these settings."
        )
    if path.exists():
        try:
            previous = json.loads(path.read_text())
            if not isinstance(previous, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as error:
            if not force:
                raise SystemExit(
                    f"{path} cannot be read ({error}), so it is unknown which settings the run in {run_dir} had. "
                    "Pass another --out (or delete that directory) to start a new run, or add --force-resume "
                    "to continue it with these settings."
                ) from None
            previous = {}
        changed = identity_changes(previous, config)
        if changed and not force:
            raise SystemExit(
                f"{run_dir} holds a run with other settings than these ({len(changed)} differ; recorded -> now):\n"
                f"{_listing(changed)}\n"
                "Resuming would mix them: the checkpoint's weights and optimizer state (its learning rate too) "
                "were made with the recorded settings. To start a new run, pass another --out, or delete "
                f"{run_dir}; to continue this run with the new settings anyway, add --force-resume."
            )
        if changed:
            shapes = any(key.startswith("model_config.") for key in changed)
            print(f"--force-resume: {run_dir} continues with {len(changed)} setting(s) changed (recorded -> now):\n"
                  f"{_listing(changed)}\nconfig.json records the new settings."
                  + (" A model option that changes the networks' shapes will fail to load the checkpoint."
                     if shapes else ""), file=sys.stderr)
    history = list((previous or {}).get("forced_resumes", []))
    if changed:
        history.append({key: [old, new] for key, (old, new) in changed.items()})
    record = {**config, **({"forced_resumes": history} if history else {})}
    run_dir.mkdir(parents=True, exist_ok=True)
    # Written whole or not at all: a kill mid-write must not leave a run without its identity.
    writes.replace_durably(path, json.dumps(record, indent=2, sort_keys=True).encode(), run_dir / ".config.json.tmp")
    return changed


class KeepLearningRates(keras.callbacks.Callback):
    """Sets the optimizers' learning rates back to this run's after the backup's
    restore, which loads the checkpoint's (a learning rate given as a number is
    an optimizer variable): a forced resume with another learning rate then trains at it.
    Done at the first batch, so that the order of the callbacks does not matter."""

    def __init__(self, model):
        super().__init__()
        self.rates = {}
        for name in ("g_optimizer", "d_optimizer"):
            optimizer = getattr(model, name, None)
            inner = getattr(optimizer, "inner_optimizer", optimizer)
            if isinstance(getattr(inner, "_learning_rate", None), keras.Variable):
                self.rates[name] = float(inner.learning_rate)

    def on_train_batch_begin(self, batch, logs=None):
        for name, rate in self.rates.items():
            getattr(self.model, name).learning_rate = rate
        self.rates = {}


def resume_callbacks(model, changed: dict) -> list:
    """The callbacks a forced resume needs for its new settings to hold."""
    return [KeepLearningRates(model)] if any("learning_rate" in key for key in changed) else []
