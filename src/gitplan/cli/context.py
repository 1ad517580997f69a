"""The object every command receives: where to look, how to print, the store."""

from __future__ import annotations

import os
import posixpath
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from ..errors import BadInput, GitPlanError
from .output import Output, terminal_colors

if TYPE_CHECKING:
    from ..store import PlanStore


class Context:
    """What every command receives: where to look, how to print, and the store."""

    def __init__(self, directory: str, debug: bool, color: bool | None, pager: bool = True) -> None:
        self.directory = directory
        self.debug = debug
        self.color = color
        self.use_pager = pager
        self._store: PlanStore | None = None

    @property
    def store(self) -> PlanStore:
        if self._store is None:
            from ..store import PlanStore

            self._store = PlanStore.open(self.directory)
            command = click.get_current_context().info_name
            pending = self._store.pending_recovery() if command not in _RECOVERING else None
            if pending is not None:
                click.echo(
                    f"git-plan: warning: an interrupted apply of plan {pending} is pending; "
                    "run `git plan recover` to finish or roll it back",
                    err=True,
                )
        return self._store

    def choose_color(self, when: str | None) -> None:
        """A command's own `--color[=WHEN]` or `--no-color`, as git diff takes them: it wins
        over `git plan --color` given before the command."""
        if when is not None:
            self.color = {"always": True, "never": False}.get(when) if when != "auto" else terminal_colors()

    def repo_path(self, path: str) -> str:
        """A path typed on the command line, as git takes it: relative to the current
        directory (or -C DIR) inside the working tree, returned from the top."""
        typed = path
        if os.path.isabs(path):
            top = self.store.workdir
            if top is None:
                raise BadInput(f"{path}: an absolute path needs a working tree")
            path = os.path.relpath(os.path.realpath(path), os.path.realpath(top)).replace(os.sep, "/")
            prefix = ""
        else:
            prefix = self.store.prefix(self.directory)
        joined = posixpath.normpath(prefix + path)
        if joined == ".." or joined.startswith("../"):
            raise BadInput(f"{typed}: outside the repository", (typed,))
        return joined

    def file_path(self, path: str) -> str:
        """A file on disk named on the command line: relative to -C DIR, as git -C would take it."""
        return path if path == "-" else os.path.join(self.directory, path)

    def output(self, as_json: bool) -> Output:
        """Output for people (or JSON): coloured as --color/--no-color say, else as color.ui
        does (always, never; auto: on a terminal)."""
        color = self.color
        if color is None and not as_json:
            value = (self._config_if_any("color.ui") or "").lower()
            color = True if value == "always" else False if value in _OFF else None
        return Output(as_json=as_json, color=color)

    def _config_if_any(self, key: str) -> str | None:
        """A setting of the repository, or None where there is none (`demo` runs anywhere)."""
        try:
            return self.store.config(key)
        except GitPlanError:
            return None

    def path_quoter(self) -> Callable[[str], str]:
        """How output for people names a path: as git does, in C quotes where it holds a
        control character (a tab, an escape sequence) or, under core.quotePath (git's
        default), a byte over 0x7f."""
        from ..diffs import quote_path

        high = self.store.quotes_high_bytes()
        return lambda path: quote_path(path, high=high)

    def diff_output(self) -> Output:
        """Output for a diff: colour and pager chosen as git chooses them for `git diff`;
        colour left to the terminal (auto) is off in the pager with color.pager false."""
        color, pager = self._diff_color(), self._pager()
        if (
            color is None
            and pager
            and sys.stdout.isatty()
            and not self.store.config_flag("color.pager", True)
        ):
            color = False
        return Output(as_json=False, color=color, pager=pager)

    def _diff_color(self) -> bool | None:
        """--color/--no-color, else color.diff, else color.ui (always, never, auto/true/false);
        NO_COLOR in the environment turns colour off, as --no-color does."""
        if self.color is not None:
            return self.color
        for key in ("color.diff", "color.ui"):
            value = (self.store.config(key) or "").lower()
            if value == "always":
                return True
            if value in _OFF:
                return False
            if value in ("auto", "true", "yes", "on", "1"):
                break
        return None  # auto: colour on a terminal (NO_COLOR already made self.color False)

    def _pager(self) -> str | None:
        """GIT_PAGER, else pager.plan (false: none), else core.pager, else PAGER, else less;
        "cat" or empty means none."""
        if not self.use_pager:
            return None
        command = os.environ.get("GIT_PAGER")
        if command is None:
            setting = self.store.config("pager.plan")
            if setting is not None and setting.lower() in ("false", "no", "off", "0"):
                return None
            if setting is not None and setting.lower() not in ("true", "yes", "on", "1"):
                command = setting
        if command is None:
            command = self.store.config("core.pager") or os.environ.get("PAGER") or "less"
        return None if command.strip() in ("", "cat") else command


# Commands that finish or roll back an interrupted apply themselves, so need no warning.
_RECOVERING = frozenset({"apply", "recover"})

pass_context = click.make_pass_decorator(Context)


def exit_with(code: int) -> None:
    """End the command with `code` after its report has been printed."""
    click.get_current_context().exit(code)


_OFF = ("never", "false", "no", "off", "0")  # a colour setting that turns colour off
