"""Plans between repositories: push, fetch and list through any git remote or bundle.

git does every transfer, with the user's own remotes, URLs, credentials, ssh
and proxy settings: nothing home-made sits between machines. A plan moves as
its two refs. Pushes are `--atomic` where the server supports it; where it does
not, the notes ref goes first and the plan ref second, the order every writer
uses (refs.py), so a half-done push looks like a half-done record.

Nothing that arrives is trusted. A fetch lands in a *quarantine*: a bare
repository under `<git-common-dir>/gitplan/quarantine/` that borrows the
repository's objects (objects/info/alternates) and includes its config, so
only the objects the remote adds are transferred and git finds the user's
remote names. Each fetched plan is verified there (verify.py); only then are
its objects moved into the repository and its refs set by compare-and-swap.
A refused fetch leaves nothing behind. This module never overwrites a local
plan that has changesets the remote lacks, unless asked with `force`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pygit2

from . import faults, packs, permissions, refs, transaction
from .errors import BadInput, Conflict, Damaged, GitPlanError, PlanNotFound
from .format import NOTES_REF_PREFIX, PLAN_REF_PREFIX, notes_ref, plan_ref, trailers, validate_plan_id
from .gitrepo import alternates_variable, borrowed_object_directories, common_dir, descends
from .redact import Redactor
from .verify import Limits, Missing, verify_plan
from .worktree import POINTERS

Progress = Callable[[bytes], None]


@dataclass(frozen=True, slots=True)
class RemotePlan:
    """A plan as a remote (or bundle) holds it: its two ref values."""

    plan_id: str
    tip: str | None
    notes_tip: str | None


@dataclass(frozen=True, slots=True)
class Moved:
    """What one plan's push or fetch did.

    outcome: `new`, `fast-forward`, `up-to-date`, `forced`, `ahead` (this side
    already has more: nothing to fetch), `diverged` (refused), `incomplete` (fetch: the
    source has only the plan's notes ref, nothing to fetch), `damaged` (push of all
    plans: one that cannot be read whole here, left out)."""

    plan_id: str
    outcome: str
    old_tip: str | None
    new_tip: str | None


@dataclass(frozen=True, slots=True)
class SyncReport:
    remote: str
    direction: str  # push, fetch
    plans: tuple[Moved, ...]


class Diverged(Conflict):
    """A fetch that landed what it could and left diverged plans as they were (exit 4);
    `report` says what happened to each plan."""

    def __init__(self, message: str, report: SyncReport) -> None:
        super().__init__(message)
        self.report = report


class TransferFailed(GitPlanError):
    """git could not reach the remote, authenticate, or the remote refused (exit 1)."""


# -- listing --------------------------------------------------------------------


def shown(remote: str) -> str:
    """A remote as it may be printed or stored: credentials in a URL are masked."""
    return re.sub(r"://[^/@\s]+@", "://***@", remote)


def _source(remote: str) -> str:
    """A remote name, URL, path or bundle; never something git would read as an option."""
    if not remote or remote.startswith("-"):
        raise BadInput(f"not a remote: {shown(remote)!r} (a remote must not start with '-')")
    return remote


def remote_plans(repo: pygit2.Repository, remote: str) -> list[RemotePlan]:
    """The plans `remote` (a remote name, URL, path or bundle) holds, without fetching objects."""
    _source(remote)
    out = _git(repo, ["ls-remote", "--refs", remote, PLAN_REF_PREFIX + "*", NOTES_REF_PREFIX + "*"], remote)
    return _plans_from_listing(out.decode("utf-8", "replace"))


def _plans_from_listing(listing: str) -> list[RemotePlan]:
    tips: dict[str, str] = {}
    notes: dict[str, str] = {}
    for line in listing.splitlines():
        oid, _, name = line.partition("\t")
        if name.startswith(PLAN_REF_PREFIX):
            tips[name[len(PLAN_REF_PREFIX) :]] = oid
        elif name.startswith(NOTES_REF_PREFIX):
            notes[name[len(NOTES_REF_PREFIX) :]] = oid
    found = []
    for plan_id in sorted(tips.keys() | notes.keys()):
        with contextlib.suppress(BadInput):  # a name no plan can have: not ours to list
            found.append(RemotePlan(validate_plan_id(plan_id), tips.get(plan_id), notes.get(plan_id)))
    return found


# -- push -----------------------------------------------------------------------


def push(
    repo: pygit2.Repository,
    remote: str,
    plan_ids: Sequence[str],
    force: bool = False,
    progress: Progress | None = None,
) -> SyncReport:
    """Push plans (all when none are named), both refs of each, atomically where possible."""
    _source(remote)
    settled, damaged = _whole_plans(repo, plan_ids)
    if not settled:
        return SyncReport(shown(remote), "push", damaged)
    spec = {name: f"{value}:{name}" for name, value in _ref_values(settled).items()}
    before = {p.plan_id: p for p in remote_plans(repo, remote)}
    if not force:
        # Every plan ref must fast-forward before any ref moves: a server without atomic
        # pushes takes the notes ref first, and would keep it when the plan ref is refused.
        _refuse_unless_fast_forward(repo, remote, settled, before)
    leases = []
    if force:  # replace what the remote held when we looked, and nothing a pusher sent since
        seen = {plan_ref(p.plan_id): p.tip for p in before.values()}
        seen |= {notes_ref(p.plan_id): p.notes_tip for p in before.values()}
        leases = [f"--force-with-lease={name}:{seen.get(name) or ''}" for name in spec]
    faults.point("push.refs-read")
    try:
        try:
            _push(repo, remote, ["--atomic", *leases, *spec.values()], progress)
        except _AtomicUnsupported:
            # Notes first, plan refs second: a reader of the remote sees a half-done push
            # as it would see a half-done record (refs.py), never a commit without its note.
            notes_first = sorted(spec, key=lambda name: not name.startswith(NOTES_REF_PREFIX))
            for done, name in enumerate(notes_first):
                own = [lease for lease in leases if f"={name}:" in lease]
                try:
                    _push(repo, remote, [*own, spec[name]], progress)
                except Conflict as error:
                    if not done:
                        raise
                    # A pusher moved the remote's plan ref since it was read: what went first stays.
                    pushed = ", ".join(notes_first[:done])
                    raise Conflict(
                        str(error).replace("(nothing was pushed)", f"({pushed} went first and stays)")
                    ) from None
    except TransferFailed:
        # git could not read what it was sending: a cancel here took it. (A plan recorded
        # into meanwhile still pushes as it was: its failure is git's own.)
        gone = [p.plan_id for p in settled if _refs_now(repo, p.plan_id) == (None, None)]
        if gone:
            raise TransferFailed(
                f"plan {', '.join(gone)} was cancelled here while it was pushed; nothing of it "
                "needs pushing now"
            ) from None
        raise
    moved = []
    for current in settled:
        old = before.get(current.plan_id)
        old_tip = old.tip if old else None
        if old is None:
            outcome = "new"
        elif old.tip == current.tip and old.notes_tip == current.notes_tip:
            outcome = "up-to-date"
        else:
            replaced = not (
                descends(repo, current.tip, old_tip) and descends(repo, current.notes_tip, old.notes_tip)
            )
            outcome = "forced" if force and replaced else "fast-forward"  # (records too: an applied state)
        moved.append(Moved(current.plan_id, outcome, old_tip, current.tip))
    return SyncReport(shown(remote), "push", _by_plan([*moved, *damaged]))


def _by_plan(moves: Sequence[Moved]) -> tuple[Moved, ...]:
    return tuple(sorted(moves, key=lambda moved: moved.plan_id))


def _whole_plans(
    repo: pygit2.Repository, plan_ids: Sequence[str]
) -> tuple[list[refs.PlanRefs], tuple[Moved, ...]]:
    """The plans a push or bundle sends, each read as a consistent pair of refs, and, of
    all plans, those left out because they cannot be read whole (outcome `damaged`).
    A named plan without its notes ref is refused: every receiver would refuse it."""
    left_out: list[str] = []
    settled = _settled(repo, plan_ids, left_out)
    if not plan_ids:
        left_out += [current.plan_id for current in settled if not current.notes_tip]
        settled = [current for current in settled if current.notes_tip]
    for current in settled:
        if not current.notes_tip:
            raise Damaged(
                f"plan {current.plan_id!r} has no notes ref (its invocation records): nothing was "
                "sent; `git plan list` shows what is wrong with it"
            )
    return settled, tuple(Moved(plan_id, "damaged", None, None) for plan_id in sorted(left_out))


def _refuse_unless_fast_forward(
    repo: pygit2.Repository, remote: str, settled: Sequence[refs.PlanRefs], before: dict[str, RemotePlan]
) -> None:
    """Conflict, before anything is pushed, when a plan the remote holds is not an
    ancestor of ours: the remote recorded more (fetch first), its records moved without a
    changeset we lack (applied there, rewritten, or a push cut short), or ours was rewound
    or dropped here (only --force replaces the remote's)."""
    where = shown(remote)
    lacking, rewritten, records = [], [], []
    for current in settled:
        there = before.get(current.plan_id)
        if there is None or there.tip is None:
            continue
        if not repo.odb.exists(there.tip):
            lacking.append(current.plan_id)
        elif not descends(repo, current.tip, there.tip):
            rewritten.append(current.plan_id)
        elif there.notes_tip and not (
            repo.odb.exists(there.notes_tip) and descends(repo, str(current.notes_tip), there.notes_tip)
        ):
            records.append(current.plan_id)  # every changeset there is here: its notes moved
    if lacking:
        raise Conflict(
            f"{where} has changesets of {', '.join(lacking)} that this repository lacks: "
            f"`git plan fetch {where}` first (nothing was pushed), or push --force to replace them"
        )
    if records:
        raise Conflict(
            f"{where} holds other records of {', '.join(records)} than this repository (applied "
            "there, or rewritten, or another clone's push cut short before its plan ref), and no "
            f"changeset it lacks: nothing was pushed; `git plan fetch {where}` says how they differ; "
            "push --force would replace them, an applied state included"
        )
    if rewritten:
        raise Conflict(
            f"{where} holds changesets of {', '.join(rewritten)} that the plan here no longer has "
            "(rewound, dropped or cancelled and made again here): nothing was pushed; push --force "
            "replaces the remote's with this one"
        )


def _local_plan_ids(repo: pygit2.Repository) -> list[str]:
    return [name[len(PLAN_REF_PREFIX) :] for name in repo.references if name.startswith(PLAN_REF_PREFIX)]


def _refs_now(repo: pygit2.Repository, plan_id: str) -> tuple[str | None, str | None]:
    try:
        now = refs.read_refs_if_any(repo, plan_id)
    except GitPlanError:  # a ref file git cannot read: no values to compare
        return ("unreadable", None)
    return (now.tip, now.notes_tip) if now else (None, None)


class _AtomicUnsupported(Exception):
    pass


def _push(repo: pygit2.Repository, remote: str, args: list[str], progress: Progress | None) -> None:
    try:
        _git(
            repo,
            ["push", "--porcelain", *(["--progress"] if progress else []), remote, *args],
            remote,
            progress,
        )
    except TransferFailed as error:
        text = str(error)
        if "does not support --atomic" in text:
            raise _AtomicUnsupported from None
        where = shown(remote)
        if re.search(r"\((non-fast-forward|fetch first|stale info)\)", text):
            rejected = sorted(set(re.findall(r"refs/(?:notes/)?changesets/([^\s:]+)", _rejected_lines(text))))
            raise Conflict(
                f"{where} has changesets of {', '.join(rejected) or 'these plans'} that this repository "
                f"lacks: `git plan fetch {where}` first (nothing was pushed), or push --force to "
                "replace them"
            ) from None
        if "remote rejected" in text or "hook declined" in text or "hidden ref" in text:
            raise TransferFailed(
                f"{where} refused the plan refs ({_reason(text)}); some hosts accept only branches and "
                "tags: move the plan as a bundle with `git plan push --bundle FILE`"
            ) from None
        raise


def _rejected_lines(text: str) -> str:
    return "\n".join(line for line in text.replace("; ", "\n").splitlines() if line.startswith("!"))


def _reason(text: str) -> str:
    found = re.findall(r"\[remote rejected\] \(([^)]*)\)", text)
    return found[0] if found else "see git's message: " + text[-300:]


def bundle(repo: pygit2.Repository, path: str, plan_ids: Sequence[str]) -> SyncReport:
    """Write plans (all when none are named) into a git bundle at `path`.

    The bundle holds both refs of each plan and the objects from each plan's base
    onward: the receiving repository needs the base (a prerequisite of the bundle)."""
    settled, damaged = _whole_plans(repo, plan_ids)
    if not settled:
        raise PlanNotFound("no plans to bundle")
    names = list(_ref_values(settled))
    bases = sorted({base for s in settled if (base := _base(repo, s.tip))})
    _git(repo, ["bundle", "create", "-q", path, *names, *(f"^{base}" for base in bases)], path)
    written = [Moved(s.plan_id, "new", None, s.tip) for s in settled]
    return SyncReport(path, "push", _by_plan([*written, *damaged]))


def _base(repo: pygit2.Repository, tip: str) -> str | None:
    commit = repo.get(tip)
    while isinstance(commit, pygit2.Commit) and "\nChangeset: " in commit.message:
        commit = repo.get(commit.parent_ids[0])
    return str(commit.parent_ids[0]) if isinstance(commit, pygit2.Commit) and commit.parent_ids else None


# -- fetch ----------------------------------------------------------------------


def fetch(
    repo: pygit2.Repository,
    source: str,
    plan_ids: Sequence[str],
    force: bool = False,
    progress: Progress | None = None,
) -> SyncReport:
    """Fetch plans (all the source has when none are named) through a quarantine.

    Every fetched plan is verified before anything lands; one unsafe plan refuses
    the whole fetch (exit 2, nothing written). Diverged plans are left as they are
    here and reported (exit 4 after the others landed) unless `force`."""
    for plan_id in plan_ids:
        validate_plan_id(plan_id)
    _source(source)
    where = shown(source)
    # The plans here as the fetch began: git fetches only what this repository lacks.
    here = {plan_id: _refs_now(repo, plan_id) for plan_id in (plan_ids or _local_plan_ids(repo))}
    with _quarantine(repo) as quarantine:
        specs = (
            [f"+{plan_ref(p)}:{plan_ref(p)}" for p in plan_ids]
            + [f"+{notes_ref(p)}:{notes_ref(p)}" for p in plan_ids]
            if plan_ids
            else [f"+{PLAN_REF_PREFIX}*:{PLAN_REF_PREFIX}*", f"+{NOTES_REF_PREFIX}*:{NOTES_REF_PREFIX}*"]
        )
        # --no-filter: in a partial clone git would leave the plan's blobs on the remote, and
        # gitplan reads through libgit2, which cannot fetch a missing object when it needs it.
        args = ["fetch", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules", "--refmap="]
        args += ["--no-filter", "--progress" if progress else "--quiet", source, *specs]
        try:
            _git(repo, args, source, progress, git_dir=quarantine)
        except TransferFailed as error:
            missing = re.search(r"couldn't find remote ref refs/(?:notes/)?changesets/(\S+)", str(error))
            if missing:
                raise PlanNotFound(f"{where} has no plan named {missing.group(1)!r}") from None
            if "fsck error" in str(error):
                found = re.findall(r"object ([0-9a-f]{40}): (\w+: [^;]*)", str(error))
                why = (
                    "; ".join(f"{reason} (object {oid[:12]})" for oid, reason in found) or "malformed objects"
                )
                raise BadInput(
                    f"what {where} sent is unsafe: git fsck refused it: {why}; nothing was written"
                ) from None
            if "lacks these prerequisite commits" in str(error):
                needed = re.findall(r"\b[0-9a-f]{40}\b", str(error))
                raise TransferFailed(
                    f"{where} holds plans made on {', '.join(c[:12] for c in needed) or 'commits'} "
                    "(their base), which this repository lacks: fetch the branch they were made on "
                    "first; nothing was written"
                ) from None
            raise
        faults.point("fetch.quarantined")
        arrived = pygit2.Repository(str(quarantine))
        fetched = _plans_in(arrived)
        for plan_id in plan_ids:
            if plan_id not in fetched:
                raise PlanNotFound(f"{where} has no plan named {plan_id!r}")
        # Only a notes ref: a push cut short before the plan ref, or one whose plan ref the
        # remote refused. There is no plan to fetch yet; the others land.
        incomplete = [p for p in fetched.values() if p.tip is None]
        decisions = [
            _decide(arrived, repo, remote_plan, force, where, here)
            for remote_plan in fetched.values()
            if remote_plan.tip is not None
        ]
        landing = [d for d in decisions if d[1].outcome in ("new", "fast-forward", "forced")]
        for remote_plan, moved, _ in landing:
            if moved.outcome == "new":
                transaction.claim_name(repo, remote_plan.plan_id)
        adopted: list[packs.OwnedPack] = []
        if len(landing) == 1:
            # One plan's objects: its own pack, pruned when it is cancelled (packs.py). Until
            # the refs land, it names the notes commit they publish: no merge takes it in.
            only = landing[0][0]
            for pack in (quarantine / "objects" / "pack").glob("pack-*.pack"):
                owned = packs.adopt(
                    repo, only.plan_id, pack, _base(arrived, only.tip or ""), only.notes_tip or ""
                )
                adopted += [owned] if owned is not None else []
        if landing:
            _move_objects(quarantine, common_dir(repo) / "objects")
            faults.point("fetch.objects-moved")
        for remote_plan, moved, expected in landing:
            _land(repo, remote_plan, moved, expected)
        for owned in adopted:
            packs.published(repo, landing[0][0].plan_id, owned)
        # Diverged only in the records: the remote has every changeset here, and more.
        records_only = {
            moved.plan_id
            for _, moved, _ in decisions
            if moved.outcome == "diverged" and descends(arrived, str(moved.new_tip), str(moved.old_tip))
        }
        # Diverged because the remote went back: every changeset it has is here.
        behind_there = {
            moved.plan_id
            for _, moved, _ in decisions
            if moved.outcome == "diverged"
            and moved.plan_id not in records_only
            and descends(arrived, str(moved.old_tip), str(moved.new_tip))
        }
    skipped = [Moved(p.plan_id, "incomplete", None, None) for p in incomplete]
    report = SyncReport(where, "fetch", _by_plan([*(moved for _, moved, _ in decisions), *skipped]))
    diverged = [m.plan_id for m in report.plans if m.outcome == "diverged"]
    if diverged:
        changesets = [p for p in diverged if p not in records_only and p not in behind_there]
        parts = []
        if changesets:
            parts.append(f"{', '.join(changesets)}: both sides recorded changesets the other lacks")
        if behind_there:
            parts.append(
                f"{', '.join(sorted(behind_there))}: {where} has no changeset this repository lacks, "
                "and other records (it was applied there, or rewound or dropped there)"
            )
        if records_only:
            parts.append(
                f"{', '.join(sorted(records_only))}: {where} has every changeset here, and the records "
                "differ (applied on one side, or rewritten)"
            )
        raise Diverged(
            f"{'; '.join(parts)}; nothing was changed for {'it' if len(diverged) == 1 else 'them'} here. "
            f"Review both, then `git plan fetch --force {where} {' '.join(diverged)}` to take the remote's "
            "(what this repository recorded, its applied state included, would be lost), or push yours "
            "with --force",
            report,
        )
    return report


def _plans_in(arrived: pygit2.Repository) -> dict[str, RemotePlan]:
    listing = []
    for name in arrived.references:
        if name.startswith((PLAN_REF_PREFIX, NOTES_REF_PREFIX)):
            listing.append(f"{arrived.references[name].target}\t{name}")
    return {p.plan_id: p for p in _plans_from_listing("\n".join(listing))}


Decision = tuple[RemotePlan, Moved, tuple[str | None, str | None]]  # and the local refs it saw


def _decide(
    arrived: pygit2.Repository,
    repo: pygit2.Repository,
    remote_plan: RemotePlan,
    force: bool,
    where: str,
    here: dict[str, tuple[str | None, str | None]],
) -> Decision:
    plan_id = remote_plan.plan_id
    assert remote_plan.tip is not None  # (fetch leaves out a plan that has only its notes ref)
    # A push half done on the remote (notes ref moved, plan ref not yet): take the notes
    # that go with the tip the remote has, as readers here do with a half-done record.
    tip = remote_plan.tip
    remote_plan = RemotePlan(plan_id, tip, _notes_for(arrived, remote_plan))
    base = _base(arrived, tip)
    if base is not None and not repo.odb.exists(base):
        raise TransferFailed(
            f"plan {plan_id!r} of {where} is made on commit {base[:12]}, which this repository "
            "lacks: fetch the branch it was made on first; nothing was written"
        )
    try:
        verify_plan(arrived, plan_id, tip, remote_plan.notes_tip, limits=Limits.of(repo))
    except (Missing, Damaged):
        # git checked that every object the fetched refs need was here when the fetch
        # ended, the ones this repository already had included: with the plan cancelled
        # or rewritten here meanwhile, one gone since went with it, not with what was sent.
        if here.get(plan_id, (None, None)) == _refs_now(repo, plan_id):
            raise
        raise TransferFailed(
            f"plan {plan_id!r} was cancelled or changed here while it was fetched, and objects "
            "the fetch counted on went with it; nothing was written: fetch it again"
        ) from None
    local = refs.read_refs_if_any(repo, plan_id)
    seen = (local.tip or None, local.notes_tip) if local else (None, None)
    if local is None or not local.tip:
        return remote_plan, Moved(plan_id, "new", None, remote_plan.tip), seen
    if (local.tip, local.notes_tip) == (remote_plan.tip, remote_plan.notes_tip):
        return remote_plan, Moved(plan_id, "up-to-date", local.tip, local.tip), seen
    if descends(arrived, remote_plan.tip, local.tip) and descends(
        arrived, remote_plan.notes_tip, local.notes_tip
    ):
        return remote_plan, Moved(plan_id, "fast-forward", local.tip, remote_plan.tip), seen
    if descends(arrived, local.tip, remote_plan.tip) and descends(
        arrived, local.notes_tip, remote_plan.notes_tip
    ):
        return remote_plan, Moved(plan_id, "ahead", local.tip, local.tip), seen
    return remote_plan, Moved(plan_id, "forced" if force else "diverged", local.tip, remote_plan.tip), seen


def _notes_for(arrived: pygit2.Repository, remote_plan: RemotePlan) -> str | None:
    """The remote's notes commit for its plan tip: its notes ref, or a few commits back."""
    current = arrived.get(remote_plan.notes_tip) if remote_plan.notes_tip else None
    for _ in range(20):
        if not isinstance(current, pygit2.Commit):
            break
        if trailers(current.message).get("Plan-Tip", remote_plan.tip) == remote_plan.tip:
            return str(current.id)
        if not current.parent_ids:
            break
        current = arrived.get(current.parent_ids[0])
    return remote_plan.notes_tip  # verify_plan says what is wrong with it


def _land(
    repo: pygit2.Repository, remote_plan: RemotePlan, moved: Moved, expected: tuple[str | None, str | None]
) -> None:
    """Set the plan's refs to the fetched values if they still hold what the decision saw."""
    assert remote_plan.tip is not None
    wanted = (remote_plan.tip, remote_plan.notes_tip)
    for oid in wanted:
        if oid is not None and not repo.odb.exists(oid):  # the quarantine went (gc?) before its objects moved
            raise TransferFailed(f"the objects of plan {remote_plan.plan_id!r} did not arrive; fetch again")
    with transaction.not_while_applied(repo, remote_plan.plan_id):  # (as every writer publishes)
        local = refs.read_refs_if_any(repo, remote_plan.plan_id)
        if local is not None and (local.tip, local.notes_tip) == wanted:
            return  # another fetch landed the same refs meanwhile
        refs.set_plan_refs(repo, remote_plan.plan_id, expected, wanted)


# -- the quarantine and moving objects out of it -------------------------------------


@contextlib.contextmanager
def _quarantine(repo: pygit2.Repository):  # type: ignore[no-untyped-def]
    """A bare repository that sees the repository's objects and config; removed on exit."""
    common = common_dir(repo)
    parent = common / "gitplan" / "quarantine"
    parent.mkdir(parents=True, exist_ok=True)
    permissions.widen(parent)  # (each fetch makes its own directory in it)
    path = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=parent))
    try:
        for sub in ("objects/pack", "objects/info", "refs"):
            (path / sub).mkdir(parents=True)
        lenders = [str((common / "objects").resolve()), *borrowed_object_directories(repo)]
        (path / "objects" / "info" / "alternates").write_text("".join(f"{lender}\n" for lender in lenders))
        (path / "HEAD").write_text("ref: refs/heads/main\n")
        config_text = "[include]\n\tpath = " + _quoted(str((common / "config").resolve())) + "\n"
        config_text += "[core]\n\tbare = true\n\thooksPath = /dev/null\n[gc]\n\tauto = 0\n"
        config_text += "[fetch]\n\tunpackLimit = 1\n\tfsckObjects = true\n[transfer]\n\tfsckObjects = true\n"
        (path / "config").write_text(config_text)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _move_objects(quarantine: Path, objects: Path) -> None:
    """Move what the fetch wrote into the repository's object store, packs index last.

    An index makes its pack visible, so it is moved after the pack; an object
    the repository already has is left where it is."""
    for pack in sorted((quarantine / "objects" / "pack").glob("pack-*.pack")):
        for suffix in (".pack", ".rev", ".idx"):
            source = pack.with_suffix(suffix)
            target = objects / "pack" / source.name
            if source.exists() and not target.exists():
                packs.move_file(source, target)
    for directory in (quarantine / "objects").glob("[0-9a-f][0-9a-f]"):
        (objects / directory.name).mkdir(exist_ok=True)
        for loose in directory.iterdir():
            target = objects / directory.name / loose.name
            if not target.exists():
                packs.move_file(loose, target)


