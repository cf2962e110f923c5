"""Red-team findings on matching and hash lists: degenerate hashes, VICS Cases and
round trips, HMA CSVs with non-media signals, formats that cannot carry a type."""

import io
import json

import pytest

from vigil.hashing.pdq import PDQ_MIN_RELIABLE_QUALITY
from vigil.hashing.types import BUILTIN, PDQ
from vigil.matching.base import FormatError, HashEntry
from vigil.matching.export import write_entries
from vigil.matching.formats.hma_csv import HMACSVFormat
from vigil.matching.formats.plain import MD5ListFormat
from vigil.matching.formats.stopncii import StopNCIIFormat
from vigil.matching.formats.vics import VICSFormat
from vigil.matching.matcher import (
    EntryRef,
    ListRef,
    Matcher,
    MatchReason,
    Query,
    Verdict,
)

PIPE = "vigil-pdq512/1"
ZERO_PDQ = "0" * 64
# The PDQ of ThreatExchange's benign bridge-mods/aaa-orig.jpg (tests/data/hashlists).
PHOTO_PDQ = "58f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
MD5_ABC = "900150983cd24fb0d6963f7d28e17f72"  # RFC 1321: MD5("abc")
SHA1_ABC = "a9993e364706816aba3e25717850c26c9cd0d89d"  # FIPS 180: SHA-1("abc")
LISTS = [ListRef(1, "known", 1, {"pdq": 31}, "unknown")]


def test_pdq_quality_threshold_is_the_hashers() -> None:
    assert PDQ.min_reliable_quality == PDQ_MIN_RELIABLE_QUALITY


@pytest.mark.parametrize(
    ("value", "is_degenerate"),
    [
        (ZERO_PDQ, True),
        ("f" * 64, True),
        ("80" * 32, True),  # one byte repeated: constant
        (PHOTO_PDQ, False),
        ("face" * 16, False),
    ],
)
def test_constant_pdq_hashes_are_degenerate(value: str, is_degenerate: bool) -> None:
    assert PDQ.is_degenerate(value) is is_degenerate
    assert not BUILTIN["md5"].is_degenerate("0" * 32)  # a digest is only a digest


def test_a_degenerate_entry_never_matches() -> None:
    matcher = Matcher(LISTS, [EntryRef(1, 1, "pdq", ZERO_PDQ, category="x")])
    [result] = matcher.match([Query("pdq", ZERO_PDQ, PIPE, quality=100)])
    assert result.verdict is Verdict.NEAR_REVIEW
    assert result.distance == 0
    assert result.reason is MatchReason.ENTRY_DEGENERATE
    assert result.as_dict()["reason"] == "entry_degenerate"


def test_a_low_quality_query_never_matches() -> None:
    matcher = Matcher(LISTS, [EntryRef(1, 1, "pdq", PHOTO_PDQ)])
    low = Query("pdq", PHOTO_PDQ, PIPE, quality=PDQ_MIN_RELIABLE_QUALITY - 1)
    [result] = matcher.match([low])
    assert (result.verdict, result.reason) == (
        Verdict.NEAR_REVIEW,
        MatchReason.QUERY_LOW_QUALITY,
    )
    good = Query("pdq", PHOTO_PDQ, PIPE, quality=PDQ_MIN_RELIABLE_QUALITY)
    [result] = matcher.match([good])
    assert (result.verdict, result.reason) == (Verdict.MATCH, None)
    assert result.as_dict()["reason"] is None


def test_a_degenerate_query_never_matches() -> None:
    matcher = Matcher(LISTS, [EntryRef(1, 1, "pdq", "f" * 64)])
    [result] = matcher.match([Query("pdq", "f" * 64, PIPE)])  # --hash: no quality
    assert result.verdict is Verdict.NEAR_REVIEW
    assert result.reason in (MatchReason.ENTRY_DEGENERATE, MatchReason.QUERY_DEGENERATE)


def _vics(context: str, value: str) -> bytes:
    return f'{{"@odata.context": "{context}", "value": {value}}}'.encode()


CASES_URL = (
    "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases"
)


def test_vics_2_cases_wrapping_media_import() -> None:
    document = _vics(
        CASES_URL,
        json.dumps(
            [
                {
                    "CaseNumber": "synthetic-1",
                    "Media": [
                        {"MediaID": 1, "Category": 1, "MD5": MD5_ABC.upper()},
                        {"MediaID": 2, "Category": None, "SHA1": SHA1_ABC, "MD5": ""},
                    ],
                },
                {"CaseNumber": "synthetic-2", "Media": []},
            ]
        ),
    )
    entries = list(VICSFormat().read(io.BytesIO(document)))
    assert [(e.hash_type, e.value, e.category) for e in entries] == [
        ("md5", MD5_ABC, "vics_1"),
        ("sha1", SHA1_ABC, None),
    ]


