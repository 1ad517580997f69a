Feature: git conventions: a manual page for git plan --help, and completion for git plan <TAB>

  Scenario: The shipped manual page and completion scripts are what the commands generate
    Then share/man/man1/git-plan.1 is the output of "git plan help --roff"
    And share/bash-completion/completions/git-plan is the output of "git plan help --completion bash"
    And share/zsh/site-functions/_git-plan is the output of "git plan help --completion zsh"
    And the manual page renders without warnings and names every command

  Scenario: git plan --help opens git-plan(1) through git's own help
    Given a repository with files
      | path      | content |
      | README.md | hi\n    |
    When I run "git plan --help" with the manual page installed
    Then it shows the manual page of git-plan

  Scenario: git plan help prints the help text when man is missing
    Given a repository with files
      | path      | content |
      | README.md | hi\n    |
    When I run "git plan help" without man on PATH
    Then it printed the help text listing "recover"
    When I run "git plan help apply" without man on PATH
    Then it printed the help text listing "--keep-on-failure"
    And it printed the help text listing "Usage: git-plan apply [OPTIONS] PLAN"

  Scenario: git plan help opens the manual page when man finds it, and refuses an unknown command
    Given a repository with files
      | path      | content |
      | README.md | hi\n    |
    When I run "git plan help" with the manual page installed
    Then it shows the manual page of git-plan
    When I run "git plan help nosuch" with the manual page installed
    Then it exited 2 saying "no command 'nosuch'"

  Scenario: bash completes git plan commands, options and plan names through git's completion
    Given a repository with files
      | path      | content |
      | README.md | hi\n    |
    And a plan "fix-parser"
    Then bash completes "git plan st" with "status"
    And bash completes "git plan apply --ke" with "--keep-on-failure"
    And bash completes "git plan diff fix" with "fix-parser"
    And bash completes "git-plan rec" with "record recover"
