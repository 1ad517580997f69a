"""A plan's own worktrees: where `git plan run` runs commands.

Each is a linked worktree (`git worktree add --detach`) of the plan's tip,
kept between runs under `<git-common-dir>/gitplan/worktrees/<plan>/<n>/<plan>`,
so that a run in a 100,000-file repository checks out only what moved since
the last one. It is detached: never a branch under `refs/heads`. Commands
that run in it can use git (`git diff`, `git status`) as in any worktree.

One worktree serves one running command at a time: a run takes slot `n`'s
lock (`flock`, so a killed run releases it) and, when slot 0 is busy, uses or
creates slot 1, 2... Two runs of one plan therefore each see a consistent
tree, and their changesets are rebased onto each other as concurrent records
are. The command does not inherit the lock: a process it leaves running in
the background must not keep the slot from the next run.

A slot whose run did not finish (the `running` marker is there, its lock is
free) is put back to its HEAD, and git's locks a killed git left in it are
removed, before it is used again. Cancel removes a plan's worktrees; `git
plan gc` removes, once unused for its grace period and while holding their
lock, those of plans that are gone or applied and those left by interrupted
runs. This module also keeps what snapshots of the user's worktrees recorded
(`swept_paths`). It never touches the user's worktree, index or HEAD.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pygit2

from . import faults, packs, permissions, runner, statefile, trees, worktree

_RUNNING = "running"
_LEFT_RUNNING = "left-running"
_LOCK = "lock"


@dataclass(frozen=True, slots=True)
class Slot:
    """One worktree of a plan, held by this process: where it is and its lock."""

    plan_id: str
    number: int
    directory: Path  # the slot: lock, running marker, and the checkout below
    lock_fd: int

    @property
    def path(self) -> Path:
        """The checkout (the worktree a command runs in)."""
        return self.directory / self.plan_id

    def checkout(self) -> worktree.Checkout:
        return worktree.Checkout(str(self.path), str(_admin_dir(self.path)))


def root(repo: pygit2.Repository) -> Path:
    return packs.state_dir(repo) / "worktrees"


@contextlib.contextmanager
def acquire(repo: pygit2.Repository, plan_id: str) -> Iterator[Slot]:
    """The first of the plan's slots no other run holds (created if needed), locked."""
    base = root(repo) / plan_id
    number = 0
    while True:
        directory = base / str(number)
        handle = _lock(directory, blocking=False, create=True)
        if handle is not None and still_written(directory):
            os.close(handle)  # what a command left running writes there: not this run's
            handle = None
        if handle is None:
            number += 1
            continue
        break
    os.utime(directory / _LOCK)  # when the slot was last used: gc's grace counts from here
    try:
        yield Slot(plan_id, number, directory, handle)
    finally:
        os.close(handle)


def _lock(directory: Path, blocking: bool, create: bool) -> int | None:
    """The slot's lock, held; None when another process holds it (or, not creating,
    when the slot is gone). A lock file that gc removed after we opened it is not
    the slot's lock any more: open it again."""
    while True:
        if create:
            directory.mkdir(parents=True, exist_ok=True)
        try:
            flags = os.O_RDWR | os.O_CLOEXEC | (os.O_CREAT if create else 0)
            handle = os.open(directory / _LOCK, flags, 0o644)
        except FileNotFoundError:  # pragma: no cover - gc removed the slot meanwhile
            return None
        permissions.widen(directory / _LOCK)
        faults.point("slot.lock-opened")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(handle)
            return None
        try:
            same = os.fstat(handle).st_ino == os.stat(directory / _LOCK).st_ino
        except FileNotFoundError:  # pragma: no cover - gc removed it, not yet a new one
            same = False
        if same:
            return handle
        os.close(handle)
        if not create:  # pragma: no cover - gc met a run's retry
            return None


