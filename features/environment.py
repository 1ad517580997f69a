"""Hermetic scenarios: each gets its own HOME, no system git config, fixed identities."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile


def before_all(context):  # type: ignore[no-untyped-def]
    context.saved_env = dict(os.environ)
    # Scenarios press Ctrl-C (SIGINT) on the programs they start, as a user at a terminal
    # does. A runner started in the background of a script (`cmd &`, no job control) has
    # SIGINT ignored, and every child would inherit that and never see the key. Handled
    # here, it is set back to the default in each program this run starts.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def before_scenario(context, scenario):  # type: ignore[no-untyped-def]
    context.tmp = tempfile.mkdtemp(prefix="gitplan-behave-")
    home = os.path.join(context.tmp, "home")
    os.makedirs(home)
    os.environ.update(
        HOME=home,
        XDG_CONFIG_HOME=os.path.join(home, ".config"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Test Author",
        GIT_AUTHOR_EMAIL="author@example.com",
        GIT_COMMITTER_NAME="Test Committer",
        GIT_COMMITTER_EMAIL="committer@example.com",
        GIT_AUTHOR_DATE="2026-01-01T00:00:00Z",
        GIT_COMMITTER_DATE="2026-01-01T00:00:00Z",
        LC_ALL="C",
    )
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_PAGER", "PAGER", "NO_COLOR", "GIT_INDEX_FILE"):
        os.environ.pop(name, None)
    with open(os.path.join(home, ".gitconfig"), "w") as handle:
        handle.write(
            "[user]\n\tname = Test User\n\temail = user@example.com\n[init]\n\tdefaultBranch = main\n"
        )


def after_scenario(context, scenario):  # type: ignore[no-untyped-def]
    for process in getattr(context, "processes", []):
        if process.poll() is None:
            process.kill()
    os.environ.clear()
    os.environ.update(context.saved_env)
    shutil.rmtree(context.tmp, ignore_errors=True)
