"""Hash lists from assessments: the md5, sha1, sha256 and PDQ of each assessed item,
labelled with what the assessment derived, so that nobody has to look again.

The category is the Project VIC one as `vics_<n>` (what VICS carries as Category);
the UK category, legal route, NCMEC class, INTERPOL eligibility, outcome, mapping
version and the assessment that produced the entry travel as extra fields. Only
assessments that hold now count: a superseded one's entries are relabelled from the
one that superseded it when the list is made again.
"""

import typing as t

from vigil.hashing.types import PDQ
from vigil.matching.base import HashEntry
from vigil.store.records import AssessmentSource, AssessmentView, ItemView

#: Hashes a list from assessments carries, in this order.
LIST_HASHERS = ("md5", "sha1", "sha256", PDQ.name)
#: Below this PDQ quality a hash would match noise (Meta's PDQ notes: <= 49).
MIN_LIST_PDQ_QUALITY = 50
LIST_SOURCE = "vigil assessment"
_AI = {"yes": True, "no": False}


def entries_from_assessments(
    assessments: t.Iterable[AssessmentView],
    items: t.Mapping[int, ItemView],
    *,
    outcome: str | None = "criminal",
) -> list[HashEntry]:
    """One entry per hash of each item whose holding assessment (by an analyst or
    propagated; never a list label) has this outcome (None: any)."""
    entries: list[HashEntry] = []
    for made in assessments:
        if not made.active or made.source == AssessmentSource.HASH_LIST:
            continue
        if outcome is not None and made.observations.get("outcome") != outcome:
            continue
        item = items.get(made.item_id)
        if item is None:
            continue
        derived, observed = made.derived, made.observations
        extra = {
            "assessment": str(made.id),
            "mapping_version": made.mapping_version,
            "outcome": str(observed.get("outcome")),
            "uk_category": str(derived.get("uk_category") or ""),
            "legal_route": str(derived.get("legal_route") or ""),
            "ncmec_class": str(derived.get("ncmec_class") or ""),
            "interpol_baseline": "true"
            if derived.get("interpol_baseline")
            else "false",
        }
        for result in item.hashes:
            if result.hasher not in LIST_HASHERS:
                continue
            if result.hasher == PDQ.name and (
                (result.quality or 0) < MIN_LIST_PDQ_QUALITY
                or PDQ.is_degenerate(result.value)
            ):
                continue
            entries.append(
                HashEntry(
                    hash_type=result.hasher,
                    value=result.value,
                    category=f"vics_{derived.get('project_vic', 0)}",
                    ai_generated=_AI.get(str(observed.get("ai_generated"))),
                    source=LIST_SOURCE,
                    added_by=made.analyst,
                    added_at=made.created_at,
                    comment=f"assessment {made.id}",
                    extra=tuple(sorted((k, v) for k, v in extra.items() if v)),
                )
            )
    entries.sort(key=lambda e: (LIST_HASHERS.index(e.hash_type), e.value))
    return entries