def test_vics_empty_values_are_absent() -> None:
    media = {
        "MediaID": 4,
        "Category": " ",
        "MD5": MD5_ABC,
        "SHA1": "",
        "AlternativeHashes": [{"HashName": "PDQ", "HashValue": ""}],
    }
    document = _vics(VICS_MEDIA_URL, json.dumps([media]))
    entries = list(VICSFormat().read(io.BytesIO(document)))
    assert [(e.hash_type, e.category) for e in entries] == [("md5", None)]


VICS_MEDIA_URL = (
    "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media"
)


@pytest.mark.parametrize(
    ("document", "version"),
    [
        (_vics("http://x/DataModels/2.0.xml/US/$metadata#Widgets", "[]"), "2.0"),
        (b'{"odata.metadata": "http://x/1.3.xml#Widgets", "value": []}', "1.3"),
    ],
)
def test_vics_errors_name_the_version_seen(document: bytes, version: str) -> None:
    with pytest.raises(FormatError, match=f"VICS {version}"):
        list(VICSFormat().read(io.BytesIO(document)))


def test_vics_writes_a_media_id_seen_before_as_a_new_record() -> None:
    media = (("vics_media_id", "2"),)
    items = [
        HashEntry("md5", MD5_ABC, extra=media),
        HashEntry("md5", "a" * 32, extra=(("vics_media_id", "3"),)),
        HashEntry("sha1", SHA1_ABC, extra=media),
        HashEntry("sha1", "b" * 40, category="vics_1", extra=media),
    ]
    buffer = io.BytesIO()
    assert VICSFormat().write(items, buffer) == 4
    back = list(VICSFormat().read(io.BytesIO(buffer.getvalue())))
    assert [(e.hash_type, e.value) for e in back] == [
        (e.hash_type, e.value) for e in items
    ]
    records = json.loads(buffer.getvalue())["value"]
    assert [r["MediaID"] for r in records][:2] == [2, 3]
    assert len(records) == 4  # the repeated id becomes its own record


HMA_DEFAULT = (
    "signal_type,signal_str,collab,category,tags\n"
    f"pdq,{PHOTO_PDQ},Sample Signals,POSITIVE_CLASS,\n"
    "url,https://example.com/a,Sample Signals,,\n"
    "url,https://example.com/b,Sample Signals,,\n"
    "raw_text,benign sample text,Sample Signals,,\n"
    "trend_query,{},Sample Signals,,\n"
    f"video_md5,{MD5_ABC},Sample Signals,,\n"
)


def test_hma_csv_skips_non_media_signals_with_counts() -> None:
    fmt = HMACSVFormat()
    entries = list(fmt.read(io.BytesIO(HMA_DEFAULT.encode())))
    assert [e.hash_type for e in entries] == ["pdq", "video_md5"]
    assert dict(fmt.skipped) == {"url": 2, "raw_text": 1, "trend_query": 1}


def test_hma_csv_strict_refuses_non_media_signals() -> None:
    with pytest.raises(FormatError, match="line 3: .*url"):
        list(HMACSVFormat(is_strict=True).read(io.BytesIO(HMA_DEFAULT.encode())))
    with pytest.raises(FormatError, match="unknown"):  # a typo still fails loudly
        list(HMACSVFormat().read(io.BytesIO(b"signal_type,signal_str\npdqq,x\n")))


MIXED = [
    HashEntry("md5", MD5_ABC),
    HashEntry("pdq", PHOTO_PDQ),
    HashEntry("sha1", SHA1_ABC),
    HashEntry("video_md5", MD5_ABC),
]


def test_exports_skip_types_a_format_cannot_carry() -> None:
    buffer = io.BytesIO()
    result = write_entries(StopNCIIFormat(), MIXED, buffer)
    assert result.written == 2
    assert dict(result.skipped) == {"md5": 1, "sha1": 1}
    buffer = io.BytesIO()
    result = write_entries(MD5ListFormat(), MIXED, buffer)
    assert (result.written, dict(result.skipped)) == (
        1,
        {"pdq": 1, "sha1": 1, "video_md5": 1},
    )
    assert buffer.getvalue() == f"{MD5_ABC}\n".encode()


def test_exports_can_choose_types() -> None:
    buffer = io.BytesIO()
    result = write_entries(StopNCIIFormat(), MIXED, buffer, hash_types={"pdq"})
    assert (result.written, dict(result.skipped)) == (
        1,
        {"md5": 1, "sha1": 1, "video_md5": 1},
    )
    with pytest.raises(FormatError, match="cannot carry md5"):
        write_entries(StopNCIIFormat(), MIXED, io.BytesIO(), hash_types={"md5"})
