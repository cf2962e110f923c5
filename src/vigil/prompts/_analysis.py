"""From tokens to hits: lexicon look-up, then the rules that depend on word order.

Separate from `filter.py` so that the decision (which combinations of hits mean
block or review) reads apart from how hits are found. Rules, in order:

1. `context` terms are dropped unless a word of another language than English is
   present (Spanish `niña` with Portuguese-spelt `desnuda` counts); `english`
   terms are dropped when one is and the field does not read as English.
2. A negation right before a sexual or nudity term cancels it ("no nudity").
3. `noun` terms before an unknown word are adjectives ("minor league"); `modifier`
   terms before an `object` word describe a thing ("kid goat", "nude lipstick").
4. little/young + girl/boy → minor; young + woman → adult; school level + person.
5. negation + clothes → nudity ("without clothes"); removal verb + garment →
   clothing removal ("lifting skirt").
6. Ages: `12 year old`, `aged 12`, `12yo`, `girl, 12`, `4th grader`, `she is
   11` — bound to a person: a person word within `AGE_BIND_TOKENS` words and
   nearer than any `object` word ("12 year old whisky" is not a person).
7. `cub` (`furry_minor`) is a minor in a field with a furry word (`furry_context`:
   furry, yiff, anthro), an animal otherwise.
"""

import dataclasses
import re
import typing as t

from vigil.prompts._ages import LEARNER_TERMS, ages
from vigil.prompts._hits import PERSONS, Analysis, Hit
from vigil.prompts.lexicon import (
    AGE_KEY,
    NUMBER_KEY,
    ORDINAL_KEY,
    SCHOOL_KEY,
    SIGNAL_CATEGORIES,
    TAG_KEY,
    WORD_FLAGS,
    YEAR_KEY,
    Lexicon,
)
from vigil.prompts.normalise import Token

#: Words between little/young/school level and the person they qualify.
ADJECTIVE_REACH_TOKENS = 2
#: Words between a negation or removal verb and the garment.
CLOTHING_REACH_TOKENS = 3
_NEGATABLE = frozenset({"sexual", "nudity", "clothing_removal", "sexualised_clothing"})
_GARMENTS = frozenset({"clothing", "clothing_all", "underwear"})
_NUDITY_GARMENTS = frozenset({"clothing_all", "underwear"})
_YOUNG_NOUNS = frozenset({"ambiguous_person", "teen"})
_SCHOOL_PERSONS = frozenset({"person", "ambiguous_person", "minor", "teen"})


#: Categories some rule starts from; a field without any needs no rule pass.
_RULE_CATEGORIES = frozenset(
    {"negation", "youth_adjective", "school_minor", "school_teen", "removal_verb",
     "removal_after", "number", "age_compact", "age_tag", "school_code", "ordinal",
     "furry_minor", "year", "puberty", "nudity_short", "person_short", "nudify",
     "clothing_removal"}
)  # fmt: skip


#: Letters only Vietnamese writes (Latin Extended Additional: ả ạ ầ ế ộ ...; and
#: ơ, ư): their tones and hooks are folded away before look-up, so a field
#: with them is Vietnamese even where every word matched is also English.
_VIETNAMESE_LETTERS_RE = re.compile("[\u1ea0-\u1ef9\u01a0\u01a1\u01af\u01b0]")


def script_languages(text: str) -> frozenset[str]:
    """Languages the letters of `text` show before folding (`ảnh` is Vietnamese)."""
    if _VIETNAMESE_LETTERS_RE.search(text):
        return frozenset({"vi"})
    return frozenset()


