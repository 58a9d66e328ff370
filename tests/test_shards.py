"""TFRecord shards: written from a folder, read back exactly, split across workers
without overlap; the command's failures end in one line, and it writes only
into a folder of its own."""

import json

import numpy as np
import pytest
import tensorflow as tf
from command_exits import assert_one_line_failure, exit_of, interrupt, permission_denied
from conftest import write_image

from tfgan_zoo import commands
from tfgan_zoo.data import DataNotFoundError, shards
from tfgan_zoo.data.shards import main as shards_main
from tfgan_zoo.data.shards import shard_dataset, steps_per_epoch, write_shards
from tfgan_zoo.runs import ownership


def numbered_images(count, size=8):
    """Image i is filled with value i: identifiable after a round trip."""
    return np.stack([np.full((size, size, 3), i, np.uint8) for i in range(count)])


def ids_of(dataset):
    ids = []
    for images, labels in dataset:
        values = np.round((images.numpy() + 1.0) * 127.5).astype(int)
        ids += values[:, 0, 0, 0].tolist()
        assert np.array_equal(values[:, 0, 0, 0], labels.numpy())
    return ids


def test_round_trip_is_lossless(tmp_path):
    images = numbered_images(10)
    write_shards(images, tmp_path / "shards", num_shards=3, labels=np.arange(10), class_names=list("abcdefghij"))
    metadata = json.loads((tmp_path / "shards" / "shards.json").read_text())
    assert metadata["counts"] == [4, 3, 3] and metadata["class_names"][0] == "a"
    dataset = shard_dataset(tmp_path / "shards", batch_size=5, shuffle=False)
    assert sorted(ids_of(dataset)) == list(range(10))


@pytest.mark.parametrize("workers,shards", [(2, 4), (2, 5), (3, 7)])
def test_each_example_goes_to_exactly_one_worker_per_epoch(tmp_path, workers, shards):
    images = numbered_images(42)
    write_shards(images, tmp_path / "shards", num_shards=shards, labels=np.arange(42))
    seen = []
    for worker in range(workers):
        context = tf.distribute.InputContext(num_input_pipelines=workers, input_pipeline_id=worker,
                                             num_replicas_in_sync=workers)
        dataset = shard_dataset(tmp_path / "shards", batch_size=1, seed=worker, input_context=context)
        seen.append(ids_of(dataset))
    assert sorted(sum(seen, [])) == list(range(42))
    assert all(seen) and not set(seen[0]) & set(seen[1])


def test_more_workers_than_shards_is_an_error(tmp_path):
    write_shards(numbered_images(4), tmp_path / "shards", num_shards=2)
    context = tf.distribute.InputContext(num_input_pipelines=3, input_pipeline_id=0, num_replicas_in_sync=3)
    with pytest.raises(ValueError, match="at least 3 shards"):
        shard_dataset(tmp_path / "shards", input_context=context)
    with pytest.raises(DataNotFoundError, match="not a shard folder"):
        shard_dataset(tmp_path)


def test_command_writes_shards_from_a_folder(tmp_path, capsys):
    for i in range(6):
        write_image(tmp_path / "pictures" / ("cat" if i % 2 else "dog") / f"{i}.png", np.full((12, 10, 3), 9 * i, np.uint8))
    (tmp_path / "pictures" / "dog" / "broken.png").write_bytes(b"nope")
    shards_main([str(tmp_path / "pictures"), str(tmp_path / "shards"), "--size", "8", "--shards", "2",
                "--labels", "subfolders"])  # python -m tfgan_zoo.data.shards
    assert "wrote 6 images, skipped 1 unreadable into 2 shards" in capsys.readouterr().out
    images, labels = next(iter(shard_dataset(tmp_path / "shards", batch_size=6, shuffle=False)))
    assert images.shape == (6, 8, 8, 3) and sorted(labels.numpy().tolist()) == [0, 0, 0, 1, 1, 1]


def test_fit_on_shards_takes_one_step_per_batch(tmp_path):
    import keras

    import tfgan_zoo

    write_shards(numbered_images(40, size=16)[..., :1], tmp_path / "shards", num_shards=3)
    dataset = shard_dataset(tmp_path / "shards", batch_size=8)
    assert int(dataset.cardinality()) == 5
    gan = tfgan_zoo.DCGAN(latent_dim=4, image_shape=(16, 16, 1), g_filters=4, d_filters=4)
    gan.compile(d_optimizer=keras.optimizers.Adam(), g_optimizer=keras.optimizers.Adam())
    gan.fit(dataset, epochs=2, verbose=0)
    assert int(gan.g_optimizer.iterations.numpy()) == 10


def test_shards_feed_fit_through_distribute_datasets_from_function(tmp_path, mirrored):
    import keras

    import tfgan_zoo

    write_shards(numbered_images(48, size=16)[..., :1], tmp_path / "shards", num_shards=4)
    with mirrored.scope():
        gan = tfgan_zoo.DCGAN(latent_dim=4, image_shape=(16, 16, 1), g_filters=4, d_filters=4)
        gan.compile(d_optimizer=keras.optimizers.Adam(), g_optimizer=keras.optimizers.Adam())
    dataset = mirrored.distribute_datasets_from_function(
        lambda context: shard_dataset(tmp_path / "shards", context.get_per_replica_batch_size(8),
                                      input_context=context).repeat())
    steps = steps_per_epoch(tmp_path / "shards", 8)
    assert steps == 6  # 48 images / global batch 8
    history = gan.fit(dataset, epochs=2, steps_per_epoch=steps, verbose=0).history
    assert np.isfinite(history["g_loss"][-1])
    assert int(gan.g_optimizer.iterations.numpy()) == 12


