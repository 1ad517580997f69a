"""Steps for status.feature: the kept statuses of planstatus.py, checked against the chain."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from behave import given, then, when
from common_steps import git

from gitplan import PlanStore
from gitplan.planstatus import compute


def _kept(context, plan: str) -> Path:  # type: ignore[no-untyped-def]
    return Path(context.repo, ".git", "gitplan", "status", plan)


@then('the kept status of "{plan}" is at changeset {number:d}')
def kept_at(context, plan, number):  # type: ignore[no-untyped-def]
    document = json.loads(_kept(context, plan).read_text())
    assert document["tip"] == git(context, "rev-parse", f"refs/changesets/{plan}").strip(), document
    assert document["status"]["changesets"] == number, document


@then('the status of "{plan}" is what its whole chain gives, with {count:d} changesets and tools "{tools}"')
def status_as_from_scratch(context, plan, count, tools):  # type: ignore[no-untyped-def]
    store = PlanStore.open(context.repo)  # as the next git plan command sees it
    ours = store.status(plan)
    scratch, _ = compute(store._repo, plan)
    assert replace(ours, unsafe=None) == scratch, (ours, scratch)
    assert ours.changesets == count and ", ".join(ours.tools) == tools, ours


@when('git replaces the note of changeset {number:d} of "{plan}" with "{text}"')
def replace_note(context, number, plan, text):  # type: ignore[no-untyped-def]
    commit = git(context, "rev-list", "--reverse", f"refs/changesets/{plan}", "^HEAD").split()[number]
    git(context, "notes", f"--ref=changesets/{plan}", "add", "-f", "-m", text, commit)


@given('the kept status of "{plan}" holds "{text}"')
def kept_holds(context, plan, text):  # type: ignore[no-untyped-def]
    _kept(context, plan).parent.mkdir(parents=True, exist_ok=True)
    _kept(context, plan).write_text(text)


@then('no status is kept for "{plan}"')
def none_kept(context, plan):  # type: ignore[no-untyped-def]
    assert not _kept(context, plan).exists()
