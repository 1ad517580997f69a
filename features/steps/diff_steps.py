"""Steps for diff.feature: every rendering compared with the real git diff."""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

from behave import given, then, when
from common_steps import REPORT_PEAK, attempt, git

from gitplan import DiffOptions, File, ToolInvocation

ROOT = Path(__file__).resolve().parents[2]


def _options(text: str) -> tuple[DiffOptions, list[str]]:
    words = text.split()
    paths: list[str] = []
    if "--" in words:
        paths = words[words.index("--") + 1 :]
        words = words[: words.index("--")]
    output = "patch"
    context = 3
    limit = DiffOptions.__dataclass_fields__["rename_limit"].default
    git_only = tuple(word for word in words if word in ("-z", "--exit-code"))
    for word in words:
        if word in ("--stat", "--name-status", "--name-only", "--numstat", "--raw", "--summary", "--check"):
            output = word[2:]
        elif word.startswith("-U"):
            context = int(word[2:])
        elif word.startswith("-l"):
            limit = int(word[2:])
    return DiffOptions(
        output=output,
        context=context,
        renames="--no-renames" not in words,
        full_index="--full-index" in words,
        binary="--binary" in words,
        rename_limit=limit,
        pathspec=tuple(paths),
        git_only=git_only,
    ), words + (["--"] + paths if paths else [])


@given('the plan "{plan}" gets a varied set of changes')
def varied(context, plan):  # type: ignore[no-untyped-def]
    store = context.store
    guide = git(context, "show", "HEAD:docs/guide.rst").encode()
    store.record(
        plan,
        {
            "README.md": b"line one\nline 2\nline three\nline four",  # no newline at end
            "src/module.py": b"def a():\n    return 10\n\n\ndef b():\n    return 2\n",
            "src/new_file.py": b"x = 1\n",
        },
        ToolInvocation(tool="edit"),
    )
    store.record(
        plan,
        {
            "docs/guide.rst": None,
            "docs/guide.md": guide.replace(b"End.", b"The end."),
            "old/name.txt": None,
            "new/name.txt": b"alpha\nbeta\ngamma\ndelta\nepsilon\nzeta\neta\ntheta\n",
            "script.sh": File(b"echo hi\n", 0o100755),
        },
        ToolInvocation(tool="move"),
    )
    store.record(
        plan,
        {
            "data/blob.bin": b"\x00\x01\x02binary changed",
            "data/empty.txt": b"",
            "src/module.py": None,
        },
        ToolInvocation(tool="binary"),
    )


def _git_diff(context, args: list[str], old: str, new: str) -> str:  # type: ignore[no-untyped-def]
    if "--" in args:
        at = args.index("--")
        command = ["diff", *args[:at], old, new, *args[at:]]
    else:
        command = ["diff", *args, old, new]
    done = subprocess.run(["git", *command], cwd=context.repo, capture_output=True)
    # --exit-code says 1 for a difference, --check 2 for whitespace errors: not failures
    assert done.returncode in (0, 1, 2, 3), done.stderr
    return done.stdout.decode("utf-8", "surrogateescape")


@given('directory "{directory}" of the repository holds {count:d} files of names one length long')
def many_files(context, directory, count):  # type: ignore[no-untyped-def]
    folder = Path(context.repo, directory)
    folder.mkdir(parents=True)
    for n in range(1, count + 1):
        (folder / f"f{n:04d}").write_text(f"file {n}\n")
    git(context, "add", "-A")
    git(context, "commit", "-q", "-m", f"{count} files")


@given('I record in "{plan}" a first file of "{directory}", its every {step:d}th changed, its last gone')
def shift_and_edit(context, plan, directory, step):  # type: ignore[no-untyped-def]
    """Entries come before many of one length (each shifts by one), change in place, and go."""
    names = sorted(os.listdir(Path(context.repo, directory)))
    changes: dict[str, bytes | None] = {f"{directory}/f0000": b"the new first\n"}
    changes |= {f"{directory}/{name}": b"changed " + name.encode() + b"\n" for name in names[::step]}
    changes[f"{directory}/{names[-1]}"] = None
    context.store.record(plan, changes, ToolInvocation(tool="many"))


@then('the plan diff of "{plan}" with "{text}" equals git diff with the same options')
@then('the plan diff of "{plan}" with "" equals git diff with the same options')
def plan_diff_equals(context, plan, text=""):  # type: ignore[no-untyped-def]
    options, args = _options(text)
    ours = context.store.diff(plan, options=options)
    status = context.store.status(plan)
    theirs = _git_diff(context, args, status.base, status.tip)
    assert theirs, "git printed nothing; the scenario tests nothing"
    assert ours == theirs, f"ours:\n{ours}\n---- git:\n{theirs}"


