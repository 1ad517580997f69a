"""core.sharedRepository: the permissions git gives what it writes in a shared repository.

In a repository made with `git init --shared=group` (or `all`, or an octal mode), git
widens the mode of every file and directory it creates there beyond the user's umask, so
that the other members of the group can read it and add to it: files `0660` (objects,
which nobody writes, `0440`), directories `2770`. gitplan writes there too (refs,
packed-refs and reflogs through libgit2, which ignores the setting; loose objects; its
packs; its state under `.git/gitplan/`), so it widens them the same way, as git does:
a file written aside and renamed into place is widened before the rename.

The setting is read when a repository is opened (`remember`; the agent hook, which does
not open one, reads the repository's own config file: `remember_from_config_file`) and
kept by the repository's common directory, under each of its spellings; `widen` looks
up the innermost one holding the path (a submodule's git directory lies inside its
superproject's). With no shared repository opened, as almost always, `widen` returns at
once. Imports only the standard library (and gitvalues, errors).
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from pathlib import Path

from .errors import BadInput
from .gitvalues import git_bool

_GROUP = 0o660
_EVERYBODY = 0o664

_shared: dict[str, int] = {}  # common directory + os.sep -> git's value (0: the umask)
_any_shared = False


def parse(value: str | None) -> int:
    """git's reading of core.sharedRepository (git_config_perm): 0 for the umask, a
    positive mode to add (group, all), a negative one to use instead (an octal mode).
    BadInput for what git refuses: a mode that takes read or write from the owner, a
    word that is not a boolean."""
    if value is None:
        return 0  # unset
    if value == "umask":
        return 0
    if value == "group":
        return _GROUP
    if value in ("all", "world", "everybody"):
        return _EVERYBODY
    if not re.fullmatch(r"[0-7]+", value):
        return (
            _GROUP if git_bool(value, "core.sharedRepository") else 0
        )  # (git reads 08 as a bad octal number)
    number = int(value, 8)
    if number in (0, 1, 2):
        return (0, _GROUP, _EVERYBODY)[number]
    if number & 0o600 != 0o600:
        raise BadInput(
            f"problem with core.sharedRepository filemode value (0{number:03o}): the owner of files "
            "must always have read and write permissions; fix it with git config core.sharedRepository"
        )
    return -(number & 0o666)


def remember(common_dir: str | os.PathLike[str], value: str | None) -> None:
    """Keep the setting `value` (None: unset) of the repository whose common directory
    this is. BadInput for a value git refuses."""
    global _any_shared
    shared = parse(value)
    given = os.fspath(common_dir)
    for spelling in {os.path.normpath(os.path.abspath(given)), os.path.realpath(given)}:
        _shared[os.path.join(spelling, "")] = shared
    _any_shared = any(_shared.values())


def remember_from_config_file(common_dir: Path) -> None:
    """`remember` the setting as the repository's own config file gives it (not the
    global or system files, nor includes: `git init --shared` writes it there), once per
    directory; for the agent hook, which reads no config through libgit2. A value git
    would refuse counts as unset: the hook never fails the agent."""
    if os.path.join(os.path.normpath(os.path.abspath(common_dir)), "") in _shared:
        return
    found: str | None = None
    section = ""
    try:
        lines = (common_dir / "config").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        text = line.split("#", 1)[0].split(";", 1)[0].strip()
        header = re.fullmatch(r"\[\s*([A-Za-z0-9.-]+)\s*\]", text)
        if header:
            section = header.group(1).lower()
            continue
        key, equals, value = text.partition("=")
        if section == "core" and key.strip().lower() == "sharedrepository":
            found = value.strip().strip('"') if equals else "true"  # (the key alone is true)
    with contextlib.suppress(BadInput):
        remember(common_dir, found)


def widen(path: str | os.PathLike[str]) -> None:
    """Give `path`, and every directory above it inside the repository, the mode git
    would have given it. Nothing to do outside a shared repository; what cannot be
    changed (another user's directory) is left as it is, as git leaves it."""
    if not _any_shared:
        return
    current = os.path.normpath(os.path.abspath(os.fspath(path)))
    holding = [top for top in tuple(_shared) if current.startswith(top)]
    if not holding:
        return
    top = max(holding, key=len)
    shared = _shared.get(top, 0)
    if not shared:
        return
    while len(current) >= len(top):
        _adjust(current, shared)
        current = os.path.dirname(current)


def _adjust(path: str, shared: int) -> None:
    """git's adjust_shared_perm for one file or directory."""
    try:
        old = os.lstat(path).st_mode
    except OSError:
        return
    if stat.S_ISLNK(old):
        return
    tweak = -shared if shared < 0 else shared
    if not old & stat.S_IWUSR:
        tweak &= ~0o222
    if old & stat.S_IXUSR:
        tweak |= (tweak & 0o444) >> 2
    new = (old & ~0o777) | tweak if shared < 0 else old | tweak
    if stat.S_ISDIR(old):
        new |= (new & 0o444) >> 2
        if new & 0o060:
            new |= stat.S_ISGID
    if (old ^ new) & 0o7777:
        with contextlib.suppress(OSError):
            os.chmod(path, new & 0o7777)
