"""Recursive walking of zip, tar and gzip archives from the stream, never to disk.

Member paths: a member of the walked archive is named as stored, `./` dropped
(`photos/a.jpg`). A member of a nested archive is the nested archive's own member path,
`!/`, then its name inside: `inner.zip!/photos/a.jpg`, `a.tar.gz!/b.zip!/c.png` (a `!/`
already inside a stored name is not escaped). A gzip payload that is not a tar is named
after the gzip minus `.gz` (`log.txt.gz!/log.txt`), or `<payload>` when nameless.

Every limit in `Limits` is enforced on the bytes actually produced, read in chunks;
sizes declared in headers only refuse early and are never trusted to accept. Expanded
bytes are the member bytes read across the whole walk; a gzip stream, whose members are
read through it, is also held to that figure on its own.
"""

import dataclasses
import datetime as dt
import gzip
import io
import lzma
import pathlib
import re
import stat
import tarfile
import typing as t
import zipfile
import zlib

from vigil.media.base import MIB, Limits, MediaKind
from vigil.media.errors import (
    ArchiveError,
    CompressionRatioError,
    EncryptedMemberError,
    ExpansionTooLargeError,
    FileTooLargeError,
    FileVanishedError,
    MediaError,
    NestingTooDeepError,
    PathTraversalError,
    SpecialMemberError,
    TooManyMembersError,
    UnsupportedTypeError,
)
from vigil.media.sniff import (
    SNIFF_BYTES,
    read_zip_directory_extent,
    sniff_bytes,
    sniff_stream,
)

NESTED_SEPARATOR = "!/"
GZIP_PAYLOAD_NAME = "<payload>"

# Members are read in chunks of this size so every limit is checked as bytes appear.
READ_CHUNK_BYTES = 256 * 1024
# tarfile reads pax and GNU long-name headers whole; real ones are a few KiB, so a
# larger declared header is refused rather than loaded.
TAR_MAX_HEADER_BYTES = 1 * MIB
# zipfile parses the whole central directory up front; 32 MiB holds some 300,000
# records, three times the default member limit, so only a directory built to exhaust
# memory is refused.
ZIP_MAX_DIRECTORY_BYTES = 32 * MIB

_ZIP_ENCRYPTED_FLAG = 0x1  # general purpose bit 0 (PKWARE APPNOTE 4.4.4)
_WINDOWS_DRIVE = re.compile(r"[A-Za-z]:")
_TAR_SPECIAL_TYPES = {
    tarfile.SYMTYPE: "symbolic link",
    tarfile.LNKTYPE: "hard link",
    tarfile.CHRTYPE: "character device",
    tarfile.BLKTYPE: "block device",
    tarfile.FIFOTYPE: "fifo",
}

# What the standard library raises on corrupt or truncated archive bytes.
_ZIP_ERRORS = (zipfile.BadZipFile, NotImplementedError, OSError, EOFError, ValueError)
_ZIP_MEMBER_ERRORS = (*_ZIP_ERRORS, zlib.error, lzma.LZMAError)
_TAR_ERRORS = (tarfile.TarError, OSError, EOFError, zlib.error)
_GZIP_ERRORS = (OSError, EOFError, zlib.error)


@dataclasses.dataclass(frozen=True)
class ArchiveMember:
    """One regular file read from an archive, its bytes held in memory."""

    member_path: str
    size: int
    mtime: float | None
    data: bytes = dataclasses.field(repr=False)  # content never goes into logs


@dataclasses.dataclass(frozen=True)
class MemberError:
    """A member (or, with the archive's own path, the archive) that was refused."""

    member_path: str
    error: MediaError


WalkItem: t.TypeAlias = ArchiveMember | MemberError


def walk_archive(
    source: pathlib.Path | bytes,
    kind: MediaKind,
    limits: Limits,
    *,
    prefix: str = "",
    depth: int = 1,
) -> t.Iterator[WalkItem]:
    """Yield every member of a zip, tar or gzip archive, recursing into nested archives.

    A nested archive is yielded as a member (it is an item with its own hashes) and
    then walked, up to `limits.max_archive_depth` (the archive given here is `depth`,
    1 at the top). Refused members come back as `MemberError` and the walk goes on; a
    walk-wide limit (member count, expanded bytes) yields one `MemberError` and ends the
    whole walk; a corrupt archive yields `ArchiveError` under its own path (`prefix`)
    and ends that archive. Nothing about the archive content raises.

    Raises:
        ValueError: `kind` is not ZIP, TAR or GZIP (PYTORCH_ZIP is a model, not walked).
    """
    if not kind.is_archive:
        raise ValueError(f"not a walkable archive kind: {kind}")
    return _Walker(limits).run(source, kind, prefix, depth)


