"""What a working tree holds that a tree does not: the edits of a snapshot.

One piece of code finds the edits in a checkout, for three callers:
`record --from-worktree` (the user's worktree against its index), `snapshot`
(a worktree against the plan's tip: what an agent changed since the last
changeset) and `run` (the plan's own worktree after a command ran).

Finding them costs what changed, not the repository: `git status` compares
files by the index's stat data, and only the paths it lists (plus the paths
where the plan's tip differs from the checkout's HEAD) are read and cleaned.
The contents are what `git add` would store (eol rules, clean filters);
ignored files are left out unless named. Nothing is written here.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pygit2

from . import worktree
from .errors import BadInput
from .format import validate_path
from .gitrepo import config_flag, no_work_tree
from .model import MODE_EXECUTABLE, MODE_FILE, MODE_KEEP, MODE_SYMLINK, File, FileOnDisk
from .trees import MODE_TREE, changed_entries, entry_at, under

Contents = File | FileOnDisk | None

STREAM_THRESHOLD = 16 << 20


def worktree_edits(
    repo: pygit2.Repository,
    paths: Sequence[str] = (),
    checkout: worktree.Checkout | None = None,
    against_tree: str | None = None,
    also: Iterable[str] = (),
    skipped: list[str] | None = None,
    refuse_hidden: bool = False,
) -> dict[str, Contents]:
    """The contents of `paths` (or of every path that changed) in a checkout.

    Without `paths`, the changed paths are those `git status` lists against the
    checkout's index (staged and untracked included, submodules and ignored
    files left out); a directory among `paths` (`.` for the whole tree) stands
    for those under it, as `git add DIR` takes them. Also the paths in `also` (what the caller knows changed
    that git status cannot see: files a commit in the checkout took, files an
    earlier snapshot recorded). With `against_tree`, paths whose contents
    equal its entry are dropped: what is left are the edits that bring those
    paths of `against_tree` to what the checkout holds. Any other path is never
    an edit, so a plan's files that the checkout never had are not taken for
    deletions. Paths gitplan cannot record are left out and added to `skipped`. With
    `refuse_hidden`, a named file whose index entry hides its changes from `git add`
    (assume-unchanged, skip-worktree) is refused, as `git add` leaves it out."""
    workdir = checkout.workdir if checkout else repo.workdir
    if workdir is None:
        raise BadInput(f"recording a worktree needs a working tree; {no_work_tree(repo)}")
    named = [path for path in dict.fromkeys(paths) if not _a_directory(Path(workdir), path)]
    directories = [path.strip("/") for path in paths if path not in named]
    gone = [path for path in named if not os.path.lexists(os.path.join(workdir, path))]
    # A directory deleted with all its files: `git add DIR` stages their deletions.
    indexed = worktree.tracked(repo, gone, checkout)
    deleted = [path for path in gone if any(i != path.rstrip("/") and under(i, [path]) for i in indexed)]
    named = [path for path in named if path not in deleted]
    directories += [path.strip("/") for path in deleted]
    edits: dict[str, Contents] = {}
    if directories or not paths:
        # What `git status` lists (under the directories named, as `git add DIR` takes them).
        listed = worktree.status(repo, untracked=True, staged=True, checkout=checkout)
        # "dir/": an untracked repository inside the worktree; gitplan records no gitlinks.
        names = {c.path for c in listed if not c.submodule and not c.path.endswith("/")}
        if directories:
            names = {name for name in names if under(name, directories)}
        else:
            names.update(also)
        if checkout is None:  # a file put outside the user's sparse checkout: git add leaves it out
            names -= worktree.outside_sparse_cone(repo, names)
        edits = read_files(repo, Path(workdir), sorted(names), checkout, listed=True, skipped=skipped)
        # Taken out of the index (`git rm --cached`) and ignored since: `git add -A` leaves it
        # out, so the file on disk is not the path's content; it is deleted.
        untracked = [c.path for c in listed if c.state == "deleted" and edits.get(c.path) is not None]
        edits.update((path, None) for path in worktree.ignored(repo, untracked, checkout))
    if named:
        if refuse_hidden:
            _refuse_hidden(repo, named, checkout)
        if checkout is None:
            _refuse_outside_cone(
                repo, [path for path in named if os.path.lexists(os.path.join(workdir, path))]
            )
        edits.update(read_files(repo, Path(workdir), named, checkout, listed=False, skipped=skipped))
    if against_tree is not None:
        edits = {path: new for path, new in edits.items() if differs(repo, against_tree, path, new)}
    return edits


def _refuse_hidden(repo: pygit2.Repository, paths: Sequence[str], checkout: worktree.Checkout | None) -> None:
    """A named file whose index entry hides its changes from `git add` (a local setting
    marked assume-unchanged or skip-worktree): not recorded, as git add leaves it out."""
    hidden = worktree.hiding_bits(
        repo,
        [
            path
            for path in paths
            if os.path.isfile(os.path.join(str(repo.workdir if checkout is None else checkout.workdir), path))
        ],
        checkout,
    )
    if hidden:
        shown = ", ".join(f"{path} ({bit})" for path, bit in sorted(hidden.items()))
        raise BadInput(
            f"{shown}: the index hides its changes from git status and git add; "
            "`git update-index --no-assume-unchanged --no-skip-worktree PATH` first, to record them"
        )


def _refuse_outside_cone(repo: pygit2.Repository, paths: Sequence[str]) -> None:
    """A named file outside the user's sparse checkout is refused, as `git add` refuses it."""
    outside = sorted(worktree.outside_sparse_cone(repo, paths))
    if outside:
        raise BadInput(
            f"{', '.join(outside)}: outside the sparse-checkout definition, so git add would not "
            "take it; `git sparse-checkout add` its directory first"
        )


