Feature: Many writers append to one plan at once and nothing is lost

  Background:
    Given a repository with files
      | path      | content                                   |
      | README.md | a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n            |
    And a plan "busy"

  Scenario: 6 processes x 40 records into one plan
    When 6 writer processes each record 40 changesets into "busy"
    Then all writers succeed
    And plan "busy" has 240 changesets
    And every changeset of "busy" has its note and they are numbered without gaps
    And the tip of "busy" holds every file the writers wrote
    And git fsck --full is clean

  Scenario: Threads in one process
    When 4 threads each record 10 changesets into "busy"
    Then plan "busy" has 40 changesets
    And every changeset of "busy" has its note and they are numbered without gaps

  Scenario: Same-file writers with mergeable edits both land
    When writer A changes line 1 and writer B changes line 10 of "README.md", both from changeset 0
    Then it succeeds
    And the tip of "busy" holds "README.md" as "A\nb\nc\nd\ne\nf\ng\nh\ni\nB\n"

  Scenario: Same-file writers with conflicting edits: the second gets a conflict and writes nothing
    When writer A and writer B both change line 1 of "README.md" from changeset 0
    Then it fails with exit code 4
    And plan "busy" has 1 changesets

  Scenario: A writer killed between the notes ref and the plan ref is finished by the next writer
    Given a writer was killed after moving the notes ref of "busy" but before the plan ref
    When I record in "busy" with tool "next"
      | path | content |
      | n    | n\n     |
    Then it succeeds
    And plan "busy" has 2 changesets
    And every changeset of "busy" has its note and they are numbered without gaps

  Scenario: Cancel while writers run: the plan stays gone
    When 3 writer processes record into "busy" while it is cancelled
    Then ref "refs/changesets/busy" does not exist
    And ref "refs/notes/changesets/busy" does not exist
    And every writer either finished or failed with "not found"
    And git fsck --full is clean
    And no pack or registry of plan "busy" is left

  Scenario Outline: Cancel lands while every writer is stopped at <point>
    When 3 writer processes are paused at "<point>" in "busy" while it is cancelled
    Then it succeeds
    And every writer failed with "not found"
    And ref "refs/changesets/busy" does not exist
    And ref "refs/notes/changesets/busy" does not exist
    And git fsck --full is clean
    And no pack or registry of plan "busy" is left

    Examples:
      | point                       |
      | packs.registered            |
      | transaction.before-publish  |
      | refs.before-notes           |

  Scenario Outline: Writers from the same parent: <case>
    Given I record in "busy" with tool "first"
      | path   | content   |
      | <path> | <first>   |
    When I record in "busy" from changeset 0 the change "<second>" to "<path>"
    Then <outcome>

    Examples:
      | case                               | path      | first     | second    | outcome                                 |
      | both write the same bytes          | README.md | same\n    | same\n    | plan "busy" has 2 changesets            |
      | both delete the file               | README.md | <delete>  | <delete>  | plan "busy" has 2 changesets            |
      | one deletes, one edits             | README.md | <delete>  | edited\n  | it fails with exit code 4               |
      | both add the same path differently | new.txt   | one\n     | two\n     | it fails with exit code 4               |
      | the parent is named by commit id   | other.txt | x\n       | x\n       | plan "busy" has 2 changesets            |

  Scenario: A writer whose record another writer finished for it returns normally
    When a writer is paused between its two ref updates while another writer records
    Then both writers succeed
    And plan "busy" has 2 changesets
    And every changeset of "busy" has its note and they are numbered without gaps

  Scenario: A writer that loses the race for the notes ref retries on the new tip
    When another writer records just before this writer moves the notes ref
    Then both writers succeed
    And plan "busy" has 2 changesets
    And every changeset of "busy" has its note and they are numbered without gaps

  Scenario Outline: A writer whose plan is cancelled <when> fails with not found and leaves nothing
    When the plan is cancelled just before this writer moves the <ref> ref
    Then it fails with exit code 3
    And the writer's commit and note are gone from the object store
    And ref "refs/changesets/busy" does not exist
    And git fsck --full is clean

    Examples:
      | when                          | ref   |
      | before its notes update       | notes |
      | between its two updates       | plan  |

  Scenario Outline: A writer whose plan is cancelled and made again <when> fails with not found
    When a writer paused at "<point>" in "busy" finds it cancelled and made again
    Then every writer failed with "not found"
    And plan "busy" has 0 changesets
    And git fsck --full is clean

    Examples:
      | when                     | point                      |
      | after it read the plan   | transaction.refs-read      |
      | before it publishes      | transaction.before-publish |

  Scenario Outline: Writers from the same parent, modes: <case>
    Given I record in "busy" the file "README.md" with mode <first mode> and its content
    When I record in "busy" from changeset 0 the file "README.md" with mode <second mode> and line 10 as "X"
    Then <outcome>

    Examples:
      | case                                      | first mode | second mode | outcome                                          |
      | one makes it executable, one edits it     | 100755     | 100644      | the tip of "busy" has "README.md" with mode 100755 |
      | one edits it, the other makes it executable | 100644   | 100755      | the tip of "busy" has "README.md" with mode 100755 |
      | one makes it a symlink, one edits it      | 120000     | 100644      | it fails with exit code 4                        |
      | one makes it executable, one a symlink    | 100755     | 120000      | it fails with exit code 4                        |

  Scenario: A plan ref moved by hand between a writer's two updates is reported, not followed
    When the plan ref of "busy" is moved by hand to the plan root just before this writer moves it
    Then it fails with exit code 5
    And the error mentions "without changeset"

  Scenario Outline: A <command> while its plan is applied waits for the apply, then is refused: an applied plan is what was applied
    Given I record in "busy" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And I record in "busy" with tool "write_file"
      | path  | content |
      | b.txt | b\n     |
    And a file "late" outside the repository with content "late\n"
    When "git plan <args>" runs while an apply of "busy" is paused before its commits
    Then the apply succeeded and the other command failed with exit code <code>, saying "<says>"
    And plan "busy" has 2 changesets
    And HEAD has the tree of the tip of "busy"
    And git fsck --full is clean

    Examples:
      | command | args                                         | code | says            |
      | record  | record busy --tool late --set c.txt={tmp}/late | 2    | already applied |
      | rewind  | rewind busy 1                                | 4    | moved meanwhile |

  Scenario: Two processes recording one invocation id at once with record_once make one changeset
    Given a plan "once"
    When two processes record invocation "call-7" into "once", the second while the first has looked and not yet written
    Then the first recorded changeset 1, the second was given it, and the lock was held between
    And git "ls-tree -r --name-only refs/changesets/once" does not print "second.txt"
    And git fsck --full is clean
