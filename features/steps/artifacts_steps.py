"""Steps for artifacts.feature: notes damaged by hand, exports checked with git am."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from behave import given, then, when
from common_steps import git

from gitplan import ToolInvocation


def _commit(context, plan: str, number: int) -> str:  # type: ignore[no-untyped-def]
    return context.store.changesets(plan)[number - 1].commit


@then('the invocation records of "{plan}" have tools "{tools}" and numbers "{numbers}"')
def records(context, plan, tools, numbers):  # type: ignore[no-untyped-def]
    found = context.store.changesets(plan)
    assert [c.tool for c in found] == tools.split(",")
    assert [str(c.number) for c in found] == numbers.split(",")
    assert all(c.record and c.record.invocation.actor == "agent" for c in found)
    assert all(c.record and c.record.invocation.status == "ok" for c in found)


@given('the note of changeset {number:d} of "{plan}" is removed with git notes')
def remove_note(context, number, plan):  # type: ignore[no-untyped-def]
    git(context, "notes", f"--ref=changesets/{plan}", "remove", _commit(context, plan, number))


@given('the note of changeset {number:d} of "{plan}" is replaced by "{text}"')
def replace_note(context, number, plan, text):  # type: ignore[no-untyped-def]
    git(
        context,
        "notes",
        f"--ref=changesets/{plan}",
        "add",
        "-f",
        "-m",
        text,
        _commit(context, plan, number),
    )


@given('the note of changeset {number:d} of "{plan}" is replaced by')
def replace_note_text(context, number, plan):  # type: ignore[no-untyped-def]
    replace_note(context, number, plan, context.text)


@then('the status of "{plan}" reports "{text}"')
def status_reports(context, plan, text):  # type: ignore[no-untyped-def]
    status = context.store.status(plan)
    assert any(text in problem for problem in status.missing_artifacts), status.missing_artifacts


@then('the status of "{plan}" reports nothing missing')
def nothing_missing(context, plan):  # type: ignore[no-untyped-def]
    assert context.store.status(plan).missing_artifacts == ()


@then('the diff of "{plan}" still works')
def diff_works(context, plan):  # type: ignore[no-untyped-def]
    assert "diff --git" in context.store.diff(plan)


@when('I export the artifacts of "{plan}"')
def export(context, plan):  # type: ignore[no-untyped-def]
    context.export = os.path.join(context.tmp, f"export-{plan}")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gitplan",
            "-C",
            context.repo,
            "artifacts",
            plan,
            "--export",
            context.export,
        ],
        capture_output=True,
        text=True,
    )
    context.export_code = result.returncode
    assert result.returncode in (0, 5), result.stderr  # 5: a record is missing, the rest is written


@then("git am applies the exported patches onto a new branch")
def git_am(context):  # type: ignore[no-untyped-def]
    patches = sorted(str(p) for p in Path(context.export).glob("*.patch"))
    git(context, "checkout", "-q", "-b", "from-am")
    git(context, "am", "-q", *patches)
    assert git(context, "rev-parse", "HEAD^{tree}") == git(context, "rev-parse", "refs/changesets/a^{tree}")


@then("the export holds {count:d} invocation records as JSON lines")
def jsonl(context, count):  # type: ignore[no-untyped-def]
    lines = (Path(context.export) / "invocations.jsonl").read_text().splitlines()
    assert len(lines) == count and all(json.loads(line)["tool"] for line in lines)


@then("git am of the exported patches in a plain clone rebuilds the plan's tip tree")
def git_am_clone(context):  # type: ignore[no-untyped-def]
    clone = os.path.join(context.tmp, "clone")
    subprocess.run(["git", "clone", "-q", "--no-local", context.repo, clone], check=True)
    missing = subprocess.run(["git", "cat-file", "-e", "refs/changesets/a"], cwd=clone, capture_output=True)
    assert missing.returncode != 0, "the clone should not have the plan"
    patches = sorted(str(p) for p in Path(context.export).glob("*.patch"))
    done = subprocess.run(["git", "am", "-q", *patches], cwd=clone, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert git(context, "rev-parse", "HEAD^{tree}", repo=clone) == git(
        context, "rev-parse", "refs/changesets/a^{tree}"
    )


@then('the exported patch of changeset {number:d} holds "{text}"')
def exported_patch_holds(context, number, text):  # type: ignore[no-untyped-def]
    wanted = text.encode().decode("unicode_escape")
    found = [p for p in Path(context.export).glob("*.patch") if f"[PATCH {number}/" in p.read_text()]
    assert len(found) == 1, sorted(p.name for p in Path(context.export).glob("*.patch"))
    assert wanted in found[0].read_text(), found[0].read_text()[:2000]


@given('a changeset with no edits is recorded in "{plan}", as a failed run records it')
def empty_changeset(context, plan):  # type: ignore[no-untyped-def]
    context.store.record(plan, {}, ToolInvocation(tool="failed", status="error", exit_code=3))


@then("the export exited {code:d}")
def export_code(context, code):  # type: ignore[no-untyped-def]
    assert context.export_code == code, context.export_code


@then(
    'each exported patch is what git format-patch (full-index, binary, gitplan signature) writes of "{plan}"'
)
def export_is_format_patch(context, plan):  # type: ignore[no-untyped-def]
    ours = sorted(Path(context.export).glob("*.patch"))
    theirs = Path(context.tmp) / f"format-patch-{plan}"
    count = len(context.store.changesets(plan))
    plan_range = f"refs/changesets/{plan}~{count}..refs/changesets/{plan}"
    git(
        context,
        "format-patch",
        "-q",
        "--full-index",
        "--binary",
        "--signature=gitplan",
        "-o",
        str(theirs),
        plan_range,
    )
    expected = sorted(theirs.glob("*.patch"))
    assert len(ours) == len(expected) == count, (ours, expected)
    for mine, git_s in zip(ours, expected, strict=True):
        assert mine.read_bytes() == git_s.read_bytes(), (mine.read_text(), git_s.read_text())
