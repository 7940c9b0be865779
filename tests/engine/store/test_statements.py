"""The raw SQLite statements write rows as SQLAlchemy would, or refuse to be built."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, create_engine

from engine.store.models import Event, Instance, Task
from engine.store.statements import _RawInsert


def test_the_hot_tables_build_their_inserts() -> None:
    dialect = create_engine("sqlite://").dialect
    for model in (Instance, Task, Event):
        assert _RawInsert(model.__table__, dialect, omit=("id",)).sql.startswith("INSERT INTO")


def test_a_column_with_a_callable_default_is_refused_not_written_as_null() -> None:
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True),
                  Column("at", DateTime, default=lambda: datetime.now(timezone.utc)))
    with pytest.raises(TypeError, match="t.at has a Python default"):
        _RawInsert(table, create_engine("sqlite://").dialect)
