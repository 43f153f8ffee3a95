"""Deciding what to do: ranking, checks, stats, workspaces and their overview."""
