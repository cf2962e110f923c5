"""C2PA manifests: signed claims of how an image was made, read with c2pa-python.

Design notes (the rules in full: docs/provenance-c2pa.md):
- No network, ever: remote manifest and OCSP fetching are off and the network host
  allow-list is empty. A remote-only manifest becomes weak `provenance` evidence.
- c2pa is native code that no timer can interrupt, so its work is bounded by input
  size (`MAX_C2PA_INPUT_BYTES`, `MAX_C2PA_REPORT_BYTES`, `MAX_C2PA_MANIFESTS`).
- Every manifest is walked, the active one and each ingredient's. Validation codes
  are attributed to the manifest their JUMBF URL names; an ingredient's claim is
  only as good as the weakest manifest binding it to this image.
- Strength: `proof` only when that chain is trusted (a configured trust anchor);
  `strong` when valid but untrusted (the default, as no trust list is loaded);
  `weak` when invalid or unverified. Invalid AI claims stay `ai_generated`, weak,
  with their failure codes. AI named other than by the IPTC source type (generator
  name, description, Adobe's generative-AI assertion) is at most `strong`.
"""

import dataclasses
import io
import json
import re
import typing as t

from vigil.media.base import MediaKind
from vigil.media.errors import DecodeError, MetadataError
from vigil.media.subject import Subject
from vigil.provenance._c2pa_manifests import (
    RANK_STRENGTH,
    STATE_WORDS,
    VALIDATION_RANK,
    ManifestFacts,
    manifest_facts,
    text_or_none,
)
from vigil.provenance.base import (
    Evidence,
    EvidenceKind,
    Extraction,
    Extractor,
    Strength,
)
from vigil.provenance.xmp import (
    clean_text,
    source_type_kind,
)

#: Largest input handed to c2pa. It hashes the whole asset to check the hard binding,
#: so time grows with size (~1 ms per MB measured); the figure matches the media
#: package's DEFAULT_MAX_IMAGE_BYTES.
MAX_C2PA_INPUT_BYTES = 256 * 1024 * 1024
#: Largest manifest store report (JSON) walked. The public samples' reports are
#: 3-85 KB; the cap leaves room for long edit histories while bounding the walk.
MAX_C2PA_REPORT_BYTES = 16 * 1024 * 1024
#: Most manifests accepted in one store (the public samples hold 1-3).
MAX_C2PA_MANIFESTS = 100

MIME_TYPES = {
    MediaKind.JPEG: "image/jpeg",
    MediaKind.PNG: "image/png",
    MediaKind.WEBP: "image/webp",
    MediaKind.GIF: "image/gif",
    MediaKind.TIFF: "image/tiff",
    MediaKind.HEIF: "image/heif",  # c2pa reads HEIC and AVIF alike (ISO-BMFF)
}

# C2PA action names (C2PA 2.x spec §18.12 "Actions") that change the content.
EDIT_ACTIONS = frozenset(
    "c2pa.color_adjustments c2pa.cropped c2pa.deleted c2pa.drawing c2pa.edited "
    "c2pa.enhanced c2pa.filtered c2pa.orientation c2pa.placed c2pa.redacted "
    "c2pa.removed c2pa.resized c2pa.trimmed c2pa.unknown".split()
)
_URL = re.compile(r"https?://\S+")
_CONTAINER_ERRORS = ("NotSupported", "Io")


def reader_settings(trust_anchors_pem: str | None = None) -> dict[str, t.Any]:
    """c2pa settings: never fetch a remote manifest or an OCSP response, and allow no
    network host at all should either be switched back on."""
    settings: dict[str, t.Any] = {
        "verify": {
            "remote_manifest_fetch": False,
            "ocsp_fetch": False,
            "verify_trust": True,
            "verify_after_reading": True,
        },
        "core": {"allowed_network_hosts": []},
    }
    if trust_anchors_pem:
        settings["trust"] = {"trust_anchors": trust_anchors_pem}
    return settings


@dataclasses.dataclass(frozen=True)
class RemoteManifest:
    """The asset points to a manifest stored elsewhere, which was not fetched."""

    url: str | None


def read_manifest_store(
    data: bytes, mime: str, settings: t.Mapping[str, t.Any]
) -> dict[str, t.Any] | RemoteManifest | None:
    """The manifest store report of `data`, None when it has no manifest.

    Raises:
        DecodeError: c2pa cannot parse the container at all.
        MetadataError: the manifest store is corrupt or over a limit.
    """
    import c2pa

    try:
        with (
            c2pa.Context.from_dict(dict(settings)) as context,
            c2pa.Reader(mime, io.BytesIO(data), context=context) as reader,
        ):
            text = reader.json()
    except c2pa.C2paError.ManifestNotFound:
        return None
    except c2pa.C2paError as exc:
        message = clean_text(str(exc), 300)
        if message.startswith("Remote"):
            found = _URL.search(message)
            return RemoteManifest(found.group(0).rstrip(").,") if found else None)
        kind = message.split(":", 1)[0]
        if kind in _CONTAINER_ERRORS or "asset could not be parsed" in message:
            raise DecodeError(f"c2pa cannot parse the container: {message}") from exc
        raise MetadataError(f"C2PA manifest store is malformed: {message}") from exc
    if len(text) > MAX_C2PA_REPORT_BYTES:
        raise MetadataError(
            f"C2PA report of {len(text)} bytes is over {MAX_C2PA_REPORT_BYTES}"
        )
    try:
        report = json.loads(text)
    except ValueError as exc:
        raise MetadataError(f"c2pa gave a report that is not JSON: {exc}") from exc
    if not isinstance(report, dict) or not isinstance(report.get("manifests"), dict):
        raise MetadataError("C2PA report has no manifests")
    if len(report["manifests"]) > MAX_C2PA_MANIFESTS:
        raise MetadataError(
            f"C2PA store holds {len(report['manifests'])} manifests, "
            f"over {MAX_C2PA_MANIFESTS}"
        )
    return report


