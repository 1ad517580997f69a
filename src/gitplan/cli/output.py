"""Printing for people (tables, colour, a pager) and for machines (--json)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Sequence
from typing import Any

import click

from .. import views

_DIFF_COLORS = {"+": "green", "-": "red", "@": "cyan"}


class Output:
    def __init__(self, as_json: bool, color: bool | None) -> None:
        self.as_json = as_json
        self.color = color if color is not None else sys.stdout.isatty()

    def json(self, kind: str, body: Any) -> None:
        """Print the `gitplan.<kind>/1` document (see views.py and docs/reference/json.md)."""
        click.echo(json.dumps(views.document(kind, views.plain(body)), indent=2, sort_keys=True))

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

    def diff(self, text: str) -> None:
        """Write a diff as git does: plain bytes when piped, colour and a pager on a terminal."""
        if not sys.stdout.isatty():
            sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))
            sys.stdout.flush()
            return
        if self.color:
            text = "".join(self._color_line(line) for line in text.splitlines(keepends=True))
        rows = shutil.get_terminal_size().lines
        if text.count("\n") > rows and os.environ.get("GIT_PAGER", os.environ.get("PAGER")) != "cat":
            click.echo_via_pager(text, color=self.color)
        else:
            click.echo(text, nl=False, color=self.color)

    @staticmethod
    def _color_line(line: str) -> str:
        if line.startswith(
            (
                "diff --git",
                "index ",
                "--- ",
                "+++ ",
                "new file",
                "deleted file",
                "similarity",
                "rename ",
                "old mode",
                "new mode",
            )
        ):
            return click.style(line.rstrip("\n"), bold=True) + "\n"
        color = _DIFF_COLORS.get(line[:1])
        if color:
            return click.style(line.rstrip("\n"), fg=color) + "\n"
        return line
