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
import itertools
import os
import random
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pygit2

from . import faults, permissions
from .errors import BadInput, Conflict, Damaged, PlanNotFound
from .format import NOTES_REF_PREFIX, PLAN_REF_PREFIX, notes_ref, plan_ref, trailers
from .gitrepo import common_dir
from .verify import verify_plan


def max_attempts() -> int:
    """How many lost compare-and-swaps a writer retries before it reports the plan busy."""
    return int(os.environ.get("GITPLAN_MAX_ATTEMPTS", "200"))


def held_lock_seconds() -> float:
    """How long a lock on a plan's ref may block a writer before the writer gives up and
    names it (`GITPLAN_HELD_LOCK_SECONDS`, 1 by default: a write holds one for
    milliseconds). Load tests raise it: a loaded machine can stop a live holder longer."""
    return float(os.environ.get("GITPLAN_HELD_LOCK_SECONDS", "1"))


def stale_lock_seconds() -> float:
    """How old a lock on a plan's ref must be to count as left by a killed writer.

    git itself never breaks a lock; a writer that is merely stopped (SIGSTOP, swap,
    a slow disk) may still hold one for a while, so only a lock no write could
    take that long over is removed. A younger lock that blocks for longer than
    held_lock_seconds() is named in the error instead."""
    return float(os.environ.get("GITPLAN_STALE_LOCK_SECONDS", "60"))


@dataclass(frozen=True, slots=True)
class PlanRefs:
    """The values of a plan's refs, read plan ref first; `applied` from the notes commit."""

    plan_id: str
    tip: str
    notes_tip: str | None
    applied: bool = False
    # Why the plan's state is unknown: its notes commit is not gitplan's (git notes wrote
    # it) and the plan record it holds cannot be read. Writers refuse such a plan.
    record_problem: str | None = None


def read_ref(repo: pygit2.Repository, name: str) -> str | None:
    try:
        ref = repo.references.get(name)
    except (pygit2.GitError, ValueError) as error:
        raise Damaged(f"cannot read {name}: {error}") from None
    if ref is None:
        return None
    if ref.type != pygit2.enums.ReferenceType.DIRECT:  # made by hand: `git symbolic-ref`
        raise Damaged(
            f"{name} is a symbolic ref (to {ref.target}), not a commit gitplan wrote; "
            f"`git symbolic-ref -d {name}` removes it"
        )
    return str(ref.target)


def loose_ref_names(repo: pygit2.Repository, prefix: str) -> list[str]:
    """The loose ref files under `prefix` (`refs/changesets/`), as ref names, lock files
    aside: libgit2's reference list leaves out one it cannot read (a corrupt file)."""
    top = common_dir(repo)
    names = []
    for directory, _, files in os.walk(top / prefix):
        for name in files:
            if not name.endswith(".lock"):
                names.append((Path(directory) / name).relative_to(top).as_posix())
    return names


def read_plan_refs(repo: pygit2.Repository, plan_id: str) -> PlanRefs:
    tip = read_ref(repo, plan_ref(plan_id))
    if tip is None:
        raise PlanNotFound(f"no plan named {plan_id!r}{incomplete_hint(repo, plan_id)}")
    return PlanRefs(plan_id, tip, read_ref(repo, notes_ref(plan_id)))


def incomplete_hint(repo: pygit2.Repository, plan_id: str) -> str:
    """What to say of a plan whose notes ref alone exists (a create or cancel interrupted
    between its two refs), or ""."""
    if read_ref(repo, plan_ref(plan_id)) is not None or read_ref(repo, notes_ref(plan_id)) is None:
        return ""
    return (
        f": only {notes_ref(plan_id)} exists (a create or cancel was interrupted); "
        f"`git plan cancel {plan_id}` removes it"
    )


def read_refs_if_any(repo: pygit2.Repository, plan_id: str) -> PlanRefs | None:
    """Both refs as they are, also when only the notes ref exists; None when neither does."""
    tip = read_ref(repo, plan_ref(plan_id))
    notes_tip = read_ref(repo, notes_ref(plan_id))
    if tip is None and notes_tip is None:
        return None
    return PlanRefs(plan_id, tip or "", notes_tip)


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
        refuse_held_lock(repo, name)
        raise RefMoved(str(error)) from None
    widen_ref(repo, name)


