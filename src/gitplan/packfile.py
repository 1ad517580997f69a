"""Pack files and their indexes, written and read in plain Python.

gitplan writes each transaction's objects as one pack (`objects/pack/pack-<sha>.pack`
and its version-2 `.idx`), not as one loose file per object: two files per
changeset instead of dozens. The packs are ordinary git packs: git and libgit2
read them, `git fsck`, `git gc` and `git repack` handle them like any other.

What it must never do: write a file that another process could see half
written. Both files are written under temporary names, flushed to disk (as git
does for packs), and only then renamed into place, the pack before its index,
because readers discover packs by their `.idx`. It never imports pygit2.
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

from . import faults, permissions

# Object type numbers as packs store them.
OBJ_COMMIT = 1
OBJ_TREE = 2
OBJ_BLOB = 3
OBJ_TAG = 4
OBJ_OFS_DELTA = 6  # a delta whose base is named by its distance back in the same pack
TYPE_NAMES = {OBJ_COMMIT: b"commit", OBJ_TREE: b"tree", OBJ_BLOB: b"blob", OBJ_TAG: b"tag"}

_IDX_MAGIC = b"\377tOc"
_LARGE_OFFSET = 0x80000000


def object_id(kind: int, data: bytes) -> bytes:
    """The 20-byte SHA-1 git gives an object of this type and content."""
    digest = hashlib.sha1(b"%s %d\0" % (TYPE_NAMES[kind], len(data)))
    digest.update(data)
    return digest.digest()


class PackEntry(NamedTuple):
    """One object as it sits in a pack: id, where it starts, its raw entry bytes' CRC.

    A named tuple, not a frozen dataclass: a consolidating record reads and makes
    hundreds of these, and a frozen dataclass takes several times as long to build."""

    oid: bytes
    offset: int
    crc: int


@dataclass(frozen=True, slots=True)
class WrittenPack:
    """A pack now in place: its name (`pack-<sha>`), path, and what it holds."""

    name: str
    path: Path
    object_ids: frozenset[bytes]
    size: int


def _entry_header(kind: int, size: int) -> bytes:
    byte = (kind << 4) | (size & 0x0F)
    size >>= 4
    out = bytearray()
    while size:
        out.append(byte | 0x80)
        byte = size & 0x7F
        size >>= 7
    out.append(byte)
    return bytes(out)


class _HashingFile:
    """A file being written that also keeps the SHA-1 of everything written."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._handle = open(path, "xb")  # noqa: SIM115 - closed by finish()/abandon()
        self._digest = hashlib.sha1()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._handle.write(data)
        self._digest.update(data)
        self.size += len(data)

    def finish(self) -> bytes:
        """Append the checksum and flush the file to disk (git flushes packs by default too)."""
        checksum = self._digest.digest()
        self._handle.write(checksum)
        self.size += len(checksum)
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        return checksum

    def abandon(self) -> None:
        try:
            self._handle.close()  # (flushes what is buffered: on a full disk, that fails)
        except OSError:
            pass
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)


