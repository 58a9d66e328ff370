"""Training aids any family can use: an exponential moving average of a
generator, and the WGAN-GP gradient penalty. Both are correct under
``tf.distribute`` (and DiffAugment, :class:`tfgan_zoo.augment.DiffAugment`, is too)."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfgan_zoo import losses as gan_losses
from tfgan_zoo.models.base.tracking import Metric
from tfgan_zoo.models.base.update import replica_share, stream_seed


def has_batch_norm(network) -> bool:
    """Whether ``network`` normalizes over the batch (which mixes examples)."""
    return any(isinstance(layer, keras.layers.BatchNormalization) for layer in network._flatten_layers())


class ExponentialMovingAverage:
    """``network``: a copy of the built ``generator`` whose trainable weights follow
    G's by an exponential moving average of ``decay`` (e.g. 0.999).

    The family keeps ``network`` as a model attribute (``self.ema_generator =
    average.network``) so that checkpoints and ``.keras`` files hold it, and
    calls :meth:`update` after each G step. No optimizer trains the copy: its
    weights are not trainable (``trainable_weights`` and ``summary()`` count G once).

    Args:
        generator: the built generator to average (``get_config``/``from_config``
            and ``build_for_inputs`` make the copy).
        decay: the averaging decay, in (0, 1).
        name: the copy's name (its weights' path prefix in checkpoints).
    """

    def __init__(self, generator: keras.Model, decay: float, name: str = "ema_generator"):
        decay = float(decay)
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1) (e.g. 0.999; 0 turns it off), got {decay}.")
        self.decay, self.generator = decay, generator
        self.network = type(generator).from_config({**generator.get_config(), "name": name})
        self.network.build_for_inputs()
        for average, weight in zip(self.network.weights, generator.weights):
            average.assign(weight)
            # No optimizer trains the copy: its weights count as non-trainable (summary, trainable_weights).
            # The layers themselves stay trainable, so that its batch norms use batch statistics
            # in the training-mode pass of update(); checkpoints keep the same weight paths.
            average.trainable = False

    def update(self, step, generator_inputs):
        """``average <- d * average + (1 - d) * weight`` for G's trainable weights, with
        ``d = min(decay, (1 + t) / (10 + t))`` at G step ``t`` (``step``) so that
        early averages are not dominated by the random init. Then one forward
        pass of the average in training mode on this step's
        ``generator_inputs``: its batch-norm statistics follow its own
        (averaged) weights; averaging G's statistics instead gave samples worse
        than G's own."""
        step = tf.cast(step, tf.float32)
        decay = tf.minimum(self.decay, (1.0 + step) / (10.0 + step))
        pairs = [(average, weight) for average, weight in zip(self.network.weights, self.generator.weights)
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
        self.network(generator_inputs, training=True)


class GradientPenalty:
    """The WGAN-GP penalty (Gulrajani et al. 2017), per example, at random points
    between real and generated images.

    The interpolation weights of the global batch are one stateless draw (from
    ``seed`` and the step) of which each replica takes its share, so N replicas
    penalize exactly the points one device does.

    Args:
        weight: the penalty's weight in D's loss (10 in the paper).
        seed: the model's seed; ``salt`` keeps this stream apart from its others.
        salt: the random stream of the interpolation weights.
    """

    # The figure a family logs the (unweighted) penalty as.
    metric = Metric("gp", "minimized")

    def __init__(self, weight: float = 10.0, seed: int = 0, salt: int = 3):
        self.weight, self.seed, self.salt = float(weight), int(seed), int(salt)
        if self.weight < 0:
            raise ValueError(f"gp_weight must be >= 0, got {weight}.")

    def __call__(self, critic, real_images, fake_images, step):
        """Per-example ``(||grad critic(x)|| - 1)^2`` at points ``x`` between
        ``real_images`` and ``fake_images``; ``critic`` maps images to D's
        adversarial outputs. Multiply by :attr:`weight` to add it to D's loss."""
        seed = stream_seed(self.seed, self.salt, step)
        epsilon = replica_share(lambda rows: tf.random.stateless_uniform([rows], seed=seed),
                                tf.shape(real_images)[0])
        epsilon = tf.reshape(epsilon, [-1] + [1] * (real_images.shape.rank - 1))
        return gan_losses.gradient_penalty(critic, real_images, fake_images, epsilon)


def _units(network):
    """``network``'s layers in order, nested models opened and wrappers (spectral norm) kept whole."""
    for layer in network._flatten_layers(include_self=False, recursive=False):
        if isinstance(layer, keras.layers.Wrapper):
            yield layer
        elif any(True for _ in layer._flatten_layers(include_self=False, recursive=False)):
            yield from _units(layer)
        else:
            yield layer


def _starts_block(layer) -> bool:
    return isinstance(getattr(layer, "layer", layer), (keras.layers.Conv2D, keras.layers.Dense))


def freeze_first_blocks(network, blocks: int) -> None:
    """FreezeD (Mo et al. 2020): the first ``blocks`` blocks of a discriminator stop training.

    A block is a convolution (or dense layer) with the layers up to the next
    one (its normalization, activation, dropout). Frozen batch normalizations run on
    their moving statistics, as Keras does for a non-trainable BatchNormalization.
    At least the last block (D's output) stays trainable.
    """
    if blocks <= 0:
        return
    units = list(_units(network))
    starts = [index for index, unit in enumerate(units) if _starts_block(unit)]
    if blocks >= len(starts):
        raise ValueError(
            f"freeze_d_layers={blocks}, but the discriminator {network.name!r} has {len(starts)} blocks, "
            f"of which at most {len(starts) - 1} can be frozen (its last one decides real or fake)."
        )
    for unit in units[:starts[blocks]]:
        unit.trainable = False
