"""PDQ: parity with Meta's expected hashes, the fast decode path, bit order, quality."""

import csv
import io
import itertools
import json
import pathlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from vigil.hashing.base import HashResult, ImageHasher
from vigil.hashing.pdq import (
    PDQ_FULL_PIPELINE,
    PDQ_PIPELINE,
    PDQFullHasher,
    PDQHasher,
    downsample_like_pdqio,
    hamming_distance,
    pdq_from_rgb,
)
from vigil.media.base import DecodedImage, Limits, MediaKind
from vigil.media.image import decode_image

# Meta's criterion for a correct PDQ implementation (pdq/README.md): within 10 bits of
# the C++ reference on the pdq/data images.
META_PARITY_BITS = 10
# Vigil's own regression guard: the 512x512 CImg nearest-neighbour rule reproduces the
# C++ hashes within 2 bits (measured); bilinear or Pillow's centred NEAREST do not.
CPP_REGRESSION_BITS = 4
DRAFT_VS_FULL_BITS = 8  # issue requirement for the DCT-scaled decode on camera JPEGs
PDQ_MATCH_THRESHOLD_BITS = 31  # ThreatExchange PDQ docs
# misc-images/b.jpg was deleted upstream; it is byte-identical to this file (fixtures
# README and MANIFEST note).
UPSTREAM_ALIASES = {"misc-images/b.jpg": "bridge-mods/aaa-orig.jpg"}
DIHEDRAL_DIR = "pdq/reg-test-input/dih"

HASHER = PDQHasher()


def _kind(path: pathlib.Path) -> MediaKind:
    return MediaKind.PNG if path.suffix.lower() == ".png" else MediaKind.JPEG


def _hash_file(
    path: pathlib.Path, hasher: ImageHasher = HASHER, target_px: int | None = 512
) -> HashResult:
    image = decode_image(path.read_bytes(), _kind(path), Limits(), target_px=target_px)
    return hasher.hash_image(image)


def _upstream(fixtures: pathlib.Path, upstream_path: str) -> pathlib.Path:
    path = fixtures / "pdq" / UPSTREAM_ALIASES.get(upstream_path, upstream_path)
    assert path.is_file(), f"fixture missing: {path}"
    return path


