"""The evidence detector: what provenance evidence alone says about AI generation.

Proof (a verified signature: C2PA with a trusted or valid manifest, NovelAI's
signed hash) or strong evidence (a generator's own structured metadata, a known
invisible watermark) of AI generation decides. A valid C2PA capture claim, with no
AI claim beside it, decides the other way. Weak claims (XMP fields, camera EXIF, an
invalid manifest) anyone can type or strip: they are reasons, never verdicts.
"""

import typing as t

from vigil.detection.base import Decisiveness, Detection, DetectionInput, Detector
from vigil.media.subject import Subject
from vigil.provenance.base import Evidence, EvidenceKind, Strength

#: P(AI) given AI evidence of each strength that decides. Vigil's choice: proof is
#: a verified signature, so only a stolen signing key could make it wrong; strong
#: metadata or a watermark can be copied onto a real photo by hand, which is rare
#: in the field but seen.
AI_PROOF_PROBABILITY = 0.99
AI_STRONG_PROBABILITY = 0.95
#: P(AI) given a verified capture claim and no AI claim: a signed capture manifest
#: from a camera or phone, which an AI edit later in its chain would have named.
CAPTURE_PROOF_PROBABILITY = 0.05
_DECIDING = (Strength.PROOF, Strength.STRONG)


class EvidenceDetector(Detector):
    name: t.ClassVar[str] = "evidence"

    def detect(self, subject: Subject, facts: DetectionInput) -> Detection:  # noqa: ARG002
        ai = [e for e in facts.evidence if e.kind is EvidenceKind.AI_GENERATED]
        captured = [e for e in facts.evidence if e.kind is EvidenceKind.CAPTURED]
        deciding = [e for e in ai if e.strength in _DECIDING]
        if deciding:
            best = min(deciding, key=lambda e: _DECIDING.index(e.strength))
            probability = (
                AI_PROOF_PROBABILITY
                if best.strength is Strength.PROOF
                else AI_STRONG_PROBABILITY
            )
            reasons = tuple(_reason(e) for e in deciding)
            return Detection(self.name, probability, Decisiveness.DECIDES, reasons)
        proven_capture = [e for e in captured if e.strength is Strength.PROOF]
        if proven_capture and not ai:
            reasons = tuple(_reason(e) for e in proven_capture)
            return Detection(
                self.name, CAPTURE_PROOF_PROBABILITY, Decisiveness.DECIDES, reasons
            )
        weak = tuple(f"weak, not a verdict: {_reason(e)}" for e in (*ai, *captured))
        return Detection(self.name, None, Decisiveness.CONTRIBUTES, weak)


def _reason(evidence: Evidence) -> str:
    what = f"{evidence.strength.value} {evidence.kind.value} ({evidence.source})"
    return f"{what}: {evidence.summary}"
