"""Processing one file: read and digest it, run the stages over each item, walk
archives.

A pure function of the path and the configuration, run in worker processes. It never
raises for anything about the input: every refusal becomes an `ErrorRecord`, and what
was learned before the refusal is kept. Files, archive members, embedded thumbnails
and standard input all go through `observe`.
"""

import dataclasses
import io
import os
import pathlib

from vigil.hashing.base import HashResult, StreamHasher
from vigil.hashing.digest import digest_bytes, digest_stream
from vigil.media.archive import ArchiveMember, walk_archive
from vigil.media.base import MediaKind
from vigil.media.errors import (
    ChangedWhileReadError,
    EmptyFileError,
    ErrorRecord,
    FileTooLargeError,
    FileVanishedError,
    MediaError,
)
from vigil.media.files import open_regular
from vigil.media.sniff import SNIFF_BYTES, sniff_bytes, sniff_path, sniff_stream
from vigil.media.subject import Subject
from vigil.pipeline.config import WorkConfig
from vigil.pipeline.records import FileOutcome, ItemObservation
from vigil.pipeline.stage import (
    STAGE_FAILED_REASON,
    ChildrenResult,
    StageContext,
    StageResult,
)

INTERNAL_ERROR_REASON = "internal_error"
#: Opening a FIFO for reading blocks until a writer appears, unless non-blocking.
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
CRASH_REASON = "worker_crashed"


@dataclasses.dataclass(frozen=True)
class FileTask:
    path: str
    config: WorkConfig


def process_file(task: FileTask) -> FileOutcome:
    """Everything about one file on disk. Never raises for bad input."""
    try:
        return _process_file(task.path, task.config)
    except Exception as exc:  # a bug must not end a scan: record it and go on
        return crash_outcome(
            task, f"{type(exc).__name__}: {exc}", INTERNAL_ERROR_REASON
        )


def crash_outcome(
    task: FileTask, message: str, reason: str = CRASH_REASON
) -> FileOutcome:
    error = ErrorRecord(member_path="", reason=reason, message=message)
    return FileOutcome(path=task.path, items=(), errors=(error,), bytes_read=0)


def _process_file(path: str, config: WorkConfig) -> FileOutcome:
    limits = config.limits
    try:
        with open_regular(path) as stream:
            before = os.fstat(stream.fileno())
            head = stream.read(SNIFF_BYTES)
            kind = sniff_bytes(head)
            if kind is MediaKind.ZIP:
                kind = sniff_path(pathlib.Path(path))
            cap = size_cap(config, kind, head, before.st_size)
            if before.st_size > cap:
                raise FileTooLargeError(
                    f"{before.st_size} bytes is over the {cap}-byte limit"
                )
            stream.seek(0)
            keep = limits.max_image_bytes if kind.is_image else 0
            digest = digest_stream(
                stream, config.stream_hashers, max_bytes=cap, keep_bytes_up_to=keep
            )
            after = os.fstat(stream.fileno())
    except FileNotFoundError as exc:
        return _refused(
            path, FileVanishedError(f"file vanished before it was read: {exc}")
        )
    except OSError as exc:  # permissions, I/O errors: the file is there but unreadable
        return _refused(path, MediaError(f"could not read file: {exc}"))
    except MediaError as exc:
        return _refused(path, exc)
    stat = after
    errors: list[ErrorRecord] = []
    if digest.size == 0:
        errors.append(ErrorRecord("", EmptyFileError.reason, "the file is empty"))
    changed = _changed(before, after, digest.size)
    if changed is not None:
        errors.append(ErrorRecord.of("", changed))
    subject = Subject(digest.data, kind, limits, size=digest.size, path=path, head=head)
    digests = _digests(config.stream_hashers, digest.values)
    items = observe(subject, digests, stat.st_mtime, config, errors)
    if kind.is_archive:
        _walk(pathlib.Path(path), kind, config, items, errors)
    return FileOutcome(
        path=path, items=tuple(items), errors=tuple(errors), bytes_read=digest.size
    )


def _changed(
    before: os.stat_result, after: os.stat_result, read_bytes: int
) -> ChangedWhileReadError | None:
    """A file whose size or mtime moved while it was read, or that gave other than
    its size in bytes."""
    moved = (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns)
    if not moved and read_bytes == before.st_size:
        return None
    return ChangedWhileReadError(
        f"the file changed while it was read: {before.st_size} bytes before, "
        f"{after.st_size} after, {read_bytes} read"
    )


