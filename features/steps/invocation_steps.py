"""Steps for invocation.feature: store.invocation(), snapshot and redaction."""

from __future__ import annotations

import subprocess
from pathlib import Path

from behave import given, then, when
from common_steps import attempt, git, unescape

from gitplan import PlanStore, ToolInvocation
from gitplan.errors import GitPlanError
from gitplan.model import File


@when(
    'an invocation of "{tool}" in "{plan}" reads "{path}", appends "{text}", writes "{new}", deletes "{gone}"'
)
def edit_block(context, tool, plan, path, text, new, gone):  # type: ignore[no-untyped-def]
    with context.store.invocation(plan, tool=tool, actor="coder", arguments={"path": path}) as block:
        block.write(path, block.read(path) + unescape(text))
        block.write(new, b"new\n")
        block.delete(gone)
    context.block = block


@then("the invocation recorded changeset {number:d}")
def block_recorded(context, number):  # type: ignore[no-untyped-def]
    assert context.block.changeset is not None and context.block.changeset.number == number


@given('the plan "{plan}" makes "{path}" executable')
def make_executable(context, plan, path):  # type: ignore[no-untyped-def]
    data = (Path(context.repo) / path).read_bytes()
    context.store.record(plan, {path: File(data, 0o100755)}, ToolInvocation(tool="chmod"))


@when(
    'an invocation of "{tool}" in "{plan}" writes "{kept}" and "{new}", and "{executable}" with mode 100755'
)
def write_modes(context, tool, plan, kept, new, executable):  # type: ignore[no-untyped-def]
    with context.store.invocation(plan, tool=tool) as block:
        block.write(kept, block.read(kept) + b"more\n")
        block.write(new, b"x\n")
        block.write(executable, b"y\n", mode=0o100755)


@when('an invocation of "{tool}" in "{plan}" writes "{path}" and then raises ValueError "{message}"')
def raising_block(context, tool, plan, path, message):  # type: ignore[no-untyped-def]
    context.raised = None
    try:
        with context.store.invocation(plan, tool=tool) as block:
            block.write(path, b"half\n")
            raise ValueError(message)
    except ValueError as error:
        context.raised = error


@then("the ValueError reached the caller")
def raised(context):  # type: ignore[no-untyped-def]
    assert isinstance(context.raised, ValueError), context.raised


@when('an invocation of "{tool}" in "{plan}" reads "{path}"')
def read_missing(context, tool, plan, path):  # type: ignore[no-untyped-def]
    context.block_error = None
    try:
        with context.store.invocation(plan, tool=tool) as block:
            block.read(path)
    except GitPlanError as error:
        context.block_error = error


@then('the block failed with "{text}"')
def block_failed(context, text):  # type: ignore[no-untyped-def]
    assert context.block_error is not None and text in str(context.block_error), context.block_error


@when('two invocations of "{plan}" are open at once, one writing "{first}" and the other "{second}"')
def two_blocks(context, plan, first, second):  # type: ignore[no-untyped-def]
    other = PlanStore.open(context.repo)
    with context.store.invocation(plan, tool="one") as outer:
        with other.invocation(plan, tool="two") as inner:
            inner.write(second, b"2\n")
        outer.write(first, b"1\n")
    assert outer.changeset is not None and outer.changeset.number == 2


@given("nothing more")
def nothing_more(context):  # type: ignore[no-untyped-def]
    pass


@given('the plan "{plan}" is applied')
def applied(context, plan):  # type: ignore[no-untyped-def]
    context.store.record(plan, {"x.txt": b"x\n"}, ToolInvocation(tool="edit"))
    context.store.apply(plan)
    context.before = None


@when('an invocation of "{tool}" is opened in "{plan}"')
def open_block(context, tool, plan):  # type: ignore[no-untyped-def]
    _open_block(context, plan, tool, {})


