"""Console progress of long scoring passes (evaluations, feature extractions)."""

from __future__ import annotations

import time


class Progress:
    """Shows how far a long pass (an evaluation, a feature extraction) has got.

    By ``verbose``, as Keras' ``fit`` does:

    * 1 (a terminal): one line rewritten in place, ``title: stage done/total (Ns)``,
      begun on a new line, since a Keras progress bar may hold the current one;
    * 2 (a log file): ``title...`` at the start and nothing until :meth:`end`;
    * 0: nothing.

    :meth:`end` closes the pass with ``title (Ns): result`` in modes 1 and 2.
    Functions that take a ``progress`` report their stages and batches to it;
    without one they are silent.
    """

    def __init__(self, title: str = "", verbose: int = 0):
        self.title, self.verbose = title, int(verbose)
        self.started = time.monotonic()
        self._width = 0
        if self.verbose:
            print("" if self.verbose == 1 else f"{title}...", flush=True)

    def seconds(self) -> float:
        """Seconds since the pass started."""
        return time.monotonic() - self.started

    def update(self, stage: str, done: int | None = None, total: int | None = None):
        """Shows the stage the pass is at (and ``done`` of ``total`` items), in mode 1."""
        if self.verbose == 1:
            counts = "" if total is None else f" {done}/{total}"
            self._show(f"{self.title}: {stage}{counts} ({self.seconds():.0f}s)", end="")

    def batches(self, stage: str, total: int, batch_size: int):
        """Yields the start of each ``batch_size`` slice of ``total`` items; a slice is
        reported done when the next start is asked for."""
        for start in range(0, total, batch_size):
            yield start
            self.update(stage, min(start + batch_size, total), total)

    def end(self, result: str = ""):
        """Prints the closing line: the title, the seconds taken and ``result``."""
        if self.verbose:
            self._show(f"{self.title} ({self.seconds():.0f}s)" + (f": {result}" if result else ""), end="\n")

    def _show(self, line: str, end: str):
        # The live line is padded to cover a longer one it replaces; a log file gets no carriage returns.
        prefix = "\r" if self.verbose == 1 else ""
        print(prefix + line.ljust(self._width), end=end, flush=True)
        self._width = len(line)
