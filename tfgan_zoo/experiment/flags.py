"""A family's options as command-line flags: a flag per option that
:func:`tfgan_zoo.options.family_options` reads from the family's signatures,
with its default, help and range, and a flag per old spelling of it
(:data:`tfgan_zoo.glossary.ALIASES`): ``--disc-layers 2`` sets ``d_layers``,
CycleGAN's ``--filters 8`` both ``g_filters`` and ``d_filters``.
"""

from __future__ import annotations

import argparse

from tfgan_zoo import glossary
from tfgan_zoo.options import Option, Range, family_options, option_type


def ranged(annotation, allowed: Range | None = None):
    """An argparse ``type`` for ``annotation`` (``int``, ``float``, or a ranged alias
    such as :data:`tfgan_zoo.options.Count`), refusing values outside its range (or ``allowed``):
    argparse then reports ``argument --flag: must be >= 1, got 0.``"""
    kind, _, declared = option_type(annotation)
    allowed = allowed if allowed is not None else declared

    def convert(text: str):
        value = kind(text)  # ValueError: argparse says "invalid int value"
        if allowed is not None and value not in allowed:
            raise argparse.ArgumentTypeError(allowed.error(None, value))
        return value

    convert.__name__ = kind.__name__
    return convert


def add_family_arguments(
    parser: argparse.ArgumentParser, family: type, *, exclude=(), defaults: dict | None = None
) -> argparse._ArgumentGroup:
    """Adds a flag per option of ``family`` (``--g-filters``, ``--jitter/--no-jitter``, ...)
    in an argument group named after it, except those in ``exclude`` (set by
    the script from its data) and those the parser already has (``--seed``),
    and a flag per old spelling of those options (``--disc-layers``, see
    :mod:`tfgan_zoo.glossary`). ``defaults`` replace the family's defaults (a
    script's own recipe; old spellings are read as today's)."""
    defaults = glossary.canonical(family, defaults or {})
    group = parser.add_argument_group(f"{family.__name__} options")
    added = {}
    for option in family_options(family):
        if option.name in exclude or option.flag in parser._option_string_actions:
            continue
        added[option.name] = option
        default = defaults.get(option.name, option.default)
        help_text = option.help.replace("%", "%%") + (f" ({option.range})" if option.range else "")
        if option.kind is bool:
            group.add_argument(option.flag, dest=option.name, action=argparse.BooleanOptionalAction,
                               default=default, help=help_text)
        else:
            group.add_argument(option.flag, dest=option.name, type=ranged(option.kind, option.range),
                               choices=option.choices, default=default, help=help_text)
    _add_old_spellings(group, family, added)
    return group


class _OldSpelling(argparse.Action):
    """The flag of an old spelling: sets each of today's ``spellings`` (``--filters 8``
    sets ``g_filters`` and ``d_filters``), so that a later flag still wins."""

    def __init__(self, option_strings, dest, spellings=(), **kwargs):
        super().__init__(option_strings, dest, **kwargs)
        self.spellings = spellings

    def __call__(self, parser, namespace, values, option_string=None):
        for spelling in self.spellings:
            setattr(namespace, spelling, values)


class _OldBooleanSpelling(argparse.BooleanOptionalAction):
    """:class:`_OldSpelling` of a ``--name/--no-name`` option."""

    def __init__(self, option_strings, dest, spellings=(), **kwargs):
        super().__init__(option_strings, dest, **kwargs)
        self.spellings = spellings

    def __call__(self, parser, namespace, values, option_string=None):
        for spelling in self.spellings:
            setattr(namespace, spelling, not option_string.startswith("--no-"))


def _add_old_spellings(group: argparse._ArgumentGroup, family: type, added: dict[str, Option]):
    """A flag per old spelling of ``family``'s options (see :mod:`tfgan_zoo.glossary`)
    whose options this group has, unless the parser already has that flag."""
    for old, spellings in glossary.renames(family).items():
        flag = "--" + old.replace("_", "-")
        if not all(spelling in added for spelling in spellings) or flag in group._option_string_actions:
            continue
        option = added[spellings[0]]
        help_text = "old spelling of " + " and ".join(added[spelling].flag for spelling in spellings)
        if option.kind is bool:
            group.add_argument(flag, dest=old, action=_OldBooleanSpelling, spellings=spellings,
                               default=argparse.SUPPRESS, help=help_text)
        else:
            group.add_argument(flag, dest=old, action=_OldSpelling, spellings=spellings,
                               type=ranged(option.kind, option.range), choices=option.choices,
                               default=argparse.SUPPRESS, help=help_text)


def family_arguments(args: argparse.Namespace, family: type) -> tuple[dict, dict]:
    """``(constructor kwargs, compile kwargs)`` of ``family`` from parsed ``args``
    (options the parser does not have are left to their defaults)."""
    chosen = {"model": {}, "compile": {}}
    for option in family_options(family):
        if hasattr(args, option.name):
            chosen[option.stage][option.name] = getattr(args, option.name)
    return chosen["model"], chosen["compile"]
