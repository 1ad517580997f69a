Feature: Missing and damaged artifacts are reported, never crashed on

  Background:
    Given a repository with files
      | path      | content |
      | README.md | hi\n    |
    And a plan "a"
    And I record in "a" with tool "one"
      | path | content |
      | x    | 1\n     |
    And I record in "a" with tool "two"
      | path | content |
      | y    | 2\n     |

  Scenario: Invocation records are read back with their fields
    Then the invocation records of "a" have tools "one,two" and numbers "1,2"

  Scenario: A note removed with git notes is a missing artifact
    Given the note of changeset 2 of "a" is removed with git notes
    Then the status of "a" reports "changeset 2: invocation record note is missing"
    And the diff of "a" still works

  Scenario: A note that is not JSON is a damaged artifact
    Given the note of changeset 1 of "a" is replaced by "not json {"
    Then the status of "a" reports "changeset 1: invocation record is not valid JSON"

  Scenario: A note from a future schema is refused clearly
    Given the note of changeset 1 of "a" is replaced by
      """
      {"schema": "gitplan.invocation/9", "tool": "one"}
      """
    Then the status of "a" reports "upgrade gitplan"

  Scenario: Unknown fields are accepted and kept
    Given the note of changeset 1 of "a" is replaced by
      """
      {"schema": "gitplan.invocation/1", "tool": "one", "future": 1}
      """
    Then the status of "a" reports nothing missing

  Scenario: Exported patches apply with git am
    When I export the artifacts of "a"
    Then the export exited 0
    And git am applies the exported patches onto a new branch
    And the export holds 2 invocation records as JSON lines

  Scenario: Exported patches are what git format-patch writes, diffstat summary and signature included
    Given I record in "a" with tool "three"
      | path      | content  |
      | x         | <delete> |
      | z/new.txt | 3\n      |
      | README.md | hi\nho\n |
    When I export the artifacts of "a"
    Then the export exited 0
    And each exported patch is what git format-patch (full-index, binary, gitplan signature) writes of "a"
    Given a plan "single"
    And I record in "single" with tool "only"
      | path | content |
      | s    | 1\n     |
    When I export the artifacts of "single"
    Then each exported patch is what git format-patch (full-index, binary, gitplan signature) writes of "single"

  Scenario: The patches of a plan of ten changesets or more are numbered as git format-patch numbers them (01/12)
    Given a plan "many"
    And I record 12 one-file changesets into "many", one after another
    When I export the artifacts of "many"
    Then the export exited 0
    And each exported patch is what git format-patch (full-index, binary, gitplan signature) writes of "many"

  Scenario: A changeset without edits gets no patch in the export, as git format-patch writes none, so git am goes through
    Given a changeset with no edits is recorded in "a", as a failed run records it
    And I record in "a" with tool "three"
      | path | content |
      | z    | 3\n     |
    When I export the artifacts of "a"
    Then the export exited 0
    And git am applies the exported patches onto a new branch
    And the export holds 4 invocation records as JSON lines

  Scenario: A changeset whose record is missing still gets its patch in the export, so nothing is lost
    Given the note of changeset 1 of "a" is removed with git notes
    When I export the artifacts of "a"
    Then the export exited 5
    And git am applies the exported patches onto a new branch

  Scenario: Exported patches carry binary files, so git am works in a clone that lacks the plan, whatever diff.noprefix says
    Given I record a binary file "logo.png" in "a"
    And I record a changed binary file "logo.png" in "a"
    And git config "diff.noprefix" is "true"
    When I export the artifacts of "a"
    Then the export exited 0
    And git am of the exported patches in a plain clone rebuilds the plan's tip tree
    And the exported patch of changeset 4 holds "\ndelta "
    And the --binary diff of changeset 4 of "a" is git's, a delta

  Scenario: Exported patches name files in their diffstat as git format-patch does under core.quotePath=false
    Given git config "core.quotePath" is "false"
    And I record in "a" with tool "three"
      | path      | content |
      | café.txt  | 3\n     |
    When I export the artifacts of "a"
    Then the export exited 0
    And the exported patch of changeset 3 holds " caf\u00e9.txt | 1 +"
    And git am applies the exported patches onto a new branch

  Scenario: git plan show prints one changeset's record and patch, like git show
    Given I record a binary file "logo.png" in "a"
    When I run git plan "show a 2"
    Then the exit code is 0
    And the output contains "changeset 2 of plan a"
    And the output contains "Tool:    two"
    And the output contains "+2"
    When I run git plan "show a 3 --binary"
    Then the output contains "GIT binary patch"
    When I run git plan "show a 9"
    Then the exit code is 3
    When I run git plan "show a"
    Then the exit code is 0
    And the output contains "changeset 3 of plan a"
    When I run git plan "create empty"
    And I run git plan "show empty"
    Then the exit code is 3
    And the output contains "plan 'empty' has no changesets yet"
    When I run git plan "show a 1 --json"
    Then the exit code is 0
    And the output contains ""tool": "one""

  Scenario: show takes -U, -M, --no-renames and --word-diff as git show does, before or after the plan's name
    Given I record in "a" with tool "move"
      | path      | content                          |
      | moved.txt | l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\n |
    And I record in "a" with tool "edit"
      | path      | content                             |
      | moved.txt | l1\nl2\nl3\nl4 is longer\nl5\nl6\nl7\nl8\n |
    Then git plan show of changeset 4 of "a" with -U1 ends with git diff -U1 of it
    And git plan show of changeset 4 of "a" with --word-diff ends with git diff --word-diff of it
    And git plan show of changeset 4 of "a" with --word-diff=porcelain -U0 ends with git diff --word-diff=porcelain -U0 of it
    And git plan show of changeset 4 of "a" with -M --no-renames -U2 ends with git diff --no-renames -U2 of it
    And git plan show of changeset 4 of "a" with --stat -U1 ends with git diff --stat -U1 of it
    And git plan show of changeset 4 of "a" with --stat=25,6 ends with git diff --stat=25,6 of it
    And git plan show of changeset 4 of "a" with --color-words ends with git diff --color-words of it
    When I run git plan "show a 4 --json --color-words"
    Then the exit code is 2
    And the output contains "JSON does not carry"
    When I run git plan "show --word-diff a 4"
    Then the output contains "l4 {+is longer+}"

  Scenario: show takes paths and pathspecs after the changeset, as git show does
    Given I record in "a" with tool "both"
      | path         | content |
      | src/one.txt  | one\n   |
      | docs/two.txt | two\n   |
    Then git plan show of changeset 3 of "a" with -- src ends with git diff -- src of it
    And git plan show of changeset 3 of "a" with ':!src' ends with git diff -- ':!src' of it
    And git plan show of changeset 3 of "a" with --stat docs/two.txt ends with git diff --stat -- docs/two.txt of it
    When I run git plan "show a -- nothing-here"
    Then the exit code is 0
    And the output contains "changeset 3 of plan a"
    And the output does not contain "diff --git"
    When I run git plan "show a 3 nothing-here"
    Then the exit code is 2
    And the output contains "not a changeset of a here and not a path"
    When I run git plan "show a 1 3"
    Then the exit code is 2
    And the output does not contain "compared as"

  Scenario: show prints the whole invocation record: arguments, outcome, times and output tails
    Given I record in "a" a failed run of "pytest" with output tails
    When I run git plan "show a 3 --verbose"
    Then the exit code is 0
    And the output contains "Status:  error (exit 2: tests failed)"
    And the output contains "Args:    {"k": "v"}"
    And the output contains "Ran:     2026-01-01T00:00:00Z for 1500 ms"
    And the output contains "  | FAILED test_x"
    When I run git plan "show a 3"
    Then the output does not contain "FAILED test_x"
