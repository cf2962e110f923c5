"""XMP extractor: IPTC digital source type, AI fields and software names in every
container, and hostile packets (entities, DOCTYPE, size, depth) refused."""

import io
import pathlib
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin, TiffImagePlugin

from helpers import require_fixture
from vigil.media.base import Limits, MediaKind
from vigil.media.errors import MetadataError
from vigil.media.sniff import SNIFF_BYTES, sniff_bytes
from vigil.provenance.base import MAX_METADATA_BYTES, EvidenceKind, Strength
from vigil.provenance.run import Provenance, extract_all
from vigil.provenance.xmp import (
    MAX_XMP_DEPTH,
    XMPExtractor,
    match_generator,
    parse_xmp,
    source_type_kind,
    source_type_term,
)

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NAMESPACES = (
    f'xmlns:rdf="{RDF}" '
    'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
    'xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
    'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" '
    'xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#" '
    'xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"'
)
DST = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def packet(body: str = "", attributes: str = "") -> str:
    """An XMP packet with one rdf:Description holding `attributes` and `body`."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        f"<rdf:RDF {NAMESPACES}>"
        f'<rdf:Description rdf:about="" {attributes}>{body}</rdf:Description>'
        '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )


def image_with_xmp(xmp: str | bytes, fmt: str = "JPEG") -> bytes:
    raw = xmp.encode() if isinstance(xmp, str) else xmp
    image = Image.linear_gradient("L").convert("RGB").resize((32, 24))
    buffer = io.BytesIO()
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", raw.decode("utf-8", errors="replace"))
        image.save(buffer, fmt, pnginfo=info)
    elif fmt == "TIFF":
        tags = TiffImagePlugin.ImageFileDirectory_v2()
        tags[700] = raw
        tags.tagtype[700] = 1  # BYTE
        image.save(buffer, fmt, tiffinfo=tags)
    else:
        image.save(buffer, fmt, xmp=raw)
    return buffer.getvalue()


def run(data: bytes) -> Provenance:
    kind = sniff_bytes(data[:SNIFF_BYTES])
    return extract_all(data, kind, [XMPExtractor()], Limits())


def kinds(found: Provenance) -> list[tuple[EvidenceKind, Strength]]:
    return [(e.kind, e.strength) for e in found.evidence]


def test_the_iptc_reference_image_is_software_not_ai(
    shared_fixtures: pathlib.Path,
) -> None:
    path = "c2pa/iptc/IPTC-PhotometadataRef-Std2021.1.jpg"
    found = run(require_fixture(shared_fixtures, path).read_bytes())
    assert not found.errors
    assert kinds(found) == [(EvidenceKind.PROVENANCE, Strength.WEAK)]
    assert found.evidence[0].details["digital_source_type"] == "softwareImage"


@pytest.mark.parametrize(
    "xmp",
    [
        packet(
            attributes=f'Iptc4xmpExt:DigitalSourceType="{DST}trainedAlgorithmicMedia"'
        ),
        packet(
            "<Iptc4xmpExt:DigitalSourceType>"
            "https://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
            "</Iptc4xmpExt:DigitalSourceType>"
        ),
        packet(
            "<Iptc4xmpExt:DigitalSourceType "
            f'rdf:resource="{DST}compositeWithTrainedAlgorithmicMedia"/>'
        ),
    ],
    ids=["attribute", "element-https", "resource"],
)
def test_an_ai_source_type_is_weak_ai_evidence_in_every_form(xmp: str) -> None:
    found = run(image_with_xmp(xmp))
    assert kinds(found) == [(EvidenceKind.AI_GENERATED, Strength.WEAK)]


@pytest.mark.parametrize(
    ("term", "kind"),
    [
        ("digitalCapture", EvidenceKind.CAPTURED),
        ("algorithmicMedia", EvidenceKind.PROVENANCE),
        ("compositeSynthetic", EvidenceKind.PROVENANCE),
        ("softwareImage", EvidenceKind.PROVENANCE),
    ],
)
def test_other_source_types_are_not_ai(term: str, kind: EvidenceKind) -> None:
    xmp = packet(attributes=f'Iptc4xmpExt:DigitalSourceType="{DST}{term}"')
    assert kinds(run(image_with_xmp(xmp))) == [(kind, Strength.WEAK)]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF"])
def test_the_packet_is_found_in_every_container(fmt: str) -> None:
    xmp = packet(attributes='xmp:CreatorTool="Midjourney"')
    found = run(image_with_xmp(xmp, fmt))
    assert kinds(found) == [(EvidenceKind.AI_GENERATED, Strength.WEAK)]
    assert found.evidence[0].details["generator"] == "Midjourney"


@pytest.mark.parametrize(
    "body",
    [
        "<xmp:CreatorTool>Adobe Firefly</xmp:CreatorTool>",
        "<tiff:Software>Stable Diffusion web UI</tiff:Software>",
        "<xmpMM:History><rdf:Seq><rdf:li rdf:parseType='Resource'>"
        "<stEvt:softwareAgent>ComfyUI</stEvt:softwareAgent>"
        "</rdf:li></rdf:Seq></xmpMM:History>",
    ],
)
def test_a_generator_named_in_a_software_field_is_weak_ai_evidence(body: str) -> None:
    assert kinds(run(image_with_xmp(packet(body)))) == [
        (EvidenceKind.AI_GENERATED, Strength.WEAK)
    ]


def test_one_generator_named_twice_is_one_piece_of_evidence() -> None:
    xmp = packet(
        "<tiff:Software>Midjourney</tiff:Software>",
        'xmp:CreatorTool="Midjourney v6"',
    )
    (evidence,) = run(image_with_xmp(xmp)).evidence
    assert evidence.details["fields"] == ["xmp:CreatorTool", "tiff:Software"]


def test_ordinary_software_is_provenance_only() -> None:
    xmp = packet(attributes='xmp:CreatorTool="Adobe Photoshop 25.0 (Windows)"')
    found = run(image_with_xmp(xmp))
    assert kinds(found) == [(EvidenceKind.PROVENANCE, Strength.WEAK)]
    assert found.evidence[0].details["properties"] == {
        "xmp:CreatorTool": ["Adobe Photoshop 25.0 (Windows)"]
    }


def test_iptc_ai_fields_give_evidence_and_a_generation_record() -> None:
    body = (
        "<Iptc4xmpExt:AISystemUsed>Example Diffusion</Iptc4xmpExt:AISystemUsed>"
        "<Iptc4xmpExt:AISystemVersionUsed>2.1</Iptc4xmpExt:AISystemVersionUsed>"
        "<Iptc4xmpExt:AIPromptInformation><rdf:Alt><rdf:li xml:lang='x-default'>"
        "a lighthouse at dusk</rdf:li></rdf:Alt></Iptc4xmpExt:AIPromptInformation>"
    )
    found = run(image_with_xmp(packet(body)))
    assert kinds(found) == [(EvidenceKind.AI_GENERATED, Strength.WEAK)]
    assert found.generation is not None
    assert (found.generation.tool, found.generation.tool_version) == (
        "Example Diffusion",
        "2.1",
    )
    assert found.generation.prompt == "a lighthouse at dusk"


def test_a_utf16_packet_is_read() -> None:
    raw = packet(attributes='xmp:CreatorTool="NovelAI"').encode("utf-16")
    assert parse_xmp(raw) == {"xmp:CreatorTool": ["NovelAI"]}


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("DALL\u00b7E 3", "DALL-E"),
        ("dall-e", "DALL-E"),
        ("Adobe Firefly Image 3", "Adobe Firefly"),
        ("Stable Diffusion web UI", "Stable Diffusion"),
        ("ComfyUI", "ComfyUI"),
        ("NovelAI", "NovelAI"),
        ("Midjourney v6", "Midjourney"),
        ("Google Imagen", "Imagen"),
        ("Imagen 3", "Imagen"),
        ("Titan Image Generator G1", "Titan Image Generator"),
        ("Image Creator from Designer", "Bing Image Creator"),
        ("Adobe Photoshop 25.0", None),
        ("Editor de imagen", None),
        ("GIMP 2.10", None),
        ("Kandallee", None),
    ],
)
def test_generator_names(text: str, name: str | None) -> None:
    assert match_generator(text) == name


def test_source_type_terms_ignore_scheme_and_spaces() -> None:
    forms = [
        f"{DST}trainedAlgorithmicMedia",
        "https://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia/",
        " trainedAlgorithmicMedia ",
    ]
    assert {source_type_term(f) for f in forms} == {"trainedAlgorithmicMedia"}
    assert source_type_kind("TrainedAlgorithmicMedia") is EvidenceKind.AI_GENERATED


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + ']><x:xmpmeta xmlns:x="adobe:ns:meta/">&lol9;</x:xmpmeta>'
)
EXTERNAL = (
    '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/hostname">]>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">&e;</x:xmpmeta>'
)


@pytest.mark.parametrize(
    "xmp",
    [
        BILLION_LAUGHS,
        EXTERNAL,
        "<!doctype x><x/>",
        "<a>&undefined;</a>",
        "<a><b></a>",
        "\x00\x01 not xml",
        "<a>" * (MAX_XMP_DEPTH + 1) + "</a>" * (MAX_XMP_DEPTH + 1),
    ],
    ids=["entities", "external", "doctype", "undefined", "mismatch", "binary", "deep"],
)
def test_hostile_packets_are_refused_quickly(xmp: str) -> None:
    started = time.monotonic()
    found = run(image_with_xmp(xmp))
    assert time.monotonic() - started < 1.0
    assert found.evidence == ()
    assert [e.reason for e in found.errors] == ["malformed_metadata"]


def test_a_huge_packet_is_refused_before_parsing() -> None:
    body = "<xmp:Label>" + "x" * MAX_METADATA_BYTES + "</xmp:Label>"
    found = run(image_with_xmp(packet(body), "TIFF"))
    assert [e.reason for e in found.errors] == ["malformed_metadata"]
    assert "over" in found.errors[0].message
    with pytest.raises(MetadataError):
        parse_xmp("x" * (MAX_METADATA_BYTES + 1))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_parsed_or_refused(text: str) -> None:
    try:
        result = parse_xmp(text)
    except MetadataError:
        return
    assert all(isinstance(v, list) for v in result.values())


def test_files_without_xmp_give_nothing_and_broken_files_do_not_crash(
    shared_fixtures: pathlib.Path,
) -> None:
    plain = io.BytesIO()
    Image.new("RGB", (8, 8)).save(plain, "PNG")
    assert run(plain.getvalue()) == Provenance()
    for path in sorted((shared_fixtures / "generated" / "malformed").iterdir()):
        found = run(path.read_bytes())
        assert found.evidence == ()
        assert {e.reason for e in found.errors} <= {"decode_error"}
    truncated = image_with_xmp(packet(attributes='xmp:CreatorTool="Midjourney"'))
    for end in range(0, len(truncated), 97):
        found = extract_all(truncated[:end], MediaKind.JPEG, [XMPExtractor()], Limits())
        assert {e.reason for e in found.errors} <= {
            "decode_error",
            "malformed_metadata",
        }
