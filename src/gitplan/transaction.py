"""The one write transaction of a plan: stage, check, write one pack, publish, retry.

Recording a changeset and marking a plan applied (and, later, fetching one)
are the same sequence, written once here:

1. read the plan's refs as a consistent pair (refs.settle);
2. `prepare` them: run every check and stage every object in memory; a
   refusal raises here, before anything is written;
3. write the staged objects as one pack registered to the plan (packs.py);
4. publish: notes ref, then plan ref, each a compare-and-swap (refs.publish_notes,
   refs.publish_tip);
5. lost the race: discard our pack (nothing references it) and start again
   from 1; the plan was cancelled meanwhile: discard it and say "not found".

Internal retry signals (refs.RefMoved) never leave this module. A writer
that loses to cancel removes only its own pack, which it can prove nobody
references; it never walks the repository.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import pygit2

from . import faults, packs, refs
from .errors import Damaged, GitPlanError, PlanNotFound
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
) -> ResultT:
    """Run `prepare` on the plan's current refs and publish what it staged, retrying on races."""
    for attempt in range(refs.max_attempts()):
        current = refs.settle(repo, plan_id)
        faults.point("transaction.refs-read")
        try:
            prepared = prepare(current)
        except Damaged:
            if refs.read_refs_if_any(repo, plan_id) is None:  # cancelled while we read it
                raise PlanNotFound(f"plan {plan_id!r} was cancelled") from None
            raise
        pack = packs.write(repo, plan_id, prepared.staging)
        faults.point("transaction.before-publish")
        try:
            refs.publish_notes(repo, current, prepared.notes)
        except refs.RefMoved:
            _discard(repo, plan_id, pack)  # nothing references it yet
            refs.backoff(attempt)
            continue
        except GitPlanError:
            _discard(repo, plan_id, pack)
            raise
        # From here the notes ref names our objects: they are the plan's (or, if the
        # plan is cancelled now, cancel prunes them with the plan's other packs).
        try:
            refs.publish_tip(repo, current, prepared.tip, prepared.number)
        except PlanNotFound:
            _discard(repo, plan_id, pack)  # cancel took the plan between our two refs
            raise
        faults.point("transaction.published")
        packs.consolidate(repo, plan_id)
        return prepared.result
    raise refs.busy(plan_id, repo)


def _discard(repo: pygit2.Repository, plan_id: str, pack: packs.OwnedPack) -> None:
    packs.discard(repo, plan_id, pack)
