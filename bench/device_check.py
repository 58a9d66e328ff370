"""Everything worth knowing about a GPU machine, in one command of at most 8 minutes.

    python bench/device_check.py --out bench/results/device_h200     # on the GPU machine
    python bench/device_check.py --dry-run --out dry/                # the same on CPU at tiny sizes (the tests run it)
    python bench/device_check.py --out DIR --parts throughput        # some parts only

Writes ``DIR/device_check.json`` (each part's status, seconds, budget, CPU
seconds of its processes, and its results or error) and ``DIR/device_check.md`` (tables ready to paste into
BENCHMARKS.md), both rewritten as each part ends; the parts' own files (the
test report, the cgan_mnist run and its log, the pix2pix comparison) stay in
``DIR`` too.

It works on a fresh machine that has Python but no TensorFlow: this process
never imports it. Every part runs in child processes under its own time
budget (seconds, below), so one slow part cannot eat the others': a part out
of time is stopped and recorded as ``timeout``, a failing one as ``failed``
with the end of its error output, and the next part runs either way. The
parts, in order:

``install`` (150 s)
    Skipped ("already installed") when TensorFlow imports and sees a GPU (or in a dry run);
    else ``pip install -r requirements-gpu.txt`` and ``pip install -e .[test]``, timed.
``environment`` (30 s)
    GPU names, driver and CUDA version (nvidia-smi; "none" without it), the
    CUDA and cuDNN TensorFlow was built for, TensorFlow and Keras versions,
    GPU count, and what ``--precision auto`` and ``--jit-compile auto`` pick here.
``correctness`` (100 s)
    ``pytest -m gpu``: the tests marked for GPUs (each family's step under
    XLA, mixed_bfloat16, mixed_float16 with loss scaling, DiffAugment and
    jitter inside the XLA step, export -> reload -> same images, two replicas
    = one device when there are two GPUs); passed, failed and skipped counts.
``pix2pix_vs_tutorial`` (60 s)
    studies/pix2pix_vs_tutorial/pix2pix_vs_reference.py ``--speed-only``:
    our Pix2Pix against the TF tutorial's loop, images/s on this device.
``time_to_quality`` (100 s)
    experiments/cgan_mnist.py with its training defaults, scored every epoch
    on 2,000 samples (``--eval-every 1 --eval-samples 2000``): wall time from
    launch (start-up and evaluations included) until the label accuracy
    reaches 97%, and the accuracy at the end (or at the last epoch in time).
``throughput`` (40 s, plus whatever the parts before it left of theirs)
    ``fit`` against the plain loop, measured by the benches' own ``measure``
    (bench/train_speed.py, pix2pix_speed.py, cyclegan_speed.py), one process
    per setting: CGAN 28 px batch 64 and 256, DCGAN 64 px colour batch 128,
    pix2pix 256 px batch 1 and 4, CycleGAN 256 px batch 1, each at XLA on/off
    x float32 / mixed_float16 / mixed_bfloat16. Every model's auto pick runs
    first, then the same precision with the other XLA setting, then the other
    precisions, while time lasts (the rest is listed as skipped); the report
    says whether the pick was the fastest ``fit`` measured.

Every speed comes with its GFLOPs per image (counted from the step's graph)
and its share of the device's matmul peak in the step's compute dtype
(bench/efficiency.py). Data: ``--data-dir`` (default ``$TFGAN_ZOO_DATA``)
holding ``mnist/`` and ``facades/``; without it MNIST is downloaded through
TFDS and the pix2pix part fails, naming what is missing.

``--dry-run`` runs all of it on the CPU (GPUs hidden) at tiny sizes (one
grouped process for the throughput settings, a few steps each) on synthetic
data written to ``DIR/dry_data``, so that the test suite can check the whole
script (tests/test_device_check.py); its figures mean nothing.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import time
import traceback
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timezone
from pathlib import Path

from efficiency import fields  # no TensorFlow at import

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ACCURACY_TARGET = 0.97

# Seconds per part: (real run, dry run). The real ones add up to 8 minutes. The
# dry ones are ceilings for a 2-core machine busy with other work (the test suite
# runs the dry run beside other tests); an idle one needs a fraction of them.
BUDGETS = {
    "install": (150, 60),
    "environment": (30, 90),
    "correctness": (100, 180),
    "pix2pix_vs_tutorial": (60, 240),
    "time_to_quality": (100, 180),
    "throughput": (40, 240),
}
PARTS = tuple(BUDGETS)
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")

# (label, bench module, its measure() arguments but precision and xla).
CASES = [
    ("CGAN 28 px b64", "train_speed", dict(model_name="cgan", image_size=28, channels=1, batch_size=64, steps=100,
                                           warmup=20, rounds=2, steps_per_execution=1)),
    ("CGAN 28 px b256", "train_speed", dict(model_name="cgan", image_size=28, channels=1, batch_size=256, steps=50,
                                            warmup=10, rounds=2, steps_per_execution=1)),
    ("DCGAN 64 px colour b128", "train_speed", dict(model_name="dcgan", image_size=64, channels=3, batch_size=128,
                                                    steps=50, warmup=10, rounds=2, steps_per_execution=1)),
    ("pix2pix 256 px b1", "pix2pix_speed", dict(image_size=256, batch_size=1, steps=40, warmup=10, rounds=2)),
    ("pix2pix 256 px b4", "pix2pix_speed", dict(image_size=256, batch_size=4, steps=20, warmup=5, rounds=2)),
    ("CycleGAN 256 px b1", "cyclegan_speed", dict(image_size=256, batch_size=1, steps=20, warmup=5, rounds=2)),
]
# One case per speed bench, at tiny sizes.
DRY_CASES = [
    ("CGAN 28 px b8", "train_speed", dict(model_name="cgan", image_size=28, channels=1, batch_size=8, steps=2,
                                          warmup=1, rounds=1, steps_per_execution=1)),
    ("pix2pix 32 px b1", "pix2pix_speed", dict(image_size=32, batch_size=1, steps=2, warmup=1, rounds=1)),
    ("CycleGAN 32 px b1", "cyclegan_speed", dict(image_size=32, batch_size=1, steps=2, warmup=1, rounds=1,
                                                 model_options={"num_blocks": 1, "d_layers": 1})),
]
# One throughput setting may not take more of the part's time than this (real run).
SETTING_LIMIT_S = 120
DRY_PEAK_SIZE = 256  # matmul side for the dry run's peaks: fast, meaningless


class PartFailed(Exception):
    """A part's failure; ``results`` holds what it had measured before it."""

    status = "failed"

    def __init__(self, message: str, results: dict | None = None):
        super().__init__(message)
        self.results = results or {}


