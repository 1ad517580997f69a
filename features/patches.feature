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
      | copy-edit.patch      |
      | copy-whole.patch     |
      | delete.patch         |
      | new-executable.patch |
      | quoted.patch         |
      | traditional-new-epoch.patch    |
      | traditional-delete-epoch.patch |
      | traditional-dirs.patch         |
      | traditional-dirs-new.patch     |

  Scenario Outline: <patch>, whose hunks are off the lines they state or whose names are a traditional diff's, gives the tree git apply gives
    Given the user commits "lines.txt" with content "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n" on main
    And a plan "off"
    When I record the patch "tests-data/patches/<patch>" in "off"
    Then it succeeds
    And the tip of "off" has the tree git apply --cached makes from "tests-data/patches/<patch>"

    Examples:
      | patch                    |
      | offset-hunk.patch        |
      | offset-two-hunks.patch   |
      | traditional-backup.patch |

  Scenario: A hunk whose context is nowhere in the file is refused, as git apply refuses it
    Given the user commits "lines.txt" with content "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n" on main
    And a plan "off"
    When I record the patch "tests-data/patches/context-nowhere.patch" in "off"
    Then it fails with exit code 4
    And the error mentions "hunk #1 (line 5) does not apply"

  Scenario: A patch that makes a directory a file gives the tree git apply gives
    Given the user commits "d/a" with content "a\n" on main
    And a plan "dir"
    When I record the patch "tests-data/patches/dir-to-file.patch" in "dir"
    Then it succeeds
    And the tip of "dir" has the tree git apply --cached makes from "tests-data/patches/dir-to-file.patch"

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
      | twice.patch          | 2    | changed by more than one file diff |
      | bad-mode.patch       | 2    | bad mode line                      |
      | outside.patch        | 2    | invalid path                       |
      | missing-file.patch   | 4    | nothere.txt: no such file to patch |
      | exists.patch         | 4    | README.md: already exists          |
      | copy-exists.patch    | 4    | README.md: already exists          |
      | rename-exists.patch  | 4    | README.md: already exists          |
      | partial-delete.patch | 4    | does not remove every line         |
      | wrong-context.patch  | 4    | hunk #1                            |


  Scenario Outline: A binary patch with <case> is recorded as git apply would
    Given the plan "v" holds a binary file "logo.bin"
    When I record the binary patch with <case> in "v"
    Then it succeeds
    And the tip of "v" matches what <case> makes

    Examples:
      | case                       |
      | a new binary file          |
      | a quoted name              |
      | a delta                    |
      | a rename with new contents |
      | a copy with new contents   |
      | a deletion                 |
      | a mode change              |
      | a forward-only hunk and a text diff |

  Scenario Outline: A binary patch with <case> is refused, and nothing is written
    Given the plan "v" holds a binary file "logo.bin"
    When I record the binary patch with <case> in "v"
    Then it fails with exit code <code>
    And the error mentions "<reason>"
    And no object or ref was written

    Examples:
      | case                             | code | reason                          |
      | a missing file                   | 4    | missing.bin: no such file       |
      | a stale index line               | 4    | made from another version       |
      | a result that is not the blob it names | 2 | does not give the blob it names |
      | an existing file                 | 4    | README.md: already exists       |
      | damaged base85                   | 2    | binary patch data is damaged    |
      | an unknown block                 | 2    | unknown binary patch block      |
      | a wrong literal size             | 2    | wrong size                      |
      | a delta from another version     | 4    | made from another version       |
      | a delta with a zero opcode       | 2    | binary patch data is damaged    |
      | a truncated delta                | 2    | binary patch data is damaged    |
      | a delta copying past the end     | 2    | binary patch data is damaged    |
      | a delta of the wrong result size | 2    | binary patch data is damaged    |
      | a bad mode                       | 2    | bad mode line                   |
      | unquoted names that differ       | 2    | cannot read the names           |
      | no binary data                   | 2    | the patch has no binary data    |

  Scenario: A patch of a few lines of a large file is applied without splitting the file into lines in memory
    Given the user sets the repository up with:
      """
      head -c 64000000 /dev/zero | tr "\\0" x | fold -w 99 > big.txt
      git add big.txt && git commit -qm big
      sed -i '1s/^x/y/' big.txt && git diff > ../one.patch && git checkout -q big.txt
      """
    And I run git plan "create big"
    When the git-plan program runs "record big --tool p --patch {tmp}/one.patch", its peak memory measured
    Then the output contains "modified big.txt"
    And its peak memory was under 290 MiB

