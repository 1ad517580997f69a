"""The storage contract, version 1: ref names, messages, trailers and note JSON.

Everything another program may rely on when it reads a plan with stock git is
decided here, and only here: how refs are named, what commit messages and
trailers say, and how note payloads are encoded and decoded. Note payloads are
decoded in exactly one function per kind, which refuses schema versions it does
not know. This module never imports pygit2.
"""

from __future__ import annotations

import functools
import json
import os
import re
import unicodedata
from dataclasses import asdict
from typing import Any

from .errors import BadInput, Damaged
from .model import FileChange, InvocationRecord, PlanRecord, ToolInvocation, has_control

FORMAT_VERSION = 1
PLAN_REF_PREFIX = "refs/changesets/"
NOTES_REF_PREFIX = "refs/notes/changesets/"
PLAN_SCHEMA = "gitplan.plan/1"
INVOCATION_SCHEMA = "gitplan.invocation/1"
COMMITTER_NAME = "gitplan"
COMMITTER_EMAIL = "gitplan@localhost"

_PLAN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
# Code points HFS+ ignores when comparing names, so ".g\u200cit" is ".git" there.
_HFS_IGNORABLE = set(
    "\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u206a\u206b\u206c\u206d\u206e\u206f\ufeff"
)


def plan_ref(plan_id: str) -> str:
    return PLAN_REF_PREFIX + plan_id


def notes_ref(plan_id: str) -> str:
    return NOTES_REF_PREFIX + plan_id


def plan_title(title: object) -> str:
    """A plan's title as it is stored: one line, runs of whitespace made one space. A NUL
    or another control character (an escape sequence that `list` would send to the
    terminal) is refused."""
    if not isinstance(title, str):
        raise BadInput("the title must be text without NUL or other control characters")
    line = " ".join(title.split())
    if has_control(line):
        raise BadInput(f"the title must be text without NUL or other control characters: {title!r}")
    return line


def validate_plan_id(plan_id: object) -> str:
    """Return the plan id if it is one safe ref-name component, else raise BadInput."""
    if not isinstance(plan_id, str) or not _PLAN_ID.fullmatch(plan_id):
        raise BadInput(
            f"invalid plan id {plan_id!r}: use 1-100 characters of A-Z a-z 0-9 . _ -, "
            "starting with a letter or digit"
        )
    if plan_id.endswith(".lock") or plan_id.endswith(".") or ".." in plan_id:
        raise BadInput(f"invalid plan id {plan_id!r}: must not end in '.lock' or '.', or hold '..'")
    return plan_id


def is_git_dir_name(component: str) -> bool:
    """Is this path component `.git` in any spelling git, NTFS or HFS+ would treat as it?"""
    if component.isascii():  # no ignorable code points, and NFC changes nothing
        return component.split(":", 1)[0].rstrip(". ").lower() in (".git", "git~1")
    name = "".join(c for c in component if c not in _HFS_IGNORABLE)
    # NTFS ignores trailing dots and spaces, and ':' starts an alternate data stream
    # (".git::$INDEX_ALLOCATION" is the directory itself).
    name = unicodedata.normalize("NFC", name).split(":", 1)[0].rstrip(". ").lower()
    return name in (".git", "git~1")


def validate_path(path: object) -> str:
    """Return a repository-relative path if it is safe to write, else raise BadInput.

    Accepts what git accepts on this platform (tabs, spaces, quotes, colons,
    non-UTF-8 bytes as surrogate escapes; backslashes except on Windows) and
    refuses only what is unsafe: absolute paths, empty, '.' or '..'
    components, '.git' in any case or NTFS/HFS spelling, NUL, and control
    characters other than tab (newlines and terminal escapes would forge lines
    in every tool that prints the path).
    """
    if not isinstance(path, str) or not path:
        raise BadInput("empty path")
    problem = _path_problem(path)
    if problem:
        shown = path.encode("unicode_escape").decode("ascii")  # escaped once: no repr() on top
        raise BadInput(f"invalid path '{shown}': {problem}", (path,))
    return path


@functools.lru_cache(maxsize=8192)  # an apply checks each path twice: verify, then before writing
def _path_problem(path: str) -> str | None:
    if _CONTROL.search(path):
        return "control characters other than tab are not allowed"
    if path.startswith("/") or (_WINDOWS and re.match(r"^[A-Za-z]:", path)):
        return "must be relative to the repository root"
    if _WINDOWS and "\\" in path:
        return "backslashes are separators on Windows"
    for component in path.split("/"):
        if component in ("", ".", ".."):
            return "empty, '.' or '..' component"
        if is_git_dir_name(component):
            return "'.git' components are not allowed"
    return None


