"""Why loading a dataset through ``tensorflow_datasets`` failed, in words a user can act on.

``tfds.load`` fails the same way (a long traceback, often deep in a download thread)
whether the machine is offline, a package that tfds imports late is missing, or
something else broke; :func:`tfds_load_error` tells these apart.
"""

from __future__ import annotations

import socket
import urllib.error
from collections.abc import Iterator

from tfgan_zoo.data.idx import DataNotFoundError


class MissingPackageError(ModuleNotFoundError):
    """A package that ``tensorflow_datasets`` needs is missing or cannot be imported."""


def _cause_chain(error: BaseException) -> Iterator[BaseException]:
    """``error``, then what it was raised from or during, down to the root cause."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        # As Python's tracebacks do: an explicit cause (`raise ... from`) hides the context.
        suppressed = error.__cause__ is not None or error.__suppress_context__
        error = error.__cause__ if suppressed else error.__context__


def _is_network_error(error: BaseException) -> bool:
    import requests  # a tensorflow_datasets dependency: its HTTP downloads go through it

    network_types = (
        ConnectionError,
        TimeoutError,
        socket.gaierror,
        socket.herror,
        urllib.error.URLError,
        # requests wraps every connection failure, also those matching none of the above
        # (e.g. OSError ENETUNREACH).
        requests.exceptions.ConnectionError,
        requests.exceptions.Timeout,
    )
    # tfds reports a bad HTTP status as tfds.download.DownloadError; matching the name
    # keeps tensorflow_datasets internals out of error reporting.
    return isinstance(error, network_types) or type(error).__name__ == "DownloadError"


def tfds_load_error(error: Exception, dataset: str, local_copy: str) -> Exception:
    """The exception to raise, ``from error``, when loading ``dataset`` through tfds failed.

    Args:
        error: what ``import tensorflow_datasets`` or ``tfds.load`` raised.
        dataset: the dataset as the message names it, e.g. ``"mnist"``.
        local_copy: one or more sentences saying how to use local files instead.

    Returns:
        - :class:`MissingPackageError` naming the package and its ``pip install``
          when an import failed anywhere in ``error``'s cause chain;
        - :class:`DataNotFoundError` when the download failed (no network, name
          resolution, time-outs, HTTP errors);
        - ``RuntimeError`` showing ``error``'s type and message otherwise.
    """
    chain = list(_cause_chain(error))
    cause = f"{type(error).__name__}: {error}"
    for link in chain:
        # An ImportError without a name (raised by hand) cannot say what to install.
        if isinstance(link, ImportError) and link.name:
            package = link.name.partition(".")[0]
            missing = isinstance(link, ModuleNotFoundError)
            return MissingPackageError(
                f"Loading {dataset} through tensorflow_datasets needs the Python package "
                f"'{package}', which {'is not installed' if missing else 'cannot be imported'} "
                f"({type(link).__name__}: {link}). Install it with "
                f"`pip install {'' if missing else '--upgrade '}{package}`, or use local files "
                f"instead of tensorflow_datasets. {local_copy}",
                name=package,
            )
    if any(_is_network_error(link) for link in chain):
        return DataNotFoundError(
            f"Could not download {dataset} through tensorflow_datasets ({cause}). Offline, or is the "
            f"server unreachable? {local_copy}"
        )
    return RuntimeError(f"Loading {dataset} through tensorflow_datasets failed ({cause}). {local_copy}")
