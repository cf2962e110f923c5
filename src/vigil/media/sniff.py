"""Content sniffing: decide a file's `MediaKind` from its bytes, never from its name.

Separate from decoding so that every input, whatever its extension, is typed the same
way before any parser touches it. `sniff_bytes` never raises; `sniff_path` raises only
`FileVanishedError` when the file cannot be opened or read.
"""

import dataclasses
import io
import os
import pathlib
import stat
import struct
import typing as t
import zipfile

from vigil.media.base import MIB, MediaKind
from vigil.media.errors import FileVanishedError

# Enough for every signature below (the tar magic sits at offset 257) plus a generous
# ftyp box with its list of compatible brands.
SNIFF_BYTES = 4096

# The safetensors reference implementation refuses headers above 100 MB
# (huggingface/safetensors, `MAX_HEADER_SIZE = 100_000_000`).
SAFETENSORS_MAX_HEADER_BYTES = 100_000_000

# Bound on the zip central directory read to tell a PyTorch checkpoint from a plain zip.
# 16 MiB lists well over 100,000 members (a central directory record is 46 bytes plus
# the name); a larger directory is left as ZIP and the walker applies its own limits.
SNIFF_MAX_ZIP_DIRECTORY_BYTES = 16 * MIB

_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_GIF_MAGICS = (b"GIF87a", b"GIF89a")
_TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"  # Matroska / WebM
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # first local header; empty archive
_GZIP_MAGIC = (
    b"\x1f\x8b\x08"  # ID1 ID2 and CM=8 (deflate, the only method RFC 1952 defines)
)
_TAR_MAGIC = b"ustar"  # POSIX "ustar\0" and GNU "ustar  " both start this way
_TAR_MAGIC_OFFSET = 257
_PICKLE_PROTO = 0x80  # PROTO opcode, written first by pickle protocols 2 to 5
_PICKLE_PROTOCOLS = range(2, 6)

# BMP DIB header sizes: OS/2 1.x (12), OS/2 2.x (16, 64), Windows v1-v5 (40, 52, 56,
# 108, 124). Source: Pillow BmpImagePlugin and Microsoft's BITMAPV5HEADER documentation.
_BMP_DIB_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})

# ISO-BMFF brands of still images and image sequences (ISO/IEC 23008-12, AVIF spec).
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"}
    | {b"mif1", b"msf1", b"avif", b"avis"}
)
# Brand prefixes of MP4, QuickTime and 3GPP video (registered at mp4ra.org).
_VIDEO_BRAND_PREFIXES = (
    b"iso",
    b"mp4",
    b"avc",
    b"3gp",
    b"3g2",
    b"M4V",
    b"qt  ",
    b"f4v",
)
# Atoms that open old QuickTime files written without an ftyp box (Apple QTFF).
_QUICKTIME_LEADING_ATOMS = frozenset(
    {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
)

_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # POSIX only; Windows has no FIFOs to fear

_EOCD = struct.Struct("<4s4H2LH")  # zip end of central directory record
_EOCD_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_ZIP64_EOCD_SIGNATURE = b"PK\x06\x06"
_ZIP_MAX_COMMENT_BYTES = 0xFFFF

# What zipfile raises on a corrupt central directory (besides BadZipFile).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    ValueError,
    struct.error,
    NotImplementedError,
)


@dataclasses.dataclass(frozen=True)
class ZipDirectoryExtent:
    """What a zip's end record declares: used to refuse, never trusted to accept."""

    entry_count: int
    directory_bytes: int


