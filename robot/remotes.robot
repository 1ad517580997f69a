*** Settings ***
Documentation     `git plan push`, `git plan fetch` and `git plan list --remote` between two machines as
...               users have them: A (the repository that records) and B (a `git clone` of a bare
...               remote), through a path remote, a bundle file and a real `git daemon` on 127.0.0.1.
...               Every outcome is checked with the real git binary (`git ls-remote`, `git log --notes`,
...               `git count-objects`, `git fsck --full`).
Resource          resources.resource
Test Setup        Two Machines And A Bare Remote
Test Teardown     Remove Repository

*** Test Cases ***
A Plan Recorded On A Is Applied On B And Seen Applied On A
    On Machine    ${A}
    Plan    create    fix-1    --title    Say v2
    Create File    ${TMP}/app.py    print("v2")\n
    Plan    record    fix-1    --tool    write_file    --set    src/app.py\=${TMP}/app.py
    ${pushed}=    Plan    push    origin    fix-1
    Should Contain    ${pushed.stdout}    fix-1
    Should Contain    ${pushed.stdout}    new plan
    Remote Has The Plan Of    ${A}    fix-1

    On Machine    ${B}
    ${refs}=    Git    for-each-ref    refs/changesets
    Should Be Empty    ${refs}    a plain clone does not fetch plans
    ${fetched}=    Plan    fetch    origin
    Should Contain    ${fetched.stdout}    new plan
    Same Plan On Both Machines    fix-1
    ${log}=    Git    log    --notes\=changesets/*    refs/changesets/fix-1
    Should Contain    ${log}    "tool": "write_file"
    ${diff}=    Plan    diff    fix-1
    Should Contain    ${diff.stdout}    -print("v1")\n+print("v2")
    Plan    apply    fix-1
    ${applied}=    Git    show    HEAD:src/app.py
    Should Be Equal    ${applied}    print("v2")
    Git Status Is Clean
    ${back}=    Plan    push    origin    fix-1
    Should Contain    ${back.stdout}    fast-forward
    Remote Has The Plan Of    ${B}    fix-1

    On Machine    ${A}
    ${again}=    Plan    fetch    origin    fix-1
    Should Contain    ${again.stdout}    fast-forward
    ${status}=    Plan    status    fix-1
    Should Contain    ${status.stdout}    applied
    ${json}=    Plan    status    fix-1    --json
    ${record}=    Evaluate    json.loads($json.stdout)    modules=json
    Should Be Equal    ${record}[state]    applied
    Same Plan On Both Machines    fix-1
    Fsck Is Clean On    ${A}
    Fsck Is Clean On    ${B}
    Fsck Is Clean On    ${ORIGIN}

Both Sides Recorded: Push And Fetch Refuse With Exit 4 And Nothing Is Lost
    On Machine    ${A}
    Plan    create    fix-1
    Record A File    fix-1    write_file    a.txt    a
    Plan    push    origin    fix-1
    On Machine    ${B}
    Plan    fetch    origin    fix-1
    Record A File    fix-1    from_b    b.txt    b
    ${b_tip}=    Git    rev-parse    refs/changesets/fix-1
    ${b_notes}=    Git    rev-parse    refs/notes/changesets/fix-1
    On Machine    ${A}
    Record A File    fix-1    from_a    c.txt    c
    Plan    push    origin    fix-1
    ${a_tip}=    Git    rev-parse    refs/changesets/fix-1

    On Machine    ${B}
    ${push}=    Plan Exits With    4    push    origin    fix-1
    Should Contain    ${push.stdout}${push.stderr}    git plan fetch origin
    Remote Has The Plan Of    ${A}    fix-1
    ${fetch}=    Plan Exits With    4    fetch    origin    fix-1
    Should Contain    ${fetch.stdout}${fetch.stderr}    both sides recorded
    ${tip}=    Git    rev-parse    refs/changesets/fix-1
    Should Be Equal    ${tip}    ${b_tip}
    ${notes}=    Git    rev-parse    refs/notes/changesets/fix-1
    Should Be Equal    ${notes}    ${b_notes}
    ${log}=    Git    log    --notes\=changesets/*    refs/changesets/fix-1
    Should Contain    ${log}    "tool": "from_b"
    Should Not Contain    ${log}    "tool": "from_a"
    Fsck Is Clean On    ${B}

    On Machine    ${A}
    ${tip}=    Git    rev-parse    refs/changesets/fix-1
    Should Be Equal    ${tip}    ${a_tip}
    ${log}=    Git    log    --notes\=changesets/*    refs/changesets/fix-1
    Should Contain    ${log}    "tool": "from_a"
    Should Not Contain    ${log}    "tool": "from_b"
    ${fetch}=    Plan    fetch    origin    fix-1
    Should Contain    ${fetch.stdout}    up to date
    Fsck Is Clean On    ${A}

A Plan Travels In A Bundle File
    On Machine    ${A}
    Plan    create    fix-1
    Record A File    fix-1    write_file    bundled.txt    in a bundle
    Plan    push    --bundle    ${TMP}/fix-1.bundle    fix-1
    ${heads}=    Git    bundle    list-heads    ${TMP}/fix-1.bundle
    Should Contain    ${heads}    refs/changesets/fix-1
    Should Contain    ${heads}    refs/notes/changesets/fix-1
    ${remote}=    Git    -C    ${ORIGIN}    for-each-ref    refs/changesets    refs/notes
    Should Be Empty    ${remote}    a bundle needs no remote and writes to none

    On Machine    ${B}
    Git    bundle    verify    -q    ${TMP}/fix-1.bundle
    ${fetched}=    Plan    fetch    ${TMP}/fix-1.bundle
    Should Contain    ${fetched.stdout}    new plan
    Same Plan On Both Machines    fix-1
    ${log}=    Git    log    --notes\=changesets/*    refs/changesets/fix-1
    Should Contain    ${log}    "tool": "write_file"
    Plan    apply    fix-1
    ${applied}=    Git    show    HEAD:bundled.txt
    Should Be Equal    ${applied}    in a bundle
    Fsck Is Clean On    ${B}

B Fetches A Plan Through A Git Daemon
    [Teardown]    Stop The Daemon And Remove Repository
    On Machine    ${A}
    Plan    create    fix-1
    Record A File    fix-1    write_file    served.txt    over git://
    Plan    push    origin    fix-1
    ${url}=    Serve The Remote With A Git Daemon
    On Machine    ${B}
    ${listed}=    Plan    list    --remote    ${url}    --json
    Should Contain    ${listed.stdout}    fix-1
    ${fetched}=    Plan    fetch    ${url}    fix-1
    Should Contain    ${fetched.stdout}    new plan
    Same Plan On Both Machines    fix-1
    ${log}=    Git    log    --notes\=changesets/*    refs/changesets/fix-1
    Should Contain    ${log}    "tool": "write_file"
    ${again}=    Plan    fetch    ${url}    fix-1
    Should Contain    ${again.stdout}    up to date
    Fsck Is Clean On    ${B}

A Plan Forged With Plumbing To Write Into .git Is Refused And Leaves Nothing Behind
    On Machine    ${A}
    ${tip}=    Forge A Plan Whose Changeset Adds .git/hooks/post-checkout    evil
    ${forged}=    Git    ls-tree    -r    --name-only    ${tip}
    Should Contain    ${forged}    .git/hooks/post-checkout
    Git    push    -q    origin    refs/changesets/evil    refs/notes/changesets/evil
    ${remote}=    Git    ls-remote    origin    refs/changesets/evil
    Should Start With    ${remote}    ${tip}

    On Machine    ${B}
    ${objects}=    Git    count-objects    -v
    ${refs}=    Git    for-each-ref
    ${refused}=    Plan Exits With    2    fetch    origin    evil
    Should Contain    ${refused.stderr}    is unsafe: git fsck refused it: hasDotgit
    ${plans}=    Git    for-each-ref    refs/changesets    refs/notes/changesets
    Should Be Empty    ${plans}
    ${after}=    Git    for-each-ref
    Should Be Equal    ${after}    ${refs}
    ${objects_after}=    Git    count-objects    -v
    Should Be Equal    ${objects_after}    ${objects}
    ${kind}=    Run Process    git    cat-file    -e    ${tip}    cwd=${B}
    Should Not Be Equal As Integers    ${kind.rc}    0    the forged commit reached B's object store
    Should Not Exist    ${B}/.git/hooks/post-checkout
    ${all}=    Plan Exits With    2    fetch    origin
    ${plans}=    Git    for-each-ref    refs/changesets    refs/notes/changesets
    Should Be Empty    ${plans}
    Fsck Is Clean On    ${B}

*** Keywords ***
Two Machines And A Bare Remote
    [Documentation]    A: the scratch repository; origin: a bare remote holding A's main; B: a clone of it.
    Fresh Repository
    Set Test Variable    ${A}    ${REPO}
    Set Test Variable    ${ORIGIN}    ${TMP}/origin.git
    Set Test Variable    ${B}    ${TMP}/machine-b
    Git    init    -q    --bare    ${ORIGIN}
    Git    push    -q    ${ORIGIN}    HEAD:refs/heads/main
    Git    remote    add    origin    ${ORIGIN}
    Git    clone    -q    ${ORIGIN}    ${B}

On Machine
    [Documentation]    The following `Git` and `Plan` keywords run in the repository at ${path}.
    [Arguments]    ${path}
    Set Test Variable    ${REPO}    ${path}

Record A File
    [Arguments]    ${plan}    ${tool}    ${path}    ${content}
    Create File    ${TMP}/content    ${content}
    Plan    record    ${plan}    --tool    ${tool}    --set    ${path}\=${TMP}/content

Remote Has The Plan Of
    [Documentation]    The bare remote's two refs of the plan are the machine's, as `git ls-remote` shows them.
    [Arguments]    ${machine}    ${plan}
    ${here}=    Run Process    git    rev-parse    refs/changesets/${plan}    refs/notes/changesets/${plan}
    ...    cwd=${machine}
    Should Be Equal As Integers    ${here.rc}    0    ${here.stderr}
    ${there}=    Run Process    git    ls-remote    ${ORIGIN}    refs/changesets/${plan}
    ...    refs/notes/changesets/${plan}    cwd=${machine}
    Should Be Equal As Integers    ${there.rc}    0    ${there.stderr}
    ${tips}=    Evaluate    "\\n".join(line.split()[0] for line in sorted($there.stdout.splitlines(), key=lambda l: l.split()[1]))
    Should Be Equal    ${tips}    ${here.stdout}

Same Plan On Both Machines
    [Arguments]    ${plan}
    ${a}=    Run Process    git    rev-parse    refs/changesets/${plan}    refs/notes/changesets/${plan}    cwd=${A}
    ${b}=    Run Process    git    rev-parse    refs/changesets/${plan}    refs/notes/changesets/${plan}    cwd=${B}
    Should Be Equal As Integers    ${a.rc}    0    ${a.stderr}
    Should Be Equal As Integers    ${b.rc}    0    ${b.stderr}
    Should Be Equal    ${a.stdout}    ${b.stdout}

Fsck Is Clean On
    [Arguments]    ${path}
    ${result}=    Run Process    git    fsck    --full    --no-dangling    cwd=${path}
    Should Be Equal As Integers    ${result.rc}    0    ${result.stderr}
    Should Not Contain    ${result.stderr}    error
    Should Not Contain    ${result.stderr}    warning

Git With Input
    [Arguments]    ${input}    @{args}
    ${result}=    Run Process    git    @{args}    cwd=${REPO}    stdin=${input}
    Should Be Equal As Integers    ${result.rc}    0    git ${args} failed: ${result.stderr}
    RETURN    ${result.stdout}

Write Blob
    [Arguments]    ${content}
    ${oid}=    Git With Input    ${content}    hash-object    -w    --stdin
    RETURN    ${oid}

Forge A Plan Whose Changeset Adds .git/hooks/post-checkout
    [Documentation]    Plan ${plan} in the storage format, made with git plumbing only (mktree, commit-tree,
    ...    update-ref): root R (base's tree, parent base), changeset C1 (base's files plus
    ...    .git/hooks/post-checkout), and a notes commit with R's plan record and C1's invocation
    ...    record. Returns C1.
    [Arguments]    ${plan}
    ${base}=    Git    rev-parse    HEAD
    ${base_tree}=    Git    rev-parse    HEAD^{tree}
    ${hook}=    Write Blob    \#!/bin/sh\necho owned\n
    ${hooks}=    Git With Input    100755 blob ${hook}\tpost-checkout\n    mktree
    ${dotgit}=    Git With Input    040000 tree ${hooks}\thooks\n    mktree
    ${listing}=    Git    ls-tree    HEAD
    ${tree}=    Git With Input    ${listing}\n040000 tree ${dotgit}\t.git\n    mktree
    ${root}=    Git    commit-tree    ${base_tree}    -p    ${base}    -m    plan ${plan}
    ...    -m    Plan-Id: ${plan}\nPlan-Format: 1
    ${tip}=    Git    commit-tree    ${tree}    -p    ${root}    -m    write: forged
    ...    -m    Plan-Id: ${plan}\nChangeset: 1\nInvocation-Id: x
    ${plan_record}=    Write Blob
    ...    {"schema":"gitplan.plan/1","plan_id":"${plan}","title":"","base":"${base}","created_at":"2026-01-01T00:00:00Z","state":"open"}
    ${invocation}=    Write Blob
    ...    {"schema":"gitplan.invocation/1","plan_id":"${plan}","changeset":1,"tool":"write","actor":"agent"}
    ${notes_tree}=    Git With Input    100644 blob ${plan_record}\t${root}\n100644 blob ${invocation}\t${tip}\n    mktree
    ${notes}=    Git    commit-tree    ${notes_tree}    -m    gitplan: notes for ${plan}
    ...    -m    Plan-Id: ${plan}\nPlan-Tip: ${tip}
    Git    update-ref    refs/changesets/${plan}    ${tip}
    Git    update-ref    refs/notes/changesets/${plan}    ${notes}
    RETURN    ${tip}

Serve The Remote With A Git Daemon
    [Documentation]    `git daemon` on a free port of 127.0.0.1 serving ${TMP} (read-only); returns the
    ...    git:// URL of origin once `git ls-remote` answers through it.
    ${port}=    Evaluate
    ...    (lambda s: (s.bind(("127.0.0.1", 0)), s.getsockname()[1], s.close())[1])(socket.socket())
    ...    modules=socket
    Create File    ${ORIGIN}/git-daemon-export-ok
    ${daemon}=    Start Process    git    daemon    --listen\=127.0.0.1    --port\=${port}
    ...    --base-path\=${TMP}    --reuseaddr    --informative-errors    ${TMP}
    ...    stdout=${TMP}/daemon.out    stderr=${TMP}/daemon.err    alias=daemon
    Set Test Variable    ${DAEMON}    ${daemon}
    ${url}=    Set Variable    git://127.0.0.1:${port}/origin.git
    Wait Until Keyword Succeeds    30 s    10 ms    Daemon Answers    ${url}
    RETURN    ${url}

Daemon Answers
    [Arguments]    ${url}
    Process Should Be Running    ${DAEMON}    git daemon exited: see ${TMP}/daemon.err
    ${probe}=    Run Process    git    ls-remote    ${url}    refs/heads/main    cwd=${TMP}
    Should Be Equal As Integers    ${probe.rc}    0    ${probe.stderr}
    Should Not Be Empty    ${probe.stdout}

Stop The Daemon And Remove Repository
    ${running}=    Get Variable Value    ${DAEMON}    ${None}
    IF    $running is not None    Terminate Process    ${DAEMON}
    Remove Repository
