"""What every experiment script shares: options derived from the families,
runtime set-up, one resumable ``run`` into a run directory, and the artefacts at the end.

A script reads the same way for every family::

    parser = experiment.family_parser(__doc__, Pix2Pix, epochs=200, batch_size=1, image_size=256)
    experiment.data_arguments(parser).add_argument("--direction", ...)   # identity of the data
    args = parser.parse_args()
    strategy = experiment.configure(args)
    ... load the data ...
    with strategy.scope():
        model = experiment.build(Pix2Pix, args, input_channels=3, output_channels=3)
    experiment.run(model, dataset, args, experiment.PairedTranslation(validation), parser)

Run directory layout::

    RUN/config.json              the run's identity (family, its get_config(), its compile
                                 config, the data: options, sources with their fingerprints,
                                 class names) and its other options
    RUN/.lock                    pid and host of the process training in RUN (while it runs)
    RUN/samples/epoch_NNN.png    fixed sample sheet per epoch
    RUN/logs/training.csv        per-epoch losses, D scores, G gradient norms, evaluation figures
                                 (empty cells on epochs without an evaluation)
    RUN/logs/health.jsonl        training-health warnings (see tfgan_zoo.diagnostics)
    RUN/logs/tensorboard/        TensorBoard event files
    RUN/checkpoints/             weights + both optimizer states + epoch
    RUN/export/<name>/N/         SavedModel, one version per export (TF Serving layout)

and per kind of family (its :class:`Hooks`): noise-to-image runs
(:class:`Generation`) keep ``RUN/best/`` (the best evaluated epoch),
``RUN/export/best_generator/`` and ``RUN/interpolation.png`` (latent walks),
exporting ``RUN/export/generator``; paired runs (:class:`PairedTranslation`)
write ``input | output | target`` triptychs and ``RUN/gallery/index.html``,
exporting ``RUN/export/translator``; unpaired runs (:class:`UnpairedTranslation`)
write ``real | translated | translated back`` rows and the gallery, exporting
``RUN/export/translators`` (signatures ``a_to_b`` and ``b_to_a``).

Running the same command again resumes at the last finished epoch (read from
the checkpoint's own content, so a copied run directory resumes too); a run
directory holding a run of another identity is refused before anything in it
changes, naming every difference (``--force-resume`` continues anyway and
records the change). One process per run directory: a second one stops,
naming the holder. A failed write (full disk) ends the run with one message
naming the file and the last good checkpoint. docs/run_safety.md lists the
failure cases checked.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfgan_zoo import callbacks as gan_callbacks
from tfgan_zoo import distribute, export, metrics, options, rundir
from tfgan_zoo import gallery as gallery_lib
from tfgan_zoo.data import DataError, DataNotFoundError, ImageReadError
from tfgan_zoo.data.images import walk_files
from tfgan_zoo.diagnostics import HealthMonitor
from tfgan_zoo.visualize import interpolation_strip

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
# The parts of config.json that define a run: resuming with other values would load
# mismatched weights or silently change the experiment.
IDENTITY = ("model", "model_config", "compile_config", "data")
_DATA_GROUP = "data"


def main(script_main: Callable[[], object]) -> None:
    """Runs an experiment script's ``main``. A problem the user can fix in their data
    or run directory (missing, unreadable or inconsistent files, a damaged
    checkpoint) ends it with that one message, not a traceback: the message already
    names the files and the fix."""
    try:
        script_main()
    except (DataNotFoundError, DataError, ImageReadError, gan_callbacks.CheckpointError) as error:
        raise SystemExit(f"error: {error}") from None


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


class ExperimentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that also runs the checks that involve several options
    (added with :func:`add_check`) once all are parsed, reporting a failed one as
    a usage error, like a bad single value."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.checks = []

    def parse_known_args(self, args=None, namespace=None):
        parsed, extras = super().parse_known_args(args, namespace)
        for check in self.checks:
            problem = check(parsed)
            if problem:
                self.error(problem)
        return parsed, extras


def add_check(parser: argparse.ArgumentParser, check) -> None:
    """Adds ``check(args) -> message or None`` to an :class:`ExperimentParser`'s checks."""
    if not isinstance(parser, ExperimentParser):
        raise TypeError("add_check needs the parser of experiment.family_parser (an ExperimentParser).")
    parser.checks.append(check)


