"""Walking a ComfyUI API-format prompt graph: finding samplers, their parameters,
the prompt text behind their `positive`/`negative` inputs, and the model files.

Design notes:
- The graph is `{node_id: {"class_type": ..., "inputs": {...}}}`; an input is a
  literal or a link `[node_id, output_slot]`. Custom nodes are everywhere, so the
  walk relies on input names more than on class names: a sampler is a node with
  positive/negative plus a seed or steps (or a guider plus noise); conditioning is
  followed through inputs whose name contains "cond"; a node with `positive` and
  `negative` inputs passes them through on output slots 0 and 1
  (ControlNetApplyAdvanced, InstructPixToPixConditioning, ...).
- Every walk is iterative with a visited set, a depth bound and a visit budget, so
  cycles and huge hostile graphs cost bounded time.
"""

import dataclasses
import typing as t

from vigil.provenance.generators._record import as_float, as_int

#: Most nodes accepted in one graph; big real workflows have a few hundred.
MAX_NODES = 20_000
#: How far upstream one walk goes, and how many nodes it may visit.
MAX_WALK_DEPTH = 64
MAX_WALK_VISITS = 5_000
#: Text produced by string nodes (concatenations) in one graph, all together: real
#: prompts are a few KB; doubling chains of concatenations would otherwise build
#: strings of any size.
MAX_RESOLVED_TEXT_CHARS = 1024 * 1024
#: Samplers examined in one graph (real workflows have one to four passes).
MAX_SAMPLERS = 32
#: Hops through helper nodes (guider, noise, sampler, sigmas) to find a parameter.
_HELPER_HOPS = ("guider", "noise", "sampler", "sigmas")
#: Hops from a sampler of unknown type to the node that takes its positive and
#: negative conditioning (WanVideoSampler → WanVideoTextEmbedBridge is one hop).
MAX_BRIDGE_HOPS = 3
# Class names of nodes that output zeroed conditioning (ComfyUI's
# ConditioningZeroOut, lowercased and without separators): what they output is no
# prompt, whatever text feeds them.
_ZEROING_MARKERS = ("zeroout",)

TEXT_KEYS = (
    "text",
    "text_g",
    "text_l",
    "clip_l",
    "clip_g",
    "t5xxl",
    "llama",
    "prompt",
    "populated_text",
    "wildcard_text",
    "string",
)
_STRING_KEYS = ("value", "text", "string", "prompt", "populated_text", "STRING")
_SCALAR_KEYS = ("value", "seed", "noise_seed", "int", "float", "number", "steps")
_MODEL_KEYS = {
    "ckpt_name": "checkpoint",
    "unet_name": "unet",
    "vae_name": "vae",
    "clip_name": "clip",
    "clip_name1": "clip",
    "clip_name2": "clip",
    "clip_name3": "clip",
    "clip_name4": "clip",
    "control_net_name": "controlnet",
    "model_name": "model",
    "style_model_name": "style_model",
}
# Inputs that never lead back to the latent an image was sampled from.
_NOT_LATENT = {
    "model",
    "clip",
    "vae",
    "guider",
    "sigmas",
    "sampler",
    "noise",
    "mask",
    "positive",
    "negative",
}

Link = tuple[str, int]


@dataclasses.dataclass(frozen=True)
class Node:
    node_id: str
    class_type: str
    inputs: t.Mapping[str, t.Any]


@dataclasses.dataclass(frozen=True)
class Sampler:
    node_id: str
    class_type: str
    seed: int | None
    steps: int | None
    cfg: float | None
    sampler_name: str | None
    scheduler: str | None
    denoise: float | None
    positive: str | None
    negative: str | None


