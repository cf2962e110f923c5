"""Fooocus's own metadata scheme: a JSON object in the PNG `parameters` chunk (with
a `fooocus_scheme` chunk beside it) or in the EXIF UserComment of JPEG/WebP files
(with the scheme in MakerNote and the version in Software).

The same JSON field may hold RuinedFooocus's or a Hugging Face Space's scheme
instead; `_json_params` reads those.

Fooocus's other scheme (`a1111`) writes A1111 infotext with `Version: Fooocus ...`
and is read by the A1111 extractor, which names the tool from that version.
"""

import re
import typing as t

from vigil.media.base import MediaKind
from vigil.media.subject import Subject
from vigil.provenance.base import Extraction, Extractor, GenerationRecord, LoRA
from vigil.provenance.generators._chunks import read_fields
from vigil.provenance.generators._decode import load_json_object, looks_like_json_object
from vigil.provenance.generators._json_params import MARKERS, parse_json_params
from vigil.provenance.generators._record import (
    as_float,
    as_int,
    as_text,
    finding,
    json_safe,
    merge,
    model_hash,
)

TOOL = "Fooocus"
_SCHEME = "fooocus"
_RESOLUTION = re.compile(r"\(\s*(\d{1,6})\s*,\s*(\d{1,6})\s*\)")
_DEFAULTS = {"None", "Default (model)", ""}
_EXTRA_KEYS = (
    "styles",
    "performance",
    "scheduler",
    "sharpness",
    "adm_guidance",
    "clip_skip",
    "refiner_switch",
    "prompt_expansion",
    "full_prompt",
    "full_negative_prompt",
    "metadata_scheme",
)
#: Most LoRA entries read (the Fooocus UI offers five).
MAX_LORAS = 100


class FooocusExtractor(Extractor):
    """Fooocus's JSON metadata scheme."""

    name = "fooocus"
    version = 2
    media_kinds = frozenset({MediaKind.PNG, MediaKind.JPEG, MediaKind.WEBP})

    def extract(self, subject: Subject) -> Extraction:
        fields = read_fields(subject)
        found: list[Extraction] = []
        png_scheme = fields.png.get("fooocus_scheme")
        exif_scheme = fields.exif.get("MakerNote")
        for source, text, scheme in (
            ("png:parameters", fields.png_text("parameters"), png_scheme),
            ("exif:UserComment", fields.exif_text("UserComment"), exif_scheme),
        ):
            if text is None or not looks_like_json_object(text):
                continue
            is_marked = scheme is not None and scheme.text == _SCHEME
            is_other = any(marker in text for marker in MARKERS)
            if not is_marked and not is_other and "ooocus" not in text:
                continue  # cheap reject before parsing someone else's JSON
            data = load_json_object(text, source)
            record = None
            if is_marked or is_fooocus(data):
                record = parse_fooocus(data, source)
            elif is_other:
                record = parse_json_params(data, source)
            if record is not None:
                found.append(finding(record, f"{record.tool} metadata in {source}"))
        return merge(*found)


def is_fooocus(data: t.Mapping[str, t.Any]) -> bool:
    version = data.get("version")
    is_versioned = isinstance(version, str) and version.startswith(TOOL)
    return is_versioned or data.get("metadata_scheme") == _SCHEME


def parse_fooocus(data: t.Mapping[str, t.Any], source: str) -> GenerationRecord:
    version = data.get("version")
    tool_version = None
    if isinstance(version, str):
        tool_version = version.removeprefix(TOOL).strip() or None
    width, height = _resolution(data.get("resolution"))
    others = [
        str(data[key])
        for key in ("refiner_model", "vae")
        if isinstance(data.get(key), str) and data[key] not in _DEFAULTS
    ]
    return GenerationRecord(
        tool=TOOL,
        source=source,
        tool_version=tool_version,
        prompt=as_text(data.get("prompt")),
        negative_prompt=as_text(data.get("negative_prompt")),
        seed=as_int(data.get("seed")),
        steps=as_int(data.get("steps")),
        sampler=as_text(data.get("sampler")),
        cfg_scale=as_float(data.get("guidance_scale")),
        width=width,
        height=height,
        model_name=as_text(data.get("base_model")),
        model_hash=model_hash(data.get("base_model_hash")),
        loras=_loras(data.get("loras")),
        other_models=tuple(others),
        extra={k: json_safe(data[k]) for k in _EXTRA_KEYS if k in data},
    )


def _resolution(value: t.Any) -> tuple[int | None, int | None]:
    if isinstance(value, list) and len(value) == 2:
        return as_int(value[0]), as_int(value[1])
    match = _RESOLUTION.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None, None
    return int(match.group(1)), int(match.group(2))


def _loras(value: t.Any) -> tuple[LoRA, ...]:
    """Entries as `[name, weight(, hash)]` lists or `name : weight(: hash)` text."""
    if not isinstance(value, list):
        return ()
    loras: list[LoRA] = []
    for entry in value[:MAX_LORAS]:
        parts: list[t.Any]
        if isinstance(entry, list):
            parts = list(entry)
        elif isinstance(entry, str):
            parts = [p.strip() for p in entry.split(" : ")]
        else:
            continue
        name = as_text(parts[0]) if parts else None
        if name is None or name in _DEFAULTS:
            continue
        weight = as_float(parts[1]) if len(parts) > 1 else None
        lora_hash = model_hash(parts[2]) if len(parts) > 2 else None
        loras.append(LoRA(name, weight, lora_hash))
    return tuple(loras)
