"""Each coding agent's hook payload, read into one shape (`ToolCall`).

Claude Code, Codex CLI, Gemini CLI and OpenHands send Claude Code's shape
(`session_id`, `cwd`, `tool_name`, `tool_input`, `tool_response`). Cursor and
Cline send their own, documented by each (tests-data/agents/*/README.md says
where each fixture's shape comes from):

* Cursor: `conversation_id`, `generation_id`, `workspace_roots`, and per event
  `file_path`/`edits` (afterFileEdit), `command`/`cwd`/`output`/`duration`
  (before/afterShellExecution), `tool_name`/`tool_input`/`result_json`
  (before/afterMCPExecution), `status` (stop);
* Cline: `taskId`, `workspaceRoots`, `hookName`, and `preToolUse` or
  `postToolUse` holding `toolName`, `parameters`, `result`, `success`,
  `executionTimeMs`.

This module only reads: it never touches a repository or a file, and imports
neither click nor pygit2 (it runs twice per tool call). Fields it does not
need (Cursor's `user_email`, Cline's `userId`) are not carried into the record.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any


class PayloadError(Exception):
    """The payload is not one this adapter can use (ignored with a warning)."""


# Tools that edit the files they name, by the argument that names them.
_PATH_KEYS = ("file_path", "path", "notebook_path", "absolute_path", "filePath", "target_file")
# Tools that read or search and never write: their calls are not changesets.
_READ_ONLY = {
    "Read", "Glob", "Grep", "LS", "WebFetch", "WebSearch", "TodoWrite", "Task",
    "read_file", "read_many_files", "list_directory", "glob", "search_file_content",
    "google_web_search", "web_fetch", "view", "grep", "ls",
    "list_files", "search_files", "list_code_definition_names", "ask_followup_question",
    "plan_mode_respond", "access_mcp_resource", "load_mcp_documentation",
}  # fmt: skip
UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class ToolCall:
    """What an agent's hook payload says, in the agent's own words where it matters."""

    agent: str
    event: str  # pre, post, stop
    session: str
    cwd: str
    tool: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)
    response: Any = None
    call_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    duration_ms: float | None = None  # how long the tool ran, when the agent says so

    @property
    def plan_id(self) -> str:
        return plan_for(self.agent, self.session)

    def named_paths(self) -> list[str]:
        """Files the tool says it writes, as the agent gave them (absolute or relative)."""
        found = []
        for key in _PATH_KEYS:
            value = self.arguments.get(key)
            if isinstance(value, str) and value:
                found.append(value)
        return found

    @property
    def read_only(self) -> bool:
        return self.tool in _READ_ONLY

    @property
    def failed(self) -> bool:
        response = self.response
        if isinstance(response, dict):
            if response.get("success") is False or response.get("is_error") or response.get("error"):
                return True
            code = response.get("exit_code", response.get("exitCode"))
            return isinstance(code, int) and code != 0
        return False


def plan_for(agent: str, session: str) -> str:
    """A readable plan id for one session: `claude-code-1b2c3d4e5f6a`. A session id that
    cannot be a plan id as it is (characters a ref name cannot hold, too long, `.lock` at
    the end) is cleaned and gets 8 hex digits of its hash, so that two sessions never
    share a plan (`café` and `caf`)."""
    cleaned = UNSAFE_IN_NAME.sub("-", session).strip("-.")[:40] or "session"
    plan = f"{agent}-{cleaned}"
    while plan.endswith((".lock", ".")) or ".." in plan:
        plan = plan.replace("..", "-").removesuffix(".lock").rstrip(".")
    if session and plan != f"{agent}-{session}":
        plan += "-" + hashlib.sha1(session.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return plan


def read(agent: str, kind: str, event: str, payload: dict[str, Any]) -> ToolCall:
    """The tool call in `agent`'s payload of `event` (its own event name), of `kind` (pre/post/stop)."""
    if agent == "cursor":
        return _cursor(kind, event, payload)
    if agent == "cline":
        return _cline(kind, event, payload)
    return _claude_shape(agent, kind, payload)


def _claude_shape(agent: str, kind: str, payload: dict[str, Any]) -> ToolCall:
    session = payload.get("session_id") or payload.get("sessionId") or payload.get("conversation_id")
    cwd = payload.get("cwd") or payload.get("working_dir") or payload.get("workspace_root")
    if not isinstance(session, str) or not session:
        raise PayloadError("the payload has no session_id")
    if not isinstance(cwd, str) or not cwd:
        raise PayloadError("the payload has no cwd")
    arguments = payload.get("tool_input") or payload.get("tool_args") or {}
    return ToolCall(
        agent=agent,
        event=kind,
        session=session,
        cwd=cwd,
        tool=str(payload.get("tool_name") or ""),
        arguments=arguments if isinstance(arguments, dict) else {"input": arguments},
        response=payload.get("tool_response", payload.get("tool_result")),
        call_id=str(payload.get("tool_use_id") or payload.get("call_id") or ""),
        extra=_strings(payload, "transcript_path", "model", "turn_id", "hook_event_name", "permission_mode"),
    )


