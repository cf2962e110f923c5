"""Grouping of entries into the records of formats that hold several hashes a record.

A VICS Media record or an NCMEC entry holds several hashes with one set of labels:
readers yield one entry per hash with the record id in `extra`; writers regroup
consecutive entries by that id, keeping only the current record and the ids seen.
"""

import typing as t

from vigil.matching.base import FormatError, HashEntry
from vigil.matching.formats._fields import labels_of


class Group(t.NamedTuple):
    record_id: str
    is_generated: bool
    entries: list[HashEntry]


def extra_value(entry: HashEntry, key: str) -> str | None:
    """The first value of `key` in the entry's extra, if any."""
    return next((value for k, value in entry.extra if k == key), None)


def groups(
    entries: t.Iterable[HashEntry],
    *,
    id_key: str,
    new_id: t.Callable[[int], str],
    what: str,
) -> t.Iterator[Group]:
    """Consecutive entries with one `id_key` value form a group; an entry without one
    is a group of its own under `new_id(n)` (n = 0, 1, ...), skipping ids in use.

    Raises:
        FormatError: a group's entries disagree on their labels, or an id comes back
            after other records (it would be written as two records).
    """
    used: set[str] = set()
    current: Group | None = None
    generated = 0
    for entry in entries:
        record_id = extra_value(entry, id_key)
        if (
            current is not None
            and not current.is_generated
            and record_id == current.record_id
        ):
            if labels_of(entry) != labels_of(current.entries[0]):
                raise FormatError(
                    f"the hashes of {what} {record_id} have different labels; "
                    "one record carries one set of labels"
                )
            current.entries.append(entry)
            continue
        if current is not None:
            yield current
        is_generated = record_id is None
        if record_id is None:
            record_id = new_id(generated)
            while record_id in used:
                generated += 1
                record_id = new_id(generated)
            generated += 1
        elif record_id in used:
            raise FormatError(
                f"{what} {record_id} appears again after other records; "
                "keep the hashes of one record together"
            )
        used.add(record_id)
        current = Group(record_id, is_generated, [entry])
    if current is not None:
        yield current
