"""The user's working tree and index, read and written by git itself.

What a file looks like in the worktree depends on the repository's
configuration: `core.autocrlf`, `core.eol`, `.gitattributes` (`text`, `eol`,
`ident`, `working-tree-encoding`), clean/smudge filter drivers such as
git-lfs's, sparse checkout and `core.fileMode`. libgit2 knows only part of
that, so everything that compares or converts worktree files runs the `git`
binary, the one program that gets all of it right by definition:

* `StatusRun` asks `git status` which tracked files differ from HEAD or the index;
* `move` takes the index and worktree from one tree to another exactly as `git
  checkout` would: `git read-tree -m -u`, or, where that gives the same result,
  `git update-index` and `git checkout-index` on the changed paths alone;
* `force_from_index` is `git checkout-index -f` for paths whose index entry
  is the truth (apply's roll-back);
* `cleaned` gives, per file, the blob `git add` would store.

The index is the one git would use: GIT_INDEX_FILE's when the repository was
opened with it (gitrepo.index_file), for the repository's own working tree;
a plan's worktree (a Checkout) has its own.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import signal
import stat
import subprocess
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pygit2

from . import faults
from .errors import GitPlanError
from .gitrepo import (
    alternates_variable,
    borrowed_object_directories,
    config_flag,
    config_value,
    index_file,
)
from .gitvalues import git_bool
from .objects import loose_object_data
from .trees import Entry, entry_at


class GitFailed(GitPlanError):
    """The git binary refused or failed; the message is git's own."""


class PartlyMoved(GitFailed):
    """A move failed after git had written part of it (whatever git's message says, the
    index or files changed): the caller puts back its paths."""


@dataclass(frozen=True, slots=True)
class Checkout:
    """A working tree other than the repository's own: a plan's worktree (a linked
    worktree with its own HEAD and index under `git_dir`)."""

    workdir: str
    git_dir: str


def git_env(repo: pygit2.Repository, checkout: Checkout | None = None, **extra: str) -> dict[str, str]:
    """The environment that points git at exactly the repository pygit2 opened, and the
    index it was opened with (or at one of its linked worktrees, and its own index), with
    the objects lent to it."""
    environment = {k: v for k, v in os.environ.items() if k not in POINTERS}
    if checkout is not None:
        environment["GIT_DIR"] = checkout.git_dir
        environment["GIT_WORK_TREE"] = checkout.workdir
    else:
        environment["GIT_DIR"] = repo.path
        if repo.workdir:
            environment["GIT_WORK_TREE"] = repo.workdir
        named = index_file(repo)
        if named is not None:
            environment["GIT_INDEX_FILE"] = named
    borrowed = borrowed_object_directories(repo)
    if borrowed:  # (as the user's GIT_ALTERNATE_OBJECT_DIRECTORIES lent them, from any directory)
        environment["GIT_ALTERNATE_OBJECT_DIRECTORIES"] = alternates_variable(borrowed)
    environment["GIT_LITERAL_PATHSPECS"] = "1"
    environment["LC_ALL"] = "C"
    environment.update(extra)
    return environment


def in_users_characters(environment: dict[str, str]) -> dict[str, str]:
    """`environment` (from git_env) with the user's character classification back: a
    word-diff regex or a diff driver's function-name pattern with `[[:alpha:]]` matches
    `é` as git in the user's shell does. git's messages stay untranslated (LC_MESSAGES=C),
    as everything gitplan prints of its own is."""
    environment.pop("LC_ALL", None)
    characters = os.environ.get("LC_ALL") or os.environ.get("LC_CTYPE") or os.environ.get("LANG")
    if characters:
        environment["LC_CTYPE"] = characters
    environment["LC_MESSAGES"] = "C"
    return environment


# Variables that would point git somewhere other than the repository we opened.
POINTERS = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
        "GIT_PREFIX",
        "GIT_GLOB_PATHSPECS",
        "GIT_NOGLOB_PATHSPECS",
        "GIT_ICASE_PATHSPECS",
    }
)


def run_git(
    repo: pygit2.Repository,
    args: Sequence[str],
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    checkout: Checkout | None = None,
    succeeded: tuple[int, ...] = (0,),
) -> bytes:
    """Run `git args...` on `repo` (or `checkout`) from its top level; GitFailed with git's
    message when it exits with a status not in `succeeded`."""
    lock = _index_lock(repo, checkout, env)
    locked_before = os.path.lexists(lock)
    with _spawn(repo, args, env, checkout, stdin is not None) as process:
        try:
            faults.point(f"git.{args[0]}")
            out, err = process.communicate(stdin)
        except BaseException:  # interrupted: git must not go on writing while we roll back
            process.terminate()  # SIGTERM: git removes its index.lock as it dies, mostly
            process.wait()
            if not locked_before:
                _remove_lock_left_by(lock)
            raise
    return _checked(args, process.returncode if process.returncode not in succeeded else 0, out, err)


def _index_lock(repo: pygit2.Repository, checkout: Checkout | None, env: dict[str, str] | None) -> str:
    """The lock file of the index a git command run by run_git would write."""
    index = (env or {}).get("GIT_INDEX_FILE") or index_path(repo, checkout)
    return f"{index}.lock"


def index_path(repo: pygit2.Repository, checkout: Checkout | None = None) -> str:
    """The index file git reads and writes for `checkout`, or for the repository's own
    working tree (GIT_INDEX_FILE's where it named one: gitrepo.index_file)."""
    if checkout is not None:
        return os.path.join(checkout.git_dir, "index")
    return index_file(repo) or os.path.join(repo.path, "index")


def _remove_lock_left_by(lock: str) -> None:
    """Remove `lock`, which was not there before the git command just killed: git killed
    as it starts can leave it (measured: 70 of 300 `git read-tree -m -u` given SIGTERM
    within 4 ms), and every later git command would refuse the index. Left alone when
    any process holds it open (another git took the lock meanwhile), or when that
    cannot be told (no /proc)."""
    if not os.path.lexists(lock) or held_open(lock):
        return
    with contextlib.suppress(FileNotFoundError):
        os.unlink(lock)


