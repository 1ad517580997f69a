"""Steps for cli.feature: the click commands run in-process on real repositories."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from behave import given, then, when
from click.testing import CliRunner
from common_steps import unescape

from gitplan import PlanStore
from gitplan.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _run(context, args: str, stdin: bytes | None = None) -> None:  # type: ignore[no-untyped-def]
    _run_words(context, shlex.split(args.replace("{tmp}", context.tmp).replace("{root}", str(ROOT))), stdin)


def _run_words(context, words: list[str], stdin: bytes | None = None) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, ["-C", context.repo, *words], input=stdin)
    context.cli = result
    context.cli_output = result.output  # stdout and stderr, as a terminal shows them


@given('a file "{name}" outside the repository with content "{content}"')
def outside_file(context, name, content):  # type: ignore[no-untyped-def]
    Path(context.tmp, name).parent.mkdir(parents=True, exist_ok=True)
    Path(context.tmp, name).write_bytes(unescape(content))


@given('a file "{name}" outside the repository is a directory')
def outside_dir(context, name):  # type: ignore[no-untyped-def]
    Path(context.tmp, name).mkdir()


@when('I run git plan "{args}", whose timeout fires once the command has written "{name}"')
def run_timeout_when_ready(context, args, name):  # type: ignore[no-untyped-def]
    """The command's timeout may run out before the command has set itself up (a loaded
    machine can take longer to start a shell than a short timeout): the signals go out
    only once it has written `name` in the scratch directory."""
    import time

    from gitplan import faults

    ready = Path(context.tmp, name)
    fired = []

    def wait_until_ready() -> None:
        fired.append(True)
        deadline = time.monotonic() + 60
        while not (ready.exists() and ready.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.01)

    with faults.at("run.timed-out", wait_until_ready):
        _run(context, args)
    assert fired, "the command's timeout never fired"


@when('I run git plan "{args}"')
def run_plan(context, args):  # type: ignore[no-untyped-def]
    _run(context, args)


@when('I run git plan "{args}", its output reader held up for {seconds:g} s after its first read')
def run_with_slow_pump(context, args, seconds):  # type: ignore[no-untyped-def]
    """A thread the machine does not run for a while, right after it read the command's
    output (and before it kept it): the command has ended and closed its pipes."""
    import time

    from gitplan import faults

    with faults.at("run.output-read", lambda: time.sleep(seconds)):
        _run(context, args)


@when('I run git plan "{args}", counting rename detections')
def run_counting_renames(context, args):  # type: ignore[no-untyped-def]
    from gitplan import faults

    context.rename_detections = 0

    def counted() -> None:
        context.rename_detections += 1

    with faults.at("renames.detect", counted, times=1000):
        _run(context, args)


@then("renames were detected {count:d} time")
@then("renames were detected {count:d} times")
def renames_detected(context, count):  # type: ignore[no-untyped-def]
    assert context.rename_detections == count, context.rename_detections


@when('I run git plan "{args}" with this environment')
def run_with_environment(context, args):  # type: ignore[no-untyped-def]
    """As `git -c key=value plan ...` runs it: git hands its -c settings down in the environment."""
    context.cli_environment = {
        row["variable"]: None if row["value"] == "<unset>" else row["value"].replace("{repo}", context.repo)
        for row in context.table
    }
    words = shlex.split(args.replace("{tmp}", context.tmp))
    result = CliRunner().invoke(main, ["-C", context.repo, *words], env=context.cli_environment)
    context.cli = result
    context.cli_output = result.output


@then('standard output is what "git {args}" prints with that environment, for the base and tip of "{plan}"')
def same_as_git_with_environment(context, args, plan):  # type: ignore[no-untyped-def]
    status = context.store.status(plan)
    words = [status.base if w == "BASE" else status.tip if w == "TIP" else w for w in shlex.split(args)]
    environment = {
        name: value for name, value in {**os.environ, **context.cli_environment}.items() if value is not None
    }
    theirs = subprocess.run(
        ["git", *words], cwd=context.repo, env=environment, capture_output=True, check=True
    )
    assert theirs.stdout, "git printed nothing; the scenario tests nothing"
    ours = context.cli.stdout_bytes
    assert ours == theirs.stdout, f"ours:\n{ours!r}\n---- git:\n{theirs.stdout!r}"


def _git_for_plan(context, args, plan):  # type: ignore[no-untyped-def]
    status = context.store.status(plan)
    words = [status.base if w == "BASE" else status.tip if w == "TIP" else w for w in shlex.split(args)]
    return subprocess.run(["git", *words], cwd=context.repo, capture_output=True, check=True).stdout


@then('the JSON document\'s "{field}" is what "git {args}" prints for the base and tip of "{plan}"')
def json_text_is_gits(context, field, args, plan):  # type: ignore[no-untyped-def]
    theirs = _git_for_plan(context, args, plan).decode("utf-8", "surrogateescape")
    assert theirs, "git printed nothing; the step tests nothing"
    ours = json.loads(context.cli.stdout)[field]
    assert ours == theirs, f"ours:\n{ours}\n---- git:\n{theirs}"


@then('the JSON document\'s files are what "git {args}" counts for the base and tip of "{plan}"')
def json_files_are_gits(context, args, plan):  # type: ignore[no-untyped-def]
    """`args` are a `git diff --numstat -z`: each file's counts and names ("-" for a binary file)."""
    fields = _git_for_plan(context, args, plan).decode("utf-8", "surrogateescape").split("\0")
    theirs = []
    while len(fields) > 1:
        added, deleted, path = fields.pop(0).split("\t")
        old = None if path else fields.pop(0)  # a rename: its two names follow
        path = path or fields.pop(0)
        theirs.append((path, old, added, deleted))
    assert theirs, "git counted nothing; the step tests nothing"
    ours = [
        (change["path"], change.get("old_path"), *(
            ("-", "-") if change.get("binary") else (str(change["additions"]), str(change["deletions"]))
        ))
        for change in json.loads(context.cli.stdout)["files"]
    ]  # fmt: skip
    assert ours == theirs, f"ours: {ours}\ngit:  {theirs}"


