"""Pushing a plan to a remote: `git plan push` and `PlanStore.push` vs `git push` of the same refs.

The plan has 100 changesets (one changed file each) on a 1,000-file base; the
remote is a bare repository on the local disk that already holds the base
(`main`), so every push sends the same ~800 objects (commits, trees, blobs, and
the notes history) and updates the same two refs. Each timed push goes into a
fresh copy of that remote (made in setup, deleted in teardown), so every repeat
does the same work; teardown also checks the remote really got both refs.

* `git plan push REMOTE PLAN`: the installed program, as a user runs it
  (git's dispatch to git-plan, Python start-up, the ls-remote before and
  after, `git push --atomic`);
* `PlanStore.push`: the Python API an agent framework calls;
* `git push --atomic REMOTE refs/changesets/P refs/notes/changesets/P`: plain git.

The source repository and the remote template are built by setup_cache under
asv's own setup-cache directory (its working directory, which asv deletes after
the last benchmark that uses it); the per-repeat remotes are removed in teardown.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

from gitplan import PlanStore, ToolInvocation

from .repos import ENV, build_repository, changed_content, file_path, git

PLAN = "bench-push"
CHANGESETS = 100
FILES = 1000
REFS = (f"refs/changesets/{PLAN}", f"refs/notes/changesets/{PLAN}")
# `git plan` finds git-plan on PATH, next to the interpreter asv runs (the venv's bin).
CLI_ENV = {**ENV, "PATH": os.path.dirname(sys.executable) + os.pathsep + ENV.get("PATH", "")}


class RemotePush:
    """A 100-changeset plan pushed to a fresh bare local remote (same run, so ratios hold)."""

    timeout = 600
    number = 1
    repeat = 10

    def setup_cache(self) -> dict[str, str]:
        root = tempfile.mkdtemp(prefix="gitplan-bench-remote-", dir=os.getcwd())
        source = build_repository(FILES, root)
        store = PlanStore.open(source)
        store.create(PLAN, title="pushed in the benchmark")
        for n in range(CHANGESETS):
            i = (n * 7) % FILES
            store.record(PLAN, {file_path(i): changed_content(i, n)}, ToolInvocation(tool="bench"))
        template = os.path.join(root, "template.git")
        git(root, "init", "-q", "--bare", template)
        git(source, "push", "-q", template, "main:refs/heads/main")
        tips = git(source, "rev-parse", *REFS).split()
        return {"root": root, "source": source, "template": template, **dict(zip(REFS, tips, strict=True))}

    def setup(self, cache: dict[str, str]) -> None:
        self.source = cache["source"]
        self.expected = "\n".join(cache[ref] for ref in REFS)
        self.scratch = tempfile.mkdtemp(prefix="gitplan-bench-remote-", dir=cache["root"])
        self.remote = os.path.join(self.scratch, "remote.git")
        shutil.copytree(cache["template"], self.remote, symlinks=True)
        self.store = PlanStore.open(self.source)
        self.pushed = False

    def teardown(self, cache: dict[str, str]) -> None:
        try:
            if self.pushed:
                got = git(self.remote, "rev-parse", *REFS).strip()
                if got != self.expected:
                    raise RuntimeError(f"the remote did not get the plan: {got!r} != {self.expected!r}")
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def time_git_plan_push_cli(self, cache: dict[str, str]) -> None:
        subprocess.run(
            ["git", "plan", "push", "--quiet", self.remote, PLAN],
            cwd=self.source,
            env=CLI_ENV,
            check=True,
            capture_output=True,
        )
        self.pushed = True

    def time_plan_store_push_api(self, cache: dict[str, str]) -> None:
        self.store.push(self.remote, [PLAN])
        self.pushed = True

    def time_git_push_plain(self, cache: dict[str, str]) -> None:
        subprocess.run(
            ["git", "push", "--quiet", "--atomic", self.remote, *(f"{ref}:{ref}" for ref in REFS)],
            cwd=self.source,
            env=ENV,
            check=True,
            capture_output=True,
        )
        self.pushed = True
