"""PlanStore: the public Python API, composing the git-layer pieces.

Every method validates its input before writing anything, never prints or
exits, and raises only GitPlanError leaves. pygit2 objects never leave it.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

import pygit2

from . import chain as chains
from . import (
    clock,
    diffs,
    faults,
    packs,
    pathspecs,
    planstatus,
    prune,
    refs,
    transaction,
    verified,
    verify,
    worktree,
)
from .errors import BadInput, CannotWrite, Conflict, Damaged, GitPlanError, PlanNotFound
from .format import (
    changeset_message,
    decode_invocation_record,
    encode_invocation_record,
    encode_plan_record,
    notes_message,
    plan_title,
    root_message,
    validate_path,
    validate_plan_id,
)
from .gitrepo import (
    EMPTY_TREE,
    Abbreviator,
    PackDirectory,
    author_person,
    committer_person,
    common_dir,
    config_flag,
    config_int,
    config_names,
    config_value,
    config_values,
    lookup_commit,
    no_work_tree,
    open_repository,
    read_blob,
    reopened,
    resolve_commit,
    worktree_prefix,
)
from .model import (
    MODE_KEEP,
    MODE_SYMLINK,
    ApplyResult,
    ChangeSet,
    CleanupReport,
    File,
    FileChange,
    FileOnDisk,
    GcReport,
    PlanRecord,
    PlanStatus,
    Selection,
    SurgeryResult,
    ToolInvocation,
    refuse_unrecordable,
)
from .notes import stage_notes_commit
from .objects import Staging
from .objects import read_blob as read_staged_blob
from .renames import RENAME_LIMIT, Pair
from .transaction import Prepared
from .trees import (
    MODE_COMMIT,
    MODE_TREE,
    Edit,
    changed_entries,
    edit_tree,
    entries_of,
    entry_at,
    kept_modes,
    under,
)

if TYPE_CHECKING:  # the rest is imported where used: a command loads only what it needs
    from . import sync
    from .invocation import Invocation
    from .planrun import RunResult
    from .redact import Redactor

Changes = Mapping[str, bytes | File | FileOnDisk | None]
Method = TypeVar("Method", bound=Callable[..., Any])
_CANNOT_WRITE = {errno.EROFS: "read-only", errno.EACCES: "no permission", errno.EPERM: "no permission",
                 errno.ENOSPC: "no space left", errno.EDQUOT: "disk quota exceeded"}  # fmt: skip


def _refuse_interrupted_apply(repo: pygit2.Repository, plan_id: str) -> None:
    """An apply of the plan that was interrupted (here, or in another worktree) needs the
    plan's objects to finish or roll back its half-written files: cancel waits for it."""
    from .apply import writing_files

    elsewhere = writing_files(repo, plan_id)
    if elsewhere is not None:
        where = f" in the worktree {elsewhere}" if elsewhere else ""
        raise GitPlanError(
            f"an apply of plan {plan_id!r} was interrupted{where} and has written part of its "
            f"files: run `git plan recover`{' there' if elsewhere else ''} first (it finishes or rolls "
            "it back, with the plan's objects, which cancel would delete); nothing was cancelled"
        )


