"""Reference pix2pix: the TensorFlow tutorial's model and training loop, as published.

Baseline for ``tfgan_zoo``'s Pix2Pix (speed and label-map -> photo quality on
CMP Facades val). Re-implemented from the description of the TensorFlow
tutorial "pix2pix: Image-to-image translation with a conditional GAN"
(tensorflow.org/tutorials/generative/pix2pix), keeping its choices even where
they differ from the paper, so that the comparison is against the tutorial:

Data (all in a ``tf.data`` map on the CPU, as the tutorial does it)
    Each JPEG is 512x256: left half = photo (target), right half = label map
    (input); the tutorial's ``load`` takes the right half as ``input_image``.
    Cast to float32. Train: resize both halves to 286x286 (nearest
    neighbour), stack them and random-crop 256x256 together, mirror both with
    probability 1/2, scale to [-1, 1]; ``list_files`` (reshuffled each epoch)
    -> ``map(AUTOTUNE)`` -> ``shuffle(400)`` -> ``batch(1)``, no prefetch.
    Val: resize to 256x256 (nearest; a no-op here), scale, in file order.

Networks
    ``downsample`` = Conv2D(k4, s2, same, no bias, N(0, 0.02)) [-> BN] -> LeakyReLU
    (Keras' default slope, 0.3, as the tutorial leaves it; the paper uses 0.2).
    ``upsample`` = Conv2DTranspose(k4, s2, same, no bias, N(0, 0.02)) -> BN
    [-> Dropout 0.5] -> ReLU.
    Generator: U-Net, encoder 64 (no BN), 128, 256, 512 x5; decoder 512 x3
    (dropout), 512, 256, 128, 64, each concatenated with the mirror encoder
    output; last Conv2DTranspose(3, k4, s2, tanh) (with bias).
    Discriminator (70x70 PatchGAN): concat(input, target) -> down 64 (no BN),
    128, 256 -> ZeroPad -> Conv2D 512 k4 s1 no bias -> BN -> LeakyReLU ->
    ZeroPad -> Conv2D 1 k4 s1 (logits, [B, 30, 30, 1]).

Losses and optimisers
    BCE from logits. G: gan loss + 100 * mean |target - G(x)|. D: real + fake
    loss, *not* halved (the tutorial's choice). Adam(2e-4, beta_1=0.5) each.

Training
    ``train_step(input_image, target, step)`` is a ``tf.function`` with two
    GradientTapes around one forward pass (G called with ``training=True``,
    D called twice), then both updates from that same pass (G first). The
    tutorial's per-step TensorBoard scalars are optional (``log_dir``) and
    off by default; its image display and checkpoints are left out (they are
    outside the timed work the comparison is about).

Evaluation
    The tutorial's ``generate_images`` calls the generator with
    ``training=True`` on purpose ("you want the batch statistics"), so here
    too: BatchNorm normalises with the statistics of the (batch-1) test image
    and dropout stays on, which is also what the pix2pix paper does at test
    time. The outputs are therefore stochastic; ``evaluate`` restores the
    generator's non-trainable state (BN moving statistics, which
    ``training=True`` updates, and the dropout layers' seed state) afterwards,
    so evaluating does not change the model and re-evaluating the same model
    draws the same dropout masks.
    Scores come from ``tfgan_zoo.metrics`` (the same code that scores our
    Pix2Pix): ``l1`` = mean |fake - target| on the [-1, 1] scale (the
    project's and the pix2pix loss's convention; ``l1_01`` is the same on the
    [0, 1] scale, i.e. half of it), ``psnr`` = mean per-image
    ``tf.image.psnr`` on [0, 1] with max_val 1, ``ssim`` = mean per-image
    ``tf.image.ssim`` on [0, 1] (max_val 1, 11x11 Gaussian window, sigma 1.5).

CLI::

    python studies/pix2pix_vs_tutorial/pix2pix_reference.py --data-dir ../shared/data --steps 400 [--seed 0]

prints ``reference img_s=... l1=... psnr=... ssim=...`` and writes
``results/pix2pix_reference.json`` beside this script. ``--data-dir`` takes
the shared data root (holding ``facades/``) or the facades folder itself;
without it, ``$TFGAN_ZOO_DATA`` is used.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
if str(REPO) not in sys.path:  # `python studies/pix2pix_vs_tutorial/pix2pix_reference.py` from a plain checkout
    sys.path.insert(0, str(REPO))

from tfgan_zoo import metrics  # noqa: E402

DATA_ENV_VAR = "TFGAN_ZOO_DATA"
DATASET_FOLDER = "facades"
RESULTS_PATH = HERE / "results" / "pix2pix_reference.json"

# The tutorial's constants.
BUFFER_SIZE = 400
BATCH_SIZE = 1
IMG_WIDTH = 256
IMG_HEIGHT = 256
JITTER_SIZE = 286
OUTPUT_CHANNELS = 3
LAMBDA = 100
LEARNING_RATE = 2e-4
BETA_1 = 0.5


# ---------------------------------------------------------------- data
def resolve_data_dir(data_dir: str | os.PathLike | None = None, split: str | None = None) -> Path:
    """The facades folder (holding ``train/`` and ``val/``) from the shared data
    root, the facades folder itself, or ``$TFGAN_ZOO_DATA`` when ``data_dir`` is None."""
    source = data_dir if data_dir is not None else os.environ.get(DATA_ENV_VAR)
    how = (
        f"Pass --data-dir (the shared data root holding {DATASET_FOLDER}/, or the {DATASET_FOLDER} "
        f"folder itself) or set ${DATA_ENV_VAR}."
    )
    if not source:
        raise FileNotFoundError(f"No facades data folder given. {how}")
    root = Path(source).expanduser()
    wanted = [split] if split else ["train", "val"]
    for candidate in (root / DATASET_FOLDER, root):
        if any(any((candidate / name).glob("*.jpg")) for name in wanted if (candidate / name).is_dir()):
            return candidate
    expected = " or ".join(str(root / DATASET_FOLDER / name) for name in wanted)
    raise FileNotFoundError(
        f"Facades JPEGs not found: expected {expected}/*.jpg (512x256, left = photo, "
        f"right = label map), or the same under {root}. {how}"
    )


def load(image_file):
    """One 512x256 JPEG -> (input_image = right half, real_image = left half), float32 in [0, 255]."""
    image = tf.io.decode_jpeg(tf.io.read_file(image_file), channels=3)
    half = tf.shape(image)[1] // 2
    input_image = tf.cast(image[:, half:, :], tf.float32)
    real_image = tf.cast(image[:, :half, :], tf.float32)
    return input_image, real_image


def resize(input_image, real_image, height, width):
    method = tf.image.ResizeMethod.NEAREST_NEIGHBOR
    return (
        tf.image.resize(input_image, [height, width], method=method),
        tf.image.resize(real_image, [height, width], method=method),
    )


def random_crop(input_image, real_image):
    """The same 256x256 window from both images."""
    stacked = tf.stack([input_image, real_image], axis=0)
    cropped = tf.image.random_crop(stacked, size=[2, IMG_HEIGHT, IMG_WIDTH, 3])
    return cropped[0], cropped[1]


def normalize(input_image, real_image):
    return input_image / 127.5 - 1.0, real_image / 127.5 - 1.0


def random_jitter(input_image, real_image):
    input_image, real_image = resize(input_image, real_image, JITTER_SIZE, JITTER_SIZE)
    input_image, real_image = random_crop(input_image, real_image)
    mirror = tf.random.uniform(()) > 0.5
    input_image = tf.cond(mirror, lambda: tf.image.flip_left_right(input_image), lambda: input_image)
    real_image = tf.cond(mirror, lambda: tf.image.flip_left_right(real_image), lambda: real_image)
    return input_image, real_image


def load_image_train(image_file):
    input_image, real_image = load(image_file)
    input_image, real_image = random_jitter(input_image, real_image)
    return normalize(input_image, real_image)


def load_image_test(image_file):
    input_image, real_image = load(image_file)
    input_image, real_image = resize(input_image, real_image, IMG_HEIGHT, IMG_WIDTH)
    return normalize(input_image, real_image)


def load_split(data_dir=None, split: str = "train", batch_size: int = BATCH_SIZE,
               seed: int | None = None) -> tf.data.Dataset:
    """Batches of ``(input_image, target)``, float32 [B, 256, 256, 3] in [-1, 1].

    ``train``: the tutorial's jittered, shuffled pipeline (batch 1 by default,
    as published). ``val`` (or ``test``): deterministic, in file order.
    """
    folder = resolve_data_dir(data_dir, split) / split
    pattern = str(folder / "*.jpg")
    if split == "train":
        files = tf.data.Dataset.list_files(pattern, shuffle=True, seed=seed)
        dataset = files.map(load_image_train, num_parallel_calls=tf.data.AUTOTUNE)
        dataset = dataset.shuffle(BUFFER_SIZE, seed=seed)
    else:
        files = tf.data.Dataset.list_files(pattern, shuffle=False)
        dataset = files.map(load_image_test, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size)


# ------------------------------------------------------------ networks
def _init():
    return keras.initializers.RandomNormal(0.0, 0.02)


def downsample(filters: int, size: int, apply_batchnorm: bool = True) -> keras.Sequential:
    block = keras.Sequential()
    block.add(keras.layers.Conv2D(filters, size, strides=2, padding="same",
                                  kernel_initializer=_init(), use_bias=False))
    if apply_batchnorm:
        block.add(keras.layers.BatchNormalization())
    block.add(keras.layers.LeakyReLU())
    return block


def upsample(filters: int, size: int, apply_dropout: bool = False) -> keras.Sequential:
    block = keras.Sequential()
    block.add(keras.layers.Conv2DTranspose(filters, size, strides=2, padding="same",
                                           kernel_initializer=_init(), use_bias=False))
    block.add(keras.layers.BatchNormalization())
    if apply_dropout:
        block.add(keras.layers.Dropout(0.5))
    block.add(keras.layers.ReLU())
    return block


def build_generator() -> keras.Model:
    """The tutorial's U-Net: [B, 256, 256, 3] in [-1, 1] -> [B, 256, 256, 3] (tanh)."""
    inputs = keras.layers.Input(shape=[IMG_HEIGHT, IMG_WIDTH, 3])
    down_stack = [downsample(64, 4, apply_batchnorm=False)]
    down_stack += [downsample(filters, 4) for filters in (128, 256, 512, 512, 512, 512, 512)]
    up_stack = [upsample(512, 4, apply_dropout=True) for _ in range(3)]
    up_stack += [upsample(filters, 4) for filters in (512, 256, 128, 64)]
    last = keras.layers.Conv2DTranspose(OUTPUT_CHANNELS, 4, strides=2, padding="same",
                                        kernel_initializer=_init(), activation="tanh")

    x, skips = inputs, []
    for down in down_stack:
        x = down(x)
        skips.append(x)
    # The bottleneck (1x1) has no skip; the others join the decoder deepest first.
    for up, skip in zip(up_stack, reversed(skips[:-1])):
        x = up(x)
        x = keras.layers.Concatenate()([x, skip])
    return keras.Model(inputs=inputs, outputs=last(x), name="generator")


