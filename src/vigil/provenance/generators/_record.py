"""Small normalisers shared by the generator readers: model-hash conventions, number
coercion from loosely typed metadata, and the evidence each record produces."""

import math
import re
import typing as t

from vigil.hashing.model import ModelHash, ModelHashKind
from vigil.provenance.base import (
    Evidence,
    EvidenceKind,
    Extraction,
    GenerationRecord,
    JSONValue,
    Strength,
)

#: The model-sharing ecosystem's hash conventions by hex length (A1111
#: `modules/hashes.py` and `sd_models.py`: `Model hash` was the 8-hex legacy hash,
#: then the first 10 hex of the file SHA-256; LoRA `autov3` is 12 hex of the
#: safetensors tensor-data SHA-256; Civitai lists all of them).
HASH_KIND_BY_HEX_LENGTH: t.Mapping[int, ModelHashKind] = {
    8: ModelHashKind.AUTOV1,
    10: ModelHashKind.AUTOV2,
    12: ModelHashKind.AUTOV3,
    64: ModelHashKind.SHA256,
}
_PREFIXED_KINDS = {"sha256": ModelHashKind.SHA256, "blake3": ModelHashKind.BLAKE3}
_HEX = re.compile(r"[0-9a-f]+")
_INT = re.compile(r"[+-]?\d{1,40}")


def model_hash(value: t.Any) -> ModelHash | None:
    """A model hash in one of the known conventions, or None.

    Accepts bare hex (kind from its length), `0x`-prefixed hex (SwarmUI) and
    `sha256:`/`blake3:` prefixes (InvokeAI).
    """
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    kind: ModelHashKind | None = None
    prefix, sep, rest = text.partition(":")
    if sep:
        kind = _PREFIXED_KINDS.get(prefix)
        if kind is None:
            return None
        text = rest
    text = text.removeprefix("0x")
    if not _HEX.fullmatch(text):
        return None
    if kind is None:
        kind = HASH_KIND_BY_HEX_LENGTH.get(len(text))
    elif len(text) != 64:
        return None
    return ModelHash(kind, text) if kind is not None else None


def as_int(value: t.Any) -> int | None:
    """An integer from an int, an integral float or a decimal string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INT.fullmatch(value.strip()):
        return int(value.strip())
    return None


def as_float(value: t.Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def as_text(value: t.Any) -> str | None:
    """Non-empty text, or None."""
    if isinstance(value, str) and value.strip():
        return value
    return None


def json_safe(value: t.Any) -> JSONValue:
    """`value` as plain JSON data (tuples become lists, other objects strings)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return str(value)


def finding(
    record: GenerationRecord,
    summary: str,
    *,
    strength: Strength = Strength.STRONG,
    details: t.Mapping[str, JSONValue] | None = None,
) -> Extraction:
    """The AI evidence and generation record for one generator metadata block."""
    facts: dict[str, JSONValue] = {
        "tool": record.tool,
        "tool_version": record.tool_version,
        "model_name": record.model_name,
        "model_hash": record.model_hash.as_dict() if record.model_hash else None,
    }
    facts.update(details or {})
    evidence = Evidence(
        kind=EvidenceKind.AI_GENERATED,
        source=record.source,
        strength=strength,
        summary=summary,
        details=facts,
    )
    return Extraction(evidence=(evidence,), records=(record,))


def merge(*extractions: Extraction) -> Extraction:
    evidence = tuple(e for x in extractions for e in x.evidence)
    records = tuple(r for x in extractions for r in x.records)
    return Extraction(evidence=evidence, records=records)
