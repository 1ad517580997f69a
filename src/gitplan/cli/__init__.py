"""The `git-plan` / `gitplan` command line: parse, call the store, print.

The group puts one PlanStore on the click context; each command module is
thin, and imported only when one of its commands runs (or --help lists them
all), so a command pays for no other command's imports. This is the only place
errors become messages and exit codes; a traceback is shown only with --debug.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from typing import Any

import click

from .. import __version__
from ..errors import BadInput, GitPlanError
from .context import Context
from .output import dumps as _json

# Each command, and the module of this package that defines it (registering it on `main`).
_COMMANDS = {
    "apply": "apply",
    "artifacts": "show",
    "branch": "surgery",
    "cancel": "plans",
    "create": "plans",
    "demo": "demo",
    "diff": "show",
    "drop": "surgery",
    "fetch": "remote",
    "gc": "plans",
    "help": "manpage",
    "hook": "agents",
    "hooks": "agents",
    "list": "plans",
    "log": "show",
    "mcp": "serve",
    "push": "remote",
    "record": "record",
    "recover": "plans",
    "review": "serve",
    "rewind": "surgery",
    "run": "run",
    "show": "show",
    "snapshot": "run",
    "status": "plans",
    "undo": "surgery",
}


def _global_color(args: list[str]) -> list[str]:
    """`git plan --color=WHEN CMD`, as git takes it: always is --color, never --no-color,
    auto the default. Only before the command: after it, the command's own options."""
    out: list[str] = []
    for position, arg in enumerate(args):
        if arg in _COMMANDS and (not out or out[-1] != "-C"):
            return out + args[position:]
        if not arg.startswith("--color="):
            out.append(arg)
            continue
        when = _COLOR_WHEN.get(arg[len("--color=") :].lower())
        if when is None:
            raise click.UsageError(f"{arg}: --color expects always, never or auto")
        out.extend(when)
    return out


# git's colour settings (always, never, auto, and the booleans): what they make of git plan's flags
_COLOR_WHEN = {
    "always": ["--color"],
    "never": ["--no-color"],
    "auto": [],
    "true": [],
    "false": ["--no-color"],
}


class PlanGroup(click.Group):
    """Maps gitplan errors to their exit codes and one-line messages; loads commands lazily."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = _COMMANDS.get(cmd_name)
        if module is not None and cmd_name not in self.commands:
            importlib.import_module(f"{__name__}.{module}")
        return super().get_command(ctx, cmd_name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        args = _global_color(args)
        # click drops "--"; commands that take paths after it (diff) need to know where it was.
        ctx.meta["gitplan.after_dashdash"] = args[args.index("--") + 1 :] if "--" in args else None
        before = args[: args.index("--")] if "--" in args else args
        ctx.meta["gitplan.json"] = "--json" in before
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GitPlanError as error:
            from .. import views

            if ctx.meta.get("gitplan.json"):
                click.echo(_json(views.error(error)))
            click.echo(f"git-plan: error: {error}", err=True)
            ctx.exit(error.exit_code)
        except click.UsageError as error:
            from .. import views

            if ctx.meta.get("gitplan.json"):
                click.echo(_json(views.error(BadInput(error.format_message()))))
            raise
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:  # a reader that stopped early (`| head`): no failure, as for diff
            with contextlib.suppress(OSError, ValueError):  # nothing more reaches it, not even at exit
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(0)
        except Exception as error:  # a bug: say so, do not blame the input
            if ctx.meta.get("gitplan.json"):
                from .. import views

                click.echo(_json(views.internal_error(error)))
            if ctx.obj is not None and ctx.obj.debug:
                import traceback

                traceback.print_exc()
            else:
                click.echo(
                    f"git-plan: internal error: {type(error).__name__}: {error}\n"
                    "(run with --debug for the traceback, and please report it)",
                    err=True,
                )
            ctx.exit(1)


@click.group(cls=PlanGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "directory",
    default=".",
    metavar="DIR",
    help="Run as if git-plan was started in DIR (like git -C).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks for internal errors.")
@click.option("-P", "--no-pager", "no_pager", is_flag=True, help="Do not page diffs (like git --no-pager).")
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour output even when piped, or never (default: color.diff/color.ui, else on a terminal).",
)
@click.version_option(version=__version__, prog_name="git-plan")
@click.pass_context
def main(ctx: click.Context, directory: str, debug: bool, no_pager: bool, color: bool | None) -> None:
    """Record, review, apply or cancel the changesets an agent makes for a plan.

    Each plan is a hidden ref refs/changesets/PLAN in this repository; each
    changeset is a commit on it and each tool invocation a git note, so
    `git log --notes='changesets/*' refs/changesets/PLAN` shows a plan with
    stock git. Nothing touches HEAD, branches, the index or the working tree
    until `git plan apply`.

    \b
    Typical session:
      git plan create fix-1 --title "Fix the parser"
      git plan record fix-1 --tool write_file --set src/p.py=/tmp/p.py
      git plan status fix-1 && git plan diff fix-1
      git plan apply fix-1          # or: git plan cancel fix-1

    Exit codes: 0 ok, 1 failed, 2 bad usage or input, 3 not found,
    4 conflict, 5 repository damaged.
    """
    if color is None and os.environ.get("NO_COLOR"):
        color = False
    ctx.obj = Context(directory, debug, color, pager=not no_pager)
