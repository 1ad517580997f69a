"""Advisory locks on a lock file (flock), the file created on demand.

The lock lasts while the descriptor is open, so a process that dies lets go of
it. Imports only the standard library: the agent hooks' fast path uses it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def locked(path: Path, blocking: bool = True, shared: bool = False) -> Iterator[bool]:
    """Hold the exclusive lock on `path` (with `shared`, a lock that others may share but
    not with an exclusive one); yields False (holding nothing) when not `blocking` and
    another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            kind = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
            fcntl.flock(descriptor, kind | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(descriptor)  # closing lets go of the lock
