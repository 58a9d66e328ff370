"""The training core shared by every GAN family: a ``keras.Model`` with its own
``train_step``, two optimizers and the bookkeeping that makes it behave under
XLA, mixed precision and ``tf.distribute``.

A family subclasses :class:`GAN` and says how a batch splits into images and
conditions, and how conditions are fed to G and D. Everything else (update
ratio, losses, gradient penalty, loss scaling, metrics, per-replica noise) lives
here once.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tfgan_zoo import losses as gan_losses
from tfgan_zoo.augment import diff_augment, parse_policy, step_seed

# Salts that keep the random streams of the different sub-steps apart.
_D_NOISE, _G_NOISE, _GP_EPSILON, _AUGMENT_REAL, _AUGMENT_FAKE, _AUGMENT_G = 1, 2, 3, 4, 5, 6


def _uses_float16() -> bool:
    return keras.mixed_precision.dtype_policy().name == "mixed_float16"


def paper_adam() -> keras.optimizers.Optimizer:
    """``Adam(2e-4, beta_1=0.5)``: the optimizer of the DCGAN, pix2pix and CycleGAN papers."""
    return keras.optimizers.Adam(2e-4, beta_1=0.5)


def _prepare_optimizer(optimizer, role: str, default=None):
    """``optimizer`` (an instance or a name; ``default()`` when None) ready for training:
    wrapped in ``LossScaleOptimizer`` under ``mixed_float16``."""
    if optimizer is None and default is not None:
        optimizer = default()
    if optimizer is None:
        raise ValueError(
            f"compile() needs {role}_optimizer, e.g. keras.optimizers.Adam(2e-4, beta_1=0.5)."
        )
    optimizer = keras.optimizers.get(optimizer)
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


def to_model_range(images):
    """uint8 [0, 255] -> float32 [-1, 1]; float images are taken as already in [-1, 1]."""
    images = tf.convert_to_tensor(images)
    if images.dtype == tf.uint8:
        return tf.cast(images, tf.float32) / 127.5 - 1.0
    return tf.cast(images, tf.float32)


def split_image_pair(data, usage: str):
    """``(first, second)`` images of a two-part batch in [-1, 1]; ``usage`` is the error message otherwise."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError(usage)
    return to_model_range(data[0]), to_model_range(data[1])


def _across_workers() -> bool:
    strategy = tf.distribute.get_strategy()
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and bool(
        getattr(strategy.extended, "_in_multi_worker_mode", lambda: False)()
    )


class AdversarialModel(keras.Model):
    """What every family shares: a G and a D optimizer, saved with the model's compile config."""

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

    def _build_with_trackers(self, networks, metric_names):
        """Builds ``networks`` now and adds a ``{name}_tracker`` mean per metric name,
        which :attr:`metrics` returns in that order (so ``fit`` resets them each epoch).

        Building at construction means that inside a strategy scope the variables
        are distributed, and a checkpoint can be restored before the first step.
        """
        for network in networks:
            network.build_for_inputs()
        self.built = True
        self._metric_names = tuple(metric_names)
        for name in self._metric_names:
            setattr(self, f"{name}_tracker", keras.metrics.Mean(name=name))

    @property
    def metrics(self):
        return [getattr(self, f"{name}_tracker") for name in getattr(self, "_metric_names", ())]

    def _attach_optimizers(self, g_optimizer, d_optimizer, g_variables, d_variables, **compile_kwargs):
        """Keeps both (prepared) optimizers and compiles the model.

        G's optimizer doubles as ``model.optimizer`` so that Keras callbacks
        (TensorBoard steps, BackupAndRestore) see a real one. Optimizer slots
        are built now: a checkpoint restored before the first step must find
        every variable it holds, or optimizer state is lost.
        """
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        super().compile(optimizer=g_optimizer, **compile_kwargs)
        g_optimizer.build(g_variables)
        d_optimizer.build(d_variables)

    def _compile_options(self) -> dict:
        """The family's own ``compile`` arguments (beside the optimizers), for saving."""
        return {"loss": self.gan_loss.name}

    def get_compile_config(self):
        if not getattr(self, "compiled", False):
            return None
        return {
            "g_optimizer": keras.optimizers.serialize(self.g_optimizer),
            "d_optimizer": keras.optimizers.serialize(self.d_optimizer),
            **self._compile_options(),
        }

    def compile_from_config(self, config):
        config = dict(config)
        config["d_optimizer"] = keras.optimizers.deserialize(config["d_optimizer"])
        config["g_optimizer"] = keras.optimizers.deserialize(config["g_optimizer"])
        self.compile(**config)


