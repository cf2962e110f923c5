"""PromptFilter: allow, review or block a text-to-image prompt (and its negative).

The filter refuses requests for sexualised images of minors. Adult sexual content on
its own is `allow` here: whether a service accepts it is a separate policy.

Decision design (docs/prompts.md has the full table):
- `block` needs a minor signal (a minor noun, an age under 18 bound to a person, a
  drawn-minor genre word, a school-minor role without an adult marker) together
  with a sexual context (sexual, nudity, clothing removal, sexualised clothing, a
  nudify instruction, or clothes banned in the negative prompt) — or abuse slang.
- `review` is for ambiguous age or intent: teen words, youth descriptors (petite,
  barely legal), girl/boy without an adult marker, each with a sexual context; a
  minor with underwear or partial exposure; a genre word alone.
- Negative prompt: minor and sexual words there never count against the request;
  garments there count as nudity for a minor in the prompt; adult words there
  ("adult, mature") count as a youth descriptor.

The score is the rule's fixed level plus a small increment per further supporting
trigger, so a decision and its score always agree (`BLOCK_SCORE`, `REVIEW_SCORE`).
"""

import dataclasses
import enum
import pathlib
import threading
import typing as t

from vigil.prompts import _ages, _analysis, arithmetic, syntax, views
from vigil.prompts._hits import Analysis, Hit
from vigil.prompts.lexicon import (
    InertReading,
    Lexicon,
    builtin,
    builtin_entries,
    load_file,
)
from vigil.prompts.normalise import join_fragments, tokenise


class Semantic(t.Protocol):
    """A semantic stage: a probability that a prompt needs review, the threshold
    from which it asks for review and the prompt_risk it then gives."""

    @property
    def threshold(self) -> float: ...

    @property
    def review_level(self) -> float: ...

    def probability(self, text: str) -> float: ...

    def threshold_for(self, *, minor: bool, sexual: bool) -> float:
        """The threshold for a prompt in which the lexicon found a minor-side or a
        sexual-side word (or neither) without deciding."""
        ...


#: Decision thresholds on prompt_risk.
BLOCK_SCORE = 0.8
REVIEW_SCORE = 0.4
#: Rule levels (each at or above its decision's threshold; ordered by severity).
ABUSE_SLANG_LEVEL = 0.95
MINOR_SEXUAL_LEVEL = 0.9
TEEN_SEXUAL_LEVEL = 0.7
MINOR_PARTIAL_LEVEL = 0.6
YOUTHFUL_SEXUAL_LEVEL = 0.6
MINOR_SLANG_LEVEL = 0.55
AMBIGUOUS_SEXUAL_LEVEL = 0.5
TRUNCATED_LEVEL = 0.45
SEXUAL_ONLY_LEVEL = 0.2
MINOR_ONLY_LEVEL = 0.1
#: Added per further supporting trigger, up to `MAX_SUPPORT_BONUS`.
SUPPORT_BONUS = 0.02
MAX_SUPPORT_BONUS = 0.04
#: Longest field checked. Real prompts are < 5,000 characters; a longer field is
#: checked up to here and sent to review. Checking is linear in the length: the
#: worst inputs we found take ~0.3 s at this size, typical prompts ~25 µs.
MAX_FIELD_CHARS = 64 * 1024
#: Triggers listed in one verdict (a pathological 64 KiB prompt has thousands).
MAX_TRIGGERS = 200
#: Negative-prompt garments: one or more whole-outfit words ("clothes") or censor
#: words, or this many distinct garments ("dress, shirt"), count as nudity.
NEGATIVE_GARMENTS_STRONG = 2

