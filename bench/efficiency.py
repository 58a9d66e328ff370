"""How much of the device a training step uses: FLOPs counted from the step's graph,
and the device's measured matmul peak.

    from efficiency import efficiency, fields, gflops_per_image, measured_peaks

    per_image = gflops_per_image(model.train_step, batch)        # traced, not run
    peaks = measured_peaks("bfloat16")                            # {"float32": ..., "bfloat16": ...}
    print(fields(efficiency(images_per_second, per_image, peaks, "bfloat16")))
    # gflops_per_img=0.1865 achieved_gflops=83.08 peak_share=0.398

    python bench/efficiency.py                                    # this device's matmul peaks

In the speed benches (``add_efficiency`` and ``result_fields``)::

    result = add_efficiency(fit_and_loop_throughput(...), precision, fit_gflops, loop_gflops)
    print(f"dcgan fit_img_s=... {result_fields(result)}")

**FLOPs.** :func:`graph_flops` walks the ops of a traced step (static
shapes) that run, i.e. those its results and variable updates depend on
(TensorFlow prunes the others before running), including the bodies of the
functions, conditionals and loops it calls, and adds 2 x the
multiply-accumulates of the ops that do a network's arithmetic: ``MatMul``,
``BatchMatMul*``, ``Conv2D``, ``Conv3D``, ``DepthwiseConv2dNative`` and
their input and filter gradients. Elementwise ops, normalisation, casts,
resizes and the optimizer's updates are left out: they are a few percent of
the work and do not run at matmul speed, so leaving them out is what makes a
share of the *matmul* peak meaningful. A conditional counts its larger
branch; a loop's body counts once (its trip count is not in the graph).

**Peak.** :func:`matmul_peak_gflops` times square ``tf.matmul`` calls on
the default device (the GPU when there is one; TensorFloat-32 there when
TensorFlow enables it for float32, its default) and keeps the best of
several timed runs, each long enough to dwarf the call overhead.
``peak_share`` = achieved GFLOP/s (images/s x GFLOP per image) / the peak of
the step's compute dtype (float32 for float32, bfloat16 for
mixed_bfloat16, float16 for mixed_float16).
"""

from __future__ import annotations

import math
import time

# Op type -> which input holds the "output-sized" tensor whose every element
# costs kernel-size x in-channels multiply-adds (None: the op's own output).
_CONVOLUTIONS = {
    "Conv2D": None,
    "Conv3D": None,
    "DepthwiseConv2dNative": None,
    # Gradients: as many multiply-adds as the forward convolution they belong to,
    # whose output is their ``out_backprop`` input (index 2).
    "Conv2DBackpropInput": 2,
    "Conv2DBackpropFilter": 2,
    "Conv3DBackpropInputV2": 2,
    "Conv3DBackpropFilterV2": 2,
    "DepthwiseConv2dNativeBackpropInput": 2,
    "DepthwiseConv2dNativeBackpropFilter": 2,
}
_MATMULS = ("MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3")
# Attributes through which an op runs other functions (calls, conditionals, loops).
_BRANCHES = ("then_branch", "else_branch")
_CALLS = ("f", "body")


def _static(shape, op) -> list[int]:
    dims = shape.as_list() if shape.rank is not None else None
    if dims is None or any(dim is None for dim in dims):
        raise ValueError(
            f"{op.type} op {op.name!r} has a shape not known when traced ({shape}); trace the step with "
            "fully defined input shapes (a fixed batch size) to count its FLOPs."
        )
    return dims


def _filter_shape(op) -> list[int]:
    """The filter's shape: an input of the forward op and the input gradient, the output of the filter gradient."""
    if "BackpropFilter" in op.type:
        return _static(op.outputs[0].shape, op)
    return _static(op.inputs[1].shape, op)


