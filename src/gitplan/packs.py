"""The packs a plan owns: written, listed, consolidated and discarded.

Each gitplan transaction writes its objects as one pack (objects.py stages
them). The plan's *registry*, the directory `<git-common-dir>/gitplan/packs/<plan>/`,
lists the packs the plan wrote, so that cancel finds them without walking
anything. It holds one empty file per pack and one for the plan's base:

    pack-<sha>.<mtime-ns>.<n>   a pack this plan wrote, the mtime gitplan gave it, its n objects
    base-<commit>               the commit the plan started from
    cancelled                   a cancel is deleting (or deleted) the plan's refs

Every change to it is one file created or removed, so concurrent writers need
no lock. An entry is created before its pack is renamed into place, so a
killed writer leaves a registered pack or a temporary file, never an unknown
pack; consolidation keeps a plan's live packs few, so listing it is cheap.

Each pack carries a `.keep` file. git's repack then leaves it alone: `git gc`
never folds plan objects into its own packs (where cancelling a plan would
leave thousands of unreachable objects for the next `git gc` to explode into
loose files), and `git gc --auto` does not count it against gc.autoPackLimit.
Its objects are gitplan's to remove; what the user still uses is copied out
to an ordinary pack when the plan goes (prune.py).

The mtime is a freshness marker. git and libgit2 do not write an object that
already exists: they *freshen* the file holding it (set its mtime to now) and
then reference it. A pack whose mtime is no longer the one gitplan gave it may
be about to be referenced by someone else, so it is not deleted (see
`discard`) until `git plan gc` finds the freshen older than its grace period.
Deleting moves the pack out of `objects/pack` first: a process that then tries
to freshen it fails and writes its own copy, as git does.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pygit2

from . import faults, packfile, permissions
from .errors import BadInput, GitPlanError
from .filelock import locked
from .format import notes_ref
from .gitrepo import common_dir_of, config_value, object_directories
from .objects import Staging, file_chunks

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class OwnedPack:
    """A pack a plan wrote: its name (`pack-<sha>`) and the mtime gitplan stamped on it."""

    name: str
    marker: int
    objects: int

    @property
    def entry(self) -> str:
        """Its file name in the plan's registry."""
        return f"{self.name}.{self.marker}.{self.objects}"


def pack_dir(repo: pygit2.Repository) -> Path:
    return _directories(repo.path)[0]


def state_dir(repo: pygit2.Repository) -> Path:
    """gitplan's own files shared by every worktree: registries, locks, trash."""
    return _directories(repo.path)[1]


def trash_dir(repo: pygit2.Repository) -> Path:
    """Where a prune moves packs out of `objects/pack` before deleting them (`trash/<pid>`):
    under `.git/gitplan`, or, when the objects directory is on another filesystem (a
    symlink, a mount), `objects/gitplan-trash`, since a rename cannot cross filesystems.
    git looks at no such directory there."""
    return _trash_dir(repo.path)


@functools.lru_cache(maxsize=64)
def _trash_dir(git_dir: str) -> Path:
    packs, state, _ = _directories(git_dir)
    try:
        state.mkdir(parents=True, exist_ok=True)
        permissions.widen(state)
        same = os.stat(state).st_dev == os.stat(packs.parent).st_dev
    except OSError:
        same = True
    return state / "trash" if same else packs.parent / "gitplan-trash"


def move_file(source: Path, target: Path) -> None:
    """Rename `source` to `target`; across filesystems (EXDEV), copy it to a temporary
    name beside `target`, rename that into place, then remove `source`."""
    try:
        os.replace(source, target)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        scratch = target.with_name(f"tmp_gitplan_{os.getpid()}_{target.name}")
        shutil.copy2(source, scratch)
        os.replace(scratch, target)
        source.unlink()
    permissions.widen(target)


def registry_path(repo: pygit2.Repository, plan_id: str) -> Path:
    return _directories(repo.path)[2] / plan_id


@functools.lru_cache(maxsize=64)
def _directories(git_dir: str) -> tuple[Path, Path, Path]:
    """The pack directory, the state directory and the registries' directory of a
    repository, worked out once: a record asks for them a dozen times."""
    common = common_dir_of(git_dir)
    return common / "objects" / "pack", common / "gitplan", common / "gitplan" / "packs"


def _register(repo: pygit2.Repository, plan_id: str, entry: str, notes: str = "") -> None:
    """Add `entry` to the plan's registry; `notes`, the notes commit a write publishes (its
    pack counts as unpublished until the plan's notes ref leads to it: `_unpublished`)."""
    directory = registry_path(repo, plan_id)
    path = f"{directory}{os.sep}{entry}"
    for _ in range(100):
        faults.point("packs.registering")
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                if notes:
                    os.write(handle, notes.encode())
            except OSError:  # (a full disk): an empty entry would read as published
                os.close(handle)
                os.unlink(path)
                raise
            os.close(handle)
            permissions.widen(path)
            return
        except FileNotFoundError:  # the plan's first pack, or a cancel removed the registry
            with contextlib.suppress(FileNotFoundError, FileExistsError):
                directory.mkdir(parents=True, exist_ok=True)
    raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)  # (filename: _vanished)


_CANCELLED = "cancelled"