@when('I run git plan "{args}" with the patch "{patch}" on standard input')
def run_with_stdin(context, args, patch):  # type: ignore[no-untyped-def]
    _run(context, args, (ROOT / patch).read_bytes())


@when('I run git plan "{args}" with "{text}" on standard input')
def run_with_text(context, args, text):  # type: ignore[no-untyped-def]
    _run(context, args, unescape(text))


@then("the exit code is {code:d}")
def exit_code(context, code):  # type: ignore[no-untyped-def]
    assert context.cli.exit_code == code, f"exit {context.cli.exit_code}: {context.cli_output}"


@then('the output contains "{text}"')
@then('the output contains ""')
def output_contains(context, text=""):  # type: ignore[no-untyped-def]
    assert text in context.cli_output, context.cli_output
    if text != "Traceback":
        assert "Traceback" not in context.cli_output, context.cli_output


@then("the output is empty")
def output_empty(context):  # type: ignore[no-untyped-def]
    assert context.cli_output == "", context.cli_output


@given('the user removes "{path}" from the worktree')
def remove_file(context, path):  # type: ignore[no-untyped-def]
    os.remove(os.path.join(context.repo, path))


@given('the user makes "{link}" a symlink to "{target}"')
def make_symlink(context, link, target):  # type: ignore[no-untyped-def]
    os.symlink(target, os.path.join(context.repo, link))


@given("the store has a bug in status")
def bug_in_status(context):  # type: ignore[no-untyped-def]
    real = PlanStore.status

    def broken(self, plan_id, check=False):  # type: ignore[no-untyped-def]
        raise RuntimeError("deliberate bug")

    PlanStore.status = broken  # type: ignore[method-assign]
    context.add_cleanup(setattr, PlanStore, "status", real)


