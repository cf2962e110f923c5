"""The prompt lexicon: terms from data files (`_lexicon_format`), compiled once into
look-up tables.

Look-up is by word: every form a token could stand for (as typed, Latin reading of
look-alike letters, leetspeak, capital I for l, plural, repeated letters collapsed,
one transposed pair, a glued compound, an Arabic word without its attached article
or conjunction, and for minor and nudity words a sound-alike key) is tried against
a dict of words; a phrase is found by its first word. Results are cached per form,
so a repeated word costs one dict probe. No regular expression runs per prompt here.

Terms in Han or kana are also kept as `cjk`, the table `normalise.tokenise` cuts
unspaced text with. Cyrillic and Greek terms are also found in their Latin form
(`девочка` as `devochka`), for text typed on a Latin keyboard and for the
transliterated view (`views.py`).
"""

import dataclasses
import functools
import itertools
import operator
import re
import typing as t

from vigil.prompts import _sound_alike
from vigil.prompts._lexicon_format import (
    CATEGORIES,
    FLAGS,
    GRAMMAR_CATEGORIES,
    MAX_LEXICON_BYTES,
    SIGNAL_CATEGORIES,
    WORD_FLAGS,
    Entry,
    LexiconError,
    builtin_entries,
    load_file,
    parse,
)
from vigil.prompts.normalise import (
    ASCII_TOKEN_RE,
    LEET_AS_I,
    MIN_SPACED_RUN,
    NUMBER_KEY,
    CjkTerms,
    Token,
    capital_i_forms,
    has_cjk,
    latin_lookalike,
    leet_forms,
    piece_form,
    wildcard_forms,
)
from vigil.prompts.views import plain_word, transliterate_term

#: Misspelling tolerance applies to English signal words of the categories in
#: `_TOLERANT`: one swapped pair from 5 letters; a doubled letter collapsed, or a
#: dropped double restored, from 5 (`soon` is not `son`). Shorter words have too
#: many neighbours in ordinary English (checked against a 100k-word dictionary).
MIN_TRANSPOSE_CHARS = 5
MIN_COLLAPSE_CHARS = 5
_TOLERANT = frozenset(
    {"minor", "minor_slang", "teen", "youthful", "sexual", "nudity", "abuse_slang",
     "nudify", "clothing_removal", "youth_adjective", "ambiguous_person",
     "furry_minor"}
)  # fmt: skip
#: Words of these categories are not signal words but take the same tolerance:
#: the youth words of a minor phrase (`littel girl`) and the units of an age
#: (`11 yaers old`); the age rules still need the number and the person.
_TOLERANT_GRAMMAR = frozenset({"youth_adjective", "age_unit"})
#: Plural endings tried when a word is not found: (ending, replacement).
_PLURALS = (
    ("ies", "y"),
    ("ses", "s"),
    ("xes", "x"),
    ("ches", "ch"),
    ("shes", "sh"),
    ("'s", ""),
    ("s", ""),
    ("z", ""),  # text-speak: kidz, boyz
)
#: Longer forms are looked up as typed only (the longest lexicon words are ~25
#: letters; readings and compounds cost time quadratic in the length).
MAX_TOLERANT_CHARS = 48
#: Glued words (`nakedchild`) are split only into pieces of at least this length.
MIN_COMPOUND_PIECE_CHARS = 3
MAX_COMPOUND_CHARS = 40
#: Cached resolutions per lexicon (distinct word forms).
RESOLVE_CACHE_SIZE = 1 << 17
#: Latin forms of Cyrillic and Greek signal words are kept from this length
#: (`syn`, `doch` are words of other languages); grammar words of these
#: categories are kept whatever their length (`10 let`).
MIN_TRANSLITERATED_CHARS = 5
_SHORT_TRANSLITERATED = frozenset({"number", "age_unit", "age_old", "age_prefix"})
_REVERSED_AGE_RE = re.compile(r"^(?:oy|o/y|sry|sraey)\d{1,2}$")
#: Categories that decide nothing and are reported in no verdict on their own: a
#: field of only these words is allowed without the full analysis
#: (`inert_reading`). Not `benign` (an idiom consumes the words it is made of).
INERT_CATEGORIES = frozenset({"object", "copula", "filler"})
#: Categories that matter only together with another kind of word; alone they
#: are inert: `young` before a person (youthful) or text-speak `by` (boy); a count
#: next to a person (`girl 12`) or an age word (`aged 12`, `12 years`); a removal
#: word after a garment (`shirt off`).
_ROLE_BITS = {
    "person": 1, "clothing": 2, "youth_adjective": 4, "person_short": 8,
    "age_prefix": 16, "age_unit": 16, "age_old": 16, "age_suffix": 16,
    "removal_after": 32, "number": 64, "negation": 128,
    # a censoring word matters only in a negative prompt, which the fast path
    # never reads
    "censor": 0,
}  # fmt: skip
#: Categories an allowed verdict still lists as triggers (`a woman walking`
#: reports `woman`), and the roles their words play: an adult or a girl/boy is
#: a person (`girl 12`, `young woman`), `young` a youth word (`young girl`).
_REPORTED_ROLES = {"adult": 1, "ambiguous_person": 1, "youthful": 4}
_PERSON, _GARMENT, _YOUTH, _SHORT_PERSON, _AGE_WORD, _REMOVAL_AFTER = (
    1,
    2,
    4,
    8,
    16,
    32,
)
_COUNT = 64  # a number word or key (`two`, `#num=12`)
_NEGATION = 128  # `no`, `without`: with a garment, nudity (`without clothes`)
#: A lower-case letter before an upper-case one: `nakedLittleGirl` is split.
_CAMEL_CASE_RE = re.compile(r"[a-z][A-Z]")


def _combines(roles: int) -> bool:
    """Whether words of these roles together may make a hit (see `_ROLE_BITS`)."""
    return bool(
        (roles & _YOUTH and roles & (_PERSON | _SHORT_PERSON))
        or (roles & _COUNT and roles & (_PERSON | _AGE_WORD))
        or (roles & _AGE_WORD and roles & _PERSON)
        or (roles & _REMOVAL_AFTER and roles & _GARMENT)
        or (roles & _NEGATION and roles & _GARMENT)
    )


def _roles(entries: t.Iterable[Entry]) -> int | None:
    """None for entries that may decide alone; else their `_ROLE_BITS`."""
    roles = 0
    for entry in entries:
        bits = _ROLE_BITS.get(entry.category, _REPORTED_ROLES.get(entry.category))
        if bits is not None:
            roles |= bits
        elif entry.category not in INERT_CATEGORIES:
            return None
    return roles


@dataclasses.dataclass(frozen=True, slots=True)
class _InertWord:
    """What one word of a field the full analysis finds nothing in contributes:
    its `_ROLE_BITS`, the trigger it is reported as (category, term), if any, and
    the categories of its hits."""

    roles: int
    report: tuple[str, str] | None
    categories: frozenset[str]


def _inert_word(entries: t.Sequence[Entry]) -> _InertWord | None:
    """None where the word may decide alone, or where a rule may drop or keep
    one of its hits (a `noun`, `modifier`, `context` or `english` entry whose
    category no plain entry of the word shares)."""
    roles = _roles(entries)
    if roles is None:
        return None
    plain = {e.category for e in entries if not e.flags & WORD_FLAGS}
    if any(
        e.flags & WORD_FLAGS and e.category not in plain | INERT_CATEGORIES
        for e in entries
    ):
        return None
    reports = {
        (e.category, e.term)
        for e in entries
        if e.category in _REPORTED_ROLES and not e.flags & WORD_FLAGS
    }
    if len(reports) > 1 or any(
        e.flags & WORD_FLAGS
        and e.category in _REPORTED_ROLES
        and (e.category, e.term) not in reports
        for e in entries
    ):
        return None  # more than one trigger, or one a rule may drop or keep
    report = next(iter(reports), None)
    return _InertWord(roles, report, frozenset(e.category for e in entries))


