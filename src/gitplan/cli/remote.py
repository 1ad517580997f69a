"""push and fetch: plans between repositories, through git remotes and bundles."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..sync import SyncReport
from . import main
from .context import Context, exit_with, pass_context

_SAID = {
    "new": "new plan",
    "fast-forward": "fast-forward",
    "up-to-date": "up to date",
    "forced": "forced update",
    "ahead": "this repository is ahead; nothing to fetch",
    "diverged": "diverged: not changed",
    "incomplete": "only its notes ref there (a push cut short, or refused): nothing to fetch",
    "damaged": "damaged here: not pushed (`git plan list` says why)",
}


def _progress(quiet: bool):  # type: ignore[no-untyped-def]
    """git's progress, on a terminal only (as git shows it)."""
    if quiet or not sys.stderr.isatty():
        return None
    return lambda chunk: (sys.stderr.buffer.write(chunk), sys.stderr.buffer.flush())


def _location(ctx: Context, remote: str) -> str:
    """A remote that is a path is taken from the current directory, as git takes it."""
    path = ctx.file_path(remote)
    return os.path.abspath(path) if os.path.exists(path) and not os.path.isabs(remote) else remote


def _report(ctx: Context, report: SyncReport, as_json: bool, quiet: bool = False) -> None:
    out = ctx.output(as_json)
    if as_json:
        out.json(report.direction, report)
        return
    if quiet:  # as git push -q and git fetch -q: errors only
        return
    if not report.plans:
        out.line(f"no plans to {report.direction}")
        return
    out.line(f"{'To' if report.direction == 'push' else 'From'} {report.remote}")
    for moved in report.plans:
        old = (moved.old_tip or "")[:10]
        new = (moved.new_tip or "")[:10]
        span = f"{old}..{new}" if old and old != new else new
        out.line(f"  {moved.plan_id:<24} {span:<22} {_SAID.get(moved.outcome, moved.outcome)}")


@main.command()
@click.argument("remote", required=False)
@click.argument("plans", nargs=-1)
@click.option(
    "--force",
    is_flag=True,
    help="Replace the remote's plans even where they have changesets this side lacks.",
)
@click.option(
    "--bundle",
    "bundle_file",
    metavar="FILE",
    help="Write the plans into a git bundle FILE instead (for hosts that take only branches and tags).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors: no progress, no summary.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@pass_context
def push(
    ctx: Context,
    remote: str | None,
    plans: tuple[str, ...],
    force: bool,
    bundle_file: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Push PLANS (all plans when none are named) to REMOTE.

    Each plan moves as its two refs, refs/changesets/PLAN and
    refs/notes/changesets/PLAN, together (git push --atomic where the server
    supports it), with your own remotes, credentials and ssh settings. A
    remote plan with changesets this repository lacks is refused (exit 4):
    fetch it first, or --force. With --bundle FILE no remote is needed:

    \b
      git plan push origin fix-1
      git plan push --bundle fix-1.bundle fix-1
      git plan fetch fix-1.bundle          # on the other machine
    """
    if bundle_file is not None:
        names = (remote, *plans) if remote else plans
        report = replace(ctx.store.bundle(ctx.file_path(bundle_file), names), remote=bundle_file)
    else:
        if remote is None:
            raise click.UsageError("name a REMOTE (or write a bundle with --bundle FILE)")
        report = ctx.store.push(
            _location(ctx, remote), plans, force=force, progress=_progress(quiet or as_json)
        )
    _report(ctx, report, as_json, quiet)


@main.command()
@click.argument("source")
@click.argument("plans", nargs=-1)
@click.option(
    "--force",
    is_flag=True,
    help="Replace local plans that diverged from the source's (their own changesets are lost).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors: no progress, no summary.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@pass_context
def fetch(ctx: Context, source: str, plans: tuple[str, ...], force: bool, quiet: bool, as_json: bool) -> None:
    """Fetch PLANS (all the source has when none are named) from SOURCE.

    SOURCE is a remote name, a URL, a path, or a bundle file written by
    `git plan push --bundle` or by a failed apply. What arrives is verified
    in a quarantine first: commits, trailers, notes, and every path
    (.git in any spelling, '..', absolute paths, symlinks out of the
    worktree, gitlinks, sizes). An unsafe plan is refused (exit 2) and
    nothing is written. A local plan with changesets the source lacks is
    never overwritten (exit 4) unless --force; one the source extends
    fast-forwards.
    """
    from ..sync import Diverged

    try:
        report = ctx.store.fetch(
            _location(ctx, source), plans, force=force, progress=_progress(quiet or as_json)
        )
    except Diverged as refused:  # the other plans landed: say what became of each, then exit 4
        _report(ctx, refused.report, as_json, quiet)
        click.echo(f"git-plan: error: {refused}", err=True)
        exit_with(refused.exit_code)
    _report(ctx, report, as_json, quiet)
