Feature: git plan mcp serves one repository's plans to a real MCP client over stdio

  Background:
    Given a repository with files
      | path      | content           |
      | README.md | one\ntwo\nthree\n |

  Scenario: A client creates, records, reads, diffs, dry-runs an apply and cancels a plan
    When an MCP client talks to "git plan mcp"
      | call          | arguments                                                                              |
      | plan_create   | {"plan": "m1", "title": "from an agent"}                                               |
      | plan_record   | {"plan": "m1", "tool": "write", "files": {"x.txt": "hello\n"}, "invocation_id": "i-1"} |
      | plan_record   | {"plan": "m1", "tool": "write", "files": {"x.txt": "hello\n"}, "invocation_id": "i-1"} |
      | plan_record   | {"plan": "m1", "tool": "edit", "files": {"README.md": "one\n2\nthree\n", "x.txt": null}} |
      | plan_status   | {"plan": "m1"}                                                                         |
      | plan_log      | {"plan": "m1", "offset": 1, "limit": 1}                                                |
      | plan_log      | {"plan": "m1", "newest": 1}                                                            |
      | plan_diff     | {"plan": "m1", "stat_only": true}                                                      |
      | plan_diff     | {"plan": "m1", "changeset": "2", "limit": 20}                                          |
      | plan_run      | {"plan": "m1", "argv": ["sh", "-c", "echo r > r.txt"], "tool": "sh"}                   |
      | plan_list     | {}                                                                                     |
      | plan_apply    | {"plan": "m1"}                                                                         |
      | plan_cancel   | {"plan": "m1"}                                                                         |
    Then the server names itself gitplan, with gitplan's version
    And the client saw the tools plan_list, plan_status, plan_log, plan_diff, plan_create, plan_record, plan_run, plan_apply, plan_cancel
    And plan_cancel is marked destructive and plan_diff read-only
    And call 1 said "created plan m1" with a "gitplan.status/1" document
    And call 3 said "already recorded" with a "gitplan.changeset/1" document
    And call 5 said "plan m1: open, 2 changesets, 1 files" with a "gitplan.status/1" document
    And call 6 said "1 of 2 changesets" with a "gitplan.log/1" document
    And call 7 said "1 of 2 changesets" with a "gitplan.log/1" document
    And call 7 has "offset" 1
    And call 7 has "total" 2
    And call 8 returned a patch containing " README.md | 2 +-"
    And call 9 said "20 of" with a "gitplan.diff/1" document
    And call 10 said "exit 0: added r.txt" with a "gitplan.run/1" document
    And call 12 said "would apply 2 files" with a "gitplan.apply/1" document
    And call 13 said "cancelled plan m1" with a "gitplan.cancel/1" document
    And ref "refs/changesets/m1" does not exist
    And git fsck --full is clean

  Scenario: plan_apply makes a new branch in branch mode, named by the client
    When an MCP client talks to "git plan mcp"
      | call          | arguments                                                                           |
      | plan_create   | {"plan": "b1"}                                                                      |
      | plan_record   | {"plan": "b1", "tool": "write", "files": {"x.txt": "x\n"}}                          |
      | plan_apply    | {"plan": "b1", "mode": "branch", "branch": "-f"}                                    |
      | plan_apply    | {"plan": "b1", "mode": "branch", "branch": "from-agent", "dry_run": false}          |
      | plan_apply    | {"plan": "b1", "branch": "elsewhere", "dry_run": false}                             |
      | plan_apply    | {"plan": "b1", "mode": "branch"}                                                    |
    Then call 3 failed with "a branch name must not start with '-'"
    And call 4 said "applied 1 files" with a "gitplan.apply/1" document
    And call 5 failed with "mode branch needs `branch`, the new branch's name; other modes take none"
    And call 6 failed with "mode branch needs `branch`, the new branch's name; other modes take none"
    And git "ls-tree -r --name-only from-agent" prints "x.txt"

  Scenario: A command a client had plan_run start ends when the client goes away, whatever it started
    When an MCP client has plan_run run "sleep 600 & echo $! > {tmp}/child; echo $$ > {tmp}/pid; wait" in "r1", cancels it once "pid" exists, and leaves
    Then the process in "pid" is gone
    And the process in "child" is gone
    And git "log -1 --format=%s refs/changesets/r1" prints "sh: failed (killed by SIGTERM)"

  Scenario: A command that ignores SIGTERM is killed when the server goes away
    When an MCP client has plan_run run "trap '' TERM; echo $$ > {tmp}/pid; while :; do sleep 0.1; done" in "r2", cancels it once "pid" exists, and leaves
    Then the process in "pid" is gone
    And git "log -1 --format=%s refs/changesets/r2" prints "sh: failed (killed by SIGKILL)"

  Scenario Outline: The server exits at once on <signal>, with nothing running
    When "git plan mcp" is started, answers an initialize request and is sent <signal>
    Then it exited <code> within 10 seconds

    Examples:
      | signal  | code |
      | SIGTERM | 143  |
      | SIGHUP  | 129  |

  Scenario: Resources give the plans, a plan's status, its diff and one changeset
    Given a plan "p"
    And I record in "p" with tool "edit"
      | path      | content       |
      | README.md | one\n2\nthree\n |
    When an MCP client reads "gitplan://plans", "gitplan://plan/p/status", "gitplan://plan/p/diff" and "gitplan://plan/p/changeset/1" from "git plan mcp"
    Then resource 1 holds ""plan": "p""
    And resource 2 holds ""schema": "gitplan.status/1""
    And resource 3 holds "+2"
    And resource 4 holds ""tool": "edit""

  Scenario: Hostile or wrong arguments are refused with the error and its exit code
    When an MCP client talks to "git plan mcp"
      | call         | arguments                                                       |
      | plan_status  | {"plan": "--upload-pack=touch /tmp/x"}                          |
      | plan_status  | {"plan": "../x"}                                                |
      | plan_create  | {"plan": "q", "base": "--output=/tmp/y"}                        |
      | plan_create  | {"plan": "q"}                                                   |
      | plan_record  | {"plan": "q", "tool": "w", "files": {"../escape": "x"}}         |
      | plan_record  | {"plan": "q", "tool": "w", "files": {".git/config": "x"}}       |
      | plan_status  | {"plan": "nope"}                                                |
      | plan_diff    | {"plan": "nope", "changeset": 1}                                |
    Then call 1 failed with "a plan id must not start with '-'"
    And call 2 failed with "invalid plan id"
    And call 3 failed with "a base must not start with '-'"
    And call 5 failed with "'..' component"
    And call 6 failed with "'.git' components are not allowed"
    And call 7 failed with "PlanNotFound (exit 3)"
    And call 7 returned the error document of kind "plannotfound" with exit code 3
    And call 8 returned the error document of kind "plannotfound" with exit code 3

  Scenario: A name and content that are not UTF-8 are served, their bytes written as \xNN
    # MCP messages are UTF-8 JSON: one such name used to stop the server answering.
    Given the user sets the repository up with:
      """
      printf 'x\351y\n' > "$(printf 'caf\351.txt')"
      """
    And a plan "p"
    When I run git plan "record p --tool snapshot --from-worktree"
    Then the exit code is 0
    When an MCP client talks to "git plan mcp --read-only"
      | call        | arguments        |
      | plan_status | {"plan": "p"}    |
      | plan_log    | {"plan": "p"}    |
      | plan_list   | {}               |
      | plan_diff   | {"plan": "p"}    |
    Then call 1 holds the text "caf\xe9.txt"
    And call 2 holds the text "caf\xe9.txt"
    And call 3 holds the text "caf\xe9.txt"
    And call 4 returned a patch containing "+x\xe9y"
    When an MCP client reads "gitplan://plan/p/diff" from "git plan mcp"
    Then the resource read holds "+x\xe9y"

  Scenario: --read-only serves only the tools that change nothing
    When an MCP client talks to "git plan mcp --read-only"
      | call       | arguments |
      | plan_list  | {}        |
    Then the client saw the tools plan_list, plan_status, plan_log, plan_diff
    And call 1 said "0 plans" with a "gitplan.list/1" document

  Scenario: The same invocation recorded by parallel calls is one changeset; pages start at 0; resource errors say why
    Given a plan "p"
    When an MCP client records invocation "same" in "p" 6 times at once through "git plan mcp"
    Then git "rev-list --count refs/changesets/p" prints "3"
    When an MCP client talks to "git plan mcp"
      | call       | arguments                                   |
      | plan_diff  | {"plan": "p", "offset": -5, "limit": 3}     |
      | plan_log   | {"plan": "p", "offset": -2, "limit": 0}     |
      | plan_log   | {"plan": "p", "newest": 0}                  |
    Then call 1 said "3 of" with a "gitplan.diff/1" document
    And call 1 has "offset" 0
    And call 2 said "1 of 1 changesets" with a "gitplan.log/1" document
    And call 3 said "0 of 1 changesets" with a "gitplan.log/1" document
    When an MCP client reads "gitplan://plan/nope/status" from "git plan mcp"
    Then the resource read failed with "no plan named 'nope'"

  Scenario: Without the mcp extra, git plan mcp says how to get it
    When I run git plan "mcp" without the mcp package
    Then the exit code is 1
    And the output contains "git plan mcp needs the MCP extra: pip install 'gitplan[mcp]'"
