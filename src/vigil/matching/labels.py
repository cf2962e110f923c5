"""Merging the labels of one hash repeated within a file, and how severe a category is.

VICS exports list one file under several Media records and national sets repeat a
digest, so a repeated hash is one entry: labels merged, the most severe category kept
and a disagreement reported. Kept apart from the store, which only finds the repeats.
"""

import dataclasses
import typing as t

from vigil.matching.base import HashEntry

#: Category severity, higher is more severe. Project VIC VICS categories: 1 child
#: abuse material, 2 child exploitive / age difficult, 3 CGI / animation, 4
#: comparison, 0 non-pertinent. NCMEC industry classifications: A prepubescent, B
#: pubescent; 1 sex act, 2 lascivious exhibition.
CATEGORY_SEVERITY: dict[str, int] = {
    "vics_1": 40,
    "vics_2": 30,
    "vics_3": 20,
    "vics_4": 10,
    "vics_0": 0,
    "ncmec_a1": 40,
    "ncmec_a2": 38,
    "ncmec_b1": 36,
    "ncmec_b2": 34,
}
#: Vigil's choice: a category the table does not know (a hotline's own `csam`) ranks
#: above every known one, so a merge never lowers an entry an analyst labelled.
UNKNOWN_CATEGORY_SEVERITY = 50
#: What joins distinct free-text labels (source, added_by, comment) in a merge.
TEXT_SEPARATOR = "; "


def category_severity(category: str) -> int:
    return CATEGORY_SEVERITY.get(category, UNKNOWN_CATEGORY_SEVERITY)


@dataclasses.dataclass(frozen=True)
class MergedEntry:
    entry: HashEntry
    categories: tuple[str, ...]  # the distinct categories seen, in file order

    @property
    def has_conflict(self) -> bool:
        return len(self.categories) > 1


def _texts(values: t.Iterable[str | None]) -> str | None:
    distinct = list(dict.fromkeys(v for v in values if v))
    return TEXT_SEPARATOR.join(distinct) if distinct else None


def merge_entries(entries: t.Sequence[HashEntry]) -> MergedEntry:
    """One entry for several with the same key, in file order: the most severe
    category (the first of equals), `ai_generated` true if any says so, the first
    `added_at`, distinct texts joined, every distinct extra pair."""
    first = entries[0]
    categories = tuple(dict.fromkeys(e.category for e in entries if e.category))
    category = max(categories, key=category_severity, default=None)
    flags = [e.ai_generated for e in entries if e.ai_generated is not None]
    pairs = dict.fromkeys(pair for e in entries for pair in e.extra)
    merged = HashEntry(
        hash_type=first.hash_type,
        value=first.value,
        category=category,
        ai_generated=any(flags) if flags else None,
        source=_texts(e.source for e in entries),
        added_by=_texts(e.added_by for e in entries),
        added_at=next((e.added_at for e in entries if e.added_at), None),
        comment=_texts(e.comment for e in entries),
        extra=tuple(sorted(pairs, key=lambda pair: pair[0])),
    )
    return MergedEntry(merged, categories)
