Feature: Real repositories: apply and record see files exactly as git sees them

  Line-ending rules, .gitattributes, clean/smudge filters and sparse checkout
  decide what a file looks like in the worktree. Apply writes what
  `git checkout` would write, record --from-worktree stores what `git add`
  would store, and "uncommitted changes" means what `git status` says.

  Background:
    Given a repository with files
      | path       | content    |
      | README.md  | one\ntwo\n |
      | src/a.txt  | alpha\n    |
      | docs/d.txt | doc\n      |

  Scenario: With core.autocrlf a clean CRLF checkout is not dirty, and apply writes CRLF
    Given the user sets the repository up with:
      """
      git config core.autocrlf true
      rm README.md src/a.txt && git checkout -- README.md src/a.txt
      """
    And a plan "p"
    And I record in "p" with tool "edit"
      | path      | content           |
      | README.md | one\ntwo\nthree\n |
      | new.txt   | new\n             |
    When I apply "p"
    Then it succeeds
    And the worktree file "README.md" is "one\r\ntwo\r\nthree\r\n"
    And the worktree file "new.txt" is "new\r\n"
    And git status is clean
    And HEAD is a new commit whose tree is the plan's tip tree

  Scenario: record --set stores FILE as git add would store it at PATH, so apply leaves git status clean
    Given the user sets the repository up with:
      """
      git config core.autocrlf true
      git config filter.up.clean "tr a-z A-Z"
      git config filter.up.smudge "tr A-Z a-z"
      printf '*.up filter=up\n' > .gitattributes
      printf 'hello\n' > a.up
      git add .gitattributes a.up && git commit -qm filters
      """
    And a plan "p"
    And a file "upper" outside the repository with content "hello world\r\n"
    And a file "crlf" outside the repository with content "one\r\ntwo\r\nthree\r\n"
    And a file "binary" outside the repository with content "\x00\r\n"
    When I run git plan "record p --tool t --set a.up={tmp}/upper --set README.md={tmp}/crlf --set b.bin={tmp}/binary"
    Then the exit code is 0
    And the tip of "p" holds "a.up" as "HELLO WORLD\n"
    And the tip of "p" holds "README.md" as "one\ntwo\nthree\n"
    And the tip of "p" holds "b.bin" as "\x00\r\n"
    When I run git plan "record p --tool t --set src/a.txt=-" with "alpha\r\nbeta\r\n" on standard input
    Then the exit code is 0
    And the tip of "p" holds "src/a.txt" as "alpha\nbeta\n"
    When I apply "p"
    Then it succeeds
    And the worktree file "README.md" is "one\r\ntwo\r\nthree\r\n"
    And git status is clean

  Scenario: record --set keeps the CRLFs of a file committed with them, reads a pipe once, and refuses what git add refuses
    Given the user sets the repository up with:
      """
      printf 'a\r\nb\r\n' > crlf.txt && git add crlf.txt && git commit -qm crlf
      git config core.autocrlf true
      printf '*.u16 working-tree-encoding=UTF-16\n' > .gitattributes
      git add .gitattributes && git commit -qm encoding
      printf 'abc' > ../no-bom
      """
    And a plan "p"
    And a file "more" outside the repository with content "a\r\nb\r\nc\r\n"
    When I run git plan "record p --tool t --set crlf.txt={tmp}/more"
    Then the exit code is 0
    And the tip of "p" holds "crlf.txt" as "a\r\nb\r\nc\r\n"
    When the git-plan program runs "record p --tool t --set piped.txt=<(printf 'x\r\n')" in a shell
    Then the exit code is 0
    And the tip of "p" holds "piped.txt" as "x\n"
    Given the user sets the repository up with:
      """
      git config --unset core.autocrlf
      """
    When I run git plan "record p --tool t --set x.u16={tmp}/no-bom"
    Then the exit code is 1
    And the output contains "BOM is required"
    And plan "p" has 2 changesets

  Scenario: eol=crlf in .gitattributes is honoured, in commit and worktree mode
    Given the user sets the repository up with:
      """
      printf '*.bat text eol=crlf\n' > .gitattributes
      git add .gitattributes && git commit -qm attributes
      """
    And a plan "p"
    And I record in "p" with tool "edit"
      | path    | content          |
      | run.bat | echo 1\necho 2\n |
    When I apply "p" in worktree mode
    Then it succeeds
    And the worktree file "run.bat" is "echo 1\r\necho 2\r\n"
    And git "diff --cached --stat" prints "run.bat | 2 ++"

  Scenario: Smudge filters run on apply; the index holds the clean blob
    Given the user sets the repository up with:
      """
      git config filter.tag.smudge "sed -e 's/^/SMUDGED /'"
      git config filter.tag.clean "sed -e 's/^SMUDGED //'"
      printf '*.tag filter=tag\n' > .gitattributes
      git add .gitattributes && git commit -qm attributes
      """
    And a plan "p"
    And I record in "p" with tool "edit"
      | path  | content |
      | x.tag | hello\n |
    When I apply "p"
    Then it succeeds
    And the worktree file "x.tag" is "SMUDGED hello\n"
    And git status is clean
    And git "cat-file -p HEAD:x.tag" prints "hello"
    And git "cat-file -p HEAD:x.tag" does not print "SMUDGED"

  Scenario: ident expands $Id$ on apply, as checkout does
    Given the user sets the repository up with:
      """
      printf '*.c ident\n' > .gitattributes
      git add .gitattributes && git commit -qm attributes
      """
    And a plan "p"
    And I record in "p" with tool "edit"
      | path | content         |
      | x.c  | /* $Id$ */\n    |
    When I apply "p"
    Then it succeeds
    And the worktree file "x.c" holds "$Id: "
    And git status is clean

  Scenario: Settings that an includeIf "hasconfig:remote.*.url" brings in are read as git reads them (libgit2 skips such sections)
    Given the user sets the repository up with:
      """
      git remote add origin https://work.example.com/team/repo
      printf '[user]\n\tname = Work Me\n\temail = me@work.example\n[core]\n\tautocrlf = true\n[diff]\n\tnoprefix = true\n' > .git/work.cfg
      git config 'includeIf.hasconfig:remote.*.url:https://work.example.com/**.path' work.cfg
      printf 'x\r\ny\r\n' > c.txt
      """
    And a plan "p"
    When I run git plan "record p --tool t --from-worktree c.txt"
    Then the exit code is 0
    And the tip of "p" holds "c.txt" as "x\ny\n"
    And the blobs of "p" for "c.txt" are the ones git add stores
    When I run git plan "diff p"
    Then the output contains "diff --git c.txt c.txt"
    When I run git plan "diff p" with this environment
      | variable              | value                     |
      | GIT_CONFIG_PARAMETERS | 'diff.noprefix'='false'   |
    Then the output contains "diff --git a/c.txt b/c.txt"
    Given a file "empty.cfg" outside the repository with content "\n"
    And the user sets the repository up with:
      """
      rm c.txt
      """
    When with GIT_CONFIG_GLOBAL={tmp}/empty.cfg and no identity in the environment I run the real git plan "apply p"
    Then the exit code is 0
    And HEAD's author is who git names in that environment: "Work Me <me@work.example>"

  Scenario: A store that stays open sees a change to settings an includeIf "hasconfig:" brings in
    Given the user sets the repository up with:
      """
      git remote add origin https://work.example.com/team/repo
      printf '[user]\n\tname = Work Me\n' > .git/work.cfg
      git config 'includeIf.hasconfig:remote.*.url:https://work.example.com/**.path' work.cfg
      """
    And a store of the repository is open, reading "user.name" as "Work Me"
    Then that store reads "user.name" as "Work Me" a second later, as git does
    When the user sets the repository up with:
      """
      printf '[user]\n\tname = Other Name\n' > .git/work.cfg
      """
    Then that store reads "user.name" as "Other Name" a second later, as git does

  Scenario: record --from-worktree stores what git add would store
    Given the user sets the repository up with:
      """
      git config core.autocrlf true
      git config filter.tag.smudge "sed -e 's/^/SMUDGED /'"
      git config filter.tag.clean "sed -e 's/^SMUDGED //'"
      printf '*.tag filter=tag\n' > .gitattributes
      git add .gitattributes && git commit -qm attributes
      printf 'alpha\r\nbeta\r\n' > src/a.txt
      printf 'SMUDGED tagged\n' > y.tag
      printf 'plain\n' > plain.bin
      """
    And a plan "p"
    When I run git plan "record p --tool snapshot --from-worktree src/a.txt y.tag plain.bin"
    Then the exit code is 0
    And the tip of "p" holds "src/a.txt" as "alpha\nbeta\n"
    And the tip of "p" holds "y.tag" as "tagged\n"
    And the tip of "p" holds "plain.bin" as "plain\n"
    And the blobs of "p" for "src/a.txt y.tag plain.bin" are the ones git add stores
    And git fsck --full is clean

  Scenario: record --from-worktree with no paths lists changes as git status does
    Given the user sets the repository up with:
      """
      git config core.autocrlf true
      rm README.md && git checkout -- README.md
      printf 'alpha\r\nchanged\r\n' > src/a.txt
      """
    And a plan "p"
    When I run git plan "record p --tool snapshot --from-worktree"
    Then the exit code is 0
    And the last changeset of "p" changed only "src/a.txt"

  Scenario: A file git status calls clean is not dirty even with a new timestamp
    Given the user sets the repository up with:
      """
      touch -d '2030-01-01' README.md
      """
    And a plan "p"
    And I record in "p" with tool "edit"
      | path      | content           |
      | README.md | one\ntwo\nthree\n |
    When I apply "p"
    Then it succeeds
    And git status is clean

  Scenario: Sparse checkout: paths outside the cone go to the index, not the worktree
    Given the user sets the repository up with:
      """
      git sparse-checkout set src
      """
    And a plan "p"
    And I record in "p" with tool "edit"
      | path         | content   |
      | src/a.txt    | alpha 2\n |
      | docs/d.txt   | doc 2\n   |
      | docs/new.txt | new\n     |
    When I apply "p"
    Then it succeeds
    And the worktree file "src/a.txt" is "alpha 2\n"
    And the worktree has no "docs/d.txt"
    And the worktree has no "docs/new.txt"
    And git "ls-files -t docs" prints "S docs/new.txt"
    And git "show HEAD:docs/d.txt" prints "doc 2"
    And git status is clean

  Scenario: Sparse checkout: a file outside the cone named to record --from-worktree is refused, not recorded as deleted
    Given the user sets the repository up with:
      """
      git sparse-checkout set src
      """
    And a plan "p"
    When I run git plan "record p --tool w --from-worktree docs/d.txt"
    Then the exit code is 2
    And the output contains "docs/d.txt: outside the sparse-checkout definition"
    And plan "p" has 0 changesets
    When I run git plan "record p --tool w --from-worktree"
    Then the exit code is 2
    And the output contains "no changes to record"

  Scenario: Sparse checkout: a file put back by hand outside the cone is left out, and refused when named, as git add does
    Given the user sets the repository up with:
      """
      git sparse-checkout set src
      mkdir -p docs && printf 'by hand\n' > docs/d.txt
      printf 'top\n' > README.md
      printf 'alpha 2\n' > src/a.txt
      """
    And a plan "p"
    When I run git plan "record p --tool w --from-worktree"
    Then the exit code is 0
    And the tip of "p" holds "README.md" as "top\n"
    And the tip of "p" holds "src/a.txt" as "alpha 2\n"
    And the tip of "p" holds "docs/d.txt" as HEAD does
    When I run git plan "record p --tool w --from-worktree docs/d.txt"
    Then the exit code is 2
    And the output contains "docs/d.txt: outside the sparse-checkout definition, so git add would not take it"
    And plan "p" has 1 changesets

  Scenario: Sparse checkout of a nested directory: the files of the directories above it are in the cone, as git takes them
    Given the user sets the repository up with:
      """
      mkdir -p src/deep && printf 'deep\n' > src/deep/x.txt && git add src/deep && git commit -qm deep
      git sparse-checkout set src/deep
      printf 'alpha 2\n' > src/a.txt
      printf 'deep 2\n' > src/deep/x.txt
      mkdir -p docs && printf 'by hand\n' > docs/d.txt
      """
    And a plan "p"
    When I run git plan "record p --tool w --from-worktree"
    Then the exit code is 0
    And the tip of "p" holds "src/a.txt" as "alpha 2\n"
    And the tip of "p" holds "src/deep/x.txt" as "deep 2\n"
    And the tip of "p" holds "docs/d.txt" as HEAD does

  Scenario: apply refuses while a merge is unfinished, keeps the plan, and status --check says so first
    Given a plan "p"
    And I record in "p" with tool "edit"
      | path      | content           |
      | README.md | one\ntwo\nthree\n |
    And the user sets the repository up with:
      """
      git checkout -q -b side
      printf 'side\n' > side.txt
      git add side.txt
      git commit -q -m side
      git checkout -q -
      git merge -q --no-commit --no-ff side
      """
    When I run git plan "status p --check"
    Then the output contains "apply would be refused: a merge, cherry-pick, revert or rebase is in progress"
    When I run git plan "apply p --check"
    Then the exit code is 2
    And the output contains "a merge is in progress (MERGE_HEAD exists)"
    When I run git plan "apply p"
    Then the exit code is 2
    And plan "p" has 1 changesets
    Given the user sets the repository up with:
      """
      git commit -q -m merged
      """
    When I run git plan "apply p"
    Then the exit code is 0
    And git status is clean

  Scenario: status --check and apply --check agree on a dirty file, and call it uncommitted changes
    Given a plan "p"
    And I record in "p" with tool "edit"
      | path      | content           |
      | README.md | one\ntwo\nthree\n |
    And the user edits "README.md" to "mine\n" without committing
    When I run git plan "status p --check"
    Then the output contains "apply would conflict: no"
    And the output contains "apply would be refused: uncommitted changes in README.md"
    When I run git plan "apply p --check"
    Then the exit code is 4
    And the output contains "uncommitted changes in paths the plan would write: README.md (uncommitted changes)"
    And the output does not contain "conflict"
    When I run git plan "status p --check --json"
    Then the JSON output has "apply_refusal" = "dirty" and "dirty_paths" = "README.md"

  Scenario: A failed apply saves the whole plan in a bundle that brings it back
    Given a plan "p"
    And I record in "p" with tool "edit"
      | path      | content           |
      | README.md | one\ntwo\nthree\n |
    And I record a binary file "logo.png" in "p"
    And the user commits "README.md" with content "conflicting\n" on main
    When I apply "p"
    Then it fails with exit code 4
    And ref "refs/changesets/p" does not exist
    And the error shows the command that brings the plan back
    When I run the command the error shows
    Then plan "p" has 2 changesets
    And the binary file "logo.png" in "p" is whole
    And git notes show for changeset 1 of "p" has tool "edit" and 1 files
    And git fsck --full is clean

  Scenario: --set takes a path that holds '=', as git allows it
    Given a plan "p"
    And a file "value.txt" outside the repository with content "v\n"
    And a file "b=c" outside the repository with content "b equals c\n"
    When I run git plan "record p --tool edit --set key=value.txt={tmp}/value.txt --set plain.txt={tmp}/b=c"
    Then the exit code is 0
    And the tip of "p" holds "key=value.txt" as "v\n"
    And the tip of "p" holds "plain.txt" as "b equals c\n"
    When I run git plan "record p --tool edit --set x=y={tmp}/nothing-here"
    Then the exit code is 2
    And the output contains "no such file: "
    And the output contains "/y="

  Scenario: Paths on the command line are taken from the current directory, as git takes them
    Given a plan "p"
    And a file "new-a.txt" outside the repository with content "alpha 2\n"
    When in "src" I run git plan "record p --tool edit --set a.txt={tmp}/new-a.txt --delete ../docs/d.txt"
    Then the exit code is 0
    And the tip of "p" holds "src/a.txt" as "alpha 2\n"
    And the tip of "p" has no "docs/d.txt"
    When in "src" I run git plan "diff p --name-only a.txt"
    Then the exit code is 0
    And the output is "src/a.txt\n"
    When in "src" I run git plan "record p --tool edit --delete ../../outside"
    Then the exit code is 2
    And the output contains "outside the repository"

  Scenario: A repository whose git directory lives elsewhere (git init --separate-git-dir) records its own paths
    Given the repository's git directory is moved elsewhere with git init --separate-git-dir
    And a plan "p"
    And a file "new-a.txt" outside the repository with content "alpha 2\n"
    When in "src" I run git plan "record p --tool edit --set a.txt={tmp}/new-a.txt"
    Then the exit code is 0
    And the tip of "p" holds "src/a.txt" as "alpha 2\n"
    When I run git plan "apply p"
    Then the exit code is 0
    And the worktree file "src/a.txt" is "alpha 2\n"
    And git fsck --full is clean

  Scenario: A diff argument that is neither a changeset nor a path is refused, as git refuses it
    Given a plan "p"
    And I record in "p" with tool "edit"
      | path      | content   |
      | src/a.txt | alpha 2\n |
    When I run git plan "diff p abc"
    Then the exit code is 2
    And the output contains "ambiguous argument 'abc'"
    When I run git plan "diff p --name-only -- abc"
    Then the exit code is 0
    And the output is ""
    When I run git plan "diff p --name-only src"
    Then the output is "src/a.txt\n"
    When I run git plan "diff p --name-only *.txt"
    Then the exit code is 0
    And the output is "src/a.txt\n"
    When I run git plan "diff p --name-only :!src/a.txt"
    Then the exit code is 0
    And the output is ""
    When I run git plan "diff p 1 2"
    Then the exit code is 2
    And the output contains "compared as '1..2'"

  Scenario: A changeset number that is also a file's name is ambiguous until '--' says which, as in git
    Given a plan "p"
    And I record in "p" with tool "edit"
      | path      | content   |
      | src/a.txt | alpha 2\n |
    And the user sets the repository up with:
      """
      printf 'a file named 1\n' > 1
      """
    When I run git plan "diff p 1 --name-only"
    Then the exit code is 2
    And the output contains "ambiguous argument '1': both a changeset of p and a path"
    When I run git plan "diff p 1 --name-only --"
    Then the exit code is 0
    And the output is "src/a.txt\n"
    When I run git plan "diff p --name-only -- 1"
    Then the exit code is 0
    And the output is ""

  Scenario: GIT_DIR and GIT_WORK_TREE point gitplan where they point git
    Given the repository's git directory is moved to "store.git" outside its worktree
    And a file "readme.new" outside the repository with content "new readme\n"
    When elsewhere with GIT_DIR and GIT_WORK_TREE set I run git plan "create p"
    And elsewhere with GIT_DIR and GIT_WORK_TREE set I run git plan "record p --tool edit --set README.md={tmp}/readme.new"
    Then the exit code is 0
    When elsewhere with GIT_DIR and GIT_WORK_TREE set I run git plan "apply p"
    Then the exit code is 0
    And the worktree file "README.md" is "new readme\n"
    And git with GIT_DIR and GIT_WORK_TREE set shows a clean status and README.md at HEAD is "new readme"

  Scenario: GIT_INDEX_FILE names the index apply checks and writes, taken from the top of the worktree as git takes it
    Given a plan "p"
    And I record in "p" with tool "edit"
      | path      | content   |
      | src/a.txt | alpha 2\n |
    And the user sets the repository up with:
      """
      cp .git/index .git/tool-index
      printf 'staged\n' > src/a.txt
      GIT_INDEX_FILE=.git/tool-index git add src/a.txt
      git checkout -- src/a.txt
      """
    When with GIT_INDEX_FILE set to ".git/tool-index" I run git plan "apply p --check" in "docs"
    Then the exit code is 4
    And the output contains "src/a.txt (staged changes)"
    When with GIT_INDEX_FILE set to ".git/tool-index" I run git plan "status p --check" in "docs"
    Then the output contains "apply would be refused: uncommitted changes in src/a.txt"
    When the user sets the repository up with:
      """
      GIT_INDEX_FILE=.git/tool-index git reset -q
      """
    And with GIT_INDEX_FILE set to ".git/tool-index" I run git plan "apply p" in "docs"
    Then the exit code is 0
    And the worktree file "src/a.txt" is "alpha 2\n"
    And git with GIT_INDEX_FILE set to ".git/tool-index" prints "" for "status --porcelain"
    And git with GIT_INDEX_FILE set to ".git/tool-index" prints "alpha 2\n" for "show :src/a.txt"
    And git "show :src/a.txt" prints "alpha\n"

  Scenario: record --from-worktree asks the index GIT_INDEX_FILE names what changed and what it hides
    Given a plan "p"
    And the user sets the repository up with:
      """
      cp .git/index .git/tool-index
      GIT_INDEX_FILE=.git/tool-index git update-index --assume-unchanged src/a.txt
      printf 'alpha 2\n' > src/a.txt
      """
    When with GIT_INDEX_FILE set to ".git/tool-index" I run git plan "record p --tool snapshot --from-worktree" in "."
    Then the exit code is 2
    And the output contains "the working tree has no changes to record"
    When with GIT_INDEX_FILE set to ".git/tool-index" I run git plan "record p --tool snapshot --from-worktree src/a.txt" in "."
    Then the exit code is 2
    And the output contains "the index hides its changes from git status and git add"
    When I run git plan "record p --tool snapshot --from-worktree"
    Then the exit code is 0
    And the tip of "p" holds "src/a.txt" as "alpha 2\n"

  Scenario: A file name that is not UTF-8 is recorded from the worktree and named as git names it
    Given the user sets the repository up with:
      """
      printf 'bytes\n' > "$(printf 'caf\351.txt')"
      printf 'tab\n' > "$(printf 'a\tb.txt')"
      """
    And a plan "p"
    When I run git plan "record p --tool snapshot --from-worktree"
    Then the exit code is 0
    When I run git plan "diff p --name-only"
    Then the output is ""a\\tb.txt"\n"caf\\351.txt"\n"
    When I run git plan "status p --json"
    Then the exit code is 0
    When I run git plan "status p"
    Then the output contains "added      "caf\351.txt" (+1 -0)"
    And the output contains "added      "a\tb.txt" (+1 -0)"
    When I run git plan "log p"
    Then the output contains "added      "caf\351.txt" (+1 -0)"
    And the output contains "added      "a\tb.txt" (+1 -0)"
    Given the user sets the repository up with:
      """
      git config core.quotePath false
      """
    When I run git plan "status p"
    Then the output contains "added      "a\tb.txt" (+1 -0)"
    And the output does not contain "caf\351.txt"

  Scenario: Apply is refused while the index has unresolved merge conflicts
    Given the index has an unresolved conflict in "docs/d.txt"
    And a plan "p"
    And I record in "p" with tool "edit"
      | path      | content   |
      | src/a.txt | alpha 2\n |
    When I apply "p" keeping it on failure
    Then it fails with exit code 2
    And the error mentions "unresolved merge conflicts"

  Scenario: record --from-worktree of a CRLF file whose LF content is already stored
    Given the user sets the repository up with:
      """
      git config core.autocrlf true
      printf 'alpha\r\n' > src/a.txt
      """
    And a plan "p"
    When I run git plan "record p --tool snapshot --from-worktree src/a.txt"
    Then the exit code is 0
    And the tip of "p" holds "src/a.txt" as "alpha\n"

  Scenario: record --from-worktree keeps the CRLFs of a file committed with them, as git add does
    Given the user sets the repository up with:
      """
      printf 'one\r\ntwo\r\n' > crlf.txt
      printf 'one\r\ntwo\r\n' > kept.auto
      git add crlf.txt kept.auto && git commit -qm 'files with CRLF'
      printf '*.auto text=auto\n' > .gitattributes
      git add .gitattributes && git commit -qm 'text=auto'
      git config core.autocrlf true
      printf 'one\r\ntwo\r\nthree\r\n' > crlf.txt
      printf 'one\r\ntwo\r\nthree\r\n' > kept.auto
      printf 'alpha\r\nbeta\r\n' > src/a.txt
      """
    And a plan "p"
    When I run git plan "record p --tool snapshot --from-worktree crlf.txt kept.auto src/a.txt"
    Then the exit code is 0
    And the tip of "p" holds "crlf.txt" as "one\r\ntwo\r\nthree\r\n"
    And the tip of "p" holds "kept.auto" as "one\r\ntwo\r\nthree\r\n"
    And the tip of "p" holds "src/a.txt" as "alpha\nbeta\n"
    And git "add crlf.txt kept.auto src/a.txt" stores what the tip of "p" holds for them
    Given the user sets the repository up with:
      """
      git commit -qm 'as git add stored them'
      """
    And a plan "q"
    When I run git plan "record q --tool snapshot --from-worktree crlf.txt kept.auto src/a.txt"
    Then the output contains "snapshot: no file changes"

  Scenario: record --from-worktree of a conflicted file keeps the CRLFs of "ours", as git add does, and leaves a split index alone
    Given the user sets the repository up with:
      """
      printf 'one\r\ntwo\r\n' > f.txt
      git add f.txt && git commit -qm crlf
      git checkout -qb other && printf 'one\r\nother\r\n' > f.txt && git commit -qam other
      git checkout -q - && printf 'one\r\nmain\r\n' > f.txt && git commit -qam main
      git config core.autocrlf true
      git config core.splitIndex true && git update-index --split-index
      git merge -q other 2>/dev/null || true
      printf 'one\r\nresolved\r\n' > f.txt
      """
    And I note the shared index files in the git directory
    And a plan "p"
    When I run git plan "record p --tool snapshot --from-worktree f.txt"
    Then the exit code is 0
    And the tip of "p" holds "f.txt" as "one\r\nresolved\r\n"
    And no shared index file was added to the git directory
    And git "add f.txt" stores what the tip of "p" holds for them

  Scenario: Two failed applies in the same second keep both rescues
    Given a plan "p"
    And I record in "p" with tool "edit"
      | path      | content           |
      | README.md | one\ntwo\nthree\n |
    And the user commits "README.md" with content "conflicting\n" on main
    When I apply "p" keeping it on failure
    And I apply "p" keeping it on failure
    Then there are 2 rescue bundles of "p"

  Scenario: A plan named with dots keeps each failed apply's rescue under its whole name
    Given a plan "v1.2"
    And I record in "v1.2" with tool "edit"
      | path      | content           |
      | README.md | one\ntwo\nthree\n |
    And the user commits "README.md" with content "conflicting\n" on main
    When I apply "v1.2" keeping it on failure
    And I apply "v1.2" keeping it on failure
    Then there are 2 rescue bundles of "v1.2"

  Scenario: GIT_WORK_TREE alone names the working tree; a GIT_DIR that is no repository is not found
    Given a file "readme.new" outside the repository with content "new readme\n"
    When with GIT_DIR set to "{tmp}/no-such-dir" I run git plan "status nosuch"
    Then the exit code is 3
    And the output contains "not a git repository: GIT_DIR="
    When from the .git directory with GIT_WORK_TREE set to the repository I run git plan "create p"
    Then the exit code is 0
    When with GIT_DIR set to "{repo}/.git" I run git plan "list" from the top of the worktree
    Then the exit code is 0
    And the output contains "p "

  Scenario: A smudge filter that fails half way: what git wrote is put back and the plan is kept
    Given the user sets the repository up with:
      """
      printf '*.tag filter=broken\n' > .gitattributes
      git config filter.broken.clean cat
      git config filter.broken.smudge cat
      git config filter.broken.required true
      printf 'tagged\n' > z.tag
      git add .gitattributes z.tag && git commit -qm attributes
      git config filter.broken.smudge false
      """
    And a plan "p"
    And I record in "p" with tool "edit"
      | path      | content   |
      | src/a.txt | alpha 2\n |
      | z.tag     | tagged 2\n |
    When I apply "p" keeping it on failure
    Then it fails with exit code 1
    And the error mentions "were put back; not put back: z.tag (git could not check it out)"
    And the worktree file "src/a.txt" is "alpha\n"
    And git "status --porcelain" prints " D z.tag"
    And git "status --porcelain" does not print "a.txt"
    And plan "p" has 1 changesets

  Scenario: record --from-worktree with no paths takes staged changes too, as git status lists them
    Given the user sets the repository up with:
      """
      printf 'staged\n' > staged.txt && git add staged.txt
      git rm -q docs/d.txt
      """
    And a plan "p"
    When I run git plan "record p --tool snapshot --from-worktree"
    Then the exit code is 0
    And the tip of "p" holds "staged.txt" as "staged\n"
    And the tip of "p" has no "docs/d.txt"

  Scenario: record --from-worktree passes over a file added to the index, or with git add -N, then deleted, as git add -A does
    Given the user sets the repository up with:
      """
      printf 'changed\n' > README.md
      printf 'staged\n' > s.txt && git add s.txt && rm s.txt
      printf 'intent\n' > n.txt && git add -N n.txt && rm n.txt
      """
    And a plan "p"
    When I run git plan "record p --tool snapshot --from-worktree"
    Then the exit code is 0
    And the last changeset of "p" changed only "README.md"
    When I run git plan "record p --tool snapshot --from-worktree n.txt s.txt"
    Then the exit code is 0
    And the output contains "no file changes"
    When I run git plan "record p --tool snapshot --from-worktree nothing.txt"
    Then the exit code is 2
    And the output contains "nothing.txt"

  Scenario: record --from-worktree refuses a named file the ignore rules exclude, as git add does, unless --force
    Given the user sets the repository up with:
      """
      printf '*.env\n' > .gitignore && git add .gitignore && git commit -qm ignore
      printf 'SECRET=1\n' > .env
      printf 'changed\n' > README.md
      """
    And a plan "p"
    When I run git plan "record p --tool snapshot --from-worktree README.md .env"
    Then the exit code is 2
    And the output contains ".env: ignored by the repository's ignore rules"
    And the output contains "--force"
    And plan "p" has 0 changesets
    When I run git plan "record p --tool snapshot --from-worktree ."
    Then the exit code is 0
    And the last changeset of "p" changed only "README.md"
    When I run git plan "record p --tool snapshot --from-worktree --force .env"
    Then the exit code is 0
    And the tip of "p" holds ".env" as "SECRET=1\n"

  Scenario: record --from-worktree deletes a file taken out of the index and ignored since, as git add -A does
    Given the user sets the repository up with:
      """
      git rm -q --cached docs/d.txt
      printf 'docs/d.txt\n' >> .git/info/exclude
      printf 'readme\n' > README.md && git rm -q --cached README.md
      printf 'changed\n' > src/a.txt
      """
    And a plan "p"
    When I run git plan "record p --tool snapshot --from-worktree"
    Then the exit code is 0
    And the tip of "p" has no "docs/d.txt"
    And the tip of "p" holds "README.md" as "readme\n"
    And the tip of "p" holds "src/a.txt" as "changed\n"

  Scenario: An absolute path on the command line is taken from the top of the working tree
    Given a plan "p"
    When in "src" I run git plan "record p --tool edit --delete {repo}/docs/d.txt"
    Then the exit code is 0
    And the tip of "p" has no "docs/d.txt"
    When in "src" I run git plan "record p --tool edit --delete /etc/hostname"
    Then the exit code is 2
    And the output contains "outside the repository"

  Scenario: GIT_CEILING_DIRECTORIES stops the search for the repository, as in git
    When in "src" with GIT_CEILING_DIRECTORIES set to the repository I run git plan "list"
    Then the exit code is 3
    And the output contains "not a git repository"

  Scenario: Paths behind a symlink, with a leading quote, or not a changeset number get one-line answers
    Given the user sets the repository up with:
      """
      ln -s src linked
      printf 'q\n' > '"quoted.txt'
      """
    And a plan "p"
    When I run git plan "record p --tool t --from-worktree linked/a.txt"
    Then the exit code is 2
    And the output contains "beyond a symbolic link (linked)"
    When I run git plan "record p --tool t --from-worktree "\"quoted.txt""
    Then the exit code is 0
    And the tip of "p" holds ""quoted.txt" as "q\n"
    When I run git plan "diff p 9"
    Then the exit code is 3
    And the output contains "has no changeset 9"

  Scenario: A sparse checkout survives an apply that is put back: outside the cone stays unmaterialised
    Given the user sets the repository up with:
      """
      git sparse-checkout set src
      """
    And HEAD is on main
    And a plan "p"
    And I record in "p" with tool "edit"
      | path       | content   |
      | src/a.txt  | alpha 2\n |
      | docs/d.txt | doc 2\n   |
    And the user's branch moves to a new commit just before apply's commit point
    When I apply "p" keeping it on failure
    Then it fails with exit code 4
    And git "ls-files -t docs" prints "S docs/d.txt"
    And the worktree has no "docs/d.txt"
    And the worktree file "src/a.txt" is "alpha\n"

  Scenario: In a sparse checkout, a file outside the cone that the user keeps on disk is left as it is, as git leaves it, and no check refuses it
    Given a plan "p"
    And I record in "p" with tool "edit"
      | path       | content   |
      | src/a.txt  | alpha 2\n |
      | README.md  | one\n     |
    And the user sets the repository up with:
      """
      git sparse-checkout set --no-cone src
      git config sparse.expectFilesOutsideOfPatterns true
      printf 'mine\n' > README.md
      git update-index --skip-worktree README.md
      """
    When I run git plan "apply p --check"
    Then the exit code is 0
    When I run git plan "apply p"
    Then the exit code is 0
    And the worktree file "README.md" is "mine\n"
    And the worktree file "src/a.txt" is "alpha 2\n"

  Scenario: A bare repository: paths are taken from the top, an absolute path has no working tree
    Given a bare clone of the repository
    And a file "readme.new" outside the repository with content "new readme\n"
    When I run git plan "create q" in the bare clone
    And I run git plan "record q --tool t --set README.md={tmp}/readme.new" in the bare clone
    Then the exit code is 0
    When I run git plan "diff q --name-only -- README.md" in the bare clone
    Then the output is "README.md\n"
    When I run git plan "diff q" in the bare clone
    Then the output contains "+new readme"
    When I run git plan "record q --tool t --delete /etc/hostname" in the bare clone
    Then the exit code is 2
    And the output contains "needs a working tree"

  Scenario: In a bare repository status --check says what apply --check says: refused, --mode branch is needed
    Given a bare clone of the repository
    And a file "readme.new" outside the repository with content "new readme\n"
    When I run git plan "create q" in the bare clone
    And I run git plan "record q --tool t --set README.md={tmp}/readme.new" in the bare clone
    And I run git plan "apply q --check" in the bare clone
    Then the exit code is 2
    And the output contains "needs a working tree; this repository is bare: use --mode branch NAME"
    When I run git plan "status q --check" in the bare clone
    Then the exit code is 0
    And the output contains "apply would conflict: no"
    And the output contains "apply would be refused: there is no working tree here (a bare repository, or inside its git directory): use --mode branch NAME"
    When I run git plan "status q --check --json" in the bare clone
    Then the output contains ""apply_refusal": "bare""
    And the output contains ""apply_would_conflict": false"
    When I run git plan "apply q --check --mode branch b" in the bare clone
    Then the exit code is 0

  Scenario: record --from-worktree records an unmerged path from its worktree file, as git add would
    Given the index has an unresolved conflict in "docs/d.txt"
    And the user sets the repository up with:
      """
      printf 'resolved\n' > docs/d.txt
      """
    And a plan "p"
    When I run git plan "record p --tool resolve --from-worktree"
    Then the exit code is 0
    And the tip of "p" holds "docs/d.txt" as "resolved\n"

  Scenario: Settings given with git -c reach git plan, ahead of the config files, as git reads them
    # git hands `git -c key=value plan ...` down in GIT_CONFIG_PARAMETERS (and `git config`'s
    # GIT_CONFIG_COUNT, read first, so -c wins); libgit2 reads neither. A key given alone
    # (`'key'=`, as git writes it) is true; a subsection keeps its case.
    Given git config "diff.context" is "3"
    And the user commits "n.txt" with content "1\n2\n3\n4\n5\n6\n7\n8\n9\n" on main
    And the agent writes ".gitattributes" as "*.up diff=Upper\n" in the worktree
    And a file "long.txt" outside the repository with content "1\n2\n3\n4\nfive\n6\n7\n8\n9\n"
    And a file "a.up" outside the repository with content "hello\n"
    And a file "big.bin" outside the repository with content "0123456789012345678901234567890123456789"
    And a plan "p"
    When I run git plan "record p --tool t --set n.txt={tmp}/long.txt --set x.up={tmp}/a.up --arg ticket=internal-4711"
    Then the exit code is 0
    When I run git plan "diff p" with this environment
      | variable              | value                                                              |
      | GIT_CONFIG_PARAMETERS | 'diff.noprefix'= 'Core.Abbrev'='12' 'diff.Upper.textconv'='tr a-z A-Z <' 'diff.UPPER.textconv'='tr h J' 'diff.context'='1' |
      | GIT_CONFIG_COUNT      | 1                                                                  |
      | GIT_CONFIG_KEY_0      | diff.context                                                       |
      | GIT_CONFIG_VALUE_0    | 0                                                                  |
    Then the exit code is 0
    And standard output is what "git diff BASE TIP" prints with that environment, for the base and tip of "p"
    And the output contains "+HELLO"
    And the output contains "--- n.txt"
    And the output contains "@@ -4,3 +4,3 @@"
    When I run git plan "record p --tool t --set big.bin={tmp}/big.bin --arg ticket=internal-4711" with this environment
      | variable              | value                        |
      | GIT_CONFIG_PARAMETERS | 'plan.redact'='internal-[0-9]+' |
    Then the exit code is 0
    And the note of changeset 2 of "p" does not contain "internal-4711"
    # The plan's checks start from its verified mark, which each record here moved on:
    # without it, they read the whole plan, and the plan.verify settings bound that.
    Given the verified mark of "p" is removed
    When I run git plan "diff p --stat" with this environment
      | variable              | value                                           |
      | GIT_CONFIG_PARAMETERS | 'plan.verify.maxChangesets'='0k' 'color.ui'='off' |
    Then the output contains "more than 0 changesets"
    When I run git plan "status p" with this environment
      | variable              | value                             |
      | GIT_CONFIG_PARAMETERS | 'plan.verify.maxFileSize'='lots' |
    Then the exit code is 2
    And the output contains "git config plan.verify.maxFileSize is not a number: 'lots'"

  Scenario: A failed apply in a linked worktree keeps its rescue where removing that worktree cannot take it
    Given a plan "p"
    And I record in "p" with tool "edit"
      | path      | content |
      | README.md | plan\n  |
    And a linked worktree of the repository
    And in the linked worktree "README.md" has uncommitted content "mine\n"
    When I run git plan "apply p" in the linked worktree
    Then the exit code is 4
    And ref "refs/changesets/p" does not exist
    And there are 1 rescue bundles of "p"
    When the linked worktree is removed with git worktree remove --force
    And I run the command the output shows to bring the plan back
    Then plan "p" has 1 changesets
    And git fsck --full is clean

  Scenario: In a repository shared with its group, what gitplan writes there gets the permissions git gives, whatever the umask
    Given the repository is shared with its group
    And a file "new.txt" outside the repository with content "shared\n"
    When with umask 077 I run the real git plan "create p"
    And with umask 077 I run the real git plan "record p --tool edit --set README.md={tmp}/new.txt"
    And with umask 077 I run the real git plan "create q"
    And with umask 077 I run the real git plan "gc"
    And with umask 077 I run the real git plan "run p --tool gen -- sh -c 'echo made > made.txt'"
    And with umask 077 I run the real git plan "run p --tool gen -- sh -c 'echo again > made.txt'"
    And with umask 077 I run the real git plan "apply p"
    And with umask 077 git runs "pack-refs --all"
    And with umask 077 I run the real git plan "cancel q"
    Then the exit code is 0
    And the group may read and write all gitplan made under .git since it was shared, as git makes it
    And "README.md" in the worktree has mode 600, the user's umask

  Scenario Outline: core.sharedRepository <value> gives the refs gitplan makes the modes git gives its own
    Given core.sharedRepository is "<value>"
    When with umask 077 git makes the ref "refs/made-by-git/x" and gitplan makes the plan "p"
    Then "refs/changesets/p" and its directory have the modes of "refs/made-by-git/x" and its directory

    Examples:
      | value    |
      | group    |
      | all      |
      | everybody|
      | 0640     |
      | 0664     |
      | 2        |
      | true     |
      | umask    |
      | false    |
      | 0600     |
      | 19       |
      | 0x1      |
      | 1k       |
      | (the key alone) |

  Scenario Outline: A core.sharedRepository value git refuses (<value>) is refused, as git refuses it
    Given core.sharedRepository is "<value>"
    When I run git plan "list"
    Then the exit code is 2
    And the output contains "<message>"

    Examples:
      | value | message                                                        |
      | 0400  | problem with core.sharedRepository filemode value (0400)       |
      | maybe | bad boolean config value 'maybe' for 'core.sharedRepository'   |
      | 08    | bad boolean config value '08' for 'core.sharedRepository'      |

  Scenario: GIT_CONFIG_GLOBAL names the global config file, and gitplan reads it as git does
    Given a plan "p"
    And I record in "p" with tool "edit"
      | path      | content  |
      | README.md | global\n |
    And a file "global.cfg" outside the repository with content "[include]\n\tpath = who.cfg\n[diff]\n\tnoprefix = true\n"
    And a file "who.cfg" outside the repository with content "[user]\n\tname = From Global Var\n\temail = gv@example.com\n"
    When with GIT_CONFIG_GLOBAL={tmp}/global.cfg and no identity in the environment I run the real git plan "diff p"
    Then the output is what git diff of the base and tip of "p" prints in that environment
    And the output contains "--- README.md"
    When with GIT_CONFIG_GLOBAL={tmp}/global.cfg and no identity in the environment I run the real git plan "apply p"
    Then the exit code is 0
    And HEAD's author is who git names in that environment: "From Global Var <gv@example.com>"

  Scenario: GIT_DIR naming a .git file, as a submodule or a linked worktree has, is followed to the repository it names, as git follows it
    Given a repository with a submodule "lib" whose checkout has uncommitted changes
    When in "{repo}/lib" with GIT_DIR=.git I run "git status --porcelain" with the real git
    Then the output is " M l.txt\n"
    When in "{repo}/lib" with GIT_DIR=.git I run "git plan create s" with the real git
    Then the exit code is 0
    When in "{repo}/lib" I run "git --git-dir=.git plan record s --tool t --from-worktree" with the real git
    Then the exit code is 0
    When in "{repo}/lib" I run "git --git-dir=.git plan diff s --name-only" with the real git
    Then the output is "l.txt\n"
    Given a linked worktree "wt" of the repository
    When in "{tmp}" with GIT_DIR={tmp}/wt/.git I run "git rev-parse --git-dir" with the real git
    Then the output contains "/repo/.git/worktrees/wt"
    When in "{tmp}" with GIT_DIR={tmp}/wt/.git I run "git plan create w" with the real git
    Then the exit code is 0
    When in "{repo}" I run "git plan list" with the real git
    Then the output contains "w "

  Scenario: Objects lent by GIT_ALTERNATE_OBJECT_DIRECTORIES are read, as git reads them; a GIT_OBJECT_DIRECTORY elsewhere is refused
    # gitplan writes a plan's objects into the repository's own object directory and prunes
    # them there: objects kept elsewhere (a push's quarantine, which git drops) would leave
    # its refs dangling.
    Given the user sets the repository up with:
      """
      git clone -q --shared . ../thin && rm ../thin/.git/objects/info/alternates
      """
    And a file "readme.new" outside the repository with content "new readme\n"
    When in "{tmp}/thin" I run "git log --oneline -1" with the real git
    Then the exit code is 128
    When in "{tmp}/thin" with GIT_ALTERNATE_OBJECT_DIRECTORIES={repo}/.git/objects I run "git log --oneline -1" with the real git
    Then the exit code is 0
    When in "{tmp}/thin" with GIT_ALTERNATE_OBJECT_DIRECTORIES=../repo/.git/objects I run "git plan create p" with the real git
    Then the exit code is 0
    When in "{tmp}/thin" with GIT_ALTERNATE_OBJECT_DIRECTORIES={repo}/.git/objects I run "git plan record p --tool t --set README.md={tmp}/readme.new" with the real git
    Then the exit code is 0
    When in "{tmp}/thin" with GIT_ALTERNATE_OBJECT_DIRECTORIES={repo}/.git/objects I run "git plan apply p" with the real git
    Then the exit code is 0
    When in "{tmp}/thin" with GIT_ALTERNATE_OBJECT_DIRECTORIES={repo}/.git/objects I run "git status --porcelain" with the real git
    Then the output is ""
    When in "{tmp}/thin" with GIT_ALTERNATE_OBJECT_DIRECTORIES={repo}/.git/objects I run "git diff --stat HEAD~1 HEAD" with the real git
    Then the output contains "README.md | 3 +--"
    When in "{tmp}/thin" with GIT_ALTERNATE_OBJECT_DIRECTORIES='#lent::"{repo}/.git/ob\152ects"' I run "git log --oneline -1" with the real git
    Then the exit code is 0
    When in "{tmp}/thin" with GIT_ALTERNATE_OBJECT_DIRECTORIES='#lent::"{repo}/.git/ob\152ects"' I run "git plan diff p --stat" with the real git
    Then the exit code is 0
    And the output contains "README.md | 3 +--"
    When in "{tmp}/thin" with GIT_OBJECT_DIRECTORY=.git/objects I run "git plan list" with the real git
    Then the exit code is 0
    When in "{tmp}/thin" with GIT_OBJECT_DIRECTORY={repo}/.git/objects I run "git plan list" with the real git
    Then the exit code is 2
    And the output contains "/repo/.git/objects is not this repository's object directory"

  Scenario: A repository another user owns is refused as git refuses it, unless safe.directory names it
    Given the repository belongs to another user
    And a file "trusting.cfg" outside the repository with content "[safe]\n\tdirectory = *\n"
    When in "{repo}" I run "git status" with the real git
    Then the exit code is 128
    And the output contains "detected dubious ownership"
    When in "{repo}" I run "git plan list" with the real git
    Then the exit code is 3
    And the output names the repository "{repo}"
    And the output contains "git config --global --add safe.directory "
    When in "{repo}" I run "git -c safe.directory={repo} plan list" with the real git
    Then the exit code is 0
    When in "{repo}" with GIT_CONFIG_GLOBAL={tmp}/trusting.cfg I run "git plan list" with the real git
    Then the exit code is 0
    When in "{repo}" I run "git -c safe.directory=* -c safe.directory= plan list" with the real git
    Then the exit code is 3
    # From inside the git directory, the git directory is the one safe.directory must name.
    When in "{repo}/.git" I run "git -c safe.directory={repo} log --oneline" with the real git
    Then the exit code is 128
    When in "{repo}/.git" I run "git -c safe.directory={repo} plan list" with the real git
    Then the exit code is 3
    And the output names the repository "{repo}/.git"
    # What GIT_DIR names is not checked.
    When in "{tmp}" with GIT_DIR={repo}/.git I run "git log --oneline" with the real git
    Then the exit code is 0
    When in "{tmp}" with GIT_DIR={repo}/.git I run "git plan list" with the real git
    Then the exit code is 0

  Scenario: Opening stores from many threads at once leaves libgit2's owner check as it was
    # gitplan checks ownership as git does and turns libgit2's own check off while it
    # opens: a process-wide switch, which threads opening together used to leave off.
    When 8 threads each open the store 200 times
    Then libgit2's owner check is as it was before

  Scenario: Inside the git directory there is no work tree, as in git: plans are read there, and what needs a work tree is refused
    Given a plan "p"
    And a file "readme.new" outside the repository with content "new readme\n"
    And the agent writes "README.md" as "changed\n" in the worktree
    When in "{repo}/.git" I run "git add README.md" with the real git
    Then the exit code is 128
    And the output contains "this operation must be run in a work tree"
    When in "{repo}/.git" I run "git plan record p --tool t --from-worktree" with the real git
    Then the exit code is 2
    And the output contains "inside the git directory"
    When in "{repo}/.git" I run "git plan apply p" with the real git
    Then the exit code is 2
    # Paths are taken from the top there, as git takes them.
    When in "{repo}/.git" I run "git log --oneline -- ../README.md" with the real git
    Then the exit code is 128
    When in "{repo}/.git" I run "git plan record p --tool t --set ../README.md={tmp}/readme.new" with the real git
    Then the exit code is 2
    And the output contains "outside the repository"
    When in "{repo}/.git" I run "git plan record p --tool t --set README.md={tmp}/readme.new" with the real git
    Then the exit code is 0
    When in "{repo}/.git" I run "git plan diff p --name-only" with the real git
    Then the output is "README.md\n"
    When in "{repo}/.git" I run "git plan log p --oneline" with the real git
    Then the exit code is 0
    When in "{repo}/.git" I run "git plan status p" with the real git
    Then the exit code is 0

  Scenario: With GIT_CONFIG_GLOBAL naming a .gitconfig elsewhere, the XDG config file is not read but the XDG attributes are, as git reads them
    Given a plan "p"
    And I record in "p" with tool "edit"
      | path      | content  |
      | README.md | global\n |
    And the user's XDG git file "config" holds "[diff]\n\tnoprefix = true\n"
    And the user's XDG git file "attributes" holds "*.md -diff\n"
    And a file "elsewhere/.gitconfig" outside the repository with content "[user]\n\tname = Else\n\temail = e@example.com\n"
    When with GIT_CONFIG_GLOBAL={tmp}/elsewhere/.gitconfig and no identity in the environment I run the real git plan "diff p"
    Then the output is what git diff of the base and tip of "p" prints in that environment
    And the output contains "Binary files a/README.md and b/README.md differ"
