Feature: A damaged repository or plan is reported clearly, never crashed on

  Background:
    Given a repository with files
      | path      | content |
      | README.md | hi\n    |
    And a plan "d"
    And I record in "d" with tool "edit"
      | path     | content          |
      | only.txt | only in plan\n   |

  Scenario: A repository using the reftable backend is refused
    Given the repository config says it uses reftable
    When I open the store
    Then it fails with exit code 2
    And the error mentions "reftable"

  Scenario: A blob the plan needs was deleted
    Given the object of "only.txt" in the tip of "d" is deleted
    When I ask for the diff of "d"
    Then it fails with exit code 5
    And the error mentions "missing from the repository"

  Scenario: A tree the plan needs was deleted
    Given I record in "d" with tool "edit"
      | path         | content |
      | sub/deep.txt | deep\n  |
    And the object of "sub" in the tip of "d" is deleted
    When I ask for the diff of "d"
    Then it fails with exit code 5
    And the error mentions "missing from the repository"

  Scenario: The plan's tip commit was deleted
    Given the object of the tip commit of "d" is deleted
    When I ask for the status of "d"
    Then it fails with exit code 5
    And the error mentions "is missing"
    And listing plans shows "d" as "damaged" because "is missing"

  Scenario: The plan ref was pointed at a commit that is not the plan's
    Given "refs/changesets/d" is moved to HEAD with git update-ref
    When I ask for the status of "d"
    Then it fails with exit code 5
    And the error mentions "does not belong to the plan"
    And listing plans shows "d" as "damaged" because "does not belong to the plan"

  Scenario Outline: Notes edited with git notes leave the plan's state to its plan record: <case>
    Given <before>
    And <edit>
    When I run git plan "record d --tool t --delete only.txt"
    Then the exit code is <code>
    And the output contains "<text>"
    When I run git plan "rewind d 0"
    Then the exit code is <rewind>
    And the output contains "<rewound>"

    Examples:
      | case                                     | before               | edit                                                               | code | text                                         | rewind | rewound                                      |
      | an applied plan, a changeset note edited | plan "d" was applied | the note of changeset 1 of "d" is replaced with git notes by "{}"  | 2    | already applied                              | 2      | already applied                              |
      | an applied plan, its record made junk    | plan "d" was applied | the plan record note of "d" is replaced with git notes by "junk"   | 5    | whether it is open or applied cannot be told | 5      | whether it is open or applied cannot be told |
      | an open plan, a changeset note edited    | a plan "e"           | the note of changeset 1 of "d" is replaced with git notes by "{}"  | 0    | changeset 2                                  | 0      | rewound                                      |

  Scenario: The plan record note was removed
    Given the plan record note of "d" is removed with git notes
    Then the status of "d" reports "plan record: plan record note is missing"
    And listing plans shows "d" as "damaged" because "plan record note is missing"
    When I run git plan "status d --json"
    Then the exit code is 5
    And the output contains ""state": "damaged""
    And the output contains ""problem": "plan record: plan record note is missing""
    When I apply "d"
    Then it fails with exit code 5

  Scenario: The notes ref was deleted
    Given "refs/notes/changesets/d" is deleted with git update-ref
    When I record in "d" with tool "more"
      | path | content |
      | x    | x\n     |
    Then it fails with exit code 5
    And the error mentions "has no notes ref"
    When I cancel "d"
    Then it succeeds
    And git fsck --full is clean

  Scenario: Only the notes ref of a plan is left: cancel removes it
    Given "refs/changesets/d" is deleted with git update-ref
    When I ask for the status of "d"
    Then it fails with exit code 3
    And the error mentions "a create or cancel was interrupted); `git plan cancel d` removes it"
    And listing plans shows "d" as "incomplete" because "git plan cancel d"
    When I run git plan "create d"
    Then the exit code is 2
    And the output contains "already exists: only refs/notes/changesets/d exists"
    When I cancel "d"
    Then it succeeds
    And ref "refs/notes/changesets/d" does not exist

  Scenario: A notes ref that points at a blob is reported once, as the cause, by status and list
    Given the user points "refs/notes/changesets/d" at a blob and "refs/changesets/gone" at an object that is not there
    Then the status of "d" reports "the notes ref points at"
    And listing plans shows "d" as "damaged" because "a blob, not a notes commit"
    When I run git plan "status d"
    Then the output does not contain "note is missing"

  Scenario: The base commit is missing
    Given the plan "b" is based on a commit whose object is then deleted
    Then the status of "b" reports "base commit"
    When I apply "b"
    Then it fails with exit code 3
    And the error mentions "fetch it first"

  Scenario: A corrupt pack index does not stop diffs
    Given a corrupt pack index file is in the repository
    When I ask for the diff of "d"
    Then it succeeds

  Scenario Outline: A note payload that is <what> is a damaged artifact
    Given the note of changeset 1 of "d" is replaced by
      """
      <payload>
      """
    Then the status of "d" reports "<reason>"

    Examples:
      | what                 | payload                                                          | reason                          |
      | a JSON array         | [1, 2]                                                           | is not a JSON object            |
      | without schema       | {"tool": "x"}                                                    | has no known schema             |
      | with bad files       | {"schema": "gitplan.invocation/1", "tool": "x", "files": [1]}    | invocation record is malformed  |
      | with a bad tool      | {"schema": "gitplan.invocation/1", "tool": ""}                   | invocation record is malformed  |

  Scenario: A plan record without its base is damaged
    Given the plan record note of "d" is replaced by
      """
      {"schema": "gitplan.plan/1", "plan_id": "d"}
      """
    Then the status of "d" reports "plan record lacks the field 'base'"

  Scenario: The plan ref was pointed at a tree
    Given "refs/changesets/d" is moved to "HEAD^{tree}" with git update-ref
    When I ask for the status of "d"
    Then it fails with exit code 5
    And the error mentions "is not a commit"

  Scenario: Notes edited with git notes into git's fan-out layout are still read
    Given 300 more notes are added to "refs/notes/changesets/d" with git fast-import
    Then the status of "d" reports nothing missing
    And the invocation record of changeset 1 of "d" has tool "edit"

  Scenario: A notes ref rewound by hand is accepted as it is, and the lost note reported
    Given "refs/notes/changesets/d" is moved to "refs/notes/changesets/d~1" with git update-ref
    When I record in "d" with tool "after"
      | path | content |
      | z    | z\n     |
    Then it succeeds
    And the status of "d" reports "changeset 1: invocation record note is missing"

  Scenario Outline: A changeset commit forged by hand: <case>
    Given a commit forged with "<trailer>" and <parents> parent(s) is put on top of "d" with git
    When I ask for the status of "d"
    Then <outcome>

    Examples:
      | case                    | trailer       | parents | outcome                                                          |
      | a number out of order   | Changeset: 7  | 1       | the status of "d" reports "commit says changeset '7'"            |
      | a merge commit          | Changeset: 2  | 2       | it fails with exit code 5                                        |

  Scenario Outline: log -n of a plan whose numbers a forged commit breaks says what the whole log says: <case>
    Given I record in "d" with tool "second"
      | path | content |
      | y    | y\n     |
    And a commit forged with "<trailer>" and 1 parent(s) is put on top of "d" with git
    When I run git plan "log d -n 2"
    Then the exit code is 5
    And the output contains "<problem>"
    And the output contains "Tool:    second"
    And the output does not contain "changeset 1 "

    Examples:
      | case                | trailer        | problem                                              |
      | a number skipped    | Changeset: 4   | commit says changeset '4', chain position is 3       |
      | a number repeated   | Changeset: 2   | commit says changeset '2', chain position is 3       |
      | a number of zero    | Changeset: 0   | commit says changeset '0', chain position is 3       |

  Scenario: log -n 1 of a plan whose newest changeset says 0 says what the whole log says
    Given a commit forged with "Changeset: 0" and 1 parent(s) is put on top of "d" with git
    When I run git plan "log d -n 1"
    Then the exit code is 5
    And the output contains "commit says changeset '0', chain position is 2"

  Scenario: log -n of a plan whose first changeset says 2 says what the whole log says
    Given a plan "e"
    And a commit forged with "Changeset: 2" and 1 parent(s) is put on top of "e" with git
    When I run git plan "log e -n 5"
    Then the exit code is 5
    And the output contains "commit says changeset '2', chain position is 1"

  Scenario: A changeset number that is not a number stops recording
    Given a commit forged with "Changeset: two" and 1 parent(s) is put on top of "d" with git
    When I record in "d" with tool "more"
      | path | content |
      | x    | x\n     |
    Then it fails with exit code 5
    And the error mentions "malformed Changeset trailer"

  Scenario: A plan ref file with garbage in it is reported as damaged
    Given the file of "refs/changesets/d" holds "not a ref"
    When I ask for the status of "d"
    Then it fails with exit code 5
    And the error mentions "cannot read refs/changesets/d"

  Scenario: The notes ref was pointed at a tree
    Given "refs/notes/changesets/d" is moved to "HEAD^{tree}" with git update-ref
    Then the status of "d" reports "the notes ref points at"
    And the status of "d" reports "a tree, not a notes commit"
    When I record in "d" with tool "after"
      | path | content |
      | z    | z\n     |
    Then it fails with exit code 5
    And the error mentions "not a notes commit"
    And git fsck --full is clean

  Scenario: Recording into a plan whose tip commit is gone is refused as damaged
    Given the object of the tip commit of "d" is deleted
    When I record in "d" with tool "after"
      | path | content |
      | z    | z\n     |
    Then it fails with exit code 5
    And the error mentions "is missing"

  Scenario Outline: The diff of one changeset whose parent commit is gone says so: <args>
    Given I record in "d" with tool "second"
      | path | content |
      | z    | z\n     |
    And the object of the commit of changeset 1 of "d" is deleted
    When I run git plan "<args>"
    Then the exit code is 5
    And the output contains "is missing from the repository"
    And the output does not contain "internal error"

    Examples:
      | args             |
      | diff d 2         |
      | diff d 2 --stat  |
      | diff d 2 --json  |

  Scenario: A ref file under refs/changesets/ that git cannot read is listed as damaged
    Given the user writes "garbage" into .git/refs/changesets/broken
    Then listing plans shows "broken" as "damaged" because "corrupted loose reference file"

  Scenario: A symbolic ref under refs/changesets/ is listed as damaged, and every command says what it is
    Given the user sets the repository up with:
      """
      git symbolic-ref refs/changesets/sym refs/heads/main
      """
    Then listing plans shows "sym" as "damaged" because "refs/changesets/sym is a symbolic ref (to refs/heads/main)"
    When I run git plan "diff sym"
    Then the exit code is 5
    And the output contains "is a symbolic ref"
    When I run git plan "record sym --tool t --delete README.md"
    Then the exit code is 5
    When I run git plan "cancel sym"
    Then the exit code is 5
    And git "symbolic-ref refs/changesets/sym" prints "refs/heads/main"

  Scenario: A symbolic notes ref with no plan ref is listed as damaged, not as a create to cancel
    Given the user sets the repository up with:
      """
      git symbolic-ref refs/notes/changesets/x refs/heads/main
      """
    Then listing plans shows "x" as "damaged" because "`git symbolic-ref -d refs/notes/changesets/x` removes it"

  Scenario: A ref under refs/changesets/ that is no plan name is listed as invalid
    Given "refs/changesets/nested/x" is moved to HEAD with git update-ref
    Then listing plans shows "nested/x" as "invalid" because "git update-ref -d refs/changesets/nested/x"

  Scenario: A record edited by hand after the plan was checked is found by the next status: other files, or no JSON
    Given I record in "d" with tool "second"
      | path | content |
      | y    | y\n     |
    When I run git plan "status d"
    Then the output does not contain "unsafe"
    Given the user sets the repository up with:
      """
      c=$(git rev-parse refs/changesets/d~1)
      git notes --ref=changesets/d show $c | sed 's/"path": "only.txt"/"path": "README.md"/' > ../forged.json
      git notes --ref=changesets/d add -f -F ../forged.json $c
      """
    When I run git plan "status d"
    Then the output contains "unsafe: the invocation record of"
    And the output contains "lists other files than its commit changes ('README.md', 'only.txt')"
    Given the user sets the repository up with:
      """
      c=$(git rev-parse refs/changesets/d~1)
      printf '{not json' > ../forged.json
      git notes --ref=changesets/d add -f -F ../forged.json $c
      """
    # status reports it as a damaged artifact; apply, which checks from the plan's
    # verified mark, refuses it as unsafe.
    When I run git plan "apply d --check"
    Then the exit code is 2
    And the output contains "is unsafe: the invocation record of"
    And the output contains "does not decode"

  Scenario: log exits 5 when an invocation record is missing, and still prints the log
    Given I record in "d" with tool "second"
      | path | content |
      | y    | y\n     |
    And the note of changeset 1 of "d" is removed with git notes
    When I run git plan "log d"
    Then the exit code is 5
    And the output contains "MISSING: invocation record note is missing"
    # What the commit changed is still known, and shown.
    And the output contains "    added      only.txt (+1 -0)"
    And the output contains "Tool:    second"
    When I run git plan "show d 1"
    Then the exit code is 5
    And the output contains "Record:  MISSING (invocation record note is missing)"
    When I run git plan "show d 1 --json"
    Then the exit code is 5
    And the output contains ""problem": "invocation record note is missing""
    And the output contains ""path": "only.txt""
    And the output contains ""insertions": 1"
    When I run git plan "show d 1..2"
    Then the exit code is 2
    And the output contains "`git plan diff d 1..2` shows a range"
    When I run git plan "log d --oneline"
    Then the exit code is 5
    And the output contains "  [invocation record note is missing]"
    # The newest changeset alone reads no further back than it.
    When I run git plan "log d -n 1"
    Then the exit code is 0
    And the output contains "changeset 2 "
    And the output does not contain "MISSING"
    When I run git plan "log d --max-count=2"
    Then the exit code is 5
    And the output contains "MISSING: invocation record note is missing"
    Given the user sets the repository up with:
      """
      git config color.diff.commit normal
      """
    When I run git plan "log d --color"
    Then the output shows "\x1b[31m  MISSING: invocation record note is missing"
