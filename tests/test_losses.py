"""Each loss on hand-made logits with values worked out by hand."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tfgan_zoo import losses
from tfgan_zoo.models.base import GradientPenalty


def softplus(x):
    return math.log1p(math.exp(x))


REAL = np.array([[2.0], [-1.0]], np.float32)
FAKE = np.array([[0.5], [-3.0]], np.float32)


def test_bce_matches_cross_entropy_formula():
    loss = losses.get("bce")
    d = loss.discriminator_loss(REAL, FAKE).numpy()
    expected = [softplus(-2.0) + softplus(0.5), softplus(1.0) + softplus(-3.0)]
    np.testing.assert_allclose(d, expected, rtol=1e-6)
    np.testing.assert_allclose(loss.generator_loss(FAKE).numpy(), [softplus(-0.5), softplus(3.0)], rtol=1e-6)
    np.testing.assert_allclose(loss.score(REAL).numpy(), [1 / (1 + math.exp(-2)), 1 / (1 + math.exp(1))], rtol=1e-6)


def test_bce_one_sided_label_smoothing_only_moves_real_target():
    loss = losses.get("bce", label_smoothing=0.1)
    d = loss.discriminator_loss(REAL, FAKE).numpy()
    # real target 0.9: 0.9*softplus(-x) + 0.1*softplus(x); fake target stays 0
    expected0 = 0.9 * softplus(-2.0) + 0.1 * softplus(2.0) + softplus(0.5)
    assert d[0] == pytest.approx(expected0, rel=1e-6)
    np.testing.assert_allclose(loss.generator_loss(FAKE).numpy(), [softplus(-0.5), softplus(3.0)], rtol=1e-6)


def test_lsgan_values():
    loss = losses.get("lsgan")
    d = loss.discriminator_loss(REAL, FAKE).numpy()
    np.testing.assert_allclose(d, [0.5 * 1.0 + 0.5 * 0.25, 0.5 * 4.0 + 0.5 * 9.0], rtol=1e-6)
    np.testing.assert_allclose(loss.generator_loss(FAKE).numpy(), [0.5 * 0.25, 0.5 * 16.0], rtol=1e-6)


def test_hinge_values():
    loss = losses.get("hinge")
    d = loss.discriminator_loss(REAL, FAKE).numpy()
    np.testing.assert_allclose(d, [0.0 + 1.5, 2.0 + 0.0], rtol=1e-6)
    np.testing.assert_allclose(loss.generator_loss(FAKE).numpy(), [-0.5, 3.0], rtol=1e-6)


def test_wasserstein_values():
    loss = losses.get("wgan-gp")
    np.testing.assert_allclose(loss.discriminator_loss(REAL, FAKE).numpy(), [0.5 - 2.0, -3.0 + 1.0], rtol=1e-6)
    np.testing.assert_allclose(loss.generator_loss(FAKE).numpy(), [-0.5, 3.0], rtol=1e-6)
    assert loss.uses_gradient_penalty


def test_patch_logits_are_averaged_per_example():
    patch = np.zeros((2, 4, 4, 1), np.float32)
    patch[0] = 2.0
    scores = losses.get("hinge").generator_loss(patch).numpy()
    np.testing.assert_allclose(scores, [-2.0, 0.0])


def test_gradient_penalty_of_linear_critic():
    # critic(x) = sum(w * x): its gradient is w everywhere, so the penalty is (|w| - 1)^2.
    w = tf.constant(np.full((1, 2, 2, 1), 0.25, np.float32))  # |w| = 0.5

    def critic(x):
        return tf.reduce_sum(x * w, axis=[1, 2, 3])

    real = tf.random.normal([3, 2, 2, 1])
    fake = tf.random.normal([3, 2, 2, 1])
    penalty = losses.gradient_penalty(critic, real, fake, tf.fill([3, 1, 1, 1], 0.3)).numpy()
    np.testing.assert_allclose(penalty, [0.25] * 3, rtol=1e-4)


def test_bad_names_and_options_are_explained():
    with pytest.raises(ValueError, match="Unknown GAN loss"):
        losses.get("wgan-lp")
    with pytest.raises(ValueError, match="no real/fake targets"):
        losses.get("hinge", label_smoothing=0.1)
    with pytest.raises(ValueError, match=r"\[0, 0.5\)"):
        losses.get("bce", label_smoothing=0.7)


def test_gradient_penalty_component_draws_its_points_from_seed_and_step(mirrored):
    # A linear critic's gradient is the same everywhere: only the draws can differ.
    real, fake = tf.zeros([4, 2, 2, 1]), tf.ones([4, 2, 2, 1])

    def critic(x):  # D(x) = |x|^2: its gradient 2x, so the penalty tells where x was taken
        return tf.reduce_sum(tf.square(x), axis=[1, 2, 3])

    penalty = GradientPenalty(weight=10.0, seed=1)
    first = penalty(critic, real, fake, step=0).numpy()
    assert first.shape == (4,) and len(set(first.round(6))) == 4  # one point per example
    np.testing.assert_array_equal(penalty(critic, real, fake, step=0), first)
    assert not np.array_equal(penalty(critic, real, fake, step=1), first)
    # Two replicas, two examples each, penalize the points one device takes for the four.
    per_replica = mirrored.run(tf.function(lambda: penalty(critic, real[:2], fake[:2], step=0)))
    np.testing.assert_allclose(np.concatenate(mirrored.experimental_local_results(per_replica)), first, rtol=1e-6)
    with pytest.raises(ValueError, match="gp_weight must be >= 0"):
        GradientPenalty(weight=-1.0)
