"""Where a training step's time goes, from the TensorFlow profiler.

    pip install tensorboard-plugin-profile          # the profiler's converter (xprof), bench only
    python bench/step_profile.py --model cgan --precision mixed_bfloat16 --inter-op-threads 1
    python bench/step_profile.py --model dcgan --precision float32 --batch-size 256 --inter-op-threads 1

Trains the model of ``bench/train_speed.py`` (28 px MNIST-sized, latent 100)
with ``fit`` and prints:

* the step's images/s (unprofiled), its GFLOP per image counted from the
  step's graph (bench/efficiency.py) and its share of this device's matmul
  peak in the compute dtype;
* from ``--steps`` profiled steps, the op time by op type, largest first;
* each kernel type's (forward convolution, its input and filter gradients,
  matmul) GFLOP per step, milliseconds per step and GFLOP/s while it runs,
  as a share of the peak: which kernels run near the peak;
* a one-line split of the op time: those kernels, casts, batch norm, the rest
  (elementwise ops of the losses, activations and batch norm, the optimizer).

With ``--inter-op-threads 1`` TensorFlow runs one op at a time (each op still
uses every core), so that an op's time is its own: with TensorFlow's default,
ops overlap and their times add up to more than the wall time. An
XLA-compiled step is one program, not TensorFlow ops: only its wall time is
printed.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from efficiency import _live_ops, _op_flops, compute_dtype, graph_flops, measured_peaks

# Op types by what they do; oneDNN's rewrites rename them (_MklNativeConv2DBackpropInput, ...).
GROUPS = {"matmul+conv": ("Conv2D", "MatMul"), "cast": ("Cast",), "batch-norm": ("BatchNorm",)}


def group_of(op_type: str) -> str:
    return next((name for name, parts in GROUPS.items() if any(part in op_type for part in parts)), "rest")


# The kernels whose FLOPs the graph counts, by the name part that survives oneDNN's renaming.
KERNELS = ("Conv2DBackpropInput", "Conv2DBackpropFilter", "Conv2D", "MatMul")


def kernel_of(op_type: str) -> str | None:
    return next((kernel for kernel in KERNELS if kernel in op_type), None)


def gflops_by_kernel(gan, batch) -> dict:
    """GFLOP per step of each kernel type in the traced train step (efficiency.py's count, split by type)."""
    import tensorflow as tf

    specs = tf.nest.map_structure(lambda value: tf.TensorSpec.from_tensor(value), batch)
    graph = tf.function(gan.train_step).get_concrete_function(specs).graph
    split = dict.fromkeys(KERNELS, 0.0)
    for op in _live_ops(graph):
        if kernel_of(op.type):
            split[kernel_of(op.type)] += _op_flops(op) / 1e9
    total = graph_flops(graph) / 1e9
    assert abs(sum(split.values()) - total) < 1e-6 * total, "the step calls functions: count them too"
    return split


def build(model_name: str, precision: str, xla: bool, batch_size: int, steps_per_execution: int):
    import keras
    import numpy as np

    import tfgan_zoo

    keras.mixed_precision.set_dtype_policy(precision)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (batch_size * 16, 28, 28, 1), dtype=np.uint8)
    labels = rng.integers(0, 10, batch_size * 16).astype(np.int32)
    conditional = model_name == "cgan"
    dataset = tfgan_zoo.data.image_dataset(images, labels if conditional else None, batch_size, seed=0)
    dataset = dataset.cache().repeat()
    if conditional:
        gan = tfgan_zoo.ConditionalGAN(latent_dim=100, num_classes=10, image_shape=(28, 28, 1))
    else:
        gan = tfgan_zoo.DCGAN(latent_dim=100, image_shape=(28, 28, 1))
    gan.compile(jit_compile=xla, steps_per_execution=steps_per_execution)
    return gan, dataset


