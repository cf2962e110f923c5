"""Age expressions bound to a person: `12 year old girl`, `aged 12`, `9yo`,
`girl, 12`, `4th grader`, `neunjährige`, `10 лет`.

An age counts only when it describes a person: a person word within
`AGE_BIND_TOKENS` words and nearer than any `object` word ("12 year old whisky" and
"3 year old oak tree" are not people). A bare number counts only right after a
person word at the end of a phrase (`girl, 12`); a school grade needs no binding.
"""

import dataclasses
import datetime as dt
import typing as t

from vigil.prompts._hits import PERSONS, Analysis, Hit

#: An age binds to a person word at most this many words away (either side):
#: "12 year old blonde girl" (2), "girl, 11 years old" (1).
AGE_BIND_TOKENS = 3
#: Ages above this are not ages (years, counts).
MAX_AGE_YEARS = 120
ADULT_AGE_YEARS = 18  # age of majority in every jurisdiction the lexicon covers
#: US grade N is ages N+5 to N+6; from grade 9 (14-15) the age is in question.
GRADE_TO_AGE_YEARS = 5
FIRST_TEEN_GRADE = 9


def ages(analysis: Analysis) -> list[Hit]:
    """Age hits (`age` under 18, `adult` from 18; school grades 9+ are `teen`)."""
    if not (
        analysis.has("number")
        or analysis.has("age_compact")
        or analysis.has("age_tag")
        or analysis.has("school_code")
        or analysis.has("ordinal")
        or analysis.has("year")
    ):
        return []
    tokens = analysis.tokens
    found: list[_Age] = []
    for hit in analysis.of("age_compact"):
        found.append(_Age(hit.first, hit.last, hit.value or 0, True))
    for tag in analysis.of("age_tag"):
        years = tag.value or 0
        if years >= ADULT_AGE_YEARS and not tag.term.endswith("f"):
            continue  # `18m` after a baby word is eighteen months
        if years >= MIN_TAG_AGE_YEARS and _tag_reads(analysis, tag):
            found.append(_Age(tag.first, tag.last, years, True))
    for code in analysis.of("school_code"):
        if _pupil_of(analysis, code.first, code.last):
            found.append(_Age(code.first, code.last, code.value or 0, False))
    for number in analysis.of("number", "ordinal"):
        found.extend(_age_at(analysis, number))
    for year in analysis.of("year"):
        born = _born_in(analysis, year)
        if born is not None:
            found.append(born)
    added: list[Hit] = []
    claimed: set[int] = set()
    for age in sorted(found):
        first, last, years = age.first, age.last, age.years
        if first in claimed or not 0 <= years <= MAX_AGE_YEARS:
            continue
        if age.needs_binding and not _bound(analysis, first, last):
            continue
        claimed.update(range(first, last + 1))
        start, end = tokens[first].start, tokens[last].end
        words = " ".join(tok.form for tok in tokens[first : last + 1])
        category = age.category
        if years >= ADULT_AGE_YEARS and category != CEILING:
            category = "adult"
        added.append(Hit(category, words, start, end, first, last, value=years))
    return added


#: Words next to `10m` that make it a length, a count or a time, not an age and a
#: sex (`a 10m tall statue`, `5m views`, `the 10m dash`, `height 10m`).
_MEASURES_NEXT_TO_TAG = frozenset(
    {"tall", "high", "long", "wide", "deep", "away", "across", "above", "below",
     "views", "followers", "subscribers", "likes", "years", "people", "users",
     "dollars", "euros", "budget", "dash", "sprint", "race", "run", "dive",
     "drop", "fall", "height", "length", "width", "depth", "distance", "size",
     "x", "by", "times", "from"}
)  # fmt: skip


#: Labels a tag may follow as the value of a key (`image: (10F)`, `tags: 13m`).
_TAG_LABELS = frozenset(
    {"image", "subject", "age", "character", "tags", "tag", "poster", "me", "i", "im"}
)
#: `1F` is "F1" (the race) typed backwards more often than a one-year-old.
MIN_TAG_AGE_YEARS = 2


