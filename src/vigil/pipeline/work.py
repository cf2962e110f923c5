"""Processing one file: sniff, digest, decode, perceptual-hash, walk archives.

A pure function of the path and the configuration, run in worker processes. It never
raises for anything about the input: every refusal becomes an `ErrorRecord`, and what
was learned before the refusal is kept.
"""

import dataclasses
import io
import os
import pathlib
import typing as t

from vigil.hashing.base import HashResult, ImageHasher, StreamHasher
from vigil.hashing.digest import digest_bytes, digest_stream
from vigil.hashing.variants import pdq_variants
from vigil.media.archive import ArchiveMember, walk_archive
from vigil.media.base import Limits, MediaKind
from vigil.media.errors import (
    EmptyFileError,
    ErrorRecord,
    FileTooLargeError,
    FileVanishedError,
    MediaError,
)
from vigil.media.image import decode_image
from vigil.media.sniff import SNIFF_BYTES, sniff_bytes, sniff_path, sniff_stream
from vigil.pipeline.records import MEMBER_SEPARATOR, FileOutcome, ItemObservation
from vigil.provenance.base import Extractor, GenerationRecord
from vigil.provenance.run import extract_all

INTERNAL_ERROR_REASON = "internal_error"
CRASH_REASON = "worker_crashed"
PROMPT_FILTER_FAILED = "prompt_filter_failed"


@dataclasses.dataclass(frozen=True)
class WorkConfig:
    """What every worker needs: limits and configured hasher instances (picklable)."""

    limits: Limits
    stream_hashers: tuple[StreamHasher, ...]
    image_hashers: tuple[ImageHasher, ...]
    pdq_variants: bool = False  # also hash rotations, flips and borderless crops
    extractors: tuple[Extractor, ...] = ()  # provenance evidence, in priority order
    score_prompts: bool = False  # run the prompt filter on found generation records
    prompt_lexicons: tuple[str, ...] = ()  # operator lexicon files for the filter
    inspect_models: bool = False  # fingerprint and risk-assess model files

    @property
    def decode_target_px(self) -> int | None:
        """The largest size an image hasher needs; None if one needs full resolution."""
        targets = [h.decode_target_px for h in self.image_hashers]
        if not targets or any(target is None for target in targets):
            return None
        return max(t.cast(list[int], targets))


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
        stat = os.stat(path)
        with open(path, "rb") as stream:
            head = stream.read(SNIFF_BYTES)
            kind = sniff_bytes(head)
            if kind is MediaKind.ZIP:
                kind = sniff_path(pathlib.Path(path))
            cap = _size_cap(kind, head, stat.st_size, config)
            if stat.st_size > cap:
                raise FileTooLargeError(
                    f"{stat.st_size} bytes is over the {cap}-byte limit"
                )
            stream.seek(0)
            keep = limits.max_image_bytes if kind.is_image else 0
            digest = digest_stream(
                stream,
                config.stream_hashers,
                max_bytes=cap,
                keep_bytes_up_to=keep,
            )
    except FileNotFoundError as exc:
        return _refused(
            path, FileVanishedError(f"file vanished before it was read: {exc}")
        )
    except OSError as exc:  # permissions, I/O errors: the file is there but unreadable
        return _refused(path, MediaError(f"could not read file: {exc}"))
    except MediaError as exc:
        return _refused(path, exc)

    items: list[ItemObservation] = []
    errors: list[ErrorRecord] = []
    if digest.size == 0:
        errors.append(ErrorRecord("", EmptyFileError.reason, "the file is empty"))
    hashes = [_stream_result(h, digest.values[h.name]) for h in config.stream_hashers]
    facts = _image_facts("", kind, digest.data, config, hashes, errors)
    decoded = _decoded(kind, facts, config)
    facts.update(_provenance("", kind, digest.data, config, errors, decoded))
    if config.inspect_models and _is_model(kind, head, stat.st_size):
        facts["model"] = _inspect_model(path, "", config, errors)
    items.append(
        ItemObservation(
            member_path="",
            size=digest.size,
            mtime=stat.st_mtime,
            sha256=digest.values["sha256"],
            kind=kind.value,
            hashes=tuple(hashes),
            **facts,
        )
    )
    if facts.get("model") is not None:
        try:
            with open(path, "rb") as stream:
                items.extend(_thumbnail_item(stream, stat.st_size, "", config, errors))
        except OSError as exc:  # gone or unreadable since: keep what was learned
            errors.append(ErrorRecord("", "unreadable", f"model thumbnail: {exc}"))
    if kind.is_archive:
        _walk(pathlib.Path(path), kind, config, items, errors)
    return FileOutcome(
        path=path, items=tuple(items), errors=tuple(errors), bytes_read=digest.size
    )


