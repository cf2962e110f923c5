"""Layouts found in other tools' sample files: ComfyUI saver nodes that add an
A1111 `parameters` chunk, zeroed and custom-sampler conditioning, ComfyUI graphs in
JPEG/WebP EXIF, Civitai, RuinedFooocus, Hugging Face Spaces, Forge Classic/Neo and
NovelAI model ids. Each file is built the way its tool writes it (the tool's own
source is named beside each builder)."""

import io
import json
import typing as t

import pytest
from gen_builders import USER_COMMENT, ifd0_webp, pixels, png, run, user_comment_jpeg
from PIL import Image

from vigil.media.base import Limits
from vigil.media.sniff import SNIFF_BYTES, sniff_bytes
from vigil.provenance.base import EvidenceKind
from vigil.provenance.builtin import builtin_extractors
from vigil.provenance.camera import CameraExtractor
from vigil.provenance.generators.a1111 import parse_a1111
from vigil.provenance.generators.comfyui import parse_prompt
from vigil.provenance.run import Provenance, extract_all

Graph = dict[str, dict[str, t.Any]]


def node(class_type: str, **inputs: t.Any) -> dict[str, t.Any]:
    return {"class_type": class_type, "inputs": inputs}


def graph(**extra: dict[str, t.Any]) -> Graph:
    nodes: Graph = {
        "4": node("CheckpointLoaderSimple", ckpt_name="valley_xl.safetensors"),
        "5": node("EmptyLatentImage", width=1024, height=768, batch_size=1),
        "6": node("CLIPTextEncode", text="a valley with a river", clip=["4", 1]),
        "7": node("CLIPTextEncode", text="haze", clip=["4", 1]),
        "3": node(
            "KSampler",
            seed=42,
            steps=20,
            cfg=5.0,
            sampler_name="euler",
            scheduler="normal",
            denoise=1.0,
            model=["4", 0],
            positive=["6", 0],
            negative=["7", 0],
            latent_image=["5", 0],
        ),
        "8": node("VAEDecode", samples=["3", 0], vae=["4", 2]),
    }
    nodes.update(extra)
    return nodes


def run_all(data: bytes) -> Provenance:
    kind = sniff_bytes(data[:SNIFF_BYTES])
    return extract_all(data, kind, [c() for c in builtin_extractors()], Limits())


# -- saver nodes: the graph wins over their A1111 rendering ------------------------

# giriss/comfy-image-saver nodes.py: "... Model: <name>, Version: ComfyUI", beside
# `prompt` and `workflow` chunks; its node class is "Save Image w/Metadata".
SAVER_PARAMETERS = (
    "a valley with a river\nNegative prompt: haze\nSteps: 20, Sampler: euler, "
    "CFG Scale: 5.0, Seed: 42, Size: 1024x768, Model hash: 0123456789, "
    "Model: valley_xl, Version: ComfyUI"
)
# nkchocoai/ComfyUI-SaveImageWithMetaData: A1111 text with a `Hashes` JSON; no
# Version; node class "SaveImageWithMetaData".
METADATA_SAVER_PARAMETERS = (
    "a valley with a river\nNegative prompt: haze\nSteps: 20, Sampler: euler, "
    "CFG scale: 5.0, Seed: 42, Size: 1024x768, Model hash: 0123456789, "
    'Model: valley_xl, VAE: sdxl_vae.safetensors, Hashes: {"model": "0123456789"}'
)


@pytest.mark.parametrize(
    ("saver_class", "parameters", "saver"),
    [
        ("Save Image w/Metadata", SAVER_PARAMETERS, "comfy-image-saver"),
        ("SaveImageWithMetaData", METADATA_SAVER_PARAMETERS, "SaveImageWithMetaData"),
    ],
)
def test_saver_node_parameters_do_not_hide_the_graph(
    saver_class: str, parameters: str, saver: str
) -> None:
    prompt = graph(**{"9": node(saver_class, images=["8", 0])})
    data = png(text={"parameters": parameters, "prompt": json.dumps(prompt)})
    record = run_all(data).generation
    assert record is not None
    assert (record.tool, record.source) == ("ComfyUI", "png:prompt")
    assert record.extra["saved_by"] == saver
    assert (record.prompt, record.negative_prompt) == ("a valley with a river", "haze")


