"""diff, log, artifacts: reading a plan back for review."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from .. import views
from ..errors import BadInput, Damaged, PlanNotFound
from . import main
from .context import Context, exit_with, pass_context

_CHANGESET_SPEC = re.compile(r"^(\d+|[0-9a-f]{7,40}|[^/]*\.\.[^/]*)$")


def _color_options(command: Any) -> Any:
    """`--color[=WHEN]` and `--no-color` after the command, as git diff takes them."""
    command = click.option("--no-color", "no_color", is_flag=True, help="Never colour (as --color=never).")(
        command
    )
    return click.option(
        "--color",
        "color_when",
        is_flag=False,
        flag_value="always",
        default=None,
        type=click.Choice(["always", "never", "auto"]),
        help="Colour even when piped (WHEN: always, never, auto; default: color.diff/color.ui).",
    )(command)


def _algorithm_options(command: Any) -> Any:
    """The line-diff algorithm, as git diff takes it (default: diff.algorithm, else myers)."""
    for name, what in (
        ("histogram", "the histogram algorithm"),
        ("patience", "the patience algorithm"),
        ("minimal", "the smallest possible diff"),
    ):
        command = click.option(f"--{name}", f"algorithm_{name}", is_flag=True, help=f"Use {what}.")(command)
    command = click.option(
        "--indent-heuristic/--no-indent-heuristic",
        "indent_heuristic",
        default=None,
        help="Shift hunk boundaries to read better, as git does by default (diff.indentHeuristic).",
    )(command)
    return click.option(
        "--diff-algorithm",
        "algorithm_named",
        type=click.Choice(["default", "myers", "minimal", "patience", "histogram"]),
        default=None,
        help="The line-diff algorithm (default: diff.algorithm, else myers).",
    )(command)


# Options only git renders (gitplan hands the same two trees to git diff): click's
# names for them, their help, and what git is told.
_GIT_FLAGS = (
    (("-w", "--ignore-all-space"), "Ignore whitespace when comparing lines."),
    (("-b", "--ignore-space-change"), "Ignore changes in the amount of whitespace."),
    (("--ignore-space-at-eol",), "Ignore changes in whitespace at the ends of lines."),
    (("--ignore-cr-at-eol",), "Ignore a carriage return at the ends of lines."),
    (("--ignore-blank-lines",), "Ignore changes whose lines are all blank."),
    (("-W", "--function-context"), "Show whole functions as context (as git diff -W)."),
    (("-R",), "Swap the two sides: the diff from the tip back to the base."),
    (("-a", "--text"), "Treat every file as text."),
    (("--find-copies",), "Detect copies as well as renames (git's -C; here -C names the directory)."),
    (("--find-copies-harder",), "Look for copy sources among unchanged files too (costly, as in git)."),
    (("--break-rewrites",), "Show a file rewritten from scratch as a deletion and an addition (git's -B)."),
    (("-D", "--irreversible-delete"), "Leave out the old lines of deleted files."),
)


def _git_flag(names: tuple[str, ...]) -> str:
    """The parameter name of one of _GIT_FLAGS (git_ignore_all_space, git_R...)."""
    return "git_" + names[-1].lstrip("-").replace("-", "_")


def _git_options(command: Any) -> Any:
    """git diff's options that only git renders, and the prefixes (which gitplan renders)."""
    for names, what in reversed(_GIT_FLAGS):
        command = click.option(*names, _git_flag(names), is_flag=True, help=what)(command)
    for option in (
        click.option(
            "--diff-filter",
            "git_diff_filter",
            default=None,
            metavar="[ACDMRT...]",
            help="Only files added (A), deleted (D), modified (M), renamed (R)...; lower case: all but.",
        ),
        click.option(
            "--submodule",
            "git_submodule",
            is_flag=False,
            flag_value="log",
            default=None,
            metavar="[short|log|diff]",
            help="How a submodule's change is shown (git's --submodule; alone: log).",
        ),
        click.option(
            "--ignore-submodules",
            "git_ignore_submodules",
            is_flag=False,
            flag_value="all",
            default=None,
            metavar="[none|untracked|dirty|all]",
            help="Leave submodule changes out (git's --ignore-submodules; alone: all).",
        ),
        click.option("--no-prefix", "prefix_none", is_flag=True, help="No a/ and b/ before names."),
        click.option("--src-prefix", "prefix_src", default=None, help="Put this before old names (a/)."),
        click.option("--dst-prefix", "prefix_dst", default=None, help="Put this before new names (b/)."),
    ):
        command = option(command)
    return command


# What scripts ask git diff for (git renders them, all outputs in one run): outputs,
# NUL-terminated names, and the exit status that says what it found.
_SCRIPT_FORMATS = (  # (click's names, the output's name, help)
    (("--raw",), "raw", "Each file's modes, ids and status letter, as git diff --raw."),
    (("--patch-with-raw",), "patch-with-raw", "--raw, then the patch."),
    (
        ("--summary",),
        "summary",
        "Files created, deleted or renamed and modes changed, as git diff --summary.",
    ),
    (("--compact-summary",), "compact-summary", "--stat with creations, deletions and mode changes in it."),
    (("--check",), "check", "Whitespace errors the change brings in, as git diff --check (exit 2 if any)."),
    (("-s", "--no-patch"), "no-patch", "No output (with --exit-code: the status alone)."),
)
# (click's declaration, what git is told, help); --no-exit-code and --no-quiet undo an
# earlier one, as in git (an alias's, say).
_SCRIPT_FLAGS = (
    ("-z", "-z", "Paths as they are, each ended by NUL (--name-only, --name-status, --raw, --numstat)."),
    (
        "--exit-code/--no-exit-code",
        "--exit-code",
        "Exit 1 when there are differences, 0 when there are none.",
    ),
    (
        "--quiet/--no-quiet",
        "--quiet",
        "Print nothing; exit 1 when there are differences, 0 when there are none.",
    ),
)


def _script_options(command: Any) -> Any:
    """git diff's outputs and flags for scripts: --raw, --summary, --check, -z, --exit-code, --quiet."""
    for declared, given, what in reversed(_SCRIPT_FLAGS):
        command = click.option(declared, _git_flag((given,)), is_flag=True, default=False, help=what)(command)
    for names, name, what in reversed(_SCRIPT_FORMATS):
        command = click.option(*names, "format_" + name.replace("-", "_"), is_flag=True, help=what)(command)
    return command


def _script_flags(flags: dict[str, Any]) -> tuple[tuple[str, ...], dict[str, bool]]:
    """The script flags given (-z, --exit-code, --quiet), as git is told them, and which
    script outputs were asked for, taken from `flags` (the command's remaining parameters)."""
    given = tuple(given for _, given, _ in _SCRIPT_FLAGS if flags.pop(_git_flag((given,))))
    return given, {name: flags.pop("format_" + name.replace("-", "_")) for _, name, _ in _SCRIPT_FORMATS}