def mark_cancelled(repo: pygit2.Repository, plan_id: str, cancelled: bool = True) -> None:
    """Note in the plan's registry that a cancel is deleting its refs (or, with
    `cancelled` False, that it gave up). A registry so marked that outlives the
    refs (the cancel kept packs, or was killed) belongs to a gone plan: a new plan
    of the name sets it aside (`set_aside`). A registry of a create still on its
    way to its refs is never marked."""
    if cancelled:
        _register(repo, plan_id, _CANCELLED)
    else:
        (registry_path(repo, plan_id) / _CANCELLED).unlink(missing_ok=True)


def cancelled_leftover(repo: pygit2.Repository, plan_id: str) -> bool:
    """Does a cancelled plan's registry stand under this name?"""
    return (registry_path(repo, plan_id) / _CANCELLED).exists()


def set_aside(repo: pygit2.Repository, plan_id: str) -> None:
    """Rename a cancelled plan's registry to `<plan>..<ns>`, a name no plan can have.

    A new plan of that name must not take its packs for its own: gc would remove
    them as never published, without cancel's checks. Set aside, they are an
    orphaned registry, which gc prunes with those checks."""
    with contextlib.suppress(FileNotFoundError):
        directory = registry_path(repo, plan_id)
        os.rename(directory, directory.with_name(f"{plan_id}..{time.time_ns()}"))


def registry_owner(name: str) -> tuple[str, bool]:
    """The plan a registry directory is named after, and whether it was set aside."""
    plan_id, aside, _ = name.partition("..")
    return plan_id, bool(aside)


def unregister(repo: pygit2.Repository, plan_id: str, pack: OwnedPack) -> None:
    (registry_path(repo, plan_id) / pack.entry).unlink(missing_ok=True)


def record_base(repo: pygit2.Repository, plan_id: str, base: str) -> None:
    """Note the plan's base in its registry: cancelling another plan must keep it."""
    _register(repo, plan_id, f"base-{base}")


def record_rescue(repo: pygit2.Repository, plan_id: str, pack_name: str) -> None:
    """Note in the plan's registry a pack (git's, not the plan's) that a prune copied the
    plan's objects still in use into, so that a later prune does not copy them again.

    It is also listed in `rescued/`, for as long as the pack is there: the prune of
    another plan reads what it names (`rescued_packs`) instead of taking it for a pack
    git wrote, which would make that prune ask git for everything reachable."""
    _register(repo, plan_id, f"rescued-{pack_name}")
    rescued = state_dir(repo) / "rescued"
    rescued.mkdir(parents=True, exist_ok=True)
    (rescued / pack_name).touch()
    permissions.widen(rescued / pack_name)


def rescued_packs(repo: pygit2.Repository) -> set[str]:
    """The names of the packs prunes copied objects into (record_rescue)."""
    try:
        return {entry.name for entry in os.scandir(state_dir(repo) / "rescued")}
    except FileNotFoundError:
        return set()


def rescued_ids(repo: pygit2.Repository, plan_id: str) -> set[bytes]:
    """The ids earlier prunes of this plan copied out, in the packs still there and still
    kept (keep_rescues). One an older gitplan gave back to git while the plan still had a
    pack does not count: a `git repack -a -d` running now may have listed it for deletion."""
    found: set[bytes] = set()
    directory = pack_dir(repo)
    for name in rescue_names(repo, plan_id):
        if is_rescue_keep(directory / f"{name}.keep"):
            with contextlib.suppress(FileNotFoundError, ValueError):  # git gc repacked it: copy again
                found.update(entry.oid for entry in packfile.read_index(directory / f"{name}.idx"))
    return found


# What marks a `.keep` as a prune's (is_rescue_keep). It stays until the plan's last pack is
# gone (release_rescues); the words are older than that rule and kept, to recognise old ones.
RESCUE_KEEP = "gitplan: objects a cancel copied out, kept while the plan's packs are deleted\n"


def keep_rescues(repo: pygit2.Repository, plan_id: str) -> None:
    """Keep (`.keep`) the packs prunes of this plan copied objects into, until the plan's
    last pack is gone (release_rescues).

    Their objects may also be in the plan's kept packs, and a `git repack -a -d` leaves
    out of its new pack what a kept pack holds, then deletes the unkept packs it found
    when it began: an unkept copy would go with them, and the plan's own copy at the
    next prune, even one long after the repack began (a pack someone freshened stays
    until `git plan gc`)."""
    directory = pack_dir(repo)
    for name in rescue_names(repo, plan_id):
        keep = directory / f"{name}.keep"
        if (directory / f"{name}.idx").exists() and not keep.exists():
            packfile.write_keep(keep, RESCUE_KEEP)


def release_rescues(repo: pygit2.Repository, plan_id: str) -> None:
    """Give the packs prunes of this plan copied objects into back to git (keep_rescues):
    when none of the plan's packs is left (forget)."""
    directory = pack_dir(repo)
    for name in rescue_names(repo, plan_id):
        release_rescue(directory / f"{name}.keep")


def release_rescue(keep: Path) -> None:
    """Remove a `.keep` a prune wrote (RESCUE_KEEP), and no other."""
    if is_rescue_keep(keep):
        keep.unlink(missing_ok=True)


def is_rescue_keep(keep: Path) -> bool:
    """Whether a `.keep` is one a prune wrote (RESCUE_KEEP), not git's or the user's."""
    try:
        return keep.read_text() == RESCUE_KEEP
    except (OSError, UnicodeDecodeError):
        return False


