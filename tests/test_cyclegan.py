"""CycleGAN: ResNet generator and unconditional PatchGAN shapes, reflection
padding, the image pool's semantics, the linear-decay schedule, the loss terms
against the paper's formulas, real training steps, XLA, mixed precision, two
replicas against one device, serialization and export of both directions."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from families import FAMILIES

import tfgan_zoo
from tfgan_zoo import losses
from tfgan_zoo.augment import paired_random_jitter, random_jitter
from tfgan_zoo.export import save_cycle_translators
from tfgan_zoo.layers import ReflectionPadding2D
from tfgan_zoo.models import CycleGAN, ImagePool, PatchDiscriminator, ResnetGenerator
from tfgan_zoo.schedules import LinearDecay

SIZE = 32


def smooth_images(n, size=SIZE, seed=0):
    """uint8 images of low-frequency colour blobs: learnable at tiny widths."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, (n, 4, 4, 3)).astype(np.float32)
    return tf.cast(tf.image.resize(coarse, [size, size], method="bilinear"), tf.uint8).numpy()


def domains(n=4, seed=0):
    """Domain A: colour blobs; domain B: other blobs' colour negatives (unpaired)."""
    return smooth_images(n, seed=seed), (255 - smooth_images(n, seed=seed + 100))[..., ::-1].copy()


def dataset(images_a, images_b, batch=2):
    return tf.data.Dataset.from_tensor_slices((images_a, images_b)).batch(batch)


def tiny_cyclegan(**options):
    """The registry's CycleGAN at this file's size, with the paper's identity term."""
    return FAMILIES["cyclegan"].build(**{"image_size": SIZE, "g_filters": 8, "d_filters": 8, "d_layers": 2,
                                         "identity_weight": 0.5, **options})


def to_unit(images):
    return images.astype(np.float32) / 127.5 - 1.0


