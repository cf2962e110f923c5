"""NCMEC CyberTipline report files for selected items, built and checked offline.

Vigil writes the files and never sends them: this module has no network code. A
bundle is one `report` document (what NCMEC's `/submit` takes) and one `fileDetails`
document per file (what `/fileinfo` takes), in the element order of the packaged
`cybertip.xsd`, Vigil's reconstruction of the subset of NCMEC's schema it emits.
Only names, hashes and labels go in, never image bytes.
"""

import dataclasses
import datetime as dt
import enum
import pathlib
import re
import threading
import typing as t
from importlib import resources

from lxml import etree

#: NCMEC's `incidentType` value for CSAM, spelled as in its XSD and documentation.
INCIDENT_TYPE_CSAM = "Child Pornography (possession, manufacture, and distribution)"
#: NCMEC assigns the report id on `/submit` and each file id on `/upload`; until then
#: a `fileDetails` document carries these placeholders (a real report id is > 0).
UNASSIGNED_REPORT_ID = 0
PENDING_FILE_ID = "pending-{number}"
#: The `details` entry that carries a file's size (NCMEC has no size element).
FILE_SIZE_DETAIL = "fileSizeBytes"
#: `noNamespaceSchemaLocation` of NCMEC's examples: a label only, never fetched.
NCMEC_XSD_URL = "https://report.cybertip.org/ispws/xsd"
# Max lengths from the validation notes of NCMEC's API documentation, appendix A-C
MAX_NAME_CHARS = 100
MAX_PHONE_CHARS = 50
MAX_EMAIL_CHARS = 255
MAX_EMAIL_LOCAL_CHARS = 64
MAX_FILENAME_CHARS = 2056
MAX_URL_CHARS = 2083
#: `validate` refuses larger input; Vigil's own documents are a few KiB.
MAX_DOCUMENT_BYTES = 1024 * 1024
SCHEMA_FILE = "cybertip.xsd"

_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# XML 1.0 Char production: tab, LF, CR, U+0020-D7FF, U+E000-FFFD, U+10000-10FFFF
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_HEX = re.compile("[0-9a-f]+")
_DOCTYPE_MARKERS = tuple(
    marker.encode(codec)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for codec in ("utf-8", "utf-16-le", "utf-16-be")
)
_DOCTYPE_REFUSED = "a DOCTYPE (and any entity it declares) is refused"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


class CyberTipError(ValueError):
    """A report that cannot be built or written as given; the message is one line."""


class DocumentKind(enum.StrEnum):
    """The root element of a document, as `validate` takes it."""

    REPORT = "report"
    FILE_DETAILS = "fileDetails"


class IndustryClass(enum.StrEnum):
    """NCMEC's industry classification: A prepubescent, B pubescent; 1 sex act,
    2 lascivious exhibition."""

    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"


class HashType(enum.StrEnum):
    """The `hashType` values Vigil writes, in the order it writes them."""

    MD5 = "MD5"
    SHA1 = "SHA1"
    SHA256 = "SHA256"

    @property
    def hex_digits(self) -> int:
        return {"MD5": 32, "SHA1": 40, "SHA256": 64}[self.value]


def xml_text(value: str) -> str:
    """`value` without the characters XML 1.0 cannot carry: C0 controls other than
    tab, LF and CR, lone surrogates (which `os.fsdecode` leaves for undecodable
    file-name bytes), U+FFFE and U+FFFF. They are dropped, not replaced. Everything
    else, emoji included, is kept; lxml escapes `&`, `<` and `>` when it writes."""
    return _NOT_XML_CHAR.sub("", value)


@dataclasses.dataclass(frozen=True)
class Reporter:
    """The person filing the report (`reportingPerson`) and their organisation,
    which goes in `companyTemplate` (NCMEC has no organisation-name element; the
    organisation is known to NCMEC by its credentials). Text is cleaned with
    `xml_text` and stripped when the object is made.

    Raises:
        CyberTipError: an empty name or email, a malformed email, or text longer
            than NCMEC accepts.
    """

    first_name: str
    last_name: str
    email: str
    organisation: str
    phone: str | None = None

    def __post_init__(self) -> None:
        for field in ("first_name", "last_name"):
            _set(self, field, _required(field, getattr(self, field), MAX_NAME_CHARS))
        email = _required("email", self.email, MAX_EMAIL_CHARS)
        local = email.partition("@")[0]
        if not _EMAIL.fullmatch(email) or len(local) > MAX_EMAIL_LOCAL_CHARS:
            raise CyberTipError(f"email {email!r} is not a well-formed address")
        _set(self, "email", email)
        _set(self, "organisation", xml_text(self.organisation).strip())
        if self.phone is not None:
            _set(self, "phone", _optional("phone", self.phone, MAX_PHONE_CHARS))