#: A negative prompt (or a group weighted away) that bans adulthood itself asks
#: for a minor: one term that names adulthood and nothing else ("nude", negative
#: "adult"; "(adult:-1.5)": no adult is left to depict), or this many distinct
#: adult terms of any kind ("woman, man"). One word for a look ("mature") or for
#: an adult person ("woman") may only ask for a younger adult: review.
ADULTHOOD_EXCLUSIONS = 2
_ADULTHOOD_ITSELF = frozenset(
    {"adult", "adults", "grown up", "grown-up", "over 18", "over eighteen",
     "of legal age", "legal age", "adult woman", "adult man", "grown woman"}
)  # fmt: skip
_ADULTHOOD_TERMS = _ADULTHOOD_ITSELF | {"woman", "women", "man", "men"}
#: The two halves of a block; a prompt the lexicon allowed with one of them (or
#: both) present is nearer a block, and the n-gram stage's threshold is lower.
_MINOR_SIDE = frozenset(
    {"minor", "minor_slang", "minor_costume", "teen", "youthful", "ambiguous_person",
     "age", "person"}
)  # fmt: skip
_SEXUAL_SIDE = frozenset(
    {"sexual", "nudity", "clothing_removal", "sexualised_clothing", "nudify",
     "underwear", "exposure"}
)  # fmt: skip
#: Categories by which the lexicon has read a prompt itself; the semantic stage
#: leaves such prompts alone.
_LEXICON_VERDICTS = frozenset({"adult", "benign", "negation"})
_SEXUAL = ("sexual", "nudity", "clothing_removal", "sexualised_clothing", "nudify")
_PARTIAL = ("underwear", "exposure")
_NEGATIVE_GARMENTS = ("clothing", "clothing_all", "underwear", "censor")
#: Categories that can lead to review or block; a prompt with none of them is
#: allowed without running the rule table.
_PERSONS = frozenset(
    {
        "minor",
        "minor_slang",
        "minor_costume",
        "teen",
        "youthful",
        "ambiguous_person",
        "person",
        "age",
        "abuse_slang",
    }
)


class Decision(enum.StrEnum):
    ALLOW = "allow"
    REVIEW = "review"
    BLOCK = "block"


@dataclasses.dataclass(frozen=True)
class Trigger:
    """One matched term: its category, the text exactly as typed, the [start, end)
    span in the original field, the field and the normalised lexicon term."""

    category: str
    text: str
    span: tuple[int, int]
    field: str  # "prompt" | "negative"
    term: str

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "category": self.category,
            "text": self.text,
            "span": list(self.span),
            "field": self.field,
            "term": self.term,
        }


@dataclasses.dataclass(frozen=True)
class PromptVerdict:
    decision: Decision
    score: float  # prompt_risk in [0, 1]
    triggers: tuple[Trigger, ...]
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "decision": self.decision.value,
            "score": round(self.score, 4),
            "triggers": [trigger.as_dict() for trigger in self.triggers],
            "reasons": list(self.reasons),
        }


