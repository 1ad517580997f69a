*** Settings ***
Documentation     `git plan run` and `git plan snapshot` end to end, as a user runs them, checked with
...               `git notes show`, `git diff` and `git worktree list`.
Resource          resources.resource
Test Setup        Fresh Repository
Test Teardown     Remove Repository

*** Test Cases ***
A Command Run In The Plan Is One Changeset With Its Invocation Record
    Plan    create    fmt
    ${result}=    Plan    run    fmt    --tool    sed    --arg    why\=shout    --    sed    -i    s/hello/HELLO/    README.md
    Should Contain    ${result.stderr}    recorded changeset 1 of plan fmt
    ${note}=    Git    notes    --ref\=changesets/fmt    show    refs/changesets/fmt
    ${record}=    Evaluate    json.loads($note)    modules=json
    Should Be Equal    ${record}[argv]    ${{["sed", "-i", "s/hello/HELLO/", "README.md"]}}
    Should Be Equal As Integers    ${record}[exit_code]    0
    Should Be Equal    ${record}[status]    ok
    Should Be Equal    ${record}[arguments]    ${{{"why": "shout"}}}
    Should Not Be Equal    ${record}[started_at]    ${None}
    ${diff}=    Git    diff    refs/changesets/fmt~1    refs/changesets/fmt
    Should Contain    ${diff}    -hello\n+HELLO
    ${readme}=    Get File    ${REPO}/README.md
    Should Be Equal    ${readme}    hello\nworld\n
    Git Status Is Clean
    ${worktrees}=    Git    worktree    list
    Should Contain    ${worktrees}    gitplan/worktrees/fmt/0/fmt
    Should Contain    ${worktrees}    (detached HEAD)
    Fsck Is Clean

A Failing Command Exits With Its Code And Is Recorded Without Its Edits
    Plan    create    broken
    ${result}=    Plan Exits With    7    run    broken    --tool    sh    --    sh    -c    echo half > README.md; echo oops >&2; exit 7
    Should Contain    ${result.stderr}    oops
    ${note}=    Git    notes    --ref\=changesets/broken    show    refs/changesets/broken
    ${record}=    Evaluate    json.loads($note)    modules=json
    Should Be Equal    ${record}[status]    error
    Should Be Equal As Integers    ${record}[exit_code]    7
    Should Be Equal    ${record}[stderr_tail]    oops\n
    Should Be Empty    ${record}[files]
    ${diff}=    Git    diff    refs/changesets/broken~1    refs/changesets/broken
    Should Be Empty    ${diff}

The Log Shows The Command, Its Outcome And Its Output
    Plan    create    shown
    Plan    run    shown    --tool    sh    --    sh    -c    echo made > made.txt; echo visible
    ${log}=    Plan    log    shown    --verbose
    Should Contain    ${log.stdout}    Command: sh -c 'echo made > made.txt; echo visible'
    Should Contain    ${log.stdout}    Status:  ok (exit 0)
    Should Contain    ${log.stdout}    | visible
    Should Contain    ${log.stdout}    added      made.txt

Cancel Removes The Plan's Worktree And Its Objects
    Plan    create    gone
    Plan    run    gone    --tool    sh    --    sh    -c    echo only-in-the-plan > p.txt
    ${blob}=    Git    rev-parse    refs/changesets/gone:p.txt
    Plan    cancel    gone
    ${worktrees}=    Git    worktree    list
    Should Not Contain    ${worktrees}    gitplan/worktrees
    ${kind}=    Run Process    git    cat-file    -t    ${blob}    cwd=${REPO}
    Should Not Be Equal As Integers    ${kind.rc}    0
    Fsck Is Clean

Snapshot Records What The Agent Changed In The Worktree
    Plan    create    agent
    Create File    ${REPO}/README.md    hello\nworld\nby the agent\n
    Create File    ${REPO}/notes.txt    new\n
    ${result}=    Plan    snapshot    agent    --tool    claude-code
    Should Contain    ${result.stdout}    recorded changeset 1 of plan agent
    ${names}=    Git    diff    --name-status    refs/changesets/agent~1    refs/changesets/agent
    Should Be Equal    ${names}    M\tREADME.md\nA\tnotes.txt
    ${again}=    Plan    snapshot    agent    --tool    claude-code
    Should Contain    ${again.stdout}    nothing changed
