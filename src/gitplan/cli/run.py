"""run, snapshot: recording tool invocations as they happen."""

from __future__ import annotations

import shlex
import sys

import click

from .. import views
from . import main
from .context import Context, exit_with, pass_context
from .record import _arguments


@main.command(context_settings={"ignore_unknown_options": False})
@click.argument("plan")
@click.argument("command", nargs=-1, required=True, metavar="-- CMD [ARG]...")
@click.option("--tool", required=True, help="Name of the tool the command is (recorded with it).")
@click.option("--actor", default="gitplan", show_default=True, help="Who ran it (the commit author).")
@click.option(
    "--arg", "arg_pairs", multiple=True, metavar="K=V", help="A tool argument to record (repeatable)."
)
@click.option("--args-json", metavar="JSON", help="All tool arguments to record, as one JSON object.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="End the command (SIGTERM, then SIGKILL) after this long; exit 124.",
)
@click.option(
    "--keep-changes-on-error",
    is_flag=True,
    help="Record a failed command's edits too (by default only the failure is recorded).",
)
@click.option(
    "--output-tail",
    "tail_bytes",
    type=click.IntRange(min=0),
    metavar="BYTES",
    help="How much of the end of stdout and stderr to keep in the record "
    "(default: git config plan.outputTail, else 4096).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the changeset as JSON (the command's stdout goes to stderr).",
)
@pass_context
def run(
    ctx: Context,
    plan: str,
    command: tuple[str, ...],
    tool: str,
    actor: str,
    arg_pairs: tuple[str, ...],
    args_json: str | None,
    timeout: float | None,
    keep_changes_on_error: bool,
    tail_bytes: int | None,
    as_json: bool,
) -> None:
    """Run a command in PLAN's own worktree and record what it changed.

    \b
      git plan run fix-1 --tool black -- black src/
      git plan run fix-1 --tool codemod --timeout 600 -- python tools/rename.py Foo Bar

    The command (an argv, no shell: use `sh -c '...'` for one) runs in a
    checkout of the plan's tip kept under .git/gitplan/worktrees, in the same
    subdirectory you are in. Your worktree, index and HEAD never move. Its
    output streams to the terminal as it runs; one changeset records what it
    changed (new, deleted and renamed files, exec bits, symlinks; not ignored
    files) with its argv, exit status, times and output tails.

    A command that fails (non-zero exit, --timeout, a signal) is recorded as
    an empty changeset with status error, its edits dropped unless
    --keep-changes-on-error. Exits with the command's exit code (128+N for
    signal N, 124 for a timeout); 2 if it cannot start.
    """
    store = ctx.store
    result = store.run(
        plan,
        list(command),
        tool=tool,
        actor=actor,
        arguments=_arguments(arg_pairs, args_json),
        timeout=timeout,
        keep_changes_on_error=keep_changes_on_error,
        cwd=store.prefix(ctx.directory),
        tail_bytes=tail_bytes,
        stdout=sys.stderr.buffer if as_json else sys.stdout.buffer,
        stderr=sys.stderr.buffer,
    )
    changeset = result.changeset
    out = ctx.output(as_json)
    if as_json:
        body = views.changeset(changeset)
        body["exit_code"] = result.exit_code
        body["worktree"] = result.worktree
        out.json("run", body)
    outcome = result.outcome
    if outcome.ok:
        message = (
            f"recorded changeset {changeset.number} of plan {plan}: {changeset.tool}: {changeset.summary}"
        )
    else:
        kept = "with its changes" if result.kept_changes else "without its changes"
        message = (
            f"{shlex.join(command)}: {outcome.error}; "
            f"recorded as changeset {changeset.number} of plan {plan} {kept}"
        )
    click.echo(f"git-plan: {message}", err=True)
    if changeset.warning:
        click.echo(f"git-plan: warning: {changeset.warning}", err=True)
    for path in result.skipped:
        shown = path.encode("unicode_escape").decode("ascii")
        click.echo(f"git-plan: warning: left out '{shown}': gitplan cannot record that name", err=True)
    if result.exit_code:
        exit_with(result.exit_code)


@main.command()
@click.argument("plan")
@click.option("--tool", required=True, help="Name of the tool (or agent) whose edits these are.")
@click.option("--actor", default="gitplan", show_default=True, help="Who made them (the commit author).")
@click.option(
    "--arg", "arg_pairs", multiple=True, metavar="K=V", help="A tool argument to record (repeatable)."
)
@click.option("--args-json", metavar="JSON", help="All tool arguments to record, as one JSON object.")
@click.option("-m", "--message", default="", help="Summary line (default: made from the files).")
@click.option(
    "--worktree",
    "directory",
    type=click.Path(file_okay=False, exists=True),
    metavar="DIR",
    help="Sweep this worktree of the repository (default: the repository's own).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@pass_context
def snapshot(
    ctx: Context,
    plan: str,
    tool: str,
    actor: str,
    arg_pairs: tuple[str, ...],
    args_json: str | None,
    message: str,
    directory: str | None,
    as_json: bool,
) -> None:
    """Record whatever changed in a worktree since PLAN's last changeset.

    For agents that edit through shell commands no edit hook sees: at the end
    of a turn, `git plan snapshot PLAN --tool agent` records, as one changeset,
    every file `git status` lists (or an earlier snapshot of this worktree
    recorded) whose contents differ from the plan's tip, as `git add` would
    store them; ignored files and submodules are left out, and the plan's
    files this worktree never had are not deletions. Nothing new: nothing is
    recorded, and it says so. The worktree is only read.
    """
    import os

    where = None if directory is None else os.path.join(ctx.directory, directory)
    changeset = ctx.store.snapshot(
        plan,
        tool=tool,
        actor=actor,
        arguments=_arguments(arg_pairs, args_json),
        directory=where,
        summary=message,
    )
    out = ctx.output(as_json)
    if as_json:
        out.json("snapshot", {"plan": plan, "changeset": views.changeset(changeset) if changeset else None})
    elif changeset is None:
        out.line(f"nothing changed since plan {plan}'s last changeset")
    else:
        out.line(
            f"recorded changeset {changeset.number} of plan {plan}: "
            f"{changeset.commit[:12]} {changeset.tool}: {changeset.summary}"
        )
    if changeset is not None and changeset.warning:
        click.echo(f"git-plan: warning: {changeset.warning}", err=True)
    for path in (changeset.invocation.skipped if changeset and changeset.invocation else None) or ():
        shown = path.encode("unicode_escape").decode("ascii")
        click.echo(f"git-plan: warning: left out '{shown}': gitplan cannot record that name", err=True)