# -- running git ------------------------------------------------------------------


def _settled(
    repo: pygit2.Repository, plan_ids: Sequence[str], left_out: list[str] | None = None
) -> list[refs.PlanRefs]:
    """The named plans (all when none are named), each read as a consistent pair of refs;
    of all plans, those that cannot be read are left out (named in `left_out`)."""
    if plan_ids:
        for plan_id in plan_ids:
            refs.read_plan_refs(repo, validate_plan_id(plan_id))  # PlanNotFound
        names = list(dict.fromkeys(plan_ids))
        return [refs.settle(repo, plan_id) for plan_id in names]
    settled = []
    for plan_id in sorted(_local_plan_ids(repo)):
        try:  # all plans: those that are whole (`git plan list` shows the others and why)
            settled.append(refs.settle(repo, validate_plan_id(plan_id)))
        except (Damaged, BadInput, PlanNotFound):
            if left_out is not None:
                left_out.append(plan_id)
            continue
    return settled


def _ref_values(settled: Sequence[refs.PlanRefs]) -> dict[str, str]:
    """The refs that move a plan and their values: its notes ref (when it has one) first."""
    values = {}
    for current in settled:
        if current.notes_tip:
            values[notes_ref(current.plan_id)] = current.notes_tip
        values[plan_ref(current.plan_id)] = current.tip
    return values


