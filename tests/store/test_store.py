import sqlalchemy as sa

from helpers import observation as make_observation
from vigil.hashing.base import HashResult
from vigil.media.errors import ErrorRecord
from vigil.pipeline.records import FileOutcome, ItemObservation
from vigil.store.records import ScanStatus
from vigil.store.store import SQLStore as Store


def observation(sha: str, member: str = "") -> ItemObservation:
    return make_observation(
        sha,
        member,
        hashes=(
            HashResult("sha256", sha, "sha256"),
            HashResult(
                "pdq", "0" * 64, "vigil-pdq512/1", quality=30, is_reliable=False
            ),
        ),
        width=4,
        height=3,
        frame_count=1,
    )


def test_same_bytes_in_two_places_are_one_item(store: Store) -> None:
    scan = store.create_scan("k", ["/r"], {}, "test")
    store.record_file(scan, FileOutcome("/r/a.png", (observation("a" * 64),), (), 10))
    store.record_file(scan, FileOutcome("/r/b.png", (observation("a" * 64),), (), 10))
    store.record_file(
        scan,
        FileOutcome(
            "/r/c.zip",
            (observation("c" * 64), observation("a" * 64, "x/a.png")),
            (ErrorRecord("../evil", "path_traversal", "refused"),),
            30,
        ),
    )
    summary = store.summary(scan)
    assert (summary.files, summary.items, summary.locations, summary.duplicates) == (
        3,
        2,
        4,
        2,
    )
    assert summary.errors_by_reason == {"path_traversal": 1}
    assert summary.bytes == 50
    with store.engine.connect() as c:
        hashes = c.execute(sa.text("select count(*) from hashes")).scalar_one()
        unreliable = c.execute(
            sa.text("select count(*) from hashes where is_reliable = 0")
        ).scalar_one()
    assert hashes == 4 and unreliable == 2


def test_journal_and_resume_lookup(store: Store) -> None:
    scan = store.create_scan("key-1", ["/r"], {"hashers": ["sha256"]}, "test")
    store.record_file(scan, FileOutcome("/r/a.png", (observation("a" * 64),), (), 10))
    store.end_run(scan, status=ScanStatus.INTERRUPTED, elapsed_seconds=2.0)
    assert store.finished_paths(scan) == {"/r/a.png"}
    found = store.find_resumable_scan("key-1")
    assert found is not None and found.id == scan and found.status == "interrupted"
    store.begin_run(scan)
    store.end_run(scan, status=ScanStatus.FINISHED, elapsed_seconds=3.0)
    info = store.get_scan(scan)
    assert info is not None
    assert (info.runs, info.elapsed_seconds, info.status) == (2, 5.0, "finished")
    assert info.finished_at is not None
    assert store.find_resumable_scan("key-1") is None


def test_a_failed_transaction_records_nothing(store: Store) -> None:
    scan = store.create_scan("k", ["/r"], {}, "test")
    store.record_file(scan, FileOutcome("/r/a.png", (observation("a" * 64),), (), 10))
    duplicate_place = FileOutcome(
        "/r/b.png", (observation("b" * 64), observation("d" * 64)), (), 10
    )
    try:
        store.record_file(scan, duplicate_place)  # same (path, member) twice: refused
    except sa.exc.IntegrityError:
        pass
    else:
        raise AssertionError("a duplicated place must be refused")
    assert store.finished_paths(scan) == {"/r/a.png"}
    assert store.summary(scan).items == 1
