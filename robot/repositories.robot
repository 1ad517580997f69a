*** Settings ***
Documentation     Real repositories as users have them: line endings, subdirectories, odd names,
...               no commit yet, and the rescue of a failed apply. Checked with the real git binary.
Resource          resources.resource
Test Setup        Fresh Repository
Test Teardown     Remove Repository

*** Test Cases ***
Apply With Autocrlf Writes CRLF And Leaves Git Status Clean
    Git    config    core.autocrlf    true
    Remove File    ${REPO}/README.md
    Git    checkout    --    README.md
    Git Status Is Clean
    Plan    create    crlf
    Create File    ${TMP}/readme    hello\nworld\nagain\n
    Plan    record    crlf    --tool    edit    --set    README.md\=${TMP}/readme
    Plan    apply    crlf
    ${bytes}=    Get Binary File    ${REPO}/README.md
    Should Be Equal    ${bytes}    ${{b"hello\r\nworld\r\nagain\r\n"}}
    Git Status Is Clean
    Fsck Is Clean

Record From The Worktree Stores What git add Stores Under Autocrlf
    Create File    ${REPO}/crlf.txt    one\r\ntwo\r\n
    Git    add    crlf.txt
    Git    commit    -q    -m    committed with CRLFs
    Git    config    core.autocrlf    true
    Create File    ${REPO}/crlf.txt    one\r\ntwo\r\nthree\r\n
    Create File    ${REPO}/README.md    hello\r\nagain\r\n
    Plan    create    eol
    Plan    record    eol    --tool    snapshot    --from-worktree    crlf.txt    README.md
    Git    add    crlf.txt    README.md
    FOR    ${name}    IN    crlf.txt    README.md
        ${staged}=    Git    rev-parse    :${name}
        ${recorded}=    Git    rev-parse    refs/changesets/eol:${name}
        Should Be Equal    ${recorded}    ${staged}    ${name}
    END
    ${size}=    Git    cat-file    -s    refs/changesets/eol:crlf.txt
    Should Be Equal    ${size}    17    the CRLFs are kept: 14 bytes would be LFs
    Fsck Is Clean

Apply Refuses A Path The User Staged, Names It, And Leaves The Index As It Was
    Plan    create    staged
    Create File    ${TMP}/readme    from the plan\n
    Plan    record    staged    --tool    edit    --set    README.md\=${TMP}/readme
    Create File    ${REPO}/README.md    mine, staged\n
    Git    add    README.md
    ${head}=    Git    rev-parse    HEAD
    ${refused}=    Plan Exits With    4    apply    staged    --keep-on-failure
    Should Contain    ${refused.stderr}    README.md (staged changes)
    ${staged}=    Git    diff    --cached    --name-only
    Should Be Equal    ${staged}    README.md
    ${shown}=    Git    show    :README.md
    Should Be Equal    ${shown}    mine, staged
    ${after}=    Git    rev-parse    HEAD
    Should Be Equal    ${after}    ${head}
    Fsck Is Clean

Paths Are Taken From The Current Directory
    Plan    create    sub
    Create File    ${TMP}/app.py    print("v2")\n
    ${result}=    Run Process    git    plan    record    sub    --tool    edit    --set    app.py\=${TMP}/app.py
    ...    cwd=${REPO}/src
    Should Be Equal As Integers    ${result.rc}    0    ${result.stderr}
    ${names}=    Run Process    git    plan    diff    sub    --name-only    app.py    cwd=${REPO}/src
    Should Be Equal    ${names.stdout}    src/app.py

A Failed Apply Prints The Command That Brings The Whole Plan Back
    Plan    create    lost
    Create File    ${TMP}/readme    mine\n
    Plan    record    lost    --tool    edit    --set    README.md\=${TMP}/readme
    Create File    ${TMP}/blob    ${{"\\x00binary\\x01"}}
    Plan    record    lost    --tool    render    --set    logo.bin\=${TMP}/blob
    Create File    ${REPO}/README.md    theirs\n
    Git    commit    -q    -am    theirs
    ${failed}=    Plan Exits With    4    apply    lost
    Should Contain    ${failed.stderr}    was cancelled
    ${restore}=    Get Regexp Matches    ${failed.stderr}    (?m)^\\s\\s(git fetch .*)$    1
    ${restored}=    Run Process    ${restore}[0]    shell=True    cwd=${REPO}
    Should Be Equal As Integers    ${restored.rc}    0    ${restored.stderr}
    ${log}=    Plan    log    lost
    Should Contain    ${log.stdout}    Tool:    render
    ${blob}=    Git    cat-file    -p    refs/changesets/lost:logo.bin
    Should Contain    ${blob}    binary
    Fsck Is Clean

