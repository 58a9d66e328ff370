"""One spelling per concept: every family option and network argument is declared
in tfgan_zoo.glossary, old spellings are only aliases (of flags, constructors,
recorded configs), and the glossary's doc table is the module's."""

import argparse
import importlib
import inspect
import json
import pkgutil
import re
from pathlib import Path

import keras
import pytest
from conftest import script_parser

import tfgan_zoo
import tfgan_zoo.data
import tfgan_zoo.models
import tfgan_zoo.networks
from tfgan_zoo import glossary, ranges
from tfgan_zoo.models import CycleGAN, ImagePool, Pix2Pix
from tfgan_zoo.models.base import AdversarialModel
from tfgan_zoo.networks import DCGANDiscriminator, DCGANGenerator, PatchDiscriminator
from tfgan_zoo.experiment.flags import add_family_arguments, family_arguments
from tfgan_zoo.options import family_options

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "recorded_runs" / "cyclegan_2026-12-07"
# The fixture's command (tests/fixtures/recorded_runs/README.md), old spellings and all, and today's.
FIXTURE_FLAGS = ["--image-size", "32", "--num-blocks", "1", "--epochs", "1", "--steps-per-epoch", "2",
                 "--eval-every", "0", "--val-count", "2", "--precision", "float32"]
OLD_FLAGS = ["--filters", "4", "--disc-layers", "1"]
NEW_FLAGS = ["--g-filters", "4", "--d-filters", "4", "--d-layers", "1"]

FAMILIES = sorted(
    {cls for cls in vars(tfgan_zoo.models).values() if isinstance(cls, type) and issubclass(cls, AdversarialModel)},
    key=lambda cls: cls.__name__,
)


def _network_classes() -> list[type]:
    """Every keras.Model defined in a module of tfgan_zoo.networks, exported or not."""
    found = set()
    for module_info in pkgutil.iter_modules(tfgan_zoo.networks.__path__):
        module = importlib.import_module(f"tfgan_zoo.networks.{module_info.name}")
        found |= {cls for cls in vars(module).values()
                  if isinstance(cls, type) and issubclass(cls, keras.Model) and cls.__module__ == module.__name__}
    return sorted(found, key=lambda cls: cls.__name__)


NETWORKS = _network_classes()


def constructor_arguments(cls: type) -> set[str]:
    """The named arguments of ``cls``'s constructor and of its bases' but Keras'."""
    names = set()
    for base in cls.__mro__:
        if base.__module__.split(".")[0] not in ("keras", "builtins") and "__init__" in vars(base):
            parameters = list(inspect.signature(base.__init__).parameters.values())[1:]  # not self
            names |= {p.name for p in parameters if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    return names


def undeclared(names: set[str], cls: type, kind: str) -> list[str]:
    """Why each of ``names`` (of ``cls``, a ``kind``) breaks the glossary, if it does."""
    terms = {term.spelling: term for term in glossary.OPTIONS}
    old = {name for names in glossary.ALIASES.values() for name in names} - {
        term.spelling for term in glossary.OPTIONS if kind in term.used_by
    }
    problems = []
    for name in sorted(names):
        if name in glossary.renames(cls) or name in old:
            problems.append(f"{cls.__name__}.{name} is an old spelling (glossary.ALIASES); use today's")
        elif name not in terms:
            problems.append(f"{cls.__name__}.{name} is not in glossary.OPTIONS: declare it with its meaning, "
                            "or use the spelling the glossary has for its concept")
        elif kind not in terms[name].used_by:
            problems.append(f"{cls.__name__}.{name} is declared for {terms[name].used_by}, not a {kind}: "
                            f"see the glossary's prefix rules")
    return problems


# ------------------------------------------------------------ one spelling
def test_the_registry_sees_every_family_and_network():
    assert {CycleGAN, Pix2Pix, tfgan_zoo.DCGAN, tfgan_zoo.ConditionalGAN} <= set(FAMILIES)
    assert {DCGANGenerator, DCGANDiscriminator, PatchDiscriminator} <= set(NETWORKS)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda cls: cls.__name__)
def test_every_family_option_has_the_glossary_spelling(family):
    names = {option.name for option in family_options(family)} | constructor_arguments(family)
    assert not undeclared(names, family, glossary.FAMILY)


