"""InvokeAI metadata in its three historical PNG chunks: `invokeai_metadata` (JSON,
3.x onward), `sd-metadata` (JSON, 2.x) and `Dream` (a command line, 1.x/2.0).

2.x and `Dream` prompts carry the negative prompt inside square brackets
(`a lighthouse [blurry, text]`); it is split out here. 4.x+ model records carry
`blake3:`/`sha256:` hashes, which become typed model hashes.
"""

import re
import shlex
import typing as t

from vigil.media.base import MediaKind
from vigil.media.errors import MetadataError
from vigil.media.subject import Subject
from vigil.provenance.base import Extraction, Extractor, GenerationRecord, LoRA
from vigil.provenance.generators._chunks import read_fields
from vigil.provenance.generators._decode import load_json_object
from vigil.provenance.generators._record import (
    as_float,
    as_int,
    as_text,
    finding,
    json_safe,
    merge,
    model_hash,
)

TOOL = "InvokeAI"
_BRACKETED = re.compile(r"\[([^\[\]]*)\]")
_HANDLED_V3 = {
    "positive_prompt",
    "negative_prompt",
    "seed",
    "steps",
    "cfg_scale",
    "scheduler",
    "width",
    "height",
    "model",
    "vae",
    "loras",
    "app_version",
}
#: Most LoRA entries read.
MAX_LORAS = 200
#: Longest `Dream` command line parsed (real ones are a prompt plus ten options).
MAX_DREAM_CHARS = 64 * 1024
# `Dream` command-line switches (InvokeAI 1.x `dream.py` argument parser).
_DREAM_INT = {"-s": "steps", "-S": "seed", "-W": "width", "-H": "height"}
_DREAM_FLOAT = {"-C": "cfg_scale"}
_DREAM_TEXT = {"-A": "sampler", "-m": "model"}


class InvokeAIExtractor(Extractor):
    """InvokeAI's `invokeai_metadata`, `sd-metadata` and `Dream` chunks."""

    name = "invokeai"
    media_kinds = frozenset({MediaKind.PNG})

    def extract(self, subject: Subject) -> Extraction:
        fields = read_fields(subject)
        found: list[Extraction] = []
        json_chunks = (
            ("invokeai_metadata", parse_invokeai_v3),  # InvokeAI 3 and later
            ("sd-metadata", parse_sd_metadata),  # InvokeAI 2
        )
        for chunk, parse in json_chunks:
            text = fields.png_text(chunk)
            if text is not None:
                source = f"png:{chunk}"
                found.append(_describe(parse(load_json_object(text, source), source)))
        text = fields.png_text("Dream")  # the oldest releases: a command line
        if text is not None:
            found.append(_describe(parse_dream(text, "png:Dream")))
        return merge(*found)


def _describe(record: GenerationRecord) -> Extraction:
    return finding(record, f"{TOOL} metadata in {record.source}")


def _model_name(value: t.Any) -> str | None:
    if isinstance(value, dict):
        return as_text(value.get("name")) or as_text(value.get("model_name"))
    return as_text(value)


def parse_invokeai_v3(data: t.Mapping[str, t.Any], source: str) -> GenerationRecord:
    model = data.get("model")
    others = [
        name
        for key in ("vae", "refiner_model")
        if (name := _model_name(data.get(key))) is not None
    ]
    return GenerationRecord(
        tool=TOOL,
        source=source,
        tool_version=as_text(data.get("app_version")),
        prompt=as_text(data.get("positive_prompt")),
        negative_prompt=as_text(data.get("negative_prompt")),
        seed=as_int(data.get("seed")),
        steps=as_int(data.get("steps")),
        sampler=as_text(data.get("scheduler")),
        cfg_scale=as_float(data.get("cfg_scale")),
        width=as_int(data.get("width")),
        height=as_int(data.get("height")),
        model_name=_model_name(model),
        model_hash=model_hash(model.get("hash")) if isinstance(model, dict) else None,
        loras=_v3_loras(data.get("loras")),
        other_models=tuple(others),
        extra={k: json_safe(v) for k, v in data.items() if k not in _HANDLED_V3},
    )


