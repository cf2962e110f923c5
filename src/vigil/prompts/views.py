"""Second readings of a prompt: upside-down, mirrored and transliterated text.

A view is the text rewritten character by character, with, for every character of
the view, the index of the original character it came from, so a term found in a
view is still highlighted where it was typed. The filter analyses the text as typed
first and a view only when the text carries the characters that view decodes:

- `upside_down`: letters turned 180° (`ɐ ǝ ɹ ʇ ɥ`, `pǝʇ` for "ted"), read back in
  place and, since turned text is usually typed last letter first, also reversed.
  Upside-down text reuses ASCII letters (`p` for d, `u` for n), so the view is
  only built when enough turned-only letters show that the text is turned.
- `mirrored`: letters flipped left to right (`ɘ ᴎ ƨ ꙅ ɿ`), in place and reversed.
- `reversed`: plain text typed last letter first (`edun`), whole or word by
  word; built only when a word of the text is a signal word reversed.
- `transliterated`: Cyrillic, Greek and the other alphabets `anyascii` knows
  written in Latin letters, matched against the transliterated lexicon terms (the
  lexicon adds the Latin form of every Cyrillic and Greek entry). Han, kana and
  Hangul are left as they are: their romanisation is not how anyone types them.

Views never replace the text: a Russian prompt is still read as Russian, and the
decision is the most severe over the text and its views.
"""

import dataclasses
import functools
import re
import typing as t
import unicodedata

from anyascii import anyascii

#: Turned letters that ASCII text never contains; at least this many make a text
#: worth reading upside down (one `ɐ` is an IPA transcription, three are not).
MIN_TURNED_LETTERS = 3
#: Mirrored letters needed before the mirrored view is built.
MIN_MIRRORED_LETTERS = 2
#: Letters of a non-Latin alphabet needed before the transliterated view is built.
MIN_TRANSLITERATED_LETTERS = 2

# Upside-down (rotated 180°) forms and the letter each stands for. The keys are
# the forms in common "flip text" tables (Unicode names: LATIN SMALL LETTER TURNED
# A, ...); ASCII stand-ins (`p` for d, `u` for n, `q` for b, `d` for p, `n` for u,
# `b` for q) are swapped only inside the upside-down view.
_TURNED_ONLY = {
    "ɐ": "a", "ɔ": "c", "ǝ": "e", "ə": "e", "ɟ": "f", "ƃ": "g", "ᵷ": "g", "ɥ": "h",
    "ᴉ": "i", "ı": "i", "ɾ": "j", "ſ": "j", "ʞ": "k", "ʃ": "l", "ꞁ": "l", "ן": "l",
    "ɯ": "m", "ɹ": "r", "ʇ": "t", "ʌ": "v", "ʍ": "w", "ʎ": "y", "∀": "a", "Ɔ": "c",
    "Ǝ": "e", "Ⅎ": "f", "⅁": "g", "Ꞁ": "l", "Ɯ": "m", "Ԁ": "p", "Ꞟ": "r", "⊥": "t",
    "Ʇ": "t", "∩": "u", "Λ": "v", "Ʌ": "v", "Ϻ": "w", "⅄": "y", "ʁ": "r",
}  # fmt: skip
_TURNED_ASCII = {
    "p": "d", "d": "p", "b": "q", "q": "b", "n": "u", "u": "n", "6": "9", "9": "6",
}  # fmt: skip
# Turned digits of the same tables: Ɩ 1, ᄅ 2, Ɛ 3, ㄣ 4, ϛ 5, ㄥ 7.
_TURNED_DIGITS = {"Ɩ": "1", "ᄅ": "2", "Ɛ": "3", "ㄣ": "4", "ϛ": "5", "ㄥ": "7"}
# Turned punctuation: `˙` for a full stop, `¡` for !, `¿` for ?, `'` for `,`.
_TURNED_MARKS = {"˙": ".", "¡": "!", "¿": "?", "‾": "_", "⅋": "&"}
# Mirrored (left-right) forms.
_MIRRORED_ONLY = {
    "ɒ": "a", "ɘ": "e", "ꟻ": "f", "Ꮈ": "g", "ʜ": "h", "ᴎ": "n", "ᴙ": "r",
    "ɿ": "r", "ƨ": "s", "ꙅ": "s", "Ƨ": "s", "Ꙅ": "s", "Ɉ": "j", "ꞁ": "l",
    "ᑐ": "c", "Ↄ": "c", "ↄ": "c", "ɜ": "e", "Ǝ": "e", "ᗡ": "d", "ᴲ": "e",
    "ʁ": "r", "ɢ": "g", "ꓘ": "k", "ʞ": "k", "И": "n", "Я": "r", "ɔ": "c",
    "ƚ": "t", "ϱ": "g", "ʇ": "f", "į": "j", "⑁": "h",
}  # fmt: skip
# Letters of other scripts mirror generators use (Greek γ for y, υ for u): decoded
# in the mirrored view, never counted as evidence that a text is mirrored.
_MIRRORED_BORROWED = {"γ": "y", "υ": "u", "ι": "i"}
_MIRRORED_ASCII = {"b": "d", "d": "b", "p": "q", "q": "p"}

