"""The rows one batch of events touches, held in memory while the events apply.

Projections are pure functions of (rows, event): they read and change rows
here and never touch the database. The projector loads the rows a batch names,
applies the batch, and writes back what changed, in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Key = tuple[Any, ...]
Row = dict[str, Any]


class RowSet:
    """Rows by table and primary key, remembering which ones changed."""

    def __init__(self) -> None:
        self._rows: dict[str, dict[Key, Row | None]] = {}
        self._dirty: dict[str, set[Key]] = {}
        self._appended: dict[str, list[Row]] = {}

    def preload(self, table: str, key: Key, row: Row | None) -> None:
        """What the database holds for ``key`` (``None``: no such row)."""
        self._rows.setdefault(table, {})[key] = row

    def loaded(self, table: str, key: Key) -> bool:
        return key in self._rows.get(table, {})

    def get(self, table: str, key: Key) -> Row | None:
        return self._rows.get(table, {}).get(key)

    def put(self, table: str, key: Key, row: Row) -> None:
        """Insert or replace the whole row."""
        self._rows.setdefault(table, {})[key] = row
        self._dirty.setdefault(table, set()).add(key)

    def update(self, table: str, key: Key, **values: Any) -> bool:
        """Change some columns of an existing row; ``False`` if there is none."""
        row = self.get(table, key)
        if row is None:
            return False
        row.update(values)
        self._dirty.setdefault(table, set()).add(key)
        return True

    def append(self, table: str, row: Row) -> None:
        """A row that is only ever inserted (one per event), never read back here."""
        self._appended.setdefault(table, []).append(row)

    def changed(self) -> Iterable[tuple[str, list[Row]]]:
        """Each table's changed rows, to upsert."""
        for table, keys in self._dirty.items():
            rows = [self._rows[table][k] for k in keys]
            yield table, [r for r in rows if r is not None]

    def appended(self) -> Iterable[tuple[str, list[Row]]]:
        return self._appended.items()
