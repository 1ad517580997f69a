"""Steps for crash.feature: SIGKILL a real `git plan apply` and check what is left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from behave import given, then, when
from common_steps import git
from concurrency_steps import _wait_for

from gitplan import PlanStore, ToolInvocation

APPLY = "import sys; from gitplan import PlanStore; PlanStore.open(sys.argv[1]).apply('big')"


@given(
    'a repository with {count:d} files and a plan "{plan}" that changes, adds and deletes {same:d} of them'
)
def big_repository(context, count, plan, same):  # type: ignore[no-untyped-def]
    context.repo = os.path.join(context.tmp, "repo")
    os.makedirs(context.repo)
    git(context, "init", "-q")
    stream = ["commit refs/heads/main", "committer t <t@e> 0 +0000", "data 4", "base"]
    for i in range(count):
        body = f"file {i}\nline two\n"
        stream.append(f"M 100644 inline d{i % 10}/f{i}.txt\ndata {len(body)}\n{body}")
    subprocess.run(
        ["git", "fast-import", "--quiet"],
        cwd=context.repo,
        check=True,
        input=("\n".join(stream) + "\n").encode(),
    )
    git(context, "reset", "-q", "--hard", "main")
    store = PlanStore.open(context.repo)
    store.create(plan)
    changes: dict[str, bytes | None] = {}
    for i in range(same):
        if i % 3 == 0:
            changes[f"d{i % 10}/f{i}.txt"] = f"file {i}\nline two changed\n".encode()
        elif i % 3 == 1:
            changes[f"d{i % 10}/f{i}.txt"] = None
        else:
            changes[f"new{i % 7}/n{i}.txt"] = b"added\n"
    store.record(plan, changes, ToolInvocation(tool="bulk"))
    context.base = git(context, "rev-parse", "HEAD").strip()
    context.base_tree = git(context, "rev-parse", "HEAD^{tree}").strip()
    context.tip_tree = git(context, "rev-parse", f"refs/changesets/{plan}^{{tree}}").strip()
    context.plan_refs = {
        ref: git(context, "rev-parse", ref).strip()
        for ref in (f"refs/changesets/{plan}", f"refs/notes/changesets/{plan}")
    }


def _reset(context) -> None:  # type: ignore[no-untyped-def]
    git(context, "reset", "-q", "--hard", context.base)
    git(context, "clean", "-q", "-fdx")
    for ref, value in context.plan_refs.items():
        git(context, "update-ref", ref, value)
    subprocess.run(["rm", "-rf", os.path.join(context.repo, ".git", "gitplan")], check=True)


def _run_apply(context):  # type: ignore[no-untyped-def]
    return subprocess.Popen(
        [sys.executable, "-c", APPLY, context.repo], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _wait_until_nothing_runs_in(directory: str) -> None:
    """Wait (a minute at most) until no process but this one works in `directory`: the
    git commands a killed apply ran die with it (git removes its locks as it does)."""
    top = os.path.realpath(directory)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        busy = False
        for entry in Path("/proc").glob("[0-9]*"):
            if int(entry.name) == os.getpid():
                continue
            try:
                cwd = os.readlink(entry / "cwd")
                zombie = ") Z " in (entry / "stat").read_text(errors="replace")
            except OSError:
                continue
            if not zombie and (cwd == top or cwd.startswith(top + os.sep)):
                busy = True
                break
        if not busy:
            return
        time.sleep(0.01)


@when('I kill a real "git plan apply {plan}" at {moments:d} moments spread over its run')
def kill_many(context, plan, moments):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    whole = _run_apply(context)
    _, stderr = whole.communicate(timeout=300)
    assert whole.returncode == 0, stderr.decode(errors="replace")
    duration = time.monotonic() - started
    context.outcomes = []
    for n in range(moments):
        _reset(context)
        process = _run_apply(context)
        delay = duration * 1.5 * n / (moments - 1)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        _, stderr = process.communicate()
        _wait_until_nothing_runs_in(context.repo)  # the crash is over
        journal = Path(context.repo, ".git", "gitplan", "apply.json").exists()
        where = f"kill {n} after {delay:.3f} s of {duration:.3f} s (exit {process.returncode})"
        try:
            PlanStore.open(context.repo).recover()  # git plan recover, or any writing command
            outcome = {
                "journal": journal,
                "head": git(context, "rev-parse", "HEAD").strip(),
                "head_tree": git(context, "rev-parse", "HEAD^{tree}").strip(),
                "index_tree": git(context, "write-tree").strip(),
                "status": git(context, "status", "--porcelain"),
                "state": PlanStore.open(context.repo).status(plan).state,
            }
        except Exception as error:  # say which kill left what, not only that one did
            state_dir = Path(context.repo, ".git", "gitplan")
            files = sorted(str(p.relative_to(state_dir)) for p in state_dir.rglob("*"))
            raise AssertionError(
                f"{where}: {type(error).__name__}: {error}\napply's stderr: "
                f"{stderr.decode(errors='replace')[-2000:]}\n.git/gitplan holds: {files[:40]}"
            ) from error
        context.outcomes.append({**outcome, "where": where})


@then("after each kill and the next git plan command, HEAD, index and worktree are all old or all applied")
def all_or_nothing(context):  # type: ignore[no-untyped-def]
    for outcome in context.outcomes:
        if outcome["head"] == context.base:
            assert outcome["index_tree"] == context.base_tree, outcome
            assert outcome["state"] == "open", outcome
        else:
            assert outcome["head_tree"] == context.tip_tree, outcome
            assert outcome["index_tree"] == context.tip_tree, outcome
            assert outcome["state"] == "applied", outcome


@then("git status is clean after every kill")
def clean_each(context):  # type: ignore[no-untyped-def]
    assert all(outcome["status"] == "" for outcome in context.outcomes), context.outcomes


# A smudge filter (git runs it once per file it writes, in order) that, at the Nth file,
# SIGKILLs the apply (whose pid the test hands it) and the git that runs the filter, then
# passes every later file through untouched (recovery writes files too).
_KILLER = """#!/bin/sh
state={state}
n=$(( $(cat "$state/count" 2>/dev/null || echo 0) + 1 ))
echo $n > "$state/count"
if [ $n -eq {at} ] && [ ! -e "$state/fired" ]; then
    : > "$state/fired"
    while [ ! -s "$state/apply.pid" ]; do sleep 0.01; done
    kill -9 "$(cat "$state/apply.pid")" $PPID
    exit 1
