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

import contextlib
import os
import shutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

import pygit2

from . import faults, planworktree, refs, snapshot, trees, watch, worktree
from .errors import BadInput, Conflict, PlanNotFound
from .model import ChangeSet, File, FileOnDisk, ToolInvocation
from .redact import Redactor
from .runner import Outcome, cut_tail, run_command

Record = Callable[[Mapping[str, File | FileOnDisk | None], ToolInvocation, str], ChangeSet]


@dataclass(frozen=True, slots=True)
class RunResult:
    """What `run` recorded, how the command ended, and where it ran."""

    changeset: ChangeSet
    outcome: Outcome
    worktree: str
    kept_changes: bool  # a failed command's edits were recorded (keep_changes_on_error)
    skipped: tuple[str, ...] = ()  # paths it made that gitplan cannot record (left out)

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


# How many runs this process has under way (a server waits for them as it goes away).
_under_way = 0
_under_way_changed = threading.Condition()


def wait_for_runs(timeout: float) -> bool:
    """Wait until no run of this process is under way, at most `timeout` seconds."""
    with _under_way_changed:
        return _under_way_changed.wait_for(lambda: _under_way == 0, timeout)


def run_in_plan(
    repo: pygit2.Repository,
    plan_id: str,
    command: Command,
    record: Record,
    redactor: Redactor,
    stdout: BinaryIO | None = None,
    stderr: BinaryIO | None = None,
) -> RunResult:
    global _under_way
    with _under_way_changed:
        _under_way += 1
    try:
        return _run_in_plan(repo, plan_id, command, record, redactor, stdout, stderr)
    finally:
        with _under_way_changed:
            _under_way -= 1
            _under_way_changed.notify_all()


def _run_in_plan(
    repo: pygit2.Repository,
    plan_id: str,
    command: Command,
    record: Record,
    redactor: Redactor,
    stdout: BinaryIO | None,
    stderr: BinaryIO | None,
) -> RunResult:
    if not command.argv:
        raise BadInput("no command given: put it after --, as in `git plan run PLAN --tool T -- make fmt`")
    if command.timeout is not None and command.timeout <= 0:
        raise BadInput("--timeout takes a number of seconds greater than 0")
    ToolInvocation(command.tool, command.actor)  # refuse a bad tool or actor before running anything
    environment = _environment(plan_id)
    program = command.argv[0]
    if "/" not in program and shutil.which(program, path=environment.get("PATH")) is None:
        raise BadInput(f"cannot run {program!r}: no such program")
    if program.startswith("/") and not os.access(program, os.X_OK):
        raise BadInput(f"cannot run {program!r}: no such program, or not executable")
    current = refs.refuse_applied(refs.settle(repo, plan_id))
    with planworktree.acquire(repo, plan_id) as slot:
        planworktree.prepare(repo, slot, current.tip)
        checkout = slot.checkout()
        cwd = os.path.join(checkout.workdir, command.prefix)
        if not os.path.isdir(cwd):
            raise BadInput(f"{command.prefix.rstrip('/')} is not a directory in plan {plan_id!r}")
        tree = str(repo[current.tip].peel(pygit2.Commit).tree_id)
        watched = planworktree.directories(repo, slot, tree) if command.watch else None
        watcher = watch.start(checkout.workdir, watched) if watched is not None else None
        try:
            outcome = _start(
                slot,
                command.argv,
                cwd,
                dict(environment, GITPLAN_WORKTREE=checkout.workdir),
                timeout=command.timeout,
                tail_bytes=command.tail_bytes,
                stdout=stdout,
                stderr=stderr,
            )
        finally:
            touched = watcher.stop() if watcher is not None else None
        faults.point("run.command-finished")
        skipped: list[str] = []
        try:
            planworktree.clear_git_locks(checkout)  # a git the command ran may have been killed
            edits, head_moved = _capture(repo, checkout, current.tip, tree, touched, skipped)
        except (worktree.GitFailed, OSError):
            _refuse_cancelled(repo, plan_id, slot)
            raise
        keep = outcome.ok or command.keep_changes_on_error
        clean = True
        if not keep:
            clean = _put_back(repo, checkout, list(edits), current.tip, head_moved)
        recorded = edits if keep else {}
        invocation = _invocation(command, outcome, redactor, skipped)
        try:
            changeset = record(recorded, invocation, current.tip)
        except Conflict as conflict:
            raise Conflict(
                f"{conflict}; the command's changes are left in {checkout.workdir} until the plan's next run",
                conflict.paths,
            ) from None
        faults.point("run.recorded")
        if touched is not None:
            made = [path for path in touched if trees.entry_at(repo, tree, path) is None]
            planworktree.remember_directories(repo, slot, made)
        _remove(checkout, skipped)  # left in the worktree, later runs would report them as theirs
        try:
            if changeset.parent == current.tip and not head_moved:
                planworktree.adopt(repo, checkout, list(recorded), changeset.commit)
            else:  # rebased onto other writers' changesets, or the command moved HEAD
                planworktree.reset(repo, checkout, changeset.commit)
            if outcome.left_running:  # what it writes later: the next run puts the slot back
                planworktree.left_running(slot, outcome)
            elif clean:
                planworktree.finish(slot)
        except worktree.GitFailed:
            pass  # the changeset is recorded; still marked running, the next run resets the worktree
        return RunResult(changeset, outcome, checkout.workdir, keep and not outcome.ok, tuple(skipped))