_TURNED_TABLE = str.maketrans(
    {**_TURNED_ASCII, **_TURNED_ONLY, **_TURNED_DIGITS, **_TURNED_MARKS}
)
_MIRRORED_TABLE = str.maketrans(
    {**_MIRRORED_ASCII, **_MIRRORED_ONLY, **_MIRRORED_BORROWED}
)
_TURNED_ONLY_TABLE = str.maketrans({**_TURNED_ONLY, **_TURNED_DIGITS})
_MIRRORED_ONLY_TABLE = str.maketrans({**_MIRRORED_ONLY, **_MIRRORED_BORROWED})
_TURNED_KEYS = frozenset(_TURNED_ONLY) | frozenset(_TURNED_DIGITS)
# Cyrillic capitals И and Я are Russian letters: they count as mirrored only in a
# text without other Cyrillic letters (see `views`).
_MIRRORED_KEYS = frozenset(_MIRRORED_ONLY) - {"И", "Я"}
_CYRILLIC_LOOKALIKE_MIRRORS = frozenset({"И", "Я"})
#: Scripts transliterated (first word of the Unicode name of the letter).
_TRANSLITERATED_SCRIPTS = frozenset(
    {"CYRILLIC", "GREEK", "ARMENIAN", "GEORGIAN", "ARABIC", "DEVANAGARI",
     "BENGALI", "THAI", "ETHIOPIC", "TAMIL", "TELUGU", "GUJARATI", "GURMUKHI"}
)  # fmt: skip


_RUN_RE = re.compile(r"\s+|\S+")
_EDGE_PUNCTUATION = ",.;:!?()[]{}\"'"


@dataclasses.dataclass(frozen=True)
class View:
    """A second reading: `text`, and `where[i]`, the original index of `text[i]`."""

    name: str
    text: str
    where: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original [start, end) of the view's [start, end)."""
        if start >= end:
            index = self.where[min(start, len(self.where) - 1)]
            return index, index
        covered = self.where[start:end]
        return min(covered), max(covered) + 1


@functools.lru_cache(maxsize=4096)
def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0]


