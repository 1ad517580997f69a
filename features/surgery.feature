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

  Scenario Outline: A plan checked before is not called unsafe after <operation>: its new history is checked whole
    When I run git plan "status p"
    Then the output does not contain "unsafe"
    When I run git plan "<operation>"
    Then the exit code is 0
    When I run git plan "status p"
    Then the output does not contain "unsafe"
    When I run git plan "diff p"
    Then the output does not contain "unsafe"

    Examples:
      | operation   |
      | drop p 2    |
      | rewind p 1  |

  Scenario: a changeset merged line by line onto a dropped one's absence
    When I run git plan "drop p 1"
    Then the exit code is 0
    And plan "p" has the tools "second third"
    And git "show refs/changesets/p:a.txt" prints "one\ntwo\nthree\nFOUR"
    And git "notes --ref=changesets/p show refs/changesets/p" prints "\"additions\": 1"
    And git fsck --full is clean

  Scenario: drop replays a changeset that turns a directory a replayed one made back into a file
    Given a plan "q"
    And I record in "q" with tool "unrelated"
      | path  | content |
      | u.txt | u\n     |
    And I record in "q" with tool "makes-dir"
      | path | content |
      | d/x  | x\n     |
    And I record in "q" with tool "dir-to-file"
      | path | content  |
      | d/x  | <delete> |
      | d    | d\n      |
    When I run git plan "drop q 1"
    Then the exit code is 0
    And plan "q" has the tools "makes-dir dir-to-file"
    And git "show refs/changesets/q:d" prints "d"
    And git "ls-tree -r --name-only refs/changesets/q" does not print "u.txt"
    # And a directory a replayed changeset emptied, which a later one makes a file.
    Given a plan "r"
    And I record in "r" with tool "makes-dir"
      | path | content |
      | e/x  | x\n     |
    And I record in "r" with tool "unrelated"
      | path  | content |
      | u.txt | u\n     |
    And I record in "r" with tool "empties-dir"
      | path | content  |
      | e/x  | <delete> |
    And I record in "r" with tool "file-there"
      | path | content |
      | e    | e\n     |
    When I run git plan "drop r 2"
    Then the exit code is 0
    And plan "r" has the tools "makes-dir empties-dir file-there"
    And git "show refs/changesets/r:e" prints "e"
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

  Scenario Outline: A <surgery> killed <when> leaves the plan as it was, or undoable
    Given I remember the refs of "p"
    When a real "git plan <surgery>" is killed at "<point>"
    Then plan "p" has the tools "<tools>"
    When I run git plan "undo p"
    Then the exit code is <undo exit>
    And the refs of "p" are as I remembered them
    And plan "p" has the tools "first second third"
    When I run git plan "undo p"
    Then the exit code is 3
    And git fsck --full is clean

    Examples:
      | surgery  | when                          | point             | tools        | undo exit |
      | rewind p 1 | after it journaled, before the refs moved | surgery.journaled | first second third | 3 |
      | rewind p 1 | after the refs moved          | surgery.swapped   | first        | 0         |
      | drop p 2   | after the refs moved          | surgery.swapped   | first third  | 0         |

  Scenario: An undo killed after it moved the refs back is taken off; the undo before it still works
    Given I remember the refs of "p"
    When I run git plan "rewind p 2"
    And I run git plan "rewind p 1"
    And a real "git plan undo p" is killed at "surgery.undone"
    Then plan "p" has the tools "first second"
    When I run git plan "undo p"
    Then the exit code is 0
    And the refs of "p" are as I remembered them
    When I run git plan "undo p"
    Then the exit code is 3

  Scenario: A plan made again after a cancel killed halfway has nothing to undo
    When I run git plan "rewind p 1"
    And a real "git plan cancel p" is killed at "cancel.refs-deleted"
    And I run git plan "create p"
    And I run git plan "undo p"
    Then the exit code is 3
    And the output contains "has no rewind, drop or branch to undo"

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
      | undo nope        | 3    | no plan named 'nope'                  |

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

  Scenario: gc does not wait for a surgery in progress: that plan's undo entries wait for the next gc
    Given I run git plan "rewind p 2"
    When I collect garbage with a grace of now while another process holds the surgery lock of "p"
    Then the gc report has no undo entry
    When I run git plan "gc --grace now"
    Then the output contains "removed undo entry p: rewind"

  Scenario Outline: the API takes a number given as text, and refuses what is not a changeset number
    Given I remember the refs of "p"
    When I rewind "p" to <value> through the API
    Then it fails with exit code 2
    And the error mentions "<message>"
    And the refs of "p" are as I remembered them

    Examples:
      | value | message                                  |
      | -1    | must not be negative (-1)                |
      | 'x'   | must be a changeset number (0, 1, 2...)  |
      | True  | not True                                 |
      | 1.0   | not 1.0                                  |

  Scenario: the API takes a changeset number given as text
    When I rewind "p" to ' 1 ' through the API
    Then it succeeds
    And plan "p" has the tools "first"

  Scenario Outline: drop through the API refuses an empty list and the plan root
    Given I remember the refs of "p"
    When I drop the changesets <values> of "p" through the API
    Then it fails with exit code 2
    And the error mentions "<message>"
    And the refs of "p" are as I remembered them

    Examples:
      | values | message                                   |
      | []     | name at least one changeset to drop       |
      | [0, 2] | changeset 0 is the plan root              |
      | ['-2'] | must be a changeset number                |

  Scenario: a branch title with a NUL is refused and creates nothing
    When I branch "p" into "q" titled 'a\0b' through the API
    Then it fails with exit code 2
    And the error mentions "the title must be text without NUL"
    And ref "refs/changesets/q" does not exist
    And ref "refs/notes/changesets/q" does not exist

  Scenario: drop replays a deletion, and a file that comes back as it was leaves no change behind
    Given I record in "p" with tool "fourth"
      | path  | content  |
      | b.txt | <delete> |
    And I record in "p" with tool "fifth"
      | path  | content |
      | b.txt | bee\n   |
    When I run git plan "drop p 1"
    Then the exit code is 0
    And the output contains "changeset 5 is now 4"
    And plan "p" has the tools "second third fourth fifth"
    And git "ls-tree --name-only refs/changesets/p~1" does not print "b.txt"
    And git "show refs/changesets/p:b.txt" prints "bee"
    And git "diff --name-only refs/changesets/p~1 refs/changesets/p" prints "b.txt"
    And git "diff --name-only refs/changesets/p~2 refs/changesets/p~1" prints "b.txt"
    And "refs/changesets/p" has the same tree as "refs/changesets/p~2"
    And the notes commit of "p" names the plan tip
    And git fsck --full is clean

  Scenario: branch copies a changeset that changed no files
    Given I record a changeset without file changes in "p" with tool "tests"
    When I run git plan "branch p q"
    Then the exit code is 0
    And plan "q" has the tools "first second third tests"
    And "refs/changesets/q" has the same tree as "refs/changesets/q~1"
    And "refs/changesets/q" has the same tree as "refs/changesets/p"
    And git fsck --full is clean

  Scenario: branch copies a plan whose changeset (forged by hand) adds a submodule entry
    Given a changeset adding the submodule entry "vendor/lib" is forged on top of "p" with git
    When I run git plan "branch p q"
    Then the exit code is 0
    And git "ls-tree refs/changesets/q vendor/lib" prints "160000 commit"
    And "refs/changesets/q" has the same tree as "refs/changesets/p"
    When I run git plan "cancel p"
    Then the exit code is 0
    And git "show refs/changesets/q:c.txt" prints "sea"
    And git fsck --full is clean

  Scenario: an unknown or unreadable line in the undo journal is skipped, never undone
    Given I run git plan "rewind p 2"
    And I run git plan "rewind p 1"
    And the undo journal of "p" gets these lines
      """
      {"operation": "merge", "plan": "p", "old_tip": "0000000000000000000000000000000000000000"}
      ["rewind"]
      not json at all
      """
    When I run git plan "undo p"
    Then the exit code is 0
    And the output contains "undid the rewind of plan p: it has 2 changesets again"
    And plan "p" has the tools "first second"
    When I run git plan "undo p"
    Then the exit code is 0
    And plan "p" has the tools "first second third"
    When I run git plan "undo p"
    Then the exit code is 3
    And the output contains "no rewind, drop or branch to undo"

  Scenario: gc keeps undo entries younger than its grace, and --dry-run removes nothing
    Given I run git plan "rewind p 1"
    When I run git plan "gc"
    Then the exit code is 0
    And the output does not contain "undo entry"
    When I run git plan "gc --grace now --dry-run"
    Then the exit code is 0
    And the output contains "undo entry p: rewind"
    When I run git plan "undo p"
    Then the exit code is 0
    And plan "p" has the tools "first second third"

  Scenario: gc removes the undo journal of a plan whose refs were deleted by hand, whatever its age
    Given I run git plan "rewind p 1"
    And "refs/changesets/p" is deleted with git update-ref
    And "refs/notes/changesets/p" is deleted with git update-ref
    When I run git plan "gc"
    Then the exit code is 0
    And the output contains "undo entry p: rewind"
    And the output contains "plan p no longer exists"
    And the undo journal of "p" is gone
    When I run git plan "undo p"
    Then the exit code is 3
    And the output contains "no plan named 'p'"

  Scenario: undo of a branch whose plan was deleted by hand forgets the branch
    Given I run git plan "branch p q --at 1"
    And "refs/changesets/q" is deleted with git update-ref
    And "refs/notes/changesets/q" is deleted with git update-ref
    When I run git plan "undo q"
    Then the exit code is 3
    And the output contains "no plan named 'q'"
    And the undo journal of "q" is gone
    Given a plan "q"
    When I run git plan "undo q"
    Then the exit code is 3
    And the output contains "no rewind, drop or branch to undo"
    And git "log --format=%s -n 1 refs/changesets/q" prints "plan q: title of q"

  Scenario: undo refuses when what the plan was before the rewind is gone from the object store
    Given I remember the refs of "p"
    And I run git plan "rewind p 1"
    And the commit I remembered as the tip is deleted from the object store
    And I remember the refs of "p"
    When I run git plan "undo p"
    Then the exit code is 5
    And the output contains "from before the rewind is gone"
    And the refs of "p" are as I remembered them
    And plan "p" has the tools "first"

  Scenario: rewind of a plan with a merge commit (forged by hand) among its changesets is refused
    Given a commit forged with "Changeset: 4" and 2 parent(s) is put on top of "p" with git
    And I remember the refs of "p"
    When I run git plan "rewind p 1"
    Then the exit code is 5
    And the output contains "is not linear"
    And the refs of "p" are as I remembered them

  Scenario: drop and branch refuse a changeset whose invocation record was removed by hand
    Given the note of changeset 3 of "p" is removed with git notes
    And I remember the refs of "p"
    And I count the objects
    When I run git plan "drop p 2"
    Then the exit code is 5
    And the output contains "changeset 3 has no invocation record to carry over"
    When I run git plan "branch p q"
    Then the exit code is 5
    And the output contains "changeset 3 has no invocation record to carry over"
    And ref "refs/changesets/q" does not exist
    And the refs of "p" are as I remembered them
    And no object was written

  Scenario: rewind refuses a plan whose notes ref was deleted by hand, as drop and branch do; an undo journal entry without it is refused, not crashed on
    Given I run git plan "rewind p 2"
    And the newest entry of the undo journal of "p" names no notes ref from before it
    When I run git plan "undo p"
    Then the exit code is 5
    And the output contains "plan 'p' had no notes ref before the rewind: it cannot be undone"
    Given the user sets the repository up with:
      """
      git update-ref -d refs/notes/changesets/p
      """
    When I run git plan "rewind p 1"
    Then the exit code is 5
    And the output contains "plan 'p' has no notes ref (its invocation records): nothing was rewound"
    And git "rev-list --count refs/changesets/p ^HEAD" prints "3"
    And ref "refs/notes/changesets/p" does not exist

  Scenario: branch refuses a plan whose plan record was removed by hand
    Given the plan record note of "p" is removed with git notes
    When I run git plan "branch p q"
    Then the exit code is 5
    And the output contains "plan 'p' has no plan record to copy"
    And ref "refs/changesets/q" does not exist

  Scenario: a create of the name a branch is being written to is refused at once; the branch completes
    When another process creates plan "q" while I branch "p" into it
    Then it succeeds
    And the create was refused with "plan 'q' already exists (another process is creating it)"
    And git "notes --ref=changesets/q show refs/changesets/q" prints "branched_from"
    And git fsck --full is clean

  Scenario: a branch whose new notes ref is locked by another process writes nothing
    Given I count the objects
    And another process has held the lock of "refs/notes/changesets/q" for 2 seconds
    When I run git plan "branch p q"
    Then the exit code is 4
    And the output contains "refs/notes/changesets/q.lock is held"
    And ref "refs/changesets/q" does not exist
    And ref "refs/notes/changesets/q" does not exist
    And no object was written
    When that process releases the lock
    And I run git plan "branch p q"
    Then the exit code is 0

  Scenario Outline: surgery refuses a plan ref locked for over a second, and writes nothing
    Given I run git plan "rewind p 2"
    And I remember the refs of "p"
    And I count the objects
    And another process has held the lock of "refs/changesets/p" for 5 seconds
    When I run git plan "<command>"
    Then the exit code is 4
    And the output contains "refs/changesets/p.lock stayed locked"
    And the refs of "p" are as I remembered them
    And no object was written
    When that process releases the lock
    And I run git plan "<command>"
    Then the exit code is 0

    Examples:
      | command    |
      | rewind p 1 |
      | undo p     |

  Scenario Outline: surgery gives up on a plan whose ref another writer keeps locking
    Given I run git plan "rewind p 2"
    And I remember the refs of "p"
    And I count the objects
    When another writer keeps taking the lock of "refs/changesets/p" while I run git plan "<command>"
    Then the exit code is 4
    And the output contains "plan 'p' is busy"
    And the refs of "p" are as I remembered them
    And no object was written
    When I run git plan "<command>"
    Then the exit code is 0
    And plan "p" has the tools "<tools>"

    Examples:
      | command    | tools              |
      | rewind p 1 | first              |
      | undo p     | first second third |

  Scenario: a record into a plan cancelled just as it read the refs says the plan was cancelled
    When "p" is cancelled just after a record into it read its refs
    Then it fails with exit code 3
    And the error mentions "plan 'p' was cancelled"
    And ref "refs/changesets/p" does not exist
    And ref "refs/notes/changesets/p" does not exist
    And git fsck --full is clean

  Scenario: every surgery command teaches in its help
    When I run git plan "rewind --help"
    Then the output contains "git plan undo PLAN"
    When I run git plan "drop --help"
    Then the output contains "exit 4"
    When I run git plan "branch --help"
    Then the output contains "branched_from"
    When I run git plan "undo --help"
    Then the output contains "--grace"
