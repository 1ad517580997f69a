"""`git plan hooks install|uninstall|status AGENT`: the agent's own hook settings.

Most agents read their hooks from a JSON settings file they own (Claude Code,
Gemini CLI, Codex CLI, OpenHands, Cursor); Cline runs one executable file per
event from a directory. Installing adds gitplan's entries (or files) and keeps
everything else as it was; it is idempotent, and uninstalling removes exactly
what it added:

* a settings file is copied once, before gitplan first changes it (under the
  git directory for a project's file, beside it for the user's); when nothing
  else changed, uninstall gives it its old bytes back, and a file gitplan
  created is removed. A symlinked file is written through the link; its mode
  is kept. An entry is gitplan's when its command starts with `git plan hook`;
* a hook file (Cline) is gitplan's when it holds exactly what gitplan writes.
  An event that already has a file of someone else is refused before anything
  is written (Cline runs one file per event).

The directories gitplan had to create are listed beside the backup (FILE.dirs)
and removed again, when empty, with the last of gitplan's files.

This module never touches a repository.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable
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
    # "json": a settings file of {"hooks": {EVENT: [entry...]}}; "scripts": a directory
    # holding one executable file per event, named after it (Cline).
    layout: str = "json"
    # An entry of "nested" shape is {"matcher", "hooks": [{"type", "command"}]} (Claude
    # Code's); "flat" is {"command"} (Cursor's).
    entry: str = "nested"
    # The command names gitplan's event (pre, post, stop) or, "native", the agent's own,
    # for agents whose payload differs from event to event.
    word: str = "ours"
    starts_with: tuple[tuple[str, Any], ...] = ()  # what a file gitplan creates holds first
    snake_case: bool = False  # OpenHands also reads top-level pre_tool_use... keys

    def command(self, event: str, ours: str) -> str:
        return f"{MARKER} {self.agent} {event if self.word == 'native' else ours}"


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
    "codex": AgentSettings(
        agent="codex",
        project_file=".codex/hooks.json",
        user_file=".codex/hooks.json",
        events=(
            ("PreToolUse", "pre", None),  # no matcher: every tool (Bash, apply_patch, MCP tools)
            ("PostToolUse", "post", None),
            ("Stop", "stop", None),
        ),
        still_to_do=(
            "Codex runs a new hook only after you review and trust it: open /hooks in Codex"
            " (a project's .codex/ hooks load only in a trusted project; Codex before 0.124"
            " also needs [features] codex_hooks = true in config.toml)."
        ),
    ),
    "openhands": AgentSettings(
        agent="openhands",
        project_file=".openhands/hooks.json",
        user_file=".openhands/hooks.json",
        events=(
            ("PreToolUse", "pre", "*"),
            ("PostToolUse", "post", "*"),
            ("Stop", "stop", None),
        ),
        still_to_do=(
            "OpenHands reads the hooks when a conversation starts: start a new one (/skills in"
            " its CLI lists them). ~/.openhands/hooks.json counts only where a repository has"
            " no .openhands/hooks.json."
        ),
        snake_case=True,
    ),
    "cursor": AgentSettings(
        agent="cursor",
        project_file=".cursor/hooks.json",
        user_file=".cursor/hooks.json",
        events=(
            ("beforeSubmitPrompt", "pre", None),  # before the agent acts: the user's work is kept apart
            ("afterFileEdit", "post", None),
            ("afterShellExecution", "post", None),
            ("stop", "stop", None),
        ),
        still_to_do=(
            "Cursor lists the hooks in its Hooks settings tab; restart Cursor if they are not there yet."
        ),
        entry="flat",
        word="native",
        starts_with=(("version", 1),),
    ),
    "cline": AgentSettings(
        agent="cline",
        project_file=".clinerules/hooks",
        user_file="Documents/Cline/Hooks",
        events=(
            ("PreToolUse", "pre", None),
            ("PostToolUse", "post", None),
            ("TaskComplete", "stop", None),
            ("TaskCancel", "stop", None),
        ),
        still_to_do=(
            "Turn hooks on in Cline's settings (Enable Hooks) and check that its Hooks tab shows"
            " these switched on; Cline runs hook files on macOS and Linux."
        ),
        layout="scripts",
        word="native",
    ),
}
_SNAKE = {"PreToolUse": "pre_tool_use", "PostToolUse": "post_tool_use", "Stop": "stop",
          "UserPromptSubmit": "user_prompt_submit", "SessionStart": "session_start",
          "SessionEnd": "session_end"}  # fmt: skip


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
    if settings.layout == "scripts":
        return _install_scripts(settings, path, backup)
    existed = path.exists()
    document = _load(path)
    if not existed:
        document.update(settings.starts_with)
    hooks, names = _table(settings, document, path)
    changed = False
    for event, ours, matcher in settings.events:
        entries = hooks.setdefault(names(event), [])
        if not isinstance(entries, list):
            raise BadInput(f"{path}: hooks.{names(event)} is not a list; fix it by hand first")
        if _installed(entries, matcher):
            continue
        command = settings.command(event, ours)
        entry: dict[str, Any] = (
            {"command": command}
            if settings.entry == "flat"
            else {"hooks": [{"type": "command", "command": command}]}
        )
        if matcher is not None:
            entry = {"matcher": matcher, **entry}
        entries.append(entry)
        changed = True
    if changed:
        if existed and not backup.exists():
            backup.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path.resolve(), backup)  # once: the file as it was before gitplan changed it
        if not existed:
            _make_directory(path.resolve().parent, backup)
        _save(path, document)
    return changed


def uninstall(settings: AgentSettings, path: Path, backup: Path) -> bool:
    """Remove exactly gitplan's hooks; False when there were none."""
    if settings.layout == "scripts":
        return _uninstall_scripts(settings, path, backup)
    if not path.exists():
        return False
    document = _load(path)
    try:
        hooks, _ = _table(settings, document, path, create=False)
    except BadInput:
        return False
    changed = False
    for event in list(hooks):
        entries = hooks[event]
        if not isinstance(entries, list):
            continue
        kept = [left for left in map(_without_ours, entries) if left is not None]
        if kept != entries:
            changed = True
            if kept:
                hooks[event] = kept
            else:
                del hooks[event]
    if not hooks and hooks is document.get("hooks"):
        del document["hooks"]
    if not changed:
        return False
    if backup.exists() and _load(backup) == document:
        shutil.copyfile(backup, path.resolve())  # nothing else changed: its old bytes back
        backup.unlink()
    elif document in ({}, dict(settings.starts_with)) and not backup.exists():
        path.resolve().unlink()  # gitplan made the file (and the directories it needed)
        _remove_made_directories(backup)
    else:
        _save(path, document)
    return True