def views(text: str, kept: t.AbstractSet[str] = frozenset()) -> list[View]:
    """The second readings worth analysing for `text` (often none). Words in
    `kept` (lower case) stay as typed in the transliterated reading: a Russian
    negation `не` read as Latin `ne` would no longer negate."""
    if text.isascii():
        return []
    turned = mirrored = cyrillic_mirrors = foreign = 0
    cyrillic = False
    for char in text:
        if char.isascii():
            continue
        if char in _TURNED_KEYS:
            turned += 1
        if char in _MIRRORED_KEYS:
            mirrored += 1
        elif char in _CYRILLIC_LOOKALIKE_MIRRORS:
            cyrillic_mirrors += 1
        if char.isalpha():
            script = _script(char)
            if script in _TRANSLITERATED_SCRIPTS:
                foreign += 1
                if script == "CYRILLIC" and char not in _CYRILLIC_LOOKALIKE_MIRRORS:
                    cyrillic = True
    out: list[View] = []
    size = range(len(text))
    if turned >= MIN_TURNED_LETTERS:
        out.extend(_both_orders("upside_down", text.translate(_TURNED_TABLE)))
        # a few turned letters among plain ones (`nuqǝ`): only those folded
        out.append(View("upside_down", text.translate(_TURNED_ONLY_TABLE), (*size,)))
    if not cyrillic:
        mirrored += cyrillic_mirrors
    if mirrored >= MIN_MIRRORED_LETTERS:
        out.extend(_both_orders("mirrored", text.translate(_MIRRORED_TABLE)))
        # `ᴎude ɔhild`: mirrored letters among plain ones, `d` left a `d`
        out.append(View("mirrored", text.translate(_MIRRORED_ONLY_TABLE), (*size,)))
    if foreign >= MIN_TRANSLITERATED_LETTERS:
        out.append(transliterated(text, kept))
    return out


def reversed_views(
    text: str, reads_reversed: t.Callable[[str], bool] | None = None
) -> list[View]:
    """`edun dlihc`: the text read last letter first, whole and word by word;
    with `reads_reversed` (is this lower-case word a signal word typed
    backwards?), also only those words turned back (`nude dlihc`) and, where
    such words follow one another, the run of them turned back whole
    (`naked lrig elttil` → `naked little girl`)."""
    out = _both_orders("reversed", text)[1:]
    if reads_reversed is not None:
        where: list[int] = []
        runs: list[int] = []
        run: list[tuple[int, int]] = []  # spans of the reversed words in a row
        for match in _RUN_RE.finditer(text):
            start, end = match.span()
            word = match.group().strip(_EDGE_PUNCTUATION).lower()
            if word and not word[0].isspace() and reads_reversed(word):
                where.extend(_backwards(text, start, end))
                run.append((start, end))
            elif not word[:1].isspace() or not run:
                where.extend(range(start, end))
                runs.extend(_run_backwards(text, run))
                runs.extend(range(start, end))
                run = []
            else:  # a space between two words that may both be reversed
                where.extend(range(start, end))
                run.append((start, end))
        runs.extend(_run_backwards(text, run))
        out.append(View("reversed", "".join(text[i] for i in where), tuple(where)))
        if runs != where:
            out.append(View("reversed", "".join(text[i] for i in runs), tuple(runs)))
    return out


#: Signs of a text typed with its words in reverse order: an age read backwards
#: (`old years 9`, `8 aged`), clothing negated backwards (`clothes no`).
_WORDS_BACKWARDS_RE = re.compile(
    r"\bold[\s,]+(?:years?|yrs?)[\s,]+(?:\d{1,2}|[a-z]+)\b|\b\d{1,2}\s+aged?\b"
    r"|\b(?:clothes|clothing)\s+(?:no|without)\b|\boff\s+(?:clothes|dress|shirt|take)\b",
    re.IGNORECASE,
)
_PIECE_RE = re.compile(r"\w+|[^\w\s]+|\s+")


def word_order_view(text: str, reversed_phrase: bool = False) -> View | None:
    """`naked, old year 10, boy`: the text with its words (and the punctuation
    between them) in reverse order, where it shows signs of being typed so
    (`_WORDS_BACKWARDS_RE`, or `reversed_phrase`: the lexicon found two words
    of a phrase in reverse order); None otherwise."""
    if not reversed_phrase and not _WORDS_BACKWARDS_RE.search(text):
        return None
    where: list[int] = []
    for match in reversed(list(_PIECE_RE.finditer(text))):
        where.extend(range(*match.span()))
    return View("word_order", "".join(text[i] for i in where), tuple(where))