class PartTimeout(PartFailed):
    status = "timeout"


def _tail(text: str | bytes | None, lines: int = 25) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return "\n".join((text or "").strip().splitlines()[-lines:])


def _short(command: list) -> str:
    """``pix2pix_vs_reference.py``, ``-m pytest``, ``nvidia-smi``: what a command runs."""
    words = [str(word) for word in command[:3]]
    if words[0] != sys.executable:
        return Path(words[0]).name
    return " ".join(words[1:3]) if words[1] == "-m" else Path(words[1]).name


def _brief(error: str | None) -> str:
    """An error on one line: its first line (what stopped) and its last (why)."""
    lines = [line for line in (error or "").strip().splitlines() if line.strip()]
    return " … ".join(dict.fromkeys(lines[:1] + lines[-1:]))


def _child_env(dry_run: bool) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1",
           # One process's TensorFlow must not take all GPU memory from the next.
           "TF_FORCE_GPU_ALLOW_GROWTH": "true"}
    if dry_run:
        env["CUDA_VISIBLE_DEVICES"] = ""
    return env


class Part:
    """One part's clock, and its child processes: each in its own process group,
    killed with all its children when the part's time is up."""

    def __init__(self, name: str, budget: float, dry_run: bool, forced: bool):
        self.name, self.budget, self.dry_run, self.forced = name, budget, dry_run, forced
        self.start = time.monotonic()

    def left(self) -> float:
        return self.budget - (time.monotonic() - self.start)

    def _command(self, command: list) -> list:
        if self.forced:  # --fail: the test suite's way to see a failure recorded
            return [sys.executable, "-c", f"import sys; sys.exit('forced failure of part {self.name} (--fail)')"]
        return [str(part) for part in command]

    def spawn(self, command: list, stdout=subprocess.PIPE) -> subprocess.Popen:
        return subprocess.Popen(self._command(command), cwd=REPO, env=_child_env(self.dry_run), stdout=stdout,
                                stderr=subprocess.PIPE if stdout == subprocess.PIPE else subprocess.STDOUT,
                                text=True, start_new_session=True)

    @staticmethod
    def stop(process: subprocess.Popen):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def run(self, command: list, limit: float | None = None, check: bool = True) -> subprocess.CompletedProcess:
        """Runs ``command`` within what is left of the budget (and ``limit``). Out of time:
        :class:`PartTimeout` with the output so far as its ``results["stdout"]``."""
        timeout = self.left() if limit is None else min(limit, self.left())
        if timeout <= 0:
            raise PartTimeout(f"no time left of the {self.budget:.0f} s budget")
        process = self.spawn(command)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(process)
            stdout, stderr = process.communicate()
            raise PartTimeout(f"{_short(command)} stopped after {timeout:.0f} s:\n{_tail(stderr, 10)}",
                              {"stdout": stdout}) from None
        finally:
            self.stop(process)
        if check and process.returncode:
            raise PartFailed(f"{_short(command)} exited with {process.returncode}:\n{_tail(stderr or stdout)}",
                             {"stdout": stdout})
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


