"""Rewrites of a prompt's signal words the way evaders type them, to measure how
well a filter holds up against obfuscation (`vigil prompt eval --mutations`).

A word list that blocks "nude child" and not "nvde chlld" is what a determined
user counts on. Each `Mutation` rewrites one word (vowels dropped, letters
doubled or swapped, leetspeak, look-alike Cyrillic letters, spaces, dots or
hyphens inside it, reversed, accents, full-width or zero-width characters);
`mutate` applies it to every word of the spans a verdict reported (the words
the filter found), leaving the rest of the prompt as typed. A `PromptMutation`
rewrites the whole prompt instead (typed last letter first, or its words in
reverse order). The rewrites are fixed, not random, so two runs measure the
same prompts.

Only words in Latin letters are rewritten (the rewrites are of Latin text); a
prompt with no such word among its triggers has nothing to rewrite and is left
out of the figures.
"""

import dataclasses
import typing as t

#: Trigger categories whose words an evader disguises: the child and the
#: sexual content. Adult, age and grammar words are left as typed.
MUTATED_CATEGORIES = frozenset(
    {"minor", "minor_slang", "minor_costume", "teen", "youthful", "sexual",
     "nudity", "clothing_removal", "sexualised_clothing", "nudify", "underwear",
     "abuse_slang", "ambiguous_person"}
)  # fmt: skip
#: Words shorter than this are left alone (`a`, `yo`): most rewrites of a
#: two-letter word are another word or noise.
MIN_MUTATED_CHARS = 3

_VOWELS = frozenset("aeiou")
_LEET = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"})
_CYRILLIC = str.maketrans(
    {"a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "i": "і"}
)
_ACCENTS = str.maketrans({"a": "á", "e": "é", "i": "ï", "o": "ö", "u": "ü", "n": "ñ"})
_ZERO_WIDTH_SPACE = "\u200b"
_FULL_WIDTH_OFFSET = 0xFEE0  # `a` (U+0061) to `ａ` (U+FF41)


def drop_vowels(word: str) -> str:
    """`child` → `chld`: every vowel but a first letter dropped."""
    kept = word[0] + "".join(c for c in word[1:] if c not in _VOWELS)
    return kept if len(kept) >= 2 else word


def double_letter(word: str) -> str:
    """`nude` → `nuude`: the middle letter doubled."""
    middle = len(word) // 2
    return word[:middle] + word[middle] + word[middle:]


def swap_letters(word: str) -> str:
    """`child` → `chlid`: two middle letters swapped (the first stays)."""
    if len(word) < 4:
        return word
    at = max(1, len(word) // 2 - 1)
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


def leetspeak(word: str) -> str:
    """`naked` → `n4k3d`."""
    return word.translate(_LEET)


def lookalike_letters(word: str) -> str:
    """`nude` → `nudе` with Cyrillic е (and а, о, с, р, х, у, і)."""
    return word.translate(_CYRILLIC)


def accents(word: str) -> str:
    """`nude child` → `nüdé chïld`."""
    return word.translate(_ACCENTS)


def full_width(word: str) -> str:
    """`nude` → `ｎｕｄｅ`."""
    return "".join(
        chr(ord(c) + _FULL_WIDTH_OFFSET) if "!" <= c <= "~" else c for c in word
    )


def zero_width(word: str) -> str:
    """Zero-width spaces between the letters: invisible, but no longer the word."""
    return _ZERO_WIDTH_SPACE.join(word)


def split_in_two(word: str) -> str:
    """`nude` → `nu de`: a space in the middle."""
    middle = len(word) // 2
    return word[:middle] + " " + word[middle:]


def hyphenated(word: str) -> str:
    """`child` → `ch-ild`."""
    middle = len(word) // 2
    return word[:middle] + "-" + word[middle:]


def dotted(word: str) -> str:
    """`nude` → `n.u.d.e`."""
    return ".".join(word)


def spelt_out(word: str) -> str:
    """`nude` → `n u d e`."""
    return " ".join(word)


def starred(word: str) -> str:
    """`sexy` → `s*xy`: the first vowel after the first letter censored."""
    for index, letter in enumerate(word[1:], start=1):
        if letter in _VOWELS:
            return word[:index] + "*" + word[index + 1 :]
    return word


def reversed_word(word: str) -> str:
    """`nude` → `edun`."""
    return word[::-1]


def upper_case(word: str) -> str:
    """`nude` → `NUDE`."""
    return word.upper()


Mutation = t.Callable[[str], str]
#: Every rewrite `vigil prompt eval --mutations` measures, by name.
MUTATIONS: dict[str, Mutation] = {
    "vowels_dropped": drop_vowels,
    "letter_doubled": double_letter,
    "letters_swapped": swap_letters,
    "leetspeak": leetspeak,
    "lookalike_letters": lookalike_letters,
    "accents": accents,
    "full_width": full_width,
    "zero_width": zero_width,
    "split_in_two": split_in_two,
    "hyphenated": hyphenated,
    "dotted": dotted,
    "spelt_out": spelt_out,
    "starred": starred,
    "reversed": reversed_word,
    "upper_case": upper_case,
}


PromptMutation = t.Callable[[str], str]


def text_reversed(prompt: str) -> str:
    """`nude child, 8k` → `k8 ,dlihc edun`: the whole prompt last letter first."""
    return prompt[::-1]


def word_order_reversed(prompt: str) -> str:
    """`naked little girl, 9 years old` → `old years 9 girl, little naked`: the
    words in reverse order, each as typed (the punctuation stays with its word)."""
    return " ".join(reversed(prompt.split()))


#: Rewrites of the whole prompt, measured once per prompt whatever the scope.
PROMPT_MUTATIONS: dict[str, PromptMutation] = {
    "text_reversed": text_reversed,
    "word_order_reversed": word_order_reversed,
}


@dataclasses.dataclass(frozen=True)
class Span:
    """[start, end) of text a verdict reported, and its category."""

    start: int
    end: int
    category: str


def mutable_spans(prompt: str, spans: t.Iterable[Span]) -> list[tuple[int, int]]:
    """The [start, end) of each word worth rewriting inside the reported spans:
    Latin letters only, at least `MIN_MUTATED_CHARS` long, no overlaps."""
    words: set[tuple[int, int]] = set()
    for span in spans:
        if span.category not in MUTATED_CATEGORIES:
            continue
        index, stop = max(span.start, 0), min(span.end, len(prompt))
        while index < stop:
            if not _is_latin_letter(prompt[index]):
                index += 1
                continue
            end = index
            while end < stop and _is_latin_letter(prompt[end]):
                end += 1
            if end - index >= MIN_MUTATED_CHARS:
                words.add((index, end))
            index = end
    ordered: list[tuple[int, int]] = []
    for start, end in sorted(words):
        if not ordered or start >= ordered[-1][1]:
            ordered.append((start, end))
    return ordered


def mutate(prompt: str, words: t.Sequence[tuple[int, int]], mutation: Mutation) -> str:
    """`prompt` with each word at `words` (from `mutable_spans`) rewritten."""
    out: list[str] = []
    position = 0
    for start, end in words:
        out.append(prompt[position:start])
        out.append(mutation(prompt[start:end].lower()))
        position = end
    out.append(prompt[position:])
    return "".join(out)


def _is_latin_letter(char: str) -> bool:
    return "a" <= char.lower() <= "z"
