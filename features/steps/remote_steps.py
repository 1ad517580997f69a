"""Steps for remotes.feature: machines, bare remotes, a git daemon, and plans forged with plumbing."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from behave import given, then, when
from cli_steps import _run
from common_steps import git

from gitplan import PlanStore


def _machines(context):  # type: ignore[no-untyped-def]
    if not hasattr(context, "machines"):
        context.machines = {"A": context.repo}
    return context.machines


@given('a bare remote "{name}"')
def bare_remote(context, name):  # type: ignore[no-untyped-def]
    _machines(context)
    path = os.path.join(context.tmp, f"{name}.git")
    subprocess.run(["git", "init", "-q", "--bare", path], check=True)
    git(context, "push", "-q", path, "HEAD:refs/heads/main")
    git(context, "remote", "add", name, path)


@given('machine "{machine}" is a clone of "{name}"')
def clone_machine(context, machine, name):  # type: ignore[no-untyped-def]
    machines = _machines(context)
    path = os.path.join(context.tmp, f"machine-{machine}")
    source = os.path.join(context.tmp, f"{name}.git")
    subprocess.run(["git", "clone", "-q", source, path], check=True, capture_output=True)
    if name != "origin":
        subprocess.run(["git", "remote", "rename", "origin", name], cwd=path, check=True)
    machines[machine] = path


@given('I am on machine "{machine}"')
@when('I am on machine "{machine}"')
def on_machine(context, machine):  # type: ignore[no-untyped-def]
    context.repo = _machines(context)[machine]
    context.store = PlanStore.open(context.repo)


@given('the remote "{name}" refuses refs outside branches and tags')
def refusing_remote(context, name):  # type: ignore[no-untyped-def]
    hook = Path(context.tmp, f"{name}.git", "hooks", "pre-receive")
    hook.write_text(
        "#!/bin/sh\nwhile read old new ref; do\n  case $ref in refs/heads/*|refs/tags/*) ;;\n"
        '  *) echo "only branches and tags here" >&2; exit 1;;\n  esac\ndone\n'
    )
    hook.chmod(0o755)


@given('a git daemon serves "{name}" read-only')
def git_daemon(context, name):  # type: ignore[no-untyped-def]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    Path(context.tmp, f"{name}.git", "git-daemon-export-ok").touch()
    daemon = subprocess.Popen(
        [
            "git",
            "daemon",
            "--listen=127.0.0.1",
            f"--port={port}",
            f"--base-path={context.tmp}",
            "--reuseaddr",
            "--informative-errors",
            context.tmp,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # `git daemon` runs git-daemon as a child: end the whole group
    )
    context.add_cleanup(_end_group, daemon)
    for _ in range(500):  # ready when it answers, not after a sleep
        probe = subprocess.run(
            ["git", "ls-remote", f"git://127.0.0.1:{port}/{name}.git"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            break
        time.sleep(0.01)
    else:
        raise AssertionError("git daemon did not start")
    context.daemon_url = f"git://127.0.0.1:{port}/{name}.git"


def _end_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@when('I run git plan "{args}" against the daemon')
def run_against_daemon(context, args):  # type: ignore[no-untyped-def]
    _run(context, args.replace("DAEMON", context.daemon_url))


@then('the remote "{name}" has plan "{plan}" at the tip of machine "{machine}"')
def remote_has_plan(context, name, plan, machine):  # type: ignore[no-untyped-def]
    remote = os.path.join(context.tmp, f"{name}.git")
    there = git(context, "for-each-ref", "--format=%(objectname)", f"refs/changesets/{plan}", repo=remote)
    here = git(context, "rev-parse", f"refs/changesets/{plan}", repo=_machines(context)[machine])
    assert there.strip() == here.strip(), (there, here)
    notes_there = git(context, "rev-parse", f"refs/notes/changesets/{plan}", repo=remote).strip()
    notes_here = git(context, "rev-parse", f"refs/notes/changesets/{plan}", repo=_machines(context)[machine])
    assert notes_there == notes_here.strip()


@then('the remote "{name}" has no plan "{plan}"')
def remote_lacks_plan(context, name, plan):  # type: ignore[no-untyped-def]
    remote = os.path.join(context.tmp, f"{name}.git")
    names = (f"refs/changesets/{plan}", f"refs/notes/changesets/{plan}")
    found = git(context, "for-each-ref", *names, repo=remote)
    assert found == "", found


@then("nothing of the fetch is left in the repository")
def nothing_left(context):  # type: ignore[no-untyped-def]
    refs = git(context, "for-each-ref", "--format=%(refname)", "refs/changesets", "refs/notes/changesets")
    assert refs == "", refs
    quarantine = Path(context.repo, ".git", "gitplan", "quarantine")
    assert not quarantine.exists() or not any(quarantine.iterdir()), list(quarantine.iterdir())
    count = git(context, "count-objects", "-v")
    assert count == context.objects_before, f"{context.objects_before}\n---\n{count}"


@given("I count the objects of the repository")
def count_objects(context):  # type: ignore[no-untyped-def]
    context.objects_before = git(context, "count-objects", "-v")


# -- plans forged with git plumbing ------------------------------------------------


def _hash(context, kind: str, data: bytes) -> str:  # type: ignore[no-untyped-def]
    done = subprocess.run(
        ["git", "hash-object", "-w", "--literally", "-t", kind, "--stdin"],
        cwd=context.repo,
        input=data,
        capture_output=True,
        check=True,
    )
    return done.stdout.decode().strip()


def _tree(context, entries: dict[bytes, tuple[str, str]]) -> str:  # type: ignore[no-untyped-def]
    """A tree from {path: (mode, id)}, nested along '/', names taken as they are."""
    here: dict[bytes, tuple[str, str]] = {}
    below: dict[bytes, dict[bytes, tuple[str, str]]] = {}
    for path, value in entries.items():
        head, sep, rest = path.partition(b"/")
        if sep:
            below.setdefault(head, {})[rest] = value
        else:
            here[head] = value
    for name, children in below.items():
        here[name] = ("40000", _tree(context, children))

    def git_order(item: tuple[bytes, tuple[str, str]]) -> bytes:
        return item[0] + (b"/" if item[1][0] == "40000" else b"")

    raw = b"".join(
        mode.encode() + b" " + name + b"\0" + bytes.fromhex(oid)
        for name, (mode, oid) in sorted(here.items(), key=git_order)
    )
    return _hash(context, "tree", raw)


def _commit(context, tree: str, parents: list[str], message: str) -> str:  # type: ignore[no-untyped-def]
    lines = [f"tree {tree}", *(f"parent {p}" for p in parents)]
    lines += [
        "author A <a@example.com> 1767225600 +0000",
        "committer gitplan <gitplan@localhost> 1767225600 +0000",
    ]
    return _hash(context, "commit", ("\n".join(lines) + "\n\n" + message).encode())


def _invocation_note(plan: str, number: int, added: tuple[bytes, ...] = ()) -> bytes:
    """A note that lists the files its changeset adds, as every record does (a note that
    lists others than its commit changes is unsafe)."""
    record = {"schema": "gitplan.invocation/1", "plan_id": plan, "changeset": number}
    files = [
        {"path": path.decode("utf-8", "surrogateescape"), "change": "added", "additions": 1, "deletions": 0}
        for path in added
    ]
    return json.dumps({**record, "tool": "write", "actor": "agent", "files": files}).encode()


SHAPES = {
    # shape: (path bytes, mode, blob content)
    "a .git directory": (b".git/hooks/post-checkout", "100755", b"#!/bin/sh\necho owned\n"),
    "a .GIT directory": (b"sub/.GIT/config", "100644", b"[core]\n"),
    "an NTFS short name": (b"GIT~1/config", "100644", b"[core]\n"),
    "an NTFS trailing dot": (b".git./config", "100644", b"[core]\n"),
    "an HFS ignorable": (".g\u200cit/config".encode(), "100644", b"[core]\n"),
    "a parent directory": (b"../outside.txt", "100644", b"escaped\n"),
    "an absolute symlink": (b"etc", "120000", b"/etc"),
    "a symlink out of the worktree": (b"docs/up", "120000", b"../../.."),
    "a symlink into .git": (b"hooks", "120000", b".git/hooks"),
    "a gitlink": (b"vendor/lib", "160000", None),
    "a fine file": (b"fine.txt", "100644", b"fine\n"),
    "a symlink that climbs first": (b"docs/readme", "120000", b"./../src/app.py"),
    "a file of mode 100664": (b"group.txt", "100664", b"old git wrote these\n"),
    "a symlink with a 5000-byte target": (b"long", "120000", b"a" * 5000),
    "a symlink that climbs after a name": (b"t", "120000", b"s/.."),
}


@given('machine "{machine}" holds a plan "{plan}" forged with git plumbing whose changeset adds {shape}')
def forged_plan(context, machine, plan, shape):  # type: ignore[no-untyped-def]
    on_machine(context, machine)
    path, mode, content = SHAPES[shape]
    head = git(context, "rev-parse", "HEAD").strip()
    oid = head if content is None else _hash(context, "blob", content)  # a gitlink names a commit
    _forge(context, plan, {path: (mode, oid)})


@given('machine "{machine}" holds a plan "{plan}" forged with git plumbing that {defect}')
def forged_defect(context, machine, plan, defect):  # type: ignore[no-untyped-def]
    on_machine(context, machine)
    oid = _hash(context, "blob", b"fine\n")
    _forge(context, plan, {b"fine.txt": ("100644", oid)}, defect=defect)


def _entries(context, treeish: str, *options: str) -> dict[bytes, tuple[str, str]]:  # type: ignore[no-untyped-def]
    """{path: (mode, id)} of a tree, as `git ls-tree -z` lists it (`-r` for every file)."""
    entries = {}
    for line in filter(None, git(context, "ls-tree", "-z", *options, treeish).split("\0")):
        info, name = line.split("\t", 1)
        mode, _, oid = info.split()
        entries[name.encode()] = (mode, oid)
    return entries


def _forge(context, plan: str, added: dict[bytes, tuple[str, str]], defect: str = "") -> None:  # type: ignore[no-untyped-def]
    base = git(context, "rev-parse", "HEAD").strip()
    base_tree = git(context, "rev-parse", "HEAD^{tree}").strip()
    entries = _entries(context, "HEAD", "-r")
    entries.update(added)
    tree = _tree(context, entries)
    root_tree = tree if defect == "has a root that changes files" else base_tree
    plan_format = "9" if defect == "has an unknown plan format" else "1"
    root_parents = [base, base] if defect == "has a root with two parents" else [base]
    root = _commit(
        context, root_tree, root_parents, f"plan {plan}\n\nPlan-Id: {plan}\nPlan-Format: {plan_format}\n"
    )
    claimed = "someone-else" if defect == "claims another plan's id" else plan
    number = {"numbers its changeset 7": "7", "has a malformed changeset number": "x1"}.get(defect, "1")
    parents = [root, base] if defect == "has a merge in its chain" else [root]
    message = f"write: forged\n\nPlan-Id: {claimed}\nChangeset: {number}\nInvocation-Id: x1\n"
    tip = _commit(context, tree, parents, message)
    recorded_plan = "another" if defect == "has the plan record of another plan" else plan
    record = {
        "schema": "gitplan.plan/1",
        "plan_id": recorded_plan,
        "title": "",
        "base": base,
        "state": "open",
    }
    record["created_at"] = "2026-01-01T00:00:00Z"
    if defect == "has a title that retitles the terminal":
        record["title"] = "x\x1b]0;PWNED\x07y"
    note = (
        b"{not json"
        if defect == "has a note that does not decode"
        else _invocation_note(plan, 1, tuple(added))
    )
    if defect == "has a note that lists other files than its changeset changes":
        note = _invocation_note(plan, 1, (b"README.md",))
    if defect == "has a note whose old path is not text":
        forged = json.loads(_invocation_note(plan, 1, tuple(added)))
        forged["files"][0]["old_path"] = ["x"]
        note = json.dumps(forged).encode()
    if defect == "has a tool name with an escape sequence":
        note = _invocation_note(plan, 1, tuple(added)).replace(b'"tool": "write"', b'"tool": "w\\u001b[31m"')
    if defect == "has a note holding half a UTF-16 pair":
        note = _invocation_note(plan, 1, tuple(added)).replace(b'"tool": "write"', b'"tool": "w\\ud800"')
    if defect == "has a note of an unknown schema":
        note = json.dumps({"schema": "gitplan.invocation/9"}).encode()
    notes = {root.encode(): ("100644", _hash(context, "blob", json.dumps(record).encode()))}
    if defect != "misses the note of its changeset":
        notes[tip.encode()] = ("100644", _hash(context, "blob", note))
    if defect == "holds a file in its notes that is not a note":
        notes[b"README"] = ("100644", _hash(context, "blob", b"hello\n"))
    if defect == "annotates a commit of the user":
        notes[base.encode()] = ("100644", _hash(context, "blob", _invocation_note(plan, 1)))
    notes_plan = "another" if defect == "has notes that claim another plan" else plan
    notes_commit = _commit(
        context,
        _tree(context, notes),
        [],
        f"gitplan: notes for {plan}\n\nPlan-Id: {notes_plan}\nPlan-Tip: {tip}\n",
    )
    git(context, "update-ref", f"refs/changesets/{plan}", tip)
    git(context, "update-ref", f"refs/notes/changesets/{plan}", notes_commit)


@given('machine "{machine}" pushes plan "{plan}" to "{name}" with plain git')
def plain_push(context, machine, plan, name):  # type: ignore[no-untyped-def]
    git(
        context,
        "push",
        "-q",
        name,
        f"refs/changesets/{plan}:refs/changesets/{plan}",
        f"refs/notes/changesets/{plan}:refs/notes/changesets/{plan}",
        repo=_machines(context)[machine],
    )


@given('machine "{machine}" removes its plan "{plan}" with plain git')
def plain_remove(context, machine, plan):  # type: ignore[no-untyped-def]
    repo = _machines(context)[machine]
    git(context, "update-ref", "-d", f"refs/changesets/{plan}", repo=repo)
    git(context, "update-ref", "-d", f"refs/notes/changesets/{plan}", repo=repo)


@then('the file "{name}" outside the repository exists')
def outside_exists(context, name):  # type: ignore[no-untyped-def]
    assert Path(context.tmp, name).exists()


@given('the bundle "{name}" is copied to machine "{machine}"')
def copy_bundle(context, name, machine):  # type: ignore[no-untyped-def]
    shutil.copy(Path(context.tmp, name), Path(_machines(context)[machine], "..", f"{machine}-{name}"))


@given('I run git plan "{args}"')
def ran_plan(context, args):  # type: ignore[no-untyped-def]
    """A precondition: it must succeed."""
    _run(context, args)
    assert context.cli.exit_code == 0, context.cli_output


@given('plan "{plan}" has a half-done record forged with git plumbing that adds {shape}')
def forged_half_done(context, plan, shape):  # type: ignore[no-untyped-def]
    """A notes ref one step ahead of the plan ref, as a killed writer leaves it, but made by hand."""
    second_root = shape == "a second plan root"
    path, mode, content = SHAPES["a fine file" if second_root else shape]
    tip = git(context, "rev-parse", f"refs/changesets/{plan}").strip()
    notes_tip = git(context, "rev-parse", f"refs/notes/changesets/{plan}").strip()
    entries = _entries(context, tip, "-r")
    entries[path] = (mode, _hash(context, "blob", content or b""))
    number = int(git(context, "rev-list", "--count", tip, "^HEAD").strip())
    child = _commit(
        context,
        _tree(context, entries),
        [tip],
        f"plan {plan}\n\nPlan-Id: {plan}\nPlan-Format: 1\n"
        if second_root
        else f"write: forged\n\nPlan-Id: {plan}\nChangeset: {number}\nInvocation-Id: x2\n",
    )
    notes = _entries(context, notes_tip)
    notes[child.encode()] = ("100644", _hash(context, "blob", _invocation_note(plan, number, (path,))))
    notes_commit = _commit(
        context,
        _tree(context, notes),
        [notes_tip],
        f"gitplan: notes for {plan}\n\nPlan-Id: {plan}\nPlan-Tip: {child}\n",
    )
    git(context, "update-ref", f"refs/notes/changesets/{plan}", notes_commit, notes_tip)


@when('a real "git plan {args}" is killed at "{point}"')
def killed_at(context, args, point):  # type: ignore[no-untyped-def]
    environment = dict(os.environ, GITPLAN_FAULTS=f"{point}=exit:137")
    command = [sys.executable, "-m", "gitplan", "-C", context.repo, *args.split()]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    assert done.returncode == 137, (done.returncode, done.stdout, done.stderr)


@then("a fetch quarantine is left in the repository")
def quarantine_left(context):  # type: ignore[no-untyped-def]
    quarantine = Path(context.repo, ".git", "gitplan", "quarantine")
    assert quarantine.is_dir() and any(quarantine.iterdir())


@then("no fetch quarantine is left in the repository")
def no_quarantine_left(context):  # type: ignore[no-untyped-def]
    quarantine = Path(context.repo, ".git", "gitplan", "quarantine")
    assert not quarantine.exists() or not any(quarantine.iterdir()), list(quarantine.iterdir())


@given('machine "{machine}" is the repository "{name}"')
def named_machine(context, machine, name):  # type: ignore[no-untyped-def]
    _machines(context)[machine] = os.path.join(context.tmp, name)


@when('I run the git-plan program with "{args}" on a terminal')
def run_on_terminal(context, args):  # type: ignore[no-untyped-def]
    import pty

    controller, terminal = pty.openpty()
    command = [sys.executable, "-m", "gitplan", "-C", context.repo, *args.split()]
    child = subprocess.Popen(command, stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the program has ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    context.terminal_code = child.wait()
    context.terminal_output = b"".join(chunks).decode("utf-8", "replace")


@then('the terminal shows "{text}"')
def terminal_shows(context, text):  # type: ignore[no-untyped-def]
    assert context.terminal_code == 0, context.terminal_output
    assert text in context.terminal_output, context.terminal_output


@given('the URL "{url}" leads to the remote "{name}"')
def url_leads_to(context, url, name):  # type: ignore[no-untyped-def]
    git(context, "config", "--global", f"url.{os.path.join(context.tmp, name + '.git')}.insteadOf", url)


@given('machine "{machine}" pushes only the notes ref of plan "{plan}" to "{name}"')
def half_push(context, machine, plan, name):  # type: ignore[no-untyped-def]
    git(
        context,
        "push",
        "-q",
        name,
        f"refs/notes/changesets/{plan}:refs/notes/changesets/{plan}",
        repo=_machines(context)[machine],
    )


@given('machine "{machine}" has a branch "{branch}" that "{name}" does not')
def local_branch(context, machine, branch, name):  # type: ignore[no-untyped-def]
    repo = _machines(context)[machine]
    git(context, "checkout", "-q", "-b", branch, repo=repo)
    git(context, "commit", "-q", "--allow-empty", "-m", "only here", repo=repo)


@when('I fetch "{plan}" from "{name}" while the plan is applied here in between')
def fetch_racing_apply(context, plan, name):  # type: ignore[no-untyped-def]
    from common_steps import attempt

    from gitplan import faults

    store = context.store
    with faults.at("fetch.objects-moved", lambda: store.apply(plan, mode="worktree")):
        attempt(context, lambda: store.fetch(name, [plan]))


@when('I fetch "{plan}" from "{name}" while the plan is cancelled here in between')
def fetch_racing_cancel(context, plan, name):  # type: ignore[no-untyped-def]
    """The cancel lands once git has fetched, before the fetched plan is checked: the objects
    the fetch did not bring, since this repository had them, go with it."""
    from common_steps import attempt

    from gitplan import PlanStore, faults

    other = PlanStore.open(context.repo)
    with faults.at("fetch.quarantined", lambda: other.cancel(plan)):
        attempt(context, lambda: context.store.fetch(name, [plan]))


def _blobless_clone(context) -> str:  # type: ignore[no-untyped-def]
    """A `git clone --filter=blob:none` of the scenario's repository (its promisor remote)."""
    git(context, "config", "uploadpack.allowFilter", "true")
    clone = os.path.join(context.tmp, "partial")
    subprocess.run(
        ["git", "clone", "-q", "--filter=blob:none", f"file://{context.repo}", clone],
        check=True, capture_output=True,
    )  # fmt: skip
    return clone


