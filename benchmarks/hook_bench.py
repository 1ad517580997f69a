"""git plan hook: the latency an agent pays per tool call (issue #10: under 100 ms).

Each is the git-plan program fed one payload, as the agent runs it: `pre`
(notes the time), `post` of a Write naming one file, and `post` of a shell
tool (a git status sweep). The reference in the same run is `git status`.
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
