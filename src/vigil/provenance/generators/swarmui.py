"""SwarmUI (formerly StableSwarmUI) metadata: a JSON object whose `sui_image_params`
holds the parameters, written to the PNG `parameters` chunk or the EXIF UserComment
of JPEG/WebP files. Recent versions add `sui_models` with each model file's hash
(`0x` + 64 hex, SwarmUI's ModelSpec `hash_sha256`)."""

import typing as t

from vigil.hashing.model import ModelHash
from vigil.media.base import MediaKind
from vigil.media.subject import Subject
from vigil.provenance.base import Extraction, Extractor, GenerationRecord, LoRA
from vigil.provenance.generators._chunks import read_fields
from vigil.provenance.generators._decode import load_json_object, looks_like_json_object
from vigil.provenance.generators._record import (
    as_float,
    as_int,
    as_text,
    finding,
    json_safe,
    merge,
    model_hash,
)

TOOL = "SwarmUI"
PARAMS_KEY = "sui_image_params"
_HANDLED = {
    "prompt",
    "negativeprompt",
    "model",
    "seed",
    "steps",
    "cfgscale",
    "width",
    "height",
    "sampler",
    "swarm_version",
    "loras",
    "loraweights",
}
_OTHER_MODEL_KEYS = ("vae", "refinermodel", "refinervae", "controlnetmodel")
#: Most LoRA or model entries read.
MAX_ENTRIES = 200


class SwarmUIExtractor(Extractor):
    """SwarmUI's `sui_image_params` JSON."""

    name = "swarmui"
    media_kinds = frozenset({MediaKind.PNG, MediaKind.JPEG, MediaKind.WEBP})

    def extract(self, subject: Subject) -> Extraction:
        fields = read_fields(subject)
        found: list[Extraction] = []
        for source, text in (
            ("png:parameters", fields.png_text("parameters")),
            ("exif:UserComment", fields.exif_text("UserComment")),
        ):
            if text is None or not looks_like_json_object(text):
                continue
            if PARAMS_KEY not in text:
                continue  # cheap reject before parsing someone else's JSON
            record = parse_swarmui(load_json_object(text, source), source)
            if record is not None:
                found.append(finding(record, f"{TOOL} parameters in {source}"))
        return merge(*found)


def parse_swarmui(data: t.Mapping[str, t.Any], source: str) -> GenerationRecord | None:
    params = data.get(PARAMS_KEY)
    if not isinstance(params, dict):
        return None
    hashes = _model_hashes(data.get("sui_models"))
    model = as_text(params.get("model"))
    extra = {k: json_safe(v) for k, v in params.items() if k not in _HANDLED}
    if isinstance(data.get("sui_extra_data"), dict):
        extra["sui_extra_data"] = json_safe(data["sui_extra_data"])
    return GenerationRecord(
        tool=TOOL,
        source=source,
        tool_version=as_text(params.get("swarm_version")),
        prompt=as_text(params.get("prompt")),
        negative_prompt=as_text(params.get("negativeprompt")),
        seed=as_int(params.get("seed")),
        steps=as_int(params.get("steps")),
        sampler=as_text(params.get("sampler")),
        cfg_scale=as_float(params.get("cfgscale")),
        width=as_int(params.get("width")),
        height=as_int(params.get("height")),
        model_name=model,
        model_hash=_lookup(hashes, "model", model),
        loras=_loras(params, hashes),
        other_models=tuple(
            str(params[k]) for k in _OTHER_MODEL_KEYS if as_text(params.get(k))
        ),
        extra=extra,
    )


def _model_hashes(value: t.Any) -> dict[tuple[str, str], ModelHash]:
    """`sui_models` entries keyed by (param, file stem)."""
    found: dict[tuple[str, str], ModelHash] = {}
    if not isinstance(value, list):
        return found
    for entry in value[:MAX_ENTRIES]:
        if not isinstance(entry, dict):
            continue
        name, param = entry.get("name"), entry.get("param")
        parsed = model_hash(entry.get("hash"))
        if isinstance(name, str) and isinstance(param, str) and parsed is not None:
            found[(param, _stem(name))] = parsed
    return found


def _stem(name: str) -> str:
    for suffix in (".safetensors", ".ckpt", ".pt", ".gguf", ".sft"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _lookup(
    hashes: dict[tuple[str, str], ModelHash], param: str, name: str | None
) -> ModelHash | None:
    if name is None:
        return None
    return hashes.get((param, _stem(name)))


def _loras(
    params: t.Mapping[str, t.Any], hashes: dict[tuple[str, str], ModelHash]
) -> tuple[LoRA, ...]:
    names = params.get("loras")
    weights = params.get("loraweights")
    if not isinstance(names, list):
        return ()
    if not isinstance(weights, list):
        weights = []
    loras: list[LoRA] = []
    for index, name in enumerate(names[:MAX_ENTRIES]):
        if not isinstance(name, str) or not name:
            continue
        weight = as_float(weights[index]) if index < len(weights) else None
        loras.append(LoRA(name, weight, _lookup(hashes, "loras", name)))
    return tuple(loras)
