"""Hostile runs: replays the failure cases of issue 18 ("Runs you can trust")
against a source tree and classifies each outcome from what can be observed.

    git worktree add ../tfgan_zoo_before c95d176                                        # the tree before the fixes
    python bench/hostile_runs.py --tree ../tfgan_zoo_before --out bench/results/hostile_runs_before.json
    python bench/hostile_runs.py --out bench/results/hostile_runs_after.json    # this tree
    python bench/hostile_runs.py --table before.json after.json > table.md      # markdown table + count lines
    python bench/hostile_runs.py --only 1,2,37 --out some.json                  # a few cases (by number)
    python bench/hostile_runs.py --only issue26 --out issue26.json              # issue 26's cases (63-118)
    python bench/hostile_runs.py --table before.json after.json --only issue26  # their table, counted alone
    python bench/hostile_runs.py --only 69 --rerun-into after.json --out after.json   # a fixed case, rerun

"This tree" includes its uncommitted changes (the JSON lists the changed files);
to measure a commit alone, pass ``--tree`` a worktree of it (``git worktree add
../tfgan_zoo_after HEAD``).

Each case runs the tree's experiment scripts as subprocesses
(``python TREE/experiments/<script>.py``, with ``PYTHONPATH=TREE`` so that the
tree's own ``tfgan_zoo`` is imported; the preflight checks ``tfgan_zoo.__file__``)
at toy size (2 steps per epoch, a few filters, evaluation off unless the case
needs it), in a temporary folder, each command under a timeout. A case sets up,
acts (a kill -9 at a chosen moment, a changed option, a broken file, ...) and
checks, and its check gives one class:

    ok           the right behaviour (resumed exactly, trained on what it should)
    clear error  non-zero exit with a message naming the problem, no Python traceback
    silent       exit 0, but a check finds a wrong result (an epoch missing or twice in
                 logs/training.csv, other data trained on, an untrained export, ...)
    crash        a Python traceback, or an exit by a signal (139 = segfault)
    hang         the command ran past its timeout
    data lost    a good artefact (checkpoint, export version, gallery image) is gone or unloadable,
                 or a file of the user's is deleted or overwritten
    leak         a reader (report, demo) shows or serves bytes of a file outside its folder
    skipped      the case could not be set up here (e.g. no permission to mount a tmpfs)

A crash whose traceback ends in a ``raise`` of the tree's own code (``tfgan_zoo``,
``experiments``) says so in its detail ("raised by tfgan_zoo": a message written
for the user, printed under a traceback); the others end deep in a library (TF,
Keras, numpy, h5py, Python's own modules) or in an unintended error of the
tree's code, and the count lines count the two kinds apart. The JSON keeps the
command and the end of stderr of every case that is not ok or a clear error.

Cases 1-27 are the 27 the review of issue 18 named (the wording and order of
docs/run_safety.md), 28-56 other hostile runs of the kinds such a review runs,
57-62 the six cases docs/run_safety.md added, 63-118 (group ``issue26``) cases
of issue 26's rules that its review did not run: the package's writers pointed at
the user's files, readers given links and FIFOs, caches and resumes on changed
content, pictures and labels as they are, the exit of every command (the
experiments, report, demo, tflite, data.lineart, data.shards, presets), and the
Keras edges. Those of the API (model.export, the exported signatures, fit, the
readers) run as scenarios of a few Python processes per tree, each reporting what
it returned or raised: what it raised is a clear error when its message names the
problem, a crash (a traceback) otherwise. One run of cases 1-62 takes 10-15
minutes on 2 CPU cores. Needs the MNIST IDX files ($TFGAN_ZOO_DATA, or --data-dir),
and root for the tmpfs and read-only mounts of cases 11 and 41 (else they are skipped).
"""

from __future__ import annotations

import argparse
import base64
import csv
import gzip
import json
import os
import platform
import re
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import sysconfig
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CLASSES = ("ok", "clear error", "silent", "crash", "hang", "data lost", "leak", "skipped")
# The per-command limit: a toy run takes ~10 s here, so minutes without an exit is a hang.
TIMEOUT = 240
STEPS = 2  # steps per epoch of every toy run
MNIST_TINY = ["--steps-per-epoch", str(STEPS), "--batch-size", "8", "--g-filters", "4", "--d-filters", "4",
              "--latent-dim", "8", "--precision", "float32", "--eval-every", "0", "--verbose", "2"]
# dcgan_folder and cgan_anime on 8x8 pictures of a temporary folder.
FOLDER_TINY = ["--image-size", "8", "--g-filters", "2", "--d-filters", "2", "--latent-dim", "4",
               "--steps-per-epoch", str(STEPS), "--batch-size", "4", "--precision", "float32",
               "--eval-every", "0", "--verbose", "2"]
# pix2pix at 32x32 (the U-Net halves 5 times down to 1x1), batch 2, no random jitter.
PIX2PIX_TINY = ["--image-size", "32", "--g-filters", "4", "--d-filters", "4", "--batch-size", "2", "--no-jitter",
                "--steps-per-epoch", "1", "--precision", "float32", "--eval-every", "0", "--verbose", "2"]


# ======================================================================= running commands
@dataclass
class Result:
    """One finished (or timed-out) command."""

    command: list
    rc: int | None
    out: str
    err: str
    seconds: float
    timed_out: bool = False


class Running:
    """A started command whose output goes to files (so that nothing blocks on a pipe)."""

    def __init__(self, command: list, env: dict, cwd: Path, logs: Path):
        logs.mkdir(parents=True, exist_ok=True)
        self.command, self.started = command, time.monotonic()
        self.out_path, self.err_path = logs / "stdout.txt", logs / "stderr.txt"
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            # Its own process group: a timeout ends the script and anything it started.
            self.process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=err,
                                            start_new_session=True)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    def signal(self, number: int) -> bool:
        """Sends ``number`` to the script; False when it had already ended."""
        if not self.alive():
            return False
        self.process.send_signal(number)
        return True

    def wait(self, timeout: float = TIMEOUT) -> Result:
        timed_out = False
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        return Result(self.command, None if timed_out else self.process.returncode, self.stdout(),
                      self.err_path.read_text(errors="replace"), time.monotonic() - self.started, timed_out)


