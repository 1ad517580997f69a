"""create, list, status, cancel: plans as a whole."""

from __future__ import annotations

from collections.abc import Callable

import click

from .. import views
from ..errors import Damaged
from ..model import PlanStatus
from . import main
from .context import Context, exit_with, pass_context
from .output import counted

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")


@main.command()
@click.argument("plan")
@click.option(
    "--base",
    default="HEAD",
    show_default=True,
    metavar="REV",
    help="The commit the plan starts from.",
)
@click.option("--title", default="", help="One line saying what the plan is for.")
@json_option
@pass_context
def create(ctx: Context, plan: str, base: str, title: str, as_json: bool) -> None:
    """Create PLAN: a root commit on BASE and its plan record.

    PLAN is one ref-name component: letters, digits, '.', '_' and '-',
    starting with a letter or digit, at most 100 characters.
    """
    status = ctx.store.create(plan, base=base, title=title)
    out = ctx.output(as_json)
    if as_json:
        out.json("status", views.status(status))
    else:
        on = status.base[:12] or "no commit (the project's first commit)"
        out.line(f"created plan {plan} on {on} (refs/changesets/{plan})")


@main.command(name="list")
@click.option(
    "--remote",
    metavar="REMOTE",
    help="List the plans REMOTE (a remote name, URL, path or bundle) holds, without fetching them.",
)
@json_option
@pass_context
def list_plans(ctx: Context, remote: str | None, as_json: bool) -> None:
    """List plans with their state, changeset count, base and age."""
    if remote is not None:
        _list_remote(ctx, remote, as_json)
        return
    statuses = ctx.store.plans()
    out = ctx.output(as_json)
    if as_json:
        out.json("list", {"plans": [views.status(s) for s in statuses]})
        return
    if not statuses:
        out.line("no plans (create one with: git plan create PLAN)")
        return
    out.table(
        ["PLAN", "STATE", "CHANGESETS", "FILES", "+/-", "BASE", "CREATED", "TITLE"],
        [
            [
                s.plan,
                s.state,
                s.changesets,
                s.files_changed,
                f"+{s.insertions}/-{s.deletions}",
                s.base[:10] or "-",
                s.created_at[:19].replace("T", " "),
                s.title,
            ]
            for s in statuses
        ],
    )
    for s in statuses:
        if s.problem:
            out.line(f"{s.plan}: {s.state}: {s.problem}", {"fg": "red"})


def _list_remote(ctx: Context, remote: str, as_json: bool) -> None:
    from .remote import _location

    found = ctx.store.remote_plans(_location(ctx, remote))
    here = {s.plan: s for s in ctx.store.plans()}
    rows = []
    for plan in found:
        local = here.get(plan.plan_id)
        if local is None:
            state = "not here"
        elif local.tip == plan.tip:
            state = "same as here"
        else:
            state = "differs from here"
        rows.append((plan, state))
    out = ctx.output(as_json)
    if as_json:
        out.json(
            "remote-list",
            {
                "remote": remote,
                "plans": [
                    {"plan": p.plan_id, "tip": p.tip, "notes_tip": p.notes_tip, "here": state}
                    for p, state in rows
                ],
            },
        )
        return
    if not rows:
        out.line(f"{remote} has no plans")
        return
    out.table(["PLAN", "TIP", "HERE"], [[p.plan_id, (p.tip or "-")[:10], state] for p, state in rows])