def _a_directory(workdir: Path, path: str) -> bool:
    """A directory named to record (`.` for the whole tree), not a submodule's."""
    if path in ("", "."):
        return True
    full = workdir / path
    return full.is_dir() and not full.is_symlink() and not (full / ".git").exists()


def touched_edits(
    repo: pygit2.Repository,
    checkout: worktree.Checkout,
    tree: str,
    touched: set[str],
    skipped: list[str] | None = None,
) -> dict[str, Contents]:
    """The edits among the paths a watcher saw touched in a checkout of `tree` that was
    clean when the watch began: what `worktree_edits` finds, without a `git status`.

    A touched directory stands for every file in it now and every file the tree
    had in it; new paths that the ignore rules exclude are left out, as are nested
    repositories and the worktree's own `.git` file."""
    workdir = Path(checkout.workdir)
    candidates: set[str] = set()
    for path in touched:
        if ".git" in path.split("/"):
            continue
        full = workdir / path
        directory = full.is_dir() and not full.is_symlink()
        # A repository the command made is left out, as git add leaves it.
        if directory and not (full / ".git").exists():
            candidates.update(_files_under(workdir, path))
        found = entry_at(repo, tree, path)
        if found is not None and found[1] == MODE_TREE:
            candidates.update(f"{path}/{entry.path}" for entry in changed_entries(repo, found[0], None))
        was_directory = found is not None and found[1] == MODE_TREE
        exists = full.exists() or full.is_symlink()
        if directory and found is not None and not was_directory:
            candidates.add(path)  # a file of the tree that is a directory now: deleted
        elif not directory and (exists or not was_directory):
            candidates.add(path)  # a file or symlink now (perhaps where a directory was), or gone
    new = [path for path in candidates if entry_at(repo, tree, path) is None]
    candidates.difference_update(worktree.ignored(repo, new, checkout))
    edits = read_files(repo, workdir, sorted(candidates), checkout, listed=True, skipped=skipped)
    return {path: new for path, new in edits.items() if differs(repo, tree, path, new)}


def named_paths(
    repo: pygit2.Repository,
    workdir: Path,
    tree: str,
    paths: Sequence[str],
    checkout: worktree.Checkout | None = None,
) -> list[str]:
    """Paths a tool named, as files: a directory stands for the files in it now and
    those `tree` has in it; a new path the ignore rules exclude (a `.env`) is dropped."""
    found: set[str] = set()
    for path in paths:
        full = workdir / path
        entry = entry_at(repo, tree, path)
        if full.is_dir() and not full.is_symlink():
            found.update(_files_under(workdir, path))
        else:
            found.add(path)
        if entry is not None and entry[1] == MODE_TREE:
            found.update(f"{path}/{item.path}" for item in changed_entries(repo, entry[0], None))
    new = [path for path in found if entry_at(repo, tree, path) is None]
    return sorted(found - worktree.ignored(repo, new, checkout))


