"""Carrying a writer's edits from the state it read onto a tip that moved.

Paths nobody else touched since the writer's parent apply as they are; a path
changed on both sides is merged line by line with `git merge-file` (the
writer's version is only staged in memory, and libgit2's file merge reads
blobs from the object store, so the three versions go through temporary files
outside the repository); a real overlap is a Conflict. Nothing is written to
the repository: a merged result is staged with the writer's other objects.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pygit2

from .errors import BadInput, Conflict
from .objects import Staging, read_blob
from .trees import MODE_TREE, Edit, entry_at

MODE_SYMLINK = 0o120000


def rebase_edits(
    repo: pygit2.Repository,
    staging: Staging,
    parent_tree: str,
    tip_tree: str,
    edits: Mapping[str, Edit],
    tip_at: Callable[[str], tuple[str, int] | None] | None = None,
) -> dict[str, Edit]:
    """`edits` made against `parent_tree`, rewritten to apply on `tip_tree`.

    `tip_at(path)` gives the entries of the tip instead of `tip_tree` when the tip
    is only staged (plan surgery replaying changesets one after another)."""
    rebased: dict[str, Edit] = {}
    conflicts: list[str] = []
    for path, edit in edits.items():
        base = entry_at(repo, parent_tree, path)
        ours = tip_at(path) if tip_at is not None else entry_at(repo, tip_tree, path)
        theirs = edit
        if theirs is None and base is None:  # (dropped as "no change" below, said nothing)
            raise BadInput(
                f"cannot delete '{path}': no such file in the plan where the edits were made", (path,)
            )
        if base == ours:  # untouched since the writer's parent (edit_tree refuses bad deletes)
            rebased[path] = edit
        elif theirs in (ours, base):  # same result already, or no change of ours
            continue
        elif base is None or ours is None or theirs is None or MODE_TREE in (base[1], ours[1]):
            # Added on both sides, deleted on one and changed on the other, or a
            # directory on one side where the other has a file: not a line merge.
            conflicts.append(path)
        else:
            merged = _merge_file(repo, staging, base, ours, theirs)
            if merged is None:
                conflicts.append(path)
            else:
                rebased[path] = merged
    if conflicts:
        raise Conflict(
            "conflicting edits: another changeset changed the same lines of " + ", ".join(conflicts),
            tuple(conflicts),
        )
    return rebased


def _merged_mode(base: int, ours: int, theirs: int) -> int | None:
    if ours in (base, theirs):
        return theirs
    if theirs == base:
        return ours
    return None


def _merge_file(
    repo: pygit2.Repository,
    staging: Staging,
    base: tuple[str, int],
    ours: tuple[str, int],
    theirs: tuple[str, int],
) -> tuple[str, int] | None:
    mode = _merged_mode(base[1], ours[1], theirs[1])
    if mode is None or MODE_SYMLINK in (base[1], ours[1], theirs[1]):
        return None
    with tempfile.TemporaryDirectory(prefix="gitplan-merge-") as scratch:
        names = []
        for label, (oid, _) in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(scratch) / label
            path.write_bytes(read_blob(repo, staging, oid))
            names.append(str(path))
        merged = subprocess.run(
            ["git", "merge-file", "-p", *names],
            capture_output=True,
            cwd=scratch,
            check=False,
        )
    if merged.returncode != 0:  # conflicts (their count) or an error such as binary input
        return None
    return staging.blob(merged.stdout), mode
