"""The package deletes or replaces only what it created (tfgan_zoo.runs.ownership):
every writer that deletes or replaces leaves a folder it did not make alone and
says which, and still rewrites its own."""

import json
import logging

import numpy as np
import pytest
from conftest import REPO, run_script, solid, write_image
from families import FAMILIES

from tfgan_zoo import export
from tfgan_zoo.data import lineart
from tfgan_zoo.data.lineart import MANIFEST, make_lineart_pairs
from tfgan_zoo.gallery import write_cycle_gallery, write_gallery
from tfgan_zoo.runs import ownership
from tfgan_zoo.runs.ownership import MARKER, NotOurs


def snapshot(folder):
    """``{relative path: bytes}`` of every file under ``folder``: what a refused write must leave as it was."""
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file()}


def run_directory(path):
    """A run directory as training leaves it: checkpoints, logs and samples, no export marker."""
    (path / "checkpoints").mkdir(parents=True)
    (path / "checkpoints" / "ckpt.weights.h5").write_bytes(b"weights")
    (path / "logs").mkdir()
    (path / "logs" / "training.csv").write_text("epoch,g_loss\n0,1.0\n")
    write_image(path / "samples" / "epoch_001.png", solid(7))
    (path / "config.json").write_text("{}")
    return path


# ------------------------------------------------------------------ the helper
def test_claim_marks_a_new_or_empty_folder_and_refuses_anything_else(tmp_path):
    assert ownership.claim(tmp_path / "new", "gallery", "test") == tmp_path / "new"
    assert ownership.marker_kind(tmp_path / "new") == "gallery"
    (tmp_path / "empty").mkdir()
    ownership.claim(tmp_path / "empty", "gallery", "test")
    assert ownership.claim(tmp_path / "new", "gallery", "test") == tmp_path / "new"  # its own: fine again

    users = tmp_path / "users"
    (users / "notes").mkdir(parents=True)
    (users / "a.txt").write_text("mine")
    with pytest.raises(NotOurs, match=rf"{users} holds files tfgan_zoo did not write \(a.txt, notes\)"):
        ownership.claim(users, "gallery", "test")
    with pytest.raises(NotOurs, match="wrote as another kind \\('gallery', not 'SavedModel'\\)"):
        ownership.claim(tmp_path / "new", "SavedModel", "test")
    (tmp_path / "file").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "new")
    for path in (tmp_path / "file", tmp_path / "link"):
        with pytest.raises(NotOurs, match="is a link or a file"):
            ownership.claim(path, "gallery", "test")
    assert sorted(path.name for path in users.iterdir()) == ["a.txt", "notes"]  # nothing marked or written


def test_claim_takes_over_what_the_writer_recognises_as_its_own_from_before_the_markers(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "ours.txt").write_text("")
    ownership.claim(tmp_path / "old", "gallery", "test", written_before_markers=lambda folder: True)
    assert ownership.marker_kind(tmp_path / "old") == "gallery"


def test_remove_ours_deletes_only_a_marked_folder(tmp_path):
    ownership.claim(tmp_path / "ours", "SavedModel", "test")
    (tmp_path / "ours" / "x").write_text("")
    ownership.remove_ours(tmp_path / "ours", "SavedModel")
    assert not (tmp_path / "ours").exists()
    (tmp_path / "users").mkdir()
    (tmp_path / "users" / "x").write_text("mine")
    with pytest.raises(NotOurs, match=f"{tmp_path / 'users'} is not a SavedModel folder that tfgan_zoo made"):
        ownership.remove_ours(tmp_path / "users", "SavedModel")
    assert (tmp_path / "users" / "x").read_text() == "mine"


