"""NCMEC hash-sharing XML (API v2 `queryResult`), including the generative-AI list.

Element names follow NCMEC's v2 responses as python-threatexchange parses and tests
them (`exchanges/clients/ncmec/hash_api.py`, `tests/data.py`): `<image>`/`<video>`
entries with `<member>`, `<timestamp>`, `<id>`, `<classification>`, `<fingerprints>`.
"""

import typing as t
import xml.etree.ElementTree as ET

from vigil.matching.base import FormatError, HashEntry, HashListFormat
from vigil.matching.formats import _fields
from vigil.matching.formats._grouping import Group, extra_value, groups
from vigil.matching.formats._xmlsafe import (
    XMLEvents,
    escape_attr,
    escape_text,
    local_name,
)

NCMEC_NAMESPACE = "https://hashsharing.ncmec.org/hashsharing/v2"
#: Labels NCMEC has no element for travel in `<vigil:labels>`, which NCMEC's own
#: readers skip as an unknown element.
VIGIL_NAMESPACE = "urn:vigil:hashlist:1"
#: Root attribute marking a list written as NCMEC's generative-AI CSAM list.
GENAI_ATTRIBUTE = f"{{{VIGIL_NAMESPACE}}}list"
GENAI_LIST = "generative-ai"
CONTAINERS = {"images": "image", "videos": "video"}
#: Fingerprint element → Vigil type (`md5` in a `<video>` is `video_md5`).
FINGERPRINTS = {
    "md5": "md5",
    "sha1": "sha1",
    "pdna": "photodna",
    "pdq": "pdq",
    "tmk-pdqf": "video_tmk",
    "videntifier": "videntifier",
    "netclean": "netclean",
    "ssvh-pdna": "ssvh_pdna",
    "ssvh-safer-hash": "ssvh_safer_hash",
}
_ELEMENTS = {hash_type: name for name, hash_type in FINGERPRINTS.items()}
_ELEMENTS["video_md5"] = "md5"
#: `<classification>A1</classification>` ↔ category `ncmec_a1`.
CATEGORY_PREFIX = "ncmec_"
ID_KEY, MEMBER_KEY, MEDIA_KEY = "ncmec_id", "ncmec_member_id", "ncmec_media"


def _children(entry: ET.Element) -> dict[str, ET.Element]:
    found: dict[str, ET.Element] = {}
    for child in entry:
        namespace, name = local_name(child.tag)
        key = f"vigil:{name}" if namespace == VIGIL_NAMESPACE else name
        found.setdefault(key, child)
    return found


def _vigil_labels(element: ET.Element | None, line: int) -> dict[str, t.Any]:
    labels: dict[str, t.Any] = {"extra": []}
    for child in [] if element is None else element:
        _namespace, name = local_name(child.tag)
        text = child.text or ""
        if name in ("category", "added_by", "comment"):
            labels[name] = _fields.text_or_none(text)
        elif name == "ai_generated":
            labels[name] = _fields.parse_bool(text, what="ai_generated", line=line)
        elif name == "extra":
            labels["extra"].append((child.get("key", ""), text))
    return labels


def _hashes(
    fingerprints: ET.Element | None, media: str, lines: dict[ET.Element, int]
) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for child in [] if fingerprints is None else fingerprints:
        line = lines.get(child)
        _namespace, name = local_name(child.tag)
        hash_type = FINGERPRINTS.get(name.lower())
        if hash_type is None:
            known = ", ".join(FINGERPRINTS)
            raise FormatError(
                f"unknown fingerprint <{name}> (known: {known})", line=line
            )
        text = child.text or ""
        if not text.strip():
            continue  # a link (`rel="self" href=...`) to a large fingerprint, no value
        if hash_type == "md5" and media == "video":
            hash_type = "video_md5"
        found.append((hash_type, _fields.normalise(hash_type, text, line=line)))
    return list(dict.fromkeys(found))