def held_open(path: str | os.PathLike[str]) -> bool:
    """Does any process have `path` open (Linux's /proc)? True when it cannot be told."""
    try:
        pids = [pid for pid in os.listdir("/proc") if pid.isdigit()]
    except OSError:
        return True
    real = os.path.realpath(path)
    for pid in pids:
        try:
            descriptors = os.listdir(f"/proc/{pid}/fd")
        except OSError:  # gone, or another user's
            continue
        for descriptor in descriptors:
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{descriptor}") == real:
                    return True
    return False


def add_config(environment: dict[str, str], key: str, value: str) -> None:
    """Give the git run with `environment` one more config value (as `git -c`), after any
    the environment already holds (GIT_CONFIG_COUNT, git 2.31+)."""
    try:
        count = int(environment.get("GIT_CONFIG_COUNT", "0"))
    except ValueError:
        count = 0
    environment[f"GIT_CONFIG_KEY_{count}"] = key
    environment[f"GIT_CONFIG_VALUE_{count}"] = value
    environment["GIT_CONFIG_COUNT"] = str(count + 1)


def _spawn(
    repo: pygit2.Repository,
    args: Sequence[str],
    env: dict[str, str] | None,
    checkout: Checkout | None,
    stdin: bool | IO[bytes] = False,
) -> subprocess.Popen[bytes]:
    """git `args`, started; its input a pipe (stdin True), that file, or nothing."""
    try:
        return subprocess.Popen(
            ["git", *args],
            stdin=subprocess.PIPE if stdin is True else stdin or subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=checkout.workdir if checkout else repo.workdir or repo.path,
            env=env or git_env(repo, checkout),
            preexec_fn=None if _reads_only(args) else _die_with_parent,
        )
    except FileNotFoundError:
        where = checkout.workdir if checkout else repo.workdir or repo.path
        if not os.path.isdir(where):  # (what Popen says when the directory to run in is gone)
            raise GitFailed(f"cannot run git in {where}: the directory is gone") from None
        raise GitFailed("the git program is not installed or not on PATH") from None


def _checked(args: Sequence[str], returncode: int, out: bytes, err: bytes) -> bytes:
    if returncode != 0:
        message = err.decode(errors="replace").strip().replace("\n", "; ")
        raise GitFailed(f"git {args[0]} failed: {message or f'exit {returncode}'}")
    return out


def _die_with_parent() -> None:
    """In the child: die when gitplan dies. A git still writing the worktree after
    a killed apply would race the recovery that rolls that apply back. SIGTERM,
    not SIGKILL: git removes its lock files (index.lock) before it dies of it, so
    a killed `git plan apply` never leaves the user's next git command refused.

    Only for the git commands that write (not _READERS): asking for it runs Python
    in the child, so the child is forked rather than vforked, 2.5-5 ms a command
    (measured at 20-60 MB resident); a git that only reads may finish on its own."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: nothing to ask for
        pass
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


_PR_SET_PDEATHSIG = 1
# The git commands gitplan runs that write nothing and run no program of the user's but
# their filters: `git status` runs without optional locks (_status_env), so it never
# writes the index back either.
_READERS = frozenset(
    {"status", "ls-files", "check-ignore", "check-attr", "config", "rev-parse", "diff-tree", "diff-index"}
)


def _reads_only(args: Sequence[str]) -> bool:
    """Does this git command write nothing, so that it may outlive us? `git diff` of two
    trees does, when it is told not to run the user's own diff program (`--no-ext-diff`
    first, as PlanStore._git_diff puts it unless the user asked for one); like `git
    status`, it may still run the user's filters (textconv), which only read too."""
    return args[0] in _READERS or tuple(args[:2]) in (("diff", "--no-ext-diff"), ("checkout-index", "-n"))


def _fs(path: bytes) -> str:
    return os.fsdecode(path)


def _nul_paths(paths: Iterable[str]) -> bytes:
    return b"".join(os.fsencode(path) + b"\0" for path in paths)


# -- reading ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorktreeChange:
    """One path `git status` lists: `state` is modified, deleted, typechange or untracked."""

    path: str
    state: str
    submodule: bool = False


_STATES = {"M": "modified", "D": "deleted", "T": "typechange", "A": "modified"}


def status(
    repo: pygit2.Repository, untracked: bool, staged: bool = False, checkout: Checkout | None = None
) -> list[WorktreeChange]:
    """What differs between the index and the worktree, as `git status` decides it.

    Files that only look different (a CRLF checkout of an LF blob, a smudged
    file, a fresh timestamp) are not listed; skip-worktree files of a sparse
    checkout are not "deleted"; ignored files never appear."""
    out = run_git(repo, _status_args(untracked), env=_status_env(repo, checkout), checkout=checkout)
    changes: list[WorktreeChange] = []
    for kind, xy, submodule, path in _porcelain(out):
        if kind == "?":
            changes.append(WorktreeChange(path, "untracked"))
        elif kind == "u":
            changes.append(WorktreeChange(path, "unmerged"))
        else:
            state = _STATES.get(xy[1])
            if state is None and staged:  # changed in the index only (git add, git rm)
                state = _STATES.get(xy[0])
            if state is not None:
                changes.append(WorktreeChange(path, state, submodule))
    return changes


@dataclass(frozen=True, slots=True)
class TrackedChanges:
    """What `git status` says of the tracked paths: those whose index entry differs
    from HEAD's, those whose worktree file differs from the index (by path), and
    whether the index holds unresolved conflicts."""

    staged: frozenset[str]
    unstaged: dict[str, WorktreeChange]
    unmerged: bool


