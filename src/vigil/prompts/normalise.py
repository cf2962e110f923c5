"""Text normalisation that keeps every token's span in the original text.

`fold_text` maps each character to its folded form (lower case, compatibility forms
such as fullwidth and mathematical letters expanded, accents and other combining
marks, zero-width and format characters removed, small capitals and letters "with
stroke" reduced to their base letter) and remembers, for every folded character, the
index of the original character it came from. `tokenise` cuts the folded text into
tokens whose `start`/`end` are offsets in the *original* text, so the console can
highlight exactly what was typed.

Look-alike letters from other scripts (Cyrillic `е`, Greek `ο`) are *not* folded here:
Russian is one of the lexicon's languages, and folding would destroy it. Instead
`latin_lookalike` gives the Latin reading of a token as a second form to look up
(`nudе` with a Cyrillic е → `nude`). Leetspeak likewise yields extra forms
(`leet_forms`), never a replacement: `9yo` must stay `9yo`.

Word-internal separators (`n.u.d.e`, `n-u-d-e`, `y/o`) and letters spaced apart
(`n u d e`) are joined when the joined word is in the lexicon; otherwise the parts
stay separate words (`nine-year-old` → `nine year old`).
"""

import dataclasses
import functools
import re
import typing as t
import unicodedata

#: A word: letters and digits, plus the leetspeak symbols that stand for letters.
#: Word-internal separators (. - _ ' * ~ · /) may join parts: `n.u.d.e`, `y/o`.
#: Vowel signs and other marks of the Brahmic scripts (Devanagari to Sinhala, and
#: Thai) are part of their words: `लड़की` is one word, not `लड` + `क`.
_INDIC_MARKS = (
    "\u0900-\u0903\u093a-\u094f\u0951-\u0957\u0962\u0963\u0981-\u0df3\u0e31-\u0e4e"
)
_INDIC_MARK_RE = re.compile(f"[{_INDIC_MARKS}]")
TOKEN_RE = re.compile(
    rf"(?:[^\W_]|[@$!|€{_INDIC_MARKS}])+"
    rf"(?:[.\-_'’*~·/]+(?:[^\W_]|[@$!|€{_INDIC_MARKS}])+)*"
)
#: `TOKEN_RE` on ASCII text, where it is the same and twice as fast (a test
#: checks both find the same words).
ASCII_TOKEN_RE = re.compile(r"[A-Za-z0-9@$!|]+(?:[.\-_'*~/]+[A-Za-z0-9@$!|]+)*")
_INNER_SEPARATORS_RE = re.compile(r"[.\-_'’~·/]+")
_PARTS_RE = re.compile(rf"(?:[^\W_]|[@$!|€*{_INDIC_MARKS}])+")
#: The humps of a camel-case word (`nakedLittleGirl`, `NudeChild`): each a word.
_CAMEL_HUMP_RE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
#: Camel-case words are split from this many letters (`iPad` stays whole).
MIN_CAMEL_CASE_CHARS = 6
#: Characters that end a phrase (A1111 tag lists, sentences, markup alternatives,
#: the ideographic comma and full stop).
_BOUNDARY_RE = re.compile(r"[,;\n\r\t.!?|、。]")
_EDGE_SYMBOLS = "!|"
#: Spaced letters `n u d e`: at most this many separator characters between them.
MAX_SPACED_GAP_CHARS = 3
#: Spaced letters only count from this many in a row (`a b` is ordinary text).
MIN_SPACED_RUN = 3

_LATIN_NAME_RE = re.compile(
    r"^(?:LATIN|NEGATIVE SQUARED LATIN|SQUARED LATIN|NEGATIVE CIRCLED LATIN|"
    r"REGIONAL INDICATOR SYMBOL)\b.*\bLETTER (?:SMALL CAPITAL |DOTLESS |SCRIPT |"
    r"CLOSED |OPEN |LONG |REVERSED |TURNED |INVERTED |SMALL )?([A-Z])\b"
)

# Cyrillic and Greek letters that look like Latin ones (lower case; text is folded
# to lower case first). Used only to build a second reading of a token.
_LOOKALIKES = dict(
    zip(
        "авгдеёзкмнопрстухіїјѕԁԛԝһӏɡαβγδεηικμνορσςτυχωϲϳɑɩ",
        "abrdee3kmhonpctyxiijsdqwhlgabydenikuvopostuxwcjai",
        strict=True,
    )
)
LOOKALIKE_TABLE = str.maketrans(_LOOKALIKES)