@dataclasses.dataclass(frozen=True, slots=True)
class InertReading:
    """What the full analysis would make of a field it finds nothing in that
    decides or combines (`Lexicon.inert_reading`): the words it would still
    report, as (start, end, category, term), and the categories of all its hits
    (the semantic stage's thresholds and whether the lexicon has read the text
    depend on them)."""

    reported: tuple[tuple[int, int, str, str], ...]
    categories: frozenset[str]


_NO_WORD = _InertWord(0, None, frozenset())
_COUNT_WORD = _InertWord(_COUNT, None, frozenset({"number"}))


#: A typed form as `inert_reading` reads it: (roles, the trigger it is reported
#: as or None, the categories of its hits, its keys in phrases that are not
#: inert, the piece it is as a fragment (`normalise.piece_form`), whether that
#: piece begins a word fragments join into). A tuple: it is unpacked once per
#: word of every prompt.
_InertForm = tuple[
    int, tuple[str, str] | None, frozenset[str], tuple[str, ...], str, bool
]
_UNSEEN: t.Any = object()


#: Reversed signal words (`edun`) trigger the reversed reading from this length.
MIN_REVERSED_CHARS = 3
#: Letters typed one by one (`e d u n`) from this many in a row make a text worth
#: reading backwards; shorter runs are initials and list markers (`a b c`).
MIN_SPELT_OUT_LETTERS = 4
#: A collapsed form is read as a plural from this length (`kidds` → kids; not
#: `boos` → bos).
MIN_COLLAPSED_PLURAL_CHARS = 4
#: Categories whose English words fragments may join into besides signal words,
#: and the shortest word of their phrases that counts (`school` of "elementary
#: school"; not `of`).
_FRAGMENT_WORD_CATEGORIES = frozenset(
    {"youth_adjective", "school_minor", "school_teen"}
)
MIN_FRAGMENT_TARGET_CHARS = 5


#: The words of English phrases of these categories are fragment targets too
#: (`pub erty`, `clo thes`, `not hing on`).
def _vowels(form: str) -> int:
    return sum(c in "aeiouy" for c in form)


def _looks_respelt(form: str) -> bool:
    """A word with no vowel (`dlhc`) or a letter doubled (`ddlihc`, `eduuun`)."""
    if not any(c in "aeiouy" for c in form):
        return True
    return any(a == b for a, b in itertools.pairwise(form))


#: Foreign skeletons (`Lexicon._build_foreign_skeletons`): words from 5 letters,
#: skeletons from 4 (`cplk` çıplak; `nck` is too short to say anything).
MIN_FOREIGN_SKELETON_WORD_CHARS = 5
MIN_FOREIGN_SKELETON_CHARS = 4
_FOREIGN_SKELETON_CATEGORIES = frozenset({"minor", "nudity", "sexual"})
#: English has its own keys; Vietnamese without its tones is mostly vowels.
_NO_FOREIGN_SKELETON_LANGUAGES = frozenset({"en", "und", "vi"})


#: Phrases whose words typed in reverse order build the reading in word order
#: reversed (`Lexicon.has_reversed_phrase`).
_REVERSED_PHRASE_CATEGORIES = frozenset(SIGNAL_CATEGORIES) | {
    "school_minor", "school_teen", "puberty", "age_old", "age_unit"
}  # fmt: skip
#: ... but only pairs of content words: `on top` is "no top on" backwards and
#: far more often just on top; `bathtub in`, `tub a` are ordinary English.
MIN_REVERSED_PAIR_WORD_CHARS = 3
_REVERSED_PAIR_FUNCTION_WORDS = frozenset(
    {"the", "and", "not", "his", "her", "its", "for", "with", "what", "have",
     "has", "had", "was", "are", "who", "that", "this", "from", "into", "onto",
     "off", "out", "all", "any", "top", "one", "two", "but", "nor", "yet"}
)  # fmt: skip
_FRAGMENT_PHRASE_CATEGORIES = _FRAGMENT_WORD_CATEGORIES | {
    "minor", "nudity", "sexual", "nudify", "clothing_removal", "puberty", "teen"
}  # fmt: skip
#: Signal words of other languages are targets from this length: shorter ones
#: are made of English pieces too often (`an ak`, `ki nd`).
MIN_FOREIGN_FRAGMENT_TARGET_CHARS = 6
_FOREIGN_FRAGMENT_CATEGORIES = frozenset(
    {"minor", "nudity", "sexual", "ambiguous_person"}
)
#: Only words this long are turned back alone among words read as typed (`dlihc`,
#: `edun`; `oda` is too short to be anything but a word).
MIN_SELECTIVE_REVERSED_CHARS = 4
#: Words of keyed phrases are read reversed from this length (`ytrebup`,
#: `elttil`); shorter ones (`ton`, `eht`) are too often other words or names.
MIN_REVERSED_PHRASE_WORD_CHARS = 5
#: English words the rules read with a signal word (garments, ages, school,
#: youth, removal verbs) are turned back too in a field that has a reversed
#: signal word (`draw a dlihc with no sehtolc`); not those whose reversal is a
#: dictionary word itself (`strips`/spirts, `shorts`/German strohs).
_REVERSED_RULE_CATEGORIES = frozenset(
    {"clothing", "clothing_all", "age_unit", "age_old", "youth_adjective",
     "school_minor", "school_teen", "removal_verb", "removal_after", "grade"}
)  # fmt: skip
_REVERSED_RULE_EXCLUDED = frozenset({"strips", "shorts"})
#: Arabic proclitics (and, so, with, like, for, the) tried off the front of an
#: unknown Arabic word, longest first; the rest must keep this many letters.
ARABIC_PROCLITICS = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ف", "ب", "ك", "ل")
MIN_ARABIC_STEM_CHARS = 2

_WORD_SEPARATORS_RE = re.compile(r"[.\-_'’~·/]+")
_COUNT_PREFIX_RE = re.compile(r"^(\d{1,2})([^\W\d_]{2,})$")  # 1girl, 2boys
_ORDINAL_RE = re.compile(r"^(\d{1,2})(?:st|nd|rd|th|e|er|eme|º|ª|o|a)$")
AGE_KEY = "#age="
#: `11f`, `13m`: an age and a sex, the tag forums put after a poster's name
#: (`f8` is an aperture, so only this order is read).
TAG_KEY = "#tag="
#: `P5`: a Scottish primary year (P1 is age 4-5), the age of its pupils at the
#: start of the year (French `CE1` is a phrase word of the French lexicon).
SCHOOL_KEY = "#school="
_SCHOOL_CODES = {f"p{n}": n + 4 for n in range(1, 8)}
_AGE_TAG_RE = re.compile(r"^(\d{1,2})[fm]$")
YEAR_KEY = "#year="
#: Roman numerals read as numbers (an age only where a number would be one:
#: "age viii"); i, v and x alone are letters, not numbers.
_ROMAN = {
    "ii": 2, "iii": 3, "iv": 4, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "xi": 11,
    "xii": 12, "xiii": 13, "xiv": 14, "xv": 15, "xvi": 16, "xvii": 17,
}  # fmt: skip
ORDINAL_KEY = "#ord="