def rescue_names(repo: pygit2.Repository, plan_id: str) -> list[str]:
    """The packs prunes of this plan copied objects into (record_rescue)."""
    try:
        entries = [entry.name for entry in os.scandir(registry_path(repo, plan_id))]
    except FileNotFoundError:
        return []
    return [name[len("rescued-") :] for name in entries if name.startswith("rescued-pack-")]


def registry_bases(directory: Path) -> list[str]:
    """The bases a plan's registry names."""
    try:
        return [entry.name[5:] for entry in os.scandir(directory) if entry.name.startswith("base-")]
    except (FileNotFoundError, NotADirectoryError):
        return []


def owned_packs(repo: pygit2.Repository, plan_id: str) -> list[OwnedPack]:
    """The packs the plan's registry lists, oldest first."""
    try:
        names = [entry.name for entry in os.scandir(registry_path(repo, plan_id))]
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        parts = name.split(".")
        if len(parts) == 3 and parts[0].startswith("pack-") and parts[1].isdigit() and parts[2].isdigit():
            found.append(OwnedPack(parts[0], int(parts[1]), int(parts[2])))
    return sorted(found, key=lambda pack: pack.marker)


@dataclass(frozen=True, slots=True)
class Written:
    """A pack a transaction wrote, and the plan's older packs it also holds every object of
    (`folded`: `retire` them once the transaction is published)."""

    pack: OwnedPack
    folded: tuple[OwnedPack, ...] = ()


def write(
    repo: pygit2.Repository,
    plan_id: str,
    staging: Staging,
    folding: Iterable[OwnedPack] = (),
    notes: str = "",
) -> Written:
    """Write the staged objects as one pack owned by `plan_id` (a name no other pack has).

    With `folding` (from `to_fold`), the pack also takes in those packs' objects: the
    merge that consolidation would start after this write, done by the write itself,
    so one pack and index are made (and flushed) instead of two. A folded pack that
    went away meanwhile (another writer retired it), or that cannot be copied, makes a
    pack of the staged objects alone. `notes`: the notes commit the write is to publish,
    kept in the pack's registry entry."""
    faults.point("packs.writing")
    directory = pack_dir(repo)
    directory.mkdir(parents=True, exist_ok=True)
    folding = tuple(folding)
    if folding:
        with contextlib.suppress(_CopyFailed):
            return _deltas_first(folding, lambda order: _write(repo, plan_id, staging, order, notes))
    return _write(repo, plan_id, staging, (), notes)


def held_by_git(repo: pygit2.Repository, oids: list[bytes]) -> set[bytes]:
    """Those of `oids` the repository already holds outside gitplan's packs: loose, or in a
    pack of git's own (not kept, not cruft).

    They are not written again: git writes no object it has, and a copy in a plan's kept
    pack would let `git repack -d` drop git's own copy, leaving the plan's pack the only
    one, which cancel then deletes. Like git, gitplan freshens (sets the mtime of) what
    holds them, so that no `git gc` expires them before the refs that use them are
    published. A copy in a kept pack does not count: a gitplan pack goes with its plan.
    (Looked up in the files, not with libgit2, which rereads the pack directory after
    every miss: most of these objects are new.)"""
    directory = pack_dir(repo)
    loose = f"{directory.parent}{os.sep}"  # objects/ab/cdef...: strings, not Paths, for speed
    found: set[bytes] = set()
    packed: list[bytes] = []
    for oid in oids:
        name = oid.hex()
        path = f"{loose}{name[:2]}{os.sep}{name[2:]}"
        if os.access(path, os.F_OK):  # no exception for the usual miss: it costs more than the test
            with contextlib.suppress(FileNotFoundError):
                os.utime(path)
            found.add(oid)
        else:
            packed.append(oid)
    for pack in _packs_of_git(directory) if packed else ():
        with contextlib.suppress(FileNotFoundError, ValueError):  # repacked meanwhile: look no further
            hits = _git_index(pack).holds(packed)
            if hits:
                os.utime(pack)
                found |= hits
                packed = [oid for oid in packed if oid not in hits]
    return found


_git_indexes: dict[Path, packfile.PackIndex] = {}  # git's packs' indexes, mapped once a process


def _git_index(pack: Path) -> packfile.PackIndex:
    """The index of one of git's packs (a name _packs_of_git has just listed), kept open:
    a record asks each of git's packs for its new objects, and a process (the MCP server,
    a framework's) records many times, from several threads. Indexes of packs no longer
    there are closed (a thread still reading one gets ValueError: not held, then)."""
    with _git_indexes_lock:
        index = _git_indexes.get(pack)
        if index is None:
            gone = [known for known in _git_indexes if known.parent == pack.parent and not known.exists()]
            for known in gone:
                _git_indexes.pop(known).close()
            index = _git_indexes[pack] = packfile.PackIndex(pack.with_suffix(".idx"))
            while len(_git_indexes) > _MOST_GIT_INDEXES:  # each holds a file descriptor
                _git_indexes.pop(next(iter(_git_indexes))).close()
        return index


_git_indexes_lock = threading.Lock()
_MOST_GIT_INDEXES = 16  # (a repository has a few; a process may open many repositories)


