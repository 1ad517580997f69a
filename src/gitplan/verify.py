"""Checking a plan's chain before trusting it.

A plan that arrives from a remote or a bundle, or that someone built by hand
with git plumbing, may be hostile: a tree entry named `.GIT/hooks/post-checkout`,
a symlink to `/etc`, a gitlink, a commit that claims another plan's id, a note
the readers cannot decode. Everything gitplan does with a plan (diff, export,
apply into the worktree) trusts what these checks guarantee, so they run before
a fetched plan's refs are moved and before a half-done record of another
writer is finished (refs.settle).

The walk costs O(the commits checked × their changed paths): trees are
compared only where their ids differ (trees.changed_entries), and a caller that
already trusts an older tip passes it, so only what came after is read.
Never writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import pygit2

from .errors import BadInput, Damaged
from .format import (
    FORMAT_VERSION,
    decode_invocation_record,
    decode_plan_record,
    is_git_dir_name,
    trailers,
    validate_path,
)
from .gitrepo import config_int, descends, read_blob
from .model import InvocationRecord
from .notes import MOST_SUBTREES, TooFannedOut, changed_notes, is_note_name, note_blob_id, notes_tree
from .trees import changed_entries

_FILE_MODES = {pygit2.GIT_FILEMODE_BLOB, pygit2.GIT_FILEMODE_BLOB_EXECUTABLE, pygit2.GIT_FILEMODE_LINK}
_EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


class Unsafe(BadInput):
    """A plan that must not be trusted: what is wrong, and in which plan (exit 2)."""

    def __init__(self, plan_id: str, reason: str, path: str | None = None) -> None:
        super().__init__(f"plan {plan_id!r} is unsafe: {reason}")
        self.plan_id = plan_id
        self.reason = reason
        self.paths = (path,) if path is not None else ()


class Missing(Unsafe):
    """An object the plan needs is not in the repository: never sent, or deleted since."""


@dataclass(frozen=True, slots=True)
class Limits:
    """How big a plan from elsewhere may be (config `plan.verify.*`, git size suffixes).

    The sizes bound what a plan arriving by fetch makes this repository store; a plan
    already here (recorded here, or brought by plain git) is checked with `here()`: only
    its number of changesets bounds the walk. A file or an invocation record of any size
    that gitplan recorded here is the user's own (a 1 GB asset, a tool's long arguments)."""

    max_file_bytes: int = 512 * 2**20
    max_note_bytes: int = 2**20
    max_changesets: int = 100_000

    @classmethod
    def of(cls, repo: pygit2.Repository) -> Limits:
        return cls(
            max_file_bytes=config_int(repo, "plan.verify.maxFileSize", _DEFAULTS.max_file_bytes),
            max_note_bytes=config_int(repo, "plan.verify.maxNoteSize", _DEFAULTS.max_note_bytes),
            max_changesets=config_int(repo, "plan.verify.maxChangesets", _DEFAULTS.max_changesets),
        )

    def here(self) -> Limits:
        """These limits for a plan already in the repository: no bound on sizes."""
        return replace(self, max_file_bytes=_UNBOUNDED, max_note_bytes=_UNBOUNDED)


_DEFAULTS = Limits()
_UNBOUNDED = 2**63


def verify_plan(
    repo: pygit2.Repository,
    plan_id: str,
    tip: str,
    notes_tip: str | None,
    trusted: str | None = None,
    limits: Limits | None = None,
    trusted_notes: str | None = None,
    trusted_count: int | None = None,
) -> int:
    """Check plan `plan_id` as its refs would be (`tip`, `notes_tip`); Unsafe if it is not.

    Commits from `tip` back to `trusted` (a tip checked before), or to the plan
    root, are checked: one parent each, this plan's id, changeset numbers in
    order, every path they change safe to write, file sizes within limits, and
    a note that decodes under a known schema. So are the notes: those that
    differ from `trusted_notes` (the notes commit checked with `trusted`, which
    held `trusted_count` notes), or all of them. Returns how many notes the
    plan holds. Without `limits` (a fetch passes its own), the plan is one already
    in this repository (Limits.here)."""
    limits = limits or Limits.of(repo).here()
    tree = _notes_tree(repo, plan_id, tip, notes_tip)
    if trusted is not None and not descends(repo, tip, trusted):
        trusted = None  # rewritten since (git plan drop, rewind), or a damaged mark: check it all
    newest_first: list[pygit2.Commit] = []
    current = tip
    first_number = 1
    while current != trusted:
        commit = _plan_commit(repo, plan_id, current)
        found = trailers(commit.message)
        if "Changeset" not in found:
            if trusted is not None:  # a second root between the tip and a checked tip
                raise Unsafe(plan_id, f"commit {current} starts a plan on top of this plan's own changesets")
            _check_root(repo, plan_id, commit, found, tree, limits)
            break
        if len(commit.parent_ids) != 1:
            raise Unsafe(plan_id, f"changeset commit {current} has {len(commit.parent_ids)} parents")
        newest_first.append(commit)
        if len(newest_first) > limits.max_changesets:
            raise Unsafe(plan_id, f"more than {limits.max_changesets} changesets (plan.verify.maxChangesets)")
        current = str(commit.parent_ids[0])
    else:
        first_number = _number(plan_id, _plan_commit(repo, plan_id, current)) + 1
    for number, commit in enumerate(reversed(newest_first), start=first_number):
        stated = _number(plan_id, commit)
        if stated != number:
            raise Unsafe(plan_id, f"commit {commit.id} says changeset {stated}, its place is {number}")
        parent = repo.get(commit.parent_ids[0])
        assert isinstance(parent, pygit2.Commit)
        try:
            changed = check_tree_change(repo, plan_id, str(parent.tree_id), str(commit.tree_id), limits)
        except RecursionError:
            raise Unsafe(plan_id, f"the tree of {commit.id} is nested too deep") from None
        record = _check_note(repo, plan_id, tree, commit, limits, root=False)
        assert record is not None  # (a changeset's note decodes to an invocation record)
        _check_files(plan_id, str(commit.id), record, changed)
    since = (
        _checked_notes_tree(repo, trusted_notes)
        if trusted is not None and trusted_count is not None
        else None
    )
    walked = {str(commit.id) for commit in newest_first}
    return _check_notes(repo, plan_id, tree, limits, since, trusted_count or 0, walked)


def check_tree_change(
    repo: pygit2.Repository, plan_id: str, old_tree: str, new_tree: str, limits: Limits
) -> set[str]:
    """Every path that differs between two trees is safe to write or delete; returns them."""
    entries = changed_entries(repo, old_tree, new_tree)
    for entry in entries:
        try:
            validate_path(entry.path)
        except BadInput as error:
            raise Unsafe(plan_id, str(error), entry.path) from None
        if entry.new_id is None or entry.new_mode is None:
            continue
        if entry.new_mode == pygit2.GIT_FILEMODE_COMMIT:
            raise Unsafe(
                plan_id,
                f"{entry.path!r} is a gitlink (a submodule commit); plans carry files only",
                entry.path,
            )
        if entry.new_mode not in _FILE_MODES:
            raise Unsafe(plan_id, f"{entry.path!r} has the unknown file mode {entry.new_mode:o}", entry.path)
        size = _size(repo, plan_id, entry.new_id)
        if size > limits.max_file_bytes:
            raise Unsafe(
                plan_id,
                f"{entry.path!r} is {size} bytes, over plan.verify.maxFileSize ({limits.max_file_bytes})",
                entry.path,
            )
        if entry.new_mode == pygit2.GIT_FILEMODE_LINK:
            check_symlink(plan_id, entry.path, read_blob(repo, entry.new_id) if size <= 4096 else None)
    return {entry.path for entry in entries}


def check_symlink(plan_id: str, path: str, target_bytes: bytes | None) -> None:
    """A symlink must point inside the worktree and never into a `.git` directory.

    Its target may climb (`..`) only before it names anything: `s -> .` would make
    `t -> s/..` leave the worktree, and which names are symlinks can change with
    every changeset. A target that climbs, then descends, stays inside whatever
    the names it passes through are links to, since each of those stays inside too."""
    if target_bytes is None:
        raise Unsafe(plan_id, f"symlink {path!r} has a target over 4096 bytes", path)
    target = target_bytes.decode("utf-8", "surrogateescape")
    shown = f"symlink {path!r} -> {target!r}"
    if "\0" in target or target.startswith("/") or (os.name == "nt" and target[1:2] == ":"):
        raise Unsafe(plan_id, f"{shown} points outside the worktree", path)
    where = path.split("/")[:-1]
    named = False
    for component in target.replace("\\", "/").split("/"):
        if component in ("", "."):
            continue
        if component == "..":
            if not where:
                raise Unsafe(plan_id, f"{shown} points outside the worktree", path)
            if named:
                raise Unsafe(plan_id, f"{shown} climbs ('..') after naming a directory", path)
            where.pop()
        elif is_git_dir_name(component):
            raise Unsafe(plan_id, f"{shown} points into a .git directory", path)
        else:
            named = True
            where.append(component)


def _check_root(
    repo: pygit2.Repository,
    plan_id: str,
    root: pygit2.Commit,
    found: dict[str, str],
    tree: pygit2.Tree | None,
    limits: Limits,
) -> None:
    if found.get("Plan-Format") != str(FORMAT_VERSION):
        raise Unsafe(plan_id, f"its root {root.id} has Plan-Format {found.get('Plan-Format')!r}, not 1")
    if len(root.parent_ids) > 1:
        raise Unsafe(plan_id, f"its root {root.id} has {len(root.parent_ids)} parents")
    base_tree = _EMPTY_TREE
    if root.parent_ids:
        base = repo.get(root.parent_ids[0])
        if not isinstance(base, pygit2.Commit):
            raise Unsafe(plan_id, f"its base {root.parent_ids[0]} is not in this repository")
        base_tree = str(base.tree_id)
    if str(root.tree_id) != base_tree:
        raise Unsafe(plan_id, f"its root {root.id} changes files (a plan root carries its base's tree)")
    _check_note(repo, plan_id, tree, root, limits, root=True)


def _check_note(
    repo: pygit2.Repository,
    plan_id: str,
    tree: pygit2.Tree | None,
    commit: pygit2.Commit,
    limits: Limits,
    root: bool,
) -> InvocationRecord | None:
    """The note on `commit` is there, of bounded size, and decodes (the plan record names
    this plan and its base); returns a changeset's invocation record."""
    what = "plan record" if root else "invocation record"
    blob = note_blob_id(tree, str(commit.id))
    if blob is None:
        raise Unsafe(plan_id, f"the {what} of {commit.id} is missing")
    size = _size(repo, plan_id, blob)
    if size > limits.max_note_bytes:
        raise Unsafe(plan_id, f"the {what} of {commit.id} is {size} bytes (plan.verify.maxNoteSize)")
    try:
        if root:
            record = decode_plan_record(read_blob(repo, blob))
            base = str(commit.parent_ids[0]) if commit.parent_ids else ""
            if record.plan_id != plan_id or record.base != base:
                raise Unsafe(
                    plan_id, f"its plan record names plan {record.plan_id!r} on base {record.base!r}"
                )
        else:
            return decode_invocation_record(read_blob(repo, blob))
    except Damaged as error:
        raise Unsafe(plan_id, f"the {what} of {commit.id} does not decode: {error}") from None
    return None


