"""hook, hooks: coding agents' tool calls recorded as changesets (docs/agents.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .. import views
from . import main
from .context import Context, exit_with, pass_context


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("agent")
@click.argument("event")
@click.option("--strict", is_flag=True, help="Exit 2 on a payload it cannot use (default: warn, exit 0).")
def hook(agent: str, event: str, strict: bool) -> None:
    """Record an agent's tool call: its JSON payload is read on stdin.

    \b
      AGENT   claude-code, codex, gemini, openhands, cursor or cline
      EVENT   pre, post or stop (or the agent's own names:
              PreToolUse, PostToolUse, Stop, BeforeTool, AfterTool,
              afterFileEdit, afterShellExecution, TaskComplete...)

    Each session of the agent is a plan; each tool call that changed files
    is one changeset of it, recorded from the worktree (the files the tool
    names, or what `git status` lists for shell tools and at stop). It never
    breaks the agent: on any error it warns on stderr, logs to
    .git/gitplan/hooks.log and exits 0. `git plan hooks install AGENT` sets
    it up.
    """
    from ..agenthook import main as run_hook

    exit_with(run_hook([agent, event, *(["--strict"] if strict else [])]))


@main.group()
def hooks() -> None:
    """Install, remove or show gitplan's hooks in an agent's settings.

    \b
    AGENT is claude-code, gemini, codex, openhands, cursor or cline.
    """


F = TypeVar("F", bound=Callable[..., Any])


def _scope_options(function: F) -> F:
    function = click.option(
        "--user", "scope", flag_value="user", help="The agent's settings in your home directory."
    )(function)
    return click.option(
        "--project",
        "scope",
        flag_value="project",
        default=True,
        help="The agent's settings in this repository (default).",
    )(function)


@hooks.command()
@click.argument("agent")
@_scope_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@pass_context
def install(ctx: Context, agent: str, scope: str, as_json: bool) -> None:
    """Add `git plan hook AGENT ...` to AGENT's settings, keeping everything else.

    Idempotent; the file is backed up once (FILE.gitplan-backup) before its
    first change; `git plan hooks uninstall AGENT` takes the entries out again.
    """
    from ..hooksetup import install as add
    from ..hooksetup import settings_file

    settings, path = settings_file(agent, _top(ctx, scope), scope)
    changed = add(settings, path, _backup(ctx, scope, path, agent))
    out = ctx.output(as_json)
    if as_json:
        out.json("hooks", {"agent": agent, "file": str(path), "changed": changed})
        return
    out.line(f"{'installed' if changed else 'already installed'}: gitplan hooks for {agent} in {path}")
    if settings.still_to_do:
        out.line(settings.still_to_do)


@hooks.command()
@click.argument("agent")
@_scope_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@pass_context
def uninstall(ctx: Context, agent: str, scope: str, as_json: bool) -> None:
    """Remove exactly the hooks `install` added; the rest of the file stays."""
    from ..hooksetup import settings_file
    from ..hooksetup import uninstall as remove

    settings, path = settings_file(agent, _top(ctx, scope), scope)
    changed = remove(settings, path, _backup(ctx, scope, path, agent))
    out = ctx.output(as_json)
    if as_json:
        out.json("hooks", {"agent": agent, "file": str(path), "changed": changed})
        return
    out.line(f"{'removed' if changed else 'nothing to remove'}: gitplan hooks for {agent} in {path}")


@hooks.command(name="status")
@click.argument("agent")
@_scope_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@pass_context
def hooks_status(ctx: Context, agent: str, scope: str, as_json: bool) -> None:
    """Which of AGENT's events run gitplan's hook; exits 3 when none does."""
    from ..hooksetup import settings_file
    from ..hooksetup import status as state

    settings, path = settings_file(agent, _top(ctx, scope), scope)
    found = state(settings, path)
    out = ctx.output(as_json)
    if as_json:
        out.json("hooks", views.plain(found))
    else:
        out.line(f"{agent} ({found.file}):")
        for event in found.installed:
            out.line(f"  {event}: git plan hook {agent}")
        for event in found.missing:
            out.line(f"  {event}: not installed")
    if not found.installed:
        exit_with(3)


def _backup(ctx: Context, scope: str, path: Path, agent: str) -> Path:
    """Where the settings file's first state is kept: in the git directory for a
    project's file (a backup in the worktree would be swept into the session's plan)."""
    if scope == "project":
        return Path(ctx.store.git_directory) / "gitplan" / "hook-backups" / f"{agent}-{path.name}"
    return path.with_name(path.name + ".gitplan-backup")


def _top(ctx: Context, scope: str) -> str | None:
    return ctx.store.workdir if scope == "project" else None
