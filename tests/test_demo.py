"""The demo page in a real browser: ``python -m tfgan_zoo.demo EXPORT|PRESET`` in a
subprocess, driven by Playwright (Chromium), its images read back and checked.
The generator page serves the shipped preset ``cgan_mnist`` by name, as the
README's quick start does; the translator page an export of a tiny CycleGAN.

Set TFGAN_ZOO_DEMO_SCREENSHOTS to a folder to keep a screenshot of each page.
Below the browser tests: the page's handlers without a browser, and how the
command ends (in this process; it never listens on more than 127.0.0.1).
Its refusal of files linked from outside the export: test_safe_reading.py.
"""

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest
import tensorflow as tf
from command_exits import assert_one_line_failure, exit_of, interrupt, permission_denied
from conftest import write_image
from families import FAMILIES

import tfgan_zoo

# Looked up, not imported: gradio's import takes seconds in every test process that
# collects this file, and only the page's tests need it (the demo imports it then).
pytestmark = pytest.mark.skipif(importlib.util.find_spec("gradio") is None,
                                reason="the demo extra is not installed: pip install -e '.[demo]'")
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="the demo extra is not installed: pip install -e '.[demo]'"
)
from PIL import Image  # noqa: E402

from tfgan_zoo import commands, demo  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
SERVER_START_S = 120  # gradio's import and the export's load take seconds on 2 busy cores
ACTION_TIMEOUT_MS = 30_000
PRESET = "cgan_mnist"
CLASS_NAMES = [str(digit) for digit in range(10)]  # the preset's classes


