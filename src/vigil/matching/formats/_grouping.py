"""Grouping of entries into the records of formats that hold several hashes a record.

A VICS Media record or an NCMEC entry holds several hashes with one set of labels:
readers yield one entry per hash with the record id in `extra`; writers regroup
consecutive entries by that id, keeping only the current record and the ids seen.

An entry that cannot join its record (its id came back after other records, its
labels differ, or the record already holds a hash in its field, as after a repeated
hash was merged on import) is written as a record of its own under a new id, with its
own id kept in its labels: an export never fails half-way over record boundaries.
"""

import typing as t

from vigil.matching.base import HashEntry
from vigil.matching.formats._fields import labels_of


class Group(t.NamedTuple):
    record_id: str
    is_generated: bool  # the id is new: the entry's own id (if any) is a label
    entries: list[HashEntry]


def extra_value(entry: HashEntry, key: str) -> str | None:
    """The first value of `key` in the entry's extra, if any."""
    return next((value for k, value in entry.extra if k == key), None)


def groups(
    entries: t.Iterable[HashEntry],
    *,
    id_key: str,
    new_id: t.Callable[[int], str],
    slot: t.Callable[[HashEntry], str],
) -> t.Iterator[Group]:
    """Consecutive entries with one `id_key` value, the same labels and different
    `slot`s (the field each hash is written in) form a group; any other entry starts
    a group, under its own id if unused so far, else under `new_id(n)` (n = 0, 1,
    ...), skipping ids in use.
    """
    used: set[str] = set()
    current: Group | None = None
    slots: set[str] = set()
    generated = 0
    for entry in entries:
        record_id = extra_value(entry, id_key)
        if (
            current is not None
            and not current.is_generated
            and record_id == current.record_id
            and slot(entry) not in slots
            and labels_of(entry) == labels_of(current.entries[0])
        ):
            current.entries.append(entry)
            slots.add(slot(entry))
            continue
        if current is not None:
            yield current
        is_generated = record_id is None or record_id in used
        if record_id is None or record_id in used:
            record_id = new_id(generated)
            while record_id in used:
                generated += 1
                record_id = new_id(generated)
            generated += 1
        used.add(record_id)
        current = Group(record_id, is_generated, [entry])
        slots = {slot(entry)}
    if current is not None:
        yield current