_EPOCHS = options.Range(1, hint=(
    "It is the total number of epochs: a re-run resumes at the last finished one and trains up to it. "
    "A finished run already holds its exports in RUN/export/; to write its artefacts again without "
    "training, re-run it with --epochs equal to the epochs it has done."
))


def _evaluation_samples(args) -> str | None:
    if args.eval_every > 0 and args.eval_samples < 1:
        return (f"--eval-samples must be >= 1 while evaluation is on (--eval-every {args.eval_every}), "
                f"got {args.eval_samples}. Pass --eval-every 0 to turn evaluation off.")
    return None


def family_parser(description: str, family: type, *, exclude=(), epochs: int = 5, batch_size: int = 64,
           eval_every: int = 5, **recipe) -> ExperimentParser:
    """The command line of an experiment on ``family``: the run options every
    experiment shares, a ``data`` group (see :func:`data_arguments`), and every
    option of ``family`` (see :mod:`tfgan_zoo.options`) but those in ``exclude``,
    which the script sets from its data. ``recipe``: the script's defaults for
    the family's options (e.g. ``ema_decay=0.999``); ``description`` is usually
    the script's ``__doc__``. Values outside their range are usage errors
    naming the flag and the range."""
    parser = ExperimentParser(description=description, formatter_class=HelpFormatter)
    parser.add_argument("--epochs", type=options.ranged(int, _EPOCHS), default=epochs)
    data = parser.add_argument_group(_DATA_GROUP, "options that define the training data (part of the run's identity)")
    data.add_argument("--batch-size", type=options.ranged(options.Count), default=batch_size)
    parser.add_argument(
        "--data-dir", default=None,
        help="folder with the dataset's files (or their parent); default: $TFGAN_ZOO_DATA, else download via TFDS",
    )
    parser.add_argument("--out", default=None, help="run directory (re-run to resume); default: runs/<experiment>")
    parser.add_argument(
        "--force-resume", action="store_true",
        help="resume the run in --out even though its recorded settings (config.json) differ from these: "
             "print the differences, train on with the new settings and record them",
    )
    parser.add_argument("--seed", type=options.ranged(options.Seed), default=0,
                        help="seed of the model's random streams and of the data order")
    parser.add_argument("--lr", type=options.ranged(options.Positive), default=2e-4,
                        help="Adam(lr, beta_1=0.5) learning rate of G and D")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto", help="dtype policy; auto picks per device")
    parser.add_argument(
        "--jit-compile", choices=("auto", "on", "off"), default="auto",
        help="XLA for the train step; auto = on with a GPU, off on CPU (slower there)",
    )
    parser.add_argument("--steps-per-epoch", type=options.ranged(options.Count), default=None,
                        help="limit each epoch (quick tries)")
    parser.add_argument(
        "--strategy", choices=distribute.STRATEGIES, default="default",
        help="tf.distribute strategy: default (one device), mirrored (local GPUs), multi-worker (hosts of TF_CONFIG), tpu",
    )
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), default=None,
                        help="Keras fit verbosity (default: 1 on a terminal, else 2)")
    parser.add_argument(
        "--eval-every", type=options.ranged(options.NonNegativeInt), default=eval_every,
        help="score the model (sample quality, or validation figures) every N epochs and at the end; 0: off",
    )
    parser.add_argument(
        "--eval-samples", type=int, default=10000,
        help="generated images per evaluation (translation models: at most this many validation images)",
    )
    parser.add_argument(
        "--cache-dir", default=os.environ.get("TFGAN_ZOO_CACHE", str(Path.home() / ".cache" / "tfgan_zoo")),
        help="where evaluation classifiers and decoded data are kept (default: $TFGAN_ZOO_CACHE or ~/.cache/tfgan_zoo)",
    )
    add_check(parser, _evaluation_samples)
    options.add_family_arguments(parser, family, exclude=exclude, defaults=recipe)
    return parser


