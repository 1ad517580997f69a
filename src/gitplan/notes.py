"""Notes commits for a plan's notes ref, written by hand and read in one pass.

`repo.create_note()` moves the notes ref without any check and lost notes
under concurrent writers, so notes commits are built here (a flat notes tree,
one entry per annotated commit, the old notes tip as parent) and the ref is
moved by the caller with compare-and-swap. Notes commits are staged in memory
with the rest of a transaction (objects.py). Readers accept git's fan-out layout
too, in case someone edits a plan's notes with `git notes`.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Mapping

import pygit2

from .gitrepo import committer_person
from .objects import Staging, encode_tree
from .packfile import OBJ_TREE

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
    additions = {name.encode(): bytes.fromhex(staging.blob(payload)) for name, payload in notes.items()}
    data = _spliced(_raw_notes_tree(repo, notes_tip), additions)
    if data is None:  # not gitplan's uniform flat layout (edited with `git notes`?)
        entries: dict[bytes, tuple[int, bytes]] = {}
        for item in notes_tree(repo, notes_tip) or ():
            entries[bytes(item.raw_name or b"")] = (item.filemode, item.id.raw)
        for name, blob in additions.items():
            entries[name] = (MODE_BLOB, blob)
        data = encode_tree((mode, name, oid) for name, (mode, oid) in entries.items())
    tree = staging.add(OBJ_TREE, data)
    _remember(tree, data)
    stamp = committer_person()
    return staging.commit(tree, [notes_tip] if notes_tip else [], stamp, stamp, message)


# The notes trees this process wrote last, by id. A plan's notes tree grows by one
# entry per changeset (68 KB at 1,000); the next record of the plan starts from it,
# and reading it back would cost more than the splice. Objects are named by their
# content, so an entry can never be stale.
_RECENT_TREES: OrderedDict[str, bytes] = OrderedDict()
_RECENT_LIMIT = 8


def _remember(tree: str, data: bytes) -> None:
    _RECENT_TREES[tree] = data
    _RECENT_TREES.move_to_end(tree)
    while len(_RECENT_TREES) > _RECENT_LIMIT:
        _RECENT_TREES.popitem(last=False)


def _raw_notes_tree(repo: pygit2.Repository, notes_tip: str | None) -> bytes:
    """The bytes of the notes tree at `notes_tip` (empty without one)."""
    if notes_tip is None:
        return b""
    commit = repo.get(notes_tip)
    if not isinstance(commit, pygit2.Commit):
        return b""
    tree = str(commit.tree_id)
    remembered = _RECENT_TREES.get(tree)
    return remembered if remembered is not None else bytes(repo.odb.read(tree)[1])


_ENTRY = 68  # b"100644 " + 40 hex digits + NUL + 20-byte id
_MODE = b"100644 "


class _Names:
    """The names of a flat notes tree's fixed-size entries, as a sequence for bisect."""

    def __init__(self, raw: bytes) -> None:
        self._raw = raw

    def __len__(self) -> int:
        return len(self._raw) // _ENTRY

    def __getitem__(self, index: int) -> bytes:
        start = index * _ENTRY + len(_MODE)
        return self._raw[start : start + 40]


def _spliced(raw: bytes, additions: Mapping[bytes, bytes]) -> bytes | None:
    """The flat notes tree `raw` with entries added or replaced, by splicing bytes.

    gitplan's notes trees hold only `100644 <commit id>` entries of one size,
    so the place of a new entry is found by bisection and the tree is not
    rebuilt: a record costs a copy of the tree, not a parse of it. None when
    the tree is not of that shape."""
    count = len(raw) // _ENTRY
    uniform = (
        len(raw) % _ENTRY == 0
        and all(len(name) == 40 for name in additions)
        and all(raw[offset::_ENTRY] == bytes([byte]) * count for offset, byte in enumerate(_MODE))
        and raw[_ENTRY - 21 :: _ENTRY] == b"\0" * count
    )
    if not uniform:
        return None
    for name, blob in sorted(additions.items()):
        names = _Names(raw)
        at = bisect.bisect_left(names, name)
        entry = _MODE + name + b"\0" + blob
        replace = at < len(names) and names[at] == name
        raw = raw[: at * _ENTRY] + entry + raw[(at + 1 if replace else at) * _ENTRY :]
    return raw