def _with_git_options(options: Any, flags: dict[str, Any], noprefix: bool) -> Any:
    """`options` with the options only git renders (in `git_only`, in the order git is given
    them) and the prefixes, of which the last given wins for each side, as in git
    (`noprefix`: diff.noprefix, what the sides not given start from). `flags`: the
    command's remaining keyword parameters, from which these are taken."""
    git_only = [*options.git_only, *(names[-1] for names, _ in _GIT_FLAGS if flags.pop(_git_flag(names)))]
    diff_filter = flags.pop("git_diff_filter")
    if diff_filter is not None:
        git_only.append(f"--diff-filter={diff_filter}")
    for name in ("submodule", "ignore-submodules"):
        value = flags.pop("git_" + name.replace("-", "_"))
        if value is not None:
            git_only.append(f"--{name}={value}")
    none, src, dst = flags.pop("prefix_none"), flags.pop("prefix_src"), flags.pop("prefix_dst")
    if not none and src is None and dst is None:
        return replace(options, git_only=tuple(git_only))
    last_none = _last(lambda arg: arg == "--no-prefix")

    def side(option: str, value: str | None, default: str) -> str:
        given = _last(lambda arg: arg.split("=")[0] == option)
        if value is not None and (last_none is None or (given is not None and given[0] > last_none[0])):
            return value
        return "" if last_none is not None else default

    old, new = options.prefixes or (("", "") if noprefix else ("a/", "b/"))
    prefixes = (side("--src-prefix", src, old), side("--dst-prefix", dst, new))
    return replace(options, git_only=tuple(git_only), prefixes=prefixes)


def _algorithm_words(args: list[str]) -> list[str]:
    """The algorithm options in the order given: "patience", "histogram", "minimal" (the
    flag) or "=NAME" (--diff-algorithm NAME)."""
    words = []
    for at, arg in enumerate(args):
        if arg in ("--patience", "--histogram", "--minimal"):
            words.append(arg[2:])
        elif arg.startswith("--diff-algorithm="):
            words.append("=" + arg.removeprefix("--diff-algorithm="))
        elif arg == "--diff-algorithm" and at + 1 < len(args):
            words.append("=" + args[at + 1])
    return words


def _with_algorithm(options: Any, flags: dict[str, Any]) -> Any:
    """`options` with the algorithm and indent heuristic the command line names, as git
    reads them: the last of --patience, --histogram and --diff-algorithm wins, and
    --minimal asks myers for the smallest diff (it leaves patience and histogram be)."""
    heuristic = flags.pop("indent_heuristic", None)
    algorithm = options.algorithm
    for word in _algorithm_words(_given()):
        if word.startswith("="):
            algorithm = "myers" if word == "=default" else word[1:]
        elif word == "minimal":
            algorithm = "minimal" if algorithm == "myers" else algorithm
        else:
            algorithm = word
    return replace(
        options,
        algorithm=algorithm,
        indent_heuristic=options.indent_heuristic if heuristic is None else heuristic,
    )


def _line_options(command: Any) -> Any:
    """-U, --no-renames, -M/--find-renames and --word-diff, as git diff and git show take them."""
    for option in reversed(
        (
            click.option(
                "-U",
                "--unified",
                "context",
                type=click.IntRange(min=0),
                default=None,
                help="Lines of context around each change (default: diff.context, or 3).",
            ),
            click.option("--no-renames", is_flag=True, help="Do not detect renames."),
            click.option(
                "-M",
                "--find-renames",
                "find_renames",
                is_flag=False,
                flag_value="",
                default=None,
                metavar="[N]",
                help="Detect renames, at N similarity (git's -M: 50%, 5 for 50%, 05 for 5%; default 50%).",
            ),
            click.option(
                "--word-diff",
                "word_diff",
                is_flag=False,
                flag_value="plain",
                default=None,
                type=click.Choice(["plain", "color", "porcelain"]),
                help="Changed words instead of lines, as git diff --word-diff[=MODE] prints them "
                "(--color-words: =color).",
            ),
        )
    ):
        command = option(command)
    return command


def _with_lines(options: Any, context: int | None, find_renames: str | None, no_renames: bool) -> Any:
    """`options` (the config's) with what -U, -M/--find-renames and --no-renames ask."""
    return replace(
        options,
        context=options.context if context is None else context,
        renames=_renames_wanted(options.renames, find_renames, no_renames),
        copies=False if find_renames is not None else None,  # -M: renames only, as in git
        rename_score=options.rename_score if not find_renames else _rename_score(find_renames),
    )


def _with_colours(ctx: Context, out: Any, options: Any, word_diff: str | None) -> Any:
    """The colours of a diff printed to `out`: --word-diff's (=color implies --color, as
    in git), else the user's (_colours_of_the_users)."""
    if word_diff:
        forced = word_diff == "color" and not _uncoloured_after_words()
        return replace(options, word_diff=word_diff, color=out.color or forced)
    return _colours_of_the_users(ctx, out, options)


# Options whose value git takes only when attached (`--color=never`, `-M30%`): given bare,
# they mean their default, and the next argument stays the plan or a changeset
# (`git plan diff --color p`). (the parameter, the option as given with that default)
_BARE = {
    "--color": ("color_when", "--color=always"),
    "--word-diff": ("word_diff", "--word-diff=plain"),
    "--color-words": ("word_diff", "--word-diff=color"),  # git's other name for it
    "-M": ("find_renames", "--find-renames="),
    "--find-renames": ("find_renames", "--find-renames="),
    "--submodule": ("git_submodule", "--submodule=log"),
    "--ignore-submodules": ("git_ignore_submodules", "--ignore-submodules=all"),
}


# The parameters of those options (their value is optional, so never the next argument).
_OPTIONAL_VALUE = frozenset(name for name, _ in _BARE.values())
# Short flags bundled before -M and its score: no -M, and no -l or -U, which take a value.
_BUNDLED_M = re.compile(r"-([A-LN-TV-Za-km-z]+)M(.*)")


class _DiffCommand(click.Command):
    """Options as git diff reads them, where their order matters: the last of
    `--color[=WHEN]`/`--no-color`, of -M/--no-renames and of the algorithm options wins,
    and `--stat=<width>[,<name-width>[,<count>]]` (and `--relative=DIR`, `--color=WHEN`,
    `--word-diff=MODE`, `-M<n>`) take a value only when attached, so that `--stat 3` stays
    the stat of changeset 3 and `--color p` colours plan p. The options given
    before "--" are kept in order (_given) for the functions that need that order."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        end = args.index("--") if "--" in args else len(args)
        attached = any(param.name == "stat_limits" for param in self.params)
        declared = {param.name for param in self.params}
        # Options whose value is the next argument (--src-prefix X): X is left as it is.
        valued = {
            name
            for param in self.params
            if isinstance(param, click.Option) and not param.is_flag and param.name not in _OPTIONAL_VALUE
            for name in param.opts
        }
        before: list[str] = []
        for at, arg in enumerate(args[:end]):
            bare = _BARE.get(arg)
            bundle = _BUNDLED_M.fullmatch(arg)
            if at and args[at - 1] in valued:
                before.append(arg)
            elif bare is not None and bare[0] in declared:
                before.append(bare[1])  # git's default value, so that no argument is taken as one
            elif bundle and "find_renames" in declared:
                # Flags bundled with -M (-wM, -RM50%): the flags, and -M as its long form, so
                # that no argument is taken as its value and the last of it and --no-renames wins.
                before += ["-" + bundle.group(1), "--find-renames=" + bundle.group(2)]
            elif attached and arg.startswith("--stat="):
                before += ["--stat", "--stat-limits=" + arg.removeprefix("--stat=")]
            elif attached and arg.startswith("--relative="):
                before += ["--relative", "--relative-to=" + arg.removeprefix("--relative=")]
            else:
                before.append(arg)
        ctx.meta["gitplan.args"] = before
        return super().parse_args(ctx, before + args[end:])


def _given() -> list[str]:
    """The command's options before "--", in the order given (_DiffCommand)."""
    return list(click.get_current_context().meta.get("gitplan.args", []))


