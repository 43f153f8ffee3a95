"""The task file format and the dependency graph: pure data and rules, no git."""
