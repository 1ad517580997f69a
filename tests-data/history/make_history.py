"""Write a `git fast-import` stream of a project history with the shapes real ones have.

    python tests-data/history/make_history.py [COMMITS] | git fast-import

The diff-fidelity scenario compares `git plan diff` with `git diff` over every
commit of it. Deterministic (seeded), so a failure names the same commit every
run. What it holds, on purpose:

* source files whose function lines (the text git puts after `@@`) have every
  length from 1 to 140 bytes, with and without trailing spaces and tabs, with
  multi-byte UTF-8 around the 80-byte cut, and lines git does not take as
  function lines (indented, starting with a digit or punctuation);
* edits near the top of files (no function line above), several hunks per
  file, insertions, deletions, blank-line changes, a missing final newline;
* renames (exact and with edits), copies left as additions, deletions, mode
  changes (100644 <-> 100755), symlinks, type changes, binary files (NUL
  bytes), empty files;
* names with spaces, tabs, quotes, backslashes, non-ASCII UTF-8 and non-UTF-8
  bytes, and deep directories.
"""

from __future__ import annotations

import random
import sys

WORDS = ["alpha", "beta", "gamma", "delta", "parse", "emit", "value", "node", "tree", "x", "y", "count"]
PREFIXES = ["int ", "static void ", "def ", "class ", "_private", "$var", "fn ", "Zeta", "sub "]
ODD_NAMES = [
    "with space.c",
    "tab\there.c",
    'quote"d.c',
    "back\\slash.c",
    "caf\u00e9/na\u00efve.c",
    "\u65e5\u672c/\u6587\u5b57.c",
    "deep/a/b/c/d/e/file.c",
]
NON_UTF8 = b"latin1-\xe9t\xe9.c"