def _notes_tree(repo: pygit2.Repository, plan_id: str, tip: str, notes_tip: str | None) -> pygit2.Tree | None:
    if notes_tip is None:
        raise Unsafe(plan_id, "it has no notes ref (its invocation records)")
    notes_commit = repo.get(notes_tip)
    if not isinstance(notes_commit, pygit2.Commit):
        raise Unsafe(plan_id, f"its notes ref points at {notes_tip}, which is not a commit here")
    found = trailers(notes_commit.message)
    if found.get("Plan-Id", plan_id) != plan_id:
        raise Unsafe(plan_id, f"its notes commit {notes_tip} claims plan {found['Plan-Id']!r}")
    if found.get("Plan-Tip", tip) != tip:
        raise Unsafe(plan_id, f"its notes are for {found['Plan-Tip']}, not for its tip {tip}")
    return notes_tree(repo, notes_tip)


def _checked_notes_tree(repo: pygit2.Repository, notes_tip: str | None) -> pygit2.Tree | None:
    """The tree of a notes commit checked before, if it is still here."""
    try:
        return notes_tree(repo, notes_tip)
    except ValueError:  # not an object id: the record of it is damaged
        return None


def _check_notes(
    repo: pygit2.Repository,
    plan_id: str,
    tree: pygit2.Tree | None,
    limits: Limits,
    since: pygit2.Tree | None = None,
    since_count: int = 0,
    walked: frozenset[str] | set[str] = frozenset(),
) -> int:
    """Every note annotates a commit of this plan (or one no longer here, as surgery leaves),
    never someone else's commit, and is a file of bounded size; returns how many notes
    the tree holds. With `since` (a notes tree checked before, holding `since_count`
    notes), only the entries that differ from it are looked at, and a changed note on
    a changeset checked before (not `walked` now) must still list what its commit changed."""
    most = 2 * limits.max_changesets + 2
    count = since_count if since is not None else 0
    try:
        for path, was, now in changed_notes(since, tree, most=most + MOST_SUBTREES):
            count += (now is not None) - (was is not None)
            if count > most:
                raise Unsafe(plan_id, "its notes tree holds more notes than its limits allow")
            if now is not None:
                is_note = now.type_str == "blob" and now.filemode in _NOTE_MODES
                _check_note_entry(repo, plan_id, path, is_note, str(now.id), limits)
                name = path.replace("/", "")
                if since is not None and name not in walked:
                    _check_named_files(repo, plan_id, name, str(now.id))
    except TooFannedOut:
        raise Unsafe(plan_id, "its notes tree holds more entries than its limits allow") from None
    return count


