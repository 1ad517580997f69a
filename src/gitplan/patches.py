"""Unified patches in, file edits out: parsed and checked with unidiff.

Hunks are applied to blob contents in memory, with context that must match
exactly where the hunk says; nothing touches the worktree or the index.
Malformed patches are BadInput naming the line; hunks whose context does not
match are a Conflict naming the file and hunk.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import re
import zlib
from array import array
from collections.abc import Callable
from typing import Any

from unidiff import PatchSet  # type: ignore[attr-defined]
from unidiff.errors import UnidiffParseError

from .errors import BadInput, Conflict
from .format import validate_path
from .hunks import split_lines
from .model import MODE_FILE, File

_MODE_SUBMODULE = 0o160000

# reads (path) -> (bytes, mode) of the file the patch applies to, or None if absent
Reader = Callable[[str], tuple[bytes, int] | None]


def _strip(name: str | None) -> str | None:
    if name is None or name == "/dev/null":
        return None
    name = name.split("\t", 1)[0]
    if name.startswith('"') and name.endswith('"'):
        name = name[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
        name = name.encode("latin-1").decode("utf-8", "surrogateescape")
    if name.startswith(("a/", "b/")):
        name = name[2:]
    return name


def parse_patch(text: bytes, source: str = "patch") -> PatchSet:
    if not text.strip():
        raise BadInput(f"{source}: the patch is empty")
    try:
        decoded = text.decode("utf-8", "surrogateescape")
        patch = PatchSet(split_lines(decoded))  # lines end at "\n" only
    except UnidiffParseError as error:
        raise BadInput(f"{source}: malformed patch: {error}") from None
    if not len(patch):
        raise BadInput(f"{source}: no file diffs found (expected `--- a/...` and `+++ b/...`)")
    return patch


def patch_edits(text: bytes, read: Reader, source: str = "patch") -> dict[str, File | None]:
    """The file contents a patch produces, checked against what `read` returns.
    Text hunks go through unidiff; `GIT binary patch` sections (git diff --binary)
    are decoded here."""
    textual, binaries = _split_binary(text)
    patched_files = list(parse_patch(textual, source)) if textual.strip() or not binaries else []
    metas = [_binary_meta(section, source) for section in binaries]
    # A type change is a deletion and an addition of the same path: the addition wins.
    deleted = {str(_strip(p.source_file)) for p in patched_files if _strip(p.target_file) is None}
    deleted |= {str(meta[0]) for meta in metas if meta[1] is None}
    edits: dict[str, File | None] = {}
    touched: dict[str, list[str]] = {}  # path -> what each file diff did to it

    def delete(path: str) -> None:
        touched.setdefault(path, []).append("delete")
        edits.setdefault(path, None)

    def write(path: str, file: File, added: bool) -> None:
        touched.setdefault(path, []).append("add" if added else "write")
        edits[path] = file

    def exists(path: str) -> bool:
        return path not in deleted and read(path) is not None

    for section, meta in zip(binaries, metas, strict=True):
        _binary_edit(section, meta, read, exists, delete, write, source)
    for patched in patched_files:
        old_path = _strip(patched.source_file)
        new_path = _strip(patched.target_file)
        if not _git_style(patched.patch_info):
            old_path, new_path = _without_top_directories(old_path, new_path)
            # diff -N marks a file that is not there with the epoch as its time
            old_path = None if _epoch(patched.source_timestamp) else _present(old_path, read)
            new_path = None if _epoch(patched.target_timestamp) else _present(new_path, read)
            if old_path is not None and new_path is not None:
                old_path = new_path = _traditional_name(old_path, new_path)
        if old_path is None and new_path is None:
            raise BadInput(f"{source}: a file diff names /dev/null on both sides")
        for name in (old_path, new_path):
            if name is not None:
                validate_path(name)
        shown = new_path or old_path
        _refuse_submodule(_new_mode(patched.patch_info, 0), source, shown)  # before what it is not
        current = read(old_path) if old_path is not None else None
        if old_path is not None and current is None:
            raise Conflict(f"{source}: {old_path}: no such file to patch", (old_path,))
        if old_path is None and new_path is not None and exists(new_path):
            raise Conflict(f"{source}: {new_path}: already exists", (new_path,))
        copied = _is_copy(patched.patch_info)
        # A copy's or a rename's new name, as a new file's, must be free (git apply: "already exists").
        moved = old_path is not None and new_path is not None and old_path != new_path
        if (copied or moved) and new_path is not None and exists(new_path):
            raise Conflict(f"{source}: {new_path}: already exists", (new_path,))
        data, mode = current if current is not None else (b"", MODE_FILE)
        mode = _new_mode(patched.patch_info, mode)
        result = _apply_hunks(data, patched, f"{source}: {shown}")
        if new_path is None:
            if result:
                raise Conflict(f"{source}: {old_path}: deletion does not remove every line", (str(old_path),))
            delete(str(old_path))
            continue
        if old_path is not None and old_path != new_path and not copied:
            delete(old_path)  # a rename; a copy (git diff -C) keeps its source
        write(new_path, File(result, mode), old_path is None or copied)
    for path, kinds in touched.items():
        # One file diff per path, as git apply requires; a type change's delete+add is the exception.
        if len(kinds) > 1 and sorted(kinds) != ["add", "delete"]:
            raise BadInput(f"{source}: {path} is changed by more than one file diff of the patch", (path,))
    return edits


def _git_style(info: object) -> bool:
    """Does a file diff have git's `diff --git` header (which may rename, copy, change modes)?"""
    return any(line.startswith("diff --git ") for line in str(info or "").splitlines())


