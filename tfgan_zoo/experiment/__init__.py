"""What every experiment script shares: a command line derived from the family,
parsed into a :class:`~tfgan_zoo.runs.RunSpec`; the runtime set-up; the data
and evaluators; one resumable :func:`run` into a run directory; and the
per-kind :class:`Hooks` that write each kind's artefacts.

A script reads the same way for every family::

    parser = experiment.family_parser(__doc__, Pix2Pix, epochs=200, batch_size=1, out="runs/pix2pix_facades")
    experiment.data_arguments(parser).add_argument("--direction", ...)   # identity of the data
    spec = parser.parse_spec()
    strategy = experiment.configure(spec)
    with experiment.loading(spec):   # names the phase a Ctrl-C stops (experiment.Phase)
        ... load the data; spec = spec.with_sources(source=root, ...) ...
    with strategy.scope():
        model = experiment.build(Pix2Pix, spec, input_channels=3, output_channels=3)
    experiment.run(model, dataset, spec, experiment.PairedTranslation(validation))

and ends with ``experiment.main(main)``: every failure one message, exit status
1 (usage errors 2, found before any data loads), Ctrl-C naming the phase it
stopped, what was kept and that the same command resumes.

The run directory's layout is in :mod:`tfgan_zoo.runs.directory`; per kind
of family (its :class:`Hooks`): noise-to-image runs (:class:`Generation`)
keep ``RUN/best/`` (the best evaluated epoch), ``RUN/export/best_generator/``
and ``RUN/interpolation.png`` (latent walks), exporting
``RUN/export/generator``; paired runs (:class:`PairedTranslation`) write
``input | output | target`` triptychs and ``RUN/gallery/index.html``,
exporting ``RUN/export/translator``; unpaired runs
(:class:`UnpairedTranslation`) write ``real | translated | translated back``
rows and the gallery, exporting ``RUN/export/translators`` (signatures
``a_to_b`` and ``b_to_a``).
"""

from tfgan_zoo.experiment.cli import (
    ExperimentParser, HelpFormatter, add_image_folder_arguments, add_linear_decay_arguments, data_arguments,
    family_parser,
)
from tfgan_zoo.experiment.flags import ranged
from tfgan_zoo.experiment.evaluators import (
    domain_evaluator, folder_classifier, folder_evaluator, load_folder, load_idx, translation_evaluator,
)
from tfgan_zoo.experiment.hooks import Generation, Hooks, PairedTranslation, UnpairedTranslation
from tfgan_zoo.experiment.runner import changed_settings, fit, run
from tfgan_zoo.experiment.runtime import (
    Phase, build, configure, default_precision, linear_decay, loading, main, verbosity,
)
from tfgan_zoo.runs.spec import PRECISIONS

__all__ = [
    "ExperimentParser", "HelpFormatter", "family_parser", "data_arguments", "add_image_folder_arguments",
    "add_linear_decay_arguments", "ranged", "configure", "build", "linear_decay", "default_precision", "main", "verbosity",
    "Phase", "loading",
    "load_idx", "load_folder", "folder_classifier", "folder_evaluator", "domain_evaluator", "translation_evaluator",
    "Hooks", "Generation", "PairedTranslation", "UnpairedTranslation", "run", "fit", "changed_settings", "PRECISIONS",
]
