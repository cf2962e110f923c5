"""Pickles inside plain archives (zip, tar and compressed tar, 7z), walked unloaded.

Unlike a PyTorch zip, whose pickles are its `.pkl` members, any member of a plain
archive may be a pickle (`.bin`, `.ckpt`, `.npy` object arrays in an `.npz`, a joblib
file): each is typed by content (`embedded.payload_format`) and walked. The archive
limits of `ModelLimits` apply (member count, directory size, bytes read per member).
7z needs py7zr (LGPL-2.1, so an optional extra); without it a 7z is reported with a
`dependency_unavailable` error, never skipped silently.
"""

import dataclasses
import io
import tarfile
import typing as t
import zipfile

from vigil._optional import MissingDependencyError, import_optional
from vigil.modelfiles.base import Finding, ModelError, ModelLimits
from vigil.modelfiles.embedded import (
    BZ2_MAGIC,
    GZIP_MAGIC,
    SNIFF_DECOMPRESSED_BYTES,
    XZ_MAGIC,
    payload_format,
    walk_payload,
)
from vigil.modelfiles.errors import ModelArchiveError
from vigil.modelfiles.pickles import PickleCollector, PickleScan
from vigil.modelfiles.torchzip import (
    _ZIP_ERRORS,
    check_member_name,
    list_zip_members,
    read_zip_member,
)

SEVEN_ZIP_EXTRA = "sevenzip"
SEVEN_ZIP_MAGIC = b"7z\xbc\xaf\x27\x1c"  # 7zFormat.txt, SignatureHeader
DEPENDENCY_UNAVAILABLE = "dependency_unavailable"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_TAR_MAGIC_OFFSET = 257  # POSIX ustar: "ustar" at offset 257 of the first header
_TAR_MAGIC = b"ustar"
_TAR_ERRORS = (tarfile.TarError, EOFError, OSError, ValueError)

# (name, declared size, read(at_most) -> bytes) for each regular member.
Member = tuple[str, int, t.Callable[[int], bytes]]


@dataclasses.dataclass(frozen=True)
class ArchiveScan:
    """What a plain archive holds and what its pickles would import."""

    kind: str  # zip, tar or 7z
    members: int
    pickle_members: tuple[str, ...]
    pickle: PickleScan
    findings: tuple[Finding, ...]
    errors: tuple[ModelError, ...]


def archive_kind(head: bytes) -> str | None:
    """`zip`, `tar` (also gzip, bzip2 or xz compressed) or `7z`; None otherwise."""
    if head.startswith(_ZIP_MAGICS):
        return "zip"
    if head.startswith(SEVEN_ZIP_MAGIC):
        return "7z"
    if _is_tar_header(head):
        return "tar"
    if head.startswith((GZIP_MAGIC, BZ2_MAGIC, XZ_MAGIC)):
        return "tar"  # tarfile tells a compressed tar from a compressed pickle
    return None


def has_py7zr() -> bool:
    try:
        import_optional("py7zr", extra=SEVEN_ZIP_EXTRA)
    except MissingDependencyError:
        return False
    return True


def has_pickle_member(stream: t.BinaryIO, limits: ModelLimits) -> bool:
    """Whether any member (within the limits) is a pickle; a 7z that cannot be
    listed for want of py7zr counts as one, so it is reported rather than skipped."""
    stream.seek(0)
    kind = archive_kind(stream.read(SNIFF_DECOMPRESSED_BYTES))
    if kind == "7z" and not has_py7zr():
        return True
    try:
        for _name, size, read in _members(stream, kind, limits, []):
            if payload_format(read(SNIFF_DECOMPRESSED_BYTES), size) is not None:
                return True
    except ModelArchiveError:
        return False
    return False


def scan_archive(stream: t.BinaryIO, limits: ModelLimits | None = None) -> ArchiveScan:
    """Walk every member of a zip, tar or 7z that carries a pickle.

    Raises:
        ModelArchiveError: the archive cannot be listed (corrupt, truncated, over the
            member or directory caps). Unreadable members become error records.
        MissingDependencyError: a 7z and py7zr is not installed.
    """
    limits = limits or ModelLimits()
    stream.seek(0)
    kind = archive_kind(stream.read(SNIFF_DECOMPRESSED_BYTES)) or "unknown"
    collector = PickleCollector(limits)
    findings: list[Finding] = []
    pickles: list[str] = []
    count = 0
    cap = limits.max_pickle_member_bytes
    for name, size, read in _members(stream, kind, limits, findings):
        count += 1
        if size > cap:
            if payload_format(read(SNIFF_DECOMPRESSED_BYTES), None) is not None:
                message = f"{size} bytes, over the {cap}-byte pickle cap"
                collector.errors.append(
                    ModelError(ModelArchiveError.reason, message, name)
                )
                pickles.append(name)
            continue
        try:
            data = read(cap + 1)
        except ModelArchiveError as exc:
            collector.errors.append(ModelError(exc.reason, exc.message, name))
            continue
        if len(data) > cap:  # the directory understated the size
            message = f"expands past the {cap}-byte pickle cap"
            collector.errors.append(ModelError(ModelArchiveError.reason, message, name))
            continue
        if walk_payload(data, collector, name, limits):
            pickles.append(name)
    scan = collector.result()
    return ArchiveScan(
        kind=kind,
        members=count,
        pickle_members=tuple(pickles),
        pickle=scan,
        findings=tuple(findings),
        errors=(),
    )


