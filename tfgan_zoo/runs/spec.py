"""A run as one value: :class:`RunSpec`, everything a training run was asked to
do, from whichever front end (the experiment command line, a notebook, a test).

A spec never changes in place. Its mappings are read-only views, and the
methods that "change" it (:meth:`RunSpec.with_data`, :meth:`RunSpec.with_sources`,
:meth:`RunSpec.with_run`) return a new spec; ``dataclasses.replace`` works too.
The run's identity (what ``config.json`` records and a resume compares) is
built from it by :mod:`tfgan_zoo.runs.identity`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
JIT_CHOICES = ("auto", "on", "off")


def default_cache_dir() -> Path:
    """``$TFGAN_ZOO_CACHE``, else ``~/.cache/tfgan_zoo``: where evaluation classifiers and decoded data are kept."""
    return Path(os.environ.get("TFGAN_ZOO_CACHE", str(Path.home() / ".cache" / "tfgan_zoo")))


def _frozen(mapping: Mapping | None) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """How a run trains and where it writes; none of these is part of its identity,
    so a resumed run may change them (more ``epochs``, another ``eval_every``).

    Args:
        out: the run directory (re-running resumes there).
        epochs: the total number of epochs.
        seed: seed of the model's random streams and of the data order.
        lr: the Adam learning rate of G and D.
        precision: the dtype policy; "auto" picks per device.
        jit_compile: XLA for the train step: "auto" (on with a GPU), "on" or "off".
        strategy: the ``tf.distribute`` strategy's name (see :mod:`tfgan_zoo.distribute`).
        steps_per_epoch: batches per epoch (None: the whole dataset).
        eval_every: score the model every N epochs and at the end; 0 turns scoring off.
        eval_samples: images per evaluation.
        cache_dir: where evaluation classifiers and decoded data are kept.
        force_resume: resume even though the recorded identity differs (recording the change).
        verbose: ``fit``'s verbosity (None: 1 on a terminal, else 2).
        data_dir: the folder the data was read from (None: ``$TFGAN_ZOO_DATA`` or TFDS).
        from_preset: start from this preset's weights (a name, folder or ``hf://`` address;
            the preset itself is part of the run's identity).
    """

    out: Path
    epochs: int = 5
    seed: int = 0
    lr: float = 2e-4
    precision: str = "auto"
    jit_compile: str = "auto"
    strategy: str = "default"
    steps_per_epoch: int | None = None
    eval_every: int = 5
    eval_samples: int = 10000
    cache_dir: Path = dataclasses.field(default_factory=default_cache_dir)
    force_resume: bool = False
    verbose: int | None = None
    data_dir: str | None = None
    from_preset: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "out", Path(self.out))
        object.__setattr__(self, "cache_dir", Path(self.cache_dir))
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}.")
        if self.jit_compile not in JIT_CHOICES:
            raise ValueError(f"jit_compile must be one of {JIT_CHOICES}, got {self.jit_compile!r}.")

    def as_dict(self) -> dict:
        return {field.name: _plain(getattr(self, field.name)) for field in dataclasses.fields(self)}


def _plain(value):
    return str(value) if isinstance(value, Path) else value


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One training run, as asked for.

    Args:
        family: the family's class name (``"ConditionalGAN"``).
        model: its constructor options (those a front end sets; the rest keep the family's defaults).
        compile: its ``compile`` options beside the optimizers (``loss``, ``label_smoothing``, ...).
        data: the options that define the training data (``batch_size``, ``dataset``, ...): part of the identity.
        sources: what the data was read from, as recorded by :meth:`with_sources` (paths with
            fingerprints, array hashes, counts): part of the identity.
        run: how it trains and where it writes (:class:`RunOptions`).
        extra: a front end's own options that are neither data nor run options (``strict``,
            ``classifier_epochs``, ...), recorded in ``config.json`` for people.
        defaults: what each option of the front end is when not given (a command's
            defaults: its recipe, not only the family's), so that a run can list what was
            set otherwise; not part of the identity.
    """

    family: str
    run: RunOptions
    model: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    compile: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    data: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    sources: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        for name in ("model", "compile", "data", "sources", "extra", "defaults"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    def with_data(self, **options) -> RunSpec:
        """A spec whose data options are updated by ``options`` (e.g. a folder made absolute)."""
        return dataclasses.replace(self, data={**self.data, **options})

    def with_sources(self, **sources) -> RunSpec:
        """A spec that also records what the run reads, so that resuming on other data
        is refused like resuming with other options. Each ``name=value``: a path
        (``pathlib.Path``) records a folder's file count and fingerprint, or a file's
        size and content hash; a numpy array, or a tuple of them, its length and the
        hash of its bytes; plain values (counts, names) are kept; None is left out."""
        from tfgan_zoo.runs.identity import source_identity

        recorded = {name: source_identity(value) for name, value in sources.items() if value is not None}
        return dataclasses.replace(self, sources={**self.sources, **recorded})

    def with_run(self, **changes) -> RunSpec:
        """A spec whose run options are changed (e.g. ``steps_per_epoch`` derived from the data)."""
        return dataclasses.replace(self, run=dataclasses.replace(self.run, **changes))

    def option(self, name: str):
        """The value of ``name`` in the data, model, compile or extra options, in that order."""
        for group in (self.data, self.model, self.compile, self.extra):
            if name in group:
                return group[name]
        raise KeyError(f"{name!r} is not an option of this run ({self.family}).")
