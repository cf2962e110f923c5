"""NovelAI metadata and `signed_hash` verification, with a key generated here (the
real key only verifies NovelAI's own images, and no signed one is in the
fixtures)."""

import base64
import io
import json
import typing as t

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from gen_builders import embed_stealth, pixels, png, run, stealth_payload
from PIL import Image

from vigil.provenance.base import Strength
from vigil.provenance.generators.novelai import (
    DEFAULT_VERIFY_KEYS,
    NOVELAI_VERIFY_KEY_B64,
    NovelAIExtractor,
)
from vigil.provenance.generators.stealth import StealthExtractor

SOURCE = "NovelAI Diffusion V4.5 4BDE2A90"


def _comment() -> dict[str, t.Any]:
    return {
        "prompt": "a lighthouse, watercolor",
        "steps": 28,
        "height": 48,
        "width": 64,
        "scale": 5.0,
        "uc": "lowres, text",
        "seed": 123456789,
        "sampler": "k_euler_ancestral",
        "noise_schedule": "karras",
        "request_type": "PromptGenerateRequest",
    }


def _sign(key: Ed25519PrivateKey, image: Image.Image, comment: dict[str, t.Any]) -> str:
    rgb = np.asarray(image.convert("RGBA"))[:, :, :3].tobytes()
    signature = key.sign(rgb + json.dumps(comment).encode("utf-8"))
    return base64.b64encode(signature).decode("ascii")


def _signed_png(key: Ed25519PrivateKey, image: Image.Image) -> bytes:
    comment = _comment()
    comment["signed_hash"] = _sign(key, image, comment)
    text = {
        "Title": "NovelAI generated image",
        "Description": comment["prompt"],
        "Software": "NovelAI",
        "Source": SOURCE,
        "Comment": json.dumps(comment),
    }
    return png(image, text=text)


def _public(key: Ed25519PrivateKey) -> dict[str, bytes]:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"test": raw}


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_published_key_is_a_valid_ed25519_key() -> None:
    assert base64.b64decode(NOVELAI_VERIFY_KEY_B64) == DEFAULT_VERIFY_KEYS["novelai"]
    assert len(DEFAULT_VERIFY_KEYS["novelai"]) == 32


def test_valid_signature_is_proof(key: Ed25519PrivateKey) -> None:
    data = _signed_png(key, pixels((64, 48), "RGBA", seed=4))
    found = run(data, [NovelAIExtractor(verify_keys=_public(key))])
    (evidence,) = found.evidence
    assert evidence.strength is Strength.PROOF
    assert (evidence.details["signature"], evidence.details["signature_key"]) == (
        "valid",
        "test",
    )
    record = found.generation
    assert record is not None
    assert (record.tool, record.prompt, record.negative_prompt) == (
        "NovelAI",
        "a lighthouse, watercolor",
        "lowres, text",
    )
    assert (record.seed, record.steps, record.cfg_scale) == (123456789, 28, 5.0)
    assert (record.width, record.height) == (64, 48)
    assert record.model_name == "NovelAI Diffusion V4.5"
    assert record.extra["novelai_model_id"] == "4bde2a90"
    assert "signed_hash" not in record.extra


def test_edited_pixels_fail_the_signature(key: Ed25519PrivateKey) -> None:
    image = pixels((64, 48), "RGBA", seed=4)
    comment = _comment()
    comment["signed_hash"] = _sign(key, image, comment)
    image.putpixel((10, 10), (0, 0, 0, 255))
    data = png(image, text={"Software": "NovelAI", "Comment": json.dumps(comment)})
    (evidence,) = run(data, [NovelAIExtractor(verify_keys=_public(key))]).evidence
    assert evidence.strength is Strength.STRONG
    assert evidence.details["signature"] == "invalid"