@when('a blobless partial clone of this repository fetches plan "{plan}"')
def partial_clone_fetch(context, plan):  # type: ignore[no-untyped-def]
    """The clone's remote is its promisor, with a blob:none filter that git fetch would
    apply to the plan too."""
    from common_steps import attempt

    clone = _blobless_clone(context)
    context.partial = clone
    attempt(context, lambda: PlanStore.open(clone).fetch("origin", [plan]))


@then('the partial clone holds "{content}" at "{revision}" without asking its remote')
def partial_clone_holds(context, content, revision):  # type: ignore[no-untyped-def]
    """The remote's address is gone, so git cannot fetch a missing blob lazily."""
    subprocess.run(["git", "-C", context.partial, "remote", "set-url", "origin", "/nonexistent"], check=True)
    shown = subprocess.run(["git", "-C", context.partial, "show", revision], capture_output=True)
    assert shown.returncode == 0, shown.stderr.decode()
    assert shown.stdout == content.encode().decode("unicode_escape").encode(), shown.stdout


@then("git fsck --full is clean in the partial clone")
def partial_clone_fsck(context):  # type: ignore[no-untyped-def]
    checked = subprocess.run(["git", "-C", context.partial, "fsck", "--full"], capture_output=True)
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout + checked.stderr


@when('I push "{plan}" to "{name}" while the plan is cancelled here in between')
def push_racing_cancel(context, plan, name):  # type: ignore[no-untyped-def]
    """The cancel lands after the push read the plan's refs, before git sends them."""
    from common_steps import attempt

    from gitplan import PlanStore, faults

    other = PlanStore.open(context.repo)
    with faults.at("push.refs-read", lambda: other.cancel(plan)):
        attempt(context, lambda: context.store.push(name, [plan]))


