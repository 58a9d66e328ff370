"""Paired random jitter: one crop and flip per pair, drawn per sample, stateless, XLA-compilable;
the DiffAugment component's streams."""

import numpy as np
import pytest
import tensorflow as tf

from tfgan_zoo.augment import DiffAugment, default_load_size, paired_random_jitter, step_seed

SIZE, LOAD, BATCH = 8, 11, 32


def coordinate_batch(batch=BATCH, size=SIZE):
    """Channels: row, column, sample index; every output pixel tells where it came from."""
    rows, cols = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    images = np.zeros((batch, size, size, 3), np.float32)
    images[..., 0], images[..., 1] = rows, cols
    images[..., 2] = np.arange(batch)[:, None, None]
    return tf.constant(images)


def paired(inputs):
    """A 1-channel target that is a per-pixel affine function of the input's column channel."""
    return 1.0 - 2.0 * inputs[..., 1:2]


def jitter(seed=(1, 2), **kwargs):
    inputs = coordinate_batch()
    out_inputs, out_targets = paired_random_jitter(inputs, paired(inputs), tf.constant(seed), LOAD, **kwargs)
    return out_inputs.numpy(), out_targets.numpy()


def find_crop(image, resized):
    """``(row offset, column offset, flipped)`` of ``image`` inside ``resized``, or None."""
    for top in range(LOAD - SIZE + 1):
        for left in range(LOAD - SIZE + 1):
            crop = resized[top : top + SIZE, left : left + SIZE]
            for flipped, candidate in ((False, crop), (True, crop[:, ::-1])):
                if np.allclose(image, candidate, atol=1e-5):
                    return top, left, flipped
    return None


def test_pair_gets_the_same_crop_and_flip():
    out_inputs, out_targets = jitter()
    np.testing.assert_allclose(out_targets, paired(out_inputs), atol=1e-5)


def test_outputs_are_per_sample_crops_of_the_resized_images():
    inputs = coordinate_batch()
    resized = tf.image.resize(inputs, [LOAD, LOAD]).numpy()
    out_inputs, _ = jitter()
    crops = [find_crop(out_inputs[i], resized[i]) for i in range(BATCH)]
    assert None not in crops
    assert len({(top, left) for top, left, _ in crops}) > 4  # offsets differ across the batch
    assert {flipped for _, _, flipped in crops} == {False, True}  # some flipped, some not
    np.testing.assert_array_equal(out_inputs[..., 2], inputs.numpy()[..., 2])  # no sample mixing


def test_offsets_and_flips_are_uniform():
    """Every crop position is equally likely and half the pairs are mirrored, as the
    TF tutorial's ``tf.image.random_crop`` and coin flip draw them."""
    draws = 2000
    inputs = coordinate_batch(draws)
    out_inputs, _ = paired_random_jitter(inputs, paired(inputs), tf.constant([7, 8]), LOAD)
    resized = tf.image.resize(inputs, [LOAD, LOAD]).numpy()
    crops = np.array([find_crop(out_inputs[i].numpy(), resized[i]) for i in range(draws)])
    positions = LOAD - SIZE + 1
    expected, sigma = draws / positions, np.sqrt(draws * (1 / positions) * (1 - 1 / positions))
    for axis in (0, 1):  # rows, columns
        counts = np.bincount(crops[:, axis], minlength=positions)
        assert len(counts) == positions and np.all(np.abs(counts - expected) < 5 * sigma), counts
    assert abs(crops[:, 2].sum() - draws / 2) < 5 * np.sqrt(draws / 4)


def test_mirror_false_never_flips():
    out_inputs, _ = jitter(mirror=False)
    assert (np.diff(out_inputs[..., 1], axis=2) > 0).all()


def test_same_seed_same_output_other_seed_other_output():
    first, second, other = jitter((3, 4))[0], jitter((3, 4))[0], jitter((3, 5))[0]
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(first, other)


