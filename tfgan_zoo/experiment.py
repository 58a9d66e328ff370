"""What every experiment script shares: options, runtime set-up, a resumable
``fit`` into a run directory, and the export at the end.

Run directory layout::

    RUN/config.json              the options of the run
    RUN/samples/epoch_NNN.png    fixed-noise sample sheet per epoch
    RUN/logs/training.csv        per-epoch losses, D scores, G gradient norm, sample diversity and
                                 evaluation figures (empty cells on epochs without an evaluation)
    RUN/logs/health.jsonl        training-health warnings (see tfgan_zoo.diagnostics)
    RUN/logs/tensorboard/        TensorBoard event files
    RUN/checkpoints/             weights + both optimizer states + epoch
    RUN/export/generator/N/      SavedModel of the generator, one version per export (TF Serving layout)
    RUN/best/                    weights and scores of the best evaluated epoch
    RUN/export/best_generator/N/ SavedModel of the best evaluated generator
    RUN/interpolation.png        latent walks (slerp) of the final generator

Image-to-image runs (:func:`run_translation`) write ``samples/`` as
``input | output | target`` triptychs of fixed validation examples, log the
validation split's L1/PSNR/SSIM, and finish with ``RUN/gallery/index.html``
(every validation example, worst first) and ``RUN/export/translator/N/``.

Unpaired runs (:func:`run_cyclegan`) write ``samples/`` as ``real | translated
| translated back`` rows of fixed validation images of both domains, log the
validation split's translation scores, and finish with ``RUN/gallery/index.html``
and ``RUN/export/translators/N/`` (signatures ``a_to_b`` and ``b_to_a``).

Exports are numbered versions (see :mod:`tfgan_zoo.export`): re-running a
finished run adds the next one, and the last few are kept.

Running the same command again resumes at the last finished epoch.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfgan_zoo import callbacks as gan_callbacks
from tfgan_zoo import distribute, export, metrics
from tfgan_zoo import gallery as gallery_lib
from tfgan_zoo.diagnostics import HealthMonitor
from tfgan_zoo.visualize import interpolation_strip

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
# Options that change the networks or the data order: resuming with other
# values would load mismatched weights or silently change the experiment.
_RESUME_KEYS = (
    "model", "dataset", "latent_dim", "g_filters", "d_filters", "batch_size", "seed", "loss",
    "image_size", "direction", "norm", "d_layers", "g_depth",
    "filters", "num_blocks", "pool_size", "cycle_weight", "identity_weight", "val_count",
    "images", "labels", "label_column", "subset", "diffaugment", "ema_decay", "spectral_norm", "d_norm",
)


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


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """``--help`` with each option's default, and the description (a script's
    docstring) with its line breaks kept.

    Flags show no default (it is the state they do not set), nor do options
    defaulting to None or whose help already says what the default is: their
    help says what happens better than "(default: None)".
    """

    @staticmethod
    def _shows_default(action: argparse.Action) -> bool:
        return bool(
            action.option_strings and action.nargs != 0
            and action.default is not None and action.default is not argparse.SUPPRESS
            and "default" not in (action.help or "")
        )

    def _get_help_string(self, action):
        return super()._get_help_string(action) if self._shows_default(action) else action.help

    def _format_action(self, action):
        if not action.help and self._shows_default(action):
            # argparse prints nothing after an option without help text, which would hide its default.
            action = copy.copy(action)
            action.help = "default: %(default)s"
        return super()._format_action(action)


def base_parser(description: str, **defaults) -> argparse.ArgumentParser:
    """The options every experiment shares; ``description`` is usually the script's ``__doc__``."""
    parser = argparse.ArgumentParser(description=description, formatter_class=HelpFormatter)
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
    parser.add_argument(
        "--strategy", choices=distribute.STRATEGIES, default="default",
        help="tf.distribute strategy: default (one device), mirrored (local GPUs), multi-worker (hosts of TF_CONFIG), tpu",
    )
    parser.add_argument("--verbose", type=int, default=None, help="Keras fit verbosity (default: 1 on a terminal, else 2)")
    parser.add_argument(
        "--eval-every", type=int, default=defaults.get("eval_every", 5),
        help="score the model (sample quality, or validation L1/PSNR/SSIM) every N epochs and at the end; 0: off",
    )
    parser.add_argument(
        "--eval-samples", type=int, default=10000,
        help="generated images per evaluation (translation models: at most this many validation images)",
    )
    parser.add_argument(
        "--cache-dir", default=os.environ.get("TFGAN_ZOO_CACHE", str(Path.home() / ".cache" / "tfgan_zoo")),
        help="where the evaluation classifier is kept once trained (default: $TFGAN_ZOO_CACHE or ~/.cache/tfgan_zoo)",
    )
    return parser


