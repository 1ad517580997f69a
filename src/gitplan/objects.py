"""Objects staged in memory, then written at once as one pack.

Every gitplan write (a plan's root, a changeset, a notes commit) builds its
blobs, trees, commits and notes here, computing their ids in plain Python, so
that every check can run before anything reaches the disk: a refused record
writes nothing. `write_pack` then puts all of them in one pack file and its
index (two files, whatever the number of objects), registered to the plan
that owns them (see packs.py).

Objects are serialized exactly as git serializes them; reading existing
objects still goes through libgit2. Nothing here moves a ref.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pygit2

from . import clock, packfile
from .errors import BadInput
from .packfile import OBJ_BLOB, OBJ_COMMIT, OBJ_TREE

MODE_TREE = 0o040000
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


@dataclass(frozen=True, slots=True)
class Person:
    """An author or committer line: name, email and when."""

    name: str
    email: str
    stamp: clock.Stamp

    def encode(self) -> bytes:
        return f"{self.name} <{self.email}> {self.date()}".encode("utf-8", "surrogateescape")

    def date(self) -> str:
        """When, as git writes it: seconds since the epoch and the zone (`1700000000 +0100`)."""
        seconds, minutes = self.stamp
        sign = "-" if minutes < 0 else "+"
        return f"{seconds} {sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


# A tree entry as git stores it: (mode, raw name, 20-byte id).
TreeEntry = tuple[int, bytes, bytes]


def tree_sort_key(entry: TreeEntry) -> bytes:
    """git orders tree entries by name, comparing a subtree's name as if it ended in '/'."""
    mode, name, _ = entry
    return name + b"/" if mode == MODE_TREE else name


def encode_tree(entries: Iterable[TreeEntry]) -> bytes:
    return b"".join(
        b"%o %s\0%s" % (mode, name, oid) for mode, name, oid in sorted(entries, key=tree_sort_key)
    )


def encode_commit(
    tree: str, parents: Iterable[str], author: Person, committer: Person, message: str
) -> bytes:
    lines = [b"tree " + tree.encode()]
    lines += [b"parent " + parent.encode() for parent in parents]
    lines.append(b"author " + author.encode())
    lines.append(b"committer " + committer.encode())
    return b"\n".join(lines) + b"\n\n" + message.encode("utf-8", "surrogateescape")


CHUNK = 1 << 20


def file_chunks(path: str, size: int) -> Iterator[bytes]:
    """The bytes of a file, 1 MiB at a time; BadInput if its size is no longer `size`."""
    seen = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            seen += len(chunk)
            yield chunk
    if seen != size:
        raise BadInput(f"{path} changed while it was being recorded")


class Staging:
    """The new objects of one transaction, in memory, in the order they were made.

    Large blobs are not held: `blob_from_file` hashes the file and keeps its
    path, and the pack writer streams it from there (checking it is unchanged)."""

    def __init__(self) -> None:
        self._objects: dict[bytes, tuple[int, bytes]] = {}
        self._streamed: dict[bytes, tuple[str, int]] = {}

    def __len__(self) -> int:
        return len(self._objects) + len(self._streamed)

    def copy(self) -> Staging:
        """A new staging area holding the same objects (one per attempt of a transaction)."""
        twin = Staging()
        twin._objects = dict(self._objects)
        twin._streamed = dict(self._streamed)
        return twin

    def __contains__(self, oid: str) -> bool:
        return bytes.fromhex(oid) in self._objects

    def add(self, kind: int, data: bytes) -> str:
        oid = packfile.object_id(kind, data)
        self._objects.setdefault(oid, (kind, data))
        return oid.hex()

    def blob(self, data: bytes) -> str:
        return self.add(OBJ_BLOB, bytes(data))

    def blob_from_file(self, path: str) -> str:
        """Stage a file's contents as a blob without reading it into memory."""
        try:
            size = os.stat(path).st_size
            digest = hashlib.sha1(b"blob %d\0" % size)
            for chunk in file_chunks(path, size):
                digest.update(chunk)
        except OSError as error:
            raise BadInput(f"cannot read {path}: {error.strerror}") from None
        oid = digest.digest()
        if oid not in self._objects:
            self._streamed[oid] = (path, size)
        return oid.hex()

    def streamed(self, oid: str) -> tuple[str, int] | None:
        """(path, size) of a blob staged from a file, else None."""
        return self._streamed.get(bytes.fromhex(oid))

    def tree(self, entries: Iterable[TreeEntry]) -> str:
        return self.add(OBJ_TREE, encode_tree(entries))

    def commit(
        self, tree: str, parents: Iterable[str], author: Person, committer: Person, message: str
    ) -> str:
        return self.add(OBJ_COMMIT, encode_commit(tree, parents, author, committer, message))

    def data(self, oid: str) -> bytes | None:
        found = self._objects.get(bytes.fromhex(oid))
        return found[1] if found else None

    def items(self) -> Iterable[tuple[bytes, int, bytes]]:
        for oid, (kind, data) in self._objects.items():
            yield oid, kind, data

    def streamed_items(self) -> Iterable[tuple[bytes, str, int]]:
        for oid, (path, size) in self._streamed.items():
            yield oid, path, size


def loose_object_data(objects: str | os.PathLike[str], oid: str) -> bytes | None:
    """The content (header stripped) of the loose object `oid` under the object directory
    `objects` (a scratch one git wrote into), or None when it is not there."""
    try:
        raw = zlib.decompress(Path(objects, oid[:2], oid[2:]).read_bytes())
    except FileNotFoundError:
        return None
    return raw[raw.index(b"\0") + 1 :]


def read_blob(repo: pygit2.Repository, staging: Staging | None, oid: str) -> bytes:
    """A blob's bytes, from the transaction's staged objects or else the repository."""
    if staging is not None:
        found = staging.data(oid)
        if found is not None:
            return found
        streamed = staging.streamed(oid)
        if streamed is not None:
            with open(streamed[0], "rb") as handle:
                return handle.read()
    from .gitrepo import read_blob as read_stored

    return read_stored(repo, oid)
