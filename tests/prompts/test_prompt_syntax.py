from hypothesis import given
from hypothesis import strategies as st

from vigil.prompts.syntax import mask


def test_weights_and_brackets_become_spaces() -> None:
    assert mask("(child:1.4), ((naked))").text == " child     ,   naked  "


def test_alternation_and_prompt_editing_become_phrase_breaks() -> None:
    assert mask("[a|b]").text == " a,b "
    assert mask("[kid:adult:0.5]").text == " kid,adult     "
    assert mask("{little|tiny} girl").text == " little,tiny  girl"


def test_break_and_novelai_weights() -> None:
    assert mask("girl BREAK nude").text == "girl ,     nude"
    assert mask("1.3::nude::, child").text == "     nude  , child"


def test_network_names_are_kept_and_recorded() -> None:
    text = "photo <lora:child_style_v2:0.8> <lyco:other:1>"
    masked = mask(text)
    assert "child_style_v2" in masked.text
    assert "lora" not in masked.text and "0.8" not in masked.text
    assert [(n.kind, n.name) for n in masked.networks] == [
        ("lora", "child_style_v2"),
        ("lyco", "other"),
    ]
    start, end = masked.networks[0].span
    assert text[start:end] == "child_style_v2"


def test_plain_colons_are_not_weights() -> None:
    assert mask("age: 9").text == "age: 9"


@given(st.text(max_size=200))
def test_mask_keeps_length(text: str) -> None:
    assert len(mask(text).text) == len(text)


@given(st.text(alphabet="()[]{}<>:|abc 0.5,BREAK", max_size=120))
def test_mask_keeps_length_on_markup(text: str) -> None:
    masked = mask(text)
    assert len(masked.text) == len(text)
    for network in masked.networks:
        assert 0 <= network.span[0] <= network.span[1] <= len(text)
