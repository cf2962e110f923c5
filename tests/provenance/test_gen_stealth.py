"""Stealth LSB metadata: every magic and channel variant, written in the reference
extension's bit order, plus the limits (length, gzip bomb, lossy formats)."""

import gzip
import io
import json
import struct

import pytest
from gen_builders import (
    animated_webp,
    embed_stealth,
    pixels,
    png,
    run,
    stealth_payload,
)
from PIL import Image

from vigil.media.base import MediaKind
from vigil.media.errors import MetadataError
from vigil.provenance.generators.stealth import (
    HEADER_BITS,
    StealthExtractor,
    lossless_channels,
    read_stealth,
)

INFOTEXT = (
    "a paper boat on a pond\nNegative prompt: people\n"
    "Steps: 24, Sampler: Euler a, CFG scale: 5, Seed: 777, Size: 48x40, "
    "Model hash: 6ce0161689, Model: v1-5, Version: f2.0.1v1.10.1-previous-224"
)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("compressed", [False, True])
@pytest.mark.parametrize(
    ("mode", "image_mode"), [("alpha", "RGBA"), ("rgb", "RGB"), ("rgb", "RGBA")]
)
def test_every_variant_is_read(mode: str, image_mode: str, compressed: bool) -> None:
    payload = stealth_payload(INFOTEXT, mode, compressed=compressed)
    image = embed_stealth(pixels((48, 40), image_mode, seed=3), payload, mode)
    found = run(_png(image), [StealthExtractor()])
    assert found.errors == ()
    record = found.generation
    assert record is not None
    assert (record.tool, record.source) == ("Forge", f"stealth:{mode}")
    assert (record.prompt, record.seed, record.steps) == (
        "a paper boat on a pond",
        777,
        24,
    )
    (evidence,) = found.evidence
    magic = "stealth_" + ("png" if mode == "alpha" else "rgb")
    assert evidence.details["magic"] == magic + ("comp" if compressed else "info")


def test_bits_are_read_column_by_column() -> None:
    # A payload spanning many columns: the reader must continue at the top of the
    # next column, not along the row; the same bits read row by row are noise.
    payload = stealth_payload(INFOTEXT, "alpha", compressed=False)
    marked = embed_stealth(pixels((200, 10), "RGBA", seed=1), payload, "alpha")
    found = read_stealth(marked)
    assert found is not None and found.text == INFOTEXT
    transposed = marked.transpose(Image.Transpose.TRANSPOSE)
    assert read_stealth(transposed) is None


def test_unmarked_images_carry_nothing() -> None:
    for mode in ("RGB", "RGBA", "L", "P"):
        image = pixels((40, 30), "RGBA" if mode == "RGBA" else "RGB", seed=9)
        found = run(_png(image.convert(mode)), [StealthExtractor()])
        assert (found.evidence, found.errors) == ((), ())


def test_novelai_json_payload_with_comment_inside() -> None:
    comment = {
        "prompt": "a teapot",
        "uc": "blurry",
        "seed": 5,
        "steps": 28,
        "sampler": "k_euler",
        "scale": 5.0,
        "width": 64,
        "height": 64,
    }
    meta = {
        "Description": "a teapot",
        "Software": "NovelAI",
        "Source": "NovelAI Diffusion V4.5 4BDE2A90",
        "Comment": json.dumps(comment),
    }
    payload = stealth_payload(json.dumps(meta), "alpha", compressed=True)
    image = embed_stealth(pixels((64, 64), "RGBA"), payload, "alpha")
    found = run(_png(image), [StealthExtractor()])
    record = found.generation
    assert record is not None
    assert (record.tool, record.prompt, record.negative_prompt) == (
        "NovelAI",
        "a teapot",
        "blurry",
    )
    assert (record.seed, record.cfg_scale) == (5, 5.0)
    (evidence,) = found.evidence
    assert evidence.details["signature"] == "absent"
    assert evidence.details["magic"] == "stealth_pngcomp"


def test_swarmui_json_payload() -> None:
    data = {"sui_image_params": {"prompt": "a kite", "seed": 11, "model": "sdxl"}}
    payload = stealth_payload(json.dumps(data), "rgb", compressed=False)
    image = embed_stealth(pixels((40, 40), "RGB"), payload, "rgb")
    record = run(_png(image), [StealthExtractor()]).generation
    assert record is not None
    assert (record.tool, record.prompt, record.seed) == ("SwarmUI", "a kite", 11)


