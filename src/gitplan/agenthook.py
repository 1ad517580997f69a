"""`git plan hook AGENT EVENT`: a coding agent's tool calls become changesets.

The agent (Claude Code, Codex CLI, Gemini CLI, OpenHands, Cursor, Cline) runs
this command before and after each tool call and when it stops, with a JSON
payload on stdin (agentpayloads reads each agent's shape). Its edits land in
the user's worktree, as they always do; each session of the agent is a plan
(created at its first event, on HEAD), and:

* `pre` notes when the tool call began (timings are measured by gitplan);
* `post` records what the call changed as one changeset: the files the tool
  names (`file_path`...), or, for a shell tool or one that names no file,
  everything `git status` lists that differs from the plan's tip (what
  `git plan snapshot` records), since edits made through `sed`, heredocs and
  scripts are named by no event;
* `stop` sweeps the worktree the same way, for edits no event claimed (some
  agents' patch tools fire no hook at all).

A hook never blocks or breaks the agent: on any error it prints one warning
line on stderr, appends the error to `<git-dir>/gitplan/hooks.log`, and exits
0. It imports neither click nor the CLI: it runs twice per tool call.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from . import filelock, hookqueue, permissions
from .agentpayloads import UNSAFE_IN_NAME, PayloadError, ToolCall, plan_for, read

__all__ = ["AGENTS", "EVENTS", "PayloadError", "ToolCall", "handle", "main", "parse", "plan_for"]

AGENTS = {
    "claude-code": "Claude Code",
    "codex": "Codex CLI",
    "gemini": "Gemini CLI",
    "openhands": "OpenHands",
    "cursor": "Cursor",
    "cline": "Cline",
}
# Each agent's event names, as gitplan's three: a turn or tool call begins (pre), a
# tool call ended (post), the agent stopped (stop). Matched without case, - or _.
EVENTS = {
    "pre": "pre",
    "pretooluse": "pre",  # Claude Code, Codex, OpenHands, Cline, Cursor
    "beforetool": "pre",  # Gemini CLI
    "beforeshellexecution": "pre",  # Cursor
    "beforemcpexecution": "pre",  # Cursor
    "beforesubmitprompt": "pre",  # Cursor: before the agent acts on a prompt
    "userpromptsubmit": "pre",  # Claude Code, Codex, OpenHands, Cline
    "taskstart": "pre",  # Cline
    "taskresume": "pre",  # Cline
    "post": "post",
    "posttooluse": "post",
    "posttoolusefailure": "post",  # Cursor, Claude Code
    "aftertool": "post",  # Gemini CLI
    "afterfileedit": "post",  # Cursor
    "aftershellexecution": "post",  # Cursor
    "aftermcpexecution": "post",  # Cursor
    "stop": "stop",  # Claude Code, Codex, OpenHands, Cursor
    "subagentstop": "stop",
    "afteragent": "stop",  # Gemini CLI
    "taskcomplete": "stop",  # Cline
    "taskcancel": "stop",  # Cline
    "sessionend": "stop",
}
# Arguments that hold file contents: the changeset has them, the record keeps their size.
# How long a pre event waits for the calls before it to be recorded (hookqueue).
_PRE_WAIT = 10.0
_CONTENT_KEYS = {
    "content", "new_string", "old_string", "edits", "new_source", "patch", "input", "file_text",
    "old_str", "new_str", "diff", "contents",
}  # fmt: skip


def parse(agent: str, event: str, text: str) -> ToolCall:
    """The tool call a payload describes; PayloadError when it is not one."""
    if agent not in AGENTS:
        raise PayloadError(f"unknown agent {agent!r} (known: {', '.join(AGENTS)})")
    kind = EVENTS.get(_word(event))
    if kind is None:
        raise PayloadError(f"unknown event {event!r} (use pre, post or stop)")
    try:
        # Half a UTF-16 pair (a string an agent cut inside an emoji) becomes U+FFFD, and
        # NaN or Infinity (a Python agent's json.dumps writes them) the word, so the call
        # keeps its record: no record may hold either (a strict JSON reader refuses them).
        payload = json.loads(text, object_pairs_hook=_whole_text, parse_constant=str, parse_float=_finite)
    except json.JSONDecodeError as error:
        raise PayloadError(f"the payload is not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise PayloadError("the payload is not a JSON object")
    return read(agent, kind, event, payload)


def _finite(text: str) -> float | str:
    """A JSON number as a float, or as its text when no float holds it (1e999)."""
    number = float(text)
    return number if math.isfinite(number) else text


def _whole_text(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return {_mended(key): _mended(value) for key, value in pairs}


def _mended(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_mended(item) for item in value]
    return value  # (objects inside are mended by their own hook call)


def recorded_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """The tool's arguments for the record: file contents replaced by their size."""
    kept: dict[str, Any] = {}
    for key, value in arguments.items():
        if key in _CONTENT_KEYS and isinstance(value, str | list):
            kept[key] = f"<{len(value)} {'characters' if isinstance(value, str) else 'items'}>"
        else:
            kept[key] = value
    return kept


