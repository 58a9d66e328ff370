"""Adversarial losses, each a small class with one job per method.

Every loss returns *per-example* values (shape ``[batch]``): the model reduces
them, so that the reduction can account for the number of replicas under
``tf.distribute`` (Keras sums gradients across replicas). Discriminator outputs
of any shape ``[batch, ...]`` (a single logit or a PatchGAN map) are averaged
over their non-batch axes first.

Semantics follow TF-GAN's catalogue:

* ``bce``: non-saturating GAN (Goodfellow et al. 2014), G maximises log D(G(z)).
* ``lsgan``: least squares (Mao et al. 2017), 0.5 factors as in TF-GAN.
* ``hinge``: hinge loss (Lim & Ye 2017; Miyato et al. 2018).
* ``wgan-gp``: Wasserstein critic with gradient penalty (Gulrajani et al. 2017);
  the penalty itself is :func:`gradient_penalty`, which a family takes through
  the replica-correct component :class:`tfgan_zoo.models.base.GradientPenalty`.
"""

from __future__ import annotations

from typing import Annotated, Literal

import tensorflow as tf

from tfgan_zoo.options import Range, declared_range

# The one declaration of label smoothing's values: compile's annotation (hence
# the --label-smoothing flag and its help) and GANLoss's own check both read it.
# Past 0.5 the real target would be nearer "fake" than "real".
LabelSmoothing = Annotated[float, Range(0, 0.5, high_open=True, hint="One-sided smoothing of 0.1 is the usual value.")]


def _per_example(logits):
    """Float32 logits averaged over all axes but the batch axis."""
    logits = tf.cast(logits, tf.float32)
    if logits.shape.rank is not None and logits.shape.rank <= 1:
        return logits
    return tf.reduce_mean(tf.reshape(logits, [tf.shape(logits)[0], -1]), axis=1)


class GANLoss:
    """Base class: a discriminator loss, a generator loss and a score.

    ``score`` is what the progress bar shows as ``d_real``/``d_fake``: a
    probability for ``bce``, the raw output for the other losses.
    """

    name = "base"
    uses_gradient_penalty = False
    supports_label_smoothing = False

    def __init__(self, label_smoothing: LabelSmoothing = 0.0):
        declared_range(LabelSmoothing).check("label_smoothing", label_smoothing)
        if label_smoothing and not self.supports_label_smoothing:
            raise ValueError(
                f"Loss '{self.name}' has no real/fake targets to smooth; "
                "use label_smoothing=0 or the 'bce' or 'lsgan' loss."
            )
        self.label_smoothing = float(label_smoothing)

    @property
    def real_target(self) -> float:
        return 1.0 - self.label_smoothing

    def discriminator_loss(self, real_logits, fake_logits):
        raise NotImplementedError

    def generator_loss(self, fake_logits):
        raise NotImplementedError

    def score(self, logits):
        return _per_example(logits)


class NonSaturatingLoss(GANLoss):
    name = "bce"
    supports_label_smoothing = True

    def discriminator_loss(self, real_logits, fake_logits):
        target = self.real_target
        real = tf.cast(real_logits, tf.float32)
        # BCE(t, x) = t * softplus(-x) + (1 - t) * softplus(x), stable for any x.
        real_loss = target * tf.nn.softplus(-real) + (1.0 - target) * tf.nn.softplus(real)
        fake_loss = tf.nn.softplus(tf.cast(fake_logits, tf.float32))
        return _per_example(real_loss) + _per_example(fake_loss)

    def generator_loss(self, fake_logits):
        return _per_example(tf.nn.softplus(-tf.cast(fake_logits, tf.float32)))

    def score(self, logits):
        return _per_example(tf.sigmoid(tf.cast(logits, tf.float32)))


class LeastSquaresLoss(GANLoss):
    name = "lsgan"
    supports_label_smoothing = True

    def discriminator_loss(self, real_logits, fake_logits):
        real = tf.cast(real_logits, tf.float32)
        fake = tf.cast(fake_logits, tf.float32)
        return 0.5 * _per_example(tf.square(real - self.real_target)) + 0.5 * _per_example(
            tf.square(fake)
        )

    def generator_loss(self, fake_logits):
        return 0.5 * _per_example(tf.square(tf.cast(fake_logits, tf.float32) - 1.0))


