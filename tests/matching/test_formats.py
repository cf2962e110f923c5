"""Every hash-list format round-trips generated entries, and files are guessed right."""

import datetime as dt
import io
import string
import typing as t

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.matching.base import FormatError, HashEntry, HashListFormat
from vigil.matching.formats import ALL_FORMATS, guess_format
from vigil.matching.formats._fields import HASH_TYPES, HEX_RULES
from vigil.matching.formats.hma_csv import HMACSVFormat
from vigil.matching.formats.ncmec_xml import NCMECGenAIXMLFormat, NCMECXMLFormat
from vigil.matching.formats.plain import MD5ListFormat, PlainFormat
from vigil.matching.formats.stopncii import StopNCIIFormat
from vigil.matching.formats.vics import GENERATED_MEDIA_ID_START, VICSFormat

OFFSETS = [dt.UTC, dt.timezone(dt.timedelta(hours=5, minutes=30))]
NCMEC_IMAGE_TYPES = ["md5", "sha1", "photodna", "pdq", "netclean", "ssvh_pdna"]
NCMEC_VIDEO_TYPES = ["video_md5", "sha1", "video_tmk", "videntifier"]

# Any text XML 1.0 and UTF-8 can carry: no surrogates, no control characters other
# than tab, newline and carriage return, no non-characters.
texts = st.text(
    st.characters(
        exclude_categories=["Cs", "Cc", "Cn", "Co"], include_characters="\t\n\r"
    ),
    max_size=12,
)
labels_text = st.none() | texts.filter(bool)
times = st.none() | st.datetimes(
    min_value=dt.datetime(1900, 1, 1),
    max_value=dt.datetime(2200, 1, 1),
    timezones=st.none() | st.sampled_from(OFFSETS),
)
extras = st.dictionaries(
    st.from_regex(r"x_[a-z0-9_]{0,6}", fullmatch=True), texts, max_size=3
)


def hash_values(hash_type: str) -> st.SearchStrategy[str]:
    rule = HEX_RULES.get(hash_type)
    if rule is not None:
        size = rule.hex_length or 1
        return st.text("0123456789abcdef", min_size=size, max_size=size)
    return st.text(
        string.ascii_letters + string.digits + "+/=", min_size=1, max_size=40
    )


@st.composite
def labels(draw: st.DrawFn) -> dict[str, t.Any]:
    return {
        "category": draw(labels_text | st.sampled_from(["vics_1", "ncmec_a1"])),
        "ai_generated": draw(st.none() | st.booleans()),
        "source": draw(labels_text),
        "added_by": draw(labels_text),
        "added_at": draw(times),
        "comment": draw(labels_text),
    }


@st.composite
def entries(draw: st.DrawFn, types: t.Sequence[str]) -> HashEntry:
    hash_type = draw(st.sampled_from(sorted(types)))
    return HashEntry(
        hash_type=hash_type,
        value=draw(hash_values(hash_type)),
        extra=tuple(sorted(draw(extras).items())),
        **draw(labels()),
    )


@st.composite
def records(
    draw: st.DrawFn,
    types_of: t.Callable[[dict[str, str]], list[str]],
    fixed: st.SearchStrategy[dict[str, str]],
) -> list[HashEntry]:
    """Entries as multi-hash formats hold them: groups sharing labels and `fixed`."""
    found: list[HashEntry] = []
    for record_id in draw(st.lists(st.integers(0, 10**6), max_size=4, unique=True)):
        shared = draw(labels())
        own = draw(fixed)
        extra = tuple(sorted({**draw(extras), **own, "id": str(record_id)}.items()))
        kinds = draw(st.lists(st.sampled_from(types_of(own)), min_size=1, unique=True))
        found.extend(
            HashEntry(kind, draw(hash_values(kind)), extra=extra, **shared)
            for kind in kinds
        )
    return found


def _rename_id(entries_: list[HashEntry], key: str) -> list[HashEntry]:
    return [
        HashEntry(
            **{
                **e.__dict__,
                "extra": tuple(
                    sorted((key if k == "id" else k, v) for k, v in e.extra)
                ),
            }
        )
        for e in entries_
    ]


def round_trip(fmt: HashListFormat, items: list[HashEntry]) -> list[HashEntry]:
    buffer = io.BytesIO()
    assert fmt.write(items, buffer) == len(items)
    data = buffer.getvalue()
    if items:
        guessed = guess_format(f"list{fmt.extensions[0]}", data[:4096])
        assert guessed == fmt.name.replace("ncmec_genai_xml", "ncmec_xml")
    return list(fmt.read(io.BytesIO(data)))