_NOTE_MODES = (pygit2.GIT_FILEMODE_BLOB, pygit2.GIT_FILEMODE_BLOB_EXECUTABLE)


def _check_note_entry(
    repo: pygit2.Repository, plan_id: str, path: str, is_blob: bool, blob: str, limits: Limits
) -> None:
    """One entry of a notes tree (at `path`, fanned out or not): a note of bounded size
    on a commit of this plan, or on one that is not here."""
    name = path.replace("/", "")
    if not is_blob or not is_note_name(name):
        raise Unsafe(plan_id, f"its notes tree holds {path!r}, which is not a note")
    if _size(repo, plan_id, blob) > limits.max_note_bytes:
        raise Unsafe(plan_id, f"the note on {name} is over plan.verify.maxNoteSize")
    annotated = repo.get(name)
    if isinstance(annotated, pygit2.Commit) and trailers(annotated.message).get("Plan-Id") != plan_id:
        raise Unsafe(plan_id, f"it holds a note on {name}, a commit that is not this plan's")


def _check_files(plan_id: str, commit: str, record: InvocationRecord, changed: set[str]) -> None:
    """The files an invocation record lists are the ones its changeset commit changes:
    `log`, `show` and the review page show the record's list, so a note that named other
    files would tell a reviewer the changeset edits what it does not."""
    named = {change.path for change in record.files}
    named |= {change.old_path for change in record.files if change.old_path}
    if named != changed:
        differing = sorted(named ^ changed)
        raise Unsafe(
            plan_id,
            f"the invocation record of {commit} lists other files than its commit changes "
            f"({', '.join(repr(path) for path in differing[:5])})",
            differing[0],
        )


