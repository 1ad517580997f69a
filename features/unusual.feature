Feature: Unusual repositories get a one-line answer that says what to do

  Scenario: A read-only .git: reading works, writing says why it cannot
    Given a repository with files
      | path      | content |
      | README.md | one\n   |
    And a plan "p"
    When I run git plan "status p" with .git mounted read-only
    Then the exit code is 0
    When I run git plan "create q" with .git mounted read-only
    Then the exit code is 1
    And the output contains "cannot write"
    And the output contains "(read-only)"
    And the output does not contain "internal error"
    When I run git plan "record p --tool t --set a.txt=/etc/hostname" with .git mounted read-only
    Then the exit code is 1
    And the output contains "reading commands (list, status, diff, log) still work"

  Scenario: A SHA-256 repository is refused in one line
    Given a SHA-256 repository with one commit
    When I run git plan "list"
    Then the exit code is 2
    And the output contains "uses SHA-256 object ids"
    And the output does not contain "damaged"

  Scenario: A reftable repository is refused in one line
    Given an empty repository with one commit
    And the repository says it uses reftable refs
    When I run git plan "list"
    Then the exit code is 2
    And the output contains "git refs migrate --ref-format=files"

  Scenario: Apply with user.email but no user.name commits as git would, with the account's name
    Given a repository with files
      | path      | content |
      | README.md | one\n   |
    And a plan "p"
    And I record in "p" with tool "edit"
      | path      | content   |
      | README.md | one two\n |
    And only user.email is configured, as "e@example.com"
    When I run the git-plan program with "apply p"
    Then the exit code is 0
    And HEAD's author is who git var names, with the email "e@example.com"

  Scenario: Apply without user.name says how to set it, and writes nothing
    Given a repository with files
      | path      | content |
      | README.md | one\n   |
    And a plan "p"
    And I record in "p" with tool "edit"
      | path      | content   |
      | README.md | one two\n |
    And nobody is configured as the git user
    And I remember the user's state
    When I run the git-plan program with "apply p --check"
    Then the exit code is 2
    And the output contains "(user.name and user.email are not set)"
    Given only the committer is named, by GIT_COMMITTER_NAME "C" and GIT_COMMITTER_EMAIL "c@example.com"
    When I run the git-plan program with "apply p --check"
    Then the exit code is 2
    And the output contains "git does not know who you are"
    When I run the git-plan program with "apply p"
    Then the exit code is 2
    And the output contains "git config --global user.name"
    And the user's state is unchanged
    And plan "p" has 1 changesets
    When I run the git-plan program with "apply p --mode worktree"
    Then the exit code is 0
    When I run the git-plan program with "apply p"
    Then the exit code is 2
    And the output contains "plan 'p' is already applied (to the working tree)"

  Scenario: Apply takes the user's identity from the environment, as git does
    Given a repository with files
      | path      | content |
      | README.md | one\n   |
    And a plan "p"
    And I record in "p" with tool "edit"
      | path      | content   |
      | README.md | one two\n |
    And nobody is configured as the git user
    And GIT_AUTHOR_NAME is "Env Author" and GIT_AUTHOR_EMAIL is "env@example.com"
    When I run the git-plan program with "apply p"
    Then the exit code is 0
    And git "log -1 '--format=%an <%ae>'" prints "Env Author <env@example.com>"

  Scenario: A plan for a project's first commit, in a repository with no commit yet
    Given a repository with no commit yet
    When I run git plan "create first --title 'Start the project'"
    Then the exit code is 0
    When I run git plan "record first --tool scaffold --set README.md={tmp}/readme"
    Then the exit code is 0
    When I run git plan "diff first --stat"
    Then the output contains "README.md | 1 +"
    When I run git plan "status first --check --json"
    Then the exit code is 0
    When I run git plan "list"
    Then the output contains "first"
    When I run git plan "apply first"
    Then the exit code is 0
    And git "log --format=%s main" prints "Start the project"
    And git "rev-list --count main" prints "1"
    And git status is clean
    And git fsck --full is clean

  Scenario: A first-commit plan can be cancelled and leaves nothing behind
    Given a repository with no commit yet
    When I run git plan "create first"
    And I run git plan "record first --tool scaffold --set README.md={tmp}/readme"
    And I run git plan "cancel first"
    Then the exit code is 0
    And ref "refs/changesets/first" does not exist
    And git fsck --full is clean

  Scenario: An unborn branch that someone else creates while apply runs: refused, nothing committed
    Given a repository with no commit yet
    And a plan "first" made in it with a README
    And someone creates branch "main" from another commit just before apply's commit point
    When I apply "first"
    Then it fails with exit code 4
    And the error mentions "was created while applying"

  Scenario: Submodules: their files are refused with a clear answer, their entry can be deleted and applied
    Given a repository with a submodule "vendor/lib" whose checkout has uncommitted changes
    And a plan "p"
    When I run git plan "record p --tool t --from-worktree"
    Then the exit code is 2
    And the output contains "no file changes to record; submodules moved or changed (vendor/lib)"
    When I run git plan "record p --tool t --from-worktree ."
    Then the exit code is 2
    And the output contains "submodules moved or changed (vendor/lib), and plans carry files, not submodule commits"
    When I run git plan "record p --tool t --from-worktree vendor/lib/l.txt"
    Then the exit code is 2
    And the output contains "vendor/lib/l.txt is in submodule 'vendor/lib'"
    When I run git plan "record p --tool t --set vendor/lib/new.txt={tmp}/readme"
    Then the exit code is 2
    And the output contains "it is a submodule in the plan"
    When I run git plan "record p --tool t --from-worktree vendor/lib"
    Then the exit code is 2
    And the output contains "vendor/lib is a submodule"
    When I run git plan "record p --tool rm --delete vendor/lib"
    Then the exit code is 0
    When I run git plan "apply p --check"
    Then the exit code is 4
    And the output contains "vendor/lib (uncommitted changes)"

  Scenario: A plan that deletes a submodule entry applies as git read-tree moves it: the entry goes, the checkout stays
    Given a repository with a submodule "vendor/lib"
    And a plan "p"
    When I run git plan "record p --tool rm --delete vendor/lib"
    And I run git plan "apply p --mode worktree"
    Then the exit code is 0
    And git "diff --cached --name-status HEAD" prints "D\tvendor/lib"
    And the worktree file "vendor/lib/l.txt" holds "lib\n"

  Scenario: A plan that puts a file where a submodule with uncommitted work is checked out is refused by apply as by --check, and the work stays
    Given a repository with a submodule "vendor/lib" whose checkout has uncommitted changes
    And a plan "p"
    And a file "lib-file" outside the repository with content "now a file\n"
    When I run git plan "record p --tool rm --delete vendor/lib"
    And I run git plan "record p --tool w --set vendor/lib={tmp}/lib-file"
    And I run git plan "apply p --check"
    Then the exit code is 4
    When I run git plan "apply p --keep-on-failure"
    Then the exit code is 4
    And the output contains "vendor/lib (uncommitted changes)"
    And the worktree file "vendor/lib/l.txt" holds "lib\ndirty\n"