def _epoch(stamp: str | None) -> bool:
    """Is a traditional diff's file time the epoch (1970-01-01 00:00:00 UTC, in any zone)?"""
    found = _TIMESTAMP.match(stamp or "")
    if found is None:
        return False
    year, month, day, hour, minute, second, sign, zone_hours, zone_minutes = found.groups()
    offset = (int(zone_hours) * 60 + int(zone_minutes)) * (1 if sign == "+" else -1)
    local = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    return local - datetime.timedelta(minutes=offset) == datetime.datetime(1970, 1, 1)


_TIMESTAMP = re.compile(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.0+)? ([-+])(\d\d):?(\d\d)$")


def _without_top_directories(old: str | None, new: str | None) -> tuple[str | None, str | None]:
    """`diff -ru old new` names each file under two different top directories (one of them
    for a file that is not there, `diff -N`): both lose it, as git apply strips one."""
    if old is None or new is None or "/" not in old or "/" not in new:
        return old, new
    old_top, old_rest = old.split("/", 1)
    new_top, new_rest = new.split("/", 1)
    return (old_rest, new_rest) if old_top != new_top else (old, new)


def _present(name: str | None, read: Reader) -> str | None:
    """A traditional diff's name, without its first directory (`diff -ru old new` names
    `old/src/f`) when only the name without it is a file here, as git apply strips one."""
    if name is not None and "/" in name and read(name) is None:
        shorter = name.split("/", 1)[1]
        if read(shorter) is not None:
            return shorter
    return name


def _traditional_name(old: str, new: str) -> str:
    """The one file a traditional diff (`diff -u`, no `diff --git` line) changes, as git
    apply names it: the `+++` name, unless the `---` name is a shorter start of it
    (`--- f.orig` / `+++ f` patches f; so does `--- f` / `+++ f.new`)."""
    return old if len(old) < len(new) and new.startswith(old) else new


def _is_copy(info: object) -> bool:
    """Does a file diff's extended header say `copy from` (git diff -C, format-patch -C)?"""
    return any(line.startswith("copy from ") for line in str(info or "").splitlines())


def _refuse_submodule(mode: int, source: str, path: str | None) -> None:
    """A file diff that makes a submodule (`new file mode 160000`) is refused, as one that
    changes a submodule's commit is (PlanStore.patch_changes)."""
    if mode == _MODE_SUBMODULE:
        raise BadInput(
            f"{source}: {path} is a submodule; plans carry files, not submodule commits", (str(path),)
        )


def _new_mode(info: object, mode: int) -> int:
    for line in str(info or "").splitlines():
        for key in ("new file mode ", "new mode "):
            if line.startswith(key):
                try:
                    return int(line[len(key) :].strip(), 8)
                except ValueError:
                    raise BadInput(f"bad mode line: {line!r}") from None
    return mode


