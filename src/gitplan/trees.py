"""Tree editing and tree comparison that cost O(changed paths x depth).

pygit2 cannot insert nested paths and libgit2's tree diff walks identical
subtrees, so both are done here: edits rebuild only the trees along the
changed paths, and comparisons descend only into subtrees whose ids differ.
This module never writes refs, the index or the working tree.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

import pygit2

from . import pathspecs
from .errors import BadInput, Damaged
from .gitrepo import EMPTY_TREE, lookup, write_object
from .model import MODE_EXECUTABLE, MODE_FILE, MODE_KEEP
from .objects import Staging
from .packfile import OBJ_TREE

MODE_TREE = 0o040000
MODE_COMMIT = 0o160000

# An edit: (blob id in hex, mode) to write, or None to delete.
Edit = tuple[str, int] | None


@dataclass(frozen=True, slots=True)
class Entry:
    """One non-tree entry that differs between two trees (None side = absent)."""

    path: str
    old_id: str | None
    old_mode: int | None
    new_id: str | None
    new_mode: int | None


def _tree(repo: pygit2.Repository, oid: pygit2.Oid | str | None) -> pygit2.Tree | None:
    return None if oid is None else lookup(repo, oid, pygit2.Tree)


def entry_at(repo: pygit2.Repository, tree_id: pygit2.Oid | str, path: str) -> tuple[str, int] | None:
    """(object id, mode) of the entry at `path`, or None; reads only the trees on the way."""
    tree = _tree(repo, tree_id)
    parts = path.split("/")
    for depth, name in enumerate(parts):
        assert tree is not None
        if name not in tree:
            return None
        item = tree[name]
        if depth == len(parts) - 1:
            return str(item.id), item.filemode
        if item.filemode != MODE_TREE:
            return None
        tree = _tree(repo, item.id)
    return None


def staged_entry_at(
    repo: pygit2.Repository, staging: Staging, tree_id: str, path: str
) -> tuple[str, int] | None:
    """entry_at for a tree that may be only staged (as may the trees under it)."""
    current = tree_id
    parts = path.encode("utf-8", "surrogateescape").split(b"/")
    for depth, name in enumerate(parts):
        data = staging.data(current)
        raw = data if data is not None else _raw_tree(repo.odb, current)
        found = _parsed(_WHOLE_ENTRY.findall(raw)).get(name)
        last = depth == len(parts) - 1
        if found is None or (not last and found[0] != _MODE_TREE):
            return None
        if last:
            return found[1].hex(), int(found[0], 8)
        current = found[1].hex()
    return None  # pragma: no cover - (a path has at least one part)


def entries_of(repo: pygit2.Repository, tree_id: str) -> Callable[[str], tuple[str, int] | None]:
    """entry_at for one tree, each path looked up once: a record resolves modes, then
    lists what changed, on the same tree and paths."""
    found: dict[str, tuple[str, int] | None] = {}

    def old_at(path: str) -> tuple[str, int] | None:
        if path not in found:
            found[path] = entry_at(repo, tree_id, path)
        return found[path]

    return old_at


def edit_tree(
    repo: pygit2.Repository, staging: Staging, tree_id: str | None, edits: Mapping[str, Edit]
) -> str:
    """The id of the tree that is `tree_id` with `edits` applied; new trees are staged.

    Only trees along the edited paths are read and built; nothing is written.
    Deleting a path that does not exist is refused, as is a path that is both a
    file and a directory.
    """
    split = {tuple(path.encode("utf-8", "surrogateescape").split(b"/")): edit for path, edit in edits.items()}
    try:
        new_id = _edit(repo, staging, _tree(repo, tree_id), split, ())
    except RecursionError:  # one level of _edit per directory: some hundreds fit
        deepest = max(edits, key=lambda path: path.count("/"))
        raise BadInput(
            f"{deepest[:60]!r}... is {deepest.count('/')} directories deep, more than gitplan can record"
        ) from None
    if new_id == EMPTY_TREE:
        staging.tree(())
    return new_id


def _what(mode: bytes) -> str:
    """What a non-directory entry is, for an error that names it."""
    if mode == b"%o" % MODE_COMMIT:
        return "it is a submodule in the plan; change its files in the submodule's own repository"
    if mode == b"120000":
        return "it is a symlink in the plan"
    return "it is a file in the plan"


def _shown(prefix: tuple[bytes, ...], name: bytes) -> str:
    return b"/".join((*prefix, name)).decode("utf-8", "surrogateescape")


# One tree entry: mode, name, 20-byte id. Read in sequence from the start of a
# well-formed tree, so a match can never begin inside an id.
_TREE_ENTRY = re.compile(rb"(\d+) ([^\0]*)\0(.{20})", re.DOTALL)
_WHOLE_ENTRY = re.compile(rb"\d+ [^\0]*\0.{20}", re.DOTALL)
_ENTRY_RUN = re.compile(rb"(?:\d+ [^\0]*\0.{20})*", re.DOTALL)  # whole entries in a row
_MODE_TREE = b"40000"


_Items = dict[bytes, tuple[bytes, bytes]]  # raw entries by name: (mode as git writes it, raw id)


def _parsed(entries: Iterable[bytes]) -> _Items:
    """Whole raw entries by name: (mode as git writes it, raw 20-byte id)."""
    found = {}
    for entry in entries:
        mode, rest = entry[:-20].split(b" ", 1)
        found[rest[:-1]] = (mode, entry[-20:])
    return found


def _edit(
    repo: pygit2.Repository,
    staging: Staging,
    tree: pygit2.Tree | None,
    edits: Mapping[tuple[bytes, ...], Edit],
    prefix: tuple[bytes, ...],
) -> str:
    leaves: dict[bytes, Edit] = {}
    nested: dict[bytes, dict[tuple[bytes, ...], Edit]] = {}
    for parts, edit in edits.items():
        if len(parts) == 1:
            leaves[parts[0]] = edit
        else:
            nested.setdefault(parts[0], {})[parts[1:]] = edit
    raw = tree.read_raw() if tree is not None else b""
    # The entries this level touches, found by libgit2's bisection; all of them only when needed.
    entries = _touched(tree, leaves.keys() | nested.keys())
    whole = entries is None
    if entries is None:
        entries = {name: (mode, oid) for mode, name, oid in _TREE_ENTRY.findall(raw)}
    before = dict(entries) if not whole else {}
    # Deletions first, then directories, then files: a file may replace a directory whose
    # files are all deleted, and a directory a deleted file.
    for name, edit in leaves.items():
        if edit is not None:
            continue
        existing = entries.get(name)
        if existing is None:
            shown = _shown(prefix, name)
            raise BadInput(f"cannot delete '{shown}': no such file in the plan", (shown,))
        if existing[0] == _MODE_TREE:
            shown = _shown(prefix, name)
            raise BadInput(f"cannot delete '{shown}': it is a directory; delete the files in it", (shown,))
        del entries[name]
    for name, sub_edits in nested.items():
        existing = entries.get(name)
        subtree = None
        if existing is not None:
            if existing[0] != _MODE_TREE:
                raise BadInput(f"cannot write below '{_shown(prefix, name)}': {_what(existing[0])}")
            subtree = _tree(repo, existing[1].hex())
        new_id = _edit(repo, staging, subtree, sub_edits, (*prefix, name))
        if new_id == EMPTY_TREE:
            entries.pop(name, None)
        else:
            entries[name] = (_MODE_TREE, bytes.fromhex(new_id))
    for name, edit in leaves.items():
        if edit is None:
            continue
        existing = entries.get(name)
        if existing is not None and existing[0] == _MODE_TREE:
            if name in nested:
                raise BadInput(f"'{_shown(prefix, name)}' cannot be both a file and a directory")
            raise BadInput(f"cannot write '{_shown(prefix, name)}': it is a directory in the plan")
        entries[name] = (b"%o" % edit[1], bytes.fromhex(edit[0]))
    data = None if whole else _spliced(raw, before, entries)
    if data is None:
        if not whole:  # only the touched entries are known: start from all of them
            full = {name: (mode, oid) for mode, name, oid in _TREE_ENTRY.findall(raw)}
            for name in before.keys() - entries.keys():
                del full[name]
            full.update(entries)
            entries = full
        data = _encoded(entries)
    if not data:
        return EMPTY_TREE
    if data == raw:
        return str(tree.id) if tree is not None else EMPTY_TREE  # unchanged: nothing to stage
    return staging.add(OBJ_TREE, data)


def _touched(tree: pygit2.Tree | None, names: Iterable[bytes]) -> dict[bytes, tuple[bytes, bytes]] | None:
    """(mode, id) of each named entry that exists; None when a name is not UTF-8 (parse all)."""
    found: dict[bytes, tuple[bytes, bytes]] = {}
    if tree is None:
        return found
    for name in names:
        try:
            text = name.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if text in tree:
            item = tree[text]
            found[name] = (b"%o" % item.filemode, item.id.raw)
    return found


def _spliced(
    raw: bytes, before: dict[bytes, tuple[bytes, bytes]], after: dict[bytes, tuple[bytes, bytes]]
) -> bytes | None:
    """`raw` with entries replaced in place, when every change keeps its entry's place.

    A modified file or subtree keeps its name and its kind, so git's order is
    unchanged and its bytes can be swapped; additions and deletions move
    entries, so they return None and the tree is rebuilt."""
    if before.keys() != after.keys():
        return None
    data = raw
    for name, (mode, oid) in after.items():
        old_mode, old_oid = before[name]
        if (old_mode == _MODE_TREE) != (mode == _MODE_TREE):
            return None
        old = b"%s %s\0%s" % (old_mode, name, old_oid)
        at = data.find(old)
        # Written differently (a zero-padded mode), or also found inside another entry (a name
        # such as "a 100644 b", the same id): rebuild.
        if at < 0 or data.find(old, at + 1) >= 0:
            return None
        data = data[:at] + b"%s %s\0%s" % (mode, name, oid) + data[at + len(old) :]
    return data


def _encoded(entries: dict[bytes, tuple[bytes, bytes]]) -> bytes:
    ordered = sorted(entries, key=lambda name: name + b"/" if entries[name][0] == _MODE_TREE else name)
    return b"".join(b"%s %s\0%s" % (entries[name][0], name, entries[name][1]) for name in ordered)


def kept_modes(
    repo: pygit2.Repository,
    tree_id: str,
    edits: Mapping[str, Edit],
    old_at: Callable[[str], tuple[str, int] | None] | None = None,
) -> dict[str, Edit]:
    """`edits` with each MODE_KEEP resolved: the mode of the regular file at that path of
    `tree_id`, or 100644 where there is none (a new path, a symlink, a directory).
    `old_at(path)`, when given, finds the entries of `tree_id` (entries_of)."""
    resolved: dict[str, Edit] = {}
    for path, edit in edits.items():
        if edit is not None and edit[1] == MODE_KEEP:
            found = old_at(path) if old_at is not None else entry_at(repo, tree_id, path)
            mode = MODE_EXECUTABLE if found is not None and found[1] == MODE_EXECUTABLE else MODE_FILE
            edit = (edit[0], mode)
        resolved[path] = edit
    return resolved


def edit_entries(
    repo: pygit2.Repository,
    tree_id: str,
    edits: Mapping[str, Edit],
    old_at: Callable[[str], tuple[str, int] | None] | None = None,
) -> list[Entry]:
    """The file-level differences `edits` make to `tree_id`, in git's path order.

    `old_at(path)` stands in for the entries of `tree_id` when that tree is only
    staged (plan surgery replays changesets onto trees not yet written)."""
    found = []
    for path, edit in edits.items():
        old = old_at(path) if old_at is not None else entry_at(repo, tree_id, path)
        if old is not None and old[1] == MODE_TREE:
            old = None  # a directory a file replaces: its files are deleted by edits of their own
        if old == edit:
            continue
        found.append(
            Entry(
                path=path,
                old_id=old[0] if old else None,
                old_mode=old[1] if old else None,
                new_id=edit[0] if edit else None,
                new_mode=edit[1] if edit else None,
            )
        )
    found.sort(key=lambda entry: entry.path.encode("utf-8", "surrogateescape"))
    return found


def changed_entries(
    repo: pygit2.Repository,
    old_tree: pygit2.Oid | str | None,
    new_tree: pygit2.Oid | str | None,
    pathspec: Iterable[str] = (),
) -> list[Entry]:
    """Every file-level difference between two trees, in git's path order.

    Descends only into subtrees whose ids differ, so the cost follows the
    change, not the repository."""
    specs = tuple(s for s in pathspec if s)
    remembered = _remembered.get()
    key = (str(old_tree), str(new_tree), specs)
    if remembered is not None and key in remembered:
        return list(remembered[key])
    found: list[Entry] = []
    odb = repo.odb
    _compare(odb, _raw_tree(odb, old_tree), _raw_tree(odb, new_tree), "", specs, found)
    found.sort(key=lambda entry: entry.path.encode("utf-8", "surrogateescape"))
    if remembered is not None:
        remembered[key] = tuple(found)
    return found


def index_changes(old_tree: pygit2.Tree, index: pygit2.Index) -> list[Entry]:
    """Every file-level difference from a tree to an index held in memory (a merge
    result never written), in git's path order. libgit2 compares the ids in C; nothing
    is written."""
    found = []
    diff = index.diff_to_tree(old_tree, flags=pygit2.enums.DiffOption.INCLUDE_TYPECHANGE)
    for delta in diff.deltas:
        old = None if delta.status == pygit2.enums.DeltaStatus.ADDED else delta.old_file
        new = None if delta.status == pygit2.enums.DeltaStatus.DELETED else delta.new_file
        found.append(
            Entry(
                path=(new or delta.old_file).raw_path.decode("utf-8", "surrogateescape"),
                old_id=str(old.id) if old is not None else None,
                old_mode=int(old.mode) if old is not None else None,
                new_id=str(new.id) if new is not None else None,
                new_mode=int(new.mode) if new is not None else None,
            )
        )
    found.sort(key=lambda entry: entry.path.encode("utf-8", "surrogateescape"))
    return found


@contextlib.contextmanager
def comparisons_remembered() -> Iterator[None]:
    """Within the block, each comparison of two trees is made once: an apply verifies
    each changeset, then compares HEAD with the result, and for a plan of one
    changeset on an unmoved HEAD those are the same two trees. (Trees are named by
    their content, so a pair of ids always compares the same way.)"""
    token = _remembered.set({})
    try:
        yield
    finally:
        _remembered.reset(token)


_remembered: contextvars.ContextVar[dict[tuple[str, str, tuple[str, ...]], tuple[Entry, ...]] | None] = (
    contextvars.ContextVar("remembered_comparisons", default=None)
)


def _raw_tree(odb: pygit2.Odb, oid: pygit2.Oid | str | bytes | None) -> bytes:
    """A tree's raw bytes (empty for None), read once, without building a Tree object."""
    if oid is None:
        return b""
    key = pygit2.Oid(raw=oid) if isinstance(oid, bytes) else pygit2.Oid(hex=str(oid))
    if str(key) == EMPTY_TREE:  # libgit2 knows the empty tree without storing it
        return b""
    try:
        kind, data = odb.read(key)
    except KeyError:
        raise Damaged(f"tree {key} is missing from the repository") from None
    if kind != pygit2.enums.ObjectType.TREE:
        raise Damaged(f"object {key} is not a tree")
    return data


