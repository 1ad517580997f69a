"""Apply: put a plan's cumulative change onto the user's repository, all or nothing.

The only module that writes user state. Everything is computed and checked
first (merge, conflicts, dirty paths, unsafe paths); then the writes happen in
an order a crash cannot split:

1. journal `.git/gitplan/apply.json` under a lock;
2. the index and the files, by git (worktree.move: read-tree, or checkout-index by path);
3. the commit point: the branch ref moved by compare-and-swap (commit mode),
   the new branch created (branch mode, which skips step 2), or the journal
   marked done (worktree mode);
4. the plan record note (state applied); then the journal is removed.

`git plan recover` (or the next apply) that finds a journal whose lock is not
held finishes the apply if step 3 happened and rolls it back otherwise, path
by path, leaving alone what the user changed since.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shlex
import stat
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pygit2

from . import chain as chains
from . import clock, diffs, faults, packs, permissions, refs, statefile, transaction, verified, worktree
from .errors import BadInput, Conflict, Damaged, Dirty, GitPlanError, PlanNotFound
from .format import encode_plan_record, notes_message, notes_ref, plan_ref, validate_path, validate_plan_id
from .gitrepo import (
    EMPTY_TREE,
    alternates_variable,
    borrowed_object_directories,
    committer,
    common_dir,
    config_flag,
    config_value,
    descends,
    index_file,
    lookup,
    lookup_commit,
    no_work_tree,
    read_blob,
    reopened,
    signature,
    use_index_file,
    user_signature,
    write_object,
    writes_aside,
)
from .model import ApplyResult, ChangeSet, PlanRecord, PlanStatus, Selection
from .notes import notes_tree, stage_notes_commit
from .objects import Person, Staging, loose_object_data
from .packfile import OBJ_COMMIT, OBJ_TREE
from .patches import patch_edits
from .transaction import Prepared
from .trees import (
    MODE_TREE,
    Edit,
    Entry,
    canonical_mode,
    canonical_modes,
    changed_entries,
    comparisons_remembered,
    edit_tree,
    entry_at,
    index_changes,
    under,
)

MODES = ("commit", "worktree", "branch")
Progress = Callable[[int, int], None]  # (files written, files to write)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What applying would produce: the result tree, commits and the paths it writes."""

    strategy: str
    tree: str
    head: str
    head_tree: str
    writes: tuple[Entry, ...]
    commits: tuple[tuple[str, str, str], ...]  # (tree, message, author) per commit to make


def _journal_dir(repo: pygit2.Repository) -> Path:
    return Path(repo.path) / "gitplan"


def apply_check(repo: pygit2.Repository, chain: chains.Chain, status: PlanStatus) -> PlanStatus:
    """status --check: is the base behind HEAD, and what would `apply --check` say?"""
    if chain.record is None or chain.record.state != "open":
        return status
    if chain.base_id and repo.get(chain.base_id) is None:
        return status
    head = _head_commit(repo)
    if not head and chain.base_id:
        return status  # nothing to compare with: apply refuses
    if (not repo.is_bare and (operation_in_progress(repo) or pending_apply(repo))) or interrupted_elsewhere(
        repo, status.plan
    ):
        return replace(status, base_behind_head=head != chain.base_id, apply_refusal="in-progress")
    try:
        _predict(repo, chain, head, replay=False, mode="branch" if repo.is_bare else "commit", write=False)
        refusal = None
    except Conflict as failure:
        refusal = failure
    dirty = isinstance(refusal, Dirty)
    return replace(
        status,
        base_behind_head=head != chain.base_id,
        apply_would_conflict=refusal is not None and not dirty,
        conflict_paths=refusal.paths if refusal is not None and not dirty else (),
        apply_refusal=_refused_for(repo, refusal),
        dirty_paths=refusal.paths if dirty and refusal is not None else (),
    )


def _refused_for(repo: pygit2.Repository, refusal: Conflict | None) -> str | None:
    """What `apply --check` refuses for: in a bare repository, the repository itself
    (apply_plan's first refusal: it needs `--mode branch NAME`, whose merge the check
    still predicts), else the conflict or the dirty paths, or nothing."""
    if repo.is_bare:
        return "bare"
    if refusal is None:
        return None
    return "dirty" if isinstance(refusal, Dirty) else "conflict"


def _predict(
    repo: pygit2.Repository,
    chain: chains.Chain,
    head: str,
    replay: bool,
    mode: str,
    selection: Selection | None = None,
    write: bool = True,
) -> Outcome:
    """What applying would write; Conflict (or Dirty) when apply would refuse, BadInput
    when a part of the plan is asked for that HEAD already has.

    Without `write` (a check), a merge with a moved HEAD is not written: its result
    is compared with HEAD in memory, and the outcome names no tree and no commits."""
    with writes_aside(repo) as aside:  # nothing merged is left behind by a check or a refusal
        outcome = _outcome_or_refusal(aside.repo, chain, head, replay, mode, selection, write)
        if selection is not None and selection.partial and not outcome.writes:
            raise BadInput(
                f"nothing to apply: HEAD already has this part of plan {chain.refs.plan_id!r}; "
                "nothing was written"
            )
        if write:
            # The merged blobs and trees the apply will use. A refusal by git after this
            # leaves them (unreachable, for git gc): another writer may already use an
            # identical object it found here, so they are not ours alone to delete.
            aside.keep(repo)
    return outcome


def _outcome_or_refusal(
    repo: pygit2.Repository,
    chain: chains.Chain,
    head: str,
    replay: bool,
    mode: str,
    selection: Selection | None,
    write: bool,
) -> Outcome:
    if mode == "branch":
        return _plan_outcome(repo, chain, head, replay, selection or Selection(), write)
    if write:
        # An apply: git (worktree.move) checks that each path it writes is up to date, as
        # git status would, and refuses writing nothing (_execute then names the paths);
        # it need not look at the whole worktree first. What read-tree would let pass (a
        # file deleted by hand, which it writes again) or name too vaguely is looked at on
        # disk, and only then asked of git status.
        outcome = _plan_outcome(repo, chain, head, replay, selection or Selection(), write)
        linked = _refuse_unsafe(repo, outcome.writes)
        if linked or _in_the_way(repo, outcome.writes):
            _refuse_dirty_by_status(repo, outcome.writes)
        return outcome
    status = worktree.StatusRun(repo)  # git reads the worktree while the outcome is computed
    try:
        outcome = _plan_outcome(repo, chain, head, replay, selection or Selection(), write)
        _refuse_unsafe(repo, outcome.writes)
        _refuse_dirty(repo, outcome.writes, status.result())
    finally:
        status.close()
    return outcome


def _conflict_path(conflict: tuple[pygit2.IndexEntry | None, ...]) -> str:
    return str(next(entry.path for entry in conflict if entry is not None))


@comparisons_remembered()  # verify and the outcome compare the same trees once
def apply_plan(
    repo: pygit2.Repository,
    plan_id: str,
    mode: str = "commit",
    branch: str | None = None,
    replay: bool = False,
    check: bool = False,
    keep_on_failure: bool | None = None,
    cancel: object = None,
    progress: Progress | None = None,
    selection: Selection | None = None,
) -> ApplyResult:
    selection = selection or Selection()
    if selection.partial and keep_on_failure is None:
        keep_on_failure = True  # a reviewer taking part of a plan keeps the rest, whatever happens
    if keep_on_failure is None:  # read (and a bad value refused) before anything is written
        keep_on_failure = config_flag(repo, "plan.keepOnFailure", False)
    if mode not in MODES:
        raise BadInput(f"unknown apply mode {mode!r}: use commit, worktree or branch")
    if mode == "branch" and not branch:
        raise BadInput("--mode branch needs a branch name")
    if mode == "worktree" and replay:
        raise BadInput("--replay makes commits; it does not go with --mode worktree")
    if selection.patch is not None and (selection.only or selection.exclude):
        raise BadInput("--hunks chooses among all the plan's hunks: it does not go with --only or --exclude")
    if replay and (selection.only or selection.exclude or selection.patch is not None):
        raise BadInput(
            "--replay takes whole changesets: use it with --upto, not with --only, --exclude or --hunks"
        )
    if mode != "branch" and repo.is_bare:
        why = no_work_tree(repo)
        raise BadInput(f"apply --mode {mode} needs a working tree; {why}: use --mode branch NAME")
    # (as git check-ref-format --branch: neither HEAD nor a name that starts with a dash)
    valid = branch != "HEAD" and not str(branch).startswith("-")
    valid = valid and pygit2.reference_is_valid_name(f"refs/heads/{branch}")
    if branch is not None and not valid:
        raise BadInput(f"invalid branch name {branch!r}")
    # The plan's lease, taken before its refs are read and held until the apply stands or
    # has put everything back: a cancel waits for it before it prunes (store.cancel), so no
    # plan object the apply is about to reference can go meanwhile. A check writes nothing.
    # Inside it, the plan's publish gate, alone: a writer publishing now finishes first
    # (the apply then reads its changeset); one that comes later waits for the apply.
    with (
        contextlib.nullcontext() if check else packs.apply_lease(repo, plan_id),
        contextlib.nullcontext() if check else packs.publish_gate(repo, plan_id, shared=False),
    ):
        try:
            return _apply(repo, plan_id, mode, branch, replay, check, progress, selection)
        except _BeforeCommitPoint as failure:  # nothing stays written
            refused = failure.conflict
    # Outside the lease: failing cleans the plan up, and that cancel waits for the lease.
    raise _fail(repo, plan_id, refused, keep_on_failure, cancel) from None


