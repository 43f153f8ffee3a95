"""What people and programs read: text and JSON, the board, graph formats, the agent guide."""
