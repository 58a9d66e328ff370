"""The family contract: what every GAN family in this package provides, and
what this module gives each of them. (docs/adding_a_family.md walks through
a new family.)

A family is a subclass of :class:`AdversarialModel` (noise-to-image families:
of :class:`GAN`, which adds noise, EMA, DiffAugment and step ratios). It provides:

* **networks**: ``generators`` and ``discriminators``, dicts of name ->
  network (each with ``build_for_inputs()``; by default ``self.generator``
  and ``self.discriminator``), created in ``__init__``, which then calls :meth:`AdversarialModel.build_training_state` with the names of
  the figures its steps log;
* **how a batch splits**: :meth:`~AdversarialModel.split_batch`, returning the
  batch's parts in the model's ranges (helpers here check images, shapes and
  labels);
* **its losses**: ``train_step`` and ``test_step``, each update written as
  ``with self.update(optimizer, networks) as step: ... step.minimize(losses)``;
  ``compile(*, g_optimizer=None, d_optimizer=None, <its options>, **kwargs)``
  calling :meth:`~AdversarialModel.attach_optimizers`, with ``compile_options()``
  returning those options for saving; ``get_config()``;
* **its inputs for samples or translations**, through one of two protocols:
  :class:`Sampling` (noise -> image: ``latent_dim``, ``num_classes``,
  ``sample_inputs``, ``generate``, ``sampling_generator``) or
  :class:`Translating` (image -> image: ``image_size``, ``translators``,
  ``translate``). Callbacks, exports, the demo, reports and diagnostics use
  only these.

The base gives every family: one update helper with loss scaling (float16)
and replica scaling (``tf.distribute``); trackers made from names, whose loss
terms declare their direction to Keras' monitor callbacks; the gradient norm
of every generator (``g_grad_norm``, or ``g_ab_grad_norm``/``g_ba_grad_norm``
with two), watched by the health monitor; the paper's Adam as the default of
both optimizers; ``evaluate``/``validation_data`` through ``test_step``;
``model.export(path)``; learning-rate callbacks that move both optimizers; and
an eager check of the first batch when the step is compiled with XLA.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import keras
import numpy as np
import tensorflow as tf

# Keras' monitor callbacks read metric directions only inside this container type.
from keras.src.trainers.compile_utils import MetricsList

from tfgan_zoo import losses as gan_losses
from tfgan_zoo.augment import diff_augment, parse_policy, step_seed
from tfgan_zoo.options import Count, Fraction, NonNegative
from tfgan_zoo.ranges import to_model_range, to_uint8

# Salts that keep the random streams of the different sub-steps apart.
_D_NOISE, _G_NOISE, _GP_EPSILON, _AUGMENT_REAL, _AUGMENT_FAKE, _AUGMENT_G, _EVAL_NOISE = 1, 2, 3, 4, 5, 6, 7
# Logged loss terms whose names do not end in "loss" (the families' parts of G's objective).
_LOSS_TERMS = ("g_gan", "g_l1", "cycle", "identity", "gp")


def _uses_float16() -> bool:
    return keras.mixed_precision.dtype_policy().name == "mixed_float16"


def paper_adam() -> keras.optimizers.Optimizer:
    """``Adam(2e-4, beta_1=0.5)``: the optimizer of the DCGAN, pix2pix and CycleGAN papers."""
    return keras.optimizers.Adam(2e-4, beta_1=0.5)


def _prepare_optimizer(optimizer):
    """``optimizer`` (an instance or a name; :func:`paper_adam` when None) ready for
    training: wrapped in ``LossScaleOptimizer`` under ``mixed_float16``."""
    optimizer = keras.optimizers.get(paper_adam() if optimizer is None else optimizer)
    if _uses_float16() and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        # float16 gradients underflow without dynamic loss scaling.
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def _replica_info():
    """(number of replicas in sync, this replica's id) inside or outside a strategy."""
    context = tf.distribute.get_replica_context()
    if context is None:  # cross-replica context: behave like one replica
        return tf.distribute.get_strategy().num_replicas_in_sync, 0
    return context.num_replicas_in_sync, context.replica_id_in_sync_group


def replica_mean(per_example):
    """The mean of this replica's per-example losses divided by the replica
    count: Keras sums gradients over replicas, so together they take the
    global batch's mean (a plain mean would give N times the gradient)."""
    num_replicas, _ = _replica_info()
    return tf.reduce_mean(per_example) / float(num_replicas)


def check_image_shape(images, image_shape, what: str = "images"):
    """``images``, checked to be ``[batch, *image_shape]``: a ValueError naming both
    shapes when the static shape tells, else an assertion in the step (a
    retraced step may know only ``[None, None, None, C]``)."""
    expected = [int(size) for size in image_shape]
    found = images.shape.as_list()
    message = (
        f"{what} do not match this model's image_shape {tuple(expected)} (batches [batch, "
        f"{', '.join(map(str, expected))}]). Resize the images, or build the model with the images' shape."
    )
    if len(found) != len(expected) + 1 or any(
        size is not None and size != want for size, want in zip(found[1:], expected)
    ):
        raise ValueError(f"{message} Found shape {found}.")
    check = tf.debugging.assert_equal(tf.shape(images)[1:], tf.constant(expected), message=message)
    with tf.control_dependencies([check]):
        return tf.identity(images)


def class_ids(labels, num_classes: int):
    """int32 class ids ``[batch]`` from class ids (any integer type, ``[batch]`` or
    ``[batch, 1]``) or one-hot rows ``[batch, num_classes]``; ids outside
    ``[0, num_classes)`` fail in the step (they would train on an all-zero one-hot)."""
    labels = tf.convert_to_tensor(labels)
    rank, last = labels.shape.rank, labels.shape[-1] if labels.shape.rank else None
    if rank == 2 and last == num_classes and num_classes > 1:
        labels = tf.argmax(labels, axis=-1)
    elif rank == 2 and last == 1:
        labels = labels[:, 0]
    elif rank != 1:
        raise ValueError(
            f"labels must be class ids [batch] or one-hot rows [batch, {num_classes}], got shape "
            f"{labels.shape.as_list()}."
        )
    elif labels.dtype.is_floating:
        raise TypeError(f"labels must be integer class ids (or one-hot rows), got {labels.dtype.name} ids.")
    labels = tf.cast(labels, tf.int32)
    check = tf.debugging.Assert(
        tf.reduce_all(tf.logical_and(labels >= 0, labels < num_classes)),
        [f"labels must be class ids in [0, {num_classes - 1}]; found", tf.reduce_min(labels), "to",
         tf.reduce_max(labels), ". Map your label values to 0..num_classes-1, or build the model "
         "with more classes."],
    )
    with tf.control_dependencies([check]):
        return tf.identity(labels)


def unpack_batch(data):
    """``(images, labels or None)`` of a batch given as images, ``(images,)``,
    ``(images, labels)`` or a TFDS-style dict ``{"image": ..., "label": ...}``."""
    if isinstance(data, dict):
        image_key = next((key for key in ("image", "images") if key in data), None)
        if image_key is None:
            raise ValueError(
                f"A dict batch needs an 'image' entry (TFDS style), got keys {sorted(data)}."
            )
        label_key = next((key for key in ("label", "labels") if key in data), None)
        return data[image_key], None if label_key is None else data[label_key]
    if isinstance(data, (tuple, list)):
        return data[0], data[1] if len(data) > 1 else None
    return data, None


def translate_images(generator, images, image_size: int, batch_size: int = 16) -> np.ndarray:
    """Runs ``generator`` (in inference mode, with ``input_channels`` and
    ``output_channels`` attributes) on uint8 images, or float images in
    [-1, 1], ``[N, image_size, image_size, input_channels]``, ``batch_size`` at
    a time; returns uint8 translations."""
    images = np.asarray(images)
    expected = (image_size, image_size, generator.input_channels)
    if images.ndim != 4 or images.shape[1:] != expected:
        raise ValueError(
            f"translate expects images [N, {', '.join(map(str, expected))}], got shape {images.shape}; "
            "resize them to the model's image_size first."
        )
    if images.dtype != np.uint8 and images.size and (images.min() < -1.001 or images.max() > 1.001):
        raise ValueError("float images must be in [-1, 1]; pass uint8 images for [0, 255] data.")
    parts = [
        np.asarray(to_uint8(generator(to_model_range(images[start : start + batch_size]))))
        for start in range(0, len(images), batch_size)
    ]
    if not parts:
        return np.zeros((0, image_size, image_size, generator.output_channels), np.uint8)
    return np.concatenate(parts)


def split_image_pair(data, shapes: tuple, usage: str):
    """``(first, second)`` images of a two-part batch in [-1, 1], checked to have the
    image ``shapes`` ``(first_shape, second_shape)``; ``usage`` is the error message
    when the batch has not two parts."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError(usage)
    return tuple(
        check_image_shape(to_model_range(images, f"{which} images of a batch"), shape, f"{which} images")
        for images, shape, which in zip(data, shapes, ("first", "second"))
    )


def _across_workers() -> bool:
    strategy = tf.distribute.get_strategy()
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and bool(
        getattr(strategy.extended, "_in_multi_worker_mode", lambda: False)()
    )


class _LossMean(keras.metrics.Mean):
    """The running mean of a loss term: lower is better, which ``EarlyStopping``
    and ``ModelCheckpoint`` read to infer ``mode="auto"``."""

    def __init__(self, name: str):
        super().__init__(name=name)
        self._direction = "down"


class _Trackers(MetricsList):
    """A model's trackers as one metrics container: Keras' monitor callbacks
    look for directions only inside such containers (keras/src/callbacks/monitor_callback.py)."""

    def result(self):
        return {tracker.name: tracker.result() for tracker in self.metrics}


def _tracker(name: str) -> keras.metrics.Mean:
    """A running mean for the metric ``name``; loss terms are marked as minimized."""
    is_loss = name.endswith("loss") or name in _LOSS_TERMS
    return _LossMean(name) if is_loss else keras.metrics.Mean(name=name)


class _DLearningRateFollowsG(keras.callbacks.Callback):
    """Moves D's learning rate by the factor G's moved since the last look.

    ``LearningRateScheduler`` and ``ReduceLROnPlateau`` change ``model.optimizer``,
    which is G's; running after them (``fit`` appends this callback last), this
    applies the same change to D, keeping the two rates' ratio. Optimizers
    driven by a schedule are left alone (those callbacks refuse them anyway).
    """

    @staticmethod
    def _adjustable(optimizer) -> bool:
        inner = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer
        return not isinstance(inner._learning_rate, keras.optimizers.schedules.LearningRateSchedule)

    def on_train_begin(self, logs=None):
        optimizers = (self.model.g_optimizer, self.model.d_optimizer)
        self._active = all(self._adjustable(optimizer) for optimizer in optimizers)
        self._g_rate = self._rate(self.model.g_optimizer) if self._active else None

    @staticmethod
    def _rate(optimizer) -> float:
        # A MirroredVariable under tf.distribute: read it through a tensor.
        return float(keras.ops.convert_to_numpy(optimizer.learning_rate))

    def _follow(self):
        if not self._active:
            return
        g_rate = self._rate(self.model.g_optimizer)
        if g_rate != self._g_rate and self._g_rate:
            d_optimizer = self.model.d_optimizer
            d_optimizer.learning_rate = self._rate(d_optimizer) * g_rate / self._g_rate
        self._g_rate = g_rate

    def on_epoch_begin(self, epoch, logs=None):
        self._follow()

    def on_epoch_end(self, epoch, logs=None):
        self._follow()


@runtime_checkable
class Sampling(Protocol):
    """A noise-to-image family (DCGAN, ConditionalGAN): what sample sheets,
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


class _Update:
    """One optimizer step on some networks' trainable variables, taken when the
    ``with`` block that computed its loss ends (see :meth:`AdversarialModel.update`)."""

    def __init__(self, optimizer, networks: list, grad_norm_trackers: dict):
        self.optimizer, self.networks, self.grad_norm_trackers = optimizer, networks, grad_norm_trackers
        self.tape, self._loss = tf.GradientTape(), None

    def __enter__(self):
        self.tape.__enter__()
        return self

    def minimize(self, per_example):
        """Descend this replica's per-example losses: their mean divided by the
        replica count (Keras sums replicas' gradients), scaled for float16 loss
        scaling. Call inside the ``with`` block, as the tape must see it."""
        self._loss = self.optimizer.scale_loss(replica_mean(per_example))

    def __exit__(self, kind, value, traceback):
        self.tape.__exit__(kind, value, traceback)
        if kind is not None:
            return False
        if self._loss is None:
            raise RuntimeError("An update's with-block must call step.minimize(per_example_losses).")
        groups = [network.trainable_variables for network in self.networks]
        variables = [variable for group in groups for variable in group]
        grads = self.tape.gradient(self._loss, variables)
        start = 0
        for network, group in zip(self.networks, groups):
            tracker = self.grad_norm_trackers.get(id(network))
            if tracker is not None:
                tracker.update_state(_gradient_norm(grads[start : start + len(group)], self.optimizer))
            start += len(group)
        self.optimizer.apply_gradients(zip(grads, variables))
        return False


def _gradient_norm(grads, optimizer):
    """Global norm of the gradient of this replica's mean loss, loss and replica scaling undone."""
    num_replicas, _ = _replica_info()
    norm = tf.linalg.global_norm([tf.cast(g, tf.float32) for g in grads if g is not None])
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        norm = norm / tf.cast(optimizer.dynamic_scale, tf.float32)
    return norm * float(num_replicas)


class AdversarialModel(keras.Model):
    """The base of every family (see the module docstring for the contract)."""

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
    def build_training_state(self, metric_names):
        """Builds every network now and adds a running mean per metric name (then one
        ``*_grad_norm`` per generator), which :meth:`trackers` returns in that order.

        Building at construction means that inside a strategy scope the variables
        are distributed, and a checkpoint can be restored before the first step.
        """
        for network in (*self.generators.values(), *self.discriminators.values()):
            network.build_for_inputs()
        self.built = True
        self._grad_norm_names = {name: self._grad_norm_name(name) for name in self.generators}
        self._metric_names = (*metric_names, *self._grad_norm_names.values())
        for name in self._metric_names:
            setattr(self, f"{name}_tracker", _tracker(name))

    def _grad_norm_name(self, generator: str) -> str:
        # One generator keeps the plain name that logs and the health monitor have always used.
        return "g_grad_norm" if len(self.generators) == 1 else f"{generator}_grad_norm"

    def trackers(self) -> list:
        """The running means a train step updates and returns, in log order."""
        return [getattr(self, f"{name}_tracker") for name in getattr(self, "_metric_names", ())]

    def record(self, values: dict):
        """Adds each value's batch mean to the tracker of the same name."""
        for name, value in values.items():
            getattr(self, f"{name}_tracker").update_state(tf.reduce_mean(value))

    def update(self, optimizer, networks) -> _Update:
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
        return _Update(optimizer, list(networks), trackers)

    def training_noise(self, local_batch, salt, counter):
        """Noise ``[local_batch, latent_dim]`` for this replica's share of the global batch.

        The noise of the whole global batch is drawn from a stateless seed
        (model seed, sub-step salt, optimizer step) and each replica takes its
        own slice: replicas get different noise, and N replicas see exactly
        the noise one device would see for the same global batch.
        """
        num_replicas, replica_id = _replica_info()
        seed = tf.stack(
            [tf.constant(self.seed * 1_000_003 + salt, tf.int64), tf.cast(counter, tf.int64)]
        )
        noise = tf.random.stateless_normal([local_batch * num_replicas, self.latent_dim], seed=seed)
        return noise[replica_id * local_batch : (replica_id + 1) * local_batch]

    @property
    def metrics(self):
        # One container, so that fit resets them each epoch and monitor callbacks see their directions.
        return [_Trackers(self.trackers())]

    def compile(self, *, g_optimizer=None, d_optimizer=None, **kwargs):
        """Both optimizers (the paper's Adam by default); families add their options."""
        self.attach_optimizers(g_optimizer, d_optimizer, **kwargs)

    def attach_optimizers(self, g_optimizer=None, d_optimizer=None, **compile_kwargs):
        """Keeps both optimizers (instances or names; the papers' ``Adam(2e-4,
        beta_1=0.5)`` when None; wrapped in ``LossScaleOptimizer`` under
        ``mixed_float16``) and compiles the model; ``compile_kwargs`` go to
        ``keras.Model.compile`` (``jit_compile``, ``steps_per_execution``, ...).

        G's optimizer doubles as ``model.optimizer`` so that Keras callbacks
        (TensorBoard steps, BackupAndRestore) see a real one. Optimizer slots
        are built now: a checkpoint restored before the first step must find
        every variable it holds, or optimizer state is lost.
        """
        if "optimizer" in compile_kwargs or "loss_weights" in compile_kwargs:
            raise ValueError(
                f"Use g_optimizer= and d_optimizer=; {type(self).__name__} has no single optimizer."
            )
        g_optimizer, d_optimizer = _prepare_optimizer(g_optimizer), _prepare_optimizer(d_optimizer)
        if g_optimizer is d_optimizer:
            raise ValueError("g_optimizer and d_optimizer must be two optimizer instances.")
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
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
        }

    def compile_from_config(self, config):
        config = dict(config)
        config["d_optimizer"] = keras.optimizers.deserialize(config["d_optimizer"])
        config["g_optimizer"] = keras.optimizers.deserialize(config["g_optimizer"])
        self.compile(**config)

    def fit(self, x=None, *args, callbacks=None, **kwargs):
        """``keras.Model.fit``, plus: D's learning rate follows G's under
        ``LearningRateScheduler``/``ReduceLROnPlateau``, and with an XLA step
        (which drops in-step assertions) the first batch of a ``tf.data``
        input is checked eagerly against the input contract."""
        if self.jit_compile and isinstance(x, tf.data.Dataset):
            for batch in x.take(1):
                self.split_batch(batch)
        callbacks = [*(callbacks or []), _DLearningRateFollowsG()]
        return super().fit(x, *args, callbacks=callbacks, **kwargs)

    def export(self, filepath, format: str = "tf_saved_model", verbose=None, **kwargs):
        """Writes the model's serving SavedModel (see :mod:`tfgan_zoo.export`) at ``filepath``.

        The same signatures as the experiments' exports; ``kwargs``: ``precision``
        (``"float32"``, the default, or ``"training"``). For TF Serving's numbered
        versions use :func:`tfgan_zoo.export.save_generator` and friends; for
        TFLite, :mod:`tfgan_zoo.tflite` on the written folder.
        """
        from tfgan_zoo import export as export_lib  # export imports the models' helpers

        if format != "tf_saved_model":
            raise ValueError(
                f"format={format!r} is not supported: export writes a SavedModel; convert it with "
                "python -m tfgan_zoo.tflite for TFLite."
            )
        return export_lib.write_saved_model(self, filepath, **kwargs)

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