# ---------------------------------------------------------------- the parts
def probe(part: Part) -> dict:
    """The environment as TensorFlow sees it (see :func:`probe_child`)."""
    return json.loads(part.run([sys.executable, __file__, "--probe"]).stdout.strip().splitlines()[-1])


def part_install(part: Part, args, state: dict) -> dict:
    try:
        facts = probe(part)
    except PartTimeout:
        raise
    except PartFailed:
        facts = None  # no TensorFlow (or a broken one): install
    if facts is not None and (facts["gpus"] or args.dry_run):
        state["probe"] = facts
        return {"action": "already installed", "summary": f"already installed (TensorFlow {facts['tensorflow']})"}
    started = time.monotonic()
    commands = [[sys.executable, "-m", "pip", "install", "-q", "-r", REPO / "requirements-gpu.txt"],
                [sys.executable, "-m", "pip", "install", "-q", "-e", f"{REPO}[test]"]]
    for command in commands:
        part.run(command)
    seconds = time.monotonic() - started
    return {"action": "installed", "install_seconds": round(seconds, 1),
            "commands": [" ".join(map(str, command[1:])) for command in commands],
            "summary": f"installed in {seconds:.0f} s"}


def _nvidia_smi(part: Part) -> dict:
    if shutil.which("nvidia-smi") is None:
        return {"gpu_names": "none", "driver": "none", "driver_cuda": "none"}
    query = part.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"]).stdout
    rows = [[field.strip() for field in line.split(",")] for line in query.strip().splitlines()]
    banner = part.run(["nvidia-smi"]).stdout
    cuda = banner.split("CUDA Version:")[1].split()[0] if "CUDA Version:" in banner else "unknown"
    return {"gpu_names": ", ".join(row[0] for row in rows), "driver": rows[0][1] if rows else "none",
            "gpu_memory": rows[0][2] if rows else "none", "driver_cuda": cuda}


def part_environment(part: Part, args, state: dict) -> dict:
    facts = {**(state.get("probe") or probe(part)), **_nvidia_smi(part)}
    state["probe"] = facts
    picks = f"auto: {facts['auto_precision']}, XLA {'on' if facts['auto_jit_compile'] else 'off'}"
    facts["summary"] = (f"{facts['gpu_names']} (driver {facts['driver']}, CUDA {facts['driver_cuda']}; TF built for "
                        f"CUDA {facts['cuda_build']}, cuDNN {facts['cudnn_build']}), TensorFlow {facts['tensorflow']}, "
                        f"Keras {facts['keras']}, {len(facts['gpus'])} GPU(s); {picks}")
    return facts


def _junit_counts(report: Path) -> dict:
    cases = ElementTree.parse(report).getroot().iter("testcase")
    counts = {"passed": 0, "failed": 0, "skipped": 0, "failures": []}
    for case in cases:
        outcome = next((child for child in case if child.tag in ("failure", "error", "skipped")), None)
        if outcome is None:
            counts["passed"] += 1
        elif outcome.tag == "skipped":
            counts["skipped"] += 1
        else:
            counts["failed"] += 1
            message = (outcome.get("message") or "").splitlines()[:1]
            counts["failures"].append(f"{case.get('classname')}::{case.get('name')}: {''.join(message)}")
    return counts


