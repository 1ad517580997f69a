"""Diffs between two trees, rendered byte for byte as `git diff` prints them.

The file-level change list comes from trees.changed_entries (equal subtrees
are skipped), renames are paired by renames.py, and each file's hunks come
from libgit2 (`Patch.create_from` with git's indent heuristic). Headers,
quoting, abbreviated ids, --stat, --name-status and --name-only follow git's
diff.c. Never writes anything.
"""

from __future__ import annotations

import bisect
import os
import re
import subprocess
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import pygit2

from . import pathspecs
from .errors import BadInput
from .gitrepo import EMPTY_TREE, Abbreviator, config_flag, config_int, config_value, read_blob
from .model import FileChange
from .objects import Staging
from .objects import read_blob as read_staged
from .renames import MAX_SCORE, RENAME_LIMIT, Pair, detect_renames, is_binary, no_renames
from .trees import MODE_COMMIT, Edit, Entry, changed_entries, edit_entries

NULL_ID = "0" * 40
_PATCH_FLAGS = pygit2.enums.DiffOption.INDENT_HEURISTIC | pygit2.enums.DiffOption.FORCE_TEXT
_ESCAPES = {
    7: "\\a",
    8: "\\b",
    9: "\\t",
    10: "\\n",
    11: "\\v",
    12: "\\f",
    13: "\\r",
    34: '\\"',
    92: "\\\\",
}


@dataclass(frozen=True, slots=True)
class DiffOptions:
    """The `git diff` options gitplan reproduces."""

    # patch, stat, shortstat, name-status, name-only, numstat; and the GIT_OUTPUTS
    output: str = "patch"
    context: int = 3
    renames: bool = True
    rename_score: int = 30000  # of MAX_SCORE (60000): git's -M, 50% by default (DEFAULT_RENAME_SCORE)
    copies: bool | None = None  # copies too (git renders them); None: as diff.renames says
    rename_limit: int = RENAME_LIMIT  # diff.renameLimit, -l: more candidates, exact renames only
    suppress_blank_empty: bool = False  # diff.suppressBlankEmpty: an empty context line as "\n"
    full_index: bool = False
    # git pathspecs from the top: paths, globs, or git's long form with magic (pathspecs.py)
    pathspec: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()  # pathspecs left out, as git's `:(exclude)` ones (`:!`, `:^`)
    # Set by the repository's config where None (PlanStore.diff), git's defaults otherwise:
    quote_high: bool | None = None  # core.quotePath: bytes over 0x7f in names as escapes (true)
    prefixes: tuple[str, str] | None = None  # diff.noprefix: ("", ""); else ("a/", "b/")
    interhunk: int | None = None  # diff.interHunkContext: hunks this close are joined (0)
    stat_width: int = 80  # git diff: the terminal's columns ($COLUMNS), else 80
    stat_name_width: int = 0  # --stat-name-width: names cut to this (0: as the width allows)
    stat_graph_width: int = 0  # --stat-graph-width, diff.statGraphWidth (0: as the width allows)
    stat_count: int = 0  # --stat-count: only the first this many files, then " ..." (0: all)
    binary: bool = False  # --binary: binary files as a "GIT binary patch" git apply can use: git renders
    textconv: bool = True  # diff.<driver>.textconv filters, as `git diff` runs them (not format-patch)
    word_diff: str | None = None  # --word-diff=plain|color|porcelain: git renders it
    color: bool = False  # git renders the diff, with its colours (word diff, custom colours)
    relative: str = ""  # --relative, diff.relative: only under this directory ("sub/"), named from it
    algorithm: str = "myers"  # diff.algorithm: myers, minimal, patience (libgit2's), histogram (git's)
    indent_heuristic: bool = True  # diff.indentHeuristic: slide hunks as git does by default
    ext_diff: bool = False  # run the diff programs the config names (diff.external): git renders
    git_only: tuple[str, ...] = ()  # options only git renders (-w, -W, -R, --diff-filter...): git renders


ALGORITHMS = ("myers", "minimal", "patience", "histogram")
DEFAULT_RENAME_SCORE = 30000  # 50%, as git's
# Outputs that git renders (gitplan hands it the same two trees): git diff --raw,
# --summary, --compact-summary, -s (none), and --check (whitespace errors; what it finds
# is its output, not a failure).
GIT_OUTPUTS = ("raw", "summary", "compact-summary", "no-patch", "check")


def patch_context(context: int) -> int:
    """The context lines of a patch as git's builtin_diff takes them: GIT_DIFF_OPTS's
    `--unified=N` or `-uN` (C's strtoul: leading blanks, then digits; none is 0) over
    `context` (-U, diff.context); any other value of it is ignored, as in git."""
    value = os.environ.get("GIT_DIFF_OPTS")
    for prefix in ("--unified=", "-u"):
        if value is not None and value.startswith(prefix):
            found = re.match(r"[ \t\n\v\f\r]*\+?(\d*)", value[len(prefix) :])
            return int(found.group(1) or 0) if found else 0
    return context


def finding_bits(git_only: Sequence[str], outputs: Sequence[str]) -> int:
    """The bits of git diff's exit status that report what it found with these options and
    outputs: 1 a difference (--exit-code, --quiet), 2 whitespace errors (--check). A
    status with no other bit set (3: both) is a finding, not a failure."""
    bits = 1 if "--exit-code" in git_only or "--quiet" in git_only else 0
    return bits | (2 if "check" in outputs else 0)