def build_discriminator() -> keras.Model:
    """The tutorial's 70x70 PatchGAN: [input, target] -> logits [B, 30, 30, 1]."""
    input_image = keras.layers.Input(shape=[IMG_HEIGHT, IMG_WIDTH, 3], name="input_image")
    target_image = keras.layers.Input(shape=[IMG_HEIGHT, IMG_WIDTH, 3], name="target_image")
    x = keras.layers.Concatenate()([input_image, target_image])  # 256x256x6
    x = downsample(64, 4, apply_batchnorm=False)(x)  # 128
    x = downsample(128, 4)(x)  # 64
    x = downsample(256, 4)(x)  # 32
    x = keras.layers.ZeroPadding2D()(x)  # 34
    x = keras.layers.Conv2D(512, 4, strides=1, kernel_initializer=_init(), use_bias=False)(x)  # 31
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.LeakyReLU()(x)
    x = keras.layers.ZeroPadding2D()(x)  # 33
    logits = keras.layers.Conv2D(1, 4, strides=1, kernel_initializer=_init())(x)  # 30
    return keras.Model(inputs=[input_image, target_image], outputs=logits, name="discriminator")


# ---------------------------------------------------------------- losses
_bce = keras.losses.BinaryCrossentropy(from_logits=True)


def generator_loss(disc_generated_output, gen_output, target):
    """(total, gan, l1): gan loss + LAMBDA * mean absolute error."""
    gan_loss = _bce(tf.ones_like(disc_generated_output), disc_generated_output)
    l1_loss = tf.reduce_mean(tf.abs(target - gen_output))
    return gan_loss + LAMBDA * l1_loss, gan_loss, l1_loss


