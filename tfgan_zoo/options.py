"""A family's options, read from where they are declared once: the typed
arguments of its constructor and of its ``compile``, documented in their
docstrings' ``Args:`` sections.

An argument is an option when its annotation is ``int``, ``float``, ``str``,
``bool``, a ``Literal`` of choices, or one of these or None; anything else
(``image_shape``, optimizers, loss objects) is given in code. The experiments
build their command lines from :func:`add_family_arguments`, so a new
constructor argument is a new flag, with its default and help, and
:func:`family_arguments` reads the parsed values back.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
import types
import typing
from typing import Any, Literal

_SIMPLE_TYPES = (bool, int, float, str)


@dataclasses.dataclass(frozen=True)
class Option:
    """One option: ``stage`` is ``"model"`` (a constructor argument) or ``"compile"``."""

    name: str
    stage: str
    kind: type
    default: Any
    choices: tuple | None
    help: str

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _own_parameters(family: type, method: str) -> tuple[list[tuple[inspect.Parameter, Any]], dict[str, str]]:
    """``([(parameter, annotation)], {name: help})`` of ``method`` along ``family``'s
    MRO, following ``**kwargs`` up to the first definition that has none; the
    most derived declaration (and description) of a name wins."""
    found, seen, docs = [], set(), {}
    for cls in family.__mro__:
        function = cls.__dict__.get(method)
        if function is None:
            continue
        hints = typing.get_type_hints(function)
        for name, text in _argument_docs(inspect.getdoc(cls if method == "__init__" else function) or "").items():
            docs.setdefault(name, text)
        parameters = list(inspect.signature(function).parameters.values())[1:]
        for parameter in parameters:
            if parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL) or parameter.name in seen:
                continue
            seen.add(parameter.name)
            found.append((parameter, hints.get(parameter.name)))
        if not any(parameter.kind is parameter.VAR_KEYWORD for parameter in parameters):
            break
    return found, docs


def _option_type(annotation) -> tuple[type, tuple | None] | None:
    """``(kind, choices)`` of an annotation a command line can give, else None."""
    if annotation in _SIMPLE_TYPES:
        return annotation, None
    origin = typing.get_origin(annotation)
    if origin is Literal:
        choices = typing.get_args(annotation)
        return type(choices[0]), choices
    if origin in (typing.Union, types.UnionType):
        # int | None, or a Literal of names beside an object (loss names | GANLoss): the simple part.
        simple = [_option_type(arg) for arg in typing.get_args(annotation) if arg is not type(None)]
        simple = [found for found in simple if found is not None]
        return simple[0] if simple else None
    return None


def _argument_docs(doc: str) -> dict[str, str]:
    """``{name: text}`` from a Google-style ``Args:`` section; an entry may name
    several arguments (``g_filters, d_filters: ...``)."""
    lines = doc.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Args:")
    except StopIteration:
        return {}
    section_indent = len(lines[start]) - len(lines[start].lstrip())
    entries, names, entry_indent = {}, None, None
    for line in lines[start + 1 :]:
        indent = len(line) - len(line.lstrip())
        if line.strip() and indent <= section_indent:
            break
        if not line.strip():
            continue
        entry_indent = entry_indent if entry_indent is not None else indent
        match = re.match(r"([\w, *]+):\s*(.*)", line.strip())
        if indent == entry_indent and match:
            names = [name.strip() for name in match.group(1).split(",")]
            for name in names:
                entries[name] = match.group(2)
        elif names:
            for name in names:
                entries[name] += " " + line.strip()
    return {name: re.sub(r"``|:class:`~?|:func:`~?|`", "", text).strip() for name, text in entries.items()}


def family_options(family: type) -> list[Option]:
    """The options of ``family``: its constructor's, then its ``compile``'s."""
    options = []
    for stage, method in (("model", "__init__"), ("compile", "compile")):
        parameters, docs = _own_parameters(family, method)
        for parameter, annotation in parameters:
            kind = _option_type(annotation)
            if kind is None or parameter.default is inspect.Parameter.empty:
                continue
            text = docs.get(parameter.name, "")
            options.append(Option(parameter.name, stage, kind[0], parameter.default, kind[1], text))
    return options


def add_family_arguments(
    parser: argparse.ArgumentParser, family: type, *, exclude=(), defaults: dict | None = None
) -> argparse._ArgumentGroup:
    """Adds a flag per option of ``family`` (``--g-filters``, ``--jitter/--no-jitter``, ...)
    in an argument group named after it, except those in ``exclude`` (set by
    the script from its data) and those the parser already has (``--seed``).
    ``defaults`` replace the family's defaults (a script's own recipe)."""
    defaults = defaults or {}
    group = parser.add_argument_group(f"{family.__name__} options")
    for option in family_options(family):
        if option.name in exclude or f"--{option.name.replace('_', '-')}" in parser._option_string_actions:
            continue
        default = defaults.get(option.name, option.default)
        help_text = option.help.replace("%", "%%")
        if option.kind is bool:
            group.add_argument(option.flag, dest=option.name, action=argparse.BooleanOptionalAction,
                               default=default, help=help_text)
        else:
            group.add_argument(option.flag, dest=option.name, type=option.kind, choices=option.choices,
                               default=default, help=help_text)
    return group


def family_arguments(args: argparse.Namespace, family: type) -> tuple[dict, dict]:
    """``(constructor kwargs, compile kwargs)`` of ``family`` from parsed ``args``
    (options the parser does not have are left to their defaults)."""
    chosen = {"model": {}, "compile": {}}
    for option in family_options(family):
        if hasattr(args, option.name):
            chosen[option.stage][option.name] = getattr(args, option.name)
    return chosen["model"], chosen["compile"]
