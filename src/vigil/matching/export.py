"""Writing a list in a format that may not carry all of its hash types.

Kept apart from the formats: skipping (or choosing) types is the same for every
format, and each format's `write` stays strict about what it is given.
"""

import collections
import dataclasses
import typing as t

from vigil.matching.base import FormatError, HashEntry, HashListFormat


@dataclasses.dataclass(frozen=True)
class ExportResult:
    written: int
    skipped: tuple[tuple[str, int], ...] = ()  # by hash type, sorted

    def as_dict(self) -> dict[str, t.Any]:
        return {"written": self.written, "skipped": dict(self.skipped)}


def write_entries(
    fmt: HashListFormat,
    entries: t.Iterable[HashEntry],
    stream: t.BinaryIO,
    *,
    hash_types: t.Collection[str] | None = None,
) -> ExportResult:
    """Write the entries `fmt` can carry (of `hash_types` only, if given) and count
    the others by type.

    Raises:
        FormatError: a chosen type the format cannot carry, or a bad entry.
    """
    if hash_types is not None:
        refused = sorted(name for name in hash_types if not fmt.carries(name))
        if refused:
            raise FormatError(f"{fmt.name} cannot carry {', '.join(refused)}")
    skipped: collections.Counter[str] = collections.Counter()

    def chosen() -> t.Iterator[HashEntry]:
        for entry in entries:
            wanted = hash_types is None or entry.hash_type in hash_types
            if wanted and fmt.carries(entry.hash_type):
                yield entry
            else:
                skipped[entry.hash_type] += 1

    written = fmt.write(chosen(), stream)
    return ExportResult(written, tuple(sorted(skipped.items())))
