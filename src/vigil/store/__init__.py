"""Persistence: the SQLAlchemy schema, Alembic migrations and the `Store` that writes
scans.

Only the store writes. SQLite is the embedded default; any SQLAlchemy URL given in
`VIGIL_DATABASE_URL` selects another database, so the schema stays portable.
"""

import typing as t

if t.TYPE_CHECKING:
    from vigil.store.base import Store


def open_store(url: str) -> "Store":
    """The store at a SQLAlchemy URL (`sqlite:///path`, `postgresql+psycopg://...`,
    `sqlite://` in memory), its schema brought up to date."""
    from vigil.store.store import SQLStore

    return SQLStore(url)


__all__ = ["open_store"]
