"""The one error hierarchy of gitplan.

Library code raises these and never prints or exits; the CLI maps each leaf
to the stable exit code it carries (DESIGN.md: 0 ok, 1 failed, 2 bad usage or
input, 3 not found, 4 conflict, 5 repository damaged).
"""

from __future__ import annotations


class GitPlanError(Exception):
    """Base of every error gitplan raises on purpose."""

    exit_code = 1


class BadInput(GitPlanError):
    """The caller gave something gitplan refuses: a bad id, path, patch or argument;
    `paths`: the paths it is about, if any."""

    exit_code = 2

    def __init__(self, message: str, paths: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.paths = paths


class PlanNotFound(GitPlanError, KeyError):
    """A plan, changeset, revision or base that does not exist."""

    exit_code = 3

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "not found"


class NoRepository(PlanNotFound):
    """No git repository where one was asked for (`-C DIR`, GIT_DIR, the current directory)."""


class Conflict(GitPlanError):
    """Edits overlap with what is already there; nothing was written."""

    exit_code = 4

    def __init__(self, message: str, paths: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.paths = paths


class Dirty(Conflict):
    """The user's uncommitted work is in the way of a path gitplan would write.

    Not a merge conflict: the plan itself is fine. Same exit code (4), so that
    scripts treat "cannot apply now" alike; the message and `reason` differ."""


class CannotWrite(GitPlanError):
    """The repository cannot be written here: read-only, no permission, or no space."""


class Damaged(GitPlanError):
    """The repository or a plan's objects are damaged or missing."""

    exit_code = 5
