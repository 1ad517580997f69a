"""Pure data of gitplan: plans, changesets, file changes, tool invocations.

Frozen dataclasses validated at construction. This module never imports
pygit2 and never touches a repository; an update returns a new value.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .errors import BadInput

MODE_FILE = 0o100644
MODE_EXECUTABLE = 0o100755
MODE_SYMLINK = 0o120000
# Not a git mode: the mode the path already has where the edit is made, if it is a regular
# file (a new content keeps an executable's bit, as `cp` onto it would); 100644 for a new path.
MODE_KEEP = 0
FILE_MODES = (MODE_FILE, MODE_EXECUTABLE, MODE_SYMLINK)


def utc_now() -> str:
    """The current time as an ISO 8601 UTC string with a `Z` suffix."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _new_id() -> str:
    import uuid  # only when an invocation is made: uuid costs the CLI ~9 ms to import

    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class File:
    """New contents of one path: bytes and a git file mode."""

    data: bytes
    mode: int = MODE_FILE

    def __post_init__(self) -> None:
        if not isinstance(self.data, bytes | bytearray | memoryview):
            raise BadInput(f"file data must be bytes, not {type(self.data).__name__}")
        if self.mode not in (*FILE_MODES, MODE_KEEP):
            raise BadInput(f"file mode must be one of 100644, 100755, 120000 or MODE_KEEP, not {self.mode:o}")


@dataclass(frozen=True, slots=True)
class FileOnDisk:
    """New contents of one path, taken from a file on disk and streamed, never held in memory.

    For large files: recording one costs a few megabytes of memory whatever its
    size. The file must not change while it is recorded (that is refused)."""

    source: str
    mode: int = MODE_FILE

    def __post_init__(self) -> None:
        if not isinstance(self.source, str) or not self.source:
            raise BadInput("a file on disk needs a path")
        if self.mode not in (MODE_FILE, MODE_EXECUTABLE, MODE_KEEP):
            raise BadInput(f"a streamed file's mode must be 100644, 100755 or MODE_KEEP, not {self.mode:o}")


def has_control(text: str) -> bool:
    """Does `text` hold a control character other than a tab (a line break, NUL, an escape
    sequence that `log` would send to the terminal, also as the 8-bit byte of a name that
    is not UTF-8), or half a UTF-16 pair no output can hold?"""
    return any(
        (unicodedata.category(character) in ("Cc", "Cs") and character != "\t")
        and not "\udca0" <= character <= "\udcff"
        for character in text
    )


@dataclass(frozen=True, slots=True)
class ToolInvocation:
    """Who ran what: the metadata recorded as the note of one changeset."""

    tool: str
    actor: str = "gitplan"
    arguments: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    invocation_id: str = field(default_factory=lambda: _new_id())
    started_at: str | None = None
    finished_at: str | None = None
    duration_ms: int | None = None
    status: str = "ok"
    exit_code: int | None = None
    error: str | None = None
    stdout_tail: str | None = None
    stderr_tail: str | None = None
    # Filled in by `run` (optional in schema gitplan.invocation/1; absent in older records):
    argv: list[str] | None = None  # the command, as run (no shell)
    cwd: str | None = None  # where it ran, relative to the top of the plan's worktree
    signal: str | None = None  # the signal that ended it ("SIGKILL"), if one did
    redacted: list[str] | None = None  # fields in which secrets were masked
    skipped: list[str] | None = None  # paths the tool made that gitplan cannot record
    agent: dict[str, Any] | None = None  # from agent hooks: name, session_id, transcript_path, model...

    def __post_init__(self) -> None:
        if not isinstance(self.tool, str) or not self.tool.strip():
            raise BadInput("a tool invocation needs a tool name")
        if has_control(self.tool):
            raise BadInput("the tool name must be one line, without control characters")
        if not isinstance(self.actor, str) or has_control(self.actor) or any(c in self.actor for c in "<>"):
            raise BadInput("the actor must be one line without '<' or '>', nor control characters")
        if not isinstance(self.arguments, dict):
            raise BadInput("tool arguments must be a JSON object (a dict)")
        if (
            not isinstance(self.invocation_id, str)
            or not self.invocation_id.strip()
            or any(c in self.invocation_id for c in "\n\r\0")
        ):
            raise BadInput("the invocation id must be one line of text (it is a trailer of the commit)")
        if self.status not in ("ok", "error"):
            raise BadInput(f"invocation status must be 'ok' or 'error', not {self.status!r}")
        if self.argv is not None and (
            not isinstance(self.argv, list | tuple) or not all(isinstance(a, str) for a in self.argv)
        ):
            raise BadInput("argv must be a list of strings")
        _refuse_unlike_schema(self)


