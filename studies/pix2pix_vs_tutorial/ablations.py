"""The study's ablations: named sets of settings, each taking one of ours' choices to the TF tutorial's.

A setting is either a :class:`tfgan_zoo.Pix2Pix` keyword argument or one of
:data:`DATA_DEFAULTS` (how ``pix2pix_vs_reference.py`` feeds ours the
training images). The README's ablation table says what each one changes.
"""

from __future__ import annotations

import argparse

# How pix2pix_vs_reference.py feeds ours by default: OpenCV decodes the JPEGs, files in
# natural order (2.jpg before 10.jpg), as tfgan_zoo.data.load_side_by_side.
DATA_DEFAULTS = {"decode": "opencv", "file_order": "natural"}

ABLATIONS = {
    "leaky_relu_0.3": {"leaky_slope": 0.3},
    "unhalved_d_loss": {"halve_d_loss": False},
    "innermost_batchnorm": {"innermost_norm": True},
    "bn_epsilon_1e-3": {"bn_epsilon": 1e-3},
    "unsynchronized_batchnorm": {"synchronized_bn": False},
    "no_bias_in_encoder_blocks": {"encoder_bias": False},
    "tf_jpeg_decoding": {"decode": "tf"},
    "tf_jpeg_decoding_sorted_files": {"decode": "tf", "file_order": "sorted"},
    # Plain batch norm here also takes Keras' default momentum, as the
    # tutorial's does; the tutorial's remaining choices are flags of
    # pix2pix_vs_reference.py: --precision float32 --ours-args="--jitter-resize nearest --simultaneous".
    "all_tutorial_choices": {
        "leaky_slope": 0.3, "halve_d_loss": False, "innermost_norm": True, "encoder_bias": False,
        "bn_epsilon": 1e-3, "bn_momentum": 0.99, "synchronized_bn": False, "decode": "tf",
    },
}


def names(text: str) -> list[str]:
    """argparse type of ``--ablation``: a comma list of :data:`ABLATIONS` names."""
    chosen = [name for name in text.split(",") if name]
    unknown = [name for name in chosen if name not in ABLATIONS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown ablation {', '.join(unknown)}; choose from {', '.join(ABLATIONS)}"
        )
    return chosen


def add_argument(parser: argparse.ArgumentParser, what: str = "") -> None:
    """Adds the repeatable ``--ablation NAME[,NAME...]`` option (``args.ablations``, a list)."""
    parser.add_argument(
        "--ablation", dest="ablations", type=names, action="extend", default=[], metavar="NAME[,NAME...]",
        help=f"apply these ablations (repeatable): {', '.join(ABLATIONS)}{what}",
    )


def resolve(chosen: list[str], **flags: str | None) -> dict:
    """The settings of the ``chosen`` ablations merged with ``flags`` (data
    options; None: not given). Settings that equal the defaults are left out,
    so that runs changing the same things record the same settings. Raises
    ValueError when two sources set one setting to different values."""
    sources = [(f"ablation {name}", ABLATIONS[name]) for name in chosen]
    sources += [(f"--{key.replace('_', '-')}", {key: value}) for key, value in flags.items() if value is not None]
    settings, origins = {}, {}
    for origin, values in sources:
        for key, value in values.items():
            if settings.get(key, value) != value:
                raise ValueError(
                    f"{origins[key]} sets {key}={settings[key]!r} but {origin} sets {key}={value!r}; "
                    "drop one of them."
                )
            settings[key], origins[key] = value, origin
    return {key: value for key, value in settings.items() if DATA_DEFAULTS.get(key) != value}


def split(settings: dict) -> tuple[dict, dict]:
    """``(Pix2Pix keyword arguments, data options with the defaults filled in)`` of ``settings``."""
    model = {key: value for key, value in settings.items() if key not in DATA_DEFAULTS}
    data = {key: settings.get(key, default) for key, default in DATA_DEFAULTS.items()}
    return model, data