@when('I run git plan "{args}" on a terminal with a pager')
@when('I run git plan "{args}" on a terminal with a pager, and it exits {code:d}')
def run_on_terminal(context, args, code=0):  # type: ignore[no-untyped-def]
    """Run the real command with a pseudo-terminal as stdin, stdout and stderr."""
    import threading

    paged = os.path.join(context.tmp, "paged")
    leader, follower = os.openpty()
    terminal = getattr(context, "terminal_type", "xterm-256color")
    env = {**os.environ, "LINES": "3", "COLUMNS": "80", "PAGER": f"tee {paged}", "TERM": terminal}
    shown = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the other side is closed
                return
            if not chunk:
                return
            shown.extend(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    process = subprocess.run(
        [sys.executable, "-m", "gitplan", "-C", context.repo, *shlex.split(args)],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        timeout=60,
    )
    os.close(follower)
    reader.join(timeout=10)
    os.close(leader)
    context.terminal = shown.decode("utf-8", "replace")
    assert process.returncode == code, context.terminal
    context.paged = Path(paged).read_text() if os.path.exists(paged) else ""
    context.paged_by = sorted(p.name for p in Path(context.tmp).glob("paged*"))


@then('the terminal showed "{text}"')
def terminal_showed(context, text):  # type: ignore[no-untyped-def]
    assert text in context.terminal, repr(context.terminal)


@given('the terminal is a "{kind}" one')
def terminal_type(context, kind):  # type: ignore[no-untyped-def]
    context.terminal_type = kind


@given("the environment has NO_COLOR set")
def no_color(context):  # type: ignore[no-untyped-def]
    os.environ["NO_COLOR"] = "1"


@then("the pager received the diff without colour")
def uncoloured(context):  # type: ignore[no-untyped-def]
    assert "+2" in context.paged and "\x1b[" not in context.paged, repr(context.paged)


@then("the pager received a coloured diff")
def coloured(context):  # type: ignore[no-untyped-def]
    assert "\x1b[32m+\x1b[m\x1b[32m2\x1b[m" in context.paged, repr(context.paged)
    assert "\x1b[31m-two" in context.paged and "\x1b[1mdiff --git" in context.paged


@when("I pipe a long git plan diff into a reader that stops early")
@when('I pipe a long git plan diff with "{args}" into a reader that stops early')
def broken_pipe(context, args=""):  # type: ignore[no-untyped-def]
    store = PlanStore.open(context.repo)
    from gitplan import ToolInvocation

    store.record(
        "p",
        {f"big{i}.txt": b"".join(b"line %d\n" % n for n in range(20000)) for i in range(10)},
        ToolInvocation(tool="big"),
    )
    diff = f"{shlex.quote(sys.executable)} -m gitplan -C {shlex.quote(context.repo)} diff p {args}"
    command = f"{diff} | head -c 100; exit ${{PIPESTATUS[0]}}"  # git plan's own status
    context.piped = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)


@when('I pipe git plan "{args}" into a reader that reads nothing')
def pipe_into_nothing(context, args):  # type: ignore[no-untyped-def]
    program = f"{shlex.quote(sys.executable)} -m gitplan -C {shlex.quote(context.repo)} {args}"
    command = f"{program} | true; exit ${{PIPESTATUS[0]}}"  # git plan's own status
    context.piped = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120)


@then("nothing was printed on standard error, and it exited 0")
def quietly_done(context):  # type: ignore[no-untyped-def]
    assert (context.piped.stderr, context.piped.returncode) == ("", 0), context.piped


@when('I run git plan "{args}" in a directory that is no git repository')
def run_outside(context, args):  # type: ignore[no-untyped-def]
    outside = Path(context.tmp) / "not-a-repository"
    outside.mkdir()
    environment = dict(os.environ, GIT_CEILING_DIRECTORIES=str(context.tmp))
    command = [sys.executable, "-m", "gitplan", *shlex.split(args)]
    context.outside = subprocess.run(command, cwd=outside, env=environment, capture_output=True, text=True)