def wait_for(running: Running, condition, timeout: float = TIMEOUT) -> bool:
    """Polls ``condition()`` tightly (a checkpoint save lasts milliseconds) until it
    holds (True) or the command ends or the time is up (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if not running.alive():
            return False
        time.sleep(0.0005)
    return False


# ======================================================================= facts about a run directory
def logged_epochs(run: Path) -> list[int]:
    """The epoch column of RUN/logs/training.csv, in file order (header rows repeated
    by a second writer are skipped, and counted by :func:`csv_headers`)."""
    path = run / "logs" / "training.csv"
    if not path.exists():
        return []
    epochs = []
    for row in csv.reader(path.read_text(errors="replace").splitlines()):
        if row and row[0].strip().isdigit():
            epochs.append(int(row[0]))
    return epochs


def csv_headers(run: Path) -> int:
    path = run / "logs" / "training.csv"
    return sum(line.startswith("epoch,") for line in path.read_text().splitlines()) if path.exists() else 0


def checkpoint(run: Path) -> dict | None:
    """Both optimizers' step counters and learning rates as stored in the checkpoint
    (``vars/0`` and ``vars/1`` of each optimizer in Keras' weights file); None if unreadable."""
    import h5py

    try:
        with h5py.File(run / "checkpoints" / "latest.weights.h5", "r") as handle:
            return {name: {"steps": int(handle[f"{name}/vars/0"][()]), "lr": float(handle[f"{name}/vars/1"][()])}
                    for name in ("g_optimizer", "d_optimizer")}
    except Exception:  # noqa: BLE001 - missing, truncated, not HDF5: all "unreadable" here
        return None


def steps_of(run: Path) -> int | None:
    state = checkpoint(run)
    return None if state is None else state["g_optimizer"]["steps"]


def saved_epoch(run: Path) -> int:
    """The epoch training_metadata.json says is saved (both trees write it)."""
    try:
        return int(json.loads((run / "checkpoints" / "training_metadata.json").read_text())["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def temporaries(run: Path, under: str = "") -> list[str]:
    """Leftovers of interrupted writes (``*tmp*``, ``.staging-*``, ``.retired-*``)."""
    root = run / under
    if not root.exists():
        return []
    return sorted(path.relative_to(run).as_posix() for path in root.rglob("*")
                  if "tmp" in path.name or path.name.startswith((".staging-", ".retired-", ".purge")))


def versions(base: Path) -> list[str]:
    """The numbered export versions under ``base`` (TF Serving's layout), oldest first."""
    if not base.is_dir():
        return []
    # ASCII digits only: "²" is a digit to str.isdigit but not to int().
    return sorted((child.name for child in base.iterdir() if child.is_dir() and re.fullmatch(r"[0-9]+", child.name)),
                  key=int)


def config(run: Path) -> dict:
    try:
        return json.loads((run / "config.json").read_text())
    except (OSError, ValueError):
        return {}


def class_names(run: Path) -> list | None:
    return config(run).get("class_names")


def snapshot(folder: Path) -> dict:
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


# TensorBoard steps and export loading need TensorFlow: one short subprocess per
# check (this script itself never imports it, so that it stays light between runs).
VERIFY = r"""
import json, pathlib, sys
import tensorflow as tf
run = pathlib.Path(sys.argv[1])
steps, broken = [], []
for path in sorted((run / "logs" / "tensorboard").rglob("*tfevents*")):
    try:
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            steps += [event.step for value in event.summary.value if value.tag == "epoch_g_loss"]
    except Exception as error:
        broken.append(f"{path.name}: {type(error).__name__}")
exports = {}
for base in sorted((run / "export").iterdir()) if (run / "export").is_dir() else []:
    exports[base.name] = {}
    for version in sorted((v for v in base.iterdir() if v.is_dir() and v.name.isascii() and v.name.isdigit()),
                          key=lambda v: int(v.name)):
        try:
            tf.saved_model.load(str(version))
            exports[base.name][version.name] = "loads"
        except Exception as error:
            exports[base.name][version.name] = f"does not load ({type(error).__name__})"
print(json.dumps({"tensorboard": sorted(steps), "broken_events": broken, "exports": exports}))
"""


# ======================================================================= classification
TRACEBACK = "Traceback (most recent call last)"
_NOISE = re.compile(r"^(WARNING: All log messages|[IWEF]\d{4} |E0000|I0000|W0000|\s*$)")


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if not _NOISE.match(line)]


# The temporary folder of the current run: named $WORK in details, a case's run directory RUN.
WORK_NAME = None


def _short(text: str, limit: int = 130) -> str:
    if WORK_NAME:
        text = re.sub(re.escape(WORK_NAME) + r"/cases/[^/\s']+/run\b", "RUN", text).replace(WORK_NAME, "$WORK")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _raised_where(err: str) -> str:
    """Where the last traceback ends: a ``raise`` of the tree's own code (a message
    written for the user), another error inside the tree's code, or a library."""
    last = err.rsplit(TRACEBACK, 1)[-1]
    frames = re.findall(r'File "([^"]+)", line \d+, in [^\n]*\n(?:( +)(\S[^\n]*))?', last)
    if not frames:
        return "deep in a library"
    innermost, _, code = frames[-1]
    if "/tfgan_zoo/" in innermost or "/experiments/" in innermost:
        return "raised by tfgan_zoo" if code.startswith("raise") else "inside tfgan_zoo's code"
    package = re.search(r"site-packages/([^/]+)/", innermost)
    frozen = re.fullmatch(r"<frozen (\w+)>", innermost)
    if package:
        return f"deep in {package.group(1)}"
    if frozen:
        return f"deep in Python's {frozen.group(1)}"
    if not innermost.startswith("/"):  # a compiled module names itself relatively: h5py/h5f.pyx
        return f"deep in {innermost.split('/')[0]}"
    return f"deep in Python's {Path(innermost).stem}"


def _exception_line(err: str) -> str:
    """``Type: message`` of the last traceback (the first line of a multi-line message)."""
    tail = [line for line in err.rsplit(TRACEBACK, 1)[-1].splitlines()[1:] if not _NOISE.match(line)]
    named = [line for line in tail if re.match(r"[A-Za-z_][\w.]*: ", line) or re.fullmatch(r"[A-Za-z_][\w.]*", line)]
    lines = named or [line for line in tail if not line.startswith(" ")]
    # TF prefixes its op errors with {{function_node ...}}: the words after it explain.
    return re.sub(r"\{\{[^}]*\}\}\s*", "", lines[-1]) if lines else "(no exception line)"


def message(result: Result) -> str:
    """The error message of a non-zero exit: argparse's ``error:`` line, else the first
    line of stderr that is not TensorFlow's start-up noise."""
    lines = _lines(result.err)
    usage = [line for line in lines if ": error:" in line]
    if usage:
        return usage[-1].split(": error:", 1)[1].strip()
    if not lines:
        return "(nothing on stderr)"
    # "... (2 differ; recorded -> now):" is followed by the first difference: keep it.
    return f"{lines[0]} {lines[1].strip()}" if lines[0].endswith(":") and len(lines) > 1 else lines[0]


def stopped(result: Result, who: str = "") -> tuple[str, str] | None:
    """The class of a command that did not exit 0 (None when it did): hang, crash or clear error."""
    prefix = f"{who}: " if who else ""
    if result.timed_out:
        return "hang", f"{prefix}no exit within {TIMEOUT if result.seconds >= TIMEOUT else round(result.seconds)} s"
    if result.rc == 0:
        return None
    if result.rc < 0 or result.rc >= 128:
        number = -result.rc if result.rc < 0 else result.rc - 128
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
        return "crash", f"{prefix}killed by {name} (rc {result.rc})"
    if TRACEBACK in result.err:
        return "crash", f"{prefix}traceback {_raised_where(result.err)}: {_short(_exception_line(result.err))}"
    return "clear error", f"{prefix}rc {result.rc}: {_short(message(result))}"


class SetupFailed(Exception):
    """A step the case needs (a base run, a mount) failed: the case is skipped with the reason."""


# ======================================================================= the bench
class Bench:
    """Runs the scripts of ``tree`` in a temporary folder; keeps the base runs the cases copy."""

    def __init__(self, tree: Path, work: Path, data_dir: Path):
        self.tree, self.work, self.data_dir = tree, work, data_dir
        self.env = {
            **os.environ, "PYTHONPATH": str(tree), "TFGAN_ZOO_DATA": str(data_dir),
            # Classifiers and line-art pairs go to the case's folder, never to ~/.cache.
            "TFGAN_ZOO_CACHE": str(work / "cache"), "TF_CPP_MIN_LOG_LEVEL": "3",
            "PYTHONUNBUFFERED": "1",  # the kill cases watch stdout for their moment
        }
        self.memo: dict = {}
        self.commands = 0  # numbers the log folders of the commands
        self.last: Running | None = None  # the latest command, named in the report of a failed case

    # ------------------------------------------------------------------ commands
    def command(self, script: str, *flags) -> list:
        return [sys.executable, str(self.tree / "experiments" / f"{script}.py"), *map(str, flags)]

    def start(self, script: str, *flags, cwd: Path | None = None) -> Running:
        self.commands += 1
        logs = self.work / "logs" / f"{self.commands:03d}_{script}"
        self.last = Running(self.command(script, *flags), self.env, cwd or self.work, logs)
        return self.last

    def run(self, script: str, *flags, cwd: Path | None = None, timeout: float = TIMEOUT) -> Result:
        return self.start(script, *flags, cwd=cwd).wait(timeout)

    def mnist(self, run: Path, epochs: int, *flags, script: str = "dcgan_mnist", data_dir: Path | None = None) -> list:
        """The flags of a toy MNIST run into ``run`` (later flags win over the toy ones)."""
        return [script, "--out", run, "--data-dir", data_dir or self.data_dir, "--epochs", epochs, *MNIST_TINY, *flags]

    def folder_run(self, images, run: Path, epochs: int, *flags, script: str = "dcgan_folder") -> list:
        return [script, "--images", images, "--out", run, "--epochs", epochs, *FOLDER_TINY, *flags]

    def verify(self, run: Path) -> dict:
        """TensorBoard steps and which export versions load, from a TensorFlow subprocess."""
        out = subprocess.run([sys.executable, "-c", VERIFY, str(run)], env={**self.env, "PYTHONPATH": ""},
                             capture_output=True, text=True, timeout=TIMEOUT)
        if out.returncode != 0:
            raise SetupFailed(f"the check of {run} failed: {_short(out.stderr[-300:])}")
        return json.loads(out.stdout.strip().splitlines()[-1])

    # ------------------------------------------------------------------ places and base runs
    def place(self, name: str) -> Path:
        """A fresh folder for one case."""
        path = self.work / "cases" / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def once(self, key: str, make):
        """``make()`` the first time ``key`` is asked for; a failure is remembered too."""
        if key not in self.memo:
            try:
                self.memo[key] = ("value", make())
            except SetupFailed as error:
                self.memo[key] = ("failed", error)
        kind, value = self.memo[key]
        if kind == "failed":
            raise value
        return value

    def finished_mnist(self) -> Path:
        """A finished 2-epoch toy dcgan_mnist run (never changed: cases work on copies)."""
        def make():
            run = self.work / "base" / "mnist"
            result = self.run(*self.mnist(run, 2))
            if result.rc != 0:
                raise SetupFailed(f"the base run failed: {stopped(result)[1]}")
            return run
        return self.once("mnist", make)

    def copy_of(self, base: Path, name: str) -> Path:
        """A copy of a base run keeping the files' times (``cp -a``), as a run left in place."""
        copy = self.place(name) / "run"
        shutil.copytree(base, copy, symlinks=True)
        return copy


def write_image(path: Path, image: np.ndarray) -> Path:
    """RGB, RGBA or grey uint8 array to an image file (OpenCV wants BGR order)."""
    import cv2

    if image.ndim == 3 and image.shape[-1] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    elif image.ndim == 3 and image.shape[-1] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA)
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, encoded = cv2.imencode(path.suffix, image)
    if not ok:
        raise SetupFailed(f"could not encode {path.name}")
    path.write_bytes(encoded.tobytes())
    return path


def picture(seed: int, size: int = 16, channels: int = 3) -> np.ndarray:
    """A random picture with some structure (a bright square), so line art has edges."""
    rng = np.random.default_rng(seed)
    image = np.full((size, size, channels), rng.integers(0, 120), np.uint8)
    top, left = rng.integers(0, size // 2, 2)
    image[top: top + size // 3, left: left + size // 3] = rng.integers(150, 255)
    return image


def picture_folder(root: Path, names, seed: int = 0, size: int = 16) -> Path:
    for index, name in enumerate(names):
        write_image(root / name, picture(seed * 1000 + index, size))
    return root


def numbered(count: int, suffix: str = ".png") -> list[str]:
    return [f"{index}{suffix}" for index in range(count)]


def write_idx(path: Path, array: np.ndarray, level: int = 9) -> None:
    """An IDX file (the MNIST format: magic with the dtype and rank, the sizes, the bytes), gzipped
    (``level`` 0: stored, so that other digits give a file of the same size)."""
    array = np.asarray(array, np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(gzip.compress(header + array.tobytes(), compresslevel=level))


def fake_mnist(root: Path, labels: np.ndarray, seed: int = 0, level: int = 9) -> Path:
    """A data dir holding mnist/ IDX files of ``len(labels)`` random 28x28 digits."""
    folder = root / "mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for prefix in ("train", "t10k"):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 255, (len(labels), 28, 28)), level)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels, level)
    return root


# ======================================================================= checks shared by cases
def finished_problems(run: Path, epochs: int, planted_lock: str | None = None) -> list[str]:
    """What is wrong with ``run`` as a run of ``epochs`` toy epochs: training.csv
    lists each epoch once in order, the checkpoint holds ``epochs * STEPS``
    optimizer steps, no temporaries lie around, the lock is released (a
    ``planted_lock`` the case wrote and the tree never touched is not its lock)."""
    problems = []
    logged = logged_epochs(run)
    if logged != list(range(epochs)):
        problems.append(f"training.csv epochs {logged} (expected {list(range(epochs))})")
    if csv_headers(run) > 1:
        problems.append(f"training.csv has {csv_headers(run)} header rows")
    steps = steps_of(run)
    if steps != epochs * STEPS:
        problems.append(f"checkpoint holds {steps} optimizer steps (expected {epochs * STEPS})")
    leftovers = temporaries(run)
    if leftovers:
        problems.append(f"leftovers {leftovers[:3]}")
    lock = run / ".lock"
    if lock.exists() and (planted_lock is None or lock.read_text() != planted_lock):
        problems.append("RUN/.lock left behind")
    return problems


def export_problems(report: dict, base: str = "generator") -> tuple[str, str] | None:
    """``data lost`` when the newest export version does not load (or none is left),
    ``silent`` when an older numbered folder does not load; None when all load."""
    found = report["exports"].get(base, {})
    if not found:
        return "data lost", f"no version left under export/{base}"
    newest = max(found, key=int)
    if found[newest] != "loads":
        return "data lost", f"export/{base}/{newest} (the newest) {found[newest]}"
    broken = [f"{name} {state}" for name, state in found.items() if state != "loads"]
    if broken:
        return "silent", f"numbered export folders that do not load: {broken}"
    return None


def tensorboard_problems(report: dict, epochs: int) -> list[str]:
    problems = []
    if report["tensorboard"] != list(range(epochs)):
        problems.append(f"TensorBoard epoch steps {report['tensorboard']} (expected {list(range(epochs))})")
    if report["broken_events"]:
        problems.append(f"unreadable event files {report['broken_events']}")
    return problems


def judged(result: Result, problems: list[str], fine: str, who: str = "") -> tuple[str, str]:
    """A command that should have worked: its failure class, else silent with the
    problems a check found, else ok with ``fine``."""
    failure = stopped(result, who)
    if failure:
        return failure
    if problems:
        return "silent", "exit 0, but " + "; ".join(problems)
    return "ok", fine


def resume_and_check(bench: Bench, flags: list, run: Path, epochs: int, before: str,
                     tensorboard: bool = True, exports: bool = True) -> tuple[str, str]:
    """Runs the same command again after an interruption and checks the run is whole."""
    result = bench.run(*flags)
    failure = stopped(result, "the resume")
    if failure:
        return failure[0], f"{before}; {failure[1]}"
    problems = finished_problems(run, epochs)
    if tensorboard or exports:
        report = bench.verify(run)
        if tensorboard:
            problems += tensorboard_problems(report, epochs)
        if exports:
            lost = export_problems(report)
            if lost:
                return lost[0], f"{before}; after the resume {lost[1]}"
    if problems:
        return "silent", f"{before}; the resume exits 0, but " + "; ".join(problems)
    return "ok", f"{before}; resumed: each epoch logged once, {epochs * STEPS} optimizer steps, export loads"


def usage_case(bench: Bench, name: str, flags: list, script_flags) -> tuple[str, str]:
    """An impossible option value: a usage error is right; an exit 0 is silent, with what it made."""
    place = bench.place(name)
    run = place / "run"
    result = bench.run(*script_flags(place, run), *flags)
    failure = stopped(result)
    if failure:
        return failure
    logged, exported = logged_epochs(run), versions(run / "export" / "generator")
    return "silent", (f"exit 0: {len(logged)} epoch(s) logged, {STEPS * len(logged)} steps, "
                      f"{'an export written' if exported else 'no export'}")


# ======================================================================= the cases
CASES: list[tuple[str, str | None, object, str | None]] = []


def case(text: str, tests: str | None = None, group: str | None = None):
    """Registers a case; its number is its place in this file. ``tests``: the
    tests of ``pytest -q`` that check the same case (docs/run_safety.md names them);
    ``group``: a name ``--only`` selects it by (``issue26``)."""
    def register(function):
        CASES.append((text, tests, function, group))
        return function
    return register


def mnist_usage(bench):
    return lambda place, run: bench.mnist(run, 1)


def folder_usage(bench, count: int = 8):
    def flags(place, run):
        images = picture_folder(place / "pics", numbered(count))
        return bench.folder_run(images, run, 1)
    return flags


def labelled(place: Path, rows: list[tuple[str, str]], header: str = "filename,kind", encoding: str = "utf-8",
             names=None) -> tuple[Path, Path]:
    """A picture folder and a labels CSV with ``rows`` (file name, label)."""
    images = picture_folder(place / "pics", names or [name for name, _ in rows])
    table = place / "labels.csv"
    table.write_bytes((header + "\n" + "".join(f"{name},{label}\n" for name, label in rows)).encode(encoding))
    return images, table


def cgan_flags(bench, images, table, run, epochs=1, *flags):
    return bench.folder_run(images, run, epochs, "--labels", table, "--label-column", "kind", *flags,
                            script="cgan_anime")


PETS = [(f"{index}.png", "cat" if index % 2 else "dog") for index in range(8)]


# ---------------------------------------------------------------------- 1-27: the cases issue 18 names
@case("`cp -r RUN COPY`, then the same command with more `--epochs` on COPY",
      tests="`test_run_safety::test_copied_run_dir_resumes_exactly`")
def copied_run(bench):
    source = bench.finished_mnist()
    copy = bench.place("copied") / "copy"
    time.sleep(0.05)
    subprocess.run(["cp", "-r", str(source), str(copy)], check=True)  # new mtimes, as cp -r gives
    result = bench.run(*bench.mnist(copy, 3))
    trained = [epoch for epoch in (1, 2, 3) if f"Epoch {epoch}/3" in result.out]
    problems = finished_problems(copy, 3)
    if trained != [3]:
        problems.append(f"epochs trained by the resume: {trained} (expected [3])")
    return judged(result, problems, "resumed exactly at epoch 3 (6 optimizer steps, epochs 0-2 logged once)")


def _killed_in_a_save(bench):
    """Shared by cases 2 and 3: kill -9 while the checkpoint of epoch >= 2 is being
    written (a ``*tmp*`` file in RUN/checkpoints), then the same command again."""
    def make():
        for attempt in range(3):
            run = bench.place(f"kill_save_{attempt}") / "run"
            # 16 filters: a larger weights file, a longer save to land in.
            flags = bench.mnist(run, 3, "--g-filters", "16", "--d-filters", "16")
            running = bench.start(*flags)

            def saving():
                try:
                    names = os.listdir(run / "checkpoints")
                except FileNotFoundError:
                    return False
                return any("tmp" in name for name in names) and saved_epoch(run) >= 1
            landed = wait_for(running, saving) and running.signal(signal.SIGKILL)
            running.wait()
            if landed:
                left = temporaries(run, "checkpoints")
                logged = logged_epochs(run)
                return run, flags, left, logged, bench.run(*flags)
        raise SetupFailed("no kill landed inside a checkpoint save in 3 tries")
    return bench.once("kill_save", make)


@case("kill -9 during the checkpoint save",
      tests="`test_run_safety::test_kill_9_at_random_moments_then_resume`")
def kill_in_save(bench):
    run, flags, left, logged, result = _killed_in_a_save(bench)
    problems = finished_problems(run, 3)
    problems = [problem for problem in problems if not problem.startswith("leftovers")]  # case 3's
    if result.rc == 0:
        problems += tensorboard_problems(bench.verify(run), 3)
    return judged(result, problems, f"killed with epochs {logged} logged; resumed: each epoch logged once "
                                    "in training.csv and TensorBoard, 6 optimizer steps", who="the resume")


@case("kill -9 during the checkpoint save: leftovers",
      tests="`test_run_safety::test_kill_9_at_random_moments_then_resume`")
def kill_in_save_leftovers(bench):
    run, flags, left, logged, result = _killed_in_a_save(bench)
    failure = stopped(result, "the resume")
    if failure:
        return failure
    still = temporaries(run, "checkpoints")
    if still:
        return "silent", f"the kill left {left}; after the resume still {still}"
    return "ok", f"the kill left {left or 'nothing'}; none left after the resume"


@case("`--lr 0.1` on an existing run",
      tests="`test_run_identity::test_a_changed_learning_rate_is_refused`, `::test_a_forced_learning_rate_wins_over_the_checkpoint`")
def changed_lr(bench):
    run = bench.copy_of(bench.finished_mnist(), "lr")
    result = bench.run(*bench.mnist(run, 3, "--lr", "0.1"))
    failure = stopped(result)
    if failure:
        return failure
    recorded = config(run).get("run", {}).get("lr")
    state = checkpoint(run)
    trained = state and state["g_optimizer"]["lr"]
    if trained is not None and abs(trained - 0.1) > 1e-6:
        return "silent", f"exit 0: config.json records lr {recorded}, the checkpoint's optimizer trained at {trained:.4g}"
    return "ok", f"exit 0 and trained at lr {trained}"


def _folder_places(bench):
    """Cases 5 and 6: a/good and b/good (other pictures, same names) and a finished
    1-epoch dcgan_folder run made from a/ with ``--images good``."""
    def make():
        root = bench.place("places")
        for seed, place in enumerate("ab"):
            picture_folder(root / place / "good", numbered(8), seed=seed + 1)
        run = root / "run"
        result = bench.run(*bench.folder_run("good", run, 1), cwd=root / "a")
        if result.rc != 0:
            raise SetupFailed(f"the base folder run failed: {stopped(result)[1]}")
        return root, run
    return bench.once("places", make)


@case("the same relative `--images good` from another working directory",
      tests="`test_run_identity::test_the_same_relative_path_from_another_directory_is_other_data`")
def relative_elsewhere(bench):
    root, base = _folder_places(bench)
    run = bench.copy_of(base, "relative_elsewhere")
    result = bench.run(*bench.folder_run("good", run, 2), cwd=root / "b")
    failure = stopped(result)
    if failure:
        return failure
    return "silent", f"exit 0: resumed the run of a/good on the pictures of b/good (epochs {logged_epochs(run)})"


@case("`./good` vs `good`", tests="`test_run_identity::test_spellings_of_one_folder_are_one_run`")
def spellings(bench):
    root, base = _folder_places(bench)
    run = bench.copy_of(base, "spellings")
    result = bench.run(*bench.folder_run("./good", run, 2), cwd=root / "a")
    failure = stopped(result)
    if failure:
        return failure[0], "refused as another run: " + failure[1] if failure[0] == "clear error" else failure[1]
    return judged(result, finished_problems(run, 2), "one run: resumed at epoch 2")


def _labelled_base(bench):
    """Cases 7 and 8: a finished 1-epoch cgan_anime run on 8 pictures labelled cat/dog by a CSV."""
    def make():
        place = bench.place("labelled")
        images, table = labelled(place, PETS)
        run = place / "run"
        result = bench.run(*cgan_flags(bench, images, table, run))
        if result.rc != 0:
            raise SetupFailed(f"the base labelled run failed: {stopped(result)[1]}")
        return images, table, run
    return bench.once("labelled", make)


def _with_table(table: Path, rows, action):
    """Runs ``action()`` with the labels CSV rewritten to ``rows``, then puts it back
    (the CSV's path is part of the run, so the case must change it in place)."""
    original = table.read_bytes()
    table.write_text("filename,kind\n" + "".join(f"{name},{label}\n" for name, label in rows))
    try:
        return action()
    finally:
        table.write_bytes(original)


@case("a class renamed in the labels CSV",
      tests="`test_run_identity::test_class_names_are_part_of_the_data`, `::test_labels_from_subfolders_and_csv_are_part_of_the_data`")
def renamed_class(bench):
    images, table, base = _labelled_base(bench)
    run = bench.copy_of(base, "renamed_class")
    rows = [(name, "zebra" if label == "cat" else label) for name, label in PETS]  # ids shift: dog=0, zebra=1
    result = _with_table(table, rows, lambda: bench.run(*cgan_flags(bench, images, table, run, 2)))
    failure = stopped(result)
    if failure:
        return failure
    return "silent", f"exit 0: resumed with the classes {class_names(run)} on a checkpoint trained on ['cat', 'dog']"


@case("a class added to the labels CSV",
      tests="`test_run_identity::test_a_refused_run_changes_nothing_in_the_run_directory`")
def added_class(bench):
    images, table, base = _labelled_base(bench)
    run = bench.copy_of(base, "added_class")
    recorded = (run / "config.json").read_bytes()
    rows = [*PETS[:-1], (PETS[-1][0], "fox")]
    result = _with_table(table, rows, lambda: bench.run(*cgan_flags(bench, images, table, run, 2)))
    overwritten = (run / "config.json").read_bytes() != recorded
    failure = stopped(result)
    if failure and overwritten:
        return (failure[0] if failure[0] != "clear error" else "data lost"), f"{failure[1]}; config.json overwritten"
    if failure:
        return failure[0], f"{failure[1]}; config.json unchanged"
    return "silent", f"exit 0 with 3 classes on a 2-class checkpoint (classes {class_names(run)})"


def _pad_export(version: Path, files: int = 3000):
    """Makes a version folder slow to delete (a real export is many MB), so that a
    kill can land while it is being pruned. The files lie beside saved_model.pb,
    so a deletion meets that one somewhere among them; TF never reads them."""
    for index in range(files):
        (version / f"padding{index}.bin").write_bytes(b"x")


@case("kill -9 during the final export",
      tests="`test_run_safety::test_failed_export_leaves_previous_version_and_no_numbered_half`, `::test_kill_9_at_random_moments_then_resume`")
def kill_in_final_export(bench):
    run = bench.copy_of(bench.finished_mnist(), "kill_export")
    base = run / "export" / "generator"
    running = bench.start(*bench.mnist(run, 3))

    def exporting():
        try:
            return any(name.startswith(".staging-") for name in os.listdir(base))
        except FileNotFoundError:
            return False
    landed = wait_for(running, exporting) and running.signal(signal.SIGKILL)
    result = running.wait()
    if not landed:
        failure = stopped(result)
        return "skipped", f"the kill did not land in the export ({failure[1] if failure else 'the run had ended'})"
    lost = export_problems(bench.verify(run))
    if lost:
        return lost[0], f"after the kill: {lost[1]}"
    return "ok", f"after the kill every numbered version loads ({versions(base)}); leftovers {temporaries(run, 'export')}"


@case("two processes on one `--out`",
      tests="`test_run_safety::test_two_processes_on_one_run_dir_only_one_trains`, `::test_stale_lock_is_taken_over_with_a_message`")
def two_processes(bench):
    run = bench.place("two") / "run"
    pair = [bench.start(*bench.mnist(run, 1)) for _ in range(2)]
    results = [running.wait() for running in pair]
    failures = [stopped(result, f"process {index + 1}") for index, result in enumerate(results)]
    facts = f"training.csv: {csv_headers(run)} header row(s), epochs {logged_epochs(run)}"
    crashed = [failure for failure in failures if failure and failure[0] in ("crash", "hang")]
    if crashed:
        return crashed[0][0], f"{crashed[0][1]}; {facts}"
    if all(failure is None for failure in failures):
        return "silent", f"both trained and exited 0; {facts}"
    if all(failures):
        return "clear error", f"both stopped: {failures[0][1]}"
    refused = next(failure for failure in failures if failure)
    problems = finished_problems(run, 1)
    if problems:
        return "silent", f"{refused[1]}; but " + "; ".join(problems)
    return "clear error", f"one trained, the other stopped at once: {refused[1]}"


@case("full disk (3 MB tmpfs as `--out`)",
      tests="`test_run_safety::test_full_tmpfs_stops_cleanly_and_resumes_after_space_is_freed` (skipped with the reason where mounting is not permitted), `::test_full_disk_during_checkpoint_gives_one_message_and_resumes`")
def full_disk(bench):
    mount = bench.place("tmpfs") / "small"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        return "skipped", f"cannot mount a 3 MB tmpfs here: {_short((mounted.stderr or mounted.stdout).strip())}"
    try:
        run = mount / "run"
        first = bench.run(*bench.mnist(run, 1))
        if first.rc != 0:
            return stopped(first, "the first epoch, with space")
        stats = os.statvfs(mount)
        # Room for an epoch's logs and samples, not for a second checkpoint beside the first.
        (mount / "filler").write_bytes(b"\0" * max(0, stats.f_bavail * stats.f_frsize - 40 * 1024))
        full = bench.run(*bench.mnist(run, 3))
        failure = stopped(full, "on the full disk")
        if failure is None:
            return "silent", f"exit 0 on a full disk: epochs {logged_epochs(run)}, {steps_of(run)} steps"
        if failure[0] != "clear error":
            return failure[0], f"{failure[1]} ({len(re.findall(TRACEBACK, full.err))} traceback(s))"
        (mount / "filler").unlink()
        verdict = resume_and_check(bench, bench.mnist(run, 3), run, 3, f"one message: {failure[1]}",
                                   tensorboard=False)
        return ("clear error", verdict[1]) if verdict[0] == "ok" else verdict
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


RANGE_TEST = "`test_run_identity::test_impossible_values_are_usage_errors_naming_the_flag_and_range`"


def usage(text: str, name: str, flags: list, script_flags=mnist_usage) -> None:
    """Registers an impossible-option case that :func:`usage_case` judges."""
    case(text, tests=RANGE_TEST)(lambda bench: usage_case(bench, name, flags, script_flags(bench)))


usage("`--batch-size 0`", "batch_zero", ["--batch-size", "0"])
usage("`--batch-size -4`", "batch_negative", ["--batch-size", "-4"])
usage("`--latent-dim -1`", "latent_negative", ["--latent-dim", "-1"])
usage("`--g-filters 0`", "filters_zero", ["--g-filters", "0"])
usage("`--subset -5`", "subset_negative", ["--subset", "-5"], folder_usage)


@case("`--eval-samples 0`", tests=RANGE_TEST)
def eval_samples_zero(bench):
    # Evaluation on (every epoch), with a 1-epoch feature network of the folder.
    return usage_case(bench, "eval_samples_zero", ["--eval-samples", "0", "--eval-every", "1", "--classifier-epochs", "1"],
                      folder_usage(bench))


@case("`--steps-per-epoch -1`", tests=RANGE_TEST)
def steps_negative(bench):
    place = bench.place("steps_negative")
    run = place / "run"
    # A toy epoch takes seconds: 90 s without an exit or a checkpoint is training forever.
    result = bench.run(*bench.mnist(run, 1, "--steps-per-epoch", "-1"), timeout=90)
    failure = stopped(result)
    if failure and failure[0] == "hang":
        return "hang", f"{failure[1]}; checkpoint written: {(run / 'checkpoints' / 'latest.weights.h5').exists()}"
    if failure:
        return failure
    return "silent", f"exit 0: epochs {logged_epochs(run)}, {steps_of(run)} steps"


@case("`--epochs 0`",
      tests="`test_run_identity::test_the_epochs_error_says_how_to_rewrite_a_finished_run`")
def epochs_zero(bench):
    return usage_case(bench, "epochs_zero", ["--epochs", "0"], mnist_usage(bench))


@case("`--latent-dim 0`", tests=RANGE_TEST)
def latent_zero(bench):
    verdict = usage_case(bench, "latent_zero", ["--latent-dim", "0"], mnist_usage(bench))
    if verdict[0] == "silent":
        return "silent", verdict[1] + " of a generator without noise (one image, whatever the seed)"
    return verdict


@case("labels CSV saved with a UTF-8 BOM (Excel)",
      tests="`test_labels::test_csv_with_excel_byte_order_mark_and_spaced_header_is_read`")
def csv_bom(bench):
    place = bench.place("bom")
    images, table = labelled(place, PETS, encoding="utf-8-sig")
    run = place / "run"
    result = bench.run(*cgan_flags(bench, images, table, run))
    failure = stopped(result)
    if failure:
        return failure[0], ("refused: " if failure[0] == "clear error" else "") + failure[1]
    names = class_names(run)
    return judged(result, [] if names == ["cat", "dog"] else [f"classes {names}"], f"read: classes {names}")


@case("label ids `1`, `01`, ` 1`, `1.0`",
      tests="`test_labels::test_numeric_labels_are_one_class_however_they_are_written`")
def numeric_labels(bench):
    place = bench.place("numeric")
    rows = list(zip(numbered(8), ["1", "01", " 1", "1.0", "2", "2", "2", "2"]))
    images, table = labelled(place, rows)
    run = place / "run"
    result = bench.run(*cgan_flags(bench, images, table, run))
    names = class_names(run)
    problems = [] if names is not None and len(names) == 2 else [f"{len(names or [])} classes {names}"]
    return judged(result, problems, f"classes {names}")


@case("a file listed twice with different labels",
      tests="`test_labels::test_conflicting_duplicate_rows_are_listed_and_identical_ones_accepted`")
def conflicting_rows(bench):
    place = bench.place("conflict")
    images, table = labelled(place, [*PETS, ("0.png", "cat")])  # 0.png is a dog in the first row
    run = place / "run"
    result = bench.run(*cgan_flags(bench, images, table, run))
    failure = stopped(result)
    if failure:
        return failure
    return "silent", f"exit 0: trained with one of the two labels of 0.png (classes {class_names(run)})"


@case("`x.jpg` in two sub-folders, named `x.jpg` in the CSV",
      tests="`test_labels::test_base_name_shared_by_two_images_is_refused_with_the_candidates`")
def shared_base_name(bench):
    place = bench.place("base_name")
    images = picture_folder(place / "pics", ["x/1.jpg", "y/1.jpg", "z/2.jpg", "z/3.jpg"])
    table = place / "labels.csv"
    table.write_text("filename,kind\n1.jpg,cat\n2.jpg,dog\nz/3.jpg,dog\n")
    run = place / "run"
    result = bench.run(*bench.folder_run(images, run, 1, "--labels", table, "--label-column", "kind",
                                         "--batch-size", "2", script="cgan_anime"))
    failure = stopped(result)
    if failure:
        return failure
    return "silent", f"exit 0: trained on {image_count(result)} images"


@case("MNIST labels outside 0–9",
      tests="`test_labels::test_idx_labels_outside_the_ten_classes_are_refused`")
def idx_labels_out_of_range(bench):
    place = bench.place("idx_labels")
    labels = np.array([0, 1, 2, 10, 4, 5, 255, 7] * 4)
    data = fake_mnist(place / "data", labels)
    run = place / "run"
    # cgan_mnist: the labels condition G and D, so labels outside 0-9 change what is trained.
    result = bench.run(*bench.mnist(run, 1, script="cgan_mnist", data_dir=data))
    failure = stopped(result)
    if failure:
        return failure
    return "silent", "exit 0: trained with labels 10 and 255 among the 10 classes"


def _lineart_sources(place: Path) -> Path:
    data = place / "data"
    picture_folder(data / "anime_faces" / "images", numbered(6), size=48)
    return data


@case("`pix2pix_lineart` with another `--kernel-size`",
      tests="`test_labels::test_lineart_pairs_are_remade_when_the_settings_or_sources_change`")
def lineart_kernel(bench):
    place = bench.place("lineart")
    data, pairs = _lineart_sources(place), place / "pairs"

    def made(kernel, out):
        result = bench.run("pix2pix_lineart", "--data-dir", data, "--pairs-dir", pairs, "--out", place / out,
                           "--kernel-size", kernel, "--val-count", "2", "--epochs", "1", *PIX2PIX_TINY)
        return result, snapshot(pairs / "lineart") if (pairs / "lineart").is_dir() else {}

    first, kernel3 = made(3, "run3")
    failure = stopped(first, "--kernel-size 3")
    if failure:
        return failure
    second, kernel5 = made(5, "run5")
    failure = stopped(second, "--kernel-size 5")
    if failure:
        return failure
    same = [name for name in kernel5 if kernel3.get(name) == kernel5[name]]
    if same:
        return "silent", f"exit 0: {len(same)} of {len(kernel5)} line-art files still those of --kernel-size 3"
    return "ok", f"all {len(kernel5)} line-art pairs remade with --kernel-size 5"


@case("validation images `1.jpg` and `1.png`",
      tests="`test_labels::test_gallery_keeps_every_image_when_stems_repeat`")
def gallery_collision(bench):
    place = bench.place("gallery")
    data = place / "data"
    # Facades files hold the photo and its label map side by side (64x32 here).
    for split, names in (("train", ["1.jpg", "2.jpg", "3.jpg", "4.jpg"]), ("val", ["1.jpg", "1.png"])):
        for index, name in enumerate(names):
            write_image(data / "facades" / split / name,
                        np.concatenate([picture(index, 32), picture(100 + index, 32)], axis=1))
    run = place / "run"
    result = bench.run("pix2pix_facades", "--data-dir", data, "--out", run, "--epochs", "1", *PIX2PIX_TINY)
    failure = stopped(result)
    if failure:
        return failure
    written = sorted(path.name for path in (run / "gallery" / "images").glob("*")) if (run / "gallery").is_dir() else []
    if len(written) < 2:
        return "data lost", f"exit 0, the gallery holds {written} for 2 validation images (one overwrote the other)"
    return "ok", f"the gallery keeps both: {written}"


# ---------------------------------------------------------------------- 28-56: other hostile runs
def _kill_then_resume(bench, name: str, moment, epochs: int = 3, flags=(), sig=signal.SIGKILL,
                      expect_stop=None) -> tuple[str, str]:
    """Starts a toy run of ``epochs``, sends ``sig`` when ``moment(run, running)`` holds,
    then runs the same command again and checks the run is whole (logs, steps,
    TensorBoard, export). ``expect_stop(result)`` judges the interrupted process's
    own exit (for SIGINT: a message, not a traceback)."""
    run = bench.place(name) / "run"
    command = bench.mnist(run, epochs, *flags)
    running = bench.start(*command)
    landed = wait_for(running, lambda: moment(run, running)) and running.signal(sig)
    interrupted = running.wait()
    if not landed:
        failure = stopped(interrupted)
        return failure if failure else ("skipped", "the moment never came: the run ended first")
    said = f"{signal.Signals(sig).name} at epoch {saved_epoch(run) + 1} (epochs logged {logged_epochs(run)})"
    if expect_stop:
        problem = expect_stop(interrupted)
        if problem:
            return problem
    return resume_and_check(bench, command, run, epochs, said)


def _stdout_has(text: str):
    return lambda run, running: text in running.stdout()


@case("kill -9 right after the start (imports, data loading)")
def kill_at_start(bench):
    started = time.monotonic()
    return _kill_then_resume(bench, "kill_start", lambda run, running: time.monotonic() - started > 2.0)


@case("kill -9 during the first epoch, before any checkpoint")
def kill_first_epoch(bench):
    return _kill_then_resume(bench, "kill_first", _stdout_has("Epoch 1/"))


@case("kill -9 between epochs, just after a checkpoint")
def kill_between(bench):
    def after_save(run, running):
        try:
            names = os.listdir(run / "checkpoints")
        except FileNotFoundError:
            return False
        return saved_epoch(run) >= 1 and not any("tmp" in name for name in names)
    return _kill_then_resume(bench, "kill_between", after_save)


@case("kill -9 during an evaluation (dcgan_folder, evaluation every epoch)")
def kill_in_evaluation(bench):
    place = bench.place("kill_eval")
    images = picture_folder(place / "pics", numbered(16))
    run = place / "run"
    command = bench.folder_run(images, run, 2, "--eval-every", "1", "--eval-samples", "200",
                               "--classifier-epochs", "1")
    running = bench.start(*command)
    landed = wait_for(running, lambda: "Epoch 2 evaluation" in running.stdout()) and running.signal(signal.SIGKILL)
    interrupted = running.wait()
    if not landed:
        return stopped(interrupted) or ("skipped", "the run ended before the second evaluation")
    said = f"killed in the evaluation of epoch 2 (epochs logged {logged_epochs(run)})"
    result = bench.run(*command)
    failure = stopped(result, "the resume")
    if failure:
        return failure[0], f"{said}; {failure[1]}"
    problems = finished_problems(run, 2)
    best_file = run / "best" / "best.json"
    best = json.loads(best_file.read_text()) if best_file.exists() else {}
    if not best:
        problems.append("no RUN/best/best.json")
    lost = export_problems(bench.verify(run), "best_generator")
    if lost:
        return lost[0], f"{said}; {lost[1]}"
    if problems:
        return "silent", f"{said}; the resume exits 0, but " + "; ".join(problems)
    return "ok", f"{said}; resumed: each epoch logged once, best epoch {best.get('epoch')}, best export loads"


@case("kill -9 during the first export (no earlier version)")
def kill_in_first_export(bench):
    def exporting(run, running):
        try:
            return any(name.startswith(".staging-") for name in os.listdir(run / "export" / "generator"))
        except FileNotFoundError:
            return False
    return _kill_then_resume(bench, "kill_first_export", exporting, epochs=1)


def _interrupted_cleanly(result: Result):
    """SIGINT: the run should stop with its message, not a traceback (KeyboardInterrupt)."""
    failure = stopped(result, "the interrupted run")
    if failure and failure[0] != "clear error":
        return failure
    return None


@case("SIGINT (ctrl-C) during training, then the same command")
def sigint(bench):
    return _kill_then_resume(bench, "sigint", lambda run, running: saved_epoch(run) >= 1 and "Epoch 2/" in running.stdout(),
                             sig=signal.SIGINT, expect_stop=_interrupted_cleanly)


@case("SIGTERM during training, then the same command")
def sigterm(bench):
    return _kill_then_resume(bench, "sigterm", lambda run, running: saved_epoch(run) >= 1 and "Epoch 2/" in running.stdout(),
                             sig=signal.SIGTERM)


@case("a lock left by a killed process of this host")
def stale_lock(bench):
    run = bench.copy_of(bench.finished_mnist(), "stale_lock")
    dead = subprocess.Popen(["true"])
    dead.wait()
    planted = json.dumps({"pid": dead.pid, "host": platform.node(), "since": int(time.time())})
    (run / ".lock").write_text(planted)
    result = bench.run(*bench.mnist(run, 3))
    ignored = (run / ".lock").exists() and (run / ".lock").read_text() == planted
    return judged(result, finished_problems(run, 3, planted),
                  "no lock in this tree: the file was ignored; resumed at epoch 3" if ignored
                  else "the stale lock taken over with a message; resumed at epoch 3")


@case("the same command with fewer `--epochs` than done")
def fewer_epochs(bench):
    run = bench.copy_of(bench.finished_mnist(), "fewer")
    before = checkpoint(run)
    result = bench.run(*bench.mnist(run, 1))
    failure = stopped(result)
    if failure and failure[0] != "clear error":
        return failure
    problems = []
    if logged_epochs(run) != [0, 1]:
        problems.append(f"training.csv epochs now {logged_epochs(run)}")
    if checkpoint(run) != before:
        problems.append(f"checkpoint changed: {before} -> {checkpoint(run)}")
    lost = export_problems(bench.verify(run))
    if lost:
        return lost
    if problems:
        return ("silent", "; ".join(problems)) if not failure else ("data lost", f"{failure[1]}; " + "; ".join(problems))
    if failure:
        return failure
    return "ok", "exit 0: nothing trained, the 2-epoch checkpoint and logs kept, the export loads"


@case("the same command again after the run finished")
def same_after_finish(bench):
    run = bench.copy_of(bench.finished_mnist(), "same_again")
    result = bench.run(*bench.mnist(run, 2))
    problems = finished_problems(run, 2)
    if "Epoch 1/2" in result.out or "Epoch 2/2" in result.out:
        problems.append("trained again")
    lost = export_problems(bench.verify(run)) if result.rc == 0 else None
    if lost:
        return lost
    return judged(result, problems, f"exit 0: nothing retrained, exports {versions(run / 'export' / 'generator')} load")


def _broken_checkpoint(bench, name: str, damage) -> tuple[str, str]:
    """A checkpoint damaged by ``damage(path)``: a clear error, or a fresh start with
    consistent logs, is right; a traceback is a crash."""
    run = bench.copy_of(bench.finished_mnist(), name)
    damage(run / "checkpoints" / "latest.weights.h5")
    result = bench.run(*bench.mnist(run, 3))
    failure = stopped(result)
    if failure:
        return failure
    logged = logged_epochs(run)
    if logged != sorted(set(logged)) or logged != [0, 1, 2]:
        return "silent", f"exit 0: training.csv epochs {logged}, {steps_of(run)} steps"
    return "ok", f"exit 0: epochs {logged}, {steps_of(run)} optimizer steps"


@case("a truncated latest checkpoint (half its bytes)")
def truncated_checkpoint(bench):
    def truncate(path):
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return _broken_checkpoint(bench, "truncated", truncate)


@case("an empty (0-byte) latest checkpoint")
def empty_checkpoint(bench):
    return _broken_checkpoint(bench, "empty_checkpoint", lambda path: path.write_bytes(b""))


@case("the checkpoints folder deleted, then the same command with more `--epochs`")
def deleted_checkpoints(bench):
    run = bench.copy_of(bench.finished_mnist(), "no_checkpoints")
    shutil.rmtree(run / "checkpoints")
    result = bench.run(*bench.mnist(run, 3))
    failure = stopped(result)
    if failure:
        return failure
    logged = logged_epochs(run)
    # Starting over is fine if the logs say so: epochs 0-2 once each, 6 fresh steps.
    if logged != [0, 1, 2] or steps_of(run) != 3 * STEPS:
        return "silent", f"exit 0: training.csv epochs {logged}, {steps_of(run)} steps"
    return "ok", f"exit 0: started over, epochs {logged} logged once, {steps_of(run)} steps"


@case("a read-only run directory")
def read_only(bench):
    run = bench.copy_of(bench.finished_mnist(), "read_only")
    before = snapshot(run)
    bind = subprocess.run(["mount", "--bind", str(run), str(run)], capture_output=True, text=True)
    if bind.returncode != 0:
        return "skipped", f"cannot bind-mount here (root ignores file modes): {_short(bind.stderr.strip())}"
    try:
        remount = subprocess.run(["mount", "-o", "remount,bind,ro", str(run)], capture_output=True, text=True)
        if remount.returncode != 0:
            return "skipped", f"cannot remount read-only: {_short(remount.stderr.strip())}"
        result = bench.run(*bench.mnist(run, 3))
    finally:
        subprocess.run(["umount", "-l", str(run)], capture_output=True)
    failure = stopped(result)
    if snapshot(run) != before:
        return "data lost", f"the run directory changed ({failure[1] if failure else 'exit 0'})"
    if failure:
        return failure
    return "silent", "exit 0 without writing anything"


@case("`--out` pointing at a file")
def out_is_file(bench):
    place = bench.place("out_file")
    (place / "notes.txt").write_text("not a run directory\n")
    result = bench.run(*bench.mnist(place / "notes.txt", 1))
    failure = stopped(result)
    if failure:
        intact = (place / "notes.txt").read_text() == "not a run directory\n"
        return (failure[0], failure[1]) if intact else ("data lost", f"{failure[1]}; the file was changed")
    return "silent", "exit 0 with a file as --out"


@case("a missing data dir (`--data-dir` naming nothing)")
def missing_data_dir(bench):
    place = bench.place("missing_data")
    result = bench.run(*bench.mnist(place / "run", 1, data_dir=place / "nowhere"))
    failure = stopped(result)
    return failure or ("silent", "exit 0 without the data")


@case("`--images` naming a file, not a folder")
def images_is_file(bench):
    place = bench.place("images_file")
    single = write_image(place / "one.png", picture(0))
    result = bench.run(*bench.folder_run(single, place / "run", 1))
    return stopped(result) or ("silent", "exit 0 on one file")


@case("an empty image folder")
def empty_folder(bench):
    place = bench.place("empty")
    (place / "pics").mkdir()
    result = bench.run(*bench.folder_run(place / "pics", place / "run", 1))
    return stopped(result) or ("silent", "exit 0 on an empty folder")


def image_count(result: Result) -> int | None:
    """The images a folder run trained on, from its line "N images of DIR at SxS" (both trees print it)."""
    found = re.findall(r"^(\d+) images of ", result.out, re.MULTILINE)
    return int(found[-1]) if found else None


def _folder_should_train(bench, name: str, make, expected: int, note: str) -> tuple[str, str]:
    """A folder the loader should cope with: exit 0 on ``expected`` images."""
    place = bench.place(name)
    images = make(place / "pics")
    run = place / "run"
    result = bench.run(*bench.folder_run(images, run, 1))
    counted = image_count(result)
    problems = [] if counted in (None, expected) else [f"{counted} images recorded (expected {expected})"]
    if result.rc == 0 and "Skipped" not in result.out + result.err and "skip" in note:
        problems.append("the unreadable file was not reported")
    return judged(result, problems, note)


@case("a corrupt image file in the folder")
def corrupt_image(bench):
    def make(root):
        picture_folder(root, numbered(8))
        (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(200))
        return root
    return _folder_should_train(bench, "corrupt", make, 8, "exit 0: the broken file skipped and named")


@case("non-image files in the folder (`notes.txt`, `.DS_Store`)")
def non_images(bench):
    def make(root):
        picture_folder(root, numbered(8))
        (root / "notes.txt").write_text("hello")
        (root / ".DS_Store").write_bytes(os.urandom(64))
        return root
    return _folder_should_train(bench, "non_images", make, 8, "exit 0: trained on the 8 pictures")


@case("greyscale and RGBA images in a colour folder")
def grey_and_rgba(bench):
    def make(root):
        picture_folder(root, numbered(4))
        for index in range(4):
            write_image(root / f"grey{index}.png", picture(50 + index)[..., 0])
            rgba = np.concatenate([picture(60 + index), np.full((16, 16, 1), 128, np.uint8)], axis=-1)
            write_image(root / f"alpha{index}.png", rgba)
        return root
    return _folder_should_train(bench, "grey_rgba", make, 12, "exit 0: all 12 read as RGB")


@case("images of mixed sizes in the folder")
def mixed_sizes(bench):
    def make(root):
        for index, (height, width) in enumerate([(16, 16), (40, 24), (9, 30), (64, 64), (12, 8), (33, 33),
                                                 (100, 20), (8, 8)]):
            write_image(root / f"{index}.jpg", np.resize(picture(index, 100), (height, width, 3)).astype(np.uint8))
        return root
    return _folder_should_train(bench, "mixed_sizes", make, 8, "exit 0: all 8 cropped and resized")


@case("`--batch-size` larger than the images (`--subset 3`)")
def batch_over_data(bench):
    place = bench.place("batch_over")
    images = picture_folder(place / "pics", numbered(8))
    result = bench.run(*bench.folder_run(images, place / "run", 1, "--subset", "3", "--batch-size", "4"))
    failure = stopped(result)
    return failure or judged(result, finished_problems(place / "run", 1), "exit 0")


@case("a symbolic link to its own folder inside the image folder")
def symlink_loop(bench):
    place = bench.place("symlink_loop")
    images = picture_folder(place / "pics", numbered(8))
    (images / "again").symlink_to(images, target_is_directory=True)
    run = place / "run"
    result = bench.run(*bench.folder_run(images, run, 1), timeout=120)
    counted = image_count(result)
    problems = [] if counted in (None, 8) else [f"trained on {counted} images of 8 pictures (each read again through the link)"]
    return judged(result, problems, f"exit 0: {counted} images")


@case("an unknown flag (`--ephocs 3`, a typo of `--epochs`)")
def unknown_flag(bench):
    place = bench.place("unknown_flag")
    # Not "--epoch": argparse takes an unambiguous prefix of a flag as the flag.
    result = bench.run(*bench.mnist(place / "run", 1), "--ephocs", "3")
    return stopped(result) or ("silent", "exit 0: the flag was ignored")


@case("`--precision float64` (not a choice)")
def bad_precision(bench):
    place = bench.place("bad_precision")
    result = bench.run(*bench.mnist(place / "run", 1, "--precision", "float64"))
    return stopped(result) or ("silent", "exit 0")


@case("a labels CSV that is not UTF-8 (Latin-1 `café`)")
def latin1_csv(bench):
    place = bench.place("latin1")
    images, table = labelled(place, [(name, "café" if label == "cat" else label) for name, label in PETS],
                             encoding="latin-1")
    run = place / "run"
    result = bench.run(*cgan_flags(bench, images, table, run))
    failure = stopped(result)
    if failure:
        return failure
    names = class_names(run)
    return ("ok", f"read: classes {names}") if names and "café" in names else ("silent", f"exit 0: classes {names}")


@case("a labels CSV naming files that do not exist")
def csv_missing_files(bench):
    place = bench.place("csv_missing")
    images, table = labelled(place, [*PETS, ("gone.png", "cat"), ("lost.jpg", "dog")], names=[n for n, _ in PETS])
    run = place / "run"
    result = bench.run(*cgan_flags(bench, images, table, run))
    failure = stopped(result)
    if failure:
        return failure
    said = "gone.png" in result.out + result.err
    return ("ok", "exit 0: the missing files named") if said else ("silent", "exit 0: the missing files not mentioned")


@case("`--label-column` naming no column of the CSV")
def wrong_label_column(bench):
    place = bench.place("label_column")
    images, table = labelled(place, PETS)
    result = bench.run(*bench.folder_run(images, place / "run", 1, "--labels", table, "--label-column", "hair",
                                         script="cgan_anime"))
    return stopped(result) or ("silent", "exit 0")


# ---------------------------------------------------------------------- 57-62: added by docs/run_safety.md
@case("*added:* an unreadable config.json in the run directory",
      tests="`test_run_identity::test_an_unreadable_config_is_refused_unless_forced`")
def unreadable_config(bench):
    run = bench.copy_of(bench.finished_mnist(), "unreadable_config")
    (run / "config.json").write_text('{"model": "DCG')
    result = bench.run(*bench.mnist(run, 3))
    failure = stopped(result)
    if failure:
        return failure
    return "silent", f"exit 0: resumed without knowing the run's settings (epochs {logged_epochs(run)})"


@case("*added:* checkpoints in the run directory but no config.json",
      tests="`test_run_identity::test_checkpoints_without_a_config_are_refused_unless_forced`")
def no_config(bench):
    run = bench.copy_of(bench.finished_mnist(), "no_config")
    (run / "config.json").unlink()
    # With another --lr: without a config nothing can tell the run's settings changed.
    result = bench.run(*bench.mnist(run, 3, "--lr", "0.1"))
    failure = stopped(result)
    if failure:
        return failure
    state = checkpoint(run)
    return "silent", (f"exit 0: resumed without a check; config.json now says lr 0.1, "
                      f"the checkpoint trained at {state and state['g_optimizer']['lr']:.4g}")


@case("*added:* a labels CSV with short or empty rows",
      tests="`test_labels::test_empty_and_short_rows_are_listed_by_line`")
def short_rows(bench):
    place = bench.place("short_rows")
    images, table = labelled(place, PETS)
    with table.open("a") as handle:
        handle.write("0.png, \n1.png\n")
    run = place / "run"
    result = bench.run(*cgan_flags(bench, images, table, run))
    failure = stopped(result)
    if failure:
        return failure
    return "silent", f"exit 0: rows without a label accepted (classes {class_names(run)})"


@case("*added:* a data file added to the image folder",
      tests="`test_run_identity::test_an_added_file_changes_the_data`, `::test_a_replaced_image_of_another_size_changes_the_fingerprint`")
def added_file(bench):
    place = bench.place("added_file")
    images = picture_folder(place / "pics", numbered(8))
    run = place / "run"
    first = bench.run(*bench.folder_run(images, run, 1))
    if first.rc != 0:
        return stopped(first, "the first epoch")
    write_image(images / "more" / "extra.png", picture(99))
    result = bench.run(*bench.folder_run(images, run, 2))
    failure = stopped(result)
    if failure:
        return failure
    return "silent", "exit 0: resumed on a folder with another picture, nothing said"


@case("*added:* a lock left by another host",
      tests="`test_run_safety::test_lock_of_another_host_is_refused_with_the_way_out`")
def foreign_lock(bench):
    run = bench.copy_of(bench.finished_mnist(), "foreign_lock")
    planted = json.dumps({"pid": 1, "host": "elsewhere.example", "since": int(time.time())})
    (run / ".lock").write_text(planted)
    result = bench.run(*bench.mnist(run, 3))
    return judged(result, finished_problems(run, 3, planted),
                  "no lock in this tree: the file was ignored and the run resumed")


@case("*added:* a kill while old export versions are being pruned",
      tests="`test_run_safety::test_failed_export_leaves_previous_version_and_no_numbered_half`")
def kill_in_pruning(bench):
    run = bench.copy_of(bench.finished_mnist(), "kill_pruning")
    base = run / "export" / "generator"
    # Five versions already (the most kept): the next export prunes version 1.
    for number in range(2, 6):
        shutil.copytree(base / "1", base / str(number))
    parts = set(os.listdir(base / "1"))  # saved_model.pb, variables, ...
    _pad_export(base / "1")
    running = bench.start(*bench.mnist(run, 2))

    def pruning():
        try:
            names = os.listdir(base)
            if any(name.startswith(".retired-") for name in names):
                return True  # renamed aside, being deleted
            # Deleted in place: version 6 is there and version 1 lacks a part.
            return "6" in names and not parts <= set(os.listdir(base / "1"))
        except FileNotFoundError:
            return False
    landed = wait_for(running, pruning) and running.signal(signal.SIGKILL)
    result = running.wait()
    if not landed:
        failure = stopped(result)
        return failure or ("skipped", f"the kill came after the pruning (versions {versions(base)})")
    lost = export_problems(bench.verify(run))
    if lost:
        return lost[0], f"killed while pruning: {lost[1]}"
    # A folder that loads may still be half deleted (its metadata or warm-up requests gone).
    halves = [f"{name} lacks {sorted(parts - set(os.listdir(base / name)))}" for name in versions(base)
              if not parts <= set(os.listdir(base / name))]
    if halves:
        return "silent", f"killed while pruning: a half-deleted version keeps its number: {halves}"
    return "ok", f"killed while pruning: versions {versions(base)} whole and loading; aside: {temporaries(run, 'export')}"


# ======================================================================= issue 26: the cases of our own
# Issue 26's rules (never delete or replace what the package did not create;
# readers read only regular files inside their folder; caches and fingerprints
# keyed by content; pictures and labels read as they are; one clean exit for
# every command; the Keras edges), each case a scenario the issue's review did not
# run, through the command a user types or the API a user calls.
ISSUE26 = "issue26"


def issue26(text: str, tests: str | None = None):
    return case(text, tests, group=ISSUE26)


# Scenarios of the package's API run in one Python process per group (one
# TensorFlow start for several): each reports, on a line of its own, what it
# returned or raised and what its check found (files kept, bytes unchanged).
SNIPPET_HEAD = r'''
import hashlib, json, sys, traceback
from pathlib import Path
import numpy as np
WORK = Path(sys.argv[1])
WORK.mkdir()


def report(key, **facts):
    print("HOSTILE " + json.dumps({"key": key, **facts}, default=str), flush=True)


def attempt(key, action, check=lambda: {}):
    try:
        facts = {"returned": action() or {}}
    except Exception as error:
        frames = traceback.extract_tb(error.__traceback__)
        facts = {"raised": f"{type(error).__name__}: {error}", "where": frames[-1].filename if frames else ""}
    try:
        facts.update(check())
    except Exception as error:
        facts["check_failed"] = f"{type(error).__name__}: {error}"
    report(key, **facts)


def digests(folder):
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def changed(kept, folder):
    """The files of ``kept`` (digests) now gone or different under ``folder``."""
    now = digests(folder) if Path(folder).is_dir() else {}
    return sorted(name for name, digest in kept.items() if now.get(name) != digest)


def dcgan(**options):
    import tfgan_zoo
    return tfgan_zoo.DCGAN(**{"latent_dim": 8, "image_shape": (16, 16, 1), "g_filters": 4, "d_filters": 4, **options})


def cgan(**options):
    import tfgan_zoo
    return tfgan_zoo.ConditionalGAN(**{"latent_dim": 8, "num_classes": 3, "image_shape": (16, 16, 1),
                                       "g_filters": 4, "d_filters": 4, **options})


def uint8_images(count, size=16, channels=1):
    return np.random.default_rng(0).integers(0, 256, (count, size, size, channels), dtype=np.uint8)


def seed_of(signature, seed):
    """``seed`` as the dtype the signature declares, as a client casts it."""
    import tensorflow as tf
    dtype = signature.structured_input_signature[1]["seed"].dtype
    return tf.constant(np.array(seed).astype(dtype.as_numpy_dtype))
'''

SNIPPETS = {
    # ------------------------------------------------------------- writers and exports
    "exports": r'''
import tensorflow as tf
from tfgan_zoo import export

run = WORK / "run"
for name, data in (("checkpoints/latest.weights.h5", b"weights"), ("logs/training.csv", b"epoch,g_loss\n0,1\n"),
                   ("samples/epoch_001.png", b"png"), ("config.json", b"{}")):
    (run / name).parent.mkdir(parents=True, exist_ok=True)
    (run / name).write_bytes(data)
kept = digests(run)
attempt("export_into_run", lambda: {"wrote": str(dcgan().export(str(run)))}, lambda: {"lost": changed(kept, run)})

notes = WORK / "notes.txt"
notes.write_text("mine")
attempt("export_onto_file", lambda: {"wrote": str(dcgan().export(str(notes)))},
        lambda: {"kept": notes.is_file() and notes.read_text() == "mine"})

base = WORK / "generator"


def prune():
    model = dcgan()
    export.save(model, base)
    (base / "0").mkdir()
    (base / "0" / "notes.txt").write_text("mine")
    export.save(model, base, keep=1)
    export.save(model, base, keep=1)


attempt("prune_beside_users_version", prune,
        lambda: {"kept": (base / "0" / "notes.txt").is_file(), "folders": sorted(p.name for p in base.iterdir())})


def seeds():
    sample = tf.saved_model.load(str(export.save(dcgan(), WORK / "seeded"))).signatures["sample"]
    made = {seed: next(iter(sample(num_samples=tf.constant(2), seed=seed_of(sample, seed)).values())).numpy()
            for seed in (0, 2**32)}
    return {"same": bool(np.array_equal(made[0], made[2**32]))}


attempt("seed_beyond_int32", seeds)


def huge_request():
    sample = tf.saved_model.load(str(export.save(cgan(), WORK / "capped"))).signatures["sample"]
    images = next(iter(sample(labels=tf.zeros([100_000], tf.int32), seed=seed_of(sample, 1)).values()))
    return {"made": int(images.shape[0]), "megabytes": round(images.numpy().nbytes / 2**20)}


attempt("batch_cap", huge_request)


def empty_request():
    generate = tf.saved_model.load(str(export.save(dcgan(), WORK / "served"))).signatures["generate"]
    return {"shape": list(next(iter(generate(noise=tf.zeros([0, 8])).values())).shape)}


attempt("predict_empty", empty_request)


def gallery():
    from tfgan_zoo.gallery import write_gallery
    folder = WORK / "album"
    folder.mkdir()
    (folder / "index.html").write_text("<h1>my album</h1>")
    kept = digests(folder)
    pictures = uint8_images(2, channels=3)
    attempt("gallery_users_folder", lambda: {"page": str(write_gallery(folder, pictures, pictures, pictures))},
            lambda: {"lost": changed(kept, folder)})


gallery()
attempt("format_litert", lambda: {"wrote": str(dcgan().export(str(WORK / "g.tflite"), format="litert")),
                                  "bytes": (WORK / "g.tflite").stat().st_size})


def onnx():
    import onnxruntime
    model = dcgan()
    written = model.export(str(WORK / "g.onnx"), format="onnx")
    session = onnxruntime.InferenceSession(str(WORK / "g.onnx"))
    noise = np.random.default_rng(1).normal(size=(2, 8)).astype("float32")
    images = session.run(None, {session.get_inputs()[0].name: noise})[0]
    return {"wrote": str(written), "shape": list(images.shape)}


attempt("format_onnx", onnx)
attempt("format_unknown", lambda: {"wrote": str(dcgan().export(str(WORK / "g.bin"), format="pytorch"))},
        lambda: {"left": sorted(p.name for p in WORK.iterdir() if p.name.startswith("g.bin"))})
''',
    # ------------------------------------------------------------- the Keras edges
    "keras": r'''
import math
import keras
import tensorflow as tf
import tfgan_zoo

images = uint8_images(4)


def steps(model):
    return int(model.g_optimizer.iterations)


def fitted(model, x, **options):
    model.fit(x, epochs=1, verbose=0, **{"batch_size": 2, **options})
    return {"steps": steps(model)}


def xla():
    model = dcgan()
    model.compile(jit_compile=True)
    return fitted(model, images.astype("float32"))


attempt("xla_255_floats", xla)


def unit():
    model = dcgan()
    model.compile(run_eagerly=True)
    return fitted(model, tf.data.Dataset.from_tensor_slices(images.astype("float32") / 255.0).batch(2), batch_size=None)


attempt("unit_floats", unit)


class NaNLoss(tfgan_zoo.losses.NonSaturatingLoss):
    name = "nan-bce"

    def generator_loss(self, fake_logits):
        return super().generator_loss(fake_logits) * math.nan


def nan():
    model = dcgan()
    model.compile(loss=NaNLoss(), run_eagerly=True)
    model.fit(uint8_images(8), batch_size=2, epochs=3, verbose=0, callbacks=[keras.callbacks.TerminateOnNaN()])
    return {"steps": steps(model)}


attempt("terminate_on_nan", nan)


def weighted(model, *data, **options):
    model.compile(run_eagerly=True)
    model.fit(*data, batch_size=2, epochs=1, verbose=0, **options)
    return {"steps": steps(model)}


attempt("sample_weight", lambda: weighted(dcgan(), images, sample_weight=np.array([1.0, 0.0, 0.0, 0.0])))
attempt("class_weight", lambda: weighted(cgan(), images, np.array([0, 1, 2, 0]), class_weight={0: 10.0, 1: 0.0, 2: 0.0}))


def metrics():
    dcgan().compile(metrics=["mae"])
    return {"compiled": True}


attempt("compile_metrics", metrics)


def labels_as(form, how):
    model = cgan()
    noise = np.random.default_rng(2).normal(size=(3, 8)).astype("float32")
    ids = np.array([2, 0, 1])
    expected = np.asarray(model.generate(noise, ids))
    given = {"one-hot": np.eye(3, dtype="float32")[ids], "list": ids.tolist()}[form]
    made = {"predict": lambda: model.predict((noise, given), verbose=0), "generate": lambda: model.generate(noise, given),
            "call": lambda: model((noise, given))}[how]()
    return {"max_difference": float(np.max(np.abs(np.asarray(made) - expected)))}


attempt("one_hot_predict", lambda: labels_as("one-hot", "predict"))
attempt("list_call", lambda: labels_as("list", "call"))


def ema():
    model = dcgan(ema_decay=0.9)
    generator = sum(int(np.prod(w.shape)) for w in model.generator.trainable_weights)
    discriminator = sum(int(np.prod(w.shape)) for w in model.discriminator.trainable_weights)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return {"trainable": trainable, "generator_and_discriminator": generator + discriminator}


attempt("ema_trainable", ema)


def dataset_labels(labels):
    from tfgan_zoo.data import image_dataset
    batches = image_dataset(uint8_images(4), np.asarray(labels), batch_size=4, shuffle=False)
    return {"labels": next(iter(batches))[1].numpy().tolist()}


attempt("float_labels", lambda: dataset_labels([0.6, 1.0, 1.7, 0.0]))
attempt("int64_labels", lambda: dataset_labels(np.array([2**32, 1, 2**32 + 1, 0], np.int64)))
''',
    # ------------------------------------------------------------- what the readers take
    "pictures": r'''
import resource
from PIL import Image, ImageOps
from tfgan_zoo.data import load_image_folder


def quadrant_picture(size=32):
    """A dark picture with a bright top-left quadrant: where it lands shows the orientation."""
    pixels = np.full((size, size, 3), 20, np.uint8)
    pixels[: size // 2, : size // 2] = 230
    return Image.fromarray(pixels)


def oriented(suffix, orientation):
    folder = WORK / f"exif_{suffix}"
    folder.mkdir()
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = folder / f"turned.{suffix}"
    quadrant_picture().save(path, exif=exif.tobytes())
    shown = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB").resize((16, 16)), np.float32)
    raw = np.asarray(Image.open(path).convert("RGB").resize((16, 16)), np.float32)
    read = load_image_folder(folder, image_size=16).images[0].astype(np.float32)
    return {"off_shown": float(np.abs(read - shown).mean()), "off_raw": float(np.abs(read - raw).mean()),
            "turned": float(np.abs(shown - raw).mean())}


attempt("exif_png", lambda: oriented("png", 6))
attempt("exif_webp", lambda: oriented("webp", 8))


def gif_and_tiff():
    folder = WORK / "kinds"
    folder.mkdir()
    for name in ("a.png", "b.gif", "c.tif", "d.tiff"):
        quadrant_picture().save(folder / name)
    loaded = load_image_folder(folder, image_size=16)
    return {"read": sorted(Path(f).name for f in loaded.files), "skipped": [str(s) for s in loaded.skipped]}


attempt("gif_tiff", gif_and_tiff)


def huge():
    folder = WORK / "huge"
    folder.mkdir()
    for index in range(3):
        quadrant_picture().save(folder / f"{index}.png")
    Image.new("1", (20000, 20000)).save(folder / "poster.png")  # 400 megapixels in a small file
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    loaded = load_image_folder(folder, image_size=16)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    return {"read": sorted(Path(f).name for f in loaded.files), "skipped": [str(s) for s in loaded.skipped],
            "file_megabytes": round((folder / "poster.png").stat().st_size / 2**20, 1),
            "peak_growth_gb": round(grown / 2**20, 2)}


attempt("pixel_cap", huge)
''',
    "demo": r'''
from PIL import Image
from tfgan_zoo import demo, export

version = export.save(dcgan(), WORK / "generator")
outside = WORK / "elsewhere.json"
metadata = json.loads((version / "tfgan_zoo.json").read_text())
outside.write_text(json.dumps({**metadata, "family": "SECRET-4f7d"}))
(version / "tfgan_zoo.json").unlink()
(version / "tfgan_zoo.json").symlink_to(outside)


def linked():
    page = demo.build_demo(str(WORK / "generator"))
    shown = " ".join(str(getattr(block, "value", "")) for block in page.blocks.values())
    return {"built": True, "secret_shown": "SECRET-4f7d" in shown}


attempt("demo_linked_metadata", linked)


def sixteen_bit():
    grey = np.full((8, 8), 32768, np.uint16)  # mid grey in 16 bits
    path = WORK / "grey16.png"
    Image.fromarray(grey).save(path)
    pixels = demo.model_input(Image.open(path), 8, 1)
    return {"mode": Image.open(path).mode, "mean": float(pixels.mean())}


attempt("demo_16_bit", sixteen_bit)
''',
}


def scenarios(bench: Bench, group: str) -> tuple[Result, dict, Running]:
    """Runs the scenarios of ``group`` once per bench: their facts by key."""
    def make():
        place = bench.place(f"api_{group}")
        script = place / f"{group}_scenarios.py"  # a file: the command a failed case names stays short
        script.write_text(SNIPPET_HEAD + SNIPPETS[group])
        bench.commands += 1
        running = Running([sys.executable, str(script), str(place / "scratch")], bench.env, place,
                          bench.work / "logs" / f"{bench.commands:03d}_api_{group}")
        result = running.wait()
        facts = {}
        for line in result.out.splitlines():
            if line.startswith("HOSTILE "):
                entry = json.loads(line[len("HOSTILE "):])
                facts[entry.pop("key")] = entry
        return result, facts, running
    return bench.once(f"api_{group}", make)


class Reported(Exception):
    """A scenario that reported nothing: its process's class and detail."""

    def __init__(self, kind: str, detail: str):
        super().__init__(detail)
        self.outcome = (kind, detail)


def facts_of(bench: Bench, group: str, key: str) -> dict:
    result, facts, running = scenarios(bench, group)
    bench.last = running
    if key not in facts:
        failure = stopped(result, f"the {group} scenarios") or ("crash", "the scenario reported nothing")
        raise Reported(*failure)
    return facts[key]


def _library(path: str) -> str:
    if "/tfgan_zoo/" in path:
        return "tfgan_zoo"
    package = re.search(r"site-packages/([^/]+)/", path)
    return package.group(1) if package else f"Python's {Path(path).stem}"


def raised(facts: dict, refusal: str) -> tuple[str, str] | None:
    """None when the scenario returned; a clear error when what it raised matches
    ``refusal`` (the message a user can act on); else a traceback, located."""
    if "raised" not in facts:
        return None
    if re.search(refusal, facts["raised"], re.S):
        return "clear error", _short(facts["raised"], 160)
    where = _library(facts.get("where", ""))
    return "crash", f"traceback {'raised by' if where == 'tfgan_zoo' else 'deep in'} {where}: {_short(facts['raised'])}"


def api_case(function):
    """A case of the API scenarios: a scenario that reported nothing takes its process's class."""
    def run(bench):
        try:
            return function(bench)
        except Reported as stop:
            return stop.outcome
    run.__name__ = function.__name__
    return run


def module_run(bench: Bench, module: str, *flags, timeout: float = TIMEOUT) -> Result:
    """``python -m tfgan_zoo.<module> FLAGS`` of the tree."""
    bench.commands += 1
    bench.last = Running([sys.executable, "-m", f"tfgan_zoo.{module}", *map(str, flags)], bench.env, bench.work,
                         bench.work / "logs" / f"{bench.commands:03d}_{module}")
    return bench.last.wait(timeout)


def has_module(bench: Bench, module: str) -> bool:
    path = bench.tree / "tfgan_zoo" / Path(*module.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def kept_or_lost(result: Result, kept: bool, lost: str, fine: str) -> tuple[str, str]:
    """A command pointed at the user's files: data lost when ``kept`` is False, else its exit's class."""
    if not kept:
        return "data lost", f"{stopped(result)[1] + '; ' if stopped(result) else 'exit 0: '}{lost}"
    return stopped(result) or ("ok", fine)


def clean_exit(result: Result) -> tuple[str, str]:
    """A command that must fail: its class; an exit 0 is silent."""
    return stopped(result) or ("silent", f"exit 0: {_short(_lines(result.out)[-1] if _lines(result.out) else '')}")


def an_export(bench: Bench, name: str) -> Path:
    """A copy of the finished toy run's generator export in a fresh place."""
    base = bench.place(name) / "generator"
    shutil.copytree(bench.finished_mnist() / "export" / "generator", base, symlinks=True)
    return base


def eval_flags(cache: Path | None, *more) -> list:
    """Evaluation on at toy size (a one-epoch classifier, a handful of samples), its
    classifier kept in the case's own ``cache`` (None: the default cache)."""
    return ["--eval-every", "1", "--eval-samples", "8", "--classifier-epochs", "1",
            *(["--cache-dir", cache] if cache else []), *more]


def trained_classifier(result: Result) -> bool:
    return "Training the evaluation classifier" in result.out


# ---------------------------------------------------------------------- never delete what is not ours
@issue26("*issue 26:* `model.export(RUN)` pointed at a run directory (checkpoints, logs, samples)",
         tests="`test_ownership::test_exports_into_a_run_directory_are_refused_with_the_path_and_nothing_deleted`")
@api_case
def export_into_run(bench):
    facts = facts_of(bench, "exports", "export_into_run")
    if facts.get("lost"):
        return "data lost", f"{facts.get('raised') or 'exit 0'}; gone or changed: {facts['lost']}"
    return raised(facts, r"did not write|is not a SavedModel") or ("ok", "exported beside the run's files, none touched")


@issue26("*issue 26:* `model.export(path)` where path is a file of the user's")
@api_case
def export_onto_file(bench):
    facts = facts_of(bench, "exports", "export_onto_file")
    if not facts.get("kept"):
        return "data lost", f"{_short(facts.get('raised', 'returned'))}; notes.txt replaced"
    return raised(facts, r"link or a file|not a SavedModel|did not write") or ("ok", "notes.txt kept")


@issue26("*issue 26:* `export.save(keep=1)` with a folder `0` of the user's in the export base",
         tests="`test_ownership::test_versioned_exports_prune_and_clean_up_only_what_they_wrote`")
@api_case
def prune_beside_users_version(bench):
    facts = facts_of(bench, "exports", "prune_beside_users_version")
    if not facts.get("kept"):
        return "data lost", f"the pruning deleted the user's 0/notes.txt (folders now {facts.get('folders')})"
    return raised(facts, r"did not write") or ("ok", f"0/notes.txt left alone; folders {facts['folders']}")


@issue26("*issue 26:* `write_gallery` into a folder holding the user's `index.html`",
         tests="`test_ownership::test_gallery_refuses_a_folder_of_the_users_and_rewrites_its_own`")
@api_case
def gallery_into_users_folder(bench):
    facts = facts_of(bench, "exports", "gallery_users_folder")
    if facts.get("lost"):
        return "data lost", f"{_short(facts.get('raised', 'returned'))}; replaced: {facts['lost']}"
    return raised(facts, r"did not write|not a gallery") or ("ok", "wrote beside the user's page, none touched")


@issue26("*issue 26:* `tflite --out` naming an existing file of the user's")
def tflite_onto_users_file(bench):
    base = an_export(bench, "tflite_users")
    mine = base.parent / "phone.tflite"
    mine.write_bytes(b"my own model")
    result = module_run(bench, "tflite", base, "--out", mine, "--samples", "2")
    return kept_or_lost(result, mine.read_bytes() == b"my own model", "phone.tflite replaced",
                        "converted without replacing phone.tflite")


@issue26("*issue 26:* `data.lineart SRC OUT` where OUT/lineart/ holds the user's drawings",
         tests="`test_ownership::test_lineart_never_deletes_or_overwrites_the_users_pictures`")
def lineart_into_users_drawings(bench):
    place = bench.place("lineart_users")
    source = picture_folder(place / "photos", numbered(3))
    drawings = picture_folder(place / "out" / "lineart", ["0.png", "sketch.png"], seed=7)
    kept = snapshot(drawings)
    result = module_run(bench, "data.lineart", source, place / "out")
    now = snapshot(drawings) if drawings.is_dir() else {}
    lost = sorted(name for name in kept if now.get(name) != kept[name])
    return kept_or_lost(result, not lost, f"the user's drawings {lost} overwritten or deleted",
                        "pairs written, the user's drawings untouched")


@issue26("*issue 26:* `data.shards IMAGES OUT` where OUT holds the user's own `shards.json`")
def shards_into_users_folder(bench):
    place = bench.place("shards_users")
    images = picture_folder(place / "pics", numbered(4))
    out = place / "out"
    out.mkdir()
    (out / "shards.json").write_text('{"my": "notes"}')
    result = module_run(bench, "data.shards", images, out, "--size", "8", "--shards", "2")
    return kept_or_lost(result, (out / "shards.json").read_text() == '{"my": "notes"}', "shards.json replaced",
                        "shards written without replacing shards.json")


@issue26("*issue 26:* `presets make RUN NAME --out DIR` where DIR holds the user's files")
def preset_into_users_folder(bench):
    if not has_module(bench, "presets"):
        return "skipped", "the tree has no tfgan_zoo.presets"
    run = bench.copy_of(bench.finished_mnist(), "preset_users")
    out = run.parent / "mine"
    out.mkdir()
    (out / "README.md").write_text("my notes")
    result = module_run(bench, "presets", "make", run, "toy", "--out", out)
    return kept_or_lost(result, (out / "README.md").read_text() == "my notes", "README.md replaced",
                        "preset written beside README.md")


# ---------------------------------------------------------------------- readers read only their own files
def _report_of(bench, name: str, plant) -> tuple[Result, Path, str, str]:
    """The report of a copy of the finished toy run after ``plant(run, place)`` planted
    something; ``plant`` returns what must not reach the page."""
    run = bench.copy_of(bench.finished_mnist(), name)
    secret = plant(run, run.parent)
    result = module_run(bench, "report", run, timeout=60)
    page = run / "report.html"
    return result, run, (page.read_text(errors="replace") if page.is_file() else ""), secret


@issue26("*issue 26:* `report` on a run whose `samples/` is a link to a folder outside it",
         tests="`test_safe_reading::test_report_skips_files_linked_from_outside_the_run`")
def report_linked_samples(bench):
    def plant(run, place):
        private = place / "photos"
        private.mkdir()
        write_image(private / "epoch_005.png", picture(4242))
        shutil.rmtree(run / "samples", ignore_errors=True)
        (run / "samples").symlink_to(private)
        return base64.b64encode((private / "epoch_005.png").read_bytes()).decode()[:200]
    result, run, page, secret = _report_of(bench, "report_samples_link", plant)
    if secret in page:
        return "leak", "report.html embeds photos/epoch_005.png, reached through the linked samples/"
    if "epoch_005" in page:  # the run never had an epoch 5: only the link leads there
        return "leak", "report.html shows photos/epoch_005.png, reached through the linked samples/"
    return stopped(result) or ("ok", f"the linked folder skipped: {_short(_warning(result))}")


@issue26("*issue 26:* `report` on a run whose `config.json` is a link to a file outside it")
def report_linked_config(bench):
    def plant(run, place):
        (place / "secrets.json").write_text(json.dumps({"api_token": "SECRET-91c3"}))
        (run / "config.json").unlink()
        (run / "config.json").symlink_to(place / "secrets.json")
        return "SECRET-91c3"
    result, run, page, secret = _report_of(bench, "report_config_link", plant)
    if secret in page:
        return "leak", "report.html prints secrets.json (api_token), reached through the linked config.json"
    return stopped(result) or ("ok", f"the linked file skipped: {_short(_warning(result))}")


@issue26("*issue 26:* `report` on a run with a FIFO named like a sample picture")
def report_fifo(bench):
    def plant(run, place):
        os.mkfifo(run / "samples" / "epoch_009.png")
        return "\0never"
    result, run, page, secret = _report_of(bench, "report_fifo", plant)
    return stopped(result) or ("ok", f"the FIFO skipped: {_short(_warning(result))}")


@issue26("*issue 26:* `report` where `RUN/report.html` is a link to a file of the user's")
def report_page_link(bench):
    holder = {}

    def plant(run, place):
        holder["notes"] = place / "notes.html"
        holder["notes"].write_text("<p>my notes</p>")
        (run / "report.html").unlink(missing_ok=True)
        (run / "report.html").symlink_to(holder["notes"])
        return "\0never"
    result, run, page, secret = _report_of(bench, "report_page_link", plant)
    kept = holder["notes"].read_text() == "<p>my notes</p>"
    return kept_or_lost(result, kept, "notes.html overwritten through the link",
                        f"the link replaced by the page, notes.html kept ({'a file' if not (run / 'report.html').is_symlink() else 'still a link'})")


def _warning(result: Result) -> str:
    named = [line for line in _lines(result.err) + _lines(result.out) if "skip" in line.lower()]
    return named[0] if named else "(no warning)"


@issue26("*issue 26:* the demo on an export whose `tfgan_zoo.json` is a link to a file outside it",
         tests="`test_safe_reading::test_demo_refuses_an_export_with_a_file_linked_from_outside`")
@api_case
def demo_linked_metadata(bench):
    facts = facts_of(bench, "demo", "demo_linked_metadata")
    returned = facts.get("returned") or {}
    if returned.get("secret_shown"):
        return "leak", "the page shows the linked file's content (family 'SECRET-4f7d')"
    if returned.get("built"):
        return "leak", "the page was built from the linked file"
    return raised(facts, r"link|outside|regular file")


# ---------------------------------------------------------------------- caches and fingerprints by content
@issue26("*issue 26:* an MNIST evaluation, then another `--data-dir` with other digits (same count)",
         tests="`test_caches::test_the_evaluation_classifier_is_keyed_by_its_data`")
def mnist_classifier_other_data(bench):
    place = bench.place("mnist_cache")
    results = []
    for index, name in enumerate("ab"):
        data = fake_mnist(place / name, np.arange(64) % 10, seed=index)
        results.append(bench.run(*bench.mnist(place / f"run_{name}", 1, "--eval-every", "1", "--eval-samples", "16",
                                              "--cache-dir", place / "cache", data_dir=data)))
        failure = stopped(results[-1], f"the run on {name}/")
        if failure:
            return failure
    if not trained_classifier(results[0]):
        return "skipped", "the first run trained no classifier"
    if trained_classifier(results[1]):
        return "ok", "a second classifier trained for the other digits"
    return "silent", "exit 0: the second run evaluated with the classifier of the first data dir's digits"


@issue26("*issue 26:* `--classifier-epochs 1`, then a new run with `--classifier-epochs 3` (same pictures)",
         tests="`test_caches::test_the_folder_classifier_is_keyed_by_its_epochs_and_seed`")
def classifier_epochs_changed(bench):
    place = bench.place("classifier_epochs")
    images = picture_folder(place / "pics", numbered(12))
    results = []
    for epochs in (1, 3):
        results.append(bench.run(*bench.folder_run(images, place / f"run_{epochs}", 1,
                                                   *eval_flags(place / "cache", "--classifier-epochs", epochs))))
        failure = stopped(results[-1], f"the run with {epochs} classifier epoch(s)")
        if failure:
            return failure
    if trained_classifier(results[1]):
        return "ok", "the 3-epoch classifier trained, the 1-epoch one not reused"
    return "silent", "exit 0: --classifier-epochs 3 evaluated with the cached 1-epoch classifier"


@issue26("*issue 26:* a BMP picture repainted in place (same size, same mtime), then the same command with more `--epochs`",
         tests="`test_run_identity::test_an_image_edited_in_place_changes_the_fingerprint`")
def repainted_bmp(bench):
    place = bench.place("repainted")
    images = picture_folder(place / "pics", numbered(8, ".bmp"))
    run = place / "run"
    first = bench.run(*bench.folder_run(images, run, 1))
    if first.rc != 0:
        return stopped(first, "the first epoch")
    target = images / "3.bmp"
    stat = target.stat()
    write_image(target, 255 - picture(3))
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    if target.stat().st_size != stat.st_size:
        raise SetupFailed("the repainted BMP changed size")
    result = bench.run(*bench.folder_run(images, run, 2))
    return stopped(result) or ("silent", "exit 0: resumed on a repainted picture, nothing said")


@issue26("*issue 26:* MNIST training images rewritten in place (same size, same mtime), then the same command with more `--epochs`")
def rewritten_idx(bench):
    place = bench.place("rewritten_idx")
    data = fake_mnist(place / "data", np.arange(64) % 10, level=0)
    run = place / "run"
    first = bench.run(*bench.mnist(run, 1, data_dir=data))
    if first.rc != 0:
        return stopped(first, "the first epoch")
    target = data / "mnist" / "train-images-idx3-ubyte.gz"
    stat = target.stat()
    write_idx(target, np.random.default_rng(5).integers(0, 255, (64, 28, 28)), level=0)
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    if target.stat().st_size != stat.st_size:
        raise SetupFailed("the rewritten IDX file changed size")
    result = bench.run(*bench.mnist(run, 2, data_dir=data))
    return stopped(result) or ("silent", "exit 0: resumed on other digits, nothing said")


# ---------------------------------------------------------------------- pictures and labels as they are
def _oriented(bench, key: str, kind: str):
    facts = facts_of(bench, "pictures", key)
    failure = raised(facts, r"^$")
    if failure:
        return failure
    off = facts["returned"]
    if off["turned"] < 10:
        raise SetupFailed(f"Pillow shows the {kind} as stored: its orientation was not written")
    if off["off_shown"] < off["off_raw"]:
        return "ok", f"read as shown (mean difference {off['off_shown']:.1f} levels; raw {off['off_raw']:.1f})"
    return "silent", f"the {kind} read on its side (mean difference to the shown picture {off['off_shown']:.1f} levels)"


@issue26("*issue 26:* a PNG picture with EXIF orientation 6 (taken on its side)",
         tests="`test_image_folder::test_exif_orientation_is_applied_to_png_and_webp_as_to_jpeg`")
@api_case
def exif_png(bench):
    return _oriented(bench, "exif_png", "PNG")


@issue26("*issue 26:* a WebP picture with EXIF orientation 8",
         tests="`test_image_folder::test_exif_orientation_is_applied_to_png_and_webp_as_to_jpeg`")
@api_case
def exif_webp(bench):
    return _oriented(bench, "exif_webp", "WebP")


@issue26("*issue 26:* a folder of PNG, GIF, `.tif` and `.tiff` pictures",
         tests="`test_image_folder::test_gif_and_tiff_pictures_are_read_and_other_kinds_are_named`")
@api_case
def gif_and_tiff(bench):
    facts = facts_of(bench, "pictures", "gif_tiff")
    failure = raised(facts, r"^$")
    if failure:
        return failure
    read, skipped = facts["returned"]["read"], facts["returned"]["skipped"]
    missing = sorted({"a.png", "b.gif", "c.tif", "d.tiff"} - set(read))
    if not missing:
        return "ok", f"all four read: {read}"
    unnamed = [name for name in missing if not any(name in entry for entry in skipped)]
    if unnamed:
        return "silent", f"read {read}; dropped without a word: {unnamed}"
    return "clear error", f"read {read}; named as skipped: {missing}"


def _labels(bench, key: str, given: str):
    facts = facts_of(bench, "keras", key)
    failure = raised(facts, r"class id|labels?")
    if failure:
        return failure
    return "silent", f"image_dataset yielded labels {facts['returned']['labels']} for {given}"


@issue26("*issue 26:* `image_dataset` with float labels `[0.6, 1.0, 1.7, 0.0]`",
         tests="`test_data::test_pipeline_takes_whole_float_labels_and_one_hot_rows_as_they_are`")
@api_case
def float_labels(bench):
    return _labels(bench, "float_labels", "[0.6, 1.0, 1.7, 0.0]")


@issue26("*issue 26:* `image_dataset` with int64 ids `[2**32, 1, 2**32 + 1, 0]`")
@api_case
def int64_labels(bench):
    return _labels(bench, "int64_labels", "[2**32, 1, 2**32 + 1, 0]")


@issue26("*issue 26:* the exported `sample` signature with seed 2**32 (cast to the declared seed type)",
         tests="`test_export_limits::test_seeds_beyond_int32_give_their_own_images`")
@api_case
def seed_beyond_int32(bench):
    facts = facts_of(bench, "exports", "seed_beyond_int32")
    failure = raised(facts, r"seed")
    if failure:
        return failure
    if facts["returned"]["same"]:
        return "silent", "seed 2**32 gave seed 0's images"
    return "ok", "seed 2**32 gives images of its own"


@issue26("*issue 26:* the demo's input of a 16-bit greyscale PNG (mid grey)",
         tests="`test_demo::test_model_input_scales_16_bit_grey_instead_of_clipping_it`")
@api_case
def demo_16_bit(bench):
    facts = facts_of(bench, "demo", "demo_16_bit")
    failure = raised(facts, r"^$")
    if failure:
        return failure
    mean = facts["returned"]["mean"]
    if abs(mean - 128) <= 8:
        return "ok", f"mid grey read as {mean:.0f} of 255"
    return "silent", f"mid grey (32768 of 65535, mode {facts['returned']['mode']}) read as {mean:.0f} of 255"


# ---------------------------------------------------------------------- one clean exit for every command
@issue26("*issue 26:* `report` on a run directory that does not exist")
def report_missing(bench):
    return clean_exit(module_run(bench, "report", bench.place("report_missing") / "nowhere", timeout=60))


@issue26("*issue 26:* `report` on a dangling symbolic link",
         tests="`test_commands::test_a_dangling_link_is_named_with_where_it_points`")
def report_dangling(bench):
    place = bench.place("report_dangling")
    (place / "run").symlink_to(place / "moved_away")
    return clean_exit(module_run(bench, "report", place / "run", timeout=60))


@issue26("*issue 26:* `report --out` naming an existing folder")
def report_out_folder(bench):
    run = bench.copy_of(bench.finished_mnist(), "report_out_folder")
    (run.parent / "pages").mkdir()
    return clean_exit(module_run(bench, "report", run, "--out", run.parent / "pages", timeout=60))


@issue26("*issue 26:* `data.lineart` with a file as the source folder")
def lineart_source_file(bench):
    place = bench.place("lineart_file")
    source = write_image(place / "one.png", picture(1))
    return clean_exit(module_run(bench, "data.lineart", source, place / "out"))


@issue26("*issue 26:* `data.shards` on an image folder that is a dangling link")
def shards_dangling(bench):
    place = bench.place("shards_dangling")
    (place / "pics").symlink_to(place / "unplugged_drive")
    return clean_exit(module_run(bench, "data.shards", place / "pics", place / "out", "--size", "8"))


@issue26("*issue 26:* HOME is a file and `$TFGAN_ZOO_CACHE` unset: a run with evaluation (the default cache)",
         tests="`test_commands::test_an_unwritable_home_is_named`")
def home_is_a_file(bench):
    place = bench.place("home_file")
    images = picture_folder(place / "pics", numbered(8))
    (place / "home").write_text("not a folder")
    env = {**{key: value for key, value in bench.env.items() if key != "TFGAN_ZOO_CACHE"}, "HOME": str(place / "home")}
    run = place / "run"
    bench.commands += 1
    bench.last = Running(bench.command(*bench.folder_run(images, run, 1, *eval_flags(None))), env, place,
                         bench.work / "logs" / f"{bench.commands:03d}_home_file")
    result = bench.last.wait()
    return judged(result, [] if logged_epochs(run) == [0] else [f"training.csv epochs {logged_epochs(run)}"],
                  "trained and evaluated, the classifier not kept: " + _short(next(
                      (line for line in _lines(result.err) if "cannot be kept" in line), "(said nothing)")))


@issue26("*issue 26:* the cached evaluation classifier truncated, then a new run on the same pictures",
         tests="`test_caches::test_a_damaged_classifier_cache_is_named_and_rebuilt`")
def truncated_classifier(bench):
    place = bench.place("truncated_cache")
    images = picture_folder(place / "pics", numbered(8))
    cache = place / "cache"
    first = bench.run(*bench.folder_run(images, place / "run_1", 1, *eval_flags(cache)))
    if first.rc != 0:
        return stopped(first, "the first run")
    cached = sorted((path for path in cache.rglob("*") if path.is_file()),
                    key=lambda path: path.stat().st_size)
    if not cached:
        raise SetupFailed("no cached classifier to truncate")
    cached[-1].write_bytes(cached[-1].read_bytes()[: cached[-1].stat().st_size // 2])
    result = bench.run(*bench.folder_run(images, place / "run_2", 1, *eval_flags(cache)))
    said = next((line for line in _lines(result.err) if "cannot be read" in line), None)
    return judged(result, [] if said else ["the damaged cache was not named"],
                  f"named and rebuilt: {_short(said or '')}")


def _ctrl_c(bench, name: str, moment, *evaluation) -> tuple[str, str]:
    """SIGINT at ``moment(run, running)``: one message, no traceback, nothing half-written
    left; ``evaluation``: evaluation on, with these flags."""
    place = bench.place(name)
    images = picture_folder(place / "pics", numbered(16))
    run = place / "run"
    flags = eval_flags(place / "cache", *evaluation) if evaluation else []
    running = bench.start(*bench.folder_run(images, run, 2, *flags))
    landed = wait_for(running, lambda: moment(run, running)) and running.signal(signal.SIGINT)
    result = running.wait()
    if not landed:
        return stopped(result) or ("skipped", "the run ended before the moment came")
    failure = stopped(result)
    if failure and failure[0] != "clear error":
        return failure
    if result.rc == 0:
        return "silent", "exit 0 after Ctrl-C"
    left = [path for path in temporaries(run) if "tmp" in path or ".staging-" in path]
    left += [path.name for path in (place / "cache").rglob("*") if ".partial" in path.name]
    if left:
        return "silent", f"{failure[1]}; left behind: {left[:3]}"
    if (run / ".lock").exists():
        return "silent", f"{failure[1]}; RUN/.lock left behind"
    return failure


@issue26("*issue 26:* Ctrl-C while the evaluation classifier trains",
         tests="`test_experiment_exits::test_ctrl_c_while_keeping_the_evaluation_classifier`")
def ctrl_c_classifier(bench):
    return _ctrl_c(bench, "ctrl_c_classifier", lambda run, running: "Training the evaluation classifier" in running.stdout(),
                   "--classifier-epochs", "200")


@issue26("*issue 26:* Ctrl-C during an evaluation",
         tests="`test_experiment_exits::test_ctrl_c_while_evaluating`")
def ctrl_c_evaluation(bench):
    return _ctrl_c(bench, "ctrl_c_eval", lambda run, running: "Epoch 1 evaluation" in running.stdout(),
                   "--eval-samples", "400")


@issue26("*issue 26:* Ctrl-C during the export",
         tests="`test_experiment_exits::test_ctrl_c_while_exporting`")
def ctrl_c_export(bench):
    def exporting(run, running):
        try:
            return any(name.startswith(".staging-") for name in os.listdir(run / "export" / "generator"))
        except FileNotFoundError:
            return False
    return _ctrl_c(bench, "ctrl_c_export", exporting)


@issue26("*issue 26:* `cgan_anime --image-size 9`",
         tests="`test_experiment_exits::test_options_the_networks_or_evaluators_cannot_take_stop_before_the_data`")
def cgan_image_size_9(bench):
    place = bench.place("cgan_size_9")
    images, table = labelled(place, PETS)
    return clean_exit(bench.run(*cgan_flags(bench, images, table, place / "run", 1, "--image-size", "9")))


@issue26("*issue 26:* `cgan_anime` with a labels CSV of one class",
         tests="`test_experiment_exits::test_a_conditional_run_on_one_class_stops_before_the_images_load`")
def cgan_one_class(bench):
    place = bench.place("cgan_one_class")
    images, table = labelled(place, [(name, "cat") for name, _ in PETS])
    return clean_exit(bench.run(*cgan_flags(bench, images, table, place / "run")))


@issue26("*issue 26:* `dcgan_folder --eval-samples 1` with evaluation on")
def eval_samples_1(bench):
    place = bench.place("eval_samples_1")
    images = picture_folder(place / "pics", numbered(8))
    return clean_exit(bench.run(*bench.folder_run(images, place / "run", 1, *eval_flags(place / "cache", "--eval-samples", "1"))))


@issue26("*issue 26:* `tflite` on an export base holding a folder named `²`",
         tests="`test_export_limits::test_folders_that_only_look_numbered_are_not_versions`")
def tflite_superscript_version(bench):
    base = an_export(bench, "tflite_superscript")
    (base / "²").mkdir()
    result = module_run(bench, "tflite", base, "--out", base.parent / "g.tflite", "--samples", "2")
    return stopped(result) or ("ok", f"converted the newest whole version: {_short(' '.join(_lines(result.out)[:1]))}")


@issue26("*issue 26:* `tflite` on an export base whose newest version is truncated",
         tests="`test_export_limits::test_damaged_versions_are_skipped_with_a_warning_naming_them`")
def tflite_damaged_version(bench):
    base = an_export(bench, "tflite_damaged")
    newest = base / str(int(versions(base)[-1]) + 1)  # a whole version stays below it
    shutil.copytree(base / versions(base)[-1], newest)
    model = newest / "saved_model.pb"
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    result = module_run(bench, "tflite", base, "--out", base.parent / "g.tflite", "--samples", "2")
    failure = stopped(result)
    if failure:
        return failure
    named = any(f"{newest.name}" in line and "Skipping" in line for line in _lines(result.err) + _lines(result.out))
    return ("ok", "the damaged version skipped with a warning naming it") if named else \
        ("silent", "exit 0, the damaged version not named")


@issue26("*issue 26:* the exported `generate` signature on an empty batch of noise",
         tests="`test_serving::test_bad_requests_are_clear_errors_and_an_empty_batch_an_empty_answer`")
@api_case
def predict_empty(bench):
    facts = facts_of(bench, "exports", "predict_empty")
    failure = raised(facts, r"empty|no (noise|rows|images)|at least one")
    if failure:
        return failure
    shape = facts["returned"]["shape"]
    return ("ok", f"an empty batch of images {shape}") if shape[:1] == [0] else ("silent", f"images of shape {shape}")


@issue26("*issue 26:* the demo on a port another server listens on",
         tests="`test_demo::test_a_port_in_use_is_named_before_the_export_loads`")
def demo_port_in_use(bench):
    import socket

    base = an_export(bench, "demo_port")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        result = module_run(bench, "demo", base, "--port", server.getsockname()[1], timeout=120)
    return clean_exit(result)


@issue26("*issue 26:* a 20000×20000 PNG (small on disk) among the pictures",
         tests="`test_image_folder::test_a_picture_over_the_pixel_cap_is_refused_from_its_header`")
@api_case
def pixel_cap(bench):
    facts = facts_of(bench, "pictures", "pixel_cap")
    failure = raised(facts, r"pixel")
    if failure:
        return failure
    found = facts["returned"]
    named = [entry for entry in found["skipped"] if "poster.png" in entry]
    if "poster.png" not in " ".join(found["read"]) and named:
        return "ok", f"skipped, named: {_short(named[0])}"
    return "silent", (f"a {found['file_megabytes']} MB file decoded to 400 megapixels, no cap "
                      f"(peak memory +{found['peak_growth_gb']} GB)")


@issue26("*issue 26:* the exported `sample` signature asked for 100,000 images at once",
         tests="`test_export_limits::test_requests_over_the_batch_cap_are_refused_with_the_cap_and_the_fix`")
@api_case
def batch_cap(bench):
    facts = facts_of(bench, "exports", "batch_cap")
    failure = raised(facts, r"at most \d+ images|max_batch")
    if failure:
        return failure
    made = facts["returned"]
    return "silent", f"no cap: {made['made']:,} images made in one request ({made['megabytes']} MB)"


# ---------------------------------------------------------------------- the Keras edges
def _refused_or_silent(bench, group: str, key: str, refusal: str, silently: str):
    facts = facts_of(bench, group, key)
    return raised(facts, refusal) or ("silent", f"{silently} ({facts['returned']})")


@issue26("*issue 26:* `fit` on numpy 0-255 float images with `jit_compile=True`",
         tests="`test_keras_user::test_an_xla_step_checks_the_first_batch_of_every_input`")
@api_case
def xla_255_floats(bench):
    return _refused_or_silent(bench, "keras", "xla_255_floats", r"floats from|0, 255|uint8",
                              "trained on 0-255 floats as if they were [-1, 1]")


@issue26("*issue 26:* `fit` on a tf.data pipeline of `x / 255` floats",
         tests="`test_keras_user::test_unit_range_floats_are_refused_with_the_fix`")
@api_case
def unit_floats(bench):
    return _refused_or_silent(bench, "keras", "unit_floats", r"\[0, 1\]", "trained on [0, 1] floats as [-1, 1]")


@issue26("*issue 26:* `keras.callbacks.TerminateOnNaN` on a run whose losses are NaN",
         tests="`test_keras_user::test_terminate_on_nan_stops_a_gan`")
@api_case
def terminate_on_nan(bench):
    facts = facts_of(bench, "keras", "terminate_on_nan")
    failure = raised(facts, r"NaN")
    if failure:
        return failure
    steps = facts["returned"]["steps"]
    return ("ok", f"stopped after {steps} step") if steps <= 1 else \
        ("silent", f"TerminateOnNaN did nothing: all {steps} steps of 3 epochs ran on NaN losses")


@issue26("*issue 26:* `fit(images, labels, sample_weight=...)`",
         tests="`test_keras_user::test_ignored_keras_arguments_are_refused`")
@api_case
def sample_weight(bench):
    return _refused_or_silent(bench, "keras", "sample_weight", r"not supported", "sample_weight ignored")


@issue26("*issue 26:* `fit(images, labels, class_weight=...)` on a conditional GAN",
         tests="`test_keras_user::test_ignored_keras_arguments_are_refused`")
@api_case
def class_weight(bench):
    return _refused_or_silent(bench, "keras", "class_weight", r"not supported", "class_weight ignored")


@issue26("*issue 26:* `compile(metrics=['mae'])`",
         tests="`test_keras_user::test_ignored_keras_arguments_are_refused`")
@api_case
def compile_metrics(bench):
    return _refused_or_silent(bench, "keras", "compile_metrics", r"not supported", "metrics accepted, never computed")


def _same_images(bench, key: str, form: str):
    facts = facts_of(bench, "keras", key)
    failure = raised(facts, r"^$")
    if failure:
        return failure
    difference = facts["returned"]["max_difference"]
    return ("ok", f"the same images as class ids (max difference {difference:.1e})") if difference < 1e-5 else \
        ("silent", f"other images than class ids give (max difference {difference:.2f})")


@issue26("*issue 26:* `predict((noise, one_hot))` on a conditional GAN",
         tests="`test_keras_user::test_labels_as_ids_one_hot_or_lists_wherever_labels_go_in`")
@api_case
def one_hot_predict(bench):
    return _same_images(bench, "one_hot_predict", "one-hot")


@issue26("*issue 26:* `model((noise, [2, 0, 1]))`: labels as a Python list in a call",
         tests="`test_keras_user::test_labels_as_ids_one_hot_or_lists_wherever_labels_go_in`")
@api_case
def list_call(bench):
    return _same_images(bench, "list_call", "list")


@issue26("*issue 26:* `trainable_weights` of a DCGAN with `ema_decay=0.9`",
         tests="`test_keras_user::test_the_ema_generator_is_not_trainable_and_checkpoints_keep_their_paths`")
@api_case
def ema_trainable(bench):
    facts = facts_of(bench, "keras", "ema_trainable")
    failure = raised(facts, r"^$")
    if failure:
        return failure
    found = facts["returned"]
    if found["trainable"] == found["generator_and_discriminator"]:
        return "ok", f"{found['trainable']:,} trainable parameters: G and D, the average not among them"
    return "silent", (f"{found['trainable']:,} trainable parameters for G and D's "
                      f"{found['generator_and_discriminator']:,}: the EMA copy counted as trainable")


@issue26("*issue 26:* `model.export('g.tflite', format='litert')`",
         tests="`test_keras_user::test_litert_export_is_the_packages_builtins_only_tflite_conversion`")
@api_case
def format_litert(bench):
    facts = facts_of(bench, "exports", "format_litert")
    return raised(facts, r"not supported") or ("ok", f"a {facts['returned']['bytes']:,}-byte .tflite written")


@issue26("*issue 26:* `model.export('g.onnx', format='onnx')`, run in onnxruntime",
         tests="`test_keras_user::test_onnx_export_gives_the_saved_models_images_in_onnxruntime`")
@api_case
def format_onnx(bench):
    facts = facts_of(bench, "exports", "format_onnx")
    failure = raised(facts, r"not supported|tf2onnx")
    if failure:
        return failure
    shape = facts["returned"]["shape"]
    return ("ok", f"onnxruntime gives images {shape}") if shape == [2, 16, 16, 1] else ("silent", f"outputs {shape}")


@issue26("*issue 26:* `model.export(path, format='pytorch')`",
         tests="`test_keras_user::test_other_formats_and_options_are_refused_naming_the_supported_ones`")
@api_case
def format_unknown(bench):
    facts = facts_of(bench, "exports", "format_unknown")
    failure = raised(facts, r"not supported")
    if failure and facts.get("left"):
        return failure[0], f"{failure[1]}; left {facts['left']}"
    return failure or ("silent", f"exit 0: wrote {facts['left']}")


@issue26("*issue 26:* `import tfgan_zoo` with `KERAS_BACKEND=jax`",
         tests="`test_keras_user::test_another_keras_backend_fails_at_import_with_the_fix`")
def jax_backend(bench):
    bench.commands += 1
    bench.last = Running([sys.executable, "-c", "import tfgan_zoo"], {**bench.env, "KERAS_BACKEND": "jax"},
                         bench.work, bench.work / "logs" / f"{bench.commands:03d}_jax")
    result = bench.last.wait()
    if result.rc != 0 and "TensorFlow backend only" in result.err:
        # An import can fail only by raising: its message is the last line.
        return "clear error", f"rc {result.rc}: {_short(_exception_line(result.err))}"
    return stopped(result) or ("silent", "imported under the jax backend")


# ======================================================================= main: run the cases, write JSON
def machine() -> str:
    model = "?"
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.node()}: {os.cpu_count()} CPU cores ({model}), {memory:.0f} GiB, Python {platform.python_version()}"


def preflight(bench: Bench) -> dict:
    """Which tfgan_zoo, TensorFlow and Keras the tree's subprocesses import."""
    code = "import tfgan_zoo, tensorflow as tf, keras; print(tfgan_zoo.__file__, tf.__version__, keras.__version__)"
    out = subprocess.run([sys.executable, "-c", code], env=bench.env, cwd=bench.work, capture_output=True, text=True,
                         timeout=TIMEOUT)
    if out.returncode != 0:
        raise SystemExit(f"Cannot import tfgan_zoo from {bench.tree}: {out.stderr[-800:]}")
    package, tf_version, keras_version = out.stdout.split()[-3:]
    if not Path(package).resolve().is_relative_to(bench.tree.resolve()):
        raise SystemExit(f"The subprocesses import {package}, not the tree's {bench.tree}/tfgan_zoo.")
    # Relative to the tree: the results say which files ran, not where this machine keeps them.
    package = Path(package).resolve().relative_to(bench.tree.resolve())
    return {"package": str(package), "tensorflow": tf_version, "keras": keras_version}


def _named(text: str, names: dict) -> str:
    for path, name in names.items():
        text = text.replace(path, name)
    return text


def run_cases(tree: Path, data_dir: Path, only: set[int] | None, keep: bool) -> dict:
    global WORK_NAME
    work = Path(tempfile.mkdtemp(prefix="hostile_runs_"))
    WORK_NAME = str(work)
    bench = Bench(tree, work, data_dir)
    commit = subprocess.run(["git", "-C", str(tree), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    # Tracked files changed since that commit: then the results are not the commit's alone.
    changed = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=no"],
                             capture_output=True, text=True).stdout.splitlines()
    report = {"machine": machine(), "tree": tree.resolve().name, "commit": commit, "uncommitted": changed,
              **preflight(bench), "started": time.strftime("%Y-%m-%d %H:%M:%S"), "cases": []}
    print(f"tree {tree} at {commit[:10]}{f' with {len(changed)} changed files' if changed else ''}, "
          f"tfgan_zoo from {report['package']}; work in {work}", file=sys.stderr)
    # This machine's folders and interpreter by name in the results: the same on every machine
    # (site-packages before the standard library, which holds it).
    paths = sysconfig.get_paths()
    names = {str(work): "$WORK", str(tree): "$TREE", str(data_dir): "$DATA", sys.executable: "python",
             paths["purelib"]: "$SITE_PACKAGES", paths["stdlib"]: "$STDLIB"}
    began = time.monotonic()
    try:
        for number, (text, tests, function, group) in enumerate(CASES, start=1):
            if only and number not in only and group not in only:
                continue
            started = time.monotonic()
            bench.last = None
            try:
                kind, detail = function(bench)
            except SetupFailed as error:
                kind, detail = "skipped", f"set-up failed: {error}"
            except Exception as error:  # noqa: BLE001 - a bug of this script must not cost the other cases
                kind, detail = "skipped", f"bench error: {type(error).__name__}: {error}"
                traceback.print_exc()
            assert kind in CLASSES, kind
            seconds = round(time.monotonic() - started, 1)
            detail = _short(detail, 400)  # paths in the temporary folder as $WORK and RUN
            entry = {"id": number, "case": text, "class": kind, "detail": detail, "seconds": seconds,
                     "checked_by": tests or "`bench/hostile_runs.py`", **({"group": group} if group else {})}
            if kind not in ("ok", "clear error", "skipped") and bench.last is not None:
                # What to rerun by hand: the case's latest command and the end of its stderr.
                entry["command"] = _named(shlex.join(bench.last.command), names)
                tail = _lines(bench.last.err_path.read_text(errors="replace"))[-12:]
                entry["stderr_tail"] = _named("\n".join(tail), names)
            report["cases"].append(entry)
            print(f"{number:>2} {kind:<11} {seconds:>6.1f}s  {text}\n   {detail}", file=sys.stderr, flush=True)
    finally:
        if keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    report["wall_seconds"] = round(time.monotonic() - began, 1)
    report["counts"] = counts(report["cases"])
    return report


# ======================================================================= --table: markdown from two JSON files
COUNT_NAMES = (("ok", "ok", "ok"), ("clear error", "clear error", "clear errors"), ("silent", "silent", "silent"),
               ("crash", "crash", "crashes"), ("hang", "hang", "hangs"), ("data lost", "data lost", "data lost"),
               ("leak", "leak", "leaks"), ("skipped", "skipped", "skipped"))


def counts(cases: list[dict]) -> dict:
    """Cases per class; ``raised by tfgan_zoo``: the crashes whose traceback ends in a
    ``raise`` of the package with a message for the user (the others end deep in a
    library, or in an unintended error of the package's code)."""
    tally = {"cases": len(cases), **{kind: 0 for kind in CLASSES}, "raised by tfgan_zoo": 0}
    for entry in cases:
        tally[entry["class"]] += 1
        if entry["class"] == "crash" and "traceback raised by tfgan_zoo" in entry["detail"]:
            tally["raised by tfgan_zoo"] += 1
    return tally


def count_line(cases: list[dict], crash_words: tuple[str, str] = ("crash", "crashes")) -> str:
    """``crash_words``: how the crash class is named (issue 26 counts "tracebacks")."""
    tally = counts(cases)
    parts = [f"{tally['cases']} cases"]
    for kind, one, many in COUNT_NAMES:
        if kind == "crash":
            one, many = crash_words
        part = f"{tally[kind]} {one if tally[kind] == 1 else many}"
        if kind == "crash" and tally[kind]:
            raised = tally["raised by tfgan_zoo"]
            part += (f" ({tally[kind] - raised} deep in a library or an unintended error, "
                     f"{raised} a traceback under a message tfgan_zoo raised)")
        parts.append(part)
    return ", ".join(parts)


def _cell(entry: dict | None) -> str:
    if entry is None:
        return "not run"
    detail = re.sub(r"\$WORK/cases/[^/\s']+/run\b", "RUN", entry["detail"])  # as _short writes them now
    rerun = f" (rerun at {entry['rerun_at'][:7]})" if "rerun_at" in entry else ""
    return f"**{entry['class']}**{rerun}: {detail}".replace("|", "\\|").replace("\n", " ")


def table(before_path: Path, after_path: Path, checked_by: bool = False, only: set | None = None) -> str:
    """The markdown table of two result files (``checked_by``: with the tests column), then the count lines;
    ``only``: the case numbers or groups to show, counted on their own."""
    before, after = (json.loads(Path(path).read_text()) for path in (before_path, after_path))
    if only:
        for report in (before, after):
            report["cases"] = [entry for entry in report["cases"] if entry["id"] in only or entry.get("group") in only]
    by_id = [{entry["id"]: entry for entry in report["cases"]} for report in (before, after)]
    ids = sorted(set(by_id[0]) | set(by_id[1]))
    lines = ["| # | case | before | after |" + (" checked by |" if checked_by else ""),
             "|---" * (5 if checked_by else 4) + "|"]
    for number in ids:
        entry = by_id[1].get(number) or by_id[0][number]
        row = f"| {number} | {entry['case']} | {_cell(by_id[0].get(number))} | {_cell(by_id[1].get(number))} |"
        if checked_by:
            row += f" {entry.get('checked_by') or '`bench/hostile_runs.py`'} |"
        lines.append(row)
    lines.append("")
    for name, report in (("Before", before), ("After", after)):
        cases = report["cases"]
        state = " with uncommitted changes" if report.get("uncommitted") else ""
        reruns = "".join(f"; case(s) {', '.join(map(str, rerun['cases']))} rerun at {rerun['commit'][:7]}"
                         for rerun in report.get("reruns", []))
        head = f"- **{name}** (commit {report['commit'][:7]}{state}, {report['wall_seconds'] / 60:.1f} min{reruns})"
        if only:
            lines.append(f"{head}: {count_line(cases, ('traceback', 'tracebacks'))}.")
            continue
        lines.append(f"{head}, cases 1-56: {count_line([entry for entry in cases if entry['id'] <= 56])}.")
        if any(entry["id"] > 56 for entry in cases):
            lines.append(f"  With the added cases 57-62: {count_line(cases)}.")
    lines.append("")
    lines.append(f"Machine: {after['machine']}; TensorFlow {after['tensorflow']}, Keras {after['keras']}.")
    return "\n".join(lines) + "\n"


def rerun_into(earlier: dict, rerun: dict) -> dict:
    """``earlier`` with the cases of ``rerun`` in place of its own (a fix's cases run
    again on its commit); each rerun case and the ``reruns`` list name that commit."""
    replaced = {entry["id"]: {**entry, "rerun_at": rerun["commit"]} for entry in rerun["cases"]}
    earlier["cases"] = [replaced.get(entry["id"], entry) for entry in earlier["cases"]]
    earlier.setdefault("reruns", []).append({"commit": rerun["commit"], "uncommitted": rerun["uncommitted"],
                                             "started": rerun["started"], "cases": sorted(replaced)})
    earlier["counts"] = counts(earlier["cases"])
    return earlier


def _selection(text: str | None) -> set | None:
    """``--only``: case numbers (ASCII digits) and group names."""
    if not text:
        return None
    return {int(item) if re.fullmatch(r"[0-9]+", item) else item for item in text.split(",")}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, default=REPO, help="source tree whose experiments/ and tfgan_zoo to run")
    parser.add_argument("--out", type=Path, help="JSON file of the results")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("TFGAN_ZOO_DATA", REPO.parent / "shared" / "data")),
                        help="the folder holding mnist/ (default: $TFGAN_ZOO_DATA)")
    parser.add_argument("--only", default=None,
                        help="comma-separated case numbers or group names (issue26) to run; with --table, to show")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder of the runs")
    parser.add_argument("--table", nargs=2, type=Path, metavar=("BEFORE_JSON", "AFTER_JSON"),
                        help="print the markdown table of two result files instead of running")
    parser.add_argument("--rerun-into", type=Path, metavar="RESULTS_JSON",
                        help="the cases run replace theirs in this earlier result file (written to --out), "
                             "each marked with the commit it ran on")
    parser.add_argument("--checked-by", action="store_true",
                        help="with --table: add the column of the pytest tests that check each case")
    args = parser.parse_args()
    if args.table:
        sys.stdout.write(table(*args.table, args.checked_by, _selection(args.only)))
        return
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        # Started in the background by a shell (cmd &): the scripts would inherit the
        # ignored SIGINT, and the Ctrl-C cases would find a run that cannot be interrupted.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if not (args.data_dir / "mnist").is_dir():
        raise SystemExit(f"MNIST IDX files not found under {args.data_dir}: pass --data-dir or set TFGAN_ZOO_DATA.")
    only = _selection(args.only)
    report = run_cases(args.tree.resolve(), args.data_dir.resolve(), only, args.keep)
    if args.rerun_into:
        report = rerun_into(json.loads(args.rerun_into.read_text()), report)
    text = json.dumps(report, indent=1, ensure_ascii=False)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(f"{count_line(report['cases'])}; {report['wall_seconds'] / 60:.1f} min", file=sys.stderr)


if __name__ == "__main__":
    main()