def _apply(
    repo: pygit2.Repository,
    plan_id: str,
    mode: str,
    branch: str | None,
    replay: bool,
    check: bool,
    progress: Progress | None,
    selection: Selection,
) -> ApplyResult:
    chain = chains.load_chain(repo, plan_id, refs.settle(repo, plan_id))
    if chain.record is None:
        raise Damaged(f"plan {plan_id!r}: {chain.record_problem}; cannot apply")
    if chain.record.state == "applied":
        applied = chain.record.applied or {}
        where = f"as commit {applied['commit']}" if applied.get("commit") else "to the working tree"
        raise BadInput(f"plan {plan_id!r} is already applied ({where})")
    if chain.base_id and repo.get(chain.base_id) is None:
        raise PlanNotFound(
            f"plan {plan_id!r}: its base commit {chain.base_id} is not in this repository; fetch it first"
        )
    # A plan made by hand or fetched with plain git writes into the worktree only once checked.
    verified.check(repo, plan_id, chain.refs.tip, chain.refs.notes_tip, verified.read_mark(repo, plan_id))
    head = _head_commit(repo)
    if not head and chain.base_id:
        raise BadInput(
            f"HEAD has no commit yet, and plan {plan_id!r} was made on {chain.base_id[:12]}; "
            "check out a branch that has it"
        )
    if mode != "worktree":  # refused now, and by --check, not after the work
        user_signature(repo, "committer")
        if not replay:
            user_signature(repo)  # the author of the one commit apply makes
    strategy = _strategy(chain, head)  # what a refusal under --check reports
    pending = pending_apply(repo) if check else None
    if pending is not None:  # a check leaves it to `git plan recover`, or the apply itself
        return ApplyResult(
            plan_id, mode, strategy, None, branch, (), True, (), refusal="in-progress",
            reason=f"{_PENDING.format(plan=pending)}; an apply finishes or rolls it back first",
        )  # fmt: skip
    elsewhere = interrupted_elsewhere(repo, plan_id)
    if elsewhere is not None:  # it may have committed the plan there: never apply it twice
        reason = _ELSEWHERE.format(plan=plan_id, where=elsewhere)
        if check:
            return ApplyResult(
                plan_id, mode, strategy, None, branch, (), True, (), refusal="in-progress", reason=reason
            )  # fmt: skip
        raise GitPlanError(f"{reason}; nothing was written")
    busy = operation_in_progress(repo) if mode != "branch" else None
    if busy:
        raise BadInput(f"{busy}: finish it or abort it first, as git cherry-pick asks; nothing was written")
    if mode == "branch":
        if repo.references.get(f"refs/heads/{branch}") is not None:
            raise BadInput(f"branch {branch!r} already exists")
        _refuse_branch_beside(repo, str(branch))
    try:
        outcome = _predict(repo, chain, head, replay, mode, selection, write=not check)
    except Conflict as failure:
        if check:
            refusal = "dirty" if isinstance(failure, Dirty) else "conflict"
            return ApplyResult(
                plan_id, mode, strategy, None, branch, (), True, failure.paths, refusal=refusal,
                reason=str(failure),
            )  # fmt: skip
        raise _BeforeCommitPoint(failure) from None
    paths = tuple(entry.path for entry in outcome.writes)
    part = selection.describe() if selection.partial else None
    if check:
        return ApplyResult(plan_id, mode, outcome.strategy, None, branch, paths, True, part=part)
    return _execute(repo, chain, outcome, mode, branch, progress, part)  # _BeforeCommitPoint: all put back


_PENDING = "an interrupted apply of plan {plan!r} awaits `git plan recover`"
_ELSEWHERE = (
    "an apply of plan {plan!r} was interrupted in the worktree {where}: run `git plan recover` "
    "there first (it finishes or rolls back that apply)"
)


def operation_in_progress(repo: pygit2.Repository) -> str | None:
    """The git operation left unfinished in this worktree (a merge, a cherry-pick...), if
    any: a commit made now would be taken into it."""
    git_dir = Path(repo.path)
    for name, what in (
        ("MERGE_HEAD", "a merge"),
        ("CHERRY_PICK_HEAD", "a cherry-pick"),
        ("REVERT_HEAD", "a revert"),
        ("rebase-merge", "a rebase"),
        ("rebase-apply", "a rebase or git am"),
    ):
        if (git_dir / name).exists():
            return f"{what} is in progress ({name} exists)"
    return None


def _head_commit(repo: pygit2.Repository) -> str:
    """HEAD's commit, or "" on an unborn branch (a repository with no commit yet)."""
    return "" if repo.head_is_unborn else str(repo.head.target)


def _plan_outcome(
    repo: pygit2.Repository,
    chain: chains.Chain,
    head: str,
    replay: bool,
    selection: Selection,
    write: bool = True,
) -> Outcome:
    base_tree = str(chain.root.tree_id)
    head_tree = str(lookup_commit(repo, head).tree_id) if head else EMPTY_TREE
    strategy = _strategy(chain, head)
    record = chain.record
    assert record is not None
    taken = chain.commits if selection.upto is None else chain.commits[: selection.upto]
    target = selected_tree(repo, chain, selection)
    commits: list[tuple[str, str, str]] = []
    if replay:
        current = head_tree
        for changeset, commit in zip(chain.changesets, taken, strict=False):
            parent_tree = str(commit.parents[0].tree_id)
            before = current
            current = _merge(repo, chain.refs.plan_id, parent_tree, current, str(commit.tree_id))
            if current == before and parent_tree != str(commit.tree_id):
                continue  # its change is on HEAD already: no empty commit, as git rebase drops it
            commits.append((current, commit.message, changeset.author))
        result = current
    elif strategy == "merge" and not write:
        # A check writes nothing: a written merge result would freshen the plan's pack
        # (libgit2 touches the pack holding a tree it writes again), and cancel would keep it.
        merged = _merged(repo, base_tree, head_tree, target)
        if merged is not None:
            return Outcome(strategy, "", head, head_tree, tuple(merged[1]), ())
        result = target
    else:
        plan_id = chain.refs.plan_id
        result = target if strategy == "fast-forward" else _merge(repo, plan_id, base_tree, head_tree, target)
        if result != head_tree or not head:  # (HEAD holds it all already: no empty commit)
            commits.append((result, _squash_message(chain, record, selection), ""))
    # A tree written from a merge holds every mode as git reads it; an entry of HEAD's
    # that an old git wrote as 100664 is the same file to git, and is not written.
    writes = tuple(entry for entry in _changes(repo, chain, head_tree, result) if not _same_to_git(entry))
    return Outcome(strategy, result, head, head_tree, writes, tuple(commits))


