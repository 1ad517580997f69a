"""gitplan's own state files under `.git/gitplan/`, each replaced whole.

The new content is written beside the file under a temporary name starting with
a dot (`.NAME.PID`), then renamed over it: a reader sees the old file or the new
one, never part of one. Imports only the standard library (indexfile uses it).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from . import permissions


def replace(path: Path, data: bytes) -> None:
    """Make `data` the content of `path`, at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_bytes(data)
    permissions.widen(temporary)  # before it is in place, as git widens its lock files
    os.replace(temporary, path)


def keep(path: Path, data: bytes) -> None:
    """`replace`, for what can be worked out again: a repository that cannot be written
    (read-only, full) keeps nothing, and the next reader works it out again."""
    with contextlib.suppress(OSError):
        replace(path, data)
