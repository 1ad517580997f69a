Feature: git plan run records a command as it happens, in the plan's own worktree

  Background:
    Given a repository with files
      | path         | content                                   |
      | README.md    | one\ntwo\nthree\n                         |
      | src/app.py   | x = {'a':1}\n                             |
      | src/old.txt  | renamed content that is long enough\n     |
      | gone.txt     | bye\n                                     |
      | tool.sh      | echo tool\n                               |
      | .gitignore   | *.log\nbuild/\n                           |
    And a plan "p"
    And I remember the user's state

  Scenario: A command's edits become one changeset with its argv, exit code, times and output tails
    When I run git plan "run p --tool sed -- sed -i s/two/2/ README.md"
    Then the exit code is 0
    And the output contains "recorded changeset 1 of plan p: sed: modified README.md"
    And the record of changeset 1 of "p" has argv = ["sed", "-i", "s/two/2/", "README.md"]
    And the record of changeset 1 of "p" has exit_code = 0
    And the record of changeset 1 of "p" has status = "ok"
    And the record of changeset 1 of "p" has cwd = "."
    And the record of changeset 1 of "p" has started_at, finished_at and duration_ms measured
    And git "diff refs/changesets/p~1 refs/changesets/p" prints "-two\n+2\n"
    And the user's state is unchanged
    And git fsck --full is clean

  Scenario: The output streams to the terminal and its tails are kept, bounded as configured
    When I run the git-plan program with "run p --tool py --output-tail 12 -- python3 -c "import sys; print(*range(1000), sep=chr(10)); sys.stderr.write('warn' + chr(10))""
    Then the exit code is 0
    And standard output is the numbers 0 to 999, one per line
    And standard error shows "warn\n"
    And the record of changeset 1 of "p" has stdout_tail = "997\n998\n999\n"
    And the record of changeset 1 of "p" has stderr_tail = "warn\n"
    Given git config "plan.outputTail" is "4"
    When I run git plan "run p --tool py -- python3 -c 'print(12345678)'"
    Then the record of changeset 2 of "p" has stdout_tail = "678\n"

  Scenario: New, deleted, renamed, executable and symlinked files are captured; ignored files are not
    When I run git plan "run p --tool sh -- sh -c 'git mv src/old.txt src/new.txt; rm gone.txt; echo hi > added.txt; chmod +x tool.sh; ln -s README.md link; echo junk > debug.log; mkdir build; echo o > build/out.o'"
    Then the exit code is 0
    And git "diff --name-status -M refs/changesets/p~1 refs/changesets/p" prints "R100\tsrc/old.txt\tsrc/new.txt"
    And git "diff --name-status refs/changesets/p~1 refs/changesets/p" prints "D\tgone.txt"
    And git "diff --name-status refs/changesets/p~1 refs/changesets/p" prints "A\tadded.txt"
    And git "diff --summary refs/changesets/p~1 refs/changesets/p" prints "mode change 100644 => 100755 tool.sh"
    And git "ls-tree refs/changesets/p link" prints "120000 blob"
    And git "ls-tree -r --name-only refs/changesets/p" does not print "debug.log"
    And git "ls-tree -r --name-only refs/changesets/p" does not print "build/"
    And the user's state is unchanged

  Scenario: A formatter run over the plan's files
    When I run git plan "run p --tool ruff -- ruff format --isolated --no-cache -q src/app.py"
    Then the exit code is 0
    And git "show refs/changesets/p:src/app.py" prints "x = {\"a\": 1}"
    And the user's state is unchanged

  Scenario: The command runs in the plan's worktree, at the tip, where git works; later runs see earlier ones
    When I run git plan "run p --tool sh -- sh -c 'echo more >> README.md'"
    And I record in "p" with tool "other-writer"
      | path     | content    |
      | other.md | by another |
    And I run git plan "run p --tool sh -- sh -c 'cat other.md; git status --porcelain; tail -1 README.md; pwd'"
    Then the exit code is 0
    And the output contains "by another"
    And the output contains "more"
    And the output contains ".git/gitplan/worktrees/p/0/p"
    And the output does not contain " M "
    And git "worktree list" prints "(detached HEAD)"
    And git "for-each-ref refs/heads" does not print "p"
    And the user's state is unchanged

  Scenario: From a subdirectory, the command runs in the same subdirectory of the plan's worktree
    When in "src" I run git plan "run p --tool touch -- touch made-here.txt"
    Then the exit code is 0
    And git "ls-tree -r --name-only refs/changesets/p" prints "src/made-here.txt"
    And the record of changeset 1 of "p" has cwd = "src"

  Scenario: A failing command is recorded as an empty changeset with its exit code and stderr, without its edits
    When I run git plan "run p --tool sh -- sh -c 'echo half > README.md; echo new > new.txt; echo broke >&2; exit 3'"
    Then the exit code is 3
    And the output contains "exit code 3; recorded as changeset 1 of plan p without its changes"
    And the record of changeset 1 of "p" has status = "error"
    And the record of changeset 1 of "p" has exit_code = 3
    And the record of changeset 1 of "p" has stderr_tail = "broke\n"
    And the record of changeset 1 of "p" has files = []
    And git "log -1 --format=%s refs/changesets/p" prints "sh: failed (exit code 3)"
    When I run git plan "run p --tool sh -- sh -c 'git status --porcelain; cat README.md'"
    Then the output shows "one\ntwo\nthree"
    And the output does not contain "new.txt"

  Scenario: --keep-changes-on-error records a failed command's edits with status error
    When I run git plan "run p --tool sh --keep-changes-on-error -- sh -c 'echo half > README.md; exit 1'"
    Then the exit code is 1
    And the output contains "with its changes"
    And the record of changeset 1 of "p" has status = "error"
    And git "show refs/changesets/p:README.md" prints "half"

  Scenario: A timeout ends the command, exits 124 and is recorded
    When I run git plan "run p --tool sleep --timeout 0.3 -- sh -c 'echo started > s.txt; exec sleep 60'"
    Then the exit code is 124
    And the record of changeset 1 of "p" has status = "error"
    And the record of changeset 1 of "p" has signal = "SIGTERM"
    And the record of changeset 1 of "p" has error = "timed out after 0.3 s"
    And git "ls-tree -r --name-only refs/changesets/p" does not print "s.txt"

  Scenario: A command ended by a signal exits 128+N and is recorded with the signal
    When I run git plan "run p --tool sh -- sh -c 'kill -KILL $$'"
    Then the exit code is 137
    And the record of changeset 1 of "p" has signal = "SIGKILL"
    And the record of changeset 1 of "p" has exit_code = null

  Scenario Outline: <case> gets one line, its exit code, and writes nothing
    When I run git plan "<args>"
    Then the exit code is <code>
    And the output contains "<message>"
    And git "rev-list --count refs/changesets/p" prints "2"
    And the user's state is unchanged

    Examples:
      | case                    | args                                          | code | message                      |
      | a program that is not   | run p --tool x -- /no/such/program            | 2    | no such program              |
      | an unknown plan         | run nope --tool x -- true                     | 3    | no plan named 'nope'         |
      | no command              | run p --tool x                                | 2    | Missing argument             |
      | a directory not a file  | run p --tool x -- src                         | 2    | cannot run 'src'             |
      | a bad tool name         | run p --tool "" -- true                       | 2    | needs a tool name            |

  Scenario: An applied plan refuses to run anything
    Given I record in "p" with tool "edit"
      | path  | content |
      | x.txt | x\n     |
    When I run git plan "apply p"
    And I run git plan "run p --tool sh -- sh -c 'echo ran > {tmp}/ran'"
    Then the exit code is 2
    And the output contains "already applied"
    And the file "ran" was not made outside the repository

  Scenario: Two runs of one plan at once each get their own worktree and are rebased onto each other
    When git plan "run p --tool a -- sh -c 'echo a > a.txt; touch {tmp}/a-running; while [ ! -e {tmp}/go ]; do sleep 0.01; done'" is started in the background
    And "{tmp}/a-running" exists
    And I run git plan "run p --tool b -- sh -c 'echo b > b.txt; pwd'"
    Then the exit code is 0
    And the output contains ".git/gitplan/worktrees/p/1/p"
    When "{tmp}/go" is created and the background run ends
    Then the background run exited 0
    And git "ls-tree -r --name-only refs/changesets/p" prints "a.txt"
    And git "ls-tree -r --name-only refs/changesets/p" prints "b.txt"
    And git "log --format=%s refs/changesets/p" prints "a: added a.txt\nb: added b.txt"
    And git fsck --full is clean

  Scenario: Two runs at once that change the same line: the second to finish is a conflict naming the path
    When git plan "run p --tool a -- sh -c 'sed -i s/one/A/ README.md; touch {tmp}/a-running; while [ ! -e {tmp}/go ]; do sleep 0.01; done'" is started in the background
    And "{tmp}/a-running" exists
    And I run git plan "run p --tool b -- sed -i s/one/B/ README.md"
    Then the exit code is 0
    When "{tmp}/go" is created and the background run ends
    Then the background run exited 4
    And the background run printed "README.md"
    And git "show refs/changesets/p:README.md" prints "B\ntwo"
    When I run git plan "run p --tool sh -- git status --porcelain"
    Then the exit code is 0
    And the output does not contain "README.md"

  Scenario Outline: A run killed at <moment> leaves the plan as it was or complete; the next run and gc clean up
    When the git-plan program runs "run p --tool sh -- sh -c 'echo x > killed.txt'" and is killed at "<point>"
    Then git "rev-list --count refs/changesets/p" prints "<count>"
    And git fsck --full is clean
    When I run git plan "run p --tool sh -- git status --porcelain"
    Then the exit code is 0
    And the output does not contain "killed.txt"
    And git "rev-list --count refs/changesets/p" prints "<after>"

    Examples:
      | moment                        | point                      | count | after |
      | the end of the command        | run.command-finished       | 2     | 3     |
      | the publish of the changeset  | transaction.before-publish | 2     | 3     |
      | the moment after recording    | run.recorded               | 3     | 4     |

  Scenario: gc removes the worktree an interrupted run left; cancel removes a plan's worktrees
    When the git-plan program runs "run p --tool sh -- true" and is killed at "run.command-finished"
    And I run git plan "gc --grace now"
    Then the output contains "plan worktree"
    And the output contains "left by an interrupted run"
    And git "worktree list" does not print "gitplan/worktrees"
    When I run git plan "run p --tool sh -- true"
    And I run git plan "cancel p"
    Then the exit code is 0
    And git "worktree list" does not print "gitplan/worktrees"
    And there are no plan worktrees
    And git fsck --full is clean

  Scenario: A plan worktree deleted by hand is made again by the next run
    When I run git plan "run p --tool sh -- touch one.txt"
    And the plan worktrees are deleted by hand
    And I run git plan "run p --tool sh -- touch two.txt"
    Then the exit code is 0
    And git "log -1 --format=%s refs/changesets/p" prints "sh: added two.txt"

  Scenario: gc removes the worktree of an applied plan, and keeps an open plan's
    Given a plan "q"
    When I run git plan "run p --tool sh -- sh -c 'echo x > x.txt'"
    And I run git plan "run q --tool sh -- true"
    And I run git plan "apply p"
    And I run git plan "gc --grace now"
    Then the output contains "plan p is applied"
    And git "worktree list" prints "worktrees/q/0/q"
    And git "worktree list" does not print "worktrees/p/0/p"

  Scenario: log and show display the records; --verbose adds the output tails
    When I run git plan "run p --tool sh --arg why=demo -- sh -c 'echo out-line; echo err-line >&2; echo 2 > gone.txt'"
    And I run git plan "log p"
    Then the output contains "Command: sh -c 'echo out-line; echo err-line >&2; echo 2 > gone.txt'"
    And the output contains "Status:  ok (exit 0)"
    And the output contains "Args:    {"why": "demo"}"
    And the output contains "modified   gone.txt (+1 -1)"
    And the output does not contain "out-line\n"
    When I run git plan "log p --verbose"
    Then the output contains "  | out-line"
    And the output contains "  | err-line"
    When I run git plan "show p 1"
    Then the output contains "Ran:     "
    And the output contains "+2"
    When I run the git-plan program with "run p --json --tool sh -- sh -c 'echo to-stderr'"
    Then the JSON document on standard output is a "gitplan.run/1" with exit_code 0

  Scenario Outline: What a command changed is the same whether the kernel watched it or git status looked (watch <watch>, <case>)
    Given git config "plan.watchWorktree" is "<watch>"
    When I run git plan "run p --tool sh -- sh -c '<script>'"
    Then the exit code is 0
    And git "diff --name-status --no-renames refs/changesets/p~1 refs/changesets/p" prints "<changes>"
    And git "ls-tree -r --name-only refs/changesets/p" does not print "nested"
    And git "ls-tree -r --name-only refs/changesets/p" does not print "debug.log"
    When I run git plan "run p --tool sh -- git status --porcelain --ignored=no"
    Then the output lists no untracked path but "nested/"
    And the output does not contain " M "

    Examples:
      | watch | case                   | script                                                                                                                                                                          | changes                                                                                     |
      | true  | new and gone trees     | mkdir -p new/deep/er; echo n > new/deep/er/f.txt; rm -r src; rm gone.txt; mkdir gone.txt; echo i > gone.txt/inner.txt; git init -q nested; echo x > nested/x; echo y > debug.log; chmod +x tool.sh | D\tgone.txt\nA\tgone.txt/inner.txt\nA\tnew/deep/er/f.txt\nD\tsrc/app.py\nD\tsrc/old.txt\nM\ttool.sh |
      | false | new and gone trees     | mkdir -p new/deep/er; echo n > new/deep/er/f.txt; rm -r src; rm gone.txt; mkdir gone.txt; echo i > gone.txt/inner.txt; git init -q nested; echo x > nested/x; echo y > debug.log; chmod +x tool.sh | D\tgone.txt\nA\tgone.txt/inner.txt\nA\tnew/deep/er/f.txt\nD\tsrc/app.py\nD\tsrc/old.txt\nM\ttool.sh |
      | true  | a directory moved      | mv src src2; echo y > debug.log                                                                                                                                                 | D\tsrc/app.py\nD\tsrc/old.txt\nA\tsrc2/app.py\nA\tsrc2/old.txt                             |
      | false | a directory moved      | mv src src2; echo y > debug.log                                                                                                                                                 | D\tsrc/app.py\nD\tsrc/old.txt\nA\tsrc2/app.py\nA\tsrc2/old.txt                             |
      | true  | a file rewritten as is | cp README.md r.tmp; rm README.md; mv r.tmp README.md; touch src/app.py; echo z > z.txt                                                                                          | A\tz.txt                                                                                    |

  Scenario Outline: A command that commits in the plan's worktree has its changes recorded (watch <watch>)
    Given git config "plan.watchWorktree" is "<watch>"
    When I run git plan "run p --tool sh -- sh -c 'echo more >> README.md; git commit -q -am wip; git rm -q gone.txt; git commit -q -m rm'"
    Then the exit code is 0
    And git "diff --name-status refs/changesets/p~1 refs/changesets/p" prints "M\tREADME.md\nD\tgone.txt"
    When I run git plan "run p --tool sh -- true"
    Then git "log -1 --format=%s refs/changesets/p" prints "sh: no file changes"

    Examples:
      | watch |
      | true  |
      | false |

  Scenario Outline: A directory replaced by a <what> is recorded (watch <watch>)
    Given git config "plan.watchWorktree" is "<watch>"
    When I run git plan "run p --tool sh -- sh -c 'rm -r src; <make>'"
    Then the exit code is 0
    And git "diff --name-status refs/changesets/p~1 refs/changesets/p" prints "D\tsrc/app.py\nD\tsrc/old.txt"
    And git "ls-tree refs/changesets/p src" prints "<mode> blob"

    Examples:
      | what    | watch | make                    | mode   |
      | file    | true  | echo now-a-file > src   | 100644 |
      | file    | false | echo now-a-file > src   | 100644 |
      | symlink | true  | ln -s README.md src     | 120000 |
      | symlink | false | ln -s README.md src     | 120000 |

  Scenario: A directory left with only ignored files is watched by the next runs
    When I run git plan "run p --tool sh -- sh -c 'mkdir cache; echo o > cache/x.log'"
    And I run git plan "run p --tool sh -- sh -c 'echo hi > cache/readme.txt'"
    Then git "diff --name-status refs/changesets/p~1 refs/changesets/p" prints "A\tcache/readme.txt"

  Scenario: A name gitplan cannot record is left out with a warning; the rest is recorded
    When I run git plan "run p --tool sh -- sh -c 'echo ok > fine.txt; echo bad > "$(printf "a\tb\nc")"'"
    Then the exit code is 0
    And the output contains "warning: left out 'a\tb\nc'"
    And git "ls-tree -r --name-only refs/changesets/p" prints "fine.txt"
    And the record of changeset 1 of "p" has skipped = ["a\tb\nc"]
    Given git config "plan.watchWorktree" is "false"
    When I run git plan "run p --tool sh -- true"
    Then the output does not contain "left out"

  Scenario: A broken plan.redact pattern is refused before the command runs
    Given git config "plan.redact" is "(unclosed"
    When I run git plan "run p --tool sh -- sh -c 'touch {tmp}/ran'"
    Then the exit code is 2
    And the file "ran" was not made outside the repository
    And git "rev-list --count refs/changesets/p" prints "2"

  Scenario: git's locks left by a killed run do not block the next one
    When the git-plan program runs "run p --tool sh -- true" and is killed at "run.command-finished"
    And git left an index.lock in the plan's worktree 0
    And I run git plan "run p --tool sh -- sh -c 'echo after > after.txt'"
    Then the exit code is 0
    And git "ls-tree -r --name-only refs/changesets/p" prints "after.txt"

  Scenario: A timeout ends what the command started too
    When I run git plan "run p --tool sh --timeout 0.5 -- sh -c 'sleep 60 & echo $! > {tmp}/pid; wait'", whose timeout fires once the command has written "pid"
    Then the exit code is 124
    And the process in "pid" is gone

  Scenario: A command that leaves a process behind does not hold the run
    When I run git plan "run p --tool sh -- sh -c 'sleep 60 >/dev/null 2>&1 & echo $! > {tmp}/pid; echo done > d.txt'"
    Then the exit code is 0
    And git "ls-tree -r --name-only refs/changesets/p" prints "d.txt"
    And I kill the process in "pid"

  Scenario Outline: What a process the command left running writes after the run is not the next run's (watch <watch>, <output>)
    Given git config "plan.watchWorktree" is "<watch>"
    When I run git plan "run p --tool first -- sh -c '(while [ -d {tmp} ] && [ ! -e {tmp}/go ]; do sleep 0.01; done; echo bg > late.txt; touch {tmp}/written) <redirect> &'"
    Then the exit code is 0
    When "{tmp}/go" is made
    And "{tmp}/written" exists
    And I run git plan "run p --tool second -- sh -c 'echo s > s.txt'"
    Then the exit code is 0
    And git "ls-tree -r --name-only refs/changesets/p" prints "s.txt"
    And git "ls-tree -r --name-only refs/changesets/p" does not print "late.txt"
    When I run git plan "run p --tool third -- git status --porcelain"
    Then the output does not contain "late.txt"

    Examples:
      | watch | output               | redirect             |
      | true  | its output its own   | > /dev/null 2>&1     |
      | false | its output its own   | > /dev/null 2>&1     |
      | false | holding ours         |                      |

  Scenario: On a terminal, where the command shares gitplan's process group, what a process it left running writes is not the next run's
    When on a terminal I run git plan "run p --tool first -- sh -c '(trap \"\" HUP; while [ -d {tmp} ] && [ ! -e {tmp}/go ]; do sleep 0.01; done; echo bg > late.txt; touch {tmp}/written) > /dev/null 2>&1 &'"
    And on a terminal I run git plan "run p --tool second -- sh -c 'touch {tmp}/go; while [ ! -e {tmp}/written ]; do sleep 0.01; done; echo s > s.txt'"
    Then git "ls-tree -r --name-only refs/changesets/p" prints "s.txt"
    And git "ls-tree -r --name-only refs/changesets/p" does not print "late.txt"

  Scenario: A process the command left running that ended and was never reaped (a zombie) holds no worktree
    When a process never reaping orphans runs git plan "run p --tool first -- sh -c '(echo bg > late.txt; touch {tmp}/ended) > /dev/null 2>&1 &'", once "{tmp}/ended" exists "run p --tool second -- sh -c 'pwd > {tmp}/where'"
    Then the file "{tmp}/where" names plan worktree 0

  Scenario: gc keeps a worktree while a process a command left running still runs in it
    When I run git plan "run p --tool first -- sh -c '(while [ -d {tmp} ] && [ ! -e {tmp}/go ]; do sleep 0.01; done) > /dev/null 2>&1 &'"
    And the user deletes the refs of plan "p" with git update-ref
    And I run git plan "gc --grace now"
    Then the output contains "but a process a command left running still runs in it"
    When "{tmp}/go" is made

  Scenario: While a process the command left running lives, the next run takes another worktree
    When I run git plan "run p --tool first -- sh -c '(while [ -d {tmp} ] && [ ! -e {tmp}/go ]; do sleep 0.01; done; echo bg > late.txt) > /dev/null 2>&1 &'"
    And I run git plan "run p --tool second -- sh -c 'pwd > {tmp}/where; echo s > s.txt'"
    Then the exit code is 0
    And the file "{tmp}/where" names plan worktree 1
    When "{tmp}/go" is made
    And I run git plan "run p --tool third -- sh -c 'echo t > t.txt'"
    Then git "ls-tree -r --name-only refs/changesets/p" does not print "late.txt"

  Scenario: A command that makes a symlink leading out of the worktree is recorded with a warning that apply will refuse the plan
    When I run git plan "run p --tool sh -- ln -s /etc/passwd evil"
    Then the exit code is 0
    And the output contains "warning: symlink 'evil' -> '/etc/passwd' points outside the worktree: apply will refuse this plan"
    When I run git plan "run p --tool sh -- sh -c 'echo fine > fine.txt'"
    Then the output does not contain "warning"

  Scenario: A secret that the output tail would cut is masked whole
    Given the environment has MY_API_TOKEN = "s3cr3tvalue-0123456789abcdef"
    When I run git plan "run p --tool sh --output-tail 20 -- sh -c 'echo $MY_API_TOKEN'"
    Then the exit code is 0
    And the note of changeset 1 of "p" does not contain "0123456789abcdef"
    And the record of changeset 1 of "p" has redacted = ["stdout_tail"]

  Scenario: Running out of descriptors while the command's pipes are set up stops the command, leaves no descriptor open and records nothing
    Given store.run is called on "p" with argv ["true"] and options {}
    When store.run runs "echo $$ > {tmp}/pid.new && mv {tmp}/pid.new {tmp}/pid && exec sleep 60" in "p" and descriptors run out once "pid" is written
    Then it fails with exit code 1
    And the error mentions "could not read the output of 'sh', so it was stopped: Too many open files"
    And the process in "pid" is gone
    And this process has the descriptors it had before
    And plan "p" has 1 changesets

  Scenario: The watcher works in a process with more than 1024 open files
    When a process with 1100 open files runs "echo x > many.txt" in "p"
    Then git "ls-tree -r --name-only refs/changesets/p" prints "many.txt"

  Scenario: gc keeps an interrupted run's worktree for the grace period
    When the git-plan program runs "run p --tool sh -- true" and is killed at "run.command-finished"
    And I run git plan "gc"
    Then the output contains "used within the grace"
    And git "worktree list" prints "gitplan/worktrees/p/0/p"

  Scenario: A command that cannot start leaves the plan's worktree clean
    When I run git plan "run p --tool sh -- ./no-such-script"
    Then the exit code is 2
    When I run git plan "gc --grace now"
    Then git "worktree list" prints "gitplan/worktrees/p/0/p"

  Scenario Outline: store.run refuses <case> before running anything
    When store.run is called on "p" with argv <argv> and options <options>
    Then it fails with exit code 2
    And the error mentions "<message>"
    And git "rev-list --count refs/changesets/p" prints "2"

    Examples:
      | case                  | argv             | options                | message                          |
      | no command            | []               | {}                     | no command given                 |
      | one string            | "ls -l"          | {}                     | argv must be a list of strings   |
      | a zero timeout        | ["true"]         | {"timeout": 0}         | greater than 0                   |
      | a missing directory   | ["true"]         | {"cwd": "nope/"}       | nope is not a directory in plan  |

  Scenario Outline: plan.outputTail set to <value> is refused
    Given git config "plan.outputTail" is "<value>"
    When store.run is called on "p" with argv ["true"] and options {}
    Then it fails with exit code 2
    And the error mentions "<message>"

    Examples:
      | value | message                          |
      | lots  | must be a number of bytes        |
      | -5    | must not be negative             |

  Scenario Outline: A program that cannot start (<case>) exits 2 and leaves the worktree clean
    Given the plan "p" makes "gone.txt" executable
    When I run git plan "run p --tool x -- <program>"
    Then the exit code is 2
    And the output contains "<message>"

    Examples:
      | case                   | program        | message                    |
      | not executable         | ./tool.sh      | permission denied          |
      | not a program          | ./gone.txt     | Exec format error          |
      | absolute, not there    | /no/such/thing | not executable             |

  Scenario: A command that ignores SIGTERM is killed after the grace period
    When I run git plan "run p --tool sh --timeout 0.2 -- sh -c 'trap "" TERM; echo ready > {tmp}/ignoring; sleep 30'", whose timeout fires once the command has written "ignoring"
    Then the exit code is 124
    And the record of changeset 1 of "p" has signal = "SIGKILL"
    And the record of changeset 1 of "p" has error = "timed out after 0.2 s"

  Scenario: Ctrl-C reaches the command, and the run records how it ended
    When git plan "run p --tool sh -- sh -c 'touch {tmp}/started; exec sleep 60'" is started in the background
    And "{tmp}/started" exists
    And the background run is interrupted with Ctrl-C
    Then the background run exited 130
    And the record of changeset 1 of "p" has signal = "SIGINT"

  Scenario: A reader that stops early does not stop the run or its record
    When the git-plan program runs "run p --tool seq -- seq 1 100000" into a reader that stops after one line
    Then the record of changeset 1 of "p" has stdout_tail ending "100000\n"

  Scenario: Output still on its way when the command ends is kept, however long a slow reader of ours takes
    # The reader reads nothing until 3 seconds after the command ended: the command's last
    # output waits in the pipes meanwhile, longer than output of a process left behind is
    # waited for.
    When the git-plan program runs "run p --tool seq -- sh -c 'seq 1 15000; echo x > {tmp}/ended'" into a reader that starts 3 s after "ended" is written
    Then the reader got every line
    And the record of changeset 1 of "p" has stdout_tail ending "15000\n"

  Scenario: Output the command wrote before it ended is kept, however long our reader of it is held up
    When I run git plan "run p --tool sh -- sh -c 'printf hello'", its output reader held up for 2.5 s after its first read
    Then the exit code is 0
    And the record of changeset 1 of "p" has stdout_tail ending "hello"

  Scenario: A run from a thread other than the main one
    When store.run of "sh -c 'echo t > thread.txt'" in "p" runs in a thread
    Then git "ls-tree -r --name-only refs/changesets/p" prints "thread.txt"

  Scenario Outline: In a sparse checkout, the plan's worktree is sparse too and what is outside stays in the plan (watch <watch>)
    Given the user sets the repository up with:
      """
      mkdir -p lib/deep && echo l > lib/deep/l.txt && git add lib && git commit -q -m lib
      git sparse-checkout set src
      """
    And a plan "q"
    And git config "plan.watchWorktree" is "<watch>"
    When I run git plan "run q --tool sh -- sh -c 'echo n > src/new.txt'"
    Then the exit code is 0
    And git "diff --name-status refs/changesets/q~1 refs/changesets/q" prints "A\tsrc/new.txt"
    And git "ls-tree -r --name-only refs/changesets/q" prints "lib/deep/l.txt"

    Examples:
      | watch |
      | true  |
      | false |

  Scenario Outline: In a sparse checkout, a command that writes into a directory outside it records only what it wrote (watch <watch>)
    Given the user sets the repository up with:
      """
      mkdir -p lib/deep && echo l > lib/deep/l.txt && echo g > lib/g.txt && git add lib && git commit -q -m lib
      git sparse-checkout set src
      """
    And a plan "q"
    And git config "plan.watchWorktree" is "<watch>"
    When I run git plan "run q --tool sh -- sh -c 'mkdir -p lib && echo fixed > lib/g.txt && mkdir -p new && echo n > new/n.txt'"
    Then the exit code is 0
    And git "diff --name-status refs/changesets/q~1 refs/changesets/q" prints "M\tlib/g.txt\nA\tnew/n.txt"
    And git "ls-tree -r --name-only refs/changesets/q lib/deep" prints "lib/deep/l.txt"

    Examples:
      | watch |
      | true  |
      | false |

  Scenario: In a sparse checkout, a command that writes into a directory of thousands of files outside it records what it wrote (the watcher lists them all)
    # 2,500 paths of 1,000 bytes: more than an argument list holds, had they been passed to git
    Given the user sets the repository up with:
      """
      deep=lib/$(printf 'a%.0s' $(seq 250))/$(printf 'b%.0s' $(seq 250))/$(printf 'c%.0s' $(seq 250))/$(printf 'd%.0s' $(seq 240))
      blob=$(echo x | git hash-object -w --stdin)
      seq 2500 | while read n; do printf '100644 %s\t%s/f%s\n' "$blob" "$deep" "$n"; done | git update-index --index-info
      echo g > lib/g.txt 2>/dev/null || (mkdir -p lib && echo g > lib/g.txt)
      git add lib/g.txt && git commit -q -m lib
      git sparse-checkout set src
      """
    And a plan "q"
    And git config "plan.watchWorktree" is "true"
    When I run git plan "run q --tool sh -- sh -c 'mkdir -p lib && echo fixed > lib/g.txt'"
    Then the exit code is 0
    And git "diff --name-status refs/changesets/q~1 refs/changesets/q" prints "M\tlib/g.txt"

  Scenario: The user's git hooks do not run in the plan's own worktree, so a failing post-checkout or reference-transaction hook stops no run
    Given the user sets the repository up with:
      """
      printf '#!/bin/sh\necho ran >> "$(git rev-parse --git-common-dir)/hook-ran"\nexit 1\n' > .git/hooks/post-checkout
      cp .git/hooks/post-checkout .git/hooks/reference-transaction
      chmod +x .git/hooks/post-checkout .git/hooks/reference-transaction
      """
    When I run git plan "run p --tool sh -- sh -c 'echo h > hooked.txt'"
    Then the exit code is 0
    When I run git plan "run p --tool sh -- sh -c 'echo i > again.txt'"
    Then the exit code is 0
    And git "diff --name-only refs/changesets/p~2 refs/changesets/p" prints "again.txt\nhooked.txt"
    And the repository has no file ".git/hook-ran"

  Scenario: A run whose slot lock is replaced while it opens it takes the new one
    When gc replaces the slot lock just as a run of "sh -c 'echo r > race.txt'" in "p" opens it
    Then git "ls-tree -r --name-only refs/changesets/p" prints "race.txt"

  Scenario: A command that switches the plan's worktree to a branch
    When I run git plan "run p --tool sh -- sh -c 'git checkout -q -b agent-branch; echo x > x.txt'"
    And I run git plan "run p --tool sh -- sh -c 'echo y > y.txt'"
    Then the exit code is 0
    And git "log --format=%s refs/changesets/p" prints "sh: added y.txt\nsh: added x.txt"

  Scenario Outline: A plan cancelled while its command runs: the run says so and exits 3 (watch <watch>)
    Given git config "plan.watchWorktree" is "<watch>"
    When git plan "run p --tool a -- sh -c 'touch {tmp}/a-running; while [ ! -e {tmp}/go ]; do sleep 0.01; done; echo x > x.txt'" is started in the background
    And "{tmp}/a-running" exists
    And I run git plan "cancel p"
    And "{tmp}/go" is created and the background run ends
    Then the background run exited 3
    And the background run printed "cancelled"

    Examples:
      | watch |
      | true  |
      | false |

  Scenario: gc leaves a worktree a command is running in
    When git plan "run p --tool a -- sh -c 'touch {tmp}/a-running; while [ ! -e {tmp}/go ]; do sleep 0.01; done'" is started in the background
    And "{tmp}/a-running" exists
    And I run git plan "gc --grace now"
    Then the output contains "a command is running in it"
    When "{tmp}/go" is created and the background run ends
    Then the background run exited 0

  Scenario: gc removes the worktree and snapshot state of a plan whose refs were deleted by hand
    When I run git plan "run p --tool sh -- true"
    And the agent runs in the worktree: "echo s > swept.txt"
    And I run git plan "snapshot p --tool agent"
    And the user deletes the refs of plan "p" with git update-ref
    And I run git plan "gc --grace now"
    Then the output contains "plan p no longer exists"
    And the output contains "snapshot state"
    And there are no plan worktrees

  Scenario: A large file a command writes is streamed, and rewriting it unchanged is no change
    When I run git plan "run p --tool sh -- sh -c 'head -c 17000000 /dev/zero > big.bin'"
    And I run git plan "run p --tool sh -- sh -c 'touch big.bin; touch .git'"
    Then git "log -1 --format=%s refs/changesets/p" prints "sh: no file changes"
    And git "cat-file -s refs/changesets/p:big.bin" prints "17000000"

  Scenario: log shows where a command ran, what was masked and what was left out, and why it failed
    Given the environment has DEPLOY_TOKEN = "s3cr3t-deploy-value"
    When in "src" I run git plan "run p --tool sh -- sh -c 'echo $DEPLOY_TOKEN; echo bad > "$(printf "x\ny")"'"
    And I run git plan "run p --tool sleep --timeout 0.2 -- sleep 30"
    And I run git plan "log p"
    Then the output contains "In:      src/"
    And the output contains "Redacted: stdout_tail"
    And the output contains "Left out: src/x\ny (names gitplan cannot record)"
    And the output contains "Status:  error (timed out after"

  Scenario: A plan whose run replaced a directory by a file applies
    When I run git plan "run p --tool sh -- sh -c 'rm -r src; echo now-a-file > src'"
    And I run git plan "apply p"
    Then the exit code is 0
    And the worktree file "src" holds "now-a-file"
    And git status is clean

  Scenario: A file over a directory another writer changed is a conflict, not damage
    Given I record in "p" with tool "other"
      | path        | content |
      | src/more.py | m\n     |
    When a writer from changeset 0 replaces the directory "src" by a file
    Then it fails with exit code 4
    And the error mentions "src"

  Scenario: A secret that the output tail would cut is masked whole, even in long output
    When I run git plan "run p --tool py -- python3 -c "import sys; sys.stdout.write('a' * 4999 + ' ghp_0123456789abcdefghijklmnopqrstuvwxyz' + 'b' * 4086)""
    Then the exit code is 0
    And the note of changeset 1 of "p" does not contain "qrstuvwxyz"
    And the record of changeset 1 of "p" has redacted = ["argv", "stdout_tail"]

  Scenario: A git plan run that is sent SIGTERM ends its command and records how it ended
    When git plan "run p --tool sh -- sh -c 'touch {tmp}/started; sleep 60; echo late > late.txt'" is started in the background
    And "{tmp}/started" exists
    And the background run is sent SIGTERM
    Then the background run exited 143
    And the record of changeset 1 of "p" has signal = "SIGTERM"

  Scenario: A failed command that leaves git's index.lock is still recorded, and the next run works
    When I run git plan "run p --tool sh -- sh -c 'echo x > x.txt; touch "$(git rev-parse --git-dir)/index.lock"; exit 1'"
    Then the exit code is 1
    And the record of changeset 1 of "p" has status = "error"
    When I run git plan "run p --tool sh -- sh -c 'git status --porcelain; echo y > y.txt'"
    Then the exit code is 0
    And git "ls-tree -r --name-only refs/changesets/p" prints "y.txt"
    And git "ls-tree -r --name-only refs/changesets/p" does not print "x.txt"

  Scenario Outline: A command that checks out one of the user's branches in the plan's worktree leaves that branch where it was (<how>)
    Given the user sets the repository up with:
      """
      git branch feature && git checkout -q feature && echo f > f.txt && git add f.txt && git commit -qm "user work" && git checkout -q main
      git rev-parse feature > .git/feature-before
      """
    When I run git plan "run p --tool sh -- sh -c 'git checkout -q feature; <end>'"
    Then the exit code is <code>
    And git "rev-parse feature" prints the commit in ".git/feature-before"
    When I run git plan "run p --tool sh -- sh -c 'echo z > z.txt'"
    Then the exit code is 0
    And git "rev-parse feature" prints the commit in ".git/feature-before"
    And git "log -1 --format=%s feature" prints "user work"

    Examples:
      | how                    | end    | code |
      | the command fails      | exit 1 | 1    |
      | the command succeeds   | true   | 0    |

  Scenario: A command that leaves HEAD on an orphan branch
    When I run git plan "run p --tool sh -- sh -c 'git checkout -q --orphan fresh; echo o > o.txt'"
    Then the exit code is 0
    And git "ls-tree -r --name-only refs/changesets/p" prints "o.txt"
    When I run git plan "run p --tool sh -- sh -c 'echo z > z.txt'"
    Then the exit code is 0
    And git "ls-tree -r --name-only refs/changesets/p" prints "z.txt"

  Scenario: A failed command's commits and staged files do not leak into the next run
    When I run git plan "run p --tool sh -- sh -c 'echo g > g; git add g; git commit -q -m g; exit 1'"
    Then the exit code is 1
    When I run git plan "run p --tool sh -- git status --porcelain"
    Then the output does not contain "A  g"
    And the output does not contain "?? g"
    And git "ls-tree -r --name-only refs/changesets/p" does not print "g\n"

  Scenario: An ignored directory a command makes is neither walked nor watched later
    When I run git plan "run p --tool sh -- sh -c 'mkdir -p build/a/b cache/sub; echo x > build/a/b/c; echo y > cache/sub/y.log'"
    Then the plan worktree remembers the directories "cache cache/sub" and not "build"

  Scenario: Runs in one process keep the worktree's watches between runs and still see every change
    When store.run is called on "p" with argv ["sh", "-c", "echo one > README.md"] and options {}
    And store.run is called on "p" with argv ["sh", "-c", "mkdir -p made && echo x > made/f"] and options {}
    And store.run is called on "p" with argv ["sh", "-c", "echo y > made/f"] and options {}
    And store.run is called on "p" with argv ["sh", "-c", "rm -r made && mkdir made && echo y > made/f"] and options {}
    And store.run is called on "p" with argv ["sh", "-c", "echo z > made/f"] and options {}
    And store.run is called on "p" with argv ["sh", "-c", "echo two > README.md"] and options {}
    And store.run is called on "p" with argv ["sh", "-c", "rm -r made"] and options {}
    And store.run is called on "p" with argv ["sh", "-c", "echo three > src/app.py"] and options {}
    Then this process keeps the watches of the worktree of plan "p"
    And git "log --format=%s refs/changesets/p -8" prints "t: modified src/app.py\nt: deleted made/f\nt: modified README.md\nt: modified made/f\nt: no file changes\nt: modified made/f\nt: added made/f\nt: modified README.md"
    And git "show refs/changesets/p:README.md" prints "two"

  Scenario Outline: A kept watcher serves the next run only if its watches still cover the directories (<case>)
    Given a directory tree "w" with the directories "a", "b" and "b/c"
    When a watcher of "w" watching "a", "b" and "b/c" stops
    And <meanwhile>
    And a watcher of "w" watching "a", "b" and "b/c" starts
    Then it is <which>
    When "a/after.txt" in "w" is written and the watcher stops
    Then it saw exactly "a/after.txt"

    Examples:
      | case                  | meanwhile                               | which            |
      | a file was written    | "a/before.txt" in "w" is written        | the kept watcher |
      | a directory was made  | the directory "w/a/new" is made          | a new watcher    |
      | a directory was moved | "w/b/c" is moved to "w/a/c"              | a new watcher    |
      | a directory went      | the directory "w/b/c" is removed         | a new watcher    |