class PackWriter:
    """Write objects into a new pack; `commit()` puts the pack and its index in place.

    Objects are added whole (`add`), streamed (`add_stream`, for large blobs), or
    as raw entries copied from another pack (`add_raw`, for consolidation)."""

    def __init__(self, pack_dir: Path, count: int, compression: int = 1) -> None:
        self._dir = pack_dir
        stem = f"tmp_pack_gitplan_{os.getpid()}_{os.urandom(4).hex()}"
        temporary = f"{pack_dir}{os.sep}{stem}"  # strings, not Paths: a record makes several
        self._pack = _HashingFile(temporary)
        self._idx_path = f"{temporary}_idx"
        self._count = count
        self._level = compression
        self._entries: list[PackEntry] = []
        self.name = ""
        self._pack.write(b"PACK" + struct.pack(">II", 2, count))

    def add(self, oid: bytes, kind: int, data: bytes) -> None:
        # A tree is mostly 20-byte binary ids, which do not compress: deflating a
        # 3.5 KB directory of 100 files saves 30% of it, takes several times as long as
        # storing it, and every later read inflates it again. zlib's level 0 stores the
        # bytes in a valid stream that git and libgit2 read like any other.
        level = 0 if kind == OBJ_TREE else self._level
        if len(data) < _COPY_CHUNK:
            self._append(oid, _entry_header(kind, len(data)) + deflate(data, level))
            return
        # Large: deflated a piece at a time and written as it comes, so that no second
        # copy of the whole (compressed, then with its header) is ever held.
        view = memoryview(data)
        pieces = (view[start : start + _COPY_CHUNK] for start in range(0, len(data), _COPY_CHUNK))
        self._deflated(oid, kind, len(data), pieces, level)

    def add_stream(self, oid: bytes, kind: int, size: int, chunks: Iterable[bytes]) -> None:
        """An object whose content arrives in chunks; ValueError if it does not hash to `oid`."""
        digest = hashlib.sha1(b"%s %d\0" % (TYPE_NAMES[kind], size))

        def hashed() -> Iterator[bytes]:
            for chunk in chunks:
                digest.update(chunk)
                yield chunk

        self._deflated(oid, kind, size, hashed(), self._level, check=lambda: digest.digest() == oid)

    def _deflated(
        self,
        oid: bytes,
        kind: int,
        size: int,
        chunks: Iterable[bytes | memoryview],
        level: int,
        check: Callable[[], bool] | None = None,
    ) -> None:
        """An entry whose body is deflated from `chunks` as they come, and written so.
        ValueError (the entry not listed) if `check` says the content was not `oid`'s."""
        offset = self._pack.size
        header = _entry_header(kind, size)
        crc = zlib.crc32(header)
        self._pack.write(header)
        compressor = zlib.compressobj(level)
        for chunk in chunks:
            piece = compressor.compress(chunk)
            if piece:
                self._pack.write(piece)
                crc = zlib.crc32(piece, crc)
        tail = compressor.flush()
        self._pack.write(tail)
        crc = zlib.crc32(tail, crc)
        if check is not None and not check():
            raise ValueError("a streamed object changed while it was written")
        self._entries.append(PackEntry(oid, offset, crc & 0xFFFFFFFF))

    def add_raw(self, oid: bytes, raw: bytes) -> None:
        """An entry copied verbatim (header and compressed body) from another pack."""
        self._append(oid, raw)

    def add_pack(self, pack_path: Path, entries: list[PackEntry]) -> None:
        """Every entry of another pack (its index's `entries`), copied as one block: the
        offsets shift by where the block lands, the CRCs are the index's own, and a delta's
        base keeps its distance (it is in the same block)."""
        shift = self._pack.size - _PACK_HEADER
        with open(pack_path, "rb") as handle:
            remaining = os.fstat(handle.fileno()).st_size - _PACK_HEADER - 20
            if entries and max(entry.offset for entry in entries) >= _PACK_HEADER + remaining:
                raise ValueError(f"{pack_path} is shorter than its index says")
            handle.seek(_PACK_HEADER)
            while remaining > 0:
                chunk = handle.read(min(remaining, _COPY_CHUNK))
                if not chunk:
                    raise ValueError(f"{pack_path} is shorter than its header says")
                self._pack.write(chunk)
                remaining -= len(chunk)
        self._entries.extend(PackEntry(entry.oid, entry.offset + shift, entry.crc) for entry in entries)

    def _append(self, oid: bytes, raw: bytes) -> None:
        self._entries.append(PackEntry(oid, self._pack.size, zlib.crc32(raw) & 0xFFFFFFFF))
        self._pack.write(raw)

    def finish(self) -> str:
        """Complete both files under their temporary names; return the pack's name."""
        assert len(self._entries) == self._count, "the pack header announced another count"
        try:
            faults.point("packfile.finish")
            checksum = self._pack.finish()
            _write_index(self._idx_path, self._entries, checksum)
        except BaseException:
            self.abandon()
            raise
        # Named by the checksum and a nonce, not the checksum alone: two writers that write
        # identical objects (two creates of one plan in one second) then never share a pack,
        # so neither can delete the other's. git reads packs of any name.
        self.name = f"pack-{hashlib.sha1(checksum + os.urandom(20)).hexdigest()}"
        return self.name

    @property
    def temporary_pack(self) -> str:
        return self._pack.path

    def install(self, keep: str | None = None) -> WrittenPack:
        """Put both files in place, the pack first: readers find packs by their index.

        With `keep`, a `.keep` file holding that text comes first of all, so that
        no `git repack` can ever see the pack without it."""
        stem = f"{self._dir}{os.sep}{self.name}"  # strings: a record installs a pack or two
        if keep is not None:
            write_keep(f"{stem}.keep", keep)
        permissions.widen(self._pack.path)  # before they are in place, as git widens them
        permissions.widen(self._idx_path)
        os.replace(self._pack.path, f"{stem}.pack")
        faults.point("packfile.pack-in-place")  # a kill here leaves a pack without its index
        os.replace(self._idx_path, f"{stem}.idx")
        return WrittenPack(
            self.name, Path(f"{stem}.pack"), frozenset(e.oid for e in self._entries), self._pack.size
        )

    def abandon(self) -> None:
        self._pack.abandon()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._idx_path)


def write_keep(path: str | Path, text: str) -> None:
    """A pack's `.keep` holding `text`, whole or not at all (written aside, then renamed):
    one cut short by a kill would not be recognised as gitplan's, and stay for good."""
    aside = f"{path}.{os.getpid()}.tmp"
    with open(aside, "wb") as handle:
        handle.write(text.encode())
    faults.point("packfile.keep-aside")
    permissions.widen(aside)
    os.replace(aside, path)


def deflate(data: bytes, level: int) -> bytes:
    """`data` as one zlib stream, with the window and hash table sized to it.

    zlib.compress sets up a 32 KiB window and a 64 KiB hash table for every call,
    and clearing and filling them costs far more than compressing a commit, a note
    or a small file (60-70 us against 5-10 us, measured on these machines). A window
    as big as the object finds every match the default one would (the stream is the
    same size), and any zlib reader inflates it."""
    bits = min(15, max(9, (len(data) + _LOOKAHEAD).bit_length()))
    if bits == 15:
        return zlib.compress(data, level)
    compressor = zlib.compressobj(level, zlib.DEFLATED, bits, bits - 7)
    return compressor.compress(data) + compressor.flush()