def add_mnist_gan_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options of the DCGAN-family experiments on MNIST-style data."""
    parser.add_argument("--dataset", choices=("mnist", "fashion_mnist"), default="mnist")
    return add_gan_arguments(parser)


def add_gan_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Network and optimizer options of every DCGAN-family experiment."""
    parser.add_argument("--latent-dim", type=int, default=100)
    parser.add_argument("--g-filters", type=int, default=64)
    parser.add_argument("--d-filters", type=int, default=64)
    parser.add_argument("--loss", default="bce", choices=("bce", "lsgan", "hinge"))
    parser.add_argument("--g-steps", type=int, default=1, help="G updates per D update")
    parser.add_argument("--lr", type=float, default=2e-4, help="Adam learning rate of G and D")
    return parser


def add_image_gan_arguments(parser: argparse.ArgumentParser, image_size: int = 64) -> argparse.ArgumentParser:
    """Options of the DCGAN-family experiments on a folder of your own images."""
    add_gan_arguments(parser)
    parser.set_defaults(dataset="folder")  # the run's name for the data; --images says which
    parser.add_argument("--images", help="folder of images (searched recursively)")
    parser.add_argument("--labels", default=None, help="'subfolders', or a CSV file of labels (see --label-column)")
    parser.add_argument("--label-column", default=None, help="the CSV column to condition on")
    parser.add_argument("--image-size", type=int, default=image_size)
    parser.add_argument("--subset", type=int, default=None, help="train on this many images drawn at random")
    parser.add_argument("--strict", action="store_true", help="stop on an unreadable image instead of skipping it")
    parser.add_argument("--diffaugment", default="color,translation,cutout",
                        help="DiffAugment ops for every image D sees ('' to turn off)")
    parser.add_argument("--ema-decay", type=float, default=0.999, help="EMA of G's weights for samples/export; 0: off")
    parser.add_argument("--spectral-norm", action="store_true", help="spectral normalization in D (with --d-norm none)")
    parser.add_argument("--d-norm", choices=("batch", "layer", "none"), default="batch")
    parser.add_argument("--classifier-epochs", type=int, default=20,
                        help="epochs of the evaluation feature network trained on the folder")
    return parser


def load_folder(args, labelled: bool):
    """The :class:`~tfgan_zoo.data.ImageFolder` of ``--images`` (``--subset`` of it), reporting skipped files."""
    from tfgan_zoo.data import load_image_folder

    if not args.images:
        raise SystemExit("Pass the folder of images to train on: --images DIR.")
    if labelled and not args.labels:
        raise SystemExit("A conditional GAN needs labels: --labels subfolders, or --labels FILE.csv --label-column NAME.")
    folder = load_image_folder(args.images, args.image_size, labels=args.labels, label_column=args.label_column,
                               strict=args.strict)
    if folder.skipped:
        print(f"Skipped {len(folder.skipped)} unreadable file(s): "
              + ", ".join(str(path) for path, _ in folder.skipped[:10]))
    if args.subset:
        folder = folder.subset(args.subset, seed=args.seed)
    print(f"{len(folder.images)} images of {args.images} at {args.image_size}x{args.image_size}"
          + (f", {folder.num_classes} classes" if folder.labels is not None else ""))
    return folder


def build_image_gan(args, folder, conditional: bool):
    """A DCGAN (or, with ``conditional``, a ConditionalGAN on ``folder``'s labels) from
    :func:`add_image_gan_arguments` options."""
    from tfgan_zoo.models.cgan import ConditionalGAN
    from tfgan_zoo.models.dcgan import DCGAN

    options = dict(
        latent_dim=args.latent_dim, image_shape=folder.images.shape[1:], g_filters=args.g_filters,
        d_filters=args.d_filters, d_norm=args.d_norm, d_spectral_norm=args.spectral_norm,
        diffaugment=args.diffaugment, ema_decay=args.ema_decay, seed=args.seed,
    )
    return ConditionalGAN(num_classes=folder.num_classes, **options) if conditional else DCGAN(**options)