def prepare(repo: pygit2.Repository, slot: Slot, tip: str) -> None:
    """Make the slot a clean checkout of `tip` (what the command's edits will be
    recorded against), and mark it running until `finish`."""
    checkout_dir = slot.path
    if not _usable(checkout_dir):
        _remove_checkout(checkout_dir)
        checkout_dir.parent.mkdir(parents=True, exist_ok=True)
        (slot.directory / _RUNNING).touch()
        permissions.widen(slot.directory / _RUNNING)
        # --force: the slot's checkout may have been deleted by hand while git still lists
        # it ("a missing but already registered worktree"); the slot is gitplan's own.
        _git(repo, ["worktree", "add", "--quiet", "--force", "--detach", str(checkout_dir), tip])
        return
    checkout = slot.checkout()
    if (slot.directory / _RUNNING).exists():
        # A run that did not finish left it in any state (HEAD anywhere, even unborn).
        clear_git_locks(checkout)
        reset(repo, checkout, tip)
        return
    (slot.directory / _RUNNING).touch()
    permissions.widen(slot.directory / _RUNNING)
    head = head_commit(repo, checkout)
    if head != tip:  # other writers moved the plan: only what they changed is written
        _git(repo, ["checkout", "--quiet", "--detach", tip], checkout=checkout)


def clear_git_locks(checkout: worktree.Checkout) -> None:
    """Remove the locks a killed git left in the slot's git directory. Only while
    holding the slot's lock, when no git of ours is running in it."""
    for name in ("index.lock", "HEAD.lock"):
        with contextlib.suppress(FileNotFoundError):
            (Path(checkout.git_dir) / name).unlink()


def directories(repo: pygit2.Repository, slot: Slot, tree: str) -> list[str]:
    """What a watcher of the checkout watches: the directories of `tree` (kept in the
    slot between runs: listing them reads every tree object) and the untracked
    directories earlier runs left (holding only ignored files, so no tree has them)."""
    cache = slot.directory / "directories"
    header = f"tree {tree}\n".encode()
    found: list[str] | None = None
    with contextlib.suppress(FileNotFoundError):
        data = cache.read_bytes()
        if data.startswith(header):
            found = _paths(data[len(header) :])
    if found is None:
        found = trees.directories(repo, tree)
        statefile.replace(cache, header + _joined(found))
    left = [path for path in _left_directories(slot) if (slot.path / path).is_dir()]
    return found + left


def remember_directories(repo: pygit2.Repository, slot: Slot, new: Iterable[str]) -> None:
    """Directories a run made that stay in the checkout: later runs watch them too.
    Ignored ones are left out (git finds nothing to record below them), and are not
    walked: a fresh node_modules costs one `git check-ignore`."""
    workdir = slot.path
    kept = {path for path in _left_directories(slot) if (workdir / path).is_dir()}
    level = sorted(path for path in new if (workdir / path).is_dir() and not (workdir / path).is_symlink())
    level = [path for path in level if not any(path.startswith(other + "/") for other in level)]
    checkout = slot.checkout()
    while level:
        ignored = worktree.ignored(repo, [f"{path}/" for path in level], checkout)
        level = [path for path in level if f"{path}/" not in ignored and path not in ignored]
        kept.update(level)
        below = []
        for path in level:
            with contextlib.suppress(OSError):
                for entry in os.scandir(workdir / path):
                    if entry.is_dir(follow_symlinks=False) and entry.name != ".git":
                        below.append(f"{path}/{entry.name}")
        level = below
    statefile.replace(slot.directory / "left-directories", _joined(sorted(kept)))


def _left_directories(slot: Slot) -> list[str]:
    try:
        return _paths((slot.directory / "left-directories").read_bytes())
    except FileNotFoundError:
        return []


def _paths(data: bytes) -> list[str]:
    return [os.fsdecode(path) for path in data.split(b"\0") if path]


def _joined(paths: Iterable[str]) -> bytes:
    return b"".join(os.fsencode(path) + b"\0" for path in paths)