_LOOKAHEAD = 262  # zlib's MIN_LOOKAHEAD: the window holds the data and this much more
_PACK_HEADER = 12  # "PACK", version, object count
_COPY_CHUNK = 1 << 20


def _write_index(path: str, entries: list[PackEntry], pack_checksum: bytes) -> None:
    ordered = sorted(entries, key=lambda entry: entry.oid)
    fanout = [0] * 256
    for entry in ordered:
        fanout[entry.oid[0]] += 1
    running = 0
    for byte in range(256):
        running += fanout[byte]
        fanout[byte] = running
    small: list[int] = []
    large: list[int] = []
    for entry in ordered:
        if entry.offset < _LARGE_OFFSET:
            small.append(entry.offset)
        else:
            small.append(_LARGE_OFFSET | len(large))
            large.append(entry.offset)
    index = _HashingFile(path)
    try:
        index.write(_IDX_MAGIC + struct.pack(">I", 2))
        index.write(struct.pack(">256I", *fanout))
        index.write(b"".join(entry.oid for entry in ordered))
        index.write(struct.pack(f">{len(ordered)}I", *(entry.crc for entry in ordered)))
        index.write(struct.pack(f">{len(small)}I", *small))
        index.write(struct.pack(f">{len(large)}Q", *large))
        index.write(pack_checksum)
        index.finish()
    except BaseException:
        index.abandon()
        raise


# -- reading our own packs back (consolidation copies their entries verbatim) ---


def read_index(idx_path: Path) -> list[PackEntry]:
    """Every entry of a version-2 pack index, in offset order."""
    data = idx_path.read_bytes()
    if data[:8] != _IDX_MAGIC + struct.pack(">I", 2):
        raise ValueError(f"{idx_path} is not a version 2 pack index")
    count = struct.unpack_from(">I", data, 8 + 255 * 4)[0]
    names_at = 8 + 256 * 4
    crcs_at = names_at + 20 * count
    offsets_at = crcs_at + 4 * count
    large_at = offsets_at + 4 * count
    crcs = struct.unpack_from(f">{count}I", data, crcs_at)
    offsets = list(struct.unpack_from(f">{count}I", data, offsets_at))
    for i, offset in enumerate(offsets):
        if offset & _LARGE_OFFSET:
            offsets[i] = struct.unpack_from(">Q", data, large_at + 8 * (offset & ~_LARGE_OFFSET))[0]
    names = [data[at : at + 20] for at in range(names_at, crcs_at, 20)]
    # Built in bulk: a consolidating record reads the index of every pack it takes in.
    return sorted(map(PackEntry._make, zip(names, offsets, crcs, strict=True)), key=itemgetter(1))


def index_holds(idx_path: Path | str, oids: Iterable[bytes]) -> set[bytes]:
    """Those of `oids` a version-2 pack index lists: found through its fan-out table,
    reading a few pages of the index, not all of it."""
    with PackIndex(idx_path) as index:
        return index.holds(oids)


class PackIndex:
    """A version-2 pack index, mapped, to ask which ids it lists (`holds`) any number of times.

    A pack's name is its checksum, so its index never changes under that name: a process
    may keep one open while the pack stays (packs.held_by_git does, for git's own packs)."""

    def __init__(self, idx_path: Path | str) -> None:
        with open(idx_path, "rb") as handle:
            self._data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        if self._data[:8] != _IDX_MAGIC + struct.pack(">I", 2):
            self._data.close()
            raise ValueError(f"{idx_path} is not a version 2 pack index")
        self._fanout = struct.unpack_from(">256I", self._data, 8)

    def __enter__(self) -> PackIndex:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._data.close()

    def holds(self, oids: Iterable[bytes]) -> set[bytes]:
        found: set[bytes] = set()
        data, fanout = self._data, self._fanout
        names_at = 8 + 256 * 4
        for oid in oids:
            first = oid[0]
            low, high = (fanout[first - 1] if first else 0), fanout[first]
            # The ids that share its first byte, searched in C where they lie (a slice would
            # copy them: 16 KB an id in a 200,000-object pack); a match must start on an id.
            start, end = names_at + 20 * low, names_at + 20 * high
            at = data.find(oid, start, end)
            while at > start and (at - start) % 20:
                at = data.find(oid, at + 1, end)
            if at >= 0:
                found.add(oid)
        return found


def raw_entries(pack_path: Path, entries: list[PackEntry]) -> Iterator[tuple[PackEntry, bytes]]:
    """Each entry's raw bytes (header and compressed body), in offset order."""
    size = pack_path.stat().st_size - 20
    with open(pack_path, "rb") as handle:
        for position, entry in enumerate(entries):
            end = entries[position + 1].offset if position + 1 < len(entries) else size
            handle.seek(entry.offset)
            yield entry, handle.read(end - entry.offset)
