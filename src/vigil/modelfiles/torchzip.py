"""PyTorch zip checkpoints (`torch.save` since 1.6): walk every pickle inside, unloaded.

A checkpoint is a zip of `<prefix>/data.pkl` (the object structure), one member per
tensor storage (`<prefix>/data/<key>`) and small markers. TorchScript archives add
`constants.pkl` and `code/` (Python source that `torch.jit.load` compiles and runs).
Every `.pkl` member is walked by the pickle scanner; storages are never read.
The zip is read with `zipfile` after its end record has been checked against the
member and directory caps, so a hostile directory is refused before it is loaded.
"""

import dataclasses
import io
import posixpath
import struct
import typing as t
import zipfile
import zlib

from vigil.media.sniff import read_zip_directory_extent
from vigil.modelfiles.base import Finding, ModelError, ModelLimits, Severity
from vigil.modelfiles.errors import ModelArchiveError
from vigil.modelfiles.pickles import PickleCollector, PickleScan

_PICKLE_SUFFIX = ".pkl"
_ENCRYPTED_FLAG = 0x1  # zip general purpose bit 0 (APPNOTE 4.4.4)
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    ValueError,
    struct.error,
    NotImplementedError,
    OSError,
)


@dataclasses.dataclass(frozen=True)
class TorchZipScan:
    """What a PyTorch zip holds and what its pickles would import."""

    members: int
    pickle_members: tuple[str, ...]
    code_members: int  # TorchScript sources
    pickle: PickleScan
    findings: tuple[Finding, ...]
    errors: tuple[ModelError, ...]

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "members": self.members,
            "pickle_members": list(self.pickle_members),
            "code_members": self.code_members,
            "pickle": self.pickle.as_dict(),
            "findings": [f.as_dict() for f in self.findings],
            "errors": [e.as_dict() for e in self.errors],
        }


def scan_torch_zip(
    stream: t.BinaryIO, limits: ModelLimits | None = None
) -> TorchZipScan:
    """Walk every pickle in a PyTorch zip.

    Raises:
        ModelArchiveError: the zip cannot be listed (truncated, corrupt, over the
            member or directory caps). Unreadable members become error records.
    """
    limits = limits or ModelLimits()
    infos = list_zip_members(stream, limits)
    collector = PickleCollector(limits)
    findings: list[Finding] = []
    errors: list[ModelError] = []
    pickles: list[str] = []
    code_members = 0
    with zipfile.ZipFile(stream) as archive:
        for info in infos:
            name = info.filename
            check_member_name(name, findings)
            if "/code/" in f"/{name}" and not info.is_dir():
                code_members += 1
            if not name.endswith(_PICKLE_SUFFIX) or info.is_dir():
                continue
            pickles.append(name)
            data = read_zip_member(archive, info, limits, errors)
            if data is not None:
                collector.walk_stream(io.BytesIO(data), len(data), name)
    if code_members:
        findings.append(
            Finding(
                "torchscript_code",
                Severity.REVIEW,
                f"{code_members} TorchScript source member(s): torch.jit.load "
                "compiles and runs them",
                "code/",
            )
        )
    if not pickles:
        errors.append(ModelError(ModelArchiveError.reason, "no .pkl member", ""))
    return TorchZipScan(
        members=len(infos),
        pickle_members=tuple(pickles),
        code_members=code_members,
        pickle=collector.result(),
        findings=tuple(findings),
        errors=tuple(errors),
    )


def list_zip_members(stream: t.BinaryIO, limits: ModelLimits) -> list[zipfile.ZipInfo]:
    try:
        extent = read_zip_directory_extent(stream)
        if extent is None:
            raise ModelArchiveError("no zip end record: the file is truncated")
        if extent.entry_count > limits.max_zip_members:
            raise ModelArchiveError(
                f"{extent.entry_count} members, over the {limits.max_zip_members} cap"
            )
        if extent.directory_bytes > limits.max_zip_directory_bytes:
            raise ModelArchiveError(
                f"a {extent.directory_bytes}-byte directory, over the "
                f"{limits.max_zip_directory_bytes}-byte cap"
            )
        stream.seek(0)
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
    except _ZIP_ERRORS as exc:
        raise ModelArchiveError(f"corrupt or truncated zip: {exc}") from exc
    if len(infos) > limits.max_zip_members:
        raise ModelArchiveError(f"more than {limits.max_zip_members} members")
    return infos


def check_member_name(name: str, findings: list[Finding]) -> None:
    normal = posixpath.normpath(name.replace("\\", "/"))
    if normal.startswith(("/", "../")) or normal == "..":
        findings.append(
            Finding(
                "path_traversal",
                Severity.REVIEW,
                f"member name {name[:200]!r} is absolute or climbs out",
                name[:200],
            )
        )


def read_zip_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    limits: ModelLimits,
    errors: list[ModelError],
) -> bytes | None:
    cap = limits.max_pickle_member_bytes
    if info.flag_bits & _ENCRYPTED_FLAG:
        errors.append(
            ModelError(ModelArchiveError.reason, "encrypted member", info.filename)
        )
        return None
    if info.file_size > cap:
        message = f"{info.file_size} bytes, over the {cap}-byte pickle cap"
        errors.append(ModelError(ModelArchiveError.reason, message, info.filename))
        return None
    try:
        with archive.open(info) as member:
            data = member.read(cap + 1)
    except _ZIP_ERRORS as exc:
        message = f"unreadable member: {exc}"
        errors.append(ModelError(ModelArchiveError.reason, message, info.filename))
        return None
    if len(data) > cap:  # the directory understated the size
        message = f"expands past the {cap}-byte pickle cap"
        errors.append(ModelError(ModelArchiveError.reason, message, info.filename))
        return None
    return data
