"""Running one command and measuring it: exit status, times, output tails.

The command is an argv (no shell). Its stdout and stderr are copied, as they
arrive, to the sinks the caller gives (the CLI passes the terminal) while the
last bytes of each are kept for the invocation record (twice as many as
asked, so that secrets can be masked before the tail is cut to size).

Without a terminal (agents, CI) the command leads its own process group, in
gitplan's session: a timeout ends the whole group (SIGTERM, then SIGKILL
after a short grace). On a terminal it stays in gitplan's group, so that it
can read the terminal (prompts, editors) and Ctrl-C reaches it directly.
SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to gitplan are passed on to the
command, and gitplan waits for it to end and records how it ended: a killed
`git plan run` does not leave its command writing into the plan's worktree.
Processes the command leaves in the background are not waited for. This
module knows nothing of plans or git.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, BinaryIO

from . import faults
from .errors import BadInput, GitPlanError
from .model import utc_now

DEFAULT_TAIL_BYTES = 4096
KILL_GRACE_SECONDS = 5.0
STRAGGLER_SECONDS = 1.0  # how long output of processes the command left behind is still read
DRAIN_SECONDS = 60.0  # the longest the rest of the output is read once the command ended
EXIT_TIMEOUT = 124  # as timeout(1)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a command ended and what it printed last."""

    exit_code: int | None  # None when a signal ended it
    signal: str | None
    timed_out: bool
    started_at: str
    finished_at: str
    duration_ms: int
    stdout_tail: str
    stderr_tail: str
    # Processes the command started that still run (holding its output, or in its process
    # group): what they write later is none of the next command's doing. `group`: that
    # process group, where the command had one of its own.
    left_running: bool = False
    group: int | None = None
    # Where the command shared gitplan's process group (on a terminal): the processes it
    # started that still run there, each (pid, start time).
    strays: tuple[tuple[int, int], ...] = ()
    timeout: float | None = None  # the limit it was given

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    @property
    def status_code(self) -> int:
        """The exit status a shell would report: the code, 128 + signal, or 124 on timeout."""
        if self.timed_out:
            return EXIT_TIMEOUT
        if self.signal is not None:
            return 128 + int(getattr(signal, self.signal, 0))
        return self.exit_code or 0

    @property
    def error(self) -> str | None:
        if self.timed_out:
            limit = self.duration_ms / 1000 if self.timeout is None else self.timeout
            return f"timed out after {limit:g} s"
        if self.signal is not None:
            return f"killed by {self.signal}"
        if self.exit_code:
            return f"exit code {self.exit_code}"
        return None


class _Tail:
    """The last `limit` bytes of a stream, copied to `sink` as they arrive."""

    def __init__(self, limit: int, sink: BinaryIO | None) -> None:
        self.limit = limit
        self.sink = sink
        self.data = bytearray()
        self.passing_on = False  # a chunk is being written to the sink (which may be slow)

    def pump(self, fd: int) -> None:
        with os.fdopen(fd, "rb", buffering=0) as stream:
            while chunk := stream.read(65536):
                faults.point("run.output-read")
                if self.sink is not None:
                    self.passing_on = True
                    try:
                        self.sink.write(chunk)
                        self.sink.flush()
                    except (BrokenPipeError, ValueError):
                        self.sink = None  # nobody reads our output any more; keep the tail
                    self.passing_on = False
                self.data += chunk
                if len(self.data) > 3 * self.limit:  # keep twice the limit: see text()
                    del self.data[: -2 * self.limit]

    def text(self) -> str:
        """Up to twice the limit: the caller masks secrets, then cuts (see `cut_tail`)."""
        kept = bytes(self.data[-2 * self.limit :]) if self.limit else b""
        return kept.decode("utf-8", "replace")


def _drain(pump: threading.Thread, probe: int, tail: _Tail, deadline: float) -> None:
    """Wait for `pump` to read its pipe to the end, once the command has ended.

    A process the command left in the background may hold the pipe open for good, so
    the wait gives up after STRAGGLER_SECONDS without an end, but not while output is
    still on its way: every writer has closed the pipe (the end is certain to come,
    however long a loaded machine holds the pump up), output waits in it, or the pump
    is passing some on to a slow reader of our own output. Never past `deadline`."""
    while True:
        pump.join(timeout=STRAGGLER_SECONDS)
        on_its_way = _hung_up(probe) or tail.passing_on or _unread(probe) > 0
        if not pump.is_alive() or not on_its_way or time.monotonic() >= deadline:
            return


