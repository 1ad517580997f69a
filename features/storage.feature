Feature: The storage engine writes each changeset as one pack, refuses without writing, and stays few

  Background:
    Given a repository with files
      | path        | content      |
      | README.md   | hello\n      |
      | src/main.py | print(1)\n   |
    And a plan "s"

  Scenario: A 10-file changeset is one pack and its index: few files, no loose object
    When I record 10 new files in "s", counting what is created under .git
    Then at most 8 files were created under .git
    And no loose object was written
    And git verify-pack accepts every pack
    And git fsck --full is clean
    And git shows 2 commits on "refs/changesets/s"

  Scenario: Long-lived stores let go of the packs that merging removed, so reads stay fast and the disk is freed
    When one store records 12 changesets into "s", reading its diff after each
    Then the store's process holds no removed pack file of the repository once garbage is collected
    And git verify-pack accepts every pack
    And git fsck --full is clean

  Scenario: A plan's trees are stored, not deflated, and git and gitplan read them back
    When one store records 250 changesets into "s"
    And I run git plan "record s --tool cli --set src/deep/last.txt=README.md"
    Then the exit code is 0
    And the notes tree of "s" is over 16 KB and stored in its pack as it is
    And every tree in the packs of plan "s" is stored as it is, 5 or more of them
    And git notes lists 252 notes on "refs/notes/changesets/s"
    And plan "s" has 251 changesets
    And git show of the tip of "s" lists "src/deep/last.txt"
    And the status of "s" reports nothing missing
    And git verify-pack accepts every pack
    And git fsck --full is clean

  Scenario: From 256 notes on, a plan's notes are fanned out as git fast-import lays out the same notes
    When one store records 300 changesets into "s"
    And I run git plan "record s --tool cli --set last.txt=README.md"
    Then the exit code is 0
    And the top of the notes tree of "s" holds only two-hex-digit subtrees
    And the notes tree of "s" is the one git fast-import makes of the same notes
    And git notes lists 302 notes on "refs/notes/changesets/s"
    And plan "s" has 301 changesets
    And the status of "s" reports nothing missing
    And git fsck --full is clean
    When I run git plan "drop s 3"
    Then the exit code is 0
    And plan "s" has 300 changesets
    And the status of "s" reports nothing missing
    And the notes tree of "s" is the one git fast-import makes of the same notes
    And git verify-pack accepts every pack
    And git fsck --full is clean

  Scenario: A notes tree that also holds a file that is not a note is laid out again, keeping the file
    Given I record in "s" with tool "first"
      | path  | content |
      | a.txt | a\n     |
    And 300 more notes and a file "README" are added to "refs/notes/changesets/s" with git fast-import
    When I record in "s" with tool "second"
      | path  | content |
      | b.txt | b\n     |
    Then it succeeds
    And plan "s" has 2 changesets
    And the status of "s" reports nothing missing
    And the notes tree of "s" still holds the file "README"
    And git fsck --full is clean

  Scenario Outline: A plan checked before is checked again where its notes were edited by hand: <defect>, <count> changesets
    When one store records <count> changesets into "s"
    And I run git plan "status s"
    Then the exit code is 0
    And the output does not contain "unsafe"
    When someone adds to the notes of "s" by hand <defect>
    And I run git plan "status s"
    Then the output contains "<reason>"
    When I run git plan "apply s --mode worktree"
    Then the exit code is 2
    And the output contains "<reason>"

    Examples:
      | defect                        | count | reason                         |
      | a file that is not a note     | 3     | 'README', which is not a note  |
      | a note on a commit of the user | 3     | a commit that is not this plan |
      | a file that is not a note     | 300   | 'README', which is not a note  |
      | a note on a commit of the user | 300   | a commit that is not this plan |
      | its newest note turned into a submodule entry | 3 | which is not a note |

  Scenario: Notes added by hand past the limits to a plan checked before are refused, counting those it had
    Given git config "plan.verify.maxChangesets" is "3"
    When one store records 3 changesets into "s"
    And I run git plan "status s"
    Then the output does not contain "unsafe"
    When someone adds to the notes of "s" by hand 5 notes on commits that are not here
    And I run git plan "status s"
    Then the output contains "more notes than its limits allow"

  Scenario Outline: A damaged mark of the last check makes the next check a whole one: <how>
    When one store records 3 changesets into "s"
    And I run git plan "status s"
    Then the output does not contain "unsafe"
    Given the mark of the last check of "s" is damaged: <how>
    When someone adds to the notes of "s" by hand a file that is not a note
    And I run git plan "status s"
    Then the output contains "'README', which is not a note"

    Examples:
      | how               |
      | neither is an id  |
      | its notes are not |

  Scenario: A notes tree whose subtrees repeat (a few objects naming millions of paths) is refused, not walked for ever
    When one store records 3 changesets into "s"
    And I run git plan "status s"
    Then the output does not contain "unsafe"
    When someone adds to the notes of "s" by hand a directory whose subtrees repeat 3 levels deep
    And I run git plan "status s"
    Then the output contains "its notes tree holds more entries than its limits allow"
    When I run git plan "record s --tool cli --set last.txt=README.md"
    Then the exit code is 5
    And the output contains "more entries than gitplan walks"

  Scenario: Files that are not notes, at the top and in a fan-out directory, are kept when the notes are laid out again
    When one store records 300 changesets into "s"
    And someone adds to the notes of "s" by hand a file inside a fan-out directory and one at the top
    And I run git plan "record s --tool cli --set last.txt=README.md"
    Then the exit code is 0
    And the notes tree of "s" still holds both files
    And plan "s" has 301 changesets
    And the status of "s" reports nothing missing
    And git fsck --full is clean

  Scenario: A file that is not a note two fan-out directories down stops a record, which writes nothing
    When one store records 300 changesets into "s"
    And someone adds to the notes of "s" by hand a file two fan-out directories down and one at the top
    Given I remember the object store
    When I run git plan "record s --tool cli --set last.txt=README.md"
    Then the exit code is 5
    And the output contains "which is not a note, two fan-out directories down"
    And the object store is exactly as it was
    And plan "s" has 300 changesets

  Scenario: A file at the top of the notes named as a fan-out directory keeps the notes flat past 255
    When one store records 250 changesets into "s"
    And someone adds to the notes of "s" by hand a file named as the fan-out directory of its tip
    And one store records 10 changesets into "s"
    Then the notes tree of "s" is flat and still holds that file
    And plan "s" has 260 changesets
    And the status of "s" reports nothing missing
    And git fsck --full is clean

  Scenario Outline: A refused record writes nothing: <case>
    Given I record in "s" with tool "first"
      | path      | content     |
      | README.md | first\n     |
    And I remember the object store
    When I record a refused change: <case>
    Then it fails with exit code <code>
    And the object store is exactly as it was

    Examples:
      | case                                    | code |
      | into a plan that does not exist         | 3    |
      | a file below a path that is a file      | 2    |
      | a path that is a directory              | 2    |
      | deleting a path that does not exist     | 2    |
      | an overlapping edit from changeset 0    | 4    |
      | a path with a .git component            | 2    |
      | into a plan that is already applied     | 2    |

  Scenario: Recording into an applied plan is refused with its reason
    Given I record in "s" with tool "write"
      | path  | content |
      | a.txt | a\n     |
    And plan "s" is applied
    When I record in "s" with tool "late"
      | path  | content |
      | b.txt | b\n     |
    Then it fails with exit code 2
    And the error mentions "already applied"

  Scenario: The same inputs at a fixed GIT_COMMITTER_DATE give the same object ids, as git computes them
    When I record a fixed invocation in "s" in two fresh repositories
    Then both changesets have the same commit id
    And git commit-tree makes the same commit from the same tree, parent, people, dates and message
    And the commit is dated as GIT_AUTHOR_DATE and GIT_COMMITTER_DATE say

  Scenario: The command line gives the same object ids too, given the invocation id; without one, each record is its own
    Given GIT_AUTHOR_DATE and GIT_COMMITTER_DATE are "@1704067200 +0000"
    When git plan records "--tool write --invocation-id run-1 --set a.txt=../a-file" in "s" in two fresh repositories
    Then both changesets have the same commit id
    When git plan records "--tool write --set a.txt=../a-file" in "s" in two fresh repositories
    Then the two changesets have different commit ids

  Scenario: A lock a killed writer left on the plan ref is cleared
    Given a lock file on "refs/changesets/s" left 2 minutes ago
    When I record in "s" with tool "after"
      | path  | content |
      | a.txt | a\n     |
    Then it succeeds
    And no lock file is left on "refs/changesets/s"

  Scenario Outline: A lock a few seconds old on <ref> may still be held: it is named at once, not broken, and nothing is recorded
    Given a lock file on "<ref>" left 5 seconds ago
    And I remember the object count
    When I record in "s" with tool "blocked"
      | path  | content |
      | a.txt | a\n     |
    Then it fails with exit code 4
    And the error mentions "<ref>.lock stayed locked"
    And the error mentions "if none is running, remove the lock"
    And a lock file is still on "<ref>"
    And no object or ref was written

    Examples:
      | ref                     |
      | refs/changesets/s       |
      | refs/notes/changesets/s |

  Scenario Outline: With GITPLAN_HELD_LOCK_SECONDS raised, a writer waits for a lock on <ref> a few seconds old and records once it goes
    Given a lock file on "<ref>" left 5 seconds ago
    When a real "git plan record s --tool waited --delete README.md" runs with GITPLAN_HELD_LOCK_SECONDS=600
    Then after 2 seconds it is still waiting
    When the lock file on "<ref>" is removed
    Then that record ends with exit code 0
    And plan "s" has the tools "waited"

    Examples:
      | ref                     |
      | refs/changesets/s       |
      | refs/notes/changesets/s |

  Scenario: A lock dated in the future (a clock is off) refuses the record after a second, and gc says why it keeps it
    Given a lock file on "refs/changesets/s" dated 60 minutes in the future
    And I remember the object count
    When I record in "s" with tool "blocked"
      | path  | content |
      | a.txt | a\n     |
    Then it fails with exit code 4
    And the error mentions "refs/changesets/s.lock stayed locked"
    And no object or ref was written
    When I run git plan "gc --grace now"
    Then the output contains "kept lock"
    And the output contains "dated in the future (a clock is off)"
    And a lock file is still on "refs/changesets/s"

  Scenario: A lock made on the plan ref just now and never let go refuses the record, which writes nothing
    Given a lock file on "refs/changesets/s" made just now
    And gitplan treats locks as stale only after an hour and retries 5 times
    And I remember the object count
    When I record in "s" with tool "blocked"
      | path  | content |
      | a.txt | a\n     |
    Then it fails with exit code 4
    And the error mentions "refs/changesets/s.lock stayed locked"
    And no object or ref was written
    When the lock file on "refs/changesets/s" is removed
    Then plan "s" has 0 changesets
    And git fsck --full is clean

  Scenario: A lock someone still holds is named in the error, with what to do
    Given a lock file on "refs/notes/changesets/s" made just now
    And gitplan treats locks as stale only after an hour and retries 5 times
    When I record in "s" with tool "blocked"
      | path  | content |
      | a.txt | a\n     |
    Then it fails with exit code 4
    And the error mentions "refs/notes/changesets/s.lock stayed locked"
    And the error mentions "remove the lock and try again"

  Scenario: Apply finishes although a killed writer left a lock on the plan's notes ref
    Given I record in "s" with tool "write"
      | path  | content |
      | a.txt | a\n     |
    And a lock file on "refs/notes/changesets/s" left 2 minutes ago
    When I apply "s" in worktree mode
    Then it succeeds
    And the status of "s" says it is applied

  Scenario: A plan whose create was killed between its two refs is visible to cancel
    When creating plan "half" is killed between its notes ref and its plan ref
    Then ref "refs/changesets/half" does not exist
    And ref "refs/notes/changesets/half" exists
    When I cancel "half"
    Then it succeeds
    And ref "refs/notes/changesets/half" does not exist
    And git fsck --full is clean

  Scenario: Cancelling one plan while another records the same content keeps the other whole
    Given I record in "s" with tool "write"
      | path       | content        |
      | answer.txt | forty-two\n    |
    And a plan "t"
    When a writer records "answer.txt" as "forty-two\n" in "t" while "s" is cancelled just before it publishes
    Then it succeeds
    And git fsck --full is clean
    And git show "refs/changesets/t:answer.txt" prints "forty-two\n"

  Scenario: Content the user staged from a plan survives its cancel
    Given I record in "s" with tool "write"
      | path       | content        |
      | wanted.txt | keep me\n      |
    And the user stages "wanted.txt" with content "keep me\n"
    When I cancel "s"
    Then it succeeds
    And ref "refs/changesets/s" does not exist
    And git fsck --full is clean
    And git show ":wanted.txt" prints "keep me\n"

  Scenario: Cancel keeps the index's ids under its checksum, and reads the index again once it changed
    Given a plan "first"
    And I record in "first" with tool "write"
      | path      | content   |
      | first.txt | first\n   |
    And the index file is touched
    When I cancel "first"
    Then the ids kept for the index carry its checksum
    Given I record in "s" with tool "write"
      | path       | content        |
      | wanted.txt | keep me\n      |
    And the user stages "wanted.txt" with content "keep me\n"
    When I cancel "s"
    Then it succeeds
    And the ids kept for the index carry its checksum
    And git fsck --full is clean
    And git show ":wanted.txt" prints "keep me\n"

  Scenario: gc removes the index ids kept for a worktree that is gone, and those a killed cancel was writing
    Given gitplan kept index ids for a worktree "gone" that no longer exists
    And gitplan kept index ids for the repository's own index
    And a killed cancel left a temporary file of index ids
    When I run git plan "gc --grace now"
    Then the output contains "worktree gone no longer exists"
    And the output contains "left by a cancel that was killed"
    And no index ids are kept for a worktree "gone"
    And the index ids of the repository's own index are still kept

  Scenario: A pack another process freshened, as git does before it references an object, is kept
    Given I record in "s" with tool "write"
      | path       | content        |
      | wanted.txt | keep me\n      |
    And another process freshened the newest pack of "s"
    When I cancel "s"
    Then it succeeds
    And ref "refs/changesets/s" does not exist
    And the report says a pack was kept because another process used it
    And the blob "keep me\n" is still in the object store

  Scenario: 20 plans of 50 changesets do not make git gc --auto fire, and git gc keeps every plan
    When I record 50 changesets into each of 20 plans
    Then the repository holds fewer than 50 packs and 6700 loose objects
    And git gc --auto has nothing to do
    When I run git gc
    Then git fsck --full is clean
    And each of the 20 plans still has 50 changesets
    When I cancel "p7"
    Then it succeeds
    And git fsck --full is clean
    And git gc afterwards explodes nothing and warns about nothing

  Scenario: A plan's packs are merged four of a size at a time, so most records merge nothing
    When I record 3 one-file changesets into "s", one after another
    Then plan "s" owns 1 pack
    When I record 3 one-file changesets into "s", one after another
    Then plan "s" owns 4 packs
    When I record 8 one-file changesets into "s", one after another
    Then plan "s" owns 6 packs
    When I record 1 one-file changesets into "s", one after another
    Then plan "s" owns 1 pack
    When I record 47 one-file changesets into "s", one after another
    Then plan "s" owns 9 packs
    When I record 1 one-file changesets into "s", one after another
    Then plan "s" owns 1 pack
    And git verify-pack accepts every pack
    And git fsck --full is clean
    And plan "s" has 63 changesets

  Scenario: A record due to merge its plan's newest packs writes their objects into its own pack, and no other
    When I record 6 one-file changesets into "s", one after another
    Then plan "s" owns 4 packs
    When I record a one-file changeset into "s", noting its packs just before it publishes
    Then before it published, its newest pack held its own objects and all of the 3 before it
    And plan "s" owns 2 packs, each there before it published
    And plan "s" has 7 changesets
    And git verify-pack accepts every pack
    And git fsck --full is clean

  Scenario: A record due to merge whose merged pack does not fit on the disk writes its own objects alone
    When I record 6 one-file changesets into "s", one after another
    Then plan "s" owns 4 packs
    When I record a one-file changeset into "s" while its merged pack does not fit on the disk
    Then it succeeds
    And plan "s" has 7 changesets
    And every changeset of "s" has its note and they are numbered without gaps
    And git verify-pack accepts every pack
    And git fsck --full is clean

  Scenario: Merges leave out a pack its writer has not published: the writer that loses its race leaves nothing behind
    When I record 1 one-file changesets into "s", one after another
    And a record into "s" waits to publish while 4 more records land
    Then it succeeds
    And plan "s" has 6 changesets
    And every changeset of "s" has its note and they are numbered without gaps
    And git fsck --full finds nothing dangling
    And git verify-pack accepts every pack

  Scenario: The pack of a rewind that undo took back merges like any other: a published pack names no notes commit
    When I record 3 one-file changesets into "s", one after another
    And I run git plan "rewind s 1"
    And I run git plan "undo s"
    And I record 36 one-file changesets into "s", one after another
    Then no registry entry of plan "s" names a notes commit
    And plan "s" owns 5 packs
    And plan "s" has 39 changesets
    And git fsck --full is clean

  Scenario: A store that stays open keeps recording after git repack replaced git's own pack
    Given a store of the repository is open, reading "core.bare" as "false"
    When git "repack -a -d -q" runs in the repository
    And that store records a one-file changeset into "s"
    And the user commits "later.txt" with content "later\n" on main
    And git "repack -a -d -q" runs in the repository
    And that store records a one-file changeset into "s"
    Then plan "s" has 2 changesets
    And git fsck --full is clean

  Scenario: A writer whose packs to take in another writer took in first writes its own objects alone
    When I record 6 one-file changesets into "s", one after another
    And a writer of "s" reaches its pack write after another writer took in the packs it meant to
    Then both writers succeed, with changesets 7 and 8
    And plan "s" owns 3 packs
    And plan "s" has 8 changesets
    And every changeset of "s" has its note and they are numbered without gaps
    And git verify-pack accepts every pack
    And git fsck --full is clean

  Scenario: While a cancel holds the plan's consolidation lock, a record leaves the packs it took in to gc
    When I record 6 one-file changesets into "s", one after another
    And I record a one-file changeset into "s" while another process holds its consolidation lock
    Then plan "s" owns 5 packs
    And plan "s" has 7 changesets
    When I collect garbage with a grace of now
    Then plan "s" owns 2 packs
    And git fsck --full is clean

  Scenario: Packs git wrote, with deltas and objects the plan's other packs hold, are copied whole, first
    When I record 3 one-file changesets into "s", one after another
    And plan "s" takes in a pack git wrote, holding a copy of its newest file and a delta against it
    And plan "s" takes in a pack git wrote, holding a copy of its newest file and a delta against it
    And I record 20 one-file changesets into "s", one after another
    Then git verify-pack accepts every pack
    And git fsck --full is clean
    And plan "s" has 25 changesets
    And plan "s" owns at most 6 packs

  Scenario: A pack another process freshened while a record took it in is kept
    When I record 6 one-file changesets into "s", one after another
    And another process freshens a pack "s" takes in, just after the record publishes
    Then the freshened pack is still in place, and still the plan's
    And plan "s" owns 3 packs
    When I cancel "s"
    Then the report says a pack was kept because another process used it
    And git fsck --full is clean

  Scenario: A pack someone freshened stays out of the merges, and the plan's other packs still merge
    When I record 6 one-file changesets into "s", one after another
    And another process freshened the newest pack of "s"
    And I record 1 one-file changesets into "s", one after another
    Then plan "s" owns 5 packs
    When I record a one-file changeset into "s", noting its packs just before it publishes
    Then plan "s" owns 3 packs, each there before it published
    When I record 40 one-file changesets into "s", one after another
    Then plan "s" owns at most 8 packs
    And the freshened pack is still in place, and still the plan's
    And plan "s" has 48 changesets
    And git fsck --full is clean

  Scenario: Near gc.autoPackLimit, a freshened pack stays beside the packs the plan keeps
    Given git config "gc.autoPackLimit" is "4"
    When I record 3 one-file changesets into "s", one after another
    Then plan "s" owns 1 pack
    When another process freshened the newest pack of "s"
    And I record 12 one-file changesets into "s", one after another
    Then plan "s" owns at most 3 packs
    And the freshened pack is still in place, and still the plan's
    And git fsck --full is clean

  Scenario: Past half of gc.autoPackLimit packs, each plan keeps two, and a long plan is not copied whole by each record
    Given git config "gc.autoPackLimit" is "12"
    When I record 40 changesets into each of 3 plans
    Then each of the 3 plans owns at most 2 packs
    When I record 6 more changesets into "p1", noting its oldest pack after each
    Then its oldest pack was written again at most 1 times
    And plan "p1" has 46 changesets
    And git verify-pack accepts every pack
    And git fsck --full is clean

  Scenario: From gc.autoPackLimit packs on, each plan that records keeps one pack
    Given git config "gc.autoPackLimit" is "4"
    When I record 20 changesets into each of 3 plans
    Then each of the 3 plans owns at most 1 packs
    And the repository holds fewer than 5 packs and 6700 loose objects
    And each of the 3 plans still has 20 changesets
    And git fsck --full is clean

  Scenario: Recording a 1 GB file streams it: the process never holds it in memory
    Given a 1 GB file "big.bin" outside the repository
    When I run "git plan record s --tool big --set big.bin=<the file>" as its own process
    Then it exits 0 having used less than 200 MB of memory at its peak
    And the plan's "big.bin" is the blob git hash-object computes for the file
    And the changeset's record says "big.bin" is a binary file of 1073741824 bytes

  Scenario: A file that changes while it is being recorded is refused, and nothing is written
    Given a file "growing.txt" outside the repository with 20 MB of text
    And I remember the object store
    When I record "growing.txt" from disk into "s" while another process appends to it
    Then it fails with exit code 2
    And the error mentions "changed while it was being recorded"
    And the object store is exactly as it was

  Scenario Outline: gitplan dates its commits as git reads GIT_COMMITTER_DATE: <form>
    Given GIT_AUTHOR_DATE and GIT_COMMITTER_DATE are "<date>"
    When I record in "s" with tool "dated"
      | path  | content |
      | d.txt | d\n     |
    Then it succeeds
    And the tip of "s" is dated "<iso>" by git

    Examples:
      | form              | date                            | iso                       |
      | raw with a zone   | 1767225600 +0100                | 2026-01-01T01:00:00+01:00 |
      | @epoch            | @1767225600                     | 2026-01-01T00:00:00+00:00 |
      | ISO with a zone   | 2026-03-04 05:06:07 -02:30      | 2026-03-04T05:06:07-02:30 |
      | ISO without zone  | 2026-03-04T05:06:07             | 2026-03-04T05:06:07+00:00 |
      | RFC 2822          | Wed, 04 Mar 2026 05:06:07 +0200 | 2026-03-04T05:06:07+02:00 |

  Scenario: A date git could not read either is refused before anything is written
    Given GIT_AUTHOR_DATE and GIT_COMMITTER_DATE are "next tuesday"
    And I remember the object store
    When I record in "s" with tool "dated"
      | path  | content |
      | d.txt | d\n     |
    Then it fails with exit code 2
    And the error mentions "cannot read the date"
    And the object store is exactly as it was

  Scenario: A plan whose notes were edited with git notes (fanned out) still records and reads
    Given I record in "s" with tool "first"
      | path  | content |
      | a.txt | a\n     |
    And 300 more notes are added to "refs/notes/changesets/s" with git fast-import
    When I record in "s" with tool "second"
      | path  | content |
      | b.txt | b\n     |
    Then it succeeds
    And plan "s" has 2 changesets
    And the status of "s" reports nothing missing
    And git fsck --full is clean

  Scenario: Large bytes given to the Python API are packed without a second copy in memory
    When a process records 96 MiB of random bytes through the Python API, its peak memory measured
    Then its peak memory was under 190 MiB
    And git fsck --full is clean

  Scenario: Files over core.bigFileThreshold are recorded as binary without being read
    Given git config "core.bigFileThreshold" is "1k"
    And I record in "s" with tool "first"
      | path    | content     |
      | big.txt | <2000 bytes> |
    When I record in "s" with tool "second"
      | path    | content     |
      | big.txt | <3000 bytes> |
    Then it succeeds
    And the changeset's record says "big.txt" is a binary file of 3000 bytes

  Scenario Outline: A file on disk that cannot be recorded is refused: <case>
    Given I remember the object store
    When I record a file on disk in "s": <case>
    Then it fails with exit code 2
    And the error mentions "<message>"
    And the object store is exactly as it was

    Examples:
      | case             | message                     |
      | it does not exist | cannot read                |
      | no path           | needs a path               |
      | a symlink mode    | must be 100644, 100755 or MODE_KEEP |

  Scenario: A cancel of a plan whose create is between its two refs is refused; the create completes whole
    When another process cancels plan "mid", and collects garbage, while I create it, between my two refs
    Then it succeeds
    And the cancel was refused with "is being created right now"
    And plan "mid" has 0 changesets
    And git fsck --full is clean

  Scenario: Two creates of one plan at once: the one that comes second is refused at once and leaves nothing
    When another process creates plan "twin" while I create it, just before my refs are made
    Then it succeeds
    And the other create of "twin" was refused with "already exists (another process is creating it)", having written nothing
    And plan "twin" has 0 changesets
    And plan "twin" owns 1 pack
    And git fsck --full is clean

  Scenario: A writer publishes while cancel reads: cancel reads again and deletes that changeset too
    When a writer records in "s" just after cancel read the refs of "s"
    Then it succeeds
    And ref "refs/changesets/s" does not exist
    And the writer's changeset is gone from the object store
    And git fsck --full is clean

  Scenario: A plan cancelled while a writer reads it makes the writer say not found
    When "s" is cancelled just after a writer read its refs
    Then it fails with exit code 3
    And ref "refs/changesets/s" does not exist

  Scenario: A plan cancelled and made again while a writer reads it makes the writer say not found
    Given I record in "s" with tool "t"
      | path | content |
      | a    | 1\n     |
    When "s" is cancelled and made again just after a writer read its refs
    Then it fails with exit code 3
    And the error mentions "the plan of that name now is another"
    And plan "s" has 0 changesets

  Scenario: A writer that cannot read what it read the refs of, because the plan was made again meanwhile, says not found
    When a write into "s" fails to read its objects while "s" is cancelled and made again
    Then it fails with exit code 3
    And the error mentions "the plan of that name now is another"
    And plan "s" has 0 changesets

  Scenario: A pack index with offsets past 2 GiB is written as git reads it
    When I write a pack index whose entries sit at offsets up to 5 GiB
    Then git show-index lists every entry at its offset
    And gitplan reads the same entries back

  Scenario: A pack write that fails midway (a full disk) is a clear error and leaves no file
    Given I remember the object store
    When I record in "s" while the disk fills up during the pack write
    Then it fails with exit code 1
    And the error mentions "nothing was written"
    And the object store is exactly as it was

  Scenario: A pack write whose first bytes cannot go out (a full disk) leaves no file either
    Given I remember the object store
    When I record in "s" while the disk fills up with its pack's first bytes still unwritten
    Then it fails with exit code 1
    And the error mentions "nothing was written"
    And the object store is exactly as it was

  Scenario: A pack whose temporary file git prune removes while it is written is refused as such
    Given I remember the object store
    When I record in "s" while git prune removes the new pack's temporary file
    Then it fails with exit code 1
    And the error mentions "temporary file"
    And the error mentions "was removed while it was written"
    And the object store is exactly as it was

  Scenario: A record whose plan's pack registry keeps being removed (a cancel of the plan) says so, and nothing is recorded
    When I record in "s" while its pack registry is removed each time it is made
    Then it fails with exit code 1
    And the error mentions "pack registry"
    And the error mentions "was removed while the new pack was registered"
    And plan "s" has 0 changesets

  Scenario: A file removed while it is recorded is refused as such, and nothing is written
    Given a file "gone.txt" outside the repository with 20 MB of text
    And I remember the object store
    When I record "gone.txt" from disk into "s" while another process removes it
    Then it fails with exit code 2
    And the error mentions "gone.txt was removed while it was being recorded"
    And the object store is exactly as it was

  Scenario: A file rewritten in place (same size) while it is recorded is refused
    Given a file "same.txt" outside the repository with 20 MB of text
    And I remember the object store
    When I record "same.txt" from disk into "s" while another process rewrites it in place
    Then it fails with exit code 2
    And the error mentions "changed while it was being recorded"
    And the object store is exactly as it was

  Scenario: A plan ref that stays locked after the notes moved: the record stands, and the error says so and names the lock; the next writer finishes it
    Given gitplan treats locks as stale only after an hour and retries 3 times
    When a writer's plan ref is locked by another process just after its notes moved
    Then it fails with exit code 4
    And the error mentions "changeset 1 of plan 's' is recorded, but"
    And the error mentions "refs/changesets/s.lock stayed locked"
    And the error mentions "Do not record it again"
    When I record in "s" with tool "meanwhile"
      | path | content |
      | m    | m\n     |
    Then it fails with exit code 4
    And the error mentions "refs/changesets/s.lock stayed locked"
    When the other process lets the lock go and I record in "s" with tool "next"
      | path | content |
      | n    | n\n     |
    Then it succeeds
    And plan "s" has 2 changesets

  Scenario: Writers that keep losing give up with the busy error, nothing half-written
    Given gitplan retries 1 times
    When another writer records every time just before this writer moves the notes ref of "s"
    Then it fails with exit code 4
    And the error mentions "gave up after 1 attempts"
    And plan "s" has 1 changesets
    And git fsck --full is clean

  Scenario: Cancel blocked by a lock someone holds says so
    Given gitplan treats locks as stale only after an hour and retries 3 times
    And a lock file on "refs/changesets/s" made just now
    When I cancel "s"
    Then it fails with exit code 4
    And the error mentions "refs/changesets/s.lock stayed locked"

  Scenario: Creating a plan whose notes ref someone holds locked is refused with the reason
    Given a lock file on "refs/notes/changesets/new" made just now
    When I create plan "new" expecting an error
    Then it fails with exit code 4
    And the error mentions "refs/notes/changesets/new.lock"
    And git fsck --full is clean

  Scenario Outline: core.bigFileThreshold "<value>" is read as git reads it
    Given git config "core.bigFileThreshold" is "<value>"
    When I record in "s" with tool "sized"
      | path    | content      |
      | big.txt | <1500 bytes> |
    Then the changeset's record says "big.txt" <verdict>

    Examples:
      | value | verdict                                  |
      | 1000  | is a binary file of 1500 bytes           |
      | 2k    | counts 150 added lines                   |
      | junk  | counts 150 added lines                   |

  Scenario: One file on disk recorded at two paths is hashed once and stored once
    Given a file "twice.bin" outside the repository with 1 MB of text
    When I record "twice.bin" from disk into "s" at "a/one.bin" and "b/two.bin"
    Then it succeeds
    And git show "refs/changesets/s:a/one.bin" and "refs/changesets/s:b/two.bin" are the same blob
    And git fsck --full is clean

  Scenario: A pack that consolidation removes takes git's multi-pack-index listing it along, so git fsck stays clean
    Given I record 2 one-file changesets into "s", one after another
    And the user runs "git maintenance run --task=incremental-repack"
    When I record 6 one-file changesets into "s", one after another
    Then git fsck --full is clean
    And plan "s" has 8 changesets

  Scenario: With the objects directory on another filesystem (a link to a mount), records that merge packs, cancel and gc work
    Given the repository's objects directory is moved to another filesystem and linked back
    When I record 6 one-file changesets into "s", one after another
    Then plan "s" has 6 changesets
    And git fsck --full is clean
    When I cancel "s"
    Then it succeeds
    And git fsck --full is clean
    When I run git plan "gc --grace now"
    Then the exit code is 0

  Scenario: A record whose housekeeping fails once it has landed (the disk refuses) says it is recorded, not failed
    When I record in "s" while the housekeeping after it fails with an I/O error
    Then it succeeds
    And plan "s" has 1 changesets
    And git fsck --full is clean

  Scenario: A record killed between its two refs is not called unsafe by status; the next record puts it on the plan
    When the git-plan program runs "record s --tool first --delete README.md" and is killed at "refs.between-notes-and-plan"
    And I run git plan "status s"
    Then the exit code is 0
    And the output does not contain "unsafe"
    When I run git plan "record s --tool second --delete src/main.py"
    And I run git plan "status s"
    Then the output does not contain "unsafe"
    And plan "s" has the tools "first second"

  Scenario: git prune --expire=now removing a record's temporary pack files refuses the record clearly, and gc cleans up after it
    When I record in "s" while git prune --expire=now runs just before its pack is put in place
    Then it fails with exit code 1
    And the error mentions "removed its temporary files); nothing was recorded, try again"
    And plan "s" has 0 changesets
    When I run git plan "gc --grace now"
    Then the exit code is 0
    And git fsck --full is clean
    When I record in "s" with tool "again"
      | path  | content |
      | a.txt | a\n     |
    Then it succeeds
