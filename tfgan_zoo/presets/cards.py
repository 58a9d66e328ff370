"""The model card of a preset (``README.md``, which the Hugging Face Hub shows as the model's page)."""

from __future__ import annotations

import json
from pathlib import Path

from tfgan_zoo.presets import CARD_FILE

# The figure a family's quality is summed up by, best first; each is shown only when measured.
_HEADLINES = (
    ("label_accuracy", "label accuracy {:.2%} (read by the evaluation classifier)"),
    ("a_to_b_target_share", "A->B target-domain share {:.1%}"),
    ("b_to_a_target_share", "B->A target-domain share {:.1%}"),
    ("psnr", "PSNR {:.2f} dB"),
    ("ssim", "SSIM {:.3f}"),
    ("l1", "L1 {:.4f}"),
    ("domain_fid", "domain-FID {:.2f}"),
    ("fid", "FID {:.2f}"),
    ("a_to_b_fid", "A->B domain-FID {:.2f}"),
)
HEADLINE_FIGURES = 2


def headline(family: str, figures: dict, protocol: dict) -> str:
    """One line of the preset's measured quality (the first figures of :data:`_HEADLINES` it has)."""
    parts = [text.format(figures[key]) for key, text in _HEADLINES if figures.get(key) is not None]
    if not parts:
        return "not measured"
    samples = protocol.get("num_samples")
    suffix = f" on {samples:,} samples" if samples else ""
    return ", ".join(parts[:HEADLINE_FIGURES]) + suffix


def _size(folder: Path, name: str) -> str:
    path = folder / name
    return f"{path.stat().st_size / 1e6:.2f} MB" if path.is_file() else "?"


def _minutes(seconds) -> str:
    return "not recorded" if seconds is None else f"{seconds / 60:.0f} min"


def _holdings(record: dict) -> str:
    """What the loaded model holds: its networks by name where the record lists them (records
    made before cards named them say "every network it trained")."""
    networks = record.get("networks")
    if not networks:
        return "every network it trained and the compile config"
    named = [f"`{network}`" for network in networks]
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    return f"its network{'s' if len(named) > 1 else ''} {listed}, and the compile config"


def render_card(record: dict, folder: Path) -> str:
    """The card of ``record`` whose files are in ``folder``, in Markdown."""
    training, data, quality, storage = record["training"], record["data"], record["quality"], record["storage"]
    difference = storage["output_difference"]
    name = record["name"]
    lines = [
        "---",
        "library_name: keras",
        "tags: [tfgan_zoo, gan, " + record["family"].lower() + "]",
        "---",
        f"# {name}: {record['family']} on {data['name']}",
        "",
        f"A tfgan_zoo preset: `tfgan_zoo.from_preset({name!r})` returns the full {record['family']} "
        f"({_holdings(record)}), ready to generate or translate, to fit further, or to export.",
        "",
        "## Quality",
        "",
        f"**{quality['headline']}** (epoch {quality.get('epoch')}, {training['weights_from']}), measured by the "
        "package's own evaluators during training:",
        "",
        "| figure | value |",
        "| --- | --- |",
    ]
    lines += [f"| {key} | {value:.4g} |" for key, value in sorted(quality["figures"].items())
              if isinstance(value, (int, float))]
    protocol = quality.get("protocol") or {}
    if protocol.get("extractor_description"):
        lines += ["", f"Features: {protocol['extractor_description']}."]
    if "evaluator.keras" in record["files"]:
        lines += ["", "The network that judged it ships as `evaluator.keras`: "
                  "`tfgan_zoo.presets.quality.reproduce(model)` measures the headline again on new samples "
                  "(the test suite does, for every shipped preset)."]
    lines += [
        "",
        "## Data",
        "",
        f"{data['description']}. Licence: {data['licence']}.",
    ]
    if record.get("class_names"):
        lines += ["", "Classes (the ids `generate` takes, in order): " + ", ".join(record["class_names"]) + "."]
    lines += [
        "",
        "## How it was trained",
        "",
        "```",
        training["command"],
        "```",
        "",
        f"Epochs: {training['epochs']}; weights from {training['weights_from']}; precision "
        f"{training['precision']}; machine: {training['machine']}; wall time {_minutes(training['wall_seconds'])}.",
        "",
        "## Storage",
        "",
        f"Weights in {storage['weights_dtype']}, without optimizer state (fine-tuning starts Adam afresh"
        + "".join(f"; {note}" for note in training.get("optimizer_notes") or ()) + "). "
        f"Outputs against the float32 weights, on {difference['compared']}: at most {difference['max_levels']} "
        f"grey level(s) of 255 apart, {difference['share_over_1_level']:.3%} of pixels more than 1 level apart.",
        "",
        "| file | size |",
        "| --- | --- |",
    ]
    # The card's own file is left out: its size is not known while it is being written.
    lines += [f"| {file} | {_size(folder, file)} |" for file in sorted(record["files"]) if file != CARD_FILE]
    lines += ["", "## Known limits", ""]
    lines += [f"- {limit}" for limit in record["limits"]] or ["- none recorded"]
    lines += [
        "",
        "## Configuration",
        "",
        "```json",
        json.dumps(record["model_config"], indent=1, sort_keys=True),
        "```",
        "",
    ]
    return "\n".join(lines)
