"""Stealth metadata: generation parameters hidden in the least significant bits of
the pixels (NovelAI, the A1111/Forge stealth-pnginfo extension, SwarmUI).

Layout (ashen-sensored/sd_webui_stealth_pnginfo, NovelAI nai_meta.py): bits are read
column by column (x outer, y inner), from the alpha channel (one bit a pixel) or
from R, G and B (three bits a pixel). First a 15-byte magic (`stealth_pnginfo`,
`stealth_pngcomp` for alpha; `stealth_rgbinfo`, `stealth_rgbcomp` for RGB; `comp` =
gzip), then the payload length in bits (32-bit big-endian), then the payload: JSON
(NovelAI, with the Comment JSON inside; SwarmUI) or A1111 infotext.

Only lossless pixels carry it, so only PNG and lossless WebP are read (for lossy
WebP, an alpha plane stored without level reduction). Only the columns that hold
the bits are touched, and the payload is capped before and after inflation.
"""

import dataclasses
import struct
import typing as t

import numpy as np
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
    Strength,
)
from vigil.provenance.generators import a1111, swarmui
from vigil.provenance.generators._decode import (
    GZIP_WBITS,
    inflate_limited,
    load_json_object,
    looks_like_json_object,
)
from vigil.provenance.generators._record import finding
from vigil.provenance.generators.novelai import DEFAULT_VERIFY_KEYS, novelai_extraction

# magic → (channel mode, gzip-compressed)
STEALTH_MAGICS: t.Mapping[bytes, tuple[str, bool]] = {
    b"stealth_pnginfo": ("alpha", False),
    b"stealth_pngcomp": ("alpha", True),
    b"stealth_rgbinfo": ("rgb", False),
    b"stealth_rgbcomp": ("rgb", True),
}
MAGIC_BITS = 15 * 8
LENGTH_BITS = 32
HEADER_BITS = MAGIC_BITS + LENGTH_BITS
#: Largest stored payload (compressed or not); inflation is capped separately.
MAX_STEALTH_PAYLOAD_BYTES = MAX_METADATA_BYTES
#: Most RIFF chunks walked to find a WebP's image data (real files have < 10).
MAX_WEBP_CHUNKS = 64
# The RGB reader runs first: for an RGBA image the reference implementation meets
# the RGB magic (40 pixels) before the alpha one (120 pixels).
_MODES: t.Mapping[str, tuple[int, ...]] = {"rgb": (0, 1, 2), "alpha": (3,)}
_PREVIEW_CHARS = 200


@dataclasses.dataclass(frozen=True)
class StealthPayload:
    mode: str  # alpha | rgb
    magic: str
    stored_bytes: int
    text: str


class StealthExtractor(Extractor):
    """Generation parameters hidden in pixel LSBs."""

    name = "stealth"
    reads_pixels = True
    media_kinds = frozenset({MediaKind.PNG, MediaKind.WEBP})

    def __init__(self, novelai_keys: t.Mapping[str, bytes] | None = None) -> None:
        keys = DEFAULT_VERIFY_KEYS if novelai_keys is None else novelai_keys
        self.novelai_keys = dict(keys)

    def extract(self, subject: Subject) -> Extraction:
        channels = lossless_channels(subject.kind, subject.data)
        if not channels:
            return Extraction()
        payload = read_stealth(subject.pixels(), channels)
        if payload is None:
            return Extraction()
        return self._interpret(payload, subject)

    def _interpret(self, payload: StealthPayload, subject: Subject) -> Extraction:
        source = f"stealth:{payload.mode}"
        details = {"magic": payload.magic, "stored_bytes": payload.stored_bytes}
        text = payload.text
        if looks_like_json_object(text):
            data = load_json_object(text, source)
            if swarmui.PARAMS_KEY in data:
                record = swarmui.parse_swarmui(data, source)
                if record is not None:
                    summary = f"{record.tool} parameters hidden in pixel LSBs"
                    return finding(record, summary, details=details)
            software = data.get("Software")
            is_marked = isinstance(software, str) and software.startswith("NovelAI")
            found = novelai_extraction(
                data, source, subject, self.novelai_keys, is_marked=is_marked
            )
            if found is not None:
                return _with_details(found, details)
        else:
            record = a1111.parse_a1111(text, source)
            if record is not None:
                summary = f"{record.tool} parameters hidden in pixel LSBs"
                return finding(record, summary, details=details)
        # The magic exists only in image-generation tools: evidence even when the
        # payload's layout is unknown.
        unknown = Evidence(
            kind=EvidenceKind.AI_GENERATED,
            source=source,
            strength=Strength.STRONG,
            summary="stealth generation metadata of an unknown layout in pixel LSBs",
            details={**details, "preview": text[:_PREVIEW_CHARS]},
        )
        return Extraction(evidence=(unknown,))


