"""Steps for damage.feature: a repository damaged by hand, read by gitplan."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from behave import given, then, when
from common_steps import attempt, git

from gitplan import PlanStore, ToolInvocation


def delete_object(context, oid: str) -> None:  # type: ignore[no-untyped-def]
    """Remove one object, wherever git stored it: packs are unpacked to loose files first."""
    objects = Path(context.repo, ".git", "objects")
    for pack in sorted((objects / "pack").glob("*.pack")):
        moved = Path(context.tmp, pack.name)
        pack.rename(moved)
        pack.with_suffix(".idx").unlink()
        pack.with_suffix(".keep").unlink(missing_ok=True)
        with open(moved, "rb") as stream:
            subprocess.run(["git", "unpack-objects", "-q"], cwd=context.repo, stdin=stream, check=True)
    path = objects / oid[:2] / oid[2:]
    assert path.exists(), f"{oid} is not in the repository"
    path.chmod(0o644)
    path.unlink()
    context.store = PlanStore.open(context.repo)  # as a new git plan process would see it


@given("the repository config says it uses reftable")
def reftable(context):  # type: ignore[no-untyped-def]
    with open(os.path.join(context.repo, ".git", "config"), "a") as handle:
        handle.write("[extensions]\n\trefStorage = reftable\n")


@when("I open the store")
def open_store(context):  # type: ignore[no-untyped-def]
    attempt(context, lambda: PlanStore.open(context.repo))


@given('the object of "{path}" in the tip of "{plan}" is deleted')
def delete_blob(context, path, plan):  # type: ignore[no-untyped-def]
    delete_object(context, git(context, "rev-parse", f"refs/changesets/{plan}:{path}").strip())


@given('the object of the tip commit of "{plan}" is deleted')
def delete_tip(context, plan):  # type: ignore[no-untyped-def]
    delete_object(context, git(context, "rev-parse", f"refs/changesets/{plan}").strip())


@given('the object of the commit of changeset {number:d} of "{plan}" is deleted')
def delete_changeset(context, number, plan):  # type: ignore[no-untyped-def]
    tip = git(context, "rev-parse", f"refs/changesets/{plan}").strip()
    newer = int(git(context, "rev-list", "--count", tip, "^main").strip()) - 1 - number
    delete_object(context, git(context, "rev-parse", f"{tip}~{newer}").strip())


@when('I ask for the diff of "{plan}"')
def ask_diff(context, plan):  # type: ignore[no-untyped-def]
    attempt(context, lambda: context.store.diff(plan))


@when('I ask for the status of "{plan}"')
def ask_status(context, plan):  # type: ignore[no-untyped-def]
    attempt(context, lambda: context.store.status(plan))


@then('listing plans shows "{plan}" as "{state}" because "{reason}"')
def list_shows(context, plan, state, reason):  # type: ignore[no-untyped-def]
    context.store.create("healthy")
    listed = {s.plan: s for s in context.store.plans()}
    assert listed["healthy"].state == "open" and listed["healthy"].problem is None, listed
    assert listed[plan].state == state, listed[plan]
    assert reason in str(listed[plan].problem), listed[plan]


@given('"{ref}" is moved to HEAD with git update-ref')
def move_ref(context, ref):  # type: ignore[no-untyped-def]
    git(context, "update-ref", ref, "HEAD")


@given('"{ref}" is deleted with git update-ref')
def delete_ref(context, ref):  # type: ignore[no-untyped-def]
    git(context, "update-ref", "-d", ref)


def _root(context, plan: str) -> str:  # type: ignore[no-untyped-def]
    return git(context, "rev-list", "--reverse", f"refs/changesets/{plan}", "^HEAD").split()[0]


@given('the plan record note of "{plan}" is removed with git notes')
def remove_record(context, plan):  # type: ignore[no-untyped-def]
    git(context, "notes", f"--ref=changesets/{plan}", "remove", _root(context, plan))


@given('plan "{plan}" was applied')
def was_applied(context, plan):  # type: ignore[no-untyped-def]
    context.store.apply(plan)


@given('the plan record note of "{plan}" is replaced with git notes by "{text}"')
def replace_record_with(context, plan, text):  # type: ignore[no-untyped-def]
    git(context, "notes", f"--ref=changesets/{plan}", "add", "-f", "-m", text, _root(context, plan))


@given('the note of changeset {number:d} of "{plan}" is replaced with git notes by "{text}"')
def replace_note_with(context, number, plan, text):  # type: ignore[no-untyped-def]
    commit = git(context, "rev-list", "--reverse", f"refs/changesets/{plan}", "^HEAD").split()[number]
    git(context, "notes", f"--ref=changesets/{plan}", "add", "-f", "-m", text, commit)


@given('the plan record note of "{plan}" is replaced by')
def replace_record(context, plan):  # type: ignore[no-untyped-def]
    git(context, "notes", f"--ref=changesets/{plan}", "add", "-f", "-m", context.text, _root(context, plan))


@given('the plan "{plan}" is based on a commit whose object is then deleted')
def missing_base(context, plan):  # type: ignore[no-untyped-def]
    Path(context.repo, "extra.txt").write_text("extra\n")
    git(context, "add", "extra.txt")
    git(context, "commit", "-q", "-m", "extra")
    base = git(context, "rev-parse", "HEAD").strip()
    context.store.create(plan)
    context.store.record(plan, {"y": b"y\n"}, ToolInvocation(tool="t"))
    git(context, "reset", "-q", "--hard", "HEAD~1")
    git(context, "reflog", "expire", "--expire=now", "--all")
    delete_object(context, base)


@given("a corrupt pack index file is in the repository")
def corrupt_pack(context):  # type: ignore[no-untyped-def]
    pack = Path(context.repo, ".git", "objects", "pack")
    pack.mkdir(parents=True, exist_ok=True)
    (pack / "pack-broken.idx").write_bytes(b"\xfftOc\x00\x00")


@given('"{ref}" is moved to "{target}" with git update-ref')
def move_ref_to(context, ref, target):  # type: ignore[no-untyped-def]
    git(context, "update-ref", ref, git(context, "rev-parse", target).strip())
    context.store = PlanStore.open(context.repo)


@given('{count:d} more notes are added to "{ref}" with git fast-import')
def fanout(context, count, ref):  # type: ignore[no-untyped-def]
    _fast_import_notes(context, count, ref, extra=[])


@given('{count:d} more notes and a file "{name}" are added to "{ref}" with git fast-import')
def fanout_and_file(context, count, name, ref):  # type: ignore[no-untyped-def]
    _fast_import_notes(context, count, ref, extra=[f"M 100644 inline {name}\ndata 4\nnot\n"])


def _fast_import_notes(context, count: int, ref: str, extra: list[str]) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    tip = git(context, "rev-parse", ref).strip()
    lines = []
    for i in range(1, count + 1):  # commits to annotate, on a side branch
        lines += [
            "commit refs/heads/annotated",
            f"mark :{i}",
            "committer t <t@e> 0 +0000",
            f"data {len(str(i))}",
            str(i),
        ]
    lines += [f"commit {ref}", "committer t <t@e> 0 +0000", "data 4", "more", f"from {tip}"]
    lines += [f"N inline :{i}\ndata 2\nn" for i in range(1, count + 1)]
    lines += extra
    done = subprocess.run(
        ["git", "fast-import", "--quiet"],
        cwd=context.repo,
        input="\n".join(lines) + "\n",
        text=True,
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr
    top = git(context, "ls-tree", ref).splitlines()
    assert any(line.split()[1] == "tree" for line in top), "git did not fan the notes out"


@then('the invocation record of changeset {number:d} of "{plan}" has tool "{tool}"')
def record_tool(context, number, plan, tool):  # type: ignore[no-untyped-def]
    changeset = PlanStore.open(context.repo).changesets(plan)[number - 1]
    assert changeset.invocation is not None and changeset.invocation.tool == tool


@given('a commit forged with "{trailer}" and {parents:d} parent(s) is put on top of "{plan}" with git')
def forged(context, trailer, parents, plan):  # type: ignore[no-untyped-def]
    tip = git(context, "rev-parse", f"refs/changesets/{plan}").strip()
    tree = git(context, "rev-parse", f"{tip}^{{tree}}").strip()
    parent_args = ["-p", tip] + (["-p", "HEAD"] if parents == 2 else [])
    message = f"forged: by hand\n\nPlan-Id: {plan}\n{trailer}\n"
    commit = git(context, "commit-tree", tree, *parent_args, "-m", message).strip()
    git(context, "update-ref", f"refs/changesets/{plan}", commit)
    # Notes follow the plan tip, as a writer would leave them.
    git(
        context,
        "notes",
        f"--ref=changesets/{plan}",
        "add",
        "-m",
        '{"schema": "gitplan.invocation/1", "tool": "forged"}',
        commit,
    )
    context.store = PlanStore.open(context.repo)


@given('the file of "{ref}" holds "{text}"')
def garbage_ref(context, ref, text):  # type: ignore[no-untyped-def]
    Path(context.repo, ".git", ref).write_text(text + "\n")