@main.command()
@click.argument("plan")
@click.option(
    "--check",
    is_flag=True,
    help="Also say whether the base is behind HEAD and whether apply would conflict.",
)
@json_option
@pass_context
def status(ctx: Context, plan: str, check: bool, as_json: bool) -> None:
    """Show PLAN: state, base, tip, counts, files, tools and missing artifacts.

    Exits 5 when artifacts are missing or damaged (the report is still printed).
    """
    result = ctx.store.status(plan, check=check)
    out = ctx.output(as_json)
    if as_json:
        out.json("status", views.status(result))
    else:
        in_progress = None
        if result.apply_refusal == "in-progress":
            pending = ctx.store.pending_recovery() is not None
            elsewhere = None if pending else ctx.store.interrupted_elsewhere(plan)
            if pending:
                in_progress = "an interrupted apply awaits `git plan recover`"
            elif elsewhere is not None:
                in_progress = (
                    f"an apply of it was interrupted in the worktree {elsewhere}: `git plan recover` there"
                )
            else:
                in_progress = "a merge, cherry-pick, revert or rebase is in progress"
        _print_status(out, result, ctx.path_quoter(), in_progress)
    if result.missing_artifacts:
        exit_with(Damaged.exit_code)


def _print_status(out, status: PlanStatus, quoted: Callable[[str], str], in_progress: str | None) -> None:  # type: ignore[no-untyped-def]
    out.heading(f"plan {status.plan}: {status.title}" if status.title else f"plan {status.plan}")
    out.line(f"state:      {status.state}")
    if status.applied:
        onto = status.applied.get("commit") or status.applied.get("onto", "")
        out.line(f"applied:    {status.applied.get('at', '')} ({status.applied.get('mode')}) {onto}")
    for part in status.applied_parts:
        onto = part.get("commit") or part.get("onto", "")
        what = ", ".join(f"{key} {value}" for key, value in (part.get("part") or {}).items())
        out.line(f"applied in part: {part.get('at', '')} ({part.get('mode')}) {onto}: {what}")
    out.line(f"base:       {status.base or '- (none: the plan makes the first commit)'}")
    out.line(f"tip:        {status.tip}")
    if status.branched_from:
        origin = status.branched_from
        out.line(
            f"branched:   from plan {origin.get('plan')} at changeset {origin.get('changeset')} "
            f"({origin.get('commit')})"
        )
    out.line(f"changesets: {status.changesets}")
    out.line(
        f"files:      {status.files_changed} changed, "
        f"{counted(status.insertions, 'insertion')}(+), {counted(status.deletions, 'deletion')}(-)"
    )
    out.line(f"tools:      {', '.join(status.tools) or '-'}")
    for change in status.files:
        shown = (
            f"{quoted(change.old_path)} => {quoted(change.path)}" if change.old_path else quoted(change.path)
        )
        counts = "binary" if change.binary else f"+{change.additions} -{change.deletions}"
        out.line(f"  {change.kind:<10} {shown} ({counts})")
    if status.base_behind_head is not None:
        out.line(f"base behind HEAD: {'yes' if status.base_behind_head else 'no'}")
        verdict = (
            "yes: " + ", ".join(map(quoted, status.conflict_paths)) if status.apply_would_conflict else "no"
        )
        out.line(f"apply would conflict: {verdict}")
        if status.apply_refusal == "dirty":
            out.line(
                f"apply would be refused: uncommitted changes in {', '.join(map(quoted, status.dirty_paths))}"
            )
        elif status.apply_refusal == "bare":
            out.line(
                "apply would be refused: there is no working tree here (a bare repository, or inside "
                "its git directory): use --mode branch NAME"
            )
        elif in_progress is not None:
            out.line(f"apply would be refused: {in_progress}")
    if status.unsafe:
        out.line(f"unsafe: {status.unsafe}", {"fg": "red", "bold": True})
        out.line("  (made by hand or fetched with plain git: review it; apply refuses it)", {"fg": "red"})
    if status.missing_artifacts:
        out.line("missing or damaged artifacts:", {"fg": "red", "bold": True})
        for problem in status.missing_artifacts:
            out.line(f"  {problem}", {"fg": "red"})


