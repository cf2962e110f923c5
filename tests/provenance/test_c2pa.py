"""C2PA extractor: the public samples against the recorded summary, no network,
validation states and strengths (with a throw-away test PKI), malformed input."""

import dataclasses
import datetime as dt
import io
import json
import pathlib
import time
import typing as t

import c2pa
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from helpers import require_fixture
from vigil.media.base import Limits, MediaKind
from vigil.media.errors import MediaError
from vigil.media.sniff import SNIFF_BYTES, sniff_bytes
from vigil.media.subject import Subject
from vigil.provenance.base import EvidenceKind, Extraction, Strength
from vigil.provenance.c2pa import (
    MIME_TYPES,
    C2PAExtractor,
    RemoteManifest,
    read_manifest_store,
    reader_settings,
)
from vigil.provenance.run import Provenance, extract_all
from vigil.provenance.xmp import source_type_term

SUMMARY_PATH = (
    pathlib.Path(__file__).resolve().parents[1]
    / "data/fixtures/c2pa/c2pa_manifest_summary.json"
)
SUMMARY: dict[str, dict[str, t.Any]] = json.loads(SUMMARY_PATH.read_text())["files"]
WITH_MANIFEST = sorted(name for name, s in SUMMARY.items() if s["present"] is True)
AI = [name for name in WITH_MANIFEST if name.startswith("c2pa/ai/")]
NON_AI = [name for name in WITH_MANIFEST if name.startswith("c2pa/nonai/")]
INVALID = [name for name in WITH_MANIFEST if name.startswith("c2pa/invalid/")]
WITHOUT = sorted(name for name, s in SUMMARY.items() if s["present"] is False)
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def _run(path: pathlib.Path, extractor: C2PAExtractor | None = None) -> Provenance:
    data = path.read_bytes()
    kind = sniff_bytes(data[:SNIFF_BYTES])
    return extract_all(data, kind, [extractor or C2PAExtractor()], Limits())


def _active(found: Provenance) -> dict[str, t.Any]:
    details = [e.details for e in found.evidence if e.details.get("is_active")]
    assert details, "no evidence from the active manifest"
    return dict(details[0])


def test_every_sample_on_disk_is_in_the_summary(shared_fixtures: pathlib.Path) -> None:
    for folder in ("ai", "nonai", "invalid", "none"):
        for path in (shared_fixtures / "c2pa" / folder).iterdir():
            if path.suffix.lower() in {".jpg", ".jpeg", ".png", ".webp"}:
                assert f"c2pa/{folder}/{path.name}" in SUMMARY


@pytest.mark.parametrize("relative", WITH_MANIFEST)
def test_manifest_facts_match_the_summary(
    shared_fixtures: pathlib.Path, relative: str
) -> None:
    expected = SUMMARY[relative]
    found = _run(require_fixture(shared_fixtures, relative))
    assert not found.errors
    active = _active(found)
    assert active["label"] == expected["active_manifest"]
    assert active["claim_generator"] == expected["claim_generator"]
    assert active["signer_issuer"] == expected["signature_issuer"]
    assert active["signer_common_name"] == expected["signature_common_name"]
    assert active["signing_time"] == expected["signed_time"]
    assert active["manifest_count"] == expected["n_manifests"]
    assert active["actions"] == expected["active_actions"]
    assert active["store_validation_state"] == expected["validation_state"]
    assert set(active["failure_codes"]) == set(expected["validation_status_codes"])
    want = "invalid" if expected["validation_state"] == "Invalid" else "untrusted"
    assert active["validation"] == want  # no trust list: untrusted, never invalid
    agents = {a for e in found.evidence for a in e.details["software_agents"]}
    assert set(expected["software_agents"]) <= agents
    assert all(e.strength is not Strength.PROOF for e in found.evidence)
    json.dumps([e.as_dict() for e in found.evidence])


@pytest.mark.parametrize("relative", AI)
def test_ai_samples_give_ai_evidence_with_their_source_types(
    shared_fixtures: pathlib.Path, relative: str
) -> None:
    expected = SUMMARY[relative]
    found = _run(require_fixture(shared_fixtures, relative))
    ai = [e for e in found.evidence if e.is_ai]
    assert ai
    terms = {term for e in ai for term in e.details["source_types"]}
    wanted = expected["digital_source_types_any_manifest"]
    assert terms == {source_type_term(value) for value in wanted}
    invalid = expected["validation_state"] == "Invalid"
    assert {e.strength for e in ai} == {Strength.WEAK if invalid else Strength.STRONG}


