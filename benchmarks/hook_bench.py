"""git plan hook: the latency an agent pays per tool call (issue #10: under 100 ms).

Each is the git-plan program fed one payload, as the agent runs it: `pre`
(notes the time), `post` of a Write naming one file, and `post` of a shell
tool. A post queues the call and starts a drainer (gitplan.hookqueue); the
agent waits only for the hook, so that is what `time_post_*` measure, each
starting with an empty queue, as after the agent's thinking between calls.
`time_post_*_recorded` add the wait until the drainer has recorded the call
(a git status sweep, for the shell tool). The reference in the same run is
`git status`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .repos import LARGE, build_repository

SESSION = "bench-session"


def _hook(repo: str, event: str, payload: dict[str, object]) -> None:
    subprocess.run(
        [sys.executable, "-m", "gitplan", "hook", "claude-code", event],
        input=json.dumps(payload).encode(),
        cwd=repo,
        check=True,
        capture_output=True,
    )


def _recorded(repo: str) -> None:
    """Wait until the hooks' queue is recorded: opening a store does that."""
    from gitplan import PlanStore

    PlanStore.open(repo)


class HookLatency:
    params = ([1000, LARGE],)
    param_names = ["files"]
    timeout = 1200
    number = 1
    repeat = 10

    def setup_cache(self) -> dict[int, str]:
        root = tempfile.mkdtemp(prefix="gitplan-bench-hook-", dir=os.getcwd())  # asv removes it
        repos = {}
        for files in self.params[0]:
            repo = build_repository(files, root)
            self._payloads(repo)
            _hook(repo, "post", self._write)  # the session's plan exists before timing
            repos[files] = repo
        return repos

    def _payloads(self, repo: str) -> None:
        base = {"session_id": SESSION, "cwd": repo, "tool_use_id": "toolu_1"}
        self._pre = {**base, "hook_event_name": "PreToolUse", "tool_name": "Write"}
        self._write = {
            **base,
            "hook_event_name": "PostToolUse",
            "tool_name": "Write",
            "tool_input": {"file_path": f"{repo}/agent.txt", "content": "x"},
        }
        self._bash = {
            **base,
            "hook_event_name": "PostToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": "true"},
        }

    def setup(self, repos: dict[int, str], files: int) -> None:
        self.repo = repos[files]
        self._payloads(self.repo)
        self.counter = 0
        _recorded(self.repo)

    def teardown(self, repos: dict[int, str], files: int) -> None:
        _recorded(self.repo)

    def time_pre(self, repos: dict[int, str], files: int) -> None:
        _hook(self.repo, "pre", self._pre)

    def time_post_write(self, repos: dict[int, str], files: int) -> None:
        self.counter += 1
        Path(self.repo, "agent.txt").write_text(f"{self.counter}\n")
        _hook(self.repo, "post", self._write)

    def time_post_shell(self, repos: dict[int, str], files: int) -> None:
        _hook(self.repo, "post", self._bash)

    def time_git_status(self, repos: dict[int, str], files: int) -> None:
        subprocess.run(["git", "status", "--porcelain"], cwd=self.repo, check=True, capture_output=True)

    def time_post_write_recorded(self, repos: dict[int, str], files: int) -> None:
        self.time_post_write(repos, files)
        _recorded(self.repo)

    def time_post_shell_recorded(self, repos: dict[int, str], files: int) -> None:
        self.time_post_shell(repos, files)
        _recorded(self.repo)