def part_correctness(part: Part, args, state: dict) -> dict:
    report = args.out / "gpu_tests.xml"
    report.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-p", "no:cacheprovider", "-n", "0",
               f"--junitxml={report}"]
    facts = state.get("probe")
    if args.dry_run:  # one test of the subset, the tests' own small family: the path, not the coverage
        command += ["tests/test_family_contract.py", "-k", "minimal and xla"]
    else:  # only the files with marked tests: collecting the whole suite takes longer
        command += sorted(str(path.relative_to(REPO)) for path in (REPO / "tests").glob("test_*.py")
                          if "pytest.mark.gpu" in path.read_text(encoding="utf-8"))
    if not args.dry_run and facts is not None and len(facts["gpus"]) < 2:
        # With one GPU the replicas would be CPUs and the one-device step the GPU's: not the question.
        command += ["-k", "not two_replicas"]
    done = part.run(command, check=False)
    if not report.exists():
        raise PartFailed(f"pytest wrote no report (exit {done.returncode}):\n{_tail(done.stdout + done.stderr)}")
    counts = _junit_counts(report)
    counts["summary"] = (f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"
                         + ("; the two-replica tests need 2 GPUs" if "not two_replicas" in command else ""))
    if counts["failed"] or done.returncode not in (0, 1):
        raise PartFailed(f"{counts['summary']} (pytest exit {done.returncode}):\n" + "\n".join(counts["failures"]),
                         counts)
    return counts


def part_pix2pix_vs_tutorial(part: Part, args, state: dict) -> dict:
    results = args.out / "pix2pix_vs_reference.json"
    steps, warmup = (2, 1) if args.dry_run else (40, 10)
    command = [sys.executable, REPO / "studies/pix2pix_vs_tutorial/pix2pix_vs_reference.py", "--speed-only",
               "--steps", steps, "--warmup-steps", warmup, "--results", results]
    if args.data_dir:
        command += ["--data-dir", args.data_dir]
    if args.dry_run:
        command += ["--peak-size", DRY_PEAK_SIZE]
    part.run(command)
    record = json.loads(results.read_text())
    rows = [{key: result[key] for key in ("name", "precision", "jit_compile", "images_per_second", "efficiency",
                                          "peaks")} for result in record["results"]]
    reference, ours = rows
    ratio = ours["images_per_second"] / reference["images_per_second"]
    return {"steps": steps, "warmup_steps": warmup, "results": rows, "speed_ratio": ratio,
            "summary": f"ours {ours['images_per_second']:.3g} img/s ({ours['precision']}) vs the tutorial's "
                       f"{reference['images_per_second']:.3g} img/s (float32): {ratio:.2f}x"}


def _csv_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text[: text.rfind("\n") + 1])))  # whole rows only


def _quality_summary(epochs: list[dict]) -> dict:
    scored = [epoch for epoch in epochs if epoch["label_accuracy"] is not None]
    reached = next((epoch for epoch in scored if epoch["label_accuracy"] >= ACCURACY_TARGET), None)
    final = scored[-1] if scored else None
    return {
        "target": ACCURACY_TARGET, "epochs": epochs,
        "seconds_to_target": reached["wall_s"] if reached else None,
        "epoch_at_target": reached["epoch"] if reached else None,
        "final_label_accuracy": final["label_accuracy"] if final else None,
        "final_epoch": final["epoch"] if final else None, "final_wall_s": final["wall_s"] if final else None,
        "summary": (f"{ACCURACY_TARGET:.0%} label accuracy "
                    + (f"after {reached['wall_s']:.0f} s (epoch {reached['epoch']})" if reached else "not reached")
                    + (f"; {final['label_accuracy']:.2%} at epoch {final['epoch']} ({final['wall_s']:.0f} s)"
                       if final else "")),
    }