def _differing(old: bytes, new: bytes) -> tuple[_Items, _Items]:
    """The entries of two raw trees that differ, each side's by name (see _parsed).

    Raw bytes, not pygit2 entry objects, and only what differs is parsed: the bytes
    are compared in C to find where the trees part, the entries before that point
    are only counted, and an entry of the same length on both sides (the usual change:
    a file's new content) is read from both where it lies. Once the entries there
    differ in length, or after a few such pairs (an entry come or gone before many of
    one length shifts them all: pairing each would cost the rest of the trees again and
    again), the rest of both trees is compared as sets of whole entries."""
    old_items: _Items = {}
    new_items: _Items = {}
    at = 0  # an entry boundary in both trees, with the same bytes before it
    boundary = 0
    for _ in range(_MOST_PAIRED):
        parting = _first_difference(old, new, at)
        if parting == len(old) == len(new):
            return old_items, new_items
        # The entries between `at` and the parting are the same on both sides.
        # (A run of no entries is a match: there is always one.)
        boundary = _ENTRY_RUN.match(old, at, parting).end()  # type: ignore[union-attr]
        before = _WHOLE_ENTRY.match(old, boundary)
        after = _WHOLE_ENTRY.match(new, boundary)
        if before is None or after is None or before.end() != after.end():
            break
        # One entry edited in place, or one gone and another come in its place: by name,
        # _compare tells them apart (and skips an entry met on both sides unchanged).
        old_items.update(_parsed((before.group(),)))
        new_items.update(_parsed((after.group(),)))
        at = boundary = before.end()
    old_rest, new_rest = set(_WHOLE_ENTRY.findall(old, boundary)), set(_WHOLE_ENTRY.findall(new, boundary))
    old_items.update(_parsed(old_rest - new_rest))
    new_items.update(_parsed(new_rest - old_rest))
    return old_items, new_items


