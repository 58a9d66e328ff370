"""Writes that never leave a half-written file, and what a failed write tells the user.

:func:`replace_durably` writes through a staging file, flushed before its
rename, so a kill leaves the old file or the new one, whole.
:func:`write_failure` turns an ``OSError`` of a write (a full disk, a
read-only mount) into one ``SystemExit`` message naming the file and the last
good checkpoint, instead of a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path


class WriteFailed(OSError):
    """An ``OSError`` (or h5py error) of a write, carrying the file it was writing."""

    def __init__(self, path, cause: BaseException):
        code = getattr(cause, "errno", None)
        reason = _reason(cause)
        if not code:
            # Some writers (OpenCV, h5py) report a failure without the system's reason.
            free = _free_bytes(path)
            if free is not None and free < 2**20:
                reason = f"{reason.rstrip('.')} (its file system has {free // 1024} KiB free)"
        super().__init__(code, reason, str(path))
        self.__cause__ = cause


def _free_bytes(path) -> int | None:
    try:
        stats = os.statvfs(Path(path).parent)
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize


def _reason(error: BaseException) -> str:
    code = getattr(error, "errno", None)
    if code:
        return os.strerror(code)
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    text = str(error)
    # h5py and TF wrap the system error in their own words; keep the part that explains it.
    for code in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
        if os.strerror(code).lower() in text.lower():
            return os.strerror(code)
    return text.splitlines()[0] if text else type(error).__name__


@contextlib.contextmanager
def writing(path):
    """Re-raises a failure while writing ``path`` as :class:`WriteFailed` naming it
    (a write into an open file raises ``OSError`` without a file name; h5py's
    errors name no file either)."""
    try:
        yield
    except WriteFailed:
        raise
    except (OSError, RuntimeError) as error:
        if isinstance(error, OSError) or _is_io_error(error):
            raise WriteFailed(path, error) from error
        raise


def replace_durably(path, data: bytes, staging) -> None:
    """Writes ``data`` to ``staging``, flushes it to the disk (so that the rename
    never lands before the bytes) and renames it over ``path``: a kill leaves the
    old file or the new one, whole. A failure names the file it could not write
    and leaves no staging file."""
    try:
        with writing(staging), open(staging, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        with writing(path):
            os.replace(staging, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(staging)
        raise


def _is_io_error(error: BaseException) -> bool:
    text = str(error).lower()
    return any(words in text for words in ("no space left", "disk quota", "read-only file system",
                                           "can't write", "unable to write", "write failed"))


def is_write_failure(error: BaseException) -> bool:
    """Whether ``error`` is a failed write (full disk, quota, read-only file system)
    rather than a bug: those end the run with :func:`write_failure`'s message."""
    if isinstance(error, WriteFailed):
        return True
    if isinstance(error, OSError):
        return error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EFBIG)
    return _is_io_error(error)


def write_failure(error: BaseException, run_dir: str | os.PathLike, path=None, checkpoint=...) -> SystemExit:
    """The ``SystemExit`` ending a run whose write of ``path`` (default: the file
    ``error`` names) failed. ``checkpoint``: the last good one (a description, or
    None when there is none yet); left out, the run had not started training."""
    path = path or getattr(error, "filename", None) or "a file of the run directory"
    if checkpoint is ...:
        state = "Nothing was trained or changed"
    else:
        state = f"Training stopped; the last good checkpoint: {checkpoint or 'none yet (no epoch was saved)'}"
    return SystemExit(
        f"Could not write {path}: {_reason(error)}. {state}. Free some space (or fix the file system) "
        f"under {run_dir} and run the same command again to resume."
    )