def widen_ref(repo: pygit2.Repository, name: str) -> None:
    """Give a ref libgit2 wrote (or deleted), its reflog, their directories and the
    packed-refs it may have rewritten the permissions of a shared repository (libgit2
    ignores core.sharedRepository)."""
    home = common_dir(repo) if name.startswith("refs/") else Path(repo.path)  # (HEAD is the worktree's)
    for top in (home, home / "logs"):
        permissions.widen(top / name)
    permissions.widen(common_dir(repo) / "packed-refs")


def lock_path(repo: pygit2.Repository, name: str) -> Path:
    return common_dir(repo) / f"{name}.lock"


def lock_age(repo: pygit2.Repository, name: str) -> float | None:
    """Seconds since the lock of ref `name` was written (below 0 when it is dated in the
    future), or None when there is none."""
    try:
        return time.time() - lock_path(repo, name).stat().st_mtime
    except FileNotFoundError:
        return None


def clear_stale_lock(repo: pygit2.Repository, name: str) -> bool:
    """Remove the lock of ref `name` if a killed writer left it; True if one was removed.

    git and gitplan hold a ref's lock for the moment it takes to write one line;
    a lock older than stale_lock_seconds() has no live holder. Only gitplan's own
    refs are unlocked this way, never the user's."""
    assert name.startswith((PLAN_REF_PREFIX, NOTES_REF_PREFIX)), name
    age = lock_age(repo, name)
    if age is None or age < stale_lock_seconds():
        return False
    with contextlib.suppress(FileNotFoundError):
        lock_path(repo, name).unlink()
    return True


def refuse_held_lock(repo: pygit2.Repository, name: str) -> None:
    """Remove a stale lock on `name`; raise Conflict naming a lock older than
    held_lock_seconds() (a second by default)."""
    if clear_stale_lock(repo, name):
        return
    age = lock_age(repo, name)
    if age is not None and age >= held_lock_seconds():
        raise _held(repo, name)


def _held(repo: pygit2.Repository, name: str) -> Conflict:
    return Conflict(
        f"{lock_path(repo, name)} stayed locked: another git or gitplan process is writing "
        f"{name}; if none is running, remove the lock and try again"
    )


def wait_until_unlocked(repo: pygit2.Repository, name: str) -> None:
    """Return once ref `name` has no lock file: a writer holds one for the moment it takes
    to write a line. A stale lock is removed; one that stays longer than held_lock_seconds()
    (a second by default) is Conflict, counted on our clock, since a lock's own time may be
    off (one dated in the future)."""
    started, bound = time.monotonic(), held_lock_seconds()
    for attempt in itertools.count():
        if not lock_path(repo, name).exists():
            return
        refuse_held_lock(repo, name)
        if time.monotonic() - started >= bound:
            raise _held(repo, name)
        backoff(attempt)


def held_locks(repo: pygit2.Repository, plan_id: str) -> list[str]:
    """The lock files that block a plan's refs now, for error messages."""
    names = (plan_ref(plan_id), notes_ref(plan_id))
    return [str(lock_path(repo, name)) for name in names if lock_path(repo, name).exists()]


def create_ref(repo: pygit2.Repository, name: str, target: str) -> None:
    """Create ref `name`; BadInput if it exists (a compare-and-swap against "absent")."""
    for _ in range(2):
        try:
            repo.references.create(name, pygit2.Oid(hex=target), force=False)
            widen_ref(repo, name)
            return
        except pygit2.AlreadyExistsError:
            raise BadInput(f"{name} already exists") from None
        except (pygit2.GitError, OSError) as error:
            if not lock_path(repo, name).exists():
                raise Damaged(f"cannot create {name}: {error}") from None
            if not clear_stale_lock(repo, name):
                break
    raise Conflict(
        f"{lock_path(repo, name)} is held: another git or gitplan process is writing {name}; "
        "if none is running, remove the lock and try again"
    )


