"""The JSON documents gitplan prints: one shape per concept, each with a schema version.

Every `--json` output is a document `{"schema": "gitplan.<kind>/1", ...}`; a
file change, a changeset and a plan's status look the same wherever they
appear (record, log, show, artifacts, status, list). docs/reference/json.md
describes them field by field. A reader must accept fields it does not know
and refuse a major version it does not know. Never imports pygit2.
"""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from typing import Any

from .errors import GitPlanError
from .format import file_json
from .model import ChangeSet, FileChange, PlanStatus, SurgeryResult

VERSION = 1


def document(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """A top-level JSON document of `kind` (status, list, changeset, log, ...)."""
    return {"schema": f"gitplan.{kind}/{VERSION}", **body}


def plain(value: Any) -> Any:
    """Dataclasses, tuples and file changes as JSON values, file changes in their one shape."""
    if isinstance(value, FileChange):
        return file_json(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {field: plain(getattr(value, field)) for field in asdict(value)}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def changeset(item: ChangeSet) -> dict[str, Any]:
    """One changeset: its commit, what made it (the invocation record) and what it changed."""
    record = item.record
    files = item.files
    return {
        "plan": item.plan_id,
        "number": item.number,
        "commit": item.commit,
        "parent": item.parent,
        "tool": item.tool,
        "summary": item.summary,
        "author": item.author,
        "invocation": plain(record.invocation) if record else None,
        "files": [file_json(change) for change in files],
        "insertions": sum(f.additions for f in files if not f.binary),
        "deletions": sum(f.deletions for f in files if not f.binary),
        "problem": item.problem,
        # Where a branched changeset was copied from (surgery.py): {plan, changeset, commit}.
        "branched_from": record.extra.get("branched_from") if record else None,
    }


def status(item: PlanStatus) -> dict[str, Any]:
    """A plan's status, as `status` and each entry of `list` give it."""
    return plain(item)  # type: ignore[no-any-return]


def error(failure: GitPlanError) -> dict[str, Any]:
    """What a failed command prints under --json (its message also goes to stderr)."""
    body: dict[str, Any] = {
        "error": str(failure),
        "kind": type(failure).__name__.lower(),
        "exit_code": failure.exit_code,
        "paths": list(getattr(failure, "paths", ()) or ()),
    }
    for extra in ("rescue_patch", "rescue_bundle"):
        if getattr(failure, extra, None):
            body[extra] = getattr(failure, extra)
    return document("error", body)


def internal_error(failure: Exception) -> dict[str, Any]:
    """What a command that hit a bug prints under --json: an `internal` error, exit 1."""
    body = {"error": f"internal error: {type(failure).__name__}: {failure}", "kind": "internal"}
    return document("error", {**body, "exit_code": 1, "paths": []})


def surgery(result: SurgeryResult) -> dict[str, Any]:
    """What rewind, drop, branch or undo did (`gitplan.surgery/1`)."""
    body: dict[str, Any] = plain(result)
    body["renumbered"] = [{"old": old, "new": new} for old, new in result.renumbered]
    return body
