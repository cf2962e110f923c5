"""Ages written as arithmetic: `age 2x5`, `aged 20 minus 9`, `age sqrt(81)`,
`age 0x0C`, `one decade old`, `twice five years old`, `half of 20 years old`.

A filter that reads "aged 20" in "aged 20 minus 9" sees an adult; the writer means
11. `view(text)` is a second reading of the prompt (a `views.View`) in which every
expression bound to an age word is replaced by its value, so the usual age rules
read it; the filter keeps the more severe of the text as typed and this view.

An expression counts only next to an age word: after `age`/`aged`/`age:` or before
`years`/`yrs`/`yo`/`old`/`months`, and only when it is written as arithmetic (an
operator, a function, a hexadecimal or binary literal, `decade`, `dozen`): a plain
`12 years old` is the lexicon's. English operator words only. The parser is a small
recursive-descent one over a bounded expression (`MAX_EXPRESSION_CHARS`, nesting at
most `MAX_NESTING`, powers of small numbers only): never `eval`.
"""

import math
import re
import typing as t

from vigil.prompts.views import View

#: An expression longer than this is not an age.
MAX_EXPRESSION_CHARS = 48
#: Brackets and functions nested deeper than this are not read.
MAX_NESTING = 6
#: `a^b` is read for exponents up to this and bases up to `MAX_POWER_BASE`.
MAX_EXPONENT = 4
MAX_POWER_BASE = 1000
#: Values are only replaced when they are whole numbers in this range (ages).
MAX_AGE_VALUE = 120
#: Characters before a unit word searched for the start of an expression.
LOOK_BACK_CHARS = MAX_EXPRESSION_CHARS

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100, "a": 1, "an": 1,
}  # fmt: skip

# One lexical token of an expression. Longer operator words come first.
_TOKEN_RE = re.compile(
    r"\s*(?:"
    r"(?P<hex>0x[0-9a-f]+)|(?P<bin>0b[01]+)|(?P<oct>0o[0-7]+)"
    r"|(?P<base>in (?:binary|base ?2|hex(?:adecimal)?|base ?16|octal|base ?8))"
    r"|(?P<num>\d{1,4}(?:\.\d{1,3})?)"
    r"|(?P<op>\*\*|[-+*/×÷^()x−–·]"
    r"|square root of|cube root of|multiplied by|divided by|to the power of"
    r"|plus|minus|times|over|half of|half|twice|double|triple|thrice|squared|cubed"
    r"|sqrt|cbrt|root of|decades?|dozens?|score)(?![a-z])"
    r"|(?P<word>[a-z]+)(?:-(?P<word2>[a-z]+))?"
    r")"
)
_ADDITIVE = {"+": 1, "plus": 1, "-": -1, "−": -1, "–": -1, "minus": -1}
_MULTIPLY = {"*", "x", "×", "·", "times", "multiplied by"}
_DIVIDE = {"/", "÷", "divided by", "over"}
_POWER = {"^", "**", "to the power of"}
_PREFIX_FACTOR = {"twice": 2, "double": 2, "triple": 3, "thrice": 3}
_POSTFIX_UNIT = {"decade": 10, "decades": 10, "dozen": 12, "dozens": 12, "score": 20}
# Token kinds an expression may start with (a word is read as a number first).
_FIRST_KINDS = frozenset({"num", "hex", "bin", "oct", "op"})

# Age words on either side. After the prefix an optional `:`, `=`, `is`, `of`.
_PREFIX_RE = re.compile(r"\b(?:aged?|ages)\b\s*(?:[:=]|\bis\b|\bof\b)?\s*")
_UNIT_RE = re.compile(
    r"\s*(?:-\s*)?\b(?:years?|yrs?|y/o|y\.o\.|yo|old|months?)(?![a-z])"
)
# Cheap test before any parsing: a digit or number word and an operator.
_ANY_OPERATOR_RE = re.compile(
    r"\d\s*(?:[-+*/×÷^x−–·]|\*\*)|0x|0b|sqrt|root|plus|minus|times|divided|over"
    r"|half|twice|double|triple|thrice|squared|cubed|decade|dozen|score"
    r"|in (?:binary|base|hex|octal)"
)
#: `1010 in binary`, `c in hex`: the base a number is written in.
_BASES = {"binary": 2, "2": 2, "hex": 16, "hexadecimal": 16, "16": 16, "octal": 8,
          "8": 8}  # fmt: skip