def test_an_ai_claim_in_an_ingredient_counts_and_says_so(
    shared_fixtures: pathlib.Path,
) -> None:
    path = "c2pa/ai/openai-dalle-cloud_surfing_puppy.webp"
    found = _run(require_fixture(shared_fixtures, path))
    (ai,) = [e for e in found.evidence if e.is_ai]
    assert ai.details["in_ingredient"] is True
    assert ai.details["relationship"] == "parentOf"
    assert ai.details["parent"] == SUMMARY[path]["active_manifest"]
    assert "DALL\u00b7E" in ai.details["software_agents"]
    assert "ingredient" in ai.summary


@pytest.mark.parametrize("relative", NON_AI)
def test_non_ai_samples_give_no_ai_evidence(
    shared_fixtures: pathlib.Path, relative: str
) -> None:
    found = _run(require_fixture(shared_fixtures, relative))
    assert found.evidence and not found.is_ai


def test_capture_and_algorithmic_media_are_told_apart(
    shared_fixtures: pathlib.Path,
) -> None:
    capture = _run(require_fixture(shared_fixtures, "c2pa/nonai/C_with_CAWG_data.jpg"))
    assert [(e.kind, e.strength) for e in capture.evidence] == [
        (EvidenceKind.CAPTURED, Strength.STRONG)
    ]
    path = "c2pa/nonai/C_algorithmicMedia.jpg"
    algorithmic = _run(require_fixture(shared_fixtures, path))
    assert [e.kind for e in algorithmic.evidence] == [EvidenceKind.PROVENANCE]
    assert algorithmic.evidence[0].details["source_types"] == ["algorithmicMedia"]


@pytest.mark.parametrize("relative", INVALID)
def test_invalid_samples_report_invalid_and_are_never_proof(
    shared_fixtures: pathlib.Path, relative: str
) -> None:
    found = _run(require_fixture(shared_fixtures, relative))
    assert found.evidence
    for evidence in found.evidence:
        assert evidence.strength is Strength.WEAK
        assert evidence.details["validation"] == "invalid"
        assert "INVALID" in evidence.summary
    broken = set(SUMMARY[relative]["validation_status_codes"])
    broken -= {"signingCredential.untrusted"}
    assert broken and broken <= set(_active(found)["failure_codes"])


@pytest.mark.parametrize("relative", WITHOUT)
def test_files_without_a_manifest_give_nothing(
    shared_fixtures: pathlib.Path, relative: str
) -> None:
    found = _run(require_fixture(shared_fixtures, relative))
    assert found.evidence == () and found.errors == ()


def test_a_remote_manifest_is_reported_and_never_fetched(
    shared_fixtures: pathlib.Path,
) -> None:
    path = require_fixture(shared_fixtures, "c2pa/remote/cloud.jpg")
    started = time.monotonic()
    found = _run(path)
    assert time.monotonic() - started < 1.0
    (evidence,) = found.evidence
    assert (evidence.kind, evidence.strength) == (
        EvidenceKind.PROVENANCE,
        Strength.WEAK,
    )
    assert evidence.details["fetched"] is False
    assert evidence.details["remote_url"].startswith("https://cai-manifests.adobe.com/")
    # c2pa's own message proves it refused before any request was made.
    context = c2pa.Context.from_dict(reader_settings())
    with pytest.raises(c2pa.C2paError, match="must fetch remote manifests"):
        c2pa.Reader("image/jpeg", io.BytesIO(path.read_bytes()), context=context)


def test_the_host_allow_list_blocks_fetching_even_if_switched_on(
    shared_fixtures: pathlib.Path,
) -> None:
    data = require_fixture(shared_fixtures, "c2pa/remote/cloud.jpg").read_bytes()
    settings = reader_settings()
    assert settings["verify"]["ocsp_fetch"] is False
    settings["verify"]["remote_manifest_fetch"] = True
    context = c2pa.Context.from_dict(settings)
    with pytest.raises(c2pa.C2paError, match="not permitted by the allowed list"):
        c2pa.Reader("image/jpeg", io.BytesIO(data), context=context)
    assert isinstance(read_manifest_store(data, "image/jpeg", settings), RemoteManifest)


def test_ocsp_is_skipped(shared_fixtures: pathlib.Path) -> None:
    path = "c2pa/ai/bing-image-creator-cloud_surfing_puppy.jpg"
    data = require_fixture(shared_fixtures, path).read_bytes()
    report = read_manifest_store(data, "image/jpeg", reader_settings())
    assert isinstance(report, dict)
    informational = report["validation_results"]["activeManifest"]["informational"]
    assert "signingCredential.ocsp.skipped" in {i["code"] for i in informational}


# A throw-away PKI: a root the test trusts, a root it does not, a signer under each.


@dataclasses.dataclass(frozen=True)
class Signer:
    chain: bytes
    key: bytes


