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


class ComfyUIExtractor(Extractor):
    """ComfyUI `prompt` / `workflow` JSON."""

    name = "comfyui"
    media_kinds = frozenset({MediaKind.PNG, MediaKind.WEBP, MediaKind.JPEG})

    def extract(self, subject: Subject) -> Extraction:
        fields = read_fields(subject)
        prefix, prompt, workflow = _texts(fields, subject.kind)
        record: GenerationRecord | None = None
        if prompt is not None and looks_like_json_object(prompt):
            source = f"{prefix}:prompt"
            record = parse_prompt(
                load_json_object(prompt, source), source, has_workflow=bool(workflow)
            )
        if record is None and workflow is not None and looks_like_json_object(workflow):
            source = f"{prefix}:workflow"
            record = parse_workflow(load_json_object(workflow, source), source)
        if record is None:
            return Extraction()
        summary = f"{TOOL} generation graph in {record.source}"
        return finding(record, summary, details={"node_count": record.extra["nodes"]})


def _texts(fields: Fields, kind: MediaKind) -> tuple[str, str | None, str | None]:
    if kind is MediaKind.PNG:
        return "png", fields.png_text("prompt"), fields.png_text("workflow")
    prompt = workflow = None
    for field in fields.exif_fields():
        if field.error is not None or field.text is None:
            continue
        if field.text.startswith("prompt:") and prompt is None:
            prompt = field.text[len("prompt:") :]
        elif field.text.startswith("workflow:") and workflow is None:
            workflow = field.text[len("workflow:") :]
    return "exif", prompt, workflow


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
    if main is not None:
        extra.update(
            sampler_node=main.class_type,
            scheduler=main.scheduler,
            denoise=main.denoise,
        )
        passes = [dataclasses.asdict(graph.sampler(n)) for n in samplers[1:]]
        extra["other_samplers"] = json_safe(passes)
    prompt = main.positive if main else ("\n".join(graph.all_texts()) or None)
    return GenerationRecord(
        tool=TOOL,
        source=source,
        prompt=prompt,
        negative_prompt=main.negative if main else None,
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
