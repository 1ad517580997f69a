"""`git plan gc`: remove what interrupted gitplan operations left behind.

A record killed after writing its pack, a writer that lost a race, a prune
killed halfway, a plan cancelled while its writer was still running: each can
leave a pack, a temporary file, a registry or a lock that nothing needs. This
module finds them and removes them only when they are older than a grace
period (a writer in flight owns fresh ones). The packs of plans that no longer
exist go through cancel's checks (prune.py); a live plan's pack that holds
none of the plan's commits was never published, and one whose commits its other
packs hold too is a copy; both are removed with the same freshness check as a
writer's own discard.

It never touches what is not gitplan's: git's own packs, loose objects and
temporary files are `git gc`'s. A grace of `now` is for when no gitplan writer
is running: a writer between writing its pack and publishing it owns a pack
that looks unused.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
from collections import Counter
from pathlib import Path

import pygit2

from . import chain as chains
from . import packs, planworktree, prune, refs, surgery
from .errors import BadInput, GitPlanError
from .format import PLAN_REF_PREFIX, notes_ref, plan_ref, trailers
from .gitrepo import common_dir
from .model import CleanupItem, GcReport

DEFAULT_GRACE = "1h"
_FRESHEN_SETTLE_NS = 10 * 10**9
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_grace(text: str) -> float:
    """Seconds in a grace period: `now` or `0`, or a number with s, m, h, d or w."""
    value = text.strip().lower()
    if value in ("now", "0"):
        return 0.0
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhdw])", value)
    if not match:
        raise BadInput(f"invalid grace period {text!r}: use now, or a number with s, m, h, d or w (e.g. 30m)")
    return float(match.group(1)) * _UNITS[match.group(2)]


def collect(repo: pygit2.Repository, grace_seconds: float, dry_run: bool = False) -> GcReport:
    """Remove gitplan's leftovers older than the grace period; report each one."""
    older_than = time.time_ns() - int(grace_seconds * 1e9)
    removed: list[CleanupItem] = []
    kept: list[CleanupItem] = []
    with packs.exclusive(repo, "prune"):
        _temporary_files(repo, older_than, dry_run, removed, kept)
        _trash(repo, dry_run, removed)
        _quarantines(repo, older_than, dry_run, removed)
        live = _live_plans(repo)
        _per_plan_files(repo, "verified", "verified mark", live, older_than, dry_run, removed)
        _per_plan_files(repo, "status", "kept status", live, older_than, dry_run, removed)
        _index_ids(repo, older_than, dry_run, removed)
        _rescue_marks(repo, dry_run, removed)
        _rescue_keeps(repo, dry_run, removed)
        # Undo entries (surgery.py) expire with the grace: `undo` works until then.
        removed.extend(surgery.expire(repo, live, older_than, dry_run))
        # Before pruning: a gone plan's worktree index would keep its objects alive.
        _plan_worktrees(repo, live, older_than, dry_run, removed, kept)
        if not dry_run:
            for plan_id in planworktree.forget_swept(repo, live):
                removed.append(CleanupItem("snapshot state", plan_id, f"plan {plan_id} no longer exists"))
        precious = prune.precious_objects(repo)
        if precious:
            why = "extensions.preciousObjects is set: gitplan deletes no pack of a plan, as git would not"
            kept.append(CleanupItem("unused packs", "every plan", why))
        reachable = _Reachable(repo)
        for plan_id in _registered_plans(repo):
            if plan_id in live:
                if not precious:
                    _unused_packs(repo, plan_id, older_than, dry_run, removed, kept, reachable)
            else:
                _orphaned_registry(repo, plan_id, older_than, dry_run, removed, kept)
        _stale_locks(repo, live, dry_run, removed, kept)
    return GcReport(tuple(removed), tuple(kept), dry_run)


def _plan_worktrees(
    repo: pygit2.Repository,
    live: set[str],
    older_than: int,
    dry_run: bool,
    removed: list[CleanupItem],
    kept: list[CleanupItem],
) -> None:
    """The worktrees `git plan run` keeps: removed when their plan is gone or applied,
    or when a run was interrupted in them, once unused for the grace period; never
    while a command runs in one."""
    for slot in planworktree.slots(repo):
        name = str(slot.directory / slot.plan_id)
        why = None
        if slot.plan_id not in live:
            why = f"plan {slot.plan_id} no longer exists"
        elif _applied(repo, slot.plan_id):
            why = f"plan {slot.plan_id} is applied"
        elif slot.interrupted:
            why = "left by an interrupted run"
        if why is None:
            continue
        if slot.in_use:
            kept.append(CleanupItem("plan worktree", name, f"{why}, but a command is running in it"))
        elif planworktree.still_written(slot.directory):
            reason = f"{why}, but a process a command left running still runs in it"
            kept.append(CleanupItem("plan worktree", name, reason))
        elif slot.last_used_ns > older_than:
            kept.append(CleanupItem("plan worktree", name, f"{why}, but it was used within the grace"))
        elif dry_run or planworktree.remove_if_idle(slot):
            removed.append(CleanupItem("plan worktree", name, why))
        else:  # pragma: no cover - a run took it between the listing and now
            kept.append(CleanupItem("plan worktree", name, f"{why}, but a command is running in it"))


