"""Alembic environment: runs migrations on the connection the Store hands over."""

from alembic import context

from vigil.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - Vigil always passes its own connection
    raise RuntimeError(
        "vigil migrations run through vigil.store.migrate(), not alembic"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite needs batch mode to alter tables
)
with context.begin_transaction():
    context.run_migrations()
