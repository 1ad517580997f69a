"""Notes commits for a plan's notes ref, written by hand and read in one pass.

`repo.create_note()` moves the notes ref without any check and lost notes
under concurrent writers, so notes commits are built here (a flat notes tree,
one entry per annotated commit, the old notes tip as parent) and the ref is
moved by the caller with compare-and-swap. Notes commits are staged in memory
with the rest of a transaction (objects.py). Readers accept git's fan-out layout
too, in case someone edits a plan's notes with `git notes`.
"""

from __future__ import annotations

from collections.abc import Mapping

import pygit2

from .gitrepo import committer_person
from .objects import Staging

MODE_BLOB = 0o100644


def notes_tree(repo: pygit2.Repository, notes_tip: str | None) -> pygit2.Tree | None:
    if notes_tip is None:
        return None
    commit = repo.get(notes_tip)
    return commit.tree if isinstance(commit, pygit2.Commit) else None


def note_blob_id(tree: pygit2.Tree | None, annotated: str) -> str | None:
    """Id of the note blob for commit `annotated`, flat or fanned out."""
    if tree is None:
        return None
    if annotated in tree:
        return str(tree[annotated].id)
    node = tree
    rest = annotated
    while len(rest) > 2:  # git's fan-out: ab/cdef..., ab/cd/ef...
        head, rest = rest[:2], rest[2:]
        if head not in node:
            return None
        item = node[head]
        if not isinstance(item, pygit2.Tree):
            return None
        node = item
        if rest in node:
            return str(node[rest].id)
    return None


def stage_notes_commit(
    repo: pygit2.Repository,
    staging: Staging,
    notes_tip: str | None,
    notes: Mapping[str, bytes],
    message: str,
) -> str:
    """Stage a notes commit whose tree is the old one plus `notes` (commit id -> payload)."""
    entries: dict[bytes, tuple[int, bytes]] = {}
    old_tree = notes_tree(repo, notes_tip)
    if old_tree is not None:
        for item in old_tree:
            entries[bytes(item.raw_name or b"")] = (item.filemode, item.id.raw)
    for annotated, payload in notes.items():
        entries[annotated.encode()] = (MODE_BLOB, bytes.fromhex(staging.blob(payload)))
    tree = staging.tree((mode, name, oid) for name, (mode, oid) in entries.items())
    stamp = committer_person()
    return staging.commit(tree, [notes_tip] if notes_tip else [], stamp, stamp, message)
