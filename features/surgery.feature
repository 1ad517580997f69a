Feature: plan surgery (rewind, drop, branch, undo)
  A reviewer takes changesets back off a plan, removes one from the middle,
  or starts a variation from a point of it. Each operation moves both refs by
  compare-and-swap, writes nothing when it refuses, and can be undone.

  Background:
    Given a repository with files
      | path  | content                  |
      | a.txt | one\ntwo\nthree\nfour\n  |
      | b.txt | bee\n                    |
    And a plan "p"
    And I record in "p" with tool "first"
      | path  | content                 |
      | a.txt | ONE\ntwo\nthree\nfour\n |
    And I record in "p" with tool "second"
      | path  | content  |
      | c.txt | sea\n    |
    And I record in "p" with tool "third"
      | path  | content                  |
      | a.txt | ONE\ntwo\nthree\nFOUR\n  |

  Scenario: rewind takes the later changesets off, and the notes agree
    When I run git plan "rewind p 1"
    Then the exit code is 0
    And the output contains "rewound plan p to changeset 1 (took off 2, 3)"
    And plan "p" has the tools "first"
    And git "log --format=%s refs/changesets/p -n 2" prints "first: modified a.txt\nplan p: title of p"
    And the notes commit of "p" names the plan tip
    And git "notes --ref=changesets/p show refs/changesets/p" prints "\"tool\": \"first\""
    And git "diff refs/changesets/p~1 refs/changesets/p --stat" prints "a.txt | 2 +-"
    And git fsck --full is clean

  Scenario: rewind to 0 leaves the plan root, and undo brings everything back
    Given I remember the refs of "p"
    When I run git plan "rewind p 0 --json"
    Then the exit code is 0
    And the surgery JSON says "schema" is "gitplan.surgery/1"
    And the surgery JSON says "removed" is "1 2 3"
    And plan "p" has the tools ""
    When I run git plan "undo p"
    Then the exit code is 0
    And the output contains "undid the rewind of plan p: it has 3 changesets again"
    And the refs of "p" are as I remembered them
    And plan "p" has the tools "first second third"
    And git fsck --full is clean

  Scenario: drop replays an independent later changeset with a new number
    When I run git plan "drop p 2"
    Then the exit code is 0
    And the output contains "changeset 3 is now 2"
    And plan "p" has the tools "first third"
    And git "log --format=%B -n 1 refs/changesets/p" prints "Plan-Id: p\nChangeset: 2\nInvocation-Id:"
    And git "notes --ref=changesets/p show refs/changesets/p" prints "\"changeset\": 2"
    And git "notes --ref=changesets/p show refs/changesets/p" prints "\"plan_id\": \"p\""
    And git "notes --ref=changesets/p show refs/changesets/p" prints "\"tool\": \"third\""
    And git "diff refs/changesets/p~2 refs/changesets/p --name-only" prints "a.txt"
    And git "diff refs/changesets/p~2 refs/changesets/p --name-only" does not print "c.txt"
    And git "show refs/changesets/p:a.txt" prints "ONE\ntwo\nthree\nFOUR"
    And the notes commit of "p" names the plan tip
    And git fsck --full is clean

  Scenario: a changeset merged line by line onto a dropped one's absence
    When I run git plan "drop p 1"
    Then the exit code is 0
    And plan "p" has the tools "second third"
    And git "show refs/changesets/p:a.txt" prints "one\ntwo\nthree\nFOUR"
    And git "notes --ref=changesets/p show refs/changesets/p" prints "\"additions\": 1"
    And git fsck --full is clean

  Scenario: dropping a changeset a later one depends on is a conflict that writes nothing
    Given I record in "p" with tool "fourth"
      | path  | content   |
      | c.txt | sea two\n |
    And I remember the refs of "p"
    And I count the objects
    When I run git plan "drop p 2"
    Then the exit code is 4
    And the output contains "changeset 4 depends on what dropping changeset 2 takes away"
    And the output contains "c.txt"
    And the refs of "p" are as I remembered them
    And no object was written

  Scenario: drop through the Python API names the conflicting paths
    Given I record in "p" with tool "fourth"
      | path  | content   |
      | c.txt | sea two\n |
    When I drop changesets "2" of "p" through the API
    Then it fails with exit code 4
    And the error names the paths "c.txt"

  Scenario: undo of a drop puts the old chain back
    Given I remember the refs of "p"
    When I run git plan "drop p 1 2"
    Then the exit code is 0
    And plan "p" has the tools "third"
    When I run git plan "undo p"
    Then the exit code is 0
    And the refs of "p" are as I remembered them
    And plan "p" has the tools "first second third"

  Scenario: branch at N makes a new plan whose records say where they came from
    When I run git plan "branch p q --at 2"
    Then the exit code is 0
    And the output contains "created plan q from plan p at changeset 2"
    And plan "q" has the tools "first second"
    And plan "p" has the tools "first second third"
    And git "log --format=%B refs/changesets/q -n 1" prints "Plan-Id: q\nChangeset: 2"
    And "refs/changesets/q" has the same tree as "refs/changesets/p~1"
    And "refs/changesets/q~2^" is the same commit as "refs/changesets/p~3^"
    And git "notes --ref=changesets/q show refs/changesets/q" prints "\"branched_from\": {"
    And git "notes --ref=changesets/q show refs/changesets/q" prints "\"plan\": \"p\""
    And git "notes --ref=changesets/q show refs/changesets/q" prints "\"plan_id\": \"q\""
    And git "notes --ref=changesets/q show refs/changesets/q~2" prints "\"branched_from\": {"
    When I run git plan "log q"
    Then the output contains "From:    plan p changeset 2"
    When I run git plan "log q --json"
    Then the JSON changesets have "branched_from" from plan "p" changesets "1 2"
    When I run git plan "status q"
    Then the output contains "branched:   from plan p at changeset 2"
    And git fsck --full is clean

  Scenario: a branch keeps its objects when the plan it came from is cancelled
    Given I run git plan "branch p q"
    When I run git plan "cancel p"
    Then the exit code is 0
    And plan "q" has the tools "first second third"
    And git "show refs/changesets/q:c.txt" prints "sea"
    And git fsck --full is clean

  Scenario: undo of a branch removes the new plan
    Given I run git plan "branch p q --at 1"
    When I run git plan "undo q"
    Then the exit code is 0
    And the output contains "undid the branch: removed plan q"
    And ref "refs/changesets/q" does not exist
    And ref "refs/notes/changesets/q" does not exist
    And plan "p" has the tools "first second third"
    And git fsck --full is clean

  Scenario: undo after the plan moved refuses and changes nothing
    Given I run git plan "rewind p 1"
    And I record in "p" with tool "later"
      | path  | content |
      | d.txt | dee\n   |
    And I remember the refs of "p"
    When I run git plan "undo p"
    Then the exit code is 4
    And the output contains "changed since the rewind"
    And the refs of "p" are as I remembered them
    And plan "p" has the tools "first later"

  Scenario: surgery on an applied plan is refused
    Given I run git plan "apply p"
    And I remember the refs of "p"
    When I run git plan "rewind p 1"
    Then the exit code is 2
    And the output contains "already applied"
    When I run git plan "drop p 1"
    Then the exit code is 2
    And the refs of "p" are as I remembered them

  Scenario Outline: bad numbers and names
    Given I remember the refs of "p"
    When I run git plan "<args>"
    Then the exit code is <code>
    And the output contains "<message>"
    And the refs of "p" are as I remembered them

    Examples:
      | args             | code | message                               |
      | rewind p 7       | 3    | plan 'p' has no changeset 7 (it has 3) |
      | rewind p 3       | 2    | already at changeset 3                |
      | rewind p -1      | 2    | No such option                        |
      | rewind p x       | 2    | Invalid value                         |
      | drop p 4         | 3    | has no changeset 4                    |
      | drop p 0         | 2    | Invalid value                         |
      | drop p           | 2    | Missing argument                      |
      | branch p q --at 9 | 3   | has no changeset 9                    |
      | branch p p       | 2    | needs a new plan name                 |
      | branch p ../x    | 2    | invalid plan id                       |
      | rewind nope 1    | 3    | no plan named 'nope'                  |
      | undo p           | 3    | no rewind, drop or branch to undo     |

  Scenario: branch onto an existing plan is refused
    Given a plan "q"
    When I run git plan "branch p q"
    Then the exit code is 2
    And the output contains "plan 'q' already exists"

  Scenario: a record racing a rewind lands after it
    When a record into "p" runs just before the rewind of "p" to 1 moves the refs
    Then the rewind failed with exit code 4
    And plan "p" has the tools "first second third racer"

  Scenario: a rewind racing a record: the record lands on the rewound plan
    When the rewind of "p" to 1 runs just before a record into "p" publishes
    Then the record succeeded
    And plan "p" has the tools "first racer"
    And the notes commit of "p" names the plan tip
    And git fsck --full is clean

  Scenario: gc expires undo entries older than its grace
    Given I run git plan "rewind p 2"
    When I run git plan "gc --grace now"
    Then the output contains "removed undo entry p: rewind"
    When I run git plan "undo p"
    Then the exit code is 3

  Scenario: every surgery command teaches in its help
    When I run git plan "rewind --help"
    Then the output contains "git plan undo PLAN"
    When I run git plan "drop --help"
    Then the output contains "exit 4"
    When I run git plan "branch --help"
    Then the output contains "branched_from"
    When I run git plan "undo --help"
    Then the output contains "--grace"
