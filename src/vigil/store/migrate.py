"""Bring a database to the newest schema with Alembic, without an alembic.ini.

Separate from the Store so that `vigil db upgrade`, tests and the Store share one path.
"""

import contextlib
import typing as t

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

SCRIPT_LOCATION = "vigil.store:migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


#: pg_advisory_xact_lock key held while PostgreSQL migrates ("VIGIL" in ASCII).
POSTGRES_MIGRATION_LOCK_KEY = 0x564947494C


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to `revision` (default: the newest), one process
    at a time: commands started together on a fresh store never race to create
    the same tables (a file lock beside a SQLite database, an advisory lock in
    PostgreSQL)."""
    config = alembic_config()
    with _file_lock(engine), engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"),
                {"key": POSTGRES_MIGRATION_LOCK_KEY},
            )
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@contextlib.contextmanager
def _file_lock(engine: Engine, suffix: str = ".lock") -> t.Iterator[None]:
    """An exclusive lock on `<database><suffix>` for a SQLite file; nothing else."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    import fcntl

    try:
        lock = open(f"{database}{suffix}", "a+b")  # noqa: SIM115 - closed below
    except OSError:  # an unwritable place: SQLite reports it in its own words
        yield
        return
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


#: pg_advisory_lock key held while one process brings triage state up to date.
POSTGRES_TRIAGE_LOCK_KEY = 0x5649474954


@contextlib.contextmanager
def exclusive(engine: Engine, name: str, postgres_key: int) -> t.Iterator[None]:
    """One process at a time, across processes: a file lock beside a SQLite file,
    a session advisory lock in PostgreSQL (in-memory SQLite is one process)."""
    with _file_lock(engine, f".{name}.lock"):
        if engine.dialect.name != "postgresql":
            yield
            return
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": postgres_key})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:k)"), {"k": postgres_key}
                )
                connection.commit()