def data_arguments(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """The parser's ``data`` group: options added there (dataset, split, image
    size, ...) are part of the run's identity, as the family's options are."""
    return next(group for group in parser._action_groups if group.title == _DATA_GROUP)


def add_image_folder_arguments(parser: argparse.ArgumentParser, image_size: int = 64) -> argparse.ArgumentParser:
    """Options of the experiments on a folder of your own images."""
    data = data_arguments(parser)
    data.add_argument("--images", help="folder of images (searched recursively)")
    data.add_argument("--labels", default=None, help="'subfolders', or a CSV file of labels (see --label-column)")
    data.add_argument("--label-column", default=None, help="the CSV column to condition on")
    data.add_argument("--image-size", type=options.ranged(int, options.Range(8)), default=image_size)
    data.add_argument("--subset", type=options.ranged(options.Count), default=None,
                      help="train on this many images drawn at random")
    parser.add_argument("--strict", action="store_true", help="stop on an unreadable image instead of skipping it")
    parser.add_argument("--classifier-epochs", type=options.ranged(options.Count), default=20,
                        help="epochs of the evaluation feature network trained on the folder")
    return parser


def configure(args) -> tf.distribute.Strategy:
    """The ``--strategy`` (created first, as multi-worker needs), then seeds and
    the dtype policy from parsed arguments. Build models inside its ``scope()``."""
    strategy = distribute.make_strategy(args.strategy)
    keras.utils.set_random_seed(args.seed)
    precision = default_precision() if args.precision == "auto" else args.precision
    keras.mixed_precision.set_dtype_policy(precision)
    return strategy


def build(family: type, args, *, learning_rate=None, **data_options):
    """A compiled ``family`` model from the parsed options: its constructor and
    compile options from ``args`` (``data_options`` for those the data sets,
    e.g. ``image_shape``), ``Adam(learning_rate, beta_1=0.5)`` for G and D
    (``--lr`` by default; a schedule works too) and ``--jit-compile``."""
    model_options, compile_options = options.family_arguments(args, family)
    model = family(**{**model_options, **data_options})
    rate = args.lr if learning_rate is None else learning_rate
    model.compile(
        g_optimizer=keras.optimizers.Adam(rate, beta_1=0.5), d_optimizer=keras.optimizers.Adam(rate, beta_1=0.5),
        jit_compile={"auto": "auto", "on": True, "off": False}[args.jit_compile], **compile_options,
    )
    return model


def add_linear_decay_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        "--decay-epochs", type=options.ranged(options.Count), default=None,
        help="epochs at the end over which the learning rate falls linearly to 0 (default: half of --epochs)",
    )
    if isinstance(parser, ExperimentParser):
        add_check(parser, _decay_epochs)
    return parser


def _decay_epochs(args) -> str | None:
    if args.decay_epochs is not None and args.decay_epochs > args.epochs:
        return (f"--decay-epochs must be between 1 and --epochs ({args.epochs}), got {args.decay_epochs}. "
                "Lower it, or raise --epochs.")
    return None


