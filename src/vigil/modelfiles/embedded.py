"""Pickles carried inside other bytes: bare pickle streams of any protocol, NumPy
`.npy` object arrays (a pickle after the array header) and compressed pickles
(joblib's `compress=` codecs). Typed by content, decompressed with a bound, walked,
never loaded. Kept apart from `sniff` so archive members are typed the same way.
"""

import ast
import bz2
import io
import lzma
import re
import struct
import typing as t
import zlib

from vigil.modelfiles.base import ModelError, ModelFormat, ModelLimits
from vigil.modelfiles.errors import ModelArchiveError, PickleTruncatedError
from vigil.modelfiles.pickles import PickleCollector

# numpy/lib/format.py: b"\x93NUMPY", major and minor version, then a little-endian
# header length (2 bytes in version 1.0, 4 in 2.0 and 3.0).
NPY_MAGIC = b"\x93NUMPY"
NPY_LENGTH_FORMATS = {
    1: struct.Struct("<H"),
    2: struct.Struct("<I"),
    3: struct.Struct("<I"),
}
# numpy.lib.format `_MAX_HEADER_SIZE = 10000`: np.load refuses longer headers.
NPY_MAX_HEADER_BYTES = 10_000
# Bytes read from the start of a .npy to find where its pickle starts.
NPY_HEADER_VIEW_BYTES = NPY_MAX_HEADER_BYTES + 16
# Magic numbers of the codecs joblib.dump(compress=...) writes (joblib/compressor.py).
GZIP_MAGIC = b"\x1f\x8b"
BZ2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"
LZMA_ALONE_MAGIC = b"\x5d\x00\x00"  # lc=3 lp=0 pb=2, the default properties byte
# A zlib stream's first byte is 0x78 for the 32 KB window every writer uses (RFC 1950).
ZLIB_FIRST_BYTE = 0x78
# Bytes of a compressed head decompressed to type what it holds: one sniff window.
SNIFF_DECOMPRESSED_BYTES = 4096
_DECOMPRESS_CHUNK_BYTES = 64 * 1024
# Opcodes a walk without a PROTO 2+ header must read to count as a pickle (Vigil's
# choice: text and media heads fail within a few opcodes).
PICKLE_MIN_OPCODES = 3
PICKLE_MIN_TRUNCATED_OPCODES = 8
_SNIFF_LIMITS = ModelLimits(max_pickles_per_stream=1)
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_PROTO = 0x80
_DECOMPRESS_ERRORS = (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError)


def payload_format(head: bytes, size: int | None) -> ModelFormat | None:
    """PICKLE, NUMPY (an object array) or COMPRESSED_PICKLE; None for other bytes."""
    if is_pickle_head(head, size):
        return ModelFormat.PICKLE
    if npy_pickle_offset(head) is not None:
        return ModelFormat.NUMPY
    inner = _decompressed_head(head)
    if inner is not None and is_pickle_head(inner, None):
        return ModelFormat.COMPRESSED_PICKLE
    return None


def is_pickle_head(head: bytes, size: int | None) -> bool:
    """The head walks as pickle opcodes, whatever it starts with: `pickle.loads`
    needs no header (protocols 0 and 1 write none, and a PROTO may be 0 or 1).

    A whole pickle must end exactly at the end of the file; a head cut from a longer
    one must walk `PICKLE_MIN_TRUNCATED_OPCODES` opcodes without any other error.
    Global names must be dotted identifiers, as an unpickler imports them.
    """
    if not head:
        return False
    if head[0] == _PROTO and len(head) > 1 and 2 <= head[1] <= 5:
        return True
    stream = io.BytesIO(head)
    collector = PickleCollector(_SNIFF_LIMITS)
    collector.walk_stream(stream, len(head), "sniff")
    names = [(ref.module, ref.name) for ref in collector.result().globals]
    if not all(_DOTTED.fullmatch(m) and _DOTTED.fullmatch(n) for m, n in names):
        return False
    if collector.pickles:
        end = size if size is not None else len(head)
        return collector.opcodes >= PICKLE_MIN_OPCODES and stream.tell() == end
    is_whole_file = size is not None and size <= len(head)
    return (
        not is_whole_file
        and collector.opcodes >= PICKLE_MIN_TRUNCATED_OPCODES
        and all(e.reason == PickleTruncatedError.reason for e in collector.errors)
    )


