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
are. The command inherits the lock, so a command still running after its
`git plan run` was killed keeps its slot to itself.

A slot whose run did not finish (the `running` marker is there, its lock is
free) is put back to its HEAD before it is used again. Cancel removes a
plan's worktrees; `git plan gc` removes those of plans that are gone or
applied, and those left by interrupted runs. This module never touches the
user's worktree, index or HEAD.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pygit2

from . import packs, trees, worktree

_RUNNING = "running"
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
        directory.mkdir(parents=True, exist_ok=True)
        handle = os.open(directory / _LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            number += 1
            continue
        break
    try:
        yield Slot(plan_id, number, directory, handle)
    finally:
        os.close(handle)


def prepare(repo: pygit2.Repository, slot: Slot, tip: str) -> None:
    """Make the slot a clean checkout of `tip` (what the command's edits will be
    recorded against), and mark it running until `finish`."""
    checkout_dir = slot.path
    if not _usable(checkout_dir):
        _remove_checkout(checkout_dir)
        checkout_dir.parent.mkdir(parents=True, exist_ok=True)
        (slot.directory / _RUNNING).touch()
        worktree.run_git(repo, ["worktree", "add", "--quiet", "--detach", str(checkout_dir), tip])
        return
    checkout = slot.checkout()
    if (slot.directory / _RUNNING).exists():
        reset(repo, checkout, "HEAD")  # a run that did not finish left it in any state
    (slot.directory / _RUNNING).touch()
    head = head_commit(repo, checkout)
    if head != tip:  # other writers moved the plan: only what they changed is written
        worktree.run_git(repo, ["checkout", "--quiet", "--detach", tip], checkout=checkout)


def directories(repo: pygit2.Repository, slot: Slot, tree: str) -> list[str]:
    """The directories of `tree` (what a watcher of the checkout watches), kept in the
    slot between runs: listing them reads every tree object of the repository."""
    cache = slot.directory / "directories"
    header = f"tree {tree}\n".encode()
    try:
        data = cache.read_bytes()
        if data.startswith(header):
            return [os.fsdecode(path) for path in data[len(header) :].split(b"\0") if path]
    except FileNotFoundError:
        pass
    found = trees.directories(repo, tree)
    scratch = cache.with_name(f"directories.{os.getpid()}")
    scratch.write_bytes(header + b"".join(os.fsencode(path) + b"\0" for path in found))
    os.replace(scratch, cache)
    return found


def finish(slot: Slot) -> None:
    """The run is over and the slot is clean: the next run need not reset it."""
    with contextlib.suppress(FileNotFoundError):
        (slot.directory / _RUNNING).unlink()


def head_commit(repo: pygit2.Repository, checkout: worktree.Checkout) -> str:
    """The slot's HEAD: detached, so its HEAD file holds the commit id itself."""
    try:
        text = (Path(checkout.git_dir) / "HEAD").read_text().strip()
    except OSError:
        text = ""
    if len(text) == 40 and all(c in "0123456789abcdef" for c in text):
        return text
    return worktree.run_git(repo, ["rev-parse", "--verify", "HEAD"], checkout=checkout).decode().strip()


def reset(repo: pygit2.Repository, checkout: worktree.Checkout, commit: str) -> None:
    """Index, worktree and HEAD exactly `commit`; untracked files removed, ignored kept."""
    worktree.run_git(repo, ["reset", "--quiet", "--hard", commit], checkout=checkout)
    worktree.run_git(repo, ["clean", "-f", "-d", "-q"], checkout=checkout)


def adopt(repo: pygit2.Repository, checkout: worktree.Checkout, paths: Sequence[str], commit: str) -> None:
    """After recording `paths` as `commit` on the slot's HEAD: the index takes the files'
    new stat data (so the next run's `git status` stays cheap) and HEAD moves to `commit`.
    Nothing is written to the object database: the blobs are already in the plan."""
    if paths:
        # --info-only: hash through the clean filters, write no object (and so touch no pack).
        worktree.run_git(
            repo,
            ["update-index", "--add", "--remove", "--info-only", "-z", "--stdin"],
            stdin=b"".join(os.fsencode(path) + b"\0" for path in paths),
            checkout=checkout,
        )
    worktree.run_git(repo, ["update-ref", "--no-deref", "HEAD", commit], checkout=checkout)


def discard(repo: pygit2.Repository, checkout: worktree.Checkout, paths: Sequence[str]) -> None:
    """Put `paths` back as the slot's HEAD has them (a failed command's half-made edits)."""
    workdir = Path(checkout.workdir)
    tracked = set(
        os.fsdecode(name)
        for name in worktree.run_git(repo, ["ls-files", "-z", "--", *paths], checkout=checkout).split(b"\0")
        if name
    )
    for path in paths:
        if path in tracked:
            continue
        target = workdir / path
        if target.is_symlink() or target.is_file():
            target.unlink()
            worktree.remove_empty_parents(workdir, target.parent)
    restore = [path for path in paths if path in tracked]
    if restore:
        worktree.run_git(
            repo,
            ["checkout", "--quiet", "HEAD", "--pathspec-from-file=-", "--pathspec-file-nul"],
            stdin=b"".join(os.fsencode(path) + b"\0" for path in restore),
            checkout=checkout,
        )


# -- removing ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Found:
    """A slot on disk, as gc and cancel see it."""

    plan_id: str
    directory: Path
    in_use: bool
    interrupted: bool


def slots(repo: pygit2.Repository, plan_id: str | None = None) -> list[Found]:
    """The plan's slots (every plan's, without `plan_id`)."""
    found = []
    plans = [plan_id] if plan_id else _plan_dirs(repo)
    for plan in plans:
        base = root(repo) / plan
        if not base.is_dir():
            continue
        for directory in sorted(p for p in base.iterdir() if p.is_dir()):
            found.append(Found(plan, directory, _locked(directory), (directory / _RUNNING).exists()))
    return found


def _plan_dirs(repo: pygit2.Repository) -> list[str]:
    try:
        return sorted(entry.name for entry in os.scandir(root(repo)) if entry.is_dir())
    except FileNotFoundError:
        return []


def _locked(directory: Path) -> bool:
    try:
        handle = os.open(directory / _LOCK, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
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


def remove_all(repo: pygit2.Repository, plan_id: str) -> int:
    """Remove every worktree of a plan (cancel: even one a command still runs in)."""
    found = slots(repo, plan_id)
    for item in found:
        remove(item)
    return len(found)


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
    if not text.startswith("gitdir: "):
        return None
    return Path(text[len("gitdir: ") :].strip())


def _usable(checkout_dir: Path) -> bool:
    admin = _admin_dir(checkout_dir)
    return admin is not None and (admin / "HEAD").is_file()
