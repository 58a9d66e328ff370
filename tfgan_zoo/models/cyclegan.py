"""CycleGAN (Zhu et al. 2017): unpaired image-to-image translation.

Two generators, ``G: A -> B`` (:attr:`CycleGAN.generator_ab`) and
``F: B -> A`` (:attr:`CycleGAN.generator_ba`), ResNet encoder-decoders
(Johnson et al. 2016), and two unconditional 70x70 PatchGAN discriminators,
``D_A`` on domain A images and ``D_B`` on domain B images. With the paper's
least-squares loss:

* G's loss: ``(D_B(G(a)) - 1)^2 + (D_A(F(b)) - 1)^2``
  ``+ cycle_weight * (|F(G(a)) - a| + |G(F(b)) - b|)``
  ``+ cycle_weight * identity_weight * (|G(b) - b| + |F(a) - a|)``,
  each term a mean over pixels (or patches), then over the batch.
* Each D's loss: ``0.5 * ((D(real) - 1)^2 + D(fake)^2)``, its fakes drawn from
  an :class:`ImagePool` of the last ``pool_size`` generated images
  (Shrivastava et al. 2017), so that D does not only chase G's latest output.

One optimizer updates both generators and one both discriminators (as the
reference implementation does); G's update comes first, then D's on the fakes
of the same forward pass. ``fit`` takes ``(images_a, images_b)`` batches,
uint8 in [0, 255] or float in [-1, 1], whose pairing means nothing; each
domain is randomly jittered on its own inside the training step.

Under a ``tf.distribute`` strategy each replica keeps its own image pool (of
the fakes its share of the batch produced): pools are sync-on-read variables,
so they need no cross-replica traffic; checkpoints save replica 0's pool and a
restore copies it to every replica.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfgan_zoo import losses as gan_losses
from tfgan_zoo.augment import random_jitter, step_seed
from tfgan_zoo.glossary import accepts_old_spellings
from tfgan_zoo.layers import ImagePool, TranslationNorm, check_norm
from tfgan_zoo.models.base import AdversarialModel, Metric, split_image_pair, translate_images
from tfgan_zoo.options import Count, NonNegative, NonNegativeInt, Seed
from tfgan_zoo.networks.patchgan import PatchDiscriminator
from tfgan_zoo.networks.resnet import ResnetGenerator, default_num_blocks


# G's loss adds the weighted cycle and identity L1s to g_gan: the health monitor judges g_gan.
_METRICS = (
    Metric("g_loss", "minimized"),
    Metric("d_a_loss", "minimized", role="d_loss"),
    Metric("d_b_loss", "minimized", role="d_loss"),
    Metric("g_gan", "minimized", role="g_adversarial_loss"),
    Metric("cycle", "minimized"),
    Metric("identity", "minimized"),
    Metric("d_real", "neither", role="d_real_score"),
    Metric("d_fake", "neither", role="d_fake_score"),
)


def _adversarial_scales(gan_loss: gan_losses.GANLoss) -> tuple[float, float]:
    """(G, D) factors that turn the library's losses into the reference's
    ``criterion(D(G(x)), real)`` for G and ``0.5 * (criterion(real) +
    criterion(fake))`` for D. :class:`~tfgan_zoo.losses.LeastSquaresLoss`
    already halves each squared error; the others sum D's two terms."""
    if isinstance(gan_loss, gan_losses.LeastSquaresLoss):
        return 2.0, 1.0
    return 1.0, 0.5


