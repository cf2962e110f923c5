"""CyberTipline report files: a report and one fileDetails per file, in the schema's
element order, valid against the packaged XSD; broken and hostile documents are
refused with a message; text XML cannot carry is stripped; nothing is fetched or
expanded; only XML is ever written."""

import ast
import datetime as dt
import pathlib
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from vigil.reports import cybertip
from vigil.reports.cybertip import (
    CyberTipBundle,
    CyberTipError,
    Incident,
    ReportedFile,
    Reporter,
    build_report,
    validate,
    write_bundle,
)

MD5, SHA1, SHA256 = "a" * 32, "b" * 40, "c" * 64
WHEN = dt.datetime(2025, 3, 1, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
REPORTER = Reporter("Ana", "Grader", "ana@hotline.example", "Example Hotline")
AI_FILE = ReportedFile(
    "generated.png", MD5, SHA1, SHA256, 2048, None, True, "https://example.org/p/1"
)
A1_FILE = ReportedFile("photo.jpg", "d" * 32, "e" * 40, None, 4096, "A1", False)
PLAIN_FILE = ReportedFile("other.jpg", "f" * 32, None, None, None, None, None)
FILE_DETAILS = "fileDetails"


def _bundle(
    *files: ReportedFile, description: str | None = "seen in a scan"
) -> CyberTipBundle:
    return build_report(Incident(WHEN, description), REPORTER, files)


def _tags(element: etree._Element) -> list[str]:
    return [child.tag for child in element]


def _parse(document: bytes) -> etree._Element:
    return etree.fromstring(document, etree.XMLParser(resolve_entities=False))


def _edit(document: bytes, change: str, to: str) -> bytes:
    assert change.encode() in document
    return document.replace(change.encode(), to.encode(), 1)


@pytest.fixture
def bundle() -> CyberTipBundle:
    return _bundle(AI_FILE, A1_FILE, PLAIN_FILE)


def test_every_document_of_a_three_file_report_is_valid(bundle: CyberTipBundle) -> None:
    assert validate(bundle.report, "report") == []
    assert len(bundle.files) == 3
    for document in bundle.files:
        assert validate(document, FILE_DETAILS) == []
    assert bundle.report.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')


def test_report_elements_follow_the_schema_order(bundle: CyberTipBundle) -> None:
    root = _parse(bundle.report)
    assert root.tag == "report"
    assert _tags(root) == ["incidentSummary", "reporter", "additionalInfo"]
    summary, reporter, info = root
    assert _tags(summary) == ["incidentType", "incidentDateTime"]
    assert summary[0].text == cybertip.INCIDENT_TYPE_CSAM
    assert (
        summary[0].text
        == "Child Pornography (possession, manufacture, and distribution)"
    )
    assert summary[1].text == "2025-03-01T12:30:00+01:00"
    assert _tags(reporter) == ["reportingPerson", "companyTemplate"]
    assert _tags(reporter[0]) == ["firstName", "lastName", "email"]
    assert [e.text for e in reporter[0]] == ["Ana", "Grader", "ana@hotline.example"]
    assert reporter[1].text == "Example Hotline"
    assert info.text == "seen in a scan"


def test_phone_sits_between_the_names_and_the_email() -> None:
    reporter = Reporter("Ana", "Grader", "ana@hotline.example", "Hotline", "+44 1")
    report = build_report(Incident(WHEN), reporter, [PLAIN_FILE]).report
    person = _parse(report).find("reporter/reportingPerson")
    assert _tags(person) == ["firstName", "lastName", "phone", "email"]
    assert _tags(_parse(report)) == ["incidentSummary", "reporter"]


def test_file_details_follow_the_schema_order(bundle: CyberTipBundle) -> None:
    ai, a1, plain = (_parse(document) for document in bundle.files)
    assert _tags(ai) == [
        "reportId",
        "fileId",
        "originalFileName",
        "locationOfFile",
        "fileAnnotations",
        "originalFileHash",
        "originalFileHash",
        "originalFileHash",
        "details",
    ]
    assert _tags(a1) == [
        "reportId",
        "fileId",
        "originalFileName",
        "industryClassification",
        "originalFileHash",
        "originalFileHash",
        "details",
    ]
    assert _tags(plain) == [
        "reportId",
        "fileId",
        "originalFileName",
        "originalFileHash",
    ]
    assert [root.findtext("fileId") for root in (ai, a1, plain)] == [
        "pending-1",
        "pending-2",
        "pending-3",
    ]
    assert {root.findtext("reportId") for root in (ai, a1, plain)} == {"0"}


def test_ai_annotation_class_hashes_and_size_are_written(
    bundle: CyberTipBundle,
) -> None:
    ai, a1, plain = (_parse(document) for document in bundle.files)
    assert _tags(ai.find("fileAnnotations")) == ["generativeAi"]
    assert ai.find("industryClassification") is None
    assert [(h.get("hashType"), h.text) for h in ai.iter("originalFileHash")] == [
        ("MD5", MD5),
        ("SHA1", SHA1),
        ("SHA256", SHA256),
    ]
    assert ai.findtext("details/nameValuePair/name") == "fileSizeBytes"
    assert ai.findtext("details/nameValuePair/value") == "2048"
    assert ai.findtext("locationOfFile") == "https://example.org/p/1"
    assert a1.findtext("industryClassification") == "A1"
    assert a1.find("fileAnnotations") is None  # generative_ai False: no annotation
    assert plain.find("fileAnnotations") is None
    assert plain.find("details") is None


def test_an_element_out_of_order_fails(bundle: CyberTipBundle) -> None:
    root = _parse(bundle.report)
    summary = root.find("incidentSummary")
    summary.insert(0, summary[1])  # incidentDateTime before incidentType
    errors = validate(etree.tostring(root), "report")
    assert errors and "incidentDateTime" in errors[0]
    details = _parse(bundle.files[1])
    details.append(details.find("industryClassification"))  # after the hashes
    errors = validate(etree.tostring(details), FILE_DETAILS)
    assert errors and "industryClassification" in errors[0]


def test_a_bad_industry_class_fails(bundle: CyberTipBundle) -> None:
    broken = _edit(bundle.files[1], ">A1<", ">C3<")
    errors = validate(broken, FILE_DETAILS)
    assert errors and "industryClassification" in errors[0]
    assert "C3" in errors[0]


@pytest.mark.parametrize(
    ("kind", "change", "named"),
    [
        ("report", "<email>ana@hotline.example</email>", "email"),
        (
            "report",
            f"<incidentType>{cybertip.INCIDENT_TYPE_CSAM}</incidentType>",
            "incidentType",
        ),
        ("fileDetails", "<reportId>0</reportId>", "reportId"),
        ("fileDetails", "<fileId>pending-2</fileId>", "fileId"),
    ],
)
def test_a_missing_required_field_fails(
    bundle: CyberTipBundle, kind: str, change: str, named: str
) -> None:
    document = bundle.report if kind == "report" else bundle.files[1]
    errors = validate(_edit(document, change, ""), kind)
    assert errors and named in errors[0]


@pytest.mark.parametrize(
    ("change", "to", "named"),
    [
        ('hashType="MD5"', 'hashType="SHA512"', "hashType"),
        ("<generativeAi/>", "<generativeAi>false</generativeAi>", "generativeAi"),
        ("<reportId>0</reportId>", "<reportId>zero</reportId>", "reportId"),
        (f">{MD5}<", ">not-a-hash<", "originalFileHash"),
    ],
)
def test_bad_values_fail(
    bundle: CyberTipBundle, change: str, to: str, named: str
) -> None:
    errors = validate(_edit(bundle.files[0], change, to), FILE_DETAILS)
    assert errors and named in errors[0]


def test_a_time_without_a_zone_fails_the_schema(bundle: CyberTipBundle) -> None:
    broken = _edit(bundle.report, "2025-03-01T12:30:00+01:00", "2025-03-01T12:30:00")
    errors = validate(broken, "report")
    assert errors and "incidentDateTime" in errors[0]


def test_the_wrong_root_and_unknown_kinds_are_refused(bundle: CyberTipBundle) -> None:
    assert validate(bundle.report, FILE_DETAILS) == [
        "root element is <report>, expected <fileDetails>"
    ]
    assert validate(b"<report", "report")[0].startswith("not well-formed XML")
    with pytest.raises(CyberTipError, match="unknown document kind"):
        validate(bundle.report, "Report")


def test_hostile_text_is_escaped_or_stripped_and_still_valid() -> None:
    hostile = "a&b<c>\"'\x00\x07\x1b\x7f\ufffe\U0001f600\udcff]]>.jpg"
    reporter = Reporter(
        "Zoë\x00 <&>", "O'Brien\x0c", "ana@hotline.example", "</x>&amp;"
    )
    bundle = build_report(
        Incident(WHEN, "<!DOCTYPE x>\x01 &lt; ]]>"),
        reporter,
        [ReportedFile(hostile, MD5, None, None, 1, "B2", True)],
    )
    assert validate(bundle.report, "report") == []
    assert validate(bundle.files[0], FILE_DETAILS) == []
    details = _parse(bundle.files[0])
    assert details.findtext("originalFileName") == "a&b<c>\"'\x7f\U0001f600]]>.jpg"
    assert b"a&amp;b&lt;c&gt;" in bundle.files[0]
    assert "\U0001f600".encode() in bundle.files[0]  # the emoji, as UTF-8
    report = _parse(bundle.report)
    assert report.findtext("reporter/reportingPerson/firstName") == "Zoë <&>"
    assert report.findtext("reporter/reportingPerson/lastName") == "O'Brien"
    assert report.findtext("reporter/companyTemplate") == "</x>&amp;"
    assert report.findtext("additionalInfo") == "<!DOCTYPE x> &lt; ]]>"
    assert b"<!DOCTYPE" not in bundle.report


@given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40))
def test_any_file_name_gives_a_valid_document(name: str) -> None:
    reported = ReportedFile(name, MD5, None, None, None, None, None)
    document = build_report(Incident(WHEN), REPORTER, [reported]).files[0]
    assert validate(document, FILE_DETAILS) == []
    written = _parse(document).findtext("originalFileName")
    assert written == (cybertip.xml_text(name) or None)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE report [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<report><additionalInfo>&lol9;</additionalInfo></report>
"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE fileDetails [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<fileDetails><reportId>0</reportId><fileId>&x;</fileId></fileDetails>
"""
# past the byte scan (UTF-32): caught once parsed, before the schema runs
UTF32_DOCTYPE = '<?xml version="1.0" encoding="UTF-32"?><!DOCTYPE report><report/>'


@pytest.mark.parametrize(
    ("document", "kind"),
    [
        (BILLION_LAUGHS, "report"),
        (EXTERNAL_ENTITY, FILE_DETAILS),
        (UTF32_DOCTYPE.encode("utf-32"), "report"),
        (
            BILLION_LAUGHS.decode()
            .replace("1.0", '1.0" encoding="UTF-16')
            .encode("utf-16"),
            "report",
        ),
    ],
)
def test_a_doctype_is_refused_without_expanding(document: bytes, kind: str) -> None:
    started = time.monotonic()
    errors = validate(document, kind)
    assert errors == ["a DOCTYPE (and any entity it declares) is refused"]
    assert time.monotonic() - started < 1.0  # 10^9 "lol"s were never built
    assert "root:" not in " ".join(errors)


def test_an_oversized_document_is_refused_unparsed() -> None:
    huge = b"<report>" + b" " * cybertip.MAX_DOCUMENT_BYTES + b"</report>"
    assert validate(huge, "report")[0].startswith("document is ")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"md5": "a" * 31}, "md5 must be 32 hex digits"),
        ({"md5": "g" * 32}, "md5 must be 32 hex digits"),
        ({"md5": ""}, "md5 must be 32 hex digits"),
        ({"sha1": "b" * 41}, "sha1 must be 40 hex digits"),
        ({"sha1": "b" * 32}, "sha1 must be 40 hex digits"),
        ({"sha256": "c" * 63 + "z"}, "sha256 must be 64 hex digits"),
        ({"industry_class": "C1"}, "industry class 'C1'"),
        ({"industry_class": "a1"}, "industry class 'a1'"),
        ({"size": -1}, "size -1"),
        ({"filename": "x" * 2057}, "longer than 2056"),
    ],
)
def test_invalid_files_raise(fields: dict[str, object], message: str) -> None:
    values: dict[str, object] = {
        "filename": "x.jpg",
        "md5": MD5,
        "sha1": None,
        "sha256": None,
        "size": None,
        "industry_class": None,
        "generative_ai": None,
    }
    with pytest.raises(CyberTipError, match=message) as raised:
        ReportedFile(**{**values, **fields})  # type: ignore[arg-type]
    assert "\n" not in str(raised.value)


def test_hashes_are_stored_in_lower_case() -> None:
    reported = ReportedFile("x", "AB" * 16, "CD" * 20, "EF" * 32, None, "B1", None)
    assert (reported.md5, reported.sha1, reported.sha256) == (
        "ab" * 16,
        "cd" * 20,
        "ef" * 32,
    )
    assert reported.industry_class == cybertip.IndustryClass.B1


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Reporter("", "G", "a@b.example", "O"), "first name is empty"),
        (lambda: Reporter("A", "G", "\x00 ", "O"), "email is empty"),
        (lambda: Reporter("A", "G", "no-at-sign", "O"), "not a well-formed"),
        (lambda: Reporter("A", "G", "a b@c.example", "O"), "not a well-formed"),
        (lambda: Reporter("A" * 101, "G", "a@b.example", "O"), "longer than 100"),
        (lambda: Incident(dt.datetime(2025, 1, 1)), "needs a time zone"),
        (
            lambda: Incident(dt.datetime.now(dt.UTC) + dt.timedelta(days=1)),
            "in the future",
        ),
        (lambda: build_report(Incident(WHEN), REPORTER, []), "at least one file"),
    ],
)
def test_invalid_reporters_incidents_and_reports_raise(
    make: object, message: str
) -> None:
    with pytest.raises(CyberTipError, match=message):
        make()  # type: ignore[operator]


def test_times_are_written_with_a_zone_in_whole_minutes() -> None:
    odd = dt.timezone(dt.timedelta(hours=5, minutes=30, seconds=15))
    for when, written in [
        (dt.datetime(2025, 1, 2, 3, 4, 5, 678, tzinfo=dt.UTC), "2025-01-02T03:04:05Z"),
        (dt.datetime(2025, 1, 2, 8, 34, 20, tzinfo=odd), "2025-01-02T03:04:05Z"),
    ]:
        report = build_report(Incident(when), REPORTER, [PLAIN_FILE]).report
        assert _parse(report).findtext("incidentSummary/incidentDateTime") == written


def test_write_bundle_writes_the_documents_and_nothing_else(
    bundle: CyberTipBundle, tmp_path: pathlib.Path
) -> None:
    out = tmp_path / "tip"
    written = write_bundle(bundle, out)
    assert [p.name for p in written] == [
        "report.xml",
        "file-001.xml",
        "file-002.xml",
        "file-003.xml",
    ]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)
    assert [p.read_bytes() for p in written] == [bundle.report, *bundle.files]
    with pytest.raises(CyberTipError, match="already exists"):
        write_bundle(bundle, out)


def test_write_bundle_refuses_anything_but_valid_documents(
    tmp_path: pathlib.Path,
) -> None:
    report = _bundle(PLAIN_FILE).report
    image = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"  # the start of a JPEG
    with pytest.raises(CyberTipError, match="fileDetails document fails"):
        write_bundle(CyberTipBundle(report, (image,)), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_module_imports_nothing_that_can_reach_a_network() -> None:
    source = pathlib.Path(cybertip.__file__).read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert imported == {
        "dataclasses",
        "datetime",
        "enum",
        "pathlib",
        "re",
        "threading",
        "typing",
        "importlib",
        "lxml",
    }
