Feature: Reviewing plans in the browser
  `git plan review` serves a local page on 127.0.0.1 with a per-run token: a
  timeline of changesets next to their diffs, the whole plan's diff, and, with
  --allow-writes, accept or reject per file and per hunk ending in a partial
  apply. Driven here in a real headless Chromium.

  Background:
    Given a repository with files
      | path       | content                                            |
      | src/a.py   | a1\na2\na3\na4\na5\na6\na7\na8\na9\na10\na11\na12\n |
      | src/b.py   | b = 1\n                                            |
      | README.md  | # app\n                                            |
    And a plan "p"
    And I record in "p" with tool "write_file"
      | path     | content   |
      | src/b.py | b = 2\n   |
    And I record in "p" with tool "edit_file"
      | path      | content                                               |
      | src/a.py  | A1\na2\na3\na4\na5\na6\na7\na8\na9\na10\na11\nA12\n    |
      | README.md | # app\n\nMore.\n                                      |

  Scenario: A changeset opened on the page shows the diff git plan diff prints
    Given the review page is served for the repository
    When I open the review page in a headless browser
    Then the page lists 2 changesets
    When I open changeset 2
    Then the page shows the diff "git plan diff p 2" prints
    And I save a screenshot "review-changeset"
    When I open changeset 1
    Then the page shows the diff "git plan diff p 1" prints
    And the page offers no apply button
    And a request without the token is refused
    And a request with the token from another origin is refused
    And a write with the token is refused on a read-only page

  Scenario: Reject one file, accept the rest: a partial apply, checked with git
    Given the review page is served for the repository with writes allowed
    When I open the review page in a headless browser
    And I show the whole plan
    Then the page shows the diff "git plan diff p --no-renames" prints
    When I reject the file "README.md" and apply what is accepted
    Then the page shows "applied part of plan p"
    And I save a screenshot "review-partial-apply"
    And git "show HEAD:src/b.py" prints "b = 2"
    And git "show HEAD:src/a.py" prints "A1"
    And git "show HEAD:README.md" does not print "More."
    And git status is clean
    And a form posted from another site cannot write

  Scenario: Reject one hunk of a file
    Given the review page is served for the repository with writes allowed
    When I open the review page in a headless browser
    And I show the whole plan
    And I reject hunk 1 of "src/a.py" and apply what is accepted
    Then the page shows "applied part of plan p"
    And git "show HEAD:src/a.py" prints "A1\na2"
    And git "show HEAD:src/a.py" prints "a11\na12"

  Scenario: The page's poll during its own apply does not replace what the apply said
    Given the review page is served for the repository with writes allowed
    When I open the review page in a headless browser
    And I show the whole plan
    And I reject the file "README.md" and the page polls while it reloads after applying the rest
    Then the page shows "applied part of plan p"
    And the page does not show "the plan changed"

  Scenario: The page follows changesets an agent records while it is open
    Given the review page is served for the repository
    When I open the review page in a headless browser
    Then the page lists 2 changesets
    When I record in "p" with tool "late_tool"
      | path    | content |
      | late.md | late\n  |
    Then the page lists 3 changesets
    And the page shows "late_tool"

  Scenario: A large diff comes a page of files at a time; only files shown are applied
    Given I record 60 new files in "p"
    And the review page is served for the repository with writes allowed
    When I open the review page in a headless browser
    And I show the whole plan
    Then the page shows 50 files
    When I reject the file "README.md" and apply what is accepted
    Then the page shows "applied part of plan p"
    And git "show HEAD:gen/file048.txt" prints "line 48"
    And git "ls-tree -r --name-only HEAD" does not print "gen/file049.txt"
    And git "show HEAD:README.md" does not print "More."
    When I show the whole plan
    And I show more files
    Then the page shows 63 files

  Scenario: Control characters inside lines are shown, and applied, as git shows them
    Given I record in "p" with tool "write_ctl"
      | path      | content                                                          |
      | src/ctl.py | x = 1  # \x0c\nimport os; os.system("evil")\ny = "\r"\rz = 2\nw = "\xe2\x80\xa8"\n |
    And the review page is served for the repository with writes allowed
    When I open the review page in a headless browser
    And I open changeset 3
    Then the page shows the diff "git plan diff p 3" prints
    When I show the whole plan
    And I reject the file "README.md" and apply what is accepted
    Then the page shows "applied part of plan p"
    And git "show HEAD:src/ctl.py" prints "import os; os.system"
    And git "show HEAD:src/ctl.py" prints "z = 2"

  Scenario: An apply from a page that shows an older plan is refused
    Given the review page is served for the repository with writes allowed
    When I open the review page in a headless browser
    And I show the whole plan
    And I untick the file "README.md"
    And I record in "p" with tool "late_tool"
      | path    | content |
      | late.md | late\n  |
    And the page lists 3 changesets
    And I press Apply accepted
    Then the page shows "changed since the page showed it"
    And git "show HEAD:src/b.py" prints "b = 1"

  Scenario: What an agent records while the page reloads after the page's own apply is shown by the next poll
    Given the review page is served for the repository with writes allowed
    When I open the review page in a headless browser
    And I show the whole plan
    And I untick the file "README.md"
    And the page holds its next request for the timeline
    And I press Apply accepted
    And the page is waiting for the timeline
    And I record in "p" with tool "late_tool"
      | path    | content |
      | late.md | late\n  |
    And the page gets the timeline it waited for
    Then the page's diff lists the file "late.md"
    And the page lists 3 changesets

  Scenario: An apply refused while the page reloads a plan an agent moved keeps saying why it was refused
    Given the review page is served for the repository with writes allowed
    When I open the review page in a headless browser
    And I show the whole plan
    And I untick the file "README.md"
    And the page holds its next request for the timeline
    And I record in "p" with tool "late_tool"
      | path    | content |
      | late.md | late\n  |
    And the page is waiting for the timeline
    And I press Apply accepted
    And the page gets the timeline it waited for
    Then the page shows "changed since the page showed it"
    And git "show HEAD:src/b.py" prints "b = 1"

  Scenario: A poll that was under way when the page cancelled the plan does not report it gone: the page said what it did
    Given the review page is served for the repository with writes allowed
    When I open the review page in a headless browser
    And the page holds its next request for the plan's version
    And the page is waiting for the plan's version
    And I cancel the plan on the page
    And the page gets the plan's version it waited for
    Then the page shows "cancel: done"
    And the page does not show "the plan is gone"
    And ref "refs/changesets/p" does not exist

  Scenario: A plan cancelled while the page shows it is reported gone
    Given the review page is served for the repository
    When I open the review page in a headless browser
    And I run git plan "cancel p"
    Then the page shows "the plan is gone"

  Scenario: Writes without a body length, with unknown fields, or saying nothing are refused
    Given the review page is served for the repository with writes allowed
    Then a chunked write is refused with 411
    And a write with an unknown field is refused with 400
    And an apply that says neither whole nor accept is refused with 400

  Scenario: diff --ui takes a changeset number or nothing
    When I run git plan "diff p 1..2 --ui"
    Then the exit code is 2
    And the output contains "--ui shows one changeset"

  Scenario: diff --ui opens the page on that changeset in the user's browser
    When I run "git plan diff p 1 --ui" with a browser that notes the URL it is given
    Then the browser was given the review page at "plan=p&changeset=1"

  Scenario: Ctrl-C that comes before the page is served stops git plan review at once, exit 0
    When I stop git plan review with Ctrl-C before it starts serving

  Scenario: Reviewing a plan that does not exist is not found
    When I run git plan "review nosuch --no-open"
    Then the exit code is 3

  Scenario: The JSON API answers a plan's version and its changesets a page at a time, and refuses what it cannot answer
    Given the review page is served for the repository
    When the API is asked for "/api/plan/p/version"
    Then the API answer is the version git rev-parse gives of "p"
    When the API is asked for "/api/plan/p/changesets"
    Then the API answer lists changesets [1, 2]
    And the API answer has total = 2
    When the API is asked for "/api/plan/p/changesets?offset=1&limit=1"
    Then the API answer lists changesets [2]
    And the API answer has total = 2
    And the API answer has offset = 1
    When the API is asked for "/api/plan/p/changesets?offset=two"
    Then the API answers 400 with the error "bad request: invalid literal for int()"
    When the API is asked for "/api/plan/p/changesets?offset=-1"
    Then the API answers 400 with the error "offset must be 0 or more, not -1"
    When the API is asked for "/api/plan/p/diff?offset=-1"
    Then the API answers 400 with the error "offset must be 0 or more, not -1"
    When the API is asked, with the Host header "evil.example", for "/api/plans"
    Then the API answers 403 with the error "wrong Host"
    When the API is asked for "/api/nowhere"
    Then the API answers 404 with the error "no such page: /api/nowhere"
    When the API is asked for "/api/plan/p/everything"
    Then the API answers 404 with the error "no such page: /api/plan/p/everything"
    When the API is asked for "/api/plan/nope/version"
    Then the API answers 404 with the error "no plan named 'nope'"

  Scenario: Writes the API cannot read or does not know are refused, and nothing is applied
    Given the review page is served for the repository with writes allowed
    When the API is sent the body not json to "/api/plan/p/apply"
    Then the API answers 400 with the error "the body must be a JSON object"
    When the API is sent the body ["whole"] to "/api/plan/p/apply"
    Then the API answers 400 with the error "the body must be a JSON object"
    When the API is sent headers announcing a body of 10000001 bytes to "/api/plan/p/apply"
    Then the API answers 413 with the error "the body is too large"
    When the API is sent the body {} to "/api/plan/p"
    Then the API answers 404 with the error "no such action: /api/plan/p"
    When the API is sent the body {} to "/api/plan/p/merge"
    Then the API answers 404 with the error "no such action: merge"
    When the API is sent the body {"to": "1"} to "/api/plan/p/rewind"
    Then the API answers 400 with the error "not a changeset number: '1'"
    When the API is sent the body {"to": true} to "/api/plan/p/rewind"
    Then the API answers 400 with the error "not a changeset number: True"
    When the API is sent the body {"to": -1} to "/api/plan/p/rewind"
    Then the API answers 400 with the error "not a changeset number: -1"
    When the API is sent the body {"changesets": []} to "/api/plan/p/drop"
    Then the API answers 400 with the error "drop needs a list of changeset numbers"
    When the API is sent the body {"new_plan": "q", "at": 1.5} to "/api/plan/p/branch"
    Then the API answers 400 with the error "not a changeset number: 1.5"
    When the API is sent, at the version git shows of "p", {"whole": true, "accept": {"README.md": "all"}} to "/api/plan/p/apply"
    Then the API answers 400 with the error "whole and accept do not go together"
    When the API is sent, at the version git shows of "p", {"accept": {"src/c.py": "all"}} to "/api/plan/p/apply"
    Then the API answers 400 with the error "'src/c.py' is not changed by plan 'p'"
    When the API is sent, at the version git shows of "p", {"accept": {"src/a.py": [0, 2]}} to "/api/plan/p/apply"
    Then the API answers 400 with the error "'src/a.py' has 2 hunk(s), not 3"
    When the API is sent, at the version git shows of "p", {"accept": {"src/a.py": "first"}} to "/api/plan/p/apply"
    Then the API answers 400 with the error "accept maps paths to 'all' or a non-empty list of hunk numbers"
    When the API is sent, at the version git shows of "p", {"accept": {"src/a.py": []}} to "/api/plan/p/apply"
    Then the API answers 400 with the error "accept maps paths to 'all' or a non-empty list of hunk numbers"
    And git "show HEAD:src/b.py" prints "b = 1"
    And git "rev-list --count main..refs/changesets/p" prints "3"
    And git status is clean

  Scenario: Rewind, undo, drop, branch and cancel through the API, checked with git
    Given the review page is served for the repository with writes allowed
    When the API is sent the body {"to": 1} to "/api/plan/p/rewind"
    Then the API answer has operation = "rewind"
    And git "log --format=%s main..refs/changesets/p" does not print "edit_file"
    And git "show refs/changesets/p:src/b.py" prints "b = 2"
    When the API is sent the body {} to "/api/plan/p/undo"
    Then the API answer has undone = "rewind"
    And git "log --format=%s main..refs/changesets/p" prints "edit_file"
    When the API is sent the body {"changesets": [1]} to "/api/plan/p/drop"
    Then the API answer has operation = "drop"
    And git "log --format=%s main..refs/changesets/p" does not print "write_file"
    And git "show refs/changesets/p:src/b.py" prints "b = 1"
    And git "show refs/changesets/p:README.md" prints "More."
    When the API is sent the body {} to "/api/plan/p/undo"
    Then the API answer has undone = "drop"
    And git "show refs/changesets/p:src/b.py" prints "b = 2"
    When the API is sent the body {"new_plan": "q", "at": 1} to "/api/plan/p/branch"
    Then the API answer has operation = "branch"
    And git "show refs/changesets/q:src/b.py" prints "b = 2"
    And git "show refs/changesets/q:README.md" does not print "More."
    When the API is sent the body {"new_plan": "r"} to "/api/plan/p/branch"
    Then git "show refs/changesets/r:README.md" prints "More."
    When the API is sent the body {"new_plan": "no/such"} to "/api/plan/p/branch"
    Then the API answers 400 with the error "invalid plan id 'no/such'"
    When the API is sent the body {} to "/api/plan/p/cancel"
    Then the API answer has refs_deleted = ["refs/changesets/p", "refs/notes/changesets/p"]
    And ref "refs/changesets/p" does not exist
    And git "show refs/changesets/q:src/b.py" prints "b = 2"

  Scenario: The whole plan applied through the API, at the version git shows
    Given the review page is served for the repository with writes allowed
    When the API is sent, at the version git shows of "p", {"whole": true} to "/api/plan/p/apply"
    Then the API answers 200
    And git "show HEAD:README.md" prints "More."
    And git "show HEAD:src/a.py" prints "A1"
    And git "show HEAD:src/b.py" prints "b = 2"
    And git status is clean

  Scenario: A path that changes type (a file becomes a symlink) is accepted whole through the API, as apply --only takes it
    # git's diff shows it as two sections, a deletion and an addition, of one path.
    Given the user sets the repository up with:
      """
      printf 'y\n' > tc
      git add tc && git commit -qm 'tc'
      """
    And a plan "t"
    And the user sets the repository up with:
      """
      rm tc && ln -s target tc && printf 'b = 3\n' > src/b.py
      """
    And I run git plan "record t --tool edit --from-worktree"
    And the user sets the repository up with:
      """
      rm tc && git checkout -q -- .
      """
    And the review page is served for the repository with writes allowed
    When the API is sent, at the version git shows of "t", {"accept": {"tc": [0]}} to "/api/plan/t/apply"
    Then the API answers 400 with the error "'tc' changes type (a file and a symlink, say): accept it whole ("all")"
    When the API is sent, at the version git shows of "t", {"accept": {"tc": "all"}} to "/api/plan/t/apply"
    Then the API answers 200
    And git "show HEAD:tc" prints "target"
    And git "show HEAD:src/b.py" prints "b = 1"
    And git "ls-tree HEAD tc" prints "120000"
    And git status is clean

  Scenario: With a textconv filter set, the whole plan's diff shows the files' own lines and its hunks apply; one changeset's shows the filter's, as git diff does
    Given git config "diff.conv.textconv" is "sed s/^/conv:/"
    And the agent writes ".gitattributes" as "*.py diff=conv\n" in the worktree
    And the user commits everything in the worktree
    And the review page is served for the repository with writes allowed
    When the API is asked for "/api/plan/p/diff?changeset=2"
    Then the API diff shows the line "+conv:A12" of "src/a.py" highlighted
    When the API is asked for "/api/plan/p/diff"
    Then the API diff shows the line "+A12" of "src/a.py" highlighted
    When the API is sent, at the version git shows of "p", {"accept": {"src/a.py": [1]}} to "/api/plan/p/apply"
    Then the API answers 200
    And git "show HEAD:src/a.py" prints "a1\na2"
    And git "show HEAD:src/a.py" prints "a11\nA12"
    And git "show HEAD:src/b.py" prints "b = 1"

  Scenario: The diff the API serves (diff.noprefix or not): code highlighted by its file name, other files and git's own remarks as plain text
    Given I record in "p" with tool "write_file"
      | path      | content |
      | src/b.py  | b = 3   |
      | notes.zzq | <b>&\n  |
    And git config "diff.noprefix" is "true"
    And the review page is served for the repository
    When the API is asked for "/api/plan/p/diff?changeset=3"
    Then the API diff shows the line "+b = 3" of "src/b.py" highlighted
    And the API diff shows the line "\ No newline at end of file" of "src/b.py" as " No newline at end of file"
    And the API diff shows the line "+<b>&" of "notes.zzq" as "&lt;b&gt;&amp;"
    When the API is asked for "/"
    Then the page served holds a style for highlighted code

  Scenario: Without pygments (installed without the review extra) the page shows the diff as plain text
    Given the review page is served for the repository without pygments
    When the API is asked for "/api/plan/p/diff?changeset=1"
    Then the API diff shows the line "+b = 2" of "src/b.py" as "b = 2"
    When the API is asked for "/"
    Then the page served holds no style for highlighted code
