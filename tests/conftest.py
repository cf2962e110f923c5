"""Shared test fixtures: a temporary store, synthesised benign images, ../shared
location."""

import pathlib

import pytest

from vigil.store.store import Store

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
def shared_fixtures() -> pathlib.Path:
    """`../shared/fixtures`, or skip: the bigger evaluations need the shared folder."""
    path = SHARED / "fixtures"
    if not path.is_dir():
        pytest.skip(
            f"{path} is absent (shared fixtures not checked out beside the repo)"
        )
    return path


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIL_HOME", str(tmp_path / "vigil-home"))
    monkeypatch.delenv("VIGIL_DATABASE_URL", raising=False)


@pytest.fixture
def store(tmp_path: pathlib.Path) -> Store:
    db = Store(f"sqlite:///{tmp_path / 'test.sqlite3'}")
    yield db  # type: ignore[misc]
    db.close()
