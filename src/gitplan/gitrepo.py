"""Opening a repository and the small plumbing helpers every piece shares.

Only the git layer (this module and its siblings named in docs/architecture.md)
imports pygit2. Nothing here writes refs, the index or the working tree.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import re
import shlex
import shutil
import struct
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pygit2

from . import clock, permissions
from .errors import BadInput, Damaged, NoRepository, PlanNotFound
from .format import COMMITTER_EMAIL, COMMITTER_NAME
from .gitvalues import c_number, git_bool
from .objects import Person

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def open_repository(path: str | os.PathLike[str] = ".", environment: bool = True) -> pygit2.Repository:
    """Open the repository git would use from `path` (bare or not); refuse what libgit2
    cannot read.

    As git does: `GIT_DIR` names the repository instead of searching upward from
    `path` (a `.git` file naming one, as a linked worktree or a submodule has, is
    followed); `GIT_WORK_TREE` (or `core.worktree`) names the working tree; with
    `GIT_DIR` alone, `path` itself is the top of the working tree. Relative values are
    taken from `path` (git applies them after `-C`). A repository found by searching
    must belong to the user or be named by safe.directory, and from inside its git
    directory it has no working tree. `GIT_ALTERNATE_OBJECT_DIRECTORIES` lends objects
    to read. `GIT_INDEX_FILE` names the index of the working tree (index_file). Without
    `environment` those variables are ignored: the repository is the one `path` is in."""
    start = os.fspath(path)
    if not os.path.exists(start):
        raise NoRepository(f"no such directory: {start}")
    git_dir = os.environ.get("GIT_DIR") if environment else None
    work_tree = os.environ.get("GIT_WORK_TREE") if environment else None
    found = _named_git_dir(start, git_dir) if git_dir else _discovered_git_dir(start)
    _refuse_unsupported(Path(found))
    if environment:
        _refuse_other_object_directory(start, found)
    _read_objects_as_git_does()
    _read_config_as_git_does()
    repo = _opened(found)
    if not git_dir:
        _refuse_dubious_ownership(repo, start)
    if work_tree:
        repo.workdir = os.path.abspath(os.path.join(start, work_tree))
    elif git_dir and not repo.is_bare and config_value(repo, "core.worktree") is None:
        repo.workdir = os.path.abspath(start)
    elif not git_dir and not repo.is_bare and _inside(start, found):
        if config_value(repo, "core.worktree") is None:
            repo = _opened(found, bare=True)  # as in git: no work tree inside the git directory
    elif not git_dir and not repo.is_bare:
        top = _gitfile_top(start, found)
        if top is not None and os.path.realpath(repo.workdir) != os.path.realpath(top):
            repo.workdir = top  # `git init --separate-git-dir`: libgit2 guessed the git dir's parent
    _lend_objects(repo, _borrowed_object_directories(start) if environment else ())
    if environment:
        use_index_file(repo, _index_file_named(repo, start))
    permissions.remember(common_dir(repo), config_value(repo, "core.sharedRepository"))  # (BadInput)
    return repo


def _named_git_dir(start: str, git_dir: str) -> str:
    """The git directory GIT_DIR names (taken from `start`): a directory, or a `.git` file
    ("gitdir: PATH") naming one, which git follows."""
    named = os.path.abspath(os.path.join(start, git_dir))
    found = _gitfile_target(named) if os.path.isfile(named) else named
    if found is None or not os.path.exists(os.path.join(found, "HEAD")):
        raise NoRepository(f"not a git repository: GIT_DIR={git_dir}")
    return found


def _discovered_git_dir(start: str) -> str:
    """The git directory git finds searching upward from `start`, as far as
    GIT_CEILING_DIRECTORIES and GIT_DISCOVERY_ACROSS_FILESYSTEM let it."""
    across = os.environ.get("GIT_DISCOVERY_ACROSS_FILESYSTEM", "").lower() in ("1", "true", "yes", "on")
    ceilings = os.environ.get("GIT_CEILING_DIRECTORIES", "")
    discovered = pygit2.discover_repository(start, across, ceilings)
    if discovered is None:
        raise NoRepository(f"not a git repository (or any parent up to /): {start}")
    return discovered


def _opened(git_dir: str, bare: bool = False) -> pygit2.Repository:
    """libgit2's handle on `git_dir` (with no working tree when `bare`).

    Ownership is checked where git checks it (_refuse_dubious_ownership: a repository
    found by searching, with safe.directory from `git -c` too, which libgit2 cannot
    read), so libgit2's own check, which also refuses what GIT_DIR names, is off
    while it opens."""
    option = pygit2.enums.Option
    with _OWNER_CHECK_TOGGLE:  # threads opening at once would restore each other's "off"
        validating = pygit2.option(option.GET_OWNER_VALIDATION)
        pygit2.option(option.SET_OWNER_VALIDATION, 0)
        try:
            flags = pygit2.enums.RepositoryOpenFlag
            return pygit2.Repository(git_dir, flags.BARE if bare else flags.DEFAULT)
        except pygit2.GitError as error:
            raise Damaged(f"cannot open the repository at {git_dir}: {error}") from None
        finally:
            pygit2.option(option.SET_OWNER_VALIDATION, validating)


_OWNER_CHECK_TOGGLE = threading.Lock()


def _inside(start: str, git_dir: str) -> bool:
    """Is `start` the git directory `git_dir` or below it?"""
    here, there = os.path.realpath(start), os.path.realpath(git_dir)
    return here == there or here.startswith(os.path.join(there, ""))


def _gitfile_top(start: str, git_dir: str) -> str | None:
    """The directory whose `.git` file ("gitdir: ...") names `git_dir`, found upward from
    `start`; None when a `.git` directory comes first, or no `.git` at all."""
    found = _dot_git_above(start)
    if found is None or not found.is_file():
        return None
    named = _gitfile_target(str(found))
    same = named is not None and os.path.realpath(named) == os.path.realpath(git_dir)
    return str(found.parent) if same else None


def _dot_git_above(start: str) -> Path | None:
    """The first `.git` (directory or file) in `start` or a directory above it."""
    here = Path(start).absolute()
    return next((top / ".git" for top in (here, *here.parents) if (top / ".git").exists()), None)


def _gitfile_target(gitfile: str) -> str | None:
    """The git directory a `.git` file names ("gitdir: PATH", relative to the file's own
    directory), or None when the file does not read so."""
    try:
        text = os.fsdecode(Path(gitfile).read_bytes())
    except OSError:
        return None
    if not text.startswith("gitdir: "):
        return None
    return os.path.join(os.path.dirname(gitfile), text.removeprefix("gitdir: ").rstrip("\r\n"))


def _refuse_dubious_ownership(repo: pygit2.Repository, start: str) -> None:
    """Refuse, as git does (exit as for no repository), a repository found by searching
    from `start` that another user owns (its top, its `.git` file or its git directory),
    unless safe.directory names its top (its git directory when found from inside it),
    or is `*`, in the system, global or `git -c` config. git checks nothing of what
    GIT_DIR names."""
    git_dir = os.path.normpath(repo.path)
    dot_git = None if _inside(start, git_dir) else _dot_git_above(start)
    top = None if dot_git is None else str(dot_git.parent)
    gitfile = str(dot_git) if dot_git is not None and dot_git.is_file() else None
    if all(_owned_by_user(path) for path in (gitfile, top, git_dir) if path is not None):
        return
    where = os.path.realpath(top or git_dir)
    if _named_safe(repo, where):
        return
    raise NoRepository(
        f"detected dubious ownership in repository at '{where}'\n"
        "To add an exception for this directory, call:\n\n"
        f"\tgit config --global --add safe.directory {shlex.quote(where)}"
    )


def _owned_by_user(path: str) -> bool:
    """Does the user running gitplan own `path` (under sudo, the user who ran sudo), as git asks?"""
    user = os.geteuid()
    lent = os.environ.get("SUDO_UID", "")
    if user == 0 and lent.isdigit():
        user = int(lent)
    try:
        return os.lstat(path).st_uid == user
    except OSError:
        return False


_PROTECTED = frozenset(
    {
        pygit2.enums.ConfigLevel.PROGRAMDATA,
        pygit2.enums.ConfigLevel.SYSTEM,
        pygit2.enums.ConfigLevel.XDG,
        pygit2.enums.ConfigLevel.GLOBAL,
    }
)


def _named_safe(repo: pygit2.Repository, where: str) -> bool:
    """Do the safe.directory settings git trusts (system, global, then `git -c`; never the
    repository's own) end up naming `where`? `*` names every directory, an empty value
    forgets those before it."""
    entries = [entry for entry in repo.config if entry.name == "safe.directory" and entry.level in _PROTECTED]
    values = [entry.value for entry in sorted(entries, key=lambda entry: entry.level)]
    values += command_line_config().get("safe.directory", ())
    safe = False
    for value in values:
        if not value:
            safe = False
        elif value == "*" or os.path.realpath(os.path.expanduser(value)) == where:
            safe = True
    return safe


def _refuse_other_object_directory(start: str, git_dir: str) -> None:
    """Refuse GIT_OBJECT_DIRECTORY naming a directory other than the repository's own
    objects: gitplan writes its packs there and prunes them there, and refs it moved
    to objects kept elsewhere (a push's quarantine, which git drops) would dangle."""
    named = os.environ.get("GIT_OBJECT_DIRECTORY")
    own = common_dir_of(git_dir) / "objects"
    if named and os.path.realpath(os.path.join(start, named)) != os.path.realpath(own):
        raise BadInput(
            f"GIT_OBJECT_DIRECTORY={named} is not this repository's object directory ({own}): "
            "gitplan keeps a plan's objects in the repository's own; unset it "
            "(GIT_ALTERNATE_OBJECT_DIRECTORIES lends objects to read)"
        )


def _borrowed_object_directories(start: str) -> tuple[str, ...]:
    """The object directories GIT_ALTERNATE_OBJECT_DIRECTORIES names, as git reads it:
    separated by colons, an entry starting with a double quote C-quoted, relative ones
    taken from `start`, those that are no directory left out (git warns of them)."""
    found = []
    for entry in _alternate_entries(os.environ.get("GIT_ALTERNATE_OBJECT_DIRECTORIES", "")):
        directory = os.path.realpath(os.path.join(start, entry))
        if os.path.isdir(directory) and directory not in found:
            found.append(directory)
    return tuple(found)


def _alternate_entries(text: str) -> list[str]:
    """A colon-separated list of paths, as git parses it (parse_alt_odb_entry): an entry
    that starts with a double quote is C-quoted, one that starts with `#` is a comment."""
    entries = []
    at = 0
    while at < len(text):
        if text.startswith('"', at):
            from .diffs import unquote  # (rarely needed: a path holding a colon)

            close = _quoted_end(text, at)
            entry, end = unquote(text[at:close]), text.find(":", close)
        else:
            end = text.find(":", at)
            entry = text[at:] if end < 0 else text[at:end]
        if entry and not entry.startswith("#"):
            entries.append(entry)
        at = len(text) if end < 0 else end + 1
    return entries


def _quoted_end(text: str, at: int) -> int:
    """Where the C-quoted string starting at text[at] ends: just after its closing quote."""
    scan = at + 1
    while scan < len(text) and text[scan] != '"':
        scan += 2 if text[scan] == "\\" else 1
    return min(scan + 1, len(text))


_borrowed: dict[str, tuple[str, ...]] = {}  # common directory + os.sep -> object directories lent


def _lend_objects(repo: pygit2.Repository, directories: tuple[str, ...]) -> None:
    """Let `repo` read the objects of `directories` (GIT_ALTERNATE_OBJECT_DIRECTORIES), and
    remember them for the handles `reopened` makes and the git commands gitplan runs."""
    key = os.path.join(os.path.normpath(common_dir(repo)), "")
    if directories:
        _borrowed[key] = directories
    else:
        _borrowed.pop(key, None)
    for directory in directories:
        repo.odb.add_disk_alternate(directory)


def borrowed_object_directories(repo: pygit2.Repository) -> tuple[str, ...]:
    """The object directories GIT_ALTERNATE_OBJECT_DIRECTORIES lent `repo` when it was
    opened (absolute paths), for the git commands gitplan runs on it."""
    return _borrowed.get(os.path.join(os.path.normpath(common_dir(repo)), ""), ())


def alternates_variable(directories: Iterable[str]) -> str:
    """Object directories as GIT_ALTERNATE_OBJECT_DIRECTORIES lists them: separated by
    colons, each C-quoted when it holds a colon or starts with a quote, as git reads them."""
    return ":".join(_alternate_entry(directory) for directory in directories)


def _alternate_entry(path: str) -> str:
    if ":" not in path and not path.startswith('"'):
        return path
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


def no_work_tree(repo: pygit2.Repository) -> str:
    """Why `repo` has no working tree, for a refusal: it is bare, or it was opened from
    inside its git directory, where git has none either."""
    if config_flag(repo, "core.bare", True):
        return "this repository is bare"
    return "the current directory is inside the git directory, where git has none either"


@functools.cache
def _read_objects_as_git_does() -> None:
    """Stop libgit2 from hashing every object it reads to compare the result with the id.

    git does not do it either: a read object is checked by zlib's own checksum, and
    ids by `git fsck`. Objects that arrive from elsewhere are hashed as they land
    (`git index-pack`, gitplan's fetch quarantine), so an object never has an id its
    content does not give. The check is a third of reading a tree from a pack
    (SHA-1 with collision detection, 13 us of 40 for a 3.5 KB tree). It is a
    process-wide libgit2 setting: a program that opens a store reads without it too."""
    pygit2.option(pygit2.enums.Option.ENABLE_STRICT_HASH_VERIFICATION, 0)


_config_files_read: tuple[str | None, str | None, bool] = (None, None, False)


def _read_config_as_git_does() -> None:
    """Make libgit2 read the global and system config files git reads.

    git takes `GIT_CONFIG_GLOBAL` for the global file (reading neither ~/.gitconfig nor
    ~/.config/git/config then), `GIT_CONFIG_SYSTEM` for /etc/gitconfig, and reads no system
    file under `GIT_CONFIG_NOSYSTEM`; libgit2 knows none of them and looks by name in its
    search paths. So the search paths are pointed at private directories holding links
    with the names libgit2 looks for (or at none). Search paths are process-wide, as the
    variables are; they are set again only when the variables change, and given back to
    libgit2's own when the variables go."""
    global _config_files_read
    wanted = (
        os.environ.get("GIT_CONFIG_GLOBAL"),
        os.environ.get("GIT_CONFIG_SYSTEM"),
        git_bool(os.environ.get("GIT_CONFIG_NOSYSTEM") or "false", "GIT_CONFIG_NOSYSTEM", "value"),
    )
    if wanted == _config_files_read:
        return
    global_file, system_file, no_system = wanted
    levels = pygit2.enums.ConfigLevel
    paths: dict[pygit2.enums.ConfigLevel, str | None] = dict.fromkeys(
        (levels.GLOBAL, levels.XDG, levels.SYSTEM)  # None: libgit2's own ($HOME, read again)
    )
    if global_file is not None:
        paths[levels.GLOBAL] = _directory_holding(".gitconfig", global_file)
        paths[levels.XDG] = _xdg_without_config()
    if no_system or system_file is not None:
        paths[levels.SYSTEM] = _directory_holding("gitconfig", "" if no_system else system_file)
    for level, path in paths.items():
        pygit2.settings.search_path[level] = path  # type: ignore[assignment]  # (None is allowed)
    _config_files_read = wanted


_NOWHERE = os.path.join(os.devnull, "gitplan")  # a directory that cannot exist: no file there


def _directory_holding(name: str, target: str | None) -> str:
    """A directory where the file called `name` is `target`: none for an empty `target`
    (or /dev/null), `target`'s own when it has that name, else a private one with a link."""
    if not target or target == os.devnull:
        return _NOWHERE
    target = os.path.abspath(target)
    if os.path.basename(target) == name:
        return os.path.dirname(target)
    return _linking(((name, target),))


def _xdg_without_config() -> str | None:
    """libgit2's XDG search path with git's XDG config file hidden (GIT_CONFIG_GLOBAL
    replaces it) but not the attributes and ignore files beside it, which git still
    reads: libgit2's own path when there is no such config file."""
    home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    directory = os.path.join(home, "git")
    if not os.path.exists(os.path.join(directory, "config")):
        return None
    return _linking(tuple((name, os.path.join(directory, name)) for name in ("attributes", "ignore")))


@functools.cache
def _linking(links: tuple[tuple[str, str], ...]) -> str:
    """A private directory (one per process for each set of links, removed at exit) where
    each name links to its target."""
    directory = tempfile.mkdtemp(prefix="gitplan-config-")
    atexit.register(shutil.rmtree, directory, True)
    for name, target in links:
        os.symlink(target, os.path.join(directory, name))
    return directory


def reopened(repo: pygit2.Repository) -> pygit2.Repository:
    """The same repository, working tree (or none) and index, in a new libgit2 object
    (fresh pack list) that reads the same borrowed objects."""
    again = _opened(repo.path, bare=repo.workdir is None)
    if repo.workdir and again.workdir != repo.workdir:
        again.workdir = repo.workdir
    for directory in borrowed_object_directories(repo):
        again.odb.add_disk_alternate(directory)
    use_index_file(again, index_file(repo))
    return again


# The repositories opened with GIT_INDEX_FILE naming another index than their own.
_index_files: weakref.WeakKeyDictionary[pygit2.Repository, str] = weakref.WeakKeyDictionary()


def index_file(repo: pygit2.Repository) -> str | None:
    """The index file git uses for `repo`'s working tree instead of `<git dir>/index`, an
    absolute path: GIT_INDEX_FILE's when the repository was opened (a `git commit` hook's
    temporary index, a tool's own). None for the usual index: libgit2's `repo.index` and
    git run with no GIT_INDEX_FILE read that one."""
    return _index_files.get(repo)


def use_index_file(repo: pygit2.Repository, path: str | None) -> None:
    """Make `path` (absolute; None: `<git dir>/index`) the index of `repo`'s working tree."""
    if path is None:
        _index_files.pop(repo, None)
    else:
        _index_files[repo] = path


def _index_file_named(repo: pygit2.Repository, start: str) -> str | None:
    """The index GIT_INDEX_FILE names, as git finds it: a relative path from the top of the
    working tree, where git goes before it reads the index (from `start` in a bare
    repository, where it goes nowhere). None when the variable is unset or empty (git
    would read an index named "", which cannot exist), or names `<git dir>/index` itself
    (a plain `git commit`'s hooks get `.git/index`)."""
    named = os.environ.get("GIT_INDEX_FILE")
    if not named:
        return None
    path = os.path.abspath(os.path.join(repo.workdir or start, named))
    if os.path.realpath(path) == os.path.realpath(os.path.join(repo.path, "index")):
        return None
    return path


class Aside:
    """The repository in a second libgit2 handle (`repo`) that reads every object the
    repository holds but writes new ones into a temporary directory (see writes_aside)."""

    def __init__(self, repo: pygit2.Repository, scratch: str) -> None:
        self.repo = reopened(repo)
        self._written = pygit2.OdbBackendLoose(scratch, 1, False)
        # The highest priority: libgit2 writes into the first backend that can write.
        self.repo.odb.add_backend(self._written, 1000)

    def keep(self, into: pygit2.Repository) -> None:
        """Write every object written aside into the repository `into`."""
        for oid in self._written:
            kind, data = self._written.read(oid)
            write_object(into, kind, data)


@contextlib.contextmanager
def writes_aside(repo: pygit2.Repository) -> Iterator[Aside]:
    """Objects written through the Aside's handle go to a temporary directory, removed
    when the block ends; `keep` writes them into the repository first.

    A check computes what an apply would write (libgit2's merge writes the blobs it
    merges, a replay the trees of each step) without leaving any of it behind, and an
    apply refused while its outcome is computed leaves nothing either."""
    with tempfile.TemporaryDirectory(prefix="gitplan-aside-") as scratch:
        yield Aside(repo, scratch)


class PackDirectory:
    """Tells whether any of the packs seen in `objects/pack` has gone since the last look.
    A look costs one stat, and a directory listing only when the directory changed."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self._path = common_dir(repo) / "objects" / "pack"
        self._stamp = self._stamp_now()
        self._names = self._names_now()

    def lost_some(self) -> bool:
        stamp = self._stamp_now()
        if stamp == self._stamp:
            return False
        names = self._names_now()
        lost = bool(self._names - names)
        self._stamp, self._names = stamp, names
        return lost

    def _stamp_now(self) -> int:
        try:
            return os.stat(self._path).st_mtime_ns
        except OSError:
            return 0

    def _names_now(self) -> set[str]:
        try:
            return {entry.name for entry in os.scandir(self._path) if entry.name.endswith(".idx")}
        except OSError:
            return set()


def worktree_prefix(repo: pygit2.Repository, start: str | os.PathLike[str]) -> str:
    """Where `start` is inside the working tree, as git's prefix: "" at the top,
    "sub/dir/" below it, and "" when outside it or in a bare repository."""
    if not repo.workdir:
        return ""
    relative = os.path.relpath(os.path.realpath(start), os.path.realpath(repo.workdir))
    if relative == "." or relative == ".." or relative.startswith("../"):
        return ""
    return relative.replace(os.sep, "/") + "/"


def write_object(repo: pygit2.Repository, kind: int, data: bytes) -> pygit2.Oid:
    """Write one object into the repository (libgit2 writes it loose unless it has it),
    with the permissions git gives objects in a shared repository."""
    oid = repo.odb.write(kind, data)
    name = str(oid)
    permissions.widen(common_dir(repo) / "objects" / name[:2] / name[2:])
    return oid


def common_dir(repo: pygit2.Repository) -> Path:
    """The directory holding objects, refs and logs, also when `repo` is a linked worktree."""
    return _common_dir(repo.path)


def common_dir_of(git_dir: str) -> Path:
    """common_dir of the repository whose git directory is `git_dir`."""
    return _common_dir(git_dir)


@functools.lru_cache(maxsize=64)
def _common_dir(git_dir: str) -> Path:
    own = Path(git_dir)
    pointer = own / "commondir"
    if pointer.is_file():
        return (own / pointer.read_text().strip()).resolve()
    return own


def _refuse_unsupported(git_dir: Path) -> None:
    """Say plainly when libgit2 cannot read this kind of repository at all."""
    config = _common_dir(str(git_dir)) / "config"
    try:
        text = config.read_text(errors="replace").lower()
    except OSError:
        return
    settings = {line.replace(" ", "").replace("\t", "") for line in text.splitlines()}
    if "refstorage=reftable" in settings:
        raise BadInput(
            f"{git_dir} uses the reftable ref backend, which libgit2 (and so gitplan) "
            "cannot read yet; convert it with `git refs migrate --ref-format=files`"
        )
    if "objectformat=sha256" in settings:
        raise BadInput(
            f"{git_dir} uses SHA-256 object ids, which libgit2 (and so gitplan) cannot read yet; "
            "gitplan works in SHA-1 repositories (`git init --object-format=sha1`, git's default)"
        )


def user_signature(repo: pygit2.Repository, role: str = "author") -> pygit2.Signature:
    """The user's identity for a commit apply makes, found as git finds it:
    GIT_AUTHOR_NAME / GIT_COMMITTER_NAME, then author.name / committer.name, then
    user.name (emails likewise, then EMAIL), at GIT_AUTHOR_DATE / GIT_COMMITTER_DATE."""
    upper = role.upper()
    name = os.environ.get(f"GIT_{upper}_NAME") or _config(repo, f"{role}.name") or _config(repo, "user.name")
    email = (
        os.environ.get(f"GIT_{upper}_EMAIL")
        or _config(repo, f"{role}.email")
        or _config(repo, "user.email")
        or os.environ.get("EMAIL")
    )
    if not name or not email:
        # What git makes of the rest (the account's full name, user@host), or its refusal
        # (user.useConfigOnly, or an address it cannot work out): git's own answer.
        known = _ident_by_git(repo, role)
        if known is None:
            missing = " and ".join(w for w, v in (("user.name", name), ("user.email", email)) if not v)
            verb = "are" if not name and not email else "is"
            raise BadInput(
                f"apply makes a commit and git does not know who you are ({missing} {verb} not set): "
                'run `git config --global user.name "Your Name"` and '
                "`git config --global user.email you@example.com`"
            )
        name, email = name or known[0], email or known[1]
    return pygit2.Signature(name, email, *clock.now(f"GIT_{upper}_DATE"))


def _ident_by_git(repo: pygit2.Repository, role: str) -> tuple[str, str] | None:
    """The name and email `git var GIT_AUTHOR_IDENT` (or COMMITTER) gives, None when git
    refuses, as it refuses to commit, or is not there."""
    try:
        done = subprocess.run(
            ["git", "var", f"GIT_{role.upper()}_IDENT"],
            cwd=repo.workdir or repo.path,
            capture_output=True,
            check=False,
        )
    except OSError:
        return None
    found = re.match(rb"(.*) <(.*)> \d+ [+-]\d{4}$", done.stdout.strip())
    if done.returncode != 0 or found is None or not found.group(1).strip():
        return None
    return found.group(1).decode("utf-8", "replace"), found.group(2).decode("utf-8", "replace")


def config_flag(repo: pygit2.Repository, key: str, default: bool) -> bool:
    """A boolean of git config (`true`, `yes`, `on`, `1`...), or `default` when unset.
    A value git cannot read as a boolean is refused (BadInput), as git refuses it."""
    given = command_line_config().get(_canonical(key), ())
    if given:
        return git_bool(given[-1], key)
    found = _read_by_git_of(repo, key)
    if found is not None:
        return default if not found else git_bool(found[-1], key)
    try:
        return bool(repo.config.get_bool(key))
    except KeyError:
        return default
    except (ValueError, pygit2.GitError):
        return git_bool(config_value(repo, key), key)  # refuses it, naming the value


def config_value(repo: pygit2.Repository, key: str) -> str | None:
    """A git config value as git reads it for this repository: `git -c` (and
    GIT_CONFIG_COUNT) first, then the config files; None when unset. A key given
    without a value (`git -c key`) reads as "true"."""
    given = command_line_config().get(_canonical(key), ())
    if given:
        return "true" if given[-1] is None else given[-1]
    found = _read_by_git_of(repo, key)
    if found is not None:
        return None if not found else "true" if found[-1] is None else found[-1]
    try:
        value = repo.config[key]
    except (KeyError, pygit2.GitError, ValueError):
        return None
    return "true" if value is None else str(value)  # (a key alone, `[core] bare`, is true)


def config_values(repo: pygit2.Repository, key: str) -> list[str]:
    """Every value of a multi-valued key: the config files', then `git -c`'s, as git lists them."""
    listed = _read_by_git_of(repo, key)
    if listed is not None:
        found = ["true" if value is None else value for value in listed]
    else:
        try:
            found = [str(value) for value in repo.config.get_multivar(key)]
        except (pygit2.GitError, ValueError):
            found = []
    return found + [
        "true" if value is None else value for value in command_line_config().get(_canonical(key), ())
    ]


def config_names(repo: pygit2.Repository) -> set[str]:
    """The names of every setting (lower case), from `git -c` and the config files."""
    names = set(command_line_config())
    read_by_git = _config_read_by_git(repo)
    if read_by_git is not None:
        return names | {name.lower() for name in read_by_git}
    with contextlib.suppress(pygit2.GitError, ValueError):
        names.update(entry.name.lower() for entry in repo.config)
    return names


_ConfigFiles = dict[str, tuple[str | None, ...]]
_Signature = tuple[tuple[str, int, int], ...]  # (path, mtime ns, size) of each file read


@dataclass
class _GitReading:
    """What `_config_read_by_git` found for a repository, and when it last looked."""

    checked: float  # time.monotonic()
    paths: tuple[str, ...]  # the files git read the settings from
    signature: _Signature
    settings: _ConfigFiles | None


def _read_by_git_of(repo: pygit2.Repository, key: str) -> tuple[str | None, ...] | None:
    """The values the config files give `key`, in order, when git must read them
    (`_config_read_by_git`); None when libgit2's reading is git's."""
    read_by_git = _config_read_by_git(repo)
    return None if read_by_git is None else read_by_git.get(_canonical(key), ())


_read_by_git: weakref.WeakKeyDictionary[pygit2.Repository, _GitReading] = weakref.WeakKeyDictionary()
_LOOK_AGAIN_SECONDS = 1.0


def _config_read_by_git(repo: pygit2.Repository) -> _ConfigFiles | None:
    """The config files' settings as git reads them (canonical key: values in order), when
    libgit2 would read them otherwise; None when libgit2's reading is git's.

    libgit2 skips `[includeIf "hasconfig:remote.*.url:..."]` (git 2.36): a common way to
    take a work identity, or core.autocrlf, for the repositories of one server. With one
    among the settings, git lists them (`git config --list`). A process that lives on (the
    MCP server) looks again at most once a second, and lists them again when a file they
    came from changed, as libgit2 rereads a changed file. (A git that cannot list them, or
    is not there: libgit2's reading.)"""
    now = time.monotonic()
    known = _read_by_git.get(repo)
    if known is not None and now - known.checked < _LOOK_AGAIN_SECONDS:
        return known.settings
    if known is not None and known.settings is not None and _signature(known.paths) == known.signature:
        known.checked = now
        return known.settings
    try:
        conditional = any(entry.name.lower().startswith("includeif.hasconfig:") for entry in repo.config)
    except (pygit2.GitError, ValueError):
        conditional = False
    listed = _listed_by_git(repo) if conditional else None
    settings, paths = listed if listed is not None else (None, ())
    _read_by_git[repo] = _GitReading(now, paths, _signature(paths), settings)
    return settings


def _signature(paths: tuple[str, ...]) -> _Signature:
    found = []
    for path in paths:
        try:
            status = os.stat(path)
        except OSError:
            found.append((path, -1, -1))
        else:
            found.append((path, status.st_mtime_ns, status.st_size))
    return tuple(found)


def _listed_by_git(repo: pygit2.Repository) -> tuple[_ConfigFiles, tuple[str, ...]] | None:
    """The settings `git config --list` gives, and the files they came from."""
    where = repo.workdir or repo.path
    try:
        done = subprocess.run(
            ["git", f"--git-dir={repo.path}", "config", "--list", "-z", "--show-scope", "--show-origin"],
            cwd=where,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
    except OSError:
        return None
    if done.returncode != 0:
        return None
    fields = done.stdout.split(b"\0")
    found: dict[str, list[str | None]] = {}
    paths: dict[str, None] = {}
    for scope, origin, item in zip(fields[0::3], fields[1::3], fields[2::3], strict=False):
        if scope == b"command":  # `git -c`: command_line_config's, read ahead of the files
            continue
        if origin.startswith(b"file:"):
            paths[os.path.join(where, os.fsdecode(origin[len(b"file:") :]))] = None
        key, newline, value = item.decode("utf-8", "surrogateescape").partition("\n")
        found.setdefault(_canonical(key), []).append(value if newline else None)
    return {key: tuple(values) for key, values in found.items()}, tuple(paths)


def config_int(repo: pygit2.Repository, key: str, default: int) -> int:
    """A number of git config as git reads it (config_number), `default` when unset."""
    value = config_value(repo, key)
    return default if value is None else config_number(key, value)


def config_number(key: str, value: str) -> int:
    """A config value as git reads a number (c_number)."""
    number = c_number(value)
    if number is None:
        raise BadInput(f"git config {key} is not a number: {value!r}")
    return number


def _config(repo: pygit2.Repository, key: str) -> str | None:
    return config_value(repo, key) or None


def command_line_config() -> dict[str, tuple[str | None, ...]]:
    """The config that `git -c key=value plan ...` hands down in GIT_CONFIG_PARAMETERS, and
    GIT_CONFIG_COUNT/KEY_n/VALUE_n, by canonical key, in order (None: a key given alone).

    libgit2 reads neither, so gitplan does, ahead of the config files, as git does."""
    return _parsed_command_line_config(
        os.environ.get("GIT_CONFIG_PARAMETERS", ""),
        tuple(
            (os.environ.get(f"GIT_CONFIG_KEY_{n}", ""), os.environ.get(f"GIT_CONFIG_VALUE_{n}", ""))
            for n in range(_count(os.environ.get("GIT_CONFIG_COUNT", "")))
        ),
    )


def _count(text: str) -> int:
    return int(text) if text.isdigit() else 0


@functools.lru_cache(maxsize=4)
def _parsed_command_line_config(
    parameters: str, pairs: tuple[tuple[str, str], ...]
) -> dict[str, tuple[str | None, ...]]:
    found: dict[str, list[str | None]] = {}
    # GIT_CONFIG_COUNT's first: git reads them first, so that `git -c` wins.
    for key, value in [*pairs, *_parameters(parameters)]:
        if key:
            found.setdefault(_canonical(key), []).append(value)
    return {key: tuple(values) for key, values in found.items()}


def _parameters(text: str) -> list[tuple[str, str | None]]:
    """GIT_CONFIG_PARAMETERS as git writes it: `'key'='value'` each, shell-quoted, with
    `'key'=` for a key given without a value (true); older gits wrote `'key=value'`."""
    found: list[tuple[str, str | None]] = []
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text) or text[at] != "'":
            return found
        word, at = _single_quoted(text, at)
        if word is None:
            return found
        if text[at : at + 1] == "=":
            at += 1
            value: str | None = None
            if text[at : at + 1] == "'":
                value, at = _single_quoted(text, at)
                if value is None:
                    return found
            found.append((word, value))
        else:
            key, equals, value = word.partition("=")
            found.append((key, value if equals else None))


def _single_quoted(text: str, at: int) -> tuple[str | None, int]:
    """git's sq_quote undone from text[at] (a quote): `'it'\\''s'` is `it's`."""
    out = []
    while text[at : at + 1] == "'":
        end = text.find("'", at + 1)
        if end < 0:
            return None, len(text)
        out.append(text[at + 1 : end])
        at = end + 1
        if text[at : at + 2] != "\\'":
            break
        out.append("'")
        at += 2
    return "".join(out), at


def _canonical(key: str) -> str:
    """A config key as git compares them: section and name in lower case, a subsection as it is."""
    section, _, rest = key.partition(".")
    middle, _, name = rest.rpartition(".")
    return f"{section.lower()}.{middle}.{name.lower()}" if middle else f"{section.lower()}.{name.lower()}"


def signature(name: str, email: str | None = None) -> pygit2.Signature:
    """An author signature now, or at GIT_AUTHOR_DATE as git would stamp it."""
    return pygit2.Signature(name, email or actor_email(name), *clock.now("GIT_AUTHOR_DATE"))


def committer() -> pygit2.Signature:
    return pygit2.Signature(COMMITTER_NAME, COMMITTER_EMAIL, *clock.now("GIT_COMMITTER_DATE"))


def author_person(name: str) -> Person:
    """The author line of a changeset: the actor, at GIT_AUTHOR_DATE when set."""
    return Person(name, actor_email(name), clock.now("GIT_AUTHOR_DATE"))


def committer_person() -> Person:
    """gitplan as committer, at GIT_COMMITTER_DATE when set."""
    return Person(COMMITTER_NAME, COMMITTER_EMAIL, clock.now("GIT_COMMITTER_DATE"))


def actor_email(name: str) -> str:
    local = "".join(c if c.isalnum() or c in "._-" else "-" for c in name) or "actor"
    return f"{local}@gitplan"


def resolve_commit(repo: pygit2.Repository, revision: str) -> pygit2.Commit:
    """The commit a revision names; PlanNotFound when there is none, BadInput when it
    names another kind of object (a tree, a blob)."""
    try:
        obj = repo.revparse_single(revision)
    except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
        raise PlanNotFound(f"unknown revision {revision!r}") from None
    try:
        return obj.peel(pygit2.Commit)
    except (ValueError, pygit2.GitError, pygit2.InvalidSpecError):
        raise BadInput(f"{revision!r} names a {obj.type_str}, not a commit") from None


ObjectT = TypeVar("ObjectT")


def lookup(repo: pygit2.Repository, oid: pygit2.Oid | str, kind: type[ObjectT]) -> ObjectT:
    """The object `oid`, which must be present and a `kind`; Damaged otherwise."""
    found = repo.get(str(oid))
    what = kind.__name__.lower()
    if found is None and fetched_from_promisor(repo, str(oid)):
        found = repo.get(str(oid))
    if found is None:
        raise Damaged(f"{what} {oid} is missing from the repository")
    if not isinstance(found, kind):
        raise Damaged(f"object {oid} is not a {what}")
    return found


def fetched_from_promisor(repo: pygit2.Repository, oid: str) -> bool:
    """In a partial clone (`git clone --filter=...`), have git fetch a missing object from
    the remote that promised it, as any git command that reads it does (libgit2 cannot):
    True when the object is here now. False at once in any other repository."""
    try:
        partial = any(
            entry.name == "extensions.partialclone"
            or (
                entry.name.startswith("remote.")
                and entry.name.endswith(".promisor")
                and (entry.value or "").lower() in ("true", "yes", "on", "1")
            )
            for entry in repo.config
        )
    except (pygit2.GitError, ValueError):
        return False
    if not partial:
        return False
    try:
        done = subprocess.run(
            ["git", f"--git-dir={repo.path}", "cat-file", "-e", oid],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
    except OSError:
        return False
    return done.returncode == 0


def read_blob(repo: pygit2.Repository, oid: pygit2.Oid | str) -> bytes:
    """A blob's bytes; Damaged when it is missing or another kind of object. (The object
    database's raw read: a Blob object costs twice as much, twice per file of a diff.)"""
    try:
        kind, data = repo.odb.read(str(oid))
    except KeyError:
        if not fetched_from_promisor(repo, str(oid)):
            raise Damaged(f"blob {oid} is missing from the repository") from None
        kind, data = repo.odb.read(str(oid))
    if kind != pygit2.enums.ObjectType.BLOB:
        raise Damaged(f"object {oid} is not a blob")
    return bytes(data)


def descends(repo: pygit2.Repository, newer: str | None, older: str | None) -> bool:
    """Is `older` equal to or an ancestor of `newer`? (None: no commit; False when either
    id is not a commit here.)"""
    if older is None or newer == older:
        return True
    if newer is None:
        return False
    try:
        return bool(repo.descendant_of(newer, older))
    except (KeyError, ValueError, pygit2.GitError):
        return False


def lookup_commit(repo: pygit2.Repository, oid: pygit2.Oid | str) -> pygit2.Commit:
    return lookup(repo, oid, pygit2.Commit)


# -- abbreviated object ids, the way git sizes them ----------------------------


def packed_object_count(directories: list[Path]) -> int:
    """Objects in the packs of these object directories, read from the .idx fan-out tables.

    git sizes abbreviations from this count (loose objects are not counted)."""
    total = 0
    indexes = []
    for directory in directories:
        with contextlib.suppress(OSError):
            indexes += [p for p in (directory / "pack").iterdir() if p.suffix == ".idx"]
    for index in indexes:
        try:
            with index.open("rb") as handle:
                head = handle.read(8)
                offset = 8 + 255 * 4 if head[:4] == b"\377tOc" else 255 * 4
                handle.seek(offset)
                total += struct.unpack(">I", handle.read(4))[0]
        except (OSError, struct.error):
            continue
    return total


class Abbreviator:
    """Shortest unique prefixes of object ids, as git finds them, for one rendering.

    libgit2's prefix lookup lists a loose-object directory on every call (25 us
    each, twice per file of a diff); git lists each directory once. So do we: packs
    are searched through libgit2's pack backend alone (a bisection per pack index),
    and each loose fan-out directory is listed on first use. Objects written after
    the Abbreviator was made are not seen: make one per rendering."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self._repo = repo
        # The repository's object directory and its alternates: packs and loose objects of
        # both count, for the length and for uniqueness.
        self._directories = object_directories(common_dir(repo) / "objects")
        self._packs: pygit2.Repository | None = None  # made on first use (never with --full-index)
        self._loose: dict[str, list[str]] = {}
        self._fan_outs: set[str] | None = None

    def default_length(self) -> int:
        """git's automatic abbreviation length for this repository (core.abbrev honoured)."""
        configured = config_value(self._repo, "core.abbrev")
        if configured is not None and configured.lower() != "auto":
            # As git reads it: a false boolean for full ids, else a number from 4 to 40.
            if configured.lower() in ("false", "no", "off", ""):
                return 40
            number = c_number(configured)
            if number is None or not 4 <= number <= 40:
                raise BadInput(f"git config core.abbrev is {configured!r}: git takes auto, false or 4 to 40")
            return number
        count = packed_object_count(self._directories)
        bits = count.bit_length()  # git: msb(count) + 1
        return max(7, (bits + 1) // 2)

    def _packed(self) -> pygit2.Repository:
        if self._packs is None:
            odb = pygit2.Odb()
            for directory in self._directories:
                odb.add_backend(pygit2.OdbBackendPack(str(directory)), 1)
            self._packs = pygit2.Repository()
            self._packs.set_odb(odb)
        return self._packs

    def __call__(self, oid: str, length: int) -> str:
        """The shortest prefix of `oid` of at least `length` digits that no other object shares."""
        packs = self._packed() if length < len(oid) else None
        while packs is not None and length < len(oid):
            prefix = oid[:length]
            found = {name for name in self._loose_ids(oid[:2]) if name.startswith(prefix)}
            try:
                found.add(str(packs.expand_id(prefix)))
            except KeyError:  # in no pack
                pass
            except (ValueError, pygit2.GitError):  # two packed objects share it
                found.add("")
            if len(found - {oid}) == 0:
                return prefix
            length += 1
        return oid

    def _loose_ids(self, fan_out: str) -> list[str]:
        if self._fan_outs is None:  # one listing tells which fan-out directories exist at all
            self._fan_outs = set()
            for directory in self._directories:
                with contextlib.suppress(OSError):
                    self._fan_outs.update(os.listdir(directory))
        if fan_out not in self._loose:
            names: list[str] = []
            for directory in self._directories if fan_out in self._fan_outs else ():
                with contextlib.suppress(OSError):
                    names += [name for name in os.listdir(directory / fan_out) if len(name) in (38, 62)]
            self._loose[fan_out] = [fan_out + name for name in names]
        return self._loose[fan_out]


def object_directories(objects: Path) -> list[Path]:
    """An object directory, then every one it borrows from (alternates, and those
    GIT_ALTERNATE_OBJECT_DIRECTORIES lent the repository), as git follows them."""
    seen: set[Path] = set()
    found = _object_directories(objects, seen)
    for lent in _borrowed.get(os.path.join(os.path.normpath(objects.parent), ""), ()):
        found += _object_directories(Path(lent), seen)
    return found


def _object_directories(objects: Path, seen: set[Path], depth: int = 0) -> list[Path]:
    """An object directory and its alternates (objects/info/alternates), as git follows
    them: six levels deep at most, each directory once."""
    resolved = objects.resolve()
    if resolved in seen:
        return []
    seen.add(resolved)
    found = [objects]
    try:
        lines = os.fsdecode((objects / "info" / "alternates").read_bytes()).splitlines()
    except OSError:
        return found
    for line in lines if depth <= 5 else ():  # git's limit on nested alternates
        if line and not line.startswith("#"):
            found += _object_directories(objects / line, seen, depth + 1)
    return found