def _refuse_cancelled(repo: pygit2.Repository, plan_id: str, slot: planworktree.Slot) -> None:
    """PlanNotFound if the plan was cancelled while its command ran (cancel removes the
    plan's worktrees, even the one the command ran in): what failed was reading the
    worktree that went with it."""
    if refs.read_refs_if_any(repo, plan_id) is None or not slot.path.is_dir():
        raise PlanNotFound(f"plan {plan_id!r} was cancelled while the command ran; nothing was recorded")


def _start(slot: planworktree.Slot, *args: Any, **kwargs: Any) -> Outcome:
    try:
        return run_command(*args, **kwargs)
    except BadInput:
        planworktree.finish(slot)  # it never ran: the worktree is as clean as it was
        raise


def _capture(
    repo: pygit2.Repository,
    checkout: worktree.Checkout,
    tip: str,
    tree: str,
    touched: set[str] | None,
    skipped: list[str],
) -> tuple[dict[str, File | FileOnDisk | None], bool]:
    """What the command changed, and whether it moved the worktree's HEAD: the paths
    the watcher saw (or git status lists), and those that commits the command made in
    the worktree took (git status, comparing with the new HEAD, would not list them)."""
    committed: set[str] = set()
    head = planworktree.head_commit(repo, checkout)
    if head != tip:
        head_tree = str(repo[head].peel(pygit2.Commit).tree_id) if head else None
        committed = {entry.path for entry in trees.changed_entries(repo, tree, head_tree)}
    if touched is None:
        edits = snapshot.worktree_edits(
            repo, checkout=checkout, against_tree=tree, also=committed, skipped=skipped
        )
    else:
        edits = snapshot.touched_edits(repo, checkout, tree, touched | committed, skipped)
    return edits, head != tip


def _put_back(
    repo: pygit2.Repository, checkout: worktree.Checkout, paths: list[str], tip: str, head_moved: bool
) -> bool:
    """Undo a failed command's edits; False when git could not (the next run resets)."""
    try:
        if head_moved:
            planworktree.reset(repo, checkout, tip)
        else:
            planworktree.discard(repo, checkout, paths, tip)
        return True
    except worktree.GitFailed:
        return False


def _remove(checkout: worktree.Checkout, paths: list[str]) -> None:
    for path in paths:
        target = os.path.join(checkout.workdir, path)
        with contextlib.suppress(OSError):
            os.unlink(target)


def _invocation(command: Command, outcome: Outcome, redactor: Redactor, skipped: list[str]) -> ToolInvocation:
    """The record of the run. The output tails are masked before they are cut to size,
    so that a secret the cut would split is masked whole."""
    tails = {}
    redacted = []
    for name, text in (("stdout_tail", outcome.stdout_tail), ("stderr_tail", outcome.stderr_tail)):
        masked = redactor.text(text)
        if masked != text:
            redacted.append(name)
        tails[name] = cut_tail(masked, command.tail_bytes)
    return ToolInvocation(
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
        redacted=redacted or None,
        skipped=list(skipped) or None,
        stdout_tail=tails["stdout_tail"],
        stderr_tail=tails["stderr_tail"],
    )


def _environment(plan_id: str) -> dict[str, str]:
    """The caller's environment, minus what would point git at the user's repository
    (so git in the command finds the plan's worktree), plus the plan's name."""
    environment = {k: v for k, v in os.environ.items() if k not in worktree.POINTERS}
    environment["GITPLAN_PLAN"] = plan_id
    return environment
