"""Which paths of a plan worktree a command touched, told by the kernel (inotify).

`git status` finds changes by comparing every index entry's stat data with
the file: at 100,000 files that is 100,000 `lstat` calls and an 8 MB index
read, every run, even when the command changed nothing. A run knows when its
command starts and ends, so it can instead ask Linux to report every file
created, written, deleted or chmod-ed in the worktree's directories while it
runs. Setting that up costs one watch per directory of the plan's tree; what
it reports is the candidates, and only those are read and cleaned.

Adding a watch costs the kernel about 16 us, so a 100,000-file tree (about
1,000 directories) costs some 16 ms per run to watch. A process that runs
command after command (an agent framework calling `store.run`) keeps the
watches of its last worktrees between runs (`stop` keeps them, `start` takes
them back) when the directories to watch are the same. Before a kept watcher
serves again, it reads what happened since (gitplan's own checkouts, mostly)
and forgets it, as a new watcher would never have seen it; and it is dropped
for a new one if a directory appeared, moved or went meanwhile, or the
kernel's queue overflowed, since its watches would no longer cover the tree.

It gives up (returns None, and the caller asks `git status`) whenever its
answer could be incomplete: not Linux, too many watches for the system's
limit, the kernel's event queue overflowed, or a directory was moved (a
watch's path would then be stale). Writes through `mmap` are not reported by
the kernel: `git config plan.watchWorktree false` makes every run use
`git status` (also the right choice on network filesystems). This module
never reads file contents and knows nothing of git.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import struct
import threading
from collections.abc import Iterable
from pathlib import Path

_IN_MODIFY = 0x2
_IN_ATTRIB = 0x4
_IN_CLOSE_WRITE = 0x8
_IN_MOVED_FROM = 0x40
_IN_MOVED_TO = 0x80
_IN_CREATE = 0x100
_IN_DELETE = 0x200
_IN_MOVE_SELF = 0x800
_IN_Q_OVERFLOW = 0x4000
_IN_IGNORED = 0x8000  # the watch went: its directory was deleted
_IN_ISDIR = 0x40000000
_IN_ONLYDIR = 0x1000000
_IN_DONT_FOLLOW = 0x2000000
_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000
_MASK = (
    _IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVED_FROM | _IN_MOVED_TO | _IN_CREATE | _IN_DELETE
) | (_IN_MOVE_SELF | _IN_ONLYDIR | _IN_DONT_FOLLOW)
_EVENT = struct.Struct("iIII")
# Kept watchers, by worktree: (the directories watched, the watcher). A few only:
# each holds a descriptor and a watch per directory.
_KEEP = 2
_kept: dict[str, tuple[tuple[str, ...], Watcher]] = {}
_kept_lock = threading.Lock()


class Watcher:
    """Watches a worktree's directories from `start` until `stop`; `touched` then
    holds every path (relative, "/"-separated) something happened to."""

    def __init__(self, top: str, directories: Iterable[str]) -> None:
        self._top = top
        self.directories = tuple(directories)
        self._paths: dict[int, str] = {}
        self.touched: set[str] = set()
        self.failed: str | None = None
        self.reusable = True
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._fd = self._libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if self._fd < 0:  # pragma: no cover - out of inotify instances (fs.inotify.max_user_instances)
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self._stop_read, self._stop_write = os.pipe()
        try:
            for directory in ("", *self.directories):
                self._add(directory)
        except OSError:  # pragma: no cover - out of watches (fs.inotify.max_user_watches)
            self.close()
            raise
        self._begin()

    def _begin(self) -> None:
        self._reader = threading.Thread(target=self._read_until_stopped, daemon=True)
        self._reader.start()

    def resume(self) -> bool:
        """Serve another run: forget what happened since `stop`; False (and nothing
        started) when the watches no longer cover the tree."""
        while True:
            try:
                data = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                break
            offset = 0
            while offset < len(data):
                _, mask, _, length = _EVENT.unpack_from(data, offset)
                offset += _EVENT.size + length
                if mask & (_IN_Q_OVERFLOW | _IN_MOVE_SELF | _IN_IGNORED) or (
                    mask & _IN_ISDIR and mask & (_IN_CREATE | _IN_MOVED_FROM | _IN_MOVED_TO)
                ):
                    return False
        self.touched = set()
        self.failed = None
        self._begin()
        return True

    def _add(self, directory: str) -> None:
        path = os.path.join(self._top, directory) if directory else self._top
        wd = self._libc.inotify_add_watch(self._fd, os.fsencode(path), _MASK)
        if wd < 0:
            error = ctypes.get_errno()
            if error == 2:  # ENOENT: a directory of the tree that is not checked out (sparse)
                return
            raise OSError(error, f"inotify_add_watch {path}")  # pragma: no cover - see above
        self._paths[wd] = directory

    def _read_until_stopped(self) -> None:
        # Drained while the command runs, so that a command changing many files does not
        # overflow the kernel's queue (16,384 events by default). poll, not select: the
        # descriptors may be above 1024 in a process that has many files open.
        try:
            poller = select.poll()
            poller.register(self._fd, select.POLLIN)
            poller.register(self._stop_read, select.POLLIN)
            while True:
                ready = {fd for fd, _ in poller.poll()}
                self._drain()
                if self._stop_read in ready:
                    return
        except Exception as error:  # noqa: BLE001  # pragma: no cover - any failure: the answer may be incomplete
            self.failed = f"reading events failed: {error}"

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                return
            self._parse(data)

    def _parse(self, data: bytes) -> None:
        offset = 0
        while offset < len(data):
            wd, mask, _, length = _EVENT.unpack_from(data, offset)
            raw = data[offset + _EVENT.size : offset + _EVENT.size + length].rstrip(b"\0")
            offset += _EVENT.size + length
            if mask & _IN_Q_OVERFLOW:  # pragma: no cover - needs more events than the reader drains
                self.failed = "the kernel's event queue overflowed"
                continue
            if mask & _IN_MOVE_SELF or (mask & _IN_ISDIR and mask & _IN_MOVED_FROM):
                self.failed = "a directory was moved"
                continue
            if mask & _IN_IGNORED or (mask & _IN_ISDIR and mask & (_IN_CREATE | _IN_MOVED_TO)):
                # A watched directory went (it may be back, unwatched), or one appeared:
                # this run's answer is whole, but the watches would not serve another.
                self.reusable = False
            directory = self._paths.get(wd)
            if directory is None or not raw:
                continue
            name = os.fsdecode(raw)
            self.touched.add(f"{directory}/{name}" if directory else name)

    def stop(self) -> set[str] | None:
        """Stop watching; the touched paths, or None when the answer may be incomplete.
        The watches stay, kept for the next run in this worktree (`start`)."""
        os.write(self._stop_write, b"x")
        self._reader.join()
        os.read(self._stop_read, 1)
        touched = None if self.failed else set(self.touched)
        if touched is not None and self.reusable:
            _keep(self)
        else:
            _close_later(self)
        return touched

    def close(self) -> None:
        for fd in (self._fd, self._stop_read, self._stop_write):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fd = self._stop_read = self._stop_write = -1


def start(top: str, directories: Iterable[str]) -> Watcher | None:
    """A watcher of `top` and its `directories`, or None where the kernel cannot give one."""
    if not Path("/proc/sys/fs/inotify").is_dir():  # pragma: no cover - not Linux
        return None
    wanted = tuple(directories)
    with _kept_lock:
        kept = _kept.pop(top, None)
    if kept is not None:
        with contextlib.suppress(OSError):
            if kept[0] == wanted and kept[1].resume():
                return kept[1]
        _close_later(kept[1])
    try:
        return Watcher(top, wanted)
    except (OSError, AttributeError):  # pragma: no cover - no inotify for us (limits, seccomp)
        return None


def _keep(watcher: Watcher) -> None:
    with _kept_lock:
        _kept[watcher._top] = (watcher.directories, watcher)
        while len(_kept) > _KEEP:
            _close_later(_kept.pop(next(iter(_kept)))[1])


def _close_later(watcher: Watcher) -> None:
    # Dropping a thousand watches takes the kernel ~10 ms: let it happen meanwhile.
    threading.Thread(target=watcher.close, daemon=True).start()
