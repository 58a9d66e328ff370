"""The image-folder loader on crafted files: sizes, modes, nesting, corrupt files, labels."""

import logging
import struct
import zlib

import numpy as np
import pytest
from conftest import write_image
from PIL import Image, ImageOps

from tfgan_zoo.data import DataNotFoundError, ImageReadError, load_image_folder, read_rgb
from tfgan_zoo.runs.identity import source_identity

EXIF_ORIENTATION = 0x0112


@pytest.fixture
def folder(tmp_path):
    """Mixed sizes and modes in nested class folders, plus one corrupt file."""
    root = tmp_path / "pictures"
    rng = np.random.default_rng(0)
    write_image(root / "cats" / "wide.jpg", rng.integers(0, 256, (40, 80, 3), dtype=np.uint8))
    write_image(root / "cats" / "grey.png", np.full((32, 32), 200, np.uint8))
    transparent = np.zeros((24, 24, 4), np.uint8)  # fully transparent: composited on white
    write_image(root / "dogs" / "alpha.png", transparent)
    write_image(root / "dogs" / "deep" / "tall.webp", rng.integers(0, 256, (70, 30, 3), dtype=np.uint8))
    (root / "dogs" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (root / "dogs" / "notes.txt").write_text("ignored: not an image")
    return root


def test_unlabelled_folder_reads_every_good_image_and_skips_the_corrupt_one(folder, caplog):
    with caplog.at_level(logging.WARNING, logger="tfgan_zoo.data"):
        loaded = load_image_folder(folder, image_size=16)
    assert loaded.images.shape == (4, 16, 16, 3) and loaded.images.dtype == np.uint8
    assert loaded.labels is None
    assert [path.name for path, _ in loaded.skipped] == ["broken.jpg"]
    assert "broken.jpg" in caplog.text and "Skipped 1" in caplog.text
    by_name = dict(zip((path.name for path in loaded.files), loaded.images))
    assert np.all(by_name["grey.png"] == 200)  # grey -> RGB
    assert np.all(by_name["alpha.png"] == 255)  # transparent -> white


def test_strict_mode_names_the_corrupt_file(folder):
    with pytest.raises(ImageReadError, match="broken.jpg"):
        load_image_folder(folder, image_size=16, strict=True)


def test_subfolders_give_class_labels(folder):
    loaded = load_image_folder(folder, image_size=16, labels="subfolders")
    assert loaded.class_names == ["cats", "dogs"]
    names = [path.name for path in loaded.files]
    assert dict(zip(names, loaded.labels.tolist())) == {"wide.jpg": 0, "grey.png": 0, "alpha.png": 1, "tall.webp": 1}


def test_loose_images_with_subfolder_labels_are_an_error(folder):
    write_image(folder / "stray.png", np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="stray.png"):
        load_image_folder(folder, image_size=16, labels="subfolders")


def test_csv_labels(folder, tmp_path):
    table = tmp_path / "labels.csv"
    table.write_text("filename,colour\ncats/wide.jpg,red\ngrey.png,blue\ntall.webp,red\n")
    loaded = load_image_folder(folder, image_size=16, labels=table, label_column="colour")
    assert loaded.class_names == ["blue", "red"]
    assert [path.name for path in loaded.files] == ["wide.jpg", "grey.png", "tall.webp"]
    assert loaded.labels.tolist() == [1, 0, 1]


def test_csv_listing_a_missing_file_is_an_error(folder, tmp_path):
    table = tmp_path / "labels.csv"
    table.write_text("filename,colour\ncats/wide.jpg,red\ngone.jpg,blue\n")
    with pytest.raises(DataNotFoundError, match="gone.jpg"):
        load_image_folder(folder, image_size=16, labels=table, label_column="colour")


def test_csv_without_the_label_column_is_an_error(folder, tmp_path):
    table = tmp_path / "labels.csv"
    table.write_text("filename,colour\ncats/wide.jpg,red\n")
    with pytest.raises(ValueError, match="'hair'"):
        load_image_folder(folder, image_size=16, labels=table, label_column="hair")


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        load_image_folder(tmp_path / "nowhere")


def test_subset_is_seeded_and_keeps_labels_aligned(folder):
    loaded = load_image_folder(folder, image_size=16, labels="subfolders")
    part = loaded.subset(2, seed=3)
    assert len(part.images) == 2 and part.subset(2) is part
    for image, label, path in zip(part.images, part.labels, part.files):
        index = loaded.files.index(path)
        assert label == loaded.labels[index] and np.array_equal(image, loaded.images[index])


def test_a_link_back_up_the_tree_is_entered_once(folder):
    (folder / "dogs" / "again").symlink_to(folder, target_is_directory=True)
    images = load_image_folder(folder, image_size=16).images
    assert len(images) == 4  # the four good images, not again/cats/..., again/again/...
    fingerprint = source_identity(folder)
    assert fingerprint["files"] == 6  # four images, the corrupt one, notes.txt


# ------------------------------------------------- orientation, kinds, size
def oriented(path, image, orientation: int, **options):
    """``image`` saved with an EXIF orientation tag (through Pillow, which writes it for PNG and WebP)."""
    picture = Image.fromarray(image)
    exif = picture.getexif()
    exif[EXIF_ORIENTATION] = orientation
    path.parent.mkdir(parents=True, exist_ok=True)
    picture.save(path, exif=exif.tobytes(), **options)
    return path


@pytest.mark.parametrize("suffix, options", [(".png", {}), (".webp", {"lossless": True})])
def test_exif_orientation_is_applied_to_png_and_webp_as_to_jpeg(tmp_path, suffix, options):
    stored = np.random.default_rng(1).integers(0, 256, (5, 7, 3), dtype=np.uint8)  # as the camera stored it
    for orientation in range(1, 9):
        path = oriented(tmp_path / f"{orientation}{suffix}", stored, orientation, **options)
        upright = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))  # Pillow's reading
        read = read_rgb(path)
        assert read.shape == upright.shape and np.array_equal(read, upright), orientation
    assert read_rgb(tmp_path / f"6{suffix}").shape == (7, 5, 3)  # turned a quarter: on its side no more