def _with_details(found: Extraction, details: dict[str, t.Any]) -> Extraction:
    evidence = tuple(
        dataclasses.replace(e, details={**e.details, **details}) for e in found.evidence
    )
    return dataclasses.replace(found, evidence=evidence)


def read_stealth(
    image: Image.Image, modes: t.Collection[str] = ("rgb", "alpha")
) -> StealthPayload | None:
    """The stealth payload of a decoded image, or None when it carries none.

    Raises:
        MetadataError: a magic was found but the length or payload is malformed,
            over the cap, or inflates past it (gzip bomb).
    """
    if image.mode not in ("RGB", "RGBA"):
        return None
    for mode, channels in _MODES.items():
        if mode not in modes or max(channels) >= len(image.mode):
            continue
        header = _bits(image, channels, HEADER_BITS)
        if header is None:
            continue
        magic = np.packbits(header[:MAGIC_BITS]).tobytes()
        if STEALTH_MAGICS.get(magic, ("", False))[0] != mode:
            continue
        compressed = STEALTH_MAGICS[magic][1]
        length = int.from_bytes(np.packbits(header[MAGIC_BITS:]).tobytes(), "big")
        stored = _payload(image, channels, length)
        raw = inflate_limited(stored, wbits=GZIP_WBITS) if compressed else stored
        text = raw.decode("utf-8", errors="replace")
        return StealthPayload(mode, magic.decode("ascii"), len(stored), text)
    return None


def _payload(image: Image.Image, channels: tuple[int, ...], length: int) -> bytes:
    available = image.width * image.height * len(channels) - HEADER_BITS
    if length <= 0 or length % 8:
        raise MetadataError(f"stealth payload length of {length} bits is malformed")
    if length // 8 > MAX_STEALTH_PAYLOAD_BYTES:
        limit = MAX_STEALTH_PAYLOAD_BYTES
        raise MetadataError(f"stealth payload of {length // 8} bytes is over {limit}")
    if length > available:
        raise MetadataError(
            f"stealth payload of {length} bits is longer than the image holds"
        )
    bits = _bits(image, channels, HEADER_BITS + length)
    if bits is None:  # unreachable after the checks above; kept for the type
        raise MetadataError("stealth payload is longer than the image holds")
    return np.packbits(bits[HEADER_BITS:]).tobytes()


def _bits(
    image: Image.Image, channels: tuple[int, ...], count: int
) -> np.ndarray | None:
    """The first `count` LSBs in reading order (x outer, y inner, then channel),
    converting only the columns that hold them to an array."""
    width, height = image.size
    per_pixel = len(channels)
    if height == 0 or count > height * width * per_pixel:
        return None
    columns = -(-count // (height * per_pixel))
    block = np.asarray(image.crop((0, 0, columns, height)))[:, :, list(channels)]
    ordered = np.ascontiguousarray(block.transpose(1, 0, 2)).reshape(-1)
    return t.cast(np.ndarray, ordered[:count] & 1)


def lossless_channels(kind: MediaKind, data: bytes) -> tuple[str, ...]:
    """Which stealth modes can survive in this file: PNG, lossless WebP → both;
    lossy WebP with an alpha plane stored without level reduction → alpha."""
    if kind is MediaKind.PNG:
        return ("rgb", "alpha")
    if kind is not MediaKind.WEBP or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return ()
    return _webp_channels(data, 12, len(data))


def _webp_channels(data: bytes, offset: int, end: int) -> tuple[str, ...]:
    has_exact_alpha = False
    for _ in range(MAX_WEBP_CHUNKS):
        if offset + 8 > end:
            break
        kind = data[offset : offset + 4]
        (size,) = struct.unpack_from("<I", data, offset + 4)
        body = offset + 8
        if kind == b"VP8L":
            return ("rgb", "alpha")
        if kind == b"ALPH" and body < end:
            # ALPH header: reserved(2) pre-processing(2) filtering(2) compression(2);
            # pre-processing 1 is level reduction, which changes alpha values.
            has_exact_alpha = (data[body] >> 4) & 0x03 == 0
        if kind == b"VP8 ":
            return ("alpha",) if has_exact_alpha else ()
        if kind == b"ANMF":  # first animation frame: 16 bytes of frame header
            return _webp_channels(data, body + 16, min(end, body + size))
        offset = body + size + (size & 1)
    return ()
