"""Re-measuring a preset's headline figure on a small sample, with the evaluation network it ships.

A preset made from a run keeps the network that judged the run
(``evaluator.keras``: the domain classifier whose reading gave the label
accuracy, or whose features gave the domain-FID/KID), so its card's figure
can be checked anywhere, offline, in seconds. Label accuracy needs nothing
else; KID needs the real images it was measured against (the data folder);
a line-art pix2pix preset's PSNR needs its validation pictures, drawn again;
a CycleGAN preset's target-domain share needs the validation pictures of its
unpaired data (the same ones the run was scored on).
"""

from __future__ import annotations

import math

import numpy as np

EVALUATOR_FILE = "evaluator.keras"
# How far a re-measured share may fall from the card's: this many binomial
# standard errors of the card's value at the sample size, and at least one point.
STANDARD_ERRORS = 3.0
MIN_TOLERANCE = 0.01


def evaluator(model):
    """The evaluation network shipped with ``model``'s preset (None when it ships none)."""
    import keras

    path = model.preset.folder / EVALUATOR_FILE
    if EVALUATOR_FILE not in model.preset.checksums:
        return None
    return keras.saving.load_model(path, compile=False)


def label_accuracy(model, judge, num_samples: int, seed: int) -> float:
    """The share of ``num_samples`` samples (classes in turn) that ``judge`` reads as their class."""
    from tfgan_zoo.metrics import predict_classes

    noise, labels = model.sample_inputs(num_samples, seed=seed)
    images = np.concatenate([np.asarray(model.generate(noise[start:start + 250], labels[start:start + 250]))
                             for start in range(0, num_samples, 250)])
    return float(np.mean(predict_classes(judge, images) == labels))


def tolerance(share: float, num_samples: int) -> float:
    return max(MIN_TOLERANCE, STANDARD_ERRORS * math.sqrt(share * (1 - share) / num_samples))


def reference_images(preset, data_dir) -> np.ndarray:
    """The real images the preset's figures were measured against: its training data, read from ``data_dir``."""
    from pathlib import Path

    from tfgan_zoo.data import load_idx_dataset, load_image_folder

    data = preset.record["data"]
    options = data.get("options", {})
    if data["name"] in ("mnist", "fashion_mnist"):
        return load_idx_dataset(data["name"], "train", data_dir)[0]
    folder = load_image_folder(Path(data_dir) / data["name"] / Path(options["images"]).name,
                               image_size=options.get("image_size", 64))
    if options.get("subset"):
        # The experiments draw the subset with the run's seed, which the model's seed is.
        folder = folder.subset(options["subset"], seed=preset.record["model_config"].get("seed", 0))
    return folder.images


def kid(model, judge, reference: np.ndarray, num_samples: int, seed: int) -> float:
    """Domain-KID of ``num_samples`` samples against ``reference`` in ``judge``'s features, as the runs measure it."""
    from tfgan_zoo.metrics import DomainFeatures, GANEvaluator

    noise, labels = model.sample_inputs(num_samples, seed=seed)
    images = np.concatenate([np.asarray(model.generate(noise[start:start + 250], None if labels is None
                                                       else labels[start:start + 250]))
                             for start in range(0, num_samples, 250)])
    scorer = GANEvaluator(DomainFeatures(judge), reference, measures=("kid",))
    return float(scorer.evaluate(images).figures["domain_kid"])


# How far a re-measured PSNR may be from the card's: the same validation pairs,
# so only the float16 storage of the weights moves it.
PSNR_TOLERANCE_DB = 0.25


def lineart_validation_pairs(preset, data_dir) -> tuple[np.ndarray, np.ndarray]:
    """The validation pairs of a line-art pix2pix preset, made as its experiment makes them:
    the last ``val_count`` pictures by name, drawn by :func:`tfgan_zoo.data.make_lineart_pairs`."""
    import shutil
    import tempfile
    from pathlib import Path

    from tfgan_zoo.data import load_folder_pairs, make_lineart_pairs, resolve_paired_dir

    options = preset.record["data"]["options"]
    source = resolve_paired_dir("anime_faces", data_dir) / "images"
    names = sorted(path.name for path in source.iterdir() if path.is_file())
    with tempfile.TemporaryDirectory() as scratch:
        picked = Path(scratch) / "source"
        picked.mkdir()
        # Pairs load sorted by name, so the last val_count names are the validation split.
        for name in sorted(names, key=lambda name: Path(name).stem)[-options["val_count"]:]:
            shutil.copyfile(source / name, picked / name)
        make_lineart_pairs(picked, Path(scratch) / "pairs", kernel_size=options.get("kernel_size", 3))
        inputs, targets, _ = load_folder_pairs(Path(scratch) / "pairs" / "lineart", Path(scratch) / "pairs" / "color",
                                               preset.record["model_config"]["image_size"])
    return inputs, targets


