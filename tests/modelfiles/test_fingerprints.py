"""Model fingerprints: published test vectors, the A1111/Civitai definitions, and the
threaded one-pass reader agreeing with one-shot hashing."""

import hashlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_builders import safetensors_bytes

from vigil.hashing.model import ModelHash, ModelHashKind
from vigil.matching.base import normalise_hash
from vigil.media.errors import FileTooLargeError
from vigil.modelfiles.fingerprints import (
    AUTOV1_LENGTH,
    AUTOV1_OFFSET,
    fingerprint_bytes,
    fingerprint_stream,
)
from vigil.modelfiles.safetensors import read_header

# The BLAKE3 reference test vectors (BLAKE3-team/BLAKE3 test_vectors.json) hash
# inputs of `i % 251` bytes.
BLAKE3_VECTORS = {
    0: "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
    1: "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213",
    1024: "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7",
}
# FIPS 180-2 example "abc"; the CRC-32 check value of "123456789" (Rocksoft model).
SHA256_ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
CRC32_CHECK = "cbf43926"
# A 0x120000-byte `i % 251` pattern, hashed with coreutils and gzip (independent of
# Python): `sha256sum`, `dd bs=65536 skip=16 count=1 | sha256sum` (AutoV1 window) and
# the CRC-32 in the gzip trailer.
PATTERN_BYTES = 0x120000
PATTERN_SHA256 = "53707f2881b58d19e2c2b18a0a63102e75b30cd965af2cb892a6a79eeafb36f5"
PATTERN_AUTOV1 = "15ffd73b"
PATTERN_CRC32 = "41e79145"


def pattern(length: int) -> bytes:
    return bytes(i % 251 for i in range(length))


@pytest.mark.parametrize(("length", "expected"), BLAKE3_VECTORS.items())
def test_blake3_reference_vectors(length: int, expected: str) -> None:
    data = pattern(length)
    assert fingerprint_bytes(data).values["blake3"] == expected
    streamed = fingerprint_stream(io.BytesIO(data), max_bytes=length, chunk_bytes=100)
    assert streamed.values["blake3"] == expected


def test_sha256_and_crc32_vectors() -> None:
    assert fingerprint_bytes(b"abc").values["sha256"] == SHA256_ABC
    assert fingerprint_bytes(b"abc").values["autov2"] == SHA256_ABC[:10]
    assert fingerprint_bytes(b"123456789").values["crc32"] == CRC32_CHECK


def test_pattern_file_matches_coreutils_and_gzip() -> None:
    values = fingerprint_bytes(pattern(PATTERN_BYTES)).values
    assert values["sha256"] == PATTERN_SHA256
    assert values["autov2"] == PATTERN_SHA256[:10]
    assert values["autov1"] == PATTERN_AUTOV1
    assert values["crc32"] == PATTERN_CRC32
    assert "autov3" not in values  # not a safetensors file


def test_autov1_reads_what_a1111_reads_from_short_files() -> None:
    # A1111 seeks to 1 MiB and hashes whatever it reads: nothing for a short file.
    assert (
        fingerprint_bytes(b"short").values["autov1"] == hashlib.sha256().hexdigest()[:8]
    )
    data = pattern(AUTOV1_OFFSET + 100)
    expected = hashlib.sha256(data[AUTOV1_OFFSET:]).hexdigest()[:8]
    assert fingerprint_bytes(data).values["autov1"] == expected


def test_autov3_hashes_tensor_data_only() -> None:
    tensors = {"a": ("F32", [8, 8]), "b": ("F16", [3])}
    first = safetensors_bytes(tensors, {"ss_output_name": "one"})
    second = safetensors_bytes(tensors, {"ss_output_name": "two", "extra": "x" * 50})
    prints = []
    for data in (first, second):
        header = read_header(io.BytesIO(data), len(data))
        values = fingerprint_bytes(data, tensor_data_offset=header.data_offset).values
        tensor_hash = hashlib.sha256(data[header.data_offset :]).hexdigest()
        assert values["tensor_sha256"] == tensor_hash
        assert values["autov3"] == tensor_hash[:12]
        prints.append(values)
    assert prints[0]["autov3"] == prints[1]["autov3"]  # metadata edits keep AutoV3
    assert prints[0]["autov2"] != prints[1]["autov2"]


def test_model_hashes_feed_generation_records_and_hash_lists() -> None:
    data = safetensors_bytes(metadata={"k": "v"})
    header = read_header(io.BytesIO(data), len(data))
    prints = fingerprint_bytes(data, tensor_data_offset=header.data_offset)
    hashes = {h.kind: h.value for h in prints.model_hashes()}
    assert set(hashes) == set(ModelHashKind)
    # A1111 writes "Model hash: <autov2>" and "Lora hashes: name: <autov3>",
    # upper- or lower-case; hash lists normalise both.
    for kind, value in hashes.items():
        assert normalise_hash(kind.value, value.upper()) == value
        assert ModelHash(kind, value).as_dict() == {"kind": kind.value, "value": value}
    assert normalise_hash("crc32", prints.values["crc32"]) == prints.values["crc32"]


def test_size_limit() -> None:
    with pytest.raises(FileTooLargeError):
        fingerprint_stream(io.BytesIO(b"x" * 100), max_bytes=99, chunk_bytes=10)


@settings(max_examples=60, deadline=None)
@given(
    length=st.integers(min_value=0, max_value=AUTOV1_OFFSET + AUTOV1_LENGTH + 5000),
    offset=st.integers(min_value=0, max_value=4000),
    chunk=st.integers(min_value=1, max_value=300_000),
    threaded=st.booleans(),
)
def test_streaming_equals_one_shot(
    length: int, offset: int, chunk: int, threaded: bool
) -> None:
    data = pattern(length)
    prints = fingerprint_stream(
        io.BytesIO(data),
        tensor_data_offset=offset,
        max_bytes=length,
        chunk_bytes=chunk,
        size_hint=(1 << 40) if threaded else 0,
    )
    whole = hashlib.sha256(data).hexdigest()
    window = data[AUTOV1_OFFSET : AUTOV1_OFFSET + AUTOV1_LENGTH]
    assert prints.size == length
    assert prints.values["sha256"] == whole
    assert prints.values["autov1"] == hashlib.sha256(window).hexdigest()[:8]
    if offset <= length:
        tensors = hashlib.sha256(data[offset:]).hexdigest()
        assert prints.values["tensor_sha256"] == tensors
    else:
        assert "autov3" not in prints.values