def _applied(repo: pygit2.Repository, plan_id: str) -> bool:
    try:
        return refs.settle(repo, plan_id).applied
    except GitPlanError:  # pragma: no cover - a damaged plan: not gc's to judge
        return False


def _live_plans(repo: pygit2.Repository) -> set[str]:
    found = set()
    for name in repo.references:
        for prefix in (PLAN_REF_PREFIX, "refs/notes/changesets/"):
            if name.startswith(prefix):
                found.add(name[len(prefix) :])
    return found


def _registered_plans(repo: pygit2.Repository) -> list[str]:
    directory = packs.state_dir(repo) / "packs"
    try:
        return sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    except FileNotFoundError:
        return []


def _index_ids(repo: pygit2.Repository, older_than: int, dry_run: bool, removed: list[CleanupItem]) -> None:
    """The index ids cancel keeps (indexfile.index_mentions) for a linked worktree that
    is gone, and the temporary files of a cancel killed while it wrote them."""
    directory = packs.state_dir(repo) / "index-ids"
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return
    worktrees = common_dir(repo) / "worktrees"
    for entry in entries:
        if entry.name.startswith("."):
            if _mtime(entry) >= older_than:
                continue
            why = "left by a cancel that was killed"
        elif entry.name.startswith("worktree-") and not (worktrees / entry.name[len("worktree-") :]).is_dir():
            why = f"worktree {entry.name[len('worktree-') :]} no longer exists"
        else:
            continue
        removed.append(CleanupItem("kept index ids", entry.name, why))
        if not dry_run:
            Path(entry.path).unlink(missing_ok=True)


def _rescue_marks(repo: pygit2.Repository, dry_run: bool, removed: list[CleanupItem]) -> None:
    """The marks of packs a cancel copied objects into (packs.record_rescue) once git has
    repacked them away."""
    for name in sorted(packs.rescued_packs(repo)):
        if packs.pack_object_ids(repo, name) is not None:
            continue
        removed.append(CleanupItem("rescue mark", name, "git repacked the pack it marked"))
        if not dry_run:
            (packs.state_dir(repo) / "rescued" / name).unlink(missing_ok=True)


def _rescue_keeps(repo: pygit2.Repository, dry_run: bool, removed: list[CleanupItem]) -> None:
    """The `.keep` of a pack a cancel copied objects into that no plan's registry names:
    the cancel was killed before it noted the pack. The pack is git's, as every copy is
    once the plan's packs are gone."""
    named = {name for plan_id in _registered_plans(repo) for name in packs.rescue_names(repo, plan_id)}
    for keep in sorted(packs.pack_dir(repo).glob("pack-*.keep")):
        if keep.stem in named or not packs.is_rescue_keep(keep):
            continue
        removed.append(CleanupItem("rescue keep", keep.stem, "a killed cancel left it; the pack is git's"))
        if not dry_run:
            keep.unlink(missing_ok=True)


def _temporary_files(
    repo: pygit2.Repository,
    older_than: int,
    dry_run: bool,
    removed: list[CleanupItem],
    kept: list[CleanupItem],
) -> None:
    """Pack files a killed writer was still writing (git's own tmp_pack files are left to git),
    and a gitplan pack (its `.keep` says so) without its index: a writer killed between
    putting the two in place, or whose temporary index `git prune` removed. No reader sees
    a pack without an index, so nothing can reference what it holds."""
    directory = packs.pack_dir(repo)
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return
    names = {entry.name for entry in entries}
    for entry in entries:
        young = _mtime(entry) >= older_than
        if entry.name.startswith("tmp_pack_gitplan_") or _keep_aside(entry.name):
            if young:
                kept.append(
                    CleanupItem(
                        "temporary file", entry.path, "younger than the grace: a writer may be writing it"
                    )
                )
                continue
            removed.append(CleanupItem("temporary file", entry.path, "left by a writer that was killed"))
            if not dry_run:
                Path(entry.path).unlink(missing_ok=True)
        elif entry.name.endswith(".keep") and entry.name[: -len(".keep")] + ".idx" not in names:
            stem = entry.name[: -len(".keep")]
            with contextlib.suppress(OSError):
                if not Path(entry.path).read_text(errors="replace").startswith("gitplan "):
                    continue  # a .keep of git's or the user's
                if young:
                    why = "younger than the grace: its writer may be putting its index in place"
                    kept.append(CleanupItem("pack without an index", stem, why))
                    continue
                removed.append(CleanupItem("pack without an index", stem, "left by a writer that was killed"))
                if not dry_run:
                    for suffix in (".pack", ".rev", ".keep"):  # the .keep last: no pack is ever without it
                        (directory / f"{stem}{suffix}").unlink(missing_ok=True)


