"""Who may write a run directory: one process at a time.

One process per run directory: :func:`lock` takes ``RUN/.lock`` (an
``flock`` on the file, which holds the pid and host of its owner as JSON) for
as long as the run lasts. A second process on the same directory stops at
once, naming the owner; a lock left by a process that is gone (``kill -9``, a
crash) is taken over with a message, because the kernel drops the ``flock``
of a dead process. The pid and host in the file only serve the messages and
the case of a lock written from another host of a shared file system, where
this host cannot tell whether the owner still runs: that one is refused, and
the message says how to clear it.
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

from tfgan_zoo.runs.writes import write_failure

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
        fd, self._fd = self._fd, None
        try:
            # Unlink while still holding the flock: a process that opens the path
            # afterwards creates a fresh file instead of locking this orphan.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
        finally:
            os.close(fd)  # even on Ctrl-C: an open descriptor would hold the lock until the process ends


def _open_locked(path: Path, run_dir: Path) -> int:
    """A descriptor of ``path`` holding its flock, or :class:`RunDirectoryInUse`."""
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise write_failure(error, run_dir, path) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if _names(path, fd):
                return fd
        except BlockingIOError:
            owner = _read_owner(fd)
            os.close(fd)
            raise RunDirectoryInUse(
                f"{run_dir} is in use by {_describe(owner)}: one process per run directory. "
                "Wait for it to finish (or stop it), or pass another --out."
            ) from None
        except BaseException:  # Ctrl-C too: a descriptor left open would hold the lock until the process ends
            os.close(fd)
            raise
        os.close(fd)


def _names(path: Path, fd: int) -> bool:
    """Whether ``path`` still names the file open as ``fd``. The previous owner may have
    unlinked it between our open and our flock; that lock would guard nothing."""
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


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
    try:
        owner = _read_owner(fd)
        if owner.get("pid") and owner.get("host") not in (None, host):
            raise RunDirectoryInUse(
                f"{run_dir} is locked by {_describe(owner)}, another host; this host cannot tell whether it "
                f"still runs. If it does not, delete {path} and run again; else pass another --out."
            )
    except BaseException:
        os.close(fd)  # the file stays: it is the other host's, or a dead owner's that a later run takes over
        raise
    held = RunLock(path, fd)
    try:
        if owner.get("pid") and owner.get("pid") != os.getpid():
            state = "no longer running" if not _alive(int(owner["pid"])) else "not holding it (its pid was reused)"
            announce(f"Taking over the lock of {run_dir}: {_describe(owner)} is {state} (killed or crashed).")
        record = json.dumps({"pid": os.getpid(), "host": host, "since": int(time.time())}).encode()
        try:
            os.ftruncate(fd, 0)
            if os.pwrite(fd, record, 0) != len(record):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        except OSError as error:
            raise write_failure(error, run_dir, path) from None
    except BaseException:  # a failed write, or Ctrl-C: the lock is given up, as if never taken
        held.release()
        raise
    return held


@contextlib.contextmanager
def lock(run_dir: str | os.PathLike, *, announce=print):
    """``with lock(run_dir): ...``: holds the run directory's lock (see :func:`acquire`) for the block."""
    held = acquire(run_dir, announce=announce)
    try:
        yield held
    finally:
        held.release()