def _check_named_files(repo: pygit2.Repository, plan_id: str, name: str, blob: str) -> None:
    """_check_files for a note that changed on a changeset checked before."""
    commit = repo.get(name)
    if not isinstance(commit, pygit2.Commit) or len(commit.parent_ids) != 1:
        return  # (a note on a commit no longer here, or on the plan root)
    parent = repo.get(commit.parent_ids[0])
    if "Changeset" not in trailers(commit.message) or not isinstance(parent, pygit2.Commit):
        return
    try:
        record = decode_invocation_record(read_blob(repo, blob))
    except Damaged as error:
        raise Unsafe(plan_id, f"the invocation record of {name} does not decode: {error}") from None
    changed = {entry.path for entry in changed_entries(repo, str(parent.tree_id), str(commit.tree_id))}
    _check_files(plan_id, name, record, changed)


def _plan_commit(repo: pygit2.Repository, plan_id: str, oid: str) -> pygit2.Commit:
    commit = repo.get(oid)
    if commit is None:
        raise Missing(plan_id, f"{oid} is not a commit in this repository")
    if not isinstance(commit, pygit2.Commit):
        raise Unsafe(plan_id, f"{oid} is not a commit in this repository")
    claimed = trailers(commit.message).get("Plan-Id")
    if claimed != plan_id:
        raise Unsafe(plan_id, f"commit {oid} claims plan {claimed!r}")
    return commit


def _number(plan_id: str, commit: pygit2.Commit) -> int:
    stated = trailers(commit.message).get("Changeset", "0")
    if not stated.isdigit() or len(stated) > 9:
        raise Unsafe(plan_id, f"commit {commit.id} has a malformed Changeset trailer {stated!r}")
    return int(stated)


def _size(repo: pygit2.Repository, plan_id: str, oid: str) -> int:
    try:
        kind, size = repo.odb.read_header(oid)
    except (KeyError, ValueError, pygit2.GitError):
        raise Missing(plan_id, f"object {oid} is missing") from None
    if kind != pygit2.GIT_OBJECT_BLOB:
        raise Unsafe(plan_id, f"object {oid} is not a file")
    return int(size)
