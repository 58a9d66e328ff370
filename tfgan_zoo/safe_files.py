"""Reading the files of a run or export directory without being led out of it.

A run directory is often shared, mailed as a report or served as a demo, and
anything can be planted in it: a link ``samples/epoch_999.png`` to
``~/.ssh/id_ed25519`` would put that key into a page meant to be passed
around. So the readers of this package (the report, the demo) take a file only
when it is a regular file whose real path lies inside the folder they were
given. Anything else (a link leading out, a dangling link, a device, a FIFO,
a folder where a file is expected) is skipped with a warning that names it,
or, where the reader cannot do without the file, refused with an error that
names it. Links that stay inside the folder are followed.

Needs nothing beyond the standard library: the report imports it without TensorFlow.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from pathlib import Path

logger = logging.getLogger("tfgan_zoo.files")

# A FIFO opened for reading blocks until a writer comes; O_NONBLOCK returns at
# once, and the fstat below then refuses it. O_NOFOLLOW refuses a last path
# part swapped for a link after the check (absent on Windows, which needs no FIFO guard).
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


class UnsafeFileError(ValueError):
    """A file that a reader needs is not a regular file inside its folder."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISREG(mode):
        return "a file"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def _refusal(path: Path, root: Path, folder: bool = False) -> str | None:
    """Why ``path`` may not be read as a regular file (or, with ``folder``, walked
    as a folder) of ``root``; None when it may. Something must be at ``path``,
    if only a link."""
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(os.path.realpath(root)):
        return f"{path} leads out of {root} (to {real}): copy what it points to into {root} instead of linking it"
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        target = os.readlink(path) if path.is_symlink() else real
        return f"{path} is a link to {target}, which does not exist: point it at a file inside {root}, or remove it"
    expected = "a folder" if folder else "a regular file"
    if stat.S_ISDIR(mode) if folder else stat.S_ISREG(mode):
        return None
    return f"{path} is {_kind(mode)} where {expected} is expected: put {expected} there, or remove it"


def _refuse(refusal: str, root: Path) -> UnsafeFileError:
    return UnsafeFileError(f"{refusal}. Only regular files inside {root} are read.")


def check_file(path: str | os.PathLike, root: str | os.PathLike) -> Path:
    """The real path of ``path``, a regular file inside ``root``.

    Raises:
        FileNotFoundError: nothing is at ``path``.
        UnsafeFileError: something else is there (see the module docstring), named in the message.
    """
    path, root = Path(path), Path(root)
    if not os.path.lexists(path):
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
    refusal = _refusal(path, root)
    if refusal:
        raise _refuse(refusal, root)
    return Path(os.path.realpath(path))


def file_or_skip(path: str | os.PathLike, root: str | os.PathLike) -> Path | None:
    """The real path of ``path`` when it is a regular file inside ``root``; None
    when nothing is there, and None with a warning naming it when something else is."""
    try:
        return check_file(path, root)
    except FileNotFoundError:
        return None
    except UnsafeFileError as error:
        logger.warning("Skipped: %s", error)
        return None


def read_file(path: str | os.PathLike, root: str | os.PathLike) -> bytes:
    """The bytes of ``path``, a regular file inside ``root`` (errors: :func:`check_file`)."""
    real = check_file(path, root)
    with os.fdopen(os.open(real, _OPEN_FLAGS), "rb") as handle:
        # Checked again on what was opened: the path may have changed since the check.
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise _refuse(f"{path} is {_kind(mode)} where a regular file is expected: put a file there", Path(root))
        return handle.read()


def read_file_or_skip(path: str | os.PathLike, root: str | os.PathLike) -> bytes | None:
    """The bytes of ``path`` as :func:`read_file` reads them; None when nothing is
    there, and None with a warning naming it when something other than a
    regular file inside ``root`` is. Other OS errors (permission) propagate."""
    try:
        return read_file(path, root)
    except FileNotFoundError:
        return None
    except UnsafeFileError as error:
        logger.warning("Skipped: %s", error)
        return None


def check_folder(folder: str | os.PathLike, root: str | os.PathLike) -> None:
    """Checks that ``folder`` and everything under it are folders and regular
    files inside ``root``, before a loader that follows links reads them all
    (a SavedModel).

    Raises:
        FileNotFoundError: nothing is at ``folder``.
        UnsafeFileError: naming the first entry that is anything else.
    """
    folder, root = Path(folder), Path(root)
    if not os.path.lexists(folder):
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(folder))
    _check_tree(folder, root, walked=set())


def _check_tree(folder: Path, root: Path, walked: set[str]) -> None:
    refusal = _refusal(folder, root, folder=True)
    if refusal:
        raise _refuse(refusal, root)
    real = os.path.realpath(folder)
    if real in walked:  # a link back to a folder already checked
        return
    walked.add(real)
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir():  # follows links: a linked folder is checked where it leads
                _check_tree(Path(entry.path), root, walked)
            elif refusal := _refusal(Path(entry.path), root):
                raise _refuse(refusal, root)