def test_stability_matrix_is_named_as_the_writer() -> None:
    # LykosAI/StabilityMatrix Inference: `parameters` (A1111), `parameters-json`,
    # `smproj` and the ComfyUI `prompt` it ran (enslo/sd-metadata stability-matrix).
    params_json = {"PositivePrompt": "a valley with a river", "Seed": 42}
    data = png(
        text={
            "parameters": METADATA_SAVER_PARAMETERS,
            "parameters-json": json.dumps(params_json),
            "smproj": json.dumps({"Version": 2}),
            "prompt": json.dumps(graph()),
        }
    )
    record = run_all(data).generation
    assert record is not None
    assert (record.tool, record.source) == ("Stability Matrix", "png:prompt")
    assert record.extra["backend"] == "ComfyUI"
    assert record.seed == 42


# -- conditioning --------------------------------------------------------------------


def test_zeroed_conditioning_is_no_negative_prompt() -> None:
    # Flux workflows: negative = ConditioningZeroOut(positive encoder).
    nodes = graph(
        **{"7": node("ConditioningZeroOut", conditioning=["6", 0])},
    )
    record = parse_prompt(nodes, "png:prompt")
    assert record is not None
    assert (record.prompt, record.negative_prompt) == ("a valley with a river", None)


def test_unknown_sampler_follows_positive_and_negative_by_name() -> None:
    # kijai WanVideoWrapper (d3x-at/sd-parsers test resource WanVideoWrapper.py):
    # the sampler takes `text_embeds` from a bridge with positive/negative inputs.
    nodes: Graph = {
        "198": node("WanVideoModelLoader", model="wan2.1_t2v_14B.safetensors"),
        "232": node(
            "WanVideoTextEmbedBridge", positive=["234", 0], negative=["235", 0]
        ),
        "234": node("CLIPTextEncode", text="waves on a beach", clip=["233", 0]),
        "235": node("CLIPTextEncode", text="static frame", clip=["233", 0]),
        "252": node(
            "WanVideoSampler",
            steps=30,
            cfg=6.0,
            seed=1234,
            scheduler="unipc",
            model=["198", 0],
            text_embeds=["232", 0],
        ),
    }
    record = parse_prompt(nodes, "png:prompt")
    assert record is not None
    assert (record.prompt, record.negative_prompt) == (
        "waves on a beach",
        "static frame",
    )
    assert (record.seed, record.steps) == (1234, 30)


def test_sampler_less_graph_never_joins_positive_and_negative() -> None:
    nodes = graph()
    nodes["3"] = node(
        "CustomSamplerNode", model=["4", 0], positive=["6", 0], negative=["7", 0]
    )
    record = parse_prompt(nodes, "png:prompt")
    assert record is not None
    assert record.prompt == "a valley with a river"
    assert record.negative_prompt == "haze"


# -- ComfyUI in JPEG / WebP EXIF -------------------------------------------------------


def _exif_jpeg(ifd0: t.Mapping[int, str], fmt: str = "JPEG") -> bytes:
    exif = Image.Exif()
    for tag, value in ifd0.items():
        exif[tag] = value
    buffer = io.BytesIO()
    pixels().save(buffer, fmt, exif=exif.tobytes())
    return buffer.getvalue()


