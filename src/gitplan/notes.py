"""Notes commits for a plan's notes ref, written by hand and read in one pass.

`repo.create_note()` moves the notes ref without any check and lost notes
under concurrent writers, so notes commits are built here (the notes tree laid
out as below, the old notes tip as parent) and the ref is moved by the caller
with compare-and-swap. Notes commits are staged in memory with the rest of a
transaction (objects.py). Readers accept any fan-out, in case someone edits a
plan's notes with `git notes`.
"""

from __future__ import annotations

import bisect
import re
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence

import pygit2

from .errors import Damaged
from .gitrepo import committer_person
from .objects import Staging, TreeEntry, encode_tree
from .packfile import OBJ_TREE


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


class TooFannedOut(Exception):
    """A notes tree that takes more walking than any git writes: its subtrees are shared
    many times over, so that a few objects name millions of paths."""


_FAN_OUT = re.compile(r"[0-9a-f]{2}")
MOST_SUBTREES = 256 + 256 * 256  # git fans notes out two levels deep at most
MOST_ENTRIES = 1_000_000  # entries walked, at most: 200,000 notes fanned out twice by git fit


def changed_notes(
    old: pygit2.Tree | None, new: pygit2.Tree | None, most: int = MOST_ENTRIES
) -> Iterator[tuple[str, pygit2.Object | None, pygit2.Object | None]]:
    """Each entry that differs (in id or mode) between two notes trees: its path
    (`ab/cdef...` when fanned out), the entry in `old` and the entry in `new` (None
    where there is none). Only fan-out subtrees (two hex digits, as git names them)
    that differ are entered; any other entry, a tree or not, is yielded as it is.
    TooFannedOut once more than `most` entries were walked."""
    pending: list[tuple[str, pygit2.Tree | None, pygit2.Tree | None]] = [("", old, new)]
    walked = 0
    while pending:
        prefix, before, after = pending.pop()
        was_at = {str(item.name): item for item in before} if before is not None else {}
        now_at = {str(item.name): item for item in after} if after is not None else {}
        walked += len(was_at) + len(now_at)
        if walked > most:
            raise TooFannedOut(prefix)
        for entry in was_at.keys() | now_at.keys():
            was, now = was_at.get(entry), now_at.get(entry)
            if was is not None and now is not None and (was.id, was.filemode) == (now.id, now.filemode):
                continue
            path = prefix + entry
            was_tree, now_tree = _fan_out(was, path), _fan_out(now, path)
            if was_tree is not None or now_tree is not None:
                pending.append((path + "/", was_tree, now_tree))
            was_entry = was if was_tree is None else None
            now_entry = now if now_tree is None else None
            if was_entry is not None or now_entry is not None:
                yield path, was_entry, now_entry


def _fan_out(item: pygit2.Object | None, path: str) -> pygit2.Tree | None:
    """`item` if it is a fan-out subtree at `path` (at most 38 hex digits deep)."""
    if (
        isinstance(item, pygit2.Tree)
        and len(path.replace("/", "")) <= 38
        and _FAN_OUT.fullmatch(item.name or "")
    ):
        return item
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
    raw = _raw_notes_tree(repo, notes_tip)
    tree = _flat_added(staging, raw, additions)
    if tree is None:
        tree = _fanned_added(repo, staging, raw, additions)
    if tree is None:  # neither of gitplan's layouts (edited with `git notes`?): laid out again
        found, others = _all_notes(notes_tree(repo, notes_tip))
        tree = _laid_out(staging, {**found, **additions}, others)
    stamp = committer_person()
    return staging.commit(tree, [notes_tip] if notes_tip else [], stamp, stamp, message)


# -- the two layouts ---------------------------------------------------------------
#
# Below 256 notes, the tree is flat: `100644 <40 hex>` entries. From 256 on, it is
# fanned out: `40000 <2 hex>` subtrees holding `100644 <38 hex>` entries, the layout
# `git fast-import` gives the same notes (git notes reads any fan-out). Each record
# then rewrites the small root and one subtree, not a tree of every note: a flat tree
# of 10,000 notes is 680 KB, written again by every record. The layout follows from
# the number of notes alone, so the same notes always give the same tree; and a tree
# is never part flat, part fanned out. (git fans out a second level from 65,536
# notes; gitplan keeps one, which git reads as well.)

