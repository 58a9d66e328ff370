"""studies/pix2pix_vs_tutorial: the ablations as settings, how they feed ours, and that
ours with all the tutorial's choices has the tutorial's networks."""

import argparse

import numpy as np
import pytest

from conftest import write_image

STUDY = "pix2pix_vs_tutorial"


@pytest.fixture(scope="module")
def ablations(study_module):
    return study_module(STUDY, "ablations")


@pytest.fixture(scope="module")
def bench(study_module):
    return study_module(STUDY, "pix2pix_vs_reference")


def test_ablations_merge_into_settings(ablations):
    settings = ablations.resolve(["leaky_relu_0.3", "tf_jpeg_decoding"], file_order="sorted")
    assert settings == {"leaky_slope": 0.3, "decode": "tf", "file_order": "sorted"}
    assert ablations.split(settings) == ({"leaky_slope": 0.3}, {"decode": "tf", "file_order": "sorted"})
    # A flag at its default changes nothing, so the run records no settings.
    assert ablations.resolve([], decode="opencv", file_order=None) == {}
    assert ablations.split({}) == ({}, ablations.DATA_DEFAULTS)
    # Overlapping ablations agree where they overlap.
    assert ablations.resolve(["bn_epsilon_1e-3", "all_tutorial_choices"]) == ablations.ABLATIONS["all_tutorial_choices"]


def test_contradicting_settings_are_refused(ablations):
    with pytest.raises(ValueError, match="ablation tf_jpeg_decoding sets decode='tf' but --decode sets decode='opencv'"):
        ablations.resolve(["tf_jpeg_decoding"], decode="opencv")
    with pytest.raises(argparse.ArgumentTypeError, match="unknown ablation leaky; choose from leaky_relu_0.3"):
        ablations.names("leaky,unhalved_d_loss")
    assert ablations.names("leaky_relu_0.3,unhalved_d_loss") == ["leaky_relu_0.3", "unhalved_d_loss"]


def test_every_model_setting_is_a_pix2pix_option(ablations):
    import tfgan_zoo

    for name in ablations.ABLATIONS:
        model_options, _ = ablations.split(ablations.resolve([name]))
        config = tfgan_zoo.Pix2Pix(32, g_filters=4, d_filters=4, d_layers=2, **model_options).get_config()
        assert {key: config[key] for key in model_options} == model_options, name


def test_training_pairs_by_decoder_and_file_order(bench, tmp_path):
    # 10.jpg comes after 2.jpg in natural order, before it in sorted order.
    for name, value in (("2", 40), ("10", 200)):
        image = np.zeros((256, 512, 3), np.uint8)  # facades' size, which the bench trains at
        image[:, :256] = value  # photo: the target
        image[:, 256:] = 255 - value  # label map: the input
        write_image(tmp_path / f"{name}.jpg", image)
    reference = bench._reference_module()
    pairs = {}
    for decode in ("opencv", "tf"):
        for order in ("natural", "sorted"):
            pairs[decode, order] = bench.load_training_pairs(reference, tmp_path, decode, order)
    photos = {"natural": np.array([40, 200]), "sorted": np.array([200, 40])}
    for (decode, order), (inputs, targets) in pairs.items():
        assert inputs.dtype == targets.dtype == np.uint8 and inputs.shape == (2, 256, 256, 3)
        np.testing.assert_allclose(targets.mean(axis=(1, 2, 3)), photos[order], atol=2)
        np.testing.assert_allclose(inputs.mean(axis=(1, 2, 3)), 255 - photos[order], atol=2)


def test_all_tutorial_choices_give_the_tutorials_networks(study_module, ablations):
    """The claim of the study's equivalence check, at its full size (256 px)."""
    equivalence = study_module(STUDY, "pix2pix_tutorial_equivalence")
    model_options, _ = ablations.split(ablations.resolve(["all_tutorial_choices"]))
    report = equivalence.compare_networks(np.random.default_rng(0), model_options)
    for network in ("generator", "discriminator"):
        assert report[network]["same_weight_shapes"], report[network]
        assert report[network]["max_output_difference_training_True"] == 0.0
        assert report[network]["max_output_difference_training_False"] == 0.0
