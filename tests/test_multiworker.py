"""MultiWorkerMirroredStrategy on localhost: 2 worker processes with TF_CONFIG on
127.0.0.1. One step equals one step on one device (every family of
tests/families.py, in one job); killing a worker of a CycleGAN run and
restarting the job resumes from the chief's backup."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import REPO, load_script
from families import FAMILIES

from tfgan_zoo.distribute import localhost_cluster

JOB = str(REPO / "tests" / "multiworker_job.py")


def start_workers(fork_server, args, count=2, log_dir=None):
    cluster = localhost_cluster(count)
    processes = []
    for index in range(count):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
               "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
        log = open(log_dir / f"worker{index}.log", "a") if log_dir else subprocess.DEVNULL
        processes.append(fork_server.popen([sys.executable, JOB, *args], env=env, stdout=log, stderr=subprocess.STDOUT))
    return processes


def stop(processes):
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)


def test_two_worker_step_matches_one_device_step_for_every_family(tmp_path, fork_server):
    workers = start_workers(fork_server, ["step", str(tmp_path / "workers.npz")], log_dir=tmp_path)
    try:
        codes = [worker.wait(timeout=300) for worker in workers]
    finally:
        stop(workers)
    assert codes == [0, 0], (tmp_path / "worker0.log").read_text()[-3000:]
    # The one-device reference, in this process (a TensorFlow start less).
    load_script(REPO / "tests" / "multiworker_job.py").step(str(tmp_path / "single.npz"))
    two, one = np.load(tmp_path / "workers.npz"), np.load(tmp_path / "single.npz")
    assert sorted(two.files) == sorted(one.files)
    families = sorted({key.split("/")[0] for key in one.files})
    assert families == sorted(FAMILIES)
    for family in families:
        moved = 0
        for key in (key for key in one.files if key.startswith(f"{family}/delta/")):
            np.testing.assert_allclose(two[key], one[key], rtol=2e-3, atol=2e-6, err_msg=key)
            moved += bool(np.any(one[key]))
        assert moved > 2, family
    # Logged losses are means over both workers' halves of the batch, not one worker's.
    for key in one.files:
        if "/history/" in key and "grad_norm" not in key:
            assert float(two[key]) == pytest.approx(float(one[key]), rel=1e-3, abs=1e-6), key


def saved_epoch(run_dir):
    try:
        return json.loads((run_dir / "checkpoints" / "training_metadata.json").read_text())["epoch"]
    except (OSError, ValueError, KeyError):
        return 0


def test_killed_worker_job_resumes_from_the_chief_backup(tmp_path, fork_server):
    # A CycleGAN run: the family with the most state (four networks, two optimizers
    # on a schedule, the image pools that each replica fills for itself).
    run_dir = tmp_path / "run"
    workers = start_workers(fork_server, ["train", str(run_dir), "1000"], log_dir=tmp_path)
    try:
        deadline = time.time() + 240
        while saved_epoch(run_dir) < 1 and time.time() < deadline and all(w.poll() is None for w in workers):
            time.sleep(0.2)
        assert saved_epoch(run_dir) >= 1, (tmp_path / "worker0.log").read_text()[-3000:]
        workers[1].send_signal(signal.SIGKILL)  # one worker dies mid-epoch; the job cannot go on
    finally:
        stop(workers)
    target = saved_epoch(run_dir) + 1
    (tmp_path / "worker0.log").write_text("")
    workers = start_workers(fork_server, ["train", str(run_dir), str(target)], log_dir=tmp_path)
    try:
        codes = [worker.wait(timeout=300) for worker in workers]
    finally:
        stop(workers)
    chief_log = (tmp_path / "worker0.log").read_text()
    assert codes == [0, 0], chief_log[-3000:]
    assert f"Epoch {target}/{target}" in chief_log and "Epoch 1/" not in chief_log
    assert saved_epoch(run_dir) == target
    assert (run_dir / ".workers" / "1").is_dir() and not (run_dir / ".workers" / "0").exists()

    import keras

    import tfgan_zoo

    assert (run_dir / "export" / "translators" / "1" / "saved_model.pb").exists()
    model = tfgan_zoo.CycleGAN(image_size=16, filters=4, num_blocks=1, disc_layers=1)
    steps_per_epoch = 6
    # The run's optimizers follow a schedule (no learning-rate variable): match that.
    rate = tfgan_zoo.schedules.LinearDecay.from_epochs(2e-4, 1, 1, steps_per_epoch)
    model.compile(d_optimizer=keras.optimizers.Adam(rate), g_optimizer=keras.optimizers.Adam(rate))
    model.load_weights(run_dir / "checkpoints" / "latest.weights.h5")
    # Optimizer state came back: the step counter covers every epoch.
    assert int(model.g_optimizer.iterations) == target * steps_per_epoch
    # So did the image pools: one image per step per replica went in over all
    # epochs, not only over the one after the restart.
    for pool in (model.pool_a, model.pool_b):
        assert int(pool.count.numpy()) == min(50, target * steps_per_epoch)
