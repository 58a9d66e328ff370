"""CycleGAN training throughput: ``CycleGAN.fit`` against a plain ``tf.function`` loop.

    python bench/cyclegan_speed.py                          # 128 px, batch 1, float32 and mixed_bfloat16, XLA off
    python bench/cyclegan_speed.py --precision float32 --xla on off

Prints one line per setting::

    cyclegan fit_img_s=... loop_img_s=... ratio=... precision=... xla=... size=... batch=... gflops_per_img=...
             achieved_gflops=... peak_share=... loop_...=... peak_gflops_float32=... peak_gflops_<dtype>=...

The plain loop trains fresh copies of the same four networks with the same
work per step, written here without any tfgan_zoo training code: random
jitter of both domains (resize 286/256, random crop, random mirror) inside
the step, LSGAN, cycle and identity L1, history pools of 50 images in
variables, one Adam for both Gs and one for both Ds. ``ratio`` is what
``fit`` and our ``train_step`` cost over it. One fresh process per setting.
``gflops_per_img`` (one image = one pair) and ``peak_share`` as in
bench/train_speed.py (see bench/efficiency.py).
"""

from __future__ import annotations

from timing import throughput_and_efficiency, translation_speed_main


def measure(precision: str, xla: bool, image_size: int, batch_size: int, steps: int, warmup: int,
            rounds: int, peak_size: int | None = None, gflops: list | None = None,
            peaks: dict | None = None, model_options: dict | None = None) -> dict:
    """Images/s of ``fit`` and of the plain loop in one setting, with their GFLOPs per
    image and peak shares (see efficiency.add_efficiency; ``peak_size``: side of the
    peak's matmuls). ``gflops`` (fit's and the loop's) and ``peaks``, when given, are
    figures already measured in this run (the count does not change with precision
    or XLA), which are then not measured again.
    ``model_options``: more ``CycleGAN`` options for both (e.g. ``num_blocks``)."""
    import keras
    import numpy as np
    import tensorflow as tf

    import tfgan_zoo

    keras.mixed_precision.set_dtype_policy(precision)
    rng = np.random.default_rng(0)
    images_a = rng.integers(0, 256, (batch_size * 8, image_size, image_size, 3), dtype=np.uint8)
    images_b = rng.integers(0, 256, (batch_size * 8, image_size, image_size, 3), dtype=np.uint8)
    dataset = tfgan_zoo.data.unpaired_dataset(images_a, images_b, batch_size, seed=0).cache().repeat()

    def adam():
        return keras.optimizers.Adam(2e-4, beta_1=0.5)

    model = tfgan_zoo.CycleGAN(image_size=image_size, **(model_options or {}))
    model.compile(g_optimizer=adam(), d_optimizer=adam(), jit_compile=xla)

    twin = tfgan_zoo.CycleGAN(image_size=image_size, **(model_options or {}))
    g_ab, g_ba, d_a, d_b = twin.generator_ab, twin.generator_ba, twin.discriminator_a, twin.discriminator_b
    g_opt, d_opt = adam(), adam()
    if precision == "mixed_float16":
        g_opt, d_opt = keras.optimizers.LossScaleOptimizer(g_opt), keras.optimizers.LossScaleOptimizer(d_opt)
    g_vars = g_ab.trainable_variables + g_ba.trainable_variables
    d_vars = d_a.trainable_variables + d_b.trainable_variables
    # Built now: variables made inside the step's first call would have tf.function trace it twice.
    g_opt.build(g_vars)
    d_opt.build(d_vars)
    load_size = round(image_size * 286 / 256)
    pool_size = 50

    def jitter(images):
        images = tf.image.resize(images, [load_size, load_size])
        crops = tf.image.random_crop(images, [batch_size, image_size, image_size, 3])
        flip = tf.random.uniform([batch_size, 1, 1, 1]) < 0.5
        return tf.where(flip, tf.reverse(crops, axis=[2]), crops)

    class Pool:
        def __init__(self):
            self.images = tf.Variable(tf.zeros([pool_size, image_size, image_size, 3]), trainable=False)
            self.count = tf.Variable(0, trainable=False)

        def __call__(self, images):
            returned = []
            for index in range(batch_size):
                image = tf.cast(images[index], tf.float32)
                filling = self.count < pool_size
                swap = tf.logical_and(tf.logical_not(filling), tf.random.uniform([]) < 0.5)
                slot = tf.where(filling, self.count, tf.random.uniform([], maxval=pool_size, dtype=tf.int32))
                stored = self.images[slot]
                returned.append(tf.where(swap, stored, image))
                self.images.scatter_nd_update([[slot]], [tf.where(tf.logical_or(filling, swap), image, stored)])
                self.count.assign_add(tf.cast(filling, tf.int32))
            return tf.stack(returned)

    pool_a, pool_b = Pool(), Pool()

    def mse(x, target):
        return tf.reduce_mean(tf.square(tf.cast(x, tf.float32) - target))

    def l1(x, y):
        return tf.reduce_mean(tf.abs(tf.cast(x, tf.float32) - tf.cast(y, tf.float32)))

    @tf.function(jit_compile=xla)
    def plain_step(batch):
        real_a = jitter(tf.cast(batch[0], tf.float32) / 127.5 - 1.0)
        real_b = jitter(tf.cast(batch[1], tf.float32) / 127.5 - 1.0)
        with tf.GradientTape() as tape:
            fake_b, fake_a = g_ab(real_a, training=True), g_ba(real_b, training=True)
            cycle = l1(g_ba(fake_b, training=True), real_a) + l1(g_ab(fake_a, training=True), real_b)
            identity = l1(g_ab(real_b, training=True), real_b) + l1(g_ba(real_a, training=True), real_a)
            adversarial = mse(d_b(fake_b, training=True), 1.0) + mse(d_a(fake_a, training=True), 1.0)
            g_loss = adversarial + 10.0 * cycle + 5.0 * identity
            scaled = g_opt.scale_loss(g_loss)
        g_opt.apply_gradients(zip(tape.gradient(scaled, g_vars), g_vars))
        pooled_a, pooled_b = pool_a(fake_a), pool_b(fake_b)
        with tf.GradientTape() as tape:
            d_loss = 0.5 * (mse(d_a(real_a, training=True), 1.0) + mse(d_a(pooled_a, training=True), 0.0)) + 0.5 * (
                mse(d_b(real_b, training=True), 1.0) + mse(d_b(pooled_b, training=True), 0.0))
            scaled = d_opt.scale_loss(d_loss)
        d_opt.apply_gradients(zip(tape.gradient(scaled, d_vars), d_vars))
        return g_loss

    return throughput_and_efficiency(model, dataset, plain_step, batch_size, steps, warmup, rounds, precision,
                                     gflops, peak_size, peaks)


if __name__ == "__main__":
    translation_speed_main(__file__, "cyclegan", __doc__, measure, image_size=128)
