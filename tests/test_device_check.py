"""bench/device_check.py: its dry run (every part, on CPU, at tiny sizes, on synthetic
data) with one part forced to fail, and the order in which it measures settings."""

import json
import sys

from conftest import REPO, load_script

device_check = load_script(REPO / "bench" / "device_check.py")


def test_dry_run_reports_every_part_and_goes_on_after_a_failed_one(tmp_path, fork_server):
    out = tmp_path / "check"
    # Through the fork server, its eight Python processes included: a TensorFlow start each less.
    done = fork_server.run(
        [sys.executable, REPO / "bench" / "device_check.py", "--dry-run", "--out", out, "--fail", "install"],
        cwd=REPO, timeout=1200, children_through_server=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    parts = json.loads((out / "device_check.json").read_text())["parts"]
    assert list(parts) == list(device_check.PARTS)
    assert parts["install"]["status"] == "failed" and "forced failure of part install" in parts["install"]["error"]
    failed = {name: part.get("error") for name, part in parts.items() if name != "install" and part["status"] != "ok"}
    assert not failed, failed
    assert all(part["seconds"] >= 0 and part["budget_s"] > 0 for part in parts.values())

    assert parts["correctness"]["passed"] == 1 and parts["correctness"]["failed"] == 0
    cases = parts["throughput"]["cases"]
    measured = [setting for case in cases for setting in case["settings"] if setting["status"] == "ok"]
    assert len(measured) == len(device_check.DRY_CASES) + 1  # every pick, and one more setting
    assert all(setting["fit"]["gflops_per_img"] > 0 and setting["fit"]["peak_share"] > 0 for setting in measured)
    assert all(case["pick"] for case in cases)
    assert cases[0]["pick_is_fastest"] is not None  # the case with two settings compares them
    ours = parts["pix2pix_vs_tutorial"]["results"][1]
    assert ours["images_per_second"] > 0 and ours["efficiency"]["gflops_per_img"] > 0
    quality = parts["time_to_quality"]
    assert quality["epochs"] and quality["final_label_accuracy"] is not None

    markdown = (out / "device_check.md").read_text()
    assert "| install | failed |" in markdown
    speed_rows = [line for line in markdown.splitlines()
                  if line.startswith(("| throughput | ", "| pix2pix_vs_tutorial | ")) and " px " in line]
    assert len(speed_rows) == len(measured) + 1


def test_every_models_auto_pick_is_measured_first():
    cases = [("a", "train_speed", {}), ("b", "pix2pix_speed", {})]
    plan = device_check._plan(cases, {"precision": "mixed_bfloat16", "xla": True})
    assert plan[:4] == [(0, "mixed_bfloat16", True), (1, "mixed_bfloat16", True),
                        (0, "mixed_bfloat16", False), (1, "mixed_bfloat16", False)]
    assert len(set(plan)) == len(plan) == 2 * 3 * 2


def test_time_to_quality_is_the_first_epoch_at_the_target():
    epochs = [{"epoch": 1, "wall_s": 10.0, "label_accuracy": 0.9},
              {"epoch": 2, "wall_s": 20.0, "label_accuracy": 0.975},
              {"epoch": 3, "wall_s": 30.0, "label_accuracy": 0.96}]
    summary = device_check._quality_summary(epochs)
    assert (summary["seconds_to_target"], summary["epoch_at_target"]) == (20.0, 2)
    assert (summary["final_label_accuracy"], summary["final_wall_s"]) == (0.96, 30.0)
    assert device_check._quality_summary(epochs[:1])["seconds_to_target"] is None
