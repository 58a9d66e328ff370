"""Hostile labels and derived data: label CSVs from spreadsheets, IDX labels out of
range, line-art pairs made with other settings, gallery files that would collide."""

import cv2
import numpy as np
import pytest
from conftest import solid, write_image
from test_data import make_idx_folder, write_idx

from tfgan_zoo import data
from tfgan_zoo.data.folder import _sorted_classes, normalize_label
from tfgan_zoo.data.idx import idx_file_names
from tfgan_zoo.data.lineart import MANIFEST, line_art, make_lineart_pairs, read_manifest
from tfgan_zoo.runs.ownership import NotOurs
from tfgan_zoo.gallery import image_file_names, write_cycle_gallery, write_gallery


def picture_folder(root, names):
    for index, name in enumerate(names):
        write_image(root / name, solid(10 * index))
    return root


def load(root, table, text, encoding="utf-8"):
    table.write_text(text, encoding=encoding)
    return data.load_image_folder(root, image_size=8, labels=table, label_column="kind")


def test_csv_with_excel_byte_order_mark_and_spaced_header_is_read(tmp_path):
    root = picture_folder(tmp_path / "pics", ["a.png", "b.png"])
    loaded = load(root, tmp_path / "t.csv", "filename, kind\na.png,cat\nb.png,dog\n", encoding="utf-8-sig")
    assert loaded.class_names == ["cat", "dog"] and loaded.labels.tolist() == [0, 1]


def test_csv_that_is_not_utf8_says_how_to_save_it(tmp_path):
    root = picture_folder(tmp_path / "pics", ["a.png"])
    with pytest.raises(ValueError, match="not UTF-8.*CSV UTF-8"):
        load(root, tmp_path / "t.csv", "filename,kind\na.png,caf\u00e9\n", encoding="latin-1")


def test_numeric_labels_are_one_class_however_they_are_written(tmp_path):
    names = ["a.png", "b.png", "c.png", "d.png", "e.png", "f.png"]
    root = picture_folder(tmp_path / "pics", names)
    loaded = load(root, tmp_path / "t.csv", "filename,kind\na.png,1\nb.png,01\nc.png, 1 \nd.png,1.0\ne.png,10\nf.png,2\n")
    assert loaded.class_names == ["1", "2", "10"]  # numerically, not "1" < "10" < "2"
    assert loaded.labels.tolist() == [0, 0, 0, 0, 2, 1]


@pytest.mark.parametrize("raw, label", [
    ("7", "7"), ("007", "7"), ("+7", "7"), ("-0", "0"), ("7.000", "7"), ("1e1", "10"), ("0.50", "0.5"),
    (" red ", "red"), ("Red", "Red"), ("nan", "nan"), ("1_000", "1_000"), ("12345678901234567890", "12345678901234567890"),
])
def test_normalize_label(raw, label):
    assert normalize_label(raw) == label


def test_class_order_is_fixed_when_names_share_a_number():
    assert _sorted_classes(["1", "01", "2"]) == _sorted_classes(["2", "01", "1"]) == ["01", "1", "2"]
    assert _sorted_classes(["b", "10", "a"]) == ["10", "a", "b"]


def test_conflicting_duplicate_rows_are_listed_and_identical_ones_accepted(tmp_path):
    root = picture_folder(tmp_path / "pics", ["sub/a.png", "b.png"])
    table = tmp_path / "t.csv"
    # The same image twice with one label (once by base name) is harmless.
    loaded = load(root, table, "filename,kind\nsub/a.png,cat\na.png,cat\nb.png,dog\nb.png,dog\n")
    assert len(loaded.files) == 2 and loaded.labels.tolist() == [0, 1]
    with pytest.raises(ValueError) as error:
        load(root, table, "filename,kind\nsub/a.png,cat\nb.png,dog\na.png,dog\n")
    message = str(error.value)
    assert "sub/a.png" in message and "line 2 'sub/a.png' -> 'cat'" in message and "line 4 'a.png' -> 'dog'" in message
    assert "b.png" not in message


def test_base_name_shared_by_two_images_is_refused_with_the_candidates(tmp_path):
    root = picture_folder(tmp_path / "pics", ["x/1.jpg", "y/1.jpg", "z/2.jpg"])
    table = tmp_path / "t.csv"
    with pytest.raises(ValueError) as error:
        load(root, table, "filename,kind\n1.jpg,cat\n2.jpg,dog\n")
    message = str(error.value)
    assert "'1.jpg' (line 2) matches x/1.jpg, y/1.jpg" in message and "relative to" in message
    loaded = load(root, table, "filename,kind\nx/1.jpg,cat\n2.jpg,dog\n")
    assert [path.relative_to(root).as_posix() for path in loaded.files] == ["x/1.jpg", "z/2.jpg"]


