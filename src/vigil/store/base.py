"""The Store interface: the only writer, and every read the CLI, the console and the
API make.

Design notes:
- A repository API: callers ask for what they need (a matcher over the lists, a
  scan's summary, a page of items with everything recorded about them) and get
  frozen records back (`vigil.store.records`). Nothing outside `store/` sees a
  database engine, a session or a row, so SQLite, PostgreSQL and an in-memory
  database are interchangeable behind it; one contract suite
  (`vigil.testing.check_store`) holds every implementation to the same answers.
- Transactions: `record_file` writes one finished file (items, locations, hashes,
  matches, evidence, generation record, scores, model files, error records and the
  journal row) in one transaction, which is what makes a killed scan resumable.
- Thread safety: one Store per process; workers never open it.
"""

import abc
import typing as t

from vigil.hashing.types import BUILTIN, HashTypes
from vigil.matching.index import make_index
from vigil.matching.matcher import IndexFactory, Matcher, MatchResult
from vigil.pipeline.records import FileOutcome
from vigil.store.records import (
    ErrorView,
    ItemQuery,
    ItemView,
    ModelLinkInfo,
    Page,
    ScanInfo,
    ScanStatus,
    ScanSummary,
)

if t.TYPE_CHECKING:
    from vigil.store.audit import AuditStore
    from vigil.store.hashlists import HashListStore
    from vigil.store.triage import TriageStore
    from vigil.store.users import UserStore


class ScanBusyError(Exception):
    """The scan is being run by another process; running it twice at once would
    corrupt its journal."""

    def __init__(self, scan_id: int, pid: int | None, host: str | None) -> None:
        where = f" in process {pid}" if pid is not None else ""
        if host:
            where += f" on {host}"
        super().__init__(
            f"scan {scan_id} is running{where}: wait for it to end, or stop it "
            "and run the same command again to resume"
        )
        self.scan_id = scan_id


class Store(abc.ABC):
    """Scans, items and everything found about them; hash lists through
    `hashlists`; clusters, assessments, propagations and queue claims through
    `triage`; the hash-chained audit log through `audit`."""

    hashlists: "HashListStore"
    triage: "TriageStore"
    audit: "AuditStore"
    users: "UserStore"

    @property
    @abc.abstractmethod
    def location(self) -> str:
        """Where the store is, for people: a file path, or the URL without its
        password."""

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> t.Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @abc.abstractmethod
    def schema_revision(self) -> str | None:
        """The database schema's migration revision."""

    # scans

    @abc.abstractmethod
    def create_scan(
        self,
        key: str,
        roots: t.Sequence[str],
        options: dict[str, t.Any],
        vigil_version: str,
    ) -> int: ...

    @abc.abstractmethod
    def find_resumable_scan(self, key: str) -> ScanInfo | None:
        """The newest unfinished scan with this key, if any."""

    @abc.abstractmethod
    def get_scan(self, scan_id: int) -> ScanInfo | None: ...

    @abc.abstractmethod
    def list_scans(self) -> list[ScanInfo]: ...

    @abc.abstractmethod
    def begin_run(self, scan_id: int) -> None:
        """Mark a resumed scan as running again."""

    @abc.abstractmethod
    def end_run(
        self, scan_id: int, *, status: ScanStatus, elapsed_seconds: float
    ) -> None: ...

    @abc.abstractmethod
    def finished_paths(self, scan_id: int) -> set[str]:
        """The journal: files whose whole outcome is recorded for this scan."""

    @abc.abstractmethod
    def record_file(
        self,
        scan_id: int,
        outcome: FileOutcome,
        matches: t.Mapping[str, t.Sequence[MatchResult]] | None = None,
        *,
        elapsed_seconds: float = 0.0,
    ) -> None:
        """Record what one file gave, and journal it, in one transaction; the scan's
        time grows by `elapsed_seconds` in the same transaction, so a scan killed
        with SIGKILL keeps the time it spent."""

    @abc.abstractmethod
    def summary(self, scan_id: int) -> ScanSummary:
        """What a scan found, counted from the store (right after a resume too)."""

    # matching

    @abc.abstractmethod
    def matcher(
        self,
        list_names: t.Sequence[str] | None = None,
        *,
        hash_types: HashTypes = BUILTIN,
        index_factory: IndexFactory = make_index,
    ) -> Matcher:
        """A Matcher over the named lists (default: every list that is not a
        suppression list), with every suppression list's hashes suppressed.

        Raises:
            LookupError: a named list does not exist.
        """

    @abc.abstractmethod
    def quarantine_floods(
        self, scan_id: int, entry_ids: t.Iterable[int], limit: int
    ) -> list[int]:
        """Quarantine entries that matched more than `limit` distinct items in this
        scan, hold their matches, and return their ids."""

    # models

    @abc.abstractmethod
    def link_models(self, scan_id: int) -> int:
        """Rebuild the scan's image-to-model links; how many there are."""

    @abc.abstractmethod
    def model_links(self, scan_id: int) -> list[ModelLinkInfo]: ...

    # items

    @abc.abstractmethod
    def items(self, query: ItemQuery) -> Page:
        """A page of items with their locations, hashes, matches, evidence, generation
        record, scores and errors; filtered as the query says, in item-id order."""

    def iter_items(self, query: ItemQuery) -> t.Iterator[ItemView]:
        """Every item the query selects, page by page."""
        page = self.items(query)
        while True:
            yield from page.items
            if page.next_after_id is None:
                return
            page = self.items(_after(query, page.next_after_id))

    @abc.abstractmethod
    def item(self, sha256: str) -> ItemView | None:
        """One item by SHA-256, with every scan's places and matches."""

    @abc.abstractmethod
    def errors(self, scan_id: int) -> list[ErrorView]:
        """Every error record of a scan, in path order."""


def _after(query: ItemQuery, after_id: int) -> ItemQuery:
    import dataclasses

    return dataclasses.replace(query, after_id=after_id)
