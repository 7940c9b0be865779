"""Persistence: the schema, sessions and migrations."""