def part_time_to_quality(part: Part, args, state: dict) -> dict:
    run_dir = args.out / "cgan_mnist"
    shutil.rmtree(run_dir, ignore_errors=True)  # our own run of an earlier check: it would resume
    # Scored every epoch for the time to 97%; on 2,000 samples (200 a class) to keep the scoring short.
    command = [sys.executable, REPO / "experiments/cgan_mnist.py", "--out", run_dir, "--eval-every", 1,
               "--eval-samples", 100 if args.dry_run else 2000]
    if args.data_dir:
        command += ["--data-dir", args.data_dir]
    if args.dry_run:
        command += ["--epochs", 1, "--steps-per-epoch", 2, "--batch-size", 16, "--cache-dir", args.out / "dry_cache"]
    log_path = args.out / "cgan_mnist.log"
    epochs = []

    def collect():
        # A row is written once its epoch's evaluation is done: seen within a poll of it.
        for row in _csv_rows(run_dir / "logs" / "training.csv")[len(epochs):]:
            accuracy = row.get("label_accuracy") or None
            epochs.append({"epoch": int(row["epoch"]) + 1, "wall_s": round(time.monotonic() - started, 1),
                           "label_accuracy": None if accuracy is None else float(accuracy)})

    with open(log_path, "w") as log:
        started = time.monotonic()
        process = part.spawn(command, stdout=log)
        try:
            while process.poll() is None:
                if part.left() <= 0:
                    collect()
                    raise PartTimeout(f"cgan_mnist.py stopped after {part.budget:.0f} s (log: {log_path})",
                                      _quality_summary(epochs))
                collect()
                time.sleep(0.5)
        finally:
            part.stop(process)
    collect()
    summary = _quality_summary(epochs)
    if process.returncode:
        raise PartFailed(f"cgan_mnist.py exited with {process.returncode}:\n{_tail(log_path.read_text())}", summary)
    return summary


def _setting_name(precision: str, xla: bool) -> str:
    return f"{precision}, XLA {'on' if xla else 'off'}"


def _plan(cases: list, picks: dict | None) -> list[tuple[int, str, bool]]:
    """``(case index, precision, xla)`` in the order to measure: each case's auto pick,
    then the same precision with the other XLA setting, then the other precisions
    (pick's XLA first), case after case within each tier."""
    precision = picks["precision"] if picks else "float32"
    xla = picks["xla"] if picks else False
    others = [name for name in PRECISIONS if name != precision]
    tiers = [(precision, xla), (precision, not xla)]
    tiers += [(name, xla) for name in others] + [(name, not xla) for name in others]
    return [(index, *tier) for tier in tiers for index in range(len(cases))]


class Reuse:
    """What a throughput run measures once and then passes on to each ``measure``:
    the matmul peak of each dtype, and each case's GFLOPs per image (fit's and the
    loop's), which are the same at every precision and XLA setting."""

    def __init__(self):
        self.peaks, self.gflops = {}, {}

    def setting(self, job: dict) -> dict:
        setting = job["setting"]
        return {**setting, "peaks": {**(setting.get("peaks") or {}), **self.peaks} or None,
                "gflops": setting.get("gflops") or self.gflops.get(job["case"])}

    def remember(self, job: dict, result: dict):
        if result["status"] == "ok":
            self.peaks.update(result["peaks"])
            self.gflops.setdefault(job["case"], [result["fit"]["gflops_per_img"], result["loop"]["gflops_per_img"]])


def _measure_jobs(part: Part, jobs: list[dict], limit: float | None) -> list[dict]:
    """Runs ``jobs`` (``{"case", "bench", "setting"}``) in one child; one result per job,
    in order, ``{"status": "ok", ...}`` or its error; the one a stopped child was at
    gets its ``timeout`` (or ``failed``), those after it ``skipped``."""
    try:
        stdout = part.run([sys.executable, __file__, "--measure", json.dumps(jobs)], limit=limit).stdout
        failure = None
    except PartFailed as error:
        stdout, failure = error.results.get("stdout", ""), error
    results = [json.loads(line) for line in (stdout or "").splitlines() if line.startswith("{")]
    if failure is not None and len(results) < len(jobs):
        results.append({"status": failure.status, "error": str(failure)})
    return results + [{"status": "skipped", "error": "not reached"}] * (len(jobs) - len(results))


