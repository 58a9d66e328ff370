"""Health monitor: broken runs raise the right warning, a healthy run none."""

import json

import keras
import numpy as np
import pytest
from minimal_family import MinimalGAN

import tfgan_zoo
from tfgan_zoo.data import image_dataset, load_idx_dataset
from tfgan_zoo.diagnostics import HealthMonitor, HealthThresholds, mean_pairwise_distance
from tfgan_zoo.models.base import Metric

QUICK = HealthThresholds(check_every=25, warmup_batches=50)


@pytest.fixture(scope="module")
def mnist_subset():
    from conftest import shared_data_dir

    path = shared_data_dir()
    if path is None:
        pytest.skip("MNIST IDX files not found: set TFGAN_ZOO_DATA")
    images, labels = load_idx_dataset("mnist", "train", path)
    return images[:4096], labels[:4096]


def train_with_monitor(mnist_subset, d_lr, g_lr, tmp_path):
    images, labels = mnist_subset
    keras.utils.set_random_seed(0)
    # A small D beside a larger G keeps this tiny run balanced when healthy.
    gan = tfgan_zoo.ConditionalGAN(latent_dim=32, num_classes=10, g_filters=32, d_filters=8)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(d_lr, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(g_lr, beta_1=0.5),
    )
    monitor = HealthMonitor(QUICK, reference_images=images[:256], log_path=tmp_path / "health.jsonl")
    history = gan.fit(
        image_dataset(images, labels, batch_size=32, seed=0), epochs=2, verbose=0, callbacks=[monitor]
    ).history
    return monitor, history


def test_healthy_run_raises_no_warning(mnist_subset, tmp_path):
    monitor, history = train_with_monitor(mnist_subset, 2e-4, 2e-4, tmp_path)
    assert monitor.events == []
    assert not (tmp_path / "health.jsonl").exists()
    assert len(history["sample_diversity"]) == 2 and min(history["sample_diversity"]) > QUICK.diversity_ratio
    assert min(history["g_grad_norm"]) > 0


@pytest.mark.parametrize("d_lr, g_lr", [(2e-4, 0.0), (2e-3, 2e-5)], ids=["frozen_g", "d_lr_100x"])
def test_overpowering_discriminator_is_named(mnist_subset, tmp_path, d_lr, g_lr):
    monitor, _ = train_with_monitor(mnist_subset, d_lr, g_lr, tmp_path)
    conditions = [event["condition"] for event in monitor.events]
    assert "d_overpowering" in conditions
    assert conditions.count("d_overpowering") == 1  # reported once, not every window
    logged = [json.loads(line) for line in (tmp_path / "health.jsonl").read_text().splitlines()]
    assert [event["condition"] for event in logged] == conditions
    event = logged[conditions.index("d_overpowering")]
    assert event["d_real"] > 0.9 and event["d_fake"] < 0.1


def feed(monitor, windows):
    """Feeds per-batch values as Keras would log them: running epoch means."""
    monitor.on_epoch_begin(0)
    sums = {}
    for batch, values in enumerate(windows):
        for key, value in values.items():
            sums[key] = sums.get(key, 0.0) + value
        monitor.on_train_batch_end(batch, {key: total / (batch + 1) for key, total in sums.items()})


def bare_monitor():
    monitor = HealthMonitor(HealthThresholds(check_every=10, warmup_batches=0, patience=2))
    monitor.set_model(tfgan_zoo.DCGAN(latent_dim=4, g_filters=4, d_filters=4))
    return monitor


def steady(batches, **overrides):
    values = {"d_loss": 1.2, "g_loss": 0.9, "d_real": 0.6, "d_fake": 0.4, "g_grad_norm": 5.0}
    return [{**values, **overrides} for _ in range(batches)]


def test_batch_values_are_recovered_from_running_means():
    monitor = bare_monitor()
    seen = []
    monitor.check_window = seen.append
    feed(monitor, steady(10, g_loss=1.0) + steady(10, g_loss=3.0))
    assert [round(window["g_loss"], 6) for window in seen] == [1.0, 3.0]


def test_vanishing_generator_gradients():
    monitor = bare_monitor()
    feed(monitor, steady(50) + steady(30, g_grad_norm=1e-4))
    assert [event["condition"] for event in monitor.events] == ["vanishing_g_gradients"]