@when('I push "{plan}" to "{name}" while machine "{machine}" pushes only its plan ref of it in between')
def push_racing_plan_ref(context, plan, name, machine):  # type: ignore[no-untyped-def]
    """The other push lands after this push read the remote's refs, before it sends its own."""
    from common_steps import attempt

    from gitplan import faults

    with faults.at("push.refs-read", lambda: plan_ref_only(context, machine, plan, name)):
        attempt(context, lambda: context.store.push(name, [plan]))


@given('machine "{machine}" pushes only the plan ref of plan "{plan}" to "{name}"')
def plan_ref_only(context, machine, plan, name):  # type: ignore[no-untyped-def]
    git(
        context,
        "push",
        "-q",
        name,
        f"refs/changesets/{plan}:refs/changesets/{plan}",
        repo=_machines(context)[machine],
    )


@when('I fetch "{plan}" from "{name}" while another fetch of it lands in between')
def fetch_racing_fetch(context, plan, name):  # type: ignore[no-untyped-def]
    from common_steps import attempt

    from gitplan import faults

    ran = []

    def other_fetch() -> None:
        if not ran:  # the other fetch passes the same point: it must not start a third
            ran.append(True)
            PlanStore.open(context.repo).fetch(name, [plan])

    with faults.at("fetch.objects-moved", other_fetch):
        attempt(context, lambda: context.store.fetch(name, [plan]))