def _keep_aside(name: str) -> bool:
    """A `.keep` being written aside (packfile.write_keep) by a writer that was killed."""
    stem, _, rest = name.partition(".keep.")
    return stem.startswith("pack-") and rest.endswith(".tmp") and rest[: -len(".tmp")].isdigit()


def _trash(repo: pygit2.Repository, dry_run: bool, removed: list[CleanupItem]) -> None:
    """Packs a killed prune moved out before deleting: put back, for the next prune to decide.

    Each process discards into its own `trash/<pid>`; a live process's is left alone."""
    owners = []
    for trash in {packs.state_dir(repo) / "trash", packs.trash_dir(repo)}:
        with contextlib.suppress(FileNotFoundError):
            owners += [entry for entry in os.scandir(trash) if entry.is_dir()]
    order = {".pack": 0, ".keep": 1, ".idx": 2}  # a reader must never find an index without its pack
    for owner in owners:
        if owner.name.isdigit() and _alive(int(owner.name)):
            continue
        for entry in sorted(os.scandir(owner.path), key=lambda item: order.get(Path(item.name).suffix, 3)):
            removed.append(CleanupItem("interrupted prune", entry.path, "moved back into objects/pack"))
            if not dry_run:
                with contextlib.suppress(FileNotFoundError):
                    packs.move_file(Path(entry.path), packs.pack_dir(repo) / entry.name)
        if not dry_run:
            with contextlib.suppress(OSError):
                os.rmdir(owner.path)


def _quarantines(repo: pygit2.Repository, older_than: int, dry_run: bool, removed: list[CleanupItem]) -> None:
    """What a killed `git plan fetch` left in quarantine (sync.py): its objects never landed.

    Each fetch quarantines into `quarantine/<pid>-<random>`; one whose process is alive,
    or that is younger than the grace period (a pid may belong to another machine's or
    container's process), is left alone."""
    try:
        entries = [entry for entry in os.scandir(packs.state_dir(repo) / "quarantine") if entry.is_dir()]
    except FileNotFoundError:
        return
    for entry in entries:
        owner = entry.name.split("-", 1)[0]
        if (owner.isdigit() and _alive(int(owner))) or _mtime(entry) >= older_than:
            continue
        removed.append(CleanupItem("fetch quarantine", entry.path, "left by a fetch that was killed"))
        if not dry_run:
            shutil.rmtree(entry.path, ignore_errors=True)


def _per_plan_files(
    repo: pygit2.Repository,
    directory: str,
    what: str,
    live: set[str],
    older_than: int,
    dry_run: bool,
    removed: list[CleanupItem],
) -> None:
    """A per-plan record of gone plans: the verified-tip marks (PlanStore.verify) and the
    kept statuses (planstatus.py), in `<git-common-dir>/gitplan/<directory>/<plan>`; and
    the temporary files of killed writers there, older than the grace."""
    try:
        entries = list(os.scandir(packs.state_dir(repo) / directory))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.name in live:
            continue
        if entry.name.startswith("."):  # `.NAME.PID.THREAD`: statefile's, written aside to be renamed
            if _mtime(entry) >= older_than:
                continue  # its writer may be about to put it in place
            removed.append(CleanupItem("temporary file", entry.path, "left by a writer that was killed"))
        else:
            removed.append(CleanupItem(what, entry.name, f"plan {entry.name} no longer exists"))
        if not dry_run:
            Path(entry.path).unlink(missing_ok=True)


