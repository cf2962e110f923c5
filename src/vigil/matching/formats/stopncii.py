"""StopNCII.org hash records as JSON, as the FetchHashes API returns them.

`{"count", "nextPageToken", ..., "hashRecords": [record, ...]}` or a bare array of
records with `signalType`, `hashValue`, `lastModtimestamp`, `hashStatus`, ...; field
names from python-threatexchange `exchanges/clients/stopncii/api.py`.
"""

import datetime as dt
import json
import typing as t

from vigil.matching.base import FormatError, HashEntry, HashListFormat
from vigil.matching.formats import _fields
from vigil.matching.formats._jsonstream import Item, JSONStream

#: StopNCII signalType ↔ Vigil hash type (Text and URL signals are not hashes).
SIGNAL_TYPES = {"ImagePDQ": "pdq", "VideoMD5": "video_md5", "VideoTMK": "video_tmk"}
_WRITTEN_TYPES = {hash_type: signal for signal, hash_type in SIGNAL_TYPES.items()}
#: Records in these states are to be deleted by clients (StopNCIICaseStatus docs in
#: python-threatexchange): reading skips them.
WITHDRAWN_STATUSES = frozenset({"Withdrawn", "Deleted"})
#: Record members kept in `extra`: strings as they are, the rest as compact JSON.
MEMBER_EXTRA = {
    "hashStatus": "stopncii_hash_status",
    "caseNumbers": "stopncii_case_numbers",
    "CSPFeedbacks": "stopncii_csp_feedbacks",
    "hashRegions": "stopncii_hash_regions",
}
_STRING_MEMBERS = frozenset({"hashStatus"})
#: Labels StopNCII has no member for travel in one object under this key.
VIGIL_KEY = "vigil"
#: Latest lastModtimestamp accepted (seconds; year 2100), to refuse milliseconds.
MAX_TIMESTAMP_SECONDS = 4_102_444_800


def _fail(message: str, line: int) -> t.NoReturn:
    raise FormatError(message, line=line)


def _vigil_labels(labels: t.Any, line: int) -> dict[str, t.Any]:
    if labels is None:
        return {}
    if not isinstance(labels, dict):
        _fail(f"{VIGIL_KEY} must be an object", line)
    found: dict[str, t.Any] = {}
    for name in ("category", "source", "added_by", "comment"):
        value = labels.get(name)
        if value is not None and not isinstance(value, str):
            _fail(f"{VIGIL_KEY}.{name} must be a string", line)
        found[name] = _fields.text_or_none(value)
    ai_generated = labels.get("ai_generated")
    if ai_generated is not None and not isinstance(ai_generated, bool):
        _fail(f"{VIGIL_KEY}.ai_generated must be true or false", line)
    found["ai_generated"] = ai_generated
    added_at = labels.get("added_at")
    if added_at is not None:
        if not isinstance(added_at, str):
            _fail(f"{VIGIL_KEY}.added_at must be a string", line)
        found["added_at"] = _fields.parse_time(added_at, what="added_at", line=line)
    extra = labels.get("extra", {})
    if not isinstance(extra, dict) or not all(
        isinstance(v, str) for v in extra.values()
    ):
        _fail(f"{VIGIL_KEY}.extra must map keys to strings", line)
    found["extra"] = list(extra.items())
    return found


def _added_at(timestamp: t.Any, line: int) -> dt.datetime | None:
    if timestamp is None:
        return None
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        _fail("lastModtimestamp must be whole seconds", line)
    if not 0 <= timestamp <= MAX_TIMESTAMP_SECONDS:
        _fail(f"lastModtimestamp {timestamp} is not seconds since 1970", line)
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)


