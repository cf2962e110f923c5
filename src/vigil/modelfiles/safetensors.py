"""Strict reading of a safetensors header: length, JSON, tensor layout, metadata.

The layout rules follow the reference implementation (huggingface/safetensors): an
8-byte little-endian header length no larger than 100,000,000, a UTF-8 JSON object,
tensor entries of `dtype`, `shape` and `data_offsets` whose byte ranges lie inside
the data and do not overlap, and `__metadata__` as a map of strings. Where the
reference loader refuses a file but the file still says something (duplicate keys,
bytes no tensor claims, non-string metadata), the reader records a finding and goes
on: an examiner wants to see what such a file carries and why it is odd.
"""

import dataclasses
import json
import struct
import typing as t

from vigil.modelfiles.base import Finding, ModelLimits, Severity
from vigil.modelfiles.errors import (
    HeaderFormatError,
    HeaderOutOfBoundsError,
    HeaderTooLargeError,
    TensorLayoutError,
)

LENGTH_BYTES = 8
METADATA_KEY = "__metadata__"
_TENSOR_KEYS = frozenset({"dtype", "shape", "data_offsets"})
# Bits per element of the dtypes safetensors defines (huggingface/safetensors `Dtype`).
DTYPE_BITS: dict[str, int] = {
    "BOOL": 8,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "C64": 64,
    "F64": 64,
    "I64": 64,
    "U64": 64,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
}
# JSON objects and arrays allowed per tensor (entry, shape, offsets) before parsing,
# plus room for metadata: bounds the parsed size of a hostile header.
_CONTAINERS_PER_TENSOR = 3
_CONTAINERS_SLACK = 100_000


@dataclasses.dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: str
    shape: tuple[int, ...]
    begin: int  # offsets into the data that follows the header
    end: int


@dataclasses.dataclass(frozen=True)
class SafetensorsHeader:
    """A validated header. `shadowed` holds (key, value) pairs that a duplicate key
    hid from a last-wins JSON parser, so nothing a file carries goes unread."""

    header_bytes: int
    data_offset: int  # 8 + header_bytes: where tensor data starts in the file
    data_bytes: int
    tensors: tuple[TensorEntry, ...]
    metadata: t.Mapping[str, str]
    shadowed: tuple[tuple[str, str], ...]
    findings: tuple[Finding, ...]

    @property
    def parameters(self) -> int:
        total = 0
        for tensor in self.tensors:
            total += _numel(tensor.shape)
        return total

    def dtype_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for tensor in self.tensors:
            counts[tensor.dtype] = counts.get(tensor.dtype, 0) + 1
        return dict(sorted(counts.items()))


def read_header(
    stream: t.BinaryIO, size: int, limits: ModelLimits | None = None
) -> SafetensorsHeader:
    """Read and validate the header of a safetensors file of `size` bytes.

    The stream is read from its start; only the length and the header are read.

    Raises:
        HeaderTooLargeError: the length is over `limits.max_header_bytes`.
        HeaderOutOfBoundsError: the file is too short for its length or header.
        HeaderFormatError: the header is not a JSON object of valid entries.
        TensorLayoutError: offsets out of bounds, overlapping or the wrong size.
    """
    limits = limits or ModelLimits()
    if size < LENGTH_BYTES:
        raise HeaderOutOfBoundsError(f"{size} bytes: too short for the header length")
    stream.seek(0)
    (header_bytes,) = struct.unpack("<Q", stream.read(LENGTH_BYTES))
    if header_bytes > limits.max_header_bytes:
        raise HeaderTooLargeError(
            f"header claims {header_bytes} bytes, over the "
            f"{limits.max_header_bytes}-byte cap"
        )
    if header_bytes > size - LENGTH_BYTES:
        raise HeaderOutOfBoundsError(
            f"header claims {header_bytes} bytes but the file has only "
            f"{size - LENGTH_BYTES} after the length"
        )
    raw = stream.read(header_bytes)
    if len(raw) != header_bytes:
        raise HeaderOutOfBoundsError("file ended inside the header")
    return parse_header(raw, size, limits)


def parse_header(raw: bytes, size: int, limits: ModelLimits) -> SafetensorsHeader:
    """Validate header bytes `raw` of a file of `size` bytes (see `read_header`)."""
    _precheck(raw, limits)
    duplicates: list[tuple[str, t.Any]] = []
    document = _decode_json(raw, duplicates)
    if not isinstance(document, dict):
        raise HeaderFormatError("header is not a JSON object")
    data_offset = LENGTH_BYTES + len(raw)
    data_bytes = size - data_offset
    findings: list[Finding] = []
    metadata = _metadata(document.pop(METADATA_KEY, None), findings)
    tensors = [_tensor(name, entry) for name, entry in document.items()]
    _check_layout(tensors, data_bytes, findings)
    shadowed = tuple((key, _as_text(value)) for key, value in duplicates)
    if duplicates:
        keys = sorted({key for key, _ in duplicates})
        findings.append(
            Finding(
                "duplicate_keys",
                Severity.HIGH,
                "keys appear more than once, so tools disagree on the content: "
                + ", ".join(keys[:20]),
                "header",
            )
        )
    return SafetensorsHeader(
        header_bytes=len(raw),
        data_offset=data_offset,
        data_bytes=data_bytes,
        tensors=tuple(tensors),
        metadata=metadata,
        shadowed=shadowed,
        findings=tuple(findings),
    )


