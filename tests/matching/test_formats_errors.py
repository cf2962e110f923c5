"""Malformed hash-list files fail at the right line; large files stream."""

import io
import pathlib
import tracemalloc
import typing as t

import pytest

from vigil.matching.base import FormatError, HashEntry, HashListFormat
from vigil.matching.formats._fields import MAX_RECORD_BYTES
from vigil.matching.formats.hma_csv import HMACSVFormat
from vigil.matching.formats.ncmec_xml import NCMECXMLFormat
from vigil.matching.formats.plain import MD5ListFormat, PlainFormat
from vigil.matching.formats.stopncii import StopNCIIFormat
from vigil.matching.formats.vics import VICSFormat

MD5 = "900150983cd24fb0d6963f7d28e17f72"
PDQ = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22"
CONTEXT = (
    "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/X/$metadata#Media"
)
NCMEC_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
LONG = "x" * (MAX_RECORD_BYTES + 1)


def _vics(*media: str) -> str:
    body = ",\n".join(media)
    return f'{{"@odata.context": "{CONTEXT}",\n"value": [\n{body}\n]}}\n'


def _ncmec(entry: str) -> str:
    return (
        f"{NCMEC_HEAD}<queryResult>\n<images>\n<image>\n<id>1</id>\n"
        f"{entry}\n</image>\n</images>\n</queryResult>\n"
    )


