Feature: Plan diffs match git diff byte for byte

  Background:
    Given a repository with files
      | path              | content                                                   |
      | README.md         | line one\nline two\nline three\n                          |
      | src/module.py     | def a():\n    return 1\n\n\ndef b():\n    return 2\n     |
      | docs/guide.rst    | Guide\n=====\n\nSome text here.\nMore text.\nEnd.\n       |
      | data/blob.bin     | \x00\x01\x02binary                                        |
      | script.sh         | echo hi\n                                                 |
      | old/name.txt      | alpha\nbeta\ngamma\ndelta\nepsilon\nzeta\neta\ntheta\n    |
    And a plan "d"
    And the plan "d" gets a varied set of changes

  Scenario Outline: <options> matches git
    Then the plan diff of "d" with "<options>" equals git diff with the same options

    Examples:
      | options                |
      |                        |
      | --stat                 |
      | --name-status          |
      | --name-only            |
      | --numstat              |
      | -U0                    |
      | -U10                   |
      | --no-renames           |
      | --full-index           |
      | --stat --no-renames    |
      | --raw                  |
      | --raw -z --full-index  |
      | --summary              |
      | --name-status -z       |
      | --exit-code --numstat  |
      | -- src                 |
      | -- docs/guide.md       |

  Scenario: With core.quotePath false, names are printed as they are, only control characters quoted, as git does
    Given git config "core.quotePath" is "false"
    And a plan "names"
    And I record in "names" with tool "w"
      | path            | content |
      | café.txt        | c\n     |
      | naïve/ü.txt     | u\n     |
      | tab\tname.txt   | t\n     |
    Then the plan diff of "names" with "" equals git diff with the same options
    And the plan diff of "names" with "--stat" equals git diff with the same options
    And the plan diff of "names" with "--name-status" equals git diff with the same options
    And the plan diff of "names" with "--numstat" equals git diff with the same options

  Scenario: Paths that .gitattributes makes binary (-diff, or a driver with diff.NAME.binary) are shown as git shows them
    Given git config "diff.lockf.binary" is "true"
    And the agent writes ".gitattributes" as "*.nodiff -diff\n*.lock diff=lockf\n" in the worktree
    And a plan "bin"
    And I record in "bin" with tool "w"
      | path     | content |
      | x.nodiff | a\nB\n  |
      | y.lock   | l1\n    |
      | t.txt    | t\n     |
    Then the plan diff of "bin" with "" equals git diff with the same options
    And the plan diff of "bin" with "--stat" equals git diff with the same options
    And the plan diff of "bin" with "--numstat" equals git diff with the same options
    When I run git plan "log bin"
    Then the output contains "x.nodiff (binary)"
    And the output contains "y.lock (binary)"
    And the output contains "t.txt (+1 -0)"
    When I run git plan "status bin"
    Then the output contains "x.nodiff (binary)"
    And the output contains "3 changed, 1 insertion(+), 0 deletions(-)"

  Scenario: A .gitattributes in a subdirectory gives its files a diff driver's function lines, as git does
    Given git config "diff.sections.xfuncname" is "^Section .*$"
    And the agent writes "notes/.gitattributes" as "*.txt diff=sections\n" in the worktree
    And a plan "drv"
    And I record in "drv" with tool "w"
      | path        | content                                                         |
      | notes/a.txt | Section one\nl1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nchange me\n |
      | plain/a.txt | Section one\nl1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nchange me\n |
    And I record in "drv" with tool "w"
      | path        | content                                                       |
      | notes/a.txt | Section one\nl1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nchanged\n |
      | plain/a.txt | Section one\nl1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nchanged\n |
    Then the diff of changeset 2 of "drv" equals git diff between its parent and it
    And the diff of changeset 2 of "drv" shows "@@ -7,4 +7,4 @@ Section one" and "@@ -7,4 +7,4 @@ l5"

  Scenario: Files with one of git's built-in diff drivers (python, cpp, markdown...) get git's function lines
    # libgit2's rules for these drivers pick other lines (an indented def, a leading space):
    # the function lines are git's, asked of git for the same two trees.
    Given the agent writes ".gitattributes" as "*.py diff=python\n*.c diff=cpp\n*.md diff=markdown\n" in the worktree
    And a plan "builtin"
    And I record in "builtin" with tool "w"
      | path      | content                                                                                    |
      | m.py      | class A:\n    def one(self):\n        a = 1\n        b = 2\n        c = 3\n        d = 4\n        return a\n |
      | m.c       | int\nmain(void)\n{\n\tint a = 1;\n\tint b = 2;\n\tint c = 3;\n\tint d = 4;\n\treturn a;\n}\n |
      | m.md      | # Title\n\n  ## Part\n\nl1\nl2\nl3\nl4\nlast\n                                    |
    And I record in "builtin" with tool "w"
      | path      | content                                                                                    |
      | m.py      | class A:\n    def one(self):\n        a = 1\n        b = 2\n        c = 3\n        d = 4\n        return b\n |
      | m.c       | int\nmain(void)\n{\n\tint a = 1;\n\tint b = 2;\n\tint c = 3;\n\tint d = 4;\n\treturn b;\n}\n |
      | m.md      | # Title\n\n  ## Part\n\nl1\nl2\nl3\nl4\nfirst\n                                   |
    Then the diff of changeset 2 of "builtin" equals git diff between its parent and it
    And the diff of changeset 2 of "builtin" shows "@@ -4,4 +4,4 @@ def one(self):" and "@@ -6,4 +6,4 @@   ## Part"
    And the plan diff of "builtin" with "-U1" equals git diff with the same options
    And the plan diff of "builtin" with "--inter-hunk-context=3 -U1" equals git diff with the same options
    When I record in "builtin" with tool "mv"
      | path      | content                                                                                    |
      | m.py      | <delete>                                                                                   |
      | n.py      | class A:\n    def one(self):\n        a = 1\n        b = 2\n        c = 3\n        d = 4\n        return c\n |
    Then the diff of changeset 3 of "builtin" equals git diff between its parent and it
    And the diff of changeset 3 of "builtin" shows "rename from m.py" and "@@ -4,4 +4,4 @@ def one(self):"

  Scenario: Function lines by diff.NAME.funcname (a basic regex) or a POSIX xfuncname are git's, and a file renamed under a driver takes the new name's
    # In a basic regex "+" is a plain character; POSIX regexes match the longest alternative,
    # Python's the first. git reads both its own way.
    Given git config "diff.basic.funcname" is "^Part [0-9]+"
    And git config "diff.posix.xfuncname" is "^(S|Section)"
    And the agent writes ".gitattributes" as "*.b diff=basic\n*.s diff=posix\n*.py diff=python\n" in the worktree
    And a plan "pat"
    And I record in "pat" with tool "w"
      | path  | content                                                          |
      | a.b   | Part 3+ old\nPart 12 start\nl1\nl2\nl3\nl4\nl5\nl6\nl7\nchange me\n |
      | a.s   | Section one\nl1\nl2\nl3\nl4\nl5\nl6\nl7\nchange me\n            |
      | m.txt | class A:\n    def one(self):\n        a = 1\n        b = 2\n        c = 3\n        d = 4\n        return a\n |
    And I record in "pat" with tool "w"
      | path  | content                                                          |
      | a.b   | Part 3+ old\nPart 12 start\nl1\nl2\nl3\nl4\nl5\nl6\nl7\nchanged\n |
      | a.s   | Section one\nl1\nl2\nl3\nl4\nl5\nl6\nl7\nchanged\n              |
      | m.txt | <delete>                                                         |
      | m.py  | class A:\n    def one(self):\n        a = 1\n        b = 2\n        c = 3\n        d = 4\n        return b\n |
    Then the diff of changeset 2 of "pat" equals git diff between its parent and it
    And the diff of changeset 2 of "pat" shows "@@ -7,4 +7,4 @@ Part 3+" and "@@ -6,4 +6,4 @@ Section"
    And the diff of changeset 2 of "pat" shows "rename from m.txt" and "@@ -4,4 +4,4 @@ def one(self):"

  Scenario: diff takes git's line-diff algorithm from diff.algorithm, --diff-algorithm, --patience, --histogram or --minimal, and diff.indentHeuristic
    # f.c comes out three ways under the four algorithms, g.c two ways with and without the
    # indent heuristic, h.c counts differently under patience, m.txt under --minimal;
    # histogram is git's own, so git renders it.
    Given the user commits "f.c" with content "\n}\n\n} else {\nif (a) {\nbar();\n}\n{\n" on main
    And the user commits "g.c" with content "int x;\n\nx++;\nx++;\n{\nif (a) {\n" on main
    And the user commits "h.c" with content "\n} else {\nfoo();\n} else {\nif (a) {\n" on main
    And the user commits "m.txt" with 2000 digit lines from seed 25
    And a plan "alg"
    And the plan "alg" rewrites a third of the lines of "m.txt" from seed 25
    And I record in "alg" with tool "w"
      | path | content                                        |
      | f.c  | \n\n}\n}\n} else {\nif (a) {\n}\nbar();\n{\n |
      | g.c  | int x;\n\nx++;\n{\nif (a) {\nx++;\n{\n        |
      | h.c  | } else {\nif (a) {\nfoo();\n} else {\n           |
    Then git plan diff "alg" -- . run in "." prints what git diff prints there
    And git plan diff "alg" --patience -- . run in "." prints what git diff prints there
    And git plan diff "alg" --histogram -- . run in "." prints what git diff prints there
    And git plan diff "alg" --minimal --numstat -- . run in "." prints what git diff prints there
    And git plan diff "alg" --minimal --stat -- . run in "." prints what git diff prints there
    And git plan diff "alg" --minimal -- m.txt run in "." prints what git diff prints there
    And git plan diff "alg" --patience --numstat -- . run in "." prints what git diff prints there
    And git plan diff "alg" --diff-algorithm=patience --stat -p -- . run in "." prints what git diff prints there
    And git plan diff "alg" --no-indent-heuristic -U1 -- . run in "." prints what git diff prints there
    And git plan diff "alg" --histogram --word-diff --stat -- . run in "." prints what git diff prints there
    When git config "diff.algorithm" is "patience"
    Then git plan diff "alg" -- . run in "." prints what git diff prints there
    And git plan diff "alg" --diff-algorithm=default -- . run in "." prints what git diff prints there
    When git config "diff.algorithm" is "histogram"
    And git config "diff.indentHeuristic" is "false"
    Then git plan diff "alg" --stat -p -- . run in "." prints what git diff prints there
    When I run git plan "show alg 2 --histogram"
    Then the output shows "\n+\n+}\n }\n-\n } else {\n"
    # The last of --patience, --histogram and --diff-algorithm wins; --minimal adds to myers only.
    When git config "diff.algorithm" is unset
    And git config "diff.indentHeuristic" is unset
    Then git plan diff "alg" --patience --histogram -- f.c run in "." prints what git diff prints there
    And git plan diff "alg" --histogram --patience -- f.c run in "." prints what git diff prints there
    And git plan diff "alg" --histogram --diff-algorithm=default -- f.c run in "." prints what git diff prints there
    And git plan diff "alg" --patience --minimal -- f.c run in "." prints what git diff prints there
    When git config "diff.algorithm" is "fast"
    And I run git plan "diff alg"
    Then the exit code is 2
    And the output contains "diff.algorithm is 'fast'"

  Scenario: --stat fills the terminal's width ($COLUMNS), and takes --stat=W,N,C, the --stat-... options and diff.statGraphWidth, as git diff does
    Given a plan "wide"
    And I record in "wide" with tool "w"
      | path                                                                  | content                                                  |
      | a/very/long/directory/name/for/the/stat/to/cut/a_long_file_name.txt   | 1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n |
      | b.txt                                                                 | 1\n2\n3\n                                               |
      | c.bin                                                                 | \x00\x01                                                 |
    And the environment has COLUMNS = "150"
    Then git plan diff "wide" --stat -- . run in "." prints what git diff prints there
    And git plan diff "wide" --stat=60,20,2 -- . run in "." prints what git diff prints there
    And git plan diff "wide" --stat=0 -- . run in "." prints what git diff prints there
    And git plan diff "wide" --stat-count=1 --shortstat -- . run in "." prints what git diff prints there
    And git plan diff "wide" --stat-graph-width=5 -- . run in "." prints what git diff prints there
    And git plan diff "wide" --stat=24 --stat-graph-width=5 -- . run in "." prints what git diff prints there
    And git plan diff "wide" --stat-name-width=12 --stat-width=70 -p -- . run in "." prints what git diff prints there
    And git plan diff "wide" --stat=50 --histogram -- . run in "." prints what git diff prints there
    And git plan diff "wide" --stat-width=30 --stat=100 -- . run in "." prints what git diff prints there
    And git plan diff "wide" --stat=100,0,1 --stat-count 2 -- . run in "." prints what git diff prints there
    And git plan diff "wide" --stat=-1 -- . run in "." prints what git diff prints there
    And git plan diff "wide" --stat=-5,3 -- . run in "." prints what git diff prints there
    And git plan diff "wide" --stat-width=-5 -- . run in "." prints what git diff prints there
    And git plan diff "wide" --stat=100,-1,-1 -- . run in "." prints what git diff prints there
    And git plan diff "wide" --stat-count=-2 --stat-name-width=-3 -- . run in "." prints what git diff prints there
    And git plan diff "wide" --stat=,5 -- . run in "." prints what git diff prints there
    And git plan diff "wide" --stat-name-width=10 --stat=90, -- . run in "." prints what git diff prints there
    And git plan diff "wide" --stat-count=+1 --stat=+90 -- . run in "." prints what git diff prints there
    And git plan diff "wide" --stat=4294967295 -- . run in "." prints what git diff prints there
    When I run git plan "show wide 1 --stat"
    Then the output contains " a/very/long/directory/name/for/the/stat/to/cut/a_long_file_name.txt |  20 ++++"
    Given the environment has COLUMNS = "40"
    Then git plan diff "wide" --stat -- . run in "." prints what git diff prints there
    When git config "diff.statGraphWidth" is "4"
    Then git plan diff "wide" --stat=100 -- . run in "." prints what git diff prints there
    When I run git plan "diff wide --stat=wide"
    Then the exit code is 2
    And the output contains "--stat takes WIDTH[,NAME-WIDTH[,COUNT]] in numbers, not 'wide'"

  Scenario: Output formats given together share one rename detection
    Given a plan "mv"
    And I record in "mv" with tool "w"
      | path      | content                  |
      | README.md | <delete>                 |
      | READ.md   | line one\nline two\nline three\n |
    When I run git plan "diff mv --numstat --stat --shortstat -p", counting rename detections
    Then the exit code is 0
    And the output contains "README.md => READ.md"
    And renames were detected 1 time

  Scenario: diff.renameLimit and -l bound inexact rename detection, and diff.suppressBlankEmpty prints an empty context line bare, as git does
    Given the user commits "a1.txt" with content "one 1\none 2\none 3\none 4\none 5\n" on main
    And the user commits "a2.txt" with content "two 1\ntwo 2\ntwo 3\ntwo 4\ntwo 5\n" on main
    And the user commits "blank.txt" with content "x\n\ny\n\n\nz\n" on main
    And a plan "lim"
    And I record in "lim" with tool "w"
      | path      | content                                 |
      | a1.txt    | <delete>                                |
      | a2.txt    | <delete>                                |
      | b1.txt    | one 1\none 2\none 3\none 4\none 5\nmore\n |
      | b2.txt    | two 1\ntwo 2\ntwo 3\ntwo 4\ntwo 5\nmore\n |
      | b3.txt    | three\n                                  |
      | blank.txt | x\n\ny\n\nw\nz\n                        |
    Then git plan diff "lim" --name-status -- . run in "." prints what git diff prints there
    And git plan diff "lim" -l1 --name-status -- . run in "." prints what git diff prints there
    # One store, one diff after the other: the file pairs it keeps are the limit's own.
    And the plan diff of "lim" with "--name-status" equals git diff with the same options
    And the plan diff of "lim" with "--name-status -l1" equals git diff with the same options
    And git plan diff "lim" -l1 --histogram --stat -- . run in "." prints what git diff prints there
    When I run git plan "diff lim -l1 --name-status"
    Then the output shows "D\ta1.txt"
    And the output contains "git-plan: warning: exhaustive rename detection was skipped due to too many files."
    And the output contains "set your diff.renameLimit variable to at least 3 and retry the command."
    When I run git plan "diff lim --name-status"
    Then the output does not contain "warning"
    When git config "diff.renameLimit" is "1"
    Then git plan diff "lim" --name-status -- . run in "." prints what git diff prints there
    When git config "diff.suppressBlankEmpty" is "true"
    Then git plan diff "lim" -- blank.txt run in "." prints what git diff prints there
    And git plan diff "lim" --histogram -- blank.txt run in "." prints what git diff prints there
    And git plan diff "lim" --color=always -- blank.txt run in "." prints what git diff prints there
    When I run git plan "diff lim -- blank.txt"
    Then the output shows "\n y\n\n-\n+w\n"

  Scenario Outline: Under diff.suppressBlankEmpty an empty context line counts as git counts it (old side only), so blank lines added at the end are coloured as git colours them: <before> to <after>
    Given the user sets the repository up with:
      """
      printf '<before>' > f.txt && git add f.txt && git commit -qm f
      git config diff.suppressBlankEmpty true
      printf '<after>' > f.txt
      """
    When I run git plan "create sb"
    And I run git plan "record sb --tool w --from-worktree"
    Then git plan diff "sb" --color=always -- . run in "." prints what git diff prints there

    Examples:
      | before      | after         |
      | a\n\nb\n    | a\n\nb\n\n    |
      | x\n\n\ny\n  | x\n\n\ny\n\n  |
      | \n\na\n     | \n\na\n\n     |

  Scenario: Line counts diff the whole files, as git's diffstat does; only -U0 trims an identical ending first
    # Two versions of a real file whose counts differ with and without the trim.
    Given the user commits "packs.py" as the test data "diffs/tail-before.py.txt"
    And a plan "tail"
    And the plan "tail" sets "packs.py" to the test data "diffs/tail-after.py.txt"
    Then the plan diff of "tail" with "--numstat" equals git diff with the same options
    And git plan diff "tail" -U0 --numstat -- . run in "." prints what git diff prints there
    And git plan diff "tail" --stat -- . run in "." prints what git diff prints there
    And git plan diff "tail" -U0 --stat -- . run in "." prints what git diff prints there
    And git plan diff "tail" -U0 --numstat --word-diff -- . run in "." prints what git diff prints there
    When I run git plan "log tail"
    Then the output contains "packs.py (+100 -31)"

  Scenario: A pathspec that ends in "/" names a directory only, as git's does
    Given the user commits "tool" with content "a file\n" on main
    And a plan "slash"
    And I record in "slash" with tool "w"
      | path         | content   |
      | tool         | <delete>  |
      | tool/main.py | print()\n |
      | notes.txt    | n\n       |
    Then git plan diff "slash" --name-status -- tool/ notes.txt/ run in "." prints what git diff prints there
    And git plan diff "slash" --name-status -- tool run in "." prints what git diff prints there
    And git plan diff "slash" --name-status -- tool/ '*.txt/' run in "." prints what git diff prints there
    And git plan diff "slash" --name-status -- ':!tool/' run in "." prints what git diff prints there
    When I run git plan "diff slash --name-only -- tool/"
    Then the output is "tool/main.py\n"
    # A submodule is a directory in the worktree: "sm/" names it too.
    Given the base commit has a submodule entry "vendor/lib"
    And a plan "slash2"
    And I record in "slash2" with tool "rm"
      | path       | content  |
      | vendor/lib | <delete> |
      | other.txt  | o\n      |
    Then git plan diff "slash2" --name-status -- vendor/lib/ run in "." prints what git diff prints there
    And git plan diff "slash2" --name-status -- . ':!vendor/lib/' ':!nothing' run in "." prints what git diff prints there

  Scenario: The user's own diff programs (diff.external, GIT_EXTERNAL_DIFF, a driver's command) print the patch, as in git diff; show runs them only with --ext-diff
    Given the user sets the repository up with:
      """
      printf '#!/bin/sh\necho "external $1 $3 $4 $6 $7 $GIT_DIFF_PATH_COUNTER/$GIT_DIFF_PATH_TOTAL locale=$LC_ALL"\ndiff "$2" "$5"\nexit 0\n' > .git/ext.sh
      printf '#!/bin/sh\necho "driver $1"\ndiff -u "$2" "$5" | tail -n +3\nexit 0\n' > .git/driver.sh
      chmod +x .git/ext.sh .git/driver.sh
      printf 'a\nb\n' > x.txt; printf 'one\n' > y.dat; printf '*.dat diff=mine\n' > .gitattributes
      git add . && git commit -qm base
      """
    And a plan "ext"
    And I record in "ext" with tool "w"
      | path  | content  |
      | x.txt | a\nB\n   |
      | y.dat | two\n    |
      | z.txt | new\n    |
    When the user sets the repository up with:
      """
      git config diff.external "$PWD/.git/ext.sh"
      """
    Then git plan diff "ext" -- . run in "." prints what git diff prints there
    And git plan diff "ext" --stat -p -- . run in "." prints what git diff prints there
    And git plan diff "ext" --no-ext-diff -- . run in "." prints what git diff prints there
    And git plan diff "ext" --color=always -- . run in "." prints what git diff prints there
    And git plan diff "ext" --color=always --stat -p -- . run in "." prints what git diff prints there
    When I run git plan "show ext 1"
    Then the output does not contain "external"
    When I run git plan "show ext 1 --ext-diff"
    Then the output shows "external x.txt"
    And the output shows "changeset 1 of plan ext"
    When I run git plan "show ext 1 --ext-diff --json"
    Then the exit code is 2
    And the output contains "--ext-diff prints what your diff program prints, which is not JSON"
    When I run git plan "diff ext --no-ext-diff"
    Then the output does not contain "external"
    When git config "diff.external" is unset
    And the user sets the repository up with:
      """
      git config diff.mine.command "$PWD/.git/driver.sh"
      """
    Then git plan diff "ext" -- . run in "." prints what git diff prints there
    And git plan diff "ext" --color=always -- . run in "." prints what git diff prints there
    When git config "diff.mine.command" is unset
    And I run git plan "diff ext" with this environment
      | variable          | value                    |
      | GIT_EXTERNAL_DIFF | {repo}/.git/ext.sh       |
      | LC_ALL            | <unset>                  |
    Then standard output is what "git diff BASE TIP" prints with that environment, for the base and tip of "ext"

  Scenario: Copy and rewrite detection (--find-copies, --find-copies-harder, --break-rewrites, -D) are git's, in diff and show
    Given the user sets the repository up with:
      """
      seq 1 20 > kept.txt; seq 101 120 > edited.txt; seq 201 220 > rewritten.txt; seq 301 320 > gone.txt
      git add . && git commit -qm base
      """
    And a plan "cb"
    And I record in "cb" with tool "w"
      | path          | content                                                               |
      | kept-copy.txt | 1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n |
      | rewritten.txt | a\nb\nc\nd\ne\nf\ng\nh\n                                              |
      | gone.txt      | <delete>                                                              |
    Then git plan diff "cb" --find-copies-harder -- . run in "." prints what git diff prints there
    And git plan diff "cb" --find-copies --stat -- . run in "." prints what git diff prints there
    And git plan diff "cb" --break-rewrites -- . run in "." prints what git diff prints there
    And git plan diff "cb" -D -- . run in "." prints what git diff prints there
    And git plan diff "cb" --irreversible-delete --find-copies-harder --name-status -- . run in "." prints what git diff prints there
    When I run git plan "show cb 1 --find-copies-harder"
    Then the output contains "copy from kept.txt"

  Scenario: Options only git renders (-w, -b, the other whitespace options, -W, -R, -a, --diff-filter) are git's, and so are the prefixes, in diff and show
    Given the user sets the repository up with:
      """
      printf 'def f():\n    a = 1\n    b = 2\n    return a\n\n\ndef g():\n    return 3\n' > m.py
      printf 'x y\r\n\nz\n' > t.txt; echo del > gone.txt; printf '\0bin' > b.bin
      git add . && git commit -qm base
      """
    And a plan "ws"
    And I record in "ws" with tool "w"
      | path     | content                                                                     |
      | m.py     | def f():\n    a  =  1\n    b = 2\n    return a + 0\n\n\ndef g():\n    return 3\n |
      | t.txt    | x  y\n\n\nz\n                                                                 |
      | new.txt  | x\n                                                                         |
      | b.bin    | \x00bin2                                                                    |
      | gone.txt | <delete>                                                                    |
    Then git plan diff "ws" -w -- . run in "." prints what git diff prints there
    And git plan diff "ws" -b --stat -- . run in "." prints what git diff prints there
    And git plan diff "ws" --ignore-space-at-eol --numstat -- . run in "." prints what git diff prints there
    And git plan diff "ws" --ignore-cr-at-eol --ignore-blank-lines -- . run in "." prints what git diff prints there
    And git plan diff "ws" -W -- . run in "." prints what git diff prints there
    And git plan diff "ws" -R --name-status -- . run in "." prints what git diff prints there
    And git plan diff "ws" -a -- . run in "." prints what git diff prints there
    And git plan diff "ws" --diff-filter=AD --stat -p -- . run in "." prints what git diff prints there
    And git plan diff "ws" --diff-filter=m -- . run in "." prints what git diff prints there
    And git plan diff "ws" --no-prefix -- . run in "." prints what git diff prints there
    And git plan diff "ws" --src-prefix=old/ --dst-prefix=new/ -- . run in "." prints what git diff prints there
    And git plan diff "ws" --no-prefix --src-prefix=S/ -- . run in "." prints what git diff prints there
    And git plan diff "ws" --src-prefix=S/ --no-prefix -- . run in "." prints what git diff prints there
    And git plan diff "ws" -w --stat --binary -- . run in "." prints what git diff prints there
    When git config "diff.noprefix" is "true"
    Then git plan diff "ws" --src-prefix=X/ -- . run in "." prints what git diff prints there
    And git plan diff "ws" -w --dst-prefix=Y/ -- . run in "." prints what git diff prints there
    When git config "diff.noprefix" is unset
    When I run git plan "show ws 1 -w"
    Then the output shows "-    return a\n+    return a + 0"
    And the output does not contain "-    a = 1"
    When I run git plan "show ws 1"
    Then the output contains "-    a = 1"
    When I run git plan "diff ws --diff-filter=Z"
    Then the exit code is 2
    And the output contains "unknown change class"
    # GIT_DIFF_OPTS sets a patch's context over -U, as git's builtin_diff reads it
    When the environment variable "GIT_DIFF_OPTS" is "-u1"
    Then git plan diff "ws" -U5 -- . run in "." prints what git diff prints there
    And git plan diff "ws" --stat -p -- . run in "." prints what git diff prints there
    When the environment variable "GIT_DIFF_OPTS" is "--unified=0"
    Then git plan diff "ws" -- . run in "." prints what git diff prints there
    When the environment variable "GIT_DIFF_OPTS" is " -u0"
    Then git plan diff "ws" -- . run in "." prints what git diff prints there

  Scenario: What scripts ask of git diff (--raw, --summary, --compact-summary, --check, -s, -z, --exit-code, --quiet) is git's, exit status included
    Given the user sets the repository up with:
      """
      printf 'a\n' > a.txt; printf 'keep me\n' > gone.txt; printf 'x\n' > run.sh
      mkdir sub && printf 'in\n' > sub/in.txt
      git add . && git commit -qm base
      printf 'a \n' > a.txt; git mv gone.txt moved.txt; chmod +x run.sh
      printf 'x\n' > 'tab	name.txt'; printf 'in\nmore\n' > sub/in.txt
      """
    When I run git plan "create s"
    And I run git plan "record s --tool w --from-worktree"
    Then the exit code is 0
    And git plan diff "s" --raw -- . run in "." exits 0 as git diff does, printing the same
    And git plan diff "s" --raw --stat --summary -p -- . run in "sub" exits 0 as git diff does, printing the same
    And git plan diff "s" --name-only -z -- . run in "." exits 0 as git diff does, printing the same
    And git plan diff "s" --numstat -z -M -- . run in "." exits 0 as git diff does, printing the same
    And git plan diff "s" --stat -p -z -- . run in "." exits 0 as git diff does, printing the same
    And git plan diff "s" --check -- . run in "." exits 2 as git diff does, printing the same
    And git plan diff "s" --check --exit-code -- . run in "." exits 3 as git diff does, printing the same
    And git plan diff "s" --check -- in.txt run in "sub" exits 0 as git diff does, printing the same
    And git plan diff "s" --exit-code --stat -- . run in "sub" exits 1 as git diff does, printing the same
    And git plan diff "s" --quiet -- . run in "." exits 1 as git diff does, printing the same
    And git plan diff "s" --quiet -w -- a.txt run in "." exits 0 as git diff does, printing the same
    And git plan diff "s" --quiet -- 'nothing*' run in "." exits 0 as git diff does, printing the same
    And git plan diff "s" --compact-summary -- . run in "." exits 0 as git diff does, printing the same
    And git plan diff "s" --compact-summary -u -- . run in "sub" exits 0 as git diff does, printing the same
    And git plan diff "s" --patch-with-raw --stat -- . run in "." exits 0 as git diff does, printing the same
    And git plan diff "s" -s --exit-code -- . run in "." exits 1 as git diff does, printing the same
    And git plan diff "s" --no-patch --stat -- . run in "." exits 0 as git diff does, printing the same
    And git plan diff "s" -s -p -- . run in "." exits 0 as git diff does, printing the same
    And git plan diff "s" --no-patch -U1 --exit-code -- . run in "." exits 1 as git diff does, printing the same
    And git plan diff "s" -p -s --exit-code -- . run in "." exits 1 as git diff does, printing the same
    And git plan diff "s" --exit-code --no-exit-code --stat -- . run in "." exits 0 as git diff does, printing the same
    And git plan diff "s" --quiet --no-quiet --name-only -- . run in "." exits 0 as git diff does, printing the same
    # git's own failure where a script reads 1 to 3 as findings: git's status, 129 here
    And git plan diff "s" --quiet --diff-filter=Q -- . run in "." exits 129 as git diff does, printing the same
    And the plan diff of "s" with "--check" equals git diff with the same options
    When I run git plan "diff s --raw --diff-filter=Q"
    Then the exit code is 2
    When I run git plan "diff s --name-status --check"
    Then the exit code is 2
    And the output contains "--name-status and --check cannot be used together"
    When I run git plan "diff s --check -- sub"
    Then the exit code is 0

  Scenario: Colours the config changes (color.diff.*, core.whitespace, diff.wsErrorHighlight, diff.colorMoved) are git's, in diff and show
    Given the user commits "w.txt" with content "a\nb\nmoved line number one here\nmoved line number two here\nk1\nk2\nk3\nk4\n" on main
    And a plan "hue"
    And I record in "hue" with tool "w"
      | path  | content                                                                                   |
      | w.txt | a \nb\r\n\tc\nk1\nk2\nk3\nk4\nmoved line number one here\nmoved line number two here\n |
    When git config "color.diff.meta" is "yellow"
    And git config "color.diff.new" is "blue reverse"
    Then git plan diff "hue" --color=always --stat -p -- . run in "." prints what git diff prints there
    When git config "color.diff.meta" is unset
    And git config "color.diff.new" is unset
    And git config "core.whitespace" is "cr-at-eol,tab-in-indent"
    Then git plan diff "hue" --color=always -- . run in "." prints what git diff prints there
    When git config "core.whitespace" is unset
    And git config "diff.wsErrorHighlight" is "all"
    Then git plan diff "hue" --color=always -- . run in "." prints what git diff prints there
    When git config "diff.wsErrorHighlight" is unset
    And git config "diff.colorMoved" is "zebra"
    Then git plan diff "hue" --color=always -- . run in "." prints what git diff prints there
    When git config "color.diff.meta" is "yellow"
    When I run git plan "show hue 1 --color=always"
    Then the output shows "\x1b[33mdiff --git a/w.txt b/w.txt\x1b[m"
    When I run git plan "show hue 1 --color=always --json"
    Then the exit code is 0
    And the output does not contain "\u001b"

  Scenario: Rename candidates rank as git ranks them: four per new file, an empty one included, ties in git's order
    Given the user sets the repository up with:
      """
      mkdir olddup
      for i in 1 2 3 4 5 6 7 8 9; do seq 1 20 > olddup/dup$i.txt; done
      seq 1 20 > mode.sh; : > e1; : > e2
      git add -A; git commit -qm base
      """
    And a plan "ties"
    And the user sets the repository up with:
      """
      mkdir new
      git rm -q olddup/dup3.txt olddup/dup6.txt olddup/dup9.txt
      git mv olddup/dup1.txt new/n30.txt; git mv olddup/dup4.txt new/n27.txt; git mv olddup/dup7.txt new/n24.txt
      git mv mode.sh mode2.sh; echo more >> mode2.sh
      git mv e1 e4; git rm -q e2
      """
    When I run git plan "record ties --tool t --from-worktree"
    Then the exit code is 0
    And git plan diff "ties" --name-status -- . run in "." prints what git diff prints there
    When I run git plan "diff ties --name-status"
    Then the output shows "R091\tolddup/dup9.txt\tmode2.sh"

  Scenario: --relative and diff.relative limit a diff to a directory and name paths from it, as git does
    Given a plan "rel"
    And I record in "rel" with tool "w"
      | path          | content |
      | src/module.py | x\n     |
      | README.md     | y\n     |
    Then git plan diff "rel" --relative --stat -- :/ run in "src" prints what git diff prints there
    And git plan diff "rel" --relative=src -- :/ run in "." prints what git diff prints there
    And git plan diff "rel" --relative=sr --name-status -- :/ run in "." prints what git diff prints there
    When git config "diff.relative" is "true"
    Then git plan diff "rel" --name-status -- :/ run in "src" prints what git diff prints there
    And git plan diff "rel" --no-relative --name-status -- :/ run in "src" prints what git diff prints there
    # --json's files are the trees' changes: the setting is named, with how to turn it off.
    When in "src" I run git plan "diff rel --json"
    Then the exit code is 2
    And the output contains "diff.relative (set in your git config: --no-relative turns it off) does not go with --json"
    When in "src" I run git plan "diff rel --json --no-relative"
    Then the exit code is 0
    When in "src" I run git plan "diff rel --json --relative"
    Then the output contains "--relative does not go with --json"

  Scenario: diff.renames=copies finds copies and diff.orderFile orders the files, as git does (git renders them)
    Given the user commits "base.txt" with content "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\n" on main
    And a plan "cp"
    And I record in "cp" with tool "w"
      | path     | content                                          |
      | base.txt | l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\nmore\n |
      | copy.txt | l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\nx\n    |
      | a.txt    | new\n                                            |
    When git config "diff.renames" is "copies"
    Then git plan diff "cp" --name-status -- . run in "." prints what git diff prints there
    And git plan diff "cp" --stat -p -- . run in "." prints what git diff prints there
    And git plan diff "cp" -M --name-status -- . run in "." prints what git diff prints there
    When I run git plan "diff cp --name-status"
    Then the output shows "\tbase.txt\tcopy.txt\n"
    When git config "diff.renames" is unset
    And the agent writes "order.txt" as "copy.txt\n*\n" in the worktree
    And git config "diff.orderFile" is "order.txt"
    Then git plan diff "cp" --name-only -- . run in "." prints what git diff prints there
    When I run git plan "diff cp --name-only"
    Then the output is "copy.txt\na.txt\nbase.txt\n"

  Scenario: A file larger than core.bigFileThreshold is binary to the diff, as git's; --binary implies the patch
    Given the user commits "big.txt" with content "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n" on main
    And a plan "big"
    And I record in "big" with tool "w"
      | path    | content                                        |
      | big.txt | 1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n |
      | small   | s\n                                            |
    When git config "core.bigFileThreshold" is "20"
    Then git plan diff "big" -- . run in "." prints what git diff prints there
    And git plan diff "big" --stat -- . run in "." prints what git diff prints there
    And git plan diff "big" --numstat -- . run in "." prints what git diff prints there
    And git plan diff "big" --binary -- . run in "." prints what git diff prints there
    And git plan diff "big" --name-only --binary -- . run in "." prints what git diff prints there
    When I run git plan "diff big --stat --binary"
    Then the output contains "diff --git a/small b/small"

  Scenario: When git renders the diff, -M's fraction, -U and config numbers git accepts reach it exactly
    Given the user sets the repository up with:
      """
      seq 1 1000 > frac.txt
      git add frac.txt; git commit -qm frac
      """
    And a plan "frac"
    And the user sets the repository up with:
      """
      git mv frac.txt moved.txt
      seq 1 1000 | sed '1,30s/$/x/' > moved.txt
      """
    When I run git plan "record frac --tool t --from-worktree"
    Then the exit code is 0
    And git plan diff "frac" -M97% --histogram --name-status -- . run in "." prints what git diff prints there
    And git plan diff "frac" -M97.5% --histogram --name-status -- . run in "." prints what git diff prints there
    And git plan diff "frac" -M97.5% --word-diff --stat -- . run in "." prints what git diff prints there
    When git config "diff.renameLimit" is "-1"
    And git config "diff.statGraphWidth" is "2k"
    Then git plan diff "frac" --stat -- . run in "." prints what git diff prints there

  Scenario: A textconv filter of a path's diff driver shows its output, as git diff does, and --stat counts the bytes
    Given git config "diff.upper.textconv" is "tr a-z A-Z <"
    And git config "diff.hex.textconv" is "od -An -tx1"
    And the agent writes ".gitattributes" as "*.up diff=upper\n*.bin diff=hex\n" in the worktree
    And a plan "conv"
    And I record in "conv" with tool "w"
      | path  | content        |
      | a.up  | hello\nworld\n |
      | b.bin | ab\x00cd       |
    And I record in "conv" with tool "w"
      | path  | content        |
      | a.up  | hello\nthere\n |
      | b.bin | ab\x00ce       |
      | c.up  | new\n          |
    Then the diff of changeset 2 of "conv" equals git diff between its parent and it
    And the diff of changeset 2 of "conv" shows "+THERE" and "+ 61 62 00 63 65"
    And the plan diff of "conv" with "" equals git diff with the same options
    And the plan diff of "conv" with "--binary" equals git diff with the same options
    And the plan diff of "conv" with "--stat" equals git diff with the same options
    And the plan diff of "conv" with "--numstat" equals git diff with the same options

  Scenario: Only a regular file has a diff driver, as in git: a symlink gets no textconv and no -diff; a file whose filtered sides are equal shows nothing
    Given the user commits a symlink "l.lnk" pointing to "target-one"
    And git config "diff.upper.textconv" is "tr a-z A-Z <"
    And the agent writes ".gitattributes" as "* diff=upper\n*.lnk -diff\n" in the worktree
    And a new plan "links" points "l.lnk" to "target-two"
    And I record in "links" with tool "w"
      | path      | content    |
      | README.md | LINE ONE\nline two\nline three\n |
    Then the plan diff of "links" with "" equals git diff with the same options
    And the plan diff of "links" with "--stat" equals git diff with the same options
    When I run git plan "log links"
    Then the output contains "l.lnk (+1 -1)"

  Scenario: An exported changeset is the raw bytes, as git format-patch writes it, whatever textconv filter the attributes name
    Given git config "diff.upper.textconv" is "tr a-z A-Z <"
    And the agent writes ".gitattributes" as "*.up diff=upper\n" in the worktree
    And a plan "conv"
    And I record in "conv" with tool "w"
      | path  | content        |
      | a.up  | hello\nworld\n |
    Then the diff of changeset 1 of "conv" shows "+HELLO" and "+WORLD"
    And the patch of changeset 1 of "conv" shows "+hello" and "+world"

  Scenario: An empty file under -diff shows its header alone, a set diff attribute makes a file text, and --binary keeps textconv, as in git
    Given git config "diff.upper.textconv" is "tr a-z A-Z <"
    And the agent writes ".gitattributes" as "*.nodiff -diff\n*.txt diff\n*.up diff=upper\n" in the worktree
    And a plan "attrs"
    And I record in "attrs" with tool "w"
      | path     | content       |
      | e.nodiff |               |
      | nul.txt  | a\x00b\n1\n    |
      | u.up     | hello\n       |
    Then the plan diff of "attrs" with "" equals git diff with the same options
    And the plan diff of "attrs" with "--binary" equals git diff with the same options
    And the plan diff of "attrs" with "--numstat" equals git diff with the same options
    And the plan diff of "attrs" with "--stat" equals git diff with the same options
    # The record's note counts as the diff does: the set attribute makes nul.txt text.
    When I run git plan "log attrs"
    Then the output contains "nul.txt (+2 -0)"
    And the output contains "e.nodiff (binary)"

  Scenario: A textconv filter that fails is named in the error
    Given git config "diff.broken.textconv" is "false"
    And the agent writes ".gitattributes" as "*.x diff=broken\n" in the worktree
    And a plan "conv"
    And I record in "conv" with tool "w"
      | path | content |
      | a.x  | a\n     |
    When I run git plan "diff conv"
    Then the exit code is 2
    And the output contains "the textconv filter 'false' failed on a.x"
    # When git renders the diff (histogram), its failure is bad input too.
    When I run git plan "diff conv --histogram"
    Then the exit code is 2
    And the output contains "git diff failed"

  Scenario Outline: Output formats combine as git combines them: <args>
    Given a plan "combo"
    And I record in "combo" with tool "w"
      | path      | content          |
      | a.txt     | one\ntwo\n       |
      | b/c.txt   | three\n          |
    Then git plan diff "combo" <args> -- run in "." prints what git diff prints there

    Examples:
      | args                     |
      | --numstat --stat         |
      | --stat --numstat         |
      | --stat -p                |
      | -p --stat                |
      | -U1 --stat               |
      | --patch-with-stat        |
      | --shortstat              |
      | --numstat --shortstat    |
      | --stat --name-only       |
      | --name-status --numstat  |

  Scenario Outline: Rename thresholds and hunk joining as git takes them on its command line: <args>
    Then git plan diff "d" <args> -- run in "." prints what git diff prints there

    Examples:
      | args                          |
      | -M                            |
      | -M90%                         |
      | -M5                           |
      | --find-renames=30%            |
      | -M --stat                     |
      | -U1 --inter-hunk-context=4    |
      | -M0.9                         |
      | -M.3 --stat                   |
      | -M --no-renames               |
      | --no-renames -M               |
      | --find-renames --no-renames   |
      | -M0 --name-status             |
      | -M0% --stat                   |
      | --find-renames=0.0            |

  Scenario: Without context, an identical ending of 1 KiB or more is left out before diffing, as git does
    Given a plan "tail" whose "long.txt" had 600 equal lines after its first, and one more at its end
    Then the plan diff of "tail" with "-U0" equals git diff with the same options
    And the plan diff of "tail" with "--numstat" equals git diff with the same options
    And the plan diff of "tail" with "" equals git diff with the same options

  Scenario: --name-only and --name-status together are refused, as git refuses them
    When I run git plan "diff d --name-only --name-status"
    Then the exit code is 2
    And the output contains "--name-only and --name-status cannot be used together"

  Scenario: --stat measures names in columns, as git does: wide characters take two, and long names are cut
    Given git config "core.quotePath" is "false"
    And a plan "wide"
    And I record in "wide" with tool "w"
      | path                                                                   | content |
      | 日本語のファイル.txt                                                   | a\n     |
      | 深いディレクトリ/とても長い名前のファイルですとても長い名前のファイルですとても長い名前の.txt | b\n     |
      | élément.txt                                                    | c\n     |
    Then git plan diff "wide" --stat -- run in "." prints what git diff prints there
    And git plan diff "wide" --numstat -- run in "." prints what git diff prints there

  Scenario Outline: --color writes git's colours byte for byte, whitespace errors included: <args>
    Given a plan "colors"
    And I record in "colors" with tool "w"
      | path          | content                                                               |
      | README.md     | line one\n\nline two \n  \t x\n\tline three\r\nlast  \n\n\n          |
      | src/module.py | def a():\n    return 1\n\n\ndef b():\n    return 3\n                 |
      | data/blob.bin | \x00\x01\x03binary                                                    |
      | m.txt         | ++++ x\n---- y\n                                                       |
      | new.txt       | a new file ends\n\n\n                                              |
      | feed.txt      | a\x0cb\nc \x0c\n\x0b\n                                                |
    Then git plan diff "colors" <args> -- run in "." prints what git diff prints there

    Examples:
      | args                         |
      | --color=always               |
      | --color                      |
      | --color=always --stat -p     |
      | --color=always -U1           |
      | --color=always -U0           |
      | --color=always --binary      |
      | --color=never                |

  Scenario: Options whose value git takes only when attached (--color, --word-diff, -M, --find-renames) leave the plan after them alone, as git diff leaves the commit
    Then git plan diff with --color -- before the plan "d", run in ".", prints what git diff prints
    And git plan diff with --word-diff -- before the plan "d", run in ".", prints what git diff prints
    And git plan diff with --name-status -M -- before the plan "d", run in ".", prints what git diff prints
    And git plan diff with --stat -wM -- before the plan "d", run in ".", prints what git diff prints
    And git plan diff with --stat --find-renames -- before the plan "d", run in ".", prints what git diff prints
    And git plan diff with --color=never -M90% --name-status -- before the plan "d", run in ".", prints what git diff prints
    And git plan diff with --name-status --no-renames -wM5 -- before the plan "d", run in ".", prints what git diff prints
    And git plan diff with --src-prefix -wM -- before the plan "d", run in ".", prints what git diff prints
    And git plan diff with --color-words -- before the plan "d", run in ".", prints what git diff prints
    When I run git plan "diff -MM d"
    Then the exit code is 2

  Scenario: Rename detection over many deleted and added files reads each file's spans once, as git does
    Given a plan "many" that deletes 30 files and adds 30 others, each of 40 lines
    When I take the diff of "many" with "--name-status", counting the files whose spans are worked out
    Then the spans of each file were worked out at most once
    And the plan diff of "many" with "--name-status" equals git diff with the same options
    And the plan diff of "many" with "--stat" equals git diff with the same options

  Scenario: One changeset's diff is git diff of its parent and itself
    Then the diff of changeset 2 of "d" equals git diff between its parent and it

  Scenario: A range of changesets
    Then the diff of range "1..3" of "d" equals git diff between changesets 1 and 3
    When I run git plan "diff d 1...3"
    Then the exit code is 2
    And the output contains "'1...3': a plan's changesets are in one line; use A..B (two dots)"

  Scenario: Abbreviated ids grow with the number of packed objects like git's
    Given the repository has 40000 packed objects
    Then the plan diff of "d" with "" equals git diff with the same options

  Scenario: A function line that ends in a vertical tab or a form feed keeps it, as git does
    Given the user commits "vt.txt" with content "func\x0b\n1\n2\n3\n4\n5\nform\x0c\n7\n8\n9\n10\n11\n" on main
    And a plan "v"
    And I record in "v" with tool "edit"
      | path   | content                                                    |
      | vt.txt | func\x0b\n1\n2\n3\n4\nFIVE\nform\x0c\n7\n8\n9\n10\nELEVEN\n |
    Then the plan diff of "v" with "" equals git diff with the same options
    And the plan diff of "v" with "-U1" equals git diff with the same options

  Scenario: Unusual file names are quoted as git quotes them
    When I record in "d" with tool "names"
      | path                | content  |
      | with space.txt      | a\n      |
      | naïve.txt           | b\n      |
      | quote"d.txt         | c\n      |
      | back\\slash.txt     | d\n      |
    Then it succeeds
    And the plan diff of "d" with "" equals git diff with the same options
    And the plan diff of "d" with "--stat" equals git diff with the same options
    And the plan diff of "d" with "--name-status" equals git diff with the same options

  Scenario: Long names and big changes are scaled in --stat like git
    When I record a file with a very long name and 300 lines in "d"
    Then the plan diff of "d" with "--stat" equals git diff with the same options

  Scenario: A quoted name is renamed, and names share no prefix
    When I record in "d" with tool "names"
      | path      | content                                    |
      | naïve.txt | one\ntwo\nthree\nfour\nfive\nsix\n         |
      | a.txt     | seven\neight\nnine\nten\neleven\ntwelve\n |
    And I record a move of "naïve.txt" to "dir/naïve2.txt" and of "a.txt" to "b.txt" in "d"
    Then the plan diff of "d" with "" equals git diff with the same options
    And the plan diff of "d" with "--stat" equals git diff with the same options
    And the plan diff of "d" with "--name-status" equals git diff with the same options
    And the plan diff of "d" with "--numstat" equals git diff with the same options

  Scenario: A file moved to another directory and edited is paired by its basename
    When I record a move of "README.md" to "docs/README.md" with an edit in "d"
    Then the plan diff of "d" with "--name-status" equals git diff with the same options
    And the plan diff of "d" with "--stat" equals git diff with the same options

  Scenario: In a directory where one file goes and a later one comes, only those two are changed
    Given a plan "shift"
    And I record in "shift" with tool "w"
      | path        | content |
      | old/aaa.txt | first\n |
      | old/zzz.txt | last\n  |
    And I record in "shift" with tool "w"
      | path        | content  |
      | old/aaa.txt | <delete> |
      | old/ooo.txt | middle\n |
    Then the diff of changeset 2 of "shift" equals git diff between its parent and it
    And the plan diff of "shift" with "--name-status" equals git diff with the same options

  Scenario: A file that becomes a symlink is a type change
    When I record "script.sh" as a symlink to "README.md" in "d"
    Then the plan diff of "d" with "" equals git diff with the same options
    And the plan diff of "d" with "--name-status" equals git diff with the same options
    And the plan diff of "d" with "--stat" equals git diff with the same options

  Scenario: A short name with many changed lines fills the --stat graph like git
    When I record in "d" with 300 new lines in "x"
    Then the plan diff of "d" with "--stat" equals git diff with the same options

  Scenario: Globs in pathspecs
    Then the plan diff of "d" with "--name-only -- *.md" equals git diff with the same options
    And the plan diff of "d" with "--name-only -- src/*" equals git diff with the same options

  Scenario: Pathspec magic for the top and for exclusion, from the top and from a subdirectory, as git
    Then git plan diff "d" --name-only -- ':!src' run in "." prints what git diff prints there
    And git plan diff "d" --stat -- ':(exclude)docs' ':^data' run in "." prints what git diff prints there
    And git plan diff "d" --name-status -- ':!module.py' run in "src" prints what git diff prints there
    And git plan diff "d" --name-only -- ':/docs' ':(top)README.md' run in "src" prints what git diff prints there
    And git plan diff "d" -- . ':!new_file.py' run in "src" prints what git diff prints there
    When I run git plan "diff d -- :(attr:x)SRC"
    Then the exit code is 2
    And the output contains "pathspec magic attr:x in ':(attr:x)SRC' is not supported"

  Scenario: Pathspecs match as git's: the glob, icase and literal magic, the GIT_*_PATHSPECS variables, brackets and escapes
    Given the user sets the repository up with:
      """
      mkdir -p src/sub SRC 'we[ir]d'
      mkdir werd
      for f in src/a.py src/sub/b.py sra top.py SRC/Up.py SRC/a.py 'we[ir]d/x.py' werd/x.py é.txt É.txt; do echo old > "$f"; done
      git add . && git commit -qm base
      """
    And a plan "globs"
    And I record in "globs" with tool "w"
      | path         | content |
      | src/a.py     | new\n   |
      | src/sub/b.py | new\n   |
      | sra          | new\n   |
      | top.py       | new\n   |
      | SRC/Up.py    | new\n   |
      | we[ir]d/x.py | new\n   |
      | werd/x.py    | new\n   |
      | SRC/a.py     | new\n   |
      | é.txt        | new\n   |
      | É.txt        | new\n   |
    Then git plan diff "globs" --name-only -- ':(glob)src/*' ':(glob)sr?' run in "." prints what git diff prints there
    And git plan diff "globs" --name-only -- ':(glob)**/b.py' ':(glob)**/top.py' run in "." prints what git diff prints there
    And git plan diff "globs" --name-only -- ':(glob)src/**' ':(glob)*.py' run in "." prints what git diff prints there
    And git plan diff "globs" --name-only -- ':(glob)[[:upper:]]*/*' run in "." prints what git diff prints there
    And git plan diff "globs" --name-only -- ':(glob,icase)**/up.py' run in "." prints what git diff prints there
    And git plan diff "globs" --name-only -- ':(icase)src/' run in "." prints what git diff prints there
    And git plan diff "globs" --name-only -- '*/[^a]*.py' run in "." prints what git diff prints there
    And git plan diff "globs" --name-only -- 'we\[ir\]d/x.py' run in "." prints what git diff prints there
    And git plan diff "globs" --name-only -- ':(glob)s[a-r]?/*' ':(glob)[' '[[:nope:]]*' '[]x]*' 'top.py' run in "." prints what git diff prints there
    And git plan diff "globs" --name-only -- ':(literal)we[ir]d' ':(literal)s*' run in "." prints what git diff prints there
    And git plan diff "globs" --stat -- . ':(exclude,glob)**/a.py' run in "." prints what git diff prints there
    And git plan diff "globs" --name-only -- ':(glob)*.py' ':(glob)../*.py' run in "src" prints what git diff prints there
    And git plan diff "globs" --word-diff -- ':(glob)*' ':(exclude,icase)SRA' run in "." prints what git diff prints there
    # Without the glob magic, ** is *; names are bytes, and icase folds ASCII letters only.
    And git plan diff "globs" --name-only -- '**/top.py' '**/b.py' 'sra' ':!**/a.py' run in "." prints what git diff prints there
    And git plan diff "globs" --name-only -- '?.txt' '[é].txt' ':(icase)é.txt' '[z-a]' 'sra' run in "." prints what git diff prints there
    And git plan diff "globs" --name-only -- ':(glob)**\/b.py' run in "." prints what git diff prints there
    And git plan diff "globs" --name-only -- ':(glob)[!z-a]*' run in "." prints what git diff prints there
    # A directory named like a pattern: taken as it is too, and as it is where the spec was typed.
    And git plan diff "globs" --name-only -- 'we[ir]d/*' run in "." prints what git diff prints there
    And git plan diff "globs" --name-only -- '*.py' run in "we[ir]d" prints what git diff prints there
    And git plan diff "globs" --name-only -- ':!*.py' run in "we[ir]d" prints what git diff prints there
    And git plan diff "globs" --name-only -- ':(icase)A.PY' run in "src" prints what git diff prints there
    And git plan diff "globs" -w -- . ':!sub' run in "src" prints what git diff prints there
    And git plan diff "globs" --name-only -- ':(icase)../src/a.py' run in "src" prints what git diff prints there
    And git plan diff "globs" --name-only -- ':(glob)s**/b.py' ':(glob,icase)S**/UP.py' run in "." prints what git diff prints there
    And git plan diff "globs" --name-only -- ':(icase)[S]rc/a.py' 'sra' run in "." prints what git diff prints there
    And git plan diff "globs" --name-only -- ':(icase)[!S]RC/A.py' run in "." prints what git diff prints there
    And git plan diff "globs" --name-only -- ':(icase)[R-T]ra' 'top.py' run in "." prints what git diff prints there
    And git plan diff "globs" -w --name-only -- ':(icase)[S]rc/a.py' ':(icase)[R-T]ra' run in "." prints what git diff prints there
    # :/ and :(top) take the path as typed: no . or .. is cleaned away.
    And git plan diff "globs" --name-only -- ':/.' ':/src/../top.py' ':(top)sra' run in "src" prints what git diff prints there
    And git plan diff "globs" -w --name-only -- ':/.' ':/src/../top.py' ':(top)sra' run in "src" prints what git diff prints there
    When I run git plan "diff globs -- :!."
    Then the exit code is 0
    And the output is ""
    And git plan diff "globs" --name-only -- '../werd/*' run in "we[ir]d" prints what git diff prints there
    When the environment variable "GIT_GLOB_PATHSPECS" is "1"
    Then git plan diff "globs" --name-only -- '*.py' ':(literal)src' run in "." prints what git diff prints there
    When the environment variable "GIT_ICASE_PATHSPECS" is "true"
    Then git plan diff "globs" --name-only -- '*/u*' run in "." prints what git diff prints there
    When the environment variable "GIT_LITERAL_PATHSPECS" is "1"
    And I run git plan "diff globs -- src"
    Then the exit code is 2
    And the output contains "GIT_LITERAL_PATHSPECS cannot be used with the other GIT_*_PATHSPECS settings"
    When the environment variable "GIT_GLOB_PATHSPECS" is "0"
    And the environment variable "GIT_ICASE_PATHSPECS" is "no"
    Then git plan diff "globs" --name-only -- ':(glob)sr?' 'src' run in "." prints what git diff prints there
    When the environment variable "GIT_LITERAL_PATHSPECS" is "0"
    And the environment variable "GIT_NOGLOB_PATHSPECS" is "1"
    Then git plan diff "globs" --name-only -- 'sr?' 'top.py' run in "." prints what git diff prints there
    And git plan diff "globs" --name-only -- ':(glob)sr?' run in "." prints what git diff prints there
    When I run git plan "diff globs -- :(glob,literal)x"
    Then the exit code is 2
    And the output contains "the glob and literal magic cannot be used together"
    When I run git plan "diff globs -- ':( glob )*.py'"
    Then the exit code is 2
    And the output contains "pathspec magic  glob  in"
    When I run git plan "diff globs -- :-x"
    Then the exit code is 2
    And the output contains "unimplemented pathspec magic '-' in ':-x'"
    When I run git plan "diff globs -- ''"
    Then the exit code is 2
    And the output contains "an empty string is not a valid pathspec"
    When the environment variable "GIT_NOGLOB_PATHSPECS" is "maybe"
    And I run git plan "diff globs -- sra"
    Then the exit code is 2
    And the output contains "bad boolean value 'maybe' for 'GIT_NOGLOB_PATHSPECS'"

  Scenario: A config boolean git cannot read is refused, named, as git refuses it (diff.renames=copies is not one)
    Given git config "diff.indentHeuristic" is "maybe"
    When I run git plan "diff d"
    Then the exit code is 2
    And the output contains "bad boolean config value 'maybe' for 'diff.indentHeuristic'"
    When git config "diff.indentHeuristic" is unset
    And I run git plan "diff d --stat" with this environment
      | variable              | value                        |
      | GIT_CONFIG_PARAMETERS | 'core.quotepath'='sometimes' |
    Then the exit code is 2
    And the output contains "bad boolean config value 'sometimes' for 'core.quotePath'"
    When I run git plan "diff d" with this environment
      | variable              | value                                  |
      | GIT_CONFIG_PARAMETERS | 'diff.noprefix'='1k' 'core.quotepath'='0x0' |
    Then standard output is what "git diff BASE TIP" prints with that environment, for the base and tip of "d"
    When I run git plan "diff d" with this environment
      | variable              | value                         |
      | GIT_CONFIG_PARAMETERS | 'diff.noprefix'='-2147483648' |
    Then the exit code is 2
    When git config "plan.keepOnFailure" is "maybe"
    And I run git plan "apply d"
    Then the exit code is 2
    And the output contains "bad boolean config value 'maybe' for 'plan.keepOnFailure'"
    When git config "plan.keepOnFailure" is unset
    And I run git plan "apply d --check"
    Then the exit code is 0
    When git config "diff.renames" is "copies"
    And I run git plan "diff d --stat"
    Then the exit code is 0

  Scenario Outline: git diff's configuration is honoured as git honours it: <key> <value>
    Given git config "<key>" is "<value>"
    Then git plan diff "d" -- . run in "." prints what git diff prints there
    And git plan diff "d" --stat -- . run in "." prints what git diff prints there
    And git plan diff "d" -U5 --no-renames -- . run in "." prints what git diff prints there

    Examples:
      | key                   | value |
      | diff.noprefix         | true  |
      | diff.context          | 1     |
      | diff.renames          | false |

  Scenario: diff.interHunkContext joins nearby hunks as git joins them
    Given the user sets the repository up with:
      """
      seq 1 20 > gap.txt
      git add gap.txt
      git commit -q -m gap
      """
    And a plan "gap"
    And I record in "gap" with tool "w"
      | path    | content                                                                    |
      | gap.txt | 1\nTWO\n3\n4\n5\n6\n7\n8\n9\n10\n11\nTWELVE\n13\n14\n15\n16\n17\n18\n19\n20\n |
    And git config "diff.interHunkContext" is "4"
    Then git plan diff "gap" -- . run in "." prints what git diff prints there
    And the plan diff of "gap" with "" has 1 hunk

  Scenario: An empty changeset prints nothing, like git
    Then the diff of changeset 0 of "d" with "--stat" is empty

  Scenario: core.abbrev and ambiguous prefixes are honoured like git
    Given git config "core.abbrev" is "4"
    And an object shares the first 4 hex digits of the new blob of "src/new_file.py" in "d"
    Then the plan diff of "d" with "" equals git diff with the same options
    Given git config "core.abbrev" is "12"
    Then the plan diff of "d" with "" equals git diff with the same options
    Given git config "core.abbrev" is "no"
    Then the plan diff of "d" with "" equals git diff with the same options
    Given git config "core.abbrev" is "OFF"
    Then the plan diff of "d" with "" equals git diff with the same options
    Given git config "core.abbrev" is "0x9"
    Then the plan diff of "d" with "" equals git diff with the same options
    Given git config "core.abbrev" is "Auto"
    Then the plan diff of "d" with "" equals git diff with the same options

  Scenario Outline: A core.abbrev git refuses (<value>) is refused, naming it
    Given git config "core.abbrev" is "<value>"
    When I run git plan "diff d"
    Then the exit code is 2
    And the output contains "git config core.abbrev is '<value>': git takes auto, false or 4 to 40"

    Examples:
      | value |
      | 41    |
      | 3     |
      | true  |
      | seven |

  Scenario Outline: An object <where> that shares a prefix lengthens the id as git's does
    Given git config "core.abbrev" is "4"
    And an object <where> shares the first 4 hex digits of the new blob of "src/new_file.py" in "d"
    Then the plan diff of "d" with "" equals git diff with the same options

    Examples:
      | where                             |
      | in a pack                         |
      | in an alternate object directory  |

  Scenario: Packed objects of an alternate, in a directory whose name is not UTF-8, lengthen the ids as git's
    Given an alternate object directory named in Latin-1 holds 17000 packed objects
    Then the plan diff of "d" with "" equals git diff with the same options
    And the plan diff of "d" with "--full-index" equals git diff with the same options

  Scenario: Asking for a changeset that does not exist
    When I ask for the diff of changeset 99 of "d"
    Then it fails with exit code 3

  Scenario: A changeset named by its commit id, and names that are too short
    Then the diff of changeset 2 of "d" named by commit id equals its diff by number
    When I ask for the diff of changeset "ab" of "d"
    Then it fails with exit code 2

  Scenario: A word-diff mode git does not know is refused
    When with word diff "sideways" I ask for the diff of "d"
    Then it fails with exit code 2
    And the error mentions "--word-diff takes plain, color or porcelain"

  Scenario: A word regex and a driver's function-name pattern with [[:alpha:]] match the letters of the user's locale, as git's do
    Given the user commits "w.py" with content "x = 1\n\n\n\n\nclass Größe:\n    a = 1\n    b = 2\n    c = 3\n    d = 'café'\n" on main
    And the user commits ".gitattributes" with content "*.py diff=words\n" on main
    And git config "diff.words.wordRegex" is "[[:alpha:]]+"
    And git config "diff.words.xfuncname" is "^class [[:alpha:]]+:$"
    And a plan "w"
    And I record in "w" with tool "t"
      | path | content                                                                      |
      | w.py | x = 1\n\n\n\n\nclass Größe:\n    a = 1\n    b = 2\n    c = 3\n    d = 'cafè'\n |
    When I run git plan "diff w --word-diff" with this environment
      | variable | value   |
      | LANG     | C.UTF-8 |
      | LC_ALL   | <unset> |
    Then standard output is what "git diff BASE TIP --word-diff" prints with that environment, for the base and tip of "w"
    And the output contains "[-café-]{+cafè+}"
    When I run git plan "diff w" with this environment
      | variable | value   |
      | LANG     | C.UTF-8 |
      | LC_ALL   | <unset> |
    Then standard output is what "git diff BASE TIP" prints with that environment, for the base and tip of "w"
    And the output contains "@@ class Größe:"

  Scenario Outline: A change next to a <char> line is placed where git places it (libgit2 counts the character as blank, git does not)
    Given the user commits "ff.c" with content "int a;\n\n<char>\nint b;\n" on main
    And a plan "ff"
    And I record in "ff" with tool "t"
      | path | content                                   |
      | ff.c | int a;\n\n<char>\nint c;\n\n<char>\nint b;\n |
    Then the plan diff of "ff" with "" equals git diff with the same options
    And the diff of changeset 1 of "ff" equals git diff between its parent and it
    And the plan diff of "ff" with "--stat" equals git diff with the same options

    Examples:
      | char |
      | \f   |
      | \v   |

  Scenario: --stat pads names with control and unassigned characters as git counts their columns
    Given git config "core.quotePath" is "false"
    And a plan "cp"
    And I record in "cp" files named with the code points 0097, 0378, 0085, 4e00, 2fffd, fffe, ffff, and a longer name
    Then the plan diff of "cp" with "--stat" equals git diff with the same options

  Scenario: How a submodule's change is shown (--submodule, diff.submodule) and whether at all (--ignore-submodules, diff.ignoreSubmodules) is git's
    Given the base commit has a submodule entry "vendor/lib"
    And a plan "subm"
    And I record in "subm" with tool "rm"
      | path       | content  |
      | vendor/lib | <delete> |
      | other.txt  | o\n      |
    Then git plan diff "subm" --submodule=log -- . run in "." prints what git diff prints there
    And git plan diff "subm" --submodule -- . run in "." prints what git diff prints there
    And git plan diff "subm" --ignore-submodules --stat -- . run in "." prints what git diff prints there
    When I run git plan "diff --submodule subm 1"
    Then the exit code is 0
    And the output contains "Submodule vendor/lib"
    When I run git plan "diff subm --ignore-submodules 1"
    Then the exit code is 0
    And the output does not contain "vendor/lib"
    When git config "diff.submodule" is "log"
    Then git plan diff "subm" -- . run in "." prints what git diff prints there
    And the plan diff of "subm" with "" equals git diff with the same options
    When git config "diff.submodule" is unset
    And git config "diff.ignoreSubmodules" is "all"
    Then git plan diff "subm" --stat -- . run in "." prints what git diff prints there
    And the plan diff of "subm" with "" equals git diff with the same options

  Scenario: diff --json carries the files the diff shows and the text of each output, as git prints them
    When I run git plan "diff d --json"
    Then the exit code is 0
    And the JSON document's "patch" is what "git diff BASE TIP" prints for the base and tip of "d"
    And the JSON document's files are what "git diff --numstat -z BASE TIP" counts for the base and tip of "d"
    When I run git plan "diff d --json --stat --numstat -- src docs"
    Then the JSON document's "stat" is what "git diff --stat BASE TIP -- src docs" prints for the base and tip of "d"
    And the JSON document's "numstat" is what "git diff --numstat BASE TIP -- src docs" prints for the base and tip of "d"
    And the JSON document's files are what "git diff --numstat -z BASE TIP -- src docs" counts for the base and tip of "d"
    And the output contains ""patch": """
    When I run git plan "diff d --json --exit-code"
    Then the JSON error says kind "badinput" with exit code 2
    When I run git plan "diff d --json --diff-filter=A"
    Then the JSON error says kind "badinput" with exit code 2
    When I run git plan "diff d --json -R"
    Then the JSON error says kind "badinput" with exit code 2

  Scenario Outline: A file over core.bigFileThreshold is shown without being read, as git streams it (<command>)
    Given the user sets the repository up with:
      """
      git config core.bigFileThreshold 1m
      head -c 100000000 /dev/zero | tr "\\0" x | fold -w 99 > ../big.txt
      """
    And I run git plan "create big"
    And I run git plan "record big --tool w --set big.txt={tmp}/big.txt"
    When the git-plan program runs "<command>", its peak memory measured
    Then the output contains "<shows>"
    And its peak memory was under 90 MiB

    Examples:
      | command            | shows                                  |
      | diff big --stat    | big.txt \| Bin 0 -> 101010101 bytes    |
      | diff big --numstat | big.txt                                |
      | diff big           | Binary files /dev/null and b/big.txt differ |
      | show big 1         | Binary files /dev/null and b/big.txt differ |
      | status big         | big.txt                                |

