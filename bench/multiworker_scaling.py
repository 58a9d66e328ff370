"""Images/s of DCGAN training with 1 and with 2 localhost workers (MultiWorkerMirroredStrategy).

    python bench/multiworker_scaling.py [--steps 60] [--batch-size 128]

Each worker is a process with ``TF_CONFIG`` on 127.0.0.1, training the MNIST-
size DCGAN (float32, XLA off) on random uint8 images with the same global
batch; the chief times ``--steps`` steps after ``--warmup`` and prints
images/s. Settings: one worker with every core; two workers, each limited to
``cores / 2`` threads. On one machine the two workers share its cores and add
gradient all-reduces over gRPC, so this measures the cost of the multi-worker
machinery, not a speed-up: that needs workers on separate hosts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from timing import after_warmup_clock


def worker(args):
    from tfgan_zoo.distribute import is_chief, make_strategy

    strategy = make_strategy("multi-worker")
    import keras
    import numpy as np
    import tensorflow as tf

    import tfgan_zoo

    images = np.random.default_rng(0).integers(0, 256, (args.batch_size * 8, 28, 28, 1), dtype=np.uint8)
    dataset = tfgan_zoo.data.image_dataset(images, batch_size=args.batch_size, seed=0).repeat()
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dataset = dataset.with_options(options)
    with strategy.scope():
        gan = tfgan_zoo.DCGAN(latent_dim=100, image_shape=(28, 28, 1))
        gan.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                    g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), jit_compile=False)

    clock = after_warmup_clock(args.warmup)
    gan.fit(dataset, epochs=1, steps_per_epoch=args.warmup + args.steps, callbacks=[clock], verbose=0)
    if is_chief():
        print(json.dumps({"images_per_second": args.steps * args.batch_size / clock.seconds}))


def run_job(args, workers: int, threads: int) -> float:
    from tfgan_zoo.distribute import localhost_cluster

    cluster = localhost_cluster(workers)
    processes = []
    for index in range(workers):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
               "TF_NUM_INTRAOP_THREADS": str(threads), "TF_NUM_INTEROP_THREADS": str(threads),
               "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
        command = [sys.executable, __file__, "--worker", "--steps", str(args.steps), "--warmup", str(args.warmup),
                   "--batch-size", str(args.batch_size)]
        processes.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [process.communicate(timeout=1800) for process in processes]
    if any(process.returncode for process in processes):
        raise SystemExit("a worker failed:\n" + "\n".join(err[-2000:] for _, err in outputs))
    return json.loads(outputs[0][0].strip().splitlines()[-1])["images_per_second"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128, help="global batch")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    cores = os.cpu_count() or 1
    print(f"# DCGAN 28x28, float32, global batch {args.batch_size}, {args.steps} timed steps, {cores} cores, localhost")
    single = run_job(args, 1, cores)
    print(f"workers=1 threads={cores} img_s={single:.0f}", flush=True)
    double = run_job(args, 2, max(1, cores // 2))
    print(f"workers=2 threads={max(1, cores // 2)} each img_s={double:.0f} ratio={double / single:.2f}")


if __name__ == "__main__":
    main()