class StatusRun:
    """`git status` of the tracked paths, started now and read later, so that git
    works on another core while the caller computes. `close` ends it if unread."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self._args = _status_args(untracked=False)
        self._process = _spawn(repo, self._args, _status_env(repo, None), None)

    def result(self) -> TrackedChanges:
        out, err = self._process.communicate()
        staged: set[str] = set()
        unstaged: dict[str, WorktreeChange] = {}
        unmerged = False
        for kind, xy, submodule, path in _porcelain(_checked(self._args, self._process.returncode, out, err)):
            if kind == "u":
                unmerged = True
                continue
            if xy[0] != ".":
                staged.add(path)
            state = _STATES.get(xy[1])
            if state is not None:
                unstaged[path] = WorktreeChange(path, state, submodule)
        return TrackedChanges(frozenset(staged), unstaged, unmerged)

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()  # git removes its index.lock as it dies of SIGTERM
        self._process.communicate()


def _status_args(untracked: bool) -> list[str]:
    return [
        "status",
        "--porcelain=v2",
        "-z",
        "--no-renames",
        "--ignore-submodules=none",
        "--untracked-files=all" if untracked else "--untracked-files=no",
    ]


def _status_env(repo: pygit2.Repository, checkout: Checkout | None) -> dict[str, str]:
    # No optional locks: git status then never takes index.lock to write back what it
    # refreshed. It would otherwise hold the lock while it runs in the background,
    # refusing the user's own `git add` meanwhile, and a gitplan killed at that moment
    # could leave the lock behind with nothing to say it was gitplan's.
    return git_env(repo, checkout, GIT_OPTIONAL_LOCKS="0")


def _porcelain(out: bytes) -> Iterator[tuple[str, str, bool, str]]:
    """`git status --porcelain=v2 -z` records: (kind, XY, is a submodule, path); kind is
    "1" (changed), "u" (unmerged) or "?" (untracked, XY "??")."""
    for record in out.split(b"\0"):
        kind = record[:1]
        if kind == b"?":
            yield "?", "??", False, _fs(record[2:])
        elif kind == b"1":
            fields = record.split(b" ", 8)
            yield "1", fields[1].decode(), fields[2].startswith(b"S"), _fs(fields[8])
        elif kind == b"u":
            fields = record.split(b" ", 10)
            yield "u", fields[1].decode(), False, _fs(fields[10])


def ignored(repo: pygit2.Repository, paths: Sequence[str], checkout: Checkout | None = None) -> set[str]:
    """Those of the (untracked) `paths` that the repository's ignore rules exclude."""
    if not paths:
        return set()
    environment = git_env(repo, checkout)
    del environment["GIT_LITERAL_PATHSPECS"]  # check-ignore takes path names, and refuses pathspec magic
    try:
        done = subprocess.run(
            ["git", "check-ignore", "-z", "--stdin"],
            input=_nul_paths(paths),
            capture_output=True,
            cwd=checkout.workdir if checkout else repo.workdir,
            env=environment,
            check=False,
        )  # (it only reads: left to finish if we die, see _die_with_parent)
    except FileNotFoundError:
        raise GitFailed("the git program is not installed or not on PATH") from None
    if done.returncode not in (0, 1):  # pragma: no cover - 1: none of them is ignored
        raise GitFailed(f"git check-ignore failed: {done.stderr.decode(errors='replace').strip()}")
    return {_fs(path) for path in done.stdout.split(b"\0") if path}


# -- writing ------------------------------------------------------------------


def move(
    repo: pygit2.Repository, old_tree: str, new_tree: str, changes: Sequence[Entry] | None = None
) -> None:
    """Move the index and worktree from `old_tree` to `new_tree` as `git checkout` would.

    Paths equal in both trees keep their index entries and files (including
    the user's unrelated edits); the others are written through the
    repository's eol rules and smudge filters; sparse-checkout paths outside
    the cone stay unmaterialised. git refuses, writing nothing, when a path it
    must write is not up to date.

    git judges "up to date" by the index's stat data alone. When it refuses, the
    index is refreshed (`git update-index --refresh`: new stat data for files
    whose contents did not change, as `git status` would have written) and the
    move tried once more; a path that really changed is refused again.

    `changes` (the entries that differ between the two trees), where given, lets
    the move touch those paths alone when that gives what read-tree would give
    (_move_paths): read-tree also reads every other entry of both trees and of
    the index, and writes the whole cache tree again."""
    if changes is not None and _move_paths(repo, old_tree, changes):
        return
    args = ["read-tree", "-m", "-u", old_tree, new_tree]
    try:
        run_git(repo, args)
    except GitFailed as error:
        if "not uptodate" not in str(error):
            raise
        run_git(repo, ["update-index", "-q", "--refresh"])
        run_git(repo, args)


def tree_changes(repo: pygit2.Repository, old_tree: str, new_tree: str) -> list[Entry] | None:
    """What trees.changed_entries says of two trees of the repository, from `git diff-tree`:
    the same entries in the same order, for less where many paths changed (git reads the
    trees in C; the walk parses each in Python). None where git cannot say (a tree
    missing): the walk then says what is wrong. Replacement objects are not followed, as
    libgit2 follows none."""
    args = ["diff-tree", "-r", "-z", "--raw", "--no-abbrev", "--no-renames", "--ignore-submodules=none"]
    try:
        out = run_git(repo, [*args, old_tree, new_tree], env=git_env(repo, GIT_NO_REPLACE_OBJECTS="1"))
    except GitFailed:
        return None
    fields = out.split(b"\0")
    found = []
    for at in range(0, len(fields) - 1, 2):
        old_mode, new_mode, old_id, new_id, _ = fields[at][1:].split(b" ")
        absent_before, absent_after = int(old_mode, 8) == 0, int(new_mode, 8) == 0
        found.append(
            Entry(
                fields[at + 1].decode("utf-8", "surrogateescape"),
                None if absent_before else old_id.decode(),
                None if absent_before else int(old_mode, 8),
                None if absent_after else new_id.decode(),
                None if absent_after else int(new_mode, 8),
            )
        )
    found.sort(key=lambda entry: entry.path.encode("utf-8", "surrogateescape"))
    return found


def _movable_by_path(repo: pygit2.Repository, changes: Sequence[Entry]) -> bool:
    """Can a move of `changes` be made path by path with what read-tree would leave, as
    far as the repository's setup and the worktree's directories tell? Not in a sparse
    checkout, nor where an index entry may carry a bit that read-tree keeps on an entry
    it replaces (skip-worktree, intent-to-add: index format 2 has no room for them; a
    split index is left to read-tree), nor for a submodule. (Nor where a directory on the
    way to a path is a symlink in the worktree, which _move_locked looks at while git
    checks: git neither reads nor deletes a file through one.)"""
    if any(pygit2.GIT_FILEMODE_COMMIT in (change.old_mode, change.new_mode) for change in changes):
        return False
    if config_flag(repo, "core.sparseCheckout", False) or os.path.exists(
        os.path.join(repo.path, "info", "sparse-checkout")
    ):
        return False
    index = index_path(repo)
    if os.path.islink(index):  # (git would write the file it names, not take our lock's place)
        return False
    try:
        with open(index, "rb") as handle:
            header = handle.read(8)
        shared = any(name.startswith("sharedindex.") for name in os.listdir(os.path.dirname(index)))
    except OSError:
        return False
    return header == b"DIRC\0\0\0\2" and not shared