FLAT_LIMIT = 255  # the most notes a flat tree holds
_MODE = b"100644 "
_DIR_MODE = b"40000 "
_FLAT = (_MODE, 40)  # (mode, name length) of each layout's entries
_ROOT = (_DIR_MODE, 2)
_LEAF = (_MODE, 38)


def _flat_added(staging: Staging, raw: bytes, additions: Mapping[bytes, bytes]) -> str | None:
    data = _spliced(raw, additions, _FLAT)
    if data is None:
        return None
    if len(data) // _size(_FLAT) > FLAT_LIMIT:
        return _laid_out(staging, _entries(data, _FLAT))
    return _staged(staging, data)


def _fanned_added(
    repo: pygit2.Repository, staging: Staging, raw: bytes, additions: Mapping[bytes, bytes]
) -> str | None:
    if not raw or not _uniform(raw, _ROOT):
        return None
    subtrees = _entries(raw, _ROOT)
    groups: dict[bytes, dict[bytes, bytes]] = {}
    for name, blob in additions.items():
        groups.setdefault(name[:2], {})[name[2:]] = blob
    leaves_data = {}
    for prefix, leaves in groups.items():
        old = subtrees.get(prefix)
        leaf_raw = _raw_tree(repo, old.hex()) if old is not None else b""
        data = _spliced(leaf_raw, leaves, _LEAF) if leaf_raw is not None else None
        if data is None:
            return None  # nothing staged yet: a tree of another layout is laid out again
        leaves_data[prefix] = data
    changed = {prefix: bytes.fromhex(_staged(staging, data)) for prefix, data in leaves_data.items()}
    root = _spliced(raw, changed, _ROOT)
    assert root is not None  # uniform, checked above
    return _staged(staging, root)


def _laid_out(staging: Staging, notes: Mapping[bytes, bytes], others: Sequence[TreeEntry] = ()) -> str:
    """The tree of `notes` (40-hex name -> blob id), in the layout their number calls for,
    with `others` (entries that are not notes: `name`, or `ab/name` inside a fan-out
    directory) where they were. Flat, whatever their number, when an entry at the top has
    the name of a fan-out directory the notes would need."""
    blob, directory = 0o100644, 0o40000
    top = [(mode, name, oid) for mode, name, oid in others if b"/" not in name]
    inside: dict[bytes, list[TreeEntry]] = {}
    for mode, name, oid in others:
        if b"/" in name:
            prefix, _, rest = name.partition(b"/")
            inside.setdefault(prefix, []).append((mode, rest, oid))
    groups: dict[bytes, list[TreeEntry]] = {}
    for name, oid in notes.items():
        groups.setdefault(name[:2], []).append((blob, name[2:], oid))
    if len(notes) <= FLAT_LIMIT or any(name in groups for _, name, _ in top):
        entries = [(blob, name, oid) for name, oid in notes.items()]
    else:
        entries = []
        for prefix, leaves in groups.items():
            inside[prefix] = [*leaves, *inside.get(prefix, [])]
    subtrees = [
        (directory, prefix, bytes.fromhex(_staged(staging, encode_tree(leaves))))
        for prefix, leaves in inside.items()
    ]
    return _staged(staging, encode_tree([*entries, *subtrees, *top]))


def _all_notes(tree: pygit2.Tree | None) -> tuple[dict[bytes, bytes], list[TreeEntry]]:
    """Every note of a tree of any fan-out, by annotated commit id; and the entries that
    are not notes, at the top or one fan-out directory down (git keeps those too).
    Damaged for a tree too big to walk, or a file that is not a note further down."""
    notes: dict[bytes, bytes] = {}
    others: list[TreeEntry] = []
    try:
        for path, _, item in changed_notes(None, tree):
            assert item is not None  # compared with nothing, every entry is new
            name = path.replace("/", "")
            if is_note_name(name) and not isinstance(item, pygit2.Tree):
                notes[name.encode()] = item.id.raw
            elif path.count("/") <= 1:
                others.append((item.filemode, path.encode("utf-8", "surrogateescape"), item.id.raw))
            else:
                raise Damaged(
                    f"the notes tree holds {path}, which is not a note, two fan-out directories down: "
                    "move it with git, then record again"
                )
    except TooFannedOut:
        raise Damaged("the notes tree holds more entries than gitplan walks (its subtrees repeat)") from None
    return notes, others


