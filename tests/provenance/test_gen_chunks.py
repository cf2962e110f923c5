"""The shared readers: PNG text chunks (with caps and bombs), EXIF UserComment
decoding, bounded inflation and JSON caps."""

import gzip
import zlib

import hypothesis.strategies as st
import pytest
from gen_builders import chunk, png, run, with_chunks
from hypothesis import given, settings

from vigil.media.errors import MetadataError
from vigil.provenance.base import MAX_METADATA_BYTES
from vigil.provenance.generators._chunks import (
    MAX_PNG_TEXT_CHUNKS,
    PNG_SIGNATURE,
    decode_user_comment,
    walk_png,
)
from vigil.provenance.generators._decode import (
    GZIP_WBITS,
    MAX_JSON_DEPTH,
    inflate_limited,
    load_json,
)
from vigil.provenance.generators.a1111 import A1111Extractor

PARAMS = "a red kite\nSteps: 9, Sampler: Euler, Seed: 42, Size: 8x8"


def test_walks_text_ztxt_itxt_and_exif_chunks() -> None:
    data = png(
        text={"tEXt-key": "plain"},
        ztxt={"zTXt-key": "squeezed"},
        itxt={"iTXt-key": "ünïcode"},
    )
    data = with_chunks(data, [chunk(b"eXIf", b"MM\x00*\x00\x00\x00\x08\x00\x00")])
    fields, exif = walk_png(data)
    assert {k: f.value() for k, f in fields.items()} == {
        "tEXt-key": "plain",
        "zTXt-key": "squeezed",
        "iTXt-key": "ünïcode",
    }
    assert exif == b"MM\x00*\x00\x00\x00\x08\x00\x00"


def test_utf8_in_text_chunks_and_latin1_fallback() -> None:
    data = with_chunks(
        png(),
        [chunk(b"tEXt", b"a\x00caf\xc3\xa9"), chunk(b"tEXt", b"b\x00caf\xe9")],
    )
    fields, _ = walk_png(data)
    assert (fields["a"].value(), fields["b"].value()) == ("café", "café")


def test_ztxt_bomb_is_an_error_only_for_that_field() -> None:
    bomb = zlib.compress(b"A" * (MAX_METADATA_BYTES + 1024), 9)
    data = with_chunks(
        png(text={"parameters": PARAMS}),
        [chunk(b"zTXt", b"big\x00\x00" + bomb)],
    )
    fields, _ = walk_png(data)
    assert fields["parameters"].value() == PARAMS
    with pytest.raises(MetadataError, match="inflates past"):
        fields["big"].value()


def test_malformed_parameters_chunk_becomes_an_error_record() -> None:
    data = with_chunks(png(), [chunk(b"zTXt", b"parameters\x00\x00not zlib")])
    found = run(data, [A1111Extractor()])
    assert found.evidence == ()
    assert [e.reason for e in found.errors] == ["malformed_metadata"]


def test_oversized_text_chunk_is_refused() -> None:
    body = b"parameters\x00" + b"x" * (MAX_METADATA_BYTES + 1)
    fields, _ = walk_png(with_chunks(png(), [chunk(b"tEXt", body)]))
    with pytest.raises(MetadataError, match="over"):
        fields["parameters"].value()


def test_text_chunk_count_is_capped() -> None:
    extra = [
        chunk(b"tEXt", f"k{i}\x00v".encode()) for i in range(MAX_PNG_TEXT_CHUNKS + 5)
    ]
    fields, _ = walk_png(with_chunks(png(), extra))
    assert len(fields) == MAX_PNG_TEXT_CHUNKS


def test_truncated_png_keeps_what_was_read() -> None:
    data = png(text={"parameters": PARAMS})
    at = data.index(b"IDAT")
    fields, _ = walk_png(data[: at + 10])
    assert fields["parameters"].value() == PARAMS
    assert walk_png(b"not a png") == ({}, None)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_walk_never_raises_on_garbage(body: bytes) -> None:
    fields, _ = walk_png(PNG_SIGNATURE + body)
    for field in fields.values():
        assert field.text is not None or field.error is not None


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_extractors_survive_garbage_after_a_png_header(body: bytes) -> None:
    found = run(PNG_SIGNATURE + body)
    assert all(e.reason != "extractor_failed" for e in found.errors)


@pytest.mark.parametrize(
    ("raw", "endian", "text"),
    [
        (b"UNICODE\x00" + "Steps: 5".encode("utf-16-be"), "<", "Steps: 5"),
        (b"UNICODE\x00" + "Steps: 5".encode("utf-16-le"), ">", "Steps: 5"),
        (b"UNICODE\x00\xfe\xff" + "日本".encode("utf-16-be"), "<", "日本"),
        (b"UNICODE\x00" + "日本".encode("utf-16-le"), "<", "日本"),
        (b"UNICODE\x00" + "日本".encode("utf-16-be"), ">", "日本"),
        (b"ASCII\x00\x00\x00Steps: 5", "<", "Steps: 5"),
        (b"\x00" * 8 + b"Steps: 5", "<", "Steps: 5"),
        (b"no prefix", "<", "no prefix"),
    ],
)
def test_user_comment_decoding(raw: bytes, endian: str, text: str) -> None:
    assert decode_user_comment(raw, endian) == text


def test_inflate_limits() -> None:
    assert inflate_limited(zlib.compress(b"abc")) == b"abc"
    assert inflate_limited(gzip.compress(b"abc"), wbits=GZIP_WBITS) == b"abc"
    with pytest.raises(MetadataError, match="inflates past"):
        inflate_limited(zlib.compress(b"\x00" * 5000), limit=4000)
    with pytest.raises(MetadataError, match="truncated"):
        inflate_limited(zlib.compress(b"abcdef" * 100)[:-8])
    with pytest.raises(MetadataError, match="corrupt"):
        inflate_limited(b"\x78\x9c garbage")


def test_json_caps() -> None:
    assert load_json('{"a": [1, {"b": 2}]}', "t") == {"a": [1, {"b": 2}]}
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert load_json(at_limit, "t") is not None
    with pytest.raises(MetadataError, match="deeper"):
        load_json("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), "t")
    with pytest.raises(MetadataError, match="nested too deeply|deeper"):
        load_json("[" * 100_000 + "]" * 100_000, "t")
    with pytest.raises(MetadataError, match="not valid JSON"):
        load_json("{", "t")
    with pytest.raises(MetadataError, match="over"):
        load_json(" " * (MAX_METADATA_BYTES + 1), "t")
