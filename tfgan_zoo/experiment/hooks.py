"""What each kind of family adds to a run (:func:`tfgan_zoo.experiment.run`):
its sample sheets, its scorers, the health monitor's references and its final
artefacts. A new kind of output is a new :class:`Hooks` subclass."""

from __future__ import annotations

import json

import numpy as np

from tfgan_zoo import callbacks as gan_callbacks
from tfgan_zoo import export, metrics
from tfgan_zoo import gallery as gallery_lib
from tfgan_zoo.diagnostics import HealthMonitor
from tfgan_zoo.experiment.runtime import Phase
from tfgan_zoo.runs import RunDirectory, RunSpec, replace_durably
from tfgan_zoo.runs.checkpoints import TMP_MARK
from tfgan_zoo.visualize import interpolation_strip


class Hooks:
    """The per-kind parts of a run. ``class_names``: the label of each class id,
    recorded in the run's identity (None without classes)."""

    class_names: list[str] | None = None

    def health(self, model, dataset, run_dir: RunDirectory) -> HealthMonitor:
        return HealthMonitor(log_path=run_dir.health_log)

    def scorers(self, model, spec: RunSpec, run_dir: RunDirectory) -> list:
        return []

    def samples(self, model, spec: RunSpec, run_dir: RunDirectory):
        raise NotImplementedError

    def finish(self, model, spec: RunSpec, run_dir: RunDirectory) -> list[str]:
        """Writes the final artefacts; returns lines naming them."""
        raise NotImplementedError


class Generation(Hooks):
    """Noise-to-image runs: fixed-noise sample sheets; with an ``evaluator``
    (see :func:`~tfgan_zoo.experiment.domain_evaluator`), samples scored every
    ``eval_every`` epochs, the best epoch by its first figure kept in
    ``RUN/best/`` and exported to ``RUN/export/best_generator``; at the end the
    generator export and latent walks."""

    def __init__(self, evaluator=None, class_names: list[str] | None = None):
        self.evaluator, self.class_names = evaluator, class_names

    def health(self, model, dataset, run_dir):
        reference = np.concatenate([np.asarray(model.split_batch(batch)[0]) for batch in dataset.take(4)])
        return HealthMonitor(reference_images=reference, log_path=run_dir.health_log)

    def scorers(self, model, spec, run_dir):
        if self.evaluator is None:
            return []
        return [gan_callbacks.EvaluateGAN(
            self.evaluator, num_samples=spec.run.eval_samples, every=spec.run.eval_every,
            directory=run_dir.best, export_dir=run_dir.export("best_generator"), class_names=self.class_names,
        )]

    def samples(self, model, spec, run_dir):
        return gan_callbacks.SampleGrid(run_dir.samples, seed=spec.run.seed + 1234)

    def finish(self, model, spec, run_dir):
        with Phase(spec, f"exporting the generator to {run_dir.export('generator')}"):
            export_dir = export.save_generator(model, run_dir.export("generator"), class_names=self.class_names)
        strip = interpolation_strip(model, run_dir.path / "interpolation.png", seed=spec.run.seed)
        return [f"latent walks: {strip}", f"generator SavedModel: {export_dir}"]


class PairedTranslation(Hooks):
    """Paired image-to-image runs. ``validation`` is ``(inputs, targets, names)``
    of uint8 images: its L1/PSNR/SSIM are logged every ``eval_every`` epochs,
    its first examples make the per-epoch triptych sheets, and all of it the gallery."""

    def __init__(self, validation: tuple):
        self.inputs, self.targets, self.names = validation

    def scorers(self, model, spec, run_dir):
        if spec.run.eval_every <= 0:
            return []
        limit = min(len(self.inputs), spec.run.eval_samples)
        return [gan_callbacks.EvaluateTranslation(self.inputs[:limit], self.targets[:limit],
                                                  every=spec.run.eval_every)]

    def samples(self, model, spec, run_dir):
        return gan_callbacks.TranslationSamples(self.inputs[:6], self.targets[:6], run_dir.samples)

    def finish(self, model, spec, run_dir):
        outputs = model.translate(self.inputs)
        summary = {f"val_{name}": value for name, value in metrics.paired_scores(outputs, self.targets).items()}
        gallery = gallery_lib.write_gallery(
            run_dir.gallery, self.inputs, outputs, self.targets, self.names,
            title=f"{type(model).__name__}: {run_dir.path.name}, validation split",
            summary={"epochs": spec.run.epochs, **summary},
        )
        record_evaluation(run_dir, spec, summary, protocol={})
        with Phase(spec, f"exporting the translator to {run_dir.export('translator')}"):
            export_dir = export.save_translator(model, run_dir.export("translator"))
        return [f"gallery: {gallery}", f"translator SavedModel: {export_dir}", _summary_line(summary)]


