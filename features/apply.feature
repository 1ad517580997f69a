Feature: Apply is all or nothing

  Background:
    Given a repository with files
      | path      | content                         |
      | README.md | one\ntwo\nthree\nfour\nfive\n   |
      | keep.txt  | keep\n                          |
      | gone/only | to be deleted\n                 |
    And a plan "p"
    And I record in "p" with tool "edit"
      | path      | content                          |
      | README.md | one\ntwo\nthree\nfour\nFIVE\n    |
      | new.txt   | new\n                            |
      | gone/only | <delete>                         |

  Scenario: Fast path commit when HEAD is the base
    When I apply "p"
    Then it succeeds
    And HEAD is a new commit whose tree is the plan's tip tree
    And git status is clean
    And the plan "p" is marked applied
    And git fsck --full is clean

  Scenario: A plan recorded here applies whatever its sizes: the plan.verify size limits are for plans that arrive by fetch
    Given git config "plan.verify.maxFileSize" is "100"
    And git config "plan.verify.maxNoteSize" is "100"
    And a plan "big"
    And I record in "big" with tool "write_file"
      | path    | content     |
      | big.txt | <200 bytes> |
    When I run git plan "status big"
    Then the exit code is 0
    And the output does not contain "unsafe"
    When I run git plan "apply big --mode worktree"
    Then the exit code is 0
    And git fsck --full is clean

  Scenario: An ignored file where the plan needs a directory is refused by apply as by --check, and stays
    Given the user commits ".gitignore" with content "*.log\n" on main
    And a plan "d"
    And I record in "d" with tool "write"
      | path      | content |
      | t.log/g   | g\n     |
    And the user edits "t.log" to "precious\n" without committing
    When I run git plan "apply d --check"
    Then the exit code is 4
    And the output contains "t.log (untracked file in the way)"
    When I run git plan "apply d --keep-on-failure"
    Then the exit code is 4
    And the output contains "t.log (untracked file in the way)"
    And the worktree file "t.log" holds "precious\n"

  Scenario Outline: A file whose changes on disk <bit> hides from git status is refused by both checks as by apply, and stays
    Given the user marks "README.md" with git update-index --<bit> and writes "local\n" into it
    When I run git plan "apply p --check"
    Then the exit code is 4
    And the output contains "README.md (changes on disk that <bit> hides from git status)"
    When I run git plan "status p --check"
    Then the output contains "apply would be refused: uncommitted changes in README.md"
    When I run git plan "apply p --keep-on-failure"
    Then the exit code is 4
    And the output contains "README.md (changes on disk that <bit> hides from git status)"
    And the worktree file "README.md" holds "local\n"

    Examples:
      | bit              |
      | assume-unchanged |
      | skip-worktree    |

  Scenario: An untracked file in a directory the plan makes a file is refused by apply as by --check, and stays
    Given the user commits "d/x" with content "x\n" on main
    And a plan "df"
    And I record in "df" with tool "write"
      | path | content  |
      | d/x  | <delete> |
      | d    | file\n   |
    And the user edits "d/mine.txt" to "mine\n" without committing
    When I run git plan "apply df --check"
    Then the exit code is 4
    And the output contains "d/mine.txt (untracked file in the way)"
    When I run git plan "apply df --keep-on-failure"
    Then the exit code is 4
    And the output contains "d/mine.txt (untracked file in the way)"
    And the worktree file "d/mine.txt" holds "mine\n"

  Scenario: A file whose stat data alone changed (same bytes) does not stop apply
    Given the user rewrites "README.md" with the same bytes, so that only its stat data changed
    When I apply "p"
    Then it succeeds
    And the worktree file "README.md" is "one\ntwo\nthree\nfour\nFIVE\n"
    And git status is clean

  Scenario: status --check and apply --check read the worktree without rewriting the index
    Given the user rewrites "README.md" with the same bytes, so that only its stat data changed
    When I run git plan "status p --check"
    Then the exit code is 0
    When I run git plan "apply p --check"
    Then the exit code is 0
    And the index file is byte for byte as it was

  Scenario: 3-way merge when HEAD moved with non-overlapping edits
    Given the user commits "README.md" with content "ONE\ntwo\nthree\nfour\nfive\n" on main
    When I apply "p"
    Then it succeeds
    And the worktree file "README.md" is "ONE\ntwo\nthree\nfour\nFIVE\n"
    And git status is clean

  Scenario: Paths both sides changed whose merge is a program of the user's (merge attribute, merge.<driver>.driver) are refused, not merged as text
    Given git config "merge.keepmine.driver" is "true"
    And the user commits ".gitattributes" with content "README.md merge=keepmine\n" on main
    And the user commits "README.md" with content "ONE\ntwo\nthree\nfour\nfive\n" on main
    And I remember the user's state
    When I apply "p" keeping it on failure
    Then it fails with exit code 4
    And the error mentions "merge is a program of yours"
    And the error mentions "README.md"
    And the user's state is unchanged

  Scenario: A merge attribute naming a driver the config does not define merges as text, as git does
    Given the user commits ".gitattributes" with content "README.md merge=undefined\n" on main
    And the user commits "README.md" with content "ONE\ntwo\nthree\nfour\nfive\n" on main
    When I apply "p"
    Then it succeeds
    And the worktree file "README.md" is "ONE\ntwo\nthree\nfour\nFIVE\n"

  Scenario: With commit.gpgSign set, apply signs its commit with git's signing program, and fails before writing when that fails
    Given git config "commit.gpgSign" is "true"
    And git config "user.signingKey" is "plan-key"
    And git signs with a program that fails
    And I remember the user's state
    When I apply "p"
    Then it fails with exit code 1
    And the error mentions "failed to sign"
    And the user's state is unchanged
    And plan "p" has 1 changesets
    Given git signs with a program that signs
    When I apply "p"
    Then it succeeds
    And HEAD is a new commit whose tree is the plan's tip tree
    And git "cat-file -p HEAD" prints a line starting "gpgsig -----BEGIN PGP SIGNATURE-----"
    And git fsck --full is clean

  Scenario: A signed apply in a repository whose path holds a colon
    Given the repository is moved into a directory whose name holds a colon
    And git config "commit.gpgSign" is "true"
    And git signs with a program that signs
    When I apply "p"
    Then it succeeds
    And git "cat-file -p HEAD" prints a line starting "gpgsig -----BEGIN PGP SIGNATURE-----"
    And git fsck --full is clean

  Scenario: An apply as a branch, with nothing to commit, interrupted just after its commit point stands
    Given the user commits the plan's tip of "p" by hand as "manual"
    And the apply is interrupted (KeyboardInterrupt) just after its commit point
    When I apply "p" as branch "b", catching the interrupt
    Then the interrupt reached the caller
    When I run git plan "recover"
    Then the output contains "finished the interrupted apply of plan p"
    And the plan "p" is marked applied

  Scenario: A replayed plan's commits, whose committer is gitplan, are signed with the user's own key, as git commit picks it
    Given git config "commit.gpgSign" is "true"
    And git signs with a program that signs
    And I record in "p" with tool "second"
      | path    | content |
      | two.txt | 2\n     |
    When I run git plan "apply p --replay"
    Then the exit code is 0
    And git "cat-file -p HEAD" prints a line starting "gpgsig -----BEGIN PGP SIGNATURE-----"
    And the signer was asked for the user's own key, never gitplan's

  Scenario: Overlapping edits conflict; nothing is written; the plan is cancelled; the patch is saved
    Given the user commits "README.md" with content "one\ntwo\nthree\nfour\nfive!\n" on main
    And I remember the user's state
    When I apply "p"
    Then it fails with exit code 4
    And the error mentions "README.md"
    And the user's state is unchanged
    And the rescue patch holds the plan's diff
    And ref "refs/changesets/p" does not exist

  Scenario: A file of the plan where HEAD added to the directory it replaces is a conflict, found by --check too
    Given a plan "q"
    And I record in "q" with tool "edit"
      | path      | content       |
      | gone/only | <delete>      |
      | gone      | now a file\n  |
    And the user commits "gone/other" with content "added on main\n" on main
    And I remember the user's state
    When I run git plan "apply q --check"
    Then the exit code is 4
    And the output contains "disagree on whether these paths are files or directories: gone"
    When I apply "q" keeping it on failure
    Then it fails with exit code 4
    And the error mentions "gone"
    And the user's state is unchanged

  Scenario: A file of the plan under a directory HEAD made a file is a conflict, not a lost file
    Given a plan "r"
    And I record in "r" with tool "edit"
      | path      | content    |
      | gone/new  | new\n      |
    And the user replaces the directory "gone" with a file on main
    And I remember the user's state
    When I run git plan "apply r --check"
    Then the exit code is 4
    And the output contains "gone"
    When I apply "r" keeping it on failure
    Then it fails with exit code 4
    And the error mentions "gone"
    And the user's state is unchanged

  Scenario: A conflict on a file an old git committed with mode 100664 is a conflict, and a refusal writes nothing
    Given an old git committed "keep.txt" with mode 100664
    And a plan "q"
    And I record in "q" with tool "edit"
      | path     | content     |
      | keep.txt | the plan\n  |
    And the user commits "keep.txt" with content "main\n" on main
    And I remember the user's state
    And I count the objects
    When I run git plan "apply q --check"
    Then the exit code is 4
    And the output contains "conflicts with changes made on HEAD since its base: keep.txt"
    When I run git plan "status q --check"
    Then the output contains "apply would conflict: yes: keep.txt"
    When I apply "q" keeping it on failure
    Then it fails with exit code 4
    And the error mentions "keep.txt"
    And the user's state is unchanged
    And no object was written

  Scenario: A check that merges the plan's and HEAD's edits of one file writes no object
    Given a plan "m"
    And I record in "m" with tool "edit"
      | path      | content                        |
      | README.md | ONE\ntwo\nthree\nfour\nfive\n |
    And the user commits "README.md" with content "one\ntwo\nthree\nfour\nfive\nsix\n" on main
    And I count the objects
    When I run git plan "apply m --check"
    Then the exit code is 0
    And the output contains "README.md"
    When I run git plan "status m --check"
    Then the output contains "apply would conflict: no"
    And no object was written
    When I apply "m"
    Then it succeeds
    And the worktree file "README.md" is "ONE\ntwo\nthree\nfour\nfive\nsix\n"
    And git fsck --full is clean

  Scenario: A directory the plan replaces by a file merges cleanly with other work on HEAD
    Given a plan "s"
    And I record in "s" with tool "edit"
      | path      | content       |
      | gone/only | <delete>      |
      | gone      | now a file\n  |
    And the user commits "keep.txt" with content "kept on main\n" on main
    When I apply "s"
    Then it succeeds
    And the worktree file "gone" is "now a file\n"
    And the worktree file "keep.txt" is "kept on main\n"
    And git status is clean

  Scenario: Keep on failure keeps the plan
    Given the user commits "README.md" with content "one\ntwo\nthree\nfour\nfive!\n" on main
    When I apply "p" keeping it on failure
    Then it fails with exit code 4
    And plan "p" has 1 changesets

  Scenario: Uncommitted changes in a path apply would write are refused
    Given the user edits "README.md" to "dirty\n" without committing
    And I remember the user's state
    When I apply "p" keeping it on failure
    Then it fails with exit code 4
    And the error mentions "uncommitted changes"
    And the user's state is unchanged

  Scenario Outline: An apply git refuses for uncommitted changes cancels the plan without a trace (commit.gpgSign <sign>)
    Given git config "commit.gpgSign" is "<sign>"
    And git signs with a program that signs
    And the user edits "README.md" to "dirty\n" without committing
    When I apply "p"
    Then it fails with exit code 4
    And the error mentions "uncommitted changes"
    And ref "refs/changesets/p" does not exist
    And the object store holds nothing unreachable

    Examples:
      | sign  |
      | false |
      | true  |

  Scenario: Staged changes are refused too
    Given the user stages "new.txt" with content "staged\n"
    When I apply "p" keeping it on failure
    Then it fails with exit code 4
    And the error mentions "staged"

  Scenario: Dirty files elsewhere do not block apply
    Given the user edits "keep.txt" to "local edit\n" without committing
    When I apply "p"
    Then it succeeds
    And the worktree file "keep.txt" is "local edit\n"

  Scenario: Check changes nothing
    Given I remember the user's state
    When I check applying "p"
    Then it succeeds
    And the user's state is unchanged
    And plan "p" has 1 changesets

  Scenario: Worktree mode leaves HEAD alone
    When I apply "p" in worktree mode
    Then it succeeds
    And HEAD is still the base of "p"
    And the worktree file "new.txt" is "new\n"

  Scenario: Branch mode creates a branch and touches nothing else
    Given I remember the user's state
    When I apply "p" as branch "result"
    Then it succeeds
    And the user's state is unchanged except branch "result"
    And branch "result" has the plan's tip tree
    And git "reflog show --format=%gs result" prints "plan apply: p"

  Scenario: Replay makes one commit per changeset authored by the actor
    Given I record in "p" with tool "second"
      | path | content |
      | z    | z\n     |
    When I replay "p"
    Then it succeeds
    And HEAD has 2 new commits authored by "agent"

  Scenario: A plan whose changes HEAD already has is applied without an empty commit, as git makes none
    Given a plan "again"
    And I record in "again" with tool "same"
      | path    | content |
      | new.txt | new\n   |
    And I record in "again" with tool "other"
      | path    | content |
      | two.txt | 2\n     |
    And the user commits the plan's tip of "p" by hand as "manual"
    When I apply "p"
    Then it succeeds
    And HEAD is still the commit "manual"
    And the plan "p" is marked applied
    Given a plan "empty"
    When I apply "empty"
    Then it succeeds
    And HEAD is still the commit "manual"
    When I replay "again"
    Then it succeeds
    And git "log --format=%s -n 2" prints "other: added two.txt\nmanual"

  Scenario: A plan whose changes HEAD already has, while the user reverts them: refused, not marked applied
    Given the user commits the plan's tip of "p" by hand as "manual"
    And the user reverts HEAD just before apply's commit point
    When I apply "p"
    Then it fails with exit code 4
    And the error mentions "moved while applying"
    And git "log --format=%s -n 1" prints "Revert \"manual\""
    And no apply journal is left

  Scenario: Applying twice is refused
    When I apply "p"
    And I apply "p"
    Then it fails with exit code 2
    And the error mentions "already applied"

  Scenario: An interrupted apply is rolled back by the next apply
    Given an apply of "p" was killed after writing the files but before the commit point
    When a writing git plan command runs
    Then git status is clean
    And HEAD is still the base of "p"

  Scenario: An apply killed after the commit point is finished by git plan recover
    Given an apply of "p" was killed after the commit point
    When I run git plan "recover"
    Then the output contains "finished the interrupted apply of plan p"
    And git status is clean
    And the plan "p" is marked applied, by a fast-forward

  Scenario: Reading commands never touch the user's files: they say a recovery is pending
    Given an apply of "p" was killed after writing the files but before the commit point
    And I remember the user's state
    When I run git plan "status p"
    And I run git plan "diff p"
    And I run git plan "list"
    Then the user's state is unchanged
    And the output contains "an interrupted apply of plan p is pending; run `git plan recover`"
    When I run git plan "apply p --check --json"
    Then the exit code is 4
    And the output contains ""refusal": "in-progress""
    And the output contains "an interrupted apply of plan 'p' awaits `git plan recover`"
    When I run git plan "status p --check"
    Then the output contains "apply would be refused: an interrupted apply awaits `git plan recover`"
    And the user's state is unchanged
    When I run git plan "recover --json"
    Then the output contains ""recovered": "rolled back""
    And git status is clean

  Scenario: Deleting the last file of a directory removes the directory from the worktree
    When I apply "p"
    Then it succeeds
    And the worktree has no "gone"
    And git status is clean

  Scenario: Applying onto a detached HEAD moves HEAD only
    Given HEAD is detached at main
    When I apply "p"
    Then it succeeds
    And HEAD is detached at a commit whose tree is the plan's tip tree
    And branch "main" did not move
    And git status is clean

  Scenario Outline: A path in the way is refused: <case>
    Given <setup>
    And I remember the user's state
    When I apply "p" keeping it on failure
    Then it fails with exit code 4
    And the error mentions "<reason>"
    And the user's state is unchanged

    Examples:
      | case                     | setup                                               | reason                       |
      | an untracked file        | the user edits "new.txt" to "mine\n" without committing | untracked file in the way |
      | a directory              | the user edits "new.txt/inside" to "x\n" without committing | a directory is in the way |
      | a file deleted by hand   | the user removes "README.md" from the worktree       | deleted in the worktree      |
      | a staged edit            | the user stages "README.md" with content "mine\n"    | staged changes               |
      | a staged new file        | the user stages "new.txt" with content "mine\n"      | staged changes               |

  Scenario Outline: A refusal by git read-tree leaves the user's work exactly as it was: <case>
    # Nothing on disk looks in the way, so git read-tree is what refuses; it writes nothing,
    # and nothing may be "put back" over the user's work.
    Given <setup>
    And I remember the user's state
    When I apply "p" keeping it on failure
    Then it fails with exit code 4
    And the error mentions "<reason>"
    And the user's state is unchanged

    Examples:
      | case                                     | setup                                                          | reason          |
      | a staged edit, the file then put back    | the user stages "README.md" with an edit, then puts the file back | staged changes  |
      | a file the plan deletes, untracked by hand | the user untracks "gone/only" with git rm --cached             | staged changes  |
      | an executable bit set by hand            | the user makes "README.md" executable                          | README.md       |

  Scenario Outline: A file the plan deletes, already deleted by hand, is no change in the way (<mode> mode)
    Given the user removes "gone/only" from the worktree
    When I run git plan "apply p --mode <mode>"
    Then the exit code is 0
    And the worktree has no "gone/only"
    And the index has no "gone/only"
    And git fsck --full is clean

    Examples:
      | mode     |
      | commit   |
      | worktree |

  Scenario: A changeset recorded after a failed apply saved its rescue keeps the plan: the clean-up never takes it
    Given the user edits "README.md" to "mine\n" without committing
    When I apply "p" while a writer records into it just after its rescue is saved
    Then it fails with exit code 4
    And the error mentions "plan 'p' was kept: changesets were recorded into it since the apply failed"
    And plan "p" has 2 changesets
    And git fsck --full is clean

  Scenario: An empty directory where the plan writes a file goes, as git checkout removes it
    Given the user makes a directory "new.txt/inside"
    When I apply "p"
    Then it succeeds
    And git status is clean

  Scenario: An untracked file where the plan needs a directory is named in the refusal, with the other paths in the way
    Given I record in "p" with tool "more"
      | path      | content |
      | sub/a.txt | a\n     |
      | sub/b.txt | b\n     |
    And the user edits "sub" to "mine\n" without committing
    And the user edits "new.txt" to "mine\n" without committing
    And I remember the user's state
    When I apply "p" keeping it on failure
    Then it fails with exit code 4
    And the error mentions "new.txt (untracked file in the way), sub (untracked file in the way)"
    And the user's state is unchanged

  Scenario: A symlinked directory that leads outside the worktree is refused
    Given I record in "p" with tool "more"
      | path        | content |
      | escape/file | x\n     |
    And the user makes "escape" a symlink to a directory outside the repository
    When I apply "p" keeping it on failure
    Then it fails with exit code 2
    And the error mentions "leads outside"
    And nothing was written outside the repository

  Scenario Outline: An apply interrupted while git writes the worktree stops git and puts everything back (<when>)
    Given <setup>
    And I remember the user's state
    And the apply is interrupted (KeyboardInterrupt) <when>
    When I apply "p" in worktree mode, catching the interrupt
    Then the interrupt reached the caller
    And the user's state is unchanged
    And no apply journal is left
    And no index.lock is left
    And git fsck --full is clean

    Examples:
      | when                            | setup                                                |
      | while git read-tree runs        | the user stages "other.txt" with content "staged\n" |
      | between the index and the files | nothing is staged                                    |
      | while git checks out the files  | nothing is staged                                    |

  Scenario: With nothing staged, apply writes the paths it changes alone, leaving the index as git read-tree would
    Given the user edits "keep.txt" to "mine\n" without committing
    And I watch for git read-tree
    When I apply "p" in worktree mode
    Then it succeeds
    And git read-tree did not run
    And the worktree file "keep.txt" is "mine\n"
    And the worktree file "README.md" is "one\ntwo\nthree\nfour\nFIVE\n"
    And the worktree file "new.txt" is "new\n"
    And the worktree has no "gone"
    And the index is the tree of plan "p"
    And git "diff-files --name-only" prints "keep.txt"
    And git "diff-files --name-only" does not print "README.md"
    And git "diff-files --name-only" does not print "new.txt"

  Scenario: A plan of hundreds of files (compared by git diff-tree) applies exactly its tree: edits, deletions, a new mode, a file made a symlink, a file made a directory, a name that is not UTF-8
    Given the user sets the repository up with:
      """
      mkdir many && for i in $(seq 1 230); do echo "$i" > many/f$i; done
      echo t > typed && echo d > many/later && git add -A && git commit -qm many
      """
    And a plan "big"
    And the user sets the repository up with:
      """
      for i in $(seq 1 220); do echo "changed $i" > many/f$i; done
      rm many/f230 && chmod +x many/f229 && rm typed && ln -s README.md typed
      rm many/later && mkdir many/later && echo in > many/later/inside && printf x > "$(printf 'many/caf\351')"
      git plan record big --tool t --from-worktree && git reset -q --hard && git clean -qfd
      """
    And I watch for git diff-tree
    And I watch for git read-tree
    When I apply "big" in worktree mode
    Then it succeeds
    And git diff-tree ran
    And git read-tree did not run
    And the index is the tree of plan "big"
    And git "diff-files --name-only" prints nothing
    And git "ls-files -s typed many/f229" prints "120000"
    And git "ls-files -s typed many/f229" prints "100755"

  Scenario Outline: Where writing path by path could leave what git read-tree would not, apply leaves the move to read-tree: <case>
    Given the user sets the repository up with:
      """
      <setup>
      """
    And I watch for git read-tree
    When I apply "p" in worktree mode
    Then it succeeds
    And git read-tree ran
    And the worktree file "README.md" is "one\ntwo\nthree\nfour\nFIVE\n"
    And git "diff --cached --name-only HEAD" prints "<staged>"

    Examples:
      | case                                 | setup                                           | staged                            |
      | a file staged elsewhere              | echo x > other.txt && git add other.txt        | README.md\ngone/only\nnew.txt\nother.txt |
      | a sparse checkout                    | git sparse-checkout set --no-cone '/*'          | README.md\ngone/only\nnew.txt      |
      | an entry with the skip-worktree bit  | git update-index --skip-worktree keep.txt       | README.md\ngone/only\nnew.txt      |
      | a split index                        | git update-index --split-index                  | README.md\ngone/only\nnew.txt      |
      | an index that is a symlink           | mv .git/index .git/real-index && ln -s real-index .git/index | README.md\ngone/only\nnew.txt |

  Scenario: A symlink the user put where the plan deletes a file in a directory: the file it reaches is the user's, and both checks and apply refuse
    Given the user sets the repository up with:
      """
      mkdir elsewhere && echo precious > elsewhere/only && rm -r gone && ln -s elsewhere gone
      """
    And I remember the user's state
    When I run git plan "apply p --check"
    Then the exit code is 4
    And the output contains "gone (a symlink where HEAD has a directory)"
    When I apply "p" keeping it on failure
    Then it fails with exit code 4
    And the error mentions "gone (a symlink where HEAD has a directory)"
    And the user's state is unchanged
    And the worktree file "elsewhere/only" holds "precious"

  Scenario: A symlink the user put where the plan deletes a file in a directory, leading where that file is not: the deletion is made, nothing through the symlink
    Given the user sets the repository up with:
      """
      mkdir elsewhere && echo mine > elsewhere/other && rm -r gone && ln -s elsewhere gone
      """
    When I apply "p" in worktree mode
    Then it succeeds
    And the index has no "gone/only"
    And the worktree file "elsewhere/other" holds "mine"
    And the worktree file "gone/other" holds "mine"

  Scenario: A directory the user made where the plan deletes a file is in the way, for both checks and apply
    Given the user sets the repository up with:
      """
      rm gone/only && mkdir gone/only && echo precious > gone/only/f
      """
    And I remember the user's state
    When I run git plan "status p --check"
    Then the output contains "apply would be refused: uncommitted changes in gone/only"
    When I run git plan "apply p --check"
    Then the exit code is 4
    And the output contains "gone/only (a directory is in the way)"
    When I apply "p" keeping it on failure
    Then it fails with exit code 4
    And the error mentions "gone/only (a directory is in the way)"
    And the user's state is unchanged

  Scenario: A plan that makes a tracked symlink a directory applies, as git checkout does, without writing through the symlink
    Given the user sets the repository up with:
      """
      mkdir real && echo x > real/x && ln -s real link && git add real link && git commit -q -m link
      printf 'new\n' > ../new-x
      """
    And a plan "q"
    When I run git plan "record q --tool t --delete link --set link/x={tmp}/new-x"
    And I run git plan "apply q --check"
    Then the exit code is 0
    When I apply "q" in worktree mode
    Then it succeeds
    And the worktree file "link/x" holds "new"
    And the worktree file "real/x" holds "x"

  Scenario: An apply interrupted just after its commit point stands, and git plan recover finishes it
    Given the apply is interrupted (KeyboardInterrupt) just after its commit point
    When I apply "p" in commit mode, catching the interrupt
    Then the interrupt reached the caller
    And HEAD is a new commit whose tree is the plan's tip tree
    And git status is clean
    When I run git plan "recover"
    Then the output contains "finished the interrupted apply of plan p"
    And the plan "p" is marked applied

  Scenario: A worktree-mode apply interrupted just after its commit point keeps the files it wrote
    Given the apply is interrupted (KeyboardInterrupt) just after its commit point
    When I apply "p" in worktree mode, catching the interrupt
    Then the interrupt reached the caller
    And the worktree file "new.txt" is "new\n"
    When I run git plan "recover"
    Then the output contains "finished the interrupted apply of plan p"
    And the plan "p" is marked applied

  Scenario: A symlink deeper in the path that leads outside the worktree is refused
    Given I record in "p" with tool "more"
      | path             | content |
      | deep/escape/file | x\n     |
    And the user makes "deep/escape" a symlink to a directory outside the repository
    When I apply "p" keeping it on failure
    Then it fails with exit code 2
    And the error mentions "leads outside"
    And nothing was written outside the repository

  Scenario: Each record here moves the plan's verified mark on, so apply reads none of its changesets again
    Given I record in "p" with tool "more"
      | path      | content |
      | more.txt  | more\n  |
    Then the verified mark of "p" names its tip and notes, with 3 notes
    When I apply "p" in worktree mode
    Then it succeeds
    And HEAD is still the base of "p"
    And the worktree file "more.txt" is "more\n"

  Scenario: A symlink recorded here that points outside the worktree does not move the verified mark, and apply refuses it
    When I record "escape" as a symlink to "../../outside" in "p"
    And I record in "p" with tool "more"
      | path      | content |
      | more.txt  | more\n  |
    Then the verified mark of "p" does not name its tip
    Given I remember the user's state
    When I apply "p" keeping it on failure
    Then it fails with exit code 2
    And the error mentions "symlink 'escape' -> '../../outside' points outside the worktree"
    And the user's state is unchanged

  Scenario: A changeset put on the plan by hand is checked by apply although a record came after it
    Given a commit adding a symlink "escape" to "/etc" is put on top of "p" by hand, with a note
    And I record in "p" with tool "more"
      | path      | content |
      | more.txt  | more\n  |
    And I remember the user's state
    When I apply "p" keeping it on failure
    Then it fails with exit code 2
    And the error mentions "symlink 'escape' -> '/etc' points outside the worktree"
    And the user's state is unchanged

  Scenario: Symlinks in the plan are written as symlinks
    Given I record files with modes in "p"
    When I apply "p"
    Then it succeeds
    And the worktree file "link" is a symlink to "README.md"
    And git status is clean

  Scenario: An unknown mode is bad usage
    When I try an apply of "p" in mode "sideways"
    Then it fails with exit code 2

  Scenario: HEAD without a commit yet
    Given HEAD is an unborn branch
    When I apply "p"
    Then it fails with exit code 2
    And the error mentions "no commit yet"
    And status --check of "p" does not compare with HEAD

  Scenario: An apply killed in worktree mode before it was done is rolled back
    Given an apply of "p" in worktree mode was killed after writing the files but before the commit point
    When a writing git plan command runs
    Then git status is clean

  Scenario: An apply killed in worktree mode after it was done is finished
    Given an apply of "p" in worktree mode was killed after the commit point
    When a writing git plan command runs
    Then the plan "p" is marked applied
    And the worktree file "new.txt" is "new\n"

  Scenario: A journal of an apply still running in another process is left alone
    Given an apply of "p" was killed after the commit point
    And another process holds the apply lock
    When I open the store
    Then it succeeds
    And the apply journal is still there

  Scenario: A journal that gitplan did not write is reported, not acted on
    Given the apply journal holds "not json"
    When I recover an interrupted apply
    Then it fails with exit code 5
    And the error mentions "not a gitplan apply journal"

  Scenario Outline: <what> moves while apply runs: the files and index are put back at once
    Given HEAD is <head>
    And the user's <what> moves to a new commit just before apply's commit point
    When I apply "p"
    Then it fails with exit code 4
    And the error mentions "moved while applying"
    And the error mentions "nothing was written"
    And git status is clean
    And no apply journal is left
    And the rescue patch holds the plan's diff
    And ref "refs/changesets/p" does not exist

    Examples:
      | what   | head                 |
      | branch | on main              |
      | HEAD   | detached at main     |

  Scenario: A branch of the same name made while apply runs: branch mode refuses and cleans up
    Given someone creates branch "result" just before apply's commit point
    When I apply "p" as branch "result"
    Then it fails with exit code 4
    And the error mentions "was created by someone else"
    And ref "refs/changesets/p" does not exist

  Scenario Outline: A branch name git cannot keep beside branch "<existing>" is refused before anything, and the plan is kept
    Given the user has a branch "<existing>"
    When I apply "p" as branch "<wanted>"
    Then it fails with exit code 2
    And the error mentions "cannot be made beside the branch '<existing>'"
    And ref "refs/changesets/p" exists

    Examples:
      | existing    | wanted      |
      | feature     | feature/x   |
      | feature/x/y | feature/x   |

  Scenario: A new branch locked by another git process: branch mode refuses with the reason and cleans up
    Given another git process holds the lock of "refs/heads/result" just before apply's commit point
    When I apply "p" as branch "result"
    Then it fails with exit code 4
    And the error mentions "branch 'result' could not be created"
    And ref "refs/heads/result" does not exist
    And no apply journal is left

  Scenario: A branch locked by another git process when apply moves it: refused, files put back
    Given another git process holds the lock of "refs/heads/main" just before apply's commit point
    When I apply "p"
    Then it fails with exit code 4
    And the error mentions "moved while applying"
    And git status is clean
    And no apply journal is left

  Scenario: A tracked symlink the plan retargets is checked and rewritten as a symlink
    Given the user commits a symlink "link" pointing to "README.md"
    And a new plan "sl" points "link" to "keep.txt"
    When I apply "sl"
    Then it succeeds
    And the worktree symlink "link" points to "keep.txt"
    And git status is clean

  Scenario: A plan record that cannot be updated after the commit point leaves the apply standing
    Given a lock file on "refs/notes/changesets/p" left 5 seconds ago
    When I apply "p"
    Then it fails with exit code 4
    And the error mentions "was applied"
    And no apply journal is left
    And git status is clean

  Scenario: An interrupted apply is not reported while another apply holds its lock
    Given an apply of "p" was killed after writing the files but before the commit point
    And another process holds the apply lock
    When I run git plan "status p"
    Then the output does not contain "pending"
    When I run git plan "recover"
    Then the output contains "no interrupted apply to recover"

  Scenario: status --check of an applied plan says nothing about HEAD
    When I apply "p"
    Then status --check of "p" does not compare with HEAD

  Scenario: Recovery leaves alone what the user changed after the interrupted apply
    Given an apply of "p" was killed after writing the files but before the commit point
    And the user edits "README.md" to "my own work\n" without committing
    When I run git plan "recover"
    Then the output contains "left as they are (changed since): README.md"
    And the worktree file "README.md" is "my own work\n"
    And HEAD is still the base of "p"

  Scenario: Recovery refuses to roll back once the user has committed since
    Given an apply of "p" was killed after writing the files but before the commit point
    And the user commits everything in the worktree
    When I run git plan "recover"
    Then the exit code is 5
    And the output contains "HEAD has moved since"
    And the apply journal is still there

  Scenario: An edit the user makes while apply runs, before it writes, is seen: apply refuses and the edit stays
    Given the user runs "echo 'saved meanwhile' > README.md" when apply reaches "apply.checkout-started"
    When I apply "p" keeping it on failure
    Then it fails with exit code 4
    And the error mentions "README.md (uncommitted changes)"
    And the worktree file "README.md" holds "saved meanwhile"

  Scenario Outline: Something untracked the user puts where the plan adds a file while apply runs is seen: apply refuses and it stays (<what>)
    Given the user runs "<script>" when apply reaches "apply.checkout-started"
    When I apply "p" keeping it on failure
    Then it fails with exit code 4
    And the error mentions "<reason>"
    And the worktree file "<kept>" holds "mine"

    Examples:
      | what        | script                                              | reason                                  | kept             |
      | a file      | echo mine > new.txt                                 | new.txt (untracked file in the way)     | new.txt          |
      | a directory | mkdir new.txt && echo mine > new.txt/work.txt       | new.txt (a directory is in the way)     | new.txt/work.txt |

  Scenario: A git add while apply writes the files waits for it: the index is locked from the check to the last write, as git read-tree locks it
    Given the user runs "echo x > other.txt; git add other.txt 2>err || echo refused > refused" when apply reaches "worktree.index-moved"
    When I apply "p" in worktree mode
    Then it succeeds
    And the worktree file "refused" holds "refused"
    And the worktree file "err" holds "index.lock"
    And the index is the tree of plan "p"

  Scenario: A file the plan deletes that the user makes a directory while apply writes: all is put back, the directory kept
    Given the user runs "rm gone/only && mkdir gone/only && echo mine > gone/only/x" when apply reaches "worktree.index-moved"
    When I apply "p" keeping it on failure
    Then it fails with exit code 1
    And the error mentions "put back"
    And the worktree file "gone/only/x" holds "mine"
    And the worktree file "README.md" holds "one\ntwo\nthree\nfour\nfive"
    And git "diff --cached --name-status" does not print "README.md"
    And no index.lock is left

  Scenario: When git itself fails during apply, what it wrote is put back and the plan is kept
    Given another git process holds the index lock
    When I apply "p"
    Then it fails with exit code 1
    And the error mentions "index.lock"
    And plan "p" has 1 changesets
    And no apply journal is left
