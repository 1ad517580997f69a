"""The agent hooks' queue: a tool call is written down in milliseconds, recorded soon after.

An agent runs `git plan hook` twice per tool call and waits for it each time,
so the hook must return within 100 ms. Recording a changeset needs pygit2 and
the store, whose imports alone take longer. So a `post` or `stop` event only
writes its tool call (the payload, when it arrived, when the call began) as
one file in `<git-common-dir>/gitplan/hooks/queue/`, named after its plan,
and starts a drainer process unless one is running. The drainer
(`git plan hook --drain`) records the queued calls oldest first, one at a
time, under the lock `gitplan/hooks/drain.lock`, and exits when the queue is
empty. Its errors go to `gitplan/hooks.log`.

Three rules keep the records true and nothing lost:

* the next tool call's `pre` event waits until its plan's queued calls are
  recorded, so what a shell tool changed is recorded before the agent's next
  tool can change more (the agent spends far longer thinking between calls
  than a drain takes);
* every `PlanStore.open` (each `git plan` command, the MCP server, the review
  page) waits the same way for the whole queue, so a reviewer never sees a
  session without its last calls. Neither writes anything itself: the
  drainer does, started if none runs, and only by the user who owns the
  queue (a command run by another user waits for nothing);
* an entry leaves the queue once it was recorded, or found unrecordable
  (hooks.log says why; an entry that cannot be read is moved to
  `gitplan/hooks/failed/`).

This module imports neither pygit2 nor click: the hook's fast path uses it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import permissions, statefile
from .filelock import locked

_counter = itertools.count()
# Drainers this process started and has not reaped yet (a long-lived process, such as
# the MCP server, must not collect zombies).
_children: set[int] = set()
# True inside a drain: the store that a drain opens must not wait for the queue.
draining = False
# git's variables that name a repository: the drainer finds each call's from the call.
_GIT_LOCATION = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX")


def _hooks_dir(common: Path) -> Path:
    return common / "gitplan" / "hooks"


def queue_dir(common: Path) -> Path:
    return _hooks_dir(common) / "queue"


def put(common: Path, plan_id: str, entry: dict[str, Any]) -> Path:
    """Queue one tool call of `plan_id`; entries sort by the time they arrived.
    (`@` never occurs in a plan id, so the name says whose call it is.)"""
    name = f"{time.time_ns():020d}-{os.getpid()}-{next(_counter)}@{plan_id}.json"
    # Written aside under a name starting with a dot, which a drainer skips, and widened
    # before it is in place: another user's drainer may read it at once.
    statefile.replace(queue_dir(common) / name, json.dumps(entry).encode())
    return queue_dir(common) / name


def pending(common: Path, plan_id: str | None = None) -> list[Path]:
    """The queued entries (of one plan, or all), oldest first."""
    directory = queue_dir(common)
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    ending = ".json" if plan_id is None else f"@{plan_id}.json"
    return [directory / name for name in sorted(names) if name.endswith(ending) and name[0] != "."]


def _drain_lock(common: Path, wait: bool) -> contextlib.AbstractContextManager[bool]:
    """The drain lock, held while entries are recorded; yields whether it was had."""
    return locked(_hooks_dir(common) / "drain.lock", blocking=wait)


def _draining_elsewhere(common: Path) -> bool:
    """Whether a drainer holds the lock now."""
    with _drain_lock(common, wait=False) as free:
        return not free


def kick(common: Path) -> None:
    """Start a drainer, unless one holds the lock (it looks at the queue again after
    it lets go, and so finds what was queued meanwhile)."""
    if not _draining_elsewhere(common):
        _spawn(common)


def _spawn(common: Path) -> None:
    log = _hooks_dir(common).parent / "hooks.log"
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, str(log), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644),
    ]
    _reap()
    environment = {name: value for name, value in os.environ.items() if name not in _GIT_LOCATION}
    pid = os.posix_spawn(
        sys.executable,
        # -P: never import a `gitplan` from the directory the hook runs in (the agent's project)
        [sys.executable, "-P", "-m", "gitplan", "hook", "--drain", str(common)],
        environment,
        file_actions=actions,
        setsid=True,  # its own session: the agent killing the hook's group does not stop it
    )
    _children.add(pid)
    with contextlib.suppress(OSError):
        (_hooks_dir(common) / "drainer.pid").write_text(f"{pid}\n")
        permissions.widen(_hooks_dir(common) / "drainer.pid")


def _reap() -> None:
    for pid in list(_children):
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == 0:
                continue  # still running
        _children.discard(pid)


def _spawned_alive(common: Path) -> bool:
    """Whether the drainer last started is still running (it may not hold the lock yet)."""
    try:
        pid = int((_hooks_dir(common) / "drainer.pid").read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    if pid in _children:
        _reap()
        return pid in _children  # our own child: alive unless it was just reaped
    return True


def _may_drain(common: Path) -> bool:
    """Whether this process may start a drainer: the queue is its user's and writable."""
    try:
        return queue_dir(common).stat().st_uid == os.getuid() and os.access(queue_dir(common), os.W_OK)
    except OSError:
        return False


def wait_drained(common: Path, timeout: float, plan_id: str | None = None) -> bool:
    """Wait until the queue (or `plan_id`'s part of it) is empty, at most `timeout`
    seconds, starting a drainer once if none runs; returns whether it is. Costs one
    directory read when it is empty. Writes nothing but the drainer's start."""
    deadline = time.monotonic() + timeout
    started = False
    while pending(common, plan_id):
        if time.monotonic() > deadline:
            return False
        if not _draining_elsewhere(common) and not _spawned_alive(common):
            if started or not _may_drain(common):
                return False  # the drainer we started left entries (hooks.log says why)
            _spawn(common)
            started = True
        time.sleep(0.005)
    return True


class Later(Exception):
    """Raised by a drain's `record`: this entry cannot be recorded now (a ref lock another
    process holds); it stays queued, and the drain stops, so that the entries keep their
    order. The next drain (the next hook, or the next `git plan` command) takes it again."""


def drain(common: Path, record: Callable[[dict[str, Any]], None]) -> int:
    """Record every queued entry, oldest first, under the drain lock; returns how many.

    `record` is called with each entry and must not raise (it logs what it cannot
    record) but Later. An entry that cannot be read is moved to `hooks/failed/`, and
    said so."""
    global draining
    done = 0
    while pending(common):
        with _drain_lock(common, wait=True):
            draining = True
            try:
                for path in pending(common):
                    try:
                        entry = json.loads(path.read_text())
                        if not isinstance(entry, dict):
                            raise ValueError("not a JSON object")
                    except FileNotFoundError:  # pragma: no cover - another drain took it
                        continue
                    except Exception as error:  # noqa: BLE001 - e.g. RecursionError from json
                        _set_aside(common, path, error)
                        continue
                    try:
                        record(entry)
                    except Later:
                        return done
                    path.unlink(missing_ok=True)
                    done += 1
            finally:
                draining = False
    return done


def _set_aside(common: Path, path: Path, error: Exception) -> None:
    failed = _hooks_dir(common) / "failed"
    failed.mkdir(parents=True, exist_ok=True)
    os.replace(path, failed / path.name)
    permissions.widen(failed / path.name)
    append_log(
        common,
        f"a queued call could not be read ({type(error).__name__}: {error}); moved to {failed / path.name}",
    )


def append_log(common: Path, message: str) -> None:
    """Append one timestamped message to `<git-common-dir>/gitplan/hooks.log`."""
    log = _hooks_dir(common).parent / "hooks.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(f"{stamp} {message.rstrip()}\n")
    permissions.widen(log)
