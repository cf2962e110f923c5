"""Model fingerprints the model-sharing ecosystem uses, all in one read of the file.

Definitions (values are lower-case hex; sharing sites often print them upper-case):
- `autov1`: A1111's legacy `model_hash`, SHA-256 of the 0x10000 bytes at offset
  0x100000, first 8 hex (fewer or no bytes for a short file, as A1111 reads them).
- `autov2`: first 10 hex of the file's SHA-256 (A1111 `Model hash` since 2023).
- `autov3`: first 12 hex of the SHA-256 of a safetensors file's tensor data, after the
  8-byte length and the JSON header (sd-webui-additional-networks / kohya `sshs_` hash,
  A1111 `Lora hashes`, Civitai AutoV3). Metadata edits do not change it.
- `tensor_sha256`: that SHA-256 in full (what kohya stores as `sshs_model_hash`).
- `sha256`, `blake3` (32-byte output), `crc32` (zlib CRC-32, 8 hex, lower-case).

Speed: each hash runs in its own thread fed from one reader through bounded queues;
`hashlib`, `blake3` and `zlib.crc32` release the GIL on large buffers, so the hashes
run side by side and the slowest one, not their sum, sets the pace.
"""

import dataclasses
import hashlib
import io
import queue
import threading
import typing as t
import zlib

import blake3

from vigil.hashing.model import ModelHash, ModelHashKind
from vigil.media.errors import FileTooLargeError

MIB = 1024 * 1024

CRC32 = "crc32"
TENSOR_SHA256 = "tensor_sha256"
#: Every key `Fingerprints.values` can hold, in report order.
FINGERPRINT_KINDS = (
    ModelHashKind.AUTOV1.value,
    ModelHashKind.AUTOV2.value,
    ModelHashKind.AUTOV3.value,
    ModelHashKind.SHA256.value,
    ModelHashKind.BLAKE3.value,
    CRC32,
    TENSOR_SHA256,
)

# A1111 modules/hashes.py (and kohya sd-scripts `model_hash`): seek(0x100000),
# read(0x10000), sha256, first 8 hex.
AUTOV1_OFFSET = 0x100000
AUTOV1_LENGTH = 0x10000
AUTOV1_HEX = 8
AUTOV2_HEX = 10  # A1111 `Model hash` and Civitai AutoV2
AUTOV3_HEX = 12  # A1111 `Lora hashes` (addnet hash) and Civitai AutoV3

# 8 MiB reads keep per-chunk Python overhead far below hashing time.
DEFAULT_CHUNK_BYTES = 8 * MIB
# Below this, starting threads costs more than it saves: hash inline.
THREADED_MIN_BYTES = 64 * MIB
# Chunks each hash thread may lag behind the reader: bounds memory to about
# QUEUE_DEPTH x chunk size, since the queues share the same chunk objects.
QUEUE_DEPTH = 4


@dataclasses.dataclass(frozen=True)
class Fingerprints:
    """Fingerprints of one file: kind -> lower-case hex (see FINGERPRINT_KINDS)."""

    values: t.Mapping[str, str]
    size: int

    def model_hashes(self) -> tuple[ModelHash, ...]:
        """The values that generation records and model hash lists use."""
        return tuple(
            ModelHash(kind, self.values[kind.value])
            for kind in ModelHashKind
            if kind.value in self.values
        )

    def as_dict(self) -> dict[str, str]:
        return {
            kind: self.values[kind] for kind in FINGERPRINT_KINDS if kind in self.values
        }


class _State(t.Protocol):
    def update(self, data: bytes | memoryview, /) -> object: ...

    def hexdigest(self) -> str: ...


class _CRC32:
    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes | memoryview) -> None:
        self.value = zlib.crc32(data, self.value)

    def hexdigest(self) -> str:
        return f"{self.value:08x}"


class _Worker(threading.Thread):
    """Feeds one hash state from a bounded queue until it reads None."""

    def __init__(self, state: _State) -> None:
        super().__init__(daemon=True)
        self.state = state
        self.inbox: queue.Queue[bytes | memoryview | None] = queue.Queue(QUEUE_DEPTH)

    def run(self) -> None:
        while (data := self.inbox.get()) is not None:
            self.state.update(data)


