"""Which paths a git pathspec names, as `git diff` decides it.

A pathspec here is a path from the top of the tree, in git's long form when it
carries magic: `:(glob)`, `:(icase)`, `:(literal)` and `:(prefix:N)` (the first
N bytes, the directory the user typed it in, are compared as they are), comma
separated, as in `:(glob,prefix:4)src/*.py`. The CLI writes every spec in
that form (`:()` when it has none), so a path that itself begins with `:(`
stays a path; the rest of git's magic (`:/`, `:(top)`, the excludes) it
resolves before a spec gets here. git reads the same text (git renders some
diffs), so both match alike:

* default: the path itself, anything under it, or a wildcard match (git's
  wildmatch, where `*` also matches `/`);
* `glob`: the wildcards stop at `/`; `**/`, `/**/` and a trailing `/**` span
  directories;
* `literal`: no wildcards at all;
* `icase`: ASCII letters match in either case (not those of the prefix).

A wildcard spec also names a file whose directory is, letter for letter, the
spec's leading part, when the rest of the spec matches the file's name (so
`app/[id]/*` names `app/[id]/page.tsx` as well as `app/i/page.tsx`). Matching
is on the UTF-8 bytes, as git matches. A spec that ends in `/` names a
directory (or a submodule) only, never a file of that name. Never imports
pygit2.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

MAGIC = frozenset({"glob", "icase", "literal", "top"})  # (top: git must not normalise the path)
_WILDCARDS = b"*?[\\"

# POSIX bracket classes as git's wildmatch reads them (ASCII), as regex class members.
_CLASSES = {
    b"alnum": rb"a-zA-Z0-9",
    b"alpha": rb"a-zA-Z",
    b"blank": rb" \t",
    b"cntrl": rb"\x00-\x1f\x7f",
    b"digit": rb"0-9",
    b"graph": rb"\x21-\x7e",
    b"lower": rb"a-z",
    b"print": rb"\x20-\x7e",
    b"punct": rb"!-/:-@\[-`{-~",
    b"space": rb" \t\n\r\f\v",
    b"upper": rb"A-Z",
    b"xdigit": rb"0-9a-fA-F",
}


@dataclass(frozen=True, slots=True)
class Spec:
    """One pathspec: its path from the top (UTF-8 bytes), its magic, how many of its
    leading bytes are the directory it was typed in (`prefix`), and how many are compared
    as they are (`literal`: the prefix, then up to the first wildcard; all of a spec that
    has none, or the literal magic). Wildcards match what comes after `literal`."""

    path: bytes
    magic: frozenset[str]
    prefix: int
    literal: int

    @property
    def wildcard(self) -> bool:
        """Is the spec matched by wildcards, not only as a path and what is under it?"""
        return self.literal < len(self.path)

    @property
    def text(self) -> str:
        return self.path.decode("utf-8", "surrogateescape")


def make(path: str, magic: Iterable[str] = (), prefix: int = 0) -> str:
    """A pathspec in git's long form: `:(magic,prefix:N)path` (`:()path` with none)."""
    words = sorted(set(magic)) + ([f"prefix:{prefix}"] if prefix else [])
    return f":({','.join(words)}){path}"


def with_magic(spec: str, *more: str) -> str:
    """The spec in git's long form with `more` magic added (`exclude`, for git's command line)."""
    parsed = parse(spec)
    return make(parsed.text, parsed.magic | set(more), parsed.prefix)


@functools.lru_cache(maxsize=4096)
def parse(spec: str) -> Spec:
    """The pathspec `spec` stands for: a path, or git's long form with the magic above."""
    if spec.startswith(":(") and ")" in spec:
        close = spec.index(")")
        magic: set[str] = set()
        prefix = 0
        for word in (word for word in spec[2:close].split(",") if word):
            if word.startswith("prefix:") and word[7:].isdigit():
                prefix = int(word[7:])
            elif word in MAGIC:
                magic.add(word)
            else:
                break
        else:
            return _spec(_bytes(spec[close + 1 :]), frozenset(magic), prefix)
    return _spec(_bytes(spec), frozenset(), 0)


def _spec(path: bytes, magic: frozenset[str], prefix: int) -> Spec:
    prefix = min(prefix, len(path))
    literal = len(path)
    if "literal" not in magic:
        literal = next((at for at in range(prefix, len(path)) if path[at] in _WILDCARDS), literal)
    return Spec(path, magic, prefix, literal)


def matches(path: str, specs: Iterable[str], gitlink: bool = False) -> bool:
    """Does one of `specs` name `path`, a file (or, `gitlink`, a submodule)?"""
    data = _bytes(path)
    return any(_matches(data, parse(spec), gitlink) for spec in specs)


def may_hold(directory: str, specs: Iterable[str]) -> bool:
    """Could `directory` (or a file of that path) hold something one of `specs` names?"""
    data = _bytes(directory)
    for spec in specs:
        parsed = parse(spec)
        literal = parsed.path[: parsed.prefix]
        if not ((data + b"/").startswith(literal) or literal.startswith(data + b"/")):
            continue  # outside the directory the spec was given in
        if parsed.wildcard:
            return True
        fold = _folding(parsed)
        name, here = fold(parsed.path).rstrip(b"/"), fold(data)
        if here == name or here.startswith(name + b"/") or name.startswith(here + b"/"):
            return True
    return False