Settings Given With git -c Reach git plan As They Reach git
    [Documentation]    git hands `-c key=value` to its subcommands in GIT_CONFIG_PARAMETERS,
    ...               which libgit2 does not read; gitplan does, ahead of the config files.
    Create File    ${REPO}/\u00e9t\u00e9.txt    summer\n
    Plan    create    dashc
    Plan    record    dashc    --tool    snapshot    --from-worktree
    ${status}=    Plan    status    dashc    --json
    ${json}=    Evaluate    json.loads($status.stdout)    modules=json
    FOR    ${setting}    IN    core.quotePath\=false    diff.noprefix\=true    diff.mnemonicPrefix\=false
        ${ours}=    Run Process    git    -c    ${setting}    plan    diff    dashc    cwd=${REPO}
        Should Be Equal As Integers    ${ours.rc}    0    ${ours.stderr}
        ${theirs}=    Git    -c    ${setting}    diff    ${json}[base]    ${json}[tip]
        Should Be Equal    ${ours.stdout}    ${theirs}
    END
    ${names}=    Run Process    git    -c    core.quotePath\=false    plan    diff    dashc    --name-only
    ...    cwd=${REPO}
    Should Be Equal    ${names.stdout}    \u00e9t\u00e9.txt
    Remove File    ${REPO}/\u00e9t\u00e9.txt
    ${applied}=    Run Process    git    -c    user.name\=Someone Else    -c    user.email\=else@example.com
    ...    plan    apply    dashc    --mode    commit    cwd=${REPO}
    Should Be Equal As Integers    ${applied.rc}    0    ${applied.stderr}
    ${author}=    Git    log    -1    --format\=%an <%ae>
    Should Be Equal    ${author}    Someone Else <else@example.com>
    Fsck Is Clean

