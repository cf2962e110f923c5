"""The score: one signal's judgement of one item, in one table for every signal.

Design notes:
- One shape for every signal (`prompt_risk`, `model_risk`, `ai_likelihood`, ...):
  triage, reports and the API read one table and never learn each signal's layout.
- `value` is in [0, 1]; `level` is the signal's own word for the band it falls in
  (the prompt filter's `allow`/`review`/`block`, the model inspector's
  `low`/`review`/`high`); `reasons` are sentences an analyst can read, and
  `details` keeps structured facts (trigger spans) for the console.
- `detector` and `version` say what made it, so a score made by an older version is
  never mistaken for a newer one's.
"""

import dataclasses
import math
import typing as t

JSONValue = t.Any  # JSON-serialisable data


@dataclasses.dataclass(frozen=True)
class Score:
    """One named score of one item."""

    name: str  # lower_snake: prompt_risk, model_risk, ai_likelihood
    value: float
    level: str
    detector: str
    version: int = 1
    reasons: tuple[str, ...] = ()
    details: t.Mapping[str, JSONValue] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.value) and 0.0 <= self.value <= 1.0):
            raise ValueError(f"score {self.name} must be in [0, 1], got {self.value}")

    def as_dict(self) -> dict[str, JSONValue]:
        return {
            "name": self.name,
            "value": round(self.value, 6),
            "level": self.level,
            "detector": self.detector,
            "version": self.version,
            "reasons": list(self.reasons),
            "details": dict(self.details),
        }