def _run_backwards(text: str, run: list[tuple[int, int]]) -> list[int]:
    """The positions of the reversed words of `run` (spans, with the spaces
    between them) read last letter first as one piece, the punctuation at its
    edges kept in place; spaces after the last word stay where they are."""
    trailing: list[int] = []
    while run and text[run[-1][0]].isspace():
        trailing[:0] = range(*run.pop())
    if not run:
        return trailing
    return [*_backwards(text, run[0][0], run[-1][1]), *trailing]


def _backwards(text: str, start: int, end: int) -> list[int]:
    """The positions of the word text[start:end] last letter first, punctuation at
    its edges kept in place (`lrig,` → `girl,`: the comma still ends the tag)."""
    core_start, core_end = start, end
    while core_start < core_end and text[core_start] in _EDGE_PUNCTUATION:
        core_start += 1
    while core_end > core_start and text[core_end - 1] in _EDGE_PUNCTUATION:
        core_end -= 1
    return [
        *range(start, core_start),
        *range(core_end - 1, core_start - 1, -1),
        *range(core_end, end),
    ]


def _both_orders(name: str, flipped: str) -> list[View]:
    """The flipped text in place, read last character first, and each word read
    last letter first (generators differ): with the punctuation at its edges
    kept in place (`lrig,` → `girl,`) and, where a word has some, also turned
    with it (`on ,sehtolc` → `no clothes,`, what `word[::-1]` gives)."""
    size = len(flipped)
    words_where: list[int] = []
    whole_words_where: list[int] = []
    for match in _RUN_RE.finditer(flipped):
        start, end = match.span()
        if match.group()[0].isspace():
            words_where.extend(range(start, end))
            whole_words_where.extend(range(start, end))
        else:
            words_where.extend(_backwards(flipped, start, end))
            whole_words_where.extend(range(end - 1, start - 1, -1))
    out = [
        View(name, flipped, tuple(range(size))),
        View(name, flipped[::-1], tuple(range(size - 1, -1, -1))),
        View(name, "".join(flipped[i] for i in words_where), tuple(words_where)),
    ]
    if whole_words_where != words_where:
        text = "".join(flipped[i] for i in whole_words_where)
        out.append(View(name, text, tuple(whole_words_where)))
    return out


def transliterated(text: str, kept: t.AbstractSet[str] = frozenset()) -> View:
    """Letters of the scripts in `_TRANSLITERATED_SCRIPTS` in Latin letters
    (`голая` → `golaya`); everything else, and the words in `kept`, as typed."""
    pieces: list[str] = []
    where: list[int] = []
    as_typed: set[int] = set()
    if kept:
        for match in _WORD_RE.finditer(text):
            if plain_word(match.group()) in kept:
                as_typed.update(range(match.start(), match.end()))
    for index, char in enumerate(text):
        if (
            char.isascii()
            or index in as_typed
            or not char.isalpha()
            and not _is_mark(char)
        ):
            pieces.append(char)
            where.append(index)
            continue
        if _is_mark(char) or _script(char) in _TRANSLITERATED_SCRIPTS:
            latin = _latin(char)
        else:
            latin = char
        pieces.append(latin)
        where.extend([index] * len(latin))
    return View("transliterated", "".join(pieces), tuple(where))


_WORD_RE = re.compile(r"\w+")


def plain_word(word: str) -> str:
    """`word` in lower case without its accents (`Όχι` → `οχι`), as the words
    kept as typed in the transliterated reading are compared."""
    decomposed = unicodedata.normalize("NFD", word.lower().replace("ς", "σ"))
    return "".join(c for c in decomposed if not _is_mark(c))


def _is_mark(char: str) -> bool:
    return unicodedata.category(char) in ("Mn", "Mc")


@functools.lru_cache(maxsize=8192)
def _latin(char: str) -> str:
    return anyascii(char).lower()


def transliterate_term(term: str) -> str | None:
    """The Latin form of a lexicon term written in Cyrillic or Greek (None for
    other scripts, whose Latin forms are not how people type them)."""
    letters = [c for c in term if c.isalpha()]
    if not letters or not all(_script(c) in ("CYRILLIC", "GREEK") for c in letters):
        return None
    return "".join(_latin(c) if not c.isascii() else c for c in term)