__all__ = [
    "AGE_KEY",
    "CATEGORIES",
    "FLAGS",
    "GRAMMAR_CATEGORIES",
    "MAX_LEXICON_BYTES",
    "NUMBER_KEY",
    "ORDINAL_KEY",
    "TAG_KEY",
    "SCHOOL_KEY",
    "YEAR_KEY",
    "SIGNAL_CATEGORIES",
    "WORD_FLAGS",
    "Entry",
    "InertReading",
    "Lexicon",
    "LexiconError",
    "builtin",
    "builtin_entries",
    "load_file",
    "parse",
]


class Lexicon:
    """Compiled entries: single words, phrases by first word, prefixes, and the
    misspelling tables. `resolve` is cached and safe to share between threads."""

    def __init__(self, entries: t.Iterable[Entry]) -> None:
        singles: dict[str, list[Entry]] = {}
        phrases: dict[str, list[tuple[tuple[str, ...], Entry]]] = {}
        for entry in _with_latin_forms(list(entries)):
            for words in _spellings(entry.term):
                if len(words) == 1:
                    singles.setdefault(words[0], []).append(entry)
                else:
                    phrases.setdefault(words[0], []).append((words, entry))
        self.singles = {k: tuple(v) for k, v in singles.items()}
        grouped: dict[str, dict[tuple[str, ...], list[Entry]]] = {}
        for first, items in phrases.items():
            for words, entry in items:
                grouped.setdefault(first, {}).setdefault(words, []).append(entry)
        self.phrases = {
            first: tuple(
                sorted(
                    ((w, tuple(e)) for w, e in by_words.items()),
                    key=lambda item: -len(item[0]),
                )
            )
            for first, by_words in grouped.items()
        }
        vocabulary = set(self.singles)
        for items in phrases.values():
            for words, _ in items:
                vocabulary.update(words)
        self.vocabulary = frozenset(w for w in vocabulary if not w.endswith("*"))
        self.stems = frozenset(w[:-1] for w in vocabulary if w.endswith("*"))
        self._stem_lengths = sorted({len(s) for s in self.stems}, reverse=True)
        self._build_misspellings()  # from the words as listed, before aliases
        for word in self.vocabulary - self.singles.keys():
            # A word known only from phrases shadows its other readings: "teens"
            # (of "young teens") alone is still teen, "nackt" (of "nackt machen")
            # still nackt*.
            alias = self._stem(word) or self._plural(word)
            if alias is None and not word.isascii():
                alias = self._without_proclitic(word)  # `للاطفال` of a phrase
            if alias is not None and alias in self.singles:
                self.singles[word] = self.singles[alias]
        self.fillers = frozenset(
            k
            for k, es in self.singles.items()
            if all(e.category == "filler" for e in es)
        )
        self.numbers = {
            e.term: e.value
            for es in self.singles.values()
            for e in es
            if e.category in ("number", "ordinal") and e.value is not None
        }
        self._english_terms = frozenset(
            e.term for es in self.singles.values() for e in es if e.lang == "en"
        ) | frozenset(
            e.term
            for items in self.phrases.values()
            for _, es in items
            for e in es
            if e.lang == "en"
        )
        self._age_re = self._compile_age_suffixes()
        self._signal_words = frozenset(
            k
            for k, es in self.singles.items()
            if any(
                e.category in SIGNAL_CATEGORIES and e.category != "adult" for e in es
            )
        )
        self._english_signal_words = frozenset(
            k
            for k in self._signal_words
            # words, not phrases glued (`withoutastitch` is three words)
            if any(e.lang in ("en", "und") and e.term == k for e in self.singles[k])
        )
        #: The words fragments may join into: English signal words, and the
        #: youth and school words a minor is made of (`lit tle girl`, `sch ool
        #: girl`), as words of their own or of phrases.
        self._fragment_targets = (
            self._english_signal_words
            | frozenset(
                key
                for key, es in self.singles.items()
                if any(
                    e.category in _FRAGMENT_WORD_CATEGORIES
                    and e.lang in ("en", "und")
                    and e.term == key
                    for e in es
                )
            )
            | frozenset(
                word
                for items in self.phrases.values()
                for words, es in items
                if any(
                    e.category in _FRAGMENT_PHRASE_CATEGORIES
                    and e.lang in ("en", "und")
                    for e in es
                )
                for word in words
                if word.isalpha() and len(word) >= MIN_FRAGMENT_TARGET_CHARS
            )
            | frozenset(
                # `nac ktes kind`, `çıpl ak`: long signal words of other
                # languages typed in Latin letters
                key
                for key, es in self.singles.items()
                if key.rstrip("*").isalpha()
                and key.isascii()
                and len(key.rstrip("*")) >= MIN_FOREIGN_FRAGMENT_TARGET_CHARS
                and any(
                    e.category in _FOREIGN_FRAGMENT_CATEGORIES
                    and e.lang not in ("en", "und")
                    and " " not in e.term  # a word, not a glued phrase
                    and not e.flags & WORD_FLAGS
                    for e in es
                )
            )
        )
        #: Beginnings of those words (`normalise`), from one letter (`n ude`).
        self.fragment_starts = frozenset(
            word.rstrip("*")[:length]
            for word in self._fragment_targets
            if word.rstrip("*").isalpha()
            for length in range(1, len(word.rstrip("*")) + 1)
        ) | frozenset(
            word + ending
            for word in self._fragment_targets
            if word.isalpha()
            for ending in ("s", "es")
        )
        # the long words of keyed English phrases too (`ytrebup`, `sehtolc`):
        # one of them turned makes the reversed readings worth building
        reversed_phrase_words = frozenset(
            word[::-1]
            for items in self.phrases.values()
            for words, es in items
            if any(
                e.category in _FRAGMENT_PHRASE_CATEGORIES and e.lang in ("en", "und")
                for e in es
            )
            for word in words
            if len(word) >= MIN_REVERSED_PHRASE_WORD_CHARS
            and word.isalpha()
            and word[::-1] != word
        ) | frozenset(
            k[::-1]
            for k, es in self.singles.items()
            if len(k) >= MIN_REVERSED_PHRASE_WORD_CHARS
            and k.isalpha()
            and any(e.category == "puberty" and e.lang == "en" for e in es)
        )
        self._reversed_signals = frozenset(
            k[::-1]
            for k in self._signal_words
            if len(k) >= MIN_REVERSED_CHARS and k.isalpha() and k[::-1] != k
        ) | (reversed_phrase_words - self.vocabulary)
        #: Negations of the transliterated scripts, kept as typed in the Latin
        #: reading (`ребенок не голый`: Latin `ne` negates nothing)
        self.untransliterated = frozenset(
            plain_word(e.term)
            for es in self.singles.values()
            for e in es
            if e.category == "negation" and transliterate_term(e.term) is not None
        )
        #: Two words of a signal phrase typed in reverse order (`sister little`,
        #: `suit birthday`): the sign of a prompt typed with its words backwards
        forward_pairs = {
            pair
            for items in self.phrases.values()
            for words, _ in items
            for pair in itertools.pairwise(words)
        }
        self._reversed_phrase_pairs = frozenset(
            (second, first)
            for items in self.phrases.values()
            for words, es in items
            if any(
                e.category in _REVERSED_PHRASE_CATEGORIES and e.lang == "en" for e in es
            )
            for first, second in itertools.pairwise(words)
            if first != second
            and len(first) >= MIN_REVERSED_PAIR_WORD_CHARS
            and len(second) >= MIN_REVERSED_PAIR_WORD_CHARS
            and first.isalpha()
            and second.isalpha()
            and not {first, second} & _REVERSED_PAIR_FUNCTION_WORDS
            and (second, first) not in forward_pairs
        )
        self._reversed_rule_words = frozenset(
            k[::-1]
            for k, es in self.singles.items()
            if len(k) >= MIN_SELECTIVE_REVERSED_CHARS
            and k.isalpha()
            and k[::-1] != k
            and k not in _REVERSED_RULE_EXCLUDED
            and any(
                e.category in _REVERSED_RULE_CATEGORIES and e.lang == "en" for e in es
            )
        )
        # the words of CJK phrases too: `ペド 画像` typed with its space is two
        # words, each of which the segmenter must find
        phrase_words = {
            w for items in self.phrases.values() for ws, _ in items for w in ws
        }
        cjk_terms = frozenset(k for k in set(self.singles) | phrase_words if has_cjk(k))
        self.cjk = CjkTerms(cjk_terms, max(map(len, cjk_terms), default=0))
        # What the matcher needs per word and per phrase, precomputed: the entries
        # that make hits (fillers make none) and the languages they confirm.
        self.single_hits = {
            key: self._hit_info(entries) for key, entries in self.singles.items()
        }
        # phrases by first word, then by second word, longest first
        self.phrase_hits: dict[str, dict[str, list[tuple[tuple[str, ...], t.Any]]]] = {}
        for first_word, grouped_phrases in self.phrases.items():
            by_second = self.phrase_hits.setdefault(first_word, {})
            for phrase, phrase_entries in grouped_phrases:  # longest first
                by_second.setdefault(phrase[1], []).append(
                    (phrase, self._hit_info(phrase_entries))
                )
        #: The first two words of idioms that consume their words: one that
        #: begins on the last word of a longer phrase wins ("remove the clothes
        #: rack" removes a clothes rack).
        self.benign_pairs = frozenset(
            phrase[:2]
            for grouped_phrases in self.phrases.values()
            for phrase, phrase_entries in grouped_phrases
            if all(e.category == "benign" for e in phrase_entries)
        )
        #: Forms resolved only by a sound-alike key (English keys: in a text of
        #: another language they are dropped, see `_analysis`).
        self.sound_alike_forms: set[str] = set()
        self.resolve = functools.lru_cache(maxsize=RESOLVE_CACHE_SIZE)(self._resolve)
        self.fragment_word = functools.lru_cache(maxsize=RESOLVE_CACHE_SIZE)(
            self._fragment_word
        )
        self._reads_reversed_unknown = functools.lru_cache(maxsize=RESOLVE_CACHE_SIZE)(
            self._reversed_unknown
        )
        # `inert_reading`: what each word's entries need before they matter, and
        # the phrases that are not inert, by their first two words
        self._inert_words = {k: _inert_word(es) for k, es in self.singles.items()}
        self._deciding_phrases: dict[tuple[str, str], list[tuple[str, ...]]] = {}
        for grouped_items in self.phrases.values():
            for words, phrase_entries in grouped_items:
                if _roles(phrase_entries) != 0:
                    self._deciding_phrases.setdefault((words[0], words[1]), []).append(
                        words
                    )
        self._deciding_phrase_words = frozenset(
            w for phrase in self._deciding_phrases.values() for ws in phrase for w in ws
        ) | frozenset(w for pair in self._reversed_phrase_pairs for w in pair)
        self._inert_forms: dict[str, _InertForm | None] = {}

    def is_inert(self, text: str) -> bool:
        """Whether the full analysis of `text` finds nothing in it that decides
        or is reported (`inert_reading` with no word reported)."""
        reading = self.inert_reading(text)
        return reading is not None and not reading.reported

    def inert_reading(self, text: str) -> InertReading | None:
        """What the full analysis would make of `text` (masked, ASCII) where it
        is sure to find nothing that decides; None where it may. Every word
        resolves only to `INERT_CATEGORIES` words, to words that need another
        kind of word the text has none of (`_ROLE_BITS`; `young` needs a
        person, `off` a garment), to words reported as they are (an adult,
        girl/boy, `young`: `_REPORTED_ROLES`), or to none; no phrase that is not
        inert is typed; and no word can be read another way (a reversed or
        spelt-out word, words fragments join into, camel case, separators or
        symbols inside a word). Conservative: None sends the text to the full
        analysis, which decides; a test checks that both agree wherever this
        gives a reading."""
        if not text.isascii() or _CAMEL_CASE_RE.search(text):
            return None
        cache, starts, fragment_word = (
            self._inert_forms,
            self.fragment_starts,
            self.fragment_word,
        )
        typed: list[tuple[str, ...]] = []
        seen = 0
        one = two = ""  # the last piece, the last two, where they begin a word
        letters = 0  # one-letter words in a row
        in_phrases = False
        groups: set[frozenset[str]] = set()  # the categories of each word
        reports: list[tuple[int, tuple[str, str]]] = []  # (word index, trigger)
        lowered = text.lower()
        for index, form in enumerate(ASCII_TOKEN_RE.findall(lowered)):
            info = cache.get(form, _UNSEEN)
            if info is _UNSEEN:
                info = self._inert_form(form)
            if info is None:
                return None
            roles, report, categories, phrase_keys, piece, begins = info
            seen |= roles
            if one or two:
                # fragments: at most three pieces join into a word (`nu de`, `un
                # der a ge`), the first two the beginning of one (`join_fragments`)
                if two and fragment_word(two + piece):
                    return None
                if one and (pair := one + piece) in starts:
                    if fragment_word(pair):
                        return None
                    two = pair
                else:
                    two = ""
            one = piece if begins else ""
            if len(form) == 1:
                letters += 1
                if letters >= MIN_SPACED_RUN:
                    return None
            else:
                letters = 0
            typed.append(phrase_keys)
            if phrase_keys:
                in_phrases = True
            if report is not None:
                reports.append((index, report))
            groups.add(categories)
        if _combines(seen):
            return None
        if in_phrases and (
            self._types_a_deciding_phrase(typed) or self._types_a_reversed_pair(typed)
        ):
            return None
        reported: tuple[tuple[int, int, str, str], ...] = ()
        if reports:
            spans = [match.span() for match in ASCII_TOKEN_RE.finditer(lowered)]
            reported = tuple((*spans[i], *report) for i, report in reports)
        return InertReading(reported, frozenset().union(*groups))

    def _inert_form(self, form: str) -> "_InertForm | None":
        """One word as `inert_reading` reads it; None where it may decide.
        Cached."""
        info = self._inert_form_uncached(form)
        if len(self._inert_forms) >= RESOLVE_CACHE_SIZE:
            self._inert_forms.clear()
        self._inert_forms[form] = info
        return info

    def _inert_form_uncached(self, form: str) -> "_InertForm | None":
        if not form.isalnum():
            return None  # separators, symbols, leetspeak: `n.u.d.e`, `s*x`
        piece = piece_form(form)
        keys = self.resolve(form)
        if keys is None:
            if self._reads_reversed_unknown(form):
                return None
            return 0, None, frozenset(), (), piece, piece in self.fragment_starts
        if len(keys) == 1:
            word = self._inert_key(keys[0])
        else:
            # glued words (`dogsofa`): each is a hit of the same span
            parts = [self._inert_key(key) for key in keys]
            if any(p is None or p.report is not None for p in parts):
                return None
            word = _InertWord(
                functools.reduce(operator.or_, (p.roles for p in parts if p), 0),
                None,
                frozenset().union(*(p.categories for p in parts if p)),
            )
        if word is None:
            return None
        return (
            word.roles,
            word.report,
            word.categories,
            tuple(k for k in keys if k in self._deciding_phrase_words),
            piece,
            piece in self.fragment_starts,
        )

    def _inert_key(self, key: str) -> _InertWord | None:
        if key[0] == "#":
            # a count needs a person to be an age (`girl 12`); a glued age
            # (`12yo`), an ordinal or a year may be reported alone
            return _COUNT_WORD if key.startswith(NUMBER_KEY) else None
        return self._inert_words.get(key, _NO_WORD)

    def _types_a_reversed_pair(self, typed: list[tuple[str, ...]]) -> bool:
        """Whether two words in a row are a pair of `has_reversed_phrase` (the
        full analysis reads the text in reverse word order then)."""
        pairs = self._reversed_phrase_pairs
        return any(
            (first, second) in pairs
            for before, after in itertools.pairwise(typed)
            for first in before
            for second in after
        )

    def _types_a_deciding_phrase(self, typed: list[tuple[str, ...]]) -> bool:
        phrases = self._deciding_phrases
        count = len(typed)
        for index in range(count - 1):
            for first in typed[index]:
                for second in typed[index + 1]:
                    for words in phrases.get((first, second), ()):
                        size = len(words)
                        if index + size <= count and all(
                            words[k] in typed[index + k] for k in range(2, size)
                        ):
                            return True
        return False

    # -- look-up -------------------------------------------------------------

    def entries(self, key: str) -> tuple[Entry, ...]:
        return self.singles.get(key, ())

    def _hit_info(
        self, entries: t.Sequence[Entry]
    ) -> tuple[tuple[Entry, ...], frozenset[str]]:
        return (
            tuple(e for e in entries if e.category != "filler"),
            frozenset(
                e.lang
                for e in entries
                if "context" not in e.flags and self.is_distinctive(e)
            ),
        )

    def is_distinctive(self, entry: Entry) -> bool:
        """Whether `entry` shows its language: not English, not an English word."""
        return entry.lang != "en" and entry.term not in self._english_terms

    def exact_word(self, form: str) -> str | None:
        """The lexicon word `form` is as typed or as a plural (no other reading)."""
        return self._word(form) or self._plural(form)

    def _fragment_word(self, form: str) -> str | None:
        """The English signal word fragments join into (`tod dler`), if any: other
        languages' words are left alone (Italian "spoglia la" is two words).
        Cached per form as `fragment_word`."""
        word = self.exact_word(form)
        return word if word in self._fragment_targets else None

    def has_reversed_phrase(self, tokens: t.Sequence[Token]) -> bool:
        """Whether two words of a signal phrase stand in reverse order in one
        phrase of the text (`naked sister little`, `suit birthday his in`)."""
        pairs = self._reversed_phrase_pairs
        for before, after in itertools.pairwise(tokens):
            if (
                before.key is not None
                and after.key is not None
                and (before.key, after.key) in pairs
                and before.segment == after.segment
            ):
                return True
        return False

    def has_reversed_signal(self, tokens: t.Sequence[Token]) -> bool:
        """Whether a word the lexicon does not know is a signal word reversed, a
        glued age reversed (`oy9`) or signal words glued and reversed
        (`dlihcedun`), or the text has letters spelt out one by one (`e d u n`:
        read backwards, the spelt-out word may be one)."""
        spelt = 0  # one-letter words in a row
        for tok in tokens:
            form = tok.form
            if len(form) == 1 and form.isalpha():
                spelt += 1
                if spelt >= MIN_SPELT_OUT_LETTERS:
                    return True
                continue
            spelt = 0
            if tok.key is None and self._reads_reversed_unknown(form):
                return True
        return False

    def _reversed_unknown(self, form: str) -> bool:
        """Whether an unknown word is a signal word, a glued age or glued signal
        words typed last letter first (cached as `_reads_reversed_unknown`)."""
        if form in self._reversed_signals:
            return True
        if form[-1].isdecimal() and _REVERSED_AGE_RE.match(form) is not None:
            return True
        if not form.isalpha():
            # leetspeak reversed: `3dun` is `nud3`, `dl1hc` is `chl1d`
            if any(f in self._reversed_signals for f in leet_forms(form)):
                return True
        elif self._compound(form[::-1]) is not None:
            return True
        backwards = form[::-1]
        if len(form) < MIN_SELECTIVE_REVERSED_CHARS or backwards in self.vocabulary:
            return False  # a word of the lexicon reversed was looked at above
        if form.isascii() and form.isalpha() and not _looks_respelt(form):
            # an English word read backwards is noise to the sound-alike keys
            # (`restore` is no `erot*`): only a skeleton or a doubled letter
            return False
        # respelt and reversed: `dlhc` is `chld`, `ddlihc` is `childd`, `dlihс`
        keys = self.resolve(backwards)
        return keys is not None and any(
            self.is_signal(k)
            and not k.endswith("*")
            and self.skeleton_language(backwards, k) is None  # English keys only
            for k in keys
        )

    def reads_reversed(self, form: str) -> bool:
        """Whether `form` (lower case) is a signal word or a glued age typed last
        letter first (`dlihc`, `oy9`), for the reading that turns back only such
        words: from `MIN_SELECTIVE_REVERSED_CHARS` letters, and never a word the
        lexicon knows as typed (Turkish `oda` is a room, not `ado` reversed)."""
        if form in self.vocabulary:
            return False
        if form in self._reversed_signals or form in self._reversed_rule_words:
            return len(form) >= MIN_SELECTIVE_REVERSED_CHARS
        if form[-1].isdecimal() and _REVERSED_AGE_RE.match(form) is not None:
            return True
        return len(form) >= MIN_SELECTIVE_REVERSED_CHARS and any(
            f in self._reversed_signals for f in leet_forms(form)
        )

    def is_signal(self, key: str | None) -> bool:
        """Whether `key` is a word of a signal category (not `adult`)."""
        return key is not None and key in self._signal_words

    def _word(self, form: str) -> str | None:
        if form in self.vocabulary:
            return form
        return self._stem(form)

    def _stem(self, form: str) -> str | None:
        for length in self._stem_lengths:
            if len(form) >= length and form[:length] in self.stems:
                if "-" in form[length:]:
                    # a stem ends its word: `devushka-podrostok` is two words
                    # (girl, teenager), not one girl
                    continue
                return form[:length] + "*"
        return None

    def _resolve(self, form: str) -> tuple[str, ...] | None:
        """The lexicon words `form` stands for, or None (see module docstring)."""
        word = self._word(form)
        if word is not None:
            return (word,)
        special = self._special(form)
        if special is not None or len(form) > MAX_TOLERANT_CHARS:
            return special  # no word is this long: spare the quadratic readings
        readings = [form]
        if not form.isascii():
            readings.append(latin_lookalike(form))
        starred: list[str] = []
        for reading in list(readings):
            readings.extend(leet_forms(reading))
            starred.extend(wildcard_forms(reading))
        # a censoring star hides a word worth hiding: `n*de` is nude, not node
        for reading in starred:
            word = self._word(reading)
            if word is not None and self.is_signal(word):
                return (word,)
        readings.extend(starred)
        for reading in readings[1:]:
            word = self._word(reading)
            if word is not None:
                return (word,)
        for reading in readings:  # `chiId`: capital I for l, signal words only
            for variant in capital_i_forms(reading):
                if variant in self._tolerant:
                    return (variant,)
        for reading in readings:
            if reading.isalpha():
                word = self._misspelt(reading)
                if word is not None:
                    return (word,)
        for reading in readings:
            if reading.isalpha():
                compound = self._compound(reading)
                if compound is not None:
                    return compound
        if not form.isascii():
            word = self._without_proclitic(form)
            if word is not None:
                return (word,)
        for reading in readings:
            if reading.isalpha() and reading.isascii():
                word = self._sound_alike(reading)
                if word is not None:
                    if len(self.sound_alike_forms) >= RESOLVE_CACHE_SIZE:
                        # bounded like the cache it goes with: both start again,
                        # so every cached sound-alike reading is still listed
                        self.sound_alike_forms.clear()
                        self.resolve.cache_clear()
                    self.sound_alike_forms.add(form)
                    return (word,)
        if form.isalpha() and form.isascii():
            foreign = self._foreign_skeleton(form)
            if foreign is not None:
                return (foreign[0],)
        return None

    def _without_proclitic(self, form: str) -> str | None:
        """`والطفل` ("and the child") → `طفل`."""
        for proclitic in ARABIC_PROCLITICS:
            if (
                form.startswith(proclitic)
                and len(form) - len(proclitic) >= MIN_ARABIC_STEM_CHARS
            ):
                word = self._word(form[len(proclitic) :])
                if word is not None:
                    return word
        return None

    def _sound_alike(self, form: str) -> str | None:
        """A minor or nudity word by its skeleton (`chld`), Metaphone (`chyld`) or
        typo keys (`prepubecent`), or the plural of one (`chlds`); never an
        excluded ordinary word (see `_sound_alike`)."""
        if len(form) < _sound_alike.MIN_TYPED_CHARS or form in self._excluded:
            return None
        word = self.sound_alike_word(form)
        if (
            word is None
            and form[-1] in "sz"
            and len(form) > _sound_alike.MIN_PLURAL_CHARS
        ):
            singular = form[:-1]
            if singular not in self._excluded:
                word = self.sound_alike_word(singular)
        return word

    def sound_alike_word(self, form: str) -> str | None:
        """The keyed word `form` sounds like, is spelt like or is one slip away
        from, exclusions aside (the exclusions generator asks this too)."""
        if len(form) < _sound_alike.MIN_TYPED_CHARS:
            return None
        word = self._swaps.get(form)
        if word is not None:
            return word
        word = _by_shape_or_sound(form, self._skeletons, self._sounds)
        if word is not None:
            return word
        if len(form) < _sound_alike.MIN_KEYED_WORD_CHARS:
            return self._phrase_word(form)
        word = self._metaphones.get(_sound_alike.metaphone(form))
        if (
            word is not None
            and abs(len(word) - len(form)) <= _sound_alike.MAX_LENGTH_DIFFERENCE
            and _sound_alike.first_letters_agree(form, word)
            and _sound_alike.onset(form) == _sound_alike.onset(word)
        ):
            return word
        if _sound_alike.typo_candidate(form):
            word = self._typo(form)
            if word is not None:
                return word
        return self._phrase_word(form)

    def _phrase_word(self, form: str) -> str | None:
        """The word of a keyed phrase `form` is the skeleton (`brthdy`) or a
        respelling (`berthday`) of."""
        return _by_shape_or_sound(form, self._phrase_skeletons, self._phrase_sounds)

    def _special(self, form: str) -> tuple[str, ...] | None:
        """Numbers, ordinals, glued ages (`9yo`), count prefixes (`1girl`), Roman
        numerals (`viii`) and years (`2016`, for "born in 2016")."""
        if form.isdecimal():
            if len(form) <= 3:
                return (NUMBER_KEY + form,)
            return (YEAR_KEY + form,) if len(form) == 4 else None
        roman = _ROMAN.get(form)
        if roman is not None:
            return (NUMBER_KEY + str(roman),)
        school = _SCHOOL_CODES.get(form)
        if school is not None:
            return (SCHOOL_KEY + str(school),)
        age = self._age_re.match(form)
        if age is None and form[0].isdecimal():
            # `9y0`: leetspeak in the suffix only (the number stays a number)
            digits = len(form) - len(form.lstrip("0123456789"))
            if 0 < digits < len(form):
                suffix = form[digits:].translate(LEET_AS_I)
                age = self._age_re.match(form[:digits] + suffix)
        if age:
            value = age.group(1) or age.group(2)
            number = int(value) if value.isdecimal() else self.numbers.get(value)
            return (AGE_KEY + str(number),) if number is not None else None
        if form[0].isdecimal():
            ordinal = _ORDINAL_RE.match(form)
            if ordinal:
                return (ORDINAL_KEY + ordinal.group(1),)
            tag = _AGE_TAG_RE.match(form)
            if tag:
                return (TAG_KEY + tag.group(1),)
            counted = _COUNT_PREFIX_RE.match(form)
            if counted:
                rest = self.resolve(counted.group(2))
                return rest
        return None

    def _misspelt(self, form: str) -> str | None:
        """Plural, repeated letters collapsed (`nuuude`, `childd`), a dropped double
        (`todler`), one swapped pair (`chlid`), the plural of a collapsed signal
        word (`kidds`). Each was checked against a 100k-word English dictionary:
        wider tolerance here (a missing or extra letter) turned "rousing",
        "pastries" and "beasts" into signal words; it is left to the typo keys of
        the sound-alike step, which dictionary words never take."""
        word = self._plural(form)
        if word is not None:
            return word
        collapsed = _sound_alike.collapse(form)
        if collapsed != form:
            tripled = _has_run(form, 3)
            if tripled or len(collapsed) >= MIN_COLLAPSE_CHARS:
                word = collapsed if collapsed in self.vocabulary else None
            else:  # short: only signal words (`nudee`, `kidd`; `soon` is not son)
                word = collapsed if collapsed in self._tolerant else None
            if word is None and tripled:  # `liiitle` → litle → little
                word = self._collapsed.get(collapsed)
            if word is None and len(collapsed) >= MIN_COLLAPSED_PLURAL_CHARS:
                plural = self._plural(collapsed)  # `kidds` → kids → kid
                word = plural if plural in self._tolerant else None
            if word is not None:
                return word
        elif len(form) >= MIN_COLLAPSE_CHARS:
            word = self._collapsed.get(form)
            # five letters: a word of its own only (`litle`, `nekid`), not a
            # glued phrase (`hoten` is not "hot teen")
            if word is not None and (
                len(form) > MIN_COLLAPSE_CHARS or word in self._english_terms
            ):
                return word
        if len(form) >= MIN_TRANSPOSE_CHARS:
            for i in range(len(form) - 1):
                swapped = form[:i] + form[i + 1] + form[i] + form[i + 2 :]
                if swapped in self._fuzzy_words:
                    return swapped
        return None

    def _plural(self, form: str) -> str | None:
        for cut, add in _PLURALS:
            if form.endswith(cut) and len(form) - len(cut) >= 2:
                if cut == "s" and form.endswith("ss"):  # brass is not bras
                    continue
                word = self._word(form[: -len(cut)] + add)
                if word is not None:
                    return word
        return None

    def _compound(self, form: str) -> tuple[str, ...] | None:
        """`nakedchild` → (`naked`, `child`): an exact split into signal words
        (never `context` or `exact` ones: "lesson" is not les + son)."""
        size = len(form)
        if size < 2 * MIN_COMPOUND_PIECE_CHARS or size > MAX_COMPOUND_CHARS:
            return None
        words = self._compound_words
        best: list[tuple[str, ...] | None] = [None] * (size + 1)
        best[0] = ()
        for end in range(MIN_COMPOUND_PIECE_CHARS, size + 1):
            for start in range(0, end - MIN_COMPOUND_PIECE_CHARS + 1):
                prefix = best[start]
                if prefix is not None and form[start:end] in words:
                    best[end] = (*prefix, form[start:end])
                    break
        pieces = best[size]
        return pieces if pieces is not None and len(pieces) >= 2 else None

    # -- building ------------------------------------------------------------

    def _compile_age_suffixes(self) -> re.Pattern[str]:
        suffixes: list[str] = []
        for key, entries in self.singles.items():
            if any(e.category == "age_suffix" for e in entries):
                stem = key.endswith("*")
                suffixes.append(re.escape(key.rstrip("*")) + (r"\w*" if stem else ""))
        words = sorted(
            (
                k
                for k, es in self.singles.items()
                if any(e.category == "number" for e in es) and not k.isdecimal()
            ),
            key=len,
            reverse=True,
        )
        number_words = "|".join(map(re.escape, words)) or r"(?!x)x"
        alternatives = "|".join(sorted(suffixes, key=len, reverse=True)) or r"(?!x)x"
        return re.compile(rf"^(?:(\d{{1,2}})|({number_words}))-?(?:{alternatives})$")

    def _build_misspellings(self) -> None:
        tolerant: set[str] = set()
        compound: set[str] = set()
        for key, entries in self.singles.items():
            if key.endswith("*") or not key.isalpha():
                continue
            if any(e.flags & {"exact", "context"} for e in entries):
                continue
            if any(
                e.lang in ("en", "und") and e.category in _TOLERANT_GRAMMAR
                for e in entries
            ):
                tolerant.add(key)
            signal = [e for e in entries if e.category in SIGNAL_CATEGORIES]
            if not signal:
                continue
            if len(key) >= MIN_COMPOUND_PIECE_CHARS:
                compound.add(key)
            if any(e.lang in ("en", "und") and e.category in _TOLERANT for e in signal):
                tolerant.add(key)
        self._compound_words = frozenset(compound)
        self._tolerant = frozenset(tolerant)
        self._fuzzy_words = frozenset(
            w for w in tolerant if len(w) >= MIN_TRANSPOSE_CHARS
        )
        self._collapsed = {
            _sound_alike.collapse(w): w
            for w in sorted(tolerant)
            if _sound_alike.collapse(w) != w and len(w) >= MIN_COLLAPSE_CHARS
        }
        self._build_sound_alikes()
        self._build_foreign_skeletons()

    def _build_foreign_skeletons(self) -> None:
        """Consonant skeletons of the minor, nudity and sexual words of the other
        Latin-script languages (`çıplk` → çıplak, `telanjng` → telanjang), and
        their forms with two neighbouring letters swapped (`bguil` → bugil). A
        key two categories share, or an English key, or a word of the lexicon, is
        dropped (the exclusions are checked when a word is read). Only read
        where another word of the same language confirms it (`_analysis`, by
        `skeleton_language`)."""
        found: dict[str, set[tuple[str, str, str]]] = {}
        swapped: dict[str, set[tuple[str, str, str]]] = {}
        for key, entries in self.singles.items():
            word = key.rstrip("*")
            if (
                len(word) < MIN_FOREIGN_SKELETON_WORD_CHARS
                or not word.isascii()
                or not word.isalpha()
            ):
                continue
            for e in entries:
                if (
                    e.category in _FOREIGN_SKELETON_CATEGORIES
                    and e.lang not in _NO_FOREIGN_SKELETON_LANGUAGES
                    and " " not in e.term
                    and not e.flags & {"exact", "context"}
                ):
                    shape = _sound_alike.skeleton(word)
                    reading = (key, e.lang, e.category)
                    if len(shape) >= MIN_FOREIGN_SKELETON_CHARS and shape != word:
                        found.setdefault(shape, set()).add(reading)
                    for form in _sound_alike.swapped_forms(word):
                        swapped.setdefault(form, set()).add(reading)
        # `desnudo` and `desnuda` share `dsnd`: one category, so one reading
        self._foreign_skeletons = {
            shape: min((key, lang) for key, lang, _ in words)
            for shape, words in found.items()
            if len({category for _, _, category in words}) == 1
            and shape not in self.vocabulary
            and shape not in self._skeletons
        }
        #: ... and the same words with two neighbouring letters swapped (`bguil`)
        self._foreign_swaps = {
            form: min((key, lang) for key, lang, _ in words)
            for form, words in swapped.items()
            if len({category for _, _, category in words}) == 1
            and form not in self.vocabulary
            and form not in self._swaps
        }
        self._foreign_skeleton_words = frozenset(
            word for word, _ in self._foreign_skeletons.values()
        ) | frozenset(word for word, _ in self._foreign_swaps.values())

    def _foreign_skeleton(self, form: str) -> tuple[str, str] | None:
        """The word of another language (and its language) `form` is the
        consonant skeleton of, typed with fewer vowels (`çıplk`, `telanjng`)."""
        if len(form) < MIN_FOREIGN_SKELETON_CHARS or form in self._excluded:
            return None
        if self.foreign_skeleton_word(form) is None:
            return None  # none, or a respelling: left to the word's own keys
        return (
            self._foreign_swaps.get(form)
            or (self._foreign_skeletons[_sound_alike.skeleton(form)])
        )

    def foreign_skeleton_word(self, form: str) -> str | None:
        """The word of another language `form` would be read as by its skeleton,
        exclusions aside (the exclusions generator asks this)."""
        found = self._foreign_swaps.get(form)
        if found is not None:
            return found[0]
        found = self._foreign_skeletons.get(_sound_alike.skeleton(form))
        if found is None or _vowels(form) >= _vowels(found[0].rstrip("*")):
            return None
        return found[0]

    def skeleton_language(self, form: str, key: str | None) -> str | None:
        """The language whose word `key` the typed `form` was read as by its
        skeleton, or None when it was read some other way."""
        if key not in self._foreign_skeleton_words or form in self.vocabulary:
            return None
        found = self._foreign_skeleton(form) if form.isascii() else None
        return found[1] if found is not None and found[0] == key else None

    def _build_sound_alikes(self) -> None:
        """Skeleton and Metaphone keys of the English minor and nudity words; a key
        two words of different categories share is dropped (it decides nothing)."""
        skeletons: dict[str, set[tuple[str, str]]] = {}
        sounds: dict[str, set[tuple[str, str]]] = {}
        metaphones: dict[str, set[tuple[str, str]]] = {}
        typos: dict[str, set[tuple[str, str]]] = {}
        swaps: dict[str, set[tuple[str, str]]] = {}
        keyed: set[str] = set()
        sound_keyed: set[str] = set()  # words with skeleton and sound keys
        for key, entries in self.singles.items():
            categories = {
                e.category
                for e in entries
                if e.category in _sound_alike.SOUND_ALIKE_CATEGORIES
                and e.lang in ("en", "und")
                and e.term == key  # a word, not a glued phrase (`asakid`)
                and not e.flags & {"exact", "context"}
            }
            if not categories:
                if (
                    len(key) >= _sound_alike.MIN_TYPO_WORD_CHARS
                    and key.isalpha()
                    and any(
                        e.category in _sound_alike.TYPO_ONLY_CATEGORIES
                        and e.lang in ("en", "und")
                        and e.term == key
                        and not e.flags & {"exact", "context"}
                        for e in entries
                    )
                ):
                    keyed.add(key)
                    for typo in _sound_alike.typo_keys(key):
                        typos.setdefault(typo, set()).add(("typo_only", key))
                continue
            shape, heard, code = _sound_alike.keys(key)
            category = ",".join(sorted(categories))
            sound_keyed.add(key)
            if len(key) >= _sound_alike.MIN_SWAPPED_WORD_CHARS and key.isalpha():
                for swapped in _sound_alike.swapped_forms(key):
                    swaps.setdefault(swapped, set()).add((category, key))
            for table, value in (
                (skeletons, shape),
                (sounds, heard),
                (metaphones, code),
            ):
                if value is not None:
                    table.setdefault(value, set()).add((category, key))
            if len(key) >= _sound_alike.MIN_TYPO_WORD_CHARS and key.isalpha():
                keyed.add(key)
                for typo in _sound_alike.typo_keys(key):
                    typos.setdefault(typo, set()).add((category, key))
        # the long words of keyed phrases too (`elementry schooler`), unless keyed
        # already as words of their own; their skeletons and sounds apart, tried
        # after the words' own (`prmry school`, `in his brthdy suit`)
        phrase_skeletons: dict[str, set[tuple[str, str]]] = {}
        phrase_sounds: dict[str, set[tuple[str, str]]] = {}
        for items in self.phrases.values():
            for words, entries in items:
                if not any(
                    e.category in _sound_alike.SOUND_ALIKE_CATEGORIES
                    and e.lang in ("en", "und")
                    for e in entries
                ):
                    continue
                for word in words:
                    if not word.isalpha() or not word.isascii():
                        continue
                    if len(word) >= _sound_alike.MIN_TYPO_WORD_CHARS and (
                        word not in keyed
                    ):
                        for typo in _sound_alike.typo_keys(word):
                            typos.setdefault(typo, set()).add(("phrase", word))
                    if (
                        len(word) >= _sound_alike.MIN_PHRASE_WORD_KEY_CHARS
                        and word not in sound_keyed
                    ):
                        for swapped in _sound_alike.swapped_forms(word):
                            swaps.setdefault(swapped, set()).add(("phrase", word))
                        shape, heard, _ = _sound_alike.keys(word)
                        for table, value in (
                            (phrase_skeletons, shape),
                            (phrase_sounds, heard),
                        ):
                            if value is not None:
                                table.setdefault(value, set()).add(("phrase", word))
        self._phrase_skeletons = _unambiguous(phrase_skeletons)
        self._phrase_sounds = _unambiguous(phrase_sounds)
        self._swaps = _unambiguous(swaps)
        self._skeletons = _unambiguous(skeletons)
        self._typos = _unambiguous(typos)
        self._sounds = _unambiguous(sounds)
        self._metaphones = _unambiguous(metaphones)
        self._excluded = _sound_alike.exclusions() | self.vocabulary
        self.rare_sound_alikes = self._rare_sound_alikes()

    def _rare_sound_alikes(self) -> dict[str, tuple[str, frozenset[str]]]:
        """Rare excluded words (`kyd`, `childe`) that sound like a keyed word or
        are one slip from it, with that word and its categories: `_analysis`
        reads them only next to a signal word of the other kind."""
        out: dict[str, tuple[str, frozenset[str]]] = {}
        for form in _sound_alike.rare_exclusions() - self.vocabulary:
            stem = form
            word = self.sound_alike_word(form)
            if word is None and form[-1] in "sz":
                stem = form[:-1]
                word = self.sound_alike_word(stem)
            if word is None or not (
                _sound_alike.sound(stem) == _sound_alike.sound(word)
                or _sound_alike.one_slip(stem, word.rstrip("*"))
            ):
                continue
            categories = frozenset(e.category for e in self.singles.get(word, ()))
            out[form] = (word, categories)
        return out

    def _typo(self, form: str) -> str | None:
        """A keyed word one letter added, dropped or changed away from `form`."""
        for typo in _sound_alike.typo_keys(form):
            word = self._typos.get(typo)
            if word is not None and word[0] == form[0] and word != form:
                return word
        return None


