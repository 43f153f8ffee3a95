"""The MCP server: the library's steps as tools for agent clients."""
