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

# Salts that keep the random streams of the different sub-steps apart.
_D_NOISE, _G_NOISE, _GP_EPSILON = 1, 2, 3


def _uses_float16() -> bool:
    return keras.mixed_precision.dtype_policy().name == "mixed_float16"


def _prepare_optimizer(optimizer, role: str):
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


class AdversarialModel(keras.Model):
    """What every family shares: a G and a D optimizer, saved with the model's compile config."""

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

    def __init__(self, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.seed = int(seed)
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

    def generate(self, noise, conditions=None, training=False):
        return self.generator(self.generator_inputs(noise, conditions), training=training)

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
        self.d_optimizer = _prepare_optimizer(d_optimizer, "d")
        self.g_optimizer = _prepare_optimizer(g_optimizer, "g")
        self.d_steps = int(d_steps)
        self.g_steps = int(g_steps)
        self.gp_weight = float(gp_weight)
        # The generator's optimizer doubles as model.optimizer so that Keras
        # callbacks (TensorBoard steps, BackupAndRestore) see a real one.
        super().compile(optimizer=self.g_optimizer, **kwargs)
        # Build optimizer slots now: a checkpoint restored before the first
        # step must find every variable it holds, or optimizer state is lost.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    def _discriminator_has_batch_norm(self) -> bool:
        return any(
            isinstance(layer, keras.layers.BatchNormalization)
            for layer in self.discriminator._flatten_layers()
        )

    def get_compile_config(self):
        if not getattr(self, "compiled", False):
            return None
        return {
            "d_optimizer": keras.optimizers.serialize(self.d_optimizer),
            "g_optimizer": keras.optimizers.serialize(self.g_optimizer),
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
        return {metric.name: metric.result() for metric in self.metrics}

    def _train_discriminator(self, real_images, conditions, local_batch):
        step = self.d_optimizer.iterations
        noise = self.training_noise(local_batch, _D_NOISE, step)
        fake_images = tf.cast(self.generate(noise, conditions, training=True), tf.float32)
        with tf.GradientTape() as tape:
            real_logits = self.discriminate(real_images, conditions, training=True)
            fake_logits = self.discriminate(fake_images, conditions, training=True)
            per_example = self.gan_loss.discriminator_loss(real_logits, fake_logits)
            if self.gan_loss.uses_gradient_penalty:
                penalty = self._gradient_penalty(real_images, fake_images, conditions, step)
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
        noise = self.training_noise(local_batch, _G_NOISE, self.g_optimizer.iterations)
        variables = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            fake_images = self.generate(noise, conditions, training=True)
            fake_logits = self.discriminate(fake_images, conditions, training=True)
            per_example = self.gan_loss.generator_loss(fake_logits)
            loss = replica_mean(per_example)
            scaled_loss = self.g_optimizer.scale_loss(loss)
        grads = tape.gradient(scaled_loss, variables)
        self.g_grad_norm_tracker.update_state(self._gradient_norm(grads, self.g_optimizer))
        self.g_optimizer.apply_gradients(zip(grads, variables))
        self.g_loss_tracker.update_state(tf.reduce_mean(per_example))

    def _gradient_norm(self, grads, optimizer):
        """Global norm of the gradient of this replica's mean loss, loss scaling undone."""
        num_replicas, _ = _replica_info()
        norm = tf.linalg.global_norm([tf.cast(g, tf.float32) for g in grads if g is not None])
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            norm = norm / tf.cast(optimizer.dynamic_scale, tf.float32)
        return norm * float(num_replicas)