@pytest.mark.parametrize("network", NETWORKS, ids=lambda cls: cls.__name__)
def test_every_network_argument_has_the_glossary_spelling(network):
    assert not undeclared(constructor_arguments(network), network, glossary.NETWORK)


def test_the_check_refuses_old_and_undeclared_spellings():
    class OldStyle(AdversarialModel):
        def __init__(self, disc_layers: int = 3, max_filters: int = 64, colour_space: str = "rgb", **kwargs):
            super().__init__(**kwargs)

    problems = undeclared(constructor_arguments(OldStyle), OldStyle, glossary.FAMILY)
    assert [problem.split(" ")[0] for problem in problems] == [
        "OldStyle.colour_space", "OldStyle.disc_layers", "OldStyle.max_filters"
    ]
    assert "not in glossary.OPTIONS" in problems[0] and "old spelling" in problems[1]
    assert "not a family" in problems[2]  # a network's spelling on a family


def test_aliases_point_at_declared_spellings_of_known_classes():
    terms = {term.spelling for term in glossary.OPTIONS}
    owners = {cls.__name__ for cls in FAMILIES + NETWORKS}
    for owner, renamed in glossary.ALIASES.items():
        assert owner in owners, owner
        for old, spellings in renamed.items():
            assert set(spellings) <= terms and old not in spellings, (owner, old)
    assert len(terms) == len(glossary.OPTIONS)  # one entry per spelling


def test_canonical_rewrites_old_spellings_per_family():
    recorded = {"filters": 4, "disc_layers": 1, "image_size": 32}
    assert glossary.canonical("CycleGAN", recorded) == {"g_filters": 4, "d_filters": 4, "d_layers": 1,
                                                        "image_size": 32}
    # filters is today's spelling for a network, and means nothing old for Pix2Pix.
    assert glossary.canonical("PatchDiscriminator", {"filters": 4}) == {"filters": 4}
    assert glossary.canonical("Pix2Pix", recorded) == recorded
    assert glossary.canonical(CycleGAN, {"disc_layers": 2}) == {"d_layers": 2}
    with pytest.raises(ValueError, match="'filters' .* and g_filters"):
        glossary.canonical("CycleGAN", {"filters": 4, "g_filters": 8})


def test_ranges_name_the_model_range_and_keep_the_old_name():
    assert ranges.to_unit_range is ranges.uint8_to_model_range
    assert tfgan_zoo.data.to_unit_range is tfgan_zoo.data.uint8_to_model_range
    assert [float(value) for value in ranges.uint8_to_model_range([0, 255])] == [-1.0, 1.0]


# -------------------------------------------------------------------- flags
def cyclegan_parser(**kwargs) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_family_arguments(parser, CycleGAN, **kwargs)
    return parser


def test_old_flags_set_the_new_options():
    parser = cyclegan_parser()
    old = family_arguments(parser.parse_args(["--disc-layers", "2", "--filters", "8"]), CycleGAN)
    new = family_arguments(parser.parse_args(["--d-layers", "2", "--g-filters", "8", "--d-filters", "8"]), CycleGAN)
    assert old == new and old[0]["d_layers"] == 2 and (old[0]["g_filters"], old[0]["d_filters"]) == (8, 8)
    # Flags apply in order: a later one wins.
    mixed, _ = family_arguments(parser.parse_args(["--filters", "8", "--d-filters", "2"]), CycleGAN)
    assert (mixed["g_filters"], mixed["d_filters"]) == (8, 2)
    assert not hasattr(parser.parse_args([]), "filters")


def test_old_flags_keep_the_new_options_checks_and_say_what_they_are(capsys):
    parser = cyclegan_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["--disc-layers", "0"])
    assert "argument --disc-layers: must be >= 1, got 0." in capsys.readouterr().err
    assert re.search(r"--filters FILTERS\s+old spelling of --g-filters and --d-filters", parser.format_help())
    # An alias of an option the script sets itself (excluded) is no flag either.
    assert "--disc-layers" not in cyclegan_parser(exclude=("d_layers",))._option_string_actions
    # A script's defaults may use the old spelling.
    args = cyclegan_parser(defaults={"filters": 16}).parse_args([])
    assert (args.g_filters, args.d_filters) == (16, 16)


