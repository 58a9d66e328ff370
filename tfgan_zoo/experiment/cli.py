"""The experiments' command line: options derived from the families, parsed into
one :class:`~tfgan_zoo.runs.RunSpec`.

A script builds its parser with :func:`family_parser`, adds the options of
its data to :func:`data_arguments` (they join the run's identity) and gets
the spec from ``parser.parse_spec()``. Nothing below this module sees an
argparse namespace.
"""

from __future__ import annotations

import argparse
import copy
import functools
from pathlib import Path

from tfgan_zoo import distribute, options
from tfgan_zoo.experiment.checks import class_count_problem, fewest_scored, image_size_problem
from tfgan_zoo.experiment.flags import add_family_arguments, family_arguments, ranged
from tfgan_zoo.runs import RunOptions, RunSpec
from tfgan_zoo.runs.spec import JIT_CHOICES, PRECISIONS, default_cache_dir

_DATA_GROUP = "data"
_RUN_OPTIONS = {"out", "epochs", "seed", "lr", "precision", "jit_compile", "strategy", "steps_per_epoch",
                "eval_every", "eval_samples", "cache_dir", "force_resume", "verbose", "data_dir", "from_preset"}


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
    """The parser of an experiment on one family: :meth:`parse_spec` returns the
    :class:`~tfgan_zoo.runs.RunSpec`. Checks that involve several options (added
    with :meth:`add_check`), or the whole spec (:meth:`add_spec_check`), run
    once all are parsed, before any data loads: a failed one is a usage error
    like a bad single value."""

    def __init__(self, *args, family: type, default_out: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.family, self.default_out = family, default_out
        self.checks, self.spec_checks = [], []
        self.family_group: argparse._ArgumentGroup | None = None

    def add_check(self, check) -> None:
        """Adds ``check(parsed namespace) -> message or None``."""
        self.checks.append(check)

    def add_spec_check(self, check) -> None:
        """Adds ``check(spec) -> message or None``, run on the spec :meth:`parse_spec` returns."""
        self.spec_checks.append(check)

    def parse_known_args(self, args=None, namespace=None):
        parsed, extras = super().parse_known_args(args, namespace)
        for check in self.checks:
            problem = check(parsed)
            if problem:
                self.error(problem)
        return parsed, extras

    def parse_spec(self, argv=None, complete=None) -> RunSpec:
        """The run that ``argv`` (default: ``sys.argv[1:]``) asks for. ``complete(spec) -> spec``
        fills in what the options leave to the script (a default data folder) before the spec's checks run."""
        values = vars(self.parse_args(argv))
        data_names = {action.dest for action in data_arguments(self)._group_actions}
        family_names = {action.dest for action in self.family_group._group_actions}
        model, compile_options = family_arguments(argparse.Namespace(**values), self.family)
        run = {name: values[name] for name in _RUN_OPTIONS if name in values}
        run["out"] = run.get("out") or self.default_out.format(**values)
        spec = RunSpec(
            family=self.family.__name__,
            run=RunOptions(**run),
            model=model,
            compile=compile_options,
            data={name: values[name] for name in data_names},
            extra={name: value for name, value in values.items()
                   if name not in data_names | family_names | _RUN_OPTIONS},
            defaults={action.dest: action.default for action in self._actions
                      if action.dest in values and action.dest != "out"},
        )
        spec = complete(spec) if complete else spec
        for check in self.spec_checks:
            problem = check(spec)
            if problem:
                self.error(problem)
        return spec


_EPOCHS = options.Range(1, hint=(
    "It is the total number of epochs: a re-run resumes at the last finished one and trains up to it. "
    "A finished run already holds its exports in RUN/export/; to write its artefacts again without "
    "training, re-run it with --epochs equal to the epochs it has done."
))


def _evaluation_samples(family: type):
    def check(values) -> str | None:
        fewest, why = fewest_scored(family)
        if values.eval_every > 0 and values.eval_samples < fewest:
            return (f"--eval-samples must be >= {fewest} while evaluation is on (--eval-every {values.eval_every}), "
                    f"got {values.eval_samples}: {why}. Pass --eval-every 0 to turn evaluation off.")
        return None

    return check


def _image_size(family: type):
    def check(values) -> str | None:
        if getattr(values, "image_size", None) is None:  # the data's own size (MNIST)
            return None
        problem = image_size_problem(family, values.image_size, vars(values))
        return f"argument --image-size: {problem}" if problem else None

    return check


def _preset_found(values) -> str | None:
    """A missing or damaged --from-preset, named before any data loads."""
    if not values.from_preset:
        return None
    from tfgan_zoo.presets import PresetError, finetune

    try:
        finetune.starting_point(values.from_preset)
    except PresetError as error:
        return f"--from-preset: {error}"
    return None


def family_parser(description: str, family: type, *, exclude=(), epochs: int = 5, batch_size: int = 64,
                  eval_every: int = 5, out: str | None = None, **recipe) -> ExperimentParser:
    """The command line of an experiment on ``family``: the run options every
    experiment shares, a ``data`` group (see :func:`data_arguments`), and every
    option of ``family`` (see :mod:`tfgan_zoo.options`) but those in ``exclude``,
    which the script sets from its data. ``recipe``: the script's defaults for
    the family's options (e.g. ``ema_decay=0.999``); ``out``: the default run
    directory, formatted with the parsed options (``"runs/cgan_{dataset}"``;
    default ``runs/<family>``); ``description`` is usually the script's
    ``__doc__``. Values outside their range are usage errors naming the flag
    and the range."""
    parser = ExperimentParser(description=description, formatter_class=HelpFormatter, family=family,
                              default_out=out or f"runs/{family.__name__.lower()}")
    parser.add_argument("--epochs", type=ranged(int, _EPOCHS), default=epochs)
    data = parser.add_argument_group(_DATA_GROUP, "options that define the training data (part of the run's identity)")
    data.add_argument("--batch-size", type=ranged(options.Count), default=batch_size)
    parser.add_argument(
        "--data-dir", default=None,
        help="folder with the dataset's files (or their parent); default: $TFGAN_ZOO_DATA, else download via TFDS",
    )
    parser.add_argument("--out", default=None, help=f"run directory (re-run to resume); default: {parser.default_out}")
    parser.add_argument(
        "--force-resume", action="store_true",
        help="resume the run in --out even though its recorded settings (config.json) differ from these: "
             "print the differences, train on with the new settings and record them",
    )
    parser.add_argument("--seed", type=ranged(options.Seed), default=0,
                        help="seed of the model's random streams and of the data order")
    parser.add_argument("--lr", type=ranged(options.Positive), default=2e-4,
                        help="Adam(lr, beta_1=0.5) learning rate of G and D")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto", help="dtype policy; auto picks per device")
    parser.add_argument(
        "--jit-compile", choices=JIT_CHOICES, default="auto",
        help="XLA for the train step; auto = on with a GPU, off on CPU (slower there)",
    )
    parser.add_argument("--steps-per-epoch", type=ranged(options.Count), default=None,
                        help="limit each epoch (quick tries)")
    parser.add_argument(
        "--strategy", choices=distribute.STRATEGIES, default="default",
        help="tf.distribute strategy: default (one device), mirrored (local GPUs), multi-worker (hosts of TF_CONFIG), tpu",
    )
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), default=None,
                        help="Keras fit verbosity (default: 1 on a terminal, else 2)")
    parser.add_argument(
        "--eval-every", type=ranged(options.NonNegativeInt), default=eval_every,
        help="score the model (sample quality, or validation figures) every N epochs and at the end; 0: off",
    )
    parser.add_argument(
        "--eval-samples", type=int, default=10000,
        help="generated images per evaluation (translation models: at most this many validation images)",
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=default_cache_dir(),
        help="where evaluation classifiers and decoded data are kept (default: $TFGAN_ZOO_CACHE or ~/.cache/tfgan_zoo)",
    )
    parser.add_argument(
        "--from-preset", default=None, metavar="NAME|PATH",
        help="start from a preset's weights (python -m tfgan_zoo.presets list; a preset folder; hf://USER/NAME): "
        "fine-tuning. The architecture options must be the preset's; --freeze-d-layers N keeps D's first N blocks",
    )
    parser.add_check(_evaluation_samples(family))
    parser.add_check(_image_size(family))
    parser.add_check(_preset_found)
    parser.family_group = add_family_arguments(parser, family, exclude=exclude, defaults=recipe)
    return parser