def test_identity_when_load_size_equals_size_without_mirror():
    inputs = coordinate_batch()
    out_inputs, _ = paired_random_jitter(inputs, paired(inputs), tf.constant([0, 0]), SIZE, mirror=False)
    np.testing.assert_array_equal(out_inputs.numpy(), inputs.numpy())


def test_compiles_with_xla_and_keeps_static_shapes():
    spec = [
        tf.TensorSpec([None, SIZE, SIZE, 3], tf.float32),
        tf.TensorSpec([None, SIZE, SIZE, 1], tf.float32),
        tf.TensorSpec([], tf.int64),
    ]

    @tf.function(input_signature=spec, jit_compile=True)
    def compiled(inputs, targets, step):
        return paired_random_jitter(inputs, targets, step_seed(7, step), LOAD)

    outputs = compiled.get_concrete_function().structured_outputs
    assert [tuple(t.shape) for t in outputs] == [(None, SIZE, SIZE, 3), (None, SIZE, SIZE, 1)]
    inputs = coordinate_batch()
    step = tf.constant(5, tf.int64)
    out_inputs, out_targets = compiled(inputs, paired(inputs), step)
    np.testing.assert_allclose(out_targets.numpy(), paired(out_inputs).numpy(), atol=1e-5)
    again, _ = compiled(inputs, paired(inputs), step)
    np.testing.assert_array_equal(out_inputs.numpy(), again.numpy())


@pytest.mark.parametrize("dtype", [tf.float16, tf.bfloat16])
def test_dtype_is_kept(dtype):
    inputs = tf.cast(coordinate_batch(4), dtype)
    out_inputs, out_targets = paired_random_jitter(inputs, inputs[..., :1], tf.constant([1, 1]))
    assert out_inputs.dtype == dtype and out_targets.dtype == dtype
    assert out_inputs.shape == (4, SIZE, SIZE, 3) and out_targets.shape == (4, SIZE, SIZE, 1)


def test_step_seed_changes_with_step_and_replica(mirrored):
    seeds = [tuple(step_seed(7, step).numpy()) for step in (0, 1, 1)]
    assert seeds[0] != seeds[1] and seeds[1] == seeds[2]
    per_replica = mirrored.run(tf.function(lambda: step_seed(7, tf.constant(1, tf.int64))))
    replica_seeds = {tuple(s.numpy()) for s in mirrored.experimental_local_results(per_replica)}
    assert len(replica_seeds) == 2


def test_default_load_size_follows_pix2pix():
    assert default_load_size(256) == 286
    assert default_load_size(128) == 143


def test_clear_errors():
    images = coordinate_batch(2)
    with pytest.raises(ValueError, match="to_unit_range"):
        paired_random_jitter(tf.cast(images, tf.uint8), images, tf.constant([0, 0]))
    with pytest.raises(ValueError, match="at least 8"):
        paired_random_jitter(images, images, tf.constant([0, 0]), load_size=6)
    with pytest.raises(ValueError, match="only the channel counts"):
        paired_random_jitter(images, coordinate_batch(3), tf.constant([0, 0]))


def test_diffaugment_component_draws_one_stream_per_salt_and_step():
    images = tf.random.stateless_uniform([4, SIZE, SIZE, 3], [0, 1], minval=-1.0, maxval=1.0)
    assert DiffAugment("", seed=3)(images, salt=4, step=0) is images
    augment = DiffAugment("translation,cutout", seed=3)
    first = augment(images, salt=4, step=0).numpy()
    np.testing.assert_array_equal(augment(images, salt=4, step=0), first)  # stateless: repeatable
    for other in (augment(images, salt=5, step=0), augment(images, salt=4, step=1),
                  DiffAugment("translation,cutout", seed=4)(images, salt=4, step=0)):
        assert not np.array_equal(other, first)
    with pytest.raises(ValueError, match="zoom"):
        DiffAugment("zoom")