def _tag_reads(analysis: Analysis, tag: Hit) -> bool:
    """A tag such as `13m` or `11f` reads as an age right next to a person or
    sexual term (`13m nude pic`, `nsfw 11f`), or as a phrase of its own in a
    field with one (`(10F), nudist`); not as a length, a floor or a time (`a
    13m yacht`, `the 5F lobby`, `ran the 10m`). Adult tags are read for `f` only
    (`28F` is a woman; `18m` after a baby word is eighteen months)."""
    tokens = analysis.tokens
    seg = tokens[tag.first].segment
    beside = [
        index
        for index in (tag.first - 1, tag.last + 1)
        if 0 <= index < len(tokens) and tokens[index].segment == seg
    ]
    if any(tokens[index].form in _MEASURES_NEXT_TO_TAG for index in beside):
        return False
    beside = [index for index in beside if tokens[index].form not in _TAG_LABELS]
    if not beside:  # a phrase of its own, or after a label (`subject: 13m`)
        return any(
            hit.category in _BESIDE_TAG for hit in analysis.hits if hit is not tag
        )
    return any(
        hit.category in _BESIDE_TAG
        for index in beside
        for hit in (*analysis.at.get(index, ()), *analysis.ending.get(index, ()))
    )


class _Age(t.NamedTuple):
    first: int
    last: int
    years: int
    needs_binding: bool
    category: str = "age"


def _age_at(analysis: Analysis, number: Hit) -> list[_Age]:
    tokens = analysis.tokens
    seg = tokens[number.first].segment
    if number.category == "number" and tokens[number.first].form.isalpha():
        if _compound_number(analysis, number.first - 1, number) is not None:
            return []  # `five` of `fifty-five`: read with its tens
        units = _compound_number(analysis, number.first, None)
        if units is not None:
            number = dataclasses.replace(
                number,
                last=units.last,
                end=units.end,
                value=(number.value or 0) + (units.value or 0),
            )
    value = number.value or 0
    out: list[_Age] = []
    if number.category == "number":
        ceiling = _ceiling(analysis, number)
        if ceiling is not None:
            return [ceiling]
        approximate = _approximate(analysis, number)
        if approximate is not None:
            out.append(approximate)
        at = number.last + 1
        if tuple(tok.form for tok in tokens[at : at + 3]) == _AND_A_HALF:
            at += 3  # `3 and a half years old`
        found = _unit_at(analysis, at, seg)
        years, last = value, number.last
        if found is not None:
            unit, last = found
            years = value // unit.value if unit.value else value
            out.append(_Age(number.first, last, years, True))
        prefix = analysis.find_before(
            number.first - 1, number.first - 2, seg, {"age_prefix"}
        )
        if prefix is not None:
            # `aged 120 months` is ten: the unit counts with the prefix too
            out.append(_Age(prefix.first, last, years, True))
    grade = analysis.find(number.last + 1, number.last + 1, seg, {"grade"})
    if grade is not None:
        out.append(_grade(number.first, grade.last, value))
    if number.category == "ordinal":
        in_year = _in_her_year(analysis, number)
        if in_year is not None:
            out.append(in_year)
    grade = analysis.find_before(number.first - 1, number.first - 1, seg, {"grade"})
    if grade is not None and _grade_reads(analysis, grade, number):
        # `value=N` on a stage's grade word counts from that stage: 中1 is grade 7
        out.append(_grade(grade.first, number.last, value + (grade.value or 0)))
    if not out and number.category == "number":
        school_year = _school_year(analysis, number)
        if school_year is not None:
            out.append(school_year)
    if (
        not out
        and number.category == "number"
        and (tokens[number.first].form.isdecimal() or value >= MIN_BARE_WORD_AGE)
    ):
        bare = _bare_age(analysis, number)
        if bare:
            out.append(_Age(number.first, number.last, value, False))
    if not out and number.category == "number":
        stated = _stated_age(analysis, number)
        if stated is not None:
            between = {tok.form for tok in tokens[stated : number.first]}
            if "year" in between and value <= UK_LAST_SCHOOL_YEAR:
                # `she's in year 8`: an English school year (year 1 is age 5-6)
                value = min(value + UK_YEAR_TO_AGE, ADULT_AGE_YEARS - 1)
            out.append(_Age(stated, number.last, value, False))
    return out


