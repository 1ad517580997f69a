"""Finding a plan's own objects and deleting the loose ones nothing else reaches.

A plan's own objects are its commits, the trees and blobs each changeset
introduced (found by descending only into subtrees whose ids differ from the
parent's), and its notes commits, trees and blobs. Of those, only loose
objects are deleted, and only when no other ref, reflog entry, pseudo-ref,
index (of any worktree) or other plan reaches them. Packed objects are left
to `git gc`. Called only after the plan's refs are gone.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

import pygit2

from .errors import Damaged
from .gitrepo import common_dir
from .model import CleanupReport
from .trees import MODE_COMMIT, MODE_TREE

_PSEUDO_REFS = (
    "HEAD",
    "ORIG_HEAD",
    "FETCH_HEAD",
    "MERGE_HEAD",
    "CHERRY_PICK_HEAD",
    "REVERT_HEAD",
    "AUTO_MERGE",
    "REBASE_HEAD",
)


def plan_objects(repo: pygit2.Repository, tip: str | None, notes_tip: str | None) -> set[str]:
    """Ids of the objects a plan introduced, from its tip and notes tip."""
    found: set[str] = set()
    commit_id = tip
    while commit_id is not None and commit_id not in found:
        commit = _get(repo, commit_id)
        if not isinstance(commit, pygit2.Commit) or "Changeset:" not in commit.message:
            break  # the plan root: its tree is its base's, its parent the base
        found.add(commit_id)
        commit_id = str(commit.parent_ids[0])
        parent = _get(repo, commit_id)
        _new_objects(repo, commit.tree, parent.tree if isinstance(parent, pygit2.Commit) else None, found)
    root = _get(repo, commit_id) if commit_id is not None else None
    if isinstance(root, pygit2.Commit) and "Plan-Id:" in root.message:
        found.add(str(root.id))
    notes_id = notes_tip
    while notes_id is not None and notes_id not in found:
        notes_commit = _get(repo, notes_id)
        if not isinstance(notes_commit, pygit2.Commit):
            break
        found.add(notes_id)
        parent_tree = notes_commit.parents[0].tree if notes_commit.parent_ids else None
        _new_objects(repo, notes_commit.tree, parent_tree, found)
        notes_id = str(notes_commit.parent_ids[0]) if notes_commit.parent_ids else None
    return found


def _get(repo: pygit2.Repository, oid: str) -> pygit2.Object | None:
    try:
        return repo[oid]
    except (KeyError, ValueError):
        return None


def _new_objects(
    repo: pygit2.Repository, tree: pygit2.Tree, old: pygit2.Tree | None, found: set[str]
) -> None:
    if old is not None and tree.id == old.id:
        return
    found.add(str(tree.id))
    old_items = {item.name: item for item in old} if old is not None else {}
    for item in tree:
        before = old_items.get(item.name)
        if before is not None and before.id == item.id:
            continue
        if item.filemode == MODE_TREE:
            # Objects may vanish under us (a cancel pruning them): look up, never peel.
            old_sub = _get(repo, str(before.id)) if before is not None else None
            sub = _get(repo, str(item.id))
            if isinstance(sub, pygit2.Tree):
                _new_objects(repo, sub, old_sub if isinstance(old_sub, pygit2.Tree) else None, found)
        elif item.filemode != MODE_COMMIT:
            found.add(str(item.id))


def loose_path(repo: pygit2.Repository, oid: str) -> Path:
    return common_dir(repo) / "objects" / oid[:2] / oid[2:]


def reachable_elsewhere(repo: pygit2.Repository, candidates: set[str]) -> set[str]:
    """Which candidates some ref, reflog, pseudo-ref or index still reaches."""
    roots = set(_root_ids(repo))
    keep: set[str] = set()
    seen: set[str] = set()
    commits = [oid for oid in roots if isinstance(_get(repo, oid), pygit2.Commit)]
    for oid in roots:
        if oid in candidates:
            keep.add(oid)
        obj = _get(repo, oid)
        if isinstance(obj, pygit2.Tree | pygit2.Blob):
            _mark(repo, obj, candidates, keep, seen)
        elif isinstance(obj, pygit2.Tag):
            target = _get(repo, str(obj.target))
            if target is not None:
                _mark(repo, target, candidates, keep, seen)
                if isinstance(target, pygit2.Commit):
                    commits.append(str(target.id))
    if commits:
        walker = repo.walk(commits[0], pygit2.enums.SortMode.NONE)
        for oid in commits[1:]:
            walker.push(pygit2.Oid(hex=oid))
        for commit in walker:
            if str(commit.id) in candidates:
                keep.add(str(commit.id))
            _mark(repo, commit.tree, candidates, keep, seen)
    return keep


def _mark(
    repo: pygit2.Repository,
    obj: pygit2.Object,
    candidates: set[str],
    keep: set[str],
    seen: set[str],
) -> None:
    oid = str(obj.id)
    if oid in seen:
        return
    seen.add(oid)
    if oid in candidates:
        keep.add(oid)
    if isinstance(obj, pygit2.Tree):
        for item in obj:
            item_id = str(item.id)
            if item.filemode == MODE_TREE:
                if item_id not in seen:
                    sub = _get(repo, item_id)
                    if sub is not None:
                        _mark(repo, sub, candidates, keep, seen)
            elif item_id in candidates:
                keep.add(item_id)


def _root_ids(repo: pygit2.Repository) -> Iterable[str]:
    for name in repo.references:
        ref = repo.references.get(name)
        if ref is None:
            continue
        with contextlib.suppress(KeyError, pygit2.GitError):
            yield str(ref.resolve().target)
        try:
            for entry in ref.log():
                yield str(entry.oid_old)
                yield str(entry.oid_new)
        except (KeyError, pygit2.GitError, OSError):
            pass
    # The main git dir and each linked worktree's admin dir: HEAD, ORIG_HEAD & co., index.
    main_dir = common_dir(repo)
    git_dirs = [main_dir, *sorted(p for p in (main_dir / "worktrees").glob("*") if p.is_dir())]
    for git_dir in git_dirs:
        yield from _pseudo_refs(repo, git_dir)
    yield from _index_ids(git_dirs)


def _pseudo_refs(repo: pygit2.Repository, git_dir: Path) -> Iterable[str]:
    for name in _PSEUDO_REFS:
        try:
            text = (git_dir / name).read_text()
        except OSError:
            continue
        for word in text.split():
            if len(word) == 40 and all(c in "0123456789abcdef" for c in word):
                yield word
            elif word.startswith("refs/"):
                target = repo.references.get(word)
                if target is not None:
                    yield str(target.target)
    yield from _reflog(git_dir / "logs" / "HEAD")


def _reflog(path: Path) -> Iterable[str]:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return
    for line in text.splitlines():
        parts = line.split(" ", 2)
        if len(parts) >= 2:
            yield parts[0]
            yield parts[1]


def _index_ids(git_dirs: list[Path]) -> Iterable[str]:
    for git_dir in git_dirs:
        index_path = git_dir / "index"
        if not index_path.exists():
            continue
        try:
            index = pygit2.Index(str(index_path))
        except (pygit2.GitError, OSError) as error:
            raise Damaged(f"cannot read {index_path} ({error}); nothing was pruned") from None
        yield from (str(entry.id) for entry in index)


def prune_plan(
    repo: pygit2.Repository, plan_id: str, candidates: set[str], refs_deleted: tuple[str, ...]
) -> CleanupReport:
    """Delete the loose candidates nothing else reaches; report what happened."""
    loose = {oid for oid in candidates if loose_path(repo, oid).exists()}
    keep = reachable_elsewhere(repo, loose) if loose else set()
    pruned = 0
    freed = 0
    for oid in sorted(loose - keep):
        path = loose_path(repo, oid)
        try:
            size = path.stat().st_size
            os.remove(path)
        except FileNotFoundError:
            continue
        pruned += 1
        freed += size
        with contextlib.suppress(OSError):
            path.parent.rmdir()
    return CleanupReport(
        plan=plan_id,
        refs_deleted=refs_deleted,
        objects_pruned=pruned,
        objects_kept=len(candidates) - pruned,
        bytes_freed=freed,
    )