@then('it exited 0 and its output ends "{text}"')
def exited_zero_ending(context, text):  # type: ignore[no-untyped-def]
    done = context.outside
    ended = done.stdout.rstrip().endswith(text)
    assert done.returncode == 0 and ended, (done.returncode, done.stdout, done.stderr)


@then("nothing is printed on standard error")
@then('it printed "{start}" first, nothing on standard error, and exited {code:d}')
def no_stderr(context, start="diff --git", code=0):  # type: ignore[no-untyped-def]
    assert context.piped.stdout.startswith(start), context.piped.stdout
    assert context.piped.stderr == "", context.piped.stderr
    assert context.piped.returncode == code, context.piped.returncode


@given('the user stages "{path}" taken from plan "{plan}"')
def stage_from_plan(context, path, plan):  # type: ignore[no-untyped-def]
    subprocess.run(["git", "checkout", f"refs/changesets/{plan}", "--", path], cwd=context.repo, check=True)


@then('the output names "{first}" before "{second}"')
def shows_before(context, first, second):  # type: ignore[no-untyped-def]
    output = context.cli_output
    assert first in output and second in output, output
    assert output.index(first) < output.index(second), output


@then('reading the newest {count:d} changesets of "{plan}" reads {commits:d} of its commits and their notes')
@then(
    'reading the newest {count:d} changesets of "{plan}" reads {commits:d} of its commits (the root too) '
    "and their notes"
)
def newest_reads(context, count, plan, commits):  # type: ignore[no-untyped-def]
    """The cost follows what is asked for: commits and note blobs read are counted."""
    from gitplan import chain

    read = {"commits": 0, "notes": 0}
    real_commit, real_blob = chain.plan_commit, chain.read_blob

    def counted_commit(*args):  # type: ignore[no-untyped-def]
        read["commits"] += 1
        return real_commit(*args)

    def counted_blob(*args):  # type: ignore[no-untyped-def]
        read["notes"] += 1
        return real_blob(*args)

    chain.plan_commit, chain.read_blob = counted_commit, counted_blob
    try:
        found = context.store.changesets(plan, newest=count)
    finally:
        chain.plan_commit, chain.read_blob = real_commit, real_blob
    assert read == {"commits": commits, "notes": len(found)}, (read, len(found))
    numbers = [item.number for item in found]
    assert numbers == list(range(numbers[-1] - len(numbers) + 1, numbers[-1] + 1)), numbers


@then('the output does not contain "{text}"')
def output_lacks(context, text):  # type: ignore[no-untyped-def]
    assert text not in context.cli_output, context.cli_output


@then("the output shows started_at, finished_at and duration_ms as null")
def times_null(context):  # type: ignore[no-untyped-def]
    for field in ("started_at", "finished_at", "duration_ms"):
        assert f'"{field}": null' in context.cli_output, context.cli_output


JSON_COMMANDS = [
    ("list --json", "list"),
    ("status p --json", "status"),
    ("status p --check --json", "status"),
    ("log p --json", "log"),
    ("show p 1 --json", "show"),
    ("artifacts p --json", "artifacts"),
    ("diff p --stat", None),  # not JSON: checked to be left alone
    ("diff p --json", "diff"),
    ("apply p --check --json", "apply"),
    ("record p --tool t --set x.txt={tmp}/in.txt --json", "changeset"),
    ("create q --json", "status"),
    ("gc --dry-run --json", "gc"),
    ("recover --json", "recover"),
    ("cancel q --json", "cancel"),
]


@when('I run every JSON command on plan "{plan}"')
def every_json(context, plan):  # type: ignore[no-untyped-def]
    context.documents = []
    for args, kind in JSON_COMMANDS:
        if kind is None:
            continue
        _run(context, args)
        assert context.cli.exit_code == 0, (args, context.cli_output)
        context.documents.append((args, kind, json.loads(context.cli.stdout)))


