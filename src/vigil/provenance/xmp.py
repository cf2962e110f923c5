"""XMP packets: the IPTC digital source type, the IPTC AI fields and the software a
file names.

Design notes:
- The packet comes from Pillow's `info["xmp"]` (JPEG APP1, PNG iTXt
  `XML:com.adobe.xmp`, WebP `XMP ` chunk, TIFF tag 700, GIF, and HEIF through
  pillow-heif). JPEG extended XMP, split over several APP1 segments, is not
  reassembled; the main packet is what writers put the fields read here in.
- Parsing uses the standard library, which is safe only without a DTD: any DOCTYPE or
  ENTITY declaration is refused before the parser sees the packet, so no entity can
  expand and nothing external is fetched. The packet is capped at
  `MAX_METADATA_BYTES` and its nesting at `MAX_XMP_DEPTH`.
- Everything in XMP is a value anyone can type or strip, so all evidence here is
  `weak`.
- The IPTC digital source type vocabulary and the generator names live here and are
  shared with the C2PA and camera extractors, so one word means one thing everywhere.
"""

import re
import typing as t
import warnings
import xml.etree.ElementTree as ET  # safe here: DTDs are refused first

from PIL import Image

from vigil.media.base import MediaKind
from vigil.media.errors import MetadataError
from vigil.media.subject import Subject
from vigil.provenance.base import (
    MAX_METADATA_BYTES,
    Evidence,
    EvidenceKind,
    Extraction,
    Extractor,
    GenerationRecord,
    Strength,
)

#: IPTC digital source types (last path segment of the NewsCodes URI, compared
#: case-insensitively) that say a generative model made the image. Source: IPTC
#: NewsCodes "Digital Source Type" vocabulary, cv.iptc.org/newscodes/digitalsourcetype.
#: `algorithmicMedia` (pure algorithm, no training data) and `compositeSynthetic` are
#: deliberately not AI.
AI_SOURCE_TYPES = frozenset(
    {"trainedalgorithmicmedia", "compositewithtrainedalgorithmicmedia"}
)
#: Source types that say a camera (or film) recorded the scene. Same vocabulary.
CAPTURE_SOURCE_TYPES = frozenset(
    {
        "digitalcapture",
        "computationalcapture",
        "negativefilm",
        "positivefilm",
        "compositecapture",
    }
)

#: Names AI image generators write into software fields (XMP CreatorTool,
#: tiff:Software, EXIF Software, C2PA softwareAgent). Source: the generators listed in
#: the "Provenance evidence" issue, plus the softwareAgent values of the public C2PA
#: samples (Amazon Titan, Bing Image Creator). Matched case-insensitively on word
#: boundaries; "Imagen" alone is Spanish for "image", so it needs "Google" or a version.
AI_GENERATOR_PATTERNS: tuple[tuple[str, str], ...] = (
    ("Adobe Firefly", r"adobe[\s_]*firefly"),
    ("Midjourney", r"midjourney"),
    ("DALL-E", r"dall[\s\-\u00b7.]*e"),
    ("Stable Diffusion", r"stable[\s\-_]*diffusion"),
    ("ComfyUI", r"comfy[\s\-_]*ui"),
    ("NovelAI", r"novel[\s\-_]*ai"),
    ("Imagen", r"google\s+imagen|imagen\s*\d"),
    ("Titan Image Generator", r"titan\s+image\s+generator"),
    ("Bing Image Creator", r"bing\s+image\s+creator|image\s+creator\s+from\s+designer"),
    ("InvokeAI", r"invoke[\s\-_]*ai"),
    ("Fooocus", r"fooocus"),
)
_GENERATOR_RES = tuple(
    (name, re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE))
    for name, pattern in AI_GENERATOR_PATTERNS
)

#: Deepest element nesting accepted. Real packets nest about 10 deep
#: (xmpmeta/RDF/Description/History/Seq/li/...); 64 leaves ample room.
MAX_XMP_DEPTH = 64
#: Values kept per property, and characters per value in `details`.
MAX_VALUES_PER_PROPERTY = 32
MAX_DETAIL_CHARS = 2000
_FEED_CHARS = 64 * 1024

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
# (namespace, local name) -> the prefixed name used in details.
_PROPERTIES = {
    (_IPTC_EXT, "DigitalSourceType"): "Iptc4xmpExt:DigitalSourceType",
    (_IPTC_EXT, "AISystemUsed"): "Iptc4xmpExt:AISystemUsed",
    (_IPTC_EXT, "AISystemVersionUsed"): "Iptc4xmpExt:AISystemVersionUsed",
    (_IPTC_EXT, "AIPromptInformation"): "Iptc4xmpExt:AIPromptInformation",
    ("http://ns.adobe.com/xap/1.0/", "CreatorTool"): "xmp:CreatorTool",
    ("http://ns.adobe.com/tiff/1.0/", "Software"): "tiff:Software",
    ("http://ns.adobe.com/exif/1.0/", "Software"): "exif:Software",
    (
        "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#",
        "softwareAgent",
    ): "stEvt:softwareAgent",
    ("http://purl.org/dc/terms/", "provenance"): "dcterms:provenance",
}
_TOOL_PROPERTIES = (
    "xmp:CreatorTool",
    "tiff:Software",
    "exif:Software",
    "stEvt:softwareAgent",
)
_DECLARATION = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def source_type_term(value: str) -> str:
    """The IPTC term of a digital source type value: its last path segment, so that
    the http and https forms (and stray spaces) compare equal."""
    return value.strip().rstrip("/").rsplit("/", 1)[-1].strip()


