"""Printing for people (tables, colour, a pager) and for machines (--json)."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

# git's default diff palette (color.diff.meta, frag, old, new).
_BOLD, _CYAN, _RED, _GREEN, _RESET = "\x1b[1m", "\x1b[36m", "\x1b[31m", "\x1b[32m", "\x1b[m"
_WHITESPACE = "\x1b[41m"  # color.diff.whitespace: a red background
_META = ("diff --git", "index ", "--- ", "+++ ", "new file", "deleted file", "similarity", "rename ",
         "old mode", "new mode")  # fmt: skip


def terminal_colors() -> bool:
    """Colour when it is left to the terminal (git's "auto"): standard output is a terminal,
    or a pager git started for us (GIT_PAGER_IN_USE: `git -p plan`, pager.plan), and the
    terminal is not a dumb one (git: TERM unset or "dumb")."""
    paged = os.environ.get("GIT_PAGER_IN_USE", "").lower() in ("1", "true", "yes", "on")
    return (sys.stdout.isatty() or paged) and os.environ.get("TERM", "dumb") != "dumb"


class Output:
    def __init__(self, as_json: bool, color: bool | None, pager: str | None = None) -> None:
        self.as_json = as_json
        self.color = color if color is not None else terminal_colors()
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

    def diff(self, text: str, colored: bool = False, read: Callable[[str], bytes] | None = None) -> None:
        """Write a diff as git does: coloured when asked (or on a terminal), through the
        pager git would use when standard output is a terminal. `colored`: the text
        already carries git's colours (git rendered it). `read` gives a blob's bytes by the
        (abbreviated) id an index line names: git's blank-at-eof rule needs whole files."""
        if self.color and not colored:
            text = colored_diff(text, read)
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

    def run(self, argv: Sequence[str], env: dict[str, str], cwd: str, before: str = "") -> int:
        """Run a command that writes a diff itself (git diff running the user's diff
        program), after `before`: on the terminal, or into the pager git would use, so that
        the program sees a terminal, or GIT_PAGER_IN_USE, as it does under git. Returns the
        command's exit status (a pager the user quit early is not the command's failure)."""
        import subprocess  # only here: most runs never start a command

        head = before.encode("utf-8", "surrogateescape")
        if self.pager and sys.stdout.isatty():
            paged = {"LESS": "FRX", "LV": "-c", **os.environ}
            pager = subprocess.Popen(self.pager, shell=True, stdin=subprocess.PIPE, env=paged)  # noqa: S602
            assert pager.stdin is not None
            code = 0
            with contextlib.suppress(BrokenPipeError):
                pager.stdin.write(head)
                pager.stdin.flush()
                environment = {**env, "GIT_PAGER_IN_USE": "true"}
                errors = pager.stdin if sys.stderr.isatty() else None  # as git: its messages are paged too
                done = subprocess.run(argv, env=environment, cwd=cwd, stdout=pager.stdin, stderr=errors)
                code = 0 if pager.poll() is not None else done.returncode  # the user quit the pager early
            with contextlib.suppress(BrokenPipeError):
                pager.stdin.close()
            pager.wait()
            return code
        sys.stdout.flush()
        try:
            target = sys.stdout.fileno()
        except (OSError, ValueError):  # not a file (io.UnsupportedOperation): a caller's capture
            done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.PIPE)
            sys.stdout.buffer.write(head + done.stdout)
            sys.stdout.flush()
            return done.returncode
        sys.stdout.buffer.write(head)
        sys.stdout.flush()
        return subprocess.run(argv, env=env, cwd=cwd, stdout=target).returncode


def colored_diff(text: str, read: Callable[[str], bytes] | None = None) -> str:
    """A diff (and the stats before it) in git's default colours, byte for byte as
    `git diff --color` writes them: headers bold, hunk ranges cyan, old lines red, new
    lines green with their whitespace errors (core.whitespace's default rules:
    blank-at-eol, space-before-tab, blank-at-eof) on red, and a diffstat's graph. A
    caller that prints several diffs with other lines between them (`git plan log -p`)
    colours each on its own."""
    lines = [line + "\n" for line in text.split("\n")]  # at LF only, as git reads lines
    lines[-1] = lines[-1][:-1]
    if not lines[-1]:
        lines.pop()
    out: list[str] = []
    at = 0
    seen_header = False
    ids: tuple[str, str] | None = None
    eof: tuple[int, int] | None | bool = False  # not worked out yet for this file
    while at < len(lines):
        line = lines[at]
        if line.startswith("diff --git "):
            seen_header, ids, eof = True, None, False
        elif seen_header and line.startswith("index "):
            ids = tuple(line.split()[1].split("..")[:2])  # type: ignore[assignment]
        if line.startswith("@@ ") and seen_header:
            end = at + 1
            while end < len(lines) and not lines[end].startswith(("@@ ", "diff --git ")):
                end += 1
            hunk = lines[at + 1 : end]
            if eof is False and any(_blank(h[1:]) for h in hunk if h[:1] == "+"):
                eof = _blank_at_eof(ids, read)  # read the file's blobs once, and only if needed
            out.append(_hunk_header(line))
            out.extend(_hunk_body(line, hunk, eof if isinstance(eof, tuple) else None))
            at = end
            continue
        if seen_header and line.startswith(_META):
            text_part = line.rstrip("\n")
            tab = "\t" if text_part.endswith("\t") else ""  # after a name with a space: outside the colour
            out.append(
                f"{_BOLD}{text_part[: len(text_part) - len(tab)]}{_RESET}{tab}{line[len(text_part) :]}"
            )
        elif not seen_header:
            out.append(_stat_line(line))
        else:
            out.append(line)  # "Binary files ... differ", a binary patch: no colour, as git
        at += 1
    return "".join(out)


