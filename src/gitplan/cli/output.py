"""Printing for people (tables, colour, a pager) and for machines (--json)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from typing import Any

import click

# git's default diff palette (color.diff.meta, frag, old, new).
_BOLD, _CYAN, _RED, _GREEN, _RESET = "\x1b[1m", "\x1b[36m", "\x1b[31m", "\x1b[32m", "\x1b[m"
_META = ("diff --git", "index ", "--- ", "+++ ", "new file", "deleted file", "similarity", "rename ",
         "old mode", "new mode", "GIT binary patch", "Binary files ")  # fmt: skip


class Output:
    def __init__(self, as_json: bool, color: bool | None, pager: str | None = None) -> None:
        self.as_json = as_json
        self.color = color if color is not None else sys.stdout.isatty()
        self.pager = pager  # the shell command git would page through, or None

    def json(self, kind: str, body: Any) -> None:
        """Print the `gitplan.<kind>/1` document (see views.py and docs/reference/json.md)."""
        from .. import views

        click.echo(dumps(views.document(kind, views.plain(body))))

    def line(self, text: str = "", style: dict[str, Any] | None = None) -> None:
        shown = click.style(text, **style) if style and self.color else text
        try:
            shown.encode("utf-8")
        except UnicodeEncodeError:  # a file name that is not UTF-8: its bytes, as git prints them
            click.echo(shown.encode("utf-8", "surrogateescape"))
            return
        click.echo(shown, color=self.color)

    def heading(self, text: str) -> None:
        self.line(text, {"bold": True})

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        cells = [[str(c) for c in row] for row in rows]
        widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
        header = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()
        self.heading(header)
        for row in cells:
            self.line("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())

    def diff(self, text: str, colored: bool = False) -> None:
        """Write a diff as git does: coloured when asked (or on a terminal), through the
        pager git would use when standard output is a terminal. `colored`: the text
        already carries git's colours (word diff)."""
        if self.color and not colored:
            text = "".join(_color_line(line) for line in text.splitlines(keepends=True))
        data = text.encode("utf-8", "surrogateescape")
        if self.pager and sys.stdout.isatty():
            environment = {"LESS": "FRX", "LV": "-c", **os.environ}
            import subprocess  # only here: most runs never start a pager

            pager = subprocess.Popen(self.pager, shell=True, stdin=subprocess.PIPE, env=environment)  # noqa: S602
            assert pager.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                pager.stdin.write(data)
                pager.stdin.close()
            pager.wait()
            return
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


def _color_line(line: str) -> str:
    """One diff line in git's default colours."""
    body = line.rstrip("\n")
    end = line[len(body) :]
    if body.startswith(_META):
        return f"{_BOLD}{body}{_RESET}{end}"
    if body.startswith("@@"):
        close = body.find("@@", 2)
        if close > 0:
            ranges, rest = body[: close + 2], body[close + 2 :]
            return f"{_CYAN}{ranges}{_RESET}{rest}{end}"
    color = {"+": _GREEN, "-": _RED}.get(body[:1])
    return f"{color}{body}{_RESET}{end}" if color else line


def counted(number: int, one: str, many: str | None = None) -> str:
    """`1 path`, `2 paths`: a count with its noun, as git writes them."""
    return f"{number} {one if number == 1 else many or one + 's'}"


def dumps(value: Any) -> str:
    """A JSON document as every command prints it (json is imported when first needed:
    `git plan --version` and most commands without --json never load it)."""
    import json

    return json.dumps(value, indent=2, sort_keys=True)
