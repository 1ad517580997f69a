"""demo: a self-contained walk-through on a scratch repository."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import click

from .. import views
from ..model import ToolInvocation
from . import main
from .context import Context, pass_context


def _git(repo: Path, *args: str) -> str:
    env_args = ["-c", "user.name=Demo", "-c", "user.email=demo@example.com"]
    return subprocess.run(
        ["git", *env_args, *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


@main.command()
@click.option("--keep", is_flag=True, help="Keep the scratch repository and print its path.")
@pass_context
def demo(ctx: Context, keep: bool) -> None:
    """Walk through a plan on a scratch repository: create, record, review, cancel."""
    out = ctx.output(False)
    scratch = Path(tempfile.mkdtemp(prefix="gitplan-demo-"))
    try:
        repo = scratch / "repo"
        repo.mkdir()
        _git(repo, "init", "-q", "-b", "main")
        (repo / "src").mkdir()
        (repo / "src" / "greet.py").write_text('def greet(name):\n    return "hi " + name\n')
        (repo / "README.md").write_text("# demo\n\nA tiny project.\n")
        _git(repo, "add", ".")
        _git(repo, "commit", "-q", "-m", "initial commit")
        out.heading(f"1. a scratch repository at {repo}, one commit on main")

        from ..diffs import DiffOptions
        from ..store import PlanStore

        store = PlanStore.open(repo)
        store.create("demo", title="Polish the greeting")
        out.heading("2. git plan create demo --title 'Polish the greeting'")
        store.record(
            "demo",
            {"src/greet.py": b'def greet(name: str) -> str:\n    return f"Hello, {name}!"\n'},
            ToolInvocation(tool="write_file", actor="coder", arguments={"path": "src/greet.py"}),
        )
        store.record(
            "demo",
            {
                "tests/test_greet.py": b"from src.greet import greet\n\n\ndef test_greet():\n"
                b'    assert greet("Ada") == "Hello, Ada!"\n'
            },
            ToolInvocation(tool="write_tests", actor="tester", arguments={"target": "greet"}),
        )
        store.record(
            "demo",
            {"README.md": b"# demo\n\nA tiny project that greets people.\n"},
            ToolInvocation(tool="edit_docs", actor="writer", summary="describe the project"),
        )
        out.heading("3. three tool invocations recorded as three changesets")
        status = store.status("demo")
        out.line(
            f"   plan demo: {status.changesets} changesets, {status.files_changed} files, "
            f"+{status.insertions} -{status.deletions}, tools: {', '.join(status.tools)}"
        )
        out.heading("4. git plan diff demo --stat")
        out.line(store.diff("demo", options=DiffOptions(output="stat")).rstrip())
        out.heading("5. git plan diff demo 1")
        out.line(store.diff("demo", 1).rstrip())
        out.heading("6. git plan artifacts demo (one row per tool invocation)")
        for changeset in store.changesets("demo"):
            item = views.changeset(changeset)
            out.line(
                f"   #{item['number']} {item['commit'][:10]} {item['tool']:<12} "
                f"{item['author']:<8} +{item['insertions']}/-{item['deletions']}"
            )
        out.heading("7. the same plan with stock git: git log --notes='changesets/*' refs/changesets/demo")
        out.line(
            _git(
                repo,
                "log",
                "--notes=changesets/*",
                "--format=%h %s%n%N",
                "refs/changesets/demo",
                "-1",
            ).rstrip()
        )
        out.heading("8. HEAD, index and worktree are untouched: git status --short")
        out.line("   " + (_git(repo, "status", "--short").strip() or "(clean)"))
        report = store.cancel("demo")
        out.heading("9. git plan cancel demo")
        out.line(f"   deleted {', '.join(report.refs_deleted)}; pruned {report.objects_pruned} objects")
        fsck = subprocess.run(["git", "fsck", "--full"], cwd=repo, capture_output=True, text=True)
        out.line(f"   git fsck --full: {'clean' if fsck.returncode == 0 else fsck.stderr}")
        out.heading("done: see `git plan --help` and docs/ to use it in your own repository")
        if keep:
            out.line(f"kept {repo}")
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)
