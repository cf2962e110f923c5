"""The CSV python-threatexchange exports for HMA and other ThreatExchange users.

`threatexchange dataset -P --csv` writes `signal_type,signal_str,collab,category,tags`
(python-threatexchange `cli/dataset_cmd.py`); `signal` is accepted for `signal_str`.
Labels HMA has no column for travel in `vigil_*` columns that its tools ignore. The
CLI exports every signal type by default, so URL, text and trend-query rows are
skipped with a count (or refused with `is_strict=True`).
"""

import datetime as dt
import typing as t
import urllib.parse

from vigil.matching.base import FormatError, HashEntry, HashListFormat, SkipsRecords
from vigil.matching.formats import _fields
from vigil.matching.formats._lines import CSVWriter, iter_lines, iter_records

#: python-threatexchange SignalType names (and the older ThreatExchange indicator
#: types, `HASH_*`) → Vigil hash types. Vigil's own type names are accepted too.
SIGNAL_TYPES: dict[str, str] = {
    "pdq": "pdq",
    "video_md5": "video_md5",
    "video_sha256": "video_sha256",
    "video_tmk_pdqf": "video_tmk",
    "vpdq": "vpdq",
    "photodna": "photodna",
    "hash_pdq": "pdq",
    "hash_md5": "md5",
    "hash_video_md5": "video_md5",
    "hash_sha256": "sha256",
    "hash_video_sha256": "video_sha256",
    "hash_tmk": "video_tmk",
}
#: python-threatexchange SignalTypes that are not media hashes (`signal_type/url.py`,
#: `url_md5.py`, `raw_text.py`, `trend_query.py`), and the older ThreatExchange
#: indicator types for them: skipped, not refused, since the CLI writes them by default.
NON_MEDIA_SIGNAL_TYPES = frozenset(
    {"url", "url_md5", "raw_text", "text", "trend_query", "uri", "hash_url_md5"}
)
#: Vigil hash type → the name written; types python-threatexchange lacks keep ours.
WRITTEN_NAMES: dict[str, str] = {"video_tmk": "video_tmk_pdqf"}

SIGNAL, SIGNAL_ALIAS = "signal_str", "signal"
#: HMA's own columns → extra keys (`collab` becomes `source` instead).
HMA_EXTRA = {"category": "hma_category", "tags": "hma_tags"}
VIGIL_COLUMNS = (
    "vigil_category",
    "vigil_ai_generated",
    "vigil_added_by",
    "vigil_added_at",
    "vigil_comment",
    "vigil_extra",
)
HEADER = ("signal_type", SIGNAL, "collab", *HMA_EXTRA, *VIGIL_COLUMNS)


def _hash_type(name: str, *, line: int) -> str:
    key = name.strip().lower()
    if key in SIGNAL_TYPES:
        return SIGNAL_TYPES[key]
    return _fields.check_type(key, line=line)


def _columns(fields: list[str], *, line: int) -> list[str]:
    names = [field.strip().lower() for field in fields]
    if SIGNAL not in names and SIGNAL_ALIAS in names:
        names[names.index(SIGNAL_ALIAS)] = SIGNAL
    if "signal_type" not in names or SIGNAL not in names:
        raise FormatError(
            "not an HMA CSV header: signal_type and signal_str columns needed",
            line=line,
        )
    if len(set(names)) != len(names):
        raise FormatError("a column name appears twice in the header", line=line)
    return names


def _extra_of(text: str, *, line: int) -> list[tuple[str, str]]:
    try:
        return urllib.parse.parse_qsl(
            text, keep_blank_values=True, strict_parsing=True, errors="strict"
        )
    except (ValueError, UnicodeDecodeError):
        raise FormatError(
            f"vigil_extra is not a query string: {text[:40]!r}", line=line
        ) from None


