"""Steps for gc.feature: real gitplan processes killed at named points, then `git plan gc`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from behave import given, then, when
from common_steps import git


def _killed(context, args: list[str], point: str) -> None:  # type: ignore[no-untyped-def]
    """Run `git plan ARGS` in its own process and end it at fault point `point` (os._exit)."""
    context.packs_before = set(Path(context.repo, ".git", "objects", "pack").glob("pack-*.pack"))
    env = dict(os.environ, GITPLAN_FAULTS=f"{point}=exit")
    result = subprocess.run(
        [sys.executable, "-m", "gitplan", "-C", context.repo, *args], env=env, capture_output=True, text=True
    )
    assert result.returncode == 137, (result.returncode, result.stderr)
    context.new_packs = (
        set(Path(context.repo, ".git", "objects", "pack").glob("pack-*.pack")) - context.packs_before
    )


@given('a "git plan record" into "{plan}" was killed at "{point}"')
def killed_record(context, plan, point):  # type: ignore[no-untyped-def]
    source = Path(context.tmp, "b.txt")
    source.write_text("b\n")
    _killed(context, ["record", plan, "--tool", "killed", "--set", f"b.txt={source}"], point)


@given('a "git plan cancel" of "{plan}" was killed at "{point}"')
def killed_cancel(context, plan, point):  # type: ignore[no-untyped-def]
    _killed(context, ["cancel", plan], point)


@then("the unpublished pack is still there")
def pack_there(context):  # type: ignore[no-untyped-def]
    assert len(context.new_packs) == 1, context.new_packs
    assert all(path.exists() for path in context.new_packs)


@then("the unpublished pack is gone")
def pack_gone(context):  # type: ignore[no-untyped-def]
    assert not any(path.exists() for path in context.new_packs)


@then('the JSON lists a removed "{kind}"')
def json_removed(context, kind):  # type: ignore[no-untyped-def]
    report = json.loads(context.cli.stdout)
    assert any(item["kind"] == kind for item in report["removed"]), report


@then("no temporary pack file is left")
def no_temporary(context):  # type: ignore[no-untyped-def]
    left = list(Path(context.repo, ".git", "objects", "pack").glob("tmp_pack_gitplan_*"))
    assert not left, left


@given('a writer left a registered pack for a plan "{plan}" that no longer exists')
def orphan(context, plan):  # type: ignore[no-untyped-def]
    from gitplan import PlanStore, ToolInvocation, packs

    store = PlanStore.open(context.repo)
    store.create(plan)
    store.record(plan, {"orphan.txt": b"orphan\n"}, ToolInvocation(tool="w"))
    context.orphan_packs = [pack.name for pack in packs.owned_packs(store._repo, plan)]
    assert context.orphan_packs
    # As if cancel deleted the refs and its prune never ran (the writer re-registered meanwhile).
    subprocess.run(["git", "update-ref", "-d", f"refs/changesets/{plan}"], cwd=context.repo, check=True)
    subprocess.run(["git", "update-ref", "-d", f"refs/notes/changesets/{plan}"], cwd=context.repo, check=True)


@then('the packs and registry of "{plan}" are gone')
def orphan_gone(context, plan):  # type: ignore[no-untyped-def]
    pack_dir = Path(context.repo, ".git", "objects", "pack")
    left = [p for name in context.orphan_packs for p in pack_dir.glob(f"{name}.*")]
    assert not left, left
    assert not Path(context.repo, ".git", "gitplan", "packs", plan).exists()


@given("another repository where gitplan never ran")
def untouched_repository(context):  # type: ignore[no-untyped-def]
    context.repo = str(Path(context.tmp, "untouched"))
    subprocess.run(["git", "init", "-q", context.repo], check=True)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "first"], cwd=context.repo, check=True)


@given("another process freshened the unpublished pack")
def freshen_unpublished(context):  # type: ignore[no-untyped-def]
    import os

    (pack,) = context.new_packs
    os.utime(pack)


def _trash_of(context, who: str) -> Path:  # type: ignore[no-untyped-def]
    import os

    pid = os.getpid() if who == "this process" else 1  # process 1 is always alive
    return Path(context.repo, ".git", "gitplan", "trash", str(pid))


@given("a prune in {who} has moved a pack to its trash")
def trash_in_use(context, who):  # type: ignore[no-untyped-def]
    trash = _trash_of(context, who)
    trash.mkdir(parents=True)
    (trash / "pack-0000000000000000000000000000000000000000.pack").write_bytes(b"PACK")


@then("the trash of {who} is still there")
def trash_kept(context, who):  # type: ignore[no-untyped-def]
    assert (_trash_of(context, who) / "pack-0000000000000000000000000000000000000000.pack").exists()


def _pack_names(context) -> set[str]:  # type: ignore[no-untyped-def]
    return {path.name for path in Path(context.repo, ".git", "objects", "pack").glob("pack-*")}


@then("I note the packs in the repository")
def note_packs(context):  # type: ignore[no-untyped-def]
    context.noted_packs = _pack_names(context)


@then("the packs in the repository are the ones noted")
def same_packs(context):  # type: ignore[no-untyped-def]
    assert _pack_names(context) == context.noted_packs, (_pack_names(context), context.noted_packs)


@given("the kept packs of the cancelled plan were last used two hours ago")
def freshened_long_ago(context):  # type: ignore[no-untyped-def]
    directory = Path(context.repo, ".git", "objects", "pack")
    kept = [keep.with_suffix(".pack") for keep in directory.glob("pack-*.keep")]
    assert kept, "no kept pack"
    then = os.stat(kept[0]).st_mtime - 7200
    for pack in kept:
        os.utime(pack, (then, then))


@then('no pack of plan "{plan}" and no registry of it is left')
def no_plan_pack(context, plan):  # type: ignore[no-untyped-def]
    directory = Path(context.repo, ".git", "objects", "pack")
    assert not list(directory.glob("pack-*.keep")), list(directory.glob("pack-*"))
    assert not Path(context.repo, ".git", "gitplan", "packs", plan).exists()


@given('I record {count:d} files under "{directory}" in "{plan}"')
def record_many(context, count, directory, plan):  # type: ignore[no-untyped-def]
    from gitplan import ToolInvocation

    files = {f"{directory}/f{n}.txt": f"{directory} {n}\n".encode() for n in range(1, count + 1)}
    context.store.record(plan, files, ToolInvocation(tool="many", actor="agent"))


@given('the user fetches the tip of "{plan}" into FETCH_HEAD')
def fetch_head(context, plan):  # type: ignore[no-untyped-def]
    subprocess.run(["git", "-C", context.repo, "fetch", "-q", ".", f"refs/changesets/{plan}"], check=True)


@then("git can read everything FETCH_HEAD reaches")
def fetch_head_readable(context):  # type: ignore[no-untyped-def]
    read = subprocess.run(["git", "-C", context.repo, "archive", "FETCH_HEAD"], capture_output=True)
    assert read.returncode == 0, read.stderr.decode()


@given('the notes ref of "{plan}" once named a commit whose second parent is missing')
def notes_reflog_broken_merge(context, plan):  # type: ignore[no-untyped-def]
    """A damaged repository: `git notes merge` made a commit, and an object it names is gone."""
    ref = f"refs/notes/changesets/{plan}"
    notes = git(context, "rev-parse", ref).strip()
    tree = git(context, "rev-parse", f"{notes}^{{tree}}").strip()
    people = "author a <a> 1 +0000\ncommitter a <a> 1 +0000\n"
    body = f"tree {tree}\nparent {notes}\nparent {'1' * 40}\n{people}\nm\n"
    merge = git(context, "hash-object", "-t", "commit", "-w", "--stdin", "--literally", data=body).strip()
    git(context, "update-ref", ref, merge)
    git(context, "update-ref", ref, notes)


_GITS_KEEP = "pack-" + "1" * 40 + ".keep"


@given("git's receive-pack left a .keep file an hour ago for a pack it had not indexed yet")
def gits_keep(context):  # type: ignore[no-untyped-def]
    keep = Path(context.repo, ".git", "objects", "pack", _GITS_KEEP)
    keep.write_text("receive-pack 4242 on build-host\n")
    an_hour_ago = time.time() - 3600
    os.utime(keep, (an_hour_ago, an_hour_ago))


@then("receive-pack's .keep file is still there")
def gits_keep_kept(context):  # type: ignore[no-untyped-def]
    assert Path(context.repo, ".git", "objects", "pack", _GITS_KEEP).exists()


@then('no file in the pack directory ends in "{suffix}"')
def no_pack_dir_file_ending(context, suffix):  # type: ignore[no-untyped-def]
    found = [path.name for path in Path(context.repo, ".git", "objects", "pack").iterdir()]
    assert not [name for name in found if name.endswith(suffix)], found


@when("I run gc with grace now, counting how often it asks git for everything reachable")
def gc_counting_walks(context):  # type: ignore[no-untyped-def]
    from gitplan import PlanStore, faults

    context.walks = 0

    def walked() -> None:
        context.walks += 1

    with faults.at("prune.reachable-by-git", walked, times=10):
        context.gc_report = PlanStore.open(context.repo).gc(grace="now")


@then("it removed {count:d} unpublished packs, asking git once")
def removed_asking_once(context, count):  # type: ignore[no-untyped-def]
    gone = [item for item in context.gc_report.removed if "never published" in item.reason]
    assert len(gone) == count, context.gc_report
    assert context.walks == 1, context.walks


@given('a writer of plan "{plan}" opened its publish lock, and gc removed the file before it locked it')
def writer_lock_swept(context, plan):  # type: ignore[no-untyped-def]
    """The writer (a thread: flock treats each open file as its own holder) stops at
    filelock.opened, between opening the lock file and locking it; gc, which sees no plan
    of that name yet, takes the idle lock and removes the file; then the writer locks."""
    import threading

    import pygit2

    from gitplan import faults, packs
    from gitplan.store import PlanStore

    opened, swept, holding, release = (threading.Event() for _ in range(4))
    context.writer_held = []

    def writer() -> None:
        repo = pygit2.Repository(context.repo)
        with packs.publish_gate(repo, plan) as held:
            context.writer_held.append(held)
            holding.set()
            release.wait(60)

    def between_open_and_lock() -> None:
        opened.set()
        assert swept.wait(60), "gc did not finish"

    with faults.at("filelock.opened", between_open_and_lock):
        worker = threading.Thread(target=writer, daemon=True)
        worker.start()
        assert opened.wait(60), "the writer never opened its lock file"
        context.result = PlanStore.open(context.repo).gc("now")
        swept.set()
        assert holding.wait(60), "the writer never took its lock"
    context.writer, context.release_writer = worker, release


@then('gc reported removing the lock file of plan "{plan}"')
def gc_removed_lock(context, plan):  # type: ignore[no-untyped-def]
    removed = [item.name for item in context.result.removed if item.kind == "lock"]
    assert any(path.endswith(f"publish-{plan}") for path in removed), context.result


@then('while that writer publishes, an apply cannot take the publish gate of plan "{plan}"')
def gate_still_held(context, plan):  # type: ignore[no-untyped-def]
    import pygit2

    from gitplan import packs

    try:
        assert context.writer_held == [True], context.writer_held
        repo = pygit2.Repository(context.repo)
        with packs.publish_gate(repo, plan, blocking=False, shared=False) as free:
            assert not free, "an apply took the publish gate while a writer held it"
    finally:
        context.release_writer.set()
        context.writer.join(60)


@then('the repository still has the file "{path}"')
def repository_file_there(context, path):  # type: ignore[no-untyped-def]
    assert Path(context.repo, path).exists(), path
