"""NCMEC CyberTipline report files for selected items, written offline.

Vigil writes the files and never sends them: no network, ever. A bundle is a
`report.xml` (the incident summary and the reporter, in the schema's order) and one
`file-NNN.xml` per item (`fileDetails`: the file's name and place, whether Vigil's
analyst viewed it, the `generativeAi` annotation when the assessment says
AI-generated, the industry classification A1/A2/B1/B2 the assessment derived, and
its MD5 and SHA-1). No image bytes are ever part of it. The report id is NCMEC's to
assign on submission, so `reportId` is 0 until then.

Every document is checked against the packaged XSD (`cybertipline.xsd`), which is a
reconstruction of the subset of NCMEC's schema Vigil emits (see the file's header
for its sources).
"""

import dataclasses
import datetime as dt
import pathlib
import re
import typing as t
from importlib.resources import files

from lxml import etree

INCIDENT_TYPE = "Child Pornography (possession, manufacture, and distribution)"
INDUSTRY_CLASSES = frozenset({"A1", "A2", "B1", "B2"})
#: XML 1.0 cannot carry these: control characters and lone surrogates are dropped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_HEX = re.compile(r"[0-9a-fA-F]+")
MAX_TEXT_CHARS = 4_000


class CyberTipError(ValueError):
    """A report that cannot be written as given (one line)."""


@dataclasses.dataclass(frozen=True)
class Reporter:
    first_name: str
    last_name: str
    email: str
    organisation: str | None = None
    phone: str | None = None


@dataclasses.dataclass(frozen=True)
class ReportedFile:
    filename: str
    md5: str
    sha1: str | None = None
    industry_class: str | None = None
    generative_ai: bool | None = None
    location: str | None = None
    viewed: bool = True  # an analyst of the reporting organisation looked at it

    def __post_init__(self) -> None:
        _check_hex("md5", self.md5, 32)
        if self.sha1 is not None:
            _check_hex("sha1", self.sha1, 40)
        if (
            self.industry_class is not None
            and self.industry_class not in INDUSTRY_CLASSES
        ):
            raise CyberTipError(
                f"industry class {self.industry_class!r}: one of A1, A2, B1, B2"
            )


@dataclasses.dataclass(frozen=True)
class Bundle:
    report: bytes
    files: tuple[bytes, ...]


def build_bundle(
    incident_at: dt.datetime,
    reporter: Reporter,
    reported: t.Sequence[ReportedFile],
    *,
    description: str | None = None,
    note: str | None = None,
) -> Bundle:
    """The report and one fileDetails document per file, each valid against the
    packaged schema.

    Raises:
        CyberTipError: a naive time, no files, or an empty required field.
    """
    if incident_at.tzinfo is None:
        raise CyberTipError("the incident time needs a time zone")
    if not reported:
        raise CyberTipError("a report needs at least one file")
    report = etree.Element("report")
    summary = etree.SubElement(report, "incidentSummary")
    _text(summary, "incidentType", INCIDENT_TYPE)
    _text(summary, "incidentDateTime", incident_at.isoformat(timespec="seconds"))
    if description:
        _text(summary, "incidentDateTimeDescription", description)
    who = etree.SubElement(report, "reporter")
    person = etree.SubElement(who, "reportingPerson")
    _text(person, "firstName", _required("first name", reporter.first_name))
    _text(person, "lastName", _required("last name", reporter.last_name))
    if reporter.phone:
        _text(person, "phone", reporter.phone)
    _text(person, "email", _required("email", reporter.email))
    if reporter.organisation:
        _text(who, "companyTemplate", reporter.organisation)
    if note:
        _text(report, "additionalInfo", note)
    documents = tuple(_file(n, f) for n, f in enumerate(reported, 1))
    bundle = Bundle(_bytes(report), documents)
    for kind, document in (
        ("report", bundle.report),
        *(("file", d) for d in documents),
    ):
        problems = validate(document)
        if problems:  # a bug here, never the user's input: say so plainly
            raise CyberTipError(f"the {kind} document does not validate: {problems[0]}")
    return bundle


def validate(document: bytes) -> list[str]:
    """Schema errors of a report or fileDetails document (empty when valid). The
    parser resolves no entities and reads nothing from the network."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        tree = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    if tree.getroottree().docinfo.internalDTD is not None:
        return ["a document type declaration is refused"]
    schema = _schema()
    if schema.validate(tree):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def write_bundle(bundle: Bundle, out: pathlib.Path) -> list[pathlib.Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "report.xml"]
    written[0].write_bytes(bundle.report)
    for n, document in enumerate(bundle.files, 1):
        path = out / f"file-{n:03d}.xml"
        path.write_bytes(document)
        written.append(path)
    return written


def _file(number: int, reported: ReportedFile) -> bytes:
    details = etree.Element("fileDetails")
    _text(details, "reportId", "0")
    _text(details, "fileId", f"vigil-{number:03d}")
    _text(details, "originalFileName", reported.filename)
    if reported.location:
        _text(details, "locationOfFile", reported.location)
    _text(details, "fileViewedByEsp", "true" if reported.viewed else "false")
    if reported.generative_ai:
        annotations = etree.SubElement(details, "fileAnnotations")
        etree.SubElement(annotations, "generativeAi")
    if reported.industry_class:
        _text(details, "industryClassification", reported.industry_class)
    md5 = etree.SubElement(details, "originalFileHash", hashType="MD5")
    md5.text = reported.md5.lower()
    if reported.sha1:
        sha1 = etree.SubElement(details, "originalFileHash", hashType="SHA1")
        sha1.text = reported.sha1.lower()
    return _bytes(details)


def _text(parent: t.Any, tag: str, value: str) -> None:
    cleaned = _NOT_XML.sub("", value)[:MAX_TEXT_CHARS].strip() or "-"
    etree.SubElement(parent, tag).text = cleaned


def _required(what: str, value: str) -> str:
    if not _NOT_XML.sub("", value).strip():
        raise CyberTipError(f"the reporter's {what} is empty")
    return value


def _check_hex(name: str, value: str, length: int) -> None:
    if len(value) != length or not _HEX.fullmatch(value):
        raise CyberTipError(f"{name} must be {length} hex digits")


def _bytes(element: t.Any) -> bytes:
    return bytes(
        etree.tostring(
            element, xml_declaration=True, encoding="UTF-8", pretty_print=True
        )
    )


def _schema() -> t.Any:
    data = (files("vigil.reports") / "cybertipline.xsd").read_bytes()
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.fromstring(data, parser))
