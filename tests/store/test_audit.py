"""The audit log is append-only and hash-chained: `vigil audit verify` finds an
edit, a deletion, a reordering and (with a head kept elsewhere) a truncation, and
the CLI records decisions and exports in it."""

import json
import pathlib

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from vigil.cli import cli
from vigil.exitcodes import ExitCode
from vigil.store import open_store
from vigil.store.audit import GENESIS
from vigil.store.base import Store


@pytest.fixture
def logged(tmp_path: pathlib.Path) -> tuple[Store, str]:
    url = f"sqlite:///{tmp_path / 'vigil.sqlite3'}"
    store = open_store(url)
    for n in range(5):
        store.audit.append("ana", "view", f"item-{n}", {"n": n, "name": "caf\u00e9"})
    yield store, str(tmp_path)  # type: ignore[misc]
    store.close()


def _sql(store: Store, statement: str) -> None:
    with store.engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(sa.text(statement))


def _verify(home: str, *extra: str) -> tuple[int, dict]:
    done = CliRunner().invoke(
        cli, ["audit", "verify", "--json", *extra], env={"VIGIL_HOME": home}
    )
    return done.exit_code, json.loads(done.output)


def test_an_intact_log_verifies(logged: tuple[Store, str]) -> None:
    store, home = logged
    code, result = _verify(home)
    assert code == 0 and result["ok"] and result["records"] == 5
    assert result["head"] == store.audit.head()[1] != GENESIS
    records = store.audit.records()
    assert [r.prev_sha256 for r in records[1:]] == [r.sha256 for r in records[:-1]]
    assert records[0].prev_sha256 == GENESIS


def test_an_edit_is_found(logged: tuple[Store, str]) -> None:
    store, home = logged
    _sql(store, "UPDATE audit_log SET target = 'item-x' WHERE id = 3")
    code, result = _verify(home)
    assert code == ExitCode.AUDIT_BROKEN and result["record_id"] == 3
    assert "changed" in result["problem"]


def test_an_edit_that_rehashes_its_own_record_breaks_the_next_link(
    logged: tuple[Store, str],
) -> None:
    store, home = logged
    from vigil.store.audit import record_hash

    row = store.audit.records()[2]
    forged = record_hash(
        row.id, row.at, row.actor, "reveal", row.target,
        json.dumps(row.details, sort_keys=True, ensure_ascii=False), row.prev_sha256,
    )  # fmt: skip
    _sql(
        store,
        f"UPDATE audit_log SET action = 'reveal', sha256 = '{forged}' WHERE id = 3",  # noqa: S608 - a test's own hex
    )
    code, result = _verify(home)
    assert code == ExitCode.AUDIT_BROKEN and result["record_id"] == 4


def test_a_deletion_is_found(logged: tuple[Store, str]) -> None:
    store, home = logged
    _sql(store, "DELETE FROM audit_log WHERE id = 2")
    code, result = _verify(home)
    assert code == ExitCode.AUDIT_BROKEN and "missing" in result["problem"]


def test_a_reordering_is_found(logged: tuple[Store, str]) -> None:
    store, home = logged
    _sql(store, "UPDATE audit_log SET id = 100 WHERE id = 2")
    _sql(store, "UPDATE audit_log SET id = 2 WHERE id = 4")
    _sql(store, "UPDATE audit_log SET id = 4 WHERE id = 100")
    code, result = _verify(home)
    assert code == ExitCode.AUDIT_BROKEN and result["record_id"] == 2


def test_removing_the_newest_records_is_found_with_a_head_kept_elsewhere(
    logged: tuple[Store, str],
) -> None:
    store, home = logged
    _, head = store.audit.head()
    store.audit.append("ana", "export", "assessments")
    assert _verify(home, "--head", head)[0] == 0  # it grew: the head is still there
    _sql(store, "DELETE FROM audit_log WHERE id >= 5")
    assert _verify(home)[0] == 0  # a shorter chain holds on its own
    code, result = _verify(home, "--head", head)
    assert code == ExitCode.AUDIT_BROKEN and "not in the chain" in result["problem"]


def test_writers_at_once_never_fork_the_chain(logged: tuple[Store, str]) -> None:
    import threading

    store, home = logged
    others = [open_store(f"sqlite:///{home}/vigil.sqlite3") for _ in range(4)]

    def write(writer: Store, n: int) -> None:
        for i in range(20):
            writer.audit.append(f"writer-{n}", "view", f"item-{i}")

    threads = [
        threading.Thread(target=write, args=(s, n)) for n, s in enumerate(others)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for other in others:
        other.close()
    code, result = _verify(home)
    assert code == 0 and result["records"] == 5 + 80
