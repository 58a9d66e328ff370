"""Pix2Pix training throughput: ``Pix2Pix.fit`` against a plain ``tf.function`` loop.

    python bench/pix2pix_speed.py                          # 256 px, batch 1, float32 and mixed_bfloat16, XLA off
    python bench/pix2pix_speed.py --batch-size 4 --precision float32 --xla on off

Prints one line per setting::

    pix2pix fit_img_s=... loop_img_s=... ratio=... precision=... xla=... size=... batch=... gflops_per_img=...
            achieved_gflops=... peak_share=... loop_...=... peak_gflops_float32=... peak_gflops_<dtype>=...

The plain loop trains fresh copies of the same U-Net and PatchGAN with the
same work per step as ``Pix2Pix.train_step``'s defaults, written here without
any tfgan_zoo training code: paired random jitter inside the step (bilinear
resize to 286/256 of the size, one random crop, random mirror per pair), D's
update on real and generated pairs (BCE, halved), then G's against the
updated D (BCE + 100 x L1), Adam(2e-4, 0.5) each. ``ratio`` is what ``fit``
and our ``train_step`` cost over it; ``gflops_per_img`` and ``peak_share``
as in bench/train_speed.py (see bench/efficiency.py). One fresh process per
setting. For the comparison with the TF tutorial's own loop and data
pipeline, see studies/pix2pix_vs_tutorial/.
"""

from __future__ import annotations

from timing import throughput_and_efficiency, translation_speed_main


def measure(precision: str, xla: bool, image_size: int, batch_size: int, steps: int, warmup: int,
            rounds: int, peak_size: int | None = None,
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
    inputs = rng.integers(0, 256, (batch_size * 8, image_size, image_size, 3), dtype=np.uint8)
    targets = rng.integers(0, 256, (batch_size * 8, image_size, image_size, 3), dtype=np.uint8)
    dataset = tfgan_zoo.data.paired_dataset(inputs, targets, batch_size, seed=0).cache().repeat()

    def adam():
        return keras.optimizers.Adam(2e-4, beta_1=0.5)

    model = tfgan_zoo.Pix2Pix(image_size=image_size)
    model.compile(g_optimizer=adam(), d_optimizer=adam(), jit_compile=xla)

    twin = tfgan_zoo.Pix2Pix(image_size=image_size)
    generator, discriminator = twin.generator, twin.discriminator
    g_opt, d_opt = adam(), adam()
    if precision == "mixed_float16":
        g_opt, d_opt = keras.optimizers.LossScaleOptimizer(g_opt), keras.optimizers.LossScaleOptimizer(d_opt)
    # Built now: variables made inside the step's first call would have tf.function trace it twice.
    g_opt.build(generator.trainable_variables)
    d_opt.build(discriminator.trainable_variables)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    load_size = round(image_size * 286 / 256)

    def jitter(inputs, targets):
        pair = tf.image.resize(tf.concat([inputs, targets], axis=-1), [load_size, load_size])
        pair = tf.image.random_crop(pair, [batch_size, image_size, image_size, 6])
        flip = tf.random.uniform([batch_size, 1, 1, 1]) < 0.5
        pair = tf.where(flip, tf.reverse(pair, axis=[2]), pair)
        return pair[..., :3], pair[..., 3:]

    @tf.function(jit_compile=xla)
    def plain_step(batch):
        inputs, targets = jitter(*(tf.cast(images, tf.float32) / 127.5 - 1.0 for images in batch))
        with tf.GradientTape() as g_tape:
            fake = generator(inputs, training=True)
            with g_tape.stop_recording(), tf.GradientTape() as d_tape:
                real_logits = discriminator((inputs, targets), training=True)
                fake_logits = discriminator((inputs, fake), training=True)
                d_loss = 0.5 * (bce(tf.ones_like(real_logits), real_logits)
                                + bce(tf.zeros_like(fake_logits), fake_logits))
                scaled = d_opt.scale_loss(d_loss)
            d_opt.apply_gradients(zip(d_tape.gradient(scaled, discriminator.trainable_variables),
                                      discriminator.trainable_variables))
            fake_logits = discriminator((inputs, fake), training=True)
            l1 = tf.reduce_mean(tf.abs(targets - tf.cast(fake, tf.float32)))
            g_loss = bce(tf.ones_like(fake_logits), fake_logits) + 100.0 * l1
            scaled = g_opt.scale_loss(g_loss)
        g_opt.apply_gradients(zip(g_tape.gradient(scaled, generator.trainable_variables),
                                  generator.trainable_variables))
        return g_loss

    return throughput_and_efficiency(model, dataset, plain_step, batch_size, steps, warmup, rounds, precision,
                                     gflops, peak_size, peaks)


if __name__ == "__main__":
    translation_speed_main(__file__, "pix2pix", __doc__, measure, image_size=256)