def held_where_repack_keeps(repo: pygit2.Repository, oids: set[bytes], besides: str) -> set[bytes]:
    """Those of `oids` that a loose file or a kept pack other than `besides` holds: where a
    `git repack -a -d` running now leaves them (it leaves out of its new pack what a kept
    pack holds, then deletes the unkept packs it read, git's own among them)."""
    directory = pack_dir(repo)
    found: set[bytes] = set()
    rest = set(oids)
    for oid in oids:
        name = oid.hex()
        if os.access(f"{directory.parent}{os.sep}{name[:2]}{os.sep}{name[2:]}", os.F_OK):
            found.add(oid)
    rest -= found
    for pack in _kept_packs(directory):
        if rest and pack.stem != besides:
            with contextlib.suppress(FileNotFoundError, ValueError):
                hits = packfile.index_holds(pack.with_suffix(".idx"), rest)
                found |= hits
                rest -= hits
    return found


def on_disk(repo: pygit2.Repository, oid: bytes) -> bool:
    """Does the repository (or one it borrows from, as git follows alternates) hold object
    `oid` now, loose or in a pack still in place? (libgit2 answers from packs it has
    mapped, also one a prune has since deleted.)"""
    return any(_in_objects(objects, oid) for objects in object_directories(pack_dir(repo).parent))


def _in_objects(objects: Path, oid: bytes) -> bool:
    """Is object `oid` loose or packed in the object directory `objects`?"""
    name = oid.hex()
    if (objects / name[:2] / name[2:]).exists():
        return True
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        for entry in os.scandir(objects / "pack"):
            if entry.name.endswith(".idx"):
                with contextlib.suppress(FileNotFoundError, ValueError):
                    if packfile.index_holds(Path(entry.path), [oid]):
                        return True
    return False


def held_by_plan(repo: pygit2.Repository, plan_id: str, oids: list[bytes]) -> set[bytes]:
    """Those of `oids` the plan's own packs hold."""
    directory = pack_dir(repo)
    found: set[bytes] = set()
    rest = list(oids)
    for pack in owned_packs(repo, plan_id):
        if not rest:
            break
        with contextlib.suppress(FileNotFoundError, ValueError):  # consolidated meanwhile: look on
            hits = packfile.index_holds(directory / f"{pack.name}.idx", rest)
            found |= hits
            rest = [oid for oid in rest if oid not in hits]
    return found


def _packs_of_git(directory: Path) -> list[Path]:
    """The packs git wrote and will repack: neither kept (gitplan's packs are; so may a
    user's be) nor cruft (whose objects git may expire)."""
    names = {entry.name for entry in os.scandir(directory)}
    return [
        directory / name
        for name in names
        if name.endswith(".pack")
        and name[: -len(".pack")] + ".keep" not in names
        and name[: -len(".pack")] + ".mtimes" not in names
        and name[: -len(".pack")] + ".idx" in names
    ]


def _kept_packs(directory: Path) -> list[Path]:
    """The packs with a `.keep` (gitplan's, copies a prune is keeping, a user's), indexed:
    those no `git repack` deletes."""
    names = {entry.name for entry in os.scandir(directory)}
    return sorted(
        directory / name
        for name in names
        if name.endswith(".pack")
        and name[: -len(".pack")] + ".keep" in names
        and name[: -len(".pack")] + ".idx" in names
    )


class _CopyFailed(Exception):
    """A pack being copied went away, is not what its index says, or cannot be copied in
    part (`pack`: it holds deltas)."""

    def __init__(self, pack: OwnedPack | None = None) -> None:
        super().__init__(pack)
        self.pack = pack


def _deltas_first(chosen: tuple[OwnedPack, ...], make: Callable[[tuple[OwnedPack, ...]], T]) -> T:
    """`make` a pack of the chosen packs' objects. A pack that holds deltas and could not
    be copied in part moves to the front, after those moved before it, and `make` starts
    again: there nothing of it is written yet unless an earlier pack at the front shares
    its objects, and it is copied whole (a delta's base is named by its distance back in
    the pack). Gives up (_CopyFailed) when a pack at the front cannot be copied whole."""
    front: list[OwnedPack] = []
    while True:
        try:
            return make((*front, *(pack for pack in chosen if pack not in front)))
        except _CopyFailed as failed:
            if failed.pack is None or failed.pack in front:
                raise
            front.append(failed.pack)


def _write(
    repo: pygit2.Repository, plan_id: str, staging: Staging, folding: tuple[OwnedPack, ...], notes: str
) -> Written:
    directory = pack_dir(repo)
    contents = _indexes(directory, folding)
    held = {entry.oid for _, entries in contents for entry in entries}
    # Blobs and trees may be ones the repository has (a file put back, content staged);
    # commits and notes carry their times.
    reusable = [oid for oid, kind, _ in staging.items() if kind in (packfile.OBJ_BLOB, packfile.OBJ_TREE)]
    reusable += [oid for oid, _, _ in staging.streamed_items()]
    skipped = held | held_by_git(repo, [oid for oid in reusable if oid not in held])
    objects = [(oid, kind, data) for oid, kind, data in staging.items() if oid not in skipped]
    streamed = [(oid, path, size) for oid, path, size in staging.streamed_items() if oid not in skipped]
    total = len(objects) + len(streamed) + len(held)
    writer = packfile.PackWriter(directory, total)

    def fill() -> None:
        _copy(writer, directory, contents, held)  # first: a pack gone makes us start again, cheaply
        faults.point("packs.filling")
        for oid, kind, data in objects:
            writer.add(oid, kind, data)
        for oid, path, size in streamed:
            writer.add_stream(oid, packfile.OBJ_BLOB, size, file_chunks(path, size))

    try:
        pack = _registered(repo, plan_id, writer, total, fill, notes)
    except ValueError as error:  # a streamed file changed between hashing and writing
        raise BadInput(f"a file changed while it was being recorded ({error}); nothing was written") from None
    except FileNotFoundError as error:
        raise _vanished(error, directory, registry_path(repo, plan_id)) from None
    except OSError as error:  # the disk is full, or the repository is read-only
        if folding and error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise _CopyFailed from None  # the merge is housekeeping: write what is staged alone
        raise GitPlanError(f"cannot write to {directory}: {error.strerror}; nothing was written") from None
    faults.point("packs.registered")
    try:
        writer.install(keep=f"gitplan plan {plan_id}\n")
    except OSError as error:  # its files went: `git prune --expire=now` removes temporary files
        writer.abandon()
        raise GitPlanError(
            f"cannot put the new pack in place in {directory}: {error.strerror} (another process, "
            "such as git prune --expire=now, removed its temporary files); nothing was recorded, "
            "try again"
        ) from None
    return Written(pack, folding)