def _open_block(context, plan: str, tool: str, arguments: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    context.block_ran = False

    def run() -> None:
        with context.store.invocation(plan, tool=tool, arguments=arguments):
            context.block_ran = True

    attempt(context, run)


@then("the block did not run")
def did_not_run(context):  # type: ignore[no-untyped-def]
    assert not context.block_ran


@given('the agent writes "{path}" as "{content}" in the worktree')
@when('the agent writes "{path}" as "{content}" in the worktree')
def agent_writes(context, path, content):  # type: ignore[no-untyped-def]
    (Path(context.repo) / path).parent.mkdir(parents=True, exist_ok=True)
    (Path(context.repo) / path).write_bytes(unescape(content))


@given('the agent runs in the worktree: "{script}"')
@when('the agent runs in the worktree: "{script}"')
def agent_runs(context, script):  # type: ignore[no-untyped-def]
    subprocess.run(["sh", "-ec", script], cwd=context.repo, check=True)


@given('a linked worktree "{name}" of the repository')
def linked_worktree(context, name):  # type: ignore[no-untyped-def]
    git(context, "worktree", "add", "-q", "--detach", str(Path(context.tmp) / name))


@given('the agent runs in "{name}": "{script}"')
def agent_runs_there(context, name, script):  # type: ignore[no-untyped-def]
    subprocess.run(["sh", "-ec", script], cwd=Path(context.tmp) / name, check=True)


@given('another repository "{name}"')
def another_repository(context, name):  # type: ignore[no-untyped-def]
    subprocess.run(["git", "init", "-q", str(Path(context.tmp) / name)], check=True)


@when('an invocation of "{tool}" in "{plan}" is used step by step')
def step_by_step(context, tool, plan):  # type: ignore[no-untyped-def]
    context.block_cm = context.store.invocation(plan, tool=tool)
    context.block = context.block_cm.__enter__()


def _fails(action, text: str) -> None:  # type: ignore[no-untyped-def]
    try:
        action()
    except GitPlanError as error:
        assert text in str(error), error
        return
    raise AssertionError(f"expected an error mentioning {text!r}")


@then('reading "{path}" after writing it gives what was written')
def read_own_write(context, path):  # type: ignore[no-untyped-def]
    context.block.write(path, b"written\n")
    assert context.block.read(path) == b"written\n"


@then('reading "{path}" after deleting it fails with "{text}"')
def read_after_delete(context, path, text):  # type: ignore[no-untyped-def]
    context.block.delete(path)
    _fails(lambda: context.block.read(path), text)
    assert not context.block.exists(path)


@then('"{present}" exists and "{absent}" does not')
def exists_or_not(context, present, absent):  # type: ignore[no-untyped-def]
    assert context.block.exists(present) and not context.block.exists(absent)


@then('writing text instead of bytes fails with "{text}"')
def write_text(context, text):  # type: ignore[no-untyped-def]
    _fails(lambda: context.block.write("t.txt", "text"), text)


@then('deleting "{path}" fails with "{text}"')
def delete_missing(context, path, text):  # type: ignore[no-untyped-def]
    _fails(lambda: context.block.delete(path), text)
    context.block_cm.__exit__(None, None, None)


@given('the agent makes a file named "{name}"')
def odd_file(context, name):  # type: ignore[no-untyped-def]
    (Path(context.repo) / unescape(name).decode()).write_text("x\n")


@given('a bare clone "{name}" of the repository with a plan "{plan}"')
def bare_with_plan(context, name, plan):  # type: ignore[no-untyped-def]
    target = str(Path(context.tmp) / name)
    subprocess.run(["git", "clone", "-q", "--bare", context.repo, target], check=True)
    PlanStore.open(target).create(plan)


def _nested(levels: int) -> list[object]:
    value: list[object] = []
    for _ in range(levels - 1):
        value = [value]
    return value


@when('I record in "{plan}" a tool invocation whose {field} is {value}')
def record_odd_invocation(context, plan, field, value):  # type: ignore[no-untyped-def]
    def run() -> object:
        made = eval(value, {"nested": _nested, "object": object, "float": float})  # noqa: S307 - the scenario's own text
        invocation = ToolInvocation(tool="t", **{field: made})
        return context.store.record(plan, {"x.txt": b"x\n"}, invocation)

    attempt(context, run)


@when('I run git plan record in "{plan}" with --args-json nested {levels:d} levels deep')
def record_deep_args(context, plan, levels):  # type: ignore[no-untyped-def]
    from cli_steps import _run_words

    deep = "[" * levels + "]" * levels
    arguments = f'{{"a": {deep}}}'
    _run_words(context, ["record", plan, "--tool", "t", "--args-json", arguments, "--delete", "README.md"])


@when('I run git plan record in "{plan}" with an --arg value nested {levels:d} levels deep')
def record_deep_arg(context, plan, levels):  # type: ignore[no-untyped-def]
    from cli_steps import _run_words

    deep = "[" * levels + "]" * levels
    _run_words(context, ["record", plan, "--tool", "t", "--arg", f"a={deep}", "--delete", "README.md"])


@when('I open an invocation block in "{plan}" with arguments {value}')
def open_odd_block(context, plan, value):  # type: ignore[no-untyped-def]
    made = eval(value, {"nested": _nested, "object": object, "float": float})  # noqa: S307 - the scenario's own text
    _open_block(context, plan, "t", made)
