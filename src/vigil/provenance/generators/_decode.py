"""Bounded decoders shared by the generator readers: zlib/gzip inflation with an
output cap, and JSON with size and nesting caps.

Separate from the chunk reader because the stealth reader (pixels, not chunks) needs
the same bounds for its gzip payloads and JSON.
"""

import json
import typing as t
import zlib

from vigil.media.errors import MetadataError
from vigil.provenance.base import MAX_METADATA_BYTES, read_text_limited

#: Deepest JSON nesting accepted. Real generator metadata is shallow: ComfyUI
#: workflows (the deepest seen) nest about 8 levels (nodes, inputs, widget values,
#: groups); 64 leaves wide room while refusing the "[[[[..." inputs that only exist
#: to exhaust a parser.
MAX_JSON_DEPTH = 64

#: Output cap for zlib/gzip streams (zTXt/iTXt chunks, gzip stealth payloads): the
#: same bound as any other metadata field.
MAX_INFLATED_BYTES = MAX_METADATA_BYTES

#: zlib window bits: a zlib stream (PNG zTXt/iTXt) or a gzip member (stealth
#: `*comp` payloads), from the zlib manual.
ZLIB_WBITS = zlib.MAX_WBITS
GZIP_WBITS = 16 + zlib.MAX_WBITS

_INFLATE_STEP_BYTES = 1024 * 1024


def inflate_limited(
    data: bytes, *, wbits: int = ZLIB_WBITS, limit: int = MAX_INFLATED_BYTES
) -> bytes:
    """Decompress one zlib stream or gzip member, refusing output over `limit`.

    Raises:
        MetadataError: the stream is corrupt, truncated, or inflates past `limit`
            (a compression bomb).
    """
    inflater = zlib.decompressobj(wbits)
    out = bytearray()
    pending = data
    try:
        while not inflater.eof:
            # max_length bounds every call, so a bomb never inflates in one go;
            # an empty input drains output zlib still holds from earlier input.
            chunk = inflater.decompress(pending, _INFLATE_STEP_BYTES)
            out += chunk
            if len(out) > limit:
                raise MetadataError(
                    f"compressed metadata inflates past the {limit}-byte limit"
                )
            pending = inflater.unconsumed_tail
            if not pending and not chunk:
                break
    except zlib.error as exc:
        raise MetadataError(f"corrupt compressed metadata: {exc}") from exc
    if not inflater.eof:
        raise MetadataError("compressed metadata is truncated")
    return bytes(out)


def load_json(text: str, what: str) -> t.Any:
    """Parse JSON text of one metadata field within the size and nesting caps.

    Raises:
        MetadataError: over the size cap, too deeply nested, or not JSON.
    """
    read_text_limited(text)
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise MetadataError(f"{what}: JSON nested too deeply") from exc
    except ValueError as exc:
        raise MetadataError(f"{what}: not valid JSON ({exc})") from exc
    if json_depth(value) > MAX_JSON_DEPTH:
        raise MetadataError(f"{what}: JSON nested deeper than {MAX_JSON_DEPTH}")
    return value


def load_json_object(text: str, what: str) -> dict[str, t.Any]:
    """`load_json` for fields that must hold a JSON object."""
    value = load_json(text, what)
    if not isinstance(value, dict):
        found = type(value).__name__
        raise MetadataError(f"{what}: expected a JSON object, got {found}")
    return value


def json_depth(value: t.Any) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[t.Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: t.Iterable[t.Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            break
        stack.extend((child, depth) for child in children)
    return deepest


def looks_like_json_object(text: str) -> bool:
    """Cheap test before parsing: does the text open like a JSON object?"""
    return text.lstrip()[:1] == "{"
