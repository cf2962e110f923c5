"""Hits (a lexicon term or rule result over a run of tokens) and the per-field
index the rules and the decision read them through."""

import dataclasses
import typing as t

from vigil.prompts.normalise import Token

PERSONS = frozenset(
    {"minor", "minor_slang", "minor_costume", "teen", "ambiguous_person", "adult",
     "person", "age"}
)  # fmt: skip


@dataclasses.dataclass(frozen=True, slots=True)
class Hit:
    """A lexicon term or rule result over tokens [first, last] = text [start, end)."""

    category: str
    term: str
    start: int
    end: int
    first: int
    last: int
    lang: str = ""
    flags: frozenset[str] = frozenset()
    value: int | None = None


class Analysis:
    """The hits of one field, indexed by category (and, for the rules, by the first
    and last token they cover)."""

    def __init__(self, tokens: list[Token], hits: list[Hit]) -> None:
        self.tokens = tokens
        self.hits = hits
        self.by_category: dict[str, list[Hit]] = {}
        for hit in hits:
            if hit.category in self.by_category:
                self.by_category[hit.category].append(hit)
            else:
                self.by_category[hit.category] = [hit]
        self._at: dict[int, list[Hit]] | None = None
        self._ending: dict[int, list[Hit]] | None = None

    @property
    def at(self) -> dict[int, list[Hit]]:
        if self._at is None:
            self._at = {}
            for hit in self.hits:
                self._at.setdefault(hit.first, []).append(hit)
        return self._at

    @property
    def ending(self) -> dict[int, list[Hit]]:
        if self._ending is None:
            self._ending = {}
            for hit in self.hits:
                self._ending.setdefault(hit.last, []).append(hit)
        return self._ending

    def of(self, *categories: str) -> list[Hit]:
        if len(categories) == 1:
            return self.by_category.get(categories[0], [])
        out: list[Hit] = []
        for category in categories:
            out.extend(self.by_category.get(category, ()))
        return out

    def has(self, category: str) -> bool:
        return category in self.by_category

    def find(
        self, first: int, last: int, segment: int, categories: t.Container[str]
    ) -> Hit | None:
        """The first hit of `categories` starting in tokens [first, last] that lie in
        `segment` (a phrase boundary ends the search)."""
        tokens = self.tokens
        at = self.at
        for index in range(max(first, 0), min(last, len(tokens) - 1) + 1):
            if tokens[index].segment != segment:
                break
            for hit in at.get(index, ()):
                if hit.category in categories:
                    return hit
        return None

    def find_before(
        self, last: int, first: int, segment: int, categories: t.Container[str]
    ) -> Hit | None:
        """The nearest hit of `categories` ending in tokens [first, last], searching
        backwards within `segment`."""
        tokens = self.tokens
        ending = self.ending
        for index in range(min(last, len(tokens) - 1), max(first, 0) - 1, -1):
            if tokens[index].segment != segment:
                break
            for hit in ending.get(index, ()):
                if hit.category in categories:
                    return hit
        return None
