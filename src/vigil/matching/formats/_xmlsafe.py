"""Safe incremental XML reading and escaping for the XML hash-list formats.

A `<!DOCTYPE` (so any `<!ENTITY`) is refused before the parser sees a byte: no entity
bombs, no external entities, no `defusedxml` needed. Input is fed a line at a time, so
events carry line numbers; bytes between two record boundaries are capped.
"""

import codecs
import itertools
import re
import typing as t
import xml.etree.ElementTree as ET

from vigil.matching.base import FormatError
from vigil.matching.formats._fields import MAX_RECORD_BYTES

#: Vigil's choice: an XML declaration and a few comments fit well within this.
MAX_PROLOG_BYTES = 64 * 1024
PIECE_BYTES = 64 * 1024  # Vigil's choice: what one feed takes from a line-less file
# XML 1.0 Char production (W3C XML 1.0, section 2.2).
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\r": "&#13;",
        "\n": "&#10;",
        "\t": "&#9;",
    }
)


def _check(text: str) -> str:
    if _NOT_XML_CHAR.search(text):
        raise FormatError("a value holds a character XML 1.0 cannot carry")
    return text


def escape_text(text: str) -> str:
    # A carriage return would come back as a newline (XML end-of-line handling).
    return _check(text).translate(_TEXT_ESCAPES)


def escape_attr(text: str) -> str:
    return _check(text).translate(_ATTR_ESCAPES)


def local_name(tag: str) -> tuple[str, str]:
    """(namespace, local name) of an ElementTree tag: `{ns}name` → (ns, name)."""
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def _root_starts(data: bytes, *, is_complete: bool) -> bool:
    """True once the prolog is over; FormatError for a DTD or a non-UTF-8 encoding."""
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or b"\x00" in data[:4]:
        raise FormatError("only UTF-8 XML is read", line=1)
    at = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    while True:
        while at < len(data) and data[at] in b" \t\r\n":
            at += 1
        rest = data[at:]
        if not is_complete and (len(rest) < 4 and b"<".startswith(rest[:1])):
            return False  # too little to tell `<!--` from `<!DOCTYPE`
        if rest.startswith(b"<?") or rest.startswith(b"<!--"):
            closing = b"?>" if rest.startswith(b"<?") else b"-->"
            end = data.find(closing, at + 2)
            if end < 0:
                if is_complete:
                    raise FormatError("unterminated XML prolog", line=1)
                return False
            at = end + len(closing)
        elif rest.startswith(b"<!"):
            raise FormatError(
                "DOCTYPE and ENTITY declarations are refused (entity expansion and "
                "external entities)",
                line=data.count(b"\n", 0, at) + 1,
            )
        elif rest.startswith(b"<"):
            return True
        else:
            raise FormatError("not an XML document", line=data.count(b"\n", 0, at) + 1)


def _parse_error(exc: ET.ParseError) -> FormatError:
    line, _column = exc.position
    return FormatError(f"bad XML: {exc}", line=line)


def _events(
    parser: "ET.XMLPullParser[ET.Element]", line: int
) -> t.Iterator[tuple[str, ET.Element, int]]:
    for event in parser.read_events():
        if len(event) == 2 and isinstance(event[1], ET.Element):  # start, end
            yield str(event[0]), event[1], line


class XMLEvents:
    """("start" | "end", element, line) events of a document read a line at a time."""

    def __init__(self, stream: t.BinaryIO) -> None:
        self._stream = stream
        self._fed = 0
        self._boundary = 0
        self.line = 1

    def mark_boundary(self) -> None:
        """A record ended here: the byte cap counts from now."""
        self._boundary = self._fed

    def _pieces(self) -> t.Iterator[tuple[int, bytes]]:
        line = 1
        while piece := self._stream.readline(PIECE_BYTES):
            yield line, piece
            line += piece.endswith(b"\n")

    def __iter__(self) -> t.Iterator[tuple[str, ET.Element, int]]:
        pieces = self._pieces()
        head: list[tuple[int, bytes]] = []
        for line, piece in pieces:
            head.append((line, piece))
            prolog = b"".join(p for _, p in head)
            if _root_starts(prolog, is_complete=False):
                break
            if len(prolog) > MAX_PROLOG_BYTES:
                raise FormatError("no root element in the first 64 KiB", line=line)
        else:
            _root_starts(b"".join(p for _, p in head), is_complete=True)
        parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(("start", "end"))
        try:
            for line, piece in itertools.chain(head, pieces):
                self.line = line
                parser.feed(piece)
                self._fed += len(piece)
                yield from _events(parser, line)
                if self._fed - self._boundary > MAX_RECORD_BYTES:
                    raise FormatError(
                        f"record longer than {MAX_RECORD_BYTES} bytes", line=line
                    )
            parser.close()
            yield from _events(parser, self.line)
        except ET.ParseError as exc:
            raise _parse_error(exc) from None