def analyse(
    tokens: list[Token], lexicon: Lexicon, scripts: frozenset[str] = frozenset()
) -> Analysis:
    """Every hit in one field, after the rules above; `scripts` are languages
    its letters show (`script_languages`), which confirm `context` terms."""
    if lexicon.rare_sound_alikes:
        tokens = _rare_sound_alikes(tokens, lexicon)
    hits, languages, flagged = _look_up(tokens, lexicon)
    if hits:
        hits = _confirmed_skeletons(tokens, hits, lexicon)
    languages |= scripts
    if not hits:
        return Analysis(tokens, hits)
    if flagged and not languages:  # `context` terms need a word that is not English
        hits = [h for h in hits if "context" not in h.flags]
    elif flagged and "vi" in scripts:
        # a Vietnamese field keeps only `context` terms of its own languages: the
        # French `nu` is not the Vietnamese `nữ` folded (`trẻ em nữ`, girls)
        hits = [h for h in hits if "context" not in h.flags or h.lang in languages]
    if flagged and languages and not _reads_english(tokens):
        # `english` terms are English words only: German `tot` is dead
        hits = [h for h in hits if "english" not in h.flags]
    if languages and lexicon.sound_alike_forms and not _reads_english(tokens):
        # sound-alike keys are English: Polish "siatce" is not "shotas"; a field
        # with English grammar words keeps them ("erotik foto of a yung chylde")
        sound_alike = lexicon.sound_alike_forms
        hits = [
            h
            for h in hits
            if h.first != h.last or tokens[h.first].form not in sound_alike
        ]
    analysis = Analysis(tokens, hits)
    if (
        not flagged
        and analysis.by_category.keys().isdisjoint(_RULE_CATEGORIES)
        and not analysis.has("puberty")
    ):
        return analysis
    dropped: set[int] = set()
    _cancel_negated(analysis, dropped)
    _drop_modifiers(analysis, dropped)
    _drop_undressed_objects(analysis, dropped)
    added = _adjectives(analysis, dropped)
    added += _clothing_rules(analysis)
    added += ages(analysis)
    added += _furry_minors(analysis)
    added += _before_puberty(analysis)
    added += _short_nudity(analysis, added)
    if not added and not dropped:
        return analysis
    kept = [h for h in hits if id(h) not in dropped] + added
    return Analysis(tokens, kept)


#: The two kinds of signal word a block combines: a rare word that sounds like one
#: kind is read only next to a word of the other (`noode kyd`, `nakkid childe`).
_PERSON_KIND = frozenset(
    {"minor", "ambiguous_person", "teen", "minor_slang", "youth_adjective",
     "minor_costume", "school_minor"}
)  # fmt: skip
_CONTENT_KIND = frozenset(
    {"nudity", "sexual", "sexualised_clothing", "nudify", "clothing_removal",
     "underwear"}
)  # fmt: skip


def _rare_sound_alikes(tokens: list[Token], lexicon: Lexicon) -> list[Token]:
    """The tokens, with each rare excluded word that sounds like a signal word
    (`kyd`) read as that word where a neighbour in its phrase is a signal word of
    the other kind; ordinary words (`knocked`) are never read so."""
    table = lexicon.rare_sound_alikes
    out = tokens
    for index, token in enumerate(tokens):
        if token.key is not None:
            continue
        found = table.get(token.form) or _rare_plural(token.form, table)
        if found is None:
            continue
        word, categories = found
        wanted = _CONTENT_KIND if categories & _PERSON_KIND else _PERSON_KIND
        if not categories & (_PERSON_KIND | _CONTENT_KIND):
            continue
        if any(
            any(e.category in wanted for e in lexicon.entries(tokens[i].key or ""))
            for i in _neighbours(tokens, index)
        ):
            if out is tokens:
                out = list(tokens)
            out[index] = dataclasses.replace(token, key=word)
            lexicon.sound_alike_forms.add(token.form)
    return out


#: Words passed over on the way to a rare sound-alike's neighbour (`nudes of a
#: kyd`), at most RARE_SOUND_ALIKE_SKIPPED_TOKENS of them.
_PASSED_OVER = frozenset({"a", "an", "the", "of", "my", "her", "his", "this", "some"})
RARE_SOUND_ALIKE_SKIPPED_TOKENS = 2


def _neighbours(tokens: list[Token], index: int) -> list[int]:
    """The nearest words on each side of tokens[index] in its phrase, past
    grammar words (`_PASSED_OVER`)."""
    segment = tokens[index].segment
    out: list[int] = []
    for step in (-1, 1):
        at, passed = index + step, 0
        while 0 <= at < len(tokens) and tokens[at].segment == segment:
            if (
                tokens[at].form not in _PASSED_OVER
                or passed == RARE_SOUND_ALIKE_SKIPPED_TOKENS
            ):
                out.append(at)
                break
            at, passed = at + step, passed + 1
    return out


