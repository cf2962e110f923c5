"""The invisible-watermark extractor against imwatermark, the reference encoder and
decoder: marked images read "very likely" with the decoder's exact bits, unmarked
photos and synthetic images never read likely."""

import io
import json
import pathlib

import numpy as np
import pytest
import watermark_reference as ref
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import helpers
from vigil.media.base import Limits, MediaKind
from vigil.media.sniff import SNIFF_BYTES, sniff_bytes
from vigil.media.subject import Subject
from vigil.provenance import _watermark_bands as null_model
from vigil.provenance import _watermark_messages as messages
from vigil.provenance import _watermark_window as wmw
from vigil.provenance import watermark as wm
from vigil.provenance.base import EvidenceKind, Strength
from vigil.provenance.run import Provenance, extract_all

EXTRACTOR = wm.InvisibleWatermarkExtractor()
CASES = [
    (known, reading) for known in wm.KNOWN_WATERMARKS for reading in known.readings
]
CASE_IDS = [
    f"{known.name}-{reading.order}-{reading.pixels}" for known, reading in CASES
]
SDXL = next(known for known in wm.KNOWN_WATERMARKS if known.name == "sdxl")
INVOKEAI = next(known for known in wm.KNOWN_WATERMARKS if known.name == "invokeai")
BGR_FLOAT = wm.Reading(wm.ChannelOrder.BGR, wm.PixelType.FLOAT)
BGR_UINT8 = wm.Reading(wm.ChannelOrder.BGR, wm.PixelType.UINT8)
NOT_REPORTED = {wm.Band.NONE, wm.Band.PARTIAL}
#: Lossless marks of textured images: at least this share of bits comes back (the
#: reference encoder itself loses a few in the flattest blocks).
MIN_LOSSLESS_SHARE = 0.97


def run(data: bytes, limits: Limits | None = None) -> Provenance:
    kind = sniff_bytes(data[:SNIFF_BYTES])
    return extract_all(data, kind, [EXTRACTOR], limits or Limits())


def only_evidence(provenance: Provenance) -> dict[str, object]:
    assert provenance.errors == ()
    assert len(provenance.evidence) == 1
    evidence = provenance.evidence[0]
    assert evidence.kind is EvidenceKind.AI_GENERATED
    assert evidence.extractor == "invisible_watermark"
    as_dict = evidence.as_dict()
    json.dumps(as_dict)  # plain data only
    return as_dict


def matches_of(data: bytes) -> dict[str, wm.WatermarkMatch]:
    subject = Subject(data, sniff_bytes(data[:SNIFF_BYTES]), Limits())
    window = wm.window_pixels(subject.pixels())
    found = wm.read_watermarks(window, wm.chroma_upsampling(subject))
    return {match.watermark.name: match for match in found}


def test_u_plane_is_opencvs() -> None:
    rng = np.random.default_rng(7)
    corners = np.array(np.meshgrid(*[[0, 1, 127, 128, 254, 255]] * 3)).reshape(3, -1)
    colours = np.concatenate([corners.T, rng.integers(0, 256, (4096 - 216, 3))])
    rgb = colours.reshape(64, 64, 3).astype(np.uint8)
    for reading in messages.ALL_READINGS:
        pixels = np.ascontiguousarray(rgb[..., ::-1] if reading.order == "bgr" else rgb)
        if reading.pixels is wm.PixelType.FLOAT:
            expected = ref.cv2.cvtColor(
                pixels.astype(np.float32), ref.cv2.COLOR_BGR2YUV
            )
            np.testing.assert_allclose(
                wm.chroma_u(rgb, reading), expected[..., 1], rtol=0, atol=1e-4
            )
        else:
            expected = ref.cv2.cvtColor(pixels, ref.cv2.COLOR_BGR2YUV)
            np.testing.assert_array_equal(wm.chroma_u(rgb, reading), expected[..., 1])


