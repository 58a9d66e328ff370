"""A browser page for any tfgan_zoo export or preset: ``python -m tfgan_zoo.demo EXPORT_DIR|PRESET``.

Given a preset (a shipped preset's name such as ``cgan_mnist``, a preset
folder, or ``hf://user/name``), it exports the preset into a temporary folder
first, so a new user sees a trained model before training anything.

The page reads only the export (the SavedModel and its ``tfgan_zoo.json``),
never the model code, so it shows whatever :mod:`tfgan_zoo.export` wrote:

* a generator (DCGAN, conditional GAN): pick a class (by name when the export
  records ``class_names``), a seed and a count; *Generate* shows the samples as
  one grid and a latent walk from the seed's first sample to seed + 1's.
* a translator (pix2pix, CycleGAN): upload an image of any size and mode;
  *Translate* shows it as the model sees it beside the model's output. A
  CycleGAN export offers both directions.

It serves on 127.0.0.1, this machine only. ``--host 0.0.0.0`` exposes it to
the network; do that deliberately, the page has no login.

It loads an export only when every file of the version is a regular file
inside ``EXPORT_DIR`` (:mod:`tfgan_zoo.safe_files`): a link leading out of it
is refused, naming the link, as the page would otherwise serve (or leak) a
file from elsewhere.

Needs the demo extra: ``pip install -e '.[demo]'`` (the core package never imports gradio).
"""

from __future__ import annotations

import argparse
import errno
import json
import math
import os
import socket
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf
from PIL import Image

from tfgan_zoo import safe_files
from tfgan_zoo.arguments import port_number
from tfgan_zoo.commands import CommandError, command_main
from tfgan_zoo.export import METADATA_FILE, latest_export
from tfgan_zoo.visualize import make_grid, slerp

if TYPE_CHECKING:
    import gradio


def _gradio():
    """gradio, imported when a page is built: its import takes seconds, which the
    command's checks (the export, --host, --port) come before."""
    try:
        import gradio
    except ImportError as error:
        raise ImportError(
            f"The demo page needs gradio, which the core package does not install ({error}). "
            "Install the demo extra: pip install -e '.[demo]'"
        ) from error
    return gradio


# Images are enlarged (nearest neighbour, so pixels stay sharp) to at least
# this many pixels a side: a 28 px digit is a speck on a modern screen.
TILE_PX = 128
TRANSLATION_PX = 256
GRID_COLUMNS = 8
WALK_FRAMES = 8
MAX_COUNT = 64
DIRECTION_LABELS = {"a_to_b": "A → B", "b_to_a": "B → A"}
# Pillow's modes of more than 8 bits per grey value (16-bit PNGs open as "I;16",
# some readers give "I"); converting them to 8-bit modes clips every value above 255.
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


# ------------------------------------------------------------------ display
def enlarge(image: np.ndarray, tile_size: int, min_size: int) -> np.ndarray:
    """``image`` (uint8 ``[H, W, C]``) scaled up by a whole factor so that a
    ``tile_size`` px tile becomes at least ``min_size`` px; grey loses its
    channel axis, as gradio takes grey pictures as ``[H, W]``."""
    scale = max(1, math.ceil(min_size / tile_size))
    image = image.repeat(scale, axis=0).repeat(scale, axis=1)
    return image[..., 0] if image.shape[-1] == 1 else image


def grid(images: np.ndarray, columns: int = GRID_COLUMNS) -> np.ndarray:
    """uint8 ``[N, H, W, C]`` tiled at most ``columns`` to a row, enlarged for the screen."""
    rows = math.ceil(len(images) / columns)
    return enlarge(make_grid(images, rows=rows), images.shape[1], TILE_PX)


