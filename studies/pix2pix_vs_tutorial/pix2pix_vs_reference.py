"""tfgan_zoo's Pix2Pix against the TensorFlow tutorial's pix2pix, side by side on facades.

    python studies/pix2pix_vs_tutorial/pix2pix_vs_reference.py --data-dir ../shared/data [--steps 400]

Trains each for the same number of single-image steps (label map -> photo,
256x256, batch 1, the tutorial's and the paper's setting), each in its own
process: the reference (`pix2pix_reference.py`, jitter in a `tf.data`
map, a `tf.function` step, float32 as published) and ours as
`experiments/pix2pix_facades.py` builds it with its defaults (jitter inside
the compiled step, `--precision auto`, XLA `auto`). Speed counts the steps
after the first `--warmup-steps` (tracing included in those), input pipeline
included. Both generators are then scored by the same code on the 100
facades val pairs, in two modes:

* ``paper``: G with ``training=True`` at batch 1 (per-image batch-norm
  statistics, dropout on): what the paper and the tutorial do at test time;
* ``inference``: ``training=False`` (moving statistics, no dropout): what a
  SavedModel export serves.

With ``--eval-every N`` both are also scored every N steps, outside the
speed clock: one run then shows whether a gap grows or closes with training.
``--speed-only`` skips the scoring (e.g. for bench/device_check.py). Each
speed comes with its GFLOPs per image, counted from the traced step, and its
share of the device's matmul peak in the step's compute dtype, measured in
the same process (see bench/efficiency.py).
``--ablation NAME`` changes one of ours' choices to the tutorial's (see
``ablations.py``); ``--decode`` and ``--file-order`` change how ours gets
its training images.

Prints one line per model (and one per scored step) and writes ``results/pix2pix_vs_reference.json``
(``--results`` for another file: e.g. extra seeds for the scores, run while
the machine is busy, whose speeds then do not count).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import ablations

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "bench"))  # timing.py and efficiency.py, shared with the benches
from efficiency import compute_dtype, efficiency, fields, gflops_per_image, measured_peaks, peak_fields  # noqa: E402
from timing import after_warmup_clock  # noqa: E402

MODES = {"paper": True, "inference": False}


def _reference_module():
    spec = importlib.util.spec_from_file_location("pix2pix_reference", HERE / "pix2pix_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _scores(reference, generator, facades: Path) -> dict:
    return {mode: reference.evaluate(generator, facades, training=training) for mode, training in MODES.items()}


def _final_scores(reference, generator, facades: Path, trajectory: list, args) -> dict | None:
    """Scores after the last step: the trajectory's last point when it was taken there; None with --speed-only."""
    if args.speed_only:
        return None
    if trajectory and trajectory[-1]["step"] == args.steps:
        return trajectory[-1]["scores"]
    return _scores(reference, generator, facades)


def _trajectory_recorder(reference, facades: Path, trajectory: list):
    """``record(steps_done, generator)``: appends the val scores at that step to ``trajectory``."""
    def record(steps_done, generator):
        trajectory.append({"step": int(steps_done), "scores": _scores(reference, generator, facades)})
    return record


def _efficiency(images_per_second: float, per_image_gflops: float, precision: str, args) -> dict:
    """The speed's :func:`efficiency.efficiency` and the matmul peaks it is compared with."""
    dtype = compute_dtype(precision)
    peaks = measured_peaks(dtype, args.peak_size)
    return {"efficiency": efficiency(images_per_second, per_image_gflops, peaks, dtype), "peaks": peaks}


def run_reference(args) -> dict:
    reference = _reference_module()
    facades = reference.resolve_data_dir(args.data_dir, "train")
    trajectory = []
    result = reference.train(
        args.steps, facades, seed=args.seed, warmup_steps=args.warmup_steps, verbose=False,
        checkpoint_every=args.eval_every, on_checkpoint=_trajectory_recorder(reference, facades, trajectory),
    )
    input_image, target = next(iter(reference.load_split(facades, "train", seed=args.seed)))
    step_gflops = gflops_per_image(result["train_step"], input_image, target, np.int64(0))
    return {
        "name": "reference (TF tutorial)", "precision": "float32", "jit_compile": False,
        "images_per_second": result["images_per_second"], "final_losses": result["losses"],
        "scores": _final_scores(reference, result["generator"], facades, trajectory, args),
        "trajectory": trajectory,
        **_efficiency(result["images_per_second"], step_gflops, "float32", args),
    }