# ------------------------------------------------------------------- exports
def test_exports_into_a_run_directory_are_refused_with_the_path_and_nothing_deleted(tmp_path):
    run = run_directory(tmp_path / "run")
    before = snapshot(run)
    model = FAMILIES["dcgan"].build()
    with pytest.raises(NotOurs, match=rf"{run} holds files tfgan_zoo did not write \(checkpoints, config.json, "):
        export.save(model, run)
    with pytest.raises(NotOurs, match=f"{run} exists and is not a SavedModel that tfgan_zoo exported"):
        model.export(run)
    assert snapshot(run) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run"]  # no staging folder beside it either


def test_model_export_replaces_its_own_saved_model(tmp_path):
    model = FAMILIES["dcgan"].build()
    target = tmp_path / "model"
    model.export(target)
    assert ownership.marker_kind(target) == export.SAVED_MODEL_KIND
    (target / "variables" / "stale.bin").write_text("")  # something of the earlier export's
    model.export(target)
    assert not (target / "variables" / "stale.bin").exists()
    assert export.why_damaged(target) is None
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model"]  # staging and retired folders gone


def test_versioned_exports_prune_and_clean_up_only_what_they_wrote(tmp_path, caplog):
    model = FAMILIES["dcgan"].build()
    base = tmp_path / "generator"
    export.save(model, base)
    # As an export from before the markers left it: no marker in the base or the version.
    (base / MARKER).unlink()
    (base / "1" / MARKER).unlink()
    users = base / ".staging-7"  # a name like a leftover's, but holding a user's file
    users.mkdir()
    (users / "keep.txt").write_text("mine")
    (base / "0").mkdir()  # a version folder that tfgan_zoo did not write
    (base / "0" / "notes.txt").write_text("mine")
    with pytest.raises(NotOurs, match=f"{base} holds files tfgan_zoo did not write"):
        export.save(model, base, keep=1)
    (base / "0" / "notes.txt").unlink()
    (base / "0").rmdir()

    export.save(model, base, keep=1)  # the base from before the markers is taken over and marked
    assert ownership.marker_kind(base) == export.BASE_KIND
    assert [path.name for path in export.version_dirs(base)] == ["2"]  # its unmarked version 1 pruned
    (base / "0").mkdir()
    (base / "0" / "notes.txt").write_text("mine")
    with caplog.at_level(logging.WARNING, logger="tfgan_zoo.export"):
        assert export.save(model, base, keep=1) == base / "3"
    assert [path.name for path in export.version_dirs(base)] == ["0", "3"]
    assert (base / "0" / "notes.txt").read_text() == "mine" and (users / "keep.txt").read_text() == "mine"
    assert f"Not pruning {base / '0'}" in caplog.text and f"Leaving {users} alone" in caplog.text


# ------------------------------------------------------------- line-art pairs
def test_lineart_never_deletes_or_overwrites_the_users_pictures(tmp_path, capsys):
    source, pairs = tmp_path / "source", tmp_path / "pairs"
    write_image(source / "a.png", solid(200))
    # The user's own pictures where the pairs go: one named like a source, one not.
    for name in ("a.png", "mine.png"):
        write_image(pairs / "color" / name, solid(50))
    before = snapshot(pairs)
    with pytest.raises(NotOurs, match=rf"{pairs / 'color' / 'a.png'} is not a pair that this command made"):
        make_lineart_pairs(source, pairs)
    assert snapshot(pairs) == before  # nothing written, nothing removed

    with pytest.raises(SystemExit) as stopped:
        lineart.main([str(source), str(pairs)])  # python -m tfgan_zoo.data.lineart SOURCE PAIRS
    assert stopped.value.code == 1
    stderr = capsys.readouterr().err
    assert f"error: {pairs / 'color' / 'a.png'} is not a pair" in stderr and "2 such pictures" in stderr
    assert snapshot(pairs) == before