class _Stop(Exception):
    def __init__(self, item: MemberError) -> None:
        super().__init__(item.error.message)
        self.item = item


class _StopWalk(_Stop):
    """A walk-wide limit was reached: report once and end every level."""


class _StopArchive(_Stop):
    """The archive being read cannot go on (bomb-like stream, oversized header)."""


class _Readable(t.Protocol):
    def read(self, size: int, /) -> bytes: ...


class _ForwardReader:
    """A read-only, forward-only stream for tarfile and gzip payloads.

    With a meter, forward seeks read and discard so every decompressed byte is metered.
    Single reads above `TAR_MAX_HEADER_BYTES` (a pax or long-name header declared huge)
    are refused instead of loaded.
    """

    def __init__(
        self,
        inner: t.BinaryIO | gzip.GzipFile,
        error_path: str,
        meter: t.Callable[[int], None] | None = None,
    ) -> None:
        self._inner = inner
        self._error_path = error_path
        self._meter = meter
        self._position = 0

    def read(self, size: int = -1, /) -> bytes:
        if size < 0 or size > max(TAR_MAX_HEADER_BYTES, READ_CHUNK_BYTES):
            error = ArchiveError(f"refused a single read of {size} bytes (tar header)")
            raise _StopArchive(MemberError(self._error_path, error))
        data = self._inner.read(size)
        self._position += len(data)
        if self._meter is not None:
            self._meter(self._position)
        return data

    def seek(self, position: int, whence: int = io.SEEK_SET, /) -> int:
        if whence != io.SEEK_SET or position < self._position:
            raise io.UnsupportedOperation("forward seeks only")
        if self._meter is None:
            self._position = self._inner.seek(position)
        while self._position < position:
            if not self.read(min(READ_CHUNK_BYTES, position - self._position)):
                break
        return self._position

    def tell(self) -> int:
        return self._position

    def write(self, _data: bytes, /) -> int:
        raise io.UnsupportedOperation("read-only")

    def close(self) -> None:
        """The walker owns the underlying stream; tarfile must not close it."""


