"""Project VIC VICS JSON (OData): the hash sets Griffeye, IPED and others exchange.

`{"@odata.context": ".../$metadata#Media", "value": [Media, ...]}` (2.0; 1.x writes
`odata.metadata`), or `...#Cases` with `"value": [{..., "Media": [Media, ...]}, ...]`
(each Case streamed, Media by Media). An empty hash (`"SHA1": ""`) or category is
absent, not an error. A Media record holds `MD5`, `SHA1`, `PhotoDNA` and `{"HashName",
"HashValue"}` objects in `AlternativeHashes` (2.0) or `Hashes` (1.x).
"""

import json
import re
import typing as t

from vigil.matching.base import FormatError, HashEntry, HashListFormat
from vigil.matching.formats import _fields
from vigil.matching.formats._grouping import Group, groups
from vigil.matching.formats._jsonstream import Item, JSONStream

#: Written as the OData context; the data model URL VICS 2.0 exporters use.
CONTEXT_URL = (
    "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/"
    "$metadata#Media"
)
CONTEXT_KEYS = ("@odata.context", "odata.metadata")  # VICS 2.0, VICS 1.x
#: The entity sets read: Media records, or Cases that each hold a `Media` array.
MEDIA_SET, CASES_SET = "Media", "Cases"
#: The data model version in a context URL (`.../DataModels/2.0.xml/...`, `1.3.xml`).
_MODEL_VERSION = re.compile(r"/([0-9]+(?:\.[0-9]+)*)\.xml")

#: Media properties that hold one hash each.
HASH_PROPERTIES = {"MD5": "md5", "SHA1": "sha1", "PhotoDNA": "photodna"}
HASH_LISTS = ("AlternativeHashes", "Hashes")  # VICS 2.0, VICS 1.x
#: HashName ↔ Vigil type; other Vigil types are written under their own name.
HASH_NAMES = {
    "MD5": "md5",
    "SHA1": "sha1",
    "SHA256": "sha256",
    "PDQ": "pdq",
    "PhotoDNA": "photodna",
    "TMK": "video_tmk",
    "vPDQ": "vpdq",
}
_READ_HASH_NAMES = {
    **{name.lower(): hash_type for name, hash_type in HASH_NAMES.items()},
    "sha-1": "sha1",
    "sha-256": "sha256",
    "tmk+pdqf": "video_tmk",
}

#: Category → Vigil category `vics_<n>`: 0 non-pertinent, 1 child abuse material,
#: 2 child exploitive / age difficult, 3 CGI / animation, 4 comparison.
CATEGORY_PREFIX = "vics_"
#: Media properties kept in `extra` (so that a round trip loses nothing).
PROPERTY_EXTRA = {
    "MediaID": "vics_media_id",
    "MediaSize": "vics_media_size",
    "Series": "vics_series",
    "Tags": "vics_tags",
    "VictimIdentified": "vics_victim_identified",
    "OffenderIdentified": "vics_offender_identified",
    "IsDistributed": "vics_is_distributed",
    "IsPrecategorized": "vics_is_precategorized",
    "PrecategorizationSource": "vics_precategorization_source",
    "IsSuspected": "vics_is_suspected",
    "DateUpdated": "vics_date_updated",
    "MimeType": "vics_mime_type",
}
_EXTRA_PROPERTY = {key: prop for prop, key in PROPERTY_EXTRA.items()}
_INT_PROPERTIES = frozenset({"MediaID", "MediaSize"})
_BOOL_PROPERTIES = frozenset(
    {
        "VictimIdentified",
        "OffenderIdentified",
        "IsDistributed",
        "IsPrecategorized",
        "IsSuspected",
    }
)
#: Entries without a MediaID get 1000000000, 1000000001, ... in write order: stable
#: for the same input, inside a 32-bit integer, clear of exporters' small ids.
GENERATED_MEDIA_ID_START = 1_000_000_000
#: OData instance annotations (`@namespace.term`) for labels VICS has no field for.
ANNOTATION = "@vigil."
_CANONICAL_INT = re.compile(r"-?[1-9][0-9]*|0")
_CATEGORY_NUMBER = re.compile(r"[1-9][0-9]{0,8}|0")


def _fail(message: str, line: int) -> t.NoReturn:
    raise FormatError(message, line=line)