def _by_shape_or_sound(
    form: str, skeletons: t.Mapping[str, str], sounds: t.Mapping[str, str]
) -> str | None:
    """The word whose consonant skeleton `form` is, with fewer vowels (`chld`),
    or whose sound form it shares, beginning alike (`chyld`)."""
    word = skeletons.get(_sound_alike.skeleton(form))
    if word is not None and _sound_alike.vowel_count(form) < (
        _sound_alike.vowel_count(word)
    ):
        return word
    word = sounds.get(_sound_alike.sound(form))
    if word is not None and _sound_alike.first_letters_agree(form, word):
        return word
    return None


def _unambiguous(table: dict[str, set[tuple[str, str]]]) -> dict[str, str]:
    out = {}
    for key, words in table.items():
        if len({category for category, _ in words}) == 1:
            out[key] = min(word for _, word in words)
    return out


def _with_latin_forms(entries: list[Entry]) -> list[Entry]:
    """The entries, plus the Latin form of every Cyrillic and Greek one that is
    long enough and not a word the lexicon already has in Latin letters."""
    latin = {e.term for e in entries if e.term.isascii()}
    out = list(entries)
    for entry in entries:
        if entry.term.isascii() or entry.category == "filler":
            continue
        form = transliterate_term(entry.term)
        if form is None or form in latin:
            continue
        form = form.replace("'", "")
        shortest = min(len(w.rstrip("*")) for w in form.split())
        if (
            shortest < MIN_TRANSLITERATED_CHARS
            and entry.category not in _SHORT_TRANSLITERATED
        ):
            continue
        out.append(
            dataclasses.replace(
                entry,
                term=form,
                flags=entry.flags | {"exact"},
                source=f"{entry.source} (Latin form)",
            )
        )
    return out