def _compound_number(analysis: Analysis, tens_at: int, units: Hit | None) -> Hit | None:
    """The units word of a number word such as `fifty-five` or `twenty one`:
    with `units` given, whether the word at `tens_at` is its tens (returns it);
    without, the units word right after the tens word at `tens_at`."""
    tokens = analysis.tokens
    if tens_at < 0:
        return None
    first = next(
        (h for h in analysis.ending.get(tens_at, ()) if h.category == "number"), None
    )
    second = units or next(
        (h for h in analysis.at.get(tens_at + 1, ()) if h.category == "number"), None
    )
    if first is None or second is None:
        return None
    if not (
        tokens[first.last].form.isalpha()
        and tokens[second.first].form.isalpha()
        and tokens[first.last].segment == tokens[second.first].segment
        and tokens[second.first].start - tokens[first.last].end <= 1
        and (first.value or 0) in _TENS
        and 1 <= (second.value or 0) <= 9
    ):
        return None
    return first if units is not None else second


_TENS = frozenset(range(20, 100, 10))


#: `older than 12`, `over 12 years old`: an age as a bound, category `age_ceiling`
#: (the filter reads one in the negative prompt: everyone older is banned).
CEILING = "age_ceiling"
_CEILING_WORDS = (("older", "than"), ("over",), ("above",), ("aged", "over"))


def _ceiling(analysis: Analysis, number: Hit) -> _Age | None:
    seg = analysis.tokens[number.first].segment
    before = _words_before(analysis, number.first, _CEILING_WORDS)
    if before is None:
        return None
    found = _unit_at(analysis, number.last + 1, seg)
    last = found[1] if found is not None else number.last
    return _Age(before[0], last, number.value or 0, False, CEILING)


def _words_before(
    analysis: Analysis, index: int, options: t.Sequence[tuple[str, ...]]
) -> tuple[int, int] | None:
    """Where the first of `options` (word sequences) typed right before token
    `index`, in its phrase, starts, and which option it is."""
    tokens = analysis.tokens
    seg = tokens[index].segment
    for which, words in enumerate(options):
        start = index - len(words)
        if start < 0 or any(tokens[i].segment != seg for i in range(start, index)):
            continue
        if tuple(tok.form for tok in tokens[start:index]) == words:
            return start, which
    return None


def _unit_at(analysis: Analysis, index: int, seg: int) -> tuple[Hit, int] | None:
    """The age unit at token `index` and where it ends, with an `old` after it
    (`years old`)."""
    unit = analysis.find(index, index, seg, {"age_unit"})
    if unit is None:
        return None
    old = analysis.find(unit.last + 1, unit.last + 1, seg, {"age_old"})
    return unit, old.last if old is not None else unit.last


#: `girl under 10`, `boy about 9`, `nearly ten years old`: an age given as a
#: bound or a guess. Below-words give the oldest age left (`under 10` is 9);
#: both need a person word in reach, and the number must end its phrase or be
#: followed by an age unit or a sexual term ("nude, under 10 minutes" is no age).
_BELOW_WORDS = (
    ("under",), ("below",), ("younger", "than"), ("less", "than"), ("not", "yet"),
    ("aged", "under"), ("age", "under"), ("just", "under"),
)  # fmt: skip
_ABOUT_WORDS = (
    ("about",), ("around",), ("approximately",), ("approx",), ("roughly",),
    ("almost",), ("nearly",), ("circa",), ("aged", "about"), ("aged", "around"),
)  # fmt: skip
_BOUND_WORDS = _BELOW_WORDS + _ABOUT_WORDS


