"""A run directory survives kills, copies, a second process and a full disk.

The subprocess tests run experiments/dcgan_mnist.py at toy size, each a process
of its own forked from one that has imported TensorFlow (tests/forkserver.py);
the in-process ones cover the same code paths by simulating the failures. A resume that follows a kill, a copy or a
full disk needs no process of its own: it runs in the test's (``resume``).
"""

import csv
import errno
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import types
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import REPO, run_script, shared_data_dir
from families import mnist_sized

import tfgan_zoo
from tfgan_zoo import callbacks as gan_callbacks
from tfgan_zoo import experiment, export
from tfgan_zoo.runs import RunDirectory, RunOptions, RunSpec, lock as run_lock, writes
from tfgan_zoo.runs.logs import purge_events
from tfgan_zoo.export import latest_export, version_dirs

STEPS = 2
TINY = ["--steps-per-epoch", str(STEPS), "--batch-size", "8", "--g-filters", "4", "--d-filters", "4",
        "--latent-dim", "8", "--precision", "float32", "--eval-every", "0", "--verbose", "2"]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def command(run_dir, data_dir, epochs):
    return [sys.executable, str(REPO / "experiments" / "dcgan_mnist.py"), "--out", str(run_dir),
            "--data-dir", str(data_dir), "--epochs", str(epochs), *TINY]


def resume(run_dir, data_dir, epochs, capsys) -> str:
    """The run's command, in this process; what it printed."""
    run_script(*command(run_dir, data_dir, epochs)[1:])
    return capsys.readouterr().out


def start(fork_server, run_dir, data_dir, epochs, log=None):
    """The run's command as a process of its own (tests/forkserver.py: a TensorFlow import less)."""
    output = subprocess.DEVNULL if log is None else open(log, "w")
    return fork_server.popen(command(run_dir, data_dir, epochs), env=ENV, stdout=output, stderr=subprocess.STDOUT)


def logged_epochs(run_dir) -> list[int]:
    path = Path(run_dir) / "logs" / "training.csv"
    if not path.exists():
        return []
    return [int(row["epoch"]) for row in csv.DictReader(path.open())]


def optimizer_steps(run_dir) -> dict:
    """Both optimizers' iteration counters, read from the checkpoint's weights themselves."""
    with h5py.File(Path(run_dir) / "checkpoints" / "latest.weights.h5", "r") as handle:
        return {name: int(handle[f"{name}/vars/0"][()]) for name in ("g_optimizer", "d_optimizer")}


def saved_epoch(run_dir) -> int:
    try:
        return json.loads((Path(run_dir) / "checkpoints" / "training_metadata.json").read_text())["epoch"]
    except (OSError, ValueError, KeyError):
        return 0


def temporaries(run_dir) -> list[str]:
    """Leftovers of interrupted writes anywhere in the run directory."""
    return sorted(
        str(path.relative_to(run_dir)) for path in Path(run_dir).rglob("*")
        if "tmp" in path.name or path.name.startswith((".staging-", ".retired-", ".purge"))
    )


def tensorboard_steps(run_dir, tag="epoch_g_loss") -> list[int]:
    steps = []
    for path in sorted((Path(run_dir) / "logs" / "tensorboard").rglob("*tfevents*")):
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            steps += [event.step for value in event.summary.value if value.tag == tag]
    return sorted(steps)


def check_finished_run(run_dir, epochs):
    assert logged_epochs(run_dir) == list(range(epochs)), "each epoch logged once, in order"
    assert optimizer_steps(run_dir) == {"g_optimizer": epochs * STEPS, "d_optimizer": epochs * STEPS}
    metadata = json.loads((run_dir / "checkpoints" / "training_metadata.json").read_text())
    assert metadata["epoch"] == epochs and metadata["steps"]["g_optimizer"] == epochs * STEPS
    assert tensorboard_steps(run_dir) == list(range(epochs)), "TensorBoard shows each epoch once"
    served = tf.saved_model.load(str(latest_export(run_dir / "export" / "generator")))
    images = served.signatures["sample"](num_samples=tf.constant(2), seed=tf.constant(0, tf.int64))["images"]
    assert images.shape == (2, 28, 28, 1)
    assert temporaries(run_dir) == []
    assert not (run_dir / run_lock.LOCK_FILE).exists(), "the lock is released at exit"


# ----------------------------------------------------------------- the lock
def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_lock_refuses_a_second_holder_and_is_released(tmp_path):
    with run_lock.lock(tmp_path / "run"):
        owner = json.loads((tmp_path / "run" / ".lock").read_text())
        assert owner["pid"] == os.getpid() and owner["host"] == socket.gethostname()
        with pytest.raises(run_lock.RunDirectoryInUse, match=f"in use by pid {os.getpid()} on host "):
            run_lock.acquire(tmp_path / "run")
    assert not (tmp_path / "run" / ".lock").exists()
    run_lock.acquire(tmp_path / "run").release()  # free again


