"""Unified patches in, file edits out: parsed and checked with unidiff.

Hunks are applied to blob contents in memory, with context that must match
exactly where the hunk says; nothing touches the worktree or the index.
Malformed patches are BadInput naming the line; hunks whose context does not
match are a Conflict naming the file and hunk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from unidiff import PatchSet  # type: ignore[attr-defined]
from unidiff.errors import UnidiffParseError

from .errors import BadInput, Conflict
from .format import validate_path
from .model import MODE_FILE, File

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
        patch = PatchSet(decoded)
    except UnidiffParseError as error:
        raise BadInput(f"{source}: malformed patch: {error}") from None
    if not len(patch):
        raise BadInput(f"{source}: no file diffs found (expected `--- a/...` and `+++ b/...`)")
    if "GIT binary patch" in decoded:
        raise BadInput(f"{source}: binary patches are not supported; use --set PATH=FILE")
    return patch


def patch_edits(text: bytes, read: Reader, source: str = "patch") -> dict[str, File | None]:
    """The file contents a patch produces, checked against what `read` returns."""
    edits: dict[str, File | None] = {}
    for patched in parse_patch(text, source):
        old_path = _strip(patched.source_file)
        new_path = _strip(patched.target_file)
        if old_path is None and new_path is None:
            raise BadInput(f"{source}: a file diff names /dev/null on both sides")
        for name in (old_path, new_path):
            if name is not None:
                validate_path(name)
        shown = new_path or old_path
        current = read(old_path) if old_path is not None else None
        if old_path is not None and current is None:
            raise Conflict(f"{source}: {old_path}: no such file to patch", (old_path,))
        if old_path is None and new_path is not None and read(new_path) is not None:
            raise Conflict(f"{source}: {new_path}: already exists", (new_path,))
        data, mode = current if current is not None else (b"", MODE_FILE)
        mode = _new_mode(patched.patch_info, mode)
        result = _apply_hunks(data, patched, f"{source}: {shown}")
        if new_path is None:
            if result:
                raise Conflict(f"{source}: {old_path}: deletion does not remove every line", (str(old_path),))
            edits[str(old_path)] = None
            continue
        if old_path is not None and old_path != new_path:
            edits[old_path] = None
        edits[new_path] = File(result, mode)
    return edits


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
    lines = data.decode("utf-8", "surrogateescape").splitlines(keepends=True)
    out: list[str] = []
    cursor = 0
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
        start = max(hunk.source_start - 1, 0) if hunk.source_length else hunk.source_start
        if start < cursor or lines[start : start + len(before)] != before:
            raise Conflict(
                f"{where}: hunk #{number} (line {hunk.source_start}) does not apply: "
                "its context does not match the file",
                (where.rsplit(": ", 1)[-1],),
            )
        out.extend(lines[cursor:start])
        out.extend(after)
        cursor = start + len(before)
    out.extend(lines[cursor:])
    return "".join(out).encode("utf-8", "surrogateescape")
