"""The Matcher: an item's hashes against every loaded hash list, with list safety rules.

Rules, from the hash-lists issue: a perceptual hash within the list's threshold for
its type is a match; between the threshold and the type's `near_review_bits` it is
"near, review" and never a match; entries of suppression lists (or items whose own
hash is on one) never match; a quarantined entry's matches are held for review, not
reported. A degenerate hash (a constant PDQ, what blank and one-pixel images give) on
either side, or a query below its type's quality minimum, is never a match: it is
"near, review" with the reason. Every result keeps the distance, the query variant
that hit, both qualities, the reason and the list's name and version.
"""

import dataclasses
import enum
import typing as t

from vigil.hashing.types import BUILTIN, HashType, HashTypes
from vigil.matching.base import Index
from vigil.matching.index import make_index

ORIGINAL_VARIANT = "original"
#: Builds the index for one hash type (the registry's, in scans).
IndexFactory = t.Callable[[HashType], Index]


class Verdict(enum.StrEnum):
    MATCH = "match"
    NEAR_REVIEW = "near_review"
    HELD = "held"  # the entry is quarantined (flooding): kept for review, not reported


class MatchReason(enum.StrEnum):
    """Why a result is not a plain match (`MatchResult.reason`)."""

    BEYOND_THRESHOLD = "beyond_threshold"  # within near-review bits, past the threshold
    ENTRY_DEGENERATE = "entry_degenerate"  # the list's hash is constant (all-zero, ...)
    QUERY_DEGENERATE = "query_degenerate"  # the item's hash is constant
    QUERY_LOW_QUALITY = "query_low_quality"  # below the type's min_reliable_quality
    QUARANTINED = "quarantined"  # the entry is held after flooding


@dataclasses.dataclass(frozen=True)
class ListRef:
    id: int
    name: str
    version: int
    # match thresholds in bits by perceptual hash type; a type not named here uses
    # its default (`HashType.default_threshold_bits`)
    thresholds: t.Mapping[str, int]
    pdq_pipeline: str

    def threshold(self, hash_type: HashType) -> int:
        if not hash_type.is_perceptual:
            return 0
        return self.thresholds.get(hash_type.name, hash_type.default_threshold_bits)


@dataclasses.dataclass(frozen=True)
class EntryRef:
    id: int
    list_id: int
    hash_type: str
    value: str
    category: str | None = None
    ai_generated: bool | None = None
    source: str | None = None
    is_quarantined: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.hash_type, self.value)


@dataclasses.dataclass(frozen=True)
class Query:
    """One hash of the item being matched, and the variant of the image it came from."""

    hasher: str
    value: str
    pipeline: str
    variant: str = ORIGINAL_VARIANT
    quality: int | None = None


@dataclasses.dataclass(frozen=True)
class MatchResult:
    entry: EntryRef
    hash_list: ListRef
    query: Query
    distance: int
    threshold_bits: int
    verdict: Verdict
    reason: MatchReason | None = None  # None for a match

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "list": self.hash_list.name,
            "list_version": self.hash_list.version,
            "verdict": self.verdict.value,
            "reason": None if self.reason is None else self.reason.value,
            "hash_type": self.entry.hash_type,
            "entry": self.entry.value,
            "query": self.query.value,
            "variant": self.query.variant,
            "distance": self.distance,
            "threshold_bits": self.threshold_bits,
            "query_quality": self.query.quality,
            "query_pipeline": self.query.pipeline,
            "list_pipeline": self.hash_list.pdq_pipeline,
            "category": self.entry.category,
            "ai_generated": self.entry.ai_generated,
            "source": self.entry.source,
        }


