"""Steps for manual.feature: the manual page, `git plan help` and bash completion."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from behave import then, when

ROOT = Path(__file__).resolve().parents[2]
BIN = str(Path(sys.executable).parent)
GIT_COMPLETION = "/usr/share/bash-completion/completions/git"


def _run_plan(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "gitplan", *args], capture_output=True, text=True, check=True
    )
    return done.stdout


@then('{path} is the output of "git plan {args}"')
def shipped_is_generated(context, path, args):  # type: ignore[no-untyped-def]
    assert (ROOT / path).read_text() == _run_plan(*shlex.split(args)), f"regenerate {path}: git plan {args}"


@then("the manual page renders without warnings and names every command")
def renders(context):  # type: ignore[no-untyped-def]
    page = ROOT / "share" / "man" / "man1" / "git-plan.1"
    done = subprocess.run(
        ["man", "--warnings", "-l", str(page)],
        capture_output=True,
        text=True,
        env={**os.environ, "MANWIDTH": "80"},
    )
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    for command in ("create", "record", "status", "diff", "show", "log", "apply", "cancel", "recover", "gc"):
        assert f"git plan {command}" in done.stdout, command


@when('I run "git plan help" with the manual page installed')
@when('I run "git plan help {rest}" with the manual page installed')
def plan_help(context, rest=""):  # type: ignore[no-untyped-def]
    git_help(context, rest)


@when('I run "git plan --help" with the manual page installed')
def git_help(context, rest=None):  # type: ignore[no-untyped-def]
    environment = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "MANPATH": str(ROOT / "share" / "man"),
        "MANPAGER": "cat",
        "PAGER": "cat",
        "MANWIDTH": "80",
    }
    command = ["git", "-c", "help.format=man", "plan", "--help"]
    if rest is not None:  # `git plan help [COMMAND]`: gitplan's own help command
        command = [sys.executable, "-m", "gitplan", "help", *shlex.split(rest)]
    done = subprocess.run(command, cwd=context.repo, env=environment, capture_output=True, text=True)
    context.help_output = done.stdout + done.stderr
    context.help_code = done.returncode


@then("it shows the manual page of git-plan")
def shows_manual(context):  # type: ignore[no-untyped-def]
    assert "GIT-PLAN(1)" in context.help_output and "EXIT STATUS" in context.help_output, context.help_output


@when('I run "git plan help" without man on PATH')
@when('I run "git plan help {rest}" without man on PATH')
def help_without_man(context, rest=""):  # type: ignore[no-untyped-def]
    bare = os.path.join(context.tmp, "bin-without-man")
    os.makedirs(bare, exist_ok=True)
    for tool in ("git",):
        target = shutil.which(tool)
        assert target
        if not os.path.exists(os.path.join(bare, tool)):
            os.symlink(target, os.path.join(bare, tool))
    environment = {**os.environ, "PATH": bare}
    done = subprocess.run(
        [sys.executable, "-m", "gitplan", "help", *shlex.split(rest)],
        cwd=context.repo, env=environment, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    context.help_output = done.stdout


@then('it printed the help text listing "{text}"')
def printed_help(context, text):  # type: ignore[no-untyped-def]
    assert "Usage:" in context.help_output and text in context.help_output, context.help_output


@then('bash completes "{line}" with "{expected}"')
def bash_completes(context, line, expected):  # type: ignore[no-untyped-def]
    words = line.split(" ")
    script = f"""
source {shlex.quote(GIT_COMPLETION)}
source {shlex.quote(str(ROOT / "share" / "bash-completion" / "completions" / "git-plan"))}
COMP_WORDS=({" ".join(shlex.quote(w) for w in words)})
COMP_CWORD={len(words) - 1}
COMP_LINE={shlex.quote(line)}
COMP_POINT=${{#COMP_LINE}}
COMPREPLY=()
if [ "${{COMP_WORDS[0]}}" = git ]; then __git_func_wrap __git_main; else __git_func_wrap _git_plan; fi
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    done = subprocess.run(["bash", "-c", script], cwd=context.repo, capture_output=True, text=True)
    offered = sorted(word.strip() for word in done.stdout.split())
    assert offered == sorted(expected.split()), (offered, done.stderr)


@then('it exited {code:d} saying "{text}"')
def exited_saying(context, code, text):  # type: ignore[no-untyped-def]
    assert context.help_code == code and text in context.help_output, (context.help_code, context.help_output)
