Feature: Cancel deletes a plan's refs and prunes only its own objects

  Background:
    Given a repository with files
      | path      | content  |
      | README.md | hello\n  |
    And a plan "c1"
    And I record in "c1" with tool "write"
      | path        | content                |
      | plan-only.txt | only in the plan\n   |
      | shared.txt  | shared content\n       |
    And I remember the user's state

  Scenario: Cancel removes refs, prunes plan-only objects, fsck stays clean
    When I cancel "c1"
    Then ref "refs/changesets/c1" does not exist
    And ref "refs/notes/changesets/c1" does not exist
    And the blob "only in the plan\n" is gone from the object store
    And the report says some objects were pruned
    And git fsck --full is clean
    And the user's state is unchanged

  Scenario: A disk that fills up once the refs are deleted is reported as a cancelled plan that gc finishes
    When I cancel "c1" and the disk is full once its refs are deleted
    Then it fails with exit code 1
    And the error mentions "plan 'c1' is cancelled (its refs are deleted), but removing its objects stopped"
    And the error mentions "No space left on device"
    And the error mentions "git plan gc"
    And ref "refs/changesets/c1" does not exist
    When I run git plan "gc --grace now"
    Then no pack file and no registry of "c1" is left
    And the blob "only in the plan\n" is gone from the object store
    And git fsck --full is clean

  Scenario: Content the user checked out from the plan survives cancel
    Given the user commits "shared.txt" with content "shared content\n" on main
    When I cancel "c1"
    Then the blob "shared content\n" is still in the object store
    And git fsck --full is clean

  Scenario: Another plan with identical content keeps it
    Given a plan "c2"
    And I record in "c2" with tool "write"
      | path          | content              |
      | plan-only.txt | only in the plan\n   |
    When I cancel "c1"
    Then the blob "only in the plan\n" is still in the object store
    And git fsck --full is clean
    And plan "c2" has 1 changesets

  Scenario: Staged content survives cancel
    Given the user stages "shared.txt" with content "shared content\n"
    When I cancel "c1"
    Then the blob "shared content\n" is still in the object store
    And git fsck --full is clean

  Scenario: Cancelling a plan that does not exist
    When I cancel "nope"
    Then it fails with exit code 3

  Scenario: Cancel after git gc leaves packed objects to gc
    Given git gc has packed everything
    When I cancel "c1"
    Then it succeeds
    And ref "refs/changesets/c1" does not exist
    And git fsck --full is clean

  Scenario: Content an annotated tag points at survives cancel
    Given the user tags the blob "only in the plan\n" with an annotated tag
    When I cancel "c1"
    Then the blob "only in the plan\n" is still in the object store
    And git fsck --full is clean

  Scenario: Content reachable only from a reflog survives cancel
    Given the user commits "shared.txt" with content "shared content\n" on main
    And the user resets main back one commit
    When I cancel "c1"
    Then the blob "shared content\n" is still in the object store
    And git fsck --full is clean

  Scenario: Content staged in a linked worktree survives cancel
    Given a linked worktree stages "plan-only.txt" with content "only in the plan\n"
    When I cancel "c1"
    Then the blob "only in the plan\n" is still in the object store
    And git fsck --full is clean

  Scenario: Plans in a bare repository
    Given a bare clone of the repository
    When I create, record, diff, apply as a branch and cancel a plan in the bare clone
    Then the bare clone has the branch and git fsck --full is clean there

  Scenario: Plans work from inside a linked worktree, and cancel prunes there too
    Given a linked worktree of the repository
    When I create, record and cancel a plan from inside the linked worktree
    Then the blob "from the linked worktree\n" is gone from the object store
    And git fsck --full is clean

  Scenario: An unreadable index makes cancel keep every object, and say so
    Given the index file is corrupt
    When I cancel "c1"
    Then it succeeds
    And ref "refs/changesets/c1" does not exist
    And the blob "only in the plan\n" is still in the object store
    And the report says it kept everything because "cannot read the index"

  Scenario: A split index whose shared file is gone makes cancel keep every object, and say so
    Given the index is split, with the entries in a shared index file
    And the user takes the plan's "plan-only.txt" into the index
    And the shared index file is removed
    When I cancel "c1"
    Then it succeeds
    And the blob "only in the plan\n" is still in the object store
    And the report says it kept everything because "shared index"

  Scenario: A plan made again under the name of a cancelled one that kept everything leaves its packs to gc's checks
    Given "refs/heads/kept" is moved to "refs/changesets/c1" with git update-ref
    And the index file is corrupt
    When I cancel "c1"
    Then the report says it kept everything because "cannot read the index"
    Given the user writes the index again from HEAD
    And a plan "c1"
    When I run git plan "gc --grace now"
    Then the exit code is 0
    And the output contains "removed plan state c1: left by an earlier plan of that name; pruned"
    And the output contains "objects are still used elsewhere and kept"
    And the blob "only in the plan\n" is still in the object store
    And git fsck --full is clean
    When I run git plan "cancel c1"
    Then the exit code is 0
    And git fsck --full is clean

  Scenario: Two creates of a cancelled plan's name at once: the one that loses leaves the winner's packs alone
    Given the index file is corrupt
    When I cancel "c1"
    Then the report says it kept everything because "cannot read the index"
    Given the user writes the index again from HEAD
    When another process creates plan "c1" while my create of it sets the old packs aside
    Then it fails with exit code 2
    And the error mentions "already exists"
    And plan "c1" owns 1 pack
    When I run git plan "gc --grace now"
    Then the exit code is 0
    And plan "c1" owns 1 pack
    And git fsck --full is clean

  Scenario: A create that finds a cancelled plan's leftovers never sets aside those of a create of the name on its way
    Given a "git plan cancel" of "c1" was killed at "cancel.refs-deleted"
    When another process creates plan "c1" after my create of it has set the old packs aside
    Then it succeeds
    And plan "c1" owns 1 pack
    When I run git plan "gc --grace now"
    Then the output contains "removed plan state c1: left by an earlier plan of that name"
    And plan "c1" owns 1 pack
    And the blob "only in the plan\n" is gone from the object store
    And git fsck --full is clean

  Scenario: Content the user staged before the plan recorded it is not written again, so git repack -d cannot leave the plan its only copy
    Given the user stages "staged.txt" with content "user staged work\n"
    And I record in "c1" with tool "w"
      | path       | content            |
      | staged.txt | user staged work\n |
    And the user sets the repository up with:
      """
      git repack -d -q
      """
    And git's own packs and the index look older than the plan, as when git wrote them before it began
    When I cancel "c1"
    Then it succeeds
    And git fsck --full is clean
    And the blob "user staged work\n" is still in the object store

  Scenario: A file put back to what git's own pack holds is not copied into the plan, so git gc cannot leave the plan its only copy
    Given the user sets the repository up with:
      """
      git gc -q
      """
    And I record in "c1" with tool "back"
      | path      | content  |
      | README.md | hello\n  |
      | plan-only.txt | <delete> |
      | shared.txt    | <delete> |
    And the user sets the repository up with:
      """
      git repack -a -d -q
      """
    And git's own packs and the index look older than the plan, as when git wrote them before it began
    When I cancel "c1"
    Then it succeeds
    And git fsck --full is clean
    And git "show HEAD:README.md" prints "hello"

  Scenario: An index written without a checksum (git's index.skipHash) is read at every cancel
    # git 2.40 and later write such an index with index.skipHash; the step zeroes the checksum.
    Given the user takes the plan's "plan-only.txt" into the index
    And the index's checksum is zero, as index.skipHash writes it
    When I cancel "c1"
    Then it succeeds
    And the report pruned the plan's other objects and kept what was taken
    And the blob "only in the plan\n" is still in the object store
    And no ids are kept for the index

  Scenario Outline: Plan content the user took before cancel survives it: <place>
    Given the user takes the plan's "plan-only.txt" into <place>
    When I cancel "c1"
    Then it succeeds
    And the report pruned the plan's other objects and kept what was taken
    And ref "refs/changesets/c1" does not exist
    And git fsck --full is clean
    And the user reads "only in the plan\n" back from <place>

    Examples:
      | place                          |
      | the index                      |
      | the index, version 3           |
      | the index, version 4           |
      | the index by read-tree         |
      | the stash                      |
      | a branch                       |
      | a lightweight tag              |
      | a cherry-picked commit         |
      | another worktree's index       |
      | another worktree's own ref     |
      | a bisect in another worktree   |
      | a plan based on it             |
      | a reflog entry                 |

  Scenario: Content staged in the index GIT_INDEX_FILE names survives a cancel run with it, and so does the worktree's own index
    # git prune, with GIT_INDEX_FILE set, reads that index instead of the worktree's own: cancel reads both.
    Given a plan "c2"
    And I record in "c2" with tool "write"
      | path       | content          |
      | other.txt  | other content\n |
    And the user sets the repository up with:
      """
      cp .git/index .git/tool-index
      GIT_INDEX_FILE=.git/tool-index git checkout refs/changesets/c1 -- plan-only.txt
      git checkout refs/changesets/c1 -- shared.txt
      """
    When with GIT_INDEX_FILE set to ".git/tool-index" I run git plan "cancel c1" in "."
    Then the exit code is 0
    And ref "refs/changesets/c1" does not exist
    And git with GIT_INDEX_FILE set to ".git/tool-index" prints "only in the plan\n" for "show :plan-only.txt"
    And git "show :shared.txt" prints "shared content\n"
    And git with GIT_INDEX_FILE set to ".git/tool-index" prints "" for "fsck --full --no-dangling"
    And git fsck --full is clean
    When with GIT_INDEX_FILE set to "{tmp}/nowhere" I run git plan "cancel c2" in "."
    Then the exit code is 0
    And the blob "other content\n" is gone from the object store

  Scenario: Cancel deletes the plan's packs and its registry, and nothing else
    When I cancel "c1"
    Then it succeeds
    And the report says some objects were pruned
    And no pack file and no registry of "c1" is left
    And git fsck --full is clean

  Scenario: A plan applied to the worktree, then discarded with git reset --hard, leaves nothing when cancelled
    When I apply "c1" in worktree mode
    And the user discards the applied files with git reset --hard
    And I cancel "c1"
    Then it succeeds
    And the blob "only in the plan\n" is gone from the object store
    And no pack file and no registry of "c1" is left
    And git fsck --full is clean

  Scenario Outline: A plan applied <how>, then cancelled, leaves no pack of its own behind
    # The apply freshens none of the plan's packs (libgit2's create_commit and write_tree
    # would), so the cancel that follows need not keep one for the grace period.
    Given a plan "d1"
    And I record in "d1" with tool "write"
      | path           | content     |
      | docs/guide.txt | the guide\n |
    And <move>
    When I <apply>
    And I cancel "d1"
    Then it succeeds
    And no pack was kept for another process
    And no pack of "d1" is left, nor its registry
    And git fsck --full is clean
    And git show "<ref>:docs/guide.txt" prints "the guide\n"

    Examples:
      | how             | move                                          | apply                    | ref    |
      | by fast-forward | HEAD is still where "d1" began                | apply "d1"               | HEAD   |
      | as a branch     | HEAD is still where "d1" began                | apply "d1" as branch "b" | b      |
      | by a merge      | the user commits "README.md" with content "moved on\n" on main | apply "d1" | HEAD |
      | by a replay     | the user commits "README.md" with content "moved on\n" on main | replay "d1" | HEAD |
      | as a merged branch | the user makes an empty commit on main     | apply "d1" as branch "b" | b      |

  Scenario: What an earlier cancel copied out does not make the next cancel ask git for everything reachable
    # The copy is an ordinary pack, written after "c1" began; a pack git wrote then would
    # make cancel list everything reachable, whose cost follows the repository.
    Given a plan "d1"
    And I record in "d1" with tool "write"
      | path           | content     |
      | docs/guide.txt | the guide\n |
    When I apply "d1"
    And I cancel "d1"
    And I cancel "c1", noting whether it asks git for everything reachable
    Then it succeeds
    And the cancel did not ask git for everything reachable
    And the blob "only in the plan\n" is gone from the object store
    And git fsck --full is clean
    And git show "HEAD:docs/guide.txt" prints "the guide\n"

  Scenario: A branch kept through what an earlier cancel copied out keeps the plan it was based on
    # branch -> the child's commits (copied out when the child went) -> the tip of "c1"
    Given a plan "child" based on the tip of "c1", made the usual way
    And I record in "child" with tool "write"
      | path     | content    |
      | kid.txt  | the child\n |
    And the user makes branch "keep" at the tip of "child"
    When I cancel "child"
    And I cancel "c1", noting whether it asks git for everything reachable
    Then it succeeds
    And the cancel did not ask git for everything reachable
    And git fsck --full is clean
    And git show "keep:plan-only.txt" prints "only in the plan\n"
    And git show "keep:kid.txt" prints "the child\n"

  Scenario: A merge apply whose tree another plan's pack holds keeps that pack from a cancel racing it
    # The merged tree is "y1"'s tip tree: writing it freshens "y1"'s pack, as git does before
    # it references an object, so that a cancel of "y1" meanwhile keeps the pack.
    Given a plan "x1"
    And I record in "x1" with tool "write"
      | path       | content          |
      | docs/a.txt | from the plan\n |
    And the user commits "README.md" with content "moved on\n" on main
    And a plan "y1"
    And I record in "y1" with tool "write"
      | path       | content          |
      | docs/a.txt | from the plan\n |
    When "y1" is cancelled just before my apply of "x1" as branch "nb" writes its commit
    Then my apply created branch "nb"
    And git fsck --full is clean
    And git show "nb:docs/a.txt" prints "from the plan\n"
    And git show "nb:README.md" prints "moved on\n"

  Scenario: A cancel waits for an apply of the plan that is writing, and keeps what it wrote
    # Without the wait, the prune would find nothing referencing the plan's objects yet,
    # and the new branch would point at a tree whose blobs are gone.
    Given a plan "d1"
    And I record in "d1" with tool "write"
      | path           | content     |
      | docs/guide.txt | the guide\n |
    And the user makes an empty commit on main
    When another process cancels "d1" while my apply of it as branch "b" is about to create the branch
    Then my apply created branch "b"
    And the other process's cancel waited for my apply, then succeeded
    And git fsck --full is clean
    And git show "b:docs/guide.txt" prints "the guide\n"

  Scenario Outline: Checking a plan against a moved HEAD writes nothing, so cancel still removes all of it: <move>
    Given <move>
    When I run git plan "status c1 --check"
    Then the exit code is 0
    And the output contains "apply would conflict: no"
    When I run git plan "apply c1 --check"
    Then the exit code is 0
    And the output contains "apply would merge 2 paths"
    When I cancel "c1"
    Then it succeeds
    And the blob "only in the plan\n" is gone from the object store
    And no pack file and no registry of "c1" is left
    And git fsck --full is clean

    Examples:
      | move                                                         |
      | the user commits "README.md" with content "moved on\n" on main |
      | the user makes an empty commit on main                       |

  Scenario Outline: Cancel reads unusual indexes: <shape>
    # Every shape also carries extensions gitplan does not read (the untracked cache).
    Given the index is <shape>
    And the user takes the plan's "plan-only.txt" into the index
    When I cancel "c1"
    Then it succeeds
    And the report pruned the plan's other objects and kept what was taken
    And git fsck --full is clean
    And the user reads "only in the plan\n" back from the index

    Examples:
      | shape                                              |
      | split, with the entries in a shared index file     |
      | holding a path longer than 4095 bytes              |
      | version 4, with long names the next entry strips   |

  Scenario Outline: Cancel after git wrote a <cache> that names the plan's commits
    Given git writes a <cache>
    When I cancel "c1"
    Then it succeeds
    And the report says git's <file> was removed
    And git fsck --full is clean

    Examples:
      | cache                    | file               |
      | commit-graph             | commit-graph       |
      | split commit-graph chain | commit-graph-chain |
      | multi-pack-index         | multi-pack-index   |

  Scenario: A damaged object written since the plan began makes cancel keep everything
    Given a damaged loose object was written after the plan began
    When I cancel "c1"
    Then it succeeds
    And ref "refs/changesets/c1" does not exist
    And the report says it kept everything because "cannot be read"
    And the blob "only in the plan\n" is still in the object store

  Scenario: A plan whose packs git repacked (their .keep removed by hand) is left to git gc
    Given the user removes the .keep files and runs git repack -a -d
    When I cancel "c1"
    Then it succeeds
    And the report says the plan's packs were already repacked by git
    And git fsck --full is clean

  Scenario: Cancel looks only at what changed since the plan began, and still keeps what was taken
    Given everything the user's repository held before the plan is an hour old
    And the user takes the plan's "plan-only.txt" into a branch
    When I cancel "c1"
    Then it succeeds
    And the report pruned the plan's other objects and kept what was taken
    And git fsck --full is clean
    And the user reads "only in the plan\n" back from a branch

  Scenario: A multi-pack-index with its bitmap, written by git, goes with the plan's packs
    Given git writes a multi-pack-index with a bitmap
    When I cancel "c1"
    Then it succeeds
    And the report says git's multi-pack-index was removed
    And no multi-pack-index file is left
    And git fsck --full is clean

  Scenario: Cancel in a repository with a symbolic ref, a fresh tree holding a submodule, and no reflogs
    Given the repository has no reflogs and a symbolic ref "refs/heads/alias" to main
    And the user writes a tree holding a submodule entry and the plan's "plan-only.txt"
    When I cancel "c1"
    Then it succeeds
    And the report pruned the plan's other objects and kept what was taken
    And git fsck --full is clean

  Scenario: An applied plan cancelled after git gc keeps what the branch now holds
    When I apply "c1"
    And the user runs git gc
    And I cancel "c1"
    Then it succeeds
    And git fsck --full is clean
    And the user reads "only in the plan\n" back from HEAD

  Scenario: What the user took early in a long plan survives, although consolidation restamped its packs
    Given the user commits "plan-only.txt" taken from the plan, long after the plan began
    When I record 6 more changesets into "c1"
    And I cancel "c1"
    Then it succeeds
    And git fsck --full is clean
    And the user reads "only in the plan\n" back from HEAD

  Scenario: A cherry-pick of the plan's changesets stopped by a conflict can go on after cancel
    Given I record in "c1" with tool "second"
      | path      | content      |
      | README.md | from plan\n  |
    And I record in "c1" with tool "third"
      | path      | content      |
      | third.txt | third\n      |
    And the user commits "README.md" with content "from user\n" on main
    And the user cherry-picks the plan's three changesets and stops at the conflict
    When I cancel "c1"
    Then it succeeds
    And the user resolves the conflict and the cherry-pick goes on to the end
    And git show "HEAD:third.txt" prints "third\n"
    And git fsck --full is clean

  Scenario: The plan's side of a conflict the user resolved stays in the index's resolve-undo data
    # README.md: both changed it (stages 1, 2, 3); both.txt: both added it (no stage 1).
    Given I record in "c1" with tool "second"
      | path      | content        |
      | README.md | from plan\n    |
      | both.txt  | plan's both\n  |
      | other.txt | other\n        |
    And the user commits "README.md" with content "from user\n" on main
    And the user commits "both.txt" with content "user's both\n" on main
    And the user cherry-picks the newest changeset of "c1", keeps their side of each conflict, goes on
    When I cancel "c1"
    Then it succeeds
    And git ls-files --resolve-undo names "README.md"
    And git ls-files --resolve-undo names "both.txt"
    And git fsck --full is clean

  Scenario Outline: A plan based on this plan's tip stays whole when this plan goes: <how>
    Given a plan "child" based on the tip of "c1", <how>
    When I cancel "c1"
    Then it succeeds
    And git fsck --full is clean
    And plan "child" has 0 changesets

    Examples:
      | how                                           |
      | while git plan gc ran                         |
      | whose registry was lost                       |

  Scenario: Cancel refuses, changing nothing, while packed-refs holds the plan's refs and its lock is held
    Given the user runs "git pack-refs --all"
    And git left .git/packed-refs.lock behind
    When I cancel "c1"
    Then it fails with exit code 4
    And the error mentions "packed-refs.lock is held"
    And git "rev-parse --verify -q refs/changesets/c1" prints the plan's tip
    And git fsck --full is clean
    When the packed-refs.lock is removed and I cancel "c1"
    Then it succeeds
    And ref "refs/changesets/c1" does not exist
    And ref "refs/notes/changesets/c1" does not exist
    And git fsck --full is clean

  Scenario: A git gc that runs while cancel deletes the plan's packs keeps what a branch took
    Given the user takes the plan's "plan-only.txt" into a branch
    When I cancel "c1" while git gc runs just before the plan's packs are deleted
    Then it succeeds
    And git fsck --full is clean
    And the user reads "only in the plan\n" back from a branch
    When the user runs "git gc -q --prune=now"
    Then git fsck --full is clean
    And the user reads "only in the plan\n" back from a branch

  Scenario: Where objects are precious (a --shared clone borrows them), cancel deletes the refs and no object, and hands the packs to git
    Given the repository's objects are precious, and a clone borrows them with the plan's tip as a branch
    When I cancel "c1"
    Then it succeeds
    And ref "refs/changesets/c1" does not exist
    And the report says it kept everything because "extensions.preciousObjects is set"
    And the blob "only in the plan\n" is still in the object store
    And the borrowing clone reads "only in the plan\n" back from its branch
    And git fsck --full is clean
    When I run git plan "gc --grace now"
    Then the output contains "extensions.preciousObjects is set"
    And git fsck --full is clean

  Scenario: A git repack that began while a cancelled plan still had a pack deletes nothing that gc needs when it removes that pack
    # git repack -a -d leaves out of its new pack what a kept pack holds, and at the end deletes
    # the unkept packs it found when it began: what cancel copied out must stay kept until the
    # plan's last pack is gone, or the repack and gc together lose it.
    Given the user stages "plan-only.txt" with content "only in the plan\n"
    When I cancel "c1"
    Then the report says a pack was kept because another process used it
    When a git repack -a -d begins: its new pack is written, the packs it read are not yet deleted
    Given the kept packs of the cancelled plan were last used two hours ago
    When I run git plan "gc --grace now"
    Then the exit code is 0
    When the git repack finishes: it deletes the packs it read
    Then git fsck --full is clean
    And the user reads "only in the plan\n" back from the index
    And no pack is kept by a cancel

  Scenario: A cancel killed while it deletes the plan's packs leaves what it copied out kept only until git plan gc finishes the job
    Given the user takes the plan's "plan-only.txt" into a branch
    And a "git plan cancel" of "c1" was killed at "prune.discarding"
    When I run git plan "gc --grace now"
    Then the exit code is 0
    And no pack is kept by a cancel
    When the user runs "git gc -q --prune=now"
    Then git fsck --full is clean
    And the user reads "only in the plan\n" back from a branch

  Scenario: A copy an older gitplan gave back to git while the plan kept a pack is made again, so a git repack that began meanwhile loses nothing
    Given the user stages "plan-only.txt" with content "only in the plan\n"
    When I cancel "c1"
    Then the report says a pack was kept because another process used it
    Given the copy cancel made has no .keep, as an older gitplan left it
    When a git repack -a -d begins: its new pack is written, the packs it read are not yet deleted
    Given the kept packs of the cancelled plan were last used two hours ago
    When I run git plan "gc --grace now"
    Then the exit code is 0
    When the git repack finishes: it deletes the packs it read
    Then git fsck --full is clean
    And the user reads "only in the plan\n" back from the index

  Scenario: A cancel killed between copying out what a branch took and noting the copy leaves no pack kept once git plan gc has run
    Given the user takes the plan's "plan-only.txt" into a branch
    And a "git plan cancel" of "c1" was killed at "prune.rescued"
    When I run git plan "gc --dry-run --grace now"
    Then the output contains "would remove rescue keep pack-"
    When I run git plan "gc --grace now"
    Then the exit code is 0
    And the output contains "removed rescue keep pack-"
    And no pack is kept by a cancel
    When the user runs "git gc -q --prune=now"
    Then git fsck --full is clean
    And the user reads "only in the plan\n" back from a branch

  Scenario: A plan created on this plan's tip while this plan is cancelled is refused, not left on a missing base
    When I create plan "q" on the tip of "c1" while "c1" is cancelled just after it is read
    Then it fails with exit code 3
    And the error mentions "is gone: a cancel removed it meanwhile"
    And ref "refs/changesets/q" does not exist
    And git fsck --full is clean

  Scenario: In a clone that borrows its objects (git clone --shared), plans are made on a base the lender holds, and cancelled
    Given the user runs "git gc -q"
    And a clone that borrows this repository's objects
    When in the clone a plan "b" is created, recorded into and cancelled
    Then the clone's git fsck --full is clean

  Scenario: What a branch took is copied out although another plan's unpublished pack holds it too, so git plan gc removing that pack loses nothing
    Given the user takes the plan's "plan-only.txt" into a branch
    And a plan "c2" whose record of the same "plan-only.txt" was killed before it was published
    When I cancel "c1"
    And I run git plan "gc --grace now"
    Then the exit code is 0
    And git fsck --full is clean
    And the user reads "only in the plan\n" back from a branch

  Scenario: After a git gc left the copy's objects to another plan's unpublished pack, git plan gc copies what a branch reaches before it removes that pack
    # git gc leaves out of its pack what a kept pack holds, and deletes the unkept copy cancel made.
    Given the user takes the plan's "plan-only.txt" into a branch
    And a plan "c2" whose record of the same "plan-only.txt" was killed before it was published
    When I cancel "c1"
    And the user runs "git gc -q"
    And I run git plan "gc --grace now"
    Then the exit code is 0
    And the output contains "never published"
    And git fsck --full is clean
    And the user reads "only in the plan\n" back from a branch
    And no pack is kept by a cancel
    When the user runs "git gc -q --prune=now"
    Then git fsck --full is clean
    And the user reads "only in the plan\n" back from a branch

  Scenario: An unpublished pack that holds objects nothing else holds stays when git cannot list what is reachable
    Given a plan "c2" whose record of the same "plan-only.txt" was killed before it was published
    And the user cancels "c1" and writes a branch naming an object that is not there
    When I run git plan "gc --grace now"
    Then the exit code is 0
    And the output contains "never published, but kept: git rev-list failed"

  Scenario: Refs under refs/changesets that name no commit (a blob, an object not here) do not stop a cancel
    Given the user points "refs/changesets/blobref" at a blob and "refs/changesets/gone" at an object that is not there
    When I cancel "c1"
    Then it succeeds
    And ref "refs/changesets/c1" does not exist
    And the blob "only in the plan\n" is gone from the object store

  Scenario: While packed-refs.lock is held, cancel refuses even for loose refs (the packed-refs being written may hold them), as git update-ref -d does
    Given git left .git/packed-refs.lock behind
    When I cancel "c1"
    Then it fails with exit code 4
    And the error mentions "packed-refs.lock is held"
    And git fsck --full is clean
    When the packed-refs.lock is removed and I cancel "c1"
    Then it succeeds
    And ref "refs/changesets/c1" does not exist
    And git fsck --full is clean

  Scenario: In a clone of a clone that borrows objects through two levels of alternates, one of them relative, plans are made and cancelled
    Given the user runs "git gc -q"
    And a clone that borrows this repository's objects through a clone of its own, by a relative path
    When in the clone a plan "b" is created, recorded into and cancelled
    Then the clone's git fsck --full is clean