def process_bytes(label: str, data: bytes, config: WorkConfig) -> FileOutcome:
    """Everything about bytes that are not a file on disk (standard input)."""
    if len(data) > config.limits.max_file_bytes:
        return _refused(
            label, FileTooLargeError(f"{len(data)} bytes is over the limit")
        )
    errors: list[ErrorRecord] = []
    member = ArchiveMember(member_path="", size=len(data), mtime=None, data=data)
    items = _observe_member(member, "", config, errors)
    kind = sniff_bytes(data[:SNIFF_BYTES])
    if kind.is_archive:
        _walk(data, kind, config, items, errors)
    return FileOutcome(
        path=label, items=tuple(items), errors=tuple(errors), bytes_read=len(data)
    )


def size_cap(config: WorkConfig, kind: MediaKind, head: bytes, size: int) -> int:
    """The largest file read: `max_file_bytes`, or more where a stage streams such
    files itself (the model inspector)."""
    cap = config.limits.max_file_bytes
    for stage in config.stages:
        larger = stage.max_bytes(kind, head, size)
        if larger is not None:
            cap = max(cap, larger)
    return cap


def observe(
    subject: Subject,
    digests: tuple[HashResult, ...],
    mtime: float | None,
    config: WorkConfig,
    errors: list[ErrorRecord],
) -> list[ItemObservation]:
    """Run every stage that applies over one item; its observation first, then
    those of the items it holds (a model's embedded thumbnail)."""
    context = StageContext(config.limits)
    results: list[StageResult] = []
    children: list[ItemObservation] = []
    for stage in config.stages:
        try:
            if not stage.applies_to(subject):
                continue
            result = stage.run(subject, context)
        except Exception as exc:  # one stage's bug never loses another's results
            message = f"{stage.name}: {type(exc).__name__}: {exc}"
            errors.append(
                ErrorRecord(subject.member_path, STAGE_FAILED_REASON, message)
            )
            continue
        context.add(result)
        results.append(result)
        errors.extend(result.errors)
        if isinstance(result, ChildrenResult):
            for child in result.children:
                member = ArchiveMember(
                    child.member_path, len(child.data), None, child.data
                )
                children.extend(
                    _observe_member(member, child.member_path, config, errors)
                )
    observation = ItemObservation(
        member_path=subject.member_path,
        size=subject.size,
        mtime=mtime,
        sha256=_sha256(digests),
        kind=subject.kind.value,
        digests=digests,
        results=tuple(results),
    )
    return [observation, *children]


def _refused(path: str, error: MediaError) -> FileOutcome:
    record = ErrorRecord(member_path="", reason=error.reason, message=error.message)
    return FileOutcome(path=path, items=(), errors=(record,), bytes_read=0)


def _digests(
    hashers: tuple[StreamHasher, ...], values: dict[str, str]
) -> tuple[HashResult, ...]:
    return tuple(
        HashResult(hasher=h.name, value=values[h.name], pipeline=h.pipeline)
        for h in hashers
    )


def _sha256(digests: tuple[HashResult, ...]) -> str:
    return next(h.value for h in digests if h.hasher == "sha256")


def _walk(
    path: pathlib.Path | bytes,
    kind: MediaKind,
    config: WorkConfig,
    items: list[ItemObservation],
    errors: list[ErrorRecord],
) -> None:
    seen: dict[str, int] = {}
    for entry in walk_archive(path, kind, config.limits):
        if isinstance(entry, ArchiveMember):
            member_path = _unique(entry.member_path, seen)
            items.extend(_observe_member(entry, member_path, config, errors))
        else:
            errors.append(ErrorRecord.of(entry.member_path, entry.error))


def _unique(member_path: str, seen: dict[str, int]) -> str:
    """Archives may hold a name twice; both entries are real, so number the repeats."""
    count = seen.get(member_path, 0) + 1
    seen[member_path] = count
    return member_path if count == 1 else f"{member_path}#{count}"


def _observe_member(
    member: ArchiveMember,
    member_path: str,
    config: WorkConfig,
    errors: list[ErrorRecord],
) -> list[ItemObservation]:
    digests = _digests(
        config.stream_hashers, digest_bytes(member.data, config.stream_hashers)
    )
    kind = sniff_stream(io.BytesIO(member.data))
    subject = Subject(
        member.data, kind, config.limits, member_path=member_path, size=member.size
    )
    return observe(subject, digests, member.mtime, config, errors)