def _vanished(error: FileNotFoundError, directory: Path, registry: Path) -> GitPlanError:
    """What went while a pack was written: a file being recorded, the plan's registry,
    or (by default) the pack's own temporary file."""
    gone = os.fsdecode(error.filename) if error.filename else ""
    if gone.startswith(f"{registry}{os.sep}"):  # _register gave up: removed 100 times
        return GitPlanError(
            f"the plan's pack registry {registry} was removed while the new pack was registered "
            "(a cancel of the plan, or git plan gc, ran meanwhile); nothing was recorded, try again"
        )
    if gone and not gone.startswith(f"{directory}{os.sep}"):
        return BadInput(f"{gone} was removed while it was being recorded; nothing was written")
    # `git prune --expire=now` removes temporary files of objects/pack
    return GitPlanError(
        f"the new pack's temporary file in {directory} was removed while it was written (by another "
        "process, such as git prune --expire=now); nothing was recorded, try again"
    )


def _registered(
    repo: pygit2.Repository,
    plan_id: str,
    writer: packfile.PackWriter,
    total: int,
    fill: Callable[[], None],
    notes: str = "",
) -> OwnedPack:
    """The pack `fill` adds `total` objects to, finished and registered to the plan but not
    yet in place (`writer.install`); the writer is abandoned on any error."""
    try:
        fill()
        name = writer.finish()
        pack = OwnedPack(name, _stamp(writer.temporary_pack), total)
        _register(repo, plan_id, pack.entry, notes)
    except BaseException:
        writer.abandon()
        raise
    return pack


def _indexes(
    directory: Path, chosen: Iterable[OwnedPack]
) -> list[tuple[OwnedPack, list[packfile.PackEntry]]]:
    """Each pack's index entries; _CopyFailed if one is gone."""
    try:
        return [(pack, packfile.read_index(directory / f"{pack.name}.idx")) for pack in chosen]
    except (FileNotFoundError, ValueError):
        raise _CopyFailed from None


def _copy(
    writer: packfile.PackWriter,
    directory: Path,
    contents: list[tuple[OwnedPack, list[packfile.PackEntry]]],
    wanted: set[bytes],
) -> None:
    """Copy the `wanted` entries of these packs into `writer`, each once (`wanted` is used up)."""
    try:
        for pack, entries in contents:
            path = directory / f"{pack.name}.pack"
            if all(entry.oid in wanted for entry in entries):  # the usual case: copied as one block
                wanted.difference_update(entry.oid for entry in entries)
                writer.add_pack(path, entries)
                continue
            for entry, raw in packfile.raw_entries(path, entries):
                if entry.oid in wanted:  # gitplan writes no deltas: a duplicate can be skipped
                    if (raw[0] >> 4) & 7 == packfile.OBJ_OFS_DELTA:
                        # Only a pack git wrote (a fetch's) has these: its base may be one skipped.
                        raise _CopyFailed(pack)
                    wanted.discard(entry.oid)
                    writer.add_raw(entry.oid, raw)
    except (FileNotFoundError, ValueError):
        raise _CopyFailed from None


def to_fold(
    repo: pygit2.Repository, plan_id: str, objects: int, budget: int | None = None
) -> tuple[OwnedPack, ...]:
    """The plan's packs that a write of `objects` new objects should fold in: those the
    tiered merges after it would take (`consolidate`), worked out before the write.

    Nothing while the repository is near gc.autoPackLimit (consolidate's budget rules
    decide there). A pack someone freshened, or one not in place, is left out of the
    tiers (`_left_alone`), as is one not published yet (`_unpublished`). `budget` is
    pack_budget's, when the caller has it."""
    if _pack_count(repo) >= (pack_budget(repo) if budget is None else budget):
        return ()
    owned = owned_packs(repo, plan_id)
    return tuple(_mergeable(repo, plan_id, owned, lambda packs: _tiered_folds(packs, objects)))


def _mergeable(
    repo: pygit2.Repository,
    plan_id: str,
    owned: list[OwnedPack],
    choose: Callable[[list[OwnedPack]], list[OwnedPack]],
) -> list[OwnedPack]:
    """The packs `choose` takes of the plan's `owned` to merge, those merges leave out set
    aside first when it took one (`_left_alone`, `_unpublished`); none when the second
    choice takes a pack not published either (it was published meanwhile, or went)."""
    chosen = choose(owned)
    directory = pack_dir(repo)
    left = {pack for pack in chosen if _left_alone(directory, pack)} | _unpublished(repo, plan_id, chosen)
    if not left:
        return chosen
    chosen = choose([pack for pack in owned if pack not in left])
    return [] if _unpublished(repo, plan_id, chosen) else chosen