def process_bytes(label: str, data: bytes, config: WorkConfig) -> FileOutcome:
    """Everything about bytes that are not a file on disk (standard input)."""
    if len(data) > config.limits.max_file_bytes:
        return _refused(
            label, FileTooLargeError(f"{len(data)} bytes is over the limit")
        )
    kind = sniff_bytes(data[:SNIFF_BYTES])
    items: list[ItemObservation] = []
    errors: list[ErrorRecord] = []
    member = ArchiveMember(member_path="", size=len(data), mtime=None, data=data)
    items.append(_observe_member(member, "", config, errors))
    if kind.is_archive:
        _walk(data, kind, config, items, errors)
    return FileOutcome(
        path=label, items=tuple(items), errors=tuple(errors), bytes_read=len(data)
    )


def _refused(path: str, error: MediaError) -> FileOutcome:
    record = ErrorRecord(member_path="", reason=error.reason, message=error.message)
    return FileOutcome(path=path, items=(), errors=(record,), bytes_read=0)


def _stream_result(hasher: StreamHasher, value: str) -> HashResult:
    return HashResult(hasher=hasher.name, value=value, pipeline=hasher.pipeline)


def _image_facts(
    member_path: str,
    kind: MediaKind,
    data: bytes | None,
    config: WorkConfig,
    hashes: list[HashResult],
    errors: list[ErrorRecord],
) -> dict[str, t.Any]:
    """Decode an image within limits and add its perceptual hashes; record refusals."""
    if not kind.is_image or not config.image_hashers:
        return {}
    if data is None:
        error = FileTooLargeError(
            f"image is over the {config.limits.max_image_bytes}-byte decode limit"
        )
        errors.append(ErrorRecord(member_path, error.reason, error.message))
        return {}
    try:
        image = decode_image(
            data, kind, config.limits, target_px=config.decode_target_px
        )
        for hasher in config.image_hashers:
            hashes.append(hasher.hash_image(image))
        variants = (
            tuple((v.name, v.value, v.quality) for v in pdq_variants(image))
            if config.pdq_variants
            else ()
        )
    except MediaError as exc:
        errors.append(ErrorRecord(member_path, exc.reason, exc.message))
        return {}
    return {
        "width": image.width,
        "height": image.height,
        "frame_count": image.frame_count,
        "variants": variants,
    }


def _decoded(kind: MediaKind, facts: dict[str, t.Any], config: WorkConfig) -> bool:
    """False when the image hashers tried to decode this image and failed."""
    return not (kind.is_image and config.image_hashers and "width" not in facts)


def _provenance(
    member_path: str,
    kind: MediaKind,
    data: bytes | None,
    config: WorkConfig,
    errors: list[ErrorRecord],
    decoded: bool = True,
) -> dict[str, t.Any]:
    """Evidence and the generation record; extractor failures become error records.
    Pixel readers are skipped for an image that already failed to decode."""
    wanted = [
        e
        for e in config.extractors
        if kind in e.media_kinds and (decoded or not e.reads_pixels)
    ]
    if not wanted or data is None:
        return {}
    found = extract_all(data, kind, wanted, config.limits, member_path=member_path)
    errors.extend(found.errors)
    facts: dict[str, t.Any] = {
        "evidence": found.evidence,
        "generation": found.generation,
    }
    record = found.generation
    if config.score_prompts and record is not None and (record.prompt or record.loras):
        from vigil.prompts.filter import PromptFilter  # loads the lexicon once

        try:
            prompt_filter = PromptFilter.default(
                tuple(pathlib.Path(p) for p in config.prompt_lexicons)
            )
            facts["prompt_verdict"] = prompt_filter.check(
                prompt_with_loras(record), record.negative_prompt or ""
            )
        except Exception as exc:  # keep the evidence and record; say what failed
            message = f"prompt filter: {type(exc).__name__}: {exc}"
            errors.append(ErrorRecord(member_path, PROMPT_FILTER_FAILED, message))
    return facts


_MODEL_KINDS = frozenset(
    {MediaKind.SAFETENSORS, MediaKind.PYTORCH_ZIP, MediaKind.PICKLE}
)


def _is_model(kind: MediaKind, head: bytes, size: int) -> bool:
    """A model file by content: the media kinds of model formats, or GGUF/ONNX (which
    the media sniffer leaves `unknown`)."""
    if kind in _MODEL_KINDS:
        return True
    if kind is not MediaKind.UNKNOWN:
        return False
    from vigil.modelfiles.base import ModelFormat
    from vigil.modelfiles.sniff import sniff_model_bytes

    return sniff_model_bytes(head, size) in (ModelFormat.GGUF, ModelFormat.ONNX)