# Where an expression before a unit word may start: a digit, a bracket, a number
# word or a prefix function (`twice five years old`).
_START_RE = re.compile(
    r"(?<![a-z0-9])(?:[0-9(]|(?:sqrt|cbrt|square|cube|root|half|twice|double|triple"
    r"|thrice|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty"
    r"|forty|fifty|sixty|seventy|eighty|ninety|hundred|an?)(?![a-z]))"
)


class _Stop(Exception):
    """The text is not an expression from here."""


class _Parser:
    def __init__(self, text: str, start: int) -> None:
        self.tokens: list[tuple[str, str, int, int]] = []
        self.arithmetic = False
        position = start
        limit = min(len(text), start + MAX_EXPRESSION_CHARS)
        while position < limit:
            match = _TOKEN_RE.match(text, position, limit)
            if match is None or match.end() == position:
                break
            kind = match.lastgroup or ""
            if kind in ("word", "word2"):
                value = _word_number(match.group("word"), match.group("word2"))
                if value is None:
                    break
                self.tokens.append(("num", str(value), match.start(kind), match.end()))
            else:
                self.tokens.append(
                    (kind, match.group(kind), match.start(kind), match.end())
                )
            position = match.end()
        self.index = 0
        self.depth = 0

    def peek(self) -> tuple[str, str] | None:
        if self.index < len(self.tokens):
            kind, value, _, _ = self.tokens[self.index]
            return kind, value
        return None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _Stop
        self.index += 1
        return token

    def end(self) -> int:
        """The text index after the last token taken."""
        return self.tokens[self.index - 1][3] if self.index else 0

    def expression(self) -> float:
        value = self.term()
        while (token := self.peek()) is not None and token[1] in _ADDITIVE:
            saved = self.index
            self.take()
            try:
                right = self.term()
            except _Stop:
                self.index = saved  # `aged 9 -` stays `aged 9`
                break
            value += _ADDITIVE[token[1]] * right
            self.arithmetic = True
        return value

    def term(self) -> float:
        value = self.factor()
        while (token := self.peek()) is not None and (
            token[1] in _MULTIPLY or token[1] in _DIVIDE
        ):
            saved = self.index
            self.take()
            try:
                right = self.factor()
            except _Stop:
                self.index = saved
                break
            if token[1] in _DIVIDE:
                if right == 0:
                    raise _Stop
                value /= right
            else:
                value *= right
            self.arithmetic = True
        return value

    def factor(self) -> float:
        value = self.unary()
        token = self.peek()
        if token is not None and token[1] in _POWER:
            self.take()
            exponent = self.unary()
            if not (0 <= exponent <= MAX_EXPONENT and abs(value) <= MAX_POWER_BASE):
                raise _Stop
            value = value**exponent
            self.arithmetic = True
        elif token is not None and token[1] in ("squared", "cubed"):
            self.take()
            value = value ** (2 if token[1] == "squared" else 3)
            self.arithmetic = True
        while (token := self.peek()) is not None and token[1] in _POSTFIX_UNIT:
            self.take()
            value *= _POSTFIX_UNIT[token[1]]
            self.arithmetic = True
        return value

    def unary(self) -> float:
        kind, text = self.take()
        if kind == "num":
            following = self.peek()
            if following is not None and following[0] == "base":
                self.take()  # `1010 in binary`
                base = _BASES[following[1].rsplit(" ", 1)[-1].removeprefix("base")]
                try:
                    in_base = int(text, base)
                except ValueError:
                    raise _Stop from None
                self.arithmetic = True
                return float(in_base)
            return float(text)
        if kind in ("hex", "bin", "oct"):
            self.arithmetic = True
            return float(int(text, 0))
        if text in ("-", "−", "–"):
            raise _Stop  # a negative age is not an age
        if text in _PREFIX_FACTOR:
            self.arithmetic = True
            return _PREFIX_FACTOR[text] * self._nested(self.unary)
        if text in ("half", "half of"):
            self.arithmetic = True
            return self._nested(self.unary) / 2
        if text in ("sqrt", "square root of", "root of", "cbrt", "cube root of"):
            self.arithmetic = True
            argument = self._nested(self.unary)
            if argument < 0:
                raise _Stop
            if text in ("cbrt", "cube root of"):
                return round(math.pow(argument, 1 / 3), 9)
            return math.sqrt(argument)
        if text == "(":
            value = self._nested(self.expression)
            if self.take()[1] != ")":
                raise _Stop
            return value
        raise _Stop

    def _nested(self, parse: t.Callable[[], float]) -> float:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _Stop
        try:
            return parse()
        finally:
            self.depth -= 1


