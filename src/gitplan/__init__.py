"""gitplan: git-native persistence for the changesets AI agents and tools make.

from gitplan import PlanStore, ToolInvocation, File
store = PlanStore.open(".")
store.create("p1", base="HEAD", title="rename helpers")
store.record("p1", {"src/a.py": b"...", "old.txt": None},
             ToolInvocation(tool="write_file", actor="coder"))
print(store.diff("p1"))
"""

from .diffs import DiffOptions
from .errors import BadInput, Conflict, Damaged, GitPlanError, PlanNotFound
from .model import (
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

__all__ = [
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
