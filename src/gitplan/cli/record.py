"""record: one changeset from file contents, deletions, a patch, or the worktree."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import replace
from typing import Any

import click

from .. import views
from ..errors import BadInput
from ..model import MODE_EXECUTABLE, MODE_KEEP, File, FileOnDisk, ToolInvocation
from . import main
from .context import Context, pass_context


def _set_parts(ctx: Context, item: str) -> tuple[str, str]:
    """PATH and FILE of `--set PATH=FILE`. A path may hold '=' itself (git allows it): the
    split is at the first '=' after which FILE exists (or is '-'), else at the first."""
    splits = [at for at, char in enumerate(item) if char == "=" and 0 < at < len(item) - 1]
    if not splits:
        raise BadInput(f"--set takes PATH=FILE, not {item!r}")
    for at in splits:
        source = item[at + 1 :]
        if source == "-" or os.path.lexists(ctx.file_path(source)):
            return item[:at], source
    return item[: splits[0]], item[splits[0] + 1 :]


@main.command()
@click.argument("plan")
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@click.option("--tool", required=True, help="Name of the tool that made the edits.")
@click.option(
    "--actor",
    default="gitplan",
    show_default=True,
    help="Who ran the tool (becomes the commit author).",
)
@click.option(
    "--arg",
    "arg_pairs",
    multiple=True,
    metavar="K=V",
    help="A tool argument (repeatable); V is parsed as JSON when it can be.",
)
@click.option("--args-json", metavar="JSON", help="All tool arguments as one JSON object.")
@click.option("-m", "--message", default="", help="Summary line (default: made from the files).")
@click.option(
    "--set",
    "set_files",
    multiple=True,
    metavar="PATH=FILE",
    help="Make PATH hold FILE as `git add` would store it there: its eol rules and clean "
    "filters apply (repeatable; FILE '-' reads stdin). PATH keeps its mode; an executable "
    "FILE makes it executable.",
)
@click.option("--delete", "deletions", multiple=True, metavar="PATH", help="Delete PATH.")
@click.option(
    "--patch",
    "patch_file",
    metavar="FILE|-",
    help="Apply a unified patch (git diff or diff -u) to the plan's tip.",
)
@click.option(
    "--from-worktree",
    is_flag=True,
    help="Record the worktree's current PATHs (all changed paths if none given).",
)
@click.option(
    "-f",
    "--force",
    is_flag=True,
    help="With --from-worktree, also record a PATH the ignore rules exclude (as git add -f).",
)
@click.option(
    "--parent",
    metavar="N|COMMIT",
    help="The changeset the edits were made from (0 = plan root); "
    "edits are merged onto a tip that moved since.",
)
@click.option(
    "--status",
    "outcome",
    type=click.Choice(["ok", "error"]),
    default="ok",
    help="Outcome of the tool invocation.",
)
@click.option("--exit-code", type=int, help="The tool's exit code, if it had one.")
@click.option(
    "--invocation-id",
    metavar="ID",
    help="The tool invocation's id (default: a new random one). With it, and "
    "GIT_AUTHOR_DATE and GIT_COMMITTER_DATE fixed, the same inputs give the same commit ids.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@pass_context
def record(
    ctx: Context,
    plan: str,
    paths: tuple[str, ...],
    tool: str,
    actor: str,
    arg_pairs: tuple[str, ...],
    args_json: str | None,
    message: str,
    set_files: tuple[str, ...],
    deletions: tuple[str, ...],
    patch_file: str | None,
    from_worktree: bool,
    force: bool,
    parent: str | None,
    outcome: str,
    exit_code: int | None,
    invocation_id: str | None,
    as_json: bool,
) -> None:
    """Record one changeset in PLAN: the edits of one tool invocation.

    \b
    Sources of edits (combine freely; for one path, --delete wins over --set, which wins
    over --patch, which wins over --from-worktree):
      --set PATH=FILE     new contents of PATH from FILE, as git add stores it
      --delete PATH       remove PATH
      --patch FILE|-      a unified patch, checked and applied in memory
      --from-worktree     the working tree's current files

    Nothing outside the plan's refs is written: not HEAD, not the index,
    not the working tree.
    """
    if paths and not from_worktree:
        raise BadInput(f"unexpected argument {paths[0]!r} (PATHs go with --from-worktree)")
    arguments = _arguments(arg_pairs, args_json)
    store = ctx.store
    changes: dict[str, File | FileOnDisk | None] = {}
    if from_worktree:
        # What the plan already holds is left out: the invocation is still recorded
        # (with no file changes, when the worktree has nothing the plan lacks).
        changes.update(store.worktree_changes(tuple(ctx.repo_path(path) for path in paths), plan, force))
    if patch_file is not None:
        changes.update(store.patch_changes(plan, _read_input(ctx.file_path(patch_file)), patch_file))
    modes = bool(set_files) and store.config_flag("core.fileMode", True)  # false: as git add, no x bit
    for item in set_files:
        path, source = _set_parts(ctx, item)
        if path.endswith("/"):
            raise BadInput(f"--set {path}: a file's path cannot end in '/'")
        source = ctx.file_path(source)
        contents = File(_read_input(source), MODE_KEEP) if source == "-" else _file(source, modes)
        changes[ctx.repo_path(path)] = _as_added(store, ctx.repo_path(path), contents, source)
    for path in deletions:
        if path.endswith("/"):
            raise BadInput(f"--delete {path}: give the files in a directory, not the directory")
        changes[ctx.repo_path(path)] = None
    if not changes and not from_worktree:
        raise BadInput("nothing to record: give --set, --delete, --patch or --from-worktree")
    invocation = ToolInvocation(
        tool=tool,
        actor=actor,
        arguments=arguments,
        summary=message,  # times stay null: record did not see the tool run, so it cannot say
        status=outcome,
        exit_code=exit_code,
    )
    if invocation_id is not None:
        invocation = replace(invocation, invocation_id=invocation_id)
    parent_spec: int | str | None = parent
    if parent is not None and parent.isdigit():
        parent_spec = int(parent)
    changeset = store.record(plan, changes, invocation, parent=parent_spec)
    if changeset.warning:
        click.echo(f"git-plan: warning: {changeset.warning}", err=True)
    out = ctx.output(as_json)
    if as_json:
        out.json("changeset", views.changeset(changeset))
    else:
        out.line(
            f"recorded changeset {changeset.number} of plan {plan}: "
            f"{changeset.commit[:12]} {changeset.tool}: {changeset.summary}"
        )


def _as_added(store: Any, path: str, contents: File | FileOnDisk, source: str) -> File | FileOnDisk:
    """FILE as `git add` would store it at PATH: a file in its worktree form (CRLF line
    endings under core.autocrlf, a git-lfs file before its clean filter) is recorded as git
    would commit it. Bytes already read (stdin, a pipe, a small file) are what is converted,
    never the source read again; a large file is converted from where it is."""
    if isinstance(contents, FileOnDisk):
        converted = store.added_form(path, contents.source)
    else:
        with tempfile.NamedTemporaryFile(prefix="gitplan-set-") as copy:
            copy.write(contents.data)
            copy.flush()
            converted = store.added_form(path, copy.name)
    return contents if converted is None else File(converted, contents.mode)


def _read_input(source: str) -> bytes:
    from ..snapshot import read_source

    return sys.stdin.buffer.read() if source == "-" else read_source(source)


def _file(source: str, modes: bool = True) -> File | FileOnDisk:
    """FILE's bytes; PATH keeps its mode (as `cp FILE PATH` keeps it), unless FILE is
    executable, which makes PATH 100755 (not with `modes` off: core.fileMode false, where
    git add takes no executable bit from the disk either)."""
    from ..snapshot import file_contents

    contents = file_contents(source)
    return contents if contents.mode == MODE_EXECUTABLE and modes else replace(contents, mode=MODE_KEEP)


def _arguments(pairs: tuple[str, ...], as_json: str | None) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    if as_json is not None:
        try:
            loaded = json.loads(as_json)
        except json.JSONDecodeError as error:
            raise BadInput(f"--args-json is not valid JSON: {error}") from None
        except RecursionError:
            raise BadInput("--args-json nests too deep to record") from None
        if not isinstance(loaded, dict):
            raise BadInput('--args-json must be a JSON object, like \'{"path": "a.py"}\'')
        arguments.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BadInput(f"--arg takes K=V, not {pair!r}")
        try:
            arguments[key] = json.loads(value)
        except (json.JSONDecodeError, RecursionError):  # (text, kept as it is)
            arguments[key] = value
    return arguments
