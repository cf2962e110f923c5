"""The walk over a C2PA manifest store report: the facts of each manifest (claims,
actions, signer, validation) with codes attributed to the manifest they name, and the
chain of manifests binding an ingredient to the image. See `vigil.provenance.c2pa`."""

import dataclasses
import re
import typing as t

from vigil.media.errors import MetadataError
from vigil.provenance.base import Strength
from vigil.provenance.xmp import clean_text, match_generator, source_type_term

#: Actions listed per manifest in `details` (all are still read for claims).
MAX_LISTED_ACTIONS = 50
#: Adobe's pre-IPTC assertion for Firefly output (seen in Firefly 1.0 images).
GENERATIVE_AI_ASSERTIONS = frozenset({"com.adobe.generative-ai"})
_AI_DESCRIPTION = re.compile(
    r"\b(?:AI[\s-]generated|generated (?:with|by|using) (?:an? )?AI|generative AI)\b",
    re.IGNORECASE,
)
_MANIFEST_IN_URL = re.compile(r"c2pa/([^/]+)")
_TRUSTED = "signingCredential.trusted"
_SIGNATURE_VALIDATED = "claimSignature.validated"


VALIDATION_RANK = {
    "invalid": 0,
    "unverified": 0,
    "valid": 1,
    "untrusted": 1,
    "trusted": 2,
}
RANK_STRENGTH = (Strength.WEAK, Strength.STRONG, Strength.PROOF)
STATE_WORDS = {
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
        if VALIDATION_RANK[states[label]] < VALIDATION_RANK[weakest]:
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
        parent=text_or_none(parent[0]),
        relationship=text_or_none(parent[1]),
        claim_generator=_claim_generator(manifest),
        signer_issuer=text_or_none(signature.get("issuer")),
        signer_common_name=text_or_none(signature.get("common_name")),
        signature_alg=text_or_none(signature.get("alg")),
        signing_time=text_or_none(signature.get("time")),
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
    named = [
        (text_or_none(i.get("name")), text_or_none(i.get("version"))) for i in infos
    ]
    joined = " ".join(" ".join(filter(None, pair)) for pair in named if pair[0])
    return text_or_none(manifest.get("claim_generator")) or joined or None


def _dicts(value: t.Any) -> list[dict[str, t.Any]]:
    items = value if isinstance(value, list) else []
    return [item for item in items if isinstance(item, dict)]


def text_or_none(value: t.Any) -> str | None:
    return (clean_text(value, 300) or None) if isinstance(value, str) else None