class _Walker:
    """One recursive walk: its limits and the members and bytes spent so far."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._member_count = 0
        self._expanded_bytes = 0

    def run(
        self, source: pathlib.Path | bytes, kind: MediaKind, prefix: str, depth: int
    ) -> t.Iterator[WalkItem]:
        try:
            yield from self.walk(source, kind, prefix, depth)
        except _StopWalk as stop:
            yield stop.item

    def walk(
        self, source: pathlib.Path | bytes, kind: MediaKind, prefix: str, depth: int
    ) -> t.Iterator[WalkItem]:
        if depth > self.limits.max_archive_depth:
            message = f"nested deeper than {self.limits.max_archive_depth}, not walked"
            yield MemberError(prefix, NestingTooDeepError(message))
            return
        if isinstance(source, bytes):
            name = prefix.rsplit(NESTED_SEPARATOR, 1)[-1].rsplit("/", 1)[-1]
            fp: t.BinaryIO = io.BytesIO(source)
        else:
            name = source.name
            try:
                fp = source.open("rb")
            except OSError as exc:
                message = f"cannot open {source.name}: {exc.strerror}"
                yield MemberError(prefix, FileVanishedError(message))
                return
        with fp:
            if kind is MediaKind.ZIP:
                yield from self._walk_zip(fp, prefix, depth)
            elif kind is MediaKind.TAR:
                yield from self._walk_tar(_ForwardReader(fp, prefix), prefix, depth)
            else:
                yield from self._walk_gzip(fp, prefix, depth, name)

    def _walk_zip(
        self, fp: t.BinaryIO, prefix: str, depth: int
    ) -> t.Iterator[WalkItem]:
        try:
            extent = read_zip_directory_extent(fp)
            # zipfile parses the whole central directory up front: refuse a huge one.
            if extent is not None and (
                extent.entry_count
                > self.limits.max_archive_members - self._member_count
                or extent.directory_bytes > ZIP_MAX_DIRECTORY_BYTES
            ):
                message = f"zip declares {extent.entry_count} members, above the limit"
                raise _StopWalk(MemberError(prefix, TooManyMembersError(message)))
            archive_bytes = fp.seek(0, io.SEEK_END)
            fp.seek(0)
            archive = zipfile.ZipFile(fp)
        except _ZIP_ERRORS as exc:
            yield _archive_error(prefix, exc)
            return
        with archive:
            for info in archive.infolist():
                outcome = self._read_zip_member(archive, info, prefix, archive_bytes)
                if isinstance(outcome, ArchiveMember):
                    yield from self._emit(outcome, depth)
                elif outcome is not None:
                    yield outcome

    def _read_zip_member(
        self,
        archive: zipfile.ZipFile,
        info: zipfile.ZipInfo,
        prefix: str,
        archive_bytes: int,
    ) -> ArchiveMember | MemberError | None:
        self._count_member(prefix)
        if info.filename.endswith("/"):  # ZipInfo.is_dir fails on an empty name
            return None
        member_path = _member_path(prefix, info.filename)
        if isinstance(member_path, MemberError):
            return member_path
        file_type = stat.S_IFMT(info.external_attr >> 16)  # Unix mode, when recorded
        if file_type and not (stat.S_ISREG(file_type) or stat.S_ISDIR(file_type)):
            return MemberError(member_path, SpecialMemberError("link or device member"))
        if info.flag_bits & _ZIP_ENCRYPTED_FLAG:
            return MemberError(member_path, EncryptedMemberError("encrypted member"))
        # The data of a member cannot be longer than the archive that holds it.
        compressed_bytes = max(1, min(info.compress_size, archive_bytes))
        try:
            with archive.open(info) as member:
                data = self._read_bounded(
                    member, member_path, info.file_size, compressed_bytes
                )
        except NotImplementedError as exc:
            return MemberError(member_path, UnsupportedTypeError(str(exc)))
        except _ZIP_MEMBER_ERRORS as exc:
            return _archive_error(member_path, exc)
        if isinstance(data, MemberError):
            return data
        return ArchiveMember(member_path, len(data), _zip_mtime(info.date_time), data)

    def _walk_tar(
        self, reader: _ForwardReader, prefix: str, depth: int
    ) -> t.Iterator[WalkItem]:
        archive: tarfile.TarFile | None = None  # read-only over our stream: no close
        while True:
            try:
                if archive is None:  # opening reads the first header, so it fails alike
                    archive = tarfile.open(fileobj=reader, mode="r:")
                info = archive.next()
                if info is None:
                    return
                outcome = self._read_tar_member(archive, info, prefix)
            except _TAR_ERRORS as exc:
                yield _archive_error(prefix, exc)
                return
            except _StopArchive as stop:
                yield stop.item
                return
            if isinstance(outcome, ArchiveMember):
                yield from self._emit(outcome, depth)
            elif outcome is not None:
                yield outcome

    def _read_tar_member(
        self, archive: tarfile.TarFile, info: tarfile.TarInfo, prefix: str
    ) -> ArchiveMember | MemberError | None:
        self._count_member(prefix)
        if info.isdir():
            return None
        member_path = _member_path(prefix, info.name)
        if isinstance(member_path, MemberError):
            return member_path
        member = archive.extractfile(info) if info.isreg() else None
        if member is None:
            kind = _TAR_SPECIAL_TYPES.get(info.type, "unsupported type")
            return MemberError(member_path, SpecialMemberError(f"{kind} not followed"))
        with member:
            data = self._read_bounded(member, member_path, info.size, None)
        if isinstance(data, MemberError):
            return data
        return ArchiveMember(member_path, len(data), float(info.mtime), data)

    def _walk_gzip(
        self, fp: t.BinaryIO, prefix: str, depth: int, name: str
    ) -> t.Iterator[WalkItem]:
        is_gz_name = name.lower().endswith(".gz") and len(name) > len(".gz")
        payload_path = _join(prefix, name[:-3] if is_gz_name else GZIP_PAYLOAD_NAME)
        try:
            head = self._gzip_reader(fp, prefix)[0].read(SNIFF_BYTES)
            is_tar = sniff_bytes(head) is MediaKind.TAR
            if not is_tar:
                reader, stream = self._gzip_reader(fp, payload_path)
                data = self._read_bounded(reader, payload_path, None, None)
                mtime = float(stream.mtime) if stream.mtime else None
        except _GZIP_ERRORS as exc:
            yield _archive_error(prefix, exc)
            return
        except _StopArchive as stop:
            yield stop.item
            return
        if is_tar:
            yield from self._walk_tar(self._gzip_reader(fp, prefix)[0], prefix, depth)
        elif isinstance(data, MemberError):
            yield data
        else:
            yield from self._emit(
                ArchiveMember(payload_path, len(data), mtime, data), depth
            )

    def _gzip_reader(
        self, fp: t.BinaryIO, error_path: str
    ) -> tuple[_ForwardReader, gzip.GzipFile]:
        """A metered, decompressed view of `fp` from its start."""
        fp.seek(0)
        stream = gzip.GzipFile(fileobj=fp, mode="rb")
        limits = self.limits

        def meter(produced_bytes: int) -> None:
            if produced_bytes > limits.max_expanded_bytes:
                message = f"gzip stream expands past {limits.max_expanded_bytes} bytes"
                error = ExpansionTooLargeError(message)
                raise _StopWalk(MemberError(error_path, error))
            # What the decompressor has consumed so far is how far `fp` has been read.
            if _is_bomb_ratio(produced_bytes, fp.tell(), limits):
                ratio = produced_bytes / max(1, fp.tell())
                message = f"gzip stream expands {ratio:.0f}:1"
                raise _StopArchive(
                    MemberError(error_path, CompressionRatioError(message))
                )

        return _ForwardReader(stream, error_path, meter), stream

    def _emit(self, member: ArchiveMember, depth: int) -> t.Iterator[WalkItem]:
        """Yield a member, then walk it if it is itself an archive."""
        yield member
        kind = sniff_stream(io.BytesIO(member.data))
        if kind.is_archive:
            yield from self.walk(member.data, kind, member.member_path, depth + 1)

    def _read_bounded(
        self,
        member: _Readable,
        member_path: str,
        declared_bytes: int | None,
        compressed_bytes: int | None,
    ) -> bytes | MemberError:
        """Read in chunks; declared sizes only refuse early, real bytes are checked."""
        chunks: list[bytes] = []
        produced_bytes = 0
        refusal = self._refusal(member_path, declared_bytes or 0, compressed_bytes)
        while refusal is None and (chunk := member.read(READ_CHUNK_BYTES)):
            produced_bytes += len(chunk)
            self._spend(len(chunk), member_path)
            chunks.append(chunk)
            refusal = self._refusal(member_path, produced_bytes, compressed_bytes)
        return refusal or b"".join(chunks)

    def _refusal(
        self, member_path: str, size: int, compressed_bytes: int | None
    ) -> MemberError | None:
        limits = self.limits
        if size > limits.max_member_bytes:
            message = f"member is larger than {limits.max_member_bytes} bytes"
            return MemberError(member_path, FileTooLargeError(message))
        if compressed_bytes is not None and _is_bomb_ratio(
            size, compressed_bytes, limits
        ):
            message = f"member expands to {size} bytes from {compressed_bytes}"
            return MemberError(member_path, CompressionRatioError(message))
        return None

    def _count_member(self, prefix: str) -> None:
        self._member_count += 1
        if self._member_count > self.limits.max_archive_members:
            message = f"more than {self.limits.max_archive_members} archive members"
            raise _StopWalk(MemberError(prefix, TooManyMembersError(message)))

    def _spend(self, expanded_bytes: int, member_path: str) -> None:
        self._expanded_bytes += expanded_bytes
        if self._expanded_bytes > self.limits.max_expanded_bytes:
            message = f"archive expands past {self.limits.max_expanded_bytes} bytes"
            raise _StopWalk(MemberError(member_path, ExpansionTooLargeError(message)))


def _is_bomb_ratio(expanded_bytes: int, compressed_bytes: int, limits: Limits) -> bool:
    return (
        expanded_bytes > limits.min_ratio_check_bytes
        and expanded_bytes > max(1, compressed_bytes) * limits.max_compression_ratio
    )


def _join(prefix: str, name: str) -> str:
    return f"{prefix}{NESTED_SEPARATOR}{name}" if prefix else name


def _member_path(prefix: str, name: str) -> str | MemberError:
    """The member's path under `prefix`, or a refusal for an unsafe name."""
    parts = name.replace("\\", "/").split("/")
    # "/x" and "\\\\server\\x" start with an empty part; "C:x" names a drive.
    if (
        (parts[0] == "" and len(parts) > 1)
        or _WINDOWS_DRIVE.match(name)
        or ".." in parts
    ):
        message = f"unsafe member name {name!r}"
        return MemberError(_join(prefix, name), PathTraversalError(message))
    kept = [part for part in parts if part not in ("", ".")]
    if not kept:
        error = ArchiveError("member has an empty name")
        return MemberError(_join(prefix, name), error)
    return _join(prefix, "/".join(kept))


def _archive_error(member_path: str, exc: Exception) -> MemberError:
    message = f"corrupt or truncated archive: {type(exc).__name__}: {exc}"
    return MemberError(member_path, ArchiveError(message))


def _zip_mtime(date_time: tuple[int, int, int, int, int, int]) -> float | None:
    # Zip stores wall-clock time with no zone; it is read as UTC so results are stable.
    try:
        return dt.datetime(*date_time, tzinfo=dt.UTC).timestamp()
    except ValueError:
        return None
