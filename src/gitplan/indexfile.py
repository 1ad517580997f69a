"""The object ids a git index file refers to, read without loading any object.

Cancel must keep every object some worktree's index still names: the blob of
each entry, the trees of the cache-tree extension (git reuses those ids when
it writes the next commit, so a pruned one would break it) and the blobs of
the resolve-undo extension (the sides of conflicts the user resolved, which
`git fsck` checks). libgit2's Index shows neither extension and builds an
object per entry, so the file is read here directly: versions 2, 3 and 4, and
split indexes (the `link` extension names a shared index file beside it). It
never imports pygit2, and it writes only its own sorted list of an index's
ids, kept under the index's checksum so that the next cancel need not read
the index again.
"""

from __future__ import annotations

import bisect
import os
import struct
from pathlib import Path

from . import statefile
from .errors import Damaged

_EXTENDED = 0x4000


def index_mentions(path: Path, candidates: set[bytes], remembered: Path) -> set[bytes]:
    """Those of `candidates` that the index at `path` names (entries, cache tree, resolve-undo).

    The index's ids are kept sorted in the file `remembered`, under the checksum
    git writes at the end of the index: while the index holds the same content
    (a touch, a refresh that changed nothing), the next call reads that file and
    looks the candidates up by bisection, instead of reading every entry. An index
    written without a checksum (index.skipHash) is read in full each time."""
    checksum = _checksum(path)
    if checksum is None or not candidates:
        return set()
    known = _read_remembered(remembered, checksum)
    if known is None:
        try:
            data = path.read_bytes()  # the checksum is taken again from what is read
        except FileNotFoundError:
            return set()
        ids = _object_ids(path, data)
        if data[-20:] == _NO_CHECKSUM:
            return ids & candidates
        known = _FORMAT + data[-20:] + b"".join(sorted(ids))
        statefile.keep(remembered, known)  # a read-only repository: read the index again next time
    first = len(_FORMAT) + 20
    count = (len(known) - first) // 20
    found = set()
    for candidate in candidates:
        at = bisect.bisect_left(
            range(count), candidate, key=lambda i: known[first + 20 * i : first + 20 * i + 20]
        )
        if at < count and known[first + 20 * at : first + 20 * at + 20] == candidate:
            found.add(candidate)
    return found


# The kept list's first bytes: what it holds (entries, cache tree, resolve-undo), so that a
# list written by a version that read less of the index is never taken for a complete one.
_FORMAT = b"gitplan index ids 2\n"


_NO_CHECKSUM = bytes(20)


def _checksum(path: Path) -> bytes | None:
    """The last 20 bytes of the index (git's checksum of it), or None if there is no index."""
    try:
        with path.open("rb") as handle:
            handle.seek(-20, os.SEEK_END)
            return handle.read(20)
    except FileNotFoundError:
        return None
    except OSError as error:  # shorter than a checksum
        raise Damaged(f"cannot read the index {path}: {error}") from None


def _read_remembered(remembered: Path, checksum: bytes) -> bytes | None:
    try:
        data = remembered.read_bytes()
    except OSError:
        return None
    head = len(_FORMAT)
    if not data.startswith(_FORMAT) or (len(data) - head) % 20 or data[head : head + 20] != checksum:
        return None
    return None if checksum == _NO_CHECKSUM else data


def _object_ids(path: Path, data: bytes) -> set[bytes]:
    """Every 20-byte id the index `data` (read from `path`) names, its shared index's included."""
    try:
        found, shared = _parse(data)
    except (struct.error, ValueError, IndexError) as error:
        raise Damaged(f"cannot read the index {path}: {error}") from None
    if shared is not None:
        shared_path = path.parent / f"sharedindex.{shared}"
        try:
            found |= _object_ids(shared_path, shared_path.read_bytes())
        except FileNotFoundError:
            raise Damaged(
                f"cannot read the index {path}: its shared index {shared_path.name} is missing"
            ) from None
    return found


def _parse(data: bytes) -> tuple[set[bytes], str | None]:
    signature, version, count = struct.unpack_from(">4sII", data, 0)
    if signature != b"DIRC" or version not in (2, 3, 4):
        raise ValueError(f"not a git index (signature {signature!r}, version {version})")
    found: set[bytes] = set()
    add = found.add
    position = 12
    for _ in range(count):
        start = position
        add(data[start + 40 : start + 60])
        flags = data[start + 60] << 8 | data[start + 61]
        fixed = 64 if version >= 3 and flags & _EXTENDED else 62
        name_length = flags & 0xFFF
        if version == 4:
            position = start + fixed
            while data[position] & 0x80:  # the prefix-strip length, a varint
                position += 1
            position = data.index(b"\0", position + 1) + 1
        elif name_length < 0xFFF:  # the usual case: the length is in the flags
            position = start + ((fixed + name_length + 8) & ~7)
        else:  # a name of 4095 bytes or more: find its end
            position = start + ((data.index(b"\0", start + fixed) - start + 8) & ~7)
    shared = None
    end_of_extensions = len(data) - 20
    while position + 8 <= end_of_extensions:
        name, size = struct.unpack_from(">4sI", data, position)
        body = data[position + 8 : position + 8 + size]
        if name == b"TREE":
            found |= _cache_tree_ids(body)
        elif name == b"REUC":
            found |= _resolve_undo_ids(body)
        elif name == b"link" and len(body) >= 20:
            shared = body[:20].hex()
        position += 8 + size
    return found, shared


def _resolve_undo_ids(body: bytes) -> set[bytes]:
    """The blobs of the stages of conflicts the user resolved (git keeps them, for
    `git checkout -m`, and `git fsck` checks them)."""
    found: set[bytes] = set()
    position = 0
    while position < len(body):
        position = body.index(b"\0", position) + 1  # the path
        modes = []
        for _ in range(3):  # stages 1 to 3, "0" where absent
            end = body.index(b"\0", position)
            modes.append(int(body[position:end], 8))
            position = end + 1
        for mode in modes:
            if mode:
                found.add(body[position : position + 20])
                position += 20
    return found


def _cache_tree_ids(body: bytes) -> set[bytes]:
    found: set[bytes] = set()
    position = 0
    while position < len(body):
        position = body.index(b"\0", position) + 1  # the path
        line_end = body.index(b"\n", position)
        entry_count = int(body[position:line_end].split(b" ")[0])
        position = line_end + 1
        if entry_count >= 0:  # -1: invalidated, no id follows
            found.add(body[position : position + 20])
            position += 20
    return found