def _move_paths(repo: pygit2.Repository, old_tree: str, changes: Sequence[Entry]) -> bool:
    """The move of `changes` by git update-index and checkout-index on those paths alone;
    False, having written nothing, where read-tree must make it (the index is not
    `old_tree`: something staged or unmerged; a symlinked directory on the way).

    As read-tree does, the move holds the index's lock from its first look to its last
    write, so no `git add` comes between: `index.lock` is made a second name of the
    index (made only where there is none, as git makes its lock), and git works on it
    (GIT_INDEX_FILE); git never writes a file in place (it writes a lock of its own,
    then renames it over the name), so the index stays as it was until the lock is
    renamed over it at the end. Every file the move replaces or deletes must first be
    up to date with its index entry (MoveCheck), and nothing untracked may be where it
    writes a new path. Then the entries change, the deleted files go (and the
    directories they leave empty), and the new files are checked out through the
    repository's filters, with their stat data in the index. A failure leaves the old
    index (PartlyMoved once a file was touched: the caller puts files back); SIGTERM and
    SIGHUP end the move as a failure; a kill leaves the lock, which recovery removes
    (the journal says the index was being written)."""
    if not _movable_by_path(repo, changes):
        return False
    index = index_path(repo)
    lock = f"{index}.lock"
    try:
        os.link(index, lock)
    except FileExistsError:
        raise GitFailed(
            f"git cannot take the index: Unable to create '{lock}': File exists. Another git "
            "process seems to be running in this repository"
        ) from None
    except OSError:  # no hard links here (or no index): read-tree takes its lock itself
        return False
    try:
        with _signals_end_it():
            moved = _move_locked(repo, old_tree, changes, lock)
            if moved and not os.path.samefile(lock, index):
                os.replace(lock, index)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        raise
    with contextlib.suppress(FileNotFoundError):  # (nothing moved, or git wrote nothing: a
        os.unlink(lock)  # rename onto the same file would keep both names)
    return moved


def _move_locked(repo: pygit2.Repository, old_tree: str, changes: Sequence[Entry], lock: str) -> bool:
    """_move_paths' work while it holds the index's lock `lock`; False where read-tree
    must make the move after all; PartlyMoved for a failure once a file may have changed."""
    with contextlib.suppress(FileNotFoundError):  # (a git killed with an earlier move: ours)
        os.unlink(f"{lock}.lock")
    environment = git_env(repo, GIT_INDEX_FILE=lock)
    workdir = str(repo.workdir)
    check = MoveCheck(repo, old_tree, changes, environment)
    try:  # (looked at while git checks)
        linked = through_symlinks(Path(workdir), (change.path for change in changes))
    except BaseException:
        check.close()
        raise
    if linked:
        check.close()
        return False
    same, stale = check.result()
    if same and stale:
        run_git(repo, ["update-index", "-q", "--refresh"], env=environment)
        same, stale = MoveCheck(repo, old_tree, changes, environment).result()
    if not same:
        return False
    if stale:
        raise GitFailed(f"git checkout-index: {', '.join(stale)}: not uptodate")
    untracked = _untracked_in_the_way(workdir, changes)
    if untracked:
        raise GitFailed(f"git checkout-index: {', '.join(untracked)} would be overwritten (untracked)")
    faults.point("worktree.paths-checked")
    records = [
        f"{change.new_mode:o} {change.new_id}\t".encode() + os.fsencode(change.path) + b"\0"
        if change.new_id is not None and change.new_mode is not None
        else f"0 {'0' * len(str(change.old_id))}\t".encode() + os.fsencode(change.path) + b"\0"
        for change in changes
    ]
    run_git(repo, ["update-index", "-z", "--index-info"], stdin=b"".join(records), env=environment)
    faults.point("worktree.index-moved")
    top = Path(workdir)
    try:
        for change in changes:
            if change.new_id is None:
                target = top / change.path
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()  # (a directory made meanwhile: refused, put back)
                remove_empty_parents(top, target.parent)
        written = [change.path for change in changes if change.new_id is not None]
        if written:
            checkout = ["checkout-index", "-f", "-u", "-z", "--stdin"]
            run_git(repo, checkout, stdin=_nul_paths(written), env=environment)
    except (GitFailed, OSError) as error:
        raise PartlyMoved(f"{error}; the index is as it was") from None
    return True


def _untracked_in_the_way(workdir: str, changes: Sequence[Entry]) -> list[str]:
    """What the worktree holds that the old tree does not, where the move writes a new
    path: a file or symlink at it or above it, or a directory at it holding files the
    move does not delete (read-tree refuses to lose them; checkout-index -f would not)."""
    going = {change.path for change in changes if change.new_id is None}
    found = []
    for change in changes:
        if change.old_id is not None or change.new_id is None:
            continue
        full = os.path.join(workdir, change.path)
        if os.path.isdir(full) and not os.path.islink(full):
            if holds_other_files(Path(workdir), Path(full), going):
                found.append(change.path)
        elif os.path.lexists(full):
            found.append(change.path)
        else:
            above = file_above(Path(workdir), change.path)
            if above is not None and above not in going:
                found.append(above)
    return found


def holds_other_files(workdir: Path, directory: Path, paths: set[str]) -> bool:
    """Does `directory` hold a file (or symlink) that is none of `paths`?"""
    for top, directories, files in os.walk(directory):
        for name in files + [entry for entry in directories if (Path(top) / entry).is_symlink()]:
            if (Path(top) / name).relative_to(workdir).as_posix() not in paths:
                return True
    return False