def _mtime(entry: os.DirEntry[str]) -> int:
    """An entry's mtime; for one gone since it was listed (a writer renamed or removed it),
    the newest possible, so that it counts as in use."""
    try:
        return entry.stat().st_mtime_ns
    except FileNotFoundError:
        return 2**63


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _unused_packs(
    repo: pygit2.Repository,
    plan_id: str,
    older_than: int,
    dry_run: bool,
    removed: list[CleanupItem],
    kept: list[CleanupItem],
    reachable: _Reachable,
) -> None:
    """Packs of a live plan that hold none of its commits (lost races and killed records),
    and packs whose every commit of the plan another of its packs holds too.

    A pack that holds a commit holds every object of the pack that commit was written
    in (merges and records that take packs in copy them whole), so such a copy can
    go: one left by a record killed after taking the plan's newest packs in, or the
    packs it took in once it was published. Only packs older than the grace count as
    the other holder: a younger one may belong to a writer that is about to discard it."""
    try:
        current = refs.read_plan_refs(repo, plan_id)
        used = _plan_commits(repo, plan_id, current)
    except GitPlanError as error:
        kept.append(CleanupItem("plan", plan_id, f"not examined: {error}"))
        return
    owned = packs.owned_packs(repo, plan_id)
    held = {pack: _held(repo, pack, used) for pack in owned}
    holders: Counter[bytes] = Counter()
    for pack, commits in held.items():
        if commits is not None and pack.marker < older_than:
            holders.update(commits)
    for pack in reversed(owned):  # newest first: a killed record's pack before the ones it took in
        commits = held[pack]
        if commits is None:
            if pack.marker >= older_than:
                continue  # a writer between registering its pack and putting it in place
            removed.append(CleanupItem("registry entry", f"{plan_id}/{pack.entry}", "its pack is gone"))
            if not dry_run:
                for suffix in (".pack", ".keep"):  # what a writer killed halfway through placing it left
                    (packs.pack_dir(repo) / f"{pack.name}{suffix}").unlink(missing_ok=True)
                packs.unregister(repo, plan_id, pack)
            continue
        if commits and (pack.marker >= older_than or any(holders[commit] < 2 for commit in commits)):
            continue
        if pack.marker >= older_than:
            kept.append(
                CleanupItem("pack", pack.name, f"unused by plan {plan_id}, but younger than the grace")
            )
            continue
        copy = None
        if not commits and not dry_run:
            try:
                copy = _copy_out_what_git_reaches(repo, pack, reachable)
            except prune.Uncertain as unlisted:
                kept.append(CleanupItem("pack", pack.name, f"never published, but kept: {unlisted}"))
                continue
        discarded = not packs.freshened(repo, pack) if dry_run else packs.discard(repo, plan_id, pack)
        if copy is not None:  # git's from now on, as every copy a prune makes
            packs.release_rescue(packs.pack_dir(repo) / f"{copy}.keep")
        if not discarded:
            kept.append(CleanupItem("pack", pack.name, "used by another process just now"))
            continue
        why = "a copy: the plan's other packs hold its commits" if commits else "never published"
        removed.append(CleanupItem("pack", pack.name, f"written for plan {plan_id}, {why}"))
        holders.subtract(commits)


