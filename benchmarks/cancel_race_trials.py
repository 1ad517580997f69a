"""Cancel racing free-running writer processes, many times: `python -m benchmarks.cancel_race_trials 100`.

Not an asv benchmark (asv collects nothing here): a soak run for the numbers quoted in
notes. Each trial starts 3 to 6 writer processes recording into one plan, cancels it once
one of them has published (a fault-point mark, not a sleep) plus a random delay, and checks
that every writer exited 0 or 3, that `git fsck --full` is clean, that nothing is
unreachable, and that no pack is left.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WRITER = str(Path(__file__).resolve().parents[1] / "features" / "steps" / "writer.py")


def trial(number: int) -> list[str]:
    from gitplan import PlanStore

    repo = tempfile.mkdtemp(prefix="gitplan-race-")
    try:
        subprocess.run(["git", "init", "-q", repo], check=True)
        Path(repo, "README.md").write_text("x\n")
        subprocess.run(["git", "-C", repo, "add", "."], check=True)
        subprocess.run(["git", "-C", repo, "commit", "-qm", "first"], check=True)
        store = PlanStore.open(repo)
        store.create("busy")
        marks = Path(repo, "marks")
        marks.mkdir()
        environment = dict(os.environ, GITPLAN_FAULTS=f"transaction.published=mark:{marks}")
        writers = [
            subprocess.Popen(
                [sys.executable, WRITER, repo, "busy", str(w), "200"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=environment,
            )
            for w in range(3 + number % 4)
        ]
        while not any(marks.iterdir()):
            time.sleep(0.002)
        time.sleep(random.uniform(0, 0.05))
        store.cancel("busy")
        problems = []
        for writer in writers:
            error = writer.communicate()[1]
            if writer.returncode not in (0, 3):
                problems.append(f"writer exited {writer.returncode}: {error[-500:]}")
        fsck = subprocess.run(["git", "-C", repo, "fsck", "--full"], capture_output=True, text=True)
        unreachable = subprocess.run(
            ["git", "-C", repo, "fsck", "--unreachable", "--no-reflogs"], capture_output=True, text=True
        )
        if fsck.returncode or fsck.stdout.strip() or unreachable.stdout.strip():
            problems.append(f"fsck: {fsck.stdout[-500:]} {fsck.stderr[-500:]} {unreachable.stdout[-500:]}")
        left = list(Path(repo, ".git", "objects", "pack").glob("*.pack"))
        if left:
            problems.append(f"packs left: {left}")
        return problems
    finally:
        shutil.rmtree(repo, ignore_errors=True)


def main() -> int:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    bad = 0
    for number in range(trials):
        problems = trial(number)
        bad += bool(problems)
        for problem in problems:
            print(f"trial {number}: {problem}")
    print(f"{trials} trials, {bad} with problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
