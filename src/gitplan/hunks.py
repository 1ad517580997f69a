"""A unified diff cut into files and hunks, for choosing hunk by hunk (`apply --hunks`).

Pure text: each file's section keeps its header lines (`diff --git`, modes,
`index`, `---`/`+++`) and its hunks exactly as printed, so any subset of a
file's hunks, glued after its header, is again a patch that applies to the
same old file. Never reads a repository.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .diffs import unquote

_PATH = re.compile(r"^diff --git a/(.*) b/(.*)$")


@dataclass(frozen=True, slots=True)
class FileSection:
    """One file of a diff: its header, its hunks, and the whole text."""

    path: str
    header: str
    hunks: tuple[str, ...]

    @property
    def whole(self) -> str:
        return self.header + "".join(self.hunks)


def split_lines(text: str) -> list[str]:
    """Lines ending at "\n" only, with their ends: a form feed, a lone CR or U+2028 inside
    a line is content, never a line break (str.splitlines would cut there)."""
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)


def file_sections(diff: str) -> list[FileSection]:
    """The files of a `git diff` (no renames), in order."""
    sections: list[FileSection] = []
    lines = split_lines(diff)
    at = 0
    while at < len(lines):
        if not lines[at].startswith("diff --git "):
            at += 1
            continue
        header = [lines[at]]
        at += 1
        while at < len(lines) and not lines[at].startswith(("@@ ", "diff --git ")):
            header.append(lines[at])
            at += 1
        path = _header_path(header)
        hunks: list[str] = []
        while at < len(lines) and lines[at].startswith("@@ "):
            hunk = [lines[at]]
            at += 1
            while at < len(lines) and lines[at][:1] in (" ", "+", "-", "\\"):
                hunk.append(lines[at])
                at += 1
            hunks.append("".join(hunk))
        sections.append(FileSection(path, "".join(header), tuple(hunks)))
    return sections


def _header_path(header: list[str]) -> str:
    """The file's path: from `+++ b/...` (or `--- a/...` for a deletion), unquoted as git
    quotes names; from `diff --git` only when neither names it (a binary or mode change)."""
    for line in header:
        for marker, prefix in (("+++ ", "b/"), ("--- ", "a/")):
            if line.startswith(marker) and not line.startswith(marker + "/dev/null"):
                name = unquote(line[len(marker) :].rstrip("\n").removesuffix("\t"))
                if name.startswith(prefix):
                    return name[len(prefix) :]
    first = header[0].rstrip("\n")
    if first.endswith('"'):
        quoted = first[first.rindex(' "') + 1 :]
        return unquote(quoted).removeprefix("b/")
    match = _PATH.match(first)
    return match.group(2) if match else first[len("diff --git ") :]