_WINDOWS = os.name == "nt"
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


# -- commit messages ----------------------------------------------------------


def root_message(plan_id: str, title: str) -> str:
    first = f"plan {plan_id}: {title}" if title else f"plan {plan_id}"
    return f"{first}\n\nPlan-Id: {plan_id}\nPlan-Format: {FORMAT_VERSION}\n"


def changeset_message(plan_id: str, number: int, invocation: ToolInvocation, summary: str) -> str:
    first = f"{invocation.tool}: {summary}".strip()
    first = " ".join(first.split())[:200]
    return f"{first}\n\nPlan-Id: {plan_id}\nChangeset: {number}\nInvocation-Id: {invocation.invocation_id}\n"


def notes_message(plan_id: str, plan_tip: str, state: str = "open") -> str:
    """Message of a notes commit; `Plan-Tip:` names the plan tip it belongs with.

    Writers use that trailer to finish a record whose notes ref moved but whose
    plan ref did not, and to detect a torn read of the two refs (see refs.py).
    `Plan-State: applied` marks the notes commit that applied the plan, so a
    writer can refuse to record into it without decoding the plan record."""
    state_line = f"Plan-State: {state}\n" if state != "open" else ""
    head = f"gitplan: notes for {plan_id} at {plan_tip}"
    return f"{head}\n\nPlan-Id: {plan_id}\nPlan-Tip: {plan_tip}\n{state_line}"


def trailers(message: str) -> dict[str, str]:
    """The `Key: value` trailers of the last paragraph of a commit message."""
    paragraphs = message.strip().split("\n\n")
    found: dict[str, str] = {}
    if len(paragraphs) < 2:
        return found
    for line in paragraphs[-1].splitlines():
        key, sep, value = line.partition(": ")
        if sep and re.fullmatch(r"[A-Za-z0-9-]+", key):
            found[key] = value.strip()
    return found


# -- note payloads ------------------------------------------------------------


def encode_plan_record(record: PlanRecord) -> bytes:
    payload: dict[str, Any] = dict(record.extra)
    payload.update(
        schema=PLAN_SCHEMA,
        plan_id=record.plan_id,
        title=record.title,
        base=record.base or None,  # null: the plan starts a project's first commit
        created_at=record.created_at,
        state=record.state,
        applied=record.applied,
    )
    return (json.dumps(payload, indent=2, sort_keys=True) + "\n").encode()


def encode_invocation_record(
    plan_id: str, number: int, invocation: ToolInvocation, files: tuple[FileChange, ...]
) -> bytes:
    payload = asdict(invocation)
    payload.update(
        schema=INVOCATION_SCHEMA,
        plan_id=plan_id,
        changeset=number,
        files=[file_json(change) for change in files],
    )
    # (JSON: store.record refuses arguments that are not, and surgery copies records read back)
    text = json.dumps(payload, indent=2, sort_keys=True) + "\n"
    if _SURROGATE_ESCAPE.search(text):
        try:
            _encodable(payload)
        except UnicodeEncodeError:  # (readers refuse it: decode_invocation_record)
            raise BadInput(
                "the invocation would hold half a UTF-16 pair (in its arguments or outputs), "
                "which no record can hold; nothing was written"
            ) from None
    return text.encode()


def file_json(change: FileChange) -> dict[str, Any]:
    item: dict[str, Any] = {
        "path": change.path,
        "change": change.kind,
        "additions": change.additions,
        "deletions": change.deletions,
    }
    if change.old_path is not None:
        item["old_path"] = change.old_path
    if change.binary:
        item["binary"] = True
    return item


def _load(raw: bytes, what: str) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
        payload = json.loads(text)
        if _SURROGATE_ESCAPE.search(text):  # (UTF-8 itself cannot hold one: only an escape can)
            _encodable(payload)
    except (UnicodeDecodeError, UnicodeEncodeError, json.JSONDecodeError) as error:
        raise Damaged(f"{what} is not valid JSON: {error}") from None
    if not isinstance(payload, dict):
        raise Damaged(f"{what} is not a JSON object")
    return payload


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _encodable(value: Any) -> None:
    """UnicodeEncodeError for text that no file name or output can hold: a `\\u` escape of
    half a UTF-16 pair, other than the ones gitplan writes for a name's byte that is not
    UTF-8 (U+DC80 to U+DCFF, Python's surrogateescape)."""
    if isinstance(value, str):
        value.encode("utf-8", "surrogateescape")
    elif isinstance(value, dict):
        for key, item in value.items():
            _encodable(key)
            _encodable(item)
    elif isinstance(value, list):
        for item in value:
            _encodable(item)