def test_gif_and_tiff_pictures_are_read_and_other_kinds_are_named(tmp_path, caplog):
    picture = np.random.default_rng(2).integers(0, 256, (12, 12, 3), dtype=np.uint8)
    for name in ("a.gif", "b.tif", "c.TIFF"):
        path = tmp_path / "pictures" / name
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(picture).save(path)
    (tmp_path / "pictures" / "phone.heic").write_bytes(b"\x00\x00\x00\x18ftypheic")
    with caplog.at_level(logging.WARNING, logger="tfgan_zoo.data"):
        loaded = load_image_folder(tmp_path / "pictures", image_size=12)
    assert sorted(path.name for path in loaded.files) == ["a.gif", "b.tif", "c.TIFF"]
    assert np.array_equal(loaded.images[loaded.files.index(tmp_path / "pictures" / "b.tif")], picture)
    assert [(path.name, "HEIC" in reason) for path, reason in loaded.skipped] == [("phone.heic", True)]
    assert "phone.heic" in caplog.text
    with pytest.raises(ImageReadError, match="phone.heic"):
        load_image_folder(tmp_path / "pictures", image_size=12, strict=True)


def huge_png(path, side: int = 20000):
    """A PNG whose header says ``side``x``side`` grey pixels (a few dozen bytes: its pixels are missing)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    empty = zlib.compress(b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", empty) + chunk(b"IEND", b""))
    return path


def test_a_picture_over_the_pixel_cap_is_refused_from_its_header(folder):
    huge_png(folder / "cats" / "huge.png")
    huge_png(folder / "cats" / "large.png", side=9000)  # below Pillow's own limit
    loaded = load_image_folder(folder, image_size=16)
    reasons = {path.name: reason for path, reason in loaded.skipped}
    assert len(loaded.images) == 4 and "cap" in reasons["huge.png"] and "9000x9000" in reasons["large.png"]
    with pytest.raises(ImageReadError, match=r"huge\.png is 400 megapixels, over the 67.1-megapixel cap"):
        read_rgb(folder / "cats" / "huge.png")
    with pytest.raises(ImageReadError, match=r"grey\.png is 32x32 pixels .* over the .*-megapixel cap"):
        read_rgb(folder / "cats" / "grey.png", max_pixels=32 * 32 - 1)
    assert read_rgb(folder / "cats" / "grey.png", max_pixels=32 * 32).shape == (32, 32, 3)