def load_training_pairs(reference, train_dir: Path, decode: str = "opencv", file_order: str = "natural"):
    """uint8 ``(inputs, targets)``, label map -> photo, of the facades JPEGs in ``train_dir``.

    ``decode="tf"``: decoded by ``tf.io.decode_jpeg``, as the tutorial and
    the scoring do, instead of OpenCV (the two round some pixels apart).
    ``file_order="sorted"``: in sorted-name order instead of natural order;
    the same shuffle seed then gives another sample order.
    """
    from tfgan_zoo.data import list_images, load_side_by_side

    if decode == "opencv":
        inputs, targets, names = load_side_by_side(train_dir, "BtoA", 256)
    else:
        files = list_images(train_dir)
        pairs = [reference.load(str(path)) for path in files]
        inputs, targets = (np.stack([pair[i].numpy() for pair in pairs]).astype(np.uint8) for i in (0, 1))
        names = [path.stem for path in files]
    if file_order == "sorted":
        order = sorted(range(len(names)), key=names.__getitem__)
        inputs, targets = inputs[order], targets[order]
    return inputs, targets


def run_ours(args) -> dict:
    from tfgan_zoo import Pix2Pix, experiment
    from tfgan_zoo.data import paired_dataset

    reference = _reference_module()
    facades = reference.resolve_data_dir(args.data_dir, "train")
    parser = experiment.family_parser("", Pix2Pix)
    spec = parser.parse_spec(["--seed", str(args.seed), "--precision", args.precision, *args.ours_args.split()])
    experiment.configure(spec)
    model_options, data_options = ablations.split(args.settings)
    inputs, targets = load_training_pairs(reference, facades / "train", **data_options)
    dataset = paired_dataset(inputs, targets, batch_size=1, seed=args.seed)
    model = experiment.build(Pix2Pix, spec, **model_options)

    clock = after_warmup_clock(args.warmup_steps)
    trajectory = []
    evaluations = checkpoint_callback(args.eval_every, _trajectory_recorder(reference, facades, trajectory))
    history = model.fit(
        dataset.repeat(), epochs=1, steps_per_epoch=args.steps, callbacks=[clock, evaluations], verbose=0
    )
    images_per_second = (args.steps - args.warmup_steps) / (clock.seconds - evaluations.seconds)
    step_gflops = gflops_per_image(model.train_step, next(iter(dataset)))
    return {
        "name": "tfgan_zoo Pix2Pix", "options": args.ours_args, "precision": model.dtype_policy.name, "jit_compile": model.jit_compile,
        "images_per_second": images_per_second,
        "final_losses": {k: float(v[-1]) for k, v in history.history.items()},
        "scores": _final_scores(reference, model.generator, facades, trajectory, args),
        "trajectory": trajectory,
        **_efficiency(images_per_second, step_gflops, model.dtype_policy.name, args),
    }