def test_edited_metadata_fails_the_signature(key: Ed25519PrivateKey) -> None:
    image = pixels((64, 48), "RGBA", seed=4)
    comment = _comment()
    comment["signed_hash"] = _sign(key, image, comment)
    comment["seed"] = 1
    data = png(image, text={"Software": "NovelAI", "Comment": json.dumps(comment)})
    (evidence,) = run(data, [NovelAIExtractor(verify_keys=_public(key))]).evidence
    assert evidence.details["signature"] == "invalid"


def test_a_key_other_than_the_signer_does_not_verify(key: Ed25519PrivateKey) -> None:
    data = _signed_png(key, pixels((64, 48), "RGBA", seed=4))
    (evidence,) = run(data, [NovelAIExtractor()]).evidence  # NovelAI's real key
    assert (evidence.strength, evidence.details["signature"]) == (
        Strength.STRONG,
        "invalid",
    )
    (evidence,) = run(data, [NovelAIExtractor(verify_keys={})]).evidence
    assert evidence.details["signature"] == "unverifiable"


@pytest.mark.parametrize(
    "signed_hash", ["not base64!", base64.b64encode(b"short").decode()]
)
def test_malformed_signature_is_invalid_not_an_error(signed_hash: str) -> None:
    comment = {**_comment(), "signed_hash": signed_hash}
    data = png(text={"Software": "NovelAI", "Comment": json.dumps(comment)})
    found = run(data, [NovelAIExtractor()])
    assert found.errors == ()
    assert found.evidence[0].details["signature"] == "invalid"


def test_signature_in_the_alpha_channel_is_verified_too(key: Ed25519PrivateKey) -> None:
    image = pixels((96, 96), "RGBA", seed=8)
    comment = _comment()
    comment["signed_hash"] = _sign(key, image, comment)
    meta = {"Software": "NovelAI", "Source": SOURCE, "Comment": json.dumps(comment)}
    payload = stealth_payload(json.dumps(meta), "alpha", compressed=True)
    marked = embed_stealth(image, payload, "alpha")  # only alpha changes: RGB signed
    buffer = io.BytesIO()
    marked.save(buffer, "PNG")
    found = run(buffer.getvalue(), [StealthExtractor(novelai_keys=_public(key))])
    (evidence,) = found.evidence
    assert (evidence.source, evidence.strength) == ("stealth:alpha", Strength.PROOF)


def test_webp_exif_layout() -> None:
    comment = json.dumps(_comment())
    exif = Image.Exif()
    exif[0x0131] = SOURCE  # Software holds the model in NovelAI's WebP layout
    exif[0x010E] = "a lighthouse, watercolor"
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00" + comment.encode()
    buffer = io.BytesIO()
    pixels((64, 48), "RGBA").save(buffer, "WEBP", lossless=True, exif=exif.tobytes())
    found = run(buffer.getvalue(), [NovelAIExtractor()])
    record = found.generation
    assert record is not None
    assert (record.tool, record.source, record.model_name) == (
        "NovelAI",
        "exif:UserComment",
        "NovelAI Diffusion V4.5",
    )
    assert found.evidence[0].details["signature"] == "absent"


def test_other_software_comments_are_ignored() -> None:
    data = png(text={"Software": "GIMP", "Comment": '{"note": "edited"}'})
    assert run(data, [NovelAIExtractor()]).evidence == ()
    data = png(text={"Comment": "Created with an editor"})
    assert run(data, [NovelAIExtractor()]).evidence == ()
    found = run(
        png(text={"Comment": "{not json, from an editor"}), [NovelAIExtractor()]
    )
    assert (found.evidence, found.errors) == ((), ())


def test_comment_nested_inside_comment_without_software() -> None:
    # nai_sig.py `decoded_comment`: a Comment whose JSON holds another "Comment".
    inner = json.dumps(_comment())
    data = png(text={"Comment": json.dumps({"Comment": inner})})
    record = run(data, [NovelAIExtractor()]).generation
    assert record is not None
    assert (record.tool, record.seed) == ("NovelAI", 123456789)
