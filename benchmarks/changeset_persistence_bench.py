"""Recording, diffing and cancelling plans, against what else does the same work.

Each class times gitplan and its references in the same run, so the ratios quoted
in notes come from one machine at one moment:

* record: gitplan vs SQLite rows of unified diffs plus an invocation row (WAL,
  synchronous=normal, one transaction), vs the loose-object floor (every object
  the changeset needs written as its own loose file, in plain Python), vs the
  durable floor (a pack and its index flushed to disk, two refs), vs the git
  CLI plumbing (temporary index, hash-object, update-index, write-tree,
  commit-tree, update-ref, notes add);
* record into a long plan: the 1,000th changeset vs the 10th; the 500th alone in its
  repository vs beside 20 other plans;
* cancel: in checked-out repositories of 1,000 and 40,000 files with 300 commits,
  and 100,000 files, vs `git update-ref -d` + `git prune --expire=now`.
"""

from __future__ import annotations

import contextlib
import difflib
import itertools
import json
import os
import sqlite3
import subprocess
import tempfile
import zlib
from pathlib import Path

from gitplan import PlanStore, ToolInvocation
from gitplan.objects import Staging
from gitplan.packfile import TYPE_NAMES
from gitplan.trees import edit_tree

from .repos import ENV, LARGE, MEDIUM, build_history, build_repository, changed_content, file_path, git

SIZES = (1000, LARGE)
KS = (1, 10, 100)
_counter = itertools.count()


