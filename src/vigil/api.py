"""The public library API: what the CLI does, for in-process use.

    import vigil

    with vigil.open_store() as store:                 # VIGIL_HOME's SQLite file
        summary = vigil.scan(["/evidence/case-17"], store=store)
        checker = vigil.Checker(store)                # matches against its lists
        result = checker.check_file("photo.jpg")      # nothing is stored
    verdict = vigil.check_prompt("a lighthouse at dusk")
    report = vigil.inspect_model("lora.safetensors")

A thin layer over the domains: the HTTP API (a later issue) adapts this module, as
the CLI adapts the same calls.
"""

import dataclasses
import os
import pathlib
import typing as t

from vigil.detection.score import Score
from vigil.matching.matcher import Matcher, MatchResult
from vigil.media.errors import ErrorRecord
from vigil.pipeline.config import ScanOptions, WorkConfig, build_config
from vigil.pipeline.records import FileOutcome, ItemObservation, location_label
from vigil.pipeline.work import FileTask, process_bytes, process_file
from vigil.plugins import Registry, build_registry
from vigil.provenance.base import Evidence, GenerationRecord
from vigil.scans.run import match_outcome, run_scan, with_contradictions
from vigil.store.base import Store
from vigil.store.records import ScanSummary

if t.TYPE_CHECKING:
    from vigil.modelfiles.report import ModelReport
    from vigil.prompts.filter import PromptVerdict

PathLike = str | os.PathLike[str]


@dataclasses.dataclass(frozen=True)
class ItemCheck:
    """One item of a checked file (the file itself, or an archive member)."""

    location: str  # `a.zip!/b.png`, or the path alone
    sha256: str
    kind: str
    size: int
    hashes: t.Mapping[str, str]
    matches: tuple[MatchResult, ...]
    evidence: tuple[Evidence, ...]
    generation: GenerationRecord | None
    scores: tuple[Score, ...]
    model: "ModelReport | None"

    @property
    def is_matched(self) -> bool:
        return any(m.verdict.value == "match" for m in self.matches)

    @property
    def is_ai(self) -> bool:
        return any(e.is_ai for e in self.evidence)

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "location": self.location,
            "sha256": self.sha256,
            "kind": self.kind,
            "size": self.size,
            "hashes": dict(self.hashes),
            "matches": [m.as_dict() for m in self.matches],
            "ai_evidence": self.is_ai,
            "evidence": [e.as_dict() for e in self.evidence],
            "generation": self.generation.as_dict() if self.generation else None,
            "scores": {s.name: s.as_dict() for s in self.scores},
            "model": self.model.as_dict() if self.model else None,
        }


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """Everything learned from one file or bytes object; nothing was stored."""

    path: str
    items: tuple[ItemCheck, ...]
    errors: tuple[ErrorRecord, ...]

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "path": self.path,
            "items": [item.as_dict() for item in self.items],
            "errors": [dataclasses.asdict(error) for error in self.errors],
        }


def open_store(url: str | None = None) -> Store:
    """The store at a SQLAlchemy URL; default: `VIGIL_DATABASE_URL`, else the SQLite
    file in `VIGIL_HOME` (created on first use)."""
    from vigil.config import Settings
    from vigil.store import open_store as open_sql_store

    if url is None:
        settings = Settings()
        if settings.database_url is None:
            settings.home.mkdir(parents=True, exist_ok=True)
        url = settings.resolved_database_url
    return open_sql_store(url)


