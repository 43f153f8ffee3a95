"""Pure readers that turn another tracker's data (Backlog.md, beads, Taskwarrior) into neutral task records."""

# Each reader only reads files and returns a SourceBatch: it writes nothing and runs no git. Besides itself
# it uses only gtask.core (IDs and the key table), the layer it stands beside.

from __future__ import annotations

from gtask.importers.records import ImportedTask, Note, Skipped, SourceBatch

__all__ = ["ImportedTask", "Note", "Skipped", "SourceBatch"]
