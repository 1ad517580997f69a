"""Steps for apply.feature: user state checked with git after each path."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from behave import given, then, when
from common_steps import attempt, git, snapshot, unescape

from gitplan import PlanStore


@when('I apply "{plan}" keeping it on failure')
def apply_keep(context, plan):  # type: ignore[no-untyped-def]
    attempt(context, lambda: context.store.apply(plan, keep_on_failure=True))


@when('I check applying "{plan}"')
def apply_check(context, plan):  # type: ignore[no-untyped-def]
    attempt(context, lambda: context.store.apply(plan, check=True))


@when('I apply "{plan}" in worktree mode')
def apply_worktree(context, plan):  # type: ignore[no-untyped-def]
    attempt(context, lambda: context.store.apply(plan, mode="worktree"))


@when('I apply "{plan}" as branch "{branch}"')
def apply_branch(context, plan, branch):  # type: ignore[no-untyped-def]
    attempt(context, lambda: context.store.apply(plan, mode="branch", branch=branch))


@when('I replay "{plan}"')
def replay(context, plan):  # type: ignore[no-untyped-def]
    context.head_before = git(context, "rev-parse", "HEAD").strip()
    attempt(context, lambda: context.store.apply(plan, replay=True))


@when('I apply "{plan}"')
def apply(context, plan):  # type: ignore[no-untyped-def]
    context.base = context.store.status(plan).base if context.store.plans() else None
    attempt(context, lambda: context.store.apply(plan))


@then("HEAD is a new commit whose tree is the plan's tip tree")
def head_tree(context):  # type: ignore[no-untyped-def]
    assert git(context, "rev-parse", "HEAD^{tree}") == git(context, "rev-parse", "refs/changesets/p^{tree}")
    assert "Plan-Id: p" in git(context, "log", "-1", "--format=%B")


@then("git status is clean")
def status_clean(context):  # type: ignore[no-untyped-def]
    assert git(context, "status", "--porcelain") == "", git(context, "status", "--porcelain")


@then('the plan "{plan}" is marked applied')
def marked(context, plan):  # type: ignore[no-untyped-def]
    status = PlanStore.open(context.repo).status(plan)
    assert status.state == "applied" and status.applied, status


@then('the plan "{plan}" is marked applied, by a {strategy}')
def marked_by(context, plan, strategy):  # type: ignore[no-untyped-def]
    status = PlanStore.open(context.repo).status(plan)
    assert status.state == "applied" and status.applied["strategy"] == strategy, status


@then('the worktree file "{path}" is "{content}"')
def worktree_file(context, path, content):  # type: ignore[no-untyped-def]
    assert (Path(context.repo) / path).read_bytes() == unescape(content)


@then("the rescue patch holds the plan's diff")
def rescue(context):  # type: ignore[no-untyped-def]
    patch = getattr(context.error, "rescue_patch", None)
    assert patch and os.path.exists(patch), context.error
    text = Path(patch).read_text()
    assert "+FIVE" in text and str(patch) in str(context.error)
    # The saved patch must reproduce the plan on its base, checked by git apply.
    base = git(context, "rev-list", "--max-parents=0", "HEAD").strip()
    index = os.path.join(context.tmp, "rescue-index")
    env = {**os.environ, "GIT_INDEX_FILE": index}
    subprocess.run(["git", "read-tree", base], cwd=context.repo, env=env, check=True)
    applied = subprocess.run(
        ["git", "apply", "--cached", patch], cwd=context.repo, env=env, capture_output=True, text=True
    )
    assert applied.returncode == 0, applied.stderr
    tree = subprocess.run(
        ["git", "write-tree"], cwd=context.repo, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert git(context, "show", f"{tree}:README.md") == "one\ntwo\nthree\nfour\nFIVE\n"
    assert git(context, "show", f"{tree}:new.txt") == "new\n"


@given('the user edits "{path}" to "{content}" without committing')
def edit_dirty(context, path, content):  # type: ignore[no-untyped-def]
    target = Path(context.repo) / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(unescape(content))


@then('HEAD is still the base of "{plan}"')
def head_is_base(context, plan):  # type: ignore[no-untyped-def]
    base = PlanStore.open(context.repo).status(plan).base
    assert git(context, "rev-parse", "HEAD").strip() == base


@then('the user\'s state is unchanged except branch "{branch}"')
def unchanged_but_branch(context, branch):  # type: ignore[no-untyped-def]
    after = snapshot(context)
    refs = "\n".join(r for r in after["refs"].splitlines() if f"refs/heads/{branch}" not in r)
    assert refs == context.before["refs"]
    for key in ("HEAD", "index", "files", "status"):
        assert after[key] == context.before[key], key


@then('branch "{branch}" has the plan\'s tip tree')
def branch_tree(context, branch):  # type: ignore[no-untyped-def]
    assert git(context, "rev-parse", f"{branch}^{{tree}}") == git(
        context, "rev-parse", "refs/changesets/p^{tree}"
    )


@then('HEAD has {count:d} new commits authored by "{author}"')
def replayed(context, count, author):  # type: ignore[no-untyped-def]
    authors = git(context, "log", "--format=%an", f"{context.head_before}..HEAD").split()
    assert authors == [author] * count, authors


def _interrupt(context, plan: str, after_commit_point: bool, mode: str = "commit"):  # type: ignore[no-untyped-def]
    """Run apply, then put back the journal and, when before the commit point, HEAD."""
    import gitplan.apply as applying

    saved = {}
    real_clear = applying._clear_journal

    def keep_journal(directory):  # type: ignore[no-untyped-def]
        for name in ("apply.json", "apply.index"):
            if (directory / name).exists():
                saved[name] = (directory / name).read_bytes()
        real_clear(directory)

    applying._clear_journal = keep_journal
    try:
        old_head = git(context, "rev-parse", "HEAD").strip()
        context.store.apply(plan, mode=mode, keep_on_failure=True)
    finally:
        applying._clear_journal = real_clear
    directory = Path(context.repo) / ".git" / "gitplan"
    journal = json.loads(saved["apply.json"])
    if not after_commit_point and mode == "worktree":
        journal["state"] = "prepared"
        saved["apply.json"] = json.dumps(journal).encode()
    if not after_commit_point:
        git(context, "update-ref", "refs/heads/main", old_head)
        notes = git(context, "rev-parse", f"refs/notes/changesets/{plan}~1").strip()
        git(context, "update-ref", f"refs/notes/changesets/{plan}", notes)
    for name, data in saved.items():
        (directory / name).write_bytes(data)
    assert journal["paths"]


@given('an apply of "{plan}" was killed after writing the files but before the commit point')
def killed_before(context, plan):  # type: ignore[no-untyped-def]
    _interrupt(context, plan, after_commit_point=False)


@given('an apply of "{plan}" was killed after the commit point')
def killed_after(context, plan):  # type: ignore[no-untyped-def]
    _interrupt(context, plan, after_commit_point=True)
    notes = git(context, "rev-parse", f"refs/notes/changesets/{plan}~1").strip()
    git(context, "update-ref", f"refs/notes/changesets/{plan}", notes)


@given('an apply of "{plan}" in worktree mode was killed after writing the files but before the commit point')
def killed_before_worktree(context, plan):  # type: ignore[no-untyped-def]
    _interrupt(context, plan, after_commit_point=False, mode="worktree")


@given('an apply of "{plan}" in worktree mode was killed after the commit point')
def killed_after_worktree(context, plan):  # type: ignore[no-untyped-def]
    _interrupt(context, plan, after_commit_point=True, mode="worktree")
    notes = git(context, "rev-parse", f"refs/notes/changesets/{plan}~1").strip()
    git(context, "update-ref", f"refs/notes/changesets/{plan}", notes)


@given("another process holds the apply lock")
def hold_lock(context):  # type: ignore[no-untyped-def]
    import fcntl

    handle = open(Path(context.repo) / ".git" / "gitplan" / "apply.lock", "a+")  # noqa: SIM115
    fcntl.flock(handle, fcntl.LOCK_EX)  # another open file description: it conflicts
    context.add_cleanup(handle.close)


@then("the apply journal is still there")
def journal_kept(context):  # type: ignore[no-untyped-def]
    assert (Path(context.repo) / ".git" / "gitplan" / "apply.json").exists()


@given('the apply journal holds "{text}"')
def bad_journal(context, text):  # type: ignore[no-untyped-def]
    directory = Path(context.repo) / ".git" / "gitplan"
    directory.mkdir(exist_ok=True)
    (directory / "apply.json").write_text(text)


@then('the worktree has no "{path}"')
def worktree_lacks(context, path):  # type: ignore[no-untyped-def]
    assert not (Path(context.repo) / path).exists()


@given("HEAD is detached at main")
def detach(context):  # type: ignore[no-untyped-def]
    git(context, "checkout", "-q", "--detach", "main")
    context.main_before = git(context, "rev-parse", "main").strip()


@then("HEAD is detached at a commit whose tree is the plan's tip tree")
def detached_result(context):  # type: ignore[no-untyped-def]
    assert git(context, "symbolic-ref", "-q", "HEAD", check=False) == ""
    assert git(context, "rev-parse", "HEAD^{tree}") == git(context, "rev-parse", "refs/changesets/p^{tree}")


@then('branch "{branch}" did not move')
def branch_still(context, branch):  # type: ignore[no-untyped-def]
    assert git(context, "rev-parse", branch).strip() == context.main_before


@given('the user makes a directory "{path}"')
def make_dir(context, path):  # type: ignore[no-untyped-def]
    (Path(context.repo) / path).mkdir(parents=True)


@given('the user makes "{link}" a symlink to a directory outside the repository')
def escape_link(context, link):  # type: ignore[no-untyped-def]
    context.outside = Path(context.tmp) / "outside"
    context.outside.mkdir()
    (Path(context.repo) / link).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(context.outside, Path(context.repo) / link)


@then("nothing was written outside the repository")
def nothing_outside(context):  # type: ignore[no-untyped-def]
    assert list(context.outside.iterdir()) == []


@then('the worktree file "{path}" is a symlink to "{target}"')
def is_symlink(context, path, target):  # type: ignore[no-untyped-def]
    assert os.readlink(Path(context.repo) / path) == target


@when('I try an apply of "{plan}" in mode "{mode}"')
def apply_mode(context, plan, mode):  # type: ignore[no-untyped-def]
    attempt(context, lambda: context.store.apply(plan, mode=mode))


@given("HEAD is an unborn branch")
def unborn(context):  # type: ignore[no-untyped-def]
    git(context, "symbolic-ref", "HEAD", "refs/heads/unborn")


@when("a writing git plan command runs")
def reopen(context):  # type: ignore[no-untyped-def]
    context.store = PlanStore.open(context.repo)
    # apply first finishes or rolls back an interrupted one, then refuses (a branch that
    # exists, or a plan already applied); a check leaves it alone
    attempt(context, lambda: context.store.apply("p", mode="branch", branch="main"))
    assert context.error is not None
    assert not (Path(context.repo) / ".git" / "gitplan" / "apply.json").exists()
    shutil.rmtree(Path(context.repo) / ".git" / "gitplan" / "rescue", ignore_errors=True)


@then('status --check of "{plan}" does not compare with HEAD')
def check_without_head(context, plan):  # type: ignore[no-untyped-def]
    status = context.store.status(plan, check=True)
    assert status.base_behind_head is None and status.apply_would_conflict is None, status


@given("HEAD is on main")
def head_on_main(context):  # type: ignore[no-untyped-def]
    assert git(context, "symbolic-ref", "HEAD").strip() == "refs/heads/main"


@given("the user's {what} moves to a new commit just before apply's commit point")
def moves_midway(context, what):  # type: ignore[no-untyped-def]
    from gitplan import faults

    def move() -> None:
        # Another process commits (an empty commit: the worktree stays as the apply left it).
        git(context, "commit", "-q", "--allow-empty", "-m", "meanwhile", "--no-verify", "--only")

    context.fault = faults.at("apply.before-commit-point", move)
    context.fault.__enter__()
    context.add_cleanup(context.fault.__exit__, None, None, None)


@then("no apply journal is left")
def no_journal(context):  # type: ignore[no-untyped-def]
    assert not (Path(context.repo) / ".git" / "gitplan" / "apply.json").exists()


def _at_point(context, point: str, action) -> None:  # type: ignore[no-untyped-def]
    """Run `action` when the apply reaches fault point `point`, for the rest of the scenario."""
    from gitplan import faults

    context.fault = faults.at(point, action)
    context.fault.__enter__()
    context.add_cleanup(context.fault.__exit__, None, None, None)


def _at_commit_point(context, action) -> None:  # type: ignore[no-untyped-def]
    _at_point(context, "apply.before-commit-point", action)


def _keyboard_interrupt() -> None:
    raise KeyboardInterrupt


@given('someone creates branch "{branch}" just before apply\'s commit point')
def branch_meanwhile(context, branch):  # type: ignore[no-untyped-def]
    _at_commit_point(context, lambda: git(context, "branch", branch, "HEAD"))


@given("the user reverts HEAD just before apply's commit point")
def revert_meanwhile(context):  # type: ignore[no-untyped-def]
    _at_commit_point(context, lambda: git(context, "revert", "--no-edit", "HEAD"))


@given('another git process holds the lock of "{ref}" just before apply\'s commit point')
def lock_meanwhile(context, ref):  # type: ignore[no-untyped-def]
    lock = Path(context.repo) / ".git" / f"{ref}.lock"
    _at_commit_point(context, lambda: lock.write_text("held\n"))
    context.add_cleanup(lock.unlink, missing_ok=True)


@given('the user commits a symlink "{path}" pointing to "{target}"')
def commit_symlink(context, path, target):  # type: ignore[no-untyped-def]
    os.symlink(target, Path(context.repo) / path)
    git(context, "add", path)
    git(context, "commit", "-q", "-m", "a symlink")


@given('a new plan "{plan}" points "{path}" to "{target}"')
def plan_retargets(context, plan, path, target):  # type: ignore[no-untyped-def]
    from gitplan import File, ToolInvocation

    context.store.create(plan)
    context.store.record(plan, {path: File(target.encode(), 0o120000)}, ToolInvocation(tool="ln"))


@then('the worktree symlink "{path}" points to "{target}"')
def symlink_target(context, path, target):  # type: ignore[no-untyped-def]
    assert os.readlink(Path(context.repo) / path) == target


@when("I recover an interrupted apply")
def recover_apply(context):  # type: ignore[no-untyped-def]
    attempt(context, lambda: PlanStore.open(context.repo).recover())


@given("the user commits everything in the worktree")
def commit_everything(context):  # type: ignore[no-untyped-def]
    git(context, "add", "-A")
    git(context, "commit", "-q", "-m", "the user's own commit")


@given("another git process holds the index lock")
def index_lock(context):  # type: ignore[no-untyped-def]
    lock = Path(context.repo) / ".git" / "index.lock"
    lock.write_text("")
    context.add_cleanup(lock.unlink, missing_ok=True)


@given("the apply is interrupted (KeyboardInterrupt) while git read-tree runs")
def interrupted_read_tree(context):  # type: ignore[no-untyped-def]
    _at_point(context, "git.read-tree", _keyboard_interrupt)


@given('the user runs "{script}" when apply reaches "{point}"')
def user_runs_at(context, script, point):  # type: ignore[no-untyped-def]
    _at_point(context, point, lambda: subprocess.run(["sh", "-c", script], cwd=context.repo, check=True))


@given("the apply is interrupted (KeyboardInterrupt) between the index and the files")
def interrupted_between_index_and_files(context):  # type: ignore[no-untyped-def]
    _at_point(context, "worktree.index-moved", _keyboard_interrupt)


@given("the apply is interrupted (KeyboardInterrupt) while git checks out the files")
def interrupted_checkout_index(context):  # type: ignore[no-untyped-def]
    _at_point(context, "git.checkout-index", _keyboard_interrupt)


@given("nothing is staged")
def nothing_staged(context):  # type: ignore[no-untyped-def]
    subprocess.run(["git", "diff", "--cached", "--quiet"], cwd=context.repo, check=True)


@given("I watch for git {command}")
def watch_git_command(context, command):  # type: ignore[no-untyped-def]
    context.git_runs = getattr(context, "git_runs", {})
    context.git_runs[command] = 0

    def ran() -> None:
        context.git_runs[command] += 1

    from gitplan import faults

    watching = faults.at(f"git.{command}", ran, times=1000)
    watching.__enter__()
    context.add_cleanup(watching.__exit__, None, None, None)


@then("git {command} ran")
def git_command_ran(context, command):  # type: ignore[no-untyped-def]
    assert context.git_runs[command] > 0


@then("git {command} did not run")
def git_command_did_not_run(context, command):  # type: ignore[no-untyped-def]
    assert context.git_runs[command] == 0


@given("the apply is interrupted (KeyboardInterrupt) just after its commit point")
def interrupted_after_commit_point(context):  # type: ignore[no-untyped-def]
    _at_point(context, "apply.at-commit-point", _keyboard_interrupt)


def _apply_catching_interrupt(context, plan: str, **options: str) -> None:  # type: ignore[no-untyped-def]
    context.interrupted = False
    try:
        context.store.apply(plan, **options)
    except KeyboardInterrupt:
        context.interrupted = True


@when('I apply "{plan}" in {mode} mode, catching the interrupt')
def apply_interrupted(context, plan, mode):  # type: ignore[no-untyped-def]
    _apply_catching_interrupt(context, plan, mode=mode)


@when('I apply "{plan}" as branch "{branch}", catching the interrupt')
def apply_branch_interrupted(context, plan, branch):  # type: ignore[no-untyped-def]
    _apply_catching_interrupt(context, plan, mode="branch", branch=branch)


@then("the interrupt reached the caller")
def interrupt_reached(context):  # type: ignore[no-untyped-def]
    assert context.interrupted


@then("no index.lock is left")
def no_index_lock(context):  # type: ignore[no-untyped-def]
    assert not (Path(context.repo) / ".git" / "index.lock").exists()


@given('the user rewrites "{path}" with the same bytes, so that only its stat data changed')
def step_stale_stat(context, path):  # type: ignore[no-untyped-def]
    full = Path(context.repo, path)
    data = full.read_bytes()
    full.unlink()
    full.write_bytes(data)  # a new inode, and a time unlike the index's
    before = os.stat(full).st_mtime - 3600
    os.utime(full, (before, before))
    context.index_bytes = Path(context.repo, ".git", "index").read_bytes()


@then("the index file is byte for byte as it was")
def step_index_unchanged(context):  # type: ignore[no-untyped-def]
    assert Path(context.repo, ".git", "index").read_bytes() == context.index_bytes


@given('the user has a branch "{name}"')
def step_user_branch(context, name):  # type: ignore[no-untyped-def]
    git(context, "branch", name)


@given('the user replaces the directory "{path}" with a file on main')
def directory_to_file(context, path):  # type: ignore[no-untyped-def]
    git(context, "rm", "-q", "-r", path)
    (Path(context.repo) / path).write_text("a file now\n")
    git(context, "add", path)
    git(context, "commit", "-q", "-m", f"{path} is a file")


@given('an old git committed "{path}" with mode 100664')
def old_git_mode(context, path):  # type: ignore[no-untyped-def]
    """A commit whose tree gives the top-level file `path` the mode 100664, which git
    before 2005 wrote, git still reads (as 100644), and libgit2's merge refuses."""
    entries = []
    for line in git(context, "ls-tree", "HEAD").splitlines():
        meta, name = line.split("\t", 1)
        mode, kind, oid = meta.split()
        entries.append(f"{'100664' if name == path else mode} {kind} {oid}\t{name}\n")
    listing = "".join(entries)
    made = subprocess.run(["git", "mktree"], cwd=context.repo, input=listing, capture_output=True, text=True)
    tree = made.stdout.strip()
    commit = git(context, "commit-tree", tree, "-p", "HEAD", "-m", "an old git's commit").strip()
    git(context, "reset", "-q", commit)
    assert made.returncode == 0, made.stderr
    assert f"100664 {path}\0" in subprocess.run(
        ["git", "cat-file", "tree", tree], cwd=context.repo, capture_output=True, check=True
    ).stdout.decode("latin-1")


