"""Consonant skeletons and Metaphone keys for minor and nudity words, and what
guards them: the exclusions, generated from dictionaries, and benign text."""

import importlib.util
import subprocess
import sys

import pytest

from paths import REPO
from vigil.prompts import Decision, PromptFilter
from vigil.prompts._sound_alike import keys, skeleton, sound
from vigil.prompts.lexicon import builtin


def resolve(form: str) -> tuple[str, ...] | None:
    return builtin().resolve(form)


def test_skeleton() -> None:
    assert skeleton("toddler") == "tdlr"
    assert skeleton("infant") == "infnt"
    assert skeleton("chld") == "chld"


def test_sound() -> None:
    assert sound("nyood") == sound("nude") == "nud"
    assert sound("seksy") == sound("sexy") == sound("sexee")
    assert sound("cheeld") == sound("child")
    assert sound("gurl") == sound("girl")


def test_short_words_get_no_keys() -> None:
    assert keys("kid") == (None, "kid", None)  # sound only: `kyd`
    # nude: skeleton `nd` and Metaphone `NT` are shared by too many words; its
    # sound form `nud` is specific enough
    assert keys("nude") == (None, "nud", None)


@pytest.mark.parametrize(
    ("typed", "word"),
    [
        ("chld", "child"),
        ("nkd", "naked"),
        ("tddlr", "toddler"),
        ("todlr", "toddler"),
        ("prtn", "preteen"),
        ("chyld", "child"),
        ("naykid", "naked"),
        ("infnt", "infant"),
        ("nyood", "nude"),
        ("cheeld", "child"),
        ("explct", "explicit"),
        ("lttl", "little"),
    ],
)
def test_sound_alikes_resolve(typed: str, word: str) -> None:
    assert resolve(typed) == (word,)


@pytest.mark.parametrize(
    "ordinary", ["knocked", "inked", "necked", "chilled", "aerial", "naked"]
)
def test_ordinary_words_are_not_sound_alikes(ordinary: str) -> None:
    resolved = resolve(ordinary)
    assert resolved is None or resolved == (ordinary,)


def test_sound_alikes_decide_like_the_word() -> None:
    prompt_filter = PromptFilter.default(semantic=False)
    assert prompt_filter.check("nkd chld").decision is Decision.BLOCK
    assert prompt_filter.check("a chyld flying a kite").decision is Decision.ALLOW
    assert prompt_filter.check("a knocked over vase, child's room").decision is (
        Decision.ALLOW
    )


@pytest.mark.skipif(
    importlib.util.find_spec("spellchecker") is None,
    reason="pyspellchecker (a development dependency) is not installed",
)
def test_exclusions_file_is_up_to_date() -> None:
    """Every dictionary word that shares a key with a minor or nudity word is in
    the shipped exclusions (regenerate with `make sound-alike-exclusions`)."""
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "sound_alike_exclusions.py"),
            "--check",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_arabic_words_with_attached_proclitics() -> None:
    lexicon = builtin()
    bare = [k for k in lexicon.singles if "\u0600" <= k[0] <= "\u06ff" and len(k) >= 3]
    if not bare:
        pytest.skip("no Arabic entries in the lexicon")
    word = bare[0]
    for proclitic in ("و", "ال", "وال", "بال"):
        assert lexicon.resolve(proclitic + word) == (word,)