@keras.saving.register_keras_serializable(package="tfgan_zoo")
@accepts_old_spellings
class CycleGAN(AdversarialModel):
    """Unpaired translation between domains A and B: ``fit`` takes
    ``(images_a, images_b)`` batches of ``[B, S, S, channels]`` images, uint8 or
    float in [-1, 1]; ``model(images)`` maps float A images to B,
    :meth:`translate` either way to uint8.

    Args:
        image_size: side ``S`` of the square images (a multiple of 4).
        channels: channels of both domains.
        g_filters, d_filters: width of the first G and D block (64 in the paper).
        num_blocks: residual blocks of each G; default 9 for 256x256 images
            and larger, 6 below (the paper's choice).
        d_layers: stride-2 layers of the PatchGANs (3: 70x70 patches).
        norm: ``"instance"`` (the paper), ``"batch"`` or ``"none"``, in Gs and Ds.
        pool_size: images in each :class:`ImagePool` (50 in the paper; 0: none).
        cycle_weight: weight of the cycle-consistency L1 (the paper's lambda, 10).
        identity_weight: weight of the identity L1 relative to ``cycle_weight``
            (0.5 in the reference implementation: 5 for lambda 10); 0 disables
            it and saves two generator passes per step.
        jitter: resize to ``load_size`` and randomly crop back, and randomly
            mirror, each domain's batch independently at each training step.
        load_size: resize side for the jitter (default ``round(S * 286 / 256)``).
        seed: seed of the jitter and image-pool draws.

    Metrics: ``g_loss`` (G's whole objective), ``g_gan`` (its adversarial part,
    both directions), ``cycle`` and ``identity`` (the unweighted L1s, summed
    over both directions; ``identity`` is 0 when disabled), ``d_a_loss``,
    ``d_b_loss``, and ``d_real``/``d_fake`` (mean D outputs on real and pooled
    fake images, over both Ds). ``g_loss = g_gan + cycle_weight * cycle +
    cycle_weight * identity_weight * identity``. Evaluation reports ``cycle``.
    """

    def __init__(
        self,
        image_size: Count = 256,
        channels: Count = 3,
        g_filters: Count = 64,
        d_filters: Count = 64,
        num_blocks: NonNegativeInt | None = None,
        d_layers: Count = 3,
        norm: TranslationNorm = "instance",
        pool_size: NonNegativeInt = 50,
        cycle_weight: NonNegative = 10.0,
        identity_weight: NonNegative = 0.5,
        jitter: bool = True,
        load_size: Count | None = None,
        seed: Seed = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.image_size = int(image_size)
        self.channels = int(channels)
        self.g_filters = int(g_filters)
        self.d_filters = int(d_filters)
        self.num_blocks = default_num_blocks(self.image_size) if num_blocks is None else int(num_blocks)
        self.d_layers = int(d_layers)
        self.norm = check_norm(norm)
        self.pool_size = int(pool_size)
        self.cycle_weight = float(cycle_weight)
        self.identity_weight = float(identity_weight)
        self.jitter = bool(jitter)
        self.load_size = None if load_size is None else int(load_size)
        self.seed = int(seed)

        def generator(name):
            return ResnetGenerator(
                self.image_size, self.channels, self.channels, self.g_filters, self.num_blocks, norm, name=name
            )

        def discriminator(name):
            return PatchDiscriminator(
                self.image_size, input_channels=0, output_channels=self.channels, filters=self.d_filters,
                num_layers=self.d_layers, norm=norm, name=name,
            )

        self.generator_ab = generator("generator_ab")
        self.generator_ba = generator("generator_ba")
        self.discriminator_a = discriminator("discriminator_a")
        self.discriminator_b = discriminator("discriminator_b")
        image_shape = (self.image_size, self.image_size, self.channels)
        # pool_a holds fakes of domain A (from generator_ba), for discriminator_a.
        self.pool_a = ImagePool(self.pool_size, image_shape, name="pool_a")
        self.pool_b = ImagePool(self.pool_size, image_shape, name="pool_b")
        self.build_training_state(_METRICS)

    @property
    def generators(self) -> dict:
        return {"g_ab": self.generator_ab, "g_ba": self.generator_ba}

    @property
    def discriminators(self) -> dict:
        return {"d_a": self.discriminator_a, "d_b": self.discriminator_b}

    def call(self, inputs, training=False):
        return self.generator_ab(inputs, training=training)

    def translate(self, images, direction: str = "a_to_b", batch_size: int = 16) -> np.ndarray:
        """uint8 images, or float images in [-1, 1], ``[N, S, S, channels]`` of
        domain A (``direction="a_to_b"``) or B (``"b_to_a"``) -> uint8 translations."""
        generators = {"a_to_b": self.generator_ab, "b_to_a": self.generator_ba}
        if direction not in generators:
            raise ValueError(f"direction must be 'a_to_b' or 'b_to_a', got {direction!r}.")
        return translate_images(generators[direction], images, self.image_size, batch_size)

    # ---------------------------------------------------------------- compile
    def compile(
        self,
        *,
        g_optimizer=None,
        d_optimizer=None,
        loss: gan_losses.PenaltyFreeLossName | gan_losses.GANLoss = "lsgan",
        freeze_d_layers: NonNegativeInt = 0,
        **kwargs,
    ):
        """Configures training.

        Args:
            g_optimizer: optimizer of both generators; d_optimizer: of both
                discriminators (instances or names). Default
                ``Adam(2e-4, beta_1=0.5)`` each, the paper's; for its schedule
                give them a :class:`tfgan_zoo.schedules.LinearDecay` learning
                rate. Wrapped in ``LossScaleOptimizer`` under ``mixed_float16``.
            loss: the GAN loss: lsgan (the paper), bce or hinge (or a
                :class:`tfgan_zoo.losses.GANLoss` without gradient penalty).
                G's adversarial term is criterion(D(G(x)), real) and D's loss
                0.5 * (criterion(D(real), real) + criterion(D(fake), fake)), as
                in the reference implementation (for lsgan: mean squared errors).
            freeze_d_layers: FreezeD (Mo et al. 2020) for fine-tuning from a
                preset: the first N blocks of the discriminator stop training.
            **kwargs: passed to ``keras.Model.compile`` (``jit_compile``,
                ``steps_per_execution``, ...).
        """
        self.gan_loss = gan_losses.get(loss)
        if self.gan_loss.uses_gradient_penalty:
            raise ValueError(
                f"CycleGAN has no gradient penalty, which loss {self.gan_loss.name!r} needs; "
                "use 'lsgan' (the paper), 'bce' or 'hinge'."
            )
        self._g_gan_scale, self._d_scale = _adversarial_scales(self.gan_loss)
        self.attach_optimizers(g_optimizer, d_optimizer, freeze_d_layers=freeze_d_layers, **kwargs)

    # ------------------------------------------------------------ train step
    def split_batch(self, data):
        shape = (self.image_size, self.image_size, self.channels)
        return split_image_pair(
            data, (shape, shape),
            "CycleGAN.fit expects (images_a, images_b) batches, one batch of each domain, e.g. "
            "tf.data.Dataset.zip((domain_a.repeat(), domain_b.repeat())).batch(1).",
        )

    def _cycle(self, real_a, real_b, training):
        """``(fake_b, fake_a, per-example cycle L1 summed over both directions)``."""
        fake_b = self.generator_ab(real_a, training=training)
        fake_a = self.generator_ba(real_b, training=training)
        cycle = gan_losses.cycle_consistency_loss(
            real_a, self.generator_ba(fake_b, training=training)
        ) + gan_losses.cycle_consistency_loss(real_b, self.generator_ab(fake_a, training=training))
        return fake_b, fake_a, cycle

    def train_step(self, data):
        real_a, real_b = self.split_batch(data)
        jitter_a, jitter_b, pool_seed_a, pool_seed_b = tf.unstack(
            tf.random.experimental.stateless_split(step_seed(self.seed, self.g_optimizer.iterations), 4)
        )
        if self.jitter:
            real_a = random_jitter(real_a, jitter_a, load_size=self.load_size)
            real_b = random_jitter(real_b, jitter_b, load_size=self.load_size)

        with self.update(self.g_optimizer, [self.generator_ab, self.generator_ba]) as update:
            fake_b, fake_a, cycle = self._cycle(real_a, real_b, training=True)
            g_gan = self._g_gan_scale * (
                self.gan_loss.generator_loss(self.discriminator_b(fake_b, training=True))
                + self.gan_loss.generator_loss(self.discriminator_a(fake_a, training=True))
            )
            per_example = g_gan + self.cycle_weight * cycle
            if self.identity_weight and self.cycle_weight:
                identity = gan_losses.identity_loss(
                    real_b, self.generator_ab(real_b, training=True)
                ) + gan_losses.identity_loss(real_a, self.generator_ba(real_a, training=True))
                per_example = per_example + self.cycle_weight * self.identity_weight * identity
                self.record({"identity": identity})
            update.minimize(per_example)
        self.record({"g_loss": per_example, "g_gan": g_gan, "cycle": cycle})

        # D's fakes come from the forward pass above (before G's update) by way
        # of the pools; the pools return them without gradient.
        pooled_a = self.pool_a(fake_a, pool_seed_a)
        pooled_b = self.pool_b(fake_b, pool_seed_b)
        with self.update(self.d_optimizer, [self.discriminator_a, self.discriminator_b]) as update:
            real_a_logits = self.discriminator_a(real_a, training=True)
            fake_a_logits = self.discriminator_a(pooled_a, training=True)
            real_b_logits = self.discriminator_b(real_b, training=True)
            fake_b_logits = self.discriminator_b(pooled_b, training=True)
            d_a = self._d_scale * self.gan_loss.discriminator_loss(real_a_logits, fake_a_logits)
            d_b = self._d_scale * self.gan_loss.discriminator_loss(real_b_logits, fake_b_logits)
            update.minimize(d_a + d_b)
        score = self.gan_loss.score
        self.record({
            "d_a_loss": d_a,
            "d_b_loss": d_b,
            "d_real": 0.5 * (score(real_a_logits) + score(real_b_logits)),
            "d_fake": 0.5 * (score(fake_a_logits) + score(fake_b_logits)),
        })
        return self.step_logs(self.trackers())

    def test_step(self, data):
        """Cycle L1 (both directions, no jitter, inference mode): ``validation_data`` reports ``val_cycle``."""
        real_a, real_b = self.split_batch(data)
        _, _, cycle = self._cycle(real_a, real_b, training=False)
        self.record({"cycle": cycle})
        return self.step_logs([self.cycle_tracker])

    def get_config(self):
        return {
            **super().get_config(),
            "image_size": self.image_size,
            "channels": self.channels,
            "g_filters": self.g_filters,
            "d_filters": self.d_filters,
            "num_blocks": self.num_blocks,
            "d_layers": self.d_layers,
            "norm": self.norm,
            "pool_size": self.pool_size,
            "cycle_weight": self.cycle_weight,
            "identity_weight": self.identity_weight,
            "jitter": self.jitter,
            "load_size": self.load_size,
            "seed": self.seed,
        }

    @property
    def translators(self) -> dict:
        """The networks an export serves, by signature name (the first is ``serving_default``)."""
        return {"a_to_b": self.generator_ab, "b_to_a": self.generator_ba}
