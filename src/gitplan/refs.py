"""Compare-and-swap updates of a plan's two refs, and the record protocol.

Every ref update here names the value it expects. A plan's refs move in this
order, never the other:

1. the notes ref, to a notes commit whose `Plan-Tip:` trailer names the plan
   tip it belongs with (new changeset commit, or the unchanged tip);
2. the plan ref, to that tip.

So a reader that reads the plan ref first and the notes ref second always has
a note for every commit it sees. A writer killed between (1) and (2) leaves a
notes tip "ahead" of the plan ref; the next writer or reader that takes the
write path finishes that record (moves the plan ref forward, again by
compare-and-swap) before doing its own. A record thus appears with its note or
not at all, and no lock outlives a process.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from dataclasses import dataclass

import pygit2

from .errors import BadInput, Conflict, Damaged, PlanNotFound
from .format import notes_ref, plan_ref, trailers
from .gitrepo import common_dir

MAX_ATTEMPTS = int(os.environ.get("GITPLAN_MAX_ATTEMPTS", "200"))


@dataclass(frozen=True, slots=True)
class PlanRefs:
    """The values of a plan's refs, read plan ref first."""

    plan_id: str
    tip: str
    notes_tip: str | None


def read_ref(repo: pygit2.Repository, name: str) -> str | None:
    try:
        ref = repo.references.get(name)
    except (pygit2.GitError, ValueError) as error:
        raise Damaged(f"cannot read {name}: {error}") from None
    if ref is None:
        return None
    return str(ref.target)


def read_plan_refs(repo: pygit2.Repository, plan_id: str) -> PlanRefs:
    tip = read_ref(repo, plan_ref(plan_id))
    if tip is None:
        raise PlanNotFound(f"no plan named {plan_id!r}")
    return PlanRefs(plan_id, tip, read_ref(repo, notes_ref(plan_id)))


class RefMoved(Exception):
    """Internal: the compare-and-swap lost; re-read and try again."""


def compare_and_swap(repo: pygit2.Repository, name: str, expected: str, new: str) -> None:
    """Move ref `name` from `expected` to `new`; RefMoved if it holds anything else."""
    ref = repo.references.get(name)
    if ref is None:
        raise RefMoved(f"{name} is gone")
    if str(ref.target) != expected:
        raise RefMoved(f"{name} moved")
    try:
        ref.set_target(pygit2.Oid(hex=new))
    except (pygit2.GitError, OSError) as error:  # moved meanwhile, or locked
        raise RefMoved(str(error)) from None


def create_ref(repo: pygit2.Repository, name: str, target: str) -> None:
    try:
        repo.references.create(name, pygit2.Oid(hex=target), force=False)
    except pygit2.AlreadyExistsError:
        raise BadInput(f"{name} already exists") from None
    except (pygit2.GitError, OSError) as error:
        raise Damaged(f"cannot create {name}: {error}") from None


def delete_plan_refs(repo: pygit2.Repository, plan_id: str) -> tuple[str, ...]:
    """Delete both refs of a plan under their locks; return the names deleted."""
    names = [plan_ref(plan_id), notes_ref(plan_id)]
    for attempt in range(MAX_ATTEMPTS):
        present = [name for name in names if read_ref(repo, name) is not None]
        if not present:
            return ()
        try:
            with repo.transaction() as txn:
                for name in present:
                    txn.lock_ref(name)
                for name in present:
                    txn.remove(name)
            _drop_reflogs(repo, names)
            return tuple(present)
        except (pygit2.GitError, OSError, KeyError):
            backoff(attempt)
    raise Conflict(f"could not delete the refs of plan {plan_id!r}: they stay locked")


def _drop_reflogs(repo: pygit2.Repository, names: list[str]) -> None:
    """git deletes a ref's reflog with the ref; libgit2's transaction does not."""
    for name in names:
        with contextlib.suppress(OSError):
            os.remove(common_dir(repo) / "logs" / name)


def backoff(attempt: int) -> None:
    """Sleep a little longer each attempt, with jitter, capped at 50 ms."""
    time.sleep(random.uniform(0, min(0.05, 0.0005 * (2 ** min(attempt, 8)))))


