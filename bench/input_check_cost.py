"""What the input contract's in-step checks cost per training step.

``GAN.split_batch`` checks every batch inside the step: images uint8 or in
[-1, 1] (a min/max reduction and an assertion), their shape, and the labels'
range. This bench trains the same model with those checks and with a
``split_batch`` that only casts (what the step did before the contract), on
the same in-memory batches, in alternating rounds in one process (the side
that goes first alternates too), and prints one line per model: the fastest
round of each side, their ratio, and the median of the rounds' ratios::

    cgan checked_ms=... unchecked_ms=... overhead=...% (median of rounds ...%)

    python bench/input_check_cost.py                                  # cgan and dcgan, 28 px, batch 64
    python bench/input_check_cost.py --models dcgan --image-size 64 --channels 3

Under XLA (``--xla``) the assertions are dropped by the compiler (fit checks
the first batch eagerly instead), so the in-step cost there is the reductions only.
"""

from __future__ import annotations

import argparse
import time


def measure(model_name: str, precision: str, xla: bool, batch_size: int, steps: int, rounds: int,
            image_size: int, channels: int) -> dict:
    import keras
    import numpy as np
    import tensorflow as tf

    import tfgan_zoo

    keras.mixed_precision.set_dtype_policy(precision)
    conditional = model_name == "cgan"
    family = tfgan_zoo.ConditionalGAN if conditional else tfgan_zoo.DCGAN

    class Unchecked(family):
        def split_batch(self, data):
            if conditional:
                return tf.cast(data[0], tf.float32), tf.cast(data[1], tf.int32)
            return tf.cast(data, tf.float32), None

    shape = (image_size, image_size, channels)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (batch_size * 16, *shape), dtype=np.uint8)
    labels = rng.integers(0, 10, batch_size * 16).astype(np.int32)
    dataset = tfgan_zoo.data.image_dataset(images, labels if conditional else None, batch_size, seed=0)
    dataset = dataset.cache().repeat()

    def build(cls):
        keras.utils.set_random_seed(0)
        options = dict(num_classes=10) if conditional else {}
        model = cls(latent_dim=100, image_shape=shape, **options)
        adam = keras.optimizers.Adam
        model.compile(d_optimizer=adam(2e-4, beta_1=0.5), g_optimizer=adam(2e-4, beta_1=0.5), jit_compile=xla)
        return model

    class Clock(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()

        def on_train_end(self, logs=None):
            self.seconds = time.perf_counter() - self.start

    def seconds_per_step(model, num_steps):
        clock = Clock()
        model.fit(dataset, epochs=1, steps_per_epoch=num_steps, verbose=0, callbacks=[clock])
        return clock.seconds / num_steps

    models = {"checked": build(family), "unchecked": build(Unchecked)}
    for model in models.values():  # trace, compile, fill the cache
        seconds_per_step(model, 5)
    times = {name: [] for name in models}
    for round_index in range(rounds):
        # Alternate which side runs first, so slow drifts of a shared machine cancel.
        for name in sorted(models, reverse=bool(round_index % 2)):
            times[name].append(seconds_per_step(models[name], steps))
    ratios = sorted(checked / unchecked for checked, unchecked in zip(times["checked"], times["unchecked"]))
    return {
        "model": model_name, "precision": precision, "xla": xla, "batch_size": batch_size,
        "checked_ms": 1000 * min(times["checked"]), "unchecked_ms": 1000 * min(times["unchecked"]),
        "overhead_percent": 100 * (min(times["checked"]) / min(times["unchecked"]) - 1),
        "median_round_overhead_percent": 100 * (ratios[len(ratios) // 2] - 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["cgan", "dcgan"], choices=("cgan", "dcgan"))
    parser.add_argument("--precision", default="mixed_bfloat16")
    parser.add_argument("--xla", action="store_true")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--image-size", type=int, default=28)
    parser.add_argument("--channels", type=int, default=1)
    args = parser.parse_args()
    for model_name in args.models:
        result = measure(model_name, args.precision, args.xla, args.batch_size, args.steps, args.rounds,
                         args.image_size, args.channels)
        print(f"{model_name} checked_ms={result['checked_ms']:.2f} unchecked_ms={result['unchecked_ms']:.2f} "
              f"overhead={result['overhead_percent']:+.2f}% (median of rounds "
              f"{result['median_round_overhead_percent']:+.2f}%) precision={args.precision} xla={args.xla} "
              f"batch={args.batch_size}")


if __name__ == "__main__":
    main()
