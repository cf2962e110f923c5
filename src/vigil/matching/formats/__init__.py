"""The built-in hash-list exchange formats, and guessing a file's format.

Each format is one module; `ALL_FORMATS` is what the plugin registry loads. Guessing
looks at the first bytes before the file name, since exports are often misnamed.
"""

import re

from vigil.matching.base import HashListFormat
from vigil.matching.formats.hma_csv import HMACSVFormat
from vigil.matching.formats.ncmec_xml import NCMECGenAIXMLFormat, NCMECXMLFormat
from vigil.matching.formats.plain import MD5ListFormat, PlainFormat, SHA1ListFormat
from vigil.matching.formats.stopncii import StopNCIIFormat
from vigil.matching.formats.vics import VICSFormat

ALL_FORMATS: tuple[type[HashListFormat], ...] = (
    PlainFormat,
    MD5ListFormat,
    SHA1ListFormat,
    HMACSVFormat,
    VICSFormat,
    NCMECXMLFormat,
    NCMECGenAIXMLFormat,
    StopNCIIFormat,
)

__all__ = [
    "ALL_FORMATS",
    "HMACSVFormat",
    "MD5ListFormat",
    "NCMECGenAIXMLFormat",
    "NCMECXMLFormat",
    "PlainFormat",
    "SHA1ListFormat",
    "StopNCIIFormat",
    "VICSFormat",
    "guess_format",
]

_BARE_LISTS = {32: MD5ListFormat.name, 40: SHA1ListFormat.name}
_HEX = re.compile(r"[0-9a-fA-F]+")
#: By extension, when the content says nothing (an empty or unreadable head).
_BY_EXTENSION = {".xml": NCMECXMLFormat.name, ".csv": PlainFormat.name}


def _first_data_line(text: str) -> str | None:
    for line in text.splitlines():
        # A one-word column header ("MD5") says nothing; the line after it does.
        if (
            line.strip()
            and not line.startswith("#")
            and line.strip().lower()
            not in (
                MD5ListFormat.hash_type,
                SHA1ListFormat.hash_type,
            )
        ):
            return line.strip()
    return None


def _guess_text(text: str) -> str | None:
    first = _first_data_line(text)
    if first is None:
        return PlainFormat.name
    columns = [column.strip().strip('"').lower() for column in first.split(",")]
    if "signal_type" in columns and {"signal_str", "signal"} & set(columns):
        return HMACSVFormat.name
    if _HEX.fullmatch(first) and len(first) in _BARE_LISTS:
        return _BARE_LISTS[len(first)]
    return PlainFormat.name


def guess_format(path_or_name: str, head: bytes) -> str | None:
    """The name of the format `head` (the file's first bytes) looks like, or None.

    Content decides first: JSON with `@odata.context` (or `odata.metadata`) is
    `vics`, JSON with `signalType` or `hashRecords` is `stopncii`, XML is
    `ncmec_xml`, a CSV header with `signal_type` is `hma_csv`, a bare 32- or 40-digit
    hex line starts an `md5_list` or `sha1_list`, other text is `plain`. Binary data
    and unknown JSON give None; an empty head falls back on the file extension.
    """
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    stripped = head.lstrip()
    if not stripped:
        lowered = path_or_name.lower()
        return next((f for e, f in _BY_EXTENSION.items() if lowered.endswith(e)), None)
    if stripped[:1] in (b"{", b"["):
        if b'"@odata.context"' in head or b'"odata.metadata"' in head:
            return VICSFormat.name
        if b'"signalType"' in head or b'"hashRecords"' in head:
            return StopNCIIFormat.name
        return None
    if stripped[:1] == b"<":
        return NCMECXMLFormat.name
    if b"\x00" in head:
        return None
    # The head may end inside a UTF-8 sequence; what was cut off does not matter.
    return _guess_text(head.decode("utf-8", errors="ignore"))
