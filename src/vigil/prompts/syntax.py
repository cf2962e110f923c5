"""Prompt syntax expansion: weights, brackets, alternation, BREAK and network tags.

Generators accept markup that splits words apart from a filter's point of view:
`(child:1.4)`, `((word))`, `[a:b:0.5]`, `[a|b]`, `{a|b}`, `BREAK`, `<lora:name:0.8>`,
`embedding:name`, NovelAI's `1.2::word::`. `mask` turns that markup into spaces and
commas *without changing the length of the text*, so every offset in the masked text
is an offset in the original: trigger spans need no mapping back.

Commas mark phrase boundaries (A1111 alternatives, `BREAK`, prompt-editing parts);
spaces only separate words. Network names (LoRA, LyCORIS, hypernetwork, embedding)
are kept in place because their names are signals too; `Network` records where they
are so that reasons can say a term came from a LoRA name.
"""

import dataclasses
import re

#: A1111/ComfyUI network tags: <lora:name:0.8>, <lyco:name:1:0.5>, <hypernet:name>.
_NETWORK_RE = re.compile(
    r"<\s*(lora|lyco|locon|loha|lokr|hypernet|embedding|ti)\s*:\s*([^:<>]{1,256})"
    r"((?::[^<>]{0,64})?)>",
    re.IGNORECASE,
)
#: ComfyUI textual-inversion references: embedding:name
_EMBEDDING_RE = re.compile(r"\bembedding:(?=[^\s,:])", re.IGNORECASE)
#: An attention weight just before a closing bracket: (word:1.3) [a:b:0.5] <x:0.8>
_WEIGHT_RE = re.compile(r":\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)\s*(?=[)\]>])")
#: NovelAI v4 weighting: 1.3::word:: and -1::word::
_NAI_WEIGHT_RE = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)?::")
#: Innermost square or curly bracket group (prompt editing, alternation, wildcards).
_GROUP_RE = re.compile(r"[\[{][^\[\]{}]*[\]}]")
#: Composable-diffusion and A1111 chunk separators (upper case only, as the tools
#: themselves require).
_KEYWORD_RE = re.compile(r"\b(?:BREAK|AND)\b")
_BRACKETS = str.maketrans(dict.fromkeys("()[]{}<>\\", " "))
_GROUP_SEPARATORS = str.maketrans({":": ",", "|": ","})
#: A bracket group weighted at or below this is asked *not* to appear: A1111 and
#: ComfyUI read a negative weight as a push away, and 0.01 is as good as absent.
SUPPRESSED_WEIGHT = 0.1
_WEIGHTED_GROUP_RE = re.compile(
    r"[(\[]([^()\[\]:]{1,200}):\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+))\s*[)\]]"
)
#: Bound on nested bracket passes; real prompts nest 3-4 deep.
MAX_NESTING = 16


@dataclasses.dataclass(frozen=True)
class Network:
    """A network tag in a prompt: `kind` lora/lyco/hypernet/embedding, the name and
    the name's [start, end) offsets in the original text."""

    kind: str
    name: str
    span: tuple[int, int]


@dataclasses.dataclass(frozen=True)
class Masked:
    text: str  # same length as the input
    networks: tuple[Network, ...]
    #: [start, end) of groups weighted down to `SUPPRESSED_WEIGHT` or below
    #: (`(adult:-1.5)`, `[adult:0.01]`): a negative prompt inside the prompt.
    suppressed: tuple[tuple[int, int], ...] = ()


def _blank(match: re.Match[str]) -> str:
    return " " * (match.end() - match.start())


def mask(text: str) -> Masked:
    """Replace prompt markup with spaces (word breaks) and commas (phrase breaks).

    >>> mask("(child:1.4), [a|b]").text
    ' child     ,  a,b '
    """
    networks: list[Network] = []
    if "<" in text:
        text, networks = _mask_networks(text)
    if "embedding:" in text.lower():
        text = _EMBEDDING_RE.sub(_blank, text)
    if "BREAK" in text or "AND" in text:
        text = _KEYWORD_RE.sub(lambda m: "," + " " * (m.end() - m.start() - 1), text)
    if "::" in text:
        text = _NAI_WEIGHT_RE.sub(_blank, text)
    suppressed: list[tuple[int, int]] = []
    if ":" in text:
        for match in _WEIGHTED_GROUP_RE.finditer(text):
            if float(match.group(2)) <= SUPPRESSED_WEIGHT:
                suppressed.append(match.span(1))
        text = _WEIGHT_RE.sub(lambda m: _weight_blanked(text, m), text)
    if "[" in text or "{" in text:
        text = _mask_groups(text)
    if "(" in text:
        # `my classmate (14) onto ...`: a number in parentheses is a phrase of its
        # own, as `classmate, 14, onto ...` (an aside: an age, a count, a page)
        text = _PAREN_NUMBER_RE.sub(lambda m: f",{m.group(1)},", text)
    return Masked(text.translate(_BRACKETS), tuple(networks), tuple(suppressed))


#: `[age: 9]`: a label and its value, not a prompt-editing step (no one adds
#: the word "age" to a picture at step 9). `(age:1.3)` stays a weight.
_AGE_LABEL_RE = re.compile(r"\b(?:age|aged)\s*$", re.IGNORECASE)
_AGE_LABEL_GROUP_RE = re.compile(r"\s*(?:age|aged)\s*:\s*\d{1,3}\s*", re.IGNORECASE)


def _weight_blanked(text: str, match: re.Match[str]) -> str:
    before = text[max(0, match.start() - 8) : match.start()]
    if (
        text[match.end() : match.end() + 1] == "]"
        and "." not in match.group()
        and _AGE_LABEL_RE.search(before)
    ):
        return match.group()
    return _blank(match)


def _mask_networks(text: str) -> tuple[str, list[Network]]:
    networks: list[Network] = []
    parts: list[str] = []
    last = 0
    for match in _NETWORK_RE.finditer(text):
        start, end = match.span()
        name_start, name_end = match.span(2)
        parts.append(text[last:start])
        parts.append(" " * (name_start - start))
        parts.append(text[name_start:name_end])
        parts.append(" " * (end - name_end))
        name = match.group(2).strip()
        kind = match.group(1).lower()
        networks.append(Network(kind, name, (name_start, name_end)))
        last = end
    parts.append(text[last:])
    return "".join(parts), networks


_PAREN_NUMBER_RE = re.compile(r"\((\s*\d{1,3}\s*)\)")
#: `{"age": 8}`: a JSON object, whose colons join a key to its value.
_JSON_KEY_RE = re.compile(r"\"[^\"]{1,64}\"\s*:")


def _mask_groups(text: str) -> str:
    """`[a:b:0.5]` and `[a|b]` are alternatives, never one phrase: their inner
    separators become commas (not the colons of a JSON object: `{"age": 8}`).
    Innermost groups first, so nesting is handled."""
    for _ in range(MAX_NESTING):
        changed = _GROUP_RE.sub(_ungroup, text)
        if changed == text:
            break
        text = changed
    return text


def _ungroup(match: re.Match[str]) -> str:
    inner = match.group()[1:-1]
    if match.group()[0] == "[" and _AGE_LABEL_GROUP_RE.fullmatch(inner):
        return " " + inner + " "  # `[age: 9]`
    if match.group()[0] == "{" and _JSON_KEY_RE.match(inner.lstrip()):
        return " " + inner.replace("|", ",") + " "
    return " " + inner.translate(_GROUP_SEPARATORS) + " "
