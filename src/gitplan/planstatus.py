"""One plan's status: computed from its chain, or brought up to date from a kept one.

Computing a status reads every commit of the plan and decodes every note (for
the tools used and the missing artifacts): 600 ms for a 10,000-changeset plan,
and, in a repository of 1,000 plans, an object read in each plan's own pack.
So the last status of each plan is kept, with the two ref values it was read
from and the plan's root commit, in `<git-common-dir>/gitplan/status/<plan>`:

* refs unchanged: the kept status is the status (the base must still exist);
* the plan grew (its new changesets sit on the kept tip, and its notes tree
  differs only by their notes and the plan record): only the new changesets'
  notes are decoded, and the files are diffed tree to tree, as always;
* anything else (a rewind, notes edited by hand, a damaged note): computed
  from the chain again. A status that reports missing artifacts is never kept.

`unsafe` is never kept: verify.py has its own record of the tips it checked.
What is kept is a cache: losing it, or finding it unreadable, costs time only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

import pygit2

from . import chain as chains
from . import diffs, packs, refs, statefile
from .errors import Damaged
from .format import trailers
from .model import FileChange, PlanStatus
from .notes import TooFannedOut, changed_notes, notes_tree

# Fields a status gets per call (status --check, list), never kept.
_PER_CALL = {
    "unsafe",
    "base_behind_head",
    "apply_would_conflict",
    "conflict_paths",
    "apply_refusal",
    "dirty_paths",
    "problem",
}
_FORMAT = 1


@dataclass(frozen=True, slots=True)
class Kept:
    """A status as it was at (tip, notes_tip), and the plan's root commit."""

    tip: str
    notes_tip: str | None
    root: str
    status: PlanStatus


def compute(repo: pygit2.Repository, plan_id: str) -> tuple[PlanStatus, chains.Chain]:
    """The status from the whole chain (`unsafe` left None), and the chain read."""
    chain = chains.load_chain(repo, plan_id)
    base = chain.base_id
    missing: list[str] = []
    notes = repo.get(chain.refs.notes_tip) if chain.refs.notes_tip else None
    if chain.refs.notes_tip and not isinstance(notes, pygit2.Commit):  # one cause, not a line per note
        kind = f"a {notes.type_str}" if notes is not None else "which is not in the repository"
        missing.append(
            f"the notes ref points at {chain.refs.notes_tip}, {kind}, not a notes commit: no record can "
            "be read; cancel the plan, or point the ref back with git update-ref"
        )
    else:
        if chain.record_problem:
            missing.append(f"plan record: {chain.record_problem}")
        for changeset in chain.changesets:
            if changeset.problem:
                missing.append(f"changeset {changeset.number}: {changeset.problem}")
    if base and repo.get(base) is None:
        missing.append(f"base commit {base} is missing")
        files: tuple[FileChange, ...] = ()
    else:
        files = diffs.file_changes(repo, str(chain.root.tree_id), str(chain.tip.tree_id))
    record = chain.record
    status = _with_files(
        PlanStatus(
            plan=plan_id,
            title=record.title if record else "",
            state=record.state if record else "unknown",
            base=base,
            tip=str(chain.tip.id),
            changesets=len(chain.commits),
            files_changed=0,
            insertions=0,
            deletions=0,
            tools=tuple(dict.fromkeys(c.tool for c in chain.changesets)),
            missing_artifacts=tuple(missing),
            created_at=record.created_at if record else "",
            applied=record.applied if record else None,
            branched_from=record.extra.get("branched_from") if record else None,
            applied_parts=tuple(record.extra.get("applied_parts", ())) if record else (),
        ),
        files,
    )
    return status, chain


def _with_files(status: PlanStatus, files: tuple[FileChange, ...]) -> PlanStatus:
    return replace(
        status,
        files=files,
        files_changed=len(files),
        insertions=sum(f.additions for f in files if not f.binary),
        deletions=sum(f.deletions for f in files if not f.binary),
    )


def brought_up_to_date(repo: pygit2.Repository, plan_id: str, kept: Kept, now: refs.PlanRefs) -> Kept | None:
    """The kept status at the plan's refs `now`, reading only what changed; None when
    that is not a plain growth of the plan (compute it from the chain then)."""
    if (now.tip, now.notes_tip) == (kept.tip, kept.notes_tip):
        return kept
    try:
        return _grown(repo, plan_id, kept, now)
    except (Damaged, KeyError, ValueError, pygit2.GitError):
        return None


