"""Result galleries: triptych sheets and HTML pages, worst example first."""

import cv2
import numpy as np
import pytest

from tfgan_zoo.gallery import per_image_scores, triptych_sheet, write_cycle_gallery, write_gallery
from tfgan_zoo.visualize import save_image


def images(values):
    return np.stack([np.full((8, 8, 3), value, np.uint8) for value in values])


def test_triptych_sheet_puts_one_example_per_row():
    sheet = triptych_sheet(images([0, 50]), images([100, 150]), images([200, 250]))
    rows = np.split(sheet[..., 0], 2, axis=0)
    assert len(rows) == 2
    # Left to right: input, output, target.
    assert rows[1][4, 4] == 50 and 150 in rows[1][4] and rows[1][4, -4] == 250


def test_scores_are_l1_on_the_training_scale_and_psnr():
    scores = per_image_scores(images([255, 0]), images([0, 0]))
    np.testing.assert_allclose(scores["l1"], [2.0, 0.0])
    assert scores["psnr"][0] == pytest.approx(0.0) and scores["psnr"][1] > 90


def test_gallery_lists_the_worst_example_first(tmp_path):
    page = write_gallery(tmp_path, images([0, 0, 0]), images([10, 200, 0]), images([0, 0, 0]), ["ok", "bad", "exact"])
    text = page.read_text()
    assert text.index("bad") < text.index("ok") < text.index("exact")
    assert (tmp_path / "images" / "bad.png").exists()
    with pytest.raises(ValueError, match="names"):
        write_gallery(tmp_path, images([0]), images([0]), images([0]), ["a", "b"])


def test_cycle_gallery_orders_each_direction_by_cycle_error(tmp_path):
    reals = images([100, 100])
    page = write_cycle_gallery(
        tmp_path,
        {"A → B → A": (reals, images([0, 0]), images([100, 180]), ["good_a", "poor_a"]),
         "B → A → B": (reals, images([0, 0]), images([90, 100]), ["poor_b", "good_b"])},
        summary={"cycle_l1_a": 0.3},
    ).read_text()
    assert page.index("poor_a") < page.index("good_a") < page.index("B → A → B") < page.index("poor_b")
    assert page.index("poor_b") < page.index("good_b") and "cycle_l1_a" in page
    assert (tmp_path / "images_0" / "poor_a.png").exists() and (tmp_path / "images_1" / "good_b.png").exists()


@pytest.mark.parametrize("shape", [(5, 3), (5, 4), (5, 3, 1), (5, 3, 3), (5, 3, 4)])
def test_save_image_writes_grey_and_colour_as_given(tmp_path, shape):
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    written = cv2.imread(str(save_image(tmp_path / "image.png", image)), cv2.IMREAD_UNCHANGED)
    if len(shape) == 3 and shape[-1] > 1:  # OpenCV reads colour as BGR(A)
        written = written[..., [2, 1, 0, 3][: shape[-1]]]
    np.testing.assert_array_equal(written.reshape(shape), image)
