"""Steps for storage.feature: what the storage engine writes, checked on disk and with git."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from behave import given, then, when
from common_steps import REPORT_PEAK, attempt, git, unescape

from gitplan import File, PlanStore, ToolInvocation, faults
from gitplan.errors import GitPlanError


def _files_under(root: Path) -> set[tuple[str, int]]:
    """Every file below `root` with its inode: a rename over a file makes a new inode."""
    found = set()
    for directory, _, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            with contextlib.suppress(FileNotFoundError):
                found.add((path, os.stat(path).st_ino))
    return found


def _git_dir(context) -> Path:  # type: ignore[no-untyped-def]
    return Path(context.repo, ".git")


@when('I record 10 new files in "{plan}", counting what is created under .git')
def record_counting(context, plan):  # type: ignore[no-untyped-def]
    before = _files_under(_git_dir(context))
    changes = {f"src/pkg{i % 3}/file{i}.py": f"value = {i}\n".encode() for i in range(10)}
    context.store.record(plan, changes, ToolInvocation(tool="write", actor="coder"))
    context.created = sorted(_files_under(_git_dir(context)) - before)


@then("at most {count:d} files were created under .git")
def at_most_created(context, count):  # type: ignore[no-untyped-def]
    assert len(context.created) <= count, context.created


@then("no loose object was written")
def no_loose(context):  # type: ignore[no-untyped-def]
    objects = str(_git_dir(context) / "objects")
    loose = [path for path, _ in context.created if path.startswith(objects) and "/pack/" not in path]
    assert not loose, loose


@then("git verify-pack accepts every pack")
def verify_packs(context):  # type: ignore[no-untyped-def]
    indexes = sorted((_git_dir(context) / "objects" / "pack").glob("*.idx"))
    assert indexes, "no pack was written"
    for index in indexes:
        git(context, "verify-pack", str(index))


# -- refusals ------------------------------------------------------------------------


def _object_store(context) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Every file of the object store and of gitplan's registries, with its size."""
    found = {}
    for root in (_git_dir(context) / "objects", _git_dir(context) / "gitplan" / "packs"):
        for path, _ in _files_under(root):
            found[path] = os.stat(path).st_size
    return found


@given("I remember the object store")
def remember_store(context):  # type: ignore[no-untyped-def]
    context.store_before = _object_store(context)


@then("the object store is exactly as it was")
def store_unchanged(context):  # type: ignore[no-untyped-def]
    after = _object_store(context)
    added = sorted(set(after) - set(context.store_before))
    removed = sorted(set(context.store_before) - set(after))
    assert not added and not removed, f"added {added}, removed {removed}"


@when("I record a refused change: {case}")
def refused(context, case):  # type: ignore[no-untyped-def]
    store = context.store
    invocation = ToolInvocation(tool="refused")
    if case == "into a plan that is already applied":
        store.apply("s", mode="worktree")
        context.store_before = _object_store(context)
    actions = {
        "into a plan that does not exist": lambda: store.record("nope", {"x": b"x\n"}, invocation),
        "a file below a path that is a file": lambda: store.record("s", {"README.md/x": b"x"}, invocation),
        "a path that is a directory": lambda: store.record("s", {"src": b"x"}, invocation),
        "deleting a path that does not exist": lambda: store.record("s", {"gone.txt": None}, invocation),
        "an overlapping edit from changeset 0": lambda: store.record(
            "s", {"README.md": b"second\n"}, invocation, parent=0
        ),
        "a path with a .git component": lambda: store.record("s", {"a/.GIT/config": b"x"}, invocation),
        "into a plan that is already applied": lambda: store.record("s", {"late.txt": b"x"}, invocation),
    }
    attempt(context, actions[case])


@given('plan "{plan}" is applied')
def applied(context, plan):  # type: ignore[no-untyped-def]
    context.store.apply(plan, mode="worktree")


@then('the status of "{plan}" says it is applied')
def status_applied(context, plan):  # type: ignore[no-untyped-def]
    assert PlanStore.open(context.repo).status(plan).state == "applied"


# -- exact ids -------------------------------------------------------------------------


def _fresh_repository(context, name: str) -> str:  # type: ignore[no-untyped-def]
    repo = os.path.join(context.tmp, name)
    subprocess.run(["git", "init", "-q", repo], check=True)
    Path(repo, "README.md").write_text("hello\n")
    subprocess.run(["git", "add", "."], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "first"], cwd=repo, check=True)
    return repo


@when('I record a fixed invocation in "{plan}" in two fresh repositories')
def fixed_twice(context, plan):  # type: ignore[no-untyped-def]
    context.fixed = []
    for name in ("one", "two"):
        repo = _fresh_repository(context, name)
        store = PlanStore.open(repo)
        store.create(plan, title="fixed")
        invocation = ToolInvocation(tool="write", actor="coder", invocation_id="0" * 32)
        changeset = store.record(plan, {"a.txt": File(b"a\n")}, invocation)
        context.fixed.append((repo, changeset.commit))


@when('git plan records "{args}" in "{plan}" in two fresh repositories')
def cli_fixed_twice(context, args, plan):  # type: ignore[no-untyped-def]
    """The command line, twice, with the dates the scenario fixed: each repository's tip."""
    import shlex

    context.fixed = []
    Path(context.tmp, "a-file").write_bytes(b"a\n")
    context.rounds = getattr(context, "rounds", 0) + 1
    for name in ("one", "two"):
        repo = _fresh_repository(context, f"{name}-{context.rounds}")
        for words in (["create", plan, "--title", "fixed"], ["record", plan, *shlex.split(args)]):
            done = subprocess.run([sys.executable, "-m", "gitplan", *words], cwd=repo, capture_output=True)
            assert done.returncode == 0, done.stderr
        context.fixed.append((repo, git(context, "rev-parse", f"refs/changesets/{plan}", repo=repo).strip()))


@then("the two changesets have different commit ids")
def different_ids(context):  # type: ignore[no-untyped-def]
    (_, first), (_, second) = context.fixed
    assert first != second, first


@then("both changesets have the same commit id")
def same_ids(context):  # type: ignore[no-untyped-def]
    (_, first), (_, second) = context.fixed
    assert first == second, (first, second)