def _cpp_expected(fixtures: pathlib.Path) -> list[tuple[pathlib.Path, str]]:
    rows = []
    with (fixtures / "pdq/expected/PDQMD5TestData.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            upstream = row["FilePath"].removeprefix("../../../../data/")
            if upstream.startswith("../"):  # the TMK video rows
                continue
            rows.append((_upstream(fixtures, upstream), row["Hash"]))
    return rows


def _python_expected(fixtures: pathlib.Path) -> list[tuple[pathlib.Path, str]]:
    source = fixtures / "pdq/expected/pdq_python_test_expected.json"
    entries = json.loads(source.read_text())["expected"]
    return [(_upstream(fixtures, e["upstream_path"]), e["pdq_hex"]) for e in entries]


@pytest.mark.shared
def test_cpp_reference_hashes_are_reproduced(shared_fixtures: pathlib.Path) -> None:
    expected = _cpp_expected(shared_fixtures)
    assert len(expected) == 16
    distances = {
        path.name: hamming_distance(_hash_file(path).value, value)
        for path, value in expected
    }
    assert max(distances.values()) <= META_PARITY_BITS, distances
    assert max(distances.values()) <= CPP_REGRESSION_BITS, distances


@pytest.mark.shared
def test_python_reference_hashes_are_reproduced(shared_fixtures: pathlib.Path) -> None:
    expected = _python_expected(shared_fixtures)
    assert len(expected) == 19
    distances = {
        str(path): hamming_distance(_hash_file(path).value, value)
        for path, value in expected
    }
    assert max(distances.values()) <= META_PARITY_BITS, distances


@pytest.mark.shared
def test_dct_scaled_decode_matches_full_decode(shared_fixtures: pathlib.Path) -> None:
    paths = sorted(
        p
        for p in (shared_fixtures / "camera").rglob("*")
        if p.suffix.lower() in (".jpg", ".jpeg")
    )
    assert len(paths) >= 10  # 40 in ../shared, 10 in the tests/data subset
    distances = {}
    reduced = 0
    for path in paths:
        data = path.read_bytes()
        fast = decode_image(data, MediaKind.JPEG, Limits(), target_px=512)
        full = decode_image(data, MediaKind.JPEG, Limits())
        assert (fast.width, fast.height) == (full.width, full.height)
        assert not full.is_reduced
        reduced += fast.is_reduced
        distances[path.name] = hamming_distance(
            HASHER.hash_image(fast).value, HASHER.hash_image(full).value
        )
    assert reduced >= 2  # the set holds JPEGs large enough to be DCT-scaled
    assert max(distances.values()) <= DRAFT_VS_FULL_BITS, distances


@pytest.mark.shared
def test_dihedral_set_hashes_all_differ(shared_fixtures: pathlib.Path) -> None:
    paths = sorted((shared_fixtures / DIHEDRAL_DIR).glob("bridge-*.jpg"))
    assert len(paths) == 8
    hashes = {path.name: _hash_file(path).value for path in paths}
    for (name_a, a), (name_b, b) in itertools.combinations(hashes.items(), 2):
        assert hamming_distance(a, b) > PDQ_MATCH_THRESHOLD_BITS, (name_a, name_b)


@pytest.mark.shared
def test_low_quality_fixture_is_unreliable(shared_fixtures: pathlib.Path) -> None:
    result = _hash_file(shared_fixtures / "pdq/misc-images/small.jpg")
    assert result.quality == 0
    assert result.is_reliable is False
    bridge = _hash_file(shared_fixtures / "pdq/bridge-mods/aaa-orig.jpg")
    assert bridge.quality == 100
    assert bridge.is_reliable is True


def _decoded(pixels: np.ndarray) -> DecodedImage:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return decode_image(buffer.getvalue(), MediaKind.PNG, Limits(), target_px=512)


def _textured(height: int, width: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = (
        128
        + 60 * np.sin(x / 37.0) * np.cos(y / 23.0)
        + rng.normal(0, 10, (height, width))
    )
    grey = np.clip(base, 0, 255).astype(np.uint8)
    return np.stack([grey, grey[::-1], grey[:, ::-1]], axis=2)


def test_result_fields_and_quality_flag() -> None:
    result = HASHER.hash_image(_decoded(_textured(300, 400)))
    assert result.hasher == "pdq"
    assert result.pipeline == PDQ_PIPELINE == "vigil-pdq512/1"
    assert len(result.value) == 64
    assert result.value == result.value.lower()
    assert result.quality is not None and result.quality >= 50
    assert result.is_reliable is True

    flat = HASHER.hash_image(_decoded(np.full((300, 400, 3), 90, dtype=np.uint8)))
    assert flat.quality == 0
    assert flat.is_reliable is False


def test_one_by_100000_png_is_hashed_and_flagged() -> None:
    row = _textured(1, 100_000)
    image = _decoded(row)
    assert (image.width, image.height) == (100_000, 1)
    for hasher in (PDQHasher(), PDQFullHasher()):
        result = hasher.hash_image(image)
        assert len(result.value) == 64
        # One pixel tall: every DCT coefficient PDQ keeps is rounding noise.
        assert result.is_reliable is False


def test_bit_order_matches_threatexchange() -> None:
    pdq_hasher = pytest.importorskip("threatexchange.signal_type.pdq.pdq_hasher")
    pixels = _textured(200, 300, seed=3)
    ours, quality = pdq_from_rgb(pixels)
    theirs, their_quality = pdq_hasher._pdq_from_numpy_array(pixels)
    assert (ours, quality) == (theirs, their_quality)


def _coordinates_card(width: int, height: int) -> Image.Image:
    """Each pixel stores its own (x, y) in its channels, 12 bits each."""
    y, x = np.mgrid[0:height, 0:width]
    card = np.stack([x % 256, y % 256, (x // 256) * 16 + y // 256], axis=2)
    return Image.fromarray(card.astype(np.uint8))


@pytest.mark.parametrize(
    ("width", "height"),
    [(1000, 700), (4000, 3000), (513, 512), (300, 2047), (4095, 1), (1600, 1004)],
)
def test_downsample_follows_cimg_nearest_rule(width: int, height: int) -> None:
    small = np.asarray(downsample_like_pdqio(_coordinates_card(width, height), 512))
    assert small.shape == (512, 512, 3)
    xs = small[..., 0].astype(int) + 256 * (small[..., 2].astype(int) // 16)
    ys = small[..., 1].astype(int) + 256 * (small[..., 2].astype(int) % 16)
    # CImg resize(512, 512), interpolation 1: source index floor(i * old / 512).
    expected = np.arange(512)
    assert (xs == (expected * width // 512)[np.newaxis, :]).all()
    assert (ys == (expected * height // 512)[:, np.newaxis]).all()


def test_downsample_leaves_small_images_alone() -> None:
    card = _coordinates_card(512, 300)
    assert downsample_like_pdqio(card, 512) is card


def test_full_pipeline_differs_only_in_name_on_small_images() -> None:
    image = _decoded(_textured(200, 300))
    fast, full = PDQHasher().hash_image(image), PDQFullHasher().hash_image(image)
    assert full.pipeline == PDQ_FULL_PIPELINE == "pdq-full/1"
    assert PDQFullHasher().decode_target_px is None
    assert PDQHasher().decode_target_px == 512
    assert fast.value == full.value  # no resize below 512 px a side
    configured = PDQHasher(pipeline="full")
    assert configured.pipeline == full.pipeline and configured.decode_target_px is None
    with pytest.raises(ValueError, match="pdq512, full"):
        PDQHasher(pipeline="half")


def test_full_pipeline_refuses_reduced_decodes() -> None:
    buffer = io.BytesIO()
    Image.fromarray(_textured(1200, 1600)).save(buffer, "JPEG", quality=90)
    image = decode_image(buffer.getvalue(), MediaKind.JPEG, Limits(), target_px=512)
    assert image.is_reduced
    with pytest.raises(ValueError, match="full-resolution"):
        PDQFullHasher().hash_image(image)


def test_examples_are_reproduced() -> None:
    examples = PDQHasher().examples()
    assert len(examples) == 1
    image = decode_image(examples[0].data, MediaKind.BMP, Limits())
    assert HASHER.hash_image(image).value == examples[0].value


HEX64 = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


@given(a=HEX64, b=HEX64, c=HEX64)
def test_hamming_is_a_metric(a: str, b: str, c: str) -> None:
    ab = hamming_distance(a, b)
    assert ab == hamming_distance(b, a)
    assert hamming_distance(a, a) == 0
    assert 0 <= ab <= 256
    assert hamming_distance(a, c) <= ab + hamming_distance(b, c)
    assert (ab == 0) == (a == b)
    assert hamming_distance(a.upper(), b) == ab


def test_hamming_counts_bits() -> None:
    zero = "0" * 64
    assert hamming_distance(zero, "f" * 64) == 256
    assert hamming_distance(zero, "0" * 63 + "7") == 3
    assert hamming_distance(zero, "8" + "0" * 63) == 1


@pytest.mark.parametrize(
    "bad", ["", "0" * 63, "0" * 65, "g" * 64, " " + "0" * 63, "0x" + "0" * 62]
)
def test_hamming_refuses_malformed_hashes(bad: str) -> None:
    with pytest.raises(ValueError, match="PDQ hash"):
        hamming_distance(bad, "0" * 64)