def delete_plan_refs(repo: pygit2.Repository, expected: PlanRefs) -> tuple[str, ...]:
    """Delete both refs of a plan if they still hold `expected`; return the names deleted.

    Both refs are locked, re-read under their locks and compared with what the
    caller read: a writer that published in between makes this raise RefMoved
    (the caller reads again), so a changeset that cancel did not see is never
    deleted behind its writer's back. An empty `expected.tip` stands for a plan
    whose create was killed between its two refs (only the notes ref exists)."""
    plan_id = expected.plan_id
    wanted = {plan_ref(plan_id): expected.tip or None, notes_ref(plan_id): expected.notes_tip}
    present = [name for name, value in wanted.items() if value is not None]
    _refuse_locked_packed_refs(repo, present)
    try:
        with repo.transaction() as txn:
            for name in present:
                txn.lock_ref(name)
            faults.point("refs.delete-locked")
            for name, value in wanted.items():
                if read_ref(repo, name) != value:
                    raise RefMoved(f"{name} moved")
            for name in present:
                txn.remove(name)
    except (pygit2.GitError, OSError, KeyError) as error:
        for name in present:
            refuse_held_lock(repo, name)
        raise RefMoved(str(error)) from None
    left = [name for name in present if read_ref(repo, name) is not None]
    if left:  # libgit2 removed the loose file but could not rewrite packed-refs
        _refuse_locked_packed_refs(repo, left)
        raise Conflict(f"{', '.join(left)} could not be deleted; nothing was pruned, try again")
    _drop_reflogs(repo, list(wanted))
    for name in wanted:  # the directories libgit2 made for its locks, a rewritten packed-refs
        widen_ref(repo, name)
    return tuple(present)


def _refuse_locked_packed_refs(repo: pygit2.Repository, names: list[str]) -> None:
    """Conflict while another process holds `packed-refs.lock`: the packed-refs it is
    writing (`git pack-refs --all`, `git gc`) may hold `names`, which would come back once
    it is in place, naming what cancel pruned. git update-ref -d refuses then too."""
    lock = common_dir(repo) / "packed-refs.lock"
    if lock.exists():
        raise Conflict(
            f"{lock} is held: another git process is rewriting packed-refs, which may hold "
            f"{' and '.join(names)}; nothing was changed. If no git process is running, remove "
            "the lock and try again"
        )


def set_plan_refs(
    repo: pygit2.Repository,
    plan_id: str,
    expected: tuple[str | None, str | None],
    new: tuple[str, str | None],
) -> None:
    """Move both refs of a plan (tip, notes tip) from `expected` to `new` (fetch).

    The notes ref moves first and the plan ref second, each by compare-and-swap,
    the order of every record (above): a crash in between leaves notes ahead of
    the plan ref, which readers handle, never a commit without its note. When the
    plan ref has moved meanwhile, the notes ref is put back and Conflict raised."""
    names = (plan_ref(plan_id), notes_ref(plan_id))
    (old_tip, old_notes), (new_tip, new_notes) = expected, new

    def move(name: str, old: str | None, value: str) -> None:
        if old == value:
            return
        if old is None:
            create_ref(repo, name, value)
        else:
            compare_and_swap(repo, name, old, value)

    try:
        if new_notes is not None:
            move(names[1], old_notes, new_notes)
    except (RefMoved, BadInput) as error:
        raise Conflict(
            f"plan {plan_id!r} changed here meanwhile ({error}); nothing was changed, try again"
        ) from None
    try:
        move(names[0], old_tip, new_tip)
    except (RefMoved, BadInput) as error:
        if new_notes is not None and old_notes is not None and old_notes != new_notes:
            with contextlib.suppress(RefMoved):
                compare_and_swap(repo, names[1], new_notes, old_notes)
        raise Conflict(
            f"plan {plan_id!r} changed here meanwhile ({error}); nothing was changed, try again"
        ) from None