# ------------------------------------------------------------------ networks
@pytest.mark.parametrize("size, blocks", [(256, 9), (128, 6), (32, 6)])
def test_resnet_generator_shapes_and_default_blocks(size, blocks):
    generator = ResnetGenerator(size, input_channels=1, output_channels=3, filters=2)
    images = generator(tf.random.uniform([1, size, size, 1], -1, 1, seed=1))
    assert images.shape == (1, size, size, 3) and images.dtype == tf.float32
    assert np.abs(images.numpy()).max() <= 1.0
    assert generator.num_blocks == blocks == len(generator.residual)
    # c7s1-k, d2k, d4k: the residual blocks run at a quarter of the size, 4k wide.
    inner = generator.down[-1](generator.down[0](generator.stem(tf.zeros([1, size, size, 1]))))
    assert inner.shape == (1, size // 4, size // 4, 8)
    pads = [layer.padding for layer in generator._flatten_layers() if isinstance(layer, ReflectionPadding2D)]
    assert sorted(pads) == [1] * (2 * blocks) + [3, 3]


def test_residual_blocks_add_their_input():
    generator = ResnetGenerator(SIZE, filters=4, num_blocks=2)
    x = tf.random.normal([1, SIZE // 4, SIZE // 4, 16], seed=2)
    block, add = generator.residual[0], generator.residual_sums[0]
    np.testing.assert_allclose(add([x, block(x)]) - block(x), x, atol=1e-5)
    for weight in block.weights:  # a zero residual branch (gamma = beta = 0) leaves the block an identity
        if "gamma" in weight.path or "beta" in weight.path:
            weight.assign(tf.zeros_like(weight))
    np.testing.assert_allclose(add([x, block(x)]), x, atol=1e-6)


def test_generator_checks_and_config_round_trip():
    with pytest.raises(ValueError, match="multiple of 4"):
        ResnetGenerator(30)
    with pytest.raises(ValueError, match="norm must be"):
        ResnetGenerator(32, norm="layer")
    generator = ResnetGenerator(SIZE, input_channels=1, output_channels=2, filters=4, num_blocks=3, norm="batch")
    generator.build_for_inputs()
    config = generator.get_config()
    clone = ResnetGenerator.from_config(config)
    assert clone.get_config() == config and clone.num_blocks == 3 and clone.norm == "batch"
    clone.build_for_inputs()
    clone.set_weights(generator.get_weights())
    images = tf.random.uniform([2, SIZE, SIZE, 1], -1, 1, seed=3)
    np.testing.assert_allclose(clone(images), generator(images), atol=1e-6)
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(generator))
    assert isinstance(revived, ResnetGenerator) and revived.get_config() == config


def test_reflection_padding_matches_numpy_and_compiles():
    images = np.arange(2 * 4 * 5 * 3, dtype=np.float32).reshape(2, 4, 5, 3)
    layer = ReflectionPadding2D(2)
    expected = np.pad(images, [(0, 0), (2, 2), (2, 2), (0, 0)], mode="reflect")
    np.testing.assert_array_equal(layer(images), expected)
    np.testing.assert_array_equal(tf.function(layer, jit_compile=True)(tf.constant(images)), expected)
    assert layer.compute_output_shape((None, 4, 5, 3)) == (None, 8, 9, 3)
    assert ReflectionPadding2D.from_config(layer.get_config()).padding == 2


def test_unconditional_patch_discriminator():
    discriminator = PatchDiscriminator(SIZE, input_channels=0, output_channels=3, filters=4, norm="instance")
    logits = discriminator(tf.zeros([2, SIZE, SIZE, 3]))
    assert logits.shape == (2, 2, 2, 1) and logits.dtype == tf.float32
    assert discriminator.get_config()["input_channels"] == 0
    gan = tiny_cyclegan(d_layers=3)
    norms = [
        [isinstance(layer, keras.layers.GroupNormalization) for layer in block.layers]
        for block in gan.discriminator_a.body.layers[:4]
    ]
    # 70x70 PatchGAN: instance norm on every block but the first.
    assert [any(block) for block in norms] == [False, True, True, True]


# ----------------------------------------------------------------- the pool
def test_image_pool_fills_then_swaps_half_the_time():
    size = 6
    pool = ImagePool(size, (1, 1, 1))
    query = tf.function(pool)
    contents = []  # what the pool must hold, by the reference's rules
    fresh = 0
    swapped = 0
    for step in range(120):
        batch = np.arange(fresh, fresh + 3, dtype=np.float32).reshape(3, 1, 1, 1)
        fresh += 3
        out = query(tf.constant(batch), tf.constant([7, step])).numpy().ravel()
        for new, returned in zip(batch.ravel(), out):
            if len(contents) < size:
                assert returned == new  # filling: the image itself, stored
                contents.append(new)
            elif returned != new:  # an old image, replaced by the new one
                assert returned in contents
                contents[contents.index(returned)] = new
                swapped += 1
        assert int(pool.count.numpy()) == len(contents) <= size
        assert sorted(pool.images.numpy().ravel()[: len(contents)]) == sorted(contents)
    draws = 120 * 3 - size
    assert pool.images.shape == (size, 1, 1, 1)
    assert abs(swapped / draws - 0.5) < 0.08  # binomial sd 0.026 for 354 draws


def test_image_pool_returns_inputs_while_filling_and_passes_through_when_disabled():
    images = tf.random.uniform([3, 4, 4, 2], -1, 1, seed=4)
    pool = ImagePool(5, (4, 4, 2))
    np.testing.assert_array_equal(pool(images, tf.constant([0, 0])), images)
    np.testing.assert_array_equal(pool.images.numpy()[:3], images)
    assert int(pool.count.numpy()) == 3 and not pool.trainable_weights and len(pool.non_trainable_weights) == 2
    disabled = ImagePool(0, (4, 4, 2))
    np.testing.assert_array_equal(disabled(images, tf.constant([0, 0])), images)
    assert not disabled.weights
    with pytest.raises(ValueError, match="holds images"):
        pool(tf.zeros([1, 8, 8, 2]), tf.constant([0, 0]))


# ---------------------------------------------------- schedule, loss helpers
def test_linear_decay_schedule():
    schedule = LinearDecay(2e-4, constant_steps=100, decay_steps=100)
    values = [float(schedule(step)) for step in (0, 100, 150, 200, 260)]
    np.testing.assert_allclose(values, [2e-4, 2e-4, 1e-4, 0.0, 0.0], atol=1e-12)
    assert LinearDecay.from_epochs(2e-4, 100, 100, steps_per_epoch=3).get_config()["decay_steps"] == 300
    revived = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert isinstance(revived, LinearDecay) and revived.get_config() == schedule.get_config()
    optimizer = keras.optimizers.Adam(schedule)
    optimizer.iterations.assign(175)
    assert float(optimizer.learning_rate) == pytest.approx(0.5e-4)
    with pytest.raises(ValueError, match="decay_steps"):
        LinearDecay(1e-3, 10, 0)


def test_cycle_and_identity_losses_on_hand_made_tensors():
    real = np.zeros((2, 2, 2, 1), np.float32)
    other = np.array([[1.0, -1.0, 0.5, 0.5], [0.0, 0.0, 0.0, 2.0]], np.float32).reshape(2, 2, 2, 1)
    np.testing.assert_allclose(losses.cycle_consistency_loss(real, other), [0.75, 0.5], rtol=1e-6)
    np.testing.assert_allclose(losses.identity_loss(other, real), [0.75, 0.5], rtol=1e-6)
    np.testing.assert_allclose(losses.per_example_l1(other, other), [0.0, 0.0])


def test_random_jitter_crops_like_the_paired_jitter():
    images = tf.random.uniform([4, 8, 8, 3], seed=5)
    jittered = random_jitter(images, tf.constant([3, 4]), load_size=11)
    paired, _ = paired_random_jitter(images, images[..., :1], tf.constant([3, 4]), load_size=11)
    np.testing.assert_allclose(jittered, paired, atol=1e-6)
    assert not np.allclose(jittered, random_jitter(images, tf.constant([3, 5]), load_size=11))
    assert random_jitter(tf.cast(images, tf.float16), tf.constant([1, 1])).dtype == tf.float16


# ------------------------------------------------------------------- losses
@pytest.mark.parametrize("identity_weight", [0.5, 0.0])
def test_loss_terms_match_the_paper(identity_weight):
    gan = tiny_cyclegan(pool_size=0, jitter=False, identity_weight=identity_weight)
    gan.compile(g_optimizer=keras.optimizers.SGD(0.0), d_optimizer=keras.optimizers.SGD(0.0))
    images_a, images_b = domains(2)
    logs = {key: float(value) for key, value in gan.train_step((images_a, images_b)).items()}
    a, b = to_unit(images_a), to_unit(images_b)
    g, f, d_a, d_b = gan.generator_ab, gan.generator_ba, gan.discriminator_a, gan.discriminator_b

    def mse(x, target):
        return float(np.mean((np.asarray(x) - target) ** 2))

    def l1(x, y):
        return float(np.mean(np.abs(np.asarray(x) - np.asarray(y))))

    g_gan = mse(d_b(g(a)), 1.0) + mse(d_a(f(b)), 1.0)
    cycle = l1(f(g(a)), a) + l1(g(f(b)), b)
    identity = l1(g(b), b) + l1(f(a), a)
    assert logs["g_gan"] == pytest.approx(g_gan, rel=1e-4)
    assert logs["cycle"] == pytest.approx(cycle, rel=1e-4)
    assert logs["identity"] == pytest.approx(identity if identity_weight else 0.0, rel=1e-4)
    assert logs["g_loss"] == pytest.approx(g_gan + 10 * cycle + 10 * identity_weight * identity, rel=1e-4)
    assert logs["d_a_loss"] == pytest.approx(0.5 * (mse(d_a(a), 1.0) + mse(d_a(f(b)), 0.0)), rel=1e-4)
    assert logs["d_b_loss"] == pytest.approx(0.5 * (mse(d_b(b), 1.0) + mse(d_b(g(a)), 0.0)), rel=1e-4)
    assert logs["d_real"] == pytest.approx(0.5 * (np.mean(d_a(a)) + np.mean(d_b(b))), rel=1e-4, abs=1e-6)


def test_compile_checks_and_defaults():
    gan = tiny_cyclegan()
    with pytest.raises(ValueError, match="gradient penalty"):
        gan.compile(loss="wgan-gp")
    gan.compile()
    assert gan.gan_loss.name == "lsgan"
    assert float(gan.g_optimizer.learning_rate) == pytest.approx(2e-4) and gan.d_optimizer.beta_1 == 0.5
    assert gan.g_optimizer is not gan.d_optimizer
    with pytest.raises(ValueError, match=r"\(images_a, images_b\)"):
        gan.fit(tf.data.Dataset.from_tensor_slices(domains(2)[0]).batch(2), verbose=0)
    with pytest.raises(ValueError, match="direction"):
        gan.translate(domains(1)[0], direction="b_to_b")
    with pytest.raises(ValueError, match="identity_weight"):
        tiny_cyclegan(identity_weight=-1)


# ----------------------------------------------------------------- training
def test_training_reduces_the_cycle_loss():
    keras.utils.set_random_seed(0)  # weight init; earlier tests must not change the outcome
    images_a, images_b = domains(4)
    gan = tiny_cyclegan(seed=1, num_blocks=0, d_layers=1)
    gan.compile(g_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5))
    before = gan.evaluate(images_a, images_b, batch_size=4, verbose=0, return_dict=True)["cycle"]
    history = gan.fit(dataset(images_a, images_b).repeat(), steps_per_epoch=30, epochs=1, verbose=0).history
    after = gan.evaluate(images_a, images_b, batch_size=4, verbose=0, return_dict=True)["cycle"]
    assert all(np.isfinite(values[0]) for values in history.values())
    assert set(history) == {"g_loss", "d_a_loss", "d_b_loss", "g_gan", "cycle", "identity", "d_real", "d_fake",
                            "g_ab_grad_norm", "g_ba_grad_norm"}
    assert after < 0.75 * before
    # 60 fakes went by; the pool stopped growing at its 50 images.
    assert int(gan.pool_a.count.numpy()) == 50 and int(gan.g_optimizer.iterations) == 30


def test_mixed_bfloat16_keeps_images_logits_and_pool_float32():
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    gan = tiny_cyclegan()
    gan.compile()
    assert gan.generator_ab.down[0].layers[1].compute_dtype == "bfloat16"
    images = gan.generator_ab(tf.zeros([1, SIZE, SIZE, 3]))
    assert images.dtype == tf.float32 and gan.discriminator_b(images).dtype == tf.float32
    logs = gan.train_step(domains(2))
    assert all(np.isfinite(float(value)) for value in logs.values())
    assert gan.pool_a.images.dtype == "float32" and np.abs(gan.pool_a.images.numpy()).max() > 0


# ------------------------------------------------------- serialization, API
def test_keras_file_round_trip_keeps_the_pools(tmp_path):
    gan = tiny_cyclegan(norm="batch", pool_size=4, cycle_weight=5.0, identity_weight=0.0, load_size=36, seed=3)
    gan.compile(loss="bce", g_optimizer=keras.optimizers.Adam(LinearDecay(1e-3, 5, 5)))
    gan.pool_b(tf.random.uniform([2, SIZE, SIZE, 3], -1, 1, seed=6), tf.constant([0, 0]))
    clone = CycleGAN.from_config(gan.get_config())
    assert clone.get_config() == gan.get_config()
    gan.save(tmp_path / "cyclegan.keras")
    restored = keras.saving.load_model(tmp_path / "cyclegan.keras")
    images_a, images_b = domains(3)
    np.testing.assert_array_equal(restored.translate(images_a), gan.translate(images_a))
    np.testing.assert_array_equal(restored.translate(images_b, "b_to_a"), gan.translate(images_b, "b_to_a"))
    np.testing.assert_array_equal(restored.pool_b.images.numpy(), gan.pool_b.images.numpy())
    assert int(restored.pool_b.count.numpy()) == 2
    assert restored.gan_loss.name == "bce" and isinstance(restored.g_optimizer._learning_rate, LinearDecay)


def test_public_names():
    assert tfgan_zoo.CycleGAN is CycleGAN
    assert tfgan_zoo.schedules.LinearDecay is LinearDecay
    assert tfgan_zoo.export.save_cycle_translators is save_cycle_translators
