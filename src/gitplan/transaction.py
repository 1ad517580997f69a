"""The one write transaction of a plan: stage, check, write one pack, publish, retry.

Recording a changeset and marking a plan applied (and, later, fetching one)
are the same sequence, written once here:

1. read the plan's refs as a consistent pair (refs.settle);
2. `prepare` them: run every check and stage every object in memory; a
   refusal raises here, before anything is written;
3. write the staged objects as one pack registered to the plan (packs.py); when
   the plan's newest packs are due to be merged, the pack takes their objects in;
4. publish: notes ref, then plan ref, each a compare-and-swap (refs.publish_notes,
   refs.publish_tip);
5. published: remove the packs ours took in. Lost the race: discard our pack
   (nothing references it) and start again from 1. The plan was cancelled
   meanwhile: discard it and say "not found".

Plan surgery (rewind, drop, undo) uses `swap`: the same stage-check-pack
sequence, but both refs move at once under both locks (refs.swap_plan_refs),
because its new tip is not a child of the old one; and a plan that another
writer moved meanwhile is a Conflict, not a retry, since the surgery was asked
of the plan as it was.

Internal retry signals (refs.RefMoved) never leave this module. A writer
that loses to cancel removes only its own pack, which it can prove nobody
references; it never walks the repository.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

import pygit2

from . import chain as chains
from . import faults, packs, refs
from .errors import BadInput, Conflict, Damaged, GitPlanError, PlanNotFound
from .format import notes_ref, plan_ref
from .objects import Staging

ResultT = TypeVar("ResultT")


@dataclass(frozen=True, slots=True)
class Prepared(Generic[ResultT]):
    """What a writer wants published: staged objects, the two new ref values, its result."""

    staging: Staging
    notes: str  # the new notes commit
    tip: str  # the plan tip afterwards (the current tip when only the notes change)
    number: int  # the changeset number of `tip`
    result: ResultT


def write(
    repo: pygit2.Repository,
    plan_id: str,
    prepare: Callable[[refs.PlanRefs], Prepared[ResultT]],
    leased: bool = False,
) -> ResultT:
    """Run `prepare` on the plan's current refs and publish what it staged, retrying on races.
    `leased`: the caller holds the plan's publish gate alone (an apply, or a recovery,
    marking its plan applied)."""
    budget = packs.pack_budget(repo)  # read once: the fold and the consolidation both ask
    previous: refs.PlanRefs | None = None  # the refs the last attempt read: this record's plan
    for attempt in range(refs.max_attempts()):
        current = refs.settle(repo, plan_id)
        if (
            previous is not None
            and current.tip != previous.tip
            and not chains.same_plan(repo, plan_id, previous.tip, current.tip)
        ):
            raise _made_again(plan_id)
        previous = current  # the same plan: a retry walks back only over what came since
        faults.point("transaction.refs-read")
        try:
            prepared = prepare(current)
        except Damaged:
            now = refs.read_refs_if_any(repo, plan_id)
            if now is None:  # cancelled while we read it
                raise PlanNotFound(f"plan {plan_id!r} was cancelled") from None
            if now.tip != current.tip:  # it moved (or was made again) while we read it
                continue
            raise
        # The merges that consolidation would start after this write are done by it.
        folding = packs.to_fold(repo, plan_id, len(prepared.staging), budget)
        written = packs.write(repo, plan_id, prepared.staging, folding, prepared.notes)
        pack = written.pack
        faults.point("transaction.before-publish")
        with not_while_applied(repo, plan_id, leased):
            try:
                # Published notes are the record's commit point (a reader finishes the plan
                # ref, refs.settle): a lock on either ref held by hand, or left by a killed
                # git, is waited out or refused now, while nothing references the pack.
                refs.wait_until_unlocked(repo, plan_ref(plan_id))
                refs.wait_until_unlocked(repo, notes_ref(plan_id))
                refs.publish_notes(repo, current, prepared.notes)
                moved = False
            except refs.RefMoved:
                _discard(repo, plan_id, pack)  # nothing references it yet
                moved = True
            except GitPlanError:
                _discard(repo, plan_id, pack)
                raise
            # From here the notes ref names our objects: they are the plan's (or, if the
            # plan is cancelled now, cancel prunes them with the plan's other packs).
            try:
                if not moved:
                    refs.publish_tip(repo, current, prepared.tip, prepared.number)
            except PlanNotFound:
                _discard(repo, plan_id, pack)  # cancel took the plan between our two refs
                raise
        if moved:
            refs.backoff(attempt)
            continue
        packs.published(repo, plan_id, pack)
        faults.point("transaction.published")
        # Housekeeping: the record has landed, so a failure here must not report it failed
        # (an agent would record it again). What is left undone, the next record or
        # `git plan gc` does.
        with contextlib.suppress(OSError):
            faults.point("transaction.housekeeping")
            packs.retire(repo, plan_id, written.folded)  # the new pack holds their objects too
            packs.consolidate(repo, plan_id, budget)
        return prepared.result
    raise refs.busy(plan_id, repo)


@contextlib.contextmanager
def not_while_applied(repo: pygit2.Repository, plan_id: str, leased: bool = False) -> Iterator[None]:
    """Held while a writer publishes: the plan's publish gate, shared with its other
    writers (packs.publish_gate). An apply holds it alone from before it reads the plan's
    refs until it has marked the plan applied or put everything back, so a changeset can
    neither land unapplied in a plan marked applied, nor be taken off (surgery) under an
    apply that applies it. A writer that finds an apply running waits for it, then
    learns from the compare-and-swap whether the plan moved: applied (refused), or left
    open by a failed apply. `leased`: the caller is the apply."""
    if leased:
        yield
        return
    with packs.publish_gate(repo, plan_id, blocking=False) as free:
        if free:
            yield
            return
    faults.point("transaction.apply-running")
    with packs.publish_gate(repo, plan_id):
        yield


def _made_again(plan_id: str) -> PlanNotFound:
    """A writer's plan was cancelled, and a new plan made under its name, while it wrote:
    its changeset was for the plan that is gone, never for the new one."""
    return PlanNotFound(
        f"plan {plan_id!r} was cancelled while this changeset was being recorded (the plan of "
        "that name now is another, made since); nothing was recorded"
    )


def swap(
    repo: pygit2.Repository,
    plan_id: str,
    prepare: Callable[[refs.PlanRefs], Prepared[ResultT]],
    expected: tuple[str, str | None] | None = None,
) -> tuple[refs.PlanRefs, Prepared[ResultT]]:
    """Replace both refs of a plan with what `prepare` staged; Conflict if the plan moved.

    `expected` is the (tip, notes tip) the caller requires; None takes the first
    values read. A lost compare-and-swap whose refs still hold those values (a
    writer only held a lock) is retried; any other move raises Conflict, with
    nothing written. Returns the refs replaced and what was published."""
    for attempt in range(refs.max_attempts()):
        current = refs.settle(repo, plan_id)
        if expected is None:
            expected = (current.tip, current.notes_tip)
        if (current.tip, current.notes_tip) != expected:
            raise Conflict(
                f"plan {plan_id!r} moved meanwhile (its tip is now {current.tip}); "
                "nothing was changed: look at it again and retry"
            )
        faults.point("transaction.swap-read")
        prepared = prepare(current)
        pack = (
            packs.write(repo, plan_id, prepared.staging, notes=prepared.notes).pack
            if len(prepared.staging)
            else None
        )
        faults.point("transaction.before-swap")
        try:
            with not_while_applied(repo, plan_id):
                refs.swap_plan_refs(repo, current, prepared.tip, prepared.notes)
        except refs.RefMoved:
            if pack is not None:
                _discard(repo, plan_id, pack)  # nothing references it yet
            refs.backoff(attempt)
            continue
        except GitPlanError:
            if pack is not None:
                _discard(repo, plan_id, pack)
            raise
        if pack is not None:
            packs.published(repo, plan_id, pack)
            packs.consolidate(repo, plan_id)
        return current, prepared
    raise refs.busy(plan_id, repo)


def create(repo: pygit2.Repository, plan_id: str, base: str, staging: Staging, tip: str, notes: str) -> None:
    """Publish a new plan (create, branch): its staged objects as one pack, then its two refs.

    The notes ref first, as every record does: a plan ref without its records
    would be visible. A plan of that name that appeared meanwhile is "already
    exists", and our pack is discarded (nothing references it). `base` is the
    commit the plan starts from ("" for a project's first commit)."""
    claim_name(repo, plan_id)
    # Held until both refs exist: a cancel must not take the plan, notes ref only, for one
    # whose create was killed halfway (refs.delete_plan_refs) while this one is running.
    with packs.exclusive(repo, f"create-{plan_id}", blocking=False) as mine:
        if not mine:
            raise BadInput(f"plan {plan_id!r} already exists (another process is creating it)")
        # Under the prune lock: a cancel either has not looked yet (and sees this base), or
        # has finished; had it pruned the base (the tip of a plan it cancelled), say so.
        with packs.exclusive(repo, "prune"):
            packs.record_base(repo, plan_id, base or "none")
            if base and not packs.on_disk(repo, bytes.fromhex(base)):
                packs.forget(repo, plan_id)
                raise PlanNotFound(
                    f"the base {base} is gone: a cancel removed it meanwhile (the tip of a plan?); "
                    "nothing was created"
                )
        pack = packs.write(repo, plan_id, staging, notes=notes).pack
        try:
            refs.create_ref(repo, notes_ref(plan_id), notes)
        except GitPlanError as error:
            _discard(repo, plan_id, pack)
            if isinstance(error, BadInput):
                raise BadInput(f"plan {plan_id!r} already exists") from None
            raise
        faults.point("create.between-refs")
        refs.create_ref(repo, plan_ref(plan_id), tip)
        packs.published(repo, plan_id, pack)


def claim_name(repo: pygit2.Repository, plan_id: str) -> None:
    """Before a plan of this name is made here: set aside the registry a cancelled plan of
    the name left (packs.set_aside), unless the plan exists, and drop its undo journal (the
    new plan has nothing to undo). Under the prune lock, so that no cancel or gc is
    reading it."""
    from .surgery import forget

    if not packs.cancelled_leftover(repo, plan_id):
        return
    faults.point("create.claiming")
    with packs.exclusive(repo, "prune"):
        if refs.read_refs_if_any(repo, plan_id) is None and packs.cancelled_leftover(repo, plan_id):
            packs.set_aside(repo, plan_id)
            forget(repo, plan_id)


def _discard(repo: pygit2.Repository, plan_id: str, pack: packs.OwnedPack) -> None:
    packs.discard(repo, plan_id, pack)
