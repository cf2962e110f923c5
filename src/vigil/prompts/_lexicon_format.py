"""Lexicon files: the format operators write, parsed into `Entry` records.

File format (UTF-8, one entry a line; docs/prompts.md has the full description):

    # lang: de                       optional; else the file name (de.tsv), else "und"
    category<TAB>term[<TAB>flags]

`term` is one word or a phrase of up to `MAX_TERM_WORDS` words, written naturally
(accents, capitals and hyphens are folded the same way prompts are); a trailing `*`
makes a single word a prefix (`nackt*` matches nackte, nacktes). `flags` is a
comma-separated list of `context` (counts only when a word of another language than
English is in the text: Dutch/German `kind`), `english` (the reverse: dropped
when a word of another language is in the text and it does not read as English:
German `tot` is dead, not a small child), `noun` (counts only when not followed
by an unknown word: "minor" but not "minor league"), `modifier` (does not count right
before an `object` word: "kid goat", "nude lipstick"), `exact` (no misspelling
tolerance) and `value=N` (numbers and ordinals; for month units, the divisor).
"""

import dataclasses
import importlib.resources
import pathlib
import re

from vigil.prompts.normalise import fold_text

#: Category → what it means. Signal categories feed the decision; grammar
#: categories are word classes the rules use (see docs/prompts.md).
SIGNAL_CATEGORIES: dict[str, str] = {
    "minor": "a word that denotes a child or minor",
    "minor_slang": "a drawn-minor genre word (loli, shota): review on its own",
    "minor_costume": "a minor role often worn as a costume (schoolgirl)",
    "teen": "a word for 13-19 year olds: ambiguous age",
    "youthful": "a youth descriptor that does not fix an age (petite, barely legal)",
    "ambiguous_person": "girl/boy: children and adults alike",
    "adult": "a word that marks an adult",
    "sexual": "a sexual or sexualising term",
    "nudity": "a nudity term",
    "clothing_removal": "a clothing-removal term",
    "sexualised_clothing": "lingerie, thongs and similar",
    "underwear": "underwear",
    "exposure": "a term of partial exposure with innocent uses (skin to skin)",
    "nudify": "an instruction to undress a person in an image",
    "abuse_slang": "abuse slang reported by hotlines: blocks on its own",
}
GRAMMAR_CATEGORIES: dict[str, str] = {
    "person": "a neutral person noun (student, model) that ages bind to",
    "object": "a non-person noun: a preceding term is a modifier (kid goat)",
    "benign": "an idiom that consumes its words (naked eye, minor key)",
    "clothing": "a garment (negative-prompt and clothing-removal rules)",
    "clothing_all": "clothes as a whole (negation rule: without clothes)",
    "censor": "a censoring word (negative-prompt rule)",
    "negation": "no, without, ohne, sin...",
    "removal_verb": "take off, lift, remove... (before a garment)",
    "removal_after": "off, removed... (after a garment)",
    "youth_adjective": "little, young, small: with girl/boy makes a minor",
    "school_minor": "elementary/middle school: with a person makes a minor",
    "school_teen": "high school: with a person makes a teen",
    "number": "a number word (flag value=N)",
    "ordinal": "an ordinal word (flag value=N)",
    "age_unit": "year(s), yo, Jahre, años... after a number",
    "age_old": "old, alt, oud... after an age unit",
    "age_prefix": "aged, age, Alter... before a number",
    "age_suffix": "a suffix glued to a number: 9yo, neunjährige",
    "grade": "grade, grader, Klasse... with an ordinal or number",
    "filler": "a function word (and, with, der): ages may bind across it",
    "copula": "is, was, turned: `she is 11` states the person's age",
    "puberty": "puberty, adolescence: with not/yet/before in reach, a minor",
    "furry_context": "furry, yiff, anthro: makes `cub` words minors",
    "furry_minor": "cub: a minor in a furry context, an animal otherwise",
    "nudity_short": "nd: nude in text-speak, also `and`; nudity only at a minor",
    "person_short": "by: boy in text-speak; a boy only after little/young",
}
CATEGORIES = {**SIGNAL_CATEGORIES, **GRAMMAR_CATEGORIES}
FLAGS = frozenset({"context", "english", "noun", "exact", "modifier"})
#: Flags by which a rule of the analysis may drop a word's hit (all but `exact`).
WORD_FLAGS = frozenset({"noun", "modifier", "context", "english"})