def _string(value: t.Any, what: str, line: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        _fail(f"{what} must be a string", line)
    return value


def _scalar(value: t.Any, what: str, line: int) -> str:
    if isinstance(value, bool):
        return _fields.format_bool(value)
    if isinstance(value, int | str):
        return str(value)
    _fail(f"{what} must be a string, number or boolean", line)


def _category(value: t.Any, line: int) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        _fail(f"Category must be a whole number, got {value!r}", line)
    return f"{CATEGORY_PREFIX}{value}"


def _hashes(media: dict[str, t.Any], line: int) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for prop, hash_type in HASH_PROPERTIES.items():
        value = _string(media.get(prop), prop, line)
        if value and value.strip():
            found.append((hash_type, _fields.normalise(hash_type, value, line=line)))
    for key in HASH_LISTS:
        listed = media.get(key)
        if listed is None:
            continue
        if not isinstance(listed, list):
            _fail(f"{key} must be an array", line)
        for item in listed:
            if not isinstance(item, dict):
                _fail(f"{key} must hold objects", line)
            name = _string(item.get("HashName"), "HashName", line)
            value = _string(item.get("HashValue"), "HashValue", line)
            if name and value is not None and not value.strip():
                continue  # a named hash with an empty value: absent
            if not name or not value:
                _fail(f"a {key} object needs HashName and HashValue", line)
            lowered = name.strip().lower()
            hash_type = _READ_HASH_NAMES.get(lowered, lowered)
            found.append((hash_type, _fields.normalise(hash_type, value, line=line)))
    return list(dict.fromkeys(found))  # the same hash twice (SHA1 and a SHA1 HashName)


def _annotations(media: dict[str, t.Any], line: int) -> dict[str, t.Any]:
    labels: dict[str, t.Any] = {}
    for name in ("category", "source", "added_by"):
        text = _string(media.get(ANNOTATION + name), ANNOTATION + name, line)
        labels[name] = _fields.text_or_none(text)
    ai_generated = media.get(ANNOTATION + "ai_generated")
    if ai_generated is not None and not isinstance(ai_generated, bool):
        _fail(f"{ANNOTATION}ai_generated must be true or false", line)
    labels["ai_generated"] = ai_generated
    added_at = _string(media.get(ANNOTATION + "added_at"), "added_at", line)
    if added_at is not None:
        labels["added_at"] = _fields.parse_time(added_at, what="added_at", line=line)
    return labels


def _extra(media: dict[str, t.Any], line: int) -> list[tuple[str, str]]:
    extra = [
        (key, _scalar(media[prop], prop, line))
        for prop, key in PROPERTY_EXTRA.items()
        if media.get(prop) is not None
    ]
    pairs = media.get(ANNOTATION + "extra", [])
    if not isinstance(pairs, list):
        _fail(f"{ANNOTATION}extra must be an array of [key, value] pairs", line)
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2):
            _fail(f"{ANNOTATION}extra must hold [key, value] pairs", line)
        key, value = pair
        if not isinstance(key, str) or not isinstance(value, str):
            _fail(f"{ANNOTATION}extra keys and values must be strings", line)
        extra.append((key, value))
    return extra


def _entries(item: Item) -> t.Iterator[HashEntry]:
    media, line = item
    if not isinstance(media, dict):
        _fail("a Media record must be a JSON object", line)
    hashes = _hashes(media, line)
    if not hashes:
        return  # a Media record with no hash (IPED counts these too) adds nothing
    labels: dict[str, t.Any] = {"category": _category(media.get("Category"), line)}
    labels.update((k, v) for k, v in _annotations(media, line).items() if v is not None)
    comment = _string(media.get("Comments"), "Comments", line)
    extra = _fields.sorted_extra(_extra(media, line))
    for hash_type, value in hashes:
        yield HashEntry(
            hash_type=hash_type,
            value=value,
            comment=_fields.text_or_none(comment),
            extra=extra,
            **labels,
        )


def _version(key: str, context: str) -> str:
    """The VICS version a context names, for messages: `2.0`, `1.3`, or by key."""
    found = _MODEL_VERSION.search(context)
    if found is not None:
        return found.group(1)
    return "2.0" if key == CONTEXT_KEYS[0] else "1.x"


def _case_media(document: JSONStream) -> t.Iterator[Item]:
    """The Media records of each Case in the array that starts here, one by one."""
    for line in document.elements():
        if document.peek() != "{":
            _fail("a Case record must be a JSON object", line)
        for part in document.members(MEDIA_SET):
            if isinstance(part, Item):
                yield part


def _slot(hash_type: str) -> str:
    """The Media property or HashName a hash is written under."""
    prop = next((p for p, h in HASH_PROPERTIES.items() if h == hash_type), None)
    return prop or next((n for n, h in HASH_NAMES.items() if h == hash_type), hash_type)