def sniff_bytes(head: bytes) -> MediaKind:
    """Type the first bytes of a file (`SNIFF_BYTES` of them are enough).

    Pickles are recognised only by the PROTO opcode of protocols 2 to 5; protocol 0
    and 1 pickles are printable opcode streams with no signature and come back UNKNOWN.
    Tar is recognised by its ustar magic; pre-POSIX (v7) tar has none: UNKNOWN.
    """
    if head.startswith(_JPEG_MAGIC):
        return MediaKind.JPEG
    if head.startswith(_PNG_MAGIC):
        return MediaKind.PNG
    if head.startswith(_GIF_MAGICS):
        return MediaKind.GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaKind.WEBP
    if head.startswith(_TIFF_MAGICS):
        return MediaKind.TIFF
    if _is_bmp(head):
        return MediaKind.BMP
    if head.startswith(_ZIP_MAGICS):
        return MediaKind.ZIP
    if head.startswith(_GZIP_MAGIC):
        return MediaKind.GZIP
    if head.startswith(_EBML_MAGIC):
        return MediaKind.VIDEO
    # ISO-BMFF and QuickTime open with a 4-byte box size: checked after every magic
    # that starts at byte 0, so a zip or gzip can never be taken for a movie.
    if head[4:8] == b"ftyp":
        return _sniff_ftyp(head)
    if _is_quicktime(head):
        return MediaKind.VIDEO
    if head[_TAR_MAGIC_OFFSET : _TAR_MAGIC_OFFSET + len(_TAR_MAGIC)] == _TAR_MAGIC:
        return MediaKind.TAR
    if _is_safetensors(head):
        return MediaKind.SAFETENSORS
    if len(head) > 2 and head[0] == _PICKLE_PROTO and head[1] in _PICKLE_PROTOCOLS:
        return MediaKind.PICKLE
    return MediaKind.UNKNOWN


def sniff_stream(fp: t.BinaryIO) -> MediaKind:
    """Type a whole seekable stream, reading from its start.

    A zip whose members look like a PyTorch checkpoint is PYTORCH_ZIP; a zip whose
    directory is corrupt or too large to list stays ZIP (the walker reports why).

    Raises:
        OSError: only if reading the first bytes fails.
    """
    fp.seek(0)
    kind = sniff_bytes(fp.read(SNIFF_BYTES))
    if kind is MediaKind.ZIP and _is_pytorch_zip(fp):
        return MediaKind.PYTORCH_ZIP
    return kind


def sniff_path(path: pathlib.Path) -> MediaKind:
    """Type a file by its content.

    Raises:
        FileVanishedError: the file cannot be opened or read (gone, denied), or is not
            a regular file (a folder, FIFO or device, which could block or never end).
    """
    try:
        # Non-blocking, so that opening a FIFO returns at once instead of waiting.
        fd = os.open(path, os.O_RDONLY | _O_NONBLOCK)
    except OSError as exc:
        raise FileVanishedError(f"cannot open {path.name}: {exc.strerror}") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise FileVanishedError(f"{path.name} is not a regular file")
    with os.fdopen(fd, "rb") as fp:
        try:
            return sniff_stream(fp)
        except OSError as exc:
            message = f"cannot read {path.name}: {exc.strerror}"
            raise FileVanishedError(message) from exc


def sniff_zip_members(names: t.Iterable[str]) -> bool:
    """Whether zip member names look like a PyTorch checkpoint.

    `torch.save` writes `<prefix>/data.pkl` next to `<prefix>/version` (newer releases
    also `<prefix>/.data/version`); TorchScript archives have the same layout.
    """
    pickles: set[str] = set()
    markers: set[str] = set()
    for name in names:
        prefix, _, rest = name.partition("/")
        if not prefix or ("/" in rest and not rest.startswith(".data/")):
            continue
        if rest == "data.pkl":
            pickles.add(prefix)
        elif rest == "version" or rest.startswith(".data/"):
            markers.add(prefix)
    return bool(pickles & markers)


