"""AUTOMATIC1111-format generation parameters ("infotext"), as written by
AUTOMATIC1111, Forge, SD.Next and Fooocus's A1111 scheme: the PNG `parameters` text
chunk, or the EXIF UserComment of JPEG/WebP/AVIF files.

The format: prompt lines, an optional `Negative prompt:` line, then one line of
`Key: value, ...` pairs that starts with `Steps:`; values may be JSON-quoted strings
containing commas. The tool is named from `Version` (Forge versions start with
`f<digit>`, e.g. `f2.0.1v1.10.1-previous-...`) or `App`. LoRAs come from
`<lora:name:weight>` tags in the prompt, joined by name with `Lora hashes`;
textual inversions come from `TI hashes`.
"""

import json
import re
import typing as t

from vigil.hashing.model import ModelHash
from vigil.media.base import MediaKind
from vigil.media.subject import Subject
from vigil.provenance.base import Extraction, Extractor, GenerationRecord, LoRA
from vigil.provenance.generators._chunks import Fields, read_fields
from vigil.provenance.generators._decode import looks_like_json_object
from vigil.provenance.generators._record import (
    as_float,
    as_int,
    finding,
    merge,
    model_hash,
)

# One `Key: value` pair of the parameters line: a key of words, spaces, `-` and `/`,
# then a JSON-quoted string (which may hold commas), a flat JSON object (Civitai's
# unquoted `Hashes: {...}`), a JSON array of flat objects (`Civitai resources:
# [{...}, ...]`) or everything up to a comma. Keys are bounded and the
# pattern opens on a letter (no leading `\s*`), so a hostile line cannot make the
# scan quadratic.
_PAIR = re.compile(
    r"([A-Za-z][\w \-/]{0,63}):\s*"
    r'("(?:\\.|[^\\"])*"|\{[^{}]*\}|\[(?:[^\[\]{}]|\{[^{}]*\})*\]|[^,]*)(?:,|$)'
)
_NEGATIVE = "Negative prompt:"
_SIZE = re.compile(r"\s*(\d{1,6})\s*x\s*(\d{1,6})\s*")
# `<lora:name:weight>` and the LyCORIS extension's `<lyco:name:weight>`; a second
# number (`:te:unet` weights) and named arguments are allowed and ignored.
_LORA_TAG = re.compile(r"<(lora|lyco):([^:<>]+)(?::([^<>]*))?>", re.IGNORECASE)
_FORGE_VERSION = re.compile(r"f\d")
# Forge Classic (Haoming02/sd-webui-forge-classic) and Forge Neo (its `neo` branch)
# write `Version: classic` / `Version: neo`.
_FORGE_FORKS = {"classic": "Forge Classic", "neo": "Forge Neo"}
_CIVITAI_RESOURCES = "Civitai resources"
#: Longest `Civitai resources` list read (Civitai's generator allows a checkpoint
#: and a few dozen additional resources).
MAX_CIVITAI_RESOURCES = 200
#: Fewest pairs on a parameters line (A1111 `parse_generation_parameters` treats a
#: last line with fewer than three pairs as part of the prompt).
MIN_PARAMETER_PAIRS = 3
#: Longest parameters line read. Real ones are under 20 KB even with dynamic-prompt
#: templates and many LoRA hashes; a longer last line is prompt text, not pairs.
MAX_PARAMETERS_LINE_CHARS = 256 * 1024
#: Longest list of `name: hash` entries read from one field.
MAX_HASH_ENTRIES = 1000

_HANDLED = {
    "Steps",
    "Sampler",
    "CFG scale",
    "Seed",
    "Size",
    "Model hash",
    "Model",
    "Version",
    "Lora hashes",
    "TI hashes",
    "Hashes",
}


