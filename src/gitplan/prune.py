"""Cancel's clean-up: delete the packs a plan wrote, once nothing else references them.

A plan's objects live in the packs its registry lists (packs.py), so cancel
finds them without walking the plan. An object the plan wrote can only be
referenced by something written after it, so only what changed since the
plan's first pack is looked at, and nothing older:

* every ref's target (a branch or tag made from the plan), other plans' bases;
* reflog files, pseudo-refs (HEAD, ORIG_HEAD, CHERRY_PICK_HEAD...) and index
  files (entries and cache tree) of every worktree, and the one GIT_INDEX_FILE
  names, when written since then;
* loose objects written since then (a commit that cherry-picked plan content,
  a tree that `git add` or `git stash` built on it, a tag), one level deep:
  a chain of new loose objects is seen link by link;
* and when git wrote a pack of its own since then (`git gc`, `git repack`, a
  fetch), new objects may be packed rather than loose: then everything that
  refs, reflogs and indexes reach, as `git rev-list` lists it.

Referenced objects, and the plan objects they lead to, are copied into a
small pack of their own before the plan's packs go. A pack someone freshened
is left in place (packs.discard); an object that cannot be read makes the
prune keep everything and say so. Packs that `git gc` already folded into its
own are left to git. Called with the plan's refs already deleted, under the
repository's one prune lock.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

import pygit2

from . import faults, packfile, packs
from .errors import Damaged
from .format import PLAN_REF_PREFIX, trailers
from .gitrepo import common_dir, config_flag, index_file
from .indexfile import index_mentions
from .model import CleanupReport
from .packfile import OBJ_BLOB, OBJ_COMMIT, OBJ_TAG, OBJ_TREE

# Filesystem timestamps may be coarse: look a little further back than the first pack.
SLACK_NS = 2_000_000_000
_GITLINK = b"160000"


class Uncertain(Exception):
    """Something could not be read: keep everything rather than guess."""


def prune_plan(
    repo: pygit2.Repository, plan_id: str, refs_deleted: tuple[str, ...], freshened_before: int | None = None
) -> CleanupReport:
    """Delete the plan's packs except what something else references; report what happened.

    A pack someone freshened stays, with everything in it, unless the freshen is
    older than `freshened_before` (`git plan gc`'s grace, in ns)."""
    owned = packs.owned_packs(repo, plan_id)
    contents: list[tuple[packs.OwnedPack, set[bytes]]] = []
    absorbed = 0
    for pack in owned:
        listed = packs.pack_object_ids(repo, pack)
        if listed is None:
            absorbed += 1  # folded into git's own packs by git gc/repack
        else:
            contents.append((pack, set(listed)))
    candidates = set().union(*(ids for _, ids in contents)) if contents else set()
    reasons: list[str] = []
    if absorbed:
        reasons.append(
            f"{absorbed} of the plan's packs are no longer among the repository's packs (git repacked "
            "them into its own, or a killed record never put them in place): git gc prunes what they held"
        )
    if not candidates:
        packs.forget(repo, plan_id)
        return CleanupReport(plan_id, refs_deleted, 0, 0, 0, tuple(reasons))
    if precious_objects(repo):
        for pack, _ in contents:  # git's to keep from now on (it never prunes them either)
            (packs.pack_dir(repo) / f"{pack.name}.keep").unlink(missing_ok=True)
        packs.forget(repo, plan_id)
        reasons.append(PRECIOUS)
        return CleanupReport(plan_id, refs_deleted, 0, len(candidates), 0, tuple(reasons))
    # Since the plan began: its birth (consolidation restamps packs, never the birth).
    since = min([pack.marker for pack, _ in contents] + [packs.birth(repo, plan_id) or 2**63]) - SLACK_NS
    try:
        keep = _closure(repo, _referenced(repo, plan_id, candidates, since), candidates)
    except Uncertain as why:
        reasons.append(f"kept everything: {why}")
        return CleanupReport(plan_id, refs_deleted, 0, len(candidates), 0, tuple(reasons))
    if keep:
        # Everything in use is copied out, even what stays in a freshened pack: a later
        # prune no longer sees the copied objects as the plan's, nor what they lead to.
        # What an earlier prune of this plan copied is not copied again (each `git plan
        # gc` would add a pack).
        # What another plan's kept pack also holds is copied too: that pack may be one its
        # writer or `git plan gc` deletes without looking at what references it (a lost
        # race, a killed record), since nothing can reference what a plan never published.
        wanted = keep - packs.rescued_ids(repo, plan_id)
        if wanted:
            rescue = copy_out(repo, wanted)
            faults.point("prune.rescued")
            packs.record_rescue(repo, plan_id, rescue)
    caches = _drop_stale_caches(repo, since)
    # Each object is counted once: one that a freshened pack still holds is kept for
    # that reason, whatever else would have kept it.
    gone: set[bytes] = set()  # in a pack deleted, used by nothing
    used: set[bytes] = set()  # in a pack deleted, but in use: copied out first
    fresh: set[bytes] = set()  # in a pack someone freshened, which stays
    freshened: list[str] = []
    freed = 0
    packs.keep_rescues(repo, plan_id)
    for pack, ids in contents:
        try:
            size = (packs.pack_dir(repo) / f"{pack.name}.pack").stat().st_size
        except FileNotFoundError:
            size = 0
        faults.point("prune.discarding")
        if packs.discard(repo, plan_id, pack, freshened_before):
            gone |= ids - keep
            used |= ids & keep
            freed += size
        else:
            fresh |= ids
            freshened.append(
                f"{pack.name} ({_objects(len(ids))}) was used by another process just now; "
                "`git plan gc` removes it once unused for its grace period"
            )
    elsewhere = len(used - fresh)
    if elsewhere:
        reasons.append(f"{_objects(elsewhere, verb=True)} still used elsewhere and kept")
    reasons += freshened + caches
    if not fresh:  # what was copied out stays kept while a pack of the plan is left
        packs.forget(repo, plan_id)
    return CleanupReport(plan_id, refs_deleted, len(gone - fresh), len(used | fresh), freed, tuple(reasons))


PRECIOUS = (
    "kept everything: extensions.preciousObjects is set (other repositories may borrow them), "
    "so gitplan deletes none, as git prune would not; the plan's packs are git's now"
)


def precious_objects(repo: pygit2.Repository) -> bool:
    """Is the repository's every object to be kept (`extensions.preciousObjects`, set where
    other repositories borrow objects from this one)?"""
    return config_flag(repo, "extensions.preciousObjects", False)


def _objects(count: int, verb: bool = False) -> str:
    """ "1 object", "2 objects"; with `verb`, "1 object is", "2 objects are"."""
    if count == 1:
        return "1 object is" if verb else "1 object"
    return f"{count} objects are" if verb else f"{count} objects"


def _drop_stale_caches(repo: pygit2.Repository, since: int) -> list[str]:
    """Remove git's commit-graph and multi-pack-index when written since the plan began.

    `git gc` writes a commit-graph of every commit refs reach, the plan's too;
    a graph that names deleted commits makes `git fsck` fail. Both files are
    caches that git reads only when present and rewrites at its next gc."""
    objects = common_dir(repo) / "objects"
    caches = [
        objects / "info" / "commit-graph",
        objects / "info" / "commit-graphs" / "commit-graph-chain",
        objects / "pack" / "multi-pack-index",
    ]
    dropped = []
    for cache in caches:
        if _fresh(cache, since):
            if cache.name == "multi-pack-index":
                packs.remove_multi_pack_index(cache.parent)
            else:
                cache.unlink(missing_ok=True)
            dropped.append(cache.name)
            if cache.name == "commit-graph-chain":
                for layer in cache.parent.glob("graph-*.graph"):
                    layer.unlink(missing_ok=True)
    if not dropped:
        return []
    return [f"removed git's {', '.join(dropped)} (it named the plan's commits); `git gc` writes it again"]


def _read(repo: pygit2.Repository, oid: bytes) -> tuple[int, bytes]:
    try:
        kind, data = repo.odb.read(oid.hex())[:2]
    except (KeyError, ValueError, pygit2.GitError) as error:
        raise Uncertain(f"object {oid.hex()} cannot be read ({error})") from None
    return int(kind), bytes(data)


def _kind(repo: pygit2.Repository, oid: bytes) -> int:
    try:
        return int(repo.odb.read_header(oid.hex())[0])
    except (KeyError, ValueError, pygit2.GitError) as error:
        raise Uncertain(f"object {oid.hex()} cannot be read ({error})") from None


def direct_references(kind: int, data: bytes) -> Iterator[bytes]:
    """The ids an object names: a commit's tree and parents, a tree's entries, a tag's object."""
    if kind in (OBJ_COMMIT, OBJ_TAG):
        for line in data.split(b"\n"):
            if not line:
                break
            key, _, value = line.partition(b" ")
            if key in (b"tree", b"parent", b"object") and len(value) == 40:
                yield bytes.fromhex(value.decode())
    elif kind == OBJ_TREE:
        position = 0
        while position < len(data):
            space = data.index(b" ", position)
            nul = data.index(b"\0", space)
            if data[position:space] != _GITLINK:
                yield data[nul + 1 : nul + 21]
            position = nul + 21


def _closure(repo: pygit2.Repository, referenced: set[bytes], candidates: set[bytes]) -> set[bytes]:
    """The referenced candidates and every candidate they lead to."""
    keep: set[bytes] = set()
    todo = [oid for oid in referenced if oid in candidates]
    while todo:
        oid = todo.pop()
        if oid in keep:
            continue
        keep.add(oid)
        kind, data = _read(repo, oid)
        todo.extend(child for child in direct_references(kind, data) if child in candidates)
    return keep


def _referenced(repo: pygit2.Repository, plan_id: str, candidates: set[bytes], since: int) -> set[bytes]:
    """The candidates that something other than the plan names directly."""
    found: set[bytes] = set()
    for oid in _roots(repo, plan_id, since):
        if oid in candidates:
            found.add(oid)
    found |= _named_by_indexes(repo, candidates, since)
    for kind, data in _fresh_loose_objects(repo, since):
        found.update(child for child in direct_references(kind, data) if child in candidates)
    found |= _named_in_state_files(repo, candidates)
    owner, aside = packs.registry_owner(plan_id)
    if aside:
        # The registry of a cancelled plan, set aside when a plan of its name was made again.
        # That plan may be built on these objects (a fetch that found them here brought
        # nothing), and its own packs are not looked at above: read what they name.
        found |= _named_by_packs(repo, [pack.name for pack in packs.owned_packs(repo, owner)], candidates)
    fresh = _fresh_unlisted_packs(repo, since)
    rescued = fresh & packs.rescued_packs(repo)
    if fresh - rescued:
        # git gc, repack or fetch ran since the plan began: new objects that name the plan's
        # may sit in a pack of git's, not loose. Ask git for everything reachable instead.
        found.update(reachable_by_git(repo) & candidates)
    else:
        # Packs earlier prunes copied objects into hold nothing else: read what they name.
        found |= _named_by_packs(repo, rescued, candidates)
    return found


def _named_by_packs(repo: pygit2.Repository, names: Iterable[str], candidates: set[bytes]) -> set[bytes]:
    """The candidates that a commit, tree or tag in these packs names directly. Blobs,
    which name nothing and may be large, are not read."""
    found: set[bytes] = set()
    for name in names:
        for oid in packs.pack_object_ids(repo, name) or ():
            if _kind(repo, oid) != OBJ_BLOB:
                found.update(child for child in direct_references(*_read(repo, oid)) if child in candidates)
    return found


def _fresh_unlisted_packs(repo: pygit2.Repository, since: int) -> set[str]:
    """The packs written since `since` that no plan's registry lists as its own."""
    ours: set[str] = set()
    registries = packs.state_dir(repo) / "packs"
    with contextlib.suppress(FileNotFoundError):
        for registry in os.scandir(registries):
            with contextlib.suppress(NotADirectoryError, FileNotFoundError):
                ours.update(entry.name.split(".")[0] for entry in os.scandir(registry.path))
    try:
        indexes = [e for e in os.scandir(packs.pack_dir(repo)) if e.name.endswith(".idx")]
    except FileNotFoundError:
        return set()
    listed = (e for e in indexes if e.name[: -len(".idx")] not in ours and _fresh(Path(e.path), since))
    return {e.name[: -len(".idx")] for e in listed}


def reachable_by_git(repo: pygit2.Repository) -> set[bytes]:
    """Every object refs, reflogs and the indexes of all worktrees reach, as git lists them;
    and what the index GIT_INDEX_FILE named reaches (git's own prune would read that one
    instead of the worktree's own index: both are kept)."""
    faults.point("prune.reachable-by-git")
    found = _rev_list(repo, ["--all", "--reflog", "--indexed-objects"])
    named = index_file(repo)
    if named is not None:
        found |= _rev_list(repo, ["--single-worktree", "--indexed-objects"], GIT_INDEX_FILE=named)
    return found


def _rev_list(repo: pygit2.Repository, options: list[str], **extra: str) -> set[bytes]:
    """The objects `git rev-list --objects OPTIONS` lists, git told of nothing but the
    repository (and `extra`)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    environment.update(extra)
    command = ["git", "--git-dir", repo.path, "rev-list", "--objects", "--no-object-names", *options]
    listed = subprocess.run(command, capture_output=True, env=environment, check=False)
    if listed.returncode != 0:
        raise Uncertain(f"git rev-list failed: {listed.stderr.decode(errors='replace').strip()}")
    return set(_hex_ids(listed.stdout.decode().split()))


def _hex_ids(words: Iterable[str]) -> Iterator[bytes]:
    for word in words:
        if len(word) == 40:
            try:
                yield bytes.fromhex(word)
            except ValueError:
                continue


def _git_dirs(repo: pygit2.Repository) -> list[Path]:
    main = common_dir(repo)
    worktrees = main / "worktrees"
    linked = sorted(p for p in worktrees.iterdir() if p.is_dir()) if worktrees.is_dir() else []
    return [main, *linked]


def _fresh(path: Path, since: int) -> bool:
    try:
        return path.stat().st_mtime_ns >= since
    except FileNotFoundError:
        return False


def _roots(repo: pygit2.Repository, plan_id: str, since: int) -> Iterator[bytes]:
    for ref in repo.references.iterator():
        target = ref.target
        if isinstance(target, pygit2.Oid):
            yield target.raw
    for git_dir in _git_dirs(repo):
        yield from _pseudo_refs(git_dir, since)
        yield from _reflogs(git_dir / "logs", since)
    for git_dir in _git_dirs(repo)[1:]:
        # A linked worktree's own refs (refs/worktree/*, refs/bisect/*), which the
        # repository's reference list does not show.
        yield from _ref_files(git_dir / "refs", since)
    yield from _other_plans_bases(repo, plan_id)


def _ref_files(directory: Path, since: int) -> Iterator[bytes]:
    for path in _fresh_files(directory, since):
        yield from _hex_ids(path.read_text(errors="replace").split()[:1])


def _named_by_indexes(repo: pygit2.Repository, candidates: set[bytes], since: int) -> set[bytes]:
    """The candidates that the index of any worktree names, or the index GIT_INDEX_FILE
    named, where written since `since`."""
    indexes = [(git_dir / "index", index_ids_file(repo, git_dir)) for git_dir in _git_dirs(repo)]
    named = index_file(repo)
    if named is not None:
        indexes.append((Path(named), packs.state_dir(repo) / "index-ids" / _NAMED_INDEX_IDS))
    found: set[bytes] = set()
    for index, remembered in indexes:
        if _fresh(index, since):
            try:
                found |= index_mentions(index, candidates, remembered)
            except Damaged as error:
                raise Uncertain(str(error)) from None
    return found


def index_ids_file(repo: pygit2.Repository, git_dir: Path) -> Path:
    """Where the sorted ids of the index of `git_dir` (the repository's or a linked
    worktree's) are kept between cancels (indexfile.index_mentions)."""
    name = "main" if git_dir == common_dir(repo) else f"worktree-{git_dir.name}"
    return packs.state_dir(repo) / "index-ids" / name


# The ids of the last index GIT_INDEX_FILE named at a cancel: one list, whichever file that
# was (a list is taken only under the checksum of the index it was read from).
_NAMED_INDEX_IDS = "named"


def _pseudo_refs(git_dir: Path, since: int) -> Iterator[bytes]:
    try:
        names = [entry for entry in os.scandir(git_dir) if entry.is_file() and entry.name.endswith("HEAD")]
    except FileNotFoundError:
        return
    for entry in names:
        if entry.stat().st_mtime_ns >= since:
            yield from _hex_ids(Path(entry.path).read_text(errors="replace").split())


def _named_in_state_files(repo: pygit2.Repository, candidates: set[bytes]) -> set[bytes]:
    """Candidates an interrupted cherry-pick, revert or rebase names in its todo lists.

    Those files may abbreviate ids, so every hex word of 7 or more digits is
    matched as a prefix."""
    words: set[str] = set()
    for git_dir in _git_dirs(repo):
        for state in ("sequencer", "rebase-merge", "rebase-apply"):
            for root, _, files in os.walk(git_dir / state):
                for name in files:
                    text = (Path(root) / name).read_text(errors="replace")
                    words.update(w for w in text.split() if 7 <= len(w) <= 40 and _is_hex(w))
    if not words:
        return set()
    ordered = sorted(oid.hex() for oid in candidates)
    found = set()
    for word in words:
        at = bisect.bisect_left(ordered, word)
        while at < len(ordered) and ordered[at].startswith(word):
            found.add(bytes.fromhex(ordered[at]))
            at += 1
    return found


def _is_hex(word: str) -> bool:
    return all(c in "0123456789abcdef" for c in word.lower())


def _reflogs(directory: Path, since: int) -> Iterator[bytes]:
    for path in _fresh_files(directory, since):
        for line in path.read_text(errors="replace").splitlines():
            yield from _hex_ids(line.split(" ", 2)[:2])


def _fresh_files(directory: Path, since: int) -> Iterator[Path]:
    """The files under `directory` (reflogs, a worktree's refs) written since `since`."""
    if not directory.is_dir():
        return
    for root, _, files in os.walk(directory):
        for name in files:
            path = Path(root) / name
            if _fresh(path, since):
                yield path


def _other_plans_bases(repo: pygit2.Repository, plan_id: str) -> Iterator[bytes]:
    """The base of every other plan: in its registry, or read from its root commit."""
    directory = packs.state_dir(repo) / "packs"
    noted: set[str] = set()
    if directory.is_dir():
        for entry in os.scandir(directory):
            if entry.name != plan_id:
                bases = packs.registry_bases(Path(entry.path))
                noted.add(entry.name)
                yield from _hex_ids(bases)
    for name in repo.references:
        other = name[len(PLAN_REF_PREFIX) :] if name.startswith(PLAN_REF_PREFIX) else None
        if other is not None and other != plan_id and other not in noted:
            yield from _root_parents(repo, name)


def _root_parents(repo: pygit2.Repository, ref: str) -> Iterator[bytes]:
    """The parent of a plan's root commit (its base), walking its changesets (no registry).
    A ref there that names no commit (a blob, an object not here) is no plan: its target
    counts as any ref's does. A chain that breaks off hides the base: Uncertain."""
    try:
        commit = repo.references[ref].peel(pygit2.Commit)
    except (pygit2.GitError, KeyError, ValueError):
        return
    while "Changeset" in trailers(commit.message) and commit.parent_ids:
        parent = repo.get(str(commit.parent_ids[0]))
        if not isinstance(parent, pygit2.Commit):
            raise Uncertain(f"{ref} cannot be read back to its base ({commit.parent_ids[0]} is missing)")
        commit = parent
    yield from (parent.raw for parent in commit.parent_ids)


def _fresh_loose_objects(repo: pygit2.Repository, since: int) -> Iterator[tuple[int, bytes]]:
    objects = common_dir(repo) / "objects"
    for fan in range(256):
        directory = objects / f"{fan:02x}"
        if not _fresh(directory, since):
            continue  # no file was added to it since
        try:
            entries = list(os.scandir(directory))
        except FileNotFoundError:
            continue
        for entry in entries:
            try:
                fresh = entry.stat().st_mtime_ns >= since
            except FileNotFoundError:
                continue
            if fresh and len(entry.name) == 38:
                yield _read(repo, bytes.fromhex(directory.name + entry.name))


def copy_out(repo: pygit2.Repository, keep: set[bytes]) -> str:
    """Copy the objects still in use into a pack of their own, owned by nobody (git's);
    return its name."""
    directory = packs.pack_dir(repo)
    writer = packfile.PackWriter(directory, len(keep))
    try:
        for oid in sorted(keep):
            kind, data = _read(repo, oid)
            writer.add(oid, kind, data)
        name = writer.finish()
    except BaseException:
        writer.abandon()
        raise
    writer.install(keep=packs.RESCUE_KEEP)  # until the plan's packs are gone (release_rescues)
    return name