class GAN(AdversarialModel):
    """The base of the noise-to-image families: ``fit`` trains D ``d_steps``
    times, then G ``g_steps`` times per batch, with optional DiffAugment and an
    EMA generator.

    Subclasses set ``self.generator``, ``self.discriminator``, ``latent_dim``,
    ``num_classes`` and ``image_shape``, call ``self.build_training_state()``,
    and may override :meth:`generator_inputs` and :meth:`discriminate`.
    """

    # gp is logged only under a gradient-penalty loss (see trackers()).
    METRIC_NAMES = ("d_loss", "g_loss", "d_real", "d_fake", "gp")

    def __init__(self, seed: int = 0, diffaugment: str = "", **kwargs):
        super().__init__(**kwargs)
        self.seed = int(seed)
        self.diffaugment = parse_policy(diffaugment)
        self.ema_decay, self.ema_generator = 0.0, None

    def build_training_state(self, metric_names=METRIC_NAMES):
        super().build_training_state(metric_names)

    def sample_inputs(self, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
        """``(noise, labels)`` for ``count`` samples: noise float32 ``[count, latent_dim]``
        from ``seed``, and class ids cycling 0, 1, ..., num_classes - 1 (None
        without classes): every class equally often, the same for the same seed."""
        noise = np.random.default_rng(seed).standard_normal((count, self.latent_dim)).astype("float32")
        labels = np.arange(count, dtype="int32") % self.num_classes if self.num_classes else None
        return noise, labels

    # ------------------------------------------------------------------ hooks
    def split_batch(self, data):
        """``(real_images, labels)`` of a batch, the input contract of every noise-to-image family.

        Batches are images, ``(images, labels)`` or ``{"image", "label"}`` dicts
        (TFDS). Images are uint8 or floats in [-1, 1] of ``image_shape``; labels
        are class ids or one-hot rows (None without classes). Anything else is
        an error that names what was found and the fix.
        """
        images, labels = unpack_batch(data)
        images = check_image_shape(to_model_range(images), self.image_shape)
        if not self.num_classes:
            return images, None
        if labels is None:
            raise ValueError(
                f"{type(self).__name__} needs (images, labels) batches; got images only. Build the "
                "dataset with labels, e.g. tfgan_zoo.data.image_dataset(images, labels, ...)."
            )
        return images, class_ids(labels, self.num_classes)

    def generator_inputs(self, noise, conditions):
        return noise

    def discriminate(self, images, conditions, training=True):
        return self.discriminator(images, training=training)

    def generate(self, noise, conditions=None, training=False, averaged=True):
        """G's images for ``noise``; outside training (and with ``averaged``) from the
        EMA generator when there is one."""
        generator = self.sampling_generator if averaged and not training else self.generator
        return generator(self.generator_inputs(noise, conditions), training=training)

    @property
    def sampling_generator(self):
        """The generator that samples, evaluations and exports use: the EMA one if kept."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    # -------------------------------------------------------- small-data aids
    def _setup_ema(self, decay: float):
        """Creates ``ema_generator``, a copy of the built ``generator`` whose weights
        follow G's by an exponential moving average of ``decay`` (0: none)."""
        decay = float(decay)
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1) (e.g. 0.999; 0 turns it off), got {decay}.")
        self.ema_decay = decay
        if not decay:
            return
        config = {**self.generator.get_config(), "name": "ema_generator"}
        self.ema_generator = type(self.generator).from_config(config)
        self.ema_generator.build_for_inputs()
        for average, weight in zip(self.ema_generator.weights, self.generator.weights):
            average.assign(weight)

    def _update_ema(self, generator_inputs):
        """``average <- d * average + (1 - d) * weight`` for G's trainable weights, with
        ``d = min(ema_decay, (1 + t) / (10 + t))`` at G step ``t`` so that early
        averages are not dominated by the random init. Then one forward pass of
        the EMA generator in training mode on this step's ``generator_inputs``:
        its batch-norm statistics follow its own (averaged) weights; averaging
        G's statistics instead gave samples worse than G's own."""
        step = tf.cast(self.g_optimizer.iterations, tf.float32)
        decay = tf.minimum(self.ema_decay, (1.0 + step) / (10.0 + step))
        pairs = [(average, weight) for average, weight in zip(self.ema_generator.weights, self.generator.weights)
                 if weight.trainable]
        averaged = [
            tf.cast(decay * tf.cast(average.value, tf.float32) + (1.0 - decay) * tf.cast(weight.value, tf.float32),
                    average.dtype)
            for average, weight in pairs
        ]
        context = tf.distribute.get_replica_context()
        if not tf.distribute.has_strategy() or context is None:
            for (average, _), value in zip(pairs, averaged):
                average.assign(value)
        else:
            def assign_all(strategy, values):
                for (average, _), value in zip(pairs, values):
                    strategy.extended.update(average.value, lambda variable, new: variable.assign(new), args=(value,))

            # Mirrored variables are assigned from the cross-replica context, each
            # replica's copy from its own (identical) average.
            context.merge_call(assign_all, args=(averaged,))
        self.ema_generator(generator_inputs, training=True)

    def _augment_for_d(self, images, salt: int, step):
        """``images`` through the DiffAugment policy (unchanged without one)."""
        if not self.diffaugment:
            return images
        seed = step_seed(self.seed * 1_000_003 + salt, step)
        return tf.cast(diff_augment(tf.cast(images, tf.float32), seed, self.diffaugment), images.dtype)

    def call(self, inputs, training=False):
        """G on its inputs (noise, or ``(noise, labels)``): outside training the
        EMA generator when there is one, as ``generate``, samples and exports use."""
        generator = self.generator if training else self.sampling_generator
        return generator(inputs, training=training)

    # ---------------------------------------------------------------- compile
    def compile(
        self,
        *,
        g_optimizer=None,
        d_optimizer=None,
        loss: gan_losses.LossName | gan_losses.GANLoss = "bce",
        label_smoothing: Fraction = 0.0,
        d_steps: Count = 1,
        g_steps: Count = 1,
        gp_weight: NonNegative = 10.0,
        **kwargs,
    ):
        """Configures adversarial training.

        Args:
            g_optimizer, d_optimizer: optimizers (instances or names); default
                ``Adam(2e-4, beta_1=0.5)`` each, the DCGAN paper's. Wrapped in
                ``LossScaleOptimizer`` automatically under ``mixed_float16``.
            loss: the GAN loss: bce (non-saturating), lsgan, hinge or wgan-gp
                (or a :class:`tfgan_zoo.losses.GANLoss`).
            label_smoothing: one-sided smoothing of D's real target (bce, lsgan).
            d_steps: D updates per batch (5: the WGAN-GP recipe).
            g_steps: G updates per batch (2: the classic remedy when D overpowers G).
            gp_weight: weight of the gradient penalty (wgan-gp only).
            **kwargs: passed to ``keras.Model.compile`` (``jit_compile``,
                ``steps_per_execution``, ...). ``jit_compile="auto"`` (the
                default) means XLA on GPU and off on CPU, where it is slower.
        """
        if int(d_steps) < 1 or int(g_steps) < 1:
            raise ValueError(f"d_steps and g_steps must be >= 1, got {d_steps} and {g_steps}.")
        self.gan_loss = gan_losses.get(loss, label_smoothing)
        if self.gan_loss.uses_gradient_penalty and self._discriminator_has_batch_norm():
            raise ValueError(
                "The wgan-gp gradient penalty is per example, but this discriminator uses "
                "batch normalization, which mixes examples. Build the model with "
                "d_norm='layer' (or 'none') to use loss='wgan-gp'."
            )
        self.d_steps = int(d_steps)
        self.g_steps = int(g_steps)
        self.gp_weight = float(gp_weight)
        self.attach_optimizers(g_optimizer, d_optimizer, **kwargs)

    def _discriminator_has_batch_norm(self) -> bool:
        return any(
            isinstance(layer, keras.layers.BatchNormalization)
            for layer in self.discriminator._flatten_layers()
        )

    def compile_options(self) -> dict:
        return {
            "loss": self.gan_loss.name,
            "label_smoothing": self.gan_loss.label_smoothing,
            "d_steps": self.d_steps,
            "g_steps": self.g_steps,
            "gp_weight": self.gp_weight,
        }

    def trackers(self) -> list:
        penalty = getattr(self, "gan_loss", None) is not None and self.gan_loss.uses_gradient_penalty
        return [tracker for tracker in super().trackers() if penalty or tracker.name != "gp"]

    # ------------------------------------------------------------ train step
    def test_step(self, data):
        """D's and G's losses and D's scores on held-out real images, without
        updates: ``evaluate`` and ``fit(validation_data=...)``. The trained G
        (not the EMA) is scored, as D was trained against it; its noise is drawn
        from the model seed and the optimizer step, so the same model state
        gives the same figures."""
        real_images, conditions = self.split_batch(data)
        noise = self.training_noise(tf.shape(real_images)[0], _EVAL_NOISE, self.g_optimizer.iterations)
        fake_images = tf.cast(self.generate(noise, conditions, averaged=False), tf.float32)
        real_logits = self.discriminate(real_images, conditions, training=False)
        fake_logits = self.discriminate(fake_images, conditions, training=False)
        self.record({
            "d_loss": self.gan_loss.discriminator_loss(real_logits, fake_logits),
            "g_loss": self.gan_loss.generator_loss(fake_logits),
            "d_real": self.gan_loss.score(real_logits),
            "d_fake": self.gan_loss.score(fake_logits),
        })
        return self.step_logs([self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker, self.d_fake_tracker])

    def train_step(self, data):
        real_images, conditions = self.split_batch(data)
        local_batch = tf.shape(real_images)[0]
        for _ in range(self.d_steps):
            self._train_discriminator(real_images, conditions, local_batch)
        for _ in range(self.g_steps):
            self._train_generator(conditions, local_batch)
        return self.step_logs(self.trackers())

    def _train_discriminator(self, real_images, conditions, local_batch):
        step = self.d_optimizer.iterations
        noise = self.training_noise(local_batch, _D_NOISE, step)
        fake_images = tf.cast(self.generate(noise, conditions, training=True), tf.float32)
        with self.update(self.d_optimizer, [self.discriminator]) as update:
            real_seen = self._augment_for_d(real_images, _AUGMENT_REAL, step)
            fake_seen = self._augment_for_d(fake_images, _AUGMENT_FAKE, step)
            real_logits = self.discriminate(real_seen, conditions, training=True)
            fake_logits = self.discriminate(fake_seen, conditions, training=True)
            per_example = self.gan_loss.discriminator_loss(real_logits, fake_logits)
            if self.gan_loss.uses_gradient_penalty:
                penalty = self._gradient_penalty(real_seen, fake_seen, conditions, step)
                self.record({"gp": penalty})
                per_example = per_example + self.gp_weight * penalty
            update.minimize(per_example)
        self.record({
            "d_loss": per_example,
            "d_real": self.gan_loss.score(real_logits),
            "d_fake": self.gan_loss.score(fake_logits),
        })

    def _gradient_penalty(self, real_images, fake_images, conditions, step):
        num_replicas, replica_id = _replica_info()
        local_batch = tf.shape(real_images)[0]
        seed = tf.stack(
            [tf.constant(self.seed * 1_000_003 + _GP_EPSILON, tf.int64), tf.cast(step, tf.int64)]
        )
        epsilon = tf.random.stateless_uniform([local_batch * num_replicas], seed=seed)
        epsilon = epsilon[replica_id * local_batch : (replica_id + 1) * local_batch]
        epsilon = tf.reshape(epsilon, [-1] + [1] * (real_images.shape.rank - 1))
        return gan_losses.gradient_penalty(
            lambda images: self.discriminate(images, conditions, training=True),
            real_images,
            fake_images,
            epsilon,
        )

    def _train_generator(self, conditions, local_batch):
        step = self.g_optimizer.iterations
        noise = self.training_noise(local_batch, _G_NOISE, step)
        with self.update(self.g_optimizer, [self.generator]) as update:
            fake_images = self.generate(noise, conditions, training=True)
            fake_seen = self._augment_for_d(fake_images, _AUGMENT_G, step)
            fake_logits = self.discriminate(fake_seen, conditions, training=True)
            per_example = self.gan_loss.generator_loss(fake_logits)
            update.minimize(per_example)
        if self.ema_generator is not None:
            self._update_ema(self.generator_inputs(noise, conditions))
        self.record({"g_loss": per_example})
