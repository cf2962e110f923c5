"""Sniffing by content: every kind from synthesised bytes, lying names, arbitrary input.

All inputs are built here: solid-colour images from Pillow, container heads by hand,
archives with the standard library. Pickles are only ever dumped, never loaded.
"""

import gzip
import io
import json
import os
import pathlib
import pickle
import struct
import tarfile
import zipfile

import pillow_heif
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from vigil.media.base import MediaKind
from vigil.media.errors import FileVanishedError
from vigil.media.sniff import (
    SNIFF_BYTES,
    read_zip_directory_extent,
    sniff_bytes,
    sniff_path,
    sniff_stream,
    sniff_zip_members,
)


def _image(image_format: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (40, 120, 200)).save(buffer, format=image_format)
    return buffer.getvalue()


def _heif() -> bytes:
    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (40, 120, 200)).save(buffer, format="HEIF")
    return buffer.getvalue()


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00" * 32


def _safetensors() -> bytes:
    header = json.dumps(
        {"weight": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}},
        separators=(",", ":"),
    ).encode()
    header += b" " * (-len(header) % 8)  # writers pad the header to 8 bytes
    return struct.pack("<Q", len(header)) + header + b"\x00" * 8


def _zip(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, b"benign")
    return buffer.getvalue()


def _tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        info = tarfile.TarInfo("notes.txt")
        info.size = 5
        archive.addfile(info, io.BytesIO(b"hello"))
    return buffer.getvalue()


PYTORCH_NAMES = ["archive/data.pkl", "archive/data/0", "archive/version"]

KIND_CASES = [
    pytest.param(_image("JPEG"), MediaKind.JPEG, id="jpeg"),
    pytest.param(_image("PNG"), MediaKind.PNG, id="png"),
    pytest.param(_image("WEBP"), MediaKind.WEBP, id="webp"),
    pytest.param(_image("GIF"), MediaKind.GIF, id="gif"),
    pytest.param(_image("BMP"), MediaKind.BMP, id="bmp"),
    pytest.param(_image("TIFF"), MediaKind.TIFF, id="tiff"),
    pytest.param(b"MM\x00*\x00\x00\x00\x08", MediaKind.TIFF, id="tiff-big-endian"),
    pytest.param(b"II+\x00\x08\x00\x00\x00", MediaKind.TIFF, id="bigtiff"),
    pytest.param(_heif(), MediaKind.HEIF, id="heic-pillow-heif"),
    pytest.param(_ftyp(b"avif", b"mif1", b"miaf"), MediaKind.HEIF, id="avif"),
    pytest.param(_ftyp(b"avis", b"msf1"), MediaKind.HEIF, id="avif-sequence"),
    pytest.param(_ftyp(b"miaf", b"heic"), MediaKind.HEIF, id="heif-compatible"),
    pytest.param(_ftyp(b"isom", b"iso2", b"mp41"), MediaKind.VIDEO, id="mp4"),
    pytest.param(_ftyp(b"qt  ", b"qt  "), MediaKind.VIDEO, id="mov"),
    pytest.param(_ftyp(b"3gp5", b"3gp5"), MediaKind.VIDEO, id="3gp"),
    pytest.param(_ftyp(b"M4V ", b"M4V "), MediaKind.VIDEO, id="m4v"),
    pytest.param(b"\x00\x00\x00\x10moov\x00" + b"\x00" * 20, MediaKind.VIDEO, id="qt"),
    pytest.param(b"\x00\x00\x00\x08wide\x00\x01mdat", MediaKind.VIDEO, id="qt-wide"),
    pytest.param(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01", MediaKind.VIDEO, id="mkv"),
    pytest.param(_safetensors(), MediaKind.SAFETENSORS, id="safetensors"),
    pytest.param(
        struct.pack("<Q", 2) + b"{}", MediaKind.SAFETENSORS, id="safetensors-empty"
    ),
    pytest.param(pickle.dumps({"a": 1}, protocol=2), MediaKind.PICKLE, id="pickle2"),
    pytest.param(pickle.dumps({"a": 1}, protocol=4), MediaKind.PICKLE, id="pickle4"),
    pytest.param(pickle.dumps({"a": 1}, protocol=5), MediaKind.PICKLE, id="pickle5"),
    pytest.param(_zip(["notes.txt"]), MediaKind.ZIP, id="zip"),
    pytest.param(_zip([]), MediaKind.ZIP, id="zip-empty"),
    pytest.param(_tar(), MediaKind.TAR, id="tar"),
    pytest.param(gzip.compress(_tar(), mtime=0), MediaKind.GZIP, id="tar-gz"),
    pytest.param(gzip.compress(b"hello", mtime=0), MediaKind.GZIP, id="gzip"),
    pytest.param(b"plain text, nothing more", MediaKind.UNKNOWN, id="text"),
    pytest.param(b"", MediaKind.UNKNOWN, id="empty"),
]


@pytest.mark.parametrize(("data", "kind"), KIND_CASES)
def test_sniff_bytes_types_every_kind(data: bytes, kind: MediaKind) -> None:
    assert sniff_bytes(data[:SNIFF_BYTES]) is kind


@pytest.mark.parametrize(("data", "kind"), KIND_CASES)
def test_sniff_path_agrees_with_sniff_bytes(
    tmp_path: pathlib.Path, data: bytes, kind: MediaKind
) -> None:
    path = tmp_path / "item.bin"
    path.write_bytes(data)
    assert sniff_path(path) is kind


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"BM this is a text file that starts with BM", "bmp without a DIB header"),
        (struct.pack("<Q", 200_000_000) + b'{"a":1}', "safetensors header too long"),
        (struct.pack("<Q", 7) + b'["a",1]', "safetensors header not an object"),
        (struct.pack("<Q", 7) + b'{"a":1x', "safetensors header not closed"),
        (b"\x80\x07junk", "pickle protocol 7 does not exist"),
        (pickle.dumps({"a": 1}, protocol=0), "protocol 0 pickles have no signature"),
        (b"\xff\xd8", "truncated jpeg magic"),
        (b"\x00\x00\x00\x04moov", "quicktime atom smaller than its header"),
    ],
)
def test_near_misses_stay_unknown(data: bytes, why: str) -> None:
    assert sniff_bytes(data) is MediaKind.UNKNOWN, why