def _changes(repo: pygit2.Repository, chain: chains.Chain, head_tree: str, result: str) -> list[Entry]:
    """What differs between HEAD's tree and the one apply brings it to. Where the plan's
    records name many files and the result is the plan's tip tree (not a merge written
    aside, which git cannot see), git compares the trees: the same answer, for less."""
    named = sum(len(changeset.record.files) for changeset in chain.changesets if changeset.record)
    if named >= _MANY_FILES and result == str(chain.tip.tree_id):
        found = worktree.tree_changes(repo, head_tree, result)
        if found is not None:
            return found
    return changed_entries(repo, head_tree, result)


_MANY_FILES = 200  # (git's start costs about what the walk of 200 changed paths does)


def _strategy(chain: chains.Chain, head: str) -> str:
    """How the plan goes onto HEAD: fast-forward while HEAD is still the plan's base."""
    return "fast-forward" if head == chain.base_id else "merge"


def _merge(repo: pygit2.Repository, plan_id: str, base: str, ours: str, theirs: str) -> str:
    """The merged tree, written: `ours` rebuilt along the paths the merge changed (libgit2's
    write_tree would write, and so freshen, every tree of the repository)."""
    merged = _merged(repo, base, ours, theirs)
    if merged is None:
        return theirs
    staging = Staging()
    edits: dict[str, Edit] = {
        entry.path: None if entry.new_id is None else (entry.new_id, int(entry.new_mode or 0))
        for entry in merged[1]
    }
    tree = edit_tree(repo, staging, ours, edits)
    _write_unless_the_plans(repo, plan_id, staging)
    return tree


def _merged(
    repo: pygit2.Repository, base: str, ours: str, theirs: str
) -> tuple[pygit2.Index, list[Entry]] | None:
    """The 3-way merge of the trees, in memory, and how it differs from `ours`; None when
    `ours` is the base (then it is `theirs`). Conflict when they conflict."""
    if base == ours:
        return None
    try:
        index = repo.merge_trees(base, ours, theirs)
    except pygit2.GitError as error:  # "invalid filemode for stage 1 entry"
        if "filemode" not in str(error):
            raise  # pragma: no cover - any other failure of libgit2's merge is reported as it is
        # A conflicting path whose mode an old git wrote as 100664: merge the trees as git
        # reads them.
        base, ours, theirs = (canonical_modes(repo, tree) for tree in (base, ours, theirs))
        index = repo.merge_trees(base, ours, theirs)
    if index.conflicts is not None:
        paths = tuple(sorted({_conflict_path(c) for c in index.conflicts}))
        raise Conflict(
            "the plan conflicts with changes made on HEAD since its base: " + ", ".join(paths),
            paths,
        )
    drivers = _own_merge_drivers(repo, base, ours, theirs)
    if drivers:
        raise Conflict(
            "HEAD and the plan both changed paths whose merge is a program of yours (the merge "
            f"attribute and merge.<driver>.driver), which gitplan's merge cannot run: {', '.join(drivers)}; "
            "apply the plan as a branch (--mode branch NAME) and merge that with git",
            tuple(drivers),
        )
    changes = index_changes(lookup(repo, ours, pygit2.Tree), index)
    clashes = _file_directory_clashes(repo, index, changes, ours, theirs)
    if clashes:
        raise Conflict(
            "the plan and HEAD disagree on whether these paths are files or directories: "
            + ", ".join(clashes),
            tuple(clashes),
        )
    return index, changes


def _own_merge_drivers(repo: pygit2.Repository, base: str, ours: str, theirs: str) -> list[str]:
    """The paths both sides changed whose `merge` attribute names a driver the config
    defines (`merge.<name>.driver`): git runs that program on them, libgit2 merges them
    as text. Built-in drivers (text, binary, union) and undefined names merge as git does."""
    changed_here = {entry.path for entry in changed_entries(repo, base, ours)}
    both = [entry.path for entry in changed_entries(repo, base, theirs) if entry.path in changed_here]
    found = []
    for path in both:
        driver = repo.get_attr(path, "merge")
        own = isinstance(driver, str) and driver not in ("text", "binary", "union")
        if own and config_value(repo, f"merge.{driver}.driver") is not None:
            found.append(path)
    return found


def _file_directory_clashes(
    repo: pygit2.Repository, index: pygit2.Index, changes: list[Entry], ours: str, theirs: str
) -> list[str]:
    """Paths libgit2's merge left both as a file and as a directory (it reports no conflict,
    and writing the index drops one side: a file of the plan, or a file on HEAD, would be
    lost without a word). Only what the merge changed from HEAD (`changes`) is looked at."""
    clashes: set[str] = set()
    for entry in changes:
        if entry.new_id is None:
            continue
        parts = entry.path.split("/")
        for depth in range(1, len(parts)):  # a file where the merge put one of its directories
            above = "/".join(parts[:depth])
            if above in index:
                clashes.add(above)
        for side in (ours, theirs):  # files under a directory the merge made a file
            found = entry_at(repo, side, entry.path)
            if found is not None and found[1] == MODE_TREE:
                below = changed_entries(repo, None, found[0])
                if any(f"{entry.path}/{item.path}" in index for item in below):
                    clashes.add(entry.path)
    return sorted(clashes)


def _squash_message(chain: chains.Chain, record: PlanRecord, selection: Selection) -> str:
    title = record.title or f"apply plan {record.plan_id}"
    taken = chain.changesets if selection.upto is None else chain.changesets[: selection.upto]
    what = f"Applied plan {record.plan_id}: {len(taken)} changeset(s)"
    if selection.partial:
        what = f"Applied part of plan {record.plan_id}: " + ", ".join(
            key
            if value is True
            else f"{key} {' '.join(map(str, value)) if isinstance(value, list) else value}"
            for key, value in selection.describe().items()
        )
    lines = [title, "", what, ""]
    for changeset in taken:
        if _touches(changeset, selection):
            lines.append(f"- {changeset.number}. {changeset.tool}: {changeset.summary}")
    lines += ["", f"Plan-Id: {record.plan_id}", f"Plan-Tip: {chain.tip.id}", ""]
    return "\n".join(lines)


def _touches(changeset: ChangeSet, selection: Selection) -> bool:
    """Did `changeset` change a path that `--only`/`--exclude` take (when its record says)?"""
    if not (selection.only or selection.exclude) or changeset.record is None:
        return True
    return any(
        (not selection.only or under(path, selection.only)) and not under(path, selection.exclude)
        for change in changeset.record.files
        for path in (change.path, change.old_path)
        if path is not None
    )


def selected_tree(repo: pygit2.Repository, chain: chains.Chain, selection: Selection) -> str:
    """The tree a (partial) apply brings the base to: the tip's, changeset N's, or the base's
    with the chosen paths or hunks of the cumulative change; new trees are written."""
    if selection.upto is not None and not 1 <= selection.upto <= len(chain.commits):
        raise PlanNotFound(
            f"plan {chain.refs.plan_id!r} has no changeset {selection.upto} (it has {len(chain.commits)})"
        )
    upto = chain.tip if selection.upto is None else chain.commits[selection.upto - 1]
    base_tree = str(chain.root.tree_id)
    target = str(upto.tree_id)
    staging = Staging()
    if selection.patch is not None:

        def read(path: str) -> tuple[bytes, int] | None:
            found = entry_at(repo, base_tree, path)
            return (read_blob(repo, found[0]), found[1]) if found else None

        edits: dict[str, Edit] = {
            path: None if file is None else (staging.blob(bytes(file.data)), file.mode)
            for path, file in patch_edits(selection.patch, read, "the chosen hunks").items()
        }
    elif selection.only or selection.exclude:
        edits = {
            entry.path: None if entry.new_id is None else (entry.new_id, int(entry.new_mode or 0))
            for entry in changed_entries(repo, base_tree, target)
            if (not selection.only or under(entry.path, selection.only))
            and not under(entry.path, selection.exclude)
        }
    else:
        return target
    if not edits:
        raise BadInput("nothing selected: no change of the plan matches; nothing was written")
    chosen = edit_tree(repo, staging, base_tree, edits)
    _write_unless_the_plans(repo, chain.refs.plan_id, staging)  # the trees (and blobs) on the chosen paths
    return chosen


