"""The readers (the report, the demo) read only regular files inside their run or
export directory: a link leading out, a FIFO or a folder where a file is expected
is skipped with a warning that names it, or refused by name where the reader needs it."""

import base64
import json
import logging
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from tfgan_zoo import report, safe_files
from tfgan_zoo.visualize import save_image

SECRET = b"-----BEGIN OPENSSH PRIVATE KEY----- not for a report"
TOKEN = "s3cr3t-t0ken"


@pytest.fixture
def warnings_of_readers(caplog):
    caplog.set_level(logging.WARNING, logger=safe_files.logger.name)
    return caplog


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_only_regular_files_inside_the_folder_are_read(tmp_path, warnings_of_readers):
    root = tmp_path / "run"
    root.mkdir()
    (root / "plain.txt").write_bytes(b"plain")
    (root / "inside.txt").symlink_to(root / "plain.txt")
    (tmp_path / "outside.txt").write_bytes(SECRET)
    (root / "out.txt").symlink_to(tmp_path / "outside.txt")
    (root / "dangling.txt").symlink_to(root / "gone.txt")
    (root / "folder.txt").mkdir()
    os.mkfifo(root / "fifo.txt")  # read without the check, it would block forever
    read = {name: safe_files.read_file_or_skip(root / name, root)
            for name in ("plain.txt", "inside.txt", "missing.txt", "out.txt", "dangling.txt", "folder.txt", "fifo.txt")}
    assert read == {"plain.txt": b"plain", "inside.txt": b"plain", "missing.txt": None, "out.txt": None,
                    "dangling.txt": None, "folder.txt": None, "fifo.txt": None}
    warnings = {record.getMessage().split()[1]: record.getMessage() for record in warnings_of_readers.records}
    skipped = ("out.txt", "dangling.txt", "folder.txt", "fifo.txt")
    assert sorted(warnings) == sorted(str(root / name) for name in skipped)
    for name, why in [("out.txt", f"leads out of {root}"), ("dangling.txt", "which does not exist"),
                      ("folder.txt", "is a folder where a regular file is expected"), ("fifo.txt", "is a FIFO")]:
        assert why in warnings[str(root / name)]
    # Nothing at missing.txt: no warning, as a run in progress has not written every file yet.


def test_report_skips_files_linked_from_outside_the_run(tmp_path, warnings_of_readers):
    run, elsewhere = tmp_path / "run", tmp_path / "elsewhere"
    for folder in (run / "samples", run / "best", elsewhere):
        folder.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"model": "DCGAN"}))
    save_image(run / "samples" / "epoch_001.png", np.zeros((8, 8, 1), np.uint8))
    (run / "samples" / "epoch_002.png").symlink_to(run / "samples" / "epoch_001.png")  # inside the run: shown
    (elsewhere / "id_ed25519").write_bytes(SECRET)
    (elsewhere / "token.json").write_text(json.dumps({"token": TOKEN}))
    (run / "samples" / "epoch_999.png").symlink_to(elsewhere / "id_ed25519")
    (run / "best" / "fid.json").symlink_to(elsewhere / "token.json")

    page = report.build_report(run).read_text(encoding="utf-8")
    assert base64.b64encode(SECRET).decode("ascii") not in page and TOKEN not in page
    assert "samples at epoch 1" in page and "samples at epoch 2" in page and "epoch 999" not in page
    assert "fid.json was skipped" in page
    warned = warnings_of_readers.text
    assert f"{run / 'samples' / 'epoch_999.png'} leads out of {run}" in warned
    assert f"{run / 'best' / 'fid.json'} leads out of {run}" in warned


@pytest.fixture(scope="module")
def dcgan_export(tmp_path_factory):
    """A version folder of a tiny DCGAN export."""
    from families import FAMILIES

    from tfgan_zoo import export

    return export.save(FAMILIES["dcgan"].build(), tmp_path_factory.mktemp("export") / "dcgan")


@pytest.mark.parametrize("planted", ["tfgan_zoo.json", "variables/variables.index"])
def test_demo_refuses_an_export_with_a_file_linked_from_outside(dcgan_export, tmp_path, planted):
    pytest.importorskip("gradio", reason="the demo extra is not installed: pip install -e '.[demo]'")
    from tfgan_zoo import demo

    base = shutil.copytree(dcgan_export.parent, tmp_path / "export")
    link = base / dcgan_export.name / planted
    moved = tmp_path / "elsewhere" / Path(planted).name
    moved.parent.mkdir()
    shutil.move(link, moved)
    link.symlink_to(moved)  # the same content: only where it lies differs
    with pytest.raises(safe_files.UnsafeFileError, match=f"^{re.escape(str(link))} leads out of"):
        demo.build_demo(base)
