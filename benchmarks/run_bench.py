"""git plan run: its overhead around a no-op command, as the repository grows.

The overhead is `store.run` (and the `git plan run` program) around `true`,
minus `true` run bare. References in
the same run: the bare command, and one `git status` of the same repository
(the issue's bar: overhead at N=100,000 at most 1.5x that at N=1,000, and at
most one `git status`). The plan's worktree exists before timing starts: the
first run of a plan checks it out once; what is measured is every run after.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from gitplan import PlanStore

from .repos import LARGE, build_repository


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