def _entries(
    entry: ET.Element, media: str, lines: dict[ET.Element, int], is_genai: bool
) -> list[HashEntry]:
    line = lines[entry]
    children = _children(entry)
    hashes = _hashes(children.get("fingerprints"), media, lines)
    if not hashes:
        return []  # e.g. a video whose only fingerprints are links
    record_id = (children["id"].text or "").strip() if "id" in children else ""
    if not record_id:
        raise FormatError(f"an <{media}> without an <id>", line=line)
    labels = _vigil_labels(children.get("vigil:labels"), line)
    extra = [(ID_KEY, record_id), (MEDIA_KEY, media), *labels.pop("extra")]
    member = children.get("member")
    if member is not None:
        labels["source"] = _fields.text_or_none(member.text)
        if member.get("id") is not None:
            extra.append((MEMBER_KEY, member.get("id", "")))
    if "timestamp" in children and (children["timestamp"].text or "").strip():
        stamp = children["timestamp"].text or ""
        labels["added_at"] = _fields.parse_time(stamp, what="timestamp", line=line)
    code = (
        (children["classification"].text or "") if "classification" in children else ""
    )
    if code.strip() and labels.get("category") is None:
        labels["category"] = CATEGORY_PREFIX + code.strip().lower()
    if is_genai and labels.get("ai_generated") is None:
        labels["ai_generated"] = True
    extra_pairs = _fields.sorted_extra(extra)
    return [
        HashEntry(hash_type=kind, value=value, extra=extra_pairs, **labels)
        for kind, value in hashes
    ]


def _media_of(group: Group) -> str:
    types = {entry.hash_type for entry in group.entries}
    media = extra_value(group.entries[0], MEDIA_KEY)
    if media is None:
        media = "video" if types & {"video_md5", "video_tmk"} else "image"
    if media not in CONTAINERS.values():
        raise FormatError(f"{MEDIA_KEY} must be image or video, not {media!r}")
    wrong = "video_md5" if media == "image" else "md5"
    if wrong in types:
        raise FormatError(f"an NCMEC {media} entry cannot hold {wrong}")
    return media


def _is_classification(code: str) -> bool:
    # Only codes that come back unchanged: read as `ncmec_` + text.strip().lower().
    return bool(code) and code == code.strip() and code.upper().lower() == code


def _element(name: str, text: str, attrs: str = "") -> str:
    return f"<{name}{attrs}>{escape_text(text)}</{name}>"


def _entry_xml(group: Group, media: str, is_genai: bool) -> str:
    head = group.entries[0]
    parts = [f"    <{media}>"]
    member_id = extra_value(head, MEMBER_KEY)
    if member_id is not None or head.source:
        attrs = "" if member_id is None else f' id="{escape_attr(member_id)}"'
        parts.append(_element("member", head.source or "", attrs))
    if head.added_at is not None:
        parts.append(_element("timestamp", _fields.format_time(head.added_at)))
    parts.append(_element("id", group.record_id))
    category = head.category or ""
    labels: list[str] = []
    code = category.removeprefix(CATEGORY_PREFIX)
    if category.startswith(CATEGORY_PREFIX) and _is_classification(code):
        parts.append(_element("classification", code.upper()))
    elif category:
        labels.append(_element("vigil:category", category))
    fingerprints: list[str] = []
    for entry in group.entries:
        name = _ELEMENTS.get(entry.hash_type)
        if name is None:
            raise FormatError(f"ncmec_xml has no fingerprint for {entry.hash_type}")
        if any(f.startswith(f"<{name}>") for f in fingerprints):
            raise FormatError(f"NCMEC entry {group.record_id} has two {name}")
        fingerprints.append(_element(name, entry.value))
    parts.append(f"<fingerprints>{''.join(fingerprints)}</fingerprints>")
    if is_genai and head.ai_generated is not True:
        raise FormatError("the generative-AI list holds only ai_generated entries")
    if head.ai_generated is not None and not is_genai:
        labels.append(
            _element("vigil:ai_generated", _fields.format_bool(head.ai_generated))
        )
    for name in ("added_by", "comment"):
        if getattr(head, name):
            labels.append(_element(f"vigil:{name}", getattr(head, name)))
    # Their first values are written above (a new id leaves the entry's own a label).
    consumed = {MEDIA_KEY, MEMBER_KEY} | (set() if group.is_generated else {ID_KEY})
    for key, value in head.extra:
        if key in consumed:
            consumed.discard(key)
            continue
        labels.append(_element("vigil:extra", value, f' key="{escape_attr(key)}"'))
    if labels:
        parts.append(f"<vigil:labels>{''.join(labels)}</vigil:labels>")
    parts.append(f"</{media}>\n")
    return "".join(parts)


