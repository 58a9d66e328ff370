"""A fork server for the tests that need processes of their own (kill -9, two runs
racing for one directory, worker processes): ``python SCRIPT ARGS`` started as a
fork of one process that has imported TensorFlow, Keras and tfgan_zoo, instead
of a fresh interpreter that imports them again.

A fresh start costs about 5.5 CPU-seconds of imports on the CI's cores; the
suite starts some twenty such processes. The forked process is a real process
of its own (its own pid, signals, exit status, files 0-2, environment, working
directory and ``sys.argv``): the script runs as ``__main__``, as ``python
SCRIPT`` runs it, and a kill -9 stops it as it stops any process. The server
never runs a TensorFlow op, so the runtime (its devices, thread pools and
compile caches) starts in each fork, as in a fresh interpreter.

    python tests/forkserver.py SOCKET OWNER_PID   # the server: prints "ready", serves until OWNER_PID ends

``ForkServer.shared(FOLDER, OWNER_PID)`` connects to the server in FOLDER, starting it
there first if none runs (the test processes of one run share one);
``.popen([sys.executable, SCRIPT, *args], env=..., stdout=...)`` returns a
:class:`Process` with the part of ``subprocess.Popen`` the tests use. Each
request forks a minder, which forks the script's process, passes its pid back,
waits for it and passes back its exit status (negative: the signal that ended
it, as ``Popen.returncode`` gives it). A minder whose client goes away kills its
process: a test that dies leaves nothing running.

With ``children_through_server=True`` the script's own Python children start
through the server too: its ``sys.executable`` is then ``FOLDER/python``, a
relay that asks the server for the process and stands in for it (its files,
exit status and forwarded signals), for scripts such as bench/device_check.py
that start a Python process per part.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import runpy
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

START_S = 120  # the server's imports, on 2 busy cores
RELAYED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


# ------------------------------------------------------------------ the client
class Process:
    """A process the fork server started: ``pid``, ``returncode``, ``poll``, ``wait``,
    ``send_signal``, ``terminate``, ``kill``, as on ``subprocess.Popen``."""

    def __init__(self, connection: socket.socket, args: list):
        self.args, self.returncode = args, None
        self._connection, self._received = connection, b""
        self.pid = int(self._line(None))

    def _line(self, timeout: float | None) -> str | None:
        """The minder's next line; None when none came within ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._received:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([self._connection], [], [], left)[0]:
                return None
            chunk = self._connection.recv(4096)
            if not chunk:
                raise RuntimeError(f"the fork server's minder of {self.args} ended without an exit status")
            self._received += chunk
        line, self._received = self._received.split(b"\n", 1)
        return line.decode()

    def poll(self) -> int | None:
        try:
            return self.wait(0)
        except subprocess.TimeoutExpired:
            return None

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            line = self._line(timeout)
            if line is None:
                raise subprocess.TimeoutExpired(self.args, timeout)
            self.returncode = int(line)
            self._connection.close()
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:  # an ended process's pid may belong to another by now
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _open(target) -> int:
    """A file descriptor for a ``Popen``-style stdin/stdout/stderr argument (None: ours)."""
    if target is None:
        return -1
    if target == subprocess.DEVNULL:
        return os.open(os.devnull, os.O_RDWR)
    return os.dup(target if isinstance(target, int) else target.fileno())


