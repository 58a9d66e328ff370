"""Does starting from a preset beat training from scratch on a small new domain?

    python bench/finetune_preset.py [--preset dcgan_anime_64] [--budgets 2,5,10] [--seeds 0,1]
                                    [--out bench/results/finetune_preset.json] [--data-dir DIR]
    python bench/finetune_preset.py --quick --preset PRESET_FOLDER    # end to end in a few minutes
    python bench/finetune_preset.py --combine A.json B.json --out C.json   # one table from runs made apart

The target domain is one the preset never saw: the anime faces left out of
its training subset (``ImageFolder.subset(N, seed)`` with the N and seed its
record gives; for dcgan_anime_64 the 300 of 3,191 outside its 2,891), drawn as
monochrome line art by the package's renderer (:func:`tfgan_zoo.data.line_art`
at the picture's own size, then squared to the preset's size, as the
pix2pix_lineart pairs are), like someone's own pencil drawings. The rendered
set is cached in ``--cache-dir`` under a key of the source folder's content
and the rendering settings; the folder must be the one the preset recorded.

Three starts, each with DiffAugment (color,translation,cutout), an EMA
generator (0.999), the preset's architecture (from its config), Adam(2e-4,
0.5) for G and D, batches of 64 drawn from the repeated target set:

* ``scratch``: random weights;
* ``preset``: the preset's weights (:func:`tfgan_zoo.presets.finetune.start_from`);
* ``freeze_d``: the preset's weights with D's first ``--freeze-d-layers``
  blocks frozen (FreezeD, Mo et al. 2020; default 2 of DCGAN-64's 5 blocks:
  the first two stride-2 convolutions, the second with its batch norm, which
  then runs on the preset's moving statistics).

Each start and seed trains in a fresh process (equal tracing cost, nothing
shared), the starts of one seed one after the other, so that a change in the
machine's load falls on every start alike. The clock counts training steps only
(:class:`tfgan_zoo.callbacks.TrainingBudget`; the first step's tracing
included): it stops while samples are scored. Before training and as each
budget passes, ``--samples`` images of the EMA generator (the same noise every
time) are scored against the whole target set: domain-FID and domain-KID in
the features of a rotation-prediction network trained on the target set
(:func:`tfgan_zoo.experiment.folder_classifier`, dcgan_folder.py's evaluation
network, for 60 epochs instead of its 20, which leave it at chance on 300
images; cached, shared by every start). As many line drawings of other faces
of the folder (drawn from the preset's subset) give the real-vs-real floor, and
check the network: it must tell their rotations apart, never having seen them.

Prints Markdown tables (mean ± half the range over seeds, and the steps done)
and, per budget, whether transfer helps: "helps" when every seed of a
transfer start scores below every seed from scratch. Writes the figures of
every run to ``--out`` (after each run, so an interrupted bench keeps what it
did), and 8x8 sample sheets to ``--cache-dir``.

``--quick`` checks the whole path in a few minutes: budgets of 10 and 20
seconds (the first step's tracing alone takes 5 to 15 s on 2 cores), 128
samples, a 1-epoch feature network (at chance: its figures mean nothing),
results to ``bench/cache/finetune_preset_quick.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ARMS = {
    "scratch": "from scratch",
    "preset": "from the preset",
    "freeze_d": "preset + FreezeD",
}
RECIPE = {"diffaugment": "color,translation,cutout", "ema_decay": 0.999}
LEARNING_RATE = 2e-4
# Options of the preset's config that do not shape its networks: this bench sets its own.
NOT_ARCHITECTURE = ("name", "trainable", "dtype", "seed", *RECIPE)
# The noise of every scored sample set: one for every start, seed and budget.
SAMPLE_SEED = 1234
# Bumped when the rendering below changes, so that a cached target set made another way is not reused.
TARGET_VERSION = 1
LINE_ART = {"kernel_size": 3, "threshold": None}
FEATURE_SEED = 0
FLOOR_SEED = 0
# dcgan_folder.py's 20 epochs leave the rotation network at chance on 300 images (1,200 turned
# ones, 9 batches an epoch): it starts learning after about 20, and after 60 it tells 88% of the
# turns of faces it never saw apart.
CLASSIFIER_EPOCHS = 60


# ------------------------------------------------------------------ target
def _training_subset(preset) -> tuple[int, int]:
    """``(count, seed)`` of the ``subset`` the preset was trained on (its record)."""
    count = preset.record.get("data", {}).get("options", {}).get("subset")
    if not count:
        raise SystemExit(f"Preset {preset.name!r} records no --subset: it saw every image of its folder, so none "
                         "is held out to fine-tune on. Use a preset trained on a subset (dcgan_anime_64).")
    # The experiments draw the subset with the run seed, which is the model's seed.
    return int(count), int(preset.record["model_config"].get("seed", 0))


def _check_source(preset, images_dir: Path) -> str:
    """The content fingerprint of ``images_dir``, which must be the preset's training folder's."""
    from tfgan_zoo.runs.identity import source_identity

    fingerprint = source_identity(images_dir)["fingerprint"]
    recorded = preset.record.get("data", {}).get("sources", {}).get("images", {})
    if recorded.get("fingerprint_kind") != "content":
        print(f"Preset {preset.name!r} records no content fingerprint of its image folder: cannot check that "
              f"{images_dir} is the folder it was trained on.", file=sys.stderr)
    elif recorded.get("fingerprint") != fingerprint:
        raise SystemExit(
            f"{images_dir} is not the folder preset {preset.name!r} was trained on (fingerprint {fingerprint}, "
            f"recorded {recorded.get('fingerprint')}): its held-out images would not be held out. "
            "Pass the preset's own image folder (--data-dir)."
        )
    return fingerprint


def _render(path: Path, size: int, channels: int) -> np.ndarray:
    from tfgan_zoo.data import line_art, read_rgb, resize_square

    return np.repeat(resize_square(line_art(read_rgb(path), **LINE_ART)[..., None], size), channels, axis=-1)


def target_set(preset, images_dir: Path, cache_dir: Path, floor_count: int) -> tuple[dict, dict]:
    """``(sets, description)``. ``sets["target"]``: the line art of the images the preset
    did not train on, uint8 ``[N, S, S, C]`` at the preset's size and channels, and their
    file names (``sets["names"]``); ``sets["floor"]``: the line art of ``floor_count``
    other faces of the folder (drawn from the preset's subset), the real-vs-real floor
    of the scores and a held-out check of the feature network. Cached by content and settings."""
    from tfgan_zoo.data import load_image_folder
    from tfgan_zoo.data.lineart import METHOD_VERSION

    size, _, channels = preset.record["model_config"]["image_shape"]
    count, seed = _training_subset(preset)
    settings = {"version": TARGET_VERSION, "line_art_method": METHOD_VERSION, **LINE_ART, "size": size,
                "channels": channels, "held_out_of_subset": count, "subset_seed": seed, "floor_count": floor_count,
                "source_fingerprint": _check_source(preset, images_dir)}
    key = hashlib.blake2b(json.dumps(settings, sort_keys=True).encode(), digest_size=8).hexdigest()
    cache = cache_dir / f"finetune_target_{key}.npz"
    if not cache.is_file():
        folder = load_image_folder(images_dir, size)
        trained = folder.subset(count, seed=seed).files
        chosen = set(trained)
        held_out = [path for path in folder.files if path not in chosen]
        print(f"Rendering the line art of the {len(held_out)} of {len(folder.files)} images of {images_dir} "
              f"outside the preset's subset of {count} (seed {seed}), and of {floor_count} inside it.", flush=True)
        others = [trained[index] for index in
                  np.sort(np.random.default_rng(FLOOR_SEED).choice(len(trained), floor_count, replace=False))]
        target = np.stack([_render(path, size, channels) for path in held_out])
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = cache.with_name(f".{cache.stem}.{os.getpid()}.partial.npz")
        np.savez_compressed(partial, target=target,
                            names=np.array([path.relative_to(images_dir).as_posix() for path in held_out]),
                            floor=np.stack([_render(path, size, channels) for path in others]))
        os.replace(partial, cache)
        _save_preview(target, cache.with_suffix(".png"))
    with np.load(cache) as kept:
        sets = {"target": kept["target"], "names": [str(name) for name in kept["names"]], "floor": kept["floor"]}
    description = {**settings, "count": len(sets["target"]), "cache_key": key,
                   "fingerprint": hashlib.blake2b(sets["target"].tobytes(), digest_size=8).hexdigest()}
    return sets, description


def _save_preview(images: np.ndarray, path: Path) -> None:
    from tfgan_zoo.visualize import make_grid, save_image

    save_image(path, make_grid(images[:64], rows=8), scale=2)


# ------------------------------------------------------------------- a run
def _model(preset, arm: str, seed: int, freeze_d_layers: int):
    """The family model of ``preset``'s architecture with this bench's recipe, compiled, weights as ``arm`` says."""
    import keras

    import tfgan_zoo.models  # noqa: F401  registers the families with Keras
    from tfgan_zoo.presets import finetune

    family = keras.saving.get_registered_object(f"tfgan_zoo>{preset.family}")
    architecture = {key: value for key, value in preset.record["model_config"].items() if key not in NOT_ARCHITECTURE}
    model = family(**architecture, **RECIPE, seed=seed)
    model.compile(g_optimizer=keras.optimizers.Adam(LEARNING_RATE, beta_1=0.5),
                  d_optimizer=keras.optimizers.Adam(LEARNING_RATE, beta_1=0.5),
                  freeze_d_layers=freeze_d_layers if arm == "freeze_d" else 0)
    if arm != "scratch":
        finetune.start_from(model, preset)
    return model


def child(setting: dict) -> dict:
    """One start and seed, trained through every budget; returns its figures."""
    import keras

    from tfgan_zoo import metrics
    from tfgan_zoo.callbacks import TrainingBudget
    from tfgan_zoo.data import image_dataset, to_uint8
    from tfgan_zoo.presets import finetune
    from tfgan_zoo.visualize import sample_sheet, save_image

    arm, seed = setting["arm"], setting["seed"]
    with np.load(setting["target"]) as kept:
        target, floor = kept["target"], kept["floor"]
    classifier = metrics.cached_classifier(Path(setting["classifier"]), setting["network_key"])
    if classifier is None:
        raise SystemExit(f"The feature network {setting['classifier']} is gone; run the bench again.")
    evaluator = metrics.GANEvaluator(
        metrics.DomainFeatures(classifier, network_key=setting["network_key"]), target, held_out=floor,
        reference_split=f"the {len(target)} target images", max_reference=None, measures=("fid", "kid"),
        held_out_split=f"line art of {len(floor)} other faces of the folder",
    )
    keras.mixed_precision.set_dtype_policy(setting["precision"])
    keras.utils.set_random_seed(seed)
    model = _model(finetune.starting_point(setting["preset"]), arm, seed, setting["freeze_d_layers"])
    noise, _ = model.sample_inputs(setting["samples"], seed=SAMPLE_SEED)
    sheets = Path(setting["sheets"])

    def score(label: str) -> dict:
        images = np.concatenate([np.asarray(to_uint8(model.generate(noise[start:start + 250])))
                                 for start in range(0, len(noise), 250)])
        save_image(sheets / f"{arm}_seed{seed}_{label}.png", sample_sheet(model, 8, 8, seed=SAMPLE_SEED), scale=2)
        figures = evaluator.evaluate(images).figures
        return {"domain_fid": figures["domain_fid"], "domain_kid": figures["domain_kid"],
                "domain_kid_std": figures["domain_kid_std"]}

    start = score("start")
    print(f"  {arm} seed {seed}: start domain-FID {start['domain_fid']:.2f}", file=sys.stderr, flush=True)
    reached = []

    def at_budget(budget: float, seconds: float) -> None:
        steps = int(model.g_optimizer.iterations)
        figures = score(f"{budget:g}s")
        reached.append({"budget_s": budget, "train_s": round(seconds, 2), "steps": steps, **figures})
        print(f"  {arm} seed {seed}: {budget:g} s ({steps} steps) domain-FID {figures['domain_fid']:.2f}",
              file=sys.stderr, flush=True)

    dataset = image_dataset(target, batch_size=setting["batch_size"], seed=seed).repeat()
    clock = TrainingBudget(setting["budgets_s"], at_budget)
    model.fit(dataset, epochs=1, callbacks=[clock], verbose=0, shuffle=False)  # the dataset shuffles
    return {"start": start, "budgets": reached, "protocol": evaluator.protocol(setting["samples"])}


def run_child(setting: dict) -> dict:
    """:func:`child` in a fresh process; its progress goes to this one's stderr."""
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps(setting)], stdout=subprocess.PIPE,
                         text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, check=False)
    if out.returncode:
        raise SystemExit(f"The {setting['arm']} run of seed {setting['seed']} failed (exit {out.returncode}); "
                         "its error is above.")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------- summary
