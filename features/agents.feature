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
    When claude-code sends "pre-write" as "PreToolUse"
    And the agent runs in the worktree: "echo unclaimed > patch-made.txt; echo x > debug.log"
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
      | cursor    | after-shell | afterShellExecution | printf 'x\\n' > notes.md          | notes.md      |
      | cline     | task-cancel | TaskCancel  | echo c > cancelled.txt                    | cancelled.txt |

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
      | Cursor, no conversation | the payload "{"workspace_roots": []}" for cursor afterFileEdit | the payload has no conversation_id |
      | Cursor, no root        | the payload "{"conversation_id": "c", "workspace_roots": []}" for cursor stop | the payload has no workspace_roots |
      | Cline, no task         | the payload "{"workspaceRoots": ["/"]}" for cline PostToolUse | the payload has no taskId |
      | Cline, no root         | the payload "{"taskId": "t", "workspaceRoots": [""]}" for cline PostToolUse | the payload has no workspaceRoots |

  Scenario: The hook logs in the project Claude Code names, also when the payload's cwd is in another repository
    When claude-code's "pre" hook of a Write runs with its cwd in another repository "other" and CLAUDE_PROJECT_DIR the project
    Then the hook exited 0
    And the hook log mentions "claude-code pre Write: noted the start"
    And the repository "other" has no hooks log

  Scenario: CLAUDE_PROJECT_DIR is Claude Code's: another agent started from a Claude Code shell records where its payload says
    When codex's "pre" hook of a Write runs with its cwd in another repository "other" and CLAUDE_PROJECT_DIR the project
    Then the hook exited 0
    And the repository "other" has a hooks log that mentions "codex pre Write: noted the start"
    And the project has no hooks log

  Scenario: NaN and Infinity in a payload (a Python agent's json.dumps writes them) are kept as words, so the record stays strict JSON
    When the agent runs in the worktree: "echo hi > n.txt"
    And the hook gets the payload "{"session_id": "s6", "cwd": "{repo}", "tool_name": "Write", "tool_input": {"file_path": "n.txt", "t": NaN, "b": -Infinity, "e": 1e999}}" for claude-code post
    Then every hook exited 0 without a warning
    And the record of changeset 1 of "claude-code-s6" has arguments = {"file_path": "n.txt", "t": "NaN", "b": "-Infinity", "e": "1e999"}

  Scenario: With --strict, a payload it cannot use exits 2; failures are logged under the git directory
    When the hook gets the payload "not json" for claude-code post with --strict
    Then the hook exited 2
    Given the plan "claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" exists and is applied
    When the agent writes "README.md" as "changed\n" in the worktree
    And claude-code sends "post-edit" as "PostToolUse"
    Then the hook exited 0
    And the hook log mentions "already applied"
    When claude-code sends "post-edit" as "PostToolUse" with --strict
    Then the hook exited 2
    And it warned "already applied"

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
      | a file with comments | the file ".gemini/settings.json" in the worktree is "{\n  // mine\n  \"theme\": \"a//b\"\n}\n" | gemini | holds comments (JSON with comments, which the agent reads) |

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

  Scenario: A payload holding half a UTF-16 pair (a string an agent cut inside an emoji) is recorded, the half replaced
    When the agent writes "README.md" as "x\n" in the worktree
    And the hook gets the payload "{"session_id": "h1", "cwd": "{repo}", "tool_name": "Bash", "tool_input": {"command": "echo \ud83d"}}" for claude-code post
    Then the hook exited 0
    And git "log -1 --format=%s refs/changesets/claude-code-h1" prints "Bash: modified README.md"
    And the record of changeset 1 of "claude-code-h1" has arguments = {"command": "echo \ufffd"}

  Scenario: In a linked worktree, the hook records that worktree's edits
    Given a linked worktree "agent-tree" of the repository
    And the agent runs in "agent-tree": "echo wt > from-worktree.txt"
    When the hook gets the payload "{"session_id": "s2", "cwd": "{tmp}/agent-tree", "tool_name": "Bash"}" for claude-code post
    Then the hook exited 0
    And git "ls-tree -r --name-only refs/changesets/claude-code-s2" prints "from-worktree.txt"

  Scenario: git plan hook without its two words says how to use it, and still lets the agent go on (with the answer the agent waits for)
    When the hook is run with "claude-code"
    Then the hook exited 0
    And it printed the usage
    And the hook's standard error says "ignored: called as `git plan hook claude-code`"
    When the hook is run with "claude-code pre --json"
    Then the hook exited 0
    And the hook's standard error says "ignored: called as `git plan hook claude-code pre --json`"
    And the hook log mentions "called as `git plan hook claude-code pre --json`: ignored"
    And the hook printed nothing on standard output
    When the hook is run with "cline PreToolUse --json"
    Then the hook exited 0
    And the hook printed "{"cancel": false}" on standard output
    When the hook is run with "cline"
    Then the hook printed "{"cancel": false}" on standard output
    When the hook is run with "gemini BeforeTool extra"
    Then the hook printed "{}" on standard output
    When the hook is run with "claude-code --strict"
    Then the hook exited 2
    When the hook is run with "--help"
    Then the hook exited 0
    When the hook is run with "--drain /"
    Then the hook exited 2
    And the hook's standard error says "--drain needs a git directory, not /"

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

  Scenario: A hook group of the user's that also runs gitplan for fewer tools: install adds gitplan's for all tools, uninstall takes out gitplan's command alone
    Given the file ".claude/settings.json" in the worktree is "{"hooks": {"PostToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "echo mine"}, {"type": "command", "command": "git plan hook claude-code post"}]}]}}"
    When I run git plan "hooks install claude-code"
    Then the exit code is 0
    When I run git plan "hooks status claude-code"
    Then the output contains "PostToolUse: git plan hook claude-code"
    When I run git plan "hooks uninstall claude-code"
    Then ".claude/settings.json" has the hooks "{"PostToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "echo mine"}]}]}"

  Scenario: A settings file that is a dangling symlink (into a dotfiles repository): uninstall removes the file install made there, and keeps the symlink
    Given the settings file ".claude/settings.json" is a symlink to a file not made yet
    When I run git plan "hooks install claude-code"
    Then the symlink is still a symlink, and its target holds "git plan hook claude-code pre"
    When I run git plan "hooks uninstall claude-code"
    Then the exit code is 0
    And the symlink is still a symlink, and its target is gone

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

  Scenario: A file whose name gitplan cannot record (macOS's Icon\r) is left out of every sweep, which records the rest
    Given the agent runs in the worktree: "touch Icon$(printf '\r'); echo wip >> README.md"
    When claude-code sends "pre-write" as "PreToolUse"
    And the agent runs in the worktree: "sed -i 's/print(1)/print(2)/' src/app.py"
    And claude-code sends "post-bash" as "PostToolUse"
    Then every hook exited 0 without a warning
    And git "log --format=%s refs/changesets/claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" prints "Bash: modified src/app.py\nbefore-session: modified README.md"
    And the record of changeset 2 of "claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" has skipped = ["Icon\r"]
    When the agent runs in the worktree: "echo late > late.txt"
    And I run git plan "snapshot claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e --tool sweep"
    Then the exit code is 0
    And the output contains "warning: left out 'Icon\r': gitplan cannot record that name"
    And git "show --stat --format= refs/changesets/claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" prints "late.txt"

  Scenario Outline: A first hook killed after it made the plan, before it recorded the user's work: the next event records that work first, as the user's (<next>)
    Given the agent writes "README.md" as "the user's own edit\n" in the worktree
    When claude-code sends "pre-write" as "PreToolUse", the hook killed at "git.status"
    And <next>
    And the agent runs in the worktree: "echo agent > agent.txt"
    And claude-code sends "post-bash" as "PostToolUse"
    Then every hook exited 0 without a warning
    And git "log --format=%an:%s refs/changesets/claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" prints "<log>"
    When I run git plan "cancel claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e --restore"
    Then the exit code is 0
    And the worktree file "README.md" holds "the user's own edit\n"

    Examples:
      | next                                          | log                                                                   |
      | claude-code sends "pre-write" as "PreToolUse" | Claude Code:Bash: added agent.txt\nuser:before-session: modified README.md |
      | the agent's session goes on                   | user:before-session: 2 files                                          |

  Scenario: In a repository with no commit yet, the agent's first commit is recorded by the next sweep
    Given the agent works in a new repository with no commit yet
    When claude-code sends "pre-write" as "PreToolUse"
    And the agent runs in the worktree: "echo 'print(1)' > app.py; git add -A; git commit -q -m first"
    And claude-code sends "post-bash" as "PostToolUse"
    Then every hook exited 0 without a warning
    And git "log --format=%s refs/changesets/claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" prints "Bash: added app.py"

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

  Scenario: A session whose first event is its stop (a turn without tools) takes the user's work as the user's, and cancel --restore keeps it
    Given the agent writes "README.md" as "the user's own edit\n" in the worktree
    And the agent writes "mine.txt" as "mine\n" in the worktree
    When claude-code sends "stop" as "Stop"
    Then every hook exited 0 without a warning
    And the record of changeset 1 of "claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" has tool = "before-session"
    When I run git plan "cancel claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e --restore"
    Then the exit code is 0
    And the worktree file "README.md" holds "the user's own edit\n"
    And the worktree file "mine.txt" holds "mine\n"

  Scenario: A queued call whose plan ref another writer has locked stays queued, and is recorded as that call once the lock is gone
    When claude-code sends "pre-write" as "PreToolUse"
    And the agent writes "src/hello.py" as "print('hello')\n" in the worktree
    And claude-code sends "post-write" as "PostToolUse"
    And a writer holds the lock of the plan ref of "claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
    And the agent runs in the worktree: "sed -i 's/print(1)/print(2)/' src/app.py"
    And claude-code sends "post-bash" as "PostToolUse"
    Then the hooks' queue holds 1 call
    When that writer lets go of the lock of the plan ref of "claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
    And I run git plan "list"
    Then the hooks' queue holds 0 calls
    And git "log --format=%s refs/changesets/claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" prints "Bash: modified src/app.py\nWrite: added src/hello.py\nplan claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"

  Scenario: cancel --restore saves the plan first, so an edit of the user's that a shell call swept up is not lost with it
    When claude-code sends "pre-write" as "PreToolUse"
    And the agent writes "NOTES.md" as "the user's notes, written during the session\n" in the worktree
    And the agent runs in the worktree: "sed -i 's/print(1)/print(2)/' src/app.py"
    And claude-code sends "post-bash" as "PostToolUse"
    And I run git plan "cancel claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e --restore"
    Then the exit code is 0
    And the worktree has no "NOTES.md"
    And the output contains "the plan was saved first in"
    When I run the command the output shows to bring the plan back
    Then git "show refs/changesets/claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e:NOTES.md" prints "the user's notes, written during the session\n"

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

  Scenario: A Cursor conversation: the prompt, a file edit, a shell command, a failed tool call and the stop, each where it belongs
    Given the agent writes "src/app.py" as "print('mine')\n" in the worktree
    When cursor sends "before-submit-prompt" as "beforeSubmitPrompt"
    And the agent writes "README.md" as "one\n2\nthree\n" in the worktree
    And cursor sends "after-file-edit" as "afterFileEdit"
    And cursor sends "before-shell" as "beforeShellExecution"
    And the agent runs in the worktree: "printf 'x\\n' > notes.md"
    And cursor sends "after-shell" as "afterShellExecution"
    And the agent writes "src/app.py" as "print(3)\n" in the worktree
    And cursor sends "post-tool-use-failure" as "postToolUseFailure"
    And the agent runs in the worktree: "echo unclaimed > patch-made.txt"
    And cursor sends "stop" as "stop"
    Then every hook exited 0 without a warning
    And the hooks answered on standard output: {"continue": true} | {} | {} | {} | {} | {}
    And git "log --format=%an:%s main..refs/changesets/cursor-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" prints "Cursor:sweep: added patch-made.txt\nCursor:Write: modified src/app.py\nCursor:shell: added notes.md\nCursor:file_edit: modified README.md\nuser:before-session: modified src/app.py\n"
    And git "rev-list --count main..refs/changesets/cursor-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" prints "6"
    And git "show refs/changesets/cursor-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e~4:src/app.py" prints "print('mine')"
    And the record of changeset 2 of "cursor-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" has arguments = {"file_path": "@CWD@/README.md", "edits": "<1 items>"}
    And the agent data of changeset 2 of "cursor-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" is {"name": "cursor", "session_id": "@SESSION@", "generation_id": "7d0c6a4e-2b1f-4e8a-9c3d-5f6e7a8b9c0d", "model": "claude-4.5-sonnet", "transcript_path": "@HOME@/.cursor/projects/repo/agent-transcripts/@SESSION@.txt", "cursor_version": "2.0.77", "hook_event_name": "afterFileEdit"}
    And the record of changeset 3 of "cursor-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" has arguments = {"command": "printf 'x\\n' > notes.md", "cwd": "@CWD@"}
    And the record of changeset 3 of "cursor-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" took at least 1200 ms
    And the record of changeset 4 of "cursor-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" has status = "error"
    And the record of changeset 4 of "cursor-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" has invocation_id = "toolu_cursor_write_1"
    And the record of changeset 4 of "cursor-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" has arguments = {"file_path": "@CWD@/src/app.py", "contents": "<9 characters>"}
    And the record of changeset 5 of "cursor-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" has status = "ok"
    And git fsck --full is clean

  Scenario: A Cline task: each tool call that changed files is one changeset, with Cline's own timing and outcome
    Given the agent writes "src/app.py" as "print('mine')\n" in the worktree
    When cline sends "pre-tool-use-write" as "PreToolUse"
    And the agent writes "src/hello.py" as "print('hello')\n" in the worktree
    And cline sends "post-tool-use-write" as "PostToolUse"
    And the agent writes "README.md" as "one\n2\nthree\n" in the worktree
    And cline sends "post-tool-use-replace" as "PostToolUse"
    And the agent runs in the worktree: "echo x > build.txt"
    And cline sends "post-tool-use-command-failed" as "PostToolUse"
    And cline sends "post-tool-use-read" as "PostToolUse"
    And the agent runs in the worktree: "echo late > late.txt"
    And cline sends "task-complete" as "TaskComplete"
    Then every hook exited 0 without a warning
    And the hooks answered on standard output: {"cancel": false} | {"cancel": false} | {"cancel": false} | {"cancel": false} | {"cancel": false} | {"cancel": false}
    And git "log --format=%an:%s main..refs/changesets/cline-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" prints "Cline:sweep: added late.txt\nCline:execute_command: added build.txt\nCline:replace_in_file: modified README.md\nCline:write_to_file: added src/hello.py\nuser:before-session: modified src/app.py\n"
    And git "rev-list --count main..refs/changesets/cline-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" prints "6"
    And the record of changeset 2 of "cline-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" has arguments = {"path": "src/hello.py", "content": "<15 characters>"}
    And the record of changeset 2 of "cline-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" took at least 1500 ms
    And the record of changeset 2 of "cline-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" has status = "ok"
    And the agent data of changeset 2 of "cline-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" is {"name": "cline", "session_id": "@SESSION@", "hook_event_name": "PostToolUse", "cline_version": "3.36.0"}
    And the record of changeset 3 of "cline-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" has arguments = {"path": "README.md", "diff": "<45 characters>"}
    And the record of changeset 4 of "cline-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" has status = "error"
    And the record of changeset 4 of "cline-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" has arguments = {"command": "echo x > build.txt && make build", "requires_approval": "false"}
    And git fsck --full is clean

  Scenario Outline: hooks install <agent> keeps what <file> holds, is idempotent, backs it up once, and uninstall gives its bytes back
    Given the file "<file>" in the worktree holds the JSON '<content>'
    When I run git plan "hooks install <agent>"
    Then the exit code is 0
    And the output contains "installed: gitplan hooks for <agent>"
    And the output contains "<still to do>"
    When I run git plan "hooks install <agent>"
    Then the output contains "already installed"
    And "<file>" runs "git plan hook <agent> " once at each of <events> and still holds "<theirs>"
    And ".git/gitplan/hook-backups/<agent>-hooks.json" holds the file as it was
    When I run git plan "hooks status <agent>"
    Then the exit code is 0
    And the output contains "<last>: git plan hook <agent>"
    When I run git plan "hooks uninstall <agent>"
    Then the output contains "removed"
    And "<file>" holds the file as it was
    And the worktree has no ".git/gitplan/hook-backups/<agent>-hooks.json"
    When I run git plan "hooks status <agent>"
    Then the exit code is 3

    Examples:
      | agent     | file                  | content                                                                                                   | events                                                      | last  | theirs         | still to do           |
      | codex     | .codex/hooks.json     | {"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./guard.sh"}]}]}, "note": "é"} | PreToolUse, PostToolUse, Stop                              | Stop  | ./guard.sh     | review and trust it   |
      | openhands | .openhands/hooks.json | {"hooks": {"Stop": [{"matcher": "*", "hooks": [{"type": "command", "command": ".openhands/hooks/lint.sh"}]}]}} | PreToolUse, PostToolUse, Stop                              | Stop  | lint.sh        | start a new one       |
      | openhands | .openhands/hooks.json | {"stop": [{"hooks": [{"type": "command", "command": ".openhands/hooks/lint.sh"}]}]}                        | pre_tool_use, post_tool_use, stop                           | Stop  | lint.sh        | start a new one       |
      | cursor    | .cursor/hooks.json    | {"version": 1, "hooks": {"afterFileEdit": [{"command": "./hooks/format.sh"}]}}                             | beforeSubmitPrompt, afterFileEdit, afterShellExecution, stop | stop  | ./hooks/format.sh | Hooks settings tab |

  Scenario: hooks install cursor writes a new .cursor/hooks.json in Cursor's shape, and the hook it names records; uninstall removes the file
    When I run git plan "hooks install cursor"
    Then ".cursor/hooks.json" holds exactly the JSON {"version": 1, "hooks": {"beforeSubmitPrompt": [{"command": "git plan hook cursor beforeSubmitPrompt"}], "afterFileEdit": [{"command": "git plan hook cursor afterFileEdit"}], "afterShellExecution": [{"command": "git plan hook cursor afterShellExecution"}], "stop": [{"command": "git plan hook cursor stop"}]}}
    When I run git plan "hooks install codex"
    Then ".codex/hooks.json" holds exactly the JSON {"hooks": {"PreToolUse": [{"hooks": [{"type": "command", "command": "git plan hook codex pre"}]}], "PostToolUse": [{"hooks": [{"type": "command", "command": "git plan hook codex post"}]}], "Stop": [{"hooks": [{"type": "command", "command": "git plan hook codex stop"}]}]}}
    When I run git plan "hooks uninstall codex"
    And the agent writes "README.md" as "one\n2\nthree\n" in the worktree
    And the installed cursor hook for afterFileEdit runs with "after-file-edit"
    Then every hook exited 0 without a warning
    And git "log -1 --format=%s refs/changesets/cursor-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" prints "file_edit: modified README.md"
    When I run git plan "hooks uninstall cursor"
    Then the output contains "removed: gitplan hooks for cursor"
    And git "-c core.quotepath=off status --porcelain --untracked-files=all" prints "M README.md\n"
    And git "-c core.quotepath=off status --porcelain --untracked-files=all" does not print "??"
    And the worktree has no ".cursor"
    And the worktree has no ".codex"

  Scenario: hooks install cline writes one executable file per event beside Cline's own, and uninstall removes exactly those
    Given the worktree holds ".clinerules/style.md" as "Use tabs.\n" with mode 644
    And the worktree holds ".clinerules/hooks/TaskStart" as "#!/bin/sh\necho '{}'\n" with mode 755
    When I run git plan "hooks install cline"
    Then the exit code is 0
    And the output contains "installed: gitplan hooks for cline"
    And the output contains "Enable Hooks"
    And the hook files of cline in ".clinerules/hooks" are PreToolUse, PostToolUse, TaskComplete, TaskCancel, each executable and running its event
    When I run git plan "hooks install cline"
    Then the output contains "already installed"
    When I run git plan "hooks status cline"
    Then the output contains "TaskCancel: git plan hook cline"
    When I run git plan "hooks uninstall cline"
    Then the output contains "removed: gitplan hooks for cline"
    And git "-c core.quotepath=off status --porcelain --untracked-files=all" prints "?? .clinerules/hooks/TaskStart\n?? .clinerules/style.md\n"
    And the worktree file ".clinerules/hooks/TaskStart" is "#!/bin/sh\necho '{}'\n" with mode 755
    When I run git plan "hooks status cline --json"
    Then the exit code is 3

  Scenario: hooks install cline makes .clinerules/hooks, the file Cline runs records, and uninstall leaves no trace
    When I run git plan "hooks install cline"
    And the agent writes "src/hello.py" as "print('hello')\n" in the worktree
    And the installed cline hook for PostToolUse runs with "post-tool-use-write"
    Then every hook exited 0 without a warning
    And the hooks answered on standard output: {"cancel": false}
    And git "log -1 --format=%s refs/changesets/cline-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" prints "write_to_file: added src/hello.py"
    When I run git plan "hooks uninstall cline"
    Then the exit code is 0
    And git "-c core.quotepath=off status --porcelain --untracked-files=all" prints "?? src/hello.py\n"
    And the worktree has no ".clinerules"
    And the worktree has no ".git/gitplan/hook-backups/cline-hooks"

  Scenario Outline: hooks install cline refuses, writing nothing, when <case>
    Given <setup>
    When I run git plan "hooks install cline"
    Then the exit code is 2
    And the output contains "<message>"
    And the worktree has no ".clinerules/hooks/PreToolUse"

    Examples:
      | case                                   | setup                                                                                   | message                                   |
      | an event's file is someone else's      | the worktree holds ".clinerules/hooks/PostToolUse" as "#!/bin/sh\nmine\n" with mode 755 | PostToolUse already there and not gitplan's |
      | .clinerules is Cline's older rules file | the worktree holds ".clinerules" as "Use tabs.\n" with mode 644                          | is a file, not a directory                |

  Scenario: hooks install cline --user writes the files in Cline's global hooks directory
    When I run git plan "hooks install cline --user"
    Then the exit code is 0
    And the home directory has "Documents/Cline/Hooks/TaskComplete" running "exec git plan hook cline TaskComplete"
    When I run git plan "hooks uninstall cline --user"
    Then the home directory has no "Documents/Cline"

  Scenario: Cursor's MCP calls (arguments as JSON text or not), a shell command without its own cwd, a relative path in a multi-root workspace, and a stop without a status
    When the agent writes "mcp.txt" as "m\n" in the worktree
    And the hook gets the payload "{"conversation_id": "m1", "workspace_roots": ["{repo}"], "hook_event_name": "afterMCPExecution", "tool_name": "fs_write", "tool_input": "{\"file_path\": \"mcp.txt\", \"content\": \"m\"}", "result_json": "{}"}" for cursor afterMCPExecution
    And the agent writes "raw.txt" as "r\n" in the worktree
    And the hook gets the payload "{"conversation_id": "m1", "workspace_roots": ["{repo}"], "hook_event_name": "afterMCPExecution", "tool_name": "fs_raw", "tool_input": "write raw.txt"}" for cursor afterMCPExecution
    And the agent runs in the worktree: "echo s > shell.txt"
    And the hook gets the payload "{"conversation_id": "m1", "workspace_roots": ["{repo}"], "hook_event_name": "afterShellExecution", "command": "echo s > shell.txt", "output": "", "duration": 5}" for cursor afterShellExecution
    And the agent writes "README.md" as "one\n2\nthree\n" in the worktree
    And the hook gets the payload "{"conversation_id": "m1", "workspace_roots": ["{repo}", "{tmp}/other-root"], "hook_event_name": "afterFileEdit", "file_path": "README.md", "edits": []}" for cursor afterFileEdit
    And the agent runs in the worktree: "echo u > unclaimed.txt"
    And the hook gets the payload "{"conversation_id": "m1", "workspace_roots": ["{repo}"], "hook_event_name": "stop"}" for cursor stop
    Then every hook exited 0 without a warning
    And git "log --format=%s main..refs/changesets/cursor-m1" prints "sweep: added unclaimed.txt\nfile_edit: modified README.md\nshell: added shell.txt\nfs_raw: added raw.txt\nfs_write: added mcp.txt\n"
    And the record of changeset 1 of "cursor-m1" has arguments = {"file_path": "mcp.txt", "content": "<1 characters>"}
    And the record of changeset 2 of "cursor-m1" has arguments = {"input": "<13 characters>"}
    And the record of changeset 3 of "cursor-m1" has arguments = {"command": "echo s > shell.txt"}
    And the record of changeset 4 of "cursor-m1" has arguments = {"file_path": "README.md", "edits": "<0 items>"}
    And the agent data of changeset 5 of "cursor-m1" is {"name": "cursor", "session_id": "m1", "hook_event_name": "stop"}
    And the record of changeset 5 of "cursor-m1" has status = "ok"

  Scenario: A Cline payload without clineVersion that names its model
    When the agent writes "c.txt" as "c\n" in the worktree
    And the hook gets the payload "{"taskId": "t1", "workspaceRoots": ["{repo}"], "hookName": "PostToolUse", "model": "claude-x", "postToolUse": {"toolName": "write_to_file", "parameters": {"path": "c.txt", "content": "c"}, "success": true}}" for cline PostToolUse
    Then every hook exited 0 without a warning
    And git "log -1 --format=%s refs/changesets/cline-t1" prints "write_to_file: added c.txt"
    And the agent data of changeset 1 of "cline-t1" is {"name": "cline", "session_id": "t1", "hook_event_name": "PostToolUse", "model": "claude-x"}

  Scenario: A post event only queues the call; every git plan command first records what is queued
    Given another drainer holds the hooks' drain lock
    When the agent writes "README.md" as "queued\n" in the worktree
    And claude-code sends "post-edit" as "PostToolUse" without waiting for the record
    Then every hook exited 0 without a warning
    And the hooks' queue holds 1 call
    And the queued call does not hold "originalFile"
    And no plan exists
    When that drainer lets go of the drain lock
    And I run git plan "log claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
    Then the exit code is 0
    And the output contains "Tool:    Edit"
    And the output contains "modified   README.md"
    And the hooks' queue holds 0 calls
    And git "show refs/changesets/claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e:README.md" prints "queued"

  Scenario: The drainer a post event starts records the call by itself, with the times the hooks saw
    When claude-code sends "pre-write" as "PreToolUse"
    And the agent writes "src/hello.py" as "print('hello')\n" in the worktree
    And claude-code sends "post-write" as "PostToolUse" without waiting for the record
    Then the drainer the hook started empties the queue
    And git "log -1 --format=%s refs/changesets/claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" prints "Write: added src/hello.py"
    And the record of changeset 1 of "claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" has started_at, finished_at and duration_ms measured
    And the hook log mentions "claude-code PostToolUse Write: queued"
    And the hook log mentions "claude-code post Write: recorded changeset 1 of plan claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
    And git fsck --full is clean

  Scenario: The next tool call's pre event returns only once the calls before it are recorded
    When claude-code sends "pre-write" as "PreToolUse"
    And the agent runs in the worktree: "sed -i 's/print(1)/print(2)/' src/app.py"
    And claude-code sends "post-bash" as "PostToolUse" without waiting for the record
    And claude-code sends "pre-write" as "PreToolUse" without waiting for the record
    Then the hooks' queue holds 0 calls
    And git "log -1 --format=%s refs/changesets/claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e" prints "Bash: modified src/app.py"

  Scenario Outline: A queued entry that cannot be read (<what>) is set aside, and the calls after it are recorded
    Given the hooks' queue holds a file with <what>
    And another drainer holds the hooks' drain lock
    When the agent writes "README.md" as "after garbage\n" in the worktree
    And claude-code sends "post-edit" as "PostToolUse" without waiting for the record
    Then the hooks' queue holds 2 calls
    When that drainer lets go of the drain lock
    And I run git plan "list"
    Then the exit code is 0
    And the hooks' queue holds 0 calls
    And git "show refs/changesets/claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e:README.md" prints "after garbage"
    And the hook log mentions "a queued call could not be read (<error>"
    And the hooks' failed entries hold 1 file

    Examples:
      | what                 | error          |
      | text that is no JSON | JSONDecodeError |
      | JSON nested too deep | RecursionError |
      | a JSON list          | ValueError     |

  Scenario: The drainer never imports a gitplan module from the agent's project
    Given the worktree has a "gitplan" package that writes "pwned" when imported
    When the agent writes "README.md" as "safe\n" in the worktree
    And the installed git-plan program gets claude-code's "post-edit" as "PostToolUse"
    Then the drainer the hook started empties the queue
    And git "show refs/changesets/claude-code-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e:README.md" prints "safe"
    And there is no file "pwned" in the worktree

  Scenario: A pre event waits for its own session's queued calls, not another session's
    Given another drainer holds the hooks' drain lock
    And the hooks' queue holds a call of the plan "claude-code-other-session"
    When claude-code sends "pre-write" as "PreToolUse" without waiting for the record
    Then every hook exited 0 without a warning
    And the hooks' queue holds 1 call

  Scenario: In a repository shared with its group, the hooks' queue, locks and marks are the group's too
    Given the repository is shared with its group
    When claude-code sends "pre-write" as "PreToolUse" under umask 077
    And the agent writes "src/hello.py" as "print('hello')\n" in the worktree
    And claude-code sends "post-write" as "PostToolUse" under umask 077
    Then every hook exited 0 without a warning
    And the group may read and write all gitplan made under .git since it was shared, as git makes it

  Scenario: Two sessions whose ids differ only where a plan id cannot follow them get plans of their own
    Given the agent's session is "café"
    When claude-code sends "pre-write" as "PreToolUse"
    And the agent's session is "caf"
    And claude-code sends "pre-write" as "PreToolUse"
    Then every hook exited 0 without a warning
    And ref "refs/changesets/claude-code-caf" exists
    And ref "refs/changesets/claude-code-caf-f424452a" exists