def status(settings: AgentSettings, path: Path) -> HookState:
    if settings.layout == "scripts":
        installed = tuple(
            event for event, ours, _ in settings.events if _script_is_ours(settings, path / event, ours)
        )
    else:
        document = _load(path) if path.exists() else {}
        try:
            hooks, names = _table(settings, document, path, create=False)
        except BadInput:
            hooks, names = {}, str
        installed = tuple(
            event
            for event, _, matcher in settings.events
            if isinstance(hooks.get(names(event)), list) and _installed(hooks[names(event)], matcher)
        )
    missing = tuple(event for event, _, _ in settings.events if event not in installed)
    return HookState(settings.agent, str(path), installed, missing)


def _table(
    settings: AgentSettings, document: dict[str, Any], path: Path, create: bool = True
) -> tuple[dict[str, Any], Callable[[str], str]]:
    """The object that maps event names to entries, and how events are spelled in it:
    `hooks` (Claude Code's layout), or for OpenHands a file already in its own layout
    (top-level snake_case keys), which gitplan then writes in the same layout."""
    if settings.snake_case and any(key in document for key in _SNAKE.values()):
        return document, lambda event: _SNAKE.get(event, event)
    hooks = document.setdefault("hooks", {}) if create else document.get("hooks", {})
    if not isinstance(hooks, dict):
        raise BadInput(f"{path}: 'hooks' is not an object; fix it by hand first")
    return hooks, str


def _script(settings: AgentSettings, event: str, ours: str) -> str:
    return (
        "#!/bin/sh\n"
        f"# Written by `git plan hooks install {settings.agent}`: {settings.agent} runs it at its {event}"
        " event, and it records\n"
        f"# the tool calls as changesets (docs/agents.md). `git plan hooks uninstall {settings.agent}`"
        " removes it.\n"
        f"exec {settings.command(event, ours)}\n"
    )


def _script_is_ours(settings: AgentSettings, target: Path, ours: str) -> bool:
    try:
        return target.is_file() and target.read_text(encoding="utf-8") == _script(settings, target.name, ours)
    except (OSError, UnicodeDecodeError):
        return False


