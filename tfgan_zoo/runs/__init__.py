"""A training run as a value (:class:`RunSpec`) and as a directory (:class:`RunDirectory`):
its identity and admission check, its lock, its checkpoint format and its logs.

This layer knows nothing of command lines: :mod:`tfgan_zoo.experiment` parses
one into a :class:`RunSpec`, and user code can build one directly.
"""

from tfgan_zoo.runs.checkpoints import CheckpointError, SafeBackupAndRestore, describe_checkpoint, read_checkpoint
from tfgan_zoo.runs.directory import RunDirectory
from tfgan_zoo.runs.identity import IDENTITY, admit, identity_changes, run_config
from tfgan_zoo.runs.lock import RunDirectoryInUse
from tfgan_zoo.runs.logs import CSVLogger, ProgbarLogger, TensorBoard
from tfgan_zoo.runs.spec import RunOptions, RunSpec
from tfgan_zoo.runs.writes import WriteFailed, is_write_failure, replace_durably, write_failure

__all__ = [
    "RunSpec", "RunOptions", "RunDirectory", "RunDirectoryInUse", "IDENTITY", "admit", "identity_changes",
    "run_config", "CheckpointError", "SafeBackupAndRestore", "describe_checkpoint", "read_checkpoint",
    "CSVLogger", "ProgbarLogger", "TensorBoard", "WriteFailed", "is_write_failure", "replace_durably",
    "write_failure",
]