def _notes_plan_tip(repo: pygit2.Repository, notes_tip: str | None) -> str | None:
    if notes_tip is None:
        return None
    notes_commit = repo.get(notes_tip)
    if not isinstance(notes_commit, pygit2.Commit):
        return None
    return trailers(notes_commit.message).get("Plan-Tip")


def _one_step_ahead(repo: pygit2.Repository, refs: PlanRefs, wanted: str) -> bool:
    """Is `wanted` (a notes commit's Plan-Tip) a child of the plan tip: a half-done record?"""
    commit = repo.get(wanted)
    return isinstance(commit, pygit2.Commit) and [str(p) for p in commit.parent_ids] == [refs.tip]


def settle(repo: pygit2.Repository, plan_id: str) -> PlanRefs:
    """Read the plan's refs as a consistent pair, finishing a half-done record first.

    The pair is consistent when the notes commit's `Plan-Tip:` is the plan tip.
    One step ahead means a writer stopped between its two updates: move the plan
    ref forward for it. Anything else is a torn read (another writer finished
    in between our two reads): read again."""
    refs = read_plan_refs(repo, plan_id)
    for attempt in range(MAX_ATTEMPTS):
        wanted = _notes_plan_tip(repo, refs.notes_tip)
        if wanted is None or wanted == refs.tip:
            return refs
        if _one_step_ahead(repo, refs, wanted):
            try:
                compare_and_swap(repo, plan_ref(plan_id), refs.tip, wanted)
            except RefMoved:
                backoff(attempt)
        elif attempt > 20:
            return refs  # edited by hand, not by a writer: accept it as it is
        refs = read_plan_refs(repo, plan_id)
    return refs


def publish(repo: pygit2.Repository, refs: PlanRefs, new_notes: str, new_tip: str, new_number: int) -> None:
    """Move notes then plan ref; RefMoved if another writer got there first.

    Raises PlanNotFound when the plan was cancelled meanwhile."""
    if refs.notes_tip is None:
        raise Damaged(f"plan {refs.plan_id!r} has no notes ref; cancel and recreate it")
    try:
        compare_and_swap(repo, notes_ref(refs.plan_id), refs.notes_tip, new_notes)
    except RefMoved:
        if read_ref(repo, plan_ref(refs.plan_id)) is None:
            raise PlanNotFound(f"plan {refs.plan_id!r} was cancelled") from None
        raise
    if new_tip == refs.tip:
        return
    for attempt in range(MAX_ATTEMPTS):
        try:
            compare_and_swap(repo, plan_ref(refs.plan_id), refs.tip, new_tip)
            return
        except RefMoved:
            current = read_ref(repo, plan_ref(refs.plan_id))
        if current is None:
            raise PlanNotFound(f"plan {refs.plan_id!r} was cancelled")
        if current == refs.tip:  # the ref was only locked by a helper: try again
            backoff(attempt)
            continue
        if on_chain(repo, current, new_tip, new_number):
            return  # another writer finished our record for us (see settle())
        raise Damaged(f"plan {refs.plan_id!r} moved to {current} without changeset {new_tip}")
    raise busy(refs.plan_id)  # the notes ref is one step ahead: settle() will finish it


def busy(plan_id: str) -> Conflict:
    """The error for giving up after MAX_ATTEMPTS lost compare-and-swaps."""
    return Conflict(
        f"plan {plan_id!r} is busy: gave up after {MAX_ATTEMPTS} attempts while other "
        "writers kept moving it; nothing was written; try again"
    )


def on_chain(repo: pygit2.Repository, tip: str, commit: str, number: int) -> bool:
    """Is `commit` (changeset `number`) on the chain that ends at `tip`?"""
    current = repo.get(tip)
    while isinstance(current, pygit2.Commit):
        if str(current.id) == commit:
            return True
        found = trailers(current.message).get("Changeset", "")
        if not found.isdigit() or int(found) <= number:
            return False
        current = repo.get(str(current.parent_ids[0]))
    return False
