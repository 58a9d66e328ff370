"""Unpaired translation scores (TranslationEvaluator) on two synthetic colour domains.

Domain A images are reddish blobs, domain B the same blobs with red and blue
swapped: reversing the channels is a perfect A<->B translator, the identity
the worst sensible one.
"""

import inspect

import keras
import numpy as np
import pytest

from tfgan_zoo import metrics

SIZE = 32


def blobs(count, rng):
    """Smooth random colour blobs, red raised: domain A. Reverse the channels for domain B."""
    coarse = rng.integers(0, 110, (count, SIZE // 8, SIZE // 8, 3)).astype(np.float32)
    images = np.repeat(np.repeat(coarse, 8, axis=1), 8, axis=2)
    images += rng.normal(0, 12, images.shape)
    images[..., 0] += 120
    return np.clip(np.round(images), 0, 255).astype(np.uint8)


def swap(images):
    return np.ascontiguousarray(np.asarray(images)[..., ::-1])


@pytest.fixture(scope="module")
def domains():
    rng = np.random.default_rng(21)
    parts = {}
    for split, count in (("train", 300), ("val", 60), ("other", 60)):
        parts[split] = (blobs(count, rng), swap(blobs(count, rng)))
    return parts


@pytest.fixture(scope="module")
def classifier(domains, tmp_path_factory):
    cache = tmp_path_factory.mktemp("translation") / "classifier.keras"
    # Trained under mixed precision on purpose: the classifier must stay float32.
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = metrics.translation_classifier(
            *domains["train"], cache_path=cache, epochs=2, width=8, blocks=3, batch_size=16
        )
    finally:
        keras.config.set_dtype_policy("float32")
    return model, cache


@pytest.fixture(scope="module")
def evaluator(domains, classifier):
    held_out_a, held_out_b = domains["other"]
    return metrics.TranslationEvaluator(
        classifier[0], *domains["val"], held_out_a=held_out_a, held_out_b=held_out_b, batch_size=25,
        network_key="classifier.keras",
    )


def test_classifier_reads_held_out_domains_in_float32_and_caches(domains, classifier):
    model, cache = classifier
    images, labels = metrics.labelled_domains(*domains["val"])
    assert metrics.classifier_accuracy(model, images, labels) > 0.95
    assert all(layer.dtype_policy.name == "float32" for layer in model.layers)
    assert cache.is_file()
    reloaded = metrics.translation_classifier(*domains["train"], cache_path=cache, epochs=2, width=8, blocks=3,
                                              batch_size=16)
    np.testing.assert_allclose(reloaded.predict(images[:8], verbose=0), model.predict(images[:8], verbose=0))


def test_identity_scores_low_share_and_high_distance(evaluator):
    evaluation = evaluator.evaluate(lambda images: images, lambda images: images)
    identity = evaluation.figures
    assert sorted(identity) == sorted(evaluator.figure_names())
    assert all(isinstance(value, float) for value in identity.values())
    assert identity["a_to_b_target_share"] < 0.1 and identity["b_to_a_target_share"] < 0.1
    assert identity["cycle_l1_a"] == identity["cycle_l1_b"] == 0.0
    floor = evaluator.floor()
    assert sorted(floor) == sorted(evaluator.figure_names(cycle=False))
    for direction in ("a_to_b", "b_to_a"):
        assert floor[f"{direction}_target_share"] > 0.9
        assert floor[f"{direction}_fid"] < 0.1 * identity[f"{direction}_fid"]
        assert floor[f"{direction}_kid"] < 0.1 * identity[f"{direction}_kid"]
    assert evaluation.protocol["real_floor"] == {"num_samples": {"a_to_b": 60, "b_to_a": 60}, **floor}
    assert evaluation.protocol["network_key"] == "classifier.keras"


def test_perfect_translator_scores_like_real_targets(evaluator):
    calls = []

    def translate(images):
        calls.append(len(images))
        return swap(images).astype(np.float32) / 127.5 - 1.0  # floats in [-1, 1] are accepted

    figures = evaluator.evaluate(translate, translate).figures
    identity = evaluator.evaluate(lambda images: images, lambda images: images).figures
    assert calls == [25, 25, 10] * 4  # batch_size images at a time: 2 translations + 2 cycles
    for direction in ("a_to_b", "b_to_a"):
        assert figures[f"{direction}_target_share"] > 0.9
        assert figures[f"{direction}_fid"] < 0.1 * identity[f"{direction}_fid"]
    assert figures["cycle_l1_a"] < 0.01 and figures["cycle_l1_b"] < 0.01  # rounding only


def test_ready_made_translations_of_any_count_report_only_what_they_get(evaluator, domains):
    real_a, real_b = domains["val"]
    fewer = evaluator.evaluate_translations(fake_b=swap(real_a[:7]))  # KID subsets capped at 7 images
    assert sorted(fewer.figures) == ["a_to_b_fid", "a_to_b_kid", "a_to_b_kid_std", "a_to_b_target_share"]
    assert all(np.isfinite(value) for value in fewer.figures.values())
    darker = np.clip(real_b.astype(int) - 51, 0, 255).astype(np.uint8)
    cycle = evaluator.evaluate_translations(reconstructed_b=darker).figures
    assert list(cycle) == ["cycle_l1_b"]
    assert cycle["cycle_l1_b"] == pytest.approx(2 * np.mean(real_b - darker) / 255, rel=1e-5)
    assert fewer.protocol["num_real_a"] == 60 and fewer.protocol["feature_dim"] == 32


def test_floor_is_capped_at_num_samples_and_absent_without_held_out_images(evaluator, domains, classifier):
    capped = evaluator.protocol(7)["real_floor"]
    assert capped["num_samples"] == {"a_to_b": 7, "b_to_a": 7}
    assert capped["a_to_b_fid"] > evaluator.floor()["a_to_b_fid"]  # fewer samples, a more biased FID
    plain = metrics.TranslationEvaluator(classifier[0], *domains["val"])
    assert plain.floor() is None and plain.protocol()["real_floor"] is None
    assert plain.protocol()["network_key"] is None
    with pytest.raises(ValueError, match="held_out_a and held_out_b"):
        metrics.TranslationEvaluator(classifier[0], *domains["val"], held_out_a=domains["other"][0])


def test_both_evaluators_share_the_floor_and_protocol_signatures():
    for method in ("floor", "protocol"):
        gan, translation = (inspect.signature(getattr(cls, method))
                            for cls in (metrics.GANEvaluator, metrics.TranslationEvaluator))
        assert gan == translation, method
    for cls in (metrics.GANEvaluator, metrics.TranslationEvaluator):
        assert inspect.signature(cls.evaluate).return_annotation in (metrics.Evaluation, "Evaluation")


def test_mismatched_shapes_are_rejected(evaluator, domains, classifier):
    real_a, real_b = domains["val"]
    with pytest.raises(ValueError, match="keep the image size"):
        evaluator.evaluate_translations(fake_b=real_a[:, :16, :16])
    with pytest.raises(ValueError, match="one reconstruction per real image"):
        evaluator.evaluate_translations(reconstructed_a=real_a[:5])
    with pytest.raises(ValueError, match="size the classifier was trained on"):
        metrics.TranslationEvaluator(classifier[0], real_a[:, :16, :16], real_b[:, :16, :16])
    with pytest.raises(ValueError, match="returned 1 images for 25"):
        evaluator.evaluate(lambda images: images[:1], None)
