"""Archive walking: nesting and paths, refusals, bomb guards and damaged archives.

Every archive is built here in memory from tiny benign members (solid-colour PNGs, short
text, zeros, seeded random bytes); small `Limits` keep the bomb tests fast.
"""

import datetime as dt
import gzip
import io
import pathlib
import random
import struct
import tarfile
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from vigil.media.archive import (
    GZIP_PAYLOAD_NAME,
    ArchiveMember,
    MemberError,
    walk_archive,
)
from vigil.media.base import MIB, Limits, MediaKind

DEFAULTS = Limits()


def _png(colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _noise(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def _zip(
    members: dict[str, bytes],
    *,
    compression: int = zipfile.ZIP_DEFLATED,
    date_time: tuple[int, int, int, int, int, int] = (2020, 1, 2, 3, 4, 6),
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = compression
            archive.writestr(info, data)
    return buffer.getvalue()


def _tar(members: dict[str, bytes], *, mtime: int = 1_600_000_000) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = mtime
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _walk(
    data: bytes | pathlib.Path, kind: MediaKind, limits: Limits = DEFAULTS
) -> list[ArchiveMember | MemberError]:
    return list(walk_archive(data, kind, limits))


def _members(items: list[ArchiveMember | MemberError]) -> dict[str, bytes]:
    return {
        item.member_path: item.data for item in items if isinstance(item, ArchiveMember)
    }


def _errors(items: list[ArchiveMember | MemberError]) -> dict[str, str]:
    return {
        item.member_path: item.error.reason
        for item in items
        if isinstance(item, MemberError)
    }


def test_flat_zip_yields_members_with_sizes_and_mtimes() -> None:
    data = _zip({"photos/": b"", "photos/a.png": _png(), "notes.txt": b"hello"})
    items = _walk(data, MediaKind.ZIP)
    assert _members(items) == {"photos/a.png": _png(), "notes.txt": b"hello"}
    assert _errors(items) == {}
    notes = items[1]
    assert isinstance(notes, ArchiveMember)
    assert notes.size == 5
    assert notes.mtime == dt.datetime(2020, 1, 2, 3, 4, 6, tzinfo=dt.UTC).timestamp()
    assert "hello" not in repr(notes)  # content stays out of logs


def test_flat_tar_drops_dot_segments_and_keeps_mtime() -> None:
    items = _walk(_tar({"./photos/a.png": _png(), "b.txt": b"hi"}), MediaKind.TAR)
    assert _members(items) == {"photos/a.png": _png(), "b.txt": b"hi"}
    assert [item.mtime for item in items if isinstance(item, ArchiveMember)] == [
        1_600_000_000.0,
        1_600_000_000.0,
    ]


def test_zip_walked_from_a_path(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "set.zip"
    path.write_bytes(_zip({"a.png": _png()}))
    assert _members(_walk(path, MediaKind.ZIP)) == {"a.png": _png()}


def test_vanished_path_is_a_member_error(tmp_path: pathlib.Path) -> None:
    items = _walk(tmp_path / "gone.zip", MediaKind.ZIP)
    assert _errors(items) == {"": "file_vanished"}


def _nested() -> bytes:
    inner = _zip({"photos/a.png": _png()})
    bundle = gzip.compress(_tar({"inner.zip": inner}), mtime=0)
    return _zip({"bundle.tar.gz": bundle, "top.png": _png((0, 0, 255))})


def test_nested_zip_in_tar_gz_in_zip_uses_bang_paths() -> None:
    items = _walk(_nested(), MediaKind.ZIP)
    assert [item.member_path for item in items] == [
        "bundle.tar.gz",
        "bundle.tar.gz!/inner.zip",
        "bundle.tar.gz!/inner.zip!/photos/a.png",
        "top.png",
    ]
    assert _members(items)["bundle.tar.gz!/inner.zip!/photos/a.png"] == _png()
    assert _errors(items) == {}


def test_nesting_past_the_limit_is_yielded_but_not_walked() -> None:
    items = _walk(_nested(), MediaKind.ZIP, Limits(max_archive_depth=2))
    assert "bundle.tar.gz!/inner.zip" in _members(items)
    assert "bundle.tar.gz!/inner.zip!/photos/a.png" not in _members(items)
    assert _errors(items) == {"bundle.tar.gz!/inner.zip": "nesting_too_deep"}
    assert _members(items)["top.png"] == _png((0, 0, 255))  # the walk went on


def test_walk_with_prefix_and_depth_continues_a_walk() -> None:
    items = list(
        walk_archive(
            _zip({"a.png": _png()}), MediaKind.ZIP, DEFAULTS, prefix="x.zip", depth=2
        )
    )
    assert _members(items) == {"x.zip!/a.png": _png()}


UNSAFE_NAMES = [
    "../evil.jpg",
    "/etc/passwd",
    "photos/../../evil.jpg",
    "..\\evil.jpg",
    "C:\\Windows\\evil.jpg",
    "\\\\server\\share\\evil.jpg",
]


def test_unsafe_zip_names_are_refused_and_good_members_come_through() -> None:
    data = _zip({**dict.fromkeys(UNSAFE_NAMES, b"x"), "ok.png": _png()})
    items = _walk(data, MediaKind.ZIP)
    assert _members(items) == {"ok.png": _png()}
    assert _errors(items) == dict.fromkeys(UNSAFE_NAMES, "path_traversal")


def test_unsafe_tar_names_are_refused() -> None:
    items = _walk(_tar({"../evil.jpg": b"x", "ok.png": _png()}), MediaKind.TAR)
    assert _members(items) == {"ok.png": _png()}
    assert _errors(items) == {"../evil.jpg": "path_traversal"}


def test_tar_links_and_devices_are_refused() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, kind in [
            ("link", tarfile.SYMTYPE),
            ("hard", tarfile.LNKTYPE),
            ("fifo", tarfile.FIFOTYPE),
            ("dev", tarfile.CHRTYPE),
        ]:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = "/etc/passwd"
            archive.addfile(info)
        info = tarfile.TarInfo("ok.txt")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"ok"))
    items = _walk(buffer.getvalue(), MediaKind.TAR)
    assert _members(items) == {"ok.txt": b"ok"}
    assert _errors(items) == dict.fromkeys(
        ["link", "hard", "fifo", "dev"], "special_member"
    )


#: The ratio check judged past 1 MiB, so that 50 MiB of zeros stands in for a bomb
#: past the default floor (the image byte limit) without allocating it.
RATIO = Limits(min_ratio_check_bytes=MIB)


def test_zip_bomb_member_is_refused_by_ratio() -> None:
    data = _zip({"zeros.bin": bytes(50 * MIB), "ok.png": _png()})
    assert len(data) < MIB
    items = _walk(data, MediaKind.ZIP, RATIO)
    assert _errors(items) == {"zeros.bin": "compression_ratio"}
    assert _members(items) == {"ok.png": _png()}


def test_small_compressible_members_are_fine() -> None:
    text = b"a" * (512 * 1024)  # compresses about 1000:1 but is below the floor
    walked = _walk(_zip({"log.txt": text}), MediaKind.ZIP, RATIO)
    assert _members(walked) == {"log.txt": text}


def test_a_flat_bitmap_stored_in_a_zip_is_read_not_refused() -> None:
    """A blank 18 MB BMP zips to about 17 KB (1000:1): a legitimate file that must
    be hashed and matched; the size caps, not the ratio, bound what it costs."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (3000, 2000), (250, 250, 250)).save(buffer, "BMP")
    bitmap = buffer.getvalue()
    data = _zip({"scan.bmp": bitmap})
    assert len(bitmap) > 17 * MIB and len(data) < 100 * 1024
    assert _members(_walk(data, MediaKind.ZIP)) == {"scan.bmp": bitmap}


def _patch_sizes(data: bytes, compress_size: int, file_size: int) -> bytes:
    """Rewrite the first member's sizes in its local header and central directory."""
    patched = bytearray(data)
    struct.pack_into("<II", patched, 18, compress_size, file_size)
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<II", patched, central + 20, compress_size, file_size)
    return bytes(patched)


def test_zip_understating_its_size_yields_no_more_than_declared() -> None:
    data = _patch_sizes(
        _zip({"zeros.bin": bytes(5 * MIB)}), compress_size=6000, file_size=1000
    )
    items = _walk(data, MediaKind.ZIP)
    assert _members(items) == {}
    assert _errors(items) == {"zeros.bin": "archive_error"}  # bad CRC, not 5 MiB


def test_zip_overstating_its_compressed_size_is_still_a_bomb() -> None:
    original = _zip({"zeros.bin": bytes(50 * MIB)})
    data = _patch_sizes(original, compress_size=40 * MIB, file_size=50 * MIB)
    items = _walk(data, MediaKind.ZIP, RATIO)
    assert _errors(items) == {"zeros.bin": "compression_ratio"}


def test_gzip_bomb_is_refused_while_decompressing() -> None:
    data = gzip.compress(bytes(50 * MIB), mtime=0)
    items = _walk(data, MediaKind.GZIP, RATIO)
    assert _errors(items) == {GZIP_PAYLOAD_NAME: "compression_ratio"}
    assert _members(items) == {}


def test_gzip_payload_over_member_limit_is_refused_on_real_bytes() -> None:
    data = gzip.compress(_noise(3 * MIB), mtime=0)  # gzip declares no size up front
    items = _walk(data, MediaKind.GZIP, Limits(max_member_bytes=1 * MIB))
    assert _errors(items) == {GZIP_PAYLOAD_NAME: "file_too_large"}


def test_tar_member_over_member_limit_is_skipped() -> None:
    data = _tar({"big.bin": _noise(2 * MIB), "ok.txt": b"ok"})
    items = _walk(data, MediaKind.TAR, Limits(max_member_bytes=1 * MIB))
    assert _errors(items) == {"big.bin": "file_too_large"}
    assert _members(items) == {"ok.txt": b"ok"}


def test_total_expansion_limit_stops_the_walk_once() -> None:
    members = {f"m{index}.bin": _noise(300 * 1024, index) for index in range(5)}
    data = _zip(members, compression=zipfile.ZIP_STORED)
    items = _walk(data, MediaKind.ZIP, Limits(max_expanded_bytes=1 * MIB))
    assert list(_members(items)) == ["m0.bin", "m1.bin", "m2.bin"]
    assert _errors(items) == {"m3.bin": "expansion_too_large"}
    assert isinstance(items[-1], MemberError)


def test_expansion_limit_counts_across_nested_archives() -> None:
    inner = _zip({"b.bin": _noise(400 * 1024, 1)}, compression=zipfile.ZIP_STORED)
    data = _zip({"a.bin": _noise(400 * 1024, 2), "inner.zip": inner})
    items = _walk(data, MediaKind.ZIP, Limits(max_expanded_bytes=1 * MIB))
    assert list(_members(items)) == ["a.bin", "inner.zip"]
    assert _errors(items) == {"inner.zip!/b.bin": "expansion_too_large"}


def test_member_count_limit_stops_a_tar_walk() -> None:
    data = _tar({f"{index}.txt": b"x" for index in range(10)})
    items = _walk(data, MediaKind.TAR, Limits(max_archive_members=4))
    assert list(_members(items)) == ["0.txt", "1.txt", "2.txt", "3.txt"]
    assert _errors(items) == {"": "too_many_members"}
    assert len(items) == 5


def test_zip_declaring_too_many_members_is_refused_before_parsing() -> None:
    data = _zip({f"{index}.txt": b"x" for index in range(10)})
    items = _walk(data, MediaKind.ZIP, Limits(max_archive_members=4))
    assert items == [items[0]]
    assert _errors(items) == {"": "too_many_members"}


def test_member_count_is_shared_with_nested_archives() -> None:
    inner = _zip({"c.txt": b"c", "d.txt": b"d", "e.txt": b"e"})
    data = _zip({"a.txt": b"a", "b.txt": b"b", "inner.zip": inner})
    items = _walk(data, MediaKind.ZIP, Limits(max_archive_members=4))
    assert list(_members(items)) == ["a.txt", "b.txt", "inner.zip"]
    assert _errors(items) == {"inner.zip": "too_many_members"}


def test_truncated_zip_is_an_archive_error(tmp_path: pathlib.Path) -> None:
    data = _zip({"a.png": _png(), "b.png": _png((0, 255, 0))})
    path = tmp_path / "cut.zip"
    path.write_bytes(data[: len(data) // 2])
    for source in (path, data[: len(data) // 2]):
        items = _walk(source, MediaKind.ZIP)
        assert _errors(items) == {"": "archive_error"}
        assert len(items) == 1


def test_truncated_tar_gz_keeps_members_already_read() -> None:
    members = {f"m{index}.bin": _noise(100 * 1024, index) for index in range(5)}
    data = gzip.compress(_tar(members), mtime=0)
    items = _walk(data[: len(data) // 2], MediaKind.GZIP)  # cuts into m2.bin
    assert list(_members(items)) == ["m0.bin", "m1.bin"]
    assert _members(items)["m1.bin"] == members["m1.bin"]
    assert _errors(items) == {"": "archive_error"}
    assert isinstance(items[-1], MemberError)


def test_oversized_pax_header_is_refused_not_loaded() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        info = tarfile.TarInfo("a.txt")
        info.size = 1
        info.pax_headers = {"comment": "x" * (2 * MIB)}
        archive.addfile(info, io.BytesIO(b"a"))
    items = _walk(buffer.getvalue(), MediaKind.TAR)
    assert _errors(items) == {"": "archive_error"}


def test_gzip_payload_is_named_after_the_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "notes.txt.gz"
    path.write_bytes(gzip.compress(b"hello", mtime=1_600_000_000))
    (item,) = _walk(path, MediaKind.GZIP)
    assert isinstance(item, ArchiveMember)
    assert (item.member_path, item.data, item.mtime) == ("notes.txt", b"hello", 1.6e9)


def test_gzip_inside_zip_is_named_after_its_member() -> None:
    data = _zip({"logs/day.txt.gz": gzip.compress(b"hello", mtime=0)})
    items = _walk(data, MediaKind.ZIP)
    assert list(_members(items)) == ["logs/day.txt.gz", "logs/day.txt.gz!/day.txt"]
    assert _members(items)["logs/day.txt.gz!/day.txt"] == b"hello"


def test_encrypted_zip_member_is_refused() -> None:
    data = bytearray(_zip({"secret.png": _png(), "ok.txt": b"ok"}))
    # zipfile cannot write encrypted members: set general purpose bit 0 by hand.
    data[6] |= 0x1  # first local header
    data[data.index(b"PK\x01\x02") + 8] |= 0x1  # its central directory record
    items = _walk(bytes(data), MediaKind.ZIP)
    assert _errors(items) == {"secret.png": "encrypted_member"}
    assert _members(items) == {"ok.txt": b"ok"}


def test_pytorch_checkpoint_inside_a_zip_is_an_item_not_walked() -> None:
    model = _zip({"archive/data.pkl": b"\x80\x02}q\x00.", "archive/version": b"3\n"})
    items = _walk(_zip({"model.pt": model}), MediaKind.ZIP)
    assert list(_members(items)) == ["model.pt"]


@pytest.mark.parametrize("kind", [MediaKind.PYTORCH_ZIP, MediaKind.PNG])
def test_non_archive_kinds_are_a_programming_error(kind: MediaKind) -> None:
    with pytest.raises(ValueError, match="not a walkable archive kind"):
        walk_archive(b"", kind, DEFAULTS)


ARCHIVE_KINDS = st.sampled_from([MediaKind.ZIP, MediaKind.TAR, MediaKind.GZIP])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048), ARCHIVE_KINDS)
def test_arbitrary_bytes_never_raise(data: bytes, kind: MediaKind) -> None:
    for item in walk_archive(data, kind, DEFAULTS):
        assert isinstance(item, ArchiveMember | MemberError)


SAMPLES = {
    MediaKind.ZIP: _zip({"a.txt": b"hello", "b/c.png": _png()}),
    MediaKind.TAR: _tar({"a.txt": b"hello", "b/c.png": _png()}),
    MediaKind.GZIP: gzip.compress(_tar({"a.txt": b"hello", "c.png": _png()}), mtime=0),
}


@settings(max_examples=300, deadline=None)
@given(
    ARCHIVE_KINDS,
    st.integers(min_value=0, max_value=4096),
    st.binary(min_size=1, max_size=64),
    st.booleans(),
)
def test_damaged_archives_never_raise(
    kind: MediaKind, offset: int, junk: bytes, truncate: bool
) -> None:
    data = SAMPLES[kind]
    offset %= len(data)
    damaged = data[:offset] if truncate else data[:offset] + junk + data[offset:]
    for item in walk_archive(damaged, kind, DEFAULTS):
        assert isinstance(item, ArchiveMember | MemberError)
