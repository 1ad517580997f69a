"""`python -m gitplan` runs the git-plan command line."""

from .entry import main

main()
