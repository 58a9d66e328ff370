"""One way for every command of the package to end: its work done, or one message.

``python -m tfgan_zoo.report``, ``.demo``, ``.tflite`` and ``.data.shards``
wrap their ``main`` in :func:`command_main`, and so do the experiment scripts
(through ``tfgan_zoo.experiment.main``). A failure then ends the process
with one line that names the file or option and the fix, and exit status 1
(argparse's usage errors keep their status 2), never a traceback:

* an OS error on a path: missing, a dangling link, a folder where a file is
  expected, no permission, HOME not writable, a full or read-only disk;
* Ctrl-C, after the command's own clean-up (its ``finally`` blocks remove the
  files it had half-written); a command that knows more (what it was doing,
  what it kept) raises :class:`Interrupted` with that message instead;
* an error of the package, whose message already names the file and the fix;
* anything else, as a probable bug: ``TFGAN_ZOO_TRACEBACK=1`` shows its traceback
  (and every other failure's) for a bug report.

Needs nothing beyond the standard library, and no argparse: the report imports
it without TensorFlow, and the experiments' code below their command line may use it.
"""

from __future__ import annotations

import errno
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path

TRACEBACK_VARIABLE = "TFGAN_ZOO_TRACEBACK"
INTERRUPTED = (
    "Interrupted (Ctrl-C): stopped before the end; the files it had half-written were removed. "
    "Run the same command again to redo it."
)


class CommandError(Exception):
    """A failure whose message already names the file or option and the fix."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, with the message to end on: what the command was doing, what it
    kept and how to go on (a long command's own words for :data:`INTERRUPTED`)."""


def command_main(
    main: Callable[[list[str] | None], object], *, explained: tuple[type[Exception], ...] = ()
) -> Callable[[list[str] | None], None]:
    """``main(argv)`` of a command, ending every failure as the module docstring says.

    The failure's message leaves as ``SystemExit(message)``: Python prints it
    and exits with status 1; a test calling ``main(argv)`` catches it.
    ``explained``: the error types whose whole message is written for the user
    (its later lines hold the fix, e.g. the files a dataset needs), shown in
    full rather than by its first line.
    """

    @functools.wraps(main)
    def run(argv: list[str] | None = None) -> None:
        try:
            main(argv)
        except KeyboardInterrupt as interrupt:
            if os.environ.get(TRACEBACK_VARIABLE):
                raise
            raise SystemExit(str(interrupt) if isinstance(interrupt, Interrupted) else INTERRUPTED) from None
        except Exception as error:  # all of them: a command never ends in a traceback
            if os.environ.get(TRACEBACK_VARIABLE):
                raise
            text = str(error).strip() if isinstance(error, explained) else describe(error)
            raise SystemExit(f"error: {text}") from None

    return run


def describe(error: Exception) -> str:
    """One line for ``error``: what went wrong, on which file, and the fix."""
    if isinstance(error, OSError) and error.filename is not None:
        return _describe_path_error(error)
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[0] if lines else type(error).__name__
    if len(lines) > 1:
        text += f" (the whole message: {TRACEBACK_VARIABLE}=1)"
    if _is_tensorflow_error(error):
        return f"{text} (TensorFlow {type(error).__name__})"
    if isinstance(error, (CommandError, OSError, ValueError, RuntimeError, ImportError, MemoryError)):
        return text
    return (
        f"{type(error).__name__}: {text}. This is probably a bug in tfgan_zoo: run again with "
        f"{TRACEBACK_VARIABLE}=1 to see where it happened, and report it."
    )


def _is_tensorflow_error(error: Exception) -> bool:
    # Checked through sys.modules: this module must not import TensorFlow, and
    # without it loaded no TensorFlow error can occur.
    tensorflow = sys.modules.get("tensorflow")
    errors = getattr(tensorflow, "errors", None)
    return errors is not None and isinstance(error, errors.OpError)


def _describe_path_error(error: OSError) -> str:
    path = os.fsdecode(error.filename)
    code = error.errno
    if os.path.islink(path) and not os.path.exists(path):
        return f"{path} is a link to {os.readlink(path)}, which does not exist: point it at a file, or remove it."
    if code == errno.ENOENT:
        return f"{path} does not exist: check the path."
    if code == errno.EISDIR:
        return f"{path} is a folder where a file is expected: name a file."
    if code == errno.ENOTDIR:
        return f"{path}: a part of this path is a file where a folder is expected: check the path."
    if code == errno.EEXIST:
        return f"{path} already exists and is not a folder: name a folder, or move the file away."
    if code in (errno.EACCES, errno.EPERM):
        home = _unwritable_home(path)
        if home is not None:
            return (
                f"{path}: permission denied, and HOME ({home}) is not writable: set HOME to a folder "
                "you can write, or fix its permissions."
            )
        return (
            f"{path}: permission denied: give this user access to it (ls -l shows the owner and mode), "
            "or choose another path."
        )
    if code == errno.EROFS:
        return f"{path} is on a read-only file system: choose another path."
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return f"no space left for {path}: free some space, or choose a path on another disk."
    if code == errno.ELOOP:
        return f"{path} is a loop of links: point the links at a real file or folder."
    return f"{path}: {error.strerror or error}."


def _unwritable_home(path: str) -> Path | None:
    """HOME, when ``path`` lies under it and HOME is not writable (a library's cache or configuration)."""
    home = Path(os.path.expanduser("~"))
    if Path(os.path.abspath(path)).is_relative_to(home) and not os.access(home, os.W_OK):
        return home
    return None
