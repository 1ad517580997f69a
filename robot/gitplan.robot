*** Settings ***
Documentation     The git-plan command line as a user runs it, checked with the real git binary.
Resource          resources.resource
Test Setup        Fresh Repository
Test Teardown     Remove Repository

*** Test Cases ***
Record Review And Cancel A Plan
    Plan    create    p1    --title    Fix the greeting
    Create File    ${TMP}/app.py    print("v2")\n
    Plan    record    p1    --tool    write_file    --actor    coder    --arg    path\=src/app.py
    ...    --set    src/app.py\=${TMP}/app.py
    Plan    record    p1    --tool    cleanup    --delete    README.md
    ${log}=    Git    log    --notes\=changesets/*    refs/changesets/p1
    Should Contain    ${log}    "tool": "write_file"
    Should Contain    ${log}    "tool": "cleanup"
    ${status}=    Plan    status    p1    --json
    ${json}=    Evaluate    json.loads($status.stdout)    modules=json
    Should Be Equal As Integers    ${json}[changesets]    2
    Should Be Equal    ${json}[state]    open
    Should Be Equal As Integers    ${json}[files_changed]    2
    ${ours}=    Plan    diff    p1
    ${theirs}=    Git    diff    ${json}[base]    ${json}[tip]
    Should Be Equal    ${ours.stdout}    ${theirs}
    ${ours}=    Plan    diff    p1    --stat
    ${theirs}=    Git    diff    --stat    ${json}[base]    ${json}[tip]
    Should Be Equal    ${ours.stdout}    ${theirs}
    Git Status Is Clean
    ${cancel}=    Plan    cancel    p1
    Should Contain    ${cancel.stdout}    pruned
    ${refs}=    Git    for-each-ref    refs/changesets    refs/notes/changesets
    Should Be Empty    ${refs}
    Fsck Is Clean

Artifacts Export For Git Am
    Plan    create    p2
    Create File    ${TMP}/a.txt    a\n
    Plan    record    p2    --tool    t1    --set    a.txt\=${TMP}/a.txt
    Create File    ${TMP}/patch    diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1,2 @@\n a\n+b\n
    Plan    record    p2    --tool    patcher    --patch    ${TMP}/patch
    ${artifacts}=    Plan    artifacts    p2    --json    --export    ${TMP}/out
    ${json}=    Evaluate    json.loads($artifacts.stdout)    modules=json
    Length Should Be    ${json}[changesets]    2
    Should Be Equal    ${json}[changesets][1][tool]    patcher
    Git    checkout    -q    -b    replayed
    ${patches}=    List Files In Directory    ${TMP}/out    *.patch    absolute=True
    Git    am    -q    @{patches}
    ${ours}=    Git    rev-parse    HEAD^{tree}
    ${plan}=    Git    rev-parse    refs/changesets/p2^{tree}
    Should Be Equal    ${ours}    ${plan}

Apply Commits The Plan And Leaves Git Status Clean
    Plan    create    p3    --title    Apply me
    Create File    ${TMP}/new.txt    new\n
    Plan    record    p3    --tool    write    --set    new.txt\=${TMP}/new.txt
    ${check}=    Plan    apply    p3    --check
    Should Contain    ${check.stdout}    new.txt
    Plan    apply    p3
    ${subject}=    Git    log    -1    --format\=%s
    Should Be Equal    ${subject}    Apply me
    Git Status Is Clean
    ${status}=    Plan    status    p3    --json
    Should Contain    ${status.stdout}    "state": "applied"
    Fsck Is Clean

Apply Refuses Dirty Paths With Exit 4 And Saves The Patch
    Plan    create    p4
    Create File    ${TMP}/readme    changed\n
    Plan    record    p4    --tool    write    --set    README.md\=${TMP}/readme
    Create File    ${REPO}/README.md    local edit\n
    ${result}=    Plan Exits With    4    apply    p4
    Should Contain    ${result.stderr}    README.md
    Should Contain    ${result.stderr}    .patch
    ${content}=    Get File    ${REPO}/README.md
    Should Be Equal    ${content}    local edit\n
    ${refs}=    Git    for-each-ref    refs/changesets
    Should Be Empty    ${refs}

Bad Input Gives Stable Exit Codes
    Plan Exits With    2    create    ../evil
    Plan Exits With    3    status    missing
    Plan    create    p5
    Plan Exits With    2    record    p5    --tool    t    --set    .git/config\=/etc/hostname
    Plan Exits With    2    record    p5    --tool    t    --set    a\=${TMP}/does-not-exist
    Plan Exits With    2    record    p5    --tool    t    --args-json    [1]    --delete    README.md
    Create File    ${TMP}/bad.patch    not a patch\n
    Plan Exits With    2    record    p5    --tool    t    --patch    ${TMP}/bad.patch
    Plan Exits With    3    diff    p5    7
    ${result}=    Plan Exits With    2    create    p5
    Should Not Contain    ${result.stderr}    Traceback

Concurrent Writers Through The CLI Lose Nothing
    Writers Under Load
    Plan    create    busy
    FOR    ${i}    IN RANGE    4
        Create File    ${TMP}/f${i}    content ${i}\n
    END
    ${handles}=    Create List
    FOR    ${i}    IN RANGE    4
        ${handle}=    Start Process    bash    -c
        ...    for n in 0 1 2 3 4; do git plan record busy --tool w${i} --set w${i}/$n.txt\=${TMP}/f${i} || exit 1; done
        ...    cwd=${REPO}
        Append To List    ${handles}    ${handle}
    END
    FOR    ${handle}    IN    @{handles}
        ${result}=    Wait For Process    ${handle}    timeout=300
        Should Be Equal As Integers    ${result.rc}    0    ${result.stderr}
    END
    ${count}=    Git    rev-list    --count    refs/changesets/busy    ^HEAD
    Should Be Equal As Integers    ${count}    21
    ${notes}=    Git    notes    --ref\=changesets/busy    list
    ${lines}=    Get Line Count    ${notes}
    Should Be Equal As Integers    ${lines}    21
    ${files}=    Git    ls-tree    -r    --name-only    refs/changesets/busy
    ${n}=    Get Line Count    ${files}
    Should Be Equal As Integers    ${n}    22
    Fsck Is Clean

Demo Runs On A Fresh Machine
    ${result}=    Plan    demo
    Should Contain    ${result.stdout}    git fsck --full: clean

Cancel While CLI Writers Run Leaves Nothing Behind
    [Documentation]    Cancel lands once both writers have recorded (each `git plan record`
    ...    marks the moment it published), then they run on into a plan that is gone.
    Writers Under Load
    Plan    create    racing
    Create File    ${TMP}/f    content\n
    Create Directory    ${TMP}/marks
    ${handles}=    Create List
    FOR    ${i}    IN RANGE    2
        ${handle}=    Start Process    bash    -c
        ...    for n in $(seq 1 60); do git plan record racing --tool w${i} --set w${i}/$n.txt\=${TMP}/f || exit $?; done
        ...    cwd=${REPO}    env:GITPLAN_FAULTS=transaction.published=mark:${TMP}/marks
        Append To List    ${handles}    ${handle}
    END
    Wait Until Keyword Succeeds    120s    10ms    Both Writers Have Recorded    ${TMP}/marks
    Plan    cancel    racing
    FOR    ${handle}    IN    @{handles}
        ${result}=    Wait For Process    ${handle}    timeout=300
        Should Be True    ${result.rc} in (0, 3)    writer exited ${result.rc}: ${result.stderr}
    END
    ${refs}=    Git    for-each-ref    refs/changesets    refs/notes/changesets
    Should Be Empty    ${refs}
    Plan Exits With    3    status    racing
    Fsck Is Clean
    ${packs}=    List Files In Directory    ${REPO}/.git/objects/pack
    Should Be Empty    ${packs}

Each Changeset Is One Kept Pack And Git Reads It
    Plan    create    packed
    Create File    ${TMP}/a.py    print("a")\n
    Plan    record    packed    --tool    write    --set    src/a.py\=${TMP}/a.py
    [Documentation]    The plan root (4 objects) and three changesets (7 each: blob, 2 trees,
    ...    commit, note, notes tree, notes commit) end up in one pack: packs of one size are
    ...    merged four at a time, so the fourth write merges all four.
    ${keeps}=    List Files In Directory    ${REPO}/.git/objects/pack    *.keep
    Length Should Be    ${keeps}    2
    Create File    ${TMP}/b.py    print("b")\n
    Plan    record    packed    --tool    write    --set    src/b.py\=${TMP}/b.py
    Create File    ${TMP}/c.py    print("c")\n
    Plan    record    packed    --tool    write    --set    src/c.py\=${TMP}/c.py
    ${before}=    Git    count-objects    -v
    Should Contain    ${before}    count: 5
    ${counts}=    Git    count-objects    -v
    Should Contain    ${counts}    in-pack: 25
    ${keeps}=    List Files In Directory    ${REPO}/.git/objects/pack    *.keep
    Length Should Be    ${keeps}    1
    ${shown}=    Git    show    refs/changesets/packed:src/a.py
    Should Be Equal    ${shown}    print("a")
    Git    gc    -q
    ${keeps}=    List Files In Directory    ${REPO}/.git/objects/pack    *.keep
    Length Should Be    ${keeps}    1
    Plan    cancel    packed
    ${keeps}=    List Files In Directory    ${REPO}/.git/objects/pack    *.keep
    Should Be Empty    ${keeps}
    Fsck Is Clean

Gc Removes A Pack A Killed Record Left
    Plan    create    killed
    Create File    ${TMP}/b.txt    b\n
    ${result}=    Run Process    git    plan    record    killed    --tool    w    --set    b.txt\=${TMP}/b.txt
    ...    cwd=${REPO}    env:GITPLAN_FAULTS=transaction.before-publish=exit
    Should Be Equal As Integers    ${result.rc}    137
    ${dry}=    Plan    gc    --dry-run    --grace    now
    Should Contain    ${dry.stdout}    would remove pack
    ${done}=    Plan    gc    --grace    now
    Should Contain    ${done.stdout}    removed pack
    ${again}=    Plan    gc    --grace    now
    Should Contain    ${again.stdout}    nothing to clean up
    Fsck Is Clean