def _entry(item: Item) -> HashEntry | None:
    record, line = item
    if not isinstance(record, dict):
        _fail("a hash record must be a JSON object", line)
    signal = record.get("signalType")
    value = record.get("hashValue")
    if not isinstance(signal, str) or not isinstance(value, str):
        _fail("a hash record needs signalType and hashValue strings", line)
    if signal not in SIGNAL_TYPES:
        _fail(f"unknown signalType {signal!r} (known: {', '.join(SIGNAL_TYPES)})", line)
    if record.get("hashStatus") in WITHDRAWN_STATUSES:
        return None
    hash_type = SIGNAL_TYPES[signal]
    labels = _vigil_labels(record.get(VIGIL_KEY), line)
    extra: list[tuple[str, str]] = labels.pop("extra", [])
    for member, key in MEMBER_EXTRA.items():
        if record.get(member) is None:
            continue
        if member in _STRING_MEMBERS and isinstance(record[member], str):
            extra.append((key, record[member]))
        else:
            text = json.dumps(record[member], sort_keys=True, separators=(",", ":"))
            extra.append((key, text))
    labels.setdefault("added_at", _added_at(record.get("lastModtimestamp"), line))
    return HashEntry(
        hash_type=hash_type,
        value=_fields.normalise(hash_type, value, line=line),
        extra=_fields.sorted_extra(extra),
        **labels,
    )


def _is_exact_seconds(value: dt.datetime) -> bool:
    return value.utcoffset() == dt.timedelta(0) and value.microsecond == 0


def _record(entry: HashEntry) -> dict[str, t.Any]:
    signal = _WRITTEN_TYPES.get(entry.hash_type)
    if signal is None:
        raise FormatError(f"stopncii has no signalType for {entry.hash_type}")
    record: dict[str, t.Any] = {"signalType": signal, "hashValue": entry.value}
    labels: dict[str, t.Any] = {}
    if entry.added_at is not None:
        seconds = int(entry.added_at.timestamp()) if entry.added_at.tzinfo else -1
        if 0 <= seconds <= MAX_TIMESTAMP_SECONDS:
            record["lastModtimestamp"] = seconds
        if not _is_exact_seconds(entry.added_at) or "lastModtimestamp" not in record:
            labels["added_at"] = entry.added_at.isoformat()
    extra: dict[str, str] = {}
    for key, value in entry.extra:
        member = next((m for m, k in MEMBER_EXTRA.items() if k == key), None)
        if member is None or member in record:
            if key in extra:
                raise FormatError(f"stopncii cannot carry the extra key {key!r} twice")
            extra[key] = value
        elif member in _STRING_MEMBERS:
            record[member] = value
        else:
            try:
                record[member] = json.loads(value)
            except ValueError:
                raise FormatError(f"{key} must hold JSON, got {value[:40]!r}") from None
    for name in ("category", "source", "added_by", "comment"):
        if getattr(entry, name):
            labels[name] = getattr(entry, name)
    if entry.ai_generated is not None:
        labels["ai_generated"] = entry.ai_generated
    if extra:
        labels["extra"] = extra
    if labels:
        record[VIGIL_KEY] = labels
    return record


class StopNCIIFormat(HashListFormat):
    """StopNCII FetchHashes JSON: ImagePDQ, VideoMD5 and VideoTMK hash records."""

    name: t.ClassVar[str] = "stopncii"
    description: t.ClassVar[str] = "StopNCII.org hash records (FetchHashes JSON)"
    extensions: t.ClassVar[tuple[str, ...]] = (".json",)

    def read(
        self, stream: t.BinaryIO, *, default_type: str | None = None
    ) -> t.Iterator[HashEntry]:
        del default_type  # every record names its signalType
        document = JSONStream(stream)
        parts = (
            document.items()
            if document.peek() == "["
            else document.members("hashRecords")
        )
        for part in parts:
            if isinstance(part, Item):
                entry = _entry(part)
                if entry is not None:
                    yield entry
        document.end()

    def carries(self, hash_type: str) -> bool:
        return hash_type in _WRITTEN_TYPES

    def write(self, entries: t.Iterable[HashEntry], stream: t.BinaryIO) -> int:
        stream.write(b'{"hashRecords": [')
        count = 0
        for entry in entries:
            record = json.dumps(_record(entry), ensure_ascii=False)
            stream.write((b",\n  " if count else b"\n  ") + _fields.encode(record))
            count += 1
        stream.write(b'\n], "count": ' + str(count).encode("ascii") + b"}\n")
        return count
