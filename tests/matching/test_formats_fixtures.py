"""Stored hash-list files (tests/data/hashlists) still import as the same entries."""

import datetime as dt
import pathlib

import pytest

from vigil.matching.base import HashEntry, HashListFormat
from vigil.matching.formats import ALL_FORMATS, guess_format

HASHLISTS = pathlib.Path(__file__).resolve().parents[1] / "data" / "hashlists"
FORMATS = {cls.name: cls for cls in ALL_FORMATS}
UTC = dt.UTC

VICS_2_MEDIA_1 = (
    ("vics_date_updated", "2023-06-07T02:31:49.8300Z"),
    ("vics_is_distributed", "false"),
    ("vics_is_precategorized", "false"),
    ("vics_media_id", "1"),
    ("vics_media_size", "2835"),
    ("vics_series", "Synthetic series"),
    ("vics_tags", "tag-a|tag-b"),
    ("vics_victim_identified", "true"),
)
VICS_1_MEDIA_10 = (
    ("vics_media_id", "10"),
    ("vics_offender_identified", "true"),
    ("vics_victim_identified", "false"),
)
NCMEC_IMAGE_1 = (
    ("ncmec_id", "image1"),
    ("ncmec_media", "image"),
    ("ncmec_member_id", "42"),
)
NCMEC_IMAGE_1_LABELS = {
    "category": "ncmec_a1",
    "source": "Example Member",
    "added_at": dt.datetime(2017, 10, 24, 15, 0, tzinfo=UTC),
    "extra": NCMEC_IMAGE_1,
}

EXPECTED: dict[str, tuple[str, list[HashEntry]]] = {
    "plain.csv": (
        "plain",
        [
            HashEntry(
                "md5",
                "d41d8cd98f00b204e9800998ecf8427e",
                category="vics_1",
                source="Hotline A",
                added_at=dt.datetime(2024, 3, 1, 12, 0, tzinfo=UTC),
            ),
            HashEntry(
                "sha1",
                "a9993e364706816aba3e25717850c26c9cd0d89d",
                ai_generated=True,
                comment="seen twice, once cropped",
                extra=(("series", "S-17"),),
            ),
            HashEntry(
                "pdq",
                "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22",
                ai_generated=False,
                added_by="analyst-3",
                extra=(("note", ""),),
            ),
            HashEntry("photodna", "QUJDREVGR0hJSktMTU5PUA=="),
        ],
    ),
    "plain.tsv": (
        "plain",
        [
            HashEntry(
                "sha256",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                category="ncmec_a2",
            )
        ],
    ),
    "md5_list.txt": (
        "md5_list",
        [
            HashEntry("md5", "900150983cd24fb0d6963f7d28e17f72"),
            HashEntry("md5", "f96b697d7cb7938d525a2f31aaf161d0"),
        ],
    ),
    "hma.csv": (
        "hma_csv",
        [
            HashEntry(
                "pdq",
                "face" * 16,
                source="Sample Signals",
                extra=(("hma_category", "POSITIVE_CLASS"), ("hma_tags", "tag1 tag2")),
            ),
            HashEntry(
                "video_md5",
                "d41d8cd98f00b204e9800998ecf8427e",
                source="Sample Signals",
                extra=(("hma_category", "INVESTIGATION_SEED"),),
            ),
            HashEntry(
                "pdq",
                "2afc4a5c09628a7961c14d436493bba66b89b831453baa1d556ba385554daa82",
                source="Older Export",
                extra=(("hma_category", "NEGATIVE_CLASS"),),
            ),
        ],
    ),
    "vics_2.json": (
        "vics",
        [
            HashEntry(
                "md5",
                "adebf3fa3c9be7f73825e1cb9e2dea09",
                category="vics_1",
                comment="hand-made record",
                extra=VICS_2_MEDIA_1,
            ),
            HashEntry(
                "sha1",
                "2b037f69c566dfdb3a5a79e5360d085959bdde4c",
                category="vics_1",
                comment="hand-made record",
                extra=VICS_2_MEDIA_1,
            ),
            HashEntry(
                "pdq",
                "58f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
                category="vics_1",
                comment="hand-made record",
                extra=VICS_2_MEDIA_1,
            ),
            HashEntry(
                "photodna",
                "QUJDREVGR0hJSktMTU5PUA==",
                category="vics_0",
                extra=(("vics_media_id", "2"),),
            ),
        ],
    ),
    "vics_1.json": (
        "vics",
        [
            HashEntry(
                "md5",
                "e4d909c290d0fb1ca068ffaddf22cbd0",
                category="vics_2",
                extra=VICS_1_MEDIA_10,
            ),
            HashEntry(
                "sha1",
                "40bd001563085fc35165329ea1ff5c5ecbdbbeef",
                category="vics_2",
                extra=VICS_1_MEDIA_10,
            ),
            HashEntry(
                "sha1",
                "7c4a8d09ca3762af61e59520943dc26494f8941b",
                category="vics_3",
                extra=(("vics_media_id", "11"),),
            ),
        ],
    ),
    "ncmec.xml": (
        "ncmec_xml",
        [
            HashEntry("md5", "a1" * 16, **NCMEC_IMAGE_1_LABELS),
            HashEntry("sha1", "a1" * 20, **NCMEC_IMAGE_1_LABELS),
            HashEntry("photodna", "a1" * 27, **NCMEC_IMAGE_1_LABELS),
            HashEntry(
                "video_md5",
                "face" * 8,
                category="ncmec_b2",
                source="TX Example",
                added_at=dt.datetime(2019, 11, 24, 15, 10, tzinfo=UTC),
                extra=(
                    ("ncmec_id", "video1"),
                    ("ncmec_media", "video"),
                    ("ncmec_member_id", "101"),
                ),
            ),
        ],
    ),
    "stopncii.json": (
        "stopncii",
        [
            HashEntry(
                "pdq",
                "2afc4a5c09628a7961c14d436493bba66b89b831453baa1d556ba385554daa82",
                added_at=dt.datetime(2021, 7, 1, 19, 30, 4, tzinfo=UTC),
                extra=(
                    (
                        "stopncii_case_numbers",
                        '{"27664732-76e1-4a17-8099-455798e67022":"Received"}',
                    ),
                    ("stopncii_hash_status", "Received"),
                ),
            ),
            HashEntry(
                "video_md5",
                "d41d8cd98f00b204e9800998ecf8427e",
                added_at=dt.datetime(2022, 8, 25, 11, 29, 48, tzinfo=UTC),
                extra=(
                    ("stopncii_case_numbers", "{}"),
                    (
                        "stopncii_csp_feedbacks",
                        '[{"feedbackValue":"Blocked","source":"Example CSP",'
                        '"tags":["Tag-One"]}]',
                    ),
                    ("stopncii_hash_regions", '["UK"]'),
                    ("stopncii_hash_status", "Active"),
                ),
            ),
        ],
    ),
}


