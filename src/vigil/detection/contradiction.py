"""Claimed-AI contradiction: an item presented as AI-generated that matches a hash
list of real imagery. A real child may be behind it (perpetrators claim real
images are AI), so triage puts it first.

It fires when both hold:
- the item claims AI: provenance evidence of AI generation (any strength: a claim
  is what is being checked), a matched list entry labelled AI-generated, or a name
  that says so (`AI_NAME_PATTERN`, over the file and folder names);
- it matches (verdict `match`) a list entry labelled not AI-generated.
Both facts are the score's reasons.
"""

import re
import typing as t

from vigil.detection.score import Score
from vigil.matching.matcher import MatchResult, Verdict
from vigil.provenance.base import Evidence

CLAIMED_AI_CONTRADICTION = "claimed_ai_contradiction"
CONTRADICTION_DETECTOR = "contradiction"
#: Names that present a file as AI-generated, as whole words: what forum dumps and
#: seized devices show ("AI", "ai_generated", "midjourney", "stable diffusion",
#: "sdxl", "dall-e", "novelai", "comfyui"). Bare "sd" is left out: SD cards.
AI_NAME_PATTERN = re.compile(
    r"(?i)(?<![a-z])(ai|a\.i\.|ai[ _-]?generated|midjourney|stable[ _-]?diffusion|"
    r"sdxl|sd[ _-]?1\.?5|dall[ _-]?e|novelai|comfy[ _-]?ui|flux)(?![a-z])"
)


def claimed_ai_contradiction(
    evidence: t.Sequence[Evidence],
    names: t.Sequence[str],
    matches: t.Sequence[MatchResult],
    pattern: re.Pattern[str] = AI_NAME_PATTERN,
) -> Score | None:
    """The contradiction score, or None when the item does not claim AI or matches
    no entry labelled real."""
    matched = [m for m in matches if m.verdict is Verdict.MATCH]
    real = [m for m in matched if m.entry.ai_generated is False]
    if not real:
        return None
    claims = [f"AI evidence: {e.summary}" for e in evidence if e.is_ai]
    claims += [
        f"labelled AI-generated on hash list {m.hash_list.name}"
        for m in matched
        if m.entry.ai_generated is True
    ]
    claims += [f"named as AI: {name}" for name in names if pattern.search(name)]
    if not claims:
        return None
    facts = [
        f"matches {m.hash_list.name} ({m.entry.hash_type}, distance {m.distance}), "
        f"an entry labelled real imagery"
        + (f", category {m.entry.category}" if m.entry.category else "")
        for m in real
    ]
    return Score(
        name=CLAIMED_AI_CONTRADICTION,
        value=1.0,
        level="flagged",
        detector=CONTRADICTION_DETECTOR,
        reasons=(*claims, *facts),
        details={"real_entries": [m.entry.id for m in real]},
    )
