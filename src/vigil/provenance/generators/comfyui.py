"""ComfyUI metadata: the API-format `prompt` graph and the UI `workflow` JSON, in PNG
text chunks or, for (animated) WebP, in EXIF IFD0 string tags as `prompt:{...}` /
`workflow:{...}` (ComfyUI's SaveAnimatedWEBP puts the prompt in Model and the
workflow in Make, then further keys in ImageDescription and below).

The `prompt` graph is authoritative (it is what ran) and is walked by
`_comfy_graph`; the `workflow` is only read when no prompt is present, and only
shallowly (loader widgets, text widgets, the first KSampler's widgets and the text
nodes wired to its positive/negative inputs).
"""

import dataclasses
import typing as t

from vigil.media.base import MediaKind
from vigil.media.errors import MetadataError
from vigil.media.subject import Subject
from vigil.provenance.base import (
    Extraction,
    Extractor,
    GenerationRecord,
    JSONValue,
    LoRA,
)
from vigil.provenance.generators._chunks import Fields, read_fields
from vigil.provenance.generators._comfy_graph import MAX_NODES, Graph
from vigil.provenance.generators._decode import load_json_object, looks_like_json_object
from vigil.provenance.generators._record import (
    as_float,
    as_int,
    as_text,
    finding,
    json_safe,
)