def test_comfyui_animated_webp_is_no_camera() -> None:
    # ComfyUI nodes_images.py SaveAnimatedWEBP: prompt in Model, workflow in Make.
    data = ifd0_webp({0x0110: "prompt:" + json.dumps(graph()), 0x010F: "workflow:{}"})
    found = run_all(data)
    assert found.generation is not None and found.generation.tool == "ComfyUI"
    assert not [e for e in found.evidence if e.kind is EvidenceKind.CAPTURED]
    (camera,) = [CameraExtractor().extract(_subject(data))]
    assert camera.evidence == ()


def _subject(data: bytes) -> t.Any:
    from vigil.media.subject import Subject

    return Subject(data, sniff_bytes(data[:SNIFF_BYTES]), Limits())


def test_save_image_extended_user_comment_json() -> None:
    # audioscavenger/save-image-extended-comfyui get_metadata_exif: IFD0 UserComment
    # = json.dumps({"prompt": {...}, "workflow": {...}}) as plain text.
    payload = json.dumps({"prompt": graph(), "workflow": {"nodes": []}})
    data = _exif_jpeg({USER_COMMENT: payload})
    found = run_all(data)
    record = found.generation
    assert record is not None
    assert (record.tool, record.prompt, record.seed) == (
        "ComfyUI",
        "a valley with a river",
        42,
    )
    assert not [e for e in found.evidence if e.kind is EvidenceKind.CAPTURED]


def test_workflow_in_image_description_of_a_jpeg() -> None:
    # SaveImagePlus-style JPEG: ComfyUI's `prompt:`/`workflow:` strings moved to
    # ImageDescription and Make.
    data = _exif_jpeg({0x010E: "prompt:" + json.dumps(graph()), 0x010F: "workflow:{}"})
    found = run_all(data)
    assert found.generation is not None
    assert (found.generation.tool, found.generation.source) == (
        "ComfyUI",
        "exif:prompt",
    )
    assert not [e for e in found.evidence if e.kind is EvidenceKind.CAPTURED]


def test_real_camera_make_is_still_captured() -> None:
    data = _exif_jpeg({0x010F: "Canon", 0x0110: "Canon EOS 40D"})
    found = run_all(data)
    assert [e.kind for e in found.evidence] == [EvidenceKind.CAPTURED]


# -- Civitai -------------------------------------------------------------------------


def test_civitai_user_comment_json_graph() -> None:
    # Civitai's orchestrator JPEGs: UserComment holds the ComfyUI prompt graph with
    # `extraMetadata` (a JSON string of the original request) beside the nodes
    # (enslo/sd-metadata comfyui-civitai.ts).
    extra = {"prompt": "a valley with a river", "negativePrompt": "haze", "seed": 42}
    payload = {**graph(), "extraMetadata": json.dumps(extra)}
    comment = b"UNICODE\x00" + json.dumps(payload).encode("utf-16-be")
    found = run_all(user_comment_jpeg(comment))
    record = found.generation
    assert record is not None
    assert (record.tool, record.source) == ("Civitai", "exif:UserComment")
    assert (record.prompt, record.negative_prompt, record.seed) == (
        "a valley with a river",
        "haze",
        42,
    )
    assert record.extra["backend"] == "ComfyUI"


CIVITAI_RESOURCES = json.dumps(
    [
        {
            "type": "checkpoint",
            "modelVersionId": 101,
            "modelName": "Valley XL",
            "modelVersionName": "v2",
        },
        {
            "type": "lora",
            "weight": 0.7,
            "modelVersionId": 202,
            "modelName": "Ink Lines",
            "modelVersionName": "v1",
        },
    ]
)


def test_civitai_resources_block() -> None:
    text = (
        "a valley with a river\nNegative prompt: haze\nSteps: 25, Sampler: DPM++ 2M, "
        f"CFG scale: 6, Seed: 7, Size: 832x1216, Clip skip: 2, "
        f"Civitai resources: {CIVITAI_RESOURCES}, "
        'Civitai metadata: {"remixOfId": 5}'
    )
    record = parse_a1111(text, "exif:UserComment")
    assert record is not None
    assert (record.tool, record.seed, record.width, record.height) == (
        "Civitai",
        7,
        832,
        1216,
    )
    assert record.model_name == "Valley XL v2"
    assert [(x.name, x.weight) for x in record.loras] == [("Ink Lines v1", 0.7)]
    assert record.extra["Clip skip"] == "2"
    assert json.loads(record.extra["Civitai resources"])[0]["modelVersionId"] == 101