def _typed(prop: str, value: str) -> t.Any:
    if prop in _INT_PROPERTIES and _CANONICAL_INT.fullmatch(value):
        return int(value)
    if prop in _BOOL_PROPERTIES and value in (_fields.TRUE, _fields.FALSE):
        return value == _fields.TRUE
    return value


def _media(group: Group) -> dict[str, t.Any]:
    head = group.entries[0]
    media: dict[str, t.Any] = {"MediaID": _typed("MediaID", group.record_id)}
    annotations: dict[str, t.Any] = {}
    category = head.category or ""
    number = category.removeprefix(CATEGORY_PREFIX)
    if category.startswith(CATEGORY_PREFIX) and _CATEGORY_NUMBER.fullmatch(number):
        media["Category"] = int(number)
    elif head.category:
        annotations["category"] = head.category
    alternative: list[dict[str, str]] = []
    for entry in group.entries:
        _fields.check_type(entry.hash_type, line=None)
        prop = next((p for p, h in HASH_PROPERTIES.items() if h == entry.hash_type), "")
        name = next(
            (n for n, h in HASH_NAMES.items() if h == entry.hash_type), entry.hash_type
        )
        if prop in media or any(a["HashName"] == name for a in alternative):
            raise FormatError(f"MediaID {group.record_id} has two {entry.hash_type}")
        if prop:
            media[prop] = entry.value
        else:
            alternative.append({"HashName": name, "HashValue": entry.value})
    if alternative:
        media["AlternativeHashes"] = alternative
    if head.comment:
        media["Comments"] = head.comment
    extra: list[list[str]] = []
    is_id_consumed = group.is_generated
    for key, value in head.extra:
        prop = _EXTRA_PROPERTY.get(key, "")
        if prop == "MediaID" and not is_id_consumed:
            is_id_consumed = True
        elif prop and prop != "MediaID" and prop not in media:
            media[prop] = _typed(prop, value)
        else:
            extra.append([key, value])
    for name in ("source", "added_by"):
        if getattr(head, name):
            annotations[name] = getattr(head, name)
    if head.ai_generated is not None:
        annotations["ai_generated"] = head.ai_generated
    if head.added_at is not None:
        annotations["added_at"] = head.added_at.isoformat()
    if extra:
        annotations["extra"] = extra
    media.update((ANNOTATION + name, value) for name, value in annotations.items())
    return media


class VICSFormat(HashListFormat):
    """Project VIC VICS JSON; reads 1.x and 2.0 Media documents, writes 2.0."""

    name: t.ClassVar[str] = "vics"
    description: t.ClassVar[str] = "Project VIC VICS JSON (OData Media, 1.x or 2.0)"
    extensions: t.ClassVar[tuple[str, ...]] = (".json",)

    def read(
        self, stream: t.BinaryIO, *, default_type: str | None = None
    ) -> t.Iterator[HashEntry]:
        del default_type  # every hash in VICS is named
        document = JSONStream(stream)
        entity_set: list[str] = []  # the set the context names, once read

        def records() -> t.Iterator[Item]:
            if entity_set == [CASES_SET]:
                return _case_media(document)
            return document.items()

        for part in document.members("value", records):
            if isinstance(part, Item):
                if not entity_set:
                    _fail("@odata.context must come before value", part.line)
                yield from _entries(part)
            elif part.key in CONTEXT_KEYS:
                context = part.value if isinstance(part.value, str) else ""
                version = _version(part.key, context)
                named = context.rpartition("#")[2]
                if named not in (MEDIA_SET, CASES_SET) or entity_set:
                    _fail(
                        f"not a VICS {version} Media or Cases document: "
                        f"{context[:80]!r}",
                        part.line,
                    )
                entity_set.append(named)
        document.end()
        if not entity_set:
            raise FormatError(
                "no @odata.context naming a Media or Cases document", line=1
            )
        if not document.has_array:
            raise FormatError("no value array of Media records", line=document.line)

    def carries(self, hash_type: str) -> bool:
        return hash_type in _fields.HASH_TYPES

    def write(self, entries: t.Iterable[HashEntry], stream: t.BinaryIO) -> int:
        stream.write(b'{"@odata.context": ' + _fields.encode(json.dumps(CONTEXT_URL)))
        stream.write(b', "value": [')
        count = 0
        separator = b"\n  "
        for group in groups(
            entries,
            id_key=PROPERTY_EXTRA["MediaID"],
            new_id=lambda n: str(GENERATED_MEDIA_ID_START + n),
            slot=lambda entry: _slot(entry.hash_type),
        ):
            media = json.dumps(_media(group), ensure_ascii=False)
            stream.write(separator + _fields.encode(media))
            separator = b",\n  "
            count += len(group.entries)
        stream.write(b"\n]}\n")
        return count
