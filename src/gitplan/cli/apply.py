"""apply: the one command that writes the user's HEAD, index and worktree."""

from __future__ import annotations

import sys

import click

from ..errors import BadInput, Conflict
from . import main
from .context import Context, exit_with, pass_context


@main.command(name="apply")
@click.argument("plan")
@click.argument("branch_name", required=False, metavar="[NAME]")
@click.option(
    "--mode",
    type=click.Choice(["commit", "worktree", "branch"]),
    default="commit",
    show_default=True,
    help="commit: a new commit on the current branch; worktree: files and index "
    "only; branch NAME: a new branch, nothing else touched.",
)
@click.option("--branch", "branch_option", metavar="NAME", help="Branch name for --mode branch.")
@click.option(
    "--replay/--squash",
    default=False,
    help="--replay: one commit per changeset (author = the actor); "
    "--squash: one commit for the whole plan (default).",
)
@click.option(
    "--keep-on-failure",
    is_flag=True,
    default=None,
    help="Keep the plan when apply fails (default: cancel it; the patch is saved "
    "either way). Also: git config plan.keepOnFailure true.",
)
@click.option("--check", is_flag=True, help="Say what apply would do; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@pass_context
def apply_command(
    ctx: Context,
    plan: str,
    branch_name: str | None,
    mode: str,
    branch_option: str | None,
    replay: bool,
    keep_on_failure: bool | None,
    check: bool,
    as_json: bool,
) -> None:
    """Apply PLAN's cumulative change, all or nothing.

    Fast path when HEAD is still the plan's base, a 3-way merge otherwise.
    Refuses (exit 4) before writing anything when the merge conflicts or a
    path it would write has uncommitted changes; then the plan's patch is
    saved under .git/gitplan/rescue/ and the plan is cancelled unless
    --keep-on-failure.
    """
    branch = branch_option or branch_name
    if branch and mode != "branch":
        raise BadInput("a branch NAME goes with --mode branch")
    out = ctx.output(as_json)
    progress = None
    if not check and not as_json and sys.stderr.isatty():

        def progress(written: int, total: int) -> None:
            click.echo(f"\rapplying plan {plan}: {written}/{total} files", err=True, nl=written == total)

    result = ctx.store.apply(
        plan,
        mode=mode,
        branch=branch,
        replay=replay,
        check=check,
        keep_on_failure=keep_on_failure,
        progress=progress,
    )
    if as_json:
        out.json("apply", result)
        if result.refusal is not None:
            exit_with(Conflict.exit_code)
        return
    if result.checked_only:
        if result.refusal is not None:
            out.line(f"apply would be refused: {result.reason}")
            exit_with(Conflict.exit_code)
        out.line(f"apply would {result.strategy} {len(result.files)} path(s) ({mode} mode):")
        for path in result.files:
            out.line(f"  {path}")
        return
    where = {
        "commit": f"as commit {result.commit}",
        "worktree": "to the worktree and index",
        "branch": f"as branch {result.branch} at {result.commit}",
    }[mode]
    out.line(f"applied plan {plan} ({result.strategy}, {len(result.files)} paths) {where}")