@then('the fetch document says "{first}" "{first_outcome}" and "{second}" "{second_outcome}"')
def fetch_document(context, first, first_outcome, second, second_outcome):  # type: ignore[no-untyped-def]
    document = json.loads(context.cli.stdout)
    outcomes = {moved["plan_id"]: moved["outcome"] for moved in document["plans"]}
    assert outcomes == {first: first_outcome, second: second_outcome}, document


@when('in a blobless partial clone of this repository I run git plan "{first}", "{second}" and "{third}"')
def partial_clone_commands(context, first, second, third):  # type: ignore[no-untyped-def]
    """git reads the blobs a blobless clone lacks from its remote when it needs them;
    gitplan has git fetch them too."""
    clone = _blobless_clone(context)
    Path(context.tmp, "in.txt").write_text("# mine\n")
    context.runs = [
        subprocess.run(
            [sys.executable, "-m", "gitplan", *shlex.split(args.replace("{tmp}", context.tmp))],
            cwd=clone,
            capture_output=True,
            text=True,
        )  # fmt: skip
        for args in (first, second, third)
    ]


@then('each of them exited 0, and the last printed "{text}"')
def each_exited_zero(context, text):  # type: ignore[no-untyped-def]
    for run in context.runs:
        assert run.returncode == 0, (run.args, run.stdout, run.stderr)
    assert text in context.runs[-1].stdout, context.runs[-1].stdout


@given('I note the refs of plan "{plan}" on the remote "{name}"')
def note_remote_refs(context, plan, name):  # type: ignore[no-untyped-def]
    context.noted_remote_refs = _remote_refs(context, plan, name)


@then('the refs of plan "{plan}" on the remote "{name}" are as noted')
def remote_refs_as_noted(context, plan, name):  # type: ignore[no-untyped-def]
    assert _remote_refs(context, plan, name) == context.noted_remote_refs


def _remote_refs(context, plan: str, name: str) -> str:  # type: ignore[no-untyped-def]
    remote = os.path.join(context.tmp, f"{name}.git")
    names = (f"refs/changesets/{plan}", f"refs/notes/changesets/{plan}")
    return git(context, "for-each-ref", "--format=%(refname) %(objectname)", *names, repo=remote)
