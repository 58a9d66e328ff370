"""One optimizer step, correct on any number of replicas and in float16, and the
per-replica share of random draws made for the whole global batch."""

from __future__ import annotations

import keras
import tensorflow as tf


def replica_info() -> tuple[int, int]:
    """(number of replicas in sync, this replica's id) inside or outside a strategy."""
    context = tf.distribute.get_replica_context()
    if context is None:  # cross-replica context: behave like one replica
        return tf.distribute.get_strategy().num_replicas_in_sync, 0
    return context.num_replicas_in_sync, context.replica_id_in_sync_group


def replica_mean(per_example):
    """The mean of this replica's per-example losses divided by the replica
    count: Keras sums gradients over replicas, so together they take the
    global batch's mean (a plain mean would give N times the gradient)."""
    num_replicas, _ = replica_info()
    return tf.reduce_mean(per_example) / float(num_replicas)


def stream_seed(seed: int, salt: int, counter) -> tf.Tensor:
    """The stateless seed (int64 ``[2]``) of random stream ``salt`` of a model
    seeded ``seed`` at step ``counter``: salts keep a step's draws apart."""
    return tf.stack([tf.constant(int(seed) * 1_000_003 + int(salt), tf.int64), tf.cast(counter, tf.int64)])


def replica_share(draw, local_batch):
    """This replica's rows of ``draw(global_batch)``, a stateless draw for the whole
    global batch: replicas get different values, and N replicas together see
    exactly what one device draws for the same global batch."""
    num_replicas, replica_id = replica_info()
    values = draw(local_batch * num_replicas)
    return values[replica_id * local_batch : (replica_id + 1) * local_batch]


def training_noise(local_batch, size: int, seed: int, salt: int, counter):
    """Standard normal noise ``[local_batch, size]``: this replica's share of one
    draw for the global batch, from stream ``salt`` of ``seed`` at step ``counter``."""
    return replica_share(
        lambda rows: tf.random.stateless_normal([rows, size], seed=stream_seed(seed, salt, counter)), local_batch
    )


def gradient_norm(grads, optimizer):
    """Global norm of the gradient of this replica's mean loss, loss and replica scaling undone."""
    num_replicas, _ = replica_info()
    norm = tf.linalg.global_norm([tf.cast(g, tf.float32) for g in grads if g is not None])
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        norm = norm / tf.cast(optimizer.dynamic_scale, tf.float32)
    return norm * float(num_replicas)


class Update:
    """One optimizer step on some networks' trainable variables, taken when the
    ``with`` block that computed its loss ends (see
    :meth:`~tfgan_zoo.models.base.AdversarialModel.update`); ``grad_norm_trackers``
    maps ``id(network)`` to the tracker of that network's gradient norm."""

    def __init__(self, optimizer, networks: list, grad_norm_trackers: dict):
        self.optimizer, self.networks, self.grad_norm_trackers = optimizer, networks, grad_norm_trackers
        self.tape, self._loss = tf.GradientTape(), None

    def __enter__(self):
        self.tape.__enter__()
        return self

    def minimize(self, per_example):
        """Descend this replica's per-example losses: their mean divided by the
        replica count (Keras sums replicas' gradients), scaled for float16 loss
        scaling. Call inside the ``with`` block, as the tape must see it."""
        self._loss = self.optimizer.scale_loss(replica_mean(per_example))

    def __exit__(self, kind, value, traceback):
        self.tape.__exit__(kind, value, traceback)
        if kind is not None:
            return False
        if self._loss is None:
            raise RuntimeError("An update's with-block must call step.minimize(per_example_losses).")
        groups = [network.trainable_variables for network in self.networks]
        variables = [variable for group in groups for variable in group]
        grads = self.tape.gradient(self._loss, variables)
        start = 0
        for network, group in zip(self.networks, groups):
            tracker = self.grad_norm_trackers.get(id(network))
            if tracker is not None:
                tracker.update_state(gradient_norm(grads[start : start + len(group)], self.optimizer))
            start += len(group)
        self.optimizer.apply_gradients(zip(grads, variables))
        return False