def _approximate(analysis: Analysis, number: Hit) -> _Age | None:
    tokens = analysis.tokens
    seg = tokens[number.first].segment
    before = _words_before(analysis, number.first, _BOUND_WORDS)
    if before is None:
        return None
    start = before[0]
    offset = 1 if before[1] < len(_BELOW_WORDS) else 0
    last = number.last
    found = _unit_at(analysis, last + 1, seg)
    if found is not None:
        if found[0].value not in (None, 1):
            return None  # `under 6 months`: an infant either way, left to the unit
        last = found[1]
    elif last + 1 < len(tokens) and tokens[last + 1].segment == seg:
        if not _context_after(analysis, last + 1, seg):
            return None
    person = _nearest(analysis, start, last, PERSONS)
    thing = _nearest(analysis, start, last, {"object"})
    if person is None or (thing is not None and thing < person):
        return None
    years = max((number.value or 0) - offset, 0)
    if offset and years >= ADULT_AGE_YEARS:
        return None  # `under 30` takes in minors and adults alike
    return _Age(start, last, years, False)


#: `in her tenth year`: one's Nth year is age N-1. Read only where the phrase
#: ends, or goes on with "of life" or a sexual term ("in her tenth year at the
#: firm" is a career).
_IN_YEAR_PRONOUNS = frozenset({"her", "his", "their"})
_OF_LIFE = ("of", "life")


def _in_her_year(analysis: Analysis, ordinal: Hit) -> _Age | None:
    tokens = analysis.tokens
    seg = tokens[ordinal.first].segment
    start = ordinal.first - 2
    if start < 0 or any(tokens[i].segment != seg for i in (start, start + 1)):
        return None
    if tokens[start].form != "in" or tokens[start + 1].form not in _IN_YEAR_PRONOUNS:
        return None
    unit = analysis.find(ordinal.last + 1, ordinal.last + 1, seg, {"age_unit"})
    if unit is None or unit.value not in (None, 1) or unit.first != unit.last:
        return None
    last = unit.last
    following = last + 1
    forms = tuple(tok.form for tok in tokens[following : following + 2])
    if forms == _OF_LIFE and tokens[following + 1].segment == seg:
        last = following + 1
    elif following < len(tokens) and tokens[following].segment == seg:
        if not _context_after(analysis, following, seg):
            return None
    return _Age(start, last, (ordinal.value or 1) - 1, False)


#: English school years (`she's in year 8`): year N is ages N+4 to N+5; year 13
#: is the last. Only read after a person and a copula ("a year 1 medical student"
#: is not a pupil).
UK_YEAR_TO_AGE = 4
UK_LAST_SCHOOL_YEAR = 13


#: School years named by a word and a number, and the age of year 1: English
#: and Australian `Year 4` (8-9), Indian `Class 4` and Kenyan `Standard 4`
#: (9-10), Scottish `Primary 5` (9).
_SCHOOL_YEAR_WORDS = {"year": UK_YEAR_TO_AGE, "yr": UK_YEAR_TO_AGE,
                      "class": 5, "standard": 5, "std": 5, "primary": 4}  # fmt: skip
#: A school year leaves the age in question from 17 (Year 13 may be 18): a teen.
FIRST_TEEN_AGE_YEARS = 17
_PUPIL_AFTER_YEAR = frozenset({"minor", "ambiguous_person", "teen"})


