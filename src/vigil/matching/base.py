"""Hash-list entries, the HashListFormat interface and the Index interface.

Design notes:
- Why strings? Entries carry hashes as normalised strings (lower-case hex for md5, sha1,
  sha256 and pdq; PhotoDNA and other licensed hashes stay opaque strings, exchanged but
  matched only by a licensed plug-in). Vectors exist only inside an Index.
- Formats stream: `read` yields entries one at a time and raises `FormatError` with the
  line (or record) number at the first bad one, so a 10-million-line file never sits in
  memory and the caller can refuse the whole import in one transaction.
- Labels: the fields every exchange format shares have names here; anything
  format-specific (a VICS `Series`, an NCMEC classification code) travels in `extra`, so
  a round trip through the same format loses nothing.
- Skipping: a file may hold records that are not hashes Vigil imports (URL and text
  signals in a ThreatExchange CSV). Formats that skip them say so through the small
  `SkipsRecords` capability: counted by kind, or refused with `is_strict=True`.
- Writing: `carries(hash_type)` says which types a format has a field for, so an export
  of a mixed list skips the others with a count (`vigil.matching.export`) instead of
  failing half-way; `write` itself still refuses an entry it cannot carry.
- Indexes answer "which ids lie within `radius` bits of this hash" and must return
  exactly what brute force returns (recall 1.0). A new hash type works on day one with
  the brute-force index; a faster index is an upgrade, never a different answer.
"""

import abc
import collections
import dataclasses
import datetime as dt
import typing as t

import numpy as np
import numpy.typing as npt

from vigil.hashing.types import BUILTIN, HashType


class FormatError(ValueError):
    """A hash-list file is malformed; `line` is 1-based where the format has lines."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        where = f"line {line}: " if line is not None else ""
        super().__init__(f"{where}{message}")
        self.message = message
        self.line = line


@dataclasses.dataclass(frozen=True)
class HashEntry:
    """One hash in a hash list, with its labels."""

    hash_type: str  # lower_snake: md5, sha1, sha256, pdq, photodna, video_md5, ...
    value: str  # normalised: lower-case hex for known types, as given for opaque ones
    category: str | None = None
    ai_generated: bool | None = None
    source: str | None = None
    added_by: str | None = None
    added_at: dt.datetime | None = None
    comment: str | None = None
    extra: tuple[tuple[str, str], ...] = ()  # format-specific fields, sorted by key

    @property
    def key(self) -> tuple[str, str]:
        """What makes two entries the same entry: type and value."""
        return (self.hash_type, self.value)


def normalise_hash(hash_type: str, value: str) -> str:
    """Lower-case and validate a hash of a known type; opaque types are only stripped.

    Raises:
        ValueError: a known type whose value is not hex of the right length.
    """
    return BUILTIN.normalise(hash_type, value)


class HashListFormat(abc.ABC):
    """Reads and writes one exchange format; `name` is stable (`vics`, `hma_csv`)."""

    name: t.ClassVar[str]
    description: t.ClassVar[str]  # one line for `vigil hashlist import --help`
    extensions: t.ClassVar[tuple[str, ...]]  # usual file extensions, for guessing

    def examples(self) -> list[t.Any]:
        """Benign inputs with known results for the contract suite (each with a
        `source` naming where it comes from); empty where none are needed."""
        return []

    @abc.abstractmethod
    def read(
        self, stream: t.BinaryIO, *, default_type: str | None = None
    ) -> t.Iterator[HashEntry]:
        """Yield entries one by one; raise FormatError at the first malformed one.

        `default_type` is the hash type for formats (or lines) that do not name it.
        """

    @abc.abstractmethod
    def write(self, entries: t.Iterable[HashEntry], stream: t.BinaryIO) -> int:
        """Write entries; return how many were written. Entries the format cannot carry
        (a hash type it has no field for) raise FormatError."""

    def carries(self, hash_type: str) -> bool:
        """Whether `write` has a field for this hash type (default: every type)."""
        del hash_type
        return True


class SkipsRecords:
    """Capability of a format whose files may hold records it does not import.

    After `read`, `skipped` counts the records skipped by kind (`url: 2`); with
    `is_strict=True` the first such record raises FormatError instead.
    """

    def __init__(self, *, is_strict: bool = False) -> None:
        self.is_strict = is_strict
        self.skipped: collections.Counter[str] = collections.Counter()

    def skip(self, kind: str, *, line: int | None) -> None:
        if self.is_strict:
            raise FormatError(f"{kind} records are not hashes Vigil imports", line=line)
        self.skipped[kind] += 1


Ids = npt.NDArray[np.int64]


@dataclasses.dataclass(frozen=True)
class IndexHit:
    id: int
    distance: int


class Index(abc.ABC):
    """Finds stored hashes near a query. Exact for cryptographic types (radius 0).

    Thread safety: searches may run concurrently; `add` and `remove` need exclusive
    access.
    """

    name: t.ClassVar[str]

    def examples(self) -> list[t.Any]:
        """Benign inputs with known results for the contract suite (each with a
        `source` naming where it comes from); empty where none are needed."""
        return []

    @classmethod
    def for_type(cls, hash_type: HashType) -> "Index":
        """An empty index for one hash type (how scans make indexes: the hash type
        names its index plugin, and the plugin builds itself for the type)."""
        return cls(hash_type)  # type: ignore[call-arg]

    @abc.abstractmethod
    def add(self, ids: t.Sequence[int], values: t.Sequence[str]) -> None:
        """Add hashes (hex strings) under caller-chosen integer ids."""

    @abc.abstractmethod
    def remove(self, ids: t.Sequence[int]) -> None:
        """Forget these ids; unknown ids are ignored."""

    @abc.abstractmethod
    def search(self, value: str, radius: int) -> list[IndexHit]:
        """Stored ids within `radius` bits of `value`; nearest first, then by id."""

    def search_many(self, values: t.Sequence[str], radius: int) -> list[list[IndexHit]]:
        return [self.search(value, radius) for value in values]

    @abc.abstractmethod
    def __len__(self) -> int: ...