@then('the diff of changeset {number:d} of "{plan}" equals git diff between its parent and it')
def changeset_diff(context, number, plan):  # type: ignore[no-untyped-def]
    commit = context.store.changesets(plan)[number - 1].commit
    ours = context.store.diff(plan, number)
    theirs = _git_diff(context, [], f"{commit}^", commit)
    assert ours == theirs, f"ours:\n{ours}\n---- git:\n{theirs}"


@then('the --binary diff of changeset {number:d} of "{plan}" is git\'s, a delta')
def changeset_binary_delta(context, number, plan):  # type: ignore[no-untyped-def]
    """A modified binary file: git writes the shorter `delta`, and so must gitplan."""
    commit = context.store.changesets(plan)[number - 1].commit
    ours = context.store.diff(plan, number, DiffOptions(binary=True))
    theirs = _git_diff(context, ["--binary"], f"{commit}^", commit)
    assert "\ndelta " in theirs, theirs
    assert ours == theirs, f"ours:\n{ours}\n---- git:\n{theirs}"


@then('the diff of range "{spec}" of "{plan}" equals git diff between changesets {a:d} and {b:d}')
def range_diff(context, spec, plan, a, b):  # type: ignore[no-untyped-def]
    changesets = context.store.changesets(plan)
    ours = context.store.diff(plan, spec)
    assert ours == _git_diff(context, [], changesets[a - 1].commit, changesets[b - 1].commit)


@given("the repository has {count:d} packed objects")
def packed_objects(context, count):  # type: ignore[no-untyped-def]
    stream = "".join(f"blob\ndata {len(str(i)) + 1}\n{i}\n\n" for i in range(count))
    subprocess.run(["git", "fast-import", "--quiet"], cwd=context.repo, input=stream.encode(), check=True)
    packs = git(context, "count-objects", "-v")
    assert "in-pack: 0" not in packs, packs


@when('I record a file with a very long name and 300 lines in "{plan}"')
def long_name(context, plan):  # type: ignore[no-untyped-def]
    name = "a/very/deeply/nested/directory/structure/with/a/rather/long/file_name_indeed.txt"
    context.store.record(
        plan,
        {
            name: b"".join(b"line %d\n" % i for i in range(300)),
            "short.txt": b"x\n",
        },
        ToolInvocation(tool="long"),
    )


@when('I record a move of "{a}" to "{b}" and of "{c}" to "{d}" in "{plan}"')
def two_moves(context, a, b, c, d, plan):  # type: ignore[no-untyped-def]
    tip = f"refs/changesets/{plan}"
    first = git(context, "cat-file", "blob", f"{tip}:{a}").encode() + b"seven\n"
    second = git(context, "cat-file", "blob", f"{tip}:{c}").encode()
    context.store.record(plan, {a: None, b: first, c: None, d: second}, ToolInvocation(tool="mv"))


@when('I record a move of "{a}" to "{b}" with an edit in "{plan}"')
def basename_move(context, a, b, plan):  # type: ignore[no-untyped-def]
    data = git(context, "cat-file", "blob", f"refs/changesets/{plan}:{a}").encode()
    context.store.record(plan, {a: None, b: data + b"line five\n"}, ToolInvocation(tool="mv"))


@when('I record "{path}" as a symlink to "{target}" in "{plan}"')
def typechange(context, path, target, plan):  # type: ignore[no-untyped-def]
    context.store.record(plan, {path: File(target.encode(), 0o120000)}, ToolInvocation(tool="ln"))


@when('I record in "{plan}" with {count:d} new lines in "{path}"')
def many_lines(context, plan, count, path):  # type: ignore[no-untyped-def]
    data = b"".join(b"%d\n" % i for i in range(count))
    context.store.record(plan, {path: data}, ToolInvocation(tool="lines"))


@then('the diff of changeset 0 of "{plan}" with "--stat" is empty')
def empty_stat(context, plan):  # type: ignore[no-untyped-def]
    assert context.store.diff(plan, 0, DiffOptions(output="stat")) == ""
    assert context.store.diff(plan, "0") == ""


def _digit_lines(seed: int, count: int) -> tuple[list[str], random.Random]:
    chance = random.Random(seed)
    return [f"{chance.randint(0, 5)}\n" for _ in range(count)], chance


