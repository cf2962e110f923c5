"""Strict safetensors header reading: valid files, and every way a header can lie."""

import io
import json
import pathlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_builders import safetensors_bytes

from vigil.modelfiles.base import ModelLimits
from vigil.modelfiles.errors import (
    HeaderFormatError,
    HeaderOutOfBoundsError,
    HeaderTooLargeError,
    ModelFileError,
    TensorLayoutError,
)
from vigil.modelfiles.safetensors import SafetensorsHeader, read_header


def read(data: bytes, limits: ModelLimits | None = None) -> SafetensorsHeader:
    return read_header(io.BytesIO(data), len(data), limits)


def with_header(document: object, data: bytes = b"", raw: bytes | None = None) -> bytes:
    header = raw if raw is not None else json.dumps(document).encode()
    return struct.pack("<Q", len(header)) + header + data


def test_valid_file_with_metadata() -> None:
    metadata = {"ss_output_name": "test", "modelspec.title": "Test"}
    data = safetensors_bytes(
        {"lora_unet_a.lora_down.weight": ("F16", [4, 2]), "b": ("F32", [3])},
        metadata,
    )
    header = read(data)
    assert header.metadata == metadata
    assert [(t.name, t.dtype, t.shape) for t in header.tensors] == [
        ("lora_unet_a.lora_down.weight", "F16", (4, 2)),
        ("b", "F32", (3,)),
    ]
    assert header.data_offset == 8 + header.header_bytes
    assert header.data_bytes == 16 + 12
    assert header.parameters == 11
    assert header.dtype_counts() == {"F16": 1, "F32": 1}
    assert header.findings == ()


def test_header_length_beyond_the_file() -> None:
    data = struct.pack("<Q", 5000) + b'{"a": 1}'
    with pytest.raises(HeaderOutOfBoundsError):
        read(data)


def test_hundred_megabyte_header_claim_in_a_small_file() -> None:
    data = struct.pack("<Q", 100 * 1024 * 1024) + b"{}" + b" " * 64
    with pytest.raises(HeaderTooLargeError):
        read(data)


def test_header_over_the_cap_is_refused_without_reading(tmp_path: pathlib.Path) -> None:
    # A sparse 200 MB file whose header claims 150 MB: refused by the cap, not read.
    path = tmp_path / "big.safetensors"
    with open(path, "wb") as stream:
        stream.write(struct.pack("<Q", 150_000_000) + b"{")
        stream.truncate(200_000_000)
    with open(path, "rb") as stream, pytest.raises(HeaderTooLargeError):
        read_header(stream, path.stat().st_size)


def test_lower_cap_from_limits() -> None:
    data = safetensors_bytes(metadata={"k": "v" * 100})
    with pytest.raises(HeaderTooLargeError):
        read(data, ModelLimits(max_header_bytes=64))


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": ',  # truncated JSON
        b'["not", "an", "object"]',
        b"\xff\xfe{}",  # not UTF-8 (and not starting with {)
        b'{"__metadata__": {"k": "\xff"}}',  # invalid UTF-8 inside
        b'{"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, NaN]}}',
        b'{"t": {"dtype": "F32", "shape": [1]}}',  # missing data_offsets
        b'{"t": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}',
        b'{"t": {"dtype": 5, "shape": [1], "data_offsets": [0, 4]}}',
        b'{"__metadata__": ["list"]}',
        b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # deep nesting
    ],
)
def test_invalid_headers(raw: bytes) -> None:
    with pytest.raises(HeaderFormatError):
        read(with_header(None, data=b"\x00" * 4, raw=raw))


def test_header_with_too_many_tensors() -> None:
    tensors = {f"t{i}": ("U8", [1]) for i in range(20)}
    with pytest.raises(HeaderFormatError, match="tensors"):
        read(safetensors_bytes(tensors), ModelLimits(max_tensors=10))


def f32(shape: list[int], begin: int, end: int) -> dict[str, object]:
    return {"dtype": "F32", "shape": shape, "data_offsets": [begin, end]}


@pytest.mark.parametrize(
    ("document", "data_bytes", "message"),
    [
        ({"a": f32([2], 0, 8), "b": f32([2], 4, 12)}, 12, "overlap"),
        ({"a": f32([2], 0, 8), "b": f32([4], 8, 24)}, 16, "past the"),
        ({"a": f32([1], 8, 4)}, 8, "begins after"),
        ({"a": f32([2], 0, 6)}, 6, "does not fill"),
    ],
)
def test_bad_offsets(
    document: dict[str, object], data_bytes: int, message: str
) -> None:
    with pytest.raises(TensorLayoutError, match=message):
        read(with_header(document, data=b"\x00" * data_bytes))


def test_duplicate_keys_are_flagged_and_shadowed_values_kept() -> None:
    raw = (
        b'{"__metadata__": {"ss_output_name": "hidden name", '
        b'"ss_output_name": "shown name"}, '
        b'"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}'
    )
    header = read(with_header(None, data=b"\x01", raw=raw))
    assert header.metadata["ss_output_name"] == "shown name"
    assert header.shadowed == (("ss_output_name", "hidden name"),)
    assert [f.code for f in header.findings] == ["duplicate_keys"]


def test_unreferenced_bytes_and_odd_metadata_are_findings() -> None:
    document = {
        "__metadata__": {"epochs": 10},
        "w": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]},
        "x": {"dtype": "F8_E8M0", "shape": [1], "data_offsets": [6, 7]},
        "y": {"dtype": "NEW_TYPE", "shape": [1], "data_offsets": [7, 9]},
    }
    header = read(with_header(document, data=b"\x00" * 12))
    codes = {f.code: f for f in header.findings}
    assert set(codes) == {"metadata_not_strings", "unknown_dtype", "unreferenced_bytes"}
    assert codes["unreferenced_bytes"].message.startswith("7 bytes")
    assert header.metadata == {"epochs": "10"}


def test_zero_sized_tensors_may_share_an_offset() -> None:
    document = {
        "a": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]},
        "b": {"dtype": "F32", "shape": [2, 0], "data_offsets": [0, 0]},
        "c": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},
    }
    assert len(read(with_header(document, data=b"\x07")).tensors) == 3


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_mutated_headers_fail_only_with_typed_errors(data: st.DataObject) -> None:
    original = bytearray(
        safetensors_bytes({"a": ("F32", [2, 2]), "b": ("U8", [3])}, {"k": "v"})
    )
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(original) - 1))
        original[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(original)))
    mutated = bytes(original[:cut])
    try:
        header = read(mutated)
    except ModelFileError:
        return
    assert header.data_offset + header.data_bytes == len(mutated)
