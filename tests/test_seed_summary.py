"""studies/pix2pix_vs_tutorial/pix2pix_seed_summary.py: the statistics that decide whether a pix2pix gap is seed noise."""

import json

import pytest


@pytest.fixture(scope="module")
def summary(study_module):
    return study_module("pix2pix_vs_tutorial", "pix2pix_seed_summary")


def test_permutation_p_value_is_exact(summary):
    # Fully separated groups of 4: only the observed split and its mirror are as extreme (2 of C(8, 4) = 70).
    assert summary.permutation_p_value([5, 6, 7, 8], [1, 2, 3, 4]) == pytest.approx(2 / 70)
    assert summary.permutation_p_value([1, 2, 3], [1, 2, 3]) == 1.0
    # Past max_splits it samples splits at random and lands near the exact value.
    assert summary.permutation_p_value([5, 6, 7, 8], [1, 2, 3, 4], max_splits=50) < 0.2


def test_bootstrap_interval_brackets_the_difference(summary):
    low, high = summary.bootstrap_interval([1.0, 1.1, 0.9, 1.05], [0.0, 0.1, -0.1, 0.05])
    assert 0.7 < low < 1.0 < high < 1.3


def test_runs_group_by_configuration_and_steps(summary, tmp_path):
    def write(name, seed, steps, ours_ssim, settings=None):
        scores = {mode: {"ssim": ours_ssim, "psnr": 13.0, "l1": 0.36} for mode in ("paper", "inference")}
        record = {"seed": seed, "steps": steps, "results": [
            {"name": "reference (TF tutorial)", "precision": "float32", "scores": scores},
            {"name": "tfgan_zoo Pix2Pix", "options": "", "precision": "mixed_bfloat16", "scores": scores},
        ]}
        if settings:
            record["settings"] = settings
        (tmp_path / name).write_text(json.dumps(record))
        return tmp_path / name

    files = [write("a.json", 0, 400, 0.2), write("b.json", 1, 400, 0.3), write("c.json", 0, 1200, 0.4),
             write("d.json", 0, 400, 0.1, settings={"leaky_slope": 0.3, "decode": "tf"})]
    groups = summary.load_runs(files, steps=400)
    assert sorted(groups) == ["reference (TF tutorial)", "tfgan_zoo Pix2Pix mixed_bfloat16",
                              "tfgan_zoo Pix2Pix mixed_bfloat16 decode=tf leaky_slope=0.3"]
    assert len(groups["reference (TF tutorial)"]) == 3
    assert [run["seed"] for run in groups["tfgan_zoo Pix2Pix mixed_bfloat16"]] == [0, 1]
    lines = summary.summarise(groups)
    assert any(line.startswith("tfgan_zoo Pix2Pix mixed_bfloat16 minus reference (n = 2 vs 3)") for line in lines)
