"""Steps for repositories.feature: repositories configured the way users have them."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pygit2
from behave import given, then, when
from click.testing import CliRunner
from common_steps import git, unescape

from gitplan import PlanStore, ToolInvocation
from gitplan.cli import main

PNG = bytes(range(256)) * 40 + b"\x00\x89PNG\r\n"


def _run_program(context, words: list[str], cwd: str, env: dict[str, str] | None = None) -> None:  # type: ignore[no-untyped-def]
    """Run the real git-plan program and keep its exit code and output for the Then steps."""
    command = [sys.executable, "-m", "gitplan", *words]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    context.cli = SimpleNamespace(exit_code=done.returncode, stdout=done.stdout, stderr=done.stderr)
    context.cli_output = done.stdout + done.stderr


@given("the user sets the repository up with:")
@when("the user sets the repository up with:")
def setup_script(context):  # type: ignore[no-untyped-def]
    done = subprocess.run(["sh", "-ec", context.text], cwd=context.repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    context.store = PlanStore.open(context.repo)


@then('git "{args}" prints "{text}"')
def git_prints(context, args, text):  # type: ignore[no-untyped-def]
    out = git(context, *shlex.split(args))
    assert unescape(text).decode() in out, out


@then('git "{args}" prints the commit in "{path}"')
def git_prints_commit_in(context, args, path):  # type: ignore[no-untyped-def]
    out = git(context, *shlex.split(args))
    expected = (Path(context.repo) / path).read_text().strip()
    assert out.strip() == expected, (out, expected)


@then('git "{args}" prints nothing')
def git_prints_nothing(context, args):  # type: ignore[no-untyped-def]
    out = git(context, *shlex.split(args))
    assert out == "", out


@then('git "{args}" does not print "{text}"')
def git_does_not_print(context, args, text):  # type: ignore[no-untyped-def]
    out = git(context, *shlex.split(args))
    assert unescape(text).decode() not in out, out


@then('the worktree file "{path}" holds "{text}"')
def worktree_holds(context, path, text):  # type: ignore[no-untyped-def]
    data = (Path(context.repo) / path).read_bytes()
    assert unescape(text) in data, data


@then('the blobs of "{plan}" for "{paths}" are the ones git add stores')
def same_as_git_add(context, plan, paths):  # type: ignore[no-untyped-def]
    for path in paths.split():
        ours = git(context, "rev-parse", f"refs/changesets/{plan}:{path}").strip()
        theirs = git(context, "hash-object", "--", path).strip()
        assert ours == theirs, (path, ours, theirs)


@then('the last changeset of "{plan}" changed only "{path}"')
def changed_only(context, plan, path):  # type: ignore[no-untyped-def]
    ref = f"refs/changesets/{plan}"
    names = git(context, "diff", "--name-only", f"{ref}~1", ref).split()
    assert names == [path], names


@given('I record a binary file "{path}" in "{plan}"')
def record_binary(context, path, plan):  # type: ignore[no-untyped-def]
    context.store.record(plan, {path: PNG}, ToolInvocation(tool="render", actor="agent"))


@then("the error shows the command that brings the plan back")
def shows_restore(context):  # type: ignore[no-untyped-def]
    found = re.search(r"^  (git fetch .*)$", str(context.error), re.MULTILINE)
    assert found, str(context.error)
    context.restore = found.group(1)
    bundle = getattr(context.error, "rescue_bundle", None)
    assert bundle and Path(bundle).exists(), bundle


@when("I run the command the error shows")
def run_restore(context):  # type: ignore[no-untyped-def]
    done = subprocess.run(shlex.split(context.restore), cwd=context.repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@then('the binary file "{path}" in "{plan}" is whole')
def binary_whole(context, path, plan):  # type: ignore[no-untyped-def]
    data = subprocess.run(
        ["git", "cat-file", "blob", f"refs/changesets/{plan}:{path}"],
        cwd=context.repo,
        capture_output=True,
        check=True,
    ).stdout
    assert data == PNG


@then('the JSON output has "{field}" = "{value}" and "{other}" = "{paths}"')
def json_fields(context, field, value, other, paths):  # type: ignore[no-untyped-def]
    document = json.loads(context.cli.stdout)
    assert document[field] == value, document
    assert document[other] == paths.split(), document


@when('in "{subdirectory}" I run git plan "{args}"')
def run_in_subdirectory(context, args, subdirectory):  # type: ignore[no-untyped-def]
    words = shlex.split(args.replace("{tmp}", context.tmp).replace("{repo}", context.repo))
    directory = str(Path(context.repo) / subdirectory)
    context.cli = CliRunner().invoke(main, ["-C", directory, *words])
    context.cli_output = context.cli.output


@then('the output is "{text}"')
@then('the output is ""')
def output_is(context, text=""):  # type: ignore[no-untyped-def]
    assert context.cli_output == unescape(text).decode("utf-8", "surrogateescape"), repr(context.cli_output)


@given('the repository\'s git directory is moved to "{name}" outside its worktree')
def separate_git_dir(context, name):  # type: ignore[no-untyped-def]
    context.git_dir = str(Path(context.tmp) / name)
    os.rename(Path(context.repo) / ".git", context.git_dir)
    context.elsewhere = Path(context.tmp) / "elsewhere"
    context.elsewhere.mkdir()
    context.git_env = dict(os.environ, GIT_DIR=context.git_dir, GIT_WORK_TREE=context.repo)


@when('elsewhere with GIT_DIR and GIT_WORK_TREE set I run git plan "{args}"')
def run_with_git_dir(context, args):  # type: ignore[no-untyped-def]
    words = shlex.split(args.replace("{tmp}", context.tmp))
    _run_program(context, words, str(context.elsewhere), context.git_env)


@then('git with GIT_DIR and GIT_WORK_TREE set shows a clean status and {path} at HEAD is "{text}"')
def git_dir_status(context, path, text):  # type: ignore[no-untyped-def]
    def run(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=context.elsewhere, env=context.git_env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert run("status", "--porcelain") == ""
    assert run("show", f"HEAD:{path}").strip() == text


@when('I run git plan "{args}" with .git mounted read-only')
def run_read_only(context, args):  # type: ignore[no-untyped-def]
    """Root ignores file modes, so a read-only bind mount in a private mount namespace
    is the honest test there; other users get the same from chmod."""
    words = shlex.split(args)
    command = [sys.executable, "-m", "gitplan", *words]
    git_dir = str(Path(context.repo) / ".git")
    if os.geteuid() == 0:
        script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
        command = ["unshare", "-m", "sh", "-c", script, git_dir, *command]
        done = subprocess.run(command, cwd=context.repo, capture_output=True, text=True)
    else:
        subprocess.run(["chmod", "-R", "a-w", git_dir], check=True)
        try:
            done = subprocess.run(command, cwd=context.repo, capture_output=True, text=True)
        finally:
            subprocess.run(["chmod", "-R", "u+w", git_dir], check=True)
    assert "unshare" not in done.stderr and "mount:" not in done.stderr, done.stderr
    context.cli = SimpleNamespace(exit_code=done.returncode, stdout=done.stdout)
    context.cli_output = done.stdout + done.stderr


@given("a SHA-256 repository with one commit")
def sha256_repository(context):  # type: ignore[no-untyped-def]
    context.repo = os.path.join(context.tmp, "repo")
    subprocess.run(["git", "init", "-q", "--object-format=sha256", context.repo], check=True)
    git(context, "commit", "-q", "--allow-empty", "-m", "first")


@given("the repository says it uses reftable refs")
def says_reftable(context):  # type: ignore[no-untyped-def]
    git(context, "config", "core.repositoryformatversion", "1")
    git(context, "config", "extensions.refStorage", "reftable")


@given("nobody is configured as the git user")
def no_user(context):  # type: ignore[no-untyped-def]
    # user.useConfigOnly: git then refuses to guess a name and an address from the account
    # and the host (which it can on a host with a domain name), on every machine alike.
    (Path(os.environ["HOME"]) / ".gitconfig").write_text(
        "[init]\n\tdefaultBranch = main\n[user]\n\tuseConfigOnly = true\n"
    )
    for key in ("NAME", "EMAIL"):
        for role in ("AUTHOR", "COMMITTER"):
            os.environ.pop(f"GIT_{role}_{key}", None)
    os.environ.pop("EMAIL", None)


@given('GIT_AUTHOR_NAME is "{name}" and GIT_AUTHOR_EMAIL is "{email}"')
def author_env(context, name, email):  # type: ignore[no-untyped-def]
    os.environ.update(
        GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email, GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email
    )


@when('I run the git-plan program with "{args}"')
def run_program(context, args):  # type: ignore[no-untyped-def]
    _run_program(context, shlex.split(args), context.repo)


@given("a repository with no commit yet")
def unborn_repository(context):  # type: ignore[no-untyped-def]
    context.repo = os.path.join(context.tmp, "repo")
    subprocess.run(["git", "init", "-q", context.repo], check=True)
    Path(context.tmp, "readme").write_text("# A new project\n")
    context.store = PlanStore.open(context.repo)


@given('I record a changed binary file "{path}" in "{plan}"')
def record_changed_binary(context, path, plan):  # type: ignore[no-untyped-def]
    changed = PNG[:5000] + b"\x01changed\x00" + PNG[5000:]
    context.store.record(plan, {path: changed}, ToolInvocation(tool="render", actor="agent"))


@given('the index has an unresolved conflict in "{path}"')
def index_conflict(context, path):  # type: ignore[no-untyped-def]
    blob = git(context, "rev-parse", f"HEAD:{path}").strip()
    entries = "".join(f"100644 {blob} {stage}\t{path}\n" for stage in (1, 2, 3))
    git(context, "update-index", "--force-remove", path)
    subprocess.run(
        ["git", "update-index", "--index-info"], cwd=context.repo, input=entries, text=True, check=True
    )


@then('there are {count:d} rescue bundles of "{plan}"')
def rescue_bundles(context, count, plan):  # type: ignore[no-untyped-def]
    found = sorted((Path(context.repo) / ".git" / "gitplan" / "rescue").glob(f"{plan}-*.bundle"))
    assert len(found) == count, found


@when('with GIT_INDEX_FILE set to "{value}" I run git plan "{args}" in "{subdirectory}"')
def run_with_index_file(context, value, args, subdirectory):  # type: ignore[no-untyped-def]
    """The real program, as a tool or a `git commit` hook runs it with an index of its own."""
    words = shlex.split(args.replace("{tmp}", context.tmp))
    where = str(Path(context.repo) / subdirectory)
    _run_program(context, words, where, dict(os.environ, GIT_INDEX_FILE=value.replace("{tmp}", context.tmp)))


@then('git with GIT_INDEX_FILE set to "{value}" prints "{text}" for "{args}"')
@then('git with GIT_INDEX_FILE set to "{value}" prints "" for "{args}"')
def git_with_index_file_prints(context, value, args, text=""):  # type: ignore[no-untyped-def]
    """git run from the top of the worktree (where it takes a relative GIT_INDEX_FILE from)
    prints exactly `text`."""
    environment = dict(os.environ, GIT_INDEX_FILE=value)
    done = subprocess.run(
        ["git", *shlex.split(args)], cwd=context.repo, env=environment, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == unescape(text).decode(), done.stdout


@when('with GIT_DIR set to "{value}" I run git plan "{args}"')
@when('with GIT_DIR set to "{value}" I run git plan "{args}" from the top of the worktree')
def run_with_git_dir_value(context, value, args):  # type: ignore[no-untyped-def]
    git_dir = value.replace("{tmp}", context.tmp).replace("{repo}", context.repo)
    where = context.repo if git_dir.startswith(context.repo) else context.tmp
    _run_program(context, shlex.split(args), where, dict(os.environ, GIT_DIR=git_dir))


@when('from the .git directory with GIT_WORK_TREE set to the repository I run git plan "{args}"')
def run_with_work_tree(context, args):  # type: ignore[no-untyped-def]
    environment = dict(os.environ, GIT_WORK_TREE=context.repo)
    _run_program(context, shlex.split(args), os.path.join(context.repo, ".git"), environment)


@given('a plan "{plan}" made in it with a README')
def unborn_plan(context, plan):  # type: ignore[no-untyped-def]
    context.store.create(plan)
    context.store.record(plan, {"README.md": b"# new\n"}, ToolInvocation(tool="scaffold"))


@given('someone creates branch "{branch}" from another commit just before apply\'s commit point')
def branch_from_elsewhere(context, branch):  # type: ignore[no-untyped-def]
    from gitplan import faults

    def create() -> None:
        tree = git(context, "mktree", "--missing").strip()  # the empty tree
        commit = git(context, "commit-tree", tree, "-m", "someone else").strip()
        git(context, "update-ref", f"refs/heads/{branch}", commit)

    fault = faults.at("apply.before-commit-point", create)
    fault.__enter__()
    context.add_cleanup(fault.__exit__, None, None, None)


@given('I record in "{plan}" a failed run of "{tool}" with output tails')
def failed_run(context, plan, tool):  # type: ignore[no-untyped-def]
    invocation = ToolInvocation(
        tool=tool,
        actor="ci",
        arguments={"k": "v"},
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:00:01.500Z",
        duration_ms=1500,
        status="error",
        exit_code=2,
        error="tests failed",
        stdout_tail="collected 3 items\nFAILED test_x",
        stderr_tail="warning: slow",
    )
    context.store.record(plan, {"report.txt": b"1 failed\n"}, invocation)


@given('a repository with a submodule "{path}" whose checkout has uncommitted changes')
def with_submodule(context, path):  # type: ignore[no-untyped-def]
    with_clean_submodule(context, path)
    with open(Path(context.repo, path, "l.txt"), "a") as handle:
        handle.write("dirty\n")


@given('a repository with a submodule "{path}"')
def with_clean_submodule(context, path):  # type: ignore[no-untyped-def]
    library = os.path.join(context.tmp, "library")
    subprocess.run(["git", "init", "-q", library], check=True)
    Path(library, "l.txt").write_text("lib\n")
    subprocess.run(["git", "add", "."], cwd=library, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "lib"], cwd=library, check=True)
    context.repo = os.path.join(context.tmp, "repo")
    subprocess.run(["git", "init", "-q", context.repo], check=True)
    Path(context.repo, "top.txt").write_text("top\n")
    Path(context.tmp, "readme").write_text("# readme\n")
    git(context, "add", ".")
    git(context, "commit", "-q", "-m", "top")
    git(context, "-c", "protocol.file.allow=always", "submodule", "add", "-q", library, path)
    git(context, "commit", "-q", "-m", "submodule")
    context.store = PlanStore.open(context.repo)


@when('in "{subdirectory}" with GIT_CEILING_DIRECTORIES set to the repository I run git plan "{args}"')
def run_with_ceiling(context, subdirectory, args):  # type: ignore[no-untyped-def]
    environment = dict(os.environ, GIT_CEILING_DIRECTORIES=context.repo)
    _run_program(context, shlex.split(args), os.path.join(context.repo, subdirectory), environment)


@when('I run git plan "{args}" in the bare clone')
def run_in_bare(context, args):  # type: ignore[no-untyped-def]
    words = shlex.split(args.replace("{tmp}", context.tmp))
    context.cli = CliRunner().invoke(main, ["-C", context.bare, *words])
    context.cli_output = context.cli.output


@given("the repository's git directory is moved elsewhere with git init --separate-git-dir")
def git_dir_moved_by_git_init(context):  # type: ignore[no-untyped-def]
    elsewhere = os.path.join(context.tmp, "elsewhere.git")
    git(context, "init", "-q", f"--separate-git-dir={elsewhere}")
    assert Path(context.repo, ".git").is_file(), "git left a .git directory"
    context.store = PlanStore.open(context.repo)


@given('only the committer is named, by GIT_COMMITTER_NAME "{name}" and GIT_COMMITTER_EMAIL "{email}"')
def committer_only(context, name, email):  # type: ignore[no-untyped-def]
    os.environ.update(GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email)


@then('git "add {paths}" stores what the tip of "{plan}" holds for them')
def git_add_stores_the_tip(context, paths, plan):  # type: ignore[no-untyped-def]
    names = paths.split()
    git(context, "add", "--", *names)
    for name in names:
        staged = git(context, "rev-parse", f":{name}").strip()
        recorded = git(context, "rev-parse", f"refs/changesets/{plan}:{name}").strip()
        assert staged == recorded, (name, staged, recorded)


@given("I note the shared index files in the git directory")
def note_shared_indexes(context):  # type: ignore[no-untyped-def]
    context.shared_indexes = sorted(Path(context.repo, ".git").glob("sharedindex.*"))
    assert context.shared_indexes, "the repository has no split index"


@then("no shared index file was added to the git directory")
def no_new_shared_index(context):  # type: ignore[no-untyped-def]
    assert sorted(Path(context.repo, ".git").glob("sharedindex.*")) == context.shared_indexes


@given('only user.email is configured, as "{email}"')
def only_email(context, email):  # type: ignore[no-untyped-def]
    no_user(context)
    (Path(os.environ["HOME"]) / ".gitconfig").write_text(f"[user]\n\temail = {email}\n")


@then('HEAD\'s author is who git var names, with the email "{email}"')
def author_as_git_var(context, email):  # type: ignore[no-untyped-def]
    ident = git(context, "var", "GIT_AUTHOR_IDENT")
    name = ident.split(" <", 1)[0]
    author = git(context, "log", "-1", "--format=%an <%ae>").strip()
    assert author == f"{name} <{email}>", (author, ident)


@when('the git-plan program runs "{args}" in a shell')
def program_in_bash(context, args):  # type: ignore[no-untyped-def]
    """bash, for what only a shell gives: a process substitution (`<(cmd)`) as FILE."""
    gitplan = f"{shlex.quote(sys.executable)} -m gitplan"
    done = subprocess.run(["bash", "-c", f"{gitplan} {args}"], cwd=context.repo, capture_output=True)
    context.cli = SimpleNamespace(exit_code=done.returncode, output=(done.stdout + done.stderr).decode())
    context.cli_output = context.cli.output


@given('in the linked worktree "{path}" has uncommitted content "{content}"')
def linked_worktree_edit(context, path, content):  # type: ignore[no-untyped-def]
    Path(context.linked, path).write_bytes(unescape(content))


@when("the linked worktree is removed with git worktree remove --force")
def linked_worktree_removed(context):  # type: ignore[no-untyped-def]
    git(context, "worktree", "remove", "--force", context.linked)


@when("I run the command the output shows to bring the plan back")
def run_printed_restore(context):  # type: ignore[no-untyped-def]
    found = re.search(r"^  (git fetch .*)$", context.cli_output, re.MULTILINE)
    assert found, context.cli_output
    done = subprocess.run(shlex.split(found.group(1)), cwd=context.repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@given("the repository is shared with its group")
def shared_with_group(context):  # type: ignore[no-untyped-def]
    git(context, "config", "core.sharedRepository", "group")
    context.before_sharing = {str(path) for path in Path(context.repo, ".git").rglob("*")}


@when('with umask {umask} I run the real git plan "{args}"')
def run_with_umask(context, umask, args):  # type: ignore[no-untyped-def]
    words = shlex.split(args.replace("{tmp}", context.tmp))
    command = [sys.executable, "-m", "gitplan", *words]
    done = subprocess.run(command, cwd=context.repo, capture_output=True, text=True, umask=int(umask, 8))
    context.cli = SimpleNamespace(exit_code=done.returncode, stdout=done.stdout, stderr=done.stderr)
    context.cli_output = done.stdout + done.stderr
    assert done.returncode == 0, context.cli_output


@then("the group may read and write all gitplan made under .git since it was shared, as git makes it")
def shared_permissions(context):  # type: ignore[no-untyped-def]
    """git's rule for core.sharedRepository=group: the group gets whatever of read and
    write the owner has (objects are read-only for both); directories are 2770."""
    top = Path(context.repo, ".git")
    made = [path for path in top.rglob("*") if str(path) not in context.before_sharing]
    assert any("changesets" in str(path) for path in made), made
    checkouts = [path.parent for path in made if path.name == ".git" and path.is_file()]
    wrong = []
    for path in made:
        if path.name == "COMMIT_EDITMSG" or path.is_symlink() or path.parts[len(top.parts)] == "worktrees":
            continue  # git's own: its message file and `git worktree add`'s files keep the umask
        if any(path == checkout or checkout in path.parents for checkout in checkouts):
            continue  # a plan's worktree: files checked out keep the umask, as git's checkout does
        mode = path.stat().st_mode
        directory_ok = mode & 0o2770 == 0o2770
        if not (directory_ok if path.is_dir() else (mode >> 3) & 0o6 == (mode >> 6) & 0o6):
            wrong.append(f"{oct(mode & 0o7777)} {path.relative_to(context.repo)}")
    assert not wrong, "\n".join(wrong)


@then('"{path}" in the worktree has mode {mode}, the user\'s umask')
def worktree_mode(context, path, mode):  # type: ignore[no-untyped-def]
    found = Path(context.repo, path).stat().st_mode & 0o777
    assert found == int(mode, 8), oct(found)


@given('core.sharedRepository is "{value}"')
def shared_repository_value(context, value):  # type: ignore[no-untyped-def]
    if value == "(the key alone)":
        with open(Path(context.repo, ".git", "config"), "a") as config:
            config.write("[core]\n\tsharedRepository\n")
    else:
        git(context, "config", "core.sharedRepository", value)


@when('with umask {umask} git runs "{args}"')
def git_with_umask(context, umask, args):  # type: ignore[no-untyped-def]
    done = subprocess.run(
        ["git", *shlex.split(args)], cwd=context.repo, capture_output=True, umask=int(umask, 8)
    )
    assert done.returncode == 0, done.stderr


@when('with umask 077 git makes the ref "{ref}" and gitplan makes the plan "{plan}"')
def refs_with_umask(context, ref, plan):  # type: ignore[no-untyped-def]
    for command in (["git", "update-ref", ref, "HEAD"], [sys.executable, "-m", "gitplan", "create", plan]):
        done = subprocess.run(command, cwd=context.repo, capture_output=True, text=True, umask=0o077)
        assert done.returncode == 0, done.stderr


@then('"{ours}" and its directory have the modes of "{theirs}" and its directory')
def same_modes(context, ours, theirs):  # type: ignore[no-untyped-def]
    def modes(ref: str) -> list[str]:
        path = Path(context.repo, ".git", ref)
        return [oct(found.stat().st_mode & 0o7777) for found in (path, path.parent)]

    assert modes(ours) == modes(theirs), (modes(ours), modes(theirs))


def _without_identity(context, global_config: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_AUTHOR_", "GIT_COMMITTER_"))}
    environment["GIT_CONFIG_GLOBAL"] = global_config.replace("{tmp}", context.tmp)
    return environment


@when('with GIT_CONFIG_GLOBAL={path} and no identity in the environment I run the real git plan "{args}"')
def run_with_global_config(context, path, args):  # type: ignore[no-untyped-def]
    context.environment = _without_identity(context, path)
    _run_program(context, shlex.split(args), context.repo, env=context.environment)


@then('the output is what git diff of the base and tip of "{plan}" prints in that environment')
def output_is_git_diff_there(context, plan):  # type: ignore[no-untyped-def]
    expected = subprocess.run(
        ["git", "diff", f"refs/changesets/{plan}~1", f"refs/changesets/{plan}"],
        cwd=context.repo, env=context.environment, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert context.cli.stdout == expected, (context.cli.stdout, expected)


@then('HEAD\'s author is who git names in that environment: "{who}"')
def head_author_there(context, who):  # type: ignore[no-untyped-def]
    ident = subprocess.run(
        ["git", "var", "GIT_AUTHOR_IDENT"], cwd=context.repo, env=context.environment,
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert ident.startswith(who + " "), ident
    assert git(context, "log", "-1", "--format=%an <%ae>") == who + "\n"


@then('git reflog exists says "{ref}" has no reflog')
def no_reflog(context, ref):  # type: ignore[no-untyped-def]
    done = subprocess.run(["git", "reflog", "exists", ref], cwd=context.repo, capture_output=True)
    assert done.returncode == 1, (done.returncode, done.stderr)


def _placed(context, text: str) -> str:  # type: ignore[no-untyped-def]
    return text.replace("{tmp}", context.tmp).replace("{repo}", context.repo)


@when('in "{where}" I run "{command}" with the real git')
@when('in "{where}" with {variables} I run "{command}" with the real git')
def run_real_git(context, where, command, variables=""):  # type: ignore[no-untyped-def]
    """A `git ...` command run by the git program from `where`, with the VARIABLE=VALUE
    words of `variables` set ({tmp} and {repo} stand for those directories); `git plan`
    finds the git-plan program of this environment first on PATH. So git's answer and
    gitplan's are taken the same way, side by side."""
    programs = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    environment = dict(os.environ, PATH=programs)
    environment.update(word.split("=", 1) for word in shlex.split(_placed(context, variables)))
    words = shlex.split(_placed(context, command))
    done = subprocess.run(words, cwd=_placed(context, where), env=environment, capture_output=True, text=True)
    context.cli = SimpleNamespace(exit_code=done.returncode, stdout=done.stdout, stderr=done.stderr)
    context.cli_output = done.stdout + done.stderr