class PromptFilter:
    """Checks prompts against a compiled lexicon; thread-safe and reusable.

    `PromptFilter.default()` is the built-in lexicon plus operator files, compiled
    once per process, with the packaged n-gram model as its semantic stage
    (`vigil.prompts.ngram`; `semantic=False` leaves it out). Any stage with
    `probability`, `threshold` and `review_level` works (the optional
    sentence-embedding head of `vigil.prompts.semantic` too); a stage can raise
    `allow` to `review`, never lower a decision.
    """

    def __init__(self, lexicon: Lexicon, semantic: "Semantic | None" = None) -> None:
        self.lexicon = lexicon
        self.semantic = semantic

    @classmethod
    def default(
        cls, extra_lexicons: t.Sequence[pathlib.Path] = (), *, semantic: bool = True
    ) -> "PromptFilter":
        """The built-in lexicon plus `extra_lexicons` (operator files), with the
        packaged n-gram stage unless `semantic` is False; cached."""
        key = tuple(_file_key(pathlib.Path(p)) for p in extra_lexicons)
        with _DEFAULT_LOCK:
            cached = _DEFAULTS.get((key, semantic))
            if cached is None:
                lexical = _DEFAULTS.get((key, False))
                if lexical is None:
                    if not extra_lexicons:
                        lexical = cls(builtin())
                    else:
                        entries = builtin_entries()
                        for path in extra_lexicons:
                            entries.extend(load_file(pathlib.Path(path)))
                        lexical = cls(Lexicon(entries))
                    _DEFAULTS[(key, False)] = lexical
                cached = lexical
                if semantic:
                    from vigil.prompts import ngram

                    model = ngram.packaged()
                    if model is not None:
                        cached = lexical.with_semantic(ngram.NgramStage(model))
                _DEFAULTS[(key, semantic)] = cached
        return cached

    def with_semantic(self, semantic: "Semantic | None") -> "PromptFilter":
        return PromptFilter(self.lexicon, semantic)

    def check(self, prompt: str, negative: str = "") -> PromptVerdict:
        """The decision for one prompt and its negative prompt."""
        truncated = len(prompt) > MAX_FIELD_CHARS or len(negative) > MAX_FIELD_CHARS
        if truncated:
            prompt, negative = prompt[:MAX_FIELD_CHARS], negative[:MAX_FIELD_CHARS]
        masked = syntax.mask(prompt)
        if not negative and not truncated and not masked.suppressed:
            # most prompts: no word that decides (a test checks that the full
            # analysis agrees on every such prompt)
            reading = self.lexicon.inert_reading(masked.text)
            if reading is not None and (
                not reading.reported
                or (not masked.networks and len(reading.reported) <= MAX_TRIGGERS)
            ):
                return self._inert_verdict(prompt, reading)
        return self._check_fully(prompt, negative, masked, truncated)

    def _inert_verdict(self, prompt: str, reading: InertReading) -> PromptVerdict:
        level = 0.0
        reasons: list[str] = []
        if reading.categories.isdisjoint(_LEXICON_VERDICTS):
            level, reasons = self._semantic_level(
                prompt, level, reasons, reading.categories
            )
        triggers = tuple(
            Trigger(category, prompt[start:end], (start, end), "prompt", term)
            for start, end, category, term in reading.reported
        )
        return PromptVerdict(
            _decision(level), round(level, 4), triggers, tuple(reasons)
        )

    def _semantic_level(
        self, prompt: str, level: float, reasons: list[str], present: t.AbstractSet[str]
    ) -> tuple[float, list[str]]:
        """The level with the semantic stage's say added: it may only raise it."""
        if self.semantic is not None and level < REVIEW_SCORE:
            probability = self.semantic.probability(prompt)
            threshold = self.semantic.threshold_for(
                minor=not present.isdisjoint(_MINOR_SIDE),
                sexual=not present.isdisjoint(_SEXUAL_SIDE),
            )
            if probability >= threshold:
                level = max(level, self.semantic.review_level)
                reasons.append(
                    f"the semantic model rates it like prompts that need review "
                    f"(p={probability:.2f})"
                )
        return level, reasons

    def _check_fully(
        self, prompt: str, negative: str, masked: syntax.Masked, truncated: bool
    ) -> PromptVerdict:
        reasons: list[str] = []
        text = masked.text
        negative_text = syntax.mask(negative).text if negative else ""
        if masked.suppressed:
            # `(adult:-1.5)`: weighted away, so read with the negative prompt
            text, pushed = _split_suppressed(text, masked.suppressed)
            negative_text = f"{negative_text},{pushed}"
        positive = self._analyse(text)
        negative_analysis = None
        if negative_text and _has_candidates(positive):
            # the negative prompt only matters together with a person or sexual
            # content in the prompt
            negative_analysis = self._analyse(negative_text)
        rule = _decide(positive, negative_analysis, self.lexicon.fillers)
        signals = _analysis.signal_hits(positive)
        readings = views.views(text, self.lexicon.untransliterated)
        if self.lexicon.has_reversed_signal(positive.tokens):
            readings.extend(views.reversed_views(text, self.lexicon.reads_reversed))
        backwards = views.word_order_view(
            text, self.lexicon.has_reversed_phrase(positive.tokens)
        )
        if backwards is not None:
            readings.append(backwards)
        present = positive.by_category.keys()
        if negative_text or not present.isdisjoint(_SEXUAL + _PARTIAL):
            # an age changes a decision only with sexual content, exposure or a
            # negative prompt: the arithmetic reading is not built for others
            worked_out = arithmetic.view(text, prompt)
            if worked_out is not None:
                readings.append(worked_out)
        for view in readings:
            # a second reading (upside down, mirrored, transliterated) decides
            # when it is more severe than the text as typed
            seen = self._analyse(view.text)
            if negative_text and negative_analysis is None and _has_candidates(seen):
                negative_analysis = self._analyse(negative_text)
            candidate = _decide(seen, negative_analysis, self.lexicon.fillers)
            if candidate.level > rule.level and candidate.level >= REVIEW_SCORE:
                # (a reading that still allows, `sun` read backwards as the
                # Catalan `nus`, is not reported)
                rule = candidate
                rule.reasons.append(_VIEW_REASONS[view.name])
                signals = [
                    dataclasses.replace(h, start=a, end=b)
                    for h in _analysis.signal_hits(seen)
                    for a, b in [view.span(h.start, h.end)]
                ]
        level, used, reasons = rule.level, rule.used, list(rule.reasons)
        # The semantic stage does not second-guess what the lexicon has read: a
        # stated adult ("30 year old model": measured, it flagged 12 of 91 such
        # allowed prompts and found 4 of 6 missed ones), a benign idiom ("the
        # naked eye"), a negation ("no nudity"). An n-gram model sees none of
        # these (docs/prompts.md).
        lexicon_read = not positive.by_category.keys().isdisjoint(_LEXICON_VERDICTS)
        if truncated and level < TRUNCATED_LEVEL:
            level = TRUNCATED_LEVEL
            reasons.append(
                f"a field is longer than {MAX_FIELD_CHARS} characters; "
                "only the start was checked"
            )
        if not lexicon_read:
            level, reasons = self._semantic_level(
                prompt, level, reasons, positive.by_category.keys()
            )
        triggers = _triggers(prompt, negative, signals, used)
        if len(triggers) > MAX_TRIGGERS:
            reasons.append(f"{len(triggers) - MAX_TRIGGERS} more triggers not listed")
            triggers = triggers[:MAX_TRIGGERS]
        if masked.networks and triggers:
            reasons.extend(_network_reasons(masked.networks, triggers))
        return PromptVerdict(
            _decision(level), round(level, 4), triggers, tuple(reasons)
        )

    def _analyse(self, text: str) -> Analysis:
        lexicon = self.lexicon
        tokens = tokenise(text, lexicon.resolve, lexicon.cjk)
        tokens = join_fragments(
            tokens, lexicon.fragment_word, lexicon.is_signal, lexicon.fragment_starts
        )
        scripts = frozenset() if text.isascii() else _analysis.script_languages(text)
        return _analysis.analyse(tokens, self.lexicon, scripts)