def _school_year(analysis: Analysis, number: Hit) -> _Age | None:
    """`in year 4`, `a Year 6 pupil`, `Class 4 student`: a school year, read
    after "in" or before a pupil, child, girl or boy word ("year 2 of the
    war", "class 4 rapids" are not ages)."""
    tokens = analysis.tokens
    seg = tokens[number.first].segment
    value = number.value or 0
    word = number.first - 1
    if word < 0 or tokens[word].segment != seg or not 1 <= value <= UK_LAST_SCHOOL_YEAR:
        return None
    offset = _SCHOOL_YEAR_WORDS.get(tokens[word].form)
    if offset is None:
        return None
    following = number.last + 1
    if following < len(tokens) and tokens[following].form == "of":
        return None  # `in year 3 of my PhD`, `year 2 of the war`
    if not _pupil_of(analysis, word, number.last):
        return None
    if any(
        h.category == "adult" and tokens[h.first].segment == seg for h in analysis.hits
    ):
        return None  # `a year 2 medical student`
    years = min(value + offset, ADULT_AGE_YEARS - 1)
    category = "teen" if years >= FIRST_TEEN_AGE_YEARS else "age"
    return _Age(word, number.last, years, False, category)


def _pupil_of(analysis: Analysis, first: int, last: int) -> bool:
    """Whether the school year at tokens [first, last] is said of someone: "in"
    before it, or a pupil, child, girl or boy word right after (`in year 4`,
    `a P5 pupil`, `CE1 girl`)."""
    tokens = analysis.tokens
    seg = tokens[first].segment
    before = first - 1
    if before >= 0 and tokens[before].segment == seg and tokens[before].form == "in":
        return True
    if last + 1 >= len(tokens) or tokens[last + 1].segment != seg:
        return False
    return any(
        h.category in _PUPIL_AFTER_YEAR
        or (h.category == "person" and h.term in LEARNER_TERMS)
        for h in analysis.at.get(last + 1, ())
    )


#: Words between a copula and the number: `she is only 10`, `she's in year 8`.
STATED_AGE_GAP_TOKENS = 2
#: Words from the person to the copula: `the girl in the photo is 9` (4).
PERSON_BEFORE_COPULA_TOKENS = 4


def _stated_age(analysis: Analysis, number: Hit) -> int | None:
    """`she is 11`, `the boy is 8`, `subject is 10`, `she just turned 13`: a person
    word, a copula (`copula`: is, was, turned) and the number, in one phrase, with
    at most `STATED_AGE_GAP_TOKENS` fillers between; the number ends its phrase or
    is followed by a sexual or nudity term (`is 5 feet tall` is not an age).
    Returns the index of the person word."""
    tokens = analysis.tokens
    seg = tokens[number.first].segment
    following = number.last + 1
    if (
        following < len(tokens)
        and not analysis.at.get(following)
        and tokens[following].form in _PASSED_AFTER_AGE
    ):
        following += 1  # one word such as "and" or "years" ("is 11 and nude")
    if (
        following < len(tokens)
        and tokens[following].segment == seg
        and not _time_after(tokens, number.last + 1, seg)
        and not _sentence_ends(tokens, number.last, following)
    ):
        if not _context_after(analysis, following, seg):
            return None
    speaker = _speaker_before(tokens, number.first, seg)
    if speaker is not None:
        return speaker
    copula = analysis.find_before(
        number.first - 1, number.first - 1 - STATED_AGE_GAP_TOKENS, seg, {"copula"}
    )
    if copula is None:
        # `she's 11`, `she's in year 8`: the copula is glued to the person word
        for index in range(
            number.first - 1, number.first - 2 - STATED_AGE_GAP_TOKENS, -1
        ):
            if index < 0 or tokens[index].segment != seg:
                return None
            token = tokens[index]
            if (
                token.key is not None
                and token.form == token.key + "s"
                and any(h.category in PERSONS for h in _hits_ending_at(analysis, index))
            ):
                return index
        return None
    for index in range(
        copula.first - 1, max(copula.first - 1 - PERSON_BEFORE_COPULA_TOKENS, -1), -1
    ):
        person = any(h.category in PERSONS for h in _hits_ending_at(analysis, index))
        if tokens[index].segment != seg:
            # `girl, turning 10`: the copula opens the phrase after the person's
            if index == copula.first - 1 and person:
                return index
            break
        if person:
            return index
    return None


