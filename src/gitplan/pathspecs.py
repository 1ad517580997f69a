"""Which paths a git pathspec names, as `git diff` decides it.

A pathspec here is a path from the top of the tree, optionally behind the
magic gitplan keeps in the long form: `:(glob)`, `:(icase)`, `:(literal)` or
several, comma-separated (`:(glob,icase)src/**/*.py`). The CLI resolves the
rest of git's magic (`:/`, `:(top)` and the excludes) before a spec gets here.

* default: the path itself, anything under it, or a wildcard match (git's
  wildmatch, where `*` also matches `/`);
* `glob`: the wildcards stop at `/`; `**/`, `/**/` and a trailing `/**` span
  directories;
* `literal`: no wildcards at all;
* `icase`: letters match in either case.

A spec that ends in `/` names a directory (or a submodule) only, never a file
of that name. Never imports pygit2.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

MAGIC = frozenset({"glob", "icase", "literal"})
_WILDCARDS = "*?[\\"

# POSIX bracket classes as git's wildmatch reads them (ASCII).
_CLASSES = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "blank": " \\t",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "\\x21-\\x7e",
    "lower": "a-z",
    "print": "\\x20-\\x7e",
    "punct": "!-/:-@\\[-`{-~",
    "space": " \\t\\n\\r\\f\\v",
    "upper": "A-Z",
    "xdigit": "0-9a-fA-F",
}


@functools.lru_cache(maxsize=256)
def parse(spec: str) -> tuple[str, frozenset[str]]:
    """(path, magic) of a pathspec in the form gitplan keeps: `:(m1,m2)path` or a path."""
    if spec.startswith(":(") and ")" in spec:
        close = spec.index(")")
        magic = frozenset(word.strip() for word in spec[2:close].split(",") if word.strip())
        if magic <= MAGIC:
            return spec[close + 1 :], magic
    return spec, frozenset()


def with_magic(spec: str, *more: str) -> str:
    """The spec in git's long form with `more` magic added (`exclude`, for git's command line)."""
    path, magic = parse(spec)
    words = sorted(magic | set(more))
    return f":({','.join(words)}){path}" if words else path


def has_wildcard(spec: str) -> bool:
    """Is the pathspec matched by wildcards, not only as a path and what is under it?"""
    path, magic = parse(spec)
    return "literal" not in magic and any(char in path for char in _WILDCARDS)


def matches(path: str, specs: Iterable[str], directory_entry: bool = False) -> bool:
    """Does one of `specs` name `path` (a file; `directory_entry`: a submodule)?"""
    for spec in specs:
        pattern, magic = parse(spec)
        icase = "icase" in magic
        name, text = (pattern.lower(), path.lower()) if icase else (pattern, path)
        directory = name.endswith("/")
        name = name.rstrip("/")
        if (text == name and (directory_entry or not directory)) or text.startswith(name + "/"):
            return True
        if has_wildcard(spec) and _regex(pattern, "glob" in magic, icase).fullmatch(path):
            return True  # (a file's path never ends in '/')
    return False


def may_hold(directory: str, specs: Iterable[str]) -> bool:
    """Could `directory` (or a file of that path) hold something one of `specs` names?"""
    for spec in specs:
        if has_wildcard(spec):
            return True
        pattern, magic = parse(spec)
        name, text = (pattern.lower(), directory.lower()) if "icase" in magic else (pattern, directory)
        name = name.rstrip("/")
        if text == name or text.startswith(name + "/") or name.startswith(text + "/"):
            return True
    return False


@functools.lru_cache(maxsize=256)
def _regex(pattern: str, pathname: bool, icase: bool) -> re.Pattern[str]:
    """git's wildmatch of `pattern` as a regular expression over a whole path: with
    `pathname` (the glob magic) `*`, `?` and brackets never match `/`, and `**`
    between slashes (or at either end) spans directories."""
    out: list[str] = []
    at, end = 0, len(pattern)
    one = "[^/]" if pathname else "."
    while at < end:
        char = pattern[at]
        if char == "\\" and at + 1 < end:
            out.append(re.escape(pattern[at + 1]))
            at += 2
        elif char == "*":
            stars = at
            while at < end and pattern[at] == "*":
                at += 1
            spans = at - stars > 1 and (stars == 0 or pattern[stars - 1] == "/")
            if spans and at < end and pattern[at] == "/":
                out.append("(?:.*/)?")  # `**/`: any number of directories, none included
                at += 1
            elif spans and at == end:
                out.append(".*")
            else:
                out.append(f"{one}*")
        elif char == "?":
            out.append(one)
            at += 1
        elif char == "[":
            bracket, at = _bracket(pattern, at, pathname)
            if bracket is None:
                return re.compile(r"(?!)")  # unterminated: wildmatch matches nothing
            out.append(bracket)
        else:
            out.append(re.escape(char))
            at += 1
    return re.compile("".join(out), (re.IGNORECASE if icase else 0) | re.DOTALL)


def _bracket(pattern: str, at: int, pathname: bool) -> tuple[str | None, int]:
    """The regular expression of the bracket expression at `at`, and where it ends."""
    at += 1
    negated = at < len(pattern) and pattern[at] in "!^"
    at += negated
    parts: list[str] = []
    first = True
    while at < len(pattern):
        char = pattern[at]
        if char == "]" and not first:
            members = "".join(parts)
            if negated:
                return f"[^{members}{'/' if pathname else ''}]", at + 1
            return (f"(?!/)[{members}]" if pathname else f"[{members}]"), at + 1
        first = False
        if char == "[" and pattern.startswith("[:", at):
            close = pattern.find(":]", at + 2)
            if close >= 0:
                if pattern[at + 2 : close] not in _CLASSES:
                    return None, at  # wildmatch knows no such class: nothing matches
                parts.append(_CLASSES[pattern[at + 2 : close]])
                at = close + 2
                continue
        if char == "\\" and at + 1 < len(pattern):
            at += 1
            char = pattern[at]
        if at + 2 < len(pattern) and pattern[at + 1] == "-" and pattern[at + 2] != "]":
            high = pattern[at + 2]
            if high == "\\" and at + 3 < len(pattern):
                high, at = pattern[at + 3], at + 1
            parts.append(f"{re.escape(char)}-{re.escape(high)}")
            at += 3
            continue
        parts.append(re.escape(char))
        at += 1
    return None, at