#: Limits for operator-supplied files (the built-in files are ~100 KB).
MAX_LEXICON_BYTES = 16 * 1024 * 1024
MAX_TERM_CHARS = 120
MAX_TERM_WORDS = 6
#: Stems shorter than this would match too much (`nag*` → nagroda, "prize").
MIN_STEM_CHARS = 3
_LANG_RE = re.compile(r"^#\s*lang\s*:\s*([a-z]{2,3})\s*$", re.IGNORECASE)
_FILE_LANG_RE = re.compile(r"^[a-z]{2,3}$")


class LexiconError(ValueError):
    """A lexicon file could not be read: bad line, unknown category, too large."""

    reason = "bad_lexicon"


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    category: str
    term: str  # normalised: folded words joined by single spaces
    lang: str
    flags: frozenset[str] = frozenset()
    value: int | None = None
    source: str = ""


def _fold(term: str) -> str:
    return fold_text(term)[0]


def parse(text: str, source: str, lang: str = "und") -> list[Entry]:
    """Entries of one lexicon file; LexiconError names the line of a bad entry."""
    entries: list[Entry] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            directive = _LANG_RE.match(line)
            if directive:
                lang = directive.group(1).lower()
            continue
        fields = raw.rstrip("\r\n").split("\t")
        where = f"{source}:{number}"
        if len(fields) not in (2, 3):
            raise LexiconError(f"{where}: expected category<TAB>term[<TAB>flags]")
        category, term = fields[0].strip(), fields[1].strip()
        if category not in CATEGORIES:
            raise LexiconError(f"{where}: unknown category {category!r}")
        words = _fold(term).split()
        if not words or len(term) > MAX_TERM_CHARS or len(words) > MAX_TERM_WORDS:
            raise LexiconError(f"{where}: empty or over-long term {term!r}")
        if any(w.endswith("*") and len(w) - 1 < MIN_STEM_CHARS for w in words):
            raise LexiconError(f"{where}: prefix shorter than {MIN_STEM_CHARS}")
        flags, value = _flags(fields[2] if len(fields) == 3 else "", where)
        entries.append(Entry(category, " ".join(words), lang, flags, value, source))
    return entries


def _flags(text: str, where: str) -> tuple[frozenset[str], int | None]:
    flags: set[str] = set()
    value: int | None = None
    for flag in filter(None, (f.strip() for f in text.split(","))):
        if flag.startswith("value="):
            try:
                value = int(flag[6:])
            except ValueError as exc:
                raise LexiconError(f"{where}: bad value {flag!r}") from exc
        elif flag in FLAGS:
            flags.add(flag)
        else:
            raise LexiconError(f"{where}: unknown flag {flag!r}")
    return frozenset(flags), value


def load_file(path: pathlib.Path) -> list[Entry]:
    """Entries of an operator's lexicon file (size-limited)."""
    try:
        size = path.stat().st_size
        if size > MAX_LEXICON_BYTES:
            raise LexiconError(f"{path}: larger than {MAX_LEXICON_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LexiconError(f"{path}: cannot read: {exc}") from exc
    stem = path.stem.lower()
    return parse(text, path.name, stem if _FILE_LANG_RE.match(stem) else "und")


def builtin_entries() -> list[Entry]:
    """The lexicon files shipped in `vigil/prompts/lexicon/`."""
    entries: list[Entry] = []
    folder = importlib.resources.files("vigil.prompts") / "lexicon"
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if item.name.endswith(".tsv"):
            stem = item.name[:-4]
            lang = stem if _FILE_LANG_RE.match(stem) else "und"
            entries.extend(parse(item.read_text(encoding="utf-8"), item.name, lang))
    return entries