class NCMECXMLFormat(HashListFormat):
    """NCMEC hash-sharing XML; `is_generative_ai` marks NCMEC's generative-AI list."""

    name: t.ClassVar[str] = "ncmec_xml"
    description: t.ClassVar[str] = "NCMEC hash-sharing XML (v2 queryResult)"
    extensions: t.ClassVar[tuple[str, ...]] = (".xml",)

    def __init__(self, *, is_generative_ai: bool = False) -> None:
        self.is_generative_ai = is_generative_ai

    def read(
        self, stream: t.BinaryIO, *, default_type: str | None = None
    ) -> t.Iterator[HashEntry]:
        del default_type  # every fingerprint is named
        events = XMLEvents(stream)
        stack: list[ET.Element] = []
        lines: dict[ET.Element, int] = {}
        is_genai = self.is_generative_ai
        for event, element, line in events:
            if event == "start":
                stack.append(element)
                if len(stack) >= 3:
                    lines[element] = line
                elif len(stack) == 1:
                    if local_name(element.tag)[1] != "queryResult":
                        raise FormatError(
                            "not an NCMEC queryResult document", line=line
                        )
                    is_genai = is_genai or element.get(GENAI_ATTRIBUTE) == GENAI_LIST
                continue
            depth = len(stack)
            stack.pop()
            if depth == 3:
                container = local_name(stack[-1].tag)[1]
                media = CONTAINERS.get(container)
                if media is not None and local_name(element.tag)[1] == media:
                    yield from _entries(element, media, lines, is_genai)
                lines.clear()
            if depth in (2, 3):
                stack[-1].remove(element)  # keep memory to one entry
                events.mark_boundary()

    def carries(self, hash_type: str) -> bool:
        return hash_type in _ELEMENTS

    def write(self, entries: t.Iterable[HashEntry], stream: t.BinaryIO) -> int:
        genai = f' vigil:list="{GENAI_LIST}"' if self.is_generative_ai else ""
        stream.write(
            _fields.encode(
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<queryResult xmlns="{NCMEC_NAMESPACE}" '
                f'xmlns:vigil="{VIGIL_NAMESPACE}"{genai}>\n'
            )
        )
        count = 0
        open_media: str | None = None
        for group in groups(
            entries,
            id_key=ID_KEY,
            new_id=lambda n: f"vigil-{n + 1}",
            slot=lambda entry: _ELEMENTS.get(entry.hash_type, entry.hash_type),
        ):
            media = _media_of(group)
            if media != open_media:
                # A new container when the kind changes keeps writing in one pass.
                if open_media is not None:
                    stream.write(f"  </{open_media}s>\n".encode("ascii"))
                stream.write(f"  <{media}s>\n".encode("ascii"))
                open_media = media
            stream.write(
                _fields.encode(_entry_xml(group, media, self.is_generative_ai))
            )
            count += len(group.entries)
        if open_media is not None:
            stream.write(f"  </{open_media}s>\n".encode("ascii"))
        stream.write(b"</queryResult>\n")
        return count


class NCMECGenAIXMLFormat(NCMECXMLFormat):
    """NCMEC's generative-AI CSAM list: the same XML, every entry AI-generated."""

    name: t.ClassVar[str] = "ncmec_genai_xml"
    description: t.ClassVar[str] = (
        "NCMEC hash-sharing XML, generative-AI list (entries are ai_generated)"
    )

    def __init__(self) -> None:
        super().__init__(is_generative_ai=True)
