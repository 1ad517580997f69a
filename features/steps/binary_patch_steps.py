"""Steps for the binary-patch scenarios of patches.feature: git's binary patch format,
well-formed and damaged in every way the reader checks."""

from __future__ import annotations

import base64
import hashlib
import zlib

from behave import given, then, when
from common_steps import attempt, git, stored_objects

from gitplan import ToolInvocation

OLD = bytes(range(200)) + b"\0old"
OLD_ID = hashlib.sha1(b"blob %d\0" % len(OLD) + OLD).hexdigest()[:7]


def _lines(payload: bytes) -> bytes:
    out = b""
    for start in range(0, len(payload), 52):
        chunk = payload[start : start + 52]
        letter = len(chunk) + 64 if len(chunk) <= 26 else len(chunk) - 26 + 96
        out += bytes([letter]) + base64.b85encode(chunk, pad=True) + b"\n"
    return out


def literal(data: bytes, size: int | None = None) -> bytes:
    return b"literal %d\n" % (len(data) if size is None else size) + _lines(zlib.compress(data)) + b"\n"


def delta(instructions: bytes, size: int) -> bytes:
    return b"delta %d\n" % size + _lines(zlib.compress(instructions)) + b"\n"


def varint(value: int) -> bytes:
    out = b""
    while True:
        byte = value & 0x7F
        value >>= 7
        out += bytes([byte | (0x80 if value else 0)])
        if not value:
            return out


def _delta(base_size: int, result_size: int, ops: bytes) -> bytes:
    return varint(base_size) + varint(result_size) + ops


def modify(path: str, block: bytes) -> bytes:
    return (
        f"diff --git a/{path} b/{path}\nindex {OLD_ID}..0000000 100644\nGIT binary patch\n".encode()
        + block
        + literal(b"")
    )


def new(path: str, block: bytes, header: str | None = None, mode: str = "100644") -> bytes:
    head = header or f"diff --git a/{path} b/{path}"
    return (
        f"{head}\nnew file mode {mode}\nindex 0000000..0000000\nGIT binary patch\n".encode()
        + block
        + literal(b"")
    )


COPY_ALL = bytes([0x80 | 0x10 | 0x20]) + varint(0)[:0] + bytes([len(OLD) & 0xFF, len(OLD) >> 8])
GOOD_DELTA = _delta(len(OLD), len(OLD) + 3, COPY_ALL + b"\x03new")