# Leetspeak: digits and symbols standing for letters. 1 and | read as i or l.
_LEET_COMMON = {
    "0": "o",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "9": "g",
    "@": "a",
    "$": "s",
    "€": "e",
    "6": "g",
    "2": "z",
}
LEET_AS_I = str.maketrans({**_LEET_COMMON, "1": "i", "!": "i", "|": "i"})
LEET_AS_L = str.maketrans({**_LEET_COMMON, "1": "l", "!": "i", "|": "l"})
LEET_CHARS = frozenset("0123456789@$€!|")
_VOWELS = "aeiou"
#: Capital I standing for l (`chiId`, `Iittle`) is tried from this word length.
MIN_CAPITAL_I_CHARS = 4
#: At most this many `*` wildcards are expanded (5 vowels each).
MAX_WILDCARDS = 2
#: Emoji that name a person by age or sex read as the word (`nude 👧`); their skin
#: tone modifiers (U+1F3FB-1F3FF) fold away as marks do. 👧 and 👦 are children
#: (Unicode: GIRL, BOY; 👩 is WOMAN); 🔞 (NO ONE UNDER EIGHTEEN SYMBOL) marks adult
#: content. Not the children-crossing sign, a road sign.
_EMOJI_WORDS = {
    "\U0001f9d2": " child ", "\U0001f476": " baby ", "\U0001f467": " little girl ",
    "\U0001f466": " little boy ", "\U0001f469": " woman ", "\U0001f468": " man ",
    "\U0001f51e": " nsfw ",
}  # fmt: skip
_SKIN_TONES = frozenset(chr(c) for c in range(0x1F3FB, 0x1F400))
#: Latin letters whose Unicode names give no base letter to read (`ŋ` is LATIN
#: SMALL LETTER ENG, drawn as an n with a tail; `ĸ` KRA, a small capital k).
_LETTER_FOLDS = {"ŋ": "n", "Ŋ": "n", "ĸ": "k"}
#: Vulgar fractions (`9½`) fold to a space: NFKD would glue `9½` into `912`.
#: An age with a fraction reads as its whole years.
_FRACTIONS = frozenset("¼½¾↉" + "".join(chr(c) for c in range(0x2150, 0x215F)))


@functools.lru_cache(maxsize=8192)
def fold_char(char: str) -> str:
    """The folded form of one character: "" (dropped), one or more characters.

    `Ｎ` → `n`, `𝐧` → `n`, `ᴎ`/`ɴ` (small capital) → `n`, `ñ` → `n`, `ł` → `l`,
    zero-width space → "", `ß` → `ss`, `👧` → ` girl `.
    """
    if char.isascii():
        return char.lower()
    if char in _EMOJI_WORDS:
        return _EMOJI_WORDS[char]
    if char in _LETTER_FOLDS:
        return _LETTER_FOLDS[char]
    if char in _FRACTIONS:
        return " "
    if char in _SKIN_TONES:
        return ""
    category = unicodedata.category(char)
    if _INDIC_MARK_RE.match(char):
        return char  # a vowel sign is a letter of its word (`नंगी` is not `नग`)
    if category in ("Mn", "Me", "Cf"):  # combining marks, zero-width, soft hyphen
        return ""
    if category == "Zs":
        return " "
    decomposed = unicodedata.normalize("NFKD", char)
    folded = "".join(
        c for c in decomposed if unicodedata.category(c) not in ("Mn", "Me")
    ).casefold()
    if len(folded) > 1 and any(c.isalnum() for c in folded):
        folded = "".join(c for c in folded if c.isalnum())  # ⒩ → "(n)" → "n"
    if folded and folded.isascii():
        return folded
    match = _LATIN_NAME_RE.match(unicodedata.name(char, ""))
    if match:
        return match.group(1).lower()
    if folded != char and folded:
        # `ℏ` decomposes to `ħ`, which folds again to `h`: fold the result too
        # (NFKD is idempotent, so this recurses once)
        return "".join(fold_char(c) for c in folded)
    return folded