#: A rare sound-alike is read in the plural from this many letters (`kyds`).
MIN_RARE_PLURAL_CHARS = 4


def _rare_plural(
    form: str, table: dict[str, tuple[str, frozenset[str]]]
) -> tuple[str, frozenset[str]] | None:
    if len(form) < MIN_RARE_PLURAL_CHARS or form[-1] not in "sz":
        return None
    return table.get(form[:-1])


#: Grammar words only English has among the lexicon's languages (not `a`, `in`
#: or `is`, which Italian, German or Dutch share).
_ENGLISH_GRAMMAR_WORDS = frozenset({"the", "of", "with", "and", "her", "his", "she"})
#: How many of them make a field read as English.
MIN_ENGLISH_GRAMMAR_WORDS = 1


def _reads_english(tokens: list[Token]) -> bool:
    return (
        sum(1 for tok in tokens if tok.form in _ENGLISH_GRAMMAR_WORDS)
        >= MIN_ENGLISH_GRAMMAR_WORDS
    )


def signal_hits(analysis: Analysis) -> list[Hit]:
    return [
        h
        for h in analysis.hits
        if h.category in SIGNAL_CATEGORIES or h.category == "age"
    ]


def _confirmed_skeletons(
    tokens: list[Token], hits: list[Hit], lexicon: Lexicon
) -> list[Hit]:
    """Hits read by another language's skeleton (`çıplk`) kept only where a word
    of that language read as typed stands in the field (`çocuk`)."""
    read: dict[int, str] = {}
    for index, token in enumerate(tokens):
        if token.key is not None and token.key != token.form:
            lang = lexicon.skeleton_language(token.form, token.key)
            if lang is not None:
                read[index] = lang
    if not read:
        return hits
    typed = {h.lang for h in hits if not (h.first == h.last and h.first in read)}
    return [
        h
        for h in hits
        if not (h.first == h.last and h.first in read and read[h.first] not in typed)
    ]


def _look_up(tokens: list[Token], lexicon: Lexicon) -> tuple[list[Hit], set[str], bool]:
    """Longest phrase first, else the word itself. Returns the hits, the languages
    confirmed by a word that is not also English, and whether any hit carries a
    word flag (`noun`, `modifier`, `context`)."""
    hits: list[Hit] = []
    languages: set[str] = set()
    flagged = False
    phrase_hits = lexicon.phrase_hits
    single_hits = lexicon.single_hits
    benign_pairs = lexicon.benign_pairs
    no_hits: tuple[tuple[t.Any, ...], frozenset[str]] = ((), frozenset())
    count = len(tokens)
    index = 0
    while index < count:
        token = tokens[index]
        key = token.key
        if key is None:
            index += 1
            continue
        if key[0] == "#":
            hits.append(_special_hit(key, token, index))
            index += 1
            continue
        span = 1
        info = None
        by_second = phrase_hits.get(key)
        if by_second is not None and index + 1 < count:
            # phrases are indexed by their first two words, longest first
            second = tokens[index + 1]
            segment = token.segment
            for words, phrase_info in by_second.get(second.key or "", ()):
                size = len(words)
                if (
                    index + size <= count
                    and second.segment == segment
                    and all(
                        tokens[index + k].key == words[k]
                        and tokens[index + k].segment == segment
                        for k in range(2, size)
                    )
                ):
                    span, info = size, phrase_info
                    break
            if span > 1 and _idiom_follows(tokens, index + span - 1, benign_pairs):
                span, info = 1, None  # `remove the clothes rack`: a rack
        if info is None:
            info = single_hits.get(key, no_hits)
        entries, confirmed = info
        if confirmed:
            languages.update(confirmed)
        if entries:
            last = index + span - 1
            end = tokens[last].end
            for entry in entries:
                if entry.flags:
                    flagged = flagged or not entry.flags.isdisjoint(WORD_FLAGS)
                hits.append(
                    Hit(
                        entry.category,
                        entry.term,
                        token.start,
                        end,
                        index,
                        last,
                        entry.lang,
                        entry.flags,
                        entry.value,
                    )
                )
        index += span
    return hits, languages, flagged