class Matcher:
    """Indexes of every loaded entry, one per hash type, searched together."""

    def __init__(
        self,
        lists: t.Iterable[ListRef],
        entries: t.Iterable[EntryRef],
        suppressed: t.Iterable[tuple[str, str]] = (),
        *,
        hash_types: HashTypes = BUILTIN,
        index_factory: IndexFactory = make_index,
    ) -> None:
        self.lists = {ref.id: ref for ref in lists}
        self.hash_types = hash_types
        self.suppressed = frozenset(suppressed)
        self.entries: dict[int, EntryRef] = {}
        self.indexes: dict[str, Index] = {}
        pending: dict[str, tuple[list[int], list[str]]] = {}
        for entry in entries:
            if entry.list_id not in self.lists or entry.key in self.suppressed:
                continue
            self.entries[entry.id] = entry
            hash_type = hash_types.canonical(entry.hash_type)
            ids, values = pending.setdefault(hash_type, ([], []))
            ids.append(entry.id)
            values.append(entry.value)
        for name, (ids, values) in pending.items():
            index = index_factory(self._type(name))
            index.add(ids, values)
            self.indexes[name] = index
        self.max_threshold_bits = {
            name: max(
                (ref.threshold(self._type(name)) for ref in self.lists.values()),
                default=0,
            )
            for name in self.indexes
        }

    def _type(self, name: str) -> HashType:
        return self.hash_types.get(name) or HashType(name=name, hex_length=None)

    def __len__(self) -> int:
        return len(self.entries)

    def quarantine(self, entry_id: int) -> None:
        entry = self.entries.get(entry_id)
        if entry is not None:
            self.entries[entry_id] = dataclasses.replace(entry, is_quarantined=True)

    def match(self, queries: t.Iterable[Query]) -> list[MatchResult]:
        """The best result per (entry, hasher) over all query variants."""
        best: dict[tuple[int, str], MatchResult] = {}
        for query in queries:
            if (query.hasher, query.value) in self.suppressed:
                return []  # the item itself is on a suppression list: a known collision
            for result in self._search(query):
                key = (result.entry.id, query.hasher)
                current = best.get(key)
                if current is None or _rank(result) < _rank(current):
                    best[key] = result
        return sorted(best.values(), key=_rank)

    def _search(self, query: Query) -> t.Iterator[MatchResult]:
        index = self.indexes.get(query.hasher)
        if index is None:
            return
        hash_type = self._type(query.hasher)
        # Only the image as given is searched out to the near-review band; a rotation
        # or crop is looked up for matches only. Wide searches cost near brute force
        # on big lists, and one per image is enough to surface the near misses.
        radius = hash_type.search_radius(
            self.max_threshold_bits[query.hasher],
            near=query.variant == ORIGINAL_VARIANT,
        )
        query_reason = _query_reason(hash_type, query)
        for hit in index.search(query.value, radius):
            entry = self.entries[hit.id]
            hash_list = self.lists[entry.list_id]
            threshold = hash_list.threshold(hash_type)
            verdict = Verdict.NEAR_REVIEW
            reason: MatchReason | None = MatchReason.BEYOND_THRESHOLD
            if hit.distance > threshold:
                pass
            elif hash_type.is_degenerate(entry.value):
                reason = MatchReason.ENTRY_DEGENERATE
            elif query_reason is not None:
                reason = query_reason
            elif entry.is_quarantined:
                verdict, reason = Verdict.HELD, MatchReason.QUARANTINED
            else:
                verdict, reason = Verdict.MATCH, None
            yield MatchResult(
                entry, hash_list, query, hit.distance, threshold, verdict, reason
            )


def _query_reason(hash_type: HashType, query: Query) -> MatchReason | None:
    """Why this query can give no match whatever it is near, if it cannot."""
    if hash_type.is_degenerate(query.value):
        return MatchReason.QUERY_DEGENERATE
    if not hash_type.is_reliable_quality(query.quality):
        return MatchReason.QUERY_LOW_QUALITY
    return None


def _rank(result: MatchResult) -> tuple[int, int, int, str]:
    order = {Verdict.MATCH: 0, Verdict.HELD: 1, Verdict.NEAR_REVIEW: 2}
    return (
        order[result.verdict],
        result.distance,
        result.query.variant != ORIGINAL_VARIANT,
        result.hash_list.name,
    )
