"""Steps for cancel.feature: refs gone, own objects pruned, nothing else lost."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path

from behave import given, then, when
from common_steps import attempt, git, unescape


def _blob_id(context, content: str) -> str:  # type: ignore[no-untyped-def]
    return (
        subprocess.run(
            ["git", "hash-object", "--stdin"],
            cwd=context.repo,
            input=unescape(content),
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )


@when('I cancel "{plan}"')
def cancel(context, plan):  # type: ignore[no-untyped-def]
    attempt(context, lambda: context.store.cancel(plan))


@then('the blob "{content}" is gone from the object store')
def blob_gone(context, content):  # type: ignore[no-untyped-def]
    oid = _blob_id(context, content)
    result = subprocess.run(["git", "cat-file", "-e", oid], cwd=context.repo)
    assert result.returncode != 0, f"{oid} still present"


@then('the blob "{content}" is still in the object store')
def blob_kept(context, content):  # type: ignore[no-untyped-def]
    oid = _blob_id(context, content)
    result = subprocess.run(["git", "cat-file", "-e", oid], cwd=context.repo)
    assert result.returncode == 0, f"{oid} was pruned"


@then("the report says some objects were pruned")
def pruned(context):  # type: ignore[no-untyped-def]
    assert context.error is None, context.error
    assert context.result.objects_pruned > 0, context.result
    assert "refs/changesets/c1" in context.result.refs_deleted


@given('the user commits "{path}" with content "{content}" on main')
@when('the user commits "{path}" with content "{content}" on main')
def user_commits(context, path, content):  # type: ignore[no-untyped-def]
    (Path(context.repo) / path).parent.mkdir(parents=True, exist_ok=True)
    (Path(context.repo) / path).write_bytes(unescape(content))
    git(context, "add", path)
    git(context, "commit", "-q", "-m", "user commit")


@given('the user stages "{path}" with content "{content}"')
def user_stages(context, path, content):  # type: ignore[no-untyped-def]
    (Path(context.repo) / path).write_bytes(unescape(content))
    git(context, "add", path)


@given("git gc has packed everything")
def gc(context):  # type: ignore[no-untyped-def]
    git(context, "gc", "-q")


@given('the user tags the blob "{content}" with an annotated tag')
def tag_blob(context, content):  # type: ignore[no-untyped-def]
    git(context, "tag", "-a", "-m", "keep this", "kept", _blob_id(context, content))


@given("the user resets main back one commit")
def reset_back(context):  # type: ignore[no-untyped-def]
    git(context, "reset", "-q", "--hard", "HEAD~1")
    assert (Path(context.repo) / ".git" / "ORIG_HEAD").exists()


@given("the user makes an empty commit on main")
def empty_commit(context):  # type: ignore[no-untyped-def]
    git(context, "commit", "-q", "--allow-empty", "-m", "nothing changed")


@when("the user discards the applied files with git reset --hard")
def discard_applied(context):  # type: ignore[no-untyped-def]
    git(context, "reset", "-q", "--hard")
    assert not git(context, "status", "--porcelain").strip()


@given('a linked worktree stages "{path}" with content "{content}"')
def worktree_stages(context, path, content):  # type: ignore[no-untyped-def]
    other = Path(context.tmp) / "linked"
    git(context, "worktree", "add", "-q", "-b", "linked", str(other))
    (other / path).write_bytes(unescape(content))
    git(context, "add", path, repo=str(other))


@given("a bare clone of the repository")
def bare_clone(context):  # type: ignore[no-untyped-def]
    context.bare = str(Path(context.tmp) / "bare.git")
    git(context, "clone", "-q", "--bare", context.repo, context.bare)


@when("I create, record, diff, apply as a branch and cancel a plan in the bare clone")
def bare_flow(context):  # type: ignore[no-untyped-def]
    from gitplan import BadInput, PlanStore, ToolInvocation

    store = PlanStore.open(context.bare)
    store.create("b")
    store.record("b", {"README.md": b"bare\n"}, ToolInvocation(tool="t"))
    assert "+bare" in store.diff("b")
    try:
        store.apply("b")
        raise AssertionError("commit mode must be refused in a bare repository")
    except BadInput as error:
        assert "--mode branch" in str(error)
    try:
        store.worktree_changes()
        raise AssertionError("--from-worktree must be refused in a bare repository")
    except BadInput as error:
        assert "working tree" in str(error)
    store.apply("b", mode="branch", branch="result")
    store.cancel("b")


@then("the bare clone has the branch and git fsck --full is clean there")
def bare_checked(context):  # type: ignore[no-untyped-def]
    assert git(context, "show", "result:README.md", repo=context.bare) == "bare\n"
    result = subprocess.run(
        ["git", "fsck", "--full", "--no-dangling"], cwd=context.bare, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@given("a linked worktree of the repository")
def linked_worktree(context):  # type: ignore[no-untyped-def]
    context.linked = str(Path(context.tmp) / "linked")
    git(context, "worktree", "add", "-q", "-b", "linked", context.linked)


@when("I create, record and cancel a plan from inside the linked worktree")
def linked_flow(context):  # type: ignore[no-untyped-def]
    from gitplan import PlanStore, ToolInvocation

    store = PlanStore.open(context.linked)
    store.create("w")
    store.record("w", {"x.txt": b"from the linked worktree\n"}, ToolInvocation(tool="t"))
    assert git(context, "cat-file", "-t", "refs/changesets/w").strip() == "commit"
    assert store.cancel("w").objects_pruned > 0


@given("the index file is corrupt")
def corrupt_index(context):  # type: ignore[no-untyped-def]
    (Path(context.repo) / ".git" / "index").write_bytes(b"DIRC garbage")


@then('the report says it kept everything because "{reason}"')
def kept_everything(context, reason):  # type: ignore[no-untyped-def]
    report = context.result
    assert report.objects_pruned == 0, report
    assert any(reason in line and "kept everything" in line for line in report.reasons), report.reasons


def _take(context, place: str) -> None:  # type: ignore[no-untyped-def]
    plan = "refs/changesets/c1"
    if place == "the index":
        git(context, "checkout", plan, "--", "plan-only.txt")
    elif place == "the index, version 3":
        (Path(context.repo) / "ita1.txt").write_text("later\n")  # 8 bytes: padding cannot hide a misread
        git(context, "add", "-N", "ita1.txt")  # an intent-to-add entry has extended flags
        git(context, "update-index", "--index-version", "3")
        git(context, "checkout", plan, "--", "plan-only.txt")
    elif place == "the index, version 4":
        git(context, "update-index", "--index-version", "4")
        git(context, "checkout", plan, "--", "plan-only.txt")
    elif place == "the index by read-tree":
        # The index's cache tree then names the plan's root tree: git reuses it at the next commit.
        git(context, "read-tree", plan)
    elif place == "the stash":
        git(context, "checkout", plan, "--", "plan-only.txt")
        git(context, "stash", "push", "-q", "--", "plan-only.txt")
    elif place == "a branch":
        git(context, "branch", "taken", plan)
    elif place == "a lightweight tag":
        git(context, "tag", "taken", plan)
    elif place == "a cherry-picked commit":
        git(context, "cherry-pick", plan)
    elif place == "another worktree's index":
        other = Path(context.tmp) / "other"
        git(context, "worktree", "add", "-q", "--detach", str(other))
        git(context, "checkout", plan, "--", "plan-only.txt", repo=str(other))
    elif place in ("another worktree's own ref", "a bisect in another worktree"):
        other = Path(context.tmp) / "other"
        git(context, "worktree", "add", "-q", "--detach", str(other))
        if place == "another worktree's own ref":
            git(context, "update-ref", "refs/worktree/taken", plan, repo=str(other))
        else:
            git(context, "bisect", "start", plan, "main", repo=str(other))
    elif place == "a plan based on it":
        from gitplan import PlanStore

        PlanStore.open(context.repo).create("child", base=plan)
    elif place == "a reflog entry":
        git(context, "checkout", "-q", "-b", "moving")
        git(context, "reset", "-q", "--hard", plan)
        git(context, "reset", "-q", "--hard", "main")
    else:
        raise AssertionError(place)


@given('the user takes the plan\'s "plan-only.txt" into {place}')
def take(context, place):  # type: ignore[no-untyped-def]
    _take(context, place)


@then('the user reads "{content}" back from {place}')
def read_back(context, content, place):  # type: ignore[no-untyped-def]
    where = {
        "the index": ":plan-only.txt",
        "the index, split": ":plan-only.txt",
        "HEAD": "HEAD:plan-only.txt",
        "the index, version 3": ":plan-only.txt",
        "the index, version 4": ":plan-only.txt",
        "the index by read-tree": ":plan-only.txt",
        "the stash": "stash@{0}:plan-only.txt",
        "a branch": "taken:plan-only.txt",
        "a lightweight tag": "taken:plan-only.txt",
        "a cherry-picked commit": "HEAD:plan-only.txt",
        "another worktree's index": ":plan-only.txt",
        "another worktree's own ref": "refs/worktree/taken:plan-only.txt",
        "a bisect in another worktree": "refs/bisect/bad:plan-only.txt",
        "a plan based on it": "refs/changesets/child:plan-only.txt",
        "a reflog entry": "moving@{1}:plan-only.txt",
    }[place]
    elsewhere = ("another worktree's index", "another worktree's own ref", "a bisect in another worktree")
    repo = str(Path(context.tmp) / "other") if place in elsewhere else context.repo
    assert git(context, "show", where, repo=repo).encode() == unescape(content)
    if place == "the index by read-tree":
        git(context, "commit", "-q", "-m", "from the cache tree")  # reuses the cached tree ids
        assert git(context, "show", "HEAD:plan-only.txt").encode() == unescape(content)
        result = subprocess.run(["git", "fsck", "--full"], cwd=context.repo, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


@then('no pack file and no registry of "{plan}" is left')
def no_pack_left(context, plan):  # type: ignore[no-untyped-def]
    packs = list((Path(context.repo) / ".git" / "objects" / "pack").glob("pack-*"))
    assert not packs, packs
    assert not (Path(context.repo) / ".git" / "gitplan" / "packs" / plan).exists()


@then("the report pruned the plan's other objects and kept what was taken")
def pruned_and_kept(context):  # type: ignore[no-untyped-def]
    report = context.result
    assert report.objects_kept > 0, report
    assert not any("kept everything" in reason for reason in report.reasons), report.reasons
    # git freshens a pack when it writes an object the pack holds (stash, cherry-pick do):
    # that pack stays for `git plan gc`; otherwise the plan's other objects are pruned.
    freshened = any("used by another process" in reason for reason in report.reasons)
    assert report.objects_pruned > 0 or freshened, report


@given("the index is {shape}")
def index_shape(context, shape):  # type: ignore[no-untyped-def]
    git(context, "update-index", "--untracked-cache")
    git(context, "status", "--porcelain")  # writes the UNTR extension
    if shape.startswith("split"):
        git(context, "update-index", "--split-index")
        (Path(context.repo) / "more.txt").write_text("more\n")
        git(context, "add", "more.txt")  # goes to the split part; the rest stays in the shared file
    elif shape.startswith("holding"):
        # No file system here holds such a path, but an index entry can (flags say 0xFFF).
        blob = git(context, "hash-object", "-w", "README.md").strip()
        long_path = "/".join(["d" * 200] * 21) + "/long.txt"
        git(context, "update-index", "--add", "--cacheinfo", f"100644,{blob},{long_path}")
    else:
        (Path(context.repo) / ("a" * 150)).write_text("a\n")  # the next name strips 150 bytes of it
        (Path(context.repo) / ("b" * 150)).write_text("b\n")
        git(context, "add", ".")
        git(context, "update-index", "--index-version", "4")


@given("git writes a {cache}")
def git_cache(context, cache):  # type: ignore[no-untyped-def]
    if cache == "commit-graph":
        git(context, "commit-graph", "write", "--reachable")
    elif cache == "split commit-graph chain":
        git(context, "commit-graph", "write", "--reachable", "--split")
    elif cache == "multi-pack-index with a bitmap":
        git(context, "repack", "-q", "-d")  # the user's loose objects into a pack of theirs
        git(context, "multi-pack-index", "write", "--bitmap")
    else:
        git(context, "multi-pack-index", "write")


@then("the report says git's {name} was removed")
def cache_removed(context, name):  # type: ignore[no-untyped-def]
    assert any(f"removed git's {name}" in reason for reason in context.result.reasons), context.result


@given("a damaged loose object was written after the plan began")
def damaged_loose(context):  # type: ignore[no-untyped-def]
    directory = Path(context.repo, ".git", "objects", "ab")
    directory.mkdir(exist_ok=True)
    (directory / ("c" * 38)).write_bytes(b"not zlib at all")


@given("the user removes the .keep files and runs git repack -a -d")
def repack_without_keep(context):  # type: ignore[no-untyped-def]
    for keep in Path(context.repo, ".git", "objects", "pack").glob("*.keep"):
        keep.unlink()
    git(context, "repack", "-q", "-a", "-d")


@then("the report says the plan's packs were already repacked by git")
def already_repacked(context):  # type: ignore[no-untyped-def]
    assert any("git repacked them into its own" in why for why in context.result.reasons), context.result


@given("everything the user's repository held before the plan is an hour old")
def age_repository(context):  # type: ignore[no-untyped-def]
    import os
    import time

    from gitplan import packs

    plan_files = {
        str(Path(context.repo, ".git", "objects", "pack", f"{pack.name}{suffix}"))
        for pack in packs.owned_packs(context.store._repo, "c1")
        for suffix in (".pack", ".idx", ".keep")
    }
    then = time.time() - 3600
    git_dir = Path(context.repo, ".git")
    for root, directories, files in os.walk(git_dir):
        for name in files + directories:
            path = os.path.join(root, name)
            inside = os.path.relpath(path, git_dir)
            if path not in plan_files and "changesets" not in inside and not inside.startswith("gitplan"):
                os.utime(path, (then, then))


@then("no multi-pack-index file is left")
def no_midx(context):  # type: ignore[no-untyped-def]
    left = list(Path(context.repo, ".git", "objects", "pack").glob("multi-pack-index*"))
    assert not left, left


@given('the repository has no reflogs and a symbolic ref "{ref}" to main')
def no_reflogs(context, ref):  # type: ignore[no-untyped-def]
    import shutil

    git(context, "config", "core.logAllRefUpdates", "false")
    shutil.rmtree(Path(context.repo, ".git", "logs"), ignore_errors=True)
    git(context, "symbolic-ref", ref, "refs/heads/main")


@given('the user writes a tree holding a submodule entry and the plan\'s "{path}"')
def tree_with_gitlink(context, path):  # type: ignore[no-untyped-def]
    blob = git(context, "rev-parse", f"refs/changesets/c1:{path}").strip()
    head = git(context, "rev-parse", "HEAD").strip()
    listing = f"160000 commit {head}\tsub\n100644 blob {blob}\t{path}\n"
    tree = subprocess.run(
        ["git", "mktree"], cwd=context.repo, input=listing, capture_output=True, text=True, check=True
    ).stdout.strip()
    context.kept_tree = tree


@when("the user runs git gc")
def user_gc(context):  # type: ignore[no-untyped-def]
    git(context, "gc", "-q")


@given('the user commits "{path}" taken from the plan, long after the plan began')
def commit_taken_later(context, path):  # type: ignore[no-untyped-def]
    import os
    import time

    from gitplan import packs

    now = time.time()
    registry = packs.registry_path(context.store._repo, "c1")
    for entry in registry.iterdir():
        if entry.name.startswith("base-"):
            os.utime(entry, (now - 100, now - 100))  # the plan began 100 s ago
    git(context, "checkout", "refs/changesets/c1", "--", path)
    git(context, "commit", "-q", "-m", "taken from the plan")
    git_dir = Path(context.repo, ".git")
    for made in git_dir.rglob("*"):  # and the user took it 50 s ago: all they wrote is that old
        inside = made.relative_to(git_dir).parts
        if inside[0] != "gitplan" and "pack" not in inside and "changesets" not in inside:
            os.utime(made, (now - 50, now - 50))


@when('I record {count:d} more changesets into "{plan}"')
def more_changesets(context, plan, count):  # type: ignore[no-untyped-def]
    from gitplan import ToolInvocation

    for i in range(count):
        context.store.record(plan, {f"more/{i}.txt": b"%d\n" % i}, ToolInvocation(tool="more"))


@given("the user cherry-picks the plan's three changesets and stops at the conflict")
def cherry_pick_stops(context):  # type: ignore[no-untyped-def]
    result = subprocess.run(
        ["git", "cherry-pick", "refs/changesets/c1~3..refs/changesets/c1"],
        cwd=context.repo,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0, "the cherry-pick was expected to stop at a conflict"
    assert Path(context.repo, ".git", "sequencer").is_dir()


@then("the user resolves the conflict and the cherry-pick goes on to the end")
def cherry_pick_continues(context):  # type: ignore[no-untyped-def]
    import os

    git(context, "checkout", "--theirs", "README.md")
    git(context, "add", "README.md")
    environment = dict(os.environ, GIT_EDITOR="true")
    command = ["git", "cherry-pick", "--continue"]
    result = subprocess.run(command, cwd=context.repo, capture_output=True, text=True, env=environment)
    assert result.returncode == 0, result.stderr


@given('a plan "{child}" based on the tip of "{plan}", {how}')
def child_plan(context, child, plan, how):  # type: ignore[no-untyped-def]
    import shutil

    from gitplan import PlanStore, faults, packs

    store = PlanStore.open(context.repo)
    if how == "while git plan gc ran":
        with faults.at("packs.writing", lambda: PlanStore.open(context.repo).gc()):
            store.create(child, base=f"refs/changesets/{plan}")
    elif how == "whose registry was lost":
        store.create(child, base=f"refs/changesets/{plan}")
        shutil.rmtree(packs.registry_path(store._repo, child))
    else:
        assert how == "made the usual way", how
        store.create(child, base=f"refs/changesets/{plan}")


@given('the user cherry-picks the newest changeset of "{plan}", keeps their side of each conflict, goes on')
def cherry_pick_keeping_ours(context, plan):  # type: ignore[no-untyped-def]
    import os

    result = subprocess.run(
        ["git", "cherry-pick", f"refs/changesets/{plan}"], cwd=context.repo, capture_output=True, text=True
    )
    assert result.returncode != 0, "the cherry-pick was expected to stop at a conflict"
    for path in git(context, "diff", "--name-only", "--diff-filter=U").split():
        git(context, "checkout", "--ours", path)
        git(context, "add", path)
    environment = dict(os.environ, GIT_EDITOR="true")
    command = ["git", "cherry-pick", "--continue"]
    result = subprocess.run(command, cwd=context.repo, capture_output=True, text=True, env=environment)
    assert result.returncode == 0, result.stderr


@then('git ls-files --resolve-undo names "{path}"')
def resolve_undo_names(context, path):  # type: ignore[no-untyped-def]
    listed = git(context, "ls-files", "--resolve-undo")
    assert path in listed and len(listed.splitlines()) >= 2, listed


@given("the shared index file is removed")
def remove_shared_index(context):  # type: ignore[no-untyped-def]
    shared = list((Path(context.repo) / ".git").glob("sharedindex.*"))
    assert shared, "the index is not split"
    for path in shared:
        path.unlink()


@given("the index's checksum is zero, as index.skipHash writes it")
def skip_hash(context):  # type: ignore[no-untyped-def]
    index = Path(context.repo) / ".git" / "index"
    index.write_bytes(index.read_bytes()[:-20] + bytes(20))


@then("no ids are kept for the index")
def no_index_ids(context):  # type: ignore[no-untyped-def]
    assert not (Path(context.repo) / ".git" / "gitplan" / "index-ids" / "main").exists()


@given("the user writes the index again from HEAD")
def index_again(context):  # type: ignore[no-untyped-def]
    (Path(context.repo) / ".git" / "index").unlink()
    git(context, "read-tree", "HEAD")


@when('another process creates plan "{plan}" while my create of it sets the old packs aside')
def create_races_claim(context, plan):  # type: ignore[no-untyped-def]
    from gitplan import PlanStore, faults

    def create_other() -> None:
        PlanStore.open(context.repo).create(plan, title="the other one")

    with faults.at("create.claiming", create_other):
        attempt(context, lambda: context.store.create(plan))


@when('another process creates plan "{plan}" after my create of it has set the old packs aside')
def create_claims_after_mine(context, plan):  # type: ignore[no-untyped-def]
    """The other create looks for a cancelled plan's leftovers after mine has set them aside
    and registered its own pack: it must leave my registry alone (and, mine running, be
    refused)."""
    import sys

    from gitplan import faults

    command = [sys.executable, "-m", "gitplan", "-C", context.repo, "create", plan]

    def run_other() -> None:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        context.other_result = (done.returncode, done.stdout + done.stderr)

    with faults.at("packs.registered", run_other):
        attempt(context, lambda: context.store.create(plan))
    code, output = context.other_result
    assert code == 2 and "already exists" in output, (code, output)


@given("git's own packs and the index look older than the plan, as when git wrote them before it began")
def backdate_git_files(context):  # type: ignore[no-untyped-def]
    """Cancel looks only at what changed since the plan began; this is what it sees when
    the user staged a file, or git packed the repository, before that."""
    git_dir = Path(context.repo) / ".git"
    long_ago = time.time() - 3600
    for pack in (git_dir / "objects" / "pack").glob("pack-*.pack"):
        keep = pack.with_suffix(".keep")
        if keep.exists() and keep.read_text().startswith("gitplan"):
            continue
        for path in (pack, pack.with_suffix(".idx")):
            os.utime(path, (long_ago, long_ago))
    os.utime(git_dir / "index", (long_ago, long_ago))


@given('HEAD is still where "{plan}" began')
def head_at_base(context, plan):  # type: ignore[no-untyped-def]
    assert git(context, "rev-parse", "HEAD").strip() == context.store.status(plan).base


@then("no pack was kept for another process")
def no_pack_kept_fresh(context):  # type: ignore[no-untyped-def]
    assert context.error is None, context.error
    assert not any("another process" in reason for reason in context.result.reasons), context.result


@then('no pack of "{plan}" is left, nor its registry')
def no_pack_of_plan(context, plan):  # type: ignore[no-untyped-def]
    # Every pack gitplan wrote carries a .keep and is listed in its plan's registry; what
    # cancel copied out for the user is an ordinary pack.
    git_dir = Path(context.repo) / ".git"
    registries = git_dir / "gitplan" / "packs"
    assert not (registries / plan).exists()
    listed = {entry.name.split(".")[0] for entry in registries.glob("*/pack-*")}
    kept = {keep.stem for keep in (git_dir / "objects" / "pack").glob("pack-*.keep")}
    assert kept <= listed, kept - listed


def _blocked_on_a_lock(pid: int) -> bool:
    """Is the process waiting for a file lock (a `->` line of /proc/locks)?"""
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if len(fields) > 5 and fields[1] == "->" and fields[5] == str(pid):
            return True
    return False


@when(
    'another process cancels "{plan}" while my apply of it as branch "{branch}" is about to create the branch'
)
def cancel_during_apply(context, plan, branch):  # type: ignore[no-untyped-def]
    import sys

    from gitplan import faults

    def cancel_now() -> None:
        context.canceller = subprocess.Popen(
            [sys.executable, "-m", "gitplan", "-C", context.repo, "cancel", plan],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        # Until the cancel either ends or waits for a lock: no guess at how long it takes.
        while context.canceller.poll() is None and not _blocked_on_a_lock(context.canceller.pid):
            time.sleep(0.01)
        context.cancel_waited = context.canceller.poll() is None

    with faults.at("apply.before-commit-point", cancel_now):
        attempt(context, lambda: context.store.apply(plan, mode="branch", branch=branch))
    out, err = context.canceller.communicate(timeout=120)
    context.cancel_outcome = (context.canceller.returncode, out.decode(), err.decode())


@then('my apply created branch "{branch}"')
def apply_created(context, branch):  # type: ignore[no-untyped-def]
    assert context.error is None, context.error
    assert context.result.branch == branch, context.result
    assert git(context, "rev-parse", f"refs/heads/{branch}").strip() == context.result.commit


@then("the other process's cancel waited for my apply, then succeeded")
def cancel_waited(context):  # type: ignore[no-untyped-def]
    assert context.cancel_waited, context.cancel_outcome
    assert context.cancel_outcome[0] == 0, context.cancel_outcome
    assert "cancelled plan" in context.cancel_outcome[1], context.cancel_outcome


@given('the user makes branch "{name}" at the tip of "{plan}"')
def branch_at_tip(context, name, plan):  # type: ignore[no-untyped-def]
    git(context, "branch", name, f"refs/changesets/{plan}")


@when('I cancel "{plan}", noting whether it asks git for everything reachable')
def cancel_noting_walks(context, plan):  # type: ignore[no-untyped-def]
    from gitplan import faults

    context.walks = 0

    def walked() -> None:
        context.walks += 1

    with faults.at("prune.reachable-by-git", walked):
        attempt(context, lambda: context.store.cancel(plan))


@then("the cancel did not ask git for everything reachable")
def no_walk(context):  # type: ignore[no-untyped-def]
    assert context.walks == 0, context.walks


@when('"{other}" is cancelled just before my apply of "{plan}" as branch "{branch}" writes its commit')
def cancel_other_during_apply(context, other, plan, branch):  # type: ignore[no-untyped-def]
    from gitplan import PlanStore, faults

    def cancel_other() -> None:
        context.other_report = PlanStore.open(context.repo).cancel(other)

    with faults.at("apply.before-commits", cancel_other):
        attempt(context, lambda: context.store.apply(plan, mode="branch", branch=branch))
    assert context.other_report.refs_deleted, context.other_report


@given('the user runs "git {args}"')
@when('the user runs "git {args}"')
def user_runs_git(context, args):  # type: ignore[no-untyped-def]
    import shlex

    tip = git(context, "rev-parse", "--verify", "-q", "refs/changesets/c1", check=False)
    context.tip_before = tip.strip()
    git(context, *shlex.split(args))


@given("git left .git/packed-refs.lock behind")
def packed_refs_lock(context):  # type: ignore[no-untyped-def]
    Path(context.repo, ".git", "packed-refs.lock").write_text("")


@then('git "rev-parse --verify -q refs/changesets/c1" prints the plan\'s tip')
def plan_tip_kept(context):  # type: ignore[no-untyped-def]
    assert context.tip_before
    assert git(context, "rev-parse", "--verify", "-q", "refs/changesets/c1").strip() == context.tip_before


@given("the packed-refs.lock is removed")
def unlock_packed_refs(context):  # type: ignore[no-untyped-def]
    Path(context.repo, ".git", "packed-refs.lock").unlink()


@when('the packed-refs.lock is removed and I cancel "{plan}"')
def unlock_and_cancel(context, plan):  # type: ignore[no-untyped-def]
    Path(context.repo, ".git", "packed-refs.lock").unlink()
    cancel(context, plan)


@when('I cancel "{plan}" while git gc runs just before the plan\'s packs are deleted')
def cancel_during_gc(context, plan):  # type: ignore[no-untyped-def]
    from gitplan import faults

    def gc() -> None:
        git(context, "gc", "-q")

    with faults.at("prune.discarding", gc):
        attempt(context, lambda: context.store.cancel(plan))


@when("a git repack -a -d begins: its new pack is written, the packs it read are not yet deleted")
def repack_begins(context):  # type: ignore[no-untyped-def]
    """The first half of what `git repack -a -d` does (git 2.39 repack.c), run with git's own
    pack-objects: note the packs without a .keep, write one pack of everything reachable
    that no kept pack holds. The second half deletes the noted packs."""
    directory = Path(context.repo, ".git", "objects", "pack")
    unkept = [pack for pack in directory.glob("pack-*.pack") if not pack.with_suffix(".keep").exists()]
    context.repack_read = unkept
    args = ["pack-objects", "--keep-true-parents", "--honor-pack-keep", "--non-empty", "--all", "--reflog"]
    git(context, *args, "--indexed-objects", "-q", str(directory / "pack"), data="")


@given('the user cancels "{plan}" and writes a branch naming an object that is not there')
def cancel_and_break_a_branch(context, plan):  # type: ignore[no-untyped-def]
    cancel(context, plan)
    Path(context.repo, ".git", "refs", "heads", "broken").write_text("1" * 40 + "\n")


@given('the user points "{blob_ref}" at a blob and "{gone_ref}" at an object that is not there')
def refs_naming_no_commit(context, blob_ref, gone_ref):  # type: ignore[no-untyped-def]
    blob = git(context, "hash-object", "-w", "--stdin", data="not a plan\n").strip()
    git(context, "update-ref", blob_ref, blob)
    Path(context.repo, ".git", *gone_ref.split("/")).write_text("1" * 40 + "\n")


@given('the user writes "{text}" into .git/{path}')
def write_into_git_dir(context, text, path):  # type: ignore[no-untyped-def]
    Path(context.repo, ".git", path).write_text(text + "\n")


@given("the copy cancel made has no .keep, as an older gitplan left it")
def rescue_unkept(context):  # type: ignore[no-untyped-def]
    from gitplan import packs

    kept = Path(context.repo, ".git", "objects", "pack").glob("*.keep")
    rescues = [path for path in kept if path.read_text() == packs.RESCUE_KEEP]
    assert rescues
    for path in rescues:
        path.unlink()


@when("the git repack finishes: it deletes the packs it read")
def repack_finishes(context):  # type: ignore[no-untyped-def]
    for pack in context.repack_read:
        for suffix in (".pack", ".idx", ".rev", ".bitmap"):
            pack.with_suffix(suffix).unlink(missing_ok=True)


@given("the repository's objects are precious, and a clone borrows them with the plan's tip as a branch")
def precious_and_borrowed(context):  # type: ignore[no-untyped-def]
    git(context, "config", "core.repositoryformatversion", "1")
    git(context, "config", "extensions.preciousObjects", "true")
    context.borrower = str(Path(context.tmp) / "borrower")
    git(context, "clone", "-q", "--shared", context.repo, context.borrower)
    git(context, "fetch", "-q", "origin", "refs/changesets/c1:refs/heads/taken", repo=context.borrower)


@then('the borrowing clone reads "{content}" back from its branch')
def borrower_reads(context, content):  # type: ignore[no-untyped-def]
    assert git(context, "show", "taken:plan-only.txt", repo=context.borrower).encode() == unescape(content)
    result = subprocess.run(["git", "fsck", "--full"], cwd=context.borrower, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@then("no pack is kept by a cancel")
def no_rescue_keep(context):  # type: ignore[no-untyped-def]
    from gitplan import packs

    kept = Path(context.repo, ".git", "objects", "pack").glob("*.keep")
    assert not [path for path in kept if path.read_text() == packs.RESCUE_KEEP]


@when('I create plan "{plan}" on the tip of "{other}" while "{other2}" is cancelled just after it is read')
def create_while_cancelled(context, plan, other, other2):  # type: ignore[no-untyped-def]
    from gitplan import PlanStore, faults

    def cancel() -> None:
        PlanStore.open(context.repo).cancel(other2)

    with faults.at("create.base-resolved", cancel):
        attempt(context, lambda: context.store.create(plan, base=f"refs/changesets/{other}"))


@given("a clone that borrows this repository's objects")
def borrowing_clone(context):  # type: ignore[no-untyped-def]
    context.borrower = str(Path(context.tmp) / "borrower")
    git(context, "clone", "-q", "--shared", context.repo, context.borrower)
    assert Path(context.borrower, ".git", "objects", "info", "alternates").exists()


@when('in the clone a plan "{plan}" is created, recorded into and cancelled')
def plan_in_borrower(context, plan):  # type: ignore[no-untyped-def]
    from gitplan import PlanStore, ToolInvocation

    store = PlanStore.open(context.borrower)
    assert not list(Path(context.borrower, ".git", "objects", "pack").glob("*.pack"))  # all borrowed
    store.create(plan)
    store.record(plan, {"new.txt": b"new\n"}, ToolInvocation(tool="t"))
    assert store.cancel(plan).objects_pruned > 0


@then("the clone's git fsck --full is clean")
def borrower_fsck(context):  # type: ignore[no-untyped-def]
    result = subprocess.run(["git", "fsck", "--full"], cwd=context.borrower, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


class _Killed(BaseException):
    """Stands for the process dying at a fault point."""


@given('a plan "{plan}" whose record of the same "{path}" was killed before it was published')
def killed_same_content(context, plan, path):  # type: ignore[no-untyped-def]
    from gitplan import PlanStore, ToolInvocation, faults

    store = PlanStore.open(context.repo)
    store.create(plan)
    content = git(context, "show", f"refs/changesets/c1:{path}").encode()

    def die() -> None:
        raise _Killed

    with faults.at("transaction.before-publish", die), contextlib.suppress(_Killed):
        store.record(plan, {path: content}, ToolInvocation(tool="killed"))
    assert not [c for c in store.changesets(plan)]


@given("a clone that borrows this repository's objects through a clone of its own, by a relative path")
def borrowing_twice(context):  # type: ignore[no-untyped-def]
    middle = str(Path(context.tmp) / "middle")
    git(context, "clone", "-q", "--shared", context.repo, middle)
    alternates = Path(middle, ".git", "objects", "info", "alternates")
    lender = Path(alternates.read_text().strip())
    alternates.write_text(os.path.relpath(lender, alternates.parent.parent) + "\n")  # from objects/
    context.borrower = str(Path(context.tmp) / "borrower")
    git(context, "clone", "-q", "--shared", middle, context.borrower)
    assert git(context, "cat-file", "-t", "HEAD", repo=context.borrower).strip() == "commit"


@when('I cancel "{plan}" and the disk is full once its refs are deleted')
def cancel_disk_full(context, plan):  # type: ignore[no-untyped-def]
    import errno

    from gitplan import faults

    def full() -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with faults.at("cancel.refs-deleted", full):
        attempt(context, lambda: context.store.cancel(plan))