CASES: list[tuple[str, HashListFormat, str, int, str]] = [
    # (id, format, file text, line of the error, words in the message)
    ("plain-hex", PlainFormat(), f"# c\nmd5,{MD5}\nmd5,{MD5[:-1]}\n", 3, "32 hex"),
    ("plain-type", PlainFormat(), f"\nmd5,{MD5}\nurl,http://x\n", 3, "unknown hash"),
    ("plain-bare", PlainFormat(), f"md5,{MD5}\n{MD5}\n", 2, "no type"),
    ("plain-label", PlainFormat(), f"md5,{MD5},oops\n", 1, "key=value"),
    ("plain-bool", PlainFormat(), f"md5,{MD5},ai_generated=maybe\n", 1, "true or"),
    ("plain-time", PlainFormat(), f"md5,{MD5},added_at=soon\n", 1, "ISO-8601"),
    ("plain-twice", PlainFormat(), f"md5,{MD5},source=a,source=b\n", 1, "twice"),
    ("plain-quote", PlainFormat(), f'md5,{MD5}\nmd5,{MD5},"comment=x\n', 2, "quoting"),
    ("plain-long", PlainFormat(), f"md5,{MD5}\n#\nmd5,{MD5},c={LONG}\n", 3, "longer"),
    ("md5-hex", MD5ListFormat(), f"MD5\n{MD5}\n{MD5}0\n", 3, "32 hex"),
    (
        "hma-columns",
        HMACSVFormat(),
        f"signal_type,signal_str,collab\npdq,{PDQ},a\npdq,{PDQ}\n",
        3,
        "3 columns, got 2",
    ),
    ("hma-header", HMACSVFormat(), f"type,value\npdq,{PDQ}\n", 1, "signal_str"),
    ("hma-type", HMACSVFormat(), "signal_type,signal\nbogus,https://x\n", 2, "unknown"),
    ("hma-hex", HMACSVFormat(), f"signal_type,signal\n\npdq,{PDQ}0\n", 3, "64 hex"),
    (
        "vics-json",
        VICSFormat(),
        _vics(f'{{"MediaID": 1, "MD5": "{MD5}"}}', '{"MediaID": 2 "MD5": ""}'),
        4,
        "bad JSON",
    ),
    ("vics-cut", VICSFormat(), _vics(f'{{"MD5": "{MD5}"}}')[:-5], 3, "bad JSON"),
    (
        "vics-hex",
        VICSFormat(),
        _vics(f'{{"MD5": "{MD5}"}}', "{}", f'{{"SHA1": "{MD5}"}}'),
        5,
        "40 hex",
    ),
    (
        "vics-name",
        VICSFormat(),
        _vics('{"AlternativeHashes": [{"HashName": "Foo", "HashValue": "1"}]}'),
        3,
        "unknown hash",
    ),
    (
        "vics-value",
        VICSFormat(),
        _vics('{"Hashes": [{"HashName": "PDQ"}]}'),
        3,
        "HashValue",
    ),
    ("vics-context", VICSFormat(), '{"value": [{}]}', 1, "@odata.context"),
    (
        "vics-entity-set",
        VICSFormat(),
        '{"odata.metadata": "http://x/1.3.xml#Widgets", "value": []}',
        1,
        "VICS 1.3 Media or Cases",
    ),
    ("vics-long", VICSFormat(), _vics(f'{{"Comments": "{LONG}"}}'), 3, "longer"),
    (
        "stopncii-type",
        StopNCIIFormat(),
        '{"hashRecords": [\n{"signalType": "Text", "hashValue": "x"}]}',
        2,
        "signalType",
    ),
    (
        "stopncii-missing",
        StopNCIIFormat(),
        f'[{{"signalType": "ImagePDQ", "hashValue": "{PDQ}"}},\n'
        '{"signalType": "ImagePDQ"}]',
        2,
        "hashValue",
    ),
    (
        "stopncii-millis",
        StopNCIIFormat(),
        f'[{{"signalType": "VideoMD5", "hashValue": "{MD5}", '
        '"lastModtimestamp": 1625167804000}]',
        1,
        "seconds",
    ),
    ("stopncii-json", StopNCIIFormat(), '{"hashRecords": [\n\n{]}', 3, "bad JSON"),
    (
        "ncmec-hex",
        NCMECXMLFormat(),
        _ncmec(f"<fingerprints>\n<md5>{MD5}0</md5>\n</fingerprints>"),
        7,
        "32 hex",
    ),
    (
        "ncmec-kind",
        NCMECXMLFormat(),
        _ncmec("<fingerprints><foo>1</foo></fingerprints>"),
        6,
        "<foo>",
    ),
    (
        "ncmec-cut",
        NCMECXMLFormat(),
        _ncmec(f"<fingerprints><md5>{MD5}</md5></fingerprints>")[:-30],
        7,
        "bad XML",
    ),
    (
        "ncmec-id",
        NCMECXMLFormat(),
        _ncmec(f"<fingerprints><md5>{MD5}</md5></fingerprints>").replace(
            "<id>1</id>", ""
        ),
        4,
        "<id>",
    ),
    ("ncmec-root", NCMECXMLFormat(), f"{NCMEC_HEAD}\n<status/>\n", 3, "queryResult"),
    (
        "ncmec-entity",
        NCMECXMLFormat(),
        _ncmec(f"<fingerprints><md5>&undeclared;{MD5}</md5></fingerprints>"),
        6,
        "undefined entity",
    ),
    (
        "ncmec-long",
        NCMECXMLFormat(),
        _ncmec(f"<fingerprints><md5>{MD5}</md5></fingerprints>\n<x>{LONG}</x>"),
        7,
        "longer",
    ),
]