def _files_under(root: str) -> set[tuple[str, int]]:
    found = set()
    for directory, _, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            with contextlib.suppress(FileNotFoundError):
                found.add((path, os.stat(path).st_ino))
    return found


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
        self.before = {path: git(self.repo, "cat-file", "blob", f"HEAD:{path}") for path in self.changes}
        self.scratch = tempfile.mkdtemp(prefix="gitplan-bench-scratch-")
        self.db = sqlite3.connect(os.path.join(self.scratch, "plans.db"))
        self.db.execute("pragma journal_mode=wal")
        self.db.execute("pragma synchronous=normal")
        self.db.execute("create table diffs (plan text, path text, diff text)")
        self.db.execute("create table invocations (plan text, tool text, actor text, arguments text)")
        self.index = os.path.join(self.scratch, "index")
        self.loose = os.path.join(self.scratch, "objects")
        os.mkdir(self.loose)

    def teardown(self, repos: dict[int, str], files: int, k: int) -> None:
        self.store.cancel(self.plan)
        self.db.close()
        subprocess.run(["rm", "-rf", self.scratch], check=True)

    def time_record_gitplan(self, repos: dict[int, str], files: int, k: int) -> None:
        self.store.record(self.plan, self.changes, ToolInvocation(tool="bench"))

    def time_record_sqlite(self, repos: dict[int, str], files: int, k: int) -> None:
        """The usual alternative: a table of unified diff text and one of invocations."""
        rows = []
        for path, data in self.changes.items():
            before = self.before[path]
            diff = "".join(
                difflib.unified_diff(before.splitlines(True), data.decode().splitlines(True), path, path)
            )
            rows.append((self.plan, path, diff))
        with self.db:
            self.db.executemany("insert into diffs values (?, ?, ?)", rows)
            self.db.execute(
                "insert into invocations values (?, ?, ?, ?)", (self.plan, "bench", "gitplan", "{}")
            )

    def time_record_loose_floor(self, repos: dict[int, str], files: int, k: int) -> None:
        """Every object the changeset needs (blobs, trees along the paths, commit, note, notes
        tree and commit), each written as a loose file in plain Python: what one file per
        object costs at the least."""
        staging = Staging()
        edits = {path: (staging.blob(data), 0o100644) for path, data in self.changes.items()}
        tree = edit_tree(self.store._repo, staging, git(self.repo, "rev-parse", "HEAD^{tree}").strip(), edits)
        from gitplan.gitrepo import committer_person

        who = committer_person()
        commit = staging.commit(tree, [], who, who, "bench\n")
        note = staging.blob(json.dumps({"files": list(self.changes)}).encode())
        notes_tree = staging.tree([(0o100644, commit.encode(), bytes.fromhex(note))])
        staging.commit(notes_tree, [], who, who, "notes\n")
        for oid, kind, data in staging.items():
            directory = os.path.join(self.loose, oid.hex()[:2])
            os.makedirs(directory, exist_ok=True)
            temporary = os.path.join(directory, f"tmp_{oid.hex()}")
            with open(temporary, "wb") as handle:
                handle.write(zlib.compress(b"%s %d\0" % (TYPE_NAMES[kind], len(data)) + data, 1))
            os.replace(temporary, os.path.join(directory, oid.hex()[2:]))

    def time_record_durable_floor(self, repos: dict[int, str], files: int, k: int) -> None:
        """What any record durable before its refs move must do at least, in plain Python:
        the changeset's bytes (zlib level 1) written to a pack file and an index file, each
        flushed to disk (fsync), renamed into place, then the two refs written as git
        writes them (a lock file renamed over the ref), with no object hashing, trees,
        note or checks. SQLite's WAL at synchronous=normal flushes nothing at commit."""
        names = []
        for suffix, data in (
            ("pack", b"".join(zlib.compress(content, 1) for content in self.changes.values())),
            ("idx", bytes(1072 + 28 * (2 * k + 4))),
        ):
            temporary = os.path.join(self.loose, f"tmp_{suffix}")
            with open(temporary, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            names.append(temporary)
        for name in names:
            os.replace(name, name.replace("tmp_", "floor."))
        for ref in ("tip", "notes"):
            lock = os.path.join(self.loose, f"{ref}.lock")
            with open(lock, "w") as handle:
                handle.write(f"{'0' * 40}\n")
            os.replace(lock, os.path.join(self.loose, ref))

    def time_record_git_plumbing(self, repos: dict[int, str], files: int, k: int) -> None:
        """The git CLI: temp index, hash-object, update-index, write-tree, commit-tree,
        update-ref, notes add."""
        env = {**ENV, "GIT_INDEX_FILE": self.index}

        def run(*args: str, data: bytes | None = None) -> str:
            return (
                subprocess.run(
                    ["git", *args], cwd=self.repo, env=env, input=data, capture_output=True, check=True
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
        run("notes", f"--ref=bench/{self.plan}", "add", "-m", '{"tool": "bench"}', commit)
        run("update-ref", "-d", f"refs/bench/{self.plan}")
        run("update-ref", "-d", f"refs/notes/bench/{self.plan}")

    def track_files_created_by_record(self, repos: dict[int, str], files: int, k: int) -> int:
        """Files created under .git by one record (objects, packs, refs, gitplan's registry)."""
        before = _files_under(os.path.join(self.repo, ".git"))
        self.store.record(self.plan, self.changes, ToolInvocation(tool="bench"))
        return len(_files_under(os.path.join(self.repo, ".git")) - before)


def _grow_long_plan(store: PlanStore, changesets: int) -> None:
    """Record `changesets` one-file changesets into the plan "long"."""
    for i in range(changesets):
        store.record("long", {f"work/f{i % 50}.txt": b"step %d\n" % i}, ToolInvocation(tool="w"))


def _one_more_changeset(store: PlanStore, round_: int) -> None:
    store.record("long", {f"work/f{round_ % 50}.txt": b"more %d\n" % round_}, ToolInvocation(tool="w"))


class RecordIntoLongPlan:
    """Recording one more changeset into a plan that has 10 or 1,000 already."""

    params = ([10, 1000],)
    param_names = ["changesets"]
    timeout = 900

    def setup_cache(self) -> dict[int, str]:
        repos = {}
        for length in self.params[0]:
            repo = build_repository(1000)
            store = PlanStore.open(repo)
            store.create("long")
            _grow_long_plan(store, length)
            repos[length] = repo
        return repos

    def setup(self, repos: dict[int, str], changesets: int) -> None:
        self.store = PlanStore.open(repos[changesets])
        self.round = next(_counter)

    def time_record_next_changeset(self, repos: dict[int, str], changesets: int) -> None:
        _one_more_changeset(self.store, self.round)


class RecordAmongManyPlans:
    """The 500th changeset of a plan, alone in its repository or beside 20 other plans of 50
    changesets (past half of gc.autoPackLimit packs, where consolidation keeps plans to two
    packs each)."""

    params = (["alone", "among-20-plans"],)
    param_names = ["repository"]
    timeout = 900

    def setup_cache(self) -> dict[str, str]:
        repos = {}
        for shape in self.params[0]:
            repo = build_repository(1000)
            store = PlanStore.open(repo)
            others = [f"other{n}" for n in range(20 if shape != "alone" else 0)]
            for name in ["long", *others]:
                store.create(name)
            for i in range(50):
                for name in others:
                    changes = {f"work/{name}/f{i % 7}.txt": b"step %d\n" % i}
                    store.record(name, changes, ToolInvocation(tool="w"))
            _grow_long_plan(store, 500)
            repos[shape] = repo
        return repos

    def setup(self, repos: dict[str, str], repository: str) -> None:
        self.store = PlanStore.open(repos[repository])
        self.round = next(_counter)

    def time_record_next_changeset(self, repos: dict[str, str], repository: str) -> None:
        _one_more_changeset(self.store, self.round)


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


class CancelPlan:
    """Cancelling a 60-changeset plan in checked-out repositories, against git's own prune.

    The index is touched after recording, so cancel reads it (the worst case)."""

    params = (["1000x300", f"{MEDIUM}x300", f"{LARGE}x1"],)
    param_names = ["files_x_commits"]
    timeout = 900

    def setup_cache(self) -> dict[str, str]:
        repos = {}
        for shape in self.params[0]:
            files, commits = (int(part) for part in shape.split("x"))
            repos[shape] = build_history(files, commits)
        return repos

    def setup(self, repos: dict[str, str], files_x_commits: str) -> None:
        self.repo = repos[files_x_commits]
        self.store = PlanStore.open(self.repo)
        self.plan = f"cancel-{os.getpid()}-{next(_counter)}"
        self.store.create(self.plan)
        files = int(files_x_commits.split("x")[0])
        for i in range(60):
            path = file_path((i * 7919) % files)
            self.store.record(self.plan, {path: changed_content(i, next(_counter))}, ToolInvocation(tool="w"))
        Path(self.repo, ".git", "index").touch()

    def teardown(self, repos: dict[str, str], files_x_commits: str) -> None:
        with contextlib.suppress(KeyError):
            self.store.cancel(self.plan)
        self.store.gc(grace="now")  # the packs git's prune left behind (they carry .keep)

    def time_cancel_gitplan(self, repos: dict[str, str], files_x_commits: str) -> None:
        self.store.cancel(self.plan)

    def time_cancel_git_update_ref_and_prune(self, repos: dict[str, str], files_x_commits: str) -> None:
        """What git itself would do: delete the refs, then prune what nothing reaches."""
        git(self.repo, "update-ref", "-d", f"refs/changesets/{self.plan}")
        git(self.repo, "update-ref", "-d", f"refs/notes/changesets/{self.plan}")
        git(self.repo, "prune", "--expire=now")