def _size_cap(kind: MediaKind, head: bytes, size: int, config: WorkConfig) -> int:
    """The largest file read: `max_file_bytes`, or for model files (streamed, never
    held in memory) the model inspector's larger limit, since checkpoints of 6-24 GB
    are common on seized devices."""
    if config.inspect_models and _is_model(kind, head, size):
        from vigil.modelfiles.base import DEFAULT_MAX_MODEL_BYTES

        return max(config.limits.max_file_bytes, DEFAULT_MAX_MODEL_BYTES)
    return config.limits.max_file_bytes


def _inspect_model(
    source: str | t.BinaryIO,
    member_path: str,
    config: WorkConfig,
    errors: list[ErrorRecord],
) -> t.Any:
    """The model report; its error records are the item's too."""
    from vigil.modelfiles.scan import inspect_model, internal_error
    from vigil.prompts.filter import PromptFilter

    try:
        prompt_filter = PromptFilter.default(
            tuple(pathlib.Path(p) for p in config.prompt_lexicons)
        )
        report = inspect_model(
            source, label=member_path or None, prompt_filter=prompt_filter
        )
    except Exception as exc:  # a bug must not lose the item's hashes and evidence
        report = internal_error(member_path or "<file>", exc)
    errors.extend(
        ErrorRecord(member_path, error.reason, f"model file: {error.message}")
        for error in report.errors
    )
    return report


def prompt_with_loras(record: GenerationRecord) -> str:
    """The prompt the filter reads: the record's prompt, then `<lora:NAME>` for each
    LoRA the generator applied that the text does not already name (ComfyUI keeps
    LoRAs in loader nodes, not in the prompt; their names are signals too). Trigger
    spans past the prompt's length point into this appended list."""
    prompt = record.prompt or ""
    missing = [lora.name for lora in record.loras if lora.name not in prompt]
    if not missing:
        return prompt
    return prompt + "\n" + " ".join(f"<lora:{name}>" for name in missing)


#: The member path of a model's embedded preview image: `lora.safetensors!/<this>`.
THUMBNAIL_MEMBER = "modelspec.thumbnail"


def _thumbnail_item(
    stream: t.BinaryIO,
    size: int,
    member_path: str,
    config: WorkConfig,
    errors: list[ErrorRecord],
) -> list[ItemObservation]:
    """A safetensors' embedded thumbnail (`modelspec.thumbnail`) as an item of its
    own, hashed, matched and inspected like any image."""
    from vigil.modelfiles.safetensors import read_header
    from vigil.modelfiles.thumbnail import thumbnail_bytes

    try:
        header = read_header(stream, size)
        found = thumbnail_bytes(header.metadata)
    except MediaError:
        return []  # the model report already carries this as an error record
    if found is None:
        return []
    _declared, data = found
    inner = f"{member_path}{MEMBER_SEPARATOR}" if member_path else ""
    member = ArchiveMember(
        member_path=f"{inner}{THUMBNAIL_MEMBER}", size=len(data), mtime=None, data=data
    )
    return [_observe_member(member, member.member_path, config, errors)]


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
            observation = _observe_member(entry, member_path, config, errors)
            items.append(observation)
            if observation.model is not None:
                stream = io.BytesIO(entry.data)
                items.extend(
                    _thumbnail_item(stream, entry.size, member_path, config, errors)
                )
        else:
            errors.append(
                ErrorRecord(entry.member_path, entry.error.reason, entry.error.message)
            )


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
) -> ItemObservation:
    values = digest_bytes(member.data, config.stream_hashers)
    hashes = [_stream_result(h, values[h.name]) for h in config.stream_hashers]
    kind = sniff_stream(io.BytesIO(member.data))
    data = member.data if len(member.data) <= config.limits.max_image_bytes else None
    facts = _image_facts(member_path, kind, data, config, hashes, errors)
    decoded = _decoded(kind, facts, config)
    facts.update(_provenance(member_path, kind, data, config, errors, decoded))
    if config.inspect_models and _is_model(
        kind, member.data[:SNIFF_BYTES], member.size
    ):
        source = io.BytesIO(member.data)
        facts["model"] = _inspect_model(source, member_path, config, errors)
    return ItemObservation(
        member_path=member_path,
        size=member.size,
        mtime=member.mtime,
        sha256=values["sha256"],
        kind=kind.value,
        hashes=tuple(hashes),
        **facts,
    )