def _members(
    stream: t.BinaryIO, kind: str | None, limits: ModelLimits, findings: list[Finding]
) -> t.Iterator[Member]:
    if kind == "zip":
        yield from _zip_members(stream, limits, findings)
    elif kind == "tar":
        yield from _tar_members(stream, limits, findings)
    elif kind == "7z":
        yield from _seven_zip_members(stream, limits, findings)


def _zip_members(
    stream: t.BinaryIO, limits: ModelLimits, findings: list[Finding]
) -> t.Iterator[Member]:
    infos = list_zip_members(stream, limits)
    with zipfile.ZipFile(stream) as archive:
        for info in infos:
            if info.is_dir():
                continue
            check_member_name(info.filename, findings)

            def read(at_most: int, info: zipfile.ZipInfo = info) -> bytes:
                errors: list[ModelError] = []
                capped = dataclasses.replace(limits, max_pickle_member_bytes=at_most)
                if at_most < info.file_size:
                    try:
                        with archive.open(info) as member:
                            return member.read(at_most)
                    except _ZIP_ERRORS as exc:
                        raise ModelArchiveError(f"unreadable member: {exc}") from exc
                data = read_zip_member(archive, info, capped, errors)
                if data is None:
                    raise ModelArchiveError(errors[0].message if errors else "unread")
                return data

            yield info.filename, info.file_size, read


def _tar_members(
    stream: t.BinaryIO, limits: ModelLimits, findings: list[Finding]
) -> t.Iterator[Member]:
    stream.seek(0)
    try:
        with tarfile.open(fileobj=stream, mode="r:*") as archive:
            count = 0
            while (info := archive.next()) is not None:
                count += 1
                if count > limits.max_zip_members:
                    raise ModelArchiveError(
                        f"more than {limits.max_zip_members} members"
                    )
                if not info.isreg():
                    continue
                check_member_name(info.name, findings)

                def read(at_most: int, info: tarfile.TarInfo = info) -> bytes:
                    try:
                        member = archive.extractfile(info)
                        return member.read(at_most) if member is not None else b""
                    except _TAR_ERRORS as exc:
                        raise ModelArchiveError(f"unreadable member: {exc}") from exc

                yield info.name, info.size, read
    except _TAR_ERRORS as exc:
        raise ModelArchiveError(f"corrupt or truncated tar: {exc}") from exc


class _CappedBuffer:
    """A py7zr writer that keeps the first `cap` bytes of a member."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.buffer = io.BytesIO()

    def write(self, data: bytes) -> int:
        room = self.cap - self.buffer.tell()
        if room > 0:
            self.buffer.write(data[:room])
        return len(data)

    def read(self, size: int | None = None) -> bytes:
        return self.buffer.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.buffer.seek(offset, whence)

    def flush(self) -> None:
        return None

    def size(self) -> int:
        return self.buffer.tell()

    def close(self) -> None:
        return None


class _CappedFactory:
    """A py7zr `WriterFactory`: every member into a `_CappedBuffer`."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.products: dict[str, _CappedBuffer] = {}

    def create(self, filename: str) -> _CappedBuffer:
        product = _CappedBuffer(self.cap)
        self.products[filename] = product
        return product


def _seven_zip_members(
    stream: t.BinaryIO, limits: ModelLimits, findings: list[Finding]
) -> t.Iterator[Member]:
    py7zr = import_optional("py7zr", extra=SEVEN_ZIP_EXTRA)
    stream.seek(0)
    cap = limits.max_pickle_member_bytes + 1
    try:
        with py7zr.SevenZipFile(stream, "r") as archive:
            infos = [info for info in archive.list() if not info.is_directory]
            if len(infos) > limits.max_zip_members:
                raise ModelArchiveError(f"more than {limits.max_zip_members} members")
            factory = _CappedFactory(cap)
            # Solid 7z archives decompress in one pass: every member at once, each
            # kept only up to the pickle cap.
            archive.extract(factory=factory)
    except (py7zr.Bad7zFile, *_TAR_ERRORS, KeyError, TypeError) as exc:
        raise ModelArchiveError(f"corrupt or unsupported 7z: {exc}") from exc
    for info in infos:
        name = str(info.filename)
        check_member_name(name, findings)
        product = factory.products.get(name)
        data = product.buffer.getvalue() if product is not None else b""

        def read(at_most: int, data: bytes = data) -> bytes:
            return data[:at_most]

        yield name, int(info.uncompressed or len(data)), read


def _is_tar_header(head: bytes) -> bool:
    end = _TAR_MAGIC_OFFSET + len(_TAR_MAGIC)
    return len(head) >= end and head[_TAR_MAGIC_OFFSET:end] == _TAR_MAGIC
