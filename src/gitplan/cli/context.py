"""The object every command receives: where to look, how to print, the store."""

from __future__ import annotations

import click

from ..store import PlanStore
from .output import Output


class Context:
    """What every command receives: where to look, how to print, and the store."""

    def __init__(self, directory: str, debug: bool, color: bool | None) -> None:
        self.directory = directory
        self.debug = debug
        self.color = color
        self._store: PlanStore | None = None

    @property
    def store(self) -> PlanStore:
        if self._store is None:
            self._store = PlanStore.open(self.directory)
        return self._store

    def output(self, as_json: bool) -> Output:
        return Output(as_json=as_json, color=self.color)


pass_context = click.make_pass_decorator(Context)


def exit_with(code: int) -> None:
    """End the command with `code` after its report has been printed."""
    click.get_current_context().exit(code)
