Feature: Coding agents' tool calls become changesets through git plan hook

  Each payload is a fixture in tests-data/agents/, as the agent sends it,
  with @CWD@, @SESSION@ and @HOME@ filled in for the scenario's repository.

  Background:
    Given a repository with files
      | path       | content           |
      | README.md  | one\ntwo\nthree\n |
      | src/app.py | print(1)\n        |
      | .gitignore | *.log\n           |
    And the agent's session is "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"

  Scenario: A Claude Code session: each file-changing tool call is one changeset, reads are not
    When claude-code sends "pre-write" as "PreToolUse"
    And the agent writes "src/hello.py" as "print('hello')\n" in the worktree
    And claude-code sends "post-write" as "PostToolUse"
    And the agent writes "README.md" as "one\n2\nthree\n" in the worktree
    And claude-code sends "post-edit" as "PostToolUse"
    And claude-code sends "post-read" as "PostToolUse"
    And the agent runs in the worktree: "sed -i 's/print(1)/print(2)/' src/app.py"
    And claude-code sends "post-bash" as "PostToolUse"
    Then every hook exited 0 without a warning
    And git "log --format=%s refs/changesets/claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" prints "Bash: modified src/app.py\nEdit: modified README.md\nWrite: added src/hello.py\nplan claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
    And the record of changeset 1 of "claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" has invocation_id = "toolu_01WriteHello"
    And the record of changeset 1 of "claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" has actor = "Claude Code"
    And the record of changeset 1 of "claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" has started_at, finished_at and duration_ms measured
    And the record of changeset 1 of "claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" has arguments = {"content": "<15 characters>", "file_path": "@CWD@/src/hello.py"}
    And the record of changeset 2 of "claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" has started_at = null
    And the agent data of changeset 3 of "claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" names the session and the transcript
    And git fsck --full is clean

  Scenario: The stop event sweeps what no event claimed, once
    When the agent runs in the worktree: "echo unclaimed > patch-made.txt; echo x > debug.log"
    And claude-code sends "stop" as "Stop"
    And claude-code sends "stop" as "Stop"
    Then every hook exited 0 without a warning
    And git "diff --name-status refs/changesets/claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e~1 refs/changesets/claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" prints "A\tpatch-made.txt"
    And git "rev-list --count refs/changesets/claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" prints "3"
    And git "log -1 --format=%s refs/changesets/claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" prints "sweep: added patch-made.txt"

  Scenario Outline: <agent> payloads are understood
    When the agent runs in the worktree: "<edit>"
    And <agent> sends "<fixture>" as "<event>"
    Then every hook exited 0 without a warning
    And git "ls-tree -r --name-only refs/changesets/<agent>-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" prints "<path>"

    Examples:
      | agent     | fixture     | event       | edit                                      | path          |
      | codex     | post-shell  | PostToolUse | printf 'x\\n' > notes.md                  | notes.md      |
      | gemini    | after-tool  | AfterTool   | mkdir -p docs; echo '# Guide' > docs/guide.md | docs/guide.md |
      | openhands | post        | PostToolUse | echo 'x = 1' > src/oh.py                  | src/oh.py     |

  Scenario Outline: A hook never breaks the agent: <case>
    When the hook gets <input>
    Then the hook exited 0
    And it warned "<warning>"
    And no plan exists

    Examples:
      | case                   | input                                       | warning                        |
      | a payload not JSON     | the payload "not json" for claude-code post | the payload is not JSON        |
      | no session             | the payload "{}" for claude-code post       | the payload has no session_id  |
      | an unknown agent       | the payload "{}" for aider post             | unknown agent 'aider'          |
      | an unknown event       | the payload "{}" for claude-code later      | unknown event 'later'          |
      | another directory      | a payload whose cwd is not a repository     | is not in a git repository     |

  Scenario: With --strict, a payload it cannot use exits 2; failures are logged under the git directory
    When the hook gets the payload "not json" for claude-code post with --strict
    Then the hook exited 2
    Given the plan "claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" exists and is applied
    When the agent writes "README.md" as "changed\n" in the worktree
    And claude-code sends "post-edit" as "PostToolUse"
    Then the hook exited 0
    And it warned "already applied"
    And the hook log mentions "already applied"

  Scenario: Hooks running at once lose nothing
    When 6 post hooks for different files of the session run at once
    Then every hook exited 0 without a warning
    And git "rev-list --count refs/changesets/claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" prints "8"

  Scenario: hooks install keeps the settings already there, is idempotent, backs up once, and uninstalls exactly
    Given the file ".claude/settings.json" in the worktree holds
      """
      {"permissions": {"allow": ["Bash(ls)"]}, "hooks": {"PostToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "echo mine"}]}]}}
      """
    When I run git plan "hooks install claude-code"
    Then the exit code is 0
    And the output contains "installed: gitplan hooks for claude-code"
    And the output contains "restart running sessions"
    When I run git plan "hooks install claude-code"
    Then the output contains "already installed"
    And the settings file has the hooks PreToolUse, PostToolUse and Stop and still "echo mine" and "Bash(ls)"
    And ".git/gitplan/hook-backups/claude-code-settings.json" holds the file as it was
    When I run git plan "hooks status claude-code"
    Then the exit code is 0
    And the output contains "Stop: git plan hook claude-code"
    When I run git plan "hooks uninstall claude-code"
    Then the output contains "removed"
    And ".claude/settings.json" holds the file as it was
    When I run git plan "hooks status claude-code --json"
    Then the exit code is 3
    And the output contains ""installed": []"

  Scenario: hooks install --user writes the settings in the home directory
    When I run git plan "hooks install claude-code --user"
    Then the exit code is 0
    And the home directory has ".claude/settings.json" running "git plan hook claude-code post"

  Scenario Outline: hooks install refuses <case>
    Given <setup>
    When I run git plan "hooks install <agent>"
    Then the exit code is 2
    And the output contains "<message>"

    Examples:
      | case                 | setup                                                  | agent       | message                      |
      | an agent it lacks    | nothing more                                           | aider       | cannot install hooks for 'aider' yet |
      | a broken file        | the file ".claude/settings.json" in the worktree is "{" | claude-code | is not valid JSON            |
      | a file not an object | the file ".claude/settings.json" in the worktree is "[]" | claude-code | does not hold a JSON object  |

  Scenario Outline: More payloads it ignores: <case>
    When the hook gets the payload "<payload>" for claude-code post
    Then the hook exited 0
    And it warned "<warning>"

    Examples:
      | case               | payload                  | warning                        |
      | not an object      | []                       | the payload is not a JSON object |
      | no cwd             | {"session_id": "s"}      | the payload has no cwd         |

  Scenario: A bare repository is not one the hook records into
    Given a bare clone "bare.git" of the repository with a plan "p"
    When the hook gets the payload "{"session_id": "s", "cwd": "{tmp}/bare.git", "tool_name": "Bash"}" for claude-code post
    Then the hook exited 0
    And it warned "is in a bare repository"

  Scenario: A failed tool call is recorded with status error; a file outside the worktree is not the plan's
    When the agent writes "README.md" as "failed edit\n" in the worktree
    And the hook gets the payload "{"session_id": "s1", "cwd": "{repo}", "tool_name": "Edit", "tool_input": {"file_path": "README.md"}, "tool_response": {"success": false}}" for claude-code post
    Then the hook exited 0
    And the record of changeset 1 of "claude-code-s1" has status = "error"
    And git "diff --name-only refs/changesets/claude-code-s1~1 refs/changesets/claude-code-s1" prints "README.md"
    When the agent writes "src/app.py" as "print(9)\n" in the worktree
    And the hook gets the payload "{"session_id": "s1", "cwd": "{repo}", "tool_name": "Write", "tool_input": {"file_path": "/etc/hostname-copy"}}" for claude-code post
    Then the hook exited 0
    And git "rev-list --count refs/changesets/claude-code-s1" prints "3"

  Scenario: A session id that is no plan name is made one
    When the agent writes "README.md" as "x\n" in the worktree
    And the hook gets the payload "{"session_id": "a..b/c.lock", "cwd": "{repo}", "tool_name": "Bash"}" for claude-code post
    Then the hook exited 0
    And git "for-each-ref --format=%(refname) refs/changesets/" prints "refs/changesets/claude-code-a-b-c"

  Scenario: In a linked worktree, the hook records that worktree's edits
    Given a linked worktree "agent-tree" of the repository
    And the agent runs in "agent-tree": "echo wt > from-worktree.txt"
    When the hook gets the payload "{"session_id": "s2", "cwd": "{tmp}/agent-tree", "tool_name": "Bash"}" for claude-code post
    Then the hook exited 0
    And git "ls-tree -r --name-only refs/changesets/claude-code-s2" prints "from-worktree.txt"

  Scenario: git plan hook without its two words says how to use it
    When the hook is run with "claude-code"
    Then the hook exited 2
    And it printed the usage
    When the hook is run with "--help"
    Then the hook exited 0

  Scenario: The hook command of the command line (as the Python entry point runs it)
    When the agent writes "README.md" as "in-process\n" in the worktree
    And I run git plan "hook claude-code post" with the payload of session "s3" on standard input
    Then the exit code is 0
    And git "ls-tree -r --name-only refs/changesets/claude-code-s3" prints "README.md"

  Scenario: hooks install, uninstall and status speak JSON, and uninstall with nothing there says so
    When I run git plan "hooks install claude-code --json"
    Then the output contains ""changed": true"
    When I run git plan "hooks uninstall claude-code --json"
    Then the output contains ""changed": true"
    When I run git plan "hooks uninstall claude-code"
    Then the output contains "nothing to remove"
    When I run git plan "hooks status claude-code"
    Then the exit code is 3
    And the output contains "PreToolUse: not installed"

  Scenario Outline: hooks install refuses a settings file whose <part> is not what Claude Code reads
    Given the file ".claude/settings.json" in the worktree is "<json>"
    When I run git plan "hooks install claude-code"
    Then the exit code is 2
    And the output contains "<message>"
    When I run git plan "hooks uninstall claude-code"
    Then the exit code is 0

    Examples:
      | part     | json                                 | message                     |
      | hooks    | {"hooks": []}                        | 'hooks' is not an object    |
      | an event | {"hooks": {"PreToolUse": {}}}        | hooks.PreToolUse is not a list |

  Scenario: uninstall keeps entries that are not gitplan's, whatever their shape
    Given the file ".claude/settings.json" in the worktree is "{"hooks": {"PreToolUse": ["odd", {"hooks": "x"}], "Stop": {"not": "a list"}}}"
    When I run git plan "hooks install claude-code"
    And I run git plan "hooks uninstall claude-code"
    Then ".claude/settings.json" has the hooks "{"PreToolUse": ["odd", {"hooks": "x"}], "Stop": {"not": "a list"}}"

  Scenario: hooks install --project needs a working tree
    Given a bare clone "bare.git" of the repository with a plan "p"
    When I run git plan "-C {tmp}/bare.git hooks install claude-code"
    Then the exit code is 2
    And the output contains "needs a repository with a working tree"

  Scenario: What the worktree held before the session is recorded first, as the user's
    Given the agent writes "README.md" as "the user's own edit\n" in the worktree
    When claude-code sends "pre-write" as "PreToolUse"
    And the agent writes "src/hello.py" as "print('hello')\n" in the worktree
    And claude-code sends "post-write" as "PostToolUse"
    Then every hook exited 0 without a warning
    And git "log --format=%an:%s refs/changesets/claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" prints "Claude Code:Write: added src/hello.py\nuser:before-session: modified README.md"

  Scenario: What the agent commits itself is recorded by the next sweep
    When claude-code sends "pre-write" as "PreToolUse"
    And the agent runs in the worktree: "echo a > a.txt; git add a.txt; git commit -q -m agent; sed -i s/two/2/ README.md; git commit -q -am again"
    And claude-code sends "stop" as "Stop"
    Then every hook exited 0 without a warning
    And git "diff --name-status refs/changesets/claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e~1 refs/changesets/claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" prints "M\tREADME.md\nA\ta.txt"

  Scenario: A tool that names a directory records the files in it; a named ignored file is not recorded
    When the agent runs in the worktree: "mkdir -p gen/sub; echo g > gen/sub/g.txt; echo SECRET=1 > .env.log"
    And the hook gets the payload "{"session_id": "s4", "cwd": "{repo}", "tool_name": "mcp__fs__write", "tool_input": {"path": "gen"}}" for claude-code post
    And the hook gets the payload "{"session_id": "s4", "cwd": "{repo}", "tool_name": "Write", "tool_input": {"file_path": ".env.log"}}" for claude-code post
    Then every hook exited 0 without a warning
    And git "ls-tree -r --name-only refs/changesets/claude-code-s4" prints "gen/sub/g.txt"
    And git "ls-tree -r --name-only refs/changesets/claude-code-s4" does not print ".env.log"

  Scenario: A read-only call leaves no start behind, and stop clears what calls that got no post left
    When claude-code sends "pre-write" as "PreToolUse"
    And the hook gets the payload "{"session_id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e", "cwd": "{repo}", "tool_name": "Read", "tool_use_id": "r1"}" for claude-code pre
    Then the hook state of the session holds "toolu_01WriteHello" only
    When claude-code sends "stop" as "Stop"
    Then the hook state of the session is gone

  Scenario: hooks install writes through a symlinked settings file, keeps its mode and its non-ASCII text; uninstall removes a file it made
    Given the settings file ".claude/settings.json" is a symlink to a file with mode 600 holding "{"theme": "héllo ✓"}"
    When I run git plan "hooks install claude-code"
    Then the symlink is still a symlink, its target has mode 600 and holds "héllo ✓" and "git plan hook claude-code pre"
    When I run git plan "hooks uninstall claude-code"
    Then the symlink target holds "{"theme": "héllo ✓"}" exactly
    When I run git plan "hooks install claude-code --user"
    And I run git plan "hooks uninstall claude-code --user"
    Then the home directory has no ".claude/settings.json"

  Scenario: Gemini CLI: its hooks are installed in .gemini/settings.json, and each prints the empty JSON object it expects
    When I run git plan "hooks install gemini"
    Then the exit code is 0
    And the output contains "installed: gitplan hooks for gemini"
    And git "-c core.quotepath=off status --porcelain --untracked-files=all" prints "?? .gemini/settings.json"
    When I run git plan "hooks status gemini"
    Then the output contains "AfterAgent: git plan hook gemini"
    When the agent runs in the worktree: "mkdir -p docs; echo '# Guide' > docs/guide.md"
    And gemini sends "after-tool" as "AfterTool"
    Then the hook exited 0
    And the hook printed "{}" on standard output

  Scenario: cancel --restore puts the worktree back as it was before the session, keeping the user's own earlier work
    Given the agent writes "README.md" as "the user's own edit\n" in the worktree
    When claude-code sends "pre-write" as "PreToolUse"
    And the agent runs in the worktree: "mkdir -p src/new; echo n > src/new/n.py; sed -i s/1/2/ src/app.py; echo more >> README.md; rm .gitignore"
    And claude-code sends "stop" as "Stop"
    And I run git plan "cancel claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e --restore"
    Then the exit code is 0
    And the output contains "put back 4 files as they were before plan"
    And the worktree file "README.md" holds "the user's own edit\n"
    And the worktree file "src/app.py" holds "print(1)"
    And the worktree file ".gitignore" holds "*.log"
    And the worktree has no "src/new"
    And git "status --porcelain" prints " M README.md"
    And ref "refs/changesets/claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" does not exist

  Scenario: cancel --restore changes nothing when a file changed since the plan recorded it
    When claude-code sends "pre-write" as "PreToolUse"
    And the agent runs in the worktree: "echo agent > agent.txt; sed -i s/two/2/ README.md"
    And claude-code sends "stop" as "Stop"
    And the agent writes "README.md" as "the user's later edit\n" in the worktree
    And I run git plan "cancel claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e --restore --json"
    Then the exit code is 4
    And the output contains "nothing was put back and the plan is kept: README.md"
    And the worktree file "agent.txt" holds "agent"
    And git "rev-list --count refs/changesets/claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" prints "3"

  Scenario: cancel --restore of a plan a snapshot recorded puts back symlinks and files as the base had them
    Given a plan "swept"
    And the agent runs in the worktree: "ln -s README.md link; mkdir d; echo x > d/x; echo changed > src/app.py"
    When I run git plan "snapshot swept --tool agent"
    And I run git plan "cancel swept --restore"
    Then the exit code is 0
    And the output contains "put back 3 files"
    And git status is clean
    And the worktree has no "link"

  Scenario: cancel --restore refuses a plan whose file became a directory since, and a bare repository
    Given a plan "swept"
    And the agent runs in the worktree: "echo x > thing"
    When I run git plan "snapshot swept --tool agent"
    And the agent runs in the worktree: "rm thing; mkdir thing; echo y > thing/y"
    And I run git plan "cancel swept --restore"
    Then the exit code is 4
    And the output contains "plan is kept: thing"
    Given a bare clone "bare.git" of the repository with a plan "p"
    When I run git plan "-C {tmp}/bare.git cancel p --restore"
    Then the exit code is 2
    And the output contains "needs a working tree"
