"""The read side against git doing the same work, in the same run (issue: real repositories).

* the cumulative diff of 100 changesets x 10 files at N=100,000 vs `git diff base tip`, and
  vs libgit2's own diff and patch of the same trees (the floor of a libgit2 diff);
* one changeset's diff at N=1,000 and N=100,000;
* `status` vs `git log --notes` of the same plan, and `git plan status` vs `git status`
  as processes at N=1,000 and N=100,000;
* `git plan list` with 1,000 plans vs `git for-each-ref` over them;
* CLI start-up (`git plan --version`) as a process;
* status and `log -n`-like reads of a 10,000-changeset plan vs a 100-changeset one.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import pygit2

from gitplan import PlanStore, ToolInvocation
from gitplan.diffs import DiffOptions

from .repos import ENV, LARGE, build_repository, changed_content, file_path, git

_counter = itertools.count()
PLAN_CLI = [sys.executable, "-m", "gitplan"]


def _plan_with_changesets(store: PlanStore, plan: str, files: int, changesets: int, per: int) -> None:
    store.create(plan)
    for n in range(changesets):
        round_ = next(_counter)
        edits = {file_path((n * per + i) * 7 % files): changed_content(i, round_) for i in range(per)}
        store.record(plan, edits, ToolInvocation(tool="bench"))


class CumulativeDiff:
    """100 changesets x 10 files in a 100,000-file repository: the plan's whole diff.

    One call per sample on a store opened for it (setup): a store keeps its last
    diff's file pairs, and a command line opens a new one each time."""

    timeout = 900
    number = 1
    warmup_time = 0

    def setup_cache(self) -> str:
        repo = build_repository(LARGE)
        _plan_with_changesets(PlanStore.open(repo), "cumulative", LARGE, 100, 10)
        return repo

    def setup(self, repo: str) -> None:
        self.repo = repo
        self.store = PlanStore.open(repo)
        status = self.store.status("cumulative")
        self.base, self.tip = status.base, status.tip
        self.repository = pygit2.Repository(repo)

    def time_diff_gitplan(self, repo: str) -> None:
        self.store.diff("cumulative")

    def time_diff_git_cli(self, repo: str) -> None:
        git(self.repo, "diff", self.base, self.tip)

    def time_diff_libgit2_alone(self, repo: str) -> None:
        """The floor of any diff that libgit2 computes (DESIGN: every diff comes from it):
        its whole-tree diff and patch text in one call each, in C, before any of the work
        that makes the text git's (abbreviated ids, hunk headers, rename pairing)."""
        old, new = (self.repository[oid].peel(pygit2.Tree) for oid in (self.base, self.tip))
        patch = self.repository.diff(old, new, flags=pygit2.enums.DiffOption.INDENT_HEURISTIC).patch
        assert patch

    def time_one_changeset_diff_gitplan(self, repo: str) -> None:
        self.store.diff("cumulative", 50)

    def time_one_changeset_diff_git_cli(self, repo: str) -> None:
        git(self.repo, "diff", "refs/changesets/cumulative~51", "refs/changesets/cumulative~50")


class OneChangesetDiff:
    """One changeset's diff must not grow with the repository."""

    params = ([1000, LARGE],)
    param_names = ["files"]
    timeout = 900

    def setup_cache(self) -> dict[int, str]:
        repos = {}
        for files in (1000, LARGE):
            repo = build_repository(files)
            _plan_with_changesets(PlanStore.open(repo), "one", files, 20, 10)
            repos[files] = repo
        return repos

    def setup(self, repos: dict[int, str], files: int) -> None:
        self.store = PlanStore.open(repos[files])

    def time_changeset_diff(self, repos: dict[int, str], files: int) -> None:
        self.store.diff("one", 10)

    def time_changeset_stat(self, repos: dict[int, str], files: int) -> None:
        self.store.diff("one", 10, DiffOptions(output="stat"))


