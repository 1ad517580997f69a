"""Repositories, the store and git checks shared by every area's steps."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from behave import given, then, when

from gitplan import PlanStore, ToolInvocation
from gitplan.errors import GitPlanError


def git(context, *args: str, check: bool = True, repo: str | None = None, data: str | None = None) -> str:  # type: ignore[no-untyped-def]
    result = subprocess.run(
        ["git", *args], cwd=repo or context.repo, input=data, capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def stored_objects(context) -> str:  # type: ignore[no-untyped-def]
    """Loose objects and packs in the repository, as `git count-objects -v` counts them."""
    found = git(context, "count-objects", "-v").splitlines()
    return " ".join(line for line in found if line.startswith(("count:", "packs:", "in-pack:")))


def unescape(text: str) -> bytes:
    return text.encode().decode("unicode_escape").encode("latin-1")


def attempt(context, action):  # type: ignore[no-untyped-def]
    context.error = None
    context.result = None
    try:
        context.result = action()
    except GitPlanError as error:
        context.error = error
    return context.result


def snapshot(context) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Everything outside the plans that gitplan must not touch."""
    refs = git(context, "for-each-ref", "--format=%(refname) %(objectname)")
    other = "\n".join(line for line in refs.splitlines() if "changesets" not in line)
    files = {}
    for path in sorted(Path(context.repo).rglob("*")):
        if ".git" in path.parts or not path.is_file():
            continue
        files[str(path.relative_to(context.repo))] = path.read_bytes().hex()
    index = Path(context.repo) / ".git" / "index"
    return {
        "HEAD": git(context, "rev-parse", "HEAD", check=False),
        "symbolic": git(context, "symbolic-ref", "-q", "HEAD", check=False),
        "refs": other,
        "index": git(context, "ls-files", "-s") if index.exists() else "",
        "files": json.dumps(files, sort_keys=True),
        "status": git(context, "status", "--porcelain"),
    }


@given("a repository with files")
def repository_with_files(context):  # type: ignore[no-untyped-def]
    context.repo = os.path.join(context.tmp, "repo")
    os.makedirs(context.repo)
    git(context, "init", "-q")
    for row in context.table:
        path = Path(context.repo) / row["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(unescape(row["content"]))
    git(context, "add", "-A")
    git(context, "commit", "-q", "-m", "initial")
    context.store = PlanStore.open(context.repo)


@given("an empty repository with one commit")
def empty_repo(context):  # type: ignore[no-untyped-def]
    context.repo = os.path.join(context.tmp, "repo")
    os.makedirs(context.repo)
    git(context, "init", "-q")
    git(context, "commit", "-q", "--allow-empty", "-m", "initial")
    context.store = PlanStore.open(context.repo)


@given('a plan "{plan}"')
@when('I create plan "{plan}"')
def create_plan(context, plan):  # type: ignore[no-untyped-def]
    context.store.create(plan, title=f"title of {plan}")


def _content(cell: str) -> bytes | None:
    """A table cell: `<delete>`, `<N bytes>` (N bytes of text lines), or escaped text."""
    if cell == "<delete>":
        return None
    if cell.startswith("<") and cell.endswith(" bytes>"):
        size = int(cell[1:].split()[0])
        return (b"text line\n" * (size // 10 + 1))[:size]
    return unescape(cell)


def _table_changes(context) -> dict[str, bytes | None]:  # type: ignore[no-untyped-def]
    return {row["path"]: _content(row["content"]) for row in context.table}


@given('I record in "{plan}" with tool "{tool}"')
def recorded_table(context, plan, tool):  # type: ignore[no-untyped-def]
    """A precondition: it must succeed."""
    context.store.record(plan, _table_changes(context), ToolInvocation(tool=tool, actor="agent"))


@when('I record in "{plan}" with tool "{tool}"')
def record_table(context, plan, tool):  # type: ignore[no-untyped-def]
    """The action under test: its error, if any, is kept for the Then steps."""
    changes = _table_changes(context)
    attempt(context, lambda: context.store.record(plan, changes, ToolInvocation(tool=tool, actor="agent")))


@given("I remember the user's state")
def remember(context):  # type: ignore[no-untyped-def]
    context.before = snapshot(context)


@then("the user's state is unchanged")
def unchanged(context):  # type: ignore[no-untyped-def]
    after = snapshot(context)
    for key, value in context.before.items():
        assert after[key] == value, f"{key} changed:\n{value}\n---\n{after[key]}"


@then("it fails with exit code {code:d}")
def fails_with(context, code):  # type: ignore[no-untyped-def]
    assert context.error is not None, f"expected an error, got {context.result!r}"
    assert context.error.exit_code == code, f"exit {context.error.exit_code}: {context.error}"


@then('the error mentions "{text}"')
def error_mentions(context, text):  # type: ignore[no-untyped-def]
    assert text in str(context.error), str(context.error)


@then('the error does not mention "{text}"')
def error_lacks(context, text):  # type: ignore[no-untyped-def]
    assert context.error is not None and text not in str(context.error), str(context.error)


@then("it succeeds")
def succeeds(context):  # type: ignore[no-untyped-def]
    assert context.error is None, f"unexpected error: {context.error}"


@then("git fsck --full is clean")
def fsck_clean(context):  # type: ignore[no-untyped-def]
    result = subprocess.run(
        ["git", "fsck", "--full", "--no-dangling"], cwd=context.repo, capture_output=True, text=True
    )
    assert result.returncode == 0 and "error" not in result.stderr, result.stderr


@then('git shows {count:d} commits on "{ref}"')
def git_count(context, count, ref):  # type: ignore[no-untyped-def]
    found = int(git(context, "rev-list", "--count", f"{ref}", "^HEAD").strip())
    assert found == count, found


@then('ref "{ref}" does not exist')
def ref_missing(context, ref):  # type: ignore[no-untyped-def]
    result = subprocess.run(
        ["git", "rev-parse", "--verify", "-q", ref],
        cwd=context.repo,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0, f"{ref} still exists"


# Code that makes a Python process print its own peak memory as it exits ("peak N", in KiB):
# the high-water mark of its own memory (VmHWM), which starts afresh at exec, where
# ru_maxrss keeps that of the process it was forked from (behave, hundreds of MB).
REPORT_PEAK = (
    "import atexit, sys\n"
    "def _report_peak():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            sys.stderr.write('peak %s\\n' % line.split()[1])\n"
    "atexit.register(_report_peak)\n"
)