_STAT_GRAPH = re.compile(r"^( .* \| +\d+ )(\+*)(-*)(\n?)$")
_STAT_BYTES = re.compile(r"^( .* \| +Bin )(\d+)( -> )(\d+)( bytes\n?)$")


def _stat_line(line: str) -> str:
    """A --stat line with its graph (or a binary file's byte counts) coloured."""
    binary = _STAT_BYTES.match(line)
    if binary is not None:
        head, old, arrow, new, tail = binary.groups()
        return f"{head}{_RED}{old}{_RESET}{arrow}{_GREEN}{new}{_RESET}{tail}"
    found = _STAT_GRAPH.match(line)
    if found is None:
        return line
    head, plus, minus, end = found.groups()
    return (head + (f"{_GREEN}{plus}{_RESET}" if plus else "") + (f"{_RED}{minus}{_RESET}" if minus else "")
            + end)  # fmt: skip


def _hunk_header(line: str) -> str:
    body = line.rstrip("\n")
    close = body.find("@@", 2) + 2
    ranges, rest = body[:close], body[close:]
    func = rest.lstrip(" \t")
    space = rest[: len(rest) - len(func)]
    colored = f"{_CYAN}{ranges}{_RESET}"
    if space:
        colored += f"{space}{_RESET}"
    if func:
        colored += f"{func}{_RESET}"
    return colored + line[len(body) :]


_SPACE = " \t\n\r"  # git's isspace() (not \v or \f)


def _blank(content: str) -> bool:
    return content.strip(_SPACE) == ""


def _hunk_body(header: str, lines: list[str], eof: tuple[int, int] | None) -> list[str]:
    """The lines of one hunk; `eof`: where the blank lines at the end of each file begin
    that are blank-at-eof errors (_blank_at_eof), counted as git's fn_out_consume counts."""
    found = _HUNK_START.match(header)
    old_line, new_line = (int(found.group(1)), int(found.group(2))) if found else (0, 0)
    out = []
    for line in lines:
        newline = "\n" if line.endswith("\n") else ""
        body = line[: len(line) - len(newline)]
        sign = body[:1]
        # "": an empty context line (diff.suppressBlankEmpty), which git's fn_out_consume
        # counts on the old side alone (it takes it for an incomplete line)
        old_line += sign in (" ", "-", "")
        new_line += sign in (" ", "+")
        if not body:
            out.append(newline)  # nothing to colour: git writes no reset either
            continue
        at_eof = eof is not None and eof[0] <= old_line and eof[1] <= new_line and _blank(body[1:])
        if sign == "+" and not at_eof:
            out.append(f"{_GREEN}+{_RESET}{_new_content(body[1:])}{newline}")
            continue
        cr = "\r" if body.endswith("\r") else ""  # git puts the reset before a CR that ends the line
        body = body[: len(body) - len(cr)]
        color = {"+": _WHITESPACE, "-": _RED}.get(sign, "")  # context and "\ No newline": none
        out.append(f"{color}{body}{_RESET}{cr}{newline}")
    return out


_HUNK_START = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)")


def _new_content(content: str) -> str:
    """A new line's text after its '+', its whitespace errors marked as git's ws_check_emit
    marks them (a CR that ends the line is trailing whitespace too)."""
    trailing = len(content)
    while trailing > 0 and content[trailing - 1] in _SPACE:
        trailing -= 1
    out = []
    written = 0
    for index in range(trailing):
        char = content[index]
        if char == " ":
            continue
        if char != "\t":
            break
        if written < index:  # spaces before a tab in the indent
            out.append(f"{_WHITESPACE}{content[written:index]}{_RESET}\t")
        else:
            out.append(content[written : index + 1])
        written = index + 1
    if trailing > written:
        out.append(f"{_GREEN}{content[written:trailing]}{_RESET}")
    if trailing < len(content):
        out.append(f"{_WHITESPACE}{content[trailing:]}{_RESET}")
    return "".join(out)


def _blank_at_eof(ids: tuple[str, str] | None, read: Callable[[str], bytes] | None) -> tuple[int, int] | None:
    """git's check_blank_at_eof: when the new file ends in more blank lines than the old
    one, the line numbers (old, new) from which a new blank line is an error."""
    if ids is None or read is None:
        return None
    try:
        old, new = (b"" if set(oid) == {"0"} else read(oid) for oid in ids)
    except (KeyError, ValueError, LookupError):
        return None
    old_blank, new_blank = _trailing_blank_lines(old), _trailing_blank_lines(new)
    if new_blank <= old_blank:
        return None
    return _line_count(old) - old_blank + 1, _line_count(new) - new_blank + 1


def _trailing_blank_lines(data: bytes) -> int:
    """git's count_trailing_blank(), step for step (its counting included)."""
    if not data:
        return 0
    end = len(data) - 1
    if data[end] == 0x0A:
        end -= 1
    count = 0
    while end > 0:
        start = data.rfind(b"\n", 0, end + 1)
        if data[start + 1 : end + 1].strip(b" \t\n\r"):
            break
        count += 1
        end = start - 1
    return count


def _line_count(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def counted(number: int, one: str, many: str | None = None) -> str:
    """`1 path`, `2 paths`: a count with its noun, as git writes them."""
    return f"{number} {one if number == 1 else many or one + 's'}"


def dumps(value: Any) -> str:
    """A JSON document as every command prints it (json is imported when first needed:
    `git plan --version` and most commands without --json never load it)."""
    import json

    return json.dumps(value, indent=2, sort_keys=True)
