"""gitplan's own state files under `.git/gitplan/`, each replaced whole.

The new content is written beside the file under a temporary name starting with
a dot (`.NAME.PID.THREAD`: a reader that lists the directory, such as the hooks'
drainer, skips it), widened for a shared repository, then renamed over it: a
reader sees the old file or the new one, never part of one. Imports only the
standard library (indexfile and the agent hooks use it).
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

from . import permissions


def replace(path: Path, data: bytes, durable: bool = False) -> None:
    """Make `data` the content of `path`, at once; with `durable`, on disk before it is
    in place (a journal that recovery after a crash reads)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    with open(temporary, "wb") as handle:
        handle.write(data)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    permissions.widen(temporary)  # before it is in place, as git widens its lock files
    os.replace(temporary, path)


def keep(path: Path, data: bytes) -> None:
    """`replace`, for what can be worked out again: a repository that cannot be written
    (read-only, full) keeps nothing, and the next reader works it out again."""
    with contextlib.suppress(OSError):
        replace(path, data)