class StatusAndList:
    """status of one plan, and list with 1,000 plans, against git reading the same refs."""

    timeout = 900

    def setup_cache(self) -> str:
        repo = build_repository(1000)
        store = PlanStore.open(repo)
        _plan_with_changesets(store, "watched", 1000, 20, 5)
        for n in range(999):
            store.create(f"many-{n}")
        return repo

    def setup(self, repo: str) -> None:
        self.repo = repo
        self.store = PlanStore.open(repo)

    def time_status_gitplan(self, repo: str) -> None:
        PlanStore.open(self.repo).status("watched")  # a new store, as each git plan command opens

    def time_status_git_log_notes(self, repo: str) -> None:
        git(self.repo, "log", "--notes=changesets/watched", "-n", "21", "refs/changesets/watched")

    def time_list_gitplan(self, repo: str) -> None:
        PlanStore.open(self.repo).plans()

    def time_list_git_for_each_ref(self, repo: str) -> None:
        git(self.repo, "for-each-ref", "refs/changesets", "refs/notes/changesets")

    def time_cli_startup(self, repo: str) -> None:
        subprocess.run([*PLAN_CLI, "--version"], cwd=self.repo, env=ENV, capture_output=True, check=True)

    def time_python_startup(self, repo: str) -> None:
        subprocess.run([sys.executable, "-c", "pass"], env=ENV, check=True)


class StatusProcess:
    """`git plan status` and `git status` as the processes a user runs, at N=1,000 and N=LARGE:
    git status reads the whole worktree, git plan status only the plan."""

    params = ([1000, LARGE],)
    param_names = ["files"]
    timeout = 900

    def setup_cache(self) -> dict[int, str]:
        repos = {}
        for files in self.params[0]:
            repo = build_repository(files)
            _plan_with_changesets(PlanStore.open(repo), "watched", files, 20, 5)
            repos[files] = repo
        return repos

    def setup(self, repos: dict[int, str], files: int) -> None:
        self.repo = repos[files]
        PlanStore.open(self.repo).status("watched")  # as after the first status

    def time_status_gitplan_process(self, repos: dict[int, str], files: int) -> None:
        command = [*PLAN_CLI, "status", "watched"]
        subprocess.run(command, cwd=self.repo, env=ENV, capture_output=True, check=True)

    def time_status_git_process(self, repos: dict[int, str], files: int) -> None:
        git(self.repo, "status")


# Building a 10,000-changeset plan takes minutes: CI's quick run uses 1,000;
# GITPLAN_BENCH_FULL=1 measures the 10,000.
LONG_PLAN = 10000 if os.environ.get("GITPLAN_BENCH_FULL") else 1000


LONG_PLAN_FILES = 100  # the files both plans change: status lists as many at 100 and 10,000


class LongPlanReads:
    """Reading a long plan (10,000 changesets with GITPLAN_BENCH_FULL=1) vs a 100-changeset one.

    Both plans change the same 100 files (changeset n the n*7 % 100th), so that what
    grows is the plan's length alone: a status lists every file a plan changed, and a
    plan that changed ten times the files prints ten times the lines."""

    params = ([100, LONG_PLAN],)
    param_names = ["changesets"]
    timeout = 1800

    def setup_cache(self) -> dict[int, str]:
        repos = {}
        for count in (100, LONG_PLAN):
            repo = build_repository(1000)
            _plan_with_changesets(PlanStore.open(repo), "long", LONG_PLAN_FILES, count, 1)
            repos[count] = repo
        return repos

    def setup(self, repos: dict[int, str], changesets: int) -> None:
        self.repo = repos[changesets]
        self.store = PlanStore.open(self.repo)
        self.store.status("long")  # as after the first status: the one kept is current

    def time_status(self, repos: dict[int, str], changesets: int) -> None:
        PlanStore.open(self.repo).status("long")  # a new store, as each git plan command opens

    def time_status_again_same_store(self, repos: dict[int, str], changesets: int) -> None:
        """The review page and the MCP server keep one store: it keeps each plan's last status."""
        self.store.status("long")

    def time_status_after_one_more_changeset(self, repos: dict[int, str], changesets: int) -> None:
        """The usual case: the agent recorded one more changeset since the last status."""
        edits = {file_path(next(_counter) % LONG_PLAN_FILES): b"more\n"}
        self.store.record("long", edits, ToolInvocation(tool="more"))
        PlanStore.open(self.repo).status("long")

    def time_newest_changeset_diff(self, repos: dict[int, str], changesets: int) -> None:
        self.store.diff("long", changesets)

    def time_full_log(self, repos: dict[int, str], changesets: int) -> None:
        self.store.changesets("long")

    def time_log_newest_20(self, repos: dict[int, str], changesets: int) -> None:
        """git plan log -n 20: a new store, as each command opens; must not grow with the plan."""
        PlanStore.open(self.repo).changesets("long", newest=20)


os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
