"""Run folders: one training run on disk, with a lock, a recorded stage and atomic writes."""

from seqzoo._lazy import lazy_exports

__all__ = ["STAGES", "FolderLock", "FolderLockedError", "RunFolder", "RunFolderError"]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "STAGES": ("seqzoo.runs.layout", "STAGES"),
        "FolderLock": ("seqzoo.runs.lock", "FolderLock"),
        "FolderLockedError": ("seqzoo.runs.lock", "FolderLockedError"),
        "RunFolder": ("seqzoo.runs.folder", "RunFolder"),
        "RunFolderError": ("seqzoo.runs.record", "RunFolderError"),
    },
)
