"""JSON `parameters` schemes of smaller tools, read by the Fooocus extractor next to
Fooocus's own scheme: RuinedFooocus (a Fooocus fork, `"software": "RuinedFooocus"`)
and Hugging Face Spaces built on Gradio and diffusers (`num_inference_steps`,
`guidance_scale`, `resolution: "832 x 1216"`).

Key names follow the tools' writers as enslo/sd-metadata documents them
(`ruined-fooocus.ts`, `hf-space.ts`).
"""

import re
import typing as t

from vigil.provenance.base import GenerationRecord, LoRA
from vigil.provenance.generators._record import (
    as_float,
    as_int,
    as_text,
    json_safe,
    model_hash,
)

RUINED_FOOOCUS = "RuinedFooocus"
HF_SPACE = "Hugging Face Space"
#: Most LoRA entries read from one RuinedFooocus block.
MAX_LORAS = 100
#: Markers checked before parsing someone else's JSON.
MARKERS = (f'"{RUINED_FOOOCUS}"', '"num_inference_steps"')
_RESOLUTION = re.compile(r"\s*(\d{1,6})\s*x\s*(\d{1,6})\s*")
_HF_KEYS = {"prompt", "num_inference_steps"}
_RUINED_EXTRA = ("scheduler", "clip_skip", "style", "performance")
_HF_EXTRA = ("style_preset", "use_upscaler", "sampler")


def parse_json_params(
    data: t.Mapping[str, t.Any], source: str
) -> GenerationRecord | None:
    """The record of a RuinedFooocus or Hugging Face Space block, else None."""
    if data.get("software") == RUINED_FOOOCUS:
        return _ruined_fooocus(data, source)
    if _HF_KEYS <= data.keys():
        return _hf_space(data, source)
    return None


def _ruined_fooocus(data: t.Mapping[str, t.Any], source: str) -> GenerationRecord:
    return GenerationRecord(
        tool=RUINED_FOOOCUS,
        source=source,
        prompt=as_text(data.get("Prompt")),
        negative_prompt=as_text(data.get("Negative")),
        seed=as_int(data.get("seed")),
        steps=as_int(data.get("steps")),
        sampler=as_text(data.get("sampler_name")),
        cfg_scale=as_float(data.get("cfg")),
        width=as_int(data.get("width")),
        height=as_int(data.get("height")),
        model_name=as_text(data.get("base_model_name")),
        model_hash=model_hash(data.get("base_model_hash")),
        loras=_loras(data.get("loras")),
        extra={k: json_safe(data[k]) for k in _RUINED_EXTRA if k in data},
    )


def _loras(value: t.Any) -> tuple[LoRA, ...]:
    """Entries as `{"name": ..., "weight": ...}` objects or `[name, weight]` lists."""
    found: list[LoRA] = []
    for entry in value[:MAX_LORAS] if isinstance(value, list) else []:
        if isinstance(entry, dict):
            name, weight = entry.get("name"), entry.get("weight")
        elif isinstance(entry, list) and entry:
            name, weight = entry[0], entry[1] if len(entry) > 1 else None
        else:
            continue
        if as_text(name) and name != "None":
            found.append(LoRA(str(name), as_float(weight)))
    return tuple(found)


def _hf_space(data: t.Mapping[str, t.Any], source: str) -> GenerationRecord:
    resolution = data.get("resolution")
    match = _RESOLUTION.fullmatch(resolution) if isinstance(resolution, str) else None
    width = int(match.group(1)) if match else as_int(data.get("width"))
    height = int(match.group(2)) if match else as_int(data.get("height"))
    return GenerationRecord(
        tool=HF_SPACE,
        source=source,
        prompt=as_text(data.get("prompt")),
        negative_prompt=as_text(data.get("negative_prompt")),
        seed=as_int(data.get("seed")),
        steps=as_int(data.get("num_inference_steps")),
        sampler=as_text(data.get("sampler")),
        cfg_scale=as_float(data.get("guidance_scale")),
        width=width,
        height=height,
        model_name=as_text(data.get("Model")),
        model_hash=model_hash(data.get("Model hash")),
        extra={k: json_safe(data[k]) for k in _HF_EXTRA if k in data},
    )
