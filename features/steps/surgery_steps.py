"""Steps for surgery.feature: rewind, drop, branch and undo, checked with the git binary."""

from __future__ import annotations

import json

from behave import given, then, when
from common_steps import attempt, git, stored_objects

from gitplan import ToolInvocation, faults


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
