import io
import os
import pathlib
import typing as t
import zipfile

import pytest

from helpers import image_bytes, store_rows, work_config
from vigil.media.base import Limits
from vigil.pipeline.engines.base import Engine
from vigil.pipeline.engines.inline import InlineEngine
from vigil.pipeline.engines.local import LocalEngine
from vigil.scans.run import run_scan
from vigil.store.store import SQLStore as Store


def make_tree(root: pathlib.Path) -> None:
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    for i in range(5):
        (root / "a" / f"img{i}.png").write_bytes(image_bytes(i))
    (root / "b" / "copy-of-img0.png").write_bytes(image_bytes(0))
    (root / "b" / "empty.jpg").write_bytes(b"")
    (root / "b" / "truncated.jpg").write_bytes(image_bytes(9, fmt="JPEG")[:200])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("inside/img1.png", image_bytes(1))
        archive.writestr("inside/new.png", image_bytes(7))
        archive.writestr("../escape.png", image_bytes(8))
    (root / "b" / "bundle.zip").write_bytes(buffer.getvalue())


def test_scan_records_items_locations_hashes_and_errors(
    tmp_path: pathlib.Path, store: Store
) -> None:
    make_tree(tmp_path / "src")
    summary = run_scan(
        store, [str(tmp_path / "src")], config=work_config(), engine=InlineEngine()
    )
    assert summary.status == "finished"
    assert summary.files == 9
    # 5 images + empty + truncated + zip + new.png + escape never read
    assert summary.items == 9
    # copy-of-img0 and the zipped img1 are duplicates of files on disk
    assert summary.duplicates == 2
    assert summary.errors_by_reason == {
        "empty_file": 1,
        "path_traversal": 1,
        "truncated": 1,
    }
    data = store_rows(store)
    members = {(pathlib.Path(p).name, m) for p, m, _s, _h in data["locations"] if m}
    assert members == {
        ("bundle.zip", "inside/img1.png"),
        ("bundle.zip", "inside/new.png"),
    }
    pdq = [h for h in data["hashes"] if h[1] == "pdq"]
    assert len(pdq) == 6  # five distinct PNGs + new.png; no PDQ for broken files
    assert all(h[3] == "vigil-pdq512/1" for h in pdq)
    truncated_hashes = {
        h[1] for h in data["hashes"] if h[0] == _sha(tmp_path, "b/truncated.jpg")
    }
    assert truncated_hashes == {"md5", "sha1", "sha256"}  # bytes hashed, image refused


def _sha(root: pathlib.Path, relative: str) -> str:
    import hashlib

    return hashlib.sha256((root / "src" / relative).read_bytes()).hexdigest()


def test_rescan_resumes_the_unfinished_scan_and_skips_finished_files(
    tmp_path: pathlib.Path, store: Store
) -> None:
    make_tree(tmp_path / "src")

    class StopAfter(Engine):
        name = "stop_after"

        def map_unordered(self, fn, tasks, _on_crash):  # type: ignore[no-untyped-def]
            for index, task in enumerate(tasks):
                if index == 4:
                    raise KeyboardInterrupt
                yield fn(task)

    with pytest.raises(KeyboardInterrupt):
        run_scan(
            store, [str(tmp_path / "src")], config=work_config(), engine=StopAfter()
        )
    first = store.list_scans()
    assert [s.status for s in first] == ["interrupted"]
    assert len(store.finished_paths(first[0].id)) == 4

    seen: list[str] = []

    class Counting(InlineEngine):
        def map_unordered(self, fn, tasks, _on_crash):  # type: ignore[no-untyped-def]
            for task in tasks:
                seen.append(task.path)
                yield fn(task)

    summary = run_scan(
        store, [str(tmp_path / "src")], config=work_config(), engine=Counting()
    )
    assert summary.scan_id == first[0].id and summary.runs == 2
    assert len(seen) == 5  # only the files not journaled before
    assert summary.files == 9

    reference = Store(f"sqlite:///{tmp_path / 'ref.sqlite3'}")
    run_scan(
        reference, [str(tmp_path / "src")], config=work_config(), engine=InlineEngine()
    )
    assert store_rows(store) == store_rows(reference)
    reference.close()


def test_a_file_that_vanishes_mid_scan_is_an_error_record(
    tmp_path: pathlib.Path, store: Store
) -> None:
    make_tree(tmp_path / "src")
    victim = tmp_path / "src" / "a" / "img3.png"

    class Deleting(InlineEngine):
        def map_unordered(self, fn, tasks, on_crash):  # type: ignore[no-untyped-def]
            victim.unlink()
            yield from super().map_unordered(fn, tasks, on_crash)

    summary = run_scan(
        store, [str(tmp_path / "src")], config=work_config(), engine=Deleting()
    )
    assert summary.status == "finished"
    assert summary.errors_by_reason.get("file_vanished") == 1
    assert summary.files == 9


def test_unreadable_directory_is_recorded_once(
    tmp_path: pathlib.Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path / "src")
    locked = str(tmp_path / "src" / "b")
    real_scandir = os.scandir

    def scandir(path: str) -> t.Any:  # root reads everything: refuse like a locked dir
        if os.fspath(path) == locked:
            raise PermissionError(13, "Permission denied", locked)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    for _ in range(2):  # the second run resumes nothing and records nothing again
        summary = run_scan(
            store, [str(tmp_path / "src")], config=work_config(), engine=InlineEngine()
        )
    assert summary.errors_by_reason == {"unreadable_directory": 1}
    assert summary.files == 5 + 1  # five images in a/, plus the journaled directory


def test_symlinks_are_not_followed(tmp_path: pathlib.Path, store: Store) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.png").write_bytes(image_bytes(1))
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "real.png").write_bytes(image_bytes(2))
    (tmp_path / "src" / "link.png").symlink_to(tmp_path / "outside" / "secret.png")
    (tmp_path / "src" / "dirlink").symlink_to(tmp_path / "outside")
    summary = run_scan(
        store, [str(tmp_path / "src")], config=work_config(), engine=InlineEngine()
    )
    assert summary.items == 1  # the links are recorded, never read
    assert summary.errors_by_reason == {"symlink": 2}
    assert summary.files == 3


def test_process_pool_gives_the_same_store_as_inline(tmp_path: pathlib.Path) -> None:
    make_tree(tmp_path / "src")
    stores = []
    for name, engine in (("inline", InlineEngine()), ("local", LocalEngine(workers=2))):
        store = Store(f"sqlite:///{tmp_path / name}.sqlite3")
        with engine:
            run_scan(
                store, [str(tmp_path / "src")], config=work_config(), engine=engine
            )
        stores.append(store_rows(store))
        store.close()
    assert stores[0] == stores[1]


def test_limits_are_applied(tmp_path: pathlib.Path, store: Store) -> None:
    make_tree(tmp_path / "src")
    limits = Limits(max_file_bytes=1000)
    summary = run_scan(
        store,
        [str(tmp_path / "src")],
        config=work_config(limits),
        engine=InlineEngine(),
    )
    assert summary.errors_by_reason.get("file_too_large", 0) >= 6


def test_an_unreadable_file_is_an_error_record(
    tmp_path: pathlib.Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path / "src")
    locked = str(tmp_path / "src" / "a" / "img2.png")
    real_open = os.open

    def guarded(file: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        if file == locked:  # root reads everything: refuse as a locked file would be
            raise PermissionError(13, "Permission denied", locked)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("os.open", guarded)
    summary = run_scan(
        store, [str(tmp_path / "src")], config=work_config(), engine=InlineEngine()
    )
    assert summary.errors_by_reason["unreadable"] == 1
    assert summary.files == 9