def test_band_thresholds_follow_the_binomial_null_model() -> None:
    tails = (
        null_model.NULL_TAIL_PARTIAL,
        null_model.NULL_TAIL_LIKELY,
        null_model.NULL_TAIL_VERY_LIKELY,
    )
    for bits, bands in wm.BAND_THRESHOLDS.items():
        derived = tuple(null_model.binomial_threshold(bits, tail) for tail in tails)
        assert derived == (bands.partial, bands.likely, bands.very_likely)
    assert {len(known.bits) for known in wm.KNOWN_WATERMARKS} <= set(wm.BAND_THRESHOLDS)
    assert wm.binomial_tail(48, 0) == 1.0
    assert wm.binomial_tail(48, 48) == 2.0**-48


@pytest.mark.parametrize(
    ("agreeing", "band"),
    [(0, "none"), (27, "none"), (28, "partial"), (33, "partial"), (34, "likely")]
    + [(35, "likely"), (36, "very_likely"), (48, "very_likely")],
)
def test_sdxl_bands_are_the_issues(agreeing: int, band: str) -> None:
    assert wm.BAND_THRESHOLDS[48].band(agreeing).value == band


def test_messages_are_laid_out_as_imwatermark_lays_them_out() -> None:
    for known in wm.KNOWN_WATERMARKS:
        encoder = ref.WatermarkEncoder()
        if known.text is None:
            encoder.set_watermark("bits", list(known.bits))
        else:
            encoder.set_watermark("bytes", known.text.encode())
        assert tuple(int(b) for b in encoder._watermarks) == known.bits
    assert int("".join(map(str, SDXL.bits)), 2) == messages.SDXL_MESSAGE
    assert [len(known.bits) for known in wm.KNOWN_WATERMARKS] == [136, 32, 48, 64]


@pytest.mark.parametrize(("known", "reading"), CASES, ids=CASE_IDS)
def test_marked_png_reads_very_likely(
    known: wm.KnownWatermark, reading: wm.Reading
) -> None:
    marked = ref.mark(ref.synthetic(CASES.index((known, reading))), known, reading)
    data = ref.encode(marked, "PNG")
    details = only_evidence(run(data))
    assert details["source"] == f"watermark:{known.name}"
    assert details["strength"] == Strength.STRONG.value
    found = details["details"]
    assert isinstance(found, dict)
    assert found["band"] == "very_likely"
    assert found["agreeing_bits"] >= MIN_LOSSLESS_SHARE * len(known.bits)
    # The bits are imwatermark's own, in the reading the tool used.
    pixels = ref.decode(data)
    mine = wm.decode_bits(pixels, len(known.bits), reading)
    assert mine == ref.reference_bits(pixels, len(known.bits), reading)
    assert sum(a == b for a, b in zip(mine, known.bits, strict=True)) >= (
        MIN_LOSSLESS_SHARE * len(known.bits)
    )


@pytest.mark.parametrize(
    "relative", ["camera/orientation/landscape_1.jpg", "pdq/bridge-mods/aaa-orig.jpg"]
)
def test_marked_fixture_photos_read_very_likely(
    shared_fixtures: pathlib.Path, relative: str
) -> None:
    photo = ref.load_photo(helpers.require_fixture(shared_fixtures, relative))
    photo = np.ascontiguousarray(photo[:768, :768])  # keeps the reference encoder quick
    for known in wm.KNOWN_WATERMARKS:
        reading = known.readings[-1]
        pixels = ref.mark(photo, known, reading)
        details = only_evidence(run(ref.encode(pixels, "PNG")))
        assert details["source"] == f"watermark:{known.name}"
        assert details["details"]["band"] == "very_likely"  # type: ignore[index]
        mine = wm.decode_bits(pixels, len(known.bits), reading)
        assert mine == ref.reference_bits(pixels, len(known.bits), reading)


def test_invokeai_rgba_output_reads_very_likely() -> None:
    # InvokeAI returns its marked image as RGBA; the alpha channel is ignored.
    marked = ref.mark(ref.synthetic(40), INVOKEAI, BGR_UINT8)
    rgba = np.dstack([marked, np.full(marked.shape[:2], 255, np.uint8)])
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG")
    details = only_evidence(run(buffer.getvalue()))
    assert details["source"] == "watermark:invokeai"
    assert details["details"]["channel_order"] == "bgr"  # type: ignore[index]