@pytest.mark.parametrize(
    ("fmt", "types"),
    [
        (PlainFormat(), HASH_TYPES),
        (HMACSVFormat(), HASH_TYPES),
        (StopNCIIFormat(), {"pdq", "video_md5", "video_tmk"}),
    ],
    ids=["plain", "hma_csv", "stopncii"],
)
@settings(deadline=None)
@given(data=st.data())
def test_one_record_a_hash_formats_round_trip(
    fmt: HashListFormat, types: set[str], data: st.DataObject
) -> None:
    items = data.draw(st.lists(entries(types), max_size=6))
    assert round_trip(fmt, items) == items


@settings(deadline=None)
@given(data=st.data())
def test_vics_round_trips_media_records(data: st.DataObject) -> None:
    vics_extra = st.fixed_dictionaries(
        {},
        optional={
            "vics_series": texts,
            "vics_is_distributed": st.sampled_from(["true", "false", "unknown"]),
        },
    )
    items = _rename_id(
        data.draw(records(lambda _own: sorted(HASH_TYPES), vics_extra)),
        "vics_media_id",
    )
    back = round_trip(VICSFormat(), items)
    # A Media record lists MD5, SHA1 and PhotoDNA before AlternativeHashes.
    assert sorted(back, key=repr) == sorted(items, key=repr)


@settings(deadline=None)
@given(data=st.data())
def test_ncmec_xml_round_trips_entries(data: st.DataObject) -> None:
    own = st.fixed_dictionaries(
        {"ncmec_media": st.sampled_from(["image", "video"])},
        optional={"ncmec_member_id": st.integers(1, 999).map(str)},
    )

    def types_of(fixed: dict[str, str]) -> list[str]:
        is_video = fixed["ncmec_media"] == "video"
        return NCMEC_VIDEO_TYPES if is_video else NCMEC_IMAGE_TYPES

    items = _rename_id(data.draw(records(types_of, own)), "ncmec_id")
    assert round_trip(NCMECXMLFormat(), items) == items


@settings(deadline=None)
@given(data=st.data())
def test_ncmec_genai_list_round_trips_and_marks_entries(data: st.DataObject) -> None:
    own = st.just({"ncmec_media": "image"})
    items = _rename_id(
        data.draw(records(lambda _o: NCMEC_IMAGE_TYPES, own)), "ncmec_id"
    )
    items = [HashEntry(**{**e.__dict__, "ai_generated": True}) for e in items]
    assert round_trip(NCMECGenAIXMLFormat(), items) == items
    # The list-level mark makes the plain ncmec_xml reader see them as AI too.
    buffer = io.BytesIO()
    NCMECGenAIXMLFormat().write(items, buffer)
    assert list(NCMECXMLFormat().read(io.BytesIO(buffer.getvalue()))) == items


def test_genai_list_refuses_entries_not_marked_ai_generated() -> None:
    with pytest.raises(FormatError, match="only ai_generated"):
        NCMECGenAIXMLFormat().write([HashEntry("md5", "a" * 32)], io.BytesIO())


def test_genai_reader_marks_entries_of_an_unmarked_file() -> None:
    buffer = io.BytesIO()
    NCMECXMLFormat().write([HashEntry("md5", "a" * 32)], buffer)
    plain_read = list(NCMECXMLFormat().read(io.BytesIO(buffer.getvalue())))
    genai_read = list(NCMECGenAIXMLFormat().read(io.BytesIO(buffer.getvalue())))
    assert [e.ai_generated for e in plain_read] == [None]
    assert [e.ai_generated for e in genai_read] == [True]


@settings(deadline=None)
@given(st.lists(entries({"md5"}).map(lambda e: HashEntry("md5", e.value)), max_size=6))
def test_md5_list_round_trips(items: list[HashEntry]) -> None:
    assert round_trip(MD5ListFormat(), items) == items


def test_generated_record_ids_are_stable_and_distinct() -> None:
    items = [HashEntry("md5", f"{i:032x}") for i in range(3)]
    first, second = io.BytesIO(), io.BytesIO()
    VICSFormat().write(items, first)
    VICSFormat().write(items, second)
    assert first.getvalue() == second.getvalue()
    back = list(VICSFormat().read(io.BytesIO(first.getvalue())))
    ids = [dict(e.extra)["vics_media_id"] for e in back]
    assert ids == [str(GENERATED_MEDIA_ID_START + i) for i in range(3)]
    buffer = io.BytesIO()
    NCMECXMLFormat().write(items, buffer)
    back = list(NCMECXMLFormat().read(io.BytesIO(buffer.getvalue())))
    assert [dict(e.extra)["ncmec_id"] for e in back] == [
        "vigil-1",
        "vigil-2",
        "vigil-3",
    ]


