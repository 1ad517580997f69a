"""Steps for repositories.feature: repositories configured the way users have them."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

from behave import given, then, when
from common_steps import git, unescape

from gitplan import PlanStore, ToolInvocation

PNG = bytes(range(256)) * 40 + b"\x00\x89PNG\r\n"


@given("the user sets the repository up with:")
def setup_script(context):  # type: ignore[no-untyped-def]
    done = subprocess.run(["sh", "-ec", context.text], cwd=context.repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    context.store = PlanStore.open(context.repo)


@then('git "{args}" prints "{text}"')
def git_prints(context, args, text):  # type: ignore[no-untyped-def]
    out = git(context, *shlex.split(args))
    assert unescape(text).decode() in out, out


@then('git "{args}" does not print "{text}"')
def git_does_not_print(context, args, text):  # type: ignore[no-untyped-def]
    out = git(context, *shlex.split(args))
    assert unescape(text).decode() not in out, out


@then('the worktree file "{path}" holds "{text}"')
def worktree_holds(context, path, text):  # type: ignore[no-untyped-def]
    data = (Path(context.repo) / path).read_bytes()
    assert unescape(text) in data, data


@then('the blobs of "{plan}" for "{paths}" are the ones git add stores')
def same_as_git_add(context, plan, paths):  # type: ignore[no-untyped-def]
    for path in paths.split():
        ours = git(context, "rev-parse", f"refs/changesets/{plan}:{path}").strip()
        theirs = git(context, "hash-object", "--", path).strip()
        assert ours == theirs, (path, ours, theirs)


@then('the last changeset of "{plan}" changed only "{path}"')
def changed_only(context, plan, path):  # type: ignore[no-untyped-def]
    ref = f"refs/changesets/{plan}"
    names = git(context, "diff", "--name-only", f"{ref}~1", ref).split()
    assert names == [path], names


@given('I record a binary file "{path}" in "{plan}"')
def record_binary(context, path, plan):  # type: ignore[no-untyped-def]
    context.store.record(plan, {path: PNG}, ToolInvocation(tool="render", actor="agent"))


@then("the error shows the command that brings the plan back")
def shows_restore(context):  # type: ignore[no-untyped-def]
    found = re.search(r"^  (git fetch .*)$", str(context.error), re.MULTILINE)
    assert found, str(context.error)
    context.restore = found.group(1)
    bundle = getattr(context.error, "rescue_bundle", None)
    assert bundle and Path(bundle).exists(), bundle


@when("I run the command the error shows")
def run_restore(context):  # type: ignore[no-untyped-def]
    done = subprocess.run(shlex.split(context.restore), cwd=context.repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@then('the binary file "{path}" in "{plan}" is whole')
def binary_whole(context, path, plan):  # type: ignore[no-untyped-def]
    data = subprocess.run(
        ["git", "cat-file", "blob", f"refs/changesets/{plan}:{path}"],
        cwd=context.repo,
        capture_output=True,
        check=True,
    ).stdout
    assert data == PNG


@then('the JSON output has "{field}" = "{value}" and "{other}" = "{paths}"')
def json_fields(context, field, value, other, paths):  # type: ignore[no-untyped-def]
    document = json.loads(context.cli.stdout)
    assert document[field] == value, document
    assert document[other] == paths.split(), document