def _v3_loras(value: t.Any) -> tuple[LoRA, ...]:
    """Entries as `{"lora": {...}, "weight": w}` (3.x) or `{"model": {...}, ...}`."""
    if not isinstance(value, list):
        return ()
    loras: list[LoRA] = []
    for entry in value[:MAX_LORAS]:
        if not isinstance(entry, dict):
            continue
        model = entry.get("lora", entry.get("model"))
        name = _model_name(model)
        if name is None:
            continue
        lora_hash = model_hash(model.get("hash")) if isinstance(model, dict) else None
        loras.append(LoRA(name, as_float(entry.get("weight")), lora_hash))
    return tuple(loras)


def split_bracketed(prompt: str) -> tuple[str | None, str | None]:
    """`a lighthouse [blurry, text]` → ("a lighthouse", "blurry, text")."""
    negatives = [m.strip() for m in _BRACKETED.findall(prompt) if m.strip()]
    positive = _BRACKETED.sub("", prompt).strip()
    return positive or None, ", ".join(negatives) or None


def parse_sd_metadata(data: t.Mapping[str, t.Any], source: str) -> GenerationRecord:
    image = data.get("image")
    if not isinstance(image, dict):
        raise MetadataError(f"{source}: no `image` object")
    raw_prompt = image.get("prompt")
    if isinstance(raw_prompt, list):  # [{"prompt": "...", "weight": 1.0}, ...]
        parts = [p.get("prompt") for p in raw_prompt if isinstance(p, dict)]
        raw_prompt = " ".join(p for p in parts if isinstance(p, str))
    if not isinstance(raw_prompt, str):
        raw_prompt = ""
    prompt, negative = split_bracketed(raw_prompt)
    handled = {"prompt", "seed", "steps", "sampler", "cfg_scale", "width", "height"}
    extra = {k: json_safe(v) for k, v in image.items() if k not in handled}
    extra.update({k: json_safe(v) for k, v in data.items() if k != "image"})
    return GenerationRecord(
        tool=TOOL,
        source=source,
        tool_version=as_text(data.get("app_version")),
        prompt=prompt,
        negative_prompt=negative,
        seed=as_int(image.get("seed")),
        steps=as_int(image.get("steps")),
        sampler=as_text(image.get("sampler")),
        cfg_scale=as_float(image.get("cfg_scale")),
        width=as_int(image.get("width")),
        height=as_int(image.get("height")),
        model_name=as_text(data.get("model_weights")) or as_text(data.get("model")),
        model_hash=model_hash(data.get("model_hash")),
        extra=extra,
    )


def parse_dream(text: str, source: str) -> GenerationRecord:
    """A `Dream` command line: `"prompt [negative]" -s 50 -S 42 -W 512 ...`."""
    if len(text) > MAX_DREAM_CHARS:
        raise MetadataError(f"{source}: over {MAX_DREAM_CHARS} characters")
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise MetadataError(f"{source}: unbalanced quotes ({exc})") from exc
    if not words:
        raise MetadataError(f"{source}: empty")
    prompt, negative = split_bracketed(words[0])
    switches = {**_DREAM_INT, **_DREAM_FLOAT, **_DREAM_TEXT}
    values: dict[str, t.Any] = {}
    extra: dict[str, str] = {}
    pending: str | None = None
    for word in words[1:]:
        if pending is not None:
            values[pending] = word
            pending = None
        elif word in switches:
            pending = word
        elif word[:2] in switches:
            values[word[:2]] = word[2:]  # `-s50` form
        else:
            extra[f"arg{len(extra)}"] = word
    parsed = {switches[k]: v for k, v in values.items()}
    return GenerationRecord(
        tool=TOOL,
        source=source,
        prompt=prompt,
        negative_prompt=negative,
        seed=as_int(parsed.get("seed")),
        steps=as_int(parsed.get("steps")),
        sampler=as_text(parsed.get("sampler")),
        cfg_scale=as_float(parsed.get("cfg_scale")),
        width=as_int(parsed.get("width")),
        height=as_int(parsed.get("height")),
        model_name=as_text(parsed.get("model")),
        extra=extra,
    )
