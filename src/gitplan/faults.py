"""Named fault-injection points: a seam for tests, a no-op in production.

Code that has a moment worth interleaving (a writer between its pack and its
refs, a prune between moving a pack out and deleting it) calls
`point("name")`. Nothing happens unless a test asked for it:

* in-process, `with faults.at("name", action):` runs `action()` there;
* across processes, `GITPLAN_FAULTS="name=pause:/path/dir"` makes the process,
  the first time it gets there, create `dir/name.<pid>.reached` and wait until
  `dir/name.go` exists; `name=mark:/path/dir` only creates the `.reached` file;
  `GITPLAN_FAULTS="name=exit"` ends the process on the
  spot (as SIGKILL would: `os._exit`, no clean-up). Several points are
  separated by commas.

So races are replayed deterministically, without sleeps or patching private
names. Never used for anything but tests.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

_actions: dict[str, list[Callable[[], None]]] = {}
_paused: set[str] = set()
# Read once: a process is started with its faults (a record passes a dozen points, and
# looking a missing variable up in os.environ raises and catches a KeyError each time).
_SPEC = os.environ.get("GITPLAN_FAULTS", "")


def point(name: str) -> None:
    """A moment that tests may interleave with. Free when no test is listening."""
    if _actions:
        for action in list(_actions.get(name, ())):
            action()
    if _SPEC:
        _from_environment(name, _SPEC)


@contextlib.contextmanager
def at(name: str, action: Callable[[], None], times: int = 1) -> Iterator[None]:
    """Run `action` the first `times` times the code reaches point `name`."""
    remaining = [times]

    def once() -> None:
        if remaining[0] > 0:
            remaining[0] -= 1
            action()

    _actions.setdefault(name, []).append(once)
    try:
        yield
    finally:
        _actions[name].remove(once)
        if not _actions[name]:
            del _actions[name]


def _from_environment(name: str, spec: str) -> None:
    for item in spec.split(","):
        wanted, _, how = item.partition("=")
        if wanted.strip() != name:
            continue
        verb, _, argument = how.partition(":")
        if verb == "exit":  # pragma: no cover - the process ends here, before coverage can save
            os._exit(int(argument or 137))
        if verb == "mark" and name not in _paused:
            _paused.add(name)
            (Path(argument) / f"{name}.{os.getpid()}.reached").touch()
        if verb == "pause" and name not in _paused:
            _paused.add(name)
            directory = Path(argument)
            (directory / f"{name}.{os.getpid()}.reached").touch()
            go = directory / f"{name}.go"
            deadline = time.monotonic() + 120
            while not go.exists() and time.monotonic() < deadline:
                time.sleep(0.005)
