"""What the priority policy reads of an item: a flat set of named facts, each with
where it came from, so that every queue position can be explained by them."""

import dataclasses
import typing as t

from vigil.detection.contradiction import CLAIMED_AI_CONTRADICTION
from vigil.detection.fusion import AI_LIKELIHOOD
from vigil.media.base import MediaKind
from vigil.store.records import ItemView

#: A score a sensitive-content detector may give (none is built in); the policy
#: puts likely-real items with it first when present.
SENSITIVITY_SCORE = "nudity"
PROMPT_RISK = "prompt_risk"
MODEL_RISK = "model_risk"


@dataclasses.dataclass(frozen=True)
class ItemFacts:
    item_id: int
    sha256: str
    kind: str
    is_visual: bool  # an image or a video: something an analyst assesses
    matched: bool  # a hash-list match (not a near-review or held result)
    match_categories: tuple[str, ...]
    ai_evidence: bool
    ai_likelihood: float | None
    claimed_ai_contradiction: float | None
    sensitivity: float | None
    prompt_decision: str | None  # allow | review | block
    prompt_risk: float | None
    model_risk: float | None
    linked_model_flagged: bool  # its generation record names a model on a hash list
    cluster_id: int | None
    cluster_kind: str | None
    cluster_size: int  # 1 when in no cluster
    qc_sample: bool = False  # a list-labelled item drawn for quality control

    def value(self, name: str) -> t.Any:
        """One fact by name.

        Raises:
            KeyError: no such fact.
        """
        if name not in FACT_NAMES:
            raise KeyError(name)
        return getattr(self, name)

    def as_dict(self) -> dict[str, t.Any]:
        data = dataclasses.asdict(self)
        data["match_categories"] = list(self.match_categories)
        return data


#: The facts a policy may name.
FACT_NAMES = frozenset(
    f.name for f in dataclasses.fields(ItemFacts) if f.name not in ("item_id", "sha256")
)


def facts_of(
    view: ItemView,
    *,
    cluster_id: int | None = None,
    cluster_kind: str | None = None,
    cluster_size: int = 1,
    linked_model_flagged: bool = False,
    qc_sample: bool = False,
) -> ItemFacts:
    matched = [m for m in view.matches if m.verdict == "match"]
    prompt = view.score(PROMPT_RISK)
    return ItemFacts(
        item_id=view.item_id,
        sha256=view.sha256,
        kind=view.kind,
        is_visual=_is_visual(view.kind),
        matched=bool(matched),
        match_categories=tuple(sorted({m.category for m in matched if m.category})),
        ai_evidence=view.is_ai,
        ai_likelihood=_value(view, AI_LIKELIHOOD),
        claimed_ai_contradiction=_value(view, CLAIMED_AI_CONTRADICTION),
        sensitivity=_value(view, SENSITIVITY_SCORE),
        prompt_decision=prompt.level if prompt else None,
        prompt_risk=prompt.value if prompt else None,
        model_risk=_value(view, MODEL_RISK),
        linked_model_flagged=linked_model_flagged,
        cluster_id=cluster_id,
        cluster_kind=cluster_kind,
        cluster_size=cluster_size,
        qc_sample=qc_sample,
    )


def _value(view: ItemView, name: str) -> float | None:
    score = view.score(name)
    return score.value if score else None


def _is_visual(kind: str) -> bool:
    try:
        media = MediaKind(kind)
    except ValueError:
        return False
    return media.is_image or media is MediaKind.VIDEO
