"""Front ends that serve a repository's plans to other programs: the MCP server."""
