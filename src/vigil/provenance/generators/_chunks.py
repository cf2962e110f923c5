"""Reading the text metadata fields generators write: PNG tEXt/zTXt/iTXt chunks and
EXIF string tags (IFD0 and the Exif IFD's UserComment/MakerNote) of JPEG, WebP, TIFF
and HEIF, each capped.

Design notes:
- PNG chunks are walked here, not through Pillow: Pillow stops at the first IDAT
  until pixels are decoded, and some writers put `parameters` after the image data.
  Walking chunk headers is offset arithmetic and never touches pixels.
- A field that is over its cap or fails to inflate is kept as an error and only
  raises `MetadataError` when an extractor asks for that field, so one bad chunk
  does not hide the others, and only extractors that need it report it.
- The fields of one item are read once and shared by every generator extractor
  (cached against the `Subject`, which the runner creates per item).
"""

import dataclasses
import struct
import typing as t
import weakref

from PIL import Image

from vigil.media.base import MediaKind
from vigil.media.errors import MediaError, MetadataError
from vigil.media.subject import Subject
from vigil.provenance.base import MAX_METADATA_BYTES, read_text_limited
from vigil.provenance.generators._decode import inflate_limited

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: Text chunks read per PNG. Generators write fewer than ten (A1111 one, ComfyUI
#: two, NovelAI six); editors add a handful more. Later ones are ignored.
MAX_PNG_TEXT_CHUNKS = 256
#: All text of one item together (inflated). Four full-size fields; beyond that the
#: remaining chunks are recorded as errors.
MAX_TOTAL_TEXT_BYTES = 4 * MAX_METADATA_BYTES
#: Raw EXIF block accepted. JPEG caps APP1 at 64 KiB; WebP/PNG EXIF can carry a
#: ComfyUI prompt and workflow (each up to the field cap) in IFD0 string tags.
MAX_EXIF_BYTES = 4 * MAX_METADATA_BYTES
#: PNG chunk lengths are at most 2**31 - 1 (PNG specification, section 5.3).
_PNG_MAX_CHUNK_LENGTH = 2**31 - 1

_CHUNK_HEADER = struct.Struct(">I4s")
_EXIF_IFD = 0x8769
_USER_COMMENT = 0x9286
_MAKER_NOTE = 0x927C
_IFD0_TEXT_TAGS = {
    0x010D: "DocumentName",
    0x010E: "ImageDescription",
    0x010F: "Make",
    0x0110: "Model",
    0x0131: "Software",
    0x013B: "Artist",
    0x8298: "Copyright",
}
# UserComment character-code prefixes (EXIF 2.32, table 9).
_UNICODE_PREFIX = b"UNICODE\x00"
_ASCII_PREFIX = b"ASCII\x00\x00\x00"
_JIS_PREFIX = b"JIS\x00\x00\x00\x00\x00"
_UNDEFINED_PREFIX = b"\x00" * 8


@dataclasses.dataclass(frozen=True)
class Field:
    """One text field: its text, or why it could not be read."""

    source: str  # "png:parameters", "exif:UserComment", ...
    text: str | None = None
    error: str | None = None

    def value(self) -> str:
        if self.error is not None or self.text is None:
            raise MetadataError(f"{self.source}: {self.error or 'unreadable'}")
        return self.text


@dataclasses.dataclass(frozen=True)
class Fields:
    """The text fields of one item. PNG keys are chunk keywords; EXIF keys are tag
    names (`UserComment`, `Make`, ...)."""

    png: t.Mapping[str, Field] = dataclasses.field(default_factory=dict)
    exif: t.Mapping[str, Field] = dataclasses.field(default_factory=dict)

    def png_text(self, key: str) -> str | None:
        """A PNG text chunk's text; raises `MetadataError` if it was malformed."""
        found = self.png.get(key)
        return None if found is None else found.value()

    def exif_text(self, name: str) -> str | None:
        found = self.exif.get(name)
        return None if found is None else found.value()

    def exif_fields(self) -> list[Field]:
        return list(self.exif.values())


_CACHE: "weakref.WeakKeyDictionary[Subject, Fields]" = weakref.WeakKeyDictionary()


def read_fields(subject: Subject) -> Fields:
    """Text fields of `subject`, read once per item."""
    cached = _CACHE.get(subject)
    if cached is None:
        cached = _read(subject)
        _CACHE[subject] = cached
    return cached


def _read(subject: Subject) -> Fields:
    if subject.kind is MediaKind.PNG:
        png, exif_raw = walk_png(subject.data)
        exif = _exif_fields_from_bytes(exif_raw) if exif_raw is not None else {}
        return Fields(png=png, exif=exif)
    if subject.kind.is_image:
        return Fields(exif=_exif_fields_from_image(subject))
    return Fields()


def walk_png(data: bytes) -> tuple[dict[str, Field], bytes | None]:
    """Text chunks (first of each keyword) and the raw eXIf chunk of a PNG.

    Stops quietly at IEND or where the file is truncated: what was read so far is
    still evidence.
    """
    fields: dict[str, Field] = {}
    exif: bytes | None = None
    if not data.startswith(PNG_SIGNATURE):
        return fields, exif
    offset = len(PNG_SIGNATURE)
    text_chunks = 0
    total_text = 0
    while offset + _CHUNK_HEADER.size <= len(data):
        length, kind = _CHUNK_HEADER.unpack_from(data, offset)
        start = offset + _CHUNK_HEADER.size
        end = start + length
        if length > _PNG_MAX_CHUNK_LENGTH or end + 4 > len(data):
            break
        offset = end + 4  # skip the CRC
        if kind == b"IEND":
            break
        if kind == b"eXIf" and exif is None:
            exif = data[start:end]
            continue
        if kind not in (b"tEXt", b"zTXt", b"iTXt"):
            continue
        text_chunks += 1
        if text_chunks > MAX_PNG_TEXT_CHUNKS:
            break
        keyword, text_field = _text_chunk(kind, data[start:end], total_text)
        if keyword is not None and keyword not in fields:
            fields[keyword] = text_field
            total_text += len(text_field.text or "")
    return fields, exif


def _text_chunk(kind: bytes, body: bytes, total: int) -> tuple[str | None, Field]:
    keyword_bytes, sep, rest = body.partition(b"\x00")
    if not sep or not keyword_bytes or len(keyword_bytes) > 79:
        return None, Field("png")
    keyword = keyword_bytes.decode("latin-1")
    source = f"png:{keyword}"
    try:
        if total > MAX_TOTAL_TEXT_BYTES:
            raise MetadataError(f"text chunks together exceed {MAX_TOTAL_TEXT_BYTES}")
        if kind == b"tEXt":
            text = _decode_text(rest)
        elif kind == b"zTXt":
            if not rest or rest[0] != 0:
                raise MetadataError("unknown zTXt compression method")
            text = _decode_text(inflate_limited(rest[1:]))
        else:
            text = _itxt(rest)
    except MetadataError as exc:
        return keyword, Field(source, error=exc.message)
    return keyword, Field(source, text=text)


def _itxt(rest: bytes) -> str:
    if len(rest) < 2:
        raise MetadataError("iTXt chunk is truncated")
    is_compressed, method = rest[0], rest[1]
    _language, sep1, rest = rest[2:].partition(b"\x00")
    _translated, sep2, payload = rest.partition(b"\x00")
    if not (sep1 and sep2):
        raise MetadataError("iTXt chunk is truncated")
    if is_compressed:
        if method != 0:
            raise MetadataError("unknown iTXt compression method")
        payload = inflate_limited(payload)
    return read_text_limited(payload)


def _decode_text(raw: bytes) -> str:
    # tEXt is Latin-1 by the specification, but several generators write UTF-8
    # there; valid UTF-8 is almost never meant as Latin-1.
    text = read_text_limited(raw)  # the size cap; UTF-8 with replacement
    if "\ufffd" in text:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("latin-1")
    return text


def _exif_fields_from_image(subject: Subject) -> dict[str, Field]:
    try:
        image = subject.image()
    except MediaError:
        return {}  # the decode stage reports unreadable images; no metadata here
    raw = image.info.get("exif")
    if isinstance(raw, bytes) and len(raw) > MAX_EXIF_BYTES:
        return {"EXIF": Field("exif", error=f"EXIF block over {MAX_EXIF_BYTES} bytes")}
    try:
        exif = image.getexif()
        return _exif_fields(exif)
    except Exception as exc:  # Pillow raises many types on hostile EXIF
        return {"EXIF": Field("exif", error=f"unreadable EXIF: {exc}")}


def _exif_fields_from_bytes(raw: bytes) -> dict[str, Field]:
    if len(raw) > MAX_EXIF_BYTES:
        return {"EXIF": Field("exif", error=f"EXIF block over {MAX_EXIF_BYTES} bytes")}
    try:
        exif = Image.Exif()
        exif.load(raw)
        return _exif_fields(exif)
    except Exception as exc:  # Pillow raises many types on hostile EXIF
        return {"EXIF": Field("exif", error=f"unreadable EXIF: {exc}")}


def _exif_fields(exif: Image.Exif) -> dict[str, Field]:
    fields: dict[str, Field] = {}
    for tag, value in exif.items():
        name = _IFD0_TEXT_TAGS.get(tag)
        if name is not None:
            fields[name] = _exif_text_field(name, value)
        elif tag == _USER_COMMENT:
            # Misplaced in IFD0 by writers that set it on Pillow's top-level Exif
            # (save-image-extended); the Exif IFD's own one below takes precedence.
            fields["UserComment"] = _exif_text_field(
                "UserComment", value, endian=exif.endian
            )
    sub = exif.get_ifd(_EXIF_IFD)
    comment = sub.get(_USER_COMMENT)
    if comment is not None:
        fields["UserComment"] = _exif_text_field(
            "UserComment", comment, endian=exif.endian
        )
    maker_note = sub.get(_MAKER_NOTE)
    if isinstance(maker_note, bytes | str) and len(maker_note) <= 256:
        # Fooocus names its metadata scheme here; camera maker notes are binary
        # blobs of no use to a generator reader.
        fields["MakerNote"] = _exif_text_field("MakerNote", maker_note)
    return fields


def _exif_text_field(name: str, value: t.Any, endian: str | None = None) -> Field:
    source = f"exif:{name}"
    if not isinstance(value, bytes | str):
        return Field(source, error=f"not text ({type(value).__name__})")
    try:
        if name == "UserComment":
            text = read_text_limited(decode_user_comment(value, endian))
        else:
            text = read_text_limited(value)
    except MetadataError as exc:
        return Field(source, error=exc.message)
    return Field(source, text=text.rstrip("\x00"))


def decode_user_comment(value: bytes | str, endian: str | None = None) -> str:
    """Text of an EXIF UserComment: an 8-byte character-code prefix, then the text.

    `UNICODE` text is UTF-16 in either byte order: A1111 (through piexif) writes
    big-endian whatever the TIFF byte order, SwarmUI follows the TIFF header. The
    order is taken from a byte-order mark, else from where the zero bytes of ASCII
    characters fall, else from the TIFF header (`endian` "<" or ">").
    """
    if isinstance(value, str):
        return value
    prefix, body = value[:8], value[8:]
    if prefix == _UNICODE_PREFIX:
        return _decode_utf16(body, endian)
    if prefix in (_ASCII_PREFIX, _UNDEFINED_PREFIX, _JIS_PREFIX):
        return body.decode("utf-8", errors="replace")
    return value.decode("utf-8", errors="replace")


def _decode_utf16(body: bytes, endian: str | None) -> str:
    if body[:2] == b"\xfe\xff":
        return body[2:].decode("utf-16-be", errors="replace")
    if body[:2] == b"\xff\xfe":
        return body[2:].decode("utf-16-le", errors="replace")
    sample = body[:4096]
    zeros_even = sample[0::2].count(0)
    zeros_odd = sample[1::2].count(0)
    if zeros_even != zeros_odd:
        big_endian = zeros_even > zeros_odd
    else:
        big_endian = endian != "<"
    return body.decode("utf-16-be" if big_endian else "utf-16-le", errors="replace")