def _last(wanted: Callable[[str], bool]) -> tuple[int, str] | None:
    """The place and text of the last option given that `wanted` accepts, or None."""
    found = [(at, arg) for at, arg in enumerate(_given()) if wanted(arg)]
    return found[-1] if found else None


def _patch_after_no_patch() -> bool:
    """Does an option that asks for the patch (-p, -u, -U, --binary, --patch-with-...) come
    after the last -s (--no-patch)?"""
    none = _last(lambda arg: arg in ("-s", "--no-patch"))
    patch = _last(
        lambda arg: (
            arg in ("-p", "-u", "--patch", "--binary", "--patch-with-raw", "--patch-with-stat")
            or arg.startswith(("-U", "--unified"))
        )
    )
    return none is not None and patch is not None and patch[0] > none[0]


def _is_color(arg: str) -> bool:
    return arg == "--no-color" or arg.split("=")[0] == "--color"


def _relative_to(ctx: Context, relative: bool | None, directory: str | None) -> str:
    """What --relative[=DIR] (or diff.relative) limits a diff to: DIR as given (git takes
    it from the top), else the current directory ("sub/"); "" for none."""
    if relative is False:
        return ""
    if directory is not None:
        return directory  # as given: git matches it as a string prefix ("dir" takes "dirfile")
    if relative or ctx.store.config_flag("diff.relative"):
        return ctx.store.prefix(ctx.directory)
    return ""


def _renames_wanted(default: bool, find_renames: str | None, no_renames: bool) -> bool:
    """Of -M/--find-renames and --no-renames the last one wins, as in git."""
    if find_renames is not None and no_renames:
        last = _last(lambda arg: arg == "--no-renames" or arg.startswith(("-M", "--find-renames")))
        return last is None or last[1] != "--no-renames"
    return find_renames is not None or (default and not no_renames)


def _color_when(color_when: str | None, no_color: bool) -> str | None:
    """WHEN of the last of `--color[=WHEN]` and `--no-color` on the command line."""
    last = _last(_is_color)
    if no_color and (color_when is None or (last is not None and last[1] == "--no-color")):
        return "never"
    return color_when


def _colours_of_the_users(ctx: Context, out: Any, options: Any) -> Any:
    """`options` asking git to render the diff when it is coloured and the config changes
    git's colours (gitplan's own colouring is git's defaults)."""
    return replace(options, color=True) if out.color and ctx.store.custom_diff_colors() else options


def _uncoloured_after_words() -> bool:
    """Does a --no-color (or --color=never) come after --word-diff, turning off the colour
    that --word-diff=color turns on?"""
    colour = _last(_is_color)
    words = _last(lambda arg: arg.split("=")[0] == "--word-diff")
    return bool(colour and words and colour[0] > words[0] and colour[1] in ("--no-color", "--color=never"))


def _stat_sized(options: Any) -> Any:
    """`options` with the stat's width, name width and count the command line gives
    (`--stat=W,N,C`), else the terminal's width, as git's."""
    width, name_width, count = _stat_limits(_given())
    return replace(options, stat_width=width, stat_name_width=name_width, stat_count=count)


def _stat_limits(args: list[str]) -> tuple[int, int, int]:
    """The stat's width, name width and count, from `--stat=W,N,C`, --stat-width,
    --stat-name-width and --stat-count, the last one given winning for each, as in git.
    Without a width, the terminal's, as git's term_columns(); 0 is 80."""
    fields: list[int | None] = [None, None, None]
    singles = {"--stat-width": 0, "--stat-name-width": 1, "--stat-count": 2}
    for at, arg in enumerate(args):
        name, equals, value = arg.partition("=")
        if name == "--stat-limits":
            parts = value.split(",")
            if len(parts) > 3 or not all(_C_INTEGER.fullmatch(part) for part in parts if part):
                raise BadInput(f"--stat takes WIDTH[,NAME-WIDTH[,COUNT]] in numbers, not {value!r}")
            for place, part in enumerate(parts):  # each field given sets its number, "" is 0
                fields[place] = _as_git_reads(part) if part else 0
        elif name in singles:
            value = value if equals else (args[at + 1] if at + 1 < len(args) else "")
            if _C_INTEGER.fullmatch(value):  # (click has checked it)
                fields[singles[name]] = _as_git_reads(value)
    width = fields[0]
    if width is None or width == -1:  # $COLUMNS, else the width of the terminal on standard output, else 80
        width = shutil.get_terminal_size((80, 24)).columns
    # As git takes them: -1 is the terminal's width, another negative one the narrowest;
    # a negative name width is none; a negative count shows no file, only " ...".
    return width or 80, max(fields[1] or 0, 0), fields[2] or 0


_C_INTEGER = re.compile(r"\s*[+-]?[0-9]+")  # what C's strtoul reads whole


def _as_git_reads(text: str) -> int:
    """A number as git reads these: strtoul (a minus sign wraps round, too large is the
    largest), kept in a C int (the low 32 bits, signed)."""
    number = int(text)
    unsigned = min(abs(number), 2**64 - 1)
    unsigned = (-unsigned) % 2**64 if number < 0 else unsigned
    low = unsigned % 2**32
    return low - 2**32 if low >= 2**31 else low