TOOL = "ComfyUI"
_MODEL_SUFFIXES = (".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".gguf", ".sft")
# Workflow node modes: 2 = muted, 4 = bypassed (LiteGraph / ComfyUI frontend).
_INACTIVE_MODES = (2, 4)
# KSampler widget order in the UI workflow: seed, control, steps, cfg, sampler, ...
_KSAMPLER_WIDGETS = {"seed": 0, "steps": 2, "cfg": 3, "sampler": 4}
# Cheap test before parsing an EXIF JSON object nobody vouches for: API-format
# graphs name every node's `class_type`.
_GRAPH_MARKER = '"class_type"'
_CIVITAI_KEY = "extraMetadata"
CIVITAI = "Civitai"
STABILITY_MATRIX = "Stability Matrix"
# Chunks Stability Matrix's Inference writes beside the ComfyUI `prompt` it ran
# (LykosAI/StabilityMatrix; enslo/sd-metadata `stability-matrix.ts`).
_STABILITY_MATRIX_CHUNKS = ("smproj", "parameters-json")
#: Saver nodes that write an A1111-style `parameters` copy beside the graph, by
#: class_type: giriss/comfy-image-saver (`Save Image w/Metadata`) and its
#: ComfyUI-Image-Saver fork (`Image Saver`), nkchocoai/ComfyUI-SaveImageWithMetaData,
#: audioscavenger/save-image-extended-comfyui (`SaveImageExtended`).
SAVER_NODES: t.Mapping[str, str] = {
    "Save Image w/Metadata": "comfy-image-saver",
    "Image Saver": "comfy-image-saver",
    "SaveImageWithMetaData": "SaveImageWithMetaData",
    "SaveImageExtended": "save-image-extended",
}


class ComfyUIExtractor(Extractor):
    """ComfyUI `prompt` / `workflow` JSON."""

    name = "comfyui"
    version = 2
    media_kinds = frozenset({MediaKind.PNG, MediaKind.WEBP, MediaKind.JPEG})

    def extract(self, subject: Subject) -> Extraction:
        fields = read_fields(subject)
        found = _png_texts(fields) if subject.kind is MediaKind.PNG else _exif(fields)
        record: GenerationRecord | None = None
        source = f"{found.prefix}:prompt" if found.is_tagged else found.prefix
        prompt = _object(found.prompt, source)
        if prompt is not None:
            has_workflow = bool(found.workflow)
            record = parse_prompt(prompt, source, has_workflow=has_workflow)
        source = f"{found.prefix}:workflow" if found.is_tagged else found.prefix
        workflow = _object(found.workflow, source) if record is None else None
        if workflow is not None:
            record = parse_workflow(workflow, source)
        if record is None:
            return Extraction()
        record = _name_writer(record, fields, found)
        summary = f"{record.tool} generation graph in {record.source}"
        return finding(record, summary, details={"node_count": record.extra["nodes"]})


@dataclasses.dataclass(frozen=True)
class _Found:
    """The graph JSON of one item: where it was read and what it holds."""

    prefix: str
    prompt: t.Any = None  # JSON text, or a parsed object
    workflow: t.Any = None
    is_tagged: bool = True  # `prefix:prompt` sources, vs. one field with both
    civitai: dict[str, t.Any] | None = None  # Civitai's `extraMetadata`


def _object(value: t.Any, source: str) -> dict[str, t.Any] | None:
    """`value` as a JSON object: parsed already, or JSON object text."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and looks_like_json_object(value):
        return load_json_object(value, source)
    return None


def _png_texts(fields: Fields) -> _Found:
    return _Found("png", fields.png_text("prompt"), fields.png_text("workflow"))


def _exif(fields: Fields) -> _Found:
    """ComfyUI JSON in EXIF string tags: `prompt:{...}` / `workflow:{...}` in any
    IFD0 tag (SaveAnimatedWEBP and savers that copy it), or one JSON object in a
    tag, either `{"prompt": ..., "workflow": ...}` (save-image-extended) or the
    prompt graph itself with Civitai's `extraMetadata` beside the nodes."""
    prompt = workflow = None
    for field in fields.exif_fields():
        if field.error is not None or field.text is None:
            continue
        text = field.text
        if text.startswith("prompt:") and prompt is None:
            prompt = text[len("prompt:") :]
        elif text.startswith("workflow:") and workflow is None:
            workflow = text[len("workflow:") :]
        elif looks_like_json_object(text) and _GRAPH_MARKER in text:
            data = load_json_object(text, field.source)
            inner, flow = data.get("prompt"), data.get("workflow")
            if isinstance(inner, dict) or isinstance(flow, dict):
                return _Found(field.source, inner, flow, is_tagged=False)
            civitai = _object(data.get(_CIVITAI_KEY), field.source)
            return _Found(field.source, data, None, is_tagged=False, civitai=civitai)
    return _Found("exif", prompt, workflow)


def _name_writer(
    record: GenerationRecord, fields: Fields, found: _Found
) -> GenerationRecord:
    """The record with the tool that wrote the file (Stability Matrix, Civitai)
    and the saver node, when the graph or the file says which."""
    extra = dict(record.extra)
    tool = record.tool
    if any(key in fields.png for key in _STABILITY_MATRIX_CHUNKS):
        tool, extra["backend"] = STABILITY_MATRIX, TOOL
    changes: dict[str, t.Any] = {}
    if found.civitai is not None:
        tool, extra["backend"] = CIVITAI, TOOL
        changes = _civitai_fill(record, found.civitai)
    return dataclasses.replace(record, tool=tool, extra=extra, **changes)


def _civitai_fill(
    record: GenerationRecord, meta: t.Mapping[str, t.Any]
) -> dict[str, t.Any]:
    """Fields the graph lacks, from Civitai's `extraMetadata` (the original
    request of an orchestrated job, e.g. an upscale of an earlier image)."""
    values = {
        "prompt": as_text(meta.get("prompt")),
        "negative_prompt": as_text(meta.get("negativePrompt")),
        "seed": as_int(meta.get("seed")),
        "steps": as_int(meta.get("steps")),
        "cfg_scale": as_float(meta.get("cfgScale")),
        "sampler": as_text(meta.get("sampler")),
        "width": as_int(meta.get("width")),
        "height": as_int(meta.get("height")),
    }
    return {
        k: v for k, v in values.items() if v is not None and getattr(record, k) is None
    }


def parse_prompt(
    data: t.Mapping[str, t.Any], source: str, *, has_workflow: bool = False
) -> GenerationRecord | None:
    """The record of an API-format prompt graph, or None when it holds no nodes."""
    try:
        graph = Graph(data)
    except ValueError as exc:
        raise MetadataError(f"{source}: {exc}") from exc
    if not graph.nodes:
        return None
    samplers = graph.samplers()
    main = graph.sampler(samplers[0]) if samplers else None
    files = graph.model_files()
    model = graph.model_behind(samplers[0]) if samplers else None
    if model is None:
        model = next((n for r, n in files if r in ("checkpoint", "unet")), None)
    width, height = graph.latent_size(samplers[0]) if samplers else (None, None)
    extra: dict[str, JSONValue] = {
        "nodes": len(graph.nodes),
        "has_workflow": has_workflow,
        "models": [{"role": role, "name": name} for role, name in files],
    }
    saver = next(
        (n.class_type for n in graph.nodes.values() if n.class_type in SAVER_NODES),
        None,
    )
    if saver is not None:
        extra["saved_by"] = SAVER_NODES[saver]
    if main is not None:
        extra.update(
            sampler_node=main.class_type,
            scheduler=main.scheduler,
            denoise=main.denoise,
        )
        passes = [dataclasses.asdict(graph.sampler(n)) for n in samplers[1:]]
        extra["other_samplers"] = json_safe(passes)
    negative = main.negative if main else None
    if main is not None:
        prompt = main.positive
    elif (wired := graph.wired_prompts()) is not None:
        prompt, negative = wired
    else:
        prompt = "\n".join(graph.all_texts()) or None
    return GenerationRecord(
        tool=TOOL,
        source=source,
        prompt=prompt,
        negative_prompt=negative,
        seed=main.seed if main else None,
        steps=main.steps if main else None,
        sampler=main.sampler_name if main else None,
        cfg_scale=main.cfg if main else None,
        width=width,
        height=height,
        model_name=model,
        loras=tuple(LoRA(name, weight) for name, weight in graph.loras()),
        other_models=tuple(n for _, n in files if n != model),
        extra=extra,
    )


def parse_workflow(data: t.Mapping[str, t.Any], source: str) -> GenerationRecord | None:
    """A shallow record of a UI workflow, or None when it holds no nodes."""
    nodes = _workflow_nodes(data)
    if not nodes:
        return None
    by_id = {str(n.get("id")): n for n in nodes}
    link_from = _link_sources(data.get("links"))
    models: list[str] = []
    loras: list[LoRA] = []
    texts: list[str] = []
    sampler: dict[str, t.Any] | None = None
    for node in nodes:
        kind, widgets = str(node.get("type", "")), _widgets(node)
        for index, value in enumerate(widgets):
            if isinstance(value, str) and value.lower().endswith(_MODEL_SUFFIXES):
                if "lora" in kind.lower():
                    weight = widgets[index + 1] if index + 1 < len(widgets) else None
                    loras.append(LoRA(value, as_float(weight)))
                elif value not in models:
                    models.append(value)
        if "TextEncode" in kind:
            texts += [w for w in widgets if isinstance(w, str) and w.strip()]
        if sampler is None and kind == "KSampler":
            sampler = node
    widgets = _widgets(sampler) if sampler else []

    def widget(name: str) -> t.Any:
        index = _KSAMPLER_WIDGETS[name]
        return widgets[index] if index < len(widgets) else None

    positive = negative = None
    if sampler is not None:
        positive = _wired_text(sampler, "positive", by_id, link_from)
        negative = _wired_text(sampler, "negative", by_id, link_from)
    return GenerationRecord(
        tool=TOOL,
        source=source,
        prompt=positive or ("\n".join(texts) or None),
        negative_prompt=negative,
        seed=as_int(widget("seed")),
        steps=as_int(widget("steps")),
        sampler=as_text(widget("sampler")),
        cfg_scale=as_float(widget("cfg")),
        model_name=models[0] if models else None,
        loras=tuple(loras),
        other_models=tuple(models[1:]),
        extra={"nodes": len(nodes)},
    )


def _workflow_nodes(data: t.Mapping[str, t.Any]) -> list[dict[str, t.Any]]:
    """Active nodes of the workflow and of its subgraph definitions."""
    groups: list[t.Any] = [data.get("nodes")]
    definitions = data.get("definitions")
    subgraphs = definitions.get("subgraphs") if isinstance(definitions, dict) else None
    if isinstance(subgraphs, list):
        groups += [g.get("nodes") for g in subgraphs if isinstance(g, dict)]
    nodes: list[dict[str, t.Any]] = []
    for group in groups:
        if isinstance(group, list):
            nodes += [n for n in group if isinstance(n, dict)]
    if len(nodes) > MAX_NODES:
        raise MetadataError(f"workflow of {len(nodes)} nodes is over {MAX_NODES}")
    return [n for n in nodes if n.get("mode") not in _INACTIVE_MODES]


def _widgets(node: t.Mapping[str, t.Any]) -> list[t.Any]:
    values = node.get("widgets_values")
    return values if isinstance(values, list) else []


def _link_sources(links: t.Any) -> dict[int, str]:
    """Link id → id of the node it comes from (`[id, from, slot, to, slot, type]`)."""
    found: dict[int, str] = {}
    if isinstance(links, list):
        for link in links:
            if isinstance(link, list) and len(link) >= 2 and isinstance(link[0], int):
                found[link[0]] = str(link[1])
    return found


def _wired_text(
    node: t.Mapping[str, t.Any],
    name: str,
    by_id: t.Mapping[str, dict[str, t.Any]],
    link_from: t.Mapping[int, str],
) -> str | None:
    inputs = node.get("inputs")
    for entry in inputs if isinstance(inputs, list) else []:
        if isinstance(entry, dict) and entry.get("name") == name:
            link = entry.get("link")
            origin = link_from.get(link) if isinstance(link, int) else None
            source = by_id.get(origin) if origin is not None else None
            if source is not None and "TextEncode" in str(source.get("type", "")):
                texts = [w for w in _widgets(source) if isinstance(w, str)]
                return "\n".join(texts).strip() or None
    return None
