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
    And ".claude/settings.json.gitplan-backup" holds the file as it was
    When I run git plan "hooks status claude-code"
    Then the exit code is 0
    And the output contains "Stop: git plan hook claude-code"
    When I run git plan "hooks uninstall claude-code"
    Then the output contains "removed"
    And ".claude/settings.json" holds the same JSON as the backup
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
      | an agent it lacks    | nothing more                                           | cursor      | cannot install hooks for 'cursor' yet |
      | a broken file        | the file ".claude/settings.json" in the worktree is "{" | claude-code | is not valid JSON            |
      | a file not an object | the file ".claude/settings.json" in the worktree is "[]" | claude-code | does not hold a JSON object  |
