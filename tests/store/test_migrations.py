import pathlib

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from vigil.store import migrate
from vigil.store.models import Base
from vigil.store.store import SQLStore as Store
from vigil.store.store import create_db_engine


def test_migrations_build_exactly_the_models(tmp_path: pathlib.Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    migrate.upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_upgrade_is_idempotent_and_downgrade_empties(tmp_path: pathlib.Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    Store(url).close()
    store = Store(url)  # second open: already at head, nothing to do
    tables = set(inspect(store.engine).get_table_names())
    assert {"scans", "scan_files", "items", "locations", "hashes", "errors"} <= tables
    from alembic import command

    config = migrate.alembic_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(store.engine).get_table_names()) == {"alembic_version"}
    store.close()
