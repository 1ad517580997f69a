"""Steps for run.feature and invocation.feature: commands and tool calls recorded as they happen."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from behave import given, then, when
from common_steps import git, unescape

from gitplan import faults


def _commit(context, plan: str, number: int) -> str:  # type: ignore[no-untyped-def]
    """The commit whose `Changeset:` trailer is `number`, found with git log."""
    listing = git(
        context,
        "log",
        "--format=%H %(trailers:key=Changeset,valueonly,separator=)",
        f"refs/changesets/{plan}",
    )
    for line in listing.splitlines():
        commit, _, found = line.partition(" ")
        if found.strip() == str(number):
            return commit
    raise AssertionError(f"no changeset {number} in {listing}")


def _note(context, plan: str, number: int) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """Changeset `number`'s invocation record, read with git notes (not with gitplan)."""
    text = git(context, "notes", f"--ref=changesets/{plan}", "show", _commit(context, plan, number))
    return json.loads(text)  # type: ignore[no-any-return]


def _words(context, args: str) -> list[str]:  # type: ignore[no-untyped-def]
    return shlex.split(args.replace("{tmp}", context.tmp).replace("{repo}", context.repo))


def _wait_for(path: Path, what: str) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.01)


@then('the record of changeset {number:d} of "{plan}" has {field} = {value}')
def record_field(context, number, plan, field, value):  # type: ignore[no-untyped-def]
    record = _note(context, plan, number)
    expected = json.loads(value.replace("@CWD@", os.path.realpath(context.repo)))
    assert record.get(field) == expected, f"{field}: {record.get(field)!r}"


@then('the record of changeset {number:d} of "{plan}" has {field} starting "{text}"')
def record_field_start(context, number, plan, field, text):  # type: ignore[no-untyped-def]
    record = _note(context, plan, number)
    assert str(record.get(field)).startswith(text), record.get(field)


@then('the record of changeset {number:d} of "{plan}" has started_at, finished_at and duration_ms measured')
def record_timed(context, number, plan):  # type: ignore[no-untyped-def]
    record = _note(context, plan, number)
    assert record["started_at"] and record["finished_at"], record
    assert record["started_at"] <= record["finished_at"], record
    assert isinstance(record["duration_ms"], int) and record["duration_ms"] >= 0, record


@then('the note of changeset {number:d} of "{plan}" does not contain "{text}"')
def note_lacks(context, number, plan, text):  # type: ignore[no-untyped-def]
    commit = _commit(context, plan, number)
    note = git(context, "notes", f"--ref=changesets/{plan}", "show", commit)
    message = git(context, "log", "-1", "--format=%B", commit)
    assert text not in note and text not in message, note


@then('the file "{name}" was not made outside the repository')
def not_made(context, name):  # type: ignore[no-untyped-def]
    assert not Path(context.tmp, name).exists()


