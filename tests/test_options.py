"""Options come from the families' signatures: every option of every family is a
documented flag of its experiments, and a run's identity is the family's own
config plus its compile config and the data options."""

import argparse
import json

import pytest
from conftest import REPO, script_parser
from families import FAMILIES

import tfgan_zoo
from tfgan_zoo import experiment
from tfgan_zoo.experiment.flags import add_family_arguments, family_arguments
from tfgan_zoo.options import family_options
from tfgan_zoo.runs import admit, run_config

SCRIPTS = sorted(path.stem for path in (REPO / "experiments").glob("*.py"))


@pytest.mark.parametrize("name", FAMILIES)
def test_every_option_is_documented_and_typed(name):
    family = type(FAMILIES[name].build())
    options = {option.name: option for option in family_options(family)}
    assert all(option.help for option in options.values()), [n for n, o in options.items() if not o.help]
    assert {"seed", "loss"} <= set(options)
    for option in options.values():
        assert option.default is None or isinstance(option.default, option.kind), option.name
        assert option.choices is None or option.default in option.choices, option.name
        assert option.range is None or option.default is None or option.default in option.range, option.name
    # Every number a family takes has a range the command line checks.
    assert all(option.range for option in options.values() if option.kind in (int, float)), \
        [name for name, option in options.items() if option.kind in (int, float) and option.range is None]


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
    assert compile_options == {"loss": "bce", "d_every": 2, "simultaneous": False, "freeze_d_layers": 0}
    with pytest.raises(SystemExit):
        parser.parse_args(["--norm", "group"])


@pytest.mark.parametrize("script", SCRIPTS)
def test_each_experiment_reaches_every_option_of_its_family(script):
    parser = script_parser(script)
    for option in family_options(parser.family):
        assert option.name in parser.excluded or option.flag in parser._option_string_actions, \
            f"{script} lacks {option.flag}"


def test_the_run_identity_covers_every_option_and_refuses_changes(tmp_path):
    parser = experiment.family_parser("", tfgan_zoo.Pix2Pix, image_size=16)
    experiment.data_arguments(parser).add_argument("--direction", default="BtoA")

    def config(*flags):
        spec = parser.parse_spec(["--g-filters", "4", "--d-filters", "4", "--d-layers", "1", *flags])
        return spec, run_config(experiment.build(tfgan_zoo.Pix2Pix, spec), spec)

    def check(*flags):
        spec, recorded = config(*flags)
        return admit(tmp_path, recorded, force=spec.run.force_resume)

    check()
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["model"] == "Pix2Pix" and saved["data"] == {"batch_size": 64, "direction": "BtoA"}
    assert saved["model_config"]["l1_weight"] == 100.0 and saved["compile_config"]["d_every"] == 1
    check("--epochs", "9", "--eval-every", "3")  # not identity
    # The options the hand-kept key list used to miss, and the data options.
    for flags, changed in [(("--l1-weight", "10"), "model_config.l1_weight"),
                           (("--jitter-resize", "nearest"), "model_config.jitter_resize"),
                           (("--d-every", "2"), "compile_config.d_every"),
                           (("--simultaneous",), "compile_config.simultaneous"),
                           (("--lr", "1e-3"), "compile_config.g_optimizer.config.learning_rate"),
                           (("--direction", "AtoB"), "data.direction"),
                           (("--batch-size", "4"), "data.batch_size")]:
        with pytest.raises(SystemExit, match=rf"other settings (?s:.*)\n  {changed}: "):
            check(*flags)


def test_a_range_declared_in_the_signature_is_checked_by_the_command_line(capsys):
    from typing import Annotated

    from tfgan_zoo.options import Range

    class Family:
        """Args:
            blocks: residual blocks.
            rate: a rate.
            g_filters: width, with no range.
        """

        def __init__(self, blocks: Annotated[int, Range(2, 8)] = 4, rate: Annotated[float, Range(0, 1)] | None = None,
                     g_filters: int = 8):
            pass

    options = {option.name: option for option in family_options(Family)}
    assert options["blocks"].range == Range(2, 8) and options["rate"].kind is float
    assert options["rate"].range == Range(0, 1) and options["g_filters"].range is None
    assert 8 in options["blocks"].range and 9 not in options["blocks"].range and float("inf") not in Range(0)
    parser = argparse.ArgumentParser()
    add_family_arguments(parser, Family)
    assert parser.parse_args(["--blocks", "2", "--rate", "1"]).blocks == 2
    with pytest.raises(SystemExit):
        parser.parse_args(["--blocks", "9"])
    assert "argument --blocks: must be in [2, 8], got 9." in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"blocks must be in \[2, 8\], got 1\."):
        options["blocks"].range.check("blocks", 1)