@main.command()
@click.argument("plan")
@click.option(
    "--restore",
    is_flag=True,
    help="First take the plan's edits back out of the worktree (an agent session's).",
)
@json_option
@pass_context
def cancel(ctx: Context, plan: str, restore: bool, as_json: bool) -> None:
    """Remove PLAN: delete its refs, then the packs only it wrote.

    Anything the user took from the plan (a branch, tag, stash, reflog entry,
    cherry-pick, the index of any worktree, another plan based on it) is kept,
    and the report says so. Objects `git gc` has already packed are left to it.

    With --restore (for a session an agent made in your worktree, which
    `git plan hook` recorded): the files the plan changed are first put back
    as they were before it (as its `before-session` changeset left them, so
    your own earlier work stays). If a file changed since the plan recorded
    it, nothing is put back or cancelled, and it exits 4 naming the files.
    Before it puts anything back, the whole plan is saved in a bundle under
    .git/gitplan/rescue/ (an edit of yours made during the session may be
    in it), and the command that brings it back is printed.
    """
    out = ctx.output(as_json)
    restored = None
    if restore:
        restored = ctx.store.restore_worktree(plan)
    report = ctx.store.cancel(plan)
    if as_json:
        body = views.plain(report)
        if restored is not None:
            body["restored"] = list(restored.restored)
            body["rescue_bundle"] = restored.saved_in
        out.json("cancel", body)
        return
    if restored is not None:
        out.line(f"put back {len(restored.restored)} files as they were before plan {plan}")
    if restored is not None and restored.saved_in is not None:
        out.line(f"the plan was saved first in {restored.saved_in}; to bring it back:")
        out.line(f"  {restored.bring_back}")
    out.line(f"cancelled plan {plan}: deleted {', '.join(report.refs_deleted) or 'no refs'}")
    # Each object is counted once; why objects were kept (in use elsewhere, in a pack
    # someone freshened, a doubt) is said below, with what else cancel did.
    kept = f", kept {report.objects_kept}" if report.objects_kept else ""
    out.line(f"pruned {report.objects_pruned} objects ({report.bytes_freed} bytes){kept}")
    for reason in report.reasons:
        out.line(f"  {reason}")


@main.command()
@click.option("--dry-run", "-n", is_flag=True, help="Only report what would be removed.")
@click.option(
    "--grace",
    default="1h",
    show_default=True,
    metavar="DURATION",
    help="Leave what is younger than this (30s, 10m, 1h, 2d; `now` for everything).",
)
@json_option
@pass_context
def gc(ctx: Context, dry_run: bool, grace: str, as_json: bool) -> None:
    """Remove what interrupted gitplan operations left behind.

    A record killed after writing its pack, a writer that lost a race, a prune
    killed halfway, a plan cancelled while it was written: their unpublished
    packs, temporary files, registries and locks go, when older than --grace.
    Packs go through the same checks as cancel, so nothing that a branch, tag,
    index, reflog or other plan references is deleted. git's own objects are
    left to `git gc`.
    """
    report = ctx.store.gc(grace=grace, dry_run=dry_run)
    out = ctx.output(as_json)
    if as_json:
        out.json("gc", report)
        return
    verb = "would remove" if dry_run else "removed"
    if not report.removed and not report.kept:
        out.line("nothing to clean up")
    for item in report.removed:
        out.line(f"{verb} {item.kind} {item.name}: {item.reason}")
    for item in report.kept:
        out.line(f"kept {item.kind} {item.name}: {item.reason}")


@main.command()
@json_option
@pass_context
def recover(ctx: Context, as_json: bool) -> None:
    """Finish or roll back an apply that was interrupted (killed, or the machine stopped).

    An apply that got past its commit point (the branch moved) is finished:
    the plan is marked applied. One that did not is rolled back: the files
    and index it changed are put back as they were. Reading commands never
    do this (they only warn); every writing command does it first.
    """
    plan = ctx.store.pending_recovery()
    done = ctx.store.recover()
    out = ctx.output(as_json)
    if as_json:
        out.json("recover", {"plan": plan if done else None, "recovered": done})
    elif done is None:
        out.line("no interrupted apply to recover")
    else:
        out.line(f"{done} the interrupted apply of plan {plan}")