def read_zip_directory_extent(fp: t.BinaryIO) -> ZipDirectoryExtent | None:
    """Read the zip end record the way `zipfile` finds it; None when there is none.

    Lets callers refuse a central directory too large to parse before `zipfile` loads it
    whole into memory.

    Raises:
        OSError: only if the stream cannot be read.
    """
    size = fp.seek(0, io.SEEK_END)
    if size < _EOCD.size:
        return None
    # zipfile first tries an end record with no comment, then searches the comment area.
    fp.seek(size - _EOCD.size)
    tail = fp.read(_EOCD.size)
    tail_start = size - _EOCD.size
    if not (tail.startswith(_EOCD_SIGNATURE) and tail.endswith(b"\x00\x00")):
        tail_start = max(0, size - _EOCD.size - _ZIP_MAX_COMMENT_BYTES)
        fp.seek(tail_start)
        tail = fp.read(size - tail_start)
    position = tail.rfind(_EOCD_SIGNATURE)
    if position < 0 or len(tail) - position < _EOCD.size:
        return None
    fields = _EOCD.unpack_from(tail, position)
    extent = ZipDirectoryExtent(entry_count=fields[4], directory_bytes=fields[5])
    return _zip64_extent(fp, tail_start + position) or extent


def _zip64_extent(fp: t.BinaryIO, eocd_offset: int) -> ZipDirectoryExtent | None:
    # As zipfile does: a zip64 locator right before the end record wins when present.
    record_offset = eocd_offset - _ZIP64_LOCATOR.size - _ZIP64_EOCD.size
    if record_offset < 0:
        return None
    fp.seek(record_offset)
    data = fp.read(_ZIP64_EOCD.size + _ZIP64_LOCATOR.size)
    if len(data) < _ZIP64_EOCD.size + _ZIP64_LOCATOR.size:
        return None
    if (
        _ZIP64_LOCATOR.unpack_from(data, _ZIP64_EOCD.size)[0]
        != _ZIP64_LOCATOR_SIGNATURE
    ):
        return None
    record = _ZIP64_EOCD.unpack_from(data)
    if record[0] != _ZIP64_EOCD_SIGNATURE:
        return None
    return ZipDirectoryExtent(entry_count=record[7], directory_bytes=record[8])


def _is_pytorch_zip(fp: t.BinaryIO) -> bool:
    try:
        extent = read_zip_directory_extent(fp)
        if extent is None or extent.directory_bytes > SNIFF_MAX_ZIP_DIRECTORY_BYTES:
            return False
        fp.seek(0)
        with zipfile.ZipFile(fp) as archive:
            names = archive.namelist()
    except _ZIP_ERRORS:
        return False
    return sniff_zip_members(names)


def _is_bmp(head: bytes) -> bool:
    if not head.startswith(b"BM") or len(head) < 18:
        return False
    (dib_header_bytes,) = struct.unpack_from("<I", head, 14)
    return dib_header_bytes in _BMP_DIB_HEADER_SIZES


def _sniff_ftyp(head: bytes) -> MediaKind:
    major = head[8:12]
    if major in _HEIF_BRANDS:
        return MediaKind.HEIF
    if major.startswith(_VIDEO_BRAND_PREFIXES):
        return MediaKind.VIDEO
    brands_end = min(int.from_bytes(head[:4], "big"), len(head))
    compatible = {head[i : i + 4] for i in range(16, brands_end - 3, 4)}
    if compatible & _HEIF_BRANDS:
        return MediaKind.HEIF
    # Any other ISO-BMFF file with an ftyp box is a movie container of some brand.
    return MediaKind.VIDEO


def _is_quicktime(head: bytes) -> bool:
    if len(head) < 8 or head[4:8] not in _QUICKTIME_LEADING_ATOMS:
        return False
    (atom_bytes,) = struct.unpack_from(">I", head)
    # 0 runs to the end of the file, 1 means a 64-bit size follows; otherwise the 8-byte
    # header must fit inside the atom.
    return atom_bytes in (0, 1) or atom_bytes >= 8


def _is_safetensors(head: bytes) -> bool:
    if len(head) < 10:
        return False
    (header_bytes,) = struct.unpack_from("<Q", head)
    if not 2 <= header_bytes <= SAFETENSORS_MAX_HEADER_BYTES:
        return False
    if head[8:9] != b"{" or head[9:10] not in (b'"', b"}", b" ", b"\n"):
        return False
    header = head[8 : 8 + header_bytes]
    # When the whole header is in view it must close; writers pad it with spaces.
    return len(header) < header_bytes or header.rstrip(b" ").endswith(b"}")