def _check_schema(payload: dict[str, Any], expected: str, what: str) -> None:
    schema = payload.get("schema")
    family = expected.rsplit("/", 1)[0]
    if schema == expected:
        return
    if isinstance(schema, str) and schema.startswith(family + "/"):
        raise Damaged(
            f"{what} uses schema {schema!r}, which this gitplan does not know "
            f"(it reads {expected!r}); upgrade gitplan to read it"
        )
    raise Damaged(f"{what} has no known schema (expected {expected!r}, found {schema!r})")


def decode_plan_record(raw: bytes) -> PlanRecord:
    """The one decoder of plan records (root commit notes)."""
    payload = _load(raw, "plan record")
    _check_schema(payload, PLAN_SCHEMA, "plan record")
    known = {"schema", "plan_id", "title", "base", "created_at", "state", "applied"}
    title = str(payload.get("title", ""))
    if has_control(title):
        # (create refuses them: such a title could retitle the terminal that lists it)
        raise Damaged(f"plan record title holds control characters: {title!r}")
    try:
        return PlanRecord(
            plan_id=str(payload["plan_id"]),
            title=title,
            base=str(payload["base"] or ""),
            created_at=str(payload.get("created_at", "")),
            state=str(payload.get("state", "open")),
            applied=payload.get("applied"),
            extra={k: v for k, v in payload.items() if k not in known},
        )
    except KeyError as missing:
        raise Damaged(f"plan record lacks the field {missing}") from None


def decode_invocation_record(raw: bytes) -> InvocationRecord:
    """The one decoder of tool invocation records (changeset notes)."""
    payload = _load(raw, "invocation record")
    _check_schema(payload, INVOCATION_SCHEMA, "invocation record")
    fields = set(ToolInvocation.__dataclass_fields__)
    try:
        invocation = ToolInvocation(**{k: v for k, v in payload.items() if k in fields})
        files = tuple(
            FileChange(
                path=_text(item["path"], "path"),
                kind=str(item.get("change", "modified")),
                additions=int(item.get("additions", 0)),
                deletions=int(item.get("deletions", 0)),
                old_path=None if item.get("old_path") is None else _text(item["old_path"], "old_path"),
                binary=bool(item.get("binary", False)),
            )
            for item in payload.get("files", [])
        )
    except (TypeError, ValueError, KeyError, BadInput) as error:
        raise Damaged(f"invocation record is malformed: {error}") from None
    extra = {k: v for k, v in payload.items() if k not in fields and k not in ("schema", "files")}
    return InvocationRecord(invocation=invocation, files=files, extra=extra)


def _text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{field} must be text, not {value!r}")
    return value


# -- plan surgery (rewind, drop, branch) ----------------------------------------

BRANCHED_FROM = "branched_from"


def renumbered_message(message: str, plan_id: str, number: int) -> str:
    """A changeset's commit message with its `Plan-Id:` and `Changeset:` trailers replaced.

    Everything else (the `tool: summary` line, `Invocation-Id:`, any other
    trailer) is kept as it was: a replayed or branched changeset is the same
    invocation in a new place."""
    head, sep, last = message.rstrip("\n").rpartition("\n\n")
    lines = []
    for line in last.splitlines():
        key, colon, _ = line.partition(": ")
        if colon and key == "Plan-Id":
            line = f"Plan-Id: {plan_id}"
        elif colon and key == "Changeset":
            line = f"Changeset: {number}"
        lines.append(line)
    return f"{head}{sep}" + "\n".join(lines) + "\n"


def rewrite_invocation_record(
    raw: bytes,
    plan_id: str,
    number: int,
    files: tuple[FileChange, ...] | None = None,
    branched_from: dict[str, Any] | None = None,
) -> bytes:
    """An invocation record moved to changeset `number` of `plan_id`, every other field kept.

    The record must decode (decode_invocation_record refuses unknown schemas and
    damage); fields this gitplan does not know are carried over untouched.
    `files` replaces the file list (a changeset replayed onto another parent may
    change other lines); `branched_from` ({plan, changeset, commit}) says where a
    branched record was copied from."""
    decode_invocation_record(raw)
    payload = _load(raw, "invocation record")
    payload.update(plan_id=plan_id, changeset=number)
    if files is not None:
        payload["files"] = [file_json(change) for change in files]
    if branched_from is not None:
        payload[BRANCHED_FROM] = branched_from
    return (json.dumps(payload, indent=2, sort_keys=True) + "\n").encode()