def _machine() -> dict:
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cpu_cores": os.cpu_count(), "system": f"{platform.system()} {platform.machine()}",
            "gpus": len(tf.config.list_physical_devices("GPU")), "load_average_at_start": list(os.getloadavg())}


def summarize(runs: list[dict], arms: list[str]) -> dict:
    """``{arm: {column: {figure: [values over seeds]}}}``, columns ``start`` and each budget in seconds."""
    table = {arm: {} for arm in arms}
    for run in runs:
        columns = {"start": {**run["start"], "steps": 0}, **{f"{point['budget_s']:g}": point
                                                             for point in run["budgets"]}}
        for column, point in columns.items():
            cell = table[run["arm"]].setdefault(column, {"domain_fid": [], "domain_kid": [], "steps": []})
            for figure in cell:
                cell[figure].append(point[figure])
    return table


def _number(value: float) -> str:
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3g}"


def _cell(values: list[float], scale: float = 1.0) -> str:
    values = np.asarray(values, float) * scale
    spread = f" ± {_number((values.max() - values.min()) / 2)}" if len(values) > 1 else ""
    return f"{_number(values.mean())}{spread}"


def _budget_name(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def markdown(table: dict, budgets_s: list[float], freeze_d_layers: int, seeds: list[int], floor: dict) -> list[str]:
    """The domain-FID and domain-KID tables, and the real-vs-real floor under them."""
    columns = ["start", *(f"{budget:g}" for budget in budgets_s)]
    names = {**ARMS, "freeze_d": f"{ARMS['freeze_d']} ({freeze_d_layers} D blocks)"}
    header = "| start | before training | " + " | ".join(_budget_name(budget) for budget in budgets_s) + " |"
    rule = "| --- |" + " ---: |" * len(columns)
    over = f"mean ± half the range over seeds {', '.join(map(str, seeds))}" if len(seeds) > 1 else f"seed {seeds[0]}"
    lines = [f"Domain-FID (lower is better; {over}; mean steps done):", "", header, rule]
    for arm, cells in table.items():
        lines.append(f"| {names[arm]} | " + " | ".join(
            _cell(cells[column]["domain_fid"]) + (f" ({np.mean(cells[column]['steps']):.0f} steps)"
                                                  if column != "start" else "")
            if column in cells else "–" for column in columns) + " |")
    lines += ["", "Domain-KID x 1000 (less biased at few samples):", "", header, rule]
    for arm, cells in table.items():
        lines.append(f"| {names[arm]} | " + " | ".join(
            _cell(cells[column]["domain_kid"], 1000) if column in cells else "–" for column in columns) + " |")
    lines += ["", f"Real floor: the line art of {floor['num_samples']} other faces of the folder scores domain-FID "
              f"{_number(floor['domain_fid'])}, domain-KID x 1000 {_number(1000 * floor['domain_kid'])} against the "
              "target: about what drawings as good as real ones would score."]
    return lines


def verdicts(table: dict, budgets_s: list[float]) -> list[str]:
    """Per budget, each transfer start against scratch: the change of mean domain-FID, and
    "helps" only when every seed of the start beats every seed of scratch ("hurts" the
    reverse), which two seeds a start can show and one cannot."""
    if "scratch" not in table:
        return []
    lines = []
    for budget in budgets_s:
        column = f"{budget:g}"
        scratch = table["scratch"].get(column, {}).get("domain_fid")
        if not scratch:
            continue
        parts = []
        for arm in ("preset", "freeze_d"):
            values = table.get(arm, {}).get(column, {}).get("domain_fid")
            if not values:
                continue
            change = np.mean(values) - np.mean(scratch)
            if min(len(values), len(scratch)) < 2:
                word = f"{'higher' if change > 0 else 'lower'} (one seed: no spread to judge by)"
            elif max(values) < min(scratch):
                word = "helps"
            elif min(values) > max(scratch):
                word = "hurts"
            else:
                word = "no clear difference (the seeds overlap)"
            parts.append(f"{ARMS[arm]} {word}: domain-FID {'+' if change >= 0 else '-'}{_number(abs(change))} "
                         f"({100 * change / np.mean(scratch):+.0f}%)")
        lines.append(f"Transfer at {_budget_name(budget)}, against from scratch: " + "; ".join(parts) + ".")
    return lines


def combine(files: list[Path], out: Path) -> None:
    """One record (runs of every file) and its tables, from results of the same settings but their seeds."""
    records = [json.loads(Path(file).read_text()) for file in files]
    first = records[0]
    different = [key for key in first["settings"] if key != "seeds"
                 and any(record["settings"].get(key) != first["settings"][key] for record in records)]
    if different or not all(record.get("complete") for record in records):
        raise SystemExit(f"Cannot combine: the files differ in {different} or are incomplete.")
    runs = [run for record in records for run in record["runs"]]
    seeds = sorted({run["seed"] for run in runs})
    settings = {**first["settings"], "seeds": seeds}
    table = summarize(runs, settings["arms"])
    verdict = verdicts(table, settings["budgets_s"])
    combined = {**first, "settings": settings, "runs": runs, "summary": table, "verdict": verdict,
                "combined_from": [{"file": Path(file).name, "machine": record["machine"],
                                   "wall_seconds": record.get("wall_seconds")} for file, record in zip(files, records)]}
    out.write_text(json.dumps(combined, indent=1) + "\n")
    lines = markdown(table, settings["budgets_s"], settings["freeze_d_layers"], seeds, first["protocol"]["real_floor"])
    print("\n".join([*lines, "", *verdict]))
    print(f"\nwrote {out}")


# -------------------------------------------------------------------- main
def feature_network(sets: dict, epochs: int, cache_dir: Path) -> dict:
    """The rotation network of the target set (trained once, cached): its key, and its
    rotation accuracy on the floor set, which it never saw (chance: 25%)."""
    from tfgan_zoo import metrics
    from tfgan_zoo.data import ImageFolder
    from tfgan_zoo.experiment import folder_classifier

    folder = ImageFolder(sets["target"], None, [], [Path(name) for name in sets["names"]])
    classifier, key = folder_classifier(folder, epochs, FEATURE_SEED, cache_dir)
    accuracy = metrics.classifier_accuracy(classifier, *metrics.rotation_task(sets["floor"], seed=FEATURE_SEED))
    print(f"Feature network: {accuracy:.0%} of the rotations of {len(sets['floor'])} held-out line-art faces "
          "told apart (chance: 25%).", flush=True)
    if accuracy < 0.5:
        print("  Its features tell little apart, and scores in them mean little: raise --classifier-epochs.",
              file=sys.stderr, flush=True)
    return {"task": "rotation", "epochs": epochs, "seed": FEATURE_SEED, "network_key": key,
            "held_out_rotation_accuracy": round(accuracy, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--preset", default="dcgan_anime_64", help="shipped preset name, preset folder or hf://")
    parser.add_argument("--budgets", default=None, help="training minutes at which to score (default 2,5,10)")
    parser.add_argument("--seeds", default="0,1", help="seeds of every start (model, data order, augmentation)")
    parser.add_argument("--arms", default=",".join(ARMS), help=f"starts to run, of {', '.join(ARMS)}")
    parser.add_argument("--freeze-d-layers", type=int, default=2, help="D blocks FreezeD keeps frozen")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--samples", type=int, default=None,
                        help="generated images per score, and real ones in the floor (default 1000)")
    parser.add_argument("--classifier-epochs", type=int, default=None,
                        help=f"epochs of the rotation feature network (default {CLASSIFIER_EPOCHS})")
    parser.add_argument("--precision", default="auto", help="dtype policy; auto: the experiments' default here")
    parser.add_argument("--data-dir", default=None, help="the anime_faces folder or its parent "
                        "(default: $TFGAN_ZOO_DATA)")
    parser.add_argument("--cache-dir", type=Path, default=HERE / "cache",
                        help="the rendered target set, the feature network and sample sheets")
    parser.add_argument("--out", type=Path, default=None,
                        help="results JSON (default bench/results/finetune_preset.json)")
    parser.add_argument("--quick", action="store_true", help="a check of the whole path in a few minutes")
    parser.add_argument("--combine", nargs="+", type=Path, default=None, metavar="RESULTS",
                        help="print and write (--out) one table from result files of the same settings, e.g. one "
                        "run per seed, each pinned to its own core (taskset -c N ... --seeds N)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    if args.combine:
        combine(args.combine, args.out or HERE / "results" / "finetune_preset.json")
        return
    quick = args.quick
    if args.budgets:
        budgets_s = [60 * float(minutes) for minutes in args.budgets.split(",")]
    else:
        budgets_s = [10.0, 20.0] if quick else [120.0, 300.0, 600.0]
    if budgets_s != sorted(budgets_s) or budgets_s[0] <= 0:
        parser.error(f"--budgets must be positive minutes in increasing order, got {args.budgets}")
    samples = args.samples or (128 if quick else 1000)
    classifier_epochs = args.classifier_epochs or (1 if quick else CLASSIFIER_EPOCHS)
    out = args.out or (HERE / "cache" / "finetune_preset_quick.json" if quick
                       else HERE / "results" / "finetune_preset.json")
    seeds = [int(seed) for seed in args.seeds.split(",")]
    arms = args.arms.split(",")
    unknown = [arm for arm in arms if arm not in ARMS]
    if unknown:
        parser.error(f"unknown start {unknown[0]!r}; choose from {', '.join(ARMS)}")

    from tfgan_zoo.data import resolve_paired_dir
    from tfgan_zoo.experiment import default_precision
    from tfgan_zoo.presets import PresetError, finetune

    try:
        preset = finetune.starting_point(args.preset)
    except PresetError as error:
        raise SystemExit(f"--preset: {error}") from None
    if preset.family != "DCGAN":
        raise SystemExit(f"Preset {preset.name!r} is a {preset.family}: this bench fine-tunes an unconditional "
                         "noise-to-image preset (DCGAN).")
    started = time.perf_counter()
    sets, target = target_set(preset, resolve_paired_dir("anime_faces", args.data_dir) / "images", args.cache_dir,
                              samples)
    features = feature_network(sets, classifier_epochs, args.cache_dir)
    precision = default_precision() if args.precision == "auto" else args.precision
    sheets = args.cache_dir / "finetune_preset_sheets"
    setting = {"preset": os.fspath(args.preset), "budgets_s": budgets_s, "samples": samples,
               "batch_size": args.batch_size, "freeze_d_layers": args.freeze_d_layers, "precision": precision,
               "target": str(args.cache_dir / f"finetune_target_{target['cache_key']}.npz"),
               "classifier": str(args.cache_dir / f"{features['network_key']}.keras"),
               "network_key": features["network_key"], "sheets": str(sheets)}

    import keras
    import tensorflow as tf

    record = {
        "bench": "finetune_preset", "quick": quick, "complete": False, "machine": _machine(),
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
        "settings": {
            "preset": preset.name, "preset_weights_sha256": finetune.identity(preset)["weights_sha256"],
            "family": preset.family, "model_config": {key: value for key, value in preset.record["model_config"].items()
                                                      if key not in NOT_ARCHITECTURE},
            **RECIPE, "optimizers": f"Adam({LEARNING_RATE}, beta_1=0.5) for G and D",
            "batch_size": args.batch_size, "freeze_d_layers": args.freeze_d_layers, "precision": precision,
            "budgets_s": budgets_s, "seeds": seeds, "arms": arms, "samples": samples, "sample_seed": SAMPLE_SEED,
            "clock": "training steps only (tracing of the first included); stopped while scoring",
            "feature_network": features,
        },
        "target": {**target, "domain": "line art (monochrome) of the anime faces the preset did not train on",
                   "renderer": "tfgan_zoo.data.line_art at the picture's size, then resize_square"},
        "runs": [],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    print(f"{target['count']} target images; {len(arms)} starts x {len(seeds)} seeds, budgets "
          f"{', '.join(_budget_name(budget) for budget in budgets_s)} of training each; {precision}", flush=True)
    for seed in seeds:
        for arm in arms:
            print(f"{ARMS[arm]}, seed {seed}:", file=sys.stderr, flush=True)
            result = run_child({**setting, "arm": arm, "seed": seed})
            record["protocol"] = result.pop("protocol")
            record["runs"].append({"arm": arm, "seed": seed, **result})
            out.write_text(json.dumps(record, indent=1) + "\n")
    table = summarize(record["runs"], arms)
    verdict = verdicts(table, budgets_s)
    record.update(complete=True, wall_seconds=round(time.perf_counter() - started),
                  load_average_at_end=list(os.getloadavg()), summary=table, verdict=verdict)
    out.write_text(json.dumps(record, indent=1) + "\n")
    lines = markdown(table, budgets_s, args.freeze_d_layers, seeds, record["protocol"]["real_floor"])
    print("\n" + "\n".join([*lines, "", *verdict]))
    print(f"\nwrote {out}; sample sheets in {sheets}")


if __name__ == "__main__":
    main()