def _unpublished(repo: pygit2.Repository, plan_id: str, chosen: list[OwnedPack]) -> set[OwnedPack]:
    """Those of the plan's `chosen` packs a write has not published (yet: the writer may
    still be on its way, or lose its race, or have been killed), or whose entry is gone.
    Merges leave them out: the writer that loses removes its own pack, and `git plan gc`
    a killed one's, which they could no longer do once a merged pack held its objects.

    A write's registry entry names the notes commit it is to publish until the write has
    published it (`published` empties the entry). A writer killed in between leaves the
    name: its pack counts as published when the plan's notes ref leads back to that
    commit within a few dozen steps (each notes commit follows the one before), and the
    entry is emptied then. Any other named pack stays out until its writer removes it,
    or `git plan gc` does."""
    directory = registry_path(repo, plan_id)
    claims: dict[bytes, OwnedPack] = {}
    gone: set[OwnedPack] = set()
    for pack in chosen:
        try:
            with open(directory / pack.entry, "rb") as handle:
                named = handle.read(41).strip()
        except OSError:
            gone.add(pack)
            continue
        if named:
            claims[named] = pack
    if not claims:
        return gone
    try:
        ref = repo.references.get(notes_ref(plan_id))
        at = pygit2.Oid(hex=str(ref.target)) if ref is not None else None
        for _ in range(_CLAIM_STEPS):
            if not claims or at is None:
                break
            found = claims.pop(str(at).encode(), None)
            if found is not None:
                published(repo, plan_id, found)
            commit = repo[at]
            at = commit.parent_ids[0] if isinstance(commit, pygit2.Commit) and commit.parent_ids else None
    except (KeyError, ValueError, pygit2.GitError):  # gone meanwhile, or not a chain: merge none of them
        return set(chosen)
    return gone | set(claims.values())


_CLAIM_STEPS = 64  # the records a killed writer's published pack stays within, for its name to be found


def published(repo: pygit2.Repository, plan_id: str, pack: OwnedPack) -> None:
    """The write of `pack` has published what it holds: its registry entry names nothing
    any more, so merges take it whatever the plan's refs do later (an undo, a forced
    fetch). Left named (a failure here), it is looked for in the notes ref's chain."""
    with contextlib.suppress(OSError):
        os.truncate(registry_path(repo, plan_id) / pack.entry, 0)


def _tiered_folds(owned: list[OwnedPack], objects: int) -> list[OwnedPack]:
    """The packs the tiered merges after writing `objects` new objects would take."""
    pending = OwnedPack("", 0, objects)  # the pack about to be written
    tail = [*owned, pending]
    folded: list[OwnedPack] = []
    for _ in range(_MOST_ROUNDS):
        chosen = _tiered_tail(tail)
        if len(chosen) < 2:
            break
        folded += [pack for pack in chosen if pack.name]
        pending = OwnedPack("", 0, sum(pack.objects for pack in chosen))
        tail = [*tail[: len(tail) - len(chosen)], pending]
    return folded


def retire(repo: pygit2.Repository, plan_id: str, folded: Iterable[OwnedPack]) -> None:
    """Remove packs whose every object a newer pack of the plan holds (it took them in).

    Each goes as a writer's own pack does (`discard`): one that someone freshened
    stays. Under the plan's consolidation lock, which cancel holds while it prunes:
    when it is taken, the packs stay for that prune (or, if the plan lives on, for
    the next record that takes packs in, or `git plan gc`)."""
    folded = tuple(folded)
    if not folded:
        return
    with exclusive(repo, f"consolidate-{plan_id}", blocking=False) as mine:
        for pack in folded if mine else ():
            discard(repo, plan_id, pack)


def adopt(
    repo: pygit2.Repository, plan_id: str, pack: Path, base: str | None, notes: str = ""
) -> OwnedPack | None:
    """Make a pack that git wrote elsewhere (a fetch's quarantine) the plan's own, and install it.

    It gets what `write` gives a pack: a stamped mtime, a registry entry, a
    `.keep`, and is moved in pack first, index last; cancel then prunes it."""
    index = pack.with_suffix(".idx")
    if (pack_dir(repo) / pack.name).exists():
        return None  # the same pack is here already (another fetch): it is not this plan's alone
    with index.open("rb") as handle:
        handle.seek(8 + 255 * 4)
        count = int.from_bytes(handle.read(4), "big")
    owned = OwnedPack(pack.stem, _stamp(pack), count)
    if base:
        record_base(repo, plan_id, base)
    _register(repo, plan_id, owned.entry, notes)
    target = pack_dir(repo)
    (target / f"{pack.stem}.keep").write_text(f"gitplan plan {plan_id}\n")
    permissions.widen(target / f"{pack.stem}.keep")
    for suffix in (".pack", ".rev", ".idx"):
        with contextlib.suppress(FileNotFoundError):
            move_file(pack.with_suffix(suffix), target / f"{pack.stem}{suffix}")
    return owned


def _stamp(path: str | Path) -> int:
    """Give the file a known mtime and return it as the filesystem stored it."""
    now = time.time_ns()
    os.utime(path, ns=(now, now))
    return os.stat(path).st_mtime_ns