@given('the user stages "{path}" with an edit, then puts the file back')
def staged_then_put_back(context, path):  # type: ignore[no-untyped-def]
    full = Path(context.repo) / path
    before = full.read_bytes()
    full.write_bytes(before + b"staged edit\n")
    git(context, "add", path)
    full.write_bytes(before)


@given('the user untracks "{path}" with git rm --cached')
def untracked_by_hand(context, path):  # type: ignore[no-untyped-def]
    git(context, "rm", "-q", "--cached", path)


@given('the user marks "{path}" with git update-index --{bit} and writes "{content}" into it')
def hide_changes(context, path, bit, content):  # type: ignore[no-untyped-def]
    git(context, "update-index", f"--{bit}", path)
    (Path(context.repo) / path).write_bytes(unescape(content))


@given("git signs with a program that {outcome}")
def signing_program(context, outcome):  # type: ignore[no-untyped-def]
    """gpg's part as git reads it (gpg-interface.c): the status line on stderr, the
    detached signature on stdout."""
    program = Path(context.tmp) / f"gpg-that-{outcome.split()[0]}"
    context.signer_log = Path(context.tmp) / "signer.args"
    body = f'echo "$@" >> {context.signer_log}\n'
    body += "cat >/dev/null\nprintf '\\n[GNUPG:] SIG_CREATED D 1 8 00 0 0\\n' >&2\n"
    body += "printf -- '-----BEGIN PGP SIGNATURE-----\\n\\nZmFrZQ==\\n-----END PGP SIGNATURE-----\\n'\n"
    program.write_text("#!/bin/sh\n" + (body if outcome == "signs" else "exit 1\n"))
    program.chmod(0o755)
    git(context, "config", "gpg.program", str(program))


