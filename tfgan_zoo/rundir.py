"""Who may write a run directory, and what a failed write tells the user.

One process per run directory: :func:`lock` takes ``RUN/.lock`` (an
``flock`` on the file, which holds the pid and host of its owner as JSON) for
as long as the run lasts. A second process on the same directory stops at
once, naming the owner; a lock left by a process that is gone (``kill -9``, a
crash) is taken over with a message, because the kernel drops the ``flock``
of a dead process. The pid and host in the file only serve the messages and
the case of a lock written from another host of a shared file system, where
this host cannot tell whether the owner still runs: that one is refused, and
the message says how to clear it.

:func:`write_failure` turns an ``OSError`` of a write (a full disk, a
read-only mount) into one ``SystemExit`` message naming the file and the last
good checkpoint, instead of a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import time
from pathlib import Path

LOCK_FILE = ".lock"


class RunDirectoryInUse(SystemExit):
    """Another live process holds the run directory's lock."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _read_owner(fd: int) -> dict:
    try:
        text = os.pread(fd, 4096, 0).decode("utf-8", "replace")
        owner = json.loads(text or "{}")
    except (OSError, ValueError):  # torn by a kill while it was written: nobody can be named
        return {}
    return owner if isinstance(owner, dict) else {}


def _describe(owner: dict) -> str:
    if not owner.get("pid"):
        return "another process"
    since = owner.get("since")
    started = f", since {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(since))}" if since else ""
    return f"pid {owner['pid']} on host {owner.get('host', '?')}{started}"


class RunLock:
    """The held lock of one run directory; :meth:`release` (or leaving
    :func:`lock`'s ``with``) gives it up and removes the file."""

    def __init__(self, path: Path, fd: int):
        self.path, self._fd = path, fd

    def release(self):
        if self._fd is None:
            return
        # Unlink while still holding the flock: a process that opens the path
        # afterwards creates a fresh file instead of locking this orphan.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        os.close(self._fd)
        self._fd = None


def _open_locked(path: Path, run_dir: Path) -> int:
    """A descriptor of ``path`` holding its flock, or :class:`RunDirectoryInUse`."""
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise write_failure(error, run_dir, path) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _read_owner(fd)
            os.close(fd)
            raise RunDirectoryInUse(
                f"{run_dir} is in use by {_describe(owner)}: one process per run directory. "
                "Wait for it to finish (or stop it), or pass another --out."
            ) from None
        # The previous owner may have unlinked the file between our open and our
        # flock; that lock would guard nothing, so start again on the new file.
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def acquire(run_dir: str | os.PathLike, *, announce=print) -> RunLock:
    """Takes ``run_dir/.lock`` for this process (creating ``run_dir``), or raises
    :class:`RunDirectoryInUse` naming the owner. ``announce`` prints the
    take-over of a stale lock."""
    run_dir = Path(run_dir)
    path = run_dir / LOCK_FILE
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise write_failure(error, run_dir, run_dir) from None
    host = socket.gethostname()
    fd = _open_locked(path, run_dir)
    held = RunLock(path, fd)
    owner = _read_owner(fd)
    if owner.get("pid") and owner.get("host") not in (None, host):
        os.close(fd)
        raise RunDirectoryInUse(
            f"{run_dir} is locked by {_describe(owner)}, another host; this host cannot tell whether it "
            f"still runs. If it does not, delete {path} and run again; else pass another --out."
        )
    if owner.get("pid") and owner.get("pid") != os.getpid():
        state = "no longer running" if not _alive(int(owner["pid"])) else "not holding it (its pid was reused)"
        announce(f"Taking over the lock of {run_dir}: {_describe(owner)} is {state} (killed or crashed).")
    record = json.dumps({"pid": os.getpid(), "host": host, "since": int(time.time())}).encode()
    try:
        os.ftruncate(fd, 0)
        if os.pwrite(fd, record, 0) != len(record):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    except OSError as error:
        held.release()
        raise write_failure(error, run_dir, path) from None
    return held


@contextlib.contextmanager
def lock(run_dir: str | os.PathLike, *, announce=print):
    """``with lock(run_dir): ...``: holds the run directory's lock (see :func:`acquire`) for the block."""
    held = acquire(run_dir, announce=announce)
    try:
        yield held
    finally:
        held.release()


# ------------------------------------------------------------- write failures
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
