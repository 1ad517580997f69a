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

  Scenario: Reviewing a plan that does not exist is not found
    When I run git plan "review nosuch --no-open"
    Then the exit code is 3