def left_running(slot: Slot, outcome: runner.Outcome) -> None:
    """The command left processes running: the slot stays marked running, so the next run
    in it puts it back first (what they wrote is not that run's), and while they run
    (their process group, or each of them where they shared ours), runs take another."""
    lines = [f"group {outcome.group}"] if outcome.group is not None else []
    lines += [f"process {pid} {started}" for pid, started in outcome.strays]
    if lines:
        statefile.replace(slot.directory / _LEFT_RUNNING, "".join(f"{line}\n" for line in lines).encode())


def still_written(directory: Path) -> bool:
    """Does a process a command left running in this slot still run?"""
    try:
        lines = (directory / _LEFT_RUNNING).read_text().splitlines()
    except OSError:
        return False
    for line in lines:
        kind, *numbers = line.split()
        try:
            if kind == "group" and runner.group_alive(int(numbers[0])):
                return True
            if kind == "process" and runner.process_alive(int(numbers[0]), int(numbers[1])):
                return True
        except (ValueError, IndexError):
            continue
    with contextlib.suppress(FileNotFoundError):
        (directory / _LEFT_RUNNING).unlink()
    return False


def finish(slot: Slot) -> None:
    """The run is over and the slot is clean: the next run need not reset it."""
    with contextlib.suppress(FileNotFoundError):
        (slot.directory / _RUNNING).unlink()


def head_commit(repo: pygit2.Repository, checkout: worktree.Checkout) -> str | None:
    """The slot's HEAD: detached, so its HEAD file holds the commit id itself (unless
    a command moved it to a branch); None when it names no commit (an orphan branch)."""
    try:
        text = (Path(checkout.git_dir) / "HEAD").read_text().strip()
    except OSError:  # pragma: no cover - the slot's git directory is gone
        text = ""
    if len(text) == 40 and all(c in "0123456789abcdef" for c in text):
        return text
    try:
        return _git(repo, ["rev-parse", "--verify", "HEAD"], checkout=checkout).decode().strip()
    except worktree.GitFailed:
        return None


def reset(repo: pygit2.Repository, checkout: worktree.Checkout, commit: str) -> None:
    """Index, worktree and HEAD exactly `commit`; untracked files removed, ignored kept.
    HEAD is detached first: a branch the command checked out here is the user's, and
    `git reset --hard` would move it."""
    _git(repo, ["update-ref", "--no-deref", "HEAD", commit], checkout=checkout)
    _git(repo, ["reset", "--quiet", "--hard", commit], checkout=checkout)
    _git(repo, ["clean", "-f", "-d", "-q"], checkout=checkout)


def adopt(repo: pygit2.Repository, checkout: worktree.Checkout, paths: Sequence[str], commit: str) -> None:
    """After recording `paths` as `commit` on the slot's HEAD: the index takes the files'
    new stat data (so the next run's `git status` stays cheap) and HEAD moves to `commit`.
    Nothing is written to the object database: the blobs are already in the plan."""
    if paths:
        # --info-only: hash through the clean filters, write no object (and so touch no pack).
        _git(
            repo,
            ["update-index", "--add", "--remove", "--replace", "--info-only", "-z", "--stdin"],
            stdin=b"".join(os.fsencode(path) + b"\0" for path in paths),
            checkout=checkout,
        )
    _git(repo, ["update-ref", "--no-deref", "HEAD", commit], checkout=checkout)


def discard(repo: pygit2.Repository, checkout: worktree.Checkout, paths: Sequence[str], commit: str) -> None:
    """Put `paths` back as `commit` has them, index entries and files (a failed
    command's half-made edits). The slot's HEAD must be `commit` (else: `reset`)."""
    workdir = Path(checkout.workdir)
    tree = str(repo[commit].peel(pygit2.Commit).tree_id)
    restore = [path for path in paths if trees.entry_at(repo, tree, path) is not None]
    for path in paths:
        target = workdir / path
        if path not in restore and (target.is_symlink() or target.is_file()):
            target.unlink()
            worktree.remove_empty_parents(workdir, target.parent)
    listed = b"".join(os.fsencode(path) + b"\0" for path in paths)
    # The index first (entries the command staged go), then the files the commit has.
    arguments = ["reset", "--quiet", commit, "--pathspec-from-file=-", "--pathspec-file-nul"]
    _git(repo, arguments, stdin=listed, checkout=checkout)
    if restore:
        _git(
            repo,
            ["checkout", "--quiet", commit, "--pathspec-from-file=-", "--pathspec-file-nul"],
            stdin=b"".join(os.fsencode(path) + b"\0" for path in restore),
            checkout=checkout,
        )


