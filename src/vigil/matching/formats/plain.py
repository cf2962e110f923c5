"""Vigil's plain text list, and bare MD5/SHA-1 lists as clearinghouses distribute them.

`plain` is one record a line, `type,value[,key=value]...`, comma- or tab-separated
(detected per file), quoted as CSV where a value needs it; `#` lines and blank lines
are skipped. It carries every HashEntry field, so any list can pass through it.
"""

import itertools
import typing as t

from vigil.matching.base import FormatError, HashEntry, HashListFormat
from vigil.matching.formats import _fields
from vigil.matching.formats._lines import (
    CSVWriter,
    is_skipped,
    iter_lines,
    iter_records,
)

#: What `plain` writes first; readers skip it like any `#` line.
PLAIN_HEADER = "# vigil hash list: type,value[,key=value]...\n"


def _delimiter(text: str) -> str:
    # The first separator after the hash type decides: a tab inside a quoted label
    # later on the line does not turn a CSV file into a TSV one.
    for char in text:
        if char in ",\t":
            return char
    return ","


def _set_label(labels: dict[str, t.Any], key: str, value: str, *, line: int) -> None:
    if key in labels:
        raise FormatError(f"label {key!r} given twice", line=line)
    if key == "ai_generated":
        labels[key] = (
            _fields.parse_bool(value, what=key, line=line) if value.strip() else None
        )
    elif key == "added_at":
        labels[key] = (
            _fields.parse_time(value, what=key, line=line) if value.strip() else None
        )
    else:
        labels[key] = _fields.text_or_none(value)


def _entry(fields: list[str], *, default_type: str | None, line: int) -> HashEntry:
    if len(fields) == 1:
        if default_type is None:
            raise FormatError(
                "a bare hash with no type: name the type on the line or give "
                "default_type",
                line=line,
            )
        hash_type, value = default_type, fields[0]
    else:
        hash_type, value = fields[0].strip().lower(), fields[1]
    labels: dict[str, t.Any] = {}
    extra: list[tuple[str, str]] = []
    for field in fields[2:]:
        key, sep, label = field.partition("=")
        key = key.strip()
        if not sep or not key:
            raise FormatError(f"expected key=value, got {field[:40]!r}", line=line)
        if key in _fields.LABEL_NAMES:
            _set_label(labels, key, label, line=line)
        else:
            extra.append((key, label))
    return HashEntry(
        hash_type=hash_type,
        value=_fields.normalise(hash_type, value, line=line),
        extra=_fields.sorted_extra(extra),
        **labels,
    )


def _label_fields(entry: HashEntry) -> t.Iterator[str]:
    for name in _fields.LABEL_NAMES:
        value = getattr(entry, name)
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            value = _fields.format_bool(value)
        elif name == "added_at":
            value = value.isoformat()  # exact: microseconds and offset survive
        yield f"{name}={value}"
    for key, value in entry.extra:
        if not key or key != key.strip() or "=" in key or key in _fields.LABEL_NAMES:
            raise FormatError(f"plain cannot carry the extra key {key!r}")
        yield f"{key}={value}"


class PlainFormat(HashListFormat):
    """`type,value[,key=value]...` lines; with `default_type`, bare hashes too."""

    name: t.ClassVar[str] = "plain"
    description: t.ClassVar[str] = (
        "text: type,value[,key=value]... per line (CSV or TSV), or bare hashes"
    )
    extensions: t.ClassVar[tuple[str, ...]] = (".csv", ".tsv", ".txt")

    def read(
        self, stream: t.BinaryIO, *, default_type: str | None = None
    ) -> t.Iterator[HashEntry]:
        if default_type is not None:
            _fields.check_type(default_type, line=None)
        lines = iter_lines(stream)
        for number, text in lines:
            if is_skipped(text, comments=True):
                continue
            records = iter_records(
                itertools.chain([(number, text)], lines),
                delimiter=_delimiter(text),
                comments=True,
            )
            for line, fields in records:
                yield _entry(fields, default_type=default_type, line=line)
            return

    def carries(self, hash_type: str) -> bool:
        return hash_type in _fields.HASH_TYPES

    def write(self, entries: t.Iterable[HashEntry], stream: t.BinaryIO) -> int:
        stream.write(PLAIN_HEADER.encode("ascii"))
        writer = CSVWriter(stream)
        count = 0
        for entry in entries:
            _fields.check_type(entry.hash_type, line=None)
            writer.writerow([entry.hash_type, entry.value, *_label_fields(entry)])
            count += 1
        return count


class _BareListFormat(HashListFormat):
    """One hash of a fixed type a line, nothing else; labels are not written."""

    hash_type: t.ClassVar[str]
    extensions: t.ClassVar[tuple[str, ...]] = (".txt", ".csv")

    def read(
        self, stream: t.BinaryIO, *, default_type: str | None = None
    ) -> t.Iterator[HashEntry]:
        if default_type not in (None, self.hash_type):
            raise FormatError(f"{self.name} holds {self.hash_type}, not {default_type}")
        for number, text in iter_lines(stream):
            if is_skipped(text, comments=True):
                continue
            if number == 1 and text.strip().lower() == self.hash_type:
                continue  # a one-word column header ("MD5"), as spreadsheets export
            value = _fields.normalise(self.hash_type, text, line=number)
            yield HashEntry(hash_type=self.hash_type, value=value)

    def carries(self, hash_type: str) -> bool:
        return hash_type == self.hash_type

    def write(self, entries: t.Iterable[HashEntry], stream: t.BinaryIO) -> int:
        count = 0
        for entry in entries:
            if entry.hash_type != self.hash_type:
                raise FormatError(
                    f"{self.name} holds only {self.hash_type}, not {entry.hash_type}"
                )
            stream.write(_fields.encode(entry.value) + b"\n")
            count += 1
        return count


class MD5ListFormat(_BareListFormat):
    """A bare MD5 list: 32 hex digits a line (upper or lower case)."""

    name: t.ClassVar[str] = "md5_list"
    description: t.ClassVar[str] = "text: one MD5 a line, no labels"
    hash_type: t.ClassVar[str] = "md5"


class SHA1ListFormat(_BareListFormat):
    """A bare SHA-1 list: 40 hex digits a line (upper or lower case)."""

    name: t.ClassVar[str] = "sha1_list"
    description: t.ClassVar[str] = "text: one SHA-1 a line, no labels"
    hash_type: t.ClassVar[str] = "sha1"