def folder_evaluator(args, folder, conditional: bool):
    """A :class:`~tfgan_zoo.metrics.GANEvaluator` of ``folder``'s images, or None with ``--eval-every 0``.

    Features come from a classifier trained on the folder: on its labels when
    it has them, else on the auxiliary task of telling which of four rotations
    an image was turned by (see :func:`tfgan_zoo.metrics.rotation_task`).
    Cached in ``--cache-dir`` per folder content and size.
    """
    if args.eval_every <= 0:
        return None
    task = "labels" if folder.labels is not None else "rotation"
    num_classes = folder.num_classes if folder.labels is not None else 4
    cache = Path(args.cache_dir) / f"folder_{metrics.images_digest(folder.images)}_{task}_classifier.keras"
    images = labels = None  # only needed to train: a cached classifier is just loaded
    if not cache.exists() and task == "labels":
        # Shuffled: Keras holds out the *last* 10%, which for class sub-folders would be one class.
        order = np.random.default_rng(args.seed).permutation(len(folder.images))
        images, labels = folder.images[order], folder.labels[order]
    elif not cache.exists():
        images, labels = metrics.rotation_task(folder.images, seed=args.seed)
    classifier = metrics.domain_classifier(
        images, labels, num_classes, cache_path=cache, epochs=args.classifier_epochs, seed=args.seed,
        builder=metrics.build_colour_classifier, validation_split=0.1,
    )
    return _gan_evaluator(
        args, metrics.DomainFeatures(classifier, key="domain"), folder.images,
        reference_split=f"{args.images} ({task})",
        classifier=classifier if conditional else None, num_classes=folder.num_classes if conditional else 0,
    )


def add_pix2pix_arguments(parser: argparse.ArgumentParser, image_size: int = 256) -> argparse.ArgumentParser:
    """Options of the pix2pix experiments; the defaults are the paper's."""
    parser.add_argument("--image-size", type=int, default=image_size)
    parser.add_argument("--g-depth", type=int, default=None, help="U-Net down-samplings (default: down to 1x1)")
    parser.add_argument("--g-filters", type=int, default=64)
    parser.add_argument("--d-filters", type=int, default=64)
    parser.add_argument("--d-layers", type=int, default=3, help="strided PatchGAN layers: 3 gives 70x70 patches")
    parser.add_argument("--norm", choices=("batch", "instance"), default="batch")
    parser.add_argument("--loss", choices=("bce", "lsgan"), default="bce")
    parser.add_argument("--l1-weight", type=float, default=100.0)
    parser.add_argument("--d-every", type=int, default=1, help="update D every k-th step (k > 1 when D overpowers G)")
    parser.add_argument("--lr", type=float, default=2e-4, help="Adam learning rate of G and D")
    parser.add_argument("--no-jitter", dest="jitter", action="store_false", help="turn off random resize-crop-mirror")
    parser.add_argument("--simultaneous", action="store_true",
                        help="G and D gradients from one forward pass (TF tutorial) instead of D first (paper code)")
    parser.add_argument("--jitter-resize", choices=("bilinear", "nearest", "bicubic"), default="bilinear",
                        help="interpolation of the jitter's resize (nearest keeps label-map colours exact)")
    return parser


def build_pix2pix(args, runtime: dict, input_channels: int = 3, output_channels: int = 3, **model_options):
    """A compiled :class:`tfgan_zoo.Pix2Pix` from :func:`add_pix2pix_arguments` options;
    ``model_options`` are further ``Pix2Pix`` arguments (e.g. ``leaky_slope``)."""
    from tfgan_zoo.models.pix2pix import Pix2Pix

    model = Pix2Pix(
        image_size=args.image_size, input_channels=input_channels, output_channels=output_channels,
        g_filters=args.g_filters, d_filters=args.d_filters, d_layers=args.d_layers, g_depth=args.g_depth,
        norm=args.norm, l1_weight=args.l1_weight, jitter=args.jitter, jitter_resize=args.jitter_resize,
        seed=args.seed, **model_options,
    )
    model.compile(
        g_optimizer=keras.optimizers.Adam(args.lr, beta_1=0.5),
        d_optimizer=keras.optimizers.Adam(args.lr, beta_1=0.5),
        loss=args.loss, d_every=args.d_every, simultaneous=args.simultaneous, jit_compile=runtime["jit_compile"],
    )
    return model


