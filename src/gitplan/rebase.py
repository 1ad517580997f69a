"""Carrying a writer's edits from the state it read onto a tip that moved.

Paths nobody else touched since the writer's parent apply as they are; a path
changed on both sides is merged with libgit2's 3-way file merge (on one-entry
trees, so cost does not grow with the repository); a real overlap is a
Conflict and nothing is written. Never writes refs.
"""

from __future__ import annotations

from collections.abc import Mapping

import pygit2

from .errors import Conflict
from .trees import Edit, entry_at


def rebase_edits(
    repo: pygit2.Repository, parent_tree: str, tip_tree: str, edits: Mapping[str, Edit]
) -> dict[str, Edit]:
    """`edits` made against `parent_tree`, rewritten to apply on `tip_tree`."""
    rebased: dict[str, Edit] = {}
    conflicts: list[str] = []
    for path, edit in edits.items():
        base = entry_at(repo, parent_tree, path)
        ours = entry_at(repo, tip_tree, path)
        theirs = (str(edit[0]), edit[1]) if edit is not None else None
        if base == ours:  # untouched since the writer's parent
            if edit is None and ours is None:
                continue
            rebased[path] = edit
        elif theirs in (ours, base):  # same result already, or no change of ours
            continue
        elif base is None or ours is None or theirs is None:
            conflicts.append(path)  # added on both sides, or deleted on one and changed on the other
        else:
            merged = _merge_file(repo, path, base, ours, theirs)
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


def _merge_file(
    repo: pygit2.Repository,
    path: str,
    base: tuple[str, int],
    ours: tuple[str, int],
    theirs: tuple[str, int],
) -> tuple[pygit2.Oid, int] | None:
    def one_entry_tree(entry: tuple[str, int]) -> pygit2.Oid:
        builder = repo.TreeBuilder()
        builder.insert("f", pygit2.Oid(hex=entry[0]), entry[1])
        return builder.write()

    index = repo.merge_trees(one_entry_tree(base), one_entry_tree(ours), one_entry_tree(theirs))
    if index.conflicts is not None:
        return None
    merged = index["f"]
    return merged.id, merged.mode