@when('git plan "{args}" is started in the background')
def start_background(context, args):  # type: ignore[no-untyped-def]
    command = [sys.executable, "-m", "gitplan", *_words(context, args)]
    process = subprocess.Popen(command, cwd=context.repo, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    context.background = process
    context.processes = [*getattr(context, "processes", []), process]


@when('"{path}" exists')
def exists(context, path):  # type: ignore[no-untyped-def]
    _wait_for(Path(path.replace("{tmp}", context.tmp)), f"{path} to appear")


@when('"{path}" is made')
def made(context, path):  # type: ignore[no-untyped-def]
    Path(path.replace("{tmp}", context.tmp)).touch()


@then('the file "{path}" names plan worktree {number:d}')
def names_worktree(context, path, number):  # type: ignore[no-untyped-def]
    where = Path(path.replace("{tmp}", context.tmp)).read_text().strip()
    assert f"/gitplan/worktrees/p/{number}/" in where + "/", where


@when('"{path}" is created and the background run ends')
def release_background(context, path):  # type: ignore[no-untyped-def]
    Path(path.replace("{tmp}", context.tmp)).touch()
    output, _ = context.background.communicate(timeout=120)
    context.background_output = output.decode(errors="replace")


@then("the background run exited {code:d}")
def background_exit(context, code):  # type: ignore[no-untyped-def]
    assert context.background.returncode == code, (context.background.returncode, context.background_output)


@then('the background run printed "{text}"')
def background_printed(context, text):  # type: ignore[no-untyped-def]
    assert text in context.background_output, context.background_output


@when('the git-plan program runs "{args}" and is killed at "{point}"')
def killed_at(context, args, point):  # type: ignore[no-untyped-def]
    environment = dict(os.environ, GITPLAN_FAULTS=f"{point}=exit:137")
    command = [sys.executable, "-m", "gitplan", *_words(context, args)]
    done = subprocess.run(command, cwd=context.repo, env=environment, capture_output=True, text=True)
    assert done.returncode == 137, (done.returncode, done.stdout, done.stderr)


@then("there are no plan worktrees")
def no_plan_worktrees(context):  # type: ignore[no-untyped-def]
    root = Path(context.repo, ".git", "gitplan", "worktrees")
    left = list(root.iterdir()) if root.exists() else []
    assert not left, left
    admin = Path(context.repo, ".git", "worktrees")
    assert not admin.exists() or not list(admin.iterdir()), list(admin.iterdir())


@then('the JSON document on standard output is a "{schema}" with exit_code {code:d}')
def json_document(context, schema, code):  # type: ignore[no-untyped-def]
    document = json.loads(context.cli.stdout)
    assert document["schema"] == schema, document
    assert document["exit_code"] == code, document


@given('the environment has {name} = "{value}"')
def environment_value(context, name, value):  # type: ignore[no-untyped-def]
    os.environ[name] = value


@then('the output shows "{text}"')
def output_shows(context, text):  # type: ignore[no-untyped-def]
    assert unescape(text).decode() in context.cli_output, context.cli_output


@then("standard output is the numbers 0 to 999, one per line")
def stdout_numbers(context):  # type: ignore[no-untyped-def]
    assert context.cli.stdout == "".join(f"{n}\n" for n in range(1000)), context.cli.stdout[-200:]


@then('standard error shows "{text}"')
def stderr_shows(context, text):  # type: ignore[no-untyped-def]
    assert unescape(text).decode() in context.cli.stderr, context.cli.stderr


@then('the output lists no untracked path but "{allowed}"')
def untracked_only(context, allowed):  # type: ignore[no-untyped-def]
    untracked = [line for line in context.cli_output.splitlines() if line.startswith("?? ")]
    assert untracked in ([], [f"?? {allowed}"]), untracked


@when("git left an index.lock in the plan's worktree {number:d}")
def left_index_lock(context, number):  # type: ignore[no-untyped-def]
    checkout = Path(context.repo, ".git", "gitplan", "worktrees", "p", str(number), "p")
    admin = Path((checkout / ".git").read_text().split(": ", 1)[1].strip())
    (admin / "index.lock").write_text("")


@then('the process in "{name}" is gone')
def process_gone(context, name):  # type: ignore[no-untyped-def]
    pid = int(Path(context.tmp, name).read_text())
    stat = Path(f"/proc/{pid}/stat")
    deadline = time.monotonic() + 30  # the kernel reaps a killed orphan when init gets to it
    while stat.exists() and stat.read_text().split(") ")[1][0] != "Z":
        assert time.monotonic() < deadline, f"process {pid} still runs"
        time.sleep(0.01)


@then('I kill the process in "{name}"')
def kill_process(context, name):  # type: ignore[no-untyped-def]
    pid = int(Path(context.tmp, name).read_text())
    os.kill(pid, 9)


@when('a process with {count:d} open files runs "{script}" in "{plan}"')
def many_files(context, count, script, plan):  # type: ignore[no-untyped-def]
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, count + 200), max(hard, count + 200)))
    handles = [os.open(os.devnull, os.O_RDONLY) for _ in range(count)]
    try:
        context.store.run(plan, ["sh", "-c", script], tool="sh")
    finally:
        for handle in handles:
            os.close(handle)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@given('store.run is called on "{plan}" with argv {argv} and options {options}')
@when('store.run is called on "{plan}" with argv {argv} and options {options}')
def store_run_call(context, plan, argv, options):  # type: ignore[no-untyped-def]
    from common_steps import attempt

    arguments = json.loads(argv)
    settings = json.loads(options)
    attempt(context, lambda: context.store.run(plan, arguments, tool="t", **settings))


@when("the background run is interrupted with Ctrl-C")
def interrupt_background(context):  # type: ignore[no-untyped-def]
    import signal

    context.background.send_signal(signal.SIGINT)
    output, _ = context.background.communicate(timeout=120)
    context.background_output = output.decode(errors="replace")