def _git(
    repo: pygit2.Repository,
    args: Sequence[str],
    checkout: worktree.Checkout | None = None,
    stdin: bytes | None = None,
) -> bytes:
    """git run by gitplan on a plan's own worktree, without the user's hooks: they
    (post-checkout, reference-transaction) are for the user's checkouts and branches,
    and one that fails would stop every run."""
    environment = worktree.git_env(repo, checkout)
    worktree.add_config(environment, "core.hooksPath", os.devnull)
    return worktree.run_git(repo, args, stdin=stdin, env=environment, checkout=checkout)


# -- removing ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Found:
    """A slot on disk, as gc and cancel see it."""

    plan_id: str
    directory: Path
    in_use: bool
    interrupted: bool
    last_used_ns: int  # when a run last took it


def slots(repo: pygit2.Repository, plan_id: str | None = None) -> list[Found]:
    """The plan's slots (every plan's, without `plan_id`)."""
    found = []
    plans = [plan_id] if plan_id else _plan_dirs(repo)
    for plan in plans:
        base = root(repo) / plan
        if not base.is_dir():
            continue
        for directory in sorted(p for p in base.iterdir() if p.is_dir()):
            try:
                used = (directory / _LOCK).stat().st_mtime_ns
            except FileNotFoundError:  # pragma: no cover - removed between listing and stat
                used = 0
            interrupted = (directory / _RUNNING).exists()
            found.append(Found(plan, directory, _locked(directory), interrupted, used))
    return found


def _plan_dirs(repo: pygit2.Repository) -> list[str]:
    try:
        return sorted(entry.name for entry in os.scandir(root(repo)) if entry.is_dir())
    except FileNotFoundError:
        return []


