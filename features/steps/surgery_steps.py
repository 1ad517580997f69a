"""Steps for surgery.feature: rewind, drop, branch and undo, checked with the git binary."""

from __future__ import annotations

import ast
import json
import os
import shlex
import subprocess
import time
from pathlib import Path

from behave import given, then, when
from click.testing import CliRunner
from common_steps import attempt, git, stored_objects
from damage_steps import delete_object

from gitplan import PlanStore, ToolInvocation, faults
from gitplan.cli import main
from gitplan.errors import GitPlanError


def _refs(context, plan: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    return (
        git(context, "rev-parse", f"refs/changesets/{plan}").strip(),
        git(context, "rev-parse", f"refs/notes/changesets/{plan}").strip(),
    )


@given('I remember the refs of "{plan}"')
def remember_refs(context, plan):  # type: ignore[no-untyped-def]
    context.remembered_refs = _refs(context, plan)


@then('the refs of "{plan}" are as I remembered them')
def refs_as_remembered(context, plan):  # type: ignore[no-untyped-def]
    assert _refs(context, plan) == context.remembered_refs, (_refs(context, plan), context.remembered_refs)


@given("I count the objects")
def count_objects(context):  # type: ignore[no-untyped-def]
    context.objects_before = stored_objects(context)


@then("no object was written")
def no_object_written(context):  # type: ignore[no-untyped-def]
    now = stored_objects(context)
    assert now == context.objects_before, (now, context.objects_before)


@then('plan "{plan}" has the tools "{tools}"')
@then('plan "{plan}" has the tools ""')
def has_tools(context, plan, tools=""):  # type: ignore[no-untyped-def]
    changesets = context.store.changesets(plan)
    assert [c.tool for c in changesets] == tools.split(), [c.tool for c in changesets]
    assert [c.number for c in changesets] == list(range(1, len(changesets) + 1))
    assert all(c.problem is None and c.record is not None for c in changesets), changesets
    assert all(c.record.extra.get("plan_id") == plan for c in changesets if c.record)
    assert [c.record.extra.get("changeset") for c in changesets if c.record] == [c.number for c in changesets]


@then('the notes commit of "{plan}" names the plan tip')
def notes_name_tip(context, plan):  # type: ignore[no-untyped-def]
    tip, notes = _refs(context, plan)
    message = git(context, "log", "-1", "--format=%B", notes)
    assert f"Plan-Tip: {tip}" in message, message


@then('"{ref}" has the same tree as "{other}"')
def same_tree(context, ref, other):  # type: ignore[no-untyped-def]
    ours = git(context, "rev-parse", f"{ref}^{{tree}}").strip()
    theirs = git(context, "rev-parse", f"{other}^{{tree}}").strip()
    assert ours == theirs, (ours, theirs)


@then('"{ref}" is the same commit as "{other}"')
def same_commit(context, ref, other):  # type: ignore[no-untyped-def]
    assert git(context, "rev-parse", ref) == git(context, "rev-parse", other)


@then('the surgery JSON says "{field}" is "{value}"')
def surgery_json(context, field, value):  # type: ignore[no-untyped-def]
    document = json.loads(context.cli.stdout)
    found = document[field]
    shown = " ".join(map(str, found)) if isinstance(found, list) else str(found)
    assert shown == value, document


@then('the JSON changesets have "branched_from" from plan "{plan}" changesets "{numbers}"')
def json_branched_from(context, plan, numbers):  # type: ignore[no-untyped-def]
    document = json.loads(context.cli.stdout)
    origins = [item["branched_from"] for item in document["changesets"]]
    assert [o["plan"] for o in origins] == [plan] * len(origins), origins
    assert [str(o["changeset"]) for o in origins] == numbers.split(), origins
    for origin in origins:
        found = git(context, "log", "-1", "--format=%B", origin["commit"])
        assert f"Changeset: {origin['changeset']}" in found and f"Plan-Id: {plan}" in found, found


@when('I drop changesets "{numbers}" of "{plan}" through the API')
def drop_api(context, numbers, plan):  # type: ignore[no-untyped-def]
    attempt(context, lambda: context.store.drop(plan, [int(n) for n in numbers.split()]))


@then('the error names the paths "{paths}"')
def error_paths(context, paths):  # type: ignore[no-untyped-def]
    assert tuple(context.error.paths) == tuple(paths.split()), context.error.paths


def _racer(context, plan: str):  # type: ignore[no-untyped-def]
    return lambda: context.store.record(plan, {"racer.txt": b"race\n"}, ToolInvocation("racer"))


@when('a record into "{plan}" runs just before the rewind of "{plan2}" to {n:d} moves the refs')
def record_before_rewind(context, plan, plan2, n):  # type: ignore[no-untyped-def]
    with faults.at("transaction.before-swap", _racer(context, plan)):
        attempt(context, lambda: context.store.rewind(plan2, n))


@then("the rewind failed with exit code {code:d}")
def rewind_failed(context, code):  # type: ignore[no-untyped-def]
    assert context.error is not None and context.error.exit_code == code, (context.error, context.result)


@when('the rewind of "{plan}" to {n:d} runs just before a record into "{plan2}" publishes')
def rewind_before_record(context, plan, n, plan2):  # type: ignore[no-untyped-def]
    context.rewound = None

    def rewind() -> None:
        context.rewound = context.store.rewind(plan, n)

    with faults.at("transaction.before-publish", rewind):
        attempt(context, _racer(context, plan2))


@then("the record succeeded")
def record_succeeded(context):  # type: ignore[no-untyped-def]
    assert context.error is None and context.rewound is not None, context.error
    assert context.result.number == context.rewound.changesets + 1, context.result


# -- inputs the CLI cannot send, through the Python API --------------------------------


@when('I rewind "{plan}" to {value} through the API')
def rewind_api(context, plan, value):  # type: ignore[no-untyped-def]
    attempt(context, lambda: context.store.rewind(plan, ast.literal_eval(value)))


@when('I drop the changesets {values} of "{plan}" through the API')
def drop_list_api(context, values, plan):  # type: ignore[no-untyped-def]
    attempt(context, lambda: context.store.drop(plan, ast.literal_eval(values)))


@when('I branch "{plan}" into "{new}" titled {title} through the API')
def branch_titled_api(context, plan, new, title):  # type: ignore[no-untyped-def]
    attempt(context, lambda: context.store.branch(plan, new, title=ast.literal_eval(title)))


@given('I record a changeset without file changes in "{plan}" with tool "{tool}"')
def record_nothing(context, plan, tool):  # type: ignore[no-untyped-def]
    context.store.record(plan, {}, ToolInvocation(tool=tool, actor="agent"))


# -- the journal and the repository, changed by hand ------------------------------------


def _journal(context, plan: str) -> Path:  # type: ignore[no-untyped-def]
    return Path(context.repo, ".git", "gitplan", "surgery", plan)


@given('the undo journal of "{plan}" gets these lines')
def journal_lines(context, plan):  # type: ignore[no-untyped-def]
    with _journal(context, plan).open("a") as stream:
        stream.write(context.text + "\n")


@given('the newest entry of the undo journal of "{plan}" names no notes ref from before it')
def journal_without_old_notes(context, plan):  # type: ignore[no-untyped-def]
    """As a version that rewound a plan without its notes ref journaled it."""
    lines = _journal(context, plan).read_text().splitlines()
    entry = json.loads(lines[-1])
    entry["old_notes"] = None
    _journal(context, plan).write_text("\n".join([*lines[:-1], json.dumps(entry)]) + "\n")


@then('the undo journal of "{plan}" is gone')
def journal_gone(context, plan):  # type: ignore[no-untyped-def]
    assert not _journal(context, plan).exists(), _journal(context, plan).read_text()


def _commits(context, plan: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The plan root, then changesets 1, 2, ... (the base is HEAD)."""
    return git(context, "rev-list", "--reverse", f"refs/changesets/{plan}", "^HEAD").split()


@given("the commit I remembered as the tip is deleted from the object store")
def delete_remembered_tip(context):  # type: ignore[no-untyped-def]
    """As git gc --prune would, were the plan's packs not kept: unpack, then delete."""
    oid = context.remembered_refs[0]
    delete_object(context, oid)
    assert git(context, "cat-file", "-t", oid, check=False) == ""


@given('a changeset adding the submodule entry "{path}" is forged on top of "{plan}" with git')
def forged_gitlink(context, path, plan):  # type: ignore[no-untyped-def]
    tip = git(context, "rev-parse", f"refs/changesets/{plan}").strip()
    number = len(_commits(context, plan))
    index = dict(os.environ, GIT_INDEX_FILE=os.path.join(context.tmp, "forged-index"))

    def plumbing(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=context.repo, env=index, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    plumbing("read-tree", tip)
    head = git(context, "rev-parse", "HEAD").strip()
    plumbing("update-index", "--add", "--cacheinfo", f"160000,{head},{path}")
    tree = plumbing("write-tree")
    message = f"forged: a submodule\n\nPlan-Id: {plan}\nChangeset: {number}\n"
    commit = git(context, "commit-tree", tree, "-p", tip, "-m", message).strip()
    git(context, "update-ref", f"refs/changesets/{plan}", commit)
    record = {"schema": "gitplan.invocation/1", "tool": "forged", "plan_id": plan, "changeset": number}
    git(context, "notes", f"--ref=changesets/{plan}", "add", "-m", json.dumps(record), commit)
    context.store = PlanStore.open(context.repo)


# -- locks and races ----------------------------------------------------------------------


def _lock(context, ref: str) -> Path:  # type: ignore[no-untyped-def]
    return Path(context.repo, ".git", f"{ref}.lock")


@given('another process has held the lock of "{ref}" for {seconds:d} seconds')
def held_lock(context, ref, seconds):  # type: ignore[no-untyped-def]
    lock = _lock(context, ref)
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("")
    then = time.time() - seconds
    os.utime(lock, (then, then))
    context.held_lock = lock


@given("that process releases the lock")
@when("that process releases the lock")
def release_lock(context):  # type: ignore[no-untyped-def]
    context.held_lock.unlink()


def _cli(context, args: str) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, ["-C", context.repo, *shlex.split(args)])
    context.cli = result
    context.cli_output = result.output


@when('another writer keeps taking the lock of "{ref}" while I run git plan "{args}"')
def run_while_locked(context, ref, args):  # type: ignore[no-untyped-def]
    """A lock that is always fresh: every compare-and-swap loses, and none counts as held.
    Taken again just before each swap, so that no pause of this machine between taking it
    and the swap (writing the pack flushes it to disk) can make it look held for long."""
    lock = _lock(context, ref)
    os.environ["GITPLAN_MAX_ATTEMPTS"] = "3"
    with faults.at("transaction.before-swap", lambda: lock.write_text(""), times=1000):
        _cli(context, args)
    del os.environ["GITPLAN_MAX_ATTEMPTS"]
    lock.unlink()


@when('another process creates plan "{new}" while I branch "{plan}" into it')
def branch_races_create(context, new, plan):  # type: ignore[no-untyped-def]
    def create() -> None:
        try:
            PlanStore.open(context.repo).create(new, title="the other one")
        except GitPlanError as error:
            context.other_error = error
        else:
            context.other_error = None

    with faults.at("packs.registered", create):
        attempt(context, lambda: context.store.branch(plan, new))


@then('the create was refused with "{text}"')
def create_refused(context, text):  # type: ignore[no-untyped-def]
    assert context.other_error is not None and text in str(context.other_error), context.other_error


@when('"{plan}" is cancelled just after a record into it read its refs')
def record_races_cancel(context, plan):  # type: ignore[no-untyped-def]
    def cancel() -> None:
        PlanStore.open(context.repo).cancel(plan)

    with faults.at("transaction.refs-read", cancel):
        attempt(context, _racer(context, plan))


@when('I collect garbage with a grace of now while another process holds the surgery lock of "{plan}"')
def gc_during_surgery(context, plan):  # type: ignore[no-untyped-def]
    """gc holds the prune lock; a surgery holding its own lock may wait for that one (undo
    of a branch cancels it), so gc must not wait for the surgery's lock."""
    import fcntl
    import threading

    lock = Path(context.repo) / ".git" / "gitplan" / "locks" / f"surgery-{plan}"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # another open file description: it conflicts
        done: list[object] = []
        store = PlanStore.open(context.repo)
        worker = threading.Thread(target=lambda: done.append(store.gc("now")), daemon=True)
        worker.start()
        worker.join(timeout=60)
    assert done, "gc waited for the surgery's lock"
    context.result = done[0]


@then("the gc report has no undo entry")
def no_undo_entry(context):  # type: ignore[no-untyped-def]
    assert not [item for item in context.result.removed if item.kind == "undo entry"], context.result
