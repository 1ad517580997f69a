"""apply: the one command that writes the user's HEAD, index and worktree."""

from __future__ import annotations

import sys

import click

from ..errors import BadInput, Conflict
from . import main
from .context import Context, exit_with, pass_context
from .output import counted


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
@click.option("--upto", type=click.IntRange(min=1), metavar="N", help="Apply changesets 1..N only.")
@click.option(
    "--only", "only", multiple=True, metavar="PATH", help="Apply only these paths of the plan (repeatable)."
)
@click.option(
    "--exclude", "exclude", multiple=True, metavar="PATH", help="Apply all but these paths (repeatable)."
)
@click.option(
    "--hunks",
    is_flag=True,
    help="Choose hunk by hunk from the plan's cumulative diff, as `git add -p` does (y, n, a, d, q).",
)
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
    upto: int | None,
    only: tuple[str, ...],
    exclude: tuple[str, ...],
    hunks: bool,
    as_json: bool,
) -> None:
    """Apply PLAN's cumulative change, all or nothing.

    Fast path when HEAD is still the plan's base, a 3-way merge otherwise.
    Refuses (exit 4) before writing anything when the merge conflicts or a
    path it would write has uncommitted changes; then the plan's patch is
    saved under .git/gitplan/rescue/ and the plan is cancelled unless
    --keep-on-failure.

    \b
    Part of a plan (the rest stays in the plan, to apply later or cancel;
    the plan record lists each part applied; a failed part keeps the plan):
      git plan apply PLAN --upto 3            changesets 1..3
      git plan apply PLAN --only src/         these paths of the cumulative change
      git plan apply PLAN --exclude tests/    all but these paths
      git plan apply PLAN --hunks             choose hunk by hunk
    """
    branch = branch_option or branch_name
    if branch and mode != "branch":
        raise BadInput("a branch NAME goes with --mode branch")
    out = ctx.output(as_json)
    progress = None
    if not check and not as_json and sys.stderr.isatty():

        def progress(written: int, total: int) -> None:
            click.echo(f"\rapplying plan {plan}: {written}/{total} files", err=True, nl=written == total)

    from ..model import Selection

    patch = choose_hunks(ctx, plan, upto) if hunks else None
    selection = Selection(
        upto=upto,
        only=tuple(ctx.repo_path(path) for path in only),
        exclude=tuple(ctx.repo_path(path) for path in exclude),
        patch=patch,
    )
    result = ctx.store.apply(
        plan,
        mode=mode,
        branch=branch,
        replay=replay,
        check=check,
        keep_on_failure=keep_on_failure,
        progress=progress,
        selection=selection,
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
        out.line(f"apply would {result.strategy} {counted(len(result.files), 'path')} ({mode} mode):")
        for path in result.files:
            out.line(f"  {path}")
        return
    where = {
        "commit": f"as commit {result.commit}",
        "worktree": "to the worktree and index",
        "branch": f"as branch {result.branch} at {result.commit}",
    }[mode]
    what = "part of plan" if result.part else "plan"
    out.line(f"applied {what} {plan} ({result.strategy}, {counted(len(result.files), 'path')}) {where}")
    if result.part:
        out.line(f"the rest stays in plan {plan}: git plan apply {plan}, or git plan cancel {plan}")


def choose_hunks(ctx: Context, plan: str, upto: int | None) -> bytes:
    """Ask, hunk by hunk, which parts of the plan's cumulative diff to apply; return them as a patch.

    y: this hunk, n: not this one, a: this and the rest of the file, d: none of the
    rest of the file, q: stop here (nothing more). A file without hunks (binary,
    mode only, empty) is asked about as a whole."""
    from ..diffs import DiffOptions
    from ..hunks import file_sections

    if not sys.stdin.isatty():
        raise BadInput("--hunks asks on a terminal; use --only or --exclude from scripts")
    # git apply's -p1, whatever the config; the files' own lines, never a textconv
    # filter's (as git add -p shows them), since the hunks chosen are applied to them.
    options = DiffOptions(renames=False, binary=True, textconv=False, prefixes=("a/", "b/"))
    text = ctx.store.diff(plan, f"0..{upto}" if upto else None, options)
    chosen: list[str] = []
    stop = False
    for section in file_sections(text):
        if stop:
            break
        if not section.hunks:
            click.echo(section.header, nl=False)
            if _ask(f"Apply this change to {section.path} [y,n,q]? ") in ("y",):
                chosen.append(section.whole)
            continue
        taken: list[str] = []
        rest: str | None = None
        for number, hunk in enumerate(section.hunks, start=1):
            if rest is None:
                click.echo(section.header + hunk, nl=False)
                answer = _ask(
                    f"({number}/{len(section.hunks)}) Apply this hunk to {section.path} [y,n,a,d,q]? "
                )
                if answer == "q":
                    stop = True
                    break
                rest = {"a": "y", "d": "n"}.get(answer)
                answer = rest or answer
            else:
                answer = rest
            if answer == "y":
                taken.append(hunk)
        if taken:
            chosen.append(section.header + "".join(taken))
    if not chosen:
        raise BadInput("no hunk chosen; nothing was applied")
    return "".join(chosen).encode("utf-8", "surrogateescape")


def _ask(prompt: str) -> str:
    while True:
        answer = click.prompt(prompt, default="", show_default=False, prompt_suffix="").strip().lower()
        if answer in ("y", "n", "a", "d", "q"):
            return answer
        click.echo(
            "y - apply this hunk, n - do not, a - this and the rest of the file, "
            "d - none of the rest of the file, q - stop"
        )