@dataclasses.dataclass(frozen=True)
class ReportedFile:
    """One reported item, as metadata: its name, hashes, size and the labels its
    assessment derived. Hashes are hex (stored in lower case). `industry_class` is
    the assessment's NCMEC class; `generative_ai` is True when the assessment says
    AI-generated "yes". `location` is where the file was found, which NCMEC expects
    to be a URL. A file name that is empty once cleaned is left out of the document.

    Raises:
        CyberTipError: a hash of the wrong length or not hex, an unknown class, a
            negative size, or a name or location longer than NCMEC accepts.
    """

    filename: str
    md5: str
    sha1: str | None
    sha256: str | None
    size: int | None
    industry_class: str | None
    generative_ai: bool | None
    location: str | None = None

    def __post_init__(self) -> None:
        for hash_type in HashType:
            field = hash_type.name.lower()
            value = getattr(self, field)
            if value is not None or hash_type is HashType.MD5:
                _set(self, field, _hex_digest(hash_type, value))
        if self.industry_class is not None:
            if self.industry_class not in IndustryClass.__members__:
                raise CyberTipError(
                    f"industry class {self.industry_class!r} is not A1, A2, B1 or B2"
                )
            _set(self, "industry_class", IndustryClass(self.industry_class))
        if self.size is not None and (type(self.size) is not int or self.size < 0):
            raise CyberTipError(f"size {self.size!r} is not a byte count")
        filename = _within("file name", xml_text(self.filename), MAX_FILENAME_CHARS)
        _set(self, "filename", filename)  # not stripped: spaces may be in the name
        if self.location is not None:
            _set(self, "location", _optional("location", self.location, MAX_URL_CHARS))


@dataclasses.dataclass(frozen=True)
class Incident:
    """When the incident happened (time-zone aware, in the past) and an optional
    description, which goes in the report's `additionalInfo`.

    Raises:
        CyberTipError: a naive or future time.
    """

    incident_datetime: dt.datetime
    description: str | None = None

    def __post_init__(self) -> None:
        when = self.incident_datetime
        if when.tzinfo is None or when.utcoffset() is None:
            raise CyberTipError("the incident time needs a time zone")
        if when > dt.datetime.now(dt.UTC):
            raise CyberTipError("the incident time is in the future")
        if self.description is not None:
            _set(self, "description", xml_text(self.description).strip() or None)


@dataclasses.dataclass(frozen=True)
class CyberTipBundle:
    """The documents of one report: UTF-8 XML, each valid against the packaged XSD.
    `files[n]` is the `fileDetails` of the n-th reported file."""

    report: bytes
    files: tuple[bytes, ...]


def build_report(
    incident: Incident, reporter: Reporter, files: t.Sequence[ReportedFile]
) -> CyberTipBundle:
    """The report and one `fileDetails` per file, in the schema's element order.

    Text has already been cleaned by the dataclasses (`xml_text`: characters XML 1.0
    cannot carry are stripped); lxml escapes the rest. Each `fileDetails` carries
    `UNASSIGNED_REPORT_ID` and `PENDING_FILE_ID` until submission.

    Raises:
        CyberTipError: no files, or (a bug) a document that fails the schema.
    """
    if not files:
        raise CyberTipError("a report needs at least one file")
    bundle = CyberTipBundle(
        report=_report(incident, reporter),
        files=tuple(_file_details(n, f) for n, f in enumerate(files, 1)),
    )
    _check(bundle)
    return bundle


def validate(document: bytes, kind: str) -> list[str]:
    """Schema errors of a `report` or `fileDetails` document, empty when it is valid.

    The parser resolves no entities, loads no DTD and reads nothing from the
    network; a document with a DOCTYPE is refused unread.

    Raises:
        CyberTipError: `kind` is neither "report" nor "fileDetails".
    """
    try:
        expected = DocumentKind(kind)
    except ValueError:
        raise CyberTipError(f"unknown document kind {kind!r}") from None
    if len(document) > MAX_DOCUMENT_BYTES:
        return [f"document is {len(document)} bytes, over {MAX_DOCUMENT_BYTES}"]
    if any(marker in document for marker in _DOCTYPE_MARKERS):
        return [_DOCTYPE_REFUSED]  # before libxml2 reads a single declaration
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        return [_DOCTYPE_REFUSED]  # one the byte scan missed (another encoding)
    if root.tag != expected.value:
        return [f"root element is <{root.tag}>, expected <{expected.value}>"]
    schema = _schema()
    if schema.validate(root):
        return []
    return [f"line {error.line}: {error.message}" for error in schema.error_log]