def _hung_up(fd: int) -> bool:
    """Has every process that could write to the pipe `fd` reads from closed it?"""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return any(events & select.POLLHUP for _, events in poller.poll(0))


def _unread(fd: int) -> int:
    """How many bytes wait in the pipe `fd` reads from."""
    try:
        (count,) = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))
    except OSError:
        return 0
    return int(count)


def cut_tail(text: str, limit: int) -> str:
    """The last `limit` bytes of `text` (whole characters)."""
    data = text.encode("utf-8")
    return data[-limit:].decode("utf-8", "ignore") if limit else ""


def run_command(
    argv: Sequence[str],
    cwd: str,
    env: Mapping[str, str],
    timeout: float | None = None,
    tail_bytes: int = DEFAULT_TAIL_BYTES,
    stdout: BinaryIO | None = None,
    stderr: BinaryIO | None = None,
) -> Outcome:
    """Run `argv` in `cwd` to the end (or the timeout); BadInput if it cannot start."""
    out_tail = _Tail(tail_bytes, stdout)
    err_tail = _Tail(tail_bytes, stderr)
    started_at = utc_now()
    clock = time.monotonic()
    own_group = not _on_a_terminal()
    children: list[int] = []
    probes: list[int] = []  # the pipes' read ends, to ask whether more output is coming
    previous = _pass_signals_to(children, own_group)
    ours = {} if own_group else _members(os.getpgrp())  # (what ran in our group before)
    try:
        if _stopping:
            raise BadInput(f"cannot run {argv[0]!r}: this process is going away")
        try:
            process = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=dict(env),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                process_group=0 if own_group else None,
            )
        except FileNotFoundError:
            raise BadInput(f"cannot run {argv[0]!r}: no such program") from None
        except PermissionError:
            raise BadInput(f"cannot run {argv[0]!r}: permission denied") from None
        except OSError as error:
            raise BadInput(f"cannot run {argv[0]!r}: {error.strerror}") from None
        children.append(process.pid)
        with _running_lock:
            _running[process.pid] = own_group
        assert process.stdout is not None and process.stderr is not None
        pumped = _duplicates(
            process, own_group, argv[0], (process.stdout, process.stderr, process.stdout, process.stderr)
        )
        probes.extend(pumped[2:])
        pumps = [
            threading.Thread(target=out_tail.pump, args=(pumped[0],), daemon=True),
            threading.Thread(target=err_tail.pump, args=(pumped[1],), daemon=True),
        ]
        for pump in pumps:
            pump.start()
        timed_out = False
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            faults.point("run.timed-out")
            _signal(process.pid, signal.SIGTERM, own_group)
            try:
                process.wait(timeout=KILL_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                _signal(process.pid, signal.SIGKILL, own_group)
                process.wait()
        if timed_out:
            _signal(process.pid, signal.SIGKILL, own_group)  # what the command started goes with it
        deadline = time.monotonic() + DRAIN_SECONDS  # for both pipes together
        for pump, probe, tail in zip(pumps, probes, (out_tail, err_tail), strict=True):
            _drain(pump, probe, tail, deadline)
        in_group = own_group and group_alive(process.pid)
        strays = () if own_group else _strays(ours)
        left_running = in_group or bool(strays) or not all(_hung_up(probe) for probe in probes)
    finally:
        with _running_lock:
            for pid in children:
                _running.pop(pid, None)
        _restore_interrupts(previous)
        for probe in probes:
            os.close(probe)
    returncode = process.returncode
    return Outcome(
        exit_code=returncode if returncode >= 0 else None,
        signal=signal.Signals(-returncode).name if returncode < 0 else None,
        timed_out=timed_out,
        timeout=timeout,
        started_at=started_at,
        finished_at=utc_now(),
        duration_ms=int((time.monotonic() - clock) * 1000),
        stdout_tail=out_tail.text(),
        stderr_tail=err_tail.text(),
        left_running=left_running,
        group=process.pid if in_group else None,
        strays=strays,
    )


# The commands this process runs now (pid: whether it leads its own process group).
_running: dict[int, bool] = {}
_running_lock = threading.Lock()


def stop_running(number: signal.Signals = signal.SIGTERM) -> None:
    """End every command this process is running, with what it started (a server going
    away: a command run for a client's request, in a thread of its own, gets none of the
    signals the main thread passes on), and start none from now on. Each run then
    records how its command ended."""
    global _stopping
    with _running_lock:
        _stopping = True
        running = list(_running.items())
    for pid, own_group in running:
        _signal(pid, number, own_group)


_stopping = False  # stop_running was called: no command starts any more


def group_alive(group: int) -> bool:
    """Does a process of process group `group` still run? (One that ended but that nobody
    has reaped yet, a zombie, runs no more: where the process that should reap it never
    does, a container's first process, it would stay for good.)"""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # (one of another user's: it runs)
        return True
    members = _members(group)
    return not _PROC_READABLE or any(state != b"Z" for state, _ in members.values())


def process_alive(pid: int, started: int) -> bool:
    """Does process `pid`, started at `started` (clock ticks after boot), still run?"""
    found = _stat(pid)
    return found is not None and found[2] == started and found[0] != b"Z"


def _strays(before: dict[int, tuple[bytes, int]]) -> tuple[tuple[int, int], ...]:
    """The processes of our own process group that were not there `before`, and run."""
    return tuple(
        (pid, started)
        for pid, (state, started) in _members(os.getpgrp()).items()
        if pid not in before and pid != os.getpid() and state != b"Z"
    )


def _members(group: int) -> dict[int, tuple[bytes, int]]:
    """Each process of process group `group`: its state and start time (Linux's /proc;
    nothing where there is none)."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return {}
    found = {}
    for name in names:
        if name.isdigit():
            stat = _stat(int(name))
            if stat is not None and stat[1] == group:
                found[int(name)] = (stat[0], stat[2])
    return found


def _stat(pid: int) -> tuple[bytes, int, int] | None:
    """(state, process group, start time) of process `pid`, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rpartition(b") ")[2].split()
        return fields[0], int(fields[2]), int(fields[19])
    except (OSError, ValueError, IndexError):
        return None


_PROC_READABLE = os.path.isdir("/proc/self")


def _duplicates(
    process: subprocess.Popen[bytes], own_group: bool, program: str, pipes: Sequence[IO[bytes]]
) -> list[int]:
    """A descriptor of its own for each of `pipes` (each pump and probe closes its own),
    then the pipes' originals closed. When the process runs out of descriptors (EMFILE)
    halfway, those made are closed and the command, already started, is stopped: a
    command must not run on unread pipes while we report that it could not be run."""
    made: list[int] = []
    try:
        for pipe in pipes:
            faults.point("run.dup")
            made.append(os.dup(pipe.fileno()))
    except OSError as error:
        for fd in made:
            os.close(fd)
        _signal(process.pid, signal.SIGKILL, own_group)
        process.wait()
        for pipe in pipes:
            pipe.close()
        raise GitPlanError(
            f"could not read the output of {program!r}, so it was stopped: {error.strerror}"
        ) from None
    for pipe in pipes:
        pipe.close()
    return made


def _on_a_terminal() -> bool:
    try:
        return os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp()
    except OSError:
        return False


def _signal(pid: int, number: signal.Signals, group: bool) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if group:
            os.killpg(pid, number)
        else:
            os.kill(pid, number)


_PASSED_ON = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def _pass_signals_to(children: list[int], own_group: bool) -> dict[int, object] | None:
    """While the command runs, signals to gitplan are the command's: gitplan passes
    them on and waits for it to end, then records how it ended. (A Ctrl-C on the
    terminal already reached a command in gitplan's own group.)"""
    if threading.current_thread() is not threading.main_thread():
        return None

    def forward(number: int, _: object) -> None:
        if number == signal.SIGINT and not own_group:
            return
        for pid in children:
            _signal(pid, signal.Signals(number), own_group)

    return {number: signal.signal(number, forward) for number in _PASSED_ON}


def _restore_interrupts(previous: dict[int, object] | None) -> None:
    for number, handler in (previous or {}).items():
        signal.signal(number, handler)  # type: ignore[arg-type]