@then('each printed a document whose schema is "gitplan.<kind>/1"')
def schemas(context):  # type: ignore[no-untyped-def]
    for args, kind, document in context.documents:
        assert document["schema"] == f"gitplan.{kind}/1", (args, document.get("schema"))


def _file_changes(value):  # type: ignore[no-untyped-def]
    if isinstance(value, dict):
        if "path" in value and ("additions" in value or "kind" in value):
            yield value
        for item in value.values():
            yield from _file_changes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _file_changes(item)


@then('each file change in them has the fields path, change, additions and deletions, and no "kind"')
def file_shape(context):  # type: ignore[no-untyped-def]
    seen = 0
    for args, _, document in context.documents:
        for change in _file_changes(document):
            seen += 1
            assert {"path", "change", "additions", "deletions"} <= set(change), (args, change)
            assert "kind" not in change, (args, change)
    assert seen >= 5, seen


@then('the JSON error says kind "{kind}" with exit code {code:d}')
def json_error(context, kind, code):  # type: ignore[no-untyped-def]
    document = json.loads(context.cli.stdout)
    assert document["schema"] == "gitplan.error/1", document
    assert document["kind"] == kind and document["exit_code"] == code, document
    assert document["error"] in context.cli.stderr, (document, context.cli.stderr)


@then('the JSON error names the paths "{paths}"')
def json_error_paths(context, paths):  # type: ignore[no-untyped-def]
    document = json.loads(context.cli.stdout)
    assert document["schema"] == "gitplan.error/1", document
    assert document["paths"] == paths.split(","), document


@then('the JSON error says nothing, and the document\'s refusal is "{refusal}" of a {strategy} apply')
def json_refusal(context, refusal, strategy):  # type: ignore[no-untyped-def]
    document = json.loads(context.cli.stdout)
    assert document["schema"] == "gitplan.apply/1" and document["refusal"] == refusal, document
    assert document["strategy"] == strategy, document


@then("the output has git's diff colours")
def git_colours(context):  # type: ignore[no-untyped-def]
    out = context.cli_output
    assert "\x1b[1mdiff --git" in out and "\x1b[31m-two\x1b[m" in out, repr(out)
    assert "\x1b[32m+\x1b[m\x1b[32m2\x1b[m" in out, repr(out)  # git colours the sign apart
    assert "\x1b[36m@@ -1,3 +1,3 @@\x1b[m" in out, repr(out)


@then("the output has no colours")
def no_colours(context):  # type: ignore[no-untyped-def]
    assert "+2" in context.cli_output and "\x1b[" not in context.cli_output, repr(context.cli_output)


@then("the output has no escape sequence")
def no_escapes(context):  # type: ignore[no-untyped-def]
    assert context.cli_output and "\x1b[" not in context.cli_output, repr(context.cli_output)


@given("nothing is configured")
def nothing_configured(context):  # type: ignore[no-untyped-def]
    pass


@given('git config "{key}" is a recording pager "{name}"')
def config_pager(context, key, name):  # type: ignore[no-untyped-def]
    subprocess.run(["git", "config", key, f"tee {context.tmp}/paged-{name}"], cwd=context.repo, check=True)


@given('GIT_PAGER is a recording pager "{name}"')
def env_pager(context, name):  # type: ignore[no-untyped-def]
    os.environ["GIT_PAGER"] = f"tee {context.tmp}/paged-{name}"


@then('the output was paged by "{name}", in the colours git uses on a terminal')
def paged_in_colour(context, name):  # type: ignore[no-untyped-def]
    paged_by(context, name)
    text = Path(context.tmp, "paged").read_text(errors="replace")
    assert "\x1b[33m" in text, repr(text)  # the commits in yellow, as git log colours them


@then('the diff was paged by "{name}"')
def paged_by(context, name):  # type: ignore[no-untyped-def]
    expected = [] if name == "none" else ["paged" if name == "PAGER" else f"paged-{name}"]
    assert context.paged_by == expected, (context.paged_by, context.terminal)
    if name == "none":
        assert "+2" in re.sub(r"\x1b\[[0-9;]*m", "", context.terminal), repr(context.terminal)


