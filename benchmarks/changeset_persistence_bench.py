"""Recording, diffing and cancelling plans against the git CLI and SQLite doing the same.

Compare rows of one benchmark: `time_record_gitplan` vs `time_record_git_plumbing`
vs `time_record_sqlite` at the same (files, k) are the ratios quoted in notes.
"""

from __future__ import annotations

import contextlib
import difflib
import itertools
import os
import sqlite3
import subprocess
import tempfile

from gitplan import PlanStore, ToolInvocation

from .repos import ENV, build_repository, changed_content, file_path, git

SIZES = (1000, 100000)
KS = (1, 10, 100)
_counter = itertools.count()


class RecordChangeset:
    """One changeset of k changed files in a repository of N files."""

    params = (SIZES, KS)
    param_names = ["files", "k"]
    timeout = 600

    def setup_cache(self) -> dict[int, str]:
        return {n: build_repository(n) for n in SIZES}

    def setup(self, repos: dict[int, str], files: int, k: int) -> None:
        self.repo = repos[files]
        self.store = PlanStore.open(self.repo)
        self.plan = f"bench-{os.getpid()}-{next(_counter)}"
        self.store.create(self.plan)
        self.round = next(_counter)
        self.changes = {file_path(i * (files // k)): changed_content(i, self.round) for i in range(k)}
        self.db = sqlite3.connect(":memory:")
        self.db.execute("create table diffs (plan text, path text, diff text)")
        self.index = tempfile.mktemp(prefix="gitplan-bench-index-")
        self.before = {path: git(self.repo, "cat-file", "blob", f"HEAD:{path}") for path in self.changes}

    def teardown(self, repos: dict[int, str], files: int, k: int) -> None:
        self.store.cancel(self.plan)
        if os.path.exists(self.index):
            os.remove(self.index)

    def time_record_gitplan(self, repos: dict[int, str], files: int, k: int) -> None:
        self.store.record(self.plan, self.changes, ToolInvocation(tool="bench"))

    def time_record_git_plumbing(self, repos: dict[int, str], files: int, k: int) -> None:
        """The git CLI: hash-object, a temporary index, write-tree, commit-tree, update-ref."""
        env = {**ENV, "GIT_INDEX_FILE": self.index}

        def run(*a, data=None):
            return (
                subprocess.run(  # noqa: E731
                    ["git", *a], cwd=self.repo, env=env, input=data, capture_output=True, check=True
                )
                .stdout.decode()
                .strip()
            )

        run("read-tree", "HEAD")
        lines = []
        for path, data in self.changes.items():
            oid = run("hash-object", "-w", "--stdin", data=data)
            lines.append(f"100644 {oid}\t{path}")
        run("update-index", "--index-info", data=("\n".join(lines) + "\n").encode())
        tree = run("write-tree")
        commit = run("commit-tree", tree, "-p", "HEAD", "-m", "bench")
        run("update-ref", f"refs/bench/{self.plan}", commit)
        run("update-ref", "-d", f"refs/bench/{self.plan}")

    def time_record_sqlite(self, repos: dict[int, str], files: int, k: int) -> None:
        """The usual alternative: a table of unified diff text."""
        rows = []
        for path, data in self.changes.items():
            before = self.before[path]
            diff = "".join(
                difflib.unified_diff(before.splitlines(True), data.decode().splitlines(True), path, path)
            )
            rows.append((self.plan, path, diff))
        with self.db:
            self.db.executemany("insert into diffs values (?, ?, ?)", rows)


class DiffAndCancel:
    """The cumulative diff of a 100-file plan, and cancelling it, in a large repository."""

    params = (SIZES,)
    param_names = ["files"]
    timeout = 600

    def setup_cache(self) -> dict[int, str]:
        return {n: build_repository(n) for n in SIZES}

    def setup(self, repos: dict[int, str], files: int) -> None:
        self.repo = repos[files]
        self.store = PlanStore.open(self.repo)
        self.plan = f"diff-{os.getpid()}-{next(_counter)}"
        self.store.create(self.plan)
        round_ = next(_counter)
        self.store.record(
            self.plan,
            {file_path(i * (files // 100)): changed_content(i, round_) for i in range(100)},
            ToolInvocation(tool="bench"),
        )
        status = self.store.status(self.plan)
        self.base, self.tip = status.base, status.tip

    def teardown(self, repos: dict[int, str], files: int) -> None:
        with contextlib.suppress(KeyError):
            self.store.cancel(self.plan)

    def time_diff_gitplan(self, repos: dict[int, str], files: int) -> None:
        self.store.diff(self.plan)

    def time_diff_git_cli(self, repos: dict[int, str], files: int) -> None:
        git(self.repo, "diff", self.base, self.tip)

    def time_cancel_gitplan(self, repos: dict[int, str], files: int) -> None:
        self.store.cancel(self.plan)
