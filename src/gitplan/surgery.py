"""Plan surgery: rewind, drop, branch, and undo of the last of them.

A plan's history is normally only appended to. Reviewers sometimes need to
take changesets back off (rewind to N, drop some and replay the ones after),
or start a variation from a point of it (branch). This module makes those
edits in the storage format's terms: new commits and a new notes commit,
staged in memory, then both refs moved together by compare-and-swap
(transaction.swap), so a refusal writes nothing and a plan another writer
moved meanwhile is a Conflict, never overwritten. Each operation is written to
a per-plan journal under `<git-common-dir>/gitplan/surgery/` (the old and new
values of both refs), which `undo` reverses, again by compare-and-swap.

The old chain stays readable for undo without any extra reference: a rewind's
or drop's notes commit has the previous notes commit as parent, so the old
changesets' notes, commits and trees stay in packs the plan still uses (and
that `git plan gc` keeps); they go when the plan is cancelled.

It must never force a ref, change an applied plan, touch another plan's refs
or objects (a branch writes its own copy of every object it needs), or touch
HEAD, branches, the index or the worktree.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pygit2

from . import chain as chains
from . import clock, diffs, faults, packs, refs, statefile, transaction
from .errors import BadInput, Conflict, Damaged, PlanNotFound
from .format import (
    decode_plan_record,
    encode_plan_record,
    notes_message,
    plan_title,
    renumbered_message,
    rewrite_invocation_record,
    root_message,
    validate_plan_id,
)
from .gitrepo import committer_person, lookup_commit, read_blob
from .model import CleanupItem, CleanupReport, PlanRecord, SurgeryResult
from .notes import note_blob_id, notes_tree, stage_notes_commit
from .objects import Person, Staging
from .packfile import OBJ_BLOB, OBJ_TREE
from .rebase import rebase_edits
from .transaction import Prepared
from .trees import MODE_COMMIT, MODE_TREE, Edit, changed_entries, edit_tree, entry_at, staged_entry_at

OPERATIONS = ("rewind", "drop", "branch")


# -- the journal ----------------------------------------------------------------


def journal_path(repo: pygit2.Repository, plan_id: str) -> Path:
    return packs.state_dir(repo) / "surgery" / plan_id


def _journal(repo: pygit2.Repository, plan_id: str) -> list[dict[str, Any]]:
    try:
        lines = journal_path(repo, plan_id).read_text().splitlines()
    except FileNotFoundError:
        return []
    entries = []
    for line in lines:
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if isinstance(entry, dict) and entry.get("operation") in OPERATIONS:
                entries.append(entry)
    return entries


def _write_journal(repo: pygit2.Repository, plan_id: str, entries: list[dict[str, Any]]) -> None:
    """Replace the plan's journal (under the plan's surgery lock): a new file renamed into place."""
    path = journal_path(repo, plan_id)
    if not entries:
        path.unlink(missing_ok=True)
        return
    statefile.replace(path, "".join(json.dumps(entry, sort_keys=True) + "\n" for entry in entries).encode())


def _append(
    repo: pygit2.Repository,
    plan_id: str,
    operation: str,
    old: tuple[str | None, str | None],
    new: tuple[str, str],
    detail: dict[str, Any],
) -> None:
    """Add an entry; one whose `id` (detail) is already there replaces it (a retried swap)."""
    entry = {
        "operation": operation,
        "plan": plan_id,
        "old_tip": old[0],
        "old_notes": old[1],
        "new_tip": new[0],
        "new_notes": new[1],
        "time": time.time(),
        **detail,
    }
    kept = [e for e in _journal(repo, plan_id) if "id" not in detail or e.get("id") != detail["id"]]
    _write_journal(repo, plan_id, [*kept, entry])


def _settled_entries(
    repo: pygit2.Repository, plan_id: str, entries: list[dict[str, Any]], current: refs.PlanRefs
) -> list[dict[str, Any]]:
    """The journal without its newest entries whose refs are what the plan holds before
    them: a surgery killed after it journaled and before it moved the refs (journaled
    first, so that one killed after moving them can be undone), or an undo killed after
    it moved them back and before it took the entry off. Written back when any went."""
    kept = list(entries)
    while (
        kept
        and kept[-1]["operation"] != "branch"
        and (kept[-1].get("old_tip"), kept[-1].get("old_notes")) == (current.tip, current.notes_tip)
    ):
        kept.pop()
    if len(kept) != len(entries):
        _write_journal(repo, plan_id, kept)
    return kept


def forget(repo: pygit2.Repository, plan_id: str) -> None:
    """Drop a plan's journal (the plan was cancelled: there is nothing left to undo)."""
    journal_path(repo, plan_id).unlink(missing_ok=True)


