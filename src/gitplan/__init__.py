"""gitplan: git-native persistence for the changesets AI agents and tools make.

from gitplan import PlanStore, ToolInvocation, File
store = PlanStore.open(".")
store.create("p1", base="HEAD", title="rename helpers")
store.record("p1", {"src/a.py": b"...", "old.txt": None},
             ToolInvocation(tool="write_file", actor="coder"))
print(store.diff("p1"))
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .diffs import DiffOptions
    from .errors import BadInput, Conflict, Damaged, GitPlanError, PlanNotFound
    from .model import (
        MODE_KEEP,
        ApplyResult,
        ChangeSet,
        CleanupReport,
        File,
        FileChange,
        FileOnDisk,
        InvocationRecord,
        PlanRecord,
        PlanStatus,
        ToolInvocation,
    )
    from .store import PlanStore

# Every name is imported when first used, not with the package: the CLI starts (and
# answers --help, --version) without pygit2, and an agent's hook, which runs twice per
# tool call, without even the data classes.
_LAZY = {
    "PlanStore": "store",
    "DiffOptions": "diffs",
    **dict.fromkeys(["BadInput", "Conflict", "Damaged", "GitPlanError", "PlanNotFound"], "errors"),
    **dict.fromkeys(
        [
            "MODE_KEEP",
            "ApplyResult",
            "ChangeSet",
            "CleanupReport",
            "File",
            "FileChange",
            "FileOnDisk",
            "InvocationRecord",
            "PlanRecord",
            "PlanStatus",
            "ToolInvocation",
        ],
        "model",
    ),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MODE_KEEP",
    "ApplyResult",
    "BadInput",
    "ChangeSet",
    "CleanupReport",
    "Conflict",
    "Damaged",
    "DiffOptions",
    "File",
    "FileChange",
    "FileOnDisk",
    "GitPlanError",
    "InvocationRecord",
    "PlanNotFound",
    "PlanRecord",
    "PlanStatus",
    "PlanStore",
    "ToolInvocation",
]
__version__ = "0.1.0"