class UnpairedTranslation(Hooks):
    """Unpaired (CycleGAN) runs. ``validation`` is ``(images_a, images_b, names_a,
    names_b)`` (uint8): its first images make the per-epoch sample sheets and
    all of it the gallery; ``evaluator`` (see
    :func:`~tfgan_zoo.experiment.translation_evaluator`) scores it every
    ``eval_every`` epochs."""

    def __init__(self, validation: tuple, evaluator=None):
        self.validation, self.evaluator = validation, evaluator

    def scorers(self, model, spec, run_dir):
        if self.evaluator is None:
            return []
        return [gan_callbacks.EvaluateCycleGAN(self.evaluator, every=spec.run.eval_every)]

    def samples(self, model, spec, run_dir):
        val_a, val_b = self.validation[:2]
        return gan_callbacks.CycleSamples(val_a[:4], val_b[:4], run_dir.samples)

    def finish(self, model, spec, run_dir):
        val_a, val_b, names_a, names_b = self.validation
        rows = gan_callbacks.cycle_translations(model, val_a, val_b)
        summary, protocol = {}, {}
        if self.evaluator is not None:
            # The evaluator scores its own (possibly --eval-samples shorter) prefix of the split.
            count = {domain: len(self.evaluator.real[domain]) for domain in ("a", "b")}
            evaluation = self.evaluator.evaluate_translations(
                rows["a"][1][: count["a"]], rows["b"][1][: count["b"]],
                rows["a"][2][: count["a"]], rows["b"][2][: count["b"]])
            summary.update(evaluation.figures)
            protocol = {**evaluation.protocol, "num_samples": count["a"]}
        else:
            summary.update({f"cycle_l1_{d}": metrics.l1(rows[d][2], rows[d][0]) for d in ("a", "b")})
        record_evaluation(run_dir, spec, summary, protocol)
        gallery = gallery_lib.write_cycle_gallery(
            run_dir.gallery,
            {"A → B → A": (*rows["a"], names_a), "B → A → B": (*rows["b"], names_b)},
            title=f"{type(model).__name__}: {run_dir.path.name}, validation split",
            summary={"epochs": spec.run.epochs, **summary},
        )
        with Phase(spec, f"exporting the translators to {run_dir.export('translators')}"):
            export_dir = export.save_cycle_translators(model, run_dir.export("translators"))
        return [f"gallery: {gallery}", f"translators SavedModel (a_to_b, b_to_a): {export_dir}", _summary_line(summary)]


def _summary_line(summary: dict) -> str:
    return "validation: " + ", ".join(f"{key} {value:.4g}" for key, value in summary.items())


def record_evaluation(run_dir: RunDirectory, spec: RunSpec, figures: dict, protocol: dict) -> None:
    """Writes ``RUN/evaluation.json``: the final epoch's scores of the validation split and
    how they were measured (the evaluation network's cache key among them), which
    ``python -m tfgan_zoo.presets make`` puts on a preset's card."""
    record = {"epoch": spec.run.epochs, "figures": {key: float(value) for key, value in figures.items()},
              "protocol": protocol}
    replace_durably(run_dir.evaluation, json.dumps(record, indent=2, default=str).encode(),
                    run_dir.path / f"evaluation.json{TMP_MARK}")