def part_throughput(part: Part, args, state: dict) -> dict:
    cases = DRY_CASES if args.dry_run else CASES
    facts = state.get("probe")
    if facts is None:  # the environment part did not run (or failed): the picks are worth one more try
        try:
            facts = probe(part)
        except PartFailed:
            pass
    picks = {"precision": facts["auto_precision"], "xla": facts["auto_jit_compile"]} if facts else None
    plan = _plan(cases, picks)
    if args.dry_run:  # every case's pick, and the first case's next precision (no XLA compile on top)
        plan = plan[: len(cases)] + [entry for entry in plan if entry[0] == 0 and entry[2] == plan[0][2]][1:2]
    jobs = [{"case": index, "bench": cases[index][1],
             "setting": {**cases[index][2], "precision": precision, "xla": xla,
                         "peak_size": DRY_PEAK_SIZE if args.dry_run else None}}
            for index, precision, xla in plan]

    reuse = Reuse()
    if args.dry_run:  # one process for all: at tiny sizes its start-up would dominate each
        results = _measure_jobs(part, jobs, None)
        for job, result in zip(jobs, results):
            reuse.remember(job, result)
            print(f"  {_job_name(cases, job)}: {_result_text(result)}", flush=True)
    else:
        results = []
        for job in jobs:
            if part.left() < 10:
                result = {"status": "skipped", "error": "out of time"}
            else:
                result = _measure_jobs(part, [{**job, "setting": reuse.setting(job)}], SETTING_LIMIT_S)[0]
            reuse.remember(job, result)
            results.append(result)
            print(f"  {_job_name(cases, job)}: {_result_text(result)}", flush=True)

    report = []
    for index, (label, bench, _) in enumerate(cases):
        settings = [{"precision": precision, "xla": xla, **result}
                    for (case, precision, xla), result in zip(plan, results) if case == index]
        done = {_setting_name(entry["precision"], entry["xla"]): entry for entry in settings if entry["status"] == "ok"}
        # The fastest fit of two or more measured settings (one alone is no comparison).
        fastest = max(done, key=lambda name: done[name]["fit_img_s"]) if len(done) > 1 else None
        pick = _setting_name(picks["precision"], picks["xla"]) if picks else None
        compared = pick in done and fastest is not None
        if not compared:
            verdict = "the pick was not measured" if pick not in done else "only the pick was measured"
        else:
            verdict = (f"the fastest of {len(done)} measured" if pick == fastest
                       else f"not the fastest of {len(done)} measured: {fastest} is")
        report.append({"case": label, "bench": bench, "settings": settings, "pick": pick, "fastest": fastest,
                       "pick_is_fastest": pick == fastest if compared else None, "verdict": verdict})
    count = sum(result["status"] == "ok" for result in results)
    record = {"cases": report, "peaks": reuse.peaks,
              "summary": f"{count} of {len(cases) * len(PRECISIONS) * 2} settings measured"
                         + (f", {len(results) - count} planned ones not" if len(results) > count else "")}
    if count == 0:
        raise PartFailed("no setting measured:\n" + "\n".join(str(result.get("error")) for result in results),
                         record)
    return record


def _job_name(cases: list, job: dict) -> str:
    return f"{cases[job['case']][0]}, {_setting_name(job['setting']['precision'], job['setting']['xla'])}"


def _result_text(result: dict) -> str:
    if result["status"] != "ok":
        return f"{result['status']}: {_brief(result.get('error'))}"
    return f"fit_img_s={result['fit_img_s']:.4g} loop_img_s={result['loop_img_s']:.4g} {fields(result['fit'])}"


PART_FUNCTIONS = {
    "install": part_install, "environment": part_environment, "correctness": part_correctness,
    "pix2pix_vs_tutorial": part_pix2pix_vs_tutorial, "time_to_quality": part_time_to_quality,
    "throughput": part_throughput,
}


# ---------------------------------------------------------------- children
def probe_child() -> dict:
    import keras
    import tensorflow as tf

    from tfgan_zoo import DCGAN, experiment

    gpus = tf.config.list_physical_devices("GPU")
    details = [tf.config.experimental.get_device_details(gpu) for gpu in gpus]
    build = tf.sysconfig.get_build_info()
    # What Keras makes of jit_compile="auto" for one of our models on this machine.
    model = DCGAN(latent_dim=8, image_shape=(16, 16, 1), g_filters=4, d_filters=4)
    model.compile(jit_compile="auto")
    return {
        "tensorflow": tf.__version__, "keras": keras.__version__, "python": platform.python_version(),
        "cuda_build": build.get("cuda_version", "none"), "cudnn_build": build.get("cudnn_version", "none"),
        "gpus": [{"name": detail.get("device_name"), "compute_capability": detail.get("compute_capability")}
                 for detail in details],
        "auto_precision": experiment.default_precision(), "auto_jit_compile": bool(model.jit_compile),
    }


