"""How every command ends (tfgan_zoo/commands.py): one line naming the file or
option and the fix, never a traceback. Each command's own cases are in its test
file (test_report.py, test_demo.py, test_tflite.py, test_shards.py)."""

import argparse
import ast
import errno
import os
from pathlib import Path

import pytest
import tensorflow as tf
from command_exits import exit_of

from tfgan_zoo import arguments, commands, safe_files


def failing(error: BaseException):
    @commands.command_main
    def main(argv):
        raise error

    return main


def test_usage_errors_and_messages_pass_unchanged():
    @commands.command_main
    def main(argv):
        argparse.ArgumentParser(prog="cmd").parse_args(argv)

    assert exit_of(main, ["--nope"]) == (2, "")
    assert exit_of(failing(SystemExit("already a message")), []) == (1, "already a message")


def test_a_dangling_link_is_named_with_where_it_points(tmp_path):
    link = tmp_path / "labels.csv"
    link.symlink_to(tmp_path / "gone.csv")
    error = FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(link))
    assert exit_of(failing(error), []) == (
        1, f"error: {link} is a link to {tmp_path / 'gone.csv'}, which does not exist: point it at a file, or remove it."
    )


def test_an_unwritable_home_is_named(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    # Root may write anywhere: the check of HOME answers as it would for another user.
    monkeypatch.setattr(commands.os, "access", lambda path, mode: os.path.abspath(path) != str(home))
    error = PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(home / ".cache" / "matplotlib"))
    status, message = exit_of(failing(error), [])
    assert status == 1 and f"HOME ({home}) is not writable: set HOME to a folder" in message


def test_a_tensorflow_error_is_its_first_line(tmp_path):
    with pytest.raises(tf.errors.NotFoundError) as raised:
        tf.io.read_file(str(tmp_path / "missing.png"))
    status, message = exit_of(failing(raised.value), [])
    assert status == 1 and len(message.splitlines()) == 1
    assert str(tmp_path / "missing.png") in message and message.endswith("(TensorFlow NotFoundError)")


def test_an_unexpected_error_says_how_to_see_its_traceback(monkeypatch):
    status, message = exit_of(failing(KeyError("latent_dim")), [])
    assert status == 1 and message.startswith("error: KeyError: 'latent_dim'. This is probably a bug")
    assert f"{commands.TRACEBACK_VARIABLE}=1" in message
    monkeypatch.setenv(commands.TRACEBACK_VARIABLE, "1")
    with pytest.raises(KeyError):
        failing(KeyError("latent_dim"))([])


def test_ctrl_c_is_one_message():
    assert exit_of(failing(KeyboardInterrupt()), []) == (1, commands.INTERRUPTED)
    # A command that knows what it stopped says so (the experiments: the phase, the checkpoint kept).
    said = "Interrupted (Ctrl-C) while loading the data. Run the same command again to resume."
    assert exit_of(failing(commands.Interrupted(said)), []) == (1, said)


def test_an_explained_error_is_shown_whole():
    class DataProblem(ValueError):
        pass

    def main(argv):
        raise DataProblem("mnist IDX files not found in data/.\nExpected train-images-idx3-ubyte.gz, ...")

    assert exit_of(commands.command_main(main, explained=(DataProblem,)), []) == (
        1, "error: mnist IDX files not found in data/.\nExpected train-images-idx3-ubyte.gz, ...")
    assert exit_of(commands.command_main(main), []) == (
        1, f"error: mnist IDX files not found in data/. (the whole message: {commands.TRACEBACK_VARIABLE}=1)")


@pytest.mark.parametrize("text, ok", [("3", True), ("0", False), ("-2", False), ("x", False)])
def test_positive_int(text, ok):
    if ok:
        assert arguments.positive_int(text) == int(text)
    else:
        with pytest.raises(argparse.ArgumentTypeError):
            arguments.positive_int(text)


def test_port_number():
    assert arguments.port_number("7860") == 7860
    with pytest.raises(argparse.ArgumentTypeError, match="a port is 1 to 65535"):
        arguments.port_number("65536")


@pytest.mark.parametrize("module", [commands, safe_files], ids=["commands", "safe_files"])
def test_the_exit_and_the_readers_need_neither_argparse_nor_the_experiments(module):
    """So that the experiments' code below their command line (free of argparse,
    tests/test_layout.py) may use them too, and the report loads without TensorFlow."""
    tree = ast.parse(Path(module.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not {name for name in imported if name.split(".")[0] in ("argparse", "tensorflow", "keras", "tfgan_zoo")}