@then("git commit-tree makes the same commit from the same tree, parent, people, dates and message")
def commit_tree_agrees(context):  # type: ignore[no-untyped-def]
    repo, commit = context.fixed[0]

    def show(fmt: str) -> str:
        return git(context, "log", "-1", f"--format={fmt}", commit, repo=repo)

    message = git(context, "cat-file", "commit", commit, repo=repo).split("\n\n", 1)[1]
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="coder",
        GIT_AUTHOR_EMAIL="coder@gitplan",
        GIT_COMMITTER_NAME="gitplan",
        GIT_COMMITTER_EMAIL="gitplan@localhost",
    )
    with tempfile.NamedTemporaryFile("w", delete=False) as handle:
        handle.write(message)
    made = subprocess.run(
        ["git", "commit-tree", show("%T").strip(), "-p", show("%P").strip(), "-F", handle.name],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    os.unlink(handle.name)
    assert made == commit, (made, commit)


@then("the commit is dated as GIT_AUTHOR_DATE and GIT_COMMITTER_DATE say")
def dated(context):  # type: ignore[no-untyped-def]
    repo, commit = context.fixed[0]
    dates = git(context, "log", "-1", "--format=%aI %cI", commit, repo=repo).split()
    assert dates == ["2026-01-01T00:00:00+00:00"] * 2, dates


# -- locks ------------------------------------------------------------------------------


def _lock(context, ref: str, age: float) -> Path:  # type: ignore[no-untyped-def]
    path = _git_dir(context) / f"{ref}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(git(context, "rev-parse", "--verify", "-q", ref, check=False) or "0" * 40 + "\n")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


@given('a lock file on "{ref}" left {minutes:d} minutes ago')
def old_lock(context, ref, minutes):  # type: ignore[no-untyped-def]
    _lock(context, ref, minutes * 60)


@given('a lock file on "{ref}" left {seconds:d} seconds ago')
def recent_lock(context, ref, seconds):  # type: ignore[no-untyped-def]
    _lock(context, ref, seconds)


@given('a lock file on "{ref}" dated {minutes:d} minutes in the future')
def future_lock(context, ref, minutes):  # type: ignore[no-untyped-def]
    _lock(context, ref, -60 * minutes)


@given('a lock file on "{ref}" made just now')
def new_lock(context, ref):  # type: ignore[no-untyped-def]
    _lock(context, ref, 0)


@given("gitplan treats locks as stale only after an hour and retries {count:d} times")
def patient(context, count):  # type: ignore[no-untyped-def]
    os.environ["GITPLAN_STALE_LOCK_SECONDS"] = "3600"
    os.environ["GITPLAN_MAX_ATTEMPTS"] = str(count)


@when('a real "git plan {args}" runs with GITPLAN_HELD_LOCK_SECONDS={seconds}')
def background_cli(context, args, seconds):  # type: ignore[no-untyped-def]
    context.marks = Path(context.tmp, "marks")
    context.marks.mkdir()
    environment = dict(
        os.environ,
        GITPLAN_HELD_LOCK_SECONDS=seconds,
        # Few retries: a writer that only retried a held lock, instead of waiting for it,
        # gives up within a fraction of a second.
        GITPLAN_MAX_ATTEMPTS="5",
        GITPLAN_FAULTS=f"transaction.before-publish=mark:{context.marks}",
    )
    context.background = subprocess.Popen(
        [sys.executable, "-m", "gitplan", "-C", context.repo, *args.split()],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@then("after {seconds:d} seconds it is still waiting")
def still_waiting(context, seconds):  # type: ignore[no-untyped-def]
    # Counted from the moment the writer came to the lock (it marks the point just before
    # it looks): the default bound refuses a lock this old at once, so a writer still
    # running seconds later is waiting for it.
    deadline = time.monotonic() + 120
    while not list(context.marks.glob("transaction.before-publish.*.reached")):
        assert context.background.poll() is None, context.background.communicate()
        assert time.monotonic() < deadline, "the writer never came to the lock"
        time.sleep(0.01)
    time.sleep(seconds)
    assert context.background.poll() is None, context.background.communicate()


@then("that record ends with exit code {code:d}")
def background_exit(context, code):  # type: ignore[no-untyped-def]
    out, err = context.background.communicate(timeout=120)
    assert context.background.returncode == code, (context.background.returncode, out, err)


@when('the lock file on "{ref}" is removed')
def lock_removed(context, ref):  # type: ignore[no-untyped-def]
    (_git_dir(context) / f"{ref}.lock").unlink()


@then('no lock file is left on "{ref}"')
def no_lock(context, ref):  # type: ignore[no-untyped-def]
    assert not (_git_dir(context) / f"{ref}.lock").exists()


# -- create killed halfway, cancel racing another plan --------------------------------------


class _Killed(BaseException):
    """Stands for the process dying at a fault point."""


def _die() -> None:
    raise _Killed


@when('creating plan "{plan}" is killed between its notes ref and its plan ref')
def create_killed(context, plan):  # type: ignore[no-untyped-def]
    with faults.at("create.between-refs", _die), contextlib.suppress(_Killed):
        context.store.create(plan)


@then('ref "{ref}" exists')
def ref_exists(context, ref):  # type: ignore[no-untyped-def]
    git(context, "rev-parse", "--verify", "-q", ref)


@when(
    'a writer records "{path}" as "{content}" in "{plan}" while "{other}" is cancelled just before it publishes'  # noqa: E501
)
def record_while_other_cancelled(context, path, content, plan, other):  # type: ignore[no-untyped-def]
    canceller = PlanStore.open(context.repo)
    with faults.at("transaction.before-publish", lambda: canceller.cancel(other)):
        attempt(
            context, lambda: context.store.record(plan, {path: unescape(content)}, ToolInvocation(tool="w"))
        )


@then('git show "{spec}" prints "{content}"')
def git_show(context, spec, content):  # type: ignore[no-untyped-def]
    shown = subprocess.run(["git", "show", spec], cwd=context.repo, capture_output=True, check=True).stdout
    assert shown == unescape(content), shown


# -- many plans -------------------------------------------------------------------------------


@when("I record {count:d} changesets into each of {plans:d} plans")
def many_plans(context, count, plans):  # type: ignore[no-untyped-def]
    names = [f"p{n}" for n in range(plans)]
    for name in names:
        context.store.create(name)
    for i in range(count):
        for n, name in enumerate(names):
            content = f"plan {n} step {i}\n".encode()
            context.store.record(name, {f"work/{name}/f{i % 7}.txt": content}, ToolInvocation(tool="w"))
    context.many = (names, count)


def _count_objects(context) -> dict[str, int]:  # type: ignore[no-untyped-def]
    found = {}
    for line in git(context, "count-objects", "-v").splitlines():
        key, _, value = line.partition(": ")
        found[key] = int(value)
    return found


@then("the repository holds fewer than {packs:d} packs and {loose:d} loose objects")
def few(context, packs, loose):  # type: ignore[no-untyped-def]
    counts = _count_objects(context)
    assert counts["packs"] < packs and counts["count"] < loose, counts


@then("git gc --auto has nothing to do")
def gc_auto_idle(context):  # type: ignore[no-untyped-def]
    before = sorted(p.name for p in (_git_dir(context) / "objects" / "pack").iterdir())
    result = subprocess.run(["git", "gc", "--auto"], cwd=context.repo, capture_output=True, text=True)
    after = sorted(p.name for p in (_git_dir(context) / "objects" / "pack").iterdir())
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert before == after, "git gc --auto repacked"


@when("I run git gc")
def run_gc(context):  # type: ignore[no-untyped-def]
    git(context, "gc", "-q")


@then("each of the {plans:d} plans still has {count:d} changesets")
def plans_whole(context, plans, count):  # type: ignore[no-untyped-def]
    store = PlanStore.open(context.repo)
    for n in range(plans):
        changesets = store.changesets(f"p{n}")
        assert len(changesets) == count and all(c.record for c in changesets), n


@given('another process freshened the newest pack of "{plan}"')
@when('another process freshened the newest pack of "{plan}"')
def freshen(context, plan):  # type: ignore[no-untyped-def]
    from gitplan import packs

    newest = packs.owned_packs(context.store._repo, plan)[-1]
    os.utime(_git_dir(context) / "objects" / "pack" / f"{newest.name}.pack")  # what git's freshen does
    context.freshened = newest.name


@then("the reasons account for each kept object once")
def kept_accounted(context):  # type: ignore[no-untyped-def]
    report = context.result
    counted = 0
    for reason in report.reasons:
        found = re.match(r"^(\d+) objects? (?:is|are) still used elsewhere", reason) or re.search(
            r"^pack-\w+ \((\d+) objects?\) was used by another process", reason
        )
        counted += int(found.group(1)) if found else 0
    assert counted == report.objects_kept, (counted, report)


@then("the report says a pack was kept because another process used it")
def kept_fresh(context):  # type: ignore[no-untyped-def]
    report = context.result
    # named with the objects it keeps, which the report's count of kept objects includes
    assert any(re.search(r"^pack-\w+ \((\d+) objects\) was used by another process", reason)
               for reason in report.reasons), report  # fmt: skip


@then("git gc afterwards explodes nothing and warns about nothing")
def gc_quiet(context):  # type: ignore[no-untyped-def]
    loose_before = _count_objects(context)["count"]
    result = subprocess.run(["git", "gc"], cwd=context.repo, capture_output=True, text=True)
    assert result.returncode == 0 and "warning" not in result.stderr.lower(), result.stderr
    assert _count_objects(context)["count"] <= loose_before, _count_objects(context)
    fsck = subprocess.run(["git", "fsck", "--full"], cwd=context.repo, capture_output=True, text=True)
    assert fsck.returncode == 0 and "error" not in fsck.stderr, fsck.stderr


# -- large files ---------------------------------------------------------------------------


@given('a 1 GB file "{name}" outside the repository')
def gigabyte(context, name):  # type: ignore[no-untyped-def]
    context.big = os.path.join(context.tmp, name)
    with open(context.big, "wb") as handle:
        handle.truncate(1 << 30)  # sparse: costs no disk, reads as zeros


@when('I run "git plan record s --tool big --set big.bin=<the file>" as its own process')
def record_big(context):  # type: ignore[no-untyped-def]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gitplan",
            "-C",
            context.repo,
            "record",
            "s",
            "--tool",
            "big",
            "--set",
            f"big.bin={context.big}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    context.big_status = os.waitstatus_to_exitcode(status)
    context.big_peak_kb = usage.ru_maxrss  # kilobytes on Linux
    context.big_stderr = process.stderr.read() if process.stderr else b""


@then("it exits 0 having used less than {limit:d} MB of memory at its peak")
def small_peak(context, limit):  # type: ignore[no-untyped-def]
    assert context.big_status == 0, context.big_stderr
    assert context.big_peak_kb < limit * 1024, f"peak {context.big_peak_kb // 1024} MB"


@then('the plan\'s "{path}" is the blob git hash-object computes for the file')
def big_blob(context, path):  # type: ignore[no-untyped-def]
    stored = git(context, "rev-parse", f"refs/changesets/s:{path}").strip()
    assert stored == git(context, "hash-object", context.big).strip()


@then('the changeset\'s record says "{path}" is a binary file of {size:d} bytes')
def big_record(context, path, size):  # type: ignore[no-untyped-def]
    record = PlanStore.open(context.repo).changesets("s")[-1].record
    assert record is not None
    (change,) = [f for f in record.files if f.path == path]
    assert change.binary and change.additions == size, change


@given('a file "{name}" outside the repository with {size:d} MB of text')
def text_file(context, name, size):  # type: ignore[no-untyped-def]
    context.growing = os.path.join(context.tmp, name)
    with open(context.growing, "wb") as handle:
        handle.write(b"line of text\n" * (size * (1 << 20) // 13))


@when('I record "{name}" from disk into "{plan}" while another process appends to it')
def record_growing(context, name, plan):  # type: ignore[no-untyped-def]
    from gitplan import FileOnDisk

    def append() -> None:
        with open(context.growing, "ab") as handle:
            handle.write(b"one more line\n")

    with faults.at("packs.writing", append):
        changes = {name: FileOnDisk(context.growing)}
        attempt(context, lambda: context.store.record(plan, changes, ToolInvocation(tool="w")))


# -- dates, thresholds, files on disk -------------------------------------------------------


@given('GIT_AUTHOR_DATE and GIT_COMMITTER_DATE are "{date}"')
def dates(context, date):  # type: ignore[no-untyped-def]
    os.environ["GIT_AUTHOR_DATE"] = date
    os.environ["GIT_COMMITTER_DATE"] = date


@then('the tip of "{plan}" is dated "{iso}" by git')
def tip_dated(context, plan, iso):  # type: ignore[no-untyped-def]
    dated = git(context, "log", "-1", "--format=%aI %cI", f"refs/changesets/{plan}").split()
    assert dated == [iso, iso], dated


@when('I record a file on disk in "{plan}": {case}')
def record_on_disk(context, plan, case):  # type: ignore[no-untyped-def]
    from gitplan import BadInput, FileOnDisk

    def changes() -> dict[str, FileOnDisk]:
        if case == "it does not exist":
            return {"x.bin": FileOnDisk(os.path.join(context.tmp, "missing.bin"))}
        if case == "no path":
            return {"x.bin": FileOnDisk("")}
        return {"x.bin": FileOnDisk(os.path.join(context.tmp, "x"), 0o120000)}

    def record() -> object:
        try:
            made = changes()
        except BadInput as error:  # refused when the value is made, before the store sees it
            context.error = error
            return None
        return context.store.record(plan, made, ToolInvocation(tool="w"))

    attempt(context, record)
    context.error = context.error or getattr(context, "error", None)


# -- races at named points ------------------------------------------------------------------------


@when('another process creates plan "{plan}" while I create it, just before my refs are made')
def create_race(context, plan):  # type: ignore[no-untyped-def]
    other = PlanStore.open(context.repo)
    context.other_packs: list[str] = []

    def create_other() -> None:
        try:
            other.create(plan)
        except GitPlanError as error:
            context.other_error = error
        else:
            context.other_error = None

    with faults.at("packs.registered", create_other):
        attempt(context, lambda: context.store.create(plan))


@then('the other create of "{plan}" was refused with "{text}", having written nothing')
def other_create_refused(context, plan, text):  # type: ignore[no-untyped-def]
    from gitplan import packs

    error = context.other_error
    assert error is not None and text in str(error) and error.exit_code == 2, error
    registered = {pack.name for name in ("s", plan) for pack in packs.owned_packs(context.store._repo, name)}
    on_disk = {p.stem for p in (_git_dir(context) / "objects" / "pack").glob("*.pack")}
    assert on_disk == registered, (on_disk, registered)


@when('a writer records in "{plan}" just after cancel read the refs of "{plan2}"')
def record_during_cancel(context, plan, plan2):  # type: ignore[no-untyped-def]
    writer = PlanStore.open(context.repo)
    made: list[str] = []

    def record() -> None:
        made.append(writer.record(plan, {"late.txt": b"late\n"}, ToolInvocation(tool="late")).commit)

    with faults.at("cancel.refs-read", record):
        attempt(context, lambda: context.store.cancel(plan2))
    context.late_commit = made[0]


@then("the writer's changeset is gone from the object store")
def late_gone(context):  # type: ignore[no-untyped-def]
    result = subprocess.run(["git", "cat-file", "-e", context.late_commit], cwd=context.repo)
    assert result.returncode != 0


@when('"{plan}" is cancelled just after a writer read its refs')
def cancel_during_prepare(context, plan):  # type: ignore[no-untyped-def]
    canceller = PlanStore.open(context.repo)
    with faults.at("transaction.refs-read", lambda: canceller.cancel(plan)):
        attempt(context, lambda: context.store.record(plan, {"x": b"x\n"}, ToolInvocation(tool="w")))


@when('"{plan}" is cancelled and made again just after a writer read its refs')
def made_again_during_prepare(context, plan):  # type: ignore[no-untyped-def]
    other = PlanStore.open(context.repo)

    def cancel_and_create() -> None:
        other.cancel(plan)
        other.create(plan, title="another plan of the same name")

    with faults.at("transaction.refs-read", cancel_and_create):
        attempt(context, lambda: context.store.record(plan, {"x": b"x\n"}, ToolInvocation(tool="w")))


@when('a write into "{plan}" fails to read its objects while "{plan2}" is cancelled and made again')
def damaged_read_made_again(context, plan, plan2):  # type: ignore[no-untyped-def]
    """The transaction's prepare finds an object of the refs it was given missing (the
    cancel pruned it) after the plan was made again: the write reads the refs again."""
    from gitplan import transaction
    from gitplan.errors import Damaged

    other = PlanStore.open(context.repo)

    def prepare(current):  # type: ignore[no-untyped-def]
        other.cancel(plan2)
        other.create(plan2, title="another plan of the same name")
        raise Damaged(f"tree of {current.tip} is missing from the repository")

    attempt(context, lambda: transaction.write(context.store._repo, plan, prepare))


# -- pack index with large offsets --------------------------------------------------------------------


@when("I write a pack index whose entries sit at offsets up to {size:d} GiB")
def large_index(context, size):  # type: ignore[no-untyped-def]
    from gitplan import packfile

    offsets = [12, 1 << 20, (1 << 31) - 1, 1 << 31, 3 << 30, size << 30]
    context.index_entries = [
        packfile.PackEntry(bytes([n]) * 20, offset, n) for n, offset in enumerate(offsets, start=1)
    ]
    context.index_path = Path(context.tmp, "large.idx")
    packfile._write_index(context.index_path, context.index_entries, b"\1" * 20)


@then("git show-index lists every entry at its offset")
def show_index(context):  # type: ignore[no-untyped-def]
    with open(context.index_path, "rb") as handle:
        listed = subprocess.run(
            ["git", "show-index"], stdin=handle, capture_output=True, text=True, check=True
        )
    found = {line.split()[1]: int(line.split()[0]) for line in listed.stdout.splitlines()}
    assert found == {e.oid.hex(): e.offset for e in context.index_entries}, found


@then("gitplan reads the same entries back")
def read_back_index(context):  # type: ignore[no-untyped-def]
    from gitplan import packfile

    assert packfile.read_index(context.index_path) == sorted(context.index_entries, key=lambda e: e.offset)


@when('I record in "{plan}" while the disk fills up during the pack write')
def disk_full(context, plan):  # type: ignore[no-untyped-def]
    import errno

    def fill() -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with faults.at("packfile.finish", fill):
        attempt(context, lambda: context.store.record(plan, {"x.txt": b"x\n"}, ToolInvocation(tool="w")))


@when('I record in "{plan}" while the disk fills up with its pack\'s first bytes still unwritten')
def disk_full_unflushed(context, plan):  # type: ignore[no-untyped-def]
    """The pack's file can no longer be written at all: its buffered first bytes then fail
    to go out as it is closed (on a full disk, closing flushes, and fails)."""
    import errno

    def fill() -> None:
        for fd in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):
                if "tmp_pack_gitplan_" in os.readlink(f"/proc/self/fd/{fd}"):
                    os.close(int(fd))
        raise OSError(errno.ENOSPC, "No space left on device")

    with faults.at("packs.filling", fill):
        attempt(context, lambda: context.store.record(plan, {"x.txt": b"x\n"}, ToolInvocation(tool="w")))


@when('I record a one-file changeset into "{plan}" while its merged pack does not fit on the disk')
def step_merge_disk_full(context, plan):  # type: ignore[no-untyped-def]
    import errno

    def fill() -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with faults.at("packfile.finish", fill):
        attempt(context, lambda: _one_file(context, plan))


@when('I record in "{plan}" while git prune removes the new pack\'s temporary file')
def temporary_pack_pruned(context, plan):  # type: ignore[no-untyped-def]
    def prune() -> None:  # what git prune --expire=now does to tmp_* files of objects/pack
        for leftover in Path(context.repo, ".git", "objects", "pack").glob("tmp_pack_gitplan_*"):
            leftover.unlink()

    with faults.at("packfile.finish", prune):
        attempt(context, lambda: context.store.record(plan, {"x.txt": b"x\n"}, ToolInvocation(tool="w")))


@when('I record in "{plan}" while its pack registry is removed each time it is made')
def registry_removed(context, plan):  # type: ignore[no-untyped-def]
    registry = _git_dir(context) / "gitplan" / "packs" / plan

    with faults.at("packs.registering", lambda: shutil.rmtree(registry, ignore_errors=True), times=100):
        attempt(context, lambda: context.store.record(plan, {"x.txt": b"x\n"}, ToolInvocation(tool="w")))


@when('I record "{name}" from disk into "{plan}" while another process removes it')
def record_removed(context, name, plan):  # type: ignore[no-untyped-def]
    from gitplan import FileOnDisk

    with faults.at("packs.writing", lambda: os.unlink(context.growing)):
        changes = {name: FileOnDisk(context.growing)}
        attempt(context, lambda: context.store.record(plan, changes, ToolInvocation(tool="w")))


@when('I record "{name}" from disk into "{plan}" while another process rewrites it in place')
def record_rewritten(context, name, plan):  # type: ignore[no-untyped-def]
    from gitplan import FileOnDisk

    def rewrite() -> None:
        with open(context.growing, "r+b") as handle:
            handle.write(b"LINE")  # same size, other bytes

    with faults.at("packs.writing", rewrite):
        changes = {name: FileOnDisk(context.growing)}
        attempt(context, lambda: context.store.record(plan, changes, ToolInvocation(tool="w")))


@when("a writer's plan ref is locked by another process just after its notes moved")
def plan_ref_locked(context):  # type: ignore[no-untyped-def]
    lock = _git_dir(context) / "refs" / "changesets" / "s.lock"
    with faults.at("refs.between-notes-and-plan", lambda: lock.write_text("held\n")):
        attempt(context, lambda: context.store.record("s", {"a": b"a\n"}, ToolInvocation(tool="w")))
    context.held_lock = lock


@when('the other process lets the lock go and I record in "{plan}" with tool "{tool}"')
def release_and_record(context, plan, tool):  # type: ignore[no-untyped-def]
    context.held_lock.unlink()
    from common_steps import _table_changes

    changes = _table_changes(context)
    attempt(context, lambda: context.store.record(plan, changes, ToolInvocation(tool=tool)))


@given("gitplan retries {count:d} times")
def retries(context, count):  # type: ignore[no-untyped-def]
    os.environ["GITPLAN_MAX_ATTEMPTS"] = str(count)


@when('another writer records every time just before this writer moves the notes ref of "{plan}"')
def always_losing(context, plan):  # type: ignore[no-untyped-def]
    other = PlanStore.open(context.repo)

    def interlope() -> None:
        other.record(plan, {"theirs.txt": b"t\n"}, ToolInvocation(tool="other"))

    with faults.at("refs.before-notes", interlope, times=1):
        attempt(context, lambda: context.store.record(plan, {"mine.txt": b"m\n"}, ToolInvocation(tool="w")))


@when('I create plan "{plan}" expecting an error')
def create_expecting(context, plan):  # type: ignore[no-untyped-def]
    attempt(context, lambda: context.store.create(plan))


@then('the changeset\'s record says "{path}" counts {count:d} added lines')
def counts_lines(context, path, count):  # type: ignore[no-untyped-def]
    record = PlanStore.open(context.repo).changesets("s")[-1].record
    assert record is not None
    (change,) = [f for f in record.files if f.path == path]
    assert not change.binary and change.additions == count, change


@when('I record "{name}" from disk into "{plan}" at "{first}" and "{second}"')
def record_twice(context, name, plan, first, second):  # type: ignore[no-untyped-def]
    from gitplan import FileOnDisk

    changes = {first: FileOnDisk(context.growing), second: FileOnDisk(context.growing)}
    attempt(context, lambda: context.store.record(plan, changes, ToolInvocation(tool="w")))


@then('git show "{one}" and "{two}" are the same blob')
def same_blob(context, one, two):  # type: ignore[no-untyped-def]
    assert git(context, "rev-parse", one) == git(context, "rev-parse", two)


@then('a lock file is still on "{ref}"')
def lock_still(context, ref):  # type: ignore[no-untyped-def]
    assert (_git_dir(context) / f"{ref}.lock").exists()


@when('one store records {count:d} changesets into "{plan}", reading its diff after each')
def step_long_lived_store(context, count, plan):  # type: ignore[no-untyped-def]
    store = PlanStore.open(context.repo)
    for n in range(count):
        store.record(plan, {f"long/{n}.txt": f"{n}\n".encode()}, ToolInvocation(tool="long"))
        assert f"long/{n}.txt" in store.diff(plan)
    context.long_lived_store = store  # still open, as the MCP server's or the review page's is


@then("the store's process holds no removed pack file of the repository once garbage is collected")
def step_no_removed_pack_held(context):  # type: ignore[no-untyped-def]
    import gc

    context.store.status("s")  # the store that created the plan lets go on its next read
    gc.collect()
    packs = os.path.realpath(_git_dir(context) / "objects" / "pack")
    held = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            held.append(os.readlink(f"/proc/self/fd/{fd}"))
    held += Path("/proc/self/maps").read_text().splitlines()
    removed = [line for line in held if packs in line and "(deleted)" in line]
    assert removed == [], f"{len(removed)} removed pack files still open or mapped, e.g. {removed[:2]}"
    left = [name for name in os.listdir(packs) if name.endswith(".idx")]
    recorded = context.long_lived_store.status("s").changesets
    assert len(left) < recorded, f"{len(left)} packs for {recorded} changesets: nothing was merged"


@given("the index file is touched")
def step_touch_index(context):  # type: ignore[no-untyped-def]
    os.utime(_git_dir(context) / "index")


@then("the ids kept for the index carry its checksum")
def step_index_ids_kept(context):  # type: ignore[no-untyped-def]
    kept = (_git_dir(context) / "gitplan" / "index-ids" / "main").read_bytes()
    index = (_git_dir(context) / "index").read_bytes()
    header, rest = kept.split(b"\n", 1)
    assert header.startswith(b"gitplan index ids"), header
    assert rest[:20] == index[-20:], "the kept ids are not those of the index as it is now"
    staged = git(context, "ls-files", "-s").split()
    assert len(rest) // 20 - 1 >= len(staged) // 4, "fewer ids kept than the index has entries"


@given('gitplan kept index ids for a worktree "{name}" that no longer exists')
def step_index_ids_of_gone_worktree(context, name):  # type: ignore[no-untyped-def]
    directory = _git_dir(context) / "gitplan" / "index-ids"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"worktree-{name}").write_bytes(bytes(40))


@then('no index ids are kept for a worktree "{name}"')
def step_no_index_ids(context, name):  # type: ignore[no-untyped-def]
    assert not (_git_dir(context) / "gitplan" / "index-ids" / f"worktree-{name}").exists()


@given("gitplan kept index ids for the repository's own index")
def step_index_ids_main(context):  # type: ignore[no-untyped-def]
    directory = _git_dir(context) / "gitplan" / "index-ids"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "main").write_bytes(bytes(40))


@given("a killed cancel left a temporary file of index ids")
def step_index_ids_temporary(context):  # type: ignore[no-untyped-def]
    directory = _git_dir(context) / "gitplan" / "index-ids"
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / ".main.99999"
    temporary.write_bytes(bytes(40))
    an_hour_ago = time.time() - 3600
    os.utime(temporary, (an_hour_ago, an_hour_ago))


@then("the index ids of the repository's own index are still kept")
def step_index_ids_main_kept(context):  # type: ignore[no-untyped-def]
    directory = _git_dir(context) / "gitplan" / "index-ids"
    assert (directory / "main").exists()
    assert not (directory / ".main.99999").exists()


@when('one store records {count:d} changesets into "{plan}"')
def step_store_records(context, count, plan):  # type: ignore[no-untyped-def]
    store = PlanStore.open(context.repo)
    for n in range(count):
        store.record(plan, {f"many/{n}.txt": f"{n}\n".encode()}, ToolInvocation(tool="many"))


@then('the notes tree of "{plan}" is over {size:d} KB and stored in its pack as it is')
def step_notes_tree_stored(context, plan, size):  # type: ignore[no-untyped-def]
    tree = git(context, "rev-parse", f"refs/notes/changesets/{plan}^{{tree}}").strip()
    for index in (_git_dir(context) / "objects" / "pack").glob("*.idx"):
        for line in git(context, "verify-pack", "-v", str(index)).splitlines():
            fields = line.split()
            if fields and fields[0] == tree:
                kind, length, in_pack = fields[1], int(fields[2]), int(fields[3])
                assert kind == "tree" and length > size * 1024, line
                # zlib's stored blocks: the bytes themselves, a few bytes of framing, the header
                assert length <= in_pack <= length + 64, line
                return
    raise AssertionError(f"the notes tree {tree} is in no pack")


@then('every tree in the packs of plan "{plan}" is stored as it is, {least:d} or more of them')
def step_plan_trees_stored(context, plan, least):  # type: ignore[no-untyped-def]
    trees = 0
    for keep in (_git_dir(context) / "objects" / "pack").glob("*.keep"):
        if keep.read_text() != f"gitplan plan {plan}\n":
            continue
        pack = keep.with_suffix(".pack").read_bytes()
        for line in git(context, "verify-pack", "-v", str(keep.with_suffix(".idx"))).splitlines():
            fields = line.split()
            if len(fields) >= 5 and fields[1] == "tree":
                at = int(fields[4])
                while pack[at] & 0x80:  # the entry's type-and-size header
                    at += 1
                zlib_header, first_block = pack[at + 1 : at + 3], pack[at + 3]
                # A zlib header (deflate, any window) that says "fastest" (level 0), and a
                # first block of deflate's "stored" type (00)
                cmf, flg = zlib_header
                assert cmf & 0x0F == 8 and (cmf * 256 + flg) % 31 == 0, line
                assert flg >> 6 == 0 and (first_block >> 1) & 3 == 0, line
                trees += 1
    assert trees >= least, trees


@then('git show of the tip of "{plan}" lists "{path}"')
def step_show_lists(context, plan, path):  # type: ignore[no-untyped-def]
    shown = git(context, "show", "--name-only", "--format=", f"refs/changesets/{plan}")
    assert path in shown.splitlines(), shown


@then('git notes lists {count:d} notes on "{ref}"')
def step_notes_count(context, count, ref):  # type: ignore[no-untyped-def]
    listed = git(context, "notes", f"--ref={ref}", "list").splitlines()
    assert len(listed) == count, len(listed)


@then('the top of the notes tree of "{plan}" holds only two-hex-digit subtrees')
def step_notes_fanned_out(context, plan):  # type: ignore[no-untyped-def]
    top = git(context, "ls-tree", f"refs/notes/changesets/{plan}").splitlines()
    assert top, "the notes tree is empty"
    for line in top:
        info, name = line.split("\t")
        assert info.split()[1] == "tree" and len(name) == 2 and int(name, 16) >= 0, line


@then('the notes tree of "{plan}" is the one git fast-import makes of the same notes')
def step_notes_as_fast_import(context, plan):  # type: ignore[no-untyped-def]
    ref = f"refs/notes/changesets/{plan}"
    notes = [line.split() for line in git(context, "notes", f"--ref={ref}", "list").splitlines()]
    stream = ["commit refs/notes/check", "committer t <t@e> 0 +0000", "data 5", "check"]
    stream += [f"N {blob} {commit}" for blob, commit in notes]
    done = subprocess.run(
        ["git", "fast-import", "--quiet", "--force"],
        cwd=context.repo,
        input="\n".join(stream) + "\n",
        text=True,
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr
    ours = git(context, "rev-parse", f"{ref}^{{tree}}").strip()
    assert ours == git(context, "rev-parse", "refs/notes/check^{tree}").strip(), f"{len(notes)} notes"
    git(context, "update-ref", "-d", "refs/notes/check")


@then('the notes tree of "{plan}" still holds the file "{name}"')
def step_notes_tree_keeps(context, plan, name):  # type: ignore[no-untyped-def]
    assert git(context, "show", f"refs/notes/changesets/{plan}:{name}") == "not\n"


def _owned(context, plan):  # type: ignore[no-untyped-def]
    import pygit2

    from gitplan import packs

    return packs.owned_packs(pygit2.Repository(context.repo), plan)


@given('I record {count:d} one-file changesets into "{plan}", one after another')
@when('I record {count:d} one-file changesets into "{plan}", one after another')
def step_record_one_file_changesets(context, count, plan):  # type: ignore[no-untyped-def]
    store = PlanStore.open(context.repo)
    for _ in range(count):
        n = context.recorded = getattr(context, "recorded", 0) + 1
        store.record(plan, {f"one/{n}.txt": f"{n}\n".encode()}, ToolInvocation(tool="one"))


@then('plan "{plan}" owns {count:d} pack')
@then('plan "{plan}" owns {count:d} packs')
def step_plan_owns(context, plan, count):  # type: ignore[no-untyped-def]
    sizes = [pack.objects for pack in _owned(context, plan)]
    assert len(sizes) == count, sizes


@when('that store records a one-file changeset into "{plan}"')
def step_open_store_records(context, plan):  # type: ignore[no-untyped-def]
    _one_file(context, plan, context.long_store)


@when('git "{args}" runs in the repository')
def step_git_runs(context, args):  # type: ignore[no-untyped-def]
    git(context, *args.split())


@then('no registry entry of plan "{plan}" names a notes commit')
def step_registry_entries_empty(context, plan):  # type: ignore[no-untyped-def]
    registry = _git_dir(context) / "gitplan" / "packs" / plan
    named = {pack.name: (registry / pack.entry).read_bytes() for pack in _owned(context, plan)}
    assert not any(named.values()), named


@then("each of the {plans:d} plans owns at most {count:d} packs")
def step_each_owns(context, plans, count):  # type: ignore[no-untyped-def]
    owned = {f"p{n}": len(_owned(context, f"p{n}")) for n in range(plans)}
    assert all(0 < number <= count for number in owned.values()), owned


@when('I record {count:d} more changesets into "{plan}", noting its oldest pack after each')
def step_record_noting_oldest(context, count, plan):  # type: ignore[no-untyped-def]
    context.oldest = [_owned(context, plan)[0].name]
    for n in range(count):
        context.store.record(plan, {f"more/{n}.txt": b"more\n"}, ToolInvocation(tool="more"))
        context.oldest.append(_owned(context, plan)[0].name)


@then("its oldest pack was written again at most {times:d} times")
def step_oldest_rewritten(context, times):  # type: ignore[no-untyped-def]
    rewritten = sum(1 for before, after in itertools.pairwise(context.oldest) if before != after)
    assert rewritten <= times, f"{rewritten} times in {len(context.oldest) - 1} records"


@when('someone adds to the notes of "{plan}" by hand {defect}')
def step_notes_by_hand(context, plan, defect):  # type: ignore[no-untyped-def]
    ref = f"refs/notes/changesets/{plan}"
    if defect == "a note on a commit of the user":
        git(context, "notes", f"--ref={ref}", "add", "-m", "mine", "HEAD")
    elif defect == "a file that is not a note":
        _notes_by_hand(context, plan, {"README": b"hello\n"})
    elif defect == "5 notes on commits that are not here":
        _notes_by_hand(context, plan, {f"{n:040x}": b"mine\n" for n in range(5)})
    elif defect == "its newest note turned into a submodule entry":
        tip = git(context, "rev-parse", f"refs/changesets/{plan}").strip()
        blob = git(context, "notes", f"--ref={ref}", "list", tip).strip()
        env = {**os.environ, "GIT_INDEX_FILE": os.path.join(context.tmp, "notes-index")}
        for args in (["read-tree", ref], ["update-index", "--cacheinfo", f"160000,{blob},{tip}"]):
            subprocess.run(["git", *args], cwd=context.repo, env=env, check=True)
        tree = subprocess.run(
            ["git", "write-tree"], cwd=context.repo, env=env, check=True, capture_output=True, text=True
        ).stdout.strip()
        message = f"by hand\n\nPlan-Id: {plan}\nPlan-Tip: {tip}\n"
        git(context, "update-ref", ref, git(context, "commit-tree", tree, "-p", ref, "-m", message).strip())
    elif defect == "a file inside a fan-out directory and one at the top":
        tip = git(context, "rev-parse", f"refs/changesets/{plan}").strip()
        _notes_by_hand(context, plan, {f"{tip[:2]}/README": b"not\n", "TOP": b"not\n"})
        context.kept_files = [f"{tip[:2]}/README", "TOP"]
    elif defect == "a file two fan-out directories down and one at the top":
        tip = git(context, "rev-parse", f"refs/changesets/{plan}").strip()
        _notes_by_hand(context, plan, {f"{tip[:2]}/{tip[2:4]}/README": b"not\n", "TOP": b"not\n"})
    elif defect == "a file named as the fan-out directory of its tip":
        tip = git(context, "rev-parse", f"refs/changesets/{plan}").strip()
        _notes_by_hand(context, plan, {tip[:2]: b"not\n"})
        context.clashing_name = tip[:2]
    else:
        assert defect == "a directory whose subtrees repeat 3 levels deep", defect
        _repeating_subtrees(context, plan, levels=3)


def _repeating_subtrees(context, plan: str, levels: int) -> None:  # type: ignore[no-untyped-def]
    """A notes tree plus `ff/`, whose 256 entries all name one tree, whose 256 entries all
    name one tree...: a few objects that name 256**levels paths."""

    def run(*args: str, data: str = "") -> str:
        done = subprocess.run(
            ["git", *args], cwd=context.repo, input=data, check=True, capture_output=True, text=True
        )
        return done.stdout.strip()

    tree = run("mktree", data="")
    for _ in range(levels):
        tree = run("mktree", data="".join(f"040000 tree {tree}\t{n:02x}\n" for n in range(256)))
    ref = f"refs/notes/changesets/{plan}"
    listed = run("ls-tree", ref) + "\n" + f"040000 tree {tree}\tff\n"
    tip = run("rev-parse", f"refs/changesets/{plan}")
    message = f"by hand\n\nPlan-Id: {plan}\nPlan-Tip: {tip}\n"
    run("update-ref", ref, run("commit-tree", run("mktree", data=listed), "-p", ref, "-m", message))


def _notes_by_hand(context, plan: str, files: dict[str, bytes]) -> None:  # type: ignore[no-untyped-def]
    """A notes commit made with git plumbing: the plan's notes tree plus `files` at its top."""
    ref = f"refs/notes/changesets/{plan}"
    env = {**os.environ, "GIT_INDEX_FILE": os.path.join(context.tmp, "notes-index")}

    def run(*args: str, data: bytes | None = None) -> str:
        done = subprocess.run(
            ["git", *args], cwd=context.repo, env=env, input=data, check=True, capture_output=True
        )
        return done.stdout.decode().strip()

    run("read-tree", ref)
    for name, content in files.items():
        run(
            "update-index",
            "--add",
            "--cacheinfo",
            f"100644,{run('hash-object', '-w', '--stdin', data=content)},{name}",
        )
    tip = run("rev-parse", f"refs/changesets/{plan}")
    commit = run(
        "commit-tree", run("write-tree"), "-p", ref, "-m", f"by hand\n\nPlan-Id: {plan}\nPlan-Tip: {tip}\n"
    )
    run("update-ref", ref, commit)


@given('the mark of the last check of "{plan}" is damaged: {how}')
def step_damaged_verified_mark(context, plan, how):  # type: ignore[no-untyped-def]
    mark = _git_dir(context) / "gitplan" / "verified" / plan
    tip = mark.read_text().split()[0]
    mark.write_text(
        {"neither is an id": "not-an-id nor-this 4\n", "its notes are not": f"{tip} nor-this 4\n"}[how]
    )


@then('the notes tree of "{plan}" is flat and still holds that file')
def step_notes_flat_with_file(context, plan):  # type: ignore[no-untyped-def]
    top = git(context, "ls-tree", f"refs/notes/changesets/{plan}").splitlines()
    names = [line.split("\t")[1] for line in top]
    assert context.clashing_name in names and all(
        len(n) == 40 for n in names if n != context.clashing_name
    ), names


@then('the notes tree of "{plan}" still holds both files')
def step_notes_keeps_both(context, plan):  # type: ignore[no-untyped-def]
    for path in context.kept_files:
        assert git(context, "show", f"refs/notes/changesets/{plan}:{path}") == "not\n", path
    top = git(context, "ls-tree", f"refs/notes/changesets/{plan}").splitlines()
    assert all(len(line.split("\t")[1]) == 2 for line in top if not line.endswith("\tTOP")), top


def _one_file(context, plan: str, store=None):  # type: ignore[no-untyped-def]
    """Record the next one-file changeset (as the step above does) and return it."""
    n = context.recorded = getattr(context, "recorded", 0) + 1
    store = store or PlanStore.open(context.repo)
    return store.record(plan, {f"one/{n}.txt": f"{n}\n".encode()}, ToolInvocation(tool="one"))


@when('a record into "{plan}" waits to publish while {count:d} more records land')
def step_record_waits_while_others_land(context, plan, count):  # type: ignore[no-untyped-def]
    """Its pack is registered, not yet published, while the others' records merge the
    plan's newest packs; then it loses its race, and records again."""

    def others() -> None:
        store = PlanStore.open(context.repo)
        for _ in range(count):
            _one_file(context, plan, store)

    with faults.at("transaction.before-publish", others):
        attempt(context, lambda: _one_file(context, plan))


@then("git fsck --full finds nothing dangling")
def step_nothing_dangling(context):  # type: ignore[no-untyped-def]
    done = subprocess.run(["git", "fsck", "--full"], cwd=context.repo, capture_output=True, text=True)
    assert done.returncode == 0 and "dangling" not in done.stdout + done.stderr, done.stdout + done.stderr


@when('I record a one-file changeset into "{plan}", noting its packs just before it publishes')
def step_record_noting_packs(context, plan):  # type: ignore[no-untyped-def]
    from gitplan import packs

    context.before_publish = []

    def note() -> None:
        for pack in _owned(context, plan):
            ids = packs.pack_object_ids(context.store._repo, pack) or []
            context.before_publish.append((pack.name, set(ids)))

    with faults.at("transaction.before-publish", note):
        _one_file(context, plan)


@then("before it published, its newest pack held its own objects and all of the {count:d} before it")
def step_newest_folded(context, count):  # type: ignore[no-untyped-def]
    *older, (_, newest) = context.before_publish
    folded = older[-count:]
    assert all(ids <= newest for _, ids in folded), "an older pack's object is not in the new pack"
    assert len(newest) > sum(len(ids) for _, ids in folded), "the new pack holds no objects of its own"
    assert not any(ids <= newest for _, ids in older[:-count]), "it took in a pack of another tier"


@then('plan "{plan}" owns {count:d} packs, each there before it published')
def step_no_pack_after_publish(context, plan, count):  # type: ignore[no-untyped-def]
    names = [pack.name for pack in _owned(context, plan)]
    assert len(names) == count, names
    assert set(names) <= {name for name, _ in context.before_publish}, "a pack was written after it published"


@when('a writer of "{plan}" reaches its pack write after another writer took in the packs it meant to')
def step_fold_raced(context, plan):  # type: ignore[no-untyped-def]
    other = PlanStore.open(context.repo)
    context.results = []
    with faults.at("packs.writing", lambda: context.results.append(_one_file(context, plan, other))):
        context.results.append(_one_file(context, plan))


@when('another process freshens a pack "{plan}" takes in, just after the record publishes')
def step_freshen_after_publish(context, plan):  # type: ignore[no-untyped-def]
    folded = _owned(context, plan)[-3:]
    context.freshened = folded[0].name

    def freshen() -> None:
        os.utime(_git_dir(context) / "objects" / "pack" / f"{folded[0].name}.pack")  # as git's freshen

    with faults.at("transaction.published", freshen):
        _one_file(context, plan)


@then("the freshened pack is still in place, and still the plan's")
def step_freshened_kept(context):  # type: ignore[no-untyped-def]
    assert (_git_dir(context) / "objects" / "pack" / f"{context.freshened}.pack").exists()
    assert context.freshened in {pack.name for pack in _owned(context, "s")}


@then('plan "{plan}" owns at most {count:d} packs')
def step_plan_owns_at_most(context, plan, count):  # type: ignore[no-untyped-def]
    sizes = [pack.objects for pack in _owned(context, plan)]
    assert len(sizes) <= count, sizes


@then("both writers succeed, with changesets {first:d} and {second:d}")
def step_both_numbered(context, first, second):  # type: ignore[no-untyped-def]
    assert sorted(changeset.number for changeset in context.results) == [first, second], context.results


@when('I record a one-file changeset into "{plan}" while another process holds its consolidation lock')
def step_record_lock_held(context, plan):  # type: ignore[no-untyped-def]
    from gitplan import packs

    with packs.exclusive(context.store._repo, f"consolidate-{plan}") as held:
        assert held
        _one_file(context, plan)


@when("I collect garbage with a grace of now")
def step_gc_now(context):  # type: ignore[no-untyped-def]
    context.result = PlanStore.open(context.repo).gc("now")


@when('plan "{plan}" takes in a pack git wrote, holding a copy of its newest file and a delta against it')
def step_adopt_delta_pack(context, plan):  # type: ignore[no-untyped-def]
    """A fetch's pack is git's: it may hold objects the plan has too, and deltas (OFS_DELTA,
    whose base is named by its distance back in the pack)."""
    from gitplan import packs

    taken = getattr(context, "delta_packs", 0)
    context.delta_packs = taken + 1
    name = f"delta/base-{taken}.txt"
    base = "".join(f"line {n} of file {taken}, long enough to be worth a delta\n" for n in range(60))
    context.store.record(plan, {name: base.encode()}, ToolInvocation(tool="one"))
    other = git(context, "hash-object", "-w", "--stdin", data=base.replace("line 30 ", "LINE 30 ")).strip()
    ours = git(context, "rev-parse", f"refs/changesets/{plan}:{name}").strip()
    scratch = Path(tempfile.mkdtemp(dir=context.tmp))
    pack = str(scratch / "pack")
    name = git(context, "pack-objects", "--delta-base-offset", pack, data=f"{ours}\n{other}\n").strip()
    listed = git(context, "verify-pack", "-v", str(scratch / f"pack-{name}.idx"))
    assert "chain length = 1: 1 object" in listed, listed  # one object is a delta
    assert packs.adopt(context.store._repo, plan, scratch / f"pack-{name}.pack", None) is not None


@when('another process cancels plan "{plan}", and collects garbage, while I create it, between my two refs')
def cancel_during_create(context, plan):  # type: ignore[no-untyped-def]
    """The notes ref exists, the plan ref not yet: the plan looks like one whose create was
    killed halfway, which cancel removes. Not while the create runs."""
    from gitplan import packs

    other = PlanStore.open(context.repo)
    context.cancel_error = None

    def collect() -> None:  # before the notes ref: the plan does not exist yet
        other.gc()  # the default grace: `now` would take the create's temporary pack too
        lock = packs.state_dir(other._repo) / "locks" / f"create-{plan}"
        assert lock.exists(), "gc removed the lock of a create that is running"

    def cancel() -> None:  # between the refs
        try:
            other.cancel(plan)
        except GitPlanError as error:
            context.cancel_error = error

    with faults.at("packs.registered", collect), faults.at("create.between-refs", cancel):
        attempt(context, lambda: context.store.create(plan))


@then('the cancel was refused with "{text}"')
def cancel_refused(context, text):  # type: ignore[no-untyped-def]
    assert context.cancel_error is not None and text in str(context.cancel_error), context.cancel_error
    assert context.cancel_error.exit_code == 4, context.cancel_error.exit_code


@given("the repository's objects directory is moved to another filesystem and linked back")
@when("the repository's objects directory is moved to another filesystem and linked back")
def objects_elsewhere(context):  # type: ignore[no-untyped-def]
    import shutil
    import tempfile

    objects = Path(context.repo, ".git", "objects")
    elsewhere = Path(tempfile.mkdtemp(prefix="gitplan-objects-", dir="/dev/shm"))
    context.add_cleanup(shutil.rmtree, elsewhere, ignore_errors=True)
    assert os.stat(elsewhere).st_dev != os.stat(objects).st_dev, "/dev/shm is on the repository's filesystem"
    shutil.copytree(objects, elsewhere / "objects", symlinks=True)
    shutil.rmtree(objects)
    objects.symlink_to(elsewhere / "objects")


@when('I record in "{plan}" while the housekeeping after it fails with an I/O error')
def housekeeping_fails(context, plan):  # type: ignore[no-untyped-def]
    import errno

    def refuse() -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    with faults.at("transaction.housekeeping", refuse):
        attempt(context, lambda: context.store.record(plan, {"a.txt": b"a\n"}, ToolInvocation(tool="w")))


@when('I record in "{plan}" while git prune --expire=now runs just before its pack is put in place')
def record_while_pruned(context, plan):  # type: ignore[no-untyped-def]
    def prune() -> None:
        subprocess.run(["git", "prune", "--expire=now"], cwd=context.repo, check=True)
        pack_dir = Path(context.repo, ".git", "objects", "pack")
        assert not list(pack_dir.glob("tmp_*")), "git prune left the temporary files"

    with faults.at("packs.registered", prune):
        attempt(context, lambda: context.store.record(plan, {"a.txt": b"a\n"}, ToolInvocation(tool="w")))


_RECORD_BYTES = REPORT_PEAK + (
    "import os\n"
    "from gitplan import PlanStore, ToolInvocation\n"
    "data = os.urandom(int(sys.argv[2]) << 20)\n"
    "store = PlanStore.open(sys.argv[1])\n"
    "store.create('bytes')\n"
    "store.record('bytes', {'big.bin': data}, ToolInvocation(tool='t'))\n"
)


@when("a process records {mib:d} MiB of random bytes through the Python API, its peak memory measured")
def record_bytes_measured(context, mib):  # type: ignore[no-untyped-def]
    command = [sys.executable, "-c", _RECORD_BYTES, context.repo, str(mib)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    context.peak_kib = int(done.stderr.rsplit("peak ", 1)[1])