def _apply_hunks(data: bytes, patched: object, where: str) -> bytes:
    """`data` with the hunks applied, as bytes: the file is never split into line objects
    (a one-line patch of a 1 GB file would hold ten million of them), only the starts of
    the lines the hunks are looked for at are found (_Lines)."""
    lines = _Lines(data)
    view = memoryview(data)
    out: list[bytes | memoryview] = []
    cursor = offset = 0
    hunks: list[Any] = list(patched)  # type: ignore[call-overload]
    for number, hunk in enumerate(hunks, start=1):
        before: list[str] = []
        after: list[str] = []
        last = ""
        for line in hunk:
            if line.line_type == "\\":
                if last in (" ", "-") and before:
                    before[-1] = before[-1].rstrip("\n")
                if last in (" ", "+") and after:
                    after[-1] = after[-1].rstrip("\n")
                continue
            last = line.line_type
            if line.line_type in (" ", "-"):
                before.append(line.value)
            if line.line_type in (" ", "+"):
                after.append(line.value)
        stated = max(hunk.source_start - 1, 0) if hunk.source_length else hunk.source_start
        old = "".join(before).encode("utf-8", "surrogateescape")
        start = _find_hunk(lines, view, old, len(before), stated + offset, cursor, _anchors(hunk, stated))
        if start is None:
            raise Conflict(
                f"{where}: hunk #{number} (line {hunk.source_start}) does not apply: "
                "its context does not match the file",
                (where.rsplit(": ", 1)[-1],),
            )
        offset = start - stated
        out.append(view[lines.start(cursor) : lines.start(start)])
        out.append("".join(after).encode("utf-8", "surrogateescape"))
        cursor = start + len(before)
    out.append(view[lines.start(cursor) :])
    return b"".join(out)