def test_empty_and_short_rows_are_listed_by_line(tmp_path):
    root = picture_folder(tmp_path / "pics", ["a.png", "b.png"])
    with pytest.raises(ValueError, match="line 3; line 4"):
        load(root, tmp_path / "t.csv", "filename,kind\na.png,cat\nb.png, \na.png\n")


def test_idx_labels_outside_the_ten_classes_are_refused(tmp_path):
    folder = make_idx_folder(tmp_path / "mnist", n=12)
    labels_path = folder / (idx_file_names("train")[1] + ".gz")
    write_idx(labels_path, np.array([0, 1, 2, 10, 4, 5, 255, 7, 8, 9, 10, 1]))
    with pytest.raises(ValueError) as error:
        data.load_idx_dataset("mnist", "train", data_dir=folder)
    message = str(error.value)
    assert str(labels_path) in message and "10 (2x), 255 (1x)" in message and "position(s) 3, 6, 10" in message
    images, _ = data.load_idx_dataset("mnist", "test", data_dir=folder)  # the good split still loads
    assert len(images) == 12


def edges(shift=0):
    image = np.zeros((16, 16, 3), np.uint8)
    image[:, 8 + shift :] = 230
    return image


def test_lineart_pairs_are_remade_when_the_settings_or_sources_change(tmp_path, caplog):
    source, out = tmp_path / "source", tmp_path / "pairs"
    write_image(source / "a.png", edges())
    write_image(source / "b.png", edges(2))

    def lineart(name):
        return cv2.imdecode(np.fromfile(out / "lineart" / name, np.uint8), cv2.IMREAD_UNCHANGED)

    assert make_lineart_pairs(source, out, kernel_size=3)["written"] == 2
    manifest = read_manifest(out)
    assert manifest["kernel_size"] == 3 and manifest["count"] == 2 and manifest["source"] == str(source.resolve())
    assert make_lineart_pairs(source, out, kernel_size=3)["existing"] == 2

    counts = make_lineart_pairs(source, out, kernel_size=5)
    assert counts["written"] == 2 and "kernel_size 3 -> 5" in counts["rebuilt"]
    np.testing.assert_array_equal(lineart("a.png"), line_art(edges(), 5))
    assert read_manifest(out)["kernel_size"] == 5

    # A replaced source is redone, a deleted one loses its pair, the rest is reused.
    write_image(source / "a.png", edges(-3))
    (source / "b.png").unlink()
    counts = make_lineart_pairs(source, out, kernel_size=5)
    assert (counts["written"], counts["existing"], counts["removed"], counts["rebuilt"]) == (1, 0, 2, None)
    np.testing.assert_array_equal(lineart("a.png"), line_art(edges(-3), 5))
    assert sorted(p.name for p in (out / "color").iterdir()) == ["a.png"]

    # A broken manifest cannot say which pictures the command wrote: it stops and touches nothing.
    (out / MANIFEST).write_text("{not json")
    with pytest.raises(NotOurs, match=f"{MANIFEST} is not a line-art manifest"):
        make_lineart_pairs(source, out, kernel_size=5)
    assert (out / MANIFEST).read_text() == "{not json" and (out / "color" / "a.png").is_file()


def test_lineart_bad_settings_fail_before_touching_the_pairs(tmp_path):
    write_image(tmp_path / "source" / "a.png", edges())
    make_lineart_pairs(tmp_path / "source", tmp_path / "pairs")
    with pytest.raises(ValueError, match="odd"):
        make_lineart_pairs(tmp_path / "source", tmp_path / "pairs", kernel_size=4)
    assert read_manifest(tmp_path / "pairs")["kernel_size"] == 3
    assert (tmp_path / "pairs" / "lineart" / "a.png").is_file()


def test_gallery_file_names_are_unique_per_image():
    files = image_file_names(["1", "1", "1.jpg", "1.png", "x/1.png", "X_1", "", "../up"])
    assert files == ["1.png", "1~1.png", "1.jpg.png", "1~3.png", "x_1.png", "X_1~5.png", "0006.png", "_up.png"]
    assert len({name.lower() for name in files}) == len(files)


def test_gallery_keeps_every_image_when_stems_repeat(tmp_path):
    values = [10, 120, 240]
    stack = np.stack([solid(value) for value in values])
    write_gallery(tmp_path / "g", stack, stack, stack, ["1", "1", "1.jpg"])
    written = sorted((tmp_path / "g" / "images").iterdir())
    assert [path.name for path in written] == ["1.jpg.png", "1.png", "1~1.png"]
    found = sorted(int(cv2.imread(str(path))[4, 4, 0]) for path in written)
    assert found == values  # none overwrote another
    page = write_cycle_gallery(tmp_path / "c", {"A": (stack[:2], stack[:2], stack[:2], ["1", "1"])}).read_text()
    assert "images_0/1.png" in page and "images_0/1~1.png" in page
