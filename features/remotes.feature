Feature: Plans move between machines through git remotes and bundles
  An agent records on one machine, a person reviews and applies on another.
  A plan travels as its two refs through any git remote; what arrives is
  verified in a quarantine before it lands, and nothing is lost on either side.

  Background:
    Given a repository with files
      | path       | content      |
      | src/app.py | print('hi')\n |
      | README.md  | # app\n       |
    And a bare remote "origin"
    And machine "B" is a clone of "origin"

  Scenario: A round trip: A records and pushes, B fetches, reviews and applies, A sees it applied
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path       | content          |
      | src/app.py | print('hello')\n |
    When I run git plan "push origin fix-1"
    Then the exit code is 0
    And the output contains "fix-1"
    And the output contains "new plan"
    And the remote "origin" has plan "fix-1" at the tip of machine "A"
    When I am on machine "B"
    And I run git plan "fetch origin"
    Then the exit code is 0
    And the output contains "new plan"
    And git "log --notes=changesets/* --format=%s%n%N refs/changesets/fix-1" prints "write_file"
    When I run git plan "diff fix-1"
    Then the output contains "+print('hello')"
    When I run git plan "apply fix-1"
    Then the exit code is 0
    And git "show HEAD:src/app.py" prints "print('hello')"
    When I run git plan "push origin fix-1"
    Then the exit code is 0
    And the output contains "fast-forward"
    When I am on machine "A"
    And I run git plan "fetch origin fix-1"
    Then the exit code is 0
    And the output contains "fast-forward"
    When I run git plan "status fix-1"
    Then the output contains "applied"
    And git fsck --full is clean

  Scenario: Fetching again is up to date, and a plan the remote lacks is not found
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    When I run git plan "push origin"
    And I am on machine "B"
    And I run git plan "fetch origin"
    And I run git plan "fetch origin fix-1"
    Then the exit code is 0
    And the output contains "up to date"
    When I run git plan "fetch origin nope"
    Then the exit code is 3
    And the output contains "no plan named 'nope'"

  Scenario: Pushing all plans pushes the whole ones and leaves out a ref that is no plan (a symbolic ref made by hand)
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And the user sets the repository up with:
      """
      git symbolic-ref refs/changesets/sym refs/changesets/fix-1
      """
    When I run git plan "push origin"
    Then the exit code is 0
    And the output contains "fix-1"
    And the output contains "  sym                                             damaged here: not pushed"
    And git "ls-remote origin refs/changesets/*" does not print "sym"

  Scenario: push -q and fetch -q print nothing but errors, as git's do
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    When I run git plan "push -q origin fix-1"
    Then the exit code is 0
    And the output is empty
    And the remote "origin" has plan "fix-1" at the tip of machine "A"
    When I am on machine "B"
    And I run git plan "fetch -q origin fix-1"
    Then the exit code is 0
    And the output is empty
    When I run git plan "fetch -q origin nope"
    Then the exit code is 3
    And the output contains "no plan named 'nope'"

  Scenario: A fetch into a repository whose objects directory is on another filesystem lands whole
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And I run git plan "push -q origin fix-1"
    When I am on machine "B"
    And the repository's objects directory is moved to another filesystem and linked back
    And I run git plan "fetch origin fix-1"
    Then the exit code is 0
    And git shows 2 commits on "refs/changesets/fix-1"
    And git fsck --full is clean

  Scenario: A fetch fast-forwards a plan the remote extends
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And I run git plan "push origin fix-1"
    And I am on machine "B"
    And I run git plan "fetch origin fix-1"
    And I am on machine "A"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | b.txt | b\n     |
    And I run git plan "push origin fix-1"
    When I am on machine "B"
    And I run git plan "fetch origin fix-1"
    Then the exit code is 0
    And the output contains "fast-forward"
    And git shows 3 commits on "refs/changesets/fix-1"
    And git fsck --full is clean

  Scenario: Both sides recorded: push and fetch refuse in either order, and nothing is lost
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And I run git plan "push origin fix-1"
    And I am on machine "B"
    And I run git plan "fetch origin fix-1"
    And I record in "fix-1" with tool "from_b"
      | path  | content |
      | b.txt | b\n     |
    And I am on machine "A"
    And I record in "fix-1" with tool "from_a"
      | path  | content |
      | c.txt | c\n     |
    And I run git plan "push origin fix-1"
    When I am on machine "B"
    And I run git plan "push origin fix-1"
    Then the exit code is 4
    And the output contains "git plan fetch origin"
    When I run git plan "fetch origin fix-1"
    Then the exit code is 4
    And the output contains "both sides recorded"
    And git "log --format=%s refs/changesets/fix-1" prints "from_b"
    When I am on machine "A"
    And I run git plan "fetch origin fix-1"
    Then the exit code is 0
    And the output contains "up to date"
    And git "log --format=%s refs/changesets/fix-1" prints "from_a"
    When I am on machine "B"
    And I run git plan "fetch --force origin fix-1"
    Then the exit code is 0
    And the output contains "forced update"
    And git "log --format=%s refs/changesets/fix-1" prints "from_a"
    And git fsck --full is clean

  Scenario: A fetch that leaves a diverged plan says what became of every plan, the ones it landed too
    Given a plan "fix-1"
    And I run git plan "push origin fix-1"
    And I am on machine "B"
    And I run git plan "fetch origin fix-1"
    And I record in "fix-1" with tool "from_b"
      | path  | content |
      | b.txt | b\n     |
    And I am on machine "A"
    And I record in "fix-1" with tool "from_a"
      | path  | content |
      | c.txt | c\n     |
    And a plan "fix-2"
    And I run git plan "push origin fix-1 fix-2"
    When I am on machine "B"
    And I run git plan "fetch origin --json"
    Then the exit code is 4
    And the fetch document says "fix-1" "diverged" and "fix-2" "new"
    And the output contains "both sides recorded"
    And git "log --format=%s -n 1 refs/changesets/fix-1" prints "from_b"
    And ref "refs/changesets/fix-2" exists
    When I run git plan "fetch origin"
    Then the exit code is 4
    And the output contains "fix-1"
    And the output contains "diverged: not changed"
    And the output contains "fix-2"
    And the output contains "up to date"

  Scenario: A plan applied here that the remote extended is refused as such, not as changesets on both sides
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And I run git plan "push origin fix-1"
    And I am on machine "B"
    And I run git plan "fetch origin fix-1"
    And I run git plan "apply fix-1"
    And I am on machine "A"
    And I record in "fix-1" with tool "from_a"
      | path  | content |
      | c.txt | c\n     |
    And I run git plan "push origin fix-1"
    When I am on machine "B"
    And I run git plan "fetch origin fix-1"
    Then the exit code is 4
    And the output contains "fix-1: origin has every changeset here, and the records differ (applied on one side, or rewritten)"
    And the output does not contain "both sides recorded"

  Scenario: A plan the remote lacks changesets of is ahead: fetch changes nothing, push --force replaces
    Given a plan "fix-1"
    And I run git plan "push origin fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    When I run git plan "fetch origin fix-1"
    Then the exit code is 0
    And the output contains "this repository is ahead"
    When I run git plan "push origin fix-1"
    Then the exit code is 0
    And the remote "origin" has plan "fix-1" at the tip of machine "A"

  Scenario: list --remote shows the remote's plans without fetching them
    Given a plan "fix-1"
    And a plan "fix-2"
    And I run git plan "push origin fix-1 fix-2"
    When I am on machine "B"
    And I run git plan "list --remote origin"
    Then the exit code is 0
    And the output contains "fix-1"
    And the output contains "not here"
    And ref "refs/changesets/fix-1" does not exist
    When I run git plan "list --remote origin --json"
    Then the output contains "gitplan.remote-list/1"

  Scenario: A host that refuses refs outside branches and tags is named, and a bundle carries the plan instead
    Given the remote "origin" refuses refs outside branches and tags
    And a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    When I run git plan "push origin fix-1"
    Then the exit code is 1
    And the output contains "only branches and tags"
    And the output contains "push --bundle"
    And the remote "origin" has no plan "fix-1"
    When I run git plan "push --bundle {tmp}/fix-1.bundle fix-1"
    Then the exit code is 0
    When I am on machine "B"
    And I run git plan "fetch {tmp}/fix-1.bundle"
    Then the exit code is 0
    And the output contains "new plan"
    When I run git plan "diff fix-1"
    Then the output contains "+a"
    And git fsck --full is clean

  Scenario: An unreachable remote is a clear error
    Given a plan "fix-1"
    When I run git plan "push {tmp}/nowhere.git fix-1"
    Then the exit code is 1
    And the output contains "does not appear to be a git repository"
    When I run git plan "fetch https://user:s3cret@127.0.0.1:9/x.git"
    Then the exit code is 1
    And the output does not contain "s3cret"

  Scenario: Plans travel through a git daemon on 127.0.0.1
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And I run git plan "push origin fix-1"
    And a git daemon serves "origin" read-only
    When I am on machine "B"
    And I run git plan "list --remote DAEMON" against the daemon
    Then the output contains "fix-1"
    When I run git plan "fetch DAEMON fix-1" against the daemon
    Then the exit code is 0
    And the output contains "new plan"
    And git fsck --full is clean

  Scenario Outline: A hostile plan is refused whole: <shape>
    Given machine "A" holds a plan "evil" forged with git plumbing whose changeset adds <shape>
    And machine "A" pushes plan "evil" to "origin" with plain git
    And I am on machine "B"
    And I count the objects of the repository
    When I run git plan "fetch origin evil"
    Then the exit code is 2
    And the output contains "is unsafe"
    And the output contains "<reason>"
    And nothing of the fetch is left in the repository
    And git fsck --full is clean

    # git's own fsck (fetch.fsckObjects in the quarantine) catches the names it knows first.
    Examples:
      | shape                         | reason                       |
      | a .git directory              | hasDotgit                    |
      | a .GIT directory              | hasDotgit                    |
      | an NTFS short name            | hasDotgit                    |
      | an NTFS trailing dot          | hasDotgit                    |
      | an HFS ignorable              | hasDotgit                    |
      | a parent directory            | hasDotdot                    |
      | an absolute symlink           | points outside the worktree  |
      | a symlink out of the worktree | points outside the worktree  |
      | a symlink into .git           | points into a .git directory |
      | a symlink that climbs after a name | climbs ('..') after naming |
      | a gitlink                     | is a gitlink                 |

  Scenario Outline: A plan whose chain is not a plan's is refused: it <defect>
    Given machine "A" holds a plan "evil" forged with git plumbing that <defect>
    And machine "A" pushes plan "evil" to "origin" with plain git
    And I am on machine "B"
    And I count the objects of the repository
    When I run git plan "fetch origin"
    Then the exit code is 2
    And the output contains "<reason>"
    And nothing of the fetch is left in the repository

    Examples:
      | defect                          | reason                 |
      | claims another plan's id        | claims plan            |
      | numbers its changeset 7         | says changeset 7       |
      | has a merge in its chain        | has 2 parents          |
      | has a root that changes files   | root                   |
      | has a note that does not decode | does not decode        |
      | has a note of an unknown schema | does not decode        |
      | annotates a commit of the user  | not this plan's        |
      | has a malformed changeset number | malformed Changeset trailer |
      | has a note that lists other files than its changeset changes | lists other files than its commit changes ('README.md', 'fine.txt') |
      | has a note whose old path is not text | old_path must be text |
      | has a note holding half a UTF-16 pair | surrogates not allowed |
      | has a title that retitles the terminal | plan record title holds control characters |
      | has a tool name with an escape sequence | the tool name must be one line, without control characters |

  Scenario: A forged plan that is well formed is accepted
    Given machine "A" holds a plan "fine" forged with git plumbing that is well formed
    And machine "A" pushes plan "fine" to "origin" with plain git
    When I am on machine "B"
    And I run git plan "fetch origin fine"
    Then the exit code is 0

  Scenario: A file over the size limit is refused
    Given a plan "big"
    And I record in "big" with tool "write_file"
      | path    | content     |
      | big.bin | <200 bytes> |
    And I run git plan "push origin big"
    And I am on machine "B"
    And git config "plan.verify.maxFileSize" is "100"
    When I run git plan "fetch origin big"
    Then the exit code is 2
    And the output contains "plan.verify.maxFileSize"

  Scenario: A hostile plan fetched with plain git is marked unsafe, and apply refuses it
    Given machine "A" holds a plan "evil" forged with git plumbing whose changeset adds a .git directory
    And machine "A" pushes plan "evil" to "origin" with plain git
    And I am on machine "B"
    And I remember the user's state
    When I run git plan "status evil"
    Then the exit code is 3
    Given the user sets the repository up with:
      """
      git fetch -q origin 'refs/changesets/*:refs/changesets/*' 'refs/notes/changesets/*:refs/notes/changesets/*'
      """
    When I run git plan "status evil"
    Then the output contains "unsafe"
    When I run git plan "status evil --json"
    Then the output shows "\"unsafe\": \"invalid path"
    When I run git plan "diff evil"
    Then the output contains "+echo owned"
    And the output contains "warning: plan 'evil' is unsafe"
    When I run git plan "artifacts evil"
    Then the output contains "warning: plan 'evil' is unsafe"
    When I run git plan "apply evil"
    Then the exit code is 2
    And the output contains "is unsafe"
    And the user's state is unchanged

  Scenario: A half-done record made by hand is not finished when it is unsafe
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And plan "fix-1" has a half-done record forged with git plumbing that adds a .git directory
    When I record in "fix-1" with tool "write_file"
      | path  | content |
      | b.txt | b\n     |
    Then it fails with exit code 2
    And the error mentions "'.git' components"
    And git shows 2 commits on "refs/changesets/fix-1"

  Scenario: A half-done record made by hand that starts a second plan root is not finished
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And plan "fix-1" has a half-done record forged with git plumbing that adds a second plan root
    When I record in "fix-1" with tool "write_file"
      | path  | content |
      | b.txt | b\n     |
    Then it fails with exit code 2
    And the error mentions "starts a plan on top of this plan's own changesets"

  Scenario: A half-done record made by hand that is safe is finished, as a killed writer's is
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And plan "fix-1" has a half-done record forged with git plumbing that adds a fine file
    When I record in "fix-1" with tool "write_file"
      | path  | content |
      | b.txt | b\n     |
    Then it succeeds
    And git shows 4 commits on "refs/changesets/fix-1"
    And git fsck --full is clean

  Scenario Outline: A fetch killed <when> changes no plan, and the next fetch or gc finishes the job
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And I run git plan "push origin fix-1"
    And I am on machine "B"
    When a real "git plan fetch origin fix-1" is killed at "<point>"
    Then ref "refs/changesets/fix-1" does not exist
    And ref "refs/notes/changesets/fix-1" does not exist
    And a fetch quarantine is left in the repository
    When I run git plan "gc --grace now"
    Then the exit code is 0
    And the output contains "fetch quarantine"
    And no fetch quarantine is left in the repository
    When I run git plan "fetch origin fix-1"
    Then the exit code is 0
    And the output contains "new plan"
    And git fsck --full is clean

    Examples:
      | when                                | point               |
      | before verifying what arrived       | fetch.quarantined   |
      | after moving the objects, before refs | fetch.objects-moved |

  Scenario: Cancelling a fetched plan removes the objects the fetch brought
    Given I count the objects of the repository
    And a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content              |
      | a.txt | only in this plan\n  |
    And I run git plan "push origin fix-1"
    And I am on machine "B"
    And I count the objects of the repository
    And I run git plan "fetch origin fix-1"
    When I run git plan "cancel fix-1"
    Then the exit code is 0
    And nothing of the fetch is left in the repository
    And git fsck --full is clean

  Scenario: A plan fetched under the name of a cancelled one that kept everything leaves its packs to gc's checks
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content   |
      | a.txt | from A\n  |
    And I run git plan "push origin fix-1"
    And I am on machine "B"
    And a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content      |
      | b.txt | only on B\n  |
    And "refs/heads/kept" is moved to "refs/changesets/fix-1" with git update-ref
    And the index file is corrupt
    When I run git plan "cancel fix-1"
    Then the output contains "kept everything"
    Given the user writes the index again from HEAD
    When I run git plan "fetch origin fix-1"
    Then the exit code is 0
    And the output contains "new plan"
    When I run git plan "gc --grace now"
    Then the output contains "removed plan state fix-1: left by an earlier plan of that name"
    And git fsck --full is clean
    And git "show kept:b.txt" prints "only on B"

  Scenario: A plan fetched back after its cancel was killed, its objects all here already, keeps them at gc
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content   |
      | a.txt | from A\n  |
    And I run git plan "push origin fix-1"
    And a "git plan cancel" of "fix-1" was killed at "cancel.refs-deleted"
    When I run git plan "fetch origin fix-1"
    Then the exit code is 0
    And the output contains "new plan"
    Given I record in "fix-1" with tool "more"
      | path  | content   |
      | b.txt | more\n    |
    When I run git plan "gc --grace now"
    Then the output contains "removed plan state fix-1: left by an earlier plan of that name"
    And git fsck --full is clean
    When I run git plan "diff fix-1"
    Then the exit code is 0
    And the output contains "+from A"

  Scenario: Cancelling a fetched plan also removes its pack's reverse index (pack.writeReverseIndex)
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content              |
      | a.txt | only in this plan\n  |
    And I run git plan "push origin fix-1"
    And I am on machine "B"
    And git config "pack.writeReverseIndex" is "true"
    And I count the objects of the repository
    And I run git plan "fetch origin fix-1"
    When I run git plan "cancel fix-1"
    Then the exit code is 0
    And nothing of the fetch is left in the repository
    And git fsck --full is clean

  Scenario: A server without atomic pushes gets the notes ref first, then the plan ref
    Given the user sets the repository up with:
      """
      git --git-dir=../origin.git config receive.advertiseAtomic false
      """
    And a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    When I run git plan "push origin fix-1"
    Then the exit code is 0
    And the remote "origin" has plan "fix-1" at the tip of machine "A"

  Scenario: A plan rewound here is not pushed over the remote's: a server without atomic pushes keeps both its refs
    Given the user sets the repository up with:
      """
      git --git-dir=../origin.git config receive.advertiseAtomic false
      """
    And a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | b.txt | b\n     |
    And I run git plan "push origin fix-1"
    And I run git plan "rewind fix-1 1"
    And I note the refs of plan "fix-1" on the remote "origin"
    # The notes ref would fast-forward, the plan ref not: neither moves.
    When I run git plan "push origin fix-1"
    Then the exit code is 4
    And the output contains "holds changesets of fix-1 that the plan here no longer has (rewound, dropped"
    And the refs of plan "fix-1" on the remote "origin" are as noted
    When I run git plan "push --force origin fix-1"
    Then the exit code is 0
    And the remote "origin" has plan "fix-1" at the tip of machine "A"

  Scenario: A plan ref another push moves while a push to a server without atomic pushes runs: the error names what went first
    Given the user sets the repository up with:
      """
      git --git-dir=../origin.git config receive.advertiseAtomic false
      """
    And a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And I run git plan "push origin fix-1"
    And I am on machine "B"
    And I run git plan "fetch origin fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | b.txt | b\n     |
    And I am on machine "A"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | c.txt | c\n     |
    When I push "fix-1" to "origin" while machine "B" pushes only its plan ref of it in between
    Then it fails with exit code 4
    And the error mentions "(refs/notes/changesets/fix-1 went first and stays)"

  Scenario: A plan rewound on the remote is reported as such to a clone that recorded nothing
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | b.txt | b\n     |
    And I run git plan "push origin fix-1"
    And I am on machine "B"
    And I run git plan "fetch origin fix-1"
    And I am on machine "A"
    And I run git plan "rewind fix-1 1"
    And I run git plan "push --force origin fix-1"
    When I am on machine "B"
    And I run git plan "fetch origin fix-1"
    Then the exit code is 4
    And the output contains "fix-1: origin has no changeset this repository lacks, and other records (it was applied there, or rewound or dropped there)"
    And the output does not contain "both sides recorded"

  Scenario: A plan applied on the remote while this clone recorded more: fetch and push say the records differ
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And I run git plan "push origin fix-1"
    And I am on machine "B"
    And I run git plan "fetch origin fix-1"
    And I run git plan "apply fix-1"
    And I run git plan "push origin fix-1"
    And I am on machine "A"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | b.txt | b\n     |
    And I note the refs of plan "fix-1" on the remote "origin"
    When I run git plan "fetch origin fix-1"
    Then the exit code is 4
    And the output contains "fix-1: origin has no changeset this repository lacks, and other records (it was applied there"
    When I run git plan "push origin fix-1"
    Then the exit code is 4
    And the output contains "origin holds other records of fix-1 than this repository (applied there, or rewritten, or another clone's push cut short"
    And the output contains "and no changeset it lacks: nothing was pushed"
    And the refs of plan "fix-1" on the remote "origin" are as noted
    # --force replaces the remote's records, its applied state included: not a fast-forward.
    When I run git plan "push --force origin fix-1"
    Then the exit code is 0
    And the output contains "forced update"

  Scenario: A damaged plan is not pushed: named, it is refused; with all plans, the whole ones go
    Given a plan "good"
    And a plan "broken"
    And the user sets the repository up with:
      """
      git update-ref -d refs/notes/changesets/broken
      """
    When I run git plan "push origin broken"
    Then the exit code is 5
    And the output contains "plan 'broken' has no notes ref (its invocation records): nothing was sent"
    When I run git plan "push origin"
    Then the exit code is 0
    And the output contains "good"
    And the output contains "  broken                                          damaged here: not pushed (`git plan list` says why)"
    And git "ls-remote origin refs/changesets/*" does not print "broken"
    When I run git plan "push origin --json"
    Then the output contains ""outcome": "damaged""
    # A bundle follows the same rules.
    When I run git plan "push --bundle {tmp}/all.bundle"
    Then the exit code is 0
    And the output contains "  broken                                          damaged here: not pushed"
    When I run git plan "push --bundle {tmp}/named.bundle broken"
    Then the exit code is 5
    When I am on machine "B"
    And I run git plan "fetch {tmp}/all.bundle"
    Then the exit code is 0
    And the output contains "good"

  Scenario: A bundle whose plans' base this repository lacks is refused with what to fetch
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And I run git plan "push --bundle {tmp}/fix-1.bundle fix-1"
    And the user sets the repository up with:
      """
      git init -q ../unrelated && git -C ../unrelated commit -q --allow-empty -m other
      """
    And machine "C" is the repository "unrelated"
    And I am on machine "C"
    And I count the objects of the repository
    When I run git plan "fetch {tmp}/fix-1.bundle"
    Then the exit code is 1
    And the output contains "(their base), which this repository lacks"
    And nothing of the fetch is left in the repository

  Scenario: On a terminal git's progress is shown; piped, it is not
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And a plan "fix-2"
    And I record in "fix-2" with tool "write_file"
      | path  | content |
      | b.txt | b\n     |
    When I run the git-plan program with "push origin fix-1 fix-2" on a terminal
    Then the terminal shows "Writing objects"
    When I am on machine "B"
    And I run git plan "fetch origin fix-1"
    Then the exit code is 0
    And the output does not contain "objects"
    When I run the git-plan program with "fetch origin fix-2" on a terminal
    Then the terminal shows "objects"

  Scenario: --json names the unsafe path
    Given machine "A" holds a plan "evil" forged with git plumbing whose changeset adds a symlink into .git
    And machine "A" pushes plan "evil" to "origin" with plain git
    And I am on machine "B"
    When I run git plan "fetch origin evil --json"
    Then the exit code is 2
    And the output shows "\"paths\": [\n    \"hooks\"\n  ]"

  Scenario Outline: A hostile plan fetched with plain git fails the same checks: <shape>
    Given machine "A" holds a plan "evil" forged with git plumbing whose changeset adds <shape>
    When I run git plan "status evil"
    Then the output contains "unsafe: "
    And the output contains "<reason>"
    When I run git plan "apply evil"
    Then the exit code is 2

    Examples:
      | shape                              | reason                      |
      | a .git directory                   | invalid path                |
      | a .GIT directory                   | invalid path                |
      | an NTFS short name                 | invalid path                |
      | an NTFS trailing dot               | invalid path                |
      | an HFS ignorable                   | invalid path                |
      | a parent directory                 | invalid path                |
      | an absolute symlink                | points outside the worktree |
      | a symlink that climbs after a name | climbs                      |
      | a gitlink                          | is a gitlink                |

  Scenario: A plan made on a commit this repository lacks is refused until its branch is fetched
    Given machine "A" has a branch "side" that "origin" does not
    And a plan "fix-1"
    And I run git plan "push origin fix-1"
    And I am on machine "B"
    And I count the objects of the repository
    When I run git plan "fetch origin fix-1"
    Then the exit code is 1
    And the output contains "which this repository lacks: fetch the branch it was made on first"
    And nothing of the fetch is left in the repository

  Scenario: Credentials in a remote URL are never printed
    Given a plan "fix-1"
    And I run git plan "push origin fix-1"
    And I am on machine "B"
    And the URL "https://bob:hunter2secret@example.com/x.git" leads to the remote "origin"
    When I run git plan "fetch https://bob:hunter2secret@example.com/x.git fix-1"
    Then the exit code is 0
    And the output contains "https://***@example.com/x.git"
    And the output does not contain "hunter2secret"
    When I run git plan "fetch https://bob:hunter2secret@example.com/x.git nosuch --json"
    Then the exit code is 3
    And the output does not contain "hunter2secret"
    When I run git plan "list --remote https://tok3nsecret@example.com/x.git"
    Then the output does not contain "tok3nsecret"

  Scenario: A push half done on the remote (its notes ref ahead) is fetched as the remote's plan ref has it
    Given a plan "fix-1"
    And I run git plan "push origin fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And machine "A" pushes only the notes ref of plan "fix-1" to "origin"
    When I am on machine "B"
    And I run git plan "fetch origin"
    Then the exit code is 0
    And git shows 1 commits on "refs/changesets/fix-1"
    When I run git plan "status fix-1"
    Then the exit code is 0

  Scenario: A remote that starts with '-' is refused, never passed to git as an option
    When I run git plan "fetch -- --upload-pack=touch"
    Then the exit code is 2
    And the output contains "must not start with '-'"

  Scenario: A plan applied here while a fetch of it runs keeps its applied record
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And I run git plan "push origin fix-1"
    And I am on machine "B"
    And I run git plan "fetch origin fix-1"
    And I am on machine "A"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | b.txt | b\n     |
    And I run git plan "push origin fix-1"
    And I am on machine "B"
    When I fetch "fix-1" from "origin" while the plan is applied here in between
    Then it fails with exit code 4
    And the error mentions "changed here meanwhile"
    When I run git plan "status fix-1"
    Then the output contains "state:      applied"
    And git fsck --full is clean

  Scenario: A fetch of a newer plan while it is applied here waits for the apply: the plan marked applied is what was applied
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And I run git plan "push origin fix-1"
    And I am on machine "B"
    And I run git plan "fetch origin fix-1"
    And I am on machine "A"
    And I record in "fix-1" with tool "more"
      | path  | content |
      | b.txt | b\n     |
    And I run git plan "push origin fix-1"
    And I am on machine "B"
    When "git plan fetch origin fix-1" runs while an apply of "fix-1" is paused before its commits
    Then the apply succeeded and the other command failed with exit code 4, saying "changed here meanwhile"
    And plan "fix-1" has 1 changesets
    And HEAD has the tree of the tip of "fix-1"
    And git fsck --full is clean

  Scenario: A plan cancelled here while a fetch of it runs is reported as such, not as unsafe, and fetches again
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And I run git plan "push origin fix-1"
    And I am on machine "B"
    And I run git plan "fetch origin fix-1"
    And I am on machine "A"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | b.txt | b\n     |
    And I run git plan "push origin fix-1"
    And I am on machine "B"
    When I fetch "fix-1" from "origin" while the plan is cancelled here in between
    Then it fails with exit code 1
    And the error mentions "was cancelled or changed here while it was fetched"
    And ref "refs/changesets/fix-1" does not exist
    And git fsck --full is clean
    When I run git plan "fetch origin fix-1"
    Then the exit code is 0
    And git shows 3 commits on "refs/changesets/fix-1"

  Scenario: A blobless partial clone fetches a plan whole: its files come too, not only its trees
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    When a blobless partial clone of this repository fetches plan "fix-1"
    Then it succeeds
    And the partial clone holds "a\n" at "refs/changesets/fix-1:a.txt" without asking its remote
    And git fsck --full is clean in the partial clone

  Scenario: In a blobless partial clone, a plan on an older commit reads the files git has not fetched yet, as git does
    Given the user commits "README.md" with content "# newer\n" on main
    When in a blobless partial clone of this repository I run git plan "create p --base HEAD~1", "record p --tool t --set README.md={tmp}/in.txt" and "diff p"
    Then each of them exited 0, and the last printed "-# app"

  Scenario: A plan cancelled here while its push runs is reported as such, not as the remote's refusal
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    When I push "fix-1" to "origin" while the plan is cancelled here in between
    Then it fails with exit code 1
    And the error mentions "was cancelled here while it was pushed"
    And the error does not mention "refused"

  Scenario Outline: A plan made by hand that <defect> is refused by apply
    Given machine "A" holds a plan "evil" forged with git plumbing that <defect>
    And I remember the user's state
    When I run git plan "apply evil"
    Then the exit code is 2
    And the output contains "<reason>"
    And the user's state is unchanged

    Examples:
      | defect                                      | reason                      |
      | has an unknown plan format                  | has Plan-Format '9', not 1  |
      | has a root with two parents                 | has 2 parents               |
      | misses the note of its changeset            | invocation record of        |
      | has the plan record of another plan         | names plan 'another'        |
      | has notes that claim another plan           | claims plan 'another'       |
      | holds a file in its notes that is not a note | which is not a note        |

  Scenario Outline: A plan made by hand whose changeset adds <shape> is unsafe
    Given machine "A" holds a plan "evil" forged with git plumbing whose changeset adds <shape>
    When I run git plan "status evil"
    Then the output contains "<reason>"

    Examples:
      | shape                             | reason                   |
      | a file of mode 100664             | unknown file mode 100664 |
      | a symlink with a 5000-byte target | target over 4096 bytes   |

  Scenario Outline: The limits of what a plan may hold come from git config: <key>
    Given a plan "big"
    And I record in "big" with tool "write_file"
      | path  | content     |
      | a.txt | <200 bytes> |
    And I run git plan "push origin big"
    And I am on machine "B"
    And git config "<key>" is "<value>"
    When I run git plan "fetch origin big"
    Then the exit code is 2
    And the output contains "<reason>"

    Examples:
      | key                        | value | reason                          |
      | plan.verify.maxChangesets  | 0     | more than 0 changesets          |
      | plan.verify.maxNoteSize    | 20    | plan.verify.maxNoteSize         |
      | plan.verify.maxFileSize    | lots  | is not a number                 |

  Scenario: A plan whose notes ref did not come along is refused
    Given a plan "fix-1"
    And machine "A" pushes only the plan ref of plan "fix-1" to "origin"
    When I am on machine "B"
    And I run git plan "fetch origin"
    Then the exit code is 2
    And the output contains "no notes ref"

  Scenario: Several plans fetched at once all land
    Given a plan "fix-1"
    And a plan "fix-2"
    And I record in "fix-2" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And I run git plan "push origin"
    When I am on machine "B"
    And I run git plan "fetch origin"
    Then the exit code is 0
    And the output contains "fix-1"
    And the output contains "fix-2"
    And git fsck --full is clean
    When I run git plan "push origin"
    Then the output contains "up to date"

  Scenario: push --force replaces the remote's plan when both sides recorded
    Given a plan "fix-1"
    And I run git plan "push origin fix-1"
    And I am on machine "B"
    And I run git plan "fetch origin fix-1"
    And I record in "fix-1" with tool "from_b"
      | path  | content |
      | b.txt | b\n     |
    And I am on machine "A"
    And I record in "fix-1" with tool "from_a"
      | path  | content |
      | a.txt | a\n     |
    And I run git plan "push origin fix-1"
    When I am on machine "B"
    And I run git plan "push --force origin fix-1 --json"
    Then the exit code is 0
    And the output shows "\"outcome\": \"forced\""
    And the remote "origin" has plan "fix-1" at the tip of machine "B"

  Scenario: Nothing to push or bundle, and a remote plan with only its notes ref
    When I run git plan "push origin"
    Then the exit code is 0
    And the output contains "no plans to push"
    When I run git plan "push --bundle {tmp}/none.bundle"
    Then the exit code is 3
    Given a plan "half"
    And machine "A" pushes only the notes ref of plan "half" to "origin"
    And a plan "whole"
    And I run git plan "push origin whole"
    # A push cut short (or a plan ref the server refused) holds up no other plan.
    When I am on machine "B"
    And I run git plan "fetch origin"
    Then the exit code is 0
    And the output contains "only its notes ref there (a push cut short, or refused): nothing to fetch"
    And git "for-each-ref --format=%(refname) refs/changesets" prints "refs/changesets/whole"
    And git "for-each-ref --format=%(refname) refs/changesets" does not print "half"
    When I run git plan "fetch origin half"
    Then the exit code is 3
    And the output contains "origin has no plan named 'half'"

  Scenario: A symlink that climbs first, then names, is accepted
    Given machine "A" holds a plan "links" forged with git plumbing whose changeset adds a symlink that climbs first
    And machine "A" pushes plan "links" to "origin" with plain git
    When I am on machine "B"
    And I run git plan "fetch origin links"
    Then the exit code is 0
    When I run git plan "status links"
    Then the output does not contain "unsafe"

  Scenario: Two fetches of the same plan at once: the second finds it landed
    Given a plan "fix-1"
    And I record in "fix-1" with tool "write_file"
      | path  | content |
      | a.txt | a\n     |
    And I run git plan "push origin fix-1"
    And I am on machine "B"
    When I fetch "fix-1" from "origin" while another fetch of it lands in between
    Then it succeeds
    And git shows 2 commits on "refs/changesets/fix-1"
    And git fsck --full is clean