@given("the repository is moved into a directory whose name holds a colon")
def moved_to_colon(context):  # type: ignore[no-untyped-def]
    target = Path(context.tmp) / "with:colon" / "repo"
    target.parent.mkdir()
    shutil.move(context.repo, target)
    context.repo = str(target)
    context.store = PlanStore.open(context.repo)


@then("the signer was asked for the user's own key, never gitplan's")
def signer_key(context):  # type: ignore[no-untyped-def]
    asked = context.signer_log.read_text()
    assert "-bsau" in asked and "gitplan" not in asked, asked


@then('git "{args}" prints a line starting "{start}"')
def git_prints_line(context, args, start):  # type: ignore[no-untyped-def]
    import shlex

    lines = git(context, *shlex.split(args)).splitlines()
    assert any(line.startswith(start) for line in lines), lines


@given('the user makes "{path}" executable')
def made_executable(context, path):  # type: ignore[no-untyped-def]
    full = Path(context.repo) / path
    full.chmod(full.stat().st_mode | 0o111)


@then('the index has no "{path}"')
def index_lacks(context, path):  # type: ignore[no-untyped-def]
    assert git(context, "ls-files", "--", path) == "", git(context, "ls-files", "--", path)


@when('I apply "{plan}" while a writer records into it just after its rescue is saved')
def apply_then_late_record(context, plan):  # type: ignore[no-untyped-def]
    """The apply fails; once its bundle and patch are written, before its clean-up cancels
    the plan, another writer (one that waited for the apply) records into the plan."""
    from gitplan import ToolInvocation, faults

    other = PlanStore.open(context.repo)
    late = lambda: other.record(plan, {"late.txt": b"late\n"}, ToolInvocation(tool="late"))  # noqa: E731
    with faults.at("apply.rescued", late):
        attempt(context, lambda: context.store.apply(plan))