def swap_plan_refs(repo: pygit2.Repository, expected: PlanRefs, tip: str, notes_tip: str) -> None:
    """Move both refs of a plan from `expected` to (`tip`, `notes_tip`) under both locks.

    For plan surgery (rewind, drop, undo), whose new tip is not a child of the old
    one: moved one at a time, the pair would look like a torn read to other writers
    and, if the process died between the two, stay inconsistent. Both refs are
    locked, re-read and compared with `expected`; RefMoved if either moved or is
    locked by another writer (the caller reads again and decides)."""
    plan_id = expected.plan_id
    names = (plan_ref(plan_id), notes_ref(plan_id))
    try:
        with repo.transaction() as txn:
            for name in names:
                txn.lock_ref(name)
            faults.point("refs.swap-locked")
            for name, value in zip(names, (expected.tip, expected.notes_tip), strict=True):
                if read_ref(repo, name) != value:
                    raise RefMoved(f"{name} moved")
            for name, value in zip(names, (tip, notes_tip), strict=True):
                txn.set_target(name, pygit2.Oid(hex=value), message=f"gitplan: {plan_id}")
    except (pygit2.GitError, OSError, KeyError) as error:
        for name in names:
            refuse_held_lock(repo, name)
        raise RefMoved(str(error)) from None
    for name in names:
        widen_ref(repo, name)


def _drop_reflogs(repo: pygit2.Repository, names: list[str]) -> None:
    """git deletes a ref's reflog with the ref; libgit2's transaction does not."""
    for name in names:
        with contextlib.suppress(OSError):
            os.remove(common_dir(repo) / "logs" / name)


def backoff(attempt: int) -> None:
    """Sleep a little longer each attempt, with jitter, capped at 50 ms."""
    time.sleep(random.uniform(0, min(0.05, 0.0005 * (2 ** min(attempt, 8)))))


def _notes_trailers(repo: pygit2.Repository, notes_tip: str | None) -> dict[str, str]:
    if notes_tip is None:
        return {}
    notes_commit = repo.get(notes_tip)
    if notes_commit is None:
        return {}  # pruned by a cancel under us: the caller finds the plan gone
    if not isinstance(notes_commit, pygit2.Commit):
        raise Damaged(
            f"the notes ref points at {notes_tip}, a {notes_commit.type_str}, not a notes commit; "
            "cancel the plan, or point the ref back with git update-ref"
        )
    return trailers(notes_commit.message)


def _one_step_ahead(repo: pygit2.Repository, refs: PlanRefs, wanted: str) -> bool:
    """Is `wanted` (a notes commit's Plan-Tip) a child of the plan tip: a half-done record?"""
    commit = repo.get(wanted)
    return isinstance(commit, pygit2.Commit) and [str(p) for p in commit.parent_ids] == [refs.tip]


def pending_tip(repo: pygit2.Repository, refs: PlanRefs) -> str | None:
    """The changeset a record interrupted between its two refs left for the next writer
    to put on the plan ref (the notes are one step ahead, see settle()), or None."""
    wanted = _notes_trailers(repo, refs.notes_tip).get("Plan-Tip")
    if wanted is None or wanted == refs.tip or not _one_step_ahead(repo, refs, wanted):
        return None
    return wanted


def settle(repo: pygit2.Repository, plan_id: str) -> PlanRefs:
    """Read the plan's refs as a consistent pair, finishing a half-done record first.

    The pair is consistent when the notes commit's `Plan-Tip:` is the plan tip.
    One step ahead means a writer stopped between its two updates: move the plan
    ref forward for it. Anything else is a torn read (another writer finished
    in between our two reads): read again."""
    refs = read_plan_refs(repo, plan_id)
    attempt = 0
    while True:
        found = _notes_trailers(repo, refs.notes_tip)
        wanted = found.get("Plan-Tip")
        consistent = wanted is None or wanted == refs.tip
        if consistent or (attempt > 20 and not _one_step_ahead(repo, refs, wanted or "")):
            # Consistent, or edited by hand, not by a writer: accept it as it is.
            if "Plan-Id" not in found and refs.notes_tip is not None and refs.tip:
                return _state_from_record(repo, refs)
            return replace(refs, applied=found.get("Plan-State") == "applied")
        if _one_step_ahead(repo, refs, wanted or ""):
            # Another writer's commit goes on the plan only once it passes the checks a
            # fetched plan gets: a notes ref set by hand must not smuggle a path in.
            verify_plan(repo, plan_id, wanted or "", refs.notes_tip, trusted=refs.tip)
            try:
                compare_and_swap(repo, plan_ref(plan_id), refs.tip, wanted or "")
            except RefMoved:
                backoff(attempt)
        attempt += 1
        if attempt >= max_attempts():
            raise busy(plan_id, repo)
        refs = read_plan_refs(repo, plan_id)


