"""A writer process for concurrency.feature: records COUNT changesets into PLAN."""

from __future__ import annotations

import sys

from gitplan import PlanStore, ToolInvocation
from gitplan.errors import PlanNotFound


def main() -> int:
    repo, plan, worker, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = PlanStore.open(repo)
    for i in range(count):
        try:
            store.record(
                plan,
                {f"w{worker}/f{i}.txt": f"{worker} {i}\n".encode()},
                ToolInvocation(tool="writer", actor=f"actor-{worker}"),
            )
        except PlanNotFound:
            print("not found", flush=True)
            return 3
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