class _Lines:
    """The lines of a file's bytes, ending at "\n" only (as hunks.split_lines cuts them): how
    many there are, and where each starts, found as far as asked."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.count = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
        self._starts = array("q", [0])

    def start(self, line: int) -> int:
        """The offset line `line` starts at (the end of the bytes for line `count`)."""
        starts, data = self._starts, self._data
        while len(starts) <= line:
            end = data.find(b"\n", starts[-1])
            starts.append(len(data) if end < 0 else end + 1)
        return starts[line]


def _anchors(hunk: Any, stated: int) -> tuple[bool, bool]:
    """Must the hunk match at the file's start, or at its end? As git apply decides: a hunk
    that starts at the first line, or one with no context after its change."""
    kinds = [line.line_type for line in hunk if line.line_type in (" ", "-", "+")]
    trailing = len(kinds) - len("".join(kinds).rstrip(" "))
    return stated == 0, trailing == 0


def _find_hunk(
    lines: _Lines,
    view: memoryview,
    before: bytes,
    size: int,
    expected: int,
    cursor: int,
    anchors: tuple[bool, bool],
) -> int | None:
    """Where a hunk's old lines (`size` lines, `before` their bytes) are in the file, as git
    apply looks: at the line it states (moved by what earlier hunks were found off by),
    else the nearest match, one line further on, then one line back, and so on, never
    before the previous hunk's end; away from the stated line, a hunk that starts the file
    or has no context after its change must still start or end the file. No fuzz: every
    line must match. None if nowhere."""
    at_start, at_end = anchors
    last = lines.count - size

    def matches(position: int) -> bool:
        return view[lines.start(position) : lines.start(position + size)] == before

    if cursor <= expected <= last and matches(expected):
        return expected
    if not size:  # nothing to match: only where it says
        return None

    def fits(position: int) -> bool:
        return (
            cursor <= position <= last
            and (not at_start or position == 0)
            and (not at_end or position == last)
            and matches(position)
        )

    for distance in range(1, max(expected - cursor, last - expected, 0) + 1):
        for position in (expected + distance, expected - distance):
            if fits(position):
                return position
    return None


# -- binary patches (git diff --binary) --------------------------------------------


def _split_binary(text: bytes) -> tuple[bytes, list[list[bytes]]]:
    """The patch without its binary file sections, and those sections' lines. A binary
    section ends after its data blocks (or its "Binary files ... differ" line); what
    follows belongs to the text part."""
    lines = re.findall(rb"[^\n]*\n|[^\n]+\Z", text)  # "\n" only: a CR inside a line is content
    kept: list[bytes] = []
    binaries: list[list[bytes]] = []
    index = 0
    while index < len(lines):
        if not lines[index].startswith(b"diff --git "):
            kept.append(lines[index])
            index += 1
            continue
        end = index + 1
        while end < len(lines) and not lines[end].startswith((b"diff --git ", b"--- ", b"@@")):
            if _is_binary_marker(lines[end]):
                break
            end += 1
        if end < len(lines) and _is_binary_marker(lines[end]):
            end = _binary_end(lines, end)
            binaries.append(lines[index:end])
        else:
            kept.extend(lines[index:end])
        index = end
    return b"".join(kept), binaries


def _binary_end(lines: list[bytes], marker: int) -> int:
    """The line after a binary section: its marker, then (for data) two blocks each
    ending in a blank line."""
    if lines[marker].startswith(b"Binary files "):
        return marker + 1
    position = marker + 1
    for block in range(2):
        if block and not (position < len(lines) and lines[position].startswith((b"literal ", b"delta "))):
            break  # a forward-only binary patch (git apply accepts it): no reverse block
        while position < len(lines) and lines[position].strip():
            position += 1
        position += 1  # the blank line
    return min(position, len(lines))


def _is_binary_marker(line: bytes) -> bool:
    return line.rstrip(b"\r\n") == b"GIT binary patch" or (
        line.startswith(b"Binary files ") and line.rstrip().endswith(b" differ")
    )


# old path, new path, new mode, (old id, new id) from the `index` line, a copy (not a rename)
BinaryMeta = tuple[str | None, str | None, int | None, tuple[str, str] | None, bool]


def _binary_meta(section: list[bytes], source: str) -> BinaryMeta:
    """The names and new mode a binary file section's header lines give."""
    header = section[0].decode("utf-8", "surrogateescape").rstrip("\r\n")
    old_path, new_path = _git_header_paths(header, source)
    mode: int | None = None
    ids: tuple[str, str] | None = None
    copied = False
    for raw in section[1:]:
        line = raw.decode("utf-8", "surrogateescape").rstrip("\r\n")
        if line.startswith(("rename from ", "copy from ")):
            old_path = _strip(line.split(" from ", 1)[1]) or old_path
            copied = line.startswith("copy ")
        elif line.startswith(("rename to ", "copy to ")):
            new_path = _strip(line.split(" to ", 1)[1]) or new_path
        elif line.startswith("new file mode "):
            old_path = None
            mode = _mode(line)
        elif line.startswith("deleted file mode "):
            new_path = None
        elif line.startswith("new mode "):
            mode = _mode(line)
        elif line.startswith("index ") and ".." in line:
            old_id, _, new_id = line[len("index ") :].split(" ")[0].partition("..")
            ids = (old_id.lower(), new_id.lower())
        elif line.startswith("Binary files "):
            raise BadInput(
                f"{source}: {new_path or old_path}: the patch has no binary data "
                "(make it with git diff --binary)"
            )
    if old_path is None and new_path is None:
        raise BadInput(f"{source}: cannot read the names in {header!r}")
    for name in (old_path, new_path):
        if name is not None:
            validate_path(name)
    return old_path, new_path, mode, ids, copied


def _binary_edit(
    section: list[bytes],
    meta: BinaryMeta,
    read: Reader,
    exists: Callable[[str], bool],
    delete: Callable[[str], None],
    write: Callable[[str, File, bool], None],
    source: str,
) -> None:
    old_path, new_path, mode, ids, copied = meta
    current = read(old_path) if old_path is not None else None
    if old_path is not None and current is None:
        raise Conflict(f"{source}: {old_path}: no such file to patch", (old_path,))
    moved = old_path is not None and new_path is not None and old_path != new_path
    if (old_path is None or copied or moved) and new_path is not None and exists(new_path):
        raise Conflict(f"{source}: {new_path}: already exists", (new_path,))
    if new_path is None:
        delete(str(old_path))
        return
    data, old_mode = current if current is not None else (b"", MODE_FILE)
    if ids is not None and current is not None and not _blob_id(data).startswith(ids[0]):
        raise Conflict(
            f"{source}: {old_path}: the binary patch does not apply: it was made from another version",
            (str(old_path),),
        )
    result = _binary_forward(section, data, f"{source}: {new_path}")
    if ids is not None and ids[1].strip("0") and not _blob_id(result).startswith(ids[1]):
        message = f"{source}: {new_path}: the binary patch data does not give the blob it names"
        raise BadInput(message, (new_path,))
    if old_path is not None and old_path != new_path and not copied:
        delete(old_path)  # a rename; a copy keeps its source
    _refuse_submodule(mode or 0, source, new_path)
    write(new_path, File(result, mode if mode is not None else old_mode), old_path is None or copied)


