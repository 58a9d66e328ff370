"""Line art from colour images, pair-folder generation and its CLI."""

import cv2
import numpy as np
import pytest

from tfgan_zoo import data
from tfgan_zoo.data import lineart
from tfgan_zoo.data.lineart import line_art, make_lineart_pairs


def two_regions(size=16):
    """Left half blue, right half yellow: one vertical colour boundary in the middle."""
    image = np.zeros((size, size, 3), np.uint8)
    image[:, : size // 2] = (30, 60, 200)
    image[:, size // 2 :] = (240, 220, 40)
    return image


def write_png(path, image_rgb):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imencode(".png", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))[1].tofile(path)


def test_flat_regions_white_boundary_dark():
    art = line_art(two_regions())
    assert art.shape == (16, 16) and art.dtype == np.uint8
    assert (art[:, :6] == 255).all() and (art[:, 10:] == 255).all()
    assert (art[:, 7] < 200).all()  # the darker side of the edge, next to the brighter region


def test_kernel_size_widens_lines():
    thin, thick = line_art(two_regions(), 3), line_art(two_regions(), 7)
    assert (thick < 255).sum() > (thin < 255).sum()


def test_threshold_makes_binary():
    art = line_art(two_regions(), threshold=200)
    assert set(np.unique(art)) == {0, 255}
    assert (art[:, 7] == 0).all()


def test_line_art_rejects_bad_arguments():
    with pytest.raises(ValueError, match="uint8"):
        line_art(two_regions().astype(np.float32))
    with pytest.raises(ValueError, match="odd"):
        line_art(two_regions(), kernel_size=4)
    with pytest.raises(ValueError, match="1..255"):
        line_art(two_regions(), threshold=300)


def test_make_pairs_writes_matching_names_skips_corrupt_and_reruns_fast(tmp_path):
    source, out = tmp_path / "source", tmp_path / "pairs"
    write_png(source / "a.png", two_regions())
    write_png(source / "nested" / "b.png", two_regions(24))
    (source / "broken.jpg").write_bytes(b"not a jpeg")
    counts = make_lineart_pairs(source, out, size=16)
    assert counts == {"written": 2, "existing": 0, "removed": 0, "skipped": ["broken.jpg"], "rebuilt": None}
    assert sorted(p.name for p in (out / "lineart").iterdir()) == ["a.png", "b.png"]
    assert sorted(p.name for p in (out / "color").iterdir()) == ["a.png", "b.png"]
    lineart_png = cv2.imdecode(np.fromfile(out / "lineart" / "a.png", np.uint8), cv2.IMREAD_UNCHANGED)
    assert lineart_png.ndim == 2  # single-channel PNG

    inputs, targets, names = data.load_folder_pairs(out / "lineart", out / "color", size=16)
    assert names == ["a", "b"]
    np.testing.assert_array_equal(inputs[0], np.repeat(line_art(two_regions())[..., None], 3, -1))
    np.testing.assert_array_equal(targets[0], two_regions())

    again = make_lineart_pairs(source, out, size=16)
    assert again == {"written": 0, "existing": 2, "removed": 0, "skipped": ["broken.jpg"], "rebuilt": None}


def test_clashing_source_names_are_rejected(tmp_path):
    write_png(tmp_path / "source" / "x" / "1.png", two_regions())
    write_png(tmp_path / "source" / "y" / "1.png", two_regions())
    with pytest.raises(ValueError, match="x/1.png vs y/1.png"):
        make_lineart_pairs(tmp_path / "source", tmp_path / "out")


def test_cli_prints_counts(tmp_path, capsys):
    source, out = tmp_path / "source", tmp_path / "out"
    write_png(source / "a.png", two_regions())
    (source / "bad.png").write_bytes(b"")
    lineart.main([str(source), str(out), "--size", "8", "--threshold", "128"])  # python -m tfgan_zoo.data.lineart
    printed = capsys.readouterr().out
    assert "1 pairs written, 0 already present, 1 unreadable files skipped" in printed
    assert "bad.png" in printed
    color = cv2.imdecode(np.fromfile(out / "color" / "a.png", np.uint8), cv2.IMREAD_UNCHANGED)
    assert color.shape == (8, 8, 3)
