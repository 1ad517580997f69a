Feature: An apply killed with SIGKILL at any moment leaves the old or the applied state

  Scenario: kill -9 a real apply process at many points
    # Where each kill lands depends on the machine's load; the scenarios below hit the
    # moments that matter on purpose.
    Given a repository with 600 files and a plan "big" that changes, adds and deletes 600 of them
    When I kill a real "git plan apply big" at 16 moments spread over its run
    Then after each kill and the next git plan command, HEAD, index and worktree are all old or all applied
    And git status is clean after every kill
    And git fsck --full is clean

  Scenario: kill -9 an apply and its git while git is halfway through writing the files: recover puts the old ones back
    Given a repository with 200 files and a plan "big" that changes, adds and deletes 200 of them
    And a smudge filter that kills the apply and its git at the 60th file git writes
    When a real "git plan apply big" runs until the filter kills it
    Then some of the files the plan writes hold its content and some do not
    And the apply's journal is left
    When I run git plan "recover"
    Then the exit code is 0
    And the output contains "rolled back"
    And HEAD, index and worktree are the old ones
    And git status is clean
    And git fsck --full is clean

  Scenario Outline: kill -9 an apply at <point>: the next git plan command leaves it <state>
    Given a repository with 60 files and a plan "big" that changes, adds and deletes 60 of them
    When a real "git plan apply big" is killed at "<point>"
    And I run git plan "recover"
    Then the exit code is 0
    And HEAD, index and worktree are the <state> ones
    And git status is clean
    And git fsck --full is clean

    Examples:
      | point                     | state   |
      | apply.before-commits      | old     |
      | apply.checkout-started    | old     |
      | worktree.paths-checked    | old     |
      | worktree.index-moved      | old     |
      | apply.before-commit-point | old     |
      | apply.after-commit-point  | applied |

  Scenario Outline: An apply sent <signal> while it moves the files lets go of the index lock and puts everything back
    Given a repository with 60 files and a plan "big" that changes, adds and deletes 60 of them
    When a real "git plan apply big" is sent <signal> at "<point>"
    Then it ended with exit code <code>
    And no index.lock is left
    And HEAD, index and worktree are the old ones
    And git status is clean

    Examples:
      | signal  | point                  | code |
      | SIGTERM | worktree.index-moved   | 143  |
      | SIGHUP  | worktree.paths-checked | 129  |

  Scenario: A cancel of a plan whose apply was killed halfway refuses until recover has put the files back
    Given a repository with 60 files and a plan "big" that changes, adds and deletes 60 of them
    When a real "git plan apply big" is killed at "worktree.index-moved"
    And I run git plan "cancel big"
    Then the exit code is 1
    And the output contains "run `git plan recover` first"
    And the output contains "nothing was cancelled"
    When I run git plan "recover"
    Then the exit code is 0
    And HEAD, index and worktree are the old ones
    When I run git plan "cancel big"
    Then the exit code is 0
    And git status is clean
    And git fsck --full is clean

  Scenario Outline: An apply killed while it held the lock of <ref>: recover removes that lock and rolls back
    # libgit2 takes the lock inside one call: the kill lands just before it, and the lock
    # file is left as a kill inside that call leaves it.
    Given a repository with files
      | path      | content  |
      | README.md | hello\n  |
    And a plan "p"
    And I record in "p" with tool "edit"
      | path      | content  |
      | README.md | edited\n |
    And HEAD is <head>
    When a real "git plan apply p" is killed at "apply.before-commit-point"
    And the dead apply's lock on "<ref>" is left behind
    And I run git plan "recover"
    Then the exit code is 0
    And the output contains "rolled back"
    And no lock file is left on "<ref>"
    And git status is clean
    And the user can commit with git

    Examples:
      | ref             | head             |
      | refs/heads/main | on main          |
      | HEAD            | detached at main |

  Scenario: A branch-mode apply killed while it held the new branch's lock: recover removes the lock, the apply runs again
    Given a repository with files
      | path      | content  |
      | README.md | hello\n  |
    And a plan "p"
    And I record in "p" with tool "edit"
      | path      | content  |
      | README.md | edited\n |
    When a real "git plan apply p --mode branch review" is killed at "apply.before-commit-point"
    And the dead apply's lock on "refs/heads/review" is left behind
    And I run git plan "recover"
    Then the exit code is 0
    And the output contains "rolled back"
    And no lock file is left on "refs/heads/review"
    When I run git plan "apply p --mode branch review"
    Then the exit code is 0
    And branch "review" has the plan's tip tree
    And git status is clean

  Scenario: A branch-mode apply killed after it made the branch, which the user then built on: recover marks the plan applied
    Given a repository with files
      | path      | content  |
      | README.md | hello\n  |
    And a plan "p"
    And I record in "p" with tool "edit"
      | path      | content  |
      | README.md | edited\n |
    When a real "git plan apply p --mode branch review" is killed at "apply.after-commit-point"
    And the user commits on branch "review"
    And I run git plan "recover"
    Then the exit code is 0
    And the output contains "finished"
    And the status of "p" says it is applied

  Scenario: A branch-mode apply killed before it made the branch, whose commit git then pruned: recover rolls back
    Given a repository with files
      | path      | content  |
      | README.md | hello\n  |
    And a plan "p"
    And I record in "p" with tool "edit"
      | path      | content  |
      | README.md | edited\n |
    When a real "git plan apply p --mode branch review" is killed at "apply.before-commit-point"
    And the user makes branch "review" from main and prunes everything unreachable
    And I run git plan "recover"
    Then the exit code is 0
    And the output contains "rolled back"
    And plan "p" has 1 changesets

  Scenario: A branch-mode apply killed after it made the branch: recover marks the plan applied
    Given a repository with files
      | path      | content  |
      | README.md | hello\n  |
    And a plan "p"
    And I record in "p" with tool "edit"
      | path      | content  |
      | README.md | edited\n |
    When a real "git plan apply p --mode branch review" is killed at "apply.after-commit-point"
    And I run git plan "recover"
    Then the exit code is 0
    And the output contains "finished"
    And the status of "p" says it is applied
    And branch "review" has the plan's tip tree
    And git status is clean

  Scenario: A plan cancelled and made again after its apply was killed is not marked applied by recover
    Given a repository with files
      | path      | content  |
      | README.md | hello\n  |
    And a plan "p"
    And I record in "p" with tool "edit"
      | path      | content  |
      | README.md | edited\n |
    When a real "git plan apply p --mode branch review" is killed at "apply.after-commit-point"
    And I run git plan "cancel p"
    And I run git plan "create p --title again"
    And I run git plan "recover"
    Then the exit code is 0
    And the output contains "finished"
    When I run git plan "status p"
    Then the output contains "state:      open"
    And git fsck --full is clean

  Scenario: An apply killed in a linked worktree keeps another worktree from applying the plan again until recover runs there
    Given a repository with files
      | path      | content  |
      | README.md | hello\n  |
    And a linked worktree of the repository
    And a plan "p"
    And I record in "p" with tool "edit"
      | path      | content  |
      | README.md | edited\n |
    When a real "git plan apply p" in the linked worktree is killed at "apply.after-commit-point"
    And I run git plan "apply p"
    Then the exit code is 1
    And the output contains "was interrupted in the worktree"
    And the output contains "linked: run `git plan recover` there first"
    And HEAD is still the base of "p"
    When I run git plan "status p --check"
    Then the output contains "apply would be refused: an apply of it was interrupted in the worktree"
    When I run git plan "apply p --check --json"
    Then the output contains ""refusal": "in-progress""
    When I run git plan "recover" in the linked worktree
    Then the output contains "finished"
    When I run git plan "apply p"
    Then the exit code is 2
    And the output contains "already applied"
    And HEAD is still the base of "p"

  Scenario: A cancel waits for recover in the linked worktree where an apply of the plan was killed writing files
    Given a repository with files
      | path      | content  |
      | README.md | hello\n  |
    And a linked worktree of the repository
    And a plan "p"
    And I record in "p" with tool "edit"
      | path      | content  |
      | README.md | edited\n |
    When a real "git plan apply p" in the linked worktree is killed at "worktree.index-moved"
    And I run git plan "cancel p"
    Then the exit code is 1
    And the output contains "was interrupted in the worktree"
    And the output contains "linked and has written part of its files: run `git plan recover` there first"
    When I run git plan "recover" in the linked worktree
    Then the output contains "rolled back"
    When I run git plan "cancel p"
    Then the exit code is 0
    And git fsck --full is clean

  Scenario: An apply rolled back after a kill leaves a file the user had deleted deleted
    Given a repository with files
      | path      | content  |
      | README.md | hello\n  |
      | gone.txt  | gone\n   |
    And a plan "p"
    And I record in "p" with tool "edit"
      | path      | content  |
      | README.md | edited\n |
      | gone.txt  | <delete> |
    And the user removes "gone.txt" from the worktree
    When a real "git plan apply p" is killed at "apply.before-commit-point"
    And I run git plan "recover"
    Then the exit code is 0
    And the output contains "rolled back"
    And the worktree has no "gone.txt"
    And the worktree file "README.md" is "hello\n"
    And git "status --short" prints " D gone.txt"

  Scenario: Two applies that both find a killed apply to recover take turns: one recovers, neither waits for good
    Given a repository with files
      | path      | content  |
      | README.md | hello\n  |
    And a plan "p"
    And I record in "p" with tool "edit"
      | path      | content  |
      | README.md | edited\n |
    When two "git plan apply p" start while an apply killed at "apply.after-commit-point" awaits recovery
    Then both applies say "already applied" with exit code 2
    And the status of "p" says it is applied
    And git "rev-list --count HEAD" prints "2"
