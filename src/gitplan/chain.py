"""Reading a plan back: its chain of commits, their notes, its plan record.

Reads the plan ref before the notes ref (see refs.py), walks the chain from
the tip to the plan root (O(changesets), never the repository's history), and
reads every note from one notes tree. A missing or damaged note becomes a
`problem` on the changeset, never an exception. Never writes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pygit2

from .errors import BadInput, Damaged, PlanNotFound
from .format import decode_invocation_record, decode_plan_record, trailers
from .gitrepo import lookup_commit, read_blob
from .model import ChangeSet, FileChange, InvocationRecord, PlanRecord
from .notes import note_blob_id, notes_tree
from .refs import PlanRefs, read_plan_refs


@dataclass(frozen=True, slots=True)
class Chain:
    """A plan as stored: root, changeset commits (oldest first), record, notes."""

    refs: PlanRefs
    root: pygit2.Commit
    commits: tuple[pygit2.Commit, ...]
    record: PlanRecord | None
    record_problem: str | None
    changesets: tuple[ChangeSet, ...]

    @property
    def tip(self) -> pygit2.Commit:
        return self.commits[-1] if self.commits else self.root

    @property
    def base_id(self) -> str:
        return str(self.root.parent_ids[0]) if self.root.parent_ids else ""


def plan_commit(repo: pygit2.Repository, plan_id: str, oid: str) -> pygit2.Commit:
    """The commit `oid` of plan `plan_id`; Damaged if it is missing or not the plan's."""
    commit = lookup_commit(repo, oid)
    if trailers(commit.message).get("Plan-Id") != plan_id:
        raise Damaged(f"plan {plan_id!r}: commit {oid} does not belong to the plan")
    return commit


def changeset_number(commit: pygit2.Commit) -> int:
    """The `Changeset:` number of a plan commit; 0 for the plan root."""
    stated = trailers(commit.message).get("Changeset", "0")
    if not stated.isdigit():
        raise Damaged(f"commit {commit.id} has a malformed Changeset trailer {stated!r}")
    return int(stated)


def same_plan(repo: pygit2.Repository, plan_id: str, older: str, newer: str) -> bool:
    """Is the plan whose tip is `newer` the plan whose tip was `older` (grown since, or
    rewritten by plan surgery), not one made again under its name after a cancel?

    Walks back from `newer` to `older` or to the plan root (the changesets recorded
    meanwhile), and from `older` to its root only when `older` is not on that way.
    False when `older`'s commits are gone (pruned with the cancelled plan). A plan made
    again on the same base with the same title in the same second is the same root
    commit, with the same plan record: nothing tells the two apart."""
    try:
        found = root_of(repo, plan_id, newer, stop=older)
        return found == older or found == root_of(repo, plan_id, older)
    except Damaged:
        return False


def root_of(repo: pygit2.Repository, plan_id: str, tip: str, stop: str | None = None) -> str:
    """The plan root below `tip`, or `stop` if the walk back meets it first."""
    commit = plan_commit(repo, plan_id, tip)
    while str(commit.id) != stop and changeset_number(commit):
        if len(commit.parent_ids) != 1:
            raise Damaged(f"plan {plan_id!r}: changeset commit {commit.id} is not linear")
        commit = plan_commit(repo, plan_id, str(commit.parent_ids[0]))
    return str(commit.id)


def commit_by_number(repo: pygit2.Repository, plan_id: str, number: int) -> pygit2.Commit:
    """Changeset `number` (0: the plan root), found by walking back from the tip: the cost
    follows how far back it is, not the plan's length, and no note is read."""
    commit = plan_commit(repo, plan_id, read_plan_refs(repo, plan_id).tip)
    newest = changeset_number(commit)
    if not 0 <= number <= newest:
        raise PlanNotFound(f"plan {plan_id!r} has no changeset {number} (it has {newest})")
    for _ in range(newest - number):
        if len(commit.parent_ids) != 1:
            raise Damaged(f"plan {plan_id!r}: changeset commit {commit.id} is not linear")
        commit = plan_commit(repo, plan_id, str(commit.parent_ids[0]))
    if changeset_number(commit) != number:
        raise Damaged(f"plan {plan_id!r}: commit {commit.id} is not changeset {number}")
    return commit


def load_chain(
    repo: pygit2.Repository, plan_id: str, refs: PlanRefs | None = None, records: bool = True
) -> Chain:
    """The plan's commits, root first. With `records` (the default) every changeset's
    invocation record and the plan record are decoded; without, only the commits are
    read (what diffs and tree lookups need), and the changesets carry no record."""
    refs = refs or read_plan_refs(repo, plan_id)
    commits: list[pygit2.Commit] = []
    current = refs.tip
    while True:
        commit = plan_commit(repo, plan_id, current)
        if "Changeset" not in trailers(commit.message):
            root = commit
            break
        commits.append(commit)
        if len(commit.parent_ids) != 1:
            raise Damaged(f"plan {plan_id!r}: changeset commit {current} is not linear")
        current = str(commit.parent_ids[0])
    commits.reverse()
    if not records:
        return Chain(refs, root, tuple(commits), None, "not read", ())
    tree = notes_tree(repo, refs.notes_tip)
    record, record_problem = plan_record(repo, tree, str(root.id))
    changesets = tuple(
        changeset_at(repo, plan_id, number, commit, tree) for number, commit in enumerate(commits, start=1)
    )
    return Chain(refs, root, tuple(commits), record, record_problem, changesets)