def discard(
    repo: pygit2.Repository, plan_id: str, pack: OwnedPack, freshened_before: int | None = None
) -> bool:
    """Delete a pack nothing references; False (and it stays) if someone freshened it.

    The pack leaves `objects/pack` by rename before its mtime is checked, so a
    freshen that comes later fails and makes its caller write its own copy. A
    freshen older than `freshened_before` (ns; `git plan gc`'s grace) no longer
    counts: whoever freshened the pack has long referenced what it wanted, where
    cancel's walk sees it."""
    source = pack_dir(repo)
    # One trash directory per process: `git plan gc` puts back only what a dead process left.
    trash = trash_dir(repo) / str(os.getpid())
    trash.mkdir(parents=True, exist_ok=True)
    permissions.widen(trash)
    moved: list[tuple[Path, Path]] = []
    for suffix in (".idx", ".rev", ".pack", ".keep"):  # .rev: a fetched pack's reverse index
        here, there = source / (pack.name + suffix), trash / (pack.name + suffix)
        with contextlib.suppress(FileNotFoundError):
            os.rename(here, there)
            moved.append((here, there))
    faults.point("packs.moved-to-trash")
    try:
        fresh = _fresh_mtime(os.stat(trash / (pack.name + ".pack")).st_mtime_ns, pack, freshened_before)
    except FileNotFoundError:
        fresh = False  # someone else discarded it already
    if fresh:
        for here, there in reversed(moved):
            os.rename(there, here)
        return False
    for _, there in moved:
        there.unlink(missing_ok=True)
    unregister(repo, plan_id, pack)
    drop_multi_pack_index_naming(source, pack.name)
    return True


def drop_multi_pack_index_naming(directory: Path, pack_name: str) -> bool:
    """Remove git's multi-pack-index (and its bitmap and reverse index) if it lists the
    pack `pack_name`, now deleted: one that lists a missing pack makes `git fsck` fail.
    It is a cache; git reads packs without it and `git maintenance` writes it again."""
    midx = directory / "multi-pack-index"
    try:
        with open(midx, "rb") as handle:
            listed = f"{pack_name}.idx".encode() in handle.read()
    except FileNotFoundError:
        return False
    if not listed:
        return False
    remove_multi_pack_index(directory)
    return True


def remove_multi_pack_index(directory: Path) -> None:
    """Remove git's multi-pack-index from the pack directory, with its bitmap and reverse
    index (`multi-pack-index-<hash>.*`)."""
    (directory / "multi-pack-index").unlink(missing_ok=True)
    for extra in directory.glob("multi-pack-index-*"):
        extra.unlink(missing_ok=True)


def freshened(repo: pygit2.Repository, pack: OwnedPack) -> bool:
    """Has someone freshened the pack (set its mtime) since gitplan wrote it?"""
    return _freshened(pack_dir(repo), pack)


def _left_alone(directory: Path, pack: OwnedPack) -> bool:
    """A pack merges leave out: freshened (someone may be about to reference an object in
    it), or not in place (a writer is putting it there, or was killed doing so or
    removing it; `git plan gc` sees to the registry entry)."""
    mtime = _mtime(directory, pack)
    return mtime is None or _fresh_mtime(mtime, pack, None)


def _freshened(directory: Path, pack: OwnedPack) -> bool:
    mtime = _mtime(directory, pack)
    return mtime is not None and _fresh_mtime(mtime, pack, None)


def _mtime(directory: Path, pack: OwnedPack) -> int | None:
    try:
        return os.stat(directory / f"{pack.name}.pack").st_mtime_ns
    except FileNotFoundError:
        return None


def _fresh_mtime(mtime: int, pack: OwnedPack, freshened_before: int | None) -> bool:
    return mtime != pack.marker and (freshened_before is None or mtime >= freshened_before)


def birth(repo: pygit2.Repository, plan_id: str) -> int | None:
    """When the plan began (its registry's base entry was made); consolidation never moves it."""
    directory = registry_path(repo, plan_id)
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return None
    times = [entry.stat().st_mtime_ns for entry in entries if entry.name.startswith("base-")]
    return min(times) if times else None


def forget(repo: pygit2.Repository, plan_id: str) -> None:
    """Remove a plan's registry (its packs are gone or handed over to git), and give
    what prunes of it copied out back to git."""
    release_rescues(repo, plan_id)
    shutil.rmtree(registry_path(repo, plan_id), ignore_errors=True)


def pack_object_ids(repo: pygit2.Repository, pack: OwnedPack | str) -> list[bytes] | None:
    """The ids of the objects in a pack (owned, or named `pack-<sha>`); None if it is gone."""
    name = pack if isinstance(pack, str) else pack.name
    try:
        return [entry.oid for entry in packfile.read_index(pack_dir(repo) / f"{name}.idx")]
    except FileNotFoundError:
        return None


def exclusive(
    repo: pygit2.Repository, name: str, blocking: bool = True
) -> contextlib.AbstractContextManager[bool]:
    """An advisory lock under the gitplan state dir; yields False if not blocking and taken."""
    return locked(state_dir(repo) / "locks" / name, blocking)


def apply_lease(repo: pygit2.Repository, plan_id: str) -> contextlib.AbstractContextManager[bool]:
    """Held by an apply of the plan from before it reads the plan's refs until it stands or
    has put everything back (one apply of a plan at a time). A cancel waits for it before
    it prunes: the commit or index an apply is writing references the plan's objects
    before any ref or index file shows it."""
    return exclusive(repo, f"apply-{plan_id}")