def _precheck(raw: bytes, limits: ModelLimits) -> None:
    """Refuse headers whose parsed form would be huge, before parsing them."""
    if not raw.lstrip(b" \t\r\n").startswith(b"{"):
        raise HeaderFormatError("header does not start with a JSON object")
    tensors = raw.count(b'"data_offsets"')
    if tensors > limits.max_tensors:
        raise HeaderFormatError(f"more than {limits.max_tensors} tensors")
    containers = raw.count(b"{") + raw.count(b"[")
    if containers > limits.max_tensors * _CONTAINERS_PER_TENSOR + _CONTAINERS_SLACK:
        raise HeaderFormatError(f"{containers} JSON objects and arrays: too many")


def _decode_json(raw: bytes, duplicates: list[tuple[str, t.Any]]) -> t.Any:
    def pairs_hook(pairs: list[tuple[str, t.Any]]) -> dict[str, t.Any]:
        result: dict[str, t.Any] = {}
        for key, value in pairs:
            if key in result:
                duplicates.append((key, result[key]))
            result[key] = value
        return result

    def refuse_constant(name: str) -> t.NoReturn:
        raise ValueError(f"{name} is not JSON")

    try:
        text = raw.decode("utf-8")
        return json.loads(
            text, object_pairs_hook=pairs_hook, parse_constant=refuse_constant
        )
    except UnicodeDecodeError as exc:
        raise HeaderFormatError(f"header is not UTF-8: {exc.reason}") from exc
    except RecursionError as exc:
        raise HeaderFormatError("header JSON nests too deeply") from exc
    except ValueError as exc:  # JSONDecodeError, over-long integers, NaN
        raise HeaderFormatError(f"header is not valid JSON: {exc}") from exc


def _metadata(value: t.Any, findings: list[Finding]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise HeaderFormatError("__metadata__ is not a JSON object")
    metadata: dict[str, str] = {}
    coerced: list[str] = []
    for key, item in value.items():
        if not isinstance(item, str):
            coerced.append(key)
        metadata[key] = _as_text(item)
    if coerced:
        findings.append(
            Finding(
                "metadata_not_strings",
                Severity.REVIEW,
                "metadata values that are not strings (the reference loader refuses "
                "the file): " + ", ".join(sorted(coerced)[:20]),
                "header",
            )
        )
    return metadata


def _as_text(value: t.Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _tensor(name: str, entry: t.Any) -> TensorEntry:
    if not isinstance(entry, dict) or set(entry) != _TENSOR_KEYS:
        raise HeaderFormatError(
            f"tensor {name!r} must have exactly dtype, shape and data_offsets"
        )
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(dtype, str):
        raise HeaderFormatError(f"tensor {name!r}: dtype is not a string")
    if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
        raise HeaderFormatError(f"tensor {name!r}: shape is not a list of sizes")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(_is_count(o) for o in offsets)
    ):
        raise HeaderFormatError(f"tensor {name!r}: data_offsets is not [begin, end]")
    begin, end = offsets
    if begin > end:
        raise TensorLayoutError(f"tensor {name!r}: begins after it ends")
    return TensorEntry(name, dtype, tuple(shape), begin, end)


def _is_count(value: t.Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _numel(shape: tuple[int, ...]) -> int:
    count = 1
    for dimension in shape:
        count *= dimension
    return count


def _check_layout(
    tensors: list[TensorEntry], data_bytes: int, findings: list[Finding]
) -> None:
    unknown: set[str] = set()
    for tensor in tensors:
        if tensor.end > data_bytes:
            raise TensorLayoutError(
                f"tensor {tensor.name!r} ends at {tensor.end}, past the "
                f"{data_bytes} bytes of data"
            )
        bits = DTYPE_BITS.get(tensor.dtype)
        if bits is None:
            unknown.add(tensor.dtype)
            continue
        total_bits = _numel(tensor.shape) * bits
        if total_bits % 8 or total_bits // 8 != tensor.end - tensor.begin:
            raise TensorLayoutError(
                f"tensor {tensor.name!r}: {tensor.dtype} {list(tensor.shape)} does "
                f"not fill its {tensor.end - tensor.begin} bytes"
            )
    if unknown:
        findings.append(
            Finding(
                "unknown_dtype",
                Severity.INFO,
                "dtypes this reader does not size: " + ", ".join(sorted(unknown)),
                "header",
            )
        )
    covered = 0
    previous: TensorEntry | None = None
    for tensor in sorted(tensors, key=lambda entry: (entry.begin, entry.end)):
        if previous is not None and tensor.begin < previous.end:
            raise TensorLayoutError(
                f"tensors {previous.name!r} and {tensor.name!r} overlap"
            )
        covered += tensor.end - tensor.begin
        previous = tensor
    if covered != data_bytes:
        findings.append(
            Finding(
                "unreferenced_bytes",
                Severity.REVIEW,
                f"{data_bytes - covered} bytes of data belong to no tensor (the "
                "reference loader refuses this); they can hide other content",
                "data",
            )
        )
