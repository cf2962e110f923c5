"""ComfyUI graphs built here: prompt text found through conditioning nodes and
string nodes, sampler variants, bounded walks, workflow-only files and the WebP
EXIF layout."""

import json
import time
import typing as t

import pytest
from gen_builders import ifd0_webp, png, run

from vigil.provenance.generators.comfyui import ComfyUIExtractor, parse_prompt

Graph = dict[str, dict[str, t.Any]]


def node(class_type: str, **inputs: t.Any) -> dict[str, t.Any]:
    return {"class_type": class_type, "inputs": inputs}


def base_graph() -> Graph:
    return {
        "4": node("CheckpointLoaderSimple", ckpt_name="base_xl.safetensors"),
        "5": node("EmptyLatentImage", width=832, height=1216, batch_size=1),
        "10": node(
            "LoraLoader",
            lora_name="ink.safetensors",
            strength_model=0.6,
            strength_clip=1.0,
            model=["4", 0],
            clip=["4", 1],
        ),
        "6": node("CLIPTextEncode", text="a harbour at dawn", clip=["10", 1]),
        "7": node("CLIPTextEncode", text="blurry", clip=["10", 1]),
        "3": node(
            "KSampler",
            seed=99,
            steps=30,
            cfg=6.0,
            sampler_name="dpmpp_2m",
            scheduler="karras",
            denoise=1.0,
            model=["10", 0],
            positive=["6", 0],
            negative=["7", 0],
            latent_image=["5", 0],
        ),
        "8": node("VAEDecode", samples=["3", 0], vae=["4", 2]),
        "9": node("SaveImage", filename_prefix="ComfyUI", images=["8", 0]),
    }


def parse(graph: Graph) -> t.Any:
    record = parse_prompt(graph, "png:prompt")
    assert record is not None
    return record


def test_basic_graph() -> None:
    record = parse(base_graph())
    assert (record.prompt, record.negative_prompt) == ("a harbour at dawn", "blurry")
    assert (record.seed, record.steps, record.cfg_scale) == (99, 30, 6.0)
    assert (record.sampler, record.width, record.height) == ("dpmpp_2m", 832, 1216)
    assert record.model_name == "base_xl.safetensors"
    assert [(x.name, x.weight) for x in record.loras] == [("ink.safetensors", 0.6)]
    assert record.extra["scheduler"] == "karras"


def test_sdxl_text_g_and_text_l_and_combine() -> None:
    graph = base_graph()
    graph["6"] = node(
        "CLIPTextEncodeSDXL", text_g="a harbour", text_l="a harbour", clip=["4", 1]
    )
    graph["11"] = node("CLIPTextEncode", text="gulls overhead", clip=["4", 1])
    graph["12"] = node("ConditioningSetArea", conditioning=["11", 0], x=0, y=0)
    graph["13"] = node(
        "ConditioningCombine", conditioning_1=["6", 0], conditioning_2=["12", 0]
    )
    graph["3"]["inputs"]["positive"] = ["13", 0]
    assert parse(graph).prompt == "a harbour\ngulls overhead"


def test_text_linked_to_string_nodes() -> None:
    graph = base_graph()
    graph["20"] = node("PrimitiveStringMultiline", value="a harbour")
    graph["21"] = node(
        "StringConcatenate", string_a=["20", 0], string_b="at dusk", delimiter=", "
    )
    graph["6"]["inputs"]["text"] = ["21", 0]
    graph["7"]["inputs"]["text"] = ["22", 0]
    graph["22"] = node("Text Multiline", text="lowres")
    record = parse(graph)
    assert (record.prompt, record.negative_prompt) == ("a harbour, at dusk", "lowres")


def test_two_output_conditioning_nodes_pass_by_slot() -> None:
    graph = base_graph()
    graph["30"] = node(
        "ControlNetApplyAdvanced",
        positive=["6", 0],
        negative=["7", 0],
        control_net=["31", 0],
        image=["32", 0],
        strength=0.8,
    )
    graph["31"] = node("ControlNetLoader", control_net_name="canny.safetensors")
    graph["32"] = node("LoadImage", image="edges.png")
    graph["3"]["inputs"]["positive"] = ["30", 0]
    graph["3"]["inputs"]["negative"] = ["30", 1]
    record = parse(graph)
    assert (record.prompt, record.negative_prompt) == ("a harbour at dawn", "blurry")
    assert "canny.safetensors" in record.other_models