def publish_gate(
    repo: pygit2.Repository, plan_id: str, blocking: bool = True, shared: bool = True
) -> contextlib.AbstractContextManager[bool]:
    """Shared by the writers of a plan while they publish (transaction.py); an apply holds
    it alone, inside its lease: nothing lands in a plan while it is being applied, so
    no changeset is left out of an apply that then marks the plan applied."""
    return locked(state_dir(repo) / "locks" / f"publish-{plan_id}", blocking, shared)


def consolidate(repo: pygit2.Repository, plan_id: str, budget: int | None = None) -> OwnedPack | None:
    """Merge some of a plan's packs after a write, so that packs stay few.

    Tiered, four at a time (`_tiered_tail`): a plan of n changesets owns O(log n)
    packs, each object is copied about log4(n) times, and three writes in four
    merge nothing. When the repository holds half of `gc.autoPackLimit` packs,
    the writing plan keeps two (`_two_packs`); from the limit on, one. A pack
    someone freshened, or one not in place, stays out of the merges
    (`_left_alone`), as does one not published yet (`_unpublished`). The merged
    pack is in place before any old one goes, so every object stays readable throughout."""
    merged = None
    budget = pack_budget(repo) if budget is None else budget
    # A merged pack may complete four of the next tier. The rounds are few: a writer
    # whose plan other writers keep growing must not copy it again and again.
    for _ in range(_MOST_ROUNDS):
        owned = owned_packs(repo, plan_id)
        chosen = _mergeable(repo, plan_id, owned, lambda packs: _to_merge(repo, packs, budget))
        if len(chosen) < 2:
            break
        with exclusive(repo, f"consolidate-{plan_id}", blocking=False) as mine:
            if not mine:
                break  # another writer of this plan is doing it
            result = _merge(repo, plan_id, chosen)
        if result is None:
            break
        merged = result
    return merged


_MOST_ROUNDS = 3  # a record's own pack, then two tiers above it


def _to_merge(repo: pygit2.Repository, owned: list[OwnedPack], budget: int) -> list[OwnedPack]:
    count = _pack_count(repo)
    if count >= 2 * budget:
        return owned
    if count >= budget:
        return _two_packs(owned)
    return _tiered_tail(owned)


def _tiered_tail(owned: list[OwnedPack]) -> list[OwnedPack]:
    """The newest packs, once _MERGE_FAN_IN of them are no larger than the newest's tier.

    A pack's tier is log4 of its object count, so four packs of one tier merge into
    one of the next, and that one merges again once four of its tier stand together
    (consolidate repeats). Sizes are object counts, not bytes: each changeset's notes
    tree grows with the plan, so in bytes the newest pack would always look the largest."""
    if not owned:
        return []
    newest = _tier(owned[-1].objects)
    start = len(owned) - 1
    while start > 0 and _tier(owned[start - 1].objects) <= newest:
        start -= 1
    return owned[start:] if len(owned) - start >= _MERGE_FAN_IN else []


_MERGE_FAN_IN = 4


def _tier(objects: int) -> int:
    return (max(objects, 1).bit_length() - 1) // 2  # log4, rounded down


def _two_packs(owned: list[OwnedPack]) -> list[OwnedPack]:
    """The packs to merge so that the plan owns two: its oldest (and largest) and one
    with everything written since, which each write merges into again. The two
    become one once the second holds as many objects as the square root of the
    first's times the newest's, so that a long plan is not copied whole by every
    write (as one pack per plan would need) while its packs stay two."""
    if len(owned) < 2:
        return []
    tail = owned[1:]
    grown = sum(pack.objects for pack in tail)
    return owned if grown * grown >= owned[0].objects * owned[-1].objects else tail


def _pack_count(repo: pygit2.Repository) -> int:
    try:
        return sum(1 for entry in os.scandir(pack_dir(repo)) if entry.name.endswith(".idx"))
    except FileNotFoundError:
        return 0


def pack_budget(repo: pygit2.Repository) -> int:
    """Half of gc.autoPackLimit (git's default 50): from this many packs in the repository
    a writing plan keeps two of its own, from twice as many one (consolidate)."""
    try:
        limit = int(config_value(repo, "gc.autoPackLimit") or "50")
    except ValueError:
        limit = 50
    return max(2, (limit if limit > 0 else 50) // 2)


def _merge(repo: pygit2.Repository, plan_id: str, chosen: list[OwnedPack]) -> OwnedPack | None:
    directory = pack_dir(repo)
    if any(_freshened(directory, pack) for pack in chosen):
        return None  # someone may be about to reference one of them: leave it to cancel or gc

    def make(order: tuple[OwnedPack, ...]) -> OwnedPack:
        contents = _indexes(directory, order)
        unique = {entry.oid for _, entries in contents for entry in entries}
        total = len(unique)  # _copy uses `unique` up
        writer = packfile.PackWriter(directory, total)
        merged = _registered(repo, plan_id, writer, total, lambda: _copy(writer, directory, contents, unique))
        writer.install(keep=f"gitplan plan {plan_id}\n")
        return merged

    try:
        merged = _deltas_first(tuple(chosen), make)
    except _CopyFailed:  # a pack went away (cancel), is not what its index says, or holds deltas
        return None
    for pack in chosen:
        discard(repo, plan_id, pack)  # every object is also in the merged pack now
    return merged