def _state_from_record(repo: pygit2.Repository, refs: PlanRefs) -> PlanRefs:
    """`refs` with the plan's state, for a notes commit gitplan did not write (`git notes`
    edited the notes): its message says nothing of it, so the plan record does. Read only
    then: it walks back to the plan root."""
    from .chain import plan_record, root_of  # (chain reads plans through this module)
    from .notes import notes_tree

    try:
        record, problem = plan_record(
            repo, notes_tree(repo, refs.notes_tip), root_of(repo, refs.plan_id, refs.tip)
        )
    except Damaged as error:
        record, problem = None, str(error)
    if record is None:
        return replace(refs, record_problem=problem)
    return replace(refs, applied=record.state == "applied")


def refuse_applied(refs: PlanRefs) -> PlanRefs:
    """The refs of a plan that can take changesets: an applied plan is refused, and so is
    one whose state cannot be known (Damaged)."""
    if refs.record_problem is not None:
        raise Damaged(
            f"plan {refs.plan_id!r}: {refs.record_problem}, so whether it is open or applied cannot be "
            "told; it takes no changes (cancel it, or put its notes back with git update-ref)"
        )
    if refs.applied:
        raise BadInput(f"plan {refs.plan_id!r} is already applied; record into a new plan")
    return refs


def publish_notes(repo: pygit2.Repository, refs: PlanRefs, new_notes: str) -> None:
    """The first half of a publish: move the notes ref; RefMoved if another writer got there first.

    Raises PlanNotFound when the plan was cancelled meanwhile. Until this
    returns, nothing that was staged is referenced by anything."""
    if refs.notes_tip is None:
        if read_ref(repo, plan_ref(refs.plan_id)) is None:
            raise PlanNotFound(f"plan {refs.plan_id!r} was cancelled")
        raise Damaged(f"plan {refs.plan_id!r} has no notes ref; cancel and recreate it")
    faults.point("refs.before-notes")
    try:
        compare_and_swap(repo, notes_ref(refs.plan_id), refs.notes_tip, new_notes)
    except RefMoved:
        if read_ref(repo, plan_ref(refs.plan_id)) is None:
            raise PlanNotFound(f"plan {refs.plan_id!r} was cancelled") from None
        raise


def publish_tip(repo: pygit2.Repository, refs: PlanRefs, new_tip: str, new_number: int) -> None:
    """The second half: move the plan ref to the changeset the new notes commit names.

    Raises PlanNotFound when the plan was cancelled between the two halves."""
    if new_tip == refs.tip:
        return
    faults.point("refs.between-notes-and-plan")
    for attempt in range(max_attempts()):
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
    # The notes ref is one step ahead: the changeset is recorded, and settle() finishes it.
    # Saying "busy, try again" here would have the caller record it a second time.
    locks = ", ".join(held_locks(repo, refs.plan_id))
    why = f"{locks} stayed locked" if locks else "other writers kept moving it"
    when = (
        ", once the lock is gone (remove the lock if no git or gitplan process is running)" if locks else ""
    )
    raise Conflict(
        f"changeset {new_number} of plan {refs.plan_id!r} is recorded, but {why}, so "
        f"{plan_ref(refs.plan_id)} still names the changeset before it until the next record or "
        f"apply of the plan moves it{when}. Do not record it again"
    )


def busy(plan_id: str, repo: pygit2.Repository | None = None) -> Conflict:
    """The error for giving up after max_attempts() lost compare-and-swaps."""
    locks = held_locks(repo, plan_id) if repo is not None else []
    if locks:
        return Conflict(
            f"plan {plan_id!r} is busy: {', '.join(locks)} stayed locked; if no git or gitplan "
            "process is running, remove it and try again"
        )
    return Conflict(
        f"plan {plan_id!r} is busy: gave up after {max_attempts()} attempts while other "
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