def handle(call: ToolCall, queue: bool = True) -> str:
    """Do what the event asks; returns what was done, for the log and for tests.

    A post or stop event is queued for the drainer (hookqueue), unless `queue` is
    False (--strict: the agent waits for the record and learns of its failure)."""
    arrived = time.time()
    where = _project(call)
    found = _git_dir(where)
    if found is None:
        raise PayloadError(f"{where} is not in a git repository")
    common, bare = found
    if bare:
        raise PayloadError(f"{where} is in a bare repository")
    permissions.remember_from_config_file(common)  # (no libgit2 here to read it)
    state = common / "gitplan" / "hooks" / call.plan_id
    if call.event == "pre":  # no pygit2 on this path (but the session's first): it notes the time
        # The calls before this one are recorded before this tool can change more.
        hookqueue.wait_drained(common, _PRE_WAIT, call.plan_id)
        if not _plan_exists(common, call.plan_id) or _baseline_marker(common, call.plan_id).exists():
            _ensure_plan(_open(where), call, baseline=True)
        if call.call_id and not call.read_only:
            state.mkdir(parents=True, exist_ok=True)
            (state / _safe(call.call_id)).write_text(repr(time.time()))
            permissions.widen(state / _safe(call.call_id))
        return "noted the start"
    if call.event == "post" and call.read_only:
        return f"{call.tool} changes nothing"
    if call.event == "stop" and not _plan_exists(common, call.plan_id):
        # A session whose first event is its stop (a turn without tools, or one whose
        # tools fired no hook): what the worktree holds is recorded as the user's, never
        # swept as the agent's, so `cancel --restore` keeps it.
        _ensure_plan(_open(where), call, baseline=True)
    if call.event == "stop":
        shutil.rmtree(state, ignore_errors=True)  # starts of calls that never got a post
    started = _started(state, call.call_id)
    if started is None and call.duration_ms is not None:  # Cursor and Cline say how long it ran
        started = arrived - call.duration_ms / 1000
    if not queue:
        return _record(call, where, arrived, started)
    fields = {name: getattr(call, name) for name in call.__dataclass_fields__}
    # Of the tool's answer only whether it failed is recorded: a whole one (Claude Code's
    # Edit sends the file as it was) would be written to the queue and read back for nothing.
    fields["response"] = {"error": True} if call.failed else None
    where = os.path.abspath(where)  # the drainer runs elsewhere
    entry = {"call": fields, "where": where, "arrived": arrived, "started": started}
    hookqueue.put(common, call.plan_id, entry)
    hookqueue.kick(common)
    return "queued"


def record_queued(entry: dict[str, Any]) -> None:
    """Record one queued tool call (the drainer's work); errors go to hooks.log."""
    where = str(entry.get("where") or ".")
    call = None
    try:
        call = ToolCall(**entry["call"])
        done = _record(call, where, float(entry["arrived"]), entry.get("started"))
        _log(where, f"{call.agent} {call.event} {call.tool or '-'}: {done}")
    except PayloadError as error:
        _log(where, f"ignored: {error}")
    except Exception as error:  # noqa: BLE001 - one bad entry must not stop the others
        if call is not None and _ref_locked(where, call.plan_id):
            _log(where, f"{call.agent} {call.event} {call.tool or '-'}: left queued for later ({error})")
            raise hookqueue.Later(str(error)) from None
        _log(where, "".join(traceback.format_exception(error)))


def _ref_locked(where: str, plan_id: str) -> bool:
    """Does a lock file hold one of the plan's refs (a writer at work, or one killed)?"""
    found = _git_dir(where)
    return found is not None and any(
        (found[0] / "refs" / space / f"{plan_id}.lock").exists()
        for space in ("changesets", "notes/changesets")
    )