def add_cyclegan_arguments(parser: argparse.ArgumentParser, image_size: int = 128) -> argparse.ArgumentParser:
    """Options of the CycleGAN experiments; the defaults are the paper's (128 px: 6 residual blocks)."""
    parser.add_argument("--image-size", type=int, default=image_size)
    parser.add_argument("--filters", type=int, default=64, help="width of the first G and D layer")
    parser.add_argument("--num-blocks", type=int, default=None, help="residual blocks per G (default 6 below 256 px, else 9)")
    parser.add_argument("--d-layers", type=int, default=3, help="strided PatchGAN layers: 3 gives 70x70 patches")
    parser.add_argument("--pool-size", type=int, default=50, help="generated images kept per D history pool; 0: none")
    parser.add_argument("--cycle-weight", type=float, default=10.0)
    parser.add_argument("--identity-weight", type=float, default=0.5, help="relative to --cycle-weight; 0: off")
    parser.add_argument("--lr", type=float, default=2e-4, help="Adam learning rate of Gs and Ds")
    parser.add_argument(
        "--decay-epochs", type=int, default=None,
        help="epochs at the end over which the learning rate falls linearly to 0 (default: half of --epochs)",
    )
    parser.add_argument("--no-jitter", dest="jitter", action="store_false", help="turn off random resize-crop-mirror")
    return parser


