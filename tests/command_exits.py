"""A command's ``main(argv)`` run in this process, ending as its user would see it.

A subprocess per case would add a TensorFlow start (about 5 CPU-seconds);
test_report.py runs one real ``python -m`` to check what the process prints.
"""

import errno
import os


def exit_of(main, argv) -> tuple[int, str]:
    """The exit status and message of ``main(argv)``: a ``SystemExit(message)``
    is what Python prints to stderr before exiting with status 1."""
    try:
        main([str(arg) for arg in argv])
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            return stop.code or 0, ""
        return 1, str(stop.code)
    return 0, ""


def assert_one_line_failure(main, argv, *expected: str) -> str:
    """Checks that ``main(argv)`` fails with status 1 and one line holding every ``expected`` text; returns it."""
    status, message = exit_of(main, argv)
    assert status == 1, (status, message)
    assert len(message.strip().splitlines()) == 1 and "Traceback" not in message, message
    for text in expected:
        assert text in message, (text, message)
    return message


def permission_denied(path):
    """A stand-in for a function the command calls, failing as the OS does on
    ``path`` when this user may not use it. (Tests may run as root, which
    ``chmod`` does not stop.)"""

    def deny(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    return deny


def interrupt(*args, **kwargs):
    """A stand-in for a function the command calls, as if Ctrl-C was pressed during it."""
    raise KeyboardInterrupt