PATCHES = {
    "a new binary file": new("data/new.bin", literal(b"\0new")),
    "a quoted name": new("x", literal(b"\0q"), header='diff --git "a/sp ace\\tx.bin" "b/sp ace\\tx.bin"'),
    "a delta": modify("logo.bin", delta(GOOD_DELTA, len(GOOD_DELTA))),
    "a rename with new contents": b"diff --git a/logo.bin b/moved.bin\nsimilarity index 90%\n"
    b"rename from logo.bin\nrename to moved.bin\nindex "
    + OLD_ID.encode()
    + b"..0000000 100644\nGIT binary patch\n"
    + literal(OLD + b"!")
    + literal(b""),
    "a copy with new contents": b"diff --git a/logo.bin b/copied.bin\nsimilarity index 90%\n"
    b"copy from logo.bin\ncopy to copied.bin\nindex "
    + OLD_ID.encode()
    + b"..0000000 100644\nGIT binary patch\n"
    + literal(OLD + b"!")
    + literal(b""),
    "a deletion": b"diff --git a/logo.bin b/logo.bin\ndeleted file mode 100644\nindex "
    + OLD_ID.encode()
    + b"..0000000\n"
    b"GIT binary patch\n" + literal(b"") + literal(OLD),
    "a mode change": b"diff --git a/logo.bin b/logo.bin\nold mode 100644\nnew mode 100755\n"
    b"index " + OLD_ID.encode() + b"..0000000\nGIT binary patch\n" + literal(OLD + b"x") + literal(OLD),
    "a forward-only hunk and a text diff": b"diff --git a/f.bin b/f.bin\nnew file mode 100644\n"
    b"index 0000000..0000000\nGIT binary patch\n"
    + literal(b"\0f")
    + b"diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-hi\n+ho\n",
    "a missing file": modify("missing.bin", literal(b"\0x")),
    "a stale index line": modify("logo.bin", literal(b"\0x")).replace(OLD_ID.encode(), b"abcdef0"),
    "a result that is not the blob it names": modify("logo.bin", literal(b"\0x")).replace(
        b"..0000000", b"..abcdef0"
    ),
    "an existing file": new("README.md", literal(b"\0x")),
    "damaged base85": new("d.bin", b"literal 3\nK~~~~~\n\n"),
    "an unknown block": new("d.bin", b"weird 3\n" + _lines(zlib.compress(b"abc")) + b"\n"),
    "a wrong literal size": new("d.bin", literal(b"\0abc", size=9)),
    "a delta from another version": modify("logo.bin", delta(_delta(5, 3, b"\x03abc"), 9)),
    "a delta with a zero opcode": modify("logo.bin", delta(_delta(len(OLD), 1, b"\x00"), 6)),
    "a truncated delta": modify("logo.bin", delta(_delta(len(OLD), 9, b"\x05ab"), 7)),
    "a delta copying past the end": modify("logo.bin", delta(_delta(len(OLD), 9, b"\x90\xff"), 6)),
    "a delta of the wrong result size": modify("logo.bin", delta(_delta(len(OLD), 99, b"\x02ab"), 6)),
    "a bad mode": new("d.bin", literal(b"\0x"), mode="10x644"),
    "unquoted names that differ": b"diff --git a/one.bin b/two.bin\nindex 1111111..2222222\n"
    b"GIT binary patch\n" + literal(b"\0x") + literal(b""),
    "no binary data": b"diff --git a/logo.bin b/logo.bin\nindex 1111111..2222222 100644\n"
    b"Binary files a/logo.bin and b/logo.bin differ\n",
}


@given('the plan "{plan}" holds a binary file "logo.bin"')
def plan_binary(context, plan):  # type: ignore[no-untyped-def]
    context.store.record(plan, {"logo.bin": OLD}, ToolInvocation(tool="render"))
    context.objects = None  # measured again by the When step


@when('I record the binary patch with {case} in "{plan}"')
def record_binary_patch(context, case, plan):  # type: ignore[no-untyped-def]
    context.objects = stored_objects(context)
    context.refs = git(context, "for-each-ref")
    text = PATCHES[case]

    def run():  # type: ignore[no-untyped-def]
        changes = context.store.patch_changes(plan, text, "binary.patch")
        return context.store.record(plan, changes, ToolInvocation(tool="patch"))

    attempt(context, run)


@then('the tip of "{plan}" matches what {case} makes')
def tip_matches(context, plan, case):  # type: ignore[no-untyped-def]
    def blob(path: str) -> bytes:
        import subprocess

        return subprocess.run(
            ["git", "cat-file", "blob", f"refs/changesets/{plan}:{path}"],
            cwd=context.repo, capture_output=True, check=True,
        ).stdout  # fmt: skip

    expected = {
        "a new binary file": lambda: blob("data/new.bin") == b"\0new",
        "a quoted name": lambda: blob("sp ace\tx.bin") == b"\0q",
        "a delta": lambda: blob("logo.bin") == OLD + b"new",
        "a rename with new contents": lambda: blob("moved.bin") == OLD + b"!",
        "a copy with new contents": lambda: blob("copied.bin") == OLD + b"!" and blob("logo.bin") == OLD,
        "a deletion": lambda: (
            "logo.bin" not in git(context, "ls-tree", "--name-only", f"refs/changesets/{plan}")
        ),
        "a mode change": lambda: "100755" in git(context, "ls-tree", f"refs/changesets/{plan}", "logo.bin"),
        "a forward-only hunk and a text diff": lambda: (
            blob("f.bin") == b"\0f" and blob("README.md") == b"ho\n"
        ),
    }
    assert expected[case](), case