class A1111Extractor(Extractor):
    """Generation parameters in the AUTOMATIC1111 text format.

    A PNG `parameters` chunk beside a ComfyUI `prompt` graph is a saver node's
    rendering of that graph (comfy-image-saver, SaveImageWithMetaData, Stability
    Matrix): it is evidence, but the graph is what ran, so no record is proposed
    from the copy.
    """

    name = "a1111"
    version = 2
    media_kinds = frozenset(
        {MediaKind.PNG, MediaKind.JPEG, MediaKind.WEBP, MediaKind.TIFF, MediaKind.HEIF}
    )

    def extract(self, subject: Subject) -> Extraction:
        fields = read_fields(subject)
        found: list[Extraction] = []
        for key, text in (
            ("png:parameters", fields.png_text("parameters")),
            ("exif:UserComment", fields.exif_text("UserComment")),
        ):
            if text is None or looks_like_json_object(text):
                continue  # JSON blocks belong to SwarmUI, Fooocus and NovelAI
            record = parse_a1111(text, key)
            if record is None:
                continue
            if key == "png:parameters" and _beside_comfy_graph(fields):
                summary = (
                    f"A1111-style parameters in {key} beside a ComfyUI graph "
                    "(written by a saver node)"
                )
                evidence = finding(record, summary).evidence
                found.append(Extraction(evidence=evidence))
            else:
                found.append(describe(record))
        return merge(*found)


def _beside_comfy_graph(fields: Fields) -> bool:
    prompt = fields.png.get("prompt")
    text = prompt.text if prompt is not None else None
    return text is not None and looks_like_json_object(text)


def describe(record: GenerationRecord) -> Extraction:
    summary = f"{record.tool} generation parameters in {record.source}"
    return finding(record, summary)


def parse_a1111(text: str, source: str) -> GenerationRecord | None:
    """The generation record of A1111-format text, or None when the text has no
    parameters line (it is then not A1111 infotext)."""
    lines = text.strip().replace("\r\n", "\n").split("\n")
    at = _parameters_line(lines)
    if at is None:
        return None
    params = parse_pairs(lines[at])
    prompt, negative = _prompts(lines[:at])
    tool, version = tool_of(params)
    width, height = _size(params.get("Size"))
    lora_hashes = _hash_list(params.get("Lora hashes"))
    ti_hashes = _hash_list(params.get("TI hashes"))
    civitai = _civitai_hashes(params.get("Hashes"))
    record_hash = model_hash(params.get("Model hash")) or civitai.get("model")
    extra: dict[str, str] = {k: v for k, v in params.items() if k not in _HANDLED}
    if "vae" in civitai and "VAE hash" not in extra:
        extra["VAE hash"] = civitai["vae"].value
    resources = _civitai_resources(params.get(_CIVITAI_RESOURCES))
    checkpoint = next((n for kind, n, _ in resources if kind == "checkpoint"), None)
    resource_loras = tuple(LoRA(n, w) for kind, n, w in resources if kind == "lora")
    if tool == "AUTOMATIC1111" and version is None and _CIVITAI_RESOURCES in params:
        tool = "Civitai"  # its on-site generator writes no Version
    if at + 1 < len(lines):
        extra["trailing_lines"] = "\n".join(lines[at + 1 :])
    return GenerationRecord(
        tool=tool,
        source=source,
        tool_version=version,
        prompt=prompt,
        negative_prompt=negative,
        seed=as_int(params.get("Seed")),
        steps=as_int(params.get("Steps")),
        sampler=params.get("Sampler") or None,
        cfg_scale=as_float(params.get("CFG scale")),
        width=width,
        height=height,
        model_name=params.get("Model") or checkpoint,
        model_hash=record_hash,
        loras=_loras(prompt or "", lora_hashes, ti_hashes, civitai) + resource_loras,
        other_models=tuple(v for k, v in params.items() if k in ("VAE", "Refiner")),
        extra=extra,
    )


def _parameters_line(lines: list[str]) -> int | None:
    last = len(lines) - 1
    if _is_parameters(lines[last]):
        return last
    for index in range(last - 1, -1, -1):  # extra lines after the parameters
        if lines[index].startswith("Steps:") and _is_parameters(lines[index]):
            return index
    return None


def _is_parameters(line: str) -> bool:
    pairs = parse_pairs(line)
    has_steps = as_int(pairs.get("Steps")) is not None
    return has_steps and len(pairs) >= MIN_PARAMETER_PAIRS


def _bounded(line: str) -> str:
    return line if len(line) <= MAX_PARAMETERS_LINE_CHARS else ""


def parse_pairs(line: str) -> dict[str, str]:
    """`Key: value` pairs of a parameters line, JSON-quoted values unquoted."""
    pairs: dict[str, str] = {}
    for key, raw in _PAIR.findall(_bounded(line)):
        value = raw.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            try:
                value = str(json.loads(value))
            except ValueError:
                value = value[1:-1]
        pairs[key.strip()] = value
    return pairs