def _write_unless_the_plans(repo: pygit2.Repository, plan_id: str, staging: Staging) -> None:
    """Write the staged objects, except those the plan's own packs hold: the apply holds the
    plan's lease, so no prune of the plan runs meanwhile, and writing them would freshen the
    plan's pack, which a cancel would then keep for the grace period. Writing one held
    anywhere else freshens what holds it, as git does before it references an object: a
    prune of another plan, or `git prune`, then keeps it."""
    own = packs.held_by_plan(repo, plan_id, [oid for oid, _, _ in staging.items()])
    for oid, kind, data in staging.items():
        if oid not in own:
            write_object(repo, kind, data)


def _refuse_unsafe(repo: pygit2.Repository, writes: tuple[Entry, ...]) -> bool:
    """Refuse a path the apply would write through a symlink leading out of the worktree;
    True when a directory on the way to one of them is a symlink inside it (git writes
    and deletes nothing through one: what is there is not at that path)."""
    workdir = os.path.realpath(repo.workdir)
    inside: set[str] = {""}  # directories found to stay inside the worktree
    linked: set[str] = set()  # those of them that are symlinks
    for entry in writes:
        validate_path(entry.path)
        if not _stays_inside(workdir, os.path.dirname(entry.path), inside, linked):
            raise BadInput(f"{entry.path}: a symlink in the worktree leads outside it; refusing")
    return bool(linked)


def _stays_inside(workdir: str, directory: str, inside: set[str], linked: set[str]) -> bool:
    """Does `directory` resolve to a place inside the worktree? Each of its leading
    directories is looked at once per apply; only symlinks among them are resolved
    (a plain directory inside the worktree keeps its children inside), and added to
    `linked`."""
    if directory in inside:
        return True
    prefix = ""
    for name in directory.split("/"):
        prefix = f"{prefix}/{name}" if prefix else name
        if prefix in inside:
            continue
        full = os.path.join(workdir, prefix)
        if os.path.islink(full):
            real = os.path.realpath(full)
            if real != workdir and not real.startswith(workdir + os.sep):
                return False
            linked.add(prefix)
        inside.add(prefix)
    return True


def _refuse_dirty(
    repo: pygit2.Repository, writes: tuple[Entry, ...], changes: worktree.TrackedChanges
) -> None:
    """Refuse, naming each path and why, when a path the apply writes is not what HEAD has.

    Staged and worktree changes are what `git status` reports (so line-ending
    conversion, filters and sparse checkout count as git counts them)."""
    if changes.unmerged:
        raise BadInput(_UNMERGED)
    head_tree = str(repo.head.peel(pygit2.Commit).tree_id) if not repo.head_is_unborn else EMPTY_TREE
    dirty: list[str] = []
    linked = worktree.through_symlinks(Path(repo.workdir), [entry.path for entry in writes])
    for entry in writes:
        path = entry.path
        # `writes` are changes from HEAD: a path HEAD has as a file needs no second look.
        in_head = (entry.old_id, entry.old_mode or 0) if entry.old_id else entry_at(repo, head_tree, path)
        was_directory = in_head is not None and in_head[1] == MODE_TREE
        full = Path(repo.workdir) / path
        # Through a symlinked directory on the way (one the plan replaces by a directory),
        # what is there is not at `path`: git neither reads nor writes through it.
        through_link = path in linked
        above = worktree.file_above(Path(repo.workdir), path) if through_link else None
        if path in changes.staged:
            dirty.append(f"{path} (staged changes)")
        elif in_head is not None and above is not None and os.path.exists(full):
            # Reached through the symlink: git's up-to-date check finds another file there.
            dirty.append(f"{above} (a symlink where HEAD has a directory)")
        elif path in changes.unstaged:
            deleted = changes.unstaged[path].state == "deleted"
            made_directory = full.is_dir() and not full.is_symlink() and not through_link
            if deleted and entry.new_id is None and made_directory:  # (where the file was)
                dirty.append(f"{path} (a directory is in the way)")
            elif not (deleted and entry.new_id is None):  # (a deletion of what is gone loses nothing)
                dirty.append(f"{path} ({'deleted in the worktree' if deleted else 'uncommitted changes'})")
        elif was_directory:  # a directory the plan replaces by a file: its files are checked one by one
            if entry.new_id is not None and full.is_dir() and not full.is_symlink():
                dirty.extend(
                    f"{found} (untracked file in the way)"
                    for found in _untracked_below(repo, head_tree, path)
                )
        elif in_head is None and full.is_dir() and not full.is_symlink() and not through_link:
            if _holds_files(full):  # an empty one goes, as git checkout removes it
                dirty.append(f"{path} (a directory is in the way)")
        elif in_head is None and (full.exists() or full.is_symlink()) and not through_link:
            dirty.append(f"{path} (untracked file in the way)")
        elif in_head is None:
            above = _file_above(repo, head_tree, path)
            if above is not None and f"{above} (untracked file in the way)" not in dirty:
                dirty.append(f"{above} (untracked file in the way)")
    named = {item.split(" (", 1)[0] for item in dirty}
    hidden = worktree.hidden_changes(
        repo, [entry.path for entry in writes if entry.old_id and entry.path not in named]
    )
    for path, bit in sorted(hidden.items()):
        dirty.append(f"{path} (changes on disk that {bit} hides from git status)")
    if dirty:
        raise Dirty(
            "uncommitted changes in paths the plan would write: " + ", ".join(dirty),
            tuple(d.split(" (", 1)[0] for d in dirty),
        )


_UNMERGED = "the index has unresolved merge conflicts; resolve or reset them before applying"
# How git read-tree -m -u refuses, before it writes anything (unpack-trees.c's messages).
_READ_TREE_REFUSALS = (
    "not uptodate",
    "would be overwritten",
    "would be removed",
    "would lose untracked",
    "resolve your current index",
)


def _in_the_way(repo: pygit2.Repository, writes: tuple[Entry, ...]) -> bool:
    """Is something on disk where the apply writes a new path (or a file where it needs a
    directory), is a file HEAD has missing (deleted by hand, or outside a sparse
    checkout), or does the apply replace a submodule's checkout? git read-tree would
    overwrite an ignored file in the way, and a submodule's checkout with work in it,
    where `git status` (and so --check) names them."""
    workdir = repo.workdir
    directories: set[str] = {""}  # parents of new paths found to be directories, or absent
    for entry in writes:
        if entry.old_mode == pygit2.GIT_FILEMODE_COMMIT:
            return True
        try:  # (one look at the path: an apply asks this of every path it writes)
            mode: int | None = os.lstat(os.path.join(workdir, entry.path)).st_mode
        except (OSError, ValueError):  # (as os.path.lexists takes them: nothing there)
            mode = None
        exists = mode is not None
        if exists == (entry.old_id is None):
            return True
        if mode is not None and stat.S_ISDIR(mode):  # a directory where HEAD has a file
            return True
        parent = os.path.dirname(entry.path)
        if not exists and parent not in directories:
            if worktree.file_above(Path(workdir), entry.path) is not None:
                return True
            directories.add(parent)
    return False


def _refuse_dirty_by_status(repo: pygit2.Repository, writes: tuple[Entry, ...]) -> None:
    """_refuse_dirty with what `git status` says now."""
    status = worktree.StatusRun(repo)
    try:
        changes = status.result()
    finally:
        status.close()
    _refuse_dirty(repo, writes, changes)


def _untracked_below(repo: pygit2.Repository, head_tree: str, directory: str) -> list[str]:
    """The files (ignored ones too) in a worktree directory that HEAD does not have:
    what git read-tree would refuse to lose when the directory becomes a file."""
    workdir = Path(str(repo.workdir))
    found = []
    for top, _, files in os.walk(workdir / directory):
        for name in files:
            path = (Path(top) / name).relative_to(workdir).as_posix()
            if entry_at(repo, head_tree, path) is None:
                found.append(path)
    return sorted(found)


def _holds_files(directory: Path) -> bool:
    """Is there anything but directories below `directory`?"""
    return any(files for _, _, files in os.walk(directory))


def _file_above(repo: pygit2.Repository, head_tree: str, path: str) -> str | None:
    """The nearest directory of `path` that the worktree has as a file or symlink that HEAD
    does not have (an untracked file where the plan needs a directory), or None."""
    above = worktree.file_above(Path(str(repo.workdir)), path)
    return above if above is not None and entry_at(repo, head_tree, above) is None else None


