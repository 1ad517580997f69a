"""Throughput of concurrent writers into one plan, and applying a large plan vs git apply."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

from gitplan import PlanStore, ToolInvocation

from .repos import LARGE, build_repository, changed_content, file_path, git

_counter = itertools.count()
WRITER = """
import sys
from gitplan import PlanStore, ToolInvocation
store = PlanStore.open(sys.argv[1])
for i in range(int(sys.argv[4])):
    store.record(sys.argv[2], {f"w{sys.argv[3]}/{i}.txt": b"x %d\\n" % i}, ToolInvocation(tool="w"))
"""


class WriterThroughput:
    """60 changesets into one plan from 1, 2 or 4 processes (changesets/s = 60 / time)."""

    params = ([1, 2, 4],)
    param_names = ["processes"]
    timeout = 600

    def setup_cache(self) -> str:
        return build_repository(1000)

    def setup(self, repo: str, processes: int) -> None:
        self.store = PlanStore.open(repo)
        self.plan = f"writers-{os.getpid()}-{next(_counter)}"
        self.store.create(self.plan)

    def teardown(self, repo: str, processes: int) -> None:
        self.store.cancel(self.plan)

    def time_record_60_changesets(self, repo: str, processes: int) -> None:
        each = 60 // processes
        running = [
            subprocess.Popen([sys.executable, "-c", WRITER, repo, self.plan, str(n), str(each)])
            for n in range(processes)
        ]
        for process in running:
            if process.wait() != 0:
                raise RuntimeError("a writer failed")


class ApplyLargePlan:
    """A 1,000-file plan in a 100,000-file repository: gitplan apply vs git apply --index,
    and vs the git read-tree -m -u that apply hands the files and the index to."""

    timeout = 900

    def setup_cache(self) -> str:
        return build_repository(LARGE)

    def setup(self, repo: str) -> None:
        self.repo = repo
        git(repo, "reset", "-q", "--hard", "main")
        self.store = PlanStore.open(repo)
        self.plan = f"apply-{os.getpid()}-{next(_counter)}"
        self.store.create(self.plan)
        round_ = next(_counter)
        self.store.record(
            self.plan,
            {file_path(i * 100): changed_content(i, round_) for i in range(1000)},
            ToolInvocation(tool="bench"),
        )
        self.patch = os.path.join(repo, ".git", f"{self.plan}.patch")
        with open(self.patch, "w") as handle:
            handle.write(self.store.diff(self.plan))

    def teardown(self, repo: str) -> None:
        git(repo, "reset", "-q", "--hard", "main")
        self.store.cancel(self.plan)
        os.remove(self.patch)

    def time_apply_gitplan_worktree(self, repo: str) -> None:
        self.store.apply(self.plan, mode="worktree")

    def time_git_apply_index(self, repo: str) -> None:
        git(repo, "apply", "--index", self.patch)

    def time_git_read_tree(self, repo: str) -> None:
        """The step of apply that git does: `git read-tree -m -u` from HEAD's tree to the
        plan's, writing the files and the index (the floor of apply's worktree move)."""
        git(repo, "read-tree", "-m", "-u", "HEAD^{tree}", f"refs/changesets/{self.plan}^{{tree}}")
