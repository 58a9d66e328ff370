"""A tiny training job run by the multi-worker tests, one process per worker.

    TF_CONFIG=... python tests/multiworker_job.py step FAMILY OUT.npz
    TF_CONFIG=... python tests/multiworker_job.py train FAMILY RUN_DIR EPOCHS

``step``: one SGD step of a tiny FAMILY model (dcgan, cgan, pix2pix, cyclegan) on a fixed
global batch; the chief writes the weights to OUT.npz. Without TF_CONFIG it
runs on one device: the reference. ``train``: a tiny DCGAN or CycleGAN run
through the experiment plumbing (checkpoints in RUN_DIR, resumable).
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from tfgan_zoo.distribute import is_chief, make_strategy  # noqa: E402

STRATEGY = "multi-worker" if os.environ.get("TF_CONFIG") else "default"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tfgan_zoo  # noqa: E402

keras.config.disable_traceback_filtering()


def step(family: str, out: str):
    strategy = make_strategy(STRATEGY)
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    with strategy.scope():
        if family == "dcgan":
            model = tfgan_zoo.DCGAN(latent_dim=8, image_shape=(16, 16, 1), g_filters=4, d_filters=4)
            model.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1))
            data = tf.data.Dataset.from_tensor_slices(rng.uniform(-1, 1, (8, 16, 16, 1)).astype("float32")).batch(8)
        elif family == "cgan":
            model = tfgan_zoo.ConditionalGAN(latent_dim=8, num_classes=3, image_shape=(16, 16, 1), g_filters=4,
                                             d_filters=4)
            model.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1))
            images = rng.uniform(-1, 1, (8, 16, 16, 1)).astype("float32")
            data = tf.data.Dataset.from_tensor_slices((images, np.arange(8) % 3)).batch(8)
        elif family == "cyclegan":
            model = tfgan_zoo.CycleGAN(image_size=16, filters=4, num_blocks=1, disc_layers=1, pool_size=0,
                                       jitter=False)
            model.compile(g_optimizer=keras.optimizers.SGD(0.1), d_optimizer=keras.optimizers.SGD(0.1))
            domains = rng.uniform(-1, 1, (2, 4, 16, 16, 3)).astype("float32")
            data = tf.data.Dataset.from_tensor_slices((domains[0], domains[1])).batch(4)
        else:
            model = tfgan_zoo.Pix2Pix(image_size=16, g_depth=3, d_layers=1, g_filters=4, d_filters=4, jitter=False)
            for layer in model.generator._flatten_layers():
                if isinstance(layer, keras.layers.Dropout):
                    layer.rate = 0.0  # workers would draw other dropout masks than one device
            model.compile(g_optimizer=keras.optimizers.SGD(0.1), d_optimizer=keras.optimizers.SGD(0.1))
            pairs = rng.uniform(-1, 1, (2, 4, 16, 16, 3)).astype("float32")
            data = tf.data.Dataset.from_tensor_slices((pairs[0], pairs[1])).batch(4)
    start = {w.path: np.asarray(w) for w in model.weights}
    history = model.fit(data, epochs=1, verbose=0).history
    if is_chief():
        arrays = {f"delta/{w.path}": np.asarray(w) - start[w.path] for w in model.weights}
        arrays.update({f"history/{key}": np.asarray(values[0]) for key, values in history.items()})
        np.savez(out, **arrays)


def train(family: str, run_dir: str, epochs: int):
    from tfgan_zoo import experiment

    common = ["--out", run_dir, "--epochs", str(epochs), "--precision", "float32", "--eval-every", "0",
              "--verbose", "2", "--strategy", STRATEGY]
    rng = np.random.default_rng(0)
    if family == "dcgan":
        args = experiment.add_mnist_gan_arguments(experiment.base_parser("")).parse_args(
            [*common, "--batch-size", "16", "--g-filters", "8", "--d-filters", "8", "--latent-dim", "8"])
        strategy, runtime = experiment.configure(args)
        images = rng.integers(0, 256, (16 * 40, 16, 16, 1), dtype=np.uint8)
        dataset = tfgan_zoo.data.image_dataset(images, batch_size=16, seed=0)
        with strategy.scope():
            gan = tfgan_zoo.DCGAN(latent_dim=8, image_shape=(16, 16, 1), g_filters=8, d_filters=8)
            experiment.compile_gan(gan, args, runtime)
        experiment.run(gan, dataset, args, {**vars(args), **runtime, "model": "DCGAN"})
        return
    # CycleGAN, with 50-image pools that take one image per replica per step.
    args = experiment.add_cyclegan_arguments(experiment.base_parser(""), image_size=16).parse_args(
        [*common, "--batch-size", "2", "--filters", "4", "--num-blocks", "1", "--d-layers", "1",
         "--steps-per-epoch", "12"])
    strategy, runtime = experiment.configure(args)
    domains = rng.integers(0, 256, (2, 30, 16, 16, 3), dtype=np.uint8)
    dataset = tfgan_zoo.data.unpaired_dataset(domains[0], domains[1], batch_size=2, seed=0)
    with strategy.scope():
        model = experiment.build_cyclegan(args, runtime, args.steps_per_epoch)
    names = [f"{i}.png" for i in range(4)]
    validation = (domains[0][:4], domains[1][:4], names, names)
    experiment.run_cyclegan(model, dataset, args, {**vars(args), **runtime, "model": "CycleGAN"}, validation)


if __name__ == "__main__":
    if sys.argv[1] == "step":
        step(sys.argv[2], sys.argv[3])
    else:
        train(sys.argv[2], sys.argv[3], int(sys.argv[4]))