def linear_decay(args, steps_per_epoch: int):
    """The CycleGAN paper's schedule: ``--lr`` for the first ``epochs - decay_epochs``
    epochs, then linearly down to 0 at the last step."""
    from tfgan_zoo.schedules import LinearDecay

    decay_epochs = max(1, args.epochs // 2) if args.decay_epochs is None else args.decay_epochs
    if not 0 < decay_epochs <= args.epochs:
        raise SystemExit(f"--decay-epochs must be between 1 and --epochs ({args.epochs}), got {decay_epochs}.")
    return LinearDecay.from_epochs(args.lr, args.epochs - decay_epochs, decay_epochs, steps_per_epoch)


def load_folder(args, labelled: bool):
    """The :class:`~tfgan_zoo.data.ImageFolder` of ``--images`` (``--subset`` of it), reporting skipped files.

    ``--images`` and a ``--labels`` CSV become absolute paths (``./faces`` and
    ``faces`` are one folder; the same relative path from another directory is
    another), and the folder, the CSV and the image count join the run's
    identity (see :func:`record_data`)."""
    from tfgan_zoo.data import load_image_folder
    from tfgan_zoo.data.folder import SUBFOLDERS

    if not args.images:
        raise SystemExit("Pass the folder of images to train on: --images DIR.")
    if labelled and not args.labels:
        raise SystemExit("A conditional GAN needs labels: --labels subfolders, or --labels FILE.csv --label-column NAME.")
    args.images = str(Path(args.images).expanduser().resolve())
    csv_labels = args.labels not in (None, SUBFOLDERS)
    if csv_labels:
        # As the loader reads it: from the working directory, else relative to the image folder.
        labels = Path(args.labels).expanduser()
        args.labels = str((labels if labels.exists() or labels.is_absolute() else Path(args.images) / labels).resolve())
    folder = load_image_folder(args.images, args.image_size, labels=args.labels, label_column=args.label_column,
                               strict=args.strict)
    if folder.skipped:
        print(f"Skipped {len(folder.skipped)} unreadable file(s): "
              + ", ".join(str(path) for path, _ in folder.skipped[:10]))
    if args.subset:
        folder = folder.subset(args.subset, seed=args.seed)
    record_data(args, images=Path(args.images), labels=Path(args.labels) if csv_labels else None,
                image_count=len(folder.images))
    print(f"{len(folder.images)} images of {args.images} at {args.image_size}x{args.image_size}"
          + (f", {folder.num_classes} classes" if folder.labels is not None else ""))
    return folder


# Where record_data keeps the facts on the parsed arguments until run() writes them.
_SOURCES = "_data_sources"


def record_data(args, **sources) -> dict:
    """Adds what the run reads to its identity (config.json's ``data.sources``),
    so that resuming on other data is refused like resuming with other options.

    Each ``name=value``: a path (``pathlib.Path``, resolved to an absolute path)
    records a folder's file count and a fingerprint of its files' relative
    names and sizes, or a file's size and content hash; a numpy array, or a
    tuple of them, records its length and a hash of its bytes (for data read
    into memory, e.g. MNIST); plain values (counts, names) are kept as they are;
    None is left out. Call it before :func:`run`; returns the facts so far."""
    recorded = dict(getattr(args, _SOURCES, {}))
    recorded.update({name: _source_identity(value) for name, value in sources.items() if value is not None})
    setattr(args, _SOURCES, recorded)
    return recorded


def _source_identity(value):
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
        f"record_data takes paths (pathlib.Path), numpy arrays (or tuples of them) and plain values; "
        f"got {type(value).__name__}. Pass the path the data was read from, or the arrays."
    )


def _path_identity(path: Path) -> dict:
    path = path.expanduser().resolve()
    if path.is_file():
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return {"path": str(path), "bytes": path.stat().st_size, "fingerprint": digest.hexdigest()[:16]}
    if not path.is_dir():
        return {"path": str(path), "exists": False}
    # Names and sizes, not contents: fast on large folders, and what an added,
    # removed, renamed or replaced image changes. Hidden files (.DS_Store) are not data.
    entries = []
    for file in walk_files(path):
        name = file.relative_to(path)
        if not any(part.startswith(".") for part in name.parts):
            entries.append((name.as_posix(), file.stat().st_size))
    digest = hashlib.sha256(json.dumps(sorted(entries)).encode())
    return {"path": str(path), "files": len(entries), "fingerprint": digest.hexdigest()[:16]}


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
    except Exception as error:
        if not rundir.is_write_failure(error):
            raise
        # One message instead of a traceback: which file, and where training can resume from.
        last = gan_callbacks.describe_checkpoint(Path(args.out) / "checkpoints")
        raise rundir.write_failure(error, args.out, checkpoint=last) from None
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
        # Drops the events of epochs being redone after a kill: each step shows once.
        gan_callbacks.TensorBoard(run_dir / "logs" / "tensorboard", write_graph=False),
        gan_callbacks.ProgbarLogger(),
        # Every worker resumes from the chief's backup; only the chief writes it.
        gan_callbacks.SafeBackupAndRestore(Path(args.out) / "checkpoints", read_only=not distribute.is_chief()),
    ]


