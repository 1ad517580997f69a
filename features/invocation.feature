Feature: Tool calls recorded as they happen: store.invocation(), git plan snapshot, and no secrets in records

  Background:
    Given a repository with files
      | path       | content           |
      | README.md  | one\ntwo\nthree\n |
      | src/a.py   | print(1)\n        |
      | run.sh     | echo hi\n         |
      | .gitignore | *.log\n           |
    And a plan "p"
    And I remember the user's state

  Scenario: A block of reads and writes is one changeset with measured times
    When an invocation of "edit" in "p" reads "README.md", appends "four\n", writes "new.txt", deletes "src/a.py"
    Then the invocation recorded changeset 1
    And the record of changeset 1 of "p" has status = "ok"
    And the record of changeset 1 of "p" has started_at, finished_at and duration_ms measured
    And git "show refs/changesets/p:README.md" prints "one\ntwo\nthree\nfour"
    And git "diff --name-status refs/changesets/p~1 refs/changesets/p" prints "D\tsrc/a.py"
    And git "diff --name-status refs/changesets/p~1 refs/changesets/p" prints "A\tnew.txt"
    And the user's state is unchanged

  Scenario: A write keeps the file's mode unless told; a new file is 100644
    Given the plan "p" makes "run.sh" executable
    When an invocation of "edit" in "p" writes "run.sh" and "tool.py", and "exec.py" with mode 100755
    Then git "ls-tree refs/changesets/p run.sh" prints "100755"
    And git "ls-tree refs/changesets/p tool.py" prints "100644"
    And git "ls-tree refs/changesets/p exec.py" prints "100755"

  Scenario: An exception in the block records the failed invocation without its edits, and is re-raised
    When an invocation of "edit" in "p" writes "half.txt" and then raises ValueError "disk on fire"
    Then the ValueError reached the caller
    And the record of changeset 1 of "p" has status = "error"
    And the record of changeset 1 of "p" has error = "ValueError: disk on fire"
    And the record of changeset 1 of "p" has files = []
    And git "ls-tree -r --name-only refs/changesets/p" does not print "half.txt"

  Scenario: Reading what the block deleted, or a file the plan lacks, is an error of the block
    When an invocation of "edit" in "p" reads "no-such-file"
    Then the block failed with "no file no-such-file in plan 'p'"
    And the record of changeset 1 of "p" has status = "error"

  Scenario: Two invocations opened on the same tip are rebased onto each other when they do not overlap
    When two invocations of "p" are open at once, one writing "a.txt" and the other "b.txt"
    Then git "ls-tree -r --name-only refs/changesets/p" prints "a.txt"
    And git "ls-tree -r --name-only refs/changesets/p" prints "b.txt"

  Scenario Outline: An invocation of <what> is refused before the block runs, writing nothing
    Given <setup>
    When an invocation of "edit" is opened in "<plan>"
    Then it fails with exit code <code>
    And the block did not run

    Examples:
      | what             | setup                                | plan  | code |
      | an unknown plan  | nothing more                         | nope  | 3    |
      | an applied plan  | the plan "p" is applied              | p     | 2    |
      | a bad plan id    | nothing more                         | ../x  | 2    |

  Scenario: snapshot records what an agent changed in the worktree since the last changeset
    Given I record in "p" with tool "edit-hook"
      | path      | content              |
      | README.md | one\ntwo\nthree\nA\n |
    And the agent writes "README.md" as "one\ntwo\nthree\nA\n" in the worktree
    And the agent runs in the worktree: "sed -i s/print/echo/ src/a.py; echo t > tests.txt; echo x > debug.log; rm run.sh"
    When I run git plan "snapshot p --tool agent --actor claude"
    Then the exit code is 0
    And the output contains "recorded changeset 2 of plan p"
    And git "diff --name-status refs/changesets/p~1 refs/changesets/p" prints "D\trun.sh\nM\tsrc/a.py\nA\ttests.txt"
    And git "diff --name-status refs/changesets/p~1 refs/changesets/p" does not print "README.md"
    And git "ls-tree -r --name-only refs/changesets/p" does not print "debug.log"
    And git "log -1 --format=%an refs/changesets/p" prints "claude"
    And the record of changeset 2 of "p" has started_at = null
    When I run git plan "snapshot p --tool agent"
    Then the exit code is 0
    And the output contains "nothing changed since plan p's last changeset"
    And git "rev-list --count refs/changesets/p" prints "4"

  Scenario: With core.fileMode false, a second snapshot of an unchanged worktree records nothing
    Given git config "core.fileMode" is "false"
    And the agent writes "README.md" as "changed\n" in the worktree
    When I run git plan "snapshot p --tool agent"
    Then the exit code is 0
    And the output contains "recorded changeset 1 of plan p"
    When I run git plan "snapshot p --tool agent"
    Then the exit code is 0
    And the output contains "nothing changed since plan p's last changeset"

  Scenario: snapshot does not take the plan's files that the worktree never had for deletions
    When I run git plan "run p --tool sh -- sh -c 'echo generated > gen.txt'"
    And the agent runs in the worktree: "echo edited >> README.md"
    And I run git plan "snapshot p --tool agent --json"
    Then the exit code is 0
    And the output contains ""schema": "gitplan.snapshot/1""
    And git "ls-tree -r --name-only refs/changesets/p" prints "gen.txt"
    And git "show refs/changesets/p:README.md" prints "three\nedited"

  Scenario: snapshot sweeps another worktree of the repository, and refuses a directory of another repository
    Given a linked worktree "agent-tree" of the repository
    And the agent runs in "agent-tree": "echo from-agent > agent.txt"
    When I run git plan "snapshot p --tool agent --worktree {tmp}/agent-tree"
    Then the exit code is 0
    And git "show refs/changesets/p:agent.txt" prints "from-agent"
    Given another repository "elsewhere"
    When I run git plan "snapshot p --tool agent --worktree {tmp}/elsewhere"
    Then the exit code is 2
    And the output contains "is not a worktree of this repository"

  Scenario: Secrets never reach the record: secret-named arguments, flags, environment values, token shapes, configured patterns
    Given git config "plan.redact" is "internal-[0-9]+"
    And the environment has DEPLOY_TOKEN = "s3cr3t-deploy-value"
    When I run git plan "run p --tool sh --arg api_key=abc123456 --arg path=src/a.py -- sh -c 'echo using $DEPLOY_TOKEN; echo ghp_0123456789abcdefghijklmnopqrstuvwxyzAB; echo ticket internal-4711 >&2; echo sk-ant-api03-abcdefghijklmnopqrstuvwxyz' --password hunter22"
    Then the exit code is 0
    And the note of changeset 1 of "p" does not contain "abc123456"
    And the note of changeset 1 of "p" does not contain "s3cr3t-deploy-value"
    And the note of changeset 1 of "p" does not contain "ghp_0123456789"
    And the note of changeset 1 of "p" does not contain "internal-4711"
    And the note of changeset 1 of "p" does not contain "sk-ant-api03"
    And the note of changeset 1 of "p" does not contain "hunter22"
    And the record of changeset 1 of "p" has redacted = ["arguments.api_key", "argv", "stderr_tail", "stdout_tail"]
    And the record of changeset 1 of "p" has arguments = {"api_key": "[REDACTED]", "path": "src/a.py"}
    And the record of changeset 1 of "p" has stdout_tail = "using [REDACTED]\n[REDACTED]\n[REDACTED]\n"
    And the record of changeset 1 of "p" has stderr_tail = "ticket [REDACTED]\n"

  Scenario: Redaction applies to every record, and a broken pattern is a clear error that writes nothing
    When I run git plan "record p --tool t --arg Authorization="Bearer abcdefghijklmnop1234" -m "uses AKIAABCDEFGHIJKLMNOP" --delete run.sh"
    Then the exit code is 0
    And the note of changeset 1 of "p" does not contain "abcdefghijklmnop1234"
    And the note of changeset 1 of "p" does not contain "AKIAABCDEFGHIJKLMNOP"
    Given git config "plan.redact" is "(unclosed"
    When I run git plan "record p --tool t --delete src/a.py"
    Then the exit code is 2
    And the output contains "plan.redact pattern '(unclosed' is not a regular expression"
    And git "rev-list --count refs/changesets/p" prints "3"

  Scenario: An invocation block reads its own writes, knows what exists, and refuses bad edits
    When an invocation of "edit" in "p" is used step by step
    Then reading "new.txt" after writing it gives what was written
    And reading "src/a.py" after deleting it fails with "was deleted by this invocation"
    And "README.md" exists and "nope.txt" does not
    And writing text instead of bytes fails with "data must be bytes"
    And deleting "nope.txt" fails with "no file nope.txt in plan 'p' to delete"

  Scenario Outline: snapshot refuses <case>
    Given <setup>
    When I run git plan "<args>"
    Then the exit code is 2
    And the output contains "<message>"

    Examples:
      | case                        | setup                     | args                          | message                           |
      | an applied plan             | the plan "p" is applied   | snapshot p --tool agent       | already applied                   |
      | a name it cannot record     | the agent makes a file named "a\nb" | record p --tool t --from-worktree | control characters          |

  Scenario: snapshot needs a working tree
    Given a bare clone "bare.git" of the repository with a plan "p"
    When I run git plan "-C {tmp}/bare.git snapshot p --tool agent"
    Then the exit code is 2
    And the output contains "this repository is bare"

  Scenario: A file an agent made, that a snapshot recorded, and that the agent removed, is recorded as deleted
    Given the agent runs in the worktree: "echo s > scratch.txt"
    When I run git plan "snapshot p --tool agent"
    And the agent runs in the worktree: "rm scratch.txt"
    And I run git plan "snapshot p --tool agent"
    Then git "diff --name-status refs/changesets/p~1 refs/changesets/p" prints "D\tscratch.txt"

  Scenario: Secrets nested in arguments and in --flag=value are masked
    When I run git plan "record p --tool t --args-json '{"config": {"auth": {"password": "pw-123456"}}, "n": 1}' --delete run.sh"
    Then the record of changeset 1 of "p" has arguments = {"config": {"auth": {"password": "[REDACTED]"}}, "n": 1}
    When I run git plan "run p --tool curl -- sh -c 'true' --token=tok-abcdef"
    Then the record of changeset 2 of "p" has argv = ["sh", "-c", "true", "--token=[REDACTED]"]

  Scenario Outline: A tool invocation a record could not hold as its schema says is refused, writing nothing: <field> = <value>
    Given I remember the object count
    When I record in "p" a tool invocation whose <field> is <value>
    Then it fails with exit code 2
    And the error mentions "<reason>"
    And no object or ref was written

    Examples:
      | field       | value                 | reason                                   |
      | arguments   | {"a": object()}       | cannot be recorded as JSON               |
      | arguments   | {"n": float("nan")}   | a number JSON cannot (NaN or Infinity)   |
      | arguments   | {"n": 10 ** 5000}     | cannot be recorded                       |
      | arguments   | {"deep": nested(150)} | nest deeper than 100 levels              |
      | agent       | {"x": {1, 2}}         | the agent data cannot be recorded as JSON |
      | agent       | "claude"              | agent data must be an object             |
      | summary     | 5                     | summary must be text                     |
      | stderr_tail | 7                     | stderr_tail must be text or None         |
      | exit_code   | "1"                   | exit_code must be a whole number         |
      | duration_ms | -5                    | duration_ms cannot be negative           |
      | skipped     | [1]                   | skipped must be a list of text           |

  Scenario: An invocation block whose arguments no record can hold is refused before the block runs
    Given I remember the object count
    When I open an invocation block in "p" with arguments {"deep": nested(150)}
    Then it fails with exit code 2
    And the error mentions "nest deeper than 100 levels"
    And the block did not run
    And no object or ref was written

  Scenario: --args-json nested deeper than any tool's is refused; an --arg value that deep is kept as text
    When I run git plan record in "p" with --args-json nested 1000 levels deep
    Then the exit code is 2
    And the output contains "--args-json nests too deep to record"
    When I run git plan record in "p" with an --arg value nested 1000 levels deep
    Then the exit code is 0
