Feature: Every command in the README and docs/ works when run literally

  Each ```sh and ```python block of README.md and docs/ runs, in order, in a
  scratch repository with one commit (README.md, src/a.py), with `git plan`
  on PATH. A block marked `<!-- doc-test: not run (why) -->` is skipped (it
  installs or needs a remote); `<!-- doc-test: with plan fix-1 -->` first
  makes a plan fix-1 with one changeset. Blocks without a language are
  diagrams and sample output.

  Scenario Outline: The code blocks of <file> run
    Given a scratch repository for the documentation
    When I run every code block of "<file>"
    Then every block succeeded
    And git fsck --full is clean

    Examples:
      | file                        |
      | README.md                   |
      | docs/reference/format.md    |
      | docs/reference/changeset.md |
      | docs/remotes.md             |

  Scenario: Every documentation file is covered by the scenario above
    Then every markdown file with a runnable code block is listed in docs.feature
