"""The two output protocols and :class:`AdversarialModel`, the base of every family."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import keras
import numpy as np
import tensorflow as tf

from tfgan_zoo.models.base import fitting
from tfgan_zoo.models.base.components import freeze_first_blocks
from tfgan_zoo.models.base.inputs import class_ids, noise_and_labels
from tfgan_zoo.models.base.optimizers import DLearningRateFollowsG, prepare_optimizer
from tfgan_zoo.models.base.tracking import Metric, Role, Tracker, Trackers, check_metrics
from tfgan_zoo.models.base.update import Update
from tfgan_zoo.options import checks_declared_ranges


@runtime_checkable
class Sampling(Protocol):
    """A noise-to-image family (DCGAN, ConditionalGAN, ACGAN): what sample sheets,
    evaluations, health checks, latent walks, exports and the demo use."""

    latent_dim: int
    num_classes: int  # 0: unconditional

    @property
    def sampling_generator(self) -> keras.Model: ...

    def sample_inputs(self, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]: ...

    def generate(self, noise, conditions=None, training: bool = False, averaged: bool = True): ...


@runtime_checkable
class Translating(Protocol):
    """An image-to-image family (Pix2Pix, CycleGAN): what sample sheets,
    galleries, evaluations and exports use."""

    image_size: int

    @property
    def translators(self) -> dict: ...

    def translate(self, images, *args, **kwargs) -> np.ndarray: ...


def _across_workers() -> bool:
    strategy = tf.distribute.get_strategy()
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and bool(
        getattr(strategy.extended, "_in_multi_worker_mode", lambda: False)()
    )


class AdversarialModel(keras.Model):
    """The base of every family (see :mod:`tfgan_zoo.models.base` for the contract)."""

    def __init_subclass__(cls, **kwargs):
        # A family's __init__ and compile refuse numbers outside their annotations'
        # ranges: the ranges its command-line flags show and check (tfgan_zoo.options).
        super().__init_subclass__(**kwargs)
        for method in ("__init__", "compile"):
            if method in cls.__dict__:
                setattr(cls, method, checks_declared_ranges(cls.__dict__[method]))

    # --------------------------------------------------- what a family gives
    @property
    def generators(self) -> dict:
        """The networks G's optimizer trains, by name: ``self.generator`` unless a family has several."""
        return {"g": self.generator}

    @property
    def discriminators(self) -> dict:
        """The networks D's optimizer trains, by name: ``self.discriminator`` unless a family has several."""
        return {"d": self.discriminator}

    def split_batch(self, data):
        """The batch's parts in the model's ranges; each family says how its batches split."""
        raise NotImplementedError

    def compile_options(self) -> dict:
        """The family's own ``compile`` arguments beside the optimizers, as saved and
        compared when a run resumes."""
        return {"loss": self.gan_loss.name}

    # --------------------------------------------------- what the base gives
    def build_training_state(self, metrics):
        """Builds every network now and adds a running mean per declared
        :class:`Metric` (then one ``*_grad_norm`` per generator, in the role
        ``g_gradient_norm``), which :meth:`trackers` returns in that order.

        Building at construction means that inside a strategy scope the variables
        are distributed, and a checkpoint can be restored before the first step.
        """
        for network in (*self.generators.values(), *self.discriminators.values()):
            network.build_for_inputs()
        self.built = True
        self._grad_norm_names = {name: self._grad_norm_name(name) for name in self.generators}
        grad_norms = [Metric(name, "neither", "g_gradient_norm") for name in self._grad_norm_names.values()]
        self._declared_metrics = check_metrics((*metrics, *grad_norms))
        for metric in self._declared_metrics:
            setattr(self, f"{metric.name}_tracker", Tracker(metric))

    def _grad_norm_name(self, generator: str) -> str:
        # One generator keeps the plain name that logs and the health monitor have always used.
        return "g_grad_norm" if len(self.generators) == 1 else f"{generator}_grad_norm"

    def logged_metrics(self) -> tuple[Metric, ...]:
        """The declared metrics a train step logs, in log order; a family whose
        options drop a figure (e.g. no gradient penalty) leaves it out here."""
        return getattr(self, "_declared_metrics", ())

    def names_in_role(self, role: Role) -> tuple[str, ...]:
        """The names of the logged metrics that play ``role`` (see :data:`~tfgan_zoo.models.base.Role`)."""
        return tuple(metric.name for metric in self.logged_metrics() if metric.role == role)

    def trackers(self) -> list:
        """The running means a train step updates and returns, in log order."""
        return [getattr(self, f"{metric.name}_tracker") for metric in self.logged_metrics()]

    def record(self, values: dict):
        """Adds each value's batch mean to the tracker of the same name."""
        for name, value in values.items():
            getattr(self, f"{name}_tracker").update_state(tf.reduce_mean(value))

    def update(self, optimizer, networks) -> Update:
        """A context for one optimizer step on ``networks``::

            with self.update(self.d_optimizer, [self.discriminator]) as step:
                step.minimize(per_example_loss)   # inside: the tape records it

        At the end of the block the gradients of the replica- and loss-scaled mean
        are applied; for a generator its gradient norm is recorded too.
        ``step.tape`` is the tape, e.g. for ``stop_recording()`` around a nested update.
        """
        generators = {id(network): name for name, network in self.generators.items()}
        trackers = {
            id(network): getattr(self, f"{self._grad_norm_names[generators[id(network)]]}_tracker")
            for network in networks if id(network) in generators
        }
        return Update(optimizer, list(networks), trackers)

    @property
    def metrics(self):
        # One container, so that fit resets them each epoch and monitor callbacks see their directions.
        return [Trackers(self.trackers())]

    def compile(self, *, g_optimizer=None, d_optimizer=None, **kwargs):
        """Both optimizers (the paper's Adam by default); families add their options."""
        self.attach_optimizers(g_optimizer, d_optimizer, **kwargs)

    def attach_optimizers(self, g_optimizer=None, d_optimizer=None, freeze_d_layers: int = 0, **compile_kwargs):
        """Keeps both optimizers (instances or names; the papers' ``Adam(2e-4,
        beta_1=0.5)`` when None; wrapped in ``LossScaleOptimizer`` under
        ``mixed_float16``) and compiles the model; ``compile_kwargs`` go to
        ``keras.Model.compile`` (``jit_compile``, ``steps_per_execution``, ...).

        G's optimizer doubles as ``model.optimizer`` so that Keras callbacks
        (TensorBoard steps, BackupAndRestore) see a real one. Optimizer slots
        are built now: a checkpoint restored before the first step must find
        every variable it holds, or optimizer state is lost.
        """
        fitting.refuse_unused(compile_kwargs, fitting.UNUSED_COMPILE_ARGUMENTS, "compile", type(self).__name__)
        g_optimizer, d_optimizer = prepare_optimizer(g_optimizer), prepare_optimizer(d_optimizer)
        if g_optimizer is d_optimizer:
            raise ValueError("g_optimizer and d_optimizer must be two optimizer instances.")
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.freeze_d_layers = int(freeze_d_layers)
        for network in self.discriminators.values():
            freeze_first_blocks(network, self.freeze_d_layers)
        super().compile(optimizer=g_optimizer, **compile_kwargs)
        g_optimizer.build([v for network in self.generators.values() for v in network.trainable_variables])
        d_optimizer.build([v for network in self.discriminators.values() for v in network.trainable_variables])

    def get_compile_config(self):
        if not getattr(self, "compiled", False):
            return None
        return {
            "g_optimizer": keras.optimizers.serialize(self.g_optimizer),
            "d_optimizer": keras.optimizers.serialize(self.d_optimizer),
            **self.compile_options(),
            # Recorded only when set: the runs recorded before FreezeD existed keep their identity.
            **({"freeze_d_layers": self.freeze_d_layers} if getattr(self, "freeze_d_layers", 0) else {}),
        }

    def compile_from_config(self, config):
        config = dict(config)
        config["d_optimizer"] = keras.optimizers.deserialize(config["d_optimizer"])
        config["g_optimizer"] = keras.optimizers.deserialize(config["g_optimizer"])
        self.compile(**config)

    @classmethod
    def from_preset(cls, name_or_path, compile: bool = True):
        """The preset ``name_or_path`` (see :func:`tfgan_zoo.presets.from_preset`), which must be a ``cls``."""
        from tfgan_zoo.presets import PresetError, from_preset  # presets load the families

        model = from_preset(name_or_path, compile=compile)
        if not isinstance(model, cls):
            raise PresetError(
                f"Preset {name_or_path!r} holds a {type(model).__name__}, not a {cls.__name__}: load it with "
                f"tfgan_zoo.{type(model).__name__}.from_preset or tfgan_zoo.from_preset."
            )
        return model

    def fit(self, x=None, y=None, batch_size=None, *args, callbacks=None, validation_data=None,
            sample_weight=None, class_weight=None, validation_batch_size=None, **kwargs):
        """``keras.Model.fit``, plus:

        * the first batch of ``x`` (any input ``fit`` takes: arrays, tuples,
          lists or dicts of them, tensors, ``tf.data``, a ``PyDataset`` or a
          generator) and of ``validation_data`` is checked eagerly against the
          input contract: an XLA step drops in-step assertions, and [0, 1]
          floats are refused there (see :func:`tfgan_zoo.ranges.to_model_range`);
        * ``sample_weight`` and ``class_weight``, which a GAN would ignore, are refused;
        * D's learning rate follows G's under ``LearningRateScheduler``/``ReduceLROnPlateau``;
        * ``keras.callbacks.TerminateOnNaN`` stops on any non-finite figure (a GAN logs no ``loss``).
        """
        fitting.refuse_unused({"sample_weight": sample_weight, "class_weight": class_weight},
                              fitting.UNUSED_FIT_ARGUMENTS, "fit", type(self).__name__)
        x = self._checked_first_batch(x, y, batch_size)
        if validation_data is not None:
            validation_x, validation_y = fitting.validation_parts(validation_data)
            validation_x = self._checked_first_batch(validation_x, validation_y, validation_batch_size or batch_size)
            validation_data = validation_x if validation_y is None else (validation_x, validation_y)
        callbacks = [*fitting.for_a_gan(callbacks), DLearningRateFollowsG()]
        return super().fit(x, y, batch_size, *args, callbacks=callbacks, validation_data=validation_data,
                           validation_batch_size=validation_batch_size, **kwargs)

    def evaluate(self, x=None, y=None, batch_size=None, *args, sample_weight=None, **kwargs):
        """``keras.Model.evaluate`` through ``test_step``, its first batch checked
        eagerly as ``fit`` checks it; ``sample_weight`` is refused."""
        fitting.refuse_unused({"sample_weight": sample_weight}, fitting.UNUSED_FIT_ARGUMENTS, "evaluate",
                              type(self).__name__)
        # fit's validation runs through here on the data fit checked (Keras' private flag):
        # a second look would take a validation generator's next item from under fit.
        if not kwargs.get("_use_cached_eval_dataset"):
            x = self._checked_first_batch(x, y, batch_size)
        return super().evaluate(x, y, batch_size, *args, **kwargs)

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=True, show_trainable=False,
                layer_range=None):
        """One table per network, layer by layer with output shapes: each generator,
        each discriminator, then any other network the model keeps (the EMA
        copy, which no optimizer trains); then the model's parameter counts.
        Keras' own summary of a subclassed model would show each network as one
        row of shape ``?``. The arguments are ``keras.Model.summary``'s."""
        show = print_fn or (lambda line, **_: print(line))
        trained = {**self.generators, **self.discriminators}
        kept = [layer for layer in self.layers
                if isinstance(layer, keras.Model) and all(layer is not network for network in trained.values())]
        for role, network in [*(("trained", network) for network in trained.values()),
                              *(("not trained", network) for network in kept)]:
            show(f"{network.name} ({type(network).__name__}, {role}):")
            network.summary(line_length=line_length, positions=positions, print_fn=print_fn,
                            expand_nested=expand_nested, show_trainable=show_trainable, layer_range=layer_range)
        total, trainable = (sum(int(np.prod(weight.shape)) for weight in weights)
                            for weights in (self.weights, self.trainable_weights))
        show(f"{type(self).__name__} \"{self.name}\": Total params: {total:,}, Trainable params: {trainable:,}, "
             f"Non-trainable params: {total - trainable:,}")

    def __call__(self, inputs, *args, **kwargs):
        return super().__call__(self._label_arrays(inputs), *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        """``keras.Model.predict``; a conditional family's ``(noise, labels)`` may hold Python lists."""
        return super().predict(self._label_arrays(x), *args, **kwargs)

    def _label_arrays(self, inputs):
        # Keras takes no Python lists among a call's or predict's inputs: a conditional
        # family's (noise, [3, 1, 4]) becomes (noise, class ids) first, as do one-hot rows,
        # so that predict traces one step whatever form the labels come in.
        if getattr(self, "num_classes", 0) and isinstance(inputs, (tuple, list)):
            noise, labels = noise_and_labels(inputs, type(self).__name__)
            return noise, class_ids(labels, self.num_classes)
        return inputs

    def _checked_first_batch(self, x, y, batch_size):
        """``x`` to pass on, once its first batch passed :meth:`split_batch` eagerly."""
        if x is None:
            return x
        batch, x = fitting.first_batch(x, y, batch_size, self.distribute_strategy)
        if batch is not None:
            self.split_batch(batch)
        return x

    def export(self, filepath, format: str = "tf_saved_model", verbose=None, **kwargs):
        """Writes the model for serving at ``filepath`` in ``format`` (see
        :func:`tfgan_zoo.export.export_model`); returns the path written.

        * ``"tf_saved_model"`` (default): the serving SavedModel, with the same
          signatures as the experiments' exports; ``kwargs``: ``precision``
          (``"float32"``, the default, or ``"training"``), ``class_names``, ``max_batch``.
        * ``"litert"``: one signature (``signature=``, default the first) as a
          ``.tflite`` file of TFLite builtin ops; ``quantization``, ``class_names``.
        * ``"onnx"``: one signature as an ``.onnx`` file (needs tf2onnx >= 1.17);
          ``opset_version``, ``class_names``.

        For TF Serving's numbered versions use :func:`tfgan_zoo.export.save`.
        A path holding anything the package did not write is left alone, with an error.
        """
        from tfgan_zoo import export as export_lib  # export imports the models' helpers

        return export_lib.export_model(self, filepath, format, **kwargs)

    @staticmethod
    def step_logs(metrics) -> dict:
        """``{name: result}`` of ``metrics`` for a train/test step's return value.

        Keras averages these over replicas; across several workers it reduces
        them along axis 0, which fails on scalars (tensorflow#72388), so there
        each is returned as shape ``[1]`` and comes out a scalar mean.
        """
        logs = {metric.name: metric.result() for metric in metrics}
        if _across_workers():
            logs = {name: tf.reshape(value, [1]) for name, value in logs.items()}
        return logs

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Networks, trackers and optimizer slots are all built by __init__ and
        # compile(). Keras' symbolic build would only pull one batch and
        # reduce it across replicas, which MultiWorkerMirroredStrategy cannot
        # do for (inputs, targets) pairs.
        if self.built and getattr(self, "optimizer", None) is not None and self.optimizer.built:
            return
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)