class Checker:
    """Checks files and bytes against a store's hash lists without storing them.

    The matcher is loaded once, so a checker serves many calls (an upload
    endpoint); make a new one to see list changes. Without a store nothing is
    matched, and the rest (hashes, evidence, scores, model findings) still is.
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        options: ScanOptions | None = None,
        registry: Registry | None = None,
        hash_lists: t.Sequence[str] | None = None,
    ) -> None:
        self.registry = registry or build_registry()
        self.matcher: Matcher | None = None
        if store is not None:
            self.matcher = store.matcher(
                hash_lists,
                hash_types=self.registry.hash_types(),
                index_factory=self.registry.index_for,
            )
        chosen = options or ScanOptions()
        if self.matcher is not None and "pdq" in self.matcher.indexes:
            chosen = dataclasses.replace(chosen, pdq_variants=True)
        self.options = chosen
        self.config: WorkConfig = build_config(self.registry, chosen)

    def check_file(self, path: PathLike) -> CheckResult:
        return self._result(process_file(FileTask(os.fspath(path), self.config)))

    def check_bytes(self, data: bytes, *, label: str = "<bytes>") -> CheckResult:
        return self._result(process_bytes(label, data, self.config))

    def _result(self, outcome: FileOutcome) -> CheckResult:
        matches = match_outcome(self.matcher, outcome) if self.matcher else {}
        outcome = with_contradictions(outcome, matches)
        items = tuple(
            _item_check(outcome.path, item, matches.get(item.member_path, []))
            for item in outcome.items
        )
        return CheckResult(path=outcome.path, items=items, errors=outcome.errors)


def check_file(path: PathLike, *, store: Store | None = None) -> CheckResult:
    """Hashes, matches (with a store), evidence, generation record and scores of
    one file; nothing is stored. For many files make one `Checker`."""
    return Checker(store).check_file(path)


def check_bytes(
    data: bytes, *, label: str = "<bytes>", store: Store | None = None
) -> CheckResult:
    """`check_file` for bytes that are not a file on disk."""
    return Checker(store).check_bytes(data, label=label)


def scan(
    paths: t.Sequence[PathLike],
    *,
    store: Store,
    options: ScanOptions | None = None,
    workers: int | None = None,
    engine: str = "local",
) -> ScanSummary:
    """Scan paths into the store (resuming an unfinished scan of the same paths and
    options), matching against the store's lists, and summarise the scan."""
    registry = build_registry()
    chosen = options or ScanOptions()
    matcher = None
    if chosen.hash_lists != ():
        matcher = store.matcher(
            chosen.hash_lists,
            hash_types=registry.hash_types(),
            index_factory=registry.index_for,
        )
    if matcher is not None and len(matcher) == 0:
        matcher = None
    chosen = dataclasses.replace(
        chosen, pdq_variants=matcher is not None and "pdq" in matcher.indexes
    )
    kwargs = {"workers": workers} if engine == "local" else {}
    with registry.engine(engine, **kwargs) as runner:
        return run_scan(
            store,
            [os.fspath(p) for p in paths],
            config=build_config(registry, chosen),
            engine=runner,
            matcher=matcher,
            options=chosen,
        )


def check_prompt(
    prompt: str, negative_prompt: str = "", *, lexicons: t.Sequence[PathLike] = ()
) -> "PromptVerdict":
    """The prompt filter's verdict (allow / review / block, prompt_risk, triggers)."""
    from vigil.prompts.filter import PromptFilter

    chosen = tuple(pathlib.Path(p) for p in lexicons)
    return PromptFilter.default(chosen).check(prompt, negative_prompt)


def inspect_model(path: PathLike) -> "ModelReport":
    """A model file's format, fingerprints, metadata, pickle findings and
    model_risk; the file is streamed and never unpickled."""
    from vigil.modelfiles.scan import inspect_model as inspect
    from vigil.prompts.filter import PromptFilter

    return inspect(pathlib.Path(path), prompt_filter=PromptFilter.default())


def _item_check(
    path: str, item: ItemObservation, matches: t.Sequence[MatchResult]
) -> ItemCheck:
    return ItemCheck(
        location=location_label(path, item.member_path),
        sha256=item.sha256,
        kind=item.kind,
        size=item.size,
        hashes={h.hasher: h.value for h in item.hashes},
        matches=tuple(matches),
        evidence=item.evidence,
        generation=item.generation,
        scores=item.scores,
        model=item.model,
    )