fi
exec cat
"""


@given("a smudge filter that kills the apply and its git at the {at:d}th file git writes")
def killing_filter(context, at):  # type: ignore[no-untyped-def]
    state = Path(context.tmp, "killer")
    state.mkdir()
    script = state / "smudge"
    script.write_text(_KILLER.format(state=state, at=at))
    script.chmod(0o755)
    git(context, "config", "filter.killer.smudge", str(script))
    # Outside the trees: the base and the plan stay as they are.
    Path(context.repo, ".git", "info", "attributes").write_text("* filter=killer\n")
    context.killer = state


@when('a real "git plan apply {plan}" runs until the filter kills it')
def apply_until_killed(context, plan):  # type: ignore[no-untyped-def]
    process = subprocess.Popen(
        [sys.executable, "-m", "gitplan", "-C", context.repo, "apply", plan],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    (context.killer / "apply.pid").write_text(str(process.pid))
    _, stderr = process.communicate(timeout=300)
    _wait_until_nothing_runs_in(context.repo)
    assert process.returncode == -signal.SIGKILL, (process.returncode, stderr.decode(errors="replace"))
    assert (context.killer / "fired").exists()


@then("some of the files the plan writes hold its content and some do not")
def torn_worktree(context):  # type: ignore[no-untyped-def]
    names = git(context, "diff", "--name-only", "--diff-filter=AM", context.base, context.tip_tree)
    wanted = [name for name in names.split("\n") if name]
    written = [
        path
        for path in wanted
        if Path(context.repo, path).exists()
        and Path(context.repo, path).read_text()
        == git(context, "cat-file", "blob", f"{context.tip_tree}:{path}")
    ]
    assert 0 < len(written) < len(wanted), (len(written), len(wanted))


@then("the apply's journal is left")
def journal_left(context):  # type: ignore[no-untyped-def]
    assert Path(context.repo, ".git", "gitplan", "apply.json").exists()


@then("HEAD, index and worktree are the {state} ones")
def old_or_applied(context, state):  # type: ignore[no-untyped-def]
    head, tree = (context.base, context.base_tree) if state == "old" else (None, context.tip_tree)
    if head is not None:
        assert git(context, "rev-parse", "HEAD").strip() == head
    assert git(context, "rev-parse", "HEAD^{tree}").strip() == tree
    assert git(context, "write-tree").strip() == tree
    assert git(context, "status", "--porcelain") == ""
    expected = "open" if state == "old" else "applied"
    assert PlanStore.open(context.repo).status("big").state == expected


@when('the dead apply\'s lock on "{ref}" is left behind')
def dead_lock_left(context, ref):  # type: ignore[no-untyped-def]
    Path(context.repo, ".git", f"{ref}.lock").write_text(git(context, "rev-parse", "HEAD"))


@then("the user can commit with git")
def user_commits_with_git(context):  # type: ignore[no-untyped-def]
    git(context, "commit", "-q", "--allow-empty", "-m", "after the crash")
    assert git(context, "log", "-1", "--format=%s").strip() == "after the crash"


@when('the user commits on branch "{branch}"')
def user_commits_on_branch(context, branch):  # type: ignore[no-untyped-def]
    tip = git(context, "rev-parse", branch).strip()
    commit = git(context, "commit-tree", f"{tip}^{{tree}}", "-p", tip, "-m", "built on the plan").strip()
    git(context, "update-ref", f"refs/heads/{branch}", commit, tip)


@when('the user makes branch "{branch}" from main and prunes everything unreachable')
def user_branch_and_prune(context, branch):  # type: ignore[no-untyped-def]
    git(context, "branch", branch, "main")
    git(context, "reflog", "expire", "--expire=now", "--all")
    git(context, "gc", "-q", "--prune=now")


@when('a real "git plan {args}" in the linked worktree is killed at "{point}"')
def killed_in_linked(context, args, point):  # type: ignore[no-untyped-def]
    environment = dict(os.environ, GITPLAN_FAULTS=f"{point}=exit:137")
    command = [sys.executable, "-m", "gitplan", *args.split()]
    done = subprocess.run(command, cwd=context.linked, env=environment, capture_output=True, text=True)
    assert done.returncode == 137, (done.returncode, done.stdout, done.stderr)


@when('I run git plan "{args}" in the linked worktree')
def run_in_linked(context, args):  # type: ignore[no-untyped-def]
    from cli_steps import _run

    repo = context.repo
    context.repo = context.linked
    try:
        _run(context, args)
    finally:
        context.repo = repo


@when('two "git plan apply {plan}" start while an apply killed at "{point}" awaits recovery')
def two_recovering_applies(context, plan, point):  # type: ignore[no-untyped-def]
    """The first apply recovers the killed one and stops as it publishes the plan record;
    the second starts and reaches its own recovery; then the first goes on. Neither may
    wait for the other for good."""
    pauses = Path(context.tmp, "pauses")
    pauses.mkdir()
    command = [sys.executable, "-m", "gitplan", "apply", plan]
    killed = subprocess.run(command, cwd=context.repo, env=dict(os.environ, GITPLAN_FAULTS=f"{point}=exit"))
    assert killed.returncode == 137, killed

    def start(spec: str) -> subprocess.Popen[str]:
        env = dict(os.environ, GITPLAN_FAULTS=spec)
        return subprocess.Popen(command, cwd=context.repo, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip

    first = start(f"transaction.before-publish=pause:{pauses}")
    context.processes = [first]
    _wait_for(context, pauses, "transaction.before-publish", 1)
    second = start(f"recover.locking=mark:{pauses}")
    context.processes = [first, second]
    _wait_for(context, pauses, "recover.locking", 1)
    (pauses / "transaction.before-publish.go").touch()
    context.outputs = [p.communicate(timeout=120) + (p.returncode,) for p in (first, second)]


@then('both applies say "{text}" with exit code {code:d}')
def both_applies(context, text, code):  # type: ignore[no-untyped-def]
    for _out, err, returncode in context.outputs:
        assert returncode == code and text in err, (returncode, err)


@when('a real "git plan {args}" is sent {signal_name} at "{point}"')
def signalled_at(context, args, signal_name, point):  # type: ignore[no-untyped-def]
    """The command paused at fault point `point` (no sleeps), then sent the signal there."""
    pauses = Path(context.tmp, f"pauses-{point}")
    pauses.mkdir()
    environment = dict(os.environ, GITPLAN_FAULTS=f"{point}=pause:{pauses}")
    command = [sys.executable, "-m", "gitplan", *args.split()]
    process = subprocess.Popen(command, cwd=context.repo, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    context.processes = [process]
    _wait_for(context, pauses, point, 1)
    process.send_signal(getattr(signal, signal_name))
    (pauses / f"{point}.go").touch()  # (the handler runs once the pause's sleep returns)
    _out, err = process.communicate(timeout=120)
    context.signalled = (process.returncode, err)


@then("it ended with exit code {code:d}")
def signalled_exit(context, code):  # type: ignore[no-untyped-def]
    assert context.signalled[0] == code, context.signalled