def data_arguments(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """The parser's ``data`` group: options added there (dataset, split, image
    size, ...) are part of the run's identity, as the family's options are."""
    return next(group for group in parser._action_groups if group.title == _DATA_GROUP)


def add_image_folder_arguments(parser: ExperimentParser, image_size: int = 64) -> ExperimentParser:
    """Options of the experiments on a folder of your own images."""
    data = data_arguments(parser)
    data.add_argument("--images", help="folder of images (searched recursively)")
    data.add_argument("--labels", default=None, help="'subfolders', or a CSV file of labels (see --label-column)")
    data.add_argument("--label-column", default=None, help="the CSV column to condition on")
    data.add_argument("--image-size", type=ranged(int, options.Range(8)), default=image_size)
    data.add_argument("--subset", type=ranged(options.Count), default=None,
                      help="train on this many images drawn at random")
    parser.add_argument("--strict", action="store_true", help="stop on an unreadable image instead of skipping it")
    parser.add_argument("--classifier-epochs", type=ranged(options.Count), default=20,
                        help="epochs of the evaluation feature network trained on the folder")
    parser.add_spec_check(functools.partial(class_count_problem, parser.family))
    return parser


def add_linear_decay_arguments(parser: ExperimentParser) -> ExperimentParser:
    """``--decay-epochs``: the epochs at the end over which the learning rate falls linearly to 0."""
    parser.add_argument(
        "--decay-epochs", type=ranged(options.Count), default=None,
        help="epochs at the end over which the learning rate falls linearly to 0 (default: half of --epochs)",
    )
    parser.add_check(_decay_epochs)
    return parser


def _decay_epochs(values) -> str | None:
    if values.decay_epochs is not None and values.decay_epochs > values.epochs:
        return (f"--decay-epochs must be between 1 and --epochs ({values.epochs}), got {values.decay_epochs}. "
                "Lower it, or raise --epochs.")
    return None
