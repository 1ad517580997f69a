"""mcp: the repository's plans served to MCP clients (docs/agents.md)."""

from __future__ import annotations

import os
import signal

import click

from .. import faults
from ..errors import BadInput, GitPlanError
from . import main
from .context import Context, pass_context


class MissingExtra(GitPlanError):
    """An optional extra is not installed."""


@main.command()
@click.option("--read-only", is_flag=True, help="Serve only the tools that change nothing.")
@pass_context
def mcp(ctx: Context, read_only: bool) -> None:
    """Serve this repository's plans over MCP (stdio), for an agent to use.

    \b
      claude mcp add gitplan -- git plan -C /path/to/repo mcp
      claude mcp add gitplan-ro -- git plan -C /path/to/repo mcp --read-only

    Tools: plan_list, plan_status, plan_log, plan_diff (paged), plan_create,
    plan_record, plan_run, plan_apply (a dry run unless dry_run is false),
    plan_cancel. Resources: gitplan://plans, gitplan://plan/{id}/status,
    gitplan://plan/{id}/diff, gitplan://plan/{id}/changeset/{n}. The
    repository is fixed when it starts. Needs `pip install 'gitplan[mcp]'`.
    """
    try:
        import mcp.server  # noqa: F401 - the extra, imported here to say clearly when it is missing
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] != "mcp":  # pragma: no cover - mcp itself is broken
            raise
        raise MissingExtra("git plan mcp needs the MCP extra: pip install 'gitplan[mcp]'") from None
    from .. import planrun, runner
    from ..serve.mcp import server

    def stop_commands() -> None:
        """Commands run for requests end with the server, and each run records how its
        command ended: SIGTERM, then SIGKILL for what still runs a second later. Quickly:
        a client that closed our input sends SIGTERM two seconds later, and SIGKILL two
        seconds after that (the MCP SDK's client does)."""
        runner.stop_running()
        if not planrun.wait_for_runs(timeout=1):
            runner.stop_running(signal.SIGKILL)
            planrun.wait_for_runs(timeout=0.8)

    def end(number: int, _frame: object) -> None:
        # The client going away, as it may. Not by raising: the thread that reads the
        # client's input would hold the interpreter's exit until the input closes.
        stop_commands()
        os._exit(128 + number)

    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, end)
    try:
        server(ctx.store, read_only=read_only).run("stdio")
    finally:
        stop_commands()


@main.command()
@click.argument("plan", required=False)
@click.option(
    "--allow-writes", is_flag=True, help="Enable apply, cancel, rewind, drop, branch and undo on the page."
)
@click.option("--no-open", is_flag=True, help="Print the URL only; do not open a browser.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, help="Port on 127.0.0.1 (default: any free one)."
)
@pass_context
def review(ctx: Context, plan: str | None, allow_writes: bool, no_open: bool, port: int) -> None:
    """Review plans in the browser: a local page on 127.0.0.1, until Ctrl-C.

    The page lists the plans; for each, its changesets as a timeline (tool,
    actor, arguments, status, exit code, duration, output tails) next to their
    diffs, and the whole plan's diff, unified or side by side. Read-only
    unless --allow-writes, which adds accept/reject per file and per hunk
    (ending in a partial apply), rewind, drop, branch, undo and cancel. The
    URL carries a token made for this run; other origins are refused, and
    nothing loads from the network. It follows new changesets as an agent
    records them. Syntax highlighting needs `pip install 'gitplan[review]'`.

    \b
      git plan review              every plan
      git plan review fix-1        open at plan fix-1
      git plan diff fix-1 --ui     the same page, on one diff
    """
    serve_review(ctx, plan, None, allow_writes, no_open, port)


def serve_review(
    ctx: Context, plan: str | None, changeset: str | None, allow_writes: bool, no_open: bool, port: int
) -> None:
    """Start the review page (also for `diff --ui`), print its URL, serve until interrupted."""
    import sys
    import webbrowser

    from ..format import validate_plan_id
    from ..serve import review as pages

    fragment = ""
    if changeset is not None and not changeset.isdigit():
        raise BadInput(f"--ui shows one changeset by its number, or the whole plan, not {changeset!r}")
    if plan is not None:
        ctx.store.status(validate_plan_id(plan))  # an unknown plan: exit 3 now, not a blank page
        fragment = f"plan={plan}" + (f"&changeset={changeset}" if changeset else "")
    running = pages.start(ctx.store, allow_writes=allow_writes, port=port, fragment=fragment)
    click.echo(f"gitplan review: {running.url}")
    click.echo(f"serving {'with writes enabled' if allow_writes else 'read-only'} until Ctrl-C", err=True)
    sys.stdout.flush()
    if not no_open:
        webbrowser.open(running.url)
    try:
        faults.point("review.serving")
        running.serve()
    except KeyboardInterrupt:
        pass
    finally:
        running.close()