def fold_text(text: str) -> tuple[str, list[int] | None]:
    """Fold `text`; return the folded text and, for each folded character, the
    index of the original character (None when the two are the same: ASCII)."""
    if text.isascii():
        return text.lower(), None
    pieces: list[str] = []
    where: list[int] = []
    for index, char in enumerate(text):
        folded = fold_char(char)
        if folded:
            pieces.append(folded)
            where.extend([index] * len(folded))
    return "".join(pieces), where


def latin_lookalike(form: str) -> str:
    """The Latin reading of a token mixing scripts: `nudе` (Cyrillic е) → `nude`."""
    return form.translate(LOOKALIKE_TABLE)


def leet_forms(form: str) -> tuple[str, ...]:
    """Readings of a token with leetspeak decoded: `n4k3d` → (`naked`,)."""
    if not any(c in LEET_CHARS for c in form):
        return ()
    forms = dict.fromkeys((form.translate(LEET_AS_I), form.translate(LEET_AS_L)))
    return tuple(f for f in forms if f != form and f.isalpha())


def capital_i_forms(form: str) -> tuple[str, ...]:
    """`chiId` (capital I for l) folds to `chiid`: each single i read as l."""
    if "i" not in form or len(form) < MIN_CAPITAL_I_CHARS:
        return ()
    return tuple(form[:i] + "l" + form[i + 1 :] for i, c in enumerate(form) if c == "i")


def wildcard_forms(form: str) -> tuple[str, ...]:
    """`s*x` → `sax`, `sex`, `six`... (a censoring star stands for a vowel)."""
    stars = form.count("*")
    if not stars or stars > MAX_WILDCARDS:
        return ()
    results = [""]
    for char in form:
        if char == "*":
            results = [r + v for r in results for v in _VOWELS]
        else:
            results = [r + char for r in results]
    return tuple(results)


