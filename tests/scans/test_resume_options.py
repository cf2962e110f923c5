"""A resume runs with the scan's own stored options, not the flags of the command
that resumes it; options that change results make a new scan."""

import pathlib
import typing as t

import pytest
from click.testing import CliRunner

from vigil.cli import cli
from vigil.demo import build_demo
from vigil.pipeline.config import ScanOptions, build_config
from vigil.pipeline.engines.base import Engine, R, T
from vigil.plugins import build_registry
from vigil.scans.run import run_scan
from vigil.store import open_store
from vigil.store.records import ItemQuery, ScanStatus


class StopAfterFive(Engine):
    name = "stop_after_five"

    def map_unordered(
        self,
        fn: t.Callable[[T], R],
        tasks: t.Iterable[T],
        on_crash: t.Callable[[T, str], R],  # noqa: ARG002
    ) -> t.Iterator[R]:
        for count, task in enumerate(tasks):
            if count == 5:
                raise KeyboardInterrupt
            yield fn(task)


def test_resume_uses_the_stored_options(tmp_path: pathlib.Path) -> None:
    demo = tmp_path / "demo"
    build_demo(demo)
    home = tmp_path / "home"
    home.mkdir()
    url = f"sqlite:///{home / 'vigil.sqlite3'}"
    options = ScanOptions(provenance=False, prompts=False, hash_lists=())
    with open_store(url) as store:
        with pytest.raises(KeyboardInterrupt):
            run_scan(
                store,
                [str(demo)],
                config=build_config(build_registry(), options),
                engine=StopAfterFive(),
                options=options,
            )
        (scan,) = store.list_scans()
        assert scan.status == ScanStatus.INTERRUPTED
    result = CliRunner().invoke(
        cli,
        ["scan", "--resume", str(scan.id), "--engine", "inline", "--no-progress"],
        env={"VIGIL_HOME": str(home)},
    )
    assert result.exit_code == 0, result.output
    with open_store(url) as store:
        assert [s.id for s in store.list_scans()] == [scan.id]
        summary = store.summary(scan.id)
        assert summary.status == "finished" and summary.runs == 2
        assert summary.provenance.ai_items == 0  # provenance stayed off
        items = list(store.iter_items(ItemQuery(scan_id=scan.id)))
        assert items and all(not i.evidence for i in items)
        assert any(i.score("model_risk") for i in items)  # models stayed on


def test_the_same_command_with_other_options_is_a_new_scan(
    tmp_path: pathlib.Path,
) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "a.bin").write_bytes(b"bytes")
    env = {"VIGIL_HOME": str(tmp_path / "home")}
    runner = CliRunner()
    for args in (
        [],
        ["--no-provenance"],
        ["--pdq-pipeline", "full"],
        ["--no-models"],
    ):
        command = ["scan", "--engine", "inline", "--no-progress", *args, str(folder)]
        assert runner.invoke(cli, command, env=env).exit_code == 0
    listed = runner.invoke(cli, ["scan", "list"], env=env).output.splitlines()
    assert len(listed) == 4


def test_plugin_options_from_the_environment(tmp_path: pathlib.Path) -> None:
    image = next(
        pathlib.Path(__file__).parents[1].glob("data/fixtures/pdq/misc-images/*.png")
    )
    env = {
        "VIGIL_HOME": str(tmp_path / "home"),
        "VIGIL_PLUGIN_OPTIONS": '{"pdq": {"pipeline": "full"}}',
    }
    runner = CliRunner()
    result = runner.invoke(
        cli, ["scan", "--engine", "inline", "--no-progress", str(image)], env=env
    )
    assert result.exit_code == 0, result.output
    items = runner.invoke(cli, ["items", "--json"], env=env).output
    assert '"pdq"' in items
    with open_store(f"sqlite:///{tmp_path / 'home' / 'vigil.sqlite3'}") as store:
        (item,) = store.iter_items(ItemQuery())
        assert {h.pipeline for h in item.hashes if h.hasher == "pdq"} == {"pdq-full/1"}
    env["VIGIL_PLUGIN_OPTIONS"] = '{"pdq": {"pipeline": "half"}}'
    bad = runner.invoke(cli, ["hash", str(image)], env=env)
    assert bad.exit_code == 2 and "pdq: bad options" in bad.output
