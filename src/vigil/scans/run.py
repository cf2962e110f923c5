"""Scan orchestration: enumerate a source, run the per-file work on an engine, record
it.

A scan is a journal. Each finished file is written with its journal row in one
transaction, so a scan killed at any moment resumes where it stopped: files already
journaled are skipped and nothing is recorded twice. Running the same command again
finds the unfinished scan by its key (the roots and the options that change results).
"""

import dataclasses
import functools
import os
import pathlib
import time
import typing as t
from stat import S_ISFIFO, S_ISLNK, S_ISREG

from vigil._version import __version__
from vigil.detection.contradiction import claimed_ai_contradiction
from vigil.hashing.pdq import PDQ_PIPELINE
from vigil.matching.matcher import Matcher, MatchResult, Query
from vigil.media.errors import (
    ErrorRecord,
    FileVanishedError,
    NotRegularFileError,
    SymlinkSkippedError,
)
from vigil.pipeline.config import ScanOptions, WorkConfig
from vigil.pipeline.engines.base import Engine
from vigil.pipeline.records import FileOutcome, ItemObservation
from vigil.pipeline.stage import StageResult
from vigil.pipeline.work import FileTask, crash_outcome, process_file
from vigil.scans.key import scan_key
from vigil.store.base import Store
from vigil.store.matches import FLOOD_MAX_DISTINCT_ITEMS
from vigil.store.records import ScanStatus, ScanSummary

WALK_ERROR_REASON = "unreadable_directory"


class ScanProgress(t.Protocol):
    """What a scan reports while it runs (the CLI draws it; tests may count it)."""

    def start(self, *, files: int, bytes_total: int, files_done: int) -> None: ...

    def advance(self, outcome: FileOutcome, size: int) -> None: ...

    def close(self) -> None: ...


class _NoProgress:
    def start(self, **_counts: int) -> None:
        return None

    def advance(self, *_args: object) -> None:
        return None

    def close(self) -> None:
        return None


@dataclasses.dataclass(frozen=True)
class SourceFile:
    path: str
    size: int


@dataclasses.dataclass(frozen=True)
class WalkProblem:
    """A place the walk could not read, or skipped on purpose (a symbolic link, a
    FIFO, a device): recorded as an error record with its reason, and journaled."""

    path: str
    message: str
    reason: str = WALK_ERROR_REASON


def enumerate_source(roots: t.Sequence[str]) -> t.Iterator[SourceFile | WalkProblem]:
    """Regular files under the roots, sorted. Symbolic links (to files or folders)
    are recorded with their target and never followed; FIFOs, devices and sockets
    are recorded and never opened."""
    for root in roots:
        if not os.path.isdir(root) or os.path.islink(root):
            yield _entry(root)
            continue
        problems: list[WalkProblem] = []
        on_error = functools.partial(_walk_problem, problems, root)
        for directory, dirnames, filenames in os.walk(root, onerror=on_error):
            dirnames.sort()
            yield from problems
            problems.clear()
            linked = [d for d in dirnames if os.path.islink(os.path.join(directory, d))]
            for name in linked:  # os.walk lists links to folders but never enters
                dirnames.remove(name)
            for name in sorted([*filenames, *linked]):
                yield _entry(os.path.join(directory, name))
        yield from problems