def _op_flops(op) -> int:
    if op.type in _MATMULS:
        a = _static(op.inputs[0].shape, op)
        transposed = op.get_attr("adj_x" if "Batch" in op.type else "transpose_a")
        inner = a[-2] if transposed else a[-1]
        return 2 * math.prod(_static(op.outputs[0].shape, op)) * inner
    if op.type in _CONVOLUTIONS:
        source = _CONVOLUTIONS[op.type]
        outputs = _static((op.outputs[0] if source is None else op.inputs[source]).shape, op)
        kernel = _filter_shape(op)
        if op.type.startswith("Depthwise"):
            per_output = math.prod(kernel[:-2])  # each output channel reads one input channel
        else:
            per_output = math.prod(kernel[:-1])  # spatial taps x input channels (per group)
        return 2 * math.prod(outputs) * per_output
    return 0


def _function_graphs(op, names):
    for name in names:
        if name in op.node_def.attr and op.node_def.attr[name].func.name:
            function = op.graph._get_function(op.node_def.attr[name].func.name)
            if function is None:
                raise ValueError(f"{op.type} op {op.name!r} calls a function its graph does not hold.")
            yield function.graph


def _live_ops(graph) -> list:
    """The ops that ``graph``'s results and side effects (variable updates) depend on:
    those that run. TensorFlow prunes the rest, e.g. the gradient with respect to an
    input that no variable is behind, which a gradient function builds anyway."""
    live, stack = set(), [tensor.op for tensor in graph.outputs] + list(graph.control_outputs)
    while stack:
        op = stack.pop()
        if op not in live:
            live.add(op)
            stack += [tensor.op for tensor in op.inputs] + list(op.control_inputs)
    return [op for op in graph.get_operations() if op in live]


def graph_flops(graph) -> int:
    """2 x the multiply-accumulates of the matmuls and convolutions that run in ``graph``
    (a ``FuncGraph``, e.g. a concrete function's ``.graph``) and in the functions it calls."""
    total = 0
    for op in _live_ops(graph):
        total += _op_flops(op)
        total += sum(graph_flops(body) for body in _function_graphs(op, _CALLS))
        branches = [graph_flops(branch) for branch in _function_graphs(op, _BRANCHES)]
        if "branches" in op.node_def.attr:  # Case / StatelessCase
            branches += [graph_flops(op.graph._get_function(function.name).graph)
                         for function in op.node_def.attr["branches"].list.func]
        total += max(branches, default=0)
    return total


def gflops_per_image(function, *example_args) -> float:
    """GFLOPs per image of one call of ``function`` (a ``tf.function`` or a plain
    function, e.g. ``model.train_step``; a Keras model must be compiled first) on
    arguments shaped like ``example_args`` (tensors, arrays or nests of them:
    one batch). The batch size is the first dimension of the first argument's
    first tensor. Nothing runs: the function is only traced."""
    import tensorflow as tf

    specs = tf.nest.map_structure(lambda part: tf.TensorSpec.from_tensor(tf.convert_to_tensor(part)), example_args)
    if not hasattr(function, "get_concrete_function"):
        function = tf.function(function)
    graph = function.get_concrete_function(*specs).graph
    batch_size = tf.nest.flatten(specs)[0].shape[0]
    return graph_flops(graph) / batch_size / 1e9


def matmul_peak_gflops(dtype: str = "float32", size: int | None = None, min_seconds: float = 0.1,
                       repeats: int = 5) -> float:
    """The best GFLOP/s of ``size`` x ``size`` matmuls in ``dtype`` on the default device.

    ``size``: default 8192 on a GPU, 2048 on CPU (both large enough to reach the
    libraries' peak; 1024 gets 60-90% of it on CPU). After a warm-up call, one
    timed call sets how many calls a run needs to last ``min_seconds``; the best
    of ``repeats`` such runs counts.
    Each run ends by reading one element of its last product, which waits for the
    device: on a GPU the calls queue up asynchronously and run back to back.
    """
    import tensorflow as tf

    if size is None:
        size = 8192 if tf.config.list_logical_devices("GPU") else 2048
    generator = tf.random.Generator.from_seed(0)
    # Entries of variance 1/size keep the products' entries near 1: no overflow in float16.
    a, b = (tf.cast(generator.normal([size, size]) / math.sqrt(size), dtype) for _ in range(2))
    multiply = tf.function(tf.matmul)

    def timed(calls: int) -> float:
        start = time.perf_counter()
        for _ in range(calls):
            product = multiply(a, b)
        product[0, 0].numpy()
        return time.perf_counter() - start

    timed(1)  # warm-up: tracing, kernel selection
    calls = max(1, math.ceil(min_seconds / timed(1)))
    best = min(timed(calls) for _ in range(repeats))
    return 2 * size**3 * calls / best / 1e9