@then('the output names the repository "{where}"')
def output_names_repository(context, where):  # type: ignore[no-untyped-def]
    assert f"repository at '{_placed(context, where)}'" in context.cli_output, context.cli_output


@given("the repository belongs to another user")
def owned_by_another_user(context):  # type: ignore[no-untyped-def]
    if os.geteuid() != 0:
        context.scenario.skip("giving the repository to another user takes root")
        return
    for directory, _, files in os.walk(context.repo):
        for name in [directory, *(os.path.join(directory, f) for f in files)]:
            os.lchown(name, 12345, -1)


@given('the user\'s XDG git file "{name}" holds "{content}"')
def xdg_git_file(context, name, content):  # type: ignore[no-untyped-def]
    home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.environ["HOME"], ".config")
    target = Path(home, "git", name)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(unescape(content))


@when("{threads:d} threads each open the store {times:d} times")
def step_open_from_threads(context, threads: int, times: int) -> None:  # type: ignore[no-untyped-def]
    """Opening turns libgit2's process-wide owner check off for a moment: threads opening
    at once must not leave it off for the rest of the process."""
    option = pygit2.enums.Option
    context.owner_check_before = pygit2.option(option.GET_OWNER_VALIDATION)

    def open_repeatedly() -> None:
        for _ in range(times):
            PlanStore.open(context.repo)

    workers = [threading.Thread(target=open_repeatedly) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


@then("libgit2's owner check is as it was before")
def step_owner_check_restored(context) -> None:  # type: ignore[no-untyped-def]
    now = pygit2.option(pygit2.enums.Option.GET_OWNER_VALIDATION)
    assert now == context.owner_check_before, (now, context.owner_check_before)


@given('a store of the repository is open, reading "{key}" as "{value}"')
def store_open_reading(context, key, value):  # type: ignore[no-untyped-def]
    context.long_store = PlanStore.open(context.repo)
    assert context.long_store.config(key) == value, context.long_store.config(key)


@then('that store reads "{key}" as "{value}" a second later, as git does')
def store_reads_later(context, key, value):  # type: ignore[no-untyped-def]
    time.sleep(1.1)  # it looks at the config files again at most once a second
    assert context.long_store.config(key) == value, context.long_store.config(key)
    done = subprocess.run(["git", "config", key], cwd=context.repo, capture_output=True, text=True)
    assert done.stdout.strip() == value, done.stdout