def _verified_mark(context, plan: str) -> list[str]:  # type: ignore[no-untyped-def]
    return (Path(context.repo) / ".git" / "gitplan" / "verified" / plan).read_text().split()


@then('the verified mark of "{plan}" names its tip and notes, with {count:d} notes')
def mark_at_tip(context, plan, count):  # type: ignore[no-untyped-def]
    tip = git(context, "rev-parse", f"refs/changesets/{plan}").strip()
    notes = git(context, "rev-parse", f"refs/notes/changesets/{plan}").strip()
    assert _verified_mark(context, plan) == [tip, notes, str(count)], _verified_mark(context, plan)


@then("the object store holds nothing unreachable")
def nothing_unreachable(context):  # type: ignore[no-untyped-def]
    unreachable = git(context, "fsck", "--unreachable", "--no-reflogs")
    assert unreachable.strip() == "", unreachable


@given('the verified mark of "{plan}" is removed')
def remove_mark(context, plan):  # type: ignore[no-untyped-def]
    (Path(context.repo) / ".git" / "gitplan" / "verified" / plan).unlink()


@then('the verified mark of "{plan}" does not name its tip')
def mark_not_at_tip(context, plan):  # type: ignore[no-untyped-def]
    tip = git(context, "rev-parse", f"refs/changesets/{plan}").strip()
    assert _verified_mark(context, plan)[0] != tip, _verified_mark(context, plan)