def write_bundle(bundle: CyberTipBundle, out_dir: pathlib.Path) -> list[pathlib.Path]:
    """Write `report.xml` and `file-001.xml`, `file-002.xml`, ... into `out_dir`
    (made if missing) and return their paths. Every document is validated first, so
    nothing but these XML documents (never image bytes) is written.

    Raises:
        CyberTipError: a document fails the schema, or a file would be overwritten.
    """
    _check(bundle)
    width = max(3, len(str(len(bundle.files))))
    named = [("report.xml", bundle.report)] + [
        (f"file-{n:0{width}d}.xml", document)
        for n, document in enumerate(bundle.files, 1)
    ]
    for name, _document in named:
        if (out_dir / name).exists():
            raise CyberTipError(f"{out_dir / name} already exists")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in named:
        path = out_dir / name
        with path.open("xb") as handle:
            handle.write(document)
        written.append(path)
    return written


def _report(incident: Incident, reporter: Reporter) -> bytes:
    root = _root(DocumentKind.REPORT)
    summary = _add(root, "incidentSummary")
    _add(summary, "incidentType", INCIDENT_TYPE_CSAM)
    _add(summary, "incidentDateTime", _timestamp(incident.incident_datetime))
    who = _add(root, "reporter")
    person = _add(who, "reportingPerson")
    _add(person, "firstName", reporter.first_name)
    _add(person, "lastName", reporter.last_name)
    if reporter.phone:
        _add(person, "phone", reporter.phone)
    _add(person, "email", reporter.email)
    if reporter.organisation:
        _add(who, "companyTemplate", reporter.organisation)
    if incident.description:
        _add(root, "additionalInfo", incident.description)
    return _serialise(root)


def _file_details(number: int, reported: ReportedFile) -> bytes:
    root = _root(DocumentKind.FILE_DETAILS)
    _add(root, "reportId", str(UNASSIGNED_REPORT_ID))
    _add(root, "fileId", PENDING_FILE_ID.format(number=number))
    if reported.filename:
        _add(root, "originalFileName", reported.filename)
    if reported.location:
        _add(root, "locationOfFile", reported.location)
    if reported.generative_ai:
        # a presence flag fixed to true: NCMEC's examples write it empty
        _add(_add(root, "fileAnnotations"), "generativeAi")
    if reported.industry_class is not None:
        _add(root, "industryClassification", reported.industry_class)
    for hash_type in HashType:
        value = getattr(reported, hash_type.name.lower())
        if value is not None:
            _add(root, "originalFileHash", value).set("hashType", hash_type.value)
    if reported.size is not None:
        pair = _add(_add(root, "details"), "nameValuePair")
        _add(pair, "name", FILE_SIZE_DETAIL)
        _add(pair, "value", str(reported.size))
    return _serialise(root)


def _check(bundle: CyberTipBundle) -> None:
    documents = [(DocumentKind.REPORT, bundle.report)] + [
        (DocumentKind.FILE_DETAILS, document) for document in bundle.files
    ]
    for kind, document in documents:
        errors = validate(document, kind)
        if errors:
            raise CyberTipError(
                f"a {kind.value} document fails the schema: {errors[0]}"
            )


def _timestamp(when: dt.datetime) -> str:
    offset = when.utcoffset()
    if offset is None or offset % dt.timedelta(minutes=1):
        when = when.astimezone(dt.UTC)  # xs:dateTime offsets are whole minutes
    text = when.replace(microsecond=0).isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def _root(kind: DocumentKind) -> t.Any:
    root = etree.Element(kind.value, nsmap={"xsi": _XSI})
    root.set(f"{{{_XSI}}}noNamespaceSchemaLocation", NCMEC_XSD_URL)
    return root


def _add(parent: t.Any, tag: str, text: str | None = None) -> t.Any:
    element = etree.SubElement(parent, tag)
    element.text = text
    return element


def _serialise(root: t.Any) -> bytes:
    return _DECLARATION + bytes(
        etree.tostring(root, encoding="UTF-8", pretty_print=True)
    )


_schemas = threading.local()  # lxml keeps a validator's error log on the instance


def _schema() -> t.Any:
    schema = getattr(_schemas, "schema", None)
    if schema is None:
        data = resources.files("vigil.reports").joinpath(SCHEMA_FILE).read_bytes()
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        schema = etree.XMLSchema(etree.fromstring(data, parser))
        _schemas.schema = schema
    return schema


def _set(obj: object, field: str, value: object) -> None:
    object.__setattr__(obj, field, value)  # normalising a frozen dataclass


def _required(field: str, value: str, limit: int) -> str:
    cleaned = _optional(field, value, limit)
    if not cleaned:
        raise CyberTipError(f"the reporter's {field.replace('_', ' ')} is empty")
    return cleaned


def _optional(field: str, value: str, limit: int) -> str:
    return _within(field.replace("_", " "), xml_text(value).strip(), limit)


def _within(what: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise CyberTipError(f"{what} is longer than {limit} characters")
    return value


def _hex_digest(hash_type: HashType, value: object) -> str:
    digest = value.lower() if isinstance(value, str) else ""
    if len(digest) != hash_type.hex_digits or not _HEX.fullmatch(digest):
        raise CyberTipError(
            f"{hash_type.name.lower()} must be {hash_type.hex_digits} hex digits"
        )
    return digest