class _Reachable:
    """What refs, reflogs and indexes reach (prune.reachable_by_git): asked of git at most
    once per gc, however many packs need it."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self._repo = repo
        self._found: set[bytes] | None = None

    def __call__(self) -> set[bytes]:
        if self._found is None:
            self._found = prune.reachable_by_git(self._repo)
        return self._found


def _copy_out_what_git_reaches(
    repo: pygit2.Repository, pack: packs.OwnedPack, reachable: _Reachable
) -> str | None:
    """Before a pack that no commit of its plan needs goes (a lost race's, a killed
    record's): what it alone holds, where a running `git repack -a -d` keeps things
    (packs.held_where_repack_keeps), and what refs, reflogs or indexes reach, is copied
    into a kept pack first; returns that pack's name, or None. Such an object may be
    older than the pack (another plan's content, which a cancel's copy held, and which
    `git gc` then left out of its own pack because this kept pack held it), so what
    reaches it may be older too: git's whole walk is asked (prune.Uncertain if it fails)."""
    ids = set(packs.pack_object_ids(repo, pack) or ())
    alone = ids - packs.held_where_repack_keeps(repo, ids, pack.name)
    reached = alone & reachable() if alone else set()
    return prune.copy_out(repo, reached) if reached else None


def _held(repo: pygit2.Repository, pack: packs.OwnedPack, used: set[bytes]) -> set[bytes] | None:
    """The plan's commits in the pack; None if the pack is gone."""
    ids = packs.pack_object_ids(repo, pack)
    return None if ids is None else used.intersection(ids)


def _plan_commits(repo: pygit2.Repository, plan_id: str, current: refs.PlanRefs) -> set[bytes]:
    """The plan's commits that something names: its chain and notes history, and what the
    two refs' reflogs name, with their history (a rewind undone, a plan fetched over local
    changesets; git fsck checks every reflog entry). Every gitplan pack of the plan that
    was published holds one of them."""
    chain = chains.load_chain(repo, plan_id, current)
    found = {chain.root.id.raw, *(commit.id.raw for commit in chain.commits)}
    _history(repo, current.notes_tip, found, None)
    for name, owner in ((plan_ref(plan_id), plan_id), (notes_ref(plan_id), None)):
        # Only a reflog that is there: libgit2's log() creates an empty one otherwise, and
        # git and libgit2 then append to it (refs/changesets/* would get reflogs).
        reference = repo.references.get(name) if (common_dir(repo) / "logs" / name).is_file() else None
        for entry in reference.log() if reference is not None else ():
            _history(repo, str(entry.oid_new), found, owner)
    return found


def _history(repo: pygit2.Repository, start: str | None, found: set[bytes], owner: str | None) -> None:
    """Add `start` and its first-parent ancestors to `found`, up to one found already; with
    `owner`, only commits of that plan (a plan's chain ends at its base, the user's)."""
    commit = repo.get(start) if start else None
    while (
        isinstance(commit, pygit2.Commit)
        and commit.id.raw not in found
        and (owner is None or trailers(commit.message).get("Plan-Id") == owner)
    ):
        found.add(commit.id.raw)
        # By id: pygit2's `parents` loads every parent, and a missing one would raise.
        commit = repo.get(str(commit.parent_ids[0])) if commit.parent_ids else None


def _orphaned_registry(
    repo: pygit2.Repository,
    plan_id: str,
    older_than: int,
    dry_run: bool,
    removed: list[CleanupItem],
    kept: list[CleanupItem],
) -> None:
    """The registry of a plan that no longer exists, or of an earlier plan of a name
    that was made again (set aside): its packs go through cancel's checks."""
    owned = packs.owned_packs(repo, plan_id)
    born = packs.birth(repo, plan_id)
    shown, aside = packs.registry_owner(plan_id)
    gone = "left by an earlier plan of that name" if aside else "no such plan"
    if any(pack.marker >= older_than for pack in owned) or (born is not None and born >= older_than):
        kept.append(CleanupItem("plan state", shown, f"{gone}, but it was written within the grace"))
        return
    if dry_run:
        removed.append(CleanupItem("plan state", shown, f"{gone}; {len(owned)} pack(s) to prune"))
        return
    # A pack freshened within the last few seconds stays even with a grace of `now`:
    # a git process may be between freshening it and writing what references it.
    report = prune.prune_plan(repo, plan_id, (), min(older_than, time.time_ns() - _FRESHEN_SETTLE_NS))
    removed.append(CleanupItem("plan state", shown, f"{gone}; pruned {report.objects_pruned} objects"))
    for reason in report.reasons:
        kept.append(CleanupItem("plan state", shown, reason))


# The per-plan locks under .git/gitplan/locks/ (packs.exclusive): "<kind>-<plan>".
_PLAN_LOCKS = ("consolidate-", "surgery-", "create-", "apply-", "publish-", "once-")


def _stale_locks(
    repo: pygit2.Repository,
    live: set[str],
    dry_run: bool,
    removed: list[CleanupItem],
    kept: list[CleanupItem],
) -> None:
    stale = refs.stale_lock_seconds()
    for plan_id in sorted(live):
        for name in (plan_ref(plan_id), notes_ref(plan_id)):
            lock = refs.lock_path(repo, name)
            age = refs.lock_age(repo, name)
            if age is None:
                continue
            if age < 0:  # a clock is off: its age says nothing
                why = (
                    "dated in the future (a clock is off); remove it by hand if no git or gitplan is running"
                )
                kept.append(CleanupItem("lock", str(lock), why))
            elif age < stale:  # the rule clear_stale_lock applies, so that --dry-run says the same
                kept.append(CleanupItem("lock", str(lock), f"younger than {stale:g} s: a writer may hold it"))
            elif dry_run or refs.clear_stale_lock(repo, name):
                removed.append(CleanupItem("lock", str(lock), "left by a killed writer"))
    locks = packs.state_dir(repo) / "locks"
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(locks):
            plan_id = entry.name.partition("-")[2]
            if not entry.name.startswith(_PLAN_LOCKS) or plan_id in live:
                continue
            # Only a lock nobody holds goes (a create holds its own before the plan exists).
            with packs.exclusive(repo, entry.name, blocking=False) as idle:
                if not idle:
                    continue
                removed.append(CleanupItem("lock", entry.path, f"plan {plan_id} no longer exists"))
                if not dry_run:
                    Path(entry.path).unlink(missing_ok=True)
