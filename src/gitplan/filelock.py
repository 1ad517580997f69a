"""Advisory locks on a lock file (flock), the file created on demand.

The lock lasts while the descriptor is open, so a process that dies lets go of
it. Imports only the standard library (and faults, which does too): the agent hooks' fast
path uses it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from . import faults, permissions


@contextlib.contextmanager
def locked(path: Path, blocking: bool = True, shared: bool = False) -> Iterator[bool]:
    """Hold the exclusive lock on `path` (with `shared`, a lock that others may share but
    not with an exclusive one); yields False (holding nothing) when not `blocking` and
    another process holds it.

    A lock file may be removed while someone waits for it (`git plan gc` removes the lock
    files of plans that are gone, holding the lock as it does): the lock then held is on
    a file no longer there, which the next process would not see, and both would go on.
    So the lock counts only once the file locked is still the one at `path`; otherwise
    the file there now is opened (or made) and locked."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | (0 if blocking else fcntl.LOCK_NB)
    while True:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        permissions.widen(path)
        try:
            faults.point("filelock.opened")
            try:
                fcntl.flock(descriptor, kind)
            except BlockingIOError:
                yield False
                return
            if _still_at(path, descriptor):
                yield True
                return
        finally:
            os.close(descriptor)  # closing lets go of the lock


def _still_at(path: Path, descriptor: int) -> bool:
    """Is the open file `descriptor` the file `path` names now?"""
    try:
        there = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(descriptor)
    return (there.st_dev, there.st_ino) == (held.st_dev, held.st_ino)
