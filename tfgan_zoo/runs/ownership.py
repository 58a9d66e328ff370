"""The package deletes or replaces only what it created.

A folder that the package writes as a whole (an export's base path, one
SavedModel, a gallery) carries a marker file, ``.tfgan_zoo``, that says which
kind of folder it is and what wrote it. A writer first claims its folder
(:func:`claim`): a new or empty folder gets the marker; a folder with the
marker of that kind is the package's; anything else is the user's, and the
writer stops with :class:`NotOurs`, which names the path and what is in it,
before it has written or deleted anything. Only a folder that carries the
marker of its kind is ever replaced or deleted (:func:`remove_ours`).

Folders written before the markers existed carry none: each writer
recognises its own by their contents (``written_before_markers``) and marks
them on their next write.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

MARKER = ".tfgan_zoo"


class NotOurs(FileExistsError):
    """A folder (or file) the package was about to write into, replace or delete
    holds something the package did not create."""

    def __init__(self, path, found: str, fix: str):
        self.path = Path(path)
        super().__init__(f"{self.path} {found}, so tfgan_zoo leaves it alone: it deletes or replaces only "
                         f"what it created. {fix}")


def marker_kind(folder: str | os.PathLike) -> str | None:
    """The kind of package folder ``folder`` is, from its marker; None when it
    has no readable marker (or is not a folder)."""
    try:
        marker = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker.get("kind") if isinstance(marker, dict) else None


def is_ours(folder: str | os.PathLike, kind: str) -> bool:
    """Whether ``folder`` is a real folder (not a link) carrying the marker of ``kind``."""
    folder = Path(folder)
    return not folder.is_symlink() and folder.is_dir() and marker_kind(folder) == kind


def mark(folder: str | os.PathLike, kind: str, writer: str) -> None:
    """Writes the marker of ``kind`` into the existing ``folder``."""
    text = json.dumps({
        "kind": kind,
        "writer": writer,
        "note": "Made by tfgan_zoo, which deletes or replaces only what it made: keep this file out of "
                "your own folders.",
    }, indent=1)
    (Path(folder) / MARKER).write_text(text + "\n", encoding="utf-8")


def claim(
    folder: str | os.PathLike,
    kind: str,
    writer: str,
    written_before_markers: Callable[[Path], bool] | None = None,
) -> Path:
    """Makes ``folder`` a package folder of ``kind`` to write in; returns it.

    A missing or empty folder is created and marked; one with the marker of
    ``kind`` is returned as it is; one without a marker for which
    ``written_before_markers(folder)`` holds (the writer's own output from
    before the markers) is marked.

    Raises:
        NotOurs: ``folder`` is a file or a link, holds a package folder of
            another kind, or holds anything else; nothing was written.
    """
    folder = Path(folder)
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise NotOurs(folder, "is a link or a file, not a folder", "Choose a folder path.")
    if folder.is_dir():
        found = marker_kind(folder)
        if found == kind:
            return folder
        if found is not None:
            raise NotOurs(folder, f"is a folder that tfgan_zoo wrote as another kind ({found!r}, not {kind!r})",
                          f"Choose another folder for the {kind}.")
        entries = sorted(entry.name for entry in folder.iterdir())
        if entries and not (written_before_markers and written_before_markers(folder)):
            shown = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
            raise NotOurs(folder, f"holds files tfgan_zoo did not write ({shown})",
                          f"Choose a new or empty folder for the {kind}.")
    folder.mkdir(parents=True, exist_ok=True)
    mark(folder, kind, writer)
    return folder


def new_folder(parent: str | os.PathLike, prefix: str, kind: str, writer: str) -> Path:
    """A new marked folder ``parent/<prefix><random>`` (a staging folder, say):
    marked before anything is written in it, so that what a killed writer
    leaves is known to be the package's and can be cleaned up."""
    folder = Path(parent) / f"{prefix}{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    mark(folder, kind, writer)
    return folder


def holds_nothing(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a real folder with nothing in it but perhaps a marker (one
    whose writer was killed as it marked it): nothing is lost by replacing it."""
    path = Path(path)
    return not path.is_symlink() and path.is_dir() and all(entry.name == MARKER for entry in path.iterdir())


def remove_ours(folder: str | os.PathLike, kind: str) -> None:
    """Deletes ``folder`` with everything in it; it must carry the marker of ``kind``.

    Raises:
        NotOurs: ``folder`` has no marker of ``kind`` (or is a link); nothing was deleted.
    """
    folder = Path(folder)
    if not is_ours(folder, kind):
        raise NotOurs(folder, f"is not a {kind} folder that tfgan_zoo made (it has no {MARKER} marker of one)",
                      "Move or delete it yourself if you no longer need it.")
    shutil.rmtree(folder)