@given('a commit adding a symlink "{path}" to "{target}" is put on top of "{plan}" by hand, with a note')
def forged_symlink(context, path, target, plan):  # type: ignore[no-untyped-def]
    """The plan ref moved with plumbing to a changeset gitplan never checked, with a note
    git notes wrote (so the refs agree, as after a plain git fetch of hand-made refs)."""
    tip = git(context, "rev-parse", f"refs/changesets/{plan}").strip()
    number = int(git(context, "rev-list", "--count", tip, "^main").strip())  # the root is one
    link = git(context, "hash-object", "-w", "--stdin", data=target).strip()
    listing = git(context, "ls-tree", tip) + f"120000 blob {link}\t{path}\n"
    tree = git(context, "mktree", data=listing).strip()
    message = f"ln: by hand\n\nPlan-Id: {plan}\nChangeset: {number}\nInvocation-Id: hand\n"
    commit = git(context, "commit-tree", tree, "-p", tip, data=message).strip()
    git(context, "notes", "--ref", f"changesets/{plan}", "add", "-m", "{}", commit)
    git(context, "update-ref", f"refs/changesets/{plan}", commit, tip)


@given('the user commits the plan\'s tip of "{plan}" by hand as "{message}"')
def commit_tip_by_hand(context, plan, message):  # type: ignore[no-untyped-def]
    git(context, "read-tree", "-u", "--reset", f"refs/changesets/{plan}^{{tree}}")
    git(context, "commit", "-q", "-m", message)


@then('HEAD is still the commit "{message}"')
def head_still(context, message):  # type: ignore[no-untyped-def]
    assert git(context, "log", "-1", "--format=%s").strip() == message
    assert git(context, "status", "--porcelain").strip() == ""


@then('the index is the tree of plan "{plan}"')
def index_is_plan_tree(context, plan):  # type: ignore[no-untyped-def]
    done = subprocess.run(
        ["git", "diff", "--cached", "--exit-code", "--name-status", f"refs/changesets/{plan}"],
        cwd=context.repo,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
