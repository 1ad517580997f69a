"""A unified diff cut into files and hunks, for choosing hunk by hunk (`apply --hunks`).

Pure text: each file's section keeps its header lines (`diff --git`, modes,
`index`, `---`/`+++`) and its hunks exactly as printed, so any subset of a
file's hunks, glued after its header, is again a patch that applies to the
same old file. Never reads a repository.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


def file_sections(diff: str) -> list[FileSection]:
    """The files of a `git diff` (no renames), in order."""
    sections: list[FileSection] = []
    lines = diff.splitlines(keepends=True)
    at = 0
    while at < len(lines):
        if not lines[at].startswith("diff --git "):
            at += 1
            continue
        match = _PATH.match(lines[at].rstrip("\n"))
        path = match.group(2) if match else lines[at].rstrip("\n")[len("diff --git ") :]
        header = [lines[at]]
        at += 1
        while at < len(lines) and not lines[at].startswith(("@@ ", "diff --git ")):
            header.append(lines[at])
            at += 1
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
