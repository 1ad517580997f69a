"""The packs a plan owns: written, listed, consolidated and discarded.

Each gitplan transaction writes its objects as one pack (objects.py stages
them). The plan's *registry*, `<git-common-dir>/gitplan/packs/<plan>`, lists the
packs the plan wrote, so that cancel finds them without walking anything:

    = base <commit>             the commit the plan started from
    + pack-<sha> <mtime-ns>     a pack this plan wrote, and the mtime gitplan gave it
    - pack-<sha>                that pack is gone (discarded or consolidated)

Lines are only ever appended (O_APPEND), so concurrent writers need no lock.
A line is appended before its pack is renamed into place, so a killed writer
leaves a registered pack or a temporary file, never an unknown pack.

The mtime is a freshness marker. git and libgit2 do not write an object that
already exists: they *freshen* the file holding it (set its mtime to now) and
then reference it. A pack whose mtime is no longer the one gitplan gave it may
be about to be referenced by someone else, so it is never deleted (see
`discard`). Deleting moves the pack out of `objects/pack` first: a process that
then tries to freshen it fails and writes its own copy, as git does.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pygit2

from . import faults, packfile
from .gitrepo import common_dir
from .objects import Staging

# Consolidate a plan's packs once it owns more than this many.
MAX_PLAN_PACKS = 2


@dataclass(frozen=True, slots=True)
class OwnedPack:
    """A pack a plan wrote: its name (`pack-<sha>`) and the mtime gitplan stamped on it."""

    name: str
    marker: int


def pack_dir(repo: pygit2.Repository) -> Path:
    return common_dir(repo) / "objects" / "pack"


def state_dir(repo: pygit2.Repository) -> Path:
    """gitplan's own files shared by every worktree: registries, locks, trash."""
    return common_dir(repo) / "gitplan"


def registry_path(repo: pygit2.Repository, plan_id: str) -> Path:
    return state_dir(repo) / "packs" / plan_id