def refuse_unrecordable(invocation: ToolInvocation) -> None:
    """BadInput unless the invocation's arguments and agent data are JSON a record can hold
    (asked before anything is written; a record read back holds what json.loads made)."""
    _refuse_unrecordable("the tool arguments", invocation.arguments)
    _refuse_unrecordable("the agent data", invocation.agent)


_TEXTS = ("summary",)
_TEXTS_OR_NONE = ("started_at", "finished_at", "error", "stdout_tail", "stderr_tail", "cwd", "signal")
_MOST_NESTED = 100  # levels of arrays and objects in arguments: deeper is no tool's


def _refuse_unlike_schema(invocation: ToolInvocation) -> None:
    """Each field of the type the record's schema gives it (a record that breaks it would
    break every reader of it)."""
    for name in _TEXTS:
        if not isinstance(getattr(invocation, name), str):
            raise BadInput(f"the invocation's {name} must be text")
    for name in _TEXTS_OR_NONE:
        if not isinstance(getattr(invocation, name), str | None):
            raise BadInput(f"the invocation's {name} must be text or None")
    for name in ("duration_ms", "exit_code"):
        value = getattr(invocation, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise BadInput(f"the invocation's {name} must be a whole number or None")
    if invocation.duration_ms is not None and invocation.duration_ms < 0:
        raise BadInput("the invocation's duration_ms cannot be negative")
    for name in ("redacted", "skipped"):
        value = getattr(invocation, name)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise BadInput(f"the invocation's {name} must be a list of text or None")
    if invocation.agent is not None and not isinstance(invocation.agent, dict):
        raise BadInput("the invocation's agent data must be an object (a dict) or None")


def _refuse_unrecordable(what: str, value: Any) -> None:
    """BadInput unless `value` is JSON a record can hold: no NaN or Infinity (strict
    readers refuse them), no value JSON has no type for, and nested no deeper than
    _MOST_NESTED levels."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > _MOST_NESTED:
            raise BadInput(f"{what} nest deeper than {_MOST_NESTED} levels; nothing was written")
        if isinstance(item, dict):
            stack.extend((inner, depth + 1) for inner in item.values())
        elif isinstance(item, list | tuple):
            stack.extend((inner, depth + 1) for inner in item)
    try:
        json.dumps(value, allow_nan=False)
    except ValueError as error:
        if "Out of range float" in str(error):
            raise BadInput(
                f"{what} hold a number JSON cannot (NaN or Infinity); nothing was written"
            ) from None
        raise BadInput(f"{what} cannot be recorded: {error}; nothing was written") from None
    except TypeError as error:
        raise BadInput(f"{what} cannot be recorded as JSON: {error}; nothing was written") from None


@dataclass(frozen=True, slots=True)
class FileChange:
    """One path changed by a changeset or a plan, with its line counts."""

    path: str
    kind: str  # added, modified, deleted, renamed, mode, typechange
    additions: int
    deletions: int
    old_path: str | None = None
    binary: bool = False


@dataclass(frozen=True, slots=True)
class PlanRecord:
    """The plan's own metadata, stored as the note on its root commit."""

    plan_id: str
    title: str
    base: str
    created_at: str
    state: str = "open"
    applied: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InvocationRecord:
    """A changeset's note as read back: the invocation plus what it changed."""

    invocation: ToolInvocation
    files: tuple[FileChange, ...]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """One commit of a plan: its number, ids and (when readable) its invocation."""

    plan_id: str
    number: int
    commit: str
    parent: str
    tool: str
    summary: str
    author: str
    record: InvocationRecord | None
    problem: str | None = None  # why the record is missing or damaged
    # Without a readable record: what the commit itself changed (diffs.file_changes).
    files_from_commit: tuple[FileChange, ...] = ()
    # Said when it is recorded: why `apply` will refuse it (a symlink leading out of the
    # worktree), so that whoever recorded it learns now, not at apply.
    warning: str | None = None

    @property
    def invocation(self) -> ToolInvocation | None:
        return self.record.invocation if self.record else None

    @property
    def files(self) -> tuple[FileChange, ...]:
        """The changed files: as the record lists them, else as the commit changed them."""
        return tuple(self.record.files) if self.record else self.files_from_commit


@dataclass(frozen=True, slots=True)
class PlanStatus:
    """What status and list report about one plan."""

    plan: str
    title: str
    state: str
    base: str
    tip: str
    changesets: int
    files_changed: int
    insertions: int
    deletions: int
    tools: tuple[str, ...]
    missing_artifacts: tuple[str, ...]
    created_at: str
    applied: dict[str, Any] | None = None
    base_behind_head: bool | None = None
    apply_would_conflict: bool | None = None  # a merge conflict with HEAD
    conflict_paths: tuple[str, ...] = ()
    files: tuple[FileChange, ...] = ()
    # With --check: why `apply --check` would refuse ("conflict", "dirty", "in-progress",
    # "bare"), and the paths.
    apply_refusal: str | None = None
    dirty_paths: tuple[str, ...] = ()
    # In `list`: what is wrong with a plan whose state is damaged, incomplete or invalid.
    problem: str | None = None
    # Why the plan must not be trusted (verify.py), e.g. one fetched with plain git.
    unsafe: str | None = None
    # A plan made by `git plan branch`: {plan, changeset, commit} it was copied from.
    branched_from: dict[str, Any] | None = None
    # The parts of the plan applied so far (apply --upto/--only/--hunks), oldest first: each
    # is what `applied` would say of it, with its `part`. The plan stays open meanwhile.
    applied_parts: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class CleanupReport:
    """What cancel (or a failed apply) removed."""

    plan: str
    refs_deleted: tuple[str, ...]
    objects_pruned: int
    objects_kept: int
    bytes_freed: int
    reasons: tuple[str, ...] = ()  # why objects were kept or left to git


@dataclass(frozen=True, slots=True)
class Selection:
    """The part of a plan a partial apply takes (all of it when nothing is set).

    `upto`: changesets 1..N only; `only`/`exclude`: paths (a directory stands for
    what is under it) of the cumulative change; `patch`: a unified patch of chosen
    hunks of the cumulative diff (what `apply --hunks` builds), applied to the base."""

    upto: int | None = None
    only: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    patch: bytes | None = None

    @property
    def partial(self) -> bool:
        return self.upto is not None or bool(self.only or self.exclude) or self.patch is not None

    def describe(self) -> dict[str, Any]:
        """What was asked for, as the plan record keeps it."""
        described: dict[str, Any] = {}
        if self.upto is not None:
            described["upto"] = self.upto
        if self.only:
            described["only"] = list(self.only)
        if self.exclude:
            described["exclude"] = list(self.exclude)
        if self.patch is not None:
            described["hunks"] = True
        return described


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What apply did, or (with check) would do."""

    plan: str
    mode: str
    strategy: str  # fast-forward, merge
    commit: str | None
    branch: str | None
    files: tuple[str, ...]
    checked_only: bool = False
    conflicts: tuple[str, ...] = ()  # paths that conflict, or (with refusal "dirty") are dirty
    rescue_patch: str | None = None
    rescue_bundle: str | None = None
    cleanup: CleanupReport | None = None
    refusal: str | None = None  # with check: "conflict" or "dirty" when apply would refuse
    reason: str | None = None  # with check: the message apply would fail with
    part: dict[str, Any] | None = None  # a partial apply: what was selected (Selection.describe)


@dataclass(frozen=True, slots=True)
class CleanupItem:
    """One thing `git plan gc` removed or kept: what kind, which, and why."""

    kind: str
    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class GcReport:
    """What `git plan gc` removed and kept (with --dry-run: would remove)."""

    removed: tuple[CleanupItem, ...]
    kept: tuple[CleanupItem, ...]
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class SurgeryResult:
    """What a plan surgery (rewind, drop, branch, undo) did to one plan."""

    plan: str
    operation: str  # rewind, drop, branch, undo
    old_tip: str | None  # None: the plan did not exist before (branch)
    new_tip: str | None  # None: the plan is gone (undo of a branch)
    changesets: int  # how many changesets the plan has now
    removed: tuple[int, ...] = ()  # the changeset numbers taken off the plan
    renumbered: tuple[tuple[int, int], ...] = ()  # (old number, new number) of replayed changesets
    branched_from: dict[str, Any] | None = None  # branch: {plan, changeset, commit}
    undone: str | None = None  # undo: the operation it reversed
    cleanup: CleanupReport | None = None  # undo of a branch: what removing the plan pruned