class HingeLoss(GANLoss):
    name = "hinge"

    def discriminator_loss(self, real_logits, fake_logits):
        real = tf.cast(real_logits, tf.float32)
        fake = tf.cast(fake_logits, tf.float32)
        return _per_example(tf.nn.relu(1.0 - real)) + _per_example(tf.nn.relu(1.0 + fake))

    def generator_loss(self, fake_logits):
        return -_per_example(fake_logits)


class WassersteinGPLoss(GANLoss):
    name = "wgan-gp"
    uses_gradient_penalty = True

    def discriminator_loss(self, real_logits, fake_logits):
        return _per_example(fake_logits) - _per_example(real_logits)

    def generator_loss(self, fake_logits):
        return -_per_example(fake_logits)


# The names compile() takes, as command-line choices (tfgan_zoo.options reads these annotations).
LossName = Literal["bce", "lsgan", "hinge", "wgan-gp"]
PenaltyFreeLossName = Literal["bce", "lsgan", "hinge"]

LOSSES = {
    cls.name: cls
    for cls in (NonSaturatingLoss, LeastSquaresLoss, HingeLoss, WassersteinGPLoss)
}
_ALIASES = {"non-saturating": "bce", "ns": "bce", "ls": "lsgan", "wgan_gp": "wgan-gp", "wgangp": "wgan-gp"}


def get(loss: str | GANLoss, label_smoothing: LabelSmoothing = 0.0) -> GANLoss:
    """Returns a loss object for a name (``bce``, ``lsgan``, ``hinge``, ``wgan-gp``)."""
    if isinstance(loss, GANLoss):
        if label_smoothing:
            raise ValueError("Pass label_smoothing to the loss object itself, not to compile().")
        return loss
    key = _ALIASES.get(str(loss).lower(), str(loss).lower())
    if key not in LOSSES:
        raise ValueError(f"Unknown GAN loss {loss!r}. Choose one of: {', '.join(LOSSES)}.")
    return LOSSES[key](label_smoothing=label_smoothing)


def gradient_penalty(critic, real, fake, epsilon):
    """Per-example ``(||grad_x critic(x_hat)||_2 - 1)^2`` at ``x_hat`` between real and fake.

    ``epsilon`` has shape ``[batch, 1, ..., 1]`` with values in [0, 1].
    """
    real = tf.cast(real, tf.float32)
    fake = tf.cast(fake, tf.float32)
    interpolated = epsilon * real + (1.0 - epsilon) * fake
    with tf.GradientTape() as tape:
        tape.watch(interpolated)
        scores = tf.reduce_sum(_per_example(critic(interpolated)))
    grads = tape.gradient(scores, interpolated)
    norms = tf.sqrt(tf.reduce_sum(tf.square(tf.reshape(grads, [tf.shape(grads)[0], -1])), axis=1) + 1e-12)
    return tf.square(norms - 1.0)


def per_example_l1(targets, images):
    """Per-example mean absolute difference ``mean |targets - images|``, shape ``[batch]``, float32."""
    targets = tf.cast(targets, tf.float32)
    images = tf.cast(images, tf.float32)
    return tf.reduce_mean(tf.reshape(tf.abs(targets - images), [tf.shape(targets)[0], -1]), axis=1)


def cycle_consistency_loss(real, reconstructed):
    """CycleGAN's cycle loss for one direction, ``||F(G(x)) - x||_1`` per example
    (the mean over pixels and channels), shape ``[batch]``."""
    return per_example_l1(real, reconstructed)


def identity_loss(real, mapped):
    """CycleGAN's identity loss for one generator, ``||G(y) - y||_1`` per example,
    where ``y`` is already from G's output domain; shape ``[batch]``. It keeps G
    from changing what needs no change (e.g. colour composition)."""
    return per_example_l1(real, mapped)
