"""Steps for fidelity.feature: a generated 320-commit history, diffed by gitplan and by git."""

from __future__ import annotations

import os
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

from behave import given, then, when
from diff_steps import _git_diff, _options

from gitplan import File, PlanStore, ToolInvocation

ROOT = Path(__file__).resolve().parents[2]


def _git_bytes(context, *args: str) -> bytes:  # type: ignore[no-untyped-def]
    return subprocess.run(["git", *args], cwd=context.repo, capture_output=True, check=True).stdout


@given("the generated history is imported into a new repository")
def import_history(context):  # type: ignore[no-untyped-def]
    context.repo = os.path.join(context.tmp, "history")
    subprocess.run(["git", "init", "-q", context.repo], check=True)
    stream = subprocess.run(
        [sys.executable, str(ROOT / "tests-data" / "history" / "make_history.py")],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["git", "fast-import", "--quiet"], cwd=context.repo, input=stream, check=True)
    context.commits = _git_bytes(context, "rev-list", "--reverse", "main").decode().split()
    assert len(context.commits) >= 300, len(context.commits)


@given('every commit of it is recorded as a changeset of plan "{plan}"')
def record_history(context, plan):  # type: ignore[no-untyped-def]
    store = PlanStore.open(context.repo)
    store.create(plan, base=context.commits[0])
    for old, new in pairwise(context.commits):
        listed = _git_bytes(context, "diff-tree", "-r", "-z", "--no-renames", old, new).split(b"\0")
        changes: dict[str, File | None] = {}
        for meta, raw_path in zip(listed[0::2], listed[1::2], strict=False):
            if not meta:
                continue
            _, new_mode, _, new_id, status = meta.decode().lstrip(":").split()
            path = os.fsdecode(raw_path)
            if status == "D":
                changes[path] = None
            else:
                changes[path] = File(_git_bytes(context, "cat-file", "blob", new_id), int(new_mode, 8))
        store.record(plan, changes, ToolInvocation(tool="history"))
    context.store = store
    context.plan = plan


@then("every changeset's diff equals git diff between its commits, with each of")
def every_changeset(context):  # type: ignore[no-untyped-def]
    differing = []
    for row in context.table:
        options, args = _options(row["options"])
        for number, (old, new) in enumerate(pairwise(context.commits), start=1):
            ours = context.store.diff(context.plan, number, options)
            theirs = _git_diff(context, args, old, new)
            if options.binary and "\ndelta " in theirs:
                # git chose a delta encoding, which gitplan does not write: ours must apply alike.
                if not _applies_to(context, ours, old, new):
                    differing.append((row["options"], number, new[:12]))
            elif ours != theirs:
                differing.append((row["options"], number, new[:12]))
    assert not differing, f"{len(differing)} differ: {differing[:10]}"


def _applies_to(context, patch: str, old: str, new: str) -> bool:  # type: ignore[no-untyped-def]
    """Whether `git apply --cached` of `patch` on commit `old` gives commit `new`'s tree."""
    environment = dict(os.environ, GIT_INDEX_FILE=os.path.join(context.tmp, "apply-index"))
    run = {"cwd": context.repo, "env": environment, "capture_output": True}
    subprocess.run(["git", "read-tree", old], check=True, **run)  # type: ignore[call-overload]
    applied = subprocess.run(  # type: ignore[call-overload]
        ["git", "apply", "--cached"], input=patch.encode("utf-8", "surrogateescape"), **run
    )
    tree = subprocess.run(["git", "write-tree"], **run).stdout.decode().strip()  # type: ignore[call-overload]
    return (
        applied.returncode == 0
        and tree == _git_bytes(context, "rev-parse", f"{new}^{{tree}}").decode().strip()
    )


@when('every commit\'s git diff --binary is recorded as a patch into plan "{plan}"')
def record_patches(context, plan):  # type: ignore[no-untyped-def]
    store = PlanStore.open(context.repo)
    store.create(plan, base=context.commits[0])
    context.recorded = []
    for old, new in pairwise(context.commits):
        patch = _git_bytes(context, "diff", "--binary", old, new)
        if not patch:
            continue  # a commit that changed nothing
        store.record(plan, store.patch_changes(plan, patch), ToolInvocation(tool="patch"))
        context.recorded.append(new)
    context.store = store
    context.plan = plan


@then('after each changeset the tip tree of "{plan}" is the tree of the matching commit')
def trees_match(context, plan):  # type: ignore[no-untyped-def]
    commits = [c.commit for c in context.store.changesets(plan)]
    assert len(commits) == len(context.recorded) >= 290, len(commits)
    for ours, theirs in zip(commits, context.recorded, strict=True):
        mine = _git_bytes(context, "rev-parse", f"{ours}^{{tree}}")
        expected = _git_bytes(context, "rev-parse", f"{theirs}^{{tree}}")
        assert mine == expected, (ours, theirs)
