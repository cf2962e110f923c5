"""Persistence: the SQLAlchemy schema, Alembic migrations and the `Store` that writes
scans.

Only the store writes. SQLite is the embedded default; any SQLAlchemy URL given in
`VIGIL_DATABASE_URL` selects another database, so the schema stays portable.
"""

from vigil.store.store import Store

__all__ = ["Store"]