def discriminator_loss(disc_real_output, disc_generated_output):
    """Real + fake BCE, not halved (as the tutorial)."""
    real_loss = _bce(tf.ones_like(disc_real_output), disc_real_output)
    generated_loss = _bce(tf.zeros_like(disc_generated_output), disc_generated_output)
    return real_loss + generated_loss


def make_optimizer() -> keras.optimizers.Optimizer:
    return keras.optimizers.Adam(LEARNING_RATE, beta_1=BETA_1)


# -------------------------------------------------------------- training
def make_train_step(generator, discriminator, g_opt, d_opt, summary_writer=None):
    """The tutorial's ``train_step(input_image, target, step)`` as a ``tf.function``.

    Returns a dict of scalar losses: ``gen_total_loss``, ``gen_gan_loss``,
    ``gen_l1_loss``, ``disc_loss``. With ``summary_writer``, also writes them
    as the tutorial does (at ``step // 1000``).
    """

    @tf.function
    def train_step(input_image, target, step):
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            gen_output = generator(input_image, training=True)
            disc_real_output = discriminator([input_image, target], training=True)
            disc_generated_output = discriminator([input_image, gen_output], training=True)
            gen_total_loss, gen_gan_loss, gen_l1_loss = generator_loss(disc_generated_output, gen_output, target)
            disc_loss = discriminator_loss(disc_real_output, disc_generated_output)

        generator_gradients = gen_tape.gradient(gen_total_loss, generator.trainable_variables)
        discriminator_gradients = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
        g_opt.apply_gradients(zip(generator_gradients, generator.trainable_variables))
        d_opt.apply_gradients(zip(discriminator_gradients, discriminator.trainable_variables))

        losses = {
            "gen_total_loss": gen_total_loss,
            "gen_gan_loss": gen_gan_loss,
            "gen_l1_loss": gen_l1_loss,
            "disc_loss": disc_loss,
        }
        if summary_writer is not None:
            with summary_writer.as_default():
                for name, value in losses.items():
                    tf.summary.scalar(name, value, step=step // 1000)
        return losses

    return train_step


def train(steps: int, data_dir=None, seed: int = 0, warmup_steps: int = 10, log_dir=None,
          verbose: bool = True, checkpoint_every: int = 0, on_checkpoint=None) -> dict:
    """The tutorial's ``fit``: ``steps`` single-image steps over the jittered train split.

    ``images_per_second`` counts only the steps after the first
    ``warmup_steps`` (the first of which traces the step function), timed
    end to end: input pipeline included, since jittering in ``tf.data`` is
    part of what is compared. With ``checkpoint_every`` > ``warmup_steps``,
    ``on_checkpoint(steps_done, generator)`` runs after every that many
    steps (the last one included), outside the clock. Returns the speed,
    the timed step count and seconds, the final losses (floats) and the
    trained ``generator`` (and ``discriminator``, and the ``train_step`` function).
    """
    steps, warmup_steps = int(steps), int(warmup_steps)
    if warmup_steps < 1 or steps <= warmup_steps:
        raise ValueError(f"Need steps > warmup_steps >= 1 (one step traces), got steps={steps}, "
                         f"warmup_steps={warmup_steps}.")
    keras.utils.set_random_seed(seed)
    train_ds = load_split(data_dir, "train", seed=seed)
    generator, discriminator = build_generator(), build_discriminator()
    g_opt, d_opt = make_optimizer(), make_optimizer()
    writer = tf.summary.create_file_writer(str(log_dir)) if log_dir else None
    train_step = make_train_step(generator, discriminator, g_opt, d_opt, writer)

    if checkpoint_every and checkpoint_every <= warmup_steps:
        raise ValueError(f"checkpoint_every ({checkpoint_every}) must exceed warmup_steps ({warmup_steps}).")
    start = None
    losses = None
    outside_clock = 0.0
    for step, (input_image, target) in train_ds.repeat().take(steps).enumerate():
        if step == warmup_steps:
            # Waits for the warm-up steps' work before the clock starts.
            float(losses["gen_total_loss"])
            start = time.perf_counter()
        losses = train_step(input_image, target, step)
        done = int(step) + 1
        if verbose and done % 10 == 0:
            print(".", end="", flush=True)
        if checkpoint_every and done % checkpoint_every == 0 and on_checkpoint is not None:
            float(losses["gen_total_loss"])
            paused = time.perf_counter()
            on_checkpoint(done, generator)
            outside_clock += time.perf_counter() - paused
    final = {name: float(value) for name, value in losses.items()}  # waits for the last step
    seconds = time.perf_counter() - start - outside_clock
    if verbose:
        print()
    timed_steps = steps - warmup_steps
    return {
        "images_per_second": timed_steps * BATCH_SIZE / seconds,
        "timed_steps": timed_steps,
        "timed_seconds": seconds,
        "warmup_steps": warmup_steps,
        "steps": steps,
        "seed": seed,
        "losses": final,
        "generator": generator,
        "discriminator": discriminator,
        "train_step": train_step,
    }


# ------------------------------------------------------------ evaluation
def translate(generator, data_dir=None, split: str = "val", batch_size: int = 1, training: bool = True,
              seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inputs, fakes, targets), float32 in [-1, 1], for every image of ``split``.

    ``training=True`` (default) is the tutorial's ``generate_images`` setting:
    per-batch BN statistics and dropout on; keep ``batch_size=1`` for it to be
    the tutorial's. The generator's non-trainable state is restored afterwards.
    """
    saved = [variable.numpy() for variable in generator.non_trainable_variables]
    tf.random.set_seed(seed)
    inputs, fakes, targets = [], [], []
    try:
        for input_image, target in load_split(data_dir, split, batch_size=batch_size):
            inputs.append(input_image.numpy())
            fakes.append(generator(input_image, training=training).numpy())
            targets.append(target.numpy())
    finally:
        for variable, value in zip(generator.non_trainable_variables, saved):
            variable.assign(value)
    return np.concatenate(inputs), np.concatenate(fakes), np.concatenate(targets)


def evaluate(generator, data_dir=None, split: str = "val", batch_size: int = 1, training: bool = True,
             seed: int = 0) -> dict:
    """L1 / PSNR / SSIM of ``generator`` on facades ``split``, scored by ``tfgan_zoo.metrics``.

    ``l1``: mean |fake - target| on the [-1, 1] scale (``metrics.l1``);
    ``l1_01``: the same on [0, 1]; ``psnr``, ``ssim``: per-image means on
    [0, 1] with max_val 1 (``metrics.psnr`` / ``metrics.ssim``).
    """
    _, fakes, targets = translate(generator, data_dir, split, batch_size, training, seed)
    # tanh can round a hair past +-1 in float32; metrics reject > 1.001 only.
    fakes = np.clip(fakes, -1.0, 1.0)
    return {
        "l1": metrics.l1(fakes, targets),
        "l1_01": float(np.mean(np.abs(fakes - targets)) / 2.0),
        "psnr": metrics.psnr(fakes, targets),
        "ssim": metrics.ssim(fakes, targets),
        "num_images": int(len(fakes)),
        "split": split,
        "generator_training_mode": bool(training),
        "batch_size": int(batch_size),
    }


# ------------------------------------------------------------------- CLI
def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None,
                        help=f"shared data root (holding {DATASET_FOLDER}/) or the {DATASET_FOLDER} folder; "
                             f"default: ${DATA_ENV_VAR}")
    parser.add_argument("--steps", type=int, default=400, help="training steps (images, batch 1)")
    parser.add_argument("--warmup-steps", type=int, default=10, help="untimed first steps (tracing included)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-mode", choices=["train", "inference"], default="train",
                        help="generator mode at evaluation: 'train' (training=True, the tutorial's; default) "
                             "or 'inference'")
    parser.add_argument("--log-dir", default=None, help="write the tutorial's TensorBoard scalars here")
    parser.add_argument("--output", default=str(RESULTS_PATH), help="results JSON path")
    args = parser.parse_args(argv)

    try:
        facades = resolve_data_dir(args.data_dir, "train")
        resolve_data_dir(args.data_dir, "val")
    except FileNotFoundError as error:
        parser.exit(2, f"error: {error}\n")

    result = train(args.steps, facades, seed=args.seed, warmup_steps=args.warmup_steps, log_dir=args.log_dir)
    scores = evaluate(result["generator"], facades, training=args.eval_mode == "train", seed=args.seed)
    record = {
        "model": "tensorflow.org pix2pix tutorial (reference re-implementation)",
        "data_dir": str(Path(facades).resolve()),
        "steps": result["steps"],
        "warmup_steps": result["warmup_steps"],
        "timed_steps": result["timed_steps"],
        "timed_seconds": result["timed_seconds"],
        "batch_size": BATCH_SIZE,
        "seed": args.seed,
        "images_per_second": result["images_per_second"],
        "final_losses": result["losses"],
        "eval": scores,
        "conventions": {
            "l1": "mean |fake - target| on the [-1, 1] scale (tfgan_zoo.metrics.l1); l1_01 = same on [0, 1]",
            "psnr": "mean per-image tf.image.psnr on [0, 1], max_val=1 (tfgan_zoo.metrics.psnr)",
            "ssim": "mean per-image tf.image.ssim on [0, 1], max_val=1, 11x11 sigma 1.5 (tfgan_zoo.metrics.ssim)",
            "eval_generator": "training=True (BN batch statistics at batch 1, dropout on), as the tutorial's "
                              "generate_images" if args.eval_mode == "train" else "training=False",
        },
        "environment": {
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "devices": [device.name for device in tf.config.list_logical_devices()],
        },
    }
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(record, indent=2) + "\n")
    print(f"reference img_s={result['images_per_second']:.3f} l1={scores['l1']:.4f} "
          f"psnr={scores['psnr']:.3f} ssim={scores['ssim']:.4f}")
    return record


if __name__ == "__main__":
    main()