def result_image(caption: str, elem_id: str) -> gradio.Image:
    """An output image under a caption of its own: gradio's floating label
    would cover the top of an image that fills the page's width."""
    gr = _gradio()
    gr.Markdown(f"**{caption}**")
    return gr.Image(
        label=caption,
        show_label=False,
        format="png",  # lossless: the default, webp, is lossy and smears the enlarged pixels
        interactive=False,
        buttons=["download", "fullscreen"],
        elem_id=elem_id,
    )


# --------------------------------------------------------------- generators
def seed_noise(seed: int, count: int, latent_dim: int) -> np.ndarray:
    """The ``count`` noise vectors of ``seed``: a seed shows the same images on
    every visit, and its first vector starts the latent walk."""
    return np.random.default_rng(seed).standard_normal((count, latent_dim)).astype(np.float32)


def draw(
    model, metadata: dict, seed: int, count: int, class_id: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The grid of ``count`` samples of ``seed`` and a latent walk from its
    first sample to the first of ``seed + 1``, as enlarged uint8 pictures.

    ``model`` is the loaded generator export, ``metadata`` its ``tfgan_zoo.json``;
    ``class_id`` is required by a conditional export and ignored otherwise.
    """
    latent_dim = int(metadata["latent_dim"])
    noise = seed_noise(seed, count, latent_dim)
    walk = slerp(noise[0], seed_noise(seed + 1, 1, latent_dim)[0], np.linspace(0.0, 1.0, WALK_FRAMES))
    # One batch for both: the graph runs once instead of twice.
    inputs = {"noise": tf.constant(np.concatenate([noise, walk]))}
    if metadata["num_classes"]:
        inputs["labels"] = tf.fill([count + WALK_FRAMES], tf.constant(class_id, tf.int32))
    images = model.signatures["generate"](**inputs)["images"].numpy()
    return grid(images[:count]), grid(images[count:], columns=WALK_FRAMES)


def generator_page(model, metadata: dict) -> None:
    """Controls and outputs of a noise -> image export, inside the open ``gradio.Blocks``."""
    gr = _gradio()
    num_classes = int(metadata["num_classes"])
    class_names = metadata.get("class_names") or [str(class_id) for class_id in range(num_classes)]

    def show(class_id: int | None, seed: float | None, count: float):
        if seed is None or seed < 0:
            raise gr.Error("The seed must be a whole number, 0 or more.")
        if num_classes and class_id is None:
            raise gr.Error("Pick a class first.")
        if count is None or not 1 <= count <= MAX_COUNT:  # the page's API takes any number
            raise gr.Error(f"The number of images must be 1 to {MAX_COUNT}.")
        return draw(model, metadata, int(seed), int(count), class_id)

    with gr.Row():
        class_choice = gr.Dropdown(
            choices=list(zip(class_names, range(num_classes))),
            value=0 if num_classes else None,
            label="Class",
            visible=num_classes > 0,
            elem_id="class",
        )
        seed = gr.Number(value=0, precision=0, minimum=0, label="Seed", elem_id="seed")
        count = gr.Slider(1, MAX_COUNT, value=GRID_COLUMNS, step=1, label="Images", elem_id="count")
    button = gr.Button("Generate", variant="primary", elem_id="generate")
    samples = result_image("Samples", elem_id="samples")
    walk = result_image(
        f"Latent walk: from the first sample of this seed to the first of seed + 1, in {WALK_FRAMES} steps",
        elem_id="walk",
    )
    button.click(show, inputs=[class_choice, seed, count], outputs=[samples, walk])


# -------------------------------------------------------------- translators
def model_input(image: Image.Image, size: int, channels: int) -> np.ndarray:
    """An uploaded picture as the translator's uint8 ``[size, size, channels]`` input.

    Any mode is accepted: palette, grey and 16-bit pictures go through RGBA,
    and transparent parts become white, the paper a sketch or line drawing
    was drawn on. 16-bit grey is scaled to 8 bits (65535 to 255), not clipped.
    The picture is resized, not cropped, so nothing of it is lost.
    """
    if image.mode in SIXTEEN_BIT_MODES:
        levels = np.clip(np.asarray(image, np.float64), 0, 65535)
        image = Image.fromarray(np.round(levels / 257).astype(np.uint8))  # 2-D uint8: mode "L"
    rgba = image.convert("RGBA")
    flat = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    flat = flat.convert("L" if channels == 1 else "RGB").resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(flat, np.uint8).reshape(size, size, channels)


def translate(model, metadata: dict, image: Image.Image, direction: str) -> tuple[np.ndarray, np.ndarray]:
    """``image`` as signature ``direction`` of the loaded translator export
    ``model`` sees it, and its output, both enlarged for the screen."""
    size = int(metadata["image_size"])
    pixels = model_input(image, size, metadata["channels"][direction]["input"])
    output = model.signatures[direction](image=tf.constant(pixels[None]))["image"].numpy()[0]
    return enlarge(pixels, size, TRANSLATION_PX), enlarge(output, size, TRANSLATION_PX)


def translator_page(model, metadata: dict) -> None:
    """Upload, direction and outputs of an image -> image export, inside the open ``gradio.Blocks``."""
    gr = _gradio()
    size = int(metadata["image_size"])
    directions = list(metadata["signatures"])
    for name, channels in metadata["channels"].items():
        if channels["input"] not in (1, 3):
            raise ValueError(
                f"Signature {name!r} takes {channels['input']}-channel images; the demo page "
                "uploads grey (1) or RGB (3) pictures only."
            )

    def show(image: Image.Image | None, direction: str):
        if image is None:
            raise gr.Error("Upload an image first (any size: it is resized to the model's).")
        return translate(model, metadata, image, direction)

    with gr.Row():
        upload = gr.Image(
            type="pil",
            image_mode=None,  # kept as uploaded: model_input converts it its own way
            sources=["upload", "clipboard"],
            label="Your image (any size)",
            height=TRANSLATION_PX,  # else the box shrinks to a small upload's own height
            elem_id="upload",
        )
        with gr.Column():
            direction = gr.Radio(
                choices=[(DIRECTION_LABELS.get(name, name), name) for name in directions],
                value=directions[0],
                label="Direction",
                visible=len(directions) > 1,
                elem_id="direction",
            )
            button = gr.Button("Translate", variant="primary", elem_id="translate")
    with gr.Row():
        with gr.Column():
            seen = result_image(f"Input as the model sees it ({size}×{size})", elem_id="model_input")
        with gr.Column():
            output = result_image("Output", elem_id="output")
    button.click(show, inputs=[upload, direction], outputs=[seen, output])


# --------------------------------------------------------------------- page
def checked_export(export_dir: str | os.PathLike) -> tuple[Path, dict]:
    """The newest version under ``export_dir`` (or that SavedModel folder
    itself) and its ``tfgan_zoo.json``, once every file of the version is
    found to be a regular file inside ``export_dir``.

    Raises:
        FileNotFoundError: no export there, or one without ``tfgan_zoo.json``.
        safe_files.UnsafeFileError: naming a file that is anything else (a link leading out).
        ValueError: ``tfgan_zoo.json`` is not JSON.
    """
    root = Path(export_dir).expanduser()
    version = latest_export(root)
    safe_files.check_folder(version, root)
    metadata_path = version / METADATA_FILE
    try:
        text = safe_files.read_file(metadata_path, root).decode("utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{version} is a SavedModel but not a tfgan_zoo export (no {METADATA_FILE}): export it with "
            "tfgan_zoo.export.save."
        ) from None
    try:
        return version, json.loads(text)
    except ValueError as error:
        raise ValueError(f"{metadata_path} is not valid JSON ({error}): export the model again.") from None


def build_demo(export_dir: str | os.PathLike) -> gradio.Blocks:
    """The page for the newest version under ``export_dir`` (or that SavedModel folder itself)."""
    gr = _gradio()
    version, metadata = checked_export(export_dir)
    model = tf.saved_model.load(str(version))
    family = metadata.get("family", "model")
    if "latent_dim" in metadata:
        page = generator_page
        shape = "×".join(map(str, metadata["image_shape"]))
        summary = f"{shape} images from {metadata['latent_dim']}-d noise"
        if metadata["num_classes"]:
            summary += f", {metadata['num_classes']} classes"
    elif "channels" in metadata:
        page = translator_page
        summary = f"{metadata['image_size']}×{metadata['image_size']} image to image"
    else:
        raise ValueError(
            f"{version / 'tfgan_zoo.json'} describes neither a generator (no latent_dim) nor a "
            "translator (no channels). Export with tfgan_zoo.export.save_generator, "
            "save_translator or save_cycle_translators."
        )
    # Analytics off: a page on your own machine has no reason to call out
    # (gradio's telemetry and version check).
    with gr.Blocks(title=f"tfgan_zoo · {family}", analytics_enabled=False) as demo:
        gr.Markdown(f"# {family}\n{summary} · export `{version}`")
        page(model, metadata)
    return demo


def check_address(host: str, port: int | None) -> None:
    """Fails at once, naming ``--host`` or ``--port``, when ``host`` is no address
    of this machine or another server listens on ``port``: before minutes of
    loading, and in this command's terms (gradio's errors name its Python arguments)."""
    try:
        family, kind, _, _, address = socket.getaddrinfo(host, port or 0, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as error:
        raise CommandError(
            f"--host {host}: {error.strerror}. Pass an address of this machine (127.0.0.1, or 0.0.0.0 for all)."
        ) from None
    if port is None:  # gradio takes the first free port from 7860
        return
    with socket.socket(family, kind) as probe:
        # As the server binds: a port of a closed connection (TIME_WAIT) is free to it.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise CommandError(
                    f"Port {port} on {host} is in use (another demo or server): pass another --port, "
                    "or leave --port out to take the first free port from 7860."
                ) from None
            raise CommandError(
                f"Cannot listen on --host {host} --port {port}: {error.strerror}. Pass an address of this "
                "machine, and a port above 1023 unless you run as root."
            ) from None


@command_main
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tfgan_zoo.demo",
        description="Serve a browser page that runs a tfgan_zoo export (generator or translator).",
    )
    parser.add_argument(
        "export_dir", help="an export base path (its newest version is shown), one SavedModel folder, or a "
        "preset: a shipped preset's name (python -m tfgan_zoo.presets list), a preset folder or hf://USER/NAME"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 exposes the "
        "page, which has no login, to your network)",
    )
    parser.add_argument(
        "--port", type=port_number, default=None, help="port (default: the first free one from 7860)"
    )
    args = parser.parse_args(argv)
    check_address(args.host, args.port)
    with tempfile.TemporaryDirectory(prefix="tfgan_zoo_demo_") as scratch:
        source = args.export_dir
        if is_preset(source):
            source = export_preset(source, Path(scratch) / "export")
        demo = build_demo(source)
        demo.launch(server_name=args.host, server_port=args.port, show_error=True)


def is_preset(source: str) -> bool:
    """Whether ``source`` names a preset rather than an export folder."""
    from tfgan_zoo import presets

    return (source.startswith(presets.HUB_PREFIX) or source in presets.registry()
            or (Path(source) / presets.RECORD_FILE).is_file())


def export_preset(source: str, base: Path) -> Path:
    """Exports the preset ``source`` under ``base``, as ``python -m tfgan_zoo.presets export`` would."""
    from tfgan_zoo import export, presets

    try:
        model = presets.from_preset(source)
    except presets.PresetError as error:
        raise CommandError(str(error)) from None
    return export.save(model, base, class_names=model.preset.record.get("class_names"))


if __name__ == "__main__":
    main()