def _idiom_follows(
    tokens: list[Token], last: int, benign_pairs: t.Container[tuple[str | None, ...]]
) -> bool:
    """Whether an idiom that consumes its words begins on token `last` (the last
    word of a phrase) and goes on past it, in the same phrase of the text."""
    following = last + 1
    return (
        following < len(tokens)
        and tokens[following].segment == tokens[last].segment
        and (tokens[last].key, tokens[following].key) in benign_pairs
    )


def _special_hit(key: str, token: Token, index: int) -> Hit:
    value = int(key.split("=", 1)[1])
    category = {
        NUMBER_KEY: "number",
        AGE_KEY: "age_compact",
        TAG_KEY: "age_tag",
        SCHOOL_KEY: "school_code",
        ORDINAL_KEY: "ordinal",
        YEAR_KEY: "year",
    }[key[: key.index("=") + 1]]
    return Hit(
        category,
        token.form,
        token.start,
        token.end,
        index,
        index,
        "",
        frozenset(),
        value,
    )


def _cancel_negated(analysis: Analysis, dropped: set[int]) -> None:
    for negation in analysis.of("negation"):
        seg = analysis.tokens[negation.last].segment
        following = negation.last + 1
        if any(h.category == "copula" for h in analysis.at.get(following, ())):
            following += 1  # Greek `δεν είναι γυμνό`: not is naked
        for hit in analysis.at.get(following, ()):
            if hit.category in _NEGATABLE and analysis.tokens[following].segment == seg:
                dropped.add(id(hit))


def _drop_modifiers(analysis: Analysis, dropped: set[int]) -> None:
    tokens = analysis.tokens
    for hit in analysis.hits:
        if not hit.flags & {"noun", "modifier"}:
            continue
        following = hit.last + 1
        if following >= len(tokens):
            continue
        token = tokens[following]
        if token.segment != tokens[hit.last].segment:
            continue
        if "noun" in hit.flags and token.key is None and token.form.isalpha():
            dropped.add(id(hit))
        if (
            "modifier" in hit.flags
            and not _reads_as_verb(token.form)
            and any(h.category == "object" for h in analysis.at.get(following, ()))
        ):
            dropped.add(id(hit))


def _reads_as_verb(form: str) -> bool:
    """`kids building sandcastles`: an object word in -ing after a person reads
    as what the person does, not as the thing the word describes (`duckling`,
    `sapling` are things)."""
    return form.endswith("ing") and not form.endswith("ling")


#: Undressing verbs whose object is a thing (`undressing a doll`, `undress the
#: mannequin`): the object right after the verb, or after one of these words.
_OBJECT_DETERMINERS = frozenset(
    {"a", "an", "the", "her", "his", "their", "my", "its", "your", "our", "this",
     "την", "το", "τις", "τα", "tin", "to", "tis", "ta", "את"}
)  # fmt: skip
_UNDRESSING = frozenset({"nudify", "clothing_removal"})
#: Things dressed and undressed in play or in shops. Not lexicon `object`s: an
#: object word also ends a modifier (`baby goat`), and `child doll` must stay a
#: child.
_UNDRESSED_THINGS = frozenset(
    {"doll", "dolls", "mannequin", "mannequins", "barbie", "barbies", "puppet",
     "puppets", "teddy", "scarecrow", "snowman", "figurine", "dummy", "dummies",
     "κουκλα", "κουκλες", "κουκλιτσα", "μανεκεν", "koykla", "koykles", "maneken",
     "בובה", "הבובה", "בובות", "הבובות", "מנקין", "המנקין"}
)  # fmt: skip


def _drop_undressed_objects(analysis: Analysis, dropped: set[int]) -> None:
    tokens = analysis.tokens
    for hit in analysis.hits:
        if hit.category not in _UNDRESSING:
            continue
        following = hit.last + 1
        if following < len(tokens) and tokens[following].form in _OBJECT_DETERMINERS:
            following += 1
        if (
            following + 1 < len(tokens)
            and any(h.category in PERSONS for h in analysis.at.get(following, ()))
            and _is_thing(analysis, following + 1)
        ):
            # whose coat: `svlékni dítěti bundu` (take the child's jacket off)
            following += 1
        if (
            following < len(tokens)
            and tokens[following].segment == tokens[hit.last].segment
            and _is_thing(analysis, following)
        ):
            dropped.add(id(hit))


