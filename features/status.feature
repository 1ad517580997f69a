Feature: status reads only what changed since it last looked at a plan

  The last status of each plan is kept under .git/gitplan/status/ with the
  refs it was read from; a later status reads only the changesets recorded
  since, and anything else (a rewind, notes changed by hand, an unreadable
  kept status) makes it read the whole plan again.

  Background:
    Given a repository with files
      | path      | content |
      | README.md | one\n   |
    And a plan "p"
    And I record in "p" with tool "first"
      | path  | content |
      | a.txt | a\n     |

  Scenario: A plan that grew: the new changesets' tools and files are counted as from scratch
    When I run git plan "status p"
    Then the kept status of "p" is at changeset 1
    When I record in "p" with tool "second"
      | path  | content |
      | b.txt | b\n     |
    And I record in "p" with tool "first"
      | path      | content |
      | a.txt     | a2\n    |
      | README.md | two\n   |
    Then the status of "p" is what its whole chain gives, with 3 changesets and tools "first, second"
    And the kept status of "p" is at changeset 3

  Scenario: After apply the plan is applied
    When I run git plan "status p"
    And I run git plan "apply p --mode commit"
    Then the exit code is 0
    And the status of "p" is what its whole chain gives, with 1 changesets and tools "first"
    When I run git plan "status p"
    Then the output contains "applied"

  Scenario: After a rewind the changesets left are counted
    Given I record in "p" with tool "second"
      | path  | content |
      | b.txt | b\n     |
    When I run git plan "status p"
    Then the kept status of "p" is at changeset 2
    When I run git plan "rewind p 1"
    Then the exit code is 0
    And the status of "p" is what its whole chain gives, with 1 changesets and tools "first"

  Scenario: A note of an older changeset changed by hand is read again, and reported
    When I run git plan "status p"
    And I record in "p" with tool "second"
      | path  | content |
      | b.txt | b\n     |
    And git replaces the note of changeset 1 of "p" with "not json"
    And I run git plan "status p"
    Then the output contains "changeset 1:"
    And the status of "p" is what its whole chain gives, with 2 changesets and tools "first, second"

  Scenario: An unreadable kept status is ignored, and gc removes those of plans that are gone
    Given the kept status of "p" holds "{not json"
    Then the status of "p" is what its whole chain gives, with 1 changesets and tools "first"
    When I run git plan "cancel p"
    And I run git plan "gc --grace now"
    Then the output contains "kept status"
    And no status is kept for "p"
