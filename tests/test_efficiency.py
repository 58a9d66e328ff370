"""bench/efficiency.py: FLOPs counted from traced graphs against hand counts, and the peak and share figures."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import REPO, load_script

efficiency = load_script(REPO / "bench" / "efficiency.py")


def flops(function, *args):
    specs = [tf.TensorSpec(np.shape(arg), tf.float32) for arg in args]
    return efficiency.graph_flops(tf.function(function).get_concrete_function(*specs).graph)


def test_dense_forward_and_training_step():
    dense = keras.layers.Dense(3)
    dense.build((None, 5))
    x = np.zeros((4, 5), np.float32)
    assert flops(dense, x) == 2 * 4 * 5 * 3

    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(dense(x)))  # a loss that needs the forward pass
        # Only the kernel's gradient ([5, 4] x [4, 3], a transposed MatMul): x is no variable.
        return tape.gradient(loss, dense.trainable_variables)

    assert flops(step, x) == 2 * (2 * 4 * 5 * 3)
    assert efficiency.gflops_per_image(step, x) == pytest.approx(2 * 2 * 5 * 3 / 1e9)


def test_convolutions_and_their_gradients():
    conv = keras.layers.Conv2D(4, 3, strides=2, padding="same")
    conv.build((None, 8, 8, 3))
    x = np.zeros((2, 8, 8, 3), np.float32)
    forward = 2 * (2 * 4 * 4 * 4) * (3 * 3 * 3)  # every output element: a 3x3x3 window
    assert flops(conv, x) == forward

    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(tf.square(conv(x)))
        return tape.gradient(loss, [x, *conv.trainable_variables])

    # The input gradient (Conv2DBackpropInput) and the filter gradient cost what the forward pass does.
    assert flops(step, x) == 3 * forward

    def kernel_step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(conv(x)))
        return tape.gradient(loss, conv.trainable_variables)

    # Conv2D's gradient builds the input gradient too; nothing uses it, so it does not run and does not count.
    assert flops(kernel_step, x) == 2 * forward


def test_transposed_and_depthwise_convolutions():
    transposed = keras.layers.Conv2DTranspose(2, 3, strides=2, padding="same")
    transposed.build((None, 4, 4, 6))
    # Each input element meets a 3x3x2 slice of the kernel.
    assert flops(transposed, np.zeros((1, 4, 4, 6), np.float32)) == 2 * (4 * 4 * 6) * (3 * 3 * 2)
    depthwise = keras.layers.DepthwiseConv2D(3, depth_multiplier=2)
    depthwise.build((None, 6, 6, 3))
    # Each output channel reads one input channel through a 3x3 window.
    assert flops(depthwise, np.zeros((1, 6, 6, 3), np.float32)) == 2 * (4 * 4 * 6) * 9


def test_batched_matmul_and_a_conditional_count_through_function_bodies():
    a, b = np.zeros((5, 2, 3), np.float32), np.zeros((5, 3, 4), np.float32)
    assert flops(lambda a, b: tf.matmul(a, b), a, b) == 2 * 5 * 2 * 3 * 4

    def branches(a, b):
        return tf.cond(tf.reduce_sum(a) > 0, lambda: tf.matmul(a, b), lambda: tf.zeros([5, 2, 4]))

    assert flops(branches, a, b) == 2 * 5 * 2 * 3 * 4  # the larger branch


def test_an_unknown_batch_size_is_a_clear_error():
    dense = keras.layers.Dense(3)
    dense.build((None, 5))
    graph = tf.function(dense).get_concrete_function(tf.TensorSpec([None, 5])).graph
    with pytest.raises(ValueError, match="fixed batch size"):
        efficiency.graph_flops(graph)


def test_peak_and_share():
    peak = efficiency.matmul_peak_gflops("float32", size=64, min_seconds=0.01, repeats=1)
    assert math.isfinite(peak) and peak > 0
    assert efficiency.compute_dtype("mixed_bfloat16") == "bfloat16"
    figures = efficiency.efficiency(100.0, 0.5, {"float32": 200.0, "bfloat16": 400.0}, "bfloat16")
    assert figures == {"gflops_per_img": 0.5, "achieved_gflops": 50.0, "peak_share": 0.125}
    assert efficiency.fields(figures) == "gflops_per_img=0.5 achieved_gflops=50 peak_share=0.125"
    # Peaks already measured in the run are reused, not measured again.
    assert efficiency.measured_peaks("bfloat16", known={"float32": 1.0, "bfloat16": 2.0}) == {
        "float32": 1.0, "bfloat16": 2.0}
