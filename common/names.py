"""The programs' names, as pyproject.toml's console scripts install them, and the version installed."""

AGENT_PROGRAM = "farmwatch-agent"
COLLECTOR_PROGRAM = "farmwatch-collector"


def installed_version() -> str:
    """The installed farmwatch distribution's version (pyproject.toml's), or "0" when run from a bare tree."""
    from importlib import metadata

    try:
        return metadata.version("farmwatch")
    except metadata.PackageNotFoundError:
        return "0"
