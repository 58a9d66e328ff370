"""Starting a run from a preset's weights (``--from-preset NAME|PATH``).

The model is built with the run's own options; the preset's weights are then
copied in network by network. They fit only when the networks have the same
shapes: a difference stops the run before it starts, naming the options that
differ from the preset's and their values there. Options that shape no weight
(DiffAugment, EMA decay, dropout, the seed, the losses) may differ: that is
what fine-tuning changes.
"""

from __future__ import annotations

import os

from tfgan_zoo.presets import Preset, PresetError, load, locate, verify

# Options that shape no weight, left out of a mismatch's explanation.
_WEIGHTLESS = {"name", "trainable", "dtype", "seed", "diffaugment", "ema_decay", "d_dropout", "pool_size",
               "jitter", "load_size", "jitter_resize", "l1_weight", "cycle_weight", "identity_weight", "aux_weight"}


def starting_point(source: str | os.PathLike) -> Preset:
    """The checked preset ``source`` refers to (its files verified, nothing loaded)."""
    preset = locate(source)
    verify(preset)
    return preset


def identity(preset: Preset) -> dict:
    """What a run's config.json records of the preset it started from (part of its identity)."""
    return {"name": preset.name, "weights_sha256": preset.checksums.get("model.weights.h5")}


def _flag(option: str) -> str:
    return "--" + option.replace("_", "-")


def _mismatch(preset_model, model, network: str) -> PresetError:
    ours, theirs = model.get_config(), preset_model.get_config()
    differing = [f"{_flag(key)} is {ours.get(key)!r} here but {theirs.get(key)!r} in the preset"
                 for key in sorted({*ours, *theirs} - _WEIGHTLESS) if ours.get(key) != theirs.get(key)]
    if type(model) is not type(preset_model):
        differing.insert(0, f"the family is {type(model).__name__} here but {type(preset_model).__name__} "
                            "in the preset")
    reason = "; ".join(differing) or f"the {network} network's layers differ"
    return PresetError(
        f"The weights of preset {preset_model.preset.name!r} do not fit this run's networks ({network}): {reason}. "
        "Set those options to the preset's values (python -m tfgan_zoo.presets show NAME lists them), "
        "or train from scratch without --from-preset."
    )


def _copy(source, target, preset_model, model, network: str) -> None:
    if [tuple(weight.shape) for weight in source.weights] != [tuple(weight.shape) for weight in target.weights]:
        raise _mismatch(preset_model, model, network)
    target.set_weights(source.get_weights())


def start_from(model, preset: Preset) -> None:
    """Copies ``preset``'s weights into ``model``: every generator and
    discriminator, and the EMA copy (the preset's, else its generator's)."""
    preset_model = load(preset, compile=False)
    if type(model) is not type(preset_model):
        raise _mismatch(preset_model, model, "whole")
    ours = {**model.generators, **model.discriminators}
    theirs = {**preset_model.generators, **preset_model.discriminators}
    for name, network in ours.items():
        _copy(theirs[name], network, preset_model, model, name)
    average = getattr(model, "ema_generator", None)
    if average is not None:
        source = getattr(preset_model, "ema_generator", None) or preset_model.generator
        _copy(source, average, preset_model, model, "EMA generator")