def unpaired_validation(preset, data_dir) -> tuple[np.ndarray, np.ndarray]:
    """``(images_a, images_b)``: the validation split of an unpaired preset's data, held out
    of trainA/trainB as its experiment held it out (by file name), at the preset's size."""
    from tfgan_zoo.data import load_unpaired, resolve_unpaired_dir

    data = preset.record["data"]
    root = resolve_unpaired_dir(data["name"], data_dir)
    images_a, images_b, _, _ = load_unpaired(root, preset.record["model_config"]["image_size"], "val",
                                             data.get("options", {}).get("val_count", 100))
    return images_a, images_b


def reproduce(model, num_samples: int = 500, seed: int = 1, data_dir=None) -> dict:
    """``{"figure", "card", "measured", "tolerance", "num_samples"}``: the card's headline figure
    measured again on ``num_samples`` new samples (seeds other than the card's).

    Label accuracy within :func:`tolerance`; KID (for presets whose headline is
    a domain-FID: KID is unbiased at any sample count, FID is not) within
    three of the card's standard deviations over KID subsets, scaled to the
    smaller sample (the spread grows as one over its square root). A CycleGAN's
    A->B target-domain share is measured on the validation pictures the run
    was scored on (at most ``num_samples``), within two of those pictures.
    """
    from tfgan_zoo.presets import PresetError

    figures = model.preset.record["quality"]["figures"]
    judge = evaluator(model)
    if judge is not None and figures.get("label_accuracy") is not None:
        card = float(figures["label_accuracy"])
        return {"figure": "label_accuracy", "card": card, "measured": label_accuracy(model, judge, num_samples, seed),
                "tolerance": tolerance(card, num_samples), "num_samples": num_samples}
    if judge is not None and figures.get("domain_kid") is not None and data_dir is not None:
        card_samples = model.preset.record["quality"].get("protocol", {}).get("num_samples", num_samples)
        spread = float(figures["domain_kid_std"]) * math.sqrt(max(1.0, min(card_samples, 1000) / num_samples))
        measured = kid(model, judge, reference_images(model.preset, data_dir), num_samples, seed)
        return {"figure": "domain_kid", "card": float(figures["domain_kid"]), "measured": measured,
                "tolerance": STANDARD_ERRORS * spread, "num_samples": num_samples}
    if judge is not None and figures.get("a_to_b_target_share") is not None and data_dir is not None:
        from tfgan_zoo.metrics.translation import target_share

        card = float(figures["a_to_b_target_share"])
        measured_on = model.preset.record["quality"].get("protocol", {}).get("num_samples") or num_samples
        images_a = unpaired_validation(model.preset, data_dir)[0][: min(num_samples, measured_on)]
        measured = target_share(judge, model.translate(images_a, direction="a_to_b"), "b")
        # The pictures the card's share was measured on: only the float16 storage moves it (two pictures at most).
        return {"figure": "a_to_b_target_share", "card": card, "measured": measured,
                "tolerance": max(MIN_TOLERANCE, 2 / len(images_a)), "num_samples": len(images_a)}
    if figures.get("psnr") is not None and data_dir is not None and "val_count" in model.preset.record["data"]["options"]:
        from tfgan_zoo.metrics import psnr

        inputs, targets = lineart_validation_pairs(model.preset, data_dir)
        return {"figure": "psnr", "card": float(figures["psnr"]), "measured": psnr(model.translate(inputs), targets),
                "tolerance": PSNR_TOLERANCE_DB, "num_samples": len(inputs)}
    raise PresetError(f"Preset {model.preset.name!r}'s headline cannot be re-measured here: it needs its "
                      "evaluation network (evaluator.keras) and, for a KID, the data folder (data_dir). Its card "
                      "says how it was measured.")