def _files_under(workdir: Path, directory: str) -> list[str]:
    """Files and symlinks below a directory of the worktree, not descending into nested
    repositories (git status lists one of those as a single untracked entry)."""
    found: list[str] = []
    for top, dirs, files in os.walk(workdir / directory):
        relative = Path(top).relative_to(workdir).as_posix()
        links = [name for name in dirs if Path(top, name).is_symlink()]
        dirs[:] = [
            name
            for name in dirs
            if name not in links and name != ".git" and not Path(top, name, ".git").exists()
        ]
        found.extend(f"{relative}/{name}" for name in [*files, *links] if name != ".git")
    return found


def read_files(
    repo: pygit2.Repository,
    workdir: Path,
    paths: Sequence[str],
    checkout: worktree.Checkout | None = None,
    listed: bool = False,
    skipped: list[str] | None = None,
) -> dict[str, Contents]:
    """Each path's contents as `git add` would store them (None: no file there).

    Paths the user named are refused when they cannot be recorded (a submodule,
    a path inside a submodule or behind a symlink, a name gitplan refuses).
    Paths found by looking (`listed`) are taken as the checkout has them: a
    directory, or a path below a file or symlink, is a file that is gone (the
    files in it are listed on their own); a name gitplan refuses is left out
    and added to `skipped` (refused when there is no `skipped`)."""
    changes: dict[str, Contents] = {}
    regular: list[str] = []
    looks = _Looks(workdir)  # (each directory on the way looked at once, for all the paths)
    for path in paths:
        try:
            validate_path(path)
        except BadInput:
            if not listed or skipped is None:
                raise
            skipped.append(path)
            continue
        if listed and looks.file_above(path) is not None:
            changes[path] = None
            continue
        looks.refuse_inside_submodule(path)
        mode = looks.mode(path) or 0  # (0: nothing there)
        if stat.S_ISLNK(mode):
            changes[path] = File(os.fsencode(os.readlink(workdir / path)), MODE_SYMLINK)
        elif stat.S_ISREG(mode):
            regular.append(path)
        elif stat.S_ISDIR(mode) and listed:
            changes[path] = None
        elif stat.S_ISDIR(mode):  # a named directory is expanded before (worktree_edits): a submodule
            raise BadInput(f"{path} is a submodule; gitplan records files, not submodule commits")
        elif not listed and mode:  # a FIFO, a socket, a device
            raise BadInput(f"{path}: can only record regular files and symbolic links, as git add")
        elif (
            not listed and any(char in path for char in "*?[") and not worktree.in_index(repo, path, checkout)
        ):
            raise BadInput(
                f"{path}: no such file; --from-worktree takes paths (files or directories), not patterns"
            )
        else:
            changes[path] = None
    if listed:
        # A file not checked out (skip-worktree: outside a sparse checkout) is not deleted,
        # as git status does not call it deleted: a command that wrote into its directory
        # left it where it was.
        gone = [
            path
            for path, contents in changes.items()
            if contents is None and not os.path.lexists(workdir / path)
        ]
        for path in worktree.skip_worktree(repo, gone, checkout):
            del changes[path]
    named_missing = [path for path, contents in changes.items() if contents is None and not listed]
    outside = worktree.skip_worktree(repo, named_missing, checkout)
    if outside:
        raise BadInput(
            f"{', '.join(outside)}: outside the sparse-checkout definition (not checked out), "
            "so not in the working tree to record; `git sparse-checkout add` its directory first"
        )
    # With core.fileMode false, git add keeps a file's mode whatever its executable bit says.
    honoured = config_flag(repo, "core.fileMode", True)
    # With core.symlinks false, a symlink is checked out as a file holding its target, and
    # git add keeps such a file a symlink where the index has one.
    links = (
        set()
        if config_flag(repo, "core.symlinks", True)
        else worktree.symlinks_in_index(repo, regular, checkout)
    )
    for path, (_, converted) in worktree.cleaned(repo, regular, checkout).items():
        on_disk = file_contents(os.path.join(workdir, path))
        found = on_disk if converted is None else File(converted, on_disk.mode)
        if path in links:
            changes[path] = File(
                bytes(found.data) if isinstance(found, File) else Path(found.source).read_bytes(),
                MODE_SYMLINK,
            )
        else:
            changes[path] = found if honoured else replace(found, mode=MODE_KEEP)
    return {path: changes[path] for path in paths if path in changes}


