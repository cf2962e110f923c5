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
from vigil.media.errors import DecodeError
from vigil.provenance.base import (
    Evidence,
    EvidenceKind,
    Extraction,
    Extractor,
    MetadataError,
    Strength,
    Subject,
)
from vigil.provenance.xmp import (
    clean_text,
    match_generator,
    source_type_kind,
    source_type_term,
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
#: Actions listed per manifest in `details` (all are still read for claims).
MAX_LISTED_ACTIONS = 50

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
#: Adobe's pre-IPTC assertion for Firefly output (seen in Firefly 1.0 images).
GENERATIVE_AI_ASSERTIONS = frozenset({"com.adobe.generative-ai"})
_AI_DESCRIPTION = re.compile(
    r"\b(?:AI[\s-]generated|generated (?:with|by|using) (?:an? )?AI|generative AI)\b",
    re.IGNORECASE,
)
_MANIFEST_IN_URL = re.compile(r"c2pa/([^/]+)")
_URL = re.compile(r"https?://\S+")
_TRUSTED = "signingCredential.trusted"
_SIGNATURE_VALIDATED = "claimSignature.validated"
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


_RANK = {"invalid": 0, "unverified": 0, "valid": 1, "untrusted": 1, "trusted": 2}
_STRENGTH = (Strength.WEAK, Strength.STRONG, Strength.PROOF)
_STATE_WORDS = {
    "trusted": "signature valid, signer trusted",
    "untrusted": "signature and hashes valid, signer on no loaded trust list",
    "valid": "signature and hashes valid, trust not checked",
    "unverified": "not verified",
}


@dataclasses.dataclass(frozen=True)
class ManifestFacts:
    """What one manifest claims, and how far its validation can be trusted."""

    label: str
    is_active: bool
    parent: str | None  # the manifest that lists this one as an ingredient
    relationship: str | None  # how it entered that manifest (parentOf, componentOf)
    claim_generator: str | None
    signer_issuer: str | None
    signer_common_name: str | None
    signature_alg: str | None
    signing_time: str | None
    actions: tuple[str, ...]
    source_types: tuple[str, ...]  # IPTC terms (last path segment)
    software_agents: tuple[str, ...]
    ai_indicators: tuple[str, ...]  # AI named other than by the IPTC source type
    validation: str  # trusted | untrusted | valid | unverified | invalid
    failure_codes: tuple[str, ...]
    # The weakest validation from this manifest up to the active one: an
    # ingredient's claim reaches this image only through the manifests above it.
    chain_validation: str

    def as_details(self, store_state: str | None, count: int) -> dict[str, t.Any]:
        out = {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in dataclasses.asdict(self).items()
        }
        out["actions"] = out["actions"][:MAX_LISTED_ACTIONS]
        return {
            **out,
            "in_ingredient": not self.is_active,
            "store_validation_state": store_state,
            "manifest_count": count,
        }


def manifest_facts(report: t.Mapping[str, t.Any]) -> list[ManifestFacts]:
    """Facts of every manifest in a store report, the active one first."""
    manifests: dict[str, t.Any] = report["manifests"]
    if not all(isinstance(manifest, dict) for manifest in manifests.values()):
        raise MetadataError("C2PA report holds a manifest that is not an object")
    active = report.get("active_manifest")
    failures, successes = _codes_by_manifest(report, active)
    parents = {
        ingredient.get("active_manifest"): (label, ingredient.get("relationship"))
        for label, manifest in manifests.items()
        for ingredient in _dicts(manifest.get("ingredients"))
    }
    store_invalid = report.get("validation_state") == "Invalid"
    states = {
        label: _validation(
            failures.get(label, set()), successes.get(label, set()), store_invalid
        )
        for label in manifests
    }
    return [
        _facts(
            manifests[label],
            label,
            label == active,
            parents.get(label, (None, None)),
            states[label],
            tuple(sorted(failures.get(label, set()))),
            _chain(label, active, parents, states),
        )
        for label in sorted(manifests, key=lambda label: label != active)
    ]


def _codes_by_manifest(
    report: t.Mapping[str, t.Any], active: t.Any
) -> tuple[dict[t.Any, set[str]], dict[t.Any, set[str]]]:
    # c2pa-rs reports the active manifest's results, ingredient results as recorded
    # when each was added (v3 ingredients) and the deltas of its own re-validation.
    failures = _dicts(report.get("validation_status"))
    successes: list[dict[str, t.Any]] = []
    blocks: list[t.Any] = [_results(report)]
    blocks += [
        delta.get("validationDeltas")
        for delta in _dicts(blocks[0].get("ingredientDeltas"))
    ]
    for manifest in report["manifests"].values():
        for ingredient in _dicts(manifest.get("ingredients")):
            failures += _dicts(ingredient.get("validation_status"))
            blocks.append(_results(ingredient))
    for block in blocks:
        inner = block.get("activeManifest", block) if isinstance(block, dict) else None
        if isinstance(inner, dict):
            failures += _dicts(inner.get("failure"))
            successes += _dicts(inner.get("success"))
    return _by_manifest(failures, active), _by_manifest(successes, active)


def _results(owner: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    results = owner.get("validation_results")
    return results if isinstance(results, dict) else {}


def _by_manifest(
    entries: list[dict[str, t.Any]], active: t.Any
) -> dict[t.Any, set[str]]:
    # Codes name their manifest in the URL: "self#jumbf=/c2pa/<label>/c2pa.signature".
    out: dict[t.Any, set[str]] = {}
    for entry in entries:
        code, url = entry.get("code"), entry.get("url")
        found = _MANIFEST_IN_URL.search(url) if isinstance(url, str) else None
        if isinstance(code, str):
            out.setdefault(found.group(1) if found else active, set()).add(code)
    return out


def _validation(failures: set[str], successes: set[str], store_invalid: bool) -> str:
    if store_invalid or any(not code.endswith(".untrusted") for code in failures):
        return "invalid"
    if _TRUSTED in successes:
        return "trusted"
    if _SIGNATURE_VALIDATED not in successes:
        return "unverified"
    return "untrusted" if "signingCredential.untrusted" in failures else "valid"


def _chain(
    label: str,
    active: t.Any,
    parents: dict[t.Any, tuple[t.Any, t.Any]],
    states: dict[str, str],
) -> str:
    weakest, seen = states[label], {label}
    while label != active:
        parent = parents.get(label, (None, None))[0]
        if parent is None or parent in seen:
            return "unverified"  # bound to this image by no manifest
        label = parent
        seen.add(label)
        if _RANK[states[label]] < _RANK[weakest]:
            weakest = states[label]
    return weakest


def _facts(
    manifest: dict[str, t.Any],
    label: str,
    is_active: bool,
    parent: tuple[t.Any, t.Any],
    validation: str,
    failure_codes: tuple[str, ...],
    chain_validation: str,
) -> ManifestFacts:
    found: dict[str, list[str]] = {
        "actions": [],
        "source_types": [],
        "software_agents": [],
        "ai_indicators": [],
    }
    for assertion in _dicts(manifest.get("assertions")):
        name = str(assertion.get("label", ""))
        data = assertion.get("data")
        data = data if isinstance(data, dict) else {}
        if name in GENERATIVE_AI_ASSERTIONS:
            found["ai_indicators"].append(f"assertion {name}")
        for action in (
            _dicts(data.get("actions")) if name.startswith("c2pa.actions") else []
        ):
            _read_action(action, found)
        for key, value in data.items() if name.startswith("stds.iptc") else []:
            if str(key).endswith("DigitalSourceType") and isinstance(value, str):
                found["source_types"].append(clean_text(source_type_term(value), 200))
    signature = manifest.get("signature_info")
    signature = signature if isinstance(signature, dict) else {}
    return ManifestFacts(
        label=clean_text(label, 300),
        is_active=is_active,
        parent=_str(parent[0]),
        relationship=_str(parent[1]),
        claim_generator=_claim_generator(manifest),
        signer_issuer=_str(signature.get("issuer")),
        signer_common_name=_str(signature.get("common_name")),
        signature_alg=_str(signature.get("alg")),
        signing_time=_str(signature.get("time")),
        validation=validation,
        failure_codes=failure_codes,
        chain_validation=chain_validation,
        actions=tuple(found["actions"]),
        source_types=tuple(dict.fromkeys(found["source_types"])),
        software_agents=tuple(dict.fromkeys(found["software_agents"])),
        ai_indicators=tuple(dict.fromkeys(found["ai_indicators"])),
    )


def _read_action(action: dict[str, t.Any], found: dict[str, list[str]]) -> None:
    found["actions"].append(clean_text(str(action.get("action", "")), 200))
    source_type = action.get("digitalSourceType")
    if isinstance(source_type, str) and source_type.strip():
        found["source_types"].append(clean_text(source_type_term(source_type), 200))
    agent = action.get("softwareAgent")
    agent = agent.get("name") if isinstance(agent, dict) else agent
    if isinstance(agent, str) and agent.strip():
        found["software_agents"].append(clean_text(agent, 200))
        generator = match_generator(agent)
        if generator:
            found["ai_indicators"].append(f"softwareAgent names {generator}")
    parameters = action.get("parameters")
    parameters = parameters if isinstance(parameters, dict) else {}
    for description in (action.get("description"), parameters.get("description")):
        if isinstance(description, str) and _AI_DESCRIPTION.search(description):
            found["ai_indicators"].append(
                f"description {clean_text(description, 200)!r}"
            )


def _claim_generator(manifest: dict[str, t.Any]) -> str | None:
    infos = _dicts(manifest.get("claim_generator_info"))
    named = [(_str(i.get("name")), _str(i.get("version"))) for i in infos]
    joined = " ".join(" ".join(filter(None, pair)) for pair in named if pair[0])
    return _str(manifest.get("claim_generator")) or joined or None


def _dicts(value: t.Any) -> list[dict[str, t.Any]]:
    items = value if isinstance(value, list) else []
    return [item for item in items if isinstance(item, dict)]


def _str(value: t.Any) -> str | None:
    return (clean_text(value, 300) or None) if isinstance(value, str) else None


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
    rank = _RANK[facts.chain_validation]
    details = facts.as_details(store_state, count)
    return [
        Evidence(
            kind,
            "c2pa",
            _STRENGTH[min(rank, _STRENGTH.index(cap))],
            f"C2PA {where} {claim}; {_validity(facts)}",
            details=dict(details),
        )
        for kind, cap, claim in claims
    ]


def _validity(facts: ManifestFacts) -> str:
    signer = facts.signer_issuer or facts.signer_common_name or "unknown signer"
    codes = ", ".join(facts.failure_codes) or "the store failed validation"
    state = _STATE_WORDS.get(facts.validation, f"INVALID ({codes})")
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
        store_state = _str(report.get("validation_state"))
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