def test_stale_lock_is_taken_over_with_a_message(tmp_path):
    (tmp_path / ".lock").write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname()}))
    said = []
    with run_lock.lock(tmp_path, announce=said.append):
        assert json.loads((tmp_path / ".lock").read_text())["pid"] == os.getpid()
    assert len(said) == 1 and "Taking over the lock" in said[0] and "no longer running" in said[0]


def test_lock_of_another_host_is_refused_with_the_way_out(tmp_path):
    (tmp_path / ".lock").write_text(json.dumps({"pid": 1, "host": "elsewhere.example"}))
    with pytest.raises(run_lock.RunDirectoryInUse, match="pid 1 on host elsewhere.example.*delete"):
        run_lock.acquire(tmp_path)


def test_non_chief_worker_locks_its_own_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1", "b:2"]},
                                                 "task": {"type": "worker", "index": 1}}))
    with run_lock.lock(tmp_path):  # the chief's
        with RunDirectory(tmp_path).for_this_worker().lock() as worker:
            assert worker.path == tmp_path / ".workers" / "1" / ".lock"


# --------------------------------------------------- simulated write failures
def _compiled_gan():
    gan = mnist_sized()
    # Eager: the failures below come between epochs of two steps, which cost less than a trace.
    gan.compile(g_optimizer=keras.optimizers.Adam(), d_optimizer=keras.optimizers.Adam(), run_eagerly=True)
    return gan


def _images():
    images = np.random.default_rng(0).integers(0, 255, (32, 28, 28, 1), dtype=np.uint8)
    return tf.data.Dataset.from_tensor_slices(images).batch(8).repeat()


def _fit(run_dir, epochs):
    """experiment.fit with the run's CSV, TensorBoard and checkpoint callbacks, in this process."""
    spec = RunSpec("DCGAN", RunOptions(out=run_dir, epochs=epochs, steps_per_epoch=STEPS, verbose=0))
    callbacks = [
        gan_callbacks.CSVLogger(run_dir / "logs" / "training.csv"),
        gan_callbacks.TensorBoard(run_dir / "logs" / "tensorboard"),
        gan_callbacks.SafeBackupAndRestore(run_dir / "checkpoints"),
    ]
    experiment.fit(_compiled_gan(), _images(), spec, callbacks, types.SimpleNamespace(stopped_at=None))


