"""dlexpert for agents and browsers (issue 18): the operations both front ends call (`tools`), the background runner
for long commands (`jobs`), the MCP server over stdio (`mcp_server`). Nothing here imports torch: a long command runs
as its own `dlexpert` process."""