def test_png_named_jpg_is_png(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "x.jpg"
    path.write_bytes(_image("PNG"))
    assert sniff_path(path) is MediaKind.PNG


def test_pickle_named_safetensors_is_pickle(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps({"a": 1}, protocol=4))
    assert sniff_path(path) is MediaKind.PICKLE


def test_zero_byte_file_is_unknown(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    assert sniff_path(path) is MediaKind.UNKNOWN


def test_pytorch_zip_is_told_from_a_plain_zip(tmp_path: pathlib.Path) -> None:
    model = tmp_path / "model.zip"
    model.write_bytes(_zip(PYTORCH_NAMES))
    plain = tmp_path / "photos.zip"
    plain.write_bytes(_zip(["photos/a.jpg", "photos/data.pkl"]))
    assert sniff_path(model) is MediaKind.PYTORCH_ZIP
    assert sniff_path(plain) is MediaKind.ZIP
    assert sniff_stream(io.BytesIO(_zip(PYTORCH_NAMES))) is MediaKind.PYTORCH_ZIP


def test_corrupt_zip_stays_zip(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "broken.zip"
    path.write_bytes(_zip(PYTORCH_NAMES)[:60])
    assert sniff_path(path) is MediaKind.ZIP


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (PYTORCH_NAMES, True),
        (["model/data.pkl", "model/.data/version", "model/data/0"], True),
        (["m/data.pkl", "m/constants.pkl", "m/code/m.py", "m/version"], True),
        (["archive/data.pkl"], False),
        (["archive/version", "archive/data/0"], False),
        (["a/data.pkl", "b/version"], False),
        (["data.pkl", "version"], False),
        (["outer/archive/data.pkl", "outer/archive/version"], False),
        ([], False),
    ],
)
def test_sniff_zip_members(names: list[str], expected: bool) -> None:
    assert sniff_zip_members(names) is expected


def test_zip_directory_extent_reads_the_end_record() -> None:
    extent = read_zip_directory_extent(io.BytesIO(_zip(["a", "b", "c"])))
    assert extent is not None
    assert extent.entry_count == 3
    assert extent.directory_bytes == 3 * (46 + 1)  # fixed record plus a 1-byte name
    assert read_zip_directory_extent(io.BytesIO(b"not a zip at all")) is None


def test_missing_file_raises_file_vanished(tmp_path: pathlib.Path) -> None:
    with pytest.raises(FileVanishedError) as caught:
        sniff_path(tmp_path / "gone.jpg")
    assert caught.value.reason == "file_vanished"


def test_folder_raises_file_vanished(tmp_path: pathlib.Path) -> None:
    with pytest.raises(FileVanishedError):
        sniff_path(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs only")
def test_fifo_is_refused_without_blocking(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "pipe.jpg"
    os.mkfifo(path)
    with pytest.raises(FileVanishedError, match="not a regular file"):
        sniff_path(path)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=SNIFF_BYTES))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    assert isinstance(sniff_bytes(data), MediaKind)
    assert isinstance(sniff_stream(io.BytesIO(data)), MediaKind)


MAGICS = [
    b"\xff\xd8\xff",
    b"BM",
    b"RIFF\x00\x00\x00\x00WEBP",
    b"\x00\x00\x00\x18ftyp",
    b"\x00\x00\x00\x08moov",
    b"\x1a\x45\xdf\xa3",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\x1f\x8b\x08",
    b"\x80\x04",
    b"\x10\x00\x00\x00\x00\x00\x00\x00{",
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(MAGICS), st.binary(max_size=600))
def test_arbitrary_bytes_after_a_magic_never_raise(magic: bytes, rest: bytes) -> None:
    assert isinstance(sniff_bytes(magic + rest), MediaKind)
    assert isinstance(sniff_stream(io.BytesIO(magic + rest)), MediaKind)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.integers(min_value=4, max_value=400))
def test_damaged_zips_never_raise(junk: bytes, cut: int) -> None:
    data = _zip(PYTORCH_NAMES)
    damaged = data[:cut] + junk + data[cut + len(junk) :]  # the magic is kept
    assert sniff_stream(io.BytesIO(damaged)) in {MediaKind.ZIP, MediaKind.PYTORCH_ZIP}
