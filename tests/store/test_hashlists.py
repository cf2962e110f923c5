import typing as t

import pytest

from vigil.matching.base import FormatError, HashEntry
from vigil.store.hashlists import HashListError
from vigil.store.store import SQLStore as Store

MD5 = ["0" * 31 + str(i) for i in range(10)]


def entries(values: list[str], category: str = "csam") -> list[HashEntry]:
    return [HashEntry("md5", v, category=category, source="test") for v in values]


def test_import_is_idempotent_and_versions_the_list(store: Store) -> None:
    store.hashlists.create("known")
    first = store.hashlists.import_entries("known", entries(MD5[:6]))
    assert (first.read, first.added, first.already_present, first.version) == (
        6,
        6,
        0,
        2,
    )
    again = store.hashlists.import_entries("known", entries(MD5[:6]))
    assert (again.added, again.already_present, again.version) == (0, 6, 2)
    more = store.hashlists.import_entries("known", entries(MD5[4:]))
    assert (more.added, more.already_present, more.version) == (4, 2, 3)
    info = store.hashlists.get("known")
    assert info.entries == 10 and dict(info.entries_by_type) == {"md5": 10}
    exported = list(store.hashlists.export_entries("known"))
    assert [e.value for e in exported] == MD5
    assert exported[0] == entries(MD5[:1])[0]


def test_a_bad_record_mid_file_imports_nothing(store: Store) -> None:
    store.hashlists.create("known")

    def stream() -> list[HashEntry]:
        yield from entries(MD5[:3])
        raise FormatError("md5 must be 32 hex digits", line=4)

    with pytest.raises(FormatError, match="line 4"):
        store.hashlists.import_entries("known", stream())
    info = store.hashlists.get("known")
    assert (info.entries, info.version) == (0, 1)


def test_threshold_is_validated_and_names_are_unique(store: Store) -> None:
    with pytest.raises(HashListError, match="0-64"):
        store.hashlists.create("x", thresholds={"pdq": 65})
    store.hashlists.create("x", thresholds={"pdq": 0})
    with pytest.raises(HashListError, match="already exists"):
        store.hashlists.create("x")
    assert store.hashlists.set_threshold("x", 40).thresholds == {"pdq": 40}
    store.hashlists.delete("x")
    with pytest.raises(HashListError, match="no hash list named 'x'"):
        store.hashlists.get("x")


VICS_MEDIA = [
    HashEntry("md5", MD5[0], category="vics_1", extra=(("vics_media_id", "1"),)),
    HashEntry("sha1", "b" * 40, category="vics_1", extra=(("vics_media_id", "1"),)),
    HashEntry("pdq", "c" * 64, category="vics_1", extra=(("vics_media_id", "1"),)),
    HashEntry("md5", MD5[1], category="vics_2", extra=(("vics_media_id", "2"),)),
    HashEntry("sha1", "a" * 40, category="vics_2", extra=(("vics_media_id", "2"),)),
]


def test_export_keeps_the_file_order_of_an_import(store: Store) -> None:
    store.hashlists.create("vics")
    store.hashlists.import_entries("vics", VICS_MEDIA)
    exported = list(store.hashlists.export_entries("vics"))
    assert [e.key for e in exported] == [e.key for e in VICS_MEDIA]


def test_a_repeated_hash_is_one_entry_with_merged_labels(store: Store) -> None:
    store.hashlists.create("known")
    repeated = [
        HashEntry("md5", MD5[0], category="vics_2", extra=(("vics_media_id", "1"),)),
        HashEntry("md5", MD5[1]),
        HashEntry("md5", MD5[0], category="vics_1", extra=(("vics_media_id", "7"),)),
        HashEntry("md5", MD5[0], source="second"),
    ]
    result = store.hashlists.import_entries("known", repeated)
    assert (result.read, result.added, result.repeated) == (4, 2, 2)
    [conflict] = result.conflicts
    assert (conflict.hash_type, conflict.value, conflict.kept) == (
        "md5",
        MD5[0],
        "vics_1",
    )
    assert set(conflict.categories) == {"vics_1", "vics_2"}
    merged = next(
        e for e in store.hashlists.export_entries("known") if e.value == MD5[0]
    )
    assert merged.category == "vics_1"  # the most severe
    assert merged.source == "second"
    assert ("vics_media_id", "1") in merged.extra
    assert ("vics_media_id", "7") in merged.extra
    again = store.hashlists.import_entries("known", repeated)
    assert (again.added, again.already_present) == (0, 2)


def test_degenerate_entries_are_counted(store: Store) -> None:
    store.hashlists.create("known")
    result = store.hashlists.import_entries(
        "known",
        [HashEntry("pdq", "0" * 64), HashEntry("pdq", "f" * 64), *entries(MD5[:1])],
    )
    assert result.degenerate == 2
    assert result.as_dict()["degenerate"] == 2


def test_a_failed_import_into_a_new_list_creates_nothing(store: Store) -> None:
    def stream() -> t.Iterator[HashEntry]:
        yield from entries(MD5[:2])
        raise FormatError("bad", line=3)

    with pytest.raises(FormatError):
        store.hashlists.import_entries("fresh", stream(), create={"pdq": 20})
    assert [i.name for i in store.hashlists.all()] == []
    result = store.hashlists.import_entries("fresh", entries(MD5[:2]), create={})
    assert result.added == 2
    assert store.hashlists.get("fresh").thresholds == {"pdq": 31}
