"""Test fixtures shared by every test module: a temporary store and the benign public
fixture files."""

import os
import pathlib
import typing as t

import pytest

from paths import DATA, REPO, SHARED
from vigil.store.store import SQLStore as Store

__all__ = ["DATA", "REPO", "SHARED"]


@pytest.fixture(scope="session")
def shared_fixtures() -> pathlib.Path:
    """`../shared/fixtures` when it is beside the repository, else the subset in
    `tests/data/fixtures` (same layout and MANIFEST entries) that every clone has.
    Tests that need a file outside the subset call `helpers.require_fixture`."""
    path = SHARED / "fixtures"
    if (path / "MANIFEST.json").is_file():
        return path.resolve()
    return DATA / "fixtures"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIL_HOME", str(tmp_path / "vigil-home"))
    monkeypatch.delenv("VIGIL_DATABASE_URL", raising=False)


@pytest.fixture
def store(tmp_path: pathlib.Path) -> Store:
    db = Store(f"sqlite:///{tmp_path / 'test.sqlite3'}")
    yield db  # type: ignore[misc]
    db.close()


@pytest.fixture
def postgres_url() -> t.Iterator[str]:
    """A fresh PostgreSQL database for one test, from `VIGIL_TEST_POSTGRES_URL`
    (a server URL that `.ci/run` starts); skipped when it is not set."""
    base = os.environ.get("VIGIL_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("VIGIL_TEST_POSTGRES_URL is not set (.ci/run starts a server)")
    import secrets

    import sqlalchemy as sa

    name = f"vigil_{secrets.token_hex(6)}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        yield str(sa.make_url(base).set(database=name).render_as_string(False))
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
