"""Steps for concurrency.feature: real processes and threads writing one plan."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from behave import given, then, when
from common_steps import attempt, git

from gitplan import PlanStore, ToolInvocation, faults, packs

WRITER = str(Path(__file__).with_name("writer.py"))


def _under_load() -> None:
    """Many writers on a 2-core machine: a live writer can be stopped for over a second
    while it holds a ref's lock, which the one-second rule would report as a lock left
    behind. The scenarios of that rule set their locks up themselves."""
    os.environ["GITPLAN_HELD_LOCK_SECONDS"] = "120"  # environment.py restores os.environ


def _start(context, plan: str, workers: int, count: int, faults: str = ""):  # type: ignore[no-untyped-def]
    env = dict(os.environ, GITPLAN_FAULTS=faults) if faults else None
    context.processes = [
        subprocess.Popen(
            [sys.executable, WRITER, context.repo, plan, str(w), str(count)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for w in range(workers)
    ]
    context.expected = {f"w{w}/f{i}.txt" for w in range(workers) for i in range(count)}


def _wait_for(context, directory: Path, point: str, count: int) -> None:  # type: ignore[no-untyped-def]
    """Wait until `count` processes have reached fault point `point` (no fixed sleeps)."""
    deadline = time.monotonic() + 120
    while len(list(directory.glob(f"{point}.*.reached"))) < count:
        finished = [p for p in context.processes if p.poll() is not None]
        assert not finished, [p.communicate() for p in finished]
        assert time.monotonic() < deadline, f"writers never reached {point}"
        time.sleep(0.01)


@when('{workers:d} writer processes each record {count:d} changesets into "{plan}"')
def processes(context, workers, count, plan):  # type: ignore[no-untyped-def]
    _under_load()
    _start(context, plan, workers, count)
    context.outputs = [p.communicate(timeout=600) + (p.returncode,) for p in context.processes]


@then("all writers succeed")
def all_ok(context):  # type: ignore[no-untyped-def]
    for _out, err, code in context.outputs:
        assert code == 0, err


@then('every changeset of "{plan}" has its note and they are numbered without gaps')
def notes_complete(context, plan):  # type: ignore[no-untyped-def]
    store = PlanStore.open(context.repo)
    changesets = store.changesets(plan)
    assert [c.number for c in changesets] == list(range(1, len(changesets) + 1))
    assert all(c.record is not None for c in changesets), [c.problem for c in changesets if c.problem]
    notes = git(context, "notes", f"--ref=changesets/{plan}", "list").splitlines()
    assert len(notes) == len(changesets) + 1  # plus the plan record
    parents = git(context, "rev-list", "--min-parents=2", f"refs/changesets/{plan}")
    assert parents == "", "the chain has merge commits"


@then('the tip of "{plan}" holds every file the writers wrote')
def all_files(context, plan):  # type: ignore[no-untyped-def]
    listed = set(git(context, "ls-tree", "-r", "--name-only", f"refs/changesets/{plan}").split())
    missing = context.expected - listed
    assert not missing, sorted(missing)[:10]


@when('{threads:d} threads each record {count:d} changesets into "{plan}"')
def threads(context, threads, count, plan):  # type: ignore[no-untyped-def]
    _under_load()
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        store = PlanStore.open(context.repo)
        try:
            for i in range(count):
                store.record(plan, {f"t{worker}/{i}": b"x"}, ToolInvocation(tool="thread"))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    running = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    assert not errors, errors


def _line_edit(context, line: int, text: str) -> bytes:  # type: ignore[no-untyped-def]
    lines = git(context, "show", "HEAD:README.md").splitlines(keepends=True)
    lines[line - 1] = text + "\n"
    return "".join(lines).encode()


def _two_writers(context, path: str, line_a: int, line_b: int) -> None:  # type: ignore[no-untyped-def]
    """Writer A records, then writer B records edits made from the same plan root."""
    store = context.store
    store.record("busy", {path: _line_edit(context, line_a, "A")}, ToolInvocation(tool="A"), parent=0)
    edit_b = {path: _line_edit(context, line_b, "B")}
    attempt(context, lambda: store.record("busy", edit_b, ToolInvocation(tool="B"), parent=0))


@when('writer A changes line 1 and writer B changes line 10 of "{path}", both from changeset 0')
def mergeable(context, path):  # type: ignore[no-untyped-def]
    _two_writers(context, path, 1, 10)


@when('writer A and writer B both change line 1 of "{path}" from changeset 0')
def conflicting(context, path):  # type: ignore[no-untyped-def]
    _two_writers(context, path, 1, 1)


class _Killed(BaseException):
    """Stands for the writer process dying at a fault point."""


def _die() -> None:
    raise _Killed


@given('a writer was killed after moving the notes ref of "{plan}" but before the plan ref')
def killed_writer(context, plan):  # type: ignore[no-untyped-def]
    with faults.at("refs.between-notes-and-plan", _die), contextlib.suppress(_Killed):
        context.store.record(plan, {"k": b"k\n"}, ToolInvocation(tool="killed"))
    # The half-done state: a reader sees the old tip and a consistent set of notes.
    assert PlanStore.open(context.repo).status(plan).changesets == 0


@when('{workers:d} writer processes record into "{plan}" while it is cancelled')
def cancel_race(context, workers, plan):  # type: ignore[no-untyped-def]
    """Free-running writers; cancel lands once every writer has recorded at least once."""
    marks = Path(context.tmp, "marks")
    marks.mkdir()
    _under_load()
    _start(context, plan, workers, 200, f"transaction.published=mark:{marks}")
    _wait_for(context, marks, "transaction.published", workers)
    context.store.cancel(plan)
    context.outputs = [p.communicate(timeout=600) + (p.returncode,) for p in context.processes]


@when('{workers:d} writer processes are paused at "{point}" in "{plan}" while it is cancelled')
def cancel_at_point(context, workers, point, plan):  # type: ignore[no-untyped-def]
    """Every writer stops at the same moment of its first record; cancel runs; they go on."""
    pauses = Path(context.tmp, "pauses")
    pauses.mkdir()
    _start(context, plan, workers, 1, f"{point}=pause:{pauses}")
    _wait_for(context, pauses, point, workers)
    attempt(context, lambda: context.store.cancel(plan))
    (pauses / f"{point}.go").touch()
    context.outputs = [p.communicate(timeout=600) + (p.returncode,) for p in context.processes]


@when('a writer paused at "{point}" in "{plan}" finds it cancelled and made again')
def cancelled_and_made_again(context, point, plan):  # type: ignore[no-untyped-def]
    """The writer stops at `point` of its record; the plan is cancelled and a new plan of
    the same name created; the writer goes on."""
    pauses = Path(context.tmp, "pauses")
    pauses.mkdir()
    _start(context, plan, 1, 1, f"{point}=pause:{pauses}")
    _wait_for(context, pauses, point, 1)
    context.store.cancel(plan)
    context.store.create(plan, title="another plan of the same name")
    (pauses / f"{point}.go").touch()
    context.outputs = [p.communicate(timeout=600) + (p.returncode,) for p in context.processes]


@then('every writer failed with "not found"')
def writers_not_found(context):  # type: ignore[no-untyped-def]
    for _out, err, code in context.outputs:
        assert code == 3, err


@then('no pack or registry of plan "{plan}" is left')
def nothing_left(context, plan):  # type: ignore[no-untyped-def]
    registry = Path(context.repo, ".git", "gitplan", "packs", plan)
    assert not registry.exists() or not any(registry.iterdir()), sorted(registry.iterdir())
    left = git(context, "count-objects", "-v")
    assert "\npacks: 0\n" in left, left  # the scenarios' repositories have no packs of their own
    # Only the user's own objects remain: everything in the object store is reachable.
    unreachable = git(context, "fsck", "--unreachable", "--no-reflogs")
    assert unreachable.strip() == "", unreachable


@then('every writer either finished or failed with "not found"')
def writers_done(context):  # type: ignore[no-untyped-def]
    for _out, err, code in context.outputs:
        assert code in (0, 3), err
    assert any(code == 3 for _, _, code in context.outputs), "no writer was cut off by cancel"


@when('I record in "{plan}" from changeset 0 the change "{content}" to "{path}"')
def record_from_root(context, plan, content, path):  # type: ignore[no-untyped-def]
    from common_steps import unescape

    data = None if content == "<delete>" else unescape(content)
    root = git(context, "rev-list", "--reverse", f"refs/changesets/{plan}", "^HEAD").split()[0]
    parent = root if path == "other.txt" else 0  # a commit id names the same state as 0
    attempt(
        context,
        lambda: context.store.record(plan, {path: data}, ToolInvocation(tool="second"), parent=parent),
    )


@when("a writer is paused between its two ref updates while another writer records")
def paused_writer(context):  # type: ignore[no-untyped-def]
    """Interleave two real writers by hand at the one point that matters."""
    other = PlanStore.open(context.repo)
    context.results = []

    def second_writer() -> None:
        # The first writer has moved the notes ref; the second writer now runs to the end,
        # finishing the first writer's record on its way (refs.settle).
        context.results.append(other.record("busy", {"second": b"2\n"}, ToolInvocation(tool="B")))

    with faults.at("refs.between-notes-and-plan", second_writer):
        context.results.append(context.store.record("busy", {"first": b"1\n"}, ToolInvocation(tool="A")))


@then("both writers succeed")
def both_ok(context):  # type: ignore[no-untyped-def]
    numbers = sorted(changeset.number for changeset in context.results)
    assert numbers == [1, 2], context.results


def _interleave(context, point: str, interloper) -> None:  # type: ignore[no-untyped-def]
    """Record in "busy", running `interloper` once when the writer reaches `point`."""
    written: list[str] = []

    def note_pack_then_interlope() -> None:
        # The objects this writer wrote: its newest pack, as listed in the plan's registry.
        newest = packs.owned_packs(context.store._repo, "busy")[-1]
        written.extend(oid.hex() for oid in packs.pack_object_ids(context.store._repo, newest) or [])
        interloper()

    with faults.at(point, note_pack_then_interlope):
        attempt(context, lambda: context.store.record("busy", {"mine": b"1\n"}, ToolInvocation(tool="A")))
    context.written = written
    context.results = [context.result] if context.result else []


@when("another writer records just before this writer moves the notes ref")
def lose_notes_race(context):  # type: ignore[no-untyped-def]
    other = PlanStore.open(context.repo)
    collected = []
    _interleave(
        context,
        "refs.before-notes",
        lambda: collected.append(other.record("busy", {"theirs": b"2\n"}, ToolInvocation(tool="B"))),
    )
    context.results += collected


@when("the plan is cancelled just before this writer moves the {which} ref")
def cancelled_midway(context, which):  # type: ignore[no-untyped-def]
    other = PlanStore.open(context.repo)
    point = "refs.before-notes" if which == "notes" else "refs.between-notes-and-plan"
    _interleave(context, point, lambda: other.cancel("busy"))


@then("the writer's commit and note are gone from the object store")
def writer_objects_gone(context):  # type: ignore[no-untyped-def]
    assert len(context.written) >= 4, context.written  # blob, trees, commit, notes
    for oid in context.written:
        result = subprocess.run(["git", "cat-file", "-e", oid], cwd=context.repo, capture_output=True)
        assert result.returncode != 0, f"{oid} was left behind"


@given('I record in "{plan}" the file "{path}" with mode {mode:d} and its content')
def record_mode(context, plan, path, mode):  # type: ignore[no-untyped-def]
    from gitplan import File

    data = git(context, "show", f"HEAD:{path}").encode()
    lines = data.splitlines(keepends=True)
    lines[0] = b"first\n"
    context.store.record(plan, {path: File(b"".join(lines), int(str(mode), 8))}, ToolInvocation(tool="A"))


@when('I record in "{plan}" from changeset 0 the file "{path}" with mode {mode:d} and line 10 as "{text}"')
def record_mode_from_root(context, plan, path, mode, text):  # type: ignore[no-untyped-def]
    from gitplan import File

    edited = _line_edit(context, 10, text)
    change = {path: File(edited, int(str(mode), 8))}
    attempt(context, lambda: context.store.record(plan, change, ToolInvocation(tool="B"), parent=0))


@then('the tip of "{plan}" has "{path}" with mode {mode:d}')
def tip_mode(context, plan, path, mode):  # type: ignore[no-untyped-def]
    assert context.error is None, context.error
    listed = git(context, "ls-tree", f"refs/changesets/{plan}", path).split()
    assert listed[0] == str(mode), listed
    content = git(context, "show", f"refs/changesets/{plan}:{path}")
    assert content.startswith("first\n") and content.endswith("X\n"), content


@when('the plan ref of "{plan}" is moved by hand to the plan root just before this writer moves it')
def moved_by_hand(context, plan):  # type: ignore[no-untyped-def]
    first = context.store.record(plan, {"one": b"1\n"}, ToolInvocation(tool="first"))

    def move() -> None:
        git(context, "update-ref", f"refs/changesets/{plan}", first.parent)  # back to the root

    with faults.at("refs.between-notes-and-plan", move):
        attempt(context, lambda: context.store.record(plan, {"two": b"2\n"}, ToolInvocation(tool="B")))


@when('"git plan {args}" runs while an apply of "{plan}" is paused before its commits')
def while_applied(context, args, plan):  # type: ignore[no-untyped-def]
    """The apply stops once it has worked out what to commit (it holds the plan's lease and
    its publish gate); the other command, a process of its own, runs until it finds the
    gate held; then both go on. `{tmp}` in args is the scenario's scratch directory."""
    import shlex

    pauses = Path(context.tmp, "pauses")
    pauses.mkdir()
    points = f"apply.before-commits=pause:{pauses},transaction.apply-running=pause:{pauses}"
    env = dict(os.environ, GITPLAN_FAULTS=points)

    def start(*words: str) -> subprocess.Popen[str]:
        command = [sys.executable, "-m", "gitplan", *words]
        return subprocess.Popen(command, cwd=context.repo, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip

    applying = start("apply", plan)
    context.processes = [applying]
    _wait_for(context, pauses, "apply.before-commits", 1)
    other = start(*shlex.split(args.replace("{tmp}", context.tmp)))
    context.processes = [applying, other]
    _wait_for(context, pauses, "transaction.apply-running", 1)
    (pauses / "transaction.apply-running.go").touch()  # it now waits for the gate itself
    (pauses / "apply.before-commits.go").touch()
    context.outputs = [p.communicate(timeout=600) + (p.returncode,) for p in context.processes]


@then('the apply succeeded and the other command failed with exit code {code:d}, saying "{text}"')
def apply_won(context, code, text):  # type: ignore[no-untyped-def]
    (_, apply_err, apply_code), (_, err, other_code) = context.outputs
    assert apply_code == 0, apply_err
    assert other_code == code, (other_code, err)
    assert text in err, err


@then('HEAD has the tree of the tip of "{plan}"')
def head_is_tip(context, plan):  # type: ignore[no-untyped-def]
    tip = git(context, "rev-parse", f"refs/changesets/{plan}^{{tree}}")
    assert git(context, "rev-parse", "HEAD^{tree}") == tip


_RECORD_ONCE = (
    "import sys\n"
    "from gitplan import PlanStore, ToolInvocation\n"
    "store = PlanStore.open(sys.argv[1])\n"
    "invocation = ToolInvocation(tool='w', invocation_id=sys.argv[3])\n"
    "changeset, made = store.record_once(sys.argv[2], {sys.argv[4]: b'x\\n'}, invocation)\n"
    "print(changeset.number, made)\n"
)


@when(
    'two processes record invocation "{invocation}" into "{plan}", '
    "the second while the first has looked and not yet written"
)
def record_once_twice(context, invocation, plan):  # type: ignore[no-untyped-def]
    points = Path(context.tmp) / "once-points"
    points.mkdir()

    def start(path: str, faults: str | None) -> subprocess.Popen[str]:
        env = dict(os.environ, GITPLAN_FAULTS=faults) if faults else None
        command = [sys.executable, "-c", _RECORD_ONCE, context.repo, plan, invocation, path]
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

    first = start("first.txt", f"store.once-checked=pause:{points}")
    context.processes = [first]
    _wait_for(context, points, "store.once-checked", 1)
    # The first holds the plan's record-once lock between its look and its record.
    with packs.exclusive(PlanStore.open(context.repo)._repo, f"once-{plan}", blocking=False) as free:
        context.once_lock_free = free
    second = start("second.txt", None)
    (points / "store.once-checked.go").touch()
    context.outputs = [p.communicate(timeout=120) + (p.returncode,) for p in (first, second)]


@then("the first recorded changeset {number:d}, the second was given it, and the lock was held between")
def recorded_once(context, number):  # type: ignore[no-untyped-def]
    assert context.once_lock_free is False
    (first, err1, code1), (second, err2, code2) = context.outputs
    assert (code1, code2) == (0, 0), (err1, err2)
    assert first.split() == [str(number), "True"], first
    assert second.split() == [str(number), "False"], second
