"""Evidence, generation records and the Extractor interface.

Design notes:
- Evidence is one fact about where an image came from, with where it was read
  (`source`) and how much it is worth (`strength`). Metadata can be stripped or forged,
  so nothing here is "the truth": a valid signature by a known key is `proof`; a
  generator's own metadata block is `strong`; a look-alike value anyone can type (an
  XMP field, camera EXIF) is `weak`. An invalid C2PA manifest is never proof of
  anything.
- `kind` says what the fact points to. Callers count "AI evidence" as evidence whose
  kind is `ai_generated`; everything else (`captured`, `edited`, `provenance`) is
  context for the analyst.
- A generation record is the normalised parameters of the generator (tool, prompt,
  seed, model hash, LoRAs). Extractors may each propose one; `merge_records` keeps at
  most one per item.
- Extractors read untrusted bytes. They raise `MetadataError` (a `MediaError`, so it
  becomes an error record with its reason) for malformed input, never anything else
  on purpose; `vigil.provenance.run` turns any other exception into an error record
  too, and bounds each extractor in time.
- Everything here is plain data (frozen dataclasses, JSON-able `details`) so results
  cross process boundaries and go into the store unchanged.
"""

import abc
import dataclasses
import enum
import typing as t

from vigil.hashing.model import ModelHash
from vigil.media.base import MediaKind
from vigil.media.errors import (
    MediaError,
    MetadataError,
)
from vigil.media.subject import Subject

JSONValue = t.Any  # str | int | float | bool | None | list | dict of these

#: Each extractor reads at most this much text from one metadata field (a PNG text
#: chunk, an EXIF UserComment, an XMP packet). Real A1111/ComfyUI blocks are < 200 KB;
#: ComfyUI workflows with many nodes reach ~1 MB.
MAX_METADATA_BYTES = 4 * 1024 * 1024
#: Default wall-clock bound for one extractor on one item.
DEFAULT_EXTRACTOR_SECONDS = 10.0


class Strength(enum.StrEnum):
    """How much a piece of evidence is worth on its own."""

    PROOF = "proof"  # cryptographically verified (a valid signature by a known key)
    STRONG = "strong"  # a generator's own structured metadata, or a known watermark
    WEAK = "weak"  # a value anyone can type or strip (XMP field, camera EXIF)


class EvidenceKind(enum.StrEnum):
    """What a piece of evidence points to."""

    AI_GENERATED = "ai_generated"
    CAPTURED = "captured"  # made by a camera
    EDITED = "edited"  # edited by software (not itself a claim of AI generation)
    PROVENANCE = "provenance"  # provenance data present; says nothing about AI


@dataclasses.dataclass(frozen=True)
class LoRA:
    """A LoRA (or LyCORIS, or textual inversion) the generator applied."""

    name: str
    weight: float | None = None
    hash: ModelHash | None = None
    kind: str = "lora"  # lora | lycoris | embedding

    def as_dict(self) -> dict[str, JSONValue]:
        return {
            "name": self.name,
            "weight": self.weight,
            "hash": self.hash.as_dict() if self.hash else None,
            "kind": self.kind,
        }


@dataclasses.dataclass(frozen=True)
class GenerationRecord:
    """Normalised generator parameters. Fields the source did not carry are None.

    `source` is where the record was read (`png:parameters`, `exif:UserComment`,
    `stealth:alpha`, `png:prompt`, ...); `other_models` holds further model
    files the generator named (VAE, UNET, CLIP, refiner, upscaler); `extra` keeps
    remaining key/values as the source spelled them, for the analyst.
    """

    tool: str
    source: str
    tool_version: str | None = None
    prompt: str | None = None
    negative_prompt: str | None = None
    seed: int | None = None
    steps: int | None = None
    sampler: str | None = None
    cfg_scale: float | None = None
    width: int | None = None
    height: int | None = None
    model_name: str | None = None
    model_hash: ModelHash | None = None
    loras: tuple[LoRA, ...] = ()
    other_models: tuple[str, ...] = ()
    extra: t.Mapping[str, JSONValue] = dataclasses.field(default_factory=dict)

    def filled_fields(self) -> int:
        """How many of the normalised fields carry a value (to rank candidates)."""
        names = (
            "tool_version prompt negative_prompt seed steps sampler cfg_scale width "
            "height model_name model_hash"
        ).split()
        filled = sum(getattr(self, name) is not None for name in names)
        return filled + bool(self.loras) + bool(self.other_models)

    def as_dict(self) -> dict[str, JSONValue]:
        out: dict[str, JSONValue] = dataclasses.asdict(self)
        out["model_hash"] = self.model_hash.as_dict() if self.model_hash else None
        out["loras"] = [lora.as_dict() for lora in self.loras]
        out["other_models"] = list(self.other_models)
        out["extra"] = dict(self.extra)
        return out


@dataclasses.dataclass(frozen=True)
class Evidence:
    """One fact about where an image came from."""

    kind: EvidenceKind
    source: str  # where it was read: "c2pa", "xmp", "png:parameters", "exif", ...
    strength: Strength
    summary: str  # one sentence an analyst can read
    extractor: str = ""  # filled in by the runner
    details: t.Mapping[str, JSONValue] = dataclasses.field(default_factory=dict)

    @property
    def is_ai(self) -> bool:
        return self.kind is EvidenceKind.AI_GENERATED

    def as_dict(self) -> dict[str, JSONValue]:
        return {
            "kind": self.kind.value,
            "source": self.source,
            "strength": self.strength.value,
            "summary": self.summary,
            "extractor": self.extractor,
            "details": dict(self.details),
        }


@dataclasses.dataclass(frozen=True)
class Extraction:
    """What one extractor found in one item."""

    evidence: tuple[Evidence, ...] = ()
    records: tuple[GenerationRecord, ...] = ()


class ExtractorTimeoutError(MediaError):
    reason = "extractor_timeout"


class Extractor(abc.ABC):
    """Turns an item into evidence and candidate generation records.

    `name` is stable (stored with each piece of evidence); bump `version` whenever
    the output for the same input changes. `media_kinds` lists what the extractor
    reads; the runner skips everything else. `max_seconds` bounds one call.
    `reads_pixels` marks extractors that decode pixels (LSB, watermarks): they are
    skipped for an image the scan already failed to decode, so one broken file
    gives one error record, not one per extractor.
    """

    name: t.ClassVar[str]
    version: t.ClassVar[int] = 1
    media_kinds: t.ClassVar[frozenset[MediaKind]]
    max_seconds: t.ClassVar[float] = DEFAULT_EXTRACTOR_SECONDS
    reads_pixels: t.ClassVar[bool] = False

    def examples(self) -> list[t.Any]:
        """Benign inputs with known results for the contract suite (each with a
        `source` naming where it comes from); empty where none are needed."""
        return []

    @abc.abstractmethod
    def extract(self, subject: Subject) -> Extraction:
        """Evidence found in `subject`; raise `MetadataError` for malformed input."""


def merge_records(records: t.Sequence[GenerationRecord]) -> GenerationRecord | None:
    """At most one generation record per item: the most complete candidate wins
    (ties go to the earlier one, i.e. the extractor listed first)."""
    best: GenerationRecord | None = None
    for record in records:
        if best is None or record.filled_fields() > best.filled_fields():
            best = record
    return best


def read_text_limited(value: bytes | str, limit: int = MAX_METADATA_BYTES) -> str:
    """Text of a metadata field, refusing values over `limit` bytes."""
    if len(value) > limit:
        raise MetadataError(f"metadata field of {len(value)} bytes is over {limit}")
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value
