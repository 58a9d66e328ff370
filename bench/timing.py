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
    ``plain_step`` returns a tensor to wait on.
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
        float(result)  # waits for the last step
        return time.perf_counter() - start

    time_fit(warmup)
    time_loop(warmup)
    fit_seconds = loop_seconds = float("inf")
    for _ in range(rounds):
        fit_seconds = min(fit_seconds, time_fit(steps))
        loop_seconds = min(loop_seconds, time_loop(steps))
    return {"fit_img_s": steps * batch_size / fit_seconds, "loop_img_s": steps * batch_size / loop_seconds}


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