@main.command(cls=_DiffCommand, context_settings={"ignore_unknown_options": False})
@click.argument("plan")
@click.argument("args", nargs=-1, metavar="[N | A..B] [--] [PATH]...")
@click.option(
    "-p", "-u", "--patch", is_flag=True, help="The patch: the default, and after --stat and the like."
)
@click.option("--stat", is_flag=True, help="A diffstat, as git diff --stat.")
@click.option("--numstat", is_flag=True, help="Added and deleted line counts.")
@click.option("--shortstat", is_flag=True, help="Only the last line of --stat.")
@click.option("--patch-with-stat", is_flag=True, help="--stat, then the patch.")
@click.option("--name-status", is_flag=True, help="Status letter and path (alone).")
@click.option("--name-only", is_flag=True, help="Changed paths only (alone).")
@_line_options
@click.option(
    "-l",
    "rename_limit",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Look for inexact renames only among at most N files (default: diff.renameLimit, or 1000).",
)
@click.option(
    "--inter-hunk-context",
    "interhunk",
    type=click.IntRange(min=0),
    default=None,
    help="Join hunks this many lines apart (default: diff.interHunkContext, or 0).",
)
@click.option("--full-index", is_flag=True, help="Full object ids on index lines.")
@click.option(
    "--binary", is_flag=True, help="Binary files as data `git apply` can use, not 'Binary files differ'."
)
@click.option("--stat-limits", hidden=True, default=None)
@click.option(
    "--relative/--no-relative",
    default=None,
    help="Only changes under the current directory (or --relative=DIR), named from it "
    "(default: diff.relative).",
)
@click.option("--relative-to", hidden=True, default=None)
@click.option(
    "--stat-width",
    type=int,
    default=None,
    help="Columns for --stat (default: the terminal's, else 80).",
)
@click.option(
    "--stat-name-width",
    type=int,
    default=None,
    help="Cut names in --stat to this many columns.",
)
@click.option(
    "--stat-graph-width",
    type=click.IntRange(min=0),
    default=None,
    help="At most this many columns of +/- (default: diff.statGraphWidth).",
)
@click.option("--stat-count", type=int, default=None, help="Show only the first N files in --stat.")
@click.option("--ui", is_flag=True, help="Open this diff in the review page (git plan review) instead.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON for machines: the files the diff shows (kind, lines added and deleted) "
    "and the text of each output asked for (the patch by default).",
)
@click.option(
    "--ext-diff/--no-ext-diff",
    default=True,
    help="Let the diff programs the config names (diff.external, GIT_EXTERNAL_DIFF, "
    "diff.<driver>.command) print the patch, as git diff does (default: yes).",
)
@_algorithm_options
@_git_options
@_script_options
@_color_options
@pass_context
def diff(
    ctx: Context,
    /,
    plan: str,
    args: tuple[str, ...],
    patch: bool,
    stat: bool,
    numstat: bool,
    shortstat: bool,
    patch_with_stat: bool,
    name_status: bool,
    name_only: bool,
    context: int | None,
    no_renames: bool,
    find_renames: str | None,
    interhunk: int | None,
    rename_limit: int | None,
    full_index: bool,
    binary: bool,
    word_diff: str | None,
    stat_limits: str | None,
    relative: bool | None,
    relative_to: str | None,
    stat_width: int | None,
    stat_name_width: int | None,
    stat_graph_width: int | None,
    stat_count: int | None,
    ui: bool,
    as_json: bool,
    ext_diff: bool,
    color_when: str | None,
    no_color: bool,
    **grouped: Any,  # of _algorithm_options, _git_options, _script_options: _with_algorithm...
) -> None:
    """Show PLAN's patch, byte for byte as `git diff BASE TIP` prints it.

    \b
      git plan diff PLAN            the cumulative change (base to tip)
      git plan diff PLAN 3          changeset 3 alone
      git plan diff PLAN 1..3       changesets 2 and 3 (tree of 1 to tree of 3)
      git plan diff PLAN -- src/    only paths under src/
      git plan diff PLAN -- ':!src' every path but those under src/
      git plan diff PLAN -- ':(glob)**/*.py' Python files anywhere
      git plan diff PLAN 3 --ui     changeset 3 in the review page
      git plan diff PLAN --stat -p  its diffstat, then its patch
      git plan diff PLAN --quiet    exit 1 if the plan changes anything
      git plan diff PLAN --check    whitespace errors it brings in (exit 2)
      git plan diff PLAN --name-only -z   the changed paths, NUL-terminated
      git plan diff PLAN 3 --json   changeset 3's files and patch, for a program

    Output formats combine as in git: --raw, then --numstat, --stat, --shortstat
    and --summary in that order, then the patch (after a blank line) when -p,
    --patch-with-stat, --patch-with-raw or -U asks for it too; --name-only,
    --name-status, --check or -s alone. With --exit-code, --quiet and --check the
    exit status is git diff's: 1 for differences, 2 for whitespace errors, 3 for both.
    """

    changeset, words = _changeset_and_paths(ctx, plan, args)
    paths, left_out = _pathspecs(ctx, words)
    scripted, asked = _script_flags(grouped)
    if asked["no-patch"] and _patch_after_no_patch():
        asked["no-patch"] = False  # as in git, a patch asked for after -s turns it back on
    # As in git, each of the --stat-... options asks for the stat too.
    stat_options = any(v is not None for v in (stat_width, stat_name_width, stat_graph_width, stat_count))
    if as_json:
        _refuse_with_json(ui, scripted, asked, word_diff)
    if ui:
        from .serve import serve_review

        serve_review(ctx, plan, changeset, allow_writes=False, no_open=False, port=0)
        return
    formats = _formats(
        names=[
            name
            for name, on in (
                ("name-only", name_only),
                ("name-status", name_status),
                ("check", asked["check"]),
                ("no-patch", asked["no-patch"]),
            )
            if on
        ],
        stats=[
            name
            for name, on in (
                ("raw", asked["raw"] or asked["patch-with-raw"]),
                ("numstat", numstat),
                ("stat", stat or patch_with_stat or stat_options or asked["compact-summary"]),
                ("shortstat", shortstat),
                ("compact-summary", asked["compact-summary"]),
                ("summary", asked["summary"]),
            )
            if on
        ],  # fmt: skip
        # (-U and --binary imply -p)
        patch=patch or patch_with_stat or asked["patch-with-raw"] or context is not None or binary,
    )
    defaults = ctx.store.diff_options()  # as git diff takes them from the repository's config
    options = replace(
        _with_lines(defaults, context, find_renames, no_renames),
        git_only=scripted,
        interhunk=defaults.interhunk if interhunk is None else interhunk,
        rename_limit=defaults.rename_limit if rename_limit is None else rename_limit,
        full_index=full_index,
        pathspec=paths,
        exclude=left_out,
        binary=binary,
        stat_graph_width=defaults.stat_graph_width if stat_graph_width is None else stat_graph_width,
        ext_diff=ext_diff,
    )
    width, name_width, count = _stat_limits(_given())
    options = replace(options, stat_width=width, stat_name_width=name_width, stat_count=count)
    noprefix = ctx.store.config_flag("diff.noprefix")
    options = _with_git_options(_with_algorithm(options, grouped), grouped, noprefix)
    options = replace(options, relative=_relative_to(ctx, relative, relative_to))
    if as_json:
        _diff_json(ctx, plan, changeset, replace(options, word_diff=word_diff, ext_diff=False), formats)
        return
    ctx.choose_color(_color_when(color_when, no_color))
    out = ctx.diff_output()
    options = _with_colours(ctx, out, options, word_diff)
    if (
        (ext_diff and "patch" in formats and ctx.store.external_diff())
        or set(formats) & {name for _, name, _ in _SCRIPT_FORMATS}
        or scripted
    ):
        # git prints it all in one run (the outputs joined as git joins them, -z's NULs, the
        # exit status), where git diff would write: the user's diff program runs there too.
        warn_if_unsafe(ctx, plan)
        _run_git_diff(ctx, out, plan, changeset, replace(options, color=options.color or out.color), formats)
        return
    parts = [ctx.store.diff(plan, changeset, replace(options, output=name)) for name in formats]
    if formats[-1] == "patch" and len(parts) > 1 and parts[-1]:
        parts.insert(-1, "\n")  # git's separator between the stats and the patch
    warn_if_unsafe(ctx, plan)
    _warn_rename_limit(ctx)
    out.diff("".join(parts), colored=bool(word_diff) or options.color, read=ctx.store.blob)


def _refuse_with_json(
    ui: bool, scripted: tuple[str, ...], asked: dict[str, bool], word_diff: str | None
) -> None:
    """What --json cannot carry: a page, an exit status as the answer, NULs, colours."""
    given = _given()
    for flag, on in (
        ("--ui", ui),
        ("--ext-diff", "--ext-diff" in given),  # what the user's diff program prints is not JSON
        ("--exit-code", "--exit-code" in scripted),
        ("--quiet", "--quiet" in scripted),
        ("--check", asked["check"]),
        ("-z", "-z" in scripted),
        ("--word-diff=color", word_diff == "color"),  # (--color-words too)
    ):
        if on:
            raise BadInput(f"{flag} does not go with --json; leave one out")


