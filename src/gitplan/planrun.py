"""`git plan run`: a command in the plan's own worktree, recorded as one changeset.

The sequence, each step safe to kill:

1. read the plan's tip; refuse an unknown or applied plan (nothing written);
2. take a worktree slot of the plan and bring it to the tip (planworktree);
3. run the command there, streaming its output (runner);
4. find what it changed as `git status` and `git add` see it (snapshot);
5. record one changeset against the tip of step 1, through the same
   transaction as `record` (so concurrent runs rebase onto each other). A
   failed command is recorded without its edits (unless asked to keep them),
   with its exit status and stderr tail;
6. move the slot's HEAD to the new changeset and release the slot.

Killed before 5 publishes, the plan is as it was; after, the changeset is
complete. Either way the slot's `running` marker makes the next run reset it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

import pygit2

from . import faults, planworktree, refs, snapshot, watch
from .errors import BadInput, Conflict
from .model import ChangeSet, File, FileOnDisk, ToolInvocation
from .runner import Outcome, run_command

Record = Callable[[Mapping[str, File | FileOnDisk | None], ToolInvocation, str], ChangeSet]


@dataclass(frozen=True, slots=True)
class RunResult:
    """What `run` recorded, how the command ended, and where it ran."""

    changeset: ChangeSet
    outcome: Outcome
    worktree: str
    kept_changes: bool  # a failed command's edits were recorded (keep_changes_on_error)

    @property
    def exit_code(self) -> int:
        return self.outcome.status_code


@dataclass(frozen=True, slots=True)
class Command:
    """What to run and how to describe it in the record."""

    argv: tuple[str, ...]
    tool: str
    actor: str = "gitplan"
    arguments: Mapping[str, Any] | None = None
    prefix: str = ""  # where in the worktree to run it, as git's prefix ("src/")
    timeout: float | None = None
    keep_changes_on_error: bool = False
    tail_bytes: int = 4096
    watch: bool = True  # learn what changed from the kernel (watch.py), not from git status


def run_in_plan(
    repo: pygit2.Repository,
    plan_id: str,
    command: Command,
    record: Record,
    stdout: BinaryIO | None = None,
    stderr: BinaryIO | None = None,
) -> RunResult:
    if not command.argv:
        raise BadInput("no command given: put it after --, as in `git plan run PLAN --tool T -- make fmt`")
    if command.timeout is not None and command.timeout <= 0:
        raise BadInput("--timeout takes a number of seconds greater than 0")
    ToolInvocation(command.tool, command.actor)  # refuse a bad tool or actor before running anything
    current = refs.settle(repo, plan_id)
    if current.applied:
        raise BadInput(f"plan {plan_id!r} is already applied; record into a new plan")
    with planworktree.acquire(repo, plan_id) as slot:
        planworktree.prepare(repo, slot, current.tip)
        checkout = slot.checkout()
        cwd = os.path.join(checkout.workdir, command.prefix)
        if not os.path.isdir(cwd):
            raise BadInput(f"{command.prefix.rstrip('/')} is not a directory in plan {plan_id!r}")
        tree = str(repo[current.tip].peel(pygit2.Commit).tree_id)
        watcher = (
            watch.start(checkout.workdir, planworktree.directories(repo, slot, tree))
            if command.watch
            else None
        )
        try:
            outcome = run_command(
                command.argv,
                cwd,
                _environment(plan_id, checkout.workdir),
                timeout=command.timeout,
                tail_bytes=command.tail_bytes,
                stdout=stdout,
                stderr=stderr,
                pass_fds=[slot.lock_fd],
            )
        finally:
            touched = watcher.stop() if watcher is not None else None
        faults.point("run.command-finished")
        if touched is None:
            edits = snapshot.worktree_edits(repo, checkout=checkout, against_tree=tree)
        else:
            edits = snapshot.touched_edits(repo, checkout, tree, touched)
        keep = outcome.ok or command.keep_changes_on_error
        if not keep:
            planworktree.discard(repo, checkout, list(edits))
        recorded = edits if keep else {}
        invocation = ToolInvocation(
            tool=command.tool,
            actor=command.actor,
            arguments=dict(command.arguments or {}),
            summary="" if outcome.ok else f"failed ({outcome.error})",
            argv=list(command.argv),
            cwd=command.prefix.rstrip("/") or ".",
            started_at=outcome.started_at,
            finished_at=outcome.finished_at,
            duration_ms=outcome.duration_ms,
            status="ok" if outcome.ok else "error",
            exit_code=outcome.exit_code,
            signal=outcome.signal,
            error=outcome.error,
            stdout_tail=outcome.stdout_tail,
            stderr_tail=outcome.stderr_tail,
        )
        try:
            changeset = record(recorded, invocation, current.tip)
        except Conflict as conflict:
            raise Conflict(
                f"{conflict}; the command's changes are left in {checkout.workdir} until the plan's next run",
                conflict.paths,
            ) from None
        faults.point("run.recorded")
        if changeset.parent == current.tip:
            planworktree.adopt(repo, checkout, list(recorded), changeset.commit)
        else:  # rebased onto other writers' changesets: take theirs too
            planworktree.reset(repo, checkout, changeset.commit)
        planworktree.finish(slot)
        return RunResult(changeset, outcome, checkout.workdir, keep and not outcome.ok)


def _environment(plan_id: str, workdir: str) -> dict[str, str]:
    """The caller's environment, minus what would point git at the user's repository
    (so git in the command finds the plan's worktree), plus where it runs."""
    from .worktree import POINTERS

    environment = {k: v for k, v in os.environ.items() if k not in POINTERS}
    environment["GITPLAN_PLAN"] = plan_id
    environment["GITPLAN_WORKTREE"] = workdir
    return environment