_DEFAULTS: dict[tuple[tuple[tuple[str, int, int], ...], bool], PromptFilter] = {}
_DEFAULT_LOCK = threading.Lock()


def _file_key(path: pathlib.Path) -> tuple[str, int, int]:
    try:
        stat = path.stat()
    except OSError:
        return str(path), -1, -1  # load_file reports the error
    return str(path.resolve()), stat.st_mtime_ns, stat.st_size


def _decision(level: float) -> Decision:
    if level >= BLOCK_SCORE:
        return Decision.BLOCK
    if level >= REVIEW_SCORE:
        return Decision.REVIEW
    return Decision.ALLOW


@dataclasses.dataclass
class _Rule:
    level: float = 0.0
    reasons: list[str] = dataclasses.field(default_factory=list)
    used: list[Hit] = dataclasses.field(default_factory=list)  # negative-field hits

    def raise_to(self, level: float, reason: str, support: int = 0) -> None:
        bonus = min(MAX_SUPPORT_BONUS, SUPPORT_BONUS * max(0, support))
        self.level = max(self.level, level + bonus)
        self.reasons.append(reason)


def _terms(hits: t.Sequence[Hit]) -> str:
    return ", ".join(dict.fromkeys(repr(h.term) for h in hits))


def _decide(
    prompt: Analysis, negative: Analysis | None, fillers: t.Container[str]
) -> _Rule:
    """The rule table of the module docstring."""
    rule = _Rule()
    if prompt.by_category.keys().isdisjoint(_PERSONS):
        if not prompt.by_category.keys().isdisjoint(_SEXUAL):
            rule.level = SEXUAL_ONLY_LEVEL
            excluded = _excluded_adults(negative)
            if excluded and not prompt.of("adult"):
                # `nude`, negative `adult, mature`: adulthood banned, nobody stated
                rule.used.extend(excluded)
                rule.raise_to(
                    MINOR_SEXUAL_LEVEL
                    if _adulthood_excluded(excluded, negative, fillers)
                    else YOUTHFUL_SEXUAL_LEVEL,
                    f"sexual content ({_terms(prompt.of(*_SEXUAL))}) with adulthood "
                    f"excluded in the negative prompt ({_terms(excluded)})",
                )
        return rule
    of = prompt.of
    abuse = of("abuse_slang")
    adult = of("adult")
    costume = of("minor_costume")
    minors = list(of("minor", "minor_slang", "age")) + (costume if not adult else [])
    teens = of("teen") + (costume if adult else [])
    excluded_adult = _excluded_adults(negative)
    if excluded_adult and not adult:
        # `girl` or `teen` with adulthood banned in the negative prompt ("adult,
        # mature"): the request is for someone under age; with adulthood itself
        # banned twice over ("adult, over 18"), so is a neutral `person`
        minors = minors + of("ambiguous_person") + teens
        if _adulthood_excluded(excluded_adult, negative, fillers):
            minors = minors + of("person")
    sexual = of(*_SEXUAL)
    partial = of(*_PARTIAL)
    youthful = of("youthful")
    ambiguous = of("ambiguous_person")
    garments: list[Hit] = []
    negative_adult = excluded_adult
    if negative is not None:
        garments = _bare_tags(negative, negative.of(*_NEGATIVE_GARMENTS), fillers)
    strong_garments = bool(garments) and (
        any(h.category in ("clothing_all", "censor") for h in garments)
        or len({h.term for h in garments}) >= NEGATIVE_GARMENTS_STRONG
    )
    if abuse:
        rule.raise_to(
            ABUSE_SLANG_LEVEL, f"abuse slang: {_terms(abuse)}", len(abuse) - 1
        )
    if minors and sexual:
        rule.raise_to(
            MINOR_SEXUAL_LEVEL,
            f"minor ({_terms(minors)}) with sexual content ({_terms(sexual)})",
            len(sexual) + len(minors) - 2,
        )
    if minors and strong_garments:
        rule.used.extend(garments)
        rule.raise_to(
            MINOR_SEXUAL_LEVEL,
            f"minor ({_terms(minors)}) with clothing excluded in the negative prompt "
            f"({_terms(garments)})",
            len(garments) - 1,
        )
    elif minors and garments:
        rule.used.extend(garments)
        rule.raise_to(
            MINOR_PARTIAL_LEVEL,
            f"minor ({_terms(minors)}) with a garment "
            f"excluded in the negative prompt ({_terms(garments)})",
        )
    if minors and partial:
        rule.raise_to(
            MINOR_PARTIAL_LEVEL,
            f"minor ({_terms(minors)}) with underwear "
            f"or partial exposure ({_terms(partial)})",
        )
    slang = of("minor_slang")
    if slang:
        rule.raise_to(MINOR_SLANG_LEVEL, f"drawn-minor genre term: {_terms(slang)}")
    if teens and (sexual or partial or garments):
        if garments:
            rule.used.extend(garments)
        context = sexual + partial + garments
        rule.raise_to(
            TEEN_SEXUAL_LEVEL,
            f"teen or school role ({_terms(teens)}) with "
            f"sexual content ({_terms(context)}): age in question",
        )
    persons = ambiguous or teens or youthful or of("person")
    youth = youthful + (negative_adult if persons else [])
    if youth and (sexual or strong_garments):
        rule.used.extend(negative_adult)
        rule.raise_to(
            YOUTHFUL_SEXUAL_LEVEL,
            f"youth descriptor ({_terms(youth)}) "
            f"with sexual content ({_terms(sexual + garments)})",
        )
    if ambiguous and not adult and (sexual or strong_garments):
        if strong_garments:
            rule.used.extend(garments)
        rule.raise_to(
            AMBIGUOUS_SEXUAL_LEVEL,
            f"person of unstated age "
            f"({_terms(ambiguous)}) with sexual content "
            f"({_terms(sexual + garments)})",
        )
    if rule.level < REVIEW_SCORE:
        if sexual:
            rule.level = max(rule.level, SEXUAL_ONLY_LEVEL)
        if minors or teens:
            rule.level = max(rule.level, MINOR_ONLY_LEVEL)
    return rule