class GAN(AdversarialModel):
    """Base GAN: ``fit`` trains D ``d_steps`` times, then G ``g_steps`` times per batch.

    Subclasses set ``self.generator``, ``self.discriminator`` and
    ``self.latent_dim`` and may override :meth:`split_batch`,
    :meth:`generator_inputs` and :meth:`discriminate`.
    """

    def __init__(self, seed: int = 0, diffaugment: str = "", **kwargs):
        super().__init__(**kwargs)
        self.seed = int(seed)
        self.diffaugment = parse_policy(diffaugment)
        self.ema_decay, self.ema_generator = 0.0, None
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")
        self.gp_tracker = keras.metrics.Mean(name="gp")
        # Watched by the health monitor: it falls towards 0 when G's gradients vanish.
        self.g_grad_norm_tracker = keras.metrics.Mean(name="g_grad_norm")

    # ------------------------------------------------------------------ hooks
    def split_batch(self, data):
        """Returns ``(real_images, conditions)``; conditions is None when unconditional."""
        if isinstance(data, (tuple, list)):
            data = data[0]
        return data, None

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
        return self.generator(inputs, training=training)

    # ---------------------------------------------------------------- compile
    def compile(
        self,
        d_optimizer=None,
        g_optimizer=None,
        loss: str | gan_losses.GANLoss = "bce",
        label_smoothing: float = 0.0,
        d_steps: int = 1,
        g_steps: int = 1,
        gp_weight: float = 10.0,
        **kwargs,
    ):
        """Configures adversarial training.

        Args:
            d_optimizer, g_optimizer: optimizers (instances or names). Wrapped in
                ``LossScaleOptimizer`` automatically under ``mixed_float16``.
            loss: ``"bce"`` (non-saturating), ``"lsgan"``, ``"hinge"``,
                ``"wgan-gp"`` or a :class:`tfgan_zoo.losses.GANLoss`.
            label_smoothing: one-sided smoothing of D's real target (bce, lsgan).
            d_steps, g_steps: updates of D and of G per batch. ``g_steps=2``
                is the classic remedy when D overpowers G; ``d_steps=5`` the
                WGAN-GP recipe.
            gp_weight: weight of the gradient penalty (``wgan-gp`` only).
            **kwargs: passed to ``keras.Model.compile`` (``jit_compile``,
                ``steps_per_execution``, ...). ``jit_compile="auto"`` (the
                default) means XLA on GPU and off on CPU, where it is slower.
        """
        if int(d_steps) < 1 or int(g_steps) < 1:
            raise ValueError(f"d_steps and g_steps must be >= 1, got {d_steps} and {g_steps}.")
        if "optimizer" in kwargs or "loss_weights" in kwargs:
            raise ValueError("Use d_optimizer= and g_optimizer=; a GAN has no single optimizer.")
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
        self._attach_optimizers(
            _prepare_optimizer(g_optimizer, "g"), _prepare_optimizer(d_optimizer, "d"),
            self.generator.trainable_variables, self.discriminator.trainable_variables, **kwargs,
        )

    def _discriminator_has_batch_norm(self) -> bool:
        return any(
            isinstance(layer, keras.layers.BatchNormalization)
            for layer in self.discriminator._flatten_layers()
        )

    def _compile_options(self) -> dict:
        return {
            "loss": self.gan_loss.name,
            "label_smoothing": self.gan_loss.label_smoothing,
            "d_steps": self.d_steps,
            "g_steps": self.g_steps,
            "gp_weight": self.gp_weight,
        }

    @property
    def metrics(self):
        trackers = [
            self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker, self.d_fake_tracker,
            self.g_grad_norm_tracker,
        ]
        if getattr(self, "gan_loss", None) is not None and self.gan_loss.uses_gradient_penalty:
            trackers.append(self.gp_tracker)
        return trackers

    # ------------------------------------------------------------ train step
    def training_noise(self, local_batch, salt, counter):
        """Noise for this replica's share of the global batch.

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

    def train_step(self, data):
        real_images, conditions = self.split_batch(data)
        real_images = tf.cast(real_images, tf.float32)
        local_batch = tf.shape(real_images)[0]
        for _ in range(self.d_steps):
            self._train_discriminator(real_images, conditions, local_batch)
        for _ in range(self.g_steps):
            self._train_generator(conditions, local_batch)
        return self.step_logs(self.metrics)

    def _train_discriminator(self, real_images, conditions, local_batch):
        step = self.d_optimizer.iterations
        noise = self.training_noise(local_batch, _D_NOISE, step)
        fake_images = tf.cast(self.generate(noise, conditions, training=True), tf.float32)
        with tf.GradientTape() as tape:
            real_seen = self._augment_for_d(real_images, _AUGMENT_REAL, step)
            fake_seen = self._augment_for_d(fake_images, _AUGMENT_FAKE, step)
            real_logits = self.discriminate(real_seen, conditions, training=True)
            fake_logits = self.discriminate(fake_seen, conditions, training=True)
            per_example = self.gan_loss.discriminator_loss(real_logits, fake_logits)
            if self.gan_loss.uses_gradient_penalty:
                penalty = self._gradient_penalty(real_seen, fake_seen, conditions, step)
                self.gp_tracker.update_state(tf.reduce_mean(penalty))
                per_example = per_example + self.gp_weight * penalty
            loss = replica_mean(per_example)
            scaled_loss = self.d_optimizer.scale_loss(loss)
        variables = self.discriminator.trainable_variables
        grads = tape.gradient(scaled_loss, variables)
        self.d_optimizer.apply_gradients(zip(grads, variables))
        self.d_loss_tracker.update_state(tf.reduce_mean(per_example))
        self.d_real_tracker.update_state(tf.reduce_mean(self.gan_loss.score(real_logits)))
        self.d_fake_tracker.update_state(tf.reduce_mean(self.gan_loss.score(fake_logits)))

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
        variables = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            fake_images = self.generate(noise, conditions, training=True)
            fake_seen = self._augment_for_d(fake_images, _AUGMENT_G, step)
            fake_logits = self.discriminate(fake_seen, conditions, training=True)
            per_example = self.gan_loss.generator_loss(fake_logits)
            loss = replica_mean(per_example)
            scaled_loss = self.g_optimizer.scale_loss(loss)
        grads = tape.gradient(scaled_loss, variables)
        self.g_grad_norm_tracker.update_state(self._gradient_norm(grads, self.g_optimizer))
        self.g_optimizer.apply_gradients(zip(grads, variables))
        if self.ema_generator is not None:
            self._update_ema(self.generator_inputs(noise, conditions))
        self.g_loss_tracker.update_state(tf.reduce_mean(per_example))

    def _gradient_norm(self, grads, optimizer):
        """Global norm of the gradient of this replica's mean loss, loss scaling undone."""
        num_replicas, _ = _replica_info()
        norm = tf.linalg.global_norm([tf.cast(g, tf.float32) for g in grads if g is not None])
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            norm = norm / tf.cast(optimizer.dynamic_scale, tf.float32)
        return norm * float(num_replicas)
