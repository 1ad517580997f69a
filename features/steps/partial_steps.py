"""Steps for partial.feature: `apply --hunks` answered through a pty."""

from __future__ import annotations

import os
import select
import subprocess
import sys

from behave import then, when


@when('I run the git-plan program with "{args}" on a terminal answering "{answers}"')
def run_answering(context, args, answers):  # type: ignore[no-untyped-def]
    """Each answer is typed when the program asks (its prompt ends in "? "), not on a timer."""
    import pty

    controller, terminal = pty.openpty()
    command = [sys.executable, "-m", "gitplan", "-C", context.repo, *args.split()]
    child = subprocess.Popen(command, stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    pending = answers.split()
    seen = b""
    asked = 0
    while True:
        ready, _, _ = select.select([controller], [], [], 30)
        if not ready:
            child.kill()
            raise AssertionError(f"no output for 30 s:\n{seen.decode(errors='replace')}")
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        while seen.count(b"]? ") > asked and pending:
            os.write(controller, pending.pop(0).encode() + b"\n")
            asked += 1
    os.close(controller)
    context.terminal_code = child.wait()
    context.terminal_output = seen.decode("utf-8", "replace")


@then('the program exited {code:d} and the terminal shows "{text}"')
def exited_showing(context, code, text):  # type: ignore[no-untyped-def]
    assert context.terminal_code == code, (context.terminal_code, context.terminal_output)
    assert text in context.terminal_output, context.terminal_output


@then('the terminal does not show "{text}"')
def terminal_does_not_show(context, text):  # type: ignore[no-untyped-def]
    assert text not in context.terminal_output, context.terminal_output
