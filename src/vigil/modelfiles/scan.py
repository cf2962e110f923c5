"""`inspect_model`: one model file (or diffusers folder) in, one `ModelReport` out.

The single entry point that the CLI, `vigil scan` and the HTTP API share. It never
raises for anything about the input: each part (header, pickles, fingerprints,
thumbnail, risk) that fails becomes an error record, and what the other parts showed
is kept. Fingerprints come from one read of the whole file, after the (small) header
reads.
"""

import dataclasses
import io
import os
import pathlib
import stat
import typing as t

from vigil._optional import MissingDependencyError
from vigil.media.errors import FileTooLargeError, FileVanishedError, MediaError
from vigil.modelfiles.archives import DEPENDENCY_UNAVAILABLE, scan_archive
from vigil.modelfiles.base import (
    Finding,
    JSONValue,
    ModelError,
    ModelFormat,
    ModelLimits,
    Severity,
)
from vigil.modelfiles.embedded import (
    NPY_HEADER_VIEW_BYTES as SNIFF_HEAD_BYTES,
)
from vigil.modelfiles.embedded import decompress, npy_pickle_offset, walk_payload
from vigil.modelfiles.errors import ModelArchiveError
from vigil.modelfiles.fingerprints import TENSOR_SHA256, fingerprint_stream
from vigil.modelfiles.folders import inspect_folder
from vigil.modelfiles.pickles import PickleCollector, PickleScan, scan_pickle_stream
from vigil.modelfiles.report import ModelReport, TensorSummary
from vigil.modelfiles.risk import assess_model, unknown_risk
from vigil.modelfiles.safetensors import SafetensorsHeader, read_header
from vigil.modelfiles.sniff import sniff_model_stream
from vigil.modelfiles.thumbnail import EmbeddedImage, inspect_thumbnail
from vigil.modelfiles.torchzip import scan_torch_zip
from vigil.modelfiles.training import MODELSPEC_THUMBNAIL, TrainingInfo, read_training
from vigil.prompts.filter import PromptFilter

_THUMBNAIL_PLACEHOLDER = "<{size} characters of base64 image data: see thumbnail>"
_GGUF_HEADER = 24  # magic, u32 version, u64 tensor count, u64 metadata count
INTERNAL_ERROR_REASON = "internal_error"  # as vigil.pipeline.work records bugs
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # POSIX only; Windows has no FIFOs


Source = str | os.PathLike[str] | t.BinaryIO


def inspect_model(
    source: Source,
    limits: ModelLimits | None = None,
    *,
    label: str | None = None,
    prompt_filter: PromptFilter | None = None,
) -> ModelReport:
    """Inspect a model file, a diffusers folder, or a seekable binary stream.

    Args:
        source: a path (file or folder) or a seekable stream (read from its start).
        limits: bounds on every reader; defaults to `ModelLimits()`.
        label: the path to report; default: the path, or `<stream>`.
        prompt_filter: the filter training text goes through; default: the
            built-in lexicon (`PromptFilter.default()`).
    """
    limits = limits or ModelLimits()
    if isinstance(source, str | os.PathLike):
        path = pathlib.Path(source)
        name = label or str(path)
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            return _refused(name, FileVanishedError(f"cannot read: {exc.strerror}"))
        if stat.S_ISDIR(mode):

            def inspect_file(file: pathlib.Path, file_label: str) -> ModelReport:
                return _inspect_file(file, file_label, limits, prompt_filter)

            return inspect_folder(path, limits, label=name, inspect_file=inspect_file)
        if not stat.S_ISREG(mode):
            return _refused(name, FileVanishedError("not a regular file"))
        return _inspect_file(path, name, limits, prompt_filter)
    try:
        return _inspect_stream(source, label or "<stream>", limits, prompt_filter)
    except OSError as exc:
        return _refused(label or "<stream>", MediaError(f"cannot read: {exc}"))


def _inspect_file(
    path: pathlib.Path,
    name: str,
    limits: ModelLimits,
    prompt_filter: PromptFilter | None,
) -> ModelReport:
    try:
        # Non-blocking, so that a path swapped for a FIFO cannot hang the open.
        fd = os.open(path, os.O_RDONLY | _O_NONBLOCK)
    except OSError as exc:
        return _refused(name, FileVanishedError(f"cannot read: {exc.strerror}"))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return _refused(name, FileVanishedError("not a regular file"))
    try:
        with os.fdopen(fd, "rb") as stream:
            return _inspect_stream(stream, name, limits, prompt_filter)
    except OSError as exc:
        return _refused(name, MediaError(f"cannot read: {exc}"))