def _entry(path: str) -> SourceFile | WalkProblem:
    """A regular file to read, or the record of what else is at `path`."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        return WalkProblem(path, str(exc), FileVanishedError.reason)
    if S_ISREG(info.st_mode):
        return SourceFile(path, info.st_size)
    if S_ISLNK(info.st_mode):
        try:
            target = os.readlink(path)
        except OSError as exc:
            target = f"? ({exc.strerror})"
        message = f"symbolic link to {target}, not followed"
        return WalkProblem(path, message, SymlinkSkippedError.reason)
    kind = (
        "a FIFO" if S_ISFIFO(info.st_mode) else "a device, socket or other special file"
    )
    return WalkProblem(path, f"not a regular file ({kind})", NotRegularFileError.reason)


def _walk_problem(problems: list[WalkProblem], root: str, exc: OSError) -> None:
    problems.append(WalkProblem(str(exc.filename or root), str(exc)))


def resolve_roots(paths: t.Iterable[str | os.PathLike[str]]) -> list[str]:
    """Absolute, normalised, de-duplicated roots in the order given."""
    seen: dict[str, None] = {}
    for path in paths:
        seen[str(pathlib.Path(path).resolve())] = None
    return list(seen)


def run_scan(
    store: Store,
    roots: t.Sequence[str],
    *,
    config: WorkConfig,
    engine: Engine,
    resume_id: int | None = None,
    progress: ScanProgress | None = None,
    matcher: Matcher | None = None,
    flood_limit: int = FLOOD_MAX_DISTINCT_ITEMS,
    options: ScanOptions | None = None,
) -> ScanSummary:
    """Scan `roots` (resuming an unfinished scan of the same roots) and summarise it.

    `options` are stored with a new scan so that `--resume` rebuilds the same
    configuration; they and `config` make the scan key."""
    progress = progress or _NoProgress()
    roots = resolve_roots(roots) if resume_id is None else list(roots)
    key = scan_key(roots, config, options)
    scan_id = _open_scan(store, key, roots, config, options, resume_id)
    clock = _Clock()
    status = ScanStatus.INTERRUPTED
    try:
        done = store.finished_paths(scan_id)
        sources: list[SourceFile] = []
        for entry in enumerate_source(roots):
            if entry.path in done:
                continue
            if isinstance(entry, WalkProblem):
                error = ErrorRecord("", entry.reason, entry.message)
                store.record_file(scan_id, FileOutcome(entry.path, (), (error,), 0))
                done.add(entry.path)
            else:
                sources.append(entry)
        progress.start(
            files=len(sources) + len(done),
            bytes_total=sum(s.size for s in sources),
            files_done=len(done),
        )
        sizes = {s.path: s.size for s in sources}
        tasks = (FileTask(s.path, config) for s in sources)
        for outcome in engine.map_unordered(process_file, tasks, crash_outcome):
            matches = match_outcome(matcher, outcome) if matcher else {}
            outcome = with_contradictions(outcome, matches, roots)
            store.record_file(scan_id, outcome, matches, elapsed_seconds=clock.lap())
            if matches:
                hit = [r.entry.id for rs in matches.values() for r in rs]
                for entry_id in store.quarantine_floods(scan_id, hit, flood_limit):
                    matcher.quarantine(entry_id)  # type: ignore[union-attr]
            progress.advance(outcome, sizes.pop(outcome.path, 0))
        store.link_models(scan_id)
        status = ScanStatus.FINISHED
    finally:
        progress.close()
        store.end_run(scan_id, status=status, elapsed_seconds=clock.lap())
    return store.summary(scan_id)


class _Clock:
    """Time since the last lap: each file's transaction adds the time spent since
    the previous one, so the scan's total survives SIGKILL."""

    def __init__(self) -> None:
        self._mark = time.monotonic()

    def lap(self) -> float:
        now = time.monotonic()
        elapsed, self._mark = now - self._mark, now
        return elapsed


def item_queries(observation: ItemObservation) -> list[Query]:
    """What to look up for one item: each hash, the fingerprints of a model file
    (model hash lists hold AutoV2/AutoV3/BLAKE3), then each PDQ variant of an
    image."""
    queries = [
        Query(h.hasher, h.value, h.pipeline, quality=h.quality)
        for h in observation.hashes
    ]
    if observation.model is not None:
        have = {(q.hasher, q.value) for q in queries}
        for model_hash in observation.model.model_hashes():
            key = (model_hash.kind.value, model_hash.value)
            if key not in have:  # a file's sha256 is already among its hashes
                have.add(key)
                queries.append(Query(*key, model_hash.kind.value))
    pdq = {q.value for q in queries if q.hasher == "pdq"}
    for name, value, quality in observation.variants:
        if value not in pdq:
            queries.append(Query("pdq", value, PDQ_PIPELINE, name, quality))
    return queries


def with_contradictions(
    outcome: FileOutcome,
    matches: t.Mapping[str, t.Sequence[MatchResult]],
    roots: t.Sequence[str] = (),
) -> FileOutcome:
    """The outcome with a `claimed_ai_contradiction` score added to each item that
    claims AI and matches an entry labelled real (matching happens after the
    stages, so this is the one score made here). Names are read below the scan's
    root, so the examiner's own folder names never count as a claim."""
    changed = False
    items: list[ItemObservation] = []
    for observation in outcome.items:
        found = matches.get(observation.member_path)
        score = None
        if found:
            names = [_below_root(outcome.path, roots), observation.member_path]
            score = claimed_ai_contradiction(observation.evidence, names, found)
        if score is not None:
            extra = StageResult(scores=(score,))
            observation = dataclasses.replace(
                observation, results=(*observation.results, extra)
            )
            changed = True
        items.append(observation)
    return dataclasses.replace(outcome, items=tuple(items)) if changed else outcome


def _below_root(path: str, roots: t.Sequence[str]) -> str:
    """The part of `path` under the scan root that holds it (its file name when
    no root does)."""
    for root in roots:
        if path.startswith(root.rstrip(os.sep) + os.sep):
            return path[len(root.rstrip(os.sep)) + 1 :]
    return os.path.basename(path)


def match_outcome(
    matcher: Matcher, outcome: FileOutcome
) -> dict[str, list[MatchResult]]:
    """Match results for every item of a file, keyed by member path."""
    found: dict[str, list[MatchResult]] = {}
    for observation in outcome.items:
        results = matcher.match(item_queries(observation))
        if results:
            found[observation.member_path] = results
    return found


def _open_scan(
    store: Store,
    key: str,
    roots: list[str],
    config: WorkConfig,
    options: ScanOptions | None,
    resume_id: int | None,
) -> int:
    if resume_id is not None:
        scan = store.get_scan(resume_id)
        if scan is None:
            raise LookupError(f"no scan with id {resume_id}")
        store.begin_run(scan.id)
        return scan.id
    existing = store.find_resumable_scan(key)
    if existing is not None:
        store.begin_run(existing.id)
        return existing.id
    stored = {
        "work": config.identity(),
        "options": options.as_dict() if options is not None else None,
    }
    return store.create_scan(key, roots, stored, __version__)