def _matches(path: bytes, spec: Spec, gitlink: bool) -> bool:
    fold = _folding(spec)
    name, folded = fold(spec.path), fold(path)
    bare = name.rstrip(b"/")
    if not bare:
        return True  # the whole tree (`:!.` at the top)
    if (folded == bare and (gitlink or not name.endswith(b"/"))) or folded.startswith(bare + b"/"):
        return True
    if not spec.wildcard:
        return False
    # The wildcards match the rest of the path after a part compared as it is: the spec's
    # literal part, or (as git's tree walk does) the file's whole directory when longer.
    for start in sorted({spec.literal, max(spec.literal, path.rfind(b"/") + 1)}):
        if folded[:start] == name[:start]:
            icase = "icase" in spec.magic
            pattern = _regex(spec.path[start:], "glob" in spec.magic, icase)
            if pattern.fullmatch(path[start:].lower() if icase else path[start:]):  # (never ends in '/')
                return True
    return False


def _folding(spec: Spec) -> Callable[[bytes], bytes]:
    """How the spec compares bytes: as they are, or (icase) ASCII letters after its prefix
    in lower case, as git's icase folds them."""
    if "icase" not in spec.magic:
        return lambda data: data
    return lambda data: data[: spec.prefix] + data[spec.prefix :].lower()


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


@functools.lru_cache(maxsize=1024)
def _regex(pattern: bytes, pathname: bool, icase: bool) -> re.Pattern[bytes]:
    """git's wildmatch of `pattern` as a regular expression over the rest of a path: with
    `pathname` (the glob magic) `*`, `?` and brackets never match `/`, and `**` between
    slashes (or at either end) spans directories. With `icase` it reads the path in ASCII
    lower case, as wildmatch's casefold does: the pattern's plain letters are lowered too,
    but not an escaped one nor a bracket's single members (`[D]` then matches nothing)."""
    out: list[bytes] = []
    at, end = 0, len(pattern)
    one = rb"[^/]" if pathname else rb"."
    while at < end:
        char = pattern[at : at + 1]
        if char == b"\\" and at + 1 < end:
            out.append(re.escape(pattern[at + 1 : at + 2]))
            at += 2
        elif char == b"*":
            stars = at
            while at < end and pattern[at : at + 1] == b"*":
                at += 1
            spans = pathname and at - stars > 1 and (stars == 0 or pattern[stars - 1 : stars] == b"/")
            if spans and pattern[at : at + 1] == b"/":
                out.append(rb"(?:.*/)?")  # `**/`: any number of directories, none included
                at += 1
            elif spans and (at == end or pattern[at : at + 2] == b"\\/"):
                out.append(rb".*")  # (`**\/` spans directories too, but at least one)
            else:
                out.append(one + rb"*")
        elif char == b"?":
            out.append(one)
            at += 1
        elif char == b"[":
            bracket, at = _bracket(pattern, at, pathname, icase)
            if bracket is None:
                return re.compile(rb"(?!)")  # malformed: wildmatch matches nothing
            out.append(bracket)
        else:
            out.append(re.escape(char.lower() if icase else char))
            at += 1
    return re.compile(b"".join(out), re.DOTALL)


def _bracket(pattern: bytes, at: int, pathname: bool, icase: bool) -> tuple[bytes | None, int]:
    """The regular expression of the bracket expression at `at` (as git's wildmatch reads
    it), and where it ends; None when it is malformed (unterminated, an unknown class).
    With `icase` the path is read in lower case: a range also takes the lower case of its
    capitals, and [:upper:] every letter, as wildmatch's casefold does."""
    at += 1
    negated = pattern[at : at + 1] in (b"!", b"^")
    at += negated
    members: list[bytes] = []
    first = True
    while at < len(pattern):
        char = pattern[at : at + 1]
        if char == b"]" and not first:
            return _class(members, negated, pathname), at + 1
        first = False
        if char == b"[" and pattern[at + 1 : at + 2] == b":":
            close = pattern.find(b"]", at + 2)
            if close < 0:
                return None, at
            if pattern[close - 1 : close] == b":" and close - 1 >= at + 2:
                name = pattern[at + 2 : close - 1]
                if name not in _CLASSES:
                    return None, at
                members.append(_CLASSES[b"alpha" if icase and name == b"upper" else name])
                at = close + 1
                continue
            # no ":]" before the first "]": the "[" is a member like any other
        if char == b"\\" and at + 1 < len(pattern):
            at += 1
            char = pattern[at : at + 1]
        if pattern[at + 1 : at + 2] == b"-" and at + 2 < len(pattern) and pattern[at + 2 : at + 3] != b"]":
            high_at = at + 2
            if pattern[high_at : high_at + 1] == b"\\" and high_at + 1 < len(pattern):
                high_at += 1
            high = pattern[high_at : high_at + 1]
            if char <= high:  # a range backwards matches nothing
                members.append(re.escape(char) + b"-" + re.escape(high))
                low, top = max(char, b"A"), min(high, b"Z")
                if icase and low <= top:  # wildmatch also tries the capital of a lower-case letter
                    members.append(re.escape(low.lower()) + b"-" + re.escape(top.lower()))
            at = high_at + 1
            continue
        members.append(re.escape(char))
        at += 1
    return None, at


def _class(members: list[bytes], negated: bool, pathname: bool) -> bytes:
    inside = b"".join(members)
    if negated:
        if not inside and not pathname:
            return b"."  # (compiled with DOTALL: any byte)
        return b"[^" + inside + (b"/" if pathname else b"") + b"]"
    if not inside:
        return rb"(?!)"  # only backward ranges: nothing matches
    return (rb"(?!/)[" if pathname else b"[") + inside + b"]"