def _diff_json(ctx: Context, plan: str, changeset: str | None, options: Any, formats: list[str]) -> None:
    """`diff --json`: the files the diff shows, and the text of each output asked for, under
    its name (`patch`, `stat`, `name_status`...); `patch` is "" when it was not asked for.
    `offset`, `length` and `more` page the patch as MCP's plan_diff does: here it is whole."""
    if options.git_only or options.relative:
        # The files are gitplan's comparison of the two trees; these reshape only git's.
        relative = "--relative"
        if options.relative and not any(arg.startswith("--relative") for arg in _given()):
            relative = "diff.relative (set in your git config: --no-relative turns it off)"
        given = [*options.git_only, *([relative] if options.relative else [])]
        raise BadInput(
            f"{given[0]} does not go with --json: its files are the trees' changes as gitplan "
            "compares them, which git's own options (-R, --diff-filter, -w, -B, --find-copies, "
            "--relative...) would not reshape; leave one out"
        )
    texts = {
        name.replace("-", "_"): ctx.store.diff(plan, changeset, replace(options, output=name))
        for name in formats
        if name != "no-patch"
    }
    files = ctx.store.diff_files(plan, changeset, options)
    patch = texts.setdefault("patch", "")
    paging = {"offset": 0, "length": len(patch), "more": False}
    ctx.output(True).json("diff", {"plan": plan, "range": changeset, "files": files, **texts, **paging})
    warn_if_unsafe(ctx, plan)


def _run_git_diff(
    ctx: Context,
    out: Any,
    plan: str,
    changeset: str | int | None,
    options: Any,
    formats: list[str],
    before: str = "",
) -> None:
    """Have git print the diff (after `before`) on the terminal or into the pager itself,
    and exit with git diff's status where it reports what it found (--exit-code, --check)."""
    from ..diffs import finding_bits
    from .output import Output

    args, environment, top = ctx.store.git_diff_command(plan, changeset, options, formats)
    reported = finding_bits(options.git_only, formats)
    if "--exit-code" in options.git_only or "--quiet" in options.git_only:
        out = Output(as_json=False, color=out.color)  # no pager, as git: a script asked for a status
    status = out.run(["git", "--no-pager", *args], environment, top, before)
    if status == -signal.SIGPIPE and not reported:
        return  # the reader stopped early (`| head`): no failure, as when gitplan writes the diff
    if status and not status & ~reported:
        exit_with(status)  # a difference, whitespace errors: what git diff found
    # git said why on standard error.
    if status and reported:  # a script reads 1 to 3 as findings: git's own failure status
        exit_with(status if status > 0 else 128 - status)  # (a signal, as a shell reports it)
    if status and options.ext_diff and "patch" in formats and ctx.store.external_diff():
        exit_with(1)  # the user's diff program failed
    if status:
        exit_with(BadInput.exit_code)  # an option or a setting git refuses, a filter that failed


def _rename_score(text: str) -> int:
    """git's -M<n>: a percentage with '%', else a fraction whose decimal point may be left
    out (5 and 0.5: 50%; 05: 5%), in git's parse_rename_score's integer arithmetic."""
    from ..renames import MAX_SCORE

    if not re.fullmatch(r"\d*\.?\d*%?", text) or text.strip(".%") == "":
        raise BadInput(f"-M takes a similarity such as 50%, 5 or 0.5, not {text!r}")
    number, scale, dot = 0, 1, False
    for char in text:
        if char == ".":
            scale, dot = 1, True
        elif char == "%":
            scale = scale * 100 if dot else 100
        elif scale < 100000:
            scale, number = scale * 10, number * 10 + int(char)
    return MAX_SCORE if number >= scale else MAX_SCORE * number // scale


def _formats(names: list[str], stats: list[str], patch: bool) -> list[str]:
    """The outputs git diff prints for these flags, in its order: --name-only,
    --name-status or --check alone, else the rest, then the patch (the default)."""
    if len(names) > 1:
        raise BadInput(f"{' and '.join('--' + name for name in names)} cannot be used together")
    if names:
        return names
    return stats + (["patch"] if patch or not stats else [])


def _warn_rename_limit(ctx: Context) -> None:
    """git's two warnings when the rename limit cut rename detection short."""
    needed = ctx.store.rename_limit_needed()
    if needed is not None:
        click.echo(
            "git-plan: warning: exhaustive rename detection was skipped due to too many files.", err=True
        )
        click.echo(
            f"git-plan: warning: you may want to set your diff.renameLimit variable to at least {needed} "
            "and retry the command.",
            err=True,
        )


def warn_if_unsafe(ctx: Context, plan: str) -> None:
    """One line on stderr when the plan fails verification (made by hand, fetched with plain git)."""
    reason = ctx.store.verify(plan)
    if reason:
        click.echo(f"git-plan: warning: plan {plan!r} is unsafe: {reason}; apply refuses it", err=True)


def _changeset_and_paths(
    ctx: Context, plan: str, args: tuple[str, ...], ranges: bool = True
) -> tuple[str | None, list[str]]:
    """Split `[N | A..B] [--] [PATH]...` as git splits revisions from paths: an
    argument before `--` that is neither a changeset nor a path in the working
    tree or the plan is refused, not silently taken as a path that matches nothing."""
    after = click.get_current_context().meta.get("gitplan.after_dashdash")
    before = list(args[: len(args) - len(after)] if after is not None else args)
    paths = list(after or ())
    changeset = before.pop(0) if before and _CHANGESET_SPEC.match(before[0]) else None
    if changeset is not None and after is None and os.path.lexists(os.path.join(ctx.directory, changeset)):
        raise BadInput(
            f"ambiguous argument {changeset!r}: both a changeset of {plan} and a path in the working "
            f"tree; use '--' to separate paths from changesets ('{changeset} --' or '-- {changeset}')"
        )
    if before:
        known = [change.path for change in ctx.store.status(plan).files]
        for word in before:
            if _looks_like_pathspec(word):
                continue
            path = ctx.repo_path(word)
            inside = any(p == path or p.startswith(path.rstrip("/") + "/") for p in known)
            if not inside and not os.path.lexists(os.path.join(ctx.directory, word)):
                two = (
                    f" (two changesets are compared as '{changeset}..{word}')"
                    if ranges and changeset and word.isdigit()
                    else ""
                )
                raise BadInput(
                    f"ambiguous argument {word!r}: not a changeset of {plan} here and not a path in the "
                    f"working tree or the plan{two}; use '--' to separate paths from changesets"
                )
    return changeset, before + paths


def _looks_like_pathspec(word: str) -> bool:
    """A pattern or pathspec magic (`*.py`, `:!vendor`, `:(glob)**/x`), which git takes as
    a path without `--` whether or not anything matches it (setup.c's looks_like_pathspec)."""
    escaped = False
    for char in word:
        if escaped:
            escaped = False
        elif char in "*?[":
            return True
        elif char == "\\":
            escaped = True
    return word.startswith((":(", ":!", ":^", ":/"))


