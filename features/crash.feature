Feature: An apply killed with SIGKILL at any moment leaves the old or the applied state

  Scenario: kill -9 a real apply process at many points
    Given a repository with 600 files and a plan "big" that changes, adds and deletes 600 of them
    When I kill a real "git plan apply big" at 16 or more moments spread over its run
    Then after each kill and the next git plan command, HEAD, index and worktree are all old or all applied
    And git status is clean after every kill
    And at least one kill landed while the apply was writing
    And git fsck --full is clean