# -- other JSON schemes ---------------------------------------------------------------


def test_ruined_fooocus_json() -> None:
    # runew0lf/RuinedFooocus: JSON in `parameters` with "software": "RuinedFooocus".
    params = {
        "Prompt": "a valley with a river",
        "Negative": "haze",
        "steps": 30,
        "cfg": 7.0,
        "width": 1152,
        "height": 896,
        "seed": 11,
        "sampler_name": "dpmpp_2m",
        "scheduler": "karras",
        "base_model_name": "valley_xl.safetensors",
        "base_model_hash": "0123456789",
        "loras": [{"name": "ink.safetensors", "weight": 0.5}],
        "software": "RuinedFooocus",
    }
    record = run(png(text={"parameters": json.dumps(params)})).generation
    assert record is not None
    assert (record.tool, record.prompt, record.negative_prompt) == (
        "RuinedFooocus",
        "a valley with a river",
        "haze",
    )
    assert (record.seed, record.steps, record.cfg_scale) == (11, 30, 7.0)
    assert (record.width, record.height) == (1152, 896)
    assert record.model_hash is not None and record.model_hash.value == "0123456789"
    assert [(x.name, x.weight) for x in record.loras] == [("ink.safetensors", 0.5)]


def test_hugging_face_space_json() -> None:
    # Gradio + diffusers Spaces: JSON in `parameters` (enslo/sd-metadata hf-space.ts).
    params = {
        "prompt": "a valley with a river",
        "negative_prompt": "haze",
        "resolution": "832 x 1216",
        "guidance_scale": 7,
        "num_inference_steps": 28,
        "seed": 5,
        "sampler": "Euler a",
        "Model": "Valley XL",
        "Model hash": "0123456789",
    }
    record = run(png(text={"parameters": json.dumps(params)})).generation
    assert record is not None
    assert (record.tool, record.prompt, record.negative_prompt) == (
        "Hugging Face Space",
        "a valley with a river",
        "haze",
    )
    assert (record.width, record.height, record.steps, record.seed) == (
        832,
        1216,
        28,
        5,
    )
    assert record.model_name == "Valley XL"


# -- A1111 variants --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "tool"), [("classic", "Forge Classic"), ("neo", "Forge Neo")]
)
def test_forge_classic_and_neo(version: str, tool: str) -> None:
    text = f"a valley\nSteps: 20, Sampler: Euler, Seed: 3, Version: {version}"
    record = parse_a1111(text, "png:parameters")
    assert record is not None
    assert (record.tool, record.tool_version) == (tool, version)


def test_hashes_json_keeps_the_vae_hash() -> None:
    text = (
        "a valley\nSteps: 20, Sampler: Euler, Seed: 3, "
        'Hashes: {"vae": "235745af8d", "model": "0123456789"}'
    )
    record = parse_a1111(text, "png:parameters")
    assert record is not None
    assert record.model_hash is not None and record.model_hash.value == "0123456789"
    assert record.extra["VAE hash"] == "235745af8d"


def test_novelai_model_id_is_not_part_of_the_model_name() -> None:
    from vigil.provenance.generators.novelai import parse_novelai

    meta = {"Source": "Stable Diffusion XL C1E1DE52", "Software": "NovelAI"}
    comment = {"prompt": "a valley", "uc": "haze", "scale": 5, "sampler": "k_euler"}
    record = parse_novelai(meta, comment, "png:Comment")
    assert record.model_name == "Stable Diffusion XL"
    assert record.extra["novelai_model_id"] == "c1e1de52"
