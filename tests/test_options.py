"""Options come from the families' signatures: every option of every family is a
documented flag of its experiments, and a run's identity is the family's own
config plus its compile config and the data options."""

import argparse
import json

import pytest
from conftest import REPO, load_script

import tfgan_zoo
from tfgan_zoo import experiment
from tfgan_zoo.options import add_family_arguments, family_arguments, family_options

FAMILIES = (tfgan_zoo.DCGAN, tfgan_zoo.ConditionalGAN, tfgan_zoo.Pix2Pix, tfgan_zoo.CycleGAN)
SCRIPTS = {"cgan_mnist": tfgan_zoo.ConditionalGAN, "dcgan_mnist": tfgan_zoo.DCGAN, "dcgan_folder": tfgan_zoo.DCGAN,
           "cgan_anime": tfgan_zoo.ConditionalGAN, "pix2pix_facades": tfgan_zoo.Pix2Pix,
           "pix2pix_lineart": tfgan_zoo.Pix2Pix, "cyclegan_horse2zebra": tfgan_zoo.CycleGAN}


@pytest.mark.parametrize("family", FAMILIES, ids=lambda family: family.__name__)
def test_every_option_is_documented_and_typed(family):
    options = {option.name: option for option in family_options(family)}
    assert all(option.help for option in options.values()), [n for n, o in options.items() if not o.help]
    assert {"seed", "loss"} <= set(options)
    for option in options.values():
        assert option.default is None or isinstance(option.default, option.kind), option.name
        assert option.choices is None or option.default in option.choices, option.name


def test_choices_come_from_literal_annotations():
    options = {option.name: option for option in family_options(tfgan_zoo.DCGAN)}
    assert options["loss"].choices == ("bce", "lsgan", "hinge", "wgan-gp")
    assert options["d_norm"].choices == ("batch", "layer", "none")
    assert options["loss"].stage == "compile" and options["d_norm"].stage == "model"
    translation = {option.name: option for option in family_options(tfgan_zoo.Pix2Pix)}
    assert translation["loss"].choices == ("bce", "lsgan", "hinge")  # no gradient penalty
    assert translation["g_depth"].kind is int and translation["g_depth"].default is None


def test_flags_parse_back_into_constructor_and_compile_arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    add_family_arguments(parser, tfgan_zoo.Pix2Pix, exclude=("input_channels",), defaults={"image_size": 64})
    args = parser.parse_args(["--norm", "none", "--no-jitter", "--d-every", "2", "--seed", "3", "--leaky-slope", "0.3"])
    model_options, compile_options = family_arguments(args, tfgan_zoo.Pix2Pix)
    assert model_options["norm"] == "none" and model_options["jitter"] is False and model_options["image_size"] == 64
    assert model_options["seed"] == 3 and model_options["leaky_slope"] == 0.3
    assert "input_channels" not in model_options
    assert compile_options == {"loss": "bce", "d_every": 2, "simultaneous": False}
    with pytest.raises(SystemExit):
        parser.parse_args(["--norm", "group"])


@pytest.mark.parametrize("script", SCRIPTS)
def test_each_experiment_reaches_every_option_of_its_family(script):
    module = load_script(REPO / "experiments" / f"{script}.py")
    family = SCRIPTS[script]
    captured = {}

    def capture(description, family_class, **kwargs):
        captured["parser"] = real(description, family_class, **kwargs)
        captured["exclude"] = kwargs.get("exclude", ())
        raise StopIteration

    real = experiment.family_parser
    experiment.family_parser = capture
    try:
        with pytest.raises(StopIteration):
            module.main()
    finally:
        experiment.family_parser = real
    flags = captured["parser"]._option_string_actions
    for option in family_options(family):
        assert option.name in captured["exclude"] or option.flag in flags, f"{script} lacks {option.flag}"


def test_the_run_identity_covers_every_option_and_refuses_changes(tmp_path):
    parser = experiment.family_parser("", tfgan_zoo.Pix2Pix, image_size=16)
    experiment.data_arguments(parser).add_argument("--direction", default="BtoA")

    def config(*flags):
        args = parser.parse_args(["--g-filters", "4", "--d-filters", "4", "--d-layers", "1", *flags])
        model = experiment.build(tfgan_zoo.Pix2Pix, args)
        data = {action.dest: getattr(args, action.dest) for action in experiment.data_arguments(parser)._group_actions}
        return experiment.run_config(model, args, data)

    experiment._check_resume_config(tmp_path, config())
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["model"] == "Pix2Pix" and saved["data"] == {"batch_size": 64, "direction": "BtoA"}
    assert saved["model_config"]["l1_weight"] == 100.0 and saved["compile_config"]["d_every"] == 1
    experiment._check_resume_config(tmp_path, config("--epochs", "9", "--eval-every", "3"))  # not identity
    # The options the hand-kept key list used to miss, and the data options.
    for flags, changed in [(("--l1-weight", "10"), "model_config.l1_weight"),
                           (("--jitter-resize", "nearest"), "model_config.jitter_resize"),
                           (("--d-every", "2"), "compile_config.d_every"),
                           (("--simultaneous",), "compile_config.simultaneous"),
                           (("--lr", "1e-3"), "compile_config.g_optimizer.config.learning_rate"),
                           (("--direction", "AtoB"), "data.direction"),
                           (("--batch-size", "4"), "data.batch_size")]:
        with pytest.raises(SystemExit, match=rf"other settings \(.*{changed}"):
            experiment._check_resume_config(tmp_path, config(*flags))
