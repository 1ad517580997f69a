"""`git plan mcp`: the plans of one repository as an MCP server over stdio.

Built on the official `mcp` package (2.x, `MCPServer`), an optional extra
(`pip install 'gitplan[mcp]'`), imported only here. The repository is fixed
when the server starts: no tool takes a path to a repository, every plan id
and path is validated as the CLI validates it, and an argument that starts
with `-` is refused (a value an agent passes must never become an option of
a git command). Tools return the same versioned JSON documents as the CLI's
`--json` (views.py), with a one-line `summary`. `--read-only` registers only
the tools that change nothing.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .. import views
from ..diffs import DiffOptions
from ..errors import BadInput, GitPlanError
from ..format import validate_path, validate_plan_id
from ..model import ChangeSet, File, ToolInvocation
from ..store import PlanStore

Reply = tuple[dict[str, Any], str]  # the JSON document (structured output) and a one-line summary
DIFF_PAGE = 100_000  # characters of patch per call; `offset` pages through the rest
LOG_PAGE = 50


def _plain(value: str, what: str) -> str:
    if not isinstance(value, str) or value.startswith("-"):
        raise BadInput(f"{what} must not start with '-': {value!r}")
    return value


def _warned(summary: str, changeset: ChangeSet) -> str:
    """A tool's summary of a recorded changeset, with what its record warns of."""
    return f"{summary}; warning: {changeset.warning}" if changeset.warning else summary


def _plan(plan: str) -> str:
    return validate_plan_id(_plain(plan, "a plan id"))


