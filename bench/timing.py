"""Timing helpers shared by the ``fit`` vs plain-loop benchmarks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def fit_and_loop_throughput(model, dataset, plain_step, batch_size: int, steps: int, warmup: int,
                            rounds: int) -> dict:
    """Images/s of ``model.fit(dataset)`` and of ``plain_step(batch)`` in a Python loop.

    Both warm up first, then alternate ``rounds`` rounds of ``steps`` steps and
    keep each side's fastest: on a shared 2-core machine this cancels most of
    the background noise. ``fit`` is timed from train begin to train end,
    i.e. every step's cost without the one-off ``tf.data`` iterator teardown
    after ``fit`` returns (up to ~3 s on this machine, once per call).
    ``plain_step`` returns a tensor to wait on (or a tuple of them).
    """
    import keras

    class TrainClock(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()

        def on_train_end(self, logs=None):
            self.seconds = time.perf_counter() - self.start

    def time_fit(num_steps):
        clock = TrainClock()
        model.fit(dataset, epochs=1, steps_per_epoch=num_steps, verbose=0, shuffle=False, callbacks=[clock])
        return clock.seconds

    def time_loop(num_steps):
        iterator = iter(dataset)
        start = time.perf_counter()
        for _ in range(num_steps):
            result = plain_step(next(iterator))
        float(result[0] if isinstance(result, tuple) else result)  # waits for the last step
        return time.perf_counter() - start

    time_fit(warmup)
    time_loop(warmup)
    fit_seconds = loop_seconds = float("inf")
    for _ in range(rounds):
        fit_seconds = min(fit_seconds, time_fit(steps))
        loop_seconds = min(loop_seconds, time_loop(steps))
    return {"fit_img_s": steps * batch_size / fit_seconds, "loop_img_s": steps * batch_size / loop_seconds}


def throughput_and_efficiency(model, dataset, plain_step, batch_size: int, steps: int, warmup: int, rounds: int,
                              precision: str, gflops=None, peak_size: int | None = None, peaks: dict | None = None) -> dict:
    """:func:`fit_and_loop_throughput`, with each side's GFLOP per image counted from
    ``model.train_step``'s and ``plain_step``'s graphs (unless ``gflops`` gives both,
    counted earlier in the run) and its share of the matmul peak (bench/efficiency.py)."""
    from efficiency import add_efficiency, gflops_per_image

    result = fit_and_loop_throughput(model, dataset, plain_step, batch_size, steps, warmup, rounds)
    if gflops is None:
        batch = next(iter(dataset))
        gflops = gflops_per_image(model.train_step, batch), gflops_per_image(plain_step, batch)
    return add_efficiency(result, precision, *gflops, peak_size, peaks)


def after_warmup_clock(warmup_steps: int):
    """A Keras callback whose ``seconds`` (after ``fit``) count from the end of batch
    ``warmup_steps`` (tracing included in those) to the end of training; it waits
    for the warm-up's work by reading that batch's ``g_loss``."""
    import keras

    class AfterWarmupClock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch + 1 == warmup_steps:
                float(logs["g_loss"])
                self.start = time.perf_counter()

        def on_train_end(self, logs=None):
            self.seconds = time.perf_counter() - self.start

    return AfterWarmupClock()


def run_in_child(script: str, setting: dict) -> dict:
    """Runs ``script --child JSON(setting)`` in a fresh process (so dtype policies and
    XLA caches do not leak between settings) and returns the JSON dict it prints last."""
    out = subprocess.run(
        [sys.executable, script, "--child", json.dumps(setting)],
        capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, check=False,
    )
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def translation_speed_main(script: str, name: str, description: str, measure, image_size: int) -> None:
    """The command line of an image-to-image speed bench (bench/pix2pix_speed.py,
    bench/cyclegan_speed.py): for each ``--precision`` x ``--xla`` setting, one fresh
    process runs ``measure`` (so dtype policies and XLA caches do not leak between
    settings) and one line is printed::

        NAME fit_img_s=... loop_img_s=... ratio=... precision=... xla=... size=... batch=... gflops_per_img=...
    """
    import argparse
    import platform

    from efficiency import result_fields

    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--precision", nargs="+", default=["float32", "mixed_bfloat16"])
    parser.add_argument("--xla", nargs="+", default=["off"], choices=["on", "off"])
    parser.add_argument("--image-size", type=int, default=image_size)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(measure(**json.loads(args.child))))
        return

    print(f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores; "
          f"{args.image_size} px, batch {args.batch_size}; best of {args.rounds} rounds of {args.steps} steps "
          f"after {args.warmup} warm-up")
    for precision in args.precision:
        for xla in args.xla:
            setting = dict(precision=precision, xla=xla == "on", image_size=args.image_size,
                           batch_size=args.batch_size, steps=args.steps, warmup=args.warmup, rounds=args.rounds)
            try:
                result = run_in_child(script, setting)
            except RuntimeError as error:
                print(f"{name} precision={precision} xla={xla} FAILED:\n{error}")
                continue
            print(
                f"{name} fit_img_s={result['fit_img_s']:.3f} loop_img_s={result['loop_img_s']:.3f} "
                f"ratio={result['fit_img_s'] / result['loop_img_s']:.3f} precision={precision} xla={xla} "
                f"size={args.image_size} batch={args.batch_size} {result_fields(result)}",
                flush=True,
            )