#: `I am 12`, `we're 14`, `ur 13`: a pronoun and its copula (typed apart, or
#: glued with the apostrophe dropped) opening a phrase, then the number, with
#: at most one of `_SPEAKER_FILLERS` between.
_SPEAKER_COPULAS = (
    ("i", "am"), ("we", "are"), ("you", "are"), ("they", "are"), ("u", "are"),
    ("u", "r"), ("we", "re"), ("you", "re"), ("they", "re"), ("i", "m"),
    ("im",), ("youre",), ("theyre",), ("ur",),
)  # fmt: skip
# (`were` without its apostrophe is left out: "were 5 nude paintings sold?")
_SPEAKER_FILLERS = frozenset({"only", "just", "now", "barely", "both", "all"})


def _speaker_before(tokens: t.Sequence[t.Any], number: int, seg: int) -> int | None:
    """Where `I am` / `we're` / `ur` begins, if it opens the phrase of number
    token `number` and stands right before it (`we're 14`; not "the pics were
    12")."""
    end = number
    if end > 0 and tokens[end - 1].form in _SPEAKER_FILLERS:
        end -= 1
    for words in _SPEAKER_COPULAS:
        start = end - len(words)
        if start < 0 or (start > 0 and tokens[start - 1].segment == seg):
            continue
        if all(tokens[start + k].segment == seg for k in range(len(words))) and (
            tuple(tok.form for tok in tokens[start:end]) == words
        ):
            return start
    return None


#: Words of time after a stated age that keep it an age: `she is 12 next month`,
#: `will be 10 in the spring` (`is 5 feet tall` is not an age).
_TIME_AFTER_AGE = frozenset(
    {"next", "this", "last", "soon", "tomorrow", "today", "yesterday", "now",
     "already", "recently"}
)  # fmt: skip
_SEASONS = frozenset({"spring", "summer", "autumn", "fall", "winter"})
_PICTURE_WORDS = frozenset(
    {"photo", "photos", "picture", "pictures", "pic", "pics", "image", "images",
     "selfie", "video", "shot", "snapshot", "screenshot"}
)  # fmt: skip


def _time_after(tokens: t.Sequence[t.Any], index: int, seg: int) -> bool:
    if index >= len(tokens) or tokens[index].segment != seg:
        return False
    if tokens[index].form in _TIME_AFTER_AGE:
        return True
    words = [tok.form for tok in tokens[index : index + 3] if tok.segment == seg]
    if words[:1] != ["in"]:
        return False
    # `will be 10 in the spring`; `he's 7 in this photo`: the age the picture shows
    return bool((_SEASONS | _PICTURE_WORDS) & set(words[1:]))


#: Words between "born" and the year: "born in 2016", "born on 3 May 2016" is
#: not read (a date), "born 2016" is; "year of birth 2016", "dob 2016",
#: Indonesian "lahir tahun 2016" too.
BORN_REACH_TOKENS = 2
_BORN_FORMS = frozenset(
    {
        "born",
        "birth",
        "birthyear",
        "dob",
        "geboren",
        "nacido",
        "nacida",
        "nee",
        "ne",
        "nata",
        "nato",
        "lahir",
        "kelahiran",
    }
)


#: `class of 2035`: the year a pupil leaves school, at the age of majority (US
#: high school; a university class leaves later, so this reads the younger age).
SCHOOL_LEAVING_AGE_YEARS = ADULT_AGE_YEARS