def run_config(model, args, data: dict, **extra) -> dict:
    """config.json of a run: its identity (:data:`IDENTITY`: the family, its
    ``get_config()`` and compile config, and the data: the data options, what
    :func:`record_data` recorded under ``sources`` and the class names under
    ``classes``) and everything else under ``run`` and ``runtime``."""
    sources = getattr(args, _SOURCES, {})
    identity_data = {
        **data,
        **({"sources": sources} if sources else {}),
        **({"classes": list(extra["class_names"])} if extra.get("class_names") is not None else {}),
    }
    return json.loads(json.dumps({
        "model": type(model).__name__,
        "model_config": {key: value for key, value in model.get_config().items() if key != "name"},
        "compile_config": {
            key: _optimizer_identity(value) if key.endswith("optimizer") else value
            for key, value in model.get_compile_config().items()
        },
        "data": identity_data,
        "run": {key: value for key, value in vars(args).items() if key not in data and key != _SOURCES},
        "runtime": {
            "precision": model.dtype_policy.name, "jit_compile": bool(model.jit_compile),
            "replicas": model.distribute_strategy.num_replicas_in_sync,
        },
        **extra,
    }, default=str))


def _optimizer_identity(config: dict) -> dict:
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


def _identity_changes(previous: dict, config: dict) -> dict:
    """``{key: (recorded, now)}`` for each identity entry (flattened, ``data.sources.images.path``) that differs."""
    # Rates in configs written before they were rounded (0.00019999999494757503) are the same rates.
    before = {key: _float32(value) if isinstance(value, float) and "optimizer" in key else value
              for key, value in _flatten({key: previous.get(key) for key in IDENTITY}).items()}
    now = _flatten({key: config.get(key) for key in IDENTITY})
    return {key: (before.get(key), now.get(key)) for key in sorted({*before, *now}) if before.get(key) != now.get(key)}


def _listing(changed: dict) -> str:
    return "\n".join(f"  {key}: {old!r} -> {new!r}" for key, (old, new) in changed.items())


def _check_resume_config(run_dir: Path, config: dict, force: bool | None = None) -> dict:
    """Compares ``config``'s identity with the run directory's config.json, then
    writes ``config`` there; returns the differences (only ever non-empty when forced).

    A difference stops the run with one message listing all of them, before
    anything in ``run_dir`` is created or changed. ``force`` (default: the run's
    ``--force-resume``) continues instead, printing them, and config.json then
    records the new settings and, under ``forced_resumes``, each forced change."""
    force = bool(config.get("run", {}).get("force_resume")) if force is None else force
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
        changed = _identity_changes(previous, config)
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
    rundir.replace_durably(path, json.dumps(record, indent=2, sort_keys=True).encode(), run_dir / ".config.json.tmp")
    return changed