def expire(repo: pygit2.Repository, live: set[str], older_than_ns: int, dry_run: bool) -> list[CleanupItem]:
    """`git plan gc`: journal entries older than the grace, and journals of gone plans."""
    removed: list[CleanupItem] = []
    try:
        names = [entry.name for entry in os.scandir(packs.state_dir(repo) / "surgery") if entry.is_file()]
    except FileNotFoundError:
        return removed
    for plan_id in sorted(name for name in names if not name.startswith(".")):
        # Not blocking: gc holds the prune lock, which a surgery holding this one may be
        # waiting for (undo cancels a branch; branch makes a plan). The next gc expires it.
        with packs.exclusive(repo, f"surgery-{plan_id}", blocking=False) as mine:
            if not mine:
                continue
            entries = _journal(repo, plan_id)
            if plan_id not in live:
                kept: list[dict[str, Any]] = []
            else:
                kept = [e for e in entries if float(e.get("time", 0)) * 1e9 >= older_than_ns]
            if len(kept) == len(entries) and (kept or plan_id in live):
                continue
            why = f"plan {plan_id} no longer exists" if plan_id not in live else "older than the grace"
            gone = [e for e in entries if e not in kept]
            for entry in gone:
                removed.append(CleanupItem("undo entry", f"{plan_id}: {entry['operation']}", why))
            if not dry_run:
                _write_journal(repo, plan_id, kept)
    return removed


# -- rewind ---------------------------------------------------------------------


