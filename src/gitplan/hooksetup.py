"""`git plan hooks install|uninstall|status AGENT`: the agent's own settings file.

Each agent reads its hooks from a JSON settings file it owns. Installing adds
gitplan's entries to it and keeps everything else (other hooks, other
settings) as it was; it is idempotent, keeps a copy of the file as it was
before gitplan first changed it (under the git directory for a project's
file, beside it for the user's), and uninstalling removes exactly the
entries it added: when nothing else changed, the file gets its old bytes
back, and a file gitplan created is removed. A symlinked settings file is
written through the link; its mode is kept. An entry is gitplan's when its
command starts with `git plan hook`. This module never touches a repository.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BadInput

MARKER = "git plan hook"


@dataclass(frozen=True, slots=True)
class AgentSettings:
    """Where an agent keeps its hooks and which of its events gitplan listens to."""

    agent: str
    project_file: str  # relative to the top of the worktree
    user_file: str  # relative to the home directory
    events: tuple[tuple[str, str, str | None], ...]  # (agent's event, our event, matcher)
    still_to_do: str = ""


SETTINGS = {
    "claude-code": AgentSettings(
        agent="claude-code",
        project_file=".claude/settings.json",
        user_file=".claude/settings.json",
        events=(
            ("PreToolUse", "pre", "*"),
            ("PostToolUse", "post", "*"),
            ("Stop", "stop", None),
        ),
        still_to_do="Claude Code reads the hooks when a session starts: restart running sessions.",
    ),
    "gemini": AgentSettings(
        agent="gemini",
        project_file=".gemini/settings.json",
        user_file=".gemini/settings.json",
        events=(
            ("BeforeTool", "pre", "*"),
            ("AfterTool", "post", "*"),
            ("AfterAgent", "stop", "*"),
        ),
        still_to_do="Gemini CLI reads the hooks when it starts: restart it (see `/hooks` in it).",
    ),
}


@dataclass(frozen=True, slots=True)
class HookState:
    """What `status` reports for one settings file."""

    agent: str
    file: str
    installed: tuple[str, ...]  # the agent's events that run git plan hook
    missing: tuple[str, ...]


def settings_file(agent: str, top: str | None, scope: str) -> tuple[AgentSettings, Path]:
    settings = SETTINGS.get(agent)
    if settings is None:
        known = ", ".join(SETTINGS)
        raise BadInput(f"gitplan cannot install hooks for {agent!r} yet (it can for: {known})")
    if scope == "user":
        return settings, Path(os.path.expanduser("~")) / settings.user_file
    if top is None:
        raise BadInput("--project needs a repository with a working tree (or use --user)")
    return settings, Path(top) / settings.project_file


def install(settings: AgentSettings, path: Path, backup: Path) -> bool:
    """Add gitplan's hooks; False when they were all there already."""
    document = _load(path)
    hooks = document.setdefault("hooks", {})
    if not isinstance(hooks, dict):
        raise BadInput(f"{path}: 'hooks' is not an object; fix it by hand first")
    changed = False
    for event, ours, matcher in settings.events:
        entries = hooks.setdefault(event, [])
        if not isinstance(entries, list):
            raise BadInput(f"{path}: hooks.{event} is not a list; fix it by hand first")
        if any(_is_ours(entry) for entry in entries):
            continue
        entry: dict[str, Any] = {
            "hooks": [{"type": "command", "command": f"{MARKER} {settings.agent} {ours}"}]
        }
        if matcher is not None:
            entry = {"matcher": matcher, **entry}
        entries.append(entry)
        changed = True
    if changed:
        if path.exists() and not backup.exists():
            backup.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path.resolve(), backup)  # once: the file as it was before gitplan changed it
        _save(path, document)
    return changed


def uninstall(settings: AgentSettings, path: Path, backup: Path) -> bool:
    """Remove exactly gitplan's hooks; False when there were none."""
    if not path.exists():
        return False
    document = _load(path)
    hooks = document.get("hooks")
    if not isinstance(hooks, dict):
        return False
    changed = False
    for event in list(hooks):
        entries = hooks[event]
        if not isinstance(entries, list):
            continue
        kept = [entry for entry in entries if not _is_ours(entry)]
        if len(kept) != len(entries):
            changed = True
            if kept:
                hooks[event] = kept
            else:
                del hooks[event]
    if not hooks:
        del document["hooks"]
    if not changed:
        return False
    if backup.exists() and _load(backup) == document:
        shutil.copyfile(backup, path.resolve())  # nothing else changed: its old bytes back
        backup.unlink()
    elif not document and not backup.exists():
        path.unlink()  # gitplan made the file
    else:
        _save(path, document)
    return True


def status(settings: AgentSettings, path: Path) -> HookState:
    document = _load(path) if path.exists() else {}
    found = document.get("hooks")
    hooks: dict[str, Any] = found if isinstance(found, dict) else {}
    installed = tuple(
        event
        for event, _, _ in settings.events
        if isinstance(hooks.get(event), list) and any(_is_ours(entry) for entry in hooks[event])
    )
    missing = tuple(event for event, _, _ in settings.events if event not in installed)
    return HookState(settings.agent, str(path), installed, missing)


def _is_ours(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    commands = entry.get("hooks")
    return isinstance(commands, list) and any(
        isinstance(command, dict) and str(command.get("command", "")).startswith(MARKER)
        for command in commands
    )


def _load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        document = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as error:
        raise BadInput(f"{path} is not valid JSON ({error}); gitplan leaves it alone") from None
    if not isinstance(document, dict):
        raise BadInput(f"{path} does not hold a JSON object; gitplan leaves it alone")
    return document


def _save(path: Path, document: dict[str, Any]) -> None:
    target = path.resolve()  # through a symlink (a dotfiles repository), not over it
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = target.stat().st_mode & 0o7777 if target.exists() else 0o644
    scratch = target.with_name(f".{target.name}.gitplan-{os.getpid()}")
    scratch.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.chmod(scratch, mode)
    os.replace(scratch, target)
