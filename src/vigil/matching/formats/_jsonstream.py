"""Incremental reading of one large JSON document: one array's records, one by one.

The standard library has no streaming JSON parser and `ijson` is not a dependency, so
the outer object is walked by hand and each record decoded with `raw_decode` from a
rolling buffer: memory is one chunk plus one record, and lines are counted.
"""

import codecs
import json
import re
import typing as t

from vigil.matching.base import FormatError
from vigil.matching.formats._fields import MAX_RECORD_BYTES

CHUNK_BYTES = 64 * 1024  # Vigil's choice: a few hundred typical records per read
_NOT_WHITESPACE = re.compile(r"[^ \t\n\r]")


def _refuse_constant(name: str) -> t.NoReturn:
    raise ValueError(f"{name} is not JSON")


class Member(t.NamedTuple):
    """A member of the outer object other than the streamed array."""

    key: str
    value: t.Any
    line: int


class Item(t.NamedTuple):
    """One record of the streamed array; `line` is where it starts."""

    value: t.Any
    line: int


class JSONStream:
    """Walks `{"key": ..., "<array>": [record, ...], ...}` or `[record, ...]`."""

    def __init__(self, stream: t.BinaryIO) -> None:
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._json = json.JSONDecoder(parse_constant=_refuse_constant)
        self._buf = ""
        self._pos = 0
        self._eof = False
        self.line = 1
        self.has_array = False  # whether `members` met the array it streams

    def _fill(self) -> bool:
        if self._eof:
            return False
        raw = self._stream.read(CHUNK_BYTES)
        self._eof = not raw
        try:
            text = self._decoder.decode(raw, final=self._eof)
        except UnicodeDecodeError as exc:
            raise FormatError(f"not UTF-8 ({exc.reason})", line=self.line) from None
        self._buf = self._buf[self._pos :] + text
        self._pos = 0
        return True

    def _advance(self, end: int) -> None:
        self.line += self._buf.count("\n", self._pos, end)
        self._pos = end

    def peek(self) -> str:
        """The next character that is not whitespace, or "" at the end."""
        while True:
            found = _NOT_WHITESPACE.search(self._buf, self._pos)
            if found is not None:
                self._advance(found.start())
                return self._buf[self._pos]
            self._advance(len(self._buf))
            if not self._fill():
                return ""

    def expect(self, char: str) -> None:
        found = self.peek()
        if found != char:
            shown = repr(found) if found else "the end of the file"
            raise FormatError(f"expected {char!r}, found {shown}", line=self.line)
        self._advance(self._pos + 1)

    def value(self, limit: int = MAX_RECORD_BYTES) -> t.Any:
        """Decode the next JSON value; FormatError if bad or longer than `limit`."""
        self.peek()
        while True:
            try:
                value, end = self._json.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                # Maybe only cut off by the chunk boundary: read on, up to the limit.
                if len(self._buf) - self._pos <= limit and self._fill():
                    continue
                line = self.line + self._buf.count("\n", self._pos, exc.pos)
                raise FormatError(f"bad JSON: {exc.msg}", line=line) from None
            except (RecursionError, ValueError) as exc:
                raise FormatError(f"bad JSON: {exc}", line=self.line) from None
            if end == len(self._buf) and self._fill():
                continue  # a number at the buffer's end may go on in the next chunk
            if end - self._pos > limit:
                raise FormatError(
                    f"record longer than {limit} characters", line=self.line
                )
            self._advance(end)
            return value

    def elements(self) -> t.Iterator[int]:
        """Walk the array that starts here, yielding the line of each element; the
        caller reads exactly one value (`value`, or `members` for a nested object
        streamed in turn) before asking for the next."""
        self.expect("[")
        if self.peek() == "]":
            self.expect("]")
            return
        while True:
            self.peek()
            yield self.line
            if self.peek() == ",":
                self.expect(",")
                continue
            self.expect("]")
            return

    def items(self) -> t.Iterator[Item]:
        """The records of the array that starts here."""
        for line in self.elements():
            yield Item(self.value(), line)

    def members(
        self,
        array_key: str,
        records: t.Callable[[], t.Iterator[Item]] | None = None,
    ) -> t.Iterator[Member | Item]:
        """The outer object's members; the array under `array_key` comes as Items
        (`records()` walks it where given: it is called when the array is reached,
        after the members before it have been yielded)."""
        self.expect("{")
        is_first = True
        while self.peek() != "}":
            if not is_first:
                self.expect(",")
            is_first = False
            self.peek()
            line = self.line
            key = self.value(limit=4096)
            if not isinstance(key, str):
                raise FormatError("object keys must be strings", line=line)
            self.expect(":")
            if key == array_key and self.peek() == "[":
                self.has_array = True
                yield from (records or self.items)()
            else:
                yield Member(key, self.value(), line)
        self.expect("}")

    def end(self) -> None:
        """Only whitespace may follow the document."""
        if self.peek():
            raise FormatError("data after the end of the JSON document", line=self.line)