def test_divergence():
    monitor = bare_monitor()
    feed(monitor, steady(50) + steady(30, g_loss=500.0))
    assert [event["condition"] for event in monitor.events] == ["divergence"]


def test_a_single_bad_window_is_not_reported():
    monitor = bare_monitor()
    feed(monitor, steady(30) + steady(10, d_real=0.99, d_fake=0.01) + steady(30))
    assert monitor.events == []


def test_non_finite_loss_stops_training():
    monitor = bare_monitor()
    feed(monitor, steady(5) + steady(1, g_loss=float("nan")))
    assert monitor.model.stop_training
    assert [event["condition"] for event in monitor.events] == ["non_finite"]


def monitor_of_figures_named_otherwise():
    """A monitor of a model that logs its figures under names of its own, in the health monitor's roles."""
    model = MinimalGAN()
    model.build_training_state((
        Metric("critic_loss", "minimized", role="d_loss"),
        Metric("adversarial", "minimized", role="g_adversarial_loss"),
        Metric("reconstruction", "minimized"),
        Metric("p_real", "neither", role="d_real_score"),
        Metric("p_fake", "neither", role="d_fake_score"),
    ))
    monitor = HealthMonitor(HealthThresholds(check_every=10, warmup_batches=0, patience=2))
    monitor.set_model(model)
    return monitor


def renamed(batches, **overrides):
    values = {"critic_loss": 1.2, "adversarial": 0.9, "reconstruction": 3.0, "p_real": 0.6, "p_fake": 0.4,
              "g_grad_norm": 5.0}
    return [{**values, **overrides} for _ in range(batches)]


def test_figures_are_found_by_their_declared_roles():
    monitor = monitor_of_figures_named_otherwise()
    feed(monitor, renamed(30) + renamed(30, p_real=0.99, p_fake=0.01))
    assert [event["condition"] for event in monitor.events] == ["d_overpowering"]
    assert monitor.events[0]["p_real"] > 0.9 and monitor.events[0]["p_fake"] < 0.1
    monitor = monitor_of_figures_named_otherwise()
    feed(monitor, renamed(30) + renamed(30, g_grad_norm=1e-4))
    assert [event["condition"] for event in monitor.events] == ["vanishing_g_gradients"]


def test_only_the_adversarial_part_of_gs_loss_is_judged_for_divergence():
    monitor = monitor_of_figures_named_otherwise()
    feed(monitor, renamed(50, reconstruction=500.0))  # a large weighted term: no role, not judged
    assert monitor.events == []
    feed(monitor, renamed(50, adversarial=500.0))
    assert [event["condition"] for event in monitor.events] == ["divergence"]


class ConstantGAN(tfgan_zoo.DCGAN):
    """A generator collapsed to one image whatever the noise."""

    def generate(self, noise, conditions=None, training=False, averaged=True):
        return np.zeros((len(noise), 28, 28, 1), "float32") + np.linspace(-1, 1, 28)[:, None, None]


def test_collapsed_generator_is_named(mnist_subset):
    images, _ = mnist_subset
    monitor = HealthMonitor(reference_images=images[:128])
    monitor.set_model(ConstantGAN(latent_dim=4, g_filters=4, d_filters=4))
    logs = {}
    monitor.on_epoch_end(0, logs)
    assert logs["sample_diversity"] == 0.0
    assert [event["condition"] for event in monitor.events] == ["mode_collapse"]


def test_missing_classes_are_named():
    class OnlyClassThree:
        def predict(self, images, verbose=0):
            return np.tile(np.eye(10)[3], (len(images), 1))

    monitor = HealthMonitor(classifier=OnlyClassThree())
    monitor.set_model(tfgan_zoo.DCGAN(latent_dim=4, g_filters=4, d_filters=4))
    monitor.on_epoch_end(0, {})
    (event,) = monitor.events
    assert event["condition"] == "mode_collapse"
    assert event["missing_classes"] == [c for c in range(10) if c != 3]


def test_mean_pairwise_distance():
    points = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])
    assert mean_pairwise_distance(points) == pytest.approx((5 + 10 + 5) / 3)
