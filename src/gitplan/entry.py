"""The `git-plan` program: `hook` runs without the command line's imports.

An agent runs `git plan hook ...` twice per tool call, so that path must start
fast: it loads neither click nor the command modules. Everything else goes to
the click command line (gitplan.cli).
"""

from __future__ import annotations

import sys


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "hook":
        from .agenthook import main as hook

        sys.exit(hook(sys.argv[2:]))
    from .cli import main as cli

    cli(prog_name="git-plan")
