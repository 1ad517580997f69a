"""Steps for cancel.feature: refs gone, own objects pruned, nothing else lost."""

from __future__ import annotations

import subprocess
from pathlib import Path

from behave import given, then, when
from common_steps import attempt, git, unescape


def _blob_id(context, content: str) -> str:  # type: ignore[no-untyped-def]
    return (
        subprocess.run(
            ["git", "hash-object", "--stdin"],
            cwd=context.repo,
            input=unescape(content),
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )


@when('I cancel "{plan}"')
def cancel(context, plan):  # type: ignore[no-untyped-def]
    attempt(context, lambda: context.store.cancel(plan))


@then('the blob "{content}" is gone from the object store')
def blob_gone(context, content):  # type: ignore[no-untyped-def]
    oid = _blob_id(context, content)
    result = subprocess.run(["git", "cat-file", "-e", oid], cwd=context.repo)
    assert result.returncode != 0, f"{oid} still present"


@then('the blob "{content}" is still in the object store')
def blob_kept(context, content):  # type: ignore[no-untyped-def]
    oid = _blob_id(context, content)
    result = subprocess.run(["git", "cat-file", "-e", oid], cwd=context.repo)
    assert result.returncode == 0, f"{oid} was pruned"


@then("the report says some objects were pruned")
def pruned(context):  # type: ignore[no-untyped-def]
    assert context.error is None, context.error
    assert context.result.objects_pruned > 0, context.result
    assert "refs/changesets/c1" in context.result.refs_deleted


@given('the user commits "{path}" with content "{content}" on main')
def user_commits(context, path, content):  # type: ignore[no-untyped-def]
    (Path(context.repo) / path).write_bytes(unescape(content))
    git(context, "add", path)
    git(context, "commit", "-q", "-m", "user commit")


@given('the user stages "{path}" with content "{content}"')
def user_stages(context, path, content):  # type: ignore[no-untyped-def]
    (Path(context.repo) / path).write_bytes(unescape(content))
    git(context, "add", path)


@given("git gc has packed everything")
def gc(context):  # type: ignore[no-untyped-def]
    git(context, "gc", "-q")
