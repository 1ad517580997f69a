Feature: Unified patches are checked with unidiff and applied to blobs in memory

  Background:
    Given a repository with files
      | path        | content    |
      | README.md   | hi\n       |
      | notrail.txt | no newline |
      | old.txt     | a\nb\n     |
      | naïve.txt   | x\n        |
    And a plan "v"
    And I remember the user's state

  Scenario Outline: <patch> gives the tree git apply gives
    When I record the patch "tests-data/patches/<patch>" in "v"
    Then it succeeds
    And the tip of "v" has the tree git apply --cached makes from "tests-data/patches/<patch>"
    And the user's state is unchanged

    Examples:
      | patch                |
      | good.patch           |
      | eof-newline.patch    |
      | rename-edit.patch    |
      | delete.patch         |
      | new-executable.patch |
      | quoted.patch         |

  Scenario Outline: <patch> is refused with exit <code>: <reason>
    Given I remember the object count
    When I record the patch "tests-data/patches/<patch>" in "v"
    Then it fails with exit code <code>
    And the error mentions "<reason>"
    And no object or ref was written

    Examples:
      | patch                | code | reason                             |
      | empty.patch          | 2    | the patch is empty                 |
      | garbage.patch        | 2    | no file diffs found                |
      | bad-hunk.patch       | 2    | malformed patch                    |
      | binary-no-data.patch | 2    | the patch has no binary data       |
      | binary.patch         | 2    | binary patch data is damaged       |
      | bad-mode.patch       | 2    | bad mode line                      |
      | outside.patch        | 2    | invalid path                       |
      | missing-file.patch   | 4    | nothere.txt: no such file to patch |
      | exists.patch         | 4    | README.md: already exists          |
      | partial-delete.patch | 4    | does not remove every line         |
      | wrong-context.patch  | 4    | hunk #1                            |