_MOST_PAIRED = 8  # entries read in place before the rest is compared as sets


def _first_difference(old: bytes, new: bytes, start: int) -> int:
    """The first offset from `start` where the two differ (or the shorter ends); the
    bytes before `start` are equal. A binary search of slice comparisons, each in C."""
    low, high = start, min(len(old), len(new))
    if old[low:high] == new[low:high]:
        return high
    while high - low > 1:  # old[low:high] and new[low:high] differ; old[:low] == new[:low]
        middle = (low + high) // 2
        if old[low:middle] == new[low:middle]:
            low = middle
        else:
            high = middle
    return low


def _compare(
    odb: pygit2.Odb,
    old: bytes,
    new: bytes,
    prefix: str,
    specs: tuple[str, ...],
    found: list[Entry],
) -> None:
    old_items, new_items = _differing(old, new)
    for name in old_items.keys() | new_items.keys():
        before = old_items.get(name)
        after = new_items.get(name)
        if before == after:
            continue  # an entry that moved along when another came or went before it
        path = prefix + name.decode("utf-8", "surrogateescape")
        if specs and not pathspecs.may_hold(path, specs):
            continue
        old_is_tree = before is not None and before[0] == _MODE_TREE
        new_is_tree = after is not None and after[0] == _MODE_TREE
        if old_is_tree or new_is_tree:
            _compare(
                odb,
                _raw_tree(odb, before[1]) if old_is_tree and before is not None else b"",
                _raw_tree(odb, after[1]) if new_is_tree and after is not None else b"",
                path + "/",
                specs,
                found,
            )
        old_blob = before if before is not None and not old_is_tree else None
        new_blob = after if after is not None and not new_is_tree else None
        gitlink = any(entry is not None and entry[0] == b"160000" for entry in (old_blob, new_blob))
        if (old_blob or new_blob) and (not specs or pathspecs.matches(path, specs, gitlink)):
            found.append(
                Entry(
                    path=path,
                    old_id=old_blob[1].hex() if old_blob else None,
                    old_mode=int(old_blob[0], 8) if old_blob else None,
                    new_id=new_blob[1].hex() if new_blob else None,
                    new_mode=int(new_blob[0], 8) if new_blob else None,
                )
            )