@when('the git-plan program runs "{args}" into a reader that stops after one line')
def run_into_short_reader(context, args):  # type: ignore[no-untyped-def]
    command = [sys.executable, "-m", "gitplan", *_words(context, args)]
    writer = subprocess.Popen(command, cwd=context.repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert writer.stdout is not None
    writer.stdout.readline()
    writer.stdout.close()
    writer.wait(timeout=120)
    assert writer.returncode == 0, writer.stderr.read() if writer.stderr else ""


@when('the git-plan program runs "{args}" into a reader that starts {seconds:d} s after "{name}" is written')
def run_into_late_reader(context, args, seconds, name):  # type: ignore[no-untyped-def]
    command = [sys.executable, "-m", "gitplan", *_words(context, args)]
    writer = subprocess.Popen(command, cwd=context.repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for(Path(context.tmp, name), "the command's end")
    time.sleep(seconds)  # longer than gitplan waits for a process left behind
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    context.reader_got = out


@then("the reader got every line")
def reader_got_all(context):  # type: ignore[no-untyped-def]
    assert context.reader_got.endswith(b"\n14999\n15000\n"), context.reader_got[-100:]


@then('the record of changeset {number:d} of "{plan}" has {field} ending "{text}"')
def record_field_end(context, number, plan, field, text):  # type: ignore[no-untyped-def]
    record = _note(context, plan, number)
    assert str(record.get(field)).endswith(unescape(text).decode()), record.get(field)


@when('store.run of "{command}" in "{plan}" runs in a thread')
def run_in_thread(context, command, plan):  # type: ignore[no-untyped-def]
    import threading

    failures = []

    def work() -> None:
        try:
            context.store.run(plan, shlex.split(command), tool="sh")
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=120)
    assert not failures, failures


@when('gc replaces the slot lock just as a run of "{command}" in "{plan}" opens it')
def lock_replaced(context, command, plan):  # type: ignore[no-untyped-def]
    from gitplan import faults

    lock = Path(context.repo, ".git", "gitplan", "worktrees", plan, "0", "lock")

    def replace_lock() -> None:
        lock.unlink()
        lock.write_text("")

    with faults.at("slot.lock-opened", replace_lock):
        context.store.run(plan, shlex.split(command), tool="sh")


@when('the user deletes the refs of plan "{plan}" with git update-ref')
def delete_refs(context, plan):  # type: ignore[no-untyped-def]
    git(context, "update-ref", "-d", f"refs/changesets/{plan}")
    git(context, "update-ref", "-d", f"refs/notes/changesets/{plan}")


@when("the background run is sent SIGTERM")
def terminate_background(context):  # type: ignore[no-untyped-def]
    context.background.terminate()
    output, _ = context.background.communicate(timeout=120)
    context.background_output = output.decode(errors="replace")


@when('a writer from changeset 0 replaces the directory "{directory}" by a file')
def replace_directory(context, directory):  # type: ignore[no-untyped-def]
    from common_steps import attempt

    from gitplan import ToolInvocation

    changes: dict[str, bytes | None] = {directory: b"file\n", f"{directory}/app.py": None}
    invocation = ToolInvocation(tool="writer")
    attempt(context, lambda: context.store.record("p", changes, invocation, parent=0))


@then('the plan worktree remembers the directories "{kept}" and not "{left_out}"')
def remembered(context, kept, left_out):  # type: ignore[no-untyped-def]
    data = Path(context.repo, ".git", "gitplan", "worktrees", "p", "0", "left-directories").read_bytes()
    found = {os.fsdecode(name) for name in data.split(b"\0") if name}
    assert set(kept.split()) <= found, found
    assert not any(name == left_out or name.startswith(left_out + "/") for name in found), found


@then('this process keeps the watches of the worktree of plan "{plan}"')
def keeps_watches(context, plan):  # type: ignore[no-untyped-def]
    from gitplan import watch

    worktrees = Path(context.repo, ".git", "gitplan", "worktrees", plan).resolve()
    kept = [top for top in watch._kept if Path(top).resolve().is_relative_to(worktrees)]
    assert kept, list(watch._kept)


@given('a directory tree "{name}" with the directories "{first}", "{second}" and "{third}"')
def directory_tree(context, name, first, second, third):  # type: ignore[no-untyped-def]
    for directory in (first, second, third):
        Path(context.tmp, name, directory).mkdir(parents=True, exist_ok=True)


@when('a watcher of "{name}" watching "{first}", "{second}" and "{third}" stops')
def watcher_stops(context, name, first, second, third):  # type: ignore[no-untyped-def]
    from gitplan import watch

    context.watcher = watch.start(str(Path(context.tmp, name)), [first, second, third])
    assert context.watcher is not None
    context.first_watcher = context.watcher
    assert context.watcher.stop() == set()


@when('a watcher of "{name}" watching "{first}", "{second}" and "{third}" starts')
def watcher_starts(context, name, first, second, third):  # type: ignore[no-untyped-def]
    from gitplan import watch

    context.watcher = watch.start(str(Path(context.tmp, name)), [first, second, third])
    assert context.watcher is not None


@when('"{path}" in "{name}" is written')
def write_in_tree(context, path, name):  # type: ignore[no-untyped-def]
    Path(context.tmp, name, path).write_text("x\n")


@when('the directory "{path}" is made')
def make_directory(context, path):  # type: ignore[no-untyped-def]
    Path(context.tmp, path).mkdir()


@when('"{source}" is moved to "{target}"')
def move_directory(context, source, target):  # type: ignore[no-untyped-def]
    Path(context.tmp, source).rename(Path(context.tmp, target))


@when('the directory "{path}" is removed')
def remove_directory(context, path):  # type: ignore[no-untyped-def]
    Path(context.tmp, path).rmdir()


@then("it is the kept watcher")
def is_kept_watcher(context):  # type: ignore[no-untyped-def]
    assert context.watcher is context.first_watcher


@then("it is a new watcher")
def is_new_watcher(context):  # type: ignore[no-untyped-def]
    assert context.watcher is not context.first_watcher


@when('"{path}" in "{name}" is written and the watcher stops')
def write_and_stop(context, path, name):  # type: ignore[no-untyped-def]
    Path(context.tmp, name, path).write_text("after\n")
    context.seen = context.watcher.stop()


@then('it saw exactly "{path}"')
def saw_exactly(context, path):  # type: ignore[no-untyped-def]
    assert context.seen == {path}, context.seen


@when('store.run runs "{script}" in "{plan}" and descriptors run out once "{name}" is written')
def descriptors_run_out(context, script, plan, name):  # type: ignore[no-untyped-def]
    import errno

    from common_steps import attempt

    written = Path(context.tmp, name)
    calls = [0]

    def third_dup_fails() -> None:  # the first two succeed: it fails halfway
        calls[0] += 1
        if calls[0] == 3:
            _wait_for(written, f"the command to write {name}")
            raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))

    context.descriptors_before = sorted(os.listdir("/proc/self/fd"))
    command = ["sh", "-c", script.replace("{tmp}", str(context.tmp))]
    with faults.at("run.dup", third_dup_fails, times=4):
        attempt(context, lambda: context.store.run(plan, command, tool="sh"))