def measure_child(jobs: list[dict]):
    """Each job's ``measure`` in turn, one JSON line each (an error is a result too),
    passing on what one measured that the next can reuse (see :class:`Reuse`)."""
    import importlib

    sys.path.insert(0, str(HERE))
    reuse = Reuse()
    for job in jobs:
        try:
            result = {"status": "ok", **importlib.import_module(job["bench"]).measure(**reuse.setting(job))}
        except Exception:
            result = {"status": "failed", "error": _tail(traceback.format_exc(), 15)}
        reuse.remember(job, result)
        print(json.dumps(result), flush=True)


# ---------------------------------------------------------------- dry-run data
def _write_idx(path: Path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    path.write_bytes(header + array.tobytes())


def make_dry_data(root: Path) -> Path:
    """Synthetic stand-ins for what the parts read: MNIST-shaped IDX files (200 train,
    100 test) and facades-shaped 512x256 JPEG pairs (4 train, 2 val)."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(0)
    (root / "mnist").mkdir(parents=True, exist_ok=True)
    for prefix, count in (("train", 200), ("t10k", 100)):
        _write_idx(root / "mnist" / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (count, 28, 28), np.uint8))
        _write_idx(root / "mnist" / f"{prefix}-labels-idx1-ubyte", (np.arange(count) % 10).astype(np.uint8))
    for split, count in (("train", 4), ("val", 2)):
        (root / "facades" / split).mkdir(parents=True, exist_ok=True)
        for index in range(count):
            pair = rng.integers(0, 256, (256, 512, 3), np.uint8)
            cv2.imwrite(str(root / "facades" / split / f"{index + 1}.jpg"), pair)
    return root


# ---------------------------------------------------------------- report
def _number(value, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}g}"


def markdown(report: dict) -> str:
    parts = report["parts"]
    environment = parts.get("environment", {})
    title = "dry run on CPU (figures meaningless)" if report["dry_run"] else environment.get("gpu_names", "unknown GPU")
    lines = [f"## Device check: {title}", "",
             f"`{report['command']}`, {report['started']}, {report['total_seconds']:.0f} s in all.", "",
             "| part | status | seconds | budget s | result |", "| --- | --- | ---: | ---: | --- |"]
    for name, record in parts.items():
        text = record.get("summary") or _brief(record.get("error"))
        lines.append(f"| {name} | {record['status']} | {record['seconds']:.0f} | {record['budget_s']:.0f} | {text} |")
    lines += ["", "| part | setting | img/s fit | img/s loop | fit / loop | GFLOP/img | peak share | |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for case in parts.get("throughput", {}).get("cases", []):
        for entry in case["settings"]:
            name = _setting_name(entry["precision"], entry["xla"])
            notes = [note for note, flag in (("auto pick", name == case["pick"]), ("fastest", name == case["fastest"]))
                     if flag]
            if entry["status"] == "skipped":  # counted in the part's summary
                continue
            if entry["status"] != "ok":
                lines.append(f"| throughput | {case['case']}, {name} | {entry['status']} | | | | | |")
                continue
            lines.append(f"| throughput | {case['case']}, {name} | {entry['fit_img_s']:.4g} "
                         f"| {entry['loop_img_s']:.4g} "
                         f"| {entry['fit_img_s'] / entry['loop_img_s']:.3f} | {entry['fit']['gflops_per_img']:.4g} "
                         f"| {entry['fit']['peak_share']:.3f} | {', '.join(notes)} |")
    comparison = parts.get("pix2pix_vs_tutorial", {}).get("results")
    if comparison:
        reference, ours = comparison
        lines.append(
            f"| pix2pix_vs_tutorial | 256 px b1, ours ({_setting_name(ours['precision'], ours['jit_compile'])}) "
            f"vs the tutorial's loop (float32) | {ours['images_per_second']:.4g} "
            f"| {reference['images_per_second']:.4g} "
            f"| {ours['images_per_second'] / reference['images_per_second']:.3f} "
            f"| {ours['efficiency']['gflops_per_img']:.4g} / {reference['efficiency']['gflops_per_img']:.4g} "
            f"| {ours['efficiency']['peak_share']:.3f} / {reference['efficiency']['peak_share']:.3f} | |")
    throughput = parts.get("throughput", {})
    if throughput.get("peaks"):
        lines += ["", "Matmul peaks (GFLOP/s): " + ", ".join(f"{name} {value:.5g}"
                                                             for name, value in throughput["peaks"].items()) + "."]
    picks = [f"{case['case']}: auto picks {case['pick']}, {case['verdict']}"
             for case in throughput.get("cases", []) if case["pick"]]
    if picks:
        lines += ["", "`--precision auto` / `--jit-compile auto` picks:", ""] + [f"- {line}" for line in picks]
    quality = parts.get("time_to_quality", {})
    if quality.get("epochs"):
        lines += ["", "| cgan_mnist epoch | wall s since launch | label accuracy |", "| ---: | ---: | ---: |"]
        lines += [f"| {epoch['epoch']} | {epoch['wall_s']:.0f} | {_number(epoch['label_accuracy'])} |"
                  for epoch in quality["epochs"]]
    return "\n".join(lines) + "\n"


def write_report(report: dict, out: Path):
    (out / "device_check.json").write_text(json.dumps(report, indent=1) + "\n")
    (out / "device_check.md").write_text(markdown(report))


# ---------------------------------------------------------------- main
def _children_cpu_seconds() -> float:
    """CPU seconds of the finished child processes so far: a part's figure that a
    busy machine does not inflate as it does wall time."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="folder for device_check.json/.md and the runs' files (required)")
    parser.add_argument("--dry-run", action="store_true", help="on CPU, tiny sizes, synthetic data (for the tests)")
    parser.add_argument("--data-dir", default=os.environ.get("TFGAN_ZOO_DATA"),
                        help="folder holding mnist/ and facades/ (default: $TFGAN_ZOO_DATA)")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS),
                        help="the parts to run (default: all)")
    parser.add_argument("--fail", nargs="+", choices=PARTS, default=[],
                        help="for tests: these parts' commands fail at once (the report must record it and go on)")
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe_child()))
        return
    if args.measure:
        measure_child(json.loads(args.measure))
        return

    if args.out is None:
        parser.error("--out DIR is required: the folder for device_check.json, device_check.md and the runs' files.")
    # A kill of this process (timeout, Ctrl-C) must not leave a part's children running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("device_check.py stopped by SIGTERM"))
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.dry_run:
        args.data_dir = str(make_dry_data(args.out / "dry_data"))
    budgets = {name: BUDGETS[name][1 if args.dry_run else 0] for name in args.parts}
    report = {"command": " ".join(["python", "bench/device_check.py", *sys.argv[1:]]), "dry_run": args.dry_run,
              "started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "total_seconds": 0.0,
              "budget_s": sum(budgets.values()), "machine": {"platform": platform.platform(),
                                                             "cpu_count": os.cpu_count()}, "parts": {}}
    state = {}
    started = time.monotonic()
    for name in args.parts:
        # The last part (throughput) also gets what the earlier ones left unused.
        budget = budgets[name]
        if name == "throughput":
            budget = max(budget, report["budget_s"] - (time.monotonic() - started))
        print(f"[{time.monotonic() - started:4.0f} s] {name} (budget {budget:.0f} s)", flush=True)
        part = Part(name, budget, args.dry_run, name in args.fail)
        cpu_before = _children_cpu_seconds()
        try:
            record = {"status": "ok", **PART_FUNCTIONS[name](part, args, state)}
        except PartFailed as error:
            record = {"status": error.status, "error": str(error), **error.results}
        except Exception as error:  # a bug or an unexpected output in this script: recorded, the rest runs
            record = {"status": "failed", "error": f"{error!r}\n{_tail(traceback.format_exc(), 10)}"}
        record.pop("stdout", None)
        record.update(seconds=round(time.monotonic() - part.start, 1), budget_s=round(budget),
                      cpu_seconds=round(_children_cpu_seconds() - cpu_before, 1))
        report["parts"][name] = record
        report["total_seconds"] = round(time.monotonic() - started, 1)
        write_report(report, args.out)
        print(f"       {record['status']}: {record.get('summary') or _brief(record.get('error'))}", flush=True)
    print(f"wrote {args.out / 'device_check.json'} and {args.out / 'device_check.md'} "
          f"({report['total_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