def is_note_name(name: str) -> bool:
    """Whether `name` (its fan-out slashes removed) names a note: a full commit id."""
    return _NOTE_NAME.fullmatch(name) is not None


_NOTE_NAME = re.compile(r"[0-9a-f]{40}")


def _staged(staging: Staging, data: bytes) -> str:
    tree = staging.add(OBJ_TREE, data)
    _remember(tree, data)
    return tree


# The notes trees this process wrote last, by id. A plan's next record starts from
# them, and reading them back would cost more than the splice. Objects are named by
# their content, so an entry can never be stale.
_RECENT_TREES: OrderedDict[str, bytes] = OrderedDict()
_RECENT_LIMIT = 8


def _remember(tree: str, data: bytes) -> None:
    _RECENT_TREES[tree] = data
    _RECENT_TREES.move_to_end(tree)
    while len(_RECENT_TREES) > _RECENT_LIMIT:
        _RECENT_TREES.popitem(last=False)


def _raw_tree(repo: pygit2.Repository, tree: str) -> bytes | None:
    """A tree's bytes; None if the object is not a tree."""
    remembered = _RECENT_TREES.get(tree)
    if remembered is not None:
        return remembered
    kind, data = repo.odb.read(tree)
    return bytes(data) if kind == pygit2.enums.ObjectType.TREE else None


def _raw_notes_tree(repo: pygit2.Repository, notes_tip: str | None) -> bytes:
    """The bytes of the notes tree at `notes_tip` (empty without one)."""
    if notes_tip is None:
        return b""
    commit = repo.get(notes_tip)
    if not isinstance(commit, pygit2.Commit):
        return b""
    return _raw_tree(repo, str(commit.tree_id)) or b""


def _size(layout: tuple[bytes, int]) -> int:
    mode, name_length = layout
    return len(mode) + name_length + 1 + 20


class _Names:
    """The names of a tree's fixed-size entries, as a sequence for bisect."""

    def __init__(self, raw: bytes, layout: tuple[bytes, int]) -> None:
        self._raw = raw
        self._size = _size(layout)
        self._start = len(layout[0])
        self._length = layout[1]

    def __len__(self) -> int:
        return len(self._raw) // self._size

    def __getitem__(self, index: int) -> bytes:
        start = index * self._size + self._start
        return self._raw[start : start + self._length]


def _uniform(raw: bytes, layout: tuple[bytes, int]) -> bool:
    """Whether `raw` holds only entries of this layout's mode and name length."""
    size = _size(layout)
    count = len(raw) // size
    return (
        len(raw) % size == 0
        and all(raw[offset::size] == bytes([byte]) * count for offset, byte in enumerate(layout[0]))
        and raw[size - 21 :: size] == b"\0" * count
    )


def _entries(raw: bytes, layout: tuple[bytes, int]) -> dict[bytes, bytes]:
    """A uniform tree's entries, name -> id."""
    size, start, length = _size(layout), len(layout[0]), layout[1]
    return {
        raw[at + start : at + start + length]: raw[at + size - 20 : at + size]
        for at in range(0, len(raw), size)
    }


def _spliced(raw: bytes, additions: Mapping[bytes, bytes], layout: tuple[bytes, int]) -> bytes | None:
    """The tree `raw` with entries added or replaced, by splicing bytes.

    gitplan's notes trees hold entries of one mode and one name length, so the
    place of a new entry is found by bisection and the tree is not rebuilt: a
    record costs a copy of the tree, not a parse of it. None when the tree is
    not of that shape."""
    mode, length = layout
    if not _uniform(raw, layout) or any(len(name) != length for name in additions):
        return None
    size = _size(layout)
    for name, oid in sorted(additions.items()):
        names = _Names(raw, layout)
        at = bisect.bisect_left(names, name)
        replace = at < len(names) and names[at] == name
        raw = raw[: at * size] + mode + name + b"\0" + oid + raw[(at + 1 if replace else at) * size :]
    return raw
