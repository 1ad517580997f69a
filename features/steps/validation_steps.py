"""Steps for validation.feature: refusals that write nothing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from behave import given, then, when
from common_steps import attempt, git, stored_objects, unescape

from gitplan import ToolInvocation

ROOT = Path(__file__).resolve().parents[2]


def _objects(context) -> str:  # type: ignore[no-untyped-def]
    return stored_objects(context)


@given("I remember the object count")
def object_count(context):  # type: ignore[no-untyped-def]
    context.objects = _objects(context)
    context.refs = git(context, "for-each-ref")


@then("no object or ref was written")
def nothing_written(context):  # type: ignore[no-untyped-def]
    assert _objects(context) == context.objects, "objects were written"
    assert git(context, "for-each-ref") == context.refs, "refs changed"


@when('I try to create plan with id "{plan}"')
@when('I try to create plan with id ""')
def create_with_id(context, plan=""):  # type: ignore[no-untyped-def]
    attempt(context, lambda: context.store.create(plan))


@when('I try to create plan "{plan}" on base "{base}"')
def create_on_base(context, plan, base):  # type: ignore[no-untyped-def]
    attempt(context, lambda: context.store.create(plan, base=base))


@when('I record path "{path}" in "{plan}"')
def record_path(context, path, plan):  # type: ignore[no-untyped-def]
    decoded = os.fsdecode(unescape(path)) if "\\u" not in path else path.encode().decode("unicode_escape")
    attempt(context, lambda: context.store.record(plan, {decoded: b"x"}, ToolInvocation(tool="t")))


@when('I record a path {depth:d} directories deep in "{plan}"')
def record_deep_path(context, depth, plan):  # type: ignore[no-untyped-def]
    path = "d/" * depth + "f.txt"
    attempt(context, lambda: context.store.record(plan, {path: b"x"}, ToolInvocation(tool="t")))


@when('I delete "{path}" in "{plan}"')
def delete_missing(context, path, plan):  # type: ignore[no-untyped-def]
    attempt(context, lambda: context.store.record(plan, {path: None}, ToolInvocation(tool="t")))


@when('I record the patch "{patch}" in "{plan}"')
def record_patch(context, patch, plan):  # type: ignore[no-untyped-def]
    text = (ROOT / patch).read_bytes()

    def run():  # type: ignore[no-untyped-def]
        changes = context.store.patch_changes(plan, text, patch)
        return context.store.record(plan, changes, ToolInvocation(tool="patch"))

    attempt(context, run)


@when('I record with an empty tool name in "{plan}"')
def empty_tool(context, plan):  # type: ignore[no-untyped-def]
    attempt(context, lambda: context.store.record(plan, {"a": b"x"}, ToolInvocation(tool="")))


@then('the tip of "{plan}" has the tree git apply --cached makes from "{patch}"')
def same_as_git_apply(context, plan, patch):  # type: ignore[no-untyped-def]
    index = Path(context.tmp) / "apply-index"
    env = {**__import__("os").environ, "GIT_INDEX_FILE": str(index)}
    subprocess.run(["git", "read-tree", "HEAD"], cwd=context.repo, env=env, check=True)
    applied = subprocess.run(
        ["git", "apply", "--cached", str(ROOT / patch)],
        cwd=context.repo,
        env=env,
        capture_output=True,
        text=True,
    )
    assert applied.returncode == 0, applied.stderr
    tree = subprocess.run(
        ["git", "write-tree"], cwd=context.repo, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    ours = git(context, "rev-parse", f"refs/changesets/{plan}^{{tree}}").strip()
    assert ours == tree, git(context, "diff", "--stat", tree, ours)


@when("I build {what} with {value}")
def build_bad(context, what, value):  # type: ignore[no-untyped-def]
    from gitplan import File

    parsed = eval(value)  # noqa: S307 - literals from the feature table
    store = context.store
    builders = {
        "file data": lambda: File(parsed),
        "file mode": lambda: File(b"x", parsed),
        "tool name": lambda: ToolInvocation(tool=parsed),
        "actor": lambda: ToolInvocation(tool="t", actor=parsed),
        "arguments": lambda: ToolInvocation(tool="t", arguments=parsed),
        "status": lambda: ToolInvocation(tool="t", status=parsed),
        "invocation id": lambda: ToolInvocation(tool="t", invocation_id=parsed),
        "changes mapping": lambda: store.record("v", parsed, ToolInvocation(tool="t")),
        "change content": lambda: store.record("v", parsed, ToolInvocation(tool="t")),
        "invocation": lambda: store.record("v", {"a": b"x"}, parsed),
        "empty path": lambda: store.record("v", parsed, ToolInvocation(tool="t")),
        "title": lambda: store.create("w", title=parsed),
        "recorded arguments": lambda: store.record(
            "v", {"a": b"x"}, ToolInvocation(tool="t", arguments=parsed)
        ),
    }
    attempt(context, builders[what])
