"""Steps for docs.feature: the documentation's code blocks, run as a reader would."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from behave import given, then, when
from common_steps import git

from gitplan import PlanStore, ToolInvocation

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(
    r"(?:<!-- doc-test: (?P<marker>[^>]*?) -->\n)?```(?P<lang>sh|python)\n(?P<body>.*?)```", re.S
)


def runnable_blocks(text: str) -> list[tuple[str, str, str]]:
    """(marker, language, body) of each sh or python block."""
    return [(m["marker"] or "", m["lang"], m["body"]) for m in BLOCK.finditer(text)]


@given("a scratch repository for the documentation")
def scratch(context):  # type: ignore[no-untyped-def]
    context.repo = os.path.join(context.tmp, "docs-repo")
    os.makedirs(os.path.join(context.repo, "src"))
    git(context, "init", "-q")
    Path(context.repo, "README.md").write_text("# a project\n")
    Path(context.repo, "src", "a.py").write_text("print('a')\n")
    git(context, "add", "-A")
    git(context, "commit", "-q", "-m", "initial")


@when('I run every code block of "{name}"')
def run_blocks(context, name):  # type: ignore[no-untyped-def]
    blocks = runnable_blocks((ROOT / name).read_text())
    environment = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    context.failures = []
    context.ran = 0
    for marker, language, body in blocks:
        if marker.startswith("not run"):
            continue
        if marker == "with plan fix-1":
            store = PlanStore.open(context.repo)
            store.create("fix-1", title="Fix the parser")
            store.record("fix-1", {"src/parser.py": b"def parse(text):\n    return text.split()\n"},
                         ToolInvocation(tool="write_file", actor="coder"))  # fmt: skip
        command = ["sh", "-ec", body] if language == "sh" else [sys.executable, "-c", body]
        try:  # a block that serves forever (review, mcp) must be marked not run, not hang CI
            done = subprocess.run(
                command, cwd=context.repo, env=environment, capture_output=True, text=True, timeout=120
            )
        except subprocess.TimeoutExpired:
            context.failures.append(f"{name}: block starting {body.splitlines()[0]!r} ran over 120 s")
            continue
        context.ran += 1
        if done.returncode != 0:
            context.failures.append(f"{name}: block starting {body.splitlines()[0]!r}:\n{done.stderr}")


@then("every block succeeded")
def all_succeeded(context):  # type: ignore[no-untyped-def]
    assert context.ran > 0, "no block ran: a file without runnable blocks does not belong in the table"
    assert not context.failures, "\n".join(context.failures)


@then("every markdown file with a runnable code block is listed in docs.feature")
def all_listed(context):  # type: ignore[no-untyped-def]
    listed = (ROOT / "features" / "docs.feature").read_text()
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        name = str(path.relative_to(ROOT))
        if any(not marker.startswith("not run") for marker, _, _ in runnable_blocks(path.read_text())):
            assert f"| {name} " in listed, f"{name} has runnable blocks but is not in docs.feature"