def _git(
    repo: pygit2.Repository,
    args: list[str],
    remote: str,
    progress: Progress | None = None,
    git_dir: Path | None = None,
) -> bytes:
    """Run git for a transfer; TransferFailed with git's message, credentials masked."""
    environment = {k: v for k, v in os.environ.items() if k not in POINTERS}
    environment["GIT_DIR"] = str(git_dir) if git_dir else repo.path
    borrowed = borrowed_object_directories(repo)
    if borrowed and not git_dir:  # (a quarantine lists them in its own alternates)
        environment["GIT_ALTERNATE_OBJECT_DIRECTORIES"] = alternates_variable(borrowed)
    environment["LC_ALL"] = "C"
    if not sys.stdin.isatty():
        environment["GIT_TERMINAL_PROMPT"] = "0"  # no prompt that nobody can answer
    try:
        child = subprocess.Popen(
            ["git", *args],
            stdin=subprocess.DEVNULL if not sys.stdin.isatty() else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=repo.workdir or repo.path,
            env=environment,
        )
    except FileNotFoundError:
        raise TransferFailed("the git program is not installed or not on PATH") from None
    errors: list[bytes] = []
    reader = threading.Thread(target=_read_errors, args=(child.stderr, errors, progress), daemon=True)
    reader.start()
    assert child.stdout is not None
    out = child.stdout.read()
    code = child.wait()
    reader.join()
    if code != 0:
        text = (b"".join(errors) + b"\n" + out).decode("utf-8", "replace")
        lines = [line.strip() for line in re.split(r"[\r\n]+", text) if line.strip()]
        message = Redactor().text("; ".join(lines[-12:]))
        raise TransferFailed(f"git {args[0]} {shown(remote)} failed: {shown(message) or f'exit {code}'}")
    return out


def _read_errors(stream: object, errors: list[bytes], progress: Progress | None) -> None:
    assert hasattr(stream, "read1")
    while chunk := stream.read1(65536):
        errors.append(chunk)
        if progress is not None:
            progress(chunk)
