Feature: Hostile and bad input is refused clearly, and nothing is written

  Background:
    Given a repository with files
      | path      | content |
      | README.md | hi\n    |
    And a plan "v"
    And I remember the user's state
    And I remember the object count

  Scenario Outline: Bad plan ids are refused
    When I try to create plan with id "<id>"
    Then it fails with exit code 2
    And no object or ref was written

    Examples:
      | id          |
      | ../escape   |
      | a/b         |
      | .hidden     |
      | x.lock      |
      | ends.       |
      | a..b        |
      | with space  |
      |             |

  Scenario Outline: Bad paths are refused
    When I record path "<path>" in "v"
    Then it fails with exit code 2
    And the error mentions "invalid path"
    And no object or ref was written

    Examples:
      | path            |
      | ../outside      |
      | /etc/passwd     |
      | a/../../b       |
      | .git/config     |
      | .GIT/hooks/x    |
      | sub/.git/x      |
      | git~1/config    |
      | .git./config    |
      | .g\u200cit/x    |
      | a\x00b          |
      | a\nb            |
      | a//b            |
      | C:\\win         |

  Scenario: Creating a plan twice
    When I try to create plan with id "v"
    Then it fails with exit code 2
    And the error mentions "already exists"

  Scenario: An unknown base
    When I try to create plan "w" on base "no-such-rev"
    Then it fails with exit code 3

  Scenario: Deleting a file that does not exist
    When I delete "missing.txt" in "v"
    Then it fails with exit code 2
    And no object or ref was written

  Scenario: A garbage patch names what is wrong
    When I record the patch "tests-data/patches/garbage.patch" in "v"
    Then it fails with exit code 2
    And the error mentions "patch"

  Scenario: A patch whose context does not match is a conflict
    When I record the patch "tests-data/patches/wrong-context.patch" in "v"
    Then it fails with exit code 4
    And the error mentions "hunk #1"

  Scenario: A good patch applies in memory
    When I record the patch "tests-data/patches/good.patch" in "v"
    Then it succeeds
    And the tip of "v" holds "README.md" as "hi\nthere\n"
    And the tip of "v" holds "added.txt" as "new\n"
    And the user's state is unchanged

  Scenario: A tool invocation without a tool name
    When I record with an empty tool name in "v"
    Then it fails with exit code 2
