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


def test_duplicate_entries_in_one_file_are_refused(store: Store) -> None:
    store.hashlists.create("known")
    with pytest.raises(FormatError, match="line 3: duplicate entry md5:") as error:
        store.hashlists.import_entries("known", entries([MD5[0], MD5[1], MD5[0]]))
    assert "first at line 1" in str(error.value)
    assert store.hashlists.get("known").entries == 0


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
