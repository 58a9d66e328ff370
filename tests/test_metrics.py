"""Sample-quality measures: closed forms on Gaussians, unbiasedness of KID,
precision/recall against brute force, and MNIST sanity: real vs real scores
near the floor, degraded sets far above it, in a domain classifier's features."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import shared_data_dir

from tfgan_zoo import metrics
from tfgan_zoo.data import image_dataset, load_idx_dataset
from tfgan_zoo.presets import PRESETS_DIR
from tfgan_zoo.presets.quality import EVALUATOR_FILE

SAMPLES = 2000  # per compared set: FID and KID are compared at equal sample counts


# --------------------------------------------------------------- Gaussians
def exact_gaussian_sample(rng, n, mean, cov):
    """Samples whose sample mean and covariance are exactly ``mean`` and ``cov``."""
    z = rng.standard_normal((n, len(mean)))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T
    return z @ np.linalg.cholesky(cov).T + mean


def test_frechet_distance_of_identical_sets_is_zero():
    x = np.random.default_rng(0).standard_normal((500, 16))
    assert abs(metrics.frechet_distance(x, x)) < 1e-8


def test_frechet_distance_of_shifted_gaussians_is_the_squared_mean_shift():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6, 6))
    cov = a @ a.T + np.eye(6)
    mean_1, mean_2 = rng.standard_normal(6), rng.standard_normal(6) + 2.0
    x, y = exact_gaussian_sample(rng, 400, mean_1, cov), exact_gaussian_sample(rng, 300, mean_2, cov)
    assert metrics.frechet_distance(x, y) == pytest.approx(np.sum((mean_1 - mean_2) ** 2), rel=1e-6)


def test_frechet_distance_matches_closed_forms_for_other_covariances():
    rng = np.random.default_rng(2)
    var_1, var_2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    x = exact_gaussian_sample(rng, 500, np.zeros(3), np.diag(var_1))
    y = exact_gaussian_sample(rng, 500, np.ones(3), np.diag(var_2))
    # Commuting covariances: Tr(S1 + S2 - 2 (S1 S2)^1/2) = sum (sqrt(v1) - sqrt(v2))^2.
    expected = 3.0 + np.sum((np.sqrt(var_1) - np.sqrt(var_2)) ** 2)
    assert metrics.frechet_distance(x, y) == pytest.approx(expected, rel=1e-6)

    linalg = pytest.importorskip("scipy.linalg")
    a, b = rng.standard_normal((500, 5)), rng.standard_normal((400, 5)) @ rng.standard_normal((5, 5))
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    reference = np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(
        cov_a + cov_b - 2 * linalg.sqrtm(cov_a @ cov_b).real
    )
    assert metrics.frechet_distance(a, b) == pytest.approx(reference, rel=1e-6)


def test_frechet_distance_handles_singular_covariances():
    rng = np.random.default_rng(3)
    x = np.zeros((200, 8))
    x[:, :2] = rng.standard_normal((200, 2))  # rank 2 of 8, as dead ReLU features give
    value = metrics.frechet_distance(x, x + 1.0)
    assert value == pytest.approx(8.0, abs=1e-6)


def test_kid_is_near_zero_for_one_distribution_and_large_for_two():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((2000, 32)), rng.standard_normal((2000, 32))
    mean, std = metrics.kernel_inception_distance(x, y, num_subsets=50, subset_size=500)
    assert std > 0 and abs(mean) < std
    shifted_mean, shifted_std = metrics.kernel_inception_distance(x, y + 0.5, num_subsets=50, subset_size=500)
    assert shifted_mean > 20 * shifted_std


def test_kid_estimator_is_unbiased():
    """Averaged over many small independent pairs from one distribution, the
    estimate centres on 0; the biased (diagonal-keeping) one is far off."""
    rng = np.random.default_rng(5)
    m, d, repeats = 20, 4, 300
    unbiased, biased = [], []
    for _ in range(repeats):
        x, y = rng.standard_normal((m, d)), rng.standard_normal((m, d))
        unbiased.append(metrics.kernel_inception_distance(x, y, num_subsets=1, subset_size=m)[0])
        k_xx, k_yy, k_xy = ((x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3)
        biased.append(k_xx.mean() + k_yy.mean() - 2 * k_xy.mean())
    standard_error = np.std(unbiased) / math.sqrt(repeats)
    assert abs(np.mean(unbiased)) < 3 * standard_error
    assert np.mean(biased) > 10 * standard_error  # the test would catch a biased estimator


def test_kid_caps_subset_size_at_sample_count():
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((30, 4)), rng.standard_normal((40, 4)) + 3.0
    mean, std = metrics.kernel_inception_distance(x, y, num_subsets=3, subset_size=1000)
    assert std == pytest.approx(0.0, abs=1e-9) and mean > 0  # every subset is the whole set


# --------------------------------------------------------- precision/recall
def brute_force_precision_recall(real, fake, k):
    def radii(points):
        distances = np.linalg.norm(points[:, None] - points[None], axis=-1)
        return np.sort(distances, axis=1)[:, k]

    def share_inside(queries, manifold):
        distances = np.linalg.norm(queries[:, None] - manifold[None], axis=-1)
        return np.mean(np.any(distances <= radii(manifold)[None], axis=1))

    return share_inside(fake, real), share_inside(real, fake)


def test_precision_recall_matches_brute_force_in_any_batch_size():
    rng = np.random.default_rng(7)
    real, fake = rng.standard_normal((150, 5)), 0.6 * rng.standard_normal((120, 5)) + 0.8
    expected = brute_force_precision_recall(real, fake, k=3)
    for batch_size in (7, 1000):
        result = metrics.precision_recall(real, fake, k=3, batch_size=batch_size)
        assert (result["precision"], result["recall"]) == pytest.approx(expected)
    assert 0.05 < expected[0] < 0.95 and 0.05 < expected[1] < 0.95  # a non-trivial case
    # The real manifold computed once serves every fake set scored against it.
    radii = metrics.reference_radii(real, k=3)
    scores = metrics.precision_recall(real, fake, k=3, real_radii=radii)
    assert (scores["precision"], scores["recall"]) == pytest.approx(expected)
    with pytest.raises(ValueError, match="holds 149 radii for 150 real samples"):
        metrics.precision_recall(real, fake, k=3, real_radii=radii[1:])


def test_precision_recall_extremes():
    rng = np.random.default_rng(8)
    real = rng.standard_normal((300, 8))
    assert metrics.precision_recall(real, real.copy()) == {"precision": 1.0, "recall": 1.0}
    assert metrics.precision_recall(real, real + 100.0) == {"precision": 0.0, "recall": 0.0}
    # A collapsed generator: everything near one real point. Faithful, not diverse.
    collapsed = metrics.precision_recall(real, real[:1] + 0.01 * rng.standard_normal((300, 8)))
    assert collapsed["precision"] == 1.0 and collapsed["recall"] < 0.05


# ------------------------------------------------------ images and sources
def test_gather_images_reads_arrays_tensors_and_datasets():
    rng = np.random.default_rng(9)
    images = rng.integers(0, 256, (100, 28, 28, 1), dtype=np.uint8)
    labels = np.arange(100, dtype=np.int32) % 10
    assert np.array_equal(metrics.gather_images(images)[0], images)
    assert np.array_equal(metrics.gather_images(tf.constant(images), max_images=10)[0], images[:10])
    # image_dataset yields [-1, 1] floats: the round trip back to uint8 is exact.
    dataset = image_dataset(images, labels, batch_size=16, shuffle=False, drop_remainder=False)
    read, read_labels = metrics.gather_images(dataset, max_images=50)
    assert np.array_equal(read, images[:50]) and np.array_equal(read_labels, labels[:50])
    unbatched = tf.data.Dataset.from_tensor_slices(images[:5])
    assert np.array_equal(metrics.gather_images(unbatched)[0], images[:5])


def test_float_images_convert_from_minus_one_one_and_reject_other_ranges():
    every_value = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1)
    assert np.array_equal(metrics.as_uint8_images(every_value / 127.5 - 1.0), every_value)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        metrics.as_uint8_images(every_value.astype(np.float32))
    with pytest.raises(ValueError, match="channel axis"):
        metrics.as_uint8_images(np.zeros((4, 28, 28), np.uint8))


# ------------------------------------------------------- label accuracy
def test_label_scores_on_hand_made_predictions():
    labels = np.array([0, 0, 1, 1, 2, 2])
    perfect = metrics.label_scores(labels, labels, num_classes=4)
    assert perfect["accuracy"] == 1.0 and perfect["classes_present"] == 3
    assert perfect["per_class_accuracy"][:3] == [1.0, 1.0, 1.0]
    assert math.isnan(perfect["per_class_accuracy"][3])  # no samples made for class 3
    assert perfect["coverage"] == pytest.approx([1 / 3, 1 / 3, 1 / 3, 0.0])

    collapsed = metrics.label_scores(np.zeros(6, int), labels, num_classes=3)
    assert collapsed["accuracy"] == pytest.approx(1 / 3)
    assert collapsed["per_class_accuracy"] == [1.0, 0.0, 0.0]
    assert collapsed["coverage"] == [1.0, 0.0, 0.0] and collapsed["classes_present"] == 1

    half = metrics.label_scores(np.array([0, 1, 1, 1, 2, 0]), labels, num_classes=3)
    assert half["per_class_accuracy"] == [0.5, 1.0, 0.5] and half["classes_present"] == 1


# --------------------------------------------------- paired translation
def test_paired_metrics_on_known_inputs():
    rng = np.random.default_rng(10)
    target = rng.integers(0, 246, (3, 32, 32, 3), dtype=np.uint8)
    assert metrics.l1(target, target) == 0.0
    assert metrics.psnr(target, target) == math.inf
    assert metrics.ssim(target, target) == pytest.approx(1.0)
    brighter = target + np.uint8(10)
    assert metrics.l1(brighter, target) == pytest.approx(10 / 127.5, rel=1e-5)
    assert metrics.psnr(brighter, target) == pytest.approx(20 * math.log10(255 / 10), rel=1e-4)
    # The same images as [-1, 1] floats give the same figures.
    as_float = lambda x: x.astype(np.float32) / 127.5 - 1.0  # noqa: E731
    assert metrics.l1(as_float(brighter), as_float(target)) == pytest.approx(10 / 127.5, rel=1e-4)
    assert metrics.psnr(as_float(brighter), target) == pytest.approx(20 * math.log10(255 / 10), rel=1e-3)
    noisy = np.clip(target + rng.normal(0, 40, target.shape), 0, 255).astype(np.uint8)
    assert 0.0 < metrics.ssim(noisy, target) < 0.9
    with pytest.raises(ValueError, match="shape"):
        metrics.l1(target, target[:, :16])


# ------------------------------------------------------------ Inception
def test_missing_inception_weights_say_where_to_get_them(tmp_path):
    for path in (tmp_path / "missing.h5", None):
        with pytest.raises(FileNotFoundError, match=metrics.INCEPTION_WEIGHTS_FILE) as error:
            metrics.InceptionFeatures(path)
        assert "storage.googleapis.com" in str(error.value) and "never downloads" in str(error.value)


def test_inception_preprocess_resizes_grey_to_rgb_in_minus_one_one():
    images = np.zeros((2, 28, 28, 1), np.uint8)
    images[0] = 255
    images[1, 10:18, 10:18] = 200
    out = metrics.inception_preprocess(tf.constant(images)).numpy()
    assert out.shape == (2, 299, 299, 3)
    assert np.allclose(out[0], 1.0, atol=1e-6) and out[1].min() == pytest.approx(-1.0, abs=1e-6)
    assert out[1].max() <= 1.0
    assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 0], out[..., 2])


def test_inception_forward_pass_on_two_images():
    extractor = metrics.InceptionFeatures._untrained()
    images = np.random.default_rng(11).integers(0, 256, (2, 28, 28, 1), dtype=np.uint8)
    features = extractor(images)
    assert features.shape == (2, 2048) and np.all(np.isfinite(features))


# ----------------------------------------------------- domain features
def test_domain_features_work_at_any_size_and_channels(tmp_path):
    """A labelled colour 'folder' of 20x16 images: the brightest channel is the class."""
    rng = np.random.default_rng(12)
    labels = np.arange(300) % 3
    images = rng.integers(0, 60, (300, 20, 16, 3), dtype=np.uint8)
    images[np.arange(300), :, :, labels] += 150
    cache = tmp_path / "colour.keras"
    features = metrics.DomainFeatures.train(images, labels, 3, cache_path=cache, epochs=2, key="colour")
    assert metrics.classifier_accuracy(features.classifier, images, labels) > 0.9
    extracted = features(images[:10])
    assert extracted.shape == (10, 128) and extracted.dtype == np.float32
    reloaded = metrics.DomainFeatures.train(images, labels, 3, cache_path=cache, epochs=2, key="colour")
    assert np.allclose(reloaded(images[:10]), extracted, atol=1e-5)
    assert reloaded.network_key == "colour.keras"  # the cache file names the network in protocols


# ------------------------------------------------------------- MNIST
@pytest.fixture(scope="module")
def mnist():
    path = shared_data_dir()
    if path is None:
        pytest.skip("MNIST IDX files not found: set TFGAN_ZOO_DATA to the shared data folder")
    return {split: load_idx_dataset("mnist", split, path) for split in ("train", "test")}


@pytest.fixture(scope="module")
def domain(mnist):
    """Domain features of the MNIST classifier the cgan_mnist preset ships (the network that
    judged it: ``metrics.domain_classifier`` on all 60,000 training images), used only once it
    is shown to read MNIST well. (Training one here took 22 CPU-seconds; test_experiment.py and
    test_caches.py train classifiers through the experiments' own path.)"""
    test_images, test_labels = mnist["test"]
    classifier = keras.saving.load_model(PRESETS_DIR / "cgan_mnist" / EVALUATOR_FILE)
    accuracy = metrics.classifier_accuracy(classifier, test_images, test_labels)
    print(f"domain classifier MNIST test accuracy: {accuracy:.4f}")
    assert accuracy >= 0.98
    return metrics.DomainFeatures(classifier, network_key=f"cgan_mnist/{EVALUATOR_FILE}")


def gaussian_blur(images, sigma=1.5):
    taps = np.exp(-(np.arange(-3, 4) ** 2) / (2 * sigma**2))
    kernel = np.outer(taps, taps) / taps.sum() ** 2
    kernel = kernel[:, :, None, None].astype(np.float32)
    blurred = tf.nn.conv2d(tf.cast(images, tf.float32), kernel, 1, "SAME")
    return np.clip(np.round(blurred.numpy()), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def mnist_scores(mnist, domain):
    """Scores against 5k training images: held-out test images (the floor) and degraded sets."""
    train_images, train_labels = mnist["train"]
    test_images, test_labels = mnist["test"]
    evaluator = metrics.GANEvaluator(
        domain, reference=train_images[:5000], held_out=(test_images[:5000], test_labels[:5000]),
        classifier=domain.classifier, num_classes=10, kid_subsets=20,
    )
    rest_images, rest_labels = train_images[5000:], train_labels[5000:]
    candidates = {
        "noise": np.random.default_rng(13).integers(0, 256, (SAMPLES, 28, 28, 1), dtype=np.uint8),
        "blur": gaussian_blur(test_images[:SAMPLES]),
        "single_class": rest_images[rest_labels == 3][:SAMPLES],
    }
    scores = {name: evaluator.evaluate(images).figures for name, images in candidates.items()}
    scores["real"] = evaluator.floor(SAMPLES)
    scores["real_labelled"] = evaluator.evaluate(test_images[:SAMPLES], test_labels[:SAMPLES])
    for name, figures in scores.items():
        print(name, getattr(figures, "figures", figures))
    return scores


def test_fid_real_vs_real_is_far_below_degraded_sets(mnist_scores):
    real = mnist_scores["real"]["domain_fid"]
    for name in ("noise", "blur", "single_class"):
        assert real < 0.05 * mnist_scores[name]["domain_fid"], name


def test_kid_real_vs_real_is_far_below_degraded_sets(mnist_scores):
    real = mnist_scores["real"]
    for name in ("noise", "blur", "single_class"):
        figures = mnist_scores[name]
        assert real["domain_kid"] < 0.05 * figures["domain_kid"], name
        assert figures["domain_kid"] > 10 * figures["domain_kid_std"], name


def test_precision_recall_on_mnist(mnist_scores):
    real, single = mnist_scores["real"], mnist_scores["single_class"]
    assert real["domain_precision"] > 0.75 and real["domain_recall"] > 0.75
    assert single["domain_precision"] > 0.75 and single["domain_recall"] < 0.25
    assert mnist_scores["blur"]["domain_recall"] < 0.1 and mnist_scores["noise"]["domain_recall"] < 0.1


def test_evaluator_reports_labels_and_protocol(mnist_scores):
    evaluation = mnist_scores["real_labelled"]
    assert evaluation.figures["label_accuracy"] >= 0.97 and evaluation.figures["classes_present"] == 10
    assert evaluation.figures["min_class_coverage"] > 0.8  # the test split is nearly balanced
    protocol = evaluation.protocol
    assert protocol["extractor"] == "domain" and protocol["num_samples"] == SAMPLES
    assert protocol["score_names"]["domain_fid"] == "domain-FID"
    assert protocol["num_reference"] == 5000 and protocol["reference_split"] == "train"
    assert protocol["held_out_split"] == "test" and protocol["feature_dim"] == 128
    assert protocol["real_floor"] == {"num_samples": SAMPLES, **mnist_scores["real"]}  # computed once, then cached
    assert protocol["network_key"] == f"cgan_mnist/{EVALUATOR_FILE}"
    assert "none" in protocol["resize"]


def test_evaluator_reads_a_dataset_like_the_arrays(mnist, domain):
    images, labels = mnist["test"]
    evaluator = metrics.GANEvaluator(domain, reference=images[:500], measures=("fid",))
    dataset = image_dataset(
        images[500:900], labels[500:900], batch_size=64, shuffle=False, drop_remainder=False
    )
    from_dataset = evaluator.evaluate(dataset).figures["domain_fid"]
    assert from_dataset == pytest.approx(evaluator.evaluate(images[500:900]).figures["domain_fid"], rel=1e-6)
    assert evaluator.figure_names() == ["domain_fid"]
    assert evaluator.evaluate(images[500:900]).protocol["real_floor"] is None  # no held-out split
    with pytest.raises(ValueError, match="Unknown measures"):
        metrics.GANEvaluator(domain, reference=images[:10], measures=("is",))