class _KeepLearningRates(keras.callbacks.Callback):
    """Sets the optimizers' learning rates back to this run's after the backup's
    restore, which loads the checkpoint's (a learning rate given as a number is
    an optimizer variable): a forced resume with another ``--lr`` then trains at it.
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


def _resume(run_dir: Path, model, args, data: dict, hooks) -> list:
    """Checks the run's identity and records it (see :func:`_check_resume_config`);
    returns the callbacks a forced resume needs for its new settings to hold."""
    changed = _check_resume_config(run_dir, run_config(model, args, data, **hooks.config()))
    return [_KeepLearningRates(model)] if any("learning_rate" in key for key in changed) else []


class Hooks:
    """What a kind of family adds to :func:`run`: its sample sheet, its scorers,
    the health monitor's references, and its final artefacts."""

    def config(self) -> dict:
        """Entries added to config.json (e.g. class names)."""
        return {}

    def health(self, model, dataset, run_dir: Path) -> HealthMonitor:
        return HealthMonitor(log_path=run_dir / "logs" / "health.jsonl")

    def scorers(self, model, args, run_dir: Path) -> list:
        return []

    def samples(self, model, args, run_dir: Path) -> keras.callbacks.Callback:
        raise NotImplementedError

    def finish(self, model, args, run_dir: Path) -> list[str]:
        """Writes the final artefacts; returns lines naming them."""
        raise NotImplementedError


class Generation(Hooks):
    """Noise-to-image runs: fixed-noise sample sheets; with an ``evaluator``
    (see :func:`domain_evaluator`), samples scored every ``--eval-every``
    epochs, the best epoch by its first figure kept in ``RUN/best/`` and
    exported to ``RUN/export/best_generator``; at the end the generator export
    and latent walks. ``class_names``: the label of each class id."""

    def __init__(self, evaluator=None, class_names: list[str] | None = None):
        self.evaluator, self.class_names = evaluator, class_names

    def config(self) -> dict:
        return {"class_names": self.class_names} if self.class_names is not None else {}

    def health(self, model, dataset, run_dir):
        reference = np.concatenate([np.asarray(model.split_batch(batch)[0]) for batch in dataset.take(4)])
        return HealthMonitor(reference_images=reference, log_path=run_dir / "logs" / "health.jsonl")

    def scorers(self, model, args, run_dir):
        if self.evaluator is None:
            return []
        return [gan_callbacks.EvaluateGAN(
            self.evaluator, num_samples=args.eval_samples, every=args.eval_every,
            directory=run_dir / "best", export_dir=run_dir / "export" / "best_generator",
            class_names=self.class_names,
        )]

    def samples(self, model, args, run_dir):
        return gan_callbacks.SampleGrid(run_dir / "samples", seed=args.seed + 1234)

    def finish(self, model, args, run_dir):
        export_dir = export.save_generator(model, run_dir / "export" / "generator", class_names=self.class_names)
        strip = interpolation_strip(model, run_dir / "interpolation.png", seed=args.seed)
        return [f"latent walks: {strip}", f"generator SavedModel: {export_dir}"]


class PairedTranslation(Hooks):
    """Paired image-to-image runs. ``validation`` is ``(inputs, targets, names)``
    of uint8 images: its L1/PSNR/SSIM are logged every ``--eval-every`` epochs,
    its first examples make the per-epoch triptych sheets, and all of it the gallery."""

    def __init__(self, validation: tuple):
        self.inputs, self.targets, self.names = validation

    def scorers(self, model, args, run_dir):
        limit = min(len(self.inputs), args.eval_samples)
        if args.eval_every <= 0:
            return []
        return [gan_callbacks.EvaluateTranslation(self.inputs[:limit], self.targets[:limit], every=args.eval_every)]

    def samples(self, model, args, run_dir):
        return gan_callbacks.TranslationSamples(self.inputs[:6], self.targets[:6], run_dir / "samples")

    def finish(self, model, args, run_dir):
        outputs = model.translate(self.inputs)
        summary = {f"val_{name}": value for name, value in metrics.paired_scores(outputs, self.targets).items()}
        gallery = gallery_lib.write_gallery(
            run_dir / "gallery", self.inputs, outputs, self.targets, self.names,
            title=f"{type(model).__name__}: {run_dir.name}, validation split", summary={"epochs": args.epochs, **summary},
        )
        export_dir = export.save_translator(model, run_dir / "export" / "translator")
        return [f"gallery: {gallery}", f"translator SavedModel: {export_dir}", _summary_line(summary)]