def test_steps_per_epoch_is_what_the_poorest_worker_can_do(tmp_path):
    write_shards(numbered_images(50), tmp_path / "shards", num_shards=5)  # 10 images per shard
    assert steps_per_epoch(tmp_path / "shards", 8, num_workers=2) == 5  # worker 1: 20 images / 4
    with pytest.raises(ValueError, match="split evenly"):
        steps_per_epoch(tmp_path / "shards", 9, num_workers=2)


def pictures(folder, count=6):
    for i in range(count):
        write_image(folder / f"{i}.png", np.full((12, 10, 3), 9 * i, np.uint8))
    return folder


def test_command_ends_a_missing_folder_in_one_line(tmp_path):
    assert_one_line_failure(shards_main, [tmp_path / "missing", tmp_path / "shards"],
                            f"Image folder {tmp_path / 'missing'} does not exist")


def test_command_ends_a_folder_given_as_the_labels_file_in_one_line(tmp_path):
    (tmp_path / "labels.csv").mkdir()
    assert_one_line_failure(shards_main, [pictures(tmp_path / "pictures"), tmp_path / "shards", "--labels",
                                          tmp_path / "labels.csv", "--label-column", "kind"], "labels.csv")


def test_command_ends_a_dangling_link_as_the_output_in_one_line(tmp_path):
    (tmp_path / "shards").symlink_to(tmp_path / "gone")
    assert_one_line_failure(shards_main, [pictures(tmp_path / "pictures"), tmp_path / "shards", "--size", "8"],
                            f"{tmp_path / 'shards'} is a link or a file, not a folder")
    assert not (tmp_path / "gone").exists()


def test_command_leaves_a_folder_of_other_files_alone_naming_it(tmp_path, monkeypatch):
    """OUT_DIR holding anything the command did not write (here: the user's own
    shards.json and a picture) stops it before it loads the images, writes or deletes a thing."""
    monkeypatch.setattr(shards, "load_image_folder", interrupt)  # must not be reached
    out = tmp_path / "out"
    out.mkdir()
    (out / "shards.json").write_text("mine")
    (out / "photo.png").write_bytes(b"mine")
    assert_one_line_failure(shards_main, [pictures(tmp_path / "pictures"), out, "--size", "8"],
                            f"{out} holds files tfgan_zoo did not write (photo.png, shards.json)")
    assert sorted(path.name for path in out.iterdir()) == ["photo.png", "shards.json"]
    assert (out / "shards.json").read_text() == "mine"


def test_a_lone_shards_json_of_the_users_is_not_taken_for_the_commands_own(tmp_path, monkeypatch):
    """Its name is one the command writes, but its content is not a description: the
    folder was not written before the markers, and nothing in it is replaced."""
    monkeypatch.setattr(shards, "load_image_folder", interrupt)  # must not be reached
    out = tmp_path / "out"
    out.mkdir()
    (out / "shards.json").write_text('{"my": "notes"}')
    assert_one_line_failure(shards_main, [pictures(tmp_path / "pictures"), out, "--size", "8"],
                            f"{out} holds files tfgan_zoo did not write (shards.json)")
    assert (out / "shards.json").read_text() == '{"my": "notes"}'


def test_command_rewrites_its_own_folder_and_leaves_a_file_added_to_it(tmp_path):
    arguments = [str(pictures(tmp_path / "pictures")), str(tmp_path / "shards"), "--size", "8", "--shards", "2"]
    shards_main(arguments)
    (tmp_path / "shards" / "notes.txt").write_text("mine")
    shards_main([*arguments[:-1], "3"])
    assert (tmp_path / "shards" / "notes.txt").read_text() == "mine"
    assert shards.read_metadata(tmp_path / "shards")["counts"] == [2, 2, 2]


def test_a_folder_written_before_the_markers_is_taken_as_the_commands_own(tmp_path):
    write_shards(numbered_images(4), tmp_path / "shards", num_shards=2)
    (tmp_path / "shards" / ownership.MARKER).unlink()
    write_shards(numbered_images(6), tmp_path / "shards", num_shards=2)
    assert ownership.is_ours(tmp_path / "shards", shards.FOLDER_KIND)
    assert shards.read_metadata(tmp_path / "shards")["num_images"] == 6


def test_command_ends_a_permission_error_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(shards, "load_image_folder", permission_denied(tmp_path / "pictures"))
    assert_one_line_failure(shards_main, [tmp_path / "pictures", tmp_path / "shards"],
                            f"{tmp_path / 'pictures'}: permission denied")


def test_ctrl_c_while_writing_leaves_no_partial_set(tmp_path, monkeypatch):
    arguments = [str(pictures(tmp_path / "pictures")), str(tmp_path / "shards"), "--size", "8", "--shards", "2"]
    shards_main(arguments)
    assert (tmp_path / "shards" / "shards.json").is_file()
    encode, encoded = shards._example, []

    def interrupted_at_the_third(*args):
        encoded.append(args)
        if len(encoded) == 3:  # in the middle of the first shard of the rewrite
            raise KeyboardInterrupt
        return encode(*args)

    monkeypatch.setattr(shards, "_example", interrupted_at_the_third)
    assert exit_of(shards_main, arguments) == (1, commands.INTERRUPTED)
    left = sorted(path.name for path in (tmp_path / "shards").iterdir())
    # No staging file, and no description: the folder is not taken for a complete set.
    assert left == [ownership.MARKER, "images-00000-of-00002.tfrecord", "images-00001-of-00002.tfrecord"]
    with pytest.raises(DataNotFoundError, match="not a shard folder"):
        shard_dataset(tmp_path / "shards")


def test_command_refuses_no_shards_as_a_usage_error(tmp_path):
    assert exit_of(shards_main, [tmp_path / "pictures", tmp_path / "shards", "--shards", "0"])[0] == 2
