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


def _at(url: str, revision: str, direction: str = "upgrade") -> None:
    from alembic import command

    engine = create_db_engine(url)
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, direction)(config, revision)
    engine.dispose()


def test_scores_and_thresholds_migrations_move_rows_both_ways(
    tmp_path: pathlib.Path,
) -> None:
    """0005 moves prompt_risk and model_risk into `scores`, 0006 a list's PDQ
    threshold into `thresholds`; their downgrades move them back."""
    import sqlite3

    db = tmp_path / "m.sqlite3"
    url = f"sqlite:///{db}"
    _at(url, "0004")
    now = "2026-11-30 12:00:00"
    with sqlite3.connect(db) as c:
        c.execute(
            "insert into items (id, sha256, size, kind, first_seen_at) "
            "values (1, ?, 1, 'png', ?), (2, ?, 1, 'safetensors', ?)",
            ("a" * 64, now, "b" * 64, now),
        )
        c.execute(
            "insert into generation_records (item_id, tool, source, loras, "
            "other_models, extra, prompt_risk, prompt_decision, prompt_triggers, "
            "recorded_at) values (1, 'A1111', 'png:parameters', '[]', '[]', '{}', "
            "0.9, 'block', '[{\"category\": \"x\"}]', ?)",
            (now,),
        )
        c.execute(
            "insert into model_files (item_id, format, dangerous, risk_level, "
            "model_risk, report, recorded_at) values (2, 'safetensors', 0, 'low', "
            "0.1, '{}', ?)",
            (now,),
        )
        c.execute(
            "insert into hash_lists (name, description, version, pdq_threshold_bits, "
            "pdq_pipeline, is_suppression, created_at, updated_at) "
            "values ('k', '', 1, 20, 'unknown', 0, ?, ?)",
            (now, now),
        )
    _at(url, "head")
    with sqlite3.connect(db) as c:
        scores = c.execute(
            "select item_id, name, value, level, details, detector from scores "
            "order by item_id"
        ).fetchall()
        (thresholds,) = c.execute("select thresholds from hash_lists").fetchone()
    assert scores == [
        (1, "prompt_risk", 0.9, "block", '{"triggers": [{"category": "x"}]}',
         "prompt_filter"),
        (2, "model_risk", 0.1, "low", "{}", "model_inspector"),
    ]  # fmt: skip
    assert thresholds == '{"pdq": 20}'
    _at(url, "0004", "downgrade")
    with sqlite3.connect(db) as c:
        assert c.execute(
            "select prompt_risk, prompt_decision from generation_records"
        ).fetchone() == (0.9, "block")
        assert c.execute("select model_risk from model_files").fetchone() == (0.1,)
        assert c.execute("select pdq_threshold_bits from hash_lists").fetchone() == (
            20,
        )