def differs(repo: pygit2.Repository, tree: str, path: str, contents: Contents) -> bool:
    """Do `contents` (None: no file) differ from what `tree` holds at `path`?"""
    found = entry_at(repo, tree, path)
    if contents is None:
        return found is not None
    if found is None:
        return True
    oid, mode = found
    # MODE_KEEP (core.fileMode false) keeps a file's mode: only the contents can differ.
    kept = contents.mode == MODE_KEEP and mode in (MODE_FILE, MODE_EXECUTABLE)
    if not kept and mode != contents.mode:
        return True
    if isinstance(contents, FileOnDisk):
        return str(pygit2.hashfile(contents.source)) != oid
    return str(pygit2.hash(bytes(contents.data))) != oid


class _Looks:
    """What the worktree has at paths and at the directories on the way to them, each
    looked at once (a sweep of 20,000 files in one directory looks at it once, not 20,000
    times)."""

    def __init__(self, workdir: Path) -> None:
        self._top = f"{workdir}{os.sep}"
        self._modes: dict[str, int | None] = {}
        self._repositories: dict[str, bool] = {}

    def mode(self, path: str) -> int | None:
        """The path's own mode (lstat: a symlink is a symlink), or None where nothing is."""
        if path not in self._modes:
            try:
                self._modes[path] = os.lstat(self._top + path).st_mode
            except (OSError, ValueError):
                self._modes[path] = None
        return self._modes[path]

    def file_above(self, path: str) -> str | None:
        """worktree.file_above: the nearest directory of `path` that is a file or a symlink."""
        parts = path.split("/")
        for depth in range(1, len(parts)):
            above = "/".join(parts[:depth])
            mode = self.mode(above)
            if mode is None:
                return None
            if not stat.S_ISDIR(mode):  # (a symlink too: lstat)
                return above
        return None

    def refuse_inside_submodule(self, path: str) -> None:
        """As `git add` does, refuse a path inside a submodule's checkout (or behind a symlink)."""
        parts = path.split("/")
        for depth in range(1, len(parts)):
            above = "/".join(parts[:depth])
            mode = self.mode(above)
            if mode is not None and stat.S_ISLNK(mode):
                raise BadInput(f"{path} is beyond a symbolic link ({above})")
            if above not in self._repositories:
                self._repositories[above] = os.path.exists(f"{self._top}{above}/.git")
            if self._repositories[above]:
                raise BadInput(f"{path} is in submodule '{above}': record it in that repository")


def file_contents(source: str) -> File | FileOnDisk:
    """A file's contents for record: in memory, or streamed from disk when large. Its mode
    is executable where its owner may run it, as `git add` reads it (worktree.is_executable)."""
    with reading(source):
        found = os.stat(source)
        mode = MODE_EXECUTABLE if found.st_mode & stat.S_IXUSR else MODE_FILE
        if found.st_size >= STREAM_THRESHOLD:
            return FileOnDisk(source, mode)
        with open(source, "rb") as handle:
            return File(handle.read(), mode)


def read_source(source: str) -> bytes:
    """The bytes of a file named on the command line; BadInput saying why it cannot be read."""
    with reading(source):
        return Path(source).read_bytes()


@contextlib.contextmanager
def reading(source: str) -> Iterator[None]:
    """The operating system's reasons for not reading `source`, as BadInput."""
    try:
        yield
    except FileNotFoundError:
        raise BadInput(f"no such file: {source}") from None
    except IsADirectoryError:
        raise BadInput(f"{source} is a directory") from None
    except OSError as error:
        raise BadInput(f"cannot read {source}: {error.strerror}") from None