@contextlib.contextmanager
def _signals_end_it() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP (a terminal closed, a timeout, an editor
    cancelling the command) raise SystemExit, so that the move lets go of the index's
    lock and its caller puts back what it wrote, as git dies of them without leaving its
    lock. Not where the signal is ignored (nohup), nor outside the main thread (Python's
    handlers are the main thread's)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def end(number: int, _frame: object) -> None:
        raise SystemExit(128 + number)

    previous = {
        number: signal.signal(number, end)
        for number in (signal.SIGTERM, signal.SIGHUP)
        if signal.getsignal(number) is signal.SIG_DFL
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class MoveCheck:
    """What a path-by-path move checks first, asked of git at once (both commands only
    read, each on a core of its own): is the index `old_tree` exactly
    (`git diff-index --cached --quiet`), and is each file the move replaces or deletes
    up to date with its index entry? `git checkout-index -n` without `-f` judges that
    by the index's stat data (and by content where those cannot tell), as read-tree
    does, and writes nothing: it neither creates a missing file nor overwrites a
    changed one, which it names."""

    def __init__(
        self, repo: pygit2.Repository, old_tree: str, changes: Sequence[Entry], environment: dict[str, str]
    ) -> None:
        with tempfile.TemporaryFile() as paths:  # (a file, not a pipe: git's messages cannot block it)
            paths.write(_nul_paths(change.path for change in changes if change.old_id is not None))
            paths.seek(0)
            self._same = _spawn(repo, ["diff-index", "--cached", "--quiet", old_tree], environment, None)
            try:
                check = ["checkout-index", "-n", "-z", "--stdin"]
                self._check = _spawn(repo, check, environment, None, paths)
            except BaseException:
                self.close()
                raise

    def result(self) -> tuple[bool, list[str]]:
        """(the index is old_tree, the paths whose files are not up to date)."""
        try:
            self._same.communicate()
            _, err = self._check.communicate()
        finally:
            self.close()
        stale = [
            os.fsdecode(line.removesuffix(_NOT_UP_TO_DATE))
            for line in err.splitlines()
            if line.endswith(_NOT_UP_TO_DATE)
        ]
        if self._check.returncode != 0 and not stale:  # (said otherwise: named as git said it)
            stale = [err.decode(errors="replace").strip() or f"exit {self._check.returncode}"]
        return self._same.returncode == 0, stale

    def close(self) -> None:
        for process in (self._same, getattr(self, "_check", None)):
            if process is not None and process.poll() is None:
                process.terminate()
            if process is not None:
                process.communicate()


_NOT_UP_TO_DATE = b" already exists, no checkout"  # how checkout-index -n names a changed file


def is_executable(path: str | os.PathLike[str]) -> bool:
    """Whether git records a file as executable (100755): its owner's execute bit, as
    `git add` reads it, whoever runs us (root may run any file) and on a noexec mount."""
    return bool(os.stat(path).st_mode & stat.S_IXUSR)


def through_symlinks(workdir: Path, paths: Iterable[str]) -> set[str]:
    """Those of `paths` that a directory on the way to them, a symlink in the worktree,
    leads elsewhere. Each leading directory is looked at once."""
    top = f"{workdir}{os.sep}"  # strings, not Paths: an apply asks this of every path it writes
    linked: dict[str, bool] = {"": False}

    def is_linked(directory: str) -> bool:
        above = []
        while directory not in linked:
            above.append(directory)
            directory = directory.rpartition("/")[0]
        found = linked[directory]
        for each in reversed(above):  # from the top down: below a symlink, all are
            if not found:
                try:
                    found = stat.S_ISLNK(os.lstat(top + each).st_mode)
                except OSError:
                    found = False
            linked[each] = found
        return found

    return {path for path in paths if is_linked(path.rpartition("/")[0])}


def file_above(workdir: Path, path: str) -> str | None:
    """The nearest directory of `path` that the worktree has as a file or a symlink (so
    `path` itself cannot exist there), or None."""
    parts = path.split("/")
    for depth in range(1, len(parts)):
        above = "/".join(parts[:depth])
        full = workdir / above
        if full.is_symlink() or (full.exists() and not full.is_dir()):
            return above
        if not full.exists():
            return None
    return None


def skip_worktree(
    repo: pygit2.Repository, paths: Sequence[str], checkout: Checkout | None = None
) -> list[str]:
    """Those of `paths` whose index entry is skip-worktree: outside a sparse checkout's
    definition, so not checked out (a missing file there is not a deleted one)."""
    listed = _ls_files(repo, ["-t", "--cached"], paths, checkout, _tagged_name)
    return [_fs(item[2:]) for item in listed if item[:1] == b"S"]


def outside_sparse_cone(repo: pygit2.Repository, paths: Iterable[str]) -> set[str]:
    """Those of `paths` outside the user's cone-mode sparse checkout, which `git add` leaves
    out (a file put there by hand; git clears its skip-worktree bit as it reads the index,
    so only the definition tells). Nothing for a checkout that is not sparse in cone mode
    (non-cone patterns are not matched here)."""
    if not (
        config_flag(repo, "core.sparseCheckout", False)
        and config_flag(repo, "core.sparseCheckoutCone", False)
    ):
        return set()
    try:
        with open(os.path.join(repo.path, "info", "sparse-checkout"), encoding="utf-8") as handle:
            cone = _cone(handle.read())
    except (OSError, UnicodeDecodeError):
        return set()
    if cone is None:
        return set()
    recursive, parents = cone
    return {path for path in paths if not _in_cone(path, recursive, parents)}


def _cone(text: str) -> tuple[set[str], set[str]] | None:
    """The directories a cone-mode sparse-checkout file takes whole, and those it takes the
    files of (`/*` the top's); None when a line is not of the cone form (git then reads the
    patterns as non-cone ones)."""
    recursive: set[str] = set()
    parents: set[str] = set()
    for line in (line.strip() for line in text.splitlines()):
        if not line or line.startswith("#") or line == "!/*/":
            continue
        if line == "/*":
            parents.add("")
        elif line.startswith("!/") and line.endswith("/*/"):
            directory = _unescaped(line[2:-3])
            recursive.discard(directory)
            parents.add(directory)
        elif line.startswith("/") and line.endswith("/") and len(line) > 2:
            recursive.add(_unescaped(line[1:-1]))
        else:
            return None
    return recursive, parents


def _unescaped(pattern: str) -> str:
    return re.sub(r"\\(.)", r"\1", pattern)


def _in_cone(path: str, recursive: set[str], parents: set[str]) -> bool:
    directory = path.rpartition("/")[0]
    if directory in parents:
        return True
    while directory:
        if directory in recursive:
            return True
        directory = directory.rpartition("/")[0]
    return False


def symlinks_in_index(
    repo: pygit2.Repository, paths: Sequence[str], checkout: Checkout | None = None
) -> set[str]:
    """Those of `paths` the index has as symlinks (mode 120000)."""
    listed = _ls_files(repo, ["-s"], paths, checkout, _staged_name)
    return {_fs(name) for mode, _, _, name in _index_entries(listed) if mode == b"120000"}


def hidden_changes(repo: pygit2.Repository, paths: Iterable[str]) -> dict[str, str]:
    """Those of `paths` whose file on disk differs from the index while the index hides it
    from `git status` (assume-unchanged, or skip-worktree with the file there), each with
    the bit that hides it: `git read-tree -m -u` looks again and refuses to overwrite them
    ("not uptodate"), as `git checkout` does."""
    wanted = set(paths)
    if not wanted:
        return {}
    # In a sparse checkout git leaves skip-worktree entries alone (unpack-trees.c's
    # verify_uptodate): only assume-unchanged hides a change then.
    hiding = _HIDING_SPARSE if config_flag(repo, "core.sparseCheckout", False) else _HIDING
    flagged: dict[str, tuple[str, str]] = {}
    for item in run_git(repo, ["ls-files", "-v", "-s", "-z"]).split(b"\0"):
        if not item or item[:1] == b"H":  # the usual entry: nothing hidden
            continue
        head, _, name = item.partition(b"\t")
        fields = head.split()
        bit = hiding.get(fields[0]) if len(fields) == 4 else None
        path = _fs(name)
        if bit is not None and path in wanted:
            flagged[path] = (fields[2].decode(), bit)
    workdir = Path(str(repo.workdir))
    links = [path for path in flagged if (workdir / path).is_symlink()]
    present = [path for path in flagged if path not in links and (workdir / path).is_file()]
    found = {
        path: flagged[path][1]
        for path in links
        if str(pygit2.hash(os.fsencode(os.readlink(workdir / path)))) != flagged[path][0]
    }
    for path, (oid, _) in cleaned(repo, present).items():
        if oid != flagged[path][0]:
            found[path] = flagged[path][1]
    return found


def hiding_bits(
    repo: pygit2.Repository, paths: Sequence[str], checkout: Checkout | None = None
) -> dict[str, str]:
    """Those of `paths` whose index entry hides their changes from `git status` and
    `git add` (assume-unchanged, skip-worktree), each with the bit."""
    found = {}
    for item in _ls_files(repo, ["-v"], paths, checkout, _tagged_name):
        bit = _HIDING.get(item[:1])
        if bit is not None and item[1:2] == b" ":
            found[_fs(item[2:])] = bit
    return found


# ls-files -v: lower case for assume-unchanged, S for skip-worktree
_HIDING = {b"h": "assume-unchanged", b"S": "skip-worktree", b"s": "assume-unchanged, skip-worktree"}
_HIDING_SPARSE = {b"h": "assume-unchanged"}


# More paths than this: list the whole index and pick in Python. git matches every
# index entry against every pathspec (5,000 paths in a 100,000-file index took 2.4 s,
# the whole listing 22 ms), and enough of them overflow the argument list.
_PATHSPEC_MOST = 64


def _ls_files(
    repo: pygit2.Repository,
    options: Sequence[str],
    paths: Sequence[str],
    checkout: Checkout | None,
    name_of: Callable[[bytes], bytes],
) -> list[bytes]:
    """The records `git ls-files -z OPTIONS -- PATHS` prints, each path taken as it is
    written (a file, or a directory naming the entries below it); `name_of` finds a
    record's path."""
    if not paths:
        return []
    if len(paths) <= _PATHSPEC_MOST:
        literal = git_env(repo, checkout, GIT_LITERAL_PATHSPECS="1")
        out = run_git(repo, ["ls-files", "-z", *options, "--", *paths], env=literal, checkout=checkout)
        return [item for item in out.split(b"\0") if item]
    wanted = {os.fsencode(path).rstrip(b"/") for path in paths}
    out = run_git(repo, ["ls-files", "-z", *options], checkout=checkout)
    return [item for item in out.split(b"\0") if item and _named(name_of(item), wanted)]


def _named(name: bytes, wanted: set[bytes]) -> bool:
    """Is `name`, or a directory above it, in `wanted`?"""
    while name not in wanted:
        name, slash, _ = name.rpartition(b"/")
        if not slash:
            return False
    return True


def _plain_name(item: bytes) -> bytes:
    """The path of a plain `ls-files` record (the path itself)."""
    return item


def _tagged_name(item: bytes) -> bytes:
    """The path of an `ls-files -t` or `-v` record ("S path")."""
    return item[2:]


def _staged_name(item: bytes) -> bytes:
    """The path of an `ls-files -s` record ("mode id stage<TAB>path")."""
    return item.partition(b"\t")[2]


def in_index(repo: pygit2.Repository, path: str, checkout: Checkout | None = None) -> bool:
    """Does the index have `path`, taken as it is written (`[id].tsx` is a name, not a pattern)?"""
    return bool(_ls_files(repo, ["--cached"], [path], checkout, _plain_name))


def tracked(repo: pygit2.Repository, paths: Sequence[str], checkout: Checkout | None = None) -> list[str]:
    """The index's paths that `paths` name, or that lie below them."""
    return [_fs(item) for item in _ls_files(repo, ["--cached"], paths, checkout, _plain_name)]


def index_paths(repo: pygit2.Repository) -> dict[str, bool]:
    """Every path in the index, mapped to whether it is skip-worktree (sparse checkout)."""
    out = run_git(repo, ["ls-files", "-z", "-t", "--cached"])
    return {_fs(item[2:]): item[:1] == b"S" for item in out.split(b"\0") if item}


def set_index_entries(repo: pygit2.Repository, tree: str, paths: Sequence[str]) -> None:
    """Make the index entries of `paths` what `tree` holds (removed where it has none),
    keeping the skip-worktree bit of sparse-checkout entries."""
    if not paths:
        return
    sparse = [path for path, skip in index_paths(repo).items() if skip and path in set(paths)]
    records = []
    for path in paths:
        found = entry_at(repo, tree, path)
        mode, oid = (f"{found[1]:o}", found[0]) if found else ("0", "0" * 40)
        records.append(f"{mode} {oid}\t".encode() + os.fsencode(path) + b"\0")
    run_git(repo, ["update-index", "-z", "--index-info"], stdin=b"".join(records))
    kept = [path for path in sparse if entry_at(repo, tree, path)]
    if kept:
        run_git(repo, ["update-index", "-z", "--skip-worktree", "--stdin"], stdin=_nul_paths(kept))


def force_from_index(repo: pygit2.Repository, paths: Sequence[str]) -> list[str]:
    """Make the worktree files of `paths` what the index says: checked out through the
    repository's filters where the index has them (skip-worktree ones left alone),
    removed where it does not. Returns the paths git could not check out."""
    workdir = Path(repo.workdir)
    in_index = index_paths(repo)
    present = [path for path in paths if path in in_index and not in_index[path]]
    linked = through_symlinks(workdir, paths)  # (git deletes nothing through a symlink)
    for path in paths:
        if path in in_index or path in linked:
            continue
        target = workdir / path
        if target.is_symlink() or target.is_file():
            target.unlink()
            remove_empty_parents(workdir, target.parent)
    failed: list[str] = []
    if present:
        try:
            run_git(repo, ["checkout-index", "-f", "-u", "-z", "--stdin"], stdin=_nul_paths(present))
        except GitFailed:  # a failing filter: put back what can be, and say which could not
            for path in present:
                try:
                    run_git(repo, ["checkout-index", "-f", "-u", "--", path])
                except GitFailed:
                    failed.append(path)
    return failed


def remove_empty_parents(workdir: Path, directory: Path) -> None:
    while directory != workdir:
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


# -- what `git add` would store -------------------------------------------------


def cleaned(
    repo: pygit2.Repository, paths: Sequence[str], checkout: Checkout | None = None
) -> dict[str, tuple[str, bytes | None]]:
    """For each worktree file in `paths`: the blob id `git add` would store, and its
    bytes when the clean conversion (eol, filters, encoding) changed them (None when
    the stored bytes are the file's own). Nothing is written to the repository:
    git writes the converted objects into a temporary object directory."""
    if not paths:
        return {}
    workdir = Path(checkout.workdir if checkout else repo.workdir)
    converting = _may_convert(repo, paths, checkout)
    # A file nothing converts is stored as its own bytes: its id is theirs, and no git runs
    # for it (writing each as a loose object cost 20,000 file creations for 20,000 files).
    result: dict[str, tuple[str, bytes | None]] = {
        path: (_raw_id(workdir / path), None) for path in paths if path not in converting
    }
    if converting:
        ordered = [path for path in paths if path in converting]
        with tempfile.TemporaryDirectory(prefix="gitplan-clean-") as scratch:
            # No alternate pointing at the repository's objects: git would "freshen" (touch)
            # the packs holding objects it finds there, and a pack gitplan stamped looks
            # used by someone else once touched (prune then keeps it). Once for each file,
            # as git add runs a clean filter once.
            environment = git_env(repo, checkout, GIT_OBJECT_DIRECTORY=scratch)
            hashing = ["hash-object", "-w", "--stdin-paths"]
            out = run_git(repo, hashing, stdin=_lines(ordered), env=environment, checkout=checkout)
            ids = out.decode().split()
            if len(ids) != len(ordered):
                raise GitFailed("git hash-object did not name one object per path")
            result.update(_stored(scratch, workdir, zip(ordered, ids, strict=True)))
    converted = [path for path, (_, data) in result.items() if data is not None]
    result.update(_with_crlf_kept(repo, converted, workdir, checkout))
    return {path: result[path] for path in paths}


def _may_convert(repo: pygit2.Repository, paths: Sequence[str], checkout: Checkout | None) -> set[str]:
    """Those of `paths` whose bytes `git add` may store otherwise: all of them under
    core.autocrlf (true or input); else those with one of the attributes that convert
    (`text` or `text=auto`, `eol`, a `filter`, `ident`, `working-tree-encoding`), as
    `git check-attr` reads them (one git for all the paths)."""
    if _autocrlf(repo):
        return set(paths)
    out = run_git(
        repo, ["check-attr", "-z", "--stdin", *_CONVERTING], stdin=_nul_paths(paths), checkout=checkout
    )
    fields = out.split(b"\0")
    return {
        os.fsdecode(fields[at])
        for at in range(0, len(fields) - 2, 3)  # path, attribute, value
        if fields[at + 2] not in (b"unspecified", b"unset")
    }


def _autocrlf(repo: pygit2.Repository) -> bool:
    """Is core.autocrlf true or input (git's boolean, or "input")?"""
    configured = config_value(repo, "core.autocrlf")
    return configured is not None and (configured.lower() == "input" or git_bool(configured, "core.autocrlf"))


def _raw_id(path: Path) -> str:
    """The blob id of the file's own bytes."""
    return str(pygit2.hashfile(str(path)))


def cleaned_file(repo: pygit2.Repository, path: str, source: str) -> bytes | None:
    """The bytes `git add` would store at `path` for the regular file `source`, or None when
    they are the file's own. Nothing runs when nothing could convert them: no core.autocrlf
    and none of `text`, `eol`, `filter`, `ident`, `working-tree-encoding` for the path. Else
    `git hash-object -w --path` (its eol rules, clean filters and encoding, refusing what
    git add refuses) into a scratch object directory; and where git's "safer autocrlf"
    keeps CRLFs (`text=auto` or core.autocrlf, and CRs in the index's blob), so does this."""
    autocrlf = _autocrlf(repo)
    attributes = {name: _attribute(repo, path, name) for name in _CONVERTING}
    if not autocrlf and all(value is None for value in attributes.values()):
        return None
    source_path = Path(source)
    with tempfile.TemporaryDirectory(prefix="gitplan-clean-") as scratch:
        environment = git_env(repo, None, GIT_OBJECT_DIRECTORY=scratch)  # (see `cleaned`)
        out = run_git(repo, ["hash-object", "-w", f"--path={path}", "--", source], env=environment)
        found = _stored(scratch, source_path.parent, [(source_path.name, out.decode().strip())])
    stored = found[source_path.name][1]
    if stored is None:
        return None
    automatic = attributes["text"] == "auto" or (
        attributes["text"] is None and attributes["eol"] is None and autocrlf
    )
    # git add leaves the CRLFs of a file committed with them
    kept_crlf = (
        automatic
        and _crlf_in_index(repo, path)
        and stored == source_path.read_bytes().replace(b"\r\n", b"\n")
    )
    return None if kept_crlf else stored


_CONVERTING = ("text", "eol", "filter", "ident", "working-tree-encoding")


def _attribute(repo: pygit2.Repository, path: str, name: str) -> object:
    try:
        return repo.get_attr(path, name)
    except (pygit2.GitError, UnicodeError, ValueError):
        return True  # unreadable: as if set, so git decides


def _crlf_in_index(repo: pygit2.Repository, path: str) -> bool:
    try:
        named = index_file(repo)
        entry = (pygit2.Index(named) if named is not None else repo.index)[path]
        return b"\r" in repo.odb.read(str(entry.id))[1]
    except (KeyError, ValueError, pygit2.GitError):
        return False


def _stored(
    objects: str, workdir: Path, ids: Iterable[tuple[str, str]]
) -> dict[str, tuple[str, bytes | None]]:
    """Each path's stored id, and the stored bytes where they are not the file's own
    (read from the loose objects git wrote under `objects`)."""
    result: dict[str, tuple[str, bytes | None]] = {}
    for path, oid in ids:
        if str(pygit2.hashfile(str(workdir / path))) == oid:
            result[path] = (oid, None)
            continue
        result[path] = (oid, loose_object_data(objects, oid))
    return result


def _index_entries(records: Iterable[bytes]) -> Iterator[tuple[bytes, bytes, bytes, bytes]]:
    """(mode, id, stage, path) of each record `git ls-files -s -z` printed."""
    for item in records:
        head, _, name = item.partition(b"\t")
        fields = head.split()
        if len(fields) == 3:
            yield fields[0], fields[1], fields[2], name


def _with_crlf_kept(
    repo: pygit2.Repository, paths: Sequence[str], workdir: Path, checkout: Checkout | None
) -> dict[str, tuple[str, bytes | None]]:
    """What `git add` stores for those of `paths` (files hash-object converted) whose
    index entry holds CRs: git's "safer autocrlf" leaves their CRLFs alone under
    `text=auto` or core.autocrlf, which hash-object (reading no index) does not know.
    git add itself runs on a scratch index holding just those entries, with their
    blobs in a scratch object directory, so nothing of the repository is written
    or freshened."""
    if not paths:
        return {}
    listed = _ls_files(repo, ["-s"], paths, checkout, _staged_name)
    # The entry git add reads: stage 0, or in a merge "ours" (stage 2), as git's
    # read_blob_data_from_index falls back to it.
    chosen: dict[bytes, tuple[bytes, bytes]] = {}
    for mode, oid, stage, name in _index_entries(listed):
        if not mode.startswith(b"100"):
            continue  # a symlink, a submodule: as hash-object said
        if stage == b"0" or (stage == b"2" and name not in chosen):
            chosen[name] = (mode, oid)
    entries = []
    for name, (mode, oid) in chosen.items():
        try:
            kind, data = repo.odb.read(oid.decode())
        except (KeyError, ValueError):
            continue
        if kind == pygit2.enums.ObjectType.BLOB and b"\r" in data:
            entries.append((mode, oid, name, bytes(data)))
    if not entries:
        return {}
    with tempfile.TemporaryDirectory(prefix="gitplan-crlf-") as scratch:
        objects = os.path.join(scratch, "objects")
        for _, oid, _, data in entries:
            directory = os.path.join(objects, oid[:2].decode())
            os.makedirs(directory, exist_ok=True)
            with open(os.path.join(directory, oid[2:].decode()), "wb") as handle:
                handle.write(zlib.compress(b"blob %d\0" % len(data) + data))
        environment = git_env(
            repo, checkout, GIT_OBJECT_DIRECTORY=objects, GIT_INDEX_FILE=os.path.join(scratch, "index"),
            GIT_LITERAL_PATHSPECS="1",
        )  # fmt: skip
        add_config(environment, "core.sparseCheckout", "false")  # the scratch index has no sparse bits
        add_config(environment, "core.fsmonitor", "false")
        # A split or sparse index would put its shared part in the repository's own
        # git directory (sharedindex.<sha>): the scratch index is one plain file.
        add_config(environment, "core.splitIndex", "false")
        add_config(environment, "index.sparse", "false")
        index_info = b"".join(b"%s %s\t%s\0" % (mode, oid, name) for mode, oid, name, _ in entries)
        run_git(repo, ["update-index", "-z", "--add", "--index-info"], stdin=index_info, env=environment,
                checkout=checkout)  # fmt: skip
        # The scratch index holds just these entries: -u adds each of them (naming them
        # all would cost git every name against every entry, and could overflow argv).
        run_git(repo, ["add", "-u"], env=environment, checkout=checkout)
        staged = run_git(repo, ["ls-files", "-s", "-z"], env=environment, checkout=checkout)
        ids = [(_fs(name), oid.decode()) for _, oid, _, name in _index_entries(staged.split(b"\0"))]
        return _stored(objects, workdir, ids)


def _lines(paths: Sequence[str]) -> bytes:
    """One path per line, C-quoted where a newline or a leading quote needs it (git unquotes)."""
    lines = []
    for path in paths:
        raw = os.fsencode(path)
        if b"\n" in raw or raw.startswith(b'"'):
            raw = b'"' + raw.replace(b"\\", b"\\\\").replace(b'"', b'\\"').replace(b"\n", b"\\n") + b'"'
        lines.append(raw + b"\n")
    return b"".join(lines)
