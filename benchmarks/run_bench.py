"""git plan run: its overhead around a no-op command, as the repository grows; and
recording what a worktree holds when a command rewrote many files.

The overhead is `store.run` (and the `git plan run` program) around `true`,
minus `true` run bare. References in
the same run: the bare command, and one `git status` of the same repository
(the issue's bar: overhead at N=100,000 at most 1.5x that at N=1,000, and at
most one `git status`). The plan's worktree exists before timing starts: the
first run of a plan checks it out once; what is measured is every run after.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tempfile

from gitplan import PlanStore

from .repos import LARGE, build_repository, changed_content, file_path


class RunOverhead:
    """One no-op `run` into a plan whose worktree is already checked out."""

    params = ([1000, LARGE],)
    param_names = ["files"]
    timeout = 1200
    number = 1
    repeat = 10

    def setup_cache(self) -> dict[int, str]:
        root = tempfile.mkdtemp(prefix="gitplan-bench-run-", dir=os.getcwd())  # asv removes it
        repos = {}
        for files in self.params[0]:
            repo = build_repository(files, root)
            store = PlanStore.open(repo)
            store.create("bench")
            store.run("bench", ["true"], tool="warm-up")  # checks the plan's worktree out once
            repos[files] = repo
        return repos

    def setup(self, repos: dict[int, str], files: int) -> None:
        self.repo = repos[files]
        self.store = PlanStore.open(self.repo)

    def time_run_noop(self, repos: dict[int, str], files: int) -> None:
        self.store.run("bench", ["true"], tool="noop")

    def time_run_noop_program(self, repos: dict[int, str], files: int) -> None:
        subprocess.run(
            [sys.executable, "-m", "gitplan", "run", "bench", "--tool", "noop", "--", "true"],
            cwd=self.repo,
            check=True,
            capture_output=True,
        )

    def time_command_bare(self, repos: dict[int, str], files: int) -> None:
        subprocess.run(["true"], check=True)

    def time_git_status(self, repos: dict[int, str], files: int) -> None:
        subprocess.run(["git", "status", "--porcelain"], cwd=self.repo, check=True, capture_output=True)


class SnapshotManyFiles:
    """Recording what a worktree holds (`snapshot`: what `record --from-worktree`, `git
    plan run` under `git status` and the agent hooks' sweep do) when a command rewrote
    2,000 files, against `git add -A` of the same worktree into a scratch index."""

    timeout = 600
    number = 1
    repeat = 5

    def setup_cache(self) -> str:
        root = tempfile.mkdtemp(prefix="gitplan-bench-snapshot-", dir=os.getcwd())  # asv removes it
        repo = build_repository(2000, root)
        for i in range(2000):
            with open(os.path.join(repo, file_path(i)), "wb") as handle:
                handle.write(changed_content(i, 1))
        return repo

    def setup(self, repo: str) -> None:
        self.repo = repo
        self.store = PlanStore.open(repo)
        self.plan = f"snap-{os.getpid()}-{next(_counter)}"
        self.store.create(self.plan)
        self.index = tempfile.mktemp(prefix="gitplan-bench-index-")
        subprocess.run(["cp", os.path.join(repo, ".git", "index"), self.index], check=True)

    def teardown(self, repo: str) -> None:
        self.store.cancel(self.plan)
        os.unlink(self.index)

    def time_snapshot_gitplan(self, repo: str) -> None:
        self.store.snapshot(self.plan, tool="bench")

    def time_git_add_all(self, repo: str) -> None:
        environment = dict(os.environ, GIT_INDEX_FILE=self.index)
        subprocess.run(["git", "add", "-A"], cwd=repo, env=environment, check=True)


_counter = itertools.count()