@pytest.mark.parametrize(
    ("fmt", "text", "line", "words"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_malformed_file_fails_at_its_line(
    fmt: HashListFormat, text: str, line: int, words: str
) -> None:
    with pytest.raises(FormatError, match=words) as caught:
        list(fmt.read(io.BytesIO(text.encode("utf-8"))))
    assert caught.value.line == line


BILLION_LAUGHS = """<?xml version="1.0"?>
<!-- a comment first -->
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<queryResult><images><image><id>&lol3;</id></image></images></queryResult>
"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE queryResult [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<queryResult><images><image><id>&xxe;</id></image></images></queryResult>
"""


@pytest.mark.parametrize(
    ("text", "line"), [(BILLION_LAUGHS, 3), (XXE, 2)], ids=["bomb", "xxe"]
)
def test_xml_with_a_doctype_is_refused_before_parsing(text: str, line: int) -> None:
    with pytest.raises(FormatError, match="DOCTYPE") as caught:
        list(NCMECXMLFormat().read(io.BytesIO(text.encode("ascii"))))
    assert caught.value.line == line


def test_xml_in_utf16_is_refused() -> None:
    data = "<queryResult/>".encode("utf-16")
    with pytest.raises(FormatError, match="UTF-8"):
        list(NCMECXMLFormat().read(io.BytesIO(data)))


def test_text_that_is_not_utf8_names_its_line() -> None:
    data = f"md5,{MD5}\nmd5,{MD5},comment=\xff\n".encode("latin-1")
    with pytest.raises(FormatError, match="UTF-8") as caught:
        list(PlainFormat().read(io.BytesIO(data)))
    assert caught.value.line == 2


def test_entries_before_the_bad_line_come_out_first() -> None:
    reader = PlainFormat().read(io.BytesIO(f"md5,{MD5}\nmd5,zz\n".encode()))
    assert next(reader).value == MD5
    with pytest.raises(FormatError):
        next(reader)


def test_quoted_values_may_span_lines_and_hold_comment_marks() -> None:
    text = f'md5,{MD5},"comment=one\n# not a comment\n\ntwo"\n# a comment\n'
    (entry,) = PlainFormat().read(io.BytesIO(text.encode()))
    assert entry.comment == "one\n# not a comment\n\ntwo"


def test_bare_hashes_take_the_default_type() -> None:
    text = f"{MD5.upper()}\nsha1,a9993e364706816aba3e25717850c26c9cd0d89d\n"
    entries = list(PlainFormat().read(io.BytesIO(text.encode()), default_type="md5"))
    assert [(e.hash_type, e.value) for e in entries] == [
        ("md5", MD5),
        ("sha1", "a9993e364706816aba3e25717850c26c9cd0d89d"),
    ]
    with pytest.raises(FormatError, match="unknown hash type"):
        list(PlainFormat().read(io.BytesIO(b""), default_type="crc64"))


LINES = 200_000


def _big_plain_file(path: pathlib.Path) -> int:
    with path.open("w", encoding="ascii") as out:
        out.write("# generated\n")
        for number in range(LINES):
            out.write(f"md5,{number:032x}\n")
    return path.stat().st_size


def test_reading_streams_a_large_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "big.csv"
    size = _big_plain_file(path)
    with path.open("rb") as stream:
        entries = PlainFormat().read(stream)
        first = next(entries)
        # The first entry is out while almost all of the file is still unread.
        assert first == HashEntry("md5", f"{0:032x}")
        assert stream.tell() < size // 100
        assert sum(1 for _ in entries) == LINES - 1


@pytest.mark.slow
def test_reading_a_large_file_keeps_memory_bounded(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "big.csv"
    _big_plain_file(path)
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            last = None
            for last in PlainFormat().read(stream):  # noqa: B007  keep only the last
                pass
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert last == HashEntry("md5", f"{LINES - 1:032x}")
    # 200,000 entries held in a list take about 60 MB; streaming keeps a few KB.
    assert peak < 2 * 1024 * 1024


def _big_vics(count: int) -> bytes:
    media = (
        f'{{"MediaID": {n}, "Category": 1, "MD5": "{n:032x}"}}' for n in range(count)
    )
    return _vics(*media).encode("ascii")


def _big_ncmec(count: int) -> bytes:
    entries = (
        f"<image><id>{n}</id><fingerprints><md5>{n:032x}</md5></fingerprints></image>\n"
        for n in range(count)
    )
    body = "".join(entries)
    return (
        f"{NCMEC_HEAD}<queryResult><images>\n{body}</images></queryResult>\n".encode()
    )


@pytest.mark.parametrize(
    ("fmt", "make"),
    [(VICSFormat(), _big_vics), (NCMECXMLFormat(), _big_ncmec)],
    ids=["vics", "ncmec_xml"],
)
def test_json_and_xml_records_stream_too(
    fmt: HashListFormat, make: t.Callable[[int], bytes]
) -> None:
    data = make(20_000)
    stream = io.BytesIO(data)
    entries = fmt.read(stream)
    assert next(entries).value == f"{0:032x}"
    assert stream.tell() < len(data) // 10
    assert sum(1 for _ in entries) == 20_000 - 1


def test_json_with_a_byte_order_mark_is_read() -> None:
    data = b"\xef\xbb\xbf" + _vics(f'{{"MD5": "{MD5}"}}').encode()
    assert [e.value for e in VICSFormat().read(io.BytesIO(data))] == [MD5]