def test_bits_equal_imwatermarks_on_smooth_and_unmarked_images() -> None:
    images = [ref.synthetic(50, grain=ref.SMOOTH_GRAIN), ref.synthetic(51)]
    images.append(ref.mark(images[0], SDXL, BGR_FLOAT))
    for pixels in images:
        for known in wm.KNOWN_WATERMARKS:
            for reading in messages.ALL_READINGS:
                length = len(known.bits)
                assert wm.decode_bits(pixels, length, reading) == ref.reference_bits(
                    pixels, length, reading
                )


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    height=st.integers(8, 72),
    width=st.integers(8, 72),
    style=st.sampled_from(["noise", "flat", "levels"]),
    reading=st.sampled_from(messages.ALL_READINGS),
    data=st.data(),
)
def test_bits_equal_imwatermarks_on_any_pixels(
    seed: int,
    height: int,
    width: int,
    style: str,
    reading: wm.Reading,
    data: st.DataObject,
) -> None:
    rng = np.random.default_rng(seed)
    if style == "noise":
        rgb = rng.integers(0, 256, (height, width, 3))
    elif style == "flat":  # ties everywhere: the first largest coefficient wins
        rgb = np.broadcast_to(rng.integers(0, 256, 3), (height, width, 3))
    else:
        rgb = rng.integers(0, 4, (height, width, 3)) * 85
    rgb = np.ascontiguousarray(rgb, np.uint8)
    blocks = (height // 8) * (width // 8)
    if blocks == 0:
        assert len(wm.block_bits(wm.chroma_u(rgb, reading))) == 0
        return
    length = data.draw(st.integers(1, blocks))
    assert wm.decode_bits(rgb, length, reading) == ref.reference_block_decode(
        rgb, length, reading
    )


def test_fixture_photos_carry_no_watermark(shared_fixtures: pathlib.Path) -> None:
    # The extractor's own steps, once per photo: with no band above partial,
    # `strongest` gives nothing and so does the extractor.
    examined = 0
    for path in ref.photo_paths(shared_fixtures):
        data = path.read_bytes()
        subject = Subject(data, sniff_bytes(data[:SNIFF_BYTES]), Limits())
        image = subject.pixels()
        if image.size[0] * image.size[1] < wm.MIN_WATERMARK_PIXELS:
            assert EXTRACTOR.extract(subject).evidence == ()
            continue
        window = wm.window_pixels(image)
        matches = wm.read_watermarks(window, wm.chroma_upsampling(subject))
        assert {m.band for m in matches} <= NOT_REPORTED, path
        assert wm.strongest(matches) is None
        examined += 1
    assert examined >= 20


def test_flat_images_read_none() -> None:
    # A flat image reads the same bit in every block: all zeros or all ones. Neither
    # agrees with any known message beyond chance (the SDXL message has 27 ones).
    decoded = set()
    for colour in [(128, 128, 128), (0, 0, 0), (255, 255, 255), (90, 120, 200)]:
        rgb = np.full((512, 512, 3), colour, np.uint8)
        assert run(ref.encode(rgb, "PNG")).evidence == ()
        for match in wm.read_watermarks(rgb):
            assert match.band is wm.Band.NONE
            decoded.add(frozenset(match.decoded))
    assert {frozenset({0}), frozenset({1})} <= decoded


def test_images_under_the_encoders_minimum_are_not_read() -> None:
    marked = ref.mark(ref.synthetic(60, size=(256, 256)), SDXL, BGR_FLOAT)
    cropped = np.ascontiguousarray(marked[:255])
    assert matches_of(ref.encode(cropped, "PNG"))["sdxl"].band is wm.Band.VERY_LIKELY
    assert run(ref.encode(cropped, "PNG")).evidence == ()


def test_messages_longer_than_the_blocks_are_skipped() -> None:
    rgb = ref.synthetic(61, size=(64, 64))  # 8 x 8 blocks
    assert {m.watermark.name for m in wm.read_watermarks(rgb)} == {
        "stable_diffusion_v2",
        "sdxl",
        "invokeai",
    }
    with pytest.raises(ValueError, match="cannot carry"):
        wm.vote(np.zeros(5, np.uint8), 8)


def test_large_images_are_read_from_a_middle_band(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Native SD sizes are read whole; larger images as whole block rows through the
    # middle, or the middle of the middle row where one row is over the cap.
    assert wmw.read_area(1024, 1024) == wmw.ReadArea(0, 0, 128, 128, 128)
    assert wmw.read_area(1536, 640) == wmw.ReadArea(0, 0, 80, 192, 192)
    assert wmw.read_area(5000, 5000) == wmw.ReadArea(299, 0, 26, 625, 625)
    assert wmw.read_area(600_000, 100) == wmw.ReadArea(6, 29_308, 1, 16_384, 75_000)
    assert wm.window_pixels(Image.new("RGB", (70_000, 7))).rgb.size == 0  # no block
    # The blocks read are exactly those blocks of the whole image: a band is a run of
    # imwatermark's own blocks, and for lossy files the inverse filter sees enough
    # rows beyond the band's cut edges that its values are those of the whole plane.
    rgb = ref.synthetic(62, size=(1600, 900))  # 200 x 112 blocks
    full = {
        (reading, upsampling): wm.block_bits(wm.chroma_u(rgb, reading), upsampling)
        for reading in messages.ALL_READINGS
        for upsampling in messages.ChromaUpsampling
    }
    margin = wmw.UNSMOOTH_MARGIN_PIXELS
    for cap, area, shape in [
        (None, wmw.ReadArea(15, 0, 81, 200, 200), (81 * 8 + 2 * margin, 1600)),
        (
            150,
            wmw.ReadArea(56, 25, 1, 150, 200),
            (8 + 2 * margin, 150 * 8 + 2 * margin),
        ),
    ]:
        if cap is not None:
            monkeypatch.setattr(wmw, "MAX_WATERMARK_BLOCKS", cap)
        window = wm.window_pixels(Image.fromarray(rgb))
        assert window.area == area
        assert window.rgb.shape[:2] == shape
        for (reading, upsampling), bits in full.items():
            np.testing.assert_array_equal(
                wm.window_bits(window, reading, upsampling),
                bits[area.first : area.first + area.blocks],
            )
    monkeypatch.setattr(wmw, "MAX_WATERMARK_BLOCKS", 64 * 25)
    marked = ref.mark(ref.synthetic(62), SDXL, BGR_FLOAT)
    details = only_evidence(run(ref.encode(marked, "PNG")))["details"]
    assert isinstance(details, dict)
    assert (details["read_top"], details["read_width"], details["read_height"]) == (
        8 * 19,
        512,
        200,
    )
    assert details["blocks"] == 64 * 25
    assert details["band"] == "very_likely"


def test_a_large_marked_image_is_found_from_a_bounded_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 3000 x 2000 pixels marked whole by the reference encoder: 93,750 blocks, of
    # which the extractor reads the middle band, at most MAX_WATERMARK_BLOCKS, and
    # converts no more than that band (and its margins) in each of the four readings.
    width, height = 3000, 2000
    marked = ref.mark(ref.synthetic(64, size=(width, height)), SDXL, BGR_FLOAT)
    converted: list[int] = []
    chroma_u = wm._chroma_u

    def counting_chroma_u(channels: wm._Channels, reading: wm.Reading) -> np.ndarray:
        plane = chroma_u(channels, reading)
        converted.append(plane.size)
        return plane

    monkeypatch.setattr(wm, "_chroma_u", counting_chroma_u)
    band_rows = wmw.MAX_WATERMARK_BLOCKS // (width // wmw.BLOCK_PIXELS)  # 43
    band_top = (height // wmw.BLOCK_PIXELS - band_rows) // 2 * wmw.BLOCK_PIXELS
    for fmt, options, least in [
        ("PNG", {}, MIN_LOSSLESS_SHARE),
        ("WEBP", {"quality": 90}, 0.9),
    ]:
        converted.clear()
        evidence = only_evidence(run(ref.encode(marked, fmt, **options)))
        assert evidence["source"] == "watermark:sdxl"
        details = evidence["details"]
        assert isinstance(details, dict)
        assert details["band"] == "very_likely"
        assert details["agreeing_bits"] >= least * 48
        assert details["blocks"] == band_rows * width // wmw.BLOCK_PIXELS
        assert details["blocks"] <= wmw.MAX_WATERMARK_BLOCKS
        read = (details["read_top"], details["read_width"], details["read_height"])
        assert read == (band_top, width, band_rows * wmw.BLOCK_PIXELS)
        # The work: one U plane per reading, each of the band and its margin rows
        # only (a whole-image read would convert 6,000,000 pixels four times).
        band_pixels = (
            band_rows * wmw.BLOCK_PIXELS + 2 * wmw.UNSMOOTH_MARGIN_PIXELS
        ) * width
        assert len(converted) == 4
        assert max(converted) <= band_pixels < 0.2 * width * height


@pytest.mark.parametrize(
    ("fmt", "options", "undone"),
    [
        ("JPEG", {"quality": 90}, "4:2:0"),
        ("JPEG", {"quality": 90, "subsampling": 1}, "4:2:2"),
        ("JPEG", {"quality": 90, "subsampling": 0}, None),
        ("WEBP", {"quality": 90}, "4:2:0"),
        ("WEBP", {"lossless": True}, None),
    ],
)
def test_lossy_files_are_read_with_their_chroma_upsampling_undone(
    fmt: str, options: dict[str, object], undone: str | None
) -> None:
    marked = ref.mark(ref.synthetic(70), SDXL, BGR_FLOAT)
    data = ref.encode(marked, fmt, **options)
    details = only_evidence(run(data))["details"]
    assert isinstance(details, dict)
    assert details["chroma_upsampling_undone"] == undone
    assert details["band"] == "very_likely"
    if undone == "4:2:0" and fmt == "JPEG":
        # The step matters: imwatermark's own decode of these pixels fails.
        reference = ref.reference_bits(ref.decode(data), 48, BGR_FLOAT)
        agreeing = sum(a == b for a, b in zip(reference, SDXL.bits, strict=True))
        assert wm.BAND_THRESHOLDS[48].band(agreeing) in NOT_REPORTED


def test_webp_kinds_are_told_apart() -> None:
    rgb = ref.synthetic(71, size=(64, 64))
    lossy_with_exif = ref.encode(rgb, "WEBP", quality=80, exif=b"Exif\0\0II*\0")
    assert wm._is_lossy_webp(lossy_with_exif)  # VP8X, EXIF chunk, then VP8
    assert wm._is_lossy_webp(ref.encode(rgb, "WEBP", quality=80))
    assert not wm._is_lossy_webp(ref.encode(rgb, "WEBP", lossless=True))
    assert not wm._is_lossy_webp(b"RIFF\0\0\0\0WEBPVP8X\xff\xff\xff\xff")
    assert not wm._is_lossy_webp(b"RIFF\0\0\0\0WEBP")


def test_an_alias_is_not_reported_beside_the_mark() -> None:
    # "InvokeAI" (64 bits) read as "StableDiffusionV1" (136 bits) agrees far beyond
    # chance; only the carrier is reported.
    marked = ref.mark(ref.synthetic(72), INVOKEAI, BGR_UINT8)
    data = ref.encode(marked, "PNG")
    details = only_evidence(run(data))
    assert details["source"] == "watermark:invokeai"
    alias = details["details"]["agreement"]["stable_diffusion_v1"]  # type: ignore[index]
    assert alias["band"] in ("likely", "very_likely")


def test_malformed_and_other_input() -> None:
    data = ref.encode(ref.mark(ref.synthetic(73), SDXL, BGR_FLOAT), "PNG")
    truncated = run(data[: len(data) // 2])
    assert truncated.evidence == ()
    assert [e.reason for e in truncated.errors] in (["decode_error"], ["truncated"])
    garbage = extract_all(
        b"\x89PNG\r\n\x1a\n" + b"\0" * 64, MediaKind.PNG, [EXTRACTOR], Limits()
    )
    assert [e.reason for e in garbage.errors] == ["decode_error"]
    # Not an image: the runner never asks.
    assert extract_all(data, MediaKind.ZIP, [EXTRACTOR], Limits()) == Provenance()
    assert MediaKind.ZIP not in EXTRACTOR.media_kinds
    assert MediaKind.HEIF in EXTRACTOR.media_kinds
