Feature: Diffs are byte for byte what git diff prints, over a long history

  tests-data/history/make_history.py writes 320 commits with the shapes real
  projects have: function lines of every length (with trailing whitespace, with
  multi-byte characters at the 80-byte cut), several hunks per file, renames,
  mode changes, symlinks, type changes, binary and empty files, and names with
  spaces, tabs, quotes, backslashes, UTF-8 and non-UTF-8 bytes. Each commit is
  recorded as one changeset of a plan, then each changeset's diff is compared
  with `git diff` between the two commits.

  Scenario: Every changeset's diff, and the plan's, match git diff under each option set
    Given the generated history is imported into a new repository
    And every commit of it is recorded as a changeset of plan "h"
    Then every changeset's diff equals git diff between its commits, with each of
      | options       |
      |               |
      | -U0           |
      | -U1           |
      | --no-renames  |
      | --stat        |
      | --name-status |
      | --numstat     |
      | --binary      |
    And the plan diff of "h" with "" equals git diff with the same options
    And the plan diff of "h" with "--stat" equals git diff with the same options

  Scenario: git diff --binary of every commit, recorded with record --patch, rebuilds each commit's tree
    Given the generated history is imported into a new repository
    When every commit's git diff --binary is recorded as a patch into plan "r"
    Then after each changeset the tip tree of "r" is the tree of the matching commit

  Scenario: A directory of many names of one length, one added before them all, many changed, one removed
    Given a repository with files
      | path      | content |
      | README.md | hi\n    |
    And directory "many" of the repository holds 300 files of names one length long
    And a plan "m"
    And I record in "m" a first file of "many", its every 7th changed, its last gone
    Then the plan diff of "m" with "" equals git diff with the same options
    And the plan diff of "m" with "--name-status" equals git diff with the same options