class History:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.files: dict[bytes, tuple[str, bytes]] = {}  # path -> (mode, content)
        self.mark = 0
        self.out: list[bytes] = []

    # -- content ----------------------------------------------------------------

    def function_line(self) -> bytes:
        r = self.random
        length = r.randint(1, 140)
        head = r.choice(PREFIXES)
        body = head + " ".join(r.choice(WORDS) for _ in range(length // 4 + 1))
        if r.random() < 0.25:  # multi-byte characters where the 80-byte cut may fall
            body = body[: r.randint(70, 82)] + "\u00e9\u00e8\u4e2d" + body
        text = body.encode()[:length] if r.random() < 0.5 else body.encode()
        text = text.decode("utf-8", "ignore").encode()
        if r.random() < 0.3:
            text += r.choice([b" ", b"  ", b"\t", b" \t "])
        if text[:1].isspace() or not text:
            text = b"f" + text
        return text + b"(" + str(r.randint(0, 9)).encode() + b") {"

    def body_line(self) -> bytes:
        r = self.random
        kind = r.random()
        if kind < 0.15:
            return b""
        if kind < 0.25:
            return str(r.randint(0, 999)).encode() + b" numbers do not start functions"
        if kind < 0.3:
            return b"# a comment " + r.choice(WORDS).encode()
        indent = r.choice([b"    ", b"\t", b"  "])
        line = indent + b" ".join(r.choice(WORDS).encode() for _ in range(r.randint(1, 8)))
        if r.random() < 0.1:
            line += b"   "
        return line

    def source(self) -> bytes:
        lines: list[bytes] = []
        for _ in range(self.random.randint(1, 6)):
            lines.append(self.function_line())
            lines.extend(self.body_line() for _ in range(self.random.randint(2, 25)))
            lines.append(b"}")
        text = b"\n".join(lines)
        return text if self.random.random() < 0.08 else text + b"\n"

    def edit(self, content: bytes) -> bytes:
        r = self.random
        lines = content.split(b"\n")
        for _ in range(r.randint(1, 4)):
            at = r.randrange(len(lines) + 1)
            action = r.random()
            if action < 0.35 and lines:
                lines[min(at, len(lines) - 1)] = self.body_line()
            elif action < 0.6:
                lines[at:at] = [self.body_line() for _ in range(r.randint(1, 5))]
            elif action < 0.8 and len(lines) > 3:
                del lines[at : at + r.randint(1, 4)]
            elif action < 0.9:
                lines[at:at] = [self.function_line(), self.body_line(), b"}"]
            else:
                lines[at:at] = [b""]
        text = b"\n".join(lines)
        if r.random() < 0.05:
            text = text.rstrip(b"\n") if text.endswith(b"\n") else text + b"\n"
        return text

    def binary(self) -> bytes:
        return bytes(self.random.randrange(256) for _ in range(self.random.randint(1, 400))) + b"\0"

    # -- changes ------------------------------------------------------------------

    def new_path(self) -> bytes:
        r = self.random
        if r.random() < 0.15:
            name = r.choice(ODD_NAMES).encode()
        elif r.random() < 0.03:
            name = NON_UTF8
        else:
            name = f"src/{r.choice(WORDS)}{r.randint(0, 40)}.c".encode()
        return name

    def change(self) -> None:
        r = self.random
        paths = sorted(self.files)
        action = r.random()
        if not paths or action < 0.15:
            path = self.new_path()
            if path not in self.files:
                kind = r.random()
                if kind < 0.08:
                    self.files[path] = ("100644", self.binary())
                elif kind < 0.12:
                    self.files[path] = ("100644", b"")
                elif kind < 0.16:
                    self.files[path] = ("120000", r.choice(paths or [b"target"]))
                else:
                    self.files[path] = ("100755" if r.random() < 0.1 else "100644", self.source())
            return
        path = r.choice(paths)
        mode, content = self.files[path]
        if action < 0.6:
            if mode == "120000":
                self.files[path] = (mode, b"elsewhere/" + r.choice(WORDS).encode())
            elif b"\0" in content:
                self.files[path] = (mode, self.binary() if r.random() < 0.5 else content + b"more")
            else:
                self.files[path] = (mode, self.edit(content))
        elif action < 0.7:  # rename, sometimes with an edit
            target = self.new_path()
            if target not in self.files:
                del self.files[path]
                edited = self.edit(content) if r.random() < 0.4 and b"\0" not in content else content
                self.files[target] = (mode, edited if mode != "120000" else content)
        elif action < 0.77:
            del self.files[path]
        elif action < 0.85 and mode != "120000":
            self.files[path] = ("100755" if mode == "100644" else "100644", content)
        elif action < 0.88 and mode != "120000":
            self.files[path] = ("120000", b"link/to/" + r.choice(WORDS).encode())
        elif action < 0.92:  # copy: git shows it as an addition
            target = self.new_path()
            if target not in self.files:
                self.files[target] = (mode, content)
        else:
            self.files[path] = (mode, self.edit(content) if b"\0" not in content and mode != "120000" else content)

    # -- the stream -----------------------------------------------------------------

    def commit(self, number: int) -> None:
        self.out.append(b"commit refs/heads/main\n")
        self.out.append(f"committer History <history@example.com> {1700000000 + number * 60} +0000\n".encode())
        message = f"commit {number}\n".encode()
        self.out.append(b"data %d\n%s" % (len(message), message))
        self.out.append(b"deleteall\n")
        for path, (mode, content) in sorted(self.files.items()):
            self.out.append(b"M %s inline %s\n" % (mode.encode(), _quote(path)))
            self.out.append(b"data %d\n%s\n" % (len(content), content))
        self.out.append(b"\n")

    def build(self, commits: int) -> bytes:
        for number in range(commits):
            for _ in range(self.random.randint(1, 5)):
                self.change()
            self.commit(number)
        return b"".join(self.out)


def _quote(path: bytes) -> bytes:
    """A fast-import path: C-quoted when it holds a quote, a backslash, a tab or a newline."""
    if not any(c in path for c in b'"\\\t\n') and not path.startswith(b" "):
        return path
    escaped = path.replace(b"\\", b"\\\\").replace(b'"', b'\\"').replace(b"\t", b"\\t").replace(b"\n", b"\\n")
    return b'"' + escaped + b'"'


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 320
    sys.stdout.buffer.write(History(seed=20261125).build(count))
