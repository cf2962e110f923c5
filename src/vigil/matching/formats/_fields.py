"""Hash types, label values and limits that every exchange format shares.

Kept apart from the format modules so that each one validates a hash, a boolean or a
timestamp the same way and raises the same FormatError for it.
"""

import datetime as dt
import re
import typing as t

from vigil.hashing.types import BUILTIN, HashType
from vigil.matching.base import FormatError, HashEntry, normalise_hash

#: Longest record any format accepts (a text line, a JSON record, an XML entry).
#: Vigil's choice: the largest hashes exchanged as text (TMK+PDQF video signatures)
#: are a few hundred KB; a single record past 1 MiB is not a hash list.
MAX_RECORD_BYTES = 1024 * 1024

#: Hash types the formats accept: every built-in type (md5, sha1, sha256, pdq, the
#: video digests python-threatexchange names video_md5 and video_sha256, and the
#: model fingerprints), checked by its own hex rules; and licensed or
#: variable-length signatures, kept as opaque strings.
HEX_RULES: dict[str, HashType] = dict(BUILTIN)
OPAQUE_TYPES: frozenset[str] = frozenset(
    {
        "photodna",
        "video_tmk",  # TMK+PDQF
        "vpdq",
        "netclean",
        "videntifier",
        "ssvh_pdna",
        "ssvh_safer_hash",
    }
)
HASH_TYPES: frozenset[str] = frozenset(HEX_RULES) | OPAQUE_TYPES

#: The HashEntry labels that have names, in the order writers emit them.
LABEL_NAMES = ("category", "ai_generated", "source", "added_by", "added_at", "comment")

TRUE, FALSE = "true", "false"
_HEX = re.compile(r"[0-9a-fA-F]+")


def check_type(hash_type: str, *, line: int | None) -> str:
    """`hash_type` if Vigil knows it, else FormatError."""
    if hash_type not in HASH_TYPES:
        known = ", ".join(sorted(HASH_TYPES))
        raise FormatError(
            f"unknown hash type {hash_type!r} (known: {known})", line=line
        )
    return hash_type


def normalise(hash_type: str, value: str, *, line: int | None) -> str:
    """The normalised value of a hash of a known type, or FormatError."""
    check_type(hash_type, line=line)
    rule = HEX_RULES.get(hash_type)
    if rule is not None:
        # Fast path with the same result as normalise_hash, which reports failures.
        stripped = value.strip()
        if len(stripped) == rule.hex_length and _HEX.fullmatch(stripped):
            return stripped.lower()
    if len(value) > MAX_RECORD_BYTES:
        raise FormatError(f"{hash_type} value longer than the record limit", line=line)
    try:
        return normalise_hash(hash_type, value)
    except ValueError as exc:
        raise FormatError(f"{hash_type}: {exc}", line=line) from None


def parse_bool(text: str, *, what: str, line: int | None) -> bool:
    lowered = text.strip().lower()
    if lowered not in (TRUE, FALSE):
        raise FormatError(f"{what} must be true or false, got {text!r}", line=line)
    return lowered == TRUE


def format_bool(value: bool) -> str:
    return TRUE if value else FALSE


def parse_time(text: str, *, what: str, line: int | None) -> dt.datetime:
    """An ISO-8601 timestamp (`Z` allowed); naive stays naive."""
    try:
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise FormatError(
            f"{what} is not an ISO-8601 time: {text!r}", line=line
        ) from None


def format_time(value: dt.datetime) -> str:
    # 2024-01-02T03:04:05+00:00 → 2024-01-02T03:04:05Z; other offsets stay as written.
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def sorted_extra(pairs: t.Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Extra pairs sorted by key, as HashEntry wants; equal keys keep their order."""
    return tuple(sorted(pairs, key=lambda pair: pair[0]))


def labels_of(entry: HashEntry) -> tuple[object, ...]:
    """Everything but the hash: what the hashes of one record must share."""
    return (
        entry.category,
        entry.ai_generated,
        entry.source,
        entry.added_by,
        entry.added_at,
        entry.comment,
        entry.extra,
    )


def text_or_none(value: str | None) -> str | None:
    """Empty label text means "no label": formats cannot tell "" from absent."""
    return value if value else None


def encode(text: str) -> bytes:
    """UTF-8 bytes of text a writer produced; FormatError for unpaired surrogates."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise FormatError("text that is not valid Unicode cannot be written") from None