def _grown(repo: pygit2.Repository, plan_id: str, kept: Kept, now: refs.PlanRefs) -> Kept | None:
    added: list[pygit2.Commit] = []
    current = now.tip
    while current != kept.tip:
        commit = chains.plan_commit(repo, plan_id, current)
        if "Changeset" not in trailers(commit.message) or len(commit.parent_ids) != 1:
            return None  # reached the root (or a damaged commit) without meeting the kept tip
        added.append(commit)
        current = str(commit.parent_ids[0])
    added.reverse()
    old_notes, new_notes = notes_tree(repo, kept.notes_tip), notes_tree(repo, now.notes_tip)
    if old_notes is None or new_notes is None:
        return None
    new_ids = {str(commit.id) for commit in added}
    try:
        # ab/cdef...: a fanned-out note; "": a note removed
        changed = {
            path.replace("/", "") if now is not None else ""
            for path, _, now in changed_notes(old_notes, new_notes)
        }
    except TooFannedOut:
        return None  # the full computation reads notes one by one; verify says what is wrong
    if not changed <= new_ids | {kept.root}:
        return None  # notes of older changesets changed: read them all again
    status = kept.status
    changesets = [
        chains.changeset_at(repo, plan_id, status.changesets + n, commit, new_notes)
        for n, commit in enumerate(added, start=1)
    ]
    if any(changeset.problem for changeset in changesets):
        return None  # the full computation reports it
    if kept.root in changed:
        record, problem = chains.plan_record(repo, new_notes, kept.root)
        if record is None or problem:
            return None
        status = replace(
            status,
            title=record.title,
            state=record.state,
            created_at=record.created_at,
            applied=record.applied,
            branched_from=record.extra.get("branched_from"),
            applied_parts=tuple(record.extra.get("applied_parts", ())),
        )
    tip = added[-1] if added else chains.plan_commit(repo, plan_id, now.tip)
    root_tree = str(chains.plan_commit(repo, plan_id, kept.root).tree_id)
    status = _with_files(
        replace(
            status,
            tip=now.tip,
            changesets=status.changesets + len(added),
            tools=tuple(dict.fromkeys([*status.tools, *(c.tool for c in changesets)])),
        ),
        diffs.file_changes(repo, root_tree, str(tip.tree_id)),
    )
    return Kept(now.tip, now.notes_tip, kept.root, status)


# -- the kept statuses, on disk -------------------------------------------------


def _path(repo: pygit2.Repository, plan_id: str) -> str:
    # A string, not a Path: a list of many plans reads one each.
    return os.path.join(packs.state_dir(repo), "status", plan_id)


def load(repo: pygit2.Repository, plan_id: str) -> Kept | None:
    """The status kept for the plan, or None (none kept, or unreadable)."""
    try:
        with open(_path(repo, plan_id), encoding="utf-8") as kept:
            document = json.loads(kept.read())
        if document.get("format") != _FORMAT:
            return None
        body = dict(document["status"])
        body["files"] = tuple(FileChange(**change) for change in body["files"])
        for name in ("tools", "missing_artifacts", "applied_parts"):
            body[name] = tuple(body.get(name, ()))
        return Kept(document["tip"], document["notes_tip"], document["root"], PlanStatus(**body))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(repo: pygit2.Repository, plan_id: str, kept: Kept) -> None:
    """Keep the status for the next reader; nothing when the repository is read-only."""
    if kept.status.missing_artifacts:
        return
    body = {f.name: getattr(kept.status, f.name) for f in fields(PlanStatus) if f.name not in _PER_CALL}
    names = [f.name for f in fields(FileChange)]  # flat fields: no need for asdict's deep copy
    body["files"] = [{name: getattr(change, name) for name in names} for change in kept.status.files]
    document = {
        "format": _FORMAT,
        "tip": kept.tip,
        "notes_tip": kept.notes_tip,
        "root": kept.root,
        "status": body,
    }
    statefile.keep(Path(_path(repo, plan_id)), json.dumps(document).encode())