def source_type_kind(term: str) -> EvidenceKind:
    """What an IPTC digital source type term points to."""
    folded = term.casefold()
    if folded in AI_SOURCE_TYPES:
        return EvidenceKind.AI_GENERATED
    if folded in CAPTURE_SOURCE_TYPES:
        return EvidenceKind.CAPTURED
    return EvidenceKind.PROVENANCE


def match_generator(text: str) -> str | None:
    """The known AI generator that `text` names, if any."""
    for name, pattern in _GENERATOR_RES:
        if pattern.search(text):
            return name
    return None


def clean_text(value: str, limit: int = MAX_DETAIL_CHARS) -> str:
    """A metadata string fit for `details`: control characters dropped, trimmed."""
    return _CONTROL.sub("", value).strip()[:limit]


def metadata_image(subject: Subject) -> Image.Image:
    """The subject's Pillow image for reading headers, with Pillow's warnings about
    corrupt EXIF silenced so that they never turn into errors where warnings are
    errors (the fields are then simply absent)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return subject.image()


def parse_xmp(packet: bytes | str) -> dict[str, list[str]]:
    """The properties read here, by prefixed name, from one XMP packet.

    Raises:
        MetadataError: the packet is over the size or depth limit, declares a DTD or
            entities, or is not well-formed XML.
    """
    if len(packet) > MAX_METADATA_BYTES:
        raise MetadataError(
            f"XMP packet of {len(packet)} bytes is over {MAX_METADATA_BYTES}"
        )
    text = _decode(packet) if isinstance(packet, bytes) else packet
    text = text.lstrip("\ufeff").rstrip("\x00 \t\r\n")
    if _DECLARATION.search(text):
        raise MetadataError("XMP packet declares a DOCTYPE or ENTITY; refused")
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    root: ET.Element | None = None
    depth = 0
    try:
        for start in range(0, len(text), _FEED_CHARS):
            parser.feed(text[start : start + _FEED_CHARS])
            events = t.cast(t.Iterator[tuple[str, t.Any]], parser.read_events())
            for event, item in events:
                if root is None and isinstance(item, ET.Element):
                    root = item
                depth += 1 if event == "start" else -1
                if depth > MAX_XMP_DEPTH:
                    raise MetadataError(
                        f"XMP packet nests deeper than {MAX_XMP_DEPTH} elements"
                    )
        parser.close()
    except ET.ParseError as exc:
        raise MetadataError(f"XMP packet is not well-formed XML: {exc}") from exc
    if root is None:
        raise MetadataError("XMP packet holds no XML element")
    return _properties(root)


def _decode(packet: bytes) -> str:
    # XMP is UTF-8, UTF-16 or UTF-32 (XMP spec part 3 §1.1.2); tell them apart by BOM
    # or by the NUL bytes that ASCII markup gets in UTF-16.
    for bom, codec in (
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if packet.startswith(bom):
            return packet[len(bom) :].decode(codec, errors="replace")
    if packet[:2] == b"<\x00":
        return packet.decode("utf-16-le", errors="replace")
    if packet[:2] == b"\x00<":
        return packet.decode("utf-16-be", errors="replace")
    return packet.decode("utf-8", errors="replace")


def _properties(root: ET.Element) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}

    def add(name: str, value: str | None) -> None:
        values = found.setdefault(name, [])
        if value and value.strip() and len(values) < MAX_VALUES_PER_PROPERTY:
            if value.strip() not in values:
                values.append(value.strip())

    for element in root.iter():
        for key, value in element.attrib.items():
            name = _PROPERTIES.get(_split(key))
            if name:
                add(name, value)
        name = _PROPERTIES.get(_split(element.tag))
        if name:
            resource = element.get(f"{{{_RDF}}}resource")
            if resource is not None:
                add(name, resource)
            elif element.text and element.text.strip():
                add(name, element.text)
            else:  # an rdf:Alt / Seq / Bag of rdf:li values
                for item in element.iter(f"{{{_RDF}}}li"):
                    add(name, item.text)
    return {name: values for name, values in found.items() if values}


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{") and "}" in tag:
        namespace, local = tag[1:].split("}", 1)
        return namespace, local
    return "", tag


class XMPExtractor(Extractor):
    """IPTC digital source type, IPTC AI fields and software names from XMP."""

    name = "xmp"
    version = 1
    media_kinds = frozenset(
        {
            MediaKind.JPEG,
            MediaKind.PNG,
            MediaKind.WEBP,
            MediaKind.TIFF,
            MediaKind.HEIF,
            MediaKind.GIF,
        }
    )

    def extract(self, subject: Subject) -> Extraction:
        packet = _packet(metadata_image(subject))
        if packet is None:
            return Extraction()
        properties = parse_xmp(packet)
        shown = {
            name: [clean_text(v) for v in values] for name, values in properties.items()
        }
        evidence = _source_type_evidence(properties, shown)
        evidence += _ai_system_evidence(shown)
        evidence += _tool_evidence(properties, shown)
        if not evidence and any(name in properties for name in _TOOL_PROPERTIES):
            tools = sorted({v for n in _TOOL_PROPERTIES for v in shown.get(n, [])[:1]})
            evidence.append(
                Evidence(
                    EvidenceKind.PROVENANCE,
                    "xmp",
                    Strength.WEAK,
                    f"XMP names the software {', '.join(tools)}",
                    details={"properties": shown},
                )
            )
        return Extraction(evidence=tuple(evidence), records=_records(properties))


def _packet(image: Image.Image) -> bytes | str | None:
    raw: t.Any = image.info.get("xmp")
    if raw is None:
        return None
    if isinstance(raw, tuple) and all(isinstance(b, int) for b in raw):
        try:
            raw = bytes(raw)  # a TIFF tag 700 typed as a list of numbers
        except ValueError as exc:
            raise MetadataError("TIFF XMP tag holds values over 255") from exc
    if isinstance(raw, bytes | bytearray):
        return bytes(raw)
    if isinstance(raw, str):
        return raw
    raise MetadataError(f"XMP packet has an unexpected type {type(raw).__name__}")


def _source_type_evidence(
    properties: dict[str, list[str]], shown: dict[str, list[str]]
) -> list[Evidence]:
    evidence = []
    for value in properties.get("Iptc4xmpExt:DigitalSourceType", []):
        term = clean_text(source_type_term(value), 200)
        kind = source_type_kind(term)
        evidence.append(
            Evidence(
                kind,
                "xmp",
                Strength.WEAK,
                f"XMP Iptc4xmpExt:DigitalSourceType is {term}",
                details={
                    "property": "Iptc4xmpExt:DigitalSourceType",
                    "digital_source_type": term,
                    "properties": shown,
                },
            )
        )
    return evidence


def _ai_system_evidence(shown: dict[str, list[str]]) -> list[Evidence]:
    systems = shown.get("Iptc4xmpExt:AISystemUsed", [])
    if not systems:
        return []
    return [
        Evidence(
            EvidenceKind.AI_GENERATED,
            "xmp",
            Strength.WEAK,
            f"XMP Iptc4xmpExt:AISystemUsed names {', '.join(s[:100] for s in systems)}",
            details={"property": "Iptc4xmpExt:AISystemUsed", "properties": shown},
        )
    ]


def _tool_evidence(
    properties: dict[str, list[str]], shown: dict[str, list[str]]
) -> list[Evidence]:
    # One piece of evidence per generator, however many fields repeat its name.
    named: dict[str, list[str]] = {}
    for name in _TOOL_PROPERTIES:
        for value in properties.get(name, []):
            generator = match_generator(value)
            if generator and name not in named.setdefault(generator, []):
                named[generator].append(name)
    return [
        Evidence(
            EvidenceKind.AI_GENERATED,
            "xmp",
            Strength.WEAK,
            f"XMP {', '.join(fields)} names the AI generator {generator}",
            details={"generator": generator, "fields": fields, "properties": shown},
        )
        for generator, fields in named.items()
    ]


def _records(properties: dict[str, list[str]]) -> tuple[GenerationRecord, ...]:
    systems = properties.get("Iptc4xmpExt:AISystemUsed", [])
    prompts = properties.get("Iptc4xmpExt:AIPromptInformation", [])
    if not systems and not prompts:
        return ()
    versions = properties.get("Iptc4xmpExt:AISystemVersionUsed", [])
    return (
        GenerationRecord(
            tool=clean_text(systems[0], 200) if systems else "unknown",
            source="xmp:Iptc4xmpExt",
            tool_version=clean_text(versions[0], 200) if versions else None,
            prompt=clean_text(prompts[0], MAX_METADATA_BYTES) if prompts else None,
        ),
    )
