Feature: Recording changesets as commits on a hidden ref with invocation notes

  Background:
    Given a repository with files
      | path       | content            |
      | README.md  | hello\n            |
      | src/app.py | print(1)\n         |
    And a plan "p1"
    And I remember the user's state

  Scenario: A plan exists with zero changesets as soon as it is created
    Then plan "p1" has 0 changesets
    And git log of "refs/changesets/p1" shows a root commit "plan p1: title of p1" on HEAD
    And the plan record note of "p1" has state "open"

  Scenario: Round trip of one changeset through git
    When I record in "p1" with tool "write_file"
      | path        | content       |
      | src/app.py  | print(2)\n    |
      | docs/new.md | new doc\n     |
      | README.md   | <delete>      |
    Then it succeeds
    And plan "p1" has 1 changesets
    And the tip of "p1" holds "src/app.py" as "print(2)\n"
    And the tip of "p1" has no "README.md"
    And git notes show for changeset 1 of "p1" has tool "write_file" and 3 files
    And git log --notes shows "write_file" for "p1"
    And the user's state is unchanged
    And git fsck --full is clean

  Scenario: Each changeset is one commit whose parent is the previous one
    When I record in "p1" with tool "a"
      | path | content |
      | x    | 1\n     |
    And I record in "p1" with tool "b"
      | path | content |
      | x    | 2\n     |
    And I record in "p1" with tool "c"
      | path | content |
      | y    | 3\n     |
    Then plan "p1" has 3 changesets
    And the changesets of "p1" are numbered 1 to 3 with tools "a,b,c"
    And git shows 4 commits on "refs/changesets/p1"
    And the user's state is unchanged

  Scenario: Recording with a parent that is behind the tip merges untouched paths
    When I record in "p1" with tool "a"
      | path | content |
      | x    | 1\n     |
    And I record in "p1" from changeset 0 with tool "b"
      | path | content |
      | y    | 2\n     |
    Then it succeeds
    And the tip of "p1" holds "x" as "1\n"
    And the tip of "p1" holds "y" as "2\n"

  Scenario: Executable files and symlinks keep their modes
    When I record files with modes in "p1"
    Then git ls-tree of the tip of "p1" shows mode "100755" for "run.sh"
    And git ls-tree of the tip of "p1" shows mode "120000" for "link"

  Scenario: New contents keep a file's executable bit, as cp onto it would; a new file is 100644
    Given I record files with modes in "p1"
    When I record in "p1" with tool "edit"
      | path   | content               |
      | run.sh | #!/bin/sh\necho bye\n |
      | new.sh | #!/bin/sh\n           |
    Then git ls-tree of the tip of "p1" shows mode "100755" for "run.sh"
    And git ls-tree of the tip of "p1" shows mode "100644" for "new.sh"
    Given the user sets the repository up with:
      """
      printf 'echo plain\n' > ../plain.txt
      printf 'echo exec\n' > ../exec.txt
      chmod +x ../exec.txt
      """
    When I run git plan "record p1 --tool set --set run.sh={tmp}/plain.txt --set made.sh={tmp}/exec.txt --set src/app.py={tmp}/exec.txt"
    Then the exit code is 0
    And git ls-tree of the tip of "p1" shows mode "100755" for "run.sh"
    And git ls-tree of the tip of "p1" shows mode "100755" for "made.sh"
    And git ls-tree of the tip of "p1" shows mode "100755" for "src/app.py"
    When I run git plan "record p1 --tool set --set new.sh=- --set fresh.txt={tmp}/plain.txt" with "echo stdin\n" on standard input
    Then the exit code is 0
    And git ls-tree of the tip of "p1" shows mode "100644" for "new.sh"
    And git ls-tree of the tip of "p1" shows mode "100644" for "fresh.txt"
    When I run git plan "record p1 --tool set --set run.sh=-" with "echo again\n" on standard input
    Then git ls-tree of the tip of "p1" shows mode "100755" for "run.sh"

  Scenario: A file is executable by its owner's execute bit, as git add reads it, whoever records it (root may run any file)
    Given the user sets the repository up with:
      """
      printf 'g\n' > ../group-x.txt && chmod 654 ../group-x.txt
      printf 'o\n' > ../owner-x.txt && chmod 744 ../owner-x.txt
      """
    When I run git plan "record p1 --tool set --set g.sh={tmp}/group-x.txt --set o.sh={tmp}/owner-x.txt"
    Then the exit code is 0
    And git ls-tree of the tip of "p1" shows mode "100644" for "g.sh"
    And git ls-tree of the tip of "p1" shows mode "100755" for "o.sh"

  Scenario: With core.symlinks false, a symlink checked out as a file stays a symlink when the file is edited, as git add keeps it
    Given the user sets the repository up with:
      """
      ln -s README.md link && git add link && git commit -q -m link
      git config core.symlinks false
      rm link && git checkout link
      printf 'src/app.py' > link
      """
    When I run git plan "record p1 --tool w --from-worktree"
    Then the exit code is 0
    And git ls-tree of the tip of "p1" shows mode "120000" for "link"

  Scenario: --from-worktree names what it cannot record: a pattern that is no file, a FIFO
    Given the user sets the repository up with:
      """
      mkfifo pipe
      """
    When I run git plan "record p1 --tool w --from-worktree *.txt"
    Then the exit code is 2
    And the output contains "*.txt: no such file; --from-worktree takes paths (files or directories), not patterns"
    When I run git plan "record p1 --tool w --from-worktree pipe"
    Then the exit code is 2
    And the output contains "pipe: can only record regular files and symbolic links, as git add"
    Given the user sets the repository up with:
      """
      printf 'page\n' > '[id].tsx' && git add '[id].tsx' && git commit -q -m page && rm '[id].tsx'
      """
    When I run git plan "create p2"
    And I run git plan "record p2 --tool w --from-worktree [id].tsx"
    Then the exit code is 0
    And the output contains "deleted [id].tsx"

  Scenario Outline: --from-worktree does not take a named file's changes that <bit> hides from git add (a local setting): it refuses it
    Given the user sets the repository up with:
      """
      git update-index --<bit> README.md
      printf 'token=local\n' > README.md
      """
    When I run git plan "record p1 --tool w --from-worktree README.md"
    Then the exit code is 2
    And the output contains "README.md (<bit>): the index hides its changes from git status and git add"
    And plan "p1" has 0 changesets

    Examples:
      | bit              |
      | assume-unchanged |
      | skip-worktree    |

  Scenario: With core.fileMode false, record --from-worktree takes no executable bit from the disk, as git add
    Given the user sets the repository up with:
      """
      git config core.fileMode false
      printf 'x\n' > new.sh && chmod +x new.sh
      printf 'changed\n' >> src/app.py && chmod +x src/app.py
      """
    When I run git plan "record p1 --tool w --from-worktree new.sh src/app.py"
    Then the exit code is 0
    And git ls-tree of the tip of "p1" shows mode "100644" for "new.sh"
    And git ls-tree of the tip of "p1" shows mode "100644" for "src/app.py"
    Given the user sets the repository up with:
      """
      printf 'x\n' > ../exec.txt && chmod +x ../exec.txt
      """
    When I run git plan "record p1 --tool w --set made.sh={tmp}/exec.txt --set README.md={tmp}/exec.txt"
    Then the exit code is 0
    And git ls-tree of the tip of "p1" shows mode "100644" for "made.sh"
    And git ls-tree of the tip of "p1" shows mode "100644" for "README.md"

  Scenario: Recording the worktree again records what changed since, not what the plan already holds
    Given a file "x.txt" outside the repository with content "x\n"
    And the user sets the repository up with:
      """
      rm README.md
      """
    When I run git plan "record p1 --tool w --from-worktree"
    Then the exit code is 0
    And the tip of "p1" has no "README.md"
    When the user sets the repository up with:
      """
      printf 'print(2)\n' > src/app.py
      """
    And I run git plan "record p1 --tool w --from-worktree"
    Then the exit code is 0
    And the output contains "recorded changeset 2 of plan p1: "
    And the output contains "modified src/app.py"
    And the tip of "p1" holds "src/app.py" as "print(2)\n"
    When I run git plan "record p1 --tool w --from-worktree"
    Then the exit code is 0
    And the output contains "recorded changeset 3 of plan p1: "
    And the output contains "w: no file changes"
    When I run git plan "record p1 --tool w --from-worktree src"
    Then the exit code is 0
    And the output contains "w: no file changes"
    When I run git plan "record p1 --tool w --from-worktree README.md --set new.txt={tmp}/x.txt"
    Then the exit code is 0
    And the output contains "added new.txt"
    # A mistyped path is neither HEAD's nor the plan's: refused, as git add refuses it
    When I run git plan "record p1 --tool w --from-worktree nosuch.txt"
    Then the exit code is 2
    And the output contains "cannot delete 'nosuch.txt'"

  Scenario: Only the changed paths get new trees
    When I record in "p1" with tool "write_file"
      | path       | content    |
      | src/app.py | print(3)\n |
    Then the tree of "README.md"'s directory is shared: the tip of "p1" reuses the base blob for "README.md"

  Scenario: Recording into a plan that does not exist is not found
    When I record in "nope" with tool "a"
      | path | content |
      | x    | 1\n     |
    Then it fails with exit code 3

  Scenario: A move is recorded as a rename in the invocation record
    When I record in "p1" with tool "mv"
      | path        | content    |
      | src/app.py  | <delete>   |
      | src/main.py | print(1)\n |
    Then it succeeds
    And git notes show for changeset 1 of "p1" records "src/main.py" renamed from "src/app.py"

  Scenario: A patch that moves a submodule's commit is refused as a submodule, not as a damaged repository
    Given the base commit has a submodule entry "vendor/lib"
    And a plan "sub"
    And a file "sm.patch" outside the repository with content "diff --git a/vendor/lib b/vendor/lib\nindex 1111111..2222222 160000\n--- a/vendor/lib\n+++ b/vendor/lib\n@@ -1 +1 @@\n-Subproject commit 1111111111111111111111111111111111111111\n+Subproject commit 2222222222222222222222222222222222222222\n"
    When I run git plan "record sub --tool t --patch {tmp}/sm.patch"
    Then the exit code is 2
    And the output contains "vendor/lib is a submodule; plans carry files, not submodule commits"

  Scenario: A patch that adds a submodule (git diff of a `git submodule add`) is refused as a submodule too
    Given a plan "sub"
    And a file "sm.patch" outside the repository with content "diff --git a/vendor/new b/vendor/new\nnew file mode 160000\nindex 0000000..2222222\n--- /dev/null\n+++ b/vendor/new\n@@ -0,0 +1 @@\n+Subproject commit 2222222222222222222222222222222222222222\n"
    When I run git plan "record sub --tool t --patch {tmp}/sm.patch"
    Then the exit code is 2
    And the output contains "vendor/new is a submodule; plans carry files, not submodule commits"
    And plan "sub" has 0 changesets
    When I run git plan "record sub --tool t --patch {tmp}/sm.patch --json"
    Then the JSON error names the paths "vendor/new"
    Given a file "over.patch" outside the repository with content "diff --git a/README.md b/README.md\nnew file mode 160000\nindex 0000000..2222222\n--- /dev/null\n+++ b/README.md\n@@ -0,0 +1 @@\n+Subproject commit 2222222222222222222222222222222222222222\n"
    When I run git plan "record sub --tool t --patch {tmp}/over.patch"
    Then the exit code is 2
    And the output contains "README.md is a submodule; plans carry files, not submodule commits"

  Scenario: Deleting a submodule entry of the base is recorded, counted as git counts it
    Given the base commit has a submodule entry "vendor/lib"
    And a plan "sub"
    When I record in "sub" with tool "rm"
      | path       | content  |
      | vendor/lib | <delete> |
    Then it succeeds
    And the record of the last changeset of "sub" says "vendor/lib" was deleted with 1 deletion

  Scenario: A changed file whose name and id also appear inside another entry's name changes only itself
    # The tree entry "100644 b\0<id>" is also a part of the entry of "a 100644 b" when
    # both files hold the same bytes.
    When I record in "p1" with tool "write"
      | path        | content |
      | a 100644 b  | same\n  |
      | b           | same\n  |
    And I record in "p1" with tool "write"
      | path | content |
      | b    | other\n |
    Then git show "refs/changesets/p1:b" prints "other\n"
    And git show "refs/changesets/p1:a 100644 b" prints "same\n"
    And git fsck --full is clean

  Scenario: Recording a symlink that leads out of the worktree warns that apply will refuse the plan
    Given the user sets the repository up with:
      """
      ln -s ../../outside evil
      """
    When I run git plan "record p1 --tool t --from-worktree evil"
    Then the output contains "warning: symlink 'evil' -> '../../outside' points outside the worktree: apply will refuse this plan"
    And the output contains "recorded changeset 1 of plan p1"
    And git "ls-tree refs/changesets/p1 evil" prints "120000"
    When the user sets the repository up with:
      """
      ln -s /etc/hostname also-evil
      """
    And I run git plan "snapshot p1 --tool t"
    Then the output contains "warning: symlink 'also-evil' -> '/etc/hostname' points outside the worktree"

  Scenario: A clean filter runs once for each file recorded from the worktree, as git add runs it
    Given the user sets the repository up with:
      """
      git config filter.counted.clean 'echo ran >> "$(git rev-parse --git-dir)/filter-runs"; tr a-z A-Z'
      echo '*.up filter=counted' > .gitattributes && git add .gitattributes && git commit -qm attributes
      echo hello > one.up && echo plain > plain.txt
      """
    When I run git plan "record p1 --tool t --from-worktree one.up plain.txt"
    Then the output contains "recorded changeset 1 of plan p1"
    And git "show refs/changesets/p1:one.up" prints "HELLO"
    And git "show refs/changesets/p1:plain.txt" prints "plain"
    And the file ".git/filter-runs" in the repository has 1 line

