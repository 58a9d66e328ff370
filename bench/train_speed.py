"""Training throughput: ``model.fit`` against a plain ``tf.function`` loop.

For each model and setting, trains the same G and D on the same in-memory
batches both ways and prints one line::

    dcgan fit_img_s=... loop_img_s=... ratio=... precision=... xla=... gflops_per_img=... achieved_gflops=...
          peak_share=... loop_gflops_per_img=... loop_achieved_gflops=... loop_peak_share=...
          peak_gflops_float32=... peak_gflops_bfloat16=...

The plain loop is the textbook GAN step (one D update, one G update, BCE,
Adam), written without any tfgan_zoo training code, so ``ratio`` is what the
Keras ``fit`` machinery and our ``train_step`` cost. Each setting runs in a
fresh process so dtype policies and XLA caches do not leak between them.

    python bench/train_speed.py                      # float32 and mixed_bfloat16, XLA off
    python bench/train_speed.py --xla on off --precision float32
    python bench/train_speed.py --models dcgan --image-size 64 --channels 3 --xla on off   # colour DCGAN
    python bench/train_speed.py --models dcgan --image-size 64 --channels 3 --aids         # + DiffAugment + EMA

With ``--aids`` the tfgan_zoo model also runs DiffAugment (colour,
translation, cutout) and the EMA generator update; the plain loop does not,
so ``ratio`` then is the price of the aids plus the machinery.

``gflops_per_img`` is counted from each side's traced step, and
``peak_share`` is the achieved GFLOP/s over the device's matmul peak in the
step's compute dtype, measured in the same process (see bench/efficiency.py).
"""

from __future__ import annotations

import argparse
import json
import os

from efficiency import result_fields
from timing import run_in_child, throughput_and_efficiency


def measure(model_name: str, precision: str, xla: bool, batch_size: int, steps: int, warmup: int,
            rounds: int, steps_per_execution: int, image_size: int = 28, channels: int = 1,
            aids: bool = False, peak_size: int | None = None,
            gflops: list | None = None, peaks: dict | None = None) -> dict:
    """Images/s of ``fit`` and of the plain loop in one setting, with their GFLOPs per
    image and peak shares (see efficiency.add_efficiency; ``peak_size``: side of the
    peak's matmuls). ``gflops`` (fit's and the loop's) and ``peaks``, when given, are
    figures already measured in this run (the count does not change with precision
    or XLA), which are then not measured again."""
    import keras
    import numpy as np
    import tensorflow as tf

    import tfgan_zoo

    keras.mixed_precision.set_dtype_policy(precision)
    rng = np.random.default_rng(0)
    shape = (image_size, image_size, channels)
    images = rng.integers(0, 256, (batch_size * 16, *shape), dtype=np.uint8)
    labels = rng.integers(0, 10, batch_size * 16).astype(np.int32)
    conditional = model_name == "cgan"
    dataset = tfgan_zoo.data.image_dataset(images, labels if conditional else None, batch_size, seed=0)
    dataset = dataset.cache().repeat()

    def make_gan(with_aids=False):
        options = dict(diffaugment="color,translation,cutout", ema_decay=0.999) if with_aids else {}
        if conditional:
            return tfgan_zoo.ConditionalGAN(latent_dim=100, num_classes=10, image_shape=shape, **options)
        return tfgan_zoo.DCGAN(latent_dim=100, image_shape=shape, **options)

    def adam():
        return keras.optimizers.Adam(2e-4, beta_1=0.5)

    gan = make_gan(aids)
    gan.compile(d_optimizer=adam(), g_optimizer=adam(), loss="bce", jit_compile=xla,
                steps_per_execution=steps_per_execution)

    # The plain loop trains fresh copies of the same networks.
    twin = make_gan()
    generator, discriminator = twin.generator, twin.discriminator
    d_opt, g_opt = adam(), adam()
    if precision == "mixed_float16":
        d_opt, g_opt = keras.optimizers.LossScaleOptimizer(d_opt), keras.optimizers.LossScaleOptimizer(g_opt)
    # Built now: variables made inside the step's first call would have tf.function trace it twice.
    d_opt.build(discriminator.trainable_variables)
    g_opt.build(generator.trainable_variables)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    def g_in(noise, y):
        return (noise, y) if conditional else noise

    def d_in(x, y):
        return (x, y) if conditional else x

    @tf.function(jit_compile=xla)
    def plain_step(batch):
        x, y = batch if conditional else (batch, None)
        n = tf.shape(x)[0]
        noise = tf.random.normal([n, 100])
        fake = generator(g_in(noise, y), training=True)
        with tf.GradientTape() as tape:
            real_logits = discriminator(d_in(x, y), training=True)
            fake_logits = discriminator(d_in(fake, y), training=True)
            d_loss = bce(tf.ones_like(real_logits), real_logits) + bce(tf.zeros_like(fake_logits), fake_logits)
            scaled = d_opt.scale_loss(d_loss)
        grads = tape.gradient(scaled, discriminator.trainable_variables)
        d_opt.apply_gradients(zip(grads, discriminator.trainable_variables))
        noise = tf.random.normal([n, 100])
        with tf.GradientTape() as tape:
            fake_logits = discriminator(d_in(generator(g_in(noise, y), training=True), y), training=True)
            g_loss = bce(tf.ones_like(fake_logits), fake_logits)
            scaled = g_opt.scale_loss(g_loss)
        grads = tape.gradient(scaled, generator.trainable_variables)
        g_opt.apply_gradients(zip(grads, generator.trainable_variables))
        return d_loss, g_loss

    return throughput_and_efficiency(gan, dataset, plain_step, batch_size, steps, warmup, rounds, precision,
                                     gflops, peak_size, peaks)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["dcgan", "cgan"], choices=["dcgan", "cgan"])
    parser.add_argument("--precision", nargs="+", default=["float32", "mixed_bfloat16"])
    parser.add_argument("--xla", nargs="+", default=["off"], choices=["on", "off"])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=100, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--steps-per-execution", type=int, default=1)
    parser.add_argument("--image-size", type=int, default=28)
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--aids", action="store_true", help="ours with DiffAugment and the EMA generator")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        setting = json.loads(args.child)
        print(json.dumps(measure(**setting)))
        return

    import platform

    print(f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores; "
          f"batch {args.batch_size}; best of {args.rounds} rounds of {args.steps} steps after {args.warmup} warm-up; "
          f"fit steps_per_execution={args.steps_per_execution}; images {args.image_size}x{args.image_size}x{args.channels}"
          f"{'; ours with DiffAugment + EMA' if args.aids else ''}")
    for precision in args.precision:
        for xla in args.xla:
            for model_name in args.models:
                setting = dict(model_name=model_name, precision=precision, xla=xla == "on",
                               batch_size=args.batch_size, steps=args.steps, warmup=args.warmup,
                               rounds=args.rounds, steps_per_execution=args.steps_per_execution,
                               image_size=args.image_size, channels=args.channels, aids=args.aids)
                try:
                    result = run_in_child(__file__, setting)
                except RuntimeError as error:
                    print(f"{model_name} precision={precision} xla={xla} FAILED:\n{error}")
                    continue
                print(
                    f"{model_name} fit_img_s={result['fit_img_s']:.0f} loop_img_s={result['loop_img_s']:.0f} "
                    f"ratio={result['fit_img_s'] / result['loop_img_s']:.3f} precision={precision} xla={xla} "
                    f"{result_fields(result)}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