@then('"git plan --version" and "git plan --help" import no pygit2')
def lazy_imports(context):  # type: ignore[no-untyped-def]
    for option in ("--version", "--help"):
        command = [sys.executable, "-X", "importtime", "-m", "gitplan", option]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line]
        assert imported and not any(name.startswith("pygit2") for name in imported), option


@then('the output holds the words "{old}" and "{new}" in git\'s colours (--word-diff=color implies --color)')
def word_colours(context, old, new):  # type: ignore[no-untyped-def]
    expected = f"\x1b[31m{old}\x1b[m\x1b[32m{new}\x1b[m"
    assert expected in context.cli_output, repr(context.cli_output)


@given('the user removes the directory "{path}" from the worktree')
def remove_directory(context, path):  # type: ignore[no-untyped-def]
    import shutil

    shutil.rmtree(Path(context.repo) / path)


@then('the output is git log --oneline of the newest {count:d} changesets of "{plan}", in order, numbered')
def output_is_oneline_log(context, count, plan):  # type: ignore[no-untyped-def]
    """git's own abbreviations (core.abbrev, unique prefixes) and subjects, each after its number."""
    _is_oneline_log(context, count, plan, "--no-color")


@then('the output is git log --oneline --color of the newest {count:d} changesets of "{plan}", numbered')
def output_is_coloured_oneline_log(context, count, plan):  # type: ignore[no-untyped-def]
    """The same in git's colours (color.diff.commit for the commit)."""
    _is_oneline_log(context, count, plan, "--color=always")


def _is_oneline_log(context, count: int, plan: str, colour: str) -> None:  # type: ignore[no-untyped-def]
    tip = context.store.status(plan).tip
    command = ["git", "log", "--reverse", "--oneline", "--no-decorate", colour, f"-{count}", tip]
    subjects = subprocess.run(
        [*command, "--not", f"{tip}~{count}"], cwd=context.repo, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    newest = context.store.status(plan).changesets
    numbered = [f"{newest - count + 1 + at} {line}" for at, line in enumerate(subjects)]
    assert context.cli.exit_code == 0, context.cli_output
    assert context.cli_output == "".join(line + "\n" for line in numbered), (context.cli_output, numbered)


@then('the output holds, for each changeset of "{plan}", git diff {options} of its parent and it')
def output_holds_each_diff(context, plan, options):  # type: ignore[no-untyped-def]
    assert context.cli.exit_code == 0, context.cli_output
    at = 0
    for changeset in context.store.changesets(plan):
        text = subprocess.run(
            ["git", "diff", *options.split(), changeset.parent, changeset.commit],
            cwd=context.repo, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert text, f"git diff printed nothing for changeset {changeset.number}: the step tests nothing"
        found = context.cli_output.find(text, at)
        where = f"changeset {changeset.number}:\n{text}\n---- not after {at} in:\n{context.cli_output}"
        assert found >= 0, where
        at = found + len(text)


@then('git plan show of changeset {number:d} of "{plan}" with {args} ends with git diff {args2} of it')
def show_ends_with_git_diff(context, number, plan, args, args2):  # type: ignore[no-untyped-def]
    """The patch `git plan show` prints after the record is git's for the same options."""
    _run(context, f"show {plan} {number} {args}")
    assert context.cli.exit_code == 0, context.cli_output
    changeset = context.store.changesets(plan)[number - 1]
    words = shlex.split(args2)
    paths = words[words.index("--") :] if "--" in words else []  # git takes paths after the commits
    text = subprocess.run(
        ["git", "diff", *words[: len(words) - len(paths)], changeset.parent, changeset.commit, *paths],
        cwd=context.repo, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert text, "git diff printed nothing: the step tests nothing"
    assert context.cli_output.endswith(text), f"ours:\n{context.cli_output}\n---- git:\n{text}"