def _excluded_adults(negative: Analysis | None) -> list[Hit]:
    """The adult terms of the negative prompt, and the ages it bans everyone
    above when under 18 (`older than 12`: only those up to 12 are left)."""
    if negative is None:
        return []
    ceilings = [
        h for h in negative.of(_ages.CEILING) if (h.value or 0) < _ages.ADULT_AGE_YEARS
    ]
    return [*negative.of("adult"), *ceilings]


def _adulthood_excluded(
    excluded: t.Sequence[Hit], negative: Analysis | None, fillers: t.Container[str]
) -> bool:
    """Whether the negative prompt bans adulthood itself, not just age or a look:
    a term of `_ADULTHOOD_ITSELF` that is a tag of its own ("adult", "over 18";
    not "adult content", a rating) or at least
    `ADULTHOOD_EXCLUSIONS` distinct terms of `_ADULTHOOD_TERMS` ("woman, man"; not
    "woman" alone or "mature", which may only ask for a younger adult)."""
    terms = {hit.term for hit in excluded}
    itself = [
        hit
        for hit in excluded
        if hit.term in _ADULTHOOD_ITSELF or hit.category == _ages.CEILING
    ]
    if itself and negative is not None and _bare_tags(negative, itself, fillers):
        return True
    return len(terms & _ADULTHOOD_TERMS) >= ADULTHOOD_EXCLUSIONS