def test_unknown_payload_is_still_ai_evidence_without_a_record() -> None:
    payload = stealth_payload("free text with no parameters", "alpha", compressed=False)
    image = embed_stealth(pixels((40, 40), "RGBA"), payload, "alpha")
    found = run(_png(image), [StealthExtractor()])
    assert found.generation is None
    (evidence,) = found.evidence
    assert evidence.is_ai
    assert evidence.details["preview"] == "free text with no parameters"


def _with_header(
    image_mode: str, magic: bytes, length_bits: int, body: bytes
) -> Image.Image:
    data = magic + struct.pack(">I", length_bits) + body
    return embed_stealth(pixels((64, 64), image_mode), data, "alpha")


def test_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"\x00" * (64 * 1024 * 1024), compresslevel=9)
    side = 1 + int((len(bomb) * 8 + HEADER_BITS) ** 0.5)
    data = b"stealth_pngcomp" + struct.pack(">I", len(bomb) * 8) + bomb
    image = embed_stealth(pixels((side, side), "RGBA"), data, "alpha")
    with pytest.raises(MetadataError, match="inflates past"):
        read_stealth(image)
    found = run(_png(image), [StealthExtractor()])
    assert [e.reason for e in found.errors] == ["malformed_metadata"]


@pytest.mark.parametrize(
    ("length_bits", "message"),
    [
        (64 * 64 * 8, "longer than the image"),
        (12, "malformed"),
        (0, "malformed"),
        (2**32 - 8, "over"),
    ],
)
def test_bad_lengths_are_refused(length_bits: int, message: str) -> None:
    image = _with_header("RGBA", b"stealth_pnginfo", length_bits, b"abc")
    with pytest.raises(MetadataError, match=message):
        read_stealth(image)


def test_corrupt_gzip_is_refused() -> None:
    image = _with_header("RGBA", b"stealth_pngcomp", 8 * 6, b"\x1f\x8b\x08abc")
    with pytest.raises(MetadataError, match="compressed"):
        read_stealth(image)


def test_alpha_magic_in_rgb_channels_is_ignored() -> None:
    # `stealth_pnginfo` names the alpha layout; found in RGB bits it is noise.
    payload = stealth_payload(INFOTEXT, "alpha", compressed=False)
    image = embed_stealth(pixels((48, 40), "RGB"), payload, "rgb")
    assert read_stealth(image) is None


def test_lossy_formats_are_not_read() -> None:
    payload = stealth_payload(INFOTEXT, "rgb", compressed=False)
    image = embed_stealth(pixels((48, 40), "RGB"), payload, "rgb")
    lossy = io.BytesIO()
    image.save(lossy, "WEBP", quality=90)
    assert lossless_channels(MediaKind.WEBP, lossy.getvalue()) == ()
    assert run(lossy.getvalue(), [StealthExtractor()]).evidence == ()
    lossless = io.BytesIO()
    image.save(lossless, "WEBP", lossless=True)
    found = run(lossless.getvalue(), [StealthExtractor()])
    assert found.generation is not None and found.generation.seed == 777
    jpeg = io.BytesIO()
    image.save(jpeg, "JPEG", quality=100)
    assert run(jpeg.getvalue(), [StealthExtractor()]).evidence == ()


def test_lossy_webp_keeps_an_exact_alpha_plane() -> None:
    payload = stealth_payload(INFOTEXT, "alpha", compressed=True)
    image = embed_stealth(pixels((64, 64), "RGBA"), payload, "alpha")
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", quality=80, alpha_quality=100)
    found = run(buffer.getvalue(), [StealthExtractor()])
    assert found.generation is not None and found.generation.source == "stealth:alpha"


def test_text_chunks_are_not_needed() -> None:
    payload = stealth_payload(INFOTEXT, "alpha", compressed=True)
    image = embed_stealth(pixels((48, 40), "RGBA"), payload, "alpha")
    data = png(image, text={"Software": "an editor"})
    assert run(data, [StealthExtractor()]).generation is not None


def test_first_frame_of_an_animated_lossless_webp() -> None:
    payload = stealth_payload(INFOTEXT, "alpha", compressed=True)
    first = embed_stealth(pixels((64, 64), "RGBA", seed=1), payload, "alpha")
    data = animated_webp([first, pixels((64, 64), "RGBA", seed=2)])
    assert b"ANMF" in data
    assert lossless_channels(MediaKind.WEBP, data) == ("rgb", "alpha")
    record = run(data, [StealthExtractor()]).generation
    assert record is not None and record.seed == 777