def _pathspecs(ctx: Context, words: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The paths to show and the paths to leave out, from the top of the working tree.

    git's pathspec magic: `:/PATH` and `:(top)PATH` name PATH from the top;
    `:!PATH`, `:^PATH` and `:(exclude)PATH` leave it out (with only those, every
    other path of the tree is shown, as git does); `:(glob)`, `:(icase)` and
    `:(literal)` match as in git (pathspecs.py), and so do GIT_GLOB_PATHSPECS,
    GIT_NOGLOB_PATHSPECS, GIT_ICASE_PATHSPECS and GIT_LITERAL_PATHSPECS. Other
    magic is refused, never taken as a path that matches nothing."""
    from ..pathspecs import make

    if _env_flag("GIT_LITERAL_PATHSPECS") and any(
        _env_flag(f"GIT_{name}_PATHSPECS") for name in ("GLOB", "NOGLOB", "ICASE")
    ):
        raise BadInput("GIT_LITERAL_PATHSPECS cannot be used with the other GIT_*_PATHSPECS settings")
    if _env_flag("GIT_GLOB_PATHSPECS") and _env_flag("GIT_NOGLOB_PATHSPECS"):
        raise BadInput("GIT_GLOB_PATHSPECS and GIT_NOGLOB_PATHSPECS cannot be used together")
    here = ctx.store.prefix(ctx.directory)
    shown: list[str] = []
    left_out: list[str] = []
    for word in words:
        if not word:
            raise BadInput("an empty string is not a valid pathspec; use . for every path")
        magic, path = _magic(word)
        unknown = magic - {"top", "exclude", "glob", "icase", "literal"}
        if unknown:
            raise BadInput(f"pathspec magic {', '.join(sorted(unknown))} in {word!r} is not supported")
        if {"glob", "literal"} <= magic:
            raise BadInput(f"{word!r}: the glob and literal magic cannot be used together")
        if not magic & {"glob", "literal"}:
            magic |= {"glob"} if _env_flag("GIT_GLOB_PATHSPECS") else set()
            magic |= {"literal"} if _env_flag("GIT_NOGLOB_PATHSPECS") else set()
        magic |= {"icase"} if _env_flag("GIT_ICASE_PATHSPECS") else set()
        if "top" in magic:  # git takes it as typed, from the top (`:/.` names a file ".")
            full = path
            kept = make(full, magic & {"glob", "icase", "literal", "top"})
        else:
            full = ctx.repo_path(path)
            if path.endswith("/") and full not in ("", "."):
                full += "/"  # git: a directory only, not a file of that name
            full = "" if full == "." else full
            # The directory the spec was typed in is compared as it is, wildcards and case alike.
            typed_in = 0 if os.path.isabs(path) else _typed_in(here, path, full)
            kept = make(full, magic & {"glob", "icase", "literal"}, typed_in)
        (left_out if "exclude" in magic else shown).append(kept if full else "")
    return tuple(path for path in shown if path), tuple(left_out)


def _typed_in(here: str, typed: str, full: str) -> int:
    """How many leading bytes of `full` (`typed` in the directory `here`, "sub/dir/", taken
    from the top) are that directory, compared as it is: as git's prefix, what of `here`
    no `..` of `typed` climbed out of (climbing back down does not make it literal again)."""
    parts = here.split("/")[:-1]
    kept = len(parts)
    depth = len(parts)
    for name in typed.split("/"):
        if name == "..":
            depth -= 1
            kept = min(kept, max(depth, 0))
        elif name not in ("", "."):
            depth += 1
    literal = "/".join(parts[:kept]) + "/" if kept else ""
    return min(len(literal.encode("utf-8", "surrogateescape")), len(full.encode("utf-8", "surrogateescape")))


def _env_flag(name: str) -> bool:
    """A boolean environment variable as git reads it (git_env_bool): unset is false."""
    from ..gitvalues import git_bool

    value = os.environ.get(name)
    return value is not None and git_bool(value, name, "value")


def _magic(word: str) -> tuple[set[str], str]:
    """(magic words, path) of a pathspec: `:(a,b)path`, or the short forms `:/`, `:!`, `:^`.
    Under GIT_LITERAL_PATHSPECS every word is a literal path, as in git."""
    if _env_flag("GIT_LITERAL_PATHSPECS"):
        return {"literal"}, word
    if not word.startswith(":"):
        return set(), word
    if word.startswith(":("):
        close = word.find(")")
        if close < 0:
            raise BadInput(f"invalid pathspec magic in {word!r}: missing ')'")
        return {item for item in word[2:close].split(",") if item}, word[close + 1 :]
    rest, magic = word[1:], set()
    while rest[:1] in _SHORT_MAGIC:
        if rest[0] not in "/!^":
            raise BadInput(f"unimplemented pathspec magic {rest[0]!r} in {word!r}")
        magic.add("top" if rest[0] == "/" else "exclude")
        rest = rest[1:]
    return magic, rest.removeprefix(":")


# The characters git reads as short pathspec magic after ':' (it knows '/', '!' and '^').
_SHORT_MAGIC = frozenset("/!^\"#%&',-;<=>@_`~")


class _LogCommand(_DiffCommand):
    """git log's `-<n>` (`git plan log -3 PLAN`), read as `-n <n>`; --color as diff reads it."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        end = args.index("--") if "--" in args else len(args)
        before: list[str] = []
        for arg in args[:end]:
            value_of_n = before[-1:] in (["-n"], ["--max-count"])  # -n -1: no limit, as git reads it
            before += ["-n", arg[1:]] if re.fullmatch(r"-[0-9]+", arg) and not value_of_n else [arg]
        return super().parse_args(ctx, before + args[end:])


@main.command(cls=_LogCommand)
@click.argument("plan")
@click.option("-v", "--verbose", is_flag=True, help="Also show each command's output tails.")
@click.option(
    "-n",
    "--max-count",
    "newest",
    type=int,
    default=None,
    metavar="N",
    help="Only the newest N changesets (read back from the tip, however long the plan); -N too; "
    "a negative N: no limit, as git log takes it.",
)
@click.option("--oneline", is_flag=True, help="A line per changeset: number, commit (abbreviated), subject.")
@click.option("-p", "-u", "--patch", is_flag=True, help="Each changeset's patch after it, as git log -p.")
@click.option(
    "--stat", is_flag=True, help="Each changeset's diffstat after it, as git log --stat[=W[,NAME[,COUNT]]]."
)
@click.option("--stat-limits", hidden=True, default=None)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines (-p, --stat: the texts too).")
@_color_options
@pass_context
def log(
    ctx: Context,
    plan: str,
    verbose: bool,
    newest: int | None,
    oneline: bool,
    patch: bool,
    stat: bool,
    stat_limits: str | None,
    as_json: bool,
    color_when: str | None,
    no_color: bool,
) -> None:
    """List PLAN's changesets, oldest first, with their invocation records:
    tool, actor, command, exit status, duration, arguments and files
    (with --verbose, the command's stdout and stderr tails too).

    \b
      git plan log PLAN              every changeset
      git plan log PLAN -n 5         the newest five (or -5): what the agent did last
      git plan log PLAN --oneline    a line each: number, commit, tool and summary
      git plan log PLAN -p           each record followed by its patch (--stat: diffstat)

    Exits 5 when a record is missing or damaged (the log is still printed)."""
    ctx.choose_color(_color_when(color_when, no_color))
    changesets = ctx.store.changesets(plan, None if newest is not None and newest < 0 else newest)
    items = [views.changeset(item) for item in changesets]
    outputs = (["stat"] if stat else []) + (["patch"] if patch else [])
    if as_json:
        defaults = _stat_sized(ctx.store.diff_options())
        for item in items:
            for name in outputs:
                item[name] = ctx.store.diff(plan, item["number"], replace(defaults, output=name))
        ctx.output(True).json("log", {"plan": plan, "changesets": items})
    elif newest == 0:  # (-n 0 asks for nothing, as in git log)
        pass
    elif not changesets:
        ctx.output(False).line(f"plan {plan} has no changesets yet")
    else:
        # As git log: the colours git would use (color.ui, color.diff, --color), through
        # the pager git would use when standard output is a terminal.
        shown = ctx.diff_output()
        if outputs:
            text = _log_with_diffs(ctx, shown, plan, changesets, outputs, oneline, verbose)
        elif oneline:
            text = "".join(line + "\n" for line in _oneline(ctx, changesets, bool(shown.color)))
        else:
            text = _log_text(
                items, verbose, bool(shown.color), _commit_colour(ctx, bool(shown.color)), ctx.path_quoter()
            )
        shown.diff(text, colored=True)
    if any(item["problem"] for item in items):
        exit_with(Damaged.exit_code)


def _oneline(ctx: Context, changesets: list[Any], color: bool) -> list[str]:
    """`<number> <commit> <subject>` for each changeset, the commit as git log --oneline
    abbreviates (and, with `color`, colours) it; a changeset whose record is missing or
    damaged says so."""
    short = ctx.store.short_ids([item.commit for item in changesets])
    colour = _commit_colour(ctx, color)
    lines = []
    for item, commit in zip(changesets, short, strict=True):
        subject = ": ".join(part for part in (item.tool, item.summary) if part)
        shown = f"{colour}{commit}\x1b[m" if colour else commit
        lines.append(f"{item.number} {shown} {subject}" + (f"  [{item.problem}]" if item.problem else ""))
    return lines


def _log_with_diffs(
    ctx: Context,
    shown: Any,
    plan: str,
    changesets: list[Any],
    outputs: list[str],
    oneline: bool,
    verbose: bool,
) -> str:
    """Each changeset as `git plan show` prints it (or its --oneline line), then its
    diffstat and/or patch, in the colours git diff would use on `shown`."""
    from .output import colored_diff

    options = _colours_of_the_users(ctx, shown, _stat_sized(ctx.store.diff_options()))
    if oneline:
        heads = [line + "\n" for line in _oneline(ctx, changesets, shown.color)]
    else:
        colour = _commit_colour(ctx, shown.color)
        heads = [_show_header(plan, item, verbose, colour) for item in changesets]
    entries = []
    for head, item in zip(heads, changesets, strict=True):
        texts = [ctx.store.diff(plan, item.number, replace(options, output=name)) for name in outputs]
        diff = "\n".join(text for text in texts if text)  # git's blank line between stat and patch
        if shown.color and not options.color:  # one changeset at a time: no header read as hunk lines
            diff = colored_diff(diff, ctx.store.blob)
        entries.append(head + diff)
    return ("" if oneline else "\n").join(entries)  # (git log -p: a blank line between entries)


def _log_text(
    items: list[dict[str, Any]], verbose: bool, color: bool, colour: str, quoted: Callable[[str], str]
) -> str:
    """The log for people: each changeset's commit (in `colour`, the escape sequence of
    color.diff.commit, as git log colours a commit line; "" for none), its invocation
    record or what is missing (red, when `color`), where it was branched from, and its
    files (each path `quoted` as git quotes it)."""
    lines: list[str] = []
    for item in items:
        head = f"changeset {item['number']} {item['commit']}"
        lines.append(f"{colour}{head}\x1b[m" if colour else head)
        origin = item.get("branched_from")
        if item["problem"]:  # (the files are then what the commit changed)
            lines.append(f"  Tool:    {item['tool']}")
            missing = f"  MISSING: {item['problem']}"
            lines.append(click.style(missing, fg="red") if color else missing)
        else:
            shown = invocation_lines(item["invocation"], item["author"], verbose)
            lines.extend(f"  {line}" for line in shown)
        if isinstance(origin, dict):
            lines.append(
                f"  From:    plan {origin.get('plan')} changeset {origin.get('changeset')} "
                f"({origin.get('commit')})"
            )
        for change in item["files"]:
            counts = "binary" if change.get("binary") else f"+{change['additions']} -{change['deletions']}"
            lines.append(f"    {change['change']:<10} {quoted(change['path'])} ({counts})")
    return "".join(line + "\n" for line in lines)


def invocation_lines(invocation: dict[str, Any], author: str, verbose: bool) -> list[str]:
    """An invocation record for people: who ran what, how it ended, how long it took."""
    lines = [f"Tool:    {invocation['tool']}", f"Actor:   {invocation.get('actor') or author}"]
    if invocation.get("argv") is not None:
        lines.append(f"Command: {shlex.join(invocation['argv'])}")
        if invocation.get("cwd") not in (None, "."):
            lines.append(f"In:      {invocation['cwd']}/")
    lines.append(f"Status:  {_outcome(invocation)}")
    if invocation.get("started_at") or invocation.get("duration_ms") is not None:
        took = invocation.get("duration_ms")
        lines.append(f"Ran:     {invocation.get('started_at') or '?'} for {'?' if took is None else took} ms")
    if invocation.get("arguments"):
        lines.append(f"Args:    {json.dumps(invocation['arguments'], sort_keys=True)}")
    if invocation.get("redacted"):
        lines.append(f"Redacted: {', '.join(invocation['redacted'])}")
    if invocation.get("skipped"):
        shown = (path.encode("unicode_escape").decode("ascii") for path in invocation["skipped"])
        lines.append(f"Left out: {', '.join(shown)} (names gitplan cannot record)")
    if verbose:
        for name in ("stdout", "stderr"):
            tail = invocation.get(f"{name}_tail")
            if tail:
                lines.append(f"{name}:")
                lines.extend(f"  | {line}" for line in tail.splitlines())
    return lines


def _outcome(invocation: dict[str, Any]) -> str:
    status = str(invocation.get("status", "?"))
    error, code = invocation.get("error"), invocation.get("exit_code")
    if error and code is not None and not str(error).startswith("exit code"):
        return f"{status} (exit {code}: {error})"
    if error:
        return f"{status} ({error})"
    if code is not None:
        return f"{status} (exit {code})"
    return status


@main.command(cls=_DiffCommand)
@click.argument("plan")
@click.argument("args", nargs=-1, metavar="[CHANGESET] [--] [PATH]...")
@click.option(
    "--stat", "output", flag_value="stat", help="A diffstat instead of the patch (--stat=W[,NAME[,COUNT]])."
)
@click.option("--stat-limits", hidden=True, default=None)
@click.option("--binary", is_flag=True, help="Binary files as data `git apply` can use.")
@click.option("-v", "--verbose", is_flag=True, help="Also show the command's output tails.")
@click.option(
    "--ext-diff/--no-ext-diff",
    default=False,
    help="Let the diff programs the config names (diff.external, GIT_EXTERNAL_DIFF, "
    "diff.<driver>.command) print the patch, as git show --ext-diff does (default: no).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@_line_options
@_algorithm_options
@_git_options
@_color_options
@pass_context
def show(
    ctx: Context,
    /,
    plan: str,
    args: tuple[str, ...],
    output: str | None,
    stat_limits: str | None,
    binary: bool,
    verbose: bool,
    ext_diff: bool,
    as_json: bool,
    context: int | None,
    no_renames: bool,
    find_renames: str | None,
    word_diff: str | None,
    color_when: str | None,
    no_color: bool,
    **grouped: Any,  # of _algorithm_options and _git_options: _with_algorithm, _with_git_options
) -> None:
    """Show one changeset of PLAN, like `git show`: its commit, its invocation
    record (tool, actor, command, outcome, times, arguments; the output
    tails with --verbose) and its patch.

    \b
      git plan show PLAN            the newest changeset (as git show shows HEAD)
      git plan show PLAN 3          changeset 3
      git plan show PLAN 5e1f2f7    the changeset with this commit id
      git plan show PLAN 3 -M --word-diff   as git show takes them: -U, -M, --word-diff...
      git plan show PLAN 3 -- src/  its patch of the paths under src/ only (as git show -- src/)

    Paths and pathspecs are those of `git plan diff`.
    """

    ctx.choose_color(_color_when(color_when, no_color))
    changeset, words = _changeset_and_paths(ctx, plan, args, ranges=False)
    paths, left_out = _pathspecs(ctx, words)
    item = _changeset_to_show(ctx, plan, changeset)
    if ext_diff and as_json:
        raise BadInput("--ext-diff prints what your diff program prints, which is not JSON; leave one out")
    if word_diff == "color" and as_json:  # (--color-words too)
        raise BadInput(
            "--word-diff=color marks words with colours, which JSON does not carry: use --word-diff"
        )
    options = replace(
        _stat_sized(_with_lines(ctx.store.diff_options(), context, find_renames, no_renames)),
        output=output or "patch",
        binary=binary,
        ext_diff=ext_diff,
        pathspec=paths,
        exclude=left_out,
    )
    noprefix = ctx.store.config_flag("diff.noprefix")
    options = _with_git_options(_with_algorithm(options, grouped), grouped, noprefix)
    shown = ctx.diff_output()
    if not as_json:
        options = _with_colours(ctx, shown, options, word_diff)
    elif word_diff:
        options = replace(options, word_diff=word_diff)
    # As in git show, -U and --binary ask for the patch after --stat's diffstat.
    outputs = ["stat", "patch"] if output == "stat" and (context is not None or binary) else [options.output]
    texts = {name: ctx.store.diff(plan, item.number, replace(options, output=name)) for name in outputs}
    if as_json:
        ctx.output(True).json("show", {"changeset": views.changeset(item), **texts})
        if item.record is None:  # its record is missing or damaged, as the text says too
            exit_with(Damaged.exit_code)
        return
    top = _show_header(plan, item, verbose, _commit_colour(ctx, shown.color))
    if ext_diff and outputs == ["patch"] and ctx.store.external_diff():
        coloured = replace(options, color=options.color or shown.color)
        _run_git_diff(ctx, shown, plan, item.number, coloured, ["patch"], top)
    else:
        body = "\n".join(text for text in texts.values() if text)  # git's blank line between them
        shown.diff(top + body, colored=options.color, read=ctx.store.blob)
    if item.record is None:
        exit_with(Damaged.exit_code)


def _changeset_to_show(ctx: Context, plan: str, changeset: str | None) -> Any:
    """The changeset `changeset` names (a number or a commit id), or the newest one."""
    if changeset is None:
        newest = ctx.store.changesets(plan, 1)
        if not newest:
            raise PlanNotFound(f"plan {plan!r} has no changesets yet")
        return newest[0]
    if ".." in changeset:
        raise BadInput(
            f"show takes one changeset, not {changeset!r}: `git plan diff {plan} {changeset}` shows a range"
        )
    spec: int | str = int(changeset) if changeset.isdigit() and len(changeset) < 7 else changeset
    return ctx.store.changeset(plan, spec)


def _commit_colour(ctx: Context, color: bool) -> str:
    """The escape sequence a commit is coloured with (color.diff.commit); "" without colour."""
    return ctx.store.commit_color() if color else ""


def _show_header(plan: str, item: Any, verbose: bool, colour: str = "") -> str:
    """What `git plan show` prints before a changeset's patch: its commit (in `colour`, an
    escape sequence, as git colours a commit line), its invocation record (or that it is
    missing) and its summary, as git show prints a commit's."""
    first = f"changeset {item.number} of plan {plan}  (commit {item.commit})"
    header = [f"{colour}{first}\x1b[m" if colour else first]
    if item.record is not None:
        header.extend(invocation_lines(views.changeset(item)["invocation"], item.author, verbose))
    else:
        header.append(f"Tool:    {item.tool}")
        header.append(f"Actor:   {item.author}")
        header.append(f"Record:  MISSING ({item.problem})")
    header.append("")
    header.append(f"    {item.summary}")
    header.append("")
    return "\n".join(header) + "\n"


@main.command()
@click.argument("plan")
@click.option(
    "--export",
    "export_dir",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Write one patch per changeset that changes files (git am accepts them) and every "
    "invocation record in invocations.jsonl into DIR.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@pass_context
def artifacts(ctx: Context, plan: str, export_dir: str | None, as_json: bool) -> None:
    """Show each changeset's diff artifact and invocation record.

    Exits 5 if any record is missing or damaged (the rest is still shown).
    """
    store = ctx.store
    items = [views.changeset(item) for item in store.changesets(plan)]
    warn_if_unsafe(ctx, plan)
    written: list[str] = []
    if export_dir is not None:
        written = _export(store, plan, items, Path(ctx.file_path(export_dir)))
    out = ctx.output(as_json)
    if as_json:
        payload: dict[str, object] = {"plan": plan, "changesets": items}
        if export_dir is not None:
            payload["exported"] = written
        out.json("artifacts", payload)
    else:
        rows = [
            [
                item["number"],
                item["commit"][:10],
                item["tool"],
                (item["invocation"] or {}).get("actor", "?"),
                (item["invocation"] or {}).get("status", "MISSING"),
                len(item["files"]),
                f"+{item['insertions']}/-{item['deletions']}",
            ]
            for item in items
        ]
        out.table(["#", "COMMIT", "TOOL", "ACTOR", "STATUS", "FILES", "+/-"], rows)
        for item in items:
            if item["problem"]:
                out.line(f"changeset {item['number']}: missing artifact: {item['problem']}", {"fg": "red"})
        for path in written:
            out.line(f"wrote {path}")
    if any(item["problem"] for item in items):
        exit_with(Damaged.exit_code)


def _export(store, plan: str, records: list[dict[str, Any]], directory: Path) -> list[str]:  # type: ignore[no-untyped-def]
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BadInput(f"cannot create {directory}: {error.strerror}") from None
    written = []
    for item in records:
        number = int(str(item["number"]))
        patch = store.changeset_patch(plan, number)
        if patch is None:
            continue  # no edits (a failed run): no patch, as git format-patch writes none for it
        slug = re.sub(r"[^A-Za-z0-9]+", "-", str(item.get("tool", "changeset"))).strip("-")
        path = directory / f"{number:04d}-{slug or 'changeset'}.patch"
        path.write_text(patch, errors="surrogateescape")
        written.append(str(path))
    jsonl = directory / "invocations.jsonl"
    lines = (json.dumps(views.document("changeset", r), sort_keys=True) + "\n" for r in records)
    jsonl.write_text("".join(lines))
    written.append(str(jsonl))
    return written
