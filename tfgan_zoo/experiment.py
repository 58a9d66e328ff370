"""What every experiment script shares: options, runtime set-up, a resumable
``fit`` into a run directory, and the export at the end.

Run directory layout::

    RUN/config.json              the options of the run
    RUN/samples/epoch_NNN.png    fixed-noise sample sheet per epoch
    RUN/logs/training.csv        per-epoch losses, D scores, G gradient norm, sample diversity
    RUN/logs/health.jsonl        training-health warnings (see tfgan_zoo.diagnostics)
    RUN/logs/tensorboard/        TensorBoard event files
    RUN/checkpoints/             weights + both optimizer states + epoch
    RUN/export/generator/        SavedModel of the generator (last epoch)
    RUN/best/                    weights and scores of the best evaluated epoch
    RUN/export/best_generator/   SavedModel of the best evaluated generator

Running the same command again resumes at the last finished epoch.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfgan_zoo import callbacks as gan_callbacks
from tfgan_zoo import export, metrics
from tfgan_zoo.diagnostics import HealthMonitor

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
# Options that change the networks or the data order: resuming with other
# values would load mismatched weights or silently change the experiment.
_RESUME_KEYS = ("model", "dataset", "latent_dim", "g_filters", "d_filters", "batch_size", "seed", "loss")


def _cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def default_precision() -> str:
    """The faster dtype policy for this machine (figures in BENCHMARKS.md).

    GPU: mixed_bfloat16 from compute capability 8.0 (Ampere) on, else
    mixed_float16. CPU: mixed_bfloat16 where the CPU has bf16 instructions
    (about 1.25x faster for DCGAN here), else float32 (float16 on CPU is
    several times slower).
    """
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability", (0, 0))
        return "mixed_bfloat16" if tuple(capability) >= (8, 0) else "mixed_float16"
    return "mixed_bfloat16" if _cpu_has_bf16() else "float32"


def base_parser(description: str, **defaults) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--epochs", type=int, default=defaults.get("epochs", 5))
    parser.add_argument("--batch-size", type=int, default=defaults.get("batch_size", 64))
    parser.add_argument(
        "--data-dir", default=None,
        help="folder with the dataset's files (or their parent); default: $TFGAN_ZOO_DATA, else download via TFDS",
    )
    parser.add_argument("--out", default=defaults.get("out"), help="run directory (re-run to resume)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--precision", choices=PRECISIONS, default="auto", help="dtype policy; auto picks per device")
    parser.add_argument(
        "--jit-compile", choices=("auto", "on", "off"), default="auto",
        help="XLA for the train step; auto = on with a GPU, off on CPU (slower there)",
    )
    parser.add_argument("--steps-per-epoch", type=int, default=None, help="limit each epoch (quick tries)")
    parser.add_argument("--verbose", type=int, default=None, help="Keras fit verbosity (default: 1 on a terminal, else 2)")
    parser.add_argument(
        "--eval-every", type=int, default=5,
        help="score samples (domain-FID/KID, precision/recall, label accuracy) every N epochs and at the end; 0: off",
    )
    parser.add_argument("--eval-samples", type=int, default=10000, help="generated images per evaluation")
    parser.add_argument(
        "--cache-dir", default=os.environ.get("TFGAN_ZOO_CACHE", str(Path.home() / ".cache" / "tfgan_zoo")),
        help="where the evaluation classifier is kept once trained (default: $TFGAN_ZOO_CACHE or ~/.cache/tfgan_zoo)",
    )
    return parser


def add_mnist_gan_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options of the DCGAN-family experiments on MNIST-style data."""
    parser.add_argument("--dataset", choices=("mnist", "fashion_mnist"), default="mnist")
    parser.add_argument("--latent-dim", type=int, default=100)
    parser.add_argument("--g-filters", type=int, default=64)
    parser.add_argument("--d-filters", type=int, default=64)
    parser.add_argument("--loss", default="bce", choices=("bce", "lsgan", "hinge"))
    parser.add_argument("--g-steps", type=int, default=1, help="G updates per D update")
    parser.add_argument("--lr", type=float, default=2e-4, help="Adam learning rate of G and D")
    return parser


