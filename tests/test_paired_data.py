"""Image reading, paired loaders (side by side, two folders), path resolution, paired batches."""

import cv2
import numpy as np
import pytest
from conftest import shared_data_dir, solid, write_image

from tfgan_zoo import data
from tfgan_zoo.data.images import read_rgb, resize_square

S = 8
write = write_image


def side_by_side_folder(folder, ids=(1, 2, 10)):
    """Files ``<i>.png`` with A = (i, 0, 0) on the left and B = (0, i, 0) on the right."""
    for i in ids:
        write(folder / f"{i}.png", np.concatenate([solid((i, 0, 0)), solid((0, i, 0))], axis=1))
    return folder


# read_rgb


def test_read_rgb_returns_rgb_order(tmp_path):
    image = read_rgb(write(tmp_path / "red.png", solid((255, 0, 0))))
    assert image.dtype == np.uint8 and image.shape == (S, S, 3)
    assert image[0, 0].tolist() == [255, 0, 0]


def test_read_rgb_converts_grey_rgba_and_16_bit(tmp_path):
    grey = read_rgb(write(tmp_path / "grey.png", np.full((S, S), 77, np.uint8)))
    assert grey.shape == (S, S, 3) and (grey == 77).all()

    rgba = np.zeros((S, S, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[0, 0, 3], rgba[0, 1, 3], rgba[0, 2, 3] = 255, 0, 102  # opaque, transparent, 40%
    image = read_rgb(write(tmp_path / "rgba.png", rgba))
    assert image[0, 0].tolist() == [200, 0, 0]
    assert image[0, 1].tolist() == [255, 255, 255]  # composited on white
    assert image[0, 2].tolist() == [233, 153, 153]  # 0.4 * colour + 0.6 * 255

    deep = np.full((S, S), 257 * 10, np.uint16)
    deep_path = tmp_path / "deep.png"
    cv2.imencode(".png", deep)[1].tofile(deep_path)
    assert (read_rgb(deep_path) == 10).all()


def test_read_rgb_converts_palette_png(tmp_path):
    image_module = pytest.importorskip("PIL.Image")
    palette = image_module.new("P", (S, S))
    palette.putpalette([10, 20, 30, 40, 50, 60] + [0] * 762)
    palette.putpixel((1, 0), 1)
    palette.save(tmp_path / "palette.png")
    image = read_rgb(tmp_path / "palette.png")
    assert image[0, 0].tolist() == [10, 20, 30] and image[0, 1].tolist() == [40, 50, 60]


@pytest.mark.parametrize("content", [b"", b"definitely not an image"])
def test_unreadable_files_raise_with_name_and_fix(tmp_path, content):
    path = tmp_path / "broken.jpg"
    path.write_bytes(content)
    with pytest.raises(data.ImageReadError, match=r"broken\.jpg.*Remove"):
        read_rgb(path)


def test_resize_square_crops_centre_then_resizes():
    wide = np.zeros((4, 8, 3), np.uint8)
    wide[:, 2:6] = 255  # the centre square is white, the sides black
    assert (resize_square(wide, 4) == 255).all()
    assert resize_square(wide, 2).shape == (2, 2, 3) and resize_square(wide, 16).shape == (16, 16, 3)
    assert resize_square(np.zeros((5, 3), np.uint8), 6).shape == (6, 6)


# load_side_by_side


@pytest.mark.parametrize("direction", ["AtoB", "BtoA"])
def test_side_by_side_halves_follow_direction(tmp_path, direction):
    inputs, targets, names = data.load_side_by_side(side_by_side_folder(tmp_path), direction, size=S)
    assert names == ["1", "2", "10"]  # natural order
    assert inputs.shape == targets.shape == (3, S, S, 3) and inputs.dtype == np.uint8
    a = np.array([[1, 0, 0], [2, 0, 0], [10, 0, 0]])
    b = np.array([[0, 1, 0], [0, 2, 0], [0, 10, 0]])
    expected_inputs, expected_targets = (a, b) if direction == "AtoB" else (b, a)
    np.testing.assert_array_equal(inputs[:, 0, 0], expected_inputs)
    np.testing.assert_array_equal(targets[:, 0, 0], expected_targets)


def test_side_by_side_resizes_halves_and_reads_grey(tmp_path):
    write(tmp_path / "grey.png", np.full((2 * S, 4 * S), 90, np.uint8))
    inputs, targets, _ = data.load_side_by_side(tmp_path, size=S)
    assert inputs.shape == (1, S, S, 3) and (inputs == 90).all() and (targets == 90).all()


def test_side_by_side_errors_name_the_file(tmp_path):
    side_by_side_folder(tmp_path)
    write(tmp_path / "square.png", solid(0))
    with pytest.raises(ValueError, match=r"square\.png is 8×8.*twice as wide"):
        data.load_side_by_side(tmp_path, size=S)
    (tmp_path / "square.png").unlink()
    (tmp_path / "5.jpg").write_bytes(b"\xff\xd8 truncated")
    with pytest.raises(data.ImageReadError, match=r"5\.jpg"):
        data.load_side_by_side(tmp_path, size=S)


def test_side_by_side_rejects_unknown_direction(tmp_path):
    with pytest.raises(ValueError, match="AtoB"):
        data.load_side_by_side(side_by_side_folder(tmp_path), "AB")


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_missing_or_empty_folder_says_how_to_pass_it(tmp_path, make):
    folder = tmp_path / "facades"
    if make == "empty":
        folder.mkdir()
        (folder / "notes.txt").write_text("no images here")
    with pytest.raises(data.DataNotFoundError) as error:
        data.load_side_by_side(folder)
    message = str(error.value)
    assert str(folder) in message and "--data-dir" in message and data.DATA_ENV_VAR in message


# load_folder_pairs


def test_folder_pairs_match_on_stem(tmp_path):
    write(tmp_path / "in" / "a.png", np.full((2 * S, 2 * S), 30, np.uint8))
    write(tmp_path / "out" / "a.jpg", solid((200, 100, 50), 2 * S))
    write(tmp_path / "in" / "b10.png", solid(1))
    write(tmp_path / "in" / "b9.png", solid(2))
    write(tmp_path / "out" / "b10.png", solid(3))
    write(tmp_path / "out" / "b9.png", solid(4))
    inputs, targets, names = data.load_folder_pairs(tmp_path / "in", tmp_path / "out", size=S)
    assert names == ["a", "b9", "b10"]
    assert inputs.shape == targets.shape == (3, S, S, 3)
    assert (inputs[0] == 30).all() and np.abs(targets[0].astype(int) - [200, 100, 50]).max() < 8
    assert inputs[1, 0, 0, 0] == 2 and targets[2, 0, 0, 0] == 3


def test_unmatched_names_are_listed_on_each_side(tmp_path):
    for i in range(12):
        write(tmp_path / "in" / f"only_in_{i}.png", solid(0))
    write(tmp_path / "in" / "shared.png", solid(0))
    write(tmp_path / "out" / "shared.png", solid(0))
    write(tmp_path / "out" / "only_out.png", solid(0))
    with pytest.raises(ValueError) as error:
        data.load_folder_pairs(tmp_path / "in", tmp_path / "out", size=S)
    message = str(error.value)
    assert "only_in_0.png" in message and "only_in_9.png" in message and "and 2 more" in message
    assert "only_in_11.png" not in message and "only_out.png" in message and "shared" not in message


def test_pair_of_different_sizes_is_rejected(tmp_path):
    write(tmp_path / "in" / "x.png", solid(0, 8))
    write(tmp_path / "out" / "x.png", solid(0, 10))
    with pytest.raises(ValueError, match=r"in/x\.png is 8×8 but its target .*out/x\.png is 10×10"):
        data.load_folder_pairs(tmp_path / "in", tmp_path / "out", size=S)


def test_clashing_names_in_one_folder_are_rejected(tmp_path):
    write(tmp_path / "in" / "x.png", solid(0))
    write(tmp_path / "in" / "x.jpg", solid(0))
    write(tmp_path / "out" / "x.png", solid(0))
    with pytest.raises(ValueError, match=r"x\.jpg vs x\.png|x\.png vs x\.jpg"):
        data.load_folder_pairs(tmp_path / "in", tmp_path / "out", size=S)


# resolve_paired_dir


def test_resolve_accepts_folder_parent_and_environment(tmp_path, monkeypatch):
    side_by_side_folder(tmp_path / "facades" / "train")
    assert data.resolve_paired_dir("facades", tmp_path) == tmp_path / "facades"
    assert data.resolve_paired_dir("facades", tmp_path / "facades") == tmp_path / "facades"
    monkeypatch.setenv(data.DATA_ENV_VAR, str(tmp_path))
    assert data.resolve_paired_dir("facades") == tmp_path / "facades"


def test_resolve_without_data_says_how_to_pass_it(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_ENV_VAR, raising=False)
    with pytest.raises(data.DataNotFoundError, match="--data-dir"):
        data.resolve_paired_dir("facades")
    with pytest.raises(data.DataNotFoundError, match=r"facades not found from --data-dir"):
        data.resolve_paired_dir("facades", tmp_path)


# paired_dataset


def test_paired_dataset_yields_uint8_batches_reshuffled_each_epoch():
    inputs = np.arange(16, dtype=np.uint8)[:, None, None, None] * np.ones((1, 4, 4, 1), np.uint8)
    targets = np.repeat(inputs, 3, axis=-1)
    dataset = data.paired_dataset(inputs, targets, batch_size=4, seed=0)
    epochs = [[(x.numpy(), y.numpy()) for x, y in dataset] for _ in range(2)]
    assert len(epochs[0]) == 4
    x, y = epochs[0][0]
    assert x.dtype == np.uint8 and y.dtype == np.uint8 and x.shape == (4, 4, 4, 1) and y.shape == (4, 4, 4, 3)
    np.testing.assert_array_equal(x[..., 0], y[..., 2])  # pairs stay together
    orders = [np.concatenate([x[:, 0, 0, 0] for x, _ in epoch]) for epoch in epochs]
    assert sorted(orders[0]) == list(range(16)) and not np.array_equal(orders[0], orders[1])


def test_paired_dataset_validates_arrays():
    images = np.zeros((4, 8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="uint8"):
        data.paired_dataset(images.astype(np.float32), images)
    with pytest.raises(ValueError, match="same number"):
        data.paired_dataset(images, images[:3])
    with pytest.raises(ValueError, match="batch_size 5 exceeds the 4 pairs"):
        data.paired_dataset(images, images, batch_size=5)


# The real data, when present


def test_shared_facades_label_map_is_the_btoa_input():
    root = shared_data_dir()
    if root is None or not (root / "facades" / "val").is_dir():
        pytest.skip("facades not found: set TFGAN_ZOO_DATA to the shared data folder")
    folder = data.resolve_paired_dir("facades", root)
    inputs, targets, names = data.load_side_by_side(folder / "val", "BtoA", size=256)
    assert inputs.shape == targets.shape == (100, 256, 256, 3)
    assert names[:3] == ["1", "2", "3"]

    def flat_fraction(images):  # pixels whose right neighbour differs by at most 2 in every channel
        step = np.abs(np.diff(images.astype(np.int16), axis=2)).max(axis=-1)
        return (step <= 2).mean(axis=(1, 2))

    input_flat, target_flat = flat_fraction(inputs), flat_fraction(targets)
    assert (input_flat > target_flat).mean() >= 0.95  # label maps are the flat, few-colour half
    assert input_flat.mean() > target_flat.mean() + 0.15