def _is_thing(analysis: Analysis, index: int) -> bool:
    """Whether token `index` is a thing one undresses or takes off: a doll, or a
    lexicon `object` (a coat, a car)."""
    return analysis.tokens[index].form in _UNDRESSED_THINGS or any(
        h.category == "object" for h in analysis.at.get(index, ())
    )


#: Words for puberty that, negated or with "before"/"yet", describe a child:
#: "has not started puberty", "puberty hasn't begun", "long before adolescence".
_NOT_YET_FORMS = frozenset(
    {"not", "never", "hasn", "hasnt", "haven", "havent", "isn", "isnt", "yet",
     "before", "prior", "pre", "until", "till", "didn", "didnt"}
)  # fmt: skip
#: Words looked at on each side of the puberty word.
PUBERTY_REACH_TOKENS = 4


def _before_puberty(analysis: Analysis) -> list[Hit]:
    """A minor hit for a puberty word with a "not yet" word in reach, in its
    phrase ("not yet gone through puberty", "puberty hasn't started")."""
    tokens = analysis.tokens
    out: list[Hit] = []
    for hit in analysis.of("puberty"):
        index, token = hit.first, tokens[hit.first]
        low = max(0, index - PUBERTY_REACH_TOKENS)
        reach = tokens[low : index + PUBERTY_REACH_TOKENS + 1]
        if any(
            tok.form in _NOT_YET_FORMS and tok.segment == token.segment for tok in reach
        ):
            out.append(
                Hit("minor", token.form, token.start, token.end, index, index, "en")
            )
    return out


#: Words that may come before text-speak `nd` read as nude ("pic of a nd kid");
#: any other word before it makes it `and` ("mom nd kid", "bread nd butter").
_BEFORE_SHORT_NUDITY = frozenset({"a", "an", "the", "of", "pic", "photo", "image"})
_MINOR_WORDS = frozenset({"minor", "minor_slang", "ambiguous_person", "teen"})
#: ... and glued ages and school stages: `nd 9yo`, `elevenyearold nd`
_SHORT_NUDITY_PERSONS = _MINOR_WORDS | {
    "minor_costume",
    "age",
    "age_compact",
    "age_tag",
    "school_minor",
}


def _short_nudity(analysis: Analysis, added: list[Hit]) -> list[Hit]:
    """Text-speak `nd` is nude right before a minor word at the start of a phrase
    (`nd chld`, `pic of a nd kd`), right after one that starts it at its end
    (`chld nd`, `lttl grl nd`), or as
    a tag of its own in a field with one (`schlgrl, nd, 4k`); between two words
    it is `and`. `added` are the minors the rules before made (`lttl grl`)."""
    tokens = analysis.tokens
    out: list[Hit] = []
    for hit in analysis.of("nudity_short"):
        index = hit.first
        seg = tokens[index].segment
        before = index - 1 if index and tokens[index - 1].segment == seg else None
        after: int | None = index + 1
        if index + 1 >= len(tokens) or tokens[index + 1].segment != seg:
            after = None
        if after is not None and (
            before is None or tokens[before].form in _BEFORE_SHORT_NUDITY
        ):
            near = [
                *analysis.at.get(after, ()),
                *(h for h in added if h.first == after),
            ]
        elif after is None and before is not None:
            near = [  # `chld nd`, `lttl grl nd`, `pic of a kd nd`
                h
                for h in [
                    *analysis.ending.get(before, ()),
                    *(h for h in added if h.last == before),
                ]
                if all(
                    tokens[i].segment != seg or tokens[i].form in _BEFORE_SHORT_NUDITY
                    for i in range(h.first)
                )
            ]
        elif after is None and before is None:
            near = _neighbour_tags(tokens, index, analysis)  # `schlgrl, nd, 4k`
        else:
            continue
        if any(h.category in _SHORT_NUDITY_PERSONS for h in near):
            out.append(dataclasses.replace(hit, category="nudity"))
    return out


#: A tag next to a text-speak `nd` tag is read with it when it is this short
#: (`schlgrl, nd`; not "kids at the lake, ND", the state).
MAX_NEIGHBOUR_TAG_TOKENS = 2


