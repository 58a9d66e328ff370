"""A tiny training job run by the multi-worker tests, one process per worker.

    TF_CONFIG=... python tests/multiworker_job.py step OUT.npz
    TF_CONFIG=... python tests/multiworker_job.py train RUN_DIR EPOCHS

``step``: one SGD step of each family of tests/families.py on a fixed global
batch; the chief writes the weight changes and logs to OUT.npz. Without TF_CONFIG it
runs on one device: the reference (the test runs it in its own process). ``train``: a tiny CycleGAN run
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


def step(out: str):
    """One SGD step of every registered family (tests/families.py) on a fixed global batch."""
    from families import FAMILIES

    strategy = make_strategy(STRATEGY)
    arrays = {}
    for name, family in FAMILIES.items():
        keras.utils.set_random_seed(0)
        with strategy.scope():
            model = family.comparable()  # no jitter, no dropout: workers would draw other ones
            # One step, eagerly (a trace costs more): the workers' all-reduces are the same collective
            # ops. The compiled steps on replicas: test_family_contract.py (every family, MirroredStrategy)
            # and the killed-worker job below (CycleGAN, this strategy). 20.8 s compiled, 15.0 s eager.
            model.compile(g_optimizer=keras.optimizers.SGD(0.1), d_optimizer=keras.optimizers.SGD(0.1),
                          run_eagerly=True)
        data = tf.data.Dataset.from_tensor_slices(family.batch(4)).batch(4)
        # A worker's image pool holds its own fakes; the rest is shared.
        shared = [w for w in model.weights if w.synchronization != "on_read"]
        start = {w.path: np.asarray(w) for w in shared}
        history = model.fit(data, epochs=1, verbose=0).history
        arrays.update({f"{name}/delta/{w.path}": np.asarray(w) - start[w.path] for w in shared})
        arrays.update({f"{name}/history/{key}": np.asarray(values[0]) for key, values in history.items()})
    if is_chief():
        np.savez(out, **arrays)


def train(run_dir: str, epochs: int):
    """A tiny CycleGAN run through experiment.run, with 50-image pools that take
    one image per replica per step."""
    from tfgan_zoo import experiment

    common = ["--out", run_dir, "--epochs", str(epochs), "--precision", "float32", "--eval-every", "0",
              "--verbose", "2", "--strategy", STRATEGY]
    rng = np.random.default_rng(0)
    parser = experiment.add_linear_decay_arguments(experiment.family_parser("", tfgan_zoo.CycleGAN))
    spec = parser.parse_spec([*common, "--batch-size", "2", "--image-size", "16", "--g-filters", "4",
                              "--d-filters", "4", "--num-blocks", "1", "--d-layers", "1", "--steps-per-epoch", "6"])
    strategy = experiment.configure(spec)
    domains = rng.integers(0, 256, (2, 30, 16, 16, 3), dtype=np.uint8)
    dataset = tfgan_zoo.data.unpaired_dataset(domains[0], domains[1], batch_size=2, seed=0)
    with strategy.scope():
        model = experiment.build(tfgan_zoo.CycleGAN, spec, learning_rate=experiment.linear_decay(spec, 6))
    names = [f"{i}.png" for i in range(4)]
    validation = (domains[0][:4], domains[1][:4], names, names)
    experiment.run(model, dataset, spec, experiment.UnpairedTranslation(validation))


if __name__ == "__main__":
    keras.config.disable_traceback_filtering()  # a worker's log is all there is of its failure
    if sys.argv[1] == "step":
        step(sys.argv[2])
    else:
        train(sys.argv[2], int(sys.argv[3]))
