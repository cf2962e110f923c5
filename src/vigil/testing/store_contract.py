"""The Store contract: what every store implementation must answer the same way.

    from vigil.testing import check_store
    check_store(open_store("sqlite://"))

It writes one small synthetic scan (benign made-up hashes, no image bytes) into an
empty store and reads it back through every part of the repository API.
"""

import typing as t

from vigil.detection.score import Score
from vigil.hashing.base import HashResult
from vigil.matching.base import HashEntry
from vigil.media.errors import ErrorRecord
from vigil.pipeline.records import FileOutcome, ItemObservation
from vigil.pipeline.stage import StageResult
from vigil.pipeline.stages.image_hash import ImageFacts
from vigil.pipeline.stages.provenance import ProvenanceResult
from vigil.provenance.base import Evidence, EvidenceKind, GenerationRecord, Strength
from vigil.store.base import Store
from vigil.store.records import ItemQuery, ScanStatus

_PDQ = "f" * 32 + "0" * 32  # made-up values of each shape
_A, _B = "a" * 64, "b" * 64
_AI = Evidence(
    EvidenceKind.AI_GENERATED,
    "png:parameters",
    Strength.STRONG,
    "A1111 parameters",
    extractor="a1111",
)
_RECORD = GenerationRecord(tool="AUTOMATIC1111", source="png:parameters", seed=7)
_SCORE = Score("prompt_risk", 0.25, "allow", "prompt_filter", reasons=("no trigger",))


def _observation(sha256: str, member_path: str, *, ai: bool) -> ItemObservation:
    pdq = HashResult("pdq", _PDQ, "vigil-pdq512/1", 80)
    results: list[StageResult] = [
        ImageFacts(width=4, height=3, frame_count=1, hashes=(pdq,))
    ]
    if ai:
        results.append(ProvenanceResult(evidence=(_AI,), generation=_RECORD))
        results.append(StageResult(scores=(_SCORE,)))
    return ItemObservation(
        member_path=member_path,
        size=10,
        mtime=None,
        sha256=sha256,
        kind="png",
        digests=(HashResult("sha256", sha256, "sha256"),),
        results=tuple(results),
    )


def _fail(message: str) -> AssertionError:
    return AssertionError(f"store contract: {message}")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise _fail(message)


def check_store(store: Store) -> None:
    """Raise AssertionError at the first answer that breaks the contract. The store
    must be empty."""
    _check(store.list_scans() == [], "a new store lists no scans")
    _check(isinstance(store.location, str) and bool(store.location), "location")
    scan_id = store.create_scan("key", ["/root"], {"options": None}, "test")
    _check(store.find_resumable_scan("key") is not None, "a running scan resumes")
    _check(store.finished_paths(scan_id) == set(), "nothing journaled yet")

    store.record_file(
        scan_id, FileOutcome("/root/a.png", (_observation(_A, "", ai=True),), (), 10)
    )
    error = ErrorRecord("../escape.png", "path_traversal", "refused")
    inner = (
        _observation(_B, "x/b.png", ai=False),
        _observation(_A, "x/a.png", ai=True),
    )
    store.record_file(scan_id, FileOutcome("/root/c.zip", inner, (error,), 30))
    _check(
        store.finished_paths(scan_id) == {"/root/a.png", "/root/c.zip"},
        "both files journaled",
    )
    store.end_run(scan_id, status=ScanStatus.FINISHED, elapsed_seconds=2.0)
    info = store.get_scan(scan_id)
    _check(info is not None and info.status == ScanStatus.FINISHED, "scan finished")
    _check(store.find_resumable_scan("key") is None, "a finished scan never resumes")

    summary = store.summary(scan_id)
    counts = (summary.files, summary.items, summary.locations, summary.duplicates)
    _check(counts == (2, 2, 3, 1), f"files, items, locations, duplicates: {counts}")
    _check(summary.errors_by_reason == {"path_traversal": 1}, "errors by reason")
    _check(summary.provenance.ai_items == 1, "one item with AI evidence")
    _check(
        summary.provenance.prompts_by_decision == {"allow": 1},
        f"prompt decisions from scores: {summary.provenance.prompts_by_decision}",
    )

    everything = list(store.iter_items(ItemQuery(scan_id=scan_id, limit=1)))
    _check([i.sha256 for i in everything] == [_A, _B], "items page by page, by id")
    first = everything[0]
    _check(
        [p.label for p in first.locations] == ["/root/a.png", "/root/c.zip!/x/a.png"],
        f"locations of an item seen twice: {[p.label for p in first.locations]}",
    )
    _check({h.hasher for h in first.hashes} == {"sha256", "pdq"}, "hashes are kept")
    _check(first.evidence == (_AI,), "evidence reads back as written")
    _check(first.generation == _RECORD, "the generation record reads back")
    _check(first.scores == (_SCORE,), f"scores read back: {first.scores}")
    _check((first.width, first.height) == (4, 3), "pixel size kept")
    ai_only = [i.sha256 for i in store.iter_items(ItemQuery(scan_id=scan_id, ai=True))]
    _check(ai_only == [_A], "the ai filter")
    _check(
        list(store.iter_items(ItemQuery(scan_id=scan_id, matched=True))) == [],
        "no matches yet",
    )
    _check(
        [e.reason for e in store.errors(scan_id)] == ["path_traversal"], "scan errors"
    )
    found = store.item(_B)
    _check(
        found is not None and found.locations[0].label == "/root/c.zip!/x/b.png",
        "item by sha256",
    )
    _check(store.item("c" * 64) is None, "an unknown item is None")

    store.hashlists.create("contract")
    store.hashlists.import_entries("contract", [HashEntry("sha256", _B, category="x")])
    matcher = store.matcher()
    hits = matcher.match([_query("sha256", _B)])
    _check([r.entry.value for r in hits] == [_B], "the matcher finds a listed hash")
    _check(store.quarantine_floods(scan_id, [hits[0].entry.id], 50) == [], "no flood")
    try:
        store.matcher(["no-such-list"])
    except LookupError:
        pass
    else:
        raise _fail("a missing list name raises LookupError")
    _check(
        store.link_models(scan_id) == 0 and store.model_links(scan_id) == [], "links"
    )


def _query(hasher: str, value: str) -> t.Any:
    from vigil.matching.matcher import Query

    return Query(hasher, value, hasher)
