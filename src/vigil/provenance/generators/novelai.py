"""NovelAI metadata and its Ed25519 signature.

NovelAI writes `Software` ("NovelAI"), `Source` (the model, e.g. "Stable Diffusion
XL C1E1DE52"), `Description` (the prompt) and `Comment` (JSON: prompt, `uc` = the
negative prompt, seed, steps, sampler, scale, ..., and since 2023 `signed_hash`)
as PNG text chunks; WebP files carry the same in EXIF (Software = Source,
ImageDescription = Description, UserComment = Comment); both also carry them in
the alpha channel (read by the stealth extractor, which reuses this module).

Signature: `signed_hash` is a base64 Ed25519 signature over the image's RGB bytes
(row-major, 3 bytes a pixel, alpha dropped) followed by the UTF-8 of the Comment
object without `signed_hash`, serialised as Python's `json.dumps` does by default
(NovelAI/novelai-image-metadata `nai_sig.py`). A valid signature by NovelAI's key is
proof; an invalid or unverifiable one leaves strong evidence from the metadata, with
the failure in the details.
"""

import base64
import binascii
import json
import re
import typing as t

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from vigil.media.base import MediaKind
from vigil.media.errors import MediaError, TooManyPixelsError
from vigil.media.subject import Subject
from vigil.provenance.base import (
    Extraction,
    Extractor,
    GenerationRecord,
    JSONValue,
    Strength,
)
from vigil.provenance.generators._chunks import read_fields
from vigil.provenance.generators._decode import load_json_object, looks_like_json_object
from vigil.provenance.generators._record import (
    as_float,
    as_int,
    as_text,
    finding,
    json_safe,
)

TOOL = "NovelAI"

#: NovelAI's published image-signing public key (raw Ed25519, base64), the default
#: `verify_key_hex` of `verify_metadata_is_novelai` in
#: https://github.com/NovelAI/novelai-image-metadata/blob/main/nai_sig.py
NOVELAI_VERIFY_KEY_B64 = "Y2JcQAOhLwzwSDUJPNgL04nS0Tbqm7cSRc4xk0vRMic="
NOVELAI_VERIFY_KEY_SOURCE = (
    "https://github.com/NovelAI/novelai-image-metadata/blob/main/nai_sig.py"
)
DEFAULT_VERIFY_KEYS: t.Mapping[str, bytes] = {
    "novelai": base64.b64decode(NOVELAI_VERIFY_KEY_B64)
}
#: Largest image whose signature is checked (the check holds the RGB bytes in memory
#: twice). Generous for NovelAI's outputs: generations of about 1 MP, at most 16x
#: that after its 4x upscaler.
MAX_SIGNED_PIXELS = 64_000_000
_ED25519_SIGNATURE_BYTES = 64
_META_KEYS = ("Title", "Description", "Software", "Source", "Generation time")
_COMMENT_HANDLED = {
    "prompt",
    "uc",
    "seed",
    "steps",
    "sampler",
    "scale",
    "width",
    "height",
    "signed_hash",
}
# Cheap test before parsing a Comment that no `Software` chunk vouches for.
_COMMENT_MARKERS = ('"signed_hash"', '"uc"', '"v4_prompt"', '"Comment"')
# The signature removed from the raw Comment text, for signers whose JSON layout
# Python's `json.dumps` does not reproduce.
_RAW_SIGNATURE = re.compile(r'\s*,\s*"signed_hash"\s*:\s*"[A-Za-z0-9+/=]*"')
_SOURCE_MODEL_ID = re.compile(r"\b([0-9A-Fa-f]{8})\s*$")


class SignatureStatus(t.NamedTuple):
    status: str  # valid | invalid | unverifiable | absent
    detail: str
    key: str | None = None


class NovelAIExtractor(Extractor):
    """NovelAI text chunks / EXIF, with `signed_hash` verification.

    `verify_keys` maps a key name to a raw 32-byte Ed25519 public key; the default
    is NovelAI's published key.
    """

    name = "novelai"
    version = 2
    media_kinds = frozenset({MediaKind.PNG, MediaKind.WEBP})

    def __init__(self, verify_keys: t.Mapping[str, bytes] | None = None) -> None:
        keys = DEFAULT_VERIFY_KEYS if verify_keys is None else verify_keys
        self.verify_keys = dict(keys)

    def extract(self, subject: Subject) -> Extraction:
        fields = read_fields(subject)
        if subject.kind is MediaKind.PNG:
            meta = {k: fields.png_text(k) for k in (*_META_KEYS, "Comment")}
            source = "png:Comment"
            software = meta.get("Software") or ""
            is_marked = software.startswith(TOOL)
        else:  # WebP: NovelAI's EXIF mapping (nai_sig.py `extract_exif_metadata`)
            meta = {
                "Title": fields.exif_text("DocumentName"),
                "Description": fields.exif_text("ImageDescription"),
                "Source": fields.exif_text("Software"),
                "Comment": fields.exif_text("UserComment"),
            }
            source = "exif:UserComment"
            is_marked = False
        found = novelai_extraction(
            {k: v for k, v in meta.items() if v is not None},
            source,
            subject,
            self.verify_keys,
            is_marked=is_marked,
        )
        return found or Extraction()


