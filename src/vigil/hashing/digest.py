"""One read of a file feeds every stream hasher at once.

Separate from the hashers themselves: this is the I/O loop, with its size limit, and the
place that keeps the first bytes (for sniffing) and, for small files, the whole content
(so an image is decoded without reading the file a second time).
"""

import dataclasses
import typing as t

from vigil.hashing.base import StreamHasher, StreamState
from vigil.media.base import MIB
from vigil.media.errors import FileTooLargeError

HEAD_BYTES = 4096  # enough for every signature the sniffer checks
DEFAULT_CHUNK_BYTES = 1 * MIB  # large enough that hashlib, not Python, dominates


@dataclasses.dataclass(frozen=True)
class Digest:
    """The stream hashers' values for one file, and what was kept of its bytes."""

    values: dict[str, str]  # hasher name -> lower-case hex
    size: int
    head: bytes  # the first HEAD_BYTES bytes (fewer for a shorter file)
    data: bytes | None  # the whole content when size <= keep_bytes_up_to, else None


def digest_stream(
    stream: t.BinaryIO,
    hashers: t.Sequence[StreamHasher],
    *,
    max_bytes: int,
    keep_bytes_up_to: int = 0,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> Digest:
    """Read `stream` once, to its end, feeding every hasher.

    Args:
        stream: read from its current position; never seeked.
        hashers: stream hashers with distinct names.
        max_bytes: refuse a stream longer than this.
        keep_bytes_up_to: keep the whole content when it is at most this long.
        chunk_bytes: read size.

    Raises:
        FileTooLargeError: the stream is longer than `max_bytes`; reading stops as soon
            as the limit is passed.
        ValueError: two hashers share a name, or `chunk_bytes` is not positive.
    """
    if chunk_bytes <= 0:
        raise ValueError("chunk_bytes must be positive")
    states = _new_states(hashers)
    size = 0
    head = bytearray()
    kept: list[bytes] | None = []
    while chunk := stream.read(chunk_bytes):
        size += len(chunk)
        if size > max_bytes:
            raise FileTooLargeError(f"over the {max_bytes}-byte limit")
        for state in states.values():
            state.update(chunk)
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
        if kept is not None:
            if size <= keep_bytes_up_to:
                kept.append(chunk)
            else:
                kept = None  # too large to keep: release what was held
    return Digest(
        values={name: state.hexdigest() for name, state in states.items()},
        size=size,
        head=bytes(head),
        data=b"".join(kept) if kept is not None else None,
    )


def digest_bytes(data: bytes, hashers: t.Sequence[StreamHasher]) -> dict[str, str]:
    """Every hasher's value for bytes already in memory (an archive member)."""
    states = _new_states(hashers)
    for state in states.values():
        state.update(data)
    return {name: state.hexdigest() for name, state in states.items()}


def _new_states(hashers: t.Sequence[StreamHasher]) -> dict[str, StreamState]:
    states = {hasher.name: hasher.new() for hasher in hashers}
    if len(states) != len(hashers):
        raise ValueError("stream hashers must have distinct names")
    return states