def compile_gan(gan, args, runtime: dict):
    """Adam(lr, beta_1=0.5) for both networks, as in the DCGAN paper."""
    gan.compile(
        d_optimizer=keras.optimizers.Adam(args.lr, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(args.lr, beta_1=0.5),
        loss=args.loss, g_steps=args.g_steps, jit_compile=runtime["jit_compile"],
    )
    return gan


def configure(args) -> dict:
    """Seeds, dtype policy and compile options from parsed arguments."""
    keras.utils.set_random_seed(args.seed)
    precision = default_precision() if args.precision == "auto" else args.precision
    keras.mixed_precision.set_dtype_policy(precision)
    jit = {"auto": "auto", "on": True, "off": False}[args.jit_compile]
    return {"precision": precision, "jit_compile": jit}


def _check_resume_config(run_dir: Path, config: dict):
    path = run_dir / "config.json"
    if path.exists():
        previous = json.loads(path.read_text())
        changed = {k: (previous.get(k), config.get(k)) for k in _RESUME_KEYS if previous.get(k) != config.get(k)}
        if changed:
            details = ", ".join(f"{k}: {old!r} -> {new!r}" for k, (old, new) in changed.items())
            raise SystemExit(
                f"{run_dir} holds a run with other settings ({details}). Resuming would mix them; "
                "pass another --out, or delete that directory to start over."
            )
    run_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2, sort_keys=True))


def domain_evaluator(args, train_images, train_labels, test_images, conditional: bool):
    """A :class:`~tfgan_zoo.metrics.GANEvaluator` in a domain classifier's feature space, or None.

    The classifier is trained on the training split once (a minute or two on
    CPU) and cached in ``args.cache_dir``; the test split gives the
    real-vs-real floor. None when ``--eval-every 0``.
    """
    if args.eval_every <= 0:
        return None
    num_classes = int(train_labels.max()) + 1
    classifier = metrics.domain_classifier(
        train_images, train_labels, num_classes,
        cache_path=Path(args.cache_dir) / f"{args.dataset}_classifier.keras",
    )
    return metrics.GANEvaluator(
        metrics.DomainFeatures(classifier), train_images, held_out=test_images[: args.eval_samples],
        classifier=classifier if conditional else None, num_classes=num_classes if conditional else 0,
    )


def run(gan, dataset, args, config: dict, evaluator=None, extra_callbacks=()) -> Path:
    """Trains ``gan`` on ``dataset`` into ``args.out`` (resuming), exports G, returns the run dir.

    With an ``evaluator``, samples are scored every ``args.eval_every``
    epochs; the best epoch by its first figure (domain-FID) is kept in
    ``RUN/best/`` and its generator exported to ``RUN/export/best_generator``.
    """
    run_dir = Path(args.out)
    _check_resume_config(run_dir, config)
    scoring = []
    if evaluator is not None:
        scoring = [gan_callbacks.EvaluateGAN(
            evaluator, num_samples=args.eval_samples, every=args.eval_every,
            directory=run_dir / "best", export_dir=run_dir / "export" / "best_generator",
        )]
    reference = np.concatenate([np.asarray(gan.split_batch(batch)[0]) for batch in dataset.take(4)])
    health = HealthMonitor(reference_images=reference, log_path=run_dir / "logs" / "health.jsonl")
    callbacks = [
        health,  # this and the scores before the loggers: they add to the epoch logs
        *scoring,
        gan_callbacks.SafeBackupAndRestore(run_dir / "checkpoints"),
        gan_callbacks.SampleGrid(run_dir / "samples", seed=args.seed + 1234),
        keras.callbacks.CSVLogger(str(run_dir / "logs" / "training.csv"), append=True),
        keras.callbacks.TensorBoard(str(run_dir / "logs" / "tensorboard"), write_graph=False),
        *extra_callbacks,
    ]
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    verbose = args.verbose if args.verbose is not None else (1 if sys.stdout.isatty() else 2)
    try:
        gan.fit(
            dataset, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch,
            callbacks=callbacks, verbose=verbose, shuffle=False,  # the dataset shuffles
        )
    except KeyboardInterrupt:
        raise SystemExit(
            f"\nInterrupted. Progress up to the last finished epoch is in {run_dir / 'checkpoints'}; "
            "run the same command again to resume."
        ) from None
    if health.stopped_at is not None:
        raise SystemExit(f"Training diverged (non-finite loss); the last good checkpoint is in {run_dir / 'checkpoints'}.")
    export_dir = export.save_generator(gan, run_dir / "export" / "generator")
    print(f"Run directory: {run_dir}\n  samples: {run_dir / 'samples'}\n  generator SavedModel: {export_dir}")
    return run_dir