def _word_number(first: str, second: str | None) -> int | None:
    """`five`, `twenty-one`, `twenty one` is two tokens (read as 20 then 1 and
    refused by the parser, which is fine: nobody writes an age that way)."""
    value = _NUMBER_WORDS.get(first)
    if value is None:
        return None
    if second is None:
        return value
    unit = _NUMBER_WORDS.get(second)
    if unit is None or not (20 <= value <= 90 and 1 <= unit <= 9):
        return None
    return value + unit


def _evaluate(text: str, start: int) -> tuple[int, int] | None:
    """The whole-number value of the longest arithmetic expression at `start` and
    the index after it, or None."""
    parser = _Parser(text, start)
    if not parser.tokens or parser.tokens[0][0] not in _FIRST_KINDS:
        return None
    try:
        value = parser.expression()
    except (_Stop, OverflowError, ValueError):
        return None
    if not parser.arithmetic or not math.isfinite(value):
        return None
    rounded = round(value)
    if abs(value - rounded) > 1e-9 or not 0 <= rounded <= MAX_AGE_VALUE:
        return None
    return rounded, parser.end()


def view(text: str, source: str | None = None) -> View | None:
    """The text with every arithmetic age replaced by its value, or None when it
    has none. Each value is written with two digits at least (`09`), the first
    mapped back to the expression's first character and the rest to its last.

    `source`, when given, is the prompt as typed, of the same length as `text`
    (`syntax.mask` keeps lengths): expressions are read there, brackets included
    (`age (2+3)*2`), and spliced into `text`."""
    if source is None or len(source) != len(text):
        source = text
    low = source.lower()
    if not _ANY_OPERATOR_RE.search(low) or not (
        _PREFIX_RE.search(low) or _UNIT_RE.search(low)
    ):
        return None
    found: list[tuple[int, int, int]] = []  # start, end, value
    for match in _PREFIX_RE.finditer(low):
        result = _evaluate(low, match.end())
        if result is not None:
            found.append((match.end(), result[1], result[0]))
    for match in _UNIT_RE.finditer(low):
        unit_start = match.start()
        low_bound = max(0, unit_start - LOOK_BACK_CHARS)
        for start_match in _START_RE.finditer(low, low_bound, unit_start):
            start = start_match.start()
            result = _evaluate(low, start)
            if result is not None and result[1] == unit_start:
                found.append((start, unit_start, result[0]))
                break
    if not found:
        return None
    pieces: list[str] = []
    where: list[int] = []
    position = 0
    for start, end, value in sorted(set(found)):
        if start < position:
            continue  # overlapping readings: the first one stands
        pieces.append(text[position:start])
        where.extend(range(position, start))
        # two digits at least, so that the first maps to the expression's start
        # and the last to its end (`9` would cover one of them only)
        digits = f"{value:02d}"
        if low.startswith("old", _skip_space(low, end)) and _unit_free(low, start, end):
            digits += " years"  # `one decade old` → `10 years old`
        pieces.append(digits)
        where.extend([start] + [end - 1] * (len(digits) - 1))
        position = end
    pieces.append(text[position:])
    where.extend(range(position, len(text)))
    return View("arithmetic", "".join(pieces), tuple(where))


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " -":
        index += 1
    return index


def _unit_free(text: str, start: int, end: int) -> bool:
    """The expression carries its own unit (`decade`), so `old` follows directly."""
    return any(word in text[start:end] for word in _POSTFIX_UNIT)