def _prompts(lines: list[str]) -> tuple[str | None, str | None]:
    prompt: list[str] = []
    negative: list[str] | None = None
    for line in lines:
        if negative is None and line.startswith(_NEGATIVE):
            negative = [line[len(_NEGATIVE) :].strip()]
        elif negative is not None:
            negative.append(line)
        else:
            prompt.append(line)
    positive = "\n".join(prompt).strip() or None
    return positive, ("\n".join(negative).strip() or None) if negative else None


def tool_of(params: t.Mapping[str, str]) -> tuple[str, str | None]:
    """The generator that wrote A1111 infotext, and its version."""
    version = params.get("Version") or None
    app = params.get("App", "")
    if version and _FORGE_VERSION.match(version):
        return "Forge", version
    if version and version.lower() in _FORGE_FORKS:
        return _FORGE_FORKS[version.lower()], version
    if version and version.lower().startswith("fooocus"):
        return "Fooocus", version[len("fooocus") :].strip() or None
    if version and version.lower().startswith("comfyui"):
        return "ComfyUI", version
    if app.lower().replace(".", "") == "sdnext":
        return "SD.Next", version
    return "AUTOMATIC1111", version


def _size(value: str | None) -> tuple[int | None, int | None]:
    match = _SIZE.fullmatch(value or "")
    if match is None:
        return None, None
    return int(match.group(1)), int(match.group(2))


def _hash_list(value: str | None) -> dict[str, ModelHash]:
    """`name: hash, name: hash` (the `Lora hashes` and `TI hashes` values)."""
    found: dict[str, ModelHash] = {}
    for entry in (value or "").split(",")[:MAX_HASH_ENTRIES]:
        name, sep, raw = entry.rpartition(":")
        parsed = model_hash(raw.strip()) if sep else None
        if name.strip() and parsed is not None:
            found[name.strip()] = parsed
    return found


def _civitai_hashes(value: str | None) -> dict[str, ModelHash]:
    """The `Hashes: {"model": ..., "lora:name": ...}` JSON that Civitai's extension
    adds, keyed as written."""
    if not value or not value.startswith("{") or len(value) > 64 * 1024:
        return {}
    try:
        data = json.loads(value)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    found: dict[str, ModelHash] = {}
    for key, raw in list(data.items())[:MAX_HASH_ENTRIES]:
        parsed = model_hash(raw)
        if parsed is not None:
            found[str(key)] = parsed
    return found


def _civitai_resources(value: str | None) -> list[tuple[str, str, float | None]]:
    """(type, name, weight) of each entry of Civitai's `Civitai resources` JSON;
    the name is `modelName modelVersionName`, as Civitai's pages show it."""
    if not value or not value.startswith("[") or len(value) > 256 * 1024:
        return []
    try:
        data = json.loads(value)
    except (ValueError, RecursionError):
        return []
    found: list[tuple[str, str, float | None]] = []
    for entry in data[:MAX_CIVITAI_RESOURCES] if isinstance(data, list) else []:
        if not isinstance(entry, dict):
            continue
        parts = [entry.get("modelName"), entry.get("modelVersionName")]
        name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
        if name:
            kind = str(entry.get("type", "")).lower()
            found.append((kind, name, as_float(entry.get("weight"))))
    return found


def _loras(
    prompt: str,
    lora_hashes: dict[str, ModelHash],
    ti_hashes: dict[str, ModelHash],
    civitai: dict[str, ModelHash],
) -> tuple[LoRA, ...]:
    def hash_of(name: str) -> ModelHash | None:
        return lora_hashes.get(name) or civitai.get(f"lora:{name}")

    loras: dict[str, LoRA] = {}
    for kind, name, args in _LORA_TAG.findall(prompt):
        name = name.strip()
        if name and name not in loras:
            weight = as_float(args.split(":")[0]) if args else None
            lycoris = kind.lower() == "lyco"
            loras[name] = LoRA(
                name, weight, hash_of(name), "lycoris" if lycoris else "lora"
            )
    for name, value in lora_hashes.items():
        loras.setdefault(name, LoRA(name, None, value))
    for key, value in civitai.items():
        if key.startswith("lora:"):
            loras.setdefault(key[5:], LoRA(key[5:], None, value))
    embeddings = dict(ti_hashes)
    for key, value in civitai.items():
        if key.startswith("embed:"):
            embeddings.setdefault(key[6:], value)
    found = list(loras.values())
    found += [LoRA(n, None, h, "embedding") for n, h in embeddings.items()]
    return tuple(found)