def checkpoint_callback(every: int, on_checkpoint):
    """A Keras callback calling ``on_checkpoint(steps_done, generator)`` after every
    ``every`` batches (never with 0); its ``seconds`` is the time spent there,
    which the speed leaves out."""
    import keras

    class Checkpoints(keras.callbacks.Callback):
        seconds = 0.0

        def on_train_batch_end(self, batch, logs=None):
            if every and (batch + 1) % every == 0:
                float(logs["g_loss"])  # the step's own work is done before the pause starts
                start = time.perf_counter()
                on_checkpoint(batch + 1, self.model.generator)
                self.seconds += time.perf_counter() - start

    return Checkpoints()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="shared data root or the facades folder; default $TFGAN_ZOO_DATA")
    parser.add_argument("--steps", type=int, default=400, help="training steps of each model (batch 1)")
    parser.add_argument("--warmup-steps", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-every", type=int, default=0,
                        help="also score both models every this many steps (outside the speed clock); 0: at the end only")
    parser.add_argument("--precision", default="auto", help="ours: the experiments' --precision (auto: bf16 where the CPU has it)")
    parser.add_argument("--only-ours", action="store_true", help="skip the reference (e.g. to compare precisions)")
    parser.add_argument("--ours-args", default="", help="extra experiment options for ours, e.g. '--jitter-resize nearest'")
    parser.add_argument("--results", type=Path, default=HERE / "results" / "pix2pix_vs_reference.json")
    ablations.add_argument(parser, " (they change ours only)")
    parser.add_argument("--decode", choices=("opencv", "tf"), default=None,
                        help="ours: JPEG decoder of the training images (default opencv)")
    parser.add_argument("--file-order", choices=("natural", "sorted"), default=None,
                        help="ours: order of the training files, which the shuffle starts from (default natural)")
    parser.add_argument("--speed-only", action="store_true", help="skip the scoring on the val pairs")
    parser.add_argument("--peak-size", type=int, default=None,
                        help="side of the matmuls that measure the device's peak (default: see bench/efficiency.py)")
    parser.add_argument("--only", choices=("ours", "reference"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    try:
        args.settings = ablations.resolve(args.ablations, decode=args.decode, file_order=args.file_order)
    except ValueError as error:
        parser.error(str(error))

    if args.only:  # one model in this process; the parent collects the JSON line
        print(json.dumps((run_ours if args.only == "ours" else run_reference)(args)))
        return

    results = []
    for which in ("ours",) if args.only_ours else ("reference", "ours"):
        command = [sys.executable, __file__, "--only", which, "--steps", str(args.steps),
                   "--warmup-steps", str(args.warmup_steps), "--seed", str(args.seed), "--eval-every", str(args.eval_every), "--precision", args.precision, f"--ours-args={args.ours_args}"]
        if args.data_dir:
            command += ["--data-dir", args.data_dir]
        if args.speed_only:
            command += ["--speed-only"]
        if args.peak_size:
            command += ["--peak-size", str(args.peak_size)]
        if args.ablations:
            command += ["--ablation", ",".join(args.ablations)]
        for flag, value in (("--decode", args.decode), ("--file-order", args.file_order)):
            if value:
                command += [flag, value]
        out = subprocess.run(command, capture_output=True, text=True, env={"TF_CPP_MIN_LOG_LEVEL": "2", **os.environ})
        if out.returncode:
            sys.exit(f"{which} run failed:\n{out.stderr[-3000:]}")
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))

    for result in results:
        scores = " ".join(
            f"{mode}: l1={s['l1']:.4f} psnr={s['psnr']:.2f} ssim={s['ssim']:.4f}" for mode, s in (result["scores"] or {}).items()
        )
        print(f"{result['name']} {result.get('options', '')}: img_s={result['images_per_second']:.3f} ({result['precision']}) "
              f"{fields(result['efficiency'])} {peak_fields(result['peaks'])} | {scores or 'not scored (--speed-only)'}")
        for point in result["trajectory"]:
            print(f"  step {point['step']}: " + " ".join(
                f"{mode} ssim={s['ssim']:.4f} l1={s['l1']:.4f}" for mode, s in point["scores"].items()))
    if len(results) == 2:
        reference, ours = results
        print(f"speed ratio ours/reference = {ours['images_per_second'] / reference['images_per_second']:.2f}")
    record = {
        "steps": args.steps, "warmup_steps": args.warmup_steps, "seed": args.seed, "batch_size": 1, "eval_every": args.eval_every,
        "precision_requested": args.precision, "speed_only": args.speed_only,
        "direction": "label map -> photo (BtoA)", "val_images": 100, "results": results,
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()},
    }
    if args.settings:
        record.update(ablations=args.ablations, settings=args.settings)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(record, indent=1))
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