def build_cyclegan(args, runtime: dict, steps_per_epoch: int):
    """A compiled :class:`tfgan_zoo.CycleGAN` from :func:`add_cyclegan_arguments` options.

    Both optimizers follow the paper's schedule: ``--lr`` for the first
    ``epochs - decay_epochs`` epochs, then linearly down to 0 at the last step.
    """
    from tfgan_zoo.models.cyclegan import CycleGAN
    from tfgan_zoo.schedules import LinearDecay

    decay_epochs = max(1, args.epochs // 2) if args.decay_epochs is None else args.decay_epochs
    if not 0 < decay_epochs <= args.epochs:
        raise SystemExit(f"--decay-epochs must be between 1 and --epochs ({args.epochs}), got {decay_epochs}.")
    schedule = LinearDecay.from_epochs(args.lr, args.epochs - decay_epochs, decay_epochs, steps_per_epoch)
    model = CycleGAN(
        image_size=args.image_size, filters=args.filters, num_blocks=args.num_blocks, disc_layers=args.d_layers,
        pool_size=args.pool_size, cycle_weight=args.cycle_weight, identity_weight=args.identity_weight,
        jitter=args.jitter, seed=args.seed,
    )
    model.compile(
        g_optimizer=keras.optimizers.Adam(schedule, beta_1=0.5),
        d_optimizer=keras.optimizers.Adam(schedule, beta_1=0.5),
        jit_compile=runtime["jit_compile"],
    )
    return model


def compile_gan(gan, args, runtime: dict):
    """Adam(lr, beta_1=0.5) for both networks, as in the DCGAN paper."""
    gan.compile(
        d_optimizer=keras.optimizers.Adam(args.lr, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(args.lr, beta_1=0.5),
        loss=args.loss, g_steps=args.g_steps, jit_compile=runtime["jit_compile"],
    )
    return gan


def configure(args):
    """``(strategy, runtime)``: the ``--strategy`` (created first, as multi-worker
    needs), then seeds, dtype policy and compile options from parsed arguments.
    Build and compile models inside ``strategy.scope()``."""
    strategy = distribute.make_strategy(args.strategy)
    keras.utils.set_random_seed(args.seed)
    precision = default_precision() if args.precision == "auto" else args.precision
    keras.mixed_precision.set_dtype_policy(precision)
    jit = {"auto": "auto", "on": True, "off": False}[args.jit_compile]
    return strategy, {"precision": precision, "jit_compile": jit, "replicas": strategy.num_replicas_in_sync}


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
    return _gan_evaluator(
        args, metrics.DomainFeatures(classifier), train_images, held_out=test_images[: args.eval_samples],
        classifier=classifier if conditional else None, num_classes=num_classes if conditional else 0,
    )


def _gan_evaluator(args, extractor: metrics.FeatureExtractor, reference, **options) -> metrics.GANEvaluator:
    """A :class:`~tfgan_zoo.metrics.GANEvaluator`, showing the extraction of its
    reference features (thousands of images) on the console as ``fit`` would."""
    progress = metrics.Progress("Evaluation reference", _verbosity(args))
    evaluator = metrics.GANEvaluator(extractor, reference, progress=progress, **options)
    progress.end(f"features of {len(evaluator.reference_features)} real images")
    return evaluator


def _verbosity(args) -> int:
    """``--verbose``, else 1 on a terminal (live progress) and 2 otherwise (a line per epoch, for log files)."""
    return args.verbose if args.verbose is not None else (1 if sys.stdout.isatty() else 2)


def _fit(model, dataset, args, run_dir: Path, callbacks: list, health: HealthMonitor):
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    verbose = _verbosity(args)
    if args.steps_per_epoch and dataset.cardinality() != tf.data.INFINITE_CARDINALITY:
        # fit keeps one iterator across epochs when steps_per_epoch is given: a finite one would run dry.
        dataset = dataset.repeat()
    try:
        model.fit(
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


def _output_dir(args) -> Path:
    """Where this process writes: the run directory, or for a non-chief worker of a
    multi-worker job a scratch folder inside it (``RUN/.workers/N``)."""
    if distribute.is_chief():
        return Path(args.out)
    return Path(args.out) / ".workers" / str(distribute.task()[1])


def _run_callbacks(args, run_dir: Path, health: HealthMonitor, scoring: list, samples) -> list:
    """What every run logs and keeps, in the order that matters: health and
    scores first (they add to the epoch logs), then samples and loggers, and
    the backup last: once a checkpoint says an epoch is done, its samples and
    log rows are on disk (a kill just before the backup redoes that epoch).
    The progress bar is this package's, which Keras then does not add: it
    leaves out the figures of epochs without an evaluation (NaN in the logs)."""
    return [
        health,
        *scoring,
        samples,
        gan_callbacks.CSVLogger(run_dir / "logs" / "training.csv"),
        keras.callbacks.TensorBoard(str(run_dir / "logs" / "tensorboard"), write_graph=False),
        gan_callbacks.ProgbarLogger(),
        # Every worker resumes from the chief's backup; only the chief writes it.
        gan_callbacks.SafeBackupAndRestore(Path(args.out) / "checkpoints", read_only=not distribute.is_chief()),
    ]


def run(gan, dataset, args, config: dict, evaluator=None, extra_callbacks=()) -> Path:
    """Trains ``gan`` on ``dataset`` into ``args.out`` (resuming), exports G, returns the run dir.

    With an ``evaluator``, samples are scored every ``args.eval_every``
    epochs; the best epoch by its first figure (domain-FID) is kept in
    ``RUN/best/`` and its generator exported to ``RUN/export/best_generator``.
    """
    run_dir = _output_dir(args)
    _check_resume_config(run_dir, config)
    scoring = []
    if evaluator is not None:
        scoring = [gan_callbacks.EvaluateGAN(
            evaluator, num_samples=args.eval_samples, every=args.eval_every,
            directory=run_dir / "best", export_dir=run_dir / "export" / "best_generator",
            class_names=config.get("class_names"),
        )]
    reference = np.concatenate([np.asarray(gan.split_batch(batch)[0]) for batch in dataset.take(4)])
    health = HealthMonitor(reference_images=reference, log_path=run_dir / "logs" / "health.jsonl")
    samples = gan_callbacks.SampleGrid(run_dir / "samples", seed=args.seed + 1234)
    _fit(gan, dataset, args, run_dir, [*_run_callbacks(args, run_dir, health, scoring, samples), *extra_callbacks], health)
    export_dir = export.save_generator(gan, run_dir / "export" / "generator", class_names=config.get("class_names"))
    strip = interpolation_strip(gan, run_dir / "interpolation.png", seed=args.seed)
    print(f"Run directory: {run_dir}\n  samples: {run_dir / 'samples'}\n  latent walks: {strip}\n"
          f"  generator SavedModel: {export_dir}")
    return run_dir


def _print_outputs(run_dir: Path, gallery: Path, export_line: str, summary: dict):
    print(
        f"Run directory: {run_dir}\n  samples: {run_dir / 'samples'}\n  gallery: {gallery}\n"
        f"  {export_line}\n  validation: "
        + ", ".join(f"{k} {v:.4g}" for k, v in summary.items() if k != "epochs")
    )


def run_translation(model, dataset, args, config: dict, validation: tuple) -> Path:
    """Trains an image-to-image ``model`` into ``args.out`` (resuming), then writes the gallery and export.

    ``validation`` is ``(inputs, targets, names)`` with uint8 images: its
    L1/PSNR/SSIM are logged every ``args.eval_every`` epochs, its first
    examples make the per-epoch triptych sheets, and all of it the gallery.
    """
    run_dir = _output_dir(args)
    _check_resume_config(run_dir, config)
    val_inputs, val_targets, val_names = validation
    limit = min(len(val_inputs), args.eval_samples)
    health = HealthMonitor(log_path=run_dir / "logs" / "health.jsonl")
    scoring = []
    if args.eval_every > 0:
        scoring = [gan_callbacks.EvaluateTranslation(val_inputs[:limit], val_targets[:limit], every=args.eval_every)]
    samples = gan_callbacks.TranslationSamples(val_inputs[:6], val_targets[:6], run_dir / "samples")
    _fit(model, dataset, args, run_dir, _run_callbacks(args, run_dir, health, scoring, samples), health)

    outputs = model.translate(val_inputs)
    summary = {"epochs": args.epochs}
    summary.update({f"val_{name}": value for name, value in metrics.paired_scores(outputs, val_targets).items()})
    gallery = gallery_lib.write_gallery(
        run_dir / "gallery", val_inputs, outputs, val_targets, val_names,
        title=f"{config.get('model', 'model')}: {run_dir.name}, validation split", summary=summary,
    )
    export_dir = export.save_translator(model, run_dir / "export" / "translator")
    _print_outputs(run_dir, gallery, f"translator SavedModel: {export_dir}", summary)
    return run_dir


def translation_evaluator(args, train: tuple, validation: tuple, name: str):
    """A :class:`~tfgan_zoo.metrics.TranslationEvaluator` of the validation split, or None with ``--eval-every 0``.

    ``train`` and ``validation`` are ``(images_a, images_b)``. The domain
    classifier is trained on the train split once and cached in
    ``args.cache_dir`` as ``{name}_{size}px_classifier.keras``.
    """
    if args.eval_every <= 0:
        return None
    val_a, val_b = (images[: args.eval_samples] for images in validation)
    classifier = metrics.translation_classifier(
        *train, cache_path=Path(args.cache_dir) / f"{name}_{args.image_size}px_classifier.keras",
        validation=(val_a, val_b), seed=args.seed,
    )
    return metrics.TranslationEvaluator(classifier, val_a, val_b, seed=args.seed)


def run_cyclegan(model, dataset, args, config: dict, validation: tuple, evaluator=None) -> Path:
    """Trains a CycleGAN into ``args.out`` (resuming), then writes the gallery and export.

    ``validation`` is ``(images_a, images_b, names_a, names_b)`` (uint8): its
    first images make the per-epoch sample sheets and all of it the gallery;
    ``evaluator`` (see :func:`translation_evaluator`) scores it every
    ``args.eval_every`` epochs.
    """
    run_dir = _output_dir(args)
    _check_resume_config(run_dir, config)
    val_a, val_b, names_a, names_b = validation
    health = HealthMonitor(log_path=run_dir / "logs" / "health.jsonl")
    scoring = [] if evaluator is None else [gan_callbacks.EvaluateCycleGAN(evaluator, every=args.eval_every)]
    samples = gan_callbacks.CycleSamples(val_a[:4], val_b[:4], run_dir / "samples")
    _fit(model, dataset, args, run_dir, _run_callbacks(args, run_dir, health, scoring, samples), health)

    rows = gan_callbacks.cycle_translations(model, val_a, val_b)
    summary = {"epochs": args.epochs}
    if evaluator is not None:
        # The evaluator scores its own (possibly --eval-samples shorter) prefix of the split.
        count = {domain: len(evaluator.real[domain]) for domain in ("a", "b")}
        summary.update(evaluator.score(rows["a"][1][: count["a"]], rows["b"][1][: count["b"]],
                                       rows["a"][2][: count["a"]], rows["b"][2][: count["b"]]))
    else:
        summary.update({f"cycle_l1_{d}": metrics.l1(rows[d][2], rows[d][0]) for d in ("a", "b")})
    gallery = gallery_lib.write_cycle_gallery(
        run_dir / "gallery",
        {"A → B → A": (*rows["a"], names_a), "B → A → B": (*rows["b"], names_b)},
        title=f"{config.get('model', 'model')}: {run_dir.name}, validation split", summary=summary,
    )
    export_dir = export.save_cycle_translators(model, run_dir / "export" / "translators")
    _print_outputs(run_dir, gallery, f"translators SavedModel (a_to_b, b_to_a): {export_dir}", summary)
    return run_dir