def manifest_evidence(
    facts: ManifestFacts, store_state: str | None, count: int
) -> list[Evidence]:
    """The evidence one manifest gives (see the module notes for the rules)."""
    ai, captured = EvidenceKind.AI_GENERATED, EvidenceKind.CAPTURED
    terms: dict[EvidenceKind, list[str]] = {kind: [] for kind in EvidenceKind}
    for term in facts.source_types:
        terms[source_type_kind(term)].append(term)
    claims: list[tuple[EvidenceKind, Strength, str]] = []
    if terms[ai]:
        claim = f"claims AI generation: digitalSourceType {', '.join(terms[ai])}"
        claims.append((ai, Strength.PROOF, claim))
    elif facts.ai_indicators:  # not the IPTC vocabulary: never proof
        claim = f"names an AI generator: {'; '.join(facts.ai_indicators)}"
        claims.append((ai, Strength.STRONG, claim))
    if terms[captured]:
        claim = f"claims a capture: digitalSourceType {', '.join(terms[captured])}"
        claims.append((captured, Strength.PROOF, claim))
    if facts.is_active and not claims:
        claim = f"comes from {facts.claim_generator or 'an unnamed tool'}"
        claims.append((EvidenceKind.PROVENANCE, Strength.PROOF, claim))
    edits = sorted({action for action in facts.actions if action in EDIT_ACTIONS})
    if facts.is_active and edits:
        claim = f"records edits ({', '.join(edits)})"
        claims.append((EvidenceKind.EDITED, Strength.PROOF, claim))
    where = "active manifest" if facts.is_active else "ingredient manifest"
    rank = VALIDATION_RANK[facts.chain_validation]
    details = facts.as_details(store_state, count)
    return [
        Evidence(
            kind,
            "c2pa",
            RANK_STRENGTH[min(rank, RANK_STRENGTH.index(cap))],
            f"C2PA {where} {claim}; {_validity(facts)}",
            details=dict(details),
        )
        for kind, cap, claim in claims
    ]


def _validity(facts: ManifestFacts) -> str:
    signer = facts.signer_issuer or facts.signer_common_name or "unknown signer"
    codes = ", ".join(facts.failure_codes) or "the store failed validation"
    state = STATE_WORDS.get(facts.validation, f"INVALID ({codes})")
    if facts.chain_validation != facts.validation:
        state += f"; bound to this image through a {facts.chain_validation} manifest"
    return f"signed by {signer}; {state}"


class C2PAExtractor(Extractor):
    """Content Credentials (C2PA): claimed source type, actions, signer, validity."""

    name = "c2pa"
    version = 1
    media_kinds = frozenset(MIME_TYPES)

    def __init__(self, trust_anchors_pem: str | None = None) -> None:
        """`trust_anchors_pem`: PEM root certificates whose signers count as
        trusted; without them nothing is ever `proof`.

        Raises:
            ValueError: the trust anchors are not PEM certificates c2pa can use.
        """
        self.trust_anchors_pem = trust_anchors_pem
        if trust_anchors_pem:
            import c2pa

            try:
                c2pa.Context.from_dict(reader_settings(trust_anchors_pem)).close()
            except c2pa.C2paError as exc:
                raise ValueError(f"unusable C2PA trust anchors: {exc}") from exc

    def extract(self, subject: Subject) -> Extraction:
        limit = min(MAX_C2PA_INPUT_BYTES, subject.limits.max_image_bytes)
        if len(subject.data) > limit:
            raise MetadataError(
                f"{len(subject.data)} bytes is over the {limit}-byte C2PA input limit"
            )
        report = read_manifest_store(
            subject.data,
            MIME_TYPES[subject.kind],
            reader_settings(self.trust_anchors_pem),
        )
        if report is None:
            return Extraction()
        if isinstance(report, RemoteManifest):
            return Extraction(evidence=(_remote_evidence(report),))
        facts = manifest_facts(report)
        store_state = text_or_none(report.get("validation_state"))
        evidence = [
            item
            for one in facts
            for item in manifest_evidence(one, store_state, len(facts))
        ]
        return Extraction(evidence=tuple(evidence))


def _remote_evidence(remote: RemoteManifest) -> Evidence:
    where = remote.url or "an unreadable URL"
    return Evidence(
        EvidenceKind.PROVENANCE,
        "c2pa",
        Strength.WEAK,
        f"C2PA manifest is stored remotely at {where}; not fetched (no network)",
        details={
            "manifest_location": "remote",
            "remote_url": remote.url,
            "fetched": False,
            "validation": "not_fetched",
        },
    )