def canonical_modes(repo: pygit2.Repository, tree_id: str) -> str:
    """The tree with every mode as git reads it, written to `repo` where it differs.

    A very old git wrote modes such as `100664`; git reads them as `100644` (its
    canon_mode) and never writes them again, but trees that kept them still exist,
    and libgit2's merge refuses them. Reads the whole tree: only for that case."""
    entries = []
    changed = False
    for mode, name, oid in _TREE_ENTRY.findall(_raw_tree(repo.odb, tree_id)):
        canonical = b"%o" % canonical_mode(int(mode, 8))
        if canonical == _MODE_TREE:
            inner = canonical_modes(repo, oid.hex())
            changed = changed or inner != oid.hex()
            oid = bytes.fromhex(inner)
        changed = changed or canonical != mode
        entries.append(b"%s %s\0%s" % (canonical, name, oid))
    if not changed:
        return tree_id
    return str(write_object(repo, pygit2.enums.ObjectType.TREE, b"".join(entries)))


def canonical_mode(mode: int) -> int:
    """A tree entry's mode as git reads it: a regular file is 100644 or 100755 (by its
    owner's execute bit), and anything neither a file, a directory nor a symlink is a gitlink."""
    kind = mode & 0o170000
    if kind == 0o100000:
        return 0o100755 if mode & 0o100 else 0o100644
    if kind == MODE_TREE:
        return MODE_TREE
    return 0o120000 if kind == 0o120000 else MODE_COMMIT


def directories(repo: pygit2.Repository, tree_id: str) -> list[str]:
    """Every directory of a tree (not the top), "/"-separated; reads only tree objects."""
    found: list[str] = []
    pending = [("", _tree(repo, tree_id))]
    while pending:
        prefix, tree = pending.pop()
        for name, (mode, oid) in _raw_entries(tree).items():
            if mode == _MODE_TREE:
                path = prefix + name.decode("utf-8", "surrogateescape")
                found.append(path)
                pending.append((path + "/", _tree(repo, oid.hex())))
    return found


def _raw_entries(tree: pygit2.Tree | None) -> dict[bytes, tuple[bytes, bytes]]:
    """A tree's entries by name: (mode as git writes it, raw 20-byte id)."""
    if tree is None:
        return {}
    return {name: (mode, oid) for mode, name, oid in _TREE_ENTRY.findall(tree.read_raw())}


def under(path: str, directories: Iterable[str]) -> bool:
    """Is `path` one of `directories`, or inside one? (`` or `.` stands for the whole tree.)"""
    for directory in directories:
        top = directory.rstrip("/")
        if top in ("", ".") or path == top or path.startswith(top + "/"):
            return True
    return False