A Reviewer's Diff Options And Pathspecs Work From A Subdirectory As git diff's Do
    [Documentation]    -w, -W, --no-prefix, --stat, pathspec magic, and a directory named like a pattern
    ...               (a Next.js route, app/[id]/): git plan diff prints what git diff prints, run in it;
    ...               --color, -M and --word-diff before the plan too.
    Create File    ${REPO}/app/[id]/page.tsx    export default 1\n
    Create File    ${REPO}/app/i/page.tsx    export default 0\n
    Git    add    -A
    Git    commit    -q    -m    routes
    Plan    create    review
    Create File    ${TMP}/page    export${SPACE}${SPACE}default${SPACE}${SPACE}1\nexport const two = 2\n
    Plan    record    review    --tool    edit    --set    app/[id]/page.tsx\=${TMP}/page
    ...    --set    app/i/page.tsx\=${TMP}/page    --set    src/app.py\=${TMP}/page
    ${status}=    Plan    status    review    --json
    ${json}=    Evaluate    json.loads($status.stdout)    modules=json
    FOR    ${line}    IN    -w -- *.tsx    --stat -- :(glob)../../**/*.py    -W --no-prefix -- .
    ...    --name-only -- :(icase)PAGE.TSX ../i    --name-status -- ../*/page.tsx
        ${words}=    Evaluate    shlex.split($line)    modules=shlex
        ${ours}=    Run Process    git    plan    diff    review    @{words}    cwd=${REPO}/app/[id]
        Should Be Equal As Integers    ${ours.rc}    0    ${ours.stderr}
        ${command}=    Evaluate
        ...    ["git", "diff", *$words[:$words.index("--")], $json["base"], $json["tip"], *$words[$words.index("--"):]]
        ${theirs}=    Run Process    @{command}    cwd=${REPO}/app/[id]
        Should Be Equal As Integers    ${theirs.rc}    0    ${theirs.stderr}
        Should Not Be Empty    ${theirs.stdout}
        Should Be Equal    ${ours.stdout}    ${theirs.stdout}
    END
    # Typed before the plan, as before a commit: git takes these options' values only attached.
    FOR    ${line}    IN    --color -- .    --stat -M -- .    --word-diff -- *.tsx
        ${words}=    Evaluate    shlex.split($line)    modules=shlex
        ${args}=    Evaluate    [*$words[:$words.index("--")], "review", *$words[$words.index("--"):]]
        ${ours}=    Run Process    git    plan    diff    @{args}    cwd=${REPO}/app/[id]
        Should Be Equal As Integers    ${ours.rc}    0    ${ours.stderr}
        ${command}=    Evaluate
        ...    ["git", "diff", *$words[:$words.index("--")], $json["base"], $json["tip"], *$words[$words.index("--"):]]
        ${theirs}=    Run Process    @{command}    cwd=${REPO}/app/[id]
        Should Not Be Empty    ${theirs.stdout}
        Should Be Equal    ${ours.stdout}    ${theirs.stdout}
    END

The User's Own Diff Program Prints The Patch As Under git diff
    [Documentation]    diff.external (difftastic and the like): git runs it for git plan diff, writing
    ...               straight to standard output, with its messages on standard error.
    Create File    ${TMP}/ext.sh    \#!/bin/sh\necho "external $1 $GIT_DIFF_PATH_COUNTER/$GIT_DIFF_PATH_TOTAL"\ndiff "$2" "$5"\necho "note $1" >&2\nexit 0\n
    Run Process    chmod    +x    ${TMP}/ext.sh
    Plan    create    ext
    Create File    ${TMP}/app.py    print("v2")\n
    Plan    record    ext    --tool    edit    --set    src/app.py\=${TMP}/app.py    --set    README.md\=${TMP}/app.py
    Git    config    diff.external    ${TMP}/ext.sh
    ${status}=    Plan    status    ext    --json
    ${json}=    Evaluate    json.loads($status.stdout)    modules=json
    ${ours}=    Run Process    git    plan    diff    ext    cwd=${REPO}/src
    ${theirs}=    Run Process    git    diff    ${json}[base]    ${json}[tip]    cwd=${REPO}/src
    Should Be Equal As Integers    ${ours.rc}    0    ${ours.stderr}
    Should Contain    ${theirs.stdout}    external src/app.py 2/2
    Should Be Equal    ${ours.stdout}    ${theirs.stdout}
    Should Contain    ${ours.stderr}    note src/app.py
    ${plain}=    Plan    diff    ext    --no-ext-diff
    Should Contain    ${plain.stdout}    diff --git a/src/app.py b/src/app.py

A Script's Questions Get git diff's Answers, Exit Status Included
    [Documentation]    --quiet, --exit-code, --check, -z and --raw, as a CI script asks them: the same
    ...               bytes as git diff of the plan's two trees, and the same exit status.
    Plan    create    ci
    Create File    ${TMP}/app.py    print("v2")${SPACE}\n
    Plan    record    ci    --tool    edit    --set    src/app.py\=${TMP}/app.py    --set    tab\tname.txt\=${TMP}/app.py
    ${status}=    Plan    status    ci    --json
    ${json}=    Evaluate    json.loads($status.stdout)    modules=json
    FOR    ${line}    ${rc}    IN    --quiet    1    --exit-code --stat    1    --check    2
    ...    --check --exit-code    3    --name-only -z    0    --raw -z    0    --quiet -- README.md    0
        ${words}=    Evaluate    shlex.split($line)    modules=shlex
        ${ours}=    Run Process    git    plan    diff    ci    @{words}    cwd=${REPO}/src
        ${paths}=    Evaluate    $words[$words.index("--"):] if "--" in $words else []
        ${options}=    Evaluate    $words[:len($words) - len($paths)]
        ${theirs}=    Run Process    git    diff    @{options}    ${json}[base]    ${json}[tip]    @{paths}
        ...    cwd=${REPO}/src
        Should Be Equal As Integers    ${theirs.rc}    ${rc}    ${theirs.stderr}
        Should Be Equal As Integers    ${ours.rc}    ${rc}    ${ours.stderr}
        Should Be Equal    ${ours.stdout}    ${theirs.stdout}
    END

A File Name That Is Not UTF-8 Is Recorded And Named As Git Names It
    Run Process    printf 'x\\n' > "$(printf 'caf\\351.txt')"    shell=True    cwd=${REPO}
    Plan    create    names
    Plan    record    names    --tool    snapshot    --from-worktree
    ${ours}=    Plan    diff    names    --name-only
    ${status}=    Plan    status    names    --json
    ${json}=    Evaluate    json.loads($status.stdout)    modules=json
    ${theirs}=    Git    diff    --name-only    ${json}[base]    ${json}[tip]
    Should Be Equal    ${ours.stdout}    ${theirs}
    Should Be Equal    ${theirs}    "caf\\351.txt"

Planning The First Commit Of A New Project
    Remove Directory    ${REPO}    recursive=True
    Create Directory    ${REPO}
    Git    init    -q
    Plan    create    first    --title    Start
    Create File    ${TMP}/readme    \# New project\n
    Plan    record    first    --tool    scaffold    --set    README.md\=${TMP}/readme
    Plan    apply    first
    ${count}=    Git    rev-list    --count    HEAD
    Should Be Equal    ${count}    1
    Git Status Is Clean

Errors Under Json Are Json
    ${result}=    Plan Exits With    3    status    nosuch    --json
    ${json}=    Evaluate    json.loads($result.stdout)    modules=json
    Should Be Equal    ${json}[schema]    gitplan.error/1
    Should Be Equal As Integers    ${json}[exit_code]    3
