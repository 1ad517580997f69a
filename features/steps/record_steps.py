"""Steps for record.feature: what a recorded plan looks like to git."""

from __future__ import annotations

import json
import subprocess

from behave import given, then, when
from common_steps import attempt, git, unescape

from gitplan import File, PlanStore, ToolInvocation


@then('plan "{plan}" has {count:d} changesets')
def changeset_count(context, plan, count):  # type: ignore[no-untyped-def]
    assert context.store.status(plan).changesets == count
    assert len(context.store.changesets(plan)) == count


@then('git log of "{ref}" shows a root commit "{subject}" on HEAD')
def root_commit(context, ref, subject):  # type: ignore[no-untyped-def]
    assert git(context, "log", "-1", "--format=%s", ref).strip() == subject
    assert git(context, "rev-parse", f"{ref}^").strip() == git(context, "rev-parse", "HEAD").strip()
    assert git(context, "rev-parse", f"{ref}^{{tree}}") == git(context, "rev-parse", "HEAD^{tree}")


@then('the plan record note of "{plan}" has state "{state}"')
def plan_record_state(context, plan, state):  # type: ignore[no-untyped-def]
    root = git(context, "rev-list", "--reverse", f"refs/changesets/{plan}", "^HEAD").split()[0]
    note = json.loads(git(context, "notes", f"--ref=changesets/{plan}", "show", root))
    assert note["state"] == state and note["schema"] == "gitplan.plan/1", note


@then('the tip of "{plan}" holds "{path}" as "{content}"')
def tip_holds(context, plan, path, content):  # type: ignore[no-untyped-def]
    data = subprocess.run(
        ["git", "cat-file", "blob", f"refs/changesets/{plan}:{path}"],
        cwd=context.repo,
        capture_output=True,
        check=True,
    ).stdout  # bytes: text mode would turn CRLF into LF
    assert data == unescape(content), data


@then('the tip of "{plan}" holds "{path}" as HEAD does')
def tip_holds_head(context, plan, path):  # type: ignore[no-untyped-def]
    tip = git(context, "rev-parse", f"refs/changesets/{plan}:{path}")
    assert tip == git(context, "rev-parse", f"HEAD:{path}"), tip


@then('the tip of "{plan}" has no "{path}"')
def tip_lacks(context, plan, path):  # type: ignore[no-untyped-def]
    assert git(context, "ls-tree", f"refs/changesets/{plan}", path).strip() == ""


@then('git notes show for changeset {number:d} of "{plan}" has tool "{tool}" and {files:d} files')
def notes_show(context, number, plan, tool, files):  # type: ignore[no-untyped-def]
    commits = git(context, "rev-list", "--reverse", f"refs/changesets/{plan}", "^HEAD").split()
    note = json.loads(git(context, "notes", f"--ref=changesets/{plan}", "show", commits[number]))
    assert note["schema"] == "gitplan.invocation/1"
    assert note["tool"] == tool and len(note["files"]) == files, note
    assert note["changeset"] == number


@then('git log --notes shows "{text}" for "{plan}"')
def log_notes(context, text, plan):  # type: ignore[no-untyped-def]
    shown = git(context, "log", "--notes=changesets/*", f"refs/changesets/{plan}")
    assert f'"tool": "{text}"' in shown, shown


@then('the changesets of "{plan}" are numbered 1 to {last:d} with tools "{tools}"')
def numbered(context, plan, last, tools):  # type: ignore[no-untyped-def]
    changesets = context.store.changesets(plan)
    assert [c.number for c in changesets] == list(range(1, last + 1))
    assert [c.tool for c in changesets] == tools.split(",")
    messages = git(context, "log", "--format=%B%x00", f"refs/changesets/{plan}", "^HEAD")
    for number in range(1, last + 1):
        assert f"Changeset: {number}\n" in messages


@when('I record in "{plan}" from changeset {parent:d} with tool "{tool}"')
def record_from_parent(context, plan, parent, tool):  # type: ignore[no-untyped-def]
    changes = {row["path"]: unescape(row["content"]) for row in context.table}
    attempt(
        context,
        lambda: context.store.record(plan, changes, ToolInvocation(tool=tool), parent=parent),
    )


@given('I record files with modes in "{plan}"')
@when('I record files with modes in "{plan}"')
def record_modes(context, plan):  # type: ignore[no-untyped-def]
    context.store.record(
        plan,
        {
            "run.sh": File(b"#!/bin/sh\necho hi\n", 0o100755),
            "link": File(b"README.md", 0o120000),
        },
        ToolInvocation(tool="write_file"),
    )


@then('git ls-tree of the tip of "{plan}" shows mode "{mode}" for "{path}"')
def ls_tree_mode(context, plan, mode, path):  # type: ignore[no-untyped-def]
    line = git(context, "ls-tree", f"refs/changesets/{plan}", path)
    assert line.startswith(mode), line


@then('the tree of "README.md"\'s directory is shared: the tip of "{plan}" reuses the base blob for "{path}"')
def shared_blob(context, plan, path):  # type: ignore[no-untyped-def]
    assert git(context, "rev-parse", f"refs/changesets/{plan}:{path}") == git(
        context, "rev-parse", f"HEAD:{path}"
    )


@then('git notes show for changeset {number:d} of "{plan}" records "{path}" renamed from "{old}"')
def note_rename(context, number, plan, path, old):  # type: ignore[no-untyped-def]
    commits = git(context, "rev-list", "--reverse", f"refs/changesets/{plan}", "^HEAD").split()
    note = json.loads(git(context, "notes", f"--ref=changesets/{plan}", "show", commits[number]))
    assert note["files"] == [
        {"path": path, "old_path": old, "change": "renamed", "additions": 0, "deletions": 0}
    ], note["files"]


@given('the base commit has a submodule entry "{path}"')
def submodule_entry(context, path):  # type: ignore[no-untyped-def]
    head = git(context, "rev-parse", "HEAD").strip()
    git(context, "update-index", "--add", "--cacheinfo", f"160000,{head},{path}")
    git(context, "commit", "-q", "-m", "add a submodule entry")


@then('the record of the last changeset of "{plan}" says "{path}" was deleted with {count:d} deletion')
def deleted_gitlink(context, plan, path, count):  # type: ignore[no-untyped-def]
    record = PlanStore.open(context.repo).changesets(plan)[-1].record
    assert record is not None
    (change,) = [f for f in record.files if f.path == path]
    assert change.kind == "deleted" and change.deletions == count and not change.binary, change


@then('the file "{path}" in the repository has {count:d} line')
@then('the file "{path}" in the repository has {count:d} lines')
def repository_file_lines(context, path, count):  # type: ignore[no-untyped-def]
    from pathlib import Path

    lines = (Path(context.repo) / path).read_text().splitlines()
    assert len(lines) == count, lines