def _neighbour_tags(tokens: list[Token], index: int, analysis: Analysis) -> list[Hit]:
    """The hits of the short tags right before and after token `index`."""
    seg = tokens[index].segment
    out: list[Hit] = []
    for neighbour in (seg - 1, seg + 1):
        members = [i for i, tok in enumerate(tokens) if tok.segment == neighbour]
        if 0 < len(members) <= MAX_NEIGHBOUR_TAG_TOKENS:
            out.extend(h for i in members for h in analysis.at.get(i, ()))
    return out


def _short_person_after(analysis: Analysis, adjective: Hit) -> Hit | None:
    """Text-speak `by` is boy right after little/young at the end of a phrase
    (`lttl by`); "little by little" and "young by nature" stay words."""
    tokens = analysis.tokens
    index = adjective.last + 1
    if index >= len(tokens) or tokens[index].segment != tokens[adjective.last].segment:
        return None
    short = next(
        (h for h in analysis.at.get(index, ()) if h.category == "person_short"), None
    )
    if short is None:
        return None
    following = index + 1
    if following < len(tokens) and tokens[following].segment == tokens[index].segment:
        return None
    return dataclasses.replace(short, category="ambiguous_person")


def _furry_minors(analysis: Analysis) -> list[Hit]:
    """`cub` is a bear cub, except in furry art, where it names a minor: a
    `furry_minor` word is a minor when the field has a `furry_context` word."""
    cubs = analysis.of("furry_minor")
    if not cubs or not analysis.has("furry_context"):
        return []
    return [dataclasses.replace(hit, category="minor") for hit in cubs]


def _adjectives(analysis: Analysis, dropped: set[int]) -> list[Hit]:
    """little/young + girl/boy/teen → minor; + person → youthful; + woman →
    nothing ("young" is then not a youth signal). Same for school levels."""
    added: list[Hit] = []
    tokens = analysis.tokens
    for adjective in analysis.of("youth_adjective"):
        seg = tokens[adjective.last].segment
        reach = adjective.last + ADJECTIVE_REACH_TOKENS
        noun = analysis.find(
            adjective.last + 1, reach, seg, _YOUNG_NOUNS | {"adult", "person", "minor"}
        ) or _short_person_after(analysis, adjective)
        if noun is None:
            continue
        if noun.category == "adult":
            for hit in analysis.at.get(adjective.first, ()):
                if hit.category == "youthful":
                    dropped.add(id(hit))
            continue
        category = "youthful" if noun.category == "person" else "minor"
        if noun.category != "person":
            dropped.add(id(noun))
        added.append(_span(category, adjective, noun, tokens))
    for level, category in (("school_minor", "minor"), ("school_teen", "teen")):
        for school in analysis.of(level):
            seg = tokens[school.last].segment
            person = analysis.find(
                school.last + 1,
                school.last + ADJECTIVE_REACH_TOKENS,
                seg,
                _SCHOOL_PERSONS,
            )
            if person is not None:
                added.append(_span(category, school, person, tokens))
            elif _pupil_before(tokens, school.first):
                added.append(dataclasses.replace(school, category=category))
            elif (pupil := _person_at_school(analysis, school)) is not None:
                added.append(_span(category, pupil, school, tokens))
            elif _school_tag_by_person(analysis, school):
                added.append(dataclasses.replace(school, category=category))
    return added


def _school_tag_by_person(analysis: Analysis, school: Hit) -> bool:
    """`naked girl, elementary school`: a school level as a tag of its own (with
    at most a preposition: `in primary school`) in the phrase right after or
    right before one with a girl, boy, child or teen word."""
    tokens = analysis.tokens
    seg = tokens[school.first].segment
    first, last = school.first, school.last
    if first > 0 and tokens[first - 1].segment == seg:
        if tokens[first - 1].form not in _AT_SCHOOL_PREPOSITIONS:
            return False
        first -= 1
    if first > 0 and tokens[first - 1].segment == seg:
        return False
    if last + 1 < len(tokens) and tokens[last + 1].segment == seg:
        return False
    return any(
        (
            h.category in _AT_SCHOOL_PERSONS
            or (h.category == "person" and h.term in LEARNER_TERMS)
        )
        and abs(tokens[h.first].segment - seg) == 1
        for h in analysis.hits
    )


