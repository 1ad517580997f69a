Feature: The command line prints for people and machines, with stable exit codes

  Background:
    Given a repository with files
      | path       | content                 |
      | README.md  | one\ntwo\nthree\n       |
      | src/app.py | print(1)\n              |
    And a plan "p"
    And I record in "p" with tool "edit"
      | path       | content                 |
      | README.md  | one\n2\nthree\n         |
      | added.txt  | new\n                   |
    And a file "in.txt" outside the repository with content "from a file\n"
    And a file "dir" outside the repository is a directory

  Scenario Outline: git plan <args>
    When I run git plan "<args>"
    Then the exit code is <code>
    And the output contains "<text>"

    Examples: reading
      | args                              | code | text                                  |
      | list                              | 0    | p     open   1           2            |
      | list --json                       | 0    | "changesets": 1                       |
      | status p                          | 0    | changesets: 1                         |
      | status p --check                  | 0    | apply would conflict: no              |
      | status p --check --json           | 0    | "apply_would_conflict": false         |
      | log p                             | 0    | Tool:    edit                         |
      | log p --json                      | 0    | "invocation_id"                       |
      | artifacts p                       | 0    | #  COMMIT                             |
      | diff p --numstat                  | 0    | 1	1	README.md                       |
      | diff p 1 -- README.md             | 0    | +2                                    |
      | diff p 0..1 --name-only           | 0    | added.txt                             |
      | diff p 0                          | 0    |                                       |
      | --help                            | 0    | Exit codes: 0 ok                      |
      | record --help                     | 0    | Sources of edits                      |
      | --version                         | 0    | git-plan, version                     |
      | demo --keep                       | 0    | kept                                  |

    Examples: writing
      | args                                                                  | code | text                          |
      | create q --title "A  title"                                           | 0    | created plan q                |
      | create q --json                                                       | 0    | "state": "open"               |
      | record p --tool t --set x.txt={tmp}/in.txt                            | 0    | recorded changeset 2 of plan p |
      | record p --tool t --set x.txt={tmp}/in.txt --json --arg n=3 --arg s=v | 0    | "number": 2                   |
      | record p --tool t --set x.txt={tmp}/in.txt --parent 0 -m "why"        | 0    | t: why                        |
      | record p --tool t --delete added.txt --status error --exit-code 3     | 0    | recorded changeset 2          |
      | record p --tool t --args-json "{\"a\": [1]}" --delete added.txt         | 0    | recorded changeset 2          |
      | cancel p                                                              | 0    | cancelled plan p              |
      | cancel p --json                                                       | 0    | "objects_pruned"              |
      | gc --json                                                             | 0    | "removed": []                 |
      | gc --dry-run                                                          | 0    | nothing to clean up           |
      | apply p --check                                                       | 0    | apply would fast-forward 2 paths (commit mode) |
      | apply p                                                               | 0    | applied plan p (fast-forward, 2 paths) |
      | status p                                                              | 0    | 2 changed, 2 insertions(+), 1 deletion(-) |
      | apply p --json                                                        | 0    | "strategy": "fast-forward"    |
      | apply p --mode worktree                                               | 0    | to the worktree and index     |
      | apply p --mode branch out                                             | 0    | as branch out                 |
      | apply p --mode branch --branch out --replay                           | 0    | as branch out                 |

    Examples: refusing
      | args                                                     | code | text                                   |
      | status nope                                              | 3    | no plan named 'nope'                   |
      | create p                                                 | 2    | already exists                         |
      | create "bad id"                                          | 2    | invalid plan id                        |
      | create q --base HEAD^{tree}                              | 2    | 'HEAD^{tree}' names a tree, not a commit |
      | create q --base nosuch                                   | 3    | unknown revision 'nosuch'              |
      | record p --tool t --delete src                           | 2    | 'src': it is a directory; delete the files in it |
      | record p --tool t                                        | 2    | nothing to record                      |
      | record p --tool t --set x.txt                            | 2    | --set takes PATH=FILE                  |
      | record p --tool t --set x.txt={tmp}/dir                  | 2    | is a directory                         |
      | record p --tool t --set x.txt={tmp}/missing              | 2    | no such file                           |
      | record p --tool t --patch {tmp}/missing                  | 2    | no such file                           |
      | record p --tool t --patch {tmp}/dir                      | 2    | is a directory                         |
      | record p --tool t --patch {root}/tests-data/patches/devnull-both.patch | 2 | malformed patch                 |
      | record p --tool t --arg novalue --delete added.txt       | 2    | --arg takes K=V                        |
      | record p --tool t --args-json "{" --delete added.txt     | 2    | --args-json is not valid JSON          |
      | record p --tool t --args-json "[1]" --delete added.txt   | 2    | must be a JSON object                  |
      | record p --tool t --args-json "{\"n\": NaN}" --delete added.txt | 2 | a number JSON cannot (NaN or Infinity |
      | record p --tool t extra.txt                              | 2    | PATHs go with --from-worktree          |
      | record p --tool t --delete nothere.txt                   | 2    | no such file in the plan               |
      | diff p 9                                                 | 3    | has no changeset 9                     |
      | diff p abcdef0                                           | 3    | no changeset 'abcdef0'                 |
      | apply p --mode worktree --replay                         | 2    | does not go with --mode worktree       |
      | apply p --mode branch                                    | 2    | needs a branch name                    |
      | apply p out                                              | 2    | goes with --mode branch                |
      | apply p --mode branch "bad..name"                        | 2    | invalid branch name                    |
      | apply p --mode branch HEAD                               | 2    | invalid branch name                    |
      | apply p --mode branch --branch=-x                        | 2    | invalid branch name                    |
      | apply p --mode branch main                               | 2    | already exists                         |
      | -C {tmp}/dir status p                                    | 3    | not a git repository                   |
      | -C {tmp}/nowhere status p                                | 3    | no such directory                      |
      | status p --bogus                                         | 2    | No such option                         |
      | diff p -- /etc                                           | 2    | /etc: outside the repository           |
      | artifacts p --export {tmp}/in.txt/sub                    | 2    | cannot create                          |

  Scenario: Applying twice through the CLI
    When I run git plan "apply p"
    And I run git plan "apply p --json"
    Then the exit code is 2
    And the output contains "already applied"

  Scenario: A conflicting apply reports paths and the rescue patch as JSON
    Given the user commits "README.md" with content "one\nTWO\nthree\n" on main
    When I run git plan "apply p --json --keep-on-failure"
    Then the exit code is 4
    And the output contains "rescue_patch"
    And the output contains "rescue_bundle"
    When I run git plan "apply p --check"
    Then the exit code is 4
    And the output contains "apply would be refused: the plan conflicts with changes made on HEAD since its base: README.md"
    When I run git plan "status p --check"
    Then the output contains "apply would conflict: yes: README.md"

  Scenario: Recording the worktree's changed files
    Given the user edits "README.md" to "from the worktree\n" without committing
    And the user edits "brand-new.txt" to "untracked\n" without committing
    When I run git plan "record p --tool editor --from-worktree"
    Then the exit code is 0
    And the tip of "p" holds "README.md" as "from the worktree\n"
    And the tip of "p" holds "brand-new.txt" as "untracked\n"

  Scenario: Recording named worktree paths, a deletion and a symlink
    Given the user removes "src/app.py" from the worktree
    And the user makes "link" a symlink to "README.md"
    When I run git plan "record p --tool editor --from-worktree src/app.py link"
    Then the exit code is 0
    And the tip of "p" has no "src/app.py"
    And git ls-tree of the tip of "p" shows mode "120000" for "link"

  Scenario: Recording from the worktree refuses a clean worktree, also when a directory is named
    When I run git plan "record p --tool editor --from-worktree src"
    Then the exit code is 2
    And the output contains "no changes to record"
    When I run git plan "record p --tool editor --from-worktree"
    Then the exit code is 2
    And the output contains "no changes to record"

  Scenario: A directory named to record --from-worktree stands for its changed files, as git add DIR; . for all
    Given the user edits "README.md" to "top\n" without committing
    And the user edits "src/app.py" to "changed\n" without committing
    And the user edits "src/new/deep.txt" to "new\n" without committing
    When I run git plan "record p --tool editor --from-worktree src/"
    Then the exit code is 0
    And the tip of "p" holds "src/app.py" as "changed\n"
    And the tip of "p" holds "src/new/deep.txt" as "new\n"
    And the tip of "p" holds "README.md" as "one\n2\nthree\n"
    When I run git plan "record p --tool editor --from-worktree ."
    Then the exit code is 0
    And the tip of "p" holds "README.md" as "top\n"

  Scenario: A directory deleted with all its files, named to record --from-worktree, records their deletions, as git add DIR
    Given the user removes the directory "src" from the worktree
    When I run git plan "record p --tool editor --from-worktree src"
    Then the exit code is 0
    And the tip of "p" has no "src/app.py"
    And the tip of "p" holds "README.md" as "one\n2\nthree\n"

  Scenario Outline: A path given to --set or --delete names a file: one ending in '/' is refused
    When I run git plan "record p --tool editor <option>"
    Then the exit code is 2
    And the output contains "<message>"
    And plan "p" has 1 changesets

    Examples:
      | option                    | message                                  |
      | --set src/=README.md      | a file's path cannot end in '/'          |
      | --delete src/             | give the files in a directory            |

  Scenario: A patch from standard input
    When I run git plan "record p --tool patcher --patch -" with the patch "tests-data/patches/good-on-plan.patch" on standard input
    Then the exit code is 0
    And the tip of "p" holds "added.txt" as "new\nmore\n"

  Scenario: Status and artifacts exit 5 when a note is damaged
    Given the note of changeset 1 of "p" is replaced by "not json"
    When I run git plan "status p"
    Then the exit code is 5
    And the output contains "missing or damaged artifacts"
    When I run git plan "artifacts p"
    Then the exit code is 5
    And the output contains "missing artifact"
    When I run git plan "log p"
    Then the output contains "MISSING"

  Scenario: An empty plan
    When I run git plan "create empty"
    And I run git plan "log empty"
    Then the output contains "has no changesets yet"
    When I run git plan "log empty -n 3"
    Then the output contains "has no changesets yet"
    When I run git plan "log empty --oneline -p"
    Then the output contains "has no changesets yet"

  Scenario: log -n shows the newest changesets, oldest of them first, reading back from the tip only that far
    Given I record in "p" with tool "second"
      | path | content |
      | b    | b\n     |
    And I record in "p" with tool "third"
      | path | content |
      | c    | c\n     |
    When I run git plan "log p -n 2"
    Then the exit code is 0
    And the output names "changeset 2 " before "changeset 3 "
    And the output does not contain "changeset 1 "
    When I run git plan "log p --json --max-count 1"
    Then the output contains ""number": 3"
    And the output does not contain ""number": 2"
    When I run git plan "log p -n 10"
    Then the output contains "changeset 1 "
    When I run git plan "log p -n 0"
    Then the exit code is 0
    And the output is empty
    When I run git plan "log p -n -1"
    Then the exit code is 0
    And the output contains "changeset 1 "
    When I run git plan "log p --max-count=-1 --oneline"
    Then the output contains "1 "
    And the output contains "3 "
    And reading the newest 2 changesets of "p" reads 2 of its commits and their notes
    And reading the newest 5 changesets of "p" reads 4 of its commits (the root too) and their notes

  Scenario: log -N, --oneline, -p and --stat read as git log reads them
    Given I record in "p" with tool "second"
      | path   | content  |
      | b      | b\n      |
      | README | # app 2\n |
    And I record in "p" with tool "third"
      | path | content |
      | c    | c\n     |
    When I run git plan "log -2 --oneline p"
    Then the output is git log --oneline of the newest 2 changesets of "p", in order, numbered
    When I run git plan "log p --oneline"
    Then the output is git log --oneline of the newest 3 changesets of "p", in order, numbered
    When I run git plan "log p -p"
    Then the output holds, for each changeset of "p", git diff -p of its parent and it
    And the output names "Tool:    second" before "+b"
    When I run git plan "log p --stat --patch"
    Then the output holds, for each changeset of "p", git diff --stat of its parent and it
    And the output holds, for each changeset of "p", git diff --stat -p of its parent and it
    When I run git plan "log p --stat=30,5"
    Then the output holds, for each changeset of "p", git diff --stat=30,5 of its parent and it
    When I run git plan "log p --oneline --stat"
    Then the output names "3 " before " c | 1 +"
    When I run git plan "log -1 p --json -p --stat"
    Then the output contains ""patch": "diff --git a/c b/c"
    And the output contains ""stat": " c | 1 +"
    When I run git plan "log -0 p"
    Then the exit code is 0
    And the output is empty
    When I run git plan "log -0 nosuch"
    Then the exit code is 3
    When I run git plan "log --color p --oneline"
    Then the output is git log --oneline --color of the newest 3 changesets of "p", numbered
    When I run git plan "log p --oneline --color=always --no-color"
    Then the output is git log --oneline of the newest 3 changesets of "p", in order, numbered
    Given git config "color.diff.commit" is "green bold"
    When I run git plan "log p --oneline --color"
    Then the output is git log --oneline --color of the newest 3 changesets of "p", numbered
    When I run git plan "log p -p --stat --color"
    Then the output holds, for each changeset of "p", git diff --color --stat -p of its parent and it
    When I run git plan "log p --color"
    Then the output shows "\x1b[1;32mchangeset 3 "

  Scenario: No plans at all
    When I run git plan "cancel p"
    And I run git plan "list"
    Then the output contains "no plans"

  Scenario: An internal bug is reported as one, with a traceback only with --debug
    Given the store has a bug in status
    When I run git plan "status p"
    Then the exit code is 1
    And the output contains "internal error: RuntimeError"
    When I run git plan "--debug status p"
    Then the exit code is 1
    And the output contains "Traceback"
    When I run git plan "status p --json"
    Then the exit code is 1
    And the output contains ""kind": "internal""
    And the output contains ""schema": "gitplan.error/1""

  Scenario: A diff on a terminal is coloured and paged, as git does
    When I run git plan "diff p" on a terminal with a pager
    Then the pager received a coloured diff

  Scenario: git plan demo runs anywhere, also outside a git repository
    When I run git plan "demo" in a directory that is no git repository
    Then it exited 0 and its output ends "done: see `git plan --help` and docs/ to use it in your own repository"

  Scenario: A closed pipe is not an error message storm
    When I pipe a long git plan diff into a reader that stops early
    Then nothing is printed on standard error

  Scenario: A closed pipe is no failure when git writes the diff (--raw -p, --check and the like)
    When I pipe a long git plan diff with "--raw -p" into a reader that stops early
    Then it printed ":100644" first, nothing on standard error, and exited 0

  Scenario Outline: A closed pipe is no failure for <command> either
    When I pipe git plan "<command>" into a reader that reads nothing
    Then nothing was printed on standard error, and it exited 0

    Examples:
      | command     |
      | list        |
      | status p    |
      | artifacts p |

  Scenario: With --exit-code, a closed pipe is git's 141, never the 0 that means no difference
    When I pipe a long git plan diff with "--exit-code" into a reader that stops early
    Then it printed "diff --git" first, nothing on standard error, and exited 141

  Scenario: After apply, status and log show what happened
    When I run git plan "record p --tool t --set x.txt={tmp}/in.txt --arg k=1"
    And I run git plan "apply p"
    And I run git plan "status p"
    Then the output contains "applied:"
    And the output contains "(commit)"
    When I run git plan "log p"
    Then the output contains "Args:    {"k": 1}"

  Scenario: Under a pager git started (git -p plan, pager.plan), colour is left to that terminal, as git leaves it
    Given the environment has GIT_PAGER_IN_USE = "true"
    And the environment has TERM = "xterm"
    When I run git plan "diff p"
    Then the output has git's diff colours
    Given the environment has TERM = "dumb"
    When I run git plan "diff p"
    Then the output has no colours

  Scenario: color.ui never leaves list and status uncoloured on a terminal, and always colours them when piped, as git does its own
    Given the environment has GIT_PAGER_IN_USE = "true"
    And the environment has TERM = "xterm"
    When I run git plan "list"
    Then the output shows "\x1b[1mPLAN"
    Given git config "color.ui" is "never"
    When I run git plan "list"
    Then the output has no colours
    When I run git plan "status p"
    Then the output has no escape sequence
    Given the environment has TERM = "dumb"
    And git config "color.ui" is "always"
    When I run git plan "list"
    Then the output shows "\x1b[1mPLAN"
    When I run git plan "--color=never list"
    Then the output has no escape sequence
    Given git config "color.ui" is "never"
    When I run git plan "--color=Always list"
    Then the output shows "\x1b[1mPLAN"
    When I run git plan "--color=sometimes list"
    Then the exit code is 2
    And the output contains "--color expects always, never or auto"

  Scenario: A dumb terminal gets no colour, as git gives it none
    Given the terminal is a "dumb" one
    When I run git plan "diff p" on a terminal with a pager
    Then the pager received the diff without colour

  Scenario: color.pager false leaves a paged diff uncoloured, as git leaves it; --color still colours
    Given git config "color.pager" is "false"
    When I run git plan "diff p" on a terminal with a pager
    Then the pager received the diff without colour
    When I run git plan "diff p --color" on a terminal with a pager
    Then the pager received a coloured diff

  Scenario: NO_COLOR turns colour off on a terminal
    Given the environment has NO_COLOR set
    When I run git plan "diff p" on a terminal with a pager
    Then the pager received the diff without colour

  Scenario: apply shows its progress on a terminal
    When I run git plan "apply p" on a terminal with a pager
    Then the terminal showed "applying plan p: 2/2 files"

  Scenario: cancel says what it kept and why
    Given the user stages "added.txt" taken from plan "p"
    When I run git plan "cancel p"
    Then the exit code is 0
    And the output shows ", kept 1\n"
    And the output contains "1 object is still used elsewhere and kept"
    And the output does not contain "kept 1 still used elsewhere"

  Scenario: record does not invent times it did not measure
    When I run git plan "record p --tool t --delete added.txt --json"
    Then the exit code is 0
    And the output shows started_at, finished_at and duration_ms as null

  Scenario: Every --json output is a versioned document, and a file change has one shape everywhere
    When I run every JSON command on plan "p"
    Then each printed a document whose schema is "gitplan.<kind>/1"
    And each file change in them has the fields path, change, additions and deletions, and no "kind"

  Scenario: Errors under --json are JSON too, on standard output, with the exit code
    When I run git plan "status nosuch --json"
    Then the exit code is 3
    And the JSON error says kind "plannotfound" with exit code 3
    When I run git plan "record p --tool t --delete nothing.txt --json"
    Then the exit code is 2
    And the JSON error says kind "badinput" with exit code 2
    And the JSON error names the paths "nothing.txt"
    When I run git plan "record p --tool t --delete ../up.txt --json"
    Then the JSON error names the paths "../up.txt"
    When I run git plan "record p --tool t --delete .GIT/config --json"
    Then the JSON error names the paths ".GIT/config"
    When I run git plan "status p --json --no-such-option"
    Then the exit code is 2
    And the JSON error says kind "badinput" with exit code 2
    When I run git plan "-C {tmp}/nowhere list --json"
    Then the exit code is 3
    And the JSON error says kind "norepository" with exit code 3

  Scenario: record --parent N refuses to delete a file that changeset N did not have, as record refuses it on the tip
    When I run git plan "record p --tool t --set later.txt={tmp}/in.txt"
    Then the exit code is 0
    When I run git plan "record p --tool t --parent 1 --delete later.txt"
    Then the exit code is 2
    And the output contains "cannot delete 'later.txt': no such file in the plan where the edits were made"
    When I run git plan "record p --tool t --parent 0 --delete added.txt"
    Then the exit code is 2
    When I run git plan "record p --tool t --parent 1 --delete added.txt"
    Then the exit code is 0
    And plan "p" has 3 changesets

  Scenario: create of a plan that exists whole says so, with no advice meant for a half-made one
    When I run git plan "create p"
    Then the exit code is 2
    And the output contains "plan 'p' already exists"
    And the output does not contain "git plan cancel"

  Scenario: apply --check --json exits 4 when apply would be refused
    Given the user edits "README.md" to "mine\n" without committing
    When I run git plan "apply p --check --json"
    Then the exit code is 4
    And the JSON error says nothing, and the document's refusal is "dirty" of a fast-forward apply
    Given the user commits "other.txt" with content "moved on\n" on main
    When I run git plan "apply p --check --json"
    Then the exit code is 4
    And the JSON error says nothing, and the document's refusal is "dirty" of a merge apply

  Scenario: --color colours a piped diff, as do color.ui=always and color.diff=always; never and --no-color do not
    When I run git plan "--color diff p"
    Then the output has git's diff colours
    Given git config "color.ui" is "always"
    When I run git plan "diff p"
    Then the output has git's diff colours
    When I run git plan "--no-color diff p"
    Then the output has no colours
    Given git config "color.diff" is "never"
    When I run git plan "diff p"
    Then the output has no colours
    Given git config "color.diff" is "auto"
    When I run git plan "diff p"
    Then the output has no colours
    # After the command, the last of --color and --no-color wins, as in git.
    When I run git plan "diff p --no-color --color"
    Then the output has git's diff colours
    When I run git plan "diff p --color=always --no-color"
    Then the output has no colours
    When I run git plan "show p 1 --no-color --color=always"
    Then the output has git's diff colours
    When I run git plan "show p 1 --color --no-color"
    Then the output has no colours

  Scenario Outline: The pager is the one git would choose: <setting>
    Given <setting>
    When I run git plan "diff p" on a terminal with a pager
    Then the diff was paged by "<pager>"

    Examples:
      | setting                                                | pager |
      | nothing is configured                                  | PAGER |
      | git config "core.pager" is a recording pager "core"    | core  |
      | git config "pager.plan" is a recording pager "plan"    | plan  |
      | GIT_PAGER is a recording pager "env"                   | env   |
      | git config "pager.plan" is "false"                     | none  |
      | git config "core.pager" is "cat"                       | none  |

  Scenario Outline: git plan <command> goes through the pager on a terminal, as git log does
    When I run git plan "<command>" on a terminal with a pager
    Then the output was paged by "PAGER", in the colours git uses on a terminal

    Examples:
      | command          |
      | log p            |
      | log p --oneline  |
      | log p -p --stat  |

  Scenario: --no-pager writes straight to the terminal
    When I run git plan "--no-pager diff p" on a terminal with a pager
    Then the diff was paged by "none"

  Scenario: diff --exit-code writes straight to the terminal, as git diff does: a script asked for a status
    When I run git plan "diff p --exit-code" on a terminal with a pager, and it exits 1
    Then the diff was paged by "none"
    When I run git plan "diff p --check" on a terminal with a pager
    Then the diff was paged by "PAGER"

  Scenario: --word-diff is git's word diff of the same trees
    When I run git plan "diff p --word-diff"
    Then the exit code is 0
    And the output contains "[-two-]{+2+}"
    When I run git plan "diff p --word-diff=porcelain"
    Then the output contains "-two"
    When I run git plan "diff p --word-diff=color"
    Then the output holds the words "two" and "2" in git's colours (--word-diff=color implies --color)
    When I run git plan "diff p --word-diff=color --no-color"
    Then the exit code is 0
    And the output shows "\ntwo2\n"

  Scenario: The CLI starts without loading libgit2: --version and --help import no pygit2
    Then "git plan --version" and "git plan --help" import no pygit2