def _record(call: ToolCall, where: str, arrived: float, started: float | None) -> str:
    """What the tool call changed, as one changeset of the session's plan."""
    store = _open(where)
    top = store.workdir
    named = [_relative(top, call.cwd, path) for path in call.named_paths()] if call.event == "post" else []
    paths = [path for path in named if path is not None]
    if named and not paths:
        return "the tool wrote outside this repository"
    _ensure_plan(store, call, baseline=False)
    changeset = store.record_agent_call(
        call.plan_id,
        tool=(call.tool or "unknown-tool") if call.event == "post" else "sweep",
        actor=AGENTS[call.agent],
        arguments=recorded_arguments(call.arguments),
        paths=paths,
        failed=call.failed,
        started=started,
        finished=arrived,
        invocation_id=call.call_id or None,
        agent={"name": call.agent, "session_id": call.session, **call.extra},
    )
    if changeset is None:
        return "nothing changed"
    return f"recorded changeset {changeset.number} of plan {call.plan_id}"


def _open(where: str) -> Any:
    """The store of the repository `where` is in (the payload's, not GIT_DIR's), opened
    without waiting for the hooks' queue: the hooks see to it themselves."""
    from .errors import BadInput
    from .gitrepo import open_repository
    from .store import PlanStore

    try:
        store = PlanStore(open_repository(where, environment=False))
    except BadInput as error:
        raise PayloadError(f"{where} is not in a git repository this hook can use: {error}") from None
    if store.workdir is None:
        raise PayloadError(f"{where} is in a bare repository")
    return store


def _plan_exists(common: Path, plan_id: str) -> bool:
    return (common / "refs" / "changesets" / plan_id).exists() or _packed(common, plan_id)


def _packed(common: Path, plan_id: str) -> bool:
    try:
        return f" refs/changesets/{plan_id}\n" in (common / "packed-refs").read_text(errors="replace")
    except FileNotFoundError:
        return False


def _ensure_plan(store: Any, call: ToolCall, baseline: bool) -> None:
    """The session's plan, created at its first event. Created at a `pre` event (before
    any tool ran), what the worktree already held is recorded first as the user's, so
    that the agent's changesets hold only what the agent did.

    A marker says that record is still owed from the moment the plan is made until it is
    written: a hook killed in between, or a record that failed, leaves it, and the
    session's next event records the user's work first, before its own record (a shell
    call's edits made meanwhile then count as the user's too: kept by `cancel
    --restore`, never undone with the agent's)."""
    from .errors import BadInput

    marker = _baseline_marker(Path(store.git_directory), call.plan_id)
    try:
        store.status(call.plan_id)
    except Exception:  # noqa: BLE001 - not there yet (or damaged: create says which)
        if baseline:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        try:
            store.create(call.plan_id, title=f"{AGENTS[call.agent]} session {call.session}")
        except BadInput as error:  # pragma: no cover - another hook of the session made it meanwhile
            if "already exists" not in str(error):
                raise
            return  # (its baseline is that hook's to record, or, if it dies, the next event's)
    with filelock.locked(marker.with_name(f"{marker.name}.lock")):
        if not marker.exists():  # recorded already (by another of the session's hooks)
            return
        _record_baseline(store, call)
        marker.unlink()


def _baseline_marker(common: Path, plan_id: str) -> Path:
    """The file that says the session's record of the user's own work is still owed.
    (`.baselines` can be no plan's name, so no plan's hook state holds it.)"""
    return common / "gitplan" / "hooks" / ".baselines" / plan_id


def _record_baseline(store: Any, call: ToolCall) -> None:
    store.record_agent_call(
        call.plan_id,
        tool="before-session",
        actor="user",
        arguments={},
        agent={"name": call.agent, "session_id": call.session, "note": "uncommitted work before the session"},
    )


def _project(call: ToolCall) -> str:
    """The project the agent was started in (Claude Code says which), else the payload's cwd.
    (Only Claude Code's: another agent started from a Claude Code shell inherits it.)"""
    named = os.environ.get("CLAUDE_PROJECT_DIR") if call.agent == "claude-code" else None
    return named or call.cwd


def _common_dir(cwd: str) -> Path | None:
    """The repository's common git directory, found as git finds it, without pygit2."""
    found = _git_dir(cwd)
    return None if found is None else found[0]


def _git_dir(cwd: str) -> tuple[Path, bool] | None:
    """The common git directory of the repository `cwd` is in, and whether it is bare."""
    directory = Path(cwd).resolve()
    for candidate in (directory, *directory.parents):
        dot_git = candidate / ".git"
        if dot_git.is_dir():
            return dot_git, False
        if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
            return candidate, True
        if dot_git.is_file():
            text = dot_git.read_text(errors="replace").strip()
            if not text.startswith("gitdir: "):  # pragma: no cover - not a .git file git wrote
                return None
            git_dir = (candidate / text[len("gitdir: ") :]).resolve()
            pointer = git_dir / "commondir"
            common = (git_dir / pointer.read_text().strip()).resolve() if pointer.is_file() else git_dir
            return common, False
    return None


