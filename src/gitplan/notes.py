"""Notes commits for a plan's notes ref, written by hand and read in one pass.

`repo.create_note()` moves the notes ref without any check and lost notes
under concurrent writers, so notes commits are built here (a flat notes tree,
one entry per annotated commit, the old notes tip as parent) and the ref is
moved by the caller with compare-and-swap. Readers accept git's fan-out layout
too, in case someone edits a plan's notes with `git notes`.
"""

from __future__ import annotations

from collections.abc import Mapping

import pygit2

from .gitrepo import committer


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


def write_notes_commit(
    repo: pygit2.Repository,
    notes_tip: str | None,
    notes: Mapping[str, bytes],
    message: str,
) -> pygit2.Oid:
    """A notes commit whose tree is the old one plus `notes` (commit id -> payload)."""
    old_tree = notes_tree(repo, notes_tip)
    builder = repo.TreeBuilder(old_tree) if old_tree is not None else repo.TreeBuilder()
    for annotated, payload in notes.items():
        builder.insert(annotated, repo.create_blob(payload), pygit2.GIT_FILEMODE_BLOB)
    tree_id = builder.write()
    signature = committer()
    parents = [pygit2.Oid(hex=notes_tip)] if notes_tip else []
    return repo.create_commit(None, signature, signature, message, tree_id, parents)
