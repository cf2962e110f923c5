"""Names are untrusted bytes: stored losslessly, shown on one safe line."""

import os

from hypothesis import given
from hypothesis import strategies as st

from vigil.media.names import ESCAPE, display, from_text, to_text

#: Any text, including lone surrogates (undecodable bytes), NUL and the escape.
names = st.text(
    st.one_of(
        st.characters(),  # every code point Hypothesis draws, surrogates included
        st.sampled_from(["\udcff", "\udc80", "\x00", ESCAPE, "\n", "\x1b", "\ud800"]),
    )
)


@given(names)
def test_to_text_round_trips_and_is_storable(name: str) -> None:
    stored = to_text(name)
    assert from_text(stored) == name
    stored.encode("utf-8")  # valid UTF-8: no lone surrogates
    assert "\x00" not in stored


@given(names)
def test_display_is_one_printable_line(name: str) -> None:
    shown = display(name)
    assert "\n" not in shown and "\r" not in shown and "\x1b" not in shown
    shown.encode("utf-8")
    assert all(c.isprintable() or c == " " for c in shown)


def test_undecodable_bytes_show_as_hex_escapes() -> None:
    name = os.fsdecode(b"photo\xff\xfe.jpg")
    assert display(name) == "photo\\xff\\xfe.jpg"
    assert display("a\nfake line") == "a\\nfake line"
    assert display("\x1b[2Jcleared") == "\\x1b[2Jcleared"
    assert display("plain name.jpg") == "plain name.jpg"