def test_the_lineart_experiment_stops_with_one_message_on_a_pairs_dir_of_the_users(tmp_path):
    write_image(tmp_path / "data" / "anime_faces" / "images" / "a.png", solid(200))
    write_image(tmp_path / "pairs" / "color" / "a.png", solid(50))
    before = snapshot(tmp_path / "pairs")
    with pytest.raises(SystemExit) as stopped:
        run_script(REPO / "experiments" / "pix2pix_lineart.py", "--data-dir", tmp_path / "data",
                   "--pairs-dir", tmp_path / "pairs", "--out", tmp_path / "run")
    assert str(stopped.value.code).startswith(f"error: {tmp_path / 'pairs' / 'color' / 'a.png'} is not a pair")
    assert snapshot(tmp_path / "pairs") == before


def test_lineart_removes_its_own_stale_pairs_but_refuses_a_picture_added_to_its_folders(tmp_path):
    source, pairs = tmp_path / "source", tmp_path / "pairs"
    for name in ("a", "b"):
        write_image(source / f"{name}.png", solid(200))
    assert make_lineart_pairs(source, pairs)["written"] == 2
    assert json.loads((pairs / MANIFEST).read_text())["written"] == ["a", "b"]
    (source / "b.png").unlink()
    write_image(pairs / "color" / "mine.png", solid(50))
    with pytest.raises(NotOurs, match="mine.png is not a pair"):
        make_lineart_pairs(source, pairs)
    assert (pairs / "color" / "b.png").is_file()  # refused before anything was removed
    (pairs / "color" / "mine.png").unlink()
    assert make_lineart_pairs(source, pairs)["removed"] == 2  # b's line art and colour picture: its own
    assert sorted(path.name for path in (pairs / "color").iterdir()) == ["a.png"]


def test_lineart_refuses_a_file_in_place_of_its_manifest(tmp_path):
    write_image(tmp_path / "source" / "a.png", solid(200))
    (tmp_path / "pairs").mkdir()
    (tmp_path / "pairs" / MANIFEST).write_text("my notes")
    with pytest.raises(NotOurs, match=f"{MANIFEST} is not a line-art manifest that this command can read"):
        make_lineart_pairs(tmp_path / "source", tmp_path / "pairs")
    assert (tmp_path / "pairs" / MANIFEST).read_text() == "my notes"


def test_a_killed_lineart_run_leaves_no_pair_its_manifest_does_not_claim(tmp_path, monkeypatch):
    for name in ("a", "b", "c"):
        write_image(tmp_path / "source" / f"{name}.png", solid(200))
    real_write, calls = lineart._write_png, []

    def killed_after_three_files(path, image):
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append(path)
        real_write(path, image)

    monkeypatch.setattr(lineart, "_write_png", killed_after_three_files)
    with pytest.raises(KeyboardInterrupt):
        make_lineart_pairs(tmp_path / "source", tmp_path / "pairs")
    monkeypatch.undo()
    counts = make_lineart_pairs(tmp_path / "source", tmp_path / "pairs")  # its own half run: no refusal
    assert counts["written"] == 3


# ----------------------------------------------------------------- galleries
def images(count, value=0):
    return np.full((count, 8, 8, 3), value, np.uint8)


def test_gallery_refuses_a_folder_of_the_users_and_rewrites_its_own(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<p>my page</p>")
    with pytest.raises(NotOurs, match=f"{site} holds files tfgan_zoo did not write \\(index.html\\)"):
        write_gallery(site, images(1), images(1), images(1), ["a"])
    assert sorted(path.name for path in site.iterdir()) == ["index.html"]
    assert (site / "index.html").read_text() == "<p>my page</p>"

    gallery = tmp_path / "gallery"
    write_gallery(gallery, images(1), images(1), images(1), ["a"])
    # A gallery from before the markers is recognised by its page and taken over.
    (gallery / MARKER).unlink()
    write_cycle_gallery(gallery, {"A": (images(1), images(1), images(1), ["b"])})
    page = write_gallery(gallery, images(1), images(1, 9), images(1), ["c"])
    assert "c.png" in page.read_text() and ownership.marker_kind(gallery) == "gallery"
