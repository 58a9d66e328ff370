"""Choosing a ``tf.distribute`` strategy by name, and who writes the run's files.

``MultiWorkerMirroredStrategy`` reads the cluster from ``TF_CONFIG`` (one
JSON per host: the same ``cluster``, each its own ``task``) and must be
created before TensorFlow runs any op, so experiments call
:func:`make_strategy` first. Every worker runs the same command; only the
chief (``task.type == "chief"``, or worker 0 when there is no chief) writes
samples, logs, checkpoints and exports, and all workers resume from the
chief's checkpoint, which is why the run directory must be on a file system
every worker sees.
"""

from __future__ import annotations

import json
import os

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi-worker", "tpu")


def make_strategy(name: str = "default") -> tf.distribute.Strategy:
    """``default``: one device; ``mirrored``: every local GPU (or the CPU); ``multi-worker``:
    the hosts of ``TF_CONFIG``; ``tpu``: the TPU named by the environment (untested here)."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi-worker":
        if not os.environ.get("TF_CONFIG"):
            raise SystemExit(
                "--strategy multi-worker needs TF_CONFIG: on each host, a JSON like "
                '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}} '
                "with its own index. See README, 'Training on several machines'."
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"Unknown strategy {name!r}; choose one of {STRATEGIES}.")


def task() -> tuple[str | None, int]:
    """``(type, index)`` of this process in ``TF_CONFIG``; ``(None, 0)`` without one."""
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    spec = config.get("task") or {}
    return spec.get("type"), int(spec.get("index", 0))


def is_chief() -> bool:
    """Whether this process writes the run's files: always, unless ``TF_CONFIG`` names
    another task as chief (a ``chief`` task, else worker 0)."""
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    kind, index = task()
    if kind is None:
        return True
    if "chief" in config.get("cluster", {}):
        return kind == "chief"
    return kind == "worker" and index == 0


def localhost_cluster(num_workers: int) -> dict:
    """A ``TF_CONFIG`` cluster of ``num_workers`` workers on free 127.0.0.1 ports, to try
    multi-worker training on one machine (give each process ``{"cluster": ..., "task":
    {"type": "worker", "index": i}}``). The ports are free when chosen, not reserved."""
    import socket

    sockets = [socket.socket() for _ in range(num_workers)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return {"worker": [f"127.0.0.1:{sock.getsockname()[1]}" for sock in sockets]}
    finally:
        for sock in sockets:
            sock.close()
