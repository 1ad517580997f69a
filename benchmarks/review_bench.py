"""The review page's first render of a 1,000-changeset plan (issue: review like a person).

What the page asks for when it opens a plan: the page itself, the plan list, the
plan's status, the first page of its timeline (200 changesets) and the whole
plan's diff. Against the same plan's `git log --notes` of all its changesets
through the git CLI, the reference for reading every record.
"""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.request

from gitplan import PlanStore, ToolInvocation
from gitplan.serve import review

from .repos import ENV, build_repository, changed_content, file_path

CHANGESETS = 1000


class ReviewFirstRender:
    """Time to the page's first render of a 1,000-changeset plan, over HTTP on loopback."""

    timeout = 600
    repeat = 10
    number = 1

    def setup_cache(self) -> str:
        repo = build_repository(1000)
        store = PlanStore.open(repo)
        store.create("big")
        for n in range(CHANGESETS):
            store.record(
                "big", {file_path(n % 1000): changed_content(n % 1000, n)}, ToolInvocation(tool="edit")
            )
        return repo

    def setup(self, repo: str) -> None:
        self.repo = repo
        self.running = review.start(PlanStore.open(repo))
        self.thread = threading.Thread(target=self.running.serve, daemon=True)
        self.thread.start()
        self.base, query = self.running.url.split("/?", 1)
        self.token = query.split("token=", 1)[1].split("#", 1)[0]

    def teardown(self, repo: str) -> None:
        self.running.close()

    def _get(self, path: str) -> bytes:
        request = urllib.request.Request(self.base + path, headers={"X-Gitplan-Token": self.token})
        with urllib.request.urlopen(request) as response:
            return bytes(response.read())

    def time_first_render(self, repo: str) -> None:
        self._get("/")
        json.loads(self._get("/api/plans"))
        json.loads(self._get("/api/plan/big"))
        json.loads(self._get("/api/plan/big/changesets?offset=0&limit=200"))
        json.loads(self._get("/api/plan/big/diff"))

    def time_git_log_notes_reference(self, repo: str) -> None:
        subprocess.run(
            ["git", "log", "--notes=changesets/big", "-n", str(CHANGESETS), "refs/changesets/big"],
            cwd=repo,
            env=ENV,
            capture_output=True,
            check=True,
        )
