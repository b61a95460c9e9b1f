"""farmwatch-agent: reports what a company laptop sees to the collector."""
__version__ = "0.1.0"