def _locked(directory: Path) -> bool:
    try:
        handle = os.open(directory / _LOCK, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:  # pragma: no cover - removed between listing and opening
        return False
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(handle)
    return False


def remove(found: Found) -> None:
    """Remove a slot: its checkout, git's administrative directory for it, its lock."""
    _remove_checkout(found.directory / found.plan_id)
    shutil.rmtree(found.directory, ignore_errors=True)
    with contextlib.suppress(OSError):
        found.directory.parent.rmdir()  # the plan's directory, once its last slot is gone


def remove_if_idle(found: Found) -> bool:
    """Remove a slot unless a run holds it, holding its lock meanwhile (so that no run
    can take it half removed); False when a run holds it."""
    handle = _lock(found.directory, blocking=False, create=False)
    if handle is None:  # pragma: no cover - a run took it between the listing and now
        return not found.directory.exists()
    try:
        _remove_checkout(found.directory / found.plan_id)
        for entry in found.directory.iterdir():  # files of gitplan's own, and what is left of the checkout
            if entry.name == _LOCK:
                continue
            if entry.is_dir() and not entry.is_symlink():  # pragma: no cover - a checkout rmtree left
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
        (found.directory / _LOCK).unlink()  # a run that opened it meanwhile sees it gone, and retries
    finally:
        os.close(handle)
    with contextlib.suppress(OSError):
        found.directory.rmdir()
        found.directory.parent.rmdir()
    return True


def remove_all(repo: pygit2.Repository, plan_id: str) -> int:
    """Remove every worktree of a plan (cancel: even one a command still runs in), and
    what snapshots remember of the user's worktrees for it."""
    found = slots(repo, plan_id)
    for item in found:
        remove(item)
    shutil.rmtree(_swept_root(repo) / plan_id, ignore_errors=True)
    return len(found)


# -- what snapshots of a worktree recorded -------------------------------------------


def swept_paths(repo: pygit2.Repository, plan_id: str, workdir: str, git_dir: str) -> list[str]:
    """The paths earlier snapshots of the worktree at `git_dir` recorded into the plan
    and that changed since (their file's stat differs, or it is gone): a snapshot looks
    at them again, since git status no longer lists a file the agent made, recorded,
    and then removed, or put back as it was."""
    changed = []
    for path, seen in _swept(repo, plan_id, git_dir).items():
        if _stat_key(os.path.join(workdir, path)) != seen:
            changed.append(path)
    return changed


def swept_head(repo: pygit2.Repository, plan_id: str, git_dir: str) -> str | None:
    """The worktree's HEAD when it was last swept: "" when HEAD was unborn then (no
    commit yet), None when it was never swept."""
    try:
        return (_swept_root(repo) / plan_id / f"{_key(git_dir)}.head").read_text().strip()
    except FileNotFoundError:
        return None


def remember_swept(
    repo: pygit2.Repository,
    plan_id: str,
    workdir: str,
    git_dir: str,
    paths: Iterable[str],
    head: str | None = None,
) -> None:
    """Remember the `paths` swept in the worktree of `git_dir` (their stat data), and
    where its HEAD was (`head`: "" for an unborn one; None: not said)."""
    target = _swept_root(repo) / plan_id / _key(git_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    if head is not None:
        statefile.replace(target.with_name(f"{target.name}.head"), head.encode())
    with packs.exclusive(repo, f"swept-{plan_id}"):
        known = _swept(repo, plan_id, git_dir)
        for path in paths:
            known[path] = _stat_key(os.path.join(workdir, path))
        lines = (f"{stat}\0".encode() + os.fsencode(path) + b"\0" for path, stat in sorted(known.items()))
        statefile.replace(target, b"".join(lines))


def _swept(repo: pygit2.Repository, plan_id: str, git_dir: str) -> dict[str, str]:
    try:
        data = (_swept_root(repo) / plan_id / _key(git_dir)).read_bytes()
    except FileNotFoundError:
        return {}
    fields = data.split(b"\0")
    return {os.fsdecode(fields[i + 1]): fields[i].decode() for i in range(0, len(fields) - 1, 2)}


def _stat_key(path: str) -> str:
    try:
        found = os.lstat(path)
    except OSError:
        return "gone"
    return f"{found.st_size}:{found.st_mtime_ns}:{found.st_ino}:{found.st_mode}"


def forget_swept(repo: pygit2.Repository, live: set[str]) -> list[str]:
    """Remove what snapshots remember for plans that are gone; their names."""
    gone = []
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(_swept_root(repo)):
            if entry.is_dir() and entry.name not in live:
                shutil.rmtree(entry.path, ignore_errors=True)
                gone.append(entry.name)
    return gone


def _swept_root(repo: pygit2.Repository) -> Path:
    return packs.state_dir(repo) / "snapshots"


def _key(git_dir: str) -> str:
    return hashlib.sha1(os.path.realpath(git_dir).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def _remove_checkout(checkout_dir: Path) -> None:
    admin = _admin_dir(checkout_dir)
    if admin is not None:
        shutil.rmtree(admin, ignore_errors=True)
    shutil.rmtree(checkout_dir, ignore_errors=True)


def _admin_dir(checkout_dir: Path) -> Path | None:
    """git's directory for a linked worktree (`.git/worktrees/<name>`), from its `.git` file."""
    try:
        text = (checkout_dir / ".git").read_text()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    if not text.startswith("gitdir: "):  # pragma: no cover - not a worktree git made
        return None
    return Path(text[len("gitdir: ") :].strip())


def _usable(checkout_dir: Path) -> bool:
    admin = _admin_dir(checkout_dir)
    return admin is not None and (admin / "HEAD").is_file()
