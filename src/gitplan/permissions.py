"""core.sharedRepository: the permissions git gives what it writes in a shared repository.

In a repository made with `git init --shared=group` (or `all`, or an octal mode), git
widens the mode of every file and directory it creates there beyond the user's umask, so
that the other members of the group can read it and add to it: files `0660` (objects,
which nobody writes, `0440`), directories `2770`. gitplan writes there too (refs and
reflogs through libgit2, which ignores the setting; loose objects; its packs; its state
under `.git/gitplan/`), so it widens them the same way, path by path, after writing.

The setting is read when a repository is opened (`remember`) and kept by the repository's
common directory; `widen` then looks the path up. With no shared repository opened, as
almost always, `widen` returns at once. Imports only the standard library.
"""

from __future__ import annotations

import contextlib
import os
import stat

_GROUP = 0o660
_EVERYBODY = 0o664

_shared: dict[str, int] = {}  # common directory + os.sep -> git's shared-permission value


def parse(value: str | None) -> int:
    """git's reading of core.sharedRepository (git_config_perm): 0 for the umask, a
    positive mode to add (group, all), a negative one to use instead (an octal mode).
    ValueError for a mode git refuses (one that takes read or write from the owner)."""
    if value is None:
        return 0
    if value == "umask":
        return 0
    if value == "group":
        return _GROUP
    if value in ("all", "world", "everybody"):
        return _EVERYBODY
    try:
        number = int(value, 8)
    except ValueError:
        word = value.lower()
        number = int(word) if word.lstrip("-").isdigit() else 0
        return _GROUP if word in ("true", "yes", "on") or number else 0
    if number in (0, 1, 2):
        return (0, _GROUP, _EVERYBODY)[number]
    if number & 0o600 != 0o600:
        raise ValueError(
            f"problem with core.sharedRepository filemode value (0{number:03o}): the owner of files "
            "must always have read and write permissions"
        )
    return -(number & 0o666)


def remember(common_dir: str | os.PathLike[str], value: str | None) -> None:
    """Keep the setting `value` of the repository whose common directory this is."""
    key = os.path.join(os.path.normpath(os.fspath(common_dir)), "")
    shared = parse(value)
    if shared:
        _shared[key] = shared
    else:
        _shared.pop(key, None)


def widen(path: str | os.PathLike[str]) -> None:
    """Give `path`, and every directory above it inside the repository, the mode git
    would have given it. Nothing to do outside a shared repository; what cannot be
    changed (another user's directory) is left as it is, as git leaves it."""
    if not _shared:
        return
    current = os.path.normpath(os.path.abspath(os.fspath(path)))
    top = next((top for top in _shared if current.startswith(top)), None)
    if top is None:
        return
    while len(current) >= len(top):
        _adjust(current, _shared[top])
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
        new |= stat.S_ISGID
    if (old ^ new) & 0o7777:
        with contextlib.suppress(OSError):
            os.chmod(path, new & 0o7777)
