"""Model-file sniffing: decide a `ModelFormat` by content, never by name.

Builds on `vigil.media.sniff` (safetensors, zip -> PyTorch zip, protocol 2+ pickles)
and adds what only models need: pickles without a PROTO 2+ header (recognised by an
opcode walk, `embedded`), .npy object arrays, compressed pickles, plain archives
with pickle members (`archives`), GGUF (magic and version), ONNX (a protobuf
`ModelProto` whose first fields parse) and diffusers folders (`model_index.json`).
"""

import io
import json
import os
import pathlib
import stat
import struct
import typing as t

from vigil.media.base import MediaKind
from vigil.media.errors import FileVanishedError
from vigil.media.sniff import (
    SAFETENSORS_MAX_HEADER_BYTES,
    SNIFF_BYTES,
    sniff_bytes,
    sniff_stream,
)
from vigil.modelfiles.archives import archive_kind, has_pickle_member
from vigil.modelfiles.base import ModelFormat, ModelLimits
from vigil.modelfiles.embedded import payload_format
from vigil.modelfiles.errors import ModelFileError

GGUF_MAGIC = b"GGUF"
GGUF_VERSIONS = range(1, 4)  # ggml docs/gguf.md: versions 1 to 3 published
DIFFUSERS_INDEX = "model_index.json"
# model_index.json of a diffusers pipeline is a few KB.
MAX_DIFFUSERS_INDEX_BYTES = 1024 * 1024
# ONNX IR versions 1 (2017) to 11 (2024) exist; allow some future ones.
ONNX_MAX_IR_VERSION = 20
# onnx.proto ModelProto fields and their wire types (0 varint, 2 length-delimited).
_ONNX_FIELDS: dict[int, int] = {
    1: 0,  # ir_version
    2: 2,  # producer_name
    3: 2,  # producer_version
    4: 2,  # domain
    5: 0,  # model_version
    6: 2,  # doc_string
    7: 2,  # graph
    8: 2,  # opset_import
    14: 2,  # metadata_props
    20: 2,  # training_info
    25: 2,  # functions
}
_ONNX_TEXT_FIELDS = frozenset({2, 3, 4})
_ONNX_MIN_FIELDS = 2
_ARCHIVE_SNIFF_LIMITS = ModelLimits()
# An oversized safetensors length is followed by the JSON header all the same.
_SAFETENSORS_JSON_STARTS = (b'{"', b"{}", b"{ ", b"{\n")
# Zip local file header (APPNOTE 4.3.7): the name length sits at offset 26.
_LOCAL_HEADER = struct.Struct("<26xH2x")


def sniff_model_bytes(head: bytes, size: int | None = None) -> ModelFormat:
    """The format of a file from its first bytes (`SNIFF_BYTES` are enough).

    A zip is reported as UNKNOWN here: telling a PyTorch zip from another zip needs
    the directory (`sniff_model_stream`).
    """
    kind = sniff_bytes(head)
    if kind is MediaKind.SAFETENSORS or _is_oversized_safetensors(head):
        return ModelFormat.SAFETENSORS
    if kind is MediaKind.PICKLE:
        return ModelFormat.PICKLE
    if kind in (MediaKind.UNKNOWN, MediaKind.GZIP):
        embedded = payload_format(head, size)
        if embedded is not None:
            return embedded
    if archive_kind(head) == "7z":
        return ModelFormat.ARCHIVE  # only its directory tells more
    if _is_gguf(head):
        return ModelFormat.GGUF
    if _is_onnx(head, size):
        return ModelFormat.ONNX
    return ModelFormat.UNKNOWN


def sniff_model_stream(stream: t.BinaryIO) -> ModelFormat:
    """The format of a seekable stream, read from its start."""
    size = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    head = stream.read(SNIFF_BYTES)
    if sniff_bytes(head) is MediaKind.ZIP:
        if sniff_stream(stream) is MediaKind.PYTORCH_ZIP or _opens_torch_zip(head):
            return ModelFormat.PYTORCH_ZIP
    model_format = sniff_model_bytes(head, size)
    if (
        model_format is not ModelFormat.UNKNOWN
        and model_format is not ModelFormat.ARCHIVE
    ):
        return model_format
    if archive_kind(head) is not None:
        # zip, tar (also compressed) and 7z: a model container when a member is a
        # pickle (a 7z that cannot be listed without py7zr counts as one).
        is_container = has_pickle_member(stream, _ARCHIVE_SNIFF_LIMITS)
        return ModelFormat.ARCHIVE if is_container else ModelFormat.UNKNOWN
    return model_format


