import random

from vigil.matching.matcher import EntryRef, ListRef, Matcher, Query, Verdict

PIPE = "vigil-pdq512/1"


def flip(value: str, bits: int, seed: int = 0) -> str:
    """`value` with exactly `bits` distinct bits flipped."""
    number = int(value, 16)
    for bit in random.Random(seed).sample(range(256), bits):
        number ^= 1 << bit
    return f"{number:064x}"


BASE = f"{random.Random(1).getrandbits(256):064x}"
LISTS = [
    ListRef(1, "known", 3, {"pdq": 31}, "unknown"),
    ListRef(2, "strict", 1, {"pdq": 10}, "unknown"),
]


def make(suppressed: tuple[tuple[str, str], ...] = ()) -> Matcher:
    return Matcher(
        LISTS,
        [
            EntryRef(10, 1, "pdq", BASE, category="csam"),
            EntryRef(11, 2, "pdq", BASE),
            EntryRef(12, 1, "md5", "a" * 32),
            EntryRef(13, 1, "pdq", flip(BASE, 200, seed=9), is_quarantined=True),
        ],
        suppressed,
    )


def verdicts(matcher: Matcher, *queries: Query) -> dict[int, tuple[Verdict, int]]:
    return {r.entry.id: (r.verdict, r.distance) for r in matcher.match(queries)}


def test_threshold_and_near_review_band() -> None:
    matcher = make()
    assert verdicts(matcher, Query("pdq", flip(BASE, 31), PIPE)) == {
        10: (Verdict.MATCH, 31),
        11: (Verdict.NEAR_REVIEW, 31),
    }
    assert verdicts(matcher, Query("pdq", flip(BASE, 32), PIPE)) == {
        10: (Verdict.NEAR_REVIEW, 32),
        11: (Verdict.NEAR_REVIEW, 32),
    }
    assert verdicts(matcher, Query("pdq", flip(BASE, 52), PIPE)) == {
        10: (Verdict.NEAR_REVIEW, 52),
        11: (Verdict.NEAR_REVIEW, 52),
    }
    assert verdicts(matcher, Query("pdq", flip(BASE, 53), PIPE)) == {}


def test_exact_types_match_only_exactly() -> None:
    matcher = make()
    assert verdicts(matcher, Query("md5", "a" * 32, "md5")) == {12: (Verdict.MATCH, 0)}
    assert verdicts(matcher, Query("md5", "a" * 31 + "b", "md5")) == {}
    assert verdicts(matcher, Query("sha1", "a" * 40, "sha1")) == {}


def test_best_variant_is_kept_and_recorded() -> None:
    matcher = make()
    results = matcher.match(
        [
            Query("pdq", flip(BASE, 100), PIPE, "original"),
            Query("pdq", flip(BASE, 4), PIPE, "flip_x"),
        ]
    )
    best = {r.entry.id: r for r in results}
    assert best[10].query.variant == "flip_x" and best[10].distance == 4
    assert best[10].verdict is Verdict.MATCH and best[10].hash_list.version == 3


def test_suppressed_entries_and_items_never_match() -> None:
    matcher = make(suppressed=(("pdq", BASE),))
    assert verdicts(matcher, Query("pdq", BASE, PIPE)) == {}
    matcher = make(suppressed=(("md5", "b" * 32),))
    assert (
        verdicts(matcher, Query("md5", "b" * 32, "md5"), Query("pdq", BASE, PIPE)) == {}
    )


def test_quarantined_entries_are_held() -> None:
    matcher = make()
    near = flip(BASE, 200, seed=9)
    assert verdicts(matcher, Query("pdq", near, PIPE))[13] == (Verdict.HELD, 0)
    matcher.quarantine(10)
    assert verdicts(matcher, Query("pdq", BASE, PIPE))[10] == (Verdict.HELD, 0)


def test_video_digests_match_file_digests() -> None:
    matcher = Matcher(LISTS, [EntryRef(20, 1, "video_md5", "c" * 32)])
    assert verdicts(matcher, Query("md5", "c" * 32, "md5")) == {20: (Verdict.MATCH, 0)}


def test_variants_are_searched_for_matches_only() -> None:
    matcher = make()
    far = Query("pdq", flip(BASE, 40), PIPE, "rotate_90")
    assert verdicts(matcher, far) == {}  # 40 bits: near review for originals only
    assert verdicts(matcher, Query("pdq", flip(BASE, 40), PIPE))[10] == (
        Verdict.NEAR_REVIEW,
        40,
    )