def _bare_tags(
    analysis: Analysis, hits: list[Hit], fillers: t.Container[str]
) -> list[Hit]:
    """The hits that make up their whole phrase, apart from function words: the
    negative tag "clothes" or "(dress:1.3)" bans clothes; "torn clothes" or "bad
    clothes" asks for better ones and does not count."""
    tokens = analysis.tokens
    covered = {i for hit in hits for i in range(hit.first, hit.last + 1)}
    bare: dict[int, bool] = {}
    for index, token in enumerate(tokens):
        fits = index in covered or (token.key is not None and token.key in fillers)
        bare[token.segment] = bare.get(token.segment, True) and fits
    return [hit for hit in hits if bare[tokens[hit.first].segment]]


def _split_suppressed(text: str, spans: t.Sequence[tuple[int, int]]) -> tuple[str, str]:
    """(text with the suppressed groups blanked, the groups alone): both the
    length of `text`, so offsets stay offsets."""
    kept = list(text)
    pushed = [" "] * len(text)
    for start, end in spans:
        for index in range(start, end):
            pushed[index] = kept[index]
            kept[index] = " "
    return "".join(kept), "".join(pushed)


def _has_candidates(analysis: Analysis) -> bool:
    present = analysis.by_category.keys()
    return not (present.isdisjoint(_PERSONS) and present.isdisjoint(_SEXUAL))


_VIEW_REASONS = {
    "reversed": "read in the reversed reading (last letter first) of the text",
    "upside_down": "read in the upside-down reading of the text",
    "mirrored": "read in the mirrored reading of the text",
    "transliterated": "read in the Latin transliteration of the text",
    "arithmetic": "read with the age arithmetic worked out (`age 2x5` is 10)",
    "word_order": "read with its words in reverse order (`old years 9 girl`)",
}


def _triggers(
    prompt: str, negative: str, signals: list[Hit], used: list[Hit]
) -> tuple[Trigger, ...]:
    seen: set[tuple[str, str, int, int]] = set()
    out: list[Trigger] = []
    # negative-field hits past the negative prompt come from weighted-away groups
    # of the prompt (`_split_suppressed`): they are reported where they are
    offset = len(negative) + 1
    pushed = [
        dataclasses.replace(h, start=h.start - offset, end=h.end - offset)
        for h in used
        if h.start >= offset
    ]
    used = [h for h in used if h.start < offset]
    for field, text, hits in (
        ("prompt", prompt, signals + pushed),
        ("negative", negative, used),
    ):
        for hit in sorted(hits, key=lambda h: (h.start, h.end, h.category)):
            key = (field, hit.category, hit.start, hit.end)
            if key in seen:
                continue
            seen.add(key)
            out.append(
                Trigger(
                    hit.category,
                    text[hit.start : hit.end],
                    (hit.start, hit.end),
                    field,
                    hit.term,
                )
            )
    return tuple(out)


def _network_reasons(
    networks: t.Sequence[syntax.Network], triggers: t.Sequence[Trigger]
) -> list[str]:
    reasons = []
    for network in networks:
        start, end = network.span
        if any(tr.field == "prompt" and start <= tr.span[0] < end for tr in triggers):
            reasons.append(f"a term is in the {network.kind} name {network.name!r}")
    return reasons
