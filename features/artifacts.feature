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
    Then git am applies the exported patches onto a new branch
    And the export holds 2 invocation records as JSON lines
