"""One tool invocation as it happens: edits gathered in memory, recorded on exit.

`PlanStore.invocation()` opens one: it reads the plan's tip (refusing an
unknown or applied plan before anything else), lets the tool read files as
the plan has them and stage writes and deletes, and times the block. Leaving
the block records one changeset with the measured times. An exception inside
records the failed invocation, status `error`, without its edits (they may
be half made), and is re-raised: the log tells the truth about every call.

The edits are recorded against the tip the block started from, so two
invocations of one plan at once are rebased onto each other as `record`
does. Nothing is written before the block ends.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pygit2

from .errors import BadInput, PlanNotFound
from .format import validate_path
from .gitrepo import read_blob
from .model import MODE_FILE, ChangeSet, File, utc_now
from .trees import entry_at


@dataclass(frozen=True, slots=True)
class Timing:
    """When an invocation began and ended, measured, not guessed."""

    started_at: str
    finished_at: str
    duration_ms: int


class Stopwatch:
    """Measures one invocation from its creation to `stop()`."""

    def __init__(self) -> None:
        self._started_at = utc_now()
        self._clock = time.monotonic()

    def stop(self) -> Timing:
        return Timing(self._started_at, utc_now(), int((time.monotonic() - self._clock) * 1000))


class Invocation:
    """The edits of one tool invocation, staged in memory until the block ends."""

    def __init__(self, repo: pygit2.Repository, plan_id: str, tip: str) -> None:
        self._repo = repo
        self.plan_id = plan_id
        self.parent = tip  # the commit the edits are made against
        self._tree = str(repo[tip].peel(pygit2.Commit).tree_id)
        self.changes: dict[str, File | None] = {}
        self.changeset: ChangeSet | None = None  # set when the block has been recorded
        self.stopwatch = Stopwatch()

    def read(self, path: str) -> bytes:
        """The file's bytes as the plan has them, with this invocation's own edits."""
        validate_path(path)
        if path in self.changes:
            written = self.changes[path]
            if written is None:
                raise PlanNotFound(f"{path} was deleted by this invocation")
            return bytes(written.data)
        found = entry_at(self._repo, self._tree, path)
        if found is None:
            raise PlanNotFound(f"no file {path} in plan {self.plan_id!r}")
        return read_blob(self._repo, found[0])

    def exists(self, path: str) -> bool:
        validate_path(path)
        if path in self.changes:
            return self.changes[path] is not None
        return entry_at(self._repo, self._tree, path) is not None

    def write(self, path: str, data: bytes, mode: int | None = None) -> None:
        """Stage new contents; `mode` None keeps the file's mode (100644 for a new file)."""
        validate_path(path)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise BadInput(f"{path}: data must be bytes, not {type(data).__name__}")
        if mode is None:
            staged = self.changes.get(path)
            found = entry_at(self._repo, self._tree, path) if staged is None else None
            mode = staged.mode if staged is not None else found[1] if found else MODE_FILE
        self.changes[path] = File(bytes(data), mode)

    def delete(self, path: str) -> None:
        validate_path(path)
        if not self.exists(path):
            raise PlanNotFound(f"no file {path} in plan {self.plan_id!r} to delete")
        self.changes[path] = None