def _started(state: Path, call_id: str) -> float | None:
    if not call_id:
        return None
    marker = state / _safe(call_id)
    try:
        started = float(marker.read_text())
        marker.unlink()
        return started
    except (FileNotFoundError, ValueError):
        return None


def _safe(name: str) -> str:
    return UNSAFE_IN_NAME.sub("-", name)[:120] or "call"


def _relative(top: str, cwd: str, path: str) -> str | None:
    """A path the agent named, from the top of the worktree; None when outside it."""
    full = os.path.normpath(os.path.join(cwd, path))
    relative = os.path.relpath(os.path.realpath(full), os.path.realpath(top))
    if relative == "." or relative.startswith(".."):
        return None
    return relative.replace(os.sep, "/")


def main(argv: list[str]) -> int:
    """Entry of `git plan hook AGENT EVENT`: always exits 0 (unless --strict)."""
    if argv[:1] == ["--drain"] and len(argv) == 2:  # the drainer hookqueue.kick starts
        common = Path(argv[1])
        if not (common / "HEAD").is_file() or not (common / "objects").is_dir():
            sys.stderr.write(f"git-plan hook: --drain needs a git directory, not {argv[1]}\n")
            return 2
        permissions.remember_from_config_file(common)
        hookqueue.drain(common, record_queued)
        return 0
    strict = "--strict" in argv
    words = [word for word in argv if word != "--strict"]
    if len(words) != 2 or words[0] in ("-h", "--help"):
        sys.stderr.write(
            "usage: git plan hook AGENT EVENT [--strict]\n"
            f"  AGENT: {', '.join(AGENTS)}; EVENT: pre, post or stop (or the agent's own names)\n"
            "  reads the agent's JSON payload on stdin; see docs/agents.md\n"
        )
        if words and words[0] in ("-h", "--help"):
            return 0
        # A hook set up wrongly must not block the agent either (exit 2 blocks a tool call
        # in Claude Code and Gemini CLI): say so here and in the log, and let it go on.
        called = f"git plan hook {' '.join(argv)}".strip()
        if words and words[0] in AGENTS:  # the answer that lets the agent go on (Cline: cancel false)
            answer = _answer(words[0], words[1] if len(words) > 1 else "")
            if answer:
                sys.stdout.write(answer + "\n")
        sys.stderr.write(f"git-plan hook: warning: ignored: called as `{called}`\n")
        _log(os.environ.get("CLAUDE_PROJECT_DIR") or ".", f"called as `{called}`: ignored")
        return 2 if strict else 0
    agent, event = words
    answer = _answer(agent, event)
    if answer:
        sys.stdout.write(answer + "\n")
    call = None
    try:
        call = parse(agent, event, sys.stdin.read())
        done = handle(call, queue=not strict)
        _log(_project(call), f"{agent} {event} {call.tool or '-'}: {done}")
        return 0
    except PayloadError as error:
        sys.stderr.write(f"git-plan hook: warning: ignored: {error}\n")
        return 2 if strict else 0
    except Exception as error:  # noqa: BLE001 - a hook never breaks the agent
        sys.stderr.write(f"git-plan hook: warning: {type(error).__name__}: {error}\n")
        _log(_project(call) if call else ".", "".join(traceback.format_exception(error)))
        return 2 if strict else 0


def _answer(agent: str, event: str) -> str:
    """What the agent reads on the hook's stdout: a JSON answer that asks nothing of it.

    Gemini CLI parses stdout as JSON; Cline too (invalid JSON cancels the tool call,
    `cancel: false` lets it run); Cursor's beforeSubmitPrompt sends the prompt on only
    with `continue: true`. Never a permission decision: the user's approvals stay theirs."""
    if agent == "gemini":
        return "{}"
    if agent == "cline":
        return '{"cancel": false}'
    if agent == "cursor":
        return '{"continue": true}' if _word(event) == "beforesubmitprompt" else "{}"
    return ""


def _word(event: str) -> str:
    return event.replace("_", "").replace("-", "").lower()


def _log(cwd: str, message: str) -> None:
    """Append to <git-dir>/gitplan/hooks.log; silently nothing when there is no repository."""
    try:
        common = _common_dir(cwd)
        if common is None:  # pragma: no cover - errors after parsing come from inside a repository
            return
        hookqueue.append_log(common, message)
    except Exception:  # noqa: BLE001  # pragma: no cover - logging must not fail the hook
        pass
