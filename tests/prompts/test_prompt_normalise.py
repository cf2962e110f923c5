from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.prompts.lexicon import builtin
from vigil.prompts.normalise import (
    ASCII_TOKEN_RE,
    TOKEN_RE,
    fold_char,
    fold_text,
    latin_lookalike,
    leet_forms,
    tokenise,
    wildcard_forms,
)


def forms(text: str) -> list[tuple[str, str | None]]:
    return [(tok.form, tok.key) for tok in tokenise(text, builtin().resolve)]


def test_fold_char_examples() -> None:
    assert fold_char("Ｎ") == "n"  # fullwidth
    assert fold_char("𝐧") == "n"  # mathematical bold
    assert fold_char("ɴ") == "n"  # small capital
    assert fold_char("ñ") == "n"
    assert fold_char("ł") == "l"
    assert fold_char("\u200b") == ""  # zero-width space
    assert fold_char("\u0336") == ""  # combining long stroke
    assert fold_char("ß") == "ss"
    assert fold_char("е") == "е"  # Cyrillic stays Cyrillic: Russian is a language


def test_fold_text_maps_back_to_original_indices() -> None:
    text = "Ｎu\u200bdé"
    folded, where = fold_text(text)
    assert folded == "nude"
    assert where == [0, 1, 3, 4]
    assert fold_text("plain ascii") == ("plain ascii", None)


def test_alternative_readings() -> None:
    assert latin_lookalike("nudе") == "nude"  # Cyrillic е
    assert "naked" in leet_forms("n4k3d")
    assert leet_forms("naked") == ()
    assert "sex" in wildcard_forms("s*x")


def test_tokens_keep_spans_in_the_original() -> None:
    text = "ＮＵＤＥ c h i l d"
    tokens = tokenise(text, builtin().resolve)
    assert [(tok.key, text[tok.start : tok.end]) for tok in tokens] == [
        ("nude", "ＮＵＤＥ"),
        ("child", "c h i l d"),
    ]


def test_joined_and_split_words() -> None:
    assert forms("n.u.d.e") == [("nude", "nude")]
    assert forms("nine-year-old") == [("nineyearold", "#age=9")]
    assert forms("ages 8-12")[1:] == [("8", "#num=8"), ("12", "#num=12")]


def test_segments_count_phrase_boundaries() -> None:
    tokens = tokenise("little girl, nude. BREAK", builtin().resolve)
    assert [tok.segment for tok in tokens] == [0, 0, 1, 2]


TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80
)


@given(TEXT)
def test_fold_is_idempotent(text: str) -> None:
    once = fold_text(text)[0]
    assert fold_text(once)[0] == once


@given(TEXT)
def test_fold_map_is_monotonic_and_in_range(text: str) -> None:
    folded, where = fold_text(text)
    if where is None:
        assert folded == text.lower()
        return
    assert len(where) == len(folded)
    assert where == sorted(where)
    assert all(0 <= i < len(text) for i in where)


WORDY = st.lists(
    st.sampled_from(
        ["nude", "child", "n u d e", "ｋｉｄ", "сhild", "n4ked", "9yo", "(girl:1.2)",
         ",", " ", "x", "\u200b", "é", "BREAK", "12 year old", "y/o", "1girl"]
    ),
    max_size=12,
).map("".join)  # fmt: skip


@given(st.one_of(TEXT, WORDY))
def test_token_spans_lie_in_the_text_in_order(text: str) -> None:
    tokens = tokenise(text, builtin().resolve)
    starts = [tok.start for tok in tokens]
    assert starts == sorted(starts)
    for tok in tokens:
        assert 0 <= tok.start < tok.end <= len(text)


@settings(max_examples=2000, deadline=None)
@given(
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=40)
    | st.lists(
        st.sampled_from(list("aX9 @$!|.-_'*~/,;:()#") + ["nude", "Kid", "a.b"]),
        max_size=20,
    ).map("".join)
)
def test_the_ascii_word_pattern_finds_the_words_the_full_one_does(text: str) -> None:
    assert [m.span() for m in ASCII_TOKEN_RE.finditer(text)] == [
        m.span() for m in TOKEN_RE.finditer(text)
    ]