def _entry(row: dict[str, str], *, line: int) -> HashEntry:
    hash_type = _hash_type(row["signal_type"], line=line)
    extra: list[tuple[str, str]] = []
    ai_generated: bool | None = None
    added_at: dt.datetime | None = None
    for column, text in row.items():
        if column in ("signal_type", SIGNAL, "collab") or not text:
            continue
        if column == "vigil_ai_generated":
            ai_generated = _fields.parse_bool(text, what=column, line=line)
        elif column == "vigil_added_at":
            added_at = _fields.parse_time(text, what=column, line=line)
        elif column == "vigil_extra":
            extra.extend(_extra_of(text, line=line))
        elif column in HMA_EXTRA:
            extra.append((HMA_EXTRA[column], text))
        elif column not in VIGIL_COLUMNS:
            extra.append((f"hma_{column}", text))  # a column this reader does not know
    return HashEntry(
        hash_type=hash_type,
        value=_fields.normalise(hash_type, row[SIGNAL], line=line),
        category=_fields.text_or_none(row.get("vigil_category")),
        ai_generated=ai_generated,
        source=_fields.text_or_none(row.get("collab")),
        added_by=_fields.text_or_none(row.get("vigil_added_by")),
        added_at=added_at,
        comment=_fields.text_or_none(row.get("vigil_comment")),
        extra=_fields.sorted_extra(extra),
    )


def _row(entry: HashEntry) -> list[str]:
    _fields.check_type(entry.hash_type, line=None)
    native = dict.fromkeys(HMA_EXTRA, "")
    rest: list[tuple[str, str]] = []
    for key, value in entry.extra:
        column = next((c for c, k in HMA_EXTRA.items() if k == key), None)
        if column is not None and value and not native[column]:
            native[column] = value
        else:
            rest.append((key, value))
    return [
        WRITTEN_NAMES.get(entry.hash_type, entry.hash_type),
        entry.value,
        entry.source or "",
        *native.values(),
        entry.category or "",
        "" if entry.ai_generated is None else _fields.format_bool(entry.ai_generated),
        entry.added_by or "",
        "" if entry.added_at is None else entry.added_at.isoformat(),
        entry.comment or "",
        urllib.parse.urlencode(rest, quote_via=urllib.parse.quote),
    ]


class HMACSVFormat(SkipsRecords, HashListFormat):
    """HMA / ThreatExchange CSV: `signal_type,signal_str,collab,category,tags`."""

    name: t.ClassVar[str] = "hma_csv"
    description: t.ClassVar[str] = (
        "CSV from `threatexchange dataset --csv` (signal_type,signal_str,...)"
    )
    extensions: t.ClassVar[tuple[str, ...]] = (".csv",)

    def read(
        self, stream: t.BinaryIO, *, default_type: str | None = None
    ) -> t.Iterator[HashEntry]:
        del default_type  # every row names its signal type
        self.skipped.clear()
        columns: list[str] | None = None
        records = iter_records(iter_lines(stream), delimiter=",", comments=False)
        for line, fields in records:
            if columns is None:
                columns = _columns(fields, line=line)
                continue
            if len(fields) != len(columns):
                raise FormatError(
                    f"expected {len(columns)} columns, got {len(fields)}", line=line
                )
            row = dict(zip(columns, fields, strict=True))
            signal_type = row["signal_type"].strip().lower()
            if signal_type in NON_MEDIA_SIGNAL_TYPES:
                self.skip(signal_type, line=line)
                continue
            yield _entry(row, line=line)

    def carries(self, hash_type: str) -> bool:
        return hash_type in _fields.HASH_TYPES

    def write(self, entries: t.Iterable[HashEntry], stream: t.BinaryIO) -> int:
        writer = CSVWriter(stream)
        writer.writerow(HEADER)
        count = 0
        for entry in entries:
            try:
                writer.writerow(_row(entry))
            except UnicodeEncodeError:  # from URL-encoding vigil_extra
                raise FormatError("text that is not valid Unicode") from None
            count += 1
        return count
