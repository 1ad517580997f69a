"""The verified-tip mark of each plan: the refs last found safe (verify.py).

`<git-common-dir>/gitplan/verified/<plan>` holds `<tip> <notes tip> <notes>`: the plan
whose refs were those passed verify_plan, and its notes tree then held that many notes.
A check of the plan starts from there (verify_plan's `trusted`), so it reads only the
changesets recorded since: status and list keep the mark as they check, and an apply
checks from it. A record that adds a changeset to the marked tip moves the mark on when
its changeset passes the same checks (it wrote that changeset and its note itself, and
checked its paths before anything was written), so a plan recorded here is not walked
again at all. A mark that cannot be read, or whose tip is not an ancestor of the plan's
tip any more (surgery), counts as none: everything is checked.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import pygit2

from . import statefile
from .packs import state_dir
from .verify import verify_plan


@dataclass(frozen=True, slots=True)
class Mark:
    """Refs found safe, and how many notes their notes tree held (None: not said, as an
    older gitplan wrote it; the notes are then checked whole)."""

    tip: str
    notes_tip: str
    notes: int | None


def mark_path(repo: pygit2.Repository, plan_id: str) -> Path:
    return state_dir(repo) / "verified" / plan_id


def read_mark(repo: pygit2.Repository, plan_id: str) -> Mark | None:
    """The plan's mark, or None (none, or not one a gitplan wrote whole)."""
    with contextlib.suppress(OSError, ValueError):
        with open(mark_path(repo, plan_id), encoding="utf-8") as handle:
            tip, notes_tip, *rest = handle.read().split()
        return Mark(tip, notes_tip, int(rest[0]) if rest else None)
    return None


def check(
    repo: pygit2.Repository,
    plan_id: str,
    tip: str,
    notes_tip: str | None,
    mark: Mark | None,
    keep: bool = True,
) -> None:
    """Unsafe if the plan whose refs are (`tip`, `notes_tip`) is not safe; only what came
    after its `mark` (read_mark) is read. With `keep`, the refs checked become the mark
    (not for refs that do not agree yet: a record interrupted between its two refs)."""
    if mark is not None and (mark.tip, mark.notes_tip) == (tip, notes_tip):
        return
    count = verify_plan(
        repo,
        plan_id,
        tip,
        notes_tip,
        trusted=mark.tip if mark else None,
        trusted_notes=mark.notes_tip if mark else None,
        trusted_count=mark.notes if mark else None,
    )
    if keep and notes_tip is not None:
        _keep(repo, plan_id, Mark(tip, notes_tip, count))


def extend(repo: pygit2.Repository, plan_id: str, before: tuple[str, str], after: tuple[str, str]) -> None:
    """A record published `after` (its changeset and notes commit) on top of `before`, one
    note more, and its changeset passed verify's checks: if `before` is the mark, `after`
    is. (A mark another writer moved meanwhile is left as it is: the next check reads the
    rest.)"""
    mark = read_mark(repo, plan_id)
    if mark is not None and mark.notes is not None and (mark.tip, mark.notes_tip) == before:
        _keep(repo, plan_id, Mark(*after, mark.notes + 1))


def forget(repo: pygit2.Repository, plan_id: str) -> None:
    with contextlib.suppress(OSError):
        mark_path(repo, plan_id).unlink()


def _keep(repo: pygit2.Repository, plan_id: str, mark: Mark) -> None:
    statefile.keep(mark_path(repo, plan_id), f"{mark.tip} {mark.notes_tip} {mark.notes}\n".encode())