def fingerprint_stream(
    stream: t.BinaryIO,
    *,
    tensor_data_offset: int | None = None,
    max_bytes: int,
    size_hint: int | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> Fingerprints:
    """Read `stream` from its position to its end once and fingerprint it.

    Args:
        tensor_data_offset: where a safetensors file's tensor data starts (8 + header
            length), counted from the stream position; None for other formats (no
            `autov3`).
        max_bytes: refuse a longer stream.
        size_hint: the expected length; large streams are hashed in threads.
        chunk_bytes: read size.

    Raises:
        FileTooLargeError: the stream is longer than `max_bytes`.
        OSError: a read failed.
    """
    if chunk_bytes <= 0:
        raise ValueError("chunk_bytes must be positive")
    whole = hashlib.sha256()
    tensors = hashlib.sha256() if tensor_data_offset is not None else None
    others: list[_State] = [blake3.blake3(), _CRC32()]
    feeders = _Feeders(
        whole, tensors, others, threaded=(size_hint or 0) >= THREADED_MIN_BYTES
    )
    autov1 = bytearray()
    position = 0
    try:
        while chunk := stream.read(chunk_bytes):
            end = position + len(chunk)
            if end > max_bytes:
                raise FileTooLargeError(f"over the {max_bytes}-byte limit")
            tensor_part: bytes | memoryview | None = None
            if tensor_data_offset is not None and end > tensor_data_offset:
                skip = max(0, tensor_data_offset - position)
                tensor_part = memoryview(chunk)[skip:] if skip else chunk
            feeders.feed(chunk, tensor_part)
            if position < AUTOV1_OFFSET + AUTOV1_LENGTH and end > AUTOV1_OFFSET:
                start = max(0, AUTOV1_OFFSET - position)
                autov1 += chunk[start : AUTOV1_OFFSET + AUTOV1_LENGTH - position]
            position = end
    finally:
        feeders.close()
    full = whole.hexdigest()
    values = {
        ModelHashKind.AUTOV1.value: hashlib.sha256(autov1).hexdigest()[:AUTOV1_HEX],
        ModelHashKind.AUTOV2.value: full[:AUTOV2_HEX],
        ModelHashKind.SHA256.value: full,
        ModelHashKind.BLAKE3.value: others[0].hexdigest(),
        CRC32: others[1].hexdigest(),
    }
    if tensors is not None and tensor_data_offset is not None:
        if tensor_data_offset <= position:
            tensor_hex = tensors.hexdigest()
            values[ModelHashKind.AUTOV3.value] = tensor_hex[:AUTOV3_HEX]
            values[TENSOR_SHA256] = tensor_hex
    return Fingerprints(values=values, size=position)


def fingerprint_bytes(
    data: bytes, *, tensor_data_offset: int | None = None
) -> Fingerprints:
    """Fingerprints of bytes already in memory."""
    return fingerprint_stream(
        io.BytesIO(data), tensor_data_offset=tensor_data_offset, max_bytes=len(data)
    )


class _Feeders:
    """Sends each chunk to every hash state, inline or through worker threads."""

    def __init__(
        self,
        whole: _State,
        tensors: _State | None,
        others: list[_State],
        *,
        threaded: bool,
    ) -> None:
        self.whole = whole
        self.tensors = tensors
        self.others = others
        self.workers: dict[int, _Worker] = {}
        if threaded:
            states = [whole, *([tensors] if tensors is not None else []), *others]
            for state in states:
                worker = _Worker(state)
                worker.start()
                self.workers[id(state)] = worker

    def feed(self, chunk: bytes, tensor_part: bytes | memoryview | None) -> None:
        self._send(self.whole, chunk)
        if self.tensors is not None and tensor_part is not None:
            self._send(self.tensors, tensor_part)
        for state in self.others:
            self._send(state, chunk)

    def _send(self, state: _State, data: bytes | memoryview) -> None:
        worker = self.workers.get(id(state))
        if worker is None:
            state.update(data)
        else:
            worker.inbox.put(data)

    def close(self) -> None:
        """Stop every worker after it has hashed what it was sent."""
        for worker in self.workers.values():
            worker.inbox.put(None)
        for worker in self.workers.values():
            worker.join()