@given('the user commits "{path}" with {count:d} digit lines from seed {seed:d}')
def commit_digit_lines(context, path, count, seed):  # type: ignore[no-untyped-def]
    lines, _ = _digit_lines(seed, count)
    Path(context.repo, path).write_text("".join(lines))
    git(context, "add", path)
    git(context, "commit", "-q", "-m", "digits")


@given('the plan "{plan}" rewrites a third of the lines of "{path}" from seed {seed:d}')
def edit_digit_lines(context, plan, path, seed):  # type: ignore[no-untyped-def]
    """Big enough, and changed enough, that git's myers diff takes its shortcuts (--minimal
    does not)."""
    count = len(Path(context.repo, path).read_text().splitlines())
    lines, chance = _digit_lines(seed, count)
    for _ in range(count // 3):
        at = chance.randrange(len(lines))
        if chance.random() < 0.5:
            lines[at] = f"{chance.randint(0, 5)}\n"
        else:
            lines.insert(at, f"{chance.randint(0, 5)}\n")
    context.store.record(plan, {path: "".join(lines).encode()}, ToolInvocation(tool="digits"))


@given('the user commits "{path}" as the test data "{name}"')
def commit_test_data(context, path, name):  # type: ignore[no-untyped-def]
    Path(context.repo, path).write_bytes((ROOT / "tests-data" / name).read_bytes())
    git(context, "add", path)
    git(context, "commit", "-q", "-m", name)


@given('the plan "{plan}" sets "{path}" to the test data "{name}"')
def record_test_data(context, plan, path, name):  # type: ignore[no-untyped-def]
    data = (ROOT / "tests-data" / name).read_bytes()
    context.store.record(plan, {path: data}, ToolInvocation(tool="test-data"))


@when('git config "{key}" is unset')
def git_config_unset(context, key):  # type: ignore[no-untyped-def]
    git(context, "config", "--unset-all", key)


@given('git config "{key}" is "{value}"')
@when('git config "{key}" is "{value}"')
def git_config(context, key, value):  # type: ignore[no-untyped-def]
    git(context, "config", key, value)


@given('an object shares the first {digits:d} hex digits of the new blob of "{path}" in "{plan}"')
def ambiguous(context, digits, path, plan):  # type: ignore[no-untyped-def]
    _write_colliding(context, digits, path, plan, "loose")


@given('an object {where} shares the first {digits:d} hex digits of the new blob of "{path}" in "{plan}"')
def ambiguous_where(context, where, digits, path, plan):  # type: ignore[no-untyped-def]
    _write_colliding(context, digits, path, plan, where)


def _write_colliding(context, digits, path, plan, where):  # type: ignore[no-untyped-def]
    import hashlib

    target = git(context, "rev-parse", f"refs/changesets/{plan}:{path}").strip()
    for i in range(10_000_000):
        body = b"collide %d\n" % i
        oid = hashlib.sha1(b"blob %d\0" % len(body) + body).hexdigest()
        if oid[:digits] == target[:digits] and oid != target:
            break
    else:
        raise AssertionError("no collision found")
    repo = context.repo
    if where == "in an alternate object directory":
        repo = os.path.join(context.repo, "..", "alternate.git")
        git(context, "init", "-q", "--bare", repo)
        alternates = Path(context.repo, ".git", "objects", "info", "alternates")
        alternates.write_text("# borrowed objects\n" + os.path.abspath(os.path.join(repo, "objects")) + "\n")
        # ...which lists the repository's own objects in turn: git ignores the loop
        back = Path(repo, "objects", "info", "alternates")
        back.write_text(os.path.abspath(Path(context.repo, ".git", "objects")) + "\n")
    writing = ["git", "hash-object", "-w", "--stdin"]
    subprocess.run(writing, cwd=repo, input=body, check=True, capture_output=True)
    if where == "in a pack":
        subprocess.run(
            ["git", "pack-objects", "-q", ".git/objects/pack/pack"],
            cwd=repo,
            input=f"{oid}\n".encode(),
            check=True,
            capture_output=True,
        )
        git(context, "prune-packed")
    loose = Path(context.repo, ".git", "objects", oid[:2], oid[2:])
    assert loose.exists() == (where == "loose"), (where, loose)


@when('I ask for the diff of changeset {number:d} of "{plan}"')
def missing_changeset(context, number, plan):  # type: ignore[no-untyped-def]
    attempt(context, lambda: context.store.diff(plan, number))


@then('the diff of changeset {number:d} of "{plan}" named by commit id equals its diff by number')
def by_commit_id(context, number, plan):  # type: ignore[no-untyped-def]
    commit = context.store.changesets(plan)[number - 1].commit
    assert context.store.diff(plan, commit[:10]) == context.store.diff(plan, number)
    root = git(context, "rev-list", "--reverse", f"refs/changesets/{plan}", "^HEAD").split()[0]
    assert context.store.diff(plan, root[:10]) == ""


@when('I ask for the diff of changeset "{spec}" of "{plan}"')
def diff_by_spec(context, spec, plan):  # type: ignore[no-untyped-def]
    attempt(context, lambda: context.store.diff(plan, spec))


@when('with word diff "{mode}" I ask for the diff of "{plan}"')
def word_diff_mode(context, mode, plan):  # type: ignore[no-untyped-def]
    attempt(context, lambda: context.store.diff(plan, options=DiffOptions(word_diff=mode)))


@then('the diff of changeset {number:d} of "{plan}" shows "{first}" and "{second}"')
def changeset_diff_shows(context, number, plan, first, second):  # type: ignore[no-untyped-def]
    text = context.store.diff(plan, number)
    assert first in text and second in text, text


@given("an alternate object directory named in Latin-1 holds {count:d} packed objects")
def packed_alternate(context, count):  # type: ignore[no-untyped-def]
    """git sizes its automatic abbreviation by every pack it reads, an alternate's too:
    past 16,384 objects it prints 8 digits instead of 7."""
    alternate = os.path.join(os.fsencode(context.tmp), b"alt-\xe9.git")
    subprocess.run([b"git", b"init", b"-q", b"--bare", alternate], check=True, capture_output=True)
    blobs = b"".join(b"blob\ndata %d\nfiller %d\n\n" % (len(b"filler %d\n" % n), n) for n in range(count))
    importing = ["git", "fast-import", "--quiet"]
    subprocess.run(importing, cwd=alternate, input=blobs, check=True, capture_output=True)
    alternates = Path(context.repo, ".git", "objects", "info", "alternates")
    alternates.write_bytes(os.path.join(alternate, b"objects") + b"\n")
    counted = subprocess.run(["git", "count-objects", "-v"], cwd=alternate, capture_output=True, check=True)
    assert f"in-pack: {count}" in counted.stdout.decode(), counted.stdout


@when('the environment variable "{name}" is "{value}"')
def environment_variable(context, name, value):  # type: ignore[no-untyped-def]
    """For gitplan and git alike, until the scenario ends (environment.py puts it back)."""
    os.environ[name] = value


@then('git plan diff "{plan}" {args} run in "{directory}" prints what git diff prints there')
def cli_diff_in(context, plan, args, directory):  # type: ignore[no-untyped-def]
    """The command line as a user types it, pathspec magic and the current directory included."""
    theirs = _cli_diff_as_git(context, plan, args, directory, 0)
    assert theirs, "git printed nothing; the scenario tests nothing"


@then('git plan diff "{plan}" {args} run in "{directory}" exits {code:d} as git diff does, printing the same')
def cli_diff_status_in(context, plan, args, directory, code):  # type: ignore[no-untyped-def]
    """The same, for what scripts use: the exit status is part of the answer."""
    _cli_diff_as_git(context, plan, args, directory, code)


@then('git plan diff with {args} before the plan "{plan}", run in "{directory}", prints what git diff prints')
def cli_diff_options_first(context, args, plan, directory):  # type: ignore[no-untyped-def]
    """`git plan diff --color p`, as `git diff --color HEAD`: the options before the plan."""
    assert _cli_diff_as_git(context, plan, args, directory, 0, options_first=True)


def _cli_diff_as_git(  # type: ignore[no-untyped-def]
    context, plan: str, args: str, directory: str, code: int, options_first: bool = False
) -> bytes:
    """Run `git plan diff PLAN ARGS` (`git plan diff ARGS PLAN -- ...` with `options_first`)
    in `directory` and the git diff of the same two trees there; both must exit `code` and
    print the same bytes. Returns git's output."""
    import shlex

    from click.testing import CliRunner

    from gitplan.cli import main

    words = shlex.split(args)
    where = os.path.join(context.repo, directory)
    at = words.index("--")
    given = [*words[:at], plan, *words[at:]] if options_first else [plan, *words]
    result = CliRunner().invoke(main, ["-C", where, "diff", *given])
    assert result.exit_code == code, f"exit {result.exit_code}: {result.output}"
    status = context.store.status(plan)
    command = ["git", "diff", *words[:at], status.base, status.tip, *words[at:]]
    done = subprocess.run(command, cwd=where, capture_output=True)
    assert done.returncode == code, f"git exits {done.returncode}: {done.stderr!r}"
    # The bytes: click's result.output turns CRLF into LF.
    assert result.stdout_bytes == done.stdout, f"ours:\n{result.stdout_bytes!r}\n---- git:\n{done.stdout!r}"
    return done.stdout


@then('the plan diff of "{plan}" with "" has {count:d} hunk')
@then('the plan diff of "{plan}" with "" has {count:d} hunks')
def hunk_count(context, plan, count):  # type: ignore[no-untyped-def]
    text = context.store.diff(plan)
    assert text.count("\n@@ ") == count, text


@then('the patch of changeset {number:d} of "{plan}" shows "{first}" and "{second}"')
def changeset_patch_shows(context, number, plan, first, second):  # type: ignore[no-untyped-def]
    text = context.store.changeset_patch(plan, number)
    assert text is not None and first in text and second in text, text


@given('a plan "{plan}" that deletes {count:d} files and adds {more:d} others, each of {lines:d} lines')
def many_deleted_and_added(context, plan, count, more, lines):  # type: ignore[no-untyped-def]
    from gitplan import ToolInvocation

    def text(kind: str, i: int) -> bytes:
        return "".join(f"{kind} {i} line {n}\n" for n in range(lines)).encode()

    for i in range(count):
        (Path(context.repo) / f"gone{i}.txt").write_bytes(text("old", i))
    git(context, "add", "-A")
    git(context, "commit", "-q", "-m", "files to delete")
    context.store.create(plan)
    changes: dict[str, bytes | None] = {f"gone{i}.txt": None for i in range(count)}
    for i in range(more):
        changes[f"new{i}.txt"] = text("new", i)
    context.store.record(plan, changes, ToolInvocation(tool="w"))


@when('I take the diff of "{plan}" with "{text}", counting the files whose spans are worked out')
def diff_counting_spans(context, plan, text):  # type: ignore[no-untyped-def]
    from collections import Counter

    from gitplan import renames

    real = renames._spans
    context.spans_of = Counter()

    def counted(data: bytes) -> Counter[int]:
        context.spans_of[data] += 1
        return real(data)

    renames._spans = counted
    try:
        options, _ = _options(text)
        context.store.diff(plan, options=options)
    finally:
        renames._spans = real


@then("the spans of each file were worked out at most once")
def spans_once(context):  # type: ignore[no-untyped-def]
    assert context.spans_of, "no spans were worked out: the scenario tests nothing"
    assert max(context.spans_of.values()) == 1, context.spans_of.most_common(1)


@given('a plan "{plan}" whose "{path}" had {count:d} equal lines after its first, and one more at its end')
def long_equal_tail(context, plan, path, count):  # type: ignore[no-untyped-def]
    from gitplan import ToolInvocation

    before = b"a\n" + b"x\n" * count
    (Path(context.repo) / path).write_bytes(before)
    git(context, "add", path)
    git(context, "commit", "-q", "-m", "a long file")
    context.store.create(plan)
    context.store.record(plan, {path: before + b"x\n"}, ToolInvocation(tool="w"))


@given('I record in "{plan}" files named with the code points {points}, and a longer name')
def record_code_point_names(context, plan, points):  # type: ignore[no-untyped-def]
    from gitplan import ToolInvocation

    names = {f"n{chr(int(point, 16))}x.txt": b"x\n" for point in points.split(", ")}
    names["a-name-longer-than-the-others.txt"] = b"y\n"
    context.store.record(plan, names, ToolInvocation(tool="t"))


_PEAK = REPORT_PEAK + "from gitplan.cli import main\nmain(sys.argv[1:], prog_name='git-plan')\n"


@when('the git-plan program runs "{args}", its peak memory measured')
def run_measuring_memory(context, args):  # type: ignore[no-untyped-def]
    import shlex
    import sys

    command = [
        sys.executable,
        "-c",
        _PEAK,
        "-C",
        context.repo,
        *shlex.split(args.replace("{tmp}", context.tmp)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    context.cli_output = done.stdout
    context.peak_kib = int(done.stderr.rsplit("peak ", 1)[1])


@then("its peak memory was under {mib:d} MiB")
def peak_under(context, mib):  # type: ignore[no-untyped-def]
    assert context.peak_kib < mib * 1024, f"{context.peak_kib // 1024} MiB"