def newest(repo: pygit2.Repository, plan_id: str, count: int) -> tuple[ChangeSet, ...]:
    """The plan's newest `count` changesets (oldest of them first), with their records:
    walked back from the tip only that far, and only their notes read, so the cost
    follows `count`, not the plan's length. When the numbers of the changesets it reads
    do not count down one by one (to 1, if it reaches the root), the plan is read whole,
    so that each changeset says what is wrong, as in load_chain; a gap further back
    than it reads is not seen."""
    refs = read_plan_refs(repo, plan_id)  # (an unknown plan: not found, even for none of it)
    if count <= 0:
        return ()
    commits: list[pygit2.Commit] = []
    current = refs.tip
    expected: int | None = None  # the number the next older changeset must have
    try:
        while len(commits) < count:
            commit = plan_commit(repo, plan_id, current)
            if "Changeset" not in trailers(commit.message):  # the plan root
                if expected not in (None, 0):
                    raise Damaged("changeset numbers do not end at 1")
                break
            number = changeset_number(commit)
            if number < 1 or expected not in (None, number) or len(commit.parent_ids) != 1:
                raise Damaged("changeset numbers do not count down")
            commits.append(commit)
            expected, current = number - 1, str(commit.parent_ids[0])
    except Damaged:
        return load_chain(repo, plan_id, refs).changesets[-count:]
    tree = notes_tree(repo, refs.notes_tip)
    return tuple(
        changeset_at(repo, plan_id, changeset_number(commit), commit, tree) for commit in reversed(commits)
    )


def plan_record(
    repo: pygit2.Repository, tree: pygit2.Tree | None, root: str
) -> tuple[PlanRecord | None, str | None]:
    blob = note_blob_id(tree, root)
    if blob is None:
        return None, "plan record note is missing"
    try:
        return decode_plan_record(read_blob(repo, blob)), None
    except Damaged as error:
        return None, str(error)


def changeset_at(
    repo: pygit2.Repository,
    plan_id: str,
    number: int,
    commit: pygit2.Commit,
    tree: pygit2.Tree | None,
) -> ChangeSet:
    commit_id = str(commit.id)
    record: InvocationRecord | None = None
    problem = None
    blob = note_blob_id(tree, commit_id)
    if blob is None:
        problem = "invocation record note is missing"
    else:
        try:
            record = decode_invocation_record(read_blob(repo, blob))
        except Damaged as error:
            problem = str(error)
    first_line = commit.message.split("\n", 1)[0]
    tool, _, summary = first_line.partition(": ")
    stated = trailers(commit.message).get("Changeset", "")
    if stated != str(number) and problem is None:
        problem = f"commit says changeset {stated!r}, chain position is {number}"
    files: tuple[FileChange, ...] = ()
    if record is None:  # what the commit changed is still known, and shown
        from .diffs import file_changes

        parent = lookup_commit(repo, commit.parent_ids[0])
        files = file_changes(repo, str(parent.tree_id), str(commit.tree_id))
    return ChangeSet(
        plan_id=plan_id,
        number=number,
        commit=commit_id,
        parent=str(commit.parent_ids[0]),
        tool=record.invocation.tool if record else tool,
        summary=summary,
        author=commit.author.name,
        record=record,
        problem=problem,
        files_from_commit=files,
    )


def resolve_changeset(chain: Chain, spec: int | str) -> tuple[int, str]:
    """(number, commit id) for a changeset number (0 = plan root) or a commit id prefix."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit() and len(spec) < 7):
        number = int(spec)
        if number == 0:
            return 0, str(chain.root.id)
        if 1 <= number <= len(chain.commits):
            return number, str(chain.commits[number - 1].id)
        raise PlanNotFound(
            f"plan {chain.refs.plan_id!r} has no changeset {number} (it has {len(chain.commits)})"
        )
    if not isinstance(spec, str) or len(spec) < 4:
        raise BadInput(f"not a changeset number or commit id: {spec!r}")
    if str(chain.root.id).startswith(spec):
        return 0, str(chain.root.id)
    for number, commit in enumerate(chain.commits, start=1):
        if str(commit.id).startswith(spec.lower()):
            return number, str(commit.id)
    raise PlanNotFound(f"no changeset {spec!r} in plan {chain.refs.plan_id!r}")
