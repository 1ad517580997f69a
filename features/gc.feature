Feature: git plan gc removes what interrupted operations left, after a grace period

  Background:
    Given a repository with files
      | path      | content  |
      | README.md | hello\n  |
    And a plan "g"
    And I record in "g" with tool "first"
      | path      | content  |
      | a.txt     | a\n      |

  Scenario: A record killed after writing its pack leaves a pack that gc removes once the grace is over
    Given a "git plan record" into "g" was killed at "transaction.before-publish"
    When I run git plan "gc --grace 1h"
    Then the exit code is 0
    And the output contains "kept pack"
    And the output contains "younger than the grace"
    And the unpublished pack is still there
    When I run git plan "gc --dry-run --grace now"
    Then the output contains "would remove pack"
    And the unpublished pack is still there
    When I run git plan "gc --grace now"
    Then the output contains "removed pack"
    And the unpublished pack is gone
    And plan "g" has 1 changesets
    And git fsck --full is clean

  Scenario: A record killed while it writes its pack's .keep leaves a file that gc removes once the grace is over
    Given a "git plan record" into "g" was killed at "packfile.keep-aside"
    When I run git plan "gc --grace 1h"
    Then the output contains "younger than the grace"
    When I run git plan "gc --grace now"
    Then the exit code is 0
    And the output contains ".keep."
    And no file in the pack directory ends in ".tmp"
    And plan "g" has 1 changesets
    And git fsck --full is clean

  Scenario: A verified mark a killed writer left under its temporary name is removed as such, once older than the grace
    Given the user sets the repository up with:
      """
      mkdir -p .git/gitplan/verified
      printf 'x\n' > .git/gitplan/verified/.g.12924.139987989674880
      touch -d '2 days ago' .git/gitplan/verified/.g.12924.139987989674880
      printf 'y\n' > .git/gitplan/verified/.g.12925.139987989674880
      """
    When I run git plan "gc --grace 1d"
    Then the exit code is 0
    And the output contains "removed temporary file"
    And the output contains ".g.12924.139987989674880: left by a writer that was killed"
    And the output does not contain "plan .g.12924.139987989674880"
    And the output does not contain ".g.12925"
    And the repository still has the file ".git/gitplan/verified/.g.12925.139987989674880"

  Scenario: gc asks git once for everything reachable, however many unpublished packs it removes
    Given a "git plan record" into "g" was killed at "transaction.before-publish"
    And a plan "h"
    And a "git plan record" into "h" was killed at "transaction.before-publish"
    When I run gc with grace now, counting how often it asks git for everything reachable
    Then it removed 2 unpublished packs, asking git once

  Scenario: A record killed after taking the plan's newest packs in leaves a copy of them that gc removes
    When I record 5 one-file changesets into "g", one after another
    Then plan "g" owns 4 packs
    Given a "git plan record" into "g" was killed at "transaction.before-publish"
    Then plan "g" owns 5 packs
    When I run git plan "gc --grace 1h"
    Then the unpublished pack is still there
    When I run git plan "gc --dry-run --grace now"
    Then the output contains "would remove pack"
    And the unpublished pack is still there
    When I run git plan "gc --grace now"
    Then the output contains "a copy: the plan's other packs hold its commits"
    And the unpublished pack is gone
    And plan "g" owns 4 packs
    And plan "g" has 6 changesets
    And git fsck --full is clean
    When I record 1 one-file changesets into "g", one after another
    Then plan "g" owns 2 packs
    And git fsck --full is clean

  Scenario: The packs a published record took in, left when it was killed before removing them, go at gc
    When I record 5 one-file changesets into "g", one after another
    Given a "git plan record" into "g" was killed at "transaction.published"
    Then plan "g" owns 5 packs
    When I run git plan "gc --grace now --json"
    Then the exit code is 0
    And plan "g" owns 2 packs
    And plan "g" has 7 changesets
    And git fsck --full is clean

  Scenario: A record killed while writing its pack leaves a temporary file and a registry entry
    Given a "git plan record" into "g" was killed at "packs.registered"
    When I run git plan "gc --dry-run"
    Then the output contains "kept temporary file"
    And the output contains "younger than the grace: a writer may be writing it"
    And the output does not contain "would remove"
    When I run git plan "gc --dry-run --grace now"
    Then the output contains "would remove registry entry"
    And the output contains "would remove temporary file"
    When I run git plan "gc --grace now --json"
    Then the exit code is 0
    And the JSON lists a removed "temporary file"
    And the JSON lists a removed "registry entry"
    And no temporary pack file is left
    And plan "g" has 1 changesets
    And git fsck --full is clean

  Scenario: A rewind that was undone leaves packs the notes ref's reflog names: gc keeps them
    When I record 2 one-file changesets into "g", one after another
    And I run git plan "rewind g 2"
    And I run git plan "undo g"
    Then plan "g" has 3 changesets
    When I run git plan "gc --grace now"
    Then the exit code is 0
    And git fsck --full is clean

  Scenario: A reflog entry whose commit names a missing parent does not stop gc
    Given the notes ref of "g" once named a commit whose second parent is missing
    When I run git plan "gc --grace now"
    Then the exit code is 0

  Scenario: gc --dry-run reports the copy another process freshened as kept, as gc then keeps it
    When I record 5 one-file changesets into "g", one after another
    Given a "git plan record" into "g" was killed at "transaction.before-publish"
    When another process freshened the newest pack of "g"
    And I run git plan "gc --dry-run --grace now"
    Then the output contains "kept pack"
    And the output contains "would remove pack"
    When I run git plan "gc --grace now"
    Then the output contains "kept pack"
    And the unpublished pack is still there
    And plan "g" has 6 changesets
    And git fsck --full is clean

  Scenario: A registry entry whose pack a killed record never put in place does not stop merges
    Given a "git plan record" into "g" was killed at "packs.registered"
    When I record 12 one-file changesets into "g", one after another
    Then plan "g" owns at most 6 packs
    And plan "g" has 13 changesets
    And git fsck --full is clean
    When I run git plan "gc --grace now"
    Then the output contains "removed registry entry"

  Scenario: The pack of a record killed before it published stays out of the merges that follow, so gc removes it whole
    Given a "git plan record" into "g" was killed at "transaction.before-publish"
    When I record 12 one-file changesets into "g", one after another
    And I run git plan "gc --grace now"
    Then the output contains "removed pack"
    And plan "g" has 13 changesets
    And git fsck --full finds nothing dangling

  Scenario: A cancel killed after moving a pack out is finished by gc
    Given a "git plan cancel" of "g" was killed at "packs.moved-to-trash"
    When I run git plan "gc --dry-run --grace now"
    Then the output contains "would remove interrupted prune"
    And the output contains "would remove lock"
    And the output contains "locks/apply-g: plan g no longer exists"
    When I run git plan "gc --grace now"
    Then the output contains "interrupted prune"
    And the output contains "no such plan"
    And no pack file and no registry of "g" is left
    And git fsck --full is clean

  Scenario: A lock file gc removes while a writer is taking it cannot let an apply in beside the writer
    Given a writer of plan "late" opened its publish lock, and gc removed the file before it locked it
    Then gc reported removing the lock file of plan "late"
    And while that writer publishes, an apply cannot take the publish gate of plan "late"

  Scenario: A lock left by a killed writer is removed
    Given a lock file on "refs/changesets/g" left 2 minutes ago
    When I run git plan "gc"
    Then the output contains "removed lock"
    And no lock file is left on "refs/changesets/g"

  Scenario: A lock that may still be held is kept by gc and by its dry run alike, saying why
    Given a lock file on "refs/changesets/g" left 5 seconds ago
    When I run git plan "gc --dry-run"
    Then the output contains "kept lock"
    And the output contains "younger than 60 s: a writer may hold it"
    And the output does not contain "would remove lock"
    When I run git plan "gc --grace now"
    Then the output contains "kept lock"
    And a lock file is still on "refs/changesets/g"

  Scenario: Nothing to do
    When I run git plan "gc"
    Then the exit code is 0
    And the output contains "nothing to clean up"

  Scenario: A grace period gc cannot read is refused
    When I run git plan "gc --grace soon"
    Then the exit code is 2
    And the output contains "invalid grace period"

  Scenario: The state of a plan cancelled while its writer ran is removed after the grace, reported first
    Given a writer left a registered pack for a plan "gone" that no longer exists
    And git writes a commit-graph
    When I run git plan "gc"
    Then the output contains "kept plan state gone"
    And the output contains "within the grace"
    When I run git plan "gc --dry-run --grace now"
    Then the output contains "would remove plan state gone"
    When I run git plan "gc --grace now"
    Then the output contains "removed plan state gone"
    And the output contains "kept plan state gone: removed git's commit-graph"
    And the packs and registry of "gone" are gone
    And git fsck --full is clean

  Scenario: A damaged plan is reported, not examined
    Given "refs/changesets/g" is moved to "HEAD^{tree}" with git update-ref
    When I run git plan "gc --grace now"
    Then the exit code is 0
    And the output contains "kept plan g: not examined"

  Scenario: A repository where gitplan never ran has nothing to clean up
    Given another repository where gitplan never ran
    When I run git plan "gc --grace now"
    Then the exit code is 0
    And the output contains "nothing to clean up"

  Scenario: An unpublished pack someone just freshened is kept by gc
    Given a "git plan record" into "g" was killed at "transaction.before-publish"
    And another process freshened the unpublished pack
    When I run git plan "gc --grace now"
    Then the output contains "kept pack"
    And the output contains "used by another process just now"
    And the unpublished pack is still there

  Scenario Outline: A prune that is still running (<who>) keeps its trash: gc leaves it alone
    Given a prune in <who> has moved a pack to its trash
    When I run git plan "gc --grace now"
    Then the trash of <who> is still there

    Examples:
      | who                 |
      | this process        |
      | another live process |

  Scenario: A pack the user's git add freshened stays at cancel, goes at the first gc after the grace, and is never copied twice
    Given the user stages "a.txt" with content "a\n"
    When I cancel "g"
    Then the report says a pack was kept because another process used it
    And the reasons account for each kept object once
    And I note the packs in the repository
    When I run git plan "gc --grace now"
    Then the exit code is 0
    And the packs in the repository are the ones noted
    When I run git plan "gc --grace now"
    Then the packs in the repository are the ones noted
    Given the kept packs of the cancelled plan were last used two hours ago
    When I run git plan "gc --grace now"
    Then the exit code is 0
    And no pack of plan "g" and no registry of it is left
    And the blob "a\n" is still in the object store
    And git fsck --full is clean
    And I note the packs in the repository
    When I run git plan "gc --grace now"
    Then the packs in the repository are the ones noted

  Scenario: What a copied-out object leads to in a freshened pack is kept when gc removes that pack
    # The tip (packed apart from the directory it shares with changeset 1) stays reachable from
    # FETCH_HEAD, which git gc ignores; the user's git add freshens changeset 1's pack.
    Given I record 40 files under "sub" in "g"
    And I record in "g" with tool "second"
      | path    | content |
      | top.txt | top\n   |
    And the user fetches the tip of "g" into FETCH_HEAD
    And the user stages "copy.txt" with content "sub 1\n"
    When I cancel "g"
    Then the report says a pack was kept because another process used it
    And the reasons account for each kept object once
    Given the kept packs of the cancelled plan were last used two hours ago
    When I run git plan "gc --grace now"
    Then the exit code is 0
    And no pack of plan "g" and no registry of it is left
    And git can read everything FETCH_HEAD reaches
    And git fsck --full is clean

  Scenario: The mark of a pack cancel copied objects into goes once git has repacked that pack
    When I apply "g"
    And I cancel "g"
    And I run git plan "gc --dry-run"
    Then the output does not contain "rescue mark"
    When the user runs git gc
    And I run git plan "gc --dry-run"
    Then the output contains "would remove rescue mark pack-"
    When I run git plan "gc"
    Then the output contains "removed rescue mark pack-"
    And the output contains "git repacked the pack it marked"
    And git fsck --full is clean
    When I run git plan "gc --dry-run"
    Then the output does not contain "rescue mark"

  Scenario: A pack a killed writer left without its index is removed once the grace is over
    Given a "git plan record" into "g" was killed at "packfile.pack-in-place"
    And git's receive-pack left a .keep file an hour ago for a pack it had not indexed yet
    When I run git plan "gc --grace 1h"
    Then the output contains "kept pack without an index pack-"
    And the output contains "younger than the grace: its writer may be putting its index in place"
    And the output does not contain "removed pack without an index"
    When I run git plan "gc --grace now"
    Then the output contains "removed pack without an index pack-"
    And the unpublished pack is gone
    And receive-pack's .keep file is still there
    And git fsck --full is clean
    And plan "g" has 1 changesets
    When I run git plan "gc --grace now"
    Then the output does not contain "pack without an index"

  Scenario: gc and cancel read the plans' reflogs without making any, so plan refs keep having none
    Given a plan "other"
    When I run git plan "gc"
    And I run git plan "cancel other"
    Then git reflog exists says "refs/changesets/g" has no reflog
    And git reflog exists says "refs/changesets/other" has no reflog
