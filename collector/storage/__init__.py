"""The collector's storage: every SQL statement and the schema live in this package."""
