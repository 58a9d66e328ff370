"""tests/forkserver.py, the tests' way to start Python processes without a TensorFlow
import each: its processes behave as ``subprocess.Popen``'s do (exit status, signals,
files, environment, directory), and with ``children_through_server`` so do theirs."""

import signal
import subprocess
import sys
import textwrap
from pathlib import Path


def test_a_process_has_its_own_exit_status_files_environment_and_directory(fork_server, tmp_path):
    code = "import os, sys; print(os.getcwd(), os.environ['ONLY_HERE'], sys.argv[1:]); sys.exit('why')"
    done = fork_server.run([sys.executable, "-c", code, "a", "b"], env={"ONLY_HERE": "yes"}, cwd=tmp_path, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (1, f"{tmp_path} yes ['a', 'b']\n", "why\n")

    process = fork_server.popen([sys.executable, "-c", "import time; time.sleep(60)"], stdout=subprocess.DEVNULL)
    assert process.poll() is None
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL


def test_its_python_children_start_through_the_server_and_behave_as_popens(fork_server, tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent("""
        import os, signal, subprocess, sys, time

        def run(code, **options):
            return subprocess.Popen([sys.executable, "-c", code], start_new_session=True, **options)

        print(os.path.basename(sys.executable))  # the relay, not the interpreter
        child = run("import signal, sys, time\\n"
                    "signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))\\n"
                    "print('up', flush=True)\\n"
                    "time.sleep(60)", stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline() == "up\\n"
        child.terminate()  # forwarded by the relay: the child's handler exits with 3
        print(child.wait())
        child = run("import time; time.sleep(60)")
        time.sleep(0.5)
        os.killpg(child.pid, signal.SIGKILL)  # the relay's group: the server then kills the child
        print(child.wait())
        print(subprocess.run([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"]
                             ).returncode)
    """))
    done = fork_server.run([sys.executable, script], timeout=120, children_through_server=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["python", "3", str(-signal.SIGKILL), str(-signal.SIGKILL)]
    assert not running("time.sleep(60)"), "a killed relay left its process running"


def running(text: str) -> list[int]:
    """The pids of the processes whose command line holds ``text``."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and text.encode() in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
        except OSError:  # ended meanwhile
            pass
    return pids