def _rename_option(score: int) -> str:
    """git's -M for this similarity score, exactly: git reads `-M0.ddddd` (five digits at
    most) as ddddd * MAX_SCORE // 100000, so d is the least that comes back to `score`."""
    digits = -(-score * 100000 // MAX_SCORE)  # ceiling
    return "-M100%" if digits >= 100000 else f"-M0.{digits:05d}"


def git_pairing_and_lines(options: DiffOptions, renames: bool = True) -> list[str]:
    """The git diff options that decide which files pair up and how their lines are diffed,
    as these options ask: every git run that must split hunks as gitplan does takes them.
    (`renames`: False leaves rename detection to git's own config.)"""
    heuristic = "--indent-heuristic" if options.indent_heuristic else "--no-indent-heuristic"
    args = [f"--diff-algorithm={options.algorithm}", heuristic, f"-l{options.rename_limit}"]
    if renames:
        args.append(_rename_option(options.rename_score) if options.renames else "--no-renames")
    return args


def patch_flags(options: DiffOptions) -> pygit2.enums.DiffOption:
    """libgit2's flags for the line diff these options ask for (histogram is git's alone:
    PlanStore.diff has git render it)."""
    flags = pygit2.enums.DiffOption.FORCE_TEXT
    if options.indent_heuristic:
        flags |= pygit2.enums.DiffOption.INDENT_HEURISTIC
    if options.algorithm == "minimal":
        flags |= pygit2.enums.DiffOption.MINIMAL
    elif options.algorithm == "patience":
        flags |= pygit2.enums.DiffOption.PATIENCE
    return flags


def _excluded(entry: Entry, exclude: tuple[str, ...]) -> bool:
    """Do the `:(exclude)` pathspecs leave this file (or submodule) out?"""
    return pathspecs.matches(entry.path, exclude, gitlink=MODE_COMMIT in (entry.old_mode, entry.new_mode))


def file_pairs(
    repo: pygit2.Repository,
    old_tree: str | None,
    new_tree: str | None,
    options: DiffOptions = DiffOptions(),  # noqa: B008 - frozen, so safe to share
    skipped: Callable[[int], None] | None = None,
) -> list[Pair]:
    """The changed files of two trees, renames paired as git pairs them (`skipped`: see
    detect_renames)."""
    entries = changed_entries(repo, old_tree, new_tree, options.pathspec)
    if options.exclude:
        entries = [entry for entry in entries if not _excluded(entry, options.exclude)]
    if not options.renames:
        return no_renames(entries)
    return detect_renames(
        entries,
        lambda oid: read_blob(repo, oid),
        options.rename_score or DEFAULT_RENAME_SCORE,  # git: a score of 0 (-M0) is the default
        options.rename_limit if options.rename_limit > 0 else 32767,  # git: 0 or less, no limit
        skipped,
    )


def file_changes(repo: pygit2.Repository, old_tree: str, new_tree: str) -> tuple[FileChange, ...]:
    """Each changed path with its kind and line counts, renames paired as git does."""
    drivers = _DiffDrivers(repo)
    return tuple(_counted(repo, pair, drivers) for pair in file_pairs(repo, old_tree, new_tree))


def edit_changes(
    repo: pygit2.Repository,
    staging: Staging,
    tree: str,
    edits: Mapping[str, Edit],
    old_at: Callable[[str], tuple[str, int] | None] | None = None,
) -> tuple[FileChange, ...]:
    """What `edits` change in `tree`, as file_changes would report it once they are written.

    The new contents come from the staged objects, so a record never reads back
    what it is about to write; only the old versions are read. `old_at(path)`
    gives the old entries instead of `tree` when that tree is only staged."""

    def read(oid: str) -> bytes:
        return read_staged(repo, staging, oid)

    drivers = _DiffDrivers(repo)  # `-diff` and binary drivers count as git's --numstat counts
    threshold = drivers.big_file_threshold()

    def big(oid: str | None) -> bool:
        """Would git refuse to diff this blob (larger than core.bigFileThreshold)?"""
        return oid is not None and _blob_size(repo, staging, oid) > threshold

    entries = edit_entries(repo, tree, edits, old_at)
    # Files over the threshold are neither read nor paired as renames: binary, as git shows them.
    large = {e.path for e in entries if big(e.old_id) or big(e.new_id)}
    pairs = detect_renames([e for e in entries if e.path not in large], read)
    pairs += no_renames([e for e in entries if e.path in large])
    pairs.sort(key=lambda pair: pair.path.encode("utf-8", "surrogateescape"))
    changes = []
    for pair in pairs:
        if pair.path in large:
            kind = "added" if pair.old_id is None else "deleted" if pair.new_id is None else "modified"
            sizes = (_blob_size(repo, staging, pair.new_id), _blob_size(repo, staging, pair.old_id))
            changes.append(FileChange(pair.path, kind, *sizes, None, True))
        else:
            changes.append(_counted(repo, pair, drivers, read=read))
    return tuple(changes)


def _blob_size(repo: pygit2.Repository, staging: Staging, oid: str | None) -> int:
    if oid is None:
        return 0
    streamed = staging.streamed(oid)
    if streamed:
        return streamed[1]
    staged = staging.data(oid)
    return len(staged) if staged is not None else _stored_size(repo, oid) or 0


def big_file_threshold(repo: pygit2.Repository) -> int:
    """git's core.bigFileThreshold (512 MiB unless set): larger files are not diffed, as binary."""
    try:
        return config_int(repo, "core.bigFileThreshold", 512 << 20)
    except BadInput:  # not a number: git's default, as before
        return 512 << 20


def _stored_size(repo: pygit2.Repository, oid: str) -> int | None:
    try:
        return int(repo.odb.read_header(oid)[1])
    except (KeyError, ValueError, pygit2.GitError):
        return None


def render(
    repo: pygit2.Repository,
    pairs: list[Pair],
    options: DiffOptions,
    trees: tuple[str | None, str | None] | None = None,
    exact: bool = True,
) -> str:
    """The text `git diff` prints for these pairs with these options; `trees`, the two
    trees they come from, lets git name the function lines of drivers with a pattern.
    With `exact`, PlacedOtherwiseByGit where git would place a hunk otherwise."""
    high = options.quote_high is not False
    if options.output == "name-only":
        return "".join(quote_path(p.path, high=high) + "\n" for p in pairs)
    if options.output == "name-status":
        return "".join(_name_status(p, high) for p in pairs)
    drivers = _DiffDrivers(repo)
    flags = patch_flags(options)
    if options.output in ("stat", "shortstat", "numstat"):
        counted = counted_changes(repo, pairs, options, drivers)
        if options.output == "numstat":
            return "".join(_numstat(change, high) for change in counted)
        stat = render_stat(
            counted,
            options.stat_width,
            high,
            limit_name=options.stat_name_width,
            limit_graph=options.stat_graph_width,
            limit_count=options.stat_count,
        )
        return stat[stat.rfind("\n", 0, -1) + 1 :] if options.output == "shortstat" else stat
    ids = Abbreviator(repo)
    abbrev = 40 if options.full_index else ids.default_length()
    if trees is not None:
        drivers.learn_headers_from_git(trees, pairs, options)
    return "".join(_patch(repo, p, options, abbrev, drivers, ids, flags, exact) for p in pairs)


def counted_changes(
    repo: pygit2.Repository, pairs: list[Pair], options: DiffOptions, drivers: _DiffDrivers | None = None
) -> list[FileChange]:
    """Each pair's change: its kind and its lines added and deleted, as --numstat counts them."""
    drivers = drivers or _DiffDrivers(repo)
    flags = patch_flags(options)
    return [_counted(repo, pair, drivers, flags, context=options.context) for pair in pairs]


class PlacedOtherwiseByGit(Exception):
    """A file has a form feed or a vertical tab: libgit2's indent heuristic counts them
    as blank (C's isspace), git's does not, so hunks next to such a line may slide
    differently. `render(exact=True)` raises this; the caller has git render the diff."""


# -- quoting, as git's quote_c_style ---------------------------------------------


_QUOTED = re.compile(rb'[\x00-\x1f\x7f-\xff"\\]')  # what git's quote_c_style escapes
_QUOTED_LOW = re.compile(rb'[\x00-\x1f\x7f"\\]')  # the same with core.quotePath false


def _needs_quote(raw: bytes, high: bool = True) -> bool:
    return (_QUOTED if high else _QUOTED_LOW).search(raw) is not None


def _escape(raw: bytes, high: bool = True) -> str:
    out = []
    for b in raw:
        if b in _ESCAPES:
            out.append(_ESCAPES[b].encode())
        elif b < 0x20 or b == 0x7F or (b > 0x7F and high):
            out.append(b"\\%03o" % b)
        else:
            out.append(bytes([b]))
    return b"".join(out).decode("utf-8", "surrogateescape")


def quote_path(path: str, prefix: str = "", high: bool = True) -> str:
    """A name as git prints it: in double quotes with C escapes where it must be; with
    `high` (core.quotePath, git's default), bytes over 0x7f are escaped too."""
    raw = (prefix + path).encode("utf-8", "surrogateescape")
    if _needs_quote(raw, high):
        return '"' + _escape(raw, high) + '"'
    return prefix + path


def unquote(name: str) -> str:
    """git's C-style quoting of a path ("a/\\303\\251.txt"), undone; a plain name as it is."""
    if not (len(name) >= 2 and name.startswith('"') and name.endswith('"')):
        return name
    raw = bytearray()
    text = name[1:-1]
    at = 0
    while at < len(text):
        char = text[at]
        if char == "\\" and at + 1 < len(text):
            following = text[at + 1]
            if following in "01234567":
                raw.append(int(text[at + 1 : at + 4], 8))
                at += 4
                continue
            raw.append(_UNESCAPES.get(following, ord(following)))
            at += 2
            continue
        raw.extend(char.encode("utf-8", "surrogateescape"))
        at += 1
    return bytes(raw).decode("utf-8", "surrogateescape")


_UNESCAPES = {escape[1]: byte for byte, escape in _ESCAPES.items()}


# -- patches -------------------------------------------------------------------


def _kind(mode: int | None) -> int:
    return int(mode or 0) & 0o170000  # int(): pygit2's modes are enum flags, slow to combine


def _contents(
    repo: pygit2.Repository, oid: str | None, mode: int | None, read: Callable[[str], bytes] | None = None
) -> bytes:
    if oid is None:
        return b""
    if mode == MODE_COMMIT:
        return f"Subproject commit {oid}\n".encode()
    return read(oid) if read is not None else read_blob(repo, oid)


def _not_blank_to_git(*sides: bytes) -> bool:
    """Has a side a form feed or a vertical tab: blank to C's isspace, not to git's?"""
    return any(b"\f" in side or b"\v" in side for side in sides)


def _patch(
    repo: pygit2.Repository,
    pair: Pair,
    options: DiffOptions,
    abbrev: int,
    drivers: _DiffDrivers,
    ids: Abbreviator,
    flags: pygit2.enums.DiffOption,
    exact: bool = True,
) -> str:
    high = options.quote_high is not False
    if pair.old_id and pair.new_id and _kind(pair.old_mode) != _kind(pair.new_mode):
        # git shows a type change as a deletion followed by an addition.
        gone = Pair(pair.old_path, None, pair.old_id, pair.old_mode, None, None)
        born = Pair(None, pair.new_path, None, None, pair.new_id, pair.new_mode)
        return _patch(repo, gone, options, abbrev, drivers, ids, flags, exact) + _patch(
            repo, born, options, abbrev, drivers, ids, flags, exact
        )
    name_a = pair.old_path if pair.old_path is not None else str(pair.new_path)
    name_b = pair.new_path if pair.new_path is not None else str(pair.old_path)
    prefix_a, prefix_b = options.prefixes or ("a/", "b/")
    a_one, b_two = quote_path(name_a, prefix_a, high), quote_path(name_b, prefix_b, high)
    lines = [f"diff --git {a_one} {b_two}\n"]
    if pair.old_id is None:
        lines.append(f"new file mode {pair.new_mode:06o}\n")
    elif pair.new_id is None:
        lines.append(f"deleted file mode {pair.old_mode:06o}\n")
    elif pair.old_mode != pair.new_mode:
        lines.append(f"old mode {pair.old_mode:06o}\nnew mode {pair.new_mode:06o}\n")
    if pair.is_rename:
        lines.append(f"similarity index {pair.score * 100 // MAX_SCORE}%\n")
        lines.append(
            f"rename from {quote_path(name_a, high=high)}\nrename to {quote_path(name_b, high=high)}\n"
        )
    if pair.old_id == pair.new_id:
        return "".join(lines)
    both = _sides(repo, pair, drivers, options.textconv)
    old, new, binary_pair = both.old, both.new, both.binary
    if both.same and pair.old_id and pair.new_id and pair.old_mode == pair.new_mode and not pair.is_rename:
        return ""  # textconv filters made both sides the same: git shows nothing of the file
    old_abbrev = ids(pair.old_id or NULL_ID, abbrev)
    new_abbrev = ids(pair.new_id or NULL_ID, abbrev)
    index = f"index {old_abbrev}..{new_abbrev}"
    if pair.old_mode == pair.new_mode:
        index += f" {pair.old_mode:06o}"
    lines.append(index + "\n")
    label_a = a_one if pair.old_id else "/dev/null"
    label_b = b_two if pair.new_id else "/dev/null"
    if binary_pair and both.same:  # an empty file added or deleted: git shows the header alone
        return "".join(lines)
    if binary_pair:  # (a --binary patch is git's own: PlanStore.diff has git render it)
        lines.append(f"Binary files {label_a} and {label_b} differ\n")
        return "".join(lines)
    if exact and flags & pygit2.enums.DiffOption.INDENT_HEURISTIC and _not_blank_to_git(old, new):
        raise PlacedOtherwiseByGit(name_b)
    # The names are not printed (the headers above are ours), and non-UTF-8 ones cannot be passed.
    left, right = _trim_common_tail(old, new) if options.context == 0 else (old, new)
    patch = pygit2.Patch.create_from(
        left,
        right,
        flag=flags,
        context_lines=options.context,
        interhunk_lines=options.interhunk or 0,
    )
    hunks = _hunks(patch.data)
    if not hunks:
        return "".join(lines)
    lines.append(f"--- {label_a}{_tab(label_a)}\n+++ {label_b}{_tab(label_b)}\n")
    headers = _hunk_headers(drivers, old, name_a, [header for header, _ in hunks], name_b)
    text = b"".join(header + body for header, (_, body) in zip(headers, hunks, strict=True))
    if options.suppress_blank_empty:
        text = _BLANK_CONTEXT.sub(b"\n", text)
    return "".join(lines) + text.decode("utf-8", "surrogateescape")


_BLANK_CONTEXT = re.compile(rb"(?m)^ \n")  # a context line that is empty


def _trim_common_tail(old: bytes, new: bytes) -> tuple[bytes, bytes]:
    """What git diffs without context (xdiff-interface.c's trim_common_tail): an identical
    ending is cut in 1 KiB blocks, all but up to the first line end of what was cut."""
    block = 1024
    smaller = min(len(old), len(new))
    trimmed = 0
    while (
        trimmed + block <= smaller
        and old[len(old) - trimmed - block : len(old) - trimmed]
        == new[len(new) - trimmed - block : len(new) - trimmed]
    ):
        trimmed += block
    kept = 0
    cut = old[len(old) - trimmed :]
    while kept < trimmed:
        kept += 1
        if cut[kept - 1] == 0x0A:
            break
    if trimmed == kept:
        return old, new
    return old[: len(old) - trimmed + kept], new[: len(new) - trimmed + kept]


def _hunks(data: bytes) -> list[tuple[str, bytes]]:
    """Each hunk of libgit2's patch text: its header line, and its lines as libgit2 wrote them.

    A line of a hunk starts with " ", "+", "-" or "\\", so every line that starts
    with "@@ " is a hunk header. (One buffer from libgit2, not an object per line.)"""
    start = data.find(b"\n@@ ")
    if start < 0:
        return []
    pieces = data[start + 1 :].split(b"\n@@ ")
    hunks = []
    for number, piece in enumerate(pieces):
        if number:
            piece = b"@@ " + piece
        if number < len(pieces) - 1:
            piece += b"\n"  # the split took the newline that ends the hunk's last line
        end = piece.index(b"\n") + 1
        hunks.append((piece[:end].decode("utf-8", "surrogateescape"), piece[end:]))
    return hunks


_HUNK_RANGE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@")
_FUNC_WIDTH = 80  # git keeps at most this many bytes of a function line


def _hunk_headers(
    drivers: _DiffDrivers, old: bytes, path: str, libgit2_headers: list[str], new_path: str
) -> list[bytes]:
    """Hunk headers with the function-line text git's xdiff would print.

    git takes the nearest line above the hunk that is a function line, searched
    only back to the previous hunk's start (an earlier hunk's text carries
    over), cut to 80 bytes, trailing whitespace stripped. Without a diff driver
    that has a pattern, a function line starts with a letter, `_` or `$`, and
    that is worked out here. A driver's pattern (one of git's built-in drivers,
    or `diff.<driver>.xfuncname`/`funcname`, POSIX regexes that only git reads
    as git does) gives git's own headers (_DiffDrivers.learn_headers_from_git),
    else libgit2's choice, cut and stripped the same way."""
    if drivers.has_pattern(path, new_path):
        by_git = drivers.headers_from_git(new_path)
        return [by_git.get(_ranges(h)) or _with_func(h, _libgit2_func(h)) for h in libgit2_headers]
    nearest = _nearest_by_prefix(old)
    func = b""
    previous = -1
    headers = []
    for header in libgit2_headers:
        found = _HUNK_RANGE.match(header)
        assert found is not None, header
        start, count = int(found.group(1)), int(found.group(2) or 1)
        first = start - 1 if count else start  # 0-based index of the hunk's first old line
        text = nearest(previous, first - 1)
        if text is not None:
            func = text
        previous = first - 1
        headers.append(_with_func(header, func))
    return headers


# nearest(low, high): the text of the last function line among old lines low+1..high, or None.
_Nearest = Callable[[int, int], bytes | None]


# git's default function line: one that starts with a letter, `_` or `$`.
_FUNCTION_START = re.compile(rb"^[A-Za-z_$][^\n]*", re.MULTILINE)


def _nearest_by_prefix(old: bytes) -> _Nearest:
    """git's default rule (a line that starts with a letter, `_` or `$`), found by one
    regex pass over the file instead of a test of each line a hunk looks back over."""
    numbers: list[int] = []
    texts: list[bytes] = []
    line = offset = 0
    for found in _FUNCTION_START.finditer(old):
        line += old.count(b"\n", offset, found.start())
        offset = found.start()
        numbers.append(line)
        texts.append(found.group())

    def nearest(low: int, high: int) -> bytes | None:
        at = bisect.bisect_right(numbers, high) - 1
        return _trim(texts[at]) if at >= 0 and numbers[at] > low else None

    return nearest


def _trim(text: bytes) -> bytes:
    return text[:_FUNC_WIDTH].rstrip(b" \t\n\r")  # git's isspace(): not \v or \f


def _libgit2_func(header: str) -> bytes:
    """The function-line text libgit2 put in a hunk header, cut and stripped as git does."""
    return _trim(header.split("@@", 2)[2].strip("\n").encode("utf-8", "surrogateescape"))


def _ranges(header: str) -> bytes:
    """A hunk header's "@@ -a,b +c,d @@"."""
    return header[: header.index("@@", 2) + 2].encode()


def _with_func(header: str, func: bytes) -> bytes:
    ranges = _ranges(header)
    if not func.isascii():
        try:
            func.decode("utf-8")
        except UnicodeDecodeError as error:  # git's sane_truncate_line: stop before bad UTF-8
            func = func[: error.start]
    return ranges + (b" " + func if func else b"") + b"\n"


# git's built-in diff drivers (userdiff): each has a function-line pattern.
_BUILTIN_DRIVERS = frozenset(
    [
        "ada",
        "bash",
        "bibtex",
        "cpp",
        "csharp",
        "css",
        "dts",
        "elixir",
        "fortran",
        "fountain",
        "golang",
        "html",
        "java",
        "kotlin",
        "markdown",
        "matlab",
        "objc",
        "pascal",
        "perl",
        "php",
        "python",
        "ruby",
        "rust",
        "scheme",
        "tex",
    ]
)


class _DiffDrivers:
    """Which paths .gitattributes gives a diff driver, and its function-line rule, for
    one rendering.

    libgit2's attribute lookup may load the whole index, so it is asked only when an
    attributes file exists that could apply: the repository's info/attributes, the
    user's (core.attributesFile or XDG git/attributes), or a .gitattributes in the
    worktree at the top or in a directory on the path. Each is looked for once per
    rendering (per directory for the worktree's), not once per file."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self._repo = repo
        self._global: bool | None = None
        self._in_directory: dict[str, bool] = {}  # has a .gitattributes of its own
        self._below: dict[str, bool] = {}  # it, or a directory above it, has one
        self._patterns: dict[str, bool] = {}  # has a function-line pattern, read once
        self._binary_drivers: dict[str, bool] = {}  # diff.<driver>.binary, read once
        self._textconv: dict[str, str | None] = {}  # diff.<driver>.textconv, read once
        self._values: dict[str, str | bool | None] = {}  # each path's diff attribute, looked up once
        self._threshold: int | None = None  # core.bigFileThreshold, read once
        self._headers_from_git: dict[str, dict[bytes, bytes]] = {}  # path -> ranges -> git's header

    def learn_headers_from_git(
        self, trees: tuple[str | None, str | None], pairs: list[Pair], options: DiffOptions
    ) -> None:
        """Ask git for the hunk headers of the modified files whose driver has a pattern
        (has_pattern): one `git diff-tree` of the same trees with the same context. A hunk
        git splits otherwise keeps libgit2's header."""
        paths = [
            path
            for p in pairs
            if p.old_id and p.new_id and _kind(p.old_mode) == _kind(p.new_mode)
            and self.has_pattern(p.old_path or p.path, p.path)
            for path in dict.fromkeys((p.old_path or p.path, p.path))  # a rename needs both
        ]  # fmt: skip
        if paths:
            self._headers_from_git = _hunk_headers_by_git(self._repo, trees, paths, options)

    def headers_from_git(self, path: str) -> dict[bytes, bytes]:
        """git's hunk headers of `path` (learn_headers_from_git), by their "@@ ... @@" part."""
        return self._headers_from_git.get(path, {})

    def has_pattern(self, old_path: str, new_path: str) -> bool:
        """Does git find this pair's function lines by a driver's pattern? git takes the old
        path's driver's, else the new path's: a built-in driver (python, cpp...) or one
        with `diff.<driver>.xfuncname` or `funcname`. Else git's default rule applies."""
        if self._patterned(self._driver(old_path)):
            return True
        return new_path != old_path and self._patterned(self._driver(new_path))

    def _patterned(self, driver: str | None) -> bool:
        if driver is None:
            return False
        if driver not in self._patterns:
            configured = False
            for key in (f"diff.{driver}.xfuncname", f"diff.{driver}.funcname"):
                configured = configured or bool(config_value(self._repo, key))
            self._patterns[driver] = configured or driver in _BUILTIN_DRIVERS
        return self._patterns[driver]

    def textconv(self, path: str) -> str | None:
        """The `diff.<driver>.textconv` command of the driver `path`'s attributes name."""
        driver = self._driver(path)
        if driver is None:
            return None
        if driver not in self._textconv:
            self._textconv[driver] = config_value(self._repo, f"diff.{driver}.textconv") or None
        return self._textconv[driver]

    def big_file_threshold(self) -> int:
        """core.bigFileThreshold: a larger file is binary to git's diff, whatever its bytes."""
        if self._threshold is None:
            self._threshold = big_file_threshold(self._repo)
        return self._threshold

    def text(self, path: str) -> bool:
        """Is the `diff` attribute of `path` set, which makes git diff it as text?"""
        return self._value(path) is True

    def binary(self, path: str) -> bool:
        """Is `path` binary to git's diff by its attributes: `-diff`, or a driver whose
        `diff.<driver>.binary` is true? (Otherwise the bytes decide.)"""
        value = self._value(path)
        if not isinstance(value, str):
            return value is False
        if value not in self._binary_drivers:
            self._binary_drivers[value] = config_flag(self._repo, f"diff.{value}.binary", False)
        return self._binary_drivers[value]

    def _driver(self, path: str) -> str | None:
        value = self._value(path)
        return value if isinstance(value, str) else None

    def _value(self, path: str) -> str | bool | None:
        """The `diff` attribute of `path`: a driver's name, True (set), False (unset) or None."""
        if path in self._values:
            return self._values[path]
        value: object = None
        if self._attribute_files(path):
            try:
                value = self._repo.get_attr(path, "diff")
            except (pygit2.GitError, UnicodeError, ValueError):
                value = None
        found = value if isinstance(value, str | bool) else None
        self._values[path] = found
        return found

    def _attribute_files(self, path: str) -> bool:
        if self._global is None:
            self._global = _global_attributes(self._repo)
        if self._global:
            return True
        workdir = self._repo.workdir
        if not workdir:
            return True  # a bare repository: attributes live in its trees; let libgit2 look
        parent = path.rpartition("/")[0]
        below = self._below.get(parent)
        if below is None:
            below = self._below[parent] = self._attributes_above(workdir, parent)
        return below

    def _attributes_above(self, workdir: str, parent: str) -> bool:
        directory = ""
        for part in ["", *(parent.split("/") if parent else [])]:
            directory = f"{directory}/{part}" if directory else part
            found = self._in_directory.get(directory)
            if found is None:
                found = os.path.exists(os.path.join(workdir, directory, ".gitattributes"))
                self._in_directory[directory] = found
            if found:
                return True
        return False


_PATHSPEC_LIMIT = 200  # more paths than this: git diffs every changed file instead


def _hunk_headers_by_git(
    repo: pygit2.Repository, trees: tuple[str | None, str | None], paths: list[str], options: DiffOptions
) -> dict[str, dict[bytes, bytes]]:
    """Each file's hunk headers as `git diff-tree -p` prints them for the two trees; empty
    when git cannot say (the caller keeps libgit2's)."""
    from . import worktree

    old, new = (tree or EMPTY_TREE for tree in trees)
    args = ["diff-tree", "-p", "--no-color", "--no-ext-diff", "--no-textconv",
            *git_pairing_and_lines(options), "--src-prefix=a/", "--dst-prefix=b/", f"-U{options.context}",
            f"--inter-hunk-context={options.interhunk or 0}", old, new,
            "--", *(paths if len(paths) <= _PATHSPEC_LIMIT else ())]  # fmt: skip
    try:  # in the user's character classes: a driver's pattern may use [[:alpha:]]
        out = worktree.run_git(repo, args, env=worktree.in_users_characters(worktree.git_env(repo)))
    except worktree.GitFailed:
        return {}
    found: dict[str, dict[bytes, bytes]] = {}
    headers: dict[bytes, bytes] | None = None
    in_hunks = False
    for line in out.split(b"\n"):
        if line.startswith(b"diff --git "):
            headers, in_hunks = None, False
        elif line.startswith(b"+++ ") and not in_hunks:
            name = unquote(line[4:].decode("utf-8", "surrogateescape").removesuffix("\t"))
            headers = found.setdefault(name.removeprefix("b/"), {})
        elif line.startswith(b"@@ ") and headers is not None:
            in_hunks = True
            headers[line[: line.index(b"@@", 2) + 2]] = line + b"\n"
    return found


def _global_attributes(repo: pygit2.Repository) -> bool:
    candidates = [os.path.join(repo.path, "info", "attributes")]
    configured = config_value(repo, "core.attributesFile")
    if configured is not None:
        candidates.append(os.path.expanduser(configured))
    else:
        home = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
        candidates.append(os.path.join(home, "git", "attributes"))
    return any(os.path.exists(candidate) for candidate in candidates)


def _tab(label: str) -> str:
    return "\t" if " " in label else ""


# -- name-status, numstat, stat ------------------------------------------------


def _name_status(pair: Pair, high: bool = True) -> str:
    if pair.is_rename:
        score = pair.score * 100 // MAX_SCORE
        return (
            f"R{score:03d}\t{quote_path(str(pair.old_path), high=high)}\t{quote_path(pair.path, high=high)}\n"
        )
    if pair.old_id is None:
        letter = "A"
    elif pair.new_id is None:
        letter = "D"
    elif _kind(pair.old_mode) != _kind(pair.new_mode):
        letter = "T"
    else:
        letter = "M"
    return f"{letter}\t{quote_path(pair.path, high=high)}\n"


@dataclass(frozen=True, slots=True)
class _Sides:
    """Both sides of a pair as git's diff compares them. A side over core.bigFileThreshold
    is not read (its bytes are empty here; git shows it as binary by its size alone)."""

    old: bytes
    new: bytes
    binary: bool  # shown as binary, as git decides it
    old_size: int
    new_size: int
    same: bool  # the same bytes on both sides (a textconv filter's output; an empty file)


def _sides(
    repo: pygit2.Repository,
    pair: Pair,
    drivers: _DiffDrivers,
    textconv: bool,
    read: Callable[[str], bytes] | None = None,
) -> _Sides:
    """Both sides of a pair as git's diff compares them, and whether it shows them as binary.

    A side whose path's driver has a `diff.<driver>.textconv` filter (with `textconv`) is
    that filter's output, and text; a side without one is binary by its attributes (`-diff`,
    `diff.<driver>.binary`), by its size (over core.bigFileThreshold: then it is not read,
    as git streams it) or by its bytes."""
    sides = []
    sizes = []
    binary = False
    unread = False
    for path, oid, mode in ((pair.old_path or pair.path, pair.old_id, pair.old_mode),
                            (pair.path, pair.new_id, pair.new_mode)):  # fmt: skip
        regular = oid is not None and _kind(mode) == _REGULAR  # git gives only files a driver
        command = drivers.textconv(path) if textconv and regular else None
        forced_text = regular and drivers.text(path)  # `diff` set: text, whatever the bytes
        stored = _stored_size(repo, oid) if oid and regular and read is None and command is None else None
        if stored is not None and not forced_text and stored > drivers.big_file_threshold():
            binary, unread = True, True  # (as git: the attributes, then the size, then the bytes)
            sides.append(b"")
            sizes.append(stored)
            continue
        data = _contents(repo, oid, mode, read)
        if command is not None:
            data = _textconv(repo, command, path, data)
        elif not forced_text:
            large = len(data) > drivers.big_file_threshold()
            binary = binary or (regular and drivers.binary(path)) or large or is_binary(data)
        sides.append(data)
        sizes.append(len(data))
    same = not unread and sides[0] == sides[1]
    return _Sides(sides[0], sides[1], binary, sizes[0], sizes[1], same)


_REGULAR = 0o100000


def _textconv(repo: pygit2.Repository, command: str, path: str, data: bytes) -> bytes:
    """What a textconv filter prints for these bytes, run as git runs it: by the shell, with
    the name of a temporary file that holds them (ending in the path's own name)."""
    handle, name = tempfile.mkstemp(suffix="_" + os.path.basename(path))
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        done = subprocess.run(
            ["sh", "-c", command + ' "$@"', command, name],
            capture_output=True,
            cwd=repo.workdir or repo.path,
            check=False,
        )
    finally:
        os.unlink(name)
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        raise BadInput(f"the textconv filter {command!r} failed on {path}: {message}")
    return done.stdout


def _counted(
    repo: pygit2.Repository,
    pair: Pair,
    drivers: _DiffDrivers,
    flags: pygit2.enums.DiffOption = _PATCH_FLAGS,
    read: Callable[[str], bytes] | None = None,
    context: int = 3,
) -> FileChange:
    """Lines added and deleted by one pair (bytes for binary files), as git's --numstat
    counts them: the raw bytes, never a textconv filter's output, binary by the same rule
    as the patch (_sides). `read` reads the blobs (staged ones, for a record's note); the
    context matters only when it is 0 (_line_stats)."""
    both = _sides(repo, pair, drivers, textconv=False, read=read)
    if both.binary:
        return _binary_stats(pair, both.old_size, both.new_size, both.same)
    return _line_stats(pair, both.old, both.new, flags, context)


def _line_stats(
    pair: Pair,
    old: bytes,
    new: bytes,
    flags: pygit2.enums.DiffOption = _PATCH_FLAGS,
    context: int = 3,
) -> FileChange:
    """The counts of a text pair whose sides are `old` and `new` (binary ones: _binary_stats).
    git's diffstat diffs with the command's context, and only a context of 0 trims the
    identical ending first (_trim_common_tail), which can pair lines otherwise."""
    additions = deletions = 0
    if old != new:
        sides = _trim_common_tail(old, new) if context == 0 else (old, new)
        patch = pygit2.Patch.create_from(*sides, flag=flags, context_lines=0)
        _, additions, deletions = patch.line_stats
    return FileChange(
        pair.path, _kind_of(pair), additions, deletions, pair.old_path if pair.is_rename else None
    )


def _binary_stats(pair: Pair, old_size: int, new_size: int, same: bool) -> FileChange:
    """The counts of a binary pair: its sizes (git counts no bytes for a binary file
    renamed unchanged)."""
    same = same or pair.old_id == pair.new_id
    return FileChange(
        pair.path, _kind_of(pair), 0 if same else new_size, 0 if same else old_size,
        pair.old_path if pair.is_rename else None, True,
    )  # fmt: skip


def _kind_of(pair: Pair) -> str:
    if pair.is_rename:
        return "renamed"
    if pair.old_id is None:
        return "added"
    if pair.new_id is None:
        return "deleted"
    if _kind(pair.old_mode) != _kind(pair.new_mode):
        return "typechange"
    if pair.old_id == pair.new_id:
        return "mode"
    return "modified"


def _numstat(change: FileChange, high: bool = True) -> str:
    name = _print_name(change, high)
    if change.binary:
        return f"-\t-\t{name}\n"
    return f"{change.additions}\t{change.deletions}\t{name}\n"


def _print_name(change: FileChange, high: bool = True) -> str:
    if change.old_path is not None:
        return pretty_rename(change.old_path, change.path, high)
    return quote_path(change.path, high=high)


def pretty_rename(a: str, b: str, high: bool = True) -> str:
    """git's pprint_rename(): `dir/{old => new}/rest` around the common parts."""
    raw_a, raw_b = a.encode("utf-8", "surrogateescape"), b.encode("utf-8", "surrogateescape")
    if _needs_quote(raw_a, high) or _needs_quote(raw_b, high):
        return f"{quote_path(a, high=high)} => {quote_path(b, high=high)}"
    prefix = 0
    i = 0
    while i < len(a) and i < len(b) and a[i] == b[i]:
        if a[i] == "/":
            prefix = i + 1
        i += 1
    suffix = 0
    adjust = 1 if prefix else 0
    ia, ib = len(a), len(b)  # index len() stands for the terminating NUL
    while prefix - adjust <= ia and prefix - adjust <= ib:
        ca = a[ia] if ia < len(a) else "\0"
        cb = b[ib] if ib < len(b) else "\0"
        if ia < 0 or ib < 0 or ca != cb:
            break
        if ca == "/":
            suffix = len(a) - ia
        ia -= 1
        ib -= 1
    mid_a = max(0, len(a) - prefix - suffix)
    mid_b = max(0, len(b) - prefix - suffix)
    middle = f"{a[prefix : prefix + mid_a]} => {b[prefix : prefix + mid_b]}"
    if prefix + suffix:
        return f"{a[:prefix]}{{{middle}}}{a[len(a) - suffix :]}"
    return middle


def _scale(value: int, width: int, max_change: int) -> int:
    if value == 0:
        return 0
    return 1 + (value * (width - 1) // max_change)


def _columns(raw: bytes) -> int:
    """How many terminal columns a name takes, as git's utf8_strwidth counts them: East
    Asian wide and full-width characters two, combining marks and format characters none;
    bytes that are not UTF-8 (a name cut inside a character) one each, all of them, as
    for a name holding U+FFFE or U+FFFF, which git's UTF-8 reader refuses."""
    if raw.isascii():
        return len(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return len(raw)
    if "\ufffe" in text or "\uffff" in text:
        return len(raw)
    return sum(_char_columns(char) for char in text)


def _char_columns(char: str) -> int:
    """The columns git's utf8_strwidth() counts for a character: none for a control
    character (git_wcwidth's -1, which git 2.39 no longer subtracts)."""
    if char < " " or "\x7f" <= char < "\xa0":
        return 0
    category = unicodedata.category(char)
    if char != "\u00ad" and category in ("Mn", "Me", "Cf") or "\u1160" <= char <= "\u11ff":
        return 0  # marks, format characters and Hangul medial vowels and final consonants
    if category == "Cn":  # unassigned: wide only in the planes Unicode keeps for ideographs
        return 2 if "\U00020000" <= char <= "\U0003fffd" else 1
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def render_stat(
    changes: Iterable[FileChange],
    width: int = 80,
    high: bool = True,
    limit_name: int = 0,
    limit_graph: int = 0,
    limit_count: int = 0,
) -> str:
    """git's show_stats(): `width` columns in all, the graph and the names fitted into it;
    names cut to `limit_name`, the graph to `limit_graph`, the first `limit_count` files
    only (0: no such limit; negative: none), as --stat-name-width, --stat-graph-width and
    --stat-count."""
    files = list(changes)
    if not files:
        return ""
    shown = files[: max(limit_count, 0)] if limit_count else files  # (negative: none, as git)
    max_change = max_len = 0
    number_width = bin_width = 0
    names = [_print_name(change, high) for change in shown]
    for change, name in zip(shown, names, strict=True):
        max_len = max(max_len, _columns(name.encode("utf-8", "surrogateescape")))
        if change.binary:
            bin_width = max(bin_width, 14 + len(str(change.additions)) + len(str(change.deletions)))
            number_width = 3
            continue
        max_change = max(max_change, change.additions + change.deletions)
    number_width = max(number_width, len(str(max_change)))
    width = max(width, 16 + 6 + number_width)
    graph_width = max_change if max_change + 4 > bin_width else bin_width - 4
    if limit_graph and limit_graph < graph_width:
        graph_width = limit_graph
    name_width = limit_name if 0 < limit_name < max_len else max_len
    if name_width + number_width + 6 + graph_width > width:
        if graph_width > width * 3 // 8 - number_width - 6:
            graph_width = max(6, width * 3 // 8 - number_width - 6)
        if limit_graph and graph_width > limit_graph:
            graph_width = limit_graph
        if name_width > width - number_width - 6 - graph_width:
            name_width = width - number_width - 6 - graph_width
        else:
            graph_width = width - number_width - 6 - name_width
    out = []
    for change, name in zip(shown, names, strict=True):
        prefix = ""
        length = name_width
        raw = name.encode("utf-8", "surrogateescape")
        columns = _columns(raw)
        if name_width < columns:
            prefix = "..."
            length -= 3
            # git skips as many bytes as there are columns too many, even inside a character.
            raw = raw[max(0, columns - length) :]
            slash = raw.find(b"/")
            if slash >= 0:
                raw = raw[slash:]
        name = raw.decode("utf-8", "surrogateescape") + " " * max(0, length - _columns(raw))
        if change.binary:
            line = f" {prefix}{name} | {'Bin':>{number_width}}"
            if change.additions or change.deletions:
                line += f" {change.deletions} -> {change.additions} bytes"
            out.append(line + "\n")
            continue
        add, delete = change.additions, change.deletions
        if graph_width <= max_change:
            total = _scale(add + delete, graph_width, max_change)
            if total < 2 and add and delete:
                total = 2
            if add < delete:
                add = _scale(add, graph_width, max_change)
                delete = total - add
            else:
                delete = _scale(delete, graph_width, max_change)
                add = total - delete
        count = change.additions + change.deletions
        out.append(
            f" {prefix}{name} | {count:>{number_width}}{' ' if count else ''}{'+' * add}{'-' * delete}\n"
        )
    if len(shown) < len(files):
        out.append(" ...\n")
    adds = sum(change.additions for change in files if not change.binary)
    dels = sum(change.deletions for change in files if not change.binary)
    out.append(stat_summary(len(files), adds, dels))
    return "".join(out)


def stat_summary(files: int, insertions: int, deletions: int) -> str:
    text = f" {files} file{'s' if files != 1 else ''} changed"
    if insertions or deletions == 0:
        text += f", {insertions} insertion{'s' if insertions != 1 else ''}(+)"
    if deletions or insertions == 0:
        text += f", {deletions} deletion{'s' if deletions != 1 else ''}(-)"
    return text + "\n"
