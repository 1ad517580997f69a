"""Scratch repositories for the benchmarks, built with git fast-import."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


# The size every "large repository" benchmark uses. An explicit asv run measures 100,000
# files, the size the issues' targets name. The quick run `nox` does in CI only checks that
# every benchmark still works; it sets GITPLAN_BENCH_LARGE lower, since building a
# 100,000-file repository takes 10-25 s on a 2-core machine and eight classes each build one.
LARGE = int(os.environ.get("GITPLAN_BENCH_LARGE", "100000"))
# The checked-out repository with history that cancel is timed in (40,000 files at full size).
MEDIUM = LARGE * 2 // 5


def _compiled() -> None:
    """Byte-compile gitplan's modules, as pip does when it installs the package, so that the
    benchmarks that run `git plan` as a process measure what a user's command costs. Where
    Python may not write its cache (PYTHONDONTWRITEBYTECODE, as on the CI machines), every
    start would otherwise compile the sources again: about 100 ms of a `git plan status`."""
    import compileall

    import gitplan

    compileall.compile_dir(os.path.dirname(gitplan.__file__), quiet=1)


_compiled()


def git(repo: str | Path, *args: str, data: bytes | None = None) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, input=data, capture_output=True, check=True, env=ENV
    ).stdout.decode()


def file_path(i: int) -> str:
    """100 files per directory, two levels deep, like a real source tree."""
    return f"d{i // 10000}/s{(i // 100) % 100}/f{i}.txt"


def build_repository(files: int, root: str | None = None) -> str:
    """A repository whose single commit holds `files` small files; returns its path.

    By default it goes in the current directory: asv runs `setup_cache` in a directory
    of its own and removes it after the run, so the scratch repositories (gigabytes at
    100,000 files) never pile up in /tmp."""
    repo = tempfile.mkdtemp(prefix=f"gitplan-bench-{files}-", dir=root or os.getcwd())
    git(repo, "init", "-q", "-b", "main")
    chunks = ["commit refs/heads/main\ncommitter bench <bench@example.com> 0 +0000\ndata 4\nbase\n"]
    for i in range(files):
        body = f"file {i}\nline two\nline three\n"
        chunks.append(f"M 100644 inline {file_path(i)}\ndata {len(body)}\n{body}\n")
    git(repo, "fast-import", "--quiet", data="".join(chunks).encode())
    git(repo, "reset", "-q", "--hard", "main")
    return repo


def changed_content(i: int, round_: int) -> bytes:
    return f"file {i}\nline two changed {round_}\nline three\n".encode()


def build_history(files: int, commits: int, root: str | None = None) -> str:
    """A checked-out repository of `files` files and `commits` commits of history."""
    repo = tempfile.mkdtemp(prefix=f"gitplan-bench-{files}x{commits}-", dir=root or os.getcwd())
    git(repo, "init", "-q", "-b", "main")
    chunks = ["commit refs/heads/main\ncommitter bench <bench@example.com> 0 +0000\ndata 4\nbase\n"]
    for i in range(files):
        body = f"file {i}\nline two\nline three\n"
        chunks.append(f"M 100644 inline {file_path(i)}\ndata {len(body)}\n{body}\n")
    for n in range(1, commits):
        chunks.append(
            f"commit refs/heads/main\ncommitter bench <bench@example.com> {n} +0000\ndata 7\nchange\n"
        )
        for i in range(0, files, max(1, files // 10)):
            body = f"file {i}\nline two, version {n}\nline three\n"
            chunks.append(f"M 100644 inline {file_path((i + n) % files)}\ndata {len(body)}\n{body}\n")
    git(repo, "fast-import", "--quiet", data="".join(chunks).encode())
    git(repo, "reset", "-q", "--hard", "main")
    return repo