def _install_scripts(settings: AgentSettings, directory: Path, backup: Path) -> bool:
    """One executable file per event (there is no file to back up: the directories it
    creates are listed beside where the backup would go)."""
    for place in (directory.parent, directory):
        if place.exists() and not place.is_dir():
            raise BadInput(
                f"{place} is a file, not a directory; {settings.agent} reads hook files from"
                f" {directory}: make it a directory first"
            )
    wanted = [(event, ours) for event, ours, _ in settings.events]
    taken = [
        event
        for event, ours in wanted
        if (directory / event).exists() or (directory / event).is_symlink()
        if not _script_is_ours(settings, directory / event, ours)
    ]
    if taken:  # before anything is written: the agent runs one file per event
        raise BadInput(
            f"{directory}: {', '.join(taken)} already there and not gitplan's ({settings.agent} runs"
            f" one file per event); add `{MARKER} {settings.agent} EVENT` to it yourself"
        )
    missing = [(event, ours) for event, ours in wanted if not (directory / event).exists()]
    if not missing:
        return False
    _make_directory(directory, backup)
    for event, ours in missing:
        scratch = directory / f".{event}.gitplan-{os.getpid()}"
        scratch.write_text(_script(settings, event, ours), encoding="utf-8")
        os.chmod(scratch, 0o755)
        os.replace(scratch, directory / event)
    return True


def _uninstall_scripts(settings: AgentSettings, directory: Path, backup: Path) -> bool:
    changed = False
    for event, ours, _ in settings.events:
        if _script_is_ours(settings, directory / event, ours):
            (directory / event).unlink()
            changed = True
    _remove_made_directories(backup)
    return changed


def _make_directory(directory: Path, backup: Path) -> None:
    """Create `directory`, listing the directories that did not exist beside the backup."""
    created = [place for place in (directory, *directory.parents) if not place.exists()]
    directory.mkdir(parents=True, exist_ok=True)
    if created:
        record = backup.with_name(backup.name + ".dirs")
        known = json.loads(record.read_text()) if record.exists() else []
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(sorted({*known, *map(str, created)}), indent=2) + "\n")


def _remove_made_directories(backup: Path) -> None:
    """Remove the directories gitplan created, deepest first, where they are empty."""
    record = backup.with_name(backup.name + ".dirs")
    if not record.exists():
        return
    made = json.loads(record.read_text())
    record.unlink()  # first: for --user it may sit in one of those directories
    for place in sorted(made, key=len, reverse=True):
        with contextlib.suppress(OSError):  # only when empty: what else is there stays
            Path(place).rmdir()


def _installed(entries: list[Any], matcher: str | None) -> bool:
    """Does one of an event's entries run gitplan's hook for the tools `matcher` names?
    (An entry of the user's for fewer tools leaves the others without it.)"""
    return any(_is_ours(entry) and entry.get("matcher") == matcher for entry in entries)


def _runs_ours(item: Any) -> bool:
    """Is `item` (a flat entry, or one command of a nested entry) gitplan's hook command?"""
    return isinstance(item, dict) and str(item.get("command", "")).startswith(MARKER)


def _without_ours(entry: Any) -> Any:
    """`entry` with gitplan's commands taken out of it (the user's own beside them stay);
    None when nothing of it is left."""
    if _runs_ours(entry):  # Cursor's flat entry
        return None
    commands = entry.get("hooks") if isinstance(entry, dict) else None
    if not isinstance(commands, list):
        return entry
    kept = [command for command in commands if not _runs_ours(command)]
    if len(kept) == len(commands):
        return entry
    return {**entry, "hooks": kept} if kept else None


def _is_ours(entry: Any) -> bool:
    """Does `entry` run gitplan's hook (itself, Cursor's flat entry, or among its commands)?"""
    if _runs_ours(entry):
        return True
    commands = entry.get("hooks") if isinstance(entry, dict) else None
    return isinstance(commands, list) and any(_runs_ours(command) for command in commands)


def _without_comments(text: str) -> str:
    """JSON with comments (`//` to the end of the line, `/* ... */`) as plain JSON: the
    comments outside strings left out."""
    out: list[str] = []
    at, inside = 0, False
    while at < len(text):
        char = text[at]
        if inside:
            out.append(char)
            if char == "\\":
                out.append(text[at + 1 : at + 2])
                at += 1
            elif char == '"':
                inside = False
        elif char == '"':
            inside = True
            out.append(char)
        elif text.startswith("//", at):
            end = text.find("\n", at)
            at = len(text) if end < 0 else end
            continue
        elif text.startswith("/*", at):
            end = text.find("*/", at + 2)
            at = len(text) if end < 0 else end + 2
            continue
        else:
            out.append(char)
        at += 1
    return "".join(out)


def _load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        document = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as error:
        with contextlib.suppress(json.JSONDecodeError):
            json.loads(_without_comments(text))
            raise BadInput(
                f"{path} holds comments (JSON with comments, which the agent reads); writing it "
                "would lose them, so gitplan leaves it alone: add the hooks `git plan hooks "
                "status` lists to it by hand, or take the comments out"
            ) from None
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
