"""Bounded reading of pickle opcodes with the standard library's opcode table.

`pickletools` describes every opcode and decodes every argument kind; this module
feeds its decoders bounded slices of the stream instead of the stream itself, skips
byte payloads without holding them, and refuses lengths that run past the end before
reading anything.
"""

import dataclasses
import io
import pickle
import pickletools
import struct
import typing as t

from vigil.modelfiles.errors import (
    PickleFormatError,
    PickleLimitError,
    PickleTruncatedError,
)

OpcodeInfo = pickletools.OpcodeInfo
markobject = pickletools.markobject

PROTO_BYTE = 0x80
HIGHEST_PROTOCOL = pickle.HIGHEST_PROTOCOL  # 5 in Python 3.8+
# Text lines (protocol 0 arguments) are module names, numbers and short reprs; a line
# past 1 MiB is not a model pickle.
MAX_LINE_BYTES = 1024 * 1024
# Strings up to this size are decoded (module and attribute names are short); longer
# payloads are skipped and stand for "some value".
MAX_INLINE_ARG_BYTES = 64 * 1024
# Strings longer than this are not kept as symbols: no module or attribute name is.
MAX_SYMBOL_TEXT = 1024
# Expanded-size estimates saturate here so they stay small integers.
NODES_CAP = 1 << 62

FRAMING_OPCODES = frozenset({"PROTO", "FRAME"})
INT_OPCODES = frozenset(
    {"INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4"}
)
CALL_OPCODES = frozenset({"REDUCE", "NEWOBJ", "NEWOBJ_EX", "INST", "OBJ", "BUILD"})
PUT_OPCODES = frozenset({"PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"})
GET_OPCODES = frozenset({"GET", "BINGET", "LONG_BINGET"})
STRING_OPCODES = frozenset(
    {
        "STRING",
        "BINSTRING",
        "SHORT_BINSTRING",
        "UNICODE",
        "SHORT_BINUNICODE",
        "BINUNICODE",
        "BINUNICODE8",
    }
)
_SKIPPED_ARGS = frozenset({"bytes1", "bytes4", "bytes8", "bytearray8"})
_LENGTH_PREFIXES: dict[int, struct.Struct] = {
    pickletools.TAKEN_FROM_ARGUMENT1: struct.Struct("<B"),
    pickletools.TAKEN_FROM_ARGUMENT4: struct.Struct("<i"),
    pickletools.TAKEN_FROM_ARGUMENT4U: struct.Struct("<I"),
    pickletools.TAKEN_FROM_ARGUMENT8U: struct.Struct("<Q"),
}
_CODE_TO_OPCODE: dict[int, OpcodeInfo] = {
    ord(op.code): op for op in pickletools.opcodes
}
_DECODE_ERRORS = (ValueError, UnicodeDecodeError, struct.error, OverflowError)


@dataclasses.dataclass(frozen=True)
class Elided:
    """A payload that was skipped, not read: only its length is known."""

    length: int


@dataclasses.dataclass(frozen=True, slots=True)
class Symbol:
    """What the walker knows of a stack value: its text if it is a short string, and
    how many nodes it would expand to if every shared reference were copied."""

    text: str | None
    nodes: int


class BoundedReader:
    """Reads a stream from its position up to `end`, never past it."""

    def __init__(self, stream: t.BinaryIO, end: int) -> None:
        self.stream = stream
        self.end = end

    def remaining(self) -> int:
        return self.end - self.stream.tell()

    def read_exact(self, count: int) -> bytes:
        if count > self.remaining():
            raise PickleTruncatedError(
                f"an argument of {count} bytes runs past the end of the pickle"
            )
        data = self.stream.read(count)
        if len(data) != count:
            raise PickleTruncatedError("pickle truncated")
        return data

    def skip(self, count: int) -> None:
        if count > self.remaining():
            raise PickleTruncatedError(
                f"a payload of {count} bytes runs past the end of the pickle"
            )
        self.stream.seek(count, io.SEEK_CUR)

    def read_line(self) -> bytes:
        limit = min(MAX_LINE_BYTES + 1, self.remaining())
        line = self.stream.readline(limit)
        if not line.endswith(b"\n"):
            if len(line) > MAX_LINE_BYTES:
                raise PickleLimitError(f"a text argument longer than {MAX_LINE_BYTES}")
            raise PickleTruncatedError("pickle truncated inside a text argument")
        return line


def read_opcodes(reader: BoundedReader) -> t.Iterator[tuple[OpcodeInfo, t.Any]]:
    """Yield `(opcode, argument)` up to and including STOP.

    Arguments are decoded as `pickletools.genops` decodes them, except byte payloads
    and strings over `MAX_INLINE_ARG_BYTES`, which come back as `Elided`.

    Raises:
        PickleFormatError: an unknown opcode, a bad argument, or the end before STOP.
        PickleLimitError: a text argument over `MAX_LINE_BYTES`.
    """
    while True:
        position = reader.stream.tell()
        if reader.remaining() <= 0:
            raise PickleTruncatedError("pickle ended before STOP")
        code = reader.read_exact(1)[0]
        opcode = _CODE_TO_OPCODE.get(code)
        if opcode is None:
            raise PickleFormatError(f"unknown opcode 0x{code:02x} at offset {position}")
        arg = _read_argument(reader, opcode)
        if opcode.name == "FRAME" and arg > reader.remaining():
            # The unpickler reads the whole frame before any opcode in it: a frame
            # past the end (2**62 bytes) is a truncated or hostile stream.
            raise PickleTruncatedError(
                f"a frame of {arg} bytes runs past the end of the pickle"
            )
        yield opcode, arg
        if opcode.name == "STOP":
            return


def _read_argument(reader: BoundedReader, opcode: OpcodeInfo) -> t.Any:
    descriptor = opcode.arg
    if descriptor is None:
        return None
    size = descriptor.n
    if size > 0:
        raw = reader.read_exact(size)
    elif size == pickletools.UP_TO_NEWLINE:
        raw = reader.read_line()
        if descriptor.name == "stringnl_noescape_pair":
            raw += reader.read_line()
    else:
        prefix_format = _LENGTH_PREFIXES[size]
        prefix = reader.read_exact(prefix_format.size)
        (length,) = prefix_format.unpack(prefix)
        if length < 0:
            raise PickleFormatError(f"{opcode.name} with a negative length")
        if descriptor.name in _SKIPPED_ARGS or length > MAX_INLINE_ARG_BYTES:
            reader.skip(length)
            return Elided(length)
        raw = prefix + reader.read_exact(length)
    try:
        return descriptor.reader(io.BytesIO(raw))
    except _DECODE_ERRORS as exc:
        raise PickleFormatError(f"bad {opcode.name} argument: {exc}") from exc


def symbol_after(opcode: OpcodeInfo, arg: t.Any, popped: list[Symbol]) -> Symbol:
    """The symbol an opcode pushes, given what it popped."""
    if opcode.name in STRING_OPCODES:
        if isinstance(arg, str) and len(arg) <= MAX_SYMBOL_TEXT:
            return Symbol(arg, 1)
        if isinstance(arg, bytes) and len(arg) <= MAX_SYMBOL_TEXT:
            return Symbol(arg.decode("latin-1"), 1)
        return Symbol(None, 1)
    nodes = 1
    for symbol in popped:
        nodes += symbol.nodes
    return Symbol(None, min(nodes, NODES_CAP))