class Graph:
    """A ComfyUI API prompt, validated for shape."""

    def __init__(self, prompt: t.Mapping[str, t.Any]) -> None:
        if len(prompt) > MAX_NODES:
            raise ValueError(f"{len(prompt)} nodes is over the {MAX_NODES} limit")
        self.nodes: dict[str, Node] = {}
        self._strings: dict[str, str | None] = {}
        self._string_budget = MAX_RESOLVED_TEXT_CHARS
        for node_id, raw in prompt.items():
            if not isinstance(raw, dict) or not isinstance(raw.get("class_type"), str):
                continue
            inputs = raw.get("inputs")
            if not isinstance(inputs, dict):
                inputs = {}
            self.nodes[str(node_id)] = Node(str(node_id), raw["class_type"], inputs)

    def link(self, value: t.Any) -> Link | None:
        """`value` as a link to a node of this graph, or None for a literal."""
        if (
            isinstance(value, list)
            and len(value) == 2
            and isinstance(value[0], str | int)
            and isinstance(value[1], int)
            and not isinstance(value[1], bool)
            and str(value[0]) in self.nodes
        ):
            return str(value[0]), value[1]
        return None

    def linked(self, value: t.Any) -> Node | None:
        found = self.link(value)
        return self.nodes[found[0]] if found else None

    # -- samplers ----------------------------------------------------------------

    def is_sampler(self, node: Node) -> bool:
        keys = node.inputs.keys()
        if "guider" in keys and "noise" in keys:
            return True
        has_seed = bool({"seed", "noise_seed"} & keys)
        if has_seed and "steps" in keys:
            return True  # custom samplers (WanVideoSampler, ...) of any input names
        has_conditioning = "positive" in keys and "negative" in keys
        return has_conditioning and bool({"seed", "noise_seed", "steps"} & keys)

    def conditioning_bridge(self, node: Node) -> Node | None:
        """The nearest upstream node taking `positive` and `negative` inputs, for a
        sampler that takes its conditioning under another name (`text_embeds`)."""
        frontier, seen = [node], {node.node_id}
        for _ in range(MAX_BRIDGE_HOPS):
            upstream: list[Node] = []
            for current in frontier:
                for key, value in current.inputs.items():
                    found = self.linked(value)
                    if key in _NOT_LATENT or found is None or found.node_id in seen:
                        continue
                    if {"positive", "negative"} <= found.inputs.keys():
                        return found
                    seen.add(found.node_id)
                    upstream.append(found)
            frontier = upstream
        return None

    def wired_prompts(self) -> tuple[str | None, str | None] | None:
        """Positive and negative text of the first node with both inputs (for
        graphs whose sampler is not recognised), or None when there is none."""
        for node in self.nodes.values():
            if {"positive", "negative"} <= node.inputs.keys():
                return (
                    self.conditioning_text(node.inputs["positive"]),
                    self.conditioning_text(node.inputs["negative"]),
                )
        return None

    def samplers(self) -> list[Node]:
        """Samplers, first those whose latent input does not come from another
        sampler (the generation pass, not a hires or refiner pass), in graph order;
        at most `MAX_SAMPLERS`."""
        found = [n for n in self.nodes.values() if self.is_sampler(n)][:MAX_SAMPLERS]
        first = [n for n in found if not self._has_upstream_sampler(n)]
        return first + [n for n in found if n not in first]

    def _has_upstream_sampler(self, start: Node) -> bool:
        seen = {start.node_id}
        stack = [(start, 0)]
        visits = 0
        while stack and visits < MAX_WALK_VISITS:
            node, depth = stack.pop()
            visits += 1
            for key, value in node.inputs.items():
                if key in _NOT_LATENT or "cond" in key:
                    continue
                upstream = self.linked(value)
                if upstream is None or upstream.node_id in seen:
                    continue
                if self.is_sampler(upstream):
                    return True
                seen.add(upstream.node_id)
                if depth < MAX_WALK_DEPTH:
                    stack.append((upstream, depth + 1))
        return False

    def sampler(self, node: Node) -> Sampler:
        seed = self.scalar(self.find(node, ("seed", "noise_seed")))
        positive = self.find(node, ("positive", "cond1", "conditioning"))
        negative = self.find(node, ("negative",))
        if positive is None and negative is None:
            bridge = self.conditioning_bridge(node)
            if bridge is not None:
                positive, negative = (
                    bridge.inputs["positive"],
                    bridge.inputs["negative"],
                )
        sampler_name = self.scalar(self.find(node, ("sampler_name",)))
        scheduler = self.scalar(self.find(node, ("scheduler",)))
        return Sampler(
            node_id=node.node_id,
            class_type=node.class_type,
            seed=as_int(seed),
            steps=as_int(self.scalar(self.find(node, ("steps",)))),
            cfg=as_float(self.scalar(self.find(node, ("cfg", "cfg_conds")))),
            sampler_name=sampler_name if isinstance(sampler_name, str) else None,
            scheduler=scheduler if isinstance(scheduler, str) else None,
            denoise=as_float(self.scalar(node.inputs.get("denoise"))),
            positive=self.conditioning_text(positive),
            negative=self.conditioning_text(negative),
        )

    def find(self, node: Node, names: tuple[str, ...], hops: int = 2) -> t.Any:
        """The first of `names` among the node's inputs, else among those of its
        helper nodes (guider, noise source, sampler select, scheduler)."""
        for name in names:
            if name in node.inputs:
                return node.inputs[name]
        if hops <= 0:
            return None
        for hop in _HELPER_HOPS:
            helper = self.linked(node.inputs.get(hop))
            if helper is not None and helper is not node:
                found = self.find(helper, names, hops - 1)
                if found is not None:
                    return found
        return None

    def scalar(self, value: t.Any, depth: int = 8) -> t.Any:
        """A literal, following links to primitive/seed nodes."""
        for _ in range(depth):
            node = self.linked(value)
            if node is None:
                return value
            scalars = [node.inputs[k] for k in _SCALAR_KEYS if k in node.inputs]
            if not scalars:
                literal = [v for v in node.inputs.values() if self.link(v) is None]
                links = [v for v in node.inputs.values() if self.link(v) is not None]
                scalars = literal[:1] if len(literal) == 1 else links[:1]
            if not scalars:
                return None
            value = scalars[0]
        return None

    # -- prompt text -------------------------------------------------------------

    def conditioning_text(self, start: t.Any) -> str | None:
        """The prompt text behind a conditioning input, in input order."""
        first = self.link(start)
        if first is None:
            return None
        texts: list[str] = []
        seen: set[Link] = set()
        stack: list[tuple[Link, int]] = [(first, 0)]
        while stack and len(seen) < MAX_WALK_VISITS:
            link, depth = stack.pop()
            if link in seen or depth > MAX_WALK_DEPTH:
                continue
            seen.add(link)
            node = self.nodes[link[0]]
            if self.is_sampler(node) or is_zeroing(node):
                continue
            for text in self._node_texts(node, depth):
                if text not in texts:
                    texts.append(text)
            follow: list[Link] = []
            for key, value in node.inputs.items():
                if key in ("positive", "negative"):
                    if (key == "positive") != (link[1] == 0):
                        continue
                elif "cond" not in key:
                    continue
                upstream = self.link(value)
                if upstream is not None:
                    follow.append(upstream)
            stack.extend((up, depth + 1) for up in reversed(follow))
        joined = "\n".join(text.strip() for text in texts if text.strip())
        return joined or None

    def _node_texts(self, node: Node, depth: int) -> list[str]:
        found: list[str] = []
        for key in TEXT_KEYS:
            if key == "wildcard_text" and found:
                continue  # the populated text is what was encoded
            value = node.inputs.get(key)
            text = value if isinstance(value, str) else self.string(value, depth)
            if text and text not in found:
                found.append(text)
        return found

    def string(self, value: t.Any, depth: int = 0) -> str | None:
        """The text a link to a string node (primitive, concatenation) produces.

        Memoised per node (a node in progress reads as None, which breaks cycles),
        so shared upstream nodes are resolved once."""
        node = self.linked(value)
        if node is None or depth > MAX_WALK_DEPTH:
            return None
        if node.node_id not in self._strings:
            self._strings[node.node_id] = None
            text = self._resolve_string(node, depth)
            if text is not None:
                text = text[: max(self._string_budget, 0)] or None
                self._string_budget -= len(text or "")
            self._strings[node.node_id] = text
        return self._strings[node.node_id]

    def _resolve_string(self, node: Node, depth: int) -> str | None:
        if self._string_budget <= 0:
            return None
        for key in _STRING_KEYS:
            if key in node.inputs:
                inner = node.inputs[key]
                if isinstance(inner, str):
                    return inner
                return self.string(inner, depth + 1)
        pieces: list[str] = []
        for key, inner in node.inputs.items():
            if key in ("delimiter", "separator"):
                continue
            piece = inner if isinstance(inner, str) else self.string(inner, depth + 1)
            if piece:
                pieces.append(piece)
        delimiter = node.inputs.get("delimiter", node.inputs.get("separator", " "))
        return (delimiter if isinstance(delimiter, str) else " ").join(pieces) or None

    def all_texts(self) -> list[str]:
        """Text of every text-encode node (for graphs without a sampler), except
        those wired into a `negative` input: positive and negative text joined in
        one prompt would mislead whoever reads it."""
        negative: set[str] = set()
        for node in self.nodes.values():
            found = self.link(node.inputs.get("negative"))
            if found is not None:
                negative.add(found[0])
        texts: list[str] = []
        for node in self.nodes.values():
            if node.node_id in negative:
                continue
            if "TextEncode" in node.class_type or "Prompt" in node.class_type:
                texts += [x for x in self._node_texts(node, 0) if x not in texts]
        return texts

    # -- models ------------------------------------------------------------------

    def model_files(self) -> list[tuple[str, str]]:
        """(role, file name) of every model file the graph loads, in graph order."""
        found: list[tuple[str, str]] = []
        for node in self.nodes.values():
            for key, role in _MODEL_KEYS.items():
                value = node.inputs.get(key)
                if isinstance(value, str) and value and (role, value) not in found:
                    found.append((role, value))
        return found

    def loras(self) -> list[tuple[str, float | None]]:
        """(file name, model strength) of every LoRA loaded, in graph order."""
        found: list[tuple[str, float | None]] = []
        for node in self.nodes.values():
            name = node.inputs.get("lora_name")
            if isinstance(name, str) and name:
                weight = node.inputs.get("strength_model", node.inputs.get("strength"))
                found.append((name, as_float(self.scalar(weight))))
            for value in node.inputs.values():  # rgthree Power Lora Loader rows
                if isinstance(value, dict) and isinstance(value.get("lora"), str):
                    if value.get("on", True) and value["lora"] not in ("", "None"):
                        found.append((value["lora"], as_float(value.get("strength"))))
        return found

    def model_behind(self, node: Node) -> str | None:
        """The checkpoint or UNET file feeding a sampler's model input."""
        current = self.linked(self.find(node, ("model",)))
        for _ in range(MAX_WALK_DEPTH):
            if current is None:
                return None
            for key in ("ckpt_name", "unet_name"):
                value = current.inputs.get(key)
                if isinstance(value, str) and value:
                    return value
            current = self.linked(current.inputs.get("model"))
        return None

    def latent_size(self, node: Node) -> tuple[int | None, int | None]:
        """Width and height of the empty latent a sampler started from."""
        current = self.linked(self.find(node, ("latent_image",)))
        for _ in range(MAX_WALK_DEPTH):
            if current is None:
                break
            width = as_int(self.scalar(current.inputs.get("width")))
            height = as_int(self.scalar(current.inputs.get("height")))
            if width and height:
                return width, height
            upstream = (current.inputs.get(k) for k in ("samples", "latent", "pixels"))
            current = next((n for v in upstream if (n := self.linked(v))), None)
        return None, None


def is_zeroing(node: Node) -> bool:
    """Whether the node outputs zeroed conditioning (no prompt)."""
    name = node.class_type.lower().replace("_", "").replace(" ", "")
    return any(marker in name for marker in _ZEROING_MARKERS)
