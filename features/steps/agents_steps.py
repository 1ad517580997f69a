"""Steps for agents.feature: the real git-plan program fed recorded agent payloads."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from behave import given, then, when
from common_steps import git, unescape
from run_steps import _note

from gitplan import GitPlanError, PlanStore

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests-data" / "agents"


def _payload(context, agent: str, fixture: str) -> str:  # type: ignore[no-untyped-def]
    text = (FIXTURES / agent / f"{fixture}.json").read_text()
    cwd = os.path.realpath(context.repo)
    return (
        text.replace("@CWD@", cwd).replace("@SESSION@", context.session).replace("@HOME@", os.environ["HOME"])
    )


def _hook(
    context, agent: str, event: str, stdin: str, *extra: str, settle: bool = True, umask: int = -1
) -> None:  # type: ignore[no-untyped-def]
    done = subprocess.run(
        [sys.executable, "-m", "gitplan", "hook", agent, event, *extra],
        input=stdin,
        cwd=context.repo,
        capture_output=True,
        text=True,
        umask=umask,
    )
    result = SimpleNamespace(code=done.returncode, stderr=done.stderr, stdout=done.stdout)
    context.hooks = [*getattr(context, "hooks", []), result]
    if settle:
        _recorded(context)


def _recorded(context) -> None:  # type: ignore[no-untyped-def]
    """Wait until the hooks' queue is recorded, as the next `git plan` command would
    (opening a store records what is queued, after any running drainer)."""
    with contextlib.suppress(GitPlanError):
        PlanStore.open(context.repo)


@given('the agent\'s session is "{session}"')
@when('the agent\'s session is "{session}"')
def session(context, session):  # type: ignore[no-untyped-def]
    context.session = session


@given("the agent works in a new repository with no commit yet")
def new_unborn_repository(context):  # type: ignore[no-untyped-def]
    context.repo = os.path.join(context.tmp, "new-project")
    subprocess.run(["git", "init", "-q", context.repo], check=True)


@when("the agent's session goes on")
def session_goes_on(context):  # type: ignore[no-untyped-def]
    """(no event: the agent's next tool runs without a hook before it)"""


@when('{agent} sends "{fixture}" as "{event}", the hook killed at "{point}"')
def sends_killed(context, agent, fixture, event, point):  # type: ignore[no-untyped-def]
    done = subprocess.run(
        [sys.executable, "-m", "gitplan", "hook", agent, event],
        input=_payload(context, agent, fixture),
        cwd=context.repo,
        capture_output=True,
        text=True,
        env=dict(os.environ, GITPLAN_FAULTS=f"{point}=exit"),
    )
    assert done.returncode != 0, "the hook was not killed"


@when('{agent} sends "{fixture}" as "{event}"')
def sends(context, agent, fixture, event):  # type: ignore[no-untyped-def]
    _hook(context, agent, event, _payload(context, agent, fixture))


@when('{agent} sends "{fixture}" as "{event}" under umask {umask}')
def sends_with_umask(context, umask, agent, fixture, event):  # type: ignore[no-untyped-def]
    _hook(context, agent, event, _payload(context, agent, fixture), umask=int(umask, 8))


@when('{agent} sends "{fixture}" as "{event}" with --strict')
def sends_strict(context, agent, fixture, event):  # type: ignore[no-untyped-def]
    _hook(context, agent, event, _payload(context, agent, fixture), "--strict")


@then("every hook exited 0 without a warning")
def all_quiet(context):  # type: ignore[no-untyped-def]
    for result in context.hooks:
        assert result.code == 0 and not result.stderr, (result.code, result.stderr)


@then('the agent data of changeset {number:d} of "{plan}" names the session and the transcript')
def agent_data(context, number, plan):  # type: ignore[no-untyped-def]
    agent = _note(context, plan, number)["agent"]
    assert agent["name"] == "claude-code" and agent["session_id"] == context.session, agent
    assert agent["transcript_path"].endswith(f"{context.session}.jsonl"), agent
    assert agent["hook_event_name"] == "PostToolUse", agent


@when('the hook gets the payload "{text}" for {agent} {event} with --strict')
def strict_payload(context, text, agent, event):  # type: ignore[no-untyped-def]
    _hook(context, agent, event, text, "--strict")


@when('the hook gets the payload "{text}" for {agent} {event}')
def raw_payload(context, text, agent, event):  # type: ignore[no-untyped-def]
    text = text.replace("{tmp}", context.tmp).replace("{repo}", os.path.realpath(context.repo))
    _hook(context, agent, event, text)


@when("the hook gets a payload whose cwd is not a repository")
def elsewhere(context):  # type: ignore[no-untyped-def]
    outside = Path(context.tmp) / "not-a-repo"
    outside.mkdir()
    payload = json.dumps({"session_id": context.session, "cwd": str(outside), "tool_name": "Bash"})
    _hook(context, "claude-code", "post", payload)


@then("the hook exited {code:d}")
def hook_exit(context, code):  # type: ignore[no-untyped-def]
    assert context.hooks[-1].code == code, (context.hooks[-1].code, context.hooks[-1].stderr)


@then('it warned "{text}"')
def warned(context, text):  # type: ignore[no-untyped-def]
    stderr = context.hooks[-1].stderr
    assert stderr.startswith("git-plan hook: warning:") and text in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1, stderr


@then("no plan exists")
def no_plan(context):  # type: ignore[no-untyped-def]
    assert git(context, "for-each-ref", "refs/changesets/") == ""


@given('the plan "{plan}" exists and is applied')
def applied_plan(context, plan):  # type: ignore[no-untyped-def]
    from gitplan import ToolInvocation

    context.store.create(plan)
    context.store.record(plan, {"applied.txt": b"a\n"}, ToolInvocation(tool="edit"))
    context.store.apply(plan)


@then('the hook log mentions "{text}"')
def hook_log(context, text):  # type: ignore[no-untyped-def]
    log = Path(context.repo, ".git", "gitplan", "hooks.log").read_text()
    assert text in log, log


@when("{count:d} post hooks for different files of the session run at once")
def concurrent_hooks(context, count):  # type: ignore[no-untyped-def]
    processes = []
    for n in range(count):
        Path(context.repo, f"file{n}.txt").write_text(f"{n}\n")
        payload = json.dumps(
            {
                "session_id": context.session,
                "cwd": os.path.realpath(context.repo),
                "hook_event_name": "PostToolUse",
                "tool_name": "Write",
                "tool_input": {"file_path": f"file{n}.txt", "content": f"{n}\n"},
                "tool_use_id": f"toolu_{n}",
            }
        )
        command = [sys.executable, "-m", "gitplan", "hook", "claude-code", "post"]
        process = subprocess.Popen(
            command,
            cwd=context.repo,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        processes.append((process, payload))
    for process, payload in processes:
        _, stderr = process.communicate(payload, timeout=120)
        context.hooks = [
            *getattr(context, "hooks", []),
            SimpleNamespace(code=process.returncode, stderr=stderr),
        ]
    _recorded(context)


@given('the file "{path}" in the worktree holds')
def file_holds(context, path):  # type: ignore[no-untyped-def]
    target = Path(context.repo, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(context.text + "\n")
    context.settings_before = context.text


@given('the file "{path}" in the worktree is "{text}"')
def file_is(context, path, text):  # type: ignore[no-untyped-def]
    target = Path(context.repo, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(unescape(text))


def _settings(context) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return json.loads(Path(context.repo, ".claude", "settings.json").read_text())  # type: ignore[no-any-return]


@then('the settings file has the hooks PreToolUse, PostToolUse and Stop and still "{mine}" and "{allowed}"')
def settings_has(context, mine, allowed):  # type: ignore[no-untyped-def]
    settings = _settings(context)
    text = json.dumps(settings)
    assert mine in text and allowed in text, text
    for event, word in (("PreToolUse", "pre"), ("PostToolUse", "post"), ("Stop", "stop")):
        commands = [hook["command"] for entry in settings["hooks"][event] for hook in entry["hooks"]]
        assert commands.count(f"git plan hook claude-code {word}") == 1, commands


@then('"{path}" holds the file as it was')
def backup_is_original(context, path):  # type: ignore[no-untyped-def]
    assert Path(context.repo, path).read_text() == context.settings_before + "\n"


@then('"{path}" holds the same JSON as the backup')
def same_as_backup(context, path):  # type: ignore[no-untyped-def]
    assert json.loads(Path(context.repo, path).read_text()) == json.loads(context.settings_before)


@then('the home directory has "{path}" running "{command}"')
def home_settings(context, path, command):  # type: ignore[no-untyped-def]
    assert command in Path(os.environ["HOME"], path).read_text()


@when('the hook is run with "{words}"')
def hook_words(context, words):  # type: ignore[no-untyped-def]
    done = subprocess.run(
        [sys.executable, "-m", "gitplan", "hook", *words.split()],
        input="",
        cwd=context.repo,
        capture_output=True,
        text=True,
    )
    context.hooks = [
        *getattr(context, "hooks", []),
        SimpleNamespace(code=done.returncode, stderr=done.stderr, stdout=done.stdout),
    ]


@then("the hook printed nothing on standard output")
def hook_printed_nothing(context):  # type: ignore[no-untyped-def]
    assert context.hooks[-1].stdout == "", context.hooks[-1].stdout


@then("it printed the usage")
def usage(context):  # type: ignore[no-untyped-def]
    assert "usage: git plan hook AGENT EVENT" in context.hooks[-1].stderr, context.hooks[-1].stderr


@when('I run git plan "{args}" with the payload of session "{session}" on standard input')
def in_process_hook(context, args, session):  # type: ignore[no-untyped-def]
    import shlex

    from click.testing import CliRunner

    from gitplan.cli import main

    payload = json.dumps({"session_id": session, "cwd": os.path.realpath(context.repo), "tool_name": "Bash"})
    result = CliRunner().invoke(main, ["-C", context.repo, *shlex.split(args)], input=payload)
    context.cli = result
    context.cli_output = result.output
    _recorded(context)


@then('"{path}" has the hooks "{hooks}"')
def has_hooks(context, path, hooks):  # type: ignore[no-untyped-def]
    assert json.loads(Path(context.repo, path).read_text())["hooks"] == json.loads(hooks)


@then('the hook state of the session holds "{name}" only')
def hook_state(context, name):  # type: ignore[no-untyped-def]
    directory = Path(context.repo, ".git", "gitplan", "hooks", f"claude-code-{context.session}")
    assert sorted(entry.name for entry in directory.iterdir()) == [name]


@then("the hook state of the session is gone")
def hook_state_gone(context):  # type: ignore[no-untyped-def]
    assert not Path(context.repo, ".git", "gitplan", "hooks", f"claude-code-{context.session}").exists()


@given('the settings file "{path}" is a symlink to a file with mode 600 holding "{text}"')
def symlinked_settings(context, path, text):  # type: ignore[no-untyped-def]
    target = _linked_settings(context, path, "settings.json")
    target.write_text(text, encoding="utf-8")
    target.chmod(0o600)


@given('the settings file "{path}" is a symlink to a file not made yet')
def dangling_settings(context, path):  # type: ignore[no-untyped-def]
    _linked_settings(context, path, "claude.json")


def _linked_settings(context, path: str, name: str) -> Path:  # type: ignore[no-untyped-def]
    """The settings file `path` made a symlink to `name` in a dotfiles directory (not made)."""
    target = Path(context.tmp, "dotfiles", name)
    target.parent.mkdir(parents=True)
    link = Path(context.repo, path)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    context.settings_target = target
    return target


@then('the symlink is still a symlink, and its target holds "{text}"')
def through_dangling_link(context, text):  # type: ignore[no-untyped-def]
    assert Path(context.repo, ".claude", "settings.json").is_symlink()
    assert text in context.settings_target.read_text(encoding="utf-8")


@then("the symlink is still a symlink, and its target is gone")
def dangling_again(context):  # type: ignore[no-untyped-def]
    assert Path(context.repo, ".claude", "settings.json").is_symlink()
    assert not context.settings_target.exists()


@then('the symlink is still a symlink, its target has mode 600 and holds "{first}" and "{second}"')
def through_link(context, first, second):  # type: ignore[no-untyped-def]
    assert Path(context.repo, ".claude", "settings.json").is_symlink()
    assert context.settings_target.stat().st_mode & 0o777 == 0o600
    text = context.settings_target.read_text(encoding="utf-8")
    assert first in text and second in text, text


@then('the symlink target holds "{text}" exactly')
def target_exactly(context, text):  # type: ignore[no-untyped-def]
    assert context.settings_target.read_text(encoding="utf-8") == text


@then('the home directory has no "{path}"')
def home_lacks(context, path):  # type: ignore[no-untyped-def]
    assert not Path(os.environ["HOME"], path).exists()


@then('the hook printed "{text}" on standard output')
def hook_stdout(context, text):  # type: ignore[no-untyped-def]
    assert context.hooks[-1].stdout == text + "\n", repr(context.hooks[-1].stdout)


def _placeholders(context, text: str) -> str:  # type: ignore[no-untyped-def]
    cwd = os.path.realpath(context.repo)
    text = text.replace("@CWD@", cwd).replace("@SESSION@", context.session)
    return text.replace("@HOME@", os.environ["HOME"])


@then("the hooks answered on standard output: {answers}")
def hooks_answered(context, answers):  # type: ignore[no-untyped-def]
    printed = [result.stdout for result in context.hooks]
    assert printed == [answer + "\n" for answer in answers.split(" | ")], printed


@then('the record of changeset {number:d} of "{plan}" took at least {least:d} ms')
def took_at_least(context, number, plan, least):  # type: ignore[no-untyped-def]
    record = _note(context, plan, number)
    assert record["started_at"] < record["finished_at"], record
    assert least <= record["duration_ms"] < least + 60_000, record


@then('the agent data of changeset {number:d} of "{plan}" is {expected}')
def agent_data_is(context, number, plan, expected):  # type: ignore[no-untyped-def]
    agent = _note(context, _placeholders(context, plan), number)["agent"]
    assert agent == json.loads(_placeholders(context, expected)), agent


@given("the file \"{path}\" in the worktree holds the JSON '{text}'")
def file_holds_json(context, path, text):  # type: ignore[no-untyped-def]
    target = Path(context.repo, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text + "\n")
    context.settings_before = text


def _commands(entry) -> list[str]:  # type: ignore[no-untyped-def]
    """The commands of one entry of a hooks file: Cursor's flat {command} or {hooks: [...]}."""
    if not isinstance(entry, dict):
        return []
    inner = entry.get("hooks")
    found = [entry["command"]] if isinstance(entry.get("command"), str) else []
    if isinstance(inner, list):
        found += [hook["command"] for hook in inner if isinstance(hook, dict) and "command" in hook]
    return found


def _table(document: dict, event: str) -> list:  # type: ignore[type-arg]
    table = document.get("hooks", document)  # OpenHands' own layout: at the top level
    return table.get(event, [])  # type: ignore[no-any-return]


@then('"{path}" runs "{command}" once at each of {events} and still holds "{text}"')
def runs_once_each(context, path, command, events, text):  # type: ignore[no-untyped-def]
    document = json.loads(Path(context.repo, path).read_text(encoding="utf-8"))
    assert text in json.dumps(document, ensure_ascii=False), document
    for event in events.split(", "):
        commands = [found for entry in _table(document, event) for found in _commands(entry)]
        ours = [found for found in commands if found.startswith(command)]
        assert len(ours) == 1, (event, commands)


@then('"{path}" holds exactly the JSON {expected}')
def holds_exactly(context, path, expected):  # type: ignore[no-untyped-def]
    assert json.loads(Path(context.repo, path).read_text(encoding="utf-8")) == json.loads(expected)


@when('the installed {agent} hook for {event} runs with "{fixture}"')
def installed_hook_runs(context, agent, event, fixture):  # type: ignore[no-untyped-def]
    """Run what the agent would run: the command in its hooks file, or its hook file,
    with the git-plan program of this environment first on PATH (as `git plan` finds it)."""
    from gitplan.hooksetup import SETTINGS

    settings = SETTINGS[agent]
    where = Path(context.repo, settings.project_file)
    if settings.layout == "scripts":
        argv = [str(where / event)]
    else:
        document = json.loads(where.read_text(encoding="utf-8"))
        found = [c for entry in _table(document, event) for c in _commands(entry) if c.startswith("git plan")]
        argv = ["sh", "-c", found[0]]
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    done = subprocess.run(
        argv,
        input=_payload(context, agent, fixture),
        cwd=context.repo,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": path},
    )
    result = SimpleNamespace(code=done.returncode, stderr=done.stderr, stdout=done.stdout)
    context.hooks = [*getattr(context, "hooks", []), result]
    _recorded(context)


@given('the worktree holds "{path}" as "{content}" with mode {mode}')
def worktree_file_with_mode(context, path, content, mode):  # type: ignore[no-untyped-def]
    target = Path(context.repo, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    target.chmod(int(mode, 8))


@then('the hook files of {agent} in "{directory}" are {events}, each executable and running its event')
def hook_files(context, agent, directory, events):  # type: ignore[no-untyped-def]
    for event in events.split(", "):
        target = Path(context.repo, directory, event)
        assert target.stat().st_mode & 0o111 == 0o111, oct(target.stat().st_mode)
        text = target.read_text()
        assert text.startswith("#!/bin/sh\n"), text
        assert text.endswith(f"\nexec git plan hook {agent} {event}\n"), text


@then('the worktree file "{path}" is "{content}" with mode {mode}')
def worktree_file_is(context, path, content, mode):  # type: ignore[no-untyped-def]
    target = Path(context.repo, path)
    assert target.read_text() == content, target.read_text()
    assert target.stat().st_mode & 0o777 == int(mode, 8), oct(target.stat().st_mode)


@when('{agent} sends "{fixture}" as "{event}" without waiting for the record')
def sends_unsettled(context, agent, fixture, event):  # type: ignore[no-untyped-def]
    _hook(context, agent, event, _payload(context, agent, fixture), settle=False)


def _hooks_dir(context) -> Path:  # type: ignore[no-untyped-def]
    return Path(context.repo, ".git", "gitplan", "hooks")


@given("another drainer holds the hooks' drain lock")
def hold_drain_lock(context):  # type: ignore[no-untyped-def]
    import fcntl

    _hooks_dir(context).mkdir(parents=True, exist_ok=True)
    context.drain_lock = os.open(_hooks_dir(context) / "drain.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(context.drain_lock, fcntl.LOCK_EX)

    def let_go() -> None:
        if context.drain_lock >= 0:
            os.close(context.drain_lock)

    context.add_cleanup(let_go)


@when("that drainer lets go of the drain lock")
def release_drain_lock(context):  # type: ignore[no-untyped-def]
    os.close(context.drain_lock)
    context.drain_lock = -1


def _queued(context) -> list[str]:  # type: ignore[no-untyped-def]
    queue = _hooks_dir(context) / "queue"
    return sorted(p.name for p in queue.glob("*.json")) if queue.is_dir() else []


@then('the queued call does not hold "{text}"')
def queued_lacks(context, text):  # type: ignore[no-untyped-def]
    (name,) = _queued(context)
    assert text not in (_hooks_dir(context) / "queue" / name).read_text()


@then("the hooks' queue holds {count:d} call")
@then("the hooks' queue holds {count:d} calls")
def queue_holds(context, count):  # type: ignore[no-untyped-def]
    assert len(_queued(context)) == count, _queued(context)


@then("the drainer the hook started empties the queue")
def queue_empties(context):  # type: ignore[no-untyped-def]
    """Waits for the condition (up to a minute), without opening a store: the drainer
    process the hook started must do the recording by itself."""
    import fcntl
    import time

    deadline = time.monotonic() + 60
    while _queued(context) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _queued(context), _queued(context)
    descriptor = os.open(_hooks_dir(context) / "drain.lock", os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # its last record is done once it lets go
    finally:
        os.close(descriptor)


@given("the hooks' queue holds a file with {what}")
def garbage_in_queue(context, what):  # type: ignore[no-untyped-def]
    queue = _hooks_dir(context) / "queue"
    queue.mkdir(parents=True, exist_ok=True)
    text = {
        "text that is no JSON": "{not json",
        "JSON nested too deep": "[" * 100_000 + "]" * 100_000,
        "a JSON list": "[1, 2]",
    }[what]
    (queue / "00000000000000000001-1-0@claude-code-x.json").write_text(text)


@then("the hooks' failed entries hold {count:d} file")
def failed_entries(context, count):  # type: ignore[no-untyped-def]
    assert len(list((_hooks_dir(context) / "failed").iterdir())) == count


@given('the worktree has a "gitplan" package that writes "{marker}" when imported')
def hostile_package(context, marker):  # type: ignore[no-untyped-def]
    package = Path(context.repo, "gitplan")
    package.mkdir()
    (package / "__init__.py").write_text(f"open({str(Path(context.repo, marker))!r}, 'w').close()\n")
    (package / "__main__.py").write_text("")


@then('there is no file "{name}" in the worktree')
def no_file(context, name):  # type: ignore[no-untyped-def]
    assert not Path(context.repo, name).exists()


@given('the hooks\' queue holds a call of the plan "{plan}"')
def queued_call_of(context, plan):  # type: ignore[no-untyped-def]
    queue = _hooks_dir(context) / "queue"
    queue.mkdir(parents=True, exist_ok=True)
    (queue / f"00000000000000000002-1-0@{plan}.json").write_text("{}")


@when('the installed git-plan program gets {agent}\'s "{fixture}" as "{event}"')
def installed_program_hook(context, agent, fixture, event):  # type: ignore[no-untyped-def]
    """As the agent runs it: the console script, in the project directory."""
    program = Path(sys.executable).parent / "git-plan"
    done = subprocess.run(
        [str(program), "hook", agent, event],
        input=_payload(context, agent, fixture),
        cwd=context.repo,
        capture_output=True,
        text=True,
    )
    result = SimpleNamespace(code=done.returncode, stderr=done.stderr, stdout=done.stdout)
    context.hooks = [*getattr(context, "hooks", []), result]


@then('the hook\'s standard error says "{text}"')
def hook_stderr_says(context, text):  # type: ignore[no-untyped-def]
    assert text in context.hooks[-1].stderr, context.hooks[-1].stderr


@when(
    '{agent}\'s "pre" hook of a Write runs with its cwd in another repository "{name}" '
    "and CLAUDE_PROJECT_DIR the project"
)
def project_dir_elsewhere(context, agent, name):  # type: ignore[no-untyped-def]
    other = Path(context.tmp) / name
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    context.other_repo = other
    payload = json.dumps(
        {
            "session_id": context.session,
            "cwd": str(other),
            "tool_name": "Write",
            "tool_use_id": "w1",
            "tool_input": {"file_path": str(other / "x.txt")},
        }  # fmt: skip
    )
    done = subprocess.run(
        [sys.executable, "-m", "gitplan", "hook", agent, "pre"],
        input=payload,
        cwd=other,
        capture_output=True,
        text=True,
        env={**os.environ, "CLAUDE_PROJECT_DIR": os.path.realpath(context.repo)},
    )
    result = SimpleNamespace(code=done.returncode, stderr=done.stderr)
    context.hooks = [*getattr(context, "hooks", []), result]


@then('the repository "{name}" has a hooks log that mentions "{text}"')
def other_hooks_log(context, name, text):  # type: ignore[no-untyped-def]
    assert text in (Path(context.tmp) / name / ".git" / "gitplan" / "hooks.log").read_text()


@then("the project has no hooks log")
def project_no_hooks_log(context):  # type: ignore[no-untyped-def]
    assert not (Path(context.repo) / ".git" / "gitplan" / "hooks.log").exists()


@then('the repository "{name}" has no hooks log')
def no_hooks_log(context, name):  # type: ignore[no-untyped-def]
    assert not (Path(context.tmp) / name / ".git" / "gitplan" / "hooks.log").exists()


@given('a writer holds the lock of the plan ref of "{plan}"')
@when('a writer holds the lock of the plan ref of "{plan}"')
def plan_ref_locked(context, plan):  # type: ignore[no-untyped-def]
    Path(context.repo, ".git", "refs", "changesets", f"{plan}.lock").write_text("")


@when('that writer lets go of the lock of the plan ref of "{plan}"')
def plan_ref_unlocked(context, plan):  # type: ignore[no-untyped-def]
    Path(context.repo, ".git", "refs", "changesets", f"{plan}.lock").unlink()