def _number(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        raise BadInput(f"{what} must be a changeset number (0, 1, 2...), not {value!r}")
    if value < 0:
        raise BadInput(f"{what} must not be negative ({value})")
    return value


def rewind(repo: pygit2.Repository, plan_id: str, number: int) -> SurgeryResult:
    """Move the plan's tip back to changeset `number` (0: the plan root)."""
    validate_plan_id(plan_id)
    number = _number(number, "the changeset to rewind to")

    def prepare(current: refs.PlanRefs) -> Prepared[SurgeryResult]:
        _refuse_applied(current)
        if not current.notes_tip:  # as drop and branch, which need the records to copy
            raise Damaged(
                f"plan {plan_id!r} has no notes ref (its invocation records): nothing was rewound; "
                "`git plan list` shows what is wrong with it"
            )
        tip = chains.plan_commit(repo, plan_id, current.tip)
        newest = chains.changeset_number(tip)
        if number > newest:
            raise PlanNotFound(f"plan {plan_id!r} has no changeset {number} (it has {newest})")
        if number == newest:
            raise BadInput(f"plan {plan_id!r} is already at changeset {number}: nothing to rewind")
        target = _back(repo, plan_id, tip, newest - number)
        staging = Staging()
        notes = stage_notes_commit(
            repo, staging, current.notes_tip, {}, notes_message(plan_id, str(target.id))
        )
        removed = tuple(range(number + 1, newest + 1))
        result = SurgeryResult(plan_id, "rewind", current.tip, str(target.id), number, removed)
        return Prepared(staging, notes, str(target.id), number, result)

    return _journaled(repo, plan_id, "rewind", prepare, {"to": number})


def _back(repo: pygit2.Repository, plan_id: str, commit: pygit2.Commit, steps: int) -> pygit2.Commit:
    for _ in range(steps):
        if len(commit.parent_ids) != 1:
            raise Damaged(f"plan {plan_id!r}: changeset commit {commit.id} is not linear")
        commit = chains.plan_commit(repo, plan_id, str(commit.parent_ids[0]))
    return commit


def _journaled(
    repo: pygit2.Repository,
    plan_id: str,
    operation: str,
    prepare: Callable[[refs.PlanRefs], Prepared[SurgeryResult]],
    detail: dict[str, Any],
) -> SurgeryResult:
    """Journal what `prepare` staged, then swap the plan's refs to it, under the plan's lock.

    The entry is written before the refs move: a surgery killed after moving them can be
    undone. One killed before is no surgery, and its entry still names the refs the plan
    holds (_settled_entries takes it off); a swap that fails takes it off at once."""
    mark = os.urandom(8).hex()

    def journaled(current: refs.PlanRefs) -> Prepared[SurgeryResult]:
        prepared = prepare(current)
        old, new = (current.tip, current.notes_tip), (prepared.tip, prepared.notes)
        _append(repo, plan_id, operation, old, new, {**detail, "id": mark})
        faults.point("surgery.journaled")
        return prepared

    with packs.exclusive(repo, f"surgery-{plan_id}"):
        try:
            _, prepared = transaction.swap(repo, plan_id, journaled)
        except BaseException:
            entries = _journal(repo, plan_id)
            mine = [(e["new_tip"], e["new_notes"]) for e in entries if e.get("id") == mark]
            now = refs.read_refs_if_any(repo, plan_id)
            if not (mine and now is not None and (now.tip, now.notes_tip) == mine[-1]):  # (else it moved)
                _write_journal(repo, plan_id, [e for e in entries if e.get("id") != mark])
            raise
        faults.point("surgery.swapped")
    return prepared.result


# -- drop -----------------------------------------------------------------------


def drop(repo: pygit2.Repository, plan_id: str, numbers: Iterable[int]) -> SurgeryResult:
    """Remove changesets `numbers`; the later ones are replayed on top, renumbered."""
    validate_plan_id(plan_id)
    dropped = sorted({_number(value, "a changeset to drop") for value in numbers})
    if not dropped:
        raise BadInput("name at least one changeset to drop")
    if dropped[0] == 0:
        raise BadInput("changeset 0 is the plan root, which cannot be dropped (cancel the plan instead)")

    def prepare(current: refs.PlanRefs) -> Prepared[SurgeryResult]:
        _refuse_applied(current)
        chain = chains.load_chain(repo, plan_id, current, records=False)
        count = len(chain.commits)
        missing = [n for n in dropped if n > count]
        if missing:
            shown = ", ".join(map(str, missing))
            raise PlanNotFound(f"plan {plan_id!r} has no changeset {shown} (it has {count})")
        staging = Staging()
        tree = notes_tree(repo, current.notes_tip)
        start = chain.commits[dropped[0] - 2] if dropped[0] > 1 else chain.root
        start_tree = str(start.tree_id)
        # The replayed trees are only staged, and libgit2 reads only what is written: each
        # new tree is built from `start_tree` plus the edits replayed so far (`overlay`).
        overlay: dict[str, Edit] = {}
        replayed = [start_tree]  # the newest replayed tree (staged)

        def now_at(path: str) -> tuple[str, int] | None:
            if path in overlay:
                return overlay[path]
            if any(edited.startswith(path + "/") for edited in overlay):
                # A directory the replay changed: its staged tree (a later changeset that
                # makes it a file again compares it with the directory it replaced).
                return staged_entry_at(repo, staging, replayed[0], path)
            return entry_at(repo, start_tree, path)

        parent_id = str(start.id)
        new_notes: dict[str, bytes] = {}
        renumbered: list[tuple[int, int]] = []
        number = dropped[0] - 1
        for old_number in range(dropped[0], count + 1):
            if old_number in dropped:
                continue
            number += 1
            old = chain.commits[old_number - 1]
            old_parent_tree = str(old.parents[0].tree_id)
            edits = _edits(repo, old_parent_tree, str(old.tree_id))
            try:
                rebased = rebase_edits(repo, staging, old_parent_tree, start_tree, edits, tip_at=now_at)
                files = diffs.edit_changes(repo, staging, start_tree, rebased, old_at=now_at)
                for path, edit in rebased.items():
                    overlay[path] = edit
                    if edit == entry_at(repo, start_tree, path):
                        del overlay[path]
                new_tree = edit_tree(repo, staging, start_tree, overlay)
                replayed[0] = new_tree
            except (Conflict, BadInput) as error:
                paths = getattr(error, "paths", ()) or tuple(edits)
                raise Conflict(
                    f"changeset {old_number} depends on what dropping {_shown(dropped)} takes away: "
                    f"{error}; nothing was changed",
                    tuple(paths),
                ) from None
            commit = staging.commit(
                new_tree,
                [parent_id],
                _author(old),
                committer_person(),
                renumbered_message(old.message, plan_id, number),
            )
            raw = _note(repo, plan_id, tree, old, old_number)
            new_notes[commit] = rewrite_invocation_record(raw, plan_id, number, files=files)
            renumbered.append((old_number, number))
            parent_id = commit
        # The old changesets' notes stay in the tree: a reader that read the plan ref
        # just before the swap still finds a note for every commit it sees.
        notes = stage_notes_commit(
            repo, staging, current.notes_tip, new_notes, notes_message(plan_id, parent_id)
        )
        result = SurgeryResult(
            plan_id, "drop", current.tip, parent_id, number, tuple(dropped), tuple(renumbered)
        )
        return Prepared(staging, notes, parent_id, number, result)

    return _journaled(repo, plan_id, "drop", prepare, {"dropped": dropped})


def _shown(numbers: Sequence[int]) -> str:
    words = [str(n) for n in numbers]
    return "changeset " + words[0] if len(words) == 1 else "changesets " + ", ".join(words)


def _edits(repo: pygit2.Repository, old_tree: str, new_tree: str) -> dict[str, Edit]:
    """A changeset as the edits that turn its parent's tree into its own."""
    edits: dict[str, Edit] = {}
    for entry in changed_entries(repo, old_tree, new_tree):
        if entry.new_id is None or entry.new_mode is None:
            edits[entry.path] = None
        else:
            edits[entry.path] = (entry.new_id, entry.new_mode)
    return edits


def _author(commit: pygit2.Commit) -> Person:
    """The original author, name, email and time: a replayed changeset is still theirs."""
    author = commit.author
    return Person(author.name, author.email, (author.time, author.offset))


def _note(
    repo: pygit2.Repository, plan_id: str, tree: pygit2.Tree | None, commit: pygit2.Commit, number: int
) -> bytes:
    blob = note_blob_id(tree, str(commit.id))
    if blob is None:
        raise Damaged(
            f"plan {plan_id!r}: changeset {number} has no invocation record to carry over; "
            "nothing was changed"
        )
    return read_blob(repo, blob)


# -- branch ---------------------------------------------------------------------


def branch(
    repo: pygit2.Repository,
    plan_id: str,
    new_plan_id: str,
    at: int | None = None,
    title: str | None = None,
) -> SurgeryResult:
    """A new plan `new_plan_id`: a copy of `plan_id` up to changeset `at` (default: the tip).

    Same base and trees; new commits (`Plan-Id: <new>`), and the records copied
    with `branched_from` saying where each came from. The source plan is only
    read (so an applied plan can be branched). The new plan owns a copy of every
    object it needs, so cancelling either plan never takes the other's."""
    validate_plan_id(plan_id)
    validate_plan_id(new_plan_id)
    if new_plan_id == plan_id:
        raise BadInput("a branch needs a new plan name, not the plan's own")
    wanted = None if at is None else _number(at, "the changeset to branch at")
    if title is not None:
        title = plan_title(title)
    if refs.read_refs_if_any(repo, new_plan_id) is not None:
        raise BadInput(f"plan {new_plan_id!r} already exists")
    current = refs.settle(repo, plan_id)
    chain = chains.load_chain(repo, plan_id, current, records=False)
    count = len(chain.commits)
    number = count if wanted is None else wanted
    if number > count:
        raise PlanNotFound(f"plan {plan_id!r} has no changeset {number} (it has {count})")
    tree = notes_tree(repo, current.notes_tip)
    record = _plan_record(repo, plan_id, tree, chain.root)
    source_tip = chain.commits[number - 1] if number else chain.root
    origin = {"plan": plan_id, "changeset": number, "commit": str(source_tip.id)}
    staging = Staging()
    stamp = committer_person()
    new_title = record.title if title is None else title
    parents = [str(p) for p in chain.root.parent_ids]
    root = staging.commit(
        str(chain.root.tree_id), parents, stamp, stamp, root_message(new_plan_id, new_title)
    )
    new_record = PlanRecord(
        new_plan_id,
        new_title,
        record.base,
        clock.iso(stamp.stamp),
        extra={**record.extra, "branched_from": origin},
    )
    new_notes = {root: encode_plan_record(new_record)}
    parent_id = root
    for index, old in enumerate(chain.commits[:number], start=1):
        _copy_changed(repo, staging, str(old.parents[0].tree_id), str(old.tree_id))
        commit = staging.commit(
            str(old.tree_id),
            [parent_id],
            _author(old),
            committer_person(),
            renumbered_message(old.message, new_plan_id, index),
        )
        came_from = {"plan": plan_id, "changeset": index, "commit": str(old.id)}
        raw = _note(repo, plan_id, tree, old, index)
        new_notes[commit] = rewrite_invocation_record(raw, new_plan_id, index, branched_from=came_from)
        parent_id = commit
    notes = stage_notes_commit(repo, staging, None, new_notes, notes_message(new_plan_id, parent_id))
    with packs.exclusive(repo, f"surgery-{new_plan_id}"):
        transaction.create(repo, new_plan_id, record.base, staging, parent_id, notes)
        _append(repo, new_plan_id, "branch", (None, None), (parent_id, notes), {"from": origin})
    return SurgeryResult(new_plan_id, "branch", None, parent_id, number, branched_from=origin)


def _plan_record(
    repo: pygit2.Repository, plan_id: str, tree: pygit2.Tree | None, root: pygit2.Commit
) -> PlanRecord:
    blob = note_blob_id(tree, str(root.id))
    if blob is None:
        raise Damaged(f"plan {plan_id!r} has no plan record to copy")
    return decode_plan_record(read_blob(repo, blob))


def _copy_changed(repo: pygit2.Repository, staging: Staging, old_tree: str | None, new_tree: str) -> None:
    """Stage a copy of the trees and blobs of `new_tree` that `old_tree` does not have,
    descending only into subtrees whose ids differ (O(the change), not the tree)."""
    if old_tree == new_tree:
        return
    new = repo.get(new_tree)
    assert isinstance(new, pygit2.Tree)
    staging.add(OBJ_TREE, new.read_raw())
    old = repo.get(old_tree) if old_tree else None
    old_entries = {bytes(item.raw_name or b""): item for item in old} if isinstance(old, pygit2.Tree) else {}
    for item in new:
        before = old_entries.get(bytes(item.raw_name or b""))
        if before is not None and before.id == item.id:
            continue
        if item.filemode == MODE_TREE:
            below = str(before.id) if before is not None and before.filemode == MODE_TREE else None
            _copy_changed(repo, staging, below, str(item.id))
        elif item.filemode != MODE_COMMIT:
            blob = repo.get(item.id)
            assert isinstance(blob, pygit2.Blob)
            staging.add(OBJ_BLOB, blob.read_raw())


# -- undo -----------------------------------------------------------------------


def undo(
    repo: pygit2.Repository,
    plan_id: str,
    cancel: Callable[[refs.PlanRefs], CleanupReport],
) -> SurgeryResult:
    """Reverse the plan's last surgery: both refs back to what they were, by compare-and-swap.

    Conflict when the plan moved since (a changeset recorded after a rewind would
    be lost). Undoing a branch removes the branched plan through `cancel`, which
    deletes its refs only if they still hold what the branch made."""
    validate_plan_id(plan_id)
    with packs.exclusive(repo, f"surgery-{plan_id}"):
        entries = _journal(repo, plan_id)
        here = refs.read_refs_if_any(repo, plan_id)
        if entries and here is not None:
            entries = _settled_entries(repo, plan_id, entries, refs.settle(repo, plan_id))
        if not entries:
            if here is None:
                raise PlanNotFound(f"no plan named {plan_id!r}")
            raise PlanNotFound(
                f"plan {plan_id!r} has no rewind, drop or branch to undo (or `git plan gc` expired it)"
            )
        entry = entries[-1]
        operation = str(entry["operation"])
        new = (str(entry["new_tip"]), entry.get("new_notes"))
        if operation == "branch":
            current = refs.read_refs_if_any(repo, plan_id)
            if current is None:
                _write_journal(repo, plan_id, [])
                raise PlanNotFound(f"no plan named {plan_id!r}")
            current = refs.settle(repo, plan_id)
            _refuse_moved(plan_id, operation, current, new)
            _refuse_applied(current)
            report = cancel(current)
            _write_journal(repo, plan_id, [])
            return SurgeryResult(plan_id, "undo", current.tip, None, 0, undone="branch", cleanup=report)
        if not entry.get("old_notes"):  # (a journal from a version that rewound such a plan)
            raise Damaged(f"plan {plan_id!r} had no notes ref before the {operation}: it cannot be undone")
        old_tip, old_notes = str(entry["old_tip"]), str(entry["old_notes"])
        for oid in (old_tip, old_notes):
            if repo.get(oid) is None:
                raise Damaged(f"plan {plan_id!r}: commit {oid} from before the {operation} is gone")
        count = chains.changeset_number(lookup_commit(repo, old_tip))

        def prepare(current: refs.PlanRefs) -> Prepared[SurgeryResult]:
            _refuse_applied(current)
            result = SurgeryResult(plan_id, "undo", current.tip, old_tip, count, undone=operation)
            return Prepared(Staging(), old_notes, old_tip, count, result)

        try:
            _, prepared = transaction.swap(repo, plan_id, prepare, expected=new)
        except Conflict:
            _refuse_moved(plan_id, operation, refs.settle(repo, plan_id), new)
            raise
        faults.point("surgery.undone")
        _write_journal(repo, plan_id, entries[:-1])
        return prepared.result


def _refuse_applied(current: refs.PlanRefs) -> None:
    """Surgery rewrites what an applied plan put on the user's branch: refused (exit 2)."""
    try:
        refs.refuse_applied(current)
    except BadInput:
        raise BadInput(
            f"plan {current.plan_id!r} is already applied; its history is what was applied, so it "
            "cannot be rewound, dropped from or undone: branch it into a new plan instead"
        ) from None


def _refuse_moved(plan_id: str, operation: str, current: refs.PlanRefs, new: tuple[str, str | None]) -> None:
    if (current.tip, current.notes_tip) != new:
        raise Conflict(
            f"plan {plan_id!r} changed since the {operation} (its tip is now {current.tip}); "
            f"undoing the {operation} would lose that, so nothing was changed"
        )