@dataclasses.dataclass(frozen=True)
class PKI:
    root_pem: str
    trusted: Signer
    other: Signer


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _usage(**allowed: bool) -> x509.KeyUsage:
    names = (
        "digital_signature content_commitment key_encipherment data_encipherment "
        "key_agreement key_cert_sign crl_sign encipher_only decipher_only"
    ).split()
    return x509.KeyUsage(**{name: allowed.get(name, False) for name in names})


def _certificate(
    subject: str,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey | None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
    )
    if issuer is None or issuer_key is None:  # a root
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=None), critical=True
        ).add_extension(_usage(key_cert_sign=True, crl_sign=True), critical=True)
        return builder.sign(key, hashes.SHA256()), key
    builder = (
        builder.add_extension(
            x509.BasicConstraints(ca=False, path_length=None), critical=True
        )
        .add_extension(_usage(digital_signature=True), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    return builder.sign(issuer_key, hashes.SHA256()), key


def _signer(root_name: str) -> tuple[Signer, str]:
    root, root_key = _certificate(root_name, None, None)
    leaf, key = _certificate(f"{root_name} signer", root, root_key)
    pem = serialization.Encoding.PEM
    chain = leaf.public_bytes(pem) + root.public_bytes(pem)
    private = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return Signer(chain, private), root.public_bytes(pem).decode()


@pytest.fixture(scope="module")
def pki() -> PKI:
    trusted, root_pem = _signer("Vigil Test Root")
    other, _ = _signer("Unlisted Test Root")
    return PKI(root_pem, trusted, other)


def _image(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.linear_gradient("L").convert("RGB").resize((64, 48)).save(buffer, fmt)
    return buffer.getvalue()


def _sign(
    source: bytes,
    mime: str,
    signer: Signer,
    source_type: str | None = "trainedAlgorithmicMedia",
    ingredient: bytes | None = None,
) -> bytes:
    if ingredient is None:
        action = {"action": "c2pa.created", "digitalSourceType": IPTC + source_type}
    else:
        action = {"action": "c2pa.opened", "parameters": {"ingredientIds": ["p"]}}
    manifest = {
        "claim_generator_info": [{"name": "vigil-tests", "version": "1"}],
        "assertions": [{"label": "c2pa.actions", "data": {"actions": [action]}}],
    }
    settings = {**reader_settings(), "builder": {"thumbnail": {"enabled": False}}}
    builder = c2pa.Builder(manifest, c2pa.Context.from_dict(settings))
    if ingredient is not None:
        parent = {"title": "parent", "relationship": "parentOf", "label": "p"}
        builder.add_ingredient_from_stream(parent, mime, io.BytesIO(ingredient))
    info = c2pa.C2paSignerInfo(b"es256", signer.chain, signer.key, None)
    out = io.BytesIO()
    builder.sign(c2pa.Signer.from_info(info), mime, io.BytesIO(source), out)
    return out.getvalue()


def _extract(data: bytes, extractor: C2PAExtractor) -> Extraction:
    return extractor.extract(Subject(data, sniff_bytes(data[:SNIFF_BYTES]), Limits()))


def _summary(found: Extraction) -> list[tuple[EvidenceKind, Strength, str]]:
    return [(e.kind, e.strength, e.details["validation"]) for e in found.evidence]


def test_a_trusted_signer_makes_an_ai_claim_proof(pki: PKI) -> None:
    signed = _sign(_image("JPEG"), "image/jpeg", pki.trusted)
    trusting = C2PAExtractor(trust_anchors_pem=pki.root_pem)
    ai = EvidenceKind.AI_GENERATED
    assert _summary(_extract(signed, trusting)) == [(ai, Strength.PROOF, "trusted")]
    assert _summary(_extract(signed, C2PAExtractor())) == [
        (ai, Strength.STRONG, "untrusted")
    ]
    other = _sign(_image("JPEG"), "image/jpeg", pki.other)
    assert _summary(_extract(other, trusting)) == [(ai, Strength.STRONG, "untrusted")]


def test_unusable_trust_anchors_are_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="trust anchors"):
        C2PAExtractor(trust_anchors_pem="not a certificate")


def test_a_tampered_image_is_never_proof(pki: PKI) -> None:
    signed = bytearray(_sign(_image("JPEG"), "image/jpeg", pki.trusted))
    signed[-10] ^= 0xFF  # inside the entropy-coded pixels, under the hash
    found = _extract(bytes(signed), C2PAExtractor(trust_anchors_pem=pki.root_pem))
    assert _summary(found) == [(EvidenceKind.AI_GENERATED, Strength.WEAK, "invalid")]
    assert found.evidence[0].details["failure_codes"] == ["assertion.dataHash.mismatch"]


@pytest.mark.parametrize(
    ("source_type", "kind"),
    [
        ("digitalCapture", EvidenceKind.CAPTURED),
        ("compositeWithTrainedAlgorithmicMedia", EvidenceKind.AI_GENERATED),
        ("algorithmicMedia", EvidenceKind.PROVENANCE),
        ("compositeSynthetic", EvidenceKind.PROVENANCE),
    ],
)
def test_source_types_map_to_kinds(
    pki: PKI, source_type: str, kind: EvidenceKind
) -> None:
    signed = _sign(_image("JPEG"), "image/jpeg", pki.trusted, source_type)
    found = _extract(signed, C2PAExtractor(trust_anchors_pem=pki.root_pem))
    assert _summary(found) == [(kind, Strength.PROOF, "trusted")]


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [
        ("PNG", "image/png"),
        ("WEBP", "image/webp"),
        ("TIFF", "image/tiff"),
        ("GIF", "image/gif"),
        ("AVIF", "image/avif"),
    ],
)
def test_every_image_kind_is_read(pki: PKI, fmt: str, mime: str) -> None:
    signed = _sign(_image(fmt), mime, pki.trusted)
    assert sniff_bytes(signed[:SNIFF_BYTES]) in MIME_TYPES
    found = _extract(signed, C2PAExtractor())
    assert [e.kind for e in found.evidence] == [EvidenceKind.AI_GENERATED]


def test_an_ingredient_claim_is_only_as_strong_as_its_binding(pki: PKI) -> None:
    generated = _sign(_image("JPEG"), "image/jpeg", pki.trusted)
    trusting = C2PAExtractor(trust_anchors_pem=pki.root_pem)
    # Anyone can attach a genuine manifest to another image under their own key.
    rewrapped = _sign(_image("JPEG"), "image/jpeg", pki.other, ingredient=generated)
    (ai,) = [e for e in _extract(rewrapped, trusting).evidence if e.is_ai]
    assert ai.strength is Strength.STRONG
    assert (ai.details["validation"], ai.details["chain_validation"]) == (
        "trusted",
        "untrusted",
    )
    edited = _sign(_image("JPEG"), "image/jpeg", pki.trusted, ingredient=generated)
    (ai,) = [e for e in _extract(edited, trusting).evidence if e.is_ai]
    assert ai.strength is Strength.PROOF and ai.details["in_ingredient"] is True


def test_corrupt_jumbf_is_a_metadata_error(pki: PKI) -> None:
    signed = bytearray(_sign(_image("JPEG"), "image/jpeg", pki.trusted))
    box = signed.find(b"jumd")
    signed[box : box + 4] = b"xxxx"
    found = extract_all(bytes(signed), MediaKind.JPEG, [C2PAExtractor()], Limits())
    assert [e.reason for e in found.errors] == ["malformed_metadata"]
    assert found.evidence == ()


def test_every_truncation_is_an_extraction_or_a_media_error(pki: PKI) -> None:
    signed = _sign(_image("JPEG"), "image/jpeg", pki.trusted)
    extractor = C2PAExtractor()
    outcomes = set()
    for end in range(0, len(signed), max(1, len(signed) // 97)):
        try:
            found = extractor.extract(Subject(signed[:end], MediaKind.JPEG, Limits()))
        except MediaError as exc:
            outcomes.add(exc.reason)
        else:
            outcomes.add("ok")
            assert all(e.strength is Strength.WEAK for e in found.evidence)
    assert "ok" in outcomes and outcomes <= {"ok", "decode_error", "malformed_metadata"}


def test_input_over_the_size_limit_is_refused(pki: PKI) -> None:
    signed = _sign(_image("JPEG"), "image/jpeg", pki.trusted)
    limits = Limits(max_image_bytes=len(signed) - 1)
    found = extract_all(signed, MediaKind.JPEG, [C2PAExtractor()], limits)
    assert [e.reason for e in found.errors] == ["malformed_metadata"]
    assert "input limit" in found.errors[0].message


def test_malformed_fixtures_never_crash(shared_fixtures: pathlib.Path) -> None:
    folder = shared_fixtures / "generated" / "malformed"
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        kind = sniff_bytes(data[:SNIFF_BYTES])
        found = extract_all(data, kind, [C2PAExtractor()], Limits())
        assert found.evidence == ()
        assert {e.reason for e in found.errors} <= {
            "decode_error",
            "malformed_metadata",
        }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=2048), kind=st.sampled_from(sorted(MIME_TYPES)))
def test_random_bytes_give_nothing_or_a_media_error(
    data: bytes, kind: MediaKind
) -> None:
    try:
        found = C2PAExtractor().extract(Subject(data, kind, Limits()))
    except MediaError as exc:
        assert exc.reason in {"decode_error", "malformed_metadata"}
    else:
        assert found == Extraction()