# ------------------------------------------------------------------ servers
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(fork_server, export_dir: Path | str, workdir: Path) -> tuple[subprocess.Popen, str, Path]:
    """``python -m tfgan_zoo.demo EXPORT`` on a free port, as a process of its own
    (tests/forkserver.py: its imports but gradio's are done)."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "server.log"
    env = {
        **os.environ,
        # No telemetry or version check: CI may be offline (the page turns them off too).
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_TEMP_DIR": str(workdir / "gradio"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        # gradio checks its own URL at start-up; a proxy from the environment must not take that call.
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    with open(log, "wb") as out:
        process = fork_server.popen(
            [sys.executable, "-m", "tfgan_zoo.demo", str(export_dir), "--port", str(port)],
            cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    return process, f"http://127.0.0.1:{port}/", log


def wait_until_up(process: subprocess.Popen, url: str, log: Path) -> None:
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the demo server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with direct.open(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the demo server did not answer {url} within {SERVER_START_S} s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def vivid(*networks, gain: float = 10.0) -> None:
    """Scales up the kernels of untrained ``networks``: fresh from initialisation
    they draw near-uniform grey whatever their input, and a test of a class or a
    seed on the page needs inputs that show."""
    for network in networks:
        for weight in network.weights:
            if weight.path.endswith("kernel"):
                weight.assign(weight * gain)


def preset_export(root: Path) -> tuple[str, Path]:
    """What the page is started with (the preset's name) and the export the test
    compares it with: the preset exported here, as the page exports it."""
    gan = tfgan_zoo.from_preset(PRESET)
    assert gan.preset.record["class_names"] == CLASS_NAMES
    return PRESET, tfgan_zoo.export.save(gan, root / "cgan", class_names=CLASS_NAMES)


def translator_export(root: Path) -> tuple[Path, Path]:
    export_dir = cyclegan_export(root)
    return export_dir, export_dir


def cyclegan_export(root: Path) -> Path:
    gan = FAMILIES["cyclegan"].build()
    vivid(*gan.translators.values())
    return tfgan_zoo.export.save(gan, root / "cyclegan")


@pytest.fixture(scope="module")
def servers(tmp_path_factory, fork_server):
    """``{name: (url, export_dir)}``, one server per export. Each starts as soon
    as its export is written: its start (mostly importing gradio, on one core)
    overlaps the next export and the other start."""
    root = tmp_path_factory.mktemp("demo")
    with contextlib.ExitStack() as stack:
        started = {}
        for name, export in {"generator": preset_export, "translator": translator_export}.items():
            served, export_dir = export(root)
            process, url, log = start_server(fork_server, served, root / f"server_{name}")
            stack.callback(stop, process)
            started[name] = (process, url, log, export_dir)
        for process, url, log, _ in started.values():
            wait_until_up(process, url, log)
        yield {name: (url, export_dir) for name, (_, url, _, export_dir) in started.items()}


# ------------------------------------------------------------------ browser
@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.skip("no chromium binary: apt-get install chromium")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        yield page
    finally:
        context.close()


def shown_image(page, elem_id: str, replacing: str = "") -> tuple[np.ndarray, str]:
    """The picture in output ``#elem_id`` (RGB or grey uint8) and its URL, once
    it is one other than ``replacing``: a new result is a new file."""
    selector = f"#{elem_id} img"
    page.wait_for_function(
        "([selector, old]) => { const img = document.querySelector(selector);"
        " return img !== null && img.complete && img.src !== '' && img.src !== old; }",
        arg=[selector, replacing],
        timeout=ACTION_TIMEOUT_MS,
    )
    src = page.locator(selector).evaluate("img => img.src")
    response = page.request.get(src)
    assert response.ok, f"{src}: HTTP {response.status}"
    image = cv2.imdecode(np.frombuffer(response.body(), np.uint8), cv2.IMREAD_UNCHANGED)
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return image, src


def keep_screenshot(page, name: str) -> None:
    folder = os.environ.get("TFGAN_ZOO_DEMO_SCREENSHOTS")
    if folder:
        # New images fade in: a screenshot taken at once shows them washed out.
        page.evaluate("Promise.all(document.getAnimations().map(animation => animation.finished))")
        page.screenshot(path=str(Path(folder) / name), full_page=True)


# -------------------------------------------------------------------- tests
def expected_samples(model, latent_dim: int, seed: int, count: int, class_id: int) -> np.ndarray:
    """What the page should show: the export's images of the seed's noise, tiled as the page tiles."""
    noise = np.random.default_rng(seed).standard_normal((count, latent_dim)).astype(np.float32)
    labels = tf.fill([count], tf.constant(class_id, tf.int32))
    images = model.signatures["generate"](noise=tf.constant(noise), labels=labels)["images"].numpy()
    return demo.grid(images)


def test_generator_page(page, servers):
    url, export_dir = servers["generator"]
    page.goto(url)
    page.get_by_role("combobox", name="Class").click()
    page.get_by_role("option", name="7", exact=True).click()
    page.get_by_label("Seed").fill("3")
    page.locator("#count input[type=number]").fill("4")
    page.get_by_role("button", name="Generate").click()
    samples, samples_src = shown_image(page, "samples")
    walk, _ = shown_image(page, "walk")
    keep_screenshot(page, "demo_generator.png")

    model = tf.saved_model.load(str(export_dir))
    metadata = tfgan_zoo.export.read_metadata(export_dir)
    latent_dim, image_shape = metadata["latent_dim"], metadata["image_shape"]
    seven = expected_samples(model, latent_dim, seed=3, count=4, class_id=CLASS_NAMES.index("7"))
    zero = expected_samples(model, latent_dim, seed=3, count=4, class_id=0)
    assert samples.shape == seven.shape  # 4 enlarged tiles in one row, grey
    assert min(samples.shape) >= demo.TILE_PX
    # The page batches the walk with the samples; a batch of another size
    # may round a pixel the other way.
    assert np.abs(samples.astype(int) - seven).max() <= 1
    assert np.abs(zero.astype(int) - seven).max() > 1, "the classes draw alike: the check above proves nothing"
    assert walk.shape == demo.grid(np.zeros((demo.WALK_FRAMES, *image_shape), np.uint8), demo.WALK_FRAMES).shape
    first_frame = slice(0, walk.shape[1] // demo.WALK_FRAMES)
    assert np.array_equal(walk[:, first_frame], samples[:, first_frame]), "the walk starts elsewhere"

    page.get_by_label("Seed").fill("4")
    page.get_by_role("button", name="Generate").click()
    other, _ = shown_image(page, "samples", replacing=samples_src)
    assert other.shape == samples.shape
    assert not np.array_equal(other, samples), "seeds 3 and 4 show the same images"


def test_translator_page(page, servers, tmp_path):
    # Not the model's size, not square, not RGB: the page must convert it.
    upload = np.zeros((40, 50, 4), np.uint8)
    upload[..., 0], upload[..., 3] = 200, 255
    upload[:, :25, 3] = 0  # the left half transparent
    path = write_image(tmp_path / "upload.png", upload)

    page.goto(servers["translator"][0])
    page.locator("#upload input[type=file]").set_input_files(str(path))
    page.locator("#upload img").wait_for()  # the upload reached the server
    page.get_by_role("button", name="Translate").click()
    seen, _ = shown_image(page, "model_input")
    a_to_b, a_to_b_src = shown_image(page, "output")
    keep_screenshot(page, "demo_translator.png")

    size = demo.TRANSLATION_PX
    assert seen.shape == a_to_b.shape == (size, size, 3)
    assert (seen[:, : size // 4] == 255).all(), "the transparent half should turn white"
    assert (seen[:, -size // 4 :] == [200, 0, 0]).all()

    page.get_by_label("B → A").check()
    page.get_by_role("button", name="Translate").click()
    b_to_a, _ = shown_image(page, "output", replacing=a_to_b_src)
    assert b_to_a.shape == (size, size, 3)
    assert not np.array_equal(a_to_b, b_to_a), "both directions show the same image"


@pytest.mark.parametrize("name", FAMILIES)
def test_every_family_through_its_pages_handlers_without_a_browser(family_exports, name):
    """The functions a family's page calls, without a server (the browser tests
    above cover one page of each kind)."""
    export_dir = family_exports[name][1]
    assert isinstance(demo.build_demo(export_dir), importlib.import_module("gradio").Blocks)
    model, metadata = tf.saved_model.load(str(export_dir)), tfgan_zoo.export.read_metadata(export_dir)
    if "image_size" in metadata:  # a translator: every direction
        grey = Image.new("L", (30, 20), 100)
        for direction in metadata["signatures"]:
            seen, output = demo.translate(model, metadata, grey, direction)
            channels, pixels = metadata["channels"][direction], demo.TRANSLATION_PX ** 2
            assert seen.shape[:2] == output.shape[:2] == (demo.TRANSLATION_PX, demo.TRANSLATION_PX)
            assert (seen.size // pixels, output.size // pixels) == (channels["input"], channels["output"])
            assert (seen == 100).all(), "the grey upload should reach the model unchanged"
        return
    class_id = metadata["num_classes"] - 1 if metadata["num_classes"] else None  # the page's choice
    samples, walk = demo.draw(model, metadata, seed=5, count=10, class_id=class_id)
    tiles = np.zeros((10, *metadata["image_shape"]), np.uint8)
    # 10 images: 2 rows of 8 tiles enlarged to at least TILE_PX; the walk: one row of WALK_FRAMES.
    assert samples.shape == demo.grid(tiles).shape and min(samples.shape[:2]) >= demo.TILE_PX
    assert walk.shape == demo.grid(tiles[: demo.WALK_FRAMES], demo.WALK_FRAMES).shape
    assert samples.any() and not np.array_equal(samples, demo.draw(model, metadata, seed=6, count=10, class_id=class_id)[0])


@pytest.mark.parametrize(
    "picture, channels, expected",
    [
        (Image.new("L", (30, 20), 100), 3, [100, 100, 100]),
        (Image.new("LA", (30, 20), (100, 0)), 3, [255, 255, 255]),  # transparent: white paper
        (Image.new("RGBA", (50, 40), (200, 0, 0, 255)), 3, [200, 0, 0]),
        (Image.new("RGB", (64, 64), (200, 0, 0)), 1, [60]),  # ITU-R 601 luma of that red
    ],
    ids=["grey", "grey-alpha", "rgba", "rgb-to-grey"],
)
def test_model_input_takes_any_mode_and_size(picture, channels, expected):
    pixels = demo.model_input(picture, size=32, channels=channels)
    assert pixels.shape == (32, 32, channels) and pixels.dtype == np.uint8
    assert (pixels == expected).all()


def test_model_input_whitens_a_palette_transparency():
    picture = Image.new("P", (40, 40), 0)
    picture.putpalette([0, 0, 0, 0, 128, 255])
    picture.paste(1, (20, 0, 40, 40))
    picture.info["transparency"] = 0
    pixels = demo.model_input(picture, size=32, channels=3)
    assert (pixels[:, :12] == 255).all()
    assert (pixels[:, -12:] == [0, 128, 255]).all()


def test_model_input_scales_16_bit_grey_instead_of_clipping_it(tmp_path):
    levels = np.arange(256, dtype=np.uint16).reshape(16, 16)
    path = tmp_path / "grey16.png"
    assert cv2.imwrite(str(path), levels * 257)  # a 16-bit grey PNG: 0 to 65535
    picture = Image.open(path)
    assert picture.mode.startswith("I"), picture.mode  # what Pillow makes of it: 32 or 16-bit integers
    assert np.array_equal(demo.model_input(picture, size=16, channels=1)[..., 0], levels)
    assert np.array_equal(demo.model_input(picture, size=16, channels=3), np.repeat(levels[..., None], 3, axis=-1))


# ------------------------------------------------------------ how it ends
def test_cli_ends_a_missing_export_in_one_line(tmp_path):
    assert_one_line_failure(demo.main, [tmp_path / "missing"], f"No export at {tmp_path / 'missing'}")


def test_cli_ends_a_folder_where_the_description_file_is_expected_in_one_line(tmp_path, caplog):
    version = tmp_path / "export" / "1"
    (version / "tfgan_zoo.json").mkdir(parents=True)
    (version / "saved_model.pb").write_bytes(b"")
    # A version with a folder for its description is damaged: skipped with a warning naming it, and
    # with no other version the command ends in one line saying so.
    assert_one_line_failure(demo.main, [tmp_path / "export"], f"No whole export at {tmp_path / 'export'}")
    assert str(version) in caplog.text


def test_cli_ends_a_permission_error_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "latest_export", permission_denied(tmp_path / "export"))
    assert_one_line_failure(demo.main, [tmp_path / "export"], f"{tmp_path / 'export'}: permission denied")


def test_ctrl_c_while_loading_ends_with_its_message(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "build_demo", interrupt)
    assert exit_of(demo.main, [tmp_path / "export"]) == (1, commands.INTERRUPTED)


def test_a_port_in_use_is_named_before_the_export_loads(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        # The export does not exist: the port is checked first, before minutes of loading.
        assert_one_line_failure(demo.main, [tmp_path / "missing", "--port", port],
                                f"Port {port} on 127.0.0.1 is in use", "another --port")
