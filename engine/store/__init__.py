"""Persistence: the schema, the names of states and event kinds, installation settings, sessions, migrations."""