def _has_run(form: str, length: int) -> bool:
    run = 1
    for i in range(1, len(form)):
        run = run + 1 if form[i] == form[i - 1] else 1
        if run >= length:
            return True
    return False


def _spellings(term: str) -> list[tuple[str, ...]]:
    """The word sequences a term is found as: `g-string` → (gstring,), (g, string);
    `little girl` → (little, girl), (littlegirl,) for hashtag-style gluing. Digits
    become number keys, as `resolve` reads them (`under 18`)."""
    words = [NUMBER_KEY + w if w.isdecimal() else w for w in term.split()]
    if not any(_WORD_SEPARATORS_RE.search(w.rstrip("*")) for w in words):
        out = [tuple(words)]
        if len(words) > 1 and not any(w.endswith("*") or w[0] == "#" for w in words):
            glued = "".join(words)
            if len(glued) >= 6:
                out.append((glued,))
        return out
    joined = tuple(_WORD_SEPARATORS_RE.sub("", w) for w in words)
    split = tuple(p for w in words for p in _WORD_SEPARATORS_RE.split(w) if p)
    out = [joined]
    if split != joined:
        out.append(split)
    glued = "".join(joined)
    if len(joined) > 1 and len(glued) >= 6 and not glued.endswith("*"):
        out.append((glued,))
    return out


@functools.lru_cache(maxsize=1)
def builtin() -> Lexicon:
    """The built-in lexicon, compiled once per process."""
    return Lexicon(builtin_entries())
