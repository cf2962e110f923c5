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


@pytest.mark.postgres
def test_store_contract_on_postgresql(postgres_url: str) -> None:
    """The same contract on PostgreSQL: the migrations (0005 and 0006 move rows
    with SQL that both databases must run), text columns that refuse NUL, locks."""
    with open_store(postgres_url) as store:
        check_store(store)


@pytest.mark.postgres
def test_a_scan_with_hostile_names_on_postgresql(
    postgres_url: str, tmp_path: pathlib.Path
) -> None:
    import os

    from helpers import image_bytes, work_config
    from vigil.pipeline.engines.inline import InlineEngine
    from vigil.scans.run import run_scan
    from vigil.store.records import ItemQuery

    folder = tmp_path / "src"
    folder.mkdir()
    (folder / os.fsdecode(b"bad\xff.png")).write_bytes(image_bytes(1))
    (folder / "line\nbreak.png").write_bytes(image_bytes(2))
    with open_store(postgres_url) as store:
        summary = run_scan(
            store, [str(folder)], config=work_config(provenance=True),
            engine=InlineEngine(),
        )  # fmt: skip
        assert summary.items == 2 and summary.status == "finished"
        names = sorted(
            p.path for i in store.iter_items(ItemQuery(summary.scan_id))
            for p in i.locations
        )  # fmt: skip
        assert names == sorted(
            [str(folder / os.fsdecode(b"bad\xff.png")), str(folder / "line\nbreak.png")]
        )


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