#: `she is in primary school`, `attends kindergarten`, `goes to elementary
#: school`: a school level stated of someone (not "a teacher at a primary school").
_ATTENDS_FORMS = frozenset({"attends", "attending", "attend", "attended"})
_PUPIL_PREPOSITIONS = frozenset({"in", "to", "at"})
_PUPIL_VERBS = frozenset(
    {"is", "was", "are", "were", "still", "goes", "go", "going", "went", "now",
     "currently", "she's", "he's", "shes", "hes", "attends", "attending"}
)  # fmt: skip


#: `girl in primary school`, Arabic `بنت في المدرسة الابتدائية`: a girl, boy,
#: child or teen right before a school level, or one preposition before it ("a
#: teacher in primary school" is a person word the rule does not take).
_AT_SCHOOL_PERSONS = frozenset({"ambiguous_person", "minor", "teen"})
_AT_SCHOOL_PREPOSITIONS = frozenset({"in", "at", "from", "في", "من", "di", "dari"})


def _person_at_school(analysis: Analysis, school: Hit) -> Hit | None:
    tokens = analysis.tokens
    seg = tokens[school.first].segment
    before = school.first - 1
    if before >= 0 and tokens[before].form in _AT_SCHOOL_PREPOSITIONS:
        before -= 1
    if before < 0 or tokens[before].segment != seg:
        return None
    return next(
        (
            h
            for h in analysis.ending.get(before, ())
            if h.category in _AT_SCHOOL_PERSONS
        ),
        None,
    )


def _pupil_before(tokens: list[Token], index: int) -> bool:
    seg = tokens[index].segment
    before = [
        tok.form for tok in tokens[max(0, index - 2) : index] if tok.segment == seg
    ]
    if before and before[-1] in _ATTENDS_FORMS:
        return True
    return (
        len(before) == 2
        and before[1] in _PUPIL_PREPOSITIONS
        and before[0] in _PUPIL_VERBS
    )


#: A removal verb that undresses the person it takes ("strip the girl"); "strip
#: the paint" takes a thing, "strip of land" no object at all.
_STRIP_PREFIX = "strip"
_STRIPPED = frozenset({"minor", "ambiguous_person", "teen", "minor_slang"})


#: Words a "strip" that is a command may follow ("please strip", "how to strip");
#: after any other word it is a noun ("comic strip", "strip of land").
_BEFORE_COMMAND = frozenset(
    {"please", "pls", "plz", "and", "then", "to", "now", "also", "just", "can",
     "could", "would", "will", "should", "you", "i", "we", "lets", "let's", "me"}
)  # fmt: skip
#: Words that may follow the stripped person: "strip the kids beds" strips beds.
_AFTER_STRIPPED = frozenset(
    {"in", "on", "at", "from", "and", "for", "to", "this", "that", "here",
     "there", "now", "please", "completely", "fully", "totally", "down", "bare",
     "naked", "nude", "off"}
)  # fmt: skip


#: Pronouns a command "strip" may take ("strip her, she is 10").
_STRIPPED_PRONOUNS = frozenset({"her", "him", "them"})


def _strips_a_person(analysis: Analysis, verb: Hit) -> bool:
    """Whether a command "strip" takes a person: right after it, after a
    determiner or youth word, and not as the first word of a noun phrase ("strip
    the kids beds")."""
    tokens = analysis.tokens
    seg = tokens[verb.first].segment
    before = verb.first - 1
    if (
        before >= 0
        and tokens[before].segment == seg
        and tokens[before].form not in _BEFORE_COMMAND
    ):
        return False
    start = verb.last + 1
    if start < len(tokens) and tokens[start].form in _STRIPPED_PRONOUNS:
        person_last = start
    else:
        if start < len(tokens) and tokens[start].form in _DETERMINERS:
            start += 1
        while analysis.find(start, start, seg, {"youth_adjective"}) is not None:
            start += 1
        person = analysis.find(start, start, seg, _STRIPPED)
        if person is None:
            return False
        person_last = person.last
    after = person_last + 1
    if after < len(tokens) and tokens[after].form == "of":
        # "strip her of her title"; "strip the girl of her clothes" undresses
        return (
            analysis.find(after + 1, after + CLOTHING_REACH_TOKENS, seg, _GARMENTS)
            is not None
        )
    if (
        after < len(tokens)
        and tokens[after].segment == seg
        and tokens[after].key is None
        and tokens[after].form not in _AFTER_STRIPPED
    ):
        return False
    return True