def sniff_model_path(path: pathlib.Path) -> ModelFormat:
    """The format of a file or folder.

    Raises:
        FileVanishedError: the path cannot be read, or is neither a regular file nor a
            folder (a FIFO or device could block or never end).
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise FileVanishedError(f"cannot read {path.name}: {exc.strerror}") from exc
    if stat.S_ISDIR(mode):
        return (
            ModelFormat.DIFFUSERS if is_diffusers_folder(path) else ModelFormat.UNKNOWN
        )
    if not stat.S_ISREG(mode):
        raise FileVanishedError(f"{path.name} is not a regular file")
    try:
        with open(path, "rb") as stream:
            return sniff_model_stream(stream)
    except OSError as exc:
        raise FileVanishedError(f"cannot read {path.name}: {exc.strerror}") from exc


def is_diffusers_folder(path: pathlib.Path) -> bool:
    """Whether `path` holds a diffusers `model_index.json` naming a pipeline class."""
    try:
        return read_diffusers_index(path) is not None
    except ModelFileError:
        return False


def read_diffusers_index(path: pathlib.Path) -> dict[str, t.Any] | None:
    """The parsed `model_index.json` of a folder; None when there is none.

    Raises:
        ModelFileError: the index is too large, not JSON, or names no pipeline class.
    """
    index = path / DIFFUSERS_INDEX
    try:
        if not index.is_file():
            return None
        with open(index, "rb") as stream:
            raw = stream.read(MAX_DIFFUSERS_INDEX_BYTES + 1)
    except OSError:
        return None
    if len(raw) > MAX_DIFFUSERS_INDEX_BYTES:
        raise ModelFileError(
            f"{DIFFUSERS_INDEX} over {MAX_DIFFUSERS_INDEX_BYTES} bytes"
        )
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"{DIFFUSERS_INDEX} is not JSON: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(
        document.get("_class_name"), str
    ):
        raise ModelFileError(f"{DIFFUSERS_INDEX} names no pipeline class")
    return document


def _is_oversized_safetensors(head: bytes) -> bool:
    """A safetensors length over the reference cap, then the JSON header: still a
    safetensors file, which the header reader refuses as too large."""
    if len(head) < 10 or not head[8:10].startswith(_SAFETENSORS_JSON_STARTS):
        return False
    header_bytes: int = struct.unpack_from("<Q", head)[0]
    return header_bytes > SAFETENSORS_MAX_HEADER_BYTES


def _opens_torch_zip(head: bytes) -> bool:
    """The first local header names `<prefix>/data.pkl`, as torch.save writes it
    first: a checkpoint whose directory is lost (truncated) is still a checkpoint."""
    if len(head) < _LOCAL_HEADER.size:
        return False
    name_bytes = _LOCAL_HEADER.unpack_from(head)[0]
    name = head[_LOCAL_HEADER.size : _LOCAL_HEADER.size + name_bytes]
    prefix, _, rest = name.partition(b"/")
    return bool(prefix) and rest == b"data.pkl"


def _is_gguf(head: bytes) -> bool:
    if len(head) < 8 or not head.startswith(GGUF_MAGIC):
        return False
    return int.from_bytes(head[4:8], "little") in GGUF_VERSIONS


def _is_onnx(head: bytes, size: int | None) -> bool:
    """The head parses as ModelProto fields, starting with a plausible ir_version."""
    position, fields = 0, 0
    limit = size if size is not None else None
    while position < len(head):
        tag, position = _varint(head, position)
        if tag is None:
            break
        number, wire = tag >> 3, tag & 7
        if _ONNX_FIELDS.get(number) != wire or (fields == 0 and number != 1):
            return False
        value, position = _varint(head, position)
        if value is None:
            break
        if number == 1 and not 1 <= value <= ONNX_MAX_IR_VERSION:
            return False
        if wire == 2:
            if limit is not None and position + value > limit:
                return False
            if number in _ONNX_TEXT_FIELDS and position + value <= len(head):
                try:
                    head[position : position + value].decode("utf-8")
                except UnicodeDecodeError:
                    return False
            position += value
        fields += 1
    return fields >= _ONNX_MIN_FIELDS


def _varint(data: bytes, position: int) -> tuple[int | None, int]:
    value, shift = 0, 0
    while position < len(data) and shift < 64:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
    return None, position