def internal_error(name: str, exc: Exception) -> ModelReport:
    """The report for a file whose inspection hit a bug (for callers that go on)."""
    error = ModelError(INTERNAL_ERROR_REASON, f"{type(exc).__name__}: {exc}")
    return ModelReport(
        path=name,
        format=ModelFormat.UNKNOWN,
        size=0,
        fingerprints={},
        risk=unknown_risk("the inspection failed"),
        errors=(error,),
    )


def _refused(name: str, error: MediaError) -> ModelReport:
    return ModelReport(
        path=name,
        format=ModelFormat.UNKNOWN,
        size=0,
        fingerprints={},
        risk=unknown_risk("the file was not read"),
        errors=(ModelError(error.reason, error.message),),
    )


class _Parts:
    """What the stages of one inspection collect."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.errors: list[ModelError] = []
        self.details: dict[str, JSONValue] = {}

    def error(self, exc: MediaError, where: str = "") -> None:
        self.errors.append(ModelError(exc.reason, exc.message, where))


def _inspect_stream(
    stream: t.BinaryIO,
    name: str,
    limits: ModelLimits,
    prompt_filter: PromptFilter | None,
) -> ModelReport:
    size = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    parts = _Parts()
    if size > limits.max_model_bytes:
        error = FileTooLargeError(
            f"{size} bytes, over the {limits.max_model_bytes} limit"
        )
        return dataclasses.replace(_refused(name, error), size=size)
    model_format = sniff_model_stream(stream)
    header: SafetensorsHeader | None = None
    pickle: PickleScan | None = None
    if model_format is ModelFormat.SAFETENSORS:
        try:
            header = read_header(stream, size, limits)
            parts.findings.extend(header.findings)
        except MediaError as exc:
            parts.error(exc, "header")
    elif model_format is ModelFormat.PYTORCH_ZIP:
        pickle = _torch_zip(stream, limits, parts)
    elif model_format is ModelFormat.PICKLE:
        stream.seek(0)
        pickle = scan_pickle_stream(stream, limits, "pickle")
    elif model_format is ModelFormat.ARCHIVE:
        pickle = _archive(stream, limits, parts)
    elif model_format is ModelFormat.NUMPY:
        pickle = _numpy(stream, size, limits)
    elif model_format is ModelFormat.COMPRESSED_PICKLE:
        pickle = _compressed(stream, limits)
    elif model_format is ModelFormat.GGUF:
        parts.details.update(_gguf_details(stream))
    stream.seek(0)
    try:
        fingerprints = fingerprint_stream(
            stream,
            tensor_data_offset=header.data_offset if header else None,
            max_bytes=limits.max_model_bytes,
            size_hint=size,
        ).values
    except MediaError as exc:
        parts.error(exc, "fingerprints")
        fingerprints = {}
    return _assemble(
        name,
        model_format,
        size,
        fingerprints,
        header,
        pickle,
        parts,
        limits,
        prompt_filter,
    )


def _torch_zip(
    stream: t.BinaryIO, limits: ModelLimits, parts: _Parts
) -> PickleScan | None:
    try:
        scan = scan_torch_zip(stream, limits)
    except MediaError as exc:
        parts.error(exc, "zip")
        return None
    parts.findings.extend(scan.findings)
    parts.errors.extend(scan.errors)
    parts.details["zip_members"] = scan.members
    parts.details["pickle_members"] = list(scan.pickle_members)
    return scan.pickle


def _archive(
    stream: t.BinaryIO, limits: ModelLimits, parts: _Parts
) -> PickleScan | None:
    try:
        scan = scan_archive(stream, limits)
    except MediaError as exc:
        parts.error(exc, "archive")
        return None
    except MissingDependencyError as exc:
        message = f"7z archives need {exc.install}"
        parts.errors.append(ModelError(DEPENDENCY_UNAVAILABLE, message, "archive"))
        return None
    parts.findings.extend(scan.findings)
    parts.errors.extend(scan.errors)
    parts.details["archive"] = scan.kind
    parts.details["archive_members"] = scan.members
    parts.details["pickle_members"] = list(scan.pickle_members)
    return scan.pickle


def _numpy(stream: t.BinaryIO, size: int, limits: ModelLimits) -> PickleScan:
    """The pickle of a .npy object array, walked from the end of the array header."""
    stream.seek(0)
    offset = npy_pickle_offset(stream.read(SNIFF_HEAD_BYTES)) or 0
    collector = PickleCollector(limits)
    stream.seek(offset)
    collector.walk_stream(stream, size, "array")
    return collector.result()


def _compressed(stream: t.BinaryIO, limits: ModelLimits) -> PickleScan:
    collector = PickleCollector(limits)
    cap = limits.max_pickle_member_bytes
    stream.seek(0)
    try:
        data = decompress(stream, cap)
    except ModelArchiveError as exc:
        collector.errors.append(ModelError(exc.reason, exc.message, "compressed"))
        return collector.result()
    if not walk_payload(data, collector, "compressed", limits):
        message = "the decompressed content is not a pickle"
        collector.errors.append(ModelError(ModelArchiveError.reason, message))
    return collector.result()


def _gguf_details(stream: t.BinaryIO) -> dict[str, JSONValue]:
    stream.seek(0)
    head = stream.read(_GGUF_HEADER)
    if len(head) < _GGUF_HEADER:
        return {"gguf_version": int.from_bytes(head[4:8], "little")}
    return {
        "gguf_version": int.from_bytes(head[4:8], "little"),
        "gguf_tensors": int.from_bytes(head[8:16], "little"),
        "gguf_metadata_entries": int.from_bytes(head[16:24], "little"),
    }


def _assemble(
    name: str,
    model_format: ModelFormat,
    size: int,
    fingerprints: t.Mapping[str, str],
    header: SafetensorsHeader | None,
    pickle: PickleScan | None,
    parts: _Parts,
    limits: ModelLimits,
    prompt_filter: PromptFilter | None,
) -> ModelReport:
    training: TrainingInfo | None = None
    thumbnail: EmbeddedImage | None = None
    metadata: dict[str, str] = {}
    if pickle is not None:  # the report's lists are the flat view of every part
        parts.findings.extend(pickle.findings)
        parts.errors.extend(pickle.errors)
    if header is not None:
        training, training_findings = read_training(header.metadata, limits)
        parts.findings.extend(training_findings)
        thumbnail = _thumbnail(header.metadata, limits, parts)
        metadata = _displayed_metadata(header.metadata)
        _check_embedded_hash(training, fingerprints, parts)
    try:
        risk = assess_model(
            training,
            shadowed=header.shadowed if header else (),
            prompt_filter=prompt_filter,
        )
    except MediaError as exc:
        parts.error(exc, "risk")
        risk = unknown_risk("the risk assessment failed")
    return ModelReport(
        path=name,
        format=model_format,
        size=size,
        fingerprints=fingerprints,
        risk=risk,
        metadata=metadata,
        training=training,
        tensors=_tensor_summary(header) if header else None,
        pickle=pickle,
        thumbnail=thumbnail,
        details=parts.details,
        findings=tuple(parts.findings),
        errors=tuple(parts.errors),
    )


def _thumbnail(
    metadata: t.Mapping[str, str], limits: ModelLimits, parts: _Parts
) -> EmbeddedImage | None:
    try:
        return inspect_thumbnail(metadata, limits)
    except MediaError as exc:
        parts.error(exc, MODELSPEC_THUMBNAIL)
        return None


def _displayed_metadata(metadata: t.Mapping[str, str]) -> dict[str, str]:
    """Metadata as reported: image data is replaced by a note (no content bytes)."""
    shown = dict(metadata)
    if MODELSPEC_THUMBNAIL in shown:
        value = shown[MODELSPEC_THUMBNAIL]
        shown[MODELSPEC_THUMBNAIL] = _THUMBNAIL_PLACEHOLDER.format(size=len(value))
    return shown


def _check_embedded_hash(
    training: TrainingInfo, fingerprints: t.Mapping[str, str], parts: _Parts
) -> None:
    embedded, actual = training.sshs_model_hash, fingerprints.get(TENSOR_SHA256)
    if embedded and actual and embedded != actual:
        parts.findings.append(
            Finding(
                "sshs_hash_mismatch",
                Severity.INFO,
                "the tensor data differs from what the trainer hashed "
                "(sshs_model_hash): merged, pruned, converted or relabelled",
                "sshs_model_hash",
            )
        )


def _tensor_summary(header: SafetensorsHeader) -> TensorSummary:
    return TensorSummary(
        count=len(header.tensors),
        parameters=header.parameters,
        dtypes=header.dtype_counts(),
        kind_hint=_kind_hint([tensor.name for tensor in header.tensors]),
    )


def _kind_hint(names: list[str]) -> str:
    """What tensor names suggest: LoRA and LyCORIS keys follow kohya and LyCORIS
    naming; embeddings are a few tensors named for the text encoders."""
    if not names:
        return "empty"
    lowered = [name.lower() for name in names]
    if any(part in name for name in lowered for part in ("hada_", "lokr_")):
        return "lycoris"
    if any("lora_" in name or ".lora." in name for name in lowered):
        return "lora"
    if len(names) <= 4 and set(lowered) <= {
        "emb_params",
        "clip_l",
        "clip_g",
        "string_to_param",
    }:
        return "embedding"
    return "checkpoint"
