"""git-plan(1), written from the click commands themselves, and `git plan help`.

`git plan help --roff > share/man/man1/git-plan.1` regenerates the page the package
installs (a scenario checks that the shipped page is this output). git turns
`git plan --help` into `man git-plan`; pip installs the page under
`<prefix>/share/man/man1`, which man finds beside `<prefix>/bin` on PATH.
"""

from __future__ import annotations

import inspect
import shutil
import subprocess

import click

from . import main
from .context import exit_with


def _roff(text: str) -> str:
    """Plain text made safe for roff: backslashes, leading dots and quotes, dashes."""
    lines = []
    for line in text.replace("\\", "\\e").splitlines():
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line.replace("-", "\\-"))
    return "\n".join(lines)


def _paragraphs(text: str) -> str:
    """click help text (with its \\b no-rewrap markers) as roff paragraphs."""
    out: list[str] = []
    for block in inspect.cleandoc(text).split("\n\n"):
        if block.startswith("\b\n"):
            out.append(".PP\n.nf\n" + _roff(block[2:]) + "\n.fi")
        else:
            out.append(".PP\n" + _roff(" ".join(block.split())))
    return "\n".join(out)


def render() -> str:
    """The whole page, from the group's and each command's help and options."""
    context = click.Context(main, info_name="git plan")
    sections = [
        '.TH GIT\\-PLAN 1 "" "gitplan" "gitplan manual"',
        ".SH NAME",
        "git\\-plan \\- record, review, apply or cancel the changesets an agent makes for a plan",
        ".SH SYNOPSIS",
        ".B git plan",
        "[\\-C \\fIDIR\\fR] [\\-P] [\\-\\-color|\\-\\-no\\-color] \\fICOMMAND\\fR [\\fIARGS\\fR]",
        ".SH DESCRIPTION",
        _paragraphs(main.help or ""),
        ".SH OPTIONS",
    ]
    for parameter in main.get_params(context):
        sections.extend(_option(parameter, context))
    sections.append(".SH COMMANDS")
    for name in main.list_commands(context):
        command = main.get_command(context, name)
        if command is None or command.hidden:
            continue
        sub = click.Context(command, info_name=name, parent=context)
        usage = " ".join(command.collect_usage_pieces(sub))
        sections.append(f".SS {_roff(name)}")
        sections.append(f".B git plan {_roff(name)}\n{_roff(usage)}")
        sections.append(_paragraphs(command.help or ""))
        for parameter in command.get_params(sub):
            sections.extend(_option(parameter, sub))
    sections += [
        ".SH EXIT STATUS",
        "0 ok, 1 failed, 2 bad usage or input, 3 not found, 4 conflict, 5 repository damaged.",
        ".SH SEE ALSO",
        "git(1), git\\-notes(1), git\\-log(1); docs/reference/ in the gitplan sources.",
    ]
    return "\n".join(sections) + "\n"


def _option(parameter: click.Parameter, context: click.Context) -> list[str]:
    record = parameter.get_help_record(context) if isinstance(parameter, click.Option) else None
    if record is None:
        return []
    names, text = record
    return [".TP", f"\\fB{_roff(names)}\\fR", _roff(" ".join(text.split()))]


@main.command(name="help")
@click.argument("command", required=False)
@click.option("--roff", is_flag=True, hidden=True, help="Print the manual page source.")
@click.option(
    "--completion", type=click.Choice(["bash", "zsh"]), hidden=True, help="Print a completion script."
)
def help_command(command: str | None, roff: bool, completion: str | None) -> None:
    """Show the manual page (git-plan(1)); without `man`, or without the page, the help text.

    \b
      git plan help             the whole manual
      git plan help apply       the help of one command
    """
    if roff:
        click.echo(render(), nl=False)
        return
    if completion is not None:
        from . import completion as scripts

        click.echo(scripts.bash() if completion == "bash" else scripts.zsh(), nl=False)
        return
    if command is None and shutil.which("man"):
        found = subprocess.run(["man", "-w", "git-plan"], capture_output=True, check=False)
        if found.returncode == 0:
            exit_with(subprocess.run(["man", "git-plan"], check=False).returncode)
            return
    context = click.get_current_context()
    target = main.get_command(context, command) if command else main
    if target is None:
        raise click.UsageError(f"no command {command!r}; `git plan --help` lists them")
    parent = context.parent or context
    info = command or "git plan"  # under its parent: "git-plan CMD", as CMD --help says
    click.echo(target.get_help(click.Context(target, info_name=info, parent=parent if command else None)))