def _clothing_rules(analysis: Analysis) -> list[Hit]:
    added: list[Hit] = []
    tokens = analysis.tokens
    if analysis.has("negation"):
        for negation in analysis.of("negation"):
            seg = tokens[negation.last].segment
            garment = analysis.find(
                negation.last + 1,
                negation.last + CLOTHING_REACH_TOKENS,
                seg,
                _NUDITY_GARMENTS,
            )
            if garment is not None:
                added.append(_span("nudity", negation, garment, tokens))
                continue
            piece = analysis.find(  # `without his shorts`: partly bare
                negation.last + 1,
                negation.last + CLOTHING_REACH_TOKENS,
                seg,
                {"clothing"},
            )
            if piece is not None:
                added.append(_span("exposure", negation, piece, tokens))
    for verb in analysis.of("removal_verb"):
        seg = tokens[verb.last].segment
        garment = analysis.find(
            verb.last + 1, verb.last + CLOTHING_REACH_TOKENS, seg, _GARMENTS
        )
        if garment is not None:
            added.append(_span("clothing_removal", verb, garment, tokens))
        elif tokens[verb.first].form.startswith(_STRIP_PREFIX):
            if _strips_a_person(analysis, verb):  # the person keeps its own hit
                added.append(dataclasses.replace(verb, category="clothing_removal"))
    if analysis.has("removal_after"):
        for garment in analysis.of(*_GARMENTS):
            seg = tokens[garment.last].segment
            after = analysis.find(
                garment.last + 1, garment.last + 2, seg, {"removal_after"}
            )
            if (
                after is not None
                and not _removed_from_a_thing(analysis, after.last)
                and not _garment_of_a_thing(tokens, garment.first)
            ):
                added.append(_span("clothing_removal", garment, after, tokens))
    return added


#: Where clothes are kept: "clothing removed from the drying line" is laundry.
#: Anything else after "removed from" (a body, a person, a photo) still counts.
_CLOTHES_PLACES = frozenset(
    {"line", "clothesline", "washing", "drying", "rack", "hanger", "hangers",
     "closet", "wardrobe", "shelf", "shelves", "drawer", "dryer", "washer",
     "laundry", "basket", "hamper", "mannequin", "suitcase"}
)  # fmt: skip
#: Words looked at after "from".
REMOVED_FROM_REACH_TOKENS = 3


#: Prepositions that make a garment part of another noun phrase: "the stain on
#: the shirt erased" erases the stain.
_GARMENT_OF = frozenset({"on", "of", "from"})
_DETERMINERS = frozenset(
    {"the", "a", "an", "her", "his", "their", "my", "this", "that"}
)


def _garment_of_a_thing(tokens: list[Token], index: int) -> bool:
    seg = tokens[index].segment
    before = index - 1
    if before >= 0 and tokens[before].form in _DETERMINERS:
        before -= 1
    return (
        before >= 0
        and tokens[before].segment == seg
        and tokens[before].form in _GARMENT_OF
    )


def _removed_from_a_thing(analysis: Analysis, index: int) -> bool:
    """`clothing removed from the drying line`: taken off a clothes place, with no
    person word in reach (`from the photo`, `from her body` still count)."""
    tokens = analysis.tokens
    following = index + 1
    if following >= len(tokens) or tokens[following].form != "from":
        return False
    seg = tokens[following].segment
    place = False
    for reach in range(following + 1, following + 1 + REMOVED_FROM_REACH_TOKENS):
        if reach >= len(tokens) or tokens[reach].segment != seg:
            break
        if any(h.category in PERSONS for h in analysis.at.get(reach, ())):
            return False
        place = place or tokens[reach].form in _CLOTHES_PLACES
    return place


def _span(category: str, first: Hit, last: Hit, tokens: list[Token]) -> Hit:
    start = min(first.start, last.start)
    end = max(first.end, last.end)
    lo, hi = min(first.first, last.first), max(first.last, last.last)
    words = " ".join(tok.form for tok in tokens[lo : hi + 1])
    return Hit(category, words, start, end, lo, hi, first.lang or last.lang)


# -- ages -------------------------------------------------------------------------
