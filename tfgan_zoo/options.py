"""A family's options, read from where they are declared once: the typed
arguments of its constructor and of its ``compile``, documented in their
docstrings' ``Args:`` sections.

An argument is an option when its annotation is ``int``, ``float``, ``str``,
``bool``, a ``Literal`` of choices, or one of these or None; anything else
(``image_shape``, optimizers, loss objects) is given in code. The experiments
build their command lines from :func:`family_options`
(:mod:`tfgan_zoo.experiment.flags`), so a new constructor argument is a new
flag, with its default and help.

A numeric option's allowed values are a :class:`Range`, declared with its
annotation (``g_filters: Count = 64``, ``Count`` being ``Annotated[int,
Range(1)]``); a value outside it is an argparse error naming the flag and the
range, before anything is loaded. The same declaration is the check in code:
every family's ``__init__`` and ``compile`` refuse a value outside an
argument's declared range (:func:`checks_declared_ranges`, which
:class:`~tfgan_zoo.models.base.AdversarialModel` applies to each family), so
help, command line and Python calls cannot disagree.

This module knows nothing of command lines (it imports no argparse): the
models import its range types.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
import re
import types
import typing
from numbers import Real
from typing import Annotated, Any, Literal


_SIMPLE_TYPES = (bool, int, float, str)


@dataclasses.dataclass(frozen=True)
class Range:
    """The values a numeric option may take: ``Range(1)`` is >= 1, ``Range(0, 1,
    high_open=True)`` is [0, 1), ``Range(0, low_open=True)`` is > 0. ``hint`` is
    added to the error (what to do instead)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    hint: str = dataclasses.field(default="", compare=False)

    def __contains__(self, value) -> bool:
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def __str__(self) -> str:
        if self.low is not None and self.high is not None:
            return f"in {'(' if self.low_open else '['}{self.low}, {self.high}{')' if self.high_open else ']'}"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {self.low}"
        if self.high is not None:
            return f"{'<' if self.high_open else '<='} {self.high}"
        return "any number"

    def error(self, name: str | None, value) -> str:
        """The message for ``value`` outside the range, naming the argument ``name`` if given."""
        return f"{name + ' ' if name else ''}must be {self}, got {value}." + (f" {self.hint}" if self.hint else "")

    def check(self, name: str, value):
        """``value`` if it is in the range (None passes: "not given"), else a ValueError."""
        if value is not None and value not in self:
            raise ValueError(self.error(name, value))
        return value


# The ranges the families' signatures declare (``latent_dim: Count = 100``).
Count = Annotated[int, Range(1)]
NonNegativeInt = Annotated[int, Range(0)]
NonNegative = Annotated[float, Range(0)]
Positive = Annotated[float, Range(0, low_open=True)]
Fraction = Annotated[float, Range(0, 1, high_open=True)]
Classes = Annotated[int, Range(2, hint="Use DCGAN for no labels.")]
# numpy's seeds are unsigned 32-bit.
Seed = Annotated[int, Range(0, 2**32 - 1)]


@dataclasses.dataclass(frozen=True)
class Option:
    """One option: ``stage`` is ``"model"`` (a constructor argument) or ``"compile"``."""

    name: str
    stage: str
    kind: type
    default: Any
    choices: tuple | None
    help: str
    range: Range | None = None

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
        hints = typing.get_type_hints(function, include_extras=True)
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


def option_type(annotation) -> tuple[type, tuple | None, Range | None] | None:
    """``(kind, choices, range)`` of an annotation a command line can give, else None."""
    if annotation in _SIMPLE_TYPES:
        return annotation, None, None
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        found = option_type(annotation.__origin__)
        declared = [item for item in annotation.__metadata__ if isinstance(item, Range)]
        return None if found is None else (found[0], found[1], declared[0] if declared else found[2])
    if origin is Literal:
        choices = typing.get_args(annotation)
        return type(choices[0]), choices, None
    if origin in (typing.Union, types.UnionType):
        # int | None, or a Literal of names beside an object (loss names | GANLoss): the simple part.
        simple = [option_type(arg) for arg in typing.get_args(annotation) if arg is not type(None)]
        simple = [found for found in simple if found is not None]
        return simple[0] if simple else None
    return None


def declared_range(annotation) -> Range | None:
    """The :class:`Range` an annotation declares (``Count``, ``Count | None``), else None."""
    found = option_type(annotation)
    return None if found is None else found[2]


def checks_declared_ranges(function):
    """``function`` (an ``__init__`` or ``compile``) refusing, before it runs, any
    number outside the :class:`Range` its argument's annotation declares, with
    :meth:`Range.error`'s message (a ValueError). Non-numbers (None, a loss
    object) are left to the function. The signature stays the function's own,
    for Keras' auto-config and for :func:`family_options`."""
    signature = inspect.signature(function)

    @functools.cache
    def ranges() -> dict[str, Range]:
        # Annotations are read at the first call: names they use may be defined after the class.
        hints = typing.get_type_hints(function, include_extras=True)
        declared = {name: declared_range(hints.get(name)) for name in signature.parameters}
        return {name: allowed for name, allowed in declared.items() if allowed is not None}

    @functools.wraps(function)
    def checked(*args, **kwargs):
        arguments = signature.bind_partial(*args, **kwargs).arguments
        for name, allowed in ranges().items():
            value = arguments.get(name)
            if isinstance(value, Real) and not isinstance(value, bool):
                allowed.check(name, value)
        return function(*args, **kwargs)

    checked.__signature__ = signature
    return checked


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
            kind = option_type(annotation)
            if kind is None or parameter.default is inspect.Parameter.empty:
                continue
            text = docs.get(parameter.name, "")
            allowed = kind[2]
            if kind[0] not in (int, float) or kind[1] is not None:
                allowed = None
            options.append(Option(parameter.name, stage, kind[0], parameter.default, kind[1], text, allowed))
    return options