def test_sampler_custom_advanced_through_guider_noise_and_sigmas() -> None:
    graph = base_graph()
    del graph["3"]
    graph.update(
        {
            "40": node(
                "UNETLoader", unet_name="flux1-dev.safetensors", weight_dtype="default"
            ),
            "41": node("RandomNoise", noise_seed=31337),
            "42": node("KSamplerSelect", sampler_name="euler"),
            "43": node(
                "BasicScheduler",
                scheduler="simple",
                steps=20,
                denoise=1.0,
                model=["40", 0],
            ),
            "44": node(
                "CFGGuider",
                cfg=3.5,
                model=["40", 0],
                positive=["6", 0],
                negative=["7", 0],
            ),
            "45": node(
                "SamplerCustomAdvanced",
                noise=["41", 0],
                guider=["44", 0],
                sampler=["42", 0],
                sigmas=["43", 0],
                latent_image=["5", 0],
            ),
        }
    )
    graph["8"]["inputs"]["samples"] = ["45", 0]
    record = parse(graph)
    assert (record.seed, record.steps, record.cfg_scale, record.sampler) == (
        31337,
        20,
        3.5,
        "euler",
    )
    assert record.prompt == "a harbour at dawn"
    assert record.model_name == "flux1-dev.safetensors"
    assert record.extra["sampler_node"] == "SamplerCustomAdvanced"


def test_seed_from_a_linked_seed_node() -> None:
    graph = base_graph()
    graph["50"] = node("Seed (rgthree)", seed=4242)
    graph["3"]["inputs"]["seed"] = ["50", 0]
    assert parse(graph).seed == 4242


def test_generation_pass_comes_before_the_hires_pass() -> None:
    graph = base_graph()
    graph["60"] = node("LatentUpscale", samples=["3", 0], width=1664, height=2432)
    graph["2"] = node(
        "KSampler",
        seed=1,
        steps=12,
        cfg=5.0,
        sampler_name="euler",
        scheduler="normal",
        denoise=0.4,
        model=["4", 0],
        positive=["6", 0],
        negative=["7", 0],
        latent_image=["60", 0],
    )
    record = parse(graph)
    assert (record.seed, record.steps) == (99, 30)
    (second,) = record.extra["other_samplers"]
    assert (second["seed"], second["denoise"]) == (1, 0.4)


def test_cycles_and_dangling_links_are_bounded() -> None:
    graph = base_graph()
    graph["70"] = node(
        "ConditioningCombine", conditioning_1=["71", 0], conditioning_2=["6", 0]
    )
    graph["71"] = node(
        "ConditioningCombine", conditioning_1=["70", 0], conditioning_2=["999", 0]
    )
    graph["72"] = node("StringConcatenate", string_a=["72", 0], string_b="x")
    graph["7"]["inputs"]["text"] = ["72", 0]
    graph["3"]["inputs"]["positive"] = ["70", 0]
    record = parse(graph)
    assert record.prompt == "a harbour at dawn"
    assert record.negative_prompt == "x"


@pytest.mark.parametrize(("length", "is_found"), [(30, True), (2000, False)])
def test_deep_conditioning_chains_are_bounded(length: int, is_found: bool) -> None:
    graph = base_graph()
    # Every link doubled: exponential if walked without a visited set.
    for index in range(length):
        graph[f"c{index}"] = node(
            "ConditioningCombine",
            conditioning_1=[f"c{index + 1}", 0],
            conditioning_2=[f"c{index + 1}", 0],
        )
    graph[f"c{length}"] = node("CLIPTextEncode", text="deep text", clip=["4", 1])
    graph["3"]["inputs"]["positive"] = ["c0", 0]
    started = time.monotonic()
    record = parse(graph)
    assert time.monotonic() - started < 2
    # Beyond the depth bound the walk gives up.
    assert record.prompt == ("deep text" if is_found else None)