@then("this process has the descriptors it had before")
def same_descriptors(context):  # type: ignore[no-untyped-def]
    # (The first run's watcher stays open for the next run, so it is among those before.)
    assert sorted(os.listdir("/proc/self/fd")) == context.descriptors_before


@then('the repository has no file "{path}"')
def no_file(context, path):  # type: ignore[no-untyped-def]
    assert not (Path(context.repo) / path).exists(), (Path(context.repo) / path).read_text()


@when("the plan worktrees are deleted by hand")
def plan_worktrees_deleted(context):  # type: ignore[no-untyped-def]
    shutil.rmtree(Path(context.repo, ".git", "gitplan", "worktrees"))


@when('on a terminal I run git plan "{args}"')
def run_on_terminal(context, args):  # type: ignore[no-untyped-def]
    spawn = "import pty, sys\nsys.exit(pty.spawn(sys.argv[1:]) >> 8)\n"
    command = [sys.executable, "-c", spawn, sys.executable, "-m", "gitplan", "-C", context.repo]
    done = subprocess.run([*command, *_words(context, args)], capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout.decode(errors="replace")


_NEVER_REAPS = """\
import ctypes, json, os, subprocess, sys, time
ctypes.CDLL(None).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER: orphans become ours, and are never reaped
base = [sys.executable, "-m", "gitplan", "-C", sys.argv[1]]
first, second = json.loads(sys.argv[3]), json.loads(sys.argv[4])
subprocess.run(base + first, check=True, capture_output=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.01)
time.sleep(0.2)  # (the orphan's exit, which leaves it a zombie of ours)
subprocess.run(base + second, check=True, capture_output=True)
"""


@when('a process never reaping orphans runs git plan "{first}", once "{path}" exists "{second}"')
def never_reaping(context, first, path, second):  # type: ignore[no-untyped-def]
    marker = path.replace("{tmp}", context.tmp)
    words = [json.dumps(_words(context, first)), json.dumps(_words(context, second))]
    done = subprocess.run(
        [sys.executable, "-c", _NEVER_REAPS, context.repo, marker, *words], capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
