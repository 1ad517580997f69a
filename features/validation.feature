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

  Scenario: A path nested deeper than gitplan can record is refused, not crashed on
    When I record a path 2000 directories deep in "v"
    Then it fails with exit code 2
    And the error mentions "is 2000 directories deep, more than gitplan can record"
    And no object or ref was written
    When I record a path 100 directories deep in "v"
    Then it succeeds

  Scenario: A refused path is shown with its control characters escaped once
    When I record path "a\nb" in "v"
    Then the error mentions "invalid path 'a\nb': control characters"

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
      | a\x1bb          |
      | x/.git::$INDEX_ALLOCATION/y |
      | .GIT:stream     |

  Scenario Outline: Names git allows are recorded, and every diff names them as git diff does
    When I record path "<path>" in "v"
    Then it succeeds
    And the plan diff of "v" with "" equals git diff with the same options
    And the plan diff of "v" with "--stat" equals git diff with the same options
    And the plan diff of "v" with "--name-status" equals git diff with the same options
    And git fsck --full is clean

    Examples:
      | path                |
      | tab\there.txt       |
      | back\\slash.txt     |
      | a:b.txt             |
      | caf\xc3\xa9.txt      |
      | not\xffutf8.txt     |
      | quote"and space.txt |

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

  Scenario Outline: A bad <what> is refused before anything is written
    When I build <what> with <value>
    Then it fails with exit code 2
    And the error mentions "<reason>"

    Examples:
      | what            | value              | reason                         |
      | file data       | "text, not bytes"  | file data must be bytes        |
      | file mode       | 0o100600           | file mode must be one of       |
      | tool name       | "two\nlines"       | the tool name must be one line |
      | tool name       | "w\x1b]0;T\x07"    | the tool name must be one line, without control characters |
      | actor           | "a\x1b[31m"        | nor control characters         |
      | tool name       | "w\udc9b31m"       | without control characters     |
      | recorded arguments | {"k": "\ud800"} | would hold half a UTF-16 pair  |
      | actor           | "a <b>"            | the actor must be one line     |
      | arguments       | ["not", "a dict"]  | tool arguments must be a JSON  |
      | status          | "maybe"            | must be 'ok' or 'error'        |
      | invocation id   | "x\nPlan-Id: other" | invocation id must be one line |
      | invocation id   | ""                 | invocation id must be one line |
      | changes mapping | [("a", b"x")]      | changes must be a mapping      |
      | change content  | {"a": 42}          | content must be bytes          |
      | invocation      | "write_file"       | must be a ToolInvocation       |
      | empty path      | {"": b"x"}         | empty path                     |
      | title           | "a\x00b"           | title must be text             |
      | title           | "x\x1b]0;pwned\x07" | title must be text without NUL or other control characters |

  Scenario: A tool name or actor with a tab is recorded and read back, as before control characters were refused
    Given a file "x.txt" outside the repository with content "x\n"
    When I run git plan "record v --tool 'a	b' --actor 'c	d' --set b.txt={tmp}/x.txt"
    Then the exit code is 0
    When I run git plan "log v"
    Then the exit code is 0
    And the output contains "Tool:    a	b"

  Scenario Outline: A record whose paths clash with the tree: <case>
    Given I record in "v" with tool "setup"
      | path     | content |
      | dir/file | x\n     |
      | plain    | y\n     |
    Given I remember the object count
    When I record in "v" with tool "clash"
      | path   | content   |
      | <path> | <content> |
      | <more> | z\n       |
    Then it fails with exit code 2
    And the error mentions "<reason>"

    Examples:
      | case                       | path          | content  | more       | reason                            |
      | a file under a file        | plain/sub     | z\n      | other      | it is a file in the plan          |
      | a file over a directory    | dir           | z\n      | other      | it is a directory in the plan     |
      | a file and a dir at once   | new           | z\n      | new/inside | cannot be both a file and a dir   |
      | deleting a directory       | dir           | <delete> | other      | it is a directory; delete the files in it |

  Scenario: Deleting a file and putting a directory in its place in one record
    Given I record in "v" with tool "setup"
      | path  | content |
      | plain | y\n     |
    When I record in "v" with tool "replace"
      | path        | content  |
      | plain       | <delete> |
      | plain/inner | z\n      |
    Then it succeeds
    And the tip of "v" holds "plain/inner" as "z\n"

  Scenario: Deleting the last file of a directory removes the directory
    Given I record in "v" with tool "setup"
      | path         | content |
      | lone/dir/one | y\n     |
    When I record in "v" with tool "delete"
      | path         | content  |
      | lone/dir/one | <delete> |
    Then it succeeds
    And the tip of "v" has no "lone"
    And git fsck --full is clean