def compute_dtype(precision: str) -> str:
    """The dtype a Keras dtype policy computes in: ``mixed_bfloat16`` -> ``bfloat16``."""
    return precision.removeprefix("mixed_")


def measured_peaks(dtype: str, size: int | None = None, known: dict | None = None) -> dict:
    """``{"float32": GFLOP/s, dtype: GFLOP/s}``: the matmul peaks a result is compared with,
    measured now but for those in ``known`` (peaks measured earlier in the same run)."""
    known = known or {}
    return {name: known[name] if name in known else matmul_peak_gflops(name, size)
            for name in dict.fromkeys(("float32", dtype))}


def efficiency(images_per_second: float, per_image_gflops: float, peaks: dict, dtype: str) -> dict:
    """``gflops_per_img``, ``achieved_gflops`` and ``peak_share`` (of ``peaks[dtype]``)."""
    achieved = images_per_second * per_image_gflops
    return {"gflops_per_img": per_image_gflops, "achieved_gflops": achieved, "peak_share": achieved / peaks[dtype]}


def add_efficiency(result: dict, precision: str, fit_gflops: float, loop_gflops: float,
                   peak_size: int | None = None, peaks: dict | None = None) -> dict:
    """A fit-vs-loop ``result`` (``fit_img_s``, ``loop_img_s``) with the device's
    ``peaks`` (see :func:`measured_peaks`) and the ``fit`` and ``loop``
    :func:`efficiency`, given each side's GFLOPs per image (see :func:`gflops_per_image`)."""
    dtype = compute_dtype(precision)
    peaks = measured_peaks(dtype, peak_size, peaks)
    return {**result, "peaks": peaks,
            "fit": efficiency(result["fit_img_s"], fit_gflops, peaks, dtype),
            "loop": efficiency(result["loop_img_s"], loop_gflops, peaks, dtype)}


def result_fields(result: dict) -> str:
    """The efficiency part of a fit-vs-loop line (see :func:`add_efficiency`)."""
    return f"{fields(result['fit'])} {fields(result['loop'], 'loop_')} {peak_fields(result['peaks'])}"


def fields(figures: dict, prefix: str = "") -> str:
    """``gflops_per_img=... achieved_gflops=... peak_share=...`` for a result line."""
    return (f"{prefix}gflops_per_img={figures['gflops_per_img']:.4g} "
            f"{prefix}achieved_gflops={figures['achieved_gflops']:.4g} {prefix}peak_share={figures['peak_share']:.3f}")


def peak_fields(peaks: dict) -> str:
    """``peak_gflops_float32=... peak_gflops_bfloat16=...``."""
    return " ".join(f"peak_gflops_{name}={value:.4g}" for name, value in peaks.items())


def main():
    import argparse

    parser = argparse.ArgumentParser(description="This device's matmul peak per dtype (see bench/efficiency.py).")
    parser.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16", "float16"])
    parser.add_argument("--size", type=int, default=None, help="matrix side (default 8192 on a GPU, 2048 on CPU)")
    args = parser.parse_args()
    for dtype in args.dtypes:
        print(f"matmul peak {dtype}: {matmul_peak_gflops(dtype, args.size):.1f} GFLOP/s", flush=True)


if __name__ == "__main__":
    main()
