"""The agent hooks' queue: a tool call is written down in milliseconds, recorded soon after.

An agent runs `git plan hook` twice per tool call and waits for it each time,
so the hook must return within 100 ms. Recording a changeset needs pygit2 and
the store, whose imports alone take longer. So a `post` or `stop` event only
writes its tool call (the payload, when it arrived, when the call began) as
one file in `<git-common-dir>/gitplan/hooks/queue/`, and starts a drainer
process unless one is running. The drainer (`git plan hook --drain`) records
the queued calls oldest first, one at a time, under the lock
`gitplan/hooks/drain.lock`, and exits when the queue is empty.

Three rules keep the records true and nothing lost:

* the next tool call's `pre` event waits until the queue is empty, so what
  a shell tool changed is recorded before the agent's next tool can change
  more (the agent spends far longer thinking between calls than a drain takes);
* every `PlanStore.open` (each `git plan` command, the MCP server, the review
  page) records what is still queued before it reads, so a reviewer never
  sees a session without its last calls;
* a drainer that died (killed, machine stopped) leaves its entries queued for
  the next drainer or the next `git plan` command: an entry is removed only
  after it was recorded (or found unrecordable, which hooks.log says).

This module imports neither pygit2 nor click: the hook's fast path uses it.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

_counter = itertools.count()
# True inside a drain: the store that a drain opens must not start another one.
draining = False


def queue_dir(common: Path) -> Path:
    return common / "gitplan" / "hooks" / "queue"


def put(common: Path, entry: dict[str, Any]) -> Path:
    """Queue one tool call; entries sort by the time they arrived."""
    directory = queue_dir(common)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns():020d}-{os.getpid()}-{next(_counter)}.json"
    temporary = directory / f".{name}"  # a drainer skips names starting with a dot
    temporary.write_text(json.dumps(entry))
    os.replace(temporary, directory / name)
    return directory / name


def pending(common: Path) -> list[Path]:
    """The queued entries, oldest first."""
    directory = queue_dir(common)
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return [directory / name for name in sorted(names) if name.endswith(".json") and name[0] != "."]


@contextlib.contextmanager
def _drain_lock(common: Path, wait: bool) -> Iterator[bool]:
    """The drain lock, held while entries are recorded; yields whether it was had."""
    path = common / "gitplan" / "hooks" / "drain.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(descriptor)  # closing lets go of the lock


def kick(common: Path) -> None:
    """Start a drainer, unless one holds the lock (it looks at the queue again after
    it lets go, and so finds what was queued meanwhile)."""
    with _drain_lock(common, wait=False) as free:
        if not free:
            return
    devnull = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
    pid = os.posix_spawn(
        sys.executable,
        [sys.executable, "-m", "gitplan", "hook", "--drain", str(common)],
        os.environ,
        file_actions=devnull,
        setsid=True,  # its own session: the agent killing the hook's group does not stop it
    )
    with contextlib.suppress(OSError):
        (common / "gitplan" / "hooks" / "drainer.pid").write_text(f"{pid}\n")


def _drainer_alive(common: Path) -> bool:
    try:
        pid = int((common / "gitplan" / "hooks" / "drainer.pid").read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our own child that has exited
            return False
    return True


def wait_drained(common: Path, timeout: float) -> bool:
    """Wait until the queue is empty (starting a drainer if none runs), at most
    `timeout` seconds; returns whether it is. Costs one directory read when empty."""
    deadline = time.monotonic() + timeout
    while pending(common):
        if time.monotonic() > deadline:
            return False
        if not _drainer_alive(common):
            kick(common)
        time.sleep(0.005)
    return True


def drain(common: Path, record: Callable[[dict[str, Any]], None], timeout: float | None = None) -> int:
    """Record every queued entry, oldest first, under the drain lock; returns how many.

    `record` is called with each entry and must not raise (it logs what it cannot
    record); an entry that is not JSON is dropped. With `timeout`, gives up waiting
    for another drainer after that many seconds and leaves the queue to it."""
    global draining
    deadline = None if timeout is None else time.monotonic() + timeout
    done = 0
    while pending(common):
        with _drain_lock(common, wait=deadline is None) as held:
            if not held:
                if time.monotonic() > deadline:  # type: ignore[operator]
                    return done
                time.sleep(0.005)
                continue
            draining = True
            try:
                for path in pending(common):
                    try:
                        entry = json.loads(path.read_text())
                    except FileNotFoundError:  # pragma: no cover - another drain took it
                        continue
                    except (OSError, ValueError):
                        entry = None
                    if isinstance(entry, dict):
                        record(entry)
                    path.unlink(missing_ok=True)
                    done += 1
            finally:
                draining = False
    return done
