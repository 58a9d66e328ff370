"""argparse types of the package's commands (``tfgan_zoo.tflite``, ``.demo``,
``.data.shards``): a wrong value is a usage error (exit status 2) naming the
option, found before anything loads. The experiments' flags come from their
families' signatures instead (:mod:`tfgan_zoo.experiment.flags`).
"""

from __future__ import annotations

import argparse

HIGHEST_PORT = 65535


def positive_int(text: str) -> int:
    """A whole number of 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def port_number(text: str) -> int:
    """A TCP port, 1 to 65535."""
    port = positive_int(text)
    if port > HIGHEST_PORT:
        raise argparse.ArgumentTypeError(f"a port is 1 to {HIGHEST_PORT}, got {port}")
    return port