def _read(fmt: HashListFormat, path: pathlib.Path) -> list[HashEntry]:
    with path.open("rb") as stream:
        return list(fmt.read(stream))


@pytest.mark.parametrize("file_name", sorted(EXPECTED))
def test_stored_file_imports_as_the_same_entries(file_name: str) -> None:
    path = HASHLISTS / file_name
    format_name, expected = EXPECTED[file_name]
    assert guess_format(file_name, path.read_bytes()[:4096]) == format_name
    assert _read(FORMATS[format_name](), path) == expected


def test_every_format_has_a_stored_fixture() -> None:
    covered = {name for name, _entries in EXPECTED.values()}
    assert covered >= set(FORMATS) - {"sha1_list", "ncmec_genai_xml"}
    assert sorted(p.name for p in HASHLISTS.iterdir() if p.name != "README.md") == (
        sorted(EXPECTED)
    )


def test_the_genai_list_reads_the_stored_ncmec_file_as_ai_generated() -> None:
    entries = _read(FORMATS["ncmec_genai_xml"](), HASHLISTS / "ncmec.xml")
    assert [e.ai_generated for e in entries] == [True] * 4
    assert [e.value for e in entries] == [e.value for e in EXPECTED["ncmec.xml"][1]]


@pytest.mark.parametrize("file_name", sorted(EXPECTED))
def test_stored_file_survives_a_rewrite(file_name: str, tmp_path: pathlib.Path) -> None:
    format_name, expected = EXPECTED[file_name]
    fmt = FORMATS[format_name]()
    out = tmp_path / file_name
    with out.open("wb") as stream:
        fmt.write(expected, stream)
    back = _read(fmt, out)
    assert sorted(back, key=repr) == sorted(expected, key=repr)