def _append(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(handle, line.encode())
    finally:
        os.close(handle)


def parse_registry(text: str) -> list[OwnedPack]:
    """The packs a registry lists as present, oldest first."""
    present: dict[str, int] = {}
    for line in text.splitlines():
        sign, _, rest = line.partition(" ")
        words = rest.split()
        if sign == "+" and len(words) == 2 and words[1].isdigit():
            present[words[0]] = int(words[1])
        elif sign == "-" and words:
            present.pop(words[0], None)
    return [OwnedPack(name, marker) for name, marker in present.items()]


def record_base(repo: pygit2.Repository, plan_id: str, base: str) -> None:
    """Note the plan's base in its registry: cancelling another plan must keep it."""
    _append(registry_path(repo, plan_id), f"= base {base}\n")


def registry_bases(path: Path) -> list[str]:
    """The bases a registry file names."""
    try:
        text = path.read_text()
    except (FileNotFoundError, IsADirectoryError):
        return []
    return [line[len("= base ") :].strip() for line in text.splitlines() if line.startswith("= base ")]


def owned_packs(repo: pygit2.Repository, plan_id: str) -> list[OwnedPack]:
    try:
        text = registry_path(repo, plan_id).read_text()
    except FileNotFoundError:
        return []
    return parse_registry(text)


def write(repo: pygit2.Repository, plan_id: str, staging: Staging) -> OwnedPack | None:
    """Write the staged objects as one pack owned by `plan_id`; None when there are none."""
    if not len(staging):
        return None
    directory = pack_dir(repo)
    directory.mkdir(parents=True, exist_ok=True)
    writer = packfile.PackWriter(directory, len(staging))
    try:
        for oid, kind, data in staging.items():
            writer.add(oid, kind, data)
        name = writer.finish(durable=_durable(repo))
        marker = _stamp(writer.temporary_pack)
        _append(registry_path(repo, plan_id), f"+ {name} {marker}\n")
    except BaseException:
        writer.abandon()
        raise
    faults.point("packs.registered")
    writer.install()
    return OwnedPack(name, marker)


def _stamp(path: Path) -> int:
    """Give the file a known mtime and return it as the filesystem stored it."""
    now = time.time_ns()
    os.utime(path, ns=(now, now))
    return os.stat(path).st_mtime_ns


def _durable(repo: pygit2.Repository) -> bool:
    """Flush packs to disk unless core.fsync leaves packs out (git flushes them by default)."""
    try:
        setting = str(repo.config["core.fsync"])
    except (KeyError, pygit2.GitError):
        return True
    words = {word.strip() for word in setting.lower().split(",")}
    if "-pack" in words or "none" in words:
        return False
    return bool(words & {"pack", "objects", "committed", "added", "all", "default"}) or not words


def discard(repo: pygit2.Repository, plan_id: str, pack: OwnedPack) -> bool:
    """Delete a pack nothing references; False (and it stays) if someone freshened it.

    The pack leaves `objects/pack` by rename before its mtime is checked, so a
    freshen that comes later fails and makes its caller write its own copy."""
    source = pack_dir(repo)
    trash = state_dir(repo) / "trash"
    trash.mkdir(parents=True, exist_ok=True)
    moved: list[tuple[Path, Path]] = []
    for suffix in (".idx", ".pack"):
        here, there = source / (pack.name + suffix), trash / (pack.name + suffix)
        with contextlib.suppress(FileNotFoundError):
            os.rename(here, there)
            moved.append((here, there))
    faults.point("packs.moved-to-trash")
    try:
        fresh = os.stat(trash / (pack.name + ".pack")).st_mtime_ns != pack.marker
    except FileNotFoundError:
        fresh = False  # someone else discarded it already
    if fresh:
        for here, there in reversed(moved):
            os.rename(there, here)
        return False
    for _, there in moved:
        there.unlink(missing_ok=True)
    _append(registry_path(repo, plan_id), f"- {pack.name}\n")
    return True


def forget(repo: pygit2.Repository, plan_id: str) -> None:
    """Remove a plan's registry (its packs are gone or handed over to git)."""
    registry_path(repo, plan_id).unlink(missing_ok=True)


def pack_object_ids(repo: pygit2.Repository, pack: OwnedPack) -> list[bytes] | None:
    """The ids of the objects in an owned pack; None if the pack is gone."""
    try:
        return [entry.oid for entry in packfile.read_index(pack_dir(repo) / f"{pack.name}.idx")]
    except FileNotFoundError:
        return None


@contextlib.contextmanager
def exclusive(repo: pygit2.Repository, name: str, blocking: bool = True) -> Iterator[bool]:
    """An advisory lock under the gitplan state dir; yields False if not blocking and taken."""
    directory = state_dir(repo) / "locks"
    directory.mkdir(parents=True, exist_ok=True)
    handle = os.open(directory / name, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(handle)


def consolidate(repo: pygit2.Repository, plan_id: str) -> OwnedPack | None:
    """Merge a plan's packs into one when it owns more than MAX_PLAN_PACKS.

    Entries are copied verbatim (a pack's entries stay together, so in-pack
    deltas keep their bases). The merged pack is in place before any old one
    goes, so every object stays readable throughout."""
    packs = owned_packs(repo, plan_id)
    if len(packs) <= MAX_PLAN_PACKS:
        return None
    with exclusive(repo, f"consolidate-{plan_id}", blocking=False) as mine:
        if not mine:
            return None  # another writer of this plan is doing it
        packs = owned_packs(repo, plan_id)
        if len(packs) <= MAX_PLAN_PACKS:
            return None
        return _merge(repo, plan_id, packs)


def _merge(repo: pygit2.Repository, plan_id: str, packs: list[OwnedPack]) -> OwnedPack | None:
    directory = pack_dir(repo)
    contents: list[tuple[OwnedPack, list[packfile.PackEntry]]] = []
    for pack in packs:
        try:
            contents.append((pack, packfile.read_index(directory / f"{pack.name}.idx")))
        except FileNotFoundError:
            continue
    # gitplan's packs hold no deltas, so a duplicate object can simply be skipped.
    unique = {entry.oid for _, entries in contents for entry in entries}
    writer = packfile.PackWriter(directory, len(unique))
    try:
        for pack, entries in contents:
            for entry, raw in packfile.raw_entries(directory / f"{pack.name}.pack", entries):
                if entry.oid in unique:
                    unique.discard(entry.oid)
                    writer.add_raw(entry.oid, raw)
        name = writer.finish(durable=_durable(repo))
        marker = _stamp(writer.temporary_pack)
        _append(registry_path(repo, plan_id), f"+ {name} {marker}\n")
    except (FileNotFoundError, ValueError):
        writer.abandon()  # a pack vanished under us (cancel): leave things as they are
        return None
    except BaseException:
        writer.abandon()
        raise
    writer.install()
    for pack, _ in contents:
        # Every object is also in the merged pack now, so even a freshened pack can go.
        for suffix in (".idx", ".pack"):
            (directory / (pack.name + suffix)).unlink(missing_ok=True)
        _append(registry_path(repo, plan_id), f"- {pack.name}\n")
    return OwnedPack(name, marker)