@dataclass(frozen=True, slots=True)
class Saved:
    """A plan saved losslessly before it goes: a bundle of both refs, its patch to read,
    and the refs the bundle holds."""

    bundle: Path
    patch: Path
    plan_refs: refs.PlanRefs


def save_plan(repo: pygit2.Repository, plan_id: str) -> Saved:
    """Save the plan in `<common dir>/gitplan/rescue/`: a bundle of both refs (every
    changeset and record, binary files included) and its cumulative patch."""
    # In the common directory, not this worktree's: `git worktree remove` deletes the
    # latter, and the rescue must outlive the worktree whose apply failed.
    rescue_dir = packs.state_dir(repo) / "rescue"
    rescue_dir.mkdir(parents=True, exist_ok=True)
    # Names joined as text, not with Path.with_suffix: a plan id may hold dots (v1.2), and
    # with_suffix would cut the name at the last of them, time and all.
    # The names are claimed by making the patch file, so two failed applies of one plan in
    # one second (from two worktrees, which share this directory) never share them.
    stem = f"{plan_id}-{time.strftime('%Y%m%dT%H%M%S')}"
    suffix = 1
    while not _claimed(rescue_dir, stem):
        suffix += 1
        stem = f"{plan_id}-{time.strftime('%Y%m%dT%H%M%S')}-{suffix}"
    saved = refs.settle(repo, plan_id)  # what the bundle holds
    chain = chains.load_chain(repo, plan_id, saved)
    bundle = rescue_dir / f"{stem}.bundle"
    worktree.run_git(
        repo,
        ["bundle", "create", "-q", str(bundle), plan_ref(plan_id), notes_ref(plan_id)]
        + ([f"^{chain.base_id}"] if chain.base_id else []),
    )
    rescue = rescue_dir / f"{stem}.patch"
    trees = (str(chain.root.tree_id), str(chain.tip.tree_id))
    pairs = diffs.file_pairs(repo, *trees)
    rescue.write_text(
        diffs.render(repo, pairs, diffs.DiffOptions(full_index=True, textconv=False), trees, exact=False),
        errors="surrogateescape",
    )
    for saved_file in (bundle, rescue):
        permissions.widen(saved_file)
    return Saved(bundle, rescue, saved)


def _fail(repo: pygit2.Repository, plan_id: str, failure: Conflict, keep: bool, cancel: object) -> Conflict:
    """Save the plan (a bundle of both refs, and its patch to read), clean the plan up
    unless kept, and return the error to raise."""
    kept = save_plan(repo, plan_id)
    bundle, rescue, saved = kept.bundle, kept.patch, kept.plan_refs  # (the cancel below takes no more)
    message = (
        f"{failure}\nnothing was written; the whole plan (changesets and records) is saved in {bundle}"
        f"\nand its patch in {rescue}"
    )
    faults.point("apply.rescued")
    if not keep and callable(cancel):
        try:
            # Only the plan the bundle saved: a changeset recorded since (a writer that
            # waited for the apply) keeps the plan, never lost with it.
            report = cancel(plan_id, saved)
        except Conflict:
            message += f"\nplan {plan_id!r} was kept: changesets were recorded into it since the apply failed"
        else:
            message += f"\nplan {plan_id!r} was cancelled ({report.objects_pruned} objects pruned); "
            message += "use --keep-on-failure to keep it. To bring it back:"
            message += "\n  " + restore_command(plan_id, bundle)
    elif keep:
        message += f"\nplan {plan_id!r} was kept"
    error = failure.__class__(message, failure.paths)
    error.rescue_patch = str(rescue)  # type: ignore[attr-defined]
    error.rescue_bundle = str(bundle)  # type: ignore[attr-defined]
    return error