class UnpairedTranslation(Hooks):
    """Unpaired (CycleGAN) runs. ``validation`` is ``(images_a, images_b, names_a,
    names_b)`` (uint8): its first images make the per-epoch sample sheets and
    all of it the gallery; ``evaluator`` (see :func:`translation_evaluator`)
    scores it every ``--eval-every`` epochs."""

    def __init__(self, validation: tuple, evaluator=None):
        self.validation, self.evaluator = validation, evaluator

    def scorers(self, model, args, run_dir):
        return [] if self.evaluator is None else [gan_callbacks.EvaluateCycleGAN(self.evaluator, every=args.eval_every)]

    def samples(self, model, args, run_dir):
        val_a, val_b = self.validation[:2]
        return gan_callbacks.CycleSamples(val_a[:4], val_b[:4], run_dir / "samples")

    def finish(self, model, args, run_dir):
        val_a, val_b, names_a, names_b = self.validation
        rows = gan_callbacks.cycle_translations(model, val_a, val_b)
        summary = {}
        if self.evaluator is not None:
            # The evaluator scores its own (possibly --eval-samples shorter) prefix of the split.
            count = {domain: len(self.evaluator.real[domain]) for domain in ("a", "b")}
            summary.update(self.evaluator.score(rows["a"][1][: count["a"]], rows["b"][1][: count["b"]],
                                                rows["a"][2][: count["a"]], rows["b"][2][: count["b"]]))
        else:
            summary.update({f"cycle_l1_{d}": metrics.l1(rows[d][2], rows[d][0]) for d in ("a", "b")})
        gallery = gallery_lib.write_cycle_gallery(
            run_dir / "gallery",
            {"A → B → A": (*rows["a"], names_a), "B → A → B": (*rows["b"], names_b)},
            title=f"{type(model).__name__}: {run_dir.name}, validation split", summary={"epochs": args.epochs, **summary},
        )
        export_dir = export.save_cycle_translators(model, run_dir / "export" / "translators")
        return [f"gallery: {gallery}", f"translators SavedModel (a_to_b, b_to_a): {export_dir}", _summary_line(summary)]


def _summary_line(summary: dict) -> str:
    return "validation: " + ", ".join(f"{key} {value:.4g}" for key, value in summary.items())


def run(model, dataset, args, hooks: Hooks, parser: argparse.ArgumentParser | None = None,
        callbacks=()) -> Path:
    """Trains ``model`` on ``dataset`` into ``args.out`` (resuming), then writes
    the artefacts of ``hooks``; returns the run directory. ``parser`` (the
    script's) tells which options are data options; ``callbacks`` are added to
    the run's own.

    The run directory is locked for the whole call (``RUN/.lock``, see
    :mod:`tfgan_zoo.rundir`): a second process on it stops at once, naming the
    first. A write that fails (full disk) ends the run with one message naming
    the file and the last good checkpoint (``SystemExit``)."""
    run_dir = _output_dir(args)
    data = {} if parser is None else {
        action.dest: getattr(args, action.dest) for action in data_arguments(parser)._group_actions
    }
    # Taken before anything is written. A non-chief worker locks its own RUN/.workers/N, never the chief's RUN.
    with rundir.lock(run_dir):
        callbacks = [*callbacks, *_resume(run_dir, model, args, data, hooks)]
        health = hooks.health(model, dataset, run_dir)
        scoring = hooks.scorers(model, args, run_dir)
        samples = hooks.samples(model, args, run_dir)
        _fit(model, dataset, args, run_dir, [*_run_callbacks(args, run_dir, health, scoring, samples), *callbacks],
             health)
        try:
            lines = hooks.finish(model, args, run_dir)
        except Exception as error:
            if not rundir.is_write_failure(error):
                raise
            raise rundir.write_failure(
                error, run_dir, checkpoint=gan_callbacks.describe_checkpoint(Path(args.out) / "checkpoints")
            ) from None
    print("\n  ".join([f"Run directory: {run_dir}", f"samples: {run_dir / 'samples'}", *lines]))
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