def _born_in(analysis: Analysis, year: Hit) -> _Age | None:
    """`born in 2016`: the age this year (the clock of the machine that checks);
    `class of 2035`: the age of a pupil who leaves school that year."""
    tokens = analysis.tokens
    seg = tokens[year.first].segment
    if (
        year.first >= 2
        and tokens[year.first - 2].form == "class"
        and tokens[year.first - 1].form == "of"
        and tokens[year.first - 2].segment == seg
    ):
        years = SCHOOL_LEAVING_AGE_YEARS - ((year.value or 0) - dt.date.today().year)
        return _Age(year.first - 2, year.last, years, True) if years >= 0 else None
    for index in range(year.first - 1, max(year.first - 1 - BORN_REACH_TOKENS, -1), -1):
        if tokens[index].segment != seg:
            return None
        if tokens[index].form in _BORN_FORMS:
            years = dt.date.today().year - (year.value or 0)
            return _Age(index, year.last, years, True) if years >= 0 else None
    return None


def _grade_reads(analysis: Analysis, grade: Hit, number: Hit) -> bool:
    """A one-letter grade word (Japanese 小5, Korean 중1) only typed right
    against its number: Korean `3명 중 1명` is "one of three"."""
    tokens = analysis.tokens
    if len(tokens[grade.last].form) > 1:
        return True
    return tokens[grade.last].end == tokens[number.first].start


def _grade(first: int, last: int, grade: int) -> _Age:
    # A grade is a school year: the person is a pupil, no binding needed. From
    # grade 9 the pupil may be 18, so the age is in question: a teen.
    category = "teen" if grade >= FIRST_TEEN_GRADE else "age"
    years = min(grade + GRADE_TO_AGE_YEARS, ADULT_AGE_YEARS - 1)
    return _Age(first, last, years, False, category)


#: What may follow a bare number in its phrase for it still to read as an age:
#: `girl 12 nude`, `teen 15 topless`. Nothing benign says "<person> <number> nude".
_AFTER_BARE_AGE = frozenset(
    {"nudity", "sexual", "clothing_removal", "sexualised_clothing", "underwear",
     "nudify"}
)  # fmt: skip
#: Person words that name a pupil: next to a school level in its own tag they
#: are that school's pupils (`nude student, primary school`), and after a
#: school year its pupil (`a Year 6 pupil`); other person words are not
#: (`model, elementary school` may be a teacher's portrait).
LEARNER_TERMS = frozenset(
    {"student", "students", "pupil", "pupils", "classmate", "classmates"}
)
#: What a tag age needs in its phrase (`_tag_reads`).
_BESIDE_TAG = PERSONS | _AFTER_BARE_AGE


#: What a bare age is worn in, after up to `WORN_REACH_TOKENS` of these words:
#: `girl about 8 in a swimsuit`, `she is 11 wearing only a towel`.
_PASSED_BEFORE_WORN = frozenset(
    {"in", "a", "an", "the", "her", "his", "their", "wearing", "only", "just",
     "with", "all"}
)  # fmt: skip
WORN_REACH_TOKENS = 3
_WORN_AFTER_BARE_AGE = _AFTER_BARE_AGE | {"exposure"}
_TAKEN_OFF = frozenset({"clothing", "clothing_all", "underwear"})


def _context_after(analysis: Analysis, index: int, seg: int) -> bool:
    """Whether a bare age ending before token `index` is followed by sexual
    content, or by exposure after words such as "in a" ("girl, 8, nude"; "girl
    about 8 in a swimsuit"; not "girl about 8 in the morning")."""
    tokens = analysis.tokens
    if any(h.category in _AFTER_BARE_AGE for h in analysis.at.get(index, ())):
        return True
    for k in range(index, min(index + WORN_REACH_TOKENS + 1, len(tokens))):
        if tokens[k].segment != seg:
            return False
        for hit in analysis.at.get(k, ()):
            if hit.category in _WORN_AFTER_BARE_AGE:
                return True
            if hit.category in _TAKEN_OFF and analysis.find(
                hit.last + 1, hit.last + 1, seg, {"removal_after"}
            ):
                return True  # `girl 10 with her top off`
        if tokens[k].form not in _PASSED_BEFORE_WORN:
            return False
    return False