class ForkServer:
    """Client of a fork server listening on ``path``."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @classmethod
    def shared(cls, folder: Path, owner: int) -> ForkServer:
        """The client of the server in ``folder``, which is started first if none answers
        there; it ends when the process ``owner`` ends (the test run's first process)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        client = cls(folder / "forkserver.sock")
        with open(folder / "start.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one test process starts it; the others wait, then connect
            if not client.answers():
                client.path.unlink(missing_ok=True)
                with open(folder / "forkserver.log", "ab") as log:  # and what its processes print unredirected
                    server = subprocess.Popen([sys.executable, __file__, str(client.path), str(owner)],
                                              stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True,
                                              env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
                ready = select.select([server.stdout], [], [], START_S)[0] and server.stdout.readline().strip()
                if ready != "ready":
                    server.kill()
                    raise RuntimeError(f"the fork server did not start within {START_S} s (exit {server.poll()}); "
                                       f"see {folder / 'forkserver.log'}")
        return client

    def answers(self) -> bool:
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as probe:
            try:
                probe.connect(str(self.path))
            except OSError:
                return False
            probe.sendall(b"{}\n")  # an empty request: the server forks no minder for it
            return True

    def popen(self, args: list, env: dict | None = None, cwd=None, stdin=None, stdout=None, stderr=None,
              children_through_server: bool = False) -> Process:
        """Starts ``args`` (``[sys.executable, SCRIPT, ...]``, ``[sys.executable, "-m", MODULE, ...]``
        or ``[sys.executable, "-c", CODE, ...]``); ``stderr=subprocess.STDOUT`` joins it to
        ``stdout``, as in ``Popen``. ``children_through_server``: see the module's docstring."""
        args = [str(arg) for arg in args]
        if args[0] != sys.executable:
            raise ValueError(f"the fork server runs Python scripts only, not {args[0]}")
        files = [_open(stdin), _open(stdout)]
        files.append(os.dup(files[1]) if stderr == subprocess.STDOUT and files[1] >= 0 else _open(stderr))
        request = {"argv": args[1:], "env": dict(os.environ if env is None else env),
                   "cwd": str(cwd or os.getcwd()), "redirect": [fd >= 0 for fd in files],
                   "executable": str(relay_path(self.path)) if children_through_server else None}
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            connection.connect(str(self.path))
            socket.send_fds(connection, [json.dumps(request).encode() + b"\n"], [fd for fd in files if fd >= 0])
        finally:
            for fd in files:
                if fd >= 0:
                    os.close(fd)
        return Process(connection, args)

    def run(self, args: list, env: dict | None = None, cwd=None, timeout: float | None = None,
            children_through_server: bool = False) -> subprocess.CompletedProcess:
        """``subprocess.run(args, capture_output=True, text=True)``, through the server."""
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            process = self.popen(args, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                 children_through_server=children_through_server)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise
            texts = []
            for handle in (out, err):
                handle.seek(0)
                texts.append(handle.read().decode(errors="replace"))
        return subprocess.CompletedProcess(args, process.returncode, *texts)


def relay(path: str) -> None:
    """The relay's body (``FOLDER/python SCRIPT ARGS``): ``python SCRIPT ARGS`` started
    by the server at ``path`` with this process's files, environment and directory;
    forwards the signals a parent sends and ends as that process ends."""
    process = ForkServer(Path(path)).popen([sys.executable, *sys.argv[1:]], stdin=0, stdout=1, stderr=2,
                                           children_through_server=True)

    def forward(signum, frame):
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signum)

    for signum in RELAYED_SIGNALS:
        signal.signal(signum, forward)
    code = process.wait()
    if code < 0:  # ended by a signal: end by the same one
        if -code in RELAYED_SIGNALS:
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    sys.exit(code)


def relay_path(path) -> Path:
    """The relay of the server listening on ``path``: ``python`` beside its socket."""
    return Path(path).with_name("python")


def _write_relay(path: str) -> None:
    relay = relay_path(path)
    relay.write_text(f"#!{sys.executable} -S\n"  # -S: no site-packages to scan; the relay needs the stdlib only
                     f"import sys\nsys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
                     f"import forkserver\nforkserver.relay({path!r})\n")
    relay.chmod(0o755)


# ------------------------------------------------------------------ the server
def _run_script(argv: list) -> int:
    """``python ARGV...`` in this process, up to the exit status the interpreter would give."""
    try:
        if argv[0] == "-c":
            sys.argv = ["-c", *argv[2:]]
            sys.path[0] = ""
            exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
        elif argv[0] == "-m":
            sys.argv = [argv[1], *argv[2:]]
            sys.path[0] = os.getcwd()
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = argv
            sys.path[0] = str(Path(argv[0]).resolve().parent)
            runpy.run_path(argv[0], run_name="__main__")
        return 0
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            return exit_.code or 0
        print(exit_.code, file=sys.stderr)
        return 1
    except BaseException:  # noqa: BLE001 - the interpreter prints any uncaught one and exits 1
        traceback.print_exc()
        return 1


def _child_ended(signum, frame):
    pass  # its only job: wake the minder's select through the wakeup file descriptor


def _mind(connection: socket.socket, request: dict, fds: list) -> None:
    """In the minder (a fork of the server): start the script's process, report its
    pid and then its exit status; kill it if the client goes away first."""
    woken, wake = os.pipe()
    os.set_blocking(wake, False)
    signal.set_wakeup_fd(wake)
    signal.signal(signal.SIGCHLD, _child_ended)
    pid = os.fork()
    if pid == 0:
        _become_script(request, fds, connection)
    for fd in fds:
        os.close(fd)
    connection.sendall(f"{pid}\n".encode())
    while True:
        ended, status = os.waitpid(pid, os.WNOHANG)
        if ended:
            connection.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())
            return
        readable = select.select([connection, woken], [], [])[0]
        if woken in readable:
            os.read(woken, 512)
        if connection in readable and not connection.recv(1):  # the client is gone: nobody will wait for it
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return


def _become_script(request: dict, fds: list, connection: socket.socket) -> None:
    """In the script's process: its files 0-2, directory, environment and arguments, then the script."""
    connection.close()
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    given = iter(fds)
    for target, redirected in enumerate(request["redirect"]):
        if redirected:
            os.dup2(next(given), target)
    for fd in fds:
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    if request.get("executable"):
        sys.executable = request["executable"]
    if request["env"].get("PYTHONUNBUFFERED"):
        sys.stdout.reconfigure(write_through=True)
        sys.stderr.reconfigure(write_through=True)
    code = _run_script(request["argv"])
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code & 0xFF)


def serve(path: str, owner: int) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # What every script the tests start imports; importing runs no TensorFlow op.
    import cv2  # noqa: F401
    import h5py  # noqa: F401
    import keras  # noqa: F401
    import numpy  # noqa: F401
    import tensorflow  # noqa: F401

    import tfgan_zoo  # noqa: F401
    import tfgan_zoo.callbacks  # noqa: F401
    import tfgan_zoo.distribute  # noqa: F401
    import tfgan_zoo.experiment  # noqa: F401

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # minders are reaped as they end
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    _write_relay(path)
    listener.listen(16)
    listener.settimeout(1.0)
    print("ready", flush=True)
    os.dup2(2, 1)  # nobody reads the pipe we were started with: the log takes what scripts print unredirected
    while True:
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            try:
                os.kill(owner, 0)
            except ProcessLookupError:
                return  # the test run is over
            continue
        connection.setblocking(True)
        with contextlib.closing(connection):
            message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
            request = json.loads(message or b"{}")
            if not request:  # a probe (ForkServer.answers)
                continue
            sys.stdout.flush()
            sys.stderr.flush()
            if os.fork() == 0:
                listener.close()
                try:
                    _mind(connection, request, fds)
                finally:
                    os._exit(0)
            for fd in fds:
                os.close(fd)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
