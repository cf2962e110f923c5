"""Fooocus's JSON scheme and SwarmUI's `sui_image_params`, in PNG chunks and EXIF,
built here; and the split of the shared `parameters` chunk between extractors."""

import json

from gen_builders import png, run, user_comment_jpeg

from vigil.hashing.model import ModelHash, ModelHashKind
from vigil.provenance.base import LoRA
from vigil.provenance.generators.a1111 import A1111Extractor
from vigil.provenance.generators.fooocus import FooocusExtractor
from vigil.provenance.generators.swarmui import SwarmUIExtractor

FOOOCUS = {
    "prompt": "a red bicycle",
    "negative_prompt": "rust",
    "seed": "1234567890123",
    "steps": 30,
    "guidance_scale": 4,
    "sampler": "dpmpp_2m_sde_gpu",
    "resolution": "(1152, 896)",
    "base_model": "juggernautXL_v8",
    "base_model_hash": "aeb7e9e689",
    "refiner_model": "None",
    "loras": [["sd_xl_offset_example-lora_1.0", 0.1, "4852686128"]],
    "metadata_scheme": "fooocus",
    "version": "Fooocus v2.5.5",
}


def test_fooocus_png_scheme() -> None:
    data = png(text={"parameters": json.dumps(FOOOCUS), "fooocus_scheme": "fooocus"})
    found = run(data)
    assert [e.extractor for e in found.evidence] == ["fooocus"]
    record = found.generation
    assert record is not None
    assert (record.tool, record.tool_version) == ("Fooocus", "v2.5.5")
    assert (record.prompt, record.negative_prompt) == ("a red bicycle", "rust")
    assert (record.seed, record.cfg_scale, record.width, record.height) == (
        1234567890123,
        4.0,
        1152,
        896,
    )
    assert record.model_hash == ModelHash(ModelHashKind.AUTOV2, "aeb7e9e689")
    assert record.loras == (
        LoRA(
            "sd_xl_offset_example-lora_1.0",
            0.1,
            ModelHash(ModelHashKind.AUTOV2, "4852686128"),
        ),
    )
    assert record.other_models == ()


def test_fooocus_jpeg_exif() -> None:
    comment = b"UNICODE\x00" + json.dumps(FOOOCUS).encode("utf-16-be")
    found = run(user_comment_jpeg(comment), [FooocusExtractor()])
    record = found.generation
    assert record is not None
    assert (record.source, record.prompt) == ("exif:UserComment", "a red bicycle")


def test_fooocus_a1111_scheme_is_named_by_the_a1111_reader() -> None:
    text = (
        "a red bicycle\nNegative prompt: rust\nSteps: 30, Sampler: DPM++ 2M SDE, "
        "Seed: 5, Size: 1152x896, Model: juggernautXL_v8, Version: Fooocus v2.5.5"
    )
    found = run(png(text={"parameters": text, "fooocus_scheme": "a1111"}))
    assert [e.extractor for e in found.evidence] == ["a1111"]
    assert found.generation is not None
    assert (found.generation.tool, found.generation.tool_version) == (
        "Fooocus",
        "v2.5.5",
    )


def test_json_without_fooocus_markers_is_not_fooocus() -> None:
    data = png(text={"parameters": json.dumps({"prompt": "a cat", "seed": 1})})
    found = run(data)
    assert (found.evidence, found.errors) == ((), ())


SWARM = {
    "sui_image_params": {
        "prompt": "a kite over dunes",
        "negativeprompt": "people",
        "model": "sdxl/dreamshaper",
        "seed": 55,
        "steps": 25,
        "cfgscale": 6,
        "width": 1024,
        "height": 1024,
        "sampler": "dpmpp_2m",
        "loras": ["sketchy", "film"],
        "loraweights": ["0.8", "0.3"],
        "vae": "sdxl_vae",
        "swarm_version": "0.9.5.0",
    },
    "sui_models": [
        {
            "name": "sdxl/dreamshaper.safetensors",
            "param": "model",
            "hash": "0x" + "12" * 32,
        },
        {"name": "sketchy.safetensors", "param": "loras", "hash": "0x" + "34" * 32},
    ],
}


def test_swarmui_png_parameters_chunk() -> None:
    found = run(png(text={"parameters": json.dumps(SWARM)}))
    assert [e.extractor for e in found.evidence] == ["swarmui"]
    record = found.generation
    assert record is not None
    assert (record.tool, record.tool_version, record.source) == (
        "SwarmUI",
        "0.9.5.0",
        "png:parameters",
    )
    assert (record.prompt, record.negative_prompt, record.seed) == (
        "a kite over dunes",
        "people",
        55,
    )
    assert record.model_hash == ModelHash(ModelHashKind.SHA256, "12" * 32)
    assert record.loras == (
        LoRA("sketchy", 0.8, ModelHash(ModelHashKind.SHA256, "34" * 32)),
        LoRA("film", 0.3),
    )
    assert record.other_models == ("sdxl_vae",)


def test_swarmui_exif_little_endian() -> None:
    comment = b"UNICODE\x00" + json.dumps(SWARM).encode("utf-16-le")
    found = run(user_comment_jpeg(comment, endian="<"), [SwarmUIExtractor()])
    assert found.generation is not None and found.generation.seed == 55


def test_a1111_reader_ignores_json_parameters() -> None:
    found = run(png(text={"parameters": json.dumps(SWARM)}), [A1111Extractor()])
    assert found.evidence == ()