def novelai_extraction(
    meta: t.Mapping[str, t.Any],
    source: str,
    subject: Subject,
    verify_keys: t.Mapping[str, bytes],
    *,
    is_marked: bool = False,
) -> Extraction | None:
    """Evidence and record from NovelAI's fields (`Comment` as JSON text), or None
    when they are not NovelAI's. `is_marked`: the container says NovelAI wrote it."""
    comment_text = meta.get("Comment")
    comment: dict[str, t.Any] = {}
    if not isinstance(comment_text, str) or not looks_like_json_object(comment_text):
        comment_text = None
    elif not is_marked and not any(m in comment_text for m in _COMMENT_MARKERS):
        return None  # someone else's JSON comment: not parsed, not an error
    if comment_text is not None:
        comment = load_json_object(comment_text, source)
        inner = comment.get("Comment")
        if isinstance(inner, str) and looks_like_json_object(inner):
            comment_text, comment = inner, load_json_object(inner, source)
    if not (is_marked or is_novelai_comment(comment)):
        return None
    record = parse_novelai(meta, comment, source)
    check = verify_signature(comment, comment_text or "", subject, verify_keys)
    details: dict[str, JSONValue] = {
        "signature": check.status,
        "signature_detail": check.detail,
        "signature_key": check.key,
    }
    if check.status == "valid":
        summary = f"{TOOL} metadata in {source} with a valid NovelAI signature"
        return finding(record, summary, strength=Strength.PROOF, details=details)
    summary = f"{TOOL} metadata in {source} (signature {check.status})"
    return finding(record, summary, details=details)


def is_novelai_comment(comment: t.Mapping[str, t.Any]) -> bool:
    keys = comment.keys()
    return (
        "signed_hash" in keys
        or "v4_prompt" in keys
        or {"uc", "scale", "sampler"} <= keys
    )


def parse_novelai(
    meta: t.Mapping[str, t.Any], comment: t.Mapping[str, t.Any], source: str
) -> GenerationRecord:
    prompt = as_text(comment.get("prompt")) or _v4_caption(comment.get("v4_prompt"))
    negative = as_text(comment.get("uc")) or _v4_caption(
        comment.get("v4_negative_prompt")
    )
    model = as_text(meta.get("Source"))
    extra: dict[str, JSONValue] = {
        k: json_safe(v) for k, v in comment.items() if k not in _COMMENT_HANDLED
    }
    for key in ("Title", "Software", "Generation time"):
        if as_text(meta.get(key)):
            extra[key] = str(meta[key])
    model_id = _SOURCE_MODEL_ID.search(model or "")
    if model and model_id:
        # NovelAI's own model identifier, kept apart from the model's name; it is
        # not one of the community hash conventions.
        extra["novelai_model_id"] = model_id.group(1).lower()
        model = model[: model_id.start()].strip() or model
    return GenerationRecord(
        tool=TOOL,
        source=source,
        prompt=prompt or as_text(meta.get("Description")),
        negative_prompt=negative,
        seed=as_int(comment.get("seed")),
        steps=as_int(comment.get("steps")),
        sampler=as_text(comment.get("sampler")),
        cfg_scale=as_float(comment.get("scale")),
        width=as_int(comment.get("width")),
        height=as_int(comment.get("height")),
        model_name=model,
        extra=extra,
    )


def _v4_caption(value: t.Any) -> str | None:
    caption = value.get("caption") if isinstance(value, dict) else None
    return as_text(caption.get("base_caption")) if isinstance(caption, dict) else None


def verify_signature(
    comment: t.Mapping[str, t.Any],
    comment_text: str,
    subject: Subject,
    verify_keys: t.Mapping[str, bytes],
) -> SignatureStatus:
    """Check `signed_hash` against each key; never raises for a bad signature."""
    encoded = comment.get("signed_hash")
    if encoded is None:
        return SignatureStatus("absent", "no signed_hash in the metadata")
    try:
        signature = base64.b64decode(str(encoded), validate=True)
    except (binascii.Error, ValueError):
        return SignatureStatus("invalid", "signed_hash is not base64")
    if len(signature) != _ED25519_SIGNATURE_BYTES:
        return SignatureStatus("invalid", "signed_hash is not an Ed25519 signature")
    try:
        rgb = rgb_bytes(subject)
    except MediaError as exc:
        return SignatureStatus("unverifiable", f"pixels unreadable: {exc.message}")
    unsigned = {k: v for k, v in comment.items() if k != "signed_hash"}
    messages = [json.dumps(unsigned).encode("utf-8")]
    raw = _RAW_SIGNATURE.sub("", comment_text, count=1).encode("utf-8")
    if raw not in messages:
        messages.append(raw)
    for name, key_bytes in verify_keys.items():
        try:
            key = Ed25519PublicKey.from_public_bytes(key_bytes)
        except ValueError:
            continue
        for message in messages:
            try:
                key.verify(signature, rgb + message)
            except InvalidSignature:
                continue
            return SignatureStatus("valid", f"signed by the {name} key", name)
    if not verify_keys:
        return SignatureStatus("unverifiable", "no verification key configured")
    return SignatureStatus(
        "invalid", "signature does not match the pixels and metadata (edited?)"
    )


def rgb_bytes(subject: Subject) -> bytes:
    """The first frame's RGB bytes as NovelAI signs them (alpha dropped; Pillow's
    RGBA → RGB conversion drops alpha without blending)."""
    image = subject.pixels()
    if image.width * image.height > MAX_SIGNED_PIXELS:
        raise TooManyPixelsError(
            f"{image.width}x{image.height} is over the {MAX_SIGNED_PIXELS}-pixel "
            "limit for signature checks"
        )
    if image.mode != "RGB":
        image = image.convert("RGB")
    return image.tobytes()
