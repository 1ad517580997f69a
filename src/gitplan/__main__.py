"""`python -m gitplan` runs the git-plan command line."""

from .cli import main

main(prog_name="git-plan")