def _cursor(kind: str, event: str, payload: dict[str, Any]) -> ToolCall:
    session = payload.get("conversation_id")
    if not isinstance(session, str) or not session:
        raise PayloadError("the payload has no conversation_id")
    name = str(payload.get("hook_event_name") or event)
    roots = _roots(payload.get("workspace_roots"))
    file_path = payload.get("file_path")
    shell_cwd = payload.get("cwd")
    if isinstance(shell_cwd, str) and shell_cwd:
        cwd = shell_cwd
    else:  # a multi-root workspace: the root that holds the edited file
        cwd = _root_holding(file_path, roots) if isinstance(file_path, str) else (roots[0] if roots else "")
    if not cwd:
        raise PayloadError("the payload has no workspace_roots")
    extra = _strings(payload, "generation_id", "model", "transcript_path", "cursor_version")
    extra["hook_event_name"] = name
    duration = _number(payload.get("duration"))
    key = name.lower()
    if key == "afterfileedit":
        edits = payload.get("edits")
        arguments: dict[str, Any] = {
            "file_path": file_path,
            "edits": edits if isinstance(edits, list) else [],
        }
        return ToolCall(
            "cursor", kind, session, cwd, "file_edit", arguments, duration_ms=duration, extra=extra
        )
    if key in ("beforeshellexecution", "aftershellexecution"):
        arguments = {"command": payload.get("command")}
        if isinstance(shell_cwd, str) and shell_cwd:
            arguments["cwd"] = shell_cwd
        output = {"output": payload["output"]} if "output" in payload else None
        return ToolCall(
            "cursor", kind, session, cwd, "shell", arguments, output, duration_ms=duration, extra=extra
        )
    if key == "stop":
        status = payload.get("status")
        if isinstance(status, str):
            extra["status"] = status
        ended = {"error": "the agent loop ended with an error"} if status == "error" else None
        return ToolCall("cursor", kind, session, cwd, response=ended, extra=extra)
    # beforeMCPExecution/afterMCPExecution and preToolUse/postToolUse/postToolUseFailure name the tool.
    raw = payload.get("tool_input")
    if isinstance(raw, str):  # MCP events send the arguments as JSON text
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raw = {"input": raw}
    arguments = raw if isinstance(raw, dict) else ({} if raw is None else {"input": raw})
    if key == "posttoolusefailure":
        response: Any = {"error": payload.get("error_message") or payload.get("failure_type") or "failed"}
    else:
        response = payload.get("tool_output", payload.get("result_json"))
    return ToolCall(
        "cursor",
        kind,
        session,
        cwd,
        str(payload.get("tool_name") or ""),
        arguments,
        response,
        call_id=str(payload.get("tool_use_id") or ""),
        duration_ms=duration,
        extra=extra,
    )


def _cline(kind: str, event: str, payload: dict[str, Any]) -> ToolCall:
    session = payload.get("taskId")
    if not isinstance(session, str) or not session:
        raise PayloadError("the payload has no taskId")
    roots = _roots(payload.get("workspaceRoots"))
    if not roots:
        raise PayloadError("the payload has no workspaceRoots")
    extra: dict[str, Any] = {"hook_event_name": str(payload.get("hookName") or event)}
    if isinstance(payload.get("clineVersion"), str):
        extra["cline_version"] = payload["clineVersion"]
    if isinstance(payload.get("model"), str):
        extra["model"] = payload["model"]
    call = payload.get("postToolUse") or payload.get("preToolUse")
    if not isinstance(call, dict):  # TaskStart, TaskResume, TaskComplete, TaskCancel
        return ToolCall("cline", kind, session, roots[0], extra=extra)
    parameters = call.get("parameters")
    response = None
    if "success" in call or "result" in call:
        response = {"success": call.get("success"), "result": call.get("result")}
    return ToolCall(
        "cline",
        kind,
        session,
        roots[0],  # Cline names paths relative to the workspace's first root
        str(call.get("toolName") or ""),
        parameters if isinstance(parameters, dict) else {},
        response,
        duration_ms=_number(call.get("executionTimeMs")),
        extra=extra,
    )


def _strings(payload: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: payload[key] for key in keys if isinstance(payload.get(key), str)}


def _roots(value: Any) -> list[str]:
    return [root for root in value if isinstance(root, str) and root] if isinstance(value, list) else []


def _root_holding(path: str, roots: list[str]) -> str:
    """The workspace root a file is in (the deepest, for nested roots); else the first."""
    full = os.path.normpath(path)
    holding = [root for root in roots if full == root or full.startswith(root.rstrip(os.sep) + os.sep)]
    if holding:
        return max(holding, key=len)
    return roots[0] if roots else ""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(value)