@pytest.mark.parametrize(("length", "expected"), [(10, "w" * 2**10), (40, None)])
def test_doubling_string_concatenations_are_capped(
    length: int, expected: str | None
) -> None:
    graph = base_graph()
    for index in range(length):
        graph[f"s{index}"] = node(
            "StringConcatenate",
            string_a=[f"s{index + 1}", 0],
            string_b=[f"s{index + 1}", 0],
            delimiter="",
        )
    graph[f"s{length}"] = node("PrimitiveString", value="w")
    graph["7"]["inputs"]["text"] = ["s0", 0]
    started = time.monotonic()
    record = parse(graph)
    assert time.monotonic() - started < 2
    # Past the text budget (2**40 characters here) string nodes resolve to nothing.
    assert record.negative_prompt == expected


def test_graph_without_sampler_lists_text_encoders() -> None:
    graph = base_graph()
    del graph["3"]
    record = parse(graph)
    assert record.prompt == "a harbour at dawn\nblurry"
    assert record.seed is None


def test_png_with_prompt_and_workflow() -> None:
    data = png(text={"prompt": json.dumps(base_graph()), "workflow": "{}"})
    found = run(data, [ComfyUIExtractor()])
    record = found.generation
    assert record is not None
    assert (record.tool, record.source) == ("ComfyUI", "png:prompt")
    assert found.evidence[0].details["node_count"] == len(base_graph())


def test_webp_exif_layout() -> None:
    # ComfyUI's SaveAnimatedWEBP: prompt in Model (0x0110), workflow in Make (0x010F).
    data = ifd0_webp(
        {0x0110: "prompt:" + json.dumps(base_graph()), 0x010F: "workflow:{}"}
    )
    record = run(data, [ComfyUIExtractor()]).generation
    assert record is not None
    assert (record.source, record.prompt, record.seed) == (
        "exif:prompt",
        "a harbour at dawn",
        99,
    )


WORKFLOW = {
    "nodes": [
        {
            "id": 1,
            "type": "CheckpointLoaderSimple",
            "widgets_values": ["dream.safetensors"],
        },
        {"id": 2, "type": "CLIPTextEncode", "widgets_values": ["a quiet street"]},
        {"id": 3, "type": "CLIPTextEncode", "widgets_values": ["noise"]},
        {
            "id": 4,
            "type": "LoraLoader",
            "widgets_values": ["ink.safetensors", 0.5, 1.0],
        },
        {"id": 6, "type": "CLIPTextEncode", "mode": 4, "widgets_values": ["bypassed"]},
        {
            "id": 5,
            "type": "KSampler",
            "inputs": [
                {"name": "positive", "link": 10},
                {"name": "negative", "link": 11},
            ],
            "widgets_values": [777, "fixed", 25, 7.5, "euler", "normal", 1.0],
        },
    ],
    "links": [[10, 2, 0, 5, 1, "CONDITIONING"], [11, 3, 0, 5, 2, "CONDITIONING"]],
}


def test_workflow_only_file() -> None:
    found = run(png(text={"workflow": json.dumps(WORKFLOW)}), [ComfyUIExtractor()])
    record = found.generation
    assert record is not None
    assert record.source == "png:workflow"
    assert (record.prompt, record.negative_prompt) == ("a quiet street", "noise")
    assert (record.seed, record.steps, record.cfg_scale) == (777, 25, 7.5)
    assert record.model_name == "dream.safetensors"
    assert [(x.name, x.weight) for x in record.loras] == [("ink.safetensors", 0.5)]


@pytest.mark.parametrize(
    "prompt",
    ["a plain caption", "[1, 2]", '{"a": 1}', '{"1": {"inputs": {}}}'],
)
def test_prompt_chunks_that_are_not_comfyui_graphs(prompt: str) -> None:
    found = run(png(text={"prompt": prompt}), [ComfyUIExtractor()])
    assert (found.evidence, found.errors) == ((), ())


def test_malformed_json_is_an_error_record() -> None:
    found = run(png(text={"prompt": '{"3": {"class_type": '}), [ComfyUIExtractor()])
    assert found.evidence == ()
    assert [e.reason for e in found.errors] == ["malformed_metadata"]


def test_too_deep_json_is_an_error_record() -> None:
    deep = '{"1": ' + "[" * 5000 + "]" * 5000 + "}"
    found = run(png(text={"prompt": deep}), [ComfyUIExtractor()])
    assert [e.reason for e in found.errors] == ["malformed_metadata"]
    assert "nested" in found.errors[0].message