def _claimed(directory: Path, stem: str) -> bool:
    """Make `stem`.patch if neither it nor `stem`.bundle is there; whether it was made."""
    if (directory / f"{stem}.bundle").exists():
        return False
    try:
        os.close(os.open(directory / f"{stem}.patch", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    except FileExistsError:
        return False
    return True


def restore_command(plan_id: str, bundle: Path) -> str:
    """The one command that brings a rescued plan back from its bundle."""
    refspecs = " ".join(f"{ref}:{ref}" for ref in (notes_ref(plan_id), plan_ref(plan_id)))
    return f"git fetch {shlex.quote(str(bundle))} {refspecs}"


# -- the writes ---------------------------------------------------------------


class _ApplyLock:
    def __init__(self, repo: pygit2.Repository, blocking: bool) -> None:
        directory = _journal_dir(repo)
        directory.mkdir(parents=True, exist_ok=True)
        self._handle = open(directory / "apply.lock", "a+")  # noqa: SIM115
        permissions.widen(directory / "apply.lock")
        self._blocking = blocking

    def __enter__(self) -> bool:
        flags = fcntl.LOCK_EX | (0 if self._blocking else fcntl.LOCK_NB)
        try:
            fcntl.flock(self._handle, flags)
            return True
        except BlockingIOError:
            return False

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()


def _execute(
    repo: pygit2.Repository,
    chain: chains.Chain,
    outcome: Outcome,
    mode: str,
    branch: str | None,
    progress: Progress | None,
    part: dict[str, Any] | None = None,
) -> ApplyResult:
    plan_id = chain.refs.plan_id
    new_commit = outcome.head
    faults.point("apply.before-commits")  # the outcome's trees are written; nothing names them yet
    # The commits are made in memory and written only once git has written the files: a
    # refusal by git (a dirty file) then leaves no commit behind to keep the plan's
    # objects from its cancel. (A signed commit is made by git, signing, into a scratch
    # object directory, and staged from there.)
    commits = Staging()
    written: list[str] = []  # the commits this apply wrote: gone again if it stops short
    with tempfile.TemporaryDirectory(prefix="gitplan-signed-") as scratch:
        for tree, message, author in outcome.commits if mode != "worktree" else ():  # worktree mode: none
            new_commit = _make_commit(
                repo,
                plan_id,
                commits,
                scratch,
                tree,
                [new_commit] if new_commit else [],  # none: the project's first commit
                signature(author) if author else user_signature(repo),
                committer() if author else user_signature(repo, "committer"),
                message,
            )
    # The ref the commit point moves: the branch HEAD is on, or the new branch.
    head_ref = f"refs/heads/{branch}" if mode == "branch" else _head_ref(repo)
    paths = [entry.path for entry in outcome.writes]
    workdir = repo.workdir or ""  # (ends in a separator)
    journal: dict[str, Any] = {
        "plan": plan_id,
        "root": str(chain.root.id),  # which plan of that name: one made again later is another
        "mode": mode,
        "branch": branch,
        "head_ref": head_ref,
        "old_head": outcome.head,
        "new_commit": new_commit if mode != "worktree" else None,
        "tree": outcome.tree,
        "strategy": outcome.strategy,  # what a recovery marks the plan applied with
        "paths": paths if mode != "branch" else [],  # the files apply writes: none in branch mode
        # Files the plan deletes that the user had already deleted: a roll-back puts their
        # index entries back, not the files.
        "absent": [
            entry.path
            for entry in outcome.writes
            if mode != "branch" and entry.new_id is None and not os.path.lexists(f"{workdir}{entry.path}")
        ],
        "state": "prepared",
        "part": part,
        # The index git writes (GIT_INDEX_FILE's; None: the worktree's own): a recovery in a
        # process with another GIT_INDEX_FILE still puts back this one.
        "index_file": index_file(repo),
    }
    with _ApplyLock(repo, blocking=True):
        directory = _journal_dir(repo)
        try:
            if mode != "branch":
                # Bracket git's write so recovery knows whether index.lock is ours.
                journal["index"] = "writing"
                _write_journal(directory, journal)
                faults.point("apply.checkout-started")  # the journal says git may be writing
                if progress is not None:
                    progress(0, len(paths))
                try:
                    worktree.move(repo, outcome.head_tree, outcome.tree, outcome.writes)
                except worktree.PartlyMoved:
                    raise  # put back what git wrote
                except worktree.GitFailed as error:
                    if any(refusal in str(error) for refusal in _READ_TREE_REFUSALS):
                        # read-tree checks every path before it writes one: it wrote nothing,
                        # and the paths hold the user's work, which a roll-back would undo.
                        journal["paths"] = []
                        if "resolve your current index" in str(error):
                            raise BadInput(_UNMERGED) from None
                        _refuse_dirty_by_status(repo, outcome.writes)  # name the paths and why
                        raise Dirty(f"{error}; nothing was written", tuple(paths)) from None
                    if f"{os.path.basename(worktree.index_path(repo))}.lock" in str(error):
                        journal["paths"] = []  # git could not take the index: it wrote nothing
                    raise  # a failing filter, a full disk: put back what git wrote
                if progress is not None:
                    progress(len(paths), len(paths))
                journal["index"] = "written"
            for oid, kind, data in commits.items():
                if not repo.odb.exists(oid.hex()):  # (the same commit made again: it is not ours)
                    write_object(repo, kind, data)
                    written.append(oid.hex())
            if mode != "worktree":
                journal["head"] = "moving"  # from now on a lock on head_ref may be ours
            _write_journal(directory, journal)
            faults.point("apply.before-commit-point")
            if mode == "commit" and new_commit != outcome.head:
                _move_head(repo, head_ref, outcome.head, new_commit, plan_id)
            elif mode == "commit":  # nothing to commit: HEAD stays, if it is still where it was
                _refuse_moved(repo, head_ref, outcome.head)
                journal["state"] = "done"
                _write_journal(directory, journal)
            elif mode == "branch":
                _create_branch(repo, str(branch), new_commit, plan_id)
            else:
                journal["state"] = "done"
                _write_journal(directory, journal)
            faults.point("apply.at-commit-point")  # past it: the apply stands whatever happens
        except BaseException as failure:
            # (A Conflict is the commit point refusing: it was not passed.)
            if not isinstance(failure, Conflict) and _past_commit_point(
                repo, directory, mode, head_ref, new_commit, outcome.head
            ):
                raise  # (an interrupt just after it) the apply stands; recovery marks the plan
            # Before the commit point: put the user's files and index back now, not at
            # the next `git plan` command, and take back the commits nothing names.
            _remove_loose(repo, written)
            left = _roll_back(repo, journal)
            _clear_journal(directory)
            if isinstance(failure, Conflict):
                raise _BeforeCommitPoint(failure) from None
            if isinstance(failure, worktree.GitFailed):
                kept = f"; not put back: {', '.join(left)}" if left else ""
                raise worktree.GitFailed(f"{failure}; the files apply wrote were put back{kept}") from None
            raise
        faults.point("apply.after-commit-point")
        try:
            journal["record"] = "marking"  # a lock on the plan's refs from now on is ours
            _write_journal(directory, journal)
            _mark_applied(
                repo,
                plan_id,
                mode,
                branch,
                outcome,
                new_commit if mode != "worktree" else None,
                part,
                leased=True,  # (apply holds it)
                applied_tip=str(chain.refs.tip),
            )
        except GitPlanError as error:
            # Past the commit point the apply stands: never let recovery replay it over later work.
            _clear_journal(directory)
            raise Conflict(
                f"plan {plan_id!r} was applied ({new_commit if mode != 'worktree' else 'to the worktree'}), "
                f"but its plan record was not updated: {error}"
            ) from None
        _clear_journal(directory)
    return ApplyResult(
        plan=plan_id,
        mode=mode,
        strategy=outcome.strategy,
        commit=new_commit if mode != "worktree" else None,
        branch=branch,
        files=tuple(paths),
        part=part,
    )


def _past_commit_point(
    repo: pygit2.Repository, directory: Path, mode: str, head_ref: str, new_commit: str, old_head: str
) -> bool:
    """Has the apply passed its commit point (the branch moved or made, or the journal
    saying done), so that a failure now must not put anything back?"""
    if mode == "worktree" or (mode == "commit" and new_commit == old_head):
        try:
            return bool(json.loads((directory / "apply.json").read_text()).get("state") == "done")
        except (OSError, ValueError):
            return False
    ref = repo.references.get(head_ref)
    return ref is not None and ref.type == pygit2.enums.ReferenceType.DIRECT and str(ref.target) == new_commit


def _remove_loose(repo: pygit2.Repository, oids: list[str]) -> None:
    """Delete these loose objects, which this process wrote and nothing references: left,
    they would keep the plan's trees and files from the cancel that follows."""
    objects = common_dir(repo) / "objects"
    for oid in oids:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(objects / oid[:2] / oid[2:])


def _make_commit(
    repo: pygit2.Repository,
    plan_id: str,
    commits: Staging,
    scratch: str,
    tree: str,
    parents: list[str],
    author: pygit2.Signature,
    committer: pygit2.Signature,
    message: str,
) -> str:
    """A commit object as git serializes it, staged in `commits` for the caller to write
    (under commit.gpgSign, made and written by git, which signs it). Its tree is freshened
    first, as libgit2's create_commit does, unless the plan's own packs hold it
    (_write_unless_the_plans)."""
    staging = Staging()
    staging.add(OBJ_TREE, bytes(repo.odb.read(tree)[1]))
    _write_unless_the_plans(repo, plan_id, staging)
    if config_flag(repo, "commit.gpgSign", False):
        return _signed_commit(
            repo, commits, scratch, tree, parents, _person(author), _person(committer), message
        )
    return commits.commit(tree, parents, _person(author), _person(committer), message)


def _signed_commit(
    repo: pygit2.Repository,
    commits: Staging,
    scratch: str,
    tree: str,
    parents: list[str],
    author: Person,
    committer: Person,
    message: str,
) -> str:
    """The commit made and signed by `git commit-tree -S`, as git commit signs under
    commit.gpgSign (gpg.program, gpg.format, user.signingKey are git's to read), staged
    in `commits`: git writes it into the `scratch` object directory (reading the
    repository's as an alternate), where the next one finds it as its parent. GitFailed,
    with git's message, when signing fails."""
    people: dict[str, str] = {}
    for role, who in (("AUTHOR", author), ("COMMITTER", committer)):
        people.update({f"GIT_{role}_NAME": who.name, f"GIT_{role}_EMAIL": who.email})
        people[f"GIT_{role}_DATE"] = f"@{who.date()}"
    # The user's key, as git commit picks it: user.signingKey, else the user's own identity
    # (a replayed commit's committer is gitplan, which has no key).
    key = "" if config_value(repo, "user.signingKey") else _ident(user_signature(repo, "committer"))
    arguments = ["commit-tree", f"-S{key}", tree, *[item for parent in parents for item in ("-p", parent)]]
    message_bytes = message.encode("utf-8", "surrogateescape")
    environment = worktree.git_env(
        repo, None, GIT_OBJECT_DIRECTORY=scratch,
        GIT_ALTERNATE_OBJECT_DIRECTORIES=alternates_variable(
            [str(common_dir(repo) / "objects"), *borrowed_object_directories(repo)]
        ),
        **people,
    )  # fmt: skip
    worktree.add_config(environment, "i18n.commitEncoding", "UTF-8")  # the bytes gitplan writes
    made = worktree.run_git(repo, [*arguments, "-F", "-"], stdin=message_bytes, env=environment)
    oid = made.decode().strip()
    data = loose_object_data(scratch, oid)
    if data is not None:
        return commits.add(OBJ_COMMIT, data)
    return oid  # the repository had this very commit already (git wrote nothing)


def _ident(who: pygit2.Signature) -> str:
    return f"{who.name} <{who.email}>"


def _person(who: pygit2.Signature) -> Person:
    return Person(who.name, who.email, (who.time, who.offset))


class _BeforeCommitPoint(Exception):
    """Internal: a conflict before the commit point, after everything was put back."""

    def __init__(self, conflict: Conflict) -> None:
        super().__init__(str(conflict))
        self.conflict = conflict


def _head_ref(repo: pygit2.Repository) -> str:
    head = repo.references.get("HEAD")
    if head is not None and head.type == pygit2.enums.ReferenceType.SYMBOLIC:
        return str(head.target)
    return "HEAD"


def _write_journal(directory: Path, journal: dict[str, Any]) -> None:
    statefile.replace(directory / "apply.json", json.dumps(journal).encode(), durable=True)


def _clear_journal(directory: Path) -> None:
    for name in ("apply.json", "apply.index"):  # apply.index: left by older versions
        with contextlib.suppress(FileNotFoundError):
            (directory / name).unlink()


def _move_head(repo: pygit2.Repository, head_ref: str, old: str, new: str, plan_id: str) -> None:
    """The commit point: the branch (or a detached HEAD) moves from `old` to `new`, or not at all."""
    ref = repo.references.get(head_ref)
    if not old:  # an unborn branch: create it, unless someone else did meanwhile
        if ref is not None:
            raise Conflict(f"{head_ref} was created while applying; nothing was committed", ())
        try:
            repo.create_reference(
                head_ref, pygit2.Oid(hex=new), force=False, message=f"plan apply: {plan_id}"
            )
        except (pygit2.AlreadyExistsError, pygit2.GitError, OSError) as error:
            raise Conflict(
                f"{head_ref} was created while applying ({error}); nothing was committed", ()
            ) from None
        refs.widen_ref(repo, head_ref)
        return
    _refuse_moved(repo, head_ref, old)
    assert ref is not None  # (_refuse_moved: it is there)
    try:
        ref.set_target(pygit2.Oid(hex=new), f"plan apply: {plan_id}")  # compare-and-swap
    except (pygit2.GitError, OSError) as error:
        raise Conflict(f"{head_ref} moved while applying ({error}); nothing was committed", ()) from None
    refs.widen_ref(repo, head_ref)
    refs.widen_ref(repo, "HEAD")


def _refuse_moved(repo: pygit2.Repository, head_ref: str, old: str) -> None:
    """Conflict unless `head_ref` still names `old`, the commit the apply was worked out on."""
    ref = repo.references.get(head_ref)
    if ref is None or ref.type != pygit2.enums.ReferenceType.DIRECT or str(ref.target) != old:
        raise Conflict(f"{head_ref} moved while applying; nothing was committed", ())


def _create_branch(repo: pygit2.Repository, branch: str, commit: str, plan_id: str) -> None:
    try:
        # Its reflog says where it came from, as `git branch` says "branch: Created from".
        repo.create_reference(f"refs/heads/{branch}", pygit2.Oid(hex=commit), False, f"plan apply: {plan_id}")
    except pygit2.AlreadyExistsError:
        raise Conflict(f"branch {branch!r} was created by someone else while applying", ()) from None
    except (pygit2.GitError, OSError) as error:  # its lock file is held
        message = f"branch {branch!r} could not be created ({error}); nothing was committed"
        raise Conflict(message, ()) from None
    refs.widen_ref(repo, f"refs/heads/{branch}")


def _roll_back(repo: pygit2.Repository, journal: dict[str, Any]) -> list[str]:
    """Put back what an apply changed, path by path, and only where it is still what the
    apply left: the index entry and the file of each written path go back to HEAD's
    (old) version when the file holds the old or the applied contents; a file changed
    since (the user's work) is left alone and returned. The paths were clean before the
    apply, so what is put back is exactly what the user had."""
    paths = list(journal["paths"])
    if not paths:
        return []
    old_tree = str(lookup_commit(repo, journal["old_head"]).tree_id) if journal["old_head"] else EMPTY_TREE
    expected = {path: {_blob(repo, old_tree, path), _blob(repo, journal["tree"], path)} for path in paths}
    workdir = Path(repo.workdir)
    present = [p for p in paths if (workdir / p).is_file() and not (workdir / p).is_symlink()]
    current: dict[str, str | None] = {p: oid for p, (oid, _) in worktree.cleaned(repo, present).items()}
    written = set(paths)
    for path in paths:
        full = workdir / path
        if full.is_symlink():
            current[path] = str(pygit2.hash(os.fsencode(os.readlink(full))))
        elif full.is_dir() and worktree.holds_other_files(workdir, full, written):
            current[path] = "a directory"  # made by the user meanwhile: theirs, left alone
        elif path not in current:
            current[path] = None  # absent (or a directory git made for the applied tree)
    ours = [path for path in paths if current[path] in expected[path] or current[path] is None]
    # A file git was writing when the apply was killed holds the start of its new contents.
    ours += [path for path in set(paths) - set(ours) if _torn_write(repo, journal["tree"], path)]
    left = sorted(set(paths) - set(ours))
    worktree.set_index_entries(repo, old_tree, ours)
    absent = set(journal.get("absent", ()))  # deleted by the user before the apply: they stay so
    failed = worktree.force_from_index(repo, [path for path in ours if path not in absent])
    return left + [f"{path} (git could not check it out)" for path in failed]


def _refuse_branch_beside(repo: pygit2.Repository, branch: str) -> None:
    """git keeps refs as files: `a/b` cannot be made beside a branch `a`, nor `a` beside `a/b`."""
    new = f"refs/heads/{branch}"
    for name in repo.references:
        if name.startswith(new + "/") or new.startswith(name + "/"):
            other = name.removeprefix("refs/heads/")
            raise BadInput(
                f"branch {branch!r} cannot be made beside the branch {other!r}; choose another name"
            )


def _clear_dead_apply_locks(repo: pygit2.Repository, plan_id: str) -> None:
    """Locks on the plan's refs left by the dead apply while it marked the plan applied."""
    _clear_dead_locks(refs.lock_path(repo, name) for name in (plan_ref(plan_id), notes_ref(plan_id)))


def _head_lock(repo: pygit2.Repository, head_ref: str) -> Path:
    """The lock file of the ref apply moves: a detached HEAD is the worktree's own."""
    return Path(repo.path) / "HEAD.lock" if head_ref == "HEAD" else refs.lock_path(repo, head_ref)


def _clear_dead_locks(locks: Iterable[Path]) -> None:
    """Remove lock files a dead apply left. A live git or gitplan releases its lock within
    milliseconds: wait a second for that first."""
    for lock in locks:
        deadline = time.monotonic() + 1.0
        while lock.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        lock.unlink(missing_ok=True)


def _torn_write(repo: pygit2.Repository, tree: str, path: str) -> bool:
    """Whether the file at `path` is a prefix of what checking out `tree`'s version writes
    (git writes a file front to back, so a kill leaves such a prefix)."""
    blob = _blob(repo, tree, path)
    full = Path(repo.workdir) / path
    if blob is None or full.is_symlink() or not full.is_file():
        return False
    written = full.read_bytes()
    checked_out = worktree.run_git(repo, ["cat-file", "--filters", f"--path={path}", blob])
    return len(written) < len(checked_out) and checked_out.startswith(written)


def _blob(repo: pygit2.Repository, tree: str, path: str) -> str | None:
    found = entry_at(repo, tree, path)
    return found[0] if found else None


def _mark_applied(
    repo: pygit2.Repository,
    plan_id: str,
    mode: str,
    branch: str | None,
    outcome: Outcome,
    commit: str | None,
    part: dict[str, Any] | None = None,
    root: str | None = None,
    leased: bool = False,
    applied_tip: str | None = None,
) -> None:
    """Record in the plan's record note that it was applied; with `root`, only if the plan
    is still the one whose root commit that is (PlanNotFound otherwise). `leased`: the
    caller holds the plan's publish gate alone (an apply and a recovery do). `applied_tip`:
    the tip the apply applied; a plan that moved from it since is a Conflict, never marked."""
    applied = {
        "at": clock.iso(clock.now("GIT_COMMITTER_DATE")),
        "mode": mode,
        "strategy": outcome.strategy,
        "onto": outcome.head,
        "commit": commit,
        "branch": branch,
        "tree": outcome.tree,
    }

    def prepare(current: refs.PlanRefs) -> Prepared[None]:
        # The commits and the plan record; the changesets' invocation records stay unread.
        chain = chains.load_chain(repo, plan_id, current, records=False)
        if root is not None and str(chain.root.id) != root:
            raise PlanNotFound(f"plan {plan_id!r} was made again since; it is not the one applied")
        if applied_tip is not None and str(chain.tip.id) != applied_tip:
            raise Conflict(f"the plan moved while it was applied (its tip is now {chain.tip.id})")
        known, problem = chains.plan_record(repo, notes_tree(repo, current.notes_tip), str(chain.root.id))
        if known is None:
            raise Damaged(f"plan {plan_id!r}: {problem}")
        if part is None:
            record = replace(known, state="applied", applied=applied)
        else:  # the plan stays open: what was not taken can be applied later or cancelled
            parts = [*known.extra.get("applied_parts", []), {**applied, "part": part}]
            record = replace(known, extra={**known.extra, "applied_parts": parts})
        tip = str(chain.tip.id)
        staging = Staging()
        notes = stage_notes_commit(
            repo,
            staging,
            current.notes_tip,
            {str(chain.root.id): encode_plan_record(record)},
            notes_message(plan_id, tip, state="applied" if part is None else "open"),
        )
        return Prepared(staging, notes, tip, len(chain.commits), None)

    transaction.write(repo, plan_id, prepare, leased=leased)


def pending_apply(repo: pygit2.Repository) -> str | None:
    """The plan of an interrupted apply waiting for recovery (its journal is there and
    no running apply holds its lock), or None. Reads only."""
    return _pending_in(_journal_dir(repo))


def writing_files(repo: pygit2.Repository, plan_id: str) -> str | None:
    """Where an interrupted apply of the plan was writing files, which recover finishes or
    puts back with the plan's trees: "" for this worktree, another worktree's top (as
    interrupted_elsewhere says it), or None. (A branch-mode apply writes no file.)"""
    if pending_apply(repo) == plan_id and _journal_paths(_journal_dir(repo)):
        return ""
    return interrupted_elsewhere(repo, plan_id, writing=True)


def _journal_paths(directory: Path) -> list[str]:
    try:
        return list(json.loads((directory / "apply.json").read_text())["paths"])
    except (OSError, ValueError, KeyError, TypeError):
        return ["?"]  # (not a journal gitplan wrote: as if it named files)


def interrupted_elsewhere(repo: pygit2.Repository, plan_id: str, writing: bool = False) -> str | None:
    """The top of another worktree of this repository where an apply of the plan was
    interrupted and awaits `git plan recover` there (with `writing`: one that was writing
    files), or None. (Each worktree keeps its own journal; the plan is everyone's.)"""
    common = common_dir(repo)
    own = Path(repo.path).resolve()
    linked = common / "worktrees"
    directories = [common, *(sorted(linked.iterdir()) if linked.is_dir() else ())]
    for git_dir in directories:
        if git_dir.resolve() == own or _pending_in(git_dir / "gitplan") != plan_id:
            continue
        if writing and not _journal_paths(git_dir / "gitplan"):
            continue
        try:  # a linked worktree's gitdir file names the .git file at its top
            dot_git = Path((git_dir / "gitdir").read_text().strip())
        except OSError:
            return str(git_dir.parent if git_dir == common else git_dir)
        if not dot_git.exists():  # deleted by hand: `git worktree prune` removes what it left
            return f"{dot_git.parent} (gone: `git worktree prune` forgets it and its apply)"
        return str(dot_git.parent)
    return None


def _pending_in(directory: Path) -> str | None:
    journal_file = directory / "apply.json"
    if not journal_file.exists():
        return None
    try:
        with open(directory / "apply.lock") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return None  # an apply is running right now
    except OSError:
        pass  # no lock file: nobody holds it
    try:
        return str(json.loads(journal_file.read_text())["plan"])
    except (OSError, ValueError, KeyError, TypeError):
        return "?"


def recover_interrupted_apply(repo: pygit2.Repository) -> str | None:
    """Finish or roll back an apply a crash interrupted; return what was done.

    Under the plan's lease and its publish gate, taken first, as an apply takes them (an
    apply takes the worktree's apply lock after them: the same order, so the two never
    wait for each other): an apply of the plan from another worktree waits for the
    recovery, then finds the plan applied, or open again."""
    journal_file = _journal_dir(repo) / "apply.json"
    if not journal_file.exists():
        return None
    try:
        plan: str | None = validate_plan_id(str(json.loads(journal_file.read_text())["plan"]))
    except (OSError, ValueError, KeyError, TypeError, GitPlanError):
        plan = None  # not one gitplan wrote: said below, under the apply lock
    faults.point("recover.locking")
    with (
        packs.apply_lease(repo, plan) if plan else contextlib.nullcontext(),
        packs.publish_gate(repo, plan, shared=False) if plan else contextlib.nullcontext(),
    ):
        return _recover(repo, plan)


def _recover(repo: pygit2.Repository, plan: str | None) -> str | None:
    directory = _journal_dir(repo)
    journal_file = directory / "apply.json"
    with _ApplyLock(repo, blocking=False) as locked:
        if not locked or not journal_file.exists():
            return None  # an apply is running right now
        try:
            journal = json.loads(journal_file.read_text())
            list(journal["paths"])
        except (OSError, ValueError, KeyError, TypeError):
            # Journals are written by rename, so this one was not written by gitplan.
            raise Damaged(
                f"{journal_file} is not a gitplan apply journal; check `git status`, then remove it"
            ) from None
        written = journal.get("index_file")  # the index the apply wrote (None: the worktree's own)
        repo = _with_index_file(repo, written if isinstance(written, str) else None)
        index_lock = Path(f"{worktree.index_path(repo)}.lock")
        if journal.get("index") == "writing" and index_lock.exists() and not worktree.held_open(index_lock):
            # Ours: the dead apply never released it, so nobody else can have taken it since
            # (unless the apply died before it took it: one a running git holds stays), nor
            # the lock of the copy git was writing for it.
            index_lock.unlink()
            Path(f"{index_lock}.lock").unlink(missing_ok=True)
        if journal["head_ref"] == "HEAD":
            current = "" if repo.head_is_unborn else str(repo.head.target)
        else:
            ref = repo.references.get(journal["head_ref"])
            current = str(ref.target) if ref is not None else ""
        if journal["mode"] == "branch":
            # The new branch was made: it holds the apply's commit (the user may have built on it).
            committed = descends(repo, current or None, journal["new_commit"])
        elif journal["mode"] == "commit":
            committed = current == journal["new_commit"]
        else:
            committed = journal["state"] == "done"
        if journal.get("plan") != plan:
            return None  # another apply's journal since we looked: the next recovery takes it
        if committed:
            # git wrote the files and the index before the commit point: only the record is left.
            if journal.get("record") == "marking":
                _clear_dead_apply_locks(repo, journal["plan"])
            # (A journal an older gitplan wrote does not say how it applied: "recovered".)
            strategy = journal.get("strategy", "recovered")
            outcome = Outcome(strategy, journal["tree"], journal["old_head"], "", (), ())
            with contextlib.suppress(PlanNotFound, Damaged):
                _mark_applied(
                    repo,
                    journal["plan"],
                    journal["mode"],
                    journal.get("branch"),
                    outcome,
                    journal.get("new_commit"),
                    journal.get("part"),
                    root=journal.get("root"),
                    leased=True,  # (held above)
                )
            _clear_journal(directory)
            return "finished"
        if journal["mode"] != "branch" and current != journal["old_head"]:
            # The user committed (or moved HEAD) since: putting the old index back would
            # undo their work. Leave it to them.
            raise Damaged(
                f"the apply of plan {journal['plan']!r} was interrupted and HEAD has moved since; "
                f"gitplan leaves your files alone: check `git status`, then remove {journal_file}"
            )
        if journal.get("head") == "moving":
            # HEAD did not move, so a lock on its ref is the one the dead apply took.
            _clear_dead_locks([_head_lock(repo, journal["head_ref"])])
        left = _roll_back(repo, journal)
        _clear_journal(directory)
        return "rolled back" + (f"; left as they are (changed since): {', '.join(left)}" if left else "")


def _with_index_file(repo: pygit2.Repository, path: str | None) -> pygit2.Repository:
    """`repo`, or the same repository with `path` for the index of its working tree."""
    if index_file(repo) == path:
        return repo
    again = reopened(repo)
    use_index_file(again, path)
    return again


def _same_to_git(entry: Entry) -> bool:
    """HEAD's entry and the result's are one file to git: one id, modes git reads alike."""
    same_mode = canonical_mode(entry.old_mode or 0) == canonical_mode(entry.new_mode or 0)
    return entry.old_id == entry.new_id and same_mode