def op_table(logdir: Path) -> list[dict]:
    """Per op type: device self time (us) and occurrences, from the profile's framework op stats."""
    from xprof.convert import raw_to_tool_data

    planes = sorted(logdir.rglob("*.xplane.pb"))
    data, _ = raw_to_tool_data.xspace_to_tool_data([str(planes[-1])], "framework_op_stats^", {})
    table = json.loads(data)
    # The first table is "all ops"; its columns are described by its "cols".
    first = table[0] if isinstance(table, list) else table
    columns = [column["id"] for column in first["cols"]]
    rows = [dict(zip(columns, [cell.get("v") for cell in row["c"]])) for row in first["rows"]]
    by_type: dict[str, dict] = {}
    for row in rows:
        if row.get("host_or_device") not in ("Device", "Host") or row.get("type") in (None, "IDLE"):
            continue
        entry = by_type.setdefault(row["type"], {"type": row["type"], "self_us": 0.0, "occurrences": 0})
        entry["self_us"] += float(row.get("total_self_time") or 0.0)
        entry["occurrences"] += int(row.get("occurrences") or 0)
    return sorted(by_type.values(), key=lambda entry: -entry["self_us"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=("dcgan", "cgan"), default="cgan")
    parser.add_argument("--precision", default="mixed_bfloat16")
    parser.add_argument("--xla", choices=("on", "off"), default="off")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--steps-per-execution", type=int, default=1)
    parser.add_argument("--top", type=int, default=18)
    parser.add_argument("--inter-op-threads", type=int, default=0,
                        help="1: one op at a time, so each op's time is its own (0: TensorFlow's default)")
    args = parser.parse_args()

    import tensorflow as tf

    tf.config.threading.set_inter_op_parallelism_threads(args.inter_op_threads)

    gan, dataset = build(args.model, args.precision, args.xla == "on", args.batch_size, args.steps_per_execution)
    batch = next(iter(dataset))
    kernel_gflops = gflops_by_kernel(gan, batch)
    per_image = sum(kernel_gflops.values()) / args.batch_size
    peaks = measured_peaks(compute_dtype(args.precision))
    gan.fit(dataset, epochs=1, steps_per_epoch=args.warmup, verbose=0)

    # Unprofiled timing first: the profiler itself slows the step a little.
    start = time.perf_counter()
    gan.fit(dataset, epochs=1, steps_per_epoch=args.steps, verbose=0)
    seconds = time.perf_counter() - start
    images_per_second = args.steps * args.batch_size / seconds
    achieved = images_per_second * per_image
    peak = peaks[compute_dtype(args.precision)]
    print(f"# {args.model} {args.precision} xla={args.xla} batch {args.batch_size}: {images_per_second:.0f} img/s, "
          f"{per_image:.4f} GFLOP/img, {achieved:.1f} GFLOP/s = {achieved / peak:.2f} of the "
          f"{compute_dtype(args.precision)} matmul peak ({peak:.0f}; float32 {peaks['float32']:.0f})")

    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        gan.fit(dataset, epochs=1, steps_per_epoch=args.steps, verbose=0)
        tf.profiler.experimental.stop()
        table = op_table(Path(logdir))
    total = sum(entry["self_us"] for entry in table) or 1.0
    wall_us = seconds * 1e6
    print(f"# op time {total / 1e6:.2f} s over {args.steps} profiled steps (unprofiled wall {seconds:.2f} s; "
          f"op time counts every thread, so it can exceed the wall time)")
    print(f"{'op type':40} {'share':>6} {'ms/step':>8} {'count/step':>10}")
    for entry in table[:args.top]:
        print(f"{entry['type']:40} {entry['self_us'] / total:6.1%} {entry['self_us'] / args.steps / 1e3:8.2f} "
              f"{entry['occurrences'] / args.steps:10.1f}")
    print(f"{'kernel':24} {'GFLOP/step':>10} {'ms/step':>8} {'GFLOP/s':>8} {'of peak':>7}")
    for kernel, gflops in kernel_gflops.items():
        milliseconds = sum(e["self_us"] for e in table if kernel_of(e["type"]) == kernel) / args.steps / 1e3
        if milliseconds:
            rate = gflops / milliseconds * 1e3
            print(f"{kernel:24} {gflops:10.3f} {milliseconds:8.2f} {rate:8.1f} {rate / peak:7.2f}")
    split = {name: 0.0 for name in (*GROUPS, "rest")}
    for entry in table:
        split[group_of(entry["type"])] += entry["self_us"] / total
    if not split["matmul+conv"]:
        # An XLA step runs as one compiled program: its kernels are not TensorFlow ops.
        print("# no TensorFlow kernels in the profile (an XLA-compiled step); see the wall time above")
        return
    kernel_seconds = split["matmul+conv"] * total / 1e6
    print("# split: " + " ".join(f"{name}={share:.1%}" for name, share in split.items())
          + f"; kernels at {per_image * args.batch_size * args.steps / kernel_seconds:.0f} GFLOP/s"
          f" of op time; wall {wall_us / args.steps / 1e3:.1f} ms/step")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
