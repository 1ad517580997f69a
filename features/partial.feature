Feature: Applying part of a plan
  A reviewer takes some changesets, some files or some hunks of a plan; the
  rest stays in the plan, to be applied later or cancelled. Each part is all or
  nothing, like a whole apply, and the plan record says what was applied.

  Background:
    Given a repository with files
      | path       | content                                            |
      | src/a.py   | a1\na2\na3\na4\na5\na6\na7\na8\na9\na10\na11\na12\n |
      | src/b.py   | b\n                                                |
      | docs/x.md  | x\n                                                |
    And a plan "p"
    And I record in "p" with tool "one"
      | path     | content |
      | src/b.py | B\n     |
    And I record in "p" with tool "two"
      | path      | content |
      | docs/x.md | X\n     |
      | new.txt   | new\n   |
    And I record in "p" with tool "three"
      | path     | content                                               |
      | src/a.py | A1\na2\na3\na4\na5\na6\na7\na8\na9\na10\na11\nA12\n    |

  Scenario: --upto N applies changesets 1..N; the rest is applied later
    When I run git plan "apply p --upto 2"
    Then the exit code is 0
    And the output contains "applied part of plan p"
    And git "show HEAD:src/b.py" prints "B"
    And git "show HEAD:docs/x.md" prints "X"
    And git "show HEAD:src/a.py" prints "a1\na2"
    And git "log -1 --format=%B" prints "Applied part of plan p: upto 2"
    And git status is clean
    And git "notes --ref=changesets/p show refs/changesets/p~3" prints "\"upto\": 2"
    When I run git plan "status p"
    Then the output contains "state:      open"
    And the output contains "applied in part: "
    And the output contains "(commit) "
    And the output contains ": upto 2"
    When I run git plan "status p --json"
    Then the output contains ""upto": 2"
    When I run git plan "apply p"
    Then the exit code is 0
    And git "show HEAD:src/a.py" prints "A1\na2"
    And the plan "p" is marked applied
    And git fsck --full is clean

  Scenario: --only and --exclude take paths of the cumulative change
    When I run git plan "apply p --only src --exclude src/a.py"
    Then the exit code is 0
    And git "show HEAD:src/b.py" prints "B"
    And git "show HEAD:src/a.py" prints "a1"
    And git "show HEAD:docs/x.md" prints "x"
    And git "ls-tree --name-only HEAD" does not print "new.txt"
    And git "log -1 --format=%B" prints "Applied part of plan p: only src, exclude src/a.py\n\n- 1. one: "
    And git "log -1 --format=%B" does not print "- 2. two"
    When I run git plan "apply p --exclude docs"
    Then the exit code is 0
    And git "log -1 --format=%B" prints "- 2. two: "
    And git "log -1 --format=%B" prints "- 3. three: "
    And git "show HEAD:src/a.py" prints "A1"
    And git "show HEAD:new.txt" prints "new"
    And git "show HEAD:docs/x.md" prints "x"
    When I run git plan "cancel p"
    Then the exit code is 0
    And git "show HEAD:docs/x.md" prints "x"
    And git fsck --full is clean

  Scenario: A selection that matches nothing writes nothing
    Given I remember the user's state
    When I run git plan "apply p --only nowhere"
    Then the exit code is 2
    And the output contains "nothing selected"
    And the user's state is unchanged

  Scenario: --upto past the last changeset is not found
    When I run git plan "apply p --upto 9"
    Then the exit code is 3

  Scenario: --check says what a part would write
    When I run git plan "apply p --only src/b.py --check"
    Then the exit code is 0
    And the output contains "src/b.py"
    And the output does not contain "docs/x.md"

  Scenario: A part refused for a dirty path keeps the plan
    Given the user edits "src/b.py" to "mine\n" without committing
    When I run git plan "apply p --only src/b.py"
    Then the exit code is 4
    And git "for-each-ref refs/changesets/p" prints "refs/changesets/p"

  Scenario: --replay with --upto makes one commit per changeset taken
    When I run git plan "apply p --replay --upto 2"
    Then the exit code is 0
    And git "log -2 --format=%s" prints "two"
    And git "log -3 --format=%s" prints "one"

  Scenario: --replay does not take paths
    When I run git plan "apply p --replay --only src"
    Then the exit code is 2

  Scenario: --hunks asks hunk by hunk on a terminal, as git add -p does
    # The files come in diff order: docs/x.md, new.txt, src/a.py (two hunks), src/b.py.
    When I run the git-plan program with "apply p --hunks" on a terminal answering "n y y n n"
    Then the terminal shows "(1/2) Apply this hunk to src/a.py"
    And the terminal shows "applied part of plan p"
    And git "show HEAD:src/a.py" prints "A1\na2"
    And git "show HEAD:src/a.py" prints "a11\na12"
    And git "show HEAD:docs/x.md" prints "x"
    And git "show HEAD:new.txt" prints "new"
    And git "show HEAD:src/b.py" prints "b"
    And git "log -1 --format=%B" prints "Applied part of plan p: hunks\n"
    And git status is clean
    When I run git plan "apply p"
    Then the exit code is 0
    And git "show HEAD:src/a.py" prints "a11\nA12"
    And git "show HEAD:src/b.py" prints "B"

  Scenario: --hunks shows and applies the files' own lines when a textconv filter is set, as git add -p does
    Given git config "diff.conv.textconv" is "sed s/^/conv:/"
    And the agent writes ".gitattributes" as "*.py diff=conv\n" in the worktree
    And the user commits everything in the worktree
    When I run the git-plan program with "apply p --hunks" on a terminal answering "n n n y n"
    Then the terminal shows "+A12"
    And the terminal does not show "conv:"
    And the terminal shows "applied part of plan p"
    And git "show HEAD:src/a.py" prints "a1\na2"
    And git "show HEAD:src/a.py" prints "a11\nA12"
    And git status is clean

  Scenario: --hunks needs a terminal
    When I run git plan "apply p --hunks"
    Then the exit code is 2
    And the output contains "asks on a terminal"

  Scenario Outline: A part killed <when> is <done> by git plan recover, and the plan stays open
    When a real "git plan apply p --upto 2" is killed at "<point>"
    And I run git plan "recover"
    Then the exit code is 0
    And the output contains "<done>"
    And git status is clean
    And git "show HEAD:src/a.py" prints "a1"
    And git "show HEAD:src/b.py" prints "<b.py>"
    And git "notes --ref=changesets/p show refs/changesets/p~3" prints "<record>"
    When I run git plan "status p"
    Then the output contains "state:      open"

    Examples:
      | when                    | point                     | done        | b.py | record              |
      | before the commit point | apply.before-commit-point | rolled back | b    | "state": "open"     |
      | after the commit point  | apply.after-commit-point  | finished    | B    | "upto": 2           |

  Scenario: --hunks does not take paths, and a part HEAD already has is refused
    When I run git plan "apply p --hunks --only src"
    Then the exit code is 2
    When I run git plan "apply p --only src/b.py"
    Then the exit code is 0
    When I run git plan "apply p --only src/b.py"
    Then the exit code is 2
    And the output contains "nothing to apply"

  Scenario: A part HEAD already has, through a commit of the user's, is refused without writing an object
    Given the user commits "src/b.py" with content "b2\n" on main
    And the user commits "docs/x.md" with content "X\n" on main
    And I count the objects
    When I run git plan "apply p --only docs/x.md"
    Then the exit code is 2
    And the output contains "nothing to apply"
    And no object was written
    When I run git plan "apply p --only docs/x.md --check"
    Then the exit code is 2
    And no object was written

  Scenario: --hunks over binary files and names git quotes: y, n, a (the rest of the file), d (none of it)
    Given I record in "p" with tool "more"
      | path        | content        |
      | bin.dat     | \x00\x01\x02\n |
      | q"uote.txt  | quoted\n       |
      | sp ace.txt  | spaced\n       |
      | é.bin       | \x00\xff\n     |
      | é.txt       | accent\n       |
    # Files in diff order: bin.dat (no hunks), docs/x.md, new.txt, q"uote.txt, sp ace.txt,
    # src/a.py (two hunks), src/b.py, é.bin (no hunks), é.txt.
    When I run the git-plan program with "apply p --hunks" on a terminal answering "y n y y y a d n y"
    Then the terminal shows "Apply this change to bin.dat"
    And git "show HEAD:docs/x.md" prints "x"
    And git "show HEAD:new.txt" prints "new"
    And git "show 'HEAD:sp ace.txt'" prints "spaced"
    And git "show HEAD:src/a.py" prints "A1"
    And git "show HEAD:src/a.py" prints "A12"
    And git "show HEAD:src/b.py" prints "b"
    And git "ls-tree -r --name-only HEAD" prints "bin.dat"
    And git "-c core.quotepath=false ls-tree -r --name-only HEAD" prints "é.txt"
    And git "-c core.quotepath=false ls-tree -r --name-only HEAD" does not print "é.bin"
    And git "show HEAD:q\"uote.txt" prints "quoted"
    And git status is clean

  Scenario: --hunks stopped with q before choosing anything applies nothing
    Given I remember the user's state
    When I run the git-plan program with "apply p --hunks" on a terminal answering "n q"
    Then the program exited 2 and the terminal shows "no hunk chosen"
    And the user's state is unchanged
