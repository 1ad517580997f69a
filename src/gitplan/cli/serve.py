"""mcp: the repository's plans served to MCP clients (docs/agents.md)."""

from __future__ import annotations

import click

from ..errors import GitPlanError
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
    from ..serve.mcp import server

    server(ctx.store, read_only=read_only).run("stdio")
