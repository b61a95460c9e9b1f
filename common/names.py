"""The programs' names, as pyproject.toml's console scripts install them."""

AGENT_PROGRAM = "farmwatch-agent"
COLLECTOR_PROGRAM = "farmwatch-collector"
