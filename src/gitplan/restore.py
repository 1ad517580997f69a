"""`git plan cancel --restore`: take a plan's edits back out of the worktree.

For a session an agent recorded through hooks (docs/agents.md): its edits are
in the user's worktree. Restoring puts every file the plan changed back as it
was before the plan's own changes: as the plan's `before-session` changeset
left it when there is one (the user's uncommitted work stays), else as the
plan's base had it. A file is put back only when it still holds what the plan
recorded last. When a file changed since, nothing is put back and the plan is
kept (a Conflict names the files): all or nothing, so that nothing is lost.
The index, HEAD and files the plan never touched are not written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pygit2

from . import apply, worktree
from . import chain as chains
from .errors import BadInput, Conflict
from .gitrepo import no_work_tree
from .trees import changed_entries


@dataclass(frozen=True, slots=True)
class RestoreReport:
    """What restoring put back, and to which commit's contents."""

    restored: tuple[str, ...]
    baseline: str  # the commit the files were put back to
    saved_in: str | None = None  # the bundle the plan was saved in first, when files were put back
    bring_back: str | None = None  # the command that brings the plan back from it


BEFORE_SESSION = "before-session"


def restore_worktree(repo: pygit2.Repository, plan_id: str) -> RestoreReport:
    if repo.workdir is None:
        raise BadInput(f"--restore needs a working tree; {no_work_tree(repo)}")
    chain = chains.load_chain(repo, plan_id, records=False)
    baseline = chain.root
    if chain.commits and chains.changeset_number(chain.commits[0]) == 1:
        first = chain.commits[0]
        if first.message.split(":", 1)[0] == BEFORE_SESSION:
            baseline = first
    tip_tree = str(chain.tip.tree_id)
    entries = changed_entries(repo, str(baseline.tree_id), tip_tree)
    workdir = Path(repo.workdir)
    files = [e.path for e in entries if _is_file(workdir / e.path)]
    cleaned = worktree.cleaned(repo, files)
    restored: list[str] = []
    changed: list[str] = []
    for entry in entries:
        full = workdir / entry.path
        if full.is_symlink():
            now: tuple[str, int] | None = (str(pygit2.hash(os.fsencode(os.readlink(full)))), 0o120000)
        elif entry.path in cleaned:
            mode = 0o100755 if worktree.is_executable(full) else 0o100644
            now = (cleaned[entry.path][0], mode)
        else:
            now = None if not full.exists() else ("directory", 0)
        recorded = (entry.new_id, entry.new_mode) if entry.new_id else None
        if now != recorded:
            changed.append(entry.path)
        else:
            restored.append(entry.path)
    if changed:
        raise Conflict(
            "changed since the plan recorded them, so nothing was put back and the plan is kept: "
            + ", ".join(changed),
            tuple(changed),
        )
    # Saved first, losslessly: what the plan recorded may be the user's own work (an edit
    # made during the session goes into the agent's next sweep), and cancel prunes it.
    saved = apply.save_plan(repo, plan_id).bundle if restored else None
    back = [e.path for e in entries if e.path in restored and e.old_id is not None]
    for entry in entries:
        if entry.path in restored and entry.old_id is None:
            target = workdir / entry.path
            target.unlink()
            worktree.remove_empty_parents(workdir, target.parent)
    if back:
        worktree.run_git(
            repo,
            [
                "restore",
                f"--source={baseline.id}",
                "--worktree",
                "--pathspec-from-file=-",
                "--pathspec-file-nul",
            ],
            stdin=b"".join(os.fsencode(path) + b"\0" for path in back),
        )
    if saved is None:
        return RestoreReport(tuple(restored), str(baseline.id))
    return RestoreReport(tuple(restored), str(baseline.id), str(saved), apply.restore_command(plan_id, saved))


def _is_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()
