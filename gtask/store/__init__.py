"""Task files on disk: the store, whole-folder loading, caches, the writer lock, crash recovery, the editor."""
