"""Every store implementation passes the one Store contract suite."""

import pathlib

import pytest

from vigil.store import open_store
from vigil.testing import check_store


@pytest.mark.parametrize("where", ["file", "memory"])
def test_store_contract(where: str, tmp_path: pathlib.Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}" if where == "file" else "sqlite://"
    with open_store(url) as store:
        check_store(store)


def test_an_in_memory_store_is_one_database_for_every_session() -> None:
    with open_store("sqlite://") as store:
        scan = store.create_scan("k", ["/r"], {}, "test")
        assert store.get_scan(scan) is not None
        assert store.location == ":memory:"


def test_nothing_outside_the_store_touches_its_engine() -> None:
    """The CLI, scans and the other domains go through the Store interface."""
    source = pathlib.Path(__file__).resolve().parents[2] / "src" / "vigil"
    offenders = [
        str(path.relative_to(source))
        for path in source.rglob("*.py")
        if "store" not in path.relative_to(source).parts[:1]
        and (".engine." in path.read_text() or "store.engine" in path.read_text())
    ]
    assert offenders == []