def _writing(method: Method) -> Method:
    """A write command: the operating system refusing a write is CannotWrite, in one line."""

    @functools.wraps(method)
    def wrapper(self: PlanStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except OSError as error:
            why = _CANNOT_WRITE.get(error.errno or 0)
            if why is None:
                raise
            where = f" {error.filename}" if error.filename else ""
            raise CannotWrite(
                f"cannot write{where} ({why}): this repository cannot be changed from here; "
                "reading commands (list, status, diff, log) still work"
            ) from None

    return wrapper  # type: ignore[return-value]


class PlanStore:
    """All plans of one repository. Open it with `PlanStore.open(path)`."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self._opened = repo
        self._packs = PackDirectory(repo)
        # The last status of each plan (planstatus.Kept): a long-lived store (the review
        # page, the MCP server) asks for the same plan's status again and again.
        self._statuses: dict[str, planstatus.Kept] = {}
        # The file pairs of the last diff: `--stat -p` renders the same two trees twice, and
        # rename detection is the costly part. (Trees are named by content: always valid.)
        self._last_pairs: tuple[tuple[object, ...], list[Pair], int | None] | None = None

    @property
    def _repo(self) -> pygit2.Repository:
        """The repository, opened again once a pack it had read is gone (a consolidation
        or a cancel, here or in another process): libgit2 keeps the gone pack on its list,
        and every read of an object it held then rescans the pack directory."""
        if self._packs.lost_some():
            self._opened = reopened(self._opened)
        return self._opened

    @classmethod
    def open(cls, path: str | os.PathLike[str] = ".") -> PlanStore:
        """Open the repository git would use from `path`, once the tool calls agent hooks
        queued are recorded (it may start their drainer, which writes them). An
        interrupted apply is left to the next write (or `recover`)."""
        store = cls(open_repository(path))
        store._wait_for_hook_calls()
        return store

    def _wait_for_hook_calls(self) -> None:
        """Wait until the agent tool calls that hooks queued are recorded (hookqueue): what
        this store reads then includes every call the agent finished. It writes nothing:
        a drainer process records them (started here if none runs)."""
        from . import hookqueue

        if hookqueue.draining:
            return
        with contextlib.suppress(Exception):  # the hooks' queue never breaks a command
            hookqueue.wait_drained(common_dir(self._repo), _HOOK_DRAIN_WAIT)

    def pending_recovery(self) -> str | None:
        """The plan whose interrupted apply awaits `recover` (or any write), else None."""
        if not (Path(self._repo.path) / "gitplan" / "apply.json").exists():
            return None  # the usual case, told without loading apply.py (apply's journal)
        from .apply import pending_apply

        return pending_apply(self._repo)

    def interrupted_elsewhere(self, plan_id: str) -> str | None:
        """The other worktree of this repository where an apply of the plan was interrupted
        (`git plan recover` there finishes or rolls it back), or None."""
        from .apply import interrupted_elsewhere

        return interrupted_elsewhere(self._repo, validate_plan_id(plan_id))

    def recover(self) -> str | None:
        """Finish an interrupted apply that passed its commit point, or roll it back:
        returns "finished", "rolled back", or None when there was nothing to do."""
        from .apply import recover_interrupted_apply

        try:
            return recover_interrupted_apply(self._repo)
        except OSError as error:
            if error.errno in _CANNOT_WRITE:
                return None  # a read-only repository: leave it pending
            raise

    @property
    def git_directory(self) -> str:
        """The git directory shared by all worktrees (objects, refs, gitplan's own files)."""
        return str(common_dir(self._repo))

    @property
    def workdir(self) -> str | None:
        """The top of the working tree (None in a bare repository)."""
        return self._repo.workdir  # type: ignore[no-any-return]

    def config(self, key: str) -> str | None:
        """A git config value as git reads it for this repository, `git -c` first (None when unset)."""
        return config_value(self._repo, key)

    def config_flag(self, key: str, default: bool = False) -> bool:
        """A boolean of git config as git reads it (`git -c` first), `default` when unset."""
        return config_flag(self._repo, key, default)

    def prefix(self, directory: str | os.PathLike[str] = ".") -> str:
        """`directory`'s place in the working tree, as git's prefix ("" at the top)."""
        return worktree_prefix(self._repo, directory)

    # -- writing --------------------------------------------------------------

    @_writing
    def create(self, plan_id: str, base: str = "HEAD", title: str = "") -> PlanStatus:
        """A new plan: its root commit on `base` and the plan record note, in one pack."""
        validate_plan_id(plan_id)
        title = plan_title(title)
        repo = self._repo
        if refs.read_refs_if_any(repo, plan_id) is not None:
            raise BadInput(f"plan {plan_id!r} already exists{refs.incomplete_hint(repo, plan_id)}")
        staging = Staging()
        stamp = committer_person()
        if base == "HEAD" and repo.head_is_unborn:
            # No commit yet: the plan is the project's first commit, its root has no parent.
            base_id, base_tree, parents = "", staging.tree([]), []
        else:
            base_commit = resolve_commit(repo, base)
            base_id, base_tree = str(base_commit.id), str(base_commit.tree_id)
            parents = [base_id]
            faults.point("create.base-resolved")
        root = staging.commit(base_tree, parents, stamp, stamp, root_message(plan_id, title))
        record = PlanRecord(plan_id, title, base_id, clock.iso(stamp.stamp))
        notes = stage_notes_commit(
            repo, staging, None, {root: encode_plan_record(record)}, notes_message(plan_id, root)
        )
        transaction.create(repo, plan_id, base_id, staging, root, notes)
        return self.status(plan_id)

    @_writing
    def record(
        self,
        plan_id: str,
        changes: Changes,
        invocation: ToolInvocation,
        parent: int | str | None = None,
    ) -> ChangeSet:
        """One changeset: `changes` ({path: bytes | File | None}) as made by `invocation`.

        `parent` names the state the edits were made from (a changeset number,
        0 for the plan root, or a commit id); None means the current tip.
        Concurrent writers are rebased onto each other; overlaps raise Conflict.
        Every check runs before anything is written; the changeset, its note and
        their trees are written together as one pack."""
        from .rebase import rebase_edits

        validate_plan_id(plan_id)
        if not isinstance(invocation, ToolInvocation):
            raise BadInput("invocation must be a ToolInvocation")
        refuse_unrecordable(invocation)  # (before the redactor walks the arguments)
        invocation = self.redactor().invocation(invocation)
        blobs = Staging()
        edits = self._stage_blobs(changes, blobs)
        repo = self._repo
        published: list[tuple[tuple[str, str], tuple[str, str]] | None] = [None]

        def prepare(current: refs.PlanRefs) -> Prepared[ChangeSet]:
            refs.refuse_applied(current)
            staging = blobs.copy()
            # Only the tip is read: recording costs the change, not the plan's length.
            tip = chains.plan_commit(repo, plan_id, current.tip)
            tip_tree = str(tip.tree_id)
            number = chains.changeset_number(tip) + 1
            made_on = tip_tree  # the tree the edits were made on
            if parent is not None:
                chain = chains.load_chain(repo, plan_id, current, records=False)
                _, parent_id = chains.resolve_changeset(chain, parent)
                if parent_id != str(tip.id):
                    made_on = str(lookup_commit(repo, parent_id).tree_id)
            old_at = entries_of(repo, tip_tree)
            effective = kept_modes(repo, made_on, edits, old_at if made_on == tip_tree else None)
            if made_on != tip_tree:
                effective = rebase_edits(repo, staging, made_on, tip_tree, effective)
            tree = edit_tree(repo, staging, tip_tree, effective)
            files = diffs.edit_changes(repo, staging, tip_tree, effective, old_at)
            summary = invocation.summary or _summary(files)
            commit = staging.commit(
                tree,
                [str(tip.id)],
                author_person(invocation.actor),
                committer_person(),
                changeset_message(plan_id, number, invocation, summary),
            )
            note = encode_invocation_record(plan_id, number, invocation, files)
            notes = stage_notes_commit(
                repo, staging, current.notes_tip, {commit: note}, notes_message(plan_id, commit)
            )
            changeset = ChangeSet(
                plan_id=plan_id,
                number=number,
                commit=commit,
                parent=str(tip.id),
                tool=invocation.tool,
                summary=summary,
                author=invocation.actor,
                record=decode_invocation_record(note),
            )
            # What verify would check of this changeset, its paths aside (checked above):
            # where its symlinks point. Passed, it moves the plan's verified mark on.
            published[0] = None
            outside = _links_outside(repo, staging, effective)
            if outside is not None:
                changeset = replace(changeset, warning=f"{outside}: apply will refuse this plan")
            elif current.notes_tip is not None:
                published[0] = ((current.tip, current.notes_tip), (commit, notes))
            return Prepared(staging, notes, commit, number, changeset)

        changeset = transaction.write(repo, plan_id, prepare)
        if published[0] is not None:
            verified.extend(repo, plan_id, *published[0])
        return changeset

    @_writing
    def record_once(
        self, plan_id: str, changes: Changes, invocation: ToolInvocation
    ) -> tuple[ChangeSet, bool]:
        """`record`, unless the plan already has a changeset of `invocation`'s id: then that
        one, and False (a client retrying a call it did not hear back from). Such records
        of a plan are made one at a time, across processes, so two retries at once make one."""
        validate_plan_id(plan_id)
        with packs.exclusive(self._repo, f"once-{plan_id}"):
            for existing in self.changesets(plan_id):
                if (
                    existing.invocation is not None
                    and existing.invocation.invocation_id == invocation.invocation_id
                ):
                    return existing, False
            faults.point("store.once-checked")
            return self.record(plan_id, changes, invocation), True

    def redactor(self, environment: Mapping[str, str] | None = None) -> Redactor:
        """What masks secrets in this repository's records: the built-in rules, the
        `plan.redact` patterns of its git config, the secret-named variables of `environment`."""
        patterns = config_values(self._repo, "plan.redact")
        items = tuple((os.environ if environment is None else environment).items())
        return _redactor(tuple(patterns), items)

    @contextlib.contextmanager
    def invocation(
        self,
        plan_id: str,
        tool: str,
        actor: str = "gitplan",
        arguments: Mapping[str, Any] | None = None,
        summary: str = "",
    ) -> Iterator[Invocation]:
        """One tool invocation as a block: read and write files through it, and leaving
        the block records them as one changeset with measured times. An exception in the
        block records the failed invocation (status error, no edits) and is re-raised."""
        from .invocation import Invocation

        validate_plan_id(plan_id)
        described = ToolInvocation(tool, actor, dict(arguments or {}), summary)
        refuse_unrecordable(described)  # arguments no record can hold, before the block runs
        self.redactor()  # a broken plan.redact pattern is refused before the block runs
        current = refs.refuse_applied(refs.settle(self._repo, plan_id))
        block = Invocation(self._repo, plan_id, current.tip)
        try:
            yield block
        except BaseException as error:
            timing = block.stopwatch.stop()
            failed = replace(
                described,
                status="error",
                error=f"{type(error).__name__}: {error}".strip().rstrip(":"),
                started_at=timing.started_at,
                finished_at=timing.finished_at,
                duration_ms=timing.duration_ms,
            )
            block.changeset = self.record(plan_id, {}, failed, parent=block.parent)
            raise
        timing = block.stopwatch.stop()
        done = replace(
            described,
            started_at=timing.started_at,
            finished_at=timing.finished_at,
            duration_ms=timing.duration_ms,
        )
        block.changeset = self.record(plan_id, dict(block.changes), done, parent=block.parent)

    @_writing
    def run(
        self,
        plan_id: str,
        argv: Sequence[str],
        tool: str,
        actor: str = "gitplan",
        arguments: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        keep_changes_on_error: bool = False,
        cwd: str = "",
        tail_bytes: int | None = None,
        stdout: BinaryIO | None = None,
        stderr: BinaryIO | None = None,
    ) -> RunResult:
        """Run `argv` (no shell) in the plan's own worktree and record what it changed as
        one changeset, with its argv, exit status, times and output tails. `cwd` is a
        directory of the worktree (git's prefix, "" for the top); `stdout`/`stderr`
        receive the command's output as it runs. The user's worktree is never touched."""
        from .planrun import Command, run_in_plan
        from .runner import DEFAULT_TAIL_BYTES

        validate_plan_id(plan_id)
        if isinstance(argv, str):
            raise BadInput("argv must be a list of strings (no shell), not one string")
        if tail_bytes is None:
            tail_bytes = _int_config(self.config("plan.outputTail"), DEFAULT_TAIL_BYTES, "plan.outputTail")
        command = Command(
            argv=tuple(argv),
            tool=tool,
            actor=actor,
            arguments=arguments,
            prefix=cwd,
            timeout=timeout,
            keep_changes_on_error=keep_changes_on_error,
            tail_bytes=tail_bytes,
            watch=(self.config("plan.watchWorktree") or "true").lower() not in ("false", "no", "off", "0"),
        )

        def record(changes: Changes, invocation: ToolInvocation, parent: str) -> ChangeSet:
            return self.record(plan_id, changes, invocation, parent=parent)

        redactor = self.redactor()  # a broken plan.redact pattern is refused before anything runs
        return run_in_plan(self._repo, plan_id, command, record, redactor, stdout, stderr)

    @_writing
    def snapshot(
        self,
        plan_id: str,
        tool: str,
        actor: str = "gitplan",
        arguments: Mapping[str, Any] | None = None,
        directory: str | os.PathLike[str] | None = None,
        summary: str = "",
    ) -> ChangeSet | None:
        """Record what a worktree (this repository's, or the linked worktree at
        `directory`) holds that the plan's tip does not: the edits made since the last
        changeset, by whatever made them. None when there is nothing new."""
        from . import planworktree, snapshot

        validate_plan_id(plan_id)
        described = ToolInvocation(tool, actor, dict(arguments or {}), summary)
        checkout = self._checkout_at(directory)
        current = refs.refuse_applied(refs.settle(self._repo, plan_id))
        tip_tree = str(lookup_commit(self._repo, current.tip).tree_id)
        git_dir = checkout.git_dir if checkout else self._repo.path
        workdir = checkout.workdir if checkout else str(self._repo.workdir)
        swept = planworktree.swept_paths(self._repo, plan_id, workdir, git_dir)
        skipped: list[str] = []  # (a name gitplan cannot record: left out, and the rest recorded)
        edits = snapshot.worktree_edits(
            self._repo, checkout=checkout, against_tree=tip_tree, also=swept, skipped=skipped
        )
        if not edits:
            return None
        # No times: the sweep did not see the edits being made, so it cannot say when.
        described = replace(described, skipped=skipped or None)
        changeset = self.record(plan_id, edits, described, parent=current.tip)
        planworktree.remember_swept(self._repo, plan_id, workdir, git_dir, edits)
        return changeset

    @_writing
    def record_agent_call(
        self,
        plan_id: str,
        tool: str,
        actor: str,
        arguments: Mapping[str, Any],
        paths: Sequence[str] = (),
        failed: bool = False,
        started: float | None = None,
        invocation_id: str | None = None,
        agent: Mapping[str, Any] | None = None,
        finished: float | None = None,
    ) -> ChangeSet | None:
        """What an agent's tool call changed in this repository's worktree, as one
        changeset: the `paths` it names, or (none named: a shell tool, or the sweep
        at the end of a turn) what `snapshot` would record. None when nothing changed.
        `started` and `finished` are when the call began and ended (finished: now)."""
        from . import planworktree, snapshot

        validate_plan_id(plan_id)
        current = refs.refuse_applied(refs.settle(self._repo, plan_id))
        tip_tree = str(lookup_commit(self._repo, current.tip).tree_id)
        git_dir = self._repo.path
        workdir = str(self._repo.workdir)
        head = None if self._repo.head_is_unborn else str(self._repo.head.target)
        skipped: list[str] = []  # (a name gitplan cannot record: left out, and the rest recorded)
        if paths:
            named = snapshot.named_paths(self._repo, Path(workdir), tip_tree, paths)
            edits = snapshot.worktree_edits(self._repo, tuple(named), against_tree=tip_tree) if named else {}
        else:
            swept = planworktree.swept_paths(self._repo, plan_id, workdir, git_dir)
            # Files the agent committed are clean to git status: what HEAD took since last time.
            seen = planworktree.swept_head(self._repo, plan_id, git_dir)
            seen = head if seen is None else seen or None  # ("": no commit yet at the last sweep)
            if seen != head:
                old_tree = str(lookup_commit(self._repo, seen).tree_id) if seen else None
                new_tree = str(lookup_commit(self._repo, head).tree_id) if head else None
                swept += [entry.path for entry in changed_entries(self._repo, old_tree, new_tree)]
            edits = snapshot.worktree_edits(self._repo, against_tree=tip_tree, also=swept, skipped=skipped)
        if not edits:
            planworktree.remember_swept(self._repo, plan_id, workdir, git_dir, (), head=head or "")
            return None
        if started is None:
            finished = None
        elif finished is None:
            finished = time.time()
        invocation = ToolInvocation(
            tool=tool,
            actor=actor,
            arguments=dict(arguments),
            invocation_id=invocation_id or ToolInvocation(tool).invocation_id,
            started_at=_iso(started),
            finished_at=_iso(finished),
            duration_ms=None if started is None or finished is None else int((finished - started) * 1000),
            status="error" if failed else "ok",
            agent=dict(agent) if agent else None,
            skipped=skipped or None,
        )
        changeset = self.record(plan_id, edits, invocation, parent=current.tip)
        planworktree.remember_swept(self._repo, plan_id, workdir, git_dir, edits, head=head or "")
        return changeset

    def _checkout_at(self, directory: str | os.PathLike[str] | None) -> worktree.Checkout | None:
        """The worktree to sweep: None for this repository's own."""
        repo = self._repo
        if directory is None:
            if repo.workdir is None:
                raise BadInput(f"snapshot needs a working tree; {no_work_tree(repo)}")
            return None
        other = open_repository(directory)
        if other.workdir is None or common_dir(other) != common_dir(repo):
            raise BadInput(f"{directory} is not a worktree of this repository")
        return worktree.Checkout(other.workdir, other.path)

    def _stage_blobs(self, changes: Changes, staging: Staging) -> dict[str, Edit]:
        if not isinstance(changes, Mapping):
            raise BadInput("changes must be a mapping of path to bytes, File, FileOnDisk or None")
        validated: dict[str, File | FileOnDisk | None] = {}
        for path, content in changes.items():
            validate_path(path)
            if content is None or isinstance(content, File | FileOnDisk):
                validated[path] = content
            elif isinstance(content, bytes | bytearray | memoryview):
                validated[path] = File(bytes(content), MODE_KEEP)
            else:
                raise BadInput(f"{path}: content must be bytes, File, FileOnDisk or None")
        edits: dict[str, Edit] = {}
        for path, file in validated.items():
            if file is None:
                edits[path] = None
            elif isinstance(file, FileOnDisk):
                edits[path] = (staging.blob_from_file(file.source), file.mode)
            else:
                edits[path] = (staging.blob(bytes(file.data)), file.mode)
        return edits

    def patch_changes(self, plan_id: str, patch: bytes, source: str = "patch") -> dict[str, File | None]:
        """The file contents a unified patch produces on the plan's current tip."""
        from .patches import patch_edits

        chain = chains.load_chain(self._repo, validate_plan_id(plan_id), records=False)
        tree_id = str(chain.tip.tree_id)

        def read(path: str) -> tuple[bytes, int] | None:
            found = entry_at(self._repo, tree_id, path)
            if found is not None and found[1] == MODE_COMMIT:
                message = f"{source}: {path} is a submodule; plans carry files, not submodule commits"
                raise BadInput(message, (path,))
            if found is None or found[1] == MODE_TREE:  # a directory: no file there (it may become one)
                return None
            return read_blob(self._repo, found[0]), found[1]

        return patch_edits(patch, read, source)

    def worktree_changes(
        self, paths: list[str] | tuple[str, ...] = (), plan_id: str | None = None, force: bool = False
    ) -> dict[str, File | FileOnDisk | None]:
        """What `git add` would stage for `paths` (or for every path `git status` lists):
        contents after the repository's eol rules and clean filters, or None for a
        deleted file. Submodules and ignored files are left out unless named; a named file
        the ignore rules exclude (a `.env`) is refused, as `git add` refuses it, unless
        `force` (`git add -f`).

        With `plan_id`, what the plan's tip already holds is left out (perhaps everything),
        so that recording the worktree again records what changed since: a file an earlier
        changeset deleted is not deleted twice. (A file put back as HEAD has it is no
        change to git status; `git plan snapshot` follows the files it recorded, and
        records that too.)"""
        from . import snapshot

        changes = snapshot.worktree_edits(self._repo, tuple(paths), refuse_hidden=True)
        if not force:
            self._refuse_ignored([path for path in paths if path in changes])  # (names checked)
        if not changes:
            self._refuse_no_worktree_changes(paths)
        if plan_id is None:
            return changes
        tip = str(lookup_commit(self._repo, refs.read_plan_refs(self._repo, plan_id).tip).tree_id)
        head = EMPTY_TREE if self._repo.head_is_unborn else str(self._repo.head.peel(pygit2.Commit).tree_id)
        edits = {path: new for path, new in changes.items() if snapshot.differs(self._repo, tip, path, new)}
        # A file named that HEAD, the index and the plan all lack stays, to be refused (as git
        # add refuses a name that matches nothing). One only the index had (added, or `git
        # add -N`, then deleted) is no change: `git add` takes it out of the index.
        gone = [path for path, new in changes.items() if new is None and path in paths and path not in edits]
        unknown = [path for path in gone if entry_at(self._repo, head, path) is None]
        indexed = set(worktree.tracked(self._repo, unknown))
        edits.update((path, None) for path in unknown if path not in indexed)
        return edits

    def added_form(self, path: str, source: str) -> bytes | None:
        """What `git add` would store at `path` for the bytes of the file `source` (the
        repository's eol rules, clean filters and working-tree-encoding for that path), or
        None when it is the file's own bytes, or in a bare repository (no worktree form)."""
        from .worktree import cleaned_file

        if self._repo.workdir is None:
            return None
        return cleaned_file(self._repo, validate_path(path), source)  # (a failing required filter: 1)

    def _refuse_ignored(self, paths: Sequence[str]) -> None:
        """BadInput naming the files among `paths` that the ignore rules exclude (untracked)."""
        workdir = self._repo.workdir
        if workdir is None or not paths:
            return
        files = [path for path in paths if os.path.isfile(os.path.join(workdir, path))]
        excluded = worktree.ignored(self._repo, files)
        if excluded:
            raise BadInput(
                f"{', '.join(sorted(excluded))}: ignored by the repository's ignore rules (.gitignore, "
                ".git/info/exclude, core.excludesFile), as git add refuses it; give --force to record "
                "it all the same",
                tuple(sorted(excluded)),
            )

    def _refuse_no_worktree_changes(self, paths: Sequence[str]) -> None:
        """BadInput saying why the worktree has nothing to record (submodules named)."""
        listed = worktree.status(self._repo, untracked=False, staged=True)
        moved = [c.path for c in listed if c.submodule and (not paths or under(c.path, paths))]
        if moved:
            raise BadInput(
                "the working tree has no file changes to record; submodules moved or changed "
                f"({', '.join(moved)}), and plans carry files, not submodule commits: "
                "record those with git itself (commit in the submodule, then git add it here)"
            )
        raise BadInput("the working tree has no changes to record")

    @_writing
    def cancel(self, plan_id: str) -> CleanupReport:
        """Delete the plan's refs, then the packs only it used (one prune at a time)."""
        return self._cancel(validate_plan_id(plan_id))

    def _cancel(self, plan_id: str, expected: refs.PlanRefs | None = None) -> CleanupReport:
        """Cancel; with `expected`, only if the refs still hold it (Conflict otherwise)."""
        from . import planworktree, surgery

        repo = self._repo
        # An apply of the plan may be writing a commit or an index that references the
        # plan's objects, which no ref shows yet: wait until it stands or has put
        # everything back (packs.apply_lease), then cancel what it left.
        with packs.apply_lease(repo, plan_id), packs.exclusive(repo, "prune"):
            _refuse_interrupted_apply(repo, plan_id)
            deleted: tuple[str, ...] | None = None
            try:
                for attempt in range(refs.max_attempts()):
                    current = refs.read_refs_if_any(repo, plan_id)
                    if current is None:
                        raise PlanNotFound(f"no plan named {plan_id!r}")
                    if expected is not None and (current.tip, current.notes_tip) != (
                        expected.tip,
                        expected.notes_tip,
                    ):
                        raise Conflict(f"plan {plan_id!r} moved meanwhile; nothing was changed")
                    faults.point("cancel.refs-read")
                    if not current.tip:
                        _refuse_create_in_progress(repo, plan_id)
                    # What the refs leave behind is a gone plan's, also if this process dies.
                    packs.mark_cancelled(repo, plan_id)
                    try:
                        deleted = refs.delete_plan_refs(repo, current)
                        break
                    except refs.RefMoved:
                        refs.backoff(attempt)  # a writer published meanwhile: delete what it made too
                else:
                    raise refs.busy(plan_id, repo)
            finally:
                if deleted is None:
                    packs.mark_cancelled(repo, plan_id, cancelled=False)
            try:
                faults.point("cancel.refs-deleted")
                verified.forget(repo, plan_id)
                surgery.forget(repo, plan_id)
                # Its worktrees go before the prune: their indexes would keep its objects.
                planworktree.remove_all(repo, plan_id)
                # A writer that published just before the delete may be consolidating the
                # plan's packs: wait for it, so that no merged pack escapes the prune.
                with packs.exclusive(repo, f"consolidate-{plan_id}"):
                    return prune.prune_plan(repo, plan_id, deleted)
            except OSError as error:  # the plan is gone whatever happens now: say so
                where = f" {error.filename}" if error.filename else ""
                raise CannotWrite(
                    f"plan {plan_id!r} is cancelled (its refs are deleted), but removing its objects "
                    f"stopped: cannot write{where} ({error.strerror or error}); `git plan gc` removes "
                    "them once it can"
                ) from None

    # -- plan surgery (surgery.py) ------------------------------------------------------

    @_writing
    def rewind(self, plan_id: str, n: int) -> SurgeryResult:
        """Move the plan's tip back to changeset `n` (0: the plan root, no changesets).

        A compare-and-swap of both refs: Conflict if another writer moved the plan
        meanwhile. Undoable with `undo` until `gc` expires the journal entry."""
        from . import surgery

        return surgery.rewind(self._repo, plan_id, n)

    @_writing
    def drop(self, plan_id: str, numbers: Sequence[int]) -> SurgeryResult:
        """Remove changesets `numbers`; later ones are replayed on top and renumbered.

        A later changeset that depends on a dropped one (its edit no longer applies)
        raises Conflict naming the paths, and nothing is written. Undoable."""
        from . import surgery

        return surgery.drop(self._repo, plan_id, numbers)

    @_writing
    def branch(
        self, plan_id: str, new_plan_id: str, at: int | None = None, title: str | None = None
    ) -> SurgeryResult:
        """A new plan that starts as a copy of `plan_id` up to changeset `at` (default:
        its tip), each record saying where it came from (`branched_from`). `undo` on the
        new plan removes it."""
        from . import surgery

        return surgery.branch(self._repo, plan_id, new_plan_id, at=at, title=title)

    @_writing
    def undo(self, plan_id: str) -> SurgeryResult:
        """Reverse the last rewind, drop or branch of the plan, by compare-and-swap:
        Conflict if the plan moved since."""
        from . import surgery

        return surgery.undo(self._repo, plan_id, lambda current: self._cancel(plan_id, current))

    # -- moving plans between repositories (sync.py) --------------------------------

    def push(
        self, remote: str, plan_ids: Sequence[str] = (), force: bool = False, progress: Any = None
    ) -> sync.SyncReport:
        """Push plans (all when none are named) to a git remote, both refs of each together."""
        from . import sync

        return sync.push(self._repo, remote, plan_ids, force=force, progress=progress)

    def bundle(self, path: str, plan_ids: Sequence[str] = ()) -> sync.SyncReport:
        """Write plans (all when none are named) into a git bundle file."""
        from . import sync

        return sync.bundle(self._repo, path, plan_ids)

    @_writing
    def fetch(
        self, source: str, plan_ids: Sequence[str] = (), force: bool = False, progress: Any = None
    ) -> sync.SyncReport:
        """Fetch plans from a git remote or bundle, verified in quarantine before they land."""
        from . import sync

        return sync.fetch(self._repo, source, plan_ids, force=force, progress=progress)

    def remote_plans(self, remote: str) -> list[sync.RemotePlan]:
        """The plans a remote or bundle holds, without fetching them."""
        from . import sync

        return sync.remote_plans(self._repo, remote)

    def plan_refs(self, plan_id: str) -> tuple[str, str | None]:
        """The plan's tip and notes tip as they are now: cheap, for noticing that a plan moved."""
        current = refs.read_plan_refs(self._repo, validate_plan_id(plan_id))
        return current.tip, current.notes_tip

    def verify(self, plan_id: str) -> str | None:
        """Why the plan must not be trusted (made by hand, or fetched with plain git), or None.

        The tip last found safe is kept in `<git-common-dir>/gitplan/verified/<plan>`, so
        each call checks only the changesets recorded since."""
        return self._verify(plan_id, refs.read_plan_refs(self._repo, validate_plan_id(plan_id)))

    def _verify(self, plan_id: str, current: refs.PlanRefs) -> str | None:
        """verify() of the plan whose refs are `current`, as just read."""
        mark = verified.read_mark(self._repo, plan_id)
        # A mark is kept only for refs that agree (no pending tip), so refs that are the
        # marked ones agree too: nothing to read (a list of many plans asks this of each).
        if mark is not None and (mark.tip, mark.notes_tip) == (current.tip, current.notes_tip):
            return None
        # A record interrupted between its two refs is checked as the plan it will be once
        # the next record or apply finishes it (the notes are already that plan's).
        pending = refs.pending_tip(self._repo, current)
        try:
            verified.check(
                self._repo, plan_id, pending or current.tip, current.notes_tip, mark, keep=not pending
            )
        except verify.Unsafe as unsafe:
            return unsafe.reason
        return None

    @_writing
    def restore_worktree(self, plan_id: str) -> Any:
        """Put the files the plan changed back in the worktree as they were before its
        own changes, where they still hold what it recorded (see restore.py)."""
        from .restore import restore_worktree

        return restore_worktree(self._repo, validate_plan_id(plan_id))

    @_writing
    def gc(self, grace: str = "1h", dry_run: bool = False) -> GcReport:
        """Remove what interrupted operations left (unpublished packs, temporary files,
        registries and locks of plans that are gone), when older than `grace`."""
        from .cleanup import collect, parse_grace

        return collect(self._repo, parse_grace(grace), dry_run)

    @_writing
    def apply(
        self,
        plan_id: str,
        mode: str = "commit",
        branch: str | None = None,
        replay: bool = False,
        check: bool = False,
        keep_on_failure: bool | None = None,
        progress: Callable[[int, int], None] | None = None,
        selection: Selection | None = None,
    ) -> ApplyResult:
        """Put the plan's change onto HEAD (commit), the worktree, or a new branch.

        All or nothing: conflicts and dirty paths are refused before anything is
        written; on failure the plan's patch is saved and the plan cancelled
        unless `keep_on_failure` (or `git config plan.keepOnFailure true`).
        `progress(written, total)` is called after each file the apply writes. A
        `selection` applies part of the plan (model.Selection); the plan stays open
        with the part listed in its record, and a failed part keeps the plan."""
        from .apply import apply_plan

        if not check:  # an apply, which writes the same files, finishes an interrupted one first
            self.recover()
        return apply_plan(
            self._repo,
            validate_plan_id(plan_id),
            mode=mode,
            branch=branch,
            replay=replay,
            check=check,
            keep_on_failure=keep_on_failure,
            progress=progress,
            cancel=self._cancel,
            selection=selection,
        )

    # -- reading --------------------------------------------------------------

    def changesets(self, plan_id: str, newest: int | None = None) -> list[ChangeSet]:
        """The plan's changesets, oldest first; with `newest`, only that many of the newest
        (read back from the tip: the cost follows `newest`, not the plan's length)."""
        if newest is not None:
            return list(chains.newest(self._repo, validate_plan_id(plan_id), newest))
        return list(chains.load_chain(self._repo, validate_plan_id(plan_id)).changesets)

    def plans(self) -> list[PlanStatus]:
        """Every plan, and everything under the plans' ref namespaces that is not a
        whole plan: a damaged plan (state "damaged"), a create or cancel that was
        interrupted between its two refs ("incomplete"), a ref that is not a valid
        plan name ("invalid"). Each of those says what is wrong in `problem`."""
        plan_refs: set[str] = set()
        notes_only: set[str] = set()
        listed = list(self._repo.references)
        # A loose ref file libgit2 cannot read (its list leaves it out) is shown, damaged.
        unreadable = {
            *refs.loose_ref_names(self._repo, PLAN_PREFIX),
            *refs.loose_ref_names(self._repo, NOTES_PREFIX),
        }
        for name in [*listed, *sorted(unreadable - set(listed))]:
            if name.startswith(PLAN_PREFIX):
                plan_refs.add(name[len(PLAN_PREFIX) :])
            elif name.startswith(NOTES_PREFIX):
                notes_only.add(name[len(NOTES_PREFIX) :])
        statuses = []
        for plan_id in sorted(plan_refs | notes_only):
            if plan_id not in plan_refs:
                try:
                    refs.read_ref(self._repo, NOTES_PREFIX + plan_id)
                except Damaged as error:  # a symbolic ref: cancel would refuse it too
                    statuses.append(_problem(plan_id, "damaged", str(error)))
                    continue
                statuses.append(_problem(plan_id, "incomplete", _INCOMPLETE.format(plan=plan_id)))
                continue
            try:
                validate_plan_id(plan_id)
            except BadInput:
                ref = PLAN_PREFIX + plan_id
                statuses.append(_problem(plan_id, "invalid", _INVALID.format(ref=ref)))
                continue
            try:
                status = self.status(plan_id)
            except (Damaged, PlanNotFound) as error:
                statuses.append(_problem(plan_id, "damaged", str(error)))
                continue
            if status.missing_artifacts:
                status = replace(status, state="damaged", problem="; ".join(status.missing_artifacts))
            statuses.append(status)
        return statuses

    def status(self, plan_id: str, check: bool = False) -> PlanStatus:
        """What the plan is and holds. Reads only what changed since the status kept for
        the plan (planstatus.py); `check` adds what `apply --check` would say."""
        repo = self._repo
        validate_plan_id(plan_id)
        if not check:
            now = refs.read_refs_if_any(repo, plan_id)
            kept = self._statuses.get(plan_id) or planstatus.load(repo, plan_id)
            if now is not None and now.tip and kept is not None:
                current = planstatus.brought_up_to_date(repo, plan_id, kept, now)
                base = current.status.base if current is not None else ""
                if current is not None and (not base or repo.get(base) is not None):
                    if current is not kept:
                        planstatus.save(repo, plan_id, current)
                    self._statuses[plan_id] = current
                    return replace(current.status, unsafe=self._verify(plan_id, now))
        status, chain = planstatus.compute(repo, plan_id)
        if not status.missing_artifacts:
            status = replace(status, unsafe=self.verify(plan_id))
        elif chain.record is None:  # no plan record to tell its state: as list shows it
            status = replace(status, state="damaged", problem="; ".join(status.missing_artifacts))
        if check:
            from .apply import apply_check

            return apply_check(repo, chain, status)
        if not status.missing_artifacts:
            kept = planstatus.Kept(chain.refs.tip, chain.refs.notes_tip, str(chain.root.id), status)
            planstatus.save(repo, plan_id, kept)
            self._statuses[plan_id] = kept
        return status

    def diff(
        self,
        plan_id: str,
        changeset: int | str | None = None,
        options: diffs.DiffOptions | None = None,
    ) -> str:
        """The plan's patch as `git diff` prints it: cumulative, one changeset, or `A..B`."""
        options = self._configured(options or self.diff_options())
        old, new = self._diff_trees(plan_id, changeset, options)
        if (
            options.word_diff
            or options.algorithm == "histogram"
            or options.color
            or options.relative
            or self._copies(options)
            or self.config("diff.orderFile")
            or self.config("diff.submodule") not in (None, "short")
            or self.config("diff.ignoreSubmodules") not in (None, "none")
            or (options.ext_diff and options.output == "patch" and self.external_diff())
            or options.git_only
            or options.output in diffs.GIT_OUTPUTS
            or (options.binary and options.output == "patch")  # git's deltas, byte for byte
        ):
            return self._rendered_by_git(old, new, options)  # (git reads GIT_DIFF_OPTS itself)
        asked = options
        if options.output == "patch":
            options = replace(options, context=diffs.patch_context(options.context))
        pairs = self._pairs(old, new, options)
        try:
            return diffs.render(self._repo, pairs, options, (old, new))
        except diffs.PlacedOtherwiseByGit:
            return self._rendered_by_git(old, new, asked)

    def diff_files(
        self,
        plan_id: str,
        changeset: int | str | None = None,
        options: diffs.DiffOptions | None = None,
    ) -> list[FileChange]:
        """The files `diff` shows with these options (its pathspecs, its renames), each with
        its kind and its lines added and deleted, as --numstat counts them."""
        options = self._configured(options or self.diff_options())
        old, new = self._diff_trees(plan_id, changeset, options)
        return diffs.counted_changes(self._repo, self._pairs(old, new, options), options)

    def git_diff_command(
        self, plan_id: str, changeset: int | str | None, options: diffs.DiffOptions, outputs: Sequence[str]
    ) -> tuple[list[str], dict[str, str], str]:
        """The `git diff` arguments, environment and directory that print these outputs of
        the plan's diff (in git's order), for a caller that runs git where git diff would
        write: on the terminal or into the pager, so that the user's own diff program
        (`external_diff`) sees what it sees under git."""
        options = self._configured(options)
        old, new = self._diff_trees(plan_id, changeset, options)
        args, environment = self._git_diff(old, new, options, outputs)
        return args, environment, self._repo.workdir or self._repo.path

    def _diff_trees(
        self, plan_id: str, changeset: int | str | None, options: diffs.DiffOptions
    ) -> tuple[str, str]:
        """The two trees a diff of the plan compares; the pathspecs checked."""
        validate_plan_id(plan_id)
        if isinstance(changeset, int) or (
            isinstance(changeset, str) and changeset.isdigit() and len(changeset) < 7
        ):
            # One changeset by number: walk back from the tip only as far as needed.
            commit = chains.commit_by_number(self._repo, plan_id, int(changeset))
            new = str(commit.tree_id)
            old = (
                str(lookup_commit(self._repo, commit.parent_ids[0]).tree_id)
                if chains.changeset_number(commit)
                else new
            )
        else:
            old, new = self._diff_range(chains.load_chain(self._repo, plan_id, records=False), changeset)
        for spec in (*options.pathspec, *options.exclude):
            path = pathspecs.parse(spec).text
            if (not path and spec not in options.exclude) or path.startswith("/") or "\0" in path:
                raise BadInput(f"invalid pathspec {spec!r}")  # (an empty exclude leaves everything out)
        return old, new

    def _pairs(self, old: str, new: str, options: diffs.DiffOptions) -> list[Pair]:
        key: tuple[object, ...] = (old, new, options.pathspec, options.exclude, options.renames)
        key += (options.rename_score, options.rename_limit)
        cached = self._last_pairs  # one read: a server's threads may replace it meanwhile
        if cached is None or cached[0] != key:
            needed: list[int] = []
            pairs = diffs.file_pairs(self._repo, old, new, options, needed.append)
            cached = (key, pairs, needed[0] if needed else None)
            self._last_pairs = cached
        return list(cached[1])

    def rename_limit_needed(self) -> int | None:
        """The rename limit the last diff would have needed to look for inexact renames
        (git warns with it), or None when it was not cut short."""
        cached = self._last_pairs
        return cached[2] if cached is not None else None

    def short_ids(self, oids: Sequence[str]) -> list[str]:
        """Each id's shortest prefix that names no other object, at least as long as git's
        default (core.abbrev honoured): what `git log --oneline` prints."""
        ids = Abbreviator(self._repo)
        length = ids.default_length()
        return [ids(oid, length) for oid in oids]

    def blob(self, revision: str) -> bytes:
        """The bytes of the blob a (possibly abbreviated) id names; KeyError if none does."""
        try:
            found = self._repo.revparse_single(revision)
        except (KeyError, ValueError, pygit2.GitError):
            raise KeyError(revision) from None
        if not isinstance(found, pygit2.Blob):
            raise KeyError(revision)
        return bytes(found.data)

    def diff_options(self) -> diffs.DiffOptions:
        """The options `git diff` takes from this repository's config without flags:
        diff.context, diff.renames, diff.algorithm, diff.indentHeuristic,
        diff.statGraphWidth, diff.renameLimit and diff.suppressBlankEmpty (the rest,
        PlanStore.diff reads where None)."""
        algorithm = (self.config("diff.algorithm") or "myers").lower()
        if algorithm == "default":
            algorithm = "myers"
        if algorithm not in diffs.ALGORITHMS:
            raise BadInput(
                f"diff.algorithm is {algorithm!r}; git knows {', '.join(diffs.ALGORITHMS)}: "
                "fix it with git config diff.algorithm"
            )
        return diffs.DiffOptions(
            context=_int_config(self.config("diff.context"), 3, "diff.context", "lines"),
            renames=self._copies_named() or config_flag(self._repo, "diff.renames", True),
            algorithm=algorithm,
            indent_heuristic=config_flag(self._repo, "diff.indentHeuristic", True),
            # git reads these as any number (k, m, g; below 0 as 0 and as no limit)
            stat_graph_width=max(0, config_int(self._repo, "diff.statGraphWidth", 0)),
            rename_limit=config_int(self._repo, "diff.renameLimit", RENAME_LIMIT),
            suppress_blank_empty=config_flag(self._repo, "diff.suppressBlankEmpty", False),
        )

    def quotes_high_bytes(self) -> bool:
        """core.quotePath: does git quote the bytes over 0x7f of a name it prints (its default)?"""
        return config_flag(self._repo, "core.quotePath", True)

    def _configured(self, options: diffs.DiffOptions) -> diffs.DiffOptions:
        """`options` with what they leave to the config (None) read from it, as git diff:
        core.quotePath, diff.noprefix, diff.interHunkContext."""
        repo, key = self._repo, "diff.interHunkContext"
        quoted = self.quotes_high_bytes()
        prefixes = ("", "") if config_flag(repo, "diff.noprefix", False) else ("a/", "b/")
        return replace(
            options,
            quote_high=quoted if options.quote_high is None else options.quote_high,
            prefixes=prefixes if options.prefixes is None else options.prefixes,
            interhunk=_int_config(self.config(key), 0, key, "lines")
            if options.interhunk is None
            else options.interhunk,
        )

    def _copies_named(self) -> bool:
        """Does diff.renames say `copies` (which git reads as renames and copies)?"""
        return (self.config("diff.renames") or "").strip().lower() in ("copies", "copy")

    def _copies(self, options: diffs.DiffOptions) -> bool:
        """Are copies asked for (diff.renames=copies, unless -M was given)? libgit2's
        pairing here finds renames only."""
        if options.copies is not None:
            return options.copies and options.renames
        return options.renames and self._copies_named()

    def custom_diff_colors(self) -> bool:
        """Does the config change how git colours a diff (color.diff.<slot>, diff.colorMoved,
        core.whitespace, diff.wsErrorHighlight)? gitplan's own colours are git's defaults."""
        for name in config_names(self._repo):
            if name.startswith(("color.diff.", "diff.color.", "diff.colormoved")):
                return True
            if name in ("core.whitespace", "diff.wserrorhighlight"):
                return True
        return False

    def commit_color(self) -> str:
        """The escape sequence git colours a commit id with in a log: color.diff.commit
        (git's own reading of the setting), yellow by default."""
        if "color.diff.commit" not in config_names(self._repo):
            return "\x1b[33m"
        try:
            colour = worktree.run_git(self._repo, ["config", "--get-color", "color.diff.commit", "yellow"])
        except worktree.GitFailed as error:  # a setting git cannot read
            raise BadInput(str(error)) from None
        return colour.decode("utf-8", "surrogateescape")

    def external_diff(self) -> bool:
        """Does the user have git run a diff program of their own for a patch:
        GIT_EXTERNAL_DIFF, diff.external, or a diff driver's `diff.<driver>.command` (which
        git runs for the paths whose `diff` attribute names that driver)?"""
        if "GIT_EXTERNAL_DIFF" in os.environ or self.config("diff.external") is not None:
            return True
        return any(
            name.startswith("diff.") and name.endswith(".command") for name in config_names(self._repo)
        )

    def _rendered_by_git(
        self, old: str, new: str, options: diffs.DiffOptions, outputs: Sequence[str] = ()
    ) -> str:
        """`git diff` of the same two trees with the same options, for what has no libgit2
        twin here (the cases `diff` lists): a word diff, the histogram algorithm, colours
        the config changes, --relative, copies (diff.renames=copies), diff.orderFile, the
        user's own diff programs (`ext_diff`), the options in `git_only`, the GIT_OUTPUTS
        and --binary patches (git's deltas). `outputs` (default: the options' one) in
        git's order."""
        outputs = outputs or [options.output]
        args, environment = self._git_diff(old, new, options, outputs)
        # What git found is the output, not a failure: --check exits 2 when it finds
        # whitespace errors, --exit-code (and --quiet) 1 for a difference, 3 for both.
        bits = diffs.finding_bits(options.git_only, outputs)
        succeeded = tuple(status for status in range(bits + 1) if not status & ~bits)
        try:
            out = worktree.run_git(self._repo, args, env=environment, succeeded=succeeded)
        except worktree.GitFailed as error:  # a filter or a setting of the user's: bad input, as ours
            raise BadInput(str(error)) from None
        return out.decode("utf-8", "surrogateescape")

    def _git_diff(
        self, old: str, new: str, options: diffs.DiffOptions, outputs: Sequence[str]
    ) -> tuple[list[str], dict[str, str]]:
        """The arguments and environment of the `git diff` of two trees that prints these
        outputs with these options, run at the top of the working tree."""
        if options.word_diff not in (None, "plain", "color", "porcelain"):
            raise BadInput(f"--word-diff takes plain, color or porcelain, not {options.word_diff!r}")
        quoted = "true" if options.quote_high is not False else "false"
        src, dst = options.prefixes or ("a/", "b/")
        # With copies asked for, git's own config asks for them, as it would.
        args = [
            "diff",
            "--ext-diff" if options.ext_diff else "--no-ext-diff",
            *diffs.git_pairing_and_lines(options, renames=not self._copies(options)),
        ]
        args += [f"--src-prefix={src}", f"--dst-prefix={dst}"]
        args += [f"--word-diff={options.word_diff}"] if options.word_diff else []
        args += ["--color=always" if options.color else "--no-color"]  # after: =color turns it on
        args += [f"--relative={options.relative}"] if options.relative else []
        args += options.git_only
        args += ["--full-index"] if options.full_index else []
        args += ["--binary"] if options.binary and "patch" in outputs else []  # (it asks for the patch)
        args += [] if options.textconv else ["--no-textconv"]
        formats = {  # (-U implies the patch, in git)
            "patch": [f"-U{options.context}", f"--inter-hunk-context={options.interhunk or 0}"],
            "stat": [
                f"--stat={options.stat_width},{options.stat_name_width},{options.stat_count}",
                f"--stat-graph-width={options.stat_graph_width}",
            ],
            "shortstat": ["--shortstat"],
            "numstat": ["--numstat"],
            "name-only": ["--name-only"],
            "name-status": ["--name-status"],
            "raw": ["--raw"],
            "summary": ["--summary"],
            "compact-summary": ["--compact-summary"],
            "no-patch": ["-s"],
            "check": ["--check"],
        }
        for output in outputs:
            args += formats[output]
        args += [old, new, "--", *options.pathspec]
        args += [pathspecs.with_magic(spec, "exclude") for spec in options.exclude]
        # git's pathspecs, magic included (pathspecs.py matches them as git does).
        environment = worktree.in_users_characters(worktree.git_env(self._repo, GIT_LITERAL_PATHSPECS="0"))
        worktree.add_config(environment, "core.quotePath", quoted)
        # The context without -U (which asks for the patch too): git's diffstat trims at 0.
        worktree.add_config(environment, "diff.context", str(options.context))
        worktree.add_config(environment, "diff.suppressBlankEmpty", str(options.suppress_blank_empty).lower())
        if options.ext_diff and self.external_diff():  # the user's program runs in the user's locale
            for name in ("LC_CTYPE", "LC_MESSAGES"):
                environment.pop(name, None)
                if name in os.environ:
                    environment[name] = os.environ[name]
            if "LC_ALL" in os.environ:
                environment["LC_ALL"] = os.environ["LC_ALL"]
        return args, environment

    def _diff_range(self, chain: chains.Chain, changeset: int | str | None) -> tuple[str, str]:
        repo = self._repo
        if changeset is None:
            return str(chain.root.tree_id), str(chain.tip.tree_id)
        if isinstance(changeset, str) and "..." in changeset:
            raise BadInput(f"{changeset!r}: a plan's changesets are in one line; use A..B (two dots)")
        if isinstance(changeset, str) and ".." in changeset:
            start, _, end = changeset.partition("..")
            _, old_commit = chains.resolve_changeset(chain, start or "0")
            _, new_commit = chains.resolve_changeset(chain, end or str(len(chain.commits)))
            return str(lookup_commit(repo, old_commit).tree_id), str(lookup_commit(repo, new_commit).tree_id)
        number, commit = chains.resolve_changeset(chain, changeset)
        if number == 0:
            return str(chain.root.tree_id), str(chain.root.tree_id)
        node = lookup_commit(repo, commit)
        return str(node.parents[0].tree_id), str(node.tree_id)

    def changeset(self, plan_id: str, spec: int | str) -> ChangeSet:
        """One changeset (by number, or commit id prefix) with its invocation record."""
        chain = chains.load_chain(self._repo, validate_plan_id(plan_id))
        number, _ = chains.resolve_changeset(chain, spec)
        if number == 0:
            raise BadInput(
                f"changeset 0 is the root of plan {plan_id!r}, not a changeset: use 1 to {len(chain.commits)}"
            )
        return chain.changesets[number - 1]

    def changeset_patch(self, plan_id: str, number: int) -> str | None:
        """Changeset `number` as a mail-formatted patch that `git am` accepts; None when it
        changes no file (git format-patch writes nothing for such a commit)."""
        chain = chains.load_chain(self._repo, validate_plan_id(plan_id), records=False)
        _, commit_id = chains.resolve_changeset(chain, number)
        commit = lookup_commit(self._repo, commit_id)
        old, new = self._diff_range(chain, number)
        pairs = diffs.file_pairs(self._repo, old, new)
        if not pairs:
            return None
        # As git format-patch: no textconv, so that git am applies it; binary files as git's
        # own --binary writes them (a delta where that is shorter), so git renders it, with
        # format-patch's diffstat (72 columns) and summary (created, deleted, renamed files
        # and mode changes) before it. a/ and b/ whatever diff.noprefix says, as format-patch
        # writes them: git am takes -p1.
        options = diffs.DiffOptions(
            full_index=True, binary=True, textconv=False, prefixes=("a/", "b/"), stat_width=72
        )
        body = self._rendered_by_git(old, new, self._configured(options), ["stat", "summary", "patch"])
        subject, _, rest = commit.message.partition("\n")
        author = commit.author
        moment = datetime.fromtimestamp(author.time, timezone(timedelta(minutes=author.offset)))
        total = len(chain.commits)  # (numbers as wide as the count, as format-patch pads them)
        numbered = f"[PATCH {number:0{len(str(total))}d}/{total}]" if total > 1 else "[PATCH]"
        return (
            f"From {commit_id} Mon Sep 17 00:00:00 2001\n"
            f"From: {author.name} <{author.email}>\n"
            f"Date: {_mail_date(moment)}\n"
            f"Subject: {numbered} {subject}\n\n"
            f"{rest.strip()}\n---\n{body}-- \ngitplan\n\n"
        )


def _mail_date(moment: datetime) -> str:
    """A date as git format-patch writes it (RFC 2822, the day not zero-padded, English
    names whatever the locale)."""
    day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[moment.weekday()]
    month = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")[
        moment.month - 1
    ]
    return f"{day}, {moment.day} {month} {moment.year} {moment:%H:%M:%S %z}"


PLAN_PREFIX = "refs/changesets/"
NOTES_PREFIX = "refs/notes/changesets/"
_INCOMPLETE = (
    "only refs/notes/changesets/{plan} exists (a create or cancel was interrupted); "
    "`git plan cancel {plan}` removes it"
)
# How long opening a store waits for the hooks' queue to be recorded before it reads
# without the rest.
_HOOK_DRAIN_WAIT = 30.0
_INVALID = "{ref} is not a valid plan name; remove it with `git update-ref -d {ref}`"


def _refuse_create_in_progress(repo: pygit2.Repository, plan_id: str) -> None:
    """A plan with only its notes ref is one whose create was killed halfway, unless a
    create is running right now (it holds its lock until both refs exist)."""
    with packs.exclusive(repo, f"create-{plan_id}", blocking=False) as idle:
        if not idle:
            raise Conflict(
                f"plan {plan_id!r} is being created right now; nothing was changed: cancel it once "
                "the create is done"
            )


def _problem(plan_id: str, state: str, problem: str) -> PlanStatus:
    """The list entry of something under the plans' refs that is not a whole plan."""
    return PlanStatus(plan_id, "", state, "", "", 0, 0, 0, 0, (), (), "", problem=problem)


def _iso(stamp: float | None) -> str | None:
    if stamp is None:
        return None
    moment = datetime.fromtimestamp(stamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _int_config(value: str | None, default: int, key: str, unit: str = "bytes") -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadInput(f"{key} must be a number of {unit}, not {value!r}") from None
    if number < 0:
        raise BadInput(f"{key} must not be negative")
    return number


def _links_outside(repo: pygit2.Repository, staging: Staging, edits: Mapping[str, Edit]) -> str | None:
    """Why a symlink among `edits` points where verify lets no symlink point, or None."""
    for path, edit in edits.items():
        if edit is None or edit[1] != MODE_SYMLINK:
            continue
        streamed = staging.streamed(edit[0])
        target = None if streamed is not None else read_staged_blob(repo, staging, edit[0])
        try:
            verify.check_symlink("", path, target if target is not None and len(target) <= 4096 else None)
        except verify.Unsafe as unsafe:
            return unsafe.reason
    return None


def _summary(files: tuple[FileChange, ...]) -> str:
    if not files:
        return "no file changes"
    if len(files) == 1:
        return f"{files[0].kind} {files[0].path}"
    return f"{len(files)} files"


@functools.lru_cache(maxsize=2)
def _redactor(patterns: tuple[str, ...], environment: tuple[tuple[str, str], ...]) -> Redactor:
    """One Redactor per configuration and environment: building one checks every variable's
    name (a third of a millisecond), and a store records with the same ones many times."""
    from .redact import Redactor

    return Redactor(patterns, dict(environment))