_AND_A_HALF = ("and", "a", "half")
#: `girl, eight`: a number word read as a bare age from two (`girl, one` is
#: more often a count or a name than an age).
MIN_BARE_WORD_AGE = 2
#: `girl, 12-ish`: the suffix of an approximate number, read past.
_APPROXIMATE_SUFFIX = "ish"


def _bare_age(analysis: Analysis, number: Hit) -> bool:
    """`girl, 12` or `girl 12` at the end of a phrase, or `girl 12 nude`: a bare
    number right after a person word (or after the person and `of`: `girl of 8`),
    followed in its phrase by nothing, or (person word in the same phrase) by a
    sexual or nudity term."""
    tokens = analysis.tokens
    index = number.first
    following = index + 1
    before = index - 1
    if before < 0:
        return False
    if (
        tokens[before].form == "of"
        and before > 0
        and tokens[before].segment == tokens[index].segment
    ):
        before -= 1  # `a girl of 8`; `a mom of two` is a count
        if any(h.category == "adult" for h in _hits_ending_at(analysis, before)):
            return False
    if tuple(tok.form for tok in tokens[following : following + 3]) == _AND_A_HALF:
        following += 3  # `girl, 11 and a half`
    elif (
        following < len(tokens)
        and tokens[following].form == _APPROXIMATE_SUFFIX
        and tokens[following].start == tokens[index].end + 1
    ):
        following += 1  # `girl, 12-ish`
    if (
        following < len(tokens)
        and tokens[following].segment == tokens[index].segment
        and not _sentence_ends(tokens, index, following)
    ):
        if not _context_after(analysis, following, tokens[index].segment):
            return False
        if tokens[before].segment != tokens[index].segment:
            return False  # `2 girls, 1 nude`: a count, not an age
    return any(h.category in PERSONS for h in _hits_ending_at(analysis, before))


#: A number and the next word with this many characters between them in one
#: phrase: the tokeniser keeps `4. Klasse` (a German or Turkish ordinal) in one
#: phrase, so `girl, 10. remove clothing` has the dot and a space there.
_DOT_GAP_CHARS = 2


def _sentence_ends(tokens: t.Sequence[t.Any], number: int, following: int) -> bool:
    """Whether a sentence ends at the dot after number token `number` (`she is
    10. undress her`): an age read at the end of its phrase, since the ordinal
    readings (`10. Klasse`, `10. Lebensjahr`) were tried first."""
    return (
        following == number + 1
        and tokens[number].form.isdecimal()
        and tokens[following].start - tokens[number].end == _DOT_GAP_CHARS
    )


def _hits_ending_at(analysis: Analysis, index: int) -> list[Hit]:
    return analysis.ending.get(index, [])


def _bound(analysis: Analysis, first: int, last: int) -> bool:
    """A person word within AGE_BIND_TOKENS of the age, nearer than any object."""
    person = _nearest(analysis, first, last, PERSONS)
    thing = _nearest(analysis, first, last, {"object"})
    if person is not None:
        return thing is None or person <= thing
    return thing is None


def _nearest(
    analysis: Analysis, first: int, last: int, categories: t.Container[str]
) -> int | None:
    """Distance in words to the nearest hit of `categories` outside [first, last]
    (at most AGE_BIND_TOKENS; only the words in reach are looked at)."""
    for distance in range(1, AGE_BIND_TOKENS + 1):
        after = analysis.at.get(last + distance, ())
        before = analysis.ending.get(first - distance, ())
        if any(h.category in categories for h in (*after, *before)):
            return distance
    return None


#: Words passed over after a stated age on the way to what follows it ("she is 11
#: and nude", "is 9 years, nude"); any other word ends the reading ("turning 5
#: pages" is not an age).
_PASSED_AFTER_AGE = frozenset(
    {"and", "&", "n", "years", "year", "yrs", "yr", "y", "yo", "only", "just", "now"}
)
