"""rewind, drop, branch, undo: plan surgery, each a compare-and-swap, each undoable."""

from __future__ import annotations

import click

from .. import views
from ..model import SurgeryResult
from . import main
from .context import Context, pass_context

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
_UNDO_HINT = "undo with: git plan undo {plan}"


@main.command()
@click.argument("plan")
@click.argument("n", type=click.IntRange(min=0), metavar="N")
@json_option
@pass_context
def rewind(ctx: Context, plan: str, n: int, as_json: bool) -> None:
    """Move PLAN's tip back to changeset N (0: the plan root, no changesets).

    The changesets after N leave the plan; their commits and records stay in
    the repository, so `git plan undo PLAN` brings them back (until
    `git plan gc` expires the undo entry: --grace, 1 hour by default).

    Both refs move together by compare-and-swap: if another writer records
    into PLAN meanwhile, the rewind refuses (exit 4) and changes nothing.
    An applied plan is refused (exit 2); a changeset PLAN does not have
    exits 3.

    \b
      git plan rewind fix-1 2      keep changesets 1 and 2
      git plan rewind fix-1 0      keep none (the plan is empty again)
    """
    result = ctx.store.rewind(plan, n)
    _report(ctx, result, as_json)


@main.command()
@click.argument("plan")
@click.argument("numbers", nargs=-1, required=True, type=click.IntRange(min=1), metavar="N...")
@json_option
@pass_context
def drop(ctx: Context, plan: str, numbers: tuple[int, ...], as_json: bool) -> None:
    """Remove changesets N... from PLAN; the later ones are replayed on top.

    Each later changeset gets a new commit and number, and its invocation
    record moves with it (tool, actor, arguments and times unchanged; its
    file counts are those of the replayed edit). An edit is replayed as
    `git rebase` would: paths nobody else touched apply as they are, a file
    changed on both sides is merged line by line.

    If a later changeset depends on a dropped one (its edit no longer
    applies), drop refuses with exit 4, naming the paths, and changes
    nothing. `git plan undo PLAN` reverses a drop.

    \b
      git plan drop fix-1 2        remove changeset 2; 3 becomes 2, ...
      git plan drop fix-1 2 4      remove 2 and 4
    """
    result = ctx.store.drop(plan, list(numbers))
    _report(ctx, result, as_json)


@main.command(name="branch")
@click.argument("plan")
@click.argument("new_plan", metavar="NEWPLAN")
@click.option(
    "--at",
    type=click.IntRange(min=0),
    metavar="N",
    help="Copy PLAN up to changeset N (default: all of it; 0: only its base).",
)
@click.option("--title", default=None, help="The new plan's title (default: PLAN's).")
@json_option
@pass_context
def branch_plan(
    ctx: Context, plan: str, new_plan: str, at: int | None, title: str | None, as_json: bool
) -> None:
    """Start NEWPLAN as a copy of PLAN up to changeset N.

    NEWPLAN has the same base and the same trees; its commits are new
    (`Plan-Id: NEWPLAN`), and each invocation record is copied with a
    `branched_from` field (plan, changeset, commit) that `git plan log`
    shows. PLAN is only read, so it may be applied already. NEWPLAN owns a
    copy of what it needs: cancelling either plan never touches the other.
    `git plan undo NEWPLAN` removes the new plan again.

    \b
      git plan branch fix-1 fix-1b --at 2
      git plan record fix-1b ...   # try another way from changeset 2
    """
    result = ctx.store.branch(plan, new_plan, at=at, title=title)
    _report(ctx, result, as_json)


@main.command()
@click.argument("plan")
@json_option
@pass_context
def undo(ctx: Context, plan: str, as_json: bool) -> None:
    """Reverse the last rewind, drop or branch of PLAN.

    Both refs go back to what they held before, by compare-and-swap: if PLAN
    moved since (a changeset was recorded after the rewind), undo refuses
    with exit 4 and changes nothing. Undoing a branch removes the branched
    plan, as `git plan cancel` would. Each plan keeps a journal of its
    surgery in the git directory; `git plan gc` expires entries older than
    its --grace (1 hour by default), and undo works until then. Undo again
    to reverse the operation before. Nothing to undo exits 3.
    """
    result = ctx.store.undo(plan)
    _report(ctx, result, as_json)


def _report(ctx: Context, result: SurgeryResult, as_json: bool) -> None:
    out = ctx.output(as_json)
    if as_json:
        out.json("surgery", views.surgery(result))
        return
    plan = result.plan
    if result.operation == "rewind":
        removed = ", ".join(map(str, result.removed))
        out.line(f"rewound plan {plan} to changeset {result.changesets} (took off {removed})")
    elif result.operation == "drop":
        dropped = ", ".join(map(str, result.removed))
        out.line(f"dropped changeset(s) {dropped} from plan {plan}; it has {result.changesets} now")
        for old, new in result.renumbered:
            out.line(f"  changeset {old} is now {new}")
    elif result.operation == "branch":
        origin = result.branched_from or {}
        out.line(
            f"created plan {plan} from plan {origin.get('plan')} at changeset {origin.get('changeset')} "
            f"(refs/changesets/{plan}, {result.changesets} changesets)"
        )
    elif result.undone == "branch":
        out.line(f"undid the branch: removed plan {plan}")
    else:
        out.line(f"undid the {result.undone} of plan {plan}: it has {result.changesets} changesets again")
    if result.new_tip:
        out.line(f"tip: {result.new_tip}")
    if result.operation != "undo":
        out.line(_UNDO_HINT.format(plan=plan))