def test_full_disk_during_checkpoint_gives_one_message_and_resumes(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    _fit(run_dir, 1)

    def full_disk(fd):  # the data is written, flushing it to the disk fails, as with delayed allocation
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(SystemExit) as stop:
        _fit(run_dir, 3)
    message = str(stop.value.code)
    assert "Could not write " + str(run_dir / "checkpoints" / "latest.tmp.weights.h5") in message
    assert "No space left on device" in message
    assert f"last good checkpoint: {run_dir / 'checkpoints' / 'latest.weights.h5'} (after epoch 1)" in message
    assert temporaries(run_dir) == []
    assert optimizer_steps(run_dir)["g_optimizer"] == STEPS  # the previous checkpoint is whole

    monkeypatch.undo()  # space freed
    _fit(run_dir, 3)
    assert logged_epochs(run_dir) == [0, 1, 2]
    assert optimizer_steps(run_dir)["g_optimizer"] == 3 * STEPS
    assert tensorboard_steps(run_dir) == [0, 1, 2]


def test_full_disk_in_the_csv_log_names_it(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    real_open = Path.open

    def failing_open(self, mode="r", *args, **kwargs):
        handle = real_open(self, mode, *args, **kwargs)
        if self.name == "training.csv" and "a" in mode:
            handle.close()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # no file name, as a failed write() gives
        return handle

    monkeypatch.setattr(Path, "open", failing_open)
    with pytest.raises(SystemExit, match=r"Could not write .*training\.csv: No space left on device.*none yet"):
        _fit(run_dir, 1)


def test_h5py_style_failures_count_as_write_failures():
    error = RuntimeError("Can't decrement id ref count (file write failed: errno = 28, "
                         "error message = 'No space left on device')")
    assert writes.is_write_failure(error)
    assert not writes.is_write_failure(RuntimeError("shapes do not match"))
    message = str(writes.write_failure(writes.WriteFailed("/x/y.h5", error), "/x", checkpoint=None).code)
    assert message.startswith("Could not write /x/y.h5: No space left on device.")


def test_tensorboard_purge_drops_redone_steps(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        for step in range(5):
            tf.summary.scalar("epoch_loss", float(step), step=step)
    writer.close()
    path = next(tmp_path.glob("*tfevents*"))
    assert purge_events(path, 2) == 3
    steps = [tf.compat.v1.Event.FromString(r.numpy()).step for r in tf.data.TFRecordDataset(str(path))
             if tf.compat.v1.Event.FromString(r.numpy()).summary.value]
    assert steps == [0, 1]
    assert purge_events(path, 2) == 0 and not list(tmp_path.glob("*tmp*"))


# ------------------------------------------------------------------- exports
def test_failed_export_leaves_previous_version_and_no_numbered_half(tmp_path, monkeypatch):
    gan, base = _compiled_gan(), tmp_path / "generator"
    export.save_generator(gan, base)
    real_write = export._write_archive

    def dies_halfway(target, *parts, **kwargs):
        real_write(target, *parts, **kwargs)
        (target / "saved_model.pb").write_bytes(b"torn")
        raise KeyboardInterrupt  # as a kill would stop it, before the rename

    monkeypatch.setattr(export, "_write_archive", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        export.save_generator(gan, base)
    assert [path.name for path in version_dirs(base)] == ["1"]
    assert tf.saved_model.load(str(latest_export(base))).signatures["generate"] is not None
    monkeypatch.setattr(export, "_write_archive", real_write)
    assert export.save_generator(gan, base, keep=1) == base / "2"
    assert [path.name for path in version_dirs(base)] == ["2"]
    assert sorted(path.name for path in base.iterdir()) == [".tfgan_zoo", "2"], "staging and retired folders are gone"


# ------------------------------------------------------ whole runs, as processes
@pytest.fixture(scope="module")
def raced_run(tmp_path_factory, fork_server):
    """Two processes started together on one --out (1 epoch): ``(run_dir, results)``."""
    data_dir = shared_data_dir()
    if data_dir is None:
        pytest.skip("MNIST IDX files not found: set TFGAN_ZOO_DATA to the shared data folder")
    run_dir = tmp_path_factory.mktemp("raced") / "run"
    logs = [run_dir.parent / f"process{index}.log" for index in range(2)]
    processes = [start(fork_server, run_dir, data_dir, 1, log) for log in logs]
    results = []
    for process, log in zip(processes, logs):
        process.wait(timeout=300)
        results.append((process.pid, process.returncode, log.read_text()))
    return run_dir, results


def test_two_processes_on_one_run_dir_only_one_trains(raced_run):
    run_dir, results = raced_run
    winners = [result for result in results if result[1] == 0]
    losers = [result for result in results if result[1] != 0]
    assert len(winners) == 1 and len(losers) == 1, [(code, text[-1500:]) for _, code, text in results]
    assert f"in use by pid {winners[0][0]} on host {socket.gethostname()}" in losers[0][2]
    assert "Traceback" not in losers[0][2] and "Epoch 1/1" not in losers[0][2]
    assert logged_epochs(run_dir) == [0]


def test_copied_run_dir_resumes_exactly(raced_run, data_dir, tmp_path, capsys):
    """cp -r gives every file a new mtime: the resume position must come from the content."""
    source, _ = raced_run
    copy = tmp_path / "copy"
    time.sleep(0.05)
    subprocess.run(["cp", "-r", str(source), str(copy)], check=True)
    # And a lock left by a killed process, to be taken over.
    (copy / ".lock").write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname()}))
    printed = resume(copy, data_dir, 2, capsys)
    assert "Taking over the lock" in printed
    assert "Epoch 2/2" in printed and "Epoch 1/2" not in printed
    check_finished_run(copy, 2)


def _wait(process, condition, timeout=120) -> bool:
    """Polls ``condition()`` (tightly: checkpoint saves last milliseconds) until
    true (True) or the process ends (False)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.0005)
    raise AssertionError("the run neither reached the moment to kill nor ended")


def _checkpoint_saving(run_dir, at_least):
    folder = run_dir / "checkpoints"

    def saving():
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            return False
        return any("tmp" in name for name in names) and saved_epoch(run_dir) >= at_least
    return saving


def _exporting(run_dir):
    base = run_dir / "export" / "generator"

    def exporting():
        try:
            return any(name.startswith(".staging-") for name in os.listdir(base))
        except FileNotFoundError:
            return False
    return exporting


def _started(run_dir, since):
    def started():
        try:
            return (run_dir / "config.json").stat().st_mtime >= since
        except FileNotFoundError:
            return False
    return started


def test_kill_9_at_random_moments_then_resume(tmp_path, data_dir, capsys, fork_server):
    """SIGKILL at >= 10 moments (startup, training, inside checkpoint saves, inside
    exports), resuming after each; then the run is whole and logged once."""
    epochs, run_dir = 6, tmp_path / "run"
    rng = random.Random(1)
    plan = ["save", "random", "save", "startup", "save", "random", "save", "random", "export", "export", "save"]
    kills, left_behind = [], set()
    for moment in plan:
        if moment == "save" and saved_epoch(run_dir) >= epochs:
            moment = "export"
        began = time.time()
        process = start(fork_server, run_dir, data_dir, epochs)
        try:
            if moment == "startup":  # loading the data, building the model (the imports are the fork server's)
                time.sleep(rng.uniform(0.1, 1.0))
                reached = process.poll() is None
            elif moment == "random":
                reached = _wait(process, _started(run_dir, began - 1))
                time.sleep(rng.uniform(0.0, 1.5))
                reached = reached and process.poll() is None
            elif moment == "save":
                target = min(saved_epoch(run_dir) + rng.randint(0, 2), epochs - 1)
                reached = _wait(process, _checkpoint_saving(run_dir, target))
            else:
                reached = _wait(process, _exporting(run_dir))
        finally:
            process.send_signal(signal.SIGKILL)
            code = process.wait(timeout=60)
        if reached and code == -signal.SIGKILL:
            kills.append(moment)
            left_behind.update(temporaries(run_dir))
        assert logged_epochs(run_dir) == sorted(set(logged_epochs(run_dir))), "a row logged twice"
    print(f"killed at: {kills}; temporaries left by the kills: {sorted(left_behind)}")
    assert len(kills) >= 10 and {"save", "export"} <= set(kills), kills
    # The kills did land inside the writes: their temporaries were there to clean up.
    assert any(name.startswith("checkpoints") for name in left_behind), left_behind
    assert any(".staging-" in name for name in left_behind), left_behind

    resume(run_dir, data_dir, epochs, capsys)
    check_finished_run(run_dir, epochs)


# ------------------------------------------------------------- a real full disk
def test_full_tmpfs_stops_cleanly_and_resumes_after_space_is_freed(raced_run, tmp_path, data_dir, capsys,
                                                                   fork_server):
    mount = tmp_path / "small"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        reason = f"cannot mount a 3 MB tmpfs here ({(mounted.stderr or mounted.stdout).strip()})"
        print(reason)
        pytest.skip(reason)
    try:
        run_dir = mount / "run"
        # The one-epoch run of the race, copied in (test_copied_run_dir_resumes_exactly: a copy resumes exactly).
        subprocess.run(["cp", "-r", str(raced_run[0]), str(run_dir)], check=True)
        stats = os.statvfs(mount)
        # Room for the logs and samples of an epoch, not for a second checkpoint beside the first.
        (mount / "filler").write_bytes(b"\0" * (stats.f_bavail * stats.f_frsize - 40 * 1024))
        full = fork_server.run(command(run_dir, data_dir, 3), env=ENV, timeout=300)
        assert full.returncode == 1, full.stdout[-2000:] + full.stderr[-2000:]
        assert "Could not write " in full.stderr and "No space left on device" in full.stderr
        assert f"last good checkpoint: {run_dir / 'checkpoints' / 'latest.weights.h5'} (after epoch 1)" in full.stderr
        assert "Traceback" not in full.stderr and "Exception ignored" not in full.stderr
        assert [path for path in temporaries(run_dir)] == []

        (mount / "filler").unlink()
        assert "Epoch 1/3" not in resume(run_dir, data_dir, 3, capsys)
        check_finished_run(run_dir, 3)
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


@pytest.mark.parametrize("damage", ["truncated", "emptied"])
def test_a_damaged_checkpoint_is_named_with_the_way_out(tmp_path, damage):
    model = tfgan_zoo.DCGAN(latent_dim=4, image_shape=(8, 8, 1), g_filters=4, d_filters=4)
    model.compile(run_eagerly=True)
    images = np.zeros((4, 8, 8, 1), np.uint8)
    model.fit(images, epochs=1, verbose=0, callbacks=[gan_callbacks.SafeBackupAndRestore(tmp_path)])
    weights = next(tmp_path.glob("*.weights.h5"))
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"")
    with pytest.raises(gan_callbacks.CheckpointError, match="cannot be read.*move the checkpoints folder away"):
        model.fit(images, epochs=2, verbose=0, callbacks=[gan_callbacks.SafeBackupAndRestore(tmp_path)])


def test_scripts_end_on_data_problems_with_the_message_alone(capsys):
    def bad_labels():
        raise tfgan_zoo.data.DataError("labels.csv gives 0.png two labels. Keep one row per image.")

    with pytest.raises(SystemExit) as stop:
        experiment.main(bad_labels)
    assert stop.value.code == "error: labels.csv gives 0.png two labels. Keep one row per image."
    assert stop.value.__cause__ is None and stop.value.__suppress_context__

    def a_bug():
        raise KeyError("not the user's data")

    with pytest.raises(SystemExit, match="probably a bug in tfgan_zoo: run again with TFGAN_ZOO_TRACEBACK=1"):
        experiment.main(a_bug)