#: Han, kana and their extensions: scripts written without spaces between words.
_CJK_RE = re.compile(
    "[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\U00020000-\U0003134f]+"
)
#: CJK numerals (一 to 九十九) read as numbers: `十二歳` is 12 years.
_CJK_DIGITS = {
    "〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_CJK_TEN = "十"
NUMBER_KEY = "#num="


def has_cjk(form: str) -> bool:
    return not form.isascii() and _CJK_RE.search(form) is not None


@dataclasses.dataclass(frozen=True)
class CjkTerms:
    """The lexicon's terms written in Han or kana, for segmenting text that has no
    spaces: longest match first at every position."""

    terms: frozenset[str]
    longest: int

    def segment(self, run: str) -> list[tuple[int, int, str | None]]:
        """(start, end, key) pieces covering `run`: a lexicon term (key = term), a
        numeral (key = number key), or unknown characters grouped (key None)."""
        out: list[tuple[int, int, str | None]] = []
        size = len(run)
        index = unknown = 0
        terms, longest = self.terms, self.longest
        while index < size:
            found = 0
            for length in range(min(longest, size - index), 0, -1):
                if run[index : index + length] in terms:
                    found = length
                    break
            key: str | None = None
            if found:
                key = run[index : index + found]
            else:
                found, value = _cjk_number(run, index)
                if found:
                    key = NUMBER_KEY + str(value)
            if not found:
                index += 1
                continue
            if unknown < index:
                out.append((unknown, index, None))
            out.append((index, index + found, key))
            index += found
            unknown = index
        if unknown < size:
            out.append((unknown, size, None))
        return out


def _cjk_number(run: str, index: int) -> tuple[int, int]:
    """The length and value of a CJK numeral at `index` (0, 0 when there is none):
    一 .. 九, 十, 十二, 二十, 二十三."""
    digits = _CJK_DIGITS
    size = len(run)
    end = index
    tens = ones = 0
    if end < size and run[end] in digits:
        ones = digits[run[end]]
        end += 1
    if end < size and run[end] == _CJK_TEN:
        tens = ones if end > index else 1
        ones = 0
        end += 1
        if end < size and run[end] in digits and digits[run[end]]:
            ones = digits[run[end]]
            end += 1
    if end == index:
        return 0, 0
    return end - index, tens * 10 + ones


@dataclasses.dataclass(slots=True)
class Token:
    """One word. `form` is the folded text used for look-up (separators removed when
    joined); `key` the lexicon word it resolved to, if any; [start, end) the span in
    the original text; `segment` counts phrase boundaries before it."""

    form: str
    key: str | None
    start: int
    end: int
    segment: int


Resolver = t.Callable[[str], tuple[str, ...] | None]


def tokenise(text: str, resolve: Resolver, cjk: CjkTerms | None = None) -> list[Token]:
    """Tokens of `text` (already masked by `syntax.mask`), resolved with `resolve`.

    `resolve(form)` returns the lexicon words a folded form stands for (usually one;
    several for glued words such as `nakedchild`) or None. A word containing Han or
    kana is cut by `cjk` (longest lexicon term first; digits and Latin letters in
    it are words of their own). This loop runs once per word of every prompt, so it
    avoids regular expressions on the common path.
    """
    shadow, where = fold_text(text)
    tokens: list[Token] = []
    append = tokens.append
    boundary = _BOUNDARY_RE.search
    segment = 0
    previous_end = 0
    run = longest_run = 0  # single characters in a row: `n u d e`
    words = ASCII_TOKEN_RE if shadow.isascii() else TOKEN_RE
    for match in words.finditer(shadow):
        start, end = match.span()
        if start > previous_end and (
            start - previous_end > 1 or shadow[previous_end] != " "
        ):
            if boundary(shadow, previous_end, start) and not _ordinal_dot(
                shadow, previous_end, start, tokens
            ):
                segment += 1
        previous_end = end
        form = match.group()
        if form[-1] in _EDGE_SYMBOLS or form[0] in _EDGE_SYMBOLS:
            stripped = form.rstrip(_EDGE_SYMBOLS)  # "sexy!" → "sexy"
            end -= len(form) - len(stripped)
            form = stripped.lstrip(_EDGE_SYMBOLS)
            start = end - len(form)
            if not form:
                continue
        if cjk is not None and not form.isascii() and has_cjk(form):
            _emit_cjk(tokens, form, start, segment, where, resolve, cjk)
            run = 0
            continue
        keys = resolve(form)
        if (
            keys is None
            and where is None
            and len(form) >= MIN_CAMEL_CASE_CHARS
            and form.isalpha()
            and _split_camel_case(tokens, text[start:end], start, segment, resolve)
        ):
            run = 0
            continue
        if keys is None and not form.isalnum():
            joined = _INNER_SEPARATORS_RE.sub("", form)
            # digits joined by a hyphen stay apart: "ages 8-12" is not 812, and
            # "under-10s" is no leetspeak of "undress"
            keys = (
                resolve(joined)
                if joined != form
                and not joined.isdecimal()
                and not _WORD_THEN_NUMBER_RE.search(form)
                else None
            )
            if (
                keys is not None
                and "-" in form
                and all(key.endswith("*") for key in keys)
                and _stem_of_first_part(form, keys, resolve)
            ):
                keys = None  # `devushka-podrostok`: two words, not one `devushk*`
            if keys is None and joined != form:
                for part in _PARTS_RE.finditer(form):
                    _emit(
                        tokens,
                        part.group(),
                        resolve(part.group()),
                        start + part.start(),
                        start + part.end(),
                        segment,
                        where,
                    )
                run = 0
                continue
            form = joined if keys is not None else form
        run = run + 1 if len(form) == 1 else 0
        if run > longest_run:
            longest_run = run
        if where is not None:
            start, end = where[start], where[end - 1] + 1
        if keys is None:
            append(Token(form, None, start, end, segment))
        else:
            for key in keys:
                append(Token(form, key, start, end, segment))
    if longest_run >= MIN_SPACED_RUN:
        tokens = _join_spaced_letters(tokens, resolve)
    return tokens


#: A word of three letters or more, a hyphen and a number of two digits or
#: more: `under-10s`, `covid-19`, `top-20` (not `n-0-0-d`, `9-yo`).
_WORD_THEN_NUMBER_RE = re.compile(r"[^\W\d_]{3,}-\d{2,}")


def _stem_of_first_part(form: str, keys: tuple[str, ...], resolve: Resolver) -> bool:
    """Whether the stem `keys` a hyphenated `form` resolved to is only its first
    part's, and every other part is a lexicon word of its own (`devushka-
    podrostok`, girl-teenager; not `pre-adolescent`, one word)."""
    parts = [part.group() for part in _PARTS_RE.finditer(form)]
    return (
        len(parts) > 1
        and resolve(parts[0]) == keys
        and all(resolve(part) is not None for part in parts[1:])
    )


def _split_camel_case(
    tokens: list[Token], typed: str, start: int, segment: int, resolve: Resolver
) -> bool:
    """Emit the humps of a camel-case word as words; False when it has none."""
    if typed.islower() or typed.isupper():
        return False
    humps = list(_CAMEL_HUMP_RE.finditer(typed))
    if len(humps) < 2:
        return False
    for hump in humps:
        form = hump.group().lower()
        _emit(tokens, form, resolve(form), start + hump.start(), start + hump.end(),
              segment)  # fmt: skip
    return True


def _emit(
    tokens: list[Token],
    form: str,
    keys: tuple[str, ...] | None,
    start: int,
    end: int,
    segment: int,
    where: list[int] | None = None,
) -> None:
    if where is not None:
        start, end = where[start], where[end - 1] + 1
    if not keys:
        tokens.append(Token(form, None, start, end, segment))
        return
    for key in keys:
        tokens.append(Token(form, key, start, end, segment))


def _ordinal_dot(
    shadow: str, gap_start: int, gap_end: int, tokens: list[Token]
) -> bool:
    """`4. Klasse`, `3. sınıf`: a dot after a one- or two-digit number is an
    ordinal (German, Turkish, Polish, Scandinavian), not the end of a phrase."""
    return (
        shadow[gap_start:gap_end] == ". "
        and bool(tokens)
        and tokens[-1].form.isdecimal()
        and len(tokens[-1].form) <= 2
    )


def _emit_cjk(
    tokens: list[Token],
    form: str,
    start: int,
    segment: int,
    where: list[int] | None,
    resolve: Resolver,
    cjk: CjkTerms,
) -> None:
    """A word mixing CJK runs with digits or Latin letters (`10歳の女の子`)."""
    position = 0
    for match in _CJK_RE.finditer(form):
        if match.start() > position:
            piece = form[position : match.start()]
            _emit(tokens, piece, resolve(piece), start + position,
                  start + match.start(), segment, where)  # fmt: skip
        offset = match.start()
        for piece_start, piece_end, key in cjk.segment(match.group()):
            piece = form[offset + piece_start : offset + piece_end]
            keys = (key,) if key is not None else None
            _emit(tokens, piece, keys, start + offset + piece_start,
                  start + offset + piece_end, segment, where)  # fmt: skip
        position = match.end()
    if position < len(form):
        piece = form[position:]
        _emit(tokens, piece, resolve(piece), start + position, start + len(form),
              segment, where)  # fmt: skip


def _join_spaced_letters(tokens: list[Token], resolve: Resolver) -> list[Token]:
    """`n u d e   c h i l d` → `nude`, `child`: runs of single characters joined,
    split where the gap is wider than the narrowest gap in the run."""
    out: list[Token] = []
    index = 0
    count = len(tokens)
    while index < count:
        run_end = index
        while (
            run_end < count
            and len(tokens[run_end].form) == 1
            and tokens[run_end].segment == tokens[index].segment
            and (
                run_end == index
                or 0
                < tokens[run_end].start - tokens[run_end - 1].end
                <= MAX_SPACED_GAP_CHARS
            )
        ):
            run_end += 1
        if run_end - index < MIN_SPACED_RUN:
            out.append(tokens[index])
            index += 1
            continue
        run = tokens[index:run_end]
        out.extend(_resolve_run(run, resolve))
        index = run_end
    return out


def _resolve_run(run: list[Token], resolve: Resolver) -> list[Token]:
    gaps = [b.start - a.end for a, b in zip(run, run[1:], strict=False)]
    narrowest = min(gaps)
    pieces: list[list[Token]] = [[run[0]]]
    for gap, token in zip(gaps, run[1:], strict=True):
        if gap > narrowest:
            pieces.append([])
        pieces[-1].append(token)
    out: list[Token] = []
    for piece in pieces:
        form = "".join(tok.form for tok in piece)
        keys = resolve(form) if len(piece) > 1 else None
        if keys is None:
            out.extend(piece)
            continue
        _emit(out, form, keys, piece[0].start, piece[-1].end, piece[0].segment)
    return out


#: Fragments (`nu de`, `tod dler`, `pre pub escent`): pieces of at most this many
#: letters, one of them at most `MAX_SHORT_FRAGMENT_CHARS`, separated by at most
#: `MAX_FRAGMENT_GAP_CHARS` characters, joined when the whole is a signal word and
#: no piece is one on its own (`nude child` stays two words).
MAX_FRAGMENT_CHARS = 7
MAX_SHORT_FRAGMENT_CHARS = 4
#: ... unless the word they make is this long and no piece is a word the lexicon
#: knows: `ortao kullu` (two ordinary words seldom make one long signal word).
MIN_LONG_FRAGMENT_WORD_CHARS = 9
MAX_FRAGMENT_GAP_CHARS = 2
MAX_FRAGMENT_PIECES = 3
#: A piece that is a signal word on its own joins only when this short (`ero tic`,
#: `sex y`): longer signal words are words (`nude child`).
MAX_SIGNAL_FRAGMENT_CHARS = 3


def join_fragments(
    tokens: list[Token],
    word: t.Callable[[str], str | None],
    is_signal: t.Callable[[str | None], bool],
    starts: t.Container[str],
) -> list[Token]:
    """Tokens with words split by spaces into fragments joined again. `word(form)`
    is the lexicon word `form` is exactly (or as a plural), `is_signal(key)` says
    whether a key is a signal word, and `starts` holds the beginnings (two letters
    or more) of the words fragments may join into: a token that begins none is
    passed over at the cost of one set probe."""
    count = len(tokens)
    if count < 2:
        return tokens
    out: list[Token] | None = None
    index = 0
    last = count - 1
    while index < count:
        joined = None
        form = piece_form(tokens[index].form)
        if index < last and form in starts:
            following = piece_form(tokens[index + 1].form)
            pair = form + following
            if (
                len(form) > MAX_SHORT_FRAGMENT_CHARS < len(following)
                and len(pair) < MIN_LONG_FRAGMENT_WORD_CHARS
                and (
                    index + 2 > last
                    or len(tokens[index + 2].form) > MAX_SHORT_FRAGMENT_CHARS
                )
            ):
                pair = ""  # no piece short enough: not fragments
            # a pair that begins no word cannot be the start of a triple either
            if pair in starts:
                for size in range(min(MAX_FRAGMENT_PIECES, count - index), 1, -1):
                    pieces = tokens[index : index + size]
                    joined = _fragment(pieces, word, is_signal)
                    if joined is not None:
                        break
        if joined is not None:
            if out is None:
                out = tokens[:index]
            out.append(joined)
            index += len(pieces)
            continue
        if out is not None:
            out.append(tokens[index])
        index += 1
    return tokens if out is None else out


def piece_form(form: str) -> str:
    """A fragment as a reader sees it: `r3ss3d` (letters and leetspeak digits)
    reads `ressed`; plain numbers stay numbers."""
    if form.isalpha() or form.isdecimal():
        return form
    decoded = form.translate(LEET_AS_I)
    return decoded if decoded.isalpha() else form


def _fragment(
    pieces: list[Token],
    word: t.Callable[[str], str | None],
    is_signal: t.Callable[[str | None], bool],
) -> Token | None:
    first = pieces[0]
    shortest = MAX_FRAGMENT_CHARS
    for previous, piece in zip(pieces, pieces[1:], strict=False):
        gap = piece.start - previous.end
        if piece.segment != first.segment or not 0 < gap <= MAX_FRAGMENT_GAP_CHARS:
            return None
    forms = [piece_form(piece.form) for piece in pieces]
    for piece, form in zip(pieces, forms, strict=True):
        if len(form) > MAX_FRAGMENT_CHARS or not form.isalpha():
            return None
        if is_signal(piece.key) and len(form) > MAX_SIGNAL_FRAGMENT_CHARS:
            return None  # `nude child` stays two words; `ero tic` is one
        shortest = min(shortest, len(form))
    form = "".join(forms)
    if shortest > MAX_SHORT_FRAGMENT_CHARS and (
        len(form) < MIN_LONG_FRAGMENT_WORD_CHARS
        or any(piece.key is not None for piece in pieces)
    ):
        return None  # long pieces join only when none is a word (`single digit`)
    key = word(form)  # a word fragments may join into, or None
    if key is None:
        return None
    return Token(form, key, first.start, pieces[-1].end, first.segment)