def test_media_hashes_with_different_labels_become_two_records() -> None:
    media = (("vics_media_id", "5"),)
    items = [
        HashEntry("md5", "a" * 32, category="vics_1", extra=media),
        HashEntry("sha1", "b" * 40, category="vics_2", extra=media),
    ]
    buffer = io.BytesIO()
    assert VICSFormat().write(items, buffer) == 2
    back = list(VICSFormat().read(io.BytesIO(buffer.getvalue())))
    assert [(e.value, e.category) for e in back] == [
        ("a" * 32, "vics_1"),
        ("b" * 40, "vics_2"),
    ]
    assert [next(v for k, v in e.extra if k == "vics_media_id") for e in back] == [
        "5",
        str(GENERATED_MEDIA_ID_START),
    ]
    assert ("vics_media_id", "5") in back[1].extra  # its own id is kept as a label


def test_a_media_id_that_comes_back_later_gets_a_new_record() -> None:
    items = [
        HashEntry("md5", "a" * 32, extra=(("vics_media_id", "5"),)),
        HashEntry("md5", "b" * 32, extra=(("vics_media_id", "6"),)),
        HashEntry("sha1", "c" * 40, extra=(("vics_media_id", "5"),)),
    ]
    for fmt in (VICSFormat(), NCMECXMLFormat()):
        buffer = io.BytesIO()
        assert fmt.write(items, buffer) == 3
        back = list(fmt.read(io.BytesIO(buffer.getvalue())))
        assert [e.value for e in back] == [e.value for e in items]


@pytest.mark.parametrize(
    ("fmt", "entry"),
    [
        (StopNCIIFormat(), HashEntry("md5", "a" * 32)),
        (NCMECXMLFormat(), HashEntry("vpdq", "frames")),
        (
            NCMECXMLFormat(),
            HashEntry("md5", "a" * 32, extra=(("ncmec_media", "video"),)),
        ),
        (MD5ListFormat(), HashEntry("sha1", "a" * 40)),
        (PlainFormat(), HashEntry("md5", "a" * 32, extra=(("bad=key", "x"),))),
        (PlainFormat(), HashEntry("url", "https://example.invalid/")),
    ],
)
def test_entries_a_format_cannot_carry_are_refused(
    fmt: HashListFormat, entry: HashEntry
) -> None:
    with pytest.raises(FormatError):
        fmt.write([entry], io.BytesIO())


def test_every_format_has_a_stable_name_and_a_no_argument_default() -> None:
    names = [cls.__dict__["name"] for cls in ALL_FORMATS]
    assert names == [
        "plain",
        "md5_list",
        "sha1_list",
        "hma_csv",
        "vics",
        "ncmec_xml",
        "ncmec_genai_xml",
        "stopncii",
    ]
    for cls in ALL_FORMATS:
        fmt = cls()
        assert fmt.description and fmt.extensions
        assert list(fmt.read(io.BytesIO(_empty_document(fmt.name)))) == []


def _empty_document(name: str) -> bytes:
    return {
        "vics": b'{"@odata.context": "x/$metadata#Media", "value": []}',
        "stopncii": b'{"count": 0, "hashRecords": []}',
        "ncmec_xml": b"<queryResult/>",
        "ncmec_genai_xml": b"<queryResult/>",
    }.get(name, b"")


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b'{"@odata.context": "http://x/$metadata#Media", "value": [', "vics"),
        (b'\xef\xbb\xbf{"odata.metadata": "http://x/1.3.xml#Media"', "vics"),
        (b'{"count": 2, "hashRecords": [{"signalType": "ImagePDQ"', "stopncii"),
        (b'[{"signalType": "VideoMD5", "hashValue": "', "stopncii"),
        (b'{"something": "else"}', None),
        (b'<?xml version="1.0"?>\n<queryResult>', "ncmec_xml"),
        (b"signal_type,signal_str,collab,category,tags\npdq,", "hma_csv"),
        (b"MD5\n900150983CD24FB0D6963F7D28E17F72\n", "md5_list"),
        (b"# sha1 list\na9993e364706816aba3e25717850c26c9cd0d89d\n", "sha1_list"),
        (b"md5,900150983cd24fb0d6963f7d28e17f72,category=x\n", "plain"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", None),
    ],
)
def test_guess_format_reads_the_content(head: bytes, expected: str | None) -> None:
    assert guess_format("misnamed.txt", head) == expected


def test_guess_format_falls_back_on_the_extension_for_an_empty_head() -> None:
    assert guess_format("list.xml", b"") == "ncmec_xml"
    assert guess_format("list.json", b"") is None