def _sendable(value: Any) -> Any:
    """`value` with every name byte that is not UTF-8 (a lone surrogate escape, as gitplan
    reads such names) written as the text `\\xNN`: MCP's messages are UTF-8 JSON, which
    cannot carry a lone surrogate, and one would stop the server answering at all."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            escaped = _UNDECODABLE.sub(lambda found: f"\\x{ord(found.group()) - 0xDC00:02x}", value)
            # (any other half of a UTF-16 pair, which no record gitplan accepts holds: \\uNNNN)
            return escaped.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {_sendable(key): _sendable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_sendable(item) for item in value]
    return value


_UNDECODABLE = re.compile("[\udc80-\udcff]")


def server(store: PlanStore, read_only: bool = False) -> Any:
    """The MCP server for `store`'s repository (an `mcp.server.MCPServer`)."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ResourceError
    from mcp.types import CallToolResult, TextContent, ToolAnnotations

    from .. import __version__

    app = MCPServer(
        name="gitplan",
        version=__version__,
        instructions=(
            "Plans of changesets in one git repository: list, inspect, diff, record, run, "
            "apply and cancel them. Plan ids are [A-Za-z0-9._-]; paths are relative to the "
            "repository's top."
        ),
    )

    recording: dict[str, threading.Lock] = {}

    def tool(reading: bool, destructive: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            if read_only and not reading:
                return function

            def call(**arguments: Any) -> Any:
                try:
                    document, summary = function(**arguments)
                except GitPlanError as error:
                    # The error document the CLI prints under --json, flagged as an error.
                    said = f"{type(error).__name__} (exit {error.exit_code}): {error}"
                    return CallToolResult(
                        content=[TextContent(type="text", text=_sendable(said))],
                        structured_content=_sendable(views.error(error)),
                        is_error=True,
                    )
                return CallToolResult(
                    content=[TextContent(type="text", text=_sendable(summary))],
                    structured_content=_sendable(document),
                )

            call.__name__ = function.__name__
            call.__doc__ = function.__doc__
            call.__annotations__ = {**function.__annotations__, "return": "Any"}
            call.__wrapped__ = function  # type: ignore[attr-defined]
            annotations = ToolAnnotations(
                read_only_hint=reading, destructive_hint=destructive, idempotent_hint=reading
            )
            # The document goes out as structured content; its shape is documented in json.md
            # (one schema per kind), not repeated as an output schema per tool.
            app.add_tool(call, name=function.__name__, annotations=annotations, structured_output=False)
            return function

        return register

    @tool(reading=True)
    def plan_list() -> Reply:
        """Every plan of the repository: state, changesets, files, insertions, deletions."""
        plans = [views.status(item) for item in store.plans()]
        return views.document("list", {"plans": plans}), f"{len(plans)} plans"

    @tool(reading=True)
    def plan_status(plan: str) -> Reply:
        """One plan: state, base, tip, changesets, files, tools, missing artifacts."""
        found = store.status(_plan(plan))
        summary = f"plan {plan}: {found.state}, {found.changesets} changesets, {found.files_changed} files"
        return views.document("status", views.status(found)), summary

    @tool(reading=True)
    def plan_log(plan: str, offset: int = 0, limit: int = LOG_PAGE, newest: int | None = None) -> Reply:
        """The plan's changesets with their invocation records, `limit` from `offset` (oldest
        first); with `newest`, the newest that many instead (what was done last: read back
        from the tip, however long the plan)."""
        if newest is not None:
            found = store.changesets(_plan(plan), newest=max(0, newest))
            total = found[-1].number if found else store.status(_plan(plan)).changesets
            page = [views.changeset(item) for item in found]
            body = {"plan": plan, "changesets": page, "total": total, "offset": total - len(page)}
            return views.document("log", body), f"{len(page)} of {total} changesets"
        items = store.changesets(_plan(plan))
        offset, limit = max(0, offset), max(1, limit)
        page = [views.changeset(item) for item in items[offset : offset + limit]]
        body = {"plan": plan, "changesets": page, "total": len(items), "offset": offset}
        return views.document("log", body), f"{len(page)} of {len(items)} changesets"

    @tool(reading=True)
    def plan_diff(
        plan: str,
        changeset: int | str | None = None,
        stat_only: bool = False,
        offset: int = 0,
        limit: int = DIFF_PAGE,
    ) -> Reply:
        """The plan's patch as `git diff` prints it (one changeset with `changeset`), in pages of
        `limit` characters from `offset`; `stat_only` for a diffstat."""
        spec = _plain(str(changeset), "a changeset") if changeset is not None else None
        options = DiffOptions(output="stat" if stat_only else "patch")
        text = store.diff(_plan(plan), spec, options)
        offset, limit = max(0, offset), max(1, limit)
        page = text[offset : offset + limit]
        more = offset + len(page) < len(text)
        body = {"plan": plan, "patch": page, "offset": offset, "length": len(text), "more": more}
        return views.document("diff", body), f"{len(page)} of {len(text)} characters"

    @tool(reading=False)
    def plan_create(plan: str, title: str = "", base: str = "HEAD") -> Reply:
        """A new plan on `base` (a revision; default HEAD)."""
        found = store.create(_plan(plan), base=_plain(base, "a base"), title=title)
        return views.document("status", views.status(found)), f"created plan {plan}"

    @tool(reading=False)
    def plan_record(
        plan: str,
        tool: str,
        files: dict[str, str | None],
        actor: str = "mcp",
        arguments: dict[str, Any] | None = None,
        invocation_id: str | None = None,
    ) -> Reply:
        """One changeset: `files` maps each path to its new text, or null to delete it. With
        `invocation_id`, recording the same invocation again returns the first changeset."""
        plan_id = _plan(plan)
        with recording.setdefault(plan_id, threading.Lock()):  # the tools run in threads
            return _record(plan_id, tool, files, actor, arguments, invocation_id)

    def _record(
        plan_id: str,
        tool: str,
        files: dict[str, str | None],
        actor: str,
        arguments: dict[str, Any] | None,
        invocation_id: str | None,
    ) -> Reply:
        changes = {
            validate_path(_plain(path, "a path")): (None if text is None else File(text.encode()))
            for path, text in files.items()
        }
        invocation = ToolInvocation(tool=tool, actor=actor, arguments=dict(arguments or {}))
        if invocation_id is not None:
            invocation = replace(invocation, invocation_id=invocation_id)
            changeset, made = store.record_once(plan_id, changes, invocation)
            if not made:
                return views.document("changeset", views.changeset(changeset)), "already recorded"
        else:
            changeset = store.record(plan_id, changes, invocation)
        summary = _warned(f"recorded changeset {changeset.number}: {changeset.summary}", changeset)
        return views.document("changeset", views.changeset(changeset)), summary

    @tool(reading=False)
    def plan_run(plan: str, argv: list[str], tool: str, timeout: float | None = None) -> Reply:
        """Run `argv` (no shell) in the plan's own worktree and record what it changed."""
        result = store.run(_plan(plan), list(argv), tool=tool, actor="mcp", timeout=timeout)
        body = {**views.changeset(result.changeset), "exit_code": result.exit_code}
        summary = _warned(f"exit {result.exit_code}: {result.changeset.summary}", result.changeset)
        return views.document("run", body), summary

    @tool(reading=False, destructive=True)
    def plan_apply(plan: str, mode: str = "commit", dry_run: bool = True, branch: str | None = None) -> Reply:
        """Apply the plan (mode commit, worktree, or branch with `branch` naming the new
        branch). A dry run by default: set `dry_run` false to write."""
        if (mode == "branch") != (branch is not None):
            raise BadInput("mode branch needs `branch`, the new branch's name; other modes take none")
        named = _plain(branch, "a branch name") if branch is not None else None
        result = store.apply(_plan(plan), mode=_plain(mode, "a mode"), branch=named, check=dry_run)
        summary = f"{'would apply' if dry_run else 'applied'} {len(result.files)} files"
        if result.refusal:
            summary = f"apply would be refused: {result.reason}"
        return views.document("apply", views.plain(result)), summary

    @tool(reading=False, destructive=True)
    def plan_cancel(plan: str) -> Reply:
        """Delete the plan's refs and prune its objects."""
        report = store.cancel(_plan(plan))
        return views.document("cancel", views.plain(report)), f"cancelled plan {plan}"

    def readable(function: Callable[..., str]) -> Callable[..., str]:
        """A resource whose errors reach the client as the message, not a traceback."""

        def read(**arguments: str) -> str:
            try:
                return str(_sendable(function(**arguments)))
            except GitPlanError as error:
                raise ResourceError(f"{type(error).__name__} (exit {error.exit_code}): {error}") from None

        read.__name__ = function.__name__
        read.__doc__ = function.__doc__
        read.__annotations__ = function.__annotations__
        read.__wrapped__ = function  # type: ignore[attr-defined]
        return read

    @app.resource("gitplan://plans", mime_type="application/json")
    def plans_resource() -> str:
        import json

        return json.dumps(views.document("list", {"plans": [views.status(p) for p in store.plans()]}))

    @app.resource("gitplan://plan/{plan}/status", mime_type="application/json")
    @readable
    def status_resource(plan: str) -> str:
        import json

        return json.dumps(views.document("status", views.status(store.status(_plan(plan)))))

    @app.resource("gitplan://plan/{plan}/diff", mime_type="text/x-diff")
    @readable
    def diff_resource(plan: str) -> str:
        return store.diff(_plan(plan))

    @app.resource("gitplan://plan/{plan}/changeset/{number}", mime_type="application/json")
    @readable
    def changeset_resource(plan: str, number: str) -> str:
        import json

        if not number.isdigit():
            raise BadInput(f"changeset must be a number, not {number!r}")
        item = store.changeset(_plan(plan), int(number))
        return json.dumps(views.document("changeset", views.changeset(item)))

    return app