def npy_pickle_offset(head: bytes) -> int | None:
    """Where the pickle of a `.npy` object array starts; None when the bytes are not
    a `.npy` file or its dtype holds no Python objects."""
    if not head.startswith(NPY_MAGIC) or len(head) < len(NPY_MAGIC) + 2:
        return None
    length_format = NPY_LENGTH_FORMATS.get(head[len(NPY_MAGIC)])
    start = len(NPY_MAGIC) + 2
    if length_format is None or len(head) < start + length_format.size:
        return None
    length: int = length_format.unpack_from(head, start)[0]
    start += length_format.size
    if length > NPY_MAX_HEADER_BYTES or len(head) < start + length:
        return None
    try:
        # literal_eval builds literals only; it never calls or imports anything.
        header = ast.literal_eval(head[start : start + length].decode("latin-1"))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if not isinstance(header, dict) or not _has_objects(header.get("descr")):
        return None
    return start + length


def _has_objects(descr: object) -> bool:
    """A numpy `descr` (a type string or a list of fields) that holds `O` items."""
    if isinstance(descr, str):
        return descr.lstrip("<>|=").startswith("O")
    if isinstance(descr, list | tuple):
        return any(_has_objects(part) for part in descr)
    return False


def _decompressor(head: bytes) -> t.Any | None:
    if head.startswith(GZIP_MAGIC):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if head.startswith(BZ2_MAGIC):
        return bz2.BZ2Decompressor()
    if head.startswith(XZ_MAGIC):
        return lzma.LZMADecompressor(lzma.FORMAT_XZ)
    if head.startswith(LZMA_ALONE_MAGIC):
        return lzma.LZMADecompressor(lzma.FORMAT_ALONE)
    if (
        len(head) > 1
        and head[0] == ZLIB_FIRST_BYTE
        and (head[0] << 8 | head[1]) % 31 == 0
    ):
        return zlib.decompressobj()
    return None


def _decompressed_head(head: bytes) -> bytes | None:
    decompressor = _decompressor(head)
    if decompressor is None:
        return None
    try:
        inner: bytes = decompressor.decompress(head, SNIFF_DECOMPRESSED_BYTES)
    except _DECOMPRESS_ERRORS:
        return None
    return inner or None


def decompress(stream: t.BinaryIO, cap: int) -> bytes:
    """The whole decompressed content of a compressed stream, read from its start.

    Raises:
        ModelArchiveError: not a known codec, corrupt, or expanding past `cap` bytes.
    """
    stream.seek(0)
    head = stream.read(8)
    decompressor = _decompressor(head)
    if decompressor is None:
        raise ModelArchiveError("not a known compressed stream")
    stream.seek(0)
    out = bytearray()
    try:
        while chunk := stream.read(_DECOMPRESS_CHUNK_BYTES):
            # Never ask for more than one byte past the cap: bombs stop here.
            out += decompressor.decompress(chunk, cap + 1 - len(out))
            if len(out) > cap:
                raise ModelArchiveError(f"decompresses past the {cap}-byte pickle cap")
            if decompressor.eof:
                break
    except _DECOMPRESS_ERRORS as exc:
        raise ModelArchiveError(f"corrupt compressed stream: {exc}") from exc
    return bytes(out)


def walk_payload(
    data: bytes, collector: PickleCollector, where: str, limits: ModelLimits
) -> bool:
    """Walk the pickle that `data` (a file or archive member) carries; False when it
    carries none. Problems become error records on the collector."""
    kind = payload_format(data[:SNIFF_DECOMPRESSED_BYTES], len(data))
    if kind is ModelFormat.PICKLE:
        collector.walk_stream(io.BytesIO(data), len(data), where)
    elif kind is ModelFormat.NUMPY:
        offset = npy_pickle_offset(data) or 0
        stream = io.BytesIO(data)
        stream.seek(offset)
        collector.walk_stream(stream, len(data), where)
    elif kind is ModelFormat.COMPRESSED_PICKLE:
        try:
            inner = decompress(io.BytesIO(data), limits.max_pickle_member_bytes)
        except ModelArchiveError as exc:
            collector.errors.append(ModelError(exc.reason, exc.message, where))
            return True
        collector.walk_stream(io.BytesIO(inner), len(inner), where)
    else:
        return False
    return True