def test_old_spelling_of_a_boolean_option(monkeypatch):
    monkeypatch.setitem(glossary.ALIASES, "Pix2Pix", {"random_jitter": ("jitter",)})
    parser = argparse.ArgumentParser()
    add_family_arguments(parser, Pix2Pix)
    assert family_arguments(parser.parse_args(["--no-random-jitter"]), Pix2Pix)[0]["jitter"] is False
    assert family_arguments(parser.parse_args(["--no-jitter", "--random-jitter"]), Pix2Pix)[0]["jitter"] is True


# ----------------------------------------------------------- recorded runs
def test_a_run_recorded_with_old_spellings_matches_todays_record():
    recorded = json.loads((FIXTURE / "config.json").read_text())
    for spellings in (OLD_FLAGS, NEW_FLAGS):
        args = script_parser("cyclegan_horse2zebra").parse_args(FIXTURE_FLAGS + spellings)
        model_options, compile_options = family_arguments(args, CycleGAN)
        model = CycleGAN(**model_options, channels=3)
        # What a run records as model_config: the family's config but its name.
        today = {key: value for key, value in model.get_config().items() if key != "name"}
        assert glossary.canonical(recorded["model"], recorded["model_config"]) == json.loads(json.dumps(today))
        # freeze_d_layers came after the fixture: at its default (0) no run records it.
        assert compile_options == {"loss": recorded["compile_config"]["loss"], "freeze_d_layers": 0}
        run = glossary.canonical(recorded["model"], recorded["run"])
        assert {name: run[name] for name in model_options} == model_options


# ------------------------------------------------------------ saved models
def old_config(model, renames: dict) -> dict:
    """``model``'s config as it was saved before ``renames`` ({today's: old})."""
    config = dict(model.get_config())
    for today, old in renames.items():
        config[old] = config.pop(today)
    return config


def test_configs_saved_with_old_spellings_load():
    cyclegan = CycleGAN(image_size=16, g_filters=4, d_filters=4, num_blocks=1, d_layers=1)
    config = old_config(cyclegan, {"g_filters": "filters", "d_layers": "disc_layers"})
    del config["d_filters"]
    revived = CycleGAN.from_config(config)
    assert revived.get_config() == cyclegan.get_config()
    assert revived.discriminator_a.filters == 4 and revived.discriminator_a.num_layers == 1
    networks = [
        (DCGANGenerator(8, (16, 16, 1), filters=4), {"filters": "base_filters"}),
        (DCGANDiscriminator((16, 16, 1), filters=4), {"filters": "base_filters"}),
        (PatchDiscriminator(16, 0, output_channels=1, filters=2, num_layers=1), {"output_channels": "target_channels"}),
    ]
    for network, renames in networks:
        serialized = keras.saving.serialize_keras_object(network)
        serialized["config"] = old_config(network, renames)
        assert keras.saving.deserialize_keras_object(serialized).get_config() == network.get_config()


def test_old_keywords_still_build_and_keep_todays_signature():
    assert CycleGAN(image_size=16, filters=4, disc_layers=1, num_blocks=1, name="gan").get_config() == \
        CycleGAN(image_size=16, g_filters=4, d_filters=4, d_layers=1, num_blocks=1, name="gan").get_config()
    assert "filters" not in inspect.signature(CycleGAN.__init__).parameters
    assert "g_filters" in inspect.getfullargspec(CycleGAN.__init__).args  # what Keras reads


def test_image_pool_lives_in_layers_and_its_saved_name_still_loads():
    assert ImagePool is tfgan_zoo.layers.ImagePool
    pool = ImagePool(3, (2, 2, 1))
    serialized = keras.saving.serialize_keras_object(pool)
    serialized["module"] = "tfgan_zoo.models.cyclegan"  # where .keras files saved before the move say it is
    revived = keras.saving.deserialize_keras_object(serialized)
    assert isinstance(revived, ImagePool) and revived.get_config() == pool.get_config()


# --------------------------------------------------------------------- docs
def test_the_docs_glossary_is_the_module_table():
    doc = (REPO / "docs" / "adding_a_family.md").read_text()
    assert glossary.markdown_table() in doc, (
        "docs/adding_a_family.md's Glossary section differs from tfgan_zoo.glossary; paste the output of "
        "python -c 'from tfgan_zoo import glossary; print(glossary.markdown_table())'"
    )
