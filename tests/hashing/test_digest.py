"""One read of a stream feeds every stream hasher; limits and kept bytes."""

import hashlib
import io
import typing as t

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.hashing.base import StreamHasher
from vigil.hashing.crypto import MD5Hasher, SHA1Hasher, SHA256Hasher
from vigil.hashing.digest import HEAD_BYTES, digest_bytes, digest_stream
from vigil.media.errors import FileTooLargeError

HASHERS: list[StreamHasher] = [MD5Hasher(), SHA1Hasher(), SHA256Hasher()]


class CountingStream(io.RawIOBase):
    """A readable stream that records every read and refuses to seek."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)
        self.read_calls = 0
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def seek(self, *_args: int) -> int:
        raise AssertionError("digest_stream must not seek")

    def read(self, size: int | None = -1) -> bytes:
        self.read_calls += 1
        chunk = self._inner.read(size)
        self.bytes_read += len(chunk)
        return chunk


def _expected(data: bytes) -> dict[str, str]:
    return {
        name: hashlib.new(name, data).hexdigest() for name in ("md5", "sha1", "sha256")
    }


def _payload(size: int) -> bytes:
    return bytes((i * 7 + i // 251) % 256 for i in range(size))


def test_one_read_feeds_all_hashers() -> None:
    data = _payload(10_000)
    stream = CountingStream(data)
    digest = digest_stream(
        t.cast(t.BinaryIO, stream), HASHERS, max_bytes=1 << 20, chunk_bytes=3000
    )
    assert digest.values == _expected(data)
    assert digest.size == len(data)
    assert stream.bytes_read == len(data)  # every byte read exactly once
    assert stream.read_calls == 5  # 4 chunks (3000, 3000, 3000, 1000) and the end
    assert digest.head == data[:HEAD_BYTES]
    assert digest.data is None  # keep_bytes_up_to defaults to 0


def test_keeps_content_up_to_the_limit() -> None:
    data = _payload(5000)
    kept = digest_stream(
        io.BytesIO(data),
        HASHERS,
        max_bytes=10_000,
        keep_bytes_up_to=5000,
        chunk_bytes=64,
    )
    assert kept.data == data
    dropped = digest_stream(
        io.BytesIO(data),
        HASHERS,
        max_bytes=10_000,
        keep_bytes_up_to=4999,
        chunk_bytes=64,
    )
    assert dropped.data is None
    assert dropped.values == kept.values == _expected(data)


def test_short_file_head_is_whole_file() -> None:
    digest = digest_stream(io.BytesIO(b"GIF89a"), HASHERS, max_bytes=100)
    assert digest.head == b"GIF89a"
    assert digest.size == 6


def test_empty_stream() -> None:
    digest = digest_stream(io.BytesIO(b""), HASHERS, max_bytes=0, keep_bytes_up_to=10)
    assert digest.size == 0
    assert digest.head == b""
    assert digest.data == b""
    assert digest.values == _expected(b"")


def test_too_large_stops_reading_early() -> None:
    data = _payload(100_000)
    stream = CountingStream(data)
    with pytest.raises(FileTooLargeError) as raised:
        digest_stream(
            t.cast(t.BinaryIO, stream), HASHERS, max_bytes=10_000, chunk_bytes=4096
        )
    assert raised.value.reason == "file_too_large"
    assert stream.bytes_read <= 10_000 + 4096


def test_exactly_max_bytes_is_accepted() -> None:
    data = _payload(4096)
    digest = digest_stream(io.BytesIO(data), HASHERS, max_bytes=4096, chunk_bytes=1000)
    assert digest.size == 4096


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(ValueError, match="distinct"):
        digest_stream(io.BytesIO(b"x"), [MD5Hasher(), MD5Hasher()], max_bytes=10)
    with pytest.raises(ValueError, match="distinct"):
        digest_bytes(b"x", [SHA1Hasher(), SHA1Hasher()])


def test_digest_bytes_matches_hashlib() -> None:
    data = _payload(3333)
    assert digest_bytes(data, HASHERS) == _expected(data)
    assert digest_bytes(data, [SHA256Hasher()]) == {
        "sha256": hashlib.sha256(data).hexdigest()
    }


@settings(max_examples=50, deadline=None)
@given(data=st.binary(max_size=5000), chunk_bytes=st.integers(1, 700))
def test_any_chunking_gives_hashlib_values(data: bytes, chunk_bytes: int) -> None:
    digest = digest_stream(
        io.BytesIO(data),
        HASHERS,
        max_bytes=len(data),
        keep_bytes_up_to=len(data),
        chunk_bytes=chunk_bytes,
    )
    assert digest.values == _expected(data) == digest_bytes(data, HASHERS)
    assert digest.data == data
    assert digest.head == data[:HEAD_BYTES]