def _blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _git_header_paths(header: str, source: str) -> tuple[str | None, str | None]:
    """The two names of `diff --git a/X b/Y` (quoted or not; unquoted ones must be equal)."""
    rest = header[len("diff --git ") :]
    if rest.startswith('"'):
        end = rest.index('"', 1)
        while rest[end - 1] == "\\":
            end = rest.index('"', end + 1)
        return _strip(rest[: end + 1]), _strip(rest[end + 2 :])
    half = (len(rest) - 1) // 2
    first, second = rest[:half], rest[half + 1 :]
    if first[2:] != second[2:]:
        return None, None  # a rename or copy: its "rename from/to" lines name both sides
    return _strip(first), _strip(second)


def _mode(line: str) -> int:
    try:
        return int(line.rsplit(" ", 1)[1], 8)
    except ValueError:
        raise BadInput(f"bad mode line: {line!r}") from None


def _binary_forward(section: list[bytes], old: bytes, where: str) -> bytes:
    """The new contents from the first (forward) block after `GIT binary patch`."""
    at = next(i for i, line in enumerate(section) if line.rstrip(b"\r\n") == b"GIT binary patch")
    kind, _, size_text = section[at + 1].decode("ascii", "replace").strip().partition(" ")
    payload = bytearray()
    for raw in section[at + 2 :]:
        line = raw.rstrip(b"\r\n")
        if not line:
            break
        count = line[0] - ord("A") + 1 if line[0] <= ord("Z") else line[0] - ord("a") + 27
        try:
            payload += base64.b85decode(line[1:])[:count]
        except ValueError:
            raise BadInput(f"{where}: the binary patch data is damaged") from None
    try:
        size = int(size_text)
        data = zlib.decompress(bytes(payload))
    except (ValueError, zlib.error):
        raise BadInput(f"{where}: the binary patch data is damaged") from None
    if kind == "literal":
        result = data
    elif kind == "delta":
        result = _apply_delta(old, data, where)
    else:
        raise BadInput(f"{where}: unknown binary patch block {kind!r}")
    if (kind == "literal" and len(result) != size) or (kind == "delta" and len(data) != size):
        raise BadInput(f"{where}: the binary patch data has the wrong size")
    return result


def _apply_delta(base: bytes, delta: bytes, where: str) -> bytes:
    """git's delta format: base size, result size, then copy and insert instructions."""
    position = 0

    def varint() -> int:
        nonlocal position
        value = shift = 0
        while True:
            byte = delta[position]
            position += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    try:
        if varint() != len(base):
            raise Conflict(f"{where}: the binary patch does not apply: it was made from another version")
        size = varint()
        out = bytearray()
        while position < len(delta):
            command = delta[position]
            position += 1
            if command & 0x80:
                offset = length = 0
                for bit in range(4):
                    if command & (1 << bit):
                        offset |= delta[position] << (8 * bit)
                        position += 1
                for bit in range(3):
                    if command & (0x10 << bit):
                        length |= delta[position] << (8 * bit)
                        position += 1
                length = length or 0x10000
                if offset + length > len(base):
                    raise BadInput(f"{where}: the binary patch data is damaged")
                out += base[offset : offset + length]
            elif command:
                out += delta[position : position + command]
                position += command
            else:
                raise BadInput(f"{where}: the binary patch data is damaged")
    except IndexError:
        raise BadInput(f"{where}: the binary patch data is damaged") from None
    if len(out) != size:
        raise BadInput(f"{where}: the binary patch data is damaged")
    return bytes(out)
